/*
 * decimal.h — FEEL's numbers: IEEE 754-2008 decimal128 (34 significant
 * digits) in the BID encoding, computed with Intel's decimal floating-point
 * math library. No compiler support for decimal types is needed: feel_dec is
 * a plain 128-bit struct, so the code builds with gcc and clang alike.
 *
 * FEEL (DMN 1.3, 10.3.2.3.1) asks for decimal semantics with at least 34
 * digits: 0.1 + 0.2 = 0.3, and 1 / 3 = 0.3333333333333333333333333333333333.
 * Results are rounded half-even to 34 digits. Division by zero, and any
 * operation that would produce an infinity or NaN, is reported as an error
 * (FEEL then yields null); feel_dec values are always finite.
 *
 * All functions are pure and thread-safe. Functions returning int follow
 * base.h: 0 ok, BT_EEVAL when the result is undefined (x / 0, sqrt(-1),
 * overflow), BT_EINVAL for malformed text.
 */
#ifndef BATON_FEEL_DECIMAL_H
#define BATON_FEEL_DECIMAL_H

#include "base/base.h"

/* A decimal128 value in the BID encoding. w[0] is the low 64 bits of the
 * encoding (low part of the coefficient), w[1] the high 64 bits (sign,
 * exponent, high part of the coefficient) — the order of Intel's BID_UINT128
 * on a little-endian machine. Copy and assign it freely; compare values with
 * feel_dec_cmp, never bytewise: 1.5 and 1.50 are different encodings of the
 * same number. Only decimal.c looks inside. */
typedef struct feel_dec {
    uint64_t w[2];
} feel_dec;

/* Longest text feel_dec_format writes, with the NUL. */
#define FEEL_DEC_TEXT_MAX 64

/* Parses a decimal literal: optional sign, digits, optional fraction,
 * optional exponent ("1e-3", "1.5E+10"). Exactly n bytes are read. */
int feel_dec_parse(const char *s, size_t n, feel_dec *out);
/* Writes the shortest exact text: "0.3", "-12", "1.5", "1E+40" only when the
 * exponent is beyond +-40 digits; trailing zeros of the fraction are dropped
 * ("1.50" → "1.5"), -0 prints "0". Returns the length. */
int feel_dec_format(feel_dec d, char out[FEEL_DEC_TEXT_MAX]);

feel_dec feel_dec_from_int(int64_t i);
/* 0 and *out when d is integral and fits int64, BT_EINVAL otherwise. */
int feel_dec_to_int64(feel_dec d, int64_t *out);
/* Closest binary double (for JSON interop where a double is required). */
double feel_dec_to_double(feel_dec d);
/* From a double via its shortest round-trip text (0.1 → 0.1, not
 * 0.1000000000000000055...). BT_EEVAL for inf/nan. */
int feel_dec_from_double(double x, feel_dec *out);

bool feel_dec_is_integer(feel_dec d);
int feel_dec_cmp(feel_dec a, feel_dec b); /* -1, 0, 1 */

int feel_dec_add(feel_dec a, feel_dec b, feel_dec *out);
int feel_dec_sub(feel_dec a, feel_dec b, feel_dec *out);
int feel_dec_mul(feel_dec a, feel_dec b, feel_dec *out);
int feel_dec_div(feel_dec a, feel_dec b, feel_dec *out); /* BT_EEVAL on b = 0 */
/* FEEL's modulo(dividend, divisor): the sign of the divisor (floored). */
int feel_dec_mod(feel_dec a, feel_dec b, feel_dec *out);
/* a ** b; integral b is exact by repeated squaring, otherwise exp(b ln a). */
int feel_dec_pow(feel_dec a, feel_dec b, feel_dec *out);
feel_dec feel_dec_neg(feel_dec a);
feel_dec feel_dec_abs(feel_dec a);

int feel_dec_sqrt(feel_dec a, feel_dec *out); /* BT_EEVAL for a < 0 */
int feel_dec_ln(feel_dec a, feel_dec *out);   /* BT_EEVAL for a <= 0 */
int feel_dec_exp(feel_dec a, feel_dec *out);

/* Rounding to `scale` digits after the point (negative scale rounds to tens,
 * hundreds, ...), in the modes of FEEL's built-ins. */
typedef enum feel_dec_round_mode {
    FEEL_ROUND_HALF_EVEN, /* decimal(n, scale) */
    FEEL_ROUND_HALF_UP,   /* round half up: away from zero on .5 */
    FEEL_ROUND_HALF_DOWN, /* towards zero on .5 */
    FEEL_ROUND_UP,        /* away from zero */
    FEEL_ROUND_DOWN,      /* towards zero */
    FEEL_ROUND_FLOOR,     /* towards -infinity */
    FEEL_ROUND_CEILING,   /* towards +infinity */
} feel_dec_round_mode;
int feel_dec_round(feel_dec a, int scale, feel_dec_round_mode mode, feel_dec *out);

#endif
