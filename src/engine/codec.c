/*
 * codec.c — an instance's whole state as bytes, for the store.
 *
 * Format (version 4): a byte 'B', a version byte, then unsigned LEB128
 * varints, zigzag for signed numbers, and strings as varint length + bytes:
 *
 *   instance   state, compensation_seq, start correlation key?, parent
 *              instance key, caller element instance key (0, 0: not called
 *              by a call activity), n_elems, elem*
 *   elem       key, element, state, scope key (0: none), active_children,
 *              n_join_waiting, join tokens (count, (flow, tokens)*),
 *              vars (count, (key, name, JSON)*), job?, incident?, compensable,
 *              compensation?, compensating_for key (0: none),
 *              timers (count, (key, event, due, interval, repeats)*),
 *              message subscriptions (count, (key, event, name, key)*),
 *              loop counter (0: not an inner instance), multi?,
 *              signal subscriptions (count, (key, event, name)*)
 *   job        key, type, state, retries, deadline, backoff, worker?, error?
 *   incident   key, type, message, job key, created (ms), parked step
 *   compensable  count, (element, seq, compensable)*   — recursive groups
 *   multi      a multi-instance body: n_instances, started, completed,
 *              terminated, items? (JSON: the list a sequential body has yet
 *              to finish starting)
 *
 * Version 3 (written before signals) is version 4 without the signal
 * subscriptions; version 2 (before call activities) is version 3 without
 * the parent and caller keys; version 1 (before messages and multi-instance
 * activities) is version 2 without the start correlation key and the
 * message subscriptions, loop counter and multi of elem. All still decode.
 *
 * Element instances are written in creation order, so a scope always comes
 * before its children and decoding links them in one pass. Decoding checks
 * every index against the model: a row that does not fit is ECORRUPT, never
 * a crash. Indexes derived from the state (job queues, the due-time heap,
 * the key maps) are rebuilt while decoding.
 */
#include "engine/eng_int.h"

#include <stdlib.h>
#include <string.h>

#define CODEC_VERSION 4

/* ---- writing ---------------------------------------------------------------- */

static void put_u(bt_buf *b, uint64_t v) {
    unsigned char tmp[10];
    int n = 0;
    do {
        unsigned char c = v & 0x7f;
        v >>= 7;
        tmp[n++] = c | (v ? 0x80 : 0);
    } while (v);
    bt_buf_append(b, tmp, (size_t)n);
}

static void put_i(bt_buf *b, int64_t v) {
    put_u(b, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63));
}

static void put_s(bt_buf *b, const char *s, size_t n) {
    put_u(b, n);
    bt_buf_append(b, s, n);
}

static void put_str(bt_buf *b, const char *s) {
    if (!s) {
        put_u(b, 0);
        return;
    }
    put_u(b, strlen(s) + 1); /* 0 = NULL, else length + 1 */
    bt_buf_append(b, s, strlen(s));
}

static void put_json(bt_buf *b, const feel_value *v) {
    bt_buf json = BT_BUF_INIT;
    if (feel_value_to_json(v, &json) != BT_OK)
        abort();
    put_s(b, json.data ? json.data : "null", json.data ? json.len : 4);
    bt_buf_free(&json);
}

static void put_compensable(bt_buf *b, const eng_compensable *c, int n) {
    put_u(b, (uint64_t)n);
    for (int i = 0; i < n; i++) {
        put_u(b, (uint64_t)c[i].element);
        put_u(b, c[i].seq);
        put_compensable(b, c[i].group, c[i].n_group);
    }
}

static void put_elem(bt_buf *b, const eng_elem *el, int n_flows) {
    put_u(b, el->key);
    put_u(b, (uint64_t)el->element);
    put_u(b, el->state);
    put_u(b, el->scope ? el->scope->key : 0);
    put_u(b, (uint64_t)el->active_children);
    put_u(b, (uint64_t)el->n_join_waiting);
    int n_tokens = 0;
    for (int i = 0; el->join_tokens && i < n_flows; i++)
        n_tokens += el->join_tokens[i] > 0;
    put_u(b, (uint64_t)n_tokens);
    for (int i = 0; el->join_tokens && i < n_flows; i++)
        if (el->join_tokens[i] > 0) {
            put_u(b, (uint64_t)i);
            put_u(b, (uint64_t)el->join_tokens[i]);
        }
    put_u(b, (uint64_t)el->vars.count);
    for (int i = 0; i < el->vars.count; i++) {
        put_u(b, el->vars.items[i].key);
        put_s(b, el->vars.items[i].name, strlen(el->vars.items[i].name));
        put_json(b, el->vars.items[i].value);
    }
    const eng_job *job = el->job;
    put_u(b, job != NULL);
    if (job) {
        put_u(b, job->key);
        put_str(b, job->type);
        put_u(b, job->state);
        put_u(b, (uint64_t)job->retries);
        put_i(b, job->deadline_ms);
        put_i(b, job->backoff_until_ms);
        put_str(b, job->worker);
        put_str(b, job->error_message);
    }
    const eng_incident *inc = el->incident;
    put_u(b, inc != NULL);
    if (inc) {
        put_u(b, inc->key);
        put_u(b, inc->type);
        put_str(b, inc->message);
        put_u(b, inc->job_key);
        put_i(b, inc->created_ms);
        put_u(b, (uint64_t)inc->step);
    }
    put_compensable(b, el->compensable, el->n_compensable);
    const eng_compensation *c = el->compensation;
    put_u(b, c != NULL);
    if (c) {
        put_u(b, (uint64_t)c->n_handlers);
        for (int i = 0; i < c->n_handlers; i++)
            put_u(b, (uint64_t)c->handlers[i]);
        put_u(b, (uint64_t)c->next);
        put_u(b, (uint64_t)c->running);
    }
    put_u(b, el->compensating_for ? el->compensating_for->key : 0);
    put_u(b, (uint64_t)el->n_timers);
    for (const eng_timer *t = el->timers; t; t = t->next) {
        put_u(b, t->key);
        put_u(b, (uint64_t)t->event);
        put_i(b, t->due_ms);
        put_i(b, t->interval_ms);
        put_i(b, t->repeats);
    }
    put_u(b, (uint64_t)el->n_msubs);
    for (const eng_msub *s = el->msubs; s; s = s->elem_next) {
        put_u(b, s->key);
        put_u(b, (uint64_t)s->event);
        put_str(b, s->name);
        put_str(b, s->correlation_key);
    }
    put_u(b, (uint64_t)el->loop_counter);
    const eng_multi *mi = el->multi;
    put_u(b, mi != NULL);
    if (mi) {
        put_u(b, (uint64_t)mi->n_instances);
        put_u(b, (uint64_t)mi->started);
        put_u(b, (uint64_t)mi->completed);
        put_u(b, (uint64_t)mi->terminated);
        put_u(b, mi->items != NULL);
        if (mi->items)
            put_json(b, mi->items);
    }
    put_u(b, (uint64_t)el->n_ssubs);
    for (const eng_ssub *s = el->ssubs; s; s = s->elem_next) {
        put_u(b, s->key);
        put_u(b, (uint64_t)s->event);
        put_str(b, s->name);
    }
}

void eng_codec_encode(const eng_instance *inst, char **out, size_t *len) {
    bt_buf b = BT_BUF_INIT;
    bt_buf_putc(&b, 'B');
    bt_buf_putc(&b, CODEC_VERSION);
    put_u(&b, inst->state);
    put_u(&b, inst->compensation_seq);
    put_str(&b, inst->start_correlation_key);
    put_u(&b, inst->parent_key);
    put_u(&b, inst->caller_key);
    put_u(&b, (uint64_t)inst->n_elems);
    int n_flows = inst->def->process->n_flows;
    for (int i = 0; i < inst->n_elems; i++)
        put_elem(&b, inst->elems[i], n_flows);
    *len = b.len;
    *out = bt_buf_take(&b);
    if (!*out)
        abort();
}

/* ---- reading ------------------------------------------------------------------- */

typedef struct reader {
    const unsigned char *p, *end;
    bool bad;
} reader;

static uint64_t get_u(reader *r) {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (r->p >= r->end) {
            r->bad = true;
            return 0;
        }
        unsigned char c = *r->p++;
        v |= (uint64_t)(c & 0x7f) << shift;
        if (!(c & 0x80))
            return v;
    }
    r->bad = true;
    return 0;
}

static int64_t get_i(reader *r) {
    uint64_t u = get_u(r);
    return (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
}

static const char *get_s(reader *r, size_t *n) {
    *n = (size_t)get_u(r);
    if (r->bad || *n > (size_t)(r->end - r->p)) {
        r->bad = true;
        return NULL;
    }
    const char *s = (const char *)r->p;
    r->p += *n;
    return s;
}

static char *get_str(reader *r) {
    uint64_t n = get_u(r);
    if (r->bad || n == 0)
        return NULL;
    n--;
    if (n > (uint64_t)(r->end - r->p)) {
        r->bad = true;
        return NULL;
    }
    char *s = bt_strndup((const char *)r->p, (size_t)n);
    if (!s)
        abort();
    r->p += n;
    return s;
}

static eng_compensable *get_compensable(reader *r, const bpmn_process *p, int *n, int depth) {
    uint64_t count = get_u(r);
    if (r->bad || count > 1000000 || depth > 64) {
        r->bad = true;
        *n = 0;
        return NULL;
    }
    *n = (int)count;
    if (!count)
        return NULL;
    eng_compensable *c = bt_xcalloc((size_t)count, sizeof *c);
    for (uint64_t i = 0; i < count; i++) {
        uint64_t el = get_u(r);
        if (el >= (uint64_t)p->n_elements)
            r->bad = true;
        c[i].element = r->bad ? 0 : (int)el;
        c[i].seq = get_u(r);
        c[i].group = get_compensable(r, p, &c[i].n_group, depth + 1);
        if (r->bad) {
            *n = (int)i + 1;
            return c;
        }
    }
    return c;
}

/* The multi-instance fields of elem (version 2). */
static void get_multi(reader *r, eng_elem *el) {
    uint64_t loop_counter = get_u(r);
    if (loop_counter > INT32_MAX)
        r->bad = true;
    el->loop_counter = (int)loop_counter;
    if (!get_u(r) || r->bad)
        return;
    eng_multi *mi = bt_xcalloc(1, sizeof *mi);
    el->multi = mi;
    uint64_t n = get_u(r), started = get_u(r), completed = get_u(r), terminated = get_u(r);
    if (n > INT32_MAX || started > n || completed > started || terminated > started - completed) {
        r->bad = true;
        return;
    }
    *mi = (eng_multi){.n_instances = (int)n,
                      .started = (int)started,
                      .completed = (int)completed,
                      .terminated = (int)terminated};
    if (get_u(r) && !r->bad) {
        size_t len;
        const char *json = get_s(r, &len);
        if (r->bad || feel_value_from_json(json, len, &mi->items, NULL) != BT_OK ||
            feel_value_type(mi->items) != FEEL_LIST || feel_list_count(mi->items) != n)
            r->bad = true;
    }
}

static int corrupt(bt_error *err, const char *what) {
    return bt_error_set(err, BT_ECORRUPT, "stored instance state is corrupt: %s", what);
}

int eng_codec_decode(eng_engine *e, eng_definition *def, const char *data, size_t len,
                     eng_instance **out, bt_error *err) {
    reader r = {(const unsigned char *)data, (const unsigned char *)data + len, false};
    if (len < 2 || data[0] != 'B')
        return corrupt(err, "bad header");
    int version = data[1];
    if (version < 1 || version > CODEC_VERSION)
        return bt_error_set(err, BT_EUNSUPPORTED, "instance state version %d is not supported",
                            version);
    r.p += 2;
    const bpmn_process *p = def->process;
    eng_instance *inst = bt_xcalloc(1, sizeof *inst);
    inst->def = def;
    inst->state = (eng_instance_state)get_u(&r);
    inst->compensation_seq = get_u(&r);
    if (version >= 2)
        inst->start_correlation_key = get_str(&r);
    if (version >= 3) {
        inst->parent_key = get_u(&r);
        inst->caller_key = get_u(&r);
        if (!r.bad && (inst->parent_key == 0) != (inst->caller_key == 0)) {
            bt_free(inst->start_correlation_key);
            bt_free(inst);
            return corrupt(err, "parent and caller keys");
        }
    }
    uint64_t n_elems = get_u(&r);
    if (r.bad || n_elems == 0 || n_elems > 10000000) {
        bt_free(inst);
        return corrupt(err, "element count");
    }
    /* Handlers point at throw events by key: resolved after all are read. */
    uint64_t *comp_for = bt_xcalloc((size_t)n_elems, sizeof *comp_for);
    int rc = BT_OK;
    for (uint64_t i = 0; i < n_elems && rc == BT_OK; i++) {
        uint64_t key = get_u(&r), element = get_u(&r), state = get_u(&r), scope_key = get_u(&r);
        if (r.bad || element >= (uint64_t)p->n_elements || state > ENG_TERMINATED ||
            (i == 0) != (scope_key == 0)) {
            rc = corrupt(err, "element instance");
            break;
        }
        eng_elem *scope = scope_key ? bt_map_get(&e->elems, scope_key) : NULL;
        if (scope_key && (!scope || scope->inst != inst)) {
            rc = corrupt(err, "unknown flow scope");
            break;
        }
        eng_elem *el = bt_xcalloc(1, sizeof *el);
        el->key = key;
        el->element = (int)element;
        el->state = (eng_elem_state)state;
        el->scope = scope;
        el->inst = inst;
        eng_instance_add_elem(e, inst, el);
        el->active_children = (int)get_u(&r);
        el->n_join_waiting = (int)get_u(&r);
        uint64_t n_tokens = get_u(&r);
        for (uint64_t k = 0; k < n_tokens && !r.bad; k++) {
            uint64_t flow = get_u(&r), count = get_u(&r);
            if (flow >= (uint64_t)p->n_flows) {
                r.bad = true;
                break;
            }
            if (!el->join_tokens)
                el->join_tokens = bt_xcalloc((size_t)p->n_flows, sizeof *el->join_tokens);
            el->join_tokens[flow] = (int)count;
        }
        uint64_t n_vars = get_u(&r);
        for (uint64_t k = 0; k < n_vars && !r.bad; k++) {
            size_t nl, vl;
            uint64_t vkey = get_u(&r);
            const char *name = get_s(&r, &nl);
            const char *json = get_s(&r, &vl);
            feel_value *v = NULL;
            if (r.bad || feel_value_from_json(json, vl, &v, NULL) != BT_OK) {
                r.bad = true;
                break;
            }
            char *copy = bt_strndup(name, nl);
            if (!copy)
                abort();
            eng_vars_append(&el->vars, copy, v, vkey);
        }
        if (get_u(&r) && !r.bad) {
            eng_job *job = bt_xcalloc(1, sizeof *job);
            job->key = get_u(&r);
            job->type = get_str(&r);
            job->state = (eng_job_state)get_u(&r);
            job->retries = (int)get_u(&r);
            job->deadline_ms = get_i(&r);
            job->backoff_until_ms = get_i(&r);
            job->worker = get_str(&r);
            job->error_message = get_str(&r);
            job->elem = el;
            el->job = job;
            if (r.bad || !job->type || job->state > ENG_JOB_INCIDENT) {
                r.bad = true;
            } else {
                bt_map_put(&e->jobs, job->key, job);
                if (job->state == ENG_JOB_ACTIVATABLE) {
                    eng_job_make_activatable(e, job);
                } else if (job->state == ENG_JOB_ACTIVATED) {
                    eng_due_push(e, job->deadline_ms, job->key);
                } else if (job->state == ENG_JOB_FAILED) {
                    if (job->backoff_until_ms)
                        eng_due_push(e, job->backoff_until_ms, job->key);
                    else
                        eng_job_make_activatable(e, job);
                }
            }
        }
        if (get_u(&r) && !r.bad) {
            eng_incident *inc = bt_xcalloc(1, sizeof *inc);
            inc->key = get_u(&r);
            inc->type = (eng_incident_type)get_u(&r);
            inc->message = get_str(&r);
            inc->job_key = get_u(&r);
            inc->created_ms = get_i(&r);
            inc->step = (int)get_u(&r);
            inc->elem = el;
            el->incident = inc;
            inst->n_incidents++;
            if (!inc->message)
                inc->message = bt_xstrdup("");
            if (r.bad || inc->type > ENG_INC_CALLED_ELEMENT_ERROR || inc->step > STEP_COMPLETE + 1)
                r.bad = true;
            else
                bt_map_put(&e->incidents, inc->key, inc);
        }
        el->compensable = get_compensable(&r, p, &el->n_compensable, 0);
        if (get_u(&r) && !r.bad) {
            eng_compensation *c = bt_xcalloc(1, sizeof *c);
            el->compensation = c;
            uint64_t nh = get_u(&r);
            if (nh > (uint64_t)p->n_elements * 1000) {
                r.bad = true;
            } else {
                c->n_handlers = (int)nh;
                c->handlers = bt_xcalloc(nh ? nh : 1, sizeof *c->handlers);
                for (uint64_t k = 0; k < nh; k++) {
                    uint64_t h = get_u(&r);
                    if (h >= (uint64_t)p->n_elements)
                        r.bad = true;
                    c->handlers[k] = (int)h;
                }
                c->next = (int)get_u(&r);
                c->running = (int)get_u(&r);
            }
        }
        comp_for[i] = get_u(&r);
        uint64_t n_timers = get_u(&r);
        for (uint64_t k = 0; k < n_timers && !r.bad; k++) {
            eng_timer *t = bt_xcalloc(1, sizeof *t);
            t->key = get_u(&r);
            uint64_t event = get_u(&r);
            t->due_ms = get_i(&r);
            t->interval_ms = get_i(&r);
            t->repeats = (int)get_i(&r);
            if (r.bad || event >= (uint64_t)p->n_elements ||
                p->elements[event].event != BPMN_EVENT_TIMER) {
                r.bad = true;
                bt_free(t);
                break;
            }
            t->event = (int)event;
            eng_timer_attach(e, el, t);
        }
        uint64_t n_msubs = version >= 2 ? get_u(&r) : 0;
        for (uint64_t k = 0; k < n_msubs && !r.bad; k++) {
            eng_msub *s = bt_xcalloc(1, sizeof *s);
            s->key = get_u(&r);
            uint64_t event = get_u(&r);
            char *name = get_str(&r);
            s->correlation_key = get_str(&r);
            if (r.bad || event >= (uint64_t)p->n_elements || !name || !s->correlation_key) {
                r.bad = true;
                bt_free(name);
                bt_free(s->correlation_key);
                bt_free(s);
                break;
            }
            s->event = (int)event;
            eng_msub_set_name(s, &p->elements[event], name);
            eng_msub_attach(e, el, s);
        }
        if (version >= 2 && !r.bad)
            get_multi(&r, el);
        uint64_t n_ssubs = version >= 4 && !r.bad ? get_u(&r) : 0;
        for (uint64_t k = 0; k < n_ssubs && !r.bad; k++) {
            eng_ssub *s = bt_xcalloc(1, sizeof *s);
            s->key = get_u(&r);
            uint64_t event = get_u(&r);
            s->name = get_str(&r);
            if (r.bad || event >= (uint64_t)p->n_elements ||
                p->elements[event].event != BPMN_EVENT_SIGNAL || !s->name) {
                r.bad = true;
                bt_free(s->name);
                bt_free(s);
                break;
            }
            s->event = (int)event;
            eng_ssub_attach(e, el, s);
        }
        /* An element instance of a multi-instance activity is its body or
         * one of the body's inner instances; nothing else is. */
        bool inner = el->loop_counter > 0;
        if (!r.bad && (p->elements[el->element].loop != NULL) != (el->multi || inner))
            r.bad = true;
        if (!r.bad && inner &&
            (!scope || !scope->multi || scope->element != el->element ||
             el->loop_counter > scope->multi->started || el->multi))
            r.bad = true;
        if (r.bad)
            rc = corrupt(err, "element instance data");
    }
    for (int i = 0; rc == BT_OK && i < inst->n_elems; i++) {
        if (!comp_for[i])
            continue;
        eng_elem *thrower = bt_map_get(&e->elems, comp_for[i]);
        if (!thrower || thrower->inst != inst)
            rc = corrupt(err, "unknown compensation throw event");
        else
            inst->elems[i]->compensating_for = thrower;
    }
    bt_free(comp_for);
    if (rc == BT_OK && r.p != r.end)
        rc = corrupt(err, "trailing bytes");
    if (rc != BT_OK) {
        eng_instance_free(e, inst);
        return rc;
    }
    *out = inst;
    return BT_OK;
}
