/*
 * client.h — the REST client behind the `baton` commands that talk to a
 * running server (deploy, start, cancel, instances, incidents, resolve,
 * worker).
 *
 * One cli_client is one libcurl easy handle: requests made through it reuse
 * the connection (keep-alive). Requests and responses are JSON (jansson
 * values); deployments are multipart uploads. A response of any HTTP status
 * is a successful request at this level; cli_call() is the common path that
 * wants a 2xx and turns anything else into "error: <title>: <detail>" on
 * stderr and exit status 1.
 *
 * Where the server is, and who we are:
 *   --address URL        or BATON_ADDRESS  (default http://127.0.0.1:8080)
 *   --user USER:PASSWORD or BATON_USER     (HTTP basic)
 *   --token TOKEN        or BATON_TOKEN    (bearer)
 * A flag wins over its variable.
 *
 * Time limits: connecting gives up after 5 s; a request after its own
 * timeout (cli_client_request's timeout_ms; long polls pass their request
 * timeout plus a margin), 30 s when none is given.
 *
 * Thread-safety: one client per thread. cli_client_new may be called from
 * several threads (libcurl's global set-up is done once).
 */
#ifndef BATON_CLI_CLIENT_H
#define BATON_CLI_CLIENT_H

#include <jansson.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>

#include "base/base.h"

#define CLI_DEFAULT_ADDRESS    "http://127.0.0.1:8080"
#define CLI_CONNECT_TIMEOUT_MS 5000L
#define CLI_REQUEST_TIMEOUT_MS 30000L
/* Added to a long poll's own timeout to make the transfer's timeout. */
#define CLI_POLL_MARGIN_MS 10000L

typedef struct cli_client cli_client;

/* Connection options; NULL fields fall back to the environment, then to
 * the defaults above. The strings are borrowed (argv or environ). */
typedef struct cli_client_config {
    const char *address;
    const char *user;
    const char *token;
} cli_client_config;

/* The usage text of the connection options, for the commands' --help. */
#define CLI_CLIENT_OPTIONS_HELP                                                                    \
    "connection: --address URL (BATON_ADDRESS, default " CLI_DEFAULT_ADDRESS ")\n"                 \
    "            --user USER:PASSWORD (BATON_USER)   --token TOKEN (BATON_TOKEN)\n"

/* If argv[*i] is a connection option, stores its value in cfg, advances *i
 * past the value and returns 1; returns 0 when it is not one, and -1 (with
 * a message on stderr) when its value is missing. */
int cli_client_option(cli_client_config *cfg, int argc, char **argv, int *i);

/* Makes a client. Returns 0, or BT_ENOMEM / BT_EIO (libcurl could not be
 * set up) with a message on stderr. Free with cli_client_free. */
int cli_client_new(const cli_client_config *cfg, cli_client **out);
/* NULL is a no-op. */
void cli_client_free(cli_client *c);
/* The base address in use ("http://host:port", no trailing slash). */
const char *cli_client_address(const cli_client *c);
/* Transfers in progress are abandoned (within about a second) once *flag
 * becomes non-zero; the request then fails with BT_ECONFLICT. NULL: never. */
void cli_client_set_abort(cli_client *c, volatile sig_atomic_t *flag);

/* An answer. body is the raw body (NUL-terminated, maybe empty). */
typedef struct cli_response {
    long status; /* HTTP status; 0 when there was no answer */
    bt_buf body; /* owned: cli_response_free */
    char content_type[128];
    char error[256]; /* why there was no answer (transport) */
} cli_response;

/* Frees the body; the struct can be reused. NULL is a no-op. */
void cli_response_free(cli_response *r);

/* Sends METHOD path (e.g. "/v2/topology") with body as JSON (NULL: no
 * body; POST sends an empty one). timeout_ms <= 0 means the default.
 * Fills *out (initialise it with {0}; free with cli_response_free).
 * Returns 0 when an answer of any status arrived; BT_EIO when none did
 * (out->error says why); BT_ECONFLICT when aborted (set_abort);
 * BT_ENOMEM. */
int cli_client_request(cli_client *c, const char *method, const char *path, json_t *body,
                       long timeout_ms, cli_response *out);

/* The same with the body as JSON text (NULL: no body). */
int cli_client_request_text(cli_client *c, const char *method, const char *path, const char *json,
                            long timeout_ms, cli_response *out);

/* POST /v2/deployments: every file as a `resources` part (its base name as
 * the file name). Returns as cli_client_request. */
int cli_client_deploy(cli_client *c, char *const *files, int n_files, cli_response *out);

/* Prints why a request failed to stderr: "error: <title>: <detail>" for a
 * problem answer, the status and body otherwise, the transport error when
 * there was no answer. rc is the request's return code. */
void cli_report_failure(const cli_client *c, const cli_response *r, int rc);

/* The common path: a request that must answer 2xx. On success returns 0
 * and sets *out (if out is not NULL) to the parsed JSON body, NULL for an
 * empty one (the caller json_decref's it). Otherwise prints the failure
 * (cli_report_failure) and returns 1, the commands' exit status. */
int cli_call(cli_client *c, const char *method, const char *path, json_t *body, long timeout_ms,
             json_t **out);

/* The same with a JSON text body, keeping the raw answer: on a 2xx returns
 * 0 with *out filled (cli_response_free it); otherwise prints the failure
 * and returns 1 (out freed). */
int cli_call_text(cli_client *c, const char *method, const char *path, const char *json,
                  long timeout_ms, cli_response *out);

/* A search: POST path with body (a Camunda search request; not consumed),
 * then print(items) of the answer's page, and on stderr how many of how
 * many `noun` were shown when the page is not all. Returns as cli_call. */
int cli_search(const cli_client_config *cfg, const char *path, json_t *body, const char *noun,
               void (*print)(json_t *items));

/* ---- variables: exact JSON ------------------------------------------------------
 *
 * Process variables pass through the client as text, normalised by baton's
 * own JSON reader and writer (src/feel): numbers stay exact decimals, as the
 * server reads them (a JSON library with binary doubles would turn 19.99
 * into 19.989999999999998), and integers of any size parse. */

/* Parses json[0..len); if it is an object, appends its compact JSON to out
 * and returns 0. Otherwise returns BT_EINVAL with err's message saying why
 * ("not JSON: ..." or "not an object"), or BT_ENOMEM. */
int cli_json_object_text(const char *json, size_t len, bt_buf *out, bt_error *err);
/* Appends `,"variables":<the object>` to a request body being built; on a
 * bad --variables prints why and returns the exit status (2, or 1 when out
 * of memory), else 0. */
int cli_body_variables(bt_buf *body, const char *variables);

/* POSTs the JSON text body to path on the server of cfg and prints the
 * string member `field` of the answer (a key) on a line. Returns the exit
 * status: 0, or 1 with the failure printed. */
int cli_post_print_key(const cli_client_config *cfg, const char *path, const char *body,
                       const char *field);

/* ---- small helpers shared by the commands --------------------------------- */

/* Whether s is a key: 1 to 19 decimal digits, not 0. */
bool cli_is_key(const char *s);
/* Parses a whole decimal integer in [min, max]; returns 0 or BT_EINVAL. */
int cli_parse_long(const char *s, long min, long max, long *out);
/* The string member name of obj, or "" when absent or not a string (or
 * "-" for null when dash is true). Borrowed from obj. */
const char *cli_json_str(const json_t *obj, const char *name, bool dash);
/* Sets obj.name to a new string (copied). Returns 0 or BT_ENOMEM. The
 * value must be valid UTF-8 (cli_utf8_sanitize). */
int cli_json_set_str(json_t *obj, const char *name, const char *value);
/* Replaces each byte of s[0..n) that is not part of valid UTF-8 by '?', in
 * place, so that the text can travel in a JSON string. */
void cli_utf8_sanitize(char *s, size_t n);

/* Prints rows of cells as a table with a header, columns padded to their
 * widest cell, two spaces apart; the last column is not padded. cells has
 * n_rows * n_cols strings, row by row. */
void cli_table_print(FILE *to, const char *const *header, int n_cols, const char *const *cells,
                     int n_rows);

#endif
