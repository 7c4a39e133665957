/*
 * persist.c — engine ⇄ store: loading the committed state, committing the
 * pending changes of a batch in one transaction.
 */
#include "runtime/persist.h"

#include <string.h>

typedef struct load_ctx {
    eng_engine *engine;
    bt_error *err;
} load_ctx;

static int load_definition(void *ud, const store_definition *d) {
    load_ctx *c = ud;
    eng_definition_row row = {d->key,           d->bpmn_process_id, d->version,
                              d->resource_name, d->checksum,        d->xml,
                              d->xml_len,       d->deployment_key,  d->deploy_time_ms};
    return eng_restore_definition(c->engine, &row, c->err);
}

static int load_instance(void *ud, const store_instance *si) {
    load_ctx *c = ud;
    eng_instance_row row = {
        .key = si->key,
        .definition_key = si->definition_key,
        .bpmn_process_id = si->bpmn_process_id,
        .version = si->version,
        .state = si->state,
        .has_incident = si->has_incident,
        .business_id = si->business_id,
        .start_ms = si->start_ms,
        .end_ms = si->end_ms,
        .parent_instance_key = si->parent_instance_key,
        .state_data = (char *)si->state_data,
        .state_len = si->state_len,
    };
    return eng_restore_instance(c->engine, &row, c->err);
}

static int load_object(void *ud, const store_object *o) {
    load_ctx *c = ud;
    eng_object_row row = {o->key, o->kind, (char *)o->data, o->len};
    return eng_restore_object(c->engine, &row, c->err);
}

int rt_engine_load(store *s, const eng_config *cfg, eng_engine **out, bt_error *err) {
    eng_engine *e = eng_new(cfg);
    int64_t next_key = 1, next_pos = 1;
    int rc = store_meta_get(s, "next_key", 1, &next_key);
    if (rc == BT_OK)
        rc = store_meta_get(s, "next_position", 1, &next_pos);
    if (rc != BT_OK) {
        eng_free(e);
        return bt_error_set(err, rc, "cannot read the store's counters");
    }
    eng_restore_counters(e, (uint64_t)next_key, (uint64_t)next_pos);
    load_ctx ctx = {e, err};
    rc = store_definitions_load(s, load_definition, &ctx);
    if (rc == BT_OK)
        rc = store_instances_load(s, load_instance, &ctx);
    if (rc == BT_OK)
        rc = store_objects_load(s, load_object, &ctx);
    if (rc != BT_OK) {
        eng_free(e);
        return rc;
    }
    eng_changes_done(e); /* restoring is not a change */
    *out = e;
    return BT_OK;
}

static int write_changes(store *s, const eng_changes *c) {
    int rc = BT_OK;
    for (size_t i = 0; rc == BT_OK && i < c->n_definitions; i++) {
        const eng_definition_row *d = &c->definitions[i];
        store_definition sd = {d->key,           d->bpmn_process_id, d->version,
                               d->resource_name, d->checksum,        d->xml,
                               d->xml_len,       d->deployment_key,  d->deploy_time_ms};
        rc = store_definition_put(s, &sd);
    }
    for (size_t i = 0; rc == BT_OK && i < c->n_instances; i++) {
        const eng_instance_row *r = &c->instances[i];
        store_instance si = {
            .key = r->key,
            .definition_key = r->definition_key,
            .bpmn_process_id = r->bpmn_process_id,
            .version = r->version,
            .state = r->state,
            .has_incident = r->has_incident,
            .business_id = r->business_id,
            .start_ms = r->start_ms,
            .end_ms = r->end_ms,
            .parent_instance_key = r->parent_instance_key,
            .state_data = r->state_data,
            .state_len = r->state_len,
        };
        rc = store_instance_put(s, &si);
    }
    for (size_t i = 0; rc == BT_OK && i < c->n_objects; i++) {
        const eng_object_row *o = &c->objects[i];
        if (o->data)
            rc = store_object_put(s, &(store_object){o->key, o->kind, o->data, o->len});
        else
            rc = store_object_delete(s, o->key);
    }
    for (size_t i = 0; rc == BT_OK && i < c->n_records; i++) {
        const eng_record *r = &c->records[i];
        store_record sr = {r->position, r->key,          r->timestamp_ms, r->value_type,
                           r->intent,   r->instance_key, r->value,        r->value_len};
        rc = store_record_append(s, &sr);
    }
    if (rc == BT_OK)
        rc = store_meta_set(s, "next_key", (int64_t)c->next_key);
    if (rc == BT_OK)
        rc = store_meta_set(s, "next_position", (int64_t)c->next_position);
    return rc;
}

static void count_events(const eng_changes *c, uint64_t *events) {
    for (size_t i = 0; i < c->n_records; i++) {
        const eng_record *r = &c->records[i];
        const char *t = r->value_type, *in = r->intent;
        if (t[0] == 'P' && strcmp(t, "PROCESS_INSTANCE") == 0 && r->key == r->instance_key) {
            /* the process element instance has the instance's key */
            if (strcmp(in, "ELEMENT_ACTIVATING") == 0)
                events[RT_EVENT_INSTANCE_STARTED]++;
            else if (strcmp(in, "ELEMENT_COMPLETED") == 0)
                events[RT_EVENT_INSTANCE_COMPLETED]++;
            else if (strcmp(in, "ELEMENT_TERMINATED") == 0)
                events[RT_EVENT_INSTANCE_TERMINATED]++;
        } else if (strcmp(t, "JOB") == 0) {
            if (strcmp(in, "ACTIVATED") == 0)
                events[RT_EVENT_JOB_ACTIVATED]++;
            else if (strcmp(in, "COMPLETED") == 0)
                events[RT_EVENT_JOB_COMPLETED]++;
            else if (strcmp(in, "FAILED") == 0)
                events[RT_EVENT_JOB_FAILED]++;
        } else if (strcmp(t, "INCIDENT") == 0 && strcmp(in, "CREATED") == 0) {
            events[RT_EVENT_INCIDENT_CREATED]++;
        }
    }
}

int rt_engine_commit(store *s, eng_engine *e, bool *had_changes, uint64_t *events, bt_error *err) {
    eng_changes c;
    eng_changes_take(e, &c);
    bool any = c.n_records || c.n_instances || c.n_definitions || c.n_objects;
    if (had_changes)
        *had_changes = any;
    if (!any) {
        eng_changes_done(e);
        return BT_OK;
    }
    int rc = store_begin(s);
    if (rc == BT_OK)
        rc = write_changes(s, &c);
    if (rc == BT_OK)
        rc = store_commit(s);
    else
        store_rollback(s);
    if (rc == BT_OK && events)
        count_events(&c, events);
    eng_changes_done(e);
    if (rc != BT_OK)
        return bt_error_set(err, BT_EIO, "the store could not commit: %s", bt_strerror(rc));
    return BT_OK;
}
