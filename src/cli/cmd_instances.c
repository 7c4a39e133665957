/*
 * cmd_instances.c — `baton instances`: list process instances, newest
 * first, through POST /v2/process-instances/search.
 *
 * The table: key, process id, version, state, whether an incident is
 * open, start time. When more instances match than are shown, a note on
 * stderr says how many.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/client.h"

static const char usage_text[] =
    "usage: baton instances [--process ID] [--state ACTIVE|COMPLETED|TERMINATED]\n"
    "                       [--limit N] [connection options]\n"
    "\n"
    "Lists process instances, newest first (default: the 50 newest), as a table:\n"
    "KEY, PROCESS, VERSION, STATE, INCIDENT (yes when one is open), START.\n"
    "\n" CLI_CLIENT_OPTIONS_HELP;

static const char *const states[] = {"ACTIVE", "COMPLETED", "TERMINATED"};

static void print_items(json_t *items) {
    size_t n = json_array_size(items);
    enum { COLS = 6 };
    const char **cells = bt_calloc(n * COLS + 1, sizeof *cells);
    char(*versions)[24] = bt_calloc(n + 1, sizeof *versions);
    if (!cells || !versions) {
        bt_free(cells);
        bt_free(versions);
        fprintf(stderr, "error: out of memory\n");
        return;
    }
    for (size_t i = 0; i < n; i++) {
        json_t *it = json_array_get(items, i);
        snprintf(versions[i], sizeof versions[i], "%lld",
                 (long long)json_integer_value(json_object_get(it, "processDefinitionVersion")));
        const char **row = cells + i * COLS;
        row[0] = cli_json_str(it, "processInstanceKey", true);
        row[1] = cli_json_str(it, "processDefinitionId", true);
        row[2] = versions[i];
        row[3] = cli_json_str(it, "state", true);
        row[4] = json_is_true(json_object_get(it, "hasIncident")) ? "yes" : "no";
        row[5] = cli_json_str(it, "startDate", true);
    }
    static const char *const header[COLS] = {"KEY",   "PROCESS",  "VERSION",
                                             "STATE", "INCIDENT", "START"};
    cli_table_print(stdout, header, COLS, cells, (int)n);
    bt_free(cells);
    bt_free(versions);
}

int cli_cmd_instances(int argc, char **argv) {
    cli_client_config cfg = {0};
    const char *process = NULL, *state = NULL;
    long limit = 50;
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
        } else if (strcmp(a, "--process") == 0 && v) {
            process = argv[++i];
        } else if (strcmp(a, "--state") == 0 && v) {
            state = argv[++i];
            bool known = false;
            for (size_t s = 0; s < BT_ARRAY_LEN(states); s++)
                known |= strcmp(state, states[s]) == 0;
            if (!known) {
                fprintf(stderr, "baton instances: --state is ACTIVE, COMPLETED or TERMINATED\n");
                return 2;
            }
        } else if (strcmp(a, "--limit") == 0 && v) {
            if (cli_parse_long(argv[++i], 1, 10000, &limit)) {
                fprintf(stderr, "baton instances: --limit wants a number from 1 to 10000\n");
                return 2;
            }
        } else {
            fprintf(stderr, "baton instances: unexpected argument %s\n%s", a, usage_text);
            return 2;
        }
    }

    json_t *filter = json_object(), *page = json_object();
    json_t *body = json_pack("{s:o, s:[{s:s, s:s}], s:o}", "filter", filter, "sort", "field",
                             "processInstanceKey", "order", "DESC", "page", page);
    if (!body)
        return 1;
    if (process)
        cli_json_set_str(filter, "processDefinitionId", process);
    if (state)
        cli_json_set_str(filter, "state", state);
    json_object_set_new(page, "limit", json_integer(limit));

    int status = cli_search(&cfg, "/v2/process-instances/search", body, "instances", print_items);
    json_decref(body);
    return status;
}
