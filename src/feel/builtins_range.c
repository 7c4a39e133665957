/*
 * builtins_range.c — DMN 1.4's range functions (before, after, meets,
 * met by, overlaps, overlaps before, overlaps after, finishes, finished by,
 * includes, during, starts, started by, coincides).
 *
 * Every argument may be a point or a range; a point p is treated as the
 * closed range [p..p], which turns the point/range variants of the spec's
 * table into the range/range formula. Endpoints compare with FEEL's `<`
 * (numbers, strings, temporal values of one type); when they do not
 * compare, the result is null with a warning.
 */
#include "feel/builtins.h"

typedef struct span {
    const feel_value *lo, *hi;
    bool lo_in, hi_in;
} span;

typedef struct rel {
    feel_eval_state *E;
    bool bad;
} rel;

static bool to_span(const feel_value *v, span *s) {
    if (feel_value_type(v) == FEEL_RANGE) {
        s->lo = v->u.range.lo;
        s->hi = v->u.range.hi;
        s->lo_in = v->u.range.lo_closed;
        s->hi_in = v->u.range.hi_closed;
        return s->lo && s->hi && feel_value_type(s->lo) != FEEL_NULL &&
               feel_value_type(s->hi) != FEEL_NULL;
    }
    if (feel_value_type(v) == FEEL_NULL)
        return false;
    s->lo = s->hi = v;
    s->lo_in = s->hi_in = true;
    return true;
}

/* -1, 0, 1; marks r bad when a and b do not compare. */
static int cmp(rel *r, const feel_value *a, const feel_value *b) {
    int c = 0;
    if (feel_value_compare(a, b, &c) < 0)
        r->bad = true;
    return c;
}

typedef bool (*relation)(rel *r, const span *a, const span *b);

static bool before(rel *r, const span *a, const span *b) {
    int c = cmp(r, a->hi, b->lo);
    return c < 0 || (c == 0 && (!a->hi_in || !b->lo_in));
}

static bool after(rel *r, const span *a, const span *b) {
    return before(r, b, a);
}

static bool meets(rel *r, const span *a, const span *b) {
    return a->hi_in && b->lo_in && cmp(r, a->hi, b->lo) == 0;
}

static bool met_by(rel *r, const span *a, const span *b) {
    return meets(r, b, a);
}

static bool overlaps(rel *r, const span *a, const span *b) {
    int c1 = cmp(r, a->hi, b->lo), c2 = cmp(r, a->lo, b->hi);
    return (c1 > 0 || (c1 == 0 && a->hi_in && b->lo_in)) &&
           (c2 < 0 || (c2 == 0 && a->lo_in && b->hi_in));
}

static bool overlaps_before(rel *r, const span *a, const span *b) {
    int c1 = cmp(r, a->lo, b->lo), c2 = cmp(r, a->hi, b->lo), c3 = cmp(r, a->hi, b->hi);
    return (c1 < 0 || (c1 == 0 && a->lo_in && !b->lo_in)) &&
           (c2 > 0 || (c2 == 0 && a->hi_in && b->lo_in)) &&
           (c3 < 0 || (c3 == 0 && (!a->hi_in || b->hi_in)));
}

static bool overlaps_after(rel *r, const span *a, const span *b) {
    return overlaps_before(r, b, a);
}

static bool finishes(rel *r, const span *a, const span *b) {
    int c1 = cmp(r, a->hi, b->hi), c2 = cmp(r, a->lo, b->lo);
    return a->hi_in == b->hi_in && c1 == 0 && (c2 > 0 || (c2 == 0 && (!a->lo_in || b->lo_in)));
}

static bool finished_by(rel *r, const span *a, const span *b) {
    return finishes(r, b, a);
}

static bool includes(rel *r, const span *a, const span *b) {
    int c1 = cmp(r, a->lo, b->lo), c2 = cmp(r, a->hi, b->hi);
    return (c1 < 0 || (c1 == 0 && (a->lo_in || !b->lo_in))) &&
           (c2 > 0 || (c2 == 0 && (a->hi_in || !b->hi_in)));
}

static bool during(rel *r, const span *a, const span *b) {
    return includes(r, b, a);
}

static bool starts(rel *r, const span *a, const span *b) {
    int c1 = cmp(r, a->lo, b->lo), c2 = cmp(r, a->hi, b->hi);
    return c1 == 0 && a->lo_in == b->lo_in && (c2 < 0 || (c2 == 0 && (!a->hi_in || b->hi_in)));
}

static bool started_by(rel *r, const span *a, const span *b) {
    return starts(r, b, a);
}

static bool coincides(rel *r, const span *a, const span *b) {
    return cmp(r, a->lo, b->lo) == 0 && cmp(r, a->hi, b->hi) == 0 && a->lo_in == b->lo_in &&
           a->hi_in == b->hi_in;
}

static int apply(feel_eval_state *E, const char *fn, relation f, feel_value **args,
                 feel_value **out) {
    span a, b;
    if (!to_span(args[0], &a) || !to_span(args[1], &b))
        return feel_bi_null(E, fn, "the arguments must be points or bounded ranges", out);
    rel r = {E, false};
    bool yes = f(&r, &a, &b);
    if (r.bad)
        return feel_bi_null(E, fn, "the points are not comparable", out);
    *out = feel_bool(yes);
    return 0;
}

#define RANGE_BI(cname, feelname, f)                                                               \
    FEEL_BI(cname) {                                                                               \
        (void)n;                                                                                   \
        return apply(E, feelname, f, args, out);                                                   \
    }

RANGE_BI(feel_bi_before, "before", before)
RANGE_BI(feel_bi_after, "after", after)
RANGE_BI(feel_bi_meets, "meets", meets)
RANGE_BI(feel_bi_met_by, "met by", met_by)
RANGE_BI(feel_bi_overlaps, "overlaps", overlaps)
RANGE_BI(feel_bi_overlaps_before, "overlaps before", overlaps_before)
RANGE_BI(feel_bi_overlaps_after, "overlaps after", overlaps_after)
RANGE_BI(feel_bi_finishes, "finishes", finishes)
RANGE_BI(feel_bi_finished_by, "finished by", finished_by)
RANGE_BI(feel_bi_includes, "includes", includes)
RANGE_BI(feel_bi_during, "during", during)
RANGE_BI(feel_bi_starts, "starts", starts)
RANGE_BI(feel_bi_started_by, "started by", started_by)
RANGE_BI(feel_bi_coincides, "coincides", coincides)
