/*
 * store.h — durable storage for the engine: one interface, several backends.
 *
 * The engine keeps its working state in memory and describes every change
 * as rows to write. The store writes them; it never interprets the engine's
 * state. What is stored:
 *
 *   meta         named int64 counters (next key, next record position, schema)
 *   definitions  deployed process versions: id, version, BPMN XML, checksum
 *   instances    one row per process instance: searchable columns + the
 *                engine's encoded state of the instance (`state`, opaque
 *                bytes; NULL once the instance has ended)
 *   records      the append-only log of every state change (the history):
 *                position, key, time, value type, intent, instance key, JSON
 *   objects      the engine's state that belongs to no instance (buffered
 *                messages, ...): key, kind, opaque encoded bytes; written
 *                and deleted in the same transactions as everything else
 *
 * Transactions: the runtime calls store_begin, writes the rows of a whole
 * batch of commands (group commit), then store_commit, which returns only
 * when the batch is durable (fsync). A failed commit is rolled back whole:
 * the runtime then drops the batch's in-memory effects (nothing was
 * acknowledged). Nothing is written outside a transaction.
 *
 * Recovery: store_open on an existing store, then the *_load functions give
 * back every definition and every instance that has not ended, exactly as
 * of the last commit.
 *
 * Backends: "sqlite" (embedded; WAL, synchronous=FULL) now, "postgres" later.
 * The public functions dispatch through a table of backend operations
 * (store_int.h).
 *
 * Thread-safety: a store handle is used by one thread at a time (the
 * runtime's loop); read-only queries from other threads open their own
 * handle with store_open.
 */
#ifndef BATON_STORE_H
#define BATON_STORE_H

#include "base/base.h"

typedef struct store store;

typedef struct store_options {
    bool read_only; /* open for queries only */
    bool no_sync;   /* synchronous=OFF: benchmarks of the non-durable case only */
} store_options;

/* Opens (creating if needed) the store at `location`: a file path or
 * "sqlite:PATH" for the SQLite backend. opts may be NULL (defaults).
 * Returns 0 and *out, or BT_EIO / BT_ECORRUPT / BT_EUNSUPPORTED with err. */
int store_open(const char *location, const store_options *opts, store **out, bt_error *err);
/* Closes the handle; an open transaction is rolled back. NULL allowed. */
void store_close(store *s);
/* Human-readable description ("sqlite:/path/to/baton.db"), owned by s. */
const char *store_describe(const store *s);

int store_begin(store *s);
int store_commit(store *s); /* durable on return 0 */
void store_rollback(store *s);

/* ---- meta counters ---------------------------------------------------- */

/* *out = the stored value, or `fallback` when the name is not stored. */
int store_meta_get(store *s, const char *name, int64_t fallback, int64_t *out);
int store_meta_set(store *s, const char *name, int64_t value);

/* ---- definitions -------------------------------------------------------- */

typedef struct store_definition {
    uint64_t key;
    const char *bpmn_process_id;
    int version;
    const char *resource_name;
    const char *checksum; /* hex digest of the resource */
    const char *xml;
    size_t xml_len;
    uint64_t deployment_key;
    int64_t deploy_time_ms;
} store_definition;

int store_definition_put(store *s, const store_definition *d);
/* Calls cb for every definition in key order; a non-zero return from cb
 * stops the walk and is returned. Pointers in d are valid during the call. */
int store_definitions_load(store *s, int (*cb)(void *ud, const store_definition *d), void *ud);

/* ---- instances --------------------------------------------------------- */

enum { STORE_INSTANCE_ACTIVE = 1, STORE_INSTANCE_COMPLETED = 2, STORE_INSTANCE_TERMINATED = 3 };

typedef struct store_instance {
    uint64_t key;
    uint64_t definition_key;
    const char *bpmn_process_id;
    int version;
    int state; /* STORE_INSTANCE_* */
    bool has_incident;
    const char *business_id; /* NULL when none */
    int64_t start_ms;
    int64_t end_ms;               /* 0 while active */
    uint64_t parent_instance_key; /* 0 when none */
    const void *state_data;       /* engine-encoded state; NULL once ended */
    size_t state_len;
} store_instance;

/* Inserts or replaces the row of inst->key. */
int store_instance_put(store *s, const store_instance *inst);
/* Calls cb for every ACTIVE instance, in key order (see definitions_load). */
int store_instances_load(store *s, int (*cb)(void *ud, const store_instance *inst), void *ud);
/* The columns a search of instances can be ordered by. */
typedef enum store_instance_column {
    STORE_COL_KEY,
    STORE_COL_BPMN_PROCESS_ID,
    STORE_COL_VERSION,
    STORE_COL_DEFINITION_KEY,
    STORE_COL_START,
    STORE_COL_END,          /* 0 (active) is "none": last in either order */
    STORE_COL_STATE,        /* ACTIVE < COMPLETED < TERMINATED, as the names sort */
    STORE_COL_HAS_INCIDENT, /* false < true */
    STORE_COL_BUSINESS_ID,  /* NULL is "none": last in either order */
} store_instance_column;

typedef struct store_instance_order {
    store_instance_column column;
    bool desc;
} store_instance_order;

/* A search of instances: exact-match conditions (a zero / NULL field,
 * has_incident -1, means "any"), an order and a page.
 *
 * Order: the criteria of `order` (n_order of them; NULL / 0: none), then
 * the key ascending. Text columns order an all-digit value before any
 * other and all-digit values by their numeric value (as keys compare in
 * the REST API), others byte-wise; "none" values come last whatever the
 * direction.
 *
 * Page: skip `offset` rows, deliver at most `limit` (0: all of them).
 * total: when not NULL, set to the number of matching rows (the whole
 * match, not the page). */
typedef struct store_instance_filter {
    uint64_t key;
    const char *bpmn_process_id;
    int version;
    uint64_t definition_key;
    int state;
    int has_incident; /* -1 any, 0, 1 */
    const char *business_id;
    const store_instance_order *order;
    size_t n_order;
    int64_t offset, limit;
    int64_t *total;
} store_instance_filter;

/* Calls cb for every instance row of the page of f, in f's order, without
 * the encoded state (state_data NULL). Uses the indexes on state, process,
 * business id and start time; ordering by another column sorts the match.
 * A non-zero return from cb stops the walk and is returned. */
int store_instances_search(store *s, const store_instance_filter *f,
                           int (*cb)(void *ud, const store_instance *inst), void *ud);
/* Reads one instance row; BT_ENOTFOUND if absent. *out's pointers are valid
 * until the next call on s. */
int store_instance_get(store *s, uint64_t key, store_instance *out);

/* ---- engine objects ------------------------------------------------------- */

/* State of the engine that belongs to no instance: a buffered message, a
 * start event's timer. The store keeps the bytes; only the engine reads
 * them. */
typedef struct store_object {
    uint64_t key;
    int kind; /* the engine's tag for what the bytes are */
    const void *data;
    size_t len;
} store_object;

/* Inserts or replaces the object of o->key. */
int store_object_put(store *s, const store_object *o);
/* Deletes the object of key (absent: not an error). */
int store_object_delete(store *s, uint64_t key);
/* Calls cb for every object in key order (see definitions_load). */
int store_objects_load(store *s, int (*cb)(void *ud, const store_object *o), void *ud);

/* ---- records ------------------------------------------------------------- */

typedef struct store_record {
    uint64_t position; /* strictly increasing */
    uint64_t key;      /* the key of the object the record is about */
    int64_t timestamp_ms;
    const char *value_type; /* "PROCESS_INSTANCE", "JOB", "INCIDENT", "VARIABLE", ... */
    const char *intent;     /* "ELEMENT_ACTIVATED", "CREATED", ... */
    uint64_t instance_key;  /* 0 when not about an instance */
    const char *value;      /* JSON object */
    size_t value_len;
} store_record;

int store_record_append(store *s, const store_record *r);
/* Calls cb for the records of one instance (instance_key 0: all records)
 * with position > after, in position order, at most `limit` (0: no limit). */
int store_records_read(store *s, uint64_t instance_key, uint64_t after, size_t limit,
                       int (*cb)(void *ud, const store_record *r), void *ud);

/* Where a reader of the whole log (an exporter, the search index) stands:
 * the last position it was given, and a backend hint of where to resume
 * looking (0: unknown, the backend finds it). Start with {after, 0}. */
typedef struct store_log_cursor {
    uint64_t position; /* every record at or before it has been delivered */
    uint64_t resume;   /* backend's resume hint; keep it between calls */
} store_log_cursor;

/* Calls cb for the records of all instances with position > cur->position,
 * in position order, at most `limit` (> 0) of them, and advances *cur past
 * the last one delivered. Unlike store_records_read(s, 0, ...), the work is
 * bounded by `limit` (plus one transaction's chunks), not by the size of
 * the log after the cursor, so a reader can catch up over a long log a
 * batch at a time. *n (may be NULL) = how many were delivered; 0 means the
 * reader is at the end of the committed log. Each call reads one consistent
 * snapshot: a transaction's records are delivered whole or not yet. */
int store_log_read(store *s, store_log_cursor *cur, size_t limit,
                   int (*cb)(void *ud, const store_record *r), void *ud, size_t *n);
/* *out = the highest committed record position (0: the log is empty). */
int store_log_last(store *s, uint64_t *out);

#endif
