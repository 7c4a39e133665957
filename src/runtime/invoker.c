/*
 * invoker.c — the built-in invoker of invoker.h.
 *
 * One thread runs a libcurl multi handle for every task type the invoker
 * handles. The types are rows of a table (HANDLERS): a task type, the
 * worker name its jobs are activated for, how a job becomes a transfer
 * (prepare: URL, method, headers, body of the curl handle) and how a
 * finished transfer becomes an outcome (finish). Everything else is shared:
 *
 *   activation  one command outstanding in the loop (a long poll) asks for
 *               as many jobs as there are free request slots, type by type
 *               — starting with a different row each time, so one busy
 *               type cannot starve the others; the loop's answer lands in
 *               the inbox and wakes the thread (curl_multi_wakeup);
 *   transfers   each job becomes a transfer on the multi handle;
 *   outcomes    each finished transfer becomes a completion, failure or
 *               BPMN error command submitted to the loop, after the task
 *               headers' resultExpression / errorExpression are applied.
 *
 * Commands and their contexts are heap objects freed by their done() on
 * the loop thread; the inbox is the only state both threads touch, under
 * its mutex (next_row is the loop thread's alone).
 */
#include "runtime/invoker.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feel/temporal.h"
#include "runtime/lambda.h"

#define POLL_MS      10000
#define MAX_RESPONSE (16u << 20)

typedef struct job_handler job_handler;

/* A job as the invoker needs it, copied out of the engine on the loop thread. */
typedef struct inv_job {
    const job_handler *handler; /* the row of its task type */
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
    char *what; /* for messages: "request to <url>", "Lambda function <name>" */
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
    rt_lambda_env lambda;      /* AWS credentials, region, endpoint: read at start */
    size_t next_row;           /* the handler activation starts with (loop thread) */
};

/* ---- task types ---------------------------------------------------------------------- */

/* How jobs of one task type are invoked. */
struct job_handler {
    const char *type;   /* the task type (zeebe:taskDefinition type) */
    const char *worker; /* the worker name jobs are activated for */
    /* Configures t->easy for t->job: URL, method, headers, body, timeouts
     * (t->headers and t->body, owned by t, are set with them). Returns 0, or
     * a negative code with why filled: unusable inputs, the job fails with
     * no retries. */
    int (*prepare)(rt_invoker *inv, transfer *t, char *why, size_t why_size);
    /* Turns a finished transfer into an outcome (report). */
    void (*finish)(rt_invoker *inv, transfer *t, CURLcode result);
};

static int http_prepare(rt_invoker *inv, transfer *t, char *why, size_t why_size);
static void http_finish(rt_invoker *inv, transfer *t, CURLcode result);
static int lambda_prepare(rt_invoker *inv, transfer *t, char *why, size_t why_size);
static void lambda_finish(rt_invoker *inv, transfer *t, CURLcode result);

static const job_handler HANDLERS[] = {
    /* Camunda's REST connector: any HTTP request (invoker.h). */
    {RT_HTTP_JOB_TYPE, "baton-http-invoker", http_prepare, http_finish},
    /* AWS Lambda's Invoke API, signed with SigV4 (lambda.h). */
    {RT_LAMBDA_JOB_TYPE, "baton-lambda-invoker", lambda_prepare, lambda_finish},
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
    rt_invoker *inv = a->inv;
    if (atomic_load(&inv->stopping))
        return BT_OK;
    eng_job_view *views = bt_xcalloc((size_t)a->max, sizeof *views);
    const job_handler **of = bt_xcalloc((size_t)a->max, sizeof *of); /* each view's row */
    int n = 0;
    size_t rows = BT_ARRAY_LEN(HANDLERS);
    for (size_t r = 0; r < rows && n < a->max; r++) {
        const job_handler *h = &HANDLERS[(inv->next_row + r) % rows];
        int got = 0;
        eng_jobs_activate(e, now, h->type, h->worker, inv->cfg.job_timeout_ms, a->max - n, NULL, 0,
                          views + n, &got);
        for (int i = n; i < n + got; i++)
            of[i] = h;
        n += got;
    }
    inv->next_row = (inv->next_row + 1) % rows;
    if (n == 0) {
        bt_free(views);
        bt_free(of);
        if (!a->cmd.park_until)
            a->cmd.park_until = now + POLL_MS;
        return RT_PARK;
    }
    for (int i = n - 1; i >= 0; i--) {
        inv_job *j = bt_xcalloc(1, sizeof *j);
        j->handler = of[i];
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
    bt_free(of);
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
        bt_log(BT_LOG_WARN, "invoker: job %llu: %s", (unsigned long long)o->job_key,
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
        bt_log(BT_LOG_WARN, "invoker: could not report job %llu; it will be retried",
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

/* The REST connector's request: url, method, queryParameters, headers,
 * authentication, body, timeouts (invoker.h). */
static int http_prepare(rt_invoker *inv, transfer *t, char *why, size_t why_size) {
    (void)inv;
    inv_job *job = t->job;
    feel_value *vars = NULL;
    if (feel_value_from_json(job->variables, strlen(job->variables), &vars, NULL) != BT_OK) {
        snprintf(why, why_size, "the job's variables are not valid JSON");
        return BT_EINVAL;
    }
    char *url = string_of(get(vars, "url"));
    if (!url || (strncmp(url, "http://", 7) && strncmp(url, "https://", 8))) {
        snprintf(why, why_size, "%s",
                 url ? "the input 'url' must start with http:// or https://"
                     : "the input 'url' is required (REST connector: url, method, headers, ...)");
        bt_free(url);
        feel_value_unref(vars);
        return BT_EINVAL;
    }
    bt_buf full = BT_BUF_INIT;
    bt_buf_puts(&full, url);
    bt_free(url);
    const feel_value *q = get(vars, "queryParameters");
    if (q && feel_value_type(q) == FEEL_CONTEXT)
        append_query(t->easy, &full, q);
    t->url = bt_buf_take(&full);
    bt_buf what = BT_BUF_INIT;
    bt_buf_printf(&what, "request to %s", t->url);
    t->what = bt_buf_take(&what);

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
    curl_easy_setopt(t->easy, CURLOPT_CONNECTTIMEOUT,
                     (long)seconds_of(get(vars, "connectionTimeoutInSeconds"), 20));
    curl_easy_setopt(t->easy, CURLOPT_TIMEOUT,
                     (long)seconds_of(get(vars, "readTimeoutInSeconds"), 20) +
                         seconds_of(get(vars, "connectionTimeoutInSeconds"), 20));
    bt_free(method);
    feel_value_unref(vars);
    return BT_OK;
}

/* Lambda's Invoke API (lambda.h), signed at the moment it is sent. The
 * request may take as long as the job's activation lasts: a function runs
 * for up to 15 minutes, and past the activation the job comes back anyway. */
static int lambda_prepare(rt_invoker *inv, transfer *t, char *why, size_t why_size) {
    rt_lambda_request r;
    bt_error err = {0};
    int rc = rt_lambda_request_build(&inv->lambda, t->job->variables, t->job->key,
                                     bt_clock_now_ms(), &r, &err);
    if (rc != BT_OK) {
        snprintf(why, why_size, "%s", err.message[0] ? err.message : bt_strerror(rc));
        return rc;
    }
    t->url = r.url;
    t->body = r.body;
    r.url = r.body = NULL;
    bt_buf what = BT_BUF_INIT;
    bt_buf_printf(&what, "Lambda function %s (%s)", r.function_name, r.region);
    t->what = bt_buf_take(&what);
    for (size_t i = 0; i < r.n_headers; i++)
        t->headers = curl_slist_append(t->headers, r.headers[i]);
    t->headers = curl_slist_append(t->headers, "Expect:"); /* no 100-continue round trip */
    curl_easy_setopt(t->easy, CURLOPT_URL, t->url);
    curl_easy_setopt(t->easy, CURLOPT_POST, 1L);
    curl_easy_setopt(t->easy, CURLOPT_POSTFIELDS, t->body);
    curl_easy_setopt(t->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r.body_len);
    curl_easy_setopt(t->easy, CURLOPT_CONNECTTIMEOUT, 20L);
    curl_easy_setopt(t->easy, CURLOPT_TIMEOUT_MS, (long)inv->cfg.job_timeout_ms);
    rt_lambda_request_free(&r);
    return BT_OK;
}

/* Starts the request of a job; a job whose inputs are unusable fails at once
 * with no retries (retrying would not help): an incident tells the operator. */
static void transfer_start(rt_invoker *inv, inv_job *job) {
    transfer *t = bt_xcalloc(1, sizeof *t);
    t->job = job;
    t->easy = curl_easy_init();
    if (!t->easy)
        abort();
    char why[600] = "";
    if (job->handler->prepare(inv, t, why, sizeof why) != BT_OK) {
        report(inv, OUT_FAIL, job->key, NULL, 0, 0, why, NULL);
        curl_easy_cleanup(t->easy);
        curl_slist_free_all(t->headers);
        bt_free(t->url);
        bt_free(t->what);
        bt_free(t->body);
        job_free(job);
        bt_free(t);
        return;
    }
    curl_easy_setopt(t->easy, CURLOPT_HTTPHEADER, t->headers);
    curl_easy_setopt(t->easy, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(t->easy, CURLOPT_WRITEDATA, t);
    curl_easy_setopt(t->easy, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(t->easy, CURLOPT_HEADERDATA, t);
    curl_easy_setopt(t->easy, CURLOPT_PRIVATE, t);
    curl_easy_setopt(t->easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(t->easy, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(t->easy, CURLOPT_FOLLOWLOCATION, 0L);
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

/* The value of the last response header called name (any case), or NULL;
 * bt_xstrdup'd. */
static char *header_value(const transfer *t, const char *name) {
    size_t nl = strlen(name);
    char *found = NULL;
    const char *p = t->response_headers.data ? t->response_headers.data : "";
    while (*p) {
        size_t len = strcspn(p, "\r\n");
        if (len > nl && p[nl] == ':' && !strncasecmp(p, name, nl)) {
            const char *v = p + nl + 1, *e = p + len;
            while (v < e && (*v == ' ' || *v == '\t'))
                v++;
            while (e > v && (e[-1] == ' ' || e[-1] == '\t'))
                e--;
            bt_free(found);
            found = bt_strndup(v, (size_t)(e - v));
            if (!found)
                abort();
        }
        p += len;
        p += strspn(p, "\r\n");
    }
    return found;
}

/* {code, message[, type][, response]} for errorExpression. */
static feel_value *error_value(const char *code, const char *message, const char *type,
                               const feel_value *response) {
    feel_value *error = feel_context_new();
    if (!error)
        abort();
    feel_context_put(error, "code", 4, feel_string_new(code, strlen(code)));
    feel_context_put(error, "message", 7, feel_string_new(message, strlen(message)));
    if (type)
        feel_context_put(error, "type", 4, feel_string_new(type, strlen(type)));
    if (response)
        feel_context_put(error, "response", 8, feel_value_ref((feel_value *)response));
    return error;
}

/* A transfer that got no answer (connection refused, timeout, a response
 * too large): errorExpression sees error.code "NETWORK"; else the job fails
 * with retries - 1 after the back-off. */
static void finish_network_error(rt_invoker *inv, transfer *t, CURLcode result) {
    char message[600];
    snprintf(message, sizeof message, "%s: %s", t->what,
             t->too_large ? "response larger than 16 MiB" : curl_easy_strerror(result));
    feel_value *error = error_value("NETWORK", message, NULL, NULL);
    if (!try_error_expression(inv, t, feel_null(), error))
        report(inv, OUT_FAIL, t->job->key, NULL, t->job->retries - 1,
               backoff_ms(t->job->retry_backoff), message, NULL);
    feel_value_unref(error);
}

/* A successful answer: errorExpression may still throw; else the job
 * completes with `stored` (borrowed) under resultVariable and the context
 * of resultExpression merged in. */
static void finish_complete(rt_invoker *inv, transfer *t, const feel_value *response,
                            const feel_value *stored) {
    inv_job *job = t->job;
    if (try_error_expression(inv, t, response, feel_null()))
        return;
    feel_value *vars = feel_context_new();
    if (!vars)
        abort();
    if (job->result_variable && *job->result_variable)
        feel_context_put(vars, job->result_variable, strlen(job->result_variable),
                         feel_value_ref((feel_value *)stored));
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
    report(inv, OUT_COMPLETE, job->key, vars, 0, 0, NULL, NULL);
}

/* REST connector: 2xx completes with the whole response; any other status
 * is error {code: "<status>", message, response}; 5xx back off. */
static void http_finish(rt_invoker *inv, transfer *t, CURLcode result) {
    inv_job *job = t->job;
    if (result != CURLE_OK) {
        finish_network_error(inv, t, result);
        return;
    }
    long status = 0;
    curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
    feel_value *response = response_value(t, status);
    if (status >= 200 && status < 300) {
        finish_complete(inv, t, response, response);
        feel_value_unref(response);
        return;
    }
    char message[600], code[16];
    snprintf(message, sizeof message, "%s answered %ld", t->what, status);
    snprintf(code, sizeof code, "%ld", status);
    feel_value *error = error_value(code, message, NULL, response);
    if (!try_error_expression(inv, t, response, error))
        report(inv, OUT_FAIL, job->key, NULL, job->retries - 1,
               status >= 500 ? backoff_ms(job->retry_backoff) : 0, message, NULL);
    feel_value_unref(error);
    feel_value_unref(response);
}

/* Lambda: a 2xx without X-Amz-Function-Error completes with the function's
 * payload (response.body); a function error is error {code: errorType,
 * message: errorMessage, type: "Unhandled"|"Handled", response}; a refusal
 * is error {code: Lambda's error type (X-Amzn-ErrorType) or the status,
 * message, type: "Service", response}, backing off on 429 and 5xx. */
static void lambda_finish(rt_invoker *inv, transfer *t, CURLcode result) {
    inv_job *job = t->job;
    if (result != CURLE_OK) {
        finish_network_error(inv, t, result);
        return;
    }
    long status = 0;
    curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
    feel_value *response = response_value(t, status);
    const feel_value *body = feel_context_get(response, "body", 4);
    char *function_error = header_value(t, "X-Amz-Function-Error");
    rt_lambda_outcome kind = rt_lambda_classify(status, function_error);
    if (kind == RT_LAMBDA_DONE) {
        finish_complete(inv, t, response, body);
        bt_free(function_error);
        feel_value_unref(response);
        return;
    }
    char message[900];
    char *code = NULL, *detail = NULL;
    if (kind == RT_LAMBDA_FUNCTION_ERROR) {
        code = string_of(get(body, "errorType"));
        detail = string_of(get(body, "errorMessage"));
        if (!detail && body && feel_value_type(body) != FEEL_CONTEXT)
            detail = string_of(body);
        snprintf(message, sizeof message, "%s failed (%s): %s: %.600s", t->what, function_error,
                 code ? code : "error", detail ? detail : "no message");
    } else {
        char *type = header_value(t, "X-Amzn-ErrorType");
        if (type)
            type[strcspn(type, ":")] = '\0'; /* "TooManyRequestsException:http://..." */
        detail = string_of(get(body, "message"));
        if (!detail)
            detail = string_of(get(body, "Message"));
        if (!detail && body && feel_value_type(body) != FEEL_CONTEXT)
            detail = string_of(body);
        snprintf(message, sizeof message, "%s: HTTP %ld%s%s: %.600s", t->what, status,
                 type ? " " : "", type ? type : "", detail ? detail : "no message");
        if (type && *type) {
            code = type;
        } else {
            bt_free(type);
            code = bt_xmalloc(16);
            snprintf(code, 16, "%ld", status);
        }
    }
    feel_value *error =
        error_value(code ? code : "FunctionError", detail ? detail : message,
                    kind == RT_LAMBDA_FUNCTION_ERROR ? function_error : "Service", response);
    if (!try_error_expression(inv, t, response, error))
        report(inv, OUT_FAIL, job->key, NULL, job->retries - 1,
               kind == RT_LAMBDA_RETRY ? backoff_ms(job->retry_backoff) : 0, message, NULL);
    feel_value_unref(error);
    feel_value_unref(response);
    bt_free(function_error);
    bt_free(code);
    bt_free(detail);
}

static void transfer_free(rt_invoker *inv, transfer *t) {
    curl_multi_remove_handle(inv->multi, t->easy);
    curl_easy_cleanup(t->easy);
    curl_slist_free_all(t->headers);
    bt_free(t->url);
    bt_free(t->what);
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
            t->job->handler->finish(inv, t, msg->data.result);
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
    rt_lambda_env_read(&inv->lambda); /* once: jobs without credentials fail with a message */
    inv->multi = curl_multi_init();
    static const char fn_src[] =
        "function(code, message) {errorType: \"bpmnError\", code: code, message: message}";
    feel_expr *fn = NULL;
    feel_env env = {NULL, NULL, 0};
    if (!inv->multi || feel_compile(fn_src, sizeof fn_src - 1, &fn, err) != BT_OK ||
        feel_eval(fn, &env, &inv->bpmn_error_fn, NULL) != BT_OK) {
        feel_expr_free(fn);
        curl_multi_cleanup(inv->multi);
        rt_lambda_env_free(&inv->lambda);
        bt_free(inv);
        return bt_error_set(err, BT_EIO, "cannot start the invoker");
    }
    feel_expr_free(fn);
    if (pthread_create(&inv->thread, NULL, invoker_main, inv) != 0) {
        feel_value_unref(inv->bpmn_error_fn);
        curl_multi_cleanup(inv->multi);
        rt_lambda_env_free(&inv->lambda);
        bt_free(inv);
        return bt_error_set(err, BT_EIO, "cannot start the invoker thread");
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
    rt_lambda_env_free(&inv->lambda);
    pthread_mutex_destroy(&inv->mu);
    bt_free(inv);
}
