/*
 * Messages through the embedding API, over a real SQLite file, with the
 * fixture's clock: message catch events, receive tasks, interrupting and
 * non-interrupting message boundary events, event-based gateways with
 * message and timer branches, message start events; publication before
 * and after the subscription opened, time to live, messageId
 * deduplication, once-per-process correlation, synchronous correlation;
 * and durability of buffered messages and open subscriptions across a
 * reopen of the store.
 */
#include "engine_fixture.h"

#define MINUTE 60000LL

/* <message id=ID name=NAME> with a zeebe:subscription correlationKey. */
#define MESSAGE(id, name, key)                                                                     \
    "<bpmn:message id=\"" id "\" name=\"" name "\"><bpmn:extensionElements>"                       \
    "<zeebe:subscription correlationKey=\"" key "\"/></bpmn:extensionElements></bpmn:message>\n"

static const char *PAID = MESSAGE("paid", "payment-received", "=orderId");

/* start → wait for "payment-received" (orderId) → end */
static const char *WAIT_PAID =
    "<bpmn:startEvent id=\"start\"/>"
    "<bpmn:intermediateCatchEvent id=\"wait\"><bpmn:messageEventDefinition "
    "messageRef=\"paid\"/></bpmn:intermediateCatchEvent>"
    "<bpmn:endEvent id=\"end\"/>" FLOW("f1", "start", "wait") FLOW("f2", "wait", "end");

static int publish(fixture *f, const char *name, const char *key, int64_t ttl, const char *id,
                   const char *vars) {
    baton_message m = {name, key, ttl, id, vars};
    uint64_t mk = 0;
    baton_error err;
    return baton_publish_message(f->b, &m, &mk, &err);
}

static void test_catch_event_waits_for_its_key(void **state) {
    (void)state;
    fixture *f = fixture_new(false);
    deploy_ok(f, "order", PAID, WAIT_PAID);
    uint64_t pi = start_ok(f, "order", "{\"orderId\": \"o-1\"}");
    assert_int_equal(count_records(f, pi, "PROCESS_MESSAGE_SUBSCRIPTION", "CREATED", NULL), 1);
    publish_ok(f, "payment-received", "o-2", 0, NULL); /* another order */
    publish_ok(f, "payment-sent", "o-1", 0, NULL);     /* another message */
    assert_int_equal(instance_state(f, pi), BATON_ACTIVE);
    publish_ok(f, "payment-received", "o-1", 0, "{\"amount\": 42}");
    assert_int_equal(instance_state(f, pi), BATON_COMPLETED);
    assert_int_equal(count_records(f, pi, "PROCESS_MESSAGE_SUBSCRIPTION", "CORRELATED", NULL), 1);

    /* A numeric correlation key matches its text. */
    uint64_t num = start_ok(f, "order", "{\"orderId\": 17}");
    publish_ok(f, "payment-received", "17", 0, NULL);
    assert_int_equal(instance_state(f, num), BATON_COMPLETED);
    fixture_free(f);
}

static void test_message_variables_propagate(void **state) {
    (void)state;
    fixture *f = fixture_new(false);
    deploy_ok(
        f, "order", PAID,
        "<bpmn:startEvent id=\"start\"/>"
        "<bpmn:intermediateCatchEvent id=\"wait\"><bpmn:messageEventDefinition "
        "messageRef=\"paid\"/></bpmn:intermediateCatchEvent>" TASK("ship", "ship")
            FLOW("f1", "start", "wait")
                FLOW("f2", "wait", "ship") "<bpmn:endEvent id=\"end\"/>" FLOW("f3", "ship", "end"));
    uint64_t pi = start_ok(f, "order", "{\"orderId\": \"o-1\"}");
    publish_ok(f, "payment-received", "o-1", 0, "{\"amount\": 42, \"currency\": \"EUR\"}");
    assert_vars_contain(f, pi, "\"amount\":42");
    assert_vars_contain(f, pi, "\"currency\":\"EUR\"");
    fixture_free(f);
}

/* Published before the subscription opened: buffered for its time to live. */
static void test_buffered_message_before_subscription(void **state) {
    (void)state;
    fixture *f = fixture_new(false);
    deploy_ok(f, "order", PAID, WAIT_PAID);
    publish_ok(f, "payment-received", "early", 10 * MINUTE, "{\"early\": true}");
    publish_ok(f, "payment-received", "gone", 0, NULL); /* no time to live: discarded */
    f->now += 5 * MINUTE;
    uint64_t early = start_ok(f, "order", "{\"orderId\": \"early\"}");
    assert_int_equal(instance_state(f, early), BATON_COMPLETED);
    uint64_t gone = start_ok(f, "order", "{\"orderId\": \"gone\"}");
    assert_int_equal(instance_state(f, gone), BATON_ACTIVE);

    /* Correlated once per process: a second instance does not get it again. */
    uint64_t again = start_ok(f, "order", "{\"orderId\": \"early\"}");
    assert_int_equal(instance_state(f, again), BATON_ACTIVE);

    /* Expired: the time to live ended before the subscription opened. */
    publish_ok(f, "payment-received", "late", 10 * MINUTE, NULL);
    f->now += 10 * MINUTE;
    tick(f);
    uint64_t late = start_ok(f, "order", "{\"orderId\": \"late\"}");
    assert_int_equal(instance_state(f, late), BATON_ACTIVE);
    fixture_free(f);
}

/* Two instances of one process wait for the same message: the oldest gets
 * it, once; an instance of another process gets it too. */
static void test_once_per_process(void **state) {
    (void)state;
    fixture *f = fixture_new(false);
    deploy_ok(f, "order", PAID, WAIT_PAID);
    deploy_ok(f, "audit", PAID, WAIT_PAID);
    uint64_t first = start_ok(f, "order", "{\"orderId\": \"k\"}");
    uint64_t second = start_ok(f, "order", "{\"orderId\": \"k\"}");
    uint64_t audit = start_ok(f, "audit", "{\"orderId\": \"k\"}");
    publish_ok(f, "payment-received", "k", 0, NULL);
    assert_int_equal(instance_state(f, first), BATON_COMPLETED);
    assert_int_equal(instance_state(f, second), BATON_ACTIVE);
    assert_int_equal(instance_state(f, audit), BATON_COMPLETED);
    publish_ok(f, "payment-received", "k", 0, NULL);
    assert_int_equal(instance_state(f, second), BATON_COMPLETED);
    fixture_free(f);
}

static void test_message_id_deduplicates_while_buffered(void **state) {
    (void)state;
    fixture *f = fixture_new(false);
    deploy_ok(f, "order", PAID, WAIT_PAID);
    assert_int_equal(publish(f, "payment-received", "o-1", MINUTE, "m-1", NULL), 0);
    assert_int_equal(publish(f, "payment-received", "o-1", MINUTE, "m-1", NULL), BATON_ECONFLICT);
    /* The id is scoped to name and correlation key. */
    assert_int_equal(publish(f, "payment-received", "o-2", MINUTE, "m-1", NULL), 0);
    f->now += MINUTE;
    tick(f); /* expired: the id may be used again */
    assert_int_equal(publish(f, "payment-received", "o-1", MINUTE, "m-1", NULL), 0);
    /* Bad input changes nothing. */
    assert_int_equal(publish(f, "", "o-1", MINUTE, NULL, NULL), BATON_EINVAL);
    assert_int_equal(publish(f, "x", "o-1", -1, NULL, NULL), BATON_EINVAL);
    assert_int_equal(publish(f, "x", "o-1", 0, NULL, "[1]"), BATON_EINVAL);
    fixture_free(f);
}

/* A receive task with an output mapping, and a message boundary event that
 * interrupts a service task. */
static void test_receive_task_and_interrupting_boundary(void **state) {
    (void)state;
    fixture *f = fixture_new(false);
    deploy_ok(f, "receive", PAID,
              "<bpmn:startEvent id=\"start\"/>"
              "<bpmn:receiveTask id=\"recv\" messageRef=\"paid\"><bpmn:extensionElements>"
              "<zeebe:ioMapping><zeebe:output source=\"=amount * 2\" target=\"doubled\"/>"
              "</zeebe:ioMapping></bpmn:extensionElements></bpmn:receiveTask>" TASK(
                  "after", "after") "<bpmn:endEvent id=\"end\"/>" FLOW("f1", "start", "recv")
                  FLOW("f2", "recv", "after") FLOW("f3", "after", "end"));
    uint64_t pi = start_ok(f, "receive", "{\"orderId\": \"r\"}");
    publish_ok(f, "payment-received", "r", 0, "{\"amount\": 21}");
    assert_vars_contain(f, pi, "\"doubled\":42");
    char *vars = baton_get_variables(f->b, pi);
    assert_null(strstr(vars, "\"amount\"")); /* local to the task: mapped only */
    baton_free(vars);

    deploy_ok(
        f, "cancel", MESSAGE("cancelled", "order-cancelled", "=orderId"),
        "<bpmn:startEvent id=\"start\"/>" TASK(
            "work",
            "work") "<bpmn:boundaryEvent id=\"stop\" attachedToRef=\"work\">"
                    "<bpmn:messageEventDefinition messageRef=\"cancelled\"/></bpmn:boundaryEvent>"
                    "<bpmn:endEvent id=\"done\"/><bpmn:endEvent id=\"stopped\"/>" FLOW(
                        "f1", "start", "work") FLOW("f2", "work", "done")
                        FLOW("f3", "stop", "stopped"));
    uint64_t c = start_ok(f, "cancel", "{\"orderId\": \"c\"}");
    assert_int_equal(count_jobs(f, "work"), 1);
    publish_ok(f, "order-cancelled", "c", 0, "{\"reason\": \"customer\"}");
    assert_int_equal(instance_state(f, c), BATON_COMPLETED);
    assert_int_equal(count_jobs(f, "work"), 0); /* the job went with the task */
    assert_int_equal(count_records(f, c, "PROCESS_INSTANCE", "ELEMENT_TERMINATED", NULL), 1);
    fixture_free(f);
}

/* A non-interrupting message boundary: each message starts a parallel
 * path; the task goes on, and its completion closes the subscription. */
static void test_non_interrupting_boundary(void **state) {
    (void)state;
    fixture *f = fixture_new(false);
    deploy_ok(
        f, "remind", MESSAGE("ping", "ping", "=id"),
        "<bpmn:startEvent id=\"start\"/>" TASK(
            "work",
            "work") "<bpmn:boundaryEvent id=\"nudge\" attachedToRef=\"work\" "
                    "cancelActivity=\"false\">"
                    "<bpmn:messageEventDefinition messageRef=\"ping\"/></bpmn:boundaryEvent>" TASK(
                        "note", "note") "<bpmn:endEvent id=\"done\"/><bpmn:endEvent "
                                        "id=\"noted\"/>" FLOW("f1", "start", "work")
                                            FLOW("f2", "work", "done") FLOW("f3", "nudge", "note")
                                                FLOW("f4", "note", "noted"));
    uint64_t pi = start_ok(f, "remind", "{\"id\": \"n\"}");
    publish_ok(f, "ping", "n", 0, NULL);
    publish_ok(f, "ping", "n", 0, NULL);
    assert_int_equal(count_jobs(f, "note"), 2);
    assert_int_equal(count_jobs(f, "work"), 1);
    complete_ok(f, one_job(f, "work"), NULL);
    assert_int_equal(count_records(f, pi, "PROCESS_MESSAGE_SUBSCRIPTION", "DELETED", NULL), 1);
    publish_ok(f, "ping", "n", 0, NULL); /* nobody listens now */
    assert_int_equal(count_jobs(f, "note"), 2);
    baton_job jobs[4];
    int n = 0;
    baton_error err;
    assert_int_equal(baton_activate_jobs(f->b, "note", "w", MINUTE, 4, jobs, &n, &err), 0);
    assert_int_equal(n, 2);
    for (int i = 0; i < n; i++)
        complete_ok(f, jobs[i].key, NULL);
    baton_jobs_free(jobs, n);
    assert_int_equal(instance_state(f, pi), BATON_COMPLETED);
    fixture_free(f);
}

/* An event-based gateway: the message wins in one instance, the timer in
 * the other (whose subscription then closes). */
static void test_event_gateway_message_or_timer(void **state) {
    (void)state;
    fixture *f = fixture_new(false);
    deploy_ok(
        f, "race", PAID,
        "<bpmn:startEvent id=\"start\"/><bpmn:eventBasedGateway id=\"gw\"/>"
        "<bpmn:intermediateCatchEvent id=\"msg\"><bpmn:messageEventDefinition "
        "messageRef=\"paid\"/></bpmn:intermediateCatchEvent>"
        "<bpmn:intermediateCatchEvent id=\"timeout\"><bpmn:timerEventDefinition>"
        "<bpmn:timeDuration>PT1H</bpmn:timeDuration></bpmn:timerEventDefinition>"
        "</bpmn:intermediateCatchEvent>" TASK("ship", "ship")
            TASK("remind", "remind") "<bpmn:endEvent id=\"e1\"/><bpmn:endEvent id=\"e2\"/>" FLOW(
                "f0", "start", "gw") FLOW("f1", "gw", "msg") FLOW("f2", "gw", "timeout")
                FLOW("f3", "msg", "ship") FLOW("f4", "timeout", "remind") FLOW("f5", "ship", "e1")
                    FLOW("f6", "remind", "e2"));
    uint64_t paid = start_ok(f, "race", "{\"orderId\": \"a\"}");
    uint64_t slow = start_ok(f, "race", "{\"orderId\": \"b\"}");
    publish_ok(f, "payment-received", "a", 0, "{\"amount\": 5}");
    assert_int_equal(count_jobs(f, "ship"), 1);
    assert_vars_contain(f, paid, "\"amount\":5");
    f->now += 60 * MINUTE;
    tick(f);
    assert_int_equal(count_jobs(f, "remind"), 1);
    assert_int_equal(count_jobs(f, "ship"), 1); /* the timer of `paid` was cancelled */
    assert_int_equal(count_records(f, slow, "PROCESS_MESSAGE_SUBSCRIPTION", "DELETED", NULL), 1);
    publish_ok(f, "payment-received", "b", 0, NULL);
    assert_int_equal(count_jobs(f, "ship"), 1);

    /* A buffered message is there when the gateway opens: it wins at once. */
    publish_ok(f, "payment-received", "c", MINUTE, NULL);
    start_ok(f, "race", "{\"orderId\": \"c\"}");
    assert_int_equal(count_jobs(f, "ship"), 2);
    fixture_free(f);
}

static const char *STARTED_BY_MESSAGE =
    "<bpmn:startEvent id=\"order-placed\"><bpmn:messageEventDefinition messageRef=\"placed\"/>"
    "</bpmn:startEvent>" TASK("handle", "handle") "<bpmn:endEvent id=\"end\"/>" FLOW(
        "f1", "order-placed", "handle") FLOW("f2", "handle", "end");

/* A message start event starts an instance per message; while an instance
 * started with a correlation key is active, another message with the key
 * waits in the buffer and starts the next instance when it ends. */
static void test_message_start_event(void **state) {
    (void)state;
    fixture *f = fixture_new(false);
    publish_ok(f, "order-placed", "", MINUTE, NULL); /* before the deployment: never starts it */
    deploy_ok(f, "intake", MESSAGE("placed", "order-placed", "=id"), STARTED_BY_MESSAGE);
    assert_int_equal(count_jobs(f, "handle"), 0);
    baton_error err;
    uint64_t pi = 0;
    assert_int_equal(baton_create_instance(f->b, "intake", NULL, NULL, &pi, &err), BATON_EINVAL);
    assert_non_null(strstr(err.message, "no none start event"));

    baton_message m = {"order-placed", "cust-1", 10 * MINUTE, NULL, "{\"item\": \"book\"}"};
    uint64_t mk, first;
    assert_int_equal(baton_correlate_message(f->b, &m, &mk, &first, &err), 0);
    assert_int_equal(instance_state(f, first), BATON_ACTIVE);
    assert_vars_contain(f, first, "\"item\":\"book\"");
    assert_int_equal(
        count_records(f, first, "MESSAGE_START_EVENT_SUBSCRIPTION", "CORRELATED", NULL), 1);

    /* Same key while the first is active: buffered, not started. */
    publish_ok(f, "order-placed", "cust-1", 10 * MINUTE, "{\"item\": \"pen\"}");
    assert_int_equal(count_jobs(f, "handle"), 1);
    /* Another key, and no key at all, start at once. */
    publish_ok(f, "order-placed", "cust-2", 0, NULL);
    publish_ok(f, "order-placed", "", 0, NULL);
    assert_int_equal(count_jobs(f, "handle"), 3);

    /* The first ends: the buffered message starts the next for cust-1. */
    baton_job jobs[4];
    int n = 0;
    assert_int_equal(baton_activate_jobs(f->b, "handle", "w", MINUTE, 4, jobs, &n, &err), 0);
    for (int i = 0; i < n; i++)
        if (jobs[i].process_instance_key == first)
            complete_ok(f, jobs[i].key, NULL);
    baton_jobs_free(jobs, n);
    assert_int_equal(instance_state(f, first), BATON_COMPLETED);
    f->now += MINUTE + 1; /* let the other activations time out */
    tick(f);
    assert_int_equal(count_jobs(f, "handle"), 3);

    /* After a restart, the message start event still starts instances. */
    fixture_reopen(f);
    baton_message again = {"order-placed", "cust-3", 0, NULL, NULL};
    assert_int_equal(baton_correlate_message(f->b, &again, &mk, &first, &err), 0);
    assert_int_equal(count_jobs(f, "handle"), 4);

    /* A version without the message start event is no longer started by it. */
    deploy_ok(f, "intake", "",
              "<bpmn:startEvent id=\"s\"/>" TASK(
                  "handle", "handle") "<bpmn:endEvent id=\"e\"/>" FLOW("f1", "s", "handle")
                  FLOW("f2", "handle", "e"));
    baton_message later = {"order-placed", "cust-9", 0, NULL, NULL};
    assert_int_equal(baton_correlate_message(f->b, &later, &mk, &first, &err), BATON_ENOTFOUND);
    assert_int_equal(count_jobs(f, "handle"), 4);
    fixture_free(f);
}

static void test_correlate_reports_not_found_and_changes_nothing(void **state) {
    (void)state;
    fixture *f = fixture_new(false);
    deploy_ok(f, "order", PAID, WAIT_PAID);
    baton_message m = {"payment-received", "o-1", 0, NULL, NULL};
    uint64_t mk = 0, pi = 0;
    baton_error err;
    assert_int_equal(baton_correlate_message(f->b, &m, &mk, &pi, &err), BATON_ENOTFOUND);
    uint64_t waiting = start_ok(f, "order", "{\"orderId\": \"o-1\"}");
    assert_int_equal(instance_state(f, waiting), BATON_ACTIVE); /* it was not buffered */
    assert_int_equal(baton_correlate_message(f->b, &m, &mk, &pi, &err), 0);
    assert_int_equal(pi, waiting);
    assert_int_equal(instance_state(f, waiting), BATON_COMPLETED);
    fixture_free(f);
}

/* A correlation key that does not evaluate is an incident; fixed and
 * resolved, the subscription opens. Cancelling closes it. */
static void test_bad_correlation_key_incident_and_cancel(void **state) {
    (void)state;
    fixture *f = fixture_new(false);
    deploy_ok(f, "order", PAID, WAIT_PAID);
    uint64_t pi = start_ok(f, "order", "{}");
    baton_incident inc[2];
    assert_int_equal(baton_list_incidents(f->b, pi, inc, 2), 1);
    assert_string_equal(inc[0].type, "EXTRACT_VALUE_ERROR");
    assert_non_null(strstr(inc[0].message, "correlation key"));
    baton_error err;
    assert_int_equal(baton_set_variables(f->b, pi, "{\"orderId\": \"fixed\"}", false, &err), 0);
    assert_int_equal(baton_resolve_incident(f->b, inc[0].key, &err), 0);
    publish_ok(f, "payment-received", "fixed", 0, NULL);
    assert_int_equal(instance_state(f, pi), BATON_COMPLETED);

    uint64_t cancelled = start_ok(f, "order", "{\"orderId\": \"x\"}");
    assert_int_equal(baton_cancel_instance(f->b, cancelled, &err), 0);
    assert_int_equal(count_records(f, cancelled, "PROCESS_MESSAGE_SUBSCRIPTION", "DELETED", NULL),
                     1);
    fixture_free(f);
}

/* Buffered messages and open subscriptions survive a restart; a message
 * whose time to live ended while the store was closed expires. */
static void test_durable_across_reopen(void **state) {
    (void)state;
    fixture *f = fixture_new(false);
    deploy_ok(f, "order", PAID, WAIT_PAID);
    uint64_t waiting = start_ok(f, "order", "{\"orderId\": \"w\"}");
    publish_ok(f, "payment-received", "b", 30 * MINUTE, "{\"kept\": 1}");
    publish_ok(f, "payment-received", "short", MINUTE, NULL);
    assert_int_equal(publish(f, "payment-received", "d", 30 * MINUTE, "id-1", NULL), 0);
    fixture_reopen(f);
    assert_int_equal(publish(f, "payment-received", "d", 30 * MINUTE, "id-1", NULL),
                     BATON_ECONFLICT);
    publish_ok(f, "payment-received", "w", 0, NULL);
    assert_int_equal(instance_state(f, waiting), BATON_COMPLETED);
    f->now += 2 * MINUTE;
    fixture_reopen(f);
    tick(f);
    uint64_t b = start_ok(f, "order", "{\"orderId\": \"b\"}");
    assert_int_equal(instance_state(f, b), BATON_COMPLETED);
    uint64_t s = start_ok(f, "order", "{\"orderId\": \"short\"}");
    assert_int_equal(instance_state(f, s), BATON_ACTIVE);
    /* Correlated to `order` before the restart: not again after it. */
    fixture_reopen(f);
    uint64_t b2 = start_ok(f, "order", "{\"orderId\": \"b\"}");
    assert_int_equal(instance_state(f, b2), BATON_ACTIVE);
    fixture_free(f);
}

/* A model that cannot work is refused with the element and the reason. */
static void test_model_errors(void **state) {
    (void)state;
    fixture *f = fixture_new(false);
    struct {
        const char *defs, *body, *needle;
    } cases[] = {
        {"<bpmn:message id=\"m\" name=\"n\"/>", WAIT_PAID, "does not name a <message>"},
        {"<bpmn:message id=\"paid\" name=\"n\"/>", WAIT_PAID, "needs a correlation key"},
        {"<bpmn:message id=\"paid\"/>", WAIT_PAID, "has no name"},
        {MESSAGE("placed", "=name", "=k"),
         "<bpmn:startEvent id=\"s\"><bpmn:messageEventDefinition messageRef=\"placed\"/>"
         "</bpmn:startEvent><bpmn:endEvent id=\"e\"/>" FLOW("f", "s", "e"),
         "must be a literal"},
        {MESSAGE("placed", "p", "=k"),
         "<bpmn:startEvent id=\"s\"/><bpmn:subProcess id=\"sub\"><bpmn:startEvent id=\"ss\">"
         "<bpmn:messageEventDefinition messageRef=\"placed\"/></bpmn:startEvent>"
         "<bpmn:endEvent id=\"se\"/>" FLOW("sf", "ss",
                                           "se") "</bpmn:subProcess>"
                                                 "<bpmn:endEvent id=\"e\"/>" FLOW("f1", "s", "sub")
                                                     FLOW("f2", "sub", "e"),
         "only allowed at process level"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        deploy_fails(f, cases[i].defs, cases[i].body, cases[i].needle);
    fixture_free(f);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_catch_event_waits_for_its_key),
        cmocka_unit_test(test_message_variables_propagate),
        cmocka_unit_test(test_buffered_message_before_subscription),
        cmocka_unit_test(test_once_per_process),
        cmocka_unit_test(test_message_id_deduplicates_while_buffered),
        cmocka_unit_test(test_receive_task_and_interrupting_boundary),
        cmocka_unit_test(test_non_interrupting_boundary),
        cmocka_unit_test(test_event_gateway_message_or_timer),
        cmocka_unit_test(test_message_start_event),
        cmocka_unit_test(test_correlate_reports_not_found_and_changes_nothing),
        cmocka_unit_test(test_bad_correlation_key_incident_and_cancel),
        cmocka_unit_test(test_durable_across_reopen),
        cmocka_unit_test(test_model_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
