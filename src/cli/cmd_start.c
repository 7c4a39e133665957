/*
 * cmd_start.c — `baton start PROCESS_ID`: start a process instance.
 *
 * Without --await it prints the new instance's key as soon as the start is
 * durable. With --await the server holds the request until the instance
 * completes (or --timeout passes: exit 1, the instance keeps running) and
 * the command prints the instance's final variables as one line of JSON.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/client.h"
#include "feel/feel.h"

static const char usage_text[] =
    "usage: baton start PROCESS_ID [--variables JSON] [--version N] [--business-id ID]\n"
    "                   [--await [--timeout MS]] [connection options]\n"
    "\n"
    "Starts an instance of the process (the latest version, or --version N) with\n"
    "the variables of the JSON object, and prints its key. With --await, waits\n"
    "until the instance completes and prints its final variables as JSON instead;\n"
    "--timeout bounds the wait (default 60000 ms; on time-out the instance keeps\n"
    "running and the command exits 1).\n"
    "\n" CLI_CLIENT_OPTIONS_HELP;

#define DEFAULT_AWAIT_MS 60000L

/* Prints the instance key, or with await the final variables, exactly as
 * the server sent them (read with baton's JSON: no binary doubles). */
static int print_answer(const cli_response *r, bool await) {
    feel_value *doc = NULL;
    bt_error err = {0};
    if (feel_value_from_json(r->body.data, r->body.len, &doc, &err) != BT_OK ||
        feel_value_type(doc) != FEEL_CONTEXT) {
        fprintf(stderr, "error: the server's answer is not a JSON object\n");
        feel_value_unref(doc);
        return 1;
    }
    int status = 0;
    if (await) {
        const feel_value *vars = feel_context_get(doc, "variables", 9);
        bt_buf out = BT_BUF_INIT;
        if (vars && feel_value_type(vars) == FEEL_CONTEXT)
            feel_value_to_json(vars, &out);
        else
            bt_buf_puts(&out, "{}");
        status = out.failed ? 1 : 0;
        printf("%s\n", out.failed ? "" : out.data);
        bt_buf_free(&out);
    } else {
        size_t len = 0;
        const char *key = feel_string_ptr(feel_context_get(doc, "processInstanceKey", 18), &len);
        status = key ? 0 : 1;
        if (key)
            printf("%.*s\n", (int)len, key);
        else
            fprintf(stderr, "error: the answer has no processInstanceKey\n");
    }
    feel_value_unref(doc);
    return status;
}

int cli_cmd_start(int argc, char **argv) {
    cli_client_config cfg = {0};
    const char *process_id = NULL, *variables = NULL, *business_id = NULL;
    long version = -1, timeout = DEFAULT_AWAIT_MS;
    bool await = false, have_timeout = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        int opt = cli_client_option(&cfg, argc, argv, &i);
        if (opt < 0)
            return 2;
        if (opt > 0)
            continue;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(usage_text, stdout);
            return 0;
        } else if (strcmp(a, "--await") == 0) {
            await = true;
        } else if (strcmp(a, "--variables") == 0 && v) {
            variables = argv[++i];
        } else if (strcmp(a, "--business-id") == 0 && v) {
            business_id = argv[++i];
        } else if (strcmp(a, "--version") == 0 && v) {
            if (cli_parse_long(argv[++i], 1, INT32_MAX, &version)) {
                fprintf(stderr, "baton start: --version wants a positive number, not '%s'\n", v);
                return 2;
            }
        } else if (strcmp(a, "--timeout") == 0 && v) {
            if (cli_parse_long(argv[++i], 1, INT32_MAX, &timeout)) {
                fprintf(stderr, "baton start: --timeout wants milliseconds, not '%s'\n", v);
                return 2;
            }
            have_timeout = true;
        } else if (a[0] != '-' && !process_id) {
            process_id = a;
        } else {
            fprintf(stderr, "baton start: unexpected argument %s\n%s", a, usage_text);
            return 2;
        }
    }
    if (!process_id || (have_timeout && !await)) {
        if (have_timeout && !await)
            fprintf(stderr, "baton start: --timeout goes with --await\n");
        fputs(usage_text, stderr);
        return 2;
    }

    /* The body as text: the variables keep their exact numbers (client.h). */
    bt_buf body = BT_BUF_INIT;
    bt_buf_puts(&body, "{\"processDefinitionId\":");
    bt_buf_json_string(&body, process_id, strlen(process_id));
    int bad = variables ? cli_body_variables(&body, variables) : 0;
    if (bad) {
        bt_buf_free(&body);
        return bad;
    }
    if (version > 0)
        bt_buf_printf(&body, ",\"processDefinitionVersion\":%ld", version);
    if (business_id) {
        bt_buf_puts(&body, ",\"businessId\":");
        bt_buf_json_string(&body, business_id, strlen(business_id));
    }
    if (await)
        bt_buf_printf(&body, ",\"awaitCompletion\":true,\"requestTimeout\":%ld", timeout);
    bt_buf_putc(&body, '}');
    if (body.failed) {
        fprintf(stderr, "error: out of memory\n");
        return 1;
    }

    cli_client *c;
    if (cli_client_new(&cfg, &c) != BT_OK) {
        bt_buf_free(&body);
        return 1;
    }
    cli_response r = {0};
    int status = cli_call_text(c, "POST", "/v2/process-instances", body.data,
                               await ? timeout + CLI_POLL_MARGIN_MS : 0, &r);
    if (status == 0)
        status = print_answer(&r, await);
    cli_response_free(&r);
    bt_buf_free(&body);
    cli_client_free(c);
    return status;
}
