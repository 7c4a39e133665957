/*
 * Timer events through the embedding API, with the fixture's clock: timer
 * catch events (duration, date, FEEL), interrupting and non-interrupting
 * (cyclic) timer boundary events, cancellation when the activity finishes
 * first, and durability: a timer never fires early, and one that fell due
 * while the store was closed fires at the first tick after reopening.
 */
#include "engine_fixture.h"

#define MINUTE 60000LL

static void deploy_catch(fixture *f, const char *id, const char *definition) {
    char body[2048];
    snprintf(body, sizeof body,
             "<bpmn:startEvent id=\"start\"/>"
             "<bpmn:intermediateCatchEvent id=\"wait\"><bpmn:timerEventDefinition>%s"
             "</bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>"
             "<bpmn:endEvent id=\"end\"/>" FLOW("f1", "start", "wait") FLOW("f2", "wait", "end"),
             definition);
    deploy_ok(f, id, "", body);
}

static void test_catch_duration_fires_on_time_and_survives_restart(void **state) {
    (void)state;
    fixture *f = fixture_new(false);
    deploy_catch(f, "hour", "<bpmn:timeDuration>PT1H</bpmn:timeDuration>");
    uint64_t pi = start_ok(f, "hour", NULL);
    f->now += 59 * MINUTE;
    tick(f);
    assert_int_equal(instance_state(f, pi), BATON_ACTIVE);
    fixture_reopen(f);
    f->now += MINUTE - 1;
    tick(f);
    assert_int_equal(instance_state(f, pi), BATON_ACTIVE); /* never early */
    f->now += 1;
    tick(f);
    assert_int_equal(instance_state(f, pi), BATON_COMPLETED);
    fixture_free(f);
}

static void test_catch_date_and_feel_values(void **state) {
    (void)state;
    fixture *f = fixture_new(false);
    /* The fixture's clock starts at 2026-11-21T19:25:00Z. */
    deploy_catch(f, "date", "<bpmn:timeDate>2026-11-21T21:25:00Z</bpmn:timeDate>");
    deploy_catch(f, "feel", "<bpmn:timeDuration>=delay</bpmn:timeDuration>");
    uint64_t by_date = start_ok(f, "date", NULL);
    uint64_t by_feel = start_ok(f, "feel", "{\"delay\": \"PT30M\"}");
    f->now += 30 * MINUTE;
    tick(f);
    assert_int_equal(instance_state(f, by_feel), BATON_COMPLETED);
    assert_int_equal(instance_state(f, by_date), BATON_ACTIVE);
    f->now += 90 * MINUTE;
    tick(f);
    assert_int_equal(instance_state(f, by_date), BATON_COMPLETED);

    /* A FEEL value that is no duration is an incident, fixed and resolved. */
    uint64_t bad = start_ok(f, "feel", "{\"delay\": 42}");
    baton_incident inc[2];
    assert_int_equal(baton_list_incidents(f->b, bad, inc, 2), 1);
    assert_string_equal(inc[0].type, "EXTRACT_VALUE_ERROR");
    baton_error err;
    assert_int_equal(baton_set_variables(f->b, bad, "{\"delay\": \"PT1M\"}", false, &err), 0);
    assert_int_equal(baton_resolve_incident(f->b, inc[0].key, &err), 0);
    f->now += MINUTE;
    tick(f);
    assert_int_equal(instance_state(f, bad), BATON_COMPLETED);
    fixture_free(f);
}

/* "Remind every 10 minutes (twice), give up after 30 minutes." */
static const char *REMIND_AND_GIVE_UP = "<bpmn:startEvent id=\"start\"/>" TASK(
    "work",
    "work") "<bpmn:boundaryEvent id=\"remind\" attachedToRef=\"work\" cancelActivity=\"false\">"
            "<bpmn:timerEventDefinition><bpmn:timeCycle>R2/PT10M</bpmn:timeCycle>"
            "</bpmn:timerEventDefinition></bpmn:boundaryEvent>"
            "<bpmn:boundaryEvent id=\"giveUp\" attachedToRef=\"work\">"
            "<bpmn:timerEventDefinition><bpmn:timeDuration>PT30M</bpmn:timeDuration>"
            "</bpmn:timerEventDefinition></bpmn:boundaryEvent>" TASK("nudge", "nudge")
                TASK("escalate", "escalate") "<bpmn:endEvent id=\"done\"/><bpmn:endEvent "
                                             "id=\"nudged\"/><bpmn:endEvent id=\"gaveUp\"/>" FLOW(
                                                 "f1", "start", "work") FLOW("f2", "work", "done")
                                                 FLOW("f3", "remind", "nudge")
                                                     FLOW("f4", "nudge", "nudged")
                                                         FLOW("f5", "giveUp", "escalate")
                                                             FLOW("f6", "escalate", "gaveUp");

static void test_boundary_cycle_reminds_then_interrupting_gives_up(void **state) {
    (void)state;
    fixture *f = fixture_new(false);
    deploy_ok(f, "reminders", "", REMIND_AND_GIVE_UP);
    uint64_t pi = start_ok(f, "reminders", NULL);
    uint64_t work = one_job(f, "work");
    f->now += 10 * MINUTE;
    tick(f);
    complete_ok(f, one_job(f, "nudge"), NULL); /* the task goes on meanwhile */
    f->now += 10 * MINUTE;
    tick(f);
    complete_ok(f, one_job(f, "nudge"), NULL);
    f->now += 10 * MINUTE; /* 30 min: the cycle is done; giving up interrupts */
    tick(f);
    assert_int_equal(count_jobs(f, "nudge"), 0);
    baton_error err;
    assert_int_equal(baton_complete_job(f->b, work, NULL, &err), BATON_ENOTFOUND);
    complete_ok(f, one_job(f, "escalate"), NULL);
    assert_int_equal(instance_state(f, pi), BATON_COMPLETED);
    fixture_free(f);
}

/* "Remind at 9:00 every working day" as a cron cycle, across a restart. */
static void test_boundary_cron_cycle_on_working_days(void **state) {
    (void)state;
    fixture *f = fixture_new(false); /* Saturday 2026-11-21 19:25 UTC */
    deploy_ok(
        f, "daily", "",
        "<bpmn:startEvent id=\"start\"/>" TASK(
            "work", "work") "<bpmn:boundaryEvent id=\"remind\" attachedToRef=\"work\" "
                            "cancelActivity=\"false\"><bpmn:timerEventDefinition>"
                            "<bpmn:timeCycle>0 0 9 * * MON-FRI</bpmn:timeCycle>"
                            "</bpmn:timerEventDefinition></bpmn:boundaryEvent>" TASK(
                                "nudge", "nudge") "<bpmn:endEvent id=\"done\"/><bpmn:endEvent "
                                                  "id=\"nudged\"/>" FLOW("f1", "start", "work")
                                                      FLOW("f2", "work", "done")
                                                          FLOW("f3", "remind", "nudge")
                                                              FLOW("f4", "nudge", "nudged"));
    uint64_t pi = start_ok(f, "daily", NULL);
    f->now = 1795424400000LL - 1; /* Monday 08:59:59.999: not yet */
    tick(f);
    assert_int_equal(count_jobs(f, "nudge"), 0);
    f->now += 1;
    tick(f);
    complete_ok(f, one_job(f, "nudge"), NULL);
    fixture_reopen(f);
    f->now = 1795510800000LL - 1000; /* Tuesday 08:59:59 */
    tick(f);
    assert_int_equal(count_jobs(f, "nudge"), 0);
    f->now += 1000;
    tick(f);
    complete_ok(f, one_job(f, "nudge"), NULL);
    complete_ok(f, one_job(f, "work"), NULL);
    assert_int_equal(instance_state(f, pi), BATON_COMPLETED);
    fixture_free(f);
}

static void test_timers_cancelled_when_the_task_completes_first(void **state) {
    (void)state;
    fixture *f = fixture_new(false);
    deploy_ok(f, "reminders", "", REMIND_AND_GIVE_UP);
    uint64_t pi = start_ok(f, "reminders", NULL);
    f->now += 5 * MINUTE;
    complete_ok(f, one_job(f, "work"), NULL);
    assert_int_equal(instance_state(f, pi), BATON_COMPLETED);
    f->now += 60 * MINUTE;
    tick(f);
    assert_int_equal(count_jobs(f, "nudge"), 0);
    assert_int_equal(count_jobs(f, "escalate"), 0);
    fixture_free(f);
}

/* A server down across the due time fires the timer when it comes back. */
static void test_timer_due_while_closed_fires_at_start(void **state) {
    (void)state;
    fixture *f = fixture_new(false);
    deploy_ok(f, "reminders", "", REMIND_AND_GIVE_UP);
    uint64_t pi = start_ok(f, "reminders", NULL);
    baton_close(f->b);
    f->b = NULL;
    f->now += 45 * MINUTE; /* both reminders and the give-up fell due while closed */
    fixture_open_with(f, false);
    assert_int_equal(count_jobs(f, "escalate"), 0); /* not before the first tick */
    tick(f);
    /* What fell due fires, in due order: the first reminder (the cycle's
     * missed repetition is not replayed in a burst), then the interrupting
     * give-up, which ends the cycle. */
    baton_job jobs[4];
    int n;
    baton_error err;
    assert_int_equal(baton_activate_jobs(f->b, "nudge", "w", 60000, 4, jobs, &n, &err), 0);
    assert_int_equal(n, 1);
    for (int i = 0; i < n; i++)
        complete_ok(f, jobs[i].key, NULL);
    baton_jobs_free(jobs, n);
    complete_ok(f, one_job(f, "escalate"), NULL);
    assert_int_equal(instance_state(f, pi), BATON_COMPLETED);
    fixture_free(f);
}

/* An event-based gateway takes the path of its first event: here the
 * 10-minute reminder beats the 1-hour deadline, whose timer is cancelled. */
static void test_event_based_gateway_first_timer_wins(void **state) {
    (void)state;
    fixture *f = fixture_new(false);
    deploy_ok(
        f, "race", "",
        "<bpmn:startEvent id=\"start\"/><bpmn:eventBasedGateway id=\"gw\"/>"
        "<bpmn:intermediateCatchEvent id=\"soon\"><bpmn:timerEventDefinition>"
        "<bpmn:timeDuration>PT10M</bpmn:timeDuration></bpmn:timerEventDefinition>"
        "</bpmn:intermediateCatchEvent>"
        "<bpmn:intermediateCatchEvent id=\"late\"><bpmn:timerEventDefinition>"
        "<bpmn:timeDuration>PT1H</bpmn:timeDuration></bpmn:timerEventDefinition>"
        "</bpmn:intermediateCatchEvent>" TASK("remind", "remind")
            TASK("expire", "expire") "<bpmn:endEvent id=\"e1\"/><bpmn:endEvent id=\"e2\"/>" FLOW(
                "f0", "start", "gw") FLOW("f1", "gw", "soon") FLOW("f2", "gw", "late")
                FLOW("f3", "soon", "remind") FLOW("f4", "late", "expire") FLOW("f5", "remind", "e1")
                    FLOW("f6", "expire", "e2"));
    uint64_t pi = start_ok(f, "race", NULL);
    f->now += 9 * MINUTE;
    tick(f);
    assert_int_equal(count_jobs(f, "remind"), 0);
    fixture_reopen(f);
    f->now += MINUTE;
    tick(f);
    complete_ok(f, one_job(f, "remind"), NULL);
    assert_int_equal(instance_state(f, pi), BATON_COMPLETED);
    f->now += 2 * 60 * MINUTE;
    tick(f);
    assert_int_equal(count_jobs(f, "expire"), 0);

    /* A flow to anything but a timer catch event is refused at deploy. */
    char *xml = bpmn_doc("badgw", "",
                         "<bpmn:startEvent id=\"start\"/><bpmn:eventBasedGateway id=\"gw\"/>" TASK(
                             "t1", "t1") TASK("t2", "t2") FLOW("f0", "start", "gw")
                             FLOW("f1", "gw", "t1") FLOW("f2", "gw", "t2"));
    baton_error err;
    assert_int_equal(baton_deploy(f->b, "badgw.bpmn", xml, strlen(xml), NULL, &err), BATON_EINVAL);
    assert_non_null(strstr(err.message, "event-based gateway"));
    free(xml);
    fixture_free(f);
}

/* A process started by its timer start event: start(timer) → work → end. */
static void deploy_timer_start(fixture *f, const char *id, const char *definition,
                               const char *type) {
    char body[2048];
    snprintf(body, sizeof body,
             "<bpmn:startEvent id=\"tick\"><bpmn:timerEventDefinition>%s"
             "</bpmn:timerEventDefinition></bpmn:startEvent>"
             "<bpmn:serviceTask id=\"work\"><bpmn:extensionElements><zeebe:taskDefinition "
             "type=\"%s\"/></bpmn:extensionElements></bpmn:serviceTask>"
             "<bpmn:endEvent id=\"end\"/>" FLOW("f1", "tick", "work") FLOW("f2", "work", "end"),
             definition, type);
    deploy_ok(f, id, "", body);
}

/* The version of the instance of the one job of `type`. */
static int job_version(fixture *f, const char *type) {
    baton_job jobs[2];
    int n = 0;
    baton_error err;
    assert_int_equal(baton_activate_jobs(f->b, type, "v", 60000, 2, jobs, &n, &err), 0);
    assert_int_equal(n, 1);
    baton_instance inst;
    assert_int_equal(baton_get_instance(f->b, jobs[0].process_instance_key, &inst), 0);
    complete_ok(f, jobs[0].key, NULL);
    baton_jobs_free(jobs, n);
    return inst.version;
}

static void test_timer_start_event_cycle(void **state) {
    (void)state;
    fixture *f = fixture_new(false);
    deploy_timer_start(f, "every", "<bpmn:timeCycle>R3/PT10M</bpmn:timeCycle>", "every");
    baton_error err;
    uint64_t pi;
    assert_int_equal(baton_create_instance(f->b, "every", NULL, NULL, &pi, &err), BATON_EINVAL);
    f->now += 10 * MINUTE - 1;
    tick(f);
    assert_int_equal(count_jobs(f, "every"), 0); /* never early */
    f->now += 1;
    tick(f);
    assert_int_equal(count_jobs(f, "every"), 1);
    for (int i = 0; i < 4; i++) {
        f->now += 10 * MINUTE;
        tick(f);
    }
    assert_int_equal(count_jobs(f, "every"), 3); /* R3: three instances, no more */

    /* A date fires once; a FEEL value is evaluated at deploy time. */
    deploy_timer_start(f, "once",
                       "<bpmn:timeDate>=date and time(\"2026-11-22T00:00:00Z\")"
                       "</bpmn:timeDate>",
                       "once");
    f->now = 1795305600000LL; /* 2026-11-22T00:00:00Z */
    tick(f);
    f->now += 24 * 60 * MINUTE;
    tick(f);
    assert_int_equal(count_jobs(f, "once"), 1);

    /* A value that gives no schedule refuses the deployment. */
    char body[1024];
    snprintf(body, sizeof body,
             "<bpmn:startEvent id=\"bad-start\"><bpmn:timerEventDefinition><bpmn:timeDuration>"
             "=42</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:startEvent>"
             "<bpmn:endEvent id=\"end\"/>" FLOW("f1", "bad-start", "end"));
    char *xml = bpmn_doc("bad", "", body);
    assert_int_equal(baton_deploy(f->b, "bad.bpmn", xml, strlen(xml), NULL, &err), BATON_EINVAL);
    assert_string_equal(err.element_id, "bad-start");
    free(xml);
    fixture_free(f);
}

/* A new version's timers replace the old version's; the timer survives a
 * restart, and one due while the store was closed fires at the first tick
 * (once: the cycle resumes one interval from then). */
static void test_timer_start_event_versions_and_restart(void **state) {
    (void)state;
    fixture *f = fixture_new(false);
    deploy_timer_start(f, "hourly", "<bpmn:timeCycle>R/PT1H</bpmn:timeCycle>", "hourly");
    f->now += 30 * MINUTE;
    deploy_timer_start(f, "hourly", "<bpmn:timeCycle>R/PT2H</bpmn:timeCycle>", "hourly");
    f->now += 60 * MINUTE; /* v1 would have fired at +60 */
    tick(f);
    assert_int_equal(count_jobs(f, "hourly"), 0);
    f->now += 60 * MINUTE; /* v2's first firing: deployed at +30, every two hours */
    tick(f);
    assert_int_equal(job_version(f, "hourly"), 2);

    fixture_reopen(f);
    f->now += 5 * 60 * MINUTE; /* closed across two due times */
    fixture_reopen(f);
    tick(f);
    assert_int_equal(count_jobs(f, "hourly"), 1);
    f->now += 110 * MINUTE; /* the next is two hours after that firing, not before */
    tick(f);
    assert_int_equal(count_jobs(f, "hourly"), 1);
    f->now += 10 * MINUTE;
    tick(f);
    assert_int_equal(count_jobs(f, "hourly"), 2);

    /* A version without a timer start event ends the timers. */
    deploy_ok(f, "hourly", "",
              "<bpmn:startEvent id=\"s\"/><bpmn:endEvent id=\"e\"/>" FLOW("f", "s", "e"));
    f->now += 10 * 60 * MINUTE;
    tick(f);
    assert_int_equal(count_jobs(f, "hourly"), 2);
    fixture_free(f);
}

/* A boundary timer that cannot be scheduled is an incident on the task;
 * the task's job may still complete it, and the incident goes with it. */
static void test_boundary_incident_goes_when_the_task_completes(void **state) {
    (void)state;
    fixture *f = fixture_new(false);
    deploy_ok(
        f, "p", "",
        "<bpmn:startEvent id=\"start\"/>" TASK(
            "work",
            "work") "<bpmn:boundaryEvent id=\"late\" "
                    "attachedToRef=\"work\"><bpmn:timerEventDefinition>"
                    "<bpmn:timeDuration>=delay</bpmn:timeDuration></bpmn:timerEventDefinition>"
                    "</bpmn:boundaryEvent><bpmn:endEvent id=\"e1\"/><bpmn:endEvent "
                    "id=\"e2\"/>" FLOW("f1", "start", "work") FLOW("f2", "work", "e1")
                        FLOW("f3", "late", "e2"));
    uint64_t pi = start_ok(f, "p", NULL);
    baton_incident inc[2];
    assert_int_equal(baton_list_incidents(f->b, pi, inc, 2), 1);
    complete_ok(f, one_job(f, "work"), NULL);
    assert_int_equal(instance_state(f, pi), BATON_COMPLETED);
    assert_int_equal(baton_list_incidents(f->b, 0, inc, 2), 0);
    fixture_reopen(f); /* and nothing dangles in what was stored */
    assert_int_equal(baton_list_incidents(f->b, 0, inc, 2), 0);
    fixture_free(f);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_catch_duration_fires_on_time_and_survives_restart),
        cmocka_unit_test(test_catch_date_and_feel_values),
        cmocka_unit_test(test_boundary_cycle_reminds_then_interrupting_gives_up),
        cmocka_unit_test(test_boundary_cron_cycle_on_working_days),
        cmocka_unit_test(test_timers_cancelled_when_the_task_completes_first),
        cmocka_unit_test(test_timer_due_while_closed_fires_at_start),
        cmocka_unit_test(test_event_based_gateway_first_timer_wins),
        cmocka_unit_test(test_timer_start_event_cycle),
        cmocka_unit_test(test_boundary_incident_goes_when_the_task_completes),
        cmocka_unit_test(test_timer_start_event_versions_and_restart),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
