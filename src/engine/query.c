/*
 * query.c — read-only walks over the engine's state for the API's searches:
 * definitions, jobs, variables and live element instances.
 *
 * The engine's maps iterate in slot order; the walks here sort keys first so
 * callers see key order (stable pages across calls).
 */
#include "engine/eng_int.h"

#include <stdlib.h>
#include <string.h>

static int key_cmp(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* The keys of a map, sorted; *n set; the caller frees. */
static uint64_t *sorted_keys(const bt_map *m, size_t *n) {
    uint64_t *keys = bt_xmalloc((m->count ? m->count : 1) * sizeof *keys);
    size_t k = 0, it = 0;
    uint64_t key;
    while (bt_map_next(m, &it, &key, NULL))
        keys[k++] = key;
    qsort(keys, k, sizeof *keys, key_cmp);
    *n = k;
    return keys;
}

static void definition_view(const eng_engine *e, const eng_definition *d,
                            eng_definition_view *out) {
    const eng_process_family *f = bt_smap_get(&e->families, d->bpmn_process_id);
    *out = (eng_definition_view){
        .key = d->key,
        .bpmn_process_id = d->bpmn_process_id,
        .name = d->process->name,
        .version = d->version,
        .is_latest = f && f->versions[f->n_versions - 1] == d,
        .resource_name = d->resource_name,
        .xml = d->xml,
        .xml_len = d->xml_len,
        .deployment_key = d->deployment_key,
        .deploy_time_ms = d->deploy_time_ms,
    };
}

int eng_definitions_each(const eng_engine *e, int (*cb)(void *ud, const eng_definition_view *d),
                         void *ud) {
    size_t n;
    uint64_t *keys = sorted_keys(&e->definitions, &n);
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        eng_definition_view v;
        definition_view(e, bt_map_get(&e->definitions, keys[i]), &v);
        rc = cb(ud, &v);
    }
    bt_free(keys);
    return rc;
}

const char *eng_element_name(const eng_engine *e, uint64_t definition_key, const char *element_id) {
    const eng_definition *d = bt_map_get(&e->definitions, definition_key);
    if (!d)
        return NULL;
    int i = bpmn_find_element(d->process, element_id);
    return i >= 0 ? d->process->elements[i].name : NULL;
}

int eng_definition_get(const eng_engine *e, uint64_t key, eng_definition_view *out) {
    const eng_definition *d = bt_map_get(&e->definitions, key);
    if (!d)
        return BT_ENOTFOUND;
    definition_view(e, d, out);
    return BT_OK;
}

static const char *job_state_name(const eng_job *j) {
    switch (j->state) {
    case ENG_JOB_ACTIVATABLE: return j->error_message ? "FAILED" : "CREATED";
    case ENG_JOB_ACTIVATED: return "ACTIVATED";
    case ENG_JOB_FAILED: return "FAILED";
    case ENG_JOB_INCIDENT: return "FAILED";
    }
    return "CREATED";
}

int eng_jobs_each(const eng_engine *e, int (*cb)(void *ud, const eng_job_info *j), void *ud) {
    size_t n;
    uint64_t *keys = sorted_keys(&e->jobs, &n);
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        const eng_job *j = bt_map_get(&e->jobs, keys[i]);
        const eng_elem *el = j->elem;
        eng_job_info info = {
            .key = j->key,
            .type = j->type,
            .state = job_state_name(j),
            .worker = j->worker,
            .retries = j->retries,
            .deadline_ms = j->state == ENG_JOB_ACTIVATED ? j->deadline_ms : 0,
            .error_message = j->error_message,
            .process_instance_key = el->inst->key,
            .element_instance_key = el->key,
            .process_definition_key = el->inst->def->key,
            .bpmn_process_id = el->inst->def->bpmn_process_id,
            .element_id = eng_elem_model(el)->id,
            .has_incident = el->incident != NULL,
        };
        rc = cb(ud, &info);
    }
    bt_free(keys);
    return rc;
}

static int variables_of(const eng_instance *inst, int (*cb)(void *ud, const eng_variable_info *v),
                        void *ud) {
    for (int i = 0; i < inst->n_elems; i++) {
        const eng_elem *el = inst->elems[i];
        for (int k = 0; k < el->vars.count; k++) {
            eng_variable_info v = {
                .key = el->vars.items[k].key,
                .name = el->vars.items[k].name,
                .value = el->vars.items[k].value,
                .scope_key = el->key,
                .process_instance_key = inst->key,
                .process_definition_key = inst->def->key,
                .bpmn_process_id = inst->def->bpmn_process_id,
            };
            int rc = cb(ud, &v);
            if (rc)
                return rc;
        }
    }
    return 0;
}

int eng_variables_each(const eng_engine *e, uint64_t instance_key,
                       int (*cb)(void *ud, const eng_variable_info *v), void *ud) {
    if (instance_key) {
        const eng_instance *inst = bt_map_get(&e->instances, instance_key);
        return inst && inst->state == ENG_INSTANCE_ACTIVE ? variables_of(inst, cb, ud) : 0;
    }
    size_t n;
    uint64_t *keys = sorted_keys(&e->instances, &n);
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        const eng_instance *inst = bt_map_get(&e->instances, keys[i]);
        if (inst->state == ENG_INSTANCE_ACTIVE)
            rc = variables_of(inst, cb, ud);
    }
    bt_free(keys);
    return rc;
}

int eng_elems_each(const eng_engine *e, uint64_t instance_key,
                   int (*cb)(void *ud, const eng_elem_info *el), void *ud) {
    const eng_instance *inst = bt_map_get(&e->instances, instance_key);
    if (!inst)
        return 0;
    for (int i = 0; i < inst->n_elems; i++) {
        const eng_elem *el = inst->elems[i];
        const bpmn_element *m = eng_elem_model(el);
        eng_elem_info info = {
            .key = el->key,
            .process_instance_key = inst->key,
            .process_definition_key = inst->def->key,
            .bpmn_process_id = inst->def->bpmn_process_id,
            .element_id = m->id,
            .element_name = m->name,
            .type = eng_elem_type_name(el),
            .incident_key = el->incident ? el->incident->key : 0,
        };
        int rc = cb(ud, &info);
        if (rc)
            return rc;
    }
    return 0;
}
