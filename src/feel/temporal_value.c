/*
 * temporal_value.c — FEEL values of the five temporal types, on top of the
 * temporal module (temporal.h): @"..." literals, comparison, ISO 8601 text,
 * the arithmetic operators, properties (`d.year`, `dur.hours`), and the
 * temporal built-ins (date, time, date and time, duration, years and months
 * duration, now, today, day of week, day of year, week of year, month of
 * year, last day of month).
 *
 * This file only converts between feel_values and the temporal structs and
 * chooses the operation by the operand types; the calendar and zone rules
 * are temporal.c's. now() and today() read feel_env.now_ms, never a clock,
 * and give UTC values.
 */
#include <stdio.h>
#include <string.h>

#include "feel/builtins.h"

static int tv_out(feel_type t, const feel_temporal *tv, feel_value **out) {
    feel_value *v = feel_temporal_value(t, tv);
    if (!v)
        return BT_ENOMEM;
    *out = v;
    return 0;
}

static int date_out(const feel_date *d, feel_value **out) {
    feel_temporal tv = {.date = *d};
    return tv_out(FEEL_DATE, &tv, out);
}

static int dtd_out(const feel_dt_duration *d, feel_value **out) {
    feel_temporal tv = {.dtd = *d};
    return tv_out(FEEL_DAYS_TIME_DURATION, &tv, out);
}

static int ymd_out(const feel_ym_duration *d, feel_value **out) {
    feel_temporal tv = {.ymd = *d};
    return tv_out(FEEL_YEARS_MONTHS_DURATION, &tv, out);
}

static int dt_out(const feel_datetime *d, feel_value **out) {
    feel_temporal tv = {.dt = *d};
    return tv_out(FEEL_DATE_TIME, &tv, out);
}

static int time_out(const feel_time *t, feel_value **out) {
    feel_temporal tv = {.time = *t};
    return tv_out(FEEL_TIME, &tv, out);
}

static bool looks_like_duration(const char *s, size_t n) {
    return (n > 0 && s[0] == 'P') || (n > 1 && s[0] == '-' && s[1] == 'P');
}

/* Parses a duration string into a value. BT_EINVAL when malformed. */
static int duration_from_text(const char *s, size_t n, feel_value **out) {
    feel_duration_kind kind;
    feel_dt_duration dt;
    feel_ym_duration ym;
    int rc = feel_duration_parse(s, n, &kind, &dt, &ym);
    if (rc < 0)
        return rc;
    return kind == FEEL_DURATION_DAYS_TIME ? dtd_out(&dt, out) : ymd_out(&ym, out);
}

int feel_temporal_from_literal(const char *s, size_t n, feel_value **out) {
    if (looks_like_duration(s, n))
        return duration_from_text(s, n, out);
    if (memchr(s, 'T', n)) {
        feel_datetime dt;
        if (feel_datetime_parse(s, n, &dt) < 0)
            return BT_EINVAL;
        return dt_out(&dt, out);
    }
    feel_date d;
    if (feel_date_parse(s, n, &d) == 0)
        return date_out(&d, out);
    feel_time t;
    if (feel_time_parse(s, n, &t) == 0)
        return time_out(&t, out);
    return BT_EINVAL;
}

int feel_temporal_compare(const feel_value *a, const feel_value *b, int *cmp) {
    if (a->type != b->type)
        return BT_EINVAL;
    switch ((feel_type)a->type) {
    case FEEL_DATE: *cmp = feel_date_cmp(&a->u.t.date, &b->u.t.date); return 0;
    case FEEL_TIME: return feel_time_cmp(&a->u.t.time, &b->u.t.time, cmp) < 0 ? BT_EINVAL : 0;
    case FEEL_DATE_TIME: return feel_datetime_cmp(&a->u.t.dt, &b->u.t.dt, cmp) < 0 ? BT_EINVAL : 0;
    case FEEL_DAYS_TIME_DURATION: *cmp = feel_dt_duration_cmp(&a->u.t.dtd, &b->u.t.dtd); return 0;
    case FEEL_YEARS_MONTHS_DURATION:
        *cmp = feel_ym_duration_cmp(&a->u.t.ymd, &b->u.t.ymd);
        return 0;
    default: return BT_EINVAL;
    }
}

int feel_temporal_format(const feel_value *v, bt_buf *out) {
    char text[FEEL_TEMPORAL_TEXT_MAX];
    int n;
    switch (feel_value_type(v)) {
    case FEEL_DATE: n = feel_date_format(&v->u.t.date, text); break;
    case FEEL_TIME: n = feel_time_format(&v->u.t.time, text); break;
    case FEEL_DATE_TIME: n = feel_datetime_format(&v->u.t.dt, text); break;
    case FEEL_DAYS_TIME_DURATION: n = feel_dt_duration_format(&v->u.t.dtd, text); break;
    case FEEL_YEARS_MONTHS_DURATION: n = feel_ym_duration_format(&v->u.t.ymd, text); break;
    default: return bt_buf_puts(out, "null");
    }
    return bt_buf_append(out, text, n > 0 ? (size_t)n : 0);
}

/* ---- arithmetic ------------------------------------------------------------ */

/* A number as num / den with den a power of ten; false when it does not fit. */
static bool number_fraction(const feel_value *v, int64_t *num, int64_t *den) {
    if (v->is_int) {
        *num = v->u.i;
        *den = 1;
        return true;
    }
    char text[FEEL_DEC_TEXT_MAX];
    int n = feel_dec_format(v->u.d, text);
    int64_t x = 0, d = 1;
    bool neg = false, frac = false;
    for (int i = 0; i < n; i++) {
        char c = text[i];
        if (c == '-') {
            neg = true;
        } else if (c == '.') {
            frac = true;
        } else if (c >= '0' && c <= '9') {
            if (__builtin_mul_overflow(x, 10, &x) || __builtin_add_overflow(x, c - '0', &x))
                return false;
            if (frac && __builtin_mul_overflow(d, 10, &d))
                return false;
        } else {
            return false; /* an exponent: far beyond any duration */
        }
    }
    *num = neg ? -x : x;
    *den = d;
    return true;
}

/* A 128-bit integer as a decimal. */
static int dec_from_i128(__int128 x, feel_dec *out) {
    const int64_t e18 = 1000000000000000000LL;
    int64_t hi = (int64_t)(x / e18), lo = (int64_t)(x % e18);
    feel_dec h;
    int rc = feel_dec_mul(feel_dec_from_int(hi), feel_dec_from_int(e18), &h);
    return rc < 0 ? rc : feel_dec_add(h, feel_dec_from_int(lo), out);
}

static int scale_duration(int op, const feel_value *dur, const feel_value *num, feel_value **out) {
    int64_t p, q;
    if (!number_fraction(num, &p, &q))
        return BT_EEVAL;
    if (op == TK_SLASH) {
        int64_t t = p;
        p = q;
        q = t;
        if (q == 0)
            return BT_EEVAL;
        if (q < 0) {
            if (p == INT64_MIN || q == INT64_MIN)
                return BT_EEVAL;
            p = -p;
            q = -q;
        }
    }
    if (dur->type == FEEL_DAYS_TIME_DURATION) {
        feel_dt_duration r;
        if (feel_dt_duration_mul(&dur->u.t.dtd, p, q, &r) < 0)
            return BT_EEVAL;
        return dtd_out(&r, out);
    }
    feel_ym_duration r;
    if (feel_ym_duration_mul(&dur->u.t.ymd, p, q, &r) < 0)
        return BT_EEVAL;
    return ymd_out(&r, out);
}

static int divide_durations(const feel_value *a, const feel_value *b, feel_value **out) {
    feel_dec x, y, r;
    if (a->type == FEEL_DAYS_TIME_DURATION) {
        if (dec_from_i128(feel_dt_duration_total_nanos(&a->u.t.dtd), &x) < 0 ||
            dec_from_i128(feel_dt_duration_total_nanos(&b->u.t.dtd), &y) < 0)
            return BT_EEVAL;
    } else {
        x = feel_dec_from_int(a->u.t.ymd.months);
        y = feel_dec_from_int(b->u.t.ymd.months);
    }
    if (feel_dec_div(x, y, &r) < 0)
        return BT_EEVAL;
    feel_value *v = feel_number_from_dec(r);
    if (!v)
        return BT_ENOMEM;
    *out = v;
    return 0;
}

/* Adds (sign 1) or subtracts (sign -1) duration d to temporal value a. */
static int shift(const feel_value *a, const feel_value *d, int sign, feel_value **out) {
    feel_dt_duration dtd;
    feel_ym_duration ymd;
    bool is_dt = d->type == FEEL_DAYS_TIME_DURATION;
    if (is_dt)
        dtd = sign > 0 ? d->u.t.dtd : feel_dt_duration_neg(&d->u.t.dtd);
    else if (sign > 0 || d->u.t.ymd.months != INT64_MIN)
        ymd.months = sign > 0 ? d->u.t.ymd.months : -d->u.t.ymd.months;
    else
        return BT_EEVAL;
    switch ((feel_type)a->type) {
    case FEEL_DATE: {
        feel_date r;
        int rc = is_dt ? feel_date_add_dt(&a->u.t.date, &dtd, &r)
                       : feel_date_add_ym(&a->u.t.date, &ymd, &r);
        return rc < 0 ? BT_EEVAL : date_out(&r, out);
    }
    case FEEL_DATE_TIME: {
        feel_datetime r;
        int rc = is_dt ? feel_datetime_add_dt(&a->u.t.dt, &dtd, &r)
                       : feel_datetime_add_ym(&a->u.t.dt, &ymd, &r);
        return rc < 0 ? BT_EEVAL : dt_out(&r, out);
    }
    case FEEL_TIME: {
        feel_time r;
        if (!is_dt)
            return BT_EINVAL;
        return feel_time_add_dt(&a->u.t.time, &dtd, &r) < 0 ? BT_EEVAL : time_out(&r, out);
    }
    case FEEL_DAYS_TIME_DURATION: {
        feel_dt_duration r;
        if (!is_dt)
            return BT_EINVAL;
        return feel_dt_duration_add(&a->u.t.dtd, &dtd, &r) < 0 ? BT_EEVAL : dtd_out(&r, out);
    }
    case FEEL_YEARS_MONTHS_DURATION: {
        feel_ym_duration r;
        if (is_dt)
            return BT_EINVAL;
        return feel_ym_duration_add(&a->u.t.ymd, &ymd, &r) < 0 ? BT_EEVAL : ymd_out(&r, out);
    }
    default: return BT_EINVAL;
    }
}

static bool is_duration(feel_type t) {
    return t == FEEL_DAYS_TIME_DURATION || t == FEEL_YEARS_MONTHS_DURATION;
}

int feel_temporal_arith(int op, const feel_value *a, const feel_value *b, feel_value **out) {
    feel_type ta = feel_value_type(a), tb = feel_value_type(b);
    switch (op) {
    case TK_PLUS:
        if (is_duration(tb))
            return shift(a, b, 1, out);
        if (is_duration(ta) && (tb == FEEL_DATE || tb == FEEL_DATE_TIME || tb == FEEL_TIME))
            return shift(b, a, 1, out);
        return BT_EINVAL;
    case TK_MINUS:
        if (is_duration(tb) && ta != FEEL_NUMBER)
            return shift(a, b, -1, out);
        if (ta == tb && ta == FEEL_DATE) {
            feel_dt_duration r;
            return feel_date_sub(&a->u.t.date, &b->u.t.date, &r) < 0 ? BT_EEVAL : dtd_out(&r, out);
        }
        if (ta == tb && ta == FEEL_DATE_TIME) {
            feel_dt_duration r;
            return feel_datetime_sub(&a->u.t.dt, &b->u.t.dt, &r) < 0 ? BT_EEVAL : dtd_out(&r, out);
        }
        if (ta == tb && ta == FEEL_TIME) {
            feel_dt_duration r;
            return feel_time_sub(&a->u.t.time, &b->u.t.time, &r) < 0 ? BT_EEVAL : dtd_out(&r, out);
        }
        return BT_EINVAL;
    case TK_STAR:
        if (is_duration(ta) && tb == FEEL_NUMBER)
            return scale_duration(op, a, b, out);
        if (is_duration(tb) && ta == FEEL_NUMBER)
            return scale_duration(op, b, a, out);
        return BT_EINVAL;
    case TK_SLASH:
        if (is_duration(ta) && tb == FEEL_NUMBER)
            return scale_duration(op, a, b, out);
        if (is_duration(ta) && ta == tb)
            return divide_durations(a, b, out);
        return BT_EINVAL;
    default: return BT_EINVAL;
    }
}

/* ---- properties ---------------------------------------------------------------- */

static int int_out(int64_t i, feel_value **out) {
    feel_value *v = feel_number_from_int(i);
    if (!v)
        return BT_ENOMEM;
    *out = v;
    return 0;
}

static bool is(const char *name, size_t len, const char *want) {
    return strlen(want) == len && memcmp(name, want, len) == 0;
}

static int date_property(const feel_date *d, const char *name, size_t len, feel_value **out) {
    if (is(name, len, "year"))
        return int_out(d->year, out);
    if (is(name, len, "month"))
        return int_out(d->month, out);
    if (is(name, len, "day"))
        return int_out(d->day, out);
    if (is(name, len, "weekday"))
        return int_out(feel_date_weekday(d), out);
    return BT_ENOTFOUND;
}

static int time_property(const feel_time *t, const char *name, size_t len, feel_value **out) {
    if (is(name, len, "hour"))
        return int_out(t->hour, out);
    if (is(name, len, "minute"))
        return int_out(t->minute, out);
    if (is(name, len, "second"))
        return int_out(t->second, out);
    if (is(name, len, "time offset")) {
        if (t->zone.kind == FEEL_ZONE_NONE) {
            *out = feel_null();
            return 0;
        }
        feel_dt_duration d = {t->zone.offset, 0};
        return dtd_out(&d, out);
    }
    if (is(name, len, "timezone")) {
        if (t->zone.kind != FEEL_ZONE_ID) {
            *out = feel_null();
            return 0;
        }
        feel_value *v = feel_string_new(t->zone.id, strlen(t->zone.id));
        if (!v)
            return BT_ENOMEM;
        *out = v;
        return 0;
    }
    return BT_ENOTFOUND;
}

int feel_temporal_property(const feel_value *v, const char *name, size_t len, feel_value **out) {
    switch (feel_value_type(v)) {
    case FEEL_DATE: return date_property(&v->u.t.date, name, len, out);
    case FEEL_TIME: return time_property(&v->u.t.time, name, len, out);
    case FEEL_DATE_TIME: {
        int rc = date_property(&v->u.t.dt.date, name, len, out);
        return rc == BT_ENOTFOUND ? time_property(&v->u.t.dt.time, name, len, out) : rc;
    }
    case FEEL_DAYS_TIME_DURATION: {
        int64_t days;
        int h, m, s;
        int32_t ns;
        feel_dt_duration_parts(&v->u.t.dtd, &days, &h, &m, &s, &ns);
        if (is(name, len, "days"))
            return int_out(days, out);
        if (is(name, len, "hours"))
            return int_out(h, out);
        if (is(name, len, "minutes"))
            return int_out(m, out);
        if (is(name, len, "seconds"))
            return int_out(s, out);
        return BT_ENOTFOUND;
    }
    case FEEL_YEARS_MONTHS_DURATION: {
        int64_t y;
        int m;
        feel_ym_duration_parts(&v->u.t.ymd, &y, &m);
        if (is(name, len, "years"))
            return int_out(y, out);
        if (is(name, len, "months"))
            return int_out(m, out);
        return BT_ENOTFOUND;
    }
    default: return BT_ENOTFOUND;
    }
}

int feel_duration_abs(const feel_value *v, feel_value **out) {
    if (v->type == FEEL_DAYS_TIME_DURATION) {
        feel_dt_duration d = v->u.t.dtd;
        if (d.seconds < 0)
            d = feel_dt_duration_neg(&d);
        return dtd_out(&d, out);
    }
    feel_ym_duration d = v->u.t.ymd;
    if (d.months < 0 && d.months != INT64_MIN)
        d.months = -d.months;
    return ymd_out(&d, out);
}

/* ---- built-ins ------------------------------------------------------------------- */

/* The date of a date or date and time argument; NULL (and a warning) otherwise. */
static const feel_date *date_arg(feel_eval_state *E, const char *fn, const feel_value *v) {
    if (feel_value_type(v) == FEEL_DATE)
        return &v->u.t.date;
    if (feel_value_type(v) == FEEL_DATE_TIME)
        return &v->u.t.dt.date;
    feel_warn(E, "%s(): the argument must be a date or a date and time, not %s", fn,
              feel_type_name(feel_value_type(v)));
    return NULL;
}

static int from_string(feel_eval_state *E, const char *fn, feel_value **args,
                       int (*parse)(feel_eval_state *, const char *, size_t, feel_value **),
                       feel_value **out) {
    size_t len;
    const char *s = feel_string_ptr(args[0], &len);
    int rc = parse(E, s, len, out);
    if (rc == BT_EINVAL)
        return feel_bi_null(E, fn, "the string is not in the expected format", out);
    return rc;
}

static int parse_date(feel_eval_state *E, const char *s, size_t n, feel_value **out) {
    feel_date d;
    if (feel_date_parse(s, n, &d) < 0)
        return BT_EINVAL;
    return date_out(&d, out);
}

FEEL_BI(feel_bi_date) {
    switch (feel_value_type(args[0])) {
    case FEEL_STRING: return from_string(E, "date", args, parse_date, out);
    case FEEL_DATE: *out = feel_value_ref(args[0]); return 0;
    case FEEL_DATE_TIME: return date_out(&args[0]->u.t.dt.date, out);
    default: return feel_bi_null(E, "date", "the argument must be a string or a date", out);
    }
}

FEEL_BI(feel_bi_date_ymd) {
    int64_t y, m, d;
    feel_date r;
    if (!feel_arg_int(E, "date", args, n, 0, &y) || !feel_arg_int(E, "date", args, n, 1, &m) ||
        !feel_arg_int(E, "date", args, n, 2, &d)) {
        *out = feel_null();
        return 0;
    }
    if (feel_date_make(y, m, d, &r) < 0)
        return feel_bi_null(E, "date", "no such date", out);
    return date_out(&r, out);
}

static int parse_time(feel_eval_state *E, const char *s, size_t n, feel_value **out) {
    feel_time t;
    if (feel_time_parse(s, n, &t) < 0)
        return BT_EINVAL;
    return time_out(&t, out);
}

FEEL_BI(feel_bi_time) {
    switch (feel_value_type(args[0])) {
    case FEEL_STRING: return from_string(E, "time", args, parse_time, out);
    case FEEL_TIME: *out = feel_value_ref(args[0]); return 0;
    case FEEL_DATE_TIME: return time_out(&args[0]->u.t.dt.time, out);
    case FEEL_DATE: {
        feel_zone utc;
        feel_time t;
        if (feel_zone_from_offset(0, &utc) < 0 || feel_time_make(0, 0, 0, 0, &utc, &t) < 0)
            return feel_bi_null(E, "time", "invalid time", out);
        return time_out(&t, out);
    }
    default: return feel_bi_null(E, "time", "the argument must be a string or a time", out);
    }
}

FEEL_BI(feel_bi_time_hms) {
    int64_t h, m, sec, nanos = 0;
    if (!feel_arg_int(E, "time", args, n, 0, &h) || !feel_arg_int(E, "time", args, n, 1, &m) ||
        !feel_arg_type(E, "time", args, n, 2, FEEL_NUMBER)) {
        *out = feel_null();
        return 0;
    }
    feel_dec s = feel_number_dec(args[2]), whole, frac, ns;
    if (feel_dec_round(s, 0, FEEL_ROUND_FLOOR, &whole) < 0 || feel_dec_to_int64(whole, &sec) < 0 ||
        feel_dec_sub(s, whole, &frac) < 0 ||
        feel_dec_mul(frac, feel_dec_from_int(1000000000), &ns) < 0 ||
        feel_dec_round(ns, 0, FEEL_ROUND_HALF_EVEN, &ns) < 0 || feel_dec_to_int64(ns, &nanos) < 0)
        return feel_bi_null(E, "time", "invalid seconds", out);
    feel_zone zone, *zp = NULL;
    if (n > 3 && feel_value_type(args[3]) != FEEL_NULL) {
        if (feel_value_type(args[3]) != FEEL_DAYS_TIME_DURATION || args[3]->u.t.dtd.nanos != 0 ||
            args[3]->u.t.dtd.seconds < -64800 || args[3]->u.t.dtd.seconds > 64800 ||
            feel_zone_from_offset((int32_t)args[3]->u.t.dtd.seconds, &zone) < 0)
            return feel_bi_null(E, "time", "the offset must be a duration within 18 hours", out);
        zp = &zone;
    }
    feel_time t;
    if (feel_time_make(h, m, sec, nanos, zp, &t) < 0)
        return feel_bi_null(E, "time", "no such time", out);
    return time_out(&t, out);
}

static int parse_datetime(feel_eval_state *E, const char *s, size_t n, feel_value **out) {
    feel_datetime dt;
    if (feel_datetime_parse(s, n, &dt) < 0)
        return BT_EINVAL;
    return dt_out(&dt, out);
}

FEEL_BI(feel_bi_date_and_time) {
    switch (feel_value_type(args[0])) {
    case FEEL_STRING: return from_string(E, "date and time", args, parse_datetime, out);
    case FEEL_DATE_TIME: *out = feel_value_ref(args[0]); return 0;
    case FEEL_DATE: {
        feel_datetime dt;
        feel_datetime_from_date(&args[0]->u.t.date, &dt);
        return dt_out(&dt, out);
    }
    default:
        return feel_bi_null(E, "date and time", "the argument must be a string or a date", out);
    }
}

/* date and time(date and time, timezone): the same instant in another zone
 * (Camunda's extension). */
static int in_timezone(feel_eval_state *E, feel_value **args, feel_value **out) {
    int64_t sec;
    int32_t nanos;
    feel_zone zone;
    feel_datetime dt;
    if (feel_value_type(args[0]) != FEEL_DATE_TIME ||
        feel_datetime_to_epoch(&args[0]->u.t.dt, &sec, &nanos) < 0)
        return feel_bi_null(E, "date and time", "the first argument must be a zoned date and time",
                            out);
    if (feel_zone_from_id(args[1]->u.str.s, args[1]->u.str.len, &zone) < 0)
        return feel_bi_null(E, "date and time", "unknown time zone", out);
    if (feel_datetime_from_epoch(sec, nanos, &zone, &dt) < 0)
        return feel_bi_null(E, "date and time", "the date is out of range", out);
    return dt_out(&dt, out);
}

FEEL_BI(feel_bi_date_and_time2) {
    if (feel_value_type(args[1]) == FEEL_STRING)
        return in_timezone(E, args, out);
    const feel_date *d = date_arg(E, "date and time", args[0]);
    if (!d) {
        *out = feel_null();
        return 0;
    }
    if (!feel_arg_type(E, "date and time", args, n, 1, FEEL_TIME)) {
        *out = feel_null();
        return 0;
    }
    feel_datetime dt;
    if (feel_datetime_combine(d, &args[1]->u.t.time, &dt) < 0)
        return feel_bi_null(E, "date and time", "invalid date and time", out);
    return dt_out(&dt, out);
}

static int parse_duration(feel_eval_state *E, const char *s, size_t n, feel_value **out) {
    return duration_from_text(s, n, out);
}

FEEL_BI(feel_bi_duration) {
    if (is_duration(feel_value_type(args[0]))) {
        *out = feel_value_ref(args[0]);
        return 0;
    }
    if (!feel_arg_type(E, "duration", args, n, 0, FEEL_STRING)) {
        *out = feel_null();
        return 0;
    }
    return from_string(E, "duration", args, parse_duration, out);
}

FEEL_BI(feel_bi_years_and_months_duration) {
    const feel_date *a = date_arg(E, "years and months duration", args[0]);
    const feel_date *b = a ? date_arg(E, "years and months duration", args[1]) : NULL;
    if (!a || !b) {
        *out = feel_null();
        return 0;
    }
    feel_ym_duration r = feel_ym_duration_between(a, b);
    return ymd_out(&r, out);
}

FEEL_BI(feel_bi_now) {
    feel_datetime dt;
    if (feel_datetime_from_epoch_ms(E->env->now_ms, &dt) < 0)
        return feel_bi_null(E, "now", "the clock is out of range", out);
    return dt_out(&dt, out);
}

FEEL_BI(feel_bi_today) {
    feel_datetime dt;
    if (feel_datetime_from_epoch_ms(E->env->now_ms, &dt) < 0)
        return feel_bi_null(E, "today", "the clock is out of range", out);
    return date_out(&dt.date, out);
}

static int name_out(const char *name, feel_value **out) {
    feel_value *v = feel_string_new(name, strlen(name));
    if (!v)
        return BT_ENOMEM;
    *out = v;
    return 0;
}

FEEL_BI(feel_bi_day_of_week) {
    const feel_date *d = date_arg(E, "day of week", args[0]);
    if (!d)
        return feel_bi_take(feel_null(), out);
    return name_out(feel_weekday_name(feel_date_weekday(d)), out);
}

FEEL_BI(feel_bi_day_of_year) {
    const feel_date *d = date_arg(E, "day of year", args[0]);
    if (!d)
        return feel_bi_take(feel_null(), out);
    return int_out(feel_date_day_of_year(d), out);
}

FEEL_BI(feel_bi_week_of_year) {
    const feel_date *d = date_arg(E, "week of year", args[0]);
    if (!d)
        return feel_bi_take(feel_null(), out);
    int week;
    feel_date_iso_week(d, &week, NULL);
    return int_out(week, out);
}

FEEL_BI(feel_bi_month_of_year) {
    const feel_date *d = date_arg(E, "month of year", args[0]);
    if (!d)
        return feel_bi_take(feel_null(), out);
    return name_out(feel_month_name(d->month), out);
}

FEEL_BI(feel_bi_last_day_of_month) {
    const feel_date *d = date_arg(E, "last day of month", args[0]);
    if (!d)
        return feel_bi_take(feel_null(), out);
    feel_date r = *d;
    r.day = (int8_t)feel_month_days(d->year, d->month);
    return date_out(&r, out);
}
