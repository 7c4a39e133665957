/*
 * regex.c — compiled regular expressions for matches(), replace(), split()
 * and extract(), cached so that a pattern is compiled once, not on every
 * call.
 *
 * The cache is a small LRU of FEEL_REGEX_CACHE entries keyed by pattern
 * text and PCRE2 options, shared by all threads behind one mutex (the
 * lookup is a few comparisons; matching happens outside the lock). A
 * compiled pcre2_code is immutable and may be used by several threads at
 * once (PCRE2's documentation); each caller creates its own match data.
 * Entries are reference counted: feel_regex_get hands out a reference,
 * feel_regex_release returns it, and an entry evicted while in use is freed
 * by its last user. PCRE2 allocates through bt_malloc (a general context),
 * so allocation-failure tests reach pattern compilation too.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "feel/feel_int.h"

#define FEEL_REGEX_CACHE 64

struct feel_regex {
    pcre2_code *code;
    char *pattern; /* the key: pattern bytes and options */
    size_t len;
    uint32_t opts;
    uint32_t refs; /* the cache's own reference plus one per user */
    uint64_t used; /* LRU clock value of the last lookup */
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static feel_regex *cache[FEEL_REGEX_CACHE];
static uint64_t clock_now;
static pcre2_general_context *gcontext;
static pcre2_compile_context *ccontext;

static void *pcre_alloc(PCRE2_SIZE size, void *ud) {
    (void)ud;
    return bt_malloc(size);
}

static void pcre_free(void *p, void *ud) {
    (void)ud;
    bt_free(p);
}

/* Called with the lock held. */
static void regex_unref_locked(feel_regex *r) {
    if (--r->refs == 0) {
        pcre2_code_free(r->code);
        bt_free(r->pattern);
        bt_free(r);
    }
}

/* Compiles a new entry (lock not held: compiling can take a while). */
static int regex_compile(const char *pattern, size_t len, uint32_t opts, feel_regex **out,
                         char *msg, size_t msgsize) {
    feel_regex *r = bt_calloc(1, sizeof *r);
    if (!r || !(r->pattern = bt_malloc(len + 1))) {
        bt_free(r);
        return BT_ENOMEM;
    }
    memcpy(r->pattern, pattern, len);
    r->pattern[len] = 0;
    r->len = len;
    r->opts = opts;
    r->refs = 1;
    int errcode;
    PCRE2_SIZE erroff;
    r->code = pcre2_compile((PCRE2_SPTR)pattern, len, opts, &errcode, &erroff, ccontext);
    if (!r->code) {
        bt_free(r->pattern);
        bt_free(r);
        if (errcode == PCRE2_ERROR_HEAP_FAILED || errcode == PCRE2_ERROR_NOMEMORY)
            return BT_ENOMEM;
        PCRE2_UCHAR text[120];
        pcre2_get_error_message(errcode, text, sizeof text);
        snprintf(msg, msgsize, "invalid pattern at offset %zu: %s", (size_t)erroff, (char *)text);
        return BT_EINVAL;
    }
    *out = r;
    return 0;
}

int feel_regex_get(const char *pattern, size_t len, uint32_t opts, feel_regex **out, char *msg,
                   size_t msgsize) {
    pthread_mutex_lock(&lock);
    if (!gcontext) {
        gcontext = pcre2_general_context_create(pcre_alloc, pcre_free, NULL);
        ccontext = gcontext ? pcre2_compile_context_create(gcontext) : NULL;
        if (!ccontext) {
            pcre2_general_context_free(gcontext);
            gcontext = NULL;
            pthread_mutex_unlock(&lock);
            return BT_ENOMEM;
        }
    }
    for (int i = 0; i < FEEL_REGEX_CACHE; i++) {
        feel_regex *r = cache[i];
        if (r && r->opts == opts && r->len == len && memcmp(r->pattern, pattern, len) == 0) {
            r->refs++;
            r->used = ++clock_now;
            pthread_mutex_unlock(&lock);
            *out = r;
            return 0;
        }
    }
    pthread_mutex_unlock(&lock);

    feel_regex *r;
    int rc = regex_compile(pattern, len, opts, &r, msg, msgsize);
    if (rc < 0)
        return rc;

    pthread_mutex_lock(&lock);
    /* the slot of the least recently used entry (or a free one) */
    int victim = 0;
    for (int i = 0; i < FEEL_REGEX_CACHE; i++) {
        if (!cache[i]) {
            victim = i;
            break;
        }
        if (cache[i]->used < cache[victim]->used)
            victim = i;
    }
    if (cache[victim])
        regex_unref_locked(cache[victim]);
    cache[victim] = r;
    r->refs++; /* the caller's reference */
    r->used = ++clock_now;
    pthread_mutex_unlock(&lock);
    *out = r;
    return 0;
}

const pcre2_code *feel_regex_code(const feel_regex *r) {
    return r->code;
}

void feel_regex_release(feel_regex *r) {
    if (!r)
        return;
    pthread_mutex_lock(&lock);
    regex_unref_locked(r);
    pthread_mutex_unlock(&lock);
}

void feel_regex_cache_clear(void) {
    pthread_mutex_lock(&lock);
    for (int i = 0; i < FEEL_REGEX_CACHE; i++) {
        if (cache[i])
            regex_unref_locked(cache[i]);
        cache[i] = NULL;
    }
    pthread_mutex_unlock(&lock);
}
