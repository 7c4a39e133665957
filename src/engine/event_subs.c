/*
 * event_subs.c — event sub-processes: a sub-process in a scope (the
 * process or a sub-process) that no sequence flow reaches; its start event
 * starts it.
 *
 *   timer, message, signal   the scope's element instance holds the timer or the
 *                    subscription of each event sub-process's start event
 *                    from its activation until it ends (they are the
 *                    scope's, like a boundary event's are its activity's)
 *   error, escalation   thrown inside the scope, caught by the scope's
 *                    event sub-process for that code before the scope's own
 *                    boundary events (instance.c, catch_code)
 *
 * Triggered, an interrupting event sub-process first terminates everything
 * else running in the scope and closes the scope's other event
 * sub-processes' timers and subscriptions (an interrupted scope takes no
 * other event); the scope then completes when the event sub-process does. A
 * non-interrupting one runs beside the rest, and its timer cycle or
 * subscription stays for the next event. The event's variables (a
 * message's) are set on the start event's element instance, as on a
 * message start event.
 *
 * Compensation thrown inside an event sub-process compensates its parent
 * scope (compensation.c): that is where the activities it undoes ran.
 */
#include "engine/eng_int.h"

#include <string.h>

static const bpmn_element *start_of(const bpmn_process *p, int esp) {
    int s = p->elements[esp].start_event;
    return s >= 0 ? &p->elements[s] : NULL;
}

bool eng_event_subs_open(eng_engine *e, eng_elem *scope) {
    const bpmn_element *m = eng_elem_model(scope);
    const bpmn_process *p = eng_instance_process(scope->inst);
    for (int i = 0; i < m->n_event_subs; i++) {
        const bpmn_element *start = start_of(p, m->event_subs[i]);
        if (start && !eng_wait_for(e, scope, start->index))
            return false;
    }
    return true;
}

/* Whether an interrupting event sub-process runs in the scope already. */
static bool interrupted(const eng_elem *scope) {
    const eng_instance *inst = scope->inst;
    const bpmn_process *p = eng_instance_process(inst);
    for (int i = 0; i < inst->n_elems; i++) {
        const eng_elem *c = inst->elems[i];
        if (c->scope != scope || eng_elem_model(c)->type != BPMN_EVENT_SUB_PROCESS)
            continue;
        const bpmn_element *start = start_of(p, c->element);
        if (start && start->cancel_activity)
            return true;
    }
    return false;
}

int eng_event_sub_for_code(const eng_elem *scope, bpmn_event_kind kind, const char *code) {
    const bpmn_element *m = eng_elem_model(scope);
    if (m->n_event_subs == 0 || interrupted(scope))
        return -1;
    const bpmn_process *p = eng_instance_process(scope->inst);
    int catch_all = -1;
    for (int i = 0; i < m->n_event_subs; i++) {
        const bpmn_element *start = start_of(p, m->event_subs[i]);
        if (!start || start->event != kind)
            continue;
        if (!start->error_code) {
            if (catch_all < 0)
                catch_all = start->index;
        } else if (code && strcmp(start->error_code, code) == 0) {
            return start->index;
        }
    }
    return catch_all;
}

/* Closes the scope's timers and subscriptions of event sub-process start
 * events (its boundary events' stay: the scope itself goes on). */
static void close_starts(eng_engine *e, eng_elem *scope) {
    const bpmn_process *p = eng_instance_process(scope->inst);
    for (eng_timer *t = scope->timers, *next; t; t = next) {
        next = t->next;
        if (p->elements[t->event].type == BPMN_START_EVENT)
            eng_timer_cancel(e, t);
    }
    for (eng_msub *s = scope->msubs, *next; s; s = next) {
        next = s->elem_next;
        if (p->elements[s->event].type == BPMN_START_EVENT)
            eng_msub_close(e, s);
    }
    for (eng_ssub *s = scope->ssubs, *next; s; s = next) {
        next = s->elem_next;
        if (p->elements[s->event].type == BPMN_START_EVENT)
            eng_ssub_close(e, s);
    }
}

eng_elem *eng_event_sub_trigger(eng_engine *e, eng_elem *scope, int start, const feel_value *vars) {
    const bpmn_process *p = eng_instance_process(scope->inst);
    const bpmn_element *ev = &p->elements[start];
    if (ev->cancel_activity) {
        eng_scope_terminate_children(e, scope, NULL);
        close_starts(e, scope);
    }
    eng_elem *sub = eng_elem_activate(e, scope, ev->scope);
    if (vars)
        sub->trigger_vars = feel_value_ref((feel_value *)vars);
    return sub;
}
