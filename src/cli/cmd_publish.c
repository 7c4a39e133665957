/*
 * cmd_publish.c — `baton publish NAME`: publish a message, or correlate it.
 *
 * Publication (POST /v2/messages/publication) prints the message's key once
 * it is durable; with --ttl the message stays buffered for instances that
 * wait for it later, and --id makes a second publication of the same name,
 * key and id fail while the first is buffered. --correlate
 * (POST /v2/messages/correlation) correlates at once, without buffering,
 * and prints the key of the first instance it reached; nothing waiting for
 * it is an error (exit 1).
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/client.h"

static const char usage_text[] =
    "usage: baton publish NAME [--key CORRELATION_KEY] [--variables JSON]\n"
    "                     [--ttl MS] [--id MESSAGE_ID] [--correlate] [connection options]\n"
    "\n"
    "Publishes the message NAME with the correlation key and variables, and\n"
    "prints its key. --ttl keeps it buffered that long for instances that\n"
    "subscribe later (default 0: only those waiting now get it); --id refuses a\n"
    "duplicate while it is buffered. With --correlate the message is correlated\n"
    "at once instead (no buffering) and the key of the first process instance it\n"
    "reached is printed; exit 1 when no instance waits for it.\n"
    "\n" CLI_CLIENT_OPTIONS_HELP;

int cli_cmd_publish(int argc, char **argv) {
    cli_client_config cfg = {0};
    const char *name = NULL, *key = NULL, *variables = NULL, *id = NULL;
    long ttl = 0;
    bool correlate = false, have_ttl = false;
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
        } else if (strcmp(a, "--correlate") == 0) {
            correlate = true;
        } else if (strcmp(a, "--key") == 0 && v) {
            key = argv[++i];
        } else if (strcmp(a, "--variables") == 0 && v) {
            variables = argv[++i];
        } else if (strcmp(a, "--id") == 0 && v) {
            id = argv[++i];
        } else if (strcmp(a, "--ttl") == 0 && v) {
            if (cli_parse_long(argv[++i], 0, INT32_MAX, &ttl)) {
                fprintf(stderr, "baton publish: --ttl wants milliseconds, not '%s'\n", v);
                return 2;
            }
            have_ttl = true;
        } else if (a[0] != '-' && !name) {
            name = a;
        } else {
            fprintf(stderr, "baton publish: unexpected argument %s\n%s", a, usage_text);
            return 2;
        }
    }
    if (!name || !name[0] || (correlate && (have_ttl || id))) {
        if (correlate && (have_ttl || id))
            fprintf(stderr, "baton publish: --ttl and --id go with publication, not --correlate\n");
        fputs(usage_text, stderr);
        return 2;
    }

    bt_buf body = BT_BUF_INIT;
    bt_buf_puts(&body, "{\"name\":");
    bt_buf_json_string(&body, name, strlen(name));
    if (key) {
        bt_buf_puts(&body, ",\"correlationKey\":");
        bt_buf_json_string(&body, key, strlen(key));
    }
    int status = variables ? cli_body_variables(&body, variables) : 0;
    if (status) {
        bt_buf_free(&body);
        return status;
    }
    if (have_ttl)
        bt_buf_printf(&body, ",\"timeToLive\":%ld", ttl);
    if (id) {
        bt_buf_puts(&body, ",\"messageId\":");
        bt_buf_json_string(&body, id, strlen(id));
    }
    bt_buf_putc(&body, '}');
    if (body.failed) {
        fprintf(stderr, "error: out of memory\n");
        return 1;
    }

    status = cli_post_print_key(&cfg,
                                correlate ? "/v2/messages/correlation" : "/v2/messages/publication",
                                body.data, correlate ? "processInstanceKey" : "messageKey");
    bt_buf_free(&body);
    return status;
}
