/* Unit tests for src/feel/decimal.c: FEEL's decimal128 numbers — parsing,
 * shortest formatting, integer and double conversion, exact arithmetic,
 * floored modulo, powers, the math functions and every rounding mode. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdint.h>
#include <string.h>

#include "feel/decimal.h"

/* Parses s, failing the test when it is not a number. */
static feel_dec num(const char *s) {
    feel_dec d;
    int rc = feel_dec_parse(s, strlen(s), &d);
    if (rc != 0)
        fail_msg("cannot parse \"%s\": %d", s, rc);
    return d;
}

/* Asserts that d formats as want. */
static void check_text(feel_dec d, const char *want) {
    char buf[FEEL_DEC_TEXT_MAX];
    int n = feel_dec_format(d, buf);
    assert_string_equal(buf, want);
    assert_int_equal(n, (int)strlen(want));
}

/* |d - want| < tolerance, through the API (feel_dec has no operators). */
static bool near(feel_dec d, feel_dec want, const char *tolerance) {
    feel_dec diff;
    if (feel_dec_sub(d, want, &diff) != 0)
        return false;
    return feel_dec_cmp(feel_dec_abs(diff), num(tolerance)) < 0;
}

static void check_parse_format(const char *in, const char *want) {
    check_text(num(in), want);
}

static void test_parse_and_format(void **state) {
    (void)state;
    check_parse_format("0", "0");
    check_parse_format("-0", "0");
    check_parse_format("-0.000", "0");
    check_parse_format("1.50", "1.5");
    check_parse_format("100", "100");
    check_parse_format("1e3", "1000");
    check_parse_format("1E+3", "1000");
    check_parse_format("1.5E10", "15000000000");
    check_parse_format("1e-3", "0.001");
    check_parse_format("+42", "42");
    check_parse_format("-12.3400", "-12.34");
    check_parse_format(".5", "0.5");
    check_parse_format("5.", "5");
    check_parse_format("0.000001", "0.000001");
    check_parse_format("123456789012345678901234567890.1234",
                       "123456789012345678901234567890.1234");
    /* 40 integer digits stay plain; 41 use the exponent. */
    check_parse_format("1e39", "1000000000000000000000000000000000000000");
    check_parse_format("1e40", "1E+40");
    check_parse_format("-1.25e100", "-1.25E+100");
    check_parse_format("1e-30", "0.000000000000000000000000000001");
    check_parse_format("1.5e-100", "1.5E-100");
    /* more than 34 digits round half-even */
    check_parse_format("1.00000000000000000000000000000000005", "1");
    check_parse_format("1.0000000000000000000000000000000015",
                       "1.000000000000000000000000000000002");
    check_parse_format("1.0000000000000000000000000000000025",
                       "1.000000000000000000000000000000002");
    check_parse_format("0e999999999", "0");
    check_parse_format("1e-99999999", "0");
}

static void test_parse_errors(void **state) {
    (void)state;
    const char *bad[] = {"1.2.3", "",   "abc",  "1e",    "1e+", "-",   "+",   ".",  "1..2",
                         "1 ",    " 1", "0x10", "1e5.5", "inf", "NaN", "--1", "1-", "e5"};
    feel_dec d;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (feel_dec_parse(bad[i], strlen(bad[i]), &d) != BT_EINVAL)
            fail_msg("\"%s\" should be rejected", bad[i]);
    }
    /* exactly n bytes are read */
    assert_int_equal(feel_dec_parse("12abc", 2, &d), 0);
    check_text(d, "12");
    /* beyond the range of decimal128 */
    assert_int_equal(feel_dec_parse("1e7000", 6, &d), BT_EEVAL);
    assert_int_equal(feel_dec_parse("1e99999999", 10, &d), BT_EEVAL);
    /* a long literal goes through the heap */
    char longtext[300];
    memset(longtext, '0', sizeof longtext - 1);
    longtext[0] = '7';
    longtext[sizeof longtext - 1] = '\0';
    assert_int_equal(feel_dec_parse(longtext, strlen(longtext), &d), 0);
    check_text(d, "7E+298");
}

static void test_exact_arithmetic(void **state) {
    (void)state;
    feel_dec r;
    assert_int_equal(feel_dec_add(num("0.1"), num("0.2"), &r), 0);
    assert_int_equal(feel_dec_cmp(r, num("0.3")), 0);
    check_text(r, "0.3");
    assert_int_equal(feel_dec_div(num("1"), num("3"), &r), 0);
    check_text(r, "0.3333333333333333333333333333333333");
    assert_int_equal(feel_dec_div(num("2"), num("3"), &r), 0);
    check_text(r, "0.6666666666666666666666666666666667");
    assert_int_equal(feel_dec_sub(num("1.5"), num("0.5"), &r), 0);
    check_text(r, "1");
    assert_int_equal(feel_dec_mul(num("1.1"), num("1.1"), &r), 0);
    check_text(r, "1.21");
    assert_int_equal(feel_dec_div(num("10"), num("4"), &r), 0);
    check_text(r, "2.5");
    assert_int_equal(feel_dec_sub(num("0.3"), num("0.1"), &r), 0);
    check_text(r, "0.2");
}

static void test_errors_never_produce_inf_or_nan(void **state) {
    (void)state;
    feel_dec r = num("7");
    assert_int_equal(feel_dec_div(num("1"), num("0"), &r), BT_EEVAL);
    assert_int_equal(feel_dec_div(num("0"), num("0.00"), &r), BT_EEVAL);
    assert_int_equal(feel_dec_mod(num("1"), num("0"), &r), BT_EEVAL);
    assert_int_equal(feel_dec_mul(num("1e6000"), num("1e6000"), &r), BT_EEVAL);
    assert_int_equal(feel_dec_add(num("9.999999999999999999999999999999999e6144"),
                                  num("9.999999999999999999999999999999999e6144"), &r),
                     BT_EEVAL);
    assert_int_equal(feel_dec_sqrt(num("-1"), &r), BT_EEVAL);
    assert_int_equal(feel_dec_ln(num("0"), &r), BT_EEVAL);
    assert_int_equal(feel_dec_ln(num("-2"), &r), BT_EEVAL);
    assert_int_equal(feel_dec_exp(num("100000"), &r), BT_EEVAL);
    assert_int_equal(feel_dec_pow(num("10"), num("7000"), &r), BT_EEVAL);
    assert_int_equal(feel_dec_pow(num("0"), num("-1"), &r), BT_EEVAL);
    assert_int_equal(feel_dec_pow(num("-8"), num("0.5"), &r), BT_EEVAL);
    /* r untouched by the failures */
    check_text(r, "7");
}

static void test_int_conversion(void **state) {
    (void)state;
    int64_t i;
    feel_dec d = feel_dec_from_int(INT64_MAX);
    check_text(d, "9223372036854775807");
    assert_int_equal(feel_dec_to_int64(d, &i), 0);
    assert_true(i == INT64_MAX);
    d = feel_dec_from_int(INT64_MIN);
    check_text(d, "-9223372036854775808");
    assert_int_equal(feel_dec_to_int64(d, &i), 0);
    assert_true(i == INT64_MIN);
    check_text(feel_dec_from_int(0), "0");
    check_text(feel_dec_from_int(-1), "-1");
    assert_int_equal(feel_dec_cmp(feel_dec_from_int(42), num("42.000")), 0);

    /* 2 ** 63 does not fit; -(2 ** 63) does */
    feel_dec two63;
    assert_int_equal(feel_dec_pow(num("2"), num("63"), &two63), 0);
    check_text(two63, "9223372036854775808");
    assert_int_equal(feel_dec_to_int64(two63, &i), BT_EINVAL);
    assert_int_equal(feel_dec_to_int64(feel_dec_neg(two63), &i), 0);
    assert_true(i == INT64_MIN);
    assert_int_equal(feel_dec_to_int64(num("-9223372036854775809"), &i), BT_EINVAL);

    /* integral values in other cohorts */
    assert_int_equal(feel_dec_to_int64(num("1.000"), &i), 0);
    assert_int_equal(i, 1);
    assert_int_equal(feel_dec_to_int64(num("12e2"), &i), 0);
    assert_int_equal(i, 1200);
    assert_int_equal(feel_dec_to_int64(num("1.5"), &i), BT_EINVAL);
    assert_int_equal(feel_dec_to_int64(num("1e20"), &i), BT_EINVAL);
    assert_int_equal(feel_dec_to_int64(num("0e50"), &i), 0);
    assert_int_equal(i, 0);

    assert_true(feel_dec_is_integer(num("3.000")));
    assert_true(feel_dec_is_integer(num("1e50")));
    assert_true(feel_dec_is_integer(num("0")));
    assert_false(feel_dec_is_integer(num("3.001")));
    assert_false(feel_dec_is_integer(num("1e-50")));
}

static void test_double_conversion(void **state) {
    (void)state;
    feel_dec d;
    assert_int_equal(feel_dec_from_double(0.1, &d), 0);
    check_text(d, "0.1");
    assert_int_equal(feel_dec_from_double(1.0 / 3.0, &d), 0);
    check_text(d, "0.3333333333333333");
    assert_int_equal(feel_dec_from_double(0.1 + 0.2, &d), 0);
    check_text(d, "0.30000000000000004");
    assert_int_equal(feel_dec_from_double(-2.5, &d), 0);
    check_text(d, "-2.5");
    assert_int_equal(feel_dec_from_double(1e21, &d), 0);
    check_text(d, "1000000000000000000000");
    assert_int_equal(feel_dec_from_double(5e-324, &d), 0);
    check_text(d, "4.94065645841247E-324");
    assert_int_equal(feel_dec_from_double(1.0 / 0.0, &d), BT_EEVAL);
    assert_int_equal(feel_dec_from_double(0.0 / 0.0, &d), BT_EEVAL);
    assert_true(feel_dec_to_double(num("0.1")) == 0.1);
    assert_true(feel_dec_to_double(num("-1234.5")) == -1234.5);
    assert_true(feel_dec_to_double(num("1e300")) == 1e300);
}

static void test_compare(void **state) {
    (void)state;
    assert_int_equal(feel_dec_cmp(num("1"), num("2")), -1);
    assert_int_equal(feel_dec_cmp(num("2"), num("1")), 1);
    assert_int_equal(feel_dec_cmp(num("1.0"), num("1")), 0);
    assert_int_equal(feel_dec_cmp(num("-0"), num("0")), 0);
    assert_int_equal(feel_dec_cmp(num("-1e-40"), num("0")), -1);
    assert_int_equal(feel_dec_cmp(num("1e40"), num("9.99e39")), 1);
    check_text(feel_dec_neg(num("5")), "-5");
    check_text(feel_dec_abs(num("-5.5")), "5.5");
    check_text(feel_dec_abs(num("5.5")), "5.5");
}

static void check_mod(const char *a, const char *b, const char *want) {
    feel_dec r;
    assert_int_equal(feel_dec_mod(num(a), num(b), &r), 0);
    check_text(r, want);
}

static void test_modulo(void **state) {
    (void)state;
    check_mod("12", "5", "2");
    check_mod("-12", "5", "3");
    check_mod("12", "-5", "-3");
    check_mod("-12", "-5", "-2");
    check_mod("10.1", "4.5", "1.1");
    check_mod("-10.1", "4.5", "3.4");
    check_mod("10.1", "-4.5", "-3.4");
    check_mod("10", "5", "0");
    check_mod("-10", "5", "0");
    check_mod("0.3", "0.1", "0");
    check_mod("1e30", "7", "1");
}

static void check_pow(const char *a, const char *b, const char *want) {
    feel_dec r;
    int rc = feel_dec_pow(num(a), num(b), &r);
    if (rc != 0)
        fail_msg("%s ** %s failed: %d", a, b, rc);
    check_text(r, want);
}

static void test_pow(void **state) {
    (void)state;
    check_pow("2", "10", "1024");
    check_pow("1.1", "2", "1.21");
    check_pow("2", "-2", "0.25");
    check_pow("10", "-3", "0.001");
    check_pow("-2", "3", "-8");
    check_pow("-2", "2.0", "4");
    check_pow("5", "0", "1");
    check_pow("0", "0", "1");
    check_pow("0", "2.5", "0");
    check_pow("3", "40", "12157665459056928801");
    check_pow("1.5", "3", "3.375");
    check_pow("4", "0.5", "2");
    check_pow("8", "-1", "0.125");
    /* non-integral exponent: e ** 1 = e, to at least 30 digits */
    feel_dec e, r;
    assert_int_equal(feel_dec_exp(num("1"), &e), 0);
    assert_int_equal(feel_dec_pow(e, num("1.5"), &r), 0);
    feel_dec want = num("4.481689070338064822602055460119276");
    assert_true(near(r, want, "1e-30"));
}

static void test_math_functions(void **state) {
    (void)state;
    feel_dec r;
    assert_int_equal(feel_dec_sqrt(num("16"), &r), 0);
    check_text(r, "4");
    assert_int_equal(feel_dec_sqrt(num("2"), &r), 0);
    check_text(r, "1.414213562373095048801688724209698");
    assert_int_equal(feel_dec_sqrt(num("0"), &r), 0);
    check_text(r, "0");
    assert_int_equal(feel_dec_sqrt(num("0.25"), &r), 0);
    check_text(r, "0.5");
    assert_int_equal(feel_dec_exp(num("0"), &r), 0);
    check_text(r, "1");
    assert_int_equal(feel_dec_exp(num("1"), &r), 0);
    assert_true(near(r, num("2.718281828459045235360287471352662"), "1e-32"));
    assert_int_equal(feel_dec_ln(num("1"), &r), 0);
    check_text(r, "0");
    assert_int_equal(feel_dec_ln(num("10"), &r), 0);
    assert_true(near(r, num("2.302585092994045684017991454684364"), "1e-32"));
    /* ln and exp are inverse */
    feel_dec l;
    assert_int_equal(feel_dec_ln(num("123.456"), &l), 0);
    assert_int_equal(feel_dec_exp(l, &r), 0);
    assert_true(near(r, num("123.456"), "1e-29"));
    /* underflow is a number, not an error */
    assert_int_equal(feel_dec_exp(num("-100000"), &r), 0);
    check_text(r, "0");
}

typedef struct round_case {
    const char *in;
    int scale;
    feel_dec_round_mode mode;
    const char *want;
} round_case;

static const round_case round_cases[] = {
    /* decimal(n, scale): half-even */
    {"2.5", 0, FEEL_ROUND_HALF_EVEN, "2"},
    {"3.5", 0, FEEL_ROUND_HALF_EVEN, "4"},
    {"-2.5", 0, FEEL_ROUND_HALF_EVEN, "-2"},
    {"-3.5", 0, FEEL_ROUND_HALF_EVEN, "-4"},
    {"2.51", 0, FEEL_ROUND_HALF_EVEN, "3"},
    {"0.125", 2, FEEL_ROUND_HALF_EVEN, "0.12"},
    {"0.135", 2, FEEL_ROUND_HALF_EVEN, "0.14"},
    {"25", -1, FEEL_ROUND_HALF_EVEN, "20"},
    {"35", -1, FEEL_ROUND_HALF_EVEN, "40"},
    {"1.5", 5, FEEL_ROUND_HALF_EVEN, "1.5"},
    /* round half up: away from zero on .5 */
    {"5.5", 0, FEEL_ROUND_HALF_UP, "6"},
    {"-5.5", 0, FEEL_ROUND_HALF_UP, "-6"},
    {"5.4", 0, FEEL_ROUND_HALF_UP, "5"},
    {"1.125", 2, FEEL_ROUND_HALF_UP, "1.13"},
    {"-1.125", 2, FEEL_ROUND_HALF_UP, "-1.13"},
    {"15", -1, FEEL_ROUND_HALF_UP, "20"},
    {"-15", -1, FEEL_ROUND_HALF_UP, "-20"},
    /* round half down: towards zero on .5 */
    {"5.5", 0, FEEL_ROUND_HALF_DOWN, "5"},
    {"-5.5", 0, FEEL_ROUND_HALF_DOWN, "-5"},
    {"5.51", 0, FEEL_ROUND_HALF_DOWN, "6"},
    {"-5.51", 0, FEEL_ROUND_HALF_DOWN, "-6"},
    {"5.4", 0, FEEL_ROUND_HALF_DOWN, "5"},
    {"1.125", 2, FEEL_ROUND_HALF_DOWN, "1.12"},
    {"1.1251", 2, FEEL_ROUND_HALF_DOWN, "1.13"},
    {"15", -1, FEEL_ROUND_HALF_DOWN, "10"},
    /* round up: away from zero */
    {"5.1", 0, FEEL_ROUND_UP, "6"},
    {"-5.1", 0, FEEL_ROUND_UP, "-6"},
    {"5", 0, FEEL_ROUND_UP, "5"},
    {"1.121", 2, FEEL_ROUND_UP, "1.13"},
    {"-1.121", 2, FEEL_ROUND_UP, "-1.13"},
    {"11", -1, FEEL_ROUND_UP, "20"},
    {"-11", -1, FEEL_ROUND_UP, "-20"},
    /* round down: towards zero */
    {"5.9", 0, FEEL_ROUND_DOWN, "5"},
    {"-5.9", 0, FEEL_ROUND_DOWN, "-5"},
    {"1.129", 2, FEEL_ROUND_DOWN, "1.12"},
    {"19", -1, FEEL_ROUND_DOWN, "10"},
    {"-19", -1, FEEL_ROUND_DOWN, "-10"},
    {"0.9", 0, FEEL_ROUND_DOWN, "0"},
    {"-0.9", 0, FEEL_ROUND_DOWN, "0"},
    /* floor / ceiling */
    {"-1.1", 0, FEEL_ROUND_FLOOR, "-2"},
    {"1.1", 0, FEEL_ROUND_FLOOR, "1"},
    {"-1", 0, FEEL_ROUND_FLOOR, "-1"},
    {"1.129", 2, FEEL_ROUND_FLOOR, "1.12"},
    {"-1.121", 2, FEEL_ROUND_FLOOR, "-1.13"},
    {"-11", -1, FEEL_ROUND_FLOOR, "-20"},
    {"1.1", 0, FEEL_ROUND_CEILING, "2"},
    {"-1.1", 0, FEEL_ROUND_CEILING, "-1"},
    {"-1.9", 0, FEEL_ROUND_CEILING, "-1"},
    {"1.121", 2, FEEL_ROUND_CEILING, "1.13"},
    {"11", -1, FEEL_ROUND_CEILING, "20"},
    {"0.001", 0, FEEL_ROUND_CEILING, "1"},
    /* values far below the scale */
    {"1e-6000", 2, FEEL_ROUND_CEILING, "0.01"},
    {"1e-6000", 2, FEEL_ROUND_FLOOR, "0"},
    {"-1e-6000", 2, FEEL_ROUND_UP, "-0.01"},
    {"1e-6000", 2, FEEL_ROUND_HALF_UP, "0"},
    /* 34-digit value rounding up to a 35-digit one */
    {"9999999999999999999999999999999999", -1, FEEL_ROUND_HALF_EVEN,
     "10000000000000000000000000000000000"},
    {"99999999999999999999999999999999.99", 1, FEEL_ROUND_HALF_EVEN,
     "100000000000000000000000000000000"},
};

static void test_rounding_table(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof round_cases / sizeof round_cases[0]; i++) {
        const round_case *c = &round_cases[i];
        feel_dec r;
        int rc = feel_dec_round(num(c->in), c->scale, c->mode, &r);
        if (rc != 0)
            fail_msg("round(%s, %d, mode %d) failed: %d", c->in, c->scale, c->mode, rc);
        char buf[FEEL_DEC_TEXT_MAX];
        feel_dec_format(r, buf);
        if (strcmp(buf, c->want) != 0)
            fail_msg("round(%s, %d, mode %d) = %s, want %s", c->in, c->scale, c->mode, buf,
                     c->want);
    }
}

static void test_rounding_limits(void **state) {
    (void)state;
    feel_dec r;
    assert_int_equal(feel_dec_round(num("1.5"), 6177, FEEL_ROUND_HALF_EVEN, &r), BT_EEVAL);
    assert_int_equal(feel_dec_round(num("1.5"), -6112, FEEL_ROUND_HALF_EVEN, &r), BT_EEVAL);
    assert_int_equal(feel_dec_round(num("1.5"), 6176, FEEL_ROUND_HALF_EVEN, &r), 0);
    check_text(r, "1.5");
    assert_int_equal(feel_dec_round(num("1.5"), -6111, FEEL_ROUND_HALF_EVEN, &r), 0);
    check_text(r, "0");
    assert_int_equal(feel_dec_round(num("1.5"), -6111, FEEL_ROUND_UP, &r), 0);
    check_text(r, "1E+6111");
    /* 1/3 to 4 digits */
    feel_dec third;
    assert_int_equal(feel_dec_div(num("1"), num("3"), &third), 0);
    assert_int_equal(feel_dec_round(third, 4, FEEL_ROUND_HALF_EVEN, &r), 0);
    check_text(r, "0.3333");
    assert_int_equal(feel_dec_round(num("-0.4"), 0, FEEL_ROUND_HALF_EVEN, &r), 0);
    check_text(r, "0");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_and_format),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_exact_arithmetic),
        cmocka_unit_test(test_errors_never_produce_inf_or_nan),
        cmocka_unit_test(test_int_conversion),
        cmocka_unit_test(test_double_conversion),
        cmocka_unit_test(test_compare),
        cmocka_unit_test(test_modulo),
        cmocka_unit_test(test_pow),
        cmocka_unit_test(test_math_functions),
        cmocka_unit_test(test_rounding_table),
        cmocka_unit_test(test_rounding_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
