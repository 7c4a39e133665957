/*
 * cmd_eval.c — `baton eval`: evaluate FEEL expressions from the command line.
 *
 *   baton eval 'EXPRESSION' [--context JSON] [--now ISO-8601]
 *       prints the result as JSON on stdout and exits 0; a syntax error is
 *       printed as "error: <message> (column N)" on stderr with exit 1; a
 *       runtime warning goes to stderr and the (null) result is still printed.
 *   baton eval --jsonl FILE|-
 *       one JSON object per input line, {"expr": "...", "context": {...}};
 *       one output line per input line, {"result": <json>} (plus "warning"
 *       when there was one) or {"error": "..."}. Used by the differential
 *       test against another FEEL implementation.
 *
 * The clock: now() and today() read --now when given (milliseconds since
 * the epoch or 0 by default in --jsonl mode for reproducible output), else
 * the wall clock.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "feel/feel.h"

static const feel_value *context_lookup(void *ud, const char *name, size_t len) {
    return feel_context_get(ud, name, len);
}

static int usage(void) {
    fprintf(stderr, "usage: baton eval 'EXPRESSION' [--context JSON] [--now MS]\n"
                    "       baton eval --jsonl FILE|-\n");
    return 2;
}

/* Evaluates one expression; fills out with the JSON result. Returns 0, or
 * 1 with err filled for a compile error. */
static int eval_one(const char *src, const feel_value *ctx, int64_t now_ms, bt_buf *out,
                    bt_error *err, bt_error *warning) {
    feel_expr *e;
    if (feel_compile(src, strlen(src), &e, err) < 0)
        return 1;
    feel_env env = {ctx ? context_lookup : NULL, (void *)ctx, now_ms};
    feel_value *v;
    int rc = feel_eval(e, &env, &v, warning);
    feel_expr_free(e);
    if (rc < 0) {
        bt_error_set(err, rc, "%s", warning->message);
        return 1;
    }
    feel_value_to_json(v, out);
    feel_value_unref(v);
    return 0;
}

static int run_jsonl(const char *path, int64_t now_ms) {
    FILE *in = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
    if (!in) {
        fprintf(stderr, "error: cannot open %s\n", path);
        return 1;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    bt_buf out = BT_BUF_INIT;
    while ((n = getline(&line, &cap, in)) >= 0) {
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = 0;
        if (n == 0)
            continue;
        bt_buf_reset(&out);
        bt_error err = {0}, warning = {0};
        feel_value *doc = NULL;
        const feel_value *expr = NULL, *ctx = NULL;
        if (feel_value_from_json(line, (size_t)n, &doc, &err) == 0) {
            expr = feel_context_get(doc, "expr", 4);
            ctx = feel_context_get(doc, "context", 7);
            if (!feel_string_ptr(expr, NULL))
                bt_error_set(&err, BT_EINVAL, "line has no \"expr\" string");
        }
        bt_buf result = BT_BUF_INIT;
        if (!err.code &&
            eval_one(feel_string_ptr(expr, NULL), feel_value_type(ctx) == FEEL_CONTEXT ? ctx : NULL,
                     now_ms, &result, &err, &warning) == 0) {
            bt_buf_puts(&out, "{\"result\":");
            bt_buf_append(&out, result.data, result.len);
            if (warning.code) {
                bt_buf_puts(&out, ",\"warning\":");
                bt_buf_json_string(&out, warning.message, strlen(warning.message));
            }
            bt_buf_putc(&out, '}');
        } else {
            bt_buf_puts(&out, "{\"error\":");
            bt_buf_json_string(&out, err.message, strlen(err.message));
            bt_buf_putc(&out, '}');
        }
        bt_buf_free(&result);
        feel_value_unref(doc);
        fwrite(out.data, 1, out.len, stdout);
        fputc('\n', stdout);
        fflush(stdout);
    }
    free(line);
    bt_buf_free(&out);
    if (in != stdin)
        fclose(in);
    return 0;
}

int cli_cmd_eval(int argc, char **argv) {
    const char *expr = NULL, *context = NULL, *jsonl = NULL;
    int64_t now_ms = 0;
    bool have_now = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--context") == 0 && i + 1 < argc) {
            context = argv[++i];
        } else if (strcmp(argv[i], "--jsonl") == 0 && i + 1 < argc) {
            jsonl = argv[++i];
        } else if (strcmp(argv[i], "--now") == 0 && i + 1 < argc) {
            now_ms = strtoll(argv[++i], NULL, 10);
            have_now = true;
        } else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            usage();
            return 0;
        } else if (!expr && (argv[i][0] != '-' || argv[i][1] == 0 || argv[i][1] == ' ' ||
                             (argv[i][1] >= '0' && argv[i][1] <= '9'))) {
            expr = argv[i];
        } else {
            return usage();
        }
    }
    if (jsonl)
        return expr || context ? usage() : run_jsonl(jsonl, now_ms);
    if (!expr)
        return usage();
    if (!have_now)
        now_ms = bt_clock_now_ms();

    feel_value *ctx = NULL;
    bt_error err = {0}, warning = {0};
    if (context) {
        if (feel_value_from_json(context, strlen(context), &ctx, &err) < 0) {
            fprintf(stderr, "error: --context: %s\n", err.message);
            return 1;
        }
        if (feel_value_type(ctx) != FEEL_CONTEXT) {
            fprintf(stderr, "error: --context must be a JSON object\n");
            feel_value_unref(ctx);
            return 1;
        }
    }
    bt_buf out = BT_BUF_INIT;
    int rc = eval_one(expr, ctx, now_ms, &out, &err, &warning);
    feel_value_unref(ctx);
    if (rc != 0) {
        if (err.column) { /* the message ends with " at column N": say it once */
            char suffix[48];
            int n = snprintf(suffix, sizeof suffix, " at column %d", err.column);
            size_t len = strlen(err.message);
            if (n > 0 && len >= (size_t)n && strcmp(err.message + len - (size_t)n, suffix) == 0)
                err.message[len - (size_t)n] = 0;
            fprintf(stderr, "error: %s (column %d)\n", err.message, err.column);
        } else
            fprintf(stderr, "error: %s\n", err.message);
        bt_buf_free(&out);
        return 1;
    }
    if (warning.code)
        fprintf(stderr, "warning: %s\n", warning.message);
    fwrite(out.data, 1, out.len, stdout);
    fputc('\n', stdout);
    bt_buf_free(&out);
    return 0;
}
