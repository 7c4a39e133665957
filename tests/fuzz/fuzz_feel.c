/*
 * fuzz_feel.c — libFuzzer target for the FEEL compiler and evaluator.
 *
 * The input is a FEEL expression. It is compiled (feel_compile); a rejected
 * expression must come with BT_EINVAL (or BT_ENOMEM), a message and no
 * feel_expr. An accepted one is evaluated against a small fixed set of
 * variables — numbers, strings, a boolean, null, a list of contexts and a
 * date — with now() fixed, so every run of an input is the same run. The
 * result is converted to JSON and everything is freed; ASan's leak check then
 * holds the evaluator to its reference counting. A broken contract aborts
 * (a finding).
 *
 * The result's JSON must also read back (feel_value_from_json), as the
 * engine stores variables that way. Sources that are not UTF-8 are refused
 * by feel_compile (regression input: corpus/feel/utf8-invalid-string-literal).
 *
 * The variables are built once, on the first input, from JSON plus two
 * evaluated temporal literals, and stay alive for the whole process.
 *
 *   cmake -S . -B build-fuzz -DBATON_FUZZ=ON -DCMAKE_C_COMPILER=clang
 *   cmake --build build-fuzz --target fuzz_feel
 *   build-fuzz/fuzz_feel tests/fuzz/corpus/feel
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "feel/feel.h"

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c))                                                                                  \
            abort();                                                                               \
    } while (0)

/* Expressions longer than this are cut: the parser's cost is linear, and
 * longer inputs only slow the fuzzer down. */
#define FUZZ_FEEL_MAX_INPUT 4096

/* 2024-03-01T12:00:00Z: what now() and today() see. */
#define FUZZ_FEEL_NOW_MS 1709294400000LL

static const char fuzz_feel_vars_json[] =
    "{\"x\": 5, \"y\": -2.5, \"big\": 123456789012345678901234567890.125,"
    " \"small\": 0.000001, \"name\": \"Ada Lovelace\", \"empty\": \"\","
    " \"flag\": true, \"nothing\": null, \"numbers\": [3, 1, 4, 1, 5, 9, 2, 6],"
    " \"items\": [{\"id\": 1, \"price\": 10.5, \"qty\": 2, \"tags\": [\"a\", \"b\"]},"
    "            {\"id\": 2, \"price\": 3, \"qty\": 0, \"tags\": []},"
    "            {\"id\": 3, \"price\": 99.99, \"qty\": 7, \"tags\": [\"b\"]}],"
    " \"order\": {\"customer\": {\"name\": \"Grace\", \"vip\": false}, \"total\": 42}}";

static feel_value *fuzz_feel_vars; /* a context; lives for the process */

/* Evaluates a constant expression (no variables) into a new value. */
static feel_value *fuzz_feel_constant(const char *src) {
    feel_expr *e = NULL;
    bt_error err;
    CHECK(feel_compile(src, strlen(src), &e, &err) == 0);
    feel_env env = {NULL, NULL, FUZZ_FEEL_NOW_MS};
    feel_value *v = NULL;
    CHECK(feel_eval(e, &env, &v, NULL) == 0 && v);
    feel_expr_free(e);
    return v;
}

static void fuzz_feel_init(void) {
    bt_error err;
    CHECK(feel_value_from_json(fuzz_feel_vars_json, strlen(fuzz_feel_vars_json), &fuzz_feel_vars,
                               &err) == 0);
    feel_value *date = fuzz_feel_constant("date(\"2024-02-29\")");
    CHECK(feel_value_type(date) == FEEL_DATE);
    CHECK(feel_context_put(fuzz_feel_vars, "birthday", 8, date) == 0);
    feel_value *moment = fuzz_feel_constant("date and time(\"2024-02-29T23:59:30+01:00\")");
    CHECK(feel_value_type(moment) == FEEL_DATE_TIME);
    CHECK(feel_context_put(fuzz_feel_vars, "deadline", 8, moment) == 0);
}

static const feel_value *fuzz_feel_lookup(void *ud, const char *name, size_t len) {
    return feel_context_get(ud, name, len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!fuzz_feel_vars)
        fuzz_feel_init();
    if (size > FUZZ_FEEL_MAX_INPUT)
        size = FUZZ_FEEL_MAX_INPUT;

    feel_expr *e = NULL;
    bt_error err;
    memset(&err, 0, sizeof err);
    int rc = feel_compile((const char *)data, size, &e, &err);
    if (rc != 0) {
        CHECK(!e);
        CHECK(rc == BT_ENOMEM || (rc == BT_EINVAL && err.message[0] != '\0'));
        return 0;
    }
    CHECK(e && !feel_expr_is_unary_tests(e));

    feel_env env = {fuzz_feel_lookup, fuzz_feel_vars, FUZZ_FEEL_NOW_MS};
    feel_value *v = NULL;
    bt_error warning;
    memset(&warning, 0, sizeof warning);
    rc = feel_eval(e, &env, &v, &warning);
    if (rc == 0) {
        CHECK(v);
        bt_buf json = BT_BUF_INIT;
        rc = feel_value_to_json(v, &json);
        CHECK(rc == 0 || rc == BT_ENOMEM);
        if (rc == 0) {
            /* What the engine stores must read back. */
            feel_value *back = NULL;
            bt_error jerr;
            CHECK(feel_value_from_json(json.data, json.len, &back, &jerr) == 0);
            feel_value_unref(back);
        }
        bt_buf_free(&json);
        feel_value_unref(v);
    } else {
        /* A hard failure: out of memory or a resource limit. */
        CHECK(rc == BT_ENOMEM || rc == BT_ELIMIT);
    }
    feel_expr_free(e);
    return 0;
}
