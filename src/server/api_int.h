/*
 * api_int.h — private to the REST API files (api*.c).
 *
 * How a request flows:
 *
 *   MHD thread:  handler parses and validates the body (400 at once on bad
 *                input, never reaching the engine), fills an api_call and
 *                submits its rt_command to the loop (503 when the queue is
 *                full), returns HTTP_PENDING.
 *   loop thread: apply() runs the engine command and keeps what the answer
 *                needs in the call; after the batch's durable commit, done()
 *                writes the answer and frees the call.
 *
 * Request bodies are parsed with feel_value_from_json: numbers stay exact
 * decimals, variables go to the engine without another conversion.
 */
#ifndef BATON_API_INT_H
#define BATON_API_INT_H

#include <stdatomic.h>

#include "runtime/loop.h"
#include "server/api.h"
#include "server/http.h"

struct api {
    rt_loop *loop;
    api_config cfg;
    int64_t started_ms;
    http_server *http; /* set by the caller after start, for /metrics */
    /* api_search.c: searches parked until the index catches up, and
     * whether a command that retries them is queued already. */
    atomic_int searches_waiting;
    atomic_bool search_nudge_queued;
};

typedef struct api_call api_call;
typedef int (*api_apply_fn)(api_call *c, eng_engine *e, store *s, int64_t now, bt_error *err);
typedef void (*api_done_fn)(api_call *c, int rc, const bt_error *err);

/* One request on its way through the loop. The fields after `u` are the
 * request's own; the handler fills them, apply() reads them and writes the
 * results, done() answers. */
struct api_call {
    rt_command cmd;
    api *api;
    http_exchange *ex;
    api_apply_fn apply;
    api_done_fn done;
    atomic_bool canceled;        /* the client went away: a parked call gives up */
    feel_value *body;            /* the parsed request body (owned) */
    const feel_value *variables; /* inside body, or NULL */
    uint64_t key;                /* the path's key, or the created object's */
    int64_t i1, i2, i3;          /* small integer parameters */
    bool flag;                   /* awaitCompletion, local, ... */
    char *s1, *s2, *s3;          /* owned strings */
    const char *const *names;    /* fetchVariable / fetchVariables (into names_buf) */
    int n_names;
    char **names_buf;
    bt_buf out;                 /* the answer being built */
    void *extra;                /* per-endpoint data */
    void (*extra_free)(void *); /* how to free it; NULL: bt_free */
};

/* ---- api.c: plumbing ------------------------------------------------------ */

/* A new call for ex; never NULL. */
api_call *api_call_new(api *a, http_exchange *ex, api_apply_fn apply, api_done_fn done);
/* Submits the call; answers 503 (queue full) or 503 (stopping) itself.
 * Returns what the handler returns. */
int api_call_submit(api_call *c);
void api_call_free(api_call *c);
/* Answers the error of a failed command (status from the one table). */
void api_answer_error(api_call *c, int rc, const bt_error *err);
/* Answers 204 No Content, or the error. */
void api_done_no_content(api_call *c, int rc, const bt_error *err);
/* Answers 200 with c->out as JSON, or the error. */
void api_done_json(api_call *c, int rc, const bt_error *err);

/* ---- api.c: request parsing -------------------------------------------------- */

/* Parses the body as a JSON object (an empty body is an empty object when
 * empty_ok). On failure answers 400 and returns BT_EINVAL. */
int api_body_object(http_exchange *ex, const http_request *req, bool empty_ok, feel_value **out);
/* Answers 400 when obj has a field not in allowed (NULL-terminated). */
int api_check_fields(http_exchange *ex, const feel_value *obj, const char *const *allowed);
/* Field accessors: 0 (absent fields leave *out untouched, *present false),
 * or answer 400 naming the field and return BT_EINVAL. */
int api_field_string(http_exchange *ex, const feel_value *obj, const char *name, bool required,
                     char **out);
int api_field_int(http_exchange *ex, const feel_value *obj, const char *name, bool required,
                  int64_t *out, bool *present);
int api_field_bool(http_exchange *ex, const feel_value *obj, const char *name, bool *out);
int api_field_key(http_exchange *ex, const feel_value *obj, const char *name, bool required,
                  uint64_t *out);
/* A JSON object or null/absent (*out NULL); checked against the variable
 * document size limit. */
int api_field_variables(http_exchange *ex, api *a, const feel_value *obj, const char *name,
                        const feel_value **out);
/* An array of strings into c->names. */
int api_field_names(http_exchange *ex, const feel_value *obj, const char *name, api_call *c);
/* The path parameter `name` as a key; answers 400 when not a valid key. */
int api_path_key(http_exchange *ex, const http_request *req, const char *name, uint64_t *out);

/* ---- JSON output helpers ------------------------------------------------------- */
void api_put_key(bt_buf *b, const char *name, uint64_t key, bool comma);
void api_put_str(bt_buf *b, const char *name, const char *s, bool comma);
void api_put_int(bt_buf *b, const char *name, int64_t v, bool comma);
void api_put_time(bt_buf *b, const char *name, int64_t ms, bool comma);

/* ---- api_instances.c: an instance's place in a call hierarchy ------------------- */

/* Appends ,"parentProcessInstanceKey", ,"parentElementInstanceKey" and
 * ,"rootProcessInstanceKey" of instance `key`, whose row names `parent` (0:
 * none, the instance is a root). The element key (the call activity's) is
 * the engine's, known while the instance is active, else null; the root is
 * found through the parents' rows (engine first, then the store), null
 * when one of them cannot be read. Loop thread. */
void api_put_lineage(bt_buf *b, eng_engine *e, store *s, uint64_t key, uint64_t parent);

/* ---- api_search.c: reading the search index consistently ------------------------ */

/* A call that reads the search index waits (parked, bounded) until the
 * index holds every record committed before it first asked. */
typedef struct api_index_wait {
    bool waiting;     /* counted in api->searches_waiting */
    int64_t wait_end; /* when to read the index whatever its lag (ms) */
} api_index_wait;
/* Loop thread. true: read idx now (it has caught up, the bound has passed,
 * or reading the positions failed — the read itself then reports). false:
 * return RT_PARK with cmd.park_until = w->wait_end; the indexer's progress
 * retries the call. The first call counts the call as waiting; the caller
 * uncounts it with api_index_unwait once it reads, and when it is freed. */
bool api_index_caught_up(api *a, index_db *idx, store *st, int64_t now, api_index_wait *w);
/* Uncounts a waiting call; a no-op for one that is not waiting. */
void api_index_unwait(api *a, api_index_wait *w);

/* ---- handlers (api_*.c) ----------------------------------------------------------- */
int api_deploy(http_exchange *ex, const http_request *req, void *app);
int api_instance_create(http_exchange *ex, const http_request *req, void *app);
int api_instance_cancel(http_exchange *ex, const http_request *req, void *app);
int api_instance_get(http_exchange *ex, const http_request *req, void *app);
int api_incident_resolve(http_exchange *ex, const http_request *req, void *app);
int api_variables_set(http_exchange *ex, const http_request *req, void *app);
int api_jobs_activate(http_exchange *ex, const http_request *req, void *app);
int api_job_complete(http_exchange *ex, const http_request *req, void *app);
int api_job_fail(http_exchange *ex, const http_request *req, void *app);
int api_job_error(http_exchange *ex, const http_request *req, void *app);
int api_job_update(http_exchange *ex, const http_request *req, void *app);
int api_message_publish(http_exchange *ex, const http_request *req, void *app);
int api_message_correlate(http_exchange *ex, const http_request *req, void *app);
int api_signal_broadcast(http_exchange *ex, const http_request *req, void *app);
int api_clock_pin(http_exchange *ex, const http_request *req, void *app);
int api_clock_reset(http_exchange *ex, const http_request *req, void *app);
int api_search_definitions(http_exchange *ex, const http_request *req, void *app);
int api_search_instances(http_exchange *ex, const http_request *req, void *app);
int api_search_incidents(http_exchange *ex, const http_request *req, void *app);
int api_search_jobs(http_exchange *ex, const http_request *req, void *app);
int api_search_variables(http_exchange *ex, const http_request *req, void *app);
int api_search_elements(http_exchange *ex, const http_request *req, void *app);
int api_definition_get(http_exchange *ex, const http_request *req, void *app);
int api_definition_xml(http_exchange *ex, const http_request *req, void *app);
/* api_stats.c */
int api_definition_element_stats(http_exchange *ex, const http_request *req, void *app);
int api_instance_sequence_flows(http_exchange *ex, const http_request *req, void *app);
/* api_history.c: POST /v2/process-instances/{key}/history/search (baton's own). */
int api_instance_history(http_exchange *ex, const http_request *req, void *app);
int api_topology(http_exchange *ex, const http_request *req, void *app);
int api_status(http_exchange *ex, const http_request *req, void *app);
int api_metrics(http_exchange *ex, const http_request *req, void *app);
int api_not_implemented(http_exchange *ex, const http_request *req, void *app);

#endif
