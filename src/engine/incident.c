/*
 * incident.c — incidents: a step that cannot go on waits for an operator.
 *
 * An incident belongs to one element instance and stops it where it stood:
 *
 *   JOB_NO_RETRIES         a job failed with no retries left        → the job waits
 *   UNHANDLED_ERROR_EVENT  a BPMN error no boundary event catches   → the job / event waits
 *   CONDITION_ERROR        an exclusive gateway finds no flow         → COMPLETING
 *   IO_MAPPING_ERROR       an input or output mapping fails           → ACTIVATING / COMPLETING
 *   EXTRACT_VALUE_ERROR    a job type or retries expression fails     → ACTIVATED, no job
 *                          a multi-instance input collection that is → the body ACTIVATING
 *                          no list
 *                          a multi-instance output element or        → the inner instance
 *                          completion condition fails                  COMPLETING
 *   UNKNOWN                a command ran ENG_MAX_STEPS steps without  → the parked step
 *                          waiting (a loop without a wait state)
 *   CALLED_ELEMENT_ERROR   a call activity's process id is no string,  → ACTIVATING
 *                          names no deployed process, or the call
 *                          hierarchy is too deep (call.c)
 *
 * Resolving runs the failed step again, against the state the operator may
 * have fixed meanwhile (variables set, job retries raised): a job becomes
 * activatable, a gateway re-evaluates its conditions, mappings are applied
 * again. If the step fails again, a new incident is raised. A JOB_NO_RETRIES
 * incident whose job still has no retries cannot be resolved (ECONFLICT):
 * the operator raises the retries first.
 *
 * Terminating an element instance drops its incident (recorded RESOLVED).
 * An instance called by a call activity shows its incidents in the
 * has_incident of the instances above it (call.c), so raising and dropping
 * one marks those dirty too.
 */
#include "engine/eng_int.h"

#include <stdlib.h>
#include <string.h>

static const char *type_names[] = {
    [ENG_INC_JOB_NO_RETRIES] = "JOB_NO_RETRIES",
    [ENG_INC_CONDITION_ERROR] = "CONDITION_ERROR",
    [ENG_INC_IO_MAPPING_ERROR] = "IO_MAPPING_ERROR",
    [ENG_INC_EXTRACT_VALUE_ERROR] = "EXTRACT_VALUE_ERROR",
    [ENG_INC_UNHANDLED_ERROR_EVENT] = "UNHANDLED_ERROR_EVENT",
    [ENG_INC_UNKNOWN] = "UNKNOWN",
    [ENG_INC_CALLED_ELEMENT_ERROR] = "CALLED_ELEMENT_ERROR",
};

const char *eng_incident_type_name(eng_incident_type t) {
    return type_names[t];
}

static void incident_record(eng_engine *e, eng_incident *inc, const char *intent) {
    eng_elem *el = inc->elem;
    const bpmn_element *m = eng_elem_model(el);
    const eng_definition *d = el->inst->def;
    bt_buf b = BT_BUF_INIT;
    bt_buf_printf(&b, "{\"errorType\":\"%s\",\"errorMessage\":", type_names[inc->type]);
    bt_buf_json_string(&b, inc->message, strlen(inc->message));
    bt_buf_puts(&b, ",\"elementId\":");
    bt_buf_json_string(&b, m->id, strlen(m->id));
    bt_buf_printf(&b, ",\"elementInstanceKey\":\"%llu\",\"processInstanceKey\":\"%llu\"",
                  (unsigned long long)el->key, (unsigned long long)el->inst->key);
    bt_buf_printf(
        &b, ",\"processDefinitionKey\":\"%llu\",\"bpmnProcessId\":", (unsigned long long)d->key);
    bt_buf_json_string(&b, d->bpmn_process_id, strlen(d->bpmn_process_id));
    if (inc->job_key)
        bt_buf_printf(&b, ",\"jobKey\":\"%llu\"", (unsigned long long)inc->job_key);
    bt_buf_puts(&b, "}");
    size_t len = b.len;
    char *text = bt_buf_take(&b);
    if (!text)
        abort();
    eng_record_add(e, "INCIDENT", intent, inc->key, el->inst->key, text, len);
    eng_instance_touch(e, el->inst);
}

void eng_incident_raise(eng_engine *e, eng_elem *el, eng_incident_type type, uint64_t job_key,
                        const char *message) {
    if (el->incident) /* one open incident per element instance */
        eng_incident_drop(e, el, true);
    eng_incident *inc = bt_xcalloc(1, sizeof *inc);
    inc->key = eng_key_next(e);
    inc->type = type;
    inc->message = bt_xstrdup(message ? message : "");
    inc->elem = el;
    inc->job_key = job_key;
    inc->created_ms = e->now;
    el->incident = inc;
    el->inst->n_incidents++;
    bt_map_put(&e->incidents, inc->key, inc);
    incident_record(e, inc, "CREATED");
    if (el->inst->caller)
        eng_call_incidents_changed(e, el->inst);
}

void eng_incident_drop(eng_engine *e, eng_elem *el, bool record) {
    eng_incident *inc = el->incident;
    if (!inc)
        return;
    if (record)
        incident_record(e, inc, "RESOLVED");
    bt_map_remove(&e->incidents, inc->key);
    el->incident = NULL;
    el->inst->n_incidents--;
    /* Not when freeing (record false): the instances above may be gone. */
    if (record && el->inst->caller)
        eng_call_incidents_changed(e, el->inst);
    bt_free(inc->message);
    bt_free(inc->error_code);
    bt_free(inc);
}

int eng_incident_resolve(eng_engine *e, int64_t now, uint64_t incident_key, bt_error *err) {
    e->now = now;
    eng_incident *inc = bt_map_get(&e->incidents, incident_key);
    if (!inc)
        return bt_error_set(err, BT_ENOTFOUND, "no open incident with key '%llu'",
                            (unsigned long long)incident_key);
    eng_elem *el = inc->elem;
    eng_job *job = el->job;
    if (inc->type == ENG_INC_JOB_NO_RETRIES && job && job->retries <= 0)
        return bt_error_set(err, BT_ECONFLICT,
                            "job '%llu' has no retries left: update its retries before "
                            "resolving the incident",
                            (unsigned long long)job->key);
    eng_incident_type type = inc->type;
    int step = inc->step;
    eng_incident_drop(e, el, true);
    switch (type) {
    case ENG_INC_JOB_NO_RETRIES:
    case ENG_INC_UNHANDLED_ERROR_EVENT:
        if (job) {
            eng_job_make_activatable(e, job);
            break;
        }
        eng_step_push(e, STEP_ACTIVATE, el); /* an error end event throws again */
        break;
    case ENG_INC_CONDITION_ERROR: eng_step_push(e, STEP_COMPLETE, el); break;
    case ENG_INC_IO_MAPPING_ERROR:
        eng_step_push(e, el->state == ENG_COMPLETING ? STEP_COMPLETE : STEP_ACTIVATE, el);
        break;
    case ENG_INC_EXTRACT_VALUE_ERROR: /* COMPLETING: a multi-instance inner instance */
        eng_step_push(e, el->state == ENG_COMPLETING ? STEP_COMPLETE : STEP_ACTIVATE, el);
        break;
    case ENG_INC_UNKNOWN:
        eng_step_push(e, step == STEP_COMPLETE + 1 ? STEP_COMPLETE : STEP_ACTIVATE, el);
        break;
    case ENG_INC_CALLED_ELEMENT_ERROR: eng_step_push(e, STEP_ACTIVATE, el); break;
    }
    eng_steps_run(e);
    return BT_OK;
}

int eng_incidents_list(const eng_engine *e, uint64_t instance_key, eng_incident_view *out,
                       int max) {
    int n = 0;
    size_t it = 0;
    void *v;
    while (bt_map_next(&e->incidents, &it, NULL, &v)) {
        eng_incident *inc = v;
        if (instance_key && inc->elem->inst->key != instance_key)
            continue;
        if (n < max)
            out[n] = (eng_incident_view){
                .key = inc->key,
                .created_ms = inc->created_ms,
                .process_definition_key = inc->elem->inst->def->key,
                .bpmn_process_id = inc->elem->inst->def->bpmn_process_id,
                .type = type_names[inc->type],
                .message = inc->message,
                .process_instance_key = inc->elem->inst->key,
                .element_instance_key = inc->elem->key,
                .element_id = eng_elem_model(inc->elem)->id,
                .job_key = inc->job_key,
            };
        n++;
    }
    return n;
}
