/*
 * store.c — the public store functions: choose a backend, check the
 * preconditions every backend shares, dispatch.
 *
 * Backends are rows of a table (store_backends), keyed by the scheme at the
 * front of the location. A location without a known scheme is a path to an
 * SQLite file, so `baton serve --store baton.db` works as expected.
 *
 * Checks done here, once for every backend:
 *   - writes (meta_set, *_put, record_append) need an open transaction:
 *     BT_ECONFLICT otherwise, as does store_begin inside a transaction and
 *     store_commit outside one. This is what makes "nothing is written
 *     outside a transaction" hold, and a forgotten store_begin shows up at
 *     once in tests instead of as a row that was never in a batch;
 *   - a read-only handle refuses store_begin for writing (BT_ECONFLICT);
 *   - keys are uint64 with the top bit never set (partition ids use bits
 *     51..62), so they are stored as signed 64-bit integers; a key with the
 *     top bit set would come back negative and is refused (BT_EINVAL);
 *   - required strings are present (BT_EINVAL).
 *
 * Thread-safety: none here; a handle belongs to one thread at a time.
 */
#include "store/store_int.h"

#include <string.h>

/* One row per backend: the scheme and its operations (NULL: known but not
 * built into this binary). */
static const struct {
    const char *scheme;
    const store_ops *ops;
} store_backends[] = {
    {"sqlite", &store_sqlite_ops}, /* embedded, the default */
    {"postgres", NULL},            /* scale-out: several nodes, one database */
    {"postgresql", NULL},          /* the same, as libpq spells it */
};

static bool store_key_valid(uint64_t key) {
    return key <= (uint64_t)INT64_MAX;
}

static int store_write_check(store *s, const char *what) {
    if (!s)
        return BT_EINVAL;
    if (!s->in_transaction) {
        bt_log(BT_LOG_ERROR, "store: %s outside a transaction", what);
        return BT_ECONFLICT;
    }
    return BT_OK;
}

int store_open(const char *location, const store_options *opts, store **out, bt_error *err) {
    static const store_options defaults = {false, false};
    bt_error_clear(err);
    if (!out)
        return bt_error_set(err, BT_EINVAL, "store: no output handle");
    *out = NULL;
    if (!location || !*location)
        return bt_error_set(err, BT_EINVAL, "store: empty location");
    if (!opts)
        opts = &defaults;

    const store_ops *ops = &store_sqlite_ops;
    const char *path = location;
    const char *colon = strchr(location, ':');
    if (colon) {
        size_t n = (size_t)(colon - location);
        for (size_t i = 0; i < BT_ARRAY_LEN(store_backends); i++) {
            if (strlen(store_backends[i].scheme) == n &&
                strncmp(location, store_backends[i].scheme, n) == 0) {
                if (!store_backends[i].ops)
                    return bt_error_set(err, BT_EUNSUPPORTED,
                                        "store: the %s backend is not built into this binary",
                                        store_backends[i].scheme);
                ops = store_backends[i].ops;
                path = colon + 1;
                break;
            }
        }
    }
    if (!*path)
        return bt_error_set(err, BT_EINVAL, "store: empty path in location '%s'", location);

    store *s = bt_calloc(1, sizeof *s);
    if (!s)
        return bt_error_set(err, BT_ENOMEM, "store: out of memory");
    s->ops = ops;
    s->read_only = opts->read_only;
    int rc = ops->open(path, opts, &s->impl, &s->description, err);
    if (rc != 0) {
        bt_free(s);
        return rc;
    }
    *out = s;
    return BT_OK;
}

void store_close(store *s) {
    if (!s)
        return;
    s->ops->close(s->impl); /* rolls back an open transaction */
    bt_free(s->description);
    bt_free(s);
}

const char *store_describe(const store *s) {
    return s ? s->description : "(no store)";
}

int store_begin(store *s) {
    if (!s)
        return BT_EINVAL;
    if (s->in_transaction) {
        bt_log(BT_LOG_ERROR, "store: begin inside a transaction");
        return BT_ECONFLICT;
    }
    if (s->read_only) {
        bt_log(BT_LOG_ERROR, "store: begin on a read-only handle (%s)", s->description);
        return BT_ECONFLICT;
    }
    int rc = s->ops->begin(s->impl);
    if (rc == 0)
        s->in_transaction = true;
    return rc;
}

int store_commit(store *s) {
    if (!s)
        return BT_EINVAL;
    if (!s->in_transaction) {
        bt_log(BT_LOG_ERROR, "store: commit outside a transaction");
        return BT_ECONFLICT;
    }
    s->in_transaction = false; /* committed, or rolled back by the backend */
    return s->ops->commit(s->impl);
}

void store_rollback(store *s) {
    if (!s || !s->in_transaction)
        return;
    s->in_transaction = false;
    s->ops->rollback(s->impl);
}

/* ---- meta ----------------------------------------------------------------- */

int store_meta_get(store *s, const char *name, int64_t fallback, int64_t *out) {
    if (!s || !name || !out)
        return BT_EINVAL;
    return s->ops->meta_get(s->impl, name, fallback, out);
}

int store_meta_set(store *s, const char *name, int64_t value) {
    int rc = store_write_check(s, "meta_set");
    if (rc != 0)
        return rc;
    if (!name)
        return BT_EINVAL;
    return s->ops->meta_set(s->impl, name, value);
}

/* ---- definitions -------------------------------------------------------------- */

int store_definition_put(store *s, const store_definition *d) {
    int rc = store_write_check(s, "definition_put");
    if (rc != 0)
        return rc;
    if (!d || !d->bpmn_process_id || !d->xml || !store_key_valid(d->key) ||
        !store_key_valid(d->deployment_key)) {
        bt_log(BT_LOG_ERROR, "store: definition_put with a missing field or an invalid key");
        return BT_EINVAL;
    }
    return s->ops->definition_put(s->impl, d);
}

int store_definitions_load(store *s, int (*cb)(void *ud, const store_definition *d), void *ud) {
    if (!s || !cb)
        return BT_EINVAL;
    return s->ops->definitions_load(s->impl, cb, ud);
}

/* ---- engine objects ------------------------------------------------------------ */

int store_object_put(store *s, const store_object *o) {
    int rc = store_write_check(s, "object_put");
    if (rc != 0)
        return rc;
    if (!o || !o->data || !store_key_valid(o->key)) {
        bt_log(BT_LOG_ERROR, "store: object_put with no data or an invalid key");
        return BT_EINVAL;
    }
    return s->ops->object_put(s->impl, o);
}

int store_object_delete(store *s, uint64_t key) {
    int rc = store_write_check(s, "object_delete");
    if (rc != 0)
        return rc;
    if (!store_key_valid(key)) {
        bt_log(BT_LOG_ERROR, "store: object_delete with an invalid key");
        return BT_EINVAL;
    }
    return s->ops->object_delete(s->impl, key);
}

int store_objects_load(store *s, int (*cb)(void *ud, const store_object *o), void *ud) {
    if (!s || !cb)
        return BT_EINVAL;
    return s->ops->objects_load(s->impl, cb, ud);
}

/* ---- instances --------------------------------------------------------------- */

int store_instance_put(store *s, const store_instance *inst) {
    int rc = store_write_check(s, "instance_put");
    if (rc != 0)
        return rc;
    if (!inst || !inst->bpmn_process_id || !store_key_valid(inst->key) ||
        !store_key_valid(inst->definition_key) || !store_key_valid(inst->parent_instance_key) ||
        (inst->state_len > 0 && !inst->state_data)) {
        bt_log(BT_LOG_ERROR, "store: instance_put with a missing field or an invalid key");
        return BT_EINVAL;
    }
    return s->ops->instance_put(s->impl, inst);
}

int store_instances_search(store *s, const store_instance_filter *f,
                           int (*cb)(void *ud, const store_instance *inst), void *ud) {
    return s->ops->instances_search(s->impl, f, cb, ud);
}

int store_instances_load(store *s, int (*cb)(void *ud, const store_instance *inst), void *ud) {
    if (!s || !cb)
        return BT_EINVAL;
    return s->ops->instances_load(s->impl, cb, ud);
}

int store_instance_get(store *s, uint64_t key, store_instance *out) {
    if (!s || !out)
        return BT_EINVAL;
    if (!store_key_valid(key))
        return BT_ENOTFOUND;
    return s->ops->instance_get(s->impl, key, out);
}

/* ---- records ------------------------------------------------------------------ */

int store_record_append(store *s, const store_record *r) {
    int rc = store_write_check(s, "record_append");
    if (rc != 0)
        return rc;
    if (!r || !r->value_type || !r->intent || !r->value || !store_key_valid(r->position) ||
        !store_key_valid(r->key) || !store_key_valid(r->instance_key)) {
        bt_log(BT_LOG_ERROR, "store: record_append with a missing field or an invalid key");
        return BT_EINVAL;
    }
    return s->ops->record_append(s->impl, r);
}

int store_records_read(store *s, uint64_t instance_key, uint64_t after, size_t limit,
                       int (*cb)(void *ud, const store_record *r), void *ud) {
    if (!s || !cb)
        return BT_EINVAL;
    if (!store_key_valid(instance_key))
        return BT_OK; /* no such instance can be stored: nothing to read */
    if (after > (uint64_t)INT64_MAX)
        return BT_OK;
    return s->ops->records_read(s->impl, instance_key, after, limit, cb, ud);
}

int store_log_read(store *s, store_log_cursor *cur, size_t limit,
                   int (*cb)(void *ud, const store_record *r), void *ud, size_t *n) {
    if (n)
        *n = 0;
    if (!s || !cur || !cb || limit == 0)
        return BT_EINVAL;
    if (cur->position >= (uint64_t)INT64_MAX)
        return BT_OK;
    size_t got = 0;
    int rc = s->ops->log_read(s->impl, cur, limit, cb, ud, &got);
    if (n)
        *n = got;
    return rc;
}

int store_log_last(store *s, uint64_t *out) {
    if (!s || !out)
        return BT_EINVAL;
    return s->ops->log_last(s->impl, out);
}
