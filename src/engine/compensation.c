/*
 * compensation.c — undoing completed work: BPMN compensation, the saga's
 * backbone.
 *
 * When an activity that has a compensation handler (a compensation boundary
 * event associated with an isForCompensation activity) completes, its flow
 * scope remembers it: an eng_compensable record with a completion sequence
 * number. A completed embedded sub-process leaves one record whose group
 * holds the records of its own completed children; a terminated scope takes
 * its records with it (what was interrupted is not compensated by the outer
 * scope — a saga inside a sub-process compensates from inside, e.g. from an
 * error boundary event within it). An activity completed twice (a loop)
 * leaves two records and is compensated twice, and so does a multi-instance
 * activity with two completed inner instances (multi.c). Active and
 * terminated activities leave none.
 *
 * A compensation throw event (intermediate or end) compensates the records
 * of its own flow scope — all of them, or those of the one activity it names
 * (activityRef). The records are expanded into an ordered list of handlers:
 * reverse order of completion, a sub-process record expanding to its
 * children's handlers, again in reverse. By default the handlers run one at
 * a time in that order (the last booking is undone first, as a saga needs
 * and as BPMN 2.0 §10.5.6 describes); with eng_config.compensation_all_at_once
 * they are all activated together, as Zeebe does. Handlers run as element
 * instances in the throw event's flow scope, so they see its variables. The
 * throw event completes when the last handler has completed (baton always
 * waits for completion). Compensated records are consumed: compensating the
 * same scope again does not undo the same work twice.
 */
#include "engine/eng_int.h"

#include <stdlib.h>
#include <string.h>

void eng_compensable_free(eng_compensable *c, int n) {
    for (int i = 0; i < n; i++)
        eng_compensable_free(c[i].group, c[i].n_group);
    bt_free(c);
}

static void compensable_push(eng_elem *scope, eng_compensable rec) {
    scope->compensable =
        bt_xrealloc(scope->compensable, (size_t)(scope->n_compensable + 1) * sizeof rec);
    scope->compensable[scope->n_compensable++] = rec;
}

void eng_compensation_note_completed(eng_engine *e, eng_elem *el) {
    const bpmn_element *m = eng_elem_model(el);
    if (!el->scope || m->is_for_compensation)
        return;
    if (el->multi) {
        /* A multi-instance body: each completed inner instance left a record
         * here; they move to the body's scope, so the activity is compensated
         * once per completed inner instance (as Zeebe does). */
        for (int i = 0; i < el->n_compensable; i++)
            compensable_push(el->scope, el->compensable[i]);
        bt_free(el->compensable);
        el->compensable = NULL;
        el->n_compensable = 0;
        eng_instance_touch(e, el->inst);
        return;
    }
    eng_compensable rec = {.element = el->element, .seq = ++el->inst->compensation_seq};
    if (m->compensation_handler >= 0) {
        /* The activity's own handler undoes it (and whatever ran inside it). */
        compensable_push(el->scope, rec);
    } else if (m->type == BPMN_SUB_PROCESS && el->n_compensable > 0) {
        rec.group = el->compensable;
        rec.n_group = el->n_compensable;
        el->compensable = NULL;
        el->n_compensable = 0;
        compensable_push(el->scope, rec);
    }
    eng_instance_touch(e, el->inst);
}

typedef struct handler_list {
    int *items;
    int n, cap;
} handler_list;

static void handlers_add(handler_list *l, int handler) {
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 8;
        l->items = bt_xrealloc(l->items, (size_t)l->cap * sizeof *l->items);
    }
    l->items[l->n++] = handler;
}

/* Appends the handlers of records[0..n) in reverse order of completion.
 * Records are stored in completion order, so walking backwards suffices. */
static void expand(const bpmn_process *p, const eng_compensable *recs, int n, handler_list *out) {
    for (int i = n - 1; i >= 0; i--) {
        const bpmn_element *m = &p->elements[recs[i].element];
        if (m->compensation_handler >= 0)
            handlers_add(out, m->compensation_handler);
        else
            expand(p, recs[i].group, recs[i].n_group, out);
    }
}

/* The scope whose completed activities a throw event compensates: its own,
 * or, inside an event sub-process, the event sub-process's parent scope. */
static eng_elem *compensation_scope(eng_elem *thrower) {
    eng_elem *scope = thrower->scope;
    if (scope && eng_elem_model(scope)->type == BPMN_EVENT_SUB_PROCESS)
        scope = scope->scope;
    return scope;
}

static void handler_activate(eng_engine *e, eng_elem *thrower, int handler) {
    eng_elem *h = eng_elem_activate(e, compensation_scope(thrower), handler);
    h->compensating_for = thrower;
}

bool eng_compensation_start(eng_engine *e, eng_elem *thrower) {
    eng_elem *scope = compensation_scope(thrower);
    if (!scope || scope->n_compensable == 0)
        return false;
    const bpmn_element *m = eng_elem_model(thrower);
    const bpmn_process *p = eng_instance_process(thrower->inst);
    int target = m->compensate_activity;

    /* Split the scope's records into those compensated now and the rest. */
    eng_compensable *now = bt_xcalloc((size_t)scope->n_compensable, sizeof *now);
    int n_now = 0, n_keep = 0;
    for (int i = 0; i < scope->n_compensable; i++) {
        if (target < 0 || scope->compensable[i].element == target)
            now[n_now++] = scope->compensable[i];
        else
            scope->compensable[n_keep++] = scope->compensable[i];
    }
    scope->n_compensable = n_keep;
    handler_list list = {0};
    expand(p, now, n_now, &list);
    eng_compensable_free(now, n_now);
    eng_instance_touch(e, thrower->inst);
    if (list.n == 0) {
        bt_free(list.items);
        return false;
    }
    eng_compensation *c = bt_xcalloc(1, sizeof *c);
    c->handlers = list.items;
    c->n_handlers = list.n;
    thrower->compensation = c;
    if (e->cfg.compensation_all_at_once) {
        while (c->next < c->n_handlers) {
            c->running++;
            handler_activate(e, thrower, c->handlers[c->next++]);
        }
    } else {
        c->running = 1;
        handler_activate(e, thrower, c->handlers[c->next++]);
    }
    return true;
}

void eng_compensation_handler_done(eng_engine *e, eng_elem *thrower) {
    eng_compensation *c = thrower->compensation;
    if (!c || thrower->state != ENG_ACTIVATED)
        return; /* the throw event is being terminated */
    if (thrower->scope && thrower->scope->state == ENG_TERMINATING)
        return;
    c->running--;
    if (c->next < c->n_handlers && !e->cfg.compensation_all_at_once) {
        c->running++;
        handler_activate(e, thrower, c->handlers[c->next++]);
        return;
    }
    if (c->running > 0)
        return;
    bt_free(c->handlers);
    bt_free(c);
    thrower->compensation = NULL;
    eng_step_push(e, STEP_COMPLETE, thrower);
}
