/*
 * loop.h — the runtime loop: one thread owns the engine and the store;
 * everything else talks to it through commands.
 *
 *   HTTP threads ──rt_submit──> queue ──> loop thread:
 *                                           take every queued command (≤ max_batch)
 *                                           apply each to the engine (apply())
 *                                           commit once, with fsync (group commit)
 *                                           answer each (done()), in order
 *                                           fire what is due (eng_tick), retry parked
 *                                           activations, sleep until the next
 *                                           command or due time
 *
 * Acknowledged means durable: done() runs only after the batch's commit
 * returned. If the commit fails, every command of the batch is answered
 * with BT_EIO and the engine is reloaded from the store (crash-only).
 *
 * A command is a function pair over a context the submitter owns:
 *   apply(engine, store, now, ctx, err)
 *                                 on the loop thread, before the commit;
 *                                 the engine call, storing results in ctx.
 *                                 The store is for reads only (history, ended
 *                                 instances); writes go through the engine.
 *                                 Returns 0, a negative BT_E* code (the command
 *                                 failed and changed nothing), or RT_PARK.
 *   done(ctx, rc, err)            on the loop thread, after the commit; answers
 *                                 the client. The submitter frees ctx there.
 * RT_PARK (long polling): the command is kept and apply() is called again
 * after later batches, until it returns something else or its deadline
 * (rt_command.park_until, ms) passes — then done(ctx, RT_TIMEOUT, NULL).
 *
 * Backpressure: the queue holds at most max_queue commands; rt_submit
 * returns BT_EBUSY beyond (the API answers 503 RESOURCE_EXHAUSTED).
 *
 * Thread-safety: rt_submit may be called from any thread. apply/done run on
 * the loop thread only and must not block.
 */
#ifndef BATON_RT_LOOP_H
#define BATON_RT_LOOP_H

#include "engine/engine.h"
#include "runtime/persist.h"

#define RT_PARK    1
#define RT_TIMEOUT 2

typedef struct rt_loop rt_loop;

typedef struct rt_command {
    int (*apply)(eng_engine *e, store *s, int64_t now, void *ctx, bt_error *err);
    void (*done)(void *ctx, int rc, const bt_error *err);
    void *ctx;
    int64_t park_until; /* for RT_PARK: when to give up (ms since the epoch) */
    /* private */
    struct rt_command *next;
    int64_t submitted_ns;
} rt_command;

typedef struct rt_config {
    const char *store; /* store location (see store_open) */
    int max_queue;     /* default 10000 */
    int max_batch;     /* default 1000 */
    bool compensation_all_at_once;
    bool no_sync;
    int64_t (*clock)(void *ud); /* NULL: the system clock */
    void *clock_ud;
    /* Called on the loop thread after each commit that wrote something
     * (NULL: none), e.g. rt_indexer_on_commit to wake the search index's
     * exporter. Must not block: it runs between a commit and its answers. */
    void (*on_commit)(void *ud);
    void *on_commit_ud;
} rt_config;

typedef struct rt_stats {
    uint64_t commands;
    uint64_t batches;
    uint64_t commit_failures;
    uint64_t batch_size_hist[8]; /* 1, 2-3, 4-7, ..., 128+ */
    uint64_t latency_us_hist[12]; /* ≤100µs, ≤250, ≤500, ≤1ms, ≤2.5, ≤5, ≤10, ≤25, ≤50, ≤100, ≤250,
                                     more */
    uint64_t latency_us_sum;
    uint64_t events[RT_EVENT_COUNT]; /* what committed batches did */
    int queued;
    int parked;
} rt_stats;

/* Opens the store, restores the engine and starts the loop thread. */
int rt_loop_start(const rt_config *cfg, rt_loop **out, bt_error *err);
/* Stops accepting (rt_submit answers BT_ECONFLICT from now on), finishes
 * the queued commands (answering them), answers parked ones with
 * RT_TIMEOUT, commits and closes the store. The loop object stays valid for
 * late rt_submit calls until rt_loop_free. Idempotent; NULL allowed. */
void rt_loop_stop(rt_loop *l);
/* Stops (if needed) and frees. No rt_submit may run concurrently. */
void rt_loop_free(rt_loop *l);
/* Queues a command. BT_EBUSY when the queue is full, BT_ECONFLICT when the
 * loop is stopping. The command (and its ctx) must live until done(). */
int rt_submit(rt_loop *l, rt_command *cmd);
void rt_loop_stats(rt_loop *l, rt_stats *out);
/* Description of the store, for the start-up log line. */
const char *rt_loop_store(const rt_loop *l);

#endif
