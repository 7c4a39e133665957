/* Unit tests for src/feel: the data-driven cases of tests/data/feel (.txt files,
 * (format in tests/data/feel/README.md), plus the C interface: values,
 * contexts with a hash index, JSON in and out, unary tests, allocation
 * failure injection over compile and eval, and the cost of the hot path. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "feel/feel.h"

/* ---- helpers ----------------------------------------------------------------- */

static const feel_value *ctx_lookup(void *ud, const char *name, size_t len) {
    return feel_context_get(ud, name, len);
}

/* Canonical JSON of a JSON text (parsed and printed by feel). NULL if invalid. */
static char *canonical(const char *json) {
    feel_value *v;
    bt_error err;
    if (feel_value_from_json(json, strlen(json), &v, &err) < 0)
        return NULL;
    bt_buf b = BT_BUF_INIT;
    feel_value_to_json(v, &b);
    feel_value_unref(v);
    return bt_buf_take(&b);
}

/* Evaluates src with variables vars (a context or NULL); returns the JSON
 * text of the result (caller frees) and whether a warning came. */
static char *eval_json(const char *src, feel_value *vars, int64_t now, bool *warned) {
    feel_expr *e;
    bt_error err;
    if (feel_compile(src, strlen(src), &e, &err) < 0) {
        fail_msg("compile '%s': %s", src, err.message);
        return NULL;
    }
    feel_env env = {vars ? ctx_lookup : NULL, vars, now};
    feel_value *v;
    bt_error warning = {0};
    assert_int_equal(feel_eval(e, &env, &v, &warning), 0);
    if (warned)
        *warned = warning.code != 0;
    bt_buf b = BT_BUF_INIT;
    feel_value_to_json(v, &b);
    feel_value_unref(v);
    feel_expr_free(e);
    return bt_buf_take(&b);
}

/* ---- data-driven cases --------------------------------------------------------- */

typedef struct case_state {
    const char *file;
    int line;
    feel_value *vars;
    feel_value *input; /* @tests mode when not NULL */
    int64_t now;
    int failures, count;
} case_state;

static void report(case_state *st, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s:%d: ", st->file, st->line);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    st->failures++;
}

static void run_case(case_state *st, const char *src, const char *expect) {
    st->count++;
    feel_expr *e;
    bt_error err = {0};
    int rc = st->input ? feel_compile_unary_tests(src, strlen(src), &e, &err)
                       : feel_compile(src, strlen(src), &e, &err);
    if (strncmp(expect, "error ", 6) == 0) {
        int col = atoi(expect + 6);
        const char *text = strchr(expect + 6, ' ');
        if (rc == 0) {
            report(st, "'%s': expected a syntax error at column %d, it compiled", src, col);
            feel_expr_free(e);
        } else if (rc != BT_EINVAL || err.column != col) {
            report(st, "'%s': expected error at column %d, got rc %d column %d (%s)", src, col, rc,
                   err.column, err.message);
        } else if (text && !strstr(err.message, text + 1)) {
            report(st, "'%s': message '%s' lacks '%s'", src, err.message, text + 1);
        }
        return;
    }
    if (rc < 0) {
        report(st, "'%s': does not compile: %s", src, err.message);
        return;
    }
    bool want_warning = false;
    char exp_json[4096];
    snprintf(exp_json, sizeof exp_json, "%s", expect);
    char *mark = strstr(exp_json, " !warn");
    if (mark) {
        want_warning = true;
        *mark = 0;
    }
    char *want = canonical(exp_json);
    if (!want) {
        report(st, "'%s': expected result is not JSON: %s", src, exp_json);
        feel_expr_free(e);
        return;
    }
    feel_env env = {st->vars ? ctx_lookup : NULL, st->vars, st->now};
    feel_value *v = NULL;
    bt_error warning = {0};
    rc = st->input ? feel_eval_tests(e, st->input, &env, &v, &warning)
                   : feel_eval(e, &env, &v, &warning);
    if (rc < 0) {
        report(st, "'%s': eval failed %d", src, rc);
    } else {
        bt_buf b = BT_BUF_INIT;
        feel_value_to_json(v, &b);
        if (strcmp(b.data, want) != 0)
            report(st, "'%s': got %s, expected %s%s%s", src, b.data, want,
                   warning.code ? " -- warning: " : "", warning.code ? warning.message : "");
        else if (want_warning && !warning.code)
            report(st, "'%s': expected a warning", src);
        else if (!want_warning && warning.code)
            report(st, "'%s': unexpected warning: %s", src, warning.message);
        bt_buf_free(&b);
    }
    feel_value_unref(v);
    bt_free(want);
    feel_expr_free(e);
}

static void set_json(case_state *st, feel_value **slot, const char *json) {
    feel_value_unref(*slot);
    *slot = NULL;
    bt_error err;
    if (feel_value_from_json(json, strlen(json), slot, &err) < 0)
        report(st, "bad JSON in directive: %s", err.message);
}

static void run_file(const char *dir, const char *name, int *failures, int *count) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    case_state st = {.file = name};
    char line[8192];
    while (fgets(line, sizeof line, f)) {
        st.line++;
        size_t n = strlen(line);
        while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = 0;
        while (n >= 2 && line[n - 1] == '\\' && line[n - 2] == ' ' && n + 2 < sizeof line &&
               fgets(line + n, (int)(sizeof line - n), f)) { /* " \" continues the case */
            st.line++;
            line[n - 2] = '\n';
            memmove(line + n - 1, line + n, strlen(line + n) + 1);
            n = strlen(line);
            while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
                line[--n] = 0;
        }
        if (n == 0 || line[0] == '#')
            continue;
        if (strncmp(line, "@vars ", 6) == 0) {
            set_json(&st, &st.vars, line + 6);
        } else if (strcmp(line, "@vars") == 0) {
            feel_value_unref(st.vars);
            st.vars = NULL;
        } else if (strncmp(line, "@now ", 5) == 0) {
            st.now = strtoll(line + 5, NULL, 10);
        } else if (strncmp(line, "@tests ", 7) == 0) {
            set_json(&st, &st.input, line + 7);
        } else if (strcmp(line, "@expr") == 0) {
            feel_value_unref(st.input);
            st.input = NULL;
        } else {
            char *sep = strstr(line, " ==> ");
            if (!sep) {
                report(&st, "no ' ==> ' in case");
                continue;
            }
            *sep = 0;
            run_case(&st, line, sep + 5);
        }
    }
    fclose(f);
    feel_value_unref(st.vars);
    feel_value_unref(st.input);
    *failures += st.failures;
    *count += st.count;
}

static void test_data_files(void **state) {
    (void)state;
    const char *data = getenv("BATON_TEST_DATA");
    assert_non_null(data);
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/feel", data);
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *ent;
    int failures = 0, count = 0, files = 0;
    while ((ent = readdir(d))) {
        size_t n = strlen(ent->d_name);
        if (n > 4 && strcmp(ent->d_name + n - 4, ".txt") == 0) {
            run_file(dir, ent->d_name, &failures, &count);
            files++;
        }
    }
    closedir(d);
    fprintf(stderr, "feel: %d cases in %d files, %d failed\n", count, files, failures);
    assert_true(files > 0 && count > 100);
    assert_int_equal(failures, 0);
}

/* ---- the C interface ------------------------------------------------------------ */

static void test_values_and_refcounts(void **state) {
    (void)state;
    assert_int_equal(feel_value_type(feel_null()), FEEL_NULL);
    feel_value_unref(feel_null()); /* static: no-op */
    assert_true(feel_value_is_true(feel_bool(true)));
    assert_false(feel_value_is_true(feel_bool(false)));
    assert_string_equal(feel_type_name(FEEL_DATE_TIME), "date and time");

    feel_value *a = feel_number_from_int(1), *b = feel_number_from_string("1.000", 5);
    assert_true(feel_value_equal(a, b));
    int64_t i;
    assert_int_equal(feel_number_to_int64(b, &i), 0);
    assert_int_equal(i, 1);
    feel_value *c = feel_number_from_string("0.5", 3);
    assert_int_equal(feel_number_to_int64(c, &i), BT_EINVAL);
    assert_null(feel_number_from_string("abc", 3));

    feel_value *list = feel_list_new();
    assert_int_equal(feel_list_push(list, a), 0);
    assert_int_equal(feel_list_push(list, feel_value_ref(c)), 0);
    assert_int_equal(feel_list_count(list), 2);
    assert_ptr_equal(feel_list_at(list, 0), a);
    assert_null(feel_list_at(list, 2));
    feel_value_unref(list); /* frees a, drops one reference of c */
    size_t len;
    feel_value *s = feel_string_new("h\xc3\xa9llo", 6);
    assert_memory_equal(feel_string_ptr(s, &len), "h\xc3\xa9llo", 6);
    assert_int_equal(len, 6);
    assert_null(feel_string_ptr(c, &len));
    feel_value_unref(s);
    feel_value_unref(b);
    feel_value_unref(c);
}

static void test_context_large_uses_index(void **state) {
    (void)state;
    feel_value *ctx = feel_context_new();
    char key[32];
    for (int i = 0; i < 500; i++) {
        int n = snprintf(key, sizeof key, "key%d", i);
        assert_int_equal(feel_context_put(ctx, key, (size_t)n, feel_number_from_int(i)), 0);
    }
    assert_int_equal(feel_context_count(ctx), 500);
    for (int i = 0; i < 500; i++) {
        int n = snprintf(key, sizeof key, "key%d", i);
        const feel_value *v = feel_context_get(ctx, key, (size_t)n);
        int64_t x;
        assert_non_null(v);
        assert_int_equal(feel_number_to_int64(v, &x), 0);
        assert_int_equal(x, i);
    }
    assert_null(feel_context_get(ctx, "key500", 6));
    /* replacing keeps the order and the count */
    assert_int_equal(feel_context_put(ctx, "key7", 4, feel_string_new("x", 1)), 0);
    assert_int_equal(feel_context_count(ctx), 500);
    size_t len;
    assert_string_equal(feel_context_key_at(ctx, 7, &len), "key7");
    assert_int_equal(feel_value_type(feel_context_value_at(ctx, 7)), FEEL_STRING);
    feel_value_unref(ctx);
}

static void test_json_round_trip(void **state) {
    (void)state;
    static const char *const docs[] = {
        "{\"a\":0.1,\"b\":[1,2.5,-3,true,false,null],\"c\":{\"d\":\"x\\ny\\u00e9\"}}",
        "12345678901234567890123456789012",
        "[]",
        "{}",
        "\"\\ud83d\\ude00\"",
        "-0.000001",
        "1.5E+50",
    };
    static const char *const want[] = {
        "{\"a\":0.1,\"b\":[1,2.5,-3,true,false,null],\"c\":{\"d\":\"x\\ny\xc3\xa9\"}}",
        "12345678901234567890123456789012",
        "[]",
        "{}",
        "\"\xf0\x9f\x98\x80\"",
        "-0.000001",
        "1.5E+50",
    };
    for (size_t i = 0; i < BT_ARRAY_LEN(docs); i++) {
        char *got = canonical(docs[i]);
        assert_non_null(got);
        assert_string_equal(got, want[i]);
        bt_free(got);
    }
}

static void test_json_rejects(void **state) {
    (void)state;
    static const char *const bad[] = {
        "",          "{",     "[1,]",     "{\"a\" 1}",   "01",  "1.",         ".5", "\"\\x\"",
        "\"a\x01\"", "[1] 2", "\"\xff\"", "\"\\ud800\"", "tru", "{\"a\":1,}", "-",  "1e",
    };
    for (size_t i = 0; i < BT_ARRAY_LEN(bad); i++) {
        feel_value *v = NULL;
        bt_error err = {0};
        int rc = feel_value_from_json(bad[i], strlen(bad[i]), &v, &err);
        if (rc != BT_EINVAL)
            fail_msg("accepted bad JSON '%s'", bad[i]);
        assert_null(v);
        assert_true(err.message[0] != 0);
    }
    /* nesting beyond the limit */
    char deep[2100];
    memset(deep, '[', 1001);
    memset(deep + 1001, ']', 1001);
    deep[2002] = 0;
    feel_value *v = NULL;
    assert_int_equal(feel_value_from_json(deep, strlen(deep), &v, NULL), BT_EINVAL);
    deep[0] = ' '; /* 1000 levels are fine */
    deep[2001] = 0;
    assert_int_equal(feel_value_from_json(deep, strlen(deep), &v, NULL), 0);
    feel_value_unref(v);
}

static void test_expr_source_and_syntax_error(void **state) {
    (void)state;
    feel_expr *e;
    bt_error err;
    assert_int_equal(feel_compile("a + b", 5, &e, &err), 0);
    assert_string_equal(feel_expr_source(e), "a + b");
    assert_false(feel_expr_is_unary_tests(e));
    feel_expr_free(e);
    feel_expr_free(NULL);
    assert_int_equal(feel_compile("f(1, 2", 6, &e, &err), BT_EINVAL);
    assert_int_equal(err.column, 7);
    assert_string_equal(err.message, "expected ')' at column 7");
    assert_int_equal(feel_compile("\n  [1,\n  2", 10, &e, &err), BT_EINVAL);
    assert_int_equal(err.line, 3);
}

static void test_unary_tests_api(void **state) {
    (void)state;
    feel_expr *e;
    bt_error err;
    const char *src = "< 10, [20..30], \"x\"";
    assert_int_equal(feel_compile_unary_tests(src, strlen(src), &e, &err), 0);
    assert_true(feel_expr_is_unary_tests(e));
    static const struct {
        int64_t in;
        bool want;
    } cases[] = {{5, true}, {10, false}, {25, true}, {31, false}};
    for (size_t i = 0; i < BT_ARRAY_LEN(cases); i++) {
        feel_value *in = feel_number_from_int(cases[i].in), *out;
        assert_int_equal(feel_eval_tests(e, in, NULL, &out, NULL), 0);
        assert_int_equal(feel_value_is_true(out), cases[i].want);
        feel_value_unref(out);
        feel_value_unref(in);
    }
    feel_expr_free(e);
}

/* A lambda returned from an evaluation outlives its expression safely. */
static void test_function_outlives_expression(void **state) {
    (void)state;
    feel_expr *e;
    const char *src = "{k: 3, f: function(x) x + k}.f";
    assert_int_equal(feel_compile(src, strlen(src), &e, NULL), 0);
    feel_value *f;
    assert_int_equal(feel_eval(e, NULL, &f, NULL), 0);
    feel_expr_free(e);
    assert_int_equal(feel_value_type(f), FEEL_FUNCTION);
    feel_value_unref(f);
}

static void test_recursion_limit_is_hard_failure(void **state) {
    (void)state;
    const char *src = "{f: function(g, n) g(g, n + 1), r: f(f, 0)}.r";
    feel_expr *e;
    assert_int_equal(feel_compile(src, strlen(src), &e, NULL), 0);
    feel_value *v = NULL;
    bt_error w = {0};
    assert_int_equal(feel_eval(e, NULL, &v, &w), BT_ELIMIT);
    assert_null(v);
    feel_expr_free(e);
    /* deep nesting in the source is a syntax error, not a stack overflow */
    char deep[1210];
    memset(deep, '(', 600);
    deep[600] = '1';
    memset(deep + 601, ')', 600);
    bt_error err;
    assert_int_equal(feel_compile(deep, 1201, &e, &err), BT_EINVAL);
    /* so is a chain of operators too long to evaluate recursively */
    bt_buf b = BT_BUF_INIT;
    bt_buf_puts(&b, "1");
    for (int i = 0; i < 1001; i++)
        bt_buf_puts(&b, " + 1");
    assert_int_equal(feel_compile(b.data, b.len, &e, &err), BT_EINVAL);
    assert_non_null(strstr(err.message, "too long"));
    bt_buf_reset(&b);
    bt_buf_puts(&b, "1");
    for (int i = 0; i < 1000; i++) /* 1000 operators are fine */
        bt_buf_puts(&b, " + 1");
    assert_int_equal(feel_compile(b.data, b.len, &e, &err), 0);
    assert_int_equal(feel_eval(e, NULL, &v, NULL), 0);
    int64_t sum;
    assert_int_equal(feel_number_to_int64(v, &sum), 0);
    assert_int_equal(sum, 1001);
    feel_value_unref(v);
    feel_expr_free(e);
    bt_buf_free(&b);
}

/* Every allocation of compile and eval fails in turn: BT_ENOMEM or success,
 * never a crash; ASan reports any leak on the failure paths. */
static void test_alloc_failures(void **state) {
    (void)state;
    static const char *const exprs[] = {
        "{a: 1, b: [a, a + 1, \"x\" + string(a)], c: for i in 1..3 return i * a}",
        "sort([3, 1, 2], function(x, y) x < y)[item > 1]",
        "some x in [1, 2, 3] satisfies x > 2 and x in [1..5]",
        "string join(for s in split(\"a,b,c\", \",\") return upper case(s), \"-\")",
        "context put(get entries({a: 1})[1], [\"k\", \"j\"], date(\"2026-01-01\") + "
        "duration(\"P1D\"))",
        "sum(for i in 1..20 return i / 3) + count(distinct values([1, 1, 2]))",
        "{x: 1, y: {z: [1, 2, 3]}}.y.z[-1]",
    };
    feel_value *vars;
    assert_int_equal(feel_value_from_json("{\"n\": 5}", 8, &vars, NULL), 0);
    feel_env env = {ctx_lookup, vars, 0};
    for (size_t k = 0; k < BT_ARRAY_LEN(exprs); k++) {
        const char *src = exprs[k];
        bool succeeded = false;
        for (long n = 0; n < 100000 && !succeeded; n++) {
            feel_expr *e = NULL;
            feel_value *v = NULL;
            bt_alloc_fail_after(n);
            int rc = feel_compile(src, strlen(src), &e, NULL);
            if (rc == 0) {
                rc = feel_eval(e, &env, &v, NULL);
                feel_value_unref(v);
                feel_expr_free(e);
            }
            bt_alloc_fail_after(-1);
            if (rc != 0 && rc != BT_ENOMEM)
                fail_msg("'%s' with allocation %ld failing: rc %d", src, n, rc);
            succeeded = rc == 0;
        }
        assert_true(succeeded);
    }
    /* JSON too */
    const char *json = "{\"a\": [1, 2.5, \"x\"], \"b\": {\"c\": null}}";
    for (long n = 0;; n++) {
        feel_value *v = NULL;
        bt_alloc_fail_after(n);
        int rc = feel_value_from_json(json, strlen(json), &v, NULL);
        bt_alloc_fail_after(-1);
        assert_true(rc == 0 || rc == BT_ENOMEM);
        feel_value_unref(v);
        if (rc == 0)
            break;
    }
    feel_value_unref(vars);
}

/* The hot path: `amount > 100` on an integer variable. Allocation-free;
 * the time per evaluation is printed, not asserted (machines differ). */
static void test_hot_path_no_allocation(void **state) {
    (void)state;
    feel_value *vars;
    assert_int_equal(feel_value_from_json("{\"amount\": 150}", 15, &vars, NULL), 0);
    feel_env env = {ctx_lookup, vars, 0};
    feel_expr *e;
    assert_int_equal(feel_compile("amount > 100", 12, &e, NULL), 0);
    bt_alloc_fail_after(0); /* any allocation would now fail the evaluation */
    feel_value *v = NULL;
    int rc = feel_eval(e, &env, &v, NULL);
    bt_alloc_fail_after(-1);
    assert_int_equal(rc, 0);
    assert_true(feel_value_is_true(v));
    struct timespec t0, t1;
    const int rounds = 1000000;
    int yes = 0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < rounds; i++) {
        feel_eval(e, &env, &v, NULL);
        yes += feel_value_is_true(v);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    assert_int_equal(yes, rounds);
    double ns =
        ((double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec)) / rounds;
    fprintf(stderr, "feel: `amount > 100` takes %.1f ns per evaluation\n", ns);
    feel_expr_free(e);
    feel_value_unref(vars);
}

/* Mutated expressions (a deterministic generator: insertions of FEEL's
 * characters, deletions, swaps) either compile or fail with BT_EINVAL and a
 * column inside the source; what compiles evaluates without a crash. */
static void test_mutated_expressions(void **state) {
    (void)state;
    static const char *const seeds[] = {
        "{a: 1, b: [a, a + 1], c: for i in 1..3 return i * a}.c[2]",
        "if x > 5 and y != null then \"big\" else substring(\"abc\", 2)",
        "some x in [1, 2] satisfies x in [1..2) or every y in xs satisfies y < x",
        "items[price > 10].name",
        "function(a, b) a ** b",
        "date(\"2020-01-01\") + duration(\"P1D\") < @\"2021-01-01T10:00:00Z\"",
        "x in (< 1, > 2, not(3), [4..5], -)",
        "string join(sort([\"b\", \"a\"], function(p, q) p < q), \", \")",
        "{`k-1`: 1, \"k 2\": 2, k3: {k4: -0.5e1}}.k3.k4 instance of number",
        "sum(xs) / count(xs) between 0 and 10",
    };
    static const char alphabet[] = "()[]{},.:?+-*/=<>!\"@` ainorx10";
    feel_value *vars;
    const char *json = "{\"x\": 5, \"y\": \"s\", \"xs\": [1, 2, 3], \"items\": [{\"price\": 20, "
                       "\"name\": \"n\"}]}";
    assert_int_equal(feel_value_from_json(json, strlen(json), &vars, NULL), 0);
    feel_env env = {ctx_lookup, vars, 0};
    uint64_t rng = 42;
    int compiled = 0;
    for (int round = 0; round < 20000; round++) {
        char buf[256];
        const char *seed = seeds[round % BT_ARRAY_LEN(seeds)];
        size_t n = strlen(seed);
        memcpy(buf, seed, n);
        int edits = 1 + (int)((rng >> 33) % 3);
        for (int k = 0; k < edits; k++) {
            rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
            size_t at = (size_t)((rng >> 33) % (n + 1));
            int what = (int)((rng >> 20) % 3);
            if (what == 0 && n + 1 < sizeof buf) { /* insert */
                memmove(buf + at + 1, buf + at, n - at);
                buf[at] = alphabet[(rng >> 40) % (sizeof alphabet - 1)];
                n++;
            } else if (what == 1 && at < n) { /* delete */
                memmove(buf + at, buf + at + 1, n - at - 1);
                n--;
            } else if (at + 1 < n) { /* swap */
                char c = buf[at];
                buf[at] = buf[at + 1];
                buf[at + 1] = c;
            }
        }
        feel_expr *e = NULL;
        bt_error err = {0};
        int rc = feel_compile(buf, n, &e, &err);
        if (rc != 0) {
            if (rc != BT_EINVAL || err.column < 1 || (size_t)err.column > n + 1)
                fail_msg("'%.*s': rc %d column %d", (int)n, buf, rc, err.column);
            continue;
        }
        compiled++;
        feel_value *v = NULL;
        rc = feel_eval(e, &env, &v, NULL);
        assert_true(rc == 0 || rc == BT_ELIMIT);
        feel_value_unref(v);
        feel_expr_free(e);
    }
    assert_true(compiled > 100);
    feel_value_unref(vars);
}

/* One compiled expression, one variable document, several threads: the
 * shared constants and variables are only referenced (atomically), never
 * written. */
typedef struct thread_job {
    const feel_expr *e;
    const feel_env *env;
    int ok;
} thread_job;

static void *thread_eval(void *arg) {
    thread_job *job = arg;
    for (int i = 0; i < 2000; i++) {
        feel_value *v = NULL;
        if (feel_eval(job->e, job->env, &v, NULL) == 0 && feel_value_type(v) == FEEL_LIST &&
            feel_list_count(v) == 3)
            job->ok++;
        feel_value_unref(v);
    }
    return NULL;
}

static void test_concurrent_evaluation(void **state) {
    (void)state;
    feel_value *vars;
    const char *json = "{\"items\": [{\"p\": 5}, {\"p\": 15}, {\"p\": 25}, {\"p\": 35}]}";
    assert_int_equal(feel_value_from_json(json, strlen(json), &vars, NULL), 0);
    feel_env env = {ctx_lookup, vars, 0};
    const char *src = "for x in items[p > 10] return {p: x.p, label: \"item\", all: items}";
    feel_expr *e;
    assert_int_equal(feel_compile(src, strlen(src), &e, NULL), 0);
    pthread_t threads[4];
    thread_job jobs[4];
    for (int i = 0; i < 4; i++) {
        jobs[i] = (thread_job){e, &env, 0};
        assert_int_equal(pthread_create(&threads[i], NULL, thread_eval, &jobs[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(threads[i], NULL);
        assert_int_equal(jobs[i].ok, 2000);
    }
    feel_expr_free(e);
    feel_value_unref(vars);
}

static void test_eval_json_helper(void **state) {
    (void)state;
    bool warned;
    char *s = eval_json("0.1 + 0.2 = 0.3", NULL, 0, &warned);
    assert_string_equal(s, "true");
    assert_false(warned);
    bt_free(s);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_data_files),
        cmocka_unit_test(test_values_and_refcounts),
        cmocka_unit_test(test_context_large_uses_index),
        cmocka_unit_test(test_json_round_trip),
        cmocka_unit_test(test_json_rejects),
        cmocka_unit_test(test_expr_source_and_syntax_error),
        cmocka_unit_test(test_unary_tests_api),
        cmocka_unit_test(test_function_outlives_expression),
        cmocka_unit_test(test_recursion_limit_is_hard_failure),
        cmocka_unit_test(test_alloc_failures),
        cmocka_unit_test(test_hot_path_no_allocation),
        cmocka_unit_test(test_mutated_expressions),
        cmocka_unit_test(test_concurrent_evaluation),
        cmocka_unit_test(test_eval_json_helper),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
