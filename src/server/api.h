/*
 * api.h — the Camunda 8 REST API (v2) over baton's engine: the route table
 * for http.h, with the handlers that turn requests into loop commands.
 *
 * The wire contract is ../shared/reference/camunda-rest-api.yaml: same
 * paths under /v2, same field names, keys as strings, errors as RFC 9457
 * problems. Paths of the spec that baton does not implement yet answer 501
 * with a problem naming the path (never a bare 404 page).
 *
 * Thread-safety: handlers run on the HTTP server's threads and only submit
 * commands; all engine work happens on the loop's thread.
 */
#ifndef BATON_API_H
#define BATON_API_H

#include "runtime/loop.h"
#include "server/http.h"
#include "store/index.h"

typedef struct api api;

typedef struct api_config {
    size_t max_variables_bytes;       /* a variables document's JSON size limit; 0: 1 MiB */
    int64_t default_poll_timeout_ms;  /* job activation long poll when 0 is asked; 0: 10 s */
    int64_t default_await_timeout_ms; /* awaitCompletion when 0 is asked; 0: 15 s */
    const char *version;              /* reported by /v2/topology */
    const char *web_root;             /* the web UI's files (api_web.c); NULL: no UI */
    /* A read handle of the search index (store/index.h), owned by the
     * caller and used on the loop thread only; it serves the searches of
     * jobs, incidents, variables and element instances. NULL: those
     * searches answer 501. */
    index_db *search_index;
    /* The loop's clock when it is controlled (--clock-control on): the
     * pinned time in ms, 0 for the system clock; PUT /v2/clock sets it.
     * NULL: the clock cannot be changed (403). */
    _Atomic int64_t *pinned_clock;
} api_config;

/* Creates the API over a running loop. cfg may be NULL. Never NULL. */
api *api_new(rt_loop *loop, const api_config *cfg);
/* Lets /metrics report the HTTP server's counters too (may be NULL). */
void api_set_http(api *a, http_server *http);
void api_free(api *a); /* NULL allowed */

/* The search index applied more records (ud: the api): searches waiting
 * for it to catch up are looked at again. Any thread; cheap when none
 * waits. Fits rt_indexer_config.on_progress. */
void api_search_index_progress(void *ud);

/* The route table (static; pass `a` as the server's app pointer). */
const http_route *api_routes(size_t *count);

/* GET / and GET /ui/{path*}: the web UI's static files (api_web.c). */
int api_web(http_exchange *ex, const http_request *req, void *app);

#endif
