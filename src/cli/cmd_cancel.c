/*
 * cmd_cancel.c — `baton cancel KEY`: cancel (terminate) an active process
 * instance: its active elements are terminated and its jobs withdrawn.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/client.h"

static const char usage_text[] =
    "usage: baton cancel PROCESS_INSTANCE_KEY [connection options]\n"
    "\n"
    "Cancels an active process instance: every active element is terminated and\n"
    "its jobs are withdrawn. An instance that has ended cannot be canceled.\n"
    "\n" CLI_CLIENT_OPTIONS_HELP;

int cli_cmd_cancel(int argc, char **argv) {
    cli_client_config cfg = {0};
    const char *key = NULL;
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
        if (key || !cli_is_key(argv[i])) {
            fprintf(stderr, "baton cancel: unexpected argument %s (a key is a number)\n%s", argv[i],
                    usage_text);
            return 2;
        }
        key = argv[i];
    }
    if (!key) {
        fputs(usage_text, stderr);
        return 2;
    }
    cli_client *c;
    if (cli_client_new(&cfg, &c) != BT_OK)
        return 1;
    char path[96];
    snprintf(path, sizeof path, "/v2/process-instances/%s/cancellation", key);
    int status = cli_call(c, "POST", path, NULL, 0, NULL);
    if (status == 0)
        printf("canceled %s\n", key);
    cli_client_free(c);
    return status;
}
