/*
 * Multi-instance activities through the embedding API over a real SQLite
 * store: parallel and sequential bodies, the output collection in item
 * order whatever order the inner jobs complete in, empty and non-list
 * collections, completion conditions, a multi-instance sub-process over 100
 * items, boundary events on the body (timer, error), compensation once per
 * completed inner instance, cancel, and restarts mid-way (each restart
 * encodes the instances, reopens the store and restores them into a fresh
 * engine). Two tests use the engine directly: element instance types for the
 * API, and a stored version-1 instance state that must still decode.
 * Time is the fixture's clock.
 */
#include "engine/engine.h"
#include "engine_fixture.h"

#define MINUTE 60000LL

/* A service task of job type TYPE run once per item; LOOP holds the
 * zeebe:loopCharacteristics attributes, MORE what follows them in
 * multiInstanceLoopCharacteristics, EXT more extension elements of the task. */
#define MI_TASK(id, type, seq, loop, more, ext)                                                    \
    "<bpmn:serviceTask id=\"" id "\"><bpmn:extensionElements><zeebe:taskDefinition type=\"" type   \
    "\"/>" ext                                                                                     \
    "</bpmn:extensionElements><bpmn:multiInstanceLoopCharacteristics isSequential=\"" seq          \
    "\"><bpmn:extensionElements><zeebe:loopCharacteristics " loop                                  \
    "/></bpmn:extensionElements>" more                                                             \
    "</bpmn:multiInstanceLoopCharacteristics></bpmn:serviceTask>\n"
#define UNTIL(cond) "<bpmn:completionCondition>" cond "</bpmn:completionCondition>"

/* start → each → after → end, where `each` is the multi-instance task. */
#define AROUND(each)                                                                               \
    "<bpmn:startEvent id=\"start\"/>\n" each TASK(                                                 \
        "after", "after") "<bpmn:endEvent id=\"end\"/>\n" FLOW("f1", "start", "each")              \
        FLOW("f2", "each", "after") FLOW("f3", "after", "end")

#define COLLECT                                                                                    \
    "inputCollection=\"= items\" inputElement=\"item\" outputCollection=\"results\" "              \
    "outputElement=\"= result\""

static void tick(fixture *f) {
    baton_error err;
    assert_true(baton_tick(f->b, &err) >= 0);
}

/* Activates every job of type (up to max) into jobs; returns how many. */
static int activate_all(fixture *f, const char *type, baton_job *jobs, int max) {
    int n = 0;
    baton_error err;
    assert_int_equal(baton_activate_jobs(f->b, type, "test", 10 * MINUTE, max, jobs, &n, &err), 0);
    return n;
}

static void assert_contains(const char *text, const char *needle) {
    if (!text || !strstr(text, needle))
        fail_msg("'%s' lacks '%s'", text ? text : "(null)", needle);
}

static void assert_lacks(const char *text, const char *needle) {
    if (text && strstr(text, needle))
        fail_msg("'%s' has '%s'", text, needle);
}

/* The variables the `after` task sees (the root scope), as JSON; exactly
 * one such job must wait. The caller frees. */
static char *after_variables(fixture *f) {
    baton_job jobs[2];
    int n = activate_all(f, "after", jobs, 2);
    if (n != 1)
        fail_msg("expected one 'after' job, got %d", n);
    char *vars = strdup(jobs[0].variables_json);
    complete_ok(f, jobs[0].key, NULL);
    baton_jobs_free(jobs, n);
    return vars;
}

static void complete_job(fixture *f, uint64_t job, const char *vars, int expect) {
    baton_error err;
    int rc = baton_complete_job(f->b, job, vars, &err);
    if (rc != expect)
        fail_msg("complete %llu: %d, expected %d (%s)", (unsigned long long)job, rc, expect,
                 err.message);
}

/* ---- history --------------------------------------------------------------------- */

typedef struct history_count {
    const char *value_type, *intent, *fragment; /* what to count */
    int n;
} history_count;

static int count_cb(void *ud, const char *value_type, const char *intent, uint64_t key,
                    const char *value_json) {
    (void)key;
    history_count *c = ud;
    if (!strcmp(value_type, c->value_type) && !strcmp(intent, c->intent) &&
        strstr(value_json, c->fragment))
        c->n++;
    return 0;
}

/* Records of the instance with that type and intent whose value holds fragment. */
static int count_records(fixture *f, uint64_t pi, const char *value_type, const char *intent,
                         const char *fragment) {
    history_count c = {value_type, intent, fragment, 0};
    assert_int_equal(baton_history(f->b, pi, count_cb, &c), 0);
    return c.n;
}

typedef struct body_key {
    uint64_t key;
} body_key;

static int body_cb(void *ud, const char *value_type, const char *intent, uint64_t key,
                   const char *value_json) {
    body_key *b = ud;
    if (!strcmp(value_type, "PROCESS_INSTANCE") && !strcmp(intent, "ELEMENT_ACTIVATING") &&
        strstr(value_json, "\"MULTI_INSTANCE_BODY\""))
        b->key = key;
    return 0;
}

/* ---- parallel and sequential ------------------------------------------------------- */

static void test_parallel_collects_in_item_order(void **state) {
    (void)state;
    fixture *f = fixture_new(false);
    deploy_ok(f, "par", "", AROUND(MI_TASK("each", "work", "false", COLLECT, "", "")));
    uint64_t pi = start_ok(f, "par", "{\"items\": [\"a\", \"b\", \"c\"]}");
    baton_job jobs[8];
    int n = activate_all(f, "work", jobs, 8);
    assert_int_equal(n, 3); /* all at once */
    const char *items[] = {"\"item\":\"a\"", "\"item\":\"b\"", "\"item\":\"c\""};
    const char *counters[] = {"\"loopCounter\":1", "\"loopCounter\":2", "\"loopCounter\":3"};
    for (int i = 0; i < 3; i++) {
        assert_contains(jobs[i].variables_json, items[i]);
        assert_contains(jobs[i].variables_json, counters[i]);
        assert_contains(jobs[i].variables_json, "\"results\":[null,null,null]");
    }
    /* Out of order: the collection keeps the items' order. */
    complete_ok(f, jobs[2].key, "{\"result\": \"C\"}");
    complete_ok(f, jobs[0].key, "{\"result\": \"A\"}");
    assert_int_equal(count_jobs(f, "after"), 0);
    complete_ok(f, jobs[1].key, "{\"result\": \"B\"}");
    baton_jobs_free(jobs, n);
    char *vars = after_variables(f);
    assert_contains(vars, "\"results\":[\"A\",\"B\",\"C\"]");
    /* The job results stayed in their inner instances; nothing leaked. */
    assert_lacks(vars, "\"result\":");
    assert_lacks(vars, "loopCounter");
    assert_lacks(vars, "\"item\"");
    free(vars);
    assert_int_equal(instance_state(f, pi), BATON_COMPLETED);

    /* The records: one body, three inner instances in its scope. */
    body_key body = {0};
    assert_int_equal(baton_history(f->b, pi, body_cb, &body), 0);
    assert_true(body.key != 0);
    char scope[64];
    snprintf(scope, sizeof scope, "\"flowScopeKey\":\"%llu\"", (unsigned long long)body.key);
    assert_int_equal(count_records(f, pi, "PROCESS_INSTANCE", "ELEMENT_COMPLETED",
                                   "\"bpmnElementType\":\"MULTI_INSTANCE_BODY\""),
                     1);
    assert_int_equal(count_records(f, pi, "PROCESS_INSTANCE", "ELEMENT_COMPLETED", scope), 3);
    assert_int_equal(count_records(f, pi, "PROCESS_INSTANCE", "SEQUENCE_FLOW_TAKEN", "\"f2\""), 1);
    fixture_free(f);
}

/* One inner instance at a time; the activity's input and output mappings
 * apply per inner instance, after the item and loopCounter are set. */
static void test_sequential_one_after_another_with_mappings(void **state) {
    (void)state;
    fixture *f = fixture_new(false);
    deploy_ok(f, "seq", "",
              AROUND(MI_TASK("each", "work", "true",
                             "inputCollection=\"= numbers\" inputElement=\"item\" "
                             "outputCollection=\"tens\" outputElement=\"= x\"",
                             "",
                             "<zeebe:ioMapping><zeebe:input source=\"= item * 10 + loopCounter\" "
                             "target=\"x\"/><zeebe:output source=\"= x + 1\" target=\"last\"/>"
                             "</zeebe:ioMapping>")));
    uint64_t pi = start_ok(f, "seq", "{\"numbers\": [1, 2, 3]}");
    const char *xs[] = {"\"x\":11", "\"x\":22", "\"x\":33"};
    for (int i = 0; i < 3; i++) {
        baton_job jobs[4];
        int n = activate_all(f, "work", jobs, 4);
        assert_int_equal(n, 1); /* never two at once */
        assert_contains(jobs[0].variables_json, xs[i]);
        complete_ok(f, jobs[0].key, "{\"noise\": 0}"); /* stays local: output mappings exist */
        baton_jobs_free(jobs, n);
    }
    char *vars = after_variables(f);
    assert_contains(vars, "\"tens\":[11,22,33]");
    assert_contains(vars, "\"last\":34");
    assert_lacks(vars, "\"x\":");
    assert_lacks(vars, "noise");
    free(vars);
    assert_int_equal(instance_state(f, pi), BATON_COMPLETED);
    fixture_free(f);
}

static void test_empty_collection_completes_at_once(void **state) {
    (void)state;
    fixture *f = fixture_new(false);
    deploy_ok(f, "empty", "", AROUND(MI_TASK("each", "work", "false", COLLECT, "", "")));
    deploy_ok(f, "emptyseq", "", AROUND(MI_TASK("each", "work", "true", COLLECT, "", "")));
    uint64_t pi = start_ok(f, "empty", "{\"items\": []}");
    assert_int_equal(count_jobs(f, "work"), 0);
    char *vars = after_variables(f);
    assert_contains(vars, "\"results\":[]");
    free(vars);
    assert_int_equal(instance_state(f, pi), BATON_COMPLETED);
    uint64_t seq = start_ok(f, "emptyseq", "{\"items\": []}");
    assert_int_equal(count_jobs(f, "work"), 0);
    free(after_variables(f));
    assert_int_equal(instance_state(f, seq), BATON_COMPLETED);
    fixture_free(f);
}

/* Inner instances that complete at once (an undefined task) run within one
 * command; a completion condition there ends the loop mid-way. */
static void test_pass_through_inner_instances(void **state) {
    (void)state;
    fixture *f = fixture_new(false);
    deploy_ok(
        f, "quick", "",
        AROUND("<bpmn:task id=\"each\"><bpmn:multiInstanceLoopCharacteristics>"
               "<bpmn:extensionElements><zeebe:loopCharacteristics inputCollection=\"= "
               "items\" inputElement=\"item\" outputCollection=\"results\" "
               "outputElement=\"= item * loopCounter\"/></bpmn:extensionElements>" UNTIL(
                   "= item &gt;= limit") "</bpmn:multiInstanceLoopCharacteristics></bpmn:task>"));
    uint64_t all = start_ok(f, "quick", "{\"items\": [1, 2, 3], \"limit\": 9}");
    char *vars = after_variables(f);
    assert_contains(vars, "\"results\":[1,4,9]");
    free(vars);
    assert_int_equal(instance_state(f, all), BATON_COMPLETED);
    uint64_t some = start_ok(f, "quick", "{\"items\": [1, 2, 3], \"limit\": 2}");
    vars = after_variables(f);
    assert_contains(vars, "\"results\":[1,4,null]");
    free(vars);
    assert_int_equal(instance_state(f, some), BATON_COMPLETED);
    assert_int_equal(count_records(f, some, "PROCESS_INSTANCE", "ELEMENT_TERMINATED", "\"each\""),
                     1);
    fixture_free(f);
}

/* An input collection that is no list: an incident on the body, resolved
 * once the variable holds a list. */
static void test_non_list_collection_incident_then_resolve(void **state) {
    (void)state;
    fixture *f = fixture_new(false);
    deploy_ok(f, "notlist", "", AROUND(MI_TASK("each", "work", "false", COLLECT, "", "")));
    uint64_t pi = start_ok(f, "notlist", "{\"items\": \"a, b\"}");
    baton_incident inc[2];
    assert_int_equal(baton_list_incidents(f->b, pi, inc, 2), 1);
    assert_string_equal(inc[0].type, "EXTRACT_VALUE_ERROR");
    assert_string_equal(inc[0].element_id, "each");
    assert_contains(inc[0].message, "'items'");
    assert_contains(inc[0].message, "ARRAY");
    body_key body = {0};
    assert_int_equal(baton_history(f->b, pi, body_cb, &body), 0);
    assert_int_equal(inc[0].element_instance_key, body.key); /* on the body */
    assert_int_equal(count_jobs(f, "work"), 0);

    baton_error err;
    /* Still no list: resolving raises it again. */
    assert_int_equal(baton_resolve_incident(f->b, inc[0].key, &err), 0);
    assert_int_equal(baton_list_incidents(f->b, pi, inc, 2), 1);
    assert_int_equal(baton_set_variables(f->b, pi, "{\"items\": [\"a\", \"b\"]}", false, &err), 0);
    assert_int_equal(baton_resolve_incident(f->b, inc[0].key, &err), 0);
    assert_int_equal(baton_list_incidents(f->b, pi, inc, 2), 0);
    baton_job jobs[4];
    int n = activate_all(f, "work", jobs, 4);
    assert_int_equal(n, 2);
    complete_ok(f, jobs[1].key, "{\"result\": 2}");
    complete_ok(f, jobs[0].key, "{\"result\": 1}");
    baton_jobs_free(jobs, n);
    char *vars = after_variables(f);
    assert_contains(vars, "\"results\":[1,2]");
    free(vars);
    assert_int_equal(instance_state(f, pi), BATON_COMPLETED);
    fixture_free(f);
}

/* ---- completion conditions ----------------------------------------------------------- */

static void test_completion_condition_parallel_terminates_the_rest(void **state) {
    (void)state;
    fixture *f = fixture_new(false);
    deploy_ok(f, "two", "",
              AROUND(MI_TASK("each", "work", "false", COLLECT,
                             UNTIL("= numberOfCompletedInstances &gt;= 2 and "
                                   "numberOfActiveInstances = 2 and numberOfInstances = 4 and "
                                   "numberOfTerminatedInstances = 0"),
                             "")));
    uint64_t pi = start_ok(f, "two", "{\"items\": [1, 2, 3, 4]}");
    baton_job jobs[8];
    int n = activate_all(f, "work", jobs, 8);
    assert_int_equal(n, 4);
    complete_ok(f, jobs[3].key, "{\"result\": \"d\"}");
    assert_int_equal(count_jobs(f, "after"), 0);
    complete_ok(f, jobs[0].key, "{\"result\": \"a\"}");
    /* The condition held: the other two were terminated, their jobs cancelled. */
    complete_job(f, jobs[1].key, NULL, BATON_ENOTFOUND);
    complete_job(f, jobs[2].key, NULL, BATON_ENOTFOUND);
    baton_jobs_free(jobs, n);
    assert_int_equal(count_records(f, pi, "PROCESS_INSTANCE", "ELEMENT_TERMINATED", "\"each\""), 2);
    char *vars = after_variables(f);
    assert_contains(vars, "\"results\":[\"a\",null,null,\"d\"]");
    free(vars);
    assert_int_equal(instance_state(f, pi), BATON_COMPLETED);
    fixture_free(f);
}

static void test_completion_condition_sequential_starts_no_more(void **state) {
    (void)state;
    fixture *f = fixture_new(false);
    deploy_ok(f, "stop", "",
              AROUND(MI_TASK("each", "work", "true", COLLECT,
                             UNTIL("= result = \"stop\" and loopCounter = 2"), "")));
    uint64_t pi = start_ok(f, "stop", "{\"items\": [1, 2, 3, 4, 5]}");
    complete_ok(f, one_job(f, "work"), "{\"result\": \"go\"}");
    complete_ok(f, one_job(f, "work"), "{\"result\": \"stop\"}");
    assert_int_equal(count_jobs(f, "work"), 0);
    char *vars = after_variables(f);
    assert_contains(vars, "\"results\":[\"go\",\"stop\",null,null,null]");
    free(vars);
    assert_int_equal(instance_state(f, pi), BATON_COMPLETED);
    /* Two inner instances ran; none was terminated. */
    assert_int_equal(count_records(f, pi, "PROCESS_INSTANCE", "ELEMENT_COMPLETED",
                                   "\"bpmnElementType\":\"SERVICE_TASK\",\"bpmnEventType\":"
                                   "\"NONE\",\"elementId\":\"each\""),
                     2);
    assert_int_equal(count_records(f, pi, "PROCESS_INSTANCE", "ELEMENT_TERMINATED", "\"each\""), 0);
    fixture_free(f);
}

/* A completion condition that gives no boolean is an incident on the inner
 * instance; resolving it completes that inner instance again. */
static void test_completion_condition_incident_on_inner_instance(void **state) {
    (void)state;
    fixture *f = fixture_new(false);
    deploy_ok(f, "flag", "",
              AROUND(MI_TASK("each", "work", "true", COLLECT, UNTIL("= enough"), "")));
    uint64_t pi = start_ok(f, "flag", "{\"items\": [1, 2, 3]}");
    complete_ok(f, one_job(f, "work"), "{\"result\": 1}");
    baton_incident inc[2];
    assert_int_equal(baton_list_incidents(f->b, pi, inc, 2), 1);
    assert_string_equal(inc[0].type, "EXTRACT_VALUE_ERROR");
    assert_string_equal(inc[0].element_id, "each");
    assert_contains(inc[0].message, "completion condition");
    assert_int_equal(count_jobs(f, "work"), 0); /* the loop waits */
    baton_error err;
    assert_int_equal(baton_set_variables(f->b, pi, "{\"enough\": false}", false, &err), 0);
    fixture_reopen(f); /* the incident and the completing inner instance survive */
    assert_int_equal(baton_resolve_incident(f->b, inc[0].key, &err), 0);
    complete_ok(f, one_job(f, "work"), "{\"result\": 2}");
    assert_int_equal(baton_set_variables(f->b, pi, "{\"enough\": true}", false, &err), 0);
    complete_ok(f, one_job(f, "work"), "{\"result\": 3}");
    char *vars = after_variables(f);
    assert_contains(vars, "\"results\":[1,2,3]");
    free(vars);
    assert_int_equal(instance_state(f, pi), BATON_COMPLETED);
    fixture_free(f);
}

/* ---- a multi-instance sub-process ------------------------------------------------------ */

static void test_subprocess_over_100_items(void **state) {
    (void)state;
    fixture *f = fixture_new(false);
    deploy_ok(f, "hundred", "",
              "<bpmn:startEvent id=\"start\"/>"
              "<bpmn:subProcess id=\"each\"><bpmn:multiInstanceLoopCharacteristics>"
              "<bpmn:extensionElements><zeebe:loopCharacteristics inputCollection=\"= numbers\" "
              "inputElement=\"n\" outputCollection=\"doubled\" outputElement=\"= twice\"/>"
              "</bpmn:extensionElements></bpmn:multiInstanceLoopCharacteristics>"
              "<bpmn:startEvent id=\"s2\"/>" TASK("calc", "calc") "<bpmn:endEvent id=\"e2\"/>" FLOW(
                  "g1", "s2", "calc")
                  FLOW("g2", "calc", "e2") "</bpmn:subProcess>" TASK(
                      "after", "after") "<bpmn:endEvent id=\"end\"/>" FLOW("f1", "start", "each")
                      FLOW("f2", "each", "after") FLOW("f3", "after", "end"));
    char numbers[1024] = "{\"numbers\": [";
    char expected[1024] = "\"doubled\":[";
    for (int i = 1; i <= 100; i++) {
        snprintf(numbers + strlen(numbers), sizeof numbers - strlen(numbers), "%s%d",
                 i > 1 ? ", " : "", i);
        snprintf(expected + strlen(expected), sizeof expected - strlen(expected), "%s%d",
                 i > 1 ? "," : "", 2 * i);
    }
    strcat(numbers, "]}");
    strcat(expected, "]");
    uint64_t pi = start_ok(f, "hundred", numbers);
    static baton_job jobs[128];
    int n = activate_all(f, "calc", jobs, 128);
    assert_int_equal(n, 100);
    for (int i = n - 1; i >= 0; i--) { /* last first */
        const char *at = strstr(jobs[i].variables_json, "\"n\":");
        assert_non_null(at);
        char result[64];
        snprintf(result, sizeof result, "{\"twice\": %d}", 2 * atoi(at + 4));
        complete_ok(f, jobs[i].key, result);
        if (i == 50)
            fixture_reopen(f); /* half-way: the body and 50 sub-processes are restored */
    }
    baton_jobs_free(jobs, n);
    char *vars = after_variables(f);
    assert_contains(vars, expected);
    assert_lacks(vars, "twice");
    free(vars);
    assert_int_equal(instance_state(f, pi), BATON_COMPLETED);
    fixture_free(f);
}

/* ---- boundary events on the body ---------------------------------------------------------- */

static void test_interrupting_timer_boundary_on_the_body(void **state) {
    (void)state;
    fixture *f = fixture_new(false);
    deploy_ok(
        f, "slow", "",
        AROUND(MI_TASK(
            "each", "work", "false", COLLECT, "",
            "")) "<bpmn:boundaryEvent id=\"tooLate\" attachedToRef=\"each\">"
                 "<bpmn:timerEventDefinition><bpmn:timeDuration>PT10M</bpmn:timeDuration>"
                 "</bpmn:timerEventDefinition></bpmn:boundaryEvent>" TASK(
                     "late", "late") "<bpmn:endEvent id=\"lateEnd\"/>" FLOW("f4", "tooLate", "late")
                     FLOW("f5", "late", "lateEnd"));
    uint64_t pi = start_ok(f, "slow", "{\"items\": [1, 2, 3]}");
    /* One timer: the body's, not one per inner instance. */
    assert_int_equal(count_records(f, pi, "TIMER", "CREATED", "\"tooLate\""), 1);
    baton_job jobs[4];
    int n = activate_all(f, "work", jobs, 4);
    assert_int_equal(n, 3);
    complete_ok(f, jobs[0].key, "{\"result\": 1}");
    fixture_reopen(f);
    f->now += 10 * MINUTE - 1;
    tick(f);
    complete_ok(f, jobs[1].key, "{\"result\": 2}"); /* not yet */
    f->now += 1;
    tick(f);
    complete_job(f, jobs[2].key, NULL, BATON_ENOTFOUND); /* the body was interrupted */
    baton_jobs_free(jobs, n);
    complete_ok(f, one_job(f, "late"), NULL);
    assert_int_equal(count_jobs(f, "after"), 0);
    assert_int_equal(instance_state(f, pi), BATON_COMPLETED);
    assert_int_equal(count_records(f, pi, "PROCESS_INSTANCE", "ELEMENT_TERMINATED",
                                   "\"bpmnElementType\":\"MULTI_INSTANCE_BODY\""),
                     1);

    /* Completing first cancels the body's timer. */
    uint64_t pi2 = start_ok(f, "slow", "{\"items\": [1]}");
    complete_ok(f, one_job(f, "work"), "{\"result\": 1}");
    free(after_variables(f));
    assert_int_equal(count_records(f, pi2, "TIMER", "CANCELED", "\"tooLate\""), 1);
    f->now += 60 * MINUTE;
    tick(f);
    assert_int_equal(count_jobs(f, "late"), 0);
    fixture_free(f);
}

/* A boundary timer whose value is bad: an incident on the body, whose inner
 * instances go on; the body completes only once the incident is resolved. */
static void test_boundary_timer_incident_on_the_body(void **state) {
    (void)state;
    fixture *f = fixture_new(false);
    deploy_ok(
        f, "badtimer", "",
        AROUND(MI_TASK(
            "each", "work", "false", COLLECT, "",
            "")) "<bpmn:boundaryEvent id=\"tooLate\" attachedToRef=\"each\" "
                 "cancelActivity=\"false\">"
                 "<bpmn:timerEventDefinition><bpmn:timeDuration>= wait</bpmn:timeDuration>"
                 "</bpmn:timerEventDefinition></bpmn:boundaryEvent>" TASK(
                     "late", "late") "<bpmn:endEvent id=\"lateEnd\"/>" FLOW("f4", "tooLate", "late")
                     FLOW("f5", "late", "lateEnd"));
    uint64_t pi = start_ok(f, "badtimer", "{\"items\": [1, 2], \"wait\": 5}");
    baton_incident inc[2];
    assert_int_equal(baton_list_incidents(f->b, pi, inc, 2), 1);
    assert_string_equal(inc[0].element_id, "each");
    baton_job jobs[4];
    int n = activate_all(f, "work", jobs, 4);
    assert_int_equal(n, 2);
    complete_ok(f, jobs[0].key, "{\"result\": 1}");
    complete_ok(f, jobs[1].key, "{\"result\": 2}");
    baton_jobs_free(jobs, n);
    assert_int_equal(count_jobs(f, "after"), 0); /* the body waits for its incident */
    baton_error err;
    assert_int_equal(baton_set_variables(f->b, pi, "{\"wait\": \"PT1H\"}", false, &err), 0);
    assert_int_equal(baton_resolve_incident(f->b, inc[0].key, &err), 0);
    char *vars = after_variables(f);
    assert_contains(vars, "\"results\":[1,2]");
    free(vars);
    assert_int_equal(instance_state(f, pi), BATON_COMPLETED);
    assert_int_equal(count_records(f, pi, "TIMER", "CANCELED", "\"tooLate\""), 1);
    fixture_free(f);
}

static void test_error_from_inner_job_caught_on_the_body(void **state) {
    (void)state;
    fixture *f = fixture_new(false);
    deploy_ok(f, "boom", "<bpmn:error id=\"err\" errorCode=\"BOOM\"/>",
              AROUND(MI_TASK(
                  "each", "work", "false", COLLECT, "",
                  "")) "<bpmn:boundaryEvent id=\"caught\" attachedToRef=\"each\">"
                       "<bpmn:errorEventDefinition errorRef=\"err\"/></bpmn:boundaryEvent>" TASK(
                           "handle", "handle") "<bpmn:endEvent id=\"handled\"/>" FLOW("f4",
                                                                                      "caught",
                                                                                      "handle")
                           FLOW("f5", "handle", "handled"));
    uint64_t pi = start_ok(f, "boom", "{\"items\": [1, 2, 3]}");
    baton_job jobs[4];
    int n = activate_all(f, "work", jobs, 4);
    assert_int_equal(n, 3);
    complete_ok(f, jobs[0].key, "{\"result\": 1}");
    baton_error err;
    assert_int_equal(baton_throw_error(f->b, jobs[1].key, "BOOM", "no stock", &err), 0);
    complete_job(f, jobs[2].key, NULL, BATON_ENOTFOUND);
    baton_jobs_free(jobs, n);
    complete_ok(f, one_job(f, "handle"), NULL);
    assert_int_equal(count_jobs(f, "after"), 0);
    assert_int_equal(count_records(f, pi, "PROCESS_INSTANCE", "ELEMENT_TERMINATED",
                                   "\"bpmnElementType\":\"MULTI_INSTANCE_BODY\""),
                     1);
    assert_int_equal(count_records(f, pi, "PROCESS_INSTANCE", "ELEMENT_COMPLETED", "\"caught\""),
                     1);
    assert_int_equal(instance_state(f, pi), BATON_COMPLETED);
    fixture_free(f);
}

/* ---- compensation, cancel, restarts ------------------------------------------------------- */

/* The handler runs once per completed inner instance; one terminated by the
 * completion condition is not compensated. */
static void test_compensation_once_per_completed_inner_instance(void **state) {
    (void)state;
    fixture *f = fixture_new(false);
    deploy_ok(
        f, "undo", "",
        "<bpmn:startEvent id=\"start\"/>\n" MI_TASK(
            "each", "book", "false", COLLECT, UNTIL("= numberOfCompletedInstances = 2"),
            "") "<bpmn:boundaryEvent id=\"comp\" attachedToRef=\"each\">"
                "<bpmn:compensateEventDefinition/></bpmn:boundaryEvent>"
                "<bpmn:serviceTask id=\"cancel\" isForCompensation=\"true\">"
                "<bpmn:extensionElements><zeebe:taskDefinition type=\"cancel\"/>"
                "</bpmn:extensionElements></bpmn:serviceTask>"
                "<bpmn:association id=\"a1\" sourceRef=\"comp\" targetRef=\"cancel\"/>"
                "<bpmn:intermediateThrowEvent id=\"undoAll\"><bpmn:compensateEventDefinition/>"
                "</bpmn:intermediateThrowEvent>" TASK(
                    "after", "after") "<bpmn:endEvent id=\"end\"/>" FLOW("f1", "start", "each")
                    FLOW("f2", "each", "undoAll") FLOW("f3", "undoAll", "after")
                        FLOW("f4", "after", "end"));
    uint64_t pi = start_ok(f, "undo", "{\"items\": [1, 2, 3]}");
    baton_job jobs[4];
    int n = activate_all(f, "book", jobs, 4);
    assert_int_equal(n, 3);
    complete_ok(f, jobs[2].key, "{\"result\": 3}");
    complete_ok(f, jobs[0].key, "{\"result\": 1}");
    baton_jobs_free(jobs, n);
    /* Saga order: one handler at a time. */
    complete_ok(f, one_job(f, "cancel"), NULL);
    fixture_reopen(f);
    complete_ok(f, one_job(f, "cancel"), NULL);
    assert_int_equal(count_jobs(f, "cancel"), 0);
    free(after_variables(f));
    assert_int_equal(instance_state(f, pi), BATON_COMPLETED);
    assert_int_equal(count_records(f, pi, "PROCESS_INSTANCE", "ELEMENT_COMPLETED", "\"cancel\""),
                     2);
    fixture_free(f);
}

static void test_cancel_terminates_body_and_inner_instances(void **state) {
    (void)state;
    fixture *f = fixture_new(false);
    deploy_ok(f, "stopme", "", AROUND(MI_TASK("each", "work", "false", COLLECT, "", "")));
    uint64_t pi = start_ok(f, "stopme", "{\"items\": [1, 2, 3]}");
    baton_job jobs[4];
    int n = activate_all(f, "work", jobs, 4);
    assert_int_equal(n, 3);
    complete_ok(f, jobs[1].key, "{\"result\": 2}");
    baton_error err;
    assert_int_equal(baton_cancel_instance(f->b, pi, &err), 0);
    assert_int_equal(instance_state(f, pi), BATON_TERMINATED);
    complete_job(f, jobs[0].key, NULL, BATON_ENOTFOUND);
    complete_job(f, jobs[2].key, NULL, BATON_ENOTFOUND);
    baton_jobs_free(jobs, n);
    assert_int_equal(count_records(f, pi, "PROCESS_INSTANCE", "ELEMENT_TERMINATED", "\"each\""), 3);
    assert_int_equal(count_records(f, pi, "JOB", "CANCELED", "\"each\""), 2);
    assert_int_equal(count_jobs(f, "after"), 0);
    fixture_free(f);
}

static void test_restart_mid_way_parallel(void **state) {
    (void)state;
    fixture *f = fixture_new(false);
    deploy_ok(f, "par", "", AROUND(MI_TASK("each", "work", "false", COLLECT, "", "")));
    uint64_t pi = start_ok(f, "par", "{\"items\": [\"a\", \"b\", \"c\"]}");
    baton_job jobs[4];
    int n = activate_all(f, "work", jobs, 4);
    assert_int_equal(n, 3);
    complete_ok(f, jobs[1].key, "{\"result\": \"B\"}");
    fixture_reopen(f);
    complete_ok(f, jobs[2].key, "{\"result\": \"C\"}");
    fixture_reopen(f);
    assert_int_equal(count_jobs(f, "after"), 0);
    complete_ok(f, jobs[0].key, "{\"result\": \"A\"}");
    baton_jobs_free(jobs, n);
    char *vars = after_variables(f);
    assert_contains(vars, "\"results\":[\"A\",\"B\",\"C\"]");
    free(vars);
    assert_int_equal(instance_state(f, pi), BATON_COMPLETED);
    fixture_free(f);
}

/* A sequential body restored mid-way goes on with its next item, from the
 * collection as it was when the body activated. */
static void test_restart_mid_way_sequential(void **state) {
    (void)state;
    fixture *f = fixture_new(false);
    deploy_ok(f, "seq", "", AROUND(MI_TASK("each", "work", "true", COLLECT, "", "")));
    uint64_t pi = start_ok(f, "seq", "{\"items\": [\"a\", \"b\", \"c\"]}");
    complete_ok(f, one_job(f, "work"), "{\"result\": \"A\"}");
    baton_error err;
    assert_int_equal(baton_set_variables(f->b, pi, "{\"items\": [\"z\"]}", false, &err), 0);
    fixture_reopen(f);
    const char *expect[] = {"\"item\":\"b\"", "\"item\":\"c\""};
    const char *results[] = {"{\"result\": \"B\"}", "{\"result\": \"C\"}"};
    for (int i = 0; i < 2; i++) {
        baton_job jobs[2];
        int n = activate_all(f, "work", jobs, 2);
        assert_int_equal(n, 1);
        assert_contains(jobs[0].variables_json, expect[i]);
        uint64_t key = jobs[0].key;
        baton_jobs_free(jobs, n);
        fixture_reopen(f);
        complete_ok(f, key, results[i]);
    }
    char *vars = after_variables(f);
    assert_contains(vars, "\"results\":[\"A\",\"B\",\"C\"]");
    free(vars);
    assert_int_equal(instance_state(f, pi), BATON_COMPLETED);
    fixture_free(f);
}

/* ---- the engine directly ----------------------------------------------------------------- */

static int type_cb(void *ud, const eng_elem_info *el) {
    char *types = ud;
    strcat(types, el->type);
    strcat(types, " ");
    return 0;
}

/* What the REST API's element instance views show: the body as
 * MULTI_INSTANCE_BODY, the inner instances as their activity. */
static void test_element_instance_types(void **state) {
    (void)state;
    eng_engine *e = eng_new(NULL);
    char *xml =
        bpmn_doc("types", "",
                 AROUND(MI_TASK("each", "work", "false",
                                "inputCollection=\"= [1, 2]\" inputElement=\"item\"", "", "")));
    eng_resource r = {"types.bpmn", xml, strlen(xml)};
    eng_deployment d;
    bpmn_errors errs;
    assert_int_equal(eng_deploy(e, 1000, &r, 1, &d, &errs), 0);
    eng_start s = {.bpmn_process_id = "types", .version = -1};
    uint64_t pi;
    bt_error err;
    assert_int_equal(eng_instance_create(e, 2000, &s, &pi, &err), 0);
    char types[256] = "";
    assert_int_equal(eng_elems_each(e, pi, type_cb, types), 0);
    assert_string_equal(types, "PROCESS MULTI_INSTANCE_BODY SERVICE_TASK SERVICE_TASK ");
    eng_changes ch;
    eng_changes_take(e, &ch);
    eng_changes_done(e);
    eng_free(e);
    free(xml);
}

/* A version-1 instance state (written before multi-instance activities
 * existed: one service task waiting for its job, with a timer boundary
 * event) still decodes, and the instance goes on. */
static const char V1_XML[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<bpmn:definitions xmlns:bpmn=\"http://www.omg.org/spec/BPMN/20100524/MODEL\" "
    "xmlns:zeebe=\"http://camunda.org/schema/zeebe/1.0\" id=\"defs\" "
    "targetNamespace=\"http://baton.test\">\n"
    "<bpmn:process id=\"v1\" isExecutable=\"true\">\n"
    "<bpmn:startEvent id=\"start\"/>\n"
    "<bpmn:serviceTask id=\"work\"><bpmn:extensionElements><zeebe:taskDefinition "
    "type=\"work\"/></bpmn:extensionElements></bpmn:serviceTask>\n"
    "<bpmn:boundaryEvent id=\"late\" attachedToRef=\"work\"><bpmn:timerEventDefinition>"
    "<bpmn:timeDuration>PT1H</bpmn:timeDuration></bpmn:timerEventDefinition>"
    "</bpmn:boundaryEvent>\n"
    "<bpmn:endEvent id=\"end\"/><bpmn:endEvent id=\"lateEnd\"/>\n"
    "<bpmn:sequenceFlow id=\"f1\" sourceRef=\"start\" targetRef=\"work\"/>\n"
    "<bpmn:sequenceFlow id=\"f2\" sourceRef=\"work\" targetRef=\"end\"/>\n"
    "<bpmn:sequenceFlow id=\"f3\" sourceRef=\"late\" targetRef=\"lateEnd\"/>\n"
    "</bpmn:process>\n</bpmn:definitions>\n";

/* eng_changes_take's state_data for that instance, as the version-1 codec
 * wrote it: the root with variable n = 1, the task with its job (retries 3)
 * and its timer due at 3,602,000 ms. */
static const char V1_STATE[] =
    "\x42\x01\x01\x00\x02\x83\x80\x80\x80\x80\x80\x80\x04\x00\x01\x00\x01\x00\x00\x01\x84\x80\x80"
    "\x80\x80\x80\x80\x04\x01\x6e\x01\x31\x00\x00\x00\x00\x00\x00\x87\x80\x80\x80\x80\x80\x80\x04"
    "\x02\x01\x83\x80\x80\x80\x80\x80\x80\x04\x00\x00\x00\x00\x01\x88\x80\x80\x80\x80\x80\x80\x04"
    "\x05\x77\x6f\x72\x6b\x00\x03\x00\x00\x00\x00\x00\x00\x00\x00\x01\x89\x80\x80\x80\x80\x80\x80"
    "\x04\x03\xa0\xd9\xb7\x03\x00\x00";
#define V1_DEFINITION 2251799813685250ULL
#define V1_INSTANCE   2251799813685251ULL

static void test_version_1_state_still_decodes(void **state) {
    (void)state;
    eng_engine *e = eng_new(NULL);
    eng_restore_counters(e, 10, 100);
    eng_definition_row def = {V1_DEFINITION,     "v1", 1, "v1.bpmn", "sum", V1_XML, strlen(V1_XML),
                              V1_DEFINITION - 1, 1000};
    bt_error err;
    assert_int_equal(eng_restore_definition(e, &def, &err), 0);
    eng_instance_row row = {
        .key = V1_INSTANCE,
        .definition_key = V1_DEFINITION,
        .bpmn_process_id = "v1",
        .version = 1,
        .state = ENG_INSTANCE_ACTIVE,
        .start_ms = 2000,
        .state_data = (char *)V1_STATE,
        .state_len = sizeof V1_STATE - 1,
    };
    assert_int_equal(row.state_len, 100);
    assert_int_equal(eng_restore_instance(e, &row, &err), 0);
    feel_value *vars = eng_variables_visible(e, V1_INSTANCE);
    assert_non_null(vars);
    bt_buf json = BT_BUF_INIT;
    assert_int_equal(feel_value_to_json(vars, &json), 0);
    assert_string_equal(json.data, "{\"n\":1}");
    bt_buf_free(&json);
    feel_value_unref(vars);
    /* The timer was restored (its due time is the next thing due) ... */
    assert_int_equal(eng_tick(e, 3000), 3602000);
    /* ... and so was the job. */
    eng_job_view views[2];
    int count = 0;
    assert_int_equal(eng_jobs_activate(e, 3000, "work", "w", 1000, 2, NULL, 0, views, &count), 0);
    assert_int_equal(count, 1);
    assert_string_equal(views[0].element_id, "work");
    uint64_t job = views[0].key;
    eng_job_views_free(views, count);
    assert_int_equal(eng_job_complete(e, 3100, job, NULL, &err), 0);
    eng_instance_view view;
    assert_int_equal(eng_instance_get(e, V1_INSTANCE, &view), 0);
    assert_int_equal(view.state, ENG_INSTANCE_COMPLETED);

    /* An unknown version is refused, not guessed at. */
    char future[sizeof V1_STATE];
    memcpy(future, V1_STATE, sizeof V1_STATE);
    future[1] = 4;
    row.key = V1_INSTANCE + 100;
    row.state_data = future;
    assert_int_equal(eng_restore_instance(e, &row, &err), BT_EUNSUPPORTED);
    eng_changes ch;
    eng_changes_take(e, &ch);
    eng_changes_done(e);
    eng_free(e);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parallel_collects_in_item_order),
        cmocka_unit_test(test_sequential_one_after_another_with_mappings),
        cmocka_unit_test(test_empty_collection_completes_at_once),
        cmocka_unit_test(test_pass_through_inner_instances),
        cmocka_unit_test(test_non_list_collection_incident_then_resolve),
        cmocka_unit_test(test_completion_condition_parallel_terminates_the_rest),
        cmocka_unit_test(test_completion_condition_sequential_starts_no_more),
        cmocka_unit_test(test_completion_condition_incident_on_inner_instance),
        cmocka_unit_test(test_subprocess_over_100_items),
        cmocka_unit_test(test_interrupting_timer_boundary_on_the_body),
        cmocka_unit_test(test_boundary_timer_incident_on_the_body),
        cmocka_unit_test(test_error_from_inner_job_caught_on_the_body),
        cmocka_unit_test(test_compensation_once_per_completed_inner_instance),
        cmocka_unit_test(test_cancel_terminates_body_and_inner_instances),
        cmocka_unit_test(test_restart_mid_way_parallel),
        cmocka_unit_test(test_restart_mid_way_sequential),
        cmocka_unit_test(test_element_instance_types),
        cmocka_unit_test(test_version_1_state_still_decodes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
