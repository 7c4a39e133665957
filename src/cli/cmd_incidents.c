/*
 * cmd_incidents.c — `baton incidents`: list open incidents (or all, with
 * --all), oldest first, through POST /v2/incidents/search.
 *
 * The table: incident key, error type, element id, process instance key,
 * message (on one line: line breaks become spaces).
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/client.h"

static const char usage_text[] =
    "usage: baton incidents [--instance KEY] [--all] [--limit N] [connection options]\n"
    "\n"
    "Lists the open incidents (with --all, resolved ones too), oldest first, of\n"
    "every instance or of one: KEY, TYPE, ELEMENT, INSTANCE, MESSAGE. Fix the\n"
    "cause, then `baton resolve KEY` (a job out of retries: `--retries N`).\n"
    "\n" CLI_CLIENT_OPTIONS_HELP;

static void print_items(json_t *items) {
    size_t n = json_array_size(items);
    enum { COLS = 5 };
    const char **cells = bt_calloc(n * COLS + 1, sizeof *cells);
    char **messages = bt_calloc(n + 1, sizeof *messages);
    if (!cells || !messages) {
        bt_free(cells);
        bt_free(messages);
        fprintf(stderr, "error: out of memory\n");
        return;
    }
    for (size_t i = 0; i < n; i++) {
        json_t *it = json_array_get(items, i);
        const char **row = cells + i * COLS;
        row[0] = cli_json_str(it, "incidentKey", true);
        row[1] = cli_json_str(it, "errorType", true);
        row[2] = cli_json_str(it, "elementId", true);
        row[3] = cli_json_str(it, "processInstanceKey", true);
        messages[i] = bt_strdup(cli_json_str(it, "errorMessage", true));
        for (char *p = messages[i]; p && *p; p++)
            if (*p == '\n' || *p == '\r' || *p == '\t')
                *p = ' ';
        row[4] = messages[i] ? messages[i] : "";
    }
    static const char *const header[COLS] = {"KEY", "TYPE", "ELEMENT", "INSTANCE", "MESSAGE"};
    cli_table_print(stdout, header, COLS, cells, (int)n);
    for (size_t i = 0; i < n; i++)
        bt_free(messages[i]);
    bt_free(messages);
    bt_free(cells);
}

int cli_cmd_incidents(int argc, char **argv) {
    cli_client_config cfg = {0};
    const char *instance = NULL;
    bool all = false;
    long limit = 100;
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
        } else if (strcmp(a, "--instance") == 0 && v) {
            instance = argv[++i];
            if (!cli_is_key(instance)) {
                fprintf(stderr, "baton incidents: --instance wants a key, not '%s'\n", instance);
                return 2;
            }
        } else if (strcmp(a, "--all") == 0) {
            all = true;
        } else if (strcmp(a, "--limit") == 0 && v) {
            if (cli_parse_long(argv[++i], 1, 10000, &limit)) {
                fprintf(stderr, "baton incidents: --limit wants a number from 1 to 10000\n");
                return 2;
            }
        } else {
            fprintf(stderr, "baton incidents: unexpected argument %s\n%s", a, usage_text);
            return 2;
        }
    }

    json_t *filter = json_object(), *page = json_object();
    json_t *body = json_pack("{s:o, s:[{s:s, s:s}], s:o}", "filter", filter, "sort", "field",
                             "incidentKey", "order", "ASC", "page", page);
    if (!body)
        return 1;
    if (instance)
        cli_json_set_str(filter, "processInstanceKey", instance);
    if (!all)
        cli_json_set_str(filter, "state", "ACTIVE");
    json_object_set_new(page, "limit", json_integer(limit));

    int status = cli_search(&cfg, "/v2/incidents/search", body, "incidents", print_items);
    json_decref(body);
    return status;
}
