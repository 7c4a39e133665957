/*
 * eval.c — evaluates a compiled FEEL expression.
 *
 * A tree walk: eval() returns 0 and a new reference in *out, or a negative
 * code for a hard failure (out of memory, calls nested too deeply), which
 * unwinds the whole evaluation. Everything FEEL calls an error at run time
 * (a missing variable, 1 + "a", a division by zero) is a null result plus a
 * warning: the first one is kept in the feel_eval_state, as feel_eval's
 * contract says.
 *
 * Scopes are frames on the C stack (feel_scope): a single binding (loop
 * variables, parameters, `item`, `?`, `partial`) or a whole context (the
 * context literal being built, the fields of a filtered item, a closure's
 * captured variables). Lookup walks the frames, then asks the feel_env.
 * Nothing in the tree is written during evaluation, so one feel_expr serves
 * concurrent evaluations.
 *
 * The hot path (`amount > 100` on an integer variable) allocates nothing:
 * the variable is borrowed from the environment and referenced, the
 * constant is referenced, the comparison of two int64 numbers yields one of
 * the static booleans.
 *
 * Logic is three-valued: `false and null` is false, `true and null` is null;
 * `if` takes the else branch unless the condition is true.
 */
#include <stdio.h>
#include <string.h>

#include "feel/builtins.h"

#define TRY(x)                                                                                     \
    do {                                                                                           \
        int rc_ = (x);                                                                             \
        if (rc_ < 0)                                                                               \
            return rc_;                                                                            \
    } while (0)

/* Calls of user-defined functions nested deeper than this fail hard. */
#define FEEL_MAX_CALL_DEPTH 256

static int eval(feel_eval_state *E, const feel_node *n, const feel_scope *s, feel_value **out);

void feel_warn(feel_eval_state *E, const char *fmt, ...) {
    if (E->warned || E->quiet)
        return;
    E->warned = true;
    if (!E->warning)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(E->warning->message, sizeof E->warning->message, fmt, ap);
    va_end(ap);
    E->warning->code = BT_EEVAL;
}

static int null_out(feel_value **out) {
    *out = feel_null();
    return 0;
}

static int take(feel_value *v, feel_value **out) {
    if (!v)
        return BT_ENOMEM;
    *out = v;
    return 0;
}

/* ---- names ---------------------------------------------------------------- */

static const feel_value *scope_lookup(const feel_eval_state *E, const feel_scope *s,
                                      const char *name, size_t len) {
    for (; s; s = s->up) {
        if (s->ctx) {
            const feel_value *v = feel_context_get(s->ctx, name, len);
            if (v)
                return v;
        } else if (s->len == len && memcmp(s->name, name, len) == 0) {
            return s->val;
        }
    }
    if (E->env && E->env->lookup)
        return E->env->lookup(E->env->ud, name, len);
    return NULL;
}

static int builtin_value(const feel_builtin *b, feel_value **out) {
    feel_value *f = feel_value_alloc(FEEL_FUNCTION);
    if (!f)
        return BT_ENOMEM;
    f->u.fn.builtin = b;
    *out = f;
    return 0;
}

static int eval_name(feel_eval_state *E, const feel_node *n, const feel_scope *s,
                     feel_value **out) {
    const feel_value *v = scope_lookup(E, s, n->name, n->name_len);
    if (v) {
        *out = feel_value_ref((feel_value *)v);
        return 0;
    }
    const feel_builtin *b = feel_builtin_find(n->name, n->name_len);
    if (b)
        return builtin_value(b, out);
    E->missing = true;
    feel_warn(E, "no variable found with name '%s'", n->name);
    return null_out(out);
}

/* ---- arithmetic ------------------------------------------------------------- */

static const char *op_verb(int op) {
    switch (op) {
    case TK_PLUS: return "add";
    case TK_MINUS: return "subtract";
    case TK_STAR: return "multiply";
    case TK_SLASH: return "divide";
    default: return "exponentiate";
    }
}

static int number_arith(feel_eval_state *E, int op, const feel_value *a, const feel_value *b,
                        feel_value **out) {
    if (a->is_int && b->is_int) {
        int64_t x = a->u.i, y = b->u.i, r;
        switch (op) {
        case TK_PLUS:
            if (!__builtin_add_overflow(x, y, &r))
                return take(feel_number_from_int(r), out);
            break;
        case TK_MINUS:
            if (!__builtin_sub_overflow(x, y, &r))
                return take(feel_number_from_int(r), out);
            break;
        case TK_STAR:
            if (!__builtin_mul_overflow(x, y, &r))
                return take(feel_number_from_int(r), out);
            break;
        case TK_SLASH:
            if (y != 0 && y != -1 && x % y == 0)
                return take(feel_number_from_int(x / y), out);
            break;
        default: break;
        }
    }
    feel_dec x = feel_number_dec(a), y = feel_number_dec(b), r;
    int rc;
    switch (op) {
    case TK_PLUS: rc = feel_dec_add(x, y, &r); break;
    case TK_MINUS: rc = feel_dec_sub(x, y, &r); break;
    case TK_STAR: rc = feel_dec_mul(x, y, &r); break;
    case TK_SLASH: rc = feel_dec_div(x, y, &r); break;
    default: rc = feel_dec_pow(x, y, &r); break;
    }
    if (rc < 0) {
        feel_warn(E, "can't %s: the result is undefined (%s)", op_verb(op),
                  op == TK_SLASH ? "division by zero" : "out of range");
        return null_out(out);
    }
    return take(feel_number_from_dec(r), out);
}

static bool is_temporal_type(feel_type t) {
    return t >= FEEL_DATE && t <= FEEL_YEARS_MONTHS_DURATION;
}

/* a op b, both owned by the caller. */
static int arith(feel_eval_state *E, int op, const feel_value *a, const feel_value *b,
                 feel_value **out) {
    feel_type ta = feel_value_type(a), tb = feel_value_type(b);
    if (ta == FEEL_NUMBER && tb == FEEL_NUMBER)
        return number_arith(E, op, a, b, out);
    if (op == TK_PLUS && ta == FEEL_STRING && tb == FEEL_STRING) {
        feel_value *v = feel_string_concat(a->u.str.s, a->u.str.len, b->u.str.s, b->u.str.len);
        return take(v, out);
    }
    if (op != TK_POW && (is_temporal_type(ta) || is_temporal_type(tb))) {
        int rc = feel_temporal_arith(op, a, b, out);
        if (rc == 0 || rc == BT_ENOMEM)
            return rc;
        if (rc == BT_EEVAL) {
            feel_warn(E, "can't %s %s and %s: the result is out of range", op_verb(op),
                      feel_type_name(ta), feel_type_name(tb));
            return null_out(out);
        }
    }
    feel_warn(E, "can't %s %s and %s", op_verb(op), feel_type_name(ta), feel_type_name(tb));
    return null_out(out);
}

static int eval_arith(feel_eval_state *E, const feel_node *n, const feel_scope *s,
                      feel_value **out) {
    feel_value *a, *b;
    TRY(eval(E, n->kids[0], s, &a));
    int rc = eval(E, n->kids[1], s, &b);
    if (rc < 0) {
        feel_value_unref(a);
        return rc;
    }
    rc = arith(E, n->op, a, b, out);
    feel_value_unref(a);
    feel_value_unref(b);
    return rc;
}

static int eval_neg(feel_eval_state *E, const feel_node *n, const feel_scope *s, feel_value **out) {
    feel_value *a;
    TRY(eval(E, n->kids[0], s, &a));
    int rc;
    feel_type t = feel_value_type(a);
    if (t == FEEL_NUMBER) {
        if (a->is_int && a->u.i != INT64_MIN)
            rc = take(feel_number_from_int(-a->u.i), out);
        else
            rc = take(feel_number_from_dec(feel_dec_neg(feel_number_dec(a))), out);
    } else if (t == FEEL_DAYS_TIME_DURATION || t == FEEL_YEARS_MONTHS_DURATION) {
        feel_value *minus_one = feel_number_from_int(-1);
        rc = minus_one ? arith(E, TK_STAR, a, minus_one, out) : BT_ENOMEM;
        feel_value_unref(minus_one);
    } else {
        feel_warn(E, "can't negate %s", feel_type_name(t));
        rc = null_out(out);
    }
    feel_value_unref(a);
    return rc;
}

/* ---- comparison ---------------------------------------------------------------- */

/* a op b for op in TK_EQ..TK_GE: a boolean, or null (with a warning) when
 * the values do not compare. */
static feel_value *compare(feel_eval_state *E, int op, const feel_value *a, const feel_value *b) {
    feel_type ta = feel_value_type(a), tb = feel_value_type(b);
    if (op == TK_EQ || op == TK_NE) {
        bool eq;
        if (ta == FEEL_NULL || tb == FEEL_NULL) {
            eq = ta == tb;
        } else if (ta != tb) {
            feel_warn(E, "can't compare %s with %s", feel_type_name(ta), feel_type_name(tb));
            return feel_null();
        } else {
            eq = feel_value_equal(a, b);
        }
        return feel_bool(op == TK_EQ ? eq : !eq);
    }
    int c;
    if (feel_value_compare(a, b, &c) < 0) {
        if (ta != FEEL_NULL && tb != FEEL_NULL)
            feel_warn(E, "can't compare %s with %s", feel_type_name(ta), feel_type_name(tb));
        return feel_null();
    }
    switch (op) {
    case TK_LT: return feel_bool(c < 0);
    case TK_LE: return feel_bool(c <= 0);
    case TK_GT: return feel_bool(c > 0);
    default: return feel_bool(c >= 0);
    }
}

static int eval_cmp(feel_eval_state *E, const feel_node *n, const feel_scope *s, feel_value **out) {
    feel_value *a, *b;
    TRY(eval(E, n->kids[0], s, &a));
    int rc = eval(E, n->kids[1], s, &b);
    if (rc < 0) {
        feel_value_unref(a);
        return rc;
    }
    *out = compare(E, n->op, a, b);
    feel_value_unref(a);
    feel_value_unref(b);
    return 0;
}

/* Three-valued: 1 true, 0 false, -1 null or not a boolean. */
static int truth(const feel_value *v) {
    if (feel_value_type(v) != FEEL_BOOLEAN)
        return -1;
    return v->u.b ? 1 : 0;
}

static int eval_logic(feel_eval_state *E, const feel_node *n, const feel_scope *s,
                      feel_value **out) {
    bool is_and = n->kind == N_AND;
    feel_value *a, *b;
    TRY(eval(E, n->kids[0], s, &a));
    int ta = truth(a);
    feel_value_unref(a);
    if (ta == (is_and ? 0 : 1)) {
        *out = feel_bool(!is_and);
        return 0;
    }
    TRY(eval(E, n->kids[1], s, &b));
    int tb = truth(b);
    feel_value_unref(b);
    if (tb == (is_and ? 0 : 1))
        *out = feel_bool(!is_and);
    else if (ta == -1 || tb == -1)
        *out = feel_null();
    else
        *out = feel_bool(is_and);
    return 0;
}

/* ---- ranges and unary tests -------------------------------------------------------- */

/* Whether x lies in range r: a boolean, or null when not comparable. */
static feel_value *range_includes(feel_eval_state *E, const feel_value *r, const feel_value *x) {
    const feel_value *lo = r->u.range.lo, *hi = r->u.range.hi;
    int c;
    bool ok = true;
    if (feel_value_type(x) == FEEL_NULL)
        return feel_null();
    if (lo && feel_value_type(lo) != FEEL_NULL) {
        if (feel_value_compare(x, lo, &c) < 0) {
            feel_warn(E, "can't compare %s with %s", feel_type_name(feel_value_type(x)),
                      feel_type_name(feel_value_type(lo)));
            return feel_null();
        }
        ok = r->u.range.lo_closed ? c >= 0 : c > 0;
    }
    if (hi && feel_value_type(hi) != FEEL_NULL) {
        if (feel_value_compare(x, hi, &c) < 0) {
            feel_warn(E, "can't compare %s with %s", feel_type_name(feel_value_type(x)),
                      feel_type_name(feel_value_type(hi)));
            return feel_null();
        }
        ok = ok && (r->u.range.hi_closed ? c <= 0 : c < 0);
    }
    return feel_bool(ok);
}

/* How a unary test's value v applies to input: list → membership, range →
 * inclusion, boolean from a test mentioning '?' → itself, else equality. */
static feel_value *test_value(feel_eval_state *E, const feel_value *v, const feel_value *input,
                              bool uses_input) {
    switch (feel_value_type(v)) {
    case FEEL_LIST:
        if (feel_value_type(input) == FEEL_LIST && feel_value_equal(input, v))
            return feel_bool(true);
        for (size_t i = 0; i < v->u.list.n; i++) {
            const feel_value *item = v->u.list.items[i];
            if (feel_value_type(item) == FEEL_RANGE) {
                if (feel_value_is_true(range_includes(E, item, input)))
                    return feel_bool(true);
            } else if (feel_value_equal(item, input)) {
                return feel_bool(true);
            }
        }
        return feel_bool(false);
    case FEEL_RANGE: return range_includes(E, v, input);
    case FEEL_BOOLEAN:
        if (uses_input || feel_value_type(input) != FEEL_BOOLEAN)
            return (feel_value *)v;
        return feel_bool(feel_value_equal(v, input));
    default: return compare(E, TK_EQ, input, v);
    }
}

int feel_eval_test(feel_eval_state *E, const feel_node *t, const feel_value *input,
                   const feel_scope *s, feel_value **out) {
    if (!input)
        input = feel_null();
    feel_scope in = {.up = s, .name = "?", .len = 1, .val = input};
    feel_value *v;
    switch (t->kind) {
    case N_UT_ANY: *out = feel_bool(true); return 0;
    case N_UT_CMP:
        TRY(eval(E, t->kids[0], &in, &v));
        *out = compare(E, t->op, input, v);
        feel_value_unref(v);
        return 0;
    case N_UT_EXPR:
        TRY(eval(E, t->kids[0], &in, &v));
        *out = test_value(E, v, input, t->flags & FEEL_NODE_USES_INPUT);
        feel_value_unref(v);
        return 0;
    case N_UT_OR:
    case N_UT_NOT: {
        bool unknown = false, any = false;
        for (uint32_t i = 0; i < t->n && !any; i++) {
            TRY(feel_eval_test(E, t->kids[i], input, s, &v));
            int tv = truth(v);
            feel_value_unref(v);
            any = tv == 1;
            unknown = unknown || tv == -1;
        }
        if (!any && unknown)
            *out = feel_null();
        else
            *out = feel_bool(t->kind == N_UT_OR ? any : !any);
        return 0;
    }
    default: /* an ordinary expression as a test */
        TRY(eval(E, t, &in, &v));
        *out = test_value(E, v, input, false);
        feel_value_unref(v);
        return 0;
    }
}

static int eval_in(feel_eval_state *E, const feel_node *n, const feel_scope *s, feel_value **out) {
    feel_value *x;
    TRY(eval(E, n->kids[0], s, &x));
    int rc = feel_eval_test(E, n->kids[1], x, s, out);
    feel_value_unref(x);
    return rc;
}

static int eval_between(feel_eval_state *E, const feel_node *n, const feel_scope *s,
                        feel_value **out) {
    feel_value *v[3] = {NULL, NULL, NULL};
    int rc = 0;
    for (int i = 0; i < 3 && rc == 0; i++)
        rc = eval(E, n->kids[i], s, &v[i]);
    if (rc == 0) {
        feel_value *lo = compare(E, TK_GE, v[0], v[1]);
        feel_value *hi = compare(E, TK_LE, v[0], v[2]);
        int a = truth(lo), b = truth(hi);
        *out = a == 0 || b == 0 ? feel_bool(false) : a < 0 || b < 0 ? feel_null() : feel_bool(true);
    }
    for (int i = 0; i < 3; i++)
        feel_value_unref(v[i]);
    return rc;
}

static int eval_range(feel_eval_state *E, const feel_node *n, const feel_scope *s,
                      feel_value **out) {
    feel_value *lo, *hi;
    TRY(eval(E, n->kids[0], s, &lo));
    int rc = eval(E, n->kids[1], s, &hi);
    if (rc < 0) {
        feel_value_unref(lo);
        return rc;
    }
    feel_type tl = feel_value_type(lo), th = feel_value_type(hi);
    if (tl != FEEL_NULL && th != FEEL_NULL && tl != th) {
        feel_warn(E, "a range needs endpoints of one type, not %s and %s", feel_type_name(tl),
                  feel_type_name(th));
        feel_value_unref(lo);
        feel_value_unref(hi);
        return null_out(out);
    }
    return take(
        feel_range_new(lo, n->flags & FEEL_RANGE_LO_CLOSED, hi, n->flags & FEEL_RANGE_HI_CLOSED),
        out);
}

/* ---- iteration: for, some, every ---------------------------------------------------------- */

/* The items a `for`/`some`/`every` variable takes from value d: a list's
 * items, an integer range's numbers, or d itself. Fills *items (new list). */
static int domain_items(feel_eval_state *E, feel_value *d, feel_value **items) {
    if (feel_value_type(d) == FEEL_LIST) {
        *items = feel_value_ref(d);
        return 0;
    }
    feel_value *list = feel_list_new();
    if (!list)
        return BT_ENOMEM;
    if (feel_value_type(d) == FEEL_RANGE) {
        int64_t lo, hi;
        if (feel_number_to_int64(d->u.range.lo, &lo) < 0 ||
            feel_number_to_int64(d->u.range.hi, &hi) < 0) {
            feel_warn(E, "can iterate only over a range of integers");
            *items = list;
            return 0;
        }
        int64_t step = lo <= hi ? 1 : -1;
        if (!d->u.range.lo_closed)
            lo += step;
        if (!d->u.range.hi_closed)
            hi -= step;
        if ((step > 0 && lo > hi) || (step < 0 && lo < hi)) {
            *items = list;
            return 0;
        }
        if ((hi > lo ? (uint64_t)hi - (uint64_t)lo : (uint64_t)lo - (uint64_t)hi) > 10000000) {
            feel_value_unref(list);
            return BT_ELIMIT;
        }
        for (int64_t i = lo;; i += step) {
            if (feel_list_push(list, feel_number_from_int(i)) < 0) {
                feel_value_unref(list);
                return BT_ENOMEM;
            }
            if (i == hi)
                break;
        }
    } else if (feel_list_push(list, feel_value_ref(d)) < 0) {
        feel_value_unref(list);
        return BT_ENOMEM;
    }
    *items = list;
    return 0;
}

typedef struct iteration {
    const feel_node *n;
    feel_value *result; /* for: the list built so far */
    int verdict;        /* some/every: 1 decided, stop */
} iteration;

/* Binds variable k (and the following ones) over their domains. */
static int iterate(feel_eval_state *E, iteration *it, uint32_t k, const feel_scope *s) {
    const feel_node *n = it->n;
    if (k == n->n) {
        feel_value *v;
        if (n->kind == N_FOR) {
            feel_scope partial = {.up = s, .name = "partial", .len = 7, .val = it->result};
            TRY(eval(E, n->kids[n->n], &partial, &v));
            if (__atomic_load_n(&it->result->refs, __ATOMIC_RELAXED) >
                1) { /* the body kept `partial`: copy on write */
                feel_value *copy = feel_list_new();
                if (!copy) {
                    feel_value_unref(v);
                    return BT_ENOMEM;
                }
                for (size_t i = 0; i < it->result->u.list.n; i++)
                    if (feel_list_push(copy, feel_value_ref(it->result->u.list.items[i])) < 0) {
                        feel_value_unref(copy);
                        feel_value_unref(v);
                        return BT_ENOMEM;
                    }
                feel_value_unref(it->result);
                it->result = copy;
            }
            return feel_list_push(it->result, v);
        }
        TRY(eval(E, n->kids[n->n], s, &v));
        int t = truth(v);
        feel_value_unref(v);
        if ((n->kind == N_SOME && t == 1) || (n->kind == N_EVERY && t != 1))
            it->verdict = 1;
        return 0;
    }
    feel_value *d, *items;
    TRY(eval(E, n->kids[k], s, &d));
    int rc = domain_items(E, d, &items);
    feel_value_unref(d);
    TRY(rc);
    for (size_t i = 0; i < items->u.list.n && rc == 0 && !it->verdict; i++) {
        feel_scope var = {
            .up = s, .name = n->names[k], .len = n->name_lens[k], .val = items->u.list.items[i]};
        rc = iterate(E, it, k + 1, &var);
    }
    feel_value_unref(items);
    return rc;
}

static int eval_iteration(feel_eval_state *E, const feel_node *n, const feel_scope *s,
                          feel_value **out) {
    iteration it = {.n = n};
    if (n->kind == N_FOR && !(it.result = feel_list_new()))
        return BT_ENOMEM;
    int rc = iterate(E, &it, 0, s);
    if (n->kind == N_FOR) {
        if (rc < 0)
            feel_value_unref(it.result);
        else
            *out = it.result;
        return rc;
    }
    TRY(rc);
    *out = feel_bool(n->kind == N_SOME ? it.verdict : !it.verdict);
    return 0;
}

/* ---- lists, contexts, paths, filters ---------------------------------------------------- */

static int eval_list(feel_eval_state *E, const feel_node *n, const feel_scope *s,
                     feel_value **out) {
    feel_value *list = feel_list_new();
    if (!list)
        return BT_ENOMEM;
    for (uint32_t i = 0; i < n->n; i++) {
        feel_value *v;
        int rc = eval(E, n->kids[i], s, &v);
        if (rc == 0)
            rc = feel_list_push(list, v);
        if (rc < 0) {
            feel_value_unref(list);
            return rc;
        }
    }
    *out = list;
    return 0;
}

static int eval_context(feel_eval_state *E, const feel_node *n, const feel_scope *s,
                        feel_value **out) {
    feel_value *ctx = feel_context_new();
    if (!ctx)
        return BT_ENOMEM;
    feel_scope inner = {.up = s, .ctx = ctx};
    for (uint32_t i = 0; i < n->n; i++) {
        feel_value *v;
        int rc = eval(E, n->kids[i], &inner, &v);
        if (rc == 0)
            rc = feel_context_put(ctx, n->names[i], n->name_lens[i], v);
        if (rc < 0) {
            feel_value_unref(ctx);
            return rc;
        }
    }
    *out = ctx;
    return 0;
}

/* The value of property name of v (borrowed input), warning when absent. */
static int path_get(feel_eval_state *E, const feel_value *v, const char *name, size_t len,
                    feel_value **out) {
    switch (feel_value_type(v)) {
    case FEEL_CONTEXT: {
        const feel_value *r = feel_context_get(v, name, len);
        if (!r) {
            E->missing = true;
            feel_warn(E, "no context entry found with key '%.*s'", (int)len, name);
            return null_out(out);
        }
        *out = feel_value_ref((feel_value *)r);
        return 0;
    }
    case FEEL_RANGE:
        if (len == 5 && memcmp(name, "start", 5) == 0)
            *out = feel_value_ref(v->u.range.lo ? v->u.range.lo : feel_null());
        else if (len == 3 && memcmp(name, "end", 3) == 0)
            *out = feel_value_ref(v->u.range.hi ? v->u.range.hi : feel_null());
        else if (len == 14 && memcmp(name, "start included", 14) == 0)
            *out = feel_bool(v->u.range.lo_closed);
        else if (len == 12 && memcmp(name, "end included", 12) == 0)
            *out = feel_bool(v->u.range.hi_closed);
        else
            break;
        return 0;
    case FEEL_NULL: return null_out(out);
    default:
        if (is_temporal_type(feel_value_type(v))) {
            int rc = feel_temporal_property(v, name, len, out);
            if (rc != BT_ENOTFOUND)
                return rc;
        }
        break;
    }
    feel_warn(E, "no property '%.*s' on a %s", (int)len, name, feel_type_name(feel_value_type(v)));
    return null_out(out);
}

static int eval_path(feel_eval_state *E, const feel_node *n, const feel_scope *s,
                     feel_value **out) {
    feel_value *base;
    TRY(eval(E, n->kids[0], s, &base));
    int rc;
    if (feel_value_type(base) == FEEL_LIST) { /* projection: the property of each item */
        feel_value *list = feel_list_new();
        rc = list ? 0 : BT_ENOMEM;
        for (size_t i = 0; rc == 0 && i < base->u.list.n; i++) {
            feel_value *v;
            if ((rc = path_get(E, base->u.list.items[i], n->name, n->name_len, &v)) == 0)
                rc = feel_list_push(list, v);
        }
        if (rc < 0)
            feel_value_unref(list);
        else
            *out = list;
    } else {
        rc = path_get(E, base, n->name, n->name_len, out);
    }
    feel_value_unref(base);
    return rc;
}

/* Evaluates cond for one item, with `item` and the item's entries in scope. */
static int filter_one(feel_eval_state *E, const feel_node *cond, const feel_value *item,
                      const feel_scope *s, feel_value **out) {
    feel_scope named = {.up = s, .name = "item", .len = 4, .val = item};
    feel_scope fields = {.up = &named, .ctx = item};
    return eval(E, cond, feel_value_type(item) == FEEL_CONTEXT ? &fields : &named, out);
}

static int eval_filter(feel_eval_state *E, const feel_node *n, const feel_scope *s,
                       feel_value **out) {
    feel_value *base, *list = NULL, *result = NULL;
    TRY(eval(E, n->kids[0], s, &base));
    int rc = 0;
    if (feel_value_type(base) == FEEL_LIST) {
        list = base;
    } else if (!(list = feel_list_new()) || feel_list_push(list, base) < 0) {
        feel_value_unref(list);
        return BT_ENOMEM;
    }
    size_t count = list->u.list.n;
    const feel_node *cond = n->kids[1];
    if (cond->kind == N_CONST || count == 0) {
        /* a constant index or predicate: evaluate once */
        feel_value *c;
        if ((rc = count ? filter_one(E, cond, list->u.list.items[0], s, &c)
                        : eval(E, cond, s, &c)) < 0)
            goto done;
        if (feel_value_type(c) == FEEL_NUMBER) {
            int64_t i;
            if (feel_number_to_int64(c, &i) == 0 && i != 0 &&
                (i > 0 ? (uint64_t)i <= count : (uint64_t)-i <= count)) {
                result = feel_value_ref(list->u.list.items[i > 0 ? i - 1 : (int64_t)count + i]);
            } else {
                result = feel_null();
            }
            feel_value_unref(c);
            goto done;
        }
        feel_value_unref(c);
    }
    if (!(result = feel_list_new())) {
        rc = BT_ENOMEM;
        goto done;
    }
    for (size_t i = 0; i < count; i++) {
        feel_value *c;
        if ((rc = filter_one(E, cond, list->u.list.items[i], s, &c)) < 0)
            goto done;
        if (i == 0 && feel_value_type(c) == FEEL_NUMBER) { /* an index after all */
            int64_t k;
            feel_value_unref(result);
            if (feel_number_to_int64(c, &k) == 0 && k != 0 &&
                (k > 0 ? (uint64_t)k <= count : (uint64_t)-k <= count))
                result = feel_value_ref(list->u.list.items[k > 0 ? k - 1 : (int64_t)count + k]);
            else
                result = feel_null();
            feel_value_unref(c);
            goto done;
        }
        bool keep = feel_value_is_true(c);
        feel_value_unref(c);
        if (keep && (rc = feel_list_push(result, feel_value_ref(list->u.list.items[i]))) < 0)
            goto done;
    }
done:
    feel_value_unref(list);
    if (rc < 0) {
        feel_value_unref(result);
        return rc;
    }
    *out = result;
    return 0;
}

/* ---- types ---------------------------------------------------------------------------------- */

static bool name_is(const feel_node *t, const char *name) {
    return t->name_len == strlen(name) && memcmp(t->name, name, t->name_len) == 0;
}

static bool instance_of(const feel_value *v, const feel_node *t) {
    feel_type vt = feel_value_type(v);
    if (name_is(t, "Any"))
        return vt != FEEL_NULL;
    if (name_is(t, "Null"))
        return vt == FEEL_NULL;
    static const struct {
        const char *name;
        feel_type type;
    } simple[] = {
        {"number", FEEL_NUMBER},
        {"string", FEEL_STRING},
        {"boolean", FEEL_BOOLEAN},
        {"date", FEEL_DATE},
        {"time", FEEL_TIME},
        {"date and time", FEEL_DATE_TIME},
        {"dateTime", FEEL_DATE_TIME},
        {"days and time duration", FEEL_DAYS_TIME_DURATION},
        {"dayTimeDuration", FEEL_DAYS_TIME_DURATION},
        {"years and months duration", FEEL_YEARS_MONTHS_DURATION},
        {"yearMonthDuration", FEEL_YEARS_MONTHS_DURATION},
        {"list", FEEL_LIST},
        {"context", FEEL_CONTEXT},
        {"range", FEEL_RANGE},
        {"function", FEEL_FUNCTION},
    };
    for (size_t i = 0; i < BT_ARRAY_LEN(simple); i++) {
        if (!name_is(t, simple[i].name))
            continue;
        if (vt != simple[i].type)
            return false;
        if (t->n == 0)
            return true;
        if (vt == FEEL_LIST) {
            for (size_t k = 0; k < v->u.list.n; k++)
                if (!instance_of(v->u.list.items[k], t->kids[0]))
                    return false;
            return true;
        }
        if (vt == FEEL_RANGE)
            return (!v->u.range.lo || instance_of(v->u.range.lo, t->kids[0])) &&
                   (!v->u.range.hi || instance_of(v->u.range.hi, t->kids[0]));
        if (vt == FEEL_CONTEXT) {
            for (uint32_t k = 0; k < t->n; k++) {
                const feel_value *e =
                    t->names[k] ? feel_context_get(v, t->names[k], t->name_lens[k]) : NULL;
                if (!e || !instance_of(e, t->kids[k]))
                    return false;
            }
            return true;
        }
        return true;
    }
    return false;
}

/* ---- functions ---------------------------------------------------------------------------- */

/* Flattens the scope chain into a context (inner bindings win). */
static int capture(const feel_scope *s, feel_value *ctx) {
    if (!s)
        return 0;
    TRY(capture(s->up, ctx));
    if (s->ctx) {
        for (size_t i = 0; i < s->ctx->u.ctx.n; i++) {
            const feel_ctx_entry *e = &s->ctx->u.ctx.e[i];
            TRY(feel_context_put(ctx, e->key, e->len, feel_value_ref(e->val)));
        }
        return 0;
    }
    return feel_context_put(ctx, s->name, s->len, feel_value_ref((feel_value *)s->val));
}

static int eval_funcdef(feel_eval_state *E, const feel_node *n, const feel_scope *s,
                        feel_value **out) {
    feel_value *f = feel_value_alloc(FEEL_FUNCTION);
    if (!f)
        return BT_ENOMEM;
    if (!(f->u.fn.captured = feel_context_new())) {
        feel_value_unref(f);
        return BT_ENOMEM;
    }
    int rc = capture(s, f->u.fn.captured);
    if (rc < 0) {
        feel_value_unref(f);
        return rc;
    }
    f->u.fn.def = n;
    f->u.fn.owner = (feel_expr *)E->expr;
    __atomic_add_fetch(&f->u.fn.owner->refs, 1, __ATOMIC_RELAXED);
    *out = f;
    return 0;
}

static int call_lambda(feel_eval_state *E, const feel_value *fn, feel_value **args, size_t n,
                       feel_value **out) {
    const feel_node *def = fn->u.fn.def;
    if (n != def->n) {
        feel_warn(E, "the function takes %u argument%s, not %zu", def->n, def->n == 1 ? "" : "s",
                  n);
        return null_out(out);
    }
    if (E->depth >= FEEL_MAX_CALL_DEPTH)
        return BT_ELIMIT;
    feel_scope frames[16];
    feel_scope *many = NULL, *f = frames;
    if (n > BT_ARRAY_LEN(frames) && !(f = many = bt_malloc((n + 1) * sizeof *f)))
        return BT_ENOMEM;
    f[0] = (feel_scope){.ctx = fn->u.fn.captured};
    const feel_scope *s = &f[0];
    for (size_t i = 0; i < n; i++) {
        f[i + 1] = (feel_scope){.up = s,
                                .name = def->names[i],
                                .len = def->name_lens[i],
                                .val = args[i] ? args[i] : feel_null()};
        s = &f[i + 1];
    }
    const feel_expr *saved = E->expr;
    E->expr = fn->u.fn.owner;
    E->depth++;
    int rc = eval(E, def->kids[0], s, out);
    E->depth--;
    E->expr = saved;
    bt_free(many);
    return rc;
}

int feel_call_value(feel_eval_state *E, const feel_value *fn, feel_value **args, size_t n,
                    feel_value **out) {
    if (feel_value_type(fn) != FEEL_FUNCTION) {
        feel_warn(E, "can't call a %s", feel_type_name(feel_value_type(fn)));
        return null_out(out);
    }
    if (!fn->u.fn.builtin)
        return call_lambda(E, fn, args, n, out);
    const feel_builtin *b = feel_builtin_pick(fn->u.fn.builtin, n);
    if (!b) {
        feel_warn(E, "%s() does not take %zu arguments", fn->u.fn.builtin->name, n);
        return null_out(out);
    }
    return b->fn(E, args, n, out);
}

/* DMN's implicit conversions of arguments (DMN 1.3 §10.3.2.9.4): "to
 * singleton list" wraps each non-list argument where b takes a list;
 * "from singleton list" unwraps a one-item list where b takes neither a
 * list nor any value. args are owned by the caller, who releases the
 * replacements. */
static int convert_args(const feel_builtin *b, feel_value **args, size_t n) {
    for (size_t i = 0; i < n; i++) {
        bool takes_list = b->list_args == FEEL_LIST_ARGS_ALL || (i < 32 && (b->list_args >> i) & 1);
        bool takes_any = b->max_args < 0 || (i < 32 && (b->any_args >> i) & 1);
        feel_type t = feel_value_type(args[i]);
        if (!takes_list) {
            if (!takes_any && t == FEEL_LIST && args[i]->u.list.n == 1) {
                feel_value *item = feel_value_ref(args[i]->u.list.items[0]);
                feel_value_unref(args[i]);
                args[i] = item;
            }
            continue;
        }
        if (t == FEEL_LIST || t == FEEL_NULL)
            continue;
        feel_value *list = feel_list_new();
        if (!list || feel_list_push(list, feel_value_ref(args[i])) < 0) {
            feel_value_unref(list);
            return BT_ENOMEM;
        }
        feel_value_unref(args[i]);
        args[i] = list;
    }
    return 0;
}

static int eval_call(feel_eval_state *E, const feel_node *n, const feel_scope *s,
                     feel_value **out) {
    feel_value *small[8], **args = small, *fn = NULL;
    size_t count = n->n;
    if (count > BT_ARRAY_LEN(small) && !(args = bt_calloc(count, sizeof *args)))
        return BT_ENOMEM;
    size_t done = 0;
    int rc = 0;
    if (n->builtin && n->builtin->fn == feel_bi_is_defined && count == 1) {
        /* is defined(x): whether x names something, even a null */
        bool saved = E->missing;
        E->missing = false;
        E->quiet++;
        rc = eval(E, n->kids[1], s, &args[0]);
        E->quiet--;
        bool defined = !E->missing;
        E->missing = saved;
        if (rc < 0)
            return rc;
        feel_value_unref(args[0]);
        *out = feel_bool(defined);
        return 0;
    }
    if (!n->builtin)
        rc = eval(E, n->kids[0], s, &fn);
    for (; rc == 0 && done < count; done++)
        if ((rc = eval(E, n->kids[done + 1], s, &args[done])) < 0)
            break;
    if (rc == 0 && n->builtin)
        rc = convert_args(n->builtin, args, count);
    if (rc == 0) {
        if (n->builtin) {
            rc = n->builtin->fn(E, args, count, out);
        } else if (n->names && feel_value_type(fn) == FEEL_FUNCTION && !fn->u.fn.builtin) {
            /* named arguments for a user-defined function: order by parameter */
            const feel_node *def = fn->u.fn.def;
            feel_value *ordered[16] = {0};
            bool ok = def->n <= BT_ARRAY_LEN(ordered);
            for (size_t i = 0; ok && i < count; i++) {
                ok = false;
                for (uint32_t k = 0; k < def->n; k++)
                    if (def->name_lens[k] == n->name_lens[i] &&
                        memcmp(def->names[k], n->names[i], n->name_lens[i]) == 0) {
                        ordered[k] = args[i];
                        ok = true;
                    }
            }
            if (ok) {
                rc = call_lambda(E, fn, ordered, def->n, out);
            } else {
                feel_warn(E, "the function has no parameter with one of these names");
                rc = null_out(out);
            }
        } else if (n->names && feel_value_type(fn) == FEEL_FUNCTION) {
            int pos[16];
            const feel_builtin *b =
                count <= 16
                    ? feel_builtin_pick_named(fn->u.fn.builtin, n->names, n->name_lens, count, pos)
                    : NULL;
            if (!b) {
                feel_warn(E, "%s() has no parameters with these names", fn->u.fn.builtin->name);
                rc = null_out(out);
            } else {
                feel_value *ordered[16];
                int max = 0;
                for (size_t i = 0; i < count; i++)
                    max = pos[i] + 1 > max ? pos[i] + 1 : max;
                for (int i = 0; i < max; i++)
                    ordered[i] = feel_null();
                for (size_t i = 0; i < count; i++)
                    ordered[pos[i]] = args[i];
                rc = b->fn(E, ordered, (size_t)max, out);
            }
        } else {
            rc = feel_call_value(E, fn, args, count, out);
        }
    }
    for (size_t i = 0; i < done; i++)
        feel_value_unref(args[i]);
    if (args != small)
        bt_free(args);
    feel_value_unref(fn);
    return rc;
}

/* ---- dispatch -------------------------------------------------------------------------------- */

static int eval_node(feel_eval_state *E, const feel_node *n, const feel_scope *s,
                     feel_value **out) {
    switch ((feel_node_kind)n->kind) {
    case N_CONST: *out = feel_value_ref(n->val); return 0;
    case N_NAME: return eval_name(E, n, s, out);
    case N_INPUT: {
        const feel_value *v = scope_lookup(E, s, "?", 1);
        *out = feel_value_ref((feel_value *)(v ? v : feel_null()));
        return 0;
    }
    case N_NEG: return eval_neg(E, n, s, out);
    case N_ARITH: return eval_arith(E, n, s, out);
    case N_CMP: return eval_cmp(E, n, s, out);
    case N_AND:
    case N_OR: return eval_logic(E, n, s, out);
    case N_BETWEEN: return eval_between(E, n, s, out);
    case N_IN: return eval_in(E, n, s, out);
    case N_INSTANCE: {
        feel_value *v;
        TRY(eval(E, n->kids[0], s, &v));
        *out = feel_bool(instance_of(v, n->kids[1]));
        feel_value_unref(v);
        return 0;
    }
    case N_IF: {
        feel_value *c;
        TRY(eval(E, n->kids[0], s, &c));
        bool yes = feel_value_is_true(c);
        feel_value_unref(c);
        return eval(E, n->kids[yes ? 1 : 2], s, out);
    }
    case N_FOR:
    case N_SOME:
    case N_EVERY: return eval_iteration(E, n, s, out);
    case N_LIST: return eval_list(E, n, s, out);
    case N_CONTEXT: return eval_context(E, n, s, out);
    case N_RANGE: return eval_range(E, n, s, out);
    case N_PATH: return eval_path(E, n, s, out);
    case N_FILTER: return eval_filter(E, n, s, out);
    case N_CALL: return eval_call(E, n, s, out);
    case N_FUNCDEF: return eval_funcdef(E, n, s, out);
    case N_TYPE: return null_out(out);
    case N_UT_CMP:
    case N_UT_EXPR:
    case N_UT_OR:
    case N_UT_NOT:
    case N_UT_ANY: {
        const feel_value *input = scope_lookup(E, s, "?", 1);
        return feel_eval_test(E, n, input, s, out);
    }
    }
    return null_out(out);
}

/* Every node goes through here: bounds the C stack the evaluation uses. */
static int eval(feel_eval_state *E, const feel_node *n, const feel_scope *s, feel_value **out) {
    if (E->nest >= FEEL_MAX_NEST)
        return BT_ELIMIT;
    E->nest++;
    int rc = eval_node(E, n, s, out);
    E->nest--;
    return rc;
}

static int run(const feel_expr *e, const feel_value *input, bool tests, const feel_env *env,
               feel_value **out, bt_error *warning) {
    static const feel_env no_env = {0};
    feel_eval_state E = {.env = env ? env : &no_env, .warning = warning, .expr = e};
    *out = NULL;
    int rc;
    if (tests)
        rc = feel_eval_test(&E, e->root, input, NULL, out);
    else
        rc = eval(&E, e->root, NULL, out);
    if (rc < 0) {
        *out = NULL;
        if (warning)
            bt_error_set(warning, rc, "%s",
                         rc == BT_ELIMIT ? "function calls nested too deeply" : "out of memory");
    }
    return rc;
}

int feel_eval(const feel_expr *e, const feel_env *env, feel_value **out, bt_error *warning) {
    return run(e, NULL, false, env, out, warning);
}

int feel_eval_tests(const feel_expr *e, const feel_value *input, const feel_env *env,
                    feel_value **out, bt_error *warning) {
    return run(e, input, true, env, out, warning);
}
