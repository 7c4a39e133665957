/*
 * sqlite.c — the SQLite backend of the store (the default, embedded one).
 *
 * Connection settings (set by sq_open, in this order):
 *   journal_mode=WAL    readers never block the writer; a commit appends to
 *                       the -wal file and fsyncs it once
 *   synchronous=FULL    commit returns after fsync (OFF with no_sync, for
 *                       benchmarks of the non-durable case only)
 *   foreign_keys=OFF    the engine keeps the relations; no checks per row
 *   busy_timeout=5000   a read-only handle in another thread or process
 *                       waits instead of failing while the writer commits
 *   cache_size=-16384   16 MiB of page cache, so a large group-committed
 *                       batch stays in memory until its commit
 *   application_id      'btn1', so `file` and tools can tell a baton store
 *
 * Schema (version 2, stored as meta 'schema_version'; a store written by a
 * newer baton is refused with BT_EUNSUPPORTED, never half-read; a version 1
 * store gains the objects table when opened for writing):
 *
 *   meta(name TEXT PRIMARY KEY, value INTEGER)        -- WITHOUT ROWID
 *       named counters: schema_version, and whatever the runtime keeps
 *       (next key, next record position)
 *   definitions(key INTEGER PRIMARY KEY, bpmn_process_id, version,
 *               resource_name, checksum, xml, deployment_key, deploy_time,
 *               UNIQUE(bpmn_process_id, version))
 *       one row per deployed process version; written once, never updated
 *   instances(key INTEGER PRIMARY KEY, definition_key, bpmn_process_id,
 *             version, state, has_incident, business_id, start_ms, end_ms,
 *             parent_instance_key, state_data BLOB)
 *       one row per process instance, replaced whenever the instance
 *       changes; state_data is the engine's encoding (NULL once ended).
 *       Indexes for the searches of the API and the UI:
 *         instances_state        (state)      -- recovery loads state = 1
 *         instances_process      (bpmn_process_id, version)
 *         instances_business_id  (business_id) WHERE state = 1
 *         instances_start        (start_ms)
 *         instances_state_start  (state, start_ms)   -- a page of the
 *         instances_process_start (bpmn_process_id, start_ms)  newest
 *                                 instances in a state / of a process,
 *                                 read in order, without a sort
 *   records(first_position INTEGER PRIMARY KEY, instance_key, last_position,
 *           count, data BLOB)
 *       the append-only log, in chunks: one row per instance per
 *       transaction holding that instance's records of the batch, in
 *       position order (instance_key 0 for records about no instance).
 *       A group-committed batch touches each instance a few times (create,
 *       activate, complete: ~25 records for a one-task instance), so one
 *       row per instance instead of one per record keeps the log's cost a
 *       fraction of the batch. records_instance (instance_key,
 *       first_position) serves one instance's history in order;
 *       records_last (last_position) finds the chunks after a position.
 *       Chunk encoding, per record: varint position, varint key, zigzag
 *       varint timestamp, then value type, intent and value as varint
 *       length + bytes. Positions must strictly increase (BT_ECONFLICT).
 *       store_log_read walks the chunks in first_position order (the
 *       rowid: no sort) from a resume point, the smallest first_position
 *       of a chunk that still holds undelivered records. Chunks of one
 *       transaction interleave, so records are final only below the
 *       first_position of the next unread chunk; a read stops there.
 *       A chunk is stored with a one-byte tag: 'L' + the raw length (4
 *       bytes, little endian) + an LZ4 block — record JSON repeats its field
 *       names, so the log and the write volume of every commit shrink
 *       several times; LZ4 over zstd because per-chunk cost matters more
 *       than ratio at tens of thousands of chunks a second (measured:
 *       24k vs 15k one-task instances/s) — or 'R' + the raw bytes when
 *       compression does not help.
 *   objects(key INTEGER PRIMARY KEY, kind INTEGER, data BLOB)
 *       the engine's state that belongs to no instance (buffered
 *       messages, ...), replaced or deleted as it changes; loaded whole
 *       at recovery
 *
 * Keys are uint64 with the top bit clear (store.c checks), so they are
 * stored as INTEGER and the integer primary keys are the rowids: a put is
 * one b-tree insert plus the index entries.
 *
 * Transactions: store_begin is BEGIN IMMEDIATE (the write lock is taken at
 * once, so a batch never fails half-way on a lock upgrade); store_commit is
 * COMMIT, durable on return. If COMMIT fails, or an earlier error already
 * made SQLite roll the transaction back, the transaction is rolled back and
 * the handle stays usable. Crash safety is SQLite's WAL: frames of a
 * transaction without its commit frame are ignored on the next open, so a
 * batch is either all there or not at all.
 *
 * Performance: every statement is prepared once at open (PERSISTENT) and
 * reused; strings and blobs are bound SQLITE_STATIC because every statement
 * is stepped and reset before the function returns, so the caller's memory
 * outlives SQLite's use of it. Writes allocate nothing per row.
 *
 * Errors: SQLITE_CORRUPT / SQLITE_NOTADB → BT_ECORRUPT, SQLITE_NOMEM →
 * BT_ENOMEM, SQLITE_CONSTRAINT (a duplicate definition key or process
 * version) → BT_ECONFLICT, anything else → BT_EIO. Open fills the bt_error
 * with SQLite's message; the other operations log it with bt_log.
 *
 * SQLite allocates through its own allocator, not bt_malloc: injected
 * allocation failures do not reach it. This file's own allocations (the
 * backend struct, the description, the instance_get buffer) do go through
 * bt_malloc.
 */
#include "store/store_int.h"
#include "store/sqlite_code.h"

#include "base/map.h"

#include <lz4.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SQ_SCHEMA_VERSION  2
#define SQ_APPLICATION_ID  0x62746e31 /* "btn1" */
#define SQ_BUSY_TIMEOUT_MS 5000

/* ---- statements, prepared once ------------------------------------------- */

enum {
    SQ_BEGIN,
    SQ_COMMIT,
    SQ_ROLLBACK,
    SQ_META_GET,
    SQ_META_SET,
    SQ_DEF_PUT,
    SQ_DEF_LOAD,
    SQ_INST_PUT,
    SQ_INST_LOAD,
    SQ_INST_GET,
    SQ_REC_APPEND,
    SQ_REC_READ_INSTANCE,
    SQ_REC_READ_ALL,
    SQ_REC_MAX,
    SQ_LOG_RESUME,
    SQ_LOG_SCAN,
    SQ_OBJ_PUT,
    SQ_OBJ_DELETE,
    SQ_OBJ_LOAD,
    SQ_STMT_COUNT
};

#define SQ_INSTANCE_COLUMNS                                                                        \
    "key, definition_key, bpmn_process_id, version, state, has_incident, business_id, start_ms, "  \
    "end_ms, parent_instance_key, state_data"

/* One row per statement; the index is the enum above. */
static const char *const sq_sql[SQ_STMT_COUNT] = {
    [SQ_BEGIN] = "BEGIN IMMEDIATE",
    [SQ_COMMIT] = "COMMIT",
    [SQ_ROLLBACK] = "ROLLBACK",
    [SQ_META_GET] = "SELECT value FROM meta WHERE name = ?1",
    [SQ_META_SET] = "INSERT INTO meta(name, value) VALUES(?1, ?2) "
                    "ON CONFLICT(name) DO UPDATE SET value = excluded.value",
    [SQ_DEF_PUT] = "INSERT INTO definitions(key, bpmn_process_id, version, resource_name, "
                   "checksum, xml, deployment_key, deploy_time) VALUES(?1,?2,?3,?4,?5,?6,?7,?8)",
    [SQ_DEF_LOAD] = "SELECT key, bpmn_process_id, version, resource_name, checksum, xml, "
                    "deployment_key, deploy_time FROM definitions ORDER BY key",
    [SQ_INST_PUT] = "INSERT INTO instances(" SQ_INSTANCE_COLUMNS ") "
                    "VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11) "
                    "ON CONFLICT(key) DO UPDATE SET definition_key = excluded.definition_key, "
                    "bpmn_process_id = excluded.bpmn_process_id, version = excluded.version, "
                    "state = excluded.state, has_incident = excluded.has_incident, "
                    "business_id = excluded.business_id, start_ms = excluded.start_ms, "
                    "end_ms = excluded.end_ms, parent_instance_key = excluded.parent_instance_key, "
                    "state_data = excluded.state_data",
    [SQ_INST_LOAD] = "SELECT " SQ_INSTANCE_COLUMNS " FROM instances WHERE state = 1 ORDER BY key",
    [SQ_INST_GET] = "SELECT " SQ_INSTANCE_COLUMNS " FROM instances WHERE key = ?1",
    [SQ_REC_APPEND] = "INSERT INTO records(first_position, instance_key, last_position, count, "
                      "data) VALUES(?1,?2,?3,?4,?5)",
    [SQ_REC_READ_INSTANCE] = "SELECT data, instance_key FROM records WHERE instance_key = ?1 AND "
                             "last_position > ?2 ORDER BY first_position",
    [SQ_REC_READ_ALL] = "SELECT data, instance_key FROM records WHERE last_position > ?1",
    [SQ_REC_MAX] = "SELECT coalesce(max(last_position), 0) FROM records",
    [SQ_LOG_RESUME] = "SELECT coalesce(min(first_position), ?1 + 1) FROM records "
                      "WHERE last_position > ?1",
    [SQ_LOG_SCAN] = "SELECT first_position, last_position, data, instance_key FROM records "
                    "WHERE first_position >= ?1 ORDER BY first_position",
    [SQ_OBJ_PUT] = "INSERT INTO objects(key, kind, data) VALUES(?1,?2,?3) "
                   "ON CONFLICT(key) DO UPDATE SET kind = excluded.kind, data = excluded.data",
    [SQ_OBJ_DELETE] = "DELETE FROM objects WHERE key = ?1",
    [SQ_OBJ_LOAD] = "SELECT key, kind, data FROM objects ORDER BY key",
};

/* Tables added after schema version 1 (created by an upgrade, too). */
static const char sq_schema_v2[] = "CREATE TABLE IF NOT EXISTS objects("
                                   " key INTEGER PRIMARY KEY,"
                                   " kind INTEGER NOT NULL,"
                                   " data BLOB NOT NULL);";

static const char sq_schema[] =
    "CREATE TABLE meta(name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE definitions("
    " key INTEGER PRIMARY KEY,"
    " bpmn_process_id TEXT NOT NULL,"
    " version INTEGER NOT NULL,"
    " resource_name TEXT,"
    " checksum TEXT,"
    " xml TEXT NOT NULL,"
    " deployment_key INTEGER NOT NULL,"
    " deploy_time INTEGER NOT NULL,"
    " UNIQUE(bpmn_process_id, version));"
    "CREATE TABLE instances("
    " key INTEGER PRIMARY KEY,"
    " definition_key INTEGER NOT NULL,"
    " bpmn_process_id TEXT NOT NULL,"
    " version INTEGER NOT NULL,"
    " state INTEGER NOT NULL,"
    " has_incident INTEGER NOT NULL DEFAULT 0,"
    " business_id TEXT,"
    " start_ms INTEGER NOT NULL,"
    " end_ms INTEGER NOT NULL DEFAULT 0,"
    " parent_instance_key INTEGER NOT NULL DEFAULT 0,"
    " state_data BLOB);"
    "CREATE INDEX instances_state ON instances(state);"
    "CREATE INDEX instances_process ON instances(bpmn_process_id, version);"
    "CREATE INDEX instances_business_id ON instances(business_id) WHERE state = 1;"
    "CREATE INDEX instances_start ON instances(start_ms);"
    "CREATE INDEX instances_state_start ON instances(state, start_ms);"
    "CREATE INDEX instances_process_start ON instances(bpmn_process_id, start_ms);"
    "CREATE TABLE records("
    " first_position INTEGER PRIMARY KEY,"
    " instance_key INTEGER NOT NULL,"
    " last_position INTEGER NOT NULL,"
    " count INTEGER NOT NULL,"
    " data BLOB NOT NULL);"
    "CREATE INDEX records_instance ON records(instance_key, first_position);"
    "CREATE INDEX records_last ON records(last_position);";

/* The records of one instance appended in the current transaction. */
typedef struct sq_chunk {
    uint64_t instance_key;
    uint64_t first, last;
    int64_t count;
    bt_buf data;
} sq_chunk;

typedef struct sq_store {
    sqlite3 *db;
    sqlite3_stmt *stmt[SQ_STMT_COUNT];
    bt_buf row; /* instance_get's copy of the row, valid until the next call */
    /* Records of the open transaction, one chunk per instance, written at commit. */
    sq_chunk *chunks;
    size_t n_chunks, cap_chunks;
    bt_map chunk_index;          /* instance_key | top bit → chunk index + 1 */
    uint64_t last_position;      /* highest position appended */
    uint64_t committed_position; /* highest position committed */
    bt_buf packed;               /* a compressed chunk, or a decompressed one when reading */
} sq_store;

/* ---- errors ------------------------------------------------------------------ */

/* Logs a failure of `what` with SQLite's message; returns the BT_E* code. */
static int sq_fail(sq_store *sq, int rc, const char *what) {
    bt_log(BT_LOG_ERROR, "store: sqlite %s failed: %s (%d) [%s]", what, sqlite3_errmsg(sq->db), rc,
           sqlite3_db_filename(sq->db, "main"));
    return sqlite_bt_code(rc);
}

/* Steps a statement that returns no row, then resets it. */
static int sq_run(sq_store *sq, int which, const char *what) {
    sqlite3_stmt *st = sq->stmt[which];
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return sq_fail(sq, rc, what);
    return BT_OK;
}

static void sq_bind_text(sqlite3_stmt *st, int i, const char *s) {
    if (s)
        sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, i);
}

static const char *sq_column_text(sqlite3_stmt *st, int i) {
    return (const char *)sqlite3_column_text(st, i); /* NULL for NULL */
}

/* ---- open and close -------------------------------------------------------------- */

static void sq_free(sq_store *sq) {
    if (!sq)
        return;
    if (sq->db && !sqlite3_get_autocommit(sq->db))
        sqlite3_exec(sq->db, "ROLLBACK", NULL, NULL, NULL);
    for (int i = 0; i < SQ_STMT_COUNT; i++)
        sqlite3_finalize(sq->stmt[i]);
    if (sq->db) {
        int rc = sqlite3_close(sq->db);
        if (rc != SQLITE_OK)
            bt_log(BT_LOG_ERROR, "store: sqlite close failed: %s", sqlite3_errstr(rc));
    }
    bt_buf_free(&sq->row);
    for (size_t i = 0; i < sq->cap_chunks; i++)
        bt_buf_free(&sq->chunks[i].data);
    bt_free(sq->chunks);
    bt_map_free(&sq->chunk_index);
    bt_buf_free(&sq->packed);
    bt_free(sq);
}

/* Runs SQL on the connection during open; fills err on failure. */
static int sq_exec_open(sq_store *sq, const char *sql, const char *path, bt_error *err) {
    int rc = sqlite3_exec(sq->db, sql, NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        return bt_error_set(err, sqlite_bt_code(rc), "store: %s: %s", path, sqlite3_errmsg(sq->db));
    return BT_OK;
}

/* Reads one integer from a single-row query during open; *found false when
 * it returns no row. */
static int sq_query_int(sq_store *sq, const char *sql, int64_t *out, bool *found, const char *path,
                        bt_error *err) {
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(sq->db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(st);
        *found = rc == SQLITE_ROW;
        if (rc == SQLITE_ROW) {
            *out = sqlite3_column_int64(st, 0);
            rc = SQLITE_OK;
        } else if (rc == SQLITE_DONE) {
            rc = SQLITE_OK;
        }
    }
    int code = BT_OK;
    if (rc != SQLITE_OK)
        code = bt_error_set(err, sqlite_bt_code(rc), "store: %s: %s", path, sqlite3_errmsg(sq->db));
    sqlite3_finalize(st);
    return code;
}

/* Creates the schema in a new store, or checks the version of an existing
 * one. Runs in one IMMEDIATE transaction so two processes opening a new file
 * at once do not both create it. */
static int sq_schema_ensure(sq_store *sq, bool read_only, const char *path, bt_error *err) {
    int rc = 0;
    if (!read_only && (rc = sq_exec_open(sq, "BEGIN IMMEDIATE", path, err)) != 0)
        return rc;
    int64_t tables = 0, has_meta = 0, version = 0;
    bool found = false;
    rc = sq_query_int(sq, "SELECT count(*) FROM sqlite_master", &tables, &found, path, err);
    if (rc == 0)
        rc = sq_query_int(sq,
                          "SELECT count(*) FROM sqlite_master WHERE type='table' AND name='meta'",
                          &has_meta, &found, path, err);
    if (rc == 0 && !has_meta) {
        if (tables > 0)
            rc = bt_error_set(err, BT_ECORRUPT,
                              "store: %s is an SQLite database but not a baton store "
                              "(it has tables but no 'meta' table)",
                              path);
        else if (read_only)
            rc = bt_error_set(err, BT_EIO, "store: %s is empty and the handle is read-only", path);
        else {
            char sql[128];
            snprintf(sql, sizeof sql,
                     "INSERT INTO meta(name, value) VALUES('schema_version', %d);"
                     "PRAGMA application_id = %d;",
                     SQ_SCHEMA_VERSION, SQ_APPLICATION_ID);
            rc = sq_exec_open(sq, sq_schema, path, err);
            if (rc == 0)
                rc = sq_exec_open(sq, sq_schema_v2, path, err);
            if (rc == 0)
                rc = sq_exec_open(sq, sql, path, err);
        }
    } else if (rc == 0) {
        rc = sq_query_int(sq, "SELECT value FROM meta WHERE name='schema_version'", &version,
                          &found, path, err);
        if (rc == 0 && !found)
            rc = bt_error_set(err, BT_ECORRUPT, "store: %s has no schema_version in its meta table",
                              path);
        else if (rc == 0 && version > SQ_SCHEMA_VERSION)
            rc = bt_error_set(err, BT_EUNSUPPORTED,
                              "store: %s has schema version %lld, newer than the version %d this "
                              "baton supports; upgrade baton to open it",
                              path, (long long)version, SQ_SCHEMA_VERSION);
        else if (rc == 0 && version < 1)
            rc = bt_error_set(err, BT_ECORRUPT, "store: %s has an invalid schema version %lld",
                              path, (long long)version);
        else if (rc == 0 && version < SQ_SCHEMA_VERSION && read_only)
            rc = bt_error_set(err, BT_EUNSUPPORTED,
                              "store: %s has schema version %lld; open it for writing once to "
                              "upgrade it",
                              path, (long long)version);
        else if (rc == 0 && version < SQ_SCHEMA_VERSION) {
            char sql[96];
            snprintf(sql, sizeof sql, "UPDATE meta SET value = %d WHERE name = 'schema_version'",
                     SQ_SCHEMA_VERSION);
            rc = sq_exec_open(sq, sq_schema_v2, path, err);
            if (rc == 0)
                rc = sq_exec_open(sq, sql, path, err);
        }
    }
    if (!read_only) {
        if (rc == 0)
            return sq_exec_open(sq, "COMMIT", path, err);
        sqlite3_exec(sq->db, "ROLLBACK", NULL, NULL, NULL);
    }
    return rc;
}

static int sq_open(const char *path, const store_options *opts, void **impl, char **description,
                   bt_error *err) {
    sq_store *sq = bt_calloc(1, sizeof *sq);
    if (!sq)
        return bt_error_set(err, BT_ENOMEM, "store: out of memory");
    int flags =
        SQLITE_OPEN_NOMUTEX |
        (opts->read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    int code = BT_OK;
    int rc = sqlite3_open_v2(path, &sq->db, flags, NULL);
    if (rc != SQLITE_OK) {
        code = bt_error_set(err, sqlite_bt_code(rc), "store: cannot open %s: %s", path,
                            sq->db ? sqlite3_errmsg(sq->db) : sqlite3_errstr(rc));
        goto fail;
    }
    sqlite3_extended_result_codes(sq->db, 1);
    sqlite3_busy_timeout(sq->db, SQ_BUSY_TIMEOUT_MS);

    /* The first statement that reads the file tells a database from a file
     * that is not one (SQLITE_NOTADB). */
    bool found = false;
    int64_t ignored = 0;
    if ((code =
             sq_query_int(sq, "SELECT count(*) FROM sqlite_master", &ignored, &found, path, err)))
        goto fail;
    if (!opts->read_only) {
        sqlite3_stmt *st = NULL;
        rc = sqlite3_prepare_v2(sq->db, "PRAGMA journal_mode=WAL", -1, &st, NULL);
        if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
            const char *mode = (const char *)sqlite3_column_text(st, 0);
            if (!mode || strcmp(mode, "wal") != 0)
                bt_log(BT_LOG_WARN, "store: %s: journal mode is %s, not wal", path,
                       mode ? mode : "?");
            rc = SQLITE_OK;
        }
        if (rc != SQLITE_OK)
            code = bt_error_set(err, sqlite_bt_code(rc), "store: %s: cannot set WAL mode: %s", path,
                                sqlite3_errmsg(sq->db));
        sqlite3_finalize(st);
        if (code)
            goto fail;
    }
    if ((code =
             sq_exec_open(sq, opts->no_sync ? "PRAGMA synchronous=OFF" : "PRAGMA synchronous=FULL",
                          path, err)) ||
        (code = sq_exec_open(sq, "PRAGMA foreign_keys=OFF; PRAGMA cache_size=-16384", path, err)) ||
        (code = sq_schema_ensure(sq, opts->read_only, path, err)))
        goto fail;

    for (int i = 0; i < SQ_STMT_COUNT; i++) {
        rc = sqlite3_prepare_v3(sq->db, sq_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &sq->stmt[i],
                                NULL);
        if (rc != SQLITE_OK) {
            code = bt_error_set(err, sqlite_bt_code(rc), "store: %s: cannot prepare \"%s\": %s",
                                path, sq_sql[i], sqlite3_errmsg(sq->db));
            goto fail;
        }
    }

    {
        sqlite3_stmt *st = sq->stmt[SQ_REC_MAX];
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW)
            sq->last_position = sq->committed_position = (uint64_t)sqlite3_column_int64(st, 0);
        sqlite3_reset(st);
        if (rc != SQLITE_ROW) {
            code = bt_error_set(err, sqlite_bt_code(rc), "store: %s: cannot read the log: %s", path,
                                sqlite3_errmsg(sq->db));
            goto fail;
        }
    }

    bt_buf d = BT_BUF_INIT;
    bt_buf_printf(&d, "sqlite:%s", sqlite3_db_filename(sq->db, "main"));
    if (d.failed) {
        code = bt_error_set(err, BT_ENOMEM, "store: out of memory");
        goto fail;
    }
    *description = bt_buf_take(&d);
    *impl = sq;
    return BT_OK;

fail:
    sq_free(sq);
    return code;
}

static void sq_close(void *impl) {
    sq_free(impl);
}

/* ---- transactions ------------------------------------------------------------------ */

static int sq_begin(void *impl) {
    return sq_run(impl, SQ_BEGIN, "begin");
}

/* Forgets the chunks of the open transaction (kept allocated for reuse). */
static void sq_chunks_clear(sq_store *sq) {
    for (size_t i = 0; i < sq->n_chunks; i++)
        bt_buf_reset(&sq->chunks[i].data);
    sq->n_chunks = 0;
    if (sq->chunk_index.count) {
        bt_free(sq->chunk_index.slots);
        sq->chunk_index = (bt_map)BT_MAP_INIT;
    }
}

/* Writes the transaction's record chunks, one row each. */
static int sq_chunks_write(sq_store *sq) {
    sqlite3_stmt *st = sq->stmt[SQ_REC_APPEND];
    for (size_t i = 0; i < sq->n_chunks; i++) {
        sq_chunk *c = &sq->chunks[i];
        if (c->data.failed)
            return BT_ENOMEM;
        sqlite3_bind_int64(st, 1, (sqlite3_int64)c->first);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)c->instance_key);
        sqlite3_bind_int64(st, 3, (sqlite3_int64)c->last);
        sqlite3_bind_int64(st, 4, c->count);
        int bound = LZ4_compressBound((int)c->data.len);
        bt_buf_reset(&sq->packed);
        if (bt_buf_reserve(&sq->packed, (size_t)bound + 5))
            return BT_ENOMEM;
        int z = LZ4_compress_default(c->data.data, sq->packed.data + 5, (int)c->data.len, bound);
        if (z > 0 && (size_t)z + 4 < c->data.len) {
            sq->packed.data[0] = 'L';
            uint32_t raw = (uint32_t)c->data.len;
            memcpy(sq->packed.data + 1, &raw, 4);
            sq->packed.len = (size_t)z + 5;
        } else {
            sq->packed.data[0] = 'R';
            memcpy(sq->packed.data + 1, c->data.data, c->data.len);
            sq->packed.len = c->data.len + 1;
        }
        sqlite3_bind_blob64(st, 5, sq->packed.data, sq->packed.len, SQLITE_STATIC);
        int rc = sq_run(sq, SQ_REC_APPEND, "record_append");
        if (rc != BT_OK)
            return rc;
    }
    return BT_OK;
}

static void sq_rollback(void *impl) {
    sq_store *sq = impl;
    sq_chunks_clear(sq);
    sq->last_position = sq->committed_position;
    if (sqlite3_get_autocommit(sq->db))
        return; /* already rolled back by SQLite after an error */
    sq_run(sq, SQ_ROLLBACK, "rollback");
}

static int sq_commit(void *impl) {
    sq_store *sq = impl;
    if (sqlite3_get_autocommit(sq->db)) {
        bt_log(BT_LOG_ERROR, "store: commit failed: an earlier error rolled the transaction back");
        return BT_EIO;
    }
    int rc = sq_chunks_write(sq);
    if (rc == BT_OK)
        rc = sq_run(sq, SQ_COMMIT, "commit");
    if (rc != 0) {
        sq_rollback(sq); /* COMMIT may fail and leave the transaction open */
        return rc;
    }
    sq_chunks_clear(sq);
    sq->committed_position = sq->last_position;
    return rc;
}

/* ---- meta ---------------------------------------------------------------------- */

static int sq_meta_get(void *impl, const char *name, int64_t fallback, int64_t *out) {
    sq_store *sq = impl;
    sqlite3_stmt *st = sq->stmt[SQ_META_GET];
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    *out = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : fallback;
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return sq_fail(sq, rc, "meta_get");
    return BT_OK;
}

static int sq_meta_set(void *impl, const char *name, int64_t value) {
    sq_store *sq = impl;
    sqlite3_stmt *st = sq->stmt[SQ_META_SET];
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, value);
    return sq_run(sq, SQ_META_SET, "meta_set");
}

/* ---- definitions ------------------------------------------------------------------- */

static int sq_definition_put(void *impl, const store_definition *d) {
    sq_store *sq = impl;
    sqlite3_stmt *st = sq->stmt[SQ_DEF_PUT];
    sqlite3_bind_int64(st, 1, (sqlite3_int64)d->key);
    sqlite3_bind_text(st, 2, d->bpmn_process_id, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 3, d->version);
    sq_bind_text(st, 4, d->resource_name);
    sq_bind_text(st, 5, d->checksum);
    sqlite3_bind_text64(st, 6, d->xml, d->xml_len, SQLITE_STATIC, SQLITE_UTF8);
    sqlite3_bind_int64(st, 7, (sqlite3_int64)d->deployment_key);
    sqlite3_bind_int64(st, 8, d->deploy_time_ms);
    return sq_run(sq, SQ_DEF_PUT, "definition_put");
}

static int sq_definitions_load(void *impl, store_definition_cb cb, void *ud) {
    sq_store *sq = impl;
    sqlite3_stmt *st = sq->stmt[SQ_DEF_LOAD];
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        store_definition d = {
            .key = (uint64_t)sqlite3_column_int64(st, 0),
            .bpmn_process_id = sq_column_text(st, 1),
            .version = sqlite3_column_int(st, 2),
            .resource_name = sq_column_text(st, 3),
            .checksum = sq_column_text(st, 4),
            .xml = sq_column_text(st, 5),
            .xml_len = (size_t)sqlite3_column_bytes(st, 5),
            .deployment_key = (uint64_t)sqlite3_column_int64(st, 6),
            .deploy_time_ms = sqlite3_column_int64(st, 7),
        };
        int stop = cb(ud, &d);
        if (stop) {
            sqlite3_reset(st);
            return stop;
        }
    }
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? BT_OK : sq_fail(sq, rc, "definitions_load");
}

/* ---- engine objects ---------------------------------------------------------------- */

static int sq_object_put(void *impl, const store_object *o) {
    sq_store *sq = impl;
    sqlite3_stmt *st = sq->stmt[SQ_OBJ_PUT];
    sqlite3_bind_int64(st, 1, (sqlite3_int64)o->key);
    sqlite3_bind_int(st, 2, o->kind);
    sqlite3_bind_blob64(st, 3, o->data, o->len, SQLITE_STATIC);
    return sq_run(sq, SQ_OBJ_PUT, "object_put");
}

static int sq_object_delete(void *impl, uint64_t key) {
    sq_store *sq = impl;
    sqlite3_bind_int64(sq->stmt[SQ_OBJ_DELETE], 1, (sqlite3_int64)key);
    return sq_run(sq, SQ_OBJ_DELETE, "object_delete");
}

static int sq_objects_load(void *impl, store_object_cb cb, void *ud) {
    sq_store *sq = impl;
    sqlite3_stmt *st = sq->stmt[SQ_OBJ_LOAD];
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        store_object o = {
            .key = (uint64_t)sqlite3_column_int64(st, 0),
            .kind = sqlite3_column_int(st, 1),
            .data = sqlite3_column_blob(st, 2),
            .len = (size_t)sqlite3_column_bytes(st, 2),
        };
        if (!o.data)
            o.data = "";
        int stop = cb(ud, &o);
        if (stop) {
            sqlite3_reset(st);
            return stop;
        }
    }
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? BT_OK : sq_fail(sq, rc, "objects_load");
}

/* ---- instances -------------------------------------------------------------------- */

static int sq_instance_put(void *impl, const store_instance *inst) {
    sq_store *sq = impl;
    sqlite3_stmt *st = sq->stmt[SQ_INST_PUT];
    sqlite3_bind_int64(st, 1, (sqlite3_int64)inst->key);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)inst->definition_key);
    sqlite3_bind_text(st, 3, inst->bpmn_process_id, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 4, inst->version);
    sqlite3_bind_int(st, 5, inst->state);
    sqlite3_bind_int(st, 6, inst->has_incident ? 1 : 0);
    sq_bind_text(st, 7, inst->business_id);
    sqlite3_bind_int64(st, 8, inst->start_ms);
    sqlite3_bind_int64(st, 9, inst->end_ms);
    sqlite3_bind_int64(st, 10, (sqlite3_int64)inst->parent_instance_key);
    if (inst->state_data)
        sqlite3_bind_blob64(st, 11, inst->state_data, inst->state_len, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 11);
    return sq_run(sq, SQ_INST_PUT, "instance_put");
}

/* Fills *inst from the current row of an SQ_INSTANCE_COLUMNS query. The
 * pointers are SQLite's, valid until the statement steps or resets. */
static void sq_instance_row(sqlite3_stmt *st, store_instance *inst) {
    *inst = (store_instance){
        .key = (uint64_t)sqlite3_column_int64(st, 0),
        .definition_key = (uint64_t)sqlite3_column_int64(st, 1),
        .bpmn_process_id = sq_column_text(st, 2),
        .version = sqlite3_column_int(st, 3),
        .state = sqlite3_column_int(st, 4),
        .has_incident = sqlite3_column_int(st, 5) != 0,
        .business_id = sq_column_text(st, 6),
        .start_ms = sqlite3_column_int64(st, 7),
        .end_ms = sqlite3_column_int64(st, 8),
        .parent_instance_key = (uint64_t)sqlite3_column_int64(st, 9),
        .state_data = NULL,
        .state_len = 0,
    };
    if (sqlite3_column_type(st, 10) != SQLITE_NULL) {
        inst->state_data = sqlite3_column_blob(st, 10);
        inst->state_len = (size_t)sqlite3_column_bytes(st, 10);
        if (!inst->state_data)
            inst->state_data = ""; /* an empty, non-NULL blob stays non-NULL */
    }
}

/* The WHERE clause of a search: the filter's present fields, numbered so
 * that sq_search_bind binds every statement the same way. */
static void sq_search_where(bt_buf *sql, const store_instance_filter *f) {
    bt_buf_puts(sql, " WHERE 1");
    if (f->key)
        bt_buf_puts(sql, " AND key = ?1");
    if (f->bpmn_process_id)
        bt_buf_puts(sql, " AND bpmn_process_id = ?2");
    if (f->version)
        bt_buf_puts(sql, " AND version = ?3");
    if (f->definition_key)
        bt_buf_puts(sql, " AND definition_key = ?4");
    if (f->state)
        bt_buf_puts(sql, " AND state = ?5");
    if (f->has_incident >= 0)
        bt_buf_puts(sql, " AND has_incident = ?6");
    if (f->business_id)
        bt_buf_puts(sql, " AND business_id = ?7");
}

/* Binds what sq_search_where may refer to (unused numbers are harmless). */
static void sq_search_bind(sqlite3_stmt *st, const store_instance_filter *f) {
    sqlite3_bind_int64(st, 1, (sqlite3_int64)f->key);
    sq_bind_text(st, 2, f->bpmn_process_id);
    sqlite3_bind_int(st, 3, f->version);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)f->definition_key);
    sqlite3_bind_int(st, 5, f->state);
    sqlite3_bind_int(st, 6, f->has_incident > 0);
    sq_bind_text(st, 7, f->business_id);
}

/* One ORDER BY criterion (store.h's order): "none" first as a flag that is
 * ascending whatever the direction, so that it sorts last; a text column
 * as (not all digits, length of an all-digit value, bytes). */
static void sq_search_order(bt_buf *sql, const store_instance_order *o) {
    const char *dir = o->desc ? " DESC" : "";
    const char *text = NULL;
    switch (o->column) {
    case STORE_COL_KEY: bt_buf_printf(sql, "key%s, ", dir); return;
    case STORE_COL_VERSION: bt_buf_printf(sql, "version%s, ", dir); return;
    case STORE_COL_DEFINITION_KEY: bt_buf_printf(sql, "definition_key%s, ", dir); return;
    case STORE_COL_START: bt_buf_printf(sql, "start_ms%s, ", dir); return;
    case STORE_COL_END: bt_buf_printf(sql, "end_ms = 0, end_ms%s, ", dir); return;
    case STORE_COL_STATE: bt_buf_printf(sql, "state%s, ", dir); return;
    case STORE_COL_HAS_INCIDENT: bt_buf_printf(sql, "has_incident%s, ", dir); return;
    case STORE_COL_BPMN_PROCESS_ID: text = "bpmn_process_id"; break;
    case STORE_COL_BUSINESS_ID: text = "business_id"; break;
    }
    if (!text)
        return;
    bt_buf_printf(sql,
                  "%s IS NULL, (%s GLOB '*[^0-9]*' OR %s = '')%s, "
                  "CASE WHEN %s GLOB '*[^0-9]*' OR %s = '' THEN 0 ELSE length(%s) END%s, %s%s, ",
                  text, text, text, dir, text, text, text, dir, text, dir);
}

/* Two queries built for the search's fields, prepared per call (searches
 * are rare next to writes): the count when asked, then the page. Both run
 * on this handle's connection, so they see the same committed state (the
 * handle is used by one thread). state_data is not selected. */
static int sq_instances_search(void *impl, const store_instance_filter *f, store_instance_cb cb,
                               void *ud) {
    sq_store *sq = impl;
    sqlite3_stmt *st = NULL;
    int rc;
    bt_buf sql = BT_BUF_INIT;
    if (f->total) {
        bt_buf_puts(&sql, "SELECT count(*) FROM instances");
        sq_search_where(&sql, f);
        if (sql.failed) {
            bt_buf_free(&sql);
            return BT_ENOMEM;
        }
        rc = sqlite3_prepare_v2(sq->db, sql.data, -1, &st, NULL);
        bt_buf_reset(&sql);
        if (rc != SQLITE_OK) {
            bt_buf_free(&sql);
            return sq_fail(sq, rc, "instances_search");
        }
        sq_search_bind(st, f);
        rc = sqlite3_step(st);
        *f->total = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
        sqlite3_finalize(st);
        if (rc != SQLITE_ROW) {
            bt_buf_free(&sql);
            return sq_fail(sq, rc, "instances_search");
        }
    }
    bt_buf_puts(&sql, "SELECT key, definition_key, bpmn_process_id, version, state, has_incident, "
                      "business_id, start_ms, end_ms, parent_instance_key, NULL FROM instances");
    sq_search_where(&sql, f);
    bt_buf_puts(&sql, " ORDER BY ");
    for (size_t i = 0; i < f->n_order && f->order; i++)
        sq_search_order(&sql, &f->order[i]);
    bt_buf_puts(&sql, "key LIMIT ?8 OFFSET ?9");
    if (sql.failed) {
        bt_buf_free(&sql);
        return BT_ENOMEM;
    }
    rc = sqlite3_prepare_v2(sq->db, sql.data, -1, &st, NULL);
    bt_buf_free(&sql);
    if (rc != SQLITE_OK)
        return sq_fail(sq, rc, "instances_search");
    sq_search_bind(st, f);
    sqlite3_bind_int64(st, 8, f->limit > 0 ? f->limit : -1);
    sqlite3_bind_int64(st, 9, f->offset > 0 ? f->offset : 0);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        store_instance inst;
        sq_instance_row(st, &inst);
        int stop = cb(ud, &inst);
        if (stop) {
            sqlite3_finalize(st);
            return stop;
        }
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? BT_OK : sq_fail(sq, rc, "instances_search");
}

static int sq_instances_load(void *impl, store_instance_cb cb, void *ud) {
    sq_store *sq = impl;
    sqlite3_stmt *st = sq->stmt[SQ_INST_LOAD];
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        store_instance inst;
        sq_instance_row(st, &inst);
        int stop = cb(ud, &inst);
        if (stop) {
            sqlite3_reset(st);
            return stop;
        }
    }
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? BT_OK : sq_fail(sq, rc, "instances_load");
}

/* Appends n bytes and a NUL to the row buffer; returns the offset. */
static size_t sq_row_copy(bt_buf *b, const void *p, size_t n) {
    size_t at = b->len;
    bt_buf_append(b, p, n);
    bt_buf_putc(b, '\0');
    return at;
}

static int sq_instance_get(void *impl, uint64_t key, store_instance *out) {
    sq_store *sq = impl;
    sqlite3_stmt *st = sq->stmt[SQ_INST_GET];
    sqlite3_bind_int64(st, 1, (sqlite3_int64)key);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        sqlite3_reset(st);
        return rc == SQLITE_DONE ? BT_ENOTFOUND : sq_fail(sq, rc, "instance_get");
    }
    /* The row's strings and blob are copied into one reused buffer: the
     * statement is reset before return (an unreset statement would hold
     * a read snapshot open), and the caller's pointers must outlive it. */
    store_instance inst;
    sq_instance_row(st, &inst);
    bt_buf *b = &sq->row;
    bt_buf_reset(b);
    size_t id_at = sq_row_copy(b, inst.bpmn_process_id, strlen(inst.bpmn_process_id));
    size_t business_at =
        inst.business_id ? sq_row_copy(b, inst.business_id, strlen(inst.business_id)) : 0;
    size_t state_at = inst.state_data ? sq_row_copy(b, inst.state_data, inst.state_len) : 0;
    sqlite3_reset(st);
    if (b->failed) {
        bt_buf_free(b); /* back to an empty, usable buffer */
        return BT_ENOMEM;
    }
    inst.bpmn_process_id = b->data + id_at;
    if (inst.business_id)
        inst.business_id = b->data + business_at;
    if (inst.state_data)
        inst.state_data = b->data + state_at;
    *out = inst;
    return BT_OK;
}

/* ---- records ----------------------------------------------------------------------- */

static void put_varint(bt_buf *b, uint64_t v) {
    unsigned char tmp[10];
    int n = 0;
    do {
        tmp[n] = v & 0x7f;
        v >>= 7;
        tmp[n++] |= v ? 0x80 : 0;
    } while (v);
    bt_buf_append(b, tmp, (size_t)n);
}

static void put_bytes(bt_buf *b, const char *s, size_t n) {
    put_varint(b, n);
    bt_buf_append(b, s, n);
}

static int sq_record_append(void *impl, const store_record *r) {
    sq_store *sq = impl;
    if (sqlite3_get_autocommit(sq->db))
        return BT_ECONFLICT; /* store.c checks too; this backend buffers until commit */
    if (r->position <= sq->last_position) {
        bt_log(BT_LOG_ERROR, "store: record position %llu is not after %llu",
               (unsigned long long)r->position, (unsigned long long)sq->last_position);
        return BT_ECONFLICT;
    }
    uint64_t slot = r->instance_key | (1ULL << 63);
    uintptr_t idx = (uintptr_t)bt_map_get(&sq->chunk_index, slot);
    sq_chunk *c;
    if (idx) {
        c = &sq->chunks[idx - 1];
    } else {
        if (sq->n_chunks == sq->cap_chunks) {
            size_t cap = sq->cap_chunks ? sq->cap_chunks * 2 : 64;
            sq_chunk *grown = bt_realloc(sq->chunks, cap * sizeof *grown);
            if (!grown)
                return BT_ENOMEM;
            memset(grown + sq->cap_chunks, 0, (cap - sq->cap_chunks) * sizeof *grown);
            sq->chunks = grown;
            sq->cap_chunks = cap;
        }
        c = &sq->chunks[sq->n_chunks++];
        c->instance_key = r->instance_key;
        c->first = r->position;
        c->count = 0;
        bt_buf_reset(&c->data);
        c->data.failed = false;
        bt_map_put(&sq->chunk_index, slot, (void *)(uintptr_t)sq->n_chunks);
    }
    c->last = r->position;
    c->count++;
    put_varint(&c->data, r->position);
    put_varint(&c->data, r->key);
    put_varint(&c->data, ((uint64_t)r->timestamp_ms << 1) ^ (uint64_t)(r->timestamp_ms >> 63));
    put_bytes(&c->data, r->value_type, strlen(r->value_type));
    put_bytes(&c->data, r->intent, strlen(r->intent));
    put_bytes(&c->data, r->value, r->value_len);
    if (c->data.failed)
        return BT_ENOMEM;
    sq->last_position = r->position;
    return BT_OK;
}

/* ---- reading chunks ---- */

typedef struct chunk_reader {
    const unsigned char *p, *end;
} chunk_reader;

static bool get_varint(chunk_reader *r, uint64_t *v) {
    *v = 0;
    for (int shift = 0; shift < 64 && r->p < r->end; shift += 7) {
        unsigned char c = *r->p++;
        *v |= (uint64_t)(c & 0x7f) << shift;
        if (!(c & 0x80))
            return true;
    }
    return false;
}

/* A decoded record; value_type and intent are copied NUL-terminated into
 * `text` (they are short), the value is copied too: chunks come from SQLite
 * rows that do not outlive the step. */
typedef struct decoded {
    store_record r;
    char *text;
} decoded;

static bool get_field(chunk_reader *r, bt_buf *into, size_t *offset, size_t *len) {
    uint64_t n;
    if (!get_varint(r, &n) || n > (uint64_t)(r->end - r->p))
        return false;
    *offset = into->len;
    *len = (size_t)n;
    bt_buf_append(into, r->p, (size_t)n);
    bt_buf_putc(into, 0);
    r->p += n;
    return !into->failed;
}

/* Decodes one chunk, appending the records with position > after to *out. */
static int chunk_decode(const void *data, size_t len, uint64_t instance_key, uint64_t after,
                        decoded **out, size_t *n, size_t *cap) {
    chunk_reader rd = {data, (const unsigned char *)data + len};
    while (rd.p < rd.end) {
        uint64_t pos, key, ts;
        if (!get_varint(&rd, &pos) || !get_varint(&rd, &key) || !get_varint(&rd, &ts))
            return BT_ECORRUPT;
        bt_buf text = BT_BUF_INIT;
        size_t o_type, l_type, o_intent, l_intent, o_value, l_value;
        if (!get_field(&rd, &text, &o_type, &l_type) ||
            !get_field(&rd, &text, &o_intent, &l_intent) ||
            !get_field(&rd, &text, &o_value, &l_value)) {
            bool oom = text.failed;
            bt_buf_free(&text);
            return oom ? BT_ENOMEM : BT_ECORRUPT;
        }
        if (pos <= after) {
            bt_buf_free(&text);
            continue;
        }
        if (*n == *cap) {
            size_t c = *cap ? *cap * 2 : 64;
            decoded *grown = bt_realloc(*out, c * sizeof *grown);
            if (!grown) {
                bt_buf_free(&text);
                return BT_ENOMEM;
            }
            *out = grown;
            *cap = c;
        }
        char *t = bt_buf_take(&text);
        if (!t)
            return BT_ENOMEM;
        (*out)[(*n)++] = (decoded){
            .r = {.position = pos,
                  .key = key,
                  .timestamp_ms = (int64_t)(ts >> 1) ^ -(int64_t)(ts & 1),
                  .value_type = t + o_type,
                  .intent = t + o_intent,
                  .instance_key = instance_key,
                  .value = t + o_value,
                  .value_len = l_value},
            .text = t,
        };
    }
    return BT_OK;
}

/* The raw chunk of a stored blob: the bytes after an 'R' tag, or an 'L'
 * tag's LZ4 block decompressed into sq->packed (valid until the next call). */
static int chunk_unpack(sq_store *sq, const unsigned char *blob, size_t blen, const void **data,
                        size_t *dlen) {
    if (blen == 0 || !blob || (blob[0] != 'R' && blob[0] != 'L'))
        return BT_ECORRUPT;
    *data = blob + 1;
    *dlen = blen - 1;
    if (blob[0] == 'R')
        return BT_OK;
    uint32_t raw;
    if (*dlen < 4)
        return BT_ECORRUPT;
    memcpy(&raw, *data, 4);
    bt_buf_reset(&sq->packed);
    if (raw > (64u << 20))
        return BT_ECORRUPT;
    if (bt_buf_reserve(&sq->packed, raw))
        return BT_ENOMEM;
    int got =
        LZ4_decompress_safe((const char *)*data + 4, sq->packed.data, (int)*dlen - 4, (int)raw);
    if (got != (int)raw)
        return BT_ECORRUPT;
    *data = sq->packed.data;
    *dlen = raw;
    return BT_OK;
}

static int decoded_cmp(const void *a, const void *b) {
    uint64_t x = ((const decoded *)a)->r.position, y = ((const decoded *)b)->r.position;
    return x < y ? -1 : x > y;
}

static int sq_records_read(void *impl, uint64_t instance_key, uint64_t after, size_t limit,
                           store_record_cb cb, void *ud) {
    sq_store *sq = impl;
    sqlite3_stmt *st = sq->stmt[instance_key ? SQ_REC_READ_INSTANCE : SQ_REC_READ_ALL];
    int bind = 1;
    if (instance_key)
        sqlite3_bind_int64(st, bind++, (sqlite3_int64)instance_key);
    sqlite3_bind_int64(st, bind, (sqlite3_int64)after);
    /* Collect first: one instance's chunks are in order already; the
     * chunks of all instances interleave and are sorted by position. */
    decoded *recs = NULL;
    size_t n = 0, cap = 0;
    int rc, code = BT_OK;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && code == BT_OK) {
        uint64_t owner = (uint64_t)sqlite3_column_int64(st, 1);
        const unsigned char *blob = sqlite3_column_blob(st, 0);
        size_t blen = (size_t)sqlite3_column_bytes(st, 0);
        const void *data;
        size_t dlen;
        code = chunk_unpack(sq, blob, blen, &data, &dlen);
        if (code != BT_OK)
            break;
        code = chunk_decode(data, dlen, owner, after, &recs, &n, &cap);
        if (instance_key && limit && n >= limit)
            break;
    }
    sqlite3_reset(st);
    if (code == BT_OK && rc != SQLITE_ROW && rc != SQLITE_DONE)
        code = sq_fail(sq, rc, "records_read");
    if (code == BT_OK && !instance_key && n > 1)
        qsort(recs, n, sizeof *recs, decoded_cmp);
    for (size_t i = 0; code == BT_OK && i < n && (!limit || i < limit); i++) {
        int stop = cb(ud, &recs[i].r);
        if (stop)
            code = stop;
    }
    for (size_t i = 0; i < n; i++)
        bt_free(recs[i].text);
    bt_free(recs);
    return code;
}

/* ---- reading the whole log, resumably ---- */

static int sq_log_last(void *impl, uint64_t *out) {
    sq_store *sq = impl;
    sqlite3_stmt *st = sq->stmt[SQ_REC_MAX];
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *out = (uint64_t)sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? BT_OK : sq_fail(sq, rc, "log_last");
}

/* The span of a chunk read by sq_log_read, to find the next resume point. */
typedef struct chunk_span {
    uint64_t first, last;
} chunk_span;

static int sq_log_read(void *impl, store_log_cursor *cur, size_t limit, store_record_cb cb,
                       void *ud, size_t *n_out) {
    sq_store *sq = impl;
    uint64_t after = cur->position;
    int rc;
    /* Resume point unknown (a new reader): the first chunk that ends after
     * the cursor. A range scan of records_last, once per reader. */
    if (cur->resume == 0) {
        sqlite3_stmt *st = sq->stmt[SQ_LOG_RESUME];
        sqlite3_bind_int64(st, 1, (sqlite3_int64)after);
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW)
            cur->resume = (uint64_t)sqlite3_column_int64(st, 0);
        sqlite3_reset(st);
        if (rc != SQLITE_ROW)
            return sq_fail(sq, rc, "log_read");
    }
    /* One statement, one snapshot: the chunks in first_position order from
     * the resume point. Stop at a chunk starting after `limit` records when
     * at least one collected record lies before it (records below the next
     * unread chunk's first position are final). */
    sqlite3_stmt *st = sq->stmt[SQ_LOG_SCAN];
    sqlite3_bind_int64(st, 1, (sqlite3_int64)cur->resume);
    decoded *recs = NULL;
    size_t n = 0, cap = 0, n_spans = 0, cap_spans = 0;
    chunk_span *spans = NULL;
    uint64_t next_first = UINT64_MAX, min_pos = UINT64_MAX;
    int code = BT_OK;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        uint64_t first = (uint64_t)sqlite3_column_int64(st, 0);
        uint64_t last = (uint64_t)sqlite3_column_int64(st, 1);
        if (n >= limit && min_pos < first) {
            next_first = first;
            break;
        }
        if (last <= after)
            continue; /* delivered whole already */
        if (n_spans == cap_spans) {
            size_t c = cap_spans ? cap_spans * 2 : 64;
            chunk_span *grown = bt_realloc(spans, c * sizeof *grown);
            if (!grown) {
                code = BT_ENOMEM;
                break;
            }
            spans = grown;
            cap_spans = c;
        }
        spans[n_spans++] = (chunk_span){first, last};
        const void *data;
        size_t dlen;
        size_t before = n;
        code = chunk_unpack(sq, sqlite3_column_blob(st, 2), (size_t)sqlite3_column_bytes(st, 2),
                            &data, &dlen);
        if (code == BT_OK)
            code = chunk_decode(data, dlen, (uint64_t)sqlite3_column_int64(st, 3), after, &recs, &n,
                                &cap);
        if (code != BT_OK)
            break;
        for (size_t i = before; i < n; i++)
            if (recs[i].r.position < min_pos)
                min_pos = recs[i].r.position;
    }
    sqlite3_reset(st);
    if (code == BT_OK && rc != SQLITE_ROW && rc != SQLITE_DONE)
        code = sq_fail(sq, rc, "log_read");
    if (code == BT_OK && n > 1)
        qsort(recs, n, sizeof *recs, decoded_cmp);
    size_t delivered = 0;
    for (size_t i = 0; code == BT_OK && i < n && delivered < limit; i++) {
        if (recs[i].r.position >= next_first)
            break;
        int stop = cb(ud, &recs[i].r);
        if (stop) {
            code = stop;
            break;
        }
        cur->position = recs[i].r.position;
        delivered++;
    }
    if (delivered > 0) {
        /* Every chunk starting at or before the new position was read; the
         * next read resumes at the first of them that is not delivered
         * whole, else just after the position. */
        uint64_t resume = cur->position + 1;
        for (size_t i = 0; i < n_spans; i++)
            if (spans[i].last > cur->position && spans[i].first < resume)
                resume = spans[i].first;
        cur->resume = resume;
    }
    for (size_t i = 0; i < n; i++)
        bt_free(recs[i].text);
    bt_free(recs);
    bt_free(spans);
    *n_out = delivered;
    return code;
}

/* ---- the operations table ------------------------------------------------------------ */

const store_ops store_sqlite_ops = {
    .name = "sqlite",
    .open = sq_open,
    .close = sq_close,
    .begin = sq_begin,
    .commit = sq_commit,
    .rollback = sq_rollback,
    .meta_get = sq_meta_get,
    .meta_set = sq_meta_set,
    .definition_put = sq_definition_put,
    .definitions_load = sq_definitions_load,
    .instance_put = sq_instance_put,
    .instances_load = sq_instances_load,
    .instances_search = sq_instances_search,
    .instance_get = sq_instance_get,
    .object_put = sq_object_put,
    .object_delete = sq_object_delete,
    .objects_load = sq_objects_load,
    .record_append = sq_record_append,
    .records_read = sq_records_read,
    .log_read = sq_log_read,
    .log_last = sq_log_last,
};
