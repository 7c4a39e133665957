/* Unit tests for src/base: buffers, JSON string escaping, allocation failure
 * injection, keys and time formatting. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>

#include "base/base.h"

static void test_buf_printf_and_take(void **state) {
    (void)state;
    bt_buf b = BT_BUF_INIT;
    for (int i = 0; i < 1000; i++)
        assert_int_equal(bt_buf_printf(&b, "%d,", i), 0);
    assert_true(b.len > 3000);
    assert_memory_equal(b.data, "0,1,2,", 6);
    char *s = bt_buf_take(&b);
    assert_non_null(s);
    assert_null(b.data);
    assert_int_equal(s[strlen(s) - 1], ',');
    bt_free(s);
}

static void test_buf_json_string_escapes(void **state) {
    (void)state;
    bt_buf b = BT_BUF_INIT;
    const char in[] = "a\"b\\c\n\x01z";
    bt_buf_json_string(&b, in, sizeof in - 1);
    assert_string_equal(b.data, "\"a\\\"b\\\\c\\n\\u0001z\"");
    bt_buf_free(&b);
}

static void test_alloc_failure_injection(void **state) {
    (void)state;
    bt_alloc_fail_after(0);
    assert_null(bt_malloc(16));
    bt_buf b = BT_BUF_INIT;
    assert_int_equal(bt_buf_puts(&b, "x"), BT_ENOMEM);
    assert_true(b.failed);
    assert_null(bt_buf_take(&b));
    bt_alloc_fail_after(-1);
    void *p = bt_malloc(16);
    assert_non_null(p);
    bt_free(p);
}

static void test_keys_carry_partition(void **state) {
    (void)state;
    uint64_t k = bt_key_make(1, 42);
    assert_int_equal(bt_key_partition(k), 1);
    assert_int_equal(k & ((1ULL << BT_KEY_PARTITION_BITS) - 1), 42);
    assert_int_equal(k, 2251799813685290ULL); /* Zeebe's first keys look like this */
}

static void test_time_format(void **state) {
    (void)state;
    char out[32];
    bt_time_format(0, out);
    assert_string_equal(out, "1970-01-01T00:00:00.000Z");
    bt_time_format(1795289100123LL, out);
    assert_string_equal(out, "2026-11-21T19:25:00.123Z");
    bt_time_format(-1, out);
    assert_string_equal(out, "1969-12-31T23:59:59.999Z");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buf_printf_and_take),
        cmocka_unit_test(test_buf_json_string_escapes),
        cmocka_unit_test(test_alloc_failure_injection),
        cmocka_unit_test(test_keys_carry_partition),
        cmocka_unit_test(test_time_format),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
