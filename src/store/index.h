/*
 * index.h — the search index: the record log, projected into tables that
 * the searches of the REST API read (element instances, jobs, incidents,
 * variables), like the secondary storage that Camunda's exporters feed.
 *
 * The index is a separate SQLite file (<data>/index.db), derived from the
 * store's record log and nothing else: it can be deleted at any time and is
 * rebuilt from the log. Writing it is never on the engine's commit path —
 * a runtime thread (runtime/indexer.h) tails the log and applies records in
 * batches, one index transaction per batch, so the index trails the log by
 * a batch: searches are eventually consistent.
 *
 * Applying: index_begin, index_apply for each record in position order,
 * index_commit. The position of the last applied record (the cursor) is
 * written in the same transaction as the rows it produced, so a crash
 * leaves the rows and the cursor in step; index_apply ignores records at
 * or before the cursor, so applying a record twice is harmless.
 *
 * Queries: each table has a search function that calls back with the rows
 * matching a filter of exact values (zero / NULL fields mean "any"), in key
 * order; filtered columns are indexed. Row pointers are valid during the
 * callback only.
 *
 * Thread-safety: a handle is used by one thread at a time. The writer (the
 * indexer) and readers (the API, on the loop thread) use their own handles;
 * WAL lets readers read while the writer writes.
 */
#ifndef BATON_STORE_INDEX_H
#define BATON_STORE_INDEX_H

#include "base/base.h"
#include "store/store.h"

typedef struct index_db index_db;

/* Opens (creating the file and its tables if needed) the index at `path`.
 * read_only: the handle only queries (PRAGMA query_only), but may still
 * create a missing file, so writer and readers can open in any order.
 * Returns 0 and *out, or BT_EIO / BT_ECORRUPT / BT_EUNSUPPORTED / BT_ENOMEM
 * with err filled. */
int index_open(const char *path, bool read_only, index_db **out, bt_error *err);
/* Closes the handle; an open transaction is rolled back. NULL allowed. */
void index_close(index_db *idx);

/* ---- writing ---------------------------------------------------------------- */

int index_begin(index_db *idx);
/* Saves the cursor and commits (synchronous=NORMAL: no fsync per batch; a
 * lost tail is re-applied from the log). On failure rolls back. */
int index_commit(index_db *idx);
void index_rollback(index_db *idx);
/* Applies one record (inside index_begin/index_commit): records at or
 * before the cursor are skipped, others upsert rows and move the cursor.
 * Records of kinds the index does not keep only move the cursor. A record
 * whose value is not the JSON object it should be is logged and skipped
 * (BT_OK): one bad record must not stop the index. */
int index_apply(index_db *idx, const store_record *r);
/* Empties every table and the cursor (inside a transaction): for a log
 * that is not the one the index was built from. */
int index_reset(index_db *idx);
/* *out = the position of the last record applied and committed (0: none). */
int index_cursor(index_db *idx, uint64_t *out);

/* ---- element instances ---------------------------------------------------------- */

typedef struct index_elem {
    uint64_t key;
    uint64_t process_instance_key;
    uint64_t process_definition_key;
    uint64_t scope_key; /* the flow scope's element instance; 0 for the process */
    const char *bpmn_process_id;
    const char *element_id;
    const char *type;  /* "SERVICE_TASK", "PROCESS", ... */
    const char *state; /* "ACTIVE", "COMPLETED", "TERMINATED" */
    int64_t start_ms;
    int64_t end_ms;        /* 0 while active */
    uint64_t incident_key; /* the open incident, 0 when none */
} index_elem;

typedef struct index_elem_filter {
    uint64_t key, process_instance_key, process_definition_key, scope_key, incident_key;
    const char *bpmn_process_id, *element_id, *type, *state;
} index_elem_filter;

int index_elems_search(index_db *idx, const index_elem_filter *f,
                       int (*cb)(void *ud, const index_elem *row), void *ud);

/* Counts of the element instances of one process definition, per element
 * (the REST API's element statistics and the UI's per-element badges). */
typedef struct index_elem_stats {
    const char *element_id; /* the process's own id is one of them */
    int64_t active, completed, terminated;
    int64_t incidents; /* active element instances with an open incident */
} index_elem_stats;

/* Calls cb once per element id that has element instances of the
 * definition, in element id order, with exact counts: one indexed query
 * (a GROUP BY over elem_definition, which covers it), whatever the number
 * of instances. A non-zero return from cb stops and is returned. Row
 * pointers are valid during the callback only. */
int index_elem_stats_read(index_db *idx, uint64_t process_definition_key,
                          int (*cb)(void *ud, const index_elem_stats *row), void *ud);

/* ---- jobs ------------------------------------------------------------------------- */

typedef struct index_job {
    uint64_t key;
    uint64_t process_instance_key;
    uint64_t element_instance_key;
    uint64_t process_definition_key;
    const char *element_id;
    const char *bpmn_process_id;
    const char *type;
    const char *worker; /* NULL when never activated */
    const char *state;  /* CREATED COMPLETED FAILED ERROR_THROWN CANCELED TIMED_OUT
                           RETRIES_UPDATED */
    int retries;
    const char *error_message; /* NULL when none */
    const char *error_code;    /* NULL when none */
    int64_t deadline_ms;       /* 0 when not activated */
    int64_t created_ms, updated_ms;
    int64_t ended_ms; /* 0 until completed, canceled or its error was thrown */
} index_job;

typedef struct index_job_filter {
    uint64_t key, process_instance_key, element_instance_key, process_definition_key;
    const char *type, *state, *element_id, *bpmn_process_id, *worker;
} index_job_filter;

int index_jobs_search(index_db *idx, const index_job_filter *f,
                      int (*cb)(void *ud, const index_job *row), void *ud);

/* ---- incidents ---------------------------------------------------------------------- */

typedef struct index_incident {
    uint64_t key;
    uint64_t process_instance_key;
    uint64_t process_definition_key;
    uint64_t element_instance_key;
    uint64_t job_key; /* 0 when not about a job */
    const char *bpmn_process_id;
    const char *element_id;
    const char *state; /* "ACTIVE", "RESOLVED" */
    const char *error_type;
    const char *error_message;
    int64_t created_ms;
    int64_t resolved_ms; /* 0 while active */
} index_incident;

typedef struct index_incident_filter {
    uint64_t key, process_instance_key, process_definition_key, element_instance_key, job_key;
    const char *state, *error_type, *element_id, *bpmn_process_id;
} index_incident_filter;

int index_incidents_search(index_db *idx, const index_incident_filter *f,
                           int (*cb)(void *ud, const index_incident *row), void *ud);

/* ---- variables ------------------------------------------------------------------------ */

typedef struct index_variable {
    uint64_t key;
    const char *name;
    const char *value; /* JSON text */
    uint64_t scope_key;
    uint64_t process_instance_key;
    int64_t updated_ms;
} index_variable;

typedef struct index_variable_filter {
    uint64_t key, scope_key, process_instance_key;
    const char *name;
} index_variable_filter;

int index_variables_search(index_db *idx, const index_variable_filter *f,
                           int (*cb)(void *ud, const index_variable *row), void *ud);

#endif
