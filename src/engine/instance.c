/*
 * instance.c — the element instance life cycle and token flow.
 *
 * Every element instance goes through
 *
 *     ACTIVATING → ACTIVATED → COMPLETING → COMPLETED
 *          \            \           \
 *           `────────────`───────────`──→ TERMINATING → TERMINATED
 *
 * and each transition is a PROCESS_INSTANCE record (ELEMENT_ACTIVATING, ...).
 * Activation runs the input mappings, then the element's behaviour (the
 * table `behaviours` below, one row per BPMN type): a container activates
 * its start event, a job task creates its job and waits, a gateway or a
 * plain event completes at once. Completion runs the output mappings, picks
 * the outgoing flows (exclusive gateway: the first true condition, else the
 * default), records COMPLETED and leaves through the flows.
 *
 * A step that fails (a mapping, a condition, a job type expression) raises
 * an incident and leaves the element instance where it stood: resolving the
 * incident runs the same step again (incident.c).
 *
 * Tokens: taking a flow activates its target in the same flow scope; a
 * parallel gateway with several incoming flows joins: it counts arrivals per
 * incoming flow in the scope and activates once every incoming flow has
 * delivered a token (consuming one from each). A scope (the process or a
 * sub-process) completes when it has no active child and no token waiting
 * at a join — the implicit end of BPMN.
 *
 * Termination walks down first: a terminated scope terminates its children
 * (deepest first), cancels their jobs and drops their incidents, then itself.
 *
 * A multi-instance activity is entered as its body (multi.c): an element
 * instance of the same element, of type MULTI_INSTANCE_BODY, whose children
 * are the inner instances. The body owns the boundary events' timers and is
 * what errors and escalations see in the scope chain; the inner instances
 * run the activity's mappings and behaviour, and leave no token on the
 * activity's outgoing flows: the body does, when it completes.
 *
 * A call activity starts another process instance and waits for it
 * (call.c); errors and escalations thrown in the called instance travel on
 * from the call activity, and terminating the call activity terminates it.
 */
#include "engine/eng_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const bpmn_process *eng_instance_process(const eng_instance *inst) {
    return inst->def->process;
}

const bpmn_element *eng_elem_model(const eng_elem *el) {
    return &el->inst->def->process->elements[el->element];
}

/* ---- records -------------------------------------------------------------- */

/* Appends ,"name":"<u64>" — keys are JSON strings, as in the REST API. */
static void put_key(bt_buf *b, const char *name, uint64_t key) {
    bt_buf_puts(b, name);
    bt_buf_putc(b, '"');
    bt_buf_put_u64(b, key);
    bt_buf_putc(b, '"');
}

const char *eng_elem_type_name(const eng_elem *el) {
    return el->multi ? "MULTI_INSTANCE_BODY" : bpmn_type_name(eng_elem_model(el)->type);
}

void eng_elem_record(eng_engine *e, eng_elem *el, const char *intent) {
    const bpmn_element *m = eng_elem_model(el);
    const eng_definition *d = el->inst->def;
    static const char *event_types[] = {"NONE",    "ERROR",  "TERMINATE",  "COMPENSATION", "TIMER",
                                        "MESSAGE", "SIGNAL", "ESCALATION", "LINK"};
    /* Built by appends, not printf: this is the most frequent record. */
    bt_buf b = BT_BUF_INIT;
    bt_buf_reserve(&b, 320);
    bt_buf_puts(&b, "{\"bpmnElementType\":\"");
    bt_buf_puts(&b, eng_elem_type_name(el));
    bt_buf_puts(&b, "\",\"bpmnEventType\":\"");
    bt_buf_puts(&b, event_types[m->event]);
    bt_buf_puts(&b, "\",\"elementId\":");
    bt_buf_json_string(&b, m->id, strlen(m->id));
    put_key(&b, ",\"flowScopeKey\":", el->scope ? el->scope->key : 0);
    bt_buf_puts(&b, ",\"bpmnProcessId\":");
    bt_buf_json_string(&b, d->bpmn_process_id, strlen(d->bpmn_process_id));
    bt_buf_puts(&b, ",\"version\":");
    bt_buf_put_i64(&b, d->version);
    put_key(&b, ",\"processDefinitionKey\":", d->key);
    put_key(&b, ",\"processInstanceKey\":", el->inst->key);
    if (el->inst->parent_key) { /* called by a call activity */
        put_key(&b, ",\"parentProcessInstanceKey\":", el->inst->parent_key);
        put_key(&b, ",\"parentElementInstanceKey\":", el->inst->caller_key);
    }
    bt_buf_putc(&b, '}');
    size_t len = b.len;
    char *text = bt_buf_take(&b);
    if (!text)
        abort();
    eng_record_add(e, "PROCESS_INSTANCE", intent, el->key, el->inst->key, text, len);
    eng_instance_touch(e, el->inst);
}

static void flow_record(eng_engine *e, eng_elem *scope, const bpmn_flow *f) {
    eng_instance *inst = scope->inst;
    bt_buf b = BT_BUF_INIT;
    bt_buf_reserve(&b, 160);
    bt_buf_puts(&b, "{\"bpmnElementType\":\"SEQUENCE_FLOW\",\"elementId\":");
    bt_buf_json_string(&b, f->id, strlen(f->id));
    put_key(&b, ",\"flowScopeKey\":", scope->key);
    put_key(&b, ",\"processInstanceKey\":", inst->key);
    bt_buf_putc(&b, '}');
    size_t len = b.len;
    char *text = bt_buf_take(&b);
    if (!text)
        abort();
    eng_record_add(e, "PROCESS_INSTANCE", "SEQUENCE_FLOW_TAKEN", eng_key_next(e), inst->key, text,
                   len);
}

/* ---- element instances ---------------------------------------------------------- */

void eng_instance_add_elem(eng_engine *e, eng_instance *inst, eng_elem *el) {
    if (inst->n_elems == inst->cap_elems) {
        /* Two to begin with: a waiting instance is mostly the process and
         * the element it waits at (a million of them add up). */
        inst->cap_elems = inst->cap_elems ? inst->cap_elems * 2 : 2;
        inst->elems = bt_xrealloc(inst->elems, (size_t)inst->cap_elems * sizeof *inst->elems);
    }
    inst->elems[inst->n_elems++] = el;
    bt_map_put(&e->elems, el->key, el);
}

eng_elem *eng_elem_new(eng_engine *e, eng_instance *inst, eng_elem *scope, int element) {
    eng_elem *el = bt_xcalloc(1, sizeof *el);
    el->key = scope ? eng_key_next(e) : inst->key;
    el->element = element;
    el->state = ENG_ACTIVATING;
    el->scope = scope;
    el->inst = inst;
    eng_instance_add_elem(e, inst, el);
    if (scope)
        scope->active_children++;
    /* A multi-instance activity is entered as its body; the body's own
     * children of the same element are its inner instances. */
    if (eng_elem_model(el)->loop && !(scope && scope->multi && scope->element == element))
        el->multi = bt_xcalloc(1, sizeof *el->multi);
    return el;
}

static void elem_free(eng_engine *e, eng_elem *el) {
    eng_instance *inst = el->inst;
    for (int i = 0; i < inst->n_elems; i++) {
        if (inst->elems[i] == el) {
            memmove(&inst->elems[i], &inst->elems[i + 1],
                    (size_t)(inst->n_elems - i - 1) * sizeof *inst->elems);
            inst->n_elems--;
            break;
        }
    }
    bt_map_remove(&e->elems, el->key);
    while (el->timers)
        eng_timer_free(e, el->timers);
    while (el->msubs)
        eng_msub_free(e, el->msubs);
    while (el->ssubs)
        eng_ssub_free(e, el->ssubs);
    feel_value_unref(el->trigger_vars);
    eng_vars_free(&el->vars);
    bt_free(el->join_tokens);
    eng_compensable_free(el->compensable, el->n_compensable);
    if (el->compensation) {
        bt_free(el->compensation->handlers);
        bt_free(el->compensation);
    }
    eng_multi_free(el->multi);
    bt_free(el);
}

eng_elem *eng_elem_activate(eng_engine *e, eng_elem *scope, int element) {
    eng_elem *el = eng_elem_new(e, scope->inst, scope, element);
    eng_elem_record(e, el, "ELEMENT_ACTIVATING");
    eng_step_push(e, STEP_ACTIVATE, el);
    return el;
}

static void set_activated(eng_engine *e, eng_elem *el) {
    el->state = ENG_ACTIVATED;
    eng_elem_record(e, el, "ELEMENT_ACTIVATED");
}

/* ---- behaviours ------------------------------------------------------------------- */

/* Activation behaviours run after the input mappings; the element instance
 * is ACTIVATING, or ACTIVATED when an incident is being retried. */
typedef void (*activate_fn)(eng_engine *e, eng_elem *el);

static void activate_container(eng_engine *e, eng_elem *el) {
    const bpmn_element *m = eng_elem_model(el);
    bool retry = el->state != ENG_ACTIVATING; /* an incident's resolution */
    if (!retry) {
        set_activated(e, el);
        /* An event sub-process: its start event happened; a process
         * started by a message or timer start event: that one. */
        int start = m->type == BPMN_EVENT_SUB_PROCESS       ? m->start_event
                    : !el->scope && el->triggered_event > 0 ? el->triggered_event
                                                            : m->start_event;
        if (start >= 0) {
            eng_elem *s = eng_elem_activate(e, el, start);
            eng_event_vars_apply(e, s, el->trigger_vars);
            feel_value_unref(el->trigger_vars);
            el->trigger_vars = NULL;
            el->triggered_event = 0;
        } else {
            eng_step_push(e, STEP_COMPLETE, el); /* an empty sub-process */
        }
    }
    /* The timers and subscriptions of its event sub-processes: when one
     * cannot open, an incident; its resolution comes back here, and the
     * container completes if its content finished meanwhile. */
    if (eng_event_subs_open(e, el) && retry)
        eng_scope_child_done(e, el);
}

static void activate_pass_through(eng_engine *e, eng_elem *el) {
    set_activated(e, el);
    eng_step_push(e, STEP_COMPLETE, el);
}

static void activate_job_task(eng_engine *e, eng_elem *el) {
    if (el->state == ENG_ACTIVATING)
        set_activated(e, el);
    if (!el->job)
        eng_job_create(e, el); /* raises an incident when it cannot */
}

/* Throw events and end events act on activation. */
static void activate_throw_event(eng_engine *e, eng_elem *el) {
    const bpmn_element *m = eng_elem_model(el);
    if (el->state == ENG_ACTIVATING)
        set_activated(e, el);
    switch (m->event) {
    case BPMN_EVENT_ERROR:
        if (!eng_error_throw(e, el, m->error_code, NULL)) {
            char msg[512];
            snprintf(msg, sizeof msg,
                     "Expected to throw an error event with the code '%s', but it was not caught. "
                     "No error events are available in the scope.",
                     m->error_code ? m->error_code : "");
            eng_incident_raise(e, el, ENG_INC_UNHANDLED_ERROR_EVENT, 0, msg);
        }
        return; /* caught: el was terminated with its scope */
    case BPMN_EVENT_MESSAGE: activate_job_task(e, el); return; /* a worker sends it */
    case BPMN_EVENT_ESCALATION:
        if (eng_escalation_throw(e, el, m->error_code))
            return; /* caught by an interrupting boundary: el was terminated */
        eng_step_push(e, STEP_COMPLETE, el);
        return;
    case BPMN_EVENT_COMPENSATION:
        if (eng_compensation_start(e, el) && m->wait_for_completion)
            return; /* completes when the handlers are done */
        eng_step_push(e, STEP_COMPLETE, el);
        return;
    case BPMN_EVENT_SIGNAL: {
        uint64_t key = el->key;
        /* An incident when the name does not evaluate; and a boundary event
         * of an enclosing sub-process may catch the signal and terminate el. */
        if (eng_signal_throw(e, el) && bt_map_get(&e->elems, key))
            eng_step_push(e, STEP_COMPLETE, el);
        return;
    }
    default: eng_step_push(e, STEP_COMPLETE, el); return;
    }
}

/* A timer catch event waits for its timer (timers.c fires it), a message
 * catch event for its message (messages.c), a signal catch event for its
 * signal (signals.c); a link catch event is where a link throw continues,
 * and passes the token on. */
static void activate_catch_event(eng_engine *e, eng_elem *el) {
    if (el->state == ENG_ACTIVATING)
        set_activated(e, el);
    bpmn_event_kind kind = eng_elem_model(el)->event;
    if (el->pre_triggered ||
        (kind != BPMN_EVENT_TIMER && kind != BPMN_EVENT_MESSAGE && kind != BPMN_EVENT_SIGNAL)) {
        eng_step_push(e, STEP_COMPLETE, el);
        return;
    }
    /* Each raises an incident when it cannot. */
    if (kind == BPMN_EVENT_TIMER && el->n_timers == 0)
        eng_timer_create(e, el, el->element);
    else if (kind == BPMN_EVENT_MESSAGE && !eng_msub_has(el, el->element))
        eng_msub_open(e, el, el->element);
    else if (kind == BPMN_EVENT_SIGNAL && !eng_ssub_has(el, el->element))
        eng_ssub_open(e, el, el->element);
}

/* A receive task waits for its message, like a message catch event, but is
 * an activity (boundary events, input mappings). */
static void activate_receive_task(eng_engine *e, eng_elem *el) {
    if (el->state == ENG_ACTIVATING)
        set_activated(e, el);
    if (!eng_msub_has(el, el->element))
        eng_msub_open(e, el, el->element);
}

bool eng_wait_for(eng_engine *e, eng_elem *el, int event) {
    const bpmn_element *ev = &eng_instance_process(el->inst)->elements[event];
    if (ev->event == BPMN_EVENT_MESSAGE)
        return eng_msub_has(el, event) || eng_msub_open(e, el, event);
    if (ev->event == BPMN_EVENT_SIGNAL)
        return eng_ssub_has(el, event) || eng_ssub_open(e, el, event);
    if (ev->event != BPMN_EVENT_TIMER)
        return true;
    for (const eng_timer *t = el->timers; t; t = t->next)
        if (t->event == event)
            return true;
    return eng_timer_create(e, el, event);
}

/* An event-based gateway waits for the first of its events: it holds the
 * timers, message and signal subscriptions of the catch events it leads to; the
 * first to happen completes the gateway, which leaves through that event's
 * flow (eng_event_occur, below). */
static void activate_event_gateway(eng_engine *e, eng_elem *el) {
    if (el->state == ENG_ACTIVATING)
        set_activated(e, el);
    const bpmn_element *m = eng_elem_model(el);
    const bpmn_process *p = eng_instance_process(el->inst);
    uint64_t key = el->key;
    for (int i = 0; i < m->n_outgoing; i++) {
        if (!eng_wait_for(e, el, p->flows[m->outgoing[i]].target))
            return;
        if (bt_map_get(&e->elems, key) != el || el->triggered_event > 0)
            return; /* a buffered message came at once */
    }
}

static const activate_fn behaviours[BPMN_TYPE_COUNT] = {
    /* Containers activate their none start event (an event sub-process:
     * the start event that happened). */
    [BPMN_PROCESS] = activate_container,
    [BPMN_SUB_PROCESS] = activate_container,
    [BPMN_EVENT_SUB_PROCESS] = activate_container,
    /* Events that only pass the token on. */
    [BPMN_START_EVENT] = activate_pass_through,
    [BPMN_BOUNDARY_EVENT] = activate_pass_through,
    /* End and intermediate throw events act on activation. */
    [BPMN_END_EVENT] = activate_throw_event,
    [BPMN_INTERMEDIATE_THROW_EVENT] = activate_throw_event,
    /* Catch events wait for what they catch (timers, messages). */
    [BPMN_INTERMEDIATE_CATCH_EVENT] = activate_catch_event,
    [BPMN_RECEIVE_TASK] = activate_receive_task,
    /* Job-based tasks create a job and wait for it. */
    [BPMN_SERVICE_TASK] = activate_job_task,
    [BPMN_SEND_TASK] = activate_job_task,
    [BPMN_SCRIPT_TASK] = activate_job_task,
    [BPMN_BUSINESS_RULE_TASK] = activate_job_task,
    [BPMN_USER_TASK] = activate_job_task,
    /* Tasks without behaviour and gateways complete at once (flows are
     * chosen on completion). */
    [BPMN_TASK] = activate_pass_through,
    [BPMN_MANUAL_TASK] = activate_pass_through,
    [BPMN_EXCLUSIVE_GATEWAY] = activate_pass_through,
    [BPMN_PARALLEL_GATEWAY] = activate_pass_through,
    [BPMN_INCLUSIVE_GATEWAY] = activate_pass_through,
    [BPMN_EVENT_BASED_GATEWAY] = activate_event_gateway,
    /* A call activity starts an instance of another process and waits. */
    [BPMN_CALL_ACTIVITY] = eng_call_activate,
};

void eng_elem_run_activate(eng_engine *e, eng_elem *el) {
    const bpmn_element *m = eng_elem_model(el);
    /* A multi-instance body leaves the mappings to its inner instances. */
    if (el->state == ENG_ACTIVATING && m->n_inputs > 0 && !el->multi) {
        char msg[512];
        if (eng_mappings_input(e, el, msg, sizeof msg) != BT_OK) {
            eng_incident_raise(e, el, ENG_INC_IO_MAPPING_ERROR, 0, msg);
            return;
        }
    }
    activate_fn fn = el->multi ? eng_multi_activate : behaviours[m->type];
    if (!fn) { /* the model layer rejects these; never reached with a valid model */
        char msg[256];
        snprintf(msg, sizeof msg, "element type %s is not supported", bpmn_type_name(m->type));
        eng_incident_raise(e, el, ENG_INC_EXTRACT_VALUE_ERROR, 0, msg);
        return;
    }
    uint64_t key = el->key;
    fn(e, el);
    /* An activity that is now waiting gets its timer and message boundary
     * events (a multi-instance activity: its body, not each inner instance).
     * A buffered message is looked for by a later step, so the activity
     * stays as it is while this loop runs. */
    el = bt_map_get(&e->elems, key);
    if (el && el->state == ENG_ACTIVATED && bpmn_is_activity(m->type) && !el->incident &&
        el->loop_counter == 0) {
        for (int i = 0; i < m->n_boundaries; i++)
            if (!eng_wait_for(e, el, m->boundaries[i]))
                return;
    }
}

/* ---- completion ------------------------------------------------------------------------ */

/* The flows a gateway leaves through: an exclusive gateway the first
 * outgoing flow (document order) whose condition is true, an inclusive
 * gateway every such flow (all = true); else the default flow. Fills
 * chosen[] (room for every outgoing flow) and returns how many, or -1 with
 * msg when a condition fails or nothing can be taken. */
static int gateway_choose(eng_engine *e, eng_elem *el, bool all, int *chosen, char *msg,
                          size_t msg_size) {
    const bpmn_element *m = eng_elem_model(el);
    const bpmn_process *p = eng_instance_process(el->inst);
    int n = 0;
    for (int i = 0; i < m->n_outgoing; i++) {
        const bpmn_flow *f = &p->flows[m->outgoing[i]];
        if (f->index == m->default_flow)
            continue;
        bool taken = true; /* an unconditional flow is always taken */
        if (f->condition) {
            feel_value *v = NULL;
            bt_error warn = {0};
            int rc = eng_eval(e, el, f->condition, &v, &warn);
            if (rc != BT_OK) {
                snprintf(msg, msg_size, "Failed to evaluate the condition '%s' of flow '%s': %s",
                         f->condition_text, f->id, bt_strerror(rc));
                return -1;
            }
            feel_type t = feel_value_type(v);
            taken = feel_value_is_true(v);
            feel_value_unref(v);
            if (t != FEEL_BOOLEAN && t != FEEL_NULL) {
                snprintf(msg, msg_size,
                         "Expected the condition '%s' of flow '%s' to be a boolean, but it was %s",
                         f->condition_text, f->id, feel_type_name(t));
                return -1;
            }
            if (t == FEEL_NULL && warn.code) {
                snprintf(msg, msg_size, "Failed to evaluate the condition '%s' of flow '%s': %s",
                         f->condition_text, f->id, warn.message);
                return -1;
            }
        }
        if (taken) {
            chosen[n++] = f->index;
            if (!all)
                return n;
        }
    }
    if (n > 0)
        return n;
    if (m->default_flow >= 0) {
        chosen[0] = m->default_flow;
        return 1;
    }
    snprintf(msg, msg_size,
             "Expected at least one condition to evaluate to true, or to have a default flow");
    return -1;
}

static void arrive(eng_engine *e, eng_elem *scope, const bpmn_flow *f);

static void take_flow(eng_engine *e, eng_elem *scope, const bpmn_flow *f) {
    flow_record(e, scope, f);
    arrive(e, scope, f);
}

/* A token arrives at the target of flow f, in scope. */
/* ---- the inclusive join ---------------------------------------------------------------
 *
 * An inclusive gateway with several incoming flows activates once every
 * incoming flow either delivered a token or can no longer get one: no live
 * element instance of the scope (nor a token waiting at another join) can
 * reach that flow's source. The question is asked when a token arrives and
 * again whenever a child of the scope finishes (a branch that ended
 * elsewhere may be what the join was waiting for). Reachability is the
 * model's, computed once per definition. */

static const uint8_t *reach_of(eng_definition *d) {
    if (d->reach)
        return d->reach;
    const bpmn_process *p = d->process;
    int n = p->n_elements;
    d->reach = bt_xcalloc((size_t)n * (size_t)n, 1);
    int *queue = bt_xmalloc((size_t)n * sizeof *queue);
    for (int from = 0; from < n; from++) {
        uint8_t *row = d->reach + (size_t)from * (size_t)n;
        int head = 0, tail = 0;
        queue[tail++] = from;
        while (head < tail) {
            const bpmn_element *el = &p->elements[queue[head++]];
            for (int k = 0; k < el->n_outgoing + el->n_boundaries + 1; k++) {
                int to = k < el->n_outgoing ? p->flows[el->outgoing[k]].target
                         : k < el->n_outgoing + el->n_boundaries
                             ? el->boundaries[k - el->n_outgoing]
                             : el->link_target;
                if (to < 0 || row[to])
                    continue;
                row[to] = 1;
                queue[tail++] = to;
            }
        }
    }
    bt_free(queue);
    return d->reach;
}

/* Whether the inclusive join `g` in scope may activate now. */
static bool inclusive_ready(eng_elem *scope, const bpmn_element *g) {
    eng_instance *inst = scope->inst;
    const bpmn_process *p = eng_instance_process(inst);
    const uint8_t *reach = reach_of(inst->def);
    int n = p->n_elements;
    bool any = false;
    for (int i = 0; i < g->n_incoming; i++)
        any |= scope->join_tokens && scope->join_tokens[g->incoming[i]] > 0;
    if (!any)
        return false;
    for (int i = 0; i < g->n_incoming; i++) {
        const bpmn_flow *f = &p->flows[g->incoming[i]];
        if (scope->join_tokens[f->index] > 0)
            continue;
        /* Could a live position still deliver a token on f? */
        for (int k = 0; k < inst->n_elems; k++) {
            const eng_elem *c = inst->elems[k];
            if (c->scope != scope || c->state == ENG_COMPLETED || c->state == ENG_TERMINATED)
                continue;
            if (c->element == f->source ||
                reach[(size_t)c->element * (size_t)n + (size_t)f->source])
                return false;
        }
        for (int j = 0; j < p->n_flows; j++) { /* tokens waiting at other joins */
            if (scope->join_tokens[j] == 0 || p->flows[j].target == g->index)
                continue;
            int at = p->flows[j].target;
            if (at == f->source || reach[(size_t)at * (size_t)n + (size_t)f->source])
                return false;
        }
    }
    return true;
}

/* Activates the inclusive join g, consuming one token per flow that has one. */
static void inclusive_fire(eng_engine *e, eng_elem *scope, const bpmn_element *g) {
    for (int i = 0; i < g->n_incoming; i++)
        if (scope->join_tokens[g->incoming[i]] > 0) {
            scope->join_tokens[g->incoming[i]]--;
            scope->n_join_waiting--;
        }
    eng_elem_activate(e, scope, g->index);
}

/* A child of scope finished: joins waiting in it may be ready now. */
static void inclusive_recheck(eng_engine *e, eng_elem *scope) {
    if (!scope->join_tokens || scope->n_join_waiting == 0)
        return;
    const bpmn_process *p = eng_instance_process(scope->inst);
    for (int j = 0; j < p->n_flows; j++) {
        const bpmn_element *g = &p->elements[p->flows[j].target];
        if (scope->join_tokens[j] == 0 || g->type != BPMN_INCLUSIVE_GATEWAY)
            continue;
        if (inclusive_ready(scope, g))
            inclusive_fire(e, scope, g);
    }
}

static void arrive(eng_engine *e, eng_elem *scope, const bpmn_flow *f) {
    const bpmn_process *p = eng_instance_process(scope->inst);
    const bpmn_element *target = &p->elements[f->target];
    if (target->type == BPMN_INCLUSIVE_GATEWAY && target->n_incoming > 1) {
        if (!scope->join_tokens)
            scope->join_tokens = bt_xcalloc((size_t)p->n_flows, sizeof *scope->join_tokens);
        scope->join_tokens[f->index]++;
        scope->n_join_waiting++;
        if (inclusive_ready(scope, target))
            inclusive_fire(e, scope, target);
        return;
    }
    if (target->type == BPMN_PARALLEL_GATEWAY && target->n_incoming > 1) {
        if (!scope->join_tokens)
            scope->join_tokens = bt_xcalloc((size_t)p->n_flows, sizeof *scope->join_tokens);
        scope->join_tokens[f->index]++;
        scope->n_join_waiting++;
        for (int i = 0; i < target->n_incoming; i++)
            if (scope->join_tokens[target->incoming[i]] == 0)
                return; /* wait for the other branches */
        for (int i = 0; i < target->n_incoming; i++)
            scope->join_tokens[target->incoming[i]]--;
        scope->n_join_waiting -= target->n_incoming;
    }
    eng_elem_activate(e, scope, f->target);
}

void eng_elem_take_flows(eng_engine *e, eng_elem *el) {
    const bpmn_element *m = eng_elem_model(el);
    const bpmn_process *p = eng_instance_process(el->inst);
    for (int i = 0; i < m->n_outgoing; i++)
        take_flow(e, el->scope, &p->flows[m->outgoing[i]]);
}

/* Completes a container whose last child finished. */
void eng_scope_child_done(eng_engine *e, eng_elem *scope) {
    if (scope && scope->state == ENG_ACTIVATED && scope->active_children == 0 &&
        scope->n_join_waiting == 0 && !scope->incident)
        eng_step_push(e, STEP_COMPLETE, scope);
}

static bool is_container(const bpmn_element *m) {
    return m->type == BPMN_PROCESS || m->type == BPMN_SUB_PROCESS ||
           m->type == BPMN_EVENT_SUB_PROCESS;
}

/* Removes a finished element instance and lets its scope react. */
static void elem_finish(eng_engine *e, eng_elem *el) {
    eng_elem *scope = el->scope;
    eng_instance *inst = el->inst;
    bool root = scope == NULL;
    elem_free(e, el);
    if (root)
        return;
    scope->active_children--;
    inclusive_recheck(e, scope);
    eng_scope_child_done(e, scope);
    (void)inst;
}

void eng_scope_terminate_children(eng_engine *e, eng_elem *scope, const eng_elem *except) {
    eng_instance *inst = scope->inst;
    for (int i = inst->n_elems - 1; i >= 0; i--) {
        if (i >= inst->n_elems)
            continue;
        eng_elem *other = inst->elems[i];
        if (other != except && other->scope == scope) {
            eng_elem_terminate(e, other);
            scope->active_children--;
            i = inst->n_elems; /* the list changed: restart from the end */
        }
    }
    scope->n_join_waiting = 0;
    if (scope->join_tokens)
        memset(scope->join_tokens, 0,
               (size_t)eng_instance_process(inst)->n_flows * sizeof *scope->join_tokens);
}

void eng_elem_run_complete(eng_engine *e, eng_elem *el) {
    const bpmn_element *m = eng_elem_model(el);
    if (el->state == ENG_ACTIVATED) {
        if ((is_container(m) || el->multi) &&
            (el->active_children > 0 || el->n_join_waiting > 0 || (el->multi && el->incident)))
            return; /* a stale completion: something is running again, or waits */
        el->state = ENG_COMPLETING;
        eng_elem_record(e, el, "ELEMENT_COMPLETING");
        eng_timers_cancel(e, el);
        eng_msubs_close(e, el);
        eng_ssubs_close(e, el);
        /* An incident of the waiting element (a boundary event's timer or
         * subscription that could not open) goes with it, as when it is
         * terminated. */
        if (el->incident)
            eng_incident_drop(e, el, true);
    }
    if (el->state != ENG_COMPLETING)
        return;
    if (m->n_outputs > 0 && !el->multi) { /* a body's inner instances ran them */
        char msg[512];
        if (eng_mappings_output(e, el, msg, sizeof msg) != BT_OK) {
            eng_incident_raise(e, el, ENG_INC_IO_MAPPING_ERROR, 0, msg);
            return;
        }
    }
    int loop_done = 0;
    if (el->loop_counter > 0 && (loop_done = eng_multi_inner_completing(e, el)) < 0)
        return; /* an incident on the inner instance */
    if (el->multi)
        eng_multi_body_completing(e, el);
    int *chosen = NULL, n_chosen = 0;
    if (m->type == BPMN_EXCLUSIVE_GATEWAY || m->type == BPMN_INCLUSIVE_GATEWAY) {
        char msg[512];
        chosen = bt_xmalloc((size_t)(m->n_outgoing ? m->n_outgoing : 1) * sizeof *chosen);
        n_chosen =
            gateway_choose(e, el, m->type == BPMN_INCLUSIVE_GATEWAY, chosen, msg, sizeof msg);
        if (n_chosen < 0) {
            bt_free(chosen);
            eng_incident_raise(e, el, ENG_INC_CONDITION_ERROR, 0, msg);
            return;
        }
    }
    if (m->type == BPMN_END_EVENT && m->event == BPMN_EVENT_TERMINATE && el->scope)
        eng_scope_terminate_children(e, el->scope, el); /* then the scope completes */

    el->state = ENG_COMPLETED;
    eng_elem_record(e, el, "ELEMENT_COMPLETED");

    if (!el->scope) { /* the process itself */
        eng_instance *inst = el->inst;
        /* Keep the final variables until the changes are flushed: an
         * awaiting client reads them (awaitCompletion + fetchVariables). */
        inst->final_vars = bt_xmalloc(sizeof *inst->final_vars);
        *inst->final_vars = el->vars;
        memset(&el->vars, 0, sizeof el->vars);
        elem_free(e, el);
        eng_instance_ended(e, inst, ENG_INSTANCE_COMPLETED);
        bt_free(chosen);
        return;
    }
    if (bpmn_is_activity(m->type))
        eng_compensation_note_completed(e, el);
    if (el->loop_counter > 0) { /* an inner instance: its body goes on */
        eng_multi_inner_completed(e, el, loop_done > 0);
        elem_finish(e, el);
        bt_free(chosen);
        return;
    }
    if (el->compensating_for) {
        eng_elem *scope = el->scope;
        eng_elem *thrower = el->compensating_for;
        elem_free(e, el);
        scope->active_children--;
        eng_compensation_handler_done(e, thrower);
        eng_scope_child_done(e, scope);
        bt_free(chosen);
        return;
    }
    if (chosen) {
        for (int i = 0; i < n_chosen; i++)
            take_flow(e, el->scope, &eng_instance_process(el->inst)->flows[chosen[i]]);
        bt_free(chosen);
    } else if (m->type == BPMN_EVENT_BASED_GATEWAY) {
        /* Leave toward the event that happened; it completes at once. */
        const bpmn_process *p = eng_instance_process(el->inst);
        for (int i = 0; i < m->n_outgoing; i++) {
            const bpmn_flow *f = &p->flows[m->outgoing[i]];
            if (f->target != el->triggered_event)
                continue;
            flow_record(e, el->scope, f);
            eng_elem *ev = eng_elem_activate(e, el->scope, f->target);
            ev->pre_triggered = true;
            eng_event_vars_apply(e, ev, el->trigger_vars);
        }
    } else if (m->event == BPMN_EVENT_LINK && m->link_target >= 0)
        eng_elem_activate(e, el->scope, m->link_target); /* a link throw jumps */
    else
        eng_elem_take_flows(e, el);
    elem_finish(e, el);
}

/* ---- termination -------------------------------------------------------------------------- */

void eng_elem_terminate(eng_engine *e, eng_elem *el) {
    if (el->state == ENG_TERMINATING || el->state == ENG_TERMINATED)
        return;
    el->state = ENG_TERMINATING;
    eng_elem_record(e, el, "ELEMENT_TERMINATING");
    /* Children first, deepest first; restart the scan after each, since the
     * list shrinks. */
    eng_instance *inst = el->inst;
    for (int i = inst->n_elems - 1; i >= 0; i--) {
        if (i < inst->n_elems && inst->elems[i]->scope == el) {
            eng_elem_terminate(e, inst->elems[i]);
            el->active_children--;
            i = inst->n_elems;
        }
    }
    if (el->called)
        eng_call_terminate_called(e, el);
    if (el->job)
        eng_job_cancel(e, el->job);
    eng_timers_cancel(e, el);
    eng_msubs_close(e, el);
    eng_ssubs_close(e, el);
    if (el->incident)
        eng_incident_drop(e, el, true);
    el->state = ENG_TERMINATED;
    eng_elem_record(e, el, "ELEMENT_TERMINATED");
    if (el->compensating_for)
        eng_compensation_handler_done(e, el->compensating_for);
    if (!el->scope) {
        elem_free(e, el);
        eng_instance_ended(e, inst, ENG_INSTANCE_TERMINATED);
        return;
    }
    elem_free(e, el);
}

/* ---- errors ---------------------------------------------------------------------------------- */

/* The error (or escalation) boundary event of activity `m` that catches
 * `code`: an exact code match wins over a catch-all. -1 when none. */
static int find_code_boundary(const bpmn_process *p, const bpmn_element *m, bpmn_event_kind kind,
                              const char *code) {
    int catch_all = -1;
    for (int i = 0; i < m->n_boundaries; i++) {
        const bpmn_element *b = &p->elements[m->boundaries[i]];
        if (b->event != kind)
            continue;
        if (!b->error_code) {
            if (catch_all < 0)
                catch_all = b->index;
        } else if (code && strcmp(b->error_code, code) == 0) {
            return b->index;
        }
    }
    return catch_all;
}

static void set_local_string(eng_engine *e, eng_elem *el, const char *name, const char *s) {
    feel_value *v = feel_string_new(s, strlen(s));
    if (!v)
        abort();
    eng_vars_set_local(e, el, name, strlen(name), v);
}

/* Errors and escalations travel the same way: up the scope chain from `x`
 * — from the process of a called instance on to its call activity and that
 * one's scopes (call.c). At each level the activity's boundary event of
 * `kind` for `code` catches, then (one level up) an event sub-process of the
 * enclosing scope with a start event for it. An interrupting catch
 * terminates that activity, or everything else in the scope (so the thrower
 * too, called instances included); either way the boundary event or the
 * event sub-process is activated and returned, with the code as a local
 * variable (`code_var`) for its mappings and its inside, and *interrupting
 * says which it was. NULL when nothing catches. */
static eng_elem *catch_code(eng_engine *e, eng_elem *x, bpmn_event_kind kind, const char *code,
                            const char *code_var, bool *interrupting) {
    for (; x; x = x->scope ? x->scope : eng_call_caller(x->inst)) {
        if (!x->scope || x->loop_counter > 0)
            continue; /* a process, or an inner instance (its body has the boundary events) */
        const bpmn_process *p = eng_instance_process(x->inst);
        eng_elem *scope = x->scope, *caught;
        int b = find_code_boundary(p, eng_elem_model(x), kind, code);
        if (b >= 0) {
            *interrupting = p->elements[b].cancel_activity;
            if (*interrupting) {
                eng_elem_terminate(e, x);
                scope->active_children--;
            }
            caught = eng_elem_activate(e, scope, b);
        } else {
            int start = eng_event_sub_for_code(scope, kind, code);
            if (start < 0)
                continue;
            *interrupting = p->elements[start].cancel_activity;
            caught = eng_event_sub_trigger(e, scope, start, NULL);
        }
        if (code)
            set_local_string(e, caught, code_var, code);
        return caught;
    }
    return NULL;
}

bool eng_error_throw(eng_engine *e, eng_elem *from, const char *code, const char *message) {
    /* An error boundary event always interrupts (validate.c). */
    bool interrupting;
    eng_elem *boundary = catch_code(e, from, BPMN_EVENT_ERROR, code, "errorCode", &interrupting);
    if (boundary && message)
        set_local_string(e, boundary, "errorMessage", message);
    return boundary != NULL;
}

/* Escalations (as Zeebe): unlike an error, an escalation nobody catches is
 * not an incident, and a non-interrupting boundary event lets both the
 * escalated activity and the throw event go on. The search starts at the
 * throw event's scope: throw events carry no boundary events. */
bool eng_escalation_throw(eng_engine *e, eng_elem *from, const char *code) {
    if (!from->scope)
        return false;
    bool interrupting = false;
    eng_elem *caught =
        catch_code(e, from, BPMN_EVENT_ESCALATION, code, "escalationCode", &interrupting);
    return caught && interrupting;
}

/* ---- instances --------------------------------------------------------------------------------
 */

void eng_instance_free(eng_engine *e, eng_instance *inst) {
    while (inst->n_elems > 0) {
        eng_elem *el = inst->elems[inst->n_elems - 1];
        if (el->job) {
            eng_job_free(e, el->job);
            el->job = NULL;
        }
        if (el->incident)
            eng_incident_drop(e, el, false);
        elem_free(e, el);
    }
    if (inst->final_vars) {
        eng_vars_free(inst->final_vars);
        bt_free(inst->final_vars);
    }
    bt_free(inst->elems);
    bt_free(inst->business_id);
    bt_free(inst->start_correlation_key);
    bt_free(inst);
}

/* ---- events that happen -------------------------------------------------------------------------
 */

bool eng_event_repeats(const bpmn_element *ev) {
    return (ev->type == BPMN_BOUNDARY_EVENT || ev->type == BPMN_START_EVENT) &&
           !ev->cancel_activity;
}

void eng_event_vars_apply(eng_engine *e, eng_elem *el, const feel_value *vars) {
    if (!vars || feel_context_count(vars) == 0)
        return;
    /* With output mappings they stay local to the event, where the mappings
     * read them; without, they propagate (Zeebe). */
    eng_vars_merge(e, el, vars, eng_elem_model(el)->n_outputs > 0);
}

void eng_event_occur(eng_engine *e, eng_elem *owner, int event, const feel_value *vars) {
    const bpmn_element *ev = &eng_instance_process(owner->inst)->elements[event];
    if (eng_elem_model(owner)->type == BPMN_EVENT_BASED_GATEWAY) {
        /* Its other timers and subscriptions go at COMPLETING. */
        owner->triggered_event = event;
        if (vars)
            owner->trigger_vars = feel_value_ref((feel_value *)vars);
        eng_step_push(e, STEP_COMPLETE, owner);
        return;
    }
    if (ev->type == BPMN_START_EVENT) { /* of an event sub-process of the scope `owner` */
        eng_event_sub_trigger(e, owner, event, vars);
        return;
    }
    if (ev->type != BPMN_BOUNDARY_EVENT) { /* a catch event or receive task: owner itself */
        eng_event_vars_apply(e, owner, vars);
        eng_step_push(e, STEP_COMPLETE, owner);
        return;
    }
    /* A boundary event of the activity `owner`. */
    eng_elem *scope = owner->scope;
    if (ev->cancel_activity) {
        eng_elem_terminate(e, owner); /* cancels its timers and subscriptions */
        scope->active_children--;
    }
    eng_elem *b = eng_elem_activate(e, scope, event);
    eng_event_vars_apply(e, b, vars);
}
