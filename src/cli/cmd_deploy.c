/*
 * cmd_deploy.c — `baton deploy FILE...`: deploy BPMN files to a running
 * server in one deployment (all or nothing).
 *
 * Prints one line per deployed process: its id, version and definition
 * key. A rejected model prints the server's problem detail — every
 * problem with its element id and line — and exits 1.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/client.h"

static const char usage_text[] =
    "usage: baton deploy FILE... [connection options]\n"
    "\n"
    "Deploys the BPMN files as one deployment (all or nothing) and prints, per\n"
    "process, its id, version and key. A model the engine rejects prints every\n"
    "problem found (element id, line) and exits 1. Deploying an unchanged file\n"
    "again returns the latest version instead of making a new one.\n"
    "\n" CLI_CLIENT_OPTIONS_HELP;

int cli_cmd_deploy(int argc, char **argv) {
    cli_client_config cfg = {0};
    char **files = argv + 1; /* reordered in place: files first */
    int n_files = 0;
    for (int i = 1; i < argc; i++) {
        int opt = cli_client_option(&cfg, argc, argv, &i);
        if (opt < 0)
            return 2;
        if (opt > 0)
            continue;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(usage_text, stdout);
            return 0;
        }
        if (argv[i][0] == '-' && argv[i][1] != 0) {
            fprintf(stderr, "baton deploy: unknown option %s\n%s", argv[i], usage_text);
            return 2;
        }
        files[n_files++] = argv[i];
    }
    if (n_files == 0) {
        fputs(usage_text, stderr);
        return 2;
    }
    for (int i = 0; i < n_files; i++) {
        FILE *f = fopen(files[i], "rb");
        if (!f) {
            fprintf(stderr, "error: cannot read %s: %s\n", files[i], strerror(errno));
            return 1;
        }
        fclose(f);
    }

    cli_client *c;
    if (cli_client_new(&cfg, &c) != BT_OK)
        return 1;
    cli_response r = {0};
    int rc = cli_client_deploy(c, files, n_files, &r);
    int status = 1;
    if (rc != BT_OK || r.status < 200 || r.status > 299) {
        cli_report_failure(c, &r, rc);
    } else {
        json_t *doc = json_loadb(r.body.data, r.body.len, 0, NULL);
        json_t *list = json_object_get(doc, "deployments");
        size_t i;
        json_t *item;
        json_array_foreach(list, i, item) {
            json_t *p = json_object_get(item, "processDefinition");
            if (!json_is_object(p))
                continue;
            printf("%s  version %lld  key %s\n", cli_json_str(p, "processDefinitionId", false),
                   (long long)json_integer_value(json_object_get(p, "processDefinitionVersion")),
                   cli_json_str(p, "processDefinitionKey", false));
        }
        if (doc)
            status = 0;
        else
            fprintf(stderr, "error: the server's answer is not JSON\n");
        json_decref(doc);
    }
    cli_response_free(&r);
    cli_client_free(c);
    return status;
}
