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

    json_t *body = json_object();
    if (!body)
        return 1;
    if (variables) {
        json_error_t jerr;
        json_t *vars = json_loads(variables, 0, &jerr);
        if (!json_is_object(vars)) {
            if (vars)
                fprintf(stderr, "error: --variables must be a JSON object\n");
            else
                fprintf(stderr, "error: --variables is not valid JSON: %s (column %d)\n", jerr.text,
                        jerr.column);
            json_decref(vars);
            json_decref(body);
            return 2;
        }
        json_object_set_new(body, "variables", vars);
    }
    cli_json_set_str(body, "processDefinitionId", process_id);
    if (version > 0)
        json_object_set_new(body, "processDefinitionVersion", json_integer(version));
    if (business_id)
        cli_json_set_str(body, "businessId", business_id);
    if (await) {
        json_object_set_new(body, "awaitCompletion", json_true());
        json_object_set_new(body, "requestTimeout", json_integer(timeout));
    }

    cli_client *c;
    if (cli_client_new(&cfg, &c) != BT_OK) {
        json_decref(body);
        return 1;
    }
    json_t *answer = NULL;
    int status = cli_call(c, "POST", "/v2/process-instances", body,
                          await ? timeout + CLI_POLL_MARGIN_MS : 0, &answer);
    if (status == 0) {
        if (await) {
            json_t *vars = json_object_get(answer, "variables");
            char *text = vars ? json_dumps(vars, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
            printf("%s\n", text ? text : "{}");
            bt_free(text);
        } else {
            printf("%s\n", cli_json_str(answer, "processInstanceKey", false));
        }
    }
    json_decref(answer);
    json_decref(body);
    cli_client_free(c);
    return status;
}
