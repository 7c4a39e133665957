/*
 * main.c — the `baton` command's entry point and dispatch table.
 */
#include <stdio.h>
#include <string.h>

#include "base/base.h"
#include "cli/cli.h"

typedef struct cli_command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} cli_command;

static const cli_command commands[] = {
    /* Evaluate one FEEL expression, print the result as JSON. */
    {"eval", cli_cmd_eval, "eval 'EXPRESSION' [--context JSON]   evaluate a FEEL expression"},
    /* The server: REST API v2 over the engine and the store in --data. */
    {"serve", cli_cmd_serve, "serve [--port 8080] [--data ./data] ...   run the server"},
    /* Deploy BPMN files to a running server; prints id, version, key. */
    {"deploy", cli_cmd_deploy, "deploy FILE...   deploy BPMN models"},
    /* Start an instance; with --await, print its final variables. */
    {"start", cli_cmd_start,
     "start PROCESS_ID [--variables JSON] [--await]   start a process instance"},
    /* Cancel an active instance. */
    {"cancel", cli_cmd_cancel, "cancel KEY   cancel a process instance"},
    /* List instances (the process-instance search). */
    {"instances", cli_cmd_instances,
     "instances [--process ID] [--state STATE]   list process instances"},
    /* List open incidents (the incident search). */
    {"incidents", cli_cmd_incidents, "incidents [--instance KEY]   list open incidents"},
    /* Resolve an incident, optionally giving its job retries first. */
    {"resolve", cli_cmd_resolve, "resolve INCIDENT_KEY [--retries N]   resolve an incident"},
    /* Publish a message (buffered with --ttl), or correlate it at once. */
    {"publish", cli_cmd_publish,
     "publish NAME [--key KEY] [--variables JSON] [--ttl MS] [--correlate]   publish a message"},
    /* Broadcast a signal to every instance waiting for it. */
    {"signal", cli_cmd_signal, "signal NAME [--variables JSON]   broadcast a signal"},
    /* Run a local command per job of a type (the worker convention). */
    {"worker", cli_cmd_worker, "worker --type TYPE -- COMMAND [ARGS...]   run jobs with a command"},
};

static int usage(FILE *to) {
    fprintf(to, "usage: baton COMMAND [ARGS]\n\ncommands:\n");
    for (size_t i = 0; i < BT_ARRAY_LEN(commands); i++)
        fprintf(to, "  %s\n", commands[i].summary);
    return 2;
}

int main(int argc, char **argv) {
    bt_json_use_allocator();
    if (argc < 2)
        return usage(stderr);
    if (strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0 ||
        strcmp(argv[1], "-h") == 0) {
        usage(stdout);
        return 0;
    }
    for (size_t i = 0; i < BT_ARRAY_LEN(commands); i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "baton: unknown command '%s'\n", argv[1]);
    return usage(stderr);
}
