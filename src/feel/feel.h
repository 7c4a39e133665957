/*
 * feel.h — FEEL, the expression language of baton's models (DMN 1.3+ ch. 10).
 *
 * The interface the model and the engine use:
 *
 *   - values: feel_value, immutable and reference counted, JSON-compatible
 *     (null, boolean, number, string, list, context) plus FEEL's own types
 *     (date, time, date and time, the two durations, ranges, functions).
 *     The engine keeps process variables as feel_values, so evaluating a
 *     condition never converts a variable document.
 *   - numbers are decimal (34 significant digits, IEEE 754 decimal128), with
 *     a fast path for integers: 0.1 + 0.2 = 0.3 exactly.
 *   - expressions are compiled once (feel_compile, at deploy time) into an
 *     immutable feel_expr and evaluated many times (feel_eval), concurrently
 *     from several threads if need be.
 *   - evaluation is deterministic: the current time comes from feel_env.
 *
 * Ownership: functions returning feel_value * return a new reference the
 * caller must feel_value_unref (feel_null() and the booleans are static, and
 * ref/unref on them are no-ops, so callers need not tell them apart).
 * Functions taking `feel_value *` "steal" the reference where documented.
 * A value shared by more than one reference must not be mutated: the
 * mutators (feel_context_put, feel_list_push) require a fresh value.
 *
 * Errors follow base.h: 0 or a negative BT_E* code, with bt_error filled
 * (column = 1-based character column in the expression source).
 */
#ifndef BATON_FEEL_H
#define BATON_FEEL_H

#include "base/base.h"

typedef enum feel_type {
    FEEL_NULL,
    FEEL_BOOLEAN,
    FEEL_NUMBER,
    FEEL_STRING,
    FEEL_DATE,
    FEEL_TIME,
    FEEL_DATE_TIME,
    FEEL_DAYS_TIME_DURATION,
    FEEL_YEARS_MONTHS_DURATION,
    FEEL_LIST,
    FEEL_CONTEXT,
    FEEL_RANGE,
    FEEL_FUNCTION,
} feel_type;

typedef struct feel_value feel_value;
typedef struct feel_expr feel_expr;

/* ---- values ---------------------------------------------------------- */

feel_type feel_value_type(const feel_value *v);
/* FEEL's name of the type: "null", "boolean", "number", "string", "date",
 * "time", "date and time", "days and time duration", ... , "context". */
const char *feel_type_name(feel_type t);

feel_value *feel_value_ref(feel_value *v); /* returns v; NULL allowed */
void feel_value_unref(feel_value *v);      /* NULL allowed */

feel_value *feel_null(void);                 /* static, never NULL */
feel_value *feel_bool(bool b);               /* static, never NULL */
feel_value *feel_number_from_int(int64_t i); /* NULL on ENOMEM */
/* Parses a decimal number literal ("12", "-0.5", "1e3"). NULL if not a number or ENOMEM. */
feel_value *feel_number_from_string(const char *s, size_t n);
feel_value *feel_string_new(const char *s, size_t n); /* copies; NULL on ENOMEM */

/* true only for the boolean true. */
bool feel_value_is_true(const feel_value *v);
/* Number → int64 when it is integral and fits; BT_EINVAL otherwise. */
int feel_number_to_int64(const feel_value *v, int64_t *out);
/* The bytes of a string (not NUL-terminated necessarily); NULL if not a string. */
const char *feel_string_ptr(const feel_value *v, size_t *len);

/* Deep equality as FEEL's `=` defines it for these values (1 = 1.0). */
bool feel_value_equal(const feel_value *a, const feel_value *b);

/* Lists. */
feel_value *feel_list_new(void); /* NULL on ENOMEM */
size_t feel_list_count(const feel_value *list);
const feel_value *feel_list_at(const feel_value *list, size_t i); /* borrowed */
int feel_list_push(feel_value *list, feel_value *item);           /* steals item */

/* Contexts: ordered maps from string keys to values (keys unique). */
feel_value *feel_context_new(void); /* NULL on ENOMEM */
size_t feel_context_count(const feel_value *ctx);
/* Entry i in insertion order; borrowed pointers. */
const char *feel_context_key_at(const feel_value *ctx, size_t i, size_t *len);
const feel_value *feel_context_value_at(const feel_value *ctx, size_t i);
/* Borrowed value for key, or NULL when the key is absent. */
const feel_value *feel_context_get(const feel_value *ctx, const char *key, size_t len);
/* Inserts or replaces; steals val. */
int feel_context_put(feel_value *ctx, const char *key, size_t len, feel_value *val);

/* ---- JSON ------------------------------------------------------------------ */

/* Parses one JSON document (RFC 8259) into a value: numbers become exact
 * decimals, objects contexts (key order kept), arrays lists. Rejects trailing
 * garbage, invalid UTF-8 and nesting deeper than 1000. */
int feel_value_from_json(const char *json, size_t len, feel_value **out, bt_error *err);
/* Appends v as JSON. Numbers print exactly (shortest form, no exponent
 * for ordinary magnitudes), temporal values as ISO 8601 strings, durations
 * as ISO 8601 durations, ranges and functions as null. */
int feel_value_to_json(const feel_value *v, bt_buf *out);

/* ---- expressions -------------------------------------------------------------- */

/* Compiles a FEEL expression (without Zeebe's leading '='). On a syntax error
 * returns BT_EINVAL with err->column and a message naming what was expected.
 * *out is owned by the caller: feel_expr_free. */
int feel_compile(const char *src, size_t len, feel_expr **out, bt_error *err);
void feel_expr_free(feel_expr *e); /* NULL allowed */
const char *feel_expr_source(const feel_expr *e);

/* Compiles DMN unary tests, as in a decision table's input entries or after
 * `in`: "< 5", "[1..10], 20", "-", "not(1, 2)", "? > limit". Same errors as
 * feel_compile. Evaluate with feel_eval_tests. */
int feel_compile_unary_tests(const char *src, size_t len, feel_expr **out, bt_error *err);
/* True when e was compiled by feel_compile_unary_tests. */
bool feel_expr_is_unary_tests(const feel_expr *e);

/* Where an evaluation finds its variables and its clock. */
typedef struct feel_env {
    /* Returns the value of a top-level variable (borrowed, must stay valid for
     * the evaluation) or NULL when there is no such variable. NULL lookup
     * means no variables. */
    const feel_value *(*lookup)(void *ud, const char *name, size_t len);
    void *ud;
    int64_t now_ms; /* what now() and today() return, ms since the epoch */
} feel_env;

/* Evaluates e. Returns 0 and a new reference in *out; FEEL semantics apply:
 * most runtime problems (a missing variable, adding a string to a number)
 * yield null, and the first such problem is described in *warning when it is
 * not NULL (warning->code = BT_EEVAL, message says what; untouched if none).
 * A hard failure (out of memory, recursion too deep) returns a negative code. */
int feel_eval(const feel_expr *e, const feel_env *env, feel_value **out, bt_error *warning);

/* Evaluates unary tests e (feel_compile_unary_tests) against input
 * (borrowed; NULL means null): *out is true, false or null. Otherwise as
 * feel_eval. An expression compiled by feel_compile is tested as `input in
 * (expression)` would be. */
int feel_eval_tests(const feel_expr *e, const feel_value *input, const feel_env *env,
                    feel_value **out, bt_error *warning);

#endif
