/*
 * engine.c — the engine object: keys and records, the step queue, the
 * due-time heap, deployment, starting and cancelling instances, collecting
 * changes for the store, and recovery.
 *
 * Why crash recovery is correct: the engine's whole state is (counters,
 * definitions, active instances). Every command changes it only in memory
 * and marks what it touched; the runtime then writes the touched instances'
 * encoded state, the new definitions, the records and the counters in ONE
 * store transaction, and acknowledges the commands only after that commit.
 * A crash before the commit loses only unacknowledged commands; after it,
 * the store holds exactly the state the acknowledged commands produced, and
 * eng_restore_* rebuilds that state (indexes such as activatable job queues
 * and the due-time heap are derived from the instances on restore, never
 * stored on their own). Job deadlines and back-offs are absolute times in
 * the job, so they survive a restart unchanged.
 */
#include "engine/eng_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- life cycle ----------------------------------------------------------- */

eng_engine *eng_new(const eng_config *cfg) {
    eng_engine *e = bt_xcalloc(1, sizeof *e);
    if (cfg)
        e->cfg = *cfg;
    if (e->cfg.partition <= 0)
        e->cfg.partition = 1;
    e->next_key = 1;
    e->next_position = 1;
    return e;
}

static void definition_free(eng_definition *d) {
    if (!d)
        return;
    bt_free(d->bpmn_process_id);
    bt_free(d->resource_name);
    bt_free(d->checksum);
    bt_free(d->xml);
    bt_free(d->reach);
    bpmn_model_free(d->model);
    bt_free(d);
}

static void changes_clear(eng_engine *e);

void eng_free(eng_engine *e) {
    if (!e)
        return;
    changes_clear(e);
    size_t it = 0;
    void *v;
    while (bt_map_next(&e->instances, &it, NULL, &v))
        eng_instance_free(e, v);
    it = 0;
    while (bt_map_next(&e->definitions, &it, NULL, &v))
        definition_free(v);
    it = 0;
    const char *name;
    while (bt_smap_next(&e->families, &it, &name, &v)) {
        eng_process_family *f = v;
        bt_free(f->versions);
        bt_free(f);
    }
    it = 0;
    while (bt_smap_next(&e->job_queues, &it, &name, &v))
        bt_free(v);
    it = 0;
    while (bt_smap_next(&e->starters, &it, &name, &v)) {
        eng_starters *l = v;
        bt_free(l->ids);
        bt_free(l);
    }
    bt_smap_free(&e->starters);
    bt_map_free(&e->definitions);
    bt_smap_free(&e->families);
    bt_map_free(&e->instances);
    bt_map_free(&e->elems);
    bt_map_free(&e->jobs);
    bt_map_free(&e->incidents);
    bt_map_free(&e->timers);
    bt_smap_free(&e->job_queues);
    bt_smap_free(&e->business_ids);
    eng_messages_free(e);
    eng_start_timers_free(e);
    eng_signals_free(e);
    bt_smap_free(&e->msub_index);
    bt_smap_free(&e->start_keys);
    bt_free(e->due);
    bt_free(e->steps);
    bt_free(e->records);
    bt_free(e->dirty);
    bt_free(e->new_defs);
    bt_free(e->dirty_messages);
    bt_free(e);
}

/* ---- keys, records, dirty instances ----------------------------------------- */

uint64_t eng_key_next(eng_engine *e) {
    return bt_key_make(e->cfg.partition, e->next_key++);
}

void eng_record_add(eng_engine *e, const char *value_type, const char *intent, uint64_t key,
                    uint64_t instance_key, char *value, size_t len) {
    if (e->n_records == e->cap_records) {
        e->cap_records = e->cap_records ? e->cap_records * 2 : 256;
        e->records = bt_xrealloc(e->records, e->cap_records * sizeof *e->records);
    }
    e->records[e->n_records++] = (eng_record){
        .position = e->next_position++,
        .key = key,
        .timestamp_ms = e->now,
        .value_type = value_type,
        .intent = intent,
        .instance_key = instance_key,
        .value = value,
        .value_len = len,
    };
}

void eng_instance_touch(eng_engine *e, eng_instance *inst) {
    if (inst->dirty)
        return;
    inst->dirty = true;
    if (e->n_dirty == e->cap_dirty) {
        e->cap_dirty = e->cap_dirty ? e->cap_dirty * 2 : 64;
        e->dirty = bt_xrealloc(e->dirty, e->cap_dirty * sizeof *e->dirty);
    }
    e->dirty[e->n_dirty++] = inst;
}

/* ---- the step queue ------------------------------------------------------------ */

void eng_step_push(eng_engine *e, eng_step_kind kind, eng_elem *el) {
    size_t n = e->steps_tail - e->steps_head;
    if (e->steps_tail == e->steps_cap) {
        if (e->steps_head > 0) { /* slide down before growing */
            memmove(e->steps, e->steps + e->steps_head, n * sizeof *e->steps);
            e->steps_head = 0;
            e->steps_tail = n;
        }
        if (e->steps_tail == e->steps_cap) {
            e->steps_cap = e->steps_cap ? e->steps_cap * 2 : 64;
            e->steps = bt_xrealloc(e->steps, e->steps_cap * sizeof *e->steps);
        }
    }
    e->steps[e->steps_tail++] = (eng_step){kind, el->inst->key, el->key, 0};
}

void eng_step_push_poll(eng_engine *e, eng_elem *el, uint64_t sub_key) {
    eng_step_push(e, STEP_POLL, el);
    e->steps[e->steps_tail - 1].arg = sub_key;
}

/* Runs queued steps until none is left. A step whose element instance is
 * gone (terminated by an earlier step) is skipped. */
void eng_steps_run(eng_engine *e) {
    long run = 0;
    while (e->steps_head < e->steps_tail) {
        eng_step st = e->steps[e->steps_head++];
        eng_elem *el = bt_map_get(&e->elems, st.elem_key);
        if (!el)
            continue;
        if (++run > ENG_MAX_STEPS) {
            /* Park the step as an incident instead of running it: its branch
             * stops here, the engine stays responsive, and resolving the
             * incident runs the step again (after the operator fixed what
             * made it loop). */
            char msg[256];
            snprintf(msg, sizeof msg,
                     "The instance ran more than %d steps in one command without reaching a "
                     "wait state; is there a loop through gateways or events?",
                     ENG_MAX_STEPS);
            eng_incident_raise(e, el, ENG_INC_UNKNOWN, 0, msg);
            if (st.kind != STEP_POLL) /* a poll is repeated by the next message anyway */
                el->incident->step = (int)st.kind + 1;
            continue;
        }
        switch (st.kind) {
        case STEP_ACTIVATE: eng_elem_run_activate(e, el); break;
        case STEP_COMPLETE: eng_elem_run_complete(e, el); break;
        case STEP_POLL: eng_msub_poll(e, el, st.arg); break;
        }
    }
    e->steps_head = e->steps_tail = 0;
}

/* ---- the due-time heap ------------------------------------------------------------ */

static void due_sift_down(eng_due *h, size_t n, size_t i) {
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < n && h[l].at < h[m].at)
            m = l;
        if (r < n && h[r].at < h[m].at)
            m = r;
        if (m == i)
            return;
        eng_due t = h[m];
        h[m] = h[i];
        h[i] = t;
        i = m;
    }
}

/* Whether a heap entry still stands for a deadline or back-off of its job,
 * or for its timer's next firing. */
static bool due_live(const eng_engine *e, const eng_due *d) {
    if (d->kind == DUE_TIMER) {
        const eng_timer *t = bt_map_get(&e->timers, d->key);
        return t && t->due_ms == d->at;
    }
    if (d->kind == DUE_MESSAGE) {
        const eng_message *m = bt_map_get(&e->messages, d->key);
        return m && m->deadline_ms == d->at;
    }
    if (d->kind == DUE_START_TIMER)
        return eng_start_timer_due(e, d->key, d->at);
    const eng_job *job = bt_map_get(&e->jobs, d->key);
    return job && ((job->state == ENG_JOB_ACTIVATED && job->deadline_ms == d->at) ||
                   (job->state == ENG_JOB_FAILED && job->backoff_until_ms == d->at));
}

/* Entries are not removed when a job completes (lazy deletion); when stale
 * ones outnumber live jobs several times over, the heap is rebuilt from the
 * live entries, so it stays proportional to the jobs that can still fire. */
static void due_compact(eng_engine *e) {
    size_t k = 0;
    for (size_t i = 0; i < e->n_due; i++)
        if (due_live(e, &e->due[i]))
            e->due[k++] = e->due[i];
    e->n_due = k;
    for (size_t i = k / 2; i-- > 0;)
        due_sift_down(e->due, k, i);
}

static void due_insert(eng_engine *e, eng_due entry);

void eng_due_push(eng_engine *e, int64_t at, uint64_t job_key) {
    due_insert(e, (eng_due){at, job_key, DUE_JOB});
}

void eng_due_push_timer(eng_engine *e, int64_t at, uint64_t timer_key) {
    due_insert(e, (eng_due){at, timer_key, DUE_TIMER});
}

void eng_due_push_message(eng_engine *e, int64_t at, uint64_t message_key) {
    due_insert(e, (eng_due){at, message_key, DUE_MESSAGE});
}

void eng_due_push_start_timer(eng_engine *e, int64_t at, uint64_t timer_key) {
    due_insert(e, (eng_due){at, timer_key, DUE_START_TIMER});
}

static void due_insert(eng_engine *e, eng_due entry) {
    if (e->n_due >= 4096 && e->n_due > 4 * (e->jobs.count + e->timers.count + e->messages.count +
                                            e->start_timers.count))
        due_compact(e);
    if (e->n_due == e->cap_due) {
        e->cap_due = e->cap_due ? e->cap_due * 2 : 64;
        e->due = bt_xrealloc(e->due, e->cap_due * sizeof *e->due);
    }
    size_t i = e->n_due++;
    e->due[i] = entry;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (e->due[p].at <= e->due[i].at)
            break;
        eng_due t = e->due[p];
        e->due[p] = e->due[i];
        e->due[i] = t;
        i = p;
    }
}

static eng_due due_pop(eng_engine *e) {
    eng_due top = e->due[0];
    e->due[0] = e->due[--e->n_due];
    due_sift_down(e->due, e->n_due, 0);
    return top;
}

int64_t eng_tick(eng_engine *e, int64_t now) {
    e->now = now;
    while (e->n_due > 0 && e->due[0].at <= now) {
        eng_due d = due_pop(e);
        if (d.kind == DUE_TIMER) {
            eng_timer *t = bt_map_get(&e->timers, d.key);
            if (t && t->due_ms == d.at) {
                eng_timer_fire(e, t);
                eng_steps_run(e);
            }
            continue;
        }
        if (d.kind == DUE_MESSAGE) {
            const eng_message *m = bt_map_get(&e->messages, d.key);
            if (m && m->deadline_ms == d.at)
                eng_message_expire(e, d.key);
            continue;
        }
        if (d.kind == DUE_START_TIMER) {
            if (eng_start_timer_due(e, d.key, d.at))
                eng_start_timer_fire(e, d.key);
            continue;
        }
        eng_job *job = bt_map_get(&e->jobs, d.key);
        if (!job)
            continue; /* completed or cancelled since */
        if (job->state == ENG_JOB_ACTIVATED && job->deadline_ms == d.at) {
            bt_buf b = BT_BUF_INIT;
            bt_buf_printf(&b, "{\"type\":");
            bt_buf_json_string(&b, job->type, strlen(job->type));
            bt_buf_printf(&b, ",\"retries\":%d,\"worker\":", job->retries);
            bt_buf_json_string(&b, job->worker ? job->worker : "",
                               job->worker ? strlen(job->worker) : 0);
            bt_buf_puts(&b, "}");
            size_t len = b.len;
            eng_record_add(e, "JOB", "TIMED_OUT", job->key, job->elem->inst->key, bt_buf_take(&b),
                           len);
            eng_job_make_activatable(e, job);
        } else if (job->state == ENG_JOB_FAILED && job->backoff_until_ms == d.at) {
            eng_record_add(e, "JOB", "RECURRED_AFTER_BACKOFF", job->key, job->elem->inst->key,
                           bt_xstrdup("{}"), 2);
            eng_job_make_activatable(e, job);
        }
    }
    return e->n_due > 0 ? e->due[0].at : INT64_MAX;
}

/* ---- definitions -------------------------------------------------------------------- */

static eng_process_family *family_get(eng_engine *e, const char *id, bool create) {
    eng_process_family *f = bt_smap_get(&e->families, id);
    if (!f && create) {
        f = bt_xcalloc(1, sizeof *f);
        bt_smap_put(&e->families, id, f);
    }
    return f;
}

static eng_definition *family_latest(const eng_process_family *f) {
    return f && f->n_versions ? f->versions[f->n_versions - 1] : NULL;
}

/* ---- message and signal start events by name ------------------------------------ */

int eng_start_event_named(const eng_definition *d, bpmn_event_kind kind, const char *name) {
    const bpmn_element *proc = &d->process->elements[0];
    for (int j = 0; j < proc->n_children; j++) {
        const bpmn_element *s = &d->process->elements[proc->children[j]];
        const bpmn_expr *x = kind == BPMN_EVENT_MESSAGE ? &s->message_name : &s->signal_name;
        if (s->type == BPMN_START_EVENT && s->event == kind && x->text && !x->feel &&
            strcmp(x->text, name) == 0)
            return s->index;
    }
    return -1;
}

/* "m<name>" or "s<name>": the key of the processes a message or signal of
 * that name starts. */
static char *starters_slot(bpmn_event_kind kind, const char *name) {
    bt_buf b = BT_BUF_INIT;
    bt_buf_putc(&b, kind == BPMN_EVENT_MESSAGE ? 'm' : 's');
    bt_buf_puts(&b, name);
    char *s = bt_buf_take(&b);
    if (!s)
        abort();
    return s;
}

/* Adds (or removes) d's process id to (from) the starters of each message
 * and signal start event name of d, keeping each list sorted. */
static void starters_update(eng_engine *e, const eng_definition *d, bool add) {
    const bpmn_element *proc = &d->process->elements[0];
    for (int j = 0; j < proc->n_children; j++) {
        const bpmn_element *s = &d->process->elements[proc->children[j]];
        if (s->type != BPMN_START_EVENT ||
            (s->event != BPMN_EVENT_MESSAGE && s->event != BPMN_EVENT_SIGNAL))
            continue;
        const bpmn_expr *x = s->event == BPMN_EVENT_MESSAGE ? &s->message_name : &s->signal_name;
        if (!x->text || x->feel)
            continue;
        char *slot = starters_slot(s->event, x->text);
        eng_starters *l = bt_smap_get(&e->starters, slot);
        if (!l) {
            l = bt_xcalloc(1, sizeof *l);
            bt_smap_put(&e->starters, slot, l);
        }
        bt_free(slot);
        int at = 0;
        while (at < l->n && strcmp(l->ids[at], d->bpmn_process_id) < 0)
            at++;
        bool there = at < l->n && strcmp(l->ids[at], d->bpmn_process_id) == 0;
        if (add && !there) {
            l->ids = bt_xrealloc(l->ids, (size_t)(l->n + 1) * sizeof *l->ids);
            memmove(&l->ids[at + 1], &l->ids[at], (size_t)(l->n - at) * sizeof *l->ids);
            l->ids[at] = d->bpmn_process_id;
            l->n++;
        } else if (!add && there) {
            memmove(&l->ids[at], &l->ids[at + 1], (size_t)(l->n - at - 1) * sizeof *l->ids);
            l->n--;
        }
    }
}

const eng_starters *eng_starters_of(const eng_engine *e, bpmn_event_kind kind, const char *name) {
    char *slot = starters_slot(kind, name);
    const eng_starters *l = bt_smap_get(&e->starters, slot);
    bt_free(slot);
    return l;
}

static void family_add(eng_engine *e, eng_definition *d) {
    eng_process_family *f = family_get(e, d->bpmn_process_id, true);
    eng_definition *previous = family_latest(f);
    f->versions = bt_xrealloc(f->versions, (size_t)(f->n_versions + 1) * sizeof *f->versions);
    f->versions[f->n_versions++] = d;
    bt_map_put(&e->definitions, d->key, d);
    /* Only the latest version starts by message or signal. */
    if (previous)
        starters_update(e, previous, false);
    starters_update(e, d, true);
}

/* Checksum of a resource: its length and two independent 64-bit hashes. */
static void resource_checksum(const char *data, size_t len, char out[48]) {
    uint64_t h1 = bt_hash64(data, len);
    uint64_t h2 = 0x9e3779b97f4a7c15ULL;
    for (size_t i = 0; i < len; i++)
        h2 = (h2 ^ (unsigned char)data[i]) * 0x100000001b3ULL + (h2 >> 29);
    snprintf(out, 48, "%016llx%016llx", (unsigned long long)h1, (unsigned long long)h2);
}

static void deploy_record(eng_engine *e, const eng_definition *d, const char *intent) {
    bt_buf b = BT_BUF_INIT;
    bt_buf_puts(&b, "{\"bpmnProcessId\":");
    bt_buf_json_string(&b, d->bpmn_process_id, strlen(d->bpmn_process_id));
    bt_buf_printf(&b,
                  ",\"version\":%d,\"processDefinitionKey\":\"%llu\",\"resourceName\":", d->version,
                  (unsigned long long)d->key);
    bt_buf_json_string(&b, d->resource_name, strlen(d->resource_name));
    bt_buf_printf(&b, ",\"deploymentKey\":\"%llu\"}", (unsigned long long)d->deployment_key);
    size_t len = b.len;
    eng_record_add(e, "PROCESS", intent, d->key, 0, bt_buf_take(&b), len);
}

int eng_deploy(eng_engine *e, int64_t now, const eng_resource *res, int n, eng_deployment *out,
               bpmn_errors *errs) {
    e->now = now;
    memset(out, 0, sizeof *out);
    if (errs)
        memset(errs, 0, sizeof *errs);
    if (n <= 0) {
        if (errs) {
            errs->count = 1;
            bt_error_set(&errs->items[0], BT_EINVAL, "no resources to deploy");
        }
        return BT_EINVAL;
    }
    /* Parse everything first: all or nothing. */
    bpmn_model **models = bt_xcalloc((size_t)n, sizeof *models);
    int rc = BT_OK, total = 0;
    for (int i = 0; i < n; i++) {
        bpmn_errors one;
        int prc = bpmn_parse(res[i].data, res[i].len, &models[i], &one);
        if (prc != BT_OK) {
            rc = prc == BT_ENOMEM ? BT_ENOMEM : BT_EINVAL;
            for (int k = 0; errs && k < one.count && k < BPMN_MAX_ERRORS; k++) {
                if (errs->count < BPMN_MAX_ERRORS) {
                    bt_error *dst = &errs->items[errs->count];
                    *dst = one.items[k];
                    snprintf(dst->message, sizeof dst->message, "%.120s: %.380s", res[i].name,
                             one.items[k].message);
                }
                errs->count++;
            }
            if (errs && one.count == 0 && errs->count < BPMN_MAX_ERRORS)
                bt_error_set(&errs->items[errs->count++], rc, "%s: %s", res[i].name,
                             bt_strerror(prc));
        } else {
            total += models[i]->n_processes;
        }
    }
    if (rc == BT_OK && total > ENG_MAX_DEPLOY_PROCESSES) {
        rc = BT_ELIMIT;
        if (errs) {
            errs->count = 1;
            bt_error_set(&errs->items[0], rc, "a deployment holds at most %d processes",
                         ENG_MAX_DEPLOY_PROCESSES);
        }
    }
    /* Two processes with the same id in one deployment are ambiguous. */
    for (int i = 0; rc == BT_OK && i < n; i++)
        for (int p = 0; rc == BT_OK && p < models[i]->n_processes; p++)
            for (int j = i; rc == BT_OK && j < n; j++)
                for (int q = (j == i ? p + 1 : 0); q < models[j]->n_processes; q++)
                    if (strcmp(models[i]->processes[p].id, models[j]->processes[q].id) == 0) {
                        rc = BT_EINVAL;
                        if (errs) {
                            errs->count = 1;
                            bt_error_set(&errs->items[0], rc,
                                         "process '%s' is defined twice in this deployment",
                                         models[i]->processes[p].id);
                            snprintf(errs->items[0].element_id, sizeof errs->items[0].element_id,
                                     "%s", models[i]->processes[p].id);
                        }
                        break;
                    }
    /* Timer start events must give a schedule (a FEEL value is evaluated
     * now, without variables). */
    for (int i = 0; rc == BT_OK && i < n; i++)
        for (int p = 0; rc == BT_OK && p < models[i]->n_processes; p++) {
            bt_error why;
            rc = eng_start_timers_check(e, &models[i]->processes[p], &why);
            if (rc != BT_OK && errs) {
                errs->count = 1;
                errs->items[0] = why;
                bt_error_set(&errs->items[0], rc, "%s: %s", res[i].name, why.message);
            }
        }
    if (rc != BT_OK) {
        for (int i = 0; i < n; i++)
            bpmn_model_free(models[i]);
        bt_free(models);
        return rc;
    }

    out->key = eng_key_next(e);
    for (int i = 0; i < n; i++) {
        char sum[48];
        resource_checksum(res[i].data, res[i].len, sum);
        /* A model with several processes is shared by their definitions;
         * the first new definition owns it. */
        bool model_owned = false;
        for (int p = 0; p < models[i]->n_processes; p++) {
            const bpmn_process *proc = &models[i]->processes[p];
            eng_deployed_process *dp = &out->processes[out->n_processes++];
            eng_definition *latest = family_latest(family_get(e, proc->id, false));
            if (latest && strcmp(latest->checksum, sum) == 0) {
                dp->definition_key = latest->key;
                dp->bpmn_process_id = latest->bpmn_process_id;
                dp->version = latest->version;
                dp->resource_name = latest->resource_name;
                dp->is_new = false;
                continue;
            }
            eng_definition *d = bt_xcalloc(1, sizeof *d);
            d->key = eng_key_next(e);
            d->bpmn_process_id = bt_xstrdup(proc->id);
            d->version = latest ? latest->version + 1 : 1;
            d->resource_name = bt_xstrdup(res[i].name);
            d->checksum = bt_xstrdup(sum);
            d->xml = bt_xmalloc(res[i].len + 1);
            memcpy(d->xml, res[i].data, res[i].len);
            d->xml[res[i].len] = 0;
            d->xml_len = res[i].len;
            d->deployment_key = out->key;
            d->deploy_time_ms = now;
            if (!model_owned) {
                d->model = models[i];
                model_owned = true;
            }
            d->process = proc;
            family_add(e, d);
            if (e->n_new_defs == e->cap_new_defs) {
                e->cap_new_defs = e->cap_new_defs ? e->cap_new_defs * 2 : 8;
                e->new_defs = bt_xrealloc(e->new_defs, e->cap_new_defs * sizeof *e->new_defs);
            }
            e->new_defs[e->n_new_defs++] = d;
            deploy_record(e, d, "CREATED");
            eng_start_timers_deployed(e, d);
            dp->definition_key = d->key;
            dp->bpmn_process_id = d->bpmn_process_id;
            dp->version = d->version;
            dp->resource_name = d->resource_name;
            dp->is_new = true;
        }
        if (!model_owned)
            bpmn_model_free(models[i]);
    }
    bt_free(models);
    return BT_OK;
}

/* ---- instances --------------------------------------------------------------------- */

char *eng_process_slot(const char *process_id, const char *business_id) {
    bt_buf b = BT_BUF_INIT;
    bt_buf_printf(&b, "%s\n%s", process_id, business_id);
    char *s = bt_buf_take(&b);
    if (!s)
        abort();
    return s;
}

int eng_instance_create(eng_engine *e, int64_t now, const eng_start *start, uint64_t *key,
                        bt_error *err) {
    e->now = now;
    eng_definition *def = NULL;
    if (start->definition_key) {
        def = bt_map_get(&e->definitions, start->definition_key);
        if (!def)
            return bt_error_set(err, BT_ENOTFOUND, "no process definition with key '%llu'",
                                (unsigned long long)start->definition_key);
    } else if (start->bpmn_process_id) {
        eng_process_family *f = family_get(e, start->bpmn_process_id, false);
        if (f && start->version >= 1) {
            for (int i = 0; i < f->n_versions; i++)
                if (f->versions[i]->version == start->version)
                    def = f->versions[i];
        } else {
            def = family_latest(f);
        }
        if (!def)
            return start->version >= 1
                       ? bt_error_set(err, BT_ENOTFOUND, "no version %d of process definition '%s'",
                                      start->version, start->bpmn_process_id)
                       : bt_error_set(err, BT_ENOTFOUND, "no process definition with id '%s'",
                                      start->bpmn_process_id);
    } else {
        return bt_error_set(err, BT_EINVAL, "a process definition id or key is required");
    }
    if (start->variables && feel_value_type(start->variables) != FEEL_CONTEXT)
        return bt_error_set(err, BT_EINVAL, "variables must be a JSON object");
    if (start->business_id && start->business_id[0]) {
        char *slot = eng_process_slot(def->bpmn_process_id, start->business_id);
        eng_instance *dup = bt_smap_get(&e->business_ids, slot);
        bt_free(slot);
        if (dup)
            return bt_error_set(
                err, BT_ECONFLICT, "an active instance of '%s' with business id '%s' exists: %llu",
                def->bpmn_process_id, start->business_id, (unsigned long long)dup->key);
    }
    if (def->process->elements[0].start_event < 0)
        return bt_error_set(err, BT_EINVAL,
                            "process '%s' has no none start event (it starts by messages or "
                            "signals)",
                            def->bpmn_process_id);
    eng_instance *inst = eng_instance_begin(e, def, start->variables, start->business_id, 0, NULL);
    eng_steps_run(e);
    *key = inst->key;
    return BT_OK;
}

eng_instance *eng_instance_begin(eng_engine *e, eng_definition *def, const feel_value *vars,
                                 const char *business_id, int start_at,
                                 const feel_value *start_vars) {
    return eng_instance_begin_called(e, def, vars, business_id, start_at, start_vars, NULL);
}

eng_instance *eng_instance_begin_called(eng_engine *e, eng_definition *def, const feel_value *vars,
                                        const char *business_id, int start_at,
                                        const feel_value *start_vars, eng_elem *caller) {
    eng_instance *inst = bt_xcalloc(1, sizeof *inst);
    inst->key = eng_key_next(e);
    inst->def = def;
    inst->state = ENG_INSTANCE_ACTIVE;
    inst->start_ms = e->now;
    if (business_id && business_id[0]) {
        inst->business_id = bt_xstrdup(business_id);
        char *slot = eng_process_slot(def->bpmn_process_id, business_id);
        bt_smap_put(&e->business_ids, slot, inst);
        bt_free(slot);
    }
    bt_map_put(&e->instances, inst->key, inst);
    eng_instance_touch(e, inst);
    if (caller)
        eng_call_link(e, inst, caller);

    /* The process element instance has the instance's key, as in Zeebe. */
    eng_elem *root = eng_elem_new(e, inst, NULL, 0);
    if (vars)
        eng_vars_merge(e, root, vars, true);
    root->triggered_event = start_at;
    root->trigger_vars = feel_value_ref((feel_value *)start_vars);
    eng_elem_record(e, root, "ELEMENT_ACTIVATING");
    eng_step_push(e, STEP_ACTIVATE, root);
    return inst;
}

eng_definition *eng_definition_latest(const eng_engine *e, const char *bpmn_process_id) {
    return family_latest(bt_smap_get(&e->families, bpmn_process_id));
}

eng_definition *eng_definition_newest(const eng_engine *e, const char *bpmn_process_id,
                                      bool (*match)(const eng_definition *d, const void *ud),
                                      const void *ud) {
    const eng_process_family *f = bt_smap_get(&e->families, bpmn_process_id);
    for (int i = f ? f->n_versions - 1 : -1; i >= 0; i--)
        if (match(f->versions[i], ud))
            return f->versions[i];
    return NULL;
}

int eng_instance_cancel(eng_engine *e, int64_t now, uint64_t key, bt_error *err) {
    e->now = now;
    eng_instance *inst = bt_map_get(&e->instances, key);
    if (!inst || inst->state != ENG_INSTANCE_ACTIVE)
        return bt_error_set(err, BT_ENOTFOUND, "no active process instance with key '%llu'",
                            (unsigned long long)key);
    int rc = eng_call_check_cancel(inst, err);
    if (rc != BT_OK)
        return rc;
    eng_elem *root = inst->elems[0];
    eng_elem_terminate(e, root); /* ends the instance */
    eng_steps_run(e);
    return BT_OK;
}

int eng_instance_get(const eng_engine *e, uint64_t key, eng_instance_view *out) {
    eng_instance *inst = bt_map_get(&e->instances, key);
    if (!inst)
        return BT_ENOTFOUND;
    *out = (eng_instance_view){
        .key = inst->key,
        .definition_key = inst->def->key,
        .bpmn_process_id = inst->def->bpmn_process_id,
        .version = inst->def->version,
        .state = inst->state,
        .has_incident = eng_call_has_incident(inst),
        .business_id = inst->business_id,
        .start_ms = inst->start_ms,
        .end_ms = inst->end_ms,
        .parent_instance_key = inst->parent_key,
        .parent_element_instance_key = inst->caller_key,
    };
    return BT_OK;
}

/* Called by instance.c when the process element instance ends. */
void eng_instance_ended(eng_engine *e, eng_instance *inst, eng_instance_state state) {
    inst->state = state;
    inst->end_ms = e->now;
    if (inst->business_id) {
        char *slot = eng_process_slot(inst->def->bpmn_process_id, inst->business_id);
        bt_smap_remove(&e->business_ids, slot);
        bt_free(slot);
    }
    eng_instance_touch(e, inst);
    if (inst->start_correlation_key)
        eng_message_start_released(e, inst);
    if (inst->caller)
        eng_call_instance_ended(e, inst);
}

/* ---- changes ------------------------------------------------------------------------- */

static void changes_clear(eng_engine *e) {
    for (size_t i = 0; i < e->n_records; i++)
        bt_free(e->records[i].value);
    e->n_records = 0;
    if (e->rows) {
        for (size_t i = 0; i < e->n_dirty; i++)
            bt_free(e->rows[i].state_data);
        bt_free(e->rows);
        e->rows = NULL;
    }
    bt_free(e->def_rows);
    e->def_rows = NULL;
    if (e->object_rows) {
        for (size_t i = 0; i < e->n_object_rows; i++)
            bt_free(e->object_rows[i].data);
        bt_free(e->object_rows);
        e->object_rows = NULL;
        e->n_object_rows = 0;
    }
    eng_messages_written(e);
    eng_start_timers_written(e);
    for (size_t i = 0; i < e->n_dirty; i++) {
        eng_instance *inst = e->dirty[i];
        inst->dirty = false;
        if (inst->state != ENG_INSTANCE_ACTIVE) {
            bt_map_remove(&e->instances, inst->key);
            eng_instance_free(e, inst);
        }
    }
    e->n_dirty = 0;
    for (size_t i = 0; i < e->n_new_defs; i++)
        e->new_defs[i]->persisted = true;
    e->n_new_defs = 0;
}

void eng_changes_take(eng_engine *e, eng_changes *out) {
    memset(out, 0, sizeof *out);
    out->records = e->records;
    out->n_records = e->n_records;
    if (e->rows) { /* taken twice without done: rebuild */
        for (size_t i = 0; i < e->n_dirty; i++)
            bt_free(e->rows[i].state_data);
        bt_free(e->rows);
    }
    e->rows = bt_xcalloc(e->n_dirty ? e->n_dirty : 1, sizeof *e->rows);
    for (size_t i = 0; i < e->n_dirty; i++) {
        eng_instance *inst = e->dirty[i];
        eng_instance_row *r = &e->rows[i];
        r->key = inst->key;
        r->definition_key = inst->def->key;
        r->bpmn_process_id = inst->def->bpmn_process_id;
        r->version = inst->def->version;
        r->state = inst->state;
        r->has_incident = eng_call_has_incident(inst);
        r->business_id = inst->business_id;
        r->start_ms = inst->start_ms;
        r->end_ms = inst->end_ms;
        r->parent_instance_key = inst->parent_key;
        if (inst->state == ENG_INSTANCE_ACTIVE)
            eng_codec_encode(inst, &r->state_data, &r->state_len);
    }
    out->instances = e->rows;
    out->n_instances = e->n_dirty;
    bt_free(e->def_rows);
    e->def_rows = bt_xcalloc(e->n_new_defs ? e->n_new_defs : 1, sizeof *e->def_rows);
    for (size_t i = 0; i < e->n_new_defs; i++) {
        eng_definition *d = e->new_defs[i];
        e->def_rows[i] = (eng_definition_row){
            d->key, d->bpmn_process_id, d->version,        d->resource_name, d->checksum,
            d->xml, d->xml_len,         d->deployment_key, d->deploy_time_ms};
    }
    out->definitions = e->def_rows;
    out->n_definitions = e->n_new_defs;
    if (e->object_rows) {
        for (size_t i = 0; i < e->n_object_rows; i++)
            bt_free(e->object_rows[i].data);
        bt_free(e->object_rows);
    }
    size_t n_objects = e->n_dirty_messages + e->n_dirty_start_timers;
    e->object_rows = bt_xcalloc(n_objects ? n_objects : 1, sizeof *e->object_rows);
    e->n_object_rows = eng_messages_rows(e, e->object_rows);
    e->n_object_rows += eng_start_timers_rows(e, e->object_rows + e->n_object_rows);
    out->objects = e->object_rows;
    out->n_objects = e->n_object_rows;
    out->next_key = e->next_key;
    out->next_position = e->next_position;
}

void eng_changes_done(eng_engine *e) {
    changes_clear(e);
}

/* ---- recovery ---------------------------------------------------------------------- */

void eng_restore_counters(eng_engine *e, uint64_t next_key, uint64_t next_position) {
    if (next_key > e->next_key)
        e->next_key = next_key;
    if (next_position > e->next_position)
        e->next_position = next_position;
}

int eng_restore_definition(eng_engine *e, const eng_definition_row *row, bt_error *err) {
    bpmn_model *model = NULL;
    bpmn_errors errs;
    int rc = bpmn_parse(row->xml, row->xml_len, &model, &errs);
    if (rc != BT_OK)
        return bt_error_set(err, BT_ECORRUPT, "stored definition %llu no longer parses: %s",
                            (unsigned long long)row->key,
                            errs.count ? errs.items[0].message : bt_strerror(rc));
    const bpmn_process *proc = NULL;
    for (int i = 0; i < model->n_processes; i++)
        if (strcmp(model->processes[i].id, row->bpmn_process_id) == 0)
            proc = &model->processes[i];
    if (!proc) {
        bpmn_model_free(model);
        return bt_error_set(err, BT_ECORRUPT, "stored definition %llu lacks process '%s'",
                            (unsigned long long)row->key, row->bpmn_process_id);
    }
    eng_definition *d = bt_xcalloc(1, sizeof *d);
    d->key = row->key;
    d->bpmn_process_id = bt_xstrdup(row->bpmn_process_id);
    d->version = row->version;
    d->resource_name = bt_xstrdup(row->resource_name);
    d->checksum = bt_xstrdup(row->checksum);
    d->xml = bt_xmalloc(row->xml_len + 1);
    memcpy(d->xml, row->xml, row->xml_len);
    d->xml[row->xml_len] = 0;
    d->xml_len = row->xml_len;
    d->deployment_key = row->deployment_key;
    d->deploy_time_ms = row->deploy_time_ms;
    d->model = model;
    d->process = proc;
    d->persisted = true;
    family_add(e, d);
    return BT_OK;
}

int eng_restore_object(eng_engine *e, const eng_object_row *row, bt_error *err) {
    switch (row->kind) {
    case ENG_OBJECT_MESSAGE: return eng_restore_message(e, row, err);
    case ENG_OBJECT_START_TIMER: return eng_restore_start_timer(e, row, err);
    default:
        return bt_error_set(err, BT_EUNSUPPORTED, "stored object %llu has unknown kind %d",
                            (unsigned long long)row->key, row->kind);
    }
}

int eng_restore_instance(eng_engine *e, const eng_instance_row *row, bt_error *err) {
    eng_definition *def = bt_map_get(&e->definitions, row->definition_key);
    if (!def)
        return bt_error_set(err, BT_ECORRUPT, "instance %llu refers to unknown definition %llu",
                            (unsigned long long)row->key, (unsigned long long)row->definition_key);
    eng_instance *inst = NULL;
    int rc = eng_codec_decode(e, def, row->state_data, row->state_len, &inst, err);
    if (rc != BT_OK)
        return rc;
    inst->key = row->key;
    inst->start_ms = row->start_ms;
    if (inst->caller_key && (rc = eng_call_restore(e, inst, err)) != BT_OK) {
        eng_instance_free(e, inst);
        return rc;
    }
    if (row->business_id && row->business_id[0]) {
        inst->business_id = bt_xstrdup(row->business_id);
        char *slot = eng_process_slot(def->bpmn_process_id, row->business_id);
        bt_smap_put(&e->business_ids, slot, inst);
        bt_free(slot);
    }
    if (inst->start_correlation_key) {
        char *slot = eng_process_slot(def->bpmn_process_id, inst->start_correlation_key);
        bt_smap_put(&e->start_keys, slot, inst);
        bt_free(slot);
    }
    bt_map_put(&e->instances, inst->key, inst);
    return BT_OK;
}
