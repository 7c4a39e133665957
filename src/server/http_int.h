/*
 * http_int.h — what the http_*.c files share and nobody else sees.
 *
 *   http.c          the server: MHD callbacks, the exchange life cycle,
 *                   suspension and the watcher thread, stop, stats
 *   http_request.c  request arena, route compilation and matching,
 *                   percent-decoding, request accessors, multipart parser
 *   http_response.c answers (JSON, problem details, files), the status and
 *                   error tables, authentication
 *
 * An answer (http_answer) is built by any thread, handed to the exchange by
 * http_exchange_finish, and turned into an MHD response on an MHD thread.
 */
#ifndef BATON_SERVER_HTTP_INT_H
#define BATON_SERVER_HTTP_INT_H

#include "server/http.h"

/* ---- request arena: every string of one request, freed at once ------------ */

typedef struct http_arena_block http_arena_block;
typedef struct http_arena {
    http_arena_block *head;
} http_arena;

/* Returns n bytes aligned for any object; aborts on out of memory (server
 * bookkeeping, base.h). */
void *http_arena_alloc(http_arena *a, size_t n);
/* Copies n bytes of s and a NUL. */
char *http_arena_strndup(http_arena *a, const char *s, size_t n);
/* Frees every block; the arena is empty again. */
void http_arena_free(http_arena *a);

/* ---- routes -------------------------------------------------------------------- */

enum { HTTP_SEG_LITERAL, HTTP_SEG_PARAM, HTTP_SEG_REST };

typedef struct http_seg {
    const char *text; /* points into the route's pattern (the table outlives the server) */
    size_t len;
    int kind; /* HTTP_SEG_* */
} http_seg;

typedef struct http_route_int {
    const http_route *row;
    http_seg *segs;
    size_t n_segs;
    size_t n_literals;
} http_route_int;

/* Compiles the route table; BT_EINVAL (err filled) for a bad pattern. *out is
 * one allocation per call; free with http_routes_free. */
int http_routes_compile(const http_route *routes, size_t n, http_route_int **out, bt_error *err);
void http_routes_free(http_route_int *routes, size_t n);

/* ---- the request ------------------------------------------------------------------ */

struct http_request {
    const char *method;
    const char *path; /* raw, without the query */
    http_header *headers;
    size_t n_headers;
    http_header *query; /* decoded */
    size_t n_query;
    http_header *params; /* decoded path parameters */
    size_t n_params;
    const char *body; /* NUL-terminated, "" when empty */
    size_t body_len;
    const char *user; /* Basic user name, or NULL */
};

enum { HTTP_ROUTE_FOUND, HTTP_ROUTE_NO_PATH, HTTP_ROUTE_NO_METHOD, HTTP_ROUTE_BAD_PATH };

/* Matches req->method and req->path against the routes. HTTP_ROUTE_FOUND:
 * *found is set and req->params filled (in arena a). HTTP_ROUTE_NO_METHOD:
 * allow holds the methods the path accepts ("GET, POST"). HTTP_ROUTE_BAD_PATH:
 * malformed percent-encoding or a NUL. */
int http_request_route(http_request *req, http_arena *a, const http_route_int *routes, size_t n,
                       const http_route_int **found, char *allow, size_t allow_cap);

/* Percent-decodes s[0..n) into out (at least n + 1 bytes), NUL-terminated;
 * '+' becomes a space when plus_space. Returns the decoded length, or -1 for
 * a malformed escape or a decoded NUL. */
long http_percent_decode(const char *s, size_t n, bool plus_space, char *out);

/* ---- answers ------------------------------------------------------------------------- */

/* A complete answer: status, headers (Content-Type among them) and body, in
 * bt_x* memory. body is handed to MHD when sent. */
typedef struct http_answer {
    int status;
    http_header *headers;
    size_t n_headers;
    char *body; /* NULL when len is 0 */
    size_t len;
} http_answer;

/* Copies everything. content_type NULL: no Content-Type. Never NULL (aborts
 * on out of memory). */
http_answer *http_answer_new(int status, const char *content_type, const void *body, size_t len,
                             const http_header *headers, size_t n_headers);
/* An RFC 9457 problem answer (see http_respond_problem). */
http_answer *http_answer_problem(int status, const char *title, const char *detail,
                                 const char *instance, const http_header *headers,
                                 size_t n_headers);
void http_answer_free(http_answer *a); /* NULL is a no-op */

/* Ends the application's ownership of ex with answer a (NULL: drop, close
 * the connection). Takes a in every case. Returns 0 or BT_ECONFLICT. Any
 * thread. */
int http_exchange_finish(http_exchange *ex, http_answer *a);

/* ---- authentication -------------------------------------------------------------------- */

typedef struct http_auth {
    http_basic_user *users; /* copies */
    size_t n_users;
    char **tokens;
    size_t n_tokens;
    char *realm;
    char *challenge_basic;  /* Basic realm="..." */
    char *challenge_bearer; /* Bearer realm="..." */
} http_auth;

/* Copies the auth part of cfg. Aborts on out of memory. */
void http_auth_init(http_auth *auth, const http_config *cfg);
void http_auth_free(http_auth *auth);
static inline bool http_auth_enabled(const http_auth *auth) {
    return auth->n_users + auth->n_tokens > 0;
}
/* Checks an Authorization header value (NULL: absent). Returns true when it
 * names configured credentials; for Basic, *user gets the user name (in a).
 * Every configured credential is compared, in constant time each. */
bool http_auth_check(const http_auth *auth, const char *authorization, http_arena *a,
                     const char **user);
/* The 401 answer: a problem with the WWW-Authenticate challenges. */
http_answer *http_auth_challenge(const http_auth *auth, const char *instance, bool had_credentials);

#endif
