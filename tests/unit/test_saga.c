/*
 * Saga semantics: BPMN compensation for the trip booking, through the
 * embedding API with in-process job handlers over a real SQLite store.
 *
 * The trip: book hotel → book car → book flight, each with a compensation
 * boundary event and a cancel handler, and an error boundary event on each
 * booking that leads to one compensation throw event and the end event
 * "Trip booking failed".
 */
#include "engine_fixture.h"

#define BOOKING(id, type, cancel_id, cancel_type)                                                  \
    TASK(id, type)                                                                                 \
    "<bpmn:boundaryEvent id=\"" id "Comp\" attachedToRef=\"" id "\">"                              \
    "<bpmn:compensateEventDefinition/></bpmn:boundaryEvent>\n"                                     \
    "<bpmn:boundaryEvent id=\"" id "Err\" attachedToRef=\"" id "\">"                               \
    "<bpmn:errorEventDefinition/></bpmn:boundaryEvent>\n"                                          \
    "<bpmn:serviceTask id=\"" cancel_id "\" isForCompensation=\"true\">"                           \
    "<bpmn:extensionElements><zeebe:taskDefinition type=\"" cancel_type "\"/>"                     \
    "</bpmn:extensionElements></bpmn:serviceTask>\n"                                               \
    "<bpmn:association id=\"" id "Assoc\" associationDirection=\"One\" sourceRef=\"" id "Comp\" "  \
    "targetRef=\"" cancel_id "\"/>\n" FLOW(id "ToUndo", id "Err", "undo")

static const char *TRIP = "<bpmn:startEvent id=\"start\"/>\n" BOOKING("bookHotel", "book-hotel",
                                                                      "cancelHotel", "cancel-hotel")
    BOOKING("bookCar", "book-car", "cancelCar", "cancel-car")
        BOOKING("bookFlight", "book-flight", "cancelFlight",
                "cancel-flight") "<bpmn:intermediateThrowEvent "
                                 "id=\"undo\"><bpmn:compensateEventDefinition/>"
                                 "</bpmn:intermediateThrowEvent>\n"
                                 "<bpmn:endEvent id=\"booked\"/><bpmn:endEvent id=\"failed\" "
                                 "name=\"Trip booking failed\"/>\n" FLOW("f1", "start", "bookHotel")
                                     FLOW("f2", "bookHotel", "bookCar")
                                         FLOW("f3", "bookCar", "bookFlight")
                                             FLOW("f4", "bookFlight", "booked")
                                                 FLOW("f5", "undo", "failed");

/* The element ids of the instance's ELEMENT_COMPLETED records, in order,
 * joined by spaces. */
typedef struct trail {
    char text[4096];
} trail;

static int trail_add(void *ud, const char *type, const char *intent, uint64_t key,
                     const char *json) {
    (void)key;
    trail *t = ud;
    if (strcmp(type, "PROCESS_INSTANCE") || strcmp(intent, "ELEMENT_COMPLETED"))
        return 0;
    const char *id = strstr(json, "\"elementId\":\"");
    if (!id)
        return 0;
    id += 13;
    const char *end = strchr(id, '"');
    size_t n = strlen(t->text);
    snprintf(t->text + n, sizeof t->text - n, "%s%.*s", n ? " " : "", (int)(end - id), id);
    return 0;
}

static void completed_trail(fixture *f, uint64_t pi, trail *t) {
    t->text[0] = 0;
    assert_int_equal(baton_history(f->b, pi, trail_add, t), 0);
}

static void test_happy_trip_compensates_nothing(void **state) {
    (void)state;
    fixture *f = fixture_new(false);
    deploy_ok(f, "trip", "", TRIP);
    uint64_t pi = start_ok(f, "trip", "{\"tripId\": \"T1\"}");
    complete_ok(f, one_job(f, "book-hotel"), "{\"hotel\": \"H1\"}");
    complete_ok(f, one_job(f, "book-car"), "{\"car\": \"C1\"}");
    complete_ok(f, one_job(f, "book-flight"), "{\"flight\": \"F1\"}");
    assert_int_equal(instance_state(f, pi), BATON_COMPLETED);
    assert_int_equal(count_jobs(f, "cancel-hotel"), 0);
    trail t;
    completed_trail(f, pi, &t);
    assert_string_equal(t.text, "start bookHotel bookCar bookFlight booked trip");
    fixture_free(f);
}

static void test_flight_fails_car_then_hotel_cancelled(void **state) {
    (void)state;
    fixture *f = fixture_new(false);
    deploy_ok(f, "trip", "", TRIP);
    uint64_t pi = start_ok(f, "trip", NULL);
    baton_error err;
    complete_ok(f, one_job(f, "book-hotel"), "{\"hotel\": \"H1\"}");
    complete_ok(f, one_job(f, "book-car"), "{\"car\": \"C1\"}");
    assert_int_equal(
        baton_throw_error(f->b, one_job(f, "book-flight"), "FLIGHT_FAILED", "no seats", &err), 0);
    /* One handler at a time, last booking first: only the car's now. */
    assert_int_equal(count_jobs(f, "cancel-hotel"), 0);
    baton_job jobs[2];
    int n;
    assert_int_equal(baton_activate_jobs(f->b, "cancel-car", "w", 1000, 2, jobs, &n, &err), 0);
    assert_int_equal(n, 1);
    /* The handler sees the booking it undoes. */
    assert_non_null(strstr(jobs[0].variables_json, "\"car\":\"C1\""));
    uint64_t cancel_car = jobs[0].key;
    baton_jobs_free(jobs, n);
    complete_ok(f, cancel_car, NULL);
    complete_ok(f, one_job(f, "cancel-hotel"), NULL);
    assert_int_equal(count_jobs(f, "cancel-flight"), 0); /* never booked */
    assert_int_equal(instance_state(f, pi), BATON_COMPLETED);
    trail t;
    completed_trail(f, pi, &t);
    assert_string_equal(t.text, "start bookHotel bookCar bookFlightErr cancelCar cancelHotel "
                                "undo failed trip");
    fixture_free(f);
}

static void test_failure_at_each_step_compensates_completed_steps(void **state) {
    (void)state;
    static const char *expect[] = {
        "start bookHotelErr undo failed trip",
        "start bookHotel bookCarErr cancelHotel undo failed trip",
        "start bookHotel bookCar bookFlightErr cancelCar cancelHotel undo failed trip",
    };
    static const char *steps[] = {"book-hotel", "book-car", "book-flight"};
    static const char *cancels[] = {"cancel-hotel", "cancel-car"};
    for (int failing = 0; failing < 3; failing++) {
        fixture *f = fixture_new(false);
        deploy_ok(f, "trip", "", TRIP);
        uint64_t pi = start_ok(f, "trip", NULL);
        baton_error err;
        for (int s = 0; s < failing; s++)
            complete_ok(f, one_job(f, steps[s]), NULL);
        assert_int_equal(baton_throw_error(f->b, one_job(f, steps[failing]), "FAILED", NULL, &err),
                         0);
        for (int s = failing - 1; s >= 0; s--)
            complete_ok(f, one_job(f, cancels[s]), NULL);
        assert_int_equal(instance_state(f, pi), BATON_COMPLETED);
        trail t;
        completed_trail(f, pi, &t);
        assert_string_equal(t.text, expect[failing]);
        fixture_free(f);
    }
}

static void test_handler_retries_with_backoff_then_incident(void **state) {
    (void)state;
    fixture *f = fixture_new(false);
    deploy_ok(f, "trip", "", TRIP);
    uint64_t pi = start_ok(f, "trip", NULL);
    baton_error err;
    complete_ok(f, one_job(f, "book-hotel"), NULL);
    complete_ok(f, one_job(f, "book-car"), NULL);
    assert_int_equal(baton_throw_error(f->b, one_job(f, "book-flight"), "X", NULL, &err), 0);
    /* The car rental is down: fail with a back-off of 30 s. */
    uint64_t job = one_job(f, "cancel-car");
    assert_int_equal(baton_fail_job(f->b, job, 1, "car rental unreachable", 30000, &err), 0);
    assert_int_equal(count_jobs(f, "cancel-car"), 0);
    f->now += 30000;
    baton_tick(f->b, &err);
    job = one_job(f, "cancel-car");
    /* Still down, no retries left: an incident the operator resolves. */
    assert_int_equal(baton_fail_job(f->b, job, 0, "car rental unreachable", 0, &err), 0);
    baton_incident inc[2];
    assert_int_equal(baton_list_incidents(f->b, pi, inc, 2), 1);
    assert_string_equal(inc[0].type, "JOB_NO_RETRIES");
    assert_string_equal(inc[0].element_id, "cancelCar");
    fixture_reopen(f); /* the incident and the compensation survive a restart */
    assert_int_equal(baton_list_incidents(f->b, pi, inc, 2), 1);
    assert_int_equal(baton_update_job_retries(f->b, job, 3, &err), 0);
    assert_int_equal(baton_resolve_incident(f->b, inc[0].key, &err), 0);
    complete_ok(f, one_job(f, "cancel-car"), NULL);
    complete_ok(f, one_job(f, "cancel-hotel"), NULL);
    assert_int_equal(instance_state(f, pi), BATON_COMPLETED);
    fixture_free(f);
}

static void test_all_at_once_option(void **state) {
    (void)state;
    fixture *f = fixture_new(true);
    deploy_ok(f, "trip", "", TRIP);
    uint64_t pi = start_ok(f, "trip", NULL);
    baton_error err;
    complete_ok(f, one_job(f, "book-hotel"), NULL);
    complete_ok(f, one_job(f, "book-car"), NULL);
    assert_int_equal(baton_throw_error(f->b, one_job(f, "book-flight"), "X", NULL, &err), 0);
    uint64_t hotel = one_job(f, "cancel-hotel"), car = one_job(f, "cancel-car");
    complete_ok(f, hotel, NULL);
    assert_int_equal(instance_state(f, pi), BATON_ACTIVE);
    complete_ok(f, car, NULL);
    assert_int_equal(instance_state(f, pi), BATON_COMPLETED);
    fixture_free(f);
}

static void test_activity_completed_twice_is_compensated_twice(void **state) {
    (void)state;
    fixture *f = fixture_new(false);
    deploy_ok(
        f, "twice", "",
        "<bpmn:startEvent id=\"start\"/><bpmn:exclusiveGateway id=\"again\"/>"
        "<bpmn:exclusiveGateway id=\"more\" default=\"done\"/>" BOOKING(
            "bookHotel", "book-hotel", "cancelHotel",
            "cancel-hotel") "<bpmn:intermediateThrowEvent "
                            "id=\"undo\"><bpmn:compensateEventDefinition/>"
                            "</bpmn:intermediateThrowEvent><bpmn:endEvent id=\"failed\"/>"
                            "<bpmn:intermediateThrowEvent "
                            "id=\"undoAll\"><bpmn:compensateEventDefinition/>"
                            "</bpmn:intermediateThrowEvent><bpmn:endEvent id=\"end\"/>" FLOW(
                                "f1", "start", "again") FLOW("f2", "again", "bookHotel")
                                FLOW("f3", "bookHotel", "more")
                                    COND_FLOW("loop", "more", "again", "=count(hotels) &lt; 2")
                                        FLOW("done", "more", "undoAll") FLOW("f4", "undoAll", "end")
                                            FLOW("f5", "undo", "failed"));
    uint64_t pi = start_ok(f, "twice", "{\"hotels\": []}");
    complete_ok(f, one_job(f, "book-hotel"), "{\"hotels\": [\"H1\"]}");
    complete_ok(f, one_job(f, "book-hotel"), "{\"hotels\": [\"H1\", \"H2\"]}");
    complete_ok(f, one_job(f, "cancel-hotel"), NULL);
    complete_ok(f, one_job(f, "cancel-hotel"), NULL);
    assert_int_equal(count_jobs(f, "cancel-hotel"), 0);
    assert_int_equal(instance_state(f, pi), BATON_COMPLETED);
    fixture_free(f);
}

/* Bookings inside an embedded sub-process that completes: compensating the
 * outer scope undoes the sub-process's bookings, last first. */
static const char *SUB_TRIP =
    "<bpmn:startEvent id=\"start\"/>"
    "<bpmn:subProcess id=\"bookings\"><bpmn:startEvent id=\"s2\"/>" TASK(
        "bookHotel",
        "book-hotel") "<bpmn:boundaryEvent id=\"hc\" "
                      "attachedToRef=\"bookHotel\"><bpmn:compensateEventDefinition/>"
                      "</bpmn:boundaryEvent><bpmn:serviceTask id=\"cancelHotel\" "
                      "isForCompensation=\"true\">"
                      "<bpmn:extensionElements><zeebe:taskDefinition type=\"cancel-hotel\"/>"
                      "</bpmn:extensionElements></bpmn:serviceTask>"
                      "<bpmn:association id=\"a1\" sourceRef=\"hc\" "
                      "targetRef=\"cancelHotel\"/>" TASK(
                          "bookCar",
                          "book-car") "<bpmn:boundaryEvent id=\"cc\" "
                                      "attachedToRef=\"bookCar\"><bpmn:compensateEventDefinition/>"
                                      "</bpmn:boundaryEvent><bpmn:serviceTask id=\"cancelCar\" "
                                      "isForCompensation=\"true\">"
                                      "<bpmn:extensionElements><zeebe:taskDefinition "
                                      "type=\"cancel-car\"/>"
                                      "</bpmn:extensionElements></bpmn:serviceTask>"
                                      "<bpmn:association id=\"a2\" sourceRef=\"cc\" "
                                      "targetRef=\"cancelCar\"/>"
                                      "<bpmn:endEvent id=\"e2\"/>" FLOW(
                                          "g1", "s2", "bookHotel") FLOW("g2", "bookHotel",
                                                                        "bookCar")
                                          FLOW("g3", "bookCar", "e2") "</bpmn:subProcess>" TASK(
                                              "pay",
                                              "pay") "<bpmn:boundaryEvent id=\"payErr\" "
                                                     "attachedToRef=\"pay\"><bpmn:"
                                                     "errorEventDefinition/>"
                                                     "</bpmn:boundaryEvent>"
                                                     "<bpmn:endEvent "
                                                     "id=\"undo\"><bpmn:compensateEventDefinition/"
                                                     "></bpmn:endEvent>"
                                                     "<bpmn:endEvent id=\"paid\"/>" FLOW(
                                                         "f1", "start", "bookings")
                                                         FLOW("f2", "bookings", "pay")
                                                             FLOW("f3", "pay", "paid")
                                                                 FLOW("f4", "payErr", "undo");

static void test_completed_subprocess_compensated_through_its_children(void **state) {
    (void)state;
    fixture *f = fixture_new(false);
    deploy_ok(f, "sub", "", SUB_TRIP);
    uint64_t pi = start_ok(f, "sub", NULL);
    baton_error err;
    complete_ok(f, one_job(f, "book-hotel"), NULL);
    complete_ok(f, one_job(f, "book-car"), NULL);
    assert_int_equal(baton_throw_error(f->b, one_job(f, "pay"), "DECLINED", NULL, &err), 0);
    assert_int_equal(count_jobs(f, "cancel-hotel"), 0);
    complete_ok(f, one_job(f, "cancel-car"), NULL);
    complete_ok(f, one_job(f, "cancel-hotel"), NULL);
    assert_int_equal(instance_state(f, pi), BATON_COMPLETED);
    trail t;
    completed_trail(f, pi, &t);
    assert_string_equal(t.text, "start s2 bookHotel bookCar e2 bookings payErr cancelCar "
                                "cancelHotel undo sub");
    fixture_free(f);
}

/* A sub-process interrupted by an error is terminated, and a terminated
 * scope is not compensated from outside. */
static void test_terminated_subprocess_is_not_compensated(void **state) {
    (void)state;
    fixture *f = fixture_new(false);
    deploy_ok(
        f, "subint", "",
        "<bpmn:startEvent id=\"start\"/>"
        "<bpmn:subProcess id=\"bookings\"><bpmn:startEvent id=\"s2\"/>" TASK(
            "bookHotel",
            "book-hotel") "<bpmn:boundaryEvent id=\"hc\" attachedToRef=\"bookHotel\">"
                          "<bpmn:compensateEventDefinition/></bpmn:boundaryEvent>"
                          "<bpmn:serviceTask id=\"cancelHotel\" isForCompensation=\"true\">"
                          "<bpmn:extensionElements><zeebe:taskDefinition type=\"cancel-hotel\"/>"
                          "</bpmn:extensionElements></bpmn:serviceTask>"
                          "<bpmn:association id=\"a1\" sourceRef=\"hc\" "
                          "targetRef=\"cancelHotel\"/>" TASK(
                              "bookFlight",
                              "book-flight") "<bpmn:endEvent id=\"e2\"/>" FLOW("g1", "s2",
                                                                               "bookHotel")
                              FLOW("g2", "bookHotel", "bookFlight")
                                  FLOW("g3", "bookFlight",
                                       "e2") "</bpmn:subProcess>"
                                             "<bpmn:boundaryEvent id=\"subErr\" "
                                             "attachedToRef=\"bookings\">"
                                             "<bpmn:errorEventDefinition/></bpmn:boundaryEvent>"
                                             "<bpmn:endEvent "
                                             "id=\"undo\"><bpmn:compensateEventDefinition/></"
                                             "bpmn:endEvent>"
                                             "<bpmn:endEvent id=\"end\"/>" FLOW("f1", "start",
                                                                                "bookings")
                                                 FLOW("f2", "bookings", "end")
                                                     FLOW("f3", "subErr", "undo"));
    uint64_t pi = start_ok(f, "subint", NULL);
    baton_error err;
    complete_ok(f, one_job(f, "book-hotel"), NULL);
    assert_int_equal(baton_throw_error(f->b, one_job(f, "book-flight"), "X", NULL, &err), 0);
    assert_int_equal(count_jobs(f, "cancel-hotel"), 0);
    assert_int_equal(instance_state(f, pi), BATON_COMPLETED);
    fixture_free(f);
}

/* The seed's Zeebe model runs unmodified: every task is job type "lambda",
 * the function to call is the "functionName" header, and the result goes to
 * the variable the "resultName" header names. A worker plays the functions;
 * the request's *Failure flags say which booking fails. */
static void run_lambda_jobs(fixture *f, const char *fail_flag_json, char *calls, size_t size) {
    for (;;) {
        baton_job jobs[8];
        int n = 0;
        baton_error err;
        assert_int_equal(
            baton_activate_jobs(f->b, "lambda", "lambda-worker", 10000, 8, jobs, &n, &err), 0);
        if (n == 0)
            return;
        for (int i = 0; i < n; i++) {
            const char *fn = NULL, *result = NULL;
            for (int h = 0; h < jobs[i].n_headers; h++) {
                if (!strcmp(jobs[i].header_keys[h], "functionName"))
                    fn = jobs[i].header_values[h];
                if (!strcmp(jobs[i].header_keys[h], "resultName"))
                    result = jobs[i].header_values[h];
            }
            assert_non_null(fn);
            const char *action = strstr(fn, "dev-") + 4; /* "book-flight", "cancel-car" */
            size_t used = strlen(calls);
            snprintf(calls + used, size - used, "%s%s", used ? " " : "", action);
            char vars[256] = "{}";
            if (result) {
                bool fails = strstr(fail_flag_json, action + 5) != NULL;
                snprintf(vars, sizeof vars, "{\"%s\": {\"success\": %s}}", result,
                         fails ? "false" : "true");
            }
            complete_ok(f, jobs[i].key, vars);
        }
        baton_jobs_free(jobs, n);
    }
}

static void test_seed_zeebe_model_runs_unmodified(void **state) {
    (void)state;
    const char *shared = getenv("BATON_SHARED");
    char path[512];
    snprintf(path, sizeof path, "%s/reference/trip-booking/zeebe_aws_trip-booking.bpmn",
             shared ? shared : "../shared");
    fixture *f = fixture_new(false);
    baton_error err;
    baton_deployed d;
    if (baton_deploy_file(f->b, path, &d, &err))
        fail_msg("%s: %s", path, err.message);
    assert_string_equal(d.bpmn_process_id, "trip-booking");
    char calls[512] = "";
    uint64_t ok = start_ok(f, "trip-booking", "{\"bookFlightFailure\": \"false\"}");
    run_lambda_jobs(f, "", calls, sizeof calls);
    assert_string_equal(calls, "book-hotel book-car book-flight");
    assert_int_equal(instance_state(f, ok), BATON_COMPLETED);
    /* The flight fails: the model's cancel chain undoes flight, car, hotel. */
    calls[0] = 0;
    uint64_t bad = start_ok(f, "trip-booking", "{\"bookFlightFailure\": \"true\"}");
    run_lambda_jobs(f, "flight", calls, sizeof calls);
    assert_string_equal(calls,
                        "book-hotel book-car book-flight cancel-flight cancel-car cancel-hotel");
    assert_int_equal(instance_state(f, bad), BATON_COMPLETED);
    trail t;
    completed_trail(f, bad, &t);
    assert_non_null(strstr(t.text, "EndEvent_0nrvuxz trip-booking"));
    fixture_free(f);
}

/* The Camunda 7 model is rejected, naming what baton cannot run: its tasks
 * are Java delegates (no zeebe:taskDefinition). */
static void test_seed_camunda7_model_rejected_with_reason(void **state) {
    (void)state;
    const char *shared = getenv("BATON_SHARED");
    char path[512];
    snprintf(path, sizeof path, "%s/reference/trip-booking/camunda_workflow_trip-compensation.bpmn",
             shared ? shared : "../shared");
    fixture *f = fixture_new(false);
    baton_error err;
    assert_int_equal(baton_deploy_file(f->b, path, NULL, &err), BATON_EINVAL);
    assert_true(err.line > 0);
    assert_true(err.element_id[0] != 0);
    fixture_free(f);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_happy_trip_compensates_nothing),
        cmocka_unit_test(test_flight_fails_car_then_hotel_cancelled),
        cmocka_unit_test(test_failure_at_each_step_compensates_completed_steps),
        cmocka_unit_test(test_handler_retries_with_backoff_then_incident),
        cmocka_unit_test(test_all_at_once_option),
        cmocka_unit_test(test_activity_completed_twice_is_compensated_twice),
        cmocka_unit_test(test_completed_subprocess_compensated_through_its_children),
        cmocka_unit_test(test_terminated_subprocess_is_not_compensated),
        cmocka_unit_test(test_seed_zeebe_model_runs_unmodified),
        cmocka_unit_test(test_seed_camunda7_model_rejected_with_reason),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
