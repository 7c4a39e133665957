/*
 * cmd_serve.c — `baton serve`: the server. The runtime loop over the store
 * in the data directory, the REST API on HTTP, until SIGTERM or SIGINT.
 *
 *   baton serve [--port 8080] [--bind 127.0.0.1] [--data ./data]
 *               [--log-level info] [--basic USER:PASSWORD]... [--token TOKEN]...
 *               [--web DIR] [--clock-control on|off]
 *
 * Every option is also an environment variable: BATON_PORT, BATON_BIND,
 * BATON_DATA, BATON_LOG_LEVEL, BATON_BASIC (comma-separated USER:PASSWORD
 * pairs), BATON_TOKENS (comma-separated), BATON_WEB and BATON_CLOCK_CONTROL;
 * a flag wins over the variable. --clock-control on lets PUT /v2/clock pin
 * the engine's time (tests and demos of timers and time-to-live). --web is the web UI's directory
 * (served at / and /ui/); without it, the `web` directory next to the baton executable when there
 * is one (a build tree's <build>/web), else no UI. Authentication is off unless credentials are
 * given; serving beyond the loopback without any is allowed but logged as a warning.
 *
 * Searches of jobs, incidents, variables and element instances read the
 * search index <data>/index.db, which an indexer thread feeds from the
 * store's record log after every commit (runtime/indexer.h); it is derived
 * data: a deleted index.db is rebuilt from the log at the next start.
 *
 * Shutdown: SIGTERM or SIGINT stops accepting requests, lets the requests
 * in flight finish (their commands are committed and answered), answers
 * parked long polls, commits and closes the store. SIGKILL loses nothing
 * that was acknowledged: acknowledgements follow durable commits.
 */
#include <errno.h>
#include <stdatomic.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "runtime/indexer.h"
#include "runtime/invoker.h"
#include "runtime/loop.h"
#include "server/api.h"
#include "server/http.h"

#define MAX_CREDENTIALS 32

typedef struct serve_options {
    long port;
    const char *bind;
    const char *data;
    const char *log_level;
    char *basic[MAX_CREDENTIALS]; /* "user:password", split in place */
    int n_basic;
    char *tokens[MAX_CREDENTIALS];
    int n_tokens;
    long max_queue;
    const char *web;
    bool clock_control;
    char web_default[PATH_MAX]; /* <directory of the executable>/web */
} serve_options;

/* --clock-control on: the pinned time (PUT /v2/clock), or 0 for the system
 * clock. */
static _Atomic int64_t pinned_clock;

static int64_t pinned_or_system(void *ud) {
    int64_t at = atomic_load((_Atomic int64_t *)ud);
    return at ? at : bt_clock_now_ms();
}

static int usage(void) {
    fprintf(stderr, "usage: baton serve [--port N] [--bind ADDRESS] [--data DIR] "
                    "[--log-level debug|info|warn|error] [--basic USER:PASSWORD]... "
                    "[--token TOKEN]... [--max-queue N] [--web DIR] [--clock-control on|off]\n");
    return 2;
}

/* Adds the comma-separated items of list (copied) to out. */
static int add_list(const char *list, char **out, int *n) {
    char *copy = bt_xstrdup(list);
    for (char *save = NULL, *item = strtok_r(copy, ",", &save); item;
         item = strtok_r(NULL, ",", &save)) {
        if (*n == MAX_CREDENTIALS) {
            bt_free(copy);
            return -1;
        }
        out[(*n)++] = bt_xstrdup(item);
    }
    bt_free(copy);
    return 0;
}

static int parse_options(int argc, char **argv, serve_options *o) {
    const char *env;
    o->port = (env = getenv("BATON_PORT")) ? strtol(env, NULL, 10) : 8080;
    o->bind = (env = getenv("BATON_BIND")) ? env : "127.0.0.1";
    o->data = (env = getenv("BATON_DATA")) ? env : "./data";
    o->log_level = (env = getenv("BATON_LOG_LEVEL")) ? env : "info";
    o->max_queue = 10000;
    o->web = getenv("BATON_WEB");
    const char *clock_control = getenv("BATON_CLOCK_CONTROL");
    bool flag_basic = false, flag_tokens = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v) {
            fprintf(stderr, "baton serve: %s needs a value\n", a);
            return -1;
        }
        i++;
        if (!strcmp(a, "--port")) {
            char *end;
            o->port = strtol(v, &end, 10);
            if (*end) {
                fprintf(stderr, "baton serve: --port %s is not a number\n", v);
                return -1;
            }
        } else if (!strcmp(a, "--bind")) {
            o->bind = v;
        } else if (!strcmp(a, "--data")) {
            o->data = v;
        } else if (!strcmp(a, "--log-level")) {
            o->log_level = v;
        } else if (!strcmp(a, "--web")) {
            o->web = v;
        } else if (!strcmp(a, "--clock-control")) {
            clock_control = v;
        } else if (!strcmp(a, "--max-queue")) {
            o->max_queue = strtol(v, NULL, 10);
        } else if (!strcmp(a, "--basic")) {
            flag_basic = true;
            if (add_list(v, o->basic, &o->n_basic))
                return -1;
        } else if (!strcmp(a, "--token")) {
            flag_tokens = true;
            if (add_list(v, o->tokens, &o->n_tokens))
                return -1;
        } else {
            fprintf(stderr, "baton serve: unknown option %s\n", a);
            return -1;
        }
    }
    if (!flag_basic && (env = getenv("BATON_BASIC")) && add_list(env, o->basic, &o->n_basic))
        return -1;
    if (!flag_tokens && (env = getenv("BATON_TOKENS")) && add_list(env, o->tokens, &o->n_tokens))
        return -1;
    if (clock_control && strcmp(clock_control, "on") && strcmp(clock_control, "off")) {
        fprintf(stderr, "baton serve: --clock-control wants on or off, not '%s'\n", clock_control);
        return -1;
    }
    o->clock_control = clock_control && !strcmp(clock_control, "on");
    if (o->port < 0 || o->port > 65535) {
        fprintf(stderr, "baton serve: port %ld is out of range\n", o->port);
        return -1;
    }
    if (!o->web) { /* the `web` directory next to the executable, if any */
        char exe[PATH_MAX];
        ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
        char *slash = n > 0 ? (exe[n] = 0, strrchr(exe, '/')) : NULL;
        struct stat st;
        if (slash) {
            *slash = 0;
            snprintf(o->web_default, sizeof o->web_default, "%s/web", exe);
            if (stat(o->web_default, &st) == 0 && S_ISDIR(st.st_mode))
                o->web = o->web_default;
        }
    }
    if (bt_log_level_parse(o->log_level) < 0) {
        fprintf(stderr, "baton serve: unknown log level '%s'\n", o->log_level);
        return -1;
    }
    return 0;
}

static void free_options(serve_options *o) {
    for (int i = 0; i < o->n_basic; i++)
        bt_free(o->basic[i]);
    for (int i = 0; i < o->n_tokens; i++)
        bt_free(o->tokens[i]);
}

static bool is_loopback(const char *addr) {
    return !strcmp(addr, "127.0.0.1") || !strcmp(addr, "::1") || !strncmp(addr, "127.", 4) ||
           !strcmp(addr, "localhost");
}

int cli_cmd_serve(int argc, char **argv) {
    serve_options o = {0};
    if (parse_options(argc, argv, &o)) {
        free_options(&o);
        return usage();
    }
    bt_log_set_level((bt_log_level)bt_log_level_parse(o.log_level));

    /* Signals are taken by sigwait below; every thread started from here on
     * inherits the mask, so none of them is interrupted. */
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);
    signal(SIGPIPE, SIG_IGN);

    if (mkdir(o.data, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "baton serve: cannot create %s: %s\n", o.data, strerror(errno));
        free_options(&o);
        return 1;
    }
    char store_path[PATH_MAX], index_path[PATH_MAX];
    snprintf(store_path, sizeof store_path, "%s/baton.db", o.data);
    snprintf(index_path, sizeof index_path, "%s/index.db", o.data);

    /* The indexer first (it opens the store once the loop has created it),
     * so the loop can wake it after every commit; then the search index's
     * read handle for the API, used on the loop thread. */
    bt_error err = {0};
    rt_indexer *indexer = NULL;
    if (rt_indexer_start(&(rt_indexer_config){.store = store_path, .index = index_path}, &indexer,
                         &err) != BT_OK) {
        fprintf(stderr, "baton serve: %s\n", err.message);
        free_options(&o);
        return 1;
    }
    rt_config rc_cfg = {.store = store_path,
                        .max_queue = (int)o.max_queue,
                        .on_commit = rt_indexer_on_commit,
                        .on_commit_ud = indexer};
    if (o.clock_control) {
        rc_cfg.clock = pinned_or_system;
        rc_cfg.clock_ud = &pinned_clock;
    }
    rt_loop *loop = NULL;
    index_db *search_index = NULL;
    if (rt_loop_start(&rc_cfg, &loop, &err) != BT_OK ||
        index_open(index_path, true, &search_index, &err) != BT_OK) {
        fprintf(stderr, "baton serve: %s\n", err.message);
        rt_loop_free(loop);
        rt_indexer_free(indexer);
        free_options(&o);
        return 1;
    }
    api *a = api_new(loop, &(api_config){.web_root = o.web,
                                         .search_index = search_index,
                                         .pinned_clock = o.clock_control ? &pinned_clock : NULL});
    rt_indexer_set_progress(indexer, api_search_index_progress, a);
    rt_indexer_notify(indexer); /* the store exists now */

    http_basic_user users[MAX_CREDENTIALS];
    for (int i = 0; i < o.n_basic; i++) {
        char *colon = strchr(o.basic[i], ':');
        if (!colon) {
            fprintf(stderr, "baton serve: --basic wants USER:PASSWORD, got '%s'\n", o.basic[i]);
            rt_indexer_free(indexer);
            api_free(a);
            rt_loop_free(loop);
            index_close(search_index);
            free_options(&o);
            return 2;
        }
        *colon = 0;
        users[i] = (http_basic_user){o.basic[i], colon + 1};
    }
    http_config hc = {
        .bind_address = o.bind,
        .port = (uint16_t)o.port,
        .basic_users = users,
        .n_basic_users = (size_t)o.n_basic,
        .bearer_tokens = (const char *const *)o.tokens,
        .n_bearer_tokens = (size_t)o.n_tokens,
    };
    size_t n_routes;
    const http_route *routes = api_routes(&n_routes);
    http_server *http = NULL;
    if (http_server_start(&hc, routes, n_routes, a, &http, &err) != BT_OK) {
        fprintf(stderr, "baton serve: %s\n", err.message);
        rt_indexer_free(indexer);
        api_free(a);
        rt_loop_free(loop);
        index_close(search_index);
        free_options(&o);
        return 1;
    }
    api_set_http(a, http);
    rt_invoker *invoker = NULL;
    if (rt_invoker_start(loop, NULL, &invoker, &err) != BT_OK)
        bt_log(BT_LOG_WARN, "the built-in HTTP invoker is off: %s", err.message);
    bool auth = o.n_basic > 0 || o.n_tokens > 0;
    if (!auth && !is_loopback(o.bind))
        bt_log(BT_LOG_WARN,
               "serving on %s without authentication: anyone who reaches this "
               "address can deploy and run processes (--basic / --token)",
               o.bind);
    bt_log(BT_LOG_INFO, "baton listening on http://%s:%u, store %s, web UI %s, authentication %s",
           o.bind, (unsigned)http_server_port(http), rt_loop_store(loop), o.web ? o.web : "off",
           auth ? (o.n_basic && o.n_tokens ? "basic+bearer"
                   : o.n_basic             ? "basic"
                                           : "bearer")
                : "off");

    int sig = 0;
    sigwait(&stop_signals, &sig);
    bt_log(BT_LOG_INFO, "%s: stopping (finishing requests in flight)",
           sig == SIGTERM ? "SIGTERM" : "SIGINT");
    /* The loop first: it answers queued and parked commands (long polls
     * end now instead of at their timeout) and refuses new ones with 503;
     * then the HTTP server drains quickly, and nothing can reach the loop. */
    rt_loop_stop(loop);
    rt_invoker_stop(invoker); /* requests in flight: their jobs time out and are retried */
    http_server_stop(http);
    /* The indexer after the loop (it may still wake it: rt_submit refuses
     * once the loop stopped); what it has not applied yet is applied from
     * the log at the next start. */
    rt_indexer_free(indexer);
    rt_loop_free(loop);
    api_free(a);
    index_close(search_index);
    free_options(&o);
    bt_log(BT_LOG_INFO, "stopped");
    return 0;
}
