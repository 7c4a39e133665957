/*
 * call.c — call activities: an activity that runs another process as a
 * process instance of its own and waits for it, with Zeebe's semantics
 * (Camunda 8 docs, "Call activities").
 *
 * Shape. Parent and child are two eng_instance objects of the same engine,
 * each persisted as its own row. The link:
 *
 *   call activity element instance ──called──▶ child eng_instance
 *   child eng_instance ──caller──▶ call activity element instance
 *
 * plus, in the child, the keys parent_key (the parent instance) and
 * caller_key (the call activity's element instance), which never change:
 * they are the row's parent_instance_key, go into every PROCESS_INSTANCE
 * record of the child (parentProcessInstanceKey, parentElementInstanceKey,
 * as Zeebe writes them) and into the child's encoded state (codec.c,
 * version 3). The pointers are derived: on restore, instances come back in
 * key order and a child's key is greater than its call activity's, so the
 * call activity is there when the child is decoded and eng_call_restore
 * links the two again. A parent's row and its child's row change in the
 * same command, so they are written in one transaction.
 *
 * Life cycle of a call activity element instance:
 *
 *   ACTIVATING   input mappings (instance.c), then the process id —
 *                literal or FEEL — is evaluated and the version to call
 *                looked up: by bindingType the latest, the one deployed
 *                with the caller, or the newest with the call's version
 *                tag. Not a string, no such version, a process
 *                without a none start event, or a call hierarchy already
 *                ENG_MAX_CALL_DEPTH instances deep: a CALLED_ELEMENT_ERROR
 *                incident, the element stays ACTIVATING; resolving it runs
 *                the activation again (input mappings included), so
 *                deploying the process or fixing the variable first is
 *                enough.
 *   ACTIVATED    the child is created at its none start event with the
 *                variables of the call activity: all variables visible
 *                there (propagateAllParentVariables, the default), or only
 *                its local ones — the input mappings' results, and a
 *                multi-instance inner instance's item and loopCounter —
 *                with propagateAllParentVariables="false". They become the
 *                child's root variables. The call activity waits; its
 *                boundary events (timers, messages) wait with it.
 *   child completed   its root variables come back to the call activity:
 *                with output mappings, local to the call activity, where
 *                the mappings read them and only what they map goes on
 *                (whatever propagateAllChildVariables says, as in Zeebe);
 *                without, propagated from the call activity (Zeebe's rule:
 *                the nearest scope that has the name, else the root) when
 *                propagateAllChildVariables is true (the default), not at
 *                all when false. Then the call activity completes.
 *   terminated   (an interrupting boundary event, a terminate end event, an
 *                error caught further up, cancelling the parent) the child
 *                is terminated first, and the instances it called, depth
 *                first; nothing comes back.
 *
 * A child never ends on its own terms otherwise: cancelling a called
 * instance is refused (BT_ECONFLICT), as Zeebe refuses it — only the root
 * of a call hierarchy can be cancelled, which terminates the hierarchy.
 *
 * Errors and escalations thrown in the child and not caught there go on
 * from the call activity in the parent (instance.c, catch_code): a boundary
 * event on the call activity or on a scope around it catches them, which
 * terminates the call activity and so the child. An error nobody catches
 * is an UNHANDLED_ERROR_EVENT incident where it was thrown, in the child; an
 * escalation nobody catches is nothing.
 *
 * Incidents stay where they happen (a child's incident belongs to the
 * child), but an instance shows has_incident while it, or any instance it
 * called, has one: raising or dropping an incident in a child marks the
 * instances above it dirty so their rows are written again.
 *
 * A completed call activity is compensated like any activity: its
 * compensation handler runs (the child has ended; nothing inside it is
 * compensated). A multi-instance call activity runs one child per inner
 * instance. With propagateAllChildVariables and no output mappings, every
 * child variable comes back — a parallel loop's children then overwrite
 * each other's copies of shared variables (the Camunda docs warn of it);
 * propagateAllParentVariables="false" or output mappings avoid that.
 */
#include "engine/eng_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* How many instances a call hierarchy may hold (Zeebe's default maximum
 * process depth): a process that calls itself stops here, with an incident. */
#define ENG_MAX_CALL_DEPTH 1000

/* ---- activation --------------------------------------------------------------- */

/* Instances in inst's call hierarchy from the root down to inst. */
static int call_depth(const eng_instance *inst) {
    int depth = 1;
    for (const eng_elem *c = inst->caller; c; c = c->inst->caller)
        depth++;
    return depth;
}

/* The process id the call activity names, as a new string; NULL with msg
 * when its expression does not give a string. */
static char *called_process_id(eng_engine *e, eng_elem *el, char *msg, size_t msg_size) {
    const bpmn_expr *x = &eng_elem_model(el)->called_process;
    if (!x->feel)
        return bt_xstrdup(x->text);
    feel_value *v = NULL;
    bt_error warn = {0};
    int rc = eng_eval(e, el, x->feel, &v, &warn);
    size_t len;
    const char *s = rc == BT_OK ? feel_string_ptr(v, &len) : NULL;
    char *id = s ? bt_strndup(s, len) : NULL;
    if (s && !id)
        abort();
    if (!s)
        snprintf(msg, msg_size,
                 "Expected result of the expression '%s' to be 'STRING', but was '%s'%s%s", x->text,
                 rc == BT_OK ? feel_type_name(feel_value_type(v)) : bt_strerror(rc),
                 warn.code ? ": " : "", warn.code ? warn.message : "");
    feel_value_unref(v);
    return id;
}

static bool same_deployment(const eng_definition *d, const void *caller) {
    return d->deployment_key == ((const eng_definition *)caller)->deployment_key;
}

static bool has_version_tag(const eng_definition *d, const void *tag) {
    return d->process->version_tag && strcmp(d->process->version_tag, tag) == 0;
}

/* The definition to call: the version of the process the call activity
 * names that its bindingType picks (the latest; the one deployed with the
 * caller; the newest with the version tag). NULL with msg when there is
 * none to start. */
static eng_definition *called_definition(eng_engine *e, eng_elem *el, char *msg, size_t msg_size) {
    char *id = called_process_id(e, el, msg, msg_size);
    if (!id)
        return NULL;
    const bpmn_element *m = eng_elem_model(el);
    eng_definition *def = m->binding == BPMN_BINDING_DEPLOYMENT
                              ? eng_definition_newest(e, id, same_deployment, el->inst->def)
                          : m->binding == BPMN_BINDING_VERSION_TAG
                              ? eng_definition_newest(e, id, has_version_tag, m->version_tag)
                              : eng_definition_latest(e, id);
    if (!def && m->binding == BPMN_BINDING_DEPLOYMENT)
        snprintf(msg, msg_size,
                 "Expected process with BPMN process id '%s' to be deployed together with the "
                 "calling process (bindingType deployment), but not found.",
                 id);
    else if (!def && m->binding == BPMN_BINDING_VERSION_TAG)
        snprintf(msg, msg_size,
                 "Expected process with BPMN process id '%s' and version tag '%s' to be "
                 "deployed, but not found.",
                 id, m->version_tag);
    else if (!def)
        snprintf(msg, msg_size,
                 "Expected process with BPMN process id '%s' to be deployed, but not found.", id);
    else if (def->process->elements[0].start_event < 0)
        snprintf(msg, msg_size,
                 "Expected process with BPMN process id '%s' to have a none start event, but not "
                 "found.",
                 id);
    else if (call_depth(el->inst) >= ENG_MAX_CALL_DEPTH)
        snprintf(msg, msg_size,
                 "The call activity has reached the maximum depth of %d. This is likely due to a "
                 "recursive call. Cancel the root process instance if this was unintentional.",
                 ENG_MAX_CALL_DEPTH);
    else {
        bt_free(id);
        return def;
    }
    bt_free(id);
    return NULL;
}

/* The local variables of el as a new context. */
static feel_value *local_variables(const eng_elem *el) {
    feel_value *ctx = feel_context_new();
    if (!ctx)
        abort();
    for (int i = 0; i < el->vars.count; i++) {
        const eng_var *v = &el->vars.items[i];
        if (feel_context_put(ctx, v->name, strlen(v->name), feel_value_ref(v->value)) != BT_OK)
            abort();
    }
    return ctx;
}

void eng_call_activate(eng_engine *e, eng_elem *el) {
    if (el->state != ENG_ACTIVATING) {
        /* Activated already: an incident of one of its boundary events was
         * resolved. If the child completed meanwhile (its variables came
         * back then), the call activity completes now. */
        if (!el->called)
            eng_step_push(e, STEP_COMPLETE, el);
        return;
    }
    char msg[512];
    eng_definition *def = called_definition(e, el, msg, sizeof msg);
    if (!def) {
        eng_incident_raise(e, el, ENG_INC_CALLED_ELEMENT_ERROR, 0, msg);
        return;
    }
    el->state = ENG_ACTIVATED;
    eng_elem_record(e, el, "ELEMENT_ACTIVATED");
    feel_value *vars =
        eng_elem_model(el)->propagate_all_parent ? eng_vars_visible_at(el) : local_variables(el);
    eng_instance_begin_called(e, def, vars, NULL, 0, NULL, el); /* its steps are queued */
    feel_value_unref(vars);
}

/* ---- the link ------------------------------------------------------------------- */

static void link(eng_instance *called, eng_elem *caller) {
    called->caller = caller;
    called->parent_key = caller->inst->key;
    called->caller_key = caller->key;
    caller->called = called;
    caller->inst->n_called++;
}

void eng_call_link(eng_engine *e, eng_instance *called, eng_elem *caller) {
    link(called, caller);
    eng_instance_touch(e, caller->inst);
}

int eng_call_restore(eng_engine *e, eng_instance *inst, bt_error *err) {
    eng_elem *ca = bt_map_get(&e->elems, inst->caller_key);
    if (!ca || ca->inst->key != inst->parent_key ||
        eng_elem_model(ca)->type != BPMN_CALL_ACTIVITY || ca->state != ENG_ACTIVATED || ca->called)
        return bt_error_set(err, BT_ECORRUPT,
                            "instance %llu: its call activity %llu in instance %llu is not active",
                            (unsigned long long)inst->key, (unsigned long long)inst->caller_key,
                            (unsigned long long)inst->parent_key);
    link(inst, ca);
    return BT_OK;
}

eng_elem *eng_call_caller(const eng_instance *inst) {
    return inst->caller;
}

/* ---- the child ends ------------------------------------------------------------------- */

/* The child's final root variables come back to the call activity ca. */
static void variables_return(eng_engine *e, eng_elem *ca, const eng_vars *vars) {
    const bpmn_element *m = eng_elem_model(ca);
    bool local = m->n_outputs > 0; /* the output mappings decide what goes on */
    if (!local && !m->propagate_all_child)
        return;
    for (int i = 0; i < vars->count; i++) {
        const eng_var *v = &vars->items[i];
        feel_value *value = feel_value_ref(v->value);
        if (local)
            eng_vars_set_local(e, ca, v->name, strlen(v->name), value);
        else
            eng_vars_propagate(e, ca, v->name, strlen(v->name), value);
    }
}

void eng_call_instance_ended(eng_engine *e, eng_instance *called) {
    eng_elem *ca = called->caller;
    called->caller = NULL;
    ca->called = NULL;
    ca->inst->n_called--;
    eng_instance_touch(e, ca->inst);
    eng_call_incidents_changed(e, ca->inst);
    /* Terminated: its call activity is terminating it (nothing else ends a
     * called instance early: cancelling one is refused). */
    if (called->state != ENG_INSTANCE_COMPLETED || ca->state != ENG_ACTIVATED)
        return;
    if (called->final_vars)
        variables_return(e, ca, called->final_vars);
    /* With an incident of a boundary event open, the call activity
     * completes once it is resolved (eng_call_activate). */
    if (!ca->incident)
        eng_step_push(e, STEP_COMPLETE, ca);
}

void eng_call_terminate_called(eng_engine *e, eng_elem *el) {
    eng_instance *called = el->called;
    /* The process element instance comes first; terminating it ends the
     * instance, which unlinks it (eng_call_instance_ended). */
    eng_elem_terminate(e, called->elems[0]);
}

/* ---- incidents and cancel ------------------------------------------------------------- */

bool eng_call_has_incident(const eng_instance *inst) {
    if (inst->n_incidents > 0)
        return true;
    for (int i = 0; inst->n_called > 0 && i < inst->n_elems; i++)
        if (inst->elems[i]->called && eng_call_has_incident(inst->elems[i]->called))
            return true;
    return false;
}

void eng_call_incidents_changed(eng_engine *e, eng_instance *inst) {
    for (eng_elem *c = inst->caller; c; c = c->inst->caller)
        eng_instance_touch(e, c->inst);
}

int eng_call_check_cancel(const eng_instance *inst, bt_error *err) {
    if (!inst->caller)
        return BT_OK;
    const eng_instance *root = inst;
    while (root->caller)
        root = root->caller->inst;
    return bt_error_set(err, BT_ECONFLICT,
                        "Expected to cancel a process instance with key '%llu', but it is created "
                        "by a parent process instance. Cancel the root process instance '%llu' "
                        "instead.",
                        (unsigned long long)inst->key, (unsigned long long)root->key);
}
