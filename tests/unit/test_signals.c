/*
 * Signals through the embedding API, over a real SQLite file, with the
 * fixture's clock: signal catch events waiting in several instances of two
 * processes, released by one broadcast; a broadcast before the subscription
 * opened is not kept; interrupting and non-interrupting signal boundary
 * events; event-based gateways with a signal and a timer branch (both
 * outcomes); signal start events (one instance per broadcast per process,
 * with variables; the latest version only); signal throw and end events
 * broadcasting inside the engine, in the same command, to other instances
 * and to a boundary event of the thrower's own sub-process; open
 * subscriptions across a reopen of the store; a FEEL signal name that does
 * not evaluate (an incident, resolved); models the engine refuses. One test
 * uses the engine directly: a stored version-2 instance state still decodes.
 */
#include "engine/engine.h"
#include "engine_fixture.h"

#define MINUTE 60000LL

#define SIGNAL(id, name) "<bpmn:signal id=\"" id "\" name=\"" name "\"/>\n"
/* An intermediate signal catch event ID for the <signal> REF. */
#define CATCH(id, ref)                                                                             \
    "<bpmn:intermediateCatchEvent id=\"" id "\"><bpmn:signalEventDefinition signalRef=\"" ref      \
    "\"/></bpmn:intermediateCatchEvent>\n"

/* start → wait for signal "alarm" → end */
static const char *ALARM = SIGNAL("alarm", "alarm");
static const char *WAIT_ALARM =
    "<bpmn:startEvent id=\"start\"/>" CATCH("wait", "alarm") "<bpmn:endEvent id=\"end\"/>" FLOW(
        "f1", "start", "wait") FLOW("f2", "wait", "end");

static uint64_t broadcast_ok(fixture *f, const char *name, const char *vars) {
    uint64_t key = 0;
    baton_error err;
    if (baton_broadcast_signal(f->b, name, vars, &key, &err) != 0)
        fail_msg("broadcast %s: %s", name, err.message);
    assert_true(key > 0);
    return key;
}

/* The keys of the active instances of a process, by their jobs of `type`
 * (activated for 1 ms and given back). */
static int instances_with_job(fixture *f, const char *type, uint64_t *out, int max) {
    baton_job jobs[16];
    int n = 0;
    baton_error err;
    assert_int_equal(baton_activate_jobs(f->b, type, "t", 1, 16, jobs, &n, &err), 0);
    for (int i = 0; i < n && i < max; i++)
        out[i] = jobs[i].process_instance_key;
    baton_jobs_free(jobs, n);
    f->now += 2;
    tick(f);
    return n;
}

/* Several instances of two processes wait for one signal: one broadcast
 * releases them all, with its variables; another name releases none. */
static void test_one_broadcast_releases_every_waiting_instance(void **state) {
    (void)state;
    fixture *f = fixture_new(false);
    deploy_ok(f, "order", ALARM, WAIT_ALARM);
    deploy_ok(f, "audit", ALARM, WAIT_ALARM);
    uint64_t pis[5] = {start_ok(f, "order", NULL), start_ok(f, "order", NULL),
                       start_ok(f, "order", NULL), start_ok(f, "audit", NULL),
                       start_ok(f, "audit", NULL)};
    for (int i = 0; i < 5; i++)
        assert_int_equal(count_records(f, pis[i], "SIGNAL_SUBSCRIPTION", "CREATED", NULL), 1);
    broadcast_ok(f, "alarm-2", NULL); /* another signal */
    broadcast_ok(f, "Alarm", NULL);   /* names are case-sensitive */
    for (int i = 0; i < 5; i++)
        assert_int_equal(instance_state(f, pis[i]), BATON_ACTIVE);
    broadcast_ok(f, "alarm", "{\"level\": 3}");
    for (int i = 0; i < 5; i++) {
        assert_int_equal(instance_state(f, pis[i]), BATON_COMPLETED);
        assert_int_equal(count_records(f, pis[i], "SIGNAL_SUBSCRIPTION", "DELETED", NULL), 1);
        assert_int_equal(count_records(f, pis[i], "PROCESS_EVENT", "TRIGGERED", NULL), 1);
    }
    assert_int_equal(count_records(f, 0, "SIGNAL", "BROADCASTED", NULL), 3);
    fixture_free(f);
}

static void test_signal_variables_propagate_or_are_mapped(void **state) {
    (void)state;
    fixture *f = fixture_new(false);
    /* Without output mappings the signal's variables reach the root; with
     * them, only what the mappings make. */
    deploy_ok(f, "plain", ALARM,
              "<bpmn:startEvent id=\"start\"/>" CATCH("wait", "alarm")
                  TASK("next", "next") "<bpmn:endEvent id=\"end\"/>" FLOW("f1", "start", "wait")
                      FLOW("f2", "wait", "next") FLOW("f3", "next", "end"));
    deploy_ok(f, "mapped", ALARM,
              "<bpmn:startEvent id=\"start\"/>"
              "<bpmn:intermediateCatchEvent id=\"wait\"><bpmn:extensionElements><zeebe:ioMapping>"
              "<zeebe:output source=\"=level * 10\" target=\"scaled\"/></zeebe:ioMapping>"
              "</bpmn:extensionElements><bpmn:signalEventDefinition signalRef=\"alarm\"/>"
              "</bpmn:intermediateCatchEvent>" TASK(
                  "next", "next") "<bpmn:endEvent id=\"end\"/>" FLOW("f1", "start", "wait")
                  FLOW("f2", "wait", "next") FLOW("f3", "next", "end"));
    uint64_t plain = start_ok(f, "plain", NULL);
    uint64_t mapped = start_ok(f, "mapped", NULL);
    broadcast_ok(f, "alarm", "{\"level\": 4, \"zone\": \"B\"}");
    assert_vars_contain(f, plain, "\"level\":4");
    assert_vars_contain(f, plain, "\"zone\":\"B\"");
    assert_vars_contain(f, mapped, "\"scaled\":40");
    char *vars = baton_get_variables(f->b, mapped);
    assert_null(strstr(vars, "\"level\""));
    baton_free(vars);
    /* Bad input changes nothing. */
    baton_error err;
    uint64_t key = 0;
    assert_int_equal(baton_broadcast_signal(f->b, "", NULL, &key, &err), BATON_EINVAL);
    assert_int_equal(baton_broadcast_signal(f->b, NULL, NULL, &key, &err), BATON_EINVAL);
    assert_int_equal(baton_broadcast_signal(f->b, "alarm", "[1]", &key, &err), BATON_EINVAL);
    assert_int_equal(count_records(f, 0, "SIGNAL", "BROADCASTED", NULL), 1);
    fixture_free(f);
}

/* A signal is not buffered: one broadcast before the subscription opened is
 * lost to it. A FEEL name is evaluated when the subscription opens. */
static void test_broadcast_before_subscription_is_not_kept(void **state) {
    (void)state;
    fixture *f = fixture_new(false);
    deploy_ok(f, "order", ALARM, WAIT_ALARM);
    deploy_ok(f, "named", SIGNAL("s", "=&quot;order-&quot; + orderId"),
              "<bpmn:startEvent id=\"start\"/>" CATCH(
                  "wait", "s") "<bpmn:endEvent id=\"end\"/>" FLOW("f1", "start", "wait")
                  FLOW("f2", "wait", "end"));
    broadcast_ok(f, "alarm", NULL);
    broadcast_ok(f, "order-7", NULL);
    uint64_t late = start_ok(f, "order", NULL);
    uint64_t named = start_ok(f, "named", "{\"orderId\": \"7\"}");
    uint64_t other = start_ok(f, "named", "{\"orderId\": \"8\"}");
    assert_int_equal(instance_state(f, late), BATON_ACTIVE);
    assert_int_equal(instance_state(f, named), BATON_ACTIVE);
    /* Changing the variable later does not change the open subscription. */
    baton_error err;
    assert_int_equal(baton_set_variables(f->b, other, "{\"orderId\": \"7\"}", false, &err), 0);
    broadcast_ok(f, "order-7", NULL);
    assert_int_equal(instance_state(f, named), BATON_COMPLETED);
    assert_int_equal(instance_state(f, other), BATON_ACTIVE);
    assert_int_equal(instance_state(f, late), BATON_ACTIVE);
    broadcast_ok(f, "order-8", NULL);
    assert_int_equal(instance_state(f, other), BATON_COMPLETED);
    broadcast_ok(f, "alarm", NULL);
    assert_int_equal(instance_state(f, late), BATON_COMPLETED);
    fixture_free(f);
}

/* work, with a signal boundary event `stop` (interrupting or not) → note */
static char *boundary_body(bool interrupting) {
    static char body[2048];
    snprintf(
        body, sizeof body,
        "<bpmn:startEvent id=\"start\"/>" TASK(
            "work",
            "work") "<bpmn:boundaryEvent id=\"stop\" attachedToRef=\"work\" cancelActivity=\"%s\">"
                    "<bpmn:signalEventDefinition signalRef=\"alarm\"/></bpmn:boundaryEvent>" TASK(
                        "note", "note") "<bpmn:endEvent id=\"done\"/><bpmn:endEvent "
                                        "id=\"noted\"/>" FLOW("f1", "start", "work")
                                            FLOW("f2", "work", "done") FLOW("f3", "stop", "note")
                                                FLOW("f4", "note", "noted"),
        interrupting ? "true" : "false");
    return body;
}

static void test_interrupting_boundary(void **state) {
    (void)state;
    fixture *f = fixture_new(false);
    deploy_ok(f, "stoppable", ALARM, boundary_body(true));
    uint64_t a = start_ok(f, "stoppable", NULL);
    uint64_t b = start_ok(f, "stoppable", NULL);
    assert_int_equal(count_jobs(f, "work"), 2);
    broadcast_ok(f, "alarm", "{\"why\": \"fire\"}");
    assert_int_equal(count_jobs(f, "work"), 0); /* both jobs went with their tasks */
    assert_int_equal(count_jobs(f, "note"), 2);
    for (int i = 0; i < 2; i++) {
        uint64_t pi = i ? b : a;
        assert_int_equal(count_records(f, pi, "PROCESS_INSTANCE", "ELEMENT_TERMINATED", NULL), 1);
        assert_vars_contain(f, pi, "\"why\":\"fire\"");
    }
    broadcast_ok(f, "alarm", NULL); /* nobody listens now */
    assert_int_equal(count_jobs(f, "note"), 2);
    fixture_free(f);
}

/* A non-interrupting boundary: each broadcast starts a parallel path; the
 * task goes on, and its completion closes the subscription. */
static void test_non_interrupting_boundary(void **state) {
    (void)state;
    fixture *f = fixture_new(false);
    deploy_ok(f, "nudge", ALARM, boundary_body(false));
    uint64_t pi = start_ok(f, "nudge", NULL);
    broadcast_ok(f, "alarm", NULL);
    broadcast_ok(f, "alarm", NULL);
    assert_int_equal(count_jobs(f, "note"), 2);
    assert_int_equal(count_jobs(f, "work"), 1);
    assert_int_equal(count_records(f, pi, "SIGNAL_SUBSCRIPTION", "DELETED", NULL), 0);
    complete_ok(f, one_job(f, "work"), NULL);
    assert_int_equal(count_records(f, pi, "SIGNAL_SUBSCRIPTION", "DELETED", NULL), 1);
    broadcast_ok(f, "alarm", NULL);
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

/* An event-based gateway: the signal wins in one instance, the timer in
 * the other (whose subscription then closes). */
static void test_event_gateway_signal_or_timer(void **state) {
    (void)state;
    fixture *f = fixture_new(false);
    deploy_ok(f, "race", ALARM,
              "<bpmn:startEvent id=\"start\"/><bpmn:eventBasedGateway id=\"gw\"/>" CATCH(
                  "sig", "alarm") "<bpmn:intermediateCatchEvent id=\"timeout\">"
                                  "<bpmn:timerEventDefinition><bpmn:timeDuration>PT1H"
                                  "</bpmn:timeDuration></bpmn:timerEventDefinition>"
                                  "</bpmn:intermediateCatchEvent>" TASK("react", "react") TASK(
                                      "remind",
                                      "remind") "<bpmn:endEvent id=\"e1\"/><bpmn:endEvent "
                                                "id=\"e2\"/>" FLOW("f0", "start", "gw")
                                                    FLOW("f1", "gw", "sig")
                                                        FLOW("f2", "gw", "timeout")
                                                            FLOW("f3", "sig", "react")
                                                                FLOW("f4", "timeout", "remind")
                                                                    FLOW("f5", "react", "e1")
                                                                        FLOW("f6", "remind", "e2"));
    uint64_t fast = start_ok(f, "race", NULL);
    broadcast_ok(f, "alarm", "{\"at\": 1}");
    uint64_t slow = start_ok(f, "race", NULL); /* opens after the broadcast */
    uint64_t which[2];
    assert_int_equal(instances_with_job(f, "react", which, 2), 1);
    assert_true(which[0] == fast);
    assert_vars_contain(f, fast, "\"at\":1");
    f->now += 60 * MINUTE;
    tick(f);
    assert_int_equal(instances_with_job(f, "remind", which, 2), 1);
    assert_true(which[0] == slow);
    assert_int_equal(count_jobs(f, "react"), 1); /* the timer of `fast` was cancelled */
    assert_int_equal(count_records(f, slow, "SIGNAL_SUBSCRIPTION", "DELETED", NULL), 1);
    assert_int_equal(count_records(f, fast, "TIMER", "CANCELED", NULL), 1);
    broadcast_ok(f, "alarm", NULL);
    assert_int_equal(count_jobs(f, "react"), 1);
    fixture_free(f);
}

/* start on "go" (and on "restart", a second signal start event) → handle */
static const char *STARTED_BY_SIGNAL =
    "<bpmn:startEvent id=\"on-go\"><bpmn:signalEventDefinition signalRef=\"go\"/>"
    "</bpmn:startEvent><bpmn:startEvent id=\"on-restart\"><bpmn:signalEventDefinition "
    "signalRef=\"restart\"/></bpmn:startEvent>" TASK(
        "handle", "handle") "<bpmn:endEvent id=\"end\"/>" FLOW("f1", "on-go", "handle")
        FLOW("f2", "on-restart", "handle") FLOW("f3", "handle", "end");
#define GO_SIGNALS SIGNAL("go", "go") SIGNAL("restart", "restart")

/* A signal start event starts one instance per broadcast in every process
 * whose latest version has one for the name, with the signal's variables. */
static void test_signal_start_event(void **state) {
    (void)state;
    fixture *f = fixture_new(false);
    broadcast_ok(f, "go", NULL); /* before the deployment: starts nothing, later neither */
    deploy_ok(f, "intake", GO_SIGNALS, STARTED_BY_SIGNAL);
    deploy_ok(f, "mirror", GO_SIGNALS, STARTED_BY_SIGNAL);
    /* A process with a none start event and a signal start event. */
    deploy_ok(f, "both", SIGNAL("go", "go"),
              "<bpmn:startEvent id=\"plain\"/><bpmn:startEvent id=\"on-go\">"
              "<bpmn:signalEventDefinition signalRef=\"go\"/></bpmn:startEvent>" TASK(
                  "handle", "handle") "<bpmn:endEvent id=\"end\"/>" FLOW("f1", "plain", "handle")
                  FLOW("f2", "on-go", "handle") FLOW("f3", "handle", "end"));
    assert_int_equal(count_jobs(f, "handle"), 0);
    baton_error err;
    uint64_t pi = 0;
    assert_int_equal(baton_create_instance(f->b, "intake", NULL, NULL, &pi, &err), BATON_EINVAL);
    assert_non_null(strstr(err.message, "no none start event"));
    start_ok(f, "both", NULL);
    assert_int_equal(count_jobs(f, "handle"), 1);

    broadcast_ok(f, "go", "{\"batch\": 1}");
    uint64_t started[16];
    assert_int_equal(instances_with_job(f, "handle", started, 16), 4);
    broadcast_ok(f, "go", "{\"batch\": 2}");
    broadcast_ok(f, "restart", NULL); /* intake and mirror only */
    assert_int_equal(count_jobs(f, "handle"), 9);
    int batch1 = 0;
    for (int i = 0; i < 4; i++) {
        char *vars = baton_get_variables(f->b, started[i]);
        batch1 += strstr(vars, "\"batch\":1") != NULL;
        baton_free(vars);
    }
    assert_int_equal(batch1, 3);
    assert_int_equal(count_records(f, started[1], "PROCESS_EVENT", "TRIGGERED", NULL), 1);

    /* A new version without the signal start event is no longer started by
     * it; the old version is not either. */
    deploy_ok(f, "mirror", "",
              "<bpmn:startEvent id=\"s\"/>" TASK(
                  "handle", "handle") "<bpmn:endEvent id=\"end\"/>" FLOW("f1", "s", "handle")
                  FLOW("f2", "handle", "end"));
    broadcast_ok(f, "go", NULL);
    assert_int_equal(count_jobs(f, "handle"), 11);
    fixture_free(f);
}

/* A signal throw event and a signal end event broadcast inside the engine:
 * the instances waiting for them go on in the same command, and the throw
 * event's local variables (its input mappings) travel with the signal. */
static void test_throw_and_end_events_broadcast_in_the_same_command(void **state) {
    (void)state;
    fixture *f = fixture_new(false);
    const char *defs = SIGNAL("ready", "ready") SIGNAL("done", "done");
    deploy_ok(f, "waiter", defs,
              "<bpmn:startEvent id=\"start\"/>" CATCH("w1", "ready")
                  CATCH("w2", "done") "<bpmn:endEvent id=\"end\"/>" FLOW("f1", "start", "w1")
                      FLOW("f2", "w1", "w2") FLOW("f3", "w2", "end"));
    deploy_ok(f, "herald", defs,
              "<bpmn:startEvent id=\"start\"/>"
              "<bpmn:intermediateThrowEvent id=\"announce\"><bpmn:extensionElements>"
              "<zeebe:ioMapping><zeebe:input source=\"=count + 1\" target=\"seen\"/>"
              "</zeebe:ioMapping></bpmn:extensionElements>"
              "<bpmn:signalEventDefinition signalRef=\"ready\"/></bpmn:intermediateThrowEvent>"
              "<bpmn:endEvent id=\"finish\"><bpmn:signalEventDefinition signalRef=\"done\"/>"
              "</bpmn:endEvent>" FLOW("f1", "start", "announce") FLOW("f2", "announce", "finish"));
    uint64_t w1 = start_ok(f, "waiter", NULL);
    uint64_t w2 = start_ok(f, "waiter", NULL);
    uint64_t h = start_ok(f, "herald", "{\"count\": 41}");
    /* Both signals were thrown by the start command: the waiters passed
     * "ready", then "done" (opened after "ready" within the command). */
    assert_int_equal(instance_state(f, h), BATON_COMPLETED);
    assert_int_equal(instance_state(f, w1), BATON_COMPLETED);
    assert_int_equal(instance_state(f, w2), BATON_COMPLETED);
    assert_int_equal(count_records(f, h, "SIGNAL", "BROADCASTED", NULL), 2);
    /* The thrower's local variable travelled; its other variables did not. */
    assert_int_equal(count_records(f, w1, "VARIABLE", "CREATED", NULL), 1);
    fixture_free(f);
    f = fixture_new(false);
    deploy_ok(f, "waiter", defs,
              "<bpmn:startEvent id=\"start\"/>" CATCH("w1", "ready")
                  TASK("next", "next") "<bpmn:endEvent id=\"end\"/>" FLOW("f1", "start", "w1")
                      FLOW("f2", "w1", "next") FLOW("f3", "next", "end"));
    deploy_ok(f, "herald", defs,
              "<bpmn:startEvent id=\"start\"/>"
              "<bpmn:intermediateThrowEvent id=\"announce\"><bpmn:extensionElements>"
              "<zeebe:ioMapping><zeebe:input source=\"=count + 1\" target=\"seen\"/>"
              "</zeebe:ioMapping></bpmn:extensionElements>"
              "<bpmn:signalEventDefinition signalRef=\"ready\"/></bpmn:intermediateThrowEvent>"
              "<bpmn:endEvent id=\"end\"/>" FLOW("f1", "start", "announce")
                  FLOW("f2", "announce", "end"));
    uint64_t w = start_ok(f, "waiter", NULL);
    start_ok(f, "herald", "{\"count\": 41}");
    assert_vars_contain(f, w, "\"seen\":42");
    char *vars = baton_get_variables(f->b, w);
    assert_null(strstr(vars, "\"count\""));
    baton_free(vars);
    fixture_free(f);
}

/* A signal thrown inside a sub-process is caught by the sub-process's own
 * interrupting boundary event, which terminates the thrower. A parallel
 * branch of the same instance waiting for it is released as well. */
static void test_thrown_signal_caught_in_its_own_instance(void **state) {
    (void)state;
    fixture *f = fixture_new(false);
    deploy_ok(
        f, "self", ALARM,
        "<bpmn:startEvent id=\"start\"/><bpmn:parallelGateway id=\"fork\"/>" CATCH(
            "listen",
            "alarm") "<bpmn:endEvent id=\"heard\"/>"
                     "<bpmn:subProcess id=\"sub\"><bpmn:startEvent id=\"ss\"/>"
                     "<bpmn:intermediateThrowEvent id=\"raise\">"
                     "<bpmn:signalEventDefinition signalRef=\"alarm\"/>"
                     "</bpmn:intermediateThrowEvent>" TASK(
                         "never", "never") "<bpmn:endEvent id=\"se\"/>" FLOW("s1", "ss", "raise")
                         FLOW("s2", "raise", "never")
                             FLOW("s3", "never",
                                  "se") "</bpmn:subProcess>"
                                        "<bpmn:boundaryEvent id=\"caught\" "
                                        "attachedToRef=\"sub\"><bpmn:signalEventDefinition "
                                        "signalRef=\"alarm\"/></bpmn:boundaryEvent>"
                                        "<bpmn:endEvent id=\"subDone\"/><bpmn:endEvent "
                                        "id=\"stopped\"/>" FLOW("f0", "start", "fork") FLOW(
                                            "f1", "fork", "listen") FLOW("f2", "listen", "heard")
                                            FLOW("f3", "fork", "sub") FLOW("f4", "sub", "subDone")
                                                FLOW("f5", "caught", "stopped"));
    uint64_t pi = start_ok(f, "self", NULL);
    assert_int_equal(instance_state(f, pi), BATON_COMPLETED);
    assert_int_equal(count_jobs(f, "never"), 0);
    /* The sub-process and the throw event inside it were terminated. */
    assert_int_equal(count_records(f, pi, "PROCESS_INSTANCE", "ELEMENT_TERMINATED", NULL), 2);
    assert_int_equal(count_records(f, pi, "PROCESS_EVENT", "TRIGGERED", NULL), 2);
    fixture_free(f);
}

/* Open subscriptions survive a restart: the index is rebuilt from the
 * instances' state. */
static void test_subscriptions_survive_reopen(void **state) {
    (void)state;
    fixture *f = fixture_new(false);
    deploy_ok(f, "order", ALARM, WAIT_ALARM);
    deploy_ok(f, "stoppable", ALARM, boundary_body(true));
    uint64_t waiting = start_ok(f, "order", NULL);
    uint64_t working = start_ok(f, "stoppable", NULL);
    fixture_reopen(f);
    assert_int_equal(instance_state(f, waiting), BATON_ACTIVE);
    broadcast_ok(f, "alarm", NULL);
    assert_int_equal(instance_state(f, waiting), BATON_COMPLETED);
    assert_int_equal(count_jobs(f, "work"), 0);
    assert_int_equal(count_jobs(f, "note"), 1);
    fixture_reopen(f); /* and closed ones stay closed */
    broadcast_ok(f, "alarm", NULL);
    assert_int_equal(count_jobs(f, "note"), 1);
    complete_ok(f, one_job(f, "note"), NULL);
    assert_int_equal(instance_state(f, working), BATON_COMPLETED);
    fixture_free(f);
}

/* A FEEL name that is no string is an EXTRACT_VALUE_ERROR incident, for a
 * catch event and for a throw event; fixed and resolved, they go on. */
static void test_bad_signal_name_incident_and_resolve(void **state) {
    (void)state;
    fixture *f = fixture_new(false);
    const char *defs = SIGNAL("dyn", "=topic");
    deploy_ok(f, "listener", defs,
              "<bpmn:startEvent id=\"start\"/>" CATCH(
                  "wait", "dyn") "<bpmn:endEvent id=\"end\"/>" FLOW("f1", "start", "wait")
                  FLOW("f2", "wait", "end"));
    deploy_ok(f, "speaker", defs,
              "<bpmn:startEvent id=\"start\"/><bpmn:intermediateThrowEvent id=\"say\">"
              "<bpmn:signalEventDefinition signalRef=\"dyn\"/></bpmn:intermediateThrowEvent>"
              "<bpmn:endEvent id=\"end\"/>" FLOW("f1", "start", "say") FLOW("f2", "say", "end"));
    uint64_t listener = start_ok(f, "listener", "{\"topic\": 5}");
    baton_incident inc[2];
    assert_int_equal(baton_list_incidents(f->b, listener, inc, 2), 1);
    assert_string_equal(inc[0].type, "EXTRACT_VALUE_ERROR");
    assert_string_equal(inc[0].element_id, "wait");
    assert_non_null(strstr(inc[0].message, "signal name"));
    baton_error err;
    assert_int_equal(baton_set_variables(f->b, listener, "{\"topic\": \"news\"}", false, &err), 0);
    assert_int_equal(baton_resolve_incident(f->b, inc[0].key, &err), 0);
    assert_int_equal(baton_list_incidents(f->b, listener, inc, 2), 0);
    assert_int_equal(count_records(f, listener, "SIGNAL_SUBSCRIPTION", "CREATED", NULL), 1);

    uint64_t speaker = start_ok(f, "speaker", NULL); /* topic missing: null */
    assert_int_equal(baton_list_incidents(f->b, speaker, inc, 2), 1);
    assert_string_equal(inc[0].element_id, "say");
    assert_int_equal(count_records(f, speaker, "SIGNAL", "BROADCASTED", NULL), 0);
    assert_int_equal(baton_set_variables(f->b, speaker, "{\"topic\": \"news\"}", false, &err), 0);
    assert_int_equal(baton_resolve_incident(f->b, inc[0].key, &err), 0);
    assert_int_equal(instance_state(f, speaker), BATON_COMPLETED);
    assert_int_equal(instance_state(f, listener), BATON_COMPLETED);

    /* Cancelling closes a subscription. */
    uint64_t cancelled = start_ok(f, "listener", "{\"topic\": \"x\"}");
    assert_int_equal(baton_cancel_instance(f->b, cancelled, &err), 0);
    assert_int_equal(count_records(f, cancelled, "SIGNAL_SUBSCRIPTION", "DELETED", NULL), 1);
    fixture_free(f);
}

/* A model that cannot work is refused with the element and the reason. */
static void test_model_errors(void **state) {
    (void)state;
    fixture *f = fixture_new(false);
    const char *start_on_s =
        "<bpmn:startEvent id=\"s\"><bpmn:signalEventDefinition signalRef=\"sig\"/>"
        "</bpmn:startEvent><bpmn:endEvent id=\"e\"/>" FLOW("f", "s", "e");
    struct {
        const char *defs, *body, *element, *needle;
    } cases[] = {
        {SIGNAL("other", "alarm"), WAIT_ALARM, "wait",
         "signalRef 'alarm' does not name a <signal>"},
        {"<bpmn:error id=\"alarm\" errorCode=\"E\"/>", WAIT_ALARM, "wait",
         "does not name a <signal>"},
        {"<bpmn:signal id=\"alarm\"/>", WAIT_ALARM, "wait", "signal 'alarm' has no name"},
        {ALARM,
         "<bpmn:startEvent id=\"start\"/><bpmn:intermediateCatchEvent id=\"wait\">"
         "<bpmn:signalEventDefinition/></bpmn:intermediateCatchEvent><bpmn:endEvent "
         "id=\"end\"/>" FLOW("f1", "start", "wait") FLOW("f2", "wait", "end"),
         "wait", "needs a signalRef"},
        {SIGNAL("sig", "=name"), start_on_s, "s", "must be a literal"},
        {SIGNAL("sig", "p"),
         "<bpmn:startEvent id=\"s\"/><bpmn:subProcess id=\"sub\"><bpmn:startEvent id=\"ss\">"
         "<bpmn:signalEventDefinition signalRef=\"sig\"/></bpmn:startEvent>"
         "<bpmn:endEvent id=\"se\"/>" FLOW("sf", "ss",
                                           "se") "</bpmn:subProcess>"
                                                 "<bpmn:endEvent id=\"e\"/>" FLOW("f1", "s", "sub")
                                                     FLOW("f2", "sub", "e"),
         "ss", "only allowed at process level"},
        {SIGNAL("sig", "p") SIGNAL("sig2", "p"),
         "<bpmn:startEvent id=\"s\"><bpmn:signalEventDefinition signalRef=\"sig\"/>"
         "</bpmn:startEvent><bpmn:startEvent id=\"s2\"><bpmn:signalEventDefinition "
         "signalRef=\"sig2\"/></bpmn:startEvent><bpmn:endEvent id=\"e\"/>" FLOW("f", "s", "e")
             FLOW("f2", "s2", "e"),
         "s2", "second signal start event for signal name 'p'"},
        {ALARM,
         "<bpmn:startEvent id=\"start\"/>" TASK(
             "work",
             "work") "<bpmn:boundaryEvent id=\"b1\" "
                     "attachedToRef=\"work\"><bpmn:signalEventDefinition "
                     "signalRef=\"alarm\"/></bpmn:boundaryEvent><bpmn:boundaryEvent id=\"b2\" "
                     "attachedToRef=\"work\" cancelActivity=\"false\"><bpmn:signalEventDefinition "
                     "signalRef=\"alarm\"/></bpmn:boundaryEvent><bpmn:endEvent id=\"e\"/>" FLOW(
                         "f1", "start", "work") FLOW("f2", "work", "e") FLOW("f3", "b1", "e")
                         FLOW("f4", "b2", "e"),
         "b2", "second signal boundary event for signal name 'alarm'"},
        {ALARM,
         "<bpmn:startEvent id=\"start\"/><bpmn:intermediateThrowEvent id=\"t\">"
         "<bpmn:signalEventDefinition signalRef=\"nope\"/></bpmn:intermediateThrowEvent>"
         "<bpmn:endEvent id=\"end\"/>" FLOW("f1", "start", "t") FLOW("f2", "t", "end"),
         "t", "signalRef 'nope' does not name a <signal>"},
        {SIGNAL("sig", "=name +"), WAIT_ALARM, "sig", "signal name"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *xml = bpmn_doc("bad", cases[i].defs, cases[i].body);
        baton_error err;
        assert_int_equal(baton_deploy(f->b, "bad.bpmn", xml, strlen(xml), NULL, &err),
                         BATON_EINVAL);
        if (!strstr(err.message, cases[i].needle) || strcmp(err.element_id, cases[i].element) ||
            err.line <= 0)
            fail_msg("case %zu: '%s' (element '%s', line %d) lacks '%s' on '%s'", i, err.message,
                     err.element_id, err.line, cases[i].needle, cases[i].element);
        free(xml);
    }
    /* A process started by signals only needs no none start event. */
    deploy_ok(f, "ok", SIGNAL("sig", "p"), start_on_s);
    fixture_free(f);
}

/* A version-2 instance state (written before signals: a service task
 * waiting for its job, with a message boundary event) still decodes, and
 * the instance goes on; it is written back as version 3. */
static const char V2_XML[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<bpmn:definitions xmlns:bpmn=\"http://www.omg.org/spec/BPMN/20100524/MODEL\" "
    "xmlns:zeebe=\"http://camunda.org/schema/zeebe/1.0\" id=\"d\" targetNamespace=\"t\">\n"
    "<bpmn:message id=\"m\" name=\"stop\"><bpmn:extensionElements><zeebe:subscription "
    "correlationKey=\"=k\"/></bpmn:extensionElements></bpmn:message>\n"
    "<bpmn:process id=\"v2\" isExecutable=\"true\">\n"
    "<bpmn:startEvent id=\"s\"/><bpmn:serviceTask id=\"work\"><bpmn:extensionElements>"
    "<zeebe:taskDefinition type=\"work\"/></bpmn:extensionElements></bpmn:serviceTask>"
    "<bpmn:boundaryEvent id=\"stopped\" attachedToRef=\"work\"><bpmn:messageEventDefinition "
    "messageRef=\"m\"/></bpmn:boundaryEvent><bpmn:endEvent id=\"e\"/><bpmn:endEvent id=\"e2\"/>"
    "<bpmn:sequenceFlow id=\"f1\" sourceRef=\"s\" targetRef=\"work\"/>"
    "<bpmn:sequenceFlow id=\"f2\" sourceRef=\"work\" targetRef=\"e\"/>"
    "<bpmn:sequenceFlow id=\"f3\" sourceRef=\"stopped\" targetRef=\"e2\"/>"
    "</bpmn:process></bpmn:definitions>\n";
/* eng_changes_take's state_data for an instance of V2_XML with k = "x", as
 * the version-2 codec wrote it. */
static const char V2_STATE[] =
    "\x42\x02\x01\x00\x00\x02\x8c\x80\x80\x80\x80\x80\x80\x04\x00\x01\x00\x01\x00\x00\x01\x8d\x80"
    "\x80\x80\x80\x80\x80\x04\x01\x6b\x03\x22\x78\x22\x00\x00\x00\x00\x00\x00\x00\x00\x00\x90\x80"
    "\x80\x80\x80\x80\x80\x04\x02\x01\x8c\x80\x80\x80\x80\x80\x80\x04\x00\x00\x00\x00\x01\x91\x80"
    "\x80\x80\x80\x80\x80\x04\x05\x77\x6f\x72\x6b\x00\x03\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01"
    "\x92\x80\x80\x80\x80\x80\x80\x04\x03\x05\x73\x74\x6f\x70\x02\x78\x00\x00";
#define V2_DEFINITION 2251799813685259ULL
#define V2_INSTANCE   2251799813685260ULL

static void test_version_2_state_still_decodes(void **state) {
    (void)state;
    eng_engine *e = eng_new(NULL);
    eng_restore_counters(e, 20, 100);
    eng_definition_row def = {V2_DEFINITION,     "v2", 1, "v2.bpmn", "sum", V2_XML, strlen(V2_XML),
                              V2_DEFINITION - 1, 1000};
    bt_error err;
    assert_int_equal(eng_restore_definition(e, &def, &err), 0);
    eng_instance_row row = {
        .key = V2_INSTANCE,
        .definition_key = V2_DEFINITION,
        .bpmn_process_id = "v2",
        .version = 1,
        .state = ENG_INSTANCE_ACTIVE,
        .start_ms = 2000,
        .state_data = (char *)V2_STATE,
        .state_len = sizeof V2_STATE - 1,
    };
    assert_int_equal(row.state_len, 110);
    assert_int_equal(eng_restore_instance(e, &row, &err), 0);
    /* The message subscription was restored: the boundary event takes it. */
    eng_message_pub pub = {.name = "stop", .correlation_key = "x"};
    uint64_t key = 0;
    assert_int_equal(eng_message_publish(e, 3000, &pub, &key, &err), 0);
    eng_instance_view view;
    assert_int_equal(eng_instance_get(e, V2_INSTANCE, &view), 0);
    assert_int_equal(view.state, ENG_INSTANCE_COMPLETED);
    eng_changes ch;
    eng_changes_take(e, &ch);
    eng_changes_done(e);

    /* Another instance, written now, is version 3; version 4 is refused. */
    eng_start start = {.bpmn_process_id = "v2", .version = -1};
    feel_value *vars = NULL;
    assert_int_equal(feel_value_from_json("{\"k\": \"y\"}", 10, &vars, NULL), 0);
    start.variables = vars;
    uint64_t pi = 0;
    assert_int_equal(eng_instance_create(e, 4000, &start, &pi, &err), 0);
    feel_value_unref(vars);
    eng_changes_take(e, &ch);
    assert_int_equal(ch.n_instances, 1);
    assert_int_equal(ch.instances[0].state_data[1], 4);
    char future[sizeof V2_STATE];
    memcpy(future, V2_STATE, sizeof V2_STATE);
    future[1] = 5;
    row.key = V2_INSTANCE + 100;
    row.state_data = future;
    eng_changes_done(e);
    assert_int_equal(eng_restore_instance(e, &row, &err), BT_EUNSUPPORTED);
    eng_free(e);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_broadcast_releases_every_waiting_instance),
        cmocka_unit_test(test_signal_variables_propagate_or_are_mapped),
        cmocka_unit_test(test_broadcast_before_subscription_is_not_kept),
        cmocka_unit_test(test_interrupting_boundary),
        cmocka_unit_test(test_non_interrupting_boundary),
        cmocka_unit_test(test_event_gateway_signal_or_timer),
        cmocka_unit_test(test_signal_start_event),
        cmocka_unit_test(test_throw_and_end_events_broadcast_in_the_same_command),
        cmocka_unit_test(test_thrown_signal_caught_in_its_own_instance),
        cmocka_unit_test(test_subscriptions_survive_reopen),
        cmocka_unit_test(test_bad_signal_name_incident_and_resolve),
        cmocka_unit_test(test_model_errors),
        cmocka_unit_test(test_version_2_state_still_decodes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
