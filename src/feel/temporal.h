/*
 * temporal.h — FEEL's temporal values as plain C structs (DMN 1.3, 10.3.2.3
 * and the Camunda FEEL documentation): date, time, date and time, days and
 * time duration, years and months duration; their literal syntax, canonical
 * text, arithmetic, comparison, properties, and IANA time zones read from
 * the system tz database (TZif files under /usr/share/zoneinfo, or $TZDIR).
 *
 * This header depends on nothing else in FEEL: the value layer embeds these
 * structs by value (they hold no pointers, so copying is enough).
 *
 * Conventions
 *   - Functions returning int follow base.h: 0 ok; BT_EINVAL for malformed
 *     text or out-of-range fields (month 13, 2023-02-29, 25:00, an unknown
 *     zone id); BT_EEVAL for an operation FEEL answers with null (values
 *     that are not comparable, overflow, division by zero).
 *   - Text is read from exactly n bytes (no NUL needed) and written into a
 *     caller's buffer of FEEL_TEMPORAL_TEXT_MAX bytes, NUL-terminated; the
 *     length is returned.
 *   - Years are proleptic Gregorian, -999999999..999999999 (year 0 exists).
 *   - Thread-safety: every function may be called from any thread. Zone
 *     rules are loaded on first use into a process-wide cache guarded by a
 *     mutex; the TZ environment variable is never read or set.
 *
 * Time zones. A zone is absent (a "local" value), a fixed UTC offset, or an
 * IANA region id. For a date and time with a region id, zone.offset always
 * holds the offset in effect at that date and time, and the local fields
 * are valid in that zone: a local time that falls in a DST gap is shifted
 * forward by the length of the gap (2026-03-29T02:30@Europe/Berlin becomes
 * 03:30+02:00, as java.time does); in an overlap the earlier offset (the
 * one in effect before the transition) is chosen. A time of day with a
 * region id has no date, so its offset is the zone's standard offset under
 * its current rules (Europe/Berlin: +01:00).
 */
#ifndef BATON_FEEL_TEMPORAL_H
#define BATON_FEEL_TEMPORAL_H

#include "base/base.h"

/* Longest text any *_format writes, with the NUL. */
#define FEEL_TEMPORAL_TEXT_MAX 128
/* Longest IANA zone id, with the NUL. */
#define FEEL_ZONE_ID_MAX 64

/* ---- types --------------------------------------------------------------- */

typedef struct feel_date {
    int32_t year;
    int8_t month; /* 1..12 */
    int8_t day;   /* 1..28/29/30/31 */
} feel_date;

typedef enum feel_zone_kind {
    FEEL_ZONE_NONE,   /* local: no zone */
    FEEL_ZONE_OFFSET, /* a fixed offset: "+02:00", "Z" (offset 0) */
    FEEL_ZONE_ID,     /* an IANA region: "Europe/Berlin" */
} feel_zone_kind;

typedef struct feel_zone {
    feel_zone_kind kind;
    int32_t offset;            /* seconds east of UTC (see above for ID) */
    char id[FEEL_ZONE_ID_MAX]; /* FEEL_ZONE_ID only; "" otherwise */
} feel_zone;

typedef struct feel_time {
    int8_t hour;        /* 0..23 */
    int8_t minute;      /* 0..59 */
    int8_t second;      /* 0..59 */
    int32_t nanosecond; /* 0..999999999 */
    feel_zone zone;
} feel_time;

/* A date and time: the local date and time of day; the zone is time.zone. */
typedef struct feel_datetime {
    feel_date date;
    feel_time time;
} feel_datetime;

/* A days and time duration, as java.time.Duration: value = seconds +
 * nanos / 10^9 with nanos in 0..999999999 (so -0.5 s is {-1, 500000000}). */
typedef struct feel_dt_duration {
    int64_t seconds;
    int32_t nanos;
} feel_dt_duration;

/* A years and months duration: a signed count of months (P1Y2M = 14). */
typedef struct feel_ym_duration {
    int64_t months;
} feel_ym_duration;

typedef enum feel_duration_kind {
    FEEL_DURATION_DAYS_TIME,
    FEEL_DURATION_YEARS_MONTHS,
} feel_duration_kind;

/* ---- construction and validation ------------------------------------------ */

/* Gregorian leap year (1900 no, 2000 yes, year 0 yes). */
bool feel_year_is_leap(int64_t year);
int feel_month_days(int64_t year, int month); /* 28..31; 0 for a bad month */

/* date(year, month, day): BT_EINVAL unless the day exists. */
int feel_date_make(int64_t year, int64_t month, int64_t day, feel_date *out);
/* Days since 1970-01-01 (negative before), and back. */
int64_t feel_date_to_epoch_day(const feel_date *d);
int feel_date_from_epoch_day(int64_t epoch_day, feel_date *out); /* BT_EEVAL beyond the years */

/* The zone of a fixed offset; BT_EINVAL beyond +-18:00. */
int feel_zone_from_offset(int32_t seconds, feel_zone *out);
/* The zone of an IANA id (exactly n bytes): BT_EINVAL when no such zone
 * exists in the tz database. out->offset is set to the zone's standard
 * offset. "Z" is accepted as offset 0 (kind OFFSET). */
int feel_zone_from_id(const char *id, size_t n, feel_zone *out);
/* The offset of zone at an instant (seconds since the epoch, UTC). NONE
 * yields BT_EINVAL. */
int feel_zone_offset_at(const feel_zone *zone, int64_t epoch_second, int32_t *offset);

/* time(hour, minute, second, nanosecond, zone): zone NULL = local.
 * BT_EINVAL for fields out of range. */
int feel_time_make(int64_t hour, int64_t minute, int64_t second, int64_t nanosecond,
                   const feel_zone *zone, feel_time *out);
/* date and time(date, time): the date at the time of day with the time's
 * zone; a region zone is resolved at that date (gap and overlap rules
 * above). */
int feel_datetime_combine(const feel_date *date, const feel_time *time, feel_datetime *out);
/* date and time(date): midnight, local. */
void feel_datetime_from_date(const feel_date *date, feel_datetime *out);
/* Re-validates dt's local fields against its zone after the caller filled
 * it field by field: resolves region zones (gap shift, offset). */
int feel_datetime_resolve(feel_datetime *dt);

/* ---- text ------------------------------------------------------------------- */

/* "2026-01-31"; years beyond 4 digits carry a sign ("+10000-01-01",
 * "-0044-03-15"). */
int feel_date_parse(const char *s, size_t n, feel_date *out);
/* "10:30:00", "10:30:00.123", then optionally "Z", "+02:00", "-05:30" or
 * "@Europe/Berlin". Seconds are required. */
int feel_time_parse(const char *s, size_t n, feel_time *out);
/* "2026-01-31T10:30:00" with the zone forms of a time, or a date alone
 * (midnight, local). */
int feel_datetime_parse(const char *s, size_t n, feel_datetime *out);
/* "P1DT2H3M4.5S", "-PT5M", "P2W" (days and time); "P2Y3M", "P1Y" (years and
 * months). A string mixing Y/M with D/T parts is rejected. Exactly one of
 * dt / ym is written, as *kind tells. */
int feel_duration_parse(const char *s, size_t n, feel_duration_kind *kind, feel_dt_duration *dt,
                        feel_ym_duration *ym);

/* The canonical text of a date, as parsed above. Returns the length. */
int feel_date_format(const feel_date *d, char out[FEEL_TEMPORAL_TEXT_MAX]);
/* "10:30:00", "10:30:00.123" (fraction without trailing zeros), then "Z"
 * for offset 0, "+02:00" ("+05:30:15" with seconds), or "@Europe/Berlin". */
int feel_time_format(const feel_time *t, char out[FEEL_TEMPORAL_TEXT_MAX]);
/* date "T" time with the zone: "2026-01-31T10:30:00@Europe/Berlin". */
int feel_datetime_format(const feel_datetime *dt, char out[FEEL_TEMPORAL_TEXT_MAX]);
/* "P1DT2H3M4.5S", "PT0S", "-P1D"; hours above 23 carry into days
 * (PT36H → "P1DT12H"). */
int feel_dt_duration_format(const feel_dt_duration *d, char out[FEEL_TEMPORAL_TEXT_MAX]);
/* "P2Y3M", "P1Y", "P0M", "-P1Y2M". */
int feel_ym_duration_format(const feel_ym_duration *d, char out[FEEL_TEMPORAL_TEXT_MAX]);

/* ---- instants ----------------------------------------------------------------- */

/* The instant of a date and time with a zone (BT_EINVAL for a local one). */
int feel_datetime_to_epoch(const feel_datetime *dt, int64_t *epoch_second, int32_t *nanos);
/* The date and time of an instant in zone (NULL or NONE: UTC, as "Z"). */
int feel_datetime_from_epoch(int64_t epoch_second, int32_t nanos, const feel_zone *zone,
                             feel_datetime *out);
/* now() / today(): milliseconds since the epoch as a UTC ("Z") date and
 * time. */
int feel_datetime_from_epoch_ms(int64_t epoch_ms, feel_datetime *out);

/* ---- comparison ------------------------------------------------------------------ */

int feel_date_cmp(const feel_date *a, const feel_date *b); /* -1, 0, 1 */
/* Times and dates and times compare on the timeline when both have a zone,
 * on their local fields when neither has; one with and one without a zone
 * are not comparable: BT_EEVAL. *result is -1, 0 or 1. */
int feel_time_cmp(const feel_time *a, const feel_time *b, int *result);
int feel_datetime_cmp(const feel_datetime *a, const feel_datetime *b, int *result);
/* Durations always compare: -1, 0, 1 (PT24H = P1D). */
int feel_dt_duration_cmp(const feel_dt_duration *a, const feel_dt_duration *b);
int feel_ym_duration_cmp(const feel_ym_duration *a, const feel_ym_duration *b);

/* ---- arithmetic ------------------------------------------------------------------- */
/* All return BT_EEVAL on overflow or when the operands are not compatible.
 * Outputs may alias inputs. */

/* date ± days and time duration: computed at midnight and truncated to the
 * date (2020-04-06 - PT1H = 2020-04-05). */
int feel_date_add_dt(const feel_date *d, const feel_dt_duration *dur, feel_date *out);
/* date ± years and months: the day is clamped (2026-01-31 + P1M =
 * 2026-02-28). */
int feel_date_add_ym(const feel_date *d, const feel_ym_duration *dur, feel_date *out);
/* date - date: the days between as a duration (P1D per day). */
int feel_date_sub(const feel_date *a, const feel_date *b, feel_dt_duration *out);

/* date and time + days and time duration: on the timeline for a region
 * zone (across DST, PT24H may change the local hour), on the local fields
 * otherwise. */
int feel_datetime_add_dt(const feel_datetime *dt, const feel_dt_duration *dur, feel_datetime *out);
/* date and time + years and months: on the local fields, day clamped, then
 * a region zone is resolved again keeping the offset if still valid. */
int feel_datetime_add_ym(const feel_datetime *dt, const feel_ym_duration *dur, feel_datetime *out);
/* a - b: both zoned (on the timeline) or both local; BT_EEVAL otherwise. */
int feel_datetime_sub(const feel_datetime *a, const feel_datetime *b, feel_dt_duration *out);

/* time + duration: wraps around 24 hours; the zone is kept. */
int feel_time_add_dt(const feel_time *t, const feel_dt_duration *dur, feel_time *out);
/* a - b: both local, or both zoned (compared in UTC); BT_EEVAL otherwise. */
int feel_time_sub(const feel_time *a, const feel_time *b, feel_dt_duration *out);

/* a + b, a - b: BT_EEVAL beyond int64 seconds. */
int feel_dt_duration_add(const feel_dt_duration *a, const feel_dt_duration *b,
                         feel_dt_duration *out);
int feel_dt_duration_sub(const feel_dt_duration *a, const feel_dt_duration *b,
                         feel_dt_duration *out);
feel_dt_duration
feel_dt_duration_neg(const feel_dt_duration *a); /* -a; -minimum saturates to the maximum */
/* d * num / den, exactly, rounded half-even to the nanosecond. A FEEL
 * number is passed as a fraction (1.5 = 15 / 10); den = 0 → BT_EEVAL.
 * Division by a number is mul(d, den, num). */
int feel_dt_duration_mul(const feel_dt_duration *d, int64_t num, int64_t den,
                         feel_dt_duration *out);
/* a / b as a double (BT_EEVAL when b is zero). An exact decimal quotient can
 * be computed from the fields: seconds * 10^9 + nanos. */
int feel_dt_duration_div(const feel_dt_duration *a, const feel_dt_duration *b, double *out);
/* Total nanoseconds as a 128-bit integer (never overflows). */
__int128 feel_dt_duration_total_nanos(const feel_dt_duration *d);
/* The duration of a count of nanoseconds; BT_EEVAL beyond int64 seconds. */
int feel_dt_duration_from_nanos(__int128 nanos, feel_dt_duration *out);

/* a + b, a - b: BT_EEVAL beyond int64 months. */
int feel_ym_duration_add(const feel_ym_duration *a, const feel_ym_duration *b,
                         feel_ym_duration *out);
int feel_ym_duration_sub(const feel_ym_duration *a, const feel_ym_duration *b,
                         feel_ym_duration *out);
/* months * num / den, rounded to the nearest month, halves towards +inf
 * (XPath's multiply-yearMonthDuration). */
int feel_ym_duration_mul(const feel_ym_duration *d, int64_t num, int64_t den,
                         feel_ym_duration *out);

/* ---- properties and helpers ---------------------------------------------------------- */

int feel_date_weekday(const feel_date *d);     /* 1 = Monday .. 7 = Sunday */
int feel_date_day_of_year(const feel_date *d); /* 1..366 */
/* ISO 8601 week: *week 1..53, *week_year the year it belongs to
 * (2021-01-03 is week 53 of 2020). Either pointer may be NULL. */
void feel_date_iso_week(const feel_date *d, int *week, int64_t *week_year);
const char *feel_weekday_name(int weekday); /* "Monday" .. "Sunday"; NULL if out of range */
const char *feel_month_name(int month);     /* "January" .. "December"; NULL if out of range */

/* years and months duration(from, to): whole months from a to b (negative
 * when b is before a), as java.time.Period.between. */
feel_ym_duration feel_ym_duration_between(const feel_date *from, const feel_date *to);

/* A duration's components, each with the sign of the duration: days
 * (unbounded), hours 0..23, minutes 0..59, seconds 0..59, nanos. */
void feel_dt_duration_parts(const feel_dt_duration *d, int64_t *days, int *hours, int *minutes,
                            int *seconds, int32_t *nanos);
/* years (months / 12) and months (months % 12), both with the sign. */
void feel_ym_duration_parts(const feel_ym_duration *d, int64_t *years, int *months);

/* Frees the zone cache. Only for leak checkers at exit: no other thread may
 * use zones during or after the call. */
void feel_zone_cache_free(void);

#endif
