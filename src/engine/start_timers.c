/*
 * start_timers.c — timer start events: a process whose latest version has
 * one starts an instance each time its timer fires.
 *
 *   deploy        a new version's timer start events get their timers —
 *                 a date fires once at that time, a duration once that long
 *                 after the deployment, a cycle (R<n>/..., cron) repeatedly;
 *                 the previous version's timers are cancelled (even when the
 *                 new version has none), as in Zeebe
 *   fire          an instance of the timer's version starts at that start
 *                 event; a cycle schedules its next firing, and a cycle that
 *                 fell behind while the server was down resumes one interval
 *                 from now instead of replaying the missed firings
 *
 * The timer's value may be FEEL; it is evaluated without variables at
 * deploy time, where a value that gives no schedule rejects the deployment
 * (eng_start_timers_check, before anything is deployed).
 *
 * Durability: a start timer belongs to no instance. Each is an engine
 * object (ENG_OBJECT_START_TIMER, JSON) written in the transaction of the
 * deployment that made it and of each firing — the same one as the instance
 * the firing started — and deleted when it ends or is replaced.
 *
 * Records: TIMER CREATED / TRIGGERED / CANCELED, about no instance
 * (processInstanceKey of the instance a firing started, in TRIGGERED).
 */
#include "engine/eng_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct eng_start_timer {
    uint64_t key;
    eng_definition *def;
    int event; /* the timer start event */
    int64_t due_ms, interval_ms;
    int repeats; /* firings left after the next; -1 forever */
    bool dirty, gone;
};

static void record(eng_engine *e, const eng_start_timer *t, const char *intent,
                   uint64_t instance_key) {
    const bpmn_element *ev = &t->def->process->elements[t->event];
    bt_buf b = BT_BUF_INIT;
    bt_buf_puts(&b, "{\"targetElementId\":");
    bt_buf_json_string(&b, ev->id, strlen(ev->id));
    bt_buf_printf(&b, ",\"processDefinitionKey\":\"%llu\",\"bpmnProcessId\":",
                  (unsigned long long)t->def->key);
    bt_buf_json_string(&b, t->def->bpmn_process_id, strlen(t->def->bpmn_process_id));
    bt_buf_printf(&b, ",\"processInstanceKey\":\"%llu\",\"dueDate\":%lld,\"repetitions\":%d}",
                  (unsigned long long)instance_key, (long long)t->due_ms, t->repeats);
    size_t len = b.len;
    char *text = bt_buf_take(&b);
    if (!text)
        abort();
    eng_record_add(e, "TIMER", intent, t->key, 0, text, len);
}

static void touch(eng_engine *e, eng_start_timer *t) {
    if (t->dirty)
        return;
    t->dirty = true;
    if (e->n_dirty_start_timers == e->cap_dirty_start_timers) {
        e->cap_dirty_start_timers = e->cap_dirty_start_timers ? e->cap_dirty_start_timers * 2 : 8;
        e->dirty_start_timers = bt_xrealloc(
            e->dirty_start_timers, e->cap_dirty_start_timers * sizeof *e->dirty_start_timers);
    }
    e->dirty_start_timers[e->n_dirty_start_timers++] = t;
}

static void schedule(eng_engine *e, eng_start_timer *t) {
    bt_map_put(&e->start_timers, t->key, t);
    eng_due_push_start_timer(e, t->due_ms, t->key);
}

/* The schedule of timer start event `ev` at now: its value, literal or
 * FEEL evaluated without variables. */
static int schedule_of(const eng_engine *e, const bpmn_element *ev, bpmn_schedule *out,
                       bt_error *err) {
    if (!ev->timer.feel)
        return bpmn_timer_schedule(ev->timer_kind, ev->timer.text, strlen(ev->timer.text), e->now,
                                   out, err);
    feel_env env = {NULL, NULL, e->now};
    feel_value *v = NULL;
    bt_error warn = {0};
    int rc = feel_eval(ev->timer.feel, &env, &v, &warn);
    bt_buf text = BT_BUF_INIT;
    size_t len;
    const char *s = rc == BT_OK ? feel_string_ptr(v, &len) : NULL;
    if (s) {
        bt_buf_append(&text, s, len);
    } else if (rc == BT_OK && feel_value_type(v) != FEEL_NULL) {
        feel_value_to_json(v, &text); /* temporal values print as "..." ISO strings */
        if (text.len >= 2 && text.data[0] == '"') {
            memmove(text.data, text.data + 1, text.len - 2);
            text.len -= 2;
        }
    }
    feel_value_unref(v);
    if (text.len == 0 || text.failed) {
        bt_buf_free(&text);
        return bt_error_set(err, BT_EINVAL,
                            "the timer expression '%s' gives no duration, date or cycle%s%s",
                            ev->timer.text, warn.code ? ": " : "", warn.code ? warn.message : "");
    }
    rc = bpmn_timer_schedule(ev->timer_kind, text.data, text.len, e->now, out, err);
    bt_buf_free(&text);
    return rc;
}

int eng_start_timers_check(const eng_engine *e, const bpmn_process *p, bt_error *err) {
    const bpmn_element *proc = &p->elements[0];
    for (int i = 0; i < proc->n_timer_starts; i++) {
        const bpmn_element *ev = &p->elements[proc->timer_starts[i]];
        bpmn_schedule s;
        bt_error why;
        if (schedule_of(e, ev, &s, &why) != BT_OK) {
            bt_error_set(err, BT_EINVAL, "%s: %s", ev->id, why.message);
            snprintf(err->element_id, sizeof err->element_id, "%s", ev->id);
            err->line = ev->line;
            return BT_EINVAL;
        }
    }
    return BT_OK;
}

static void cancel(eng_engine *e, eng_start_timer *t) {
    record(e, t, "CANCELED", 0);
    bt_map_remove(&e->start_timers, t->key);
    t->gone = true;
    touch(e, t);
}

void eng_start_timers_deployed(eng_engine *e, eng_definition *def) {
    /* The previous versions' timers end: only the latest version starts. */
    uint64_t *old = NULL;
    size_t n_old = 0, cap = 0, it = 0;
    void *v;
    while (bt_map_next(&e->start_timers, &it, NULL, &v)) {
        const eng_start_timer *t = v;
        if (t->def == def || strcmp(t->def->bpmn_process_id, def->bpmn_process_id) != 0)
            continue;
        if (n_old == cap)
            old = bt_xrealloc(old, (cap = cap ? cap * 2 : 4) * sizeof *old);
        old[n_old++] = t->key;
    }
    for (size_t i = 0; i < n_old; i++)
        cancel(e, bt_map_get(&e->start_timers, old[i]));
    bt_free(old);
    const bpmn_element *proc = &def->process->elements[0];
    for (int i = 0; i < proc->n_timer_starts; i++) {
        const bpmn_element *ev = &def->process->elements[proc->timer_starts[i]];
        bpmn_schedule s;
        bt_error err;
        if (schedule_of(e, ev, &s, &err) != BT_OK)
            continue; /* eng_start_timers_check refused the deployment already */
        eng_start_timer *t = bt_xcalloc(1, sizeof *t);
        t->key = eng_key_next(e);
        t->def = def;
        t->event = ev->index;
        t->due_ms = s.due_ms;
        t->interval_ms = s.interval_ms;
        t->repeats = s.repeats;
        schedule(e, t);
        touch(e, t);
        record(e, t, "CREATED", 0);
    }
}

void eng_start_timer_fire(eng_engine *e, uint64_t key) {
    eng_start_timer *t = bt_map_get(&e->start_timers, key);
    if (!t)
        return;
    eng_instance *inst = eng_instance_begin(e, t->def, NULL, NULL, t->event, NULL);
    record(e, t, "TRIGGERED", inst->key);
    const bpmn_element *ev = &t->def->process->elements[t->event];
    bool again = false;
    if (t->interval_ms == BPMN_INTERVAL_CRON) {
        bpmn_schedule next;
        bt_error err;
        again = schedule_of(e, ev, &next, &err) == BT_OK && next.interval_ms == BPMN_INTERVAL_CRON;
        if (again)
            t->due_ms = next.due_ms;
    } else if (t->repeats != 0 && t->interval_ms > 0) {
        again = true;
        t->due_ms += t->interval_ms;
        if (t->due_ms <= e->now)
            t->due_ms = e->now + t->interval_ms;
        if (t->repeats > 0)
            t->repeats--;
    }
    if (again) {
        eng_due_push_start_timer(e, t->due_ms, t->key);
        record(e, t, "CREATED", 0);
        touch(e, t);
    } else {
        bt_map_remove(&e->start_timers, t->key);
        t->gone = true;
        touch(e, t);
    }
    eng_steps_run(e);
}

bool eng_start_timer_due(const eng_engine *e, uint64_t key, int64_t at) {
    const eng_start_timer *t = bt_map_get(&e->start_timers, key);
    return t && t->due_ms == at;
}

/* ---- persistence -------------------------------------------------------------------- */

size_t eng_start_timers_rows(eng_engine *e, eng_object_row *out) {
    for (size_t i = 0; i < e->n_dirty_start_timers; i++) {
        const eng_start_timer *t = e->dirty_start_timers[i];
        out[i] = (eng_object_row){.key = t->key, .kind = ENG_OBJECT_START_TIMER};
        if (t->gone)
            continue;
        bt_buf b = BT_BUF_INIT;
        bt_buf_printf(&b,
                      "{\"definitionKey\":\"%llu\",\"event\":%d,\"due\":%lld,\"interval\":%lld,"
                      "\"repeats\":%d}",
                      (unsigned long long)t->def->key, t->event, (long long)t->due_ms,
                      (long long)t->interval_ms, t->repeats);
        out[i].len = b.len;
        out[i].data = bt_buf_take(&b);
        if (!out[i].data)
            abort();
    }
    return e->n_dirty_start_timers;
}

void eng_start_timers_written(eng_engine *e) {
    for (size_t i = 0; i < e->n_dirty_start_timers; i++) {
        eng_start_timer *t = e->dirty_start_timers[i];
        t->dirty = false;
        if (t->gone)
            bt_free(t);
    }
    e->n_dirty_start_timers = 0;
}

void eng_start_timers_free(eng_engine *e) {
    eng_start_timers_written(e);
    size_t it = 0;
    void *v;
    while (bt_map_next(&e->start_timers, &it, NULL, &v))
        bt_free(v);
    bt_map_free(&e->start_timers);
    bt_free(e->dirty_start_timers);
}

static bool int_field(const feel_value *ctx, const char *name, int64_t *out) {
    const feel_value *v = feel_context_get(ctx, name, strlen(name));
    return v && feel_number_to_int64(v, out) == BT_OK;
}

int eng_restore_start_timer(eng_engine *e, const eng_object_row *row, bt_error *err) {
    feel_value *ctx = NULL;
    int64_t event = -1, due = 0, interval = 0, repeats = 0;
    eng_definition *def = NULL;
    bool ok = feel_value_from_json(row->data, row->len, &ctx, NULL) == BT_OK &&
              feel_value_type(ctx) == FEEL_CONTEXT && int_field(ctx, "event", &event) &&
              int_field(ctx, "due", &due) && int_field(ctx, "interval", &interval) &&
              int_field(ctx, "repeats", &repeats);
    if (ok) {
        size_t len;
        const char *k = feel_string_ptr(feel_context_get(ctx, "definitionKey", 13), &len);
        def = k ? bt_map_get(&e->definitions, strtoull(k, NULL, 10)) : NULL;
        ok = def && event >= 0 && event < def->process->n_elements &&
             def->process->elements[event].type == BPMN_START_EVENT &&
             def->process->elements[event].event == BPMN_EVENT_TIMER;
    }
    feel_value_unref(ctx);
    if (!ok)
        return bt_error_set(err, BT_ECORRUPT, "stored start timer %llu does not decode",
                            (unsigned long long)row->key);
    eng_start_timer *t = bt_xcalloc(1, sizeof *t);
    t->key = row->key;
    t->def = def;
    t->event = (int)event;
    t->due_ms = due;
    t->interval_ms = interval;
    t->repeats = (int)repeats;
    schedule(e, t);
    return BT_OK;
}
