/*
 * store_int.h — the private side of the store: what a backend implements.
 *
 * store.c owns the public handle (struct store) and the checks that do not
 * depend on the backend: transaction state (nothing is written outside a
 * transaction, no nested transactions), read-only handles, keys that must
 * fit in a signed 64-bit integer. It then calls the backend through a table
 * of operations (store_ops), one table per backend, chosen by the scheme of
 * the location ("sqlite:PATH", or a bare path, selects store_sqlite_ops).
 *
 * A backend keeps its own state behind an opaque pointer (`void *impl`): the
 * tables of different backends never mix, so there is no shared struct to
 * keep in step. Operations return 0 or a negative BT_E* code; they log
 * their failures with bt_log, since most have no bt_error to fill.
 *
 * Only store.c and the backends include this header; the engine and the
 * runtime include store.h.
 */
#ifndef BATON_STORE_INT_H
#define BATON_STORE_INT_H

#include "store/store.h"

typedef int (*store_definition_cb)(void *ud, const store_definition *d);
typedef int (*store_instance_cb)(void *ud, const store_instance *inst);
typedef int (*store_record_cb)(void *ud, const store_record *r);
typedef int (*store_object_cb)(void *ud, const store_object *o);

/* The operations of one backend. Every operation but open takes the impl
 * pointer that open returned. The preconditions that store.c checks (a
 * transaction is open for writes, none is open for begin, the handle is
 * writable) are not checked again here. */
typedef struct store_ops {
    const char *name; /* the location scheme: "sqlite" */

    /* Opens or creates the store at `path` (the location without its
     * scheme). On success *impl is the backend state and *description a
     * bt_malloc'd string such as "sqlite:/abs/path.db" (freed by store.c).
     * On failure fills err and returns BT_EIO / BT_ECORRUPT /
     * BT_EUNSUPPORTED / BT_ENOMEM; *impl is untouched. */
    int (*open)(const char *path, const store_options *opts, void **impl, char **description,
                bt_error *err);
    /* Releases everything; an open transaction is rolled back. */
    void (*close)(void *impl);

    int (*begin)(void *impl);
    /* Durable on 0. On failure the transaction is rolled back before return. */
    int (*commit)(void *impl);
    void (*rollback)(void *impl);

    int (*meta_get)(void *impl, const char *name, int64_t fallback, int64_t *out);
    int (*meta_set)(void *impl, const char *name, int64_t value);

    int (*definition_put)(void *impl, const store_definition *d);
    int (*definitions_load)(void *impl, store_definition_cb cb, void *ud);

    int (*instance_put)(void *impl, const store_instance *inst);
    int (*instances_load)(void *impl, store_instance_cb cb, void *ud);
    int (*instances_search)(void *impl, const store_instance_filter *f, store_instance_cb cb,
                            void *ud);
    int (*instance_get)(void *impl, uint64_t key, store_instance *out);

    int (*object_put)(void *impl, const store_object *o);
    int (*object_delete)(void *impl, uint64_t key);
    int (*objects_load)(void *impl, store_object_cb cb, void *ud);

    int (*record_append)(void *impl, const store_record *r);
    int (*records_read)(void *impl, uint64_t instance_key, uint64_t after, size_t limit,
                        store_record_cb cb, void *ud);
    int (*log_read)(void *impl, store_log_cursor *cur, size_t limit, store_record_cb cb, void *ud,
                    size_t *n);
    int (*log_last)(void *impl, uint64_t *out);
} store_ops;

/* The public handle. */
struct store {
    const store_ops *ops;
    void *impl;
    char *description; /* bt_malloc'd, from ops->open */
    bool read_only;
    bool in_transaction; /* between store_begin and store_commit/rollback */
};

/* The SQLite backend (sqlite.c). */
extern const store_ops store_sqlite_ops;

#endif
