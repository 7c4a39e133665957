/*
 * temporal.c — FEEL's dates, times, dates and times and durations (see
 * temporal.h for the value model and the rules on zones).
 *
 * Calendar. Dates are proleptic Gregorian; conversions go through the day
 * count since 1970-01-01 ("epoch day") with Howard Hinnant's civil-date
 * algorithms, which are exact for negative years too. A date and time maps
 * to "local seconds" (epoch day * 86400 + second of day, as if it were UTC)
 * and, with its offset, to an instant (epoch seconds + nanoseconds).
 *
 * Zones. IANA ids are resolved from the system tz database: the TZif file
 * (RFC 8536) of the id is read once, its 64-bit transition table and local
 * time types kept, and its footer — a POSIX TZ rule such as
 * "CET-1CEST,M3.5.0,M10.5.0/3" — evaluated for instants after the last
 * transition (Debian's files end their tables in 2037; "slim" files much
 * earlier). Loaded zones stay in a process-wide list guarded by a mutex and
 * are never changed after loading, so lookups hand out const pointers that
 * remain valid until feel_zone_cache_free. No environment variable other
 * than TZDIR (where the files are, read-only) is consulted.
 *
 * Local time in a region is resolved as java.time does: with the offsets in
 * effect a day before and a day after, a local time valid under one of them
 * takes it; valid under both (an overlap) it takes the earlier one unless
 * the caller prefers the later; valid under neither (a gap) it is moved
 * forward by the gap's length.
 *
 * Durations are normalised like java.time.Duration (seconds, nanos in
 * 0..10^9-1). Arithmetic that needs more than 64 bits goes through
 * __int128 so every overflow is detected and reported as BT_EEVAL.
 */
#include "feel/temporal.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define YEAR_MIN    (-999999999LL)
#define YEAR_MAX    999999999LL
#define OFFSET_MAX  (18 * 3600)
#define NANOS       1000000000LL
#define DAY_SECONDS 86400LL
#define DAY_NANOS   (DAY_SECONDS * NANOS)

typedef __int128 i128;

static int64_t floor_div(int64_t a, int64_t b) {
    int64_t q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

static int64_t floor_mod(int64_t a, int64_t b) {
    return a - floor_div(a, b) * b;
}

static i128 floor_div128(i128 a, i128 b) {
    i128 q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

/* ---- calendar ----------------------------------------------------------- */

bool feel_year_is_leap(int64_t year) {
    return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

int feel_month_days(int64_t year, int month) {
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (month < 1 || month > 12)
        return 0;
    return month == 2 && feel_year_is_leap(year) ? 29 : days[month - 1];
}

static int64_t days_from_civil(int64_t y, int m, int d) {
    y -= m <= 2;
    int64_t era = floor_div(y, 400);
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d) {
    z += 719468;
    int64_t era = floor_div(z, 146097);
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

int feel_date_make(int64_t year, int64_t month, int64_t day, feel_date *out) {
    if (year < YEAR_MIN || year > YEAR_MAX || month < 1 || month > 12 || day < 1 ||
        day > feel_month_days(year, (int)month))
        return BT_EINVAL;
    out->year = (int32_t)year;
    out->month = (int8_t)month;
    out->day = (int8_t)day;
    return BT_OK;
}

int64_t feel_date_to_epoch_day(const feel_date *d) {
    return days_from_civil(d->year, d->month, d->day);
}

int feel_date_from_epoch_day(int64_t epoch_day, feel_date *out) {
    /* +-999999999 years is about +-3.66e11 days; keep the arithmetic safe. */
    if (epoch_day < -400000000000LL || epoch_day > 400000000000LL)
        return BT_EEVAL;
    int64_t y;
    int m, d;
    civil_from_days(epoch_day, &y, &m, &d);
    if (y < YEAR_MIN || y > YEAR_MAX)
        return BT_EEVAL;
    out->year = (int32_t)y;
    out->month = (int8_t)m;
    out->day = (int8_t)d;
    return BT_OK;
}

/* 0 = Sunday .. 6 = Saturday (POSIX TZ rules count this way). */
static int weekday_sun0(int64_t epoch_day) {
    return (int)floor_mod(epoch_day + 4, 7);
}

/* ---- the tz database: loading TZif files ---------------------------------- */

/* A POSIX TZ rule (the footer of a TZif file): standard offset, and when
 * has_dst the DST offset with its start and end rules. Offsets are seconds
 * east of UTC. */
typedef struct tz_rule_date {
    char kind;    /* 'J': Julian day 1..365 without Feb 29; 'D': day 0..365; 'M' */
    int day;      /* J / D day */
    int month;    /* M: 1..12 */
    int week;     /* M: 1..5 (5 = last) */
    int weekday;  /* M: 0 = Sunday */
    int32_t time; /* local seconds after midnight, may be negative or > 24h */
} tz_rule_date;

typedef struct tz_rule {
    int32_t std_offset;
    bool has_dst;
    int32_t dst_offset;
    tz_rule_date start, end;
} tz_rule;

typedef struct tz_zone {
    char id[FEEL_ZONE_ID_MAX];
    int count;      /* transitions */
    int64_t *times; /* ascending instants */
    uint8_t *types; /* index into offsets for each transition */
    int type_count;
    int32_t *offsets; /* UT offset of each local time type */
    bool has_rule;
    tz_rule rule;
    struct tz_zone *next;
} tz_zone;

static pthread_mutex_t tz_lock = PTHREAD_MUTEX_INITIALIZER;
static tz_zone *tz_zones;

static uint32_t be32(const unsigned char *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const unsigned char *p) {
    return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

/* Parses "[+-]h[:mm[:ss]]" at *p; hours up to 167. Returns false if bad. */
static bool tz_rule_time(const char **p, int32_t *out) {
    const char *s = *p;
    int sign = 1;
    if (*s == '+' || *s == '-')
        sign = *s++ == '-' ? -1 : 1;
    if (*s < '0' || *s > '9')
        return false;
    int32_t parts[3] = {0, 0, 0};
    for (int i = 0; i < 3; i++) {
        if (*s < '0' || *s > '9')
            return false;
        int v = 0, digits = 0;
        while (*s >= '0' && *s <= '9' && digits < 3)
            v = v * 10 + (*s++ - '0'), digits++;
        parts[i] = v;
        if (*s != ':')
            break;
        s++;
    }
    if (parts[0] > 167 || parts[1] > 59 || parts[2] > 59)
        return false;
    *out = sign * (parts[0] * 3600 + parts[1] * 60 + parts[2]);
    *p = s;
    return true;
}

/* Skips a zone abbreviation: alphabetic, or <...> quoted. */
static bool tz_rule_name(const char **p) {
    const char *s = *p;
    if (*s == '<') {
        while (*s && *s != '>')
            s++;
        if (*s != '>')
            return false;
        s++;
    } else {
        while ((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z'))
            s++;
    }
    if (s - *p < 3)
        return false;
    *p = s;
    return true;
}

static bool tz_rule_number(const char **p, int lo, int hi, int *out) {
    const char *s = *p;
    int v = 0, digits = 0;
    while (*s >= '0' && *s <= '9' && digits < 4)
        v = v * 10 + (*s++ - '0'), digits++;
    if (digits == 0 || v < lo || v > hi)
        return false;
    *out = v;
    *p = s;
    return true;
}

static bool tz_rule_date_parse(const char **p, tz_rule_date *out) {
    const char *s = *p;
    out->time = 7200;
    if (*s == 'M') {
        s++;
        out->kind = 'M';
        if (!tz_rule_number(&s, 1, 12, &out->month) || *s++ != '.' ||
            !tz_rule_number(&s, 1, 5, &out->week) || *s++ != '.' ||
            !tz_rule_number(&s, 0, 6, &out->weekday))
            return false;
    } else if (*s == 'J') {
        s++;
        out->kind = 'J';
        if (!tz_rule_number(&s, 1, 365, &out->day))
            return false;
    } else {
        out->kind = 'D';
        if (!tz_rule_number(&s, 0, 365, &out->day))
            return false;
    }
    if (*s == '/') {
        s++;
        if (!tz_rule_time(&s, &out->time))
            return false;
    }
    *p = s;
    return true;
}

/* Parses a POSIX TZ string. POSIX offsets count west of UTC: negate. */
static bool tz_rule_parse(const char *s, tz_rule *r) {
    memset(r, 0, sizeof *r);
    int32_t off;
    if (!tz_rule_name(&s) || !tz_rule_time(&s, &off))
        return false;
    r->std_offset = -off;
    if (*s == '\0')
        return true;
    if (!tz_rule_name(&s))
        return false;
    r->has_dst = true;
    r->dst_offset = r->std_offset + 3600;
    if (*s != ',' && *s != '\0') {
        if (!tz_rule_time(&s, &off))
            return false;
        r->dst_offset = -off;
    }
    if (*s == '\0') {
        /* No rule given: POSIX leaves it implementation-defined; use the
         * US rules, as glibc does. */
        r->start = (tz_rule_date){'M', 0, 3, 2, 0, 7200};
        r->end = (tz_rule_date){'M', 0, 11, 1, 0, 7200};
        return true;
    }
    if (*s++ != ',' || !tz_rule_date_parse(&s, &r->start) || *s++ != ',' ||
        !tz_rule_date_parse(&s, &r->end))
        return false;
    return *s == '\0';
}

/* The local seconds at which a rule date falls in year. */
static int64_t tz_rule_local(const tz_rule_date *rd, int64_t year) {
    int64_t day;
    if (rd->kind == 'J') {
        day = days_from_civil(year, 1, 1) + rd->day - 1;
        if (feel_year_is_leap(year) && rd->day >= 60)
            day++;
    } else if (rd->kind == 'D') {
        day = days_from_civil(year, 1, 1) + rd->day;
    } else {
        int64_t first = days_from_civil(year, rd->month, 1);
        int dom = 1 + (rd->weekday - weekday_sun0(first) + 7) % 7 + (rd->week - 1) * 7;
        while (dom > feel_month_days(year, rd->month))
            dom -= 7;
        day = first + dom - 1;
    }
    return day * DAY_SECONDS + rd->time;
}

static int32_t tz_rule_offset_at(const tz_rule *r, int64_t t) {
    if (!r->has_dst)
        return r->std_offset;
    int64_t y;
    int m, d;
    civil_from_days(floor_div(t + r->std_offset, DAY_SECONDS), &y, &m, &d);
    /* The start is given in standard local time, the end in DST local time. */
    int64_t start = tz_rule_local(&r->start, y) - r->std_offset;
    int64_t end = tz_rule_local(&r->end, y) - r->dst_offset;
    bool dst = start < end ? (t >= start && t < end) : !(t >= end && t < start);
    return dst ? r->dst_offset : r->std_offset;
}

static int32_t tz_offset_at(const tz_zone *z, int64_t t) {
    if (z->count == 0 || t >= z->times[z->count - 1]) {
        if (z->has_rule)
            return tz_rule_offset_at(&z->rule, t);
        if (z->count == 0)
            return z->offsets[0];
        return z->offsets[z->types[z->count - 1]];
    }
    if (t < z->times[0])
        return z->offsets[0];
    int lo = 0, hi = z->count - 1; /* times[lo] <= t < times[hi] */
    while (hi - lo > 1) {
        int mid = lo + (hi - lo) / 2;
        if (z->times[mid] <= t)
            lo = mid;
        else
            hi = mid;
    }
    return z->offsets[z->types[lo]];
}

/* The standard offset under the zone's current rules. */
static int32_t tz_standard_offset(const tz_zone *z) {
    if (z->has_rule)
        return z->rule.std_offset;
    return z->count > 0 ? z->offsets[z->types[z->count - 1]] : z->offsets[0];
}

static void tz_zone_free(tz_zone *z) {
    if (z == NULL)
        return;
    bt_free(z->times);
    bt_free(z->types);
    bt_free(z->offsets);
    bt_free(z);
}

/* Parses a TZif image into a new zone. BT_EINVAL when it is not one. */
static int tz_zone_parse(const unsigned char *buf, size_t len, tz_zone **out) {
    if (len < 44 || memcmp(buf, "TZif", 4) != 0)
        return BT_EINVAL;
    int version = buf[4] == 0 ? 1 : buf[4] - '0';
    size_t time_size = 4, pos = 0;
    uint32_t isut, isstd, leap, timecnt, typecnt, charcnt;
    for (int pass = 0;; pass++) {
        if (pos + 44 > len || memcmp(buf + pos, "TZif", 4) != 0)
            return BT_EINVAL;
        const unsigned char *h = buf + pos + 20;
        isut = be32(h), isstd = be32(h + 4), leap = be32(h + 8);
        timecnt = be32(h + 12), typecnt = be32(h + 16), charcnt = be32(h + 20);
        if (typecnt == 0 || typecnt > 256 || timecnt > 100000 || leap > 100000 ||
            charcnt > 100000 || isut > typecnt || isstd > typecnt)
            return BT_EINVAL;
        pos += 44;
        size_t block = timecnt * time_size + timecnt + typecnt * 6 + charcnt +
                       leap * (time_size + 4) + isstd + isut;
        if (pos + block > len)
            return BT_EINVAL;
        if (pass == 0 && version >= 2) {
            pos += block;
            time_size = 8;
            continue;
        }
        break;
    }
    tz_zone *z = bt_calloc(1, sizeof *z);
    if (z == NULL)
        return BT_ENOMEM;
    z->count = (int)timecnt;
    z->type_count = (int)typecnt;
    z->times = bt_malloc((timecnt ? timecnt : 1) * sizeof *z->times);
    z->types = bt_malloc(timecnt ? timecnt : 1);
    z->offsets = bt_malloc(typecnt * sizeof *z->offsets);
    if (z->times == NULL || z->types == NULL || z->offsets == NULL) {
        tz_zone_free(z);
        return BT_ENOMEM;
    }
    const unsigned char *p = buf + pos;
    for (uint32_t i = 0; i < timecnt; i++, p += time_size)
        z->times[i] = time_size == 8 ? be64(p) : (int64_t)(int32_t)be32(p);
    for (uint32_t i = 0; i < timecnt; i++) {
        z->types[i] = *p++;
        if (z->types[i] >= typecnt || (i > 0 && z->times[i] <= z->times[i - 1])) {
            tz_zone_free(z);
            return BT_EINVAL;
        }
    }
    for (uint32_t i = 0; i < typecnt; i++, p += 6) {
        int32_t off = (int32_t)be32(p);
        if (off < -25 * 3600 || off > 26 * 3600) {
            tz_zone_free(z);
            return BT_EINVAL;
        }
        z->offsets[i] = off;
    }
    p += charcnt + leap * (time_size + 4) + isstd + isut;
    /* The footer: "\n<POSIX TZ>\n" (version 2 and later). */
    size_t rest = len - (size_t)(p - buf);
    if (version >= 2 && rest >= 2 && p[0] == '\n') {
        const unsigned char *nl = memchr(p + 1, '\n', rest - 1);
        if (nl != NULL && nl - p - 1 > 0 && nl - p - 1 < 128) {
            char tz[128];
            memcpy(tz, p + 1, (size_t)(nl - p - 1));
            tz[nl - p - 1] = '\0';
            z->has_rule = tz_rule_parse(tz, &z->rule);
        }
    }
    *out = z;
    return BT_OK;
}

/* A region id is a relative path of [A-Za-z0-9_+-] names separated by '/';
 * "right/" zones count leap seconds and are refused. */
static bool tz_id_valid(const char *id, size_t n) {
    if (n == 0 || n >= FEEL_ZONE_ID_MAX || id[0] == '/' || id[n - 1] == '/')
        return false;
    if (n >= 6 && memcmp(id, "right/", 6) == 0)
        return false;
    size_t name_len = 0;
    for (size_t i = 0; i < n; i++) {
        char c = id[i];
        if (c == '/') {
            if (name_len == 0)
                return false;
            name_len = 0;
            continue;
        }
        bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '-' || c == '+' || c == '.';
        if (!ok)
            return false;
        if (c == '.' && (name_len == 0))
            return false; /* no ".", "..", hidden files */
        name_len++;
    }
    return true;
}

static int tz_zone_load(const char *id, tz_zone **out) {
    const char *dir = getenv("TZDIR");
    if (dir == NULL || dir[0] == '\0')
        dir = "/usr/share/zoneinfo";
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, id);
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return BT_EINVAL;
    size_t cap = 4096, len = 0;
    unsigned char *buf = bt_malloc(cap);
    int rc = buf == NULL ? BT_ENOMEM : BT_OK;
    while (rc == BT_OK) {
        if (len == cap) {
            if (cap >= (1u << 20)) {
                rc = BT_EINVAL; /* no TZif file is this large */
                break;
            }
            unsigned char *bigger = bt_realloc(buf, cap * 2);
            if (bigger == NULL) {
                rc = BT_ENOMEM;
                break;
            }
            buf = bigger;
            cap *= 2;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        if (got == 0) {
            if (ferror(f))
                rc = BT_EINVAL; /* e.g. a directory */
            break;
        }
        len += got;
    }
    fclose(f);
    tz_zone *z = NULL;
    if (rc == BT_OK)
        rc = tz_zone_parse(buf, len, &z);
    bt_free(buf);
    if (rc != BT_OK)
        return rc;
    snprintf(z->id, sizeof z->id, "%s", id);
    *out = z;
    return BT_OK;
}

/* Finds or loads the zone of id (NUL-terminated, validated). The result
 * stays valid until feel_zone_cache_free. */
static int tz_zone_get(const char *id, const tz_zone **out) {
    pthread_mutex_lock(&tz_lock);
    tz_zone *z = tz_zones;
    while (z != NULL && strcmp(z->id, id) != 0)
        z = z->next;
    int rc = BT_OK;
    if (z == NULL) {
        rc = tz_zone_load(id, &z);
        if (rc == BT_OK) {
            z->next = tz_zones;
            tz_zones = z;
        }
    }
    pthread_mutex_unlock(&tz_lock);
    if (rc == BT_OK)
        *out = z;
    return rc;
}

void feel_zone_cache_free(void) {
    pthread_mutex_lock(&tz_lock);
    while (tz_zones != NULL) {
        tz_zone *next = tz_zones->next;
        tz_zone_free(tz_zones);
        tz_zones = next;
    }
    pthread_mutex_unlock(&tz_lock);
}

/* ---- zones --------------------------------------------------------------------- */

int feel_zone_from_offset(int32_t seconds, feel_zone *out) {
    if (seconds < -OFFSET_MAX || seconds > OFFSET_MAX)
        return BT_EINVAL;
    memset(out, 0, sizeof *out);
    out->kind = FEEL_ZONE_OFFSET;
    out->offset = seconds;
    return BT_OK;
}

int feel_zone_from_id(const char *id, size_t n, feel_zone *out) {
    if (id == NULL)
        return BT_EINVAL;
    if (n == 1 && id[0] == 'Z')
        return feel_zone_from_offset(0, out);
    if (!tz_id_valid(id, n))
        return BT_EINVAL;
    char name[FEEL_ZONE_ID_MAX];
    memcpy(name, id, n);
    name[n] = '\0';
    const tz_zone *z;
    int rc = tz_zone_get(name, &z);
    if (rc != BT_OK)
        return rc;
    memset(out, 0, sizeof *out);
    out->kind = FEEL_ZONE_ID;
    out->offset = tz_standard_offset(z);
    memcpy(out->id, name, n + 1);
    return BT_OK;
}

int feel_zone_offset_at(const feel_zone *zone, int64_t epoch_second, int32_t *offset) {
    if (zone->kind == FEEL_ZONE_OFFSET) {
        *offset = zone->offset;
        return BT_OK;
    }
    if (zone->kind != FEEL_ZONE_ID)
        return BT_EINVAL;
    const tz_zone *z;
    int rc = tz_zone_get(zone->id, &z);
    if (rc != BT_OK)
        return rc;
    *offset = tz_offset_at(z, epoch_second);
    return BT_OK;
}

/* Resolves local seconds in region z to an offset (see the file comment).
 * preferred: an offset to keep in an overlap, or INT32_MIN. Returns the
 * offset; *shift is how far the local time moves forward (a gap). */
static int32_t tz_resolve_local(const tz_zone *z, int64_t local, int32_t preferred,
                                int64_t *shift) {
    int32_t before = tz_offset_at(z, local - DAY_SECONDS);
    int32_t after = tz_offset_at(z, local + DAY_SECONDS);
    *shift = 0;
    if (before == after)
        return before;
    bool before_ok = tz_offset_at(z, local - before) == before;
    bool after_ok = tz_offset_at(z, local - after) == after;
    if (before_ok && after_ok)
        return preferred == after ? after : before;
    if (before_ok)
        return before;
    if (after_ok)
        return after;
    /* A gap: the instant the local time has under the earlier offset,
     * shown in the later offset. */
    *shift = (int64_t)after - before;
    return after;
}

/* ---- date and time helpers ------------------------------------------------------- */

static int64_t time_nano_of_day(const feel_time *t) {
    return ((int64_t)t->hour * 3600 + t->minute * 60 + t->second) * NANOS + t->nanosecond;
}

static void time_set_nano_of_day(feel_time *t, int64_t nod) {
    int64_t s = nod / NANOS;
    t->nanosecond = (int32_t)(nod % NANOS);
    t->hour = (int8_t)(s / 3600);
    t->minute = (int8_t)(s / 60 % 60);
    t->second = (int8_t)(s % 60);
}

static int64_t datetime_local_seconds(const feel_datetime *dt) {
    return feel_date_to_epoch_day(&dt->date) * DAY_SECONDS + time_nano_of_day(&dt->time) / NANOS;
}

/* Sets the local fields from local seconds + nanos; the zone is untouched. */
static int datetime_set_local(feel_datetime *dt, int64_t local, int32_t nanos) {
    int rc = feel_date_from_epoch_day(floor_div(local, DAY_SECONDS), &dt->date);
    if (rc != BT_OK)
        return rc;
    time_set_nano_of_day(&dt->time, floor_mod(local, DAY_SECONDS) * NANOS + nanos);
    return BT_OK;
}

static bool time_valid(const feel_time *t) {
    return t->hour >= 0 && t->hour <= 23 && t->minute >= 0 && t->minute <= 59 && t->second >= 0 &&
           t->second <= 59 && t->nanosecond >= 0 && t->nanosecond < NANOS;
}

/* Resolves a region zone of dt at its local fields (preferred: see
 * tz_resolve_local); checks an offset zone's range. */
static int datetime_resolve_zone(feel_datetime *dt, int32_t preferred) {
    feel_zone *zone = &dt->time.zone;
    if (zone->kind == FEEL_ZONE_NONE)
        return BT_OK;
    if (zone->kind == FEEL_ZONE_OFFSET)
        return zone->offset >= -OFFSET_MAX && zone->offset <= OFFSET_MAX ? BT_OK : BT_EINVAL;
    if (zone->kind != FEEL_ZONE_ID)
        return BT_EINVAL;
    if (!tz_id_valid(zone->id, strnlen(zone->id, FEEL_ZONE_ID_MAX)))
        return BT_EINVAL;
    const tz_zone *z;
    int rc = tz_zone_get(zone->id, &z);
    if (rc != BT_OK)
        return rc;
    int64_t local = datetime_local_seconds(dt), shift;
    zone->offset = tz_resolve_local(z, local, preferred, &shift);
    if (shift != 0)
        return datetime_set_local(dt, local + shift, dt->time.nanosecond);
    return BT_OK;
}

int feel_time_make(int64_t hour, int64_t minute, int64_t second, int64_t nanosecond,
                   const feel_zone *zone, feel_time *out) {
    if (hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59 ||
        nanosecond < 0 || nanosecond >= NANOS)
        return BT_EINVAL;
    feel_time t;
    memset(&t, 0, sizeof t);
    t.hour = (int8_t)hour;
    t.minute = (int8_t)minute;
    t.second = (int8_t)second;
    t.nanosecond = (int32_t)nanosecond;
    if (zone != NULL && zone->kind != FEEL_ZONE_NONE) {
        if (zone->kind == FEEL_ZONE_OFFSET &&
            (zone->offset < -OFFSET_MAX || zone->offset > OFFSET_MAX))
            return BT_EINVAL;
        t.zone = *zone;
    }
    *out = t;
    return BT_OK;
}

int feel_datetime_combine(const feel_date *date, const feel_time *time, feel_datetime *out) {
    feel_datetime dt;
    dt.date = *date;
    dt.time = *time;
    int rc = feel_datetime_resolve(&dt);
    if (rc == BT_OK)
        *out = dt;
    return rc;
}

void feel_datetime_from_date(const feel_date *date, feel_datetime *out) {
    memset(out, 0, sizeof *out);
    out->date = *date;
}

int feel_datetime_resolve(feel_datetime *dt) {
    feel_date d;
    if (feel_date_make(dt->date.year, dt->date.month, dt->date.day, &d) != BT_OK ||
        !time_valid(&dt->time))
        return BT_EINVAL;
    return datetime_resolve_zone(dt, INT32_MIN);
}

/* ---- text: parsing ------------------------------------------------------------------ */

typedef struct scan {
    const char *s;
    size_t n, i;
} scan;

static bool scan_char(scan *sc, char c) {
    if (sc->i < sc->n && sc->s[sc->i] == c) {
        sc->i++;
        return true;
    }
    return false;
}

/* Exactly `count` digits. */
static bool scan_fixed(scan *sc, int count, int *out) {
    int v = 0;
    for (int k = 0; k < count; k++) {
        if (sc->i >= sc->n || sc->s[sc->i] < '0' || sc->s[sc->i] > '9')
            return false;
        v = v * 10 + (sc->s[sc->i++] - '0');
    }
    *out = v;
    return true;
}

/* One or more digits into an int64 (BT_EINVAL past max_digits). */
static bool scan_number(scan *sc, int max_digits, int64_t *out, int *digits) {
    int64_t v = 0;
    int k = 0;
    while (sc->i < sc->n && sc->s[sc->i] >= '0' && sc->s[sc->i] <= '9') {
        if (k == max_digits)
            return false;
        v = v * 10 + (sc->s[sc->i++] - '0');
        k++;
    }
    *out = v;
    if (digits != NULL)
        *digits = k;
    return k > 0;
}

static int scan_date(scan *sc, feel_date *out) {
    bool negative = false;
    if (scan_char(sc, '-'))
        negative = true;
    else
        scan_char(sc, '+');
    int64_t year;
    int digits, month, day;
    if (!scan_number(sc, 9, &year, &digits) || digits < 4 || !scan_char(sc, '-') ||
        !scan_fixed(sc, 2, &month) || !scan_char(sc, '-') || !scan_fixed(sc, 2, &day))
        return BT_EINVAL;
    return feel_date_make(negative ? -year : year, month, day, out);
}

/* "Z", "+hh:mm[:ss]" or "@region" up to the end, or nothing. */
static int scan_zone(scan *sc, feel_zone *out) {
    memset(out, 0, sizeof *out);
    if (sc->i == sc->n)
        return BT_OK;
    char c = sc->s[sc->i];
    if (c == 'Z') {
        sc->i++;
        return feel_zone_from_offset(0, out);
    }
    if (c == '@') {
        sc->i++;
        int rc = feel_zone_from_id(sc->s + sc->i, sc->n - sc->i, out);
        sc->i = sc->n;
        return rc == BT_ENOMEM ? rc : rc != BT_OK ? BT_EINVAL : BT_OK;
    }
    if (c != '+' && c != '-')
        return BT_EINVAL;
    sc->i++;
    int h, m, s = 0;
    if (!scan_fixed(sc, 2, &h) || !scan_char(sc, ':') || !scan_fixed(sc, 2, &m) || m > 59)
        return BT_EINVAL;
    if (scan_char(sc, ':') && (!scan_fixed(sc, 2, &s) || s > 59))
        return BT_EINVAL;
    int32_t off = h * 3600 + m * 60 + s;
    return feel_zone_from_offset(c == '-' ? -off : off, out);
}

static int scan_time(scan *sc, feel_time *out) {
    int h, m, s;
    if (!scan_fixed(sc, 2, &h) || !scan_char(sc, ':') || !scan_fixed(sc, 2, &m) ||
        !scan_char(sc, ':') || !scan_fixed(sc, 2, &s))
        return BT_EINVAL;
    int64_t nanos = 0;
    if (scan_char(sc, '.')) {
        int digits;
        if (!scan_number(sc, 9, &nanos, &digits))
            return BT_EINVAL;
        for (; digits < 9; digits++)
            nanos *= 10;
    }
    feel_zone zone;
    int rc = scan_zone(sc, &zone);
    if (rc != BT_OK)
        return rc;
    return feel_time_make(h, m, s, nanos, &zone, out);
}

int feel_date_parse(const char *s, size_t n, feel_date *out) {
    scan sc = {s, n, 0};
    feel_date d;
    int rc = scan_date(&sc, &d);
    if (rc != BT_OK || sc.i != n)
        return BT_EINVAL;
    *out = d;
    return BT_OK;
}

int feel_time_parse(const char *s, size_t n, feel_time *out) {
    scan sc = {s, n, 0};
    feel_time t;
    int rc = scan_time(&sc, &t);
    if (rc != BT_OK)
        return rc;
    if (sc.i != n)
        return BT_EINVAL;
    *out = t;
    return BT_OK;
}

int feel_datetime_parse(const char *s, size_t n, feel_datetime *out) {
    scan sc = {s, n, 0};
    feel_datetime dt;
    memset(&dt, 0, sizeof dt);
    int rc = scan_date(&sc, &dt.date);
    if (rc != BT_OK)
        return BT_EINVAL;
    if (sc.i < n) {
        if (!scan_char(&sc, 'T'))
            return BT_EINVAL;
        rc = scan_time(&sc, &dt.time);
        if (rc != BT_OK)
            return rc;
        if (sc.i != n)
            return BT_EINVAL;
        rc = datetime_resolve_zone(&dt, INT32_MIN);
        if (rc != BT_OK)
            return rc == BT_ENOMEM ? rc : BT_EINVAL;
    }
    *out = dt;
    return BT_OK;
}

/* Duration designators in the order ISO 8601 requires them. */
enum { DUR_Y, DUR_MO, DUR_W, DUR_D, DUR_H, DUR_MI, DUR_S, DUR_PARTS };

int feel_duration_parse(const char *s, size_t n, feel_duration_kind *kind, feel_dt_duration *dt,
                        feel_ym_duration *ym) {
    scan sc = {s, n, 0};
    bool negative = scan_char(&sc, '-');
    if (!scan_char(&sc, 'P'))
        return BT_EINVAL;
    int64_t value[DUR_PARTS] = {0};
    bool seen[DUR_PARTS] = {false};
    int64_t frac = 0;
    bool in_time = false, any = false, any_time = false;
    int last = -1;
    while (sc.i < n) {
        if (!in_time && scan_char(&sc, 'T')) {
            in_time = true;
            continue;
        }
        int64_t v;
        if (!scan_number(&sc, 18, &v, NULL))
            return BT_EINVAL;
        int64_t f = 0;
        bool has_frac = false;
        if (in_time && scan_char(&sc, '.')) {
            int digits;
            if (!scan_number(&sc, 9, &f, &digits))
                return BT_EINVAL;
            for (; digits < 9; digits++)
                f *= 10;
            has_frac = true;
        }
        if (sc.i >= n)
            return BT_EINVAL;
        char unit = s[sc.i++];
        int part;
        if (!in_time) {
            part = unit == 'Y'   ? DUR_Y
                   : unit == 'M' ? DUR_MO
                   : unit == 'W' ? DUR_W
                   : unit == 'D' ? DUR_D
                                 : -1;
        } else {
            part = unit == 'H' ? DUR_H : unit == 'M' ? DUR_MI : unit == 'S' ? DUR_S : -1;
        }
        if (part < 0 || part <= last || (has_frac && part != DUR_S))
            return BT_EINVAL;
        last = part;
        seen[part] = true;
        value[part] = v;
        if (has_frac)
            frac = f;
        any = true;
        any_time |= in_time;
    }
    if (!any || (in_time && !any_time))
        return BT_EINVAL;
    bool years_months = seen[DUR_Y] || seen[DUR_MO];
    if (years_months) {
        if (seen[DUR_W] || seen[DUR_D] || in_time)
            return BT_EINVAL;
        i128 months = (i128)value[DUR_Y] * 12 + value[DUR_MO];
        if (months > INT64_MAX)
            return BT_EEVAL;
        *kind = FEEL_DURATION_YEARS_MONTHS;
        ym->months = negative ? -(int64_t)months : (int64_t)months;
        return BT_OK;
    }
    i128 seconds = ((i128)value[DUR_W] * 7 + value[DUR_D]) * DAY_SECONDS +
                   (i128)value[DUR_H] * 3600 + (i128)value[DUR_MI] * 60 + value[DUR_S];
    i128 nanos = seconds * NANOS + frac;
    feel_dt_duration d;
    int rc = feel_dt_duration_from_nanos(negative ? -nanos : nanos, &d);
    if (rc != BT_OK)
        return rc;
    *kind = FEEL_DURATION_DAYS_TIME;
    *dt = d;
    return BT_OK;
}

/* ---- text: formatting -------------------------------------------------------------- */

int feel_date_format(const feel_date *d, char out[FEEL_TEMPORAL_TEXT_MAX]) {
    if (d->year > 9999)
        return snprintf(out, FEEL_TEMPORAL_TEXT_MAX, "+%d-%02d-%02d", d->year, d->month, d->day);
    if (d->year < 0)
        return snprintf(out, FEEL_TEMPORAL_TEXT_MAX, "-%04lld-%02d-%02d", -(long long)d->year,
                        d->month, d->day);
    return snprintf(out, FEEL_TEMPORAL_TEXT_MAX, "%04d-%02d-%02d", d->year, d->month, d->day);
}

static int zone_format(const feel_zone *z, char *out, size_t cap) {
    if (z->kind == FEEL_ZONE_ID)
        return snprintf(out, cap, "@%s", z->id);
    if (z->kind != FEEL_ZONE_OFFSET)
        return snprintf(out, cap, "%s", "");
    if (z->offset == 0)
        return snprintf(out, cap, "Z");
    int32_t a = z->offset < 0 ? -z->offset : z->offset;
    char sign = z->offset < 0 ? '-' : '+';
    if (a % 60 != 0)
        return snprintf(out, cap, "%c%02d:%02d:%02d", sign, a / 3600, a / 60 % 60, a % 60);
    return snprintf(out, cap, "%c%02d:%02d", sign, a / 3600, a / 60 % 60);
}

/* "hh:mm:ss[.fff]" without the zone. */
static int time_format_local(const feel_time *t, char *out, size_t cap) {
    int len = snprintf(out, cap, "%02d:%02d:%02d", t->hour, t->minute, t->second);
    if (t->nanosecond != 0) {
        char frac[16];
        snprintf(frac, sizeof frac, "%09d", (int)t->nanosecond);
        int k = 9;
        while (frac[k - 1] == '0')
            k--;
        frac[k] = '\0';
        len += snprintf(out + len, cap - (size_t)len, ".%s", frac);
    }
    return len;
}

int feel_time_format(const feel_time *t, char out[FEEL_TEMPORAL_TEXT_MAX]) {
    int len = time_format_local(t, out, FEEL_TEMPORAL_TEXT_MAX);
    return len + zone_format(&t->zone, out + len, (size_t)(FEEL_TEMPORAL_TEXT_MAX - len));
}

int feel_datetime_format(const feel_datetime *dt, char out[FEEL_TEMPORAL_TEXT_MAX]) {
    int len = feel_date_format(&dt->date, out);
    out[len++] = 'T';
    len += time_format_local(&dt->time, out + len, (size_t)(FEEL_TEMPORAL_TEXT_MAX - len));
    return len + zone_format(&dt->time.zone, out + len, (size_t)(FEEL_TEMPORAL_TEXT_MAX - len));
}

int feel_dt_duration_format(const feel_dt_duration *d, char out[FEEL_TEMPORAL_TEXT_MAX]) {
    i128 total = feel_dt_duration_total_nanos(d);
    if (total == 0)
        return snprintf(out, FEEL_TEMPORAL_TEXT_MAX, "PT0S");
    bool negative = total < 0;
    unsigned __int128 mag = negative ? (unsigned __int128)(-total) : (unsigned __int128)total;
    int64_t nanos = (int64_t)(mag % NANOS);
    unsigned __int128 secs = mag / NANOS;
    long long days = (long long)(secs / DAY_SECONDS);
    int rem = (int)(secs % DAY_SECONDS);
    int h = rem / 3600, m = rem / 60 % 60, s = rem % 60;
    int len = snprintf(out, FEEL_TEMPORAL_TEXT_MAX, "%sP", negative ? "-" : "");
    if (days > 0)
        len += snprintf(out + len, (size_t)(FEEL_TEMPORAL_TEXT_MAX - len), "%lldD", days);
    if (h || m || s || nanos) {
        out[len++] = 'T';
        if (h)
            len += snprintf(out + len, (size_t)(FEEL_TEMPORAL_TEXT_MAX - len), "%dH", h);
        if (m)
            len += snprintf(out + len, (size_t)(FEEL_TEMPORAL_TEXT_MAX - len), "%dM", m);
        if (s || nanos) {
            len += snprintf(out + len, (size_t)(FEEL_TEMPORAL_TEXT_MAX - len), "%d", s);
            if (nanos) {
                char frac[16];
                snprintf(frac, sizeof frac, "%09lld", (long long)nanos);
                int k = 9;
                while (frac[k - 1] == '0')
                    k--;
                frac[k] = '\0';
                len += snprintf(out + len, (size_t)(FEEL_TEMPORAL_TEXT_MAX - len), ".%s", frac);
            }
            out[len++] = 'S';
        }
    }
    out[len] = '\0';
    return len;
}

int feel_ym_duration_format(const feel_ym_duration *d, char out[FEEL_TEMPORAL_TEXT_MAX]) {
    if (d->months == 0)
        return snprintf(out, FEEL_TEMPORAL_TEXT_MAX, "P0M");
    bool negative = d->months < 0;
    uint64_t mag = negative ? -(uint64_t)d->months : (uint64_t)d->months;
    unsigned long long years = mag / 12, months = mag % 12;
    int len = snprintf(out, FEEL_TEMPORAL_TEXT_MAX, "%sP", negative ? "-" : "");
    if (years)
        len += snprintf(out + len, (size_t)(FEEL_TEMPORAL_TEXT_MAX - len), "%lluY", years);
    if (months)
        len += snprintf(out + len, (size_t)(FEEL_TEMPORAL_TEXT_MAX - len), "%lluM", months);
    return len;
}

/* ---- instants -------------------------------------------------------------------------- */

int feel_datetime_to_epoch(const feel_datetime *dt, int64_t *epoch_second, int32_t *nanos) {
    if (dt->time.zone.kind == FEEL_ZONE_NONE)
        return BT_EINVAL;
    *epoch_second = datetime_local_seconds(dt) - dt->time.zone.offset;
    *nanos = dt->time.nanosecond;
    return BT_OK;
}

int feel_datetime_from_epoch(int64_t epoch_second, int32_t nanos, const feel_zone *zone,
                             feel_datetime *out) {
    if (nanos < 0 || nanos >= NANOS)
        return BT_EINVAL;
    feel_datetime dt;
    memset(&dt, 0, sizeof dt);
    if (zone == NULL || zone->kind == FEEL_ZONE_NONE) {
        dt.time.zone.kind = FEEL_ZONE_OFFSET;
    } else {
        dt.time.zone = *zone;
        int rc = feel_zone_offset_at(zone, epoch_second, &dt.time.zone.offset);
        if (rc != BT_OK)
            return rc;
    }
    if (epoch_second > INT64_MAX / 2 || epoch_second < INT64_MIN / 2)
        return BT_EEVAL;
    int rc = datetime_set_local(&dt, epoch_second + dt.time.zone.offset, nanos);
    if (rc != BT_OK)
        return rc;
    *out = dt;
    return BT_OK;
}

int feel_datetime_from_epoch_ms(int64_t epoch_ms, feel_datetime *out) {
    return feel_datetime_from_epoch(floor_div(epoch_ms, 1000),
                                    (int32_t)floor_mod(epoch_ms, 1000) * 1000000, NULL, out);
}

/* ---- comparison -------------------------------------------------------------------------- */

static int cmp128(i128 a, i128 b) {
    return a < b ? -1 : a > b ? 1 : 0;
}

int feel_date_cmp(const feel_date *a, const feel_date *b) {
    return cmp128(feel_date_to_epoch_day(a), feel_date_to_epoch_day(b));
}

/* Nanoseconds on the time line (zoned) or of the local fields. */
static i128 datetime_nanos(const feel_datetime *dt, bool utc) {
    int64_t s = datetime_local_seconds(dt) - (utc ? dt->time.zone.offset : 0);
    return (i128)s * NANOS + dt->time.nanosecond;
}

static i128 time_nanos(const feel_time *t, bool utc) {
    return (i128)time_nano_of_day(t) - (utc ? (i128)t->zone.offset * NANOS : 0);
}

int feel_time_cmp(const feel_time *a, const feel_time *b, int *result) {
    bool za = a->zone.kind != FEEL_ZONE_NONE, zb = b->zone.kind != FEEL_ZONE_NONE;
    if (za != zb)
        return BT_EEVAL;
    *result = cmp128(time_nanos(a, za), time_nanos(b, zb));
    return BT_OK;
}

int feel_datetime_cmp(const feel_datetime *a, const feel_datetime *b, int *result) {
    bool za = a->time.zone.kind != FEEL_ZONE_NONE, zb = b->time.zone.kind != FEEL_ZONE_NONE;
    if (za != zb)
        return BT_EEVAL;
    *result = cmp128(datetime_nanos(a, za), datetime_nanos(b, zb));
    return BT_OK;
}

int feel_dt_duration_cmp(const feel_dt_duration *a, const feel_dt_duration *b) {
    return cmp128(feel_dt_duration_total_nanos(a), feel_dt_duration_total_nanos(b));
}

int feel_ym_duration_cmp(const feel_ym_duration *a, const feel_ym_duration *b) {
    return cmp128(a->months, b->months);
}

/* ---- durations --------------------------------------------------------------------------- */

i128 feel_dt_duration_total_nanos(const feel_dt_duration *d) {
    return (i128)d->seconds * NANOS + d->nanos;
}

int feel_dt_duration_from_nanos(i128 nanos, feel_dt_duration *out) {
    i128 s = floor_div128(nanos, NANOS);
    if (s < INT64_MIN || s > INT64_MAX)
        return BT_EEVAL;
    out->seconds = (int64_t)s;
    out->nanos = (int32_t)(nanos - s * NANOS);
    return BT_OK;
}

int feel_dt_duration_add(const feel_dt_duration *a, const feel_dt_duration *b,
                         feel_dt_duration *out) {
    return feel_dt_duration_from_nanos(
        feel_dt_duration_total_nanos(a) + feel_dt_duration_total_nanos(b), out);
}

int feel_dt_duration_sub(const feel_dt_duration *a, const feel_dt_duration *b,
                         feel_dt_duration *out) {
    return feel_dt_duration_from_nanos(
        feel_dt_duration_total_nanos(a) - feel_dt_duration_total_nanos(b), out);
}

feel_dt_duration feel_dt_duration_neg(const feel_dt_duration *a) {
    feel_dt_duration r;
    if (feel_dt_duration_from_nanos(-feel_dt_duration_total_nanos(a), &r) != BT_OK) {
        r.seconds = INT64_MAX;
        r.nanos = (int32_t)(NANOS - 1);
    }
    return r;
}

int feel_dt_duration_mul(const feel_dt_duration *d, int64_t num, int64_t den,
                         feel_dt_duration *out) {
    if (den == 0)
        return BT_EEVAL;
    typedef unsigned __int128 u128;
    i128 total = feel_dt_duration_total_nanos(d);
    bool negative = ((total < 0) != (num < 0)) != (den < 0);
    u128 a = total < 0 ? (u128)(-total) : (u128)total;
    u128 b = num < 0 ? (u128)(-(i128)num) : (u128)num;
    u128 c = den < 0 ? (u128)(-(i128)den) : (u128)den;
    /* a * b / c without overflow: (q c + r) b / c = q b + r b / c. */
    u128 q = a / c, r = a % c;
    const u128 limit = (u128)1 << 100; /* far beyond int64 seconds in nanos */
    if (b != 0 && q > limit / b)
        return BT_EEVAL;
    u128 rb = r * b; /* < c * b < 2^126 */
    u128 result = q * b + rb / c, rem = rb % c;
    if (2 * rem > c || (2 * rem == c && (result & 1)))
        result++;
    if (result > limit)
        return BT_EEVAL;
    return feel_dt_duration_from_nanos(negative ? -(i128)result : (i128)result, out);
}

int feel_dt_duration_div(const feel_dt_duration *a, const feel_dt_duration *b, double *out) {
    i128 nb = feel_dt_duration_total_nanos(b);
    if (nb == 0)
        return BT_EEVAL;
    *out = (double)feel_dt_duration_total_nanos(a) / (double)nb;
    return BT_OK;
}

int feel_ym_duration_add(const feel_ym_duration *a, const feel_ym_duration *b,
                         feel_ym_duration *out) {
    int64_t r;
    if (__builtin_add_overflow(a->months, b->months, &r))
        return BT_EEVAL;
    out->months = r;
    return BT_OK;
}

int feel_ym_duration_sub(const feel_ym_duration *a, const feel_ym_duration *b,
                         feel_ym_duration *out) {
    int64_t r;
    if (__builtin_sub_overflow(a->months, b->months, &r))
        return BT_EEVAL;
    out->months = r;
    return BT_OK;
}

int feel_ym_duration_mul(const feel_ym_duration *d, int64_t num, int64_t den,
                         feel_ym_duration *out) {
    if (den == 0)
        return BT_EEVAL;
    i128 x = (i128)d->months * num, y = den;
    if (y < 0)
        x = -x, y = -y;
    i128 r = floor_div128(2 * x + y, 2 * y); /* nearest, halves up */
    if (r < INT64_MIN || r > INT64_MAX)
        return BT_EEVAL;
    out->months = (int64_t)r;
    return BT_OK;
}

void feel_dt_duration_parts(const feel_dt_duration *d, int64_t *days, int *hours, int *minutes,
                            int *seconds, int32_t *nanos) {
    i128 total = feel_dt_duration_total_nanos(d);
    int sign = total < 0 ? -1 : 1;
    i128 mag = total < 0 ? -total : total;
    i128 secs = mag / NANOS;
    *days = sign * (int64_t)(secs / DAY_SECONDS);
    *hours = sign * (int)(secs % DAY_SECONDS / 3600);
    *minutes = sign * (int)(secs % 3600 / 60);
    *seconds = sign * (int)(secs % 60);
    *nanos = sign * (int32_t)(mag % NANOS);
}

void feel_ym_duration_parts(const feel_ym_duration *d, int64_t *years, int *months) {
    *years = d->months / 12;
    *months = (int)(d->months % 12);
}

/* ---- arithmetic on dates and times --------------------------------------------------------- */

/* (year, month) + months, with the day clamped to the new month's length. */
static int date_plus_months(const feel_date *d, int64_t months, feel_date *out) {
    i128 m = (i128)d->year * 12 + (d->month - 1) + months;
    i128 year = floor_div128(m, 12);
    if (year < YEAR_MIN || year > YEAR_MAX)
        return BT_EEVAL;
    int month = (int)(m - year * 12) + 1;
    int days = feel_month_days((int64_t)year, month);
    return feel_date_make((int64_t)year, month, d->day > days ? days : d->day, out);
}

int feel_date_add_dt(const feel_date *d, const feel_dt_duration *dur, feel_date *out) {
    i128 nanos = (i128)feel_date_to_epoch_day(d) * DAY_NANOS + feel_dt_duration_total_nanos(dur);
    i128 day = floor_div128(nanos, DAY_NANOS);
    if (day < INT64_MIN || day > INT64_MAX)
        return BT_EEVAL;
    return feel_date_from_epoch_day((int64_t)day, out);
}

int feel_date_add_ym(const feel_date *d, const feel_ym_duration *dur, feel_date *out) {
    return date_plus_months(d, dur->months, out);
}

int feel_date_sub(const feel_date *a, const feel_date *b, feel_dt_duration *out) {
    i128 days = (i128)feel_date_to_epoch_day(a) - feel_date_to_epoch_day(b);
    return feel_dt_duration_from_nanos(days * DAY_NANOS, out);
}

int feel_datetime_add_dt(const feel_datetime *dt, const feel_dt_duration *dur, feel_datetime *out) {
    bool timeline = dt->time.zone.kind == FEEL_ZONE_ID;
    i128 n = datetime_nanos(dt, timeline) + feel_dt_duration_total_nanos(dur);
    i128 s = floor_div128(n, NANOS);
    if (s < INT64_MIN / 2 || s > INT64_MAX / 2)
        return BT_EEVAL;
    int32_t nanos = (int32_t)(n - s * NANOS);
    if (timeline)
        return feel_datetime_from_epoch((int64_t)s, nanos, &dt->time.zone, out);
    feel_datetime r = *dt;
    int rc = datetime_set_local(&r, (int64_t)s, nanos);
    if (rc != BT_OK)
        return rc;
    *out = r;
    return BT_OK;
}

int feel_datetime_add_ym(const feel_datetime *dt, const feel_ym_duration *dur, feel_datetime *out) {
    feel_datetime r = *dt;
    int rc = date_plus_months(&dt->date, dur->months, &r.date);
    if (rc != BT_OK)
        return rc;
    rc = datetime_resolve_zone(&r, dt->time.zone.offset);
    if (rc != BT_OK)
        return rc;
    *out = r;
    return BT_OK;
}

int feel_datetime_sub(const feel_datetime *a, const feel_datetime *b, feel_dt_duration *out) {
    bool za = a->time.zone.kind != FEEL_ZONE_NONE, zb = b->time.zone.kind != FEEL_ZONE_NONE;
    if (za != zb)
        return BT_EEVAL;
    return feel_dt_duration_from_nanos(datetime_nanos(a, za) - datetime_nanos(b, zb), out);
}

int feel_time_add_dt(const feel_time *t, const feel_dt_duration *dur, feel_time *out) {
    i128 n = (i128)time_nano_of_day(t) + feel_dt_duration_total_nanos(dur) % DAY_NANOS;
    n = (n % DAY_NANOS + DAY_NANOS) % DAY_NANOS;
    feel_time r = *t;
    time_set_nano_of_day(&r, (int64_t)n);
    *out = r;
    return BT_OK;
}

int feel_time_sub(const feel_time *a, const feel_time *b, feel_dt_duration *out) {
    bool za = a->zone.kind != FEEL_ZONE_NONE, zb = b->zone.kind != FEEL_ZONE_NONE;
    if (za != zb)
        return BT_EEVAL;
    return feel_dt_duration_from_nanos(time_nanos(a, za) - time_nanos(b, zb), out);
}

/* ---- properties and helpers ------------------------------------------------------------------ */

int feel_date_weekday(const feel_date *d) {
    return (int)floor_mod(feel_date_to_epoch_day(d) + 3, 7) + 1;
}

int feel_date_day_of_year(const feel_date *d) {
    return (int)(feel_date_to_epoch_day(d) - days_from_civil(d->year, 1, 1)) + 1;
}

/* 53 when the year starts on a Thursday, or is leap and starts on a
 * Wednesday; 52 otherwise. */
static int iso_weeks_in_year(int64_t year) {
    feel_date jan1 = {(int32_t)year, 1, 1};
    int wd = feel_date_weekday(&jan1);
    return wd == 4 || (wd == 3 && feel_year_is_leap(year)) ? 53 : 52;
}

void feel_date_iso_week(const feel_date *d, int *week, int64_t *week_year) {
    int w = (feel_date_day_of_year(d) - feel_date_weekday(d) + 10) / 7;
    int64_t y = d->year;
    if (w < 1) {
        y--;
        w = iso_weeks_in_year(y);
    } else if (w > iso_weeks_in_year(y)) {
        y++;
        w = 1;
    }
    if (week != NULL)
        *week = w;
    if (week_year != NULL)
        *week_year = y;
}

const char *feel_weekday_name(int weekday) {
    static const char *const names[7] = {"Monday", "Tuesday",  "Wednesday", "Thursday",
                                         "Friday", "Saturday", "Sunday"};
    return weekday >= 1 && weekday <= 7 ? names[weekday - 1] : NULL;
}

const char *feel_month_name(int month) {
    static const char *const names[12] = {"January",   "February", "March",    "April",
                                          "May",       "June",     "July",     "August",
                                          "September", "October",  "November", "December"};
    return month >= 1 && month <= 12 ? names[month - 1] : NULL;
}

feel_ym_duration feel_ym_duration_between(const feel_date *from, const feel_date *to) {
    int64_t months =
        ((int64_t)to->year * 12 + to->month) - ((int64_t)from->year * 12 + from->month);
    int days = to->day - from->day;
    if (months > 0 && days < 0)
        months--;
    else if (months < 0 && days > 0)
        months++;
    return (feel_ym_duration){months};
}
