/*
 * index.c — the search index of index.h: an SQLite file of its own.
 *
 * Why a separate file: the store's commit is the engine's bottleneck (one
 * fsync per group-committed batch, ~20k instances/s); searchable tables
 * maintained in that transaction would add index upserts per record to
 * every batch. The index is instead written afterwards, by another thread,
 * from the record log — the exporter model of Zeebe. Being derived, it needs
 * no durability of its own:
 *
 *   journal_mode=WAL      the API's queries never block the indexer's writes
 *   synchronous=NORMAL    no fsync per batch: after a power loss the index
 *                         may lose its last batches (never be corrupted), and
 *                         its cursor goes back with them, so they are read
 *                         from the log and applied again. A deleted or
 *                         unreadable index.db is rebuilt from the whole log.
 *   busy_timeout=5000     a reader waits out the writer's commit
 *
 * Schema (version 1, meta 'schema_version'; keys are INTEGER, the record
 * JSON's digit strings converted; times are ms since the epoch; NULL or 0
 * for "none"):
 *
 *   meta(name TEXT PRIMARY KEY, value INTEGER)          -- WITHOUT ROWID
 *       schema_version; cursor = position of the last record applied
 *   element_instances(key INTEGER PRIMARY KEY, process_instance_key,
 *       process_definition_key, scope_key, bpmn_process_id, element_id,
 *       type, state ACTIVE|COMPLETED|TERMINATED, start_ms, end_ms,
 *       incident_key)
 *       from PROCESS_INSTANCE records (sequence flows are not kept):
 *       ELEMENT_ACTIVATING opens a row, ELEMENT_COMPLETED / _TERMINATED
 *       close it; INCIDENT records set and clear incident_key.
 *       elem_instance   (process_instance_key)
 *       elem_definition (process_definition_key, element_id, state,
 *                       incident_key) — the per-element counts of one
 *                       process version (index_elem_stats_read), which it
 *                       covers: the GROUP BY reads the index alone
 *   jobs(key INTEGER PRIMARY KEY, process_instance_key,
 *       element_instance_key, element_id, bpmn_process_id,
 *       process_definition_key, type, worker, state, retries, error_message,
 *       error_code, deadline, created_ms, updated_ms, ended_ms)
 *       from JOB records. States are the REST API's: CREATED (also while
 *       activated: activation is not a state there), COMPLETED, FAILED,
 *       ERROR_THROWN, CANCELED, TIMED_OUT, RETRIES_UPDATED.
 *       jobs_instance (process_instance_key), jobs_type (type, state)
 *   incidents(key INTEGER PRIMARY KEY, process_instance_key,
 *       process_definition_key, bpmn_process_id, element_id,
 *       element_instance_key, job_key, state ACTIVE|RESOLVED, error_type,
 *       error_message, created_ms, resolved_ms)
 *       from INCIDENT CREATED / RESOLVED. The engine drops the open
 *       incidents of a cancelled instance without a record; the index
 *       resolves them when the instance's own element ends.
 *       incidents_instance (process_instance_key), incidents_state (state)
 *   variables(key INTEGER PRIMARY KEY, name, value TEXT (JSON), scope_key,
 *       process_instance_key, updated_ms)
 *       from VARIABLE CREATED / UPDATED (the value is kept as JSON text).
 *       variables_instance (process_instance_key), variables_name (name)
 *
 * Every write is an upsert keyed by the object's key, so a record applied
 * again leaves the same row; the cursor makes that rare anyway.
 *
 * Record values are parsed with jansson. Statements are prepared once.
 */
#include "store/index.h"
#include "store/sqlite_code.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define IX_SCHEMA_VERSION  1
#define IX_BUSY_TIMEOUT_MS 5000

enum {
    IX_BEGIN,
    IX_COMMIT,
    IX_ROLLBACK,
    IX_META_GET,
    IX_META_SET,
    IX_ELEM_OPEN,
    IX_ELEM_CLOSE,
    IX_ELEM_INCIDENT_SET,
    IX_ELEM_INCIDENT_CLEAR,
    IX_ELEM_INCIDENTS_END,
    IX_JOB_PUT,
    IX_INCIDENT_CREATE,
    IX_INCIDENT_RESOLVE,
    IX_INCIDENTS_END,
    IX_VARIABLE_PUT,
    IX_STMT_COUNT
};

/* One row per statement; the index is the enum above. */
static const char *const ix_sql[IX_STMT_COUNT] = {
    [IX_BEGIN] = "BEGIN IMMEDIATE",
    [IX_COMMIT] = "COMMIT",
    [IX_ROLLBACK] = "ROLLBACK",
    [IX_META_GET] = "SELECT value FROM meta WHERE name = ?1",
    [IX_META_SET] = "INSERT INTO meta(name, value) VALUES(?1, ?2) "
                    "ON CONFLICT(name) DO UPDATE SET value = excluded.value",
    [IX_ELEM_OPEN] = "INSERT INTO element_instances(key, process_instance_key, "
                     "process_definition_key, scope_key, bpmn_process_id, element_id, type, state, "
                     "start_ms) VALUES(?1,?2,?3,?4,?5,?6,?7,'ACTIVE',?8) "
                     "ON CONFLICT(key) DO NOTHING",
    /* A close without an open (not produced by the engine) still makes a row. */
    [IX_ELEM_CLOSE] = "INSERT INTO element_instances(key, process_instance_key, "
                      "process_definition_key, scope_key, bpmn_process_id, element_id, type, "
                      "state, start_ms, end_ms) VALUES(?1,?2,?3,?4,?5,?6,?7,?9,?8,?8) "
                      "ON CONFLICT(key) DO UPDATE SET state = excluded.state, "
                      "end_ms = excluded.end_ms",
    [IX_ELEM_INCIDENT_SET] = "UPDATE element_instances SET incident_key = ?2 WHERE key = ?1",
    [IX_ELEM_INCIDENT_CLEAR] = "UPDATE element_instances SET incident_key = NULL "
                               "WHERE key = ?1 AND incident_key = ?2",
    [IX_ELEM_INCIDENTS_END] = "UPDATE element_instances SET incident_key = NULL "
                              "WHERE process_instance_key = ?1 AND incident_key IS NOT NULL",
    /* NULL parameters keep the stored value: partial records (TIMED_OUT,
     * RECURRED_AFTER_BACKOFF) carry only what changed. ?17 is the state to
     * set on an existing row (NULL: keep), ?9 the state of a new row. The
     * engine cancels the job of a task its thrown error terminated: the
     * job stays ERROR_THROWN, as in Camunda. */
    [IX_JOB_PUT] =
        "INSERT INTO jobs(key, process_instance_key, element_instance_key, element_id, "
        "bpmn_process_id, process_definition_key, type, worker, state, retries, error_message, "
        "error_code, deadline, created_ms, updated_ms, ended_ms) "
        "VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,coalesce(?10,0),?11,?12,coalesce(?13,0),?14,?14,"
        "coalesce(?16,0)) ON CONFLICT(key) DO UPDATE SET "
        "process_instance_key = coalesce(?2, process_instance_key), "
        "element_instance_key = coalesce(?3, element_instance_key), "
        "element_id = coalesce(?4, element_id), bpmn_process_id = coalesce(?5, bpmn_process_id), "
        "process_definition_key = coalesce(?6, process_definition_key), "
        "type = coalesce(?7, type), worker = coalesce(?8, worker), "
        "state = CASE WHEN state = 'ERROR_THROWN' AND ?17 = 'CANCELED' THEN state "
        "ELSE coalesce(?17, state) END, "
        "retries = coalesce(?10, retries), error_message = coalesce(?11, error_message), "
        "error_code = coalesce(?12, error_code), deadline = coalesce(?13, deadline), "
        "updated_ms = ?14, ended_ms = CASE WHEN state = 'ERROR_THROWN' AND ?17 = 'CANCELED' "
        "THEN ended_ms ELSE coalesce(?16, ended_ms) END",
    [IX_INCIDENT_CREATE] = "INSERT INTO incidents(key, process_instance_key, "
                           "process_definition_key, bpmn_process_id, element_id, "
                           "element_instance_key, job_key, state, error_type, error_message, "
                           "created_ms, resolved_ms) VALUES(?1,?2,?3,?4,?5,?6,?7,'ACTIVE',?8,?9,"
                           "?10,0) ON CONFLICT(key) DO NOTHING",
    [IX_INCIDENT_RESOLVE] = "INSERT INTO incidents(key, process_instance_key, "
                            "process_definition_key, bpmn_process_id, element_id, "
                            "element_instance_key, job_key, state, error_type, error_message, "
                            "created_ms, resolved_ms) VALUES(?1,?2,?3,?4,?5,?6,?7,'RESOLVED',?8,"
                            "?9,?10,?10) ON CONFLICT(key) DO UPDATE SET state = 'RESOLVED', "
                            "resolved_ms = excluded.resolved_ms",
    [IX_INCIDENTS_END] = "UPDATE incidents SET state = 'RESOLVED', resolved_ms = ?2 "
                         "WHERE process_instance_key = ?1 AND state = 'ACTIVE'",
    [IX_VARIABLE_PUT] = "INSERT INTO variables(key, name, value, scope_key, process_instance_key, "
                        "updated_ms) VALUES(?1,?2,?3,?4,?5,?6) ON CONFLICT(key) DO UPDATE SET "
                        "name = excluded.name, value = excluded.value, "
                        "scope_key = excluded.scope_key, "
                        "process_instance_key = excluded.process_instance_key, "
                        "updated_ms = excluded.updated_ms",
};

static const char ix_schema[] =
    "CREATE TABLE IF NOT EXISTS meta(name TEXT PRIMARY KEY, value INTEGER NOT NULL) "
    "WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS element_instances("
    " key INTEGER PRIMARY KEY, process_instance_key INTEGER NOT NULL,"
    " process_definition_key INTEGER, scope_key INTEGER, bpmn_process_id TEXT,"
    " element_id TEXT, type TEXT, state TEXT NOT NULL, start_ms INTEGER NOT NULL,"
    " end_ms INTEGER, incident_key INTEGER);"
    "CREATE INDEX IF NOT EXISTS elem_instance ON element_instances(process_instance_key);"
    "CREATE INDEX IF NOT EXISTS elem_definition"
    " ON element_instances(process_definition_key, element_id, state, incident_key);"
    "CREATE TABLE IF NOT EXISTS jobs("
    " key INTEGER PRIMARY KEY, process_instance_key INTEGER, element_instance_key INTEGER,"
    " element_id TEXT, bpmn_process_id TEXT, process_definition_key INTEGER, type TEXT,"
    " worker TEXT, state TEXT, retries INTEGER NOT NULL DEFAULT 0, error_message TEXT,"
    " error_code TEXT, deadline INTEGER NOT NULL DEFAULT 0, created_ms INTEGER,"
    " updated_ms INTEGER, ended_ms INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX IF NOT EXISTS jobs_instance ON jobs(process_instance_key);"
    "CREATE INDEX IF NOT EXISTS jobs_type ON jobs(type, state);"
    "CREATE TABLE IF NOT EXISTS incidents("
    " key INTEGER PRIMARY KEY, process_instance_key INTEGER NOT NULL,"
    " process_definition_key INTEGER, bpmn_process_id TEXT, element_id TEXT,"
    " element_instance_key INTEGER, job_key INTEGER, state TEXT NOT NULL, error_type TEXT,"
    " error_message TEXT, created_ms INTEGER, resolved_ms INTEGER);"
    "CREATE INDEX IF NOT EXISTS incidents_instance ON incidents(process_instance_key);"
    "CREATE INDEX IF NOT EXISTS incidents_state ON incidents(state);"
    "CREATE TABLE IF NOT EXISTS variables("
    " key INTEGER PRIMARY KEY, name TEXT NOT NULL, value TEXT NOT NULL, scope_key INTEGER,"
    " process_instance_key INTEGER NOT NULL, updated_ms INTEGER);"
    "CREATE INDEX IF NOT EXISTS variables_instance ON variables(process_instance_key);"
    "CREATE INDEX IF NOT EXISTS variables_name ON variables(name);";

struct index_db {
    sqlite3 *db;
    sqlite3_stmt *stmt[IX_STMT_COUNT];
    uint64_t cursor;    /* applied, in the open transaction or committed */
    uint64_t committed; /* as of the last commit */
    bool in_transaction;
    char *path;
};

/* ---- errors and small helpers ----------------------------------------------------- */

static int ix_fail(index_db *idx, int rc, const char *what) {
    bt_log(BT_LOG_ERROR, "index: sqlite %s failed: %s (%d) [%s]", what, sqlite3_errmsg(idx->db), rc,
           idx->path);
    return sqlite_bt_code(rc);
}

/* Steps a statement that returns no row, then resets it and its bindings. */
static int ix_run(index_db *idx, int which, const char *what) {
    sqlite3_stmt *st = idx->stmt[which];
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_DONE ? BT_OK : ix_fail(idx, rc, what);
}

static void bind_text(sqlite3_stmt *st, int i, const char *s) {
    if (s)
        sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, i);
}

/* A key: NULL when 0 (absent). */
static void bind_key(sqlite3_stmt *st, int i, uint64_t key) {
    if (key)
        sqlite3_bind_int64(st, i, (sqlite3_int64)key);
    else
        sqlite3_bind_null(st, i);
}

static const char *col_text(sqlite3_stmt *st, int i) {
    return (const char *)sqlite3_column_text(st, i);
}

static uint64_t col_key(sqlite3_stmt *st, int i) {
    return (uint64_t)sqlite3_column_int64(st, i); /* NULL reads as 0 */
}

/* ---- open and close ------------------------------------------------------------------ */

static int ix_exec(index_db *idx, const char *sql, bt_error *err) {
    int rc = sqlite3_exec(idx->db, sql, NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        return bt_error_set(err, sqlite_bt_code(rc), "index: %s: %s", idx->path,
                            sqlite3_errmsg(idx->db));
    return BT_OK;
}

static int ix_meta_read(index_db *idx, const char *name, int64_t fallback, int64_t *out) {
    sqlite3_stmt *st = idx->stmt[IX_META_GET];
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    *out = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : fallback;
    sqlite3_reset(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? BT_OK : ix_fail(idx, rc, "meta_get");
}

/* Creates the tables of a new index (idempotent), in one write transaction
 * so a writer and a reader opening a new file at once do not both create. */
static int ix_schema_ensure(index_db *idx, bt_error *err) {
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(
        idx->db, "SELECT count(*) FROM sqlite_master WHERE type='table' AND name='variables'", -1,
        &st, NULL);
    int64_t have = 0;
    if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        have = sqlite3_column_int64(st, 0);
        rc = SQLITE_OK;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_OK)
        return bt_error_set(err, sqlite_bt_code(rc), "index: %s: %s", idx->path,
                            sqlite3_errmsg(idx->db));
    if (have)
        return BT_OK;
    char sql[160];
    snprintf(sql, sizeof sql,
             "INSERT OR IGNORE INTO meta(name, value) VALUES('schema_version', %d);",
             IX_SCHEMA_VERSION);
    int code = ix_exec(idx, "BEGIN IMMEDIATE", err);
    if (code == BT_OK)
        code = ix_exec(idx, ix_schema, err);
    if (code == BT_OK)
        code = ix_exec(idx, sql, err);
    if (code == BT_OK)
        return ix_exec(idx, "COMMIT", err);
    sqlite3_exec(idx->db, "ROLLBACK", NULL, NULL, NULL);
    return code;
}

int index_open(const char *path, bool read_only, index_db **out, bt_error *err) {
    bt_error_clear(err);
    if (!out || !path || !*path)
        return bt_error_set(err, BT_EINVAL, "index: no path");
    *out = NULL;
    index_db *idx = bt_calloc(1, sizeof *idx);
    if (!idx || !(idx->path = bt_strdup(path))) {
        bt_free(idx);
        return bt_error_set(err, BT_ENOMEM, "index: out of memory");
    }
    int code = BT_OK;
    int rc = sqlite3_open_v2(
        path, &idx->db, SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    if (rc != SQLITE_OK) {
        code = bt_error_set(err, sqlite_bt_code(rc), "index: cannot open %s: %s", path,
                            idx->db ? sqlite3_errmsg(idx->db) : sqlite3_errstr(rc));
        goto fail;
    }
    sqlite3_extended_result_codes(idx->db, 1);
    sqlite3_busy_timeout(idx->db, IX_BUSY_TIMEOUT_MS);
    if ((code = ix_exec(idx, "PRAGMA journal_mode=WAL", err)) ||
        (code = ix_exec(idx, "PRAGMA synchronous=NORMAL; PRAGMA cache_size=-8192", err)) ||
        (code = ix_schema_ensure(idx, err)))
        goto fail;
    for (int i = 0; i < IX_STMT_COUNT; i++) {
        rc = sqlite3_prepare_v3(idx->db, ix_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &idx->stmt[i],
                                NULL);
        if (rc != SQLITE_OK) {
            code = bt_error_set(err, sqlite_bt_code(rc), "index: %s: cannot prepare \"%s\": %s",
                                path, ix_sql[i], sqlite3_errmsg(idx->db));
            goto fail;
        }
    }
    int64_t version = 0, cursor = 0;
    if ((code = ix_meta_read(idx, "schema_version", 0, &version)) ||
        (code = ix_meta_read(idx, "cursor", 0, &cursor))) {
        bt_error_set(err, code, "index: %s: cannot read its meta table", path);
        goto fail;
    }
    if (version != IX_SCHEMA_VERSION) {
        code = bt_error_set(err, version > IX_SCHEMA_VERSION ? BT_EUNSUPPORTED : BT_ECORRUPT,
                            "index: %s has schema version %lld, this baton writes %d; delete the "
                            "file to rebuild it from the log",
                            path, (long long)version, IX_SCHEMA_VERSION);
        goto fail;
    }
    idx->cursor = idx->committed = (uint64_t)cursor;
    if (read_only && (code = ix_exec(idx, "PRAGMA query_only=1", err)))
        goto fail;
    *out = idx;
    return BT_OK;
fail:
    index_close(idx);
    return code;
}

void index_close(index_db *idx) {
    if (!idx)
        return;
    if (idx->db && !sqlite3_get_autocommit(idx->db))
        sqlite3_exec(idx->db, "ROLLBACK", NULL, NULL, NULL);
    for (int i = 0; i < IX_STMT_COUNT; i++)
        sqlite3_finalize(idx->stmt[i]);
    if (idx->db && sqlite3_close(idx->db) != SQLITE_OK)
        bt_log(BT_LOG_ERROR, "index: close failed: %s", sqlite3_errmsg(idx->db));
    bt_free(idx->path);
    bt_free(idx);
}

/* ---- transactions and the cursor ------------------------------------------------------ */

int index_begin(index_db *idx) {
    if (!idx || idx->in_transaction)
        return BT_ECONFLICT;
    int rc = ix_run(idx, IX_BEGIN, "begin");
    if (rc == BT_OK) {
        idx->in_transaction = true;
        idx->cursor = idx->committed;
    }
    return rc;
}

static int ix_meta_write(index_db *idx, const char *name, int64_t value) {
    sqlite3_stmt *st = idx->stmt[IX_META_SET];
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, value);
    return ix_run(idx, IX_META_SET, "meta_set");
}

int index_commit(index_db *idx) {
    if (!idx || !idx->in_transaction)
        return BT_ECONFLICT;
    int rc = ix_meta_write(idx, "cursor", (int64_t)idx->cursor);
    if (rc == BT_OK)
        rc = ix_run(idx, IX_COMMIT, "commit");
    if (rc != BT_OK) {
        index_rollback(idx);
        return rc;
    }
    idx->in_transaction = false;
    idx->committed = idx->cursor;
    return BT_OK;
}

void index_rollback(index_db *idx) {
    if (!idx || !idx->in_transaction)
        return;
    if (!sqlite3_get_autocommit(idx->db))
        sqlite3_exec(idx->db, "ROLLBACK", NULL, NULL, NULL);
    idx->in_transaction = false;
    idx->cursor = idx->committed;
}

int index_reset(index_db *idx) {
    if (!idx || !idx->in_transaction)
        return BT_ECONFLICT;
    int rc = sqlite3_exec(idx->db,
                          "DELETE FROM element_instances; DELETE FROM jobs; DELETE FROM incidents; "
                          "DELETE FROM variables; DELETE FROM meta WHERE name = 'cursor';",
                          NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        return ix_fail(idx, rc, "reset");
    idx->cursor = 0;
    return BT_OK;
}

int index_cursor(index_db *idx, uint64_t *out) {
    if (!idx || !out)
        return BT_EINVAL;
    if (idx->in_transaction) {
        *out = idx->committed;
        return BT_OK;
    }
    /* Read from the file: another handle (the indexer's) writes it. */
    int64_t v = 0;
    int rc = ix_meta_read(idx, "cursor", 0, &v);
    if (rc == BT_OK)
        *out = idx->committed = (uint64_t)v;
    return rc;
}

/* ---- applying records ------------------------------------------------------------------ */

/* A key field: a JSON string of digits (or an integer); 0 when absent. */
static uint64_t jkey(json_t *obj, const char *name) {
    json_t *v = json_object_get(obj, name);
    if (json_is_integer(v))
        return json_integer_value(v) > 0 ? (uint64_t)json_integer_value(v) : 0;
    const char *s = json_string_value(v);
    if (!s || !*s || strlen(s) > 19)
        return 0;
    for (const char *p = s; *p; p++)
        if (*p < '0' || *p > '9')
            return 0;
    return strtoull(s, NULL, 10);
}

static const char *jstr(json_t *obj, const char *name) {
    return json_string_value(json_object_get(obj, name));
}

static bool is(const char *a, const char *b) {
    return strcmp(a, b) == 0;
}

static int apply_element(index_db *idx, const store_record *r, json_t *v) {
    bool open = is(r->intent, "ELEMENT_ACTIVATING") || is(r->intent, "ELEMENT_ACTIVATED");
    bool completed = is(r->intent, "ELEMENT_COMPLETED");
    bool terminated = is(r->intent, "ELEMENT_TERMINATED");
    if (!open && !completed && !terminated)
        return BT_OK; /* COMPLETING, TERMINATING, SEQUENCE_FLOW_TAKEN: no change */
    int which = open ? IX_ELEM_OPEN : IX_ELEM_CLOSE;
    uint64_t instance = jkey(v, "processInstanceKey");
    sqlite3_stmt *st = idx->stmt[which];
    sqlite3_bind_int64(st, 1, (sqlite3_int64)r->key);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)(instance ? instance : r->instance_key));
    bind_key(st, 3, jkey(v, "processDefinitionKey"));
    bind_key(st, 4, jkey(v, "flowScopeKey"));
    bind_text(st, 5, jstr(v, "bpmnProcessId"));
    bind_text(st, 6, jstr(v, "elementId"));
    bind_text(st, 7, jstr(v, "bpmnElementType"));
    sqlite3_bind_int64(st, 8, r->timestamp_ms);
    if (!open)
        sqlite3_bind_text(st, 9, completed ? "COMPLETED" : "TERMINATED", -1, SQLITE_STATIC);
    int rc = ix_run(idx, which, "element");
    /* The instance's own element ended: incidents still open in it were
     * dropped with it (a cancelled instance) and are resolved here. */
    if (rc == BT_OK && !open && r->key == r->instance_key) {
        st = idx->stmt[IX_INCIDENTS_END];
        sqlite3_bind_int64(st, 1, (sqlite3_int64)r->key);
        sqlite3_bind_int64(st, 2, r->timestamp_ms);
        rc = ix_run(idx, IX_INCIDENTS_END, "incidents_end");
        if (rc == BT_OK) {
            sqlite3_bind_int64(idx->stmt[IX_ELEM_INCIDENTS_END], 1, (sqlite3_int64)r->key);
            rc = ix_run(idx, IX_ELEM_INCIDENTS_END, "element_incidents_end");
        }
    }
    return rc;
}

/* What a JOB record does to the row: the state of a new row, the state set
 * on an existing one (NULL: keep), whether it ends the job, whether it
 * clears the worker and deadline (the job is back in the pool). */
typedef struct job_intent {
    const char *intent;
    const char *insert_state;
    const char *update_state;
    bool ends;
    bool returns; /* back to the pool: no worker, no deadline */
} job_intent;

static const job_intent job_intents[] = {
    {"CREATED", "CREATED", "CREATED", false, false},
    {"ACTIVATED", "CREATED", NULL, false, false}, /* activation is not a state in the API */
    {"COMPLETED", "COMPLETED", "COMPLETED", true, false},
    {"FAILED", "FAILED", "FAILED", false, true},
    {"ERROR_THROWN", "ERROR_THROWN", "ERROR_THROWN", true, false},
    {"TIMED_OUT", "TIMED_OUT", "TIMED_OUT", false, true},
    {"RETRIES_UPDATED", "RETRIES_UPDATED", "RETRIES_UPDATED", false, false},
    {"TIMEOUT_UPDATED", "CREATED", NULL, false, false},
    {"RECURRED_AFTER_BACKOFF", "FAILED", NULL, false, false},
    {"CANCELED", "CANCELED", "CANCELED", true, false},
};

static int apply_job(index_db *idx, const store_record *r, json_t *v) {
    const job_intent *ji = NULL;
    for (size_t i = 0; i < BT_ARRAY_LEN(job_intents) && !ji; i++)
        if (is(r->intent, job_intents[i].intent))
            ji = &job_intents[i];
    if (!ji)
        return BT_OK;
    sqlite3_stmt *st = idx->stmt[IX_JOB_PUT];
    sqlite3_bind_int64(st, 1, (sqlite3_int64)r->key);
    uint64_t instance = jkey(v, "processInstanceKey");
    bind_key(st, 2, instance ? instance : r->instance_key);
    bind_key(st, 3, jkey(v, "elementInstanceKey"));
    bind_text(st, 4, jstr(v, "elementId"));
    bind_text(st, 5, jstr(v, "bpmnProcessId"));
    bind_key(st, 6, jkey(v, "processDefinitionKey"));
    bind_text(st, 7, jstr(v, "type"));
    const char *worker = jstr(v, "worker");
    bind_text(st, 8, ji->returns ? "" : worker && *worker ? worker : NULL);
    sqlite3_bind_text(st, 9, ji->insert_state, -1, SQLITE_STATIC);
    json_t *retries = json_object_get(v, "retries");
    if (json_is_integer(retries))
        sqlite3_bind_int64(st, 10, json_integer_value(retries));
    bind_text(st, 11, jstr(v, "errorMessage"));
    bind_text(st, 12, jstr(v, "errorCode"));
    json_t *deadline = json_object_get(v, "deadline");
    if (ji->returns)
        sqlite3_bind_int64(st, 13, 0);
    else if (json_is_integer(deadline))
        sqlite3_bind_int64(st, 13, json_integer_value(deadline));
    sqlite3_bind_int64(st, 14, r->timestamp_ms);
    if (ji->ends)
        sqlite3_bind_int64(st, 16, r->timestamp_ms);
    bind_text(st, 17, ji->update_state);
    return ix_run(idx, IX_JOB_PUT, "job");
}

static int apply_incident(index_db *idx, const store_record *r, json_t *v) {
    bool created = is(r->intent, "CREATED");
    if (!created && !is(r->intent, "RESOLVED"))
        return BT_OK;
    int which = created ? IX_INCIDENT_CREATE : IX_INCIDENT_RESOLVE;
    uint64_t instance = jkey(v, "processInstanceKey");
    uint64_t elem = jkey(v, "elementInstanceKey");
    sqlite3_stmt *st = idx->stmt[which];
    sqlite3_bind_int64(st, 1, (sqlite3_int64)r->key);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)(instance ? instance : r->instance_key));
    bind_key(st, 3, jkey(v, "processDefinitionKey"));
    bind_text(st, 4, jstr(v, "bpmnProcessId"));
    bind_text(st, 5, jstr(v, "elementId"));
    bind_key(st, 6, elem);
    bind_key(st, 7, jkey(v, "jobKey"));
    bind_text(st, 8, jstr(v, "errorType"));
    bind_text(st, 9, jstr(v, "errorMessage"));
    sqlite3_bind_int64(st, 10, r->timestamp_ms);
    int rc = ix_run(idx, which, "incident");
    if (rc != BT_OK || !elem)
        return rc;
    which = created ? IX_ELEM_INCIDENT_SET : IX_ELEM_INCIDENT_CLEAR;
    st = idx->stmt[which];
    sqlite3_bind_int64(st, 1, (sqlite3_int64)elem);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)r->key);
    return ix_run(idx, which, "element_incident");
}

static int apply_variable(index_db *idx, const store_record *r, json_t *v) {
    const char *name = jstr(v, "name");
    json_t *value = json_object_get(v, "value");
    if (!name || !json_is_string(value))
        return BT_OK;
    uint64_t instance = jkey(v, "processInstanceKey");
    sqlite3_stmt *st = idx->stmt[IX_VARIABLE_PUT];
    sqlite3_bind_int64(st, 1, (sqlite3_int64)r->key);
    sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, json_string_value(value), (int)json_string_length(value),
                      SQLITE_STATIC);
    bind_key(st, 4, jkey(v, "scopeKey"));
    sqlite3_bind_int64(st, 5, (sqlite3_int64)(instance ? instance : r->instance_key));
    sqlite3_bind_int64(st, 6, r->timestamp_ms);
    return ix_run(idx, IX_VARIABLE_PUT, "variable");
}

/* Dispatch by value type: one row per kind of record the index keeps. */
static const struct {
    const char *value_type;
    int (*apply)(index_db *idx, const store_record *r, json_t *v);
} appliers[] = {
    {"PROCESS_INSTANCE", apply_element}, /* element instances */
    {"JOB", apply_job},                  /* jobs */
    {"INCIDENT", apply_incident},        /* incidents, and element_instances.incident_key */
    {"VARIABLE", apply_variable},        /* variables */
};

int index_apply(index_db *idx, const store_record *r) {
    if (!idx || !r || !idx->in_transaction)
        return BT_ECONFLICT;
    if (r->position <= idx->cursor)
        return BT_OK; /* applied already */
    /* Most element records restate another (ACTIVATED after ACTIVATING,
     * COMPLETING, TERMINATING, SEQUENCE_FLOW_TAKEN): skip them before paying
     * for a JSON parse. */
    if (is(r->value_type, "PROCESS_INSTANCE") && !is(r->intent, "ELEMENT_ACTIVATING") &&
        !is(r->intent, "ELEMENT_COMPLETED") && !is(r->intent, "ELEMENT_TERMINATED")) {
        idx->cursor = r->position;
        return BT_OK;
    }
    int rc = BT_OK;
    for (size_t i = 0; i < BT_ARRAY_LEN(appliers); i++) {
        if (!is(r->value_type, appliers[i].value_type))
            continue;
        json_error_t jerr;
        json_t *v = json_loadb(r->value, r->value_len, 0, &jerr);
        if (!json_is_object(v)) {
            bt_log(BT_LOG_WARN, "index: record %llu (%s %s) has no JSON object value: %s",
                   (unsigned long long)r->position, r->value_type, r->intent, jerr.text);
        } else if (r->key > (uint64_t)INT64_MAX) {
            bt_log(BT_LOG_WARN, "index: record %llu has an invalid key",
                   (unsigned long long)r->position);
        } else {
            rc = appliers[i].apply(idx, r, v);
        }
        json_decref(v);
        break;
    }
    if (rc == BT_OK)
        idx->cursor = r->position;
    return rc;
}

/* ---- queries ------------------------------------------------------------------------------ */

/* One exact-match condition; skipped when its value is 0 / NULL. */
typedef struct ix_cond {
    const char *column;
    uint64_t key;
    const char *text;
} ix_cond;

typedef int (*ix_row_fn)(sqlite3_stmt *st, void *ctx);

/* SELECT <columns> FROM <table> WHERE <present conditions> ORDER BY key,
 * prepared per call (searches are rare next to writes), calling row() for
 * each result; a non-zero return stops and is returned. */
static int ix_query(index_db *idx, const char *select, const ix_cond *conds, size_t n,
                    ix_row_fn row, void *ctx, const char *what) {
    bt_buf sql = BT_BUF_INIT;
    bt_buf_puts(&sql, select);
    bt_buf_puts(&sql, " WHERE 1");
    for (size_t i = 0; i < n; i++)
        if (conds[i].key || conds[i].text)
            bt_buf_printf(&sql, " AND %s = ?%zu", conds[i].column, i + 1);
    bt_buf_puts(&sql, " ORDER BY key");
    if (sql.failed) {
        bt_buf_free(&sql);
        return BT_ENOMEM;
    }
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(idx->db, sql.data, -1, &st, NULL);
    bt_buf_free(&sql);
    if (rc != SQLITE_OK)
        return ix_fail(idx, rc, what);
    for (size_t i = 0; i < n; i++) {
        if (conds[i].text)
            sqlite3_bind_text(st, (int)i + 1, conds[i].text, -1, SQLITE_STATIC);
        else if (conds[i].key)
            sqlite3_bind_int64(st, (int)i + 1, (sqlite3_int64)conds[i].key);
    }
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int stop = row(st, ctx);
        if (stop) {
            sqlite3_finalize(st);
            return stop;
        }
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? BT_OK : ix_fail(idx, rc, what);
}

/* The caller's callback of one search and its argument. */
typedef struct ix_ctx {
    union {
        int (*elem)(void *ud, const index_elem *row);
        int (*job)(void *ud, const index_job *row);
        int (*incident)(void *ud, const index_incident *row);
        int (*variable)(void *ud, const index_variable *row);
    } cb;
    void *ud;
} ix_ctx;

static int elem_row(sqlite3_stmt *st, void *ctx) {
    ix_ctx *c = ctx;
    index_elem e = {
        .key = col_key(st, 0),
        .process_instance_key = col_key(st, 1),
        .process_definition_key = col_key(st, 2),
        .scope_key = col_key(st, 3),
        .bpmn_process_id = col_text(st, 4),
        .element_id = col_text(st, 5),
        .type = col_text(st, 6),
        .state = col_text(st, 7),
        .start_ms = sqlite3_column_int64(st, 8),
        .end_ms = sqlite3_column_int64(st, 9),
        .incident_key = col_key(st, 10),
    };
    return c->cb.elem(c->ud, &e);
}

int index_elems_search(index_db *idx, const index_elem_filter *f,
                       int (*cb)(void *ud, const index_elem *row), void *ud) {
    if (!idx || !f || !cb)
        return BT_EINVAL;
    const ix_cond conds[] = {
        {"key", f->key, NULL},
        {"process_instance_key", f->process_instance_key, NULL},
        {"process_definition_key", f->process_definition_key, NULL},
        {"scope_key", f->scope_key, NULL},
        {"incident_key", f->incident_key, NULL},
        {"bpmn_process_id", 0, f->bpmn_process_id},
        {"element_id", 0, f->element_id},
        {"type", 0, f->type},
        {"state", 0, f->state},
    };
    ix_ctx c = {.cb.elem = cb, .ud = ud};
    return ix_query(idx,
                    "SELECT key, process_instance_key, process_definition_key, scope_key, "
                    "bpmn_process_id, element_id, type, state, start_ms, end_ms, incident_key "
                    "FROM element_instances",
                    conds, BT_ARRAY_LEN(conds), elem_row, &c, "elements_search");
}

/* The range of one definition in elem_definition, in element_id order:
 * the GROUP BY needs neither the table nor a sort. */
int index_elem_stats_read(index_db *idx, uint64_t process_definition_key,
                          int (*cb)(void *ud, const index_elem_stats *row), void *ud) {
    if (!idx || !cb)
        return BT_EINVAL;
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(
        idx->db,
        "SELECT element_id, sum(state = 'ACTIVE'), sum(state = 'COMPLETED'), "
        "sum(state = 'TERMINATED'), sum(state = 'ACTIVE' AND incident_key IS NOT NULL) "
        "FROM element_instances INDEXED BY elem_definition "
        "WHERE process_definition_key = ?1 GROUP BY element_id ORDER BY element_id",
        -1, &st, NULL);
    if (rc != SQLITE_OK)
        return ix_fail(idx, rc, "elem_stats");
    sqlite3_bind_int64(st, 1, (sqlite3_int64)process_definition_key);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        index_elem_stats row = {
            .element_id = col_text(st, 0),
            .active = sqlite3_column_int64(st, 1),
            .completed = sqlite3_column_int64(st, 2),
            .terminated = sqlite3_column_int64(st, 3),
            .incidents = sqlite3_column_int64(st, 4),
        };
        if (!row.element_id)
            continue; /* a row of a malformed record: nothing to attribute it to */
        int stop = cb(ud, &row);
        if (stop) {
            sqlite3_finalize(st);
            return stop;
        }
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? BT_OK : ix_fail(idx, rc, "elem_stats");
}

static int job_row(sqlite3_stmt *st, void *ctx) {
    ix_ctx *c = ctx;
    const char *worker = col_text(st, 7);
    index_job j = {
        .key = col_key(st, 0),
        .process_instance_key = col_key(st, 1),
        .element_instance_key = col_key(st, 2),
        .element_id = col_text(st, 3),
        .bpmn_process_id = col_text(st, 4),
        .process_definition_key = col_key(st, 5),
        .type = col_text(st, 6),
        .worker = worker && *worker ? worker : NULL,
        .state = col_text(st, 8),
        .retries = sqlite3_column_int(st, 9),
        .error_message = col_text(st, 10),
        .error_code = col_text(st, 11),
        .deadline_ms = sqlite3_column_int64(st, 12),
        .created_ms = sqlite3_column_int64(st, 13),
        .updated_ms = sqlite3_column_int64(st, 14),
        .ended_ms = sqlite3_column_int64(st, 15),
    };
    return c->cb.job(c->ud, &j);
}

int index_jobs_search(index_db *idx, const index_job_filter *f,
                      int (*cb)(void *ud, const index_job *row), void *ud) {
    if (!idx || !f || !cb)
        return BT_EINVAL;
    const ix_cond conds[] = {
        {"key", f->key, NULL},
        {"process_instance_key", f->process_instance_key, NULL},
        {"element_instance_key", f->element_instance_key, NULL},
        {"process_definition_key", f->process_definition_key, NULL},
        {"type", 0, f->type},
        {"state", 0, f->state},
        {"element_id", 0, f->element_id},
        {"bpmn_process_id", 0, f->bpmn_process_id},
        {"worker", 0, f->worker},
    };
    ix_ctx c = {.cb.job = cb, .ud = ud};
    return ix_query(idx,
                    "SELECT key, process_instance_key, element_instance_key, element_id, "
                    "bpmn_process_id, process_definition_key, type, worker, state, retries, "
                    "error_message, error_code, deadline, created_ms, updated_ms, ended_ms "
                    "FROM jobs",
                    conds, BT_ARRAY_LEN(conds), job_row, &c, "jobs_search");
}

static int incident_row(sqlite3_stmt *st, void *ctx) {
    ix_ctx *c = ctx;
    index_incident i = {
        .key = col_key(st, 0),
        .process_instance_key = col_key(st, 1),
        .process_definition_key = col_key(st, 2),
        .bpmn_process_id = col_text(st, 3),
        .element_id = col_text(st, 4),
        .element_instance_key = col_key(st, 5),
        .job_key = col_key(st, 6),
        .state = col_text(st, 7),
        .error_type = col_text(st, 8),
        .error_message = col_text(st, 9),
        .created_ms = sqlite3_column_int64(st, 10),
        .resolved_ms = sqlite3_column_int64(st, 11),
    };
    return c->cb.incident(c->ud, &i);
}

int index_incidents_search(index_db *idx, const index_incident_filter *f,
                           int (*cb)(void *ud, const index_incident *row), void *ud) {
    if (!idx || !f || !cb)
        return BT_EINVAL;
    const ix_cond conds[] = {
        {"key", f->key, NULL},
        {"process_instance_key", f->process_instance_key, NULL},
        {"process_definition_key", f->process_definition_key, NULL},
        {"element_instance_key", f->element_instance_key, NULL},
        {"job_key", f->job_key, NULL},
        {"state", 0, f->state},
        {"error_type", 0, f->error_type},
        {"element_id", 0, f->element_id},
        {"bpmn_process_id", 0, f->bpmn_process_id},
    };
    ix_ctx c = {.cb.incident = cb, .ud = ud};
    return ix_query(idx,
                    "SELECT key, process_instance_key, process_definition_key, bpmn_process_id, "
                    "element_id, element_instance_key, job_key, state, error_type, error_message, "
                    "created_ms, resolved_ms FROM incidents",
                    conds, BT_ARRAY_LEN(conds), incident_row, &c, "incidents_search");
}

static int variable_row(sqlite3_stmt *st, void *ctx) {
    ix_ctx *c = ctx;
    index_variable v = {
        .key = col_key(st, 0),
        .name = col_text(st, 1),
        .value = col_text(st, 2),
        .scope_key = col_key(st, 3),
        .process_instance_key = col_key(st, 4),
        .updated_ms = sqlite3_column_int64(st, 5),
    };
    return c->cb.variable(c->ud, &v);
}

int index_variables_search(index_db *idx, const index_variable_filter *f,
                           int (*cb)(void *ud, const index_variable *row), void *ud) {
    if (!idx || !f || !cb)
        return BT_EINVAL;
    const ix_cond conds[] = {
        {"key", f->key, NULL},
        {"scope_key", f->scope_key, NULL},
        {"process_instance_key", f->process_instance_key, NULL},
        {"name", 0, f->name},
    };
    ix_ctx c = {.cb.variable = cb, .ud = ud};
    return ix_query(idx,
                    "SELECT key, name, value, scope_key, process_instance_key, updated_ms "
                    "FROM variables",
                    conds, BT_ARRAY_LEN(conds), variable_row, &c, "variables_search");
}
