/*
 * loop.c — the runtime loop of loop.h: a queue, one thread, group commit.
 *
 * Each turn: take every queued command (up to max_batch), apply them in
 * order, fire what is due, retry parked commands, commit once, then answer
 * every command whose fate is decided. Answers go out only after the commit,
 * so an acknowledged command is durable; a failed commit answers the whole
 * batch with BT_EIO — outcome unknown: the client must check before
 * retrying — and rebuilds the engine from the reopened store.
 *
 * The thread sleeps on a condition variable until a command arrives or the
 * earliest due time (engine timers, parked deadlines) comes; nothing polls.
 */
#include "runtime/loop.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "runtime/persist.h"

struct rt_loop {
    rt_config cfg;
    store *store;
    eng_engine *engine;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    rt_command *head, *tail;
    int queued;
    bool stopping;
    bool stopped;
    rt_command **parked;
    int n_parked, cap_parked;
    int64_t next_due;  /* engine's next due time */
    int n_parked_seen; /* n_parked as of the last turn, for readers */
    rt_stats stats;
};

static int64_t loop_now(const rt_loop *l) {
    return l->cfg.clock ? l->cfg.clock(l->cfg.clock_ud) : bt_clock_now_ms();
}

static int64_t mono_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void park(rt_loop *l, rt_command *c) {
    if (l->n_parked == l->cap_parked) {
        l->cap_parked = l->cap_parked ? l->cap_parked * 2 : 16;
        l->parked = bt_xrealloc(l->parked, (size_t)l->cap_parked * sizeof *l->parked);
    }
    l->parked[l->n_parked++] = c;
}

typedef struct answer {
    rt_command *cmd;
    int rc;
    bt_error err;
} answer;

static void record_latency(rt_stats *st, const rt_command *c, int64_t now_ns) {
    static const int64_t bounds_us[] = {100,   250,   500,   1000,   2500,  5000,
                                        10000, 25000, 50000, 100000, 250000};
    int64_t us = (now_ns - c->submitted_ns) / 1000;
    size_t i = 0;
    while (i < BT_ARRAY_LEN(bounds_us) && us > bounds_us[i])
        i++;
    st->latency_us_hist[i]++;
    st->latency_us_sum += (uint64_t)(us > 0 ? us : 0);
}

static void record_batch(rt_stats *st, int n) {
    size_t i = 0;
    while (i < 7 && n >= (2 << i))
        i++;
    st->batch_size_hist[i]++;
    st->batches++;
}

/* Adds a turn's figures to the loop's, under the lock (readers take it). */
static void stats_merge(rt_loop *l, const rt_stats *d) {
    pthread_mutex_lock(&l->mu);
    l->stats.commands += d->commands;
    l->stats.batches += d->batches;
    l->stats.commit_failures += d->commit_failures;
    for (size_t i = 0; i < BT_ARRAY_LEN(d->batch_size_hist); i++)
        l->stats.batch_size_hist[i] += d->batch_size_hist[i];
    for (size_t i = 0; i < BT_ARRAY_LEN(d->latency_us_hist); i++)
        l->stats.latency_us_hist[i] += d->latency_us_hist[i];
    l->stats.latency_us_sum += d->latency_us_sum;
    for (size_t i = 0; i < BT_ARRAY_LEN(d->events); i++)
        l->stats.events[i] += d->events[i];
    l->n_parked_seen = l->n_parked;
    pthread_mutex_unlock(&l->mu);
}

/* After a failed commit the batch's outcome is unknown (an fsync that
 * failed may still have put it on disk), so the store is closed and opened
 * again, and the engine rebuilt from what the file holds — the same state a
 * restart would see. */
static void reload(rt_loop *l) {
    eng_config ecfg = {.partition = 1, .compensation_all_at_once = l->cfg.compensation_all_at_once};
    eng_engine *e;
    bt_error err;
    store *fresh = NULL;
    store_options so = {.no_sync = l->cfg.no_sync};
    if (store_open(l->cfg.store, &so, &fresh, &err) != BT_OK) {
        bt_log(BT_LOG_ERROR, "cannot reopen the store: %s", err.message);
        return;
    }
    store_close(l->store);
    l->store = fresh;
    if (rt_engine_load(l->store, &ecfg, &e, &err) != BT_OK) {
        bt_log(BT_LOG_ERROR, "cannot reload the engine from the store: %s", err.message);
        return; /* keep serving from memory; the next commit will tell */
    }
    eng_free(l->engine);
    l->engine = e;
}

/* One turn of the loop with the commands taken from the queue. */
static void run_turn(rt_loop *l, rt_command *batch, int n_batch) {
    int64_t now = loop_now(l);
    int cap = n_batch + l->n_parked + 1;
    answer *ans = bt_xcalloc((size_t)cap, sizeof *ans);
    int n_ans = 0;
    for (rt_command *c = batch; c;) {
        rt_command *next = c->next;
        bt_error err = {0};
        int rc = c->apply(l->engine, l->store, now, c->ctx, &err);
        if (rc == RT_PARK && c->park_until > now)
            park(l, c);
        else
            ans[n_ans++] = (answer){c, rc == RT_PARK ? RT_TIMEOUT : rc, err};
        c = next;
    }
    l->next_due = eng_tick(l->engine, now);
    /* Retry parked commands: new jobs may have appeared. */
    int kept = 0;
    for (int i = 0; i < l->n_parked; i++) {
        rt_command *c = l->parked[i];
        bt_error err = {0};
        int rc = c->apply(l->engine, l->store, now, c->ctx, &err);
        if (rc == RT_PARK && now < c->park_until) {
            l->parked[kept++] = c;
            continue;
        }
        if (n_ans == cap) {
            cap *= 2;
            ans = bt_xrealloc(ans, (size_t)cap * sizeof *ans);
        }
        ans[n_ans++] = (answer){c, rc == RT_PARK ? RT_TIMEOUT : rc, err};
    }
    l->n_parked = kept;

    rt_stats delta = {0};
    bt_error cerr = {0};
    bool wrote = false;
    int crc = rt_engine_commit(l->store, l->engine, &wrote, delta.events, &cerr);
    if (crc == BT_OK && wrote && l->cfg.on_commit)
        l->cfg.on_commit(l->cfg.on_commit_ud);
    if (crc != BT_OK) {
        delta.commit_failures++;
        bt_log(BT_LOG_ERROR, "commit failed: %s", cerr.message);
        reload(l);
        l->next_due = eng_tick(l->engine, now);
    }
    int64_t done_ns = mono_ns();
    for (int i = 0; i < n_ans; i++) {
        answer *a = &ans[i];
        if (crc != BT_OK && a->rc >= 0) {
            a->rc = BT_EIO;
            a->err = cerr;
        }
        record_latency(&delta, a->cmd, done_ns);
        a->cmd->done(a->cmd->ctx, a->rc, &a->err);
    }
    delta.commands = (uint64_t)n_ans;
    if (n_batch > 0)
        record_batch(&delta, n_batch);
    stats_merge(l, &delta);
    bt_free(ans);
}

static int64_t earliest_deadline(const rt_loop *l) {
    int64_t t = l->next_due;
    for (int i = 0; i < l->n_parked; i++)
        if (l->parked[i]->park_until < t)
            t = l->parked[i]->park_until;
    return t;
}

static void *loop_main(void *arg) {
    rt_loop *l = arg;
    pthread_mutex_lock(&l->mu);
    for (;;) {
        while (!l->head && !l->stopping) {
            int64_t due = earliest_deadline(l);
            if (due == INT64_MAX) {
                pthread_cond_wait(&l->cv, &l->mu);
                continue;
            }
            int64_t wait_ms = due - loop_now(l);
            if (wait_ms <= 0)
                break;
            /* The condition variable uses the real clock; a test clock is
             * driven by the test, which submits a command to make time pass. */
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_sec += wait_ms / 1000;
            ts.tv_nsec += (wait_ms % 1000) * 1000000;
            if (ts.tv_nsec >= 1000000000) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000;
            }
            if (pthread_cond_timedwait(&l->cv, &l->mu, &ts) != 0)
                break; /* timed out: something is due */
        }
        rt_command *batch = l->head, *last = NULL;
        int n = 0;
        for (rt_command *c = l->head; c && n < l->cfg.max_batch; c = c->next) {
            last = c;
            n++;
        }
        if (last) {
            l->head = last->next;
            if (!l->head)
                l->tail = NULL;
            last->next = NULL;
        } else {
            batch = NULL;
        }
        l->queued -= n;
        bool stop_now = l->stopping && !l->head;
        pthread_mutex_unlock(&l->mu);
        run_turn(l, batch, n);
        pthread_mutex_lock(&l->mu);
        if (stop_now)
            break;
    }
    pthread_mutex_unlock(&l->mu);
    /* Whatever is still parked gives up now. */
    for (int i = 0; i < l->n_parked; i++)
        l->parked[i]->done(l->parked[i]->ctx, RT_TIMEOUT, NULL);
    l->n_parked = 0;
    return NULL;
}

int rt_loop_start(const rt_config *cfg, rt_loop **out, bt_error *err) {
    rt_loop *l = bt_xcalloc(1, sizeof *l);
    l->cfg = *cfg;
    if (l->cfg.max_queue <= 0)
        l->cfg.max_queue = 10000;
    if (l->cfg.max_batch <= 0)
        l->cfg.max_batch = 1000;
    store_options so = {.no_sync = cfg->no_sync};
    int rc = store_open(cfg->store, &so, &l->store, err);
    if (rc == BT_OK) {
        eng_config ecfg = {.partition = 1,
                           .compensation_all_at_once = cfg->compensation_all_at_once};
        rc = rt_engine_load(l->store, &ecfg, &l->engine, err);
    }
    if (rc != BT_OK) {
        store_close(l->store);
        bt_free(l);
        return rc;
    }
    l->next_due = eng_tick(l->engine, loop_now(l));
    pthread_mutex_init(&l->mu, NULL);
    pthread_cond_init(&l->cv, NULL);
    if (pthread_create(&l->thread, NULL, loop_main, l) != 0) {
        eng_free(l->engine);
        store_close(l->store);
        bt_free(l);
        return bt_error_set(err, BT_EIO, "cannot start the loop thread");
    }
    *out = l;
    return BT_OK;
}

void rt_loop_stop(rt_loop *l) {
    if (!l)
        return;
    pthread_mutex_lock(&l->mu);
    if (l->stopped) {
        pthread_mutex_unlock(&l->mu);
        return;
    }
    l->stopping = true;
    pthread_cond_signal(&l->cv);
    pthread_mutex_unlock(&l->mu);
    pthread_join(l->thread, NULL);
    /* A final commit of what the last tick changed. */
    bt_error err;
    if (rt_engine_commit(l->store, l->engine, NULL, NULL, &err) != BT_OK)
        bt_log(BT_LOG_ERROR, "final commit failed: %s", err.message);
    eng_free(l->engine);
    l->engine = NULL;
    store_close(l->store);
    l->store = NULL;
    pthread_mutex_lock(&l->mu);
    l->stopped = true;
    pthread_mutex_unlock(&l->mu);
}

void rt_loop_free(rt_loop *l) {
    if (!l)
        return;
    rt_loop_stop(l);
    pthread_mutex_destroy(&l->mu);
    pthread_cond_destroy(&l->cv);
    bt_free(l->parked);
    bt_free(l);
}

int rt_submit(rt_loop *l, rt_command *cmd) {
    cmd->next = NULL;
    cmd->submitted_ns = mono_ns();
    pthread_mutex_lock(&l->mu);
    if (l->stopping) {
        pthread_mutex_unlock(&l->mu);
        return BT_ECONFLICT;
    }
    if (l->queued >= l->cfg.max_queue) {
        pthread_mutex_unlock(&l->mu);
        return BT_EBUSY;
    }
    if (l->tail)
        l->tail->next = cmd;
    else
        l->head = cmd;
    l->tail = cmd;
    l->queued++;
    pthread_cond_signal(&l->cv);
    pthread_mutex_unlock(&l->mu);
    return BT_OK;
}

void rt_loop_stats(rt_loop *l, rt_stats *out) {
    pthread_mutex_lock(&l->mu);
    *out = l->stats;
    out->queued = l->queued;
    out->parked = l->n_parked_seen;
    pthread_mutex_unlock(&l->mu);
}

const char *rt_loop_store(const rt_loop *l) {
    return l->store ? store_describe(l->store) : "(closed)";
}
