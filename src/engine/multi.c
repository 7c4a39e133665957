/*
 * multi.c — multi-instance activities: one activity run once per item of a
 * collection, all at once (parallel) or one after the other (sequential),
 * with Zeebe's semantics (Camunda 8 docs, "Multi-instance").
 *
 * Shape. Entering a multi-instance activity activates its body: an element
 * instance of the activity's element whose type is MULTI_INSTANCE_BODY
 * (eng_elem.multi). The body is the activity as its scope sees it: it takes
 * and leaves the tokens, owns the timers of the boundary events, and is
 * what an error or escalation finds in the scope chain. Its children are the
 * inner instances: element instances of the same element with the body as
 * flow scope, each with its 1-based loop counter (eng_elem.loop_counter).
 * They run the activity itself — input mappings, job or sub-process, output
 * mappings — and do not take the outgoing flows.
 *
 *   body ACTIVATING   the input collection is evaluated in the body; not a
 *                     list → EXTRACT_VALUE_ERROR incident on the body (fix
 *                     the variable, resolve: evaluated again)
 *   body ACTIVATED    the output collection variable, if any, is created
 *                     local to the body: a list of as many nulls as items;
 *                     an empty collection completes the body at once;
 *                     parallel: one inner instance per item now;
 *                     sequential: the first one
 *   inner ACTIVATING  local variables: the item as inputElement, the output
 *                     element's variable as null (see bpmn_loop), loopCounter;
 *                     then the activity's input mappings see them
 *   inner COMPLETING  after its output mappings: outputElement, evaluated in
 *                     the inner instance, replaces item loopCounter of the
 *                     body's output collection; then the completion condition
 *                     is evaluated in the inner instance with
 *                     numberOfInstances (the collection's size),
 *                     numberOfActiveInstances (without this one),
 *                     numberOfCompletedInstances (with this one) and
 *                     numberOfTerminatedInstances visible before any
 *                     variable. A failure, or a condition that is no boolean,
 *                     is an EXTRACT_VALUE_ERROR incident on the inner
 *                     instance; resolving it completes the inner instance
 *                     again.
 *   inner COMPLETED   condition true: the other inner instances are
 *                     terminated and no more start; else a sequential body
 *                     starts its next item. The body completes when no inner
 *                     instance is left.
 *   body COMPLETING   the output collection propagates from the body to its
 *                     scope (Zeebe's propagation), then the body leaves
 *                     through the activity's outgoing flows.
 *
 * The collection is evaluated once, when the body activates: a sequential
 * body keeps the list (eng_multi.items) until its last item has started, so
 * a later change of the variable does not change a running loop (Zeebe
 * evaluates it again for each item and raises an incident if it shrank).
 * Everything a body needs — the list, how many started, completed and were
 * terminated — is in eng_multi and goes into the instance's encoded state
 * (codec.c); the inner instances' loop counters too.
 *
 * Termination (a boundary event, a terminate end event, cancel) terminates
 * the body and so its inner instances. Compensation: each completed inner
 * instance leaves its own record in the body, and the completed body hands
 * them to its scope, so the activity's handler runs once per completed
 * inner instance, as in Zeebe.
 */
#include "engine/eng_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const bpmn_loop *loop_of(const eng_elem *el) {
    return eng_elem_model(el)->loop;
}

void eng_multi_free(eng_multi *m) {
    if (!m)
        return;
    feel_value_unref(m->items);
    bt_free(m);
}

static void set_local(eng_engine *e, eng_elem *el, const char *name, feel_value *v) {
    if (!v)
        abort();
    eng_vars_set_local(e, el, name, strlen(name), v);
}

/* Starts inner instance number body->multi->started + 1 for `item`. */
static void inner_start(eng_engine *e, eng_elem *body, const feel_value *item) {
    const bpmn_loop *loop = loop_of(body);
    eng_elem *inner = eng_elem_activate(e, body, body->element); /* ACTIVATING, step queued */
    inner->loop_counter = ++body->multi->started;
    if (loop->input_element)
        set_local(e, inner, loop->input_element, feel_value_ref((feel_value *)item));
    if (loop->output_element_var)
        set_local(e, inner, loop->output_element_var, feel_null());
    set_local(e, inner, "loopCounter", feel_number_from_int(inner->loop_counter));
}

void eng_multi_activate(eng_engine *e, eng_elem *body) {
    if (body->state != ENG_ACTIVATING) {
        /* Activated already: an incident of a boundary event's timer was
         * resolved. Its inner instances may all have finished meanwhile. */
        eng_scope_child_done(e, body);
        return;
    }
    const bpmn_loop *loop = loop_of(body);
    eng_multi *mi = body->multi;
    feel_value *items = NULL;
    bt_error warn = {0};
    int rc = eng_eval(e, body, loop->input_collection, &items, &warn);
    if (rc != BT_OK || feel_value_type(items) != FEEL_LIST) {
        char msg[512];
        snprintf(msg, sizeof msg,
                 "Expected result of the expression '%s' to be 'ARRAY', but was '%s'%s%s",
                 loop->input_collection_text,
                 rc == BT_OK ? feel_type_name(feel_value_type(items)) : bt_strerror(rc),
                 warn.code ? ": " : "", warn.code ? warn.message : "");
        feel_value_unref(items);
        eng_incident_raise(e, body, ENG_INC_EXTRACT_VALUE_ERROR, 0, msg);
        return;
    }
    size_t n = feel_list_count(items);
    if (n > INT32_MAX)
        abort(); /* no list of that size fits in memory */
    body->state = ENG_ACTIVATED;
    eng_elem_record(e, body, "ELEMENT_ACTIVATED");
    *mi = (eng_multi){.n_instances = (int)n};
    if (loop->output_collection) {
        feel_value *nulls = feel_list_new();
        for (size_t i = 0; nulls && i < n; i++)
            if (feel_list_push(nulls, feel_null()) != BT_OK)
                abort();
        set_local(e, body, loop->output_collection, nulls);
    }
    if (n == 0) {
        feel_value_unref(items);
        eng_step_push(e, STEP_COMPLETE, body);
        return;
    }
    if (loop->sequential) {
        mi->items = items;
        inner_start(e, body, feel_list_at(items, 0));
        return;
    }
    for (size_t i = 0; i < n; i++)
        inner_start(e, body, feel_list_at(items, i));
    feel_value_unref(items);
}

/* ---- an inner instance completes ----------------------------------------------- */

/* Puts the inner instance's output element at its place in the body's
 * output collection. false (msg filled) on a failure. */
static bool output_collect(eng_engine *e, eng_elem *inner, char *msg, size_t msg_size) {
    const bpmn_loop *loop = loop_of(inner);
    eng_elem *body = inner->scope;
    feel_value *v = NULL;
    bt_error warn = {0};
    int rc = eng_eval(e, inner, loop->output_element, &v, &warn);
    if (rc != BT_OK) {
        snprintf(msg, msg_size, "Failed to evaluate the output element '%s': %s",
                 loop->output_element_text, bt_strerror(rc));
        return false;
    }
    const char *name = loop->output_collection;
    const feel_value *old = eng_vars_get(&body->vars, name, strlen(name));
    size_t index = (size_t)inner->loop_counter - 1;
    if (!old || feel_value_type(old) != FEEL_LIST || feel_list_count(old) <= index) {
        snprintf(msg, msg_size,
                 "Unable to update item %zu of the output collection '%s': it is %s, not a "
                 "list of %d items",
                 index + 1, name, old ? feel_type_name(feel_value_type(old)) : "missing",
                 body->multi->n_instances);
        feel_value_unref(v);
        return false;
    }
    /* Values are immutable and shared: the new list shares the old items. */
    size_t n = feel_list_count(old);
    feel_value *list = feel_list_new();
    for (size_t i = 0; list && i < n; i++) {
        feel_value *item = i == index ? v : feel_value_ref((feel_value *)feel_list_at(old, i));
        if (feel_list_push(list, item) != BT_OK)
            abort();
    }
    set_local(e, body, name, list);
    return true;
}

/* The numbers the completion condition sees before any variable. */
typedef struct loop_numbers {
    const eng_elem *inner;
    const char *names[4];
    feel_value *values[4];
} loop_numbers;

static const feel_value *lookup_with_numbers(void *ud, const char *name, size_t len) {
    const loop_numbers *ln = ud;
    for (int i = 0; i < 4; i++)
        if (strncmp(ln->names[i], name, len) == 0 && ln->names[i][len] == 0)
            return ln->values[i];
    for (const eng_elem *s = ln->inner; s; s = s->scope) {
        const feel_value *v = eng_vars_get(&s->vars, name, len);
        if (v)
            return v;
    }
    return NULL;
}

/* Evaluates the completion condition: 1 true, 0 false, -1 (msg) a failure. */
static int condition_holds(eng_engine *e, eng_elem *inner, char *msg, size_t msg_size) {
    const bpmn_loop *loop = loop_of(inner);
    const eng_elem *body = inner->scope;
    const eng_multi *mi = body->multi;
    loop_numbers ln = {
        .inner = inner,
        .names = {"numberOfInstances", "numberOfActiveInstances", "numberOfCompletedInstances",
                  "numberOfTerminatedInstances"},
        .values = {feel_number_from_int(mi->n_instances),
                   feel_number_from_int(body->active_children - 1),
                   feel_number_from_int(mi->completed + 1), feel_number_from_int(mi->terminated)},
    };
    for (int i = 0; i < 4; i++)
        if (!ln.values[i])
            abort();
    feel_env env = {lookup_with_numbers, &ln, e->now};
    feel_value *v = NULL;
    bt_error warn = {0};
    int rc = feel_eval(loop->completion_condition, &env, &v, &warn);
    if (rc == BT_ENOMEM)
        abort();
    for (int i = 0; i < 4; i++)
        feel_value_unref(ln.values[i]);
    feel_type t = rc == BT_OK ? feel_value_type(v) : FEEL_NULL;
    int holds = rc == BT_OK && t == FEEL_BOOLEAN ? feel_value_is_true(v) : -1;
    if (holds < 0)
        snprintf(msg, msg_size,
                 "Expected the completion condition '%s' to be a boolean, but it was %s%s%s",
                 loop->completion_condition_text, rc == BT_OK ? feel_type_name(t) : bt_strerror(rc),
                 warn.code ? ": " : "", warn.code ? warn.message : "");
    feel_value_unref(v);
    return holds;
}

int eng_multi_inner_completing(eng_engine *e, eng_elem *inner) {
    const bpmn_loop *loop = loop_of(inner);
    char msg[512];
    if (loop->output_collection && !output_collect(e, inner, msg, sizeof msg)) {
        eng_incident_raise(e, inner, ENG_INC_EXTRACT_VALUE_ERROR, 0, msg);
        return -1;
    }
    if (!loop->completion_condition)
        return 0;
    int holds = condition_holds(e, inner, msg, sizeof msg);
    if (holds < 0)
        eng_incident_raise(e, inner, ENG_INC_EXTRACT_VALUE_ERROR, 0, msg);
    return holds;
}

void eng_multi_inner_completed(eng_engine *e, eng_elem *inner, bool done) {
    eng_elem *body = inner->scope;
    eng_multi *mi = body->multi;
    mi->completed++;
    if (done) {
        /* The condition holds: the other inner instances end here. */
        eng_instance *inst = body->inst;
        for (int i = inst->n_elems - 1; i >= 0; i--) {
            if (i >= inst->n_elems)
                continue;
            eng_elem *other = inst->elems[i];
            if (other != inner && other->scope == body) {
                eng_elem_terminate(e, other);
                body->active_children--;
                mi->terminated++;
                i = inst->n_elems; /* the list changed: restart from the end */
            }
        }
    } else if (mi->items && mi->started < mi->n_instances) {
        inner_start(e, body, feel_list_at(mi->items, (size_t)mi->started));
    }
    if (mi->items && (done || mi->started == mi->n_instances)) {
        feel_value_unref(mi->items); /* nothing more to start */
        mi->items = NULL;
    }
    eng_instance_touch(e, body->inst);
}

void eng_multi_body_completing(eng_engine *e, eng_elem *body) {
    const bpmn_loop *loop = loop_of(body);
    if (!loop->output_collection || !body->scope)
        return;
    const char *name = loop->output_collection;
    const feel_value *v = eng_vars_get(&body->vars, name, strlen(name));
    if (v)
        eng_vars_propagate(e, body->scope, name, strlen(name), feel_value_ref((feel_value *)v));
}
