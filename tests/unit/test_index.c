/*
 * The search index (store/index.h) and its exporter (runtime/indexer.h),
 * fed with a record log written by the real engine through the embedding
 * API: a trip saga whose flight booking fails without retries (an
 * incident), gets its retries back and is resolved, then throws the BPMN
 * error that compensates the car and the hotel; and a one-task instance
 * cancelled while its incident is open.
 *
 * Every table is dumped as text in key order and compared whole; the same
 * log applied in batches of every size, applied twice, or tailed by the
 * indexer thread gives the same dump. The per-element counts of a
 * definition (index_elem_stats_read) are checked against instances left in
 * each state: completed, active with an incident, active, cancelled.
 */
#include "engine_fixture.h"

#include "runtime/indexer.h"
#include "store/index.h"
#include "store/store.h"

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
    BOOKING("bookCar", "book-car", "cancelCar", "cancel-car") BOOKING(
        "bookFlight", "book-flight", "cancelFlight",
        "cancel-flight") "<bpmn:intermediateThrowEvent "
                         "id=\"undo\"><bpmn:compensateEventDefinition/>"
                         "</bpmn:intermediateThrowEvent>\n"
                         "<bpmn:endEvent id=\"booked\"/><bpmn:endEvent id=\"failed\"/>\n" FLOW(
                             "f1", "start", "bookHotel") FLOW("f2", "bookHotel", "bookCar")
                             FLOW("f3", "bookCar", "bookFlight") FLOW("f4", "bookFlight", "booked")
                                 FLOW("f5", "undo", "failed");

static const char *ONE_TASK = "<bpmn:startEvent id=\"s\"/>\n" TASK(
    "work", "work") "<bpmn:endEvent id=\"e\"/>\n" FLOW("a", "s", "work") FLOW("b", "work", "e");

/* ---- the scenario ------------------------------------------------------------------ */

typedef struct scenario {
    fixture *f;
    uint64_t trip, flight_job, other, other_job;
    int64_t t0;
} scenario;

static void run_scenario(scenario *sc) {
    fixture *f = sc->f = fixture_new(false);
    baton_error err;
    sc->t0 = f->now;
    deploy_ok(f, "trip", "", TRIP);
    deploy_ok(f, "one", "", ONE_TASK);
    sc->trip = start_ok(f, "trip", "{\"tripId\": \"T1\"}");
    f->now += 1000;
    complete_ok(f, one_job(f, "book-hotel"), "{\"hotel\": \"H1\"}");
    f->now += 1000;
    complete_ok(f, one_job(f, "book-car"), "{\"car\": {\"id\": \"C1\", \"price\": 0.1}}");
    f->now += 1000;
    sc->flight_job = one_job(f, "book-flight");
    assert_int_equal(baton_fail_job(f->b, sc->flight_job, 0, "sold out", 0, &err), 0);
    baton_incident inc[4];
    assert_int_equal(baton_list_incidents(f->b, sc->trip, inc, 4), 1);
    f->now += 1000;
    assert_int_equal(baton_update_job_retries(f->b, sc->flight_job, 1, &err), 0);
    assert_int_equal(baton_resolve_incident(f->b, inc[0].key, &err), 0);
    f->now += 1000;
    assert_int_equal(one_job(f, "book-flight"), sc->flight_job);
    assert_int_equal(baton_throw_error(f->b, sc->flight_job, "FLIGHT_FAILED", "no seats", &err), 0);
    complete_ok(f, one_job(f, "cancel-car"), NULL);
    complete_ok(f, one_job(f, "cancel-hotel"), NULL);
    assert_int_equal(instance_state(f, sc->trip), BATON_COMPLETED);

    /* An instance cancelled with its incident open: the engine drops the
     * incident without a record; the index resolves it with the instance. */
    f->now += 1000;
    sc->other = start_ok(f, "one", "{\"n\": 1}");
    sc->other_job = one_job(f, "work");
    assert_int_equal(baton_fail_job(f->b, sc->other_job, 0, "broken", 0, &err), 0);
    f->now += 1000;
    assert_int_equal(baton_cancel_instance(f->b, sc->other, &err), 0);
    baton_close(f->b);
    f->b = NULL;
}

static void scenario_free(scenario *sc) {
    fixture_open_with(sc->f, false); /* fixture_free closes it */
    fixture_free(sc->f);
}

/* ---- dumping the index --------------------------------------------------------------- */

typedef struct dump {
    char text[16384];
    scenario *sc;
} dump;

static void put(dump *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(dump *d, const char *fmt, ...) {
    size_t n = strlen(d->text);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->text + n, sizeof d->text - n, fmt, ap);
    va_end(ap);
}

/* Keys as names: the two instances, the flight job; others as '#'. */
static const char *key_name(const dump *d, uint64_t key) {
    if (key == 0)
        return "-";
    if (key == d->sc->trip)
        return "trip";
    if (key == d->sc->other)
        return "other";
    if (key == d->sc->flight_job)
        return "flightJob";
    if (key == d->sc->other_job)
        return "otherJob";
    return "#";
}

/* Times relative to the scenario's start, in seconds. */
static long secs(const dump *d, int64_t ms) {
    return ms ? (long)((ms - d->sc->t0) / 1000) : -1;
}

static int dump_elem(void *ud, const index_elem *e) {
    dump *d = ud;
    put(d, "%s %s %s %s %ld..%ld inc:%s\n", key_name(d, e->process_instance_key), e->element_id,
        e->type, e->state, secs(d, e->start_ms), secs(d, e->end_ms), e->incident_key ? "yes" : "-");
    return 0;
}

static int dump_job(void *ud, const index_job *j) {
    dump *d = ud;
    put(d, "%s %s %s %s %s retries:%d worker:%s error:%s created:%ld ended:%ld\n",
        key_name(d, j->key), key_name(d, j->process_instance_key), j->element_id, j->type, j->state,
        j->retries, j->worker ? j->worker : "-", j->error_message ? j->error_message : "-",
        secs(d, j->created_ms), secs(d, j->ended_ms));
    return 0;
}

static int dump_incident(void *ud, const index_incident *i) {
    dump *d = ud;
    put(d, "%s %s %s %s job:%s '%s' %ld..%ld\n", key_name(d, i->process_instance_key),
        i->element_id, i->state, i->error_type, key_name(d, i->job_key), i->error_message,
        secs(d, i->created_ms), secs(d, i->resolved_ms));
    return 0;
}

static int dump_variable(void *ud, const index_variable *v) {
    dump *d = ud;
    put(d, "%s %s=%s scope:%s at:%ld\n", key_name(d, v->process_instance_key), v->name, v->value,
        key_name(d, v->scope_key), secs(d, v->updated_ms));
    return 0;
}

static void dump_index(index_db *idx, scenario *sc, dump *d) {
    d->text[0] = 0;
    d->sc = sc;
    put(d, "-- elements\n");
    assert_int_equal(index_elems_search(idx, &(index_elem_filter){0}, dump_elem, d), 0);
    put(d, "-- jobs\n");
    assert_int_equal(index_jobs_search(idx, &(index_job_filter){0}, dump_job, d), 0);
    put(d, "-- incidents\n");
    assert_int_equal(index_incidents_search(idx, &(index_incident_filter){0}, dump_incident, d), 0);
    put(d, "-- variables\n");
    assert_int_equal(index_variables_search(idx, &(index_variable_filter){0}, dump_variable, d), 0);
}

static const char *EXPECTED =
    "-- elements\n"
    "trip trip PROCESS COMPLETED 0..5 inc:-\n"
    "trip start START_EVENT COMPLETED 0..0 inc:-\n"
    "trip bookHotel SERVICE_TASK COMPLETED 0..1 inc:-\n"
    "trip bookCar SERVICE_TASK COMPLETED 1..2 inc:-\n"
    "trip bookFlight SERVICE_TASK TERMINATED 2..5 inc:-\n"
    "trip bookFlightErr BOUNDARY_EVENT COMPLETED 5..5 inc:-\n"
    "trip undo INTERMEDIATE_THROW_EVENT COMPLETED 5..5 inc:-\n"
    "trip cancelCar SERVICE_TASK COMPLETED 5..5 inc:-\n"
    "trip cancelHotel SERVICE_TASK COMPLETED 5..5 inc:-\n"
    "trip failed END_EVENT COMPLETED 5..5 inc:-\n"
    "other one PROCESS TERMINATED 6..7 inc:-\n"
    "other s START_EVENT COMPLETED 6..6 inc:-\n"
    "other work SERVICE_TASK TERMINATED 6..7 inc:-\n"
    "-- jobs\n"
    "# trip bookHotel book-hotel COMPLETED retries:3 worker:test error:- created:0 ended:1\n"
    "# trip bookCar book-car COMPLETED retries:3 worker:test error:- created:1 ended:2\n"
    "flightJob trip bookFlight book-flight ERROR_THROWN retries:1 worker:test error:no seats "
    "created:2 ended:5\n"
    "# trip cancelCar cancel-car COMPLETED retries:3 worker:test error:- created:5 ended:5\n"
    "# trip cancelHotel cancel-hotel COMPLETED retries:3 worker:test error:- created:5 ended:5\n"
    "otherJob other work work CANCELED retries:0 worker:- error:broken created:6 ended:7\n"
    "-- incidents\n"
    "trip bookFlight RESOLVED JOB_NO_RETRIES job:flightJob 'sold out' 3..4\n"
    "other work RESOLVED JOB_NO_RETRIES job:otherJob 'broken' 6..7\n"
    "-- variables\n"
    "trip tripId=\"T1\" scope:trip at:0\n"
    "trip hotel=\"H1\" scope:trip at:1\n"
    "trip car={\"id\":\"C1\",\"price\":0.1} scope:trip at:2\n"
    "trip errorCode=\"FLIGHT_FAILED\" scope:# at:5\n" /* on the task's scope */
    "trip errorMessage=\"no seats\" scope:# at:5\n"
    "other n=1 scope:other at:6\n";

/* ---- reading the log --------------------------------------------------------------- */

static store *open_log(scenario *sc) {
    store *s = NULL;
    bt_error err;
    store_options so = {.read_only = true};
    if (store_open(sc->f->path, &so, &s, &err) != 0)
        fail_msg("store_open: %s", err.message);
    return s;
}

static index_db *open_index(scenario *sc, const char *name) {
    char path[160];
    snprintf(path, sizeof path, "%s/%s", sc->f->dir, name);
    index_db *idx = NULL;
    bt_error err;
    if (index_open(path, false, &idx, &err) != 0)
        fail_msg("index_open: %s", err.message);
    return idx;
}

static int apply_cb(void *ud, const store_record *r) {
    return index_apply(ud, r);
}

static int count_cb(void *ud, const store_record *r) {
    (void)r;
    (*(size_t *)ud)++;
    return 0;
}

/* Applies the whole log through store_log_read, `batch` records per index
 * transaction; returns the number of transactions. */
static int apply_in_batches(store *s, index_db *idx, size_t batch) {
    uint64_t start = 0;
    assert_int_equal(index_cursor(idx, &start), 0);
    store_log_cursor cur = {.position = start};
    int batches = 0;
    for (;;) {
        size_t n = 0;
        assert_int_equal(index_begin(idx), 0);
        assert_int_equal(store_log_read(s, &cur, batch, apply_cb, idx, &n), 0);
        assert_true(n <= batch);
        assert_int_equal(index_commit(idx), 0);
        if (n == 0)
            return batches;
        batches++;
    }
}

/* ---- tests ------------------------------------------------------------------------------ */

static void test_rows_of_every_table(void **state) {
    (void)state;
    scenario sc;
    run_scenario(&sc);
    store *s = open_log(&sc);
    index_db *idx = open_index(&sc, "index.db");
    /* The records as store_records_read gives them, in one transaction. */
    assert_int_equal(index_begin(idx), 0);
    assert_int_equal(store_records_read(s, 0, 0, 0, apply_cb, idx), 0);
    assert_int_equal(index_commit(idx), 0);
    uint64_t last = 0, cursor = 0;
    assert_int_equal(store_log_last(s, &last), 0);
    assert_int_equal(index_cursor(idx, &cursor), 0);
    assert_true(last > 50);
    assert_int_equal(cursor, last);
    dump d;
    dump_index(idx, &sc, &d);
    if (getenv("BATON_TEST_DUMP"))
        fputs(d.text, stderr);
    assert_string_equal(d.text, EXPECTED);

    /* Exact-match filters. */
    dump f = {.sc = &sc};
    assert_int_equal(
        index_jobs_search(idx, &(index_job_filter){.state = "COMPLETED"}, dump_job, &f), 0);
    assert_int_equal((int)(strchr(f.text, 0) - f.text) > 0, 1);
    assert_null(strstr(f.text, "ERROR_THROWN"));
    assert_non_null(strstr(f.text, "cancel-hotel"));
    f.text[0] = 0;
    assert_int_equal(index_elems_search(idx,
                                        &(index_elem_filter){.process_instance_key = sc.other,
                                                             .state = "TERMINATED"},
                                        dump_elem, &f),
                     0);
    assert_string_equal(f.text, "other one PROCESS TERMINATED 6..7 inc:-\n"
                                "other work SERVICE_TASK TERMINATED 6..7 inc:-\n");
    f.text[0] = 0;
    assert_int_equal(index_incidents_search(
                         idx,
                         &(index_incident_filter){.job_key = sc.flight_job, .state = "RESOLVED"},
                         dump_incident, &f),
                     0);
    assert_string_equal(f.text,
                        "trip bookFlight RESOLVED JOB_NO_RETRIES job:flightJob 'sold out' 3..4\n");
    f.text[0] = 0;
    assert_int_equal(
        index_variables_search(idx, &(index_variable_filter){.name = "car"}, dump_variable, &f), 0);
    assert_string_equal(f.text, "trip car={\"id\":\"C1\",\"price\":0.1} scope:trip at:2\n");

    /* The same records again: skipped by the cursor, the rows unchanged. */
    assert_int_equal(index_begin(idx), 0);
    assert_int_equal(store_records_read(s, 0, 0, 0, apply_cb, idx), 0);
    assert_int_equal(index_commit(idx), 0);
    dump again;
    dump_index(idx, &sc, &again);
    assert_string_equal(again.text, EXPECTED);
    assert_int_equal(index_cursor(idx, &cursor), 0);
    assert_int_equal(cursor, last);

    index_close(idx);
    store_close(s);
    scenario_free(&sc);
}

static void test_rebuild_in_batches_gives_the_same_rows(void **state) {
    (void)state;
    scenario sc;
    run_scenario(&sc);
    store *s = open_log(&sc);
    uint64_t last = 0;
    assert_int_equal(store_log_last(s, &last), 0);
    size_t n_records = 0;
    assert_int_equal(store_records_read(s, 0, 0, 0, count_cb, &n_records), 0);
    /* Every batch size, from one record per transaction to all at once. */
    static const size_t sizes[] = {1, 2, 3, 7, 25, 100, 100000};
    for (size_t i = 0; i < BT_ARRAY_LEN(sizes); i++) {
        char name[32];
        snprintf(name, sizeof name, "index-%zu.db", sizes[i]);
        index_db *idx = open_index(&sc, name);
        int batches = apply_in_batches(s, idx, sizes[i]);
        /* Batches are full but for the last one (or, at a transaction's
         * interleaved chunks, ... never more than one per record). */
        assert_true(batches >= (int)((n_records + sizes[i] - 1) / sizes[i]));
        assert_true(batches <= (int)n_records);
        if (sizes[i] == 1)
            assert_int_equal(batches, (int)n_records);
        uint64_t cursor = 0;
        assert_int_equal(index_cursor(idx, &cursor), 0);
        assert_int_equal(cursor, last);
        dump d;
        dump_index(idx, &sc, &d);
        assert_string_equal(d.text, EXPECTED);
        index_close(idx);
    }
    /* A deleted index is rebuilt from scratch: the same rows. */
    char path[160];
    snprintf(path, sizeof path, "%s/index-7.db", sc.f->dir);
    assert_int_equal(unlink(path), 0);
    index_db *idx = open_index(&sc, "index-7.db");
    uint64_t cursor = 1;
    assert_int_equal(index_cursor(idx, &cursor), 0);
    assert_int_equal(cursor, 0);
    apply_in_batches(s, idx, 7);
    dump d;
    dump_index(idx, &sc, &d);
    assert_string_equal(d.text, EXPECTED);
    index_close(idx);
    store_close(s);
    scenario_free(&sc);
}

/* The exporter thread: catches up from nothing, then from its cursor after
 * a restart, and an index ahead of the log (another store) starts over. */
static void test_indexer_thread_tails_the_log(void **state) {
    (void)state;
    scenario sc;
    run_scenario(&sc);
    store *s = open_log(&sc);
    uint64_t last = 0;
    assert_int_equal(store_log_last(s, &last), 0);
    store_close(s);
    char index_path[160];
    snprintf(index_path, sizeof index_path, "%s/tail.db", sc.f->dir);
    rt_indexer_config cfg = {.store = sc.f->path, .index = index_path, .batch = 10};
    rt_indexer *ix = NULL;
    bt_error err;
    assert_int_equal(rt_indexer_start(&cfg, &ix, &err), 0);
    assert_int_equal(rt_indexer_wait(ix, last, 30000), 0);
    assert_int_equal(rt_indexer_position(ix), last);
    rt_indexer_free(ix);

    index_db *idx = NULL;
    assert_int_equal(index_open(index_path, true, &idx, &err), 0);
    dump d;
    dump_index(idx, &sc, &d);
    assert_string_equal(d.text, EXPECTED);
    index_close(idx);

    /* More records while no indexer runs; a new one continues. */
    fixture_open_with(sc.f, false);
    uint64_t third = start_ok(sc.f, "one", "{\"n\": 3}");
    baton_close(sc.f->b);
    sc.f->b = NULL;
    s = open_log(&sc);
    uint64_t now_last = 0;
    assert_int_equal(store_log_last(s, &now_last), 0);
    store_close(s);
    assert_true(now_last > last);
    assert_int_equal(rt_indexer_start(&cfg, &ix, &err), 0);
    assert_int_equal(rt_indexer_wait(ix, now_last, 30000), 0);
    rt_indexer_free(ix);
    assert_int_equal(index_open(index_path, true, &idx, &err), 0);
    dump extra = {.sc = &sc};
    assert_int_equal(
        index_elems_search(idx,
                           &(index_elem_filter){.process_instance_key = third, .state = "ACTIVE"},
                           dump_elem, &extra),
        0);
    assert_string_equal(extra.text, "# one PROCESS ACTIVE 7..-1 inc:-\n"
                                    "# work SERVICE_TASK ACTIVE 7..-1 inc:-\n");
    index_close(idx);

    /* The same index over a different, shorter log: rebuilt for it. */
    fixture *g = fixture_new(false);
    deploy_ok(g, "one", "", ONE_TASK);
    start_ok(g, "one", "{}");
    baton_close(g->b);
    g->b = NULL;
    cfg.store = g->path;
    assert_int_equal(rt_indexer_start(&cfg, &ix, &err), 0);
    store *gs = NULL;
    store_options so = {.read_only = true};
    assert_int_equal(store_open(g->path, &so, &gs, &err), 0);
    uint64_t g_last = 0;
    assert_int_equal(store_log_last(gs, &g_last), 0);
    store_close(gs);
    assert_true(g_last < now_last);
    assert_int_equal(rt_indexer_wait(ix, g_last, 30000), 0);
    assert_int_equal(rt_indexer_position(ix), g_last);
    rt_indexer_free(ix);
    assert_int_equal(index_open(index_path, true, &idx, &err), 0);
    dump rebuilt = {.sc = &sc};
    assert_int_equal(index_jobs_search(idx, &(index_job_filter){0}, dump_job, &rebuilt), 0);
    assert_non_null(strstr(rebuilt.text, " work work CREATED retries:3"));
    assert_null(strstr(rebuilt.text, "book-"));
    index_close(idx);

    fixture_open_with(g, false);
    fixture_free(g);
    scenario_free(&sc);
}

/* ---- element statistics ------------------------------------------------------------------ */

static int first_definition(void *ud, const index_elem *row) {
    *(uint64_t *)ud = row->process_definition_key;
    return 1;
}

static int dump_stats(void *ud, const index_elem_stats *row) {
    put(ud, "%s active:%lld completed:%lld canceled:%lld incidents:%lld\n", row->element_id,
        (long long)row->active, (long long)row->completed, (long long)row->terminated,
        (long long)row->incidents);
    return 0;
}

static int stop_stats(void *ud, const index_elem_stats *row) {
    (void)row;
    return ++*(int *)ud == 2 ? 7 : 0;
}

static void test_element_statistics_count_every_state(void **state) {
    (void)state;
    scenario sc = {0};
    fixture *f = sc.f = fixture_new(false);
    baton_error err;
    deploy_ok(f, "one", "", ONE_TASK);
    deploy_ok(f, "trip", "", TRIP); /* another definition: not counted */
    start_ok(f, "trip", "{}");
    /* Four instances: completed; an incident; waiting at the task; cancelled. */
    uint64_t done = start_ok(f, "one", "{}");
    complete_ok(f, one_job(f, "work"), NULL);
    start_ok(f, "one", "{}");
    assert_int_equal(baton_fail_job(f->b, one_job(f, "work"), 0, "broken", 0, &err), 0);
    start_ok(f, "one", "{}");
    uint64_t cancelled = start_ok(f, "one", "{}");
    assert_int_equal(baton_cancel_instance(f->b, cancelled, &err), 0);
    baton_close(f->b);
    f->b = NULL;

    store *s = open_log(&sc);
    index_db *idx = open_index(&sc, "index.db");
    assert_int_equal(index_begin(idx), 0);
    assert_int_equal(store_records_read(s, 0, 0, 0, apply_cb, idx), 0);
    assert_int_equal(index_commit(idx), 0);
    uint64_t def = 0;
    assert_int_equal(index_elems_search(idx, &(index_elem_filter){.process_instance_key = done},
                                        first_definition, &def),
                     1);
    assert_true(def != 0);
    dump d = {.sc = &sc};
    assert_int_equal(index_elem_stats_read(idx, def, dump_stats, &d), 0);
    assert_string_equal(d.text, "e active:0 completed:1 canceled:0 incidents:0\n"
                                "one active:2 completed:1 canceled:1 incidents:0\n"
                                "s active:0 completed:4 canceled:0 incidents:0\n"
                                "work active:2 completed:1 canceled:1 incidents:1\n");
    /* A definition without instances has no rows; a callback stops the walk. */
    dump none = {.sc = &sc};
    assert_int_equal(index_elem_stats_read(idx, def + 1000000, dump_stats, &none), 0);
    assert_string_equal(none.text, "");
    int calls = 0;
    assert_int_equal(index_elem_stats_read(idx, def, stop_stats, &calls), 7);
    assert_int_equal(calls, 2);
    assert_int_equal(index_elem_stats_read(idx, def, NULL, NULL), BT_EINVAL);

    index_close(idx);
    store_close(s);
    scenario_free(&sc);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rows_of_every_table),
        cmocka_unit_test(test_rebuild_in_batches_gives_the_same_rows),
        cmocka_unit_test(test_indexer_thread_tails_the_log),
        cmocka_unit_test(test_element_statistics_count_every_state),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
