/*
 * Engine behaviour, element by element and incident by incident, through the
 * embedding API over a real SQLite store. Time is the fixture's clock.
 */
#include "engine_fixture.h"

static const char *ONE_TASK =
    "<bpmn:startEvent id=\"start\"/>\n" TASK("task", "work") "<bpmn:endEvent id=\"end\"/>\n" FLOW(
        "f1", "start", "task") FLOW("f2", "task", "end");

static void test_one_task_completes_with_variables(void **state) {
    (void)state;
    fixture *f = fixture_new(false);
    deploy_ok(f, "one", "", ONE_TASK);
    uint64_t pi = start_ok(f, "one", "{\"amount\": 0.1}");
    assert_int_equal(instance_state(f, pi), BATON_ACTIVE);

    baton_job jobs[2];
    int n;
    baton_error err;
    assert_int_equal(baton_activate_jobs(f->b, "work", "w1", 1000, 2, jobs, &n, &err), 0);
    assert_int_equal(n, 1);
    assert_string_equal(jobs[0].element_id, "task");
    assert_int_equal(jobs[0].process_instance_key, pi);
    assert_int_equal(jobs[0].retries, 3);
    assert_non_null(strstr(jobs[0].variables_json, "\"amount\":0.1"));
    uint64_t job = jobs[0].key;
    baton_jobs_free(jobs, n);

    /* A second activation finds nothing: the job is taken. */
    assert_int_equal(baton_activate_jobs(f->b, "work", "w2", 1000, 2, jobs, &n, &err), 0);
    assert_int_equal(n, 0);

    complete_ok(f, job, "{\"result\": \"ok\", \"amount\": 0.3}");
    assert_int_equal(instance_state(f, pi), BATON_COMPLETED);
    /* Completing again is harmless: the job no longer exists. */
    assert_int_equal(baton_complete_job(f->b, job, NULL, &err), BATON_ENOTFOUND);
    fixture_free(f);
}

static void test_exclusive_gateway_conditions_default_and_incident(void **state) {
    (void)state;
    fixture *f = fixture_new(false);
    deploy_ok(
        f, "xor", "",
        "<bpmn:startEvent id=\"start\"/>\n"
        "<bpmn:exclusiveGateway id=\"gw\" default=\"toSmall\"/>\n" TASK("big", "big")
            TASK("small", "small") "<bpmn:endEvent id=\"end1\"/><bpmn:endEvent id=\"end2\"/>" FLOW(
                "f1", "start", "gw") COND_FLOW("toBig", "gw", "big", "=amount &gt; 100")
                FLOW("toSmall", "gw", "small") FLOW("f2", "big", "end1")
                    FLOW("f3", "small", "end2"));
    start_ok(f, "xor", "{\"amount\": 150}");
    start_ok(f, "xor", "{\"amount\": 50}");
    assert_int_equal(count_jobs(f, "big"), 1);
    assert_int_equal(count_jobs(f, "small"), 1);

    /* No default and no true condition: CONDITION_ERROR, fixed by variables. */
    deploy_ok(f, "xor2", "",
              "<bpmn:startEvent id=\"start\"/>\n"
              "<bpmn:exclusiveGateway id=\"gw\"/>\n" TASK(
                  "big", "big2") "<bpmn:endEvent id=\"end1\"/>" FLOW("f1", "start", "gw")
                  COND_FLOW("toBig", "gw", "big", "=amount &gt; 100") FLOW("f2", "big", "end1"));
    uint64_t pi = start_ok(f, "xor2", "{\"amount\": 5}");
    baton_incident inc[4];
    assert_int_equal(baton_list_incidents(f->b, pi, inc, 4), 1);
    assert_string_equal(inc[0].type, "CONDITION_ERROR");
    assert_string_equal(inc[0].element_id, "gw");
    baton_error err;
    assert_int_equal(baton_set_variables(f->b, pi, "{\"amount\": 500}", false, &err), 0);
    assert_int_equal(baton_resolve_incident(f->b, inc[0].key, &err), 0);
    assert_int_equal(baton_list_incidents(f->b, pi, inc, 4), 0);
    complete_ok(f, one_job(f, "big2"), NULL);
    assert_int_equal(instance_state(f, pi), BATON_COMPLETED);

    /* A condition that is not boolean is an incident too. */
    uint64_t pi2 = start_ok(f, "xor2", "{\"amount\": \"lots\"}");
    assert_int_equal(baton_list_incidents(f->b, pi2, inc, 4), 1);
    assert_string_equal(inc[0].type, "CONDITION_ERROR");
    fixture_free(f);
}

static void test_parallel_fork_and_join(void **state) {
    (void)state;
    fixture *f = fixture_new(false);
    deploy_ok(f, "par", "",
              "<bpmn:startEvent id=\"start\"/><bpmn:parallelGateway id=\"fork\"/>" TASK("a", "a")
                  TASK("b", "b") "<bpmn:parallelGateway id=\"join\"/>" TASK(
                      "after", "after") "<bpmn:endEvent id=\"end\"/>" FLOW("f0", "start", "fork")
                      FLOW("f1", "fork", "a") FLOW("f2", "fork", "b") FLOW("f3", "a", "join")
                          FLOW("f4", "b", "join") FLOW("f5", "join", "after")
                              FLOW("f6", "after", "end"));
    uint64_t pi = start_ok(f, "par", NULL);
    uint64_t a = one_job(f, "a"), b = one_job(f, "b");
    complete_ok(f, a, "{\"fromA\": 1}");
    /* The join waits for b. */
    assert_int_equal(count_jobs(f, "after"), 0);
    assert_int_equal(instance_state(f, pi), BATON_ACTIVE);
    /* The waiting token survives a restart. */
    fixture_reopen(f);
    complete_ok(f, b, "{\"fromB\": 2}");
    complete_ok(f, one_job(f, "after"), NULL);
    assert_int_equal(instance_state(f, pi), BATON_COMPLETED);
    fixture_free(f);
}

static void test_subprocess_scopes_and_mappings(void **state) {
    (void)state;
    fixture *f = fixture_new(false);
    deploy_ok(f, "subproc", "",
              "<bpmn:startEvent id=\"start\"/>"
              "<bpmn:subProcess id=\"sub\"><bpmn:extensionElements><zeebe:ioMapping>"
              "<zeebe:input source=\"=order.total * 2\" target=\"doubled\"/>"
              "<zeebe:output source=\"=inner\" target=\"fromSub\"/>"
              "</zeebe:ioMapping></bpmn:extensionElements>"
              "<bpmn:startEvent id=\"s2\"/>"
              "<bpmn:serviceTask id=\"t\"><bpmn:extensionElements>"
              "<zeebe:taskDefinition type=\"inner\" retries=\"5\"/>"
              "<zeebe:ioMapping><zeebe:output source=\"=res + doubled\" target=\"inner\"/>"
              "</zeebe:ioMapping></bpmn:extensionElements></bpmn:serviceTask>"
              "<bpmn:endEvent id=\"e2\"/>" FLOW("g1", "s2", "t")
                  FLOW("g2", "t", "e2") "</bpmn:subProcess>"
                                        "<bpmn:endEvent id=\"end\"/>" FLOW("f1", "start", "sub")
                                            FLOW("f2", "sub", "end"));
    uint64_t pi = start_ok(f, "subproc", "{\"order\": {\"total\": 21}}");
    baton_job jobs[2];
    int n;
    baton_error err;
    assert_int_equal(baton_activate_jobs(f->b, "inner", "w", 1000, 2, jobs, &n, &err), 0);
    assert_int_equal(n, 1);
    assert_int_equal(jobs[0].retries, 5);
    assert_non_null(strstr(jobs[0].variables_json, "\"doubled\":42"));
    uint64_t job = jobs[0].key;
    baton_jobs_free(jobs, n);
    complete_ok(f, job, "{\"res\": 1}");
    assert_int_equal(instance_state(f, pi), BATON_COMPLETED);
    fixture_free(f);
}

static void test_output_mapping_result_visible_to_next_task(void **state) {
    (void)state;
    fixture *f = fixture_new(false);
    deploy_ok(f, "out", "",
              "<bpmn:startEvent id=\"start\"/>"
              "<bpmn:serviceTask id=\"t1\"><bpmn:extensionElements>"
              "<zeebe:taskDefinition type=\"t1\"/><zeebe:ioMapping>"
              "<zeebe:output source=\"=response.id\" target=\"booking.id\"/>"
              "</zeebe:ioMapping></bpmn:extensionElements></bpmn:serviceTask>" TASK(
                  "t2", "t2") "<bpmn:endEvent id=\"end\"/>" FLOW("f1", "start", "t1")
                  FLOW("f2", "t1", "t2") FLOW("f3", "t2", "end"));
    start_ok(f, "out", "{\"booking\": {\"name\": \"trip\"}}");
    complete_ok(f, one_job(f, "t1"), "{\"response\": {\"id\": \"H-7\", \"noise\": true}}");
    baton_job jobs[2];
    int n;
    baton_error err;
    assert_int_equal(baton_activate_jobs(f->b, "t2", "w", 1000, 2, jobs, &n, &err), 0);
    assert_int_equal(n, 1);
    /* The nested target merged into the existing context; the job's own
     * variables stayed local to t1. */
    assert_non_null(
        strstr(jobs[0].variables_json, "\"booking\":{\"name\":\"trip\",\"id\":\"H-7\"}"));
    assert_null(strstr(jobs[0].variables_json, "response"));
    baton_jobs_free(jobs, n);
    fixture_free(f);
}

static const char *ERRORS = "<bpmn:error id=\"err1\" errorCode=\"BOOM\"/>";

static void test_error_boundary_exact_catch_all_and_unhandled(void **state) {
    (void)state;
    fixture *f = fixture_new(false);
    deploy_ok(
        f, "err", ERRORS,
        "<bpmn:startEvent id=\"start\"/>" TASK(
            "t", "risky") "<bpmn:boundaryEvent id=\"onBoom\" attachedToRef=\"t\">"
                          "<bpmn:errorEventDefinition errorRef=\"err1\"/></bpmn:boundaryEvent>"
                          "<bpmn:boundaryEvent id=\"onAny\" attachedToRef=\"t\">"
                          "<bpmn:errorEventDefinition/></bpmn:boundaryEvent>" TASK("boom", "boom")
                              TASK("any",
                                   "any") "<bpmn:endEvent id=\"end\"/><bpmn:endEvent id=\"e2\"/>"
                                          "<bpmn:endEvent id=\"e3\"/>" FLOW("f1", "start", "t")
                                              FLOW("f2", "t", "end") FLOW("f3", "onBoom", "boom")
                                                  FLOW("f4", "onAny", "any")
                                                      FLOW("f5", "boom", "e2")
                                                          FLOW("f6", "any", "e3"));
    baton_error err;
    start_ok(f, "err", NULL);
    assert_int_equal(baton_throw_error(f->b, one_job(f, "risky"), "BOOM", "bad", &err), 0);
    assert_int_equal(count_jobs(f, "boom"), 1);
    assert_int_equal(count_jobs(f, "any"), 0);
    start_ok(f, "err", NULL);
    assert_int_equal(baton_throw_error(f->b, one_job(f, "risky"), "OTHER", NULL, &err), 0);
    assert_int_equal(count_jobs(f, "any"), 1);

    /* No boundary at all: an UNHANDLED_ERROR_EVENT incident; resolving it
     * gives the job back to the workers. */
    deploy_ok(f, "bare", "", ONE_TASK);
    uint64_t pi = start_ok(f, "bare", NULL);
    assert_int_equal(baton_throw_error(f->b, one_job(f, "work"), "NOPE", "why", &err), 0);
    baton_incident inc[2];
    assert_int_equal(baton_list_incidents(f->b, pi, inc, 2), 1);
    assert_string_equal(inc[0].type, "UNHANDLED_ERROR_EVENT");
    assert_non_null(strstr(inc[0].message, "NOPE"));
    assert_int_equal(baton_resolve_incident(f->b, inc[0].key, &err), 0);
    complete_ok(f, one_job(f, "work"), NULL);
    assert_int_equal(instance_state(f, pi), BATON_COMPLETED);
    fixture_free(f);
}

static void test_error_end_event_caught_on_subprocess(void **state) {
    (void)state;
    fixture *f = fixture_new(false);
    deploy_ok(
        f, "suberr", ERRORS,
        "<bpmn:startEvent id=\"start\"/>"
        "<bpmn:subProcess id=\"sub\"><bpmn:startEvent id=\"s2\"/>"
        "<bpmn:parallelGateway id=\"fork\"/>" TASK(
            "long",
            "long") "<bpmn:endEvent id=\"fail\"><bpmn:errorEventDefinition errorRef=\"err1\"/>"
                    "</bpmn:endEvent><bpmn:endEvent id=\"e2\"/>" FLOW("g0", "s2", "fork")
                        FLOW("g1", "fork", "long") FLOW("g2", "fork", "fail")
                            FLOW("g3", "long",
                                 "e2") "</bpmn:subProcess>"
                                       "<bpmn:boundaryEvent id=\"caught\" attachedToRef=\"sub\">"
                                       "<bpmn:errorEventDefinition "
                                       "errorRef=\"err1\"/></bpmn:boundaryEvent>" TASK(
                                           "handle",
                                           "handle") "<bpmn:endEvent id=\"end\"/><bpmn:endEvent "
                                                     "id=\"end2\"/>" FLOW("f1", "start", "sub")
                                                         FLOW("f2", "sub", "end")
                                                             FLOW("f3", "caught", "handle")
                                                                 FLOW("f4", "handle", "end2"));
    uint64_t pi = start_ok(f, "suberr", NULL);
    /* The error ended the sub-process: its other branch's job is cancelled. */
    assert_int_equal(count_jobs(f, "long"), 0);
    complete_ok(f, one_job(f, "handle"), NULL);
    assert_int_equal(instance_state(f, pi), BATON_COMPLETED);
    fixture_free(f);
}

static const char *ESCALATIONS = "<bpmn:escalation id=\"esc1\" escalationCode=\"LATE\"/>"
                                 "<bpmn:escalation id=\"esc2\" escalationCode=\"OTHER\"/>";

/* A sub-process whose parallel branches are a long task and `thrower`
 * (an escalation throw or end event for LATE, then maybe more). */
#define ESC_SUB(thrower_and_flows)                                                                 \
    "<bpmn:startEvent id=\"start\"/>"                                                              \
    "<bpmn:subProcess id=\"sub\"><bpmn:startEvent id=\"s2\"/>"                                     \
    "<bpmn:parallelGateway id=\"fork\"/>" TASK("long", "long") "<bpmn:endEvent id=\"e2\"/>" FLOW(  \
        "g0", "s2", "fork") FLOW("g1", "fork", "long") FLOW("g2", "fork", "esc")                   \
        FLOW("g3", "long", "e2") thrower_and_flows                                                 \
        "</bpmn:subProcess><bpmn:endEvent id=\"end\"/>" FLOW("f1", "start", "sub")                 \
            FLOW("f2", "sub", "end")

static void test_escalation_boundary_interrupting_non_interrupting_uncaught(void **state) {
    (void)state;
    fixture *f = fixture_new(false);
    /* Non-interrupting: the boundary's path, the sub-process and the path
     * after the throw event all go on. A boundary for another code does
     * not catch. */
    deploy_ok(
        f, "escnon", ESCALATIONS,
        ESC_SUB("<bpmn:intermediateThrowEvent id=\"esc\"><bpmn:escalationEventDefinition "
                "escalationRef=\"esc1\"/></bpmn:intermediateThrowEvent>" TASK(
                    "after", "after") "<bpmn:endEvent id=\"e3\"/>" FLOW("g4", "esc", "after")
                    FLOW("g5", "after",
                         "e3")) "<bpmn:boundaryEvent id=\"other\" attachedToRef=\"sub\" "
                                "cancelActivity=\"false\">"
                                "<bpmn:escalationEventDefinition "
                                "escalationRef=\"esc2\"/></bpmn:boundaryEvent>"
                                "<bpmn:boundaryEvent id=\"notify\" attachedToRef=\"sub\" "
                                "cancelActivity=\"false\">"
                                "<bpmn:escalationEventDefinition "
                                "escalationRef=\"esc1\"/></bpmn:boundaryEvent>" TASK("notified",
                                                                                     "notified")
                                    TASK("wrong",
                                         "wrong") "<bpmn:endEvent id=\"end2\"/><bpmn:endEvent "
                                                  "id=\"end3\"/>" FLOW("f3", "notify", "notified")
                                                      FLOW("f4", "notified", "end2")
                                                          FLOW("f5", "other", "wrong")
                                                              FLOW("f6", "wrong", "end3"));
    uint64_t pi = start_ok(f, "escnon", NULL);
    assert_int_equal(count_jobs(f, "wrong"), 0);
    complete_ok(f, one_job(f, "notified"), NULL);
    complete_ok(f, one_job(f, "after"), NULL);
    assert_int_equal(instance_state(f, pi), BATON_ACTIVE); /* "long" still runs */
    complete_ok(f, one_job(f, "long"), NULL);
    assert_int_equal(instance_state(f, pi), BATON_COMPLETED);

    /* Interrupting, thrown by an end event, caught by a catch-all boundary:
     * the sub-process ends and its long task's job is cancelled. */
    deploy_ok(
        f, "escint", ESCALATIONS,
        ESC_SUB("<bpmn:endEvent id=\"esc\"><bpmn:escalationEventDefinition "
                "escalationRef=\"esc1\"/></bpmn:endEvent>") "<bpmn:boundaryEvent id=\"caught\" "
                                                            "attachedToRef=\"sub\">"
                                                            "<bpmn:escalationEventDefinition/></"
                                                            "bpmn:boundaryEvent>" TASK(
                                                                "handle",
                                                                "handle") "<bpmn:endEvent "
                                                                          "id=\"end2\"/>" FLOW(
                                                                              "f3", "caught",
                                                                              "handle")
                                                                              FLOW("f4", "handle",
                                                                                   "end2"));
    pi = start_ok(f, "escint", NULL);
    assert_int_equal(count_jobs(f, "long"), 0);
    complete_ok(f, one_job(f, "handle"), NULL);
    assert_int_equal(instance_state(f, pi), BATON_COMPLETED);

    /* Nobody catches: not an incident (unlike an error); the flow goes on. */
    deploy_ok(f, "escfree", ESCALATIONS,
              ESC_SUB("<bpmn:endEvent id=\"esc\"><bpmn:escalationEventDefinition "
                      "escalationRef=\"esc1\"/></bpmn:endEvent>"));
    pi = start_ok(f, "escfree", NULL);
    baton_incident inc[1];
    assert_int_equal(baton_list_incidents(f->b, pi, inc, 1), 0);
    complete_ok(f, one_job(f, "long"), NULL);
    assert_int_equal(instance_state(f, pi), BATON_COMPLETED);
    fixture_free(f);
}

/* Message throw and end events work as jobs (a worker sends the message),
 * with headers; a message event without a job type is rejected at deploy. */
static void test_message_throw_and_end_events_are_jobs(void **state) {
    (void)state;
    fixture *f = fixture_new(false);
    deploy_ok(f, "notify", "<bpmn:message id=\"m1\" name=\"tripBooked\"/>",
              "<bpmn:startEvent id=\"start\"/>"
              "<bpmn:intermediateThrowEvent id=\"tell\"><bpmn:extensionElements>"
              "<zeebe:taskDefinition type=\"send-mail\"/><zeebe:taskHeaders>"
              "<zeebe:header key=\"template\" value=\"booked\"/></zeebe:taskHeaders>"
              "</bpmn:extensionElements><bpmn:messageEventDefinition messageRef=\"m1\"/>"
              "</bpmn:intermediateThrowEvent>"
              "<bpmn:endEvent id=\"done\"><bpmn:extensionElements><zeebe:taskDefinition "
              "type=\"publish\"/></bpmn:extensionElements><bpmn:messageEventDefinition "
              "messageRef=\"m1\"/></bpmn:endEvent>" FLOW("f1", "start", "tell")
                  FLOW("f2", "tell", "done"));
    uint64_t pi = start_ok(f, "notify", "{\"trip\": 7}");
    assert_int_equal(count_jobs(f, "publish"), 0); /* not before the throw event's job */
    baton_job jobs[1];
    int n;
    baton_error err;
    assert_int_equal(baton_activate_jobs(f->b, "send-mail", "w", 1000, 1, jobs, &n, &err), 0);
    assert_int_equal(n, 1);
    assert_string_equal(jobs[0].element_id, "tell");
    assert_int_equal(jobs[0].n_headers, 1);
    assert_string_equal(jobs[0].header_keys[0], "template");
    assert_string_equal(jobs[0].header_values[0], "booked");
    assert_non_null(strstr(jobs[0].variables_json, "\"trip\":7"));
    uint64_t job = jobs[0].key;
    baton_jobs_free(jobs, n);
    complete_ok(f, job, "{\"mailed\": true}");
    assert_int_equal(instance_state(f, pi), BATON_ACTIVE); /* the end event's job waits */
    complete_ok(f, one_job(f, "publish"), NULL);
    assert_int_equal(instance_state(f, pi), BATON_COMPLETED);

    char *xml =
        bpmn_doc("nojob", "",
                 "<bpmn:startEvent id=\"start\"/><bpmn:endEvent id=\"done\">"
                 "<bpmn:messageEventDefinition/></bpmn:endEvent>" FLOW("f1", "start", "done"));
    baton_deployed d;
    assert_int_not_equal(baton_deploy(f->b, "nojob.bpmn", xml, strlen(xml), &d, &err), 0);
    assert_string_equal(err.element_id, "done");
    assert_non_null(strstr(err.message, "missing job type: a message 'endEvent'"));
    free(xml);
    fixture_free(f);
}

static void test_fail_backoff_retries_incident_resolve(void **state) {
    (void)state;
    fixture *f = fixture_new(false);
    deploy_ok(f, "one", "", ONE_TASK);
    uint64_t pi = start_ok(f, "one", NULL);
    baton_error err;
    uint64_t job = one_job(f, "work");
    assert_int_equal(baton_fail_job(f->b, job, 2, "timeout calling hotel", 5000, &err), 0);
    /* During the back-off the job is not activatable, even after a restart. */
    fixture_reopen(f);
    baton_tick(f->b, &err);
    assert_int_equal(count_jobs(f, "work"), 0);
    f->now += 5000;
    baton_tick(f->b, &err);
    job = one_job(f, "work");
    assert_int_equal(baton_fail_job(f->b, job, 0, "hotel is down", 0, &err), 0);
    baton_incident inc[2];
    assert_int_equal(baton_list_incidents(f->b, pi, inc, 2), 1);
    assert_string_equal(inc[0].type, "JOB_NO_RETRIES");
    assert_string_equal(inc[0].message, "hotel is down");
    assert_int_equal(inc[0].job_key, job);
    baton_instance info;
    assert_int_equal(baton_get_instance(f->b, pi, &info), 0);
    assert_true(info.has_incident);
    /* Resolving without retries is refused, and changes nothing. */
    assert_int_equal(baton_resolve_incident(f->b, inc[0].key, &err), BATON_ECONFLICT);
    assert_int_equal(baton_list_incidents(f->b, pi, inc, 2), 1);
    assert_int_equal(baton_update_job_retries(f->b, job, 1, &err), 0);
    assert_int_equal(baton_resolve_incident(f->b, inc[0].key, &err), 0);
    complete_ok(f, one_job(f, "work"), NULL);
    assert_int_equal(instance_state(f, pi), BATON_COMPLETED);
    fixture_free(f);
}

static void test_job_timeout_returns_job_to_pool(void **state) {
    (void)state;
    fixture *f = fixture_new(false);
    deploy_ok(f, "one", "", ONE_TASK);
    uint64_t pi = start_ok(f, "one", NULL);
    baton_job jobs[2];
    int n;
    baton_error err;
    assert_int_equal(baton_activate_jobs(f->b, "work", "slow", 10000, 2, jobs, &n, &err), 0);
    uint64_t key = jobs[0].key;
    baton_jobs_free(jobs, n);
    f->now += 9999;
    baton_tick(f->b, &err);
    assert_int_equal(baton_activate_jobs(f->b, "work", "other", 10000, 2, jobs, &n, &err), 0);
    assert_int_equal(n, 0);
    f->now += 1;
    baton_tick(f->b, &err);
    assert_int_equal(baton_activate_jobs(f->b, "work", "other", 10000, 2, jobs, &n, &err), 0);
    assert_int_equal(n, 1);
    assert_int_equal(jobs[0].key, key); /* same key: the idempotency key holds */
    baton_jobs_free(jobs, n);
    complete_ok(f, key, NULL);
    assert_int_equal(instance_state(f, pi), BATON_COMPLETED);
    fixture_free(f);
}

static void test_io_mapping_and_extract_value_incidents(void **state) {
    (void)state;
    fixture *f = fixture_new(false);
    deploy_ok(f, "io", "",
              "<bpmn:startEvent id=\"start\"/>"
              "<bpmn:serviceTask id=\"t\"><bpmn:extensionElements>"
              "<zeebe:taskDefinition type=\"=kind\"/><zeebe:ioMapping>"
              "<zeebe:input source=\"=customer.name\" target=\"name\"/>"
              "</zeebe:ioMapping></bpmn:extensionElements></bpmn:serviceTask>"
              "<bpmn:endEvent id=\"end\"/>" FLOW("f1", "start", "t") FLOW("f2", "t", "end"));
    baton_error err;
    baton_incident inc[2];
    uint64_t pi = start_ok(f, "io", NULL);
    assert_int_equal(baton_list_incidents(f->b, pi, inc, 2), 1);
    assert_string_equal(inc[0].type, "IO_MAPPING_ERROR");
    assert_non_null(strstr(inc[0].message, "customer.name"));
    assert_int_equal(
        baton_set_variables(f->b, pi, "{\"customer\": {\"name\": \"Ada\"}}", false, &err), 0);
    assert_int_equal(baton_resolve_incident(f->b, inc[0].key, &err), 0);
    /* Now the job type expression fails: EXTRACT_VALUE_ERROR. */
    assert_int_equal(baton_list_incidents(f->b, pi, inc, 2), 1);
    assert_string_equal(inc[0].type, "EXTRACT_VALUE_ERROR");
    assert_int_equal(baton_set_variables(f->b, pi, "{\"kind\": \"dynamic\"}", false, &err), 0);
    assert_int_equal(baton_resolve_incident(f->b, inc[0].key, &err), 0);
    baton_job jobs[2];
    int n;
    assert_int_equal(baton_activate_jobs(f->b, "dynamic", "w", 1000, 2, jobs, &n, &err), 0);
    assert_int_equal(n, 1);
    assert_non_null(strstr(jobs[0].variables_json, "\"name\":\"Ada\""));
    uint64_t job = jobs[0].key;
    baton_jobs_free(jobs, n);
    complete_ok(f, job, NULL);
    assert_int_equal(instance_state(f, pi), BATON_COMPLETED);
    fixture_free(f);
}

/* A mapping source without '=' is a static string (Zeebe 8, and how
 * connector templates write their inputs); with '=' it is FEEL. */
static void test_static_and_feel_input_mappings(void **state) {
    (void)state;
    fixture *f = fixture_new(false);
    deploy_ok(f, "inputs", "",
              "<bpmn:startEvent id=\"start\"/>"
              "<bpmn:serviceTask id=\"t\"><bpmn:extensionElements>"
              "<zeebe:taskDefinition type=\"call\"/><zeebe:ioMapping>"
              "<zeebe:input source=\"POST\" target=\"method\"/>"
              "<zeebe:input source=\"say &quot;hi&quot; \\o/\" target=\"greeting\"/>"
              "<zeebe:input source=\"=base + 1\" target=\"computed\"/>"
              "</zeebe:ioMapping></bpmn:extensionElements></bpmn:serviceTask>"
              "<bpmn:endEvent id=\"end\"/>" FLOW("f1", "start", "t") FLOW("f2", "t", "end"));
    start_ok(f, "inputs", "{\"base\": 41}");
    baton_job jobs[2];
    int n;
    baton_error err;
    assert_int_equal(baton_activate_jobs(f->b, "call", "w", 1000, 2, jobs, &n, &err), 0);
    assert_int_equal(n, 1);
    assert_non_null(strstr(jobs[0].variables_json, "\"method\":\"POST\""));
    assert_non_null(strstr(jobs[0].variables_json, "\"greeting\":\"say \\\"hi\\\" \\\\o/\""));
    assert_non_null(strstr(jobs[0].variables_json, "\"computed\":42"));
    baton_jobs_free(jobs, n);
    fixture_free(f);
}

/* A loop through a gateway and an event never waits: the engine parks it
 * as an incident after ENG_MAX_STEPS steps instead of spinning forever;
 * once the condition is fixed, resolving runs the parked step again. */
static void test_loop_without_wait_state_becomes_incident(void **state) {
    (void)state;
    fixture *f = fixture_new(false);
    deploy_ok(f, "spin", "",
              "<bpmn:startEvent id=\"start\"/><bpmn:exclusiveGateway id=\"gw\" default=\"out\"/>"
              "<bpmn:intermediateThrowEvent id=\"again\"/><bpmn:endEvent id=\"end\"/>" FLOW(
                  "f1", "start", "gw") COND_FLOW("back", "gw", "again", "=spin")
                  FLOW("f2", "again", "gw") FLOW("out", "gw", "end"));
    uint64_t pi = start_ok(f, "spin", "{\"spin\": true}");
    baton_incident inc[2];
    assert_int_equal(baton_list_incidents(f->b, pi, inc, 2), 1);
    assert_string_equal(inc[0].type, "UNKNOWN");
    assert_non_null(strstr(inc[0].message, "wait state"));
    assert_int_equal(instance_state(f, pi), BATON_ACTIVE);
    fixture_reopen(f); /* the parked step survives a restart */
    baton_error err;
    assert_int_equal(baton_set_variables(f->b, pi, "{\"spin\": false}", false, &err), 0);
    assert_int_equal(baton_resolve_incident(f->b, inc[0].key, &err), 0);
    assert_int_equal(instance_state(f, pi), BATON_COMPLETED);
    fixture_free(f);
}

/* Undefined and manual tasks pass the token on; a user task is a job of
 * type io.camunda.zeebe:userTask whose headers carry its assignment. */
static void test_plain_manual_and_user_tasks(void **state) {
    (void)state;
    fixture *f = fixture_new(false);
    deploy_ok(f, "tasks", "",
              "<bpmn:startEvent id=\"start\"/><bpmn:task id=\"plain\"/>"
              "<bpmn:manualTask id=\"byHand\"/>"
              "<bpmn:userTask id=\"approve\"><bpmn:extensionElements>"
              "<zeebe:assignmentDefinition assignee=\"ada\" candidateGroups=\"ops\"/>"
              "<zeebe:formDefinition formKey=\"approve-form\"/>"
              "</bpmn:extensionElements></bpmn:userTask><bpmn:endEvent id=\"end\"/>" FLOW(
                  "f1", "start", "plain") FLOW("f2", "plain", "byHand")
                  FLOW("f3", "byHand", "approve") FLOW("f4", "approve", "end"));
    uint64_t pi = start_ok(f, "tasks", NULL);
    baton_job jobs[2];
    int n;
    baton_error err;
    assert_int_equal(
        baton_activate_jobs(f->b, "io.camunda.zeebe:userTask", "tasklist", 1000, 2, jobs, &n, &err),
        0);
    assert_int_equal(n, 1);
    assert_string_equal(jobs[0].element_id, "approve");
    int found = 0;
    for (int h = 0; h < jobs[0].n_headers; h++) {
        if (!strcmp(jobs[0].header_keys[h], "io.camunda.zeebe:assignee"))
            found += !strcmp(jobs[0].header_values[h], "ada");
        if (!strcmp(jobs[0].header_keys[h], "io.camunda.zeebe:candidateGroups"))
            found += !strcmp(jobs[0].header_values[h], "ops");
        if (!strcmp(jobs[0].header_keys[h], "io.camunda.zeebe:formKey"))
            found += !strcmp(jobs[0].header_values[h], "approve-form");
    }
    assert_int_equal(found, 3);
    uint64_t job = jobs[0].key;
    baton_jobs_free(jobs, n);
    complete_ok(f, job, "{\"approved\": true}");
    assert_int_equal(instance_state(f, pi), BATON_COMPLETED);
    fixture_free(f);
}

/* A link throw continues at the link catch event of the same name. */
static void test_link_events(void **state) {
    (void)state;
    fixture *f = fixture_new(false);
    deploy_ok(f, "links", "",
              "<bpmn:startEvent id=\"start\"/>"
              "<bpmn:intermediateThrowEvent id=\"goTo\"><bpmn:linkEventDefinition "
              "name=\"page2\"/></bpmn:intermediateThrowEvent>"
              "<bpmn:intermediateCatchEvent id=\"from\"><bpmn:linkEventDefinition "
              "name=\"page2\"/></bpmn:intermediateCatchEvent>" TASK(
                  "t", "after-link") "<bpmn:endEvent id=\"end\"/>" FLOW("f1", "start", "goTo")
                  FLOW("f2", "from", "t") FLOW("f3", "t", "end"));
    uint64_t pi = start_ok(f, "links", NULL);
    complete_ok(f, one_job(f, "after-link"), NULL);
    assert_int_equal(instance_state(f, pi), BATON_COMPLETED);

    /* A throw whose name has no catch is refused at deploy. */
    char *xml =
        bpmn_doc("nolink", "",
                 "<bpmn:startEvent id=\"start\"/>"
                 "<bpmn:intermediateThrowEvent id=\"goTo\"><bpmn:linkEventDefinition "
                 "name=\"nowhere\"/></bpmn:intermediateThrowEvent>" FLOW("f1", "start", "goTo"));
    baton_error err;
    assert_int_equal(baton_deploy(f->b, "nolink.bpmn", xml, strlen(xml), NULL, &err), BATON_EINVAL);
    assert_string_equal(err.element_id, "goTo");
    assert_non_null(strstr(err.message, "nowhere"));
    free(xml);
    fixture_free(f);
}

/* Inclusive gateway: the fork takes every flow whose condition holds (else
 * the default); the join waits only for the branches that can still come. */
static const char *INCLUSIVE =
    "<bpmn:startEvent id=\"start\"/><bpmn:inclusiveGateway id=\"fork\" default=\"toC\"/>" TASK(
        "a", "a") TASK("b", "b") TASK("c", "c")
        TASK("side", "side") "<bpmn:inclusiveGateway id=\"join\"/>" TASK(
            "after",
            "after") "<bpmn:endEvent id=\"end\"/><bpmn:endEvent id=\"sideEnd\"/>" FLOW("f0",
                                                                                       "start",
                                                                                       "fork")
            COND_FLOW("toA", "fork", "a", "=x &gt; 0") COND_FLOW("toB", "fork", "b", "=y &gt; 0")
                COND_FLOW("toSide", "fork", "side", "=z &gt; 0") FLOW("toC", "fork", "c")
                    FLOW("fa", "a", "join") FLOW("fb", "b", "join") FLOW("fc", "c", "join")
                        FLOW("fs", "side", "sideEnd") FLOW("f9", "join", "after")
                            FLOW("f10", "after", "end");

static void test_inclusive_gateway_fork_and_join(void **state) {
    (void)state;
    fixture *f = fixture_new(false);
    deploy_ok(f, "incl", "", INCLUSIVE);
    /* Two branches: the join waits for both. */
    uint64_t two = start_ok(f, "incl", "{\"x\": 1, \"y\": 1, \"z\": 0}");
    assert_int_equal(count_jobs(f, "c"), 0);
    complete_ok(f, one_job(f, "a"), NULL);
    assert_int_equal(count_jobs(f, "after"), 0);
    complete_ok(f, one_job(f, "b"), NULL);
    complete_ok(f, one_job(f, "after"), NULL);
    assert_int_equal(instance_state(f, two), BATON_COMPLETED);

    /* One branch plus one that ends elsewhere: the join does not wait for it. */
    uint64_t side = start_ok(f, "incl", "{\"x\": 1, \"y\": 0, \"z\": 1}");
    complete_ok(f, one_job(f, "a"), NULL);
    complete_ok(f, one_job(f, "after"), NULL);
    assert_int_equal(instance_state(f, side), BATON_ACTIVE); /* the side branch is still on */
    complete_ok(f, one_job(f, "side"), NULL);
    assert_int_equal(instance_state(f, side), BATON_COMPLETED);

    /* Nothing true: the default flow. */
    uint64_t none = start_ok(f, "incl", "{\"x\": 0, \"y\": 0, \"z\": 0}");
    complete_ok(f, one_job(f, "c"), NULL);
    fixture_reopen(f);
    complete_ok(f, one_job(f, "after"), NULL);
    assert_int_equal(instance_state(f, none), BATON_COMPLETED);
    fixture_free(f);
}

static void test_terminate_end_event_and_cancel(void **state) {
    (void)state;
    fixture *f = fixture_new(false);
    deploy_ok(
        f, "term", "",
        "<bpmn:startEvent id=\"start\"/><bpmn:parallelGateway id=\"fork\"/>" TASK("a", "a")
            TASK("b", "b") "<bpmn:endEvent id=\"stop\"><bpmn:terminateEventDefinition/>"
                           "</bpmn:endEvent><bpmn:endEvent id=\"end\"/>" FLOW("f0", "start", "fork")
                               FLOW("f1", "fork", "a") FLOW("f2", "fork", "b")
                                   FLOW("f3", "a", "stop") FLOW("f4", "b", "end"));
    uint64_t pi = start_ok(f, "term", NULL);
    uint64_t a = one_job(f, "a");
    complete_ok(f, a, NULL);
    assert_int_equal(instance_state(f, pi), BATON_COMPLETED);
    assert_int_equal(count_jobs(f, "b"), 0);

    uint64_t pi2 = start_ok(f, "term", NULL);
    baton_error err;
    uint64_t b = one_job(f, "b");
    assert_int_equal(baton_cancel_instance(f->b, pi2, &err), 0);
    assert_int_equal(instance_state(f, pi2), BATON_TERMINATED);
    assert_int_equal(baton_complete_job(f->b, b, NULL, &err), BATON_ENOTFOUND);
    assert_int_equal(baton_cancel_instance(f->b, pi2, &err), BATON_ENOTFOUND);

    /* Inside a sub-process a terminate end event ends only the sub-process,
     * which then completes and leaves by its outgoing flow. */
    deploy_ok(
        f, "subterm", "",
        "<bpmn:startEvent id=\"start\"/><bpmn:parallelGateway id=\"fork\"/>"
        "<bpmn:subProcess id=\"sub\"><bpmn:startEvent id=\"s2\"/>"
        "<bpmn:parallelGateway id=\"fork2\"/>" TASK(
            "inner",
            "inner") "<bpmn:endEvent id=\"stop\"><bpmn:terminateEventDefinition/></bpmn:endEvent>"
                     "<bpmn:endEvent id=\"e2\"/>" FLOW("g0", "s2", "fork2")
                         FLOW("g1", "fork2", "inner") FLOW("g2", "fork2", "stop")
                             FLOW("g3", "inner", "e2") "</bpmn:subProcess>" TASK("after", "after")
                                 TASK("outer",
                                      "outer") "<bpmn:endEvent id=\"end1\"/><bpmn:endEvent "
                                               "id=\"end2\"/>" FLOW("f0", "start", "fork")
                                                   FLOW("f1", "fork", "sub")
                                                       FLOW("f2", "fork", "outer")
                                                           FLOW("f3", "sub", "after")
                                                               FLOW("f4", "after", "end1")
                                                                   FLOW("f5", "outer", "end2"));
    uint64_t pi3 = start_ok(f, "subterm", NULL);
    assert_int_equal(count_jobs(f, "inner"), 0);
    complete_ok(f, one_job(f, "after"), NULL);
    assert_int_equal(instance_state(f, pi3), BATON_ACTIVE); /* "outer" is not terminated */
    complete_ok(f, one_job(f, "outer"), NULL);
    assert_int_equal(instance_state(f, pi3), BATON_COMPLETED);
    fixture_free(f);
}

static void test_versions_and_business_id(void **state) {
    (void)state;
    fixture *f = fixture_new(false);
    char *v1 = bpmn_doc("ver", "", ONE_TASK);
    baton_deployed d1, d2, d3;
    baton_error err;
    assert_int_equal(baton_deploy(f->b, "v.bpmn", v1, strlen(v1), &d1, &err), 0);
    assert_int_equal(baton_deploy(f->b, "v.bpmn", v1, strlen(v1), &d2, &err), 0);
    assert_int_equal(d1.version, 1);
    assert_int_equal(d2.version, 1);
    assert_false(d2.is_new);
    assert_int_equal(d1.definition_key, d2.definition_key);
    uint64_t old = start_ok(f, "ver", NULL);
    char *v2 =
        bpmn_doc("ver", "",
                 "<bpmn:startEvent id=\"start\"/>" TASK(
                     "task", "work-v2") "<bpmn:endEvent id=\"end\"/>" FLOW("f1", "start", "task")
                     FLOW("f2", "task", "end"));
    assert_int_equal(baton_deploy(f->b, "v.bpmn", v2, strlen(v2), &d3, &err), 0);
    assert_int_equal(d3.version, 2);
    assert_true(d3.is_new);
    uint64_t young = start_ok(f, "ver", NULL);
    baton_instance info;
    assert_int_equal(baton_get_instance(f->b, old, &info), 0);
    assert_int_equal(info.version, 1);
    assert_int_equal(baton_get_instance(f->b, young, &info), 0);
    assert_int_equal(info.version, 2);
    /* The running instance stays on version 1, across a restart too. */
    fixture_reopen(f);
    complete_ok(f, one_job(f, "work"), NULL);
    complete_ok(f, one_job(f, "work-v2"), NULL);
    assert_int_equal(instance_state(f, old), BATON_COMPLETED);
    assert_int_equal(instance_state(f, young), BATON_COMPLETED);

    /* Business ids: unique among active instances of a process. */
    uint64_t k1, k2;
    assert_int_equal(baton_create_instance(f->b, "ver", NULL, "trip-1", &k1, &err), 0);
    assert_int_equal(baton_create_instance(f->b, "ver", NULL, "trip-1", &k2, &err),
                     BATON_ECONFLICT);
    fixture_reopen(f);
    assert_int_equal(baton_create_instance(f->b, "ver", NULL, "trip-1", &k2, &err),
                     BATON_ECONFLICT);
    complete_ok(f, one_job(f, "work-v2"), NULL);
    assert_int_equal(baton_create_instance(f->b, "ver", NULL, "trip-1", &k2, &err), 0);
    assert_int_not_equal(k1, k2);
    assert_int_equal(baton_create_instance(f->b, "nope", NULL, NULL, &k2, &err), BATON_ENOTFOUND);
    free(v1);
    free(v2);
    fixture_free(f);
}

static void test_bad_model_rejected_whole(void **state) {
    (void)state;
    fixture *f = fixture_new(false);
    char *xml = bpmn_doc("bad", "",
                         "<bpmn:startEvent id=\"start\"/>"
                         "<bpmn:serviceTask id=\"noType\"/>"
                         "<bpmn:endEvent id=\"end\"/>" FLOW("f1", "start", "noType")
                             FLOW("f2", "noType", "end"));
    baton_error err;
    baton_deployed d;
    assert_int_equal(baton_deploy(f->b, "bad.bpmn", xml, strlen(xml), &d, &err), BATON_EINVAL);
    assert_string_equal(err.element_id, "noType");
    assert_true(err.line > 0);
    uint64_t k;
    assert_int_equal(baton_create_instance(f->b, "bad", NULL, NULL, &k, &err), BATON_ENOTFOUND);
    free(xml);
    fixture_free(f);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_task_completes_with_variables),
        cmocka_unit_test(test_exclusive_gateway_conditions_default_and_incident),
        cmocka_unit_test(test_parallel_fork_and_join),
        cmocka_unit_test(test_subprocess_scopes_and_mappings),
        cmocka_unit_test(test_output_mapping_result_visible_to_next_task),
        cmocka_unit_test(test_error_boundary_exact_catch_all_and_unhandled),
        cmocka_unit_test(test_error_end_event_caught_on_subprocess),
        cmocka_unit_test(test_escalation_boundary_interrupting_non_interrupting_uncaught),
        cmocka_unit_test(test_message_throw_and_end_events_are_jobs),
        cmocka_unit_test(test_fail_backoff_retries_incident_resolve),
        cmocka_unit_test(test_job_timeout_returns_job_to_pool),
        cmocka_unit_test(test_io_mapping_and_extract_value_incidents),
        cmocka_unit_test(test_static_and_feel_input_mappings),
        cmocka_unit_test(test_loop_without_wait_state_becomes_incident),
        cmocka_unit_test(test_plain_manual_and_user_tasks),
        cmocka_unit_test(test_link_events),
        cmocka_unit_test(test_inclusive_gateway_fork_and_join),
        cmocka_unit_test(test_terminate_end_event_and_cancel),
        cmocka_unit_test(test_versions_and_business_id),
        cmocka_unit_test(test_bad_model_rejected_whole),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
