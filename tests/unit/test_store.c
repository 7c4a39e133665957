/* Unit tests for src/store with the SQLite backend: schema creation, the
 * four tables, transactions (commit, rollback, close with a transaction
 * open), durability across a SIGKILL of the writing process, a commit whose
 * fsync fails (through a fault-injecting SQLite VFS), files that are not
 * stores, and stores from a newer baton.
 *
 * Every test gets a fresh directory from mkdtemp under /tmp (the setup) and
 * removes it at the end (the teardown). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <dirent.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "store/store.h"

typedef struct fixture {
    char dir[64];
    char path[128]; /* dir/baton.db */
} fixture;

static int fixture_setup(void **state) {
    fixture *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    strcpy(f->dir, "/tmp/baton-store-XXXXXX");
    if (!mkdtemp(f->dir)) {
        free(f);
        return -1;
    }
    snprintf(f->path, sizeof f->path, "%s/baton.db", f->dir);
    *state = f;
    return 0;
}

static int fixture_teardown(void **state) {
    fixture *f = *state;
    DIR *d = opendir(f->dir);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            char p[512];
            snprintf(p, sizeof p, "%s/%s", f->dir, e->d_name);
            unlink(p);
        }
        closedir(d);
    }
    int rc = rmdir(f->dir);
    free(f);
    return rc;
}

static store *open_ok(const fixture *f) {
    store *s = NULL;
    bt_error err;
    int rc = store_open(f->path, NULL, &s, &err);
    if (rc != 0)
        fprintf(stderr, "store_open: %s\n", err.message);
    assert_int_equal(rc, 0);
    assert_non_null(s);
    return s;
}

static store_instance instance_make(uint64_t key, int state, const char *business_id,
                                    const void *data, size_t len) {
    return (store_instance){
        .key = key,
        .definition_key = 100,
        .bpmn_process_id = "trip",
        .version = 1,
        .state = state,
        .has_incident = false,
        .business_id = business_id,
        .start_ms = 1700000000000 + (int64_t)key,
        .end_ms = state == STORE_INSTANCE_ACTIVE ? 0 : 1700000009999,
        .parent_instance_key = 0,
        .state_data = data,
        .state_len = len,
    };
}

static store_record record_make(uint64_t position, uint64_t instance_key, const char *value) {
    return (store_record){
        .position = position,
        .key = instance_key ? instance_key : position,
        .timestamp_ms = 1700000000000 + (int64_t)position,
        .value_type = "PROCESS_INSTANCE",
        .intent = position % 2 ? "ELEMENT_ACTIVATING" : "ELEMENT_ACTIVATED",
        .instance_key = instance_key,
        .value = value,
        .value_len = strlen(value),
    };
}

/* ---- callbacks that collect what a walk delivers ---------------------------- */

typedef struct collected {
    int count;
    uint64_t keys[64];
    int stop_after; /* 0: never stop */
} collected;

static int collect_definition(void *ud, const store_definition *d) {
    collected *c = ud;
    c->keys[c->count++] = d->key;
    if (d->key == 10) {
        assert_string_equal(d->bpmn_process_id, "trip");
        assert_int_equal(d->version, 1);
        assert_string_equal(d->resource_name, "trip.bpmn");
        assert_string_equal(d->checksum, "abc123");
        assert_int_equal(d->xml_len, 15);
        assert_memory_equal(d->xml, "<definitions/>\n", 15);
        assert_int_equal(d->deployment_key, 9);
        assert_int_equal(d->deploy_time_ms, 1700000000123);
    } else {
        assert_null(d->resource_name);
        assert_null(d->checksum);
    }
    return c->stop_after && c->count == c->stop_after ? 77 : 0;
}

static int collect_instance(void *ud, const store_instance *inst) {
    collected *c = ud;
    assert_int_equal(inst->state, STORE_INSTANCE_ACTIVE);
    c->keys[c->count++] = inst->key;
    return 0;
}

static int collect_record(void *ud, const store_record *r) {
    collected *c = ud;
    assert_int_equal(r->value_len, strlen(r->value));
    assert_string_equal(r->value_type, "PROCESS_INSTANCE");
    assert_int_equal(r->timestamp_ms, 1700000000000 + (int64_t)r->position);
    c->keys[c->count++] = r->position;
    return c->stop_after && c->count == c->stop_after ? 5 : 0;
}

/* ---- schema --------------------------------------------------------------------- */

static int count_rows(sqlite3 *db, const char *sql) {
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int n = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return n;
}

static void test_open_creates_schema(void **state) {
    fixture *f = *state;
    store *s = NULL;
    bt_error err;
    char location[160];
    snprintf(location, sizeof location, "sqlite:%s", f->path);
    assert_int_equal(store_open(location, NULL, &s, &err), 0);
    char want[160];
    snprintf(want, sizeof want, "sqlite:%s", f->path);
    assert_string_equal(store_describe(s), want);
    int64_t v = 0;
    assert_int_equal(store_meta_get(s, "schema_version", -1, &v), 0);
    assert_int_equal(v, 2);
    store_close(s);

    /* Look at the file with SQLite itself. */
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(f->path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(count_rows(db,
                                "SELECT count(*) FROM sqlite_master WHERE type='table' AND "
                                "name IN ('meta','definitions','instances','records','objects')"),
                     5);
    assert_int_equal(count_rows(db, "SELECT count(*) FROM sqlite_master WHERE type='index' AND "
                                    "name IN ('instances_state','instances_process',"
                                    "'instances_business_id','instances_start',"
                                    "'records_instance')"),
                     5);
    assert_int_equal(count_rows(db, "SELECT count(*) FROM pragma_journal_mode WHERE "
                                    "journal_mode='wal'"),
                     1);
    sqlite3_close(db);

    /* Opening again keeps the schema (and does not fail on it). */
    s = open_ok(f);
    assert_int_equal(store_meta_get(s, "schema_version", -1, &v), 0);
    assert_int_equal(v, 2);
    store_close(s);
    store_close(NULL);
}

static void test_open_rejects_bad_locations(void **state) {
    fixture *f = *state;
    store *s = (store *)&s;
    bt_error err;
    assert_int_equal(store_open("", NULL, &s, &err), BT_EINVAL);
    assert_null(s);
    assert_int_equal(store_open("sqlite:", NULL, &s, &err), BT_EINVAL);
    assert_int_equal(store_open("postgres://localhost/baton", NULL, &s, &err), BT_EUNSUPPORTED);
    assert_non_null(strstr(err.message, "postgres"));
    char missing[200];
    snprintf(missing, sizeof missing, "%s/no/such/dir/baton.db", f->dir);
    assert_int_equal(store_open(missing, NULL, &s, &err), BT_EIO);
    assert_non_null(strstr(err.message, "no/such/dir"));
    assert_null(s);
}

/* ---- definitions ---------------------------------------------------------------- */

static void test_definitions_put_and_load(void **state) {
    fixture *f = *state;
    store *s = open_ok(f);
    store_definition d1 = {.key = 10,
                           .bpmn_process_id = "trip",
                           .version = 1,
                           .resource_name = "trip.bpmn",
                           .checksum = "abc123",
                           .xml = "<definitions/>\nTRAILING",
                           .xml_len = 15,
                           .deployment_key = 9,
                           .deploy_time_ms = 1700000000123};
    store_definition d2 = {.key = 12,
                           .bpmn_process_id = "trip",
                           .version = 2,
                           .xml = "<x/>",
                           .xml_len = 4,
                           .deployment_key = 11,
                           .deploy_time_ms = 1};
    store_definition d3 = {.key = 11,
                           .bpmn_process_id = "order",
                           .version = 1,
                           .xml = "<y/>",
                           .xml_len = 4,
                           .deployment_key = 11,
                           .deploy_time_ms = 1};
    assert_int_equal(store_definition_put(s, &d1), BT_ECONFLICT); /* no transaction */
    assert_int_equal(store_begin(s), 0);
    assert_int_equal(store_definition_put(s, &d2), 0);
    assert_int_equal(store_definition_put(s, &d1), 0);
    assert_int_equal(store_definition_put(s, &d3), 0);
    /* The same process id and version under another key is refused; the
     * transaction goes on. */
    store_definition dup = d2;
    dup.key = 13;
    assert_int_equal(store_definition_put(s, &dup), BT_ECONFLICT);
    store_definition bad = d2;
    bad.key = 1ULL << 63;
    assert_int_equal(store_definition_put(s, &bad), BT_EINVAL);
    assert_int_equal(store_commit(s), 0);

    collected c = {0};
    assert_int_equal(store_definitions_load(s, collect_definition, &c), 0);
    assert_int_equal(c.count, 3);
    assert_int_equal(c.keys[0], 10);
    assert_int_equal(c.keys[1], 11);
    assert_int_equal(c.keys[2], 12);

    /* A non-zero return from the callback stops the walk and is returned;
     * the next walk starts from the beginning. */
    collected stop = {.stop_after = 2};
    assert_int_equal(store_definitions_load(s, collect_definition, &stop), 77);
    assert_int_equal(stop.count, 2);
    collected again = {0};
    assert_int_equal(store_definitions_load(s, collect_definition, &again), 0);
    assert_int_equal(again.count, 3);
    store_close(s);
}

/* ---- instances ------------------------------------------------------------------ */

static void test_instances_put_replace_get_load(void **state) {
    fixture *f = *state;
    store *s = open_ok(f);
    const char blob[] = {1, 0, 2, 0, 3}; /* NUL bytes survive */
    store_instance a = instance_make(1, STORE_INSTANCE_ACTIVE, NULL, blob, sizeof blob);
    store_instance b = instance_make(2, STORE_INSTANCE_ACTIVE, "order-42", "bb", 2);
    store_instance c = instance_make(3, STORE_INSTANCE_COMPLETED, NULL, NULL, 0);
    store_instance d = instance_make(4, STORE_INSTANCE_ACTIVE, NULL, "dd", 2);
    d.has_incident = true;
    d.parent_instance_key = 2;
    uint64_t big = (1ULL << 62) + 5; /* partition bits set, top bit clear */
    store_instance e = instance_make(big, STORE_INSTANCE_ACTIVE, NULL, "", 0);

    assert_int_equal(store_begin(s), 0);
    assert_int_equal(store_instance_put(s, &d), 0);
    assert_int_equal(store_instance_put(s, &a), 0);
    assert_int_equal(store_instance_put(s, &c), 0);
    assert_int_equal(store_instance_put(s, &b), 0);
    assert_int_equal(store_instance_put(s, &e), 0);
    assert_int_equal(store_commit(s), 0);

    store_instance got;
    assert_int_equal(store_instance_get(s, 1, &got), 0);
    assert_int_equal(got.key, 1);
    assert_int_equal(got.definition_key, 100);
    assert_string_equal(got.bpmn_process_id, "trip");
    assert_int_equal(got.version, 1);
    assert_int_equal(got.state, STORE_INSTANCE_ACTIVE);
    assert_false(got.has_incident);
    assert_null(got.business_id);
    assert_int_equal(got.start_ms, 1700000000001);
    assert_int_equal(got.end_ms, 0);
    assert_int_equal(got.state_len, sizeof blob);
    assert_memory_equal(got.state_data, blob, sizeof blob);

    assert_int_equal(store_instance_get(s, 2, &got), 0);
    assert_string_equal(got.business_id, "order-42");
    assert_int_equal(store_instance_get(s, 4, &got), 0);
    assert_true(got.has_incident);
    assert_int_equal(got.parent_instance_key, 2);
    assert_int_equal(store_instance_get(s, 3, &got), 0);
    assert_int_equal(got.state, STORE_INSTANCE_COMPLETED);
    assert_null(got.state_data);
    assert_int_equal(got.end_ms, 1700000009999);
    assert_int_equal(store_instance_get(s, big, &got), 0);
    assert_int_equal(got.key, big);
    assert_non_null(got.state_data); /* empty, not NULL */
    assert_int_equal(got.state_len, 0);
    assert_int_equal(store_instance_get(s, 99, &got), BT_ENOTFOUND);

    /* Replace: instance 2 ends, instance 1 gets new state. */
    store_instance b_done = instance_make(2, STORE_INSTANCE_TERMINATED, "order-42", NULL, 0);
    store_instance a2 = instance_make(1, STORE_INSTANCE_ACTIVE, "late-id", "new state", 9);
    assert_int_equal(store_begin(s), 0);
    assert_int_equal(store_instance_put(s, &b_done), 0);
    assert_int_equal(store_instance_put(s, &a2), 0);
    assert_int_equal(store_commit(s), 0);
    assert_int_equal(store_instance_get(s, 1, &got), 0);
    assert_string_equal(got.business_id, "late-id");
    assert_int_equal(got.state_len, 9);
    assert_memory_equal(got.state_data, "new state", 9);
    assert_int_equal(store_instance_get(s, 2, &got), 0);
    assert_int_equal(got.state, STORE_INSTANCE_TERMINATED);
    assert_null(got.state_data);

    /* Load delivers the active ones only, in key order. */
    collected col = {0};
    assert_int_equal(store_instances_load(s, collect_instance, &col), 0);
    assert_int_equal(col.count, 3);
    assert_int_equal(col.keys[0], 1);
    assert_int_equal(col.keys[1], 4);
    assert_int_equal(col.keys[2], big);
    store_close(s);
}

/* ---- records --------------------------------------------------------------------- */

static void test_records_append_and_read(void **state) {
    fixture *f = *state;
    store *s = open_ok(f);
    assert_int_equal(store_begin(s), 0);
    /* positions 1..20: odd ones about instance 7, even ones about 8, and
     * 21 about no instance */
    for (uint64_t p = 1; p <= 20; p++) {
        store_record r = record_make(p, p % 2 ? 7 : 8, "{\"a\":1}");
        assert_int_equal(store_record_append(s, &r), 0);
    }
    store_record r0 = record_make(21, 0, "{}");
    assert_int_equal(store_record_append(s, &r0), 0);
    store_record dup = record_make(5, 7, "{}");
    assert_int_equal(store_record_append(s, &dup), BT_ECONFLICT); /* positions are unique */
    assert_int_equal(store_commit(s), 0);

    collected c = {0};
    assert_int_equal(store_records_read(s, 7, 0, 0, collect_record, &c), 0);
    assert_int_equal(c.count, 10);
    for (int i = 0; i < 10; i++)
        assert_int_equal(c.keys[i], 2 * i + 1);

    collected after = {0};
    assert_int_equal(store_records_read(s, 8, 10, 3, collect_record, &after), 0);
    assert_int_equal(after.count, 3);
    assert_int_equal(after.keys[0], 12);
    assert_int_equal(after.keys[1], 14);
    assert_int_equal(after.keys[2], 16);

    collected all = {0};
    assert_int_equal(store_records_read(s, 0, 15, 0, collect_record, &all), 0);
    assert_int_equal(all.count, 6);
    assert_int_equal(all.keys[0], 16);
    assert_int_equal(all.keys[5], 21);

    collected stop = {.stop_after = 2};
    assert_int_equal(store_records_read(s, 0, 0, 0, collect_record, &stop), 5);
    assert_int_equal(stop.count, 2);

    collected none = {0};
    assert_int_equal(store_records_read(s, 9, 0, 0, collect_record, &none), 0);
    assert_int_equal(none.count, 0);
    store_close(s);
}

/* ---- meta and transactions -------------------------------------------------------- */

static void test_meta_counters(void **state) {
    fixture *f = *state;
    store *s = open_ok(f);
    int64_t v = 0;
    assert_int_equal(store_meta_get(s, "next_key", 42, &v), 0);
    assert_int_equal(v, 42);
    assert_int_equal(store_meta_set(s, "next_key", 1), BT_ECONFLICT); /* no transaction */
    assert_int_equal(store_begin(s), 0);
    assert_int_equal(store_begin(s), BT_ECONFLICT); /* no nesting */
    assert_int_equal(store_meta_set(s, "next_key", 1000), 0);
    assert_int_equal(store_meta_set(s, "next_position", INT64_MAX), 0);
    assert_int_equal(store_meta_set(s, "next_key", 2000), 0);
    assert_int_equal(store_meta_get(s, "next_key", 42, &v), 0); /* reads see the transaction */
    assert_int_equal(v, 2000);
    assert_int_equal(store_commit(s), 0);
    assert_int_equal(store_commit(s), BT_ECONFLICT);
    assert_int_equal(store_meta_get(s, "next_key", 42, &v), 0);
    assert_int_equal(v, 2000);
    assert_int_equal(store_meta_get(s, "next_position", 0, &v), 0);
    assert_int_equal(v, INT64_MAX);
    store_close(s);
}

static void test_rollback_discards(void **state) {
    fixture *f = *state;
    store *s = open_ok(f);
    store_instance a = instance_make(1, STORE_INSTANCE_ACTIVE, NULL, "a", 1);
    store_record r = record_make(1, 1, "{}");
    assert_int_equal(store_begin(s), 0);
    assert_int_equal(store_instance_put(s, &a), 0);
    assert_int_equal(store_record_append(s, &r), 0);
    assert_int_equal(store_meta_set(s, "next_key", 5), 0);
    store_rollback(s);
    store_rollback(s); /* no transaction: nothing happens */

    store_instance got;
    assert_int_equal(store_instance_get(s, 1, &got), BT_ENOTFOUND);
    collected c = {0};
    assert_int_equal(store_records_read(s, 0, 0, 0, collect_record, &c), 0);
    assert_int_equal(c.count, 0);
    int64_t v = 0;
    assert_int_equal(store_meta_get(s, "next_key", -1, &v), 0);
    assert_int_equal(v, -1);
    assert_int_equal(store_instance_put(s, &a), BT_ECONFLICT); /* the transaction is over */

    /* The handle goes on working. */
    assert_int_equal(store_begin(s), 0);
    assert_int_equal(store_instance_put(s, &a), 0);
    assert_int_equal(store_commit(s), 0);
    assert_int_equal(store_instance_get(s, 1, &got), 0);
    store_close(s);
}

static void test_reopen_sees_committed_only(void **state) {
    fixture *f = *state;
    store *s = open_ok(f);
    store_instance a = instance_make(1, STORE_INSTANCE_ACTIVE, NULL, "a", 1);
    store_instance b = instance_make(2, STORE_INSTANCE_ACTIVE, NULL, "b", 1);
    store_instance c = instance_make(3, STORE_INSTANCE_ACTIVE, NULL, "c", 1);
    assert_int_equal(store_begin(s), 0);
    assert_int_equal(store_instance_put(s, &a), 0);
    assert_int_equal(store_meta_set(s, "next_key", 2), 0);
    assert_int_equal(store_commit(s), 0);
    assert_int_equal(store_begin(s), 0);
    assert_int_equal(store_instance_put(s, &b), 0);
    assert_int_equal(store_meta_set(s, "next_key", 3), 0);
    store_rollback(s);
    assert_int_equal(store_begin(s), 0);
    assert_int_equal(store_instance_put(s, &c), 0);
    assert_int_equal(store_meta_set(s, "next_key", 4), 0);
    store_close(s); /* with the transaction open: rolled back */

    s = open_ok(f);
    collected col = {0};
    assert_int_equal(store_instances_load(s, collect_instance, &col), 0);
    assert_int_equal(col.count, 1);
    assert_int_equal(col.keys[0], 1);
    int64_t v = 0;
    assert_int_equal(store_meta_get(s, "next_key", -1, &v), 0);
    assert_int_equal(v, 2);
    store_close(s);
}

static void test_read_only_handle(void **state) {
    fixture *f = *state;
    store *w = open_ok(f);
    store *r = NULL;
    bt_error err;
    store_options ro = {.read_only = true};
    assert_int_equal(store_open(f->path, &ro, &r, &err), 0);
    assert_int_equal(store_begin(r), BT_ECONFLICT);

    store_instance a = instance_make(1, STORE_INSTANCE_ACTIVE, NULL, "a", 1);
    assert_int_equal(store_begin(w), 0);
    assert_int_equal(store_instance_put(w, &a), 0);
    store_instance got;
    assert_int_equal(store_instance_get(r, 1, &got), BT_ENOTFOUND); /* not committed yet */
    assert_int_equal(store_commit(w), 0);
    assert_int_equal(store_instance_get(r, 1, &got), 0);
    store_close(r);
    store_close(w);

    /* A read-only handle does not create a store. */
    char other[200];
    snprintf(other, sizeof other, "%s/absent.db", f->dir);
    assert_int_equal(store_open(other, &ro, &r, &err), BT_EIO);
    assert_true(strlen(err.message) > 0);
    assert_int_equal(access(other, F_OK), -1);
}

/* ---- a crash of the writing process ------------------------------------------------ */

#define KILL_BATCH     3000
#define KILL_BLOB_SIZE 8192

/* The child: commits instance 1 with a record, then writes a batch large
 * enough to spill into the WAL file, tells the parent, and waits to be
 * killed. Exit codes report failures before that point. */
static void kill_child(const char *path, int fd) {
    store *s = NULL;
    bt_error err;
    if (store_open(path, NULL, &s, &err) != 0)
        _exit(10);
    store_instance a = instance_make(1, STORE_INSTANCE_ACTIVE, NULL, "committed", 9);
    store_record r = record_make(1, 1, "{\"committed\":true}");
    if (store_begin(s) || store_instance_put(s, &a) || store_record_append(s, &r) ||
        store_meta_set(s, "next_key", 2) || store_commit(s))
        _exit(11);
    static char blob[KILL_BLOB_SIZE];
    memset(blob, 'x', sizeof blob);
    if (store_begin(s) || store_meta_set(s, "next_key", 99999))
        _exit(12);
    for (uint64_t k = 2; k < 2 + KILL_BATCH; k++) {
        store_instance i = instance_make(k, STORE_INSTANCE_ACTIVE, NULL, blob, sizeof blob);
        store_record rk = record_make(k, k, "{\"committed\":false}");
        if (store_instance_put(s, &i) || store_record_append(s, &rk))
            _exit(13);
    }
    if (write(fd, "w", 1) != 1)
        _exit(14);
    for (;;)
        pause();
}

static void test_kill_before_commit(void **state) {
    fixture *f = *state;
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        kill_child(f->path, fds[1]);
    }
    close(fds[1]);
    char c = 0;
    ssize_t n = read(fds[0], &c, 1);
    close(fds[0]);
    /* The uncommitted batch has reached the WAL file (the page cache spilled),
     * so recovery has to tell committed frames from uncommitted ones. */
    char wal[160];
    snprintf(wal, sizeof wal, "%s-wal", f->path);
    struct stat st = {0};
    int stat_rc = stat(wal, &st);
    kill(pid, SIGKILL);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (n != 1) {
        fail_msg("child failed before writing its batch (exit %d)",
                 WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    }
    assert_int_equal(c, 'w');
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGKILL);
    assert_int_equal(stat_rc, 0);
    assert_true(st.st_size > 4 * 1024 * 1024);

    store *s = open_ok(f);
    collected col = {0};
    assert_int_equal(store_instances_load(s, collect_instance, &col), 0);
    assert_int_equal(col.count, 1);
    assert_int_equal(col.keys[0], 1);
    store_instance got;
    assert_int_equal(store_instance_get(s, 1, &got), 0);
    assert_memory_equal(got.state_data, "committed", 9);
    assert_int_equal(store_instance_get(s, 2, &got), BT_ENOTFOUND);
    collected recs = {0};
    assert_int_equal(store_records_read(s, 0, 0, 0, collect_record, &recs), 0);
    assert_int_equal(recs.count, 1);
    int64_t v = 0;
    assert_int_equal(store_meta_get(s, "next_key", -1, &v), 0);
    assert_int_equal(v, 2);
    store_close(s);
}

/* ---- a commit whose fsync fails ----------------------------------------------------- */

/* A VFS that forwards to the default one and fails xSync while
 * fail_syncs is set: what a full or failing disk looks like to SQLite. */
static sqlite3_vfs *real_vfs;
static sqlite3_vfs shim_vfs;
static int fail_syncs;
static int failed_syncs;

typedef struct shim_file {
    sqlite3_file base;
    sqlite3_file *real; /* lives right after this struct */
} shim_file;

#define REAL(f) (((shim_file *)(f))->real)
static int shim_close(sqlite3_file *f) {
    return REAL(f)->pMethods->xClose(REAL(f));
}
static int shim_read(sqlite3_file *f, void *p, int n, sqlite3_int64 o) {
    return REAL(f)->pMethods->xRead(REAL(f), p, n, o);
}
static int shim_write(sqlite3_file *f, const void *p, int n, sqlite3_int64 o) {
    return REAL(f)->pMethods->xWrite(REAL(f), p, n, o);
}
static int shim_truncate(sqlite3_file *f, sqlite3_int64 size) {
    return REAL(f)->pMethods->xTruncate(REAL(f), size);
}
static int shim_sync(sqlite3_file *f, int flags) {
    if (fail_syncs) {
        failed_syncs++;
        return SQLITE_IOERR_FSYNC;
    }
    return REAL(f)->pMethods->xSync(REAL(f), flags);
}
static int shim_file_size(sqlite3_file *f, sqlite3_int64 *size) {
    return REAL(f)->pMethods->xFileSize(REAL(f), size);
}
static int shim_lock(sqlite3_file *f, int l) {
    return REAL(f)->pMethods->xLock(REAL(f), l);
}
static int shim_unlock(sqlite3_file *f, int l) {
    return REAL(f)->pMethods->xUnlock(REAL(f), l);
}
static int shim_check_reserved(sqlite3_file *f, int *out) {
    return REAL(f)->pMethods->xCheckReservedLock(REAL(f), out);
}
static int shim_file_control(sqlite3_file *f, int op, void *arg) {
    return REAL(f)->pMethods->xFileControl(REAL(f), op, arg);
}
static int shim_sector_size(sqlite3_file *f) {
    return REAL(f)->pMethods->xSectorSize(REAL(f));
}
static int shim_device_characteristics(sqlite3_file *f) {
    return REAL(f)->pMethods->xDeviceCharacteristics(REAL(f));
}
static int shim_shm_map(sqlite3_file *f, int i, int size, int extend, void volatile **p) {
    return REAL(f)->pMethods->xShmMap(REAL(f), i, size, extend, p);
}
static int shim_shm_lock(sqlite3_file *f, int offset, int n, int flags) {
    return REAL(f)->pMethods->xShmLock(REAL(f), offset, n, flags);
}
static void shim_shm_barrier(sqlite3_file *f) {
    REAL(f)->pMethods->xShmBarrier(REAL(f));
}
static int shim_shm_unmap(sqlite3_file *f, int del) {
    return REAL(f)->pMethods->xShmUnmap(REAL(f), del);
}

static const sqlite3_io_methods shim_io = {
    2, /* no memory-mapped I/O: xFetch/xUnfetch are not forwarded */
    shim_close,
    shim_read,
    shim_write,
    shim_truncate,
    shim_sync,
    shim_file_size,
    shim_lock,
    shim_unlock,
    shim_check_reserved,
    shim_file_control,
    shim_sector_size,
    shim_device_characteristics,
    shim_shm_map,
    shim_shm_lock,
    shim_shm_barrier,
    shim_shm_unmap,
    NULL,
    NULL,
};

static int shim_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *f, int flags,
                     int *out_flags) {
    (void)vfs;
    shim_file *sf = (shim_file *)f;
    sf->real = (sqlite3_file *)(sf + 1);
    int rc = real_vfs->xOpen(real_vfs, name, sf->real, flags, out_flags);
    sf->base.pMethods = rc == SQLITE_OK ? &shim_io : NULL;
    return rc;
}

static void shim_install(void) {
    real_vfs = sqlite3_vfs_find(NULL);
    shim_vfs = *real_vfs;
    shim_vfs.zName = "baton-test-shim";
    shim_vfs.szOsFile = (int)sizeof(shim_file) + real_vfs->szOsFile;
    shim_vfs.xOpen = shim_open;
    shim_vfs.pAppData = NULL;
    assert_int_equal(sqlite3_vfs_register(&shim_vfs, 1), SQLITE_OK);
}

static void shim_remove(void) {
    sqlite3_vfs_unregister(&shim_vfs);
    sqlite3_vfs_register(real_vfs, 1);
}

static void test_failed_commit_rolls_back(void **state) {
    fixture *f = *state;
    shim_install();
    store *s = open_ok(f);
    store_instance a = instance_make(1, STORE_INSTANCE_ACTIVE, NULL, "a", 1);
    store_instance b = instance_make(2, STORE_INSTANCE_ACTIVE, NULL, "b", 1);
    assert_int_equal(store_begin(s), 0);
    assert_int_equal(store_instance_put(s, &a), 0);
    assert_int_equal(store_meta_set(s, "next_key", 2), 0);
    fail_syncs = 1;
    failed_syncs = 0;
    bt_log_set_level(BT_LOG_OFF); /* the failure is logged; expected here */
    int rc = store_commit(s);
    bt_log_set_level(BT_LOG_INFO);
    fail_syncs = 0;
    assert_true(failed_syncs > 0);
    assert_int_equal(rc, BT_EIO);

    /* Rolled back, and the handle goes on working. */
    store_instance got;
    assert_int_equal(store_instance_get(s, 1, &got), BT_ENOTFOUND);
    assert_int_equal(store_begin(s), 0);
    assert_int_equal(store_instance_put(s, &b), 0);
    assert_int_equal(store_commit(s), 0);
    assert_int_equal(store_instance_get(s, 2, &got), 0);
    assert_int_equal(store_instance_get(s, 1, &got), BT_ENOTFOUND);
    int64_t v = 0;
    assert_int_equal(store_meta_get(s, "next_key", -1, &v), 0);
    assert_int_equal(v, -1);
    store_close(s);

    s = open_ok(f);
    assert_int_equal(store_instance_get(s, 1, &got), BT_ENOTFOUND);
    assert_int_equal(store_instance_get(s, 2, &got), 0);
    store_close(s);
    shim_remove();
}

/* ---- files that are not (current) stores -------------------------------------------- */

static void test_not_a_database(void **state) {
    fixture *f = *state;
    FILE *fp = fopen(f->path, "wb");
    assert_non_null(fp);
    for (int i = 0; i < 256; i++)
        fputs("this is a text file, not an SQLite database\n", fp);
    fclose(fp);
    store *s = NULL;
    bt_error err;
    int rc = store_open(f->path, NULL, &s, &err);
    assert_true(rc == BT_ECORRUPT || rc == BT_EIO);
    assert_int_equal(rc, BT_ECORRUPT);
    assert_null(s);
    assert_non_null(strstr(err.message, f->path));
    assert_non_null(strstr(err.message, "not a database"));

    /* An SQLite database of another application is refused too. */
    char other[200];
    snprintf(other, sizeof other, "%s/other.db", f->dir);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(other, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "CREATE TABLE t(x)", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(store_open(other, NULL, &s, &err), BT_ECORRUPT);
    assert_non_null(strstr(err.message, "not a baton store"));
}

static void test_newer_schema_refused(void **state) {
    fixture *f = *state;
    store *s = open_ok(f);
    assert_int_equal(store_begin(s), 0);
    assert_int_equal(store_meta_set(s, "schema_version", 3), 0);
    assert_int_equal(store_commit(s), 0);
    store_close(s);
    bt_error err;
    s = NULL;
    assert_int_equal(store_open(f->path, NULL, &s, &err), BT_EUNSUPPORTED);
    assert_null(s);
    assert_non_null(strstr(err.message, "schema version 3"));
    assert_non_null(strstr(err.message, "upgrade baton"));
    store_options ro = {.read_only = true};
    assert_int_equal(store_open(f->path, &ro, &s, &err), BT_EUNSUPPORTED);
}

typedef struct objects_seen {
    int n;
    uint64_t keys[8];
    int kinds[8];
    char data[8][16];
} objects_seen;

static int collect_object(void *ud, const store_object *o) {
    objects_seen *seen = ud;
    if (seen->n == 8)
        return 1;
    seen->keys[seen->n] = o->key;
    seen->kinds[seen->n] = o->kind;
    snprintf(seen->data[seen->n], sizeof seen->data[0], "%.*s", (int)o->len, (const char *)o->data);
    seen->n++;
    return 0;
}

/* Engine objects: put replaces, delete removes, a rolled-back transaction
 * leaves nothing, and they are there after a reopen, in key order. */
static void test_objects(void **state) {
    fixture *f = *state;
    store *s = open_ok(f);
    assert_int_equal(store_begin(s), 0);
    assert_int_equal(store_object_put(s, &(store_object){9, 1, "nine", 4}), 0);
    assert_int_equal(store_object_put(s, &(store_object){3, 1, "three", 5}), 0);
    assert_int_equal(store_object_put(s, &(store_object){5, 2, "five", 4}), 0);
    assert_int_equal(store_commit(s), 0);
    assert_int_equal(store_begin(s), 0);
    assert_int_equal(store_object_put(s, &(store_object){3, 2, "THREE", 5}), 0);
    assert_int_equal(store_object_delete(s, 5), 0);
    assert_int_equal(store_object_delete(s, 77), 0); /* absent: fine */
    assert_int_equal(store_commit(s), 0);
    assert_int_equal(store_begin(s), 0);
    assert_int_equal(store_object_delete(s, 9), 0);
    store_rollback(s);
    assert_int_equal(store_object_put(s, &(store_object){4, 1, "x", 1}), BT_ECONFLICT); /* no txn */
    store_close(s);

    s = open_ok(f);
    objects_seen seen = {0};
    assert_int_equal(store_objects_load(s, collect_object, &seen), 0);
    assert_int_equal(seen.n, 2);
    assert_int_equal(seen.keys[0], 3);
    assert_int_equal(seen.kinds[0], 2);
    assert_string_equal(seen.data[0], "THREE");
    assert_int_equal(seen.keys[1], 9);
    assert_string_equal(seen.data[1], "nine");
    store_close(s);
}

/* A store of schema version 1 (before the objects table) is upgraded when
 * opened for writing, and keeps what it had. */
static void test_schema_upgrade_from_1(void **state) {
    fixture *f = *state;
    store *s = open_ok(f);
    assert_int_equal(store_begin(s), 0);
    assert_int_equal(store_meta_set(s, "next_key", 42), 0);
    assert_int_equal(store_commit(s), 0);
    store_close(s);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
                                  "DROP TABLE objects; UPDATE meta SET value = 1 WHERE name = "
                                  "'schema_version'",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    bt_error err;
    store_options ro = {.read_only = true};
    s = NULL;
    assert_int_equal(store_open(f->path, &ro, &s, &err), BT_EUNSUPPORTED);
    assert_non_null(strstr(err.message, "open it for writing once"));
    s = open_ok(f);
    int64_t v = 0;
    assert_int_equal(store_meta_get(s, "schema_version", -1, &v), 0);
    assert_int_equal(v, 2);
    assert_int_equal(store_meta_get(s, "next_key", -1, &v), 0);
    assert_int_equal(v, 42);
    assert_int_equal(store_begin(s), 0);
    assert_int_equal(store_object_put(s, &(store_object){1, 1, "m", 1}), 0);
    assert_int_equal(store_commit(s), 0);
    store_close(s);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, fixture_setup, fixture_teardown)

int main(void) {
    const struct CMUnitTest tests[] = {
        T(test_open_creates_schema),
        T(test_open_rejects_bad_locations),
        T(test_objects),
        T(test_schema_upgrade_from_1),
        T(test_definitions_put_and_load),
        T(test_instances_put_replace_get_load),
        T(test_records_append_and_read),
        T(test_meta_counters),
        T(test_rollback_discards),
        T(test_reopen_sees_committed_only),
        T(test_read_only_handle),
        T(test_kill_before_commit),
        T(test_failed_commit_rolls_back),
        T(test_not_a_database),
        T(test_newer_schema_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
