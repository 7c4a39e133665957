/*
 * http.c — the server: libmicrohttpd (MHD) underneath, exchanges on top.
 *
 * Threads and locks.
 *   - MHD's worker pool calls server_on_request and server_on_completed.
 *   - The watcher thread (server_watch) polls the sockets of suspended
 *     connections, which MHD does not poll, to notice clients that leave.
 *   - Application threads call http_exchange_finish (through http_respond*).
 *   - http_server_stop runs on its caller's thread.
 * Two kinds of mutex: server->lock (in-flight count, the watch list, the
 * stop flags) and exchange->lock (refs, app_holds, suspended, canceled,
 * dropped, answer, cancel callback). Lock order: server before exchange,
 * never the other way. Neither is held while calling MHD_resume_connection
 * or an application callback. MHD_suspend_connection is called with both
 * held; that is safe because MHD takes only its own internal mutex there and
 * never calls back into us under it (checked against MHD 0.9.75).
 *
 * MHD calls the access handler (server_on_request) several times per request:
 *   1. headers in (*req_cls NULL): exchange_new copies the request and
 *      exchange_admit routes, authenticates and checks Content-Length. A body
 *      announced too large is read and discarded, then answered 413 (a
 *      client writing its body before reading gets the answer, not a broken
 *      pipe); with "Expect: 100-continue", or beyond HTTP_DISCARD_MAX, it is
 *      refused at once, unread. Other refusals (401/404/405/400) are stored and
 *      sent after the body has been read and discarded, so clients that send
 *      the body before reading the answer still get it.
 *   2. body chunks: appended to ex->body up to the limit; past it the body
 *      is dropped and the rest discarded (413 at the end). MHD 0.9.75 accepts
 *      a response only with the headers or after the whole body, so a
 *      chunked upload that exceeds the limit is read to its end.
 *   3. body complete: exchange_dispatch runs the handler. If it has not
 *      answered and returned HTTP_PENDING, the connection is suspended and
 *      put on the watch list.
 *   4. after MHD_resume_connection: exchange_continue sends the stored
 *      answer, or closes the connection when there is none (dropped or the
 *      client is gone).
 * server_on_completed runs once per request when MHD is done with it (sent,
 * or the connection failed): it cancels the exchange if the application
 * still holds it unanswered, and drops the connection's reference.
 *
 * The exchange's references: one for the connection (from exchange_new to
 * server_on_completed), one for the application (from dispatch to its one
 * finishing call). Memory goes when both are gone, so an answer that arrives
 * after the client left lands in a live object and is thrown away.
 *
 * Suspension invariant: ex->suspended (under ex->lock) is true exactly while
 * the connection is suspended and nobody has yet decided to resume it.
 * Whoever flips it to false (the finishing call, the watcher, stop) is the
 * one caller of MHD_resume_connection for that suspension, and counts itself
 * in server->resuming until the call returned; stop waits for resuming to be
 * 0 before it tears MHD down. MHD_stop_daemon aborts the process if a
 * connection is still suspended, so stop first cancels every pending exchange
 * and refuses new suspensions (refuse_pending).
 */
#define _GNU_SOURCE /* POLLRDHUP, pipe2 */
#include "server/http_int.h"

/* The largest over-limit body read and discarded before answering 413. */
#define HTTP_DISCARD_MAX (64ull << 20)

#include <microhttpd.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum {
    HTTP_DEFAULT_THREADS = 2,
    HTTP_DEFAULT_MAX_BODY = 4 << 20,
    HTTP_DEFAULT_TIMEOUT_S = 60,
    HTTP_DEFAULT_DRAIN_MS = 10000,
};

struct http_exchange {
    http_request req; /* what the application reads */
    http_arena arena; /* the request's strings */
    http_server *server;
    struct MHD_Connection *conn;
    const http_route_int *route;
    uint64_t serial; /* tells exchanges apart when an address is reused */
    int fd;          /* the connection's socket, for the watcher */

    /* Reception: MHD thread only, before the application sees ex. */
    bt_buf body;
    bool dispatched;
    bool too_large;
    bool sent; /* a response was queued */

    pthread_mutex_t lock; /* guards the fields below */
    int refs;
    bool app_holds;       /* the application owes a finishing call */
    bool suspended;       /* see the suspension invariant above */
    bool canceled;        /* ended by the server side before an answer */
    bool dropped;         /* finished by the application without an answer */
    bool cancel_notified; /* the cancel callback ran, runs, or never will */
    bool cancel_running;  /* the cancel callback is running on cancel_thread */
    pthread_t cancel_thread;
    pthread_cond_t cancel_done; /* signaled when cancel_running drops */
    http_answer *answer;        /* to send; taken by the MHD thread */
    http_cancel_fn cancel_fn;
    void *cancel_ud;

    /* The watch list, guarded by server->lock. */
    bool watched;
    bool watch_fd; /* false once unread data sits on the socket */
    size_t watch_index;
};

struct http_server {
    struct MHD_Daemon *daemon;
    uint16_t port;
    http_route_int *routes;
    size_t n_routes;
    void *app;
    size_t max_body;
    unsigned drain_ms;
    unsigned timeout_s;
    http_auth auth;
    http_log_fn log;
    void *log_ud;

    pthread_mutex_t lock; /* guards the fields below */
    pthread_cond_t cond;  /* signaled when inflight or resuming drops */
    uint64_t inflight;
    atomic_int resuming;
    bool draining;
    bool refuse_pending;
    http_exchange **watch;
    size_t n_watch, cap_watch;
    uint64_t next_serial;
    bool watcher_stop;

    pthread_t watcher;
    int wake[2]; /* pipe: wakes the watcher when the list changes */

    atomic_uint_fast64_t requests;
    atomic_uint_fast64_t by_class[6];
    atomic_uint_fast64_t canceled;
};

/* ---- logging ------------------------------------------------------------------ */

static void server_vlog(http_server *s, bt_log_level level, const char *fmt, va_list ap) {
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    if (s->log != NULL)
        s->log(s->log_ud, level, msg);
    else
        bt_log(level, "%s", msg);
}

__attribute__((format(printf, 3, 4))) static void server_log(http_server *s, bt_log_level level,
                                                             const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    server_vlog(s, level, fmt, ap);
    va_end(ap);
}

static void server_on_mhd_log(void *cls, const char *fmt, va_list ap) {
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    server_log(cls, BT_LOG_WARN, "http: %s", msg);
}

/* ---- the watch list (server->lock held) ------------------------------------------- */

static void watch_add(http_server *s, http_exchange *ex) {
    if (s->n_watch == s->cap_watch) {
        s->cap_watch = s->cap_watch ? s->cap_watch * 2 : 64;
        s->watch = bt_xrealloc(s->watch, s->cap_watch * sizeof *s->watch);
    }
    ex->watch_index = s->n_watch;
    s->watch[s->n_watch++] = ex;
    ex->watched = true;
    ex->watch_fd = ex->fd >= 0;
}

static void watch_remove(http_server *s, http_exchange *ex) {
    if (!ex->watched)
        return;
    http_exchange *last = s->watch[--s->n_watch];
    s->watch[ex->watch_index] = last;
    last->watch_index = ex->watch_index;
    ex->watched = false;
}

static void watch_wake(http_server *s) {
    char c = 1;
    ssize_t n = write(s->wake[1], &c, 1); /* a full pipe is a pending wake already */
    (void)n;
}

/* ---- exchange life cycle ------------------------------------------------------------ */

static void exchange_free(http_exchange *ex) {
    http_answer_free(ex->answer);
    bt_buf_free(&ex->body);
    http_arena_free(&ex->arena);
    pthread_cond_destroy(&ex->cancel_done);
    pthread_mutex_destroy(&ex->lock);
    bt_free(ex);
}

static void exchange_release(http_exchange *ex) {
    pthread_mutex_lock(&ex->lock);
    bool last = --ex->refs == 0;
    pthread_mutex_unlock(&ex->lock);
    if (last)
        exchange_free(ex);
}

/* Waits (ex->lock held) until no cancel callback runs on another thread:
 * after a finishing call or set_cancel returns, the callback is over. On the
 * callback's own thread (the callback finishing ex itself) nothing waits. */
static void exchange_wait_cancel_locked(http_exchange *ex) {
    while (ex->cancel_running && !pthread_equal(ex->cancel_thread, pthread_self()))
        pthread_cond_wait(&ex->cancel_done, &ex->lock);
}

/* Runs the cancel callback (ex->lock held on entry, released on return) if
 * one is set and it has not run and the exchange is not finished. A
 * reference of its own keeps ex alive through the callback, which may
 * finish ex. */
static void exchange_run_cancel_locked(http_exchange *ex) {
    http_cancel_fn fn = ex->cancel_notified ? NULL : ex->cancel_fn;
    void *ud = ex->cancel_ud;
    if (fn == NULL) {
        pthread_mutex_unlock(&ex->lock);
        return;
    }
    ex->cancel_notified = true;
    ex->cancel_running = true;
    ex->cancel_thread = pthread_self();
    ex->refs++;
    pthread_mutex_unlock(&ex->lock);
    fn(ex, ud);
    pthread_mutex_lock(&ex->lock);
    ex->cancel_running = false;
    pthread_cond_broadcast(&ex->cancel_done);
    pthread_mutex_unlock(&ex->lock);
    exchange_release(ex);
}

/* Runs the cancel callback if due. The caller guarantees ex is alive (a
 * reference, or a connection still suspended). */
static void exchange_notify_cancel(http_exchange *ex) {
    pthread_mutex_lock(&ex->lock);
    exchange_run_cancel_locked(ex);
}

/* The second half of a resume decided under ex->lock (suspended flipped to
 * false, resuming counted). ex may be freed as soon as MHD has it back. */
static void exchange_resume(http_server *s, http_exchange *ex) {
    struct MHD_Connection *conn = ex->conn;
    pthread_mutex_lock(&s->lock);
    watch_remove(s, ex);
    pthread_mutex_unlock(&s->lock);
    MHD_resume_connection(conn);
    pthread_mutex_lock(&s->lock);
    atomic_fetch_sub(&s->resuming, 1);
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->lock);
}

/* Cancels a pending exchange found on the watch list: server->lock held.
 * Returns true when the caller must now notify and resume it. */
static bool exchange_cancel_locked(http_server *s, http_exchange *ex, http_answer *answer) {
    pthread_mutex_lock(&ex->lock);
    bool cancel = ex->suspended && ex->answer == NULL && !ex->dropped && !ex->canceled;
    if (cancel) {
        ex->canceled = true;
        ex->suspended = false;
        ex->answer = answer;
        answer = NULL;
        atomic_fetch_add(&s->resuming, 1);
        watch_remove(s, ex);
    }
    pthread_mutex_unlock(&ex->lock);
    http_answer_free(answer);
    return cancel;
}

int http_exchange_finish(http_exchange *ex, http_answer *a) {
    http_server *s = ex->server;
    pthread_mutex_lock(&ex->lock);
    if (!ex->app_holds) { /* a second finishing call: a contract violation */
        pthread_mutex_unlock(&ex->lock);
        http_answer_free(a);
        return BT_EINVAL;
    }
    ex->app_holds = false;
    if (ex->canceled) {
        ex->cancel_notified = true; /* not run yet: it never will */
        exchange_wait_cancel_locked(ex);
        pthread_mutex_unlock(&ex->lock);
        http_answer_free(a);
        exchange_release(ex);
        return BT_ECONFLICT;
    }
    if (a != NULL)
        ex->answer = a;
    else
        ex->dropped = true;
    ex->cancel_notified = true; /* finished: no cancel callback any more */
    bool resume = ex->suspended;
    ex->suspended = false;
    if (resume)
        atomic_fetch_add(&s->resuming, 1);
    pthread_mutex_unlock(&ex->lock);
    if (resume)
        exchange_resume(s, ex);
    exchange_release(ex);
    return 0;
}

int http_exchange_drop(http_exchange *ex) {
    return http_exchange_finish(ex, NULL);
}

void http_exchange_set_cancel(http_exchange *ex, http_cancel_fn fn, void *ud) {
    pthread_mutex_lock(&ex->lock);
    exchange_wait_cancel_locked(ex); /* the old callback is over */
    ex->cancel_fn = fn;
    ex->cancel_ud = ud;
    if (ex->canceled)
        exchange_run_cancel_locked(ex); /* canceled already: run it now */
    else
        pthread_mutex_unlock(&ex->lock);
}

bool http_exchange_canceled(http_exchange *ex) {
    pthread_mutex_lock(&ex->lock);
    bool canceled = ex->canceled;
    pthread_mutex_unlock(&ex->lock);
    return canceled;
}

const http_request *http_exchange_request(const http_exchange *ex) {
    return &ex->req;
}

/* ---- request reception (MHD threads) ------------------------------------------------- */

typedef struct copy_ctx {
    http_exchange *ex;
    http_header *items;
    size_t n, cap;
    bool decode;
    bool bad;
} copy_ctx;

static enum MHD_Result copy_value(void *cls, enum MHD_ValueKind kind, const char *key,
                                  const char *value) {
    (void)kind;
    copy_ctx *c = cls;
    if (c->n == c->cap)
        return MHD_NO;
    http_header *h = &c->items[c->n];
    if (value == NULL)
        value = "";
    if (c->decode) {
        char *k = http_arena_alloc(&c->ex->arena, strlen(key) + 1);
        char *v = http_arena_alloc(&c->ex->arena, strlen(value) + 1);
        if (http_percent_decode(key, strlen(key), true, k) < 0 ||
            http_percent_decode(value, strlen(value), true, v) < 0) {
            c->bad = true;
            return MHD_YES;
        }
        h->name = k;
        h->value = v;
    } else {
        h->name = http_arena_strndup(&c->ex->arena, key, strlen(key));
        h->value = http_arena_strndup(&c->ex->arena, value, strlen(value));
    }
    c->n++;
    return MHD_YES;
}

/* Copies one kind of MHD values (headers or query arguments) into the arena.
 * Returns false when decoding failed. */
static bool exchange_copy_values(http_exchange *ex, enum MHD_ValueKind kind, bool decode,
                                 http_header **items, size_t *n) {
    int count = MHD_get_connection_values(ex->conn, kind, NULL, NULL);
    copy_ctx c = {ex, NULL, 0, count > 0 ? (size_t)count : 0, decode, false};
    c.items = http_arena_alloc(&ex->arena, (c.cap ? c.cap : 1) * sizeof *c.items);
    if (c.cap > 0)
        MHD_get_connection_values(ex->conn, kind, copy_value, &c);
    *items = c.items;
    *n = c.n;
    return !c.bad;
}

static http_exchange *exchange_new(http_server *s, struct MHD_Connection *conn, const char *url,
                                   const char *method, bool *bad_query) {
    http_exchange *ex = bt_xcalloc(1, sizeof *ex);
    pthread_mutex_init(&ex->lock, NULL);
    pthread_cond_init(&ex->cancel_done, NULL);
    ex->refs = 1; /* the connection's */
    ex->server = s;
    ex->conn = conn;
    ex->body = (bt_buf)BT_BUF_INIT;
    ex->req.method = http_arena_strndup(&ex->arena, method, strlen(method));
    ex->req.path = http_arena_strndup(&ex->arena, url, strlen(url));
    ex->req.body = "";
    exchange_copy_values(ex, MHD_HEADER_KIND, false, &ex->req.headers, &ex->req.n_headers);
    *bad_query =
        !exchange_copy_values(ex, MHD_GET_ARGUMENT_KIND, true, &ex->req.query, &ex->req.n_query);
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    ex->fd = ci != NULL ? (int)ci->connect_fd : -1;
    pthread_mutex_lock(&s->lock);
    ex->serial = ++s->next_serial;
    s->inflight++;
    pthread_mutex_unlock(&s->lock);
    return ex;
}

/* Decides what the server answers on its own, from the headers alone.
 * Returns true when the answer must go out before the body is read. */
static bool exchange_admit(http_exchange *ex, bool bad_query) {
    http_server *s = ex->server;
    const char *path = ex->req.path;
    char allow[128];
    int match = http_request_route(&ex->req, &ex->arena, s->routes, s->n_routes, &ex->route, allow,
                                   sizeof allow);
    bool public_route = match == HTTP_ROUTE_FOUND && (ex->route->row->flags & HTTP_ROUTE_PUBLIC);
    const char *cl = http_request_header(&ex->req, "Content-Length");
    unsigned long long length = 0;
    if (cl != NULL) {
        char *end;
        errno = 0;
        length = strtoull(cl, &end, 10);
        if (errno != 0 || end == cl)
            length = ULLONG_MAX;
    }
    bool too_large = length > s->max_body;
    /* A body announced too large is still read (and discarded) up to
     * HTTP_DISCARD_MAX, so a client that writes it before reading gets the
     * 413 instead of a broken pipe; beyond that it is refused unread. */
    const char *expect = http_request_header(&ex->req, "Expect");
    bool refuse_now = length > HTTP_DISCARD_MAX ||
                      (too_large && expect && strcasecmp(expect, "100-continue") == 0);

    if (http_auth_enabled(&s->auth) && !public_route) {
        const char *authz = http_request_header(&ex->req, "Authorization");
        if (!http_auth_check(&s->auth, authz, &ex->arena, &ex->req.user)) {
            ex->answer = http_auth_challenge(&s->auth, path, authz != NULL);
            return refuse_now;
        }
    }
    if (match == HTTP_ROUTE_BAD_PATH || bad_query) {
        ex->answer =
            http_answer_problem(400, NULL, "malformed percent-encoding in the URL", path, NULL, 0);
    } else if (match == HTTP_ROUTE_NO_PATH) {
        ex->answer = http_answer_problem(404, NULL, "no resource at this path", path, NULL, 0);
    } else if (match == HTTP_ROUTE_NO_METHOD) {
        http_header h = {"Allow", allow};
        char detail[192];
        snprintf(detail, sizeof detail, "method %s not allowed here; allowed: %s", ex->req.method,
                 allow);
        ex->answer = http_answer_problem(405, NULL, detail, path, &h, 1);
    } else if (too_large && refuse_now) {
        char detail[96];
        snprintf(detail, sizeof detail, "request body exceeds %zu bytes", s->max_body);
        ex->answer = http_answer_problem(413, NULL, detail, path, NULL, 0);
    } else if (too_large) {
        ex->too_large = true; /* discard the body; exchange_dispatch answers 413 */
    } else if (length > 0) {
        bt_buf_reserve(&ex->body, (size_t)length); /* a failure shows at dispatch */
    }
    return refuse_now;
}

static void exchange_take_body(http_exchange *ex, const char *data, size_t n) {
    if (ex->answer != NULL || ex->too_large)
        return; /* refused already: discard */
    if (n > ex->server->max_body - ex->body.len) {
        ex->too_large = true;
        bt_buf_free(&ex->body);
        return;
    }
    bt_buf_append(&ex->body, data, n);
}

/* Queues answer a (taken from the exchange) on the connection. */
static enum MHD_Result exchange_queue(http_exchange *ex, http_answer *a) {
    http_server *s = ex->server;
    struct MHD_Response *r;
    if (a->len > 0)
        r = MHD_create_response_from_buffer_with_free_callback(a->len, a->body, bt_free);
    else
        r = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
    if (r == NULL) {
        server_log(s, BT_LOG_ERROR, "http: cannot create a response");
        http_answer_free(a);
        return MHD_NO;
    }
    if (a->len > 0)
        a->body = NULL; /* MHD frees it */
    for (size_t i = 0; i < a->n_headers; i++)
        if (MHD_add_response_header(r, a->headers[i].name, a->headers[i].value) != MHD_YES)
            server_log(s, BT_LOG_WARN, "http: header %s refused", a->headers[i].name);
    enum MHD_Result ret = MHD_queue_response(ex->conn, (unsigned)a->status, r);
    MHD_destroy_response(r);
    if (ret == MHD_YES) {
        ex->sent = true;
        atomic_fetch_add(&s->by_class[a->status / 100], 1);
    }
    server_log(s, BT_LOG_DEBUG, "http: %s %s -> %d", ex->req.method, ex->req.path, a->status);
    http_answer_free(a);
    return ret;
}

/* Sends the stored answer, or closes the connection when there is none. */
static enum MHD_Result exchange_continue(http_exchange *ex) {
    pthread_mutex_lock(&ex->lock);
    http_answer *a = ex->answer;
    ex->answer = NULL;
    pthread_mutex_unlock(&ex->lock);
    return a != NULL ? exchange_queue(ex, a) : MHD_NO;
}

static enum MHD_Result exchange_dispatch(http_exchange *ex) {
    http_server *s = ex->server;
    ex->dispatched = true;
    if (ex->answer == NULL && ex->too_large) {
        char detail[96];
        snprintf(detail, sizeof detail, "request body exceeds %zu bytes", s->max_body);
        ex->answer = http_answer_problem(413, NULL, detail, ex->req.path, NULL, 0);
    } else if (ex->answer == NULL && ex->body.failed) {
        ex->answer = http_answer_problem(503, "RESOURCE_EXHAUSTED", "out of memory for the body",
                                         ex->req.path, NULL, 0);
    }
    if (ex->answer != NULL)
        return exchange_continue(ex);
    ex->req.body = ex->body.data != NULL ? ex->body.data : "";
    ex->req.body_len = ex->body.len;

    pthread_mutex_lock(&ex->lock);
    ex->app_holds = true;
    ex->refs++; /* the application's */
    pthread_mutex_unlock(&ex->lock);
    int rc = ex->route->row->handler(ex, &ex->req, s->app);

    if (rc != HTTP_PENDING) {
        pthread_mutex_lock(&ex->lock);
        bool unanswered = ex->app_holds;
        if (unanswered) { /* the handler neither answered nor kept ex */
            const char *title = "INTERNAL_ERROR";
            int status = rc < 0 ? http_status_for_error(rc, &title) : 500;
            const char *detail = rc < 0 ? bt_strerror(rc) : "the handler did not answer";
            ex->app_holds = false;
            ex->refs--; /* the connection's reference remains */
            ex->cancel_notified = true;
            ex->answer = http_answer_problem(status, title, detail, ex->req.path, NULL, 0);
        }
        pthread_mutex_unlock(&ex->lock);
        if (unanswered && rc >= 0)
            server_log(s, BT_LOG_ERROR, "http: %s %s: handler returned %d without answering",
                       ex->req.method, ex->req.path, rc);
        return exchange_continue(ex);
    }

    pthread_mutex_lock(&s->lock);
    pthread_mutex_lock(&ex->lock);
    if (ex->answer != NULL || ex->dropped) { /* answered already, from another thread */
        pthread_mutex_unlock(&ex->lock);
        pthread_mutex_unlock(&s->lock);
        return exchange_continue(ex);
    }
    if (s->refuse_pending) { /* stopping: no new suspensions */
        ex->canceled = true;
        ex->answer =
            http_answer_problem(503, NULL, "the server is shutting down", ex->req.path, NULL, 0);
        pthread_mutex_unlock(&ex->lock);
        pthread_mutex_unlock(&s->lock);
        exchange_notify_cancel(ex);
        return exchange_continue(ex);
    }
    MHD_suspend_connection(ex->conn);
    ex->suspended = true;
    watch_add(s, ex);
    pthread_mutex_unlock(&ex->lock);
    pthread_mutex_unlock(&s->lock);
    watch_wake(s);
    return MHD_YES;
}

static enum MHD_Result server_on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                         const char *method, const char *version,
                                         const char *upload_data, size_t *upload_data_size,
                                         void **req_cls) {
    (void)version;
    http_server *s = cls;
    http_exchange *ex = *req_cls;
    if (ex == NULL) {
        bool bad_query;
        ex = exchange_new(s, conn, url, method, &bad_query);
        *req_cls = ex;
        if (exchange_admit(ex, bad_query)) {
            ex->dispatched = true; /* answered from the headers: MHD skips the body */
            return exchange_continue(ex);
        }
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        exchange_take_body(ex, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (!ex->dispatched)
        return exchange_dispatch(ex);
    return exchange_continue(ex);
}

static void server_on_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
                                enum MHD_RequestTerminationCode toe) {
    (void)conn;
    (void)toe;
    http_server *s = cls;
    http_exchange *ex = *req_cls;
    if (ex == NULL)
        return;
    *req_cls = NULL;
    atomic_fetch_add(&s->requests, 1); /* counted before inflight drops: stats stay consistent */
    if (!ex->sent)
        atomic_fetch_add(&s->canceled, 1);
    pthread_mutex_lock(&s->lock);
    watch_remove(s, ex);
    pthread_mutex_lock(&ex->lock);
    bool cancel = ex->app_holds && !ex->canceled;
    if (cancel)
        ex->canceled = true;
    ex->suspended = false;
    pthread_mutex_unlock(&ex->lock);
    s->inflight--;
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->lock);
    if (cancel)
        exchange_notify_cancel(ex);
    exchange_release(ex);
}

/* MHD would percent-decode the path before we split it; we split first. */
static size_t server_unescape_none(void *cls, struct MHD_Connection *c, char *s) {
    (void)cls;
    (void)c;
    return strlen(s);
}

/* ---- the watcher ------------------------------------------------------------------------ */

enum { WATCH_NOTHING, WATCH_GONE, WATCH_DATA };

static int watch_classify(const struct pollfd *p) {
    if (p->revents & (POLLERR | POLLHUP | POLLRDHUP))
        return WATCH_GONE;
    if (!(p->revents & POLLIN))
        return WATCH_NOTHING;
    char c;
    ssize_t n = recv(p->fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n == 0)
        return WATCH_GONE;
    if (n > 0)
        return WATCH_DATA; /* a pipelined request: not a disconnect */
    return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? WATCH_NOTHING : WATCH_GONE;
}

static bool watch_contains(const http_server *s, const http_exchange *ex) {
    for (size_t i = 0; i < s->n_watch; i++)
        if (s->watch[i] == ex)
            return true;
    return false;
}

/* The watcher thread: polls the sockets of suspended connections and cancels
 * the exchanges whose clients went away. */
static void *server_watch(void *arg) {
    http_server *s = arg;
    struct pollfd *fds = NULL;
    http_exchange **who = NULL;
    uint64_t *serials = NULL;
    size_t cap = 0;
    pthread_mutex_lock(&s->lock);
    while (!s->watcher_stop) {
        if (cap < s->n_watch + 1) {
            cap = (s->n_watch + 1) * 2;
            fds = bt_xrealloc(fds, cap * sizeof *fds);
            who = bt_xrealloc(who, cap * sizeof *who);
            serials = bt_xrealloc(serials, cap * sizeof *serials);
        }
        size_t n = 1;
        fds[0] = (struct pollfd){.fd = s->wake[0], .events = POLLIN};
        for (size_t i = 0; i < s->n_watch; i++) {
            http_exchange *ex = s->watch[i];
            if (!ex->watch_fd)
                continue;
            fds[n] = (struct pollfd){.fd = ex->fd, .events = POLLIN | POLLRDHUP};
            who[n] = ex;
            serials[n] = ex->serial;
            n++;
        }
        pthread_mutex_unlock(&s->lock);
        int ready = poll(fds, (nfds_t)n, -1);
        if (ready < 0 && errno != EINTR)
            server_log(s, BT_LOG_ERROR, "http: watcher poll: %s", strerror(errno));
        if (ready > 0 && fds[0].revents) {
            char buf[64];
            while (read(s->wake[0], buf, sizeof buf) > 0) {
            }
        }
        size_t n_gone = 0; /* reuse who[] for the canceled ones: j >= n_gone */
        pthread_mutex_lock(&s->lock);
        for (size_t j = 1; ready > 0 && j < n; j++) {
            http_exchange *ex = who[j];
            if (fds[j].revents == 0 || !watch_contains(s, ex) || ex->serial != serials[j])
                continue; /* answered meanwhile: the fd may belong to someone else */
            int what = watch_classify(&fds[j]);
            if (what == WATCH_DATA)
                ex->watch_fd = false;
            else if (what == WATCH_GONE && exchange_cancel_locked(s, ex, NULL))
                who[n_gone++] = ex;
        }
        pthread_mutex_unlock(&s->lock);
        for (size_t k = 0; k < n_gone; k++) {
            http_exchange *ex = who[k];
            struct MHD_Connection *conn = ex->conn;
            exchange_notify_cancel(ex); /* before the resume: ex is alive */
            MHD_resume_connection(conn);
            pthread_mutex_lock(&s->lock);
            atomic_fetch_sub(&s->resuming, 1);
            pthread_cond_broadcast(&s->cond);
            pthread_mutex_unlock(&s->lock);
        }
        pthread_mutex_lock(&s->lock);
    }
    pthread_mutex_unlock(&s->lock);
    bt_free(fds);
    bt_free(who);
    bt_free(serials);
    return NULL;
}

/* ---- start, stop, stats ------------------------------------------------------------------ */

static void server_free(http_server *s) {
    http_routes_free(s->routes, s->n_routes);
    http_auth_free(&s->auth);
    bt_free(s->watch);
    if (s->wake[0] >= 0)
        close(s->wake[0]);
    if (s->wake[1] >= 0)
        close(s->wake[1]);
    pthread_cond_destroy(&s->cond);
    pthread_mutex_destroy(&s->lock);
    bt_free(s);
}

static int server_sockaddr(const char *address, uint16_t port, struct sockaddr_storage *ss,
                           bool *ipv6) {
    memset(ss, 0, sizeof *ss);
    struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
    *ipv6 = false;
    if (inet_pton(AF_INET, address, &in4->sin_addr) == 1) {
        in4->sin_family = AF_INET;
        in4->sin_port = htons(port);
        return 0;
    }
    if (inet_pton(AF_INET6, address, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons(port);
        *ipv6 = true;
        return 0;
    }
    return BT_EINVAL;
}

int http_server_start(const http_config *cfg, const http_route *routes, size_t n_routes, void *app,
                      http_server **out, bt_error *err) {
    static const http_config defaults;
    *out = NULL;
    if (cfg == NULL)
        cfg = &defaults;
    const char *address = cfg->bind_address ? cfg->bind_address : "127.0.0.1";
    struct sockaddr_storage ss;
    bool ipv6;
    if (server_sockaddr(address, cfg->port, &ss, &ipv6) < 0)
        return bt_error_set(err, BT_EINVAL, "http: bind address %s is not an IP address", address);

    http_server *s = bt_xcalloc(1, sizeof *s);
    s->wake[0] = s->wake[1] = -1;
    pthread_mutex_init(&s->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->cond, &ca);
    pthread_condattr_destroy(&ca);
    http_auth_init(&s->auth, cfg);
    int rc = http_routes_compile(routes, n_routes, &s->routes, err);
    if (rc < 0) {
        server_free(s);
        return rc;
    }
    s->n_routes = n_routes;
    s->app = app;
    s->max_body = cfg->max_body_bytes ? cfg->max_body_bytes : HTTP_DEFAULT_MAX_BODY;
    s->drain_ms = cfg->drain_timeout_ms ? cfg->drain_timeout_ms : HTTP_DEFAULT_DRAIN_MS;
    s->log = cfg->log;
    s->log_ud = cfg->log_ud;
    if (pipe2(s->wake, O_CLOEXEC | O_NONBLOCK) != 0) {
        s->wake[0] = s->wake[1] = -1;
        server_free(s);
        return bt_error_set(err, BT_EIO, "http: pipe: %s", strerror(errno));
    }

    unsigned threads = cfg->threads ? cfg->threads : HTTP_DEFAULT_THREADS;
    unsigned timeout =
        cfg->connection_timeout_s ? cfg->connection_timeout_s : HTTP_DEFAULT_TIMEOUT_S;
    s->timeout_s = timeout;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
    /* poll(), not epoll: libmicrohttpd 0.9.75 can abort in MHD_quiesce_daemon
     * when a pool worker has already dropped the listening socket from its
     * epoll set ("Failed to remove listen FD from epoll set"); poll has no
     * such set to get out of step, and at a few hundred connections per
     * worker it costs nothing measurable. */
    flags |= MHD_USE_POLL;
    if (ipv6)
        flags |= MHD_USE_IPv6;
    struct MHD_OptionItem opts[] = {
        {MHD_OPTION_SOCK_ADDR, 0, &ss},
        {MHD_OPTION_CONNECTION_TIMEOUT, timeout, NULL},
        {MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)server_on_completed, s},
        {MHD_OPTION_UNESCAPE_CALLBACK, (intptr_t)server_unescape_none, s},
        {threads > 1 ? MHD_OPTION_THREAD_POOL_SIZE : MHD_OPTION_END, threads, NULL},
        {MHD_OPTION_END, 0, NULL},
    };
    errno = 0;
    /* The logger first: MHD wants it before any option that may log. */
    s->daemon = MHD_start_daemon(flags, cfg->port, NULL, NULL, server_on_request, s,
                                 MHD_OPTION_EXTERNAL_LOGGER, server_on_mhd_log, s, MHD_OPTION_ARRAY,
                                 opts, MHD_OPTION_END);
    if (s->daemon == NULL) {
        int e = errno;
        server_free(s);
        return bt_error_set(err, BT_EIO, "http: cannot listen on %s port %u: %s", address,
                            (unsigned)cfg->port, e ? strerror(e) : "MHD refused to start");
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
    s->port = info != NULL ? info->port : cfg->port;
    if (pthread_create(&s->watcher, NULL, server_watch, s) != 0) {
        MHD_stop_daemon(s->daemon);
        server_free(s);
        return bt_error_set(err, BT_EIO, "http: cannot start the watcher thread");
    }
    server_log(s, BT_LOG_INFO, "http: listening on %s port %u (%u threads, %zu routes)", address,
               (unsigned)s->port, threads, n_routes);
    *out = s;
    return 0;
}

uint16_t http_server_port(const http_server *s) {
    return s->port;
}

/* Waits on s->cond (s->lock held) until *count is 0 or the deadline passes. */
static void server_wait_zero(http_server *s, const uint64_t *count, const struct timespec *until) {
    while (*count > 0) {
        if (pthread_cond_timedwait(&s->cond, &s->lock, until) == ETIMEDOUT)
            return;
    }
}

static struct timespec deadline_after(unsigned ms) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    t.tv_sec += ms / 1000;
    t.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (t.tv_nsec >= 1000000000L) {
        t.tv_sec++;
        t.tv_nsec -= 1000000000L;
    }
    return t;
}

void http_server_stop(http_server *s) {
    if (s == NULL)
        return;
    pthread_mutex_lock(&s->lock);
    s->draining = true;
    pthread_mutex_unlock(&s->lock);
    MHD_socket listen_fd = MHD_quiesce_daemon(s->daemon); /* no new connections */

    /* 1. Let requests in flight finish, pending ones included. */
    struct timespec until = deadline_after(s->drain_ms);
    pthread_mutex_lock(&s->lock);
    server_wait_zero(s, &s->inflight, &until);

    /* 2. Cancel what is still pending (503 to the client); no new pending. */
    s->refuse_pending = true;
    size_t n_canceled = 0;
    http_exchange **canceled = bt_xcalloc(s->n_watch ? s->n_watch : 1, sizeof *canceled);
    for (size_t i = s->n_watch; i-- > 0;) {
        http_exchange *ex = s->watch[i];
        http_answer *a =
            http_answer_problem(503, NULL, "the server is shutting down", ex->req.path, NULL, 0);
        if (exchange_cancel_locked(s, ex, a))
            canceled[n_canceled++] = ex;
    }
    pthread_mutex_unlock(&s->lock);
    for (size_t i = 0; i < n_canceled; i++) {
        struct MHD_Connection *conn = canceled[i]->conn;
        exchange_notify_cancel(canceled[i]);
        MHD_resume_connection(conn);
        pthread_mutex_lock(&s->lock);
        atomic_fetch_sub(&s->resuming, 1);
        pthread_cond_broadcast(&s->cond);
        pthread_mutex_unlock(&s->lock);
    }
    bt_free(canceled);
    if (n_canceled > 0)
        server_log(s, BT_LOG_WARN, "http: stop: %zu pending requests canceled", n_canceled);

    /* 3. Every decided resume has reached MHD. The answers decided by now
     * (the 503s included) are sent: that depends on the clients reading
     * them, which MHD bounds by the connection timeout, and so do we. */
    pthread_mutex_lock(&s->lock);
    while (atomic_load(&s->resuming) > 0)
        pthread_cond_wait(&s->cond, &s->lock);
    until = deadline_after(s->timeout_s * 1000u);
    server_wait_zero(s, &s->inflight, &until);
    s->watcher_stop = true;
    pthread_mutex_unlock(&s->lock);
    watch_wake(s);
    pthread_join(s->watcher, NULL);

    /* 4. Close everything; server_on_completed runs for what is left. */
    MHD_stop_daemon(s->daemon);
    if (listen_fd != MHD_INVALID_SOCKET)
        close(listen_fd);
    server_log(s, BT_LOG_INFO, "http: stopped");
    server_free(s);
}

void http_server_stats(http_server *s, http_stats *out) {
    memset(out, 0, sizeof *out);
    out->requests = atomic_load(&s->requests);
    for (size_t i = 0; i < BT_ARRAY_LEN(out->by_class); i++)
        out->by_class[i] = atomic_load(&s->by_class[i]);
    out->canceled = atomic_load(&s->canceled);
    pthread_mutex_lock(&s->lock);
    out->inflight = s->inflight;
    out->pending = s->n_watch;
    out->draining = s->draining;
    pthread_mutex_unlock(&s->lock);
}
