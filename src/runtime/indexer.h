/*
 * indexer.h — the exporter of the search index: a thread that tails the
 * store's record log and applies it to the index (store/index.h).
 *
 *   loop thread ── commit ──> rt_indexer_notify ──> indexer thread:
 *                                                     read the records after
 *                                                     the index's cursor (its
 *                                                     own read-only store
 *                                                     handle), apply them in
 *                                                     batches: one index
 *                                                     transaction each, the
 *                                                     cursor saved with it
 *
 * The engine's commit path does no index work: the loop only wakes the
 * indexer (a mutex and a signal). Without a wake-up the indexer looks at
 * the log every second anyway. On start it catches up from its cursor; an
 * empty index (a new or deleted index.db) is built from the whole log, and
 * an index whose cursor is ahead of the log (a store replaced under it) is
 * emptied and rebuilt.
 *
 * Consistency: the index trails the log by the batches not yet applied;
 * rt_indexer_position tells how far it is, rt_indexer_wait waits for a
 * position (tests, and readers that want their own writes).
 *
 * Thread-safety: every function may be called from any thread, except
 * that rt_indexer_free must not race the others.
 */
#ifndef BATON_RT_INDEXER_H
#define BATON_RT_INDEXER_H

#include "base/base.h"

typedef struct rt_indexer rt_indexer;

typedef struct rt_indexer_config {
    const char *store;   /* store location (see store_open); opened read-only */
    const char *index;   /* index file path (see index_open) */
    size_t batch;        /* records per index transaction; 0: 2000 */
    int64_t interval_ms; /* look at the log at least this often; 0: 1000 */
    /* Called on the indexer thread after each committed batch (may be NULL),
     * e.g. to wake searches waiting for the index. */
    void (*on_progress)(void *ud);
    void *on_progress_ud;
} rt_indexer_config;

/* Opens the index (creating it if needed) and starts the thread; the store
 * is opened by the thread, and again until it can be (the server's loop
 * creates it). Returns 0 and *out, or the index's open error with err. */
int rt_indexer_start(const rt_indexer_config *cfg, rt_indexer **out, bt_error *err);
/* Sets the progress callback (as in the config); NULL fn turns it off.
 * Returns after any call of the previous callback has finished. */
void rt_indexer_set_progress(rt_indexer *ix, void (*fn)(void *ud), void *ud);
/* New records were committed: apply them soon. Cheap; NULL allowed. */
void rt_indexer_notify(rt_indexer *ix);
/* rt_indexer_notify with the signature of rt_config.on_commit (ud: the
 * rt_indexer). */
void rt_indexer_on_commit(void *ud);
/* The position of the last record applied and committed to the index. */
uint64_t rt_indexer_position(rt_indexer *ix);
/* Waits until the index has applied every record up to `position` (wakes
 * the indexer first). 0, or BT_EBUSY when timeout_ms passed first. */
int rt_indexer_wait(rt_indexer *ix, uint64_t position, int64_t timeout_ms);
/* Stops the thread (a batch in progress is finished and committed) and
 * closes its handles. Idempotent; NULL allowed. */
void rt_indexer_stop(rt_indexer *ix);
/* Stops (if needed) and frees. NULL allowed. */
void rt_indexer_free(rt_indexer *ix);

#endif
