/*
 * base.h — what every layer of baton leans on.
 *
 * 1. One error convention. Functions return int: 0 (BT_OK) on success, a
 *    negative BT_E* code on failure. Parsers and evaluators additionally fill
 *    a bt_error with a message, and where it applies the element id, line and
 *    column. The HTTP layer maps codes to statuses in one table.
 *
 * 2. All allocation goes through one hook (bt_malloc & co.). Tests install a
 *    failing allocator (bt_alloc_fail_after) to make the N-th allocation fail;
 *    parsers and the store must turn that into BT_ENOMEM, never a crash.
 *    bt_xmalloc & co. are for the server's own bookkeeping, where running out
 *    of memory aborts the process (nothing acknowledged is lost: it is on disk).
 *
 * 3. bt_buf: a growable byte buffer, always NUL-terminated, for building
 *    strings, JSON and encoded state.
 *
 * 4. Keys: 64-bit, the partition id in the top bits (as Zeebe: bits 51..63),
 *    a per-partition counter in the rest.
 *
 * Thread-safety: the allocator hook is global and is set once at start-up;
 * everything else here is plain data owned by its caller.
 */
#ifndef BATON_BASE_H
#define BATON_BASE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- error codes ------------------------------------------------------ */

enum {
    BT_OK = 0,
    BT_ENOMEM = -1,        /* allocation failed */
    BT_EINVAL = -2,        /* malformed input: a model, an expression, a request */
    BT_ENOTFOUND = -3,     /* no such key / definition / element */
    BT_ECONFLICT = -4,     /* the object is not in a state that allows this */
    BT_EIO = -5,           /* the store or the OS failed */
    BT_ECORRUPT = -6,      /* stored data is inconsistent */
    BT_ELIMIT = -7,        /* a size or count limit was exceeded */
    BT_EEVAL = -8,         /* an expression failed at run time */
    BT_EBUSY = -9,         /* try again later (queue full) */
    BT_EUNSUPPORTED = -10, /* valid input that baton does not support (yet) */
};

/* Returns a static, human-readable name for an error code ("ENOMEM", ...). */
const char *bt_strerror(int code);

/* A detailed error, filled by parsers, the model validator and evaluators.
 * message is NUL-terminated; element_id empty when not about one element;
 * line / column 0 when unknown. Plain data: no ownership. */
typedef struct bt_error {
    int code;
    int line;
    int column;
    char element_id[128];
    char message[512];
} bt_error;

/* Fills err (if not NULL) and returns code. printf-style message. */
int bt_error_set(bt_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Sets err to "no error". NULL allowed. */
void bt_error_clear(bt_error *err);

/* ---- allocation --------------------------------------------------------- */

typedef void *(*bt_alloc_fn)(void *ptr, size_t size); /* realloc semantics; size 0 frees */

/* Replaces the allocator (NULL restores malloc). Call before anything else. */
void bt_alloc_set(bt_alloc_fn fn);
/* Test hook: the n-th allocation from now on fails (n = 0: the next one);
 * -1 turns failure injection off. Returns the number of allocations made
 * since the last call, so a test can loop n over 0..count. */
long bt_alloc_fail_after(long n);

void *bt_malloc(size_t size);               /* NULL on failure */
void *bt_calloc(size_t count, size_t size); /* zeroed; NULL on failure or overflow */
void *bt_realloc(void *ptr, size_t size);   /* NULL on failure (ptr untouched) */
void bt_free(void *ptr);                    /* NULL is a no-op */
char *bt_strdup(const char *s);             /* NULL in → NULL out; NULL on failure */
char *bt_strndup(const char *s, size_t n);

/* Aborting variants for the server's bookkeeping (see 2. above). */
void *bt_xmalloc(size_t size);
void *bt_xcalloc(size_t count, size_t size);
void *bt_xrealloc(void *ptr, size_t size);
char *bt_xstrdup(const char *s);

/* Installs bt_malloc/bt_free as jansson's allocator. Call once at start-up. */
void bt_json_use_allocator(void);

/* ---- byte buffer ---------------------------------------------------------- */

typedef struct bt_buf {
    char *data; /* NUL-terminated when len > 0 or after any append; may be NULL when empty */
    size_t len;
    size_t cap;
    bool failed; /* set once an allocation failed: later appends are no-ops */
} bt_buf;

#define BT_BUF_INIT                                                                                \
    { NULL, 0, 0, false }

int bt_buf_reserve(bt_buf *b, size_t extra);
int bt_buf_append(bt_buf *b, const void *data, size_t n);
int bt_buf_puts(bt_buf *b, const char *s);
int bt_buf_putc(bt_buf *b, char c);
int bt_buf_printf(bt_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int bt_buf_vprintf(bt_buf *b, const char *fmt, va_list ap);
/* Appends a number in decimal (no allocation beyond the buffer's). */
int bt_buf_put_u64(bt_buf *b, uint64_t v);
int bt_buf_put_i64(bt_buf *b, int64_t v);
/* Appends s as a JSON string literal, with quotes and escapes. */
int bt_buf_json_string(bt_buf *b, const char *s, size_t n);
void bt_buf_reset(bt_buf *b); /* len = 0, keeps memory */
void bt_buf_free(bt_buf *b);  /* frees memory, back to BT_BUF_INIT */
/* Hands the data to the caller (free with bt_free) and resets b. Never NULL
 * unless failed: an empty buffer yields "". */
char *bt_buf_take(bt_buf *b);

/* ---- keys -------------------------------------------------------------------- */

#define BT_KEY_PARTITION_BITS 51
static inline uint64_t bt_key_make(int partition, uint64_t counter) {
    return ((uint64_t)partition << BT_KEY_PARTITION_BITS) | counter;
}
static inline int bt_key_partition(uint64_t key) {
    return (int)(key >> BT_KEY_PARTITION_BITS);
}

/* ---- time ---------------------------------------------------------------------- */

/* Milliseconds since the Unix epoch. The engine never reads a clock: the
 * runtime reads this and passes it in. */
int64_t bt_clock_now_ms(void);
/* Formats ms since the epoch as ISO 8601 UTC with milliseconds
 * ("2026-11-21T19:05:00.000Z") into out (at least 32 bytes). */
void bt_time_format(int64_t ms, char out[32]);

/* ---- logging ------------------------------------------------------------------- */

typedef enum { BT_LOG_DEBUG, BT_LOG_INFO, BT_LOG_WARN, BT_LOG_ERROR, BT_LOG_OFF } bt_log_level;
void bt_log_set_level(bt_log_level level);
/* Parses "debug", "info", "warn", "error", "off"; returns -1 if unknown. */
int bt_log_level_parse(const char *s);
void bt_log(bt_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- hashing ---------------------------------------------------------------------- */

/* 64-bit FNV-1a; stable across runs (used for checksums of resources). */
uint64_t bt_hash64(const void *data, size_t n);

#define BT_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#endif
