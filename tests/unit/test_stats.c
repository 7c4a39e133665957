/*
 * The store's search of instances with its order and page pushed down to
 * SQL (store_instances_search with order / offset / limit / total), over
 * instances made by the real engine through the embedding API: every
 * orderable column, "none" values last in either direction, all-digit
 * business ids in numeric order, the key as the last criterion, the page
 * and the count of the whole match.
 */
#include "engine_fixture.h"

#include "store/store.h"

static const char *ONE_TASK = "<bpmn:startEvent id=\"s\"/>\n" TASK(
    "work", "work") "<bpmn:endEvent id=\"e\"/>\n" FLOW("a", "s", "work") FLOW("b", "work", "e");

/* The instances, in creation (key) order. */
typedef struct world {
    fixture *f;
    uint64_t key[6];
    store *s;
} world;

static const char *const BUSINESS[6] = {"10", "9", "abc", NULL, "007", "Zed"};

/* 0..5 started a second apart; 1 and 4 completed (4 first), 2 has an
 * incident, 5 cancelled; the others wait at the task. */
static void world_new(world *w) {
    fixture *f = w->f = fixture_new(false);
    baton_error err;
    deploy_ok(f, "one", "", ONE_TASK);
    for (int i = 0; i < 6; i++) {
        f->now += 1000;
        assert_int_equal(baton_create_instance(f->b, "one", "{}", BUSINESS[i], &w->key[i], &err),
                         0);
    }
    baton_job jobs[8];
    int n = 0;
    assert_int_equal(baton_activate_jobs(f->b, "work", "t", 60000, 8, jobs, &n, &err), 0);
    assert_int_equal(n, 6);
    f->now += 1000;
    complete_ok(f, jobs[4].key, NULL);
    f->now += 1000;
    complete_ok(f, jobs[1].key, NULL);
    assert_int_equal(baton_fail_job(f->b, jobs[2].key, 0, "broken", 0, &err), 0);
    assert_int_equal(baton_cancel_instance(f->b, w->key[5], &err), 0);
    baton_jobs_free(jobs, n);
    baton_close(f->b);
    f->b = NULL;
    bt_error e;
    store_options so = {.read_only = true};
    if (store_open(f->path, &so, &w->s, &e) != 0)
        fail_msg("store_open: %s", e.message);
}

static void world_free(world *w) {
    store_close(w->s);
    fixture_open_with(w->f, false); /* fixture_free closes it */
    fixture_free(w->f);
}

typedef struct seen {
    const world *w;
    char text[256];
} seen;

/* Each row as its index in w->key, e.g. "4 1 0". */
static int seen_row(void *ud, const store_instance *inst) {
    seen *s = ud;
    int i = 0;
    while (i < 6 && s->w->key[i] != inst->key)
        i++;
    size_t n = strlen(s->text);
    snprintf(s->text + n, sizeof s->text - n, n ? " %d" : "%d", i);
    return 0;
}

/* The page of a search ordered by one column, as indexes. */
static const char *order_by(world *w, seen *s, store_instance_column col, bool desc, int64_t offset,
                            int64_t limit, int64_t *total) {
    store_instance_order o = {col, desc};
    store_instance_filter f = {.has_incident = -1,
                               .order = &o,
                               .n_order = 1,
                               .offset = offset,
                               .limit = limit,
                               .total = total};
    s->w = w;
    s->text[0] = 0;
    assert_int_equal(store_instances_search(w->s, &f, seen_row, s), 0);
    return s->text;
}

static void test_order_of_every_column(void **state) {
    (void)state;
    world w;
    world_new(&w);
    seen s;
    /* Digit strings first, numerically; then bytes; none last both ways. */
    assert_string_equal(order_by(&w, &s, STORE_COL_BUSINESS_ID, false, 0, 0, NULL), "1 0 4 5 2 3");
    assert_string_equal(order_by(&w, &s, STORE_COL_BUSINESS_ID, true, 0, 0, NULL), "2 5 4 0 1 3");
    /* Active instances have no end: last both ways; ties by key. */
    assert_string_equal(order_by(&w, &s, STORE_COL_END, false, 0, 0, NULL), "4 1 5 0 2 3");
    assert_string_equal(order_by(&w, &s, STORE_COL_END, true, 0, 0, NULL), "1 5 4 0 2 3");
    assert_string_equal(order_by(&w, &s, STORE_COL_START, true, 0, 0, NULL), "5 4 3 2 1 0");
    assert_string_equal(order_by(&w, &s, STORE_COL_KEY, true, 0, 0, NULL), "5 4 3 2 1 0");
    /* ACTIVE < COMPLETED < TERMINATED; false < true. */
    assert_string_equal(order_by(&w, &s, STORE_COL_STATE, false, 0, 0, NULL), "0 2 3 1 4 5");
    assert_string_equal(order_by(&w, &s, STORE_COL_STATE, true, 0, 0, NULL), "5 1 4 0 2 3");
    assert_string_equal(order_by(&w, &s, STORE_COL_HAS_INCIDENT, true, 0, 0, NULL), "2 0 1 3 4 5");
    /* Equal everywhere: the key decides. */
    assert_string_equal(order_by(&w, &s, STORE_COL_VERSION, true, 0, 0, NULL), "0 1 2 3 4 5");
    assert_string_equal(order_by(&w, &s, STORE_COL_BPMN_PROCESS_ID, false, 0, 0, NULL),
                        "0 1 2 3 4 5");
    assert_string_equal(order_by(&w, &s, STORE_COL_DEFINITION_KEY, true, 0, 0, NULL),
                        "0 1 2 3 4 5");
    world_free(&w);
}

static void test_page_and_count(void **state) {
    (void)state;
    world w;
    world_new(&w);
    seen s;
    int64_t total = -1;
    assert_string_equal(order_by(&w, &s, STORE_COL_START, true, 1, 3, &total), "4 3 2");
    assert_int_equal(total, 6);
    total = -1;
    assert_string_equal(order_by(&w, &s, STORE_COL_START, true, 10, 3, &total), "");
    assert_int_equal(total, 6);

    /* Conditions, an order of two criteria, the count of the match. */
    store_instance_order o[2] = {{STORE_COL_HAS_INCIDENT, true}, {STORE_COL_START, true}};
    store_instance_filter f = {.has_incident = -1,
                               .state = STORE_INSTANCE_ACTIVE,
                               .bpmn_process_id = "one",
                               .order = o,
                               .n_order = 2,
                               .limit = 2,
                               .total = &total};
    s.w = &w;
    s.text[0] = 0;
    assert_int_equal(store_instances_search(w.s, &f, seen_row, &s), 0);
    assert_string_equal(s.text, "2 3");
    assert_int_equal(total, 3);
    f = (store_instance_filter){.has_incident = 0, .business_id = "007", .total = &total};
    s.text[0] = 0;
    assert_int_equal(store_instances_search(w.s, &f, seen_row, &s), 0);
    assert_string_equal(s.text, "4");
    assert_int_equal(total, 1);
    world_free(&w);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_order_of_every_column),
        cmocka_unit_test(test_page_and_count),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
