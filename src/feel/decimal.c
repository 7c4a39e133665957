/*
 * decimal.c — FEEL numbers as IEEE 754-2008 decimal128 (see decimal.h).
 *
 * Representation. A feel_dec holds the BID encoding of a decimal128: a sign
 * bit, a 14-bit biased exponent (bias 6176) and a 113-bit binary coefficient
 * below 10^34. The value is coefficient * 10^exponent; 1.50 and 1.5 are
 * different encodings (a "cohort") of the same number. This file reads and
 * writes that layout directly (dec_unpack / dec_pack) for everything that
 * must be exact and fast: integer conversion, integrality, formatting, and
 * scaling by powers of ten in rounding. No path but parsing goes through
 * text.
 *
 * Arithmetic. Every operation on values — +, -, *, /, comparisons, fmod,
 * sqrt, ln, exp, pow, rounding to an integral value, conversion to double and
 * from text — is a call into Intel's Decimal Floating-Point Math Library as
 * shipped by Debian (libintelrdfpmath-dev), rounding half-even to 34 digits.
 * The compiler's own decimal types (a GNU extension) are not used: clang does
 * not have them, and the fuzzing build needs clang.
 *
 * Which build of Intel's library. Debian ships eight builds, libbidgccXYZ:
 * X = 1 passes values by reference, Y = 1 reads the rounding mode from a
 * global, Z = 1 accumulates status flags in a global. baton links
 * libbidgcc000: values by value (a BID_UINT128 travels in two registers,
 * like the struct it is), and the rounding mode and the flags word as
 * explicit arguments. Nothing is shared between calls, so every function
 * here is pure and thread-safe without relying on thread-local globals, and
 * the rounding mode cannot be changed behind our back. The configuration
 * macros below must match that build: the three set to 0.
 *
 * Symbol names. The library's functions are named __bid128_add & co., the
 * same names as the copy of the library inside libgcc that backs GCC's
 * native decimal operators (convention 011). That copy is only linked in
 * when some object uses GNU decimal types; baton has none, so the names resolve
 * to libbidgcc000 alone. Using a native decimal operator anywhere in baton
 * could pull in libgcc's objects and clash with (or be resolved to) these.
 *
 * Errors are detected from the results themselves, as before: an infinity or
 * a NaN means overflow or an invalid operation. The flags word each call
 * fills is local and not read. BT_EINVAL for malformed text (and an integer
 * that does not fit); BT_EEVAL for results that are not finite numbers
 * (x / 0, overflow, sqrt(-1), ln(0)).
 */
#include "feel/decimal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The calling convention of libbidgcc000 (see the top of this file). */
#define DECIMAL_CALL_BY_REFERENCE      0
#define DECIMAL_GLOBAL_ROUNDING        0
#define DECIMAL_GLOBAL_EXCEPTION_FLAGS 0
#include <bid_conf.h>
#include <bid_functions.h>

/* FEEL rounds half-even everywhere (DMN 1.3, 10.3.2.3.1). */
#define DEC_RND BID_ROUNDING_TO_NEAREST

/* ---- the BID128 layout -------------------------------------------------- */

typedef unsigned __int128 dec_u128;

#define DEC_BIAS    6176
#define DEC_EXP_MAX 12287 /* largest biased exponent */
#define DEC_DIGITS  34

typedef enum { DEC_FINITE, DEC_INF, DEC_NAN } dec_kind;

typedef struct dec_parts {
    bool negative;
    int exponent;  /* unbiased: value = coefficient * 10^exponent */
    dec_u128 coef; /* < 10^34 */
} dec_parts;

static dec_u128 dec_pow10(int n) {
    dec_u128 p = 1;
    while (n-- > 0)
        p *= 10;
    return p;
}

/* feel_dec keeps the words in BID_UINT128's little-endian order (decimal.h);
 * the index macros make the copy right on either byte order. */
static BID_UINT128 dec_to_bid(feel_dec d) {
    BID_UINT128 b;
    b.w[BID_LOW_128W] = d.w[0];
    b.w[BID_HIGH_128W] = d.w[1];
    return b;
}

static feel_dec dec_from_bid(BID_UINT128 b) {
    feel_dec d;
    d.w[0] = b.w[BID_LOW_128W];
    d.w[1] = b.w[BID_HIGH_128W];
    return d;
}

static dec_kind dec_unpack(feel_dec d, dec_parts *p) {
    uint64_t hi = d.w[1], lo = d.w[0];
    p->negative = (hi >> 63) != 0;
    if ((hi & 0x6000000000000000ull) == 0x6000000000000000ull) {
        if ((hi & 0x7c00000000000000ull) == 0x7c00000000000000ull)
            return DEC_NAN;
        if ((hi & 0x7800000000000000ull) == 0x7800000000000000ull)
            return DEC_INF;
        /* The "large coefficient" form: its coefficient is at least 2^113,
         * beyond 10^34 - 1, so it is a non-canonical encoding of zero. */
        p->exponent = (int)((hi >> 47) & 0x3fff) - DEC_BIAS;
        p->coef = 0;
        return DEC_FINITE;
    }
    p->exponent = (int)((hi >> 49) & 0x3fff) - DEC_BIAS;
    p->coef = ((dec_u128)(hi & 0x1ffffffffffffull) << 64) | lo;
    if (p->coef >= dec_pow10(DEC_DIGITS))
        p->coef = 0; /* non-canonical: zero */
    return DEC_FINITE;
}

/* Packs parts with coef < 10^34 and a biased exponent in range. */
static feel_dec dec_pack(const dec_parts *p) {
    uint64_t biased = (uint64_t)(p->exponent + DEC_BIAS);
    feel_dec d;
    d.w[1] = ((uint64_t)p->negative << 63) | (biased << 49) | (uint64_t)(p->coef >> 64);
    d.w[0] = (uint64_t)p->coef;
    return d;
}

/* coef * 10^exponent, for the constants of this file. */
static feel_dec dec_make(bool negative, uint64_t coef, int exponent) {
    dec_parts p = {.negative = negative, .exponent = exponent, .coef = coef};
    return dec_pack(&p);
}

#define DEC_ZERO     dec_make(false, 0, 0)
#define DEC_NEG_ZERO dec_make(true, 0, 0)
#define DEC_ONE      dec_make(false, 1, 0)
#define DEC_HALF     dec_make(false, 5, -1)

static bool dec_finite(feel_dec d) {
    dec_parts p;
    return dec_unpack(d, &p) == DEC_FINITE;
}

/* Stores r in *out when finite; BT_EEVAL otherwise. */
static int dec_result(feel_dec r, feel_dec *out) {
    if (!dec_finite(r))
        return BT_EEVAL;
    *out = r;
    return BT_OK;
}

static bool dec_is_zero(feel_dec d) {
    dec_parts p;
    return dec_unpack(d, &p) == DEC_FINITE && p.coef == 0;
}

/* ---- the library's operations, half-even, flags kept local ----------------- */

static feel_dec dec_add(feel_dec a, feel_dec b) {
    _IDEC_flags flags = 0;
    return dec_from_bid(bid128_add(dec_to_bid(a), dec_to_bid(b), DEC_RND, &flags));
}

static feel_dec dec_sub(feel_dec a, feel_dec b) {
    _IDEC_flags flags = 0;
    return dec_from_bid(bid128_sub(dec_to_bid(a), dec_to_bid(b), DEC_RND, &flags));
}

static feel_dec dec_mul(feel_dec a, feel_dec b) {
    _IDEC_flags flags = 0;
    return dec_from_bid(bid128_mul(dec_to_bid(a), dec_to_bid(b), DEC_RND, &flags));
}

static feel_dec dec_div(feel_dec a, feel_dec b) {
    _IDEC_flags flags = 0;
    return dec_from_bid(bid128_div(dec_to_bid(a), dec_to_bid(b), DEC_RND, &flags));
}

/* a < b and a == b by value (cohort members are equal); false for NaN. */
static bool dec_less(feel_dec a, feel_dec b) {
    _IDEC_flags flags = 0;
    return bid128_quiet_less(dec_to_bid(a), dec_to_bid(b), &flags) != 0;
}

static bool dec_equal(feel_dec a, feel_dec b) {
    _IDEC_flags flags = 0;
    return bid128_quiet_equal(dec_to_bid(a), dec_to_bid(b), &flags) != 0;
}

/* a < 0, as the library compares (-0 is not negative). */
static bool dec_negative(feel_dec a) {
    return dec_less(a, DEC_ZERO);
}

/* Removes trailing zeros of the coefficient (the value is unchanged). */
static void dec_strip(dec_parts *p) {
    if (p->coef == 0) {
        p->exponent = 0;
        return;
    }
    while (p->coef % 10 == 0) {
        p->coef /= 10;
        p->exponent++;
    }
}

/* ---- text ------------------------------------------------------------------ */

/* Checks the literal grammar: [+-] (digits [. [digits]] | . digits)
 * [(e|E) [+-] digits]. Sets *exp_big when the exponent has more digits than
 * the library can take, with *exp_neg its sign, and *all_zero when every
 * mantissa digit is 0. */
static bool dec_text_valid(const char *s, size_t n, bool *exp_big, bool *exp_neg, bool *all_zero) {
    size_t i = 0, int_digits = 0, frac_digits = 0;
    *exp_big = false;
    *exp_neg = false;
    *all_zero = true;
    if (i < n && (s[i] == '+' || s[i] == '-'))
        i++;
    while (i < n && s[i] >= '0' && s[i] <= '9') {
        if (s[i] != '0')
            *all_zero = false;
        i++, int_digits++;
    }
    if (i < n && s[i] == '.') {
        i++;
        while (i < n && s[i] >= '0' && s[i] <= '9') {
            if (s[i] != '0')
                *all_zero = false;
            i++, frac_digits++;
        }
    }
    if (int_digits + frac_digits == 0)
        return false;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            *exp_neg = s[i++] == '-';
        size_t start = i, significant = 0;
        while (i < n && s[i] >= '0' && s[i] <= '9') {
            if (significant > 0 || s[i] != '0')
                significant++;
            i++;
        }
        if (i == start)
            return false;
        *exp_big = significant > 6;
    }
    return i == n;
}

int feel_dec_parse(const char *s, size_t n, feel_dec *out) {
    bool exp_big, exp_neg, all_zero;
    if (s == NULL || !dec_text_valid(s, n, &exp_big, &exp_neg, &all_zero))
        return BT_EINVAL;
    if (exp_big) {
        /* |exponent| >= 10^6: far outside decimal128's range. */
        if (all_zero || exp_neg) {
            *out = (s[0] == '-') ? DEC_NEG_ZERO : DEC_ZERO;
            return BT_OK;
        }
        return BT_EEVAL;
    }
    char small[128];
    char *buf = n < sizeof small ? small : bt_malloc(n + 1);
    if (buf == NULL)
        return BT_ENOMEM;
    memcpy(buf, s, n);
    buf[n] = '\0';
    _IDEC_flags flags = 0;
    BID_UINT128 b = bid128_from_string(buf, DEC_RND, &flags);
    if (buf != small)
        bt_free(buf);
    return dec_result(dec_from_bid(b), out);
}

/* Plain notation is used when the integer part has at most this many
 * digits and the text fits FEEL_DEC_TEXT_MAX; otherwise "d.dddE+n". */
#define DEC_PLAIN_INT_DIGITS 40

int feel_dec_format(feel_dec d, char out[FEEL_DEC_TEXT_MAX]) {
    dec_parts p;
    dec_kind kind = dec_unpack(d, &p);
    if (kind != DEC_FINITE) {
        /* Never produced by this file; written recognisably all the same. */
        const char *t = kind == DEC_NAN ? "NaN" : p.negative ? "-Infinity" : "Infinity";
        return snprintf(out, FEEL_DEC_TEXT_MAX, "%s", t);
    }
    dec_strip(&p);
    if (p.coef == 0) {
        strcpy(out, "0");
        return 1;
    }
    char digits[DEC_DIGITS + 1];
    int len = 0;
    char rev[DEC_DIGITS];
    for (dec_u128 c = p.coef; c > 0; c /= 10)
        rev[len++] = (char)('0' + (int)(c % 10));
    for (int i = 0; i < len; i++)
        digits[i] = rev[len - 1 - i];
    digits[len] = '\0';

    int adjusted = p.exponent + len - 1; /* exponent of the leading digit */
    int pos = 0;
    if (p.negative)
        out[pos++] = '-';
    /* Length of the plain text without the sign. */
    int plain_len = p.exponent >= 0 ? len + p.exponent
                    : adjusted >= 0 ? len + 1
                                    : 2 + (-adjusted - 1) + len;
    if (adjusted < DEC_PLAIN_INT_DIGITS && pos + plain_len < FEEL_DEC_TEXT_MAX) {
        if (p.exponent >= 0) {
            memcpy(out + pos, digits, (size_t)len);
            pos += len;
            for (int i = 0; i < p.exponent; i++)
                out[pos++] = '0';
        } else if (adjusted >= 0) {
            int int_len = adjusted + 1;
            memcpy(out + pos, digits, (size_t)int_len);
            pos += int_len;
            out[pos++] = '.';
            memcpy(out + pos, digits + int_len, (size_t)(len - int_len));
            pos += len - int_len;
        } else {
            out[pos++] = '0';
            out[pos++] = '.';
            for (int i = 0; i < -adjusted - 1; i++)
                out[pos++] = '0';
            memcpy(out + pos, digits, (size_t)len);
            pos += len;
        }
        out[pos] = '\0';
        return pos;
    }
    out[pos++] = digits[0];
    if (len > 1) {
        out[pos++] = '.';
        memcpy(out + pos, digits + 1, (size_t)(len - 1));
        pos += len - 1;
    }
    pos += snprintf(out + pos, (size_t)(FEEL_DEC_TEXT_MAX - pos), "E%+d", adjusted);
    return pos;
}

/* ---- conversions -------------------------------------------------------------- */

feel_dec feel_dec_from_int(int64_t i) {
    dec_parts p;
    p.negative = i < 0;
    p.exponent = 0;
    p.coef = i < 0 ? (dec_u128)(-(uint64_t)i) : (dec_u128)(uint64_t)i;
    return dec_pack(&p);
}

int feel_dec_to_int64(feel_dec d, int64_t *out) {
    dec_parts p;
    if (dec_unpack(d, &p) != DEC_FINITE)
        return BT_EINVAL;
    dec_strip(&p);
    if (p.exponent < 0)
        return BT_EINVAL;
    if (p.exponent > 19)
        return BT_EINVAL; /* a non-zero coefficient times 10^20 exceeds int64 */
    dec_u128 mag = p.coef * dec_pow10(p.exponent);
    dec_u128 limit = p.negative ? (dec_u128)1 << 63 : ((dec_u128)1 << 63) - 1;
    if (mag > limit)
        return BT_EINVAL;
    *out = p.negative ? (int64_t)(-(uint64_t)mag) : (int64_t)(uint64_t)mag;
    return BT_OK;
}

double feel_dec_to_double(feel_dec d) {
    _IDEC_flags flags = 0;
    return bid128_to_binary64(dec_to_bid(d), DEC_RND, &flags);
}

int feel_dec_from_double(double x, feel_dec *out) {
    if (!isfinite(x))
        return BT_EEVAL;
    char buf[40];
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, x);
        if (prec == 17 || strtod(buf, NULL) == x)
            break;
    }
    return feel_dec_parse(buf, strlen(buf), out);
}

bool feel_dec_is_integer(feel_dec d) {
    dec_parts p;
    if (dec_unpack(d, &p) != DEC_FINITE)
        return false;
    dec_strip(&p);
    return p.exponent >= 0;
}

int feel_dec_cmp(feel_dec a, feel_dec b) {
    return dec_less(a, b) ? -1 : dec_less(b, a) ? 1 : 0;
}

/* ---- arithmetic ------------------------------------------------------------------ */

int feel_dec_add(feel_dec a, feel_dec b, feel_dec *out) {
    return dec_result(dec_add(a, b), out);
}

int feel_dec_sub(feel_dec a, feel_dec b, feel_dec *out) {
    return dec_result(dec_sub(a, b), out);
}

int feel_dec_mul(feel_dec a, feel_dec b, feel_dec *out) {
    return dec_result(dec_mul(a, b), out);
}

int feel_dec_div(feel_dec a, feel_dec b, feel_dec *out) {
    if (dec_is_zero(b))
        return BT_EEVAL;
    return dec_result(dec_div(a, b), out);
}

int feel_dec_mod(feel_dec a, feel_dec b, feel_dec *out) {
    if (dec_is_zero(b))
        return BT_EEVAL;
    /* fmod is exact and takes the sign of the dividend; floor it towards
     * the divisor's sign. */
    _IDEC_flags flags = 0;
    feel_dec r = dec_from_bid(bid128_fmod(dec_to_bid(a), dec_to_bid(b), &flags));
    if (!dec_finite(r))
        return BT_EEVAL;
    if (!dec_is_zero(r) && dec_negative(r) != dec_negative(b))
        r = dec_add(r, b);
    if (dec_is_zero(r))
        r = DEC_ZERO; /* no -0 */
    return dec_result(r, out);
}

/* x ** n for an integer n by repeated squaring: exact whenever the result
 * has at most 34 digits. */
static int dec_pow_int(feel_dec x, int64_t n, feel_dec *out) {
    uint64_t e = n < 0 ? -(uint64_t)n : (uint64_t)n;
    feel_dec result = DEC_ONE, base = x;
    while (e > 0) {
        if (e & 1) {
            result = dec_mul(result, base);
            if (!dec_finite(result))
                return BT_EEVAL;
        }
        e >>= 1;
        if (e > 0) {
            base = dec_mul(base, base);
            if (!dec_finite(base))
                return BT_EEVAL;
        }
    }
    if (n < 0) {
        if (dec_is_zero(result))
            return BT_EEVAL; /* 0 ** -n */
        result = dec_div(DEC_ONE, result);
    }
    return dec_result(result, out);
}

int feel_dec_pow(feel_dec a, feel_dec b, feel_dec *out) {
    int64_t n;
    if (feel_dec_to_int64(b, &n) == BT_OK)
        return dec_pow_int(a, n, out);
    if (dec_is_zero(a)) {
        if (dec_negative(b))
            return BT_EEVAL;
        *out = DEC_ZERO;
        return BT_OK;
    }
    if (dec_negative(a) && !feel_dec_is_integer(b))
        return BT_EEVAL; /* no real result */
    /* exp(b ln a), as one correctly scaled library call. */
    _IDEC_flags flags = 0;
    feel_dec r = dec_from_bid(bid128_pow(dec_to_bid(a), dec_to_bid(b), DEC_RND, &flags));
    return dec_result(r, out);
}

feel_dec feel_dec_neg(feel_dec a) {
    return dec_from_bid(bid128_negate(dec_to_bid(a)));
}

feel_dec feel_dec_abs(feel_dec a) {
    return dec_from_bid(bid128_abs(dec_to_bid(a)));
}

int feel_dec_sqrt(feel_dec a, feel_dec *out) {
    if (dec_negative(a))
        return BT_EEVAL;
    _IDEC_flags flags = 0;
    return dec_result(dec_from_bid(bid128_sqrt(dec_to_bid(a), DEC_RND, &flags)), out);
}

int feel_dec_ln(feel_dec a, feel_dec *out) {
    if (!dec_less(DEC_ZERO, a))
        return BT_EEVAL;
    _IDEC_flags flags = 0;
    return dec_result(dec_from_bid(bid128_log(dec_to_bid(a), DEC_RND, &flags)), out);
}

int feel_dec_exp(feel_dec a, feel_dec *out) {
    _IDEC_flags flags = 0;
    return dec_result(dec_from_bid(bid128_exp(dec_to_bid(a), DEC_RND, &flags)), out);
}

/* ---- rounding -------------------------------------------------------------------- */

/* DMN 1.3 decimal(n, scale): scale in [-6111, 6176]. */
#define DEC_SCALE_MIN (-6111)
#define DEC_SCALE_MAX 6176

/* Rounds x to an integer in mode. */
static feel_dec dec_round_integral(feel_dec x, feel_dec_round_mode mode) {
    BID_UINT128 b = dec_to_bid(x);
    _IDEC_flags flags = 0;
    switch (mode) {
    case FEEL_ROUND_HALF_EVEN: return dec_from_bid(bid128_round_integral_nearest_even(b, &flags));
    case FEEL_ROUND_HALF_UP: return dec_from_bid(bid128_round_integral_nearest_away(b, &flags));
    case FEEL_ROUND_DOWN: return dec_from_bid(bid128_round_integral_zero(b, &flags));
    case FEEL_ROUND_FLOOR: return dec_from_bid(bid128_round_integral_negative(b, &flags));
    case FEEL_ROUND_CEILING: return dec_from_bid(bid128_round_integral_positive(b, &flags));
    case FEEL_ROUND_UP:
        return dec_from_bid(dec_negative(x) ? bid128_round_integral_negative(b, &flags)
                                            : bid128_round_integral_positive(b, &flags));
    case FEEL_ROUND_HALF_DOWN: {
        feel_dec t = dec_from_bid(bid128_round_integral_zero(b, &flags));
        /* exact: t has no more digits than x */
        feel_dec frac = feel_dec_abs(dec_sub(x, t));
        if (dec_equal(frac, DEC_HALF))
            return t;
        return dec_from_bid(bid128_round_integral_nearest_away(b, &flags));
    }
    }
    return x;
}

/* Multiplies a finite value by 10^k by moving its exponent (exact).
 * BT_EEVAL when the result is beyond decimal128's range. */
static int dec_scale10(feel_dec d, int k, feel_dec *out) {
    dec_parts p;
    dec_unpack(d, &p);
    dec_strip(&p);
    p.exponent += k;
    /* Trade exponent against coefficient digits while it is out of range. */
    while (p.exponent + DEC_BIAS > DEC_EXP_MAX && p.coef < dec_pow10(DEC_DIGITS - 1)) {
        p.coef *= 10;
        p.exponent--;
    }
    if (p.exponent + DEC_BIAS > DEC_EXP_MAX || p.exponent + DEC_BIAS < 0)
        return BT_EEVAL;
    *out = dec_pack(&p);
    return BT_OK;
}

int feel_dec_round(feel_dec a, int scale, feel_dec_round_mode mode, feel_dec *out) {
    if (scale < DEC_SCALE_MIN || scale > DEC_SCALE_MAX)
        return BT_EEVAL;
    dec_parts p;
    if (dec_unpack(a, &p) != DEC_FINITE)
        return BT_EEVAL;
    dec_strip(&p);
    if (p.coef == 0) {
        *out = DEC_ZERO;
        return BT_OK;
    }
    if (p.exponent >= -scale) {
        *out = a; /* no digit beyond the scale: nothing to round */
        return BT_OK;
    }
    /* a * 10^scale has a fractional part; p.exponent + scale < 0. The
     * stripped coefficient keeps the biased exponent above 0 unless the
     * value is far below the scale, where it rounds like 0.1 would. */
    p.exponent += scale;
    if (p.exponent + DEC_BIAS < 0) {
        /* |a * 10^scale| < 10^-6176+34: only the direction matters. */
        p.coef = 1;
        p.exponent = -1; /* 0.1 with a's sign: same result in every mode */
    }
    feel_dec x = dec_pack(&p);
    feel_dec r = dec_round_integral(x, mode);
    if (dec_is_zero(r)) {
        *out = DEC_ZERO;
        return BT_OK;
    }
    return dec_scale10(r, -scale, out);
}
