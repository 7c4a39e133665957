/*
 * builtins_list.c — FEEL's list functions.
 *
 * Positions are 1-based; negative positions count from the end (-1 is the
 * last item). Aggregates (min, max, sum, product, mean, median, stddev,
 * mode, all, any) accept either one list or the items as arguments and give
 * null for an empty list where DMN has no sensible value (sum([]) is null,
 * as in Camunda). Numbers are summed in decimal, so sum([0.1, 0.2]) = 0.3.
 * sort is a stable merge sort, ordering by `<` or by the given precedes
 * function.
 */
#include <stdlib.h>
#include <string.h>

#include "feel/builtins.h"

static feel_value *null_warn(feel_eval_state *E, const char *fn, const char *why) {
    feel_warn(E, "%s(): %s", fn, why);
    return feel_null();
}

static bool need_list(feel_eval_state *E, const char *fn, feel_value **args, size_t n, size_t i,
                      feel_value **out) {
    if (feel_arg_type(E, fn, args, n, i, FEEL_LIST))
        return true;
    *out = feel_null();
    return false;
}

/* Appends a new reference to item. */
static int push_ref(feel_value *list, const feel_value *item) {
    return feel_list_push(list, feel_value_ref((feel_value *)item));
}

static bool list_has(const feel_value *list, const feel_value *x) {
    for (size_t i = 0; i < list->u.list.n; i++)
        if (feel_value_equal(list->u.list.items[i], x))
            return true;
    return false;
}

/* 0-based index for a 1-based or negative position among count items; -1 if out of range. */
static long position(int64_t pos, size_t count) {
    if (pos > 0 && (uint64_t)pos <= count)
        return (long)pos - 1;
    if (pos < 0 && (uint64_t)-pos <= count)
        return (long)((int64_t)count + pos);
    return -1;
}

FEEL_BI(feel_bi_list_contains) {
    if (!need_list(E, "list contains", args, n, 0, out))
        return 0;
    *out = feel_bool(list_has(args[0], args[1]));
    return 0;
}

FEEL_BI(feel_bi_count) {
    if (!need_list(E, "count", args, n, 0, out))
        return 0;
    return feel_bi_take(feel_number_from_int((int64_t)args[0]->u.list.n), out);
}

/* min / max: the least or greatest of comparable items. */
static int extreme(feel_eval_state *E, const char *fn, feel_value **args, size_t n, int sign,
                   feel_value **out) {
    feel_value *list;
    TRY_BI(feel_bi_varargs(args, n, &list));
    const feel_value *best = NULL;
    for (size_t i = 0; i < list->u.list.n; i++) {
        const feel_value *x = list->u.list.items[i];
        int c;
        if (!best) {
            best = x;
            if (feel_value_compare(x, x, &c) < 0) {
                feel_value_unref(list);
                *out = null_warn(E, fn, "the items are not comparable");
                return 0;
            }
        } else if (feel_value_compare(x, best, &c) < 0) {
            feel_value_unref(list);
            *out = null_warn(E, fn, "the items are not comparable");
            return 0;
        } else if (c * sign > 0) {
            best = x;
        }
    }
    *out = feel_value_ref((feel_value *)(best ? best : feel_null()));
    feel_value_unref(list);
    return 0;
}

FEEL_BI(feel_bi_min) {
    return extreme(E, "min", args, n, -1, out);
}

FEEL_BI(feel_bi_max) {
    return extreme(E, "max", args, n, 1, out);
}

/* The items as decimals; false (and a warning) when one is not a number. */
static bool numbers(feel_eval_state *E, const char *fn, const feel_value *list, feel_dec *d) {
    for (size_t i = 0; i < list->u.list.n; i++) {
        const feel_value *x = list->u.list.items[i];
        if (feel_value_type(x) != FEEL_NUMBER) {
            feel_warn(E, "%s(): every item must be a number", fn);
            return false;
        }
        d[i] = feel_number_dec(x);
    }
    return true;
}

typedef enum { AGG_SUM, AGG_PRODUCT, AGG_MEAN, AGG_MEDIAN, AGG_STDDEV } aggregate;

static int dec_cmp_qsort(const void *a, const void *b) {
    return feel_dec_cmp(*(const feel_dec *)a, *(const feel_dec *)b);
}

static int numeric(feel_eval_state *E, const char *fn, aggregate agg, feel_value **args, size_t n,
                   feel_value **out) {
    feel_value *list;
    TRY_BI(feel_bi_varargs(args, n, &list));
    size_t count = list->u.list.n;
    feel_dec *d = bt_malloc((count + 1) * sizeof *d);
    if (!d) {
        feel_value_unref(list);
        return BT_ENOMEM;
    }
    int rc = 0;
    feel_dec r = feel_dec_from_int(agg == AGG_PRODUCT ? 1 : 0), t;
    *out = feel_null();
    if (!numbers(E, fn, list, d) || count == 0 || (agg == AGG_STDDEV && count < 2))
        goto done;
    if (agg == AGG_MEDIAN) {
        qsort(d, count, sizeof *d, dec_cmp_qsort);
        r = d[count / 2];
        if (count % 2 == 0 && (feel_dec_add(d[count / 2 - 1], d[count / 2], &t) < 0 ||
                               feel_dec_div(t, feel_dec_from_int(2), &r) < 0))
            goto overflow;
        rc = feel_bi_take(feel_number_from_dec(r), out);
        goto done;
    }
    for (size_t i = 0; i < count; i++)
        if ((agg == AGG_PRODUCT ? feel_dec_mul(r, d[i], &r) : feel_dec_add(r, d[i], &r)) < 0)
            goto overflow;
    if (agg == AGG_MEAN || agg == AGG_STDDEV) {
        if (feel_dec_div(r, feel_dec_from_int((int64_t)count), &r) < 0)
            goto overflow;
    }
    if (agg == AGG_STDDEV) {
        feel_dec mean = r, sq = feel_dec_from_int(0);
        for (size_t i = 0; i < count; i++)
            if (feel_dec_sub(d[i], mean, &t) < 0 || feel_dec_mul(t, t, &t) < 0 ||
                feel_dec_add(sq, t, &sq) < 0)
                goto overflow;
        if (feel_dec_div(sq, feel_dec_from_int((int64_t)count - 1), &sq) < 0 ||
            feel_dec_sqrt(sq, &r) < 0)
            goto overflow;
    }
    rc = feel_bi_take(feel_number_from_dec(r), out);
    goto done;
overflow:
    *out = null_warn(E, fn, "the result is out of range");
done:
    bt_free(d);
    feel_value_unref(list);
    return rc;
}

FEEL_BI(feel_bi_sum) {
    return numeric(E, "sum", AGG_SUM, args, n, out);
}

FEEL_BI(feel_bi_product) {
    return numeric(E, "product", AGG_PRODUCT, args, n, out);
}

FEEL_BI(feel_bi_mean) {
    return numeric(E, "mean", AGG_MEAN, args, n, out);
}

FEEL_BI(feel_bi_median) {
    return numeric(E, "median", AGG_MEDIAN, args, n, out);
}

FEEL_BI(feel_bi_stddev) {
    return numeric(E, "stddev", AGG_STDDEV, args, n, out);
}

/* Stable merge sort of items[0..n) with tmp scratch; cmp < 0 when a precedes b. */
typedef struct sorter {
    feel_eval_state *E;
    const feel_value *precedes; /* NULL: natural order */
    bool failed;                /* items not comparable */
    int rc;                     /* hard failure */
} sorter;

static bool precedes(sorter *st, feel_value *a, feel_value *b) {
    if (st->failed || st->rc < 0)
        return false;
    if (!st->precedes) {
        int c;
        if (feel_value_compare(a, b, &c) < 0) {
            st->failed = true;
            return false;
        }
        return c < 0;
    }
    feel_value *args[2] = {a, b}, *r;
    int rc = feel_call_value(st->E, st->precedes, args, 2, &r);
    if (rc < 0) {
        st->rc = rc;
        return false;
    }
    bool yes = feel_value_is_true(r);
    feel_value_unref(r);
    return yes;
}

static void merge_sort(sorter *st, feel_value **items, feel_value **tmp, size_t n) {
    if (n < 2)
        return;
    size_t half = n / 2;
    merge_sort(st, items, tmp, half);
    merge_sort(st, items + half, tmp, n - half);
    size_t i = 0, j = half, k = 0;
    while (i < half && j < n)
        tmp[k++] = precedes(st, items[j], items[i]) ? items[j++] : items[i++];
    while (i < half)
        tmp[k++] = items[i++];
    while (j < n)
        tmp[k++] = items[j++];
    memcpy(items, tmp, n * sizeof *items);
}

/* A new list with the items of list sorted; NULL on ENOMEM. */
static int sorted_copy(sorter *st, const feel_value *list, feel_value **out) {
    size_t count = list->u.list.n;
    feel_value *copy = feel_list_new();
    feel_value **tmp = bt_malloc((count + 1) * sizeof *tmp);
    if (!copy || !tmp) {
        feel_value_unref(copy);
        bt_free(tmp);
        return BT_ENOMEM;
    }
    for (size_t i = 0; i < count; i++)
        if (push_ref(copy, list->u.list.items[i]) < 0) {
            feel_value_unref(copy);
            bt_free(tmp);
            return BT_ENOMEM;
        }
    merge_sort(st, copy->u.list.items, tmp, count);
    bt_free(tmp);
    *out = copy;
    return 0;
}

FEEL_BI(feel_bi_mode) {
    feel_value *list, *sorted;
    TRY_BI(feel_bi_varargs(args, n, &list));
    feel_dec *d = bt_malloc((list->u.list.n + 1) * sizeof *d);
    int rc = d ? 0 : BT_ENOMEM;
    if (rc == 0 && !numbers(E, "mode", list, d)) {
        *out = feel_null();
        bt_free(d);
        feel_value_unref(list);
        return 0;
    }
    bt_free(d);
    sorter st = {.E = E};
    if (rc == 0)
        rc = sorted_copy(&st, list, &sorted);
    feel_value_unref(list);
    TRY_BI(rc);
    feel_value *modes = feel_list_new();
    size_t best = 0, count = sorted->u.list.n;
    for (size_t i = 0; modes && i < count;) {
        size_t j = i;
        while (j < count && feel_value_equal(sorted->u.list.items[j], sorted->u.list.items[i]))
            j++;
        if (j - i > best) {
            best = j - i;
            while (modes->u.list.n)
                feel_value_unref(modes->u.list.items[--modes->u.list.n]);
        }
        if (j - i == best && push_ref(modes, sorted->u.list.items[i]) < 0)
            rc = BT_ENOMEM;
        i = j;
    }
    feel_value_unref(sorted);
    if (!modes || rc < 0) {
        feel_value_unref(modes);
        return BT_ENOMEM;
    }
    *out = modes;
    return 0;
}

static int logic(feel_eval_state *E, bool is_all, feel_value **args, size_t n, feel_value **out) {
    feel_value *list;
    TRY_BI(feel_bi_varargs(args, n, &list));
    bool unknown = false, decided = false;
    for (size_t i = 0; i < list->u.list.n && !decided; i++) {
        const feel_value *x = list->u.list.items[i];
        if (feel_value_type(x) != FEEL_BOOLEAN)
            unknown = true;
        else if (x->u.b != is_all)
            decided = true;
    }
    feel_value_unref(list);
    *out = decided ? feel_bool(!is_all) : unknown ? feel_null() : feel_bool(is_all);
    return 0;
}

FEEL_BI(feel_bi_all) {
    return logic(E, true, args, n, out);
}

FEEL_BI(feel_bi_any) {
    return logic(E, false, args, n, out);
}

/* A new list of items [from, to) of list. */
static int slice(const feel_value *list, size_t from, size_t to, feel_value **out) {
    feel_value *r = feel_list_new();
    if (!r)
        return BT_ENOMEM;
    for (size_t i = from; i < to; i++)
        if (push_ref(r, list->u.list.items[i]) < 0) {
            feel_value_unref(r);
            return BT_ENOMEM;
        }
    *out = r;
    return 0;
}

FEEL_BI(feel_bi_sublist) {
    int64_t start, length = -1;
    if (!need_list(E, "sublist", args, n, 0, out))
        return 0;
    if (!feel_arg_int(E, "sublist", args, n, 1, &start) ||
        (n > 2 && feel_value_type(args[2]) != FEEL_NULL &&
         !feel_arg_int(E, "sublist", args, n, 2, &length))) {
        *out = feel_null();
        return 0;
    }
    size_t count = args[0]->u.list.n;
    long from = position(start, count);
    if (from < 0) {
        *out = null_warn(E, "sublist", "start position out of range");
        return 0;
    }
    size_t to =
        length < 0 || (size_t)from + (size_t)length > count ? count : (size_t)from + (size_t)length;
    return slice(args[0], (size_t)from, to, out);
}

FEEL_BI(feel_bi_append) {
    if (!need_list(E, "append", args, n, 0, out))
        return 0;
    feel_value *r;
    TRY_BI(slice(args[0], 0, args[0]->u.list.n, &r));
    for (size_t i = 1; i < n; i++)
        if (push_ref(r, args[i]) < 0) {
            feel_value_unref(r);
            return BT_ENOMEM;
        }
    *out = r;
    return 0;
}

FEEL_BI(feel_bi_concatenate) {
    feel_value *r = feel_list_new();
    if (!r)
        return BT_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        if (feel_value_type(args[i]) != FEEL_LIST) {
            feel_value_unref(r);
            *out = null_warn(E, "concatenate", "every argument must be a list");
            return 0;
        }
        for (size_t k = 0; k < args[i]->u.list.n; k++)
            if (push_ref(r, args[i]->u.list.items[k]) < 0) {
                feel_value_unref(r);
                return BT_ENOMEM;
            }
    }
    *out = r;
    return 0;
}

FEEL_BI(feel_bi_insert_before) {
    int64_t pos;
    if (!need_list(E, "insert before", args, n, 0, out))
        return 0;
    if (!feel_arg_int(E, "insert before", args, n, 1, &pos)) {
        *out = feel_null();
        return 0;
    }
    size_t count = args[0]->u.list.n;
    long at = position(pos, count);
    if (at < 0) {
        *out = null_warn(E, "insert before", "position out of range");
        return 0;
    }
    feel_value *r = feel_list_new();
    int rc = r ? 0 : BT_ENOMEM;
    for (size_t i = 0; rc == 0 && i <= count; i++) {
        if (i == (size_t)at)
            rc = push_ref(r, args[2]);
        if (rc == 0 && i < count)
            rc = push_ref(r, args[0]->u.list.items[i]);
    }
    if (rc < 0) {
        feel_value_unref(r);
        return rc;
    }
    *out = r;
    return 0;
}

FEEL_BI(feel_bi_remove) {
    int64_t pos;
    if (!need_list(E, "remove", args, n, 0, out))
        return 0;
    if (!feel_arg_int(E, "remove", args, n, 1, &pos)) {
        *out = feel_null();
        return 0;
    }
    size_t count = args[0]->u.list.n;
    long at = position(pos, count);
    if (at < 0) {
        *out = null_warn(E, "remove", "position out of range");
        return 0;
    }
    feel_value *r = feel_list_new();
    int rc = r ? 0 : BT_ENOMEM;
    for (size_t i = 0; rc == 0 && i < count; i++)
        if (i != (size_t)at)
            rc = push_ref(r, args[0]->u.list.items[i]);
    if (rc < 0) {
        feel_value_unref(r);
        return rc;
    }
    *out = r;
    return 0;
}

FEEL_BI(feel_bi_reverse) {
    if (!need_list(E, "reverse", args, n, 0, out))
        return 0;
    feel_value *r = feel_list_new();
    if (!r)
        return BT_ENOMEM;
    for (size_t i = args[0]->u.list.n; i > 0; i--)
        if (push_ref(r, args[0]->u.list.items[i - 1]) < 0) {
            feel_value_unref(r);
            return BT_ENOMEM;
        }
    *out = r;
    return 0;
}

FEEL_BI(feel_bi_index_of) {
    if (!need_list(E, "index of", args, n, 0, out))
        return 0;
    feel_value *r = feel_list_new();
    if (!r)
        return BT_ENOMEM;
    for (size_t i = 0; i < args[0]->u.list.n; i++)
        if (feel_value_equal(args[0]->u.list.items[i], args[1]) &&
            feel_list_push(r, feel_number_from_int((int64_t)i + 1)) < 0) {
            feel_value_unref(r);
            return BT_ENOMEM;
        }
    *out = r;
    return 0;
}

/* Appends the items of src not yet in dst. */
static int add_distinct(feel_value *dst, const feel_value *src) {
    for (size_t i = 0; i < src->u.list.n; i++)
        if (!list_has(dst, src->u.list.items[i]))
            TRY_BI(push_ref(dst, src->u.list.items[i]));
    return 0;
}

FEEL_BI(feel_bi_union) {
    feel_value *r = feel_list_new();
    if (!r)
        return BT_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        if (feel_value_type(args[i]) != FEEL_LIST) {
            feel_value_unref(r);
            *out = null_warn(E, "union", "every argument must be a list");
            return 0;
        }
        if (add_distinct(r, args[i]) < 0) {
            feel_value_unref(r);
            return BT_ENOMEM;
        }
    }
    *out = r;
    return 0;
}

FEEL_BI(feel_bi_distinct_values) {
    if (!need_list(E, "distinct values", args, n, 0, out))
        return 0;
    feel_value *r = feel_list_new();
    if (!r || add_distinct(r, args[0]) < 0) {
        feel_value_unref(r);
        return BT_ENOMEM;
    }
    *out = r;
    return 0;
}

FEEL_BI(feel_bi_duplicate_values) {
    if (!need_list(E, "duplicate values", args, n, 0, out))
        return 0;
    const feel_value *l = args[0];
    feel_value *r = feel_list_new();
    if (!r)
        return BT_ENOMEM;
    for (size_t i = 0; i < l->u.list.n; i++) {
        const feel_value *x = l->u.list.items[i];
        if (list_has(r, x))
            continue;
        for (size_t k = i + 1; k < l->u.list.n; k++)
            if (feel_value_equal(x, l->u.list.items[k])) {
                if (push_ref(r, x) < 0) {
                    feel_value_unref(r);
                    return BT_ENOMEM;
                }
                break;
            }
    }
    *out = r;
    return 0;
}

static int flatten_into(feel_value *dst, const feel_value *src, int depth) {
    if (depth > FEEL_MAX_DEPTH)
        return BT_ELIMIT;
    for (size_t i = 0; i < src->u.list.n; i++) {
        const feel_value *x = src->u.list.items[i];
        if (feel_value_type(x) == FEEL_LIST)
            TRY_BI(flatten_into(dst, x, depth + 1));
        else
            TRY_BI(push_ref(dst, x));
    }
    return 0;
}

FEEL_BI(feel_bi_flatten) {
    if (!need_list(E, "flatten", args, n, 0, out))
        return 0;
    feel_value *r = feel_list_new();
    int rc = r ? flatten_into(r, args[0], 0) : BT_ENOMEM;
    if (rc < 0) {
        feel_value_unref(r);
        return rc;
    }
    *out = r;
    return 0;
}

FEEL_BI(feel_bi_sort) {
    if (!need_list(E, "sort", args, n, 0, out))
        return 0;
    sorter st = {.E = E};
    if (n > 1 && feel_value_type(args[1]) != FEEL_NULL) {
        if (!feel_arg_type(E, "sort", args, n, 1, FEEL_FUNCTION)) {
            *out = feel_null();
            return 0;
        }
        st.precedes = args[1];
    }
    feel_value *r;
    TRY_BI(sorted_copy(&st, args[0], &r));
    if (st.rc < 0 || st.failed) {
        feel_value_unref(r);
        if (st.rc < 0)
            return st.rc;
        *out = null_warn(E, "sort", "the items are not comparable");
        return 0;
    }
    *out = r;
    return 0;
}

FEEL_BI(feel_bi_partition) {
    int64_t size;
    if (!need_list(E, "partition", args, n, 0, out))
        return 0;
    if (!feel_arg_int(E, "partition", args, n, 1, &size) || size <= 0) {
        *out = null_warn(E, "partition", "the size must be a positive integer");
        return 0;
    }
    size_t count = args[0]->u.list.n;
    feel_value *r = feel_list_new();
    if (!r)
        return BT_ENOMEM;
    for (size_t i = 0; i < count; i += (size_t)size) {
        feel_value *part;
        size_t to = i + (size_t)size < count ? i + (size_t)size : count;
        if (slice(args[0], i, to, &part) < 0 || feel_list_push(r, part) < 0) {
            feel_value_unref(r);
            return BT_ENOMEM;
        }
    }
    *out = r;
    return 0;
}

FEEL_BI(feel_bi_is_empty) {
    if (!need_list(E, "is empty", args, n, 0, out))
        return 0;
    *out = feel_bool(args[0]->u.list.n == 0);
    return 0;
}
