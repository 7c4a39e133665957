/*
 * cmd_signal.c — `baton signal NAME`: broadcast a signal
 * (POST /v2/signals/broadcast) and print its key once it is durable. Every
 * instance waiting for the signal then has it, and every process that
 * starts with it has a new instance; nothing waiting is not an error, since
 * a signal is not kept.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/client.h"

static const char usage_text[] =
    "usage: baton signal NAME [--variables JSON] [connection options]\n"
    "\n"
    "Broadcasts the signal NAME with the variables and prints its key. It\n"
    "reaches every process instance waiting for it now, and starts an\n"
    "instance of every process with a signal start event of that name; it is\n"
    "not kept for instances that wait for it later.\n"
    "\n" CLI_CLIENT_OPTIONS_HELP;

int cli_cmd_signal(int argc, char **argv) {
    cli_client_config cfg = {0};
    const char *name = NULL, *variables = NULL;
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
        } else if (strcmp(a, "--variables") == 0 && v) {
            variables = argv[++i];
        } else if (a[0] != '-' && !name) {
            name = a;
        } else {
            fprintf(stderr, "baton signal: unexpected argument %s\n%s", a, usage_text);
            return 2;
        }
    }
    if (!name || !name[0]) {
        fputs(usage_text, stderr);
        return 2;
    }

    bt_buf body = BT_BUF_INIT;
    bt_buf_puts(&body, "{\"signalName\":");
    bt_buf_json_string(&body, name, strlen(name));
    int status = variables ? cli_body_variables(&body, variables) : 0;
    if (status) {
        bt_buf_free(&body);
        return status;
    }
    bt_buf_putc(&body, '}');
    if (body.failed) {
        fprintf(stderr, "error: out of memory\n");
        return 1;
    }

    status = cli_post_print_key(&cfg, "/v2/signals/broadcast", body.data, "signalKey");
    bt_buf_free(&body);
    return status;
}
