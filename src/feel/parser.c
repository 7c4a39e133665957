/*
 * parser.c — FEEL tokens → syntax tree (feel_node), and feel_compile.
 *
 * Recursive descent, one function per precedence level of DMN 1.3's grammar,
 * loosest first:
 *
 *   expression  = for | some/every | if | function definition | disjunction
 *   disjunction = conjunction {"or" conjunction}
 *   conjunction = comparison {"and" comparison}
 *   comparison  = additive {("=" | "!=" | "<" | "<=" | ">" | ">=") additive
 *                          | "between" additive "and" additive
 *                          | "in" positive unary test(s)
 *                          | "instance of" type}
 *   additive    = multiplicative {("+" | "-") multiplicative}
 *   multiplicative = power {("*" | "/") power}
 *   power       = unary {"**" unary}
 *   unary       = "-" unary | postfix
 *   postfix     = primary {"." name | "[" expression "]" | "(" arguments ")"}
 *
 * Names with spaces: a name is a run of words. Plain words always join
 * (`first name`): two names side by side are never valid FEEL otherwise.
 * Keywords end a name, except that a run spelling a built-in function's name
 * may contain them (`date and time`, `last day of month`), and `of` may sit
 * between two plain words (`date of birth`). Anything else can be written
 * in backticks (`` `order-id` ``).
 *
 * The tree lives in an arena owned by the feel_expr, so freeing an
 * expression is freeing a few blocks plus releasing its constants. Calls of
 * built-in functions are resolved here (the name is not bound by an
 * enclosing for/some/every/function/context), including named arguments,
 * which are mapped to positions once.
 *
 * Syntax errors: BT_EINVAL with err->line/column at the offending token and
 * a message "expected X at column N".
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "feel/feel_int.h"

struct feel_arena_block {
    feel_arena_block *next;
    size_t used, cap;
    _Alignas(16) unsigned char data[];
};

typedef struct local_name {
    const char *name;
    size_t len;
} local_name;

typedef struct parser {
    const char *src;
    feel_token *t;
    size_t ntok, i;
    feel_expr *e;
    bt_error *err;
    int depth;
    bool no_filter; /* the end of an interval: '[' closes it, it is no filter */
    int inputs;     /* '?' seen so far */
    local_name *locals;
    size_t nlocals, caplocals;
} parser;

#define TRY(x)                                                                                     \
    do {                                                                                           \
        int rc_ = (x);                                                                             \
        if (rc_ < 0)                                                                               \
            return rc_;                                                                            \
    } while (0)

/* ---- arena ---------------------------------------------------------------- */

static void *arena_alloc(feel_expr *e, size_t size) {
    size = (size + 15) & ~(size_t)15;
    feel_arena_block *b = e->arena;
    if (!b || b->cap - b->used < size) {
        size_t cap = size > 4000 ? size : 4000;
        b = bt_malloc(sizeof *b + cap);
        if (!b)
            return NULL;
        b->used = 0;
        b->cap = cap;
        b->next = e->arena;
        e->arena = b;
    }
    void *p = b->data + b->used;
    b->used += size;
    memset(p, 0, size);
    return p;
}

static char *arena_strndup(feel_expr *e, const char *s, size_t n) {
    char *p = arena_alloc(e, n + 1);
    if (p) {
        memcpy(p, s, n);
        p[n] = 0;
    }
    return p;
}

/* Keeps v (stolen) as a constant of e, released by feel_expr_free. */
static int expr_keep(feel_expr *e, feel_value *v) {
    if (e->nconsts == e->capconsts) {
        size_t cap = e->capconsts ? e->capconsts * 2 : 8;
        feel_value **c = bt_realloc(e->consts, cap * sizeof *c);
        if (!c) {
            feel_value_unref(v);
            return BT_ENOMEM;
        }
        e->consts = c;
        e->capconsts = cap;
    }
    e->consts[e->nconsts++] = v;
    return 0;
}

/* ---- errors and tokens ------------------------------------------------------ */

static const feel_token *cur(parser *p) {
    return &p->t[p->i];
}

static const feel_token *peek(parser *p, size_t k) {
    size_t j = p->i + k;
    return &p->t[j < p->ntok ? j : p->ntok - 1];
}

static int fail_at(parser *p, const feel_token *t, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail_at(parser *p, const feel_token *t, const char *fmt, ...) {
    char what[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    bt_error_set(p->err, BT_EINVAL, "%s at column %d", what, t->col);
    if (p->err) {
        p->err->line = t->line;
        p->err->column = t->col;
    }
    return BT_EINVAL;
}

static int expected(parser *p, const char *what) {
    return fail_at(p, cur(p), "expected %s", what);
}

static bool at(parser *p, feel_tok k) {
    return cur(p)->kind == k;
}

static bool at_kw(parser *p, feel_kw kw) {
    return cur(p)->kind == TK_NAME && cur(p)->kw == kw;
}

static int expect(parser *p, feel_tok k) {
    if (!at(p, k))
        return expected(p, feel_tok_name(k));
    p->i++;
    return 0;
}

static int expect_kw(parser *p, feel_kw kw, const char *word) {
    if (!at_kw(p, kw))
        return expected(p, word);
    p->i++;
    return 0;
}

/* ---- nodes --------------------------------------------------------------------- */

static int node_new(parser *p, feel_node_kind kind, const feel_token *t, uint32_t nkids,
                    feel_node **out) {
    feel_node *n = arena_alloc(p->e, sizeof *n);
    if (!n)
        return BT_ENOMEM;
    n->kind = (uint8_t)kind;
    n->col = t->col;
    n->n = nkids;
    if (nkids) {
        n->kids = arena_alloc(p->e, nkids * sizeof *n->kids);
        if (!n->kids)
            return BT_ENOMEM;
    }
    *out = n;
    return 0;
}

static int node_const(parser *p, const feel_token *t, feel_value *v, feel_node **out) {
    if (!v)
        return BT_ENOMEM;
    TRY(expr_keep(p->e, v));
    TRY(node_new(p, N_CONST, t, 0, out));
    (*out)->val = v;
    return 0;
}

/* Height of a node for the chain bound: operands of an operator. */
static int chain_height(parser *p, const feel_token *t, const feel_node *a, const feel_node *b,
                        uint16_t *h) {
    int x = a ? a->height : 0, y = b ? b->height : 0;
    if ((x > y ? x : y) + 1 > FEEL_MAX_CHAIN)
        return fail_at(p, t, "expression too long: more than %d operators in a chain",
                       FEEL_MAX_CHAIN);
    *h = (uint16_t)((x > y ? x : y) + 1);
    return 0;
}

static int node_bin(parser *p, feel_node_kind kind, int op, const feel_token *t, feel_node *a,
                    feel_node *b, feel_node **out) {
    uint16_t h = 0;
    TRY(chain_height(p, t, a, b, &h));
    TRY(node_new(p, kind, t, 2, out));
    (*out)->height = h;
    (*out)->op = (uint8_t)op;
    (*out)->kids[0] = a;
    (*out)->kids[1] = b;
    return 0;
}

/* A growable list of nodes and names while parsing a sequence. */
typedef struct seq {
    feel_node **kids;
    const char **names;
    size_t *lens;
    size_t n, cap;
} seq;

static int seq_push(seq *s, feel_node *kid, const char *name, size_t len) {
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 8;
        feel_node **k = bt_realloc(s->kids, cap * sizeof *k);
        if (!k)
            return BT_ENOMEM;
        s->kids = k;
        const char **nm = bt_realloc(s->names, cap * sizeof *nm);
        if (!nm)
            return BT_ENOMEM;
        s->names = nm;
        size_t *l = bt_realloc(s->lens, cap * sizeof *l);
        if (!l)
            return BT_ENOMEM;
        s->lens = l;
        s->cap = cap;
    }
    s->kids[s->n] = kid;
    s->names[s->n] = name;
    s->lens[s->n] = len;
    s->n++;
    return 0;
}

static void seq_free(seq *s) {
    bt_free(s->kids);
    bt_free(s->names);
    bt_free(s->lens);
}

/* Moves a sequence into node n: kids (extra slots after them) and names. */
static int seq_into(parser *p, seq *s, feel_node *n, size_t extra, bool with_names) {
    n->n = (uint32_t)s->n;
    n->kids = arena_alloc(p->e, (s->n + extra + 1) * sizeof *n->kids);
    if (!n->kids)
        return BT_ENOMEM;
    if (s->n)
        memcpy(n->kids, s->kids, s->n * sizeof *n->kids);
    if (with_names) {
        n->names = arena_alloc(p->e, (s->n + 1) * sizeof *n->names);
        n->name_lens = arena_alloc(p->e, (s->n + 1) * sizeof *n->name_lens);
        if (!n->names || !n->name_lens)
            return BT_ENOMEM;
        if (s->n) {
            memcpy(n->names, s->names, s->n * sizeof *n->names);
            memcpy(n->name_lens, s->lens, s->n * sizeof *n->name_lens);
        }
    }
    return 0;
}

/* ---- local names (bindings that shadow built-ins) ------------------------------- */

static int local_push(parser *p, const char *name, size_t len) {
    if (p->nlocals == p->caplocals) {
        size_t cap = p->caplocals ? p->caplocals * 2 : 8;
        local_name *l = bt_realloc(p->locals, cap * sizeof *l);
        if (!l)
            return BT_ENOMEM;
        p->locals = l;
        p->caplocals = cap;
    }
    p->locals[p->nlocals++] = (local_name){name, len};
    return 0;
}

static bool local_bound(parser *p, const char *name, size_t len) {
    for (size_t i = 0; i < p->nlocals; i++)
        if (p->locals[i].len == len && memcmp(p->locals[i].name, name, len) == 0)
            return true;
    return false;
}

/* ---- names ---------------------------------------------------------------------- */

static bool is_word(const feel_token *t) {
    return t->kind == TK_NAME;
}

/* Builds the text of words i..j (inclusive) joined by single spaces. */
static size_t words_text(parser *p, size_t i, size_t j, char *out, size_t cap) {
    size_t n = 0;
    for (size_t k = i; k <= j; k++) {
        const feel_token *t = &p->t[k];
        if (n + t->len + 1 >= cap)
            return 0;
        if (k > i)
            out[n++] = ' ';
        memcpy(out + n, p->src + t->off, t->len);
        n += t->len;
    }
    out[n] = 0;
    return n;
}

/* Parses a (possibly multi-word) name at the cursor into the arena.
 * builtins: also join words that spell a built-in function's name. */
static int parse_name(parser *p, const char **name, size_t *len, bool builtins) {
    const feel_token *t = cur(p);
    if (t->kind == TK_BACKTICK) {
        *name = arena_strndup(p->e, p->src + t->off + 1, t->len - 2);
        *len = t->len - 2;
        p->i++;
        return *name ? 0 : BT_ENOMEM;
    }
    if (t->kind != TK_NAME || t->kw != KW_NONE)
        return expected(p, "a name");
    size_t start = p->i, best = p->i;
    char text[256];
    bool plain = true;
    for (size_t j = p->i + 1; j < p->ntok && is_word(&p->t[j]); j++) {
        const feel_token *w = &p->t[j];
        bool word_plain = w->kw == KW_NONE || (w->kw == KW_OF && j + 1 < p->ntok &&
                                               is_word(&p->t[j + 1]) && p->t[j + 1].kw == KW_NONE);
        plain = plain && word_plain;
        size_t n = words_text(p, start, j, text, sizeof text);
        if (!n)
            break;
        if (plain) {
            best = j;
            continue;
        }
        if (!builtins)
            break;
        if (feel_builtin_find(text, n))
            best = j;
        else if (!feel_builtin_is_prefix(text, n))
            break;
    }
    size_t n = words_text(p, start, best, text, sizeof text);
    if (!n)
        return fail_at(p, t, "name too long");
    *name = arena_strndup(p->e, text, n);
    *len = n;
    p->i = best + 1;
    return *name ? 0 : BT_ENOMEM;
}

/* True when the tokens at the cursor are words followed by ':' (a named
 * argument or a context key). */
static bool at_words_colon(parser *p) {
    size_t j = p->i;
    if (p->t[j].kind == TK_BACKTICK)
        return p->t[j + 1].kind == TK_COLON;
    while (j < p->ntok && is_word(&p->t[j]))
        j++;
    return j > p->i && j < p->ntok && p->t[j].kind == TK_COLON;
}

/* All words up to ':' as one name (keywords allowed: `start position:`). */
static int parse_key_words(parser *p, const char **name, size_t *len) {
    if (at(p, TK_BACKTICK))
        return parse_name(p, name, len, false);
    size_t start = p->i, j = p->i;
    while (is_word(&p->t[j]))
        j++;
    char text[256];
    size_t n = words_text(p, start, j - 1, text, sizeof text);
    if (!n)
        return fail_at(p, cur(p), "name too long");
    *name = arena_strndup(p->e, text, n);
    *len = n;
    p->i = j;
    return *name ? 0 : BT_ENOMEM;
}

/* ---- literals ------------------------------------------------------------------- */

static void utf8_put(char *out, size_t *n, uint32_t cp) {
    if (cp < 0x80) {
        out[(*n)++] = (char)cp;
    } else if (cp < 0x800) {
        out[(*n)++] = (char)(0xC0 | (cp >> 6));
        out[(*n)++] = (char)(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out[(*n)++] = (char)(0xE0 | (cp >> 12));
        out[(*n)++] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[(*n)++] = (char)(0x80 | (cp & 0x3F));
    } else {
        out[(*n)++] = (char)(0xF0 | (cp >> 18));
        out[(*n)++] = (char)(0x80 | ((cp >> 12) & 0x3F));
        out[(*n)++] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[(*n)++] = (char)(0x80 | (cp & 0x3F));
    }
}

static int hex4(const char *s, uint32_t *out) {
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        char c = s[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (uint32_t)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (uint32_t)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (uint32_t)(c - 'A' + 10);
        else
            return -1;
    }
    *out = v;
    return 0;
}

/* Decodes the string literal token t (quotes included) into a new value. */
static int decode_string(parser *p, const feel_token *t, size_t skip, feel_value **out) {
    const char *s = p->src + t->off + skip + 1;
    size_t len = t->len - skip - 2;
    char *buf = bt_malloc(len + 1);
    if (!buf)
        return BT_ENOMEM;
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] != '\\') {
            buf[n++] = s[i];
            continue;
        }
        char c = s[++i];
        uint32_t cp;
        switch (c) {
        case 'n': buf[n++] = '\n'; break;
        case 'r': buf[n++] = '\r'; break;
        case 't': buf[n++] = '\t'; break;
        case 'b': buf[n++] = '\b'; break;
        case 'f': buf[n++] = '\f'; break;
        case '"': buf[n++] = '"'; break;
        case '\'': buf[n++] = '\''; break;
        case '\\': buf[n++] = '\\'; break;
        case '/': buf[n++] = '/'; break;
        case 'u':
            if (i + 4 >= len + 0 + 1 || hex4(s + i + 1, &cp) < 0) {
                bt_free(buf);
                return fail_at(p, t, "invalid \\u escape in string");
            }
            i += 4;
            if (cp >= 0xD800 && cp < 0xDC00 && i + 6 < len + 1 && s[i + 1] == '\\' &&
                s[i + 2] == 'u') {
                uint32_t lo;
                if (hex4(s + i + 3, &lo) == 0 && lo >= 0xDC00 && lo < 0xE000) {
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    i += 6;
                }
            }
            if (cp >= 0xD800 && cp < 0xE000)
                cp = 0xFFFD;
            utf8_put(buf, &n, cp);
            break;
        default: /* kept as written: "\d" in a pattern stays a backslash and a d */
            buf[n++] = '\\';
            buf[n++] = c;
            break;
        }
    }
    *out = feel_string_new(buf, n);
    bt_free(buf);
    return *out ? 0 : BT_ENOMEM;
}

static int parse_number(parser *p, feel_node **out) {
    const feel_token *t = cur(p);
    const char *s = p->src + t->off;
    feel_value *v = NULL;
    bool digits_only = true;
    for (size_t k = 0; k < t->len; k++)
        if (s[k] < '0' || s[k] > '9')
            digits_only = false;
    if (digits_only && t->len <= 18) {
        int64_t x = 0;
        for (size_t k = 0; k < t->len; k++)
            x = x * 10 + (s[k] - '0');
        v = feel_number_from_int(x);
    } else {
        v = feel_number_from_string(s, t->len);
        if (!v) { /* either not representable or out of memory: tell them apart */
            feel_dec d;
            if (feel_dec_parse(s, t->len, &d) < 0)
                return fail_at(p, t, "invalid number '%.*s'", (int)t->len, s);
            return BT_ENOMEM;
        }
    }
    p->i++;
    return node_const(p, t, v, out);
}

/* ---- expressions ---------------------------------------------------------------- */

static int parse_expr(parser *p, feel_node **out);
static int parse_add(parser *p, feel_node **out);
static int parse_test(parser *p, bool full, feel_node **out);

static int enter(parser *p) {
    if (++p->depth > FEEL_MAX_DEPTH)
        return fail_at(p, cur(p), "expression nested too deeply");
    return 0;
}

/* A sub-expression inside brackets: '[' is a filter again. */
static int parse_nested(parser *p, feel_node **out) {
    bool saved = p->no_filter;
    p->no_filter = false;
    int rc = parse_expr(p, out);
    p->no_filter = saved;
    return rc;
}

/* After "lo ..": parses hi and the closing bracket into an N_RANGE. */
static int finish_interval(parser *p, const feel_token *t, bool lo_closed, feel_node *lo,
                           feel_node **out) {
    feel_node *hi;
    bool saved = p->no_filter;
    p->no_filter = true;
    int rc = parse_add(p, &hi);
    p->no_filter = saved;
    TRY(rc);
    int flags = lo_closed ? FEEL_RANGE_LO_CLOSED : 0;
    if (at(p, TK_RBRACKET))
        flags |= FEEL_RANGE_HI_CLOSED;
    else if (!at(p, TK_RPAREN) && !at(p, TK_LBRACKET))
        return expected(p, "']' or ')' to end the interval");
    p->i++;
    TRY(node_bin(p, N_RANGE, 0, t, lo, hi, out));
    (*out)->flags = (uint8_t)flags;
    return 0;
}

static int parse_list_or_interval(parser *p, feel_node **out) {
    const feel_token *t = cur(p);
    p->i++; /* [ */
    seq s = {0};
    int rc = 0;
    feel_node *first = NULL;
    if (!at(p, TK_RBRACKET)) {
        if ((rc = parse_nested(p, &first)) < 0)
            goto done;
        if (at(p, TK_DOTDOT)) {
            p->i++;
            rc = finish_interval(p, t, true, first, out);
            goto done;
        }
        if ((rc = seq_push(&s, first, NULL, 0)) < 0)
            goto done;
        while (at(p, TK_COMMA)) {
            p->i++;
            feel_node *item;
            if ((rc = parse_nested(p, &item)) < 0 || (rc = seq_push(&s, item, NULL, 0)) < 0)
                goto done;
        }
    }
    if ((rc = expect(p, TK_RBRACKET)) < 0)
        goto done;
    if ((rc = node_new(p, N_LIST, t, 0, out)) < 0)
        goto done;
    rc = seq_into(p, &s, *out, 0, false);
done:
    seq_free(&s);
    return rc;
}

static int parse_context(parser *p, feel_node **out) {
    const feel_token *t = cur(p);
    p->i++; /* { */
    seq s = {0};
    size_t locals_mark = p->nlocals;
    int rc = 0;
    while (!at(p, TK_RBRACE)) {
        const char *key;
        size_t len;
        if (at(p, TK_STRING)) {
            feel_value *k;
            if ((rc = decode_string(p, cur(p), 0, &k)) < 0)
                goto done;
            size_t kl;
            const char *ks = feel_string_ptr(k, &kl);
            key = arena_strndup(p->e, ks, kl);
            len = kl;
            feel_value_unref(k);
            if (!key) {
                rc = BT_ENOMEM;
                goto done;
            }
            p->i++;
        } else if (at(p, TK_NAME) || at(p, TK_BACKTICK)) {
            if (!at_words_colon(p)) {
                rc = expected(p, "':' after the context key");
                if (at(p, TK_NAME)) { /* point at what follows the key */
                    while (is_word(cur(p)))
                        p->i++;
                    rc = expected(p, "':'");
                }
                goto done;
            }
            if ((rc = parse_key_words(p, &key, &len)) < 0)
                goto done;
        } else {
            rc = expected(p, "a context key");
            goto done;
        }
        feel_node *val;
        if ((rc = expect(p, TK_COLON)) < 0 || (rc = parse_nested(p, &val)) < 0 ||
            (rc = seq_push(&s, val, key, len)) < 0 || (rc = local_push(p, key, len)) < 0)
            goto done;
        if (!at(p, TK_COMMA))
            break;
        p->i++;
    }
    if ((rc = expect(p, TK_RBRACE)) < 0)
        goto done;
    if ((rc = node_new(p, N_CONTEXT, t, 0, out)) < 0)
        goto done;
    rc = seq_into(p, &s, *out, 0, true);
done:
    p->nlocals = locals_mark;
    seq_free(&s);
    return rc;
}

/* for / some / every: "x in domain, y in domain" then return / satisfies. */
static int parse_iteration(parser *p, feel_node_kind kind, feel_node **out) {
    const feel_token *t = cur(p);
    p->i++;
    seq s = {0};
    size_t locals_mark = p->nlocals;
    int rc;
    for (;;) {
        const char *name;
        size_t len;
        feel_node *domain;
        if ((rc = parse_name(p, &name, &len, false)) < 0 || (rc = expect_kw(p, KW_IN, "'in'")) < 0)
            goto done;
        if ((rc = parse_add(p, &domain)) < 0)
            goto done;
        if (at(p, TK_DOTDOT)) { /* for i in 1..n: a closed range */
            const feel_token *dt = cur(p);
            feel_node *hi;
            p->i++;
            if ((rc = parse_add(p, &hi)) < 0 ||
                (rc = node_bin(p, N_RANGE, 0, dt, domain, hi, &domain)) < 0)
                goto done;
            domain->flags = FEEL_RANGE_LO_CLOSED | FEEL_RANGE_HI_CLOSED;
        }
        if ((rc = seq_push(&s, domain, name, len)) < 0 || (rc = local_push(p, name, len)) < 0)
            goto done;
        if (!at(p, TK_COMMA))
            break;
        p->i++;
    }
    if (kind == N_FOR) {
        if ((rc = expect_kw(p, KW_RETURN, "'return'")) < 0 ||
            (rc = local_push(p, "partial", 7)) < 0)
            goto done;
    } else if ((rc = expect_kw(p, KW_SATISFIES, "'satisfies'")) < 0) {
        goto done;
    }
    feel_node *body;
    if ((rc = parse_expr(p, &body)) < 0 || (rc = node_new(p, kind, t, 0, out)) < 0 ||
        (rc = seq_into(p, &s, *out, 1, true)) < 0)
        goto done;
    (*out)->kids[s.n] = body;
done:
    p->nlocals = locals_mark;
    seq_free(&s);
    return rc;
}

static int parse_if(parser *p, feel_node **out) {
    const feel_token *t = cur(p);
    p->i++;
    feel_node *c, *a, *b;
    TRY(parse_expr(p, &c));
    TRY(expect_kw(p, KW_THEN, "'then'"));
    TRY(parse_expr(p, &a));
    TRY(expect_kw(p, KW_ELSE, "'else'"));
    TRY(parse_expr(p, &b));
    TRY(node_new(p, N_IF, t, 3, out));
    (*out)->kids[0] = c;
    (*out)->kids[1] = a;
    (*out)->kids[2] = b;
    return 0;
}

/* A type for `instance of` and typed parameters: words, optionally <args>. */
static int parse_type(parser *p, feel_node **out) {
    const feel_token *t = cur(p);
    static const char *const multi[] = {"date and time", "days and time duration",
                                        "years and months duration"};
    const char *name = NULL;
    size_t len = 0;
    for (size_t k = 0; k < BT_ARRAY_LEN(multi) && !name; k++) {
        size_t words = 1;
        for (const char *c = multi[k]; *c; c++)
            words += *c == ' ';
        char text[64];
        bool all_words = true;
        for (size_t w = 0; w < words; w++)
            all_words = all_words && is_word(peek(p, w));
        if (all_words && words_text(p, p->i, p->i + words - 1, text, sizeof text) &&
            strcmp(text, multi[k]) == 0) {
            name = multi[k];
            len = strlen(name);
            p->i += words;
        }
    }
    if (!name) {
        if (at_kw(p, KW_FUNCTION) || at_kw(p, KW_NULL)) {
            name = at_kw(p, KW_FUNCTION) ? "function" : "Null";
            len = strlen(name);
            p->i++;
        } else if (at(p, TK_NAME) && cur(p)->kw == KW_NONE) {
            name = arena_strndup(p->e, p->src + t->off, t->len);
            len = t->len;
            if (!name)
                return BT_ENOMEM;
            p->i++;
        } else {
            return expected(p, "a type name");
        }
    }
    seq s = {0};
    int rc = 0;
    if (at(p, TK_LT)) {
        p->i++;
        for (;;) {
            const char *key = NULL;
            size_t klen = 0;
            feel_node *arg;
            if (at_words_colon(p) &&
                ((rc = parse_key_words(p, &key, &klen)) < 0 || (rc = expect(p, TK_COLON)) < 0))
                goto done;
            if ((rc = parse_type(p, &arg)) < 0 || (rc = seq_push(&s, arg, key, klen)) < 0)
                goto done;
            if (!at(p, TK_COMMA))
                break;
            p->i++;
        }
        if ((rc = expect(p, TK_GT)) < 0)
            goto done;
    }
    if ((rc = node_new(p, N_TYPE, t, 0, out)) < 0 || (rc = seq_into(p, &s, *out, 0, true)) < 0)
        goto done;
    (*out)->name = name;
    (*out)->name_len = len;
done:
    seq_free(&s);
    return rc;
}

static int parse_function_def(parser *p, feel_node **out) {
    const feel_token *t = cur(p);
    p->i++;
    TRY(expect(p, TK_LPAREN));
    seq s = {0};
    size_t locals_mark = p->nlocals;
    int rc = 0;
    while (!at(p, TK_RPAREN)) {
        const char *name;
        size_t len;
        if ((rc = parse_name(p, &name, &len, false)) < 0)
            goto done;
        if (at(p, TK_COLON)) { /* a parameter type: accepted, not checked */
            feel_node *type;
            p->i++;
            if ((rc = parse_type(p, &type)) < 0)
                goto done;
        }
        if ((rc = seq_push(&s, NULL, name, len)) < 0 || (rc = local_push(p, name, len)) < 0)
            goto done;
        if (!at(p, TK_COMMA))
            break;
        p->i++;
    }
    feel_node *body;
    if ((rc = expect(p, TK_RPAREN)) < 0 || (rc = parse_expr(p, &body)) < 0 ||
        (rc = node_new(p, N_FUNCDEF, t, 0, out)) < 0 || (rc = seq_into(p, &s, *out, 1, true)) < 0)
        goto done;
    (*out)->kids[0] = body;
done:
    p->nlocals = locals_mark;
    seq_free(&s);
    return rc;
}

static int parse_temporal(parser *p, feel_node **out) {
    const feel_token *t = cur(p);
    feel_value *text, *v = NULL;
    TRY(decode_string(p, t, 1, &text));
    size_t len;
    const char *s = feel_string_ptr(text, &len);
    int rc = feel_temporal_from_literal(s, len, &v);
    feel_value_unref(text);
    if (rc == BT_ENOMEM)
        return rc;
    if (rc < 0)
        return fail_at(p, t, "invalid temporal literal");
    p->i++;
    return node_const(p, t, v, out);
}

static int parse_primary(parser *p, feel_node **out) {
    const feel_token *t = cur(p);
    switch (t->kind) {
    case TK_NUMBER: return parse_number(p, out);
    case TK_STRING: {
        feel_value *v;
        TRY(decode_string(p, t, 0, &v));
        p->i++;
        return node_const(p, t, v, out);
    }
    case TK_AT: return parse_temporal(p, out);
    case TK_QUESTION:
        p->i++;
        p->inputs++;
        return node_new(p, N_INPUT, t, 0, out);
    case TK_LPAREN: {
        p->i++;
        feel_node *e;
        TRY(parse_nested(p, &e));
        if (at(p, TK_DOTDOT)) {
            p->i++;
            return finish_interval(p, t, false, e, out);
        }
        TRY(expect(p, TK_RPAREN));
        *out = e;
        return 0;
    }
    case TK_RBRACKET: { /* ]a..b] : an interval open at its start */
        p->i++;
        feel_node *e;
        TRY(parse_add(p, &e));
        TRY(expect(p, TK_DOTDOT));
        return finish_interval(p, t, false, e, out);
    }
    case TK_LBRACKET: return parse_list_or_interval(p, out);
    case TK_LBRACE: return parse_context(p, out);
    case TK_BACKTICK:
    case TK_NAME:
        switch (t->kw) {
        case KW_TRUE: p->i++; return node_const(p, t, feel_bool(true), out);
        case KW_FALSE: p->i++; return node_const(p, t, feel_bool(false), out);
        case KW_NULL: p->i++; return node_const(p, t, feel_null(), out);
        case KW_IF: return parse_if(p, out);
        case KW_FOR: return parse_iteration(p, N_FOR, out);
        case KW_SOME: return parse_iteration(p, N_SOME, out);
        case KW_EVERY: return parse_iteration(p, N_EVERY, out);
        case KW_FUNCTION: return parse_function_def(p, out);
        case KW_NONE: {
            const char *name;
            size_t len;
            TRY(parse_name(p, &name, &len, true));
            TRY(node_new(p, N_NAME, t, 0, out));
            (*out)->name = name;
            (*out)->name_len = len;
            return 0;
        }
        default: return fail_at(p, t, "unexpected '%.*s'", (int)t->len, p->src + t->off);
        }
    case TK_EOF: return expected(p, "an expression");
    default: return fail_at(p, t, "expected an expression but found %s", feel_tok_name(t->kind));
    }
}

/* "(" arguments ")" after callee; resolves built-ins. */
static int parse_call(parser *p, feel_node *callee, feel_node **out) {
    const feel_token *t = cur(p);
    p->i++; /* ( */
    seq s = {0};
    bool named = false;
    int rc = 0;
    while (!at(p, TK_RPAREN)) {
        const char *name = NULL;
        size_t len = 0;
        const feel_token *at_tok = cur(p);
        bool this_named = at_words_colon(p);
        if (s.n > 0 && this_named != named) {
            rc = fail_at(p, at_tok, "cannot mix named and positional arguments");
            goto done;
        }
        named = this_named;
        if (named && ((rc = parse_key_words(p, &name, &len)) < 0 || (rc = expect(p, TK_COLON)) < 0))
            goto done;
        feel_node *arg;
        if ((rc = parse_nested(p, &arg)) < 0 || (rc = seq_push(&s, arg, name, len)) < 0)
            goto done;
        if (!at(p, TK_COMMA))
            break;
        p->i++;
    }
    if ((rc = expect(p, TK_RPAREN)) < 0)
        goto done;

    const feel_builtin *first = NULL;
    if (callee->kind == N_NAME && !local_bound(p, callee->name, callee->name_len))
        first = feel_builtin_find(callee->name, callee->name_len);
    if (!first) {
        if ((rc = node_new(p, N_CALL, t, 0, out)) < 0 || (rc = seq_into(p, &s, *out, 1, named)) < 0)
            goto done;
        memmove((*out)->kids + 1, (*out)->kids, s.n * sizeof *(*out)->kids);
        (*out)->kids[0] = callee;
        goto done;
    }
    const feel_builtin *b;
    if (!named) {
        b = feel_builtin_pick(first, s.n);
        if (!b) {
            rc = fail_at(p, t, "%s() does not take %zu argument%s", first->name, s.n,
                         s.n == 1 ? "" : "s");
            goto done;
        }
        if ((rc = node_new(p, N_CALL, t, 0, out)) < 0 || (rc = seq_into(p, &s, *out, 1, false)) < 0)
            goto done;
        memmove((*out)->kids + 1, (*out)->kids, s.n * sizeof *(*out)->kids);
    } else {
        int pos[16];
        if (s.n > BT_ARRAY_LEN(pos)) {
            rc = fail_at(p, t, "too many arguments");
            goto done;
        }
        b = feel_builtin_pick_named(first, s.names, s.lens, s.n, pos);
        if (!b) {
            rc = fail_at(p, t, "%s() has no parameters with these names (it takes: %s)",
                         first->name, first->params);
            goto done;
        }
        int count = 0;
        for (size_t k = 0; k < s.n; k++)
            if (pos[k] + 1 > count)
                count = pos[k] + 1;
        if (count < b->min_args) {
            rc = fail_at(p, t, "%s() needs %d arguments", b->name, b->min_args);
            goto done;
        }
        if ((rc = node_new(p, N_CALL, t, (uint32_t)count + 1, out)) < 0)
            goto done;
        for (int k = 0; k < count; k++) {
            feel_node *nul;
            if ((rc = node_const(p, t, feel_null(), &nul)) < 0)
                goto done;
            (*out)->kids[k + 1] = nul;
        }
        for (size_t k = 0; k < s.n; k++)
            (*out)->kids[pos[k] + 1] = s.kids[k];
        (*out)->n = (uint32_t)count;
    }
    (*out)->kids[0] = NULL;
    (*out)->builtin = b;
done:
    seq_free(&s);
    return rc;
}

static int parse_postfix(parser *p, feel_node **out) {
    feel_node *e;
    TRY(parse_primary(p, &e));
    for (;;) {
        const feel_token *t = cur(p);
        if (t->kind == TK_DOT) {
            p->i++;
            feel_node *n;
            uint16_t h = 0;
            TRY(chain_height(p, t, e, NULL, &h));
            TRY(node_new(p, N_PATH, t, 1, &n));
            n->kids[0] = e;
            n->height = h;
            if (at(p, TK_NAME) && cur(p)->kw != KW_NONE) { /* a key that is a keyword */
                const feel_token *w = cur(p);
                n->name = arena_strndup(p->e, p->src + w->off, w->len);
                n->name_len = w->len;
                p->i++;
                if (!n->name)
                    return BT_ENOMEM;
            } else {
                TRY(parse_name(p, &n->name, &n->name_len, false));
            }
            e = n;
        } else if (t->kind == TK_LBRACKET && !p->no_filter) {
            p->i++;
            feel_node *cond;
            TRY(parse_nested(p, &cond));
            TRY(expect(p, TK_RBRACKET));
            TRY(node_bin(p, N_FILTER, 0, t, e, cond, &e));
        } else if (t->kind == TK_LPAREN) {
            uint16_t h = 0;
            TRY(chain_height(p, t, e, NULL, &h));
            TRY(parse_call(p, e, &e));
            e->height = h;
        } else {
            break;
        }
    }
    *out = e;
    return 0;
}

static int parse_unary(parser *p, feel_node **out) {
    if (!at(p, TK_MINUS))
        return parse_postfix(p, out);
    const feel_token *t = cur(p);
    p->i++;
    TRY(enter(p));
    feel_node *e;
    int rc = parse_unary(p, &e);
    p->depth--;
    TRY(rc);
    if (e->kind == N_CONST && feel_value_type(e->val) == FEEL_NUMBER) { /* fold -5 */
        feel_value *neg = e->val->is_int && e->val->u.i != INT64_MIN
                              ? feel_number_from_int(-e->val->u.i)
                              : feel_number_from_dec(feel_dec_neg(feel_number_dec(e->val)));
        return node_const(p, t, neg, out);
    }
    TRY(node_new(p, N_NEG, t, 1, out));
    (*out)->kids[0] = e;
    return 0;
}

static int parse_pow(parser *p, feel_node **out) {
    TRY(parse_unary(p, out));
    while (at(p, TK_POW)) {
        const feel_token *t = cur(p);
        p->i++;
        feel_node *b;
        TRY(parse_unary(p, &b));
        TRY(node_bin(p, N_ARITH, TK_POW, t, *out, b, out));
    }
    return 0;
}

static int parse_mul(parser *p, feel_node **out) {
    TRY(parse_pow(p, out));
    while (at(p, TK_STAR) || at(p, TK_SLASH)) {
        const feel_token *t = cur(p);
        p->i++;
        feel_node *b;
        TRY(parse_pow(p, &b));
        TRY(node_bin(p, N_ARITH, t->kind, t, *out, b, out));
    }
    return 0;
}

static int parse_add(parser *p, feel_node **out) {
    TRY(enter(p));
    int rc = parse_mul(p, out);
    while (rc == 0 && (at(p, TK_PLUS) || at(p, TK_MINUS))) {
        const feel_token *t = cur(p);
        p->i++;
        feel_node *b;
        if ((rc = parse_mul(p, &b)) == 0)
            rc = node_bin(p, N_ARITH, t->kind, t, *out, b, out);
    }
    p->depth--;
    return rc;
}

/* One positive unary test (after `in`, or in a unary-tests list). full:
 * the test may be any expression (`? > 5 and ? < 9`), not only an additive
 * one (after a bare `in`, `and` belongs to the enclosing expression). */
static int parse_test(parser *p, bool full, feel_node **out) {
    const feel_token *t = cur(p);
    switch (t->kind) {
    case TK_LT:
    case TK_LE:
    case TK_GT:
    case TK_GE:
    case TK_EQ:
    case TK_NE: {
        p->i++;
        feel_node *e;
        TRY(parse_add(p, &e));
        TRY(node_new(p, N_UT_CMP, t, 1, out));
        (*out)->op = (uint8_t)t->kind;
        (*out)->kids[0] = e;
        return 0;
    }
    default: break;
    }
    feel_node *e;
    int inputs = p->inputs;
    TRY(full ? parse_nested(p, &e) : parse_add(p, &e));
    TRY(node_new(p, N_UT_EXPR, t, 1, out));
    (*out)->kids[0] = e;
    if (p->inputs != inputs)
        (*out)->flags |= FEEL_NODE_USES_INPUT;
    return 0;
}

/* `not(` opening negated unary tests. */
static bool at_not(parser *p) {
    const feel_token *t = cur(p);
    return t->kind == TK_NAME && t->len == 3 && memcmp(p->src + t->off, "not", 3) == 0 &&
           peek(p, 1)->kind == TK_LPAREN;
}

static int parse_tests(parser *p, feel_tok end, feel_node **out);

/* not(tests): none of the tests holds. */
static int parse_not(parser *p, feel_node **out) {
    p->i += 2;
    bool saved = p->no_filter;
    p->no_filter = false;
    int rc = parse_tests(p, TK_RPAREN, out);
    p->no_filter = saved;
    TRY(rc);
    TRY(expect(p, TK_RPAREN));
    (*out)->kind = N_UT_NOT;
    return 0;
}

/* Unary tests separated by commas until end; for `in (...)` and standalone
 * unary tests. Handles `-` and `not(...)`. */
static int parse_tests(parser *p, feel_tok end, feel_node **out) {
    const feel_token *t = cur(p);
    seq s = {0};
    int rc = 0;
    for (;;) {
        feel_node *test;
        const feel_token *tt = cur(p);
        if (tt->kind == TK_MINUS && (peek(p, 1)->kind == end || peek(p, 1)->kind == TK_COMMA)) {
            p->i++;
            rc = node_new(p, N_UT_ANY, tt, 0, &test);
        } else if (at_not(p)) {
            rc = parse_not(p, &test);
        } else {
            rc = parse_test(p, true, &test);
        }
        if (rc < 0 || (rc = seq_push(&s, test, NULL, 0)) < 0)
            goto done;
        if (!at(p, TK_COMMA))
            break;
        p->i++;
    }
    if ((rc = node_new(p, N_UT_OR, t, 0, out)) == 0)
        rc = seq_into(p, &s, *out, 0, false);
done:
    seq_free(&s);
    return rc;
}

/* The right side of `in`: one test, or "(" tests ")" unless the parenthesis
 * opens an interval. */
static int parse_in_rhs(parser *p, feel_node **out) {
    if (at_not(p))
        return parse_not(p, out);
    if (at(p, TK_LPAREN)) {
        size_t mark = p->i;
        p->i++;
        feel_node *tests;
        bool saved = p->no_filter;
        p->no_filter = false;
        int rc = parse_tests(p, TK_RPAREN, &tests);
        p->no_filter = saved;
        TRY(rc);
        if (!at(p, TK_DOTDOT)) {
            TRY(expect(p, TK_RPAREN));
            *out = tests;
            return 0;
        }
        p->i = mark; /* (a..b): an interval */
    }
    return parse_test(p, false, out);
}

static int parse_cmp(parser *p, feel_node **out) {
    TRY(parse_add(p, out));
    for (;;) {
        const feel_token *t = cur(p);
        feel_node *b, *c;
        if (t->kind >= TK_EQ && t->kind <= TK_GE) {
            p->i++;
            TRY(parse_add(p, &b));
            TRY(node_bin(p, N_CMP, t->kind, t, *out, b, out));
        } else if (at_kw(p, KW_BETWEEN)) {
            p->i++;
            TRY(parse_add(p, &b));
            TRY(expect_kw(p, KW_AND, "'and'"));
            TRY(parse_add(p, &c));
            feel_node *n;
            TRY(node_new(p, N_BETWEEN, t, 3, &n));
            n->kids[0] = *out;
            n->kids[1] = b;
            n->kids[2] = c;
            *out = n;
        } else if (at_kw(p, KW_IN)) {
            p->i++;
            TRY(parse_in_rhs(p, &b));
            TRY(node_bin(p, N_IN, 0, t, *out, b, out));
        } else if (at_kw(p, KW_INSTANCE)) {
            p->i++;
            TRY(expect_kw(p, KW_OF, "'of'"));
            TRY(parse_type(p, &b));
            TRY(node_bin(p, N_INSTANCE, 0, t, *out, b, out));
        } else {
            return 0;
        }
    }
}

static int parse_and(parser *p, feel_node **out) {
    TRY(parse_cmp(p, out));
    while (at_kw(p, KW_AND)) {
        const feel_token *t = cur(p);
        p->i++;
        feel_node *b;
        TRY(parse_cmp(p, &b));
        TRY(node_bin(p, N_AND, 0, t, *out, b, out));
    }
    return 0;
}

static int parse_or(parser *p, feel_node **out) {
    TRY(parse_and(p, out));
    while (at_kw(p, KW_OR)) {
        const feel_token *t = cur(p);
        p->i++;
        feel_node *b;
        TRY(parse_and(p, &b));
        TRY(node_bin(p, N_OR, 0, t, *out, b, out));
    }
    return 0;
}

static int parse_expr(parser *p, feel_node **out) {
    TRY(enter(p));
    int rc = parse_or(p, out);
    p->depth--;
    return rc;
}

/* ---- public -------------------------------------------------------------------------- */

static int compile(const char *src, size_t len, bool unary_tests, feel_expr **out, bt_error *err) {
    *out = NULL;
    bt_error_clear(err);
    /* Expressions are UTF-8 text: refuse anything else up front, so no
     * invalid byte reaches a string value (and from there JSON). */
    for (size_t i = 0, column = 1; i < len; column++) {
        size_t n = feel_utf8_seq((const unsigned char *)src + i, len - i);
        if (n == 0) {
            if (err)
                err->column = (int)column;
            return bt_error_set(err, BT_EINVAL, "invalid UTF-8 at column %zu", column);
        }
        i += n;
    }
    feel_expr *e = bt_calloc(1, sizeof *e);
    if (!e)
        return bt_error_set(err, BT_ENOMEM, "out of memory");
    e->refs = 1;
    e->unary_tests = unary_tests;
    e->source = bt_strndup(src, len);
    e->source_len = len;
    parser p = {.src = src, .e = e, .err = err};
    int rc = e->source ? feel_lex(src, len, &p.t, &p.ntok, err) : BT_ENOMEM;
    if (rc == 0) {
        if (unary_tests)
            rc = parse_tests(&p, TK_EOF, &e->root);
        else
            rc = parse_expr(&p, &e->root);
        if (rc == 0 && !at(&p, TK_EOF)) {
            const feel_token *t = cur(&p);
            if (t->kind == TK_RPAREN || t->kind == TK_RBRACKET || t->kind == TK_RBRACE)
                rc = fail_at(&p, t, "unexpected %s", feel_tok_name(t->kind));
            else
                rc = expected(&p, "an operator or end of expression");
        }
    }
    bt_free(p.t);
    bt_free(p.locals);
    if (rc < 0) {
        if (rc == BT_ENOMEM)
            bt_error_set(err, BT_ENOMEM, "out of memory");
        feel_expr_free(e);
        return rc;
    }
    *out = e;
    return 0;
}

int feel_compile(const char *src, size_t len, feel_expr **out, bt_error *err) {
    return compile(src, len, false, out, err);
}

int feel_compile_unary_tests(const char *src, size_t len, feel_expr **out, bt_error *err) {
    return compile(src, len, true, out, err);
}

void feel_expr_unref(feel_expr *e) {
    if (!e || __atomic_sub_fetch(&e->refs, 1, __ATOMIC_ACQ_REL) != 0)
        return;
    for (size_t i = 0; i < e->nconsts; i++)
        feel_value_unref(e->consts[i]);
    bt_free(e->consts);
    while (e->arena) {
        feel_arena_block *next = e->arena->next;
        bt_free(e->arena);
        e->arena = next;
    }
    bt_free(e->source);
    bt_free(e);
}

void feel_expr_free(feel_expr *e) {
    feel_expr_unref(e);
}

const char *feel_expr_source(const feel_expr *e) {
    return e ? e->source : NULL;
}

bool feel_expr_is_unary_tests(const feel_expr *e) {
    return e && e->unary_tests;
}
