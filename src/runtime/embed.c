/*
 * embed.c — the embedding API of include/baton.h: an engine over a store.
 *
 * Each state-changing call takes the time from the configured clock, applies
 * one command to the engine and, outside a batch, commits at once: the
 * engine's changes (definitions, touched instances, records, counters) are
 * written in one store transaction, and the call returns after the commit.
 * Inside baton_batch_begin / baton_batch_commit the commit happens once for
 * all the batch's commands (group commit).
 *
 * A failed commit cannot be undone in memory piece by piece, so the engine
 * is rebuilt from the store (which holds exactly the last committed state):
 * crash-only recovery, the same code path as a restart.
 */
#include "baton.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"
#include "runtime/persist.h"
#include "store/store.h"

_Static_assert(sizeof(baton_error) == sizeof(bt_error), "baton_error mirrors bt_error");
_Static_assert((int)BATON_ECORRUPT == (int)BT_ECORRUPT &&
                   (int)BATON_EUNSUPPORTED == (int)BT_EUNSUPPORTED,
               "error codes agree");

struct baton {
    char *path;
    store *store;
    eng_engine *engine;
    baton_options opts;
    bool in_batch;
};

static bt_error *as_bt(baton_error *err) {
    return (bt_error *)err;
}

static int64_t now_of(baton *b) {
    return b->opts.clock ? b->opts.clock(b->opts.clock_ud) : bt_clock_now_ms();
}

/* ---- loading and committing ------------------------------------------------- */

static int engine_load(baton *b, bt_error *err) {
    eng_config cfg = {.partition = 1, .compensation_all_at_once = b->opts.compensation_all_at_once};
    eng_engine *e;
    int rc = rt_engine_load(b->store, &cfg, &e, err);
    if (rc != BT_OK)
        return rc;
    eng_free(b->engine);
    b->engine = e;
    return BT_OK;
}

/* Commits the engine's pending changes. On failure the batch's outcome is
 * unknown (a failed fsync may still have reached the disk): the store is
 * reopened and the engine rebuilt from what the file holds, as a restart
 * would. */
static int flush(baton *b, bt_error *err) {
    int rc = rt_engine_commit(b->store, b->engine, NULL, NULL, err);
    if (rc != BT_OK) {
        store *fresh;
        store_options so = {.no_sync = b->opts.no_sync};
        bt_error open_err;
        if (store_open(b->path, &so, &fresh, &open_err) == BT_OK) {
            store_close(b->store);
            b->store = fresh;
        } else {
            bt_log(BT_LOG_ERROR, "reopening after a failed commit: %s", open_err.message);
        }
        bt_error reload_err;
        if (engine_load(b, &reload_err) != BT_OK)
            bt_log(BT_LOG_ERROR, "reloading after a failed commit: %s", reload_err.message);
    }
    return rc;
}

/* After a command: commit unless a batch is open. */
static int done(baton *b, int rc, bt_error *err) {
    if (b->in_batch)
        return rc;
    bt_error ferr;
    int frc = flush(b, &ferr);
    if (frc != BT_OK) {
        if (err)
            *err = ferr;
        return frc;
    }
    return rc;
}

/* ---- open / close / batches ------------------------------------------------------ */

int baton_open(const char *path, const baton_options *opts, baton **out, baton_error *err) {
    bt_error_clear(as_bt(err));
    bt_json_use_allocator();
    baton *b = bt_xcalloc(1, sizeof *b);
    if (opts)
        b->opts = *opts;
    store_options so = {.no_sync = b->opts.no_sync};
    int rc = store_open(path, &so, &b->store, as_bt(err));
    if (rc == BT_OK)
        rc = engine_load(b, as_bt(err));
    if (rc != BT_OK) {
        store_close(b->store);
        bt_free(b);
        return rc;
    }
    b->path = bt_xstrdup(path);
    *out = b;
    return BT_OK;
}

void baton_close(baton *b) {
    if (!b)
        return;
    eng_free(b->engine);
    store_close(b->store);
    bt_free(b->path);
    bt_free(b);
}

int baton_batch_begin(baton *b) {
    b->in_batch = true;
    return BT_OK;
}

int baton_batch_commit(baton *b, baton_error *err) {
    b->in_batch = false;
    return flush(b, as_bt(err));
}

/* ---- deployment --------------------------------------------------------------------- */

int baton_deploy(baton *b, const char *name, const char *xml, size_t len, baton_deployed *out,
                 baton_error *err) {
    bt_error_clear(as_bt(err));
    eng_resource res = {name, xml, len};
    eng_deployment dep;
    bpmn_errors errs;
    int rc = eng_deploy(b->engine, now_of(b), &res, 1, &dep, &errs);
    if (rc != BT_OK) {
        if (err && errs.count > 0)
            *as_bt(err) = errs.items[0];
        if (err)
            err->code = rc;
        return rc;
    }
    if (out) {
        memset(out, 0, sizeof *out);
        out->definition_key = dep.processes[0].definition_key;
        snprintf(out->bpmn_process_id, sizeof out->bpmn_process_id, "%s",
                 dep.processes[0].bpmn_process_id);
        out->version = dep.processes[0].version;
        out->is_new = dep.processes[0].is_new;
    }
    return done(b, BT_OK, as_bt(err));
}

int baton_deploy_file(baton *b, const char *path, baton_deployed *out, baton_error *err) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return bt_error_set(as_bt(err), BT_ENOTFOUND, "cannot open %s", path);
    bt_buf data = BT_BUF_INIT;
    char chunk[8192];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        bt_buf_append(&data, chunk, n);
    fclose(f);
    if (data.failed) {
        bt_buf_free(&data);
        return bt_error_set(as_bt(err), BT_ENOMEM, "out of memory reading %s", path);
    }
    const char *name = strrchr(path, '/');
    int rc =
        baton_deploy(b, name ? name + 1 : path, data.data ? data.data : "", data.len, out, err);
    bt_buf_free(&data);
    return rc;
}

/* ---- instances ------------------------------------------------------------------------- */

static int parse_vars(const char *json, feel_value **out, bt_error *err) {
    *out = NULL;
    if (!json)
        return BT_OK;
    int rc = feel_value_from_json(json, strlen(json), out, err);
    if (rc != BT_OK)
        return rc;
    if (feel_value_type(*out) != FEEL_CONTEXT) {
        feel_value_unref(*out);
        *out = NULL;
        return bt_error_set(err, BT_EINVAL, "variables must be a JSON object");
    }
    return BT_OK;
}

int baton_create_instance(baton *b, const char *process_id, const char *variables_json,
                          const char *business_id, uint64_t *key, baton_error *err) {
    bt_error_clear(as_bt(err));
    feel_value *vars;
    int rc = parse_vars(variables_json, &vars, as_bt(err));
    if (rc != BT_OK)
        return rc;
    eng_start st = {.bpmn_process_id = process_id,
                    .version = -1,
                    .variables = vars,
                    .business_id = business_id};
    rc = eng_instance_create(b->engine, now_of(b), &st, key, as_bt(err));
    feel_value_unref(vars);
    return done(b, rc, as_bt(err));
}

int baton_cancel_instance(baton *b, uint64_t key, baton_error *err) {
    bt_error_clear(as_bt(err));
    int rc = eng_instance_cancel(b->engine, now_of(b), key, as_bt(err));
    return done(b, rc, as_bt(err));
}

int baton_get_instance(baton *b, uint64_t key, baton_instance *out) {
    memset(out, 0, sizeof *out);
    eng_instance_view v;
    if (eng_instance_get(b->engine, key, &v) == BT_OK) {
        out->key = v.key;
        out->definition_key = v.definition_key;
        snprintf(out->bpmn_process_id, sizeof out->bpmn_process_id, "%s", v.bpmn_process_id);
        out->version = v.version;
        out->state = v.state;
        out->has_incident = v.has_incident;
        out->start_ms = v.start_ms;
        out->end_ms = v.end_ms;
        out->parent_instance_key = v.parent_instance_key;
        return BT_OK;
    }
    store_instance si;
    int rc = store_instance_get(b->store, key, &si);
    if (rc != BT_OK)
        return rc;
    out->key = si.key;
    out->definition_key = si.definition_key;
    snprintf(out->bpmn_process_id, sizeof out->bpmn_process_id, "%s", si.bpmn_process_id);
    out->version = si.version;
    out->state = si.state;
    out->has_incident = si.has_incident;
    out->start_ms = si.start_ms;
    out->end_ms = si.end_ms;
    out->parent_instance_key = si.parent_instance_key;
    return BT_OK;
}

char *baton_get_variables(baton *b, uint64_t instance_key) {
    feel_value *v = eng_variables_visible(b->engine, instance_key);
    if (!v)
        return NULL;
    bt_buf json = BT_BUF_INIT;
    int rc = feel_value_to_json(v, &json);
    feel_value_unref(v);
    if (rc != BT_OK) {
        bt_buf_free(&json);
        return NULL;
    }
    return bt_buf_take(&json);
}

int baton_set_variables(baton *b, uint64_t scope_key, const char *variables_json, bool local,
                        baton_error *err) {
    bt_error_clear(as_bt(err));
    feel_value *vars;
    int rc = parse_vars(variables_json, &vars, as_bt(err));
    if (rc != BT_OK)
        return rc;
    if (!vars)
        return bt_error_set(as_bt(err), BT_EINVAL, "variables are required");
    rc = eng_variables_set(b->engine, now_of(b), scope_key, vars, local, as_bt(err));
    feel_value_unref(vars);
    return done(b, rc, as_bt(err));
}

void baton_free(void *p) {
    bt_free(p);
}

/* ---- jobs ---------------------------------------------------------------------------------- */

int baton_activate_jobs(baton *b, const char *type, const char *worker, int64_t timeout_ms, int max,
                        baton_job *jobs, int *count, baton_error *err) {
    bt_error_clear(as_bt(err));
    *count = 0;
    if (max <= 0)
        return BT_OK;
    eng_job_view *views = bt_xcalloc((size_t)max, sizeof *views);
    int n = 0;
    eng_jobs_activate(b->engine, now_of(b), type, worker, timeout_ms, max, NULL, 0, views, &n);
    int rc = done(b, BT_OK, as_bt(err));
    if (rc != BT_OK) { /* not durable: the activation did not happen */
        eng_job_views_free(views, n);
        bt_free(views);
        return rc;
    }
    for (int i = 0; i < n; i++) {
        const eng_job_view *v = &views[i];
        baton_job *j = &jobs[i];
        memset(j, 0, sizeof *j);
        j->key = v->key;
        j->type = bt_xstrdup(v->type);
        j->process_instance_key = v->process_instance_key;
        j->element_instance_key = v->element_instance_key;
        j->bpmn_process_id = bt_xstrdup(v->bpmn_process_id);
        j->element_id = bt_xstrdup(v->element_id);
        j->retries = v->retries;
        j->deadline_ms = v->deadline_ms;
        j->n_headers = v->n_headers;
        if (v->n_headers > 0) {
            const char **keys = bt_xcalloc((size_t)v->n_headers, sizeof *keys);
            const char **values = bt_xcalloc((size_t)v->n_headers, sizeof *values);
            for (int h = 0; h < v->n_headers; h++) {
                keys[h] = bt_xstrdup(v->custom_headers[h].key);
                values[h] = bt_xstrdup(v->custom_headers[h].value);
            }
            j->header_keys = keys;
            j->header_values = values;
        }
        j->variables_json = v->variables_json;
        views[i].variables_json = NULL;
    }
    eng_job_views_free(views, n);
    bt_free(views);
    *count = n;
    return BT_OK;
}

void baton_jobs_free(baton_job *jobs, int count) {
    for (int i = 0; i < count; i++) {
        baton_job *j = &jobs[i];
        bt_free((void *)j->type);
        bt_free((void *)j->bpmn_process_id);
        bt_free((void *)j->element_id);
        for (int h = 0; h < j->n_headers; h++) {
            bt_free((void *)j->header_keys[h]);
            bt_free((void *)j->header_values[h]);
        }
        bt_free((void *)j->header_keys);
        bt_free((void *)j->header_values);
        bt_free(j->variables_json);
        memset(j, 0, sizeof *j);
    }
}

int baton_complete_job(baton *b, uint64_t job_key, const char *variables_json, baton_error *err) {
    bt_error_clear(as_bt(err));
    feel_value *vars;
    int rc = parse_vars(variables_json, &vars, as_bt(err));
    if (rc != BT_OK)
        return rc;
    rc = eng_job_complete(b->engine, now_of(b), job_key, vars, as_bt(err));
    feel_value_unref(vars);
    return done(b, rc, as_bt(err));
}

static int message_command(baton *b, const baton_message *m, uint64_t *key, uint64_t *instance_key,
                           baton_error *err) {
    bt_error_clear(as_bt(err));
    if (!m)
        return bt_error_set(as_bt(err), BT_EINVAL, "no message");
    feel_value *vars;
    int rc = parse_vars(m->variables_json, &vars, as_bt(err));
    if (rc != BT_OK)
        return rc;
    eng_message_pub pub = {m->name, m->correlation_key, m->time_to_live_ms, m->message_id, vars};
    uint64_t k = 0, pi = 0;
    rc = instance_key ? eng_message_correlate(b->engine, now_of(b), &pub, &k, &pi, as_bt(err))
                      : eng_message_publish(b->engine, now_of(b), &pub, &k, as_bt(err));
    feel_value_unref(vars);
    rc = done(b, rc, as_bt(err));
    if (rc == BT_OK) {
        if (key)
            *key = k;
        if (instance_key)
            *instance_key = pi;
    }
    return rc;
}

int baton_publish_message(baton *b, const baton_message *m, uint64_t *key, baton_error *err) {
    return message_command(b, m, key, NULL, err);
}

int baton_correlate_message(baton *b, const baton_message *m, uint64_t *key, uint64_t *instance_key,
                            baton_error *err) {
    uint64_t pi = 0;
    return message_command(b, m, key, instance_key ? instance_key : &pi, err);
}

int baton_broadcast_signal(baton *b, const char *name, const char *variables_json, uint64_t *key,
                           baton_error *err) {
    bt_error_clear(as_bt(err));
    feel_value *vars;
    int rc = parse_vars(variables_json, &vars, as_bt(err));
    if (rc != BT_OK)
        return rc;
    eng_signal sig = {name, vars};
    uint64_t k = 0;
    rc = eng_signal_broadcast(b->engine, now_of(b), &sig, &k, as_bt(err));
    feel_value_unref(vars);
    rc = done(b, rc, as_bt(err));
    if (rc == BT_OK && key)
        *key = k;
    return rc;
}

int baton_fail_job(baton *b, uint64_t job_key, int retries, const char *message, int64_t backoff_ms,
                   baton_error *err) {
    bt_error_clear(as_bt(err));
    int rc =
        eng_job_fail(b->engine, now_of(b), job_key, retries, message, backoff_ms, NULL, as_bt(err));
    return done(b, rc, as_bt(err));
}

int baton_throw_error(baton *b, uint64_t job_key, const char *code, const char *message,
                      baton_error *err) {
    bt_error_clear(as_bt(err));
    int rc = eng_job_throw_error(b->engine, now_of(b), job_key, code, message, NULL, as_bt(err));
    return done(b, rc, as_bt(err));
}

int baton_update_job_retries(baton *b, uint64_t job_key, int retries, baton_error *err) {
    bt_error_clear(as_bt(err));
    int rc = eng_job_update_retries(b->engine, now_of(b), job_key, retries, as_bt(err));
    return done(b, rc, as_bt(err));
}

/* ---- incidents ------------------------------------------------------------------------------- */

int baton_list_incidents(baton *b, uint64_t instance_key, baton_incident *out, int max) {
    eng_incident_view *views = bt_xcalloc(max > 0 ? (size_t)max : 1, sizeof *views);
    int n = eng_incidents_list(b->engine, instance_key, views, max);
    for (int i = 0; i < n && i < max; i++) {
        baton_incident *o = &out[i];
        memset(o, 0, sizeof *o);
        o->key = views[i].key;
        snprintf(o->type, sizeof o->type, "%s", views[i].type);
        snprintf(o->message, sizeof o->message, "%s", views[i].message);
        o->process_instance_key = views[i].process_instance_key;
        o->element_instance_key = views[i].element_instance_key;
        snprintf(o->element_id, sizeof o->element_id, "%s", views[i].element_id);
        o->job_key = views[i].job_key;
    }
    bt_free(views);
    return n;
}

int baton_resolve_incident(baton *b, uint64_t incident_key, baton_error *err) {
    bt_error_clear(as_bt(err));
    int rc = eng_incident_resolve(b->engine, now_of(b), incident_key, as_bt(err));
    return done(b, rc, as_bt(err));
}

/* ---- time and history -------------------------------------------------------------------------
 */

int64_t baton_tick(baton *b, baton_error *err) {
    bt_error_clear(as_bt(err));
    int64_t next = eng_tick(b->engine, now_of(b));
    int rc = done(b, BT_OK, as_bt(err));
    return rc != BT_OK ? rc : next;
}

typedef struct history_ctx {
    int (*cb)(void *ud, const char *value_type, const char *intent, uint64_t key,
              const char *value_json);
    void *ud;
} history_ctx;

static int history_one(void *ud, const store_record *r) {
    history_ctx *h = ud;
    return h->cb(h->ud, r->value_type, r->intent, r->key, r->value);
}

int baton_history(baton *b, uint64_t instance_key,
                  int (*cb)(void *ud, const char *value_type, const char *intent, uint64_t key,
                            const char *value_json),
                  void *ud) {
    history_ctx h = {cb, ud};
    return store_records_read(b->store, instance_key, 0, 0, history_one, &h);
}
