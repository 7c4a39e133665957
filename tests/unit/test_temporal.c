/* Unit tests for src/feel/temporal.c: FEEL's dates, times, dates and times
 * and durations — literal parsing and canonical text, invalid input, leap
 * years, IANA zones with DST (Europe/Berlin, America/New_York,
 * Australia/Sydney, also past the end of the TZif tables), arithmetic,
 * comparison, ISO weeks and the properties FEEL exposes. Zones come from
 * the system tz database (Debian package tzdata). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "feel/temporal.h"

/* ---- helpers ------------------------------------------------------------ */

static feel_date date(const char *s) {
    feel_date d;
    int rc = feel_date_parse(s, strlen(s), &d);
    if (rc != 0)
        fail_msg("date \"%s\": %d", s, rc);
    return d;
}

static feel_time tm(const char *s) {
    feel_time t;
    int rc = feel_time_parse(s, strlen(s), &t);
    if (rc != 0)
        fail_msg("time \"%s\": %d", s, rc);
    return t;
}

static feel_datetime dt(const char *s) {
    feel_datetime d;
    int rc = feel_datetime_parse(s, strlen(s), &d);
    if (rc != 0)
        fail_msg("date and time \"%s\": %d", s, rc);
    return d;
}

static feel_dt_duration dtd(const char *s) {
    feel_duration_kind kind;
    feel_dt_duration d;
    feel_ym_duration ym;
    int rc = feel_duration_parse(s, strlen(s), &kind, &d, &ym);
    if (rc != 0 || kind != FEEL_DURATION_DAYS_TIME)
        fail_msg("days and time duration \"%s\": %d", s, rc);
    return d;
}

static feel_ym_duration ymd(const char *s) {
    feel_duration_kind kind;
    feel_dt_duration d;
    feel_ym_duration ym;
    int rc = feel_duration_parse(s, strlen(s), &kind, &d, &ym);
    if (rc != 0 || kind != FEEL_DURATION_YEARS_MONTHS)
        fail_msg("years and months duration \"%s\": %d", s, rc);
    return ym;
}

#define CHECK_FMT(fn, value, want)                                                                 \
    do {                                                                                           \
        char buf_[FEEL_TEMPORAL_TEXT_MAX];                                                         \
        int n_ = fn(value, buf_);                                                                  \
        assert_string_equal(buf_, want);                                                           \
        assert_int_equal(n_, (int)strlen(want));                                                   \
    } while (0)

static void check_date(feel_date d, const char *want) {
    CHECK_FMT(feel_date_format, &d, want);
}
static void check_time(feel_time t, const char *want) {
    CHECK_FMT(feel_time_format, &t, want);
}
static void check_dt(feel_datetime d, const char *want) {
    CHECK_FMT(feel_datetime_format, &d, want);
}
static void check_dtd(feel_dt_duration d, const char *want) {
    CHECK_FMT(feel_dt_duration_format, &d, want);
}
static void check_ymd(feel_ym_duration d, const char *want) {
    CHECK_FMT(feel_ym_duration_format, &d, want);
}

/* ---- text ------------------------------------------------------------------ */

static void test_date_text(void **state) {
    (void)state;
    const char *round_trip[] = {"2026-01-31",  "0001-01-01",   "0000-01-01", "9999-12-31",
                                "-0044-03-15", "+10000-01-01", "2024-02-29", "2000-02-29"};
    for (size_t i = 0; i < BT_ARRAY_LEN(round_trip); i++)
        check_date(date(round_trip[i]), round_trip[i]);
    feel_date d = date("2026-01-31");
    assert_int_equal(d.year, 2026);
    assert_int_equal(d.month, 1);
    assert_int_equal(d.day, 31);

    const char *bad[] = {"2026-13-01", "2026-00-10",  "2026-02-30",          "2023-02-29",
                         "1900-02-29", "2026-04-31",  "2026-01-32",          "2026-01-00",
                         "26-01-01",   "2026-1-01",   "2026-01-1",           "2026/01/31",
                         "",           "2026-01-31 ", "2026-01-31T00:00:00", "abcd-01-01"};
    feel_date out;
    for (size_t i = 0; i < BT_ARRAY_LEN(bad); i++) {
        if (feel_date_parse(bad[i], strlen(bad[i]), &out) != BT_EINVAL)
            fail_msg("date \"%s\" should be rejected", bad[i]);
    }
}

static void test_leap_years(void **state) {
    (void)state;
    assert_true(feel_year_is_leap(2024));
    assert_false(feel_year_is_leap(2023));
    assert_false(feel_year_is_leap(1900));
    assert_true(feel_year_is_leap(2000));
    assert_true(feel_year_is_leap(0));
    assert_true(feel_year_is_leap(-4));
    assert_int_equal(feel_month_days(2024, 2), 29);
    assert_int_equal(feel_month_days(2100, 2), 28);
    assert_int_equal(feel_month_days(2026, 4), 30);
    assert_int_equal(feel_month_days(2026, 13), 0);
    feel_date d;
    assert_int_equal(feel_date_make(2024, 2, 29, &d), 0);
    assert_int_equal(feel_date_make(2023, 2, 29, &d), BT_EINVAL);
    assert_int_equal(feel_date_make(2026, 13, 1, &d), BT_EINVAL);
    assert_int_equal(feel_date_make(1000000000, 1, 1, &d), BT_EINVAL);
}

static void test_epoch_days(void **state) {
    (void)state;
    feel_date d = date("1970-01-01");
    assert_int_equal(feel_date_to_epoch_day(&d), 0);
    d = date("2026-01-31");
    assert_int_equal(feel_date_to_epoch_day(&d), 20484);
    d = date("1969-12-31");
    assert_int_equal(feel_date_to_epoch_day(&d), -1);
    /* every day of four centuries round-trips and follows its predecessor */
    feel_date prev = date("1899-12-31");
    for (int64_t day = feel_date_to_epoch_day(&prev) + 1; day < 4 * 146097 - 25567; day++) {
        feel_date cur;
        assert_int_equal(feel_date_from_epoch_day(day, &cur), 0);
        assert_int_equal(feel_date_to_epoch_day(&cur), day);
        bool next_day = cur.year == prev.year && cur.month == prev.month && cur.day == prev.day + 1;
        bool next_month = cur.year == prev.year && cur.month == prev.month + 1 && cur.day == 1 &&
                          prev.day == feel_month_days(prev.year, prev.month);
        bool next_year = cur.year == prev.year + 1 && cur.month == 1 && cur.day == 1 &&
                         prev.month == 12 && prev.day == 31;
        assert_true(next_day || next_month || next_year);
        prev = cur;
    }
}

static void test_time_text(void **state) {
    (void)state;
    const char *round_trip[] = {"10:30:00",           "10:30:00.123",      "00:00:00",
                                "23:59:59.999999999", "10:30:00+02:00",    "10:30:00Z",
                                "10:30:00-05:30",     "10:30:00+05:30:15", "10:30:00@Europe/Berlin",
                                "10:30:00.5@UTC"};
    for (size_t i = 0; i < BT_ARRAY_LEN(round_trip); i++)
        check_time(tm(round_trip[i]), round_trip[i]);
    check_time(tm("10:30:00.000"), "10:30:00");
    check_time(tm("10:30:00.120"), "10:30:00.12");
    check_time(tm("10:30:00+00:00"), "10:30:00Z");
    check_time(tm("10:30:00-00:00"), "10:30:00Z");

    feel_time t = tm("10:30:00.123+02:00");
    assert_int_equal(t.hour, 10);
    assert_int_equal(t.minute, 30);
    assert_int_equal(t.second, 0);
    assert_int_equal(t.nanosecond, 123000000);
    assert_int_equal(t.zone.kind, FEEL_ZONE_OFFSET);
    assert_int_equal(t.zone.offset, 7200);
    t = tm("10:30:00");
    assert_int_equal(t.zone.kind, FEEL_ZONE_NONE);
    /* a time in a region: the standard offset of its current rules */
    t = tm("10:30:00@Europe/Berlin");
    assert_int_equal(t.zone.kind, FEEL_ZONE_ID);
    assert_string_equal(t.zone.id, "Europe/Berlin");
    assert_int_equal(t.zone.offset, 3600);

    const char *bad[] = {"25:00:00",
                         "24:00:00",
                         "10:60:00",
                         "10:30:60",
                         "10:30",
                         "1:30:00",
                         "10:30:00+19:00",
                         "10:30:00+02",
                         "10:30:00+02:60",
                         "10:30:00@Nowhere/City",
                         "10:30:00@../etc/passwd",
                         "10:30:00@Europe",
                         "10:30:00@",
                         "10:30:00@/etc/localtime",
                         "10:30:00.1234567891",
                         "10:30:00.",
                         "10:30:00 ",
                         "10:30:00ZZ",
                         "10:30:00@right/UTC",
                         "",
                         "103000"};
    for (size_t i = 0; i < BT_ARRAY_LEN(bad); i++) {
        if (feel_time_parse(bad[i], strlen(bad[i]), &t) != BT_EINVAL)
            fail_msg("time \"%s\" should be rejected", bad[i]);
    }
}

static void test_datetime_text(void **state) {
    (void)state;
    const char *round_trip[] = {"2026-01-31T10:30:00",
                                "2026-01-31T10:30:00.123",
                                "2026-01-31T10:30:00+02:00",
                                "2026-01-31T10:30:00Z",
                                "2026-01-31T10:30:00@Europe/Berlin",
                                "2026-07-04T12:00:00@America/New_York",
                                "-0001-12-31T23:59:59Z"};
    for (size_t i = 0; i < BT_ARRAY_LEN(round_trip); i++)
        check_dt(dt(round_trip[i]), round_trip[i]);
    /* a date alone is midnight, local */
    feel_datetime d = dt("2026-01-31");
    check_dt(d, "2026-01-31T00:00:00");
    assert_int_equal(d.time.zone.kind, FEEL_ZONE_NONE);
    feel_date day = date("2026-01-31");
    feel_datetime from_date;
    feel_datetime_from_date(&day, &from_date);
    check_dt(from_date, "2026-01-31T00:00:00");

    const char *bad[] = {"2026-01-31T",
                         "2026-01-31T10:30",
                         "2026-01-31 10:30:00",
                         "2026-02-30T10:30:00",
                         "2026-01-31T25:00:00",
                         "2026-01-31T10:30:00@Mars/Base",
                         "2026-01-31T10:30:00+02:00@Europe/Berlin",
                         "T10:30:00",
                         ""};
    for (size_t i = 0; i < BT_ARRAY_LEN(bad); i++) {
        if (feel_datetime_parse(bad[i], strlen(bad[i]), &d) != BT_EINVAL)
            fail_msg("date and time \"%s\" should be rejected", bad[i]);
    }
}

static void test_duration_text(void **state) {
    (void)state;
    check_dtd(dtd("P1DT2H3M4.5S"), "P1DT2H3M4.5S");
    check_dtd(dtd("-PT5M"), "-PT5M");
    check_dtd(dtd("PT36H"), "P1DT12H");
    check_dtd(dtd("P2W"), "P14D");
    check_dtd(dtd("P1W2D"), "P9D");
    check_dtd(dtd("PT0S"), "PT0S");
    check_dtd(dtd("P0D"), "PT0S");
    check_dtd(dtd("-PT0S"), "PT0S");
    check_dtd(dtd("-P1D"), "-P1D");
    check_dtd(dtd("PT90M"), "PT1H30M");
    check_dtd(dtd("PT0.5S"), "PT0.5S");
    check_dtd(dtd("-PT0.5S"), "-PT0.5S");
    check_dtd(dtd("PT1.000000001S"), "PT1.000000001S");
    check_dtd(dtd("P1DT1S"), "P1DT1S");
    check_dtd(dtd("PT3600S"), "PT1H");
    check_dtd(dtd("P999999999D"), "P999999999D");

    feel_dt_duration d = dtd("-PT0.5S");
    assert_true(d.seconds == -1);
    assert_int_equal(d.nanos, 500000000);

    check_ymd(ymd("P2Y3M"), "P2Y3M");
    check_ymd(ymd("P1Y"), "P1Y");
    check_ymd(ymd("P14M"), "P1Y2M");
    check_ymd(ymd("P12M"), "P1Y");
    check_ymd(ymd("P0M"), "P0M");
    check_ymd(ymd("P0Y"), "P0M");
    check_ymd(ymd("-P1Y2M"), "-P1Y2M");
    check_ymd(ymd("P3M"), "P3M");
    assert_true(ymd("P2Y3M").months == 27);

    const char *bad[] = {"P",
                         "PT",
                         "-P",
                         "P1Y2D",
                         "P1YT1H",
                         "P1DT",
                         "1D",
                         "P1.5D",
                         "PT1.5M",
                         "P1M1Y",
                         "P1D1D",
                         "P-1D",
                         "",
                         "PT1H2H",
                         "P1H",
                         "PT1D",
                         "P1DT2H3M4.5",
                         "P1Y.5M",
                         "+P1D",
                         "P1D ",
                         "p1d",
                         "PT1.S",
                         "P99999999999999999999D"};
    feel_duration_kind kind;
    feel_ym_duration ym;
    for (size_t i = 0; i < BT_ARRAY_LEN(bad); i++) {
        int rc = feel_duration_parse(bad[i], strlen(bad[i]), &kind, &d, &ym);
        if (rc != BT_EINVAL)
            fail_msg("duration \"%s\" should be rejected, got %d", bad[i], rc);
    }
    /* within the digits allowed but beyond int64 seconds */
    assert_int_equal(feel_duration_parse("P999999999999999999D", 20, &kind, &d, &ym), BT_EEVAL);
}

/* ---- zones ------------------------------------------------------------------- */

static int64_t epoch_of(const char *s) {
    feel_datetime d = dt(s);
    int64_t sec;
    int32_t nanos;
    assert_int_equal(feel_datetime_to_epoch(&d, &sec, &nanos), 0);
    return sec;
}

static void test_zone_offsets(void **state) {
    (void)state;
    /* reference instants from an independent implementation */
    assert_true(epoch_of("2026-01-31T10:30:00Z") == 1769855400);
    assert_true(epoch_of("2026-01-31T10:30:00@Europe/Berlin") == 1769851800);
    assert_true(epoch_of("2026-07-01T12:00:00@Europe/Berlin") == 1782900000);
    assert_true(epoch_of("2026-07-04T12:00:00@America/New_York") == 1783180800);
    assert_true(epoch_of("2026-01-15T12:00:00@Australia/Sydney") == 1768438800);
    /* past the last transition of the TZif table: the footer rule */
    assert_true(epoch_of("2040-07-01T12:00:00@Europe/Berlin") == 2224749600);
    assert_true(epoch_of("2040-01-01T12:00:00@Europe/Berlin") == 2209028400);
    assert_true(epoch_of("2050-07-01T12:00:00@America/New_York") == 2540304000);
    assert_true(epoch_of("2040-01-15T12:00:00@Australia/Sydney") == 2210202000);
    assert_true(epoch_of("2040-07-15T12:00:00@Australia/Sydney") == 2225930400);

    feel_datetime d = dt("2026-01-31T10:30:00@Europe/Berlin");
    assert_int_equal(d.time.zone.offset, 3600);
    d = dt("2026-07-31T10:30:00@Europe/Berlin");
    assert_int_equal(d.time.zone.offset, 7200);
    d = dt("2026-01-31T10:30:00@America/New_York");
    assert_int_equal(d.time.zone.offset, -5 * 3600);
    d = dt("2026-07-31T10:30:00@America/New_York");
    assert_int_equal(d.time.zone.offset, -4 * 3600);

    feel_zone z;
    assert_int_equal(feel_zone_from_id("Z", 1, &z), 0);
    assert_int_equal(z.kind, FEEL_ZONE_OFFSET);
    assert_int_equal(z.offset, 0);
    assert_int_equal(feel_zone_from_id("UTC", 3, &z), 0);
    assert_int_equal(z.kind, FEEL_ZONE_ID);
    assert_int_equal(z.offset, 0);
    assert_int_equal(feel_zone_from_id("Etc/GMT+5", 9, &z), 0);
    assert_int_equal(z.offset, -5 * 3600);
    assert_int_equal(feel_zone_from_id("Europe/Berlinx", 13, &z), 0); /* exactly n bytes */
    assert_string_equal(z.id, "Europe/Berlin");
    assert_int_equal(feel_zone_from_id("Europe/Nowhere", 14, &z), BT_EINVAL);
    assert_int_equal(feel_zone_from_offset(18 * 3600, &z), 0);
    assert_int_equal(feel_zone_from_offset(18 * 3600 + 1, &z), BT_EINVAL);

    int32_t off;
    assert_int_equal(feel_zone_from_id("Europe/Berlin", 13, &z), 0);
    assert_int_equal(feel_zone_offset_at(&z, 1782900000, &off), 0);
    assert_int_equal(off, 7200);
    /* the transition instants themselves: 2026-03-29T01:00Z, 2026-10-25T01:00Z */
    assert_int_equal(feel_zone_offset_at(&z, 1774746000 - 1, &off), 0);
    assert_int_equal(off, 3600);
    assert_int_equal(feel_zone_offset_at(&z, 1774746000, &off), 0);
    assert_int_equal(off, 7200);
    assert_int_equal(feel_zone_offset_at(&z, 1792890000 - 1, &off), 0);
    assert_int_equal(off, 7200);
    assert_int_equal(feel_zone_offset_at(&z, 1792890000, &off), 0);
    assert_int_equal(off, 3600);
    feel_zone none = {0};
    assert_int_equal(feel_zone_offset_at(&none, 0, &off), BT_EINVAL);
}

static void test_dst_gap_and_overlap(void **state) {
    (void)state;
    /* 2026-03-29 02:00 → 03:00 in Berlin: 02:30 does not exist and moves
     * forward by the gap (java.time's choice) */
    feel_datetime d = dt("2026-03-29T02:30:00@Europe/Berlin");
    check_dt(d, "2026-03-29T03:30:00@Europe/Berlin");
    assert_int_equal(d.time.zone.offset, 7200);
    check_dt(dt("2026-03-29T01:59:59@Europe/Berlin"), "2026-03-29T01:59:59@Europe/Berlin");
    check_dt(dt("2026-03-29T03:00:00@Europe/Berlin"), "2026-03-29T03:00:00@Europe/Berlin");
    /* 2026-10-25 03:00 → 02:00: 02:30 happens twice; the earlier offset */
    d = dt("2026-10-25T02:30:00@Europe/Berlin");
    assert_int_equal(d.time.zone.offset, 7200);
    assert_true(epoch_of("2026-10-25T02:30:00@Europe/Berlin") == 1792888200);
    /* New York: 2026-03-08 02:00 → 03:00 */
    check_dt(dt("2026-03-08T02:30:00@America/New_York"), "2026-03-08T03:30:00@America/New_York");
    /* the gap after the end of the table (footer rule): 2040-03-25 */
    check_dt(dt("2040-03-25T02:30:00@Europe/Berlin"), "2040-03-25T03:30:00@Europe/Berlin");

    /* date and time(date, time) resolves the same way */
    feel_date day = date("2026-03-29");
    feel_time t = tm("02:30:00@Europe/Berlin");
    feel_datetime c;
    assert_int_equal(feel_datetime_combine(&day, &t, &c), 0);
    check_dt(c, "2026-03-29T03:30:00@Europe/Berlin");
    t = tm("10:00:00+05:00");
    assert_int_equal(feel_datetime_combine(&day, &t, &c), 0);
    check_dt(c, "2026-03-29T10:00:00+05:00");
    t = tm("10:00:00");
    assert_int_equal(feel_datetime_combine(&day, &t, &c), 0);
    check_dt(c, "2026-03-29T10:00:00");

    /* a datetime filled by hand and resolved */
    feel_datetime hand;
    memset(&hand, 0, sizeof hand);
    hand.date = date("2026-03-29");
    hand.time.hour = 2;
    hand.time.minute = 15;
    hand.time.zone.kind = FEEL_ZONE_ID;
    strcpy(hand.time.zone.id, "Europe/Berlin");
    assert_int_equal(feel_datetime_resolve(&hand), 0);
    check_dt(hand, "2026-03-29T03:15:00@Europe/Berlin");
    strcpy(hand.time.zone.id, "Europe/../Berlin");
    assert_int_equal(feel_datetime_resolve(&hand), BT_EINVAL);
    hand.time.zone.kind = FEEL_ZONE_NONE;
    hand.time.hour = 24;
    assert_int_equal(feel_datetime_resolve(&hand), BT_EINVAL);
}

static void test_epoch_conversion(void **state) {
    (void)state;
    feel_datetime d;
    assert_int_equal(feel_datetime_from_epoch_ms(0, &d), 0);
    check_dt(d, "1970-01-01T00:00:00Z");
    assert_int_equal(feel_datetime_from_epoch_ms(1769855400123, &d), 0);
    check_dt(d, "2026-01-31T10:30:00.123Z");
    assert_int_equal(feel_datetime_from_epoch_ms(-1, &d), 0);
    check_dt(d, "1969-12-31T23:59:59.999Z");

    feel_zone berlin;
    assert_int_equal(feel_zone_from_id("Europe/Berlin", 13, &berlin), 0);
    assert_int_equal(feel_datetime_from_epoch(1782900000, 5, &berlin, &d), 0);
    check_dt(d, "2026-07-01T12:00:00.000000005@Europe/Berlin");
    assert_int_equal(d.time.zone.offset, 7200);
    feel_zone plus530;
    assert_int_equal(feel_zone_from_offset(5 * 3600 + 1800, &plus530), 0);
    assert_int_equal(feel_datetime_from_epoch(1769855400, 0, &plus530, &d), 0);
    check_dt(d, "2026-01-31T16:00:00+05:30");
    assert_int_equal(feel_datetime_from_epoch(0, -1, NULL, &d), BT_EINVAL);

    /* a local date and time has no instant */
    d = dt("2026-01-31T10:30:00");
    int64_t sec;
    int32_t nanos;
    assert_int_equal(feel_datetime_to_epoch(&d, &sec, &nanos), BT_EINVAL);
    /* round trip through the instant */
    d = dt("2026-10-25T02:30:00.25@Europe/Berlin");
    assert_int_equal(feel_datetime_to_epoch(&d, &sec, &nanos), 0);
    assert_int_equal(nanos, 250000000);
    feel_datetime back;
    assert_int_equal(feel_datetime_from_epoch(sec, nanos, &berlin, &back), 0);
    check_dt(back, "2026-10-25T02:30:00.25@Europe/Berlin");
    assert_int_equal(back.time.zone.offset, 7200);
    /* one hour later the same local time, now in winter time */
    assert_int_equal(feel_datetime_from_epoch(sec + 3600, nanos, &berlin, &back), 0);
    check_dt(back, "2026-10-25T02:30:00.25@Europe/Berlin");
    assert_int_equal(back.time.zone.offset, 3600);
}

/* ---- arithmetic ------------------------------------------------------------------ */

static void test_date_arithmetic(void **state) {
    (void)state;
    static const struct {
        const char *date, *dur, *want;
    } ym_cases[] = {
        {"2026-01-31", "P1M", "2026-02-28"},   {"2024-01-31", "P1M", "2024-02-29"},
        {"2026-03-31", "-P1M", "2026-02-28"},  {"2024-02-29", "P1Y", "2025-02-28"},
        {"2024-02-29", "P4Y", "2028-02-29"},   {"2026-01-15", "P2Y3M", "2028-04-15"},
        {"2026-01-15", "-P13M", "2024-12-15"}, {"2026-12-31", "P1M", "2027-01-31"},
    };
    for (size_t i = 0; i < BT_ARRAY_LEN(ym_cases); i++) {
        feel_date d = date(ym_cases[i].date), r;
        feel_ym_duration dur = ymd(ym_cases[i].dur);
        assert_int_equal(feel_date_add_ym(&d, &dur, &r), 0);
        check_date(r, ym_cases[i].want);
    }
    static const struct {
        const char *date, *dur, *want;
    } dt_cases[] = {
        {"2026-01-31", "P1D", "2026-02-01"},   {"2024-02-28", "P1D", "2024-02-29"},
        {"2023-02-28", "P1D", "2023-03-01"},   {"2026-12-31", "P1D", "2027-01-01"},
        {"2020-04-06", "-PT1H", "2020-04-05"}, {"2020-04-06", "PT25H", "2020-04-07"},
        {"2026-03-01", "-P1D", "2026-02-28"},  {"2026-01-01", "P365D", "2027-01-01"},
    };
    for (size_t i = 0; i < BT_ARRAY_LEN(dt_cases); i++) {
        feel_date d = date(dt_cases[i].date), r;
        feel_dt_duration dur = dtd(dt_cases[i].dur);
        assert_int_equal(feel_date_add_dt(&d, &dur, &r), 0);
        check_date(r, dt_cases[i].want);
    }
    feel_date a = date("2026-03-01"), b = date("2026-02-01");
    feel_dt_duration diff;
    assert_int_equal(feel_date_sub(&a, &b, &diff), 0);
    check_dtd(diff, "P28D");
    a = date("2024-03-01"), b = date("2024-02-01");
    assert_int_equal(feel_date_sub(&a, &b, &diff), 0);
    check_dtd(diff, "P29D");
    assert_int_equal(feel_date_sub(&b, &a, &diff), 0);
    check_dtd(diff, "-P29D");

    /* beyond the year range */
    feel_date far = date("+999999999-12-31"), r;
    feel_dt_duration one_day = dtd("P1D");
    assert_int_equal(feel_date_add_dt(&far, &one_day, &r), BT_EEVAL);
    feel_ym_duration one_month = ymd("P1M");
    assert_int_equal(feel_date_add_ym(&far, &one_month, &r), BT_EEVAL);
}

static void test_datetime_arithmetic(void **state) {
    (void)state;
    feel_datetime r;
    feel_dt_duration d24 = dtd("PT24H"), p1d = dtd("P1D"), m90 = dtd("-PT90M");
    /* a region: on the timeline, so across the spring gap the local hour moves */
    feel_datetime a = dt("2026-03-28T12:00:00@Europe/Berlin");
    assert_int_equal(feel_datetime_add_dt(&a, &d24, &r), 0);
    check_dt(r, "2026-03-29T13:00:00@Europe/Berlin");
    assert_int_equal(r.time.zone.offset, 7200);
    assert_int_equal(feel_datetime_add_dt(&a, &p1d, &r), 0);
    check_dt(r, "2026-03-29T13:00:00@Europe/Berlin");
    /* a fixed offset or local: on the local fields */
    a = dt("2026-03-28T12:00:00+01:00");
    assert_int_equal(feel_datetime_add_dt(&a, &d24, &r), 0);
    check_dt(r, "2026-03-29T12:00:00+01:00");
    a = dt("2026-01-01T00:30:00");
    assert_int_equal(feel_datetime_add_dt(&a, &m90, &r), 0);
    check_dt(r, "2025-12-31T23:00:00");
    /* years and months: local fields, clamped, then resolved */
    a = dt("2026-01-31T10:00:00@Europe/Berlin");
    feel_ym_duration p1m = ymd("P1M"), p2m = ymd("P2M"), p6m = ymd("P6M");
    assert_int_equal(feel_datetime_add_ym(&a, &p1m, &r), 0);
    check_dt(r, "2026-02-28T10:00:00@Europe/Berlin");
    assert_int_equal(feel_datetime_add_ym(&a, &p6m, &r), 0);
    check_dt(r, "2026-07-31T10:00:00@Europe/Berlin");
    assert_int_equal(r.time.zone.offset, 7200);
    a = dt("2026-01-29T02:30:00@Europe/Berlin");
    assert_int_equal(feel_datetime_add_ym(&a, &p2m, &r), 0);
    check_dt(r, "2026-03-29T03:30:00@Europe/Berlin");
    /* in an overlap, the offset held before is kept */
    a = dt("2026-09-25T02:30:00@Europe/Berlin");
    assert_int_equal(feel_datetime_add_ym(&a, &p1m, &r), 0);
    assert_int_equal(r.time.zone.offset, 7200);

    /* differences */
    feel_dt_duration diff;
    a = dt("2026-01-01T10:00:00+01:00");
    feel_datetime b = dt("2026-01-01T09:00:00Z");
    assert_int_equal(feel_datetime_sub(&a, &b, &diff), 0);
    check_dtd(diff, "PT0S");
    a = dt("2026-03-29T04:00:00@Europe/Berlin");
    b = dt("2026-03-29T01:00:00@Europe/Berlin");
    assert_int_equal(feel_datetime_sub(&a, &b, &diff), 0);
    check_dtd(diff, "PT2H");
    a = dt("2026-01-02T00:00:00");
    b = dt("2026-01-01T12:00:00");
    assert_int_equal(feel_datetime_sub(&a, &b, &diff), 0);
    check_dtd(diff, "PT12H");
    assert_int_equal(feel_datetime_sub(&b, &a, &diff), 0);
    check_dtd(diff, "-PT12H");
    a = dt("2026-01-02T00:00:00Z");
    assert_int_equal(feel_datetime_sub(&a, &b, &diff), BT_EEVAL);
    a = dt("2027-01-01T00:00:00.5@America/New_York");
    b = dt("2026-01-01T00:00:00@Europe/Berlin");
    assert_int_equal(feel_datetime_sub(&a, &b, &diff), 0);
    check_dtd(diff, "P365DT6H0.5S");
}

static void test_time_arithmetic(void **state) {
    (void)state;
    feel_time r;
    feel_time t = tm("23:00:00");
    feel_dt_duration p2h = dtd("PT2H"), m2h = dtd("-PT2H"), p3d = dtd("P3DT1S");
    assert_int_equal(feel_time_add_dt(&t, &p2h, &r), 0);
    check_time(r, "01:00:00");
    t = tm("01:00:00+02:00");
    assert_int_equal(feel_time_add_dt(&t, &m2h, &r), 0);
    check_time(r, "23:00:00+02:00");
    assert_int_equal(feel_time_add_dt(&t, &p3d, &r), 0);
    check_time(r, "01:00:01+02:00");

    feel_dt_duration diff;
    feel_time a = tm("10:30:00"), b = tm("08:00:00");
    assert_int_equal(feel_time_sub(&a, &b, &diff), 0);
    check_dtd(diff, "PT2H30M");
    assert_int_equal(feel_time_sub(&b, &a, &diff), 0);
    check_dtd(diff, "-PT2H30M");
    a = tm("10:00:00+01:00"), b = tm("09:00:00Z");
    assert_int_equal(feel_time_sub(&a, &b, &diff), 0);
    check_dtd(diff, "PT0S");
    a = tm("10:00:00");
    assert_int_equal(feel_time_sub(&a, &b, &diff), BT_EEVAL);
}

static void test_duration_arithmetic(void **state) {
    (void)state;
    feel_dt_duration r, a = dtd("P1DT2H"), b = dtd("PT23H");
    assert_int_equal(feel_dt_duration_add(&a, &b, &r), 0);
    check_dtd(r, "P2DT1H");
    assert_int_equal(feel_dt_duration_sub(&b, &a, &r), 0);
    check_dtd(r, "-PT3H");
    check_dtd(feel_dt_duration_neg(&a), "-P1DT2H");
    feel_dt_duration half = dtd("-PT0.5S");
    check_dtd(feel_dt_duration_neg(&half), "PT0.5S");

    feel_dt_duration h1 = dtd("PT1H");
    assert_int_equal(feel_dt_duration_mul(&h1, 3, 2, &r), 0);
    check_dtd(r, "PT1H30M");
    assert_int_equal(feel_dt_duration_mul(&h1, -1, 1, &r), 0);
    check_dtd(r, "-PT1H");
    feel_dt_duration d1 = dtd("P1D");
    assert_int_equal(feel_dt_duration_mul(&d1, 1, 2, &r), 0); /* P1D / 2 */
    check_dtd(r, "PT12H");
    feel_dt_duration s1 = dtd("PT1S");
    assert_int_equal(feel_dt_duration_mul(&s1, 1, 3, &r), 0);
    check_dtd(r, "PT0.333333333S");
    assert_int_equal(feel_dt_duration_mul(&s1, 2, 3, &r), 0);
    check_dtd(r, "PT0.666666667S");
    /* half-even on the nanosecond */
    feel_dt_duration ns = dtd("PT0.000000001S");
    assert_int_equal(feel_dt_duration_mul(&ns, 1, 2, &r), 0);
    check_dtd(r, "PT0S");
    feel_dt_duration ns3 = dtd("PT0.000000003S");
    assert_int_equal(feel_dt_duration_mul(&ns3, 1, 2, &r), 0);
    check_dtd(r, "PT0.000000002S");
    assert_int_equal(feel_dt_duration_mul(&s1, 1, 0, &r), BT_EEVAL);
    feel_dt_duration big = dtd("P99999999999D");
    assert_int_equal(feel_dt_duration_mul(&big, INT64_MAX, 1, &r), BT_EEVAL);
    assert_int_equal(feel_dt_duration_mul(&big, INT64_MIN, -1, &r), BT_EEVAL);
    assert_int_equal(feel_dt_duration_mul(&big, 1000, 1, &r), 0);
    check_dtd(r, "P99999999999000D");

    double q;
    feel_dt_duration h = dtd("PT1H");
    assert_int_equal(feel_dt_duration_div(&d1, &h, &q), 0);
    assert_true(q == 24.0);
    feel_dt_duration zero = dtd("PT0S");
    assert_int_equal(feel_dt_duration_div(&d1, &zero, &q), BT_EEVAL);

    feel_ym_duration y1 = ymd("P1Y"), m1 = ymd("P1M"), ry;
    assert_int_equal(feel_ym_duration_add(&y1, &m1, &ry), 0);
    check_ymd(ry, "P1Y1M");
    assert_int_equal(feel_ym_duration_sub(&m1, &y1, &ry), 0);
    check_ymd(ry, "-P11M");
    assert_int_equal(feel_ym_duration_mul(&y1, 3, 2, &ry), 0);
    check_ymd(ry, "P1Y6M");
    assert_int_equal(feel_ym_duration_mul(&m1, 1, 2, &ry), 0);
    check_ymd(ry, "P1M");
    assert_int_equal(feel_ym_duration_mul(&m1, -1, 2, &ry), 0);
    check_ymd(ry, "P0M");
    assert_int_equal(feel_ym_duration_mul(&m1, 1, -3, &ry), 0);
    check_ymd(ry, "P0M");
    assert_int_equal(feel_ym_duration_mul(&y1, 1, 5, &ry), 0); /* 2.4 months */
    check_ymd(ry, "P2M");
    assert_int_equal(feel_ym_duration_mul(&y1, 1, 0, &ry), BT_EEVAL);
    feel_ym_duration huge = {INT64_MAX};
    assert_int_equal(feel_ym_duration_add(&huge, &m1, &ry), BT_EEVAL);
}

/* ---- comparison ------------------------------------------------------------------- */

static void test_comparisons(void **state) {
    (void)state;
    feel_date d1 = date("2026-01-31"), d2 = date("2026-02-01");
    assert_int_equal(feel_date_cmp(&d1, &d2), -1);
    assert_int_equal(feel_date_cmp(&d2, &d1), 1);
    assert_int_equal(feel_date_cmp(&d1, &d1), 0);

    int c;
    feel_time t1 = tm("10:00:00+01:00"), t2 = tm("09:00:00Z"), t3 = tm("10:00:00+02:00");
    assert_int_equal(feel_time_cmp(&t1, &t2, &c), 0);
    assert_int_equal(c, 0);
    assert_int_equal(feel_time_cmp(&t3, &t2, &c), 0);
    assert_int_equal(c, -1);
    feel_time l1 = tm("10:00:00"), l2 = tm("10:00:00.000000001");
    assert_int_equal(feel_time_cmp(&l1, &l2, &c), 0);
    assert_int_equal(c, -1);
    assert_int_equal(feel_time_cmp(&l1, &t1, &c), BT_EEVAL);

    feel_datetime a = dt("2026-01-31T10:30:00@Europe/Berlin");
    feel_datetime b = dt("2026-01-31T09:30:00Z");
    feel_datetime l = dt("2026-01-31T09:30:00");
    assert_int_equal(feel_datetime_cmp(&a, &b, &c), 0);
    assert_int_equal(c, 0);
    b = dt("2026-01-31T04:31:00@America/New_York");
    assert_int_equal(feel_datetime_cmp(&a, &b, &c), 0);
    assert_int_equal(c, -1);
    assert_int_equal(feel_datetime_cmp(&a, &l, &c), BT_EEVAL);
    feel_datetime l2d = dt("2026-01-31");
    assert_int_equal(feel_datetime_cmp(&l2d, &l, &c), 0);
    assert_int_equal(c, -1);

    feel_dt_duration x = dtd("PT24H"), y = dtd("P1D"), z = dtd("-PT0.5S");
    assert_int_equal(feel_dt_duration_cmp(&x, &y), 0);
    assert_int_equal(feel_dt_duration_cmp(&z, &x), -1);
    feel_ym_duration ya = ymd("P1Y"), yb = ymd("P12M"), yc = ymd("P13M");
    assert_int_equal(feel_ym_duration_cmp(&ya, &yb), 0);
    assert_int_equal(feel_ym_duration_cmp(&yc, &ya), 1);
}

/* ---- properties and helpers ---------------------------------------------------------- */

static void check_week(const char *s, int want_week, int64_t want_year) {
    feel_date d = date(s);
    int week;
    int64_t year;
    feel_date_iso_week(&d, &week, &year);
    if (week != want_week || year != want_year)
        fail_msg("%s: week %d of %lld, want %d of %lld", s, week, (long long)year, want_week,
                 (long long)want_year);
}

static void test_calendar_helpers(void **state) {
    (void)state;
    check_week("2021-01-03", 53, 2020);
    check_week("2021-01-04", 1, 2021);
    check_week("2026-12-31", 53, 2026);
    check_week("2026-01-01", 1, 2026);
    check_week("2024-12-30", 1, 2025);
    check_week("2020-12-31", 53, 2020);
    check_week("2027-01-03", 53, 2026);
    check_week("2026-06-15", 25, 2026);
    check_week("2019-12-30", 1, 2020);

    feel_date d = date("2026-01-31");
    assert_int_equal(feel_date_weekday(&d), 6);
    assert_string_equal(feel_weekday_name(feel_date_weekday(&d)), "Saturday");
    d = date("1970-01-01");
    assert_string_equal(feel_weekday_name(feel_date_weekday(&d)), "Thursday");
    d = date("1969-12-29");
    assert_string_equal(feel_weekday_name(feel_date_weekday(&d)), "Monday");
    assert_null(feel_weekday_name(0));
    assert_null(feel_weekday_name(8));
    assert_string_equal(feel_month_name(1), "January");
    assert_string_equal(feel_month_name(12), "December");
    assert_null(feel_month_name(13));

    d = date("2024-12-31");
    assert_int_equal(feel_date_day_of_year(&d), 366);
    d = date("2026-12-31");
    assert_int_equal(feel_date_day_of_year(&d), 365);
    d = date("2026-02-01");
    assert_int_equal(feel_date_day_of_year(&d), 32);
}

static void test_duration_properties(void **state) {
    (void)state;
    feel_dt_duration d = dtd("-P1DT2H3M4.5S");
    int64_t days;
    int h, m, s;
    int32_t ns;
    feel_dt_duration_parts(&d, &days, &h, &m, &s, &ns);
    assert_true(days == -1);
    assert_int_equal(h, -2);
    assert_int_equal(m, -3);
    assert_int_equal(s, -4);
    assert_int_equal(ns, -500000000);
    d = dtd("PT36H");
    feel_dt_duration_parts(&d, &days, &h, &m, &s, &ns);
    assert_true(days == 1);
    assert_int_equal(h, 12);

    feel_ym_duration y = ymd("-P1Y2M");
    int64_t years;
    int months;
    feel_ym_duration_parts(&y, &years, &months);
    assert_true(years == -1);
    assert_int_equal(months, -2);

    static const struct {
        const char *from, *to;
        int64_t months;
    } between[] = {
        {"2026-01-31", "2026-02-28", 0},   {"2026-01-15", "2027-03-15", 14},
        {"2027-03-15", "2026-01-16", -13}, {"2026-01-15", "2026-01-14", 0},
        {"2011-12-31", "2013-06-15", 17},  {"2026-01-01", "2026-01-01", 0},
    };
    for (size_t i = 0; i < BT_ARRAY_LEN(between); i++) {
        feel_date a = date(between[i].from), b = date(between[i].to);
        feel_ym_duration r = feel_ym_duration_between(&a, &b);
        if (r.months != between[i].months)
            fail_msg("between %s and %s: %lld months", between[i].from, between[i].to,
                     (long long)r.months);
    }
}

static void test_time_make(void **state) {
    (void)state;
    feel_time t;
    assert_int_equal(feel_time_make(10, 30, 0, 0, NULL, &t), 0);
    check_time(t, "10:30:00");
    feel_zone z;
    assert_int_equal(feel_zone_from_offset(-3 * 3600, &z), 0);
    assert_int_equal(feel_time_make(23, 59, 59, 999000000, &z, &t), 0);
    check_time(t, "23:59:59.999-03:00");
    assert_int_equal(feel_time_make(24, 0, 0, 0, NULL, &t), BT_EINVAL);
    assert_int_equal(feel_time_make(0, 0, 0, 1000000000, NULL, &t), BT_EINVAL);
    assert_int_equal(feel_time_make(0, -1, 0, 0, NULL, &t), BT_EINVAL);
}

/* ---- concurrency and the cache -------------------------------------------------------- */

static void *resolve_many(void *arg) {
    const char *id = arg;
    long bad = 0;
    for (int i = 0; i < 200; i++) {
        feel_zone z;
        int32_t off;
        if (feel_zone_from_id(id, strlen(id), &z) != 0 ||
            feel_zone_offset_at(&z, 1782900000, &off) != 0)
            bad++;
    }
    return (void *)bad;
}

static void test_zone_cache_threads(void **state) {
    (void)state;
    feel_zone_cache_free();
    const char *ids[] = {"Europe/Berlin", "America/New_York", "Asia/Tokyo",
                         "Europe/Berlin", "Australia/Sydney", "America/New_York"};
    pthread_t threads[BT_ARRAY_LEN(ids)];
    for (size_t i = 0; i < BT_ARRAY_LEN(ids); i++)
        assert_int_equal(pthread_create(&threads[i], NULL, resolve_many, (void *)ids[i]), 0);
    for (size_t i = 0; i < BT_ARRAY_LEN(ids); i++) {
        void *bad;
        pthread_join(threads[i], &bad);
        assert_null(bad);
    }
    /* after freeing, zones load again */
    feel_zone_cache_free();
    assert_true(epoch_of("2026-07-01T12:00:00@Europe/Berlin") == 1782900000);
    feel_zone_cache_free();
}

/* Loading a zone under allocation failure reports BT_ENOMEM, never crashes,
 * and caches nothing half-built. */
static void test_zone_load_out_of_memory(void **state) {
    (void)state;
    feel_zone_cache_free();
    feel_zone z;
    int rc = BT_ENOMEM;
    long n;
    for (n = 0; n < 100 && rc == BT_ENOMEM; n++) {
        bt_alloc_fail_after(n);
        rc = feel_zone_from_id("America/New_York", 16, &z);
        bt_alloc_fail_after(-1);
        if (rc != BT_OK && rc != BT_ENOMEM)
            fail_msg("allocation %ld failing gave %d", n, rc);
    }
    assert_int_equal(rc, BT_OK);
    assert_true(n > 1); /* at least one allocation did fail */
    assert_int_equal(z.offset, -5 * 3600);
    assert_true(epoch_of("2026-07-04T12:00:00@America/New_York") == 1783180800);
    feel_zone_cache_free();
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_date_text),
        cmocka_unit_test(test_leap_years),
        cmocka_unit_test(test_epoch_days),
        cmocka_unit_test(test_time_text),
        cmocka_unit_test(test_datetime_text),
        cmocka_unit_test(test_duration_text),
        cmocka_unit_test(test_zone_offsets),
        cmocka_unit_test(test_dst_gap_and_overlap),
        cmocka_unit_test(test_epoch_conversion),
        cmocka_unit_test(test_date_arithmetic),
        cmocka_unit_test(test_datetime_arithmetic),
        cmocka_unit_test(test_time_arithmetic),
        cmocka_unit_test(test_duration_arithmetic),
        cmocka_unit_test(test_comparisons),
        cmocka_unit_test(test_calendar_helpers),
        cmocka_unit_test(test_duration_properties),
        cmocka_unit_test(test_time_make),
        cmocka_unit_test(test_zone_cache_threads),
        cmocka_unit_test(test_zone_load_out_of_memory),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    feel_zone_cache_free();
    return rc;
}
