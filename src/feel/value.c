/*
 * value.c — FEEL values: construction, reference counting, lists, contexts,
 * ranges, equality, ordering and string() conversion.
 *
 * Layout (feel_int.h): one heap block per value, the union holding the
 * payload. Strings keep their bytes in the same block (one allocation).
 * Numbers are "int fast path or decimal128": every integral number that
 * fits int64 is stored as an int (is_int), so equality and ordering of the
 * common case compare two int64s. null, true and false are static.
 *
 * Reference counts are atomic: values reached from a compiled expression
 * (its constants) are shared by concurrent evaluations. A value with more
 * than one reference must not be mutated (feel_list_push / feel_context_put
 * assert a count of one).
 *
 * Contexts are ordered arrays of entries; past FEEL_CTX_INDEX_MIN entries a
 * hash index (open addressing, entry index + 1 per slot) makes lookups O(1).
 * Keys are compared bytewise.
 */
#include <assert.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "feel/feel_int.h"

static feel_value null_value = {.refs = FEEL_REFS_STATIC, .type = FEEL_NULL};
static feel_value true_value = {.refs = FEEL_REFS_STATIC, .type = FEEL_BOOLEAN, .u.b = true};
static feel_value false_value = {.refs = FEEL_REFS_STATIC, .type = FEEL_BOOLEAN, .u.b = false};

static const char *const type_names[] = {
    [FEEL_NULL] = "null",
    [FEEL_BOOLEAN] = "boolean",
    [FEEL_NUMBER] = "number",
    [FEEL_STRING] = "string",
    [FEEL_DATE] = "date",
    [FEEL_TIME] = "time",
    [FEEL_DATE_TIME] = "date and time",
    [FEEL_DAYS_TIME_DURATION] = "days and time duration",
    [FEEL_YEARS_MONTHS_DURATION] = "years and months duration",
    [FEEL_LIST] = "list",
    [FEEL_CONTEXT] = "context",
    [FEEL_RANGE] = "range",
    [FEEL_FUNCTION] = "function",
};

feel_type feel_value_type(const feel_value *v) {
    return v ? (feel_type)v->type : FEEL_NULL;
}

const char *feel_type_name(feel_type t) {
    return (unsigned)t < BT_ARRAY_LEN(type_names) ? type_names[t] : "unknown";
}

/* Bytes a value of type t needs: the header and its member of the union. */
static size_t value_size(feel_type t) {
    const size_t head = offsetof(feel_value, u);
    const feel_value *z = NULL;
    switch (t) {
    case FEEL_NUMBER: return head + sizeof z->u.d;
    case FEEL_STRING: return head + sizeof z->u.str;
    case FEEL_LIST: return head + sizeof z->u.list;
    case FEEL_CONTEXT: return head + sizeof z->u.ctx;
    case FEEL_RANGE: return head + sizeof z->u.range;
    case FEEL_FUNCTION: return head + sizeof z->u.fn;
    case FEEL_DATE: return head + sizeof z->u.t.date;
    case FEEL_TIME: return head + sizeof z->u.t.time;
    case FEEL_DATE_TIME: return head + sizeof z->u.t.dt;
    case FEEL_DAYS_TIME_DURATION: return head + sizeof z->u.t.dtd;
    case FEEL_YEARS_MONTHS_DURATION: return head + sizeof z->u.t.ymd;
    default: return sizeof(feel_value);
    }
}

feel_value *feel_value_alloc(feel_type t) {
    size_t size = (value_size(t) + 15) & ~(size_t)15;
    feel_value *v = bt_malloc(size);
    if (v) {
        memset(v, 0, size);
        v->refs = 1;
        v->type = (uint8_t)t;
    }
    return v;
}

/* The count, read atomically (another thread may be changing it). */
static uint32_t refs_of(const feel_value *v) {
    return __atomic_load_n(&v->refs, __ATOMIC_RELAXED);
}

feel_value *feel_value_ref(feel_value *v) {
    if (v && refs_of(v) != FEEL_REFS_STATIC)
        __atomic_add_fetch(&v->refs, 1, __ATOMIC_RELAXED);
    return v;
}

static void value_destroy(feel_value *v) {
    switch ((feel_type)v->type) {
    case FEEL_LIST:
        for (size_t i = 0; i < v->u.list.n; i++)
            feel_value_unref(v->u.list.items[i]);
        bt_free(v->u.list.items);
        break;
    case FEEL_CONTEXT:
        for (size_t i = 0; i < v->u.ctx.n; i++) {
            bt_free(v->u.ctx.e[i].key);
            feel_value_unref(v->u.ctx.e[i].val);
        }
        bt_free(v->u.ctx.e);
        bt_free(v->u.ctx.index);
        break;
    case FEEL_RANGE:
        feel_value_unref(v->u.range.lo);
        feel_value_unref(v->u.range.hi);
        break;
    case FEEL_FUNCTION:
        feel_value_unref(v->u.fn.captured);
        feel_expr_unref(v->u.fn.owner);
        break;
    default: break;
    }
    bt_free(v);
}

void feel_value_unref(feel_value *v) {
    if (!v || refs_of(v) == FEEL_REFS_STATIC)
        return;
    if (__atomic_sub_fetch(&v->refs, 1, __ATOMIC_ACQ_REL) == 0)
        value_destroy(v);
}

feel_value *feel_null(void) {
    return &null_value;
}

feel_value *feel_bool(bool b) {
    return b ? &true_value : &false_value;
}

bool feel_value_is_true(const feel_value *v) {
    return v && v->type == FEEL_BOOLEAN && v->u.b;
}

/* ---- numbers ----------------------------------------------------------------- */

feel_value *feel_number_from_int(int64_t i) {
    feel_value *v = feel_value_alloc(FEEL_NUMBER);
    if (v) {
        v->is_int = 1;
        v->u.i = i;
    }
    return v;
}

feel_value *feel_number_from_dec(feel_dec d) {
    int64_t i;
    if (feel_dec_is_integer(d) && feel_dec_to_int64(d, &i) == 0)
        return feel_number_from_int(i);
    feel_value *v = feel_value_alloc(FEEL_NUMBER);
    if (v)
        v->u.d = d;
    return v;
}

feel_value *feel_number_from_string(const char *s, size_t n) {
    feel_dec d;
    if (feel_dec_parse(s, n, &d) < 0)
        return NULL;
    return feel_number_from_dec(d);
}

feel_dec feel_number_dec(const feel_value *v) {
    return v->is_int ? feel_dec_from_int(v->u.i) : v->u.d;
}

int feel_number_to_int64(const feel_value *v, int64_t *out) {
    if (!v || v->type != FEEL_NUMBER)
        return BT_EINVAL;
    if (v->is_int) {
        *out = v->u.i;
        return 0;
    }
    return feel_dec_to_int64(v->u.d, out);
}

/* ---- strings ------------------------------------------------------------------- */

/* Strings keep their bytes right after the header and the str member. */
#define STRING_HEAD (offsetof(feel_value, u) + sizeof(((feel_value *)0)->u.str))

feel_value *feel_string_new(const char *s, size_t n) {
    feel_value *v = bt_malloc(STRING_HEAD + n + 1);
    if (!v)
        return NULL;
    memset(v, 0, STRING_HEAD);
    v->refs = 1;
    v->type = FEEL_STRING;
    v->u.str.len = n;
    v->u.str.s = (char *)v + STRING_HEAD;
    if (n)
        memcpy(v->u.str.s, s, n);
    v->u.str.s[n] = 0;
    return v;
}

feel_value *feel_string_concat(const char *a, size_t an, const char *b, size_t bn) {
    feel_value *v = feel_string_new(a, an);
    if (!v || !bn)
        return v;
    feel_value *w = bt_realloc(v, STRING_HEAD + an + bn + 1);
    if (!w) {
        bt_free(v);
        return NULL;
    }
    w->u.str.s = (char *)w + STRING_HEAD;
    memcpy(w->u.str.s + an, b, bn);
    w->u.str.len = an + bn;
    w->u.str.s[an + bn] = 0;
    return w;
}

const char *feel_string_ptr(const feel_value *v, size_t *len) {
    if (!v || v->type != FEEL_STRING)
        return NULL;
    if (len)
        *len = v->u.str.len;
    return v->u.str.s;
}

size_t feel_utf8_count(const char *s, size_t n) {
    size_t count = 0;
    for (size_t i = 0; i < n; i++)
        count += ((unsigned char)s[i] & 0xC0) != 0x80;
    return count;
}

/* ---- lists ------------------------------------------------------------------------ */

feel_value *feel_list_new(void) {
    return feel_value_alloc(FEEL_LIST);
}

size_t feel_list_count(const feel_value *list) {
    return list && list->type == FEEL_LIST ? list->u.list.n : 0;
}

const feel_value *feel_list_at(const feel_value *list, size_t i) {
    if (!list || list->type != FEEL_LIST || i >= list->u.list.n)
        return NULL;
    return list->u.list.items[i];
}

int feel_list_push(feel_value *list, feel_value *item) {
    if (!item)
        return BT_ENOMEM;
    assert(list->type == FEEL_LIST && refs_of(list) == 1);
    if (list->u.list.n == list->u.list.cap) {
        size_t cap = list->u.list.cap ? list->u.list.cap * 2 : 4;
        feel_value **items = bt_realloc(list->u.list.items, cap * sizeof *items);
        if (!items) {
            feel_value_unref(item);
            return BT_ENOMEM;
        }
        list->u.list.items = items;
        list->u.list.cap = cap;
    }
    list->u.list.items[list->u.list.n++] = item;
    return 0;
}

/* ---- contexts ------------------------------------------------------------------------ */

static uint32_t key_hash(const char *s, size_t n) {
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 16777619u;
    return h;
}

feel_value *feel_context_new(void) {
    return feel_value_alloc(FEEL_CONTEXT);
}

size_t feel_context_count(const feel_value *ctx) {
    return ctx && ctx->type == FEEL_CONTEXT ? ctx->u.ctx.n : 0;
}

const char *feel_context_key_at(const feel_value *ctx, size_t i, size_t *len) {
    if (!ctx || ctx->type != FEEL_CONTEXT || i >= ctx->u.ctx.n)
        return NULL;
    if (len)
        *len = ctx->u.ctx.e[i].len;
    return ctx->u.ctx.e[i].key;
}

const feel_value *feel_context_value_at(const feel_value *ctx, size_t i) {
    if (!ctx || ctx->type != FEEL_CONTEXT || i >= ctx->u.ctx.n)
        return NULL;
    return ctx->u.ctx.e[i].val;
}

/* Index of key in ctx, or -1. */
static long ctx_find(const feel_value *ctx, const char *key, size_t len, uint32_t h) {
    const feel_ctx_entry *e = ctx->u.ctx.e;
    if (ctx->u.ctx.index) {
        uint32_t mask = ctx->u.ctx.index_cap - 1;
        for (uint32_t s = h & mask;; s = (s + 1) & mask) {
            uint32_t k = ctx->u.ctx.index[s];
            if (!k)
                return -1;
            if (e[k - 1].hash == h && e[k - 1].len == len && memcmp(e[k - 1].key, key, len) == 0)
                return (long)k - 1;
        }
    }
    for (size_t i = 0; i < ctx->u.ctx.n; i++)
        if (e[i].len == len && e[i].hash == h && memcmp(e[i].key, key, len) == 0)
            return (long)i;
    return -1;
}

const feel_value *feel_context_get(const feel_value *ctx, const char *key, size_t len) {
    if (!ctx || ctx->type != FEEL_CONTEXT)
        return NULL;
    long i = ctx_find(ctx, key, len, key_hash(key, len));
    return i < 0 ? NULL : ctx->u.ctx.e[i].val;
}

static void index_insert(uint32_t *index, uint32_t cap, uint32_t h, uint32_t entry) {
    uint32_t mask = cap - 1;
    uint32_t s = h & mask;
    while (index[s])
        s = (s + 1) & mask;
    index[s] = entry + 1;
}

static int ctx_reindex(feel_value *ctx) {
    size_t n = ctx->u.ctx.n;
    if (n < FEEL_CTX_INDEX_MIN || (ctx->u.ctx.index && n * 2 <= ctx->u.ctx.index_cap))
        return 0;
    uint32_t cap = 32;
    while (cap < n * 2 + 2)
        cap *= 2;
    uint32_t *index = bt_calloc(cap, sizeof *index);
    if (!index)
        return BT_ENOMEM;
    for (size_t i = 0; i < n; i++)
        index_insert(index, cap, ctx->u.ctx.e[i].hash, (uint32_t)i);
    bt_free(ctx->u.ctx.index);
    ctx->u.ctx.index = index;
    ctx->u.ctx.index_cap = cap;
    return 0;
}

int feel_context_put(feel_value *ctx, const char *key, size_t len, feel_value *val) {
    if (!val)
        return BT_ENOMEM;
    assert(ctx->type == FEEL_CONTEXT && refs_of(ctx) == 1);
    uint32_t h = key_hash(key, len);
    long i = ctx_find(ctx, key, len, h);
    if (i >= 0) {
        feel_value_unref(ctx->u.ctx.e[i].val);
        ctx->u.ctx.e[i].val = val;
        return 0;
    }
    if (ctx->u.ctx.n == ctx->u.ctx.cap) {
        size_t cap = ctx->u.ctx.cap ? ctx->u.ctx.cap * 2 : 4;
        feel_ctx_entry *e = bt_realloc(ctx->u.ctx.e, cap * sizeof *e);
        if (!e) {
            feel_value_unref(val);
            return BT_ENOMEM;
        }
        ctx->u.ctx.e = e;
        ctx->u.ctx.cap = cap;
    }
    char *k = bt_strndup(key, len);
    if (!k) {
        feel_value_unref(val);
        return BT_ENOMEM;
    }
    size_t at = ctx->u.ctx.n++;
    ctx->u.ctx.e[at] = (feel_ctx_entry){k, len, h, val};
    if (ctx->u.ctx.index && at * 2 + 2 <= ctx->u.ctx.index_cap) {
        index_insert(ctx->u.ctx.index, ctx->u.ctx.index_cap, h, (uint32_t)at);
        return 0;
    }
    if (ctx_reindex(ctx) < 0) { /* undo: the context stays as it was */
        ctx->u.ctx.n--;
        bt_free(k);
        feel_value_unref(val);
        return BT_ENOMEM;
    }
    return 0;
}

feel_value *feel_context_copy(const feel_value *ctx) {
    feel_value *c = feel_context_new();
    if (!c)
        return NULL;
    for (size_t i = 0; i < feel_context_count(ctx); i++) {
        const feel_ctx_entry *e = &ctx->u.ctx.e[i];
        if (feel_context_put(c, e->key, e->len, feel_value_ref(e->val)) < 0) {
            feel_value_unref(c);
            return NULL;
        }
    }
    return c;
}

/* ---- ranges and temporal values -------------------------------------------------- */

feel_value *feel_range_new(feel_value *lo, bool lo_closed, feel_value *hi, bool hi_closed) {
    feel_value *v = feel_value_alloc(FEEL_RANGE);
    if (!v) {
        feel_value_unref(lo);
        feel_value_unref(hi);
        return NULL;
    }
    v->u.range.lo = lo;
    v->u.range.hi = hi;
    v->u.range.lo_closed = lo_closed;
    v->u.range.hi_closed = hi_closed;
    return v;
}

feel_value *feel_temporal_value(feel_type t, const feel_temporal *tv) {
    feel_value *v = feel_value_alloc(t);
    if (v)
        memcpy(&v->u.t, tv, value_size(t) - offsetof(feel_value, u));
    return v;
}

/* ---- equality and ordering ----------------------------------------------------------- */

static bool is_temporal(feel_type t) {
    return t >= FEEL_DATE && t <= FEEL_YEARS_MONTHS_DURATION;
}

int feel_value_compare(const feel_value *a, const feel_value *b, int *cmp) {
    if (!a || !b || a->type != b->type)
        return BT_EINVAL;
    switch ((feel_type)a->type) {
    case FEEL_NUMBER:
        if (a->is_int && b->is_int)
            *cmp = (a->u.i > b->u.i) - (a->u.i < b->u.i);
        else
            *cmp = feel_dec_cmp(feel_number_dec(a), feel_number_dec(b));
        return 0;
    case FEEL_STRING: {
        size_t n = a->u.str.len < b->u.str.len ? a->u.str.len : b->u.str.len;
        int c = memcmp(a->u.str.s, b->u.str.s, n);
        if (c == 0)
            c = (a->u.str.len > b->u.str.len) - (a->u.str.len < b->u.str.len);
        *cmp = (c > 0) - (c < 0);
        return 0;
    }
    default:
        if (is_temporal((feel_type)a->type))
            return feel_temporal_compare(a, b, cmp);
        return BT_EINVAL;
    }
}

bool feel_value_equal(const feel_value *a, const feel_value *b) {
    if (!a)
        a = &null_value;
    if (!b)
        b = &null_value;
    if (a == b)
        return true;
    if (a->type != b->type)
        return false;
    int cmp;
    switch ((feel_type)a->type) {
    case FEEL_NULL: return true;
    case FEEL_BOOLEAN: return a->u.b == b->u.b;
    case FEEL_LIST:
        if (a->u.list.n != b->u.list.n)
            return false;
        for (size_t i = 0; i < a->u.list.n; i++)
            if (!feel_value_equal(a->u.list.items[i], b->u.list.items[i]))
                return false;
        return true;
    case FEEL_CONTEXT:
        if (a->u.ctx.n != b->u.ctx.n)
            return false;
        for (size_t i = 0; i < a->u.ctx.n; i++) {
            const feel_ctx_entry *e = &a->u.ctx.e[i];
            const feel_value *other = feel_context_get(b, e->key, e->len);
            if (!other || !feel_value_equal(e->val, other))
                return false;
        }
        return true;
    case FEEL_RANGE:
        return a->u.range.lo_closed == b->u.range.lo_closed &&
               a->u.range.hi_closed == b->u.range.hi_closed &&
               feel_value_equal(a->u.range.lo, b->u.range.lo) &&
               feel_value_equal(a->u.range.hi, b->u.range.hi);
    case FEEL_FUNCTION:
        return a->u.fn.builtin == b->u.fn.builtin && a->u.fn.def == b->u.fn.def &&
               a->u.fn.captured == b->u.fn.captured;
    default: return feel_value_compare(a, b, &cmp) == 0 && cmp == 0;
    }
}

/* ---- string() ----------------------------------------------------------------------- */

int feel_value_to_string(const feel_value *v, bt_buf *out, bool top) {
    if (!v)
        v = &null_value;
    switch ((feel_type)v->type) {
    case FEEL_NULL: return bt_buf_puts(out, "null");
    case FEEL_BOOLEAN: return bt_buf_puts(out, v->u.b ? "true" : "false");
    case FEEL_NUMBER: {
        if (v->is_int)
            return bt_buf_printf(out, "%lld", (long long)v->u.i);
        char text[FEEL_DEC_TEXT_MAX];
        int n = feel_dec_format(v->u.d, text);
        return bt_buf_append(out, text, (size_t)n);
    }
    case FEEL_STRING:
        if (top)
            return bt_buf_append(out, v->u.str.s, v->u.str.len);
        return bt_buf_json_string(out, v->u.str.s, v->u.str.len);
    case FEEL_LIST:
        bt_buf_putc(out, '[');
        for (size_t i = 0; i < v->u.list.n; i++) {
            if (i)
                bt_buf_puts(out, ", ");
            feel_value_to_string(v->u.list.items[i], out, false);
        }
        return bt_buf_putc(out, ']');
    case FEEL_CONTEXT:
        bt_buf_putc(out, '{');
        for (size_t i = 0; i < v->u.ctx.n; i++) {
            if (i)
                bt_buf_puts(out, ", ");
            bt_buf_append(out, v->u.ctx.e[i].key, v->u.ctx.e[i].len);
            bt_buf_putc(out, ':');
            feel_value_to_string(v->u.ctx.e[i].val, out, false);
        }
        return bt_buf_putc(out, '}');
    case FEEL_RANGE:
        bt_buf_putc(out, v->u.range.lo_closed ? '[' : '(');
        feel_value_to_string(v->u.range.lo, out, false);
        bt_buf_puts(out, "..");
        feel_value_to_string(v->u.range.hi, out, false);
        return bt_buf_putc(out, v->u.range.hi_closed ? ']' : ')');
    case FEEL_FUNCTION: return bt_buf_puts(out, "function");
    default: return feel_temporal_format(v, out);
    }
}
