/* Unit tests for src/feel/regex.c: the cache of compiled regular
 * expressions behind matches(), replace(), split() and extract(): a pattern
 * is compiled once, options are part of the key, the least recently used
 * entry goes first, an entry in use outlives its eviction, and threads share
 * the cache while they evaluate. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "feel/feel_int.h"

static feel_regex *get(const char *pattern, uint32_t opts) {
    feel_regex *r = NULL;
    char msg[160];
    assert_int_equal(feel_regex_get(pattern, strlen(pattern), opts, &r, msg, sizeof msg), 0);
    assert_non_null(r);
    return r;
}

static bool matches(const feel_regex *r, const char *subject) {
    const pcre2_code *code = feel_regex_code(r);
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(code, NULL);
    assert_non_null(md);
    int rc = pcre2_match(code, (PCRE2_SPTR)subject, strlen(subject), 0, 0, md, NULL);
    pcre2_match_data_free(md);
    return rc >= 0;
}

static void test_same_pattern_compiled_once(void **state) {
    (void)state;
    feel_regex_cache_clear();
    feel_regex *a = get("^a+b$", PCRE2_UTF);
    bt_alloc_fail_after(-1); /* reset the allocation count */
    feel_regex *b = get("^a+b$", PCRE2_UTF);
    assert_int_equal(bt_alloc_fail_after(-1), 0); /* a cache hit allocates nothing */
    assert_ptr_equal(a, b);
    feel_regex *c = get("^a+b$", PCRE2_UTF | PCRE2_CASELESS); /* options are in the key */
    assert_ptr_not_equal(a, c);
    assert_true(matches(c, "AAB"));
    assert_false(matches(a, "AAB"));
    feel_regex *d = get("^a+c$", PCRE2_UTF);
    assert_ptr_not_equal(a, d);
    feel_regex_release(a);
    feel_regex_release(b);
    feel_regex_release(c);
    feel_regex_release(d);
    feel_regex_cache_clear();
}

static void test_invalid_pattern(void **state) {
    (void)state;
    feel_regex *r = NULL;
    char msg[160] = "";
    assert_int_equal(feel_regex_get("a(b", 3, PCRE2_UTF, &r, msg, sizeof msg), BT_EINVAL);
    assert_null(r);
    assert_non_null(strstr(msg, "offset 3"));
}

static void test_lru_eviction_keeps_entries_in_use(void **state) {
    (void)state;
    feel_regex_cache_clear();
    feel_regex *first = get("first[0-9]", PCRE2_UTF);
    feel_regex *kept = get("kept", PCRE2_UTF);
    char pattern[32];
    for (int i = 0; i < 100; i++) {                 /* more than the cache holds */
        feel_regex_release(get("kept", PCRE2_UTF)); /* recently used: stays */
        snprintf(pattern, sizeof pattern, "p%d", i);
        feel_regex_release(get(pattern, PCRE2_UTF));
    }
    /* "first" was evicted, yet the reference held here still works */
    assert_true(matches(first, "first7"));
    feel_regex *again = get("first[0-9]", PCRE2_UTF);
    assert_ptr_not_equal(again, first);
    feel_regex *kept2 = get("kept", PCRE2_UTF);
    assert_ptr_equal(kept2, kept);
    feel_regex_release(first);
    feel_regex_release(again);
    feel_regex_release(kept);
    feel_regex_release(kept2);
    feel_regex_cache_clear();
}

/* Threads evaluating regex built-ins over more patterns than the cache
 * holds (constant eviction), each checking every answer. */
static void *worker(void *arg) {
    long id = (long)arg;
    long failures = 0;
    for (int round = 0; round < 200; round++) {
        char src[128];
        int k = (int)((round * 7 + id * 13) % 90);
        snprintf(src, sizeof src,
                 "matches(\"x%dy\", \"^x%d[y]$\") and replace(\"a%d\", \"%d\", \"-\") = \"a-\"", k,
                 k, k, k);
        feel_expr *e;
        feel_value *v;
        if (feel_compile(src, strlen(src), &e, NULL) < 0)
            return (void *)-1L;
        if (feel_eval(e, NULL, &v, NULL) < 0 || !feel_value_is_true(v))
            failures++;
        feel_value_unref(v);
        feel_expr_free(e);
    }
    return (void *)failures;
}

static void test_concurrent_use(void **state) {
    (void)state;
    pthread_t t[4];
    for (long i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&t[i], NULL, worker, (void *)i), 0);
    for (int i = 0; i < 4; i++) {
        void *failures;
        pthread_join(t[i], &failures);
        assert_int_equal((long)failures, 0);
    }
    feel_regex_cache_clear();
}

/* Allocation failures while compiling a pattern: ENOMEM, nothing cached,
 * and the next attempt succeeds. */
static void test_alloc_failure(void **state) {
    (void)state;
    feel_regex_cache_clear();
    bool ok = false;
    for (long n = 0; n < 1000 && !ok; n++) {
        feel_regex *r = NULL;
        char msg[160];
        bt_alloc_fail_after(n);
        int rc = feel_regex_get("(ab|cd)+e", 9, PCRE2_UTF, &r, msg, sizeof msg);
        bt_alloc_fail_after(-1);
        assert_true(rc == 0 || rc == BT_ENOMEM);
        if (rc == 0) {
            assert_true(matches(r, "abcde"));
            feel_regex_release(r);
            ok = true;
        }
    }
    assert_true(ok);
    feel_regex_cache_clear();
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_pattern_compiled_once),
        cmocka_unit_test(test_invalid_pattern),
        cmocka_unit_test(test_lru_eviction_keeps_entries_in_use),
        cmocka_unit_test(test_concurrent_use),
        cmocka_unit_test(test_alloc_failure),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
