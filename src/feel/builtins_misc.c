/*
 * builtins_misc.c — FEEL built-ins for logic, conversion and contexts:
 * not, string, number, is defined, get or else, is, get value, get entries,
 * context put, context merge, context.
 *
 * `is defined` is answered by the evaluator itself (it must see whether a
 * name resolved, which a value cannot tell); the function here only serves
 * calls through a function value, where the argument already exists.
 */
#include <string.h>

#include "feel/builtins.h"

FEEL_BI(feel_bi_not) {
    if (feel_value_type(args[0]) != FEEL_BOOLEAN)
        return feel_bi_null(E, "not", "the argument must be a boolean", out);
    *out = feel_bool(!args[0]->u.b);
    return 0;
}

FEEL_BI(feel_bi_string) {
    if (feel_value_type(args[0]) == FEEL_NULL) {
        *out = feel_null();
        return 0;
    }
    if (feel_value_type(args[0]) == FEEL_STRING) {
        *out = feel_value_ref(args[0]);
        return 0;
    }
    bt_buf b = BT_BUF_INIT;
    feel_value_to_string(args[0], &b, true);
    if (b.failed)
        return BT_ENOMEM;
    feel_value *v = feel_string_new(b.data ? b.data : "", b.len);
    bt_buf_free(&b);
    return feel_bi_take(v, out);
}

/* number(from, grouping separator, decimal separator) */
/* number(from: string): DMN 1.3 §10.3.4.1 (and Camunda) convert text
 * only; a number argument is invalid like any other non-string. */
FEEL_BI(feel_bi_number) {
    if (!feel_arg_type(E, "number", args, n, 0, FEEL_STRING)) {
        *out = feel_null();
        return 0;
    }
    const feel_value *g = feel_bi_arg(args, n, 1, FEEL_STRING);
    const feel_value *d = feel_bi_arg(args, n, 2, FEEL_STRING);
    char group = 0, point = '.';
    if (g) {
        if (g->u.str.len != 1 || !strchr(" ,.", g->u.str.s[0]))
            return feel_bi_null(E, "number", "the grouping separator must be ' ', ',' or '.'", out);
        group = g->u.str.s[0];
    }
    if (d) {
        if (d->u.str.len != 1 || !strchr(",.", d->u.str.s[0]))
            return feel_bi_null(E, "number", "the decimal separator must be ',' or '.'", out);
        point = d->u.str.s[0];
    }
    if (group && group == point)
        return feel_bi_null(E, "number", "the separators must differ", out);
    const char *s = args[0]->u.str.s;
    size_t len = args[0]->u.str.len;
    char *text = bt_malloc(len + 1);
    if (!text)
        return BT_ENOMEM;
    size_t k = 0;
    for (size_t i = 0; i < len; i++) {
        if (group && s[i] == group)
            continue;
        text[k++] = s[i] == point ? '.' : s[i];
    }
    feel_dec v;
    int rc = k ? feel_dec_parse(text, k, &v) : BT_EINVAL;
    bt_free(text);
    if (rc < 0)
        return feel_bi_null(E, "number", "the string is not a number", out);
    return feel_bi_take(feel_number_from_dec(v), out);
}

FEEL_BI(feel_bi_is_defined) {
    *out = feel_bool(true);
    return 0;
}

FEEL_BI(feel_bi_get_or_else) {
    *out = feel_value_ref(feel_value_type(args[0]) == FEEL_NULL ? args[1] : args[0]);
    return 0;
}

FEEL_BI(feel_bi_is) {
    *out = feel_bool(feel_value_type(args[0]) == feel_value_type(args[1]) &&
                     feel_value_equal(args[0], args[1]));
    return 0;
}

/* get value(m, key) and Camunda's get value(m, [key, key, ...]) */
FEEL_BI(feel_bi_get_value) {
    if (!feel_arg_type(E, "get value", args, n, 0, FEEL_CONTEXT)) {
        *out = feel_null();
        return 0;
    }
    const feel_value *v = args[0];
    if (feel_value_type(args[1]) == FEEL_STRING) {
        v = feel_context_get(v, args[1]->u.str.s, args[1]->u.str.len);
    } else if (feel_value_type(args[1]) == FEEL_LIST) {
        for (size_t i = 0; v && i < args[1]->u.list.n; i++) {
            const feel_value *k = args[1]->u.list.items[i];
            v = feel_value_type(k) == FEEL_STRING ? feel_context_get(v, k->u.str.s, k->u.str.len)
                                                  : NULL;
        }
    } else {
        return feel_bi_null(E, "get value", "the key must be a string or a list of strings", out);
    }
    *out = feel_value_ref((feel_value *)(v ? v : feel_null()));
    return 0;
}

static feel_value *entry_new(const char *key, size_t len, feel_value *val) {
    feel_value *e = feel_context_new();
    if (!e || feel_context_put(e, "key", 3, feel_string_new(key, len)) < 0 ||
        feel_context_put(e, "value", 5, feel_value_ref(val)) < 0) {
        feel_value_unref(e);
        return NULL;
    }
    return e;
}

FEEL_BI(feel_bi_get_entries) {
    if (!feel_arg_type(E, "get entries", args, n, 0, FEEL_CONTEXT)) {
        *out = feel_null();
        return 0;
    }
    feel_value *list = feel_list_new();
    if (!list)
        return BT_ENOMEM;
    for (size_t i = 0; i < args[0]->u.ctx.n; i++) {
        const feel_ctx_entry *e = &args[0]->u.ctx.e[i];
        if (feel_list_push(list, entry_new(e->key, e->len, e->val)) < 0) {
            feel_value_unref(list);
            return BT_ENOMEM;
        }
    }
    *out = list;
    return 0;
}

/* A copy of ctx with keys[k..] set to val, creating nested contexts. */
static int put_path(const feel_value *ctx, feel_value *const *keys, size_t nkeys,
                    const feel_value *val, feel_value **out) {
    feel_value *copy = ctx ? feel_context_copy(ctx) : feel_context_new();
    if (!copy)
        return BT_ENOMEM;
    const feel_value *key = keys[0];
    feel_value *inner;
    if (nkeys == 1) {
        inner = feel_value_ref((feel_value *)val);
    } else {
        const feel_value *sub = ctx ? feel_context_get(ctx, key->u.str.s, key->u.str.len) : NULL;
        if (feel_value_type(sub) != FEEL_CONTEXT)
            sub = NULL;
        int rc = put_path(sub, keys + 1, nkeys - 1, val, &inner);
        if (rc < 0) {
            feel_value_unref(copy);
            return rc;
        }
    }
    if (feel_context_put(copy, key->u.str.s, key->u.str.len, inner) < 0) {
        feel_value_unref(copy);
        return BT_ENOMEM;
    }
    *out = copy;
    return 0;
}

FEEL_BI(feel_bi_context_put) {
    if (!feel_arg_type(E, "context put", args, n, 0, FEEL_CONTEXT)) {
        *out = feel_null();
        return 0;
    }
    feel_value *const *keys = &args[1];
    size_t nkeys = 1;
    if (feel_value_type(args[1]) == FEEL_LIST) {
        keys = args[1]->u.list.items;
        nkeys = args[1]->u.list.n;
    }
    if (nkeys == 0)
        return feel_bi_null(E, "context put", "the key path is empty", out);
    for (size_t i = 0; i < nkeys; i++)
        if (feel_value_type(keys[i]) != FEEL_STRING)
            return feel_bi_null(E, "context put", "keys must be strings", out);
    return put_path(args[0], keys, nkeys, args[2], out);
}

FEEL_BI(feel_bi_context_merge) {
    feel_value *list;
    TRY_BI(feel_bi_varargs(args, n, &list));
    feel_value *ctx = feel_context_new();
    int rc = ctx ? 0 : BT_ENOMEM;
    for (size_t i = 0; rc == 0 && i < list->u.list.n; i++) {
        const feel_value *c = list->u.list.items[i];
        if (feel_value_type(c) != FEEL_CONTEXT) {
            feel_value_unref(ctx);
            feel_value_unref(list);
            return feel_bi_null(E, "context merge", "every item must be a context", out);
        }
        for (size_t k = 0; rc == 0 && k < c->u.ctx.n; k++)
            rc = feel_context_put(ctx, c->u.ctx.e[k].key, c->u.ctx.e[k].len,
                                  feel_value_ref(c->u.ctx.e[k].val));
    }
    feel_value_unref(list);
    if (rc < 0) {
        feel_value_unref(ctx);
        return rc;
    }
    *out = ctx;
    return 0;
}

/* context([{key: "a", value: 1}, ...]) */
FEEL_BI(feel_bi_context) {
    if (!feel_arg_type(E, "context", args, n, 0, FEEL_LIST)) {
        *out = feel_null();
        return 0;
    }
    feel_value *ctx = feel_context_new();
    if (!ctx)
        return BT_ENOMEM;
    for (size_t i = 0; i < args[0]->u.list.n; i++) {
        const feel_value *e = args[0]->u.list.items[i];
        const feel_value *k = feel_context_get(e, "key", 3);
        const feel_value *v = feel_context_get(e, "value", 5);
        if (feel_value_type(k) != FEEL_STRING || !v) {
            feel_value_unref(ctx);
            return feel_bi_null(E, "context", "entries must be contexts with key and value", out);
        }
        if (feel_context_put(ctx, k->u.str.s, k->u.str.len, feel_value_ref((feel_value *)v)) < 0) {
            feel_value_unref(ctx);
            return BT_ENOMEM;
        }
    }
    *out = ctx;
    return 0;
}
