/*
 * base.c — errors, the allocation hook, byte buffers, clock and logging.
 *
 * The allocation hook counts allocations so tests can make the N-th fail
 * (SQLite's faultsim idea). Counting is a relaxed atomic: the server's
 * threads allocate too, and a test only needs the count to be exact in a
 * single-threaded scenario.
 */
#include "base.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- errors ------------------------------------------------------------ */

const char *bt_strerror(int code) {
    switch (code) {
    case BT_OK: return "OK";
    case BT_ENOMEM: return "ENOMEM";
    case BT_EINVAL: return "EINVAL";
    case BT_ENOTFOUND: return "ENOTFOUND";
    case BT_ECONFLICT: return "ECONFLICT";
    case BT_EIO: return "EIO";
    case BT_ECORRUPT: return "ECORRUPT";
    case BT_ELIMIT: return "ELIMIT";
    case BT_EEVAL: return "EEVAL";
    case BT_EBUSY: return "EBUSY";
    case BT_EUNSUPPORTED: return "EUNSUPPORTED";
    default: return "EUNKNOWN";
    }
}

int bt_error_set(bt_error *err, int code, const char *fmt, ...) {
    if (err) {
        err->code = code;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
    }
    return code;
}

void bt_error_clear(bt_error *err) {
    if (err)
        memset(err, 0, sizeof *err);
}

/* ---- allocation -------------------------------------------------------- */

static bt_alloc_fn alloc_fn;
static long alloc_count;
static long alloc_fail_at = -1;

void bt_alloc_set(bt_alloc_fn fn) {
    alloc_fn = fn;
}

long bt_alloc_fail_after(long n) {
    long made = __atomic_exchange_n(&alloc_count, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&alloc_fail_at, n, __ATOMIC_RELAXED);
    return made;
}

static void *alloc_raw(void *ptr, size_t size) {
    long fail_at = __atomic_load_n(&alloc_fail_at, __ATOMIC_RELAXED);
    long n = __atomic_fetch_add(&alloc_count, 1, __ATOMIC_RELAXED);
    if (fail_at >= 0 && n >= fail_at)
        return NULL;
    if (alloc_fn)
        return alloc_fn(ptr, size);
    return realloc(ptr, size);
}

void *bt_malloc(size_t size) {
    return alloc_raw(NULL, size ? size : 1);
}

void *bt_calloc(size_t count, size_t size) {
    if (size && count > SIZE_MAX / size)
        return NULL;
    void *p = bt_malloc(count * size);
    if (p)
        memset(p, 0, count * size);
    return p;
}

void *bt_realloc(void *ptr, size_t size) {
    return alloc_raw(ptr, size ? size : 1);
}

void bt_free(void *ptr) {
    if (!ptr)
        return;
    if (alloc_fn)
        alloc_fn(ptr, 0);
    else
        free(ptr);
}

char *bt_strndup(const char *s, size_t n) {
    if (!s)
        return NULL;
    char *p = bt_malloc(n + 1);
    if (p) {
        memcpy(p, s, n);
        p[n] = 0;
    }
    return p;
}

char *bt_strdup(const char *s) {
    return s ? bt_strndup(s, strlen(s)) : NULL;
}

static void out_of_memory(void) {
    fputs("baton: out of memory\n", stderr);
    abort();
}

void *bt_xmalloc(size_t size) {
    void *p = bt_malloc(size);
    if (!p)
        out_of_memory();
    return p;
}

void *bt_xcalloc(size_t count, size_t size) {
    void *p = bt_calloc(count, size);
    if (!p)
        out_of_memory();
    return p;
}

void *bt_xrealloc(void *ptr, size_t size) {
    void *p = bt_realloc(ptr, size);
    if (!p)
        out_of_memory();
    return p;
}

char *bt_xstrdup(const char *s) {
    char *p = bt_strdup(s);
    if (!p && s)
        out_of_memory();
    return p;
}

void bt_json_use_allocator(void) {
    json_set_alloc_funcs(bt_malloc, bt_free);
}

/* ---- byte buffer ------------------------------------------------------- */

int bt_buf_reserve(bt_buf *b, size_t extra) {
    if (b->failed)
        return BT_ENOMEM;
    if (b->len + extra + 1 <= b->cap)
        return BT_OK;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < b->len + extra + 1) {
        if (cap > SIZE_MAX / 2) {
            b->failed = true;
            return BT_ENOMEM;
        }
        cap *= 2;
    }
    char *p = bt_realloc(b->data, cap);
    if (!p) {
        b->failed = true;
        return BT_ENOMEM;
    }
    b->data = p;
    b->cap = cap;
    return BT_OK;
}

int bt_buf_append(bt_buf *b, const void *data, size_t n) {
    if (bt_buf_reserve(b, n))
        return BT_ENOMEM;
    if (n)
        memcpy(b->data + b->len, data, n);
    b->len += n;
    b->data[b->len] = 0;
    return BT_OK;
}

int bt_buf_puts(bt_buf *b, const char *s) {
    return bt_buf_append(b, s, strlen(s));
}

int bt_buf_putc(bt_buf *b, char c) {
    return bt_buf_append(b, &c, 1);
}

int bt_buf_vprintf(bt_buf *b, const char *fmt, va_list ap) {
    /* Format straight into the free space; only when it does not fit,
     * grow and format again. */
    if (bt_buf_reserve(b, 64))
        return BT_ENOMEM;
    va_list ap2;
    va_copy(ap2, ap);
    size_t room = b->cap - b->len;
    int n = vsnprintf(b->data + b->len, room, fmt, ap2);
    va_end(ap2);
    if (n < 0) {
        b->data[b->len] = 0;
        return BT_EINVAL;
    }
    if ((size_t)n >= room) {
        if (bt_buf_reserve(b, (size_t)n))
            return BT_ENOMEM;
        vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    }
    b->len += (size_t)n;
    return BT_OK;
}

int bt_buf_put_u64(bt_buf *b, uint64_t v) {
    char tmp[24];
    int n = 0;
    do {
        tmp[sizeof tmp - 1 - n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    return bt_buf_append(b, tmp + sizeof tmp - n, (size_t)n);
}

int bt_buf_put_i64(bt_buf *b, int64_t v) {
    if (v < 0) {
        bt_buf_putc(b, '-');
        return bt_buf_put_u64(b, (uint64_t)0 - (uint64_t)v);
    }
    return bt_buf_put_u64(b, (uint64_t)v);
}

int bt_buf_printf(bt_buf *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int rc = bt_buf_vprintf(b, fmt, ap);
    va_end(ap);
    return rc;
}

int bt_buf_json_string(bt_buf *b, const char *s, size_t n) {
    static const char hex[] = "0123456789abcdef";
    bt_buf_putc(b, '"');
    size_t run = 0; /* start of the pending run of plain bytes */
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        const char *esc = NULL;
        char u[7];
        switch (c) {
        case '"': esc = "\\\""; break;
        case '\\': esc = "\\\\"; break;
        case '\n': esc = "\\n"; break;
        case '\r': esc = "\\r"; break;
        case '\t': esc = "\\t"; break;
        case '\b': esc = "\\b"; break;
        case '\f': esc = "\\f"; break;
        default:
            if (c < 0x20) {
                memcpy(u, "\\u00", 4);
                u[4] = hex[c >> 4];
                u[5] = hex[c & 15];
                u[6] = 0;
                esc = u;
            }
        }
        if (esc) {
            bt_buf_append(b, s + run, i - run);
            bt_buf_puts(b, esc);
            run = i + 1;
        }
    }
    bt_buf_append(b, s + run, n - run);
    return bt_buf_putc(b, '"');
}

void bt_buf_reset(bt_buf *b) {
    b->len = 0;
    if (b->data)
        b->data[0] = 0;
}

void bt_buf_free(bt_buf *b) {
    bt_free(b->data);
    *b = (bt_buf)BT_BUF_INIT;
}

char *bt_buf_take(bt_buf *b) {
    if (b->failed) {
        bt_buf_free(b);
        return NULL;
    }
    if (!b->data && bt_buf_reserve(b, 0))
        return NULL;
    char *p = b->data;
    p[b->len] = 0;
    *b = (bt_buf)BT_BUF_INIT;
    return p;
}

/* ---- time -------------------------------------------------------------- */

int64_t bt_clock_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void bt_time_format(int64_t ms, char out[32]) {
    time_t secs = (time_t)(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
    int millis = (int)(ms - (int64_t)secs * 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    /* Years are clamped to four digits: ISO 8601 without the expanded form. */
    int year = tm.tm_year + 1900;
    year = year < 0 ? 0 : year > 9999 ? 9999 : year;
    snprintf(out, 32, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", year, (tm.tm_mon + 1) % 100,
             tm.tm_mday % 100, tm.tm_hour % 100, tm.tm_min % 100, tm.tm_sec % 100, millis % 1000);
}

/* ---- logging ----------------------------------------------------------- */

static bt_log_level log_level = BT_LOG_INFO;

void bt_log_set_level(bt_log_level level) {
    log_level = level;
}

int bt_log_level_parse(const char *s) {
    static const char *names[] = {"debug", "info", "warn", "error", "off"};
    for (size_t i = 0; i < BT_ARRAY_LEN(names); i++)
        if (strcmp(s, names[i]) == 0)
            return (int)i;
    return -1;
}

void bt_log(bt_log_level level, const char *fmt, ...) {
    static const char *tags[] = {"DEBUG", "INFO", "WARN", "ERROR"};
    if (level < log_level || level >= BT_LOG_OFF)
        return;
    char when[32];
    bt_time_format(bt_clock_now_ms(), when);
    char line[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    fprintf(stderr, "%s %-5s %s\n", when, tags[level], line);
}

/* ---- hashing ----------------------------------------------------------- */

uint64_t bt_hash64(const void *data, size_t n) {
    const unsigned char *p = data;
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 1099511628211ULL;
    }
    return h;
}
