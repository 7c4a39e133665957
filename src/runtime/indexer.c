/*
 * indexer.c — the thread of indexer.h.
 *
 * Each wake-up (a notify, or interval_ms passing) runs a catch-up: while
 * the log has records after the cursor, take up to `batch` of them
 * (store_log_read: position order, bounded work per batch), apply them to
 * the index in one transaction, commit (the cursor is part of it), publish
 * the new position to waiters, and call on_progress. A failed batch is
 * rolled back and tried again at the next wake-up from the committed
 * cursor; the store handle is reopened after a read error.
 *
 * Notifications that arrive during a catch-up set `pending`, so the thread
 * runs another catch-up at once instead of sleeping: no commit is missed.
 */
#include "runtime/indexer.h"

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "store/index.h"
#include "store/store.h"

struct rt_indexer {
    char *store_location;
    size_t batch;
    int64_t interval_ms;
    index_db *index; /* the writer's handle; the thread's own */
    store *store;    /* read-only; opened by the thread */
    store_log_cursor cursor;
    bool store_warned; /* "cannot open the store" logged once */
    pthread_t thread;
    bool started;
    pthread_mutex_t mu;
    pthread_cond_t cv;      /* wakes the thread */
    pthread_cond_t applied; /* wakes rt_indexer_wait */
    bool pending;           /* a notify since the last catch-up started */
    bool stopping;
    _Atomic uint64_t position;   /* committed to the index */
    pthread_mutex_t progress_mu; /* guards the callback while it runs */
    void (*on_progress)(void *ud);
    void *on_progress_ud;
};

static void deadline_after(struct timespec *ts, int64_t ms) {
    clock_gettime(CLOCK_REALTIME, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (ms % 1000) * 1000000;
    if (ts->tv_nsec >= 1000000000) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000;
    }
}

static int apply_record(void *ud, const store_record *r) {
    return index_apply(ud, r);
}

/* Opens the read-only store handle if needed and checks the index against
 * the log: a cursor beyond the log's end means the log is not the one the
 * index was built from (the store was replaced): the index starts over. */
static int ensure_store(rt_indexer *ix) {
    if (ix->store)
        return BT_OK;
    bt_error err;
    store_options so = {.read_only = true};
    int rc = store_open(ix->store_location, &so, &ix->store, &err);
    if (rc != BT_OK) {
        if (!ix->store_warned)
            bt_log(BT_LOG_WARN, "indexer: cannot open the store yet: %s", err.message);
        ix->store_warned = true;
        return rc;
    }
    uint64_t last = 0, cursor = 0;
    rc = store_log_last(ix->store, &last);
    if (rc == BT_OK)
        rc = index_cursor(ix->index, &cursor);
    if (rc == BT_OK && cursor > last) {
        bt_log(BT_LOG_WARN,
               "indexer: the index is ahead of the log (position %llu > %llu): rebuilding it",
               (unsigned long long)cursor, (unsigned long long)last);
        rc = index_begin(ix->index);
        if (rc == BT_OK)
            rc = index_reset(ix->index);
        if (rc == BT_OK)
            rc = index_commit(ix->index);
        else
            index_rollback(ix->index);
        cursor = 0;
    }
    if (rc != BT_OK) {
        store_close(ix->store);
        ix->store = NULL;
        return rc;
    }
    if (cursor == 0 && last > 0)
        bt_log(BT_LOG_INFO, "indexer: building the search index from the log (up to position %llu)",
               (unsigned long long)last);
    ix->cursor = (store_log_cursor){.position = cursor, .resume = 0};
    atomic_store(&ix->position, cursor);
    return BT_OK;
}

static void publish(rt_indexer *ix, uint64_t position) {
    pthread_mutex_lock(&ix->mu);
    atomic_store(&ix->position, position);
    pthread_cond_broadcast(&ix->applied);
    pthread_mutex_unlock(&ix->mu);
    pthread_mutex_lock(&ix->progress_mu);
    if (ix->on_progress)
        ix->on_progress(ix->on_progress_ud);
    pthread_mutex_unlock(&ix->progress_mu);
}

static bool stopping(rt_indexer *ix) {
    pthread_mutex_lock(&ix->mu);
    bool s = ix->stopping;
    pthread_mutex_unlock(&ix->mu);
    return s;
}

/* Applies batches until the log has nothing after the cursor. */
static void catch_up(rt_indexer *ix) {
    if (ensure_store(ix) != BT_OK)
        return;
    for (;;) {
        int rc = index_begin(ix->index);
        if (rc != BT_OK) {
            bt_log(BT_LOG_ERROR, "indexer: cannot begin a batch: %s", bt_strerror(rc));
            return;
        }
        store_log_cursor cur = ix->cursor;
        size_t n = 0;
        rc = store_log_read(ix->store, &cur, ix->batch, apply_record, ix->index, &n);
        if (rc == BT_OK && n == 0) {
            index_rollback(ix->index); /* nothing new: no write */
            return;
        }
        if (rc == BT_OK)
            rc = index_commit(ix->index);
        else
            index_rollback(ix->index);
        if (rc != BT_OK) {
            /* Try again at the next wake-up, from the committed cursor,
             * through a fresh store handle. */
            bt_log(BT_LOG_ERROR, "indexer: a batch after position %llu failed: %s",
                   (unsigned long long)ix->cursor.position, bt_strerror(rc));
            store_close(ix->store);
            ix->store = NULL;
            return;
        }
        ix->cursor = cur;
        publish(ix, cur.position);
        /* A short batch is not the end of the log (a read may stop at a
         * chunk boundary): only an empty read is. */
        if (stopping(ix))
            return;
    }
}

static void *indexer_main(void *arg) {
    rt_indexer *ix = arg;
    pthread_mutex_lock(&ix->mu);
    ix->pending = true; /* catch up at start */
    for (;;) {
        if (!ix->pending && !ix->stopping) {
            struct timespec ts;
            deadline_after(&ts, ix->interval_ms);
            pthread_cond_timedwait(&ix->cv, &ix->mu, &ts); /* a time-out is a wake-up too */
        }
        if (ix->stopping)
            break;
        ix->pending = false;
        pthread_mutex_unlock(&ix->mu);
        catch_up(ix);
        pthread_mutex_lock(&ix->mu);
    }
    pthread_mutex_unlock(&ix->mu);
    return NULL;
}

int rt_indexer_start(const rt_indexer_config *cfg, rt_indexer **out, bt_error *err) {
    if (!cfg || !cfg->store || !cfg->index || !out)
        return bt_error_set(err, BT_EINVAL, "indexer: a store and an index path are needed");
    *out = NULL;
    rt_indexer *ix = bt_xcalloc(1, sizeof *ix);
    ix->store_location = bt_xstrdup(cfg->store);
    ix->batch = cfg->batch ? cfg->batch : 2000;
    ix->interval_ms = cfg->interval_ms > 0 ? cfg->interval_ms : 1000;
    ix->on_progress = cfg->on_progress;
    ix->on_progress_ud = cfg->on_progress_ud;
    int rc = index_open(cfg->index, false, &ix->index, err);
    if (rc != BT_OK) {
        bt_free(ix->store_location);
        bt_free(ix);
        return rc;
    }
    /* position stays 0 until the thread has checked the cursor against
     * the log (ensure_store): a cursor from another log means nothing. */
    pthread_mutex_init(&ix->mu, NULL);
    pthread_mutex_init(&ix->progress_mu, NULL);
    pthread_cond_init(&ix->cv, NULL);
    pthread_cond_init(&ix->applied, NULL);
    if (pthread_create(&ix->thread, NULL, indexer_main, ix) != 0) {
        rt_indexer_free(ix);
        return bt_error_set(err, BT_EIO, "indexer: cannot start its thread");
    }
    ix->started = true;
    *out = ix;
    return BT_OK;
}

void rt_indexer_set_progress(rt_indexer *ix, void (*fn)(void *ud), void *ud) {
    pthread_mutex_lock(&ix->progress_mu);
    ix->on_progress = fn;
    ix->on_progress_ud = ud;
    pthread_mutex_unlock(&ix->progress_mu);
}

void rt_indexer_notify(rt_indexer *ix) {
    if (!ix)
        return;
    pthread_mutex_lock(&ix->mu);
    ix->pending = true;
    pthread_cond_signal(&ix->cv);
    pthread_mutex_unlock(&ix->mu);
}

void rt_indexer_on_commit(void *ud) {
    rt_indexer_notify(ud);
}

uint64_t rt_indexer_position(rt_indexer *ix) {
    return atomic_load(&ix->position);
}

int rt_indexer_wait(rt_indexer *ix, uint64_t position, int64_t timeout_ms) {
    rt_indexer_notify(ix);
    struct timespec ts;
    deadline_after(&ts, timeout_ms > 0 ? timeout_ms : 0);
    int rc = BT_OK;
    pthread_mutex_lock(&ix->mu);
    while (atomic_load(&ix->position) < position) {
        if (pthread_cond_timedwait(&ix->applied, &ix->mu, &ts) != 0 &&
            atomic_load(&ix->position) < position) {
            rc = BT_EBUSY;
            break;
        }
    }
    pthread_mutex_unlock(&ix->mu);
    return rc;
}

void rt_indexer_stop(rt_indexer *ix) {
    if (!ix || !ix->started)
        return;
    pthread_mutex_lock(&ix->mu);
    ix->stopping = true;
    pthread_cond_signal(&ix->cv);
    pthread_mutex_unlock(&ix->mu);
    pthread_join(ix->thread, NULL);
    ix->started = false;
    store_close(ix->store);
    ix->store = NULL;
    index_close(ix->index);
    ix->index = NULL;
}

void rt_indexer_free(rt_indexer *ix) {
    if (!ix)
        return;
    rt_indexer_stop(ix);
    index_close(ix->index); /* when the thread never started */
    pthread_mutex_destroy(&ix->mu);
    pthread_mutex_destroy(&ix->progress_mu);
    pthread_cond_destroy(&ix->cv);
    pthread_cond_destroy(&ix->applied);
    bt_free(ix->store_location);
    bt_free(ix);
}
