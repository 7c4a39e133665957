/*
 * messages.c — message correlation: subscriptions, publication, buffering.
 *
 * baton follows Zeebe's rules (Camunda 8 docs, "Messages"):
 *
 *   subscription   opened when an element that waits for a message
 *                  activates — a message catch event, a receive task, an
 *                  activity with message boundary events, an event-based
 *                  gateway with message branches. Its name and correlation
 *                  key are evaluated then, once, and it closes when the
 *                  element is left. A non-interrupting boundary event's
 *                  subscription stays open after it correlated.
 *   publication    a message correlates to the open subscriptions of its
 *                  name and correlation key, but only once per process (the
 *                  BPMN process id, across versions): of several waiting
 *                  instances of one process, the oldest subscription gets it.
 *                  It also starts an instance of each process whose latest
 *                  version has a message start event of its name — unless
 *                  an instance of that process started by a message with the
 *                  same correlation key is still active; then a buffered
 *                  message starts the next instance when that one ends.
 *                  Messages published before the version was deployed do
 *                  not start it.
 *   buffering      with a time to live the message stays: a subscription
 *                  that opens later takes the oldest buffered message of
 *                  its name and key that has not reached its process yet.
 *                  While it is buffered, another publication with the same
 *                  name, correlation key and messageId is refused.
 *
 * A subscription that opens does not take a buffered message at once: it
 * queues a STEP_POLL, so the element that opened it finishes its activation
 * first (an interrupting boundary event must not terminate an activity in
 * the middle of activating it).
 *
 * Durability: subscriptions live in their element instance's state
 * (codec.c), like timers. Buffered messages belong to no instance: each is
 * an engine object (ENG_OBJECT_MESSAGE, JSON) written in the transaction
 * that published it, rewritten when it reaches another process, deleted
 * when its time to live ends. The indexes below are derived on restore.
 *
 * Records: MESSAGE PUBLISHED / EXPIRED (about no instance),
 * PROCESS_MESSAGE_SUBSCRIPTION CREATED / CORRELATED / DELETED, and
 * MESSAGE_START_EVENT_SUBSCRIPTION CORRELATED.
 */
#include "engine/eng_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The buffered messages of one name and key. (The subscriptions of one name
 * and key are a list too, without a struct of its own: the index holds the
 * oldest, whose `prev` is the newest — a million waiting instances, each
 * with its own correlation key, do not need a million list heads.) */
typedef struct msg_list {
    eng_message *head, *tail;
} msg_list;

/* "<len>:<name><key>": unambiguous whatever the strings hold. */
static char *slot_of(const char *name, const char *key, const char *id) {
    bt_buf b = BT_BUF_INIT;
    bt_buf_printf(&b, "%zu:%s", strlen(name), name);
    if (id)
        bt_buf_printf(&b, "%zu:%s%s", strlen(key), key, id);
    else
        bt_buf_puts(&b, key);
    char *s = bt_buf_take(&b);
    if (!s)
        abort();
    return s;
}

static const char *process_of(const eng_elem *el) {
    return el->inst->def->bpmn_process_id;
}

/* ---- records ------------------------------------------------------------------- */

static void put_key(bt_buf *b, const char *name, uint64_t key) {
    bt_buf_printf(b, ",\"%s\":\"%llu\"", name, (unsigned long long)key);
}

static void put_string(bt_buf *b, const char *name, const char *s) {
    bt_buf_printf(b, ",\"%s\":", name);
    if (s)
        bt_buf_json_string(b, s, strlen(s));
    else
        bt_buf_puts(b, "null");
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

static void sub_record(eng_engine *e, const eng_msub *s, const char *intent, uint64_t message_key) {
    const eng_elem *el = s->elem;
    const bpmn_element *ev = &eng_instance_process(el->inst)->elements[s->event];
    bt_buf b = BT_BUF_INIT;
    bt_buf_puts(&b, "{\"messageName\":");
    bt_buf_json_string(&b, s->name, strlen(s->name));
    put_string(&b, "correlationKey", s->correlation_key);
    put_string(&b, "elementId", ev->id);
    put_key(&b, "elementInstanceKey", el->key);
    put_key(&b, "processInstanceKey", el->inst->key);
    put_string(&b, "bpmnProcessId", process_of(el));
    if (message_key)
        put_key(&b, "messageKey", message_key);
    bt_buf_printf(&b, ",\"interrupting\":%s", eng_event_repeats(ev) ? "false" : "true");
    add_record(e, &b, "PROCESS_MESSAGE_SUBSCRIPTION", intent, s->key, el->inst->key);
    eng_instance_touch(e, el->inst);
}

static void message_json(bt_buf *b, const eng_message *m, bool stored) {
    bt_buf_puts(b, "{\"name\":");
    bt_buf_json_string(b, m->name, strlen(m->name));
    put_string(b, "correlationKey", m->correlation_key);
    put_string(b, "messageId", m->message_id);
    if (stored) {
        bt_buf_printf(b, ",\"published\":%lld,\"deadline\":%lld", (long long)m->published_ms,
                      (long long)m->deadline_ms);
        bt_buf_puts(b, ",\"processes\":[");
        for (int i = 0; i < m->n_processes; i++) {
            if (i)
                bt_buf_putc(b, ',');
            bt_buf_json_string(b, m->processes[i], strlen(m->processes[i]));
        }
        bt_buf_putc(b, ']');
    } else {
        bt_buf_printf(b, ",\"timeToLive\":%lld", (long long)(m->deadline_ms - m->published_ms));
    }
    bt_buf_puts(b, ",\"variables\":");
    if (feel_value_to_json(m->variables, b) != BT_OK)
        abort();
}

static void message_record(eng_engine *e, const eng_message *m, const char *intent) {
    bt_buf b = BT_BUF_INIT;
    message_json(&b, m, false);
    add_record(e, &b, "MESSAGE", intent, m->key, 0);
}

/* ---- subscriptions ------------------------------------------------------------------ */

bool eng_msub_has(const eng_elem *el, int event) {
    for (const eng_msub *s = el->msubs; s; s = s->elem_next)
        if (s->event == event)
            return true;
    return false;
}

/* The oldest open subscription of a name and key, or NULL. */
static eng_msub *index_head(const eng_engine *e, const char *name, const char *key) {
    char *slot = slot_of(name, key, NULL);
    eng_msub *head = bt_smap_get(&e->msub_index, slot);
    bt_free(slot);
    return head;
}

void eng_msub_attach(eng_engine *e, eng_elem *el, eng_msub *s) {
    s->elem = el;
    s->elem_next = NULL;
    eng_msub **at = &el->msubs;
    while (*at)
        at = &(*at)->elem_next;
    *at = s;
    el->n_msubs++;
    /* The newest of its name and key: after the head's prev (the tail). */
    char *slot = slot_of(s->name, s->correlation_key, NULL);
    eng_msub *head = bt_smap_get(&e->msub_index, slot);
    s->next = NULL;
    if (!head) {
        s->prev = s;
        bt_smap_put(&e->msub_index, slot, s);
    } else {
        s->prev = head->prev;
        head->prev->next = s;
        head->prev = s;
    }
    bt_free(slot);
}

void eng_msub_free(eng_engine *e, eng_msub *s) {
    eng_elem *el = s->elem;
    for (eng_msub **at = &el->msubs; *at; at = &(*at)->elem_next)
        if (*at == s) {
            *at = s->elem_next;
            el->n_msubs--;
            break;
        }
    char *slot = slot_of(s->name, s->correlation_key, NULL);
    eng_msub *head = bt_smap_get(&e->msub_index, slot);
    if (s == head) {
        if (s->next) {
            s->next->prev = s->prev; /* the tail */
            bt_smap_put(&e->msub_index, slot, s->next);
        } else {
            bt_smap_remove(&e->msub_index, slot);
        }
    } else if (head) {
        s->prev->next = s->next;
        if (s->next)
            s->next->prev = s->prev;
        else
            head->prev = s->prev; /* s was the tail */
    }
    bt_free(slot);
    bt_free(s->own_name);
    bt_free(s->correlation_key);
    bt_free(s);
}

void eng_msub_close(eng_engine *e, eng_msub *s) {
    sub_record(e, s, "DELETED", 0);
    eng_msub_free(e, s);
}

void eng_msubs_close(eng_engine *e, eng_elem *el) {
    while (el->msubs)
        eng_msub_close(e, el->msubs);
}

/* The text of a message name or correlation key: the literal, or the FEEL
 * result, which must be a string or a number (as Zeebe requires). */
static int value_text(eng_engine *e, eng_elem *el, const bpmn_element *ev, const bpmn_expr *x,
                      const char *what, char **out, char *msg, size_t msg_size) {
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
    *out = NULL;
    if (s) {
        *out = bt_strndup(s, len);
        if (!*out)
            abort();
    } else if (t == FEEL_NUMBER) {
        bt_buf json = BT_BUF_INIT;
        feel_value_to_json(v, &json);
        *out = bt_buf_take(&json);
        if (!*out)
            abort();
    } else {
        snprintf(msg, msg_size,
                 "Failed to extract the %s of '%s' from '%s': the value must be a string or a "
                 "number, but was %s%s%s",
                 what, ev->id, x->text, rc == BT_OK ? feel_type_name(t) : bt_strerror(rc),
                 warn.code ? ": " : "", warn.code ? warn.message : "");
    }
    feel_value_unref(v);
    return *out ? BT_OK : BT_EEVAL;
}

void eng_msub_set_name(eng_msub *s, const bpmn_element *ev, char *name) {
    if (!ev->message_name.feel && ev->message_name.text &&
        strcmp(ev->message_name.text, name) == 0) {
        bt_free(name);
        s->name = ev->message_name.text;
    } else {
        s->own_name = name;
        s->name = name;
    }
}

bool eng_msub_open(eng_engine *e, eng_elem *el, int event) {
    const bpmn_element *ev = &eng_instance_process(el->inst)->elements[event];
    char msg[512], *name = NULL, *key = NULL;
    if (value_text(e, el, ev, &ev->message_name, "message name", &name, msg, sizeof msg) != BT_OK ||
        value_text(e, el, ev, &ev->correlation_key, "correlation key", &key, msg, sizeof msg) !=
            BT_OK) {
        bt_free(name);
        eng_incident_raise(e, el, ENG_INC_EXTRACT_VALUE_ERROR, 0, msg);
        return false;
    }
    eng_msub *s = bt_xcalloc(1, sizeof *s);
    s->key = eng_key_next(e);
    s->event = event;
    eng_msub_set_name(s, ev, name);
    s->correlation_key = key;
    eng_msub_attach(e, el, s);
    sub_record(e, s, "CREATED", 0);
    char *slot = slot_of(s->name, key, NULL);
    if (bt_smap_get(&e->message_index, slot))
        eng_step_push_poll(e, el, s->key);
    bt_free(slot);
    return true;
}

/* Whether the subscription's element still waits: not left, and not a
 * gateway whose first event happened already. */
static bool sub_waits(const eng_msub *s) {
    const eng_elem *el = s->elem;
    if (el->state != ENG_ACTIVATED)
        return false;
    return eng_elem_model(el)->type != BPMN_EVENT_BASED_GATEWAY || el->triggered_event == 0;
}

/* The message correlates to s: recorded, the subscription closes (unless it
 * is a non-interrupting boundary event's), the event happens. */
static void correlate(eng_engine *e, eng_msub *s, const eng_message *m) {
    eng_elem *owner = s->elem;
    int event = s->event;
    const bpmn_element *ev = &eng_instance_process(owner->inst)->elements[event];
    sub_record(e, s, "CORRELATED", m->key);
    if (!eng_event_repeats(ev))
        eng_msub_free(e, s);
    eng_event_occur(e, owner, event, m->variables);
}

/* ---- messages --------------------------------------------------------------------------- */

static void message_touch(eng_engine *e, eng_message *m) {
    if (m->dirty)
        return;
    m->dirty = true;
    if (e->n_dirty_messages == e->cap_dirty_messages) {
        e->cap_dirty_messages = e->cap_dirty_messages ? e->cap_dirty_messages * 2 : 16;
        e->dirty_messages =
            bt_xrealloc(e->dirty_messages, e->cap_dirty_messages * sizeof *e->dirty_messages);
    }
    e->dirty_messages[e->n_dirty_messages++] = m;
}

static bool message_reached(const eng_message *m, const char *process_id) {
    for (int i = 0; i < m->n_processes; i++)
        if (strcmp(m->processes[i], process_id) == 0)
            return true;
    return false;
}

static void message_reach(eng_engine *e, eng_message *m, const char *process_id) {
    m->processes = bt_xrealloc(m->processes, (size_t)(m->n_processes + 1) * sizeof *m->processes);
    m->processes[m->n_processes++] = bt_xstrdup(process_id);
    if (m->deadline_ms > m->published_ms)
        message_touch(e, m); /* buffered: its row changes */
}

static bool message_alive(const eng_engine *e, const eng_message *m) {
    return e->now < m->deadline_ms;
}

static void message_free(eng_message *m) {
    bt_free(m->name);
    bt_free(m->correlation_key);
    bt_free(m->message_id);
    feel_value_unref(m->variables);
    for (int i = 0; i < m->n_processes; i++)
        bt_free(m->processes[i]);
    bt_free(m->processes);
    bt_free(m);
}

/* Adds a buffered message to the indexes and the due-time heap. */
static void message_index(eng_engine *e, eng_message *m) {
    bt_map_put(&e->messages, m->key, m);
    char *slot = slot_of(m->name, m->correlation_key, NULL);
    msg_list *l = bt_smap_get(&e->message_index, slot);
    if (!l) {
        l = bt_xcalloc(1, sizeof *l);
        bt_smap_put(&e->message_index, slot, l);
    }
    bt_free(slot);
    m->prev = l->tail;
    m->next = NULL;
    if (l->tail)
        l->tail->next = m;
    else
        l->head = m;
    l->tail = m;
    if (m->message_id) {
        slot = slot_of(m->name, m->correlation_key, m->message_id);
        bt_smap_put(&e->message_ids, slot, m);
        bt_free(slot);
    }
    eng_due_push_message(e, m->deadline_ms, m->key);
}

static void message_unindex(eng_engine *e, eng_message *m) {
    bt_map_remove(&e->messages, m->key);
    char *slot = slot_of(m->name, m->correlation_key, NULL);
    msg_list *l = bt_smap_get(&e->message_index, slot);
    if (l) {
        if (m->prev)
            m->prev->next = m->next;
        else
            l->head = m->next;
        if (m->next)
            m->next->prev = m->prev;
        else
            l->tail = m->prev;
        if (!l->head) {
            bt_smap_remove(&e->message_index, slot);
            bt_free(l);
        }
    }
    bt_free(slot);
    if (m->message_id) {
        slot = slot_of(m->name, m->correlation_key, m->message_id);
        if (bt_smap_get(&e->message_ids, slot) == m)
            bt_smap_remove(&e->message_ids, slot);
        bt_free(slot);
    }
}

void eng_message_expire(eng_engine *e, uint64_t message_key) {
    eng_message *m = bt_map_get(&e->messages, message_key);
    if (!m)
        return;
    message_record(e, m, "EXPIRED");
    message_unindex(e, m);
    m->gone = true;
    message_touch(e, m);
}

/* Starts an instance of def at message start event `start` for m. */
static eng_instance *start_by_message(eng_engine *e, eng_definition *def, int start,
                                      eng_message *m) {
    eng_instance *inst = eng_instance_begin(e, def, NULL, NULL, start, m->variables);
    if (m->correlation_key[0]) {
        inst->start_correlation_key = bt_xstrdup(m->correlation_key);
        char *slot = eng_process_slot(def->bpmn_process_id, m->correlation_key);
        bt_smap_put(&e->start_keys, slot, inst);
        bt_free(slot);
    }
    message_reach(e, m, def->bpmn_process_id);
    bt_buf b = BT_BUF_INIT;
    bt_buf_puts(&b, "{\"messageName\":");
    bt_buf_json_string(&b, m->name, strlen(m->name));
    put_string(&b, "correlationKey", m->correlation_key);
    put_string(&b, "startEventId", def->process->elements[start].id);
    put_string(&b, "bpmnProcessId", def->bpmn_process_id);
    put_key(&b, "processDefinitionKey", def->key);
    put_key(&b, "processInstanceKey", inst->key);
    put_key(&b, "messageKey", m->key);
    add_record(e, &b, "MESSAGE_START_EVENT_SUBSCRIPTION", "CORRELATED", m->key, inst->key);
    return inst;
}

/* Whether an instance of the process that a message with this key started
 * is active. */
static bool start_blocked(eng_engine *e, const char *process_id, const char *key) {
    if (!key[0])
        return false;
    char *slot = eng_process_slot(process_id, key);
    bool blocked = bt_smap_get(&e->start_keys, slot) != NULL;
    bt_free(slot);
    return blocked;
}

/* The latest definitions with a message start event for `name` that m may
 * start (not blocked, not reached), in process id order. Fills defs/starts
 * (room for eng_starters_of's n) and returns how many. */
static int start_candidates(eng_engine *e, const eng_message *m, const eng_starters *l,
                            eng_definition **defs, int *starts) {
    int k = 0;
    for (int i = 0; l && i < l->n; i++) {
        eng_definition *d = eng_definition_latest(e, l->ids[i]);
        int start = d ? eng_start_event_named(d, BPMN_EVENT_MESSAGE, m->name) : -1;
        if (start < 0 || message_reached(m, d->bpmn_process_id) ||
            start_blocked(e, d->bpmn_process_id, m->correlation_key))
            continue;
        defs[k] = d;
        starts[k++] = start;
    }
    return k;
}

/* Delivers m: to the open subscriptions of its name and key, once per
 * process, oldest first; then to message start events. *first = the first
 * instance reached (0: none). */
/* The subscription `key` of element instance `elem_key`, if both still are. */
static eng_msub *sub_find(const eng_engine *e, uint64_t elem_key, uint64_t key) {
    const eng_elem *el = bt_map_get(&e->elems, elem_key);
    for (eng_msub *s = el ? el->msubs : NULL; s; s = s->elem_next)
        if (s->key == key)
            return s;
    return NULL;
}

static void deliver(eng_engine *e, eng_message *m, uint64_t *first) {
    *first = 0;
    eng_msub *head = index_head(e, m->name, m->correlation_key);
    if (head) {
        /* Correlating changes the list (subscriptions close, activities are
         * terminated): take the keys first (element instance, subscription),
         * then look each up again. */
        size_t n = 0, cap = 16;
        uint64_t *keys = bt_xmalloc(2 * cap * sizeof *keys);
        for (eng_msub *s = head; s; s = s->next) {
            if (n == cap)
                keys = bt_xrealloc(keys, 2 * (cap *= 2) * sizeof *keys);
            keys[2 * n] = s->elem->key;
            keys[2 * n++ + 1] = s->key;
        }
        for (size_t i = 0; i < n; i++) {
            eng_msub *s = sub_find(e, keys[2 * i], keys[2 * i + 1]);
            if (!s || !sub_waits(s) || message_reached(m, process_of(s->elem)))
                continue;
            if (!*first)
                *first = s->elem->inst->key;
            message_reach(e, m, process_of(s->elem));
            correlate(e, s, m);
        }
        bt_free(keys);
    }
    const eng_starters *l = eng_starters_of(e, BPMN_EVENT_MESSAGE, m->name);
    if (!l || l->n == 0)
        return;
    /* Candidates first: starting instances does not change the starters,
     * but start_candidates reads the state each start changes. */
    eng_definition **defs = bt_xcalloc((size_t)l->n, sizeof *defs);
    int *starts = bt_xcalloc((size_t)l->n, sizeof *starts);
    int k = start_candidates(e, m, l, defs, starts);
    for (int i = 0; i < k; i++) {
        eng_instance *inst = start_by_message(e, defs[i], starts[i], m);
        if (!*first)
            *first = inst->key;
    }
    bt_free(defs);
    bt_free(starts);
}

void eng_msub_poll(eng_engine *e, eng_elem *el, uint64_t sub_key) {
    eng_msub *s = sub_find(e, el->key, sub_key);
    if (!s || !sub_waits(s))
        return;
    char *slot = slot_of(s->name, s->correlation_key, NULL);
    msg_list *l = bt_smap_get(&e->message_index, slot);
    bt_free(slot);
    const char *process_id = process_of(s->elem);
    for (eng_message *m = l ? l->head : NULL; m; m = m->next) {
        if (!message_alive(e, m) || message_reached(m, process_id))
            continue;
        message_reach(e, m, process_id);
        correlate(e, s, m);
        return;
    }
}

void eng_message_start_released(eng_engine *e, eng_instance *inst) {
    const char *process_id = inst->def->bpmn_process_id;
    char *slot = eng_process_slot(process_id, inst->start_correlation_key);
    if (bt_smap_get(&e->start_keys, slot) == inst)
        bt_smap_remove(&e->start_keys, slot);
    bt_free(slot);
    eng_definition *def = eng_definition_latest(e, process_id);
    if (!def)
        return;
    /* The oldest buffered message for one of its start events and this key,
     * published after the version was deployed (keys grow), starts the next. */
    const bpmn_element *proc = &def->process->elements[0];
    eng_message *best = NULL;
    int best_start = -1;
    for (int j = 0; j < proc->n_message_starts; j++) {
        const bpmn_element *s = &def->process->elements[proc->message_starts[j]];
        slot = slot_of(s->message_name.text, inst->start_correlation_key, NULL);
        msg_list *l = bt_smap_get(&e->message_index, slot);
        bt_free(slot);
        for (eng_message *m = l ? l->head : NULL; m; m = m->next) {
            if (!message_alive(e, m) || message_reached(m, process_id) || m->key < def->key)
                continue;
            if (!best || m->key < best->key) {
                best = m;
                best_start = s->index;
            }
            break;
        }
    }
    if (best)
        start_by_message(e, def, best_start, best);
}

/* Checks a publication; fills err. */
static int pub_check(const eng_message_pub *p, bt_error *err) {
    if (!p->name || !p->name[0])
        return bt_error_set(err, BT_EINVAL, "a message needs a name");
    if (p->ttl_ms < 0)
        return bt_error_set(err, BT_EINVAL, "timeToLive must not be negative");
    if (p->variables && feel_value_type(p->variables) != FEEL_CONTEXT &&
        feel_value_type(p->variables) != FEEL_NULL)
        return bt_error_set(err, BT_EINVAL, "variables must be a JSON object");
    return BT_OK;
}

static eng_message *message_new(eng_engine *e, const eng_message_pub *p, int64_t ttl) {
    eng_message *m = bt_xcalloc(1, sizeof *m);
    m->key = eng_key_next(e);
    m->name = bt_xstrdup(p->name);
    m->correlation_key = bt_xstrdup(p->correlation_key ? p->correlation_key : "");
    m->message_id = p->message_id && p->message_id[0] ? bt_xstrdup(p->message_id) : NULL;
    m->published_ms = e->now;
    m->deadline_ms = e->now + ttl;
    if (p->variables && feel_value_type(p->variables) == FEEL_CONTEXT) {
        m->variables = feel_value_ref((feel_value *)p->variables);
    } else {
        feel_value *empty = NULL;
        if (feel_value_from_json("{}", 2, &empty, NULL) != BT_OK)
            abort();
        m->variables = empty;
    }
    return m;
}

int eng_message_publish(eng_engine *e, int64_t now, const eng_message_pub *p, uint64_t *key,
                        bt_error *err) {
    e->now = now;
    if (pub_check(p, err))
        return BT_EINVAL;
    const char *ck = p->correlation_key ? p->correlation_key : "";
    if (p->message_id && p->message_id[0]) {
        char *slot = slot_of(p->name, ck, p->message_id);
        eng_message *dup = bt_smap_get(&e->message_ids, slot);
        bt_free(slot);
        if (dup)
            return bt_error_set(err, BT_ECONFLICT,
                                "a message with name '%s', correlation key '%s' and id '%s' is "
                                "buffered already (key %llu)",
                                p->name, ck, p->message_id, (unsigned long long)dup->key);
    }
    eng_message *m = message_new(e, p, p->ttl_ms);
    message_record(e, m, "PUBLISHED");
    uint64_t first;
    deliver(e, m, &first);
    *key = m->key;
    if (p->ttl_ms > 0) {
        message_index(e, m);
        message_touch(e, m);
        eng_steps_run(e);
    } else {
        message_record(e, m, "EXPIRED");
        eng_steps_run(e); /* started instances read the variables */
        message_free(m);
    }
    return BT_OK;
}

int eng_message_correlate(eng_engine *e, int64_t now, const eng_message_pub *p, uint64_t *key,
                          uint64_t *instance_key, bt_error *err) {
    e->now = now;
    if (pub_check(p, err))
        return BT_EINVAL;
    const char *ck = p->correlation_key ? p->correlation_key : "";
    /* Nothing changes unless something takes it. */
    bool taken = false;
    for (eng_msub *s = index_head(e, p->name, ck); s && !taken; s = s->next)
        taken = sub_waits(s);
    if (!taken) {
        eng_message probe = {.name = (char *)p->name, .correlation_key = (char *)ck};
        const eng_starters *l = eng_starters_of(e, BPMN_EVENT_MESSAGE, p->name);
        if (l && l->n > 0) {
            eng_definition **defs = bt_xcalloc((size_t)l->n, sizeof *defs);
            int *starts = bt_xcalloc((size_t)l->n, sizeof *starts);
            taken = start_candidates(e, &probe, l, defs, starts) > 0;
            bt_free(defs);
            bt_free(starts);
        }
    }
    if (!taken)
        return bt_error_set(err, BT_ENOTFOUND,
                            "no process instance waits for message '%s' with correlation key "
                            "'%s', and no process starts with it",
                            p->name, ck);
    eng_message *m = message_new(e, p, 0);
    message_record(e, m, "PUBLISHED");
    deliver(e, m, instance_key);
    message_record(e, m, "EXPIRED");
    *key = m->key;
    eng_steps_run(e);
    message_free(m);
    return BT_OK;
}

/* ---- persistence --------------------------------------------------------------------- */

size_t eng_messages_rows(eng_engine *e, eng_object_row *out) {
    for (size_t i = 0; i < e->n_dirty_messages; i++) {
        const eng_message *m = e->dirty_messages[i];
        out[i] = (eng_object_row){.key = m->key, .kind = ENG_OBJECT_MESSAGE};
        if (m->gone)
            continue; /* data NULL: delete */
        bt_buf b = BT_BUF_INIT;
        message_json(&b, m, true);
        bt_buf_putc(&b, '}');
        out[i].len = b.len;
        out[i].data = bt_buf_take(&b);
        if (!out[i].data)
            abort();
    }
    return e->n_dirty_messages;
}

void eng_messages_written(eng_engine *e) {
    for (size_t i = 0; i < e->n_dirty_messages; i++) {
        eng_message *m = e->dirty_messages[i];
        m->dirty = false;
        if (m->gone)
            message_free(m);
    }
    e->n_dirty_messages = 0;
}

void eng_messages_free(eng_engine *e) {
    eng_messages_written(e); /* frees the expired ones not yet written */
    size_t it = 0;
    void *v;
    while (bt_map_next(&e->messages, &it, NULL, &v))
        message_free(v);
    it = 0;
    const char *name;
    while (bt_smap_next(&e->message_index, &it, &name, &v))
        bt_free(v);
    bt_map_free(&e->messages);
    bt_smap_free(&e->message_index);
    bt_smap_free(&e->message_ids);
}

static char *json_string_field(const feel_value *ctx, const char *name) {
    const feel_value *v = feel_context_get(ctx, name, strlen(name));
    size_t len;
    const char *s = v ? feel_string_ptr(v, &len) : NULL;
    if (!s)
        return NULL;
    char *copy = bt_strndup(s, len);
    if (!copy)
        abort();
    return copy;
}

static bool json_int_field(const feel_value *ctx, const char *name, int64_t *out) {
    const feel_value *v = feel_context_get(ctx, name, strlen(name));
    return v && feel_number_to_int64(v, out) == BT_OK;
}

int eng_restore_message(eng_engine *e, const eng_object_row *row, bt_error *err) {
    feel_value *ctx = NULL;
    if (feel_value_from_json(row->data, row->len, &ctx, NULL) != BT_OK ||
        feel_value_type(ctx) != FEEL_CONTEXT) {
        feel_value_unref(ctx);
        return bt_error_set(err, BT_ECORRUPT, "stored message %llu does not decode",
                            (unsigned long long)row->key);
    }
    eng_message *m = bt_xcalloc(1, sizeof *m);
    m->key = row->key;
    m->name = json_string_field(ctx, "name");
    m->correlation_key = json_string_field(ctx, "correlationKey");
    m->message_id = json_string_field(ctx, "messageId");
    const feel_value *vars = feel_context_get(ctx, "variables", 9);
    const feel_value *procs = feel_context_get(ctx, "processes", 9);
    bool ok = m->name && m->correlation_key && vars && feel_value_type(vars) == FEEL_CONTEXT &&
              procs && feel_value_type(procs) == FEEL_LIST &&
              json_int_field(ctx, "published", &m->published_ms) &&
              json_int_field(ctx, "deadline", &m->deadline_ms);
    if (ok) {
        m->variables = feel_value_ref((feel_value *)vars);
        size_t n = feel_list_count(procs);
        m->processes = bt_xcalloc(n ? n : 1, sizeof *m->processes);
        for (size_t i = 0; i < n && ok; i++) {
            size_t len;
            const char *s = feel_string_ptr(feel_list_at(procs, i), &len);
            ok = s != NULL;
            if (ok) {
                m->processes[m->n_processes] = bt_strndup(s, len);
                if (!m->processes[m->n_processes++])
                    abort();
            }
        }
    }
    feel_value_unref(ctx);
    if (!ok) {
        message_free(m);
        return bt_error_set(err, BT_ECORRUPT, "stored message %llu lacks a field",
                            (unsigned long long)row->key);
    }
    message_index(e, m);
    return BT_OK;
}
