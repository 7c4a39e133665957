/*
 * validate.c — from a bpmn_build to the immutable bpmn_process: resolve the
 * references, check the structure, lay the result out in the arena.
 *
 * The passes, in order (each reports what it finds and goes on, so one
 * deployment shows every problem at once):
 *
 *   1. index      element ids sorted (the by_id of the result);
 *   2. flows      sourceRef / targetRef resolve to elements of the flow's own
 *                 scope; incoming / outgoing arrays per element;
 *   3. children   per container, in document order;
 *   4. elements   per-type rules: start events (exactly one none start event
 *                 per container, no incoming flows), end events (no outgoing
 *                 flows; error end events throw a code), boundary events
 *                 (attached to an activity of the same scope, no incoming
 *                 flows, error codes), gateways (an outgoing flow; the default
 *                 flow is an unconditional outgoing flow; conditions only out
 *                 of exclusive gateways), compensation throws (activityRef),
 *                 signal events (a signalRef to a named <signal>; a literal
 *                 name on a start event; unique names among the signal
 *                 start events of a process and the boundary events of an
 *                 activity);
 *   5. compensation   associations from compensation boundary events to
 *                 isForCompensation activities: the attached activity's
 *                 compensation_handler; handlers have no sequence flows;
 *   6. reachability   a walk from the process's start event along sequence
 *                 flows, into sub-processes (their start events) and onto the
 *                 boundary events of reached activities. Compensation handlers
 *                 are reached by compensation, not by flows: exempt. Only the
 *                 first unreached layer is reported (an element whose own
 *                 container is unreached is not).
 *
 * Nodes already reported as unsupported take part in resolution (flows to
 * them resolve) but are exempt from the per-type rules.
 */
#include "model/model_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct id_index {
    const char *id;
    int index;
} id_index;

/* Scratch state of one validation; every array has b->n_nodes entries. */
typedef struct checker {
    bpmn_ctx *c;
    bpmn_build *b;
    id_index *ids;    /* sorted by id */
    int *handler_of;  /* compensation boundary → handler; -1 none, -2 a broken association */
    bool *associated; /* handler has an association */
    bool *reached;
    int *queue;
} checker;

static int id_index_cmp(const void *a, const void *b) {
    const id_index *x = a, *y = b;
    int c = strcmp(x->id, y->id);
    return c ? c : (x->index > y->index) - (x->index < y->index);
}

/* Node index of id, or -1 (also for NULL). */
static int find(const checker *k, const char *id) {
    if (!id)
        return -1;
    int lo = 0, hi = k->b->n_nodes - 1;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        int cmp = strcmp(id, k->ids[mid].id);
        if (cmp == 0)
            return k->ids[mid].index;
        if (cmp < 0)
            hi = mid - 1;
        else
            lo = mid + 1;
    }
    return -1;
}

static bpmn_node *node(const checker *k, int i) {
    return &k->b->nodes[i];
}

static int *arena_ints(checker *k, int n) {
    if (n == 0)
        return NULL;
    int *a = bpmn_arena_alloc(k->c->arena, (size_t)n * sizeof *a);
    if (!a)
        bpmn_ctx_nomem(k->c);
    return a;
}

/* What kind of container index i is, for messages. */
static const char *container_word(const checker *k, int i) {
    bpmn_type t = node(k, i)->el.type;
    return t == BPMN_PROCESS             ? "process"
           : t == BPMN_EVENT_SUB_PROCESS ? "event sub-process"
                                         : "sub-process";
}

/* ---- 2. flows ------------------------------------------------------------------ */

/* Resolves one end of flow f; -1 (reported) when it does not resolve. */
static int flow_end(checker *k, bpmn_build_flow *f, const char *ref, const char *attr) {
    if (!ref || !ref[0]) {
        bpmn_ctx_report(k->c, f->fl.id, f->fl.line, 0, "sequence flow without %s", attr);
        return -1;
    }
    int i = find(k, ref);
    if (i < 0) {
        bpmn_ctx_report(k->c, f->fl.id, f->fl.line, 0, "%s '%s' does not name an element of %s",
                        attr, ref, "this process");
        return -1;
    }
    if (node(k, i)->el.scope != f->scope) {
        bpmn_ctx_report(k->c, f->fl.id, f->fl.line, 0,
                        "%s '%s' is in another scope: a sequence flow connects elements of the "
                        "same process or sub-process (the flow is in %s '%s')",
                        attr, ref, container_word(k, f->scope), node(k, f->scope)->el.id);
        return -1;
    }
    return i;
}

static void flows_resolve(checker *k) {
    bpmn_build *b = k->b;
    for (int f = 0; f < b->n_flows; f++) {
        bpmn_build_flow *fl = &b->flows[f];
        fl->fl.source = flow_end(k, fl, fl->source_ref, "sourceRef");
        fl->fl.target = flow_end(k, fl, fl->target_ref, "targetRef");
        if (fl->fl.source >= 0)
            node(k, fl->fl.source)->el.n_outgoing++;
        if (fl->fl.target >= 0)
            node(k, fl->fl.target)->el.n_incoming++;
    }
    for (int i = 0; i < b->n_nodes && !k->c->status; i++) {
        bpmn_element *el = &node(k, i)->el;
        el->incoming = arena_ints(k, el->n_incoming);
        el->outgoing = arena_ints(k, el->n_outgoing);
    }
    if (k->c->status)
        return;
    /* Fill in document order; the counts are rebuilt as cursors. */
    for (int i = 0; i < b->n_nodes; i++)
        node(k, i)->el.n_incoming = node(k, i)->el.n_outgoing = 0;
    for (int f = 0; f < b->n_flows; f++) {
        bpmn_flow *fl = &b->flows[f].fl;
        if (fl->source >= 0) {
            bpmn_element *s = &node(k, fl->source)->el;
            ((int *)s->outgoing)[s->n_outgoing++] = f;
        }
        if (fl->target >= 0) {
            bpmn_element *t = &node(k, fl->target)->el;
            ((int *)t->incoming)[t->n_incoming++] = f;
        }
    }
}

/* ---- 3. children and boundaries ----------------------------------------------------- */

static void children_layout(checker *k) {
    bpmn_build *b = k->b;
    for (int i = 1; i < b->n_nodes; i++) {
        int s = node(k, i)->el.scope;
        if (s >= 0)
            node(k, s)->el.n_children++;
    }
    for (int i = 0; i < b->n_nodes && !k->c->status; i++)
        node(k, i)->el.children = arena_ints(k, node(k, i)->el.n_children);
    if (k->c->status)
        return;
    for (int i = 0; i < b->n_nodes; i++)
        node(k, i)->el.n_children = 0;
    for (int i = 1; i < b->n_nodes; i++) {
        bpmn_element *s = &node(k, node(k, i)->el.scope)->el;
        ((int *)s->children)[s->n_children++] = i;
    }
    /* Each container's event sub-processes. */
    for (int i = 1; i < b->n_nodes; i++)
        if (node(k, i)->el.type == BPMN_EVENT_SUB_PROCESS && !node(k, i)->unsupported)
            node(k, node(k, i)->el.scope)->el.n_event_subs++;
    for (int i = 0; i < b->n_nodes && !k->c->status; i++) {
        bpmn_element *c = &node(k, i)->el;
        c->event_subs = arena_ints(k, c->n_event_subs);
        c->n_event_subs = 0;
    }
    if (k->c->status)
        return;
    for (int i = 1; i < b->n_nodes; i++) {
        if (node(k, i)->el.type != BPMN_EVENT_SUB_PROCESS || node(k, i)->unsupported)
            continue;
        bpmn_element *s = &node(k, node(k, i)->el.scope)->el;
        ((int *)s->event_subs)[s->n_event_subs++] = i;
    }
}

/* Resolves attachedToRef of every boundary event and lays out the activities'
 * boundary arrays. */
static void boundaries_resolve(checker *k) {
    bpmn_build *b = k->b;
    for (int i = 1; i < b->n_nodes; i++) {
        bpmn_node *n = node(k, i);
        if (n->el.type != BPMN_BOUNDARY_EVENT || n->unsupported)
            continue;
        if (!n->attached_ref || !n->attached_ref[0]) {
            bpmn_ctx_report(k->c, n->el.id, n->el.line, 0, "a boundary event needs attachedToRef");
            continue;
        }
        int a = find(k, n->attached_ref);
        if (a < 0 || !bpmn_is_activity(node(k, a)->el.type)) {
            bpmn_ctx_report(k->c, n->el.id, n->el.line, 0,
                            "attachedToRef '%s' does not name an activity", n->attached_ref);
            continue;
        }
        if (node(k, a)->el.scope != n->el.scope) {
            bpmn_ctx_report(k->c, n->el.id, n->el.line, 0,
                            "attachedToRef '%s' names an activity of another scope",
                            n->attached_ref);
            continue;
        }
        n->el.attached_to = a;
        node(k, a)->el.n_boundaries++;
    }
    for (int i = 0; i < b->n_nodes && !k->c->status; i++)
        node(k, i)->el.boundaries = arena_ints(k, node(k, i)->el.n_boundaries);
    if (k->c->status)
        return;
    for (int i = 0; i < b->n_nodes; i++)
        node(k, i)->el.n_boundaries = 0;
    for (int i = 1; i < b->n_nodes; i++) {
        int a = node(k, i)->el.attached_to;
        if (a >= 0) {
            bpmn_element *act = &node(k, a)->el;
            ((int *)act->boundaries)[act->n_boundaries++] = i;
        }
    }
}

/* ---- 4. per-type rules ----------------------------------------------------------- */

/* Resolves n->event_ref; the definition or NULL (reported). */
static const bpmn_event_def *error_resolve(checker *k, bpmn_node *n) {
    bool escalation = n->el.event == BPMN_EVENT_ESCALATION;
    const bpmn_event_def *d = bpmn_ctx_find_event_def(k->c, n->event_ref);
    if (!d || d->kind != n->el.event) {
        bpmn_ctx_report(k->c, n->el.id, n->el.line, 0,
                        "%s '%s' does not name an <%s> of the definitions",
                        escalation ? "escalationRef" : "errorRef", n->event_ref ? n->event_ref : "",
                        escalation ? "escalation" : "error");
        return NULL;
    }
    return d;
}

/* A throwing error or escalation event: its reference must resolve to a
 * definition with a code, which becomes el.error_code. */
static void check_code_throw(checker *k, bpmn_node *n) {
    bpmn_element *el = &n->el;
    bool escalation = el->event == BPMN_EVENT_ESCALATION;
    if (!n->has_event_ref) {
        bpmn_ctx_report(
            k->c, el->id, el->line, 0, "an %s %s event needs an %s to an <%s> with an %s",
            escalation ? "escalation" : "error", el->type == BPMN_END_EVENT ? "end" : "throw",
            escalation ? "escalationRef" : "errorRef", escalation ? "escalation" : "error",
            escalation ? "escalationCode" : "errorCode");
        return;
    }
    const bpmn_event_def *d = error_resolve(k, n);
    if (d && (!d->code || !d->code[0]))
        bpmn_ctx_report(k->c, el->id, el->line, 0, "%s '%s' has no %s to throw",
                        escalation ? "escalation" : "error", d->id,
                        escalation ? "escalationCode" : "errorCode");
    else if (d)
        el->error_code = d->code;
}

/* Whether the element waits for a message: a message start, intermediate
 * catch or boundary event, or a receive task. */
static bool catches_message(const bpmn_element *el) {
    return el->type == BPMN_RECEIVE_TASK ||
           (el->event == BPMN_EVENT_MESSAGE &&
            (el->type == BPMN_START_EVENT || el->type == BPMN_INTERMEDIATE_CATCH_EVENT ||
             el->type == BPMN_BOUNDARY_EVENT));
}

/* A message catch: its messageRef names a <message> with a name, which
 * becomes el.message_name, and (but on a start event, where the published
 * message's key controls the instances) a correlation key. */
static void check_message_catch(checker *k, bpmn_node *n) {
    bpmn_element *el = &n->el;
    if (!n->has_event_ref) {
        bpmn_ctx_report(k->c, el->id, el->line, 0,
                        "a message catch needs a messageRef to a <message> with a name");
        return;
    }
    const bpmn_event_def *d = bpmn_ctx_find_event_def(k->c, n->event_ref);
    if (!d || d->kind != BPMN_EVENT_MESSAGE) {
        bpmn_ctx_report(k->c, el->id, el->line, 0,
                        "messageRef '%s' does not name a <message> of the definitions",
                        n->event_ref ? n->event_ref : "");
        return;
    }
    if (!d->name.text || !d->name.text[0]) {
        bpmn_ctx_report(k->c, el->id, el->line, 0, "message '%s' has no name", d->id);
        return;
    }
    bool start = el->type == BPMN_START_EVENT;
    if (start && d->name.feel)
        bpmn_ctx_report(k->c, el->id, el->line, 0,
                        "the message name of a start event must be a literal, not an expression "
                        "('%s' of message '%s')",
                        d->name.text, d->id);
    if (!start && (!d->correlation_key.text || !d->correlation_key.text[0]))
        bpmn_ctx_report(k->c, el->id, el->line, 0,
                        "message '%s' needs a correlation key to be caught here: "
                        "<zeebe:subscription correlationKey=\"=...\"/>",
                        d->id);
    el->message_name = d->name;
    el->correlation_key = d->correlation_key;
}

/* Two catches of the same literal message name that wait at once (the
 * message start events of a process, the message boundary events of one
 * activity) could not tell which one a message is for. */
static void check_message_unique(checker *k, const bpmn_element *el, const int *others, int n,
                                 const char *where) {
    if (!el->message_name.text || el->message_name.feel)
        return;
    for (int j = 0; j < n && others[j] != el->index; j++) {
        const bpmn_element *o = &node(k, others[j])->el;
        if (o->type == el->type && o->event == BPMN_EVENT_MESSAGE && o->message_name.text &&
            !o->message_name.feel && strcmp(o->message_name.text, el->message_name.text) == 0) {
            bpmn_ctx_report(k->c, el->id, el->line, 0,
                            "%s has a second message %s event for message name '%s' ('%s')", where,
                            el->type == BPMN_START_EVENT ? "start" : "boundary",
                            el->message_name.text, o->id);
            return;
        }
    }
}

/* A signal event, catching or throwing: its signalRef names a <signal> with
 * a name, which becomes el.signal_name. A start event's name must be a
 * literal: a broadcast starts the instance before any variable exists. */
static void check_signal(checker *k, bpmn_node *n) {
    bpmn_element *el = &n->el;
    if (!n->has_event_ref) {
        bpmn_ctx_report(k->c, el->id, el->line, 0,
                        "a signal event needs a signalRef to a <signal> with a name");
        return;
    }
    const bpmn_event_def *d = bpmn_ctx_find_event_def(k->c, n->event_ref);
    if (!d || d->kind != BPMN_EVENT_SIGNAL) {
        bpmn_ctx_report(k->c, el->id, el->line, 0,
                        "signalRef '%s' does not name a <signal> of the definitions",
                        n->event_ref ? n->event_ref : "");
        return;
    }
    if (!d->name.text || !d->name.text[0]) {
        bpmn_ctx_report(k->c, el->id, el->line, 0, "signal '%s' has no name", d->id);
        return;
    }
    if (el->type == BPMN_START_EVENT && d->name.feel)
        bpmn_ctx_report(k->c, el->id, el->line, 0,
                        "the signal name of a start event must be a literal, not an expression "
                        "('%s' of signal '%s')",
                        d->name.text, d->id);
    el->signal_name = d->name;
}

/* Two signal catches of one literal name that wait at once (the signal
 * start events of a process, the signal boundary events of one activity):
 * Zeebe asks for unique names. */
static void check_signal_unique(checker *k, const bpmn_element *el, const int *others, int n,
                                const char *where) {
    if (!el->signal_name.text || el->signal_name.feel)
        return;
    for (int j = 0; j < n && others[j] != el->index; j++) {
        const bpmn_element *o = &node(k, others[j])->el;
        if (o->type == el->type && o->event == BPMN_EVENT_SIGNAL && o->signal_name.text &&
            !o->signal_name.feel && strcmp(o->signal_name.text, el->signal_name.text) == 0) {
            bpmn_ctx_report(k->c, el->id, el->line, 0,
                            "%s has a second signal %s event for signal name '%s' ('%s')", where,
                            el->type == BPMN_START_EVENT ? "start" : "boundary",
                            el->signal_name.text, o->id);
            return;
        }
    }
}

static void check_boundary(checker *k, bpmn_node *n) {
    bpmn_element *el = &n->el;
    if (el->n_incoming > 0)
        bpmn_ctx_report(k->c, el->id, el->line, 0,
                        "a boundary event cannot have incoming sequence flows");
    if (el->event == BPMN_EVENT_ERROR || el->event == BPMN_EVENT_ESCALATION) {
        if (n->has_event_ref) {
            const bpmn_event_def *d = error_resolve(k, n);
            if (d && d->code && d->code[0])
                el->error_code = d->code;
        }
    }
    if (el->event == BPMN_EVENT_ERROR) {
        if (!el->cancel_activity)
            bpmn_ctx_report(k->c, el->id, el->line, 0,
                            "an error boundary event is always interrupting "
                            "(cancelActivity=\"false\" is not allowed)");
    } else if (el->event == BPMN_EVENT_COMPENSATION && el->n_outgoing > 0) {
        bpmn_ctx_report(k->c, el->id, el->line, 0,
                        "a compensation boundary event cannot have outgoing sequence flows "
                        "(it is associated with its handler)");
    }
    if (el->attached_to < 0)
        return;
    /* Two boundary events of the same kind that would both catch. */
    const bpmn_element *act = &node(k, el->attached_to)->el;
    if (el->event == BPMN_EVENT_MESSAGE) {
        char where[160];
        snprintf(where, sizeof where, "activity '%s'", act->id);
        check_message_unique(k, el, act->boundaries, act->n_boundaries, where);
    }
    if (el->event == BPMN_EVENT_SIGNAL) {
        char where[160];
        snprintf(where, sizeof where, "activity '%s'", act->id);
        check_signal_unique(k, el, act->boundaries, act->n_boundaries, where);
    }
    for (int j = 0; j < act->n_boundaries && act->boundaries[j] != el->index; j++) {
        const bpmn_element *o = &node(k, act->boundaries[j])->el;
        if (o->event != el->event)
            continue;
        if (el->event == BPMN_EVENT_COMPENSATION)
            bpmn_ctx_report(k->c, el->id, el->line, 0,
                            "activity '%s' has a second compensation boundary event", act->id);
        else if ((el->event == BPMN_EVENT_ERROR || el->event == BPMN_EVENT_ESCALATION) &&
                 (o->error_code == el->error_code ||
                  (o->error_code && el->error_code && strcmp(o->error_code, el->error_code) == 0)))
            bpmn_ctx_report(
                k->c, el->id, el->line, 0, "activity '%s' has a second %s boundary event for %s%s",
                act->id, el->event == BPMN_EVENT_ERROR ? "error" : "escalation",
                el->error_code ? "code " : "every code", el->error_code ? el->error_code : "");
    }
}

static void check_gateway(checker *k, bpmn_node *n) {
    bpmn_element *el = &n->el;
    const bpmn_build_flow *flows = k->b->flows;
    if (el->n_outgoing == 0) {
        bpmn_ctx_report(k->c, el->id, el->line, 0,
                        "a gateway needs at least one outgoing sequence flow");
        return;
    }
    if (el->type == BPMN_PARALLEL_GATEWAY) {
        for (int j = 0; j < el->n_outgoing; j++) {
            const bpmn_flow *f = &flows[el->outgoing[j]].fl;
            if (f->condition_text)
                bpmn_ctx_report(k->c, f->id, f->line, 0,
                                "a conditional sequence flow out of a parallel gateway is not "
                                "supported (parallel gateway '%s')",
                                el->id);
        }
        return;
    }
    /* Exclusive and inclusive gateways. */
    if (n->default_ref) {
        for (int j = 0; j < el->n_outgoing; j++)
            if (strcmp(flows[el->outgoing[j]].fl.id, n->default_ref) == 0)
                el->default_flow = el->outgoing[j];
        if (el->default_flow < 0) {
            bpmn_ctx_report(k->c, el->id, el->line, 0,
                            "the default flow '%s' is not an outgoing sequence flow of the "
                            "gateway",
                            n->default_ref);
        } else if (flows[el->default_flow].fl.condition_text) {
            bpmn_ctx_report(k->c, el->id, el->line, 0,
                            "the default flow '%s' must not have a condition", n->default_ref);
        }
    }
    if (el->n_outgoing > 1) {
        for (int j = 0; j < el->n_outgoing; j++) {
            const bpmn_flow *f = &flows[el->outgoing[j]].fl;
            if (!f->condition_text && f->index != el->default_flow)
                bpmn_ctx_report(k->c, f->id, f->line, 0,
                                "a sequence flow out of %s gateway '%s' needs a condition "
                                "or must be the gateway's default flow",
                                el->type == BPMN_INCLUSIVE_GATEWAY ? "inclusive" : "exclusive",
                                el->id);
        }
    }
}

/* An event-based gateway waits for the first of the events it leads to:
 * each outgoing flow goes to an intermediate timer, message or signal catch
 * event that only this gateway leads to. */
static void check_event_gateway(checker *k, bpmn_node *n) {
    bpmn_element *el = &n->el;
    if (el->n_outgoing < 2)
        bpmn_ctx_report(k->c, el->id, el->line, 0,
                        "an event-based gateway needs at least two outgoing sequence flows");
    for (int j = 0; j < el->n_outgoing; j++) {
        const bpmn_flow *f = &k->b->flows[el->outgoing[j]].fl;
        if (f->target < 0)
            continue; /* a dangling flow, reported already */
        const bpmn_element *t = &node(k, f->target)->el;
        if (t->type != BPMN_INTERMEDIATE_CATCH_EVENT ||
            (t->event != BPMN_EVENT_TIMER && t->event != BPMN_EVENT_MESSAGE &&
             t->event != BPMN_EVENT_SIGNAL))
            bpmn_ctx_report(k->c, f->id, f->line, 0,
                            "a flow out of event-based gateway '%s' must lead to an "
                            "intermediate timer, message or signal catch event",
                            el->id);
        else if (t->n_incoming != 1)
            bpmn_ctx_report(k->c, t->id, t->line, 0,
                            "an event after event-based gateway '%s' cannot have other incoming "
                            "sequence flows",
                            el->id);
    }
}

static void check_compensation_throw(checker *k, bpmn_node *n) {
    bpmn_element *el = &n->el;
    if (!n->activity_ref)
        return; /* every completed activity of the scope */
    int a = find(k, n->activity_ref);
    /* Inside an event sub-process, the parent scope's activities. */
    int scope = el->scope;
    if (node(k, scope)->el.type == BPMN_EVENT_SUB_PROCESS)
        scope = node(k, scope)->el.scope;
    if (a < 0 || !bpmn_is_activity(node(k, a)->el.type) || node(k, a)->el.scope != scope) {
        bpmn_ctx_report(k->c, el->id, el->line, 0,
                        "activityRef '%s' does not name an activity of the same scope",
                        n->activity_ref);
        return;
    }
    el->compensate_activity = a;
}

/* A link throw jumps to the one link catch event of its name in its scope. */
static void check_link(checker *k, bpmn_node *n) {
    bpmn_element *el = &n->el;
    if (el->event != BPMN_EVENT_LINK || !el->link_name)
        return;
    if (el->type == BPMN_INTERMEDIATE_CATCH_EVENT) {
        if (el->n_incoming > 0)
            bpmn_ctx_report(k->c, el->id, el->line, 0,
                            "a link catch event cannot have incoming sequence flows");
        return;
    }
    int target = -1, found = 0;
    for (int i = 1; i < k->b->n_nodes; i++) {
        const bpmn_element *c = &node(k, i)->el;
        if (c->type == BPMN_INTERMEDIATE_CATCH_EVENT && c->event == BPMN_EVENT_LINK &&
            c->scope == el->scope && c->link_name && !strcmp(c->link_name, el->link_name)) {
            target = i;
            found++;
        }
    }
    if (found != 1)
        bpmn_ctx_report(k->c, el->id, el->line, 0,
                        found ? "link '%s': several link catch events of that name in the scope"
                              : "link '%s': no link catch event of that name in the scope",
                        el->link_name);
    else
        el->link_target = target;
    if (el->n_outgoing > 0)
        bpmn_ctx_report(k->c, el->id, el->line, 0,
                        "a link throw event cannot have outgoing sequence flows");
}

/* A signal start event of the process (signal start events are found
 * among the process's children). */
static bool is_signal_start(const bpmn_node *n) {
    return n->el.type == BPMN_START_EVENT && n->el.event == BPMN_EVENT_SIGNAL && !n->unsupported;
}

/* The process's start events of one kind (message, timer), in document order. */
static int *process_starts(checker *k, bpmn_event_kind kind, int *count) {
    bpmn_build *b = k->b;
    int n = 0;
    for (int i = 1; i < b->n_nodes; i++) {
        const bpmn_node *c = node(k, i);
        n += c->el.scope == 0 && c->el.type == BPMN_START_EVENT && c->el.event == kind &&
             !c->unsupported;
    }
    *count = 0;
    int *starts = arena_ints(k, n);
    for (int i = 1; starts && i < b->n_nodes; i++) {
        const bpmn_node *c = node(k, i);
        if (c->el.scope == 0 && c->el.type == BPMN_START_EVENT && c->el.event == kind &&
            !c->unsupported)
            starts[(*count)++] = i;
    }
    return starts;
}

static void starts_layout(checker *k) {
    bpmn_element *proc = &node(k, 0)->el;
    proc->message_starts = process_starts(k, BPMN_EVENT_MESSAGE, &proc->n_message_starts);
    proc->timer_starts = process_starts(k, BPMN_EVENT_TIMER, &proc->n_timer_starts);
}

/* The start event of an event sub-process: the only one, with an event
 * definition; an error start event interrupts; error and escalation codes
 * resolve like a boundary event's. */
static void check_event_sub_start(checker *k, bpmn_node *n, bpmn_element *scope) {
    bpmn_element *el = &n->el;
    if (n->unsupported)
        return;
    if (el->event == BPMN_EVENT_NONE) {
        bpmn_ctx_report(k->c, el->id, el->line, 0,
                        "the start event of event sub-process '%s' needs an event definition "
                        "(timer, message, signal, error or escalation)",
                        scope->id);
        return;
    }
    if (scope->start_event >= 0) {
        bpmn_ctx_report(k->c, el->id, el->line, 0,
                        "a second start event in event sub-process '%s' (exactly one is allowed)",
                        scope->id);
        return;
    }
    scope->start_event = el->index;
    if (el->event == BPMN_EVENT_ERROR && !el->cancel_activity)
        bpmn_ctx_report(k->c, el->id, el->line, 0,
                        "an error start event always interrupts (isInterrupting=\"false\" is not "
                        "allowed)");
    if ((el->event == BPMN_EVENT_ERROR || el->event == BPMN_EVENT_ESCALATION) && n->has_event_ref) {
        const bpmn_event_def *d = error_resolve(k, n);
        if (d && d->code && d->code[0])
            el->error_code = d->code;
    }
}

/* An event sub-process starts by its event only: no sequence flows, no
 * boundary events, no loop. */
static void check_event_sub(checker *k, bpmn_node *n) {
    bpmn_element *el = &n->el;
    if (el->n_incoming > 0 || el->n_outgoing > 0)
        bpmn_ctx_report(k->c, el->id, el->line, 0,
                        "an event sub-process cannot have sequence flows (its start event "
                        "starts it)");
    if (el->n_boundaries > 0)
        bpmn_ctx_report(k->c, el->id, el->line, 0,
                        "an event sub-process cannot have boundary events");
    if (el->loop)
        bpmn_ctx_report(k->c, el->id, el->line, 0,
                        "an event sub-process cannot be a multi-instance activity");
}

static void check_elements(checker *k) {
    bpmn_build *b = k->b;
    starts_layout(k);
    if (k->c->status)
        return;
    for (int i = 1; i < b->n_nodes; i++) {
        bpmn_node *n = node(k, i);
        bpmn_element *el = &n->el;
        bpmn_element *scope = &node(k, el->scope)->el;
        if (el->type == BPMN_START_EVENT && scope->type == BPMN_EVENT_SUB_PROCESS) {
            check_event_sub_start(k, n, scope);
        } else if (el->type == BPMN_START_EVENT && el->event != BPMN_EVENT_NONE) {
            bool process_level = el->event == BPMN_EVENT_MESSAGE || el->event == BPMN_EVENT_TIMER ||
                                 el->event == BPMN_EVENT_SIGNAL;
            if (!process_level || el->scope != 0)
                bpmn_ctx_report(k->c, el->id, el->line, 0,
                                "a %s start event is only allowed %s, not in %s '%s'",
                                el->event == BPMN_EVENT_MESSAGE  ? "message"
                                : el->event == BPMN_EVENT_TIMER  ? "timer"
                                : el->event == BPMN_EVENT_SIGNAL ? "signal"
                                : el->event == BPMN_EVENT_ERROR  ? "error"
                                                                 : "escalation",
                                process_level ? "at process level or in an event sub-process"
                                              : "in an event sub-process",
                                container_word(k, el->scope), scope->id);
        } else if (el->type == BPMN_START_EVENT) {
            if (!n->unsupported && scope->start_event < 0)
                scope->start_event = i;
            else if (!n->unsupported)
                bpmn_ctx_report(k->c, el->id, el->line, 0,
                                "a second none start event in %s '%s' (exactly one is allowed)",
                                container_word(k, el->scope), scope->id);
        }
        if (n->unsupported)
            continue;
        if (catches_message(el))
            check_message_catch(k, n);
        if (el->event == BPMN_EVENT_SIGNAL)
            check_signal(k, n);
        if (!(el->type == BPMN_EXCLUSIVE_GATEWAY || el->type == BPMN_PARALLEL_GATEWAY ||
              el->type == BPMN_INCLUSIVE_GATEWAY)) {
            for (int j = 0; j < el->n_outgoing; j++) {
                const bpmn_flow *f = &b->flows[el->outgoing[j]].fl;
                if (f->condition_text)
                    bpmn_ctx_report(k->c, f->id, f->line, 0,
                                    "a conditional sequence flow out of a '%s' is not supported "
                                    "(only out of an exclusive gateway)",
                                    n->xml_name);
            }
        }
        switch (el->type) {
        case BPMN_START_EVENT:
            if (el->n_incoming > 0)
                bpmn_ctx_report(k->c, el->id, el->line, 0,
                                "a start event cannot have incoming sequence flows");
            break;
        case BPMN_END_EVENT:
            if (el->n_outgoing > 0)
                bpmn_ctx_report(k->c, el->id, el->line, 0,
                                "an end event cannot have outgoing sequence flows");
            if (el->event == BPMN_EVENT_ERROR || el->event == BPMN_EVENT_ESCALATION)
                check_code_throw(k, n);
            if (el->event == BPMN_EVENT_COMPENSATION)
                check_compensation_throw(k, n);
            break;
        case BPMN_INTERMEDIATE_THROW_EVENT:
            if (el->event == BPMN_EVENT_COMPENSATION)
                check_compensation_throw(k, n);
            if (el->event == BPMN_EVENT_ESCALATION)
                check_code_throw(k, n);
            check_link(k, n);
            break;
        case BPMN_INTERMEDIATE_CATCH_EVENT: check_link(k, n); break;
        case BPMN_BOUNDARY_EVENT: check_boundary(k, n); break;
        case BPMN_EVENT_SUB_PROCESS: check_event_sub(k, n); break;
        case BPMN_EVENT_BASED_GATEWAY: check_event_gateway(k, n); break;
        case BPMN_EXCLUSIVE_GATEWAY:
        case BPMN_INCLUSIVE_GATEWAY:
        case BPMN_PARALLEL_GATEWAY: check_gateway(k, n); break;
        default: break;
        }
        if (el->is_for_compensation && (el->n_incoming > 0 || el->n_outgoing > 0))
            bpmn_ctx_report(k->c, el->id, el->line, 0,
                            "a compensation handler (isForCompensation=\"true\") cannot have "
                            "sequence flows");
    }
    const bpmn_element *proc = &node(k, 0)->el;
    for (int j = 0; j < proc->n_message_starts; j++)
        check_message_unique(k, &node(k, proc->message_starts[j])->el, proc->message_starts,
                             proc->n_message_starts, "the process");
    bool signal_started = false; /* the process has signal start events */
    for (int j = 0; j < proc->n_children; j++) {
        const bpmn_element *c = &node(k, proc->children[j])->el;
        if (is_signal_start(node(k, proc->children[j]))) {
            signal_started = true;
            check_signal_unique(k, c, proc->children, proc->n_children, "the process");
        }
    }
    /* Every container needs its none start event. Containers whose only start
     * events are unsupported ones were reported already. */
    for (int i = 0; i < b->n_nodes; i++) {
        bpmn_node *n = node(k, i);
        if (n->unsupported || !bpmn_type_is_container(n->el.type) || n->el.start_event >= 0)
            continue;
        bool any_start = false;
        for (int j = 0; j < n->el.n_children; j++)
            if (node(k, n->el.children[j])->el.type == BPMN_START_EVENT)
                any_start = true;
        if (i == 0 && (n->el.n_message_starts > 0 || n->el.n_timer_starts > 0 || signal_started))
            continue; /* a process started by messages, timers or signals only */
        if (n->el.type == BPMN_EVENT_SUB_PROCESS) {
            if (!any_start)
                bpmn_ctx_report(k->c, n->el.id, n->el.line, 0,
                                "an event sub-process needs a start event with an event "
                                "definition");
        } else if (!any_start)
            bpmn_ctx_report(k->c, n->el.id, n->el.line, 0, "a %s needs a none start event",
                            container_word(k, i));
    }
}

/* ---- 5. compensation ------------------------------------------------------------- */

static bool is_compensation_boundary(const bpmn_node *n) {
    return n->el.type == BPMN_BOUNDARY_EVENT && n->el.event == BPMN_EVENT_COMPENSATION &&
           !n->unsupported;
}

static void compensation_link(checker *k) {
    bpmn_build *b = k->b;
    for (int i = 0; i < b->n_nodes; i++)
        k->handler_of[i] = -1;
    for (int j = 0; j < b->n_assocs; j++) {
        const bpmn_build_assoc *a = &b->assocs[j];
        int s = find(k, a->source_ref);
        if (s < 0 || !is_compensation_boundary(node(k, s)))
            continue; /* an annotation's association: documentation */
        bpmn_node *boundary = node(k, s);
        int t = find(k, a->target_ref);
        const char *aid = a->id ? a->id : boundary->el.id;
        if (k->handler_of[s] == -1)
            k->handler_of[s] = -2; /* an association was drawn: reported here if broken */
        if (t < 0 || !bpmn_is_activity(node(k, t)->el.type) ||
            !node(k, t)->el.is_for_compensation) {
            bpmn_ctx_report(k->c, aid, a->line, 0,
                            "the association from compensation boundary event '%s' must lead to "
                            "an activity with isForCompensation=\"true\" ('%s' is not one)",
                            boundary->el.id, a->target_ref ? a->target_ref : "");
            continue;
        }
        if (node(k, t)->el.scope != boundary->el.scope) {
            bpmn_ctx_report(k->c, aid, a->line, 0,
                            "compensation handler '%s' must be in the scope of boundary event "
                            "'%s'",
                            node(k, t)->el.id, boundary->el.id);
            continue;
        }
        if (k->handler_of[s] >= 0) {
            bpmn_ctx_report(k->c, aid, a->line, 0,
                            "compensation boundary event '%s' already has a handler ('%s')",
                            boundary->el.id, node(k, k->handler_of[s])->el.id);
            continue;
        }
        k->handler_of[s] = t;
        k->associated[t] = true;
        if (boundary->el.attached_to >= 0)
            node(k, boundary->el.attached_to)->el.compensation_handler = t;
    }
    for (int i = 1; i < b->n_nodes; i++) {
        bpmn_node *n = node(k, i);
        if (is_compensation_boundary(n) && k->handler_of[i] == -1)
            bpmn_ctx_report(k->c, n->el.id, n->el.line, 0,
                            "a compensation boundary event needs an association to its handler "
                            "(an activity with isForCompensation=\"true\")");
        if (n->el.is_for_compensation && !n->unsupported && !k->associated[i])
            bpmn_ctx_report(k->c, n->el.id, n->el.line, 0,
                            "compensation handler is not associated with a compensation boundary "
                            "event");
    }
}

/* ---- 6. reachability --------------------------------------------------------------- */

static void reach(checker *k, int i, int *tail) {
    if (i < 0 || k->reached[i])
        return;
    k->reached[i] = true;
    k->queue[(*tail)++] = i;
}

static void check_reachable(checker *k) {
    bpmn_build *b = k->b;
    int head = 0, tail = 0;
    k->reached[0] = true;
    reach(k, node(k, 0)->el.start_event, &tail);
    for (int j = 0; j < node(k, 0)->el.n_message_starts; j++)
        reach(k, node(k, 0)->el.message_starts[j], &tail);
    for (int j = 0; j < node(k, 0)->el.n_timer_starts; j++)
        reach(k, node(k, 0)->el.timer_starts[j], &tail);
    for (int j = 0; j < node(k, 0)->el.n_event_subs; j++)
        reach(k, node(k, 0)->el.event_subs[j], &tail);
    for (int j = 0; j < node(k, 0)->el.n_children; j++)
        if (is_signal_start(node(k, node(k, 0)->el.children[j])))
            reach(k, node(k, 0)->el.children[j], &tail);
    while (head < tail) {
        const bpmn_element *el = &node(k, k->queue[head++])->el;
        for (int j = 0; j < el->n_outgoing; j++)
            reach(k, b->flows[el->outgoing[j]].fl.target, &tail);
        for (int j = 0; j < el->n_boundaries; j++)
            reach(k, el->boundaries[j], &tail);
        if (el->link_target >= 0)
            reach(k, el->link_target, &tail);
        if (bpmn_type_is_container(el->type))
            reach(k, el->start_event, &tail);
        for (int j = 0; j < el->n_event_subs; j++)
            reach(k, el->event_subs[j], &tail);
    }
    for (int i = 1; i < b->n_nodes; i++) {
        const bpmn_node *n = node(k, i);
        const bpmn_element *scope = &node(k, n->el.scope)->el;
        if (k->reached[i] || n->unsupported || n->el.is_for_compensation ||
            !k->reached[n->el.scope] || scope->start_event < 0)
            continue;
        if (n->el.type == BPMN_START_EVENT)
            continue; /* a start event is where a walk begins (a second one was reported) */
        if (n->el.type == BPMN_BOUNDARY_EVENT && n->el.attached_to < 0)
            continue; /* its attachedToRef was reported */
        bpmn_ctx_report(k->c, n->el.id, n->el.line, 0,
                        "element is not reachable from the start event of its %s",
                        container_word(k, n->el.scope));
    }
}

/* ---- layout ------------------------------------------------------------------------ */

static void layout(checker *k, bpmn_process *out) {
    bpmn_build *b = k->b;
    out->id = b->id;
    out->name = b->name;
    out->version_tag = b->version_tag;
    out->n_elements = b->n_nodes;
    out->n_flows = b->n_flows;
    out->elements = bpmn_arena_alloc(k->c->arena, (size_t)b->n_nodes * sizeof *out->elements);
    out->flows = bpmn_arena_alloc(k->c->arena, (size_t)b->n_flows * sizeof *out->flows);
    int *by_id = arena_ints(k, b->n_nodes);
    if (!out->elements || !out->flows || !by_id) {
        bpmn_ctx_nomem(k->c);
        return;
    }
    for (int i = 0; i < b->n_nodes; i++) {
        out->elements[i] = b->nodes[i].el;
        by_id[i] = k->ids[i].index;
    }
    for (int f = 0; f < b->n_flows; f++)
        out->flows[f] = b->flows[f].fl;
    out->by_id = by_id;
}

int bpmn_validate(bpmn_ctx *c, bpmn_build *b, bpmn_process *out) {
    memset(out, 0, sizeof *out);
    if (c->status)
        return c->status;
    if (b->n_nodes == 0)
        return 0;
    size_t n = (size_t)b->n_nodes;
    checker k = {.c = c, .b = b};
    k.ids = bt_malloc(n * sizeof *k.ids);
    k.handler_of = bt_malloc(n * sizeof *k.handler_of);
    k.associated = bt_calloc(n, sizeof *k.associated);
    k.reached = bt_calloc(n, sizeof *k.reached);
    k.queue = bt_malloc(n * sizeof *k.queue);
    if (!k.ids || !k.handler_of || !k.associated || !k.reached || !k.queue) {
        bpmn_ctx_nomem(c);
        goto done;
    }
    for (int i = 0; i < b->n_nodes; i++)
        k.ids[i] = (id_index){b->nodes[i].el.id, i};
    qsort(k.ids, n, sizeof *k.ids, id_index_cmp);

    flows_resolve(&k);
    if (!c->status)
        children_layout(&k);
    if (!c->status)
        boundaries_resolve(&k);
    if (!c->status) {
        check_elements(&k);
        compensation_link(&k);
        check_reachable(&k);
        layout(&k, out);
    }
done:
    bt_free(k.ids);
    bt_free(k.handler_of);
    bt_free(k.associated);
    bt_free(k.reached);
    bt_free(k.queue);
    return c->status;
}
