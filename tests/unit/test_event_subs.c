/*
 * Event sub-processes through the embedding API, over a real SQLite file,
 * with the fixture's clock: error, escalation, timer and message start
 * events, interrupting and not; precedence over the scope's boundary
 * events; compensation of the parent scope from inside an event
 * sub-process (the saga's error handler); an interrupted scope takes no
 * other event; durability of the waiting timers and subscriptions.
 */
#include "engine_fixture.h"

#define MINUTE 60000LL

#define MESSAGE(id, name, key)                                                                     \
    "<bpmn:message id=\"" id "\" name=\"" name "\"><bpmn:extensionElements>"                       \
    "<zeebe:subscription correlationKey=\"" key "\"/></bpmn:extensionElements></bpmn:message>\n"

/* An event sub-process `id` whose start event (with `definition`, and
 * isInterrupting=`interrupting`) leads to a service task of type `type`. */
#define EVENT_SUB(id, interrupting, definition, type)                                              \
    "<bpmn:subProcess id=\"" id "\" triggeredByEvent=\"true\">"                                    \
    "<bpmn:startEvent id=\"" id "-start\" isInterrupting=\"" interrupting "\">" definition         \
    "</bpmn:startEvent>" TASK(id "-task", type) "<bpmn:endEvent id=\"" id "-end\"/>" FLOW(         \
        id "-f1", id "-start", id "-task")                                                         \
        FLOW(id "-f2", id "-task", id "-end") "</bpmn:subProcess>"

/* start → work → end, the main path of most tests */
#define MAIN_PATH(type)                                                                            \
    "<bpmn:startEvent id=\"start\"/>" TASK("work", type) "<bpmn:endEvent id=\"end\"/>" FLOW(       \
        "m1", "start", "work") FLOW("m2", "work", "end")

static void test_error_event_sub_process_interrupts(void **state) {
    (void)state;
    fixture *f = fixture_new(false);
    deploy_ok(f, "p", "<bpmn:error id=\"err\" errorCode=\"BOOM\"/>",
              MAIN_PATH("work") EVENT_SUB(
                  "on-error", "true", "<bpmn:errorEventDefinition errorRef=\"err\"/>", "repair"));
    uint64_t pi = start_ok(f, "p", NULL);
    throw_ok(f, one_job(f, "work"), "BOOM");
    assert_int_equal(count_jobs(f, "work"), 0);
    /* The code is a variable of the event sub-process. */
    baton_job jobs[2];
    int n = 0;
    baton_error err;
    assert_int_equal(baton_activate_jobs(f->b, "repair", "w", MINUTE, 2, jobs, &n, &err), 0);
    assert_int_equal(n, 1);
    assert_non_null(strstr(jobs[0].variables_json, "\"errorCode\":\"BOOM\""));
    complete_ok(f, jobs[0].key, NULL);
    baton_jobs_free(jobs, n);
    assert_int_equal(instance_state(f, pi), BATON_COMPLETED);

    /* Another code: not caught, an incident. */
    uint64_t other = start_ok(f, "p", NULL);
    throw_ok(f, one_job(f, "work"), "OTHER");
    baton_incident inc[2];
    assert_int_equal(baton_list_incidents(f->b, other, inc, 2), 1);
    assert_string_equal(inc[0].type, "UNHANDLED_ERROR_EVENT");
    fixture_free(f);
}

/* Inside a sub-process, the sub-process's own event sub-process catches
 * before the sub-process's boundary event; a code it does not catch goes on
 * to the boundary. */
static void test_event_sub_process_before_boundary(void **state) {
    (void)state;
    fixture *f = fixture_new(false);
    deploy_ok(f, "p",
              "<bpmn:error id=\"a\" errorCode=\"A\"/><bpmn:error id=\"b\" errorCode=\"B\"/>",
              "<bpmn:startEvent id=\"start\"/>"
              "<bpmn:subProcess id=\"sub\"><bpmn:startEvent id=\"s0\"/>" TASK(
                  "work", "work") "<bpmn:endEvent id=\"s9\"/>" FLOW("s1", "s0", "work")
                  FLOW("s2", "work", "s9")
                      EVENT_SUB("inner", "true", "<bpmn:errorEventDefinition errorRef=\"a\"/>",
                                "inner") "</bpmn:subProcess>"
                                         "<bpmn:boundaryEvent id=\"outer\" "
                                         "attachedToRef=\"sub\"><bpmn:errorEventDefinition "
                                         "errorRef=\"b\"/></bpmn:boundaryEvent>" TASK(
                                             "outer-task",
                                             "outer") "<bpmn:endEvent id=\"e1\"/><bpmn:endEvent "
                                                      "id=\"e2\"/>" FLOW("f1", "start", "sub")
                                                          FLOW("f2", "sub", "e1")
                                                              FLOW("f3", "outer", "outer-task")
                                                                  FLOW("f4", "outer-task", "e2"));
    uint64_t a = start_ok(f, "p", NULL);
    throw_ok(f, one_job(f, "work"), "A");
    assert_int_equal(count_jobs(f, "inner"), 1);
    assert_int_equal(count_jobs(f, "outer"), 0);
    complete_ok(f, one_job(f, "inner"), NULL);
    assert_int_equal(instance_state(f, a), BATON_COMPLETED); /* the sub-process completed */

    uint64_t b = start_ok(f, "p", NULL);
    throw_ok(f, one_job(f, "work"), "B");
    assert_int_equal(count_jobs(f, "inner"), 0);
    complete_ok(f, one_job(f, "outer"), NULL);
    assert_int_equal(instance_state(f, b), BATON_COMPLETED);
    fixture_free(f);
}

/* "Remind every 10 minutes" beside the work; the reminders' timer goes when
 * the process's work is done. */
static void test_timer_non_interrupting_cycle(void **state) {
    (void)state;
    fixture *f = fixture_new(false);
    deploy_ok(f, "p", "",
              MAIN_PATH("work") EVENT_SUB("remind", "false",
                                          "<bpmn:timerEventDefinition><bpmn:timeCycle>R/PT10M"
                                          "</bpmn:timeCycle></bpmn:timerEventDefinition>",
                                          "remind"));
    uint64_t pi = start_ok(f, "p", NULL);
    f->now += 10 * MINUTE;
    tick(f);
    f->now += 10 * MINUTE;
    tick(f);
    assert_int_equal(count_jobs(f, "remind"), 2);
    assert_int_equal(count_jobs(f, "work"), 1); /* not interrupted */
    complete_ok(f, one_job(f, "work"), NULL);
    /* Two reminders still run: the process waits for them. */
    assert_int_equal(instance_state(f, pi), BATON_ACTIVE);
    baton_job jobs[4];
    int n = 0;
    baton_error err;
    assert_int_equal(baton_activate_jobs(f->b, "remind", "w", MINUTE, 4, jobs, &n, &err), 0);
    assert_int_equal(n, 2);
    for (int i = 0; i < n; i++)
        complete_ok(f, jobs[i].key, NULL);
    baton_jobs_free(jobs, n);
    assert_int_equal(instance_state(f, pi), BATON_COMPLETED);
    f->now += 10 * MINUTE;
    tick(f);
    assert_int_equal(count_jobs(f, "remind"), 0);
    fixture_free(f);
}

/* "Give up after an hour": the work is interrupted; once the scope is
 * interrupted, no other event sub-process starts. */
static void test_timer_interrupting_and_no_second_event(void **state) {
    (void)state;
    fixture *f = fixture_new(false);
    deploy_ok(f, "p", MESSAGE("nudge", "nudge", "=id"),
              MAIN_PATH("work")
                  EVENT_SUB("give-up", "true",
                            "<bpmn:timerEventDefinition><bpmn:timeDuration>PT1H</bpmn:timeDuration>"
                            "</bpmn:timerEventDefinition>",
                            "give-up")
                      EVENT_SUB("on-nudge", "false",
                                "<bpmn:messageEventDefinition messageRef=\"nudge\"/>", "nudged"));
    uint64_t pi = start_ok(f, "p", "{\"id\": \"n\"}");
    f->now += 59 * MINUTE;
    tick(f);
    assert_int_equal(count_jobs(f, "give-up"), 0);
    f->now += MINUTE;
    tick(f);
    assert_int_equal(count_jobs(f, "work"), 0);
    assert_int_equal(count_jobs(f, "give-up"), 1);
    publish_ok(f, "nudge", "n", 0, NULL); /* its subscription closed */
    assert_int_equal(count_jobs(f, "nudged"), 0);
    complete_ok(f, one_job(f, "give-up"), NULL);
    assert_int_equal(instance_state(f, pi), BATON_COMPLETED);
    fixture_free(f);
}

/* Message starts, interrupting and not, with the message's variables. */
static void test_message_event_sub_processes(void **state) {
    (void)state;
    fixture *f = fixture_new(false);
    deploy_ok(f, "p", MESSAGE("update", "update", "=id") MESSAGE("cancel", "cancel", "=id"),
              MAIN_PATH("work") EVENT_SUB("on-update", "false",
                                          "<bpmn:messageEventDefinition messageRef=\"update\"/>",
                                          "apply-update")
                  EVENT_SUB("on-cancel", "true",
                            "<bpmn:messageEventDefinition messageRef=\"cancel\"/>", "clean-up"));
    uint64_t pi = start_ok(f, "p", "{\"id\": \"o-1\"}");
    publish_ok(f, "update", "o-1", 0, "{\"address\": \"new\"}");
    publish_ok(f, "update", "o-1", 0, NULL);
    assert_int_equal(count_jobs(f, "apply-update"), 2);
    assert_vars_contain(f, pi, "\"address\":\"new\"");
    assert_int_equal(count_jobs(f, "work"), 1);
    publish_ok(f, "cancel", "o-1", 0, "{\"reason\": \"customer\"}");
    assert_int_equal(count_jobs(f, "work"), 0);
    assert_int_equal(count_jobs(f, "apply-update"), 0); /* terminated with the rest */
    assert_vars_contain(f, pi, "\"reason\":\"customer\"");
    complete_ok(f, one_job(f, "clean-up"), NULL);
    assert_int_equal(instance_state(f, pi), BATON_COMPLETED);
    fixture_free(f);
}

/* Signal starts: a non-interrupting one per broadcast, with its variables. */
static void test_signal_event_sub_process(void **state) {
    (void)state;
    fixture *f = fixture_new(false);
    deploy_ok(f, "p", "<bpmn:signal id=\"alarm\" name=\"alarm\"/>",
              MAIN_PATH("work")
                  EVENT_SUB("on-alarm", "false",
                            "<bpmn:signalEventDefinition signalRef=\"alarm\"/>", "check"));
    uint64_t pi = start_ok(f, "p", NULL);
    baton_error err;
    uint64_t key;
    assert_int_equal(baton_broadcast_signal(f->b, "alarm", "{\"level\": 3}", &key, &err), 0);
    assert_int_equal(baton_broadcast_signal(f->b, "alarm", NULL, &key, &err), 0);
    assert_int_equal(count_jobs(f, "check"), 2);
    assert_int_equal(count_jobs(f, "work"), 1);
    assert_vars_contain(f, pi, "\"level\":3");
    fixture_free(f);
}

/* A non-interrupting escalation event sub-process: the throw event and the
 * rest of the scope go on. */
static void test_escalation_event_sub_process(void **state) {
    (void)state;
    fixture *f = fixture_new(false);
    deploy_ok(
        f, "p", "<bpmn:escalation id=\"late\" escalationCode=\"LATE\"/>",
        "<bpmn:startEvent id=\"start\"/><bpmn:intermediateThrowEvent id=\"shout\">"
        "<bpmn:escalationEventDefinition escalationRef=\"late\"/>"
        "</bpmn:intermediateThrowEvent>" TASK("work", "work") "<bpmn:endEvent id=\"end\"/>" FLOW(
            "m1", "start", "shout") FLOW("m2", "shout", "work") FLOW("m3", "work", "end")
            EVENT_SUB("on-late", "false",
                      "<bpmn:escalationEventDefinition escalationRef=\"late\"/>", "tell-boss"));
    uint64_t pi = start_ok(f, "p", NULL);
    assert_int_equal(count_jobs(f, "work"), 1);
    assert_int_equal(count_jobs(f, "tell-boss"), 1);
    complete_ok(f, one_job(f, "work"), NULL);
    complete_ok(f, one_job(f, "tell-boss"), NULL);
    assert_int_equal(instance_state(f, pi), BATON_COMPLETED);
    fixture_free(f);
}

/* The saga's error handler: a failed flight is caught by an error event
 * sub-process that compensates what the process booked. */
static void test_compensation_from_event_sub_process(void **state) {
    (void)state;
    fixture *f = fixture_new(false);
    deploy_ok(
        f, "trip", "<bpmn:error id=\"failed\" errorCode=\"FLIGHT_FAILED\"/>",
        "<bpmn:startEvent id=\"start\"/>" TASK(
            "hotel",
            "book-hotel") "<bpmn:boundaryEvent id=\"undo-hotel\" attachedToRef=\"hotel\">"
                          "<bpmn:compensateEventDefinition/></bpmn:boundaryEvent>"
                          "<bpmn:serviceTask id=\"cancel-hotel\" "
                          "isForCompensation=\"true\"><bpmn:extensionElements>"
                          "<zeebe:taskDefinition "
                          "type=\"cancel-hotel\"/></bpmn:extensionElements></bpmn:serviceTask>"
                          "<bpmn:association id=\"a1\" associationDirection=\"One\" "
                          "sourceRef=\"undo-hotel\" "
                          "targetRef=\"cancel-hotel\"/>" TASK(
                              "flight", "book-flight") "<bpmn:endEvent id=\"end\"/>" FLOW("f1",
                                                                                          "start",
                                                                                          "hotel")
                              FLOW("f2", "hotel", "flight") FLOW(
                                  "f3", "flight",
                                  "end") "<bpmn:subProcess id=\"on-failure\" "
                                         "triggeredByEvent=\"true\">"
                                         "<bpmn:startEvent "
                                         "id=\"failure\"><bpmn:errorEventDefinition "
                                         "errorRef=\"failed\"/>"
                                         "</bpmn:startEvent><bpmn:intermediateThrowEvent "
                                         "id=\"undo\"><bpmn:compensateEventDefinition/>"
                                         "</bpmn:intermediateThrowEvent><bpmn:endEvent "
                                         "id=\"cancelled\"/>" FLOW("e1", "failure", "undo")
                                             FLOW("e2", "undo", "cancelled") "</bpmn:subProcess>");
    uint64_t pi = start_ok(f, "trip", NULL);
    complete_ok(f, one_job(f, "book-hotel"), NULL);
    throw_ok(f, one_job(f, "book-flight"), "FLIGHT_FAILED");
    complete_ok(f, one_job(f, "cancel-hotel"), NULL);
    assert_int_equal(instance_state(f, pi), BATON_COMPLETED);
    fixture_free(f);
}

/* The timers and subscriptions of event sub-processes survive a restart. */
static void test_waits_survive_reopen(void **state) {
    (void)state;
    fixture *f = fixture_new(false);
    deploy_ok(f, "p", MESSAGE("cancel", "cancel", "=id"),
              MAIN_PATH("work") EVENT_SUB(
                  "give-up", "true",
                  "<bpmn:timerEventDefinition><bpmn:timeDuration>PT1H</bpmn:timeDuration>"
                  "</bpmn:timerEventDefinition>",
                  "give-up")
                  EVENT_SUB("on-cancel", "true",
                            "<bpmn:messageEventDefinition messageRef=\"cancel\"/>", "clean-up"));
    uint64_t timed = start_ok(f, "p", "{\"id\": \"t\"}");
    uint64_t cancelled = start_ok(f, "p", "{\"id\": \"c\"}");
    fixture_reopen(f);
    publish_ok(f, "cancel", "c", 0, NULL);
    assert_int_equal(count_jobs(f, "clean-up"), 1);
    f->now += 60 * MINUTE;
    fixture_reopen(f);
    tick(f);
    assert_int_equal(count_jobs(f, "give-up"), 1); /* only `timed`'s: the other was interrupted */
    complete_ok(f, one_job(f, "give-up"), NULL);
    complete_ok(f, one_job(f, "clean-up"), NULL);
    assert_int_equal(instance_state(f, timed), BATON_COMPLETED);
    assert_int_equal(instance_state(f, cancelled), BATON_COMPLETED);
    fixture_free(f);
}

static void test_model_errors(void **state) {
    (void)state;
    fixture *f = fixture_new(false);
    struct {
        const char *defs, *body, *needle;
    } cases[] = {
        {"", MAIN_PATH("w") EVENT_SUB("x", "true", "", "t"), "needs an event definition"},
        {"<bpmn:error id=\"e\" errorCode=\"E\"/>",
         MAIN_PATH("w") EVENT_SUB("x", "false", "<bpmn:errorEventDefinition errorRef=\"e\"/>", "t"),
         "an error start event always interrupts"},
        {"",
         MAIN_PATH("w") "<bpmn:startEvent id=\"err-start\"><bpmn:errorEventDefinition/>"
                        "</bpmn:startEvent>",
         "only allowed in an event sub-process"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        deploy_fails(f, cases[i].defs, cases[i].body, cases[i].needle);
    fixture_free(f);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_error_event_sub_process_interrupts),
        cmocka_unit_test(test_event_sub_process_before_boundary),
        cmocka_unit_test(test_timer_non_interrupting_cycle),
        cmocka_unit_test(test_timer_interrupting_and_no_second_event),
        cmocka_unit_test(test_message_event_sub_processes),
        cmocka_unit_test(test_escalation_event_sub_process),
        cmocka_unit_test(test_signal_event_sub_process),
        cmocka_unit_test(test_compensation_from_event_sub_process),
        cmocka_unit_test(test_waits_survive_reopen),
        cmocka_unit_test(test_model_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
