/*
 * persist.h — the bridge between the engine and the store, shared by the
 * embedding API (embed.c) and the server's loop (loop.c).
 *
 * rt_engine_load rebuilds an engine from the store (counters, definitions,
 * active instances): the same code runs on start and after a failed commit.
 * rt_engine_commit writes the engine's pending changes in one transaction
 * and returns after the durable commit; on failure it rolls back and the
 * caller must rebuild the engine with rt_engine_load (the in-memory state is
 * ahead of the store).
 */
#ifndef BATON_RT_PERSIST_H
#define BATON_RT_PERSIST_H

#include "engine/engine.h"
#include "store/store.h"

/* Builds a new engine with cfg from the store's committed state; *out is
 * owned by the caller (eng_free). */
int rt_engine_load(store *s, const eng_config *cfg, eng_engine **out, bt_error *err);
/* What a batch did, counted from its records (for /metrics). */
enum {
    RT_EVENT_INSTANCE_STARTED,
    RT_EVENT_INSTANCE_COMPLETED,
    RT_EVENT_INSTANCE_TERMINATED,
    RT_EVENT_JOB_ACTIVATED,
    RT_EVENT_JOB_COMPLETED,
    RT_EVENT_JOB_FAILED,
    RT_EVENT_INCIDENT_CREATED,
    RT_EVENT_COUNT
};

/* Commits the engine's pending changes (a no-op when there are none).
 * *had_changes (may be NULL) tells whether anything was written; events
 * (may be NULL) gets the batch's counts added (only when committed). */
int rt_engine_commit(store *s, eng_engine *e, bool *had_changes, uint64_t *events, bt_error *err);

#endif
