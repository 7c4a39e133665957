/*
 * signals.c — signal events: subscriptions and broadcasts.
 *
 * baton follows Zeebe's rules (Camunda 8 docs, "Signal events"):
 *
 *   subscription   opened when an element that waits for a signal
 *                  activates — a signal catch event, an activity with
 *                  signal boundary events, an event-based gateway with
 *                  signal branches — and closed when the element is left.
 *                  It is a name only (no correlation key); a FEEL name is
 *                  evaluated once, when it opens, and must give a string
 *                  (else an EXTRACT_VALUE_ERROR incident on the element;
 *                  resolving it opens the subscription again). A
 *                  non-interrupting boundary event's subscription stays open
 *                  after it was triggered.
 *   broadcast      a signal triggers EVERY open subscription of its name,
 *                  in every instance of every process — unlike a message,
 *                  which reaches one subscription per process — oldest
 *                  subscription first; then it starts one instance of each
 *                  process whose latest version has a signal start event of
 *                  that name (a literal, checked at deploy), in process id
 *                  order. Its variables are set like a message's
 *                  (eng_event_vars_apply): merged into the instance, or
 *                  local to the event when it has output mappings.
 *   no buffering   a signal reaches the subscriptions open when it is
 *                  broadcast and is gone: a subscription that opens later
 *                  never sees it, and nothing of it is stored but its record.
 *   throw          a signal intermediate throw event or end event broadcasts
 *                  its signal inside the engine, in the same command, with
 *                  its local variables (what its input mappings made) as the
 *                  signal's variables, as Zeebe does. It may reach its own
 *                  instance: a branch waiting in parallel, or a boundary
 *                  event of an enclosing sub-process, which then terminates
 *                  the thrower itself.
 *
 * Delivering a signal never runs steps: triggering an event pushes its
 * completion (or the boundary event's activation) onto the step queue, so no
 * subscription opens while a broadcast is being delivered, and the ones it
 * reaches are exactly those open when it began. A subscription of a catch
 * event, an interrupting boundary event or a gateway branch is closed as it
 * is triggered, so one element is never triggered twice by two signals of
 * one command.
 *
 * Durability: subscriptions live in their element instance's state
 * (codec.c), like timers and message subscriptions, and the name index
 * below is rebuilt from them on restore. No engine-level state exists.
 *
 * Records: SIGNAL BROADCASTED (about no instance when it came from outside,
 * about the thrower's instance when thrown), SIGNAL_SUBSCRIPTION CREATED /
 * DELETED, and PROCESS_EVENT TRIGGERED where a signal triggered a catch,
 * boundary or start event.
 */
#include "engine/eng_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The subscriptions of one name, oldest first. */
typedef struct sub_list {
    eng_ssub *head, *tail;
} sub_list;

/* ---- records ------------------------------------------------------------------- */

static void put_key(bt_buf *b, const char *name, uint64_t key) {
    bt_buf_printf(b, ",\"%s\":\"%llu\"", name, (unsigned long long)key);
}

static void put_string(bt_buf *b, const char *name, const char *s) {
    bt_buf_printf(b, ",\"%s\":", name);
    bt_buf_json_string(b, s, strlen(s));
}

static void add_record(eng_engine *e, bt_buf *b, const char *type, const char *intent, uint64_t key,
                       uint64_t instance_key) {
    bt_buf_putc(b, '}');
    size_t len = b->len;
    char *text = bt_buf_take(b);
    if (!text)
        abort();
    eng_record_add(e, type, intent, key, instance_key, text, len);
}

static void sub_record(eng_engine *e, const eng_ssub *s, const char *intent) {
    const eng_elem *el = s->elem;
    const eng_definition *d = el->inst->def;
    const bpmn_element *ev = &d->process->elements[s->event];
    bt_buf b = BT_BUF_INIT;
    bt_buf_puts(&b, "{\"signalName\":");
    bt_buf_json_string(&b, s->name, strlen(s->name));
    put_string(&b, "catchEventId", ev->id);
    put_key(&b, "catchEventInstanceKey", el->key);
    put_key(&b, "processInstanceKey", el->inst->key);
    put_key(&b, "processDefinitionKey", d->key);
    put_string(&b, "bpmnProcessId", d->bpmn_process_id);
    bt_buf_printf(&b, ",\"interrupting\":%s", eng_event_repeats(ev) ? "false" : "true");
    add_record(e, &b, "SIGNAL_SUBSCRIPTION", intent, s->key, el->inst->key);
    eng_instance_touch(e, el->inst);
}

/* A signal triggered event `event` of definition d in instance_key, on
 * behalf of the element instance scope_key. */
static void triggered_record(eng_engine *e, const eng_definition *d, int event, uint64_t scope_key,
                             uint64_t instance_key, uint64_t signal_key, const char *name) {
    bt_buf b = BT_BUF_INIT;
    bt_buf_puts(&b, "{\"targetElementId\":");
    const char *id = d->process->elements[event].id;
    bt_buf_json_string(&b, id, strlen(id));
    put_key(&b, "scopeKey", scope_key);
    put_key(&b, "processInstanceKey", instance_key);
    put_key(&b, "processDefinitionKey", d->key);
    put_string(&b, "bpmnProcessId", d->bpmn_process_id);
    put_string(&b, "signalName", name);
    put_key(&b, "signalKey", signal_key);
    add_record(e, &b, "PROCESS_EVENT", "TRIGGERED", eng_key_next(e), instance_key);
}

static void signal_record(eng_engine *e, uint64_t key, const char *name, const feel_value *vars,
                          uint64_t instance_key) {
    bt_buf b = BT_BUF_INIT;
    bt_buf_puts(&b, "{\"signalName\":");
    bt_buf_json_string(&b, name, strlen(name));
    bt_buf_puts(&b, ",\"variables\":");
    if (!vars)
        bt_buf_puts(&b, "{}");
    else if (feel_value_to_json(vars, &b) != BT_OK)
        abort();
    put_string(&b, "tenantId", "<default>");
    add_record(e, &b, "SIGNAL", "BROADCASTED", key, instance_key);
}

/* ---- subscriptions ------------------------------------------------------------------ */

bool eng_ssub_has(const eng_elem *el, int event) {
    for (const eng_ssub *s = el->ssubs; s; s = s->elem_next)
        if (s->event == event)
            return true;
    return false;
}

void eng_ssub_attach(eng_engine *e, eng_elem *el, eng_ssub *s) {
    s->elem = el;
    s->elem_next = NULL;
    eng_ssub **at = &el->ssubs;
    while (*at)
        at = &(*at)->elem_next;
    *at = s;
    el->n_ssubs++;
    bt_map_put(&e->ssubs, s->key, s);
    sub_list *l = bt_smap_get(&e->ssub_index, s->name);
    if (!l) {
        l = bt_xcalloc(1, sizeof *l);
        bt_smap_put(&e->ssub_index, s->name, l);
    }
    s->prev = l->tail;
    s->next = NULL;
    if (l->tail)
        l->tail->next = s;
    else
        l->head = s;
    l->tail = s;
}

void eng_ssub_free(eng_engine *e, eng_ssub *s) {
    eng_elem *el = s->elem;
    for (eng_ssub **at = &el->ssubs; *at; at = &(*at)->elem_next)
        if (*at == s) {
            *at = s->elem_next;
            el->n_ssubs--;
            break;
        }
    bt_map_remove(&e->ssubs, s->key);
    sub_list *l = bt_smap_get(&e->ssub_index, s->name);
    if (l) {
        if (s->prev)
            s->prev->next = s->next;
        else
            l->head = s->next;
        if (s->next)
            s->next->prev = s->prev;
        else
            l->tail = s->prev;
        if (!l->head) {
            bt_smap_remove(&e->ssub_index, s->name);
            bt_free(l);
        }
    }
    bt_free(s->name);
    bt_free(s);
}

void eng_ssub_close(eng_engine *e, eng_ssub *s) {
    sub_record(e, s, "DELETED");
    eng_ssub_free(e, s);
}

void eng_ssubs_close(eng_engine *e, eng_elem *el) {
    while (el->ssubs)
        eng_ssub_close(e, el->ssubs);
}

/* The signal name of event `ev` for el: the literal, or the FEEL result,
 * which must be a string (Zeebe). On failure fills msg. */
static int name_text(eng_engine *e, eng_elem *el, const bpmn_element *ev, char **out, char *msg,
                     size_t msg_size) {
    const bpmn_expr *x = &ev->signal_name;
    *out = NULL;
    if (!x->feel) {
        *out = bt_xstrdup(x->text ? x->text : "");
        return BT_OK;
    }
    feel_value *v = NULL;
    bt_error warn = {0};
    int rc = eng_eval(e, el, x->feel, &v, &warn);
    feel_type t = rc == BT_OK ? feel_value_type(v) : FEEL_NULL;
    size_t len;
    const char *s = t == FEEL_STRING ? feel_string_ptr(v, &len) : NULL;
    if (s && len > 0) {
        *out = bt_strndup(s, len);
        if (!*out)
            abort();
    } else {
        snprintf(msg, msg_size,
                 "Failed to extract the signal name of '%s' from '%s': the value must be a "
                 "non-empty string, but was %s%s%s",
                 ev->id, x->text,
                 rc != BT_OK ? bt_strerror(rc)
                 : s         ? "an empty string"
                             : feel_type_name(t),
                 warn.code ? ": " : "", warn.code ? warn.message : "");
    }
    feel_value_unref(v);
    return *out ? BT_OK : BT_EEVAL;
}

bool eng_ssub_open(eng_engine *e, eng_elem *el, int event) {
    const bpmn_element *ev = &eng_instance_process(el->inst)->elements[event];
    char msg[512], *name = NULL;
    if (name_text(e, el, ev, &name, msg, sizeof msg) != BT_OK) {
        eng_incident_raise(e, el, ENG_INC_EXTRACT_VALUE_ERROR, 0, msg);
        return false;
    }
    eng_ssub *s = bt_xcalloc(1, sizeof *s);
    s->key = eng_key_next(e);
    s->event = event;
    s->name = name;
    eng_ssub_attach(e, el, s);
    sub_record(e, s, "CREATED");
    return true;
}

/* Whether the subscription's element still waits: activated, and not a
 * gateway whose first event happened already. */
static bool sub_waits(const eng_ssub *s) {
    const eng_elem *el = s->elem;
    if (el->state != ENG_ACTIVATED)
        return false;
    return eng_elem_model(el)->type != BPMN_EVENT_BASED_GATEWAY || el->triggered_event == 0;
}

/* The signal triggers s: recorded, the subscription closes (unless its
 * event stays: a non-interrupting boundary or event sub-process start
 * event), the event happens. */
static void trigger(eng_engine *e, eng_ssub *s, uint64_t signal_key, const char *name,
                    const feel_value *vars) {
    eng_elem *owner = s->elem;
    int event = s->event;
    const bpmn_element *ev = &eng_instance_process(owner->inst)->elements[event];
    triggered_record(e, owner->inst->def, event, owner->key, owner->inst->key, signal_key, name);
    if (!eng_event_repeats(ev))
        eng_ssub_close(e, s);
    eng_event_occur(e, owner, event, vars);
}

/* ---- broadcasts -------------------------------------------------------------------------- */

static int cmp_key(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Delivers the signal: to every open subscription of its name, oldest
 * first, then to the signal start events of the latest versions. */
static void deliver(eng_engine *e, uint64_t key, const char *name, const feel_value *vars) {
    sub_list *l = bt_smap_get(&e->ssub_index, name);
    if (l) {
        /* Triggering changes the list (subscriptions close, activities are
         * terminated): take the keys first, then look each up again. Keys
         * grow, so their order is the order the subscriptions opened in —
         * also after a restore, which rebuilds the list in another order. */
        size_t n = 0, cap = 16;
        uint64_t *keys = bt_xmalloc(cap * sizeof *keys);
        for (eng_ssub *s = l->head; s; s = s->next) {
            if (n == cap)
                keys = bt_xrealloc(keys, (cap *= 2) * sizeof *keys);
            keys[n++] = s->key;
        }
        qsort(keys, n, sizeof *keys, cmp_key);
        for (size_t i = 0; i < n; i++) {
            eng_ssub *s = bt_map_get(&e->ssubs, keys[i]);
            if (s && sub_waits(s))
                trigger(e, s, key, name, vars);
        }
        bt_free(keys);
    }
    /* Processes in id order, so the instances' keys do not depend on the
     * order of a hash map. Starting instances does not change the list. */
    const eng_starters *starters = eng_starters_of(e, BPMN_EVENT_SIGNAL, name);
    for (int i = 0; starters && i < starters->n; i++) {
        eng_definition *d = eng_definition_latest(e, starters->ids[i]);
        int start = d ? eng_start_event_named(d, BPMN_EVENT_SIGNAL, name) : -1;
        if (start < 0)
            continue;
        eng_instance *inst = eng_instance_begin(e, d, NULL, NULL, start, vars);
        triggered_record(e, d, start, inst->key, inst->key, key, name);
    }
}

int eng_signal_broadcast(eng_engine *e, int64_t now, const eng_signal *sig, uint64_t *key,
                         bt_error *err) {
    e->now = now;
    if (!sig->name || !sig->name[0])
        return bt_error_set(err, BT_EINVAL, "a signal needs a name");
    const feel_value *vars = sig->variables;
    if (vars && feel_value_type(vars) == FEEL_NULL)
        vars = NULL;
    if (vars && feel_value_type(vars) != FEEL_CONTEXT)
        return bt_error_set(err, BT_EINVAL, "variables must be a JSON object");
    *key = eng_key_next(e);
    signal_record(e, *key, sig->name, vars, 0);
    deliver(e, *key, sig->name, vars);
    eng_steps_run(e);
    return BT_OK;
}

bool eng_signal_throw(eng_engine *e, eng_elem *el) {
    const bpmn_element *ev = eng_elem_model(el);
    char msg[512], *name = NULL;
    if (name_text(e, el, ev, &name, msg, sizeof msg) != BT_OK) {
        eng_incident_raise(e, el, ENG_INC_EXTRACT_VALUE_ERROR, 0, msg);
        return false;
    }
    /* The thrower's local variables travel with the signal. */
    feel_value *vars = NULL;
    if (el->vars.count > 0) {
        vars = feel_context_new();
        if (!vars)
            abort();
        for (int i = 0; i < el->vars.count; i++) {
            const eng_var *var = &el->vars.items[i];
            if (feel_context_put(vars, var->name, strlen(var->name), feel_value_ref(var->value)) !=
                BT_OK)
                abort();
        }
    }
    uint64_t key = eng_key_next(e);
    signal_record(e, key, name, vars, el->inst->key);
    deliver(e, key, name, vars); /* el may be terminated from here on */
    feel_value_unref(vars);
    bt_free(name);
    return true;
}

void eng_signals_free(eng_engine *e) {
    size_t it = 0;
    const char *name;
    void *v;
    while (bt_smap_next(&e->ssub_index, &it, &name, &v))
        bt_free(v);
    bt_smap_free(&e->ssub_index);
    bt_map_free(&e->ssubs);
}
