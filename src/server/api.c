/*
 * api.c — the REST API's route table, the plumbing from requests to loop
 * commands, request parsing and the cluster endpoints (topology, status,
 * metrics). The endpoint handlers are in api_instances.c, api_jobs.c,
 * api_messages.c, api_signals.c, api_clock.c, api_search.c, api_stats.c and
 * api_history.c.
 */
#include "server/api_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the route table ------------------------------------------------------ */

static const http_route routes[] = {
    /* Deploy BPMN resources (multipart `resources`), all or nothing. */
    {"POST", "/v2/deployments", api_deploy, "deploy resources", 0},
    /* Start an instance by process id (+version) or definition key. */
    {"POST", "/v2/process-instances", api_instance_create, "create a process instance", 0},
    /* Read one instance, active or ended. */
    {"GET", "/v2/process-instances/{processInstanceKey}", api_instance_get,
     "get a process instance", 0},
    /* Cancel (terminate) an active instance. */
    {"POST", "/v2/process-instances/{processInstanceKey}/cancellation", api_instance_cancel,
     "cancel a process instance", 0},
    /* Resolve an incident; the instance continues from the failed step. */
    {"POST", "/v2/incidents/{incidentKey}/resolution", api_incident_resolve, "resolve an incident",
     0},
    /* Set variables on an element instance (or the instance) scope. */
    {"PUT", "/v2/element-instances/{elementInstanceKey}/variables", api_variables_set,
     "set variables", 0},
    /* Activate jobs of a type, long polling until one appears. */
    {"POST", "/v2/jobs/activation", api_jobs_activate, "activate jobs", 0},
    /* Complete, fail, throw a BPMN error from, or update a job. */
    {"POST", "/v2/jobs/{jobKey}/completion", api_job_complete, "complete a job", 0},
    {"POST", "/v2/jobs/{jobKey}/failure", api_job_fail, "fail a job", 0},
    {"POST", "/v2/jobs/{jobKey}/error", api_job_error, "throw a BPMN error", 0},
    {"PATCH", "/v2/jobs/{jobKey}", api_job_update, "update a job's retries or timeout", 0},
    /* Publish a message (buffered for timeToLive), or correlate one at once. */
    {"POST", "/v2/messages/publication", api_message_publish, "publish a message", 0},
    {"POST", "/v2/messages/correlation", api_message_correlate, "correlate a message", 0},
    /* Broadcast a signal to every instance waiting for it (not kept). */
    {"POST", "/v2/signals/broadcast", api_signal_broadcast, "broadcast a signal", 0},
    /* Searches: {filter, sort, page} → {items, page} (api_search.c). */
    {"POST", "/v2/process-definitions/search", api_search_definitions, "search process definitions",
     0},
    {"POST", "/v2/process-instances/search", api_search_instances, "search process instances", 0},
    {"POST", "/v2/incidents/search", api_search_incidents, "search incidents", 0},
    {"POST", "/v2/jobs/search", api_search_jobs, "search jobs", 0},
    {"POST", "/v2/variables/search", api_search_variables, "search variables", 0},
    {"POST", "/v2/element-instances/search", api_search_elements, "search element instances", 0},
    /* One process definition, and its BPMN XML. */
    {"GET", "/v2/process-definitions/{processDefinitionKey}", api_definition_get,
     "get a process definition", 0},
    {"GET", "/v2/process-definitions/{processDefinitionKey}/xml", api_definition_xml,
     "get a process definition's XML", 0},
    /* Per-element counts of one definition, from the search index (api_stats.c). */
    {"POST", "/v2/process-definitions/{processDefinitionKey}/statistics/element-instances",
     api_definition_element_stats, "element statistics of a process definition", 0},
    /* The sequence flows an instance took, from the record log (api_stats.c). */
    {"GET", "/v2/process-instances/{processInstanceKey}/sequence-flows",
     api_instance_sequence_flows, "sequence flows taken by a process instance", 0},
    /* baton's addition: an instance's records, paged, from the record log (api_history.c). */
    {"POST", "/v2/process-instances/{processInstanceKey}/history/search", api_instance_history,
     "history of a process instance", 0},
    /* Pin the engine's clock, or back to the system clock (--clock-control on). */
    {"PUT", "/v2/clock", api_clock_pin, "pin the clock", 0},
    {"POST", "/v2/clock/reset", api_clock_reset, "reset the clock", 0},
    /* The cluster: one broker, one partition. */
    {"GET", "/v2/topology", api_topology, "cluster topology", 0},
    /* Health check: 204 when the engine answers. */
    {"GET", "/v2/status", api_status, "health", HTTP_ROUTE_PUBLIC},
    /* Prometheus metrics. */
    {"GET", "/metrics", api_metrics, "metrics", HTTP_ROUTE_PUBLIC},
    /* The web UI's static files; not public: the API's authentication applies. */
    {"GET", "/", api_web, "web UI", 0},
    {"GET", "/ui/{path*}", api_web, "web UI files", 0},
    /* Everything else of the spec: a clear 501 problem. */
    {"GET", "/v2/{rest*}", api_not_implemented, NULL, 0},
    {"POST", "/v2/{rest*}", api_not_implemented, NULL, 0},
    {"PUT", "/v2/{rest*}", api_not_implemented, NULL, 0},
    {"PATCH", "/v2/{rest*}", api_not_implemented, NULL, 0},
    {"DELETE", "/v2/{rest*}", api_not_implemented, NULL, 0},
};

const http_route *api_routes(size_t *count) {
    *count = BT_ARRAY_LEN(routes);
    return routes;
}

api *api_new(rt_loop *loop, const api_config *cfg) {
    api *a = bt_xcalloc(1, sizeof *a);
    a->loop = loop;
    if (cfg)
        a->cfg = *cfg;
    if (!a->cfg.max_variables_bytes)
        a->cfg.max_variables_bytes = 1 << 20;
    if (!a->cfg.default_poll_timeout_ms)
        a->cfg.default_poll_timeout_ms = 10000;
    if (!a->cfg.default_await_timeout_ms)
        a->cfg.default_await_timeout_ms = 15000;
    if (!a->cfg.version)
        a->cfg.version = "8.8.0-baton";
    a->started_ms = bt_clock_now_ms();
    return a;
}

void api_set_http(api *a, http_server *http) {
    a->http = http;
}

void api_free(api *a) {
    bt_free(a);
}

/* ---- calls through the loop ------------------------------------------------------ */

static int call_apply(eng_engine *e, store *s, int64_t now, void *ctx, bt_error *err) {
    api_call *c = ctx;
    if (atomic_load(&c->canceled))
        return RT_TIMEOUT; /* nobody is waiting for the answer any more */
    return c->apply(c, e, s, now, err);
}

static void call_done(void *ctx, int rc, const bt_error *err) {
    api_call *c = ctx;
    c->done(c, rc, err);
    api_call_free(c);
}

static void call_canceled(http_exchange *ex, void *ud) {
    (void)ex;
    api_call *c = ud;
    atomic_store(&c->canceled, true);
}

api_call *api_call_new(api *a, http_exchange *ex, api_apply_fn apply, api_done_fn done) {
    api_call *c = bt_xcalloc(1, sizeof *c);
    c->api = a;
    c->ex = ex;
    c->apply = apply;
    c->done = done;
    atomic_init(&c->canceled, false);
    c->cmd.apply = call_apply;
    c->cmd.done = call_done;
    c->cmd.ctx = c;
    return c;
}

void api_call_free(api_call *c) {
    if (!c)
        return;
    feel_value_unref(c->body);
    bt_free(c->s1);
    bt_free(c->s2);
    bt_free(c->s3);
    for (int i = 0; i < c->n_names; i++)
        bt_free(c->names_buf[i]);
    bt_free(c->names_buf);
    bt_buf_free(&c->out);
    if (c->extra_free)
        c->extra_free(c->extra);
    else
        bt_free(c->extra);
    bt_free(c);
}

int api_call_submit(api_call *c) {
    http_exchange_set_cancel(c->ex, call_canceled, c);
    int rc = rt_submit(c->api->loop, &c->cmd);
    if (rc == BT_OK)
        return HTTP_PENDING;
    http_exchange_set_cancel(c->ex, NULL, NULL);
    if (rc == BT_EBUSY)
        http_respond_problem(c->ex, 503, "RESOURCE_EXHAUSTED",
                             "the engine's command queue is full; retry with back-off");
    else
        http_respond_problem(c->ex, 503, "UNAVAILABLE", "the server is shutting down");
    api_call_free(c);
    return 0;
}

void api_answer_error(api_call *c, int rc, const bt_error *err) {
    if (rc == RT_TIMEOUT) {
        http_respond_problem(c->ex, 504, "DEADLINE_EXCEEDED", "the request timed out");
        return;
    }
    const char *detail = err && err->message[0] ? err->message : bt_strerror(rc);
    if (rc == BT_EIO)
        http_respond_problem(c->ex, 500, "INTERNAL_ERROR",
                             "the store failed to commit; the outcome of this command is "
                             "unknown: read the state back before retrying");
    else
        http_respond_error(c->ex, rc, detail);
}

void api_done_no_content(api_call *c, int rc, const bt_error *err) {
    if (rc != BT_OK)
        api_answer_error(c, rc, err);
    else
        http_respond(c->ex, 204, NULL, NULL, 0, NULL, 0);
}

void api_done_json(api_call *c, int rc, const bt_error *err) {
    if (rc != BT_OK)
        api_answer_error(c, rc, err);
    else if (c->out.failed)
        http_respond_problem(c->ex, 500, "INTERNAL_ERROR", "out of memory");
    else
        http_respond_json(c->ex, 200, c->out.data ? c->out.data : "{}", c->out.len);
}

/* ---- request parsing ---------------------------------------------------------------- */

static int bad_request(http_exchange *ex, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int bad_request(http_exchange *ex, const char *fmt, ...) {
    char detail[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    http_respond_problem(ex, 400, "INVALID_ARGUMENT", detail);
    return BT_EINVAL;
}

int api_body_object(http_exchange *ex, const http_request *req, bool empty_ok, feel_value **out) {
    size_t len;
    const char *body = http_request_body(req, &len);
    size_t i = 0;
    while (i < len && (body[i] == ' ' || body[i] == '\n' || body[i] == '\r' || body[i] == '\t'))
        i++;
    if (i == len) {
        if (!empty_ok)
            return bad_request(ex, "the request body is empty; a JSON object is required");
        *out = feel_context_new();
        if (!*out) {
            http_respond_problem(ex, 500, "INTERNAL_ERROR", "out of memory");
            return BT_ENOMEM;
        }
        return BT_OK;
    }
    const char *ct = http_request_content_type(req);
    if (ct && strncmp(ct, "application/json", 16) != 0 && strstr(ct, "+json") == NULL) {
        http_respond_problem(ex, 415, "UNSUPPORTED_MEDIA_TYPE",
                             "the request body must be application/json");
        return BT_EINVAL;
    }
    bt_error err = {0};
    int rc = feel_value_from_json(body, len, out, &err);
    if (rc == BT_ENOMEM) {
        http_respond_problem(ex, 500, "INTERNAL_ERROR", "out of memory");
        return rc;
    }
    if (rc != BT_OK)
        return bad_request(ex, "the request body is not valid JSON: %s (line %d, column %d)",
                           err.message, err.line, err.column);
    if (feel_value_type(*out) != FEEL_CONTEXT) {
        feel_value_unref(*out);
        *out = NULL;
        return bad_request(ex, "the request body must be a JSON object");
    }
    return BT_OK;
}

int api_check_fields(http_exchange *ex, const feel_value *obj, const char *const *allowed) {
    size_t n = feel_context_count(obj);
    for (size_t i = 0; i < n; i++) {
        size_t len;
        const char *k = feel_context_key_at(obj, i, &len);
        bool ok = false;
        for (const char *const *a = allowed; *a && !ok; a++)
            ok = strlen(*a) == len && memcmp(*a, k, len) == 0;
        if (!ok)
            return bad_request(ex, "unknown field '%.*s'", (int)len, k);
    }
    return BT_OK;
}

static const feel_value *field(const feel_value *obj, const char *name) {
    const feel_value *v = feel_context_get(obj, name, strlen(name));
    return v && feel_value_type(v) != FEEL_NULL ? v : NULL;
}

int api_field_string(http_exchange *ex, const feel_value *obj, const char *name, bool required,
                     char **out) {
    const feel_value *v = field(obj, name);
    if (!v)
        return required ? bad_request(ex, "the field '%s' is required", name) : BT_OK;
    size_t len;
    const char *s = feel_string_ptr(v, &len);
    if (!s)
        return bad_request(ex, "the field '%s' must be a string, not %s", name,
                           feel_type_name(feel_value_type(v)));
    if (memchr(s, 0, len))
        return bad_request(ex, "the field '%s' must not contain NUL characters", name);
    *out = bt_strndup(s, len);
    if (!*out)
        abort();
    return BT_OK;
}

int api_field_int(http_exchange *ex, const feel_value *obj, const char *name, bool required,
                  int64_t *out, bool *present) {
    const feel_value *v = field(obj, name);
    if (present)
        *present = v != NULL;
    if (!v)
        return required ? bad_request(ex, "the field '%s' is required", name) : BT_OK;
    if (feel_value_type(v) != FEEL_NUMBER || feel_number_to_int64(v, out) != BT_OK)
        return bad_request(ex, "the field '%s' must be an integer", name);
    return BT_OK;
}

int api_field_bool(http_exchange *ex, const feel_value *obj, const char *name, bool *out) {
    const feel_value *v = field(obj, name);
    if (!v)
        return BT_OK;
    if (feel_value_type(v) != FEEL_BOOLEAN)
        return bad_request(ex, "the field '%s' must be a boolean", name);
    *out = feel_value_is_true(v);
    return BT_OK;
}

static bool parse_key(const char *s, size_t len, uint64_t *out) {
    if (len == 0 || len > 19)
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    if (v == 0 || v >> 63)
        return false;
    *out = v;
    return true;
}

int api_field_key(http_exchange *ex, const feel_value *obj, const char *name, bool required,
                  uint64_t *out) {
    const feel_value *v = field(obj, name);
    if (!v)
        return required ? bad_request(ex, "the field '%s' is required", name) : BT_OK;
    size_t len;
    const char *s = feel_string_ptr(v, &len);
    int64_t n;
    if (s ? parse_key(s, len, out)
          : feel_number_to_int64(v, &n) == BT_OK && n > 0 && (*out = (uint64_t)n, true))
        return BT_OK;
    return bad_request(ex, "the field '%s' must be a key (a positive integer as a string)", name);
}

int api_field_variables(http_exchange *ex, api *a, const feel_value *obj, const char *name,
                        const feel_value **out) {
    *out = NULL;
    const feel_value *v = field(obj, name);
    if (!v)
        return BT_OK;
    if (feel_value_type(v) != FEEL_CONTEXT)
        return bad_request(ex, "the field '%s' must be a JSON object", name);
    const http_request *req = http_exchange_request(ex);
    size_t body_len;
    http_request_body(req, &body_len);
    if (body_len > a->cfg.max_variables_bytes) { /* cheap pre-check, exact below */
        bt_buf json = BT_BUF_INIT;
        feel_value_to_json(v, &json);
        size_t n = json.len;
        bt_buf_free(&json);
        if (n > a->cfg.max_variables_bytes) {
            char detail[200];
            snprintf(detail, sizeof detail,
                     "the variables document is %zu bytes; the limit is %zu bytes", n,
                     a->cfg.max_variables_bytes);
            http_respond_problem(ex, 413, "PAYLOAD_TOO_LARGE", detail);
            return BT_ELIMIT;
        }
    }
    *out = v;
    return BT_OK;
}

int api_field_names(http_exchange *ex, const feel_value *obj, const char *name, api_call *c) {
    const feel_value *v = field(obj, name);
    if (!v)
        return BT_OK;
    if (feel_value_type(v) != FEEL_LIST)
        return bad_request(ex, "the field '%s' must be an array of strings", name);
    size_t n = feel_list_count(v);
    if (n > 1000)
        return bad_request(ex, "the field '%s' lists more than 1000 names", name);
    c->names_buf = bt_xcalloc(n ? n : 1, sizeof *c->names_buf);
    for (size_t i = 0; i < n; i++) {
        size_t len;
        const char *s = feel_string_ptr(feel_list_at(v, i), &len);
        if (!s)
            return bad_request(ex, "the field '%s' must be an array of strings", name);
        c->names_buf[c->n_names++] = bt_xstrdup("");
        bt_free(c->names_buf[c->n_names - 1]);
        c->names_buf[c->n_names - 1] = bt_strndup(s, len);
        if (!c->names_buf[c->n_names - 1])
            abort();
    }
    c->names = (const char *const *)c->names_buf;
    return BT_OK;
}

int api_path_key(http_exchange *ex, const http_request *req, const char *name, uint64_t *out) {
    const char *s = http_request_param(req, name);
    if (!s || !parse_key(s, strlen(s), out))
        return bad_request(ex, "'%s' is not a valid %s (a positive integer)", s ? s : "", name);
    return BT_OK;
}

/* ---- JSON output ---------------------------------------------------------------------- */

static void put_name(bt_buf *b, const char *name, bool comma) {
    if (comma)
        bt_buf_putc(b, ',');
    bt_buf_json_string(b, name, strlen(name));
    bt_buf_putc(b, ':');
}

void api_put_key(bt_buf *b, const char *name, uint64_t key, bool comma) {
    put_name(b, name, comma);
    bt_buf_putc(b, '"');
    bt_buf_put_u64(b, key);
    bt_buf_putc(b, '"');
}

void api_put_str(bt_buf *b, const char *name, const char *s, bool comma) {
    put_name(b, name, comma);
    if (s)
        bt_buf_json_string(b, s, strlen(s));
    else
        bt_buf_puts(b, "null");
}

void api_put_int(bt_buf *b, const char *name, int64_t v, bool comma) {
    put_name(b, name, comma);
    bt_buf_put_i64(b, v);
}

void api_put_time(bt_buf *b, const char *name, int64_t ms, bool comma) {
    put_name(b, name, comma);
    if (ms <= 0) {
        bt_buf_puts(b, "null");
        return;
    }
    char t[32];
    bt_time_format(ms, t);
    bt_buf_json_string(b, t, strlen(t));
}

/* ---- cluster endpoints ------------------------------------------------------------------ */

int api_topology(http_exchange *ex, const http_request *req, void *app) {
    (void)req;
    api *a = app;
    bt_buf b = BT_BUF_INIT;
    bt_buf_puts(&b,
                "{\"brokers\":[{\"nodeId\":0,\"host\":\"localhost\",\"port\":26501,"
                "\"partitions\":[{\"partitionId\":1,\"role\":\"leader\",\"health\":\"healthy\"}],");
    api_put_str(&b, "version", a->cfg.version, false);
    bt_buf_puts(&b, "}],\"clusterId\":null,\"clusterSize\":1,\"partitionsCount\":1,"
                    "\"replicationFactor\":1,");
    api_put_str(&b, "gatewayVersion", a->cfg.version, false);
    bt_buf_puts(&b, ",\"lastCompletedChangeId\":\"-1\"}");
    int rc = http_respond_json(ex, 200, b.data, b.len);
    bt_buf_free(&b);
    return rc == BT_ECONFLICT ? 0 : rc;
}

/* /v2/status: 204 once the loop answers a no-op command, i.e. the engine
 * and store are alive; 503 when the queue is full. */
static int status_apply(api_call *c, eng_engine *e, store *s, int64_t now, bt_error *err) {
    (void)c;
    (void)e;
    (void)s;
    (void)now;
    (void)err;
    return BT_OK;
}

int api_status(http_exchange *ex, const http_request *req, void *app) {
    (void)req;
    api_call *c = api_call_new(app, ex, status_apply, api_done_no_content);
    return api_call_submit(c);
}

int api_metrics(http_exchange *ex, const http_request *req, void *app) {
    (void)req;
    api *a = app;
    rt_stats st;
    rt_loop_stats(a->loop, &st);
    bt_buf b = BT_BUF_INIT;
    bt_buf_puts(&b, "# HELP baton_commands_total Commands applied by the engine loop.\n"
                    "# TYPE baton_commands_total counter\n");
    bt_buf_printf(&b, "baton_commands_total %llu\n", (unsigned long long)st.commands);
    bt_buf_puts(&b, "# HELP baton_commit_batches_total Group commits.\n"
                    "# TYPE baton_commit_batches_total counter\n");
    bt_buf_printf(&b, "baton_commit_batches_total %llu\n", (unsigned long long)st.batches);
    bt_buf_printf(&b, "baton_commit_failures_total %llu\n", (unsigned long long)st.commit_failures);
    bt_buf_puts(&b, "# HELP baton_commit_batch_size Commands per group commit.\n"
                    "# TYPE baton_commit_batch_size histogram\n");
    uint64_t cum = 0, total = 0;
    static const char *sizes[] = {"1", "3", "7", "15", "31", "63", "127", "+Inf"};
    for (size_t i = 0; i < 8; i++) {
        cum += st.batch_size_hist[i];
        bt_buf_printf(&b, "baton_commit_batch_size_bucket{le=\"%s\"} %llu\n", sizes[i],
                      (unsigned long long)cum);
    }
    bt_buf_printf(&b, "baton_commit_batch_size_count %llu\n", (unsigned long long)cum);
    bt_buf_puts(&b, "# HELP baton_command_latency_seconds From submission to durable answer.\n"
                    "# TYPE baton_command_latency_seconds histogram\n");
    static const char *bounds[] = {"0.0001", "0.00025", "0.0005", "0.001", "0.0025", "0.005",
                                   "0.01",   "0.025",   "0.05",   "0.1",   "0.25",   "+Inf"};
    for (size_t i = 0; i < 12; i++) {
        total += st.latency_us_hist[i];
        bt_buf_printf(&b, "baton_command_latency_seconds_bucket{le=\"%s\"} %llu\n", bounds[i],
                      (unsigned long long)total);
    }
    bt_buf_printf(&b, "baton_command_latency_seconds_sum %.6f\n", st.latency_us_sum / 1e6);
    bt_buf_printf(&b, "baton_command_latency_seconds_count %llu\n", (unsigned long long)total);
    bt_buf_printf(&b, "# TYPE baton_queue_depth gauge\nbaton_queue_depth %d\n", st.queued);
    bt_buf_printf(&b, "# TYPE baton_parked_requests gauge\nbaton_parked_requests %d\n", st.parked);
    bt_buf_puts(&b, "# HELP baton_engine_events_total Engine events by kind.\n"
                    "# TYPE baton_engine_events_total counter\n");
    static const char *names[RT_EVENT_COUNT] = {
        "instances_started", "instances_completed", "instances_terminated", "jobs_activated",
        "jobs_completed",    "jobs_failed",         "incidents_created"};
    for (int i = 0; i < RT_EVENT_COUNT; i++)
        bt_buf_printf(&b, "baton_engine_events_total{event=\"%s\"} %llu\n", names[i],
                      (unsigned long long)st.events[i]);
    if (a->http) {
        http_stats hs;
        http_server_stats(a->http, &hs);
        bt_buf_puts(&b, "# TYPE baton_http_requests_total counter\n");
        for (int i = 2; i <= 5; i++)
            bt_buf_printf(&b, "baton_http_requests_total{class=\"%dxx\"} %llu\n", i,
                          (unsigned long long)hs.by_class[i]);
    }
    static const http_header type = {"Content-Type", "text/plain; version=0.0.4"};
    int rc = http_respond(ex, 200, NULL, b.data, b.len, &type, 1);
    bt_buf_free(&b);
    return rc == BT_ECONFLICT ? 0 : rc;
}

int api_not_implemented(http_exchange *ex, const http_request *req, void *app) {
    (void)app;
    char detail[600];
    snprintf(detail, sizeof detail,
             "%s %s is part of the Camunda 8 REST API but not implemented by baton yet; see the "
             "README for the implemented endpoints",
             http_request_method(req), http_request_path(req));
    int rc = http_respond_problem(ex, 501, "NOT_IMPLEMENTED", detail);
    return rc == BT_ECONFLICT ? 0 : rc;
}
