/*
 * builtins_number.c — FEEL's numeric functions: decimal, floor, ceiling, the
 * four explicit roundings, abs, modulo, sqrt, log, exp, odd, even.
 *
 * All work on decimal128 values through decimal.h, so rounding is exact in
 * base ten: round half up(2.675, 2) is 2.68, never 2.67. The optional scale
 * is the number of digits after the point (negative rounds to tens,
 * hundreds, ...), within -6111..6176 as decimal128 allows.
 */
#include "feel/builtins.h"

static bool need_number(feel_eval_state *E, const char *fn, feel_value **args, size_t n, size_t i,
                        feel_value **out) {
    if (feel_arg_type(E, fn, args, n, i, FEEL_NUMBER))
        return true;
    *out = feel_null();
    return false;
}

static int rounded(feel_eval_state *E, const char *fn, feel_dec_round_mode mode, feel_value **args,
                   size_t n, feel_value **out) {
    int64_t scale = 0;
    if (!need_number(E, fn, args, n, 0, out))
        return 0;
    if (n > 1 && feel_value_type(args[1]) != FEEL_NULL) {
        if (!feel_arg_int(E, fn, args, n, 1, &scale) || scale < -6111 || scale > 6176) {
            *out = feel_null();
            return 0;
        }
    }
    if (args[0]->is_int && scale >= 0) {
        *out = feel_value_ref(args[0]);
        return 0;
    }
    feel_dec r;
    if (feel_dec_round(feel_number_dec(args[0]), (int)scale, mode, &r) < 0)
        return feel_bi_null(E, fn, "the result is out of range", out);
    return feel_bi_take(feel_number_from_dec(r), out);
}

FEEL_BI(feel_bi_decimal) {
    return rounded(E, "decimal", FEEL_ROUND_HALF_EVEN, args, n, out);
}

FEEL_BI(feel_bi_floor) {
    return rounded(E, "floor", FEEL_ROUND_FLOOR, args, n, out);
}

FEEL_BI(feel_bi_ceiling) {
    return rounded(E, "ceiling", FEEL_ROUND_CEILING, args, n, out);
}

FEEL_BI(feel_bi_round_up) {
    return rounded(E, "round up", FEEL_ROUND_UP, args, n, out);
}

FEEL_BI(feel_bi_round_down) {
    return rounded(E, "round down", FEEL_ROUND_DOWN, args, n, out);
}

FEEL_BI(feel_bi_round_half_up) {
    return rounded(E, "round half up", FEEL_ROUND_HALF_UP, args, n, out);
}

FEEL_BI(feel_bi_round_half_down) {
    return rounded(E, "round half down", FEEL_ROUND_HALF_DOWN, args, n, out);
}

FEEL_BI(feel_bi_abs) {
    feel_type t = feel_value_type(args[0]);
    if (t == FEEL_DAYS_TIME_DURATION || t == FEEL_YEARS_MONTHS_DURATION)
        return feel_duration_abs(args[0], out);
    if (!need_number(E, "abs", args, n, 0, out))
        return 0;
    if (args[0]->is_int && args[0]->u.i != INT64_MIN)
        return feel_bi_take(feel_number_from_int(args[0]->u.i < 0 ? -args[0]->u.i : args[0]->u.i),
                            out);
    return feel_bi_take(feel_number_from_dec(feel_dec_abs(feel_number_dec(args[0]))), out);
}

FEEL_BI(feel_bi_modulo) {
    if (!need_number(E, "modulo", args, n, 0, out) || !need_number(E, "modulo", args, n, 1, out))
        return 0;
    feel_dec r;
    if (feel_dec_mod(feel_number_dec(args[0]), feel_number_dec(args[1]), &r) < 0)
        return feel_bi_null(E, "modulo", "division by zero", out);
    return feel_bi_take(feel_number_from_dec(r), out);
}

static int unary_math(feel_eval_state *E, const char *fn, int (*f)(feel_dec, feel_dec *),
                      feel_value **args, size_t n, feel_value **out) {
    if (!need_number(E, fn, args, n, 0, out))
        return 0;
    feel_dec r;
    if (f(feel_number_dec(args[0]), &r) < 0)
        return feel_bi_null(E, fn, "the result is undefined", out);
    return feel_bi_take(feel_number_from_dec(r), out);
}

FEEL_BI(feel_bi_sqrt) {
    return unary_math(E, "sqrt", feel_dec_sqrt, args, n, out);
}

FEEL_BI(feel_bi_log) {
    return unary_math(E, "log", feel_dec_ln, args, n, out);
}

FEEL_BI(feel_bi_exp) {
    return unary_math(E, "exp", feel_dec_exp, args, n, out);
}

static int parity(feel_eval_state *E, const char *fn, bool odd, feel_value **args, size_t n,
                  feel_value **out) {
    if (!need_number(E, fn, args, n, 0, out))
        return 0;
    feel_dec r;
    if (!feel_dec_is_integer(feel_number_dec(args[0])))
        return feel_bi_null(E, fn, "the argument must be an integer", out);
    if (args[0]->is_int) {
        *out = feel_bool((args[0]->u.i % 2 != 0) == odd);
        return 0;
    }
    if (feel_dec_mod(feel_number_dec(args[0]), feel_dec_from_int(2), &r) < 0)
        return feel_bi_null(E, fn, "the argument is out of range", out);
    *out = feel_bool((feel_dec_cmp(r, feel_dec_from_int(0)) != 0) == odd);
    return 0;
}

FEEL_BI(feel_bi_odd) {
    return parity(E, "odd", true, args, n, out);
}

FEEL_BI(feel_bi_even) {
    return parity(E, "even", false, args, n, out);
}
