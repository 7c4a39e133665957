/*
 * http.h — baton's HTTP layer: a small server on libmicrohttpd (MHD) that
 * knows routes, requests, responses and problem details, and nothing about
 * the engine. The REST API v2 handlers, the web UI and /metrics plug into it
 * through a route table.
 *
 * Threads. MHD runs its own pool of cfg.threads worker threads (internal
 * polling, epoll where available). Every route handler runs on one of those
 * threads and must not block: work that waits (a durable commit, a long poll)
 * is answered later, from any thread, through the exchange (below). One more
 * thread of ours, the watcher, polls the sockets of pending exchanges so that
 * a client that goes away while waiting is noticed (MHD does not poll a
 * suspended connection). http_server_stop runs on the caller's thread.
 *
 * Ownership. The server copies the config (strings included). The route
 * table is NOT copied: it and its strings must outlive the server (a static
 * const table, as intended). The app pointer is passed through untouched.
 * Request data (http_request and every string it hands out) belongs to the
 * exchange; a response body given to http_respond* is copied.
 *
 * The exchange life cycle. One http_exchange per request:
 *
 *   received ── headers in: route matched, auth checked, Content-Length checked
 *      │         (404 / 405 / 401 / 413 are answered here, without the app)
 *   body read ── accumulated up to cfg.max_body_bytes (else 413)
 *      │
 *   dispatched ── handler(ex, req, app) runs on an MHD thread; the app now
 *      │          holds the exchange and must finish it exactly once
 *      ├── handler answered (http_respond*) and returned 0 ────────► sent
 *      ├── handler returned a BT_E* code without answering ─► problem sent
 *      └── handler returned HTTP_PENDING: the connection is suspended
 *            ├── http_respond*(ex) from any thread ──────────────────► sent
 *            ├── client closed the connection ──► canceled: cancel callback
 *            └── http_server_stop drain timeout ► canceled, 503 sent, callback
 *
 * The application's duty is simple and has no exception: once a handler has
 * run, the exchange is the application's until it calls exactly one of
 * http_respond, http_respond_json, http_respond_problem, http_respond_error,
 * http_respond_file or http_exchange_drop — whatever happened to the client
 * meanwhile. That call ends the application's ownership: after it returns,
 * neither ex nor its request may be touched (the exchange may already be
 * freed). If the client is gone (the exchange was canceled) the call sends
 * nothing and returns BT_ECONFLICT, still consuming the exchange. A handler
 * that answers before it returns may keep reading req until it returns.
 *
 * Internally the exchange is reference counted (one reference for the
 * connection, one for the application), which is what makes a late answer to
 * a vanished client safe: the memory lives until both sides let go.
 *
 * Cancellation. http_exchange_set_cancel registers a callback that runs at
 * most once, when the exchange is canceled before an answer (client gone, or
 * server stopping). It runs on the watcher, an MHD thread, the thread calling
 * http_server_stop, or — if the exchange was already canceled when the
 * callback is registered — at once on the registering thread. ex stays valid
 * during the callback, and the callback may itself finish the exchange
 * (http_respond* or http_exchange_drop, which then return BT_ECONFLICT).
 *
 * The guarantee that makes the callback's user data easy to free: once a
 * finishing call (or http_exchange_set_cancel) has returned, the callback is
 * not running and never will run. A finishing call that comes first gets
 * BT_ECONFLICT and the callback is then skipped; one that comes while the
 * callback runs on another thread waits for it to return. Hence the one rule:
 * do not call a finishing function or http_exchange_set_cancel while holding
 * a lock that the callback takes (take ex out of your shared structure under
 * the lock, release it, then answer). The callback must be quick and must
 * not call http_server_stop.
 *
 * Thread-safety. http_respond*, http_exchange_drop, http_exchange_set_cancel
 * and http_exchange_canceled may be called from any thread. http_request
 * accessors are read-only and may be used from any thread while the
 * application owns the exchange. http_server_stats is thread-safe.
 * http_server_start/stop are not reentrant for one server; stop must not be
 * called from a handler or a cancel callback.
 *
 * Authentication is off unless the config lists Basic users or bearer tokens.
 * Then every route needs credentials except routes flagged HTTP_ROUTE_PUBLIC.
 * Decision for /v2/status: public. It is the health check (load balancers,
 * probes, the SDKs' readiness waits); the Camunda spec lists 401 for
 * /v2/topology but none for /v2/status, and it reveals only up/down. The
 * flag is per route, so the route table states it on the row. Unauthenticated requests to unknown
 * paths get 401, not 404: without credentials nothing about the route table leaks.
 */
#ifndef BATON_SERVER_HTTP_H
#define BATON_SERVER_HTTP_H

#include "base/base.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct http_server http_server;
typedef struct http_exchange http_exchange;
typedef struct http_request http_request;

/* ---- routes ------------------------------------------------------------ */

/* A handler's return value: 0 = answered (http_respond* was called);
 * HTTP_PENDING = the application keeps the exchange and answers later, from
 * any thread; a negative BT_E* code = not answered, the server answers with
 * the problem that http_status_for_error gives for the code. Returning 0 or
 * an error while another thread may still answer is a contract violation. */
enum { HTTP_PENDING = 1 };

typedef int (*http_handler_fn)(http_exchange *ex, const http_request *req, void *app);

enum {
    HTTP_ROUTE_PUBLIC = 1 << 0, /* no authentication required (health checks) */
};

/* One row of the route table.
 * pattern: an absolute path, segments separated by '/'. A segment "{name}"
 * matches any one non-empty segment and binds it (percent-decoded) to name;
 * a last segment "{name*}" matches the rest of the path (one or more
 * segments, joined by '/'). Everything else matches exactly, after the
 * request path is percent-decoded segment by segment. When several rows
 * match, the one with most literal segments wins, then table order. A GET
 * row also answers HEAD. */
typedef struct http_route {
    const char *method;      /* "GET", "POST", ... as sent on the wire */
    const char *pattern;     /* "/v2/jobs/{jobKey}/completion" */
    http_handler_fn handler; /* not NULL */
    const char *summary;     /* one line for logs and docs; may be NULL */
    unsigned flags;          /* HTTP_ROUTE_* */
} http_route;

/* ---- configuration ------------------------------------------------------- */

typedef struct http_header {
    const char *name;
    const char *value;
} http_header;

typedef struct http_basic_user {
    const char *username;
    const char *password;
} http_basic_user;

/* Receives the server's log lines (and MHD's own). Called from any of the
 * server's threads; must be thread-safe. */
typedef void (*http_log_fn)(void *ud, bt_log_level level, const char *message);

/* A zeroed http_config gives every default. */
typedef struct http_config {
    const char *bind_address;      /* IPv4/IPv6 literal; NULL: "127.0.0.1" */
    uint16_t port;                 /* 0: ephemeral (read it with http_server_port) */
    unsigned threads;              /* MHD worker threads; 0: 2 */
    size_t max_body_bytes;         /* request body limit (413 beyond); 0: 4 MiB */
    unsigned connection_timeout_s; /* idle connection timeout; 0: 60 (pending exchanges never time
                                      out) */
    unsigned
        drain_timeout_ms; /* http_server_stop waits this long for in-flight requests; 0: 10000 */
    const http_basic_user *basic_users; /* Basic credentials; any entry turns auth on */
    size_t n_basic_users;
    const char *const *bearer_tokens; /* static bearer tokens; any entry turns auth on */
    size_t n_bearer_tokens;
    const char *realm; /* realm in WWW-Authenticate; NULL: "baton" */
    http_log_fn log;   /* NULL: bt_log */
    void *log_ud;
} http_config;

/* ---- server ------------------------------------------------------------------ */

/* Starts listening and serving. cfg may be NULL (all defaults). routes/n_routes
 * is the route table (see http_route; it must outlive the server); app is
 * passed to every handler. On success stores the server in *out and returns
 * 0; on failure returns BT_EINVAL (bad config or route pattern) or BT_EIO
 * (cannot listen), fills err (may be NULL) and leaves *out NULL. */
int http_server_start(const http_config *cfg, const http_route *routes, size_t n_routes, void *app,
                      http_server **out, bt_error *err);

/* The port the server listens on (the real one when cfg.port was 0). */
uint16_t http_server_port(const http_server *s);

/* Stops gracefully and frees the server: stops accepting connections, waits
 * up to cfg.drain_timeout_ms for requests in flight (pending ones included)
 * to be answered, then cancels the exchanges still pending (their clients get
 * 503, their cancel callbacks run), waits for the answers decided so far to
 * be sent (at most the connection timeout, for clients that do not read),
 * closes every connection and returns.
 * Exchanges the application still holds remain valid until it finishes them
 * (with BT_ECONFLICT), even after this returns. NULL is a no-op. Not from a
 * handler or a cancel callback. */
void http_server_stop(http_server *s);

typedef struct http_stats {
    uint64_t requests;    /* exchanges completed (answered or not) */
    uint64_t by_class[6]; /* answers by status class: [2] = 2xx ... [5] = 5xx; [0] unused */
    uint64_t canceled;    /* exchanges that ended without an answer sent */
    uint64_t inflight;    /* requests received and not yet completed, now */
    uint64_t pending;     /* suspended exchanges waiting for the application, now */
    bool draining;        /* http_server_stop has begun */
} http_stats;

/* Fills *out with a snapshot of the counters. Thread-safe. */
void http_server_stats(http_server *s, http_stats *out);

/* ---- requests (read-only; valid while the application owns the exchange) ---- */

/* The exchange's request. Never NULL. */
const http_request *http_exchange_request(const http_exchange *ex);

const char *http_request_method(const http_request *req); /* "GET", ... */
/* The path as received, without the query string (not percent-decoded). */
const char *http_request_path(const http_request *req);
/* The path parameter bound by the route pattern ("{jobKey}" → "jobKey"),
 * percent-decoded; NULL when the pattern has no such name. */
const char *http_request_param(const http_request *req, const char *name);
/* The first query argument called name, percent-decoded ('+' is a space);
 * "" for "?name" without '='; NULL when absent. */
const char *http_request_query(const http_request *req, const char *name);
/* All query arguments in order: count, then the i-th (i < count) name and
 * value (value "" when the argument had no '='). */
size_t http_request_query_count(const http_request *req);
void http_request_query_at(const http_request *req, size_t i, const char **name,
                           const char **value);
/* A request header by name, case-insensitively; the first if repeated; NULL
 * when absent. */
const char *http_request_header(const http_request *req, const char *name);
/* The Content-Type header (with its parameters), or NULL. */
const char *http_request_content_type(const http_request *req);
/* The whole body, NUL-terminated (the NUL is not counted in *len; the body
 * may contain NULs of its own). Never NULL: "" when empty. len may be NULL. */
const char *http_request_body(const http_request *req, size_t *len);
/* The authenticated Basic user name; NULL when auth is off, the route is
 * public, or the client used a bearer token. */
const char *http_request_user(const http_request *req);

/* One part of a multipart/form-data body. The strings are valid during the
 * callback only; data points into the request body (valid as long as the
 * request) and is not NUL-terminated. */
typedef struct http_part {
    const char *name;         /* form field name from Content-Disposition */
    const char *filename;     /* NULL when the part has none */
    const char *content_type; /* NULL when the part has none */
    const void *data;
    size_t len;
} http_part;

/* Called once per part, in body order; a non-zero return stops the parse and
 * is returned by the parse. */
typedef int (*http_part_fn)(void *ud, const http_part *part);

/* Parses the request body as multipart/form-data (RFC 7578) and calls fn for
 * every part. Returns 0, fn's non-zero return, or BT_EINVAL (not multipart,
 * no boundary, malformed body; err filled, may be NULL). Thread-safe;
 * allocates nothing. */
int http_request_multipart(const http_request *req, http_part_fn fn, void *ud, bt_error *err);

/* The same parser over any buffer: content_type is the full Content-Type
 * header value ("multipart/form-data; boundary=..."). For tests and fuzzing. */
int http_multipart_parse(const char *content_type, const char *body, size_t len, http_part_fn fn,
                         void *ud, bt_error *err);

/* ---- responses (any thread; each consumes the exchange, see the top) ----------- */

/* Answers with status, an optional body (copied; NULL with len 0 for none),
 * Content-Type content_type (NULL: none) and n_headers extra headers (copied).
 * Returns 0, or BT_ECONFLICT when the exchange was canceled (nothing sent).
 * A status outside 100..599 is sent as 500. */
int http_respond(http_exchange *ex, int status, const char *content_type, const void *body,
                 size_t len, const http_header *headers, size_t n_headers);

/* Answers with a JSON text as given (application/json). json NULL: no body. */
int http_respond_json(http_exchange *ex, int status, const char *json, size_t len);

/* Answers with an RFC 9457 problem (application/problem+json):
 * {"type":"about:blank","title":title,"status":status,"detail":detail,
 *  "instance":<request path>}. title NULL: the status's reason phrase;
 * detail NULL: the title. */
int http_respond_problem(http_exchange *ex, int status, const char *title, const char *detail);

/* Answers a BT_E* code with the problem http_status_for_error maps it to.
 * detail NULL: bt_strerror(code). */
int http_respond_error(http_exchange *ex, int code, const char *detail);

/* Serves the file rel_path (URL path below the root, not percent-encoded,
 * no leading '/') from directory root, with the Content-Type of its
 * extension (.html .js .css .svg .png .json .woff2; others
 * application/octet-stream). "" or a path ending in '/' serves index.html.
 * Guarded: ".." segments, backslashes and anything resolving (symlinks
 * included) outside root are refused. Returns 0 when the file was sent,
 * BT_ENOTFOUND after answering 404, BT_EINVAL after answering 400,
 * BT_EIO after answering 500, BT_ECONFLICT when canceled. */
int http_respond_file(http_exchange *ex, const char *root, const char *rel_path);

/* Finishes the exchange without an answer: the connection is closed. For an
 * application that gives up (after its cancel callback, say). Returns 0, or
 * BT_ECONFLICT when the exchange had been canceled. */
int http_exchange_drop(http_exchange *ex);

typedef void (*http_cancel_fn)(http_exchange *ex, void *ud);

/* Registers (or replaces; fn NULL removes) the cancel callback; see the top.
 * When it returns, a previously registered callback is not running. If ex
 * is canceled already, fn runs before this returns. Only while the
 * application owns the exchange. */
void http_exchange_set_cancel(http_exchange *ex, http_cancel_fn fn, void *ud);

/* Whether the exchange has been canceled (the client will get no answer from
 * the application). Only while the application owns the exchange. */
bool http_exchange_canceled(http_exchange *ex);

/* ---- helpers -------------------------------------------------------------------- */

/* The one table from BT_E* codes to HTTP status and problem title
 * (BT_ENOTFOUND → 404 "NOT_FOUND", ...). Unknown codes → 500. title may be
 * NULL. */
int http_status_for_error(int code, const char **title);

/* The reason phrase of a status ("Not Found"); "Unknown" when unknown. */
const char *http_status_reason(int status);

/* Compares two byte strings in time that depends only on the longer length,
 * never on where they differ. True when equal (same length, same bytes). */
bool http_auth_equal(const void *a, size_t a_len, const void *b, size_t b_len);

#endif
