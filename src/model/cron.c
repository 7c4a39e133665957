/*
 * cron.c — cron expressions for timer cycles, as Zeebe reads them (the
 * Spring format): six fields,
 *
 *   second  minute  hour  day-of-month  month  day-of-week
 *   0-59    0-59    0-23  1-31          1-12   0-7 (0 and 7: Sunday)
 *                                       JAN-DEC SUN-SAT
 *
 * each a comma list of `*`, `?` (day fields; the same as `*`), `n`, `a-b`,
 * with an optional step `/s` (`*\/15`, `10-50/10`, `5/20` = from 5 on), and
 * the macros @yearly (@annually), @monthly, @weekly, @daily (@midnight),
 * @hourly. As in Spring, a day must match both the day-of-month and the
 * day-of-week field (one is usually `*` or `?`). The special characters
 * L, W and # are rejected with a precise message. Times are UTC.
 *
 * The next firing is found day by day (at most five years ahead, enough for
 * a 29 February), and within a day by scanning the hour, minute and second
 * sets: cheap, since every set has at least one member.
 */
#include "model/model.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

typedef struct cron {
    uint64_t sec, min; /* bit n: value n */
    uint32_t hour, dom, mon;
    uint8_t dow; /* bit 0: Sunday */
} cron;

static const char *const MONTHS[] = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                     "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
static const char *const DAYS[] = {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"};

/* A number or a name (names[i] = first + i) at *p; advances *p. */
static bool cron_value(const char **p, const char *end, const char *const *names, int n_names,
                       int first, int *out) {
    const char *s = *p;
    if (s < end && isdigit((unsigned char)*s)) {
        int v = 0;
        while (s < end && isdigit((unsigned char)*s) && v < 1000)
            v = v * 10 + (*s++ - '0');
        *p = s;
        *out = v;
        return true;
    }
    for (int i = 0; names && i < n_names; i++)
        if (end - s >= 3 && strncasecmp(s, names[i], 3) == 0) {
            *p = s + 3;
            *out = first + i;
            return true;
        }
    return false;
}

/* Quartz's L (last), W (weekday) and # (nth weekday) at p. */
static bool quartz_special(const char *p, const char *end) {
    return p < end && (*p == 'L' || *p == 'l' || *p == 'W' || *p == 'w' || *p == '#');
}

/* One field into a bit set of values lo..hi. */
static bool cron_field(const char *s, const char *end, int lo, int hi, const char *const *names,
                       int names_first, bool day_field, uint64_t *bits, const char **why) {
    *bits = 0;
    while (s < end) {
        const char *item_end = memchr(s, ',', (size_t)(end - s));
        if (!item_end)
            item_end = end;
        int a = lo, b = hi, step = 1;
        const char *p = s;
        if (p < item_end && (*p == '*' || (*p == '?' && day_field))) {
            p++;
        } else {
            if (!cron_value(&p, item_end, names, names ? (names == MONTHS ? 12 : 7) : 0,
                            names_first, &a)) {
                *why = quartz_special(p, item_end) ? "L, W and # are not supported"
                                                   : "expected *, a number or a name";
                return false;
            }
            b = a;
            if (p < item_end && *p == '-') {
                p++;
                if (!cron_value(&p, item_end, names, names ? (names == MONTHS ? 12 : 7) : 0,
                                names_first, &b)) {
                    *why = "expected the end of a range";
                    return false;
                }
            } else if (p < item_end && *p == '/') {
                b = hi; /* "5/20": from 5 on */
            }
        }
        if (p < item_end && *p == '/') {
            p++;
            if (!cron_value(&p, item_end, NULL, 0, 0, &step) || step < 1) {
                *why = "expected a step of at least 1";
                return false;
            }
        }
        if (p != item_end) {
            *why = quartz_special(p, item_end) ? "L, W and # are not supported"
                                               : "unexpected characters";
            return false;
        }
        if (a < lo || b > hi || a > b) {
            *why = "a value out of range";
            return false;
        }
        for (int v = a; v <= b; v += step)
            *bits |= 1ULL << v;
        s = item_end + (item_end < end);
        if (item_end < end && s == end) {
            *why = "a trailing comma";
            return false;
        }
    }
    if (!*bits)
        *why = "an empty field";
    return *bits != 0;
}

static bool cron_parse(const char *text, size_t len, cron *c, char *why, size_t why_size) {
    static const struct {
        const char *name, *expansion;
    } macros[] = {{"@yearly", "0 0 0 1 1 *"},  {"@annually", "0 0 0 1 1 *"},
                  {"@monthly", "0 0 0 1 * *"}, {"@weekly", "0 0 0 * * 0"},
                  {"@daily", "0 0 0 * * *"},   {"@midnight", "0 0 0 * * *"},
                  {"@hourly", "0 0 * * * *"}};
    for (size_t i = 0; i < sizeof macros / sizeof macros[0]; i++)
        if (len == strlen(macros[i].name) && strncasecmp(text, macros[i].name, len) == 0) {
            text = macros[i].expansion;
            len = strlen(text);
            break;
        }
    static const struct {
        const char *name;
        int lo, hi;
        const char *const *names;
        int names_first;
    } fields[6] = {{"second", 0, 59, NULL, 0},  {"minute", 0, 59, NULL, 0},
                   {"hour", 0, 23, NULL, 0},    {"day-of-month", 1, 31, NULL, 0},
                   {"month", 1, 12, MONTHS, 1}, {"day-of-week", 0, 7, DAYS, 0}};
    uint64_t bits[6];
    const char *s = text, *end = text + len;
    for (int f = 0; f < 6; f++) {
        while (s < end && *s == ' ')
            s++;
        const char *fe = s;
        while (fe < end && *fe != ' ')
            fe++;
        if (fe == s) {
            snprintf(why, why_size, "a cron expression has six fields, found %d", f);
            return false;
        }
        const char *problem = "";
        if (!cron_field(s, fe, fields[f].lo, fields[f].hi, fields[f].names, fields[f].names_first,
                        f == 3 || f == 5, &bits[f], &problem)) {
            snprintf(why, why_size, "cron %s field '%.*s': %s", fields[f].name, (int)(fe - s), s,
                     problem);
            return false;
        }
        s = fe;
    }
    while (s < end && *s == ' ')
        s++;
    if (s != end) {
        snprintf(why, why_size, "a cron expression has six fields, found more");
        return false;
    }
    c->sec = bits[0];
    c->min = bits[1];
    c->hour = (uint32_t)bits[2];
    c->dom = (uint32_t)bits[3];
    c->mon = (uint32_t)bits[4];
    c->dow = (uint8_t)((bits[5] & 0x7f) | (bits[5] >> 7 & 1)); /* 7 is Sunday too */
    return true;
}

/* Days since 1970-01-01 → month and day of the proleptic Gregorian
 * calendar (H. Hinnant's algorithm). */
static void civil_from_days(int64_t z, int *m, int *d) {
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
}

static int first_bit_from(uint64_t bits, int from, int max) {
    for (int v = from; v <= max; v++)
        if (bits >> v & 1)
            return v;
    return -1;
}

/* The first second strictly after `after_ms` that matches, in ms; -1 if none
 * within five years. */
static int64_t cron_next(const cron *c, int64_t after_ms) {
    int64_t t = (after_ms >= 0 ? after_ms / 1000 : (after_ms - 999) / 1000) + 1;
    int64_t day = (t >= 0 ? t / 86400 : (t - 86399) / 86400);
    int64_t sod = t - day * 86400; /* second of the day */
    int h0 = (int)(sod / 3600), m0 = (int)(sod / 60 % 60), s0 = (int)(sod % 60);
    for (int i = 0; i < 5 * 366 + 1; i++, day++, h0 = m0 = s0 = 0) {
        int mon, dom;
        civil_from_days(day, &mon, &dom);
        int dow = (int)(((day + 4) % 7 + 7) % 7); /* 1970-01-01 was a Thursday */
        if (!(c->mon >> mon & 1) || !(c->dom >> dom & 1) || !(c->dow >> dow & 1))
            continue;
        for (int h = first_bit_from(c->hour, h0, 23); h >= 0;
             h = first_bit_from(c->hour, h + 1, 23)) {
            int mfrom = h == h0 ? m0 : 0;
            for (int m = first_bit_from(c->min, mfrom, 59); m >= 0;
                 m = first_bit_from(c->min, m + 1, 59)) {
                int s = first_bit_from(c->sec, h == h0 && m == m0 ? s0 : 0, 59);
                if (s >= 0)
                    return (day * 86400 + h * 3600 + m * 60 + s) * 1000;
            }
        }
    }
    return -1;
}

int bpmn_cron_next(const char *text, size_t len, int64_t after_ms, int64_t *next_ms,
                   bt_error *err) {
    cron c;
    char why[160];
    if (!cron_parse(text, len, &c, why, sizeof why))
        return bt_error_set(err, BT_EINVAL, "'%.*s' is not a cron expression: %s",
                            (int)(len > 100 ? 100 : len), text, why);
    *next_ms = cron_next(&c, after_ms);
    if (*next_ms < 0)
        return bt_error_set(err, BT_EINVAL,
                            "the cron expression '%.*s' matches no day in the next five years",
                            (int)(len > 100 ? 100 : len), text);
    return BT_OK;
}
