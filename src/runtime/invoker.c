/*
 * invoker.c — the built-in HTTP invoker of invoker.h.
 *
 * One thread runs a libcurl multi handle. It keeps one activation command
 * for RT_HTTP_JOB_TYPE outstanding in the loop (a long poll asking for as
 * many jobs as there are free request slots); the loop's answer lands in
 * the inbox and wakes the thread (curl_multi_wakeup). Each job becomes a
 * transfer; each finished transfer becomes a completion, failure or BPMN
 * error command submitted to the loop. Commands and their contexts are
 * heap objects freed by their done() on the loop thread; the inbox is the
 * only state both threads touch, under its mutex.
 */
#include "runtime/invoker.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feel/temporal.h"

#define WORKER_NAME  "baton-http-invoker"
#define POLL_MS      10000
#define MAX_RESPONSE (16u << 20)

/* A job as the invoker needs it, copied out of the engine on the loop thread. */
typedef struct inv_job {
    uint64_t key;
    int retries;
    char *variables; /* JSON */
    char *result_variable, *result_expression, *error_expression, *retry_backoff;
    struct inv_job *next;
} inv_job;

typedef struct rt_invoker rt_invoker;

typedef struct activation {
    rt_command cmd;
    rt_invoker *inv;
    int max;
    inv_job *jobs; /* filled by apply */
} activation;

/* An outcome to report: complete / fail / throw. */
typedef enum { OUT_COMPLETE, OUT_FAIL, OUT_ERROR } outcome_kind;

typedef struct outcome {
    rt_command cmd;
    outcome_kind kind;
    uint64_t job_key;
    feel_value *variables;
    int retries;
    int64_t backoff_ms;
    char *message;
    char *code;
} outcome;

/* A transfer in flight. */
typedef struct transfer {
    inv_job *job;
    CURL *easy;
    struct curl_slist *headers;
    char *url;
    char *body;
    bt_buf response;
    bt_buf response_headers;
    bool too_large;
    struct transfer *next;
} transfer;

struct rt_invoker {
    rt_loop *loop;
    rt_invoker_config cfg;
    pthread_t thread;
    CURLM *multi;
    atomic_bool stopping;
    pthread_mutex_t mu;
    inv_job *inbox; /* jobs handed over by the loop */
    bool activation_outstanding;
    int in_flight;
    transfer *transfers;
    feel_value *bpmn_error_fn; /* bpmnError(code, message) for errorExpression */
};

/* ---- activation (apply on the loop thread) ------------------------------------ */

static char *header_of(const eng_job_view *v, const char *name) {
    for (int i = 0; i < v->n_headers; i++)
        if (!strcmp(v->custom_headers[i].key, name))
            return bt_xstrdup(v->custom_headers[i].value);
    return NULL;
}

static int activation_apply(eng_engine *e, store *s, int64_t now, void *ctx, bt_error *err) {
    (void)s;
    (void)err;
    activation *a = ctx;
    if (atomic_load(&a->inv->stopping))
        return BT_OK;
    eng_job_view *views = bt_xcalloc((size_t)a->max, sizeof *views);
    int n = 0;
    eng_jobs_activate(e, now, RT_HTTP_JOB_TYPE, WORKER_NAME, a->inv->cfg.job_timeout_ms, a->max,
                      NULL, 0, views, &n);
    if (n == 0) {
        bt_free(views);
        if (!a->cmd.park_until)
            a->cmd.park_until = now + POLL_MS;
        return RT_PARK;
    }
    for (int i = n - 1; i >= 0; i--) {
        inv_job *j = bt_xcalloc(1, sizeof *j);
        j->key = views[i].key;
        j->retries = views[i].retries;
        j->variables = views[i].variables_json;
        views[i].variables_json = NULL;
        j->result_variable = header_of(&views[i], "resultVariable");
        j->result_expression = header_of(&views[i], "resultExpression");
        j->error_expression = header_of(&views[i], "errorExpression");
        j->retry_backoff = header_of(&views[i], "retryBackoff");
        j->next = a->jobs;
        a->jobs = j;
    }
    eng_job_views_free(views, n);
    bt_free(views);
    return BT_OK;
}

static void activation_done(void *ctx, int rc, const bt_error *err) {
    (void)rc;
    (void)err;
    activation *a = ctx;
    rt_invoker *inv = a->inv;
    pthread_mutex_lock(&inv->mu);
    inv_job *last = a->jobs;
    while (last && last->next)
        last = last->next;
    if (last) {
        last->next = inv->inbox;
        inv->inbox = a->jobs;
    }
    inv->activation_outstanding = false;
    pthread_mutex_unlock(&inv->mu);
    curl_multi_wakeup(inv->multi);
    bt_free(a);
}

static void job_free(inv_job *j) {
    if (!j)
        return;
    bt_free(j->variables);
    bt_free(j->result_variable);
    bt_free(j->result_expression);
    bt_free(j->error_expression);
    bt_free(j->retry_backoff);
    bt_free(j);
}

/* ---- outcomes (apply on the loop thread) ----------------------------------------- */

static int outcome_apply(eng_engine *e, store *s, int64_t now, void *ctx, bt_error *err) {
    (void)s;
    outcome *o = ctx;
    switch (o->kind) {
    case OUT_COMPLETE: return eng_job_complete(e, now, o->job_key, o->variables, err);
    case OUT_FAIL:
        return eng_job_fail(e, now, o->job_key, o->retries, o->message, o->backoff_ms, NULL, err);
    case OUT_ERROR:
        return eng_job_throw_error(e, now, o->job_key, o->code, o->message, o->variables, err);
    }
    return BT_EINVAL;
}

static void outcome_done(void *ctx, int rc, const bt_error *err) {
    outcome *o = ctx;
    if (rc != BT_OK)
        bt_log(BT_LOG_WARN, "http invoker: job %llu: %s", (unsigned long long)o->job_key,
               err && err->message[0] ? err->message : bt_strerror(rc));
    feel_value_unref(o->variables);
    bt_free(o->message);
    bt_free(o->code);
    bt_free(o);
}

static void report(rt_invoker *inv, outcome_kind kind, uint64_t job_key, feel_value *vars,
                   int retries, int64_t backoff_ms, const char *message, const char *code) {
    outcome *o = bt_xcalloc(1, sizeof *o);
    o->kind = kind;
    o->job_key = job_key;
    o->variables = vars;
    o->retries = retries < 0 ? 0 : retries;
    o->backoff_ms = backoff_ms;
    o->message = message ? bt_xstrdup(message) : NULL;
    o->code = code ? bt_xstrdup(code) : NULL;
    o->cmd.apply = outcome_apply;
    o->cmd.done = outcome_done;
    o->cmd.ctx = o;
    if (rt_submit(inv->loop, &o->cmd) != BT_OK) {
        /* The loop is busy or stopping: the job times out and comes back. */
        bt_log(BT_LOG_WARN, "http invoker: could not report job %llu; it will be retried",
               (unsigned long long)job_key);
        outcome_done(o, BT_OK, NULL);
    }
}

/* ---- building requests ---------------------------------------------------------------- */

static size_t on_body(char *data, size_t size, size_t n, void *ud) {
    transfer *t = ud;
    size_t len = size * n;
    if (t->response.len + len > MAX_RESPONSE) {
        t->too_large = true;
        return 0; /* aborts the transfer */
    }
    bt_buf_append(&t->response, data, len);
    return len;
}

static size_t on_header(char *data, size_t size, size_t n, void *ud) {
    transfer *t = ud;
    size_t len = size * n;
    if (t->response_headers.len < 65536)
        bt_buf_append(&t->response_headers, data, len);
    return len;
}

static const feel_value *get(const feel_value *ctx, const char *name) {
    const feel_value *v = ctx ? feel_context_get(ctx, name, strlen(name)) : NULL;
    return v && feel_value_type(v) != FEEL_NULL ? v : NULL;
}

static char *string_of(const feel_value *v) {
    size_t n;
    const char *s = v ? feel_string_ptr(v, &n) : NULL;
    if (s)
        return bt_strndup(s, n);
    if (!v)
        return NULL;
    bt_buf b = BT_BUF_INIT;
    feel_value_to_json(v, &b);
    return bt_buf_take(&b);
}

static int64_t seconds_of(const feel_value *v, int64_t fallback) {
    int64_t n;
    if (v && feel_number_to_int64(v, &n) == BT_OK && n > 0)
        return n;
    char *s = string_of(v);
    if (s) {
        char *end;
        long x = strtol(s, &end, 10);
        if (!*end && x > 0)
            fallback = x;
        bt_free(s);
    }
    return fallback;
}

/* URL-encodes the entries of a context as a query string onto b. */
static void append_query(CURL *easy, bt_buf *b, const feel_value *q) {
    size_t n = feel_context_count(q);
    for (size_t i = 0; i < n; i++) {
        size_t kl;
        const char *k = feel_context_key_at(q, i, &kl);
        char *v = string_of(feel_context_value_at(q, i));
        char *ek = curl_easy_escape(easy, k, (int)kl);
        char *ev = curl_easy_escape(easy, v ? v : "", 0);
        bt_buf_putc(b, b->len && strchr(b->data, '?') ? '&' : '?');
        bt_buf_puts(b, ek ? ek : "");
        bt_buf_putc(b, '=');
        bt_buf_puts(b, ev ? ev : "");
        curl_free(ek);
        curl_free(ev);
        bt_free(v);
    }
}

/* Starts the request of a job; a job whose inputs are unusable fails at once
 * with no retries (retrying would not help): an incident tells the operator. */
static void transfer_start(rt_invoker *inv, inv_job *job) {
    feel_value *vars = NULL;
    if (feel_value_from_json(job->variables, strlen(job->variables), &vars, NULL) != BT_OK) {
        report(inv, OUT_FAIL, job->key, NULL, 0, 0, "the job's variables are not valid JSON", NULL);
        job_free(job);
        return;
    }
    char *url = string_of(get(vars, "url"));
    if (!url || (strncmp(url, "http://", 7) && strncmp(url, "https://", 8))) {
        report(inv, OUT_FAIL, job->key, NULL, 0, 0,
               url ? "the input 'url' must start with http:// or https://"
                   : "the input 'url' is required (REST connector: url, method, headers, ...)",
               NULL);
        bt_free(url);
        feel_value_unref(vars);
        job_free(job);
        return;
    }
    transfer *t = bt_xcalloc(1, sizeof *t);
    t->job = job;
    t->easy = curl_easy_init();
    if (!t->easy)
        abort();
    bt_buf full = BT_BUF_INIT;
    bt_buf_puts(&full, url);
    bt_free(url);
    const feel_value *q = get(vars, "queryParameters");
    if (q && feel_value_type(q) == FEEL_CONTEXT)
        append_query(t->easy, &full, q);
    t->url = bt_buf_take(&full);

    char *method = string_of(get(vars, "method"));
    for (char *p = method; p && *p; p++)
        *p = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
    const char *m = method ? method : "GET";

    char idem[64];
    snprintf(idem, sizeof idem, "Idempotency-Key: %llu", (unsigned long long)job->key);
    t->headers = curl_slist_append(t->headers, idem);
    bool has_type = false;
    const feel_value *hs = get(vars, "headers");
    if (hs && feel_value_type(hs) == FEEL_CONTEXT) {
        for (size_t i = 0; i < feel_context_count(hs); i++) {
            size_t kl;
            const char *k = feel_context_key_at(hs, i, &kl);
            char *v = string_of(feel_context_value_at(hs, i));
            bt_buf line = BT_BUF_INIT;
            bt_buf_printf(&line, "%.*s: %s", (int)kl, k, v ? v : "");
            if (kl == 12 && !strncasecmp(k, "content-type", 12))
                has_type = true;
            if (!memchr(line.data, '\n', line.len) && !memchr(line.data, '\r', line.len))
                t->headers = curl_slist_append(t->headers, line.data);
            bt_buf_free(&line);
            bt_free(v);
        }
    }
    const feel_value *auth = get(vars, "authentication");
    char *auth_type = string_of(get(auth, "type"));
    if (auth_type && !strcmp(auth_type, "bearer")) {
        char *token = string_of(get(auth, "token"));
        bt_buf line = BT_BUF_INIT;
        bt_buf_printf(&line, "Authorization: Bearer %s", token ? token : "");
        t->headers = curl_slist_append(t->headers, line.data);
        bt_buf_free(&line);
        bt_free(token);
    } else if (auth_type && !strcmp(auth_type, "basic")) {
        char *user = string_of(get(auth, "username"));
        char *pass = string_of(get(auth, "password"));
        curl_easy_setopt(t->easy, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        curl_easy_setopt(t->easy, CURLOPT_USERNAME, user ? user : "");
        curl_easy_setopt(t->easy, CURLOPT_PASSWORD, pass ? pass : "");
        bt_free(user);
        bt_free(pass);
    }
    bt_free(auth_type);
    const feel_value *body = get(vars, "body");
    if (body && strcmp(m, "GET") && strcmp(m, "HEAD")) {
        size_t n;
        const char *raw = feel_string_ptr(body, &n);
        if (raw) {
            t->body = bt_strndup(raw, n);
        } else {
            t->body = string_of(body);
            if (!has_type)
                t->headers = curl_slist_append(t->headers, "Content-Type: application/json");
        }
        curl_easy_setopt(t->easy, CURLOPT_POSTFIELDS, t->body);
        curl_easy_setopt(t->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(t->body));
    }
    curl_easy_setopt(t->easy, CURLOPT_URL, t->url);
    curl_easy_setopt(t->easy, CURLOPT_CUSTOMREQUEST, m);
    if (!strcmp(m, "HEAD"))
        curl_easy_setopt(t->easy, CURLOPT_NOBODY, 1L);
    curl_easy_setopt(t->easy, CURLOPT_HTTPHEADER, t->headers);
    curl_easy_setopt(t->easy, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(t->easy, CURLOPT_WRITEDATA, t);
    curl_easy_setopt(t->easy, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(t->easy, CURLOPT_HEADERDATA, t);
    curl_easy_setopt(t->easy, CURLOPT_PRIVATE, t);
    curl_easy_setopt(t->easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(t->easy, CURLOPT_CONNECTTIMEOUT,
                     (long)seconds_of(get(vars, "connectionTimeoutInSeconds"), 20));
    curl_easy_setopt(t->easy, CURLOPT_TIMEOUT,
                     (long)seconds_of(get(vars, "readTimeoutInSeconds"), 20) +
                         seconds_of(get(vars, "connectionTimeoutInSeconds"), 20));
    curl_easy_setopt(t->easy, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(t->easy, CURLOPT_FOLLOWLOCATION, 0L);
    bt_free(method);
    feel_value_unref(vars);
    t->next = inv->transfers;
    inv->transfers = t;
    inv->in_flight++;
    curl_multi_add_handle(inv->multi, t->easy);
}

/* ---- finishing transfers ---------------------------------------------------------------- */

static int64_t backoff_ms(const char *iso) {
    if (!iso || !*iso)
        return 0;
    feel_duration_kind kind;
    feel_dt_duration dt;
    feel_ym_duration ym;
    if (feel_duration_parse(iso, strlen(iso), &kind, &dt, &ym) != BT_OK ||
        kind != FEEL_DURATION_DAYS_TIME || dt.seconds < 0)
        return 0;
    return dt.seconds * 1000 + dt.nanos / 1000000;
}

/* {status, headers, body}: the body parsed as JSON when it is JSON, else a string. */
static feel_value *response_value(transfer *t, long status) {
    feel_value *r = feel_context_new();
    feel_value *hdrs = feel_context_new();
    if (!r || !hdrs)
        abort();
    feel_context_put(r, "status", 6, feel_number_from_int(status));
    const char *p = t->response_headers.data ? t->response_headers.data : "";
    while (*p) {
        const char *eol = strstr(p, "\r\n");
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        const char *colon = memchr(p, ':', len);
        if (colon && strncmp(p, "HTTP/", 5)) {
            const char *v = colon + 1;
            while (v < p + len && *v == ' ')
                v++;
            feel_context_put(hdrs, p, (size_t)(colon - p),
                             feel_string_new(v, (size_t)(p + len - v)));
        }
        p += len + (eol ? 2 : 0);
    }
    feel_context_put(r, "headers", 7, hdrs);
    feel_value *body = NULL;
    const char *data = t->response.data ? t->response.data : "";
    if (t->response.len == 0 || feel_value_from_json(data, t->response.len, &body, NULL) != BT_OK)
        body = t->response.len ? feel_string_new(data, t->response.len) : feel_null();
    feel_context_put(r, "body", 4, body);
    return r;
}

typedef struct eval_ctx {
    const feel_value *response, *error, *fn;
} eval_ctx;

static const feel_value *eval_lookup(void *ud, const char *name, size_t len) {
    eval_ctx *c = ud;
    if (len == 8 && !memcmp(name, "response", 8))
        return c->response;
    if (len == 5 && !memcmp(name, "error", 5))
        return c->error;
    if (len == 9 && !memcmp(name, "bpmnError", 9))
        return c->fn;
    return NULL;
}

/* Evaluates a header expression ("=..." or bare FEEL). NULL on failure. */
static feel_value *evaluate(rt_invoker *inv, const char *text, const feel_value *response,
                            const feel_value *error, char *why, size_t why_size) {
    if (text[0] == '=')
        text++;
    feel_expr *x = NULL;
    bt_error err = {0};
    if (feel_compile(text, strlen(text), &x, &err) != BT_OK) {
        snprintf(why, why_size, "cannot compile '%s': %s", text, err.message);
        return NULL;
    }
    eval_ctx c = {response, error, inv->bpmn_error_fn};
    feel_env env = {eval_lookup, &c, bt_clock_now_ms()};
    feel_value *out = NULL;
    int rc = feel_eval(x, &env, &out, NULL);
    feel_expr_free(x);
    if (rc != BT_OK) {
        snprintf(why, why_size, "cannot evaluate '%s': %s", text, bt_strerror(rc));
        return NULL;
    }
    return out;
}

/* errorExpression: a bpmnError(...) result throws; anything else does not.
 * Returns true when an outcome was reported. */
static bool try_error_expression(rt_invoker *inv, transfer *t, const feel_value *response,
                                 const feel_value *error) {
    if (!t->job->error_expression)
        return false;
    char why[300] = "";
    feel_value *r = evaluate(inv, t->job->error_expression, response, error, why, sizeof why);
    if (!r) {
        report(inv, OUT_FAIL, t->job->key, NULL, 0, 0, why, NULL);
        return true;
    }
    bool thrown = false;
    const feel_value *type = feel_value_type(r) == FEEL_CONTEXT ? get(r, "errorType") : NULL;
    size_t tl;
    const char *ts = type ? feel_string_ptr(type, &tl) : NULL;
    if (ts && tl == 9 && !memcmp(ts, "bpmnError", 9)) {
        char *code = string_of(get(r, "code"));
        char *message = string_of(get(r, "message"));
        if (code && *code) {
            report(inv, OUT_ERROR, t->job->key, NULL, 0, 0, message, code);
            thrown = true;
        }
        bt_free(code);
        bt_free(message);
    }
    feel_value_unref(r);
    return thrown;
}

static void transfer_finish(rt_invoker *inv, transfer *t, CURLcode result) {
    inv_job *job = t->job;
    long status = 0;
    curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
    int64_t backoff = backoff_ms(job->retry_backoff);
    char message[600];
    if (result != CURLE_OK) {
        snprintf(message, sizeof message, "%s %s: %s", "request to", t->url,
                 t->too_large ? "response larger than 16 MiB" : curl_easy_strerror(result));
        feel_value *error = feel_context_new();
        feel_context_put(error, "code", 4, feel_string_new("NETWORK", 7));
        feel_context_put(error, "message", 7, feel_string_new(message, strlen(message)));
        if (!try_error_expression(inv, t, feel_null(), error))
            report(inv, OUT_FAIL, job->key, NULL, job->retries - 1, backoff, message, NULL);
        feel_value_unref(error);
        return;
    }
    feel_value *response = response_value(t, status);
    if (status >= 200 && status < 300) {
        if (try_error_expression(inv, t, response, feel_null())) {
            feel_value_unref(response);
            return;
        }
        feel_value *vars = feel_context_new();
        if (job->result_variable && *job->result_variable)
            feel_context_put(vars, job->result_variable, strlen(job->result_variable),
                             feel_value_ref(response));
        if (job->result_expression && *job->result_expression) {
            char why[300] = "";
            feel_value *r =
                evaluate(inv, job->result_expression, response, feel_null(), why, sizeof why);
            if (!r || (feel_value_type(r) != FEEL_CONTEXT && feel_value_type(r) != FEEL_NULL)) {
                if (r && !why[0])
                    snprintf(why, sizeof why, "resultExpression must give a context, gave %s",
                             feel_type_name(feel_value_type(r)));
                feel_value_unref(r);
                feel_value_unref(vars);
                feel_value_unref(response);
                report(inv, OUT_FAIL, job->key, NULL, 0, 0, why, NULL);
                return;
            }
            for (size_t i = 0; i < feel_context_count(r); i++) {
                size_t kl;
                const char *k = feel_context_key_at(r, i, &kl);
                feel_context_put(vars, k, kl,
                                 feel_value_ref((feel_value *)feel_context_value_at(r, i)));
            }
            feel_value_unref(r);
        }
        feel_value_unref(response);
        report(inv, OUT_COMPLETE, job->key, vars, 0, 0, NULL, NULL);
        return;
    }
    snprintf(message, sizeof message, "%s %s answered %ld", "request to", t->url, status);
    feel_value *error = feel_context_new();
    char code[16];
    snprintf(code, sizeof code, "%ld", status);
    feel_context_put(error, "code", 4, feel_string_new(code, strlen(code)));
    feel_context_put(error, "message", 7, feel_string_new(message, strlen(message)));
    feel_context_put(error, "response", 8, feel_value_ref(response));
    if (!try_error_expression(inv, t, response, error))
        report(inv, OUT_FAIL, job->key, NULL, job->retries - 1, status >= 500 ? backoff : 0,
               message, NULL);
    feel_value_unref(error);
    feel_value_unref(response);
}

static void transfer_free(rt_invoker *inv, transfer *t) {
    curl_multi_remove_handle(inv->multi, t->easy);
    curl_easy_cleanup(t->easy);
    curl_slist_free_all(t->headers);
    bt_free(t->url);
    bt_free(t->body);
    bt_buf_free(&t->response);
    bt_buf_free(&t->response_headers);
    job_free(t->job);
    for (transfer **p = &inv->transfers; *p; p = &(*p)->next)
        if (*p == t) {
            *p = t->next;
            break;
        }
    inv->in_flight--;
    bt_free(t);
}

/* ---- the thread ------------------------------------------------------------------------ */

static void request_jobs(rt_invoker *inv) {
    int free_slots = inv->cfg.max_in_flight - inv->in_flight;
    pthread_mutex_lock(&inv->mu);
    bool busy = inv->activation_outstanding;
    if (!busy && free_slots > 0)
        inv->activation_outstanding = true;
    pthread_mutex_unlock(&inv->mu);
    if (busy || free_slots <= 0)
        return;
    activation *a = bt_xcalloc(1, sizeof *a);
    a->inv = inv;
    a->max = free_slots;
    a->cmd.apply = activation_apply;
    a->cmd.done = activation_done;
    a->cmd.ctx = a;
    if (rt_submit(inv->loop, &a->cmd) != BT_OK) {
        pthread_mutex_lock(&inv->mu);
        inv->activation_outstanding = false;
        pthread_mutex_unlock(&inv->mu);
        bt_free(a);
    }
}

static void *invoker_main(void *arg) {
    rt_invoker *inv = arg;
    while (!atomic_load(&inv->stopping)) {
        request_jobs(inv);
        int running = 0;
        curl_multi_poll(inv->multi, NULL, 0, 1000, NULL);
        curl_multi_perform(inv->multi, &running);
        CURLMsg *msg;
        int left;
        while ((msg = curl_multi_info_read(inv->multi, &left))) {
            if (msg->msg != CURLMSG_DONE)
                continue;
            transfer *t = NULL;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&t);
            transfer_finish(inv, t, msg->data.result);
            transfer_free(inv, t);
        }
        pthread_mutex_lock(&inv->mu);
        inv_job *jobs = inv->inbox;
        inv->inbox = NULL;
        pthread_mutex_unlock(&inv->mu);
        while (jobs) {
            inv_job *next = jobs->next;
            jobs->next = NULL;
            transfer_start(inv, jobs);
            jobs = next;
        }
    }
    while (inv->transfers)
        transfer_free(inv, inv->transfers); /* their jobs time out and come back */
    return NULL;
}

static void curl_init_once(void) {
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

int rt_invoker_start(rt_loop *loop, const rt_invoker_config *cfg, rt_invoker **out, bt_error *err) {
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, curl_init_once);
    rt_invoker *inv = bt_xcalloc(1, sizeof *inv);
    inv->loop = loop;
    if (cfg)
        inv->cfg = *cfg;
    if (inv->cfg.max_in_flight <= 0)
        inv->cfg.max_in_flight = 256;
    if (inv->cfg.job_timeout_ms <= 0)
        inv->cfg.job_timeout_ms = 300000;
    atomic_init(&inv->stopping, false);
    pthread_mutex_init(&inv->mu, NULL);
    inv->multi = curl_multi_init();
    static const char fn_src[] =
        "function(code, message) {errorType: \"bpmnError\", code: code, message: message}";
    feel_expr *fn = NULL;
    feel_env env = {NULL, NULL, 0};
    if (!inv->multi || feel_compile(fn_src, sizeof fn_src - 1, &fn, err) != BT_OK ||
        feel_eval(fn, &env, &inv->bpmn_error_fn, NULL) != BT_OK) {
        feel_expr_free(fn);
        curl_multi_cleanup(inv->multi);
        bt_free(inv);
        return bt_error_set(err, BT_EIO, "cannot start the http invoker");
    }
    feel_expr_free(fn);
    if (pthread_create(&inv->thread, NULL, invoker_main, inv) != 0) {
        feel_value_unref(inv->bpmn_error_fn);
        curl_multi_cleanup(inv->multi);
        bt_free(inv);
        return bt_error_set(err, BT_EIO, "cannot start the http invoker thread");
    }
    *out = inv;
    return BT_OK;
}

void rt_invoker_stop(rt_invoker *inv) {
    if (!inv)
        return;
    atomic_store(&inv->stopping, true);
    curl_multi_wakeup(inv->multi);
    pthread_join(inv->thread, NULL);
    inv_job *jobs = inv->inbox;
    while (jobs) {
        inv_job *next = jobs->next;
        job_free(jobs);
        jobs = next;
    }
    curl_multi_cleanup(inv->multi);
    feel_value_unref(inv->bpmn_error_fn);
    pthread_mutex_destroy(&inv->mu);
    bt_free(inv);
}
