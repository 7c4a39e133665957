/*
 * test_http.c — the HTTP layer (src/server/http*.c) against a real server on
 * an ephemeral port, with libcurl as the client.
 *
 * Every test starts its own server with its own route table, so counters
 * and queues start at zero. Nothing sleeps: a test that waits for the server
 * waits on a condition variable fed by a handler or a cancel callback, or
 * drives curl's multi interface until a condition holds. Asynchronous
 * answers come from pthreads the tests start; the "pending" handler parks
 * exchanges in a queue (pending_q) that the test thread or a responder
 * thread drains.
 *
 * The client-gone cases abort a transfer through curl_multi_remove_handle
 * once the handler is known to hold the exchange, so that the disconnect
 * happens while the request is pending, every time.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "server/http.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

/* ---- client side ------------------------------------------------------------ */

typedef struct reply {
    long status;
    bt_buf body;
    char content_type[128];
    char allow[128];
    char www[2][128];
    int n_www;
    char x_test[128];
} reply;

static void reply_free(reply *r) {
    bt_buf_free(&r->body);
}

static size_t on_body(char *data, size_t size, size_t n, void *ud) {
    reply *r = ud;
    bt_buf_append(&r->body, data, size * n);
    return size * n;
}

/* Copies the value of header line `line` into out when its name is name. */
static void header_take(const char *line, size_t len, const char *name, char *out, size_t cap) {
    size_t nl = strlen(name);
    if (len <= nl + 1 || strncasecmp(line, name, nl) != 0 || line[nl] != ':')
        return;
    const char *v = line + nl + 1;
    size_t vl = len - nl - 1;
    while (vl > 0 && *v == ' ')
        v++, vl--;
    while (vl > 0 && (v[vl - 1] == '\r' || v[vl - 1] == '\n'))
        vl--;
    if (vl >= cap)
        vl = cap - 1;
    memcpy(out, v, vl);
    out[vl] = '\0';
}

static size_t on_header(char *data, size_t size, size_t n, void *ud) {
    reply *r = ud;
    size_t len = size * n;
    header_take(data, len, "Content-Type", r->content_type, sizeof r->content_type);
    header_take(data, len, "Allow", r->allow, sizeof r->allow);
    header_take(data, len, "X-Test", r->x_test, sizeof r->x_test);
    if (r->n_www < 2) {
        r->www[r->n_www][0] = '\0';
        header_take(data, len, "WWW-Authenticate", r->www[r->n_www], sizeof r->www[0]);
        if (r->www[r->n_www][0] != '\0')
            r->n_www++;
    }
    return len;
}

typedef struct upload {
    const char *data;
    size_t len, off;
} upload;

static size_t on_read(char *buf, size_t size, size_t n, void *ud) {
    upload *u = ud;
    size_t room = size * n, left = u->len - u->off;
    size_t k = left < room ? left : room;
    if (k > 100)
        k = 100; /* small chunks: several chunked-encoding frames */
    memcpy(buf, u->data + u->off, k);
    u->off += k;
    return k;
}

typedef struct req_opts {
    const char *method; /* NULL: GET */
    const char *path;
    const char *body; /* NULL: none */
    size_t len;
    bool chunked;
    bool expect_continue;
    bool path_as_is;
    const char *content_type;
    const char *authorization; /* a whole header value */
    curl_mime *mime;
} req_opts;

typedef struct client {
    CURL *easy;
    struct curl_slist *headers;
    upload up;
    reply r;
    char url[512];
} client;

static void client_init(client *c, uint16_t port, const req_opts *o) {
    memset(c, 0, sizeof *c);
    c->easy = curl_easy_init();
    assert_non_null(c->easy);
    CURL *e = c->easy;
    snprintf(c->url, sizeof c->url, "http://127.0.0.1:%u%s", (unsigned)port, o->path);
    curl_easy_setopt(e, CURLOPT_URL, c->url);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &c->r);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, &c->r);
    curl_easy_setopt(e, CURLOPT_PATH_AS_IS, o->path_as_is ? 1L : 0L);
    if (o->method && strcmp(o->method, "HEAD") == 0)
        curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
    else if (o->method && strcmp(o->method, "GET") != 0)
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, o->method);
    if (o->mime) {
        curl_easy_setopt(e, CURLOPT_MIMEPOST, o->mime);
    } else if (o->body && o->chunked) {
        c->up = (upload){o->body, o->len, 0};
        curl_easy_setopt(e, CURLOPT_POST, 1L);
        curl_easy_setopt(e, CURLOPT_READFUNCTION, on_read);
        curl_easy_setopt(e, CURLOPT_READDATA, &c->up);
        c->headers = curl_slist_append(c->headers, "Transfer-Encoding: chunked");
    } else if (o->body) {
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, o->body);
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)o->len);
    }
    char line[512];
    if (o->content_type) {
        snprintf(line, sizeof line, "Content-Type: %s", o->content_type);
        c->headers = curl_slist_append(c->headers, line);
    }
    if (o->authorization) {
        snprintf(line, sizeof line, "Authorization: %s", o->authorization);
        c->headers = curl_slist_append(c->headers, line);
    }
    c->headers =
        curl_slist_append(c->headers, o->expect_continue ? "Expect: 100-continue" : "Expect:");
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, c->headers);
}

static void client_done(client *c) {
    curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &c->r.status);
}

static void client_free(client *c) {
    if (c->easy)
        curl_easy_cleanup(c->easy);
    curl_slist_free_all(c->headers);
    reply_free(&c->r);
}

/* One blocking request; the reply is copied to *out (free with reply_free). */
static CURLcode request(uint16_t port, const req_opts *o, reply *out) {
    client c;
    client_init(&c, port, o);
    CURLcode rc = curl_easy_perform(c.easy);
    client_done(&c);
    *out = c.r;
    c.r = (reply){0};
    client_free(&c);
    return rc;
}

static long get(uint16_t port, const char *path, reply *out) {
    req_opts o = {.path = path};
    assert_int_equal(request(port, &o, out), CURLE_OK);
    return out->status;
}

static json_t *reply_json(const reply *r) {
    json_error_t e;
    json_t *j = json_loadb(r->body.data ? r->body.data : "", r->body.len, 0, &e);
    if (j == NULL)
        fail_msg("bad JSON (%s): %.*s", e.text, (int)r->body.len, r->body.data);
    return j;
}

static const char *jstr(json_t *j, const char *key) {
    json_t *v = json_object_get(j, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* Checks an RFC 9457 problem reply and returns its title. */
static void assert_problem(const reply *r, long status, const char *title, const char *instance) {
    assert_int_equal(r->status, status);
    assert_string_equal(r->content_type, "application/problem+json");
    json_t *j = reply_json(r);
    assert_string_equal(jstr(j, "type"), "about:blank");
    assert_int_equal(json_integer_value(json_object_get(j, "status")), status);
    assert_non_null(jstr(j, "detail"));
    if (title)
        assert_string_equal(jstr(j, "title"), title);
    else
        assert_non_null(jstr(j, "title"));
    assert_string_equal(jstr(j, "instance"), instance);
    assert_int_equal(json_object_size(j), 5);
    json_decref(j);
}

/* ---- handlers ------------------------------------------------------------------- */

static int respond_jsonf(http_exchange *ex, int status, json_t *j) {
    char *text = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    int rc = http_respond_json(ex, status, text, strlen(text));
    free(text);
    return rc;
}

static const char *or_null(const char *s) {
    return s ? s : "(null)";
}

static int h_params(http_exchange *ex, const http_request *req, void *app) {
    (void)app;
    json_t *q = json_array();
    for (size_t i = 0; i < http_request_query_count(req); i++) {
        const char *name, *value;
        http_request_query_at(req, i, &name, &value);
        json_array_append_new(q, json_pack("[ss]", name, value));
    }
    return respond_jsonf(ex, 200,
                         json_pack("{ss ss ss ss ss so}", "method", http_request_method(req),
                                   "path", http_request_path(req), "a",
                                   or_null(http_request_param(req, "a")), "b",
                                   or_null(http_request_param(req, "b")), "rest",
                                   or_null(http_request_param(req, "rest")), "query", q));
}

static int h_literal(http_exchange *ex, const http_request *req, void *app) {
    (void)req;
    (void)app;
    return http_respond(ex, 200, "text/plain", "literal", 7, NULL, 0);
}

/* Echoes the body with the request's Content-Type and its length in X-Test. */
static int h_echo(http_exchange *ex, const http_request *req, void *app) {
    (void)app;
    size_t len;
    const char *body = http_request_body(req, &len);
    char n[32];
    snprintf(n, sizeof n, "%zu", len);
    http_header h = {"X-Test", n};
    const char *ct = http_request_content_type(req);
    return http_respond(ex, 200, ct ? ct : "application/octet-stream", body, len, &h, 1);
}

static int h_problem(http_exchange *ex, const http_request *req, void *app) {
    (void)req;
    (void)app;
    return http_respond_problem(ex, 409, "INVALID_STATE", "job \"7\" is not activatable");
}

static int h_error(http_exchange *ex, const http_request *req, void *app) {
    (void)ex;
    (void)req;
    (void)app;
    return BT_ENOTFOUND;
}

static int h_silent(http_exchange *ex, const http_request *req, void *app) {
    (void)ex;
    (void)req;
    (void)app;
    return 0; /* neither answers nor keeps ex: the server answers 500 */
}

static int h_no_content(http_exchange *ex, const http_request *req, void *app) {
    (void)req;
    (void)app;
    return http_respond(ex, 204, NULL, NULL, 0, NULL, 0);
}

static int h_user(http_exchange *ex, const http_request *req, void *app) {
    (void)app;
    const char *user = http_request_user(req);
    return http_respond(ex, 200, "text/plain", user ? user : "-", user ? strlen(user) : 1, NULL, 0);
}

/* ---- multipart ------------------------------------------------------------------- */

static int collect_part(void *ud, const http_part *p) {
    json_t *parts = ud;
    bt_buf hex = BT_BUF_INIT;
    for (size_t i = 0; i < p->len; i++)
        bt_buf_printf(&hex, "%02x", ((const unsigned char *)p->data)[i]);
    json_array_append_new(parts,
                          json_pack("{ss so so si ss}", "name", p->name, "filename",
                                    p->filename ? json_string(p->filename) : json_null(), "type",
                                    p->content_type ? json_string(p->content_type) : json_null(),
                                    "len", (int)p->len, "hex", hex.data ? hex.data : ""));
    bt_buf_free(&hex);
    return 0;
}

static int h_multipart(http_exchange *ex, const http_request *req, void *app) {
    (void)app;
    json_t *parts = json_array();
    bt_error err;
    int rc = http_request_multipart(req, collect_part, parts, &err);
    if (rc != 0) {
        json_decref(parts);
        return http_respond_problem(ex, 400, NULL, err.message);
    }
    return respond_jsonf(ex, 200, parts);
}

/* ---- pending exchanges: a queue the tests drain ------------------------------------ */

static struct pending_q {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    http_exchange *items[512];
    char ids[512][16];
    size_t n;
    int canceled;
    http_exchange *canceled_ex;
    bool set_cancel; /* the handler registers the cancel callback */
} pq = {.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};

static void pq_reset(bool set_cancel) {
    pthread_mutex_lock(&pq.lock);
    pq.n = 0;
    pq.canceled = 0;
    pq.canceled_ex = NULL;
    pq.set_cancel = set_cancel;
    pthread_mutex_unlock(&pq.lock);
}

static void on_cancel(http_exchange *ex, void *ud) {
    assert_ptr_equal(ud, &pq);
    assert_true(http_exchange_canceled(ex)); /* ex is valid during the callback */
    pthread_mutex_lock(&pq.lock);
    pq.canceled++;
    pq.canceled_ex = ex;
    pthread_cond_broadcast(&pq.cond);
    pthread_mutex_unlock(&pq.lock);
}

static int h_pending(http_exchange *ex, const http_request *req, void *app) {
    (void)app;
    const char *id = http_request_query(req, "i");
    pthread_mutex_lock(&pq.lock);
    assert_true(pq.n < BT_ARRAY_LEN(pq.items));
    if (pq.set_cancel)
        http_exchange_set_cancel(ex, on_cancel, &pq);
    snprintf(pq.ids[pq.n], sizeof pq.ids[0], "%s", id ? id : "");
    pq.items[pq.n++] = ex;
    pthread_cond_broadcast(&pq.cond);
    pthread_mutex_unlock(&pq.lock);
    return HTTP_PENDING;
}

static void pq_wait_items(size_t n) {
    pthread_mutex_lock(&pq.lock);
    while (pq.n < n)
        pthread_cond_wait(&pq.cond, &pq.lock);
    pthread_mutex_unlock(&pq.lock);
}

static void pq_wait_canceled(int n) {
    pthread_mutex_lock(&pq.lock);
    while (pq.canceled < n)
        pthread_cond_wait(&pq.cond, &pq.lock);
    pthread_mutex_unlock(&pq.lock);
}

static size_t pq_count(void) {
    pthread_mutex_lock(&pq.lock);
    size_t n = pq.n;
    pthread_mutex_unlock(&pq.lock);
    return n;
}

/* ---- async answers from other threads ----------------------------------------------- */

typedef struct async_job {
    http_exchange *ex;
    char id[32];
    int rc;
} async_job;

static void *async_answer(void *arg) {
    async_job *job = arg;
    char body[64];
    int n = snprintf(body, sizeof body, "{\"async\":true,\"id\":\"%s\"}", job->id);
    job->rc = http_respond_json(job->ex, 200, body, (size_t)n);
    return NULL;
}

static pthread_t async_threads[8];
static async_job async_jobs[8];
static int async_n;

/* Hands ex to a new thread that answers; with ?join=1 waits for that answer
 * before returning HTTP_PENDING (the answer-before-suspend path). */
static int h_async(http_exchange *ex, const http_request *req, void *app) {
    (void)app;
    int k = async_n++;
    async_jobs[k].ex = ex;
    snprintf(async_jobs[k].id, sizeof async_jobs[k].id, "%s",
             or_null(http_request_query(req, "id")));
    const char *join = http_request_query(req, "join");
    assert_int_equal(pthread_create(&async_threads[k], NULL, async_answer, &async_jobs[k]), 0);
    if (join && strcmp(join, "1") == 0) {
        pthread_join(async_threads[k], NULL);
        async_threads[k] = 0;
    }
    return HTTP_PENDING;
}

/* ---- server helpers ------------------------------------------------------------------ */

static http_server *start(const http_config *cfg, const http_route *routes, size_t n) {
    http_server *s = NULL;
    bt_error err;
    int rc = http_server_start(cfg, routes, n, NULL, &s, &err);
    if (rc != 0)
        fail_msg("http_server_start: %s", err.message);
    assert_non_null(s);
    assert_int_not_equal(http_server_port(s), 0);
    return s;
}

static void quiet_log(void *ud, bt_log_level level, const char *msg) {
    (void)msg;
    if (ud != NULL && level == BT_LOG_INFO)
        (*(int *)ud)++;
}

/* ---- tests: routing ------------------------------------------------------------------- */

static const http_route routing_routes[] = {
    {"GET", "/v2/items/{a}/parts/{b}", h_params, "two params", 0},
    {"POST", "/v2/items/{a}/parts/{b}", h_echo, "same path, other method", 0},
    {"GET", "/v2/items/{a}", h_params, "one param", 0},
    {"GET", "/v2/items/search", h_literal, "literal beats param, whatever the order", 0},
    {"GET", "/files/{rest*}", h_params, "rest of the path", 0},
};

static void test_routing(void **state) {
    (void)state;
    int infos = 0;
    http_config cfg = {.log = quiet_log, .log_ud = &infos};
    http_server *s = start(&cfg, routing_routes, BT_ARRAY_LEN(routing_routes));
    uint16_t port = http_server_port(s);
    assert_true(infos >= 1); /* "listening on" went through the log callback */
    reply r;

    assert_int_equal(get(port, "/v2/items/7/parts/x%2Fy?q=hello+world&q=2&flag&e=%C3%A9", &r), 200);
    json_t *j = reply_json(&r);
    assert_string_equal(jstr(j, "a"), "7");
    assert_string_equal(jstr(j, "b"), "x/y"); /* decoded after splitting */
    assert_string_equal(jstr(j, "path"), "/v2/items/7/parts/x%2Fy");
    json_t *q = json_object_get(j, "query");
    assert_int_equal(json_array_size(q), 4);
    assert_string_equal(json_string_value(json_array_get(json_array_get(q, 0), 1)), "hello world");
    assert_string_equal(json_string_value(json_array_get(json_array_get(q, 1), 1)), "2");
    assert_string_equal(json_string_value(json_array_get(json_array_get(q, 2), 0)), "flag");
    assert_string_equal(json_string_value(json_array_get(json_array_get(q, 2), 1)), "");
    assert_string_equal(json_string_value(json_array_get(json_array_get(q, 3), 1)), "\xc3\xa9");
    json_decref(j);
    reply_free(&r);

    assert_int_equal(get(port, "/v2/items/search", &r), 200);
    assert_memory_equal(r.body.data, "literal", 7);
    reply_free(&r);

    assert_int_equal(get(port, "/v2/items/42", &r), 200);
    j = reply_json(&r);
    assert_string_equal(jstr(j, "a"), "42");
    assert_string_equal(jstr(j, "b"), "(null)");
    json_decref(j);
    reply_free(&r);

    assert_int_equal(get(port, "/files/a/b%20c/d.js", &r), 200);
    j = reply_json(&r);
    assert_string_equal(jstr(j, "rest"), "a/b c/d.js");
    json_decref(j);
    reply_free(&r);

    /* Unknown paths: 404 problem with the path as instance. */
    get(port, "/v2/nothing", &r);
    assert_problem(&r, 404, "Not Found", "/v2/nothing");
    reply_free(&r);
    get(port, "/v2/items/", &r); /* a parameter binds a non-empty segment */
    assert_problem(&r, 404, NULL, "/v2/items/");
    reply_free(&r);
    get(port, "/v2/items/1/parts/2/extra", &r);
    assert_int_equal(r.status, 404);
    reply_free(&r);

    /* Known path, wrong method: 405 with Allow. */
    req_opts o = {.method = "DELETE", .path = "/v2/items/7/parts/x"};
    assert_int_equal(request(port, &o, &r), CURLE_OK);
    assert_problem(&r, 405, "Method Not Allowed", "/v2/items/7/parts/x");
    assert_string_equal(r.allow, "GET, HEAD, POST");
    reply_free(&r);

    /* HEAD answers like GET, without a body. */
    o = (req_opts){.method = "HEAD", .path = "/v2/items/42"};
    assert_int_equal(request(port, &o, &r), CURLE_OK);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.body.len, 0);
    assert_string_equal(r.content_type, "application/json");
    reply_free(&r);

    /* Malformed percent-encoding: 400. */
    get(port, "/v2/items/%zz", &r);
    assert_problem(&r, 400, "Bad Request", "/v2/items/%zz");
    reply_free(&r);
    get(port, "/v2/items/%00", &r);
    assert_int_equal(r.status, 400);
    reply_free(&r);
    get(port, "/v2/items/1?x=%4", &r);
    assert_int_equal(r.status, 400);
    reply_free(&r);

    http_stats st;
    http_server_stats(s, &st);
    assert_int_equal(st.by_class[2], 5);
    assert_int_equal(st.by_class[4], 7);
    assert_int_equal(st.by_class[5], 0);
    assert_false(st.draining);
    http_server_stop(s);
}

static void test_route_table_errors(void **state) {
    (void)state;
    static const http_route bad[][1] = {
        {{"GET", "/v2/{a", h_literal, NULL, 0}},
        {{"GET", "/v2/{rest*}/x", h_literal, NULL, 0}},
        {{"GET", "v2/relative", h_literal, NULL, 0}},
        {{"GET", "/v2/x{a}", h_literal, NULL, 0}},
        {{"GET", "/v2/{}", h_literal, NULL, 0}},
        {{"GET", "/v2/ok", NULL, NULL, 0}},
        {{NULL, "/v2/ok", h_literal, NULL, 0}},
    };
    for (size_t i = 0; i < BT_ARRAY_LEN(bad); i++) {
        http_server *s = (http_server *)&s; /* must come back NULL */
        bt_error err;
        assert_int_equal(http_server_start(NULL, bad[i], 1, NULL, &s, &err), BT_EINVAL);
        assert_null(s);
        assert_int_equal(err.code, BT_EINVAL);
    }
    http_config cfg = {.bind_address = "not-an-address"};
    http_server *s;
    assert_int_equal(http_server_start(&cfg, routing_routes, 1, NULL, &s, NULL), BT_EINVAL);
    assert_null(s);

    /* A port in use: BT_EIO. 0.0.0.0 is accepted as a bind address. */
    cfg = (http_config){.bind_address = "0.0.0.0"};
    http_server *a = start(&cfg, routing_routes, BT_ARRAY_LEN(routing_routes));
    reply r;
    assert_int_equal(get(http_server_port(a), "/v2/items/search", &r), 200);
    reply_free(&r);
    cfg.port = http_server_port(a);
    bt_error err;
    assert_int_equal(http_server_start(&cfg, routing_routes, 1, NULL, &s, &err), BT_EIO);
    assert_null(s);
    http_server_stop(a);
    http_server_stop(NULL);
}

/* ---- tests: bodies --------------------------------------------------------------------- */

static const http_route body_routes[] = {
    {"POST", "/echo", h_echo, "echo the body", 0},
};

static void test_json_echo(void **state) {
    (void)state;
    http_server *s = start(NULL, body_routes, 1);
    const char *json = "{\"a\":[1,2,3],\"s\":\"\xc3\xa9\\\"\",\"n\":null}";
    req_opts o = {
        .path = "/echo", .body = json, .len = strlen(json), .content_type = "application/json"};
    reply r;
    assert_int_equal(request(http_server_port(s), &o, &r), CURLE_OK);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.content_type, "application/json");
    assert_int_equal(r.body.len, strlen(json));
    assert_memory_equal(r.body.data, json, strlen(json));
    reply_free(&r);

    /* Bodies may hold NULs; an empty body is "" with length 0. */
    static const char bin[] = {'a', 0, 'b', 0, 0, 'c'};
    o = (req_opts){.path = "/echo", .body = bin, .len = sizeof bin};
    assert_int_equal(request(http_server_port(s), &o, &r), CURLE_OK);
    assert_int_equal(r.body.len, sizeof bin);
    assert_memory_equal(r.body.data, bin, sizeof bin);
    assert_string_equal(r.x_test, "6");
    reply_free(&r);
    o = (req_opts){.path = "/echo", .body = "", .len = 0};
    assert_int_equal(request(http_server_port(s), &o, &r), CURLE_OK);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.x_test, "0");
    reply_free(&r);
    http_server_stop(s);
}

static void test_body_limit(void **state) {
    (void)state;
    http_config cfg = {.max_body_bytes = 1024};
    http_server *s = start(&cfg, body_routes, 1);
    uint16_t port = http_server_port(s);
    char *big = bt_xmalloc(3000);
    memset(big, 'x', 3000);
    reply r;

    /* Exactly at the limit: accepted, with Content-Length and chunked. */
    req_opts o = {.path = "/echo", .body = big, .len = 1024};
    assert_int_equal(request(port, &o, &r), CURLE_OK);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.x_test, "1024");
    reply_free(&r);
    o.chunked = true;
    assert_int_equal(request(port, &o, &r), CURLE_OK);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.x_test, "1024");
    reply_free(&r);

    /* Over it, announced by Content-Length: refused from the headers (the
     * client waits for 100 Continue and never sends the body). */
    o = (req_opts){.path = "/echo", .body = big, .len = 1025, .expect_continue = true};
    assert_int_equal(request(port, &o, &r), CURLE_OK);
    assert_problem(&r, 413, "Content Too Large", "/echo");
    reply_free(&r);

    /* Over it, found while streaming a chunked body. */
    o = (req_opts){.path = "/echo", .body = big, .len = 3000, .chunked = true};
    assert_int_equal(request(port, &o, &r), CURLE_OK);
    assert_problem(&r, 413, "Content Too Large", "/echo");
    reply_free(&r);
    o.len = 1025;
    assert_int_equal(request(port, &o, &r), CURLE_OK);
    assert_int_equal(r.status, 413);
    reply_free(&r);

    /* The server is fine afterwards. */
    o = (req_opts){.path = "/echo", .body = "ok", .len = 2};
    assert_int_equal(request(port, &o, &r), CURLE_OK);
    assert_int_equal(r.status, 200);
    reply_free(&r);
    bt_free(big);
    http_server_stop(s);
}

/* ---- tests: problems and the error table ------------------------------------------------ */

static const http_route problem_routes[] = {
    {"GET", "/problem", h_problem, "a problem answer", 0},
    {"GET", "/error", h_error, "returns BT_ENOTFOUND", 0},
    {"GET", "/silent", h_silent, "returns 0 without answering", 0},
    {"GET", "/empty", h_no_content, "204", 0},
};

static void test_problems(void **state) {
    (void)state;
    http_server *s = start(NULL, problem_routes, BT_ARRAY_LEN(problem_routes));
    uint16_t port = http_server_port(s);
    reply r;
    get(port, "/problem?x=1", &r);
    assert_problem(&r, 409, "INVALID_STATE", "/problem");
    json_t *j = reply_json(&r);
    assert_string_equal(jstr(j, "detail"), "job \"7\" is not activatable");
    json_decref(j);
    reply_free(&r);

    get(port, "/error", &r);
    assert_problem(&r, 404, "NOT_FOUND", "/error");
    reply_free(&r);
    get(port, "/silent", &r);
    assert_problem(&r, 500, "INTERNAL_ERROR", "/silent");
    reply_free(&r);
    assert_int_equal(get(port, "/empty", &r), 204);
    assert_int_equal(r.body.len, 0);
    reply_free(&r);
    http_server_stop(s);

    /* The table itself. */
    const char *title;
    assert_int_equal(http_status_for_error(BT_EINVAL, &title), 400);
    assert_string_equal(title, "INVALID_ARGUMENT");
    assert_int_equal(http_status_for_error(BT_ENOTFOUND, &title), 404);
    assert_int_equal(http_status_for_error(BT_ECONFLICT, &title), 409);
    assert_string_equal(title, "INVALID_STATE");
    assert_int_equal(http_status_for_error(BT_EBUSY, &title), 503);
    assert_int_equal(http_status_for_error(BT_EIO, NULL), 500);
    assert_int_equal(http_status_for_error(-999, &title), 500);
    assert_string_equal(http_status_reason(404), "Not Found");
    assert_string_equal(http_status_reason(299), "Unknown");
}

/* ---- tests: multipart ---------------------------------------------------------------------- */

static const http_route multipart_routes[] = {
    {"POST", "/v2/deployments", h_multipart, "deploy resources", 0},
};

static void test_multipart_upload(void **state) {
    (void)state;
    http_server *s = start(NULL, multipart_routes, 1);
    CURL *easy = curl_easy_init();
    curl_mime *mime = curl_mime_init(easy);
    static const char xml[] = "<definitions id=\"a\"/>";
    static const char bin[] = {'\r', '\n', '-', '-', 0, 'x', '\r', '\n'};
    curl_mimepart *p = curl_mime_addpart(mime);
    curl_mime_name(p, "resources");
    curl_mime_filename(p, "order.bpmn");
    curl_mime_type(p, "application/xml");
    curl_mime_data(p, xml, sizeof xml - 1);
    p = curl_mime_addpart(mime);
    curl_mime_name(p, "resources");
    curl_mime_filename(p, "blob.bin");
    curl_mime_data(p, bin, sizeof bin);
    p = curl_mime_addpart(mime);
    curl_mime_name(p, "tenantId");
    curl_mime_data(p, "acme", CURL_ZERO_TERMINATED);

    req_opts o = {.path = "/v2/deployments", .mime = mime};
    reply r;
    assert_int_equal(request(http_server_port(s), &o, &r), CURLE_OK);
    assert_int_equal(r.status, 200);
    json_t *j = reply_json(&r);
    assert_int_equal(json_array_size(j), 3);
    json_t *a = json_array_get(j, 0), *b = json_array_get(j, 1), *t = json_array_get(j, 2);
    assert_string_equal(jstr(a, "name"), "resources");
    assert_string_equal(jstr(a, "filename"), "order.bpmn");
    assert_string_equal(jstr(a, "type"), "application/xml");
    assert_int_equal(json_integer_value(json_object_get(a, "len")), sizeof xml - 1);
    assert_string_equal(jstr(b, "name"), "resources");
    assert_string_equal(jstr(b, "filename"), "blob.bin");
    assert_string_equal(jstr(b, "hex"), "0d0a2d2d00780d0a"); /* CRLF "--" inside data */
    assert_string_equal(jstr(t, "name"), "tenantId");
    assert_null(jstr(t, "filename"));
    assert_string_equal(jstr(t, "hex"), "61636d65");
    json_decref(j);
    reply_free(&r);
    curl_mime_free(mime);
    curl_easy_cleanup(easy);

    /* Not multipart at all: the handler's 400. */
    o = (req_opts){
        .path = "/v2/deployments", .body = "{}", .len = 2, .content_type = "application/json"};
    assert_int_equal(request(http_server_port(s), &o, &r), CURLE_OK);
    assert_problem(&r, 400, NULL, "/v2/deployments");
    reply_free(&r);
    http_server_stop(s);
}

static int stop_at_first(void *ud, const http_part *p) {
    (void)ud;
    (void)p;
    return 42;
}

static void test_multipart_parser(void **state) {
    (void)state;
    const char *ct = "multipart/form-data; boundary=\"xyz\"";
    /* Preamble, an empty part, quoted file name with an escaped quote,
     * transport padding after a delimiter, an epilogue. */
    const char *ok = "preamble\r\n"
                     "--xyz\r\n"
                     "Content-Disposition: form-data; name=\"empty\"\r\n"
                     "\r\n"
                     "\r\n"
                     "--xyz  \r\n"
                     "content-disposition: form-data; name=\"f\"; filename=\"a \\\"b\\\".txt\"\r\n"
                     "Content-Type: text/plain\r\n"
                     "\r\n"
                     "hi\r\n"
                     "--xyz--\r\nepilogue";
    json_t *parts = json_array();
    bt_error err;
    assert_int_equal(http_multipart_parse(ct, ok, strlen(ok), collect_part, parts, &err), 0);
    assert_int_equal(json_array_size(parts), 2);
    assert_string_equal(jstr(json_array_get(parts, 0), "name"), "empty");
    assert_int_equal(json_integer_value(json_object_get(json_array_get(parts, 0), "len")), 0);
    assert_string_equal(jstr(json_array_get(parts, 1), "filename"), "a \"b\".txt");
    assert_string_equal(jstr(json_array_get(parts, 1), "type"), "text/plain");
    assert_string_equal(jstr(json_array_get(parts, 1), "hex"), "6869");
    json_decref(parts);
    assert_int_equal(http_multipart_parse(ct, ok, strlen(ok), stop_at_first, NULL, &err), 42);

    static const struct {
        const char *ct, *body;
    } bad[] = {
        {"application/json", "--xyz--"},
        {"multipart/form-data", "--xyz--"},
        {"multipart/form-data; boundary=", "--xyz--"},
        {NULL, "--xyz--"},
        {"multipart/form-data; boundary=xyz", "no delimiter at all"},
        {"multipart/form-data; boundary=xyz",
         "--xyz\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nunterminated"},
        {"multipart/form-data; boundary=xyz",
         "--xyz\r\nContent-Type: text/plain\r\n\r\nx\r\n--xyz--"},
        {"multipart/form-data; boundary=xyz",
         "--xyz\r\nContent-Disposition: form-data; name=\"a\r\n\r\nx\r\n--xyz--"},
        {"multipart/form-data; boundary=xyz", "--xyz\r\nno colon here\r\n\r\nx\r\n--xyz--"},
        {"multipart/form-data; boundary=xyz", "--xyzgarbage"},
        {"multipart/form-data; boundary=xyz", "--xyz\r\nContent-Disposition: form-data"},
    };
    for (size_t i = 0; i < BT_ARRAY_LEN(bad); i++) {
        json_t *sink = json_array();
        int rc = http_multipart_parse(bad[i].ct, bad[i].body, strlen(bad[i].body), collect_part,
                                      sink, &err);
        if (rc != BT_EINVAL)
            fail_msg("case %zu: rc %d", i, rc);
        json_decref(sink);
    }
}

/* ---- tests: asynchronous answers ----------------------------------------------------------- */

static const http_route async_routes[] = {
    {"GET", "/async", h_async, "answered by another thread", 0},
    {"GET", "/wait", h_pending, "parked in pending_q", 0},
};

static void test_async_answer(void **state) {
    (void)state;
    http_server *s = start(NULL, async_routes, BT_ARRAY_LEN(async_routes));
    async_n = 0;
    reply r;
    assert_int_equal(get(http_server_port(s), "/async?id=one", &r), 200);
    assert_string_equal(r.content_type, "application/json");
    assert_memory_equal(r.body.data, "{\"async\":true,\"id\":\"one\"}", r.body.len);
    reply_free(&r);
    /* Answered before the handler even returned HTTP_PENDING. */
    assert_int_equal(get(http_server_port(s), "/async?id=two&join=1", &r), 200);
    assert_memory_equal(r.body.data, "{\"async\":true,\"id\":\"two\"}", r.body.len);
    reply_free(&r);
    for (int k = 0; k < async_n; k++) {
        if (async_threads[k])
            pthread_join(async_threads[k], NULL);
        assert_int_equal(async_jobs[k].rc, 0);
    }
    http_server_stop(s);
}

enum { MANY = 200 };

/* Waits until all MANY requests are parked — proof that they are pending
 * together — then answers each with its own id, from this thread. */
static void *answer_all(void *arg) {
    (void)arg;
    pq_wait_items(MANY);
    for (size_t i = 0; i < MANY; i++) {
        char body[64];
        int n = snprintf(body, sizeof body, "{\"i\":\"%s\"}", pq.ids[i]);
        assert_int_equal(http_respond_json(pq.items[i], 200, body, (size_t)n), 0);
    }
    return NULL;
}

static void test_many_pending(void **state) {
    (void)state;
    http_server *s = start(NULL, async_routes, BT_ARRAY_LEN(async_routes));
    pq_reset(true);
    pthread_t responder;
    assert_int_equal(pthread_create(&responder, NULL, answer_all, NULL), 0);

    CURLM *multi = curl_multi_init();
    static client clients[MANY];
    for (int i = 0; i < MANY; i++) {
        char path[64];
        snprintf(path, sizeof path, "/wait?i=%d", i);
        req_opts o = {.path = path};
        client_init(&clients[i], http_server_port(s), &o);
        curl_easy_setopt(clients[i].easy, CURLOPT_PRIVATE, &clients[i]);
        curl_multi_add_handle(multi, clients[i].easy);
    }
    int running = 1, done = 0;
    while (running) {
        assert_int_equal(curl_multi_perform(multi, &running), CURLM_OK);
        CURLMsg *m;
        int left;
        while ((m = curl_multi_info_read(multi, &left)) != NULL) {
            assert_int_equal(m->msg, CURLMSG_DONE);
            assert_int_equal(m->data.result, CURLE_OK);
            done++;
        }
        if (running)
            curl_multi_poll(multi, NULL, 0, 1000, NULL);
    }
    pthread_join(responder, NULL);
    assert_int_equal(done, MANY);
    for (int i = 0; i < MANY; i++) {
        client_done(&clients[i]);
        assert_int_equal(clients[i].r.status, 200);
        char want[64];
        snprintf(want, sizeof want, "{\"i\":\"%d\"}", i);
        assert_int_equal(clients[i].r.body.len, strlen(want));
        assert_memory_equal(clients[i].r.body.data, want, strlen(want));
        curl_multi_remove_handle(multi, clients[i].easy);
        client_free(&clients[i]);
    }
    curl_multi_cleanup(multi);
    assert_int_equal(pq.canceled, 0);
    http_stats st;
    http_server_stats(s, &st);
    assert_int_equal(st.by_class[2], MANY);
    assert_int_equal(st.pending, 0);
    http_server_stop(s);
}

/* Starts GET path through multi and drives it until the handler has parked
 * n exchanges in total. */
static client *start_pending(CURLM *multi, uint16_t port, const char *path, size_t n) {
    client *c = bt_xcalloc(1, sizeof *c);
    req_opts o = {.path = path};
    client_init(c, port, &o);
    curl_multi_add_handle(multi, c->easy);
    while (pq_count() < n) {
        int running;
        assert_int_equal(curl_multi_perform(multi, &running), CURLM_OK);
        assert_int_equal(running, 1);
        curl_multi_poll(multi, NULL, 0, 50, NULL);
    }
    return c;
}

/* The client gives up: the transfer is torn down (connection closed) while
 * the exchange is pending. */
static void abandon(CURLM *multi, client *c) {
    curl_multi_remove_handle(multi, c->easy);
    client_free(c);
    bt_free(c);
}

static void wait_idle(http_server *s) {
    http_stats st;
    for (http_server_stats(s, &st); st.inflight > 0; http_server_stats(s, &st))
        sched_yield();
}

/* A cancel callback that blocks until released, to show that a finishing
 * call on another thread waits for it; and one that finishes ex itself. */
static struct {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool entered, release, finished;
    http_exchange *ex;
    int respond_rc;
    bool finished_seen_by_responder;
} slow = {.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};

static void slow_cancel(http_exchange *ex, void *ud) {
    (void)ud;
    (void)ex;
    pthread_mutex_lock(&slow.lock);
    slow.entered = true;
    pthread_cond_broadcast(&slow.cond);
    while (!slow.release)
        pthread_cond_wait(&slow.cond, &slow.lock);
    slow.finished = true;
    pthread_mutex_unlock(&slow.lock);
}

static void *slow_responder(void *arg) {
    (void)arg;
    slow.respond_rc = http_respond_json(slow.ex, 200, "{}", 2);
    pthread_mutex_lock(&slow.lock);
    slow.finished_seen_by_responder = slow.finished;
    pthread_mutex_unlock(&slow.lock);
    return NULL;
}

static void self_finishing_cancel(http_exchange *ex, void *ud) {
    (void)ud;
    assert_int_equal(http_exchange_drop(ex), BT_ECONFLICT);
    on_cancel(ex, &pq); /* counts; ex is still valid during the callback */
}

static void test_client_gone(void **state) {
    (void)state;
    http_server *s = start(NULL, async_routes, BT_ARRAY_LEN(async_routes));
    uint16_t port = http_server_port(s);
    CURLM *multi = curl_multi_init();

    /* 1. Cancel callback registered by the handler: runs when the client
     *    leaves; the late answer returns BT_ECONFLICT and frees. */
    pq_reset(true);
    client *c = start_pending(multi, port, "/wait?i=a", 1);
    http_stats st; /* the handler parks ex just before the server suspends it */
    for (http_server_stats(s, &st); st.pending != 1; http_server_stats(s, &st))
        sched_yield();
    abandon(multi, c);
    pq_wait_canceled(1);
    assert_ptr_equal(pq.canceled_ex, pq.items[0]);
    assert_true(http_exchange_canceled(pq.items[0]));
    assert_int_equal(http_respond_json(pq.items[0], 200, "{}", 2), BT_ECONFLICT);
    wait_idle(s);
    http_server_stats(s, &st);
    assert_int_equal(st.canceled, 1);
    assert_int_equal(st.pending, 0);

    /* 2. No callback yet when the client leaves: registering it later calls
     *    it at once; the application drops the exchange. */
    pq_reset(false);
    c = start_pending(multi, port, "/wait?i=b", 1);
    abandon(multi, c);
    while (!http_exchange_canceled(pq.items[0]))
        sched_yield();
    http_exchange_set_cancel(pq.items[0], on_cancel, &pq);
    assert_int_equal(pq.canceled, 1);
    assert_int_equal(http_exchange_drop(pq.items[0]), BT_ECONFLICT);

    /* 3. The application drops a live exchange: the connection is closed. */
    pq_reset(true);
    c = start_pending(multi, port, "/wait?i=c", 1);
    assert_int_equal(http_exchange_drop(pq.items[0]), 0);
    int running = 1;
    CURLcode result = CURLE_OK;
    while (running) {
        curl_multi_perform(multi, &running);
        CURLMsg *m;
        int left;
        while ((m = curl_multi_info_read(multi, &left)) != NULL)
            result = m->data.result;
        if (running)
            curl_multi_poll(multi, NULL, 0, 1000, NULL);
    }
    assert_int_equal(result, CURLE_GOT_NOTHING);
    assert_int_equal(pq.canceled, 0); /* the application dropped it: no callback */
    curl_multi_remove_handle(multi, c->easy);
    client_free(c);
    bt_free(c);

    /* 4. A finishing call racing a running callback returns only after the
     *    callback did: the application may free the callback's data then. */
    pq_reset(false);
    c = start_pending(multi, port, "/wait?i=d", 1);
    slow.entered = slow.release = slow.finished = false;
    slow.ex = pq.items[0];
    http_exchange_set_cancel(slow.ex, slow_cancel, NULL);
    abandon(multi, c);
    pthread_mutex_lock(&slow.lock);
    while (!slow.entered)
        pthread_cond_wait(&slow.cond, &slow.lock);
    pthread_mutex_unlock(&slow.lock);
    pthread_t responder;
    pthread_create(&responder, NULL, slow_responder, NULL);
    sched_yield();
    pthread_mutex_lock(&slow.lock);
    slow.release = true;
    pthread_cond_broadcast(&slow.cond);
    pthread_mutex_unlock(&slow.lock);
    pthread_join(responder, NULL);
    assert_int_equal(slow.respond_rc, BT_ECONFLICT);
    assert_true(slow.finished_seen_by_responder);

    /* 5. The callback finishes the exchange itself. */
    pq_reset(false);
    c = start_pending(multi, port, "/wait?i=e", 1);
    http_exchange_set_cancel(pq.items[0], self_finishing_cancel, NULL);
    abandon(multi, c);
    pq_wait_canceled(1);
    wait_idle(s);

    /* The server still answers. */
    reply r;
    async_n = 0;
    assert_int_equal(get(port, "/async?id=after", &r), 200);
    reply_free(&r);
    pthread_join(async_threads[0], NULL);
    curl_multi_cleanup(multi);
    http_server_stop(s);
}

/* ---- tests: stop ----------------------------------------------------------------------------- */

typedef struct blocking_get {
    uint16_t port;
    const char *path;
    reply r;
    CURLcode rc;
} blocking_get;

static void *run_get(void *arg) {
    blocking_get *g = arg;
    req_opts o = {.path = g->path};
    g->rc = request(g->port, &o, &g->r);
    return NULL;
}

static void *run_stop(void *arg) {
    http_server_stop(arg);
    return NULL;
}

static void test_stop_drains(void **state) {
    (void)state;
    http_server *s = start(NULL, async_routes, BT_ARRAY_LEN(async_routes));
    pq_reset(true);
    blocking_get g = {.port = http_server_port(s), .path = "/wait?i=x"};
    pthread_t client_thread, stopper;
    pthread_create(&client_thread, NULL, run_get, &g);
    pq_wait_items(1);
    pthread_create(&stopper, NULL, run_stop, s);
    http_stats st;
    for (http_server_stats(s, &st); !st.draining; http_server_stats(s, &st))
        sched_yield();
    /* Draining: the pending request is still answered normally. */
    assert_int_equal(http_respond_json(pq.items[0], 200, "{\"late\":true}", 13), 0);
    pthread_join(client_thread, NULL);
    pthread_join(stopper, NULL);
    assert_int_equal(g.rc, CURLE_OK);
    assert_int_equal(g.r.status, 200);
    assert_memory_equal(g.r.body.data, "{\"late\":true}", 13);
    assert_int_equal(pq.canceled, 0);
    reply_free(&g.r);
}

static void test_stop_cancels(void **state) {
    (void)state;
    http_config cfg = {.drain_timeout_ms = 1}; /* the application never answers in time */
    http_server *s = start(&cfg, async_routes, BT_ARRAY_LEN(async_routes));
    pq_reset(true);
    blocking_get g = {.port = http_server_port(s), .path = "/wait?i=y"};
    pthread_t client_thread;
    pthread_create(&client_thread, NULL, run_get, &g);
    pq_wait_items(1);
    http_server_stop(s);
    pthread_join(client_thread, NULL);
    assert_int_equal(g.rc, CURLE_OK);
    assert_problem(&g.r, 503, "Service Unavailable", "/wait");
    reply_free(&g.r);
    assert_int_equal(pq.canceled, 1);
    /* The exchange outlives the server until the application lets go. */
    assert_true(http_exchange_canceled(pq.items[0]));
    assert_int_equal(http_respond_json(pq.items[0], 200, "{}", 2), BT_ECONFLICT);
}

/* ---- tests: authentication --------------------------------------------------------------------
 */

static const http_route auth_routes[] = {
    {"GET", "/v2/topology", h_user, "needs credentials", 0},
    {"POST", "/v2/echo", h_echo, "needs credentials", 0},
    {"GET", "/v2/status", h_no_content, "health check", HTTP_ROUTE_PUBLIC},
};

static const char *basic(const char *user_pass, char *out) {
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t n = strlen(user_pass), o = (size_t)sprintf(out, "Basic ");
    const unsigned char *p = (const unsigned char *)user_pass;
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)p[i] << 16 | (i + 1 < n ? (unsigned)p[i + 1] << 8 : 0) |
                     (i + 2 < n ? p[i + 2] : 0);
        out[o++] = tab[v >> 18 & 63];
        out[o++] = tab[v >> 12 & 63];
        out[o++] = i + 1 < n ? tab[v >> 6 & 63] : '=';
        out[o++] = i + 2 < n ? tab[v & 63] : '=';
    }
    out[o] = '\0';
    return out;
}

static long auth_get(uint16_t port, const char *path, const char *authorization, reply *r) {
    req_opts o = {.path = path, .authorization = authorization};
    assert_int_equal(request(port, &o, r), CURLE_OK);
    return r->status;
}

static void assert_challenge(const reply *r, const char *instance) {
    assert_problem(r, 401, "Unauthorized", instance);
    assert_int_equal(r->n_www, 2);
    assert_string_equal(r->www[0], "Basic realm=\"baton\"");
    assert_string_equal(r->www[1], "Bearer realm=\"baton\"");
}

static void test_auth(void **state) {
    (void)state;
    static const http_basic_user users[] = {{"demo", "demo-secret"}, {"ops", "x"}};
    static const char *const tokens[] = {"tok-123"};
    http_config cfg = {
        .basic_users = users, .n_basic_users = 2, .bearer_tokens = tokens, .n_bearer_tokens = 1};
    http_server *s = start(&cfg, auth_routes, BT_ARRAY_LEN(auth_routes));
    uint16_t port = http_server_port(s);
    char hdr[256];
    reply r;

    auth_get(port, "/v2/topology", NULL, &r);
    assert_challenge(&r, "/v2/topology");
    json_t *j = reply_json(&r);
    assert_string_equal(jstr(j, "detail"), "credentials required");
    json_decref(j);
    reply_free(&r);

    assert_int_equal(auth_get(port, "/v2/topology", basic("demo:demo-secret", hdr), &r), 200);
    assert_memory_equal(r.body.data, "demo", 4);
    reply_free(&r);
    assert_int_equal(auth_get(port, "/v2/topology", basic("ops:x", hdr), &r), 200);
    assert_memory_equal(r.body.data, "ops", 3);
    reply_free(&r);

    static const char *const wrong[] = {
        "demo:demo-secreT", "demo:demo-secret2", "demo:",    "demo",
        ":demo-secret",     "ops:demo-secret",   "nobody:x", "demo:x",
    };
    for (size_t i = 0; i < BT_ARRAY_LEN(wrong); i++) {
        auth_get(port, "/v2/topology", basic(wrong[i], hdr), &r);
        assert_challenge(&r, "/v2/topology");
        reply_free(&r);
    }
    static const char *const bad_headers[] = {
        "Basic !!!!",      "Basic",          "Bearer",  "Bearer tok-12",
        "Bearer tok-1234", "Digest tok-123", "tok-123",
    };
    for (size_t i = 0; i < BT_ARRAY_LEN(bad_headers); i++) {
        auth_get(port, "/v2/topology", bad_headers[i], &r);
        assert_challenge(&r, "/v2/topology");
        reply_free(&r);
    }
    assert_int_equal(auth_get(port, "/v2/topology", "Bearer tok-123", &r), 200);
    assert_memory_equal(r.body.data, "-", 1);
    reply_free(&r);
    assert_int_equal(auth_get(port, "/v2/topology", "bearer   tok-123", &r), 200);
    reply_free(&r);

    /* Public route: no credentials needed. */
    assert_int_equal(auth_get(port, "/v2/status", NULL, &r), 204);
    reply_free(&r);
    /* Unknown path: 401 without credentials, 404 with. */
    auth_get(port, "/v2/secret-route", NULL, &r);
    assert_challenge(&r, "/v2/secret-route");
    reply_free(&r);
    assert_int_equal(auth_get(port, "/v2/secret-route", "Bearer tok-123", &r), 404);
    reply_free(&r);
    /* A body sent without credentials is read and discarded; the 401 arrives. */
    req_opts o = {.path = "/v2/echo", .body = "{\"a\":1}", .len = 7};
    assert_int_equal(request(port, &o, &r), CURLE_OK);
    assert_challenge(&r, "/v2/echo");
    reply_free(&r);
    o.authorization = basic("demo:demo-secret", hdr);
    assert_int_equal(request(port, &o, &r), CURLE_OK);
    assert_int_equal(r.status, 200);
    reply_free(&r);
    http_server_stop(s);

    /* Only Basic configured: one challenge. */
    cfg = (http_config){.basic_users = users, .n_basic_users = 1, .realm = "ops"};
    s = start(&cfg, auth_routes, BT_ARRAY_LEN(auth_routes));
    auth_get(http_server_port(s), "/v2/topology", "Bearer tok-123", &r);
    assert_int_equal(r.status, 401);
    assert_int_equal(r.n_www, 1);
    assert_string_equal(r.www[0], "Basic realm=\"ops\"");
    reply_free(&r);
    http_server_stop(s);
}

static void test_auth_equal(void **state) {
    (void)state;
    assert_true(http_auth_equal("secret", 6, "secret", 6));
    assert_true(http_auth_equal("", 0, "", 0));
    assert_true(http_auth_equal(NULL, 0, "", 0));
    assert_false(http_auth_equal("secret", 6, "secreT", 6)); /* last byte */
    assert_false(http_auth_equal("secret", 6, "Secret", 6)); /* first byte */
    assert_false(http_auth_equal("secret", 6, "secret!", 7));
    assert_false(http_auth_equal("secret!", 7, "secret", 6));
    assert_false(http_auth_equal("", 0, "a", 1));
    assert_false(http_auth_equal("a\0", 2, "a", 1)); /* trailing zero bytes still differ */
    assert_false(http_auth_equal("a", 1, "a\0", 2));
    static const unsigned char x[] = {0xff, 0x00, 0x80}, y[] = {0xff, 0x00, 0x81};
    assert_false(http_auth_equal(x, 3, y, 3));
    assert_true(http_auth_equal(x, 3, x, 3));
}

/* ---- tests: static files ------------------------------------------------------------------- */

static char file_root[64];

static int h_file(http_exchange *ex, const http_request *req, void *app) {
    (void)app;
    const char *rel = http_request_param(req, "path");
    http_respond_file(ex, file_root, rel ? rel : "");
    return 0;
}

static const http_route file_routes[] = {
    {"GET", "/ui", h_file, "index.html", 0},
    {"GET", "/ui/{path*}", h_file, "assets", 0},
};

static void write_file(const char *dir, const char *name, const char *text) {
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void test_static_files(void **state) {
    (void)state;
    char outside[64];
    snprintf(file_root, sizeof file_root, "/tmp/baton-http-XXXXXX");
    assert_non_null(mkdtemp(file_root));
    snprintf(outside, sizeof outside, "/tmp/baton-http-out-XXXXXX");
    assert_non_null(mkdtemp(outside));
    write_file(outside, "secret.txt", "secret");
    char sub[128], link[128], target[128];
    snprintf(sub, sizeof sub, "%s/sub", file_root);
    assert_int_equal(mkdir(sub, 0700), 0);
    snprintf(link, sizeof link, "%s/escape.txt", file_root);
    snprintf(target, sizeof target, "%s/secret.txt", outside);
    assert_int_equal(symlink(target, link), 0);
    static const struct {
        const char *name, *type;
    } files[] = {
        {"index.html", "text/html; charset=utf-8"},
        {"app.js", "text/javascript; charset=utf-8"},
        {"style.css", "text/css; charset=utf-8"},
        {"logo.svg", "image/svg+xml"},
        {"logo.png", "image/png"},
        {"data.json", "application/json"},
        {"font.woff2", "font/woff2"},
        {"notes.txt", "application/octet-stream"},
        {"sub/deep.js", "text/javascript; charset=utf-8"},
    };
    for (size_t i = 0; i < BT_ARRAY_LEN(files); i++)
        write_file(file_root, files[i].name, files[i].name);

    http_server *s = start(NULL, file_routes, BT_ARRAY_LEN(file_routes));
    uint16_t port = http_server_port(s);
    reply r;
    for (size_t i = 0; i < BT_ARRAY_LEN(files); i++) {
        char path[128];
        snprintf(path, sizeof path, "/ui/%s", files[i].name);
        assert_int_equal(get(port, path, &r), 200);
        assert_string_equal(r.content_type, files[i].type);
        assert_int_equal(r.body.len, strlen(files[i].name));
        assert_memory_equal(r.body.data, files[i].name, r.body.len);
        reply_free(&r);
    }
    assert_int_equal(get(port, "/ui", &r), 200);
    assert_memory_equal(r.body.data, "index.html", 10);
    reply_free(&r);

    static const struct {
        const char *path;
        long status;
    } refused[] = {
        {"/ui/../etc/passwd", 400},     /* sent as is: the client does not normalise */
        {"/ui/%2e%2e/etc/passwd", 400}, /* decoded to ".." */
        {"/ui/sub/..%2f..%2fx", 400},
        {"/ui/.%2fapp.js", 400},
        {"/ui/escape.txt", 404}, /* a symlink out of the root */
        {"/ui/missing.js", 404},
        {"/ui/sub", 404},   /* a directory */
        {"/ui/a%5cb", 400}, /* backslash */
    };
    for (size_t i = 0; i < BT_ARRAY_LEN(refused); i++) {
        req_opts o = {.path = refused[i].path, .path_as_is = true};
        assert_int_equal(request(port, &o, &r), CURLE_OK);
        if (r.status != refused[i].status)
            fail_msg("%s: %ld", refused[i].path, r.status);
        assert_string_equal(r.content_type, "application/problem+json");
        reply_free(&r);
    }
    http_server_stop(s);

    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s' '%s'", file_root, outside);
    assert_int_equal(system(cmd), 0);
}

/* ---- tests: malformed input on a raw socket ----------------------------------------------------
 */

/* Sends bytes on a fresh connection, half-closes when asked (an incomplete
 * request is otherwise, rightly, waited for), and reads until the server
 * closes. Returns what came back (NUL-terminated, cut to cap). */
static size_t raw_exchange(uint16_t port, const void *data, size_t len, bool half_close, char *out,
                           size_t cap) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    struct timeval guard = {30, 0}; /* only against a hang: never reached when correct */
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &guard, sizeof guard);
    assert_int_equal(send(fd, data, len, MSG_NOSIGNAL), (ssize_t)len);
    if (half_close)
        shutdown(fd, SHUT_WR);
    size_t got = 0;
    for (;;) {
        ssize_t n = recv(fd, out + got, cap - 1 - got, 0);
        if (n <= 0 || got + (size_t)n >= cap - 1) {
            if (n > 0)
                got += (size_t)n;
            if (n < 0 && errno != ECONNRESET)
                fail_msg("recv: %s after %zu bytes: %.*s (sent %.*s)", strerror(errno), got,
                         (int)got, out, (int)len, (const char *)data);
            break;
        }
        got += (size_t)n;
    }
    out[got] = '\0';
    close(fd);
    return got;
}

static void test_malformed_requests(void **state) {
    (void)state;
    /* MHD rightly waits for the rest of some of these: a short idle timeout
     * makes it give up quickly (the test's outcome does not depend on it). */
    http_config cfg = {.connection_timeout_s = 1};
    http_server *s = start(&cfg, routing_routes, BT_ARRAY_LEN(routing_routes));
    uint16_t port = http_server_port(s);
    static const char nul_junk[] = "\x00\x01\x02GET /\x00 HTTP/1.1\r\n\r\n";
    static const struct {
        const char *data;
        size_t len;
    } cases[] = {
        {"GARBAGE\r\n\r\n", 0},
        {"GET /v2/items/1 HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n", 0},
        {"GET /v2/items/1 HTTP/1.1\r\nHost: x\r\nno colon in this header\r\n\r\n", 0},
        {"GET /v2/items/1 HTTP/9.9\r\nHost: x\r\n\r\n", 0},
        {"POST /v2/items/1/parts/2 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
         0},
        {"GET /v2/items/1 HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n\r\n",
         0},
        {nul_junk, sizeof nul_junk - 1},
        {"\r\n\r\n\r\n", 0},
    };
    char out[4096];
    for (size_t i = 0; i < BT_ARRAY_LEN(cases); i++) {
        size_t len = cases[i].len ? cases[i].len : strlen(cases[i].data);
        size_t got = raw_exchange(port, cases[i].data, len, true, out, sizeof out);
        /* Either a 4xx/5xx status line or a plain close; never a 2xx. */
        if (got > 0 && strncmp(out, "HTTP/1.1 2", 10) == 0)
            fail_msg("case %zu answered %.20s", i, out);
        reply r;
        assert_int_equal(get(port, "/v2/items/search", &r), 200);
        reply_free(&r);
    }
    /* A well-formed raw request for comparison. */
    const char *okreq = "GET /v2/items/search HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    raw_exchange(port, okreq, strlen(okreq), false, out, sizeof out);
    assert_memory_equal(out, "HTTP/1.1 200", 12);
    http_server_stop(s);
}

int main(void) {
    curl_global_init(CURL_GLOBAL_DEFAULT);
    bt_log_set_level(BT_LOG_OFF);
    if (getenv("TEST_FILTER") != NULL) /* run some tests only: TEST_FILTER=test_auth* */
        cmocka_set_test_filter(getenv("TEST_FILTER"));
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_routing),
        cmocka_unit_test(test_route_table_errors),
        cmocka_unit_test(test_json_echo),
        cmocka_unit_test(test_body_limit),
        cmocka_unit_test(test_problems),
        cmocka_unit_test(test_multipart_upload),
        cmocka_unit_test(test_multipart_parser),
        cmocka_unit_test(test_async_answer),
        cmocka_unit_test(test_many_pending),
        cmocka_unit_test(test_client_gone),
        cmocka_unit_test(test_stop_drains),
        cmocka_unit_test(test_stop_cancels),
        cmocka_unit_test(test_auth),
        cmocka_unit_test(test_auth_equal),
        cmocka_unit_test(test_static_files),
        cmocka_unit_test(test_malformed_requests),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return failed;
}
