/*
 * feel_bench.c — how fast baton evaluates the FEEL expressions an engine
 * evaluates all day: gateway conditions, input/output mappings, filters.
 *
 * Each expression is compiled once (feel_compile, as at deploy time) and
 * evaluated N times (default 1,000,000) against the same variables, looked
 * up through a feel_env exactly as the engine does (a context of process
 * variables, borrowed). The result is released after each evaluation, so the
 * figure includes building and freeing the result (a context, a list). One
 * evaluation is checked against its expected JSON first: a benchmark of a
 * wrong answer is worthless.
 *
 * Usage: baton-bench-feel [--n N]
 * Prints one line per expression:
 *   engine=baton expr="amount > 100" ns_per_eval=12.3
 * (inner quotes of the expression escaped with a backslash).
 * bench/feel.sh runs it next to the feelin peer (bench/peer/feelin-bench.mjs,
 * same expressions, same variables) and prints the ratio.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "feel/feel.h"

/* The variables: an order with a customer, ten items, an amount. */
static const char VARIABLES[] =
    "{\"amount\": 250, \"price\": 12.5, \"quantity\": 3,"
    " \"order\": {\"id\": \"A-1\", \"date\": \"2024-03-15\","
    "  \"customer\": {\"name\": \"Ada\", \"address\": {\"city\": \"Berlin\", \"zip\": \"10115\"}}},"
    " \"items\": ["
    "  {\"name\": \"pen\", \"price\": 2.5}, {\"name\": \"book\", \"price\": 18},"
    "  {\"name\": \"lamp\", \"price\": 35}, {\"name\": \"mug\", \"price\": 8},"
    "  {\"name\": \"desk\", \"price\": 240}, {\"name\": \"cable\", \"price\": 4.99},"
    "  {\"name\": \"chair\", \"price\": 120}, {\"name\": \"pad\", \"price\": 3},"
    "  {\"name\": \"ink\", \"price\": 11}, {\"name\": \"bag\", \"price\": 25}]}";

/* One row per expression: the text and the JSON its evaluation must give. */
static const struct {
    const char *expr;
    const char *expect;
} CASES[] = {
    /* a gateway condition on a variable */
    {"amount > 100", "true"},
    /* a path into nested contexts */
    {"order.customer.address.city", "\"Berlin\""},
    /* an output mapping building a context */
    {"{total: price * quantity, currency: \"EUR\"}", "{\"total\":37.5,\"currency\":\"EUR\"}"},
    /* a filter over a 10-item list */
    {"items[price > 10]", "[{\"name\":\"book\",\"price\":18},{\"name\":\"lamp\",\"price\":35},"
                          "{\"name\":\"desk\",\"price\":240},{\"name\":\"chair\",\"price\":120},"
                          "{\"name\":\"ink\",\"price\":11},{\"name\":\"bag\",\"price\":25}]"},
    /* an aggregate over a projection */
    {"sum(items.price)", "467.49"},
    /* temporal arithmetic on a string variable */
    {"date(order.date) + duration(\"P1D\")", "\"2024-03-16\""},
};

static const feel_value *lookup(void *ud, const char *name, size_t len) {
    return feel_context_get(ud, name, len);
}

/* Prints s between double quotes, inner quotes and backslashes escaped. */
static void print_quoted(const char *s) {
    putchar('"');
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            putchar('\\');
        putchar(*s);
    }
    putchar('"');
}

static double now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* Evaluates e once and compares with the expected JSON: 0 when equal. */
static int check(const feel_expr *e, const feel_env *env, const char *expect) {
    feel_value *v;
    bt_error warning = {0};
    if (feel_eval(e, env, &v, &warning) < 0)
        return -1;
    bt_buf b = BT_BUF_INIT;
    feel_value_to_json(v, &b);
    feel_value_unref(v);
    char *got = bt_buf_take(&b);
    int rc = strcmp(got, expect) == 0 ? 0 : -1;
    if (rc < 0)
        fprintf(stderr, "baton-bench-feel: got %s, expected %s\n", got, expect);
    bt_free(got);
    return rc;
}

int main(int argc, char **argv) {
    long n = 1000000;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--n") == 0 && i + 1 < argc) {
            n = atol(argv[++i]);
        } else {
            fprintf(stderr, "usage: baton-bench-feel [--n N]\n");
            return 2;
        }
    }
    if (n <= 0)
        n = 1;
    feel_value *vars;
    bt_error err;
    if (feel_value_from_json(VARIABLES, sizeof VARIABLES - 1, &vars, &err) < 0) {
        fprintf(stderr, "baton-bench-feel: variables: %s\n", err.message);
        return 1;
    }
    feel_env env = {lookup, vars, 1700000000000};
    int status = 0;
    for (size_t c = 0; c < BT_ARRAY_LEN(CASES); c++) {
        feel_expr *e;
        if (feel_compile(CASES[c].expr, strlen(CASES[c].expr), &e, &err) < 0) {
            fprintf(stderr, "baton-bench-feel: %s: %s\n", CASES[c].expr, err.message);
            status = 1;
            continue;
        }
        if (check(e, &env, CASES[c].expect) < 0) {
            feel_expr_free(e);
            status = 1;
            continue;
        }
        /* warm-up, then the measured loop */
        for (long i = 0; i < n / 10; i++) {
            feel_value *v;
            if (feel_eval(e, &env, &v, NULL) == 0)
                feel_value_unref(v);
        }
        double t0 = now_ns();
        for (long i = 0; i < n; i++) {
            feel_value *v;
            if (feel_eval(e, &env, &v, NULL) < 0) {
                status = 1;
                break;
            }
            feel_value_unref(v);
        }
        double ns = (now_ns() - t0) / (double)n;
        printf("engine=baton expr=");
        print_quoted(CASES[c].expr);
        printf(" ns_per_eval=%.1f\n", ns);
        feel_expr_free(e);
    }
    feel_value_unref(vars);
    return status;
}
