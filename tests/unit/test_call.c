/*
 * Call activities through the embedding API over a real SQLite store: the
 * child instance and its link to the parent, variables into the child (all,
 * or only the input mappings') and back (all, or through output mappings),
 * a FEEL process id, a process that is not deployed yet (incident, deploy,
 * resolve), cancelling the parent and refusing to cancel the child,
 * interrupting boundary events (timer, message, error, escalation) that end the
 * child, errors nobody catches, the parent's has_incident while a child has
 * an incident, restarts mid-way, a multi-instance call activity, compensation
 * of a completed call activity, the depth limit, and model errors. Engine
 * tests check the rows (parent key, has_incident) and that a version-2
 * instance state still decodes. Time is the fixture's clock.
 */
#include "engine/engine.h"
#include "engine_fixture.h"

#define MINUTE 60000LL

/* <callActivity id=ID> with zeebe:calledElement ATTRS and more extension
 * elements EXT. */
#define CALL(id, attrs, ext)                                                                       \
    "<bpmn:callActivity id=\"" id "\"><bpmn:extensionElements><zeebe:calledElement " attrs         \
    "/>" ext "</bpmn:extensionElements></bpmn:callActivity>\n"

/* start → call → after → end; MORE: boundary events and their paths. */
#define PARENT(call, more)                                                                         \
    "<bpmn:startEvent id=\"start\"/>\n" call TASK(                                                 \
        "after", "after") "<bpmn:endEvent id=\"end\"/>\n" FLOW("f1", "start", "call")              \
        FLOW("f2", "call", "after") FLOW("f3", "after", "end") more

/* The child: start → work → end. */
#define CHILD                                                                                      \
    "<bpmn:startEvent id=\"cs\"/>\n" TASK("work", "work") "<bpmn:endEvent id=\"ce\"/>\n" FLOW(     \
        "c1", "cs", "work") FLOW("c2", "work", "ce")

#define OUTPUT(source, target)                                                                     \
    "<zeebe:ioMapping><zeebe:output source=\"" source "\" target=\"" target "\"/></"               \
    "zeebe:ioMapping>"
#define INPUT(source, target)                                                                      \
    "<zeebe:ioMapping><zeebe:input source=\"" source "\" target=\"" target "\"/></"                \
    "zeebe:ioMapping>"

/* One activated job of type, as a copy the caller frees with job_free. */
typedef struct taken_job {
    uint64_t key, instance;
    char *vars;
} taken_job;

static taken_job take_job(fixture *f, const char *type) {
    baton_job jobs[4];
    int n = 0;
    baton_error err;
    assert_int_equal(baton_activate_jobs(f->b, type, "test", 10 * MINUTE, 4, jobs, &n, &err), 0);
    if (n != 1)
        fail_msg("expected one job of type %s, got %d", type, n);
    taken_job j = {jobs[0].key, jobs[0].process_instance_key, strdup(jobs[0].variables_json)};
    baton_jobs_free(jobs, n);
    return j;
}

static void job_free(taken_job *j) {
    free(j->vars);
}

/* The variables the `after` task sees; completes it. The caller frees. */
static char *after_variables(fixture *f) {
    taken_job j = take_job(f, "after");
    complete_ok(f, j.key, NULL);
    return j.vars;
}

static baton_instance get(fixture *f, uint64_t key) {
    baton_instance inst;
    assert_int_equal(baton_get_instance(f->b, key, &inst), 0);
    return inst;
}

static void deploy_family(fixture *f, const char *parent_defs, const char *parent) {
    deploy_ok(f, "child", "", CHILD);
    deploy_ok(f, "parent", parent_defs, parent);
}

/* ---- the child completes ------------------------------------------------------------ */

static void test_child_completes_variables_come_back(void **state) {
    (void)state;
    fixture *f = fixture_new(false);
    deploy_family(f, "", PARENT(CALL("call", "processId=\"child\"", ""), ""));
    uint64_t pi = start_ok(f, "parent", "{\"x\": 1, \"shared\": \"parent\"}");
    taken_job w = take_job(f, "work");
    assert_true(w.instance != pi);
    assert_contains(w.vars, "\"x\":1"); /* all of the parent's variables */
    assert_contains(w.vars, "\"shared\":\"parent\"");
    baton_instance child = get(f, w.instance);
    assert_int_equal(child.parent_instance_key, pi);
    assert_string_equal(child.bpmn_process_id, "child");
    assert_int_equal(child.state, BATON_ACTIVE);
    assert_int_equal(get(f, pi).parent_instance_key, 0);
    complete_ok(f, w.key, "{\"y\": 2, \"shared\": \"child\"}");
    job_free(&w);
    char *vars = after_variables(f);
    assert_contains(vars, "\"y\":2");
    assert_contains(vars, "\"shared\":\"child\"");
    free(vars);
    assert_int_equal(instance_state(f, pi), BATON_COMPLETED);
    assert_int_equal(instance_state(f, child.key), BATON_COMPLETED);

    /* The child's records name their parent; the call activity completed
     * after the child's process. */
    char parent_key[64];
    snprintf(parent_key, sizeof parent_key, "\"parentProcessInstanceKey\":\"%llu\"",
             (unsigned long long)pi);
    assert_int_equal(count_records(f, child.key, "PROCESS_INSTANCE", "ELEMENT_COMPLETED",
                                   "\"bpmnElementType\":\"PROCESS\""),
                     1);
    assert_int_equal(
        count_records(f, child.key, "PROCESS_INSTANCE", "ELEMENT_ACTIVATING", parent_key),
        count_records(f, child.key, "PROCESS_INSTANCE", "ELEMENT_ACTIVATING", ""));
    assert_int_equal(count_records(f, pi, "PROCESS_INSTANCE", "ELEMENT_COMPLETED",
                                   "\"bpmnElementType\":\"CALL_ACTIVITY\""),
                     1);
    assert_int_equal(count_records(f, pi, "PROCESS_INSTANCE", "ELEMENT_ACTIVATING", parent_key), 0);
    fixture_free(f);
}

/* A child without a wait state: the call activity completes in the same
 * command that activated it. */
static void test_child_without_wait_state(void **state) {
    (void)state;
    fixture *f = fixture_new(false);
    deploy_ok(f, "quick", "",
              "<bpmn:startEvent id=\"qs\"><bpmn:extensionElements>" OUTPUT(
                  "= n + 1", "m") "</bpmn:extensionElements></bpmn:startEvent>"
                                  "<bpmn:endEvent id=\"qe\"/>" FLOW("q1", "qs", "qe"));
    deploy_ok(f, "parent", "", PARENT(CALL("call", "processId=\"quick\"", ""), ""));
    uint64_t pi = start_ok(f, "parent", "{\"n\": 41}");
    char *vars = after_variables(f);
    assert_contains(vars, "\"m\":42");
    free(vars);
    assert_int_equal(instance_state(f, pi), BATON_COMPLETED);
    fixture_free(f);
}

/* propagateAllChildVariables="false": only the output mappings bring
 * variables back; without output mappings nothing comes back. */
static void test_output_mappings_without_propagation(void **state) {
    (void)state;
    fixture *f = fixture_new(false);
    deploy_family(f, "",
                  PARENT(CALL("call", "processId=\"child\" propagateAllChildVariables=\"false\"",
                              OUTPUT("= y * 10", "z")),
                         ""));
    uint64_t pi = start_ok(f, "parent", NULL);
    taken_job w = take_job(f, "work");
    complete_ok(f, w.key, "{\"y\": 2, \"noise\": true}");
    job_free(&w);
    char *vars = after_variables(f);
    assert_contains(vars, "\"z\":20");
    assert_lacks(vars, "\"y\"");
    assert_lacks(vars, "noise");
    free(vars);
    assert_int_equal(instance_state(f, pi), BATON_COMPLETED);

    deploy_ok(
        f, "parent", "",
        PARENT(CALL("call", "processId=\"child\" propagateAllChildVariables=\"false\"", ""), ""));
    pi = start_ok(f, "parent", "{\"y\": 1}");
    w = take_job(f, "work");
    complete_ok(f, w.key, "{\"y\": 2, \"noise\": true}");
    job_free(&w);
    vars = after_variables(f);
    assert_contains(vars, "\"y\":1"); /* unchanged */
    assert_lacks(vars, "noise");
    free(vars);
    assert_int_equal(instance_state(f, pi), BATON_COMPLETED);
    fixture_free(f);
}

/* Output mappings with the default propagateAllChildVariables: the mappings
 * decide, as in Zeebe. */
static void test_output_mappings_decide_by_default(void **state) {
    (void)state;
    fixture *f = fixture_new(false);
    deploy_family(f, "", PARENT(CALL("call", "processId=\"child\"", OUTPUT("= y", "kept")), ""));
    start_ok(f, "parent", NULL);
    taken_job w = take_job(f, "work");
    complete_ok(f, w.key, "{\"y\": 2, \"noise\": true}");
    job_free(&w);
    char *vars = after_variables(f);
    assert_contains(vars, "\"kept\":2");
    assert_lacks(vars, "noise");
    assert_lacks(vars, "\"y\"");
    free(vars);
    fixture_free(f);
}

/* propagateAllParentVariables="false": the child gets only the input
 * mappings' results. */
static void test_input_mappings_only(void **state) {
    (void)state;
    fixture *f = fixture_new(false);
    deploy_family(f, "",
                  PARENT(CALL("call", "processId=\"child\" propagateAllParentVariables=\"false\"",
                              INPUT("= x + 1", "y")),
                         ""));
    start_ok(f, "parent", "{\"x\": 1, \"secret\": \"s\"}");
    taken_job w = take_job(f, "work");
    assert_string_equal(w.vars, "{\"y\":2}");
    complete_ok(f, w.key, "{\"z\": 3}");
    job_free(&w);
    char *vars = after_variables(f);
    assert_contains(vars, "\"z\":3");
    /* y came back too, to the call activity's own y (propagation starts
     * there), and ended with it. */
    assert_lacks(vars, "\"y\"");
    free(vars);

    /* By default, input mappings add to everything visible. */
    deploy_ok(f, "parent", "",
              PARENT(CALL("call", "processId=\"child\"", INPUT("= x + 1", "y")), ""));
    start_ok(f, "parent", "{\"x\": 1, \"secret\": \"s\"}");
    w = take_job(f, "work");
    assert_contains(w.vars, "\"y\":2");
    assert_contains(w.vars, "\"x\":1");
    assert_contains(w.vars, "\"secret\":\"s\"");
    complete_ok(f, w.key, NULL);
    job_free(&w);
    free(after_variables(f));
    fixture_free(f);
}

static void test_feel_process_id(void **state) {
    (void)state;
    fixture *f = fixture_new(false);
    deploy_family(f, "", PARENT(CALL("call", "processId=\"= &quot;ch&quot; + suffix\"", ""), ""));
    uint64_t pi = start_ok(f, "parent", "{\"suffix\": \"ild\"}");
    taken_job w = take_job(f, "work");
    assert_string_equal(get(f, w.instance).bpmn_process_id, "child");
    complete_ok(f, w.key, NULL);
    job_free(&w);
    free(after_variables(f));
    assert_int_equal(instance_state(f, pi), BATON_COMPLETED);

    /* Not a string: an incident; fix the variable, resolve. */
    pi = start_ok(f, "parent", "{\"suffix\": 5}");
    baton_incident inc[2];
    assert_int_equal(baton_list_incidents(f->b, pi, inc, 2), 1);
    assert_string_equal(inc[0].type, "CALLED_ELEMENT_ERROR");
    assert_string_equal(inc[0].element_id, "call");
    assert_contains(inc[0].message, "to be 'STRING'");
    baton_error err;
    assert_int_equal(baton_set_variables(f->b, pi, "{\"suffix\": \"ild\"}", false, &err), 0);
    assert_int_equal(baton_resolve_incident(f->b, inc[0].key, &err), 0);
    assert_int_equal(baton_list_incidents(f->b, pi, inc, 2), 0);
    w = take_job(f, "work");
    complete_ok(f, w.key, NULL);
    job_free(&w);
    free(after_variables(f));
    assert_int_equal(instance_state(f, pi), BATON_COMPLETED);
    fixture_free(f);
}

/* ---- the called process is missing ---------------------------------------------------- */

static void test_unknown_process_incident_deploy_resolve(void **state) {
    (void)state;
    fixture *f = fixture_new(false);
    deploy_ok(f, "parent", "",
              PARENT(CALL("call", "processId=\"child\"", INPUT("= x * 2", "doubled")), ""));
    uint64_t pi = start_ok(f, "parent", "{\"x\": 4}");
    baton_incident inc[2];
    assert_int_equal(baton_list_incidents(f->b, pi, inc, 2), 1);
    assert_string_equal(inc[0].type, "CALLED_ELEMENT_ERROR");
    assert_string_equal(inc[0].element_id, "call");
    assert_contains(inc[0].message, "BPMN process id 'child' to be deployed");
    assert_true(get(f, pi).has_incident);
    baton_error err;
    /* Resolving before the deployment raises it again. */
    assert_int_equal(baton_resolve_incident(f->b, inc[0].key, &err), 0);
    assert_int_equal(baton_list_incidents(f->b, pi, inc, 2), 1);
    fixture_reopen(f); /* the waiting call activity survives */
    deploy_ok(f, "child", "", CHILD);
    assert_int_equal(baton_resolve_incident(f->b, inc[0].key, &err), 0);
    assert_int_equal(baton_list_incidents(f->b, pi, inc, 2), 0);
    assert_false(get(f, pi).has_incident);
    taken_job w = take_job(f, "work");
    assert_contains(w.vars, "\"doubled\":8");
    complete_ok(f, w.key, NULL);
    job_free(&w);
    free(after_variables(f));
    assert_int_equal(instance_state(f, pi), BATON_COMPLETED);
    /* Activated once, after the resolution. */
    assert_int_equal(count_records(f, pi, "PROCESS_INSTANCE", "ELEMENT_ACTIVATED",
                                   "\"bpmnElementType\":\"CALL_ACTIVITY\""),
                     1);

    /* A process that starts only by messages cannot be called. */
    deploy_ok(f, "child", "<bpmn:message id=\"m\" name=\"go\"/>",
              "<bpmn:startEvent id=\"ms\"><bpmn:messageEventDefinition messageRef=\"m\"/>"
              "</bpmn:startEvent><bpmn:endEvent id=\"me\"/>" FLOW("m1", "ms", "me"));
    pi = start_ok(f, "parent", "{\"x\": 4}");
    assert_int_equal(baton_list_incidents(f->b, pi, inc, 2), 1);
    assert_contains(inc[0].message, "to have a none start event");
    fixture_free(f);
}

/* ---- termination ------------------------------------------------------------------------ */

static void test_cancel_parent_terminates_child(void **state) {
    (void)state;
    fixture *f = fixture_new(false);
    /* parent → middle → child: cancelling the root ends all three. */
    deploy_ok(f, "child", "", CHILD);
    deploy_ok(f, "middle", "",
              "<bpmn:startEvent id=\"ms\"/>" CALL("deeper", "processId=\"child\"",
                                                  "") "<bpmn:endEvent id=\"me\"/>" FLOW("m1", "ms",
                                                                                        "deeper")
                  FLOW("m2", "deeper", "me"));
    deploy_ok(f, "parent", "", PARENT(CALL("call", "processId=\"middle\"", ""), ""));
    uint64_t pi = start_ok(f, "parent", NULL);
    taken_job w = take_job(f, "work");
    uint64_t child = w.instance;
    uint64_t middle = get(f, child).parent_instance_key;
    assert_int_equal(get(f, middle).parent_instance_key, pi);

    /* Only the root can be cancelled, as in Zeebe. */
    baton_error err;
    assert_int_equal(baton_cancel_instance(f->b, child, &err), BATON_ECONFLICT);
    assert_contains(err.message, "Cancel the root process instance");
    assert_int_equal(baton_cancel_instance(f->b, middle, &err), BATON_ECONFLICT);
    assert_int_equal(instance_state(f, child), BATON_ACTIVE);

    assert_int_equal(baton_cancel_instance(f->b, pi, &err), 0);
    assert_int_equal(instance_state(f, pi), BATON_TERMINATED);
    assert_int_equal(instance_state(f, middle), BATON_TERMINATED);
    assert_int_equal(instance_state(f, child), BATON_TERMINATED);
    assert_int_equal(baton_complete_job(f->b, w.key, NULL, &err), BATON_ENOTFOUND);
    job_free(&w);
    assert_int_equal(count_records(f, pi, "PROCESS_INSTANCE", "ELEMENT_TERMINATED",
                                   "\"bpmnElementType\":\"CALL_ACTIVITY\""),
                     1);
    assert_int_equal(count_records(f, child, "PROCESS_INSTANCE", "ELEMENT_TERMINATED",
                                   "\"bpmnElementType\":\"PROCESS\""),
                     1);
    fixture_reopen(f); /* nothing of them is restored */
    assert_int_equal(count_jobs(f, "work"), 0);
    assert_int_equal(instance_state(f, child), BATON_TERMINATED);
    fixture_free(f);
}

#define LATE_PATH                                                                                  \
    TASK("late", "late")                                                                           \
    "<bpmn:endEvent id=\"lateEnd\"/>" FLOW("f4", "tooLate", "late") FLOW("f5", "late", "lateEnd")

static void test_interrupting_timer_terminates_child(void **state) {
    (void)state;
    fixture *f = fixture_new(false);
    deploy_family(f, "",
                  PARENT(CALL("call", "processId=\"child\"", ""),
                         "<bpmn:boundaryEvent id=\"tooLate\" attachedToRef=\"call\">"
                         "<bpmn:timerEventDefinition><bpmn:timeDuration>PT1H</bpmn:timeDuration>"
                         "</bpmn:timerEventDefinition></bpmn:boundaryEvent>" LATE_PATH));
    uint64_t pi = start_ok(f, "parent", NULL);
    taken_job w = take_job(f, "work");
    baton_error err;
    assert_int_equal(baton_set_variables(f->b, w.instance, "{\"inChild\": 1}", false, &err), 0);
    fixture_reopen(f);
    f->now += 60 * MINUTE;
    tick(f);
    assert_int_equal(instance_state(f, w.instance), BATON_TERMINATED);
    assert_int_equal(baton_complete_job(f->b, w.key, NULL, &err), BATON_ENOTFOUND);
    taken_job late = take_job(f, "late");
    assert_lacks(late.vars, "inChild"); /* nothing comes back from a terminated child */
    complete_ok(f, late.key, NULL);
    job_free(&late);
    job_free(&w);
    assert_int_equal(count_jobs(f, "after"), 0);
    assert_int_equal(instance_state(f, pi), BATON_COMPLETED);
    fixture_free(f);
}

/* A message boundary event on the call activity: the message interrupts it
 * and terminates the child. */
static void test_message_boundary_terminates_child(void **state) {
    (void)state;
    fixture *f = fixture_new(false);
    deploy_family(f,
                  "<bpmn:message id=\"stop\" name=\"stop\"><bpmn:extensionElements>"
                  "<zeebe:subscription correlationKey=\"= order\"/></bpmn:extensionElements>"
                  "</bpmn:message>",
                  PARENT(CALL("call", "processId=\"child\"", ""),
                         "<bpmn:boundaryEvent id=\"tooLate\" attachedToRef=\"call\">"
                         "<bpmn:messageEventDefinition messageRef=\"stop\"/>"
                         "</bpmn:boundaryEvent>" LATE_PATH));
    uint64_t pi = start_ok(f, "parent", "{\"order\": \"o-1\"}");
    taken_job w = take_job(f, "work");
    fixture_reopen(f); /* the subscription is restored with the parent */
    baton_message m = {"stop", "o-1", 0, NULL, "{\"reason\": \"cancelled\"}"};
    uint64_t mk;
    baton_error err;
    assert_int_equal(baton_publish_message(f->b, &m, &mk, &err), 0);
    assert_int_equal(instance_state(f, w.instance), BATON_TERMINATED);
    taken_job late = take_job(f, "late");
    assert_contains(late.vars, "\"reason\":\"cancelled\"");
    complete_ok(f, late.key, NULL);
    job_free(&late);
    job_free(&w);
    assert_int_equal(instance_state(f, pi), BATON_COMPLETED);
    fixture_free(f);
}

/* A bad timer on the call activity: an incident there while the child runs;
 * the call activity completes only once it is resolved. */
static void test_boundary_incident_then_child_completes(void **state) {
    (void)state;
    fixture *f = fixture_new(false);
    deploy_family(f, "",
                  PARENT(CALL("call", "processId=\"child\"", ""),
                         "<bpmn:boundaryEvent id=\"tooLate\" attachedToRef=\"call\" "
                         "cancelActivity=\"false\"><bpmn:timerEventDefinition>"
                         "<bpmn:timeDuration>= wait</bpmn:timeDuration>"
                         "</bpmn:timerEventDefinition></bpmn:boundaryEvent>" LATE_PATH));
    uint64_t pi = start_ok(f, "parent", "{\"wait\": 5}");
    baton_incident inc[2];
    assert_int_equal(baton_list_incidents(f->b, pi, inc, 2), 1);
    assert_string_equal(inc[0].element_id, "call");
    taken_job w = take_job(f, "work");
    complete_ok(f, w.key, "{\"fromChild\": true}");
    job_free(&w);
    assert_int_equal(count_jobs(f, "after"), 0); /* waits for the incident */
    baton_error err;
    assert_int_equal(baton_set_variables(f->b, pi, "{\"wait\": \"PT1H\"}", false, &err), 0);
    assert_int_equal(baton_resolve_incident(f->b, inc[0].key, &err), 0);
    char *vars = after_variables(f);
    assert_contains(vars, "\"fromChild\":true");
    free(vars);
    assert_int_equal(instance_state(f, pi), BATON_COMPLETED);
    fixture_free(f);
}

/* ---- errors and escalations ------------------------------------------------------------------ */

#define ERRORS "<bpmn:error id=\"err\" errorCode=\"FLIGHT_FAILED\"/>"

static void test_error_in_child_caught_on_call_activity(void **state) {
    (void)state;
    fixture *f = fixture_new(false);
    deploy_family(
        f, ERRORS,
        PARENT(
            CALL("call", "processId=\"child\"", ""),
            "<bpmn:boundaryEvent id=\"failed\" attachedToRef=\"call\">"
            "<bpmn:extensionElements><zeebe:ioMapping>"
            "<zeebe:output source=\"= errorCode\" target=\"code\"/>"
            "<zeebe:output source=\"= errorMessage\" target=\"why\"/>"
            "</zeebe:ioMapping></bpmn:extensionElements>"
            "<bpmn:errorEventDefinition errorRef=\"err\"/></bpmn:boundaryEvent>" TASK(
                "handle", "handle") "<bpmn:endEvent id=\"handled\"/>" FLOW("f4", "failed", "handle")
                FLOW("f5", "handle", "handled")));
    uint64_t pi = start_ok(f, "parent", NULL);
    taken_job w = take_job(f, "work");
    baton_error err;
    assert_int_equal(baton_throw_error(f->b, w.key, "FLIGHT_FAILED", "sold out", &err), 0);
    assert_int_equal(instance_state(f, w.instance), BATON_TERMINATED);
    taken_job h = take_job(f, "handle");
    assert_contains(h.vars, "\"code\":\"FLIGHT_FAILED\"");
    assert_contains(h.vars, "\"why\":\"sold out\"");
    complete_ok(f, h.key, NULL);
    job_free(&h);
    job_free(&w);
    assert_int_equal(count_jobs(f, "after"), 0);
    assert_int_equal(instance_state(f, pi), BATON_COMPLETED);
    assert_false(get(f, pi).has_incident);
    fixture_free(f);
}

/* An error end event in a sub-process of the child, caught in the parent. */
static void test_error_end_event_in_child_caught_above(void **state) {
    (void)state;
    fixture *f = fixture_new(false);
    deploy_ok(f, "child", ERRORS,
              "<bpmn:startEvent id=\"cs\"/><bpmn:subProcess id=\"inner\">"
              "<bpmn:startEvent id=\"is\"/><bpmn:endEvent id=\"boom\">"
              "<bpmn:errorEventDefinition errorRef=\"err\"/></bpmn:endEvent>" FLOW(
                  "i1", "is",
                  "boom") "</bpmn:subProcess><bpmn:endEvent id=\"ce\"/>" FLOW("c1", "cs", "inner")
                  FLOW("c2", "inner", "ce"));
    /* Caught by a sub-process around the call activity. */
    deploy_ok(
        f, "parent", ERRORS,
        "<bpmn:startEvent id=\"start\"/><bpmn:subProcess id=\"around\">"
        "<bpmn:startEvent id=\"as\"/>" CALL(
            "call", "processId=\"child\"", "") "<bpmn:endEvent id=\"ae\"/>" FLOW("a1", "as", "call")
            FLOW("a2", "call",
                 "ae") "</bpmn:subProcess>"
                       "<bpmn:boundaryEvent id=\"failed\" "
                       "attachedToRef=\"around\">"
                       "<bpmn:extensionElements>" OUTPUT(
                           "= errorCode",
                           "code") "</bpmn:extensionElements>"
                                   "<bpmn:errorEventDefinition/>"
                                   "</bpmn:boundaryEvent>" TASK(
                                       "handle", "handle") "<bpmn:endEvent id=\"end\"/>"
                                                           "<bpmn:endEvent id=\"handled\"/>" FLOW(
                                                               "f1", "start",
                                                               "around") FLOW("f2", "around", "end")
                                                               FLOW("f4", "failed", "handle")
                                                                   FLOW("f5", "handle", "handled"));
    uint64_t pi = start_ok(f, "parent", NULL);
    taken_job h = take_job(f, "handle");
    assert_contains(h.vars, "\"code\":\"FLIGHT_FAILED\"");
    complete_ok(f, h.key, NULL);
    job_free(&h);
    assert_int_equal(instance_state(f, pi), BATON_COMPLETED);
    assert_int_equal(count_records(f, pi, "PROCESS_INSTANCE", "ELEMENT_TERMINATED",
                                   "\"bpmnElementType\":\"CALL_ACTIVITY\""),
                     1);
    fixture_free(f);
}

/* Nobody catches it: an UNHANDLED_ERROR_EVENT incident in the child; the
 * parent shows has_incident. */
static void test_uncaught_error_in_child_incident(void **state) {
    (void)state;
    fixture *f = fixture_new(false);
    deploy_family(f, "", PARENT(CALL("call", "processId=\"child\"", ""), ""));
    uint64_t pi = start_ok(f, "parent", NULL);
    taken_job w = take_job(f, "work");
    baton_error err;
    assert_int_equal(baton_throw_error(f->b, w.key, "NOBODY", NULL, &err), 0);
    baton_incident inc[2];
    assert_int_equal(baton_list_incidents(f->b, w.instance, inc, 2), 1);
    assert_string_equal(inc[0].type, "UNHANDLED_ERROR_EVENT");
    assert_string_equal(inc[0].element_id, "work");
    assert_int_equal(baton_list_incidents(f->b, pi, inc + 1, 1), 0); /* it is the child's */
    assert_true(get(f, w.instance).has_incident);
    assert_true(get(f, pi).has_incident);
    /* Resolving makes the job activatable again. */
    assert_int_equal(baton_resolve_incident(f->b, inc[0].key, &err), 0);
    assert_false(get(f, pi).has_incident);
    taken_job again = take_job(f, "work");
    assert_int_equal(again.key, w.key);
    complete_ok(f, again.key, NULL);
    job_free(&again);
    job_free(&w);
    free(after_variables(f));
    assert_int_equal(instance_state(f, pi), BATON_COMPLETED);
    fixture_free(f);
}

static void test_escalation_from_child(void **state) {
    (void)state;
    fixture *f = fixture_new(false);
    const char *esc = "<bpmn:escalation id=\"esc\" escalationCode=\"LATE\"/>";
    deploy_ok(f, "child", esc,
              "<bpmn:startEvent id=\"cs\"/><bpmn:intermediateThrowEvent id=\"tell\">"
              "<bpmn:escalationEventDefinition escalationRef=\"esc\"/>"
              "</bpmn:intermediateThrowEvent>" TASK(
                  "work", "work") "<bpmn:endEvent id=\"ce\"/>" FLOW("c1", "cs", "tell")
                  FLOW("c2", "tell", "work") FLOW("c3", "work", "ce"));
    /* Not interrupting: the parent takes note, the child goes on. */
    deploy_ok(f, "parent", esc,
              PARENT(CALL("call", "processId=\"child\"", ""),
                     "<bpmn:boundaryEvent id=\"noted\" attachedToRef=\"call\" "
                     "cancelActivity=\"false\"><bpmn:extensionElements>" OUTPUT(
                         "= escalationCode",
                         "esc") "</bpmn:extensionElements>"
                                "<bpmn:escalationEventDefinition "
                                "escalationRef=\"esc\"/></bpmn:boundaryEvent>" TASK(
                                    "note", "note") "<bpmn:endEvent id=\"ne\"/>" FLOW("f4", "noted",
                                                                                      "note")
                                    FLOW("f5", "note", "ne")));
    uint64_t pi = start_ok(f, "parent", NULL);
    taken_job n = take_job(f, "note");
    assert_int_equal(n.instance, pi);
    assert_contains(n.vars, "\"esc\":\"LATE\"");
    complete_ok(f, n.key, NULL);
    job_free(&n);
    taken_job w = take_job(f, "work");
    complete_ok(f, w.key, NULL);
    job_free(&w);
    free(after_variables(f));
    assert_int_equal(instance_state(f, pi), BATON_COMPLETED);

    /* Interrupting: the child is terminated. */
    deploy_ok(f, "parent", esc,
              PARENT(CALL("call", "processId=\"child\"", ""),
                     "<bpmn:boundaryEvent id=\"noted\" attachedToRef=\"call\">"
                     "<bpmn:escalationEventDefinition escalationRef=\"esc\"/>"
                     "</bpmn:boundaryEvent>" TASK("note", "note") "<bpmn:endEvent id=\"ne\"/>" FLOW(
                         "f4", "noted", "note") FLOW("f5", "note", "ne")));
    pi = start_ok(f, "parent", NULL);
    assert_int_equal(count_jobs(f, "work"), 0);
    n = take_job(f, "note");
    complete_ok(f, n.key, NULL);
    job_free(&n);
    assert_int_equal(count_jobs(f, "after"), 0);
    assert_int_equal(instance_state(f, pi), BATON_COMPLETED);
    fixture_free(f);
}

/* ---- incidents in the child ------------------------------------------------------------------ */

static void test_child_incident_parent_has_incident(void **state) {
    (void)state;
    fixture *f = fixture_new(false);
    deploy_ok(f, "child", "", CHILD);
    deploy_ok(f, "middle", "",
              "<bpmn:startEvent id=\"ms\"/>" CALL("deeper", "processId=\"child\"",
                                                  "") "<bpmn:endEvent id=\"me\"/>" FLOW("m1", "ms",
                                                                                        "deeper")
                  FLOW("m2", "deeper", "me"));
    deploy_ok(f, "parent", "", PARENT(CALL("call", "processId=\"middle\"", ""), ""));
    uint64_t pi = start_ok(f, "parent", NULL);
    taken_job w = take_job(f, "work");
    uint64_t middle = get(f, w.instance).parent_instance_key;
    assert_false(get(f, pi).has_incident);
    baton_error err;
    assert_int_equal(baton_fail_job(f->b, w.key, 0, "down", 0, &err), 0);
    assert_true(get(f, w.instance).has_incident);
    assert_true(get(f, middle).has_incident);
    assert_true(get(f, pi).has_incident);
    fixture_reopen(f); /* recomputed from the restored instances */
    assert_true(get(f, pi).has_incident);
    baton_incident inc[2];
    assert_int_equal(baton_list_incidents(f->b, w.instance, inc, 2), 1);
    assert_int_equal(baton_update_job_retries(f->b, w.key, 1, &err), 0);
    assert_int_equal(baton_resolve_incident(f->b, inc[0].key, &err), 0);
    assert_false(get(f, pi).has_incident);
    assert_false(get(f, middle).has_incident);
    taken_job again = take_job(f, "work");
    complete_ok(f, again.key, NULL);
    job_free(&again);
    job_free(&w);
    free(after_variables(f));
    assert_int_equal(instance_state(f, pi), BATON_COMPLETED);
    assert_false(get(f, pi).has_incident); /* the stored row */
    fixture_free(f);
}

/* ---- restarts
 * ------------------------------------------------------------------------------------ */

static void test_restart_mid_way(void **state) {
    (void)state;
    fixture *f = fixture_new(false);
    deploy_family(f, "", PARENT(CALL("call", "processId=\"child\"", OUTPUT("= y", "y")), ""));
    uint64_t pi = start_ok(f, "parent", "{\"x\": 1}");
    taken_job w = take_job(f, "work");
    fixture_reopen(f);
    assert_int_equal(get(f, w.instance).parent_instance_key, pi);
    baton_error err;
    /* The link is restored: cancelling the child is still refused. */
    assert_int_equal(baton_cancel_instance(f->b, w.instance, &err), BATON_ECONFLICT);
    fixture_reopen(f);
    complete_ok(f, w.key, "{\"y\": 7}");
    assert_int_equal(instance_state(f, w.instance), BATON_COMPLETED);
    fixture_reopen(f);
    char *vars = after_variables(f);
    assert_contains(vars, "\"y\":7");
    free(vars);
    assert_int_equal(instance_state(f, pi), BATON_COMPLETED);
    char parent_key[64];
    snprintf(parent_key, sizeof parent_key, "\"parentProcessInstanceKey\":\"%llu\"",
             (unsigned long long)pi);
    assert_int_equal(
        count_records(f, w.instance, "PROCESS_INSTANCE", "ELEMENT_COMPLETED", parent_key),
        count_records(f, w.instance, "PROCESS_INSTANCE", "ELEMENT_COMPLETED", ""));
    job_free(&w);
    fixture_free(f);
}

/* ---- multi-instance and compensation ----------------------------------------------------------
 */

static void test_multi_instance_call_activity(void **state) {
    (void)state;
    fixture *f = fixture_new(false);
    deploy_ok(f, "child", "", CHILD);
    deploy_ok(f, "parent", "",
              PARENT("<bpmn:callActivity id=\"call\"><bpmn:extensionElements>"
                     "<zeebe:calledElement processId=\"child\" "
                     "propagateAllParentVariables=\"false\"/></bpmn:extensionElements>"
                     "<bpmn:multiInstanceLoopCharacteristics><bpmn:extensionElements>"
                     "<zeebe:loopCharacteristics inputCollection=\"= items\" inputElement=\"item\" "
                     "outputCollection=\"results\" outputElement=\"= result\"/>"
                     "</bpmn:extensionElements></bpmn:multiInstanceLoopCharacteristics>"
                     "</bpmn:callActivity>",
                     ""));
    uint64_t pi = start_ok(f, "parent", "{\"items\": [1, 2, 3], \"big\": \"not passed\"}");
    baton_job jobs[8];
    int n = 0;
    baton_error err;
    assert_int_equal(baton_activate_jobs(f->b, "work", "test", 10 * MINUTE, 8, jobs, &n, &err), 0);
    assert_int_equal(n, 3);
    for (int i = 0; i < 3; i++) {
        assert_lacks(jobs[i].variables_json, "big");
        assert_int_equal(get(f, jobs[i].process_instance_key).parent_instance_key, pi);
    }
    assert_contains(jobs[0].variables_json, "\"item\":1");
    assert_contains(jobs[2].variables_json, "\"loopCounter\":3");
    complete_ok(f, jobs[2].key, "{\"result\": 30}");
    fixture_reopen(f);
    complete_ok(f, jobs[0].key, "{\"result\": 10}");
    assert_int_equal(count_jobs(f, "after"), 0);
    complete_ok(f, jobs[1].key, "{\"result\": 20}");
    baton_jobs_free(jobs, n);
    char *vars = after_variables(f);
    assert_contains(vars, "\"results\":[10,20,30]");
    assert_lacks(vars, "\"result\":");
    free(vars);
    assert_int_equal(instance_state(f, pi), BATON_COMPLETED);
    assert_int_equal(count_records(f, pi, "PROCESS_INSTANCE", "ELEMENT_COMPLETED",
                                   "\"bpmnElementType\":\"CALL_ACTIVITY\""),
                     3);
    fixture_free(f);
}

static void test_compensation_of_completed_call_activity(void **state) {
    (void)state;
    fixture *f = fixture_new(false);
    deploy_ok(f, "child", "", CHILD);
    deploy_ok(
        f, "parent", "",
        "<bpmn:startEvent id=\"start\"/>" CALL(
            "call", "processId=\"child\"",
            "") "<bpmn:boundaryEvent id=\"comp\" attachedToRef=\"call\">"
                "<bpmn:compensateEventDefinition/></bpmn:boundaryEvent>"
                "<bpmn:serviceTask id=\"undo\" isForCompensation=\"true\">"
                "<bpmn:extensionElements><zeebe:taskDefinition type=\"undo\"/>"
                "</bpmn:extensionElements></bpmn:serviceTask>"
                "<bpmn:association id=\"a1\" sourceRef=\"comp\" targetRef=\"undo\"/>"
                "<bpmn:endEvent id=\"end\"><bpmn:compensateEventDefinition/></bpmn:endEvent>" FLOW(
                    "f1", "start", "call") FLOW("f2", "call", "end"));
    uint64_t pi = start_ok(f, "parent", NULL);
    taken_job w = take_job(f, "work");
    assert_int_equal(count_jobs(f, "undo"), 0);
    complete_ok(f, w.key, "{\"booking\": \"B-1\"}");
    job_free(&w);
    fixture_reopen(f);
    taken_job u = take_job(f, "undo");
    assert_int_equal(u.instance, pi);
    assert_contains(u.vars, "\"booking\":\"B-1\""); /* the child's result came back */
    complete_ok(f, u.key, NULL);
    job_free(&u);
    assert_int_equal(instance_state(f, pi), BATON_COMPLETED);
    fixture_free(f);
}

/* A process that calls itself without end stops at the depth limit. */
static void test_recursion_depth_limit(void **state) {
    (void)state;
    fixture *f = fixture_new(false);
    deploy_ok(
        f, "loop", "",
        "<bpmn:startEvent id=\"s\"/>" CALL("again", "processId=\"loop\"",
                                           "") "<bpmn:endEvent id=\"e\"/>" FLOW("f1", "s", "again")
            FLOW("f2", "again", "e"));
    uint64_t pi = start_ok(f, "loop", NULL);
    baton_incident inc[2];
    assert_int_equal(baton_list_incidents(f->b, 0, inc, 2), 1);
    assert_string_equal(inc[0].type, "CALLED_ELEMENT_ERROR");
    assert_contains(inc[0].message, "maximum depth of 1000");
    assert_true(get(f, pi).has_incident);
    baton_error err;
    assert_int_equal(baton_cancel_instance(f->b, pi, &err), 0);
    assert_int_equal(instance_state(f, inc[0].process_instance_key), BATON_TERMINATED);
    assert_int_equal(baton_list_incidents(f->b, 0, inc, 2), 0);
    fixture_free(f);
}

/* ---- model errors -------------------------------------------------------------------------------
 */

static void deploy_fails_at(fixture *f, const char *body, const char *element,
                            const char *fragment) {
    char *xml = bpmn_doc("bad", "", body);
    baton_error err;
    baton_deployed d;
    int rc = baton_deploy(f->b, "bad.bpmn", xml, strlen(xml), &d, &err);
    free(xml);
    assert_int_equal(rc, BATON_EINVAL);
    assert_string_equal(err.element_id, element);
    assert_true(err.line > 0);
    assert_contains(err.message, fragment);
}

/* A child whose task has job type `type`, with a zeebe:versionTag. */
#define TAGGED_CHILD(tag, type)                                                                    \
    "<bpmn:extensionElements><zeebe:versionTag value=\"" tag "\"/></bpmn:extensionElements>"       \
    "<bpmn:startEvent id=\"cs\"/>" TASK("work", type) "<bpmn:endEvent id=\"ce\"/>" FLOW(           \
        "c1", "cs", "work") FLOW("c2", "work", "ce")

/* bindingType: the latest version (the default), the one deployed together
 * with the caller, or the newest with a version tag; a tag nobody has is an
 * incident. */
static void test_binding_types(void **state) {
    (void)state;
    fixture *f = fixture_new(false);
    /* One resource: a caller bound to its deployment, and child version 1. */
    const char *together =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<bpmn:definitions xmlns:bpmn=\"http://www.omg.org/spec/BPMN/20100524/MODEL\"\n"
        "  xmlns:zeebe=\"http://camunda.org/schema/zeebe/1.0\" id=\"defs\" "
        "targetNamespace=\"http://baton.test\">\n"
        "<bpmn:process id=\"by-deployment\" isExecutable=\"true\">" PARENT(
            CALL("call", "processId=\"child\" bindingType=\"deployment\"", ""),
            "") "</bpmn:process>\n"
                "<bpmn:process id=\"child\" isExecutable=\"true\">" TAGGED_CHILD(
                    "release-1", "work-1") "</bpmn:process>\n</bpmn:definitions>\n";
    baton_error err;
    assert_int_equal(baton_deploy(f->b, "together.bpmn", together, strlen(together), NULL, &err),
                     0);
    deploy_ok(f, "child", "", TAGGED_CHILD("release-2", "work-2"));
    deploy_ok(f, "by-latest", "", PARENT(CALL("call", "processId=\"child\"", ""), ""));
    deploy_ok(
        f, "by-tag", "",
        PARENT(CALL("call",
                    "processId=\"child\" bindingType=\"versionTag\" versionTag=\"release-1\"", ""),
               ""));
    deploy_ok(f, "by-missing-tag", "",
              PARENT(CALL("call",
                          "processId=\"child\" bindingType=\"versionTag\" versionTag=\"nope\"", ""),
                     ""));
    start_ok(f, "by-deployment", NULL);
    assert_int_equal(count_jobs(f, "work-1"), 1);
    start_ok(f, "by-latest", NULL);
    assert_int_equal(count_jobs(f, "work-2"), 1);
    start_ok(f, "by-tag", NULL);
    assert_int_equal(count_jobs(f, "work-1"), 2);
    uint64_t missing = start_ok(f, "by-missing-tag", NULL);
    baton_incident inc[2];
    assert_int_equal(baton_list_incidents(f->b, missing, inc, 2), 1);
    assert_string_equal(inc[0].type, "CALLED_ELEMENT_ERROR");
    assert_contains(inc[0].message, "version tag 'nope'");
    /* Deploying a version with that tag, then resolving, calls it. */
    deploy_ok(f, "child", "", TAGGED_CHILD("nope", "work-3"));
    assert_int_equal(baton_resolve_incident(f->b, inc[0].key, &err), 0);
    assert_int_equal(count_jobs(f, "work-3"), 1);
    fixture_free(f);
}

static void test_model_errors(void **state) {
    (void)state;
    fixture *f = fixture_new(false);
#define AROUND(call)                                                                               \
    "<bpmn:startEvent id=\"s\"/>" call "<bpmn:endEvent id=\"e\"/>" FLOW("f1", "s", "c")            \
        FLOW("f2", "c", "e")
    deploy_fails_at(f, AROUND("<bpmn:callActivity id=\"c\"/>"), "c",
                    "<zeebe:calledElement processId=");
    deploy_fails_at(f, AROUND("<bpmn:callActivity id=\"c\" calledElement=\"child\"/>"), "c",
                    "needs the process to call");
    deploy_fails_at(f, AROUND(CALL("c", "processId=\"\"", "")), "c", "needs the process to call");
    deploy_fails_at(f, AROUND(CALL("c", "processId=\"= 1 +\"", "")), "c",
                    "invalid FEEL expression in zeebe:calledElement processId");
    deploy_fails_at(f, AROUND(CALL("c", "processId=\"x\" propagateAllChildVariables=\"yes\"", "")),
                    "c", "propagateAllChildVariables 'yes' is not 'true' or 'false'");
    deploy_fails_at(f, AROUND(CALL("c", "processId=\"x\" bindingType=\"version\"", "")), "c",
                    "expected latest, deployment or versionTag");
    deploy_fails_at(f, AROUND(CALL("c", "processId=\"x\" bindingType=\"versionTag\"", "")), "c",
                    "needs the versionTag to call");
    deploy_fails_at(f, AROUND(CALL("c", "processId=\"x\"", "<zeebe:taskDefinition type=\"t\"/>")),
                    "c", "zeebe:taskDefinition");
#undef AROUND
    /* The process need not exist when the caller is deployed. */
    deploy_ok(f, "fine", "",
              "<bpmn:startEvent id=\"s\"/>" CALL(
                  "c", "processId=\"later\" bindingType=\"latest\"",
                  "") "<bpmn:endEvent id=\"e\"/>" FLOW("f1", "s", "c") FLOW("f2", "c", "e"));
    fixture_free(f);
}

/* ---- the engine directly
 * --------------------------------------------------------------------------- */

static char *doc_of(const char *id, const char *body) {
    return bpmn_doc(id, "", body);
}

static void deploy_engine(eng_engine *e, const char *id, const char *body) {
    char *xml = doc_of(id, body);
    eng_resource r = {"e.bpmn", xml, strlen(xml)};
    eng_deployment d;
    bpmn_errors errs;
    if (eng_deploy(e, 1000, &r, 1, &d, &errs) != 0)
        fail_msg("deploy %s: %s", id, errs.items[0].message);
    free(xml);
}

static const eng_instance_row *row_of(const eng_changes *ch, uint64_t key) {
    for (size_t i = 0; i < ch->n_instances; i++)
        if (ch->instances[i].key == key)
            return &ch->instances[i];
    return NULL;
}

/* The rows: the child names its parent; a child's incident rewrites the
 * parent's row with has_incident. */
static void test_rows(void **state) {
    (void)state;
    eng_engine *e = eng_new(NULL);
    deploy_engine(e, "child", CHILD);
    deploy_engine(e, "parent", PARENT(CALL("call", "processId=\"child\"", ""), ""));
    eng_start s = {.bpmn_process_id = "parent", .version = -1};
    uint64_t pi;
    bt_error err;
    assert_int_equal(eng_instance_create(e, 2000, &s, &pi, &err), 0);
    eng_changes ch;
    eng_changes_take(e, &ch);
    assert_int_equal(ch.n_instances, 2);
    const eng_instance_row *parent = row_of(&ch, pi);
    assert_non_null(parent);
    assert_int_equal(parent->parent_instance_key, 0);
    const eng_instance_row *child =
        parent == &ch.instances[0] ? &ch.instances[1] : &ch.instances[0];
    uint64_t child_key = child->key;
    assert_int_equal(child->parent_instance_key, pi);
    assert_true(child_key > pi); /* restored after its parent */
    eng_changes_done(e);

    eng_job_view views[2];
    int count = 0;
    assert_int_equal(eng_jobs_activate(e, 3000, "work", "w", 1000, 2, NULL, 0, views, &count), 0);
    assert_int_equal(count, 1);
    uint64_t job = views[0].key;
    eng_job_views_free(views, count);
    eng_changes_take(e, &ch);
    assert_null(row_of(&ch, pi)); /* activating a child's job leaves the parent's row */
    eng_changes_done(e);
    assert_int_equal(eng_job_fail(e, 3100, job, 0, "down", 0, NULL, &err), 0);
    eng_changes_take(e, &ch);
    parent = row_of(&ch, pi);
    assert_non_null(parent);
    assert_true(parent->has_incident);
    assert_true(row_of(&ch, child_key)->has_incident);
    eng_changes_done(e);
    eng_instance_view v;
    assert_int_equal(eng_instance_get(e, child_key, &v), 0);
    assert_int_equal(v.parent_instance_key, pi);
    assert_true(v.parent_element_instance_key != 0);
    eng_free(e);
}

static int last_elem_key(void *ud, const eng_elem_info *el) {
    *(uint64_t *)ud = el->key;
    return 0;
}

/* A version-3 state (written before signals) still decodes: the version-4
 * encoding of an uncalled instance waiting at a task — the process and the
 * task's element instances — without the signal subscription count that
 * ends each of them. */
static void test_version_3_state_still_decodes(void **state) {
    (void)state;
    const char *body = "<bpmn:startEvent id=\"s\"/>" TASK(
        "work", "work") "<bpmn:endEvent id=\"e\"/>" FLOW("f1", "s", "work") FLOW("f2", "work", "e");
    eng_engine *e = eng_new(NULL);
    deploy_engine(e, "v3", body);
    eng_start s = {.bpmn_process_id = "v3", .version = -1, .variables = NULL};
    uint64_t pi, task = 0;
    bt_error err;
    assert_int_equal(eng_instance_create(e, 2000, &s, &pi, &err), 0);
    assert_int_equal(eng_elems_each(e, pi, last_elem_key, &task), 0);
    eng_changes ch;
    eng_changes_take(e, &ch);
    const eng_definition_row def = ch.definitions[0];
    const eng_instance_row *row = row_of(&ch, pi);
    assert_non_null(row);
    /* 'B', 4, state 1, compensation seq 0, no correlation key, parent 0, caller 0, ... */
    const unsigned char *v4 = (const unsigned char *)row->state_data;
    assert_int_equal(v4[0], 'B');
    assert_int_equal(v4[1], 4);
    assert_memory_equal(v4 + 2, "\x01\x00\x00\x00\x00", 5);
    /* The task's element instance starts with its key (a varint); the byte
     * before it ends the process's element instance, the last byte ends the
     * task's: both are the signal subscription counts, 0. */
    unsigned char key[10];
    size_t key_len = 0;
    for (uint64_t k = task; key_len == 0 || k; k >>= 7)
        key[key_len++] = (unsigned char)((k & 0x7f) | (k >> 7 ? 0x80 : 0));
    size_t split = 0;
    for (size_t i = 7; !split && i + key_len <= row->state_len; i++)
        if (memcmp(v4 + i, key, key_len) == 0)
            split = i;
    assert_true(split > 0);
    assert_int_equal(v4[split - 1], 0);
    assert_int_equal(v4[row->state_len - 1], 0);
    size_t len = row->state_len - 2;
    char *v3 = malloc(len);
    memcpy(v3, v4, split - 1);
    memcpy(v3 + split - 1, v4 + split, row->state_len - split - 1);
    v3[1] = 3;
    char *v2 = v3; /* the name the rest of the test uses */

    eng_engine *e2 = eng_new(NULL);
    eng_restore_counters(e2, ch.next_key, ch.next_position);
    assert_int_equal(eng_restore_definition(e2, &def, &err), 0);
    eng_instance_row old = *row;
    old.state_data = v2;
    old.state_len = len;
    assert_int_equal(eng_restore_instance(e2, &old, &err), 0);
    eng_changes_done(e);
    eng_free(e);
    free(v2);

    eng_job_view views[2];
    int count = 0;
    assert_int_equal(eng_jobs_activate(e2, 3000, "work", "w", 1000, 2, NULL, 0, views, &count), 0);
    assert_int_equal(count, 1);
    uint64_t job = views[0].key;
    eng_job_views_free(views, count);
    assert_int_equal(eng_job_complete(e2, 3100, job, NULL, &err), 0);
    eng_instance_view view;
    assert_int_equal(eng_instance_get(e2, pi, &view), 0);
    assert_int_equal(view.state, ENG_INSTANCE_COMPLETED);
    assert_int_equal(view.parent_instance_key, 0);
    eng_changes_take(e2, &ch);
    eng_changes_done(e2);
    eng_free(e2);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_child_completes_variables_come_back),
        cmocka_unit_test(test_child_without_wait_state),
        cmocka_unit_test(test_output_mappings_without_propagation),
        cmocka_unit_test(test_output_mappings_decide_by_default),
        cmocka_unit_test(test_input_mappings_only),
        cmocka_unit_test(test_feel_process_id),
        cmocka_unit_test(test_unknown_process_incident_deploy_resolve),
        cmocka_unit_test(test_cancel_parent_terminates_child),
        cmocka_unit_test(test_interrupting_timer_terminates_child),
        cmocka_unit_test(test_message_boundary_terminates_child),
        cmocka_unit_test(test_boundary_incident_then_child_completes),
        cmocka_unit_test(test_error_in_child_caught_on_call_activity),
        cmocka_unit_test(test_error_end_event_in_child_caught_above),
        cmocka_unit_test(test_uncaught_error_in_child_incident),
        cmocka_unit_test(test_escalation_from_child),
        cmocka_unit_test(test_child_incident_parent_has_incident),
        cmocka_unit_test(test_restart_mid_way),
        cmocka_unit_test(test_multi_instance_call_activity),
        cmocka_unit_test(test_compensation_of_completed_call_activity),
        cmocka_unit_test(test_recursion_depth_limit),
        cmocka_unit_test(test_binding_types),
        cmocka_unit_test(test_model_errors),
        cmocka_unit_test(test_rows),
        cmocka_unit_test(test_version_3_state_still_decodes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
