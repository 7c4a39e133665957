/*
 * cli.h — the `baton` command: one binary, one subcommand per file.
 *
 * main.c holds the dispatch table (one commented row per subcommand); each
 * subcommand is `int cli_cmd_NAME(int argc, char **argv)` with argv[0] the
 * subcommand's name, returning the process exit status (0 ok, 1 failure,
 * 2 usage error).
 */
#ifndef BATON_CLI_H
#define BATON_CLI_H

int cli_cmd_eval(int argc, char **argv);
int cli_cmd_serve(int argc, char **argv);
/* Client commands: they talk to a running server over the REST API
 * (client.h for the connection options). */
int cli_cmd_deploy(int argc, char **argv);
int cli_cmd_start(int argc, char **argv);
int cli_cmd_cancel(int argc, char **argv);
int cli_cmd_instances(int argc, char **argv);
int cli_cmd_incidents(int argc, char **argv);
int cli_cmd_resolve(int argc, char **argv);
int cli_cmd_worker(int argc, char **argv);
int cli_cmd_publish(int argc, char **argv);
int cli_cmd_signal(int argc, char **argv);

#endif
