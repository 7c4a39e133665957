/*
 * jobs.c — jobs: the unit of work a job task hands to a worker (or to one of
 * baton's built-in invokers).
 *
 *   CREATED ──activate──> ACTIVATED ──complete──> (gone; the task completes)
 *      ^                    │  │  └──throw error──> caught by a boundary event,
 *      │                    │  │                    or UNHANDLED_ERROR_EVENT incident
 *      │   deadline passed  │  └──fail, retries > 0──> FAILED (back-off) ──> activatable
 *      └────────────────────┘     fail, retries = 0 ──> JOB_NO_RETRIES incident
 *
 * At-least-once delivery: a job whose worker does not answer before the
 * deadline returns to the pool and may be activated again. Its key never
 * changes, so it is the idempotency key invokers send to functions.
 * Completing a job that is not ACTIVATED answers ECONFLICT; completing one
 * that no longer exists answers ENOTFOUND — a second completion is harmless.
 *
 * Activatable jobs of each type wait in a FIFO (oldest first); deadlines and
 * back-offs go into the engine's due-time heap.
 */
#include "engine/eng_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- records ------------------------------------------------------------------ */

static void job_record(eng_engine *e, eng_job *job, const char *intent) {
    const bpmn_element *m = eng_elem_model(job->elem);
    const eng_definition *d = job->elem->inst->def;
    bt_buf b = BT_BUF_INIT;
    bt_buf_puts(&b, "{\"type\":");
    bt_buf_json_string(&b, job->type, strlen(job->type));
    bt_buf_printf(&b, ",\"retries\":%d,\"elementId\":", job->retries);
    bt_buf_json_string(&b, m->id, strlen(m->id));
    bt_buf_printf(&b, ",\"elementInstanceKey\":\"%llu\",\"bpmnProcessId\":",
                  (unsigned long long)job->elem->key);
    bt_buf_json_string(&b, d->bpmn_process_id, strlen(d->bpmn_process_id));
    bt_buf_printf(&b, ",\"processDefinitionKey\":\"%llu\",\"processInstanceKey\":\"%llu\"",
                  (unsigned long long)d->key, (unsigned long long)job->elem->inst->key);
    if (job->worker) {
        bt_buf_puts(&b, ",\"worker\":");
        bt_buf_json_string(&b, job->worker, strlen(job->worker));
    }
    if (job->state == ENG_JOB_ACTIVATED)
        bt_buf_printf(&b, ",\"deadline\":%lld", (long long)job->deadline_ms);
    if (job->error_message) {
        bt_buf_puts(&b, ",\"errorMessage\":");
        bt_buf_json_string(&b, job->error_message, strlen(job->error_message));
    }
    if (job->error_code) {
        bt_buf_puts(&b, ",\"errorCode\":");
        bt_buf_json_string(&b, job->error_code, strlen(job->error_code));
    }
    if (job->state == ENG_JOB_FAILED)
        bt_buf_printf(&b, ",\"retryBackoffUntil\":%lld", (long long)job->backoff_until_ms);
    bt_buf_puts(&b, "}");
    size_t len = b.len;
    char *text = bt_buf_take(&b);
    if (!text)
        abort();
    eng_record_add(e, "JOB", intent, job->key, job->elem->inst->key, text, len);
    eng_instance_touch(e, job->elem->inst);
}

/* ---- the activatable queues ---------------------------------------------------- */

static eng_job_queue *queue_of(eng_engine *e, const char *type, bool create) {
    eng_job_queue *q = bt_smap_get(&e->job_queues, type);
    if (!q && create) {
        q = bt_xcalloc(1, sizeof *q);
        bt_smap_put(&e->job_queues, type, q);
    }
    return q;
}

static void queue_remove(eng_engine *e, eng_job *job) {
    if (!job->queued)
        return;
    eng_job_queue *q = queue_of(e, job->type, false);
    if (job->queue_prev)
        job->queue_prev->queue_next = job->queue_next;
    else
        q->head = job->queue_next;
    if (job->queue_next)
        job->queue_next->queue_prev = job->queue_prev;
    else
        q->tail = job->queue_prev;
    job->queue_prev = job->queue_next = NULL;
    job->queued = false;
}

void eng_job_make_activatable(eng_engine *e, eng_job *job) {
    job->state = ENG_JOB_ACTIVATABLE;
    bt_free(job->worker);
    job->worker = NULL;
    job->deadline_ms = 0;
    job->backoff_until_ms = 0;
    if (job->queued)
        return;
    eng_job_queue *q = queue_of(e, job->type, true);
    job->queue_prev = q->tail;
    job->queue_next = NULL;
    if (q->tail)
        q->tail->queue_next = job;
    else
        q->head = job;
    q->tail = job;
    job->queued = true;
    eng_instance_touch(e, job->elem->inst);
}

/* ---- create / free ---------------------------------------------------------------- */

/* Evaluates a literal-or-FEEL attribute to a string. */
static int expr_string(eng_engine *e, eng_elem *el, const bpmn_expr *x, char **out, char *msg,
                       size_t msg_size) {
    if (!x->feel) {
        *out = bt_xstrdup(x->text ? x->text : "");
        return BT_OK;
    }
    feel_value *v = NULL;
    bt_error warn = {0};
    int rc = eng_eval(e, el, x->feel, &v, &warn);
    size_t len;
    const char *s = rc == BT_OK ? feel_string_ptr(v, &len) : NULL;
    if (!s) {
        snprintf(msg, msg_size,
                 "Expected result of the expression '%s' to be 'STRING', but was '%s'%s%s", x->text,
                 rc == BT_OK ? feel_type_name(feel_value_type(v)) : bt_strerror(rc),
                 warn.code ? ": " : "", warn.code ? warn.message : "");
        feel_value_unref(v);
        return BT_EEVAL;
    }
    *out = bt_strndup(s, len);
    feel_value_unref(v);
    if (!*out)
        abort();
    return BT_OK;
}

static int expr_int(eng_engine *e, eng_elem *el, const bpmn_expr *x, int *out, char *msg,
                    size_t msg_size) {
    int64_t n = 0;
    if (!x->feel) {
        char *end = NULL;
        long v = x->text ? strtol(x->text, &end, 10) : 3;
        if (x->text && (*end || end == x->text)) {
            snprintf(msg, msg_size, "Expected '%s' to be a number", x->text);
            return BT_EEVAL;
        }
        n = v;
    } else {
        feel_value *v = NULL;
        bt_error warn = {0};
        int rc = eng_eval(e, el, x->feel, &v, &warn);
        if (rc != BT_OK || feel_number_to_int64(v, &n) != BT_OK) {
            snprintf(msg, msg_size,
                     "Expected result of the expression '%s' to be a whole 'NUMBER', but was '%s'",
                     x->text, rc == BT_OK ? feel_type_name(feel_value_type(v)) : bt_strerror(rc));
            feel_value_unref(v);
            return BT_EEVAL;
        }
        feel_value_unref(v);
    }
    if (n < 0 || n > 1000000) {
        snprintf(msg, msg_size, "Expected job retries to be between 0 and 1000000, but was %lld",
                 (long long)n);
        return BT_EEVAL;
    }
    *out = (int)n;
    return BT_OK;
}

bool eng_job_create(eng_engine *e, eng_elem *el) {
    const bpmn_element *m = eng_elem_model(el);
    char msg[512];
    char *type = NULL;
    int retries = 3;
    if (expr_string(e, el, &m->job_type, &type, msg, sizeof msg) != BT_OK ||
        expr_int(e, el, &m->job_retries, &retries, msg, sizeof msg) != BT_OK) {
        bt_free(type);
        eng_incident_raise(e, el, ENG_INC_EXTRACT_VALUE_ERROR, 0, msg);
        return false;
    }
    eng_job *job = bt_xcalloc(1, sizeof *job);
    job->key = eng_key_next(e);
    job->elem = el;
    job->type = type;
    job->retries = retries;
    el->job = job;
    bt_map_put(&e->jobs, job->key, job);
    job_record(e, job, "CREATED");
    eng_job_make_activatable(e, job);
    return true;
}

void eng_job_free(eng_engine *e, eng_job *job) {
    queue_remove(e, job);
    bt_map_remove(&e->jobs, job->key);
    if (job->elem)
        job->elem->job = NULL;
    bt_free(job->type);
    bt_free(job->worker);
    bt_free(job->error_message);
    bt_free(job->error_code);
    bt_free(job);
}

void eng_job_cancel(eng_engine *e, eng_job *job) {
    job_record(e, job, "CANCELED");
    eng_job_free(e, job);
}

/* ---- commands ---------------------------------------------------------------------- */

static eng_job *job_lookup(eng_engine *e, uint64_t key, bt_error *err) {
    eng_job *job = bt_map_get(&e->jobs, key);
    if (!job)
        bt_error_set(err, BT_ENOTFOUND, "no job with key '%llu'", (unsigned long long)key);
    return job;
}

/* The job a worker answers for: it must exist (ENOTFOUND: completed or
 * cancelled already — a second answer is harmless) and be ACTIVATED
 * (ECONFLICT: it timed out, failed or waits on an incident). *rc tells. */
static eng_job *job_activated(eng_engine *e, uint64_t key, int *rc, bt_error *err) {
    eng_job *job = job_lookup(e, key, err);
    *rc = BT_ENOTFOUND;
    if (!job)
        return NULL;
    *rc = BT_ECONFLICT;
    if (job->state != ENG_JOB_ACTIVATED) {
        bt_error_set(err, BT_ECONFLICT,
                     "job '%llu' is not activated (it timed out, failed or has an incident)",
                     (unsigned long long)key);
        return NULL;
    }
    *rc = BT_OK;
    return job;
}

static int merge_job_variables(eng_engine *e, eng_job *job, const feel_value *vars,
                               bool completing) {
    if (!vars || feel_context_count(vars) == 0)
        return BT_OK;
    const bpmn_element *m = eng_elem_model(job->elem);
    /* With output mappings a job's result stays local to the task, where the
     * mappings read it; without, it propagates (Zeebe). */
    eng_vars_merge(e, job->elem, vars, completing && m->n_outputs > 0);
    return BT_OK;
}

int eng_jobs_activate(eng_engine *e, int64_t now, const char *type, const char *worker,
                      int64_t timeout_ms, int max, const char *const *fetch, int n_fetch,
                      eng_job_view *views, int *count) {
    e->now = now;
    *count = 0;
    eng_job_queue *q = queue_of(e, type, false);
    if (timeout_ms <= 0)
        timeout_ms = 300000;
    while (q && q->head && *count < max) {
        eng_job *job = q->head;
        queue_remove(e, job);
        job->state = ENG_JOB_ACTIVATED;
        job->worker = bt_xstrdup(worker ? worker : "");
        job->deadline_ms = now + timeout_ms;
        eng_due_push(e, job->deadline_ms, job->key);
        job_record(e, job, "ACTIVATED");

        eng_elem *el = job->elem;
        const bpmn_element *m = eng_elem_model(el);
        const eng_definition *d = el->inst->def;
        feel_value *all = eng_vars_visible_at(el);
        feel_value *chosen = all;
        if (fetch) {
            chosen = feel_context_new();
            if (!chosen)
                abort();
            for (int i = 0; i < n_fetch; i++) {
                const feel_value *v = feel_context_get(all, fetch[i], strlen(fetch[i]));
                if (v && feel_context_put(chosen, fetch[i], strlen(fetch[i]),
                                          feel_value_ref((feel_value *)v)) != BT_OK)
                    abort();
            }
            feel_value_unref(all);
        }
        bt_buf json = BT_BUF_INIT;
        if (feel_value_to_json(chosen, &json) != BT_OK)
            abort();
        feel_value_unref(chosen);
        views[(*count)++] = (eng_job_view){
            .key = job->key,
            .type = job->type,
            .process_instance_key = el->inst->key,
            .element_instance_key = el->key,
            .process_definition_key = d->key,
            .bpmn_process_id = d->bpmn_process_id,
            .process_definition_version = d->version,
            .element_id = m->id,
            .worker = job->worker,
            .retries = job->retries,
            .deadline_ms = job->deadline_ms,
            .n_headers = m->n_headers,
            .custom_headers = m->headers,
            .variables_json = bt_buf_take(&json),
        };
    }
    return BT_OK;
}

void eng_job_views_free(eng_job_view *views, int count) {
    for (int i = 0; i < count; i++)
        bt_free(views[i].variables_json);
}

static int check_variables(const feel_value *vars, bt_error *err) {
    if (vars && feel_value_type(vars) != FEEL_CONTEXT && feel_value_type(vars) != FEEL_NULL)
        return bt_error_set(err, BT_EINVAL, "variables must be a JSON object");
    return BT_OK;
}

int eng_job_complete(eng_engine *e, int64_t now, uint64_t job_key, const feel_value *variables,
                     bt_error *err) {
    e->now = now;
    int rc;
    eng_job *job = job_activated(e, job_key, &rc, err);
    if (!job)
        return rc;
    if (check_variables(variables, err))
        return BT_EINVAL;
    if (variables && feel_value_type(variables) == FEEL_NULL)
        variables = NULL;
    eng_elem *el = job->elem;
    job_record(e, job, "COMPLETED");
    merge_job_variables(e, job, variables, true);
    eng_job_free(e, job);
    eng_step_push(e, STEP_COMPLETE, el);
    eng_steps_run(e);
    return BT_OK;
}

int eng_job_fail(eng_engine *e, int64_t now, uint64_t job_key, int retries,
                 const char *error_message, int64_t backoff_ms, const feel_value *variables,
                 bt_error *err) {
    e->now = now;
    int rc;
    eng_job *job = job_activated(e, job_key, &rc, err);
    if (!job)
        return rc;
    if (retries < 0)
        return bt_error_set(err, BT_EINVAL, "retries must not be negative");
    if (check_variables(variables, err))
        return BT_EINVAL;
    if (backoff_ms < 0)
        backoff_ms = e->cfg.default_retry_backoff_ms;
    if (variables && feel_value_type(variables) == FEEL_NULL)
        variables = NULL;
    /* Failure variables are set locally on the task (Zeebe). */
    if (variables)
        eng_vars_merge(e, job->elem, variables, true);
    job->retries = retries;
    bt_free(job->error_message);
    job->error_message = bt_xstrdup(error_message ? error_message : "");
    bt_free(job->worker);
    job->worker = NULL;
    if (retries > 0 && backoff_ms > 0) {
        job->state = ENG_JOB_FAILED;
        job->backoff_until_ms = now + backoff_ms;
        job_record(e, job, "FAILED");
        eng_due_push(e, job->backoff_until_ms, job->key);
    } else if (retries > 0) {
        job->state = ENG_JOB_FAILED;
        job_record(e, job, "FAILED");
        eng_job_make_activatable(e, job);
    } else {
        job->state = ENG_JOB_INCIDENT;
        job_record(e, job, "FAILED");
        eng_incident_raise(e, job->elem, ENG_INC_JOB_NO_RETRIES, job->key,
                           error_message && *error_message ? error_message
                                                           : "No more retries left.");
    }
    eng_steps_run(e);
    return BT_OK;
}

int eng_job_throw_error(eng_engine *e, int64_t now, uint64_t job_key, const char *error_code,
                        const char *error_message, const feel_value *variables, bt_error *err) {
    e->now = now;
    int rc;
    eng_job *job = job_activated(e, job_key, &rc, err);
    if (!job)
        return rc;
    if (!error_code || !*error_code)
        return bt_error_set(err, BT_EINVAL, "an error code is required");
    if (check_variables(variables, err))
        return BT_EINVAL;
    if (variables && feel_value_type(variables) == FEEL_NULL)
        variables = NULL;
    bt_free(job->error_message);
    job->error_message = bt_xstrdup(error_message ? error_message : "");
    bt_free(job->error_code);
    job->error_code = bt_xstrdup(error_code);
    job_record(e, job, "ERROR_THROWN");
    eng_elem *el = job->elem;
    /* The error's variables are set on the task's scope, visible to the
     * catching event's output mappings (Zeebe sets them locally too). */
    if (variables)
        eng_vars_merge(e, el, variables, false);
    if (!eng_error_throw(e, el, error_code, error_message)) {
        job->state = ENG_JOB_INCIDENT;
        bt_free(job->worker);
        job->worker = NULL;
        char msg[512];
        if (error_message && *error_message)
            snprintf(msg, sizeof msg,
                     "Expected to throw an error event with the code '%s' with message '%s', but "
                     "it was not caught. No error events are available in the scope.",
                     error_code, error_message);
        else
            snprintf(msg, sizeof msg,
                     "Expected to throw an error event with the code '%s', but it was not "
                     "caught. No error events are available in the scope.",
                     error_code);
        eng_incident_raise(e, el, ENG_INC_UNHANDLED_ERROR_EVENT, job->key, msg);
    }
    eng_steps_run(e);
    return BT_OK;
}

int eng_job_update_retries(eng_engine *e, int64_t now, uint64_t job_key, int retries,
                           bt_error *err) {
    e->now = now;
    eng_job *job = job_lookup(e, job_key, err);
    if (!job)
        return BT_ENOTFOUND;
    if (retries < 1)
        return bt_error_set(err, BT_EINVAL, "retries must be at least 1, was %d", retries);
    job->retries = retries;
    job_record(e, job, "RETRIES_UPDATED");
    return BT_OK;
}

int eng_job_update_timeout(eng_engine *e, int64_t now, uint64_t job_key, int64_t timeout_ms,
                           bt_error *err) {
    e->now = now;
    int rc;
    eng_job *job = job_activated(e, job_key, &rc, err);
    if (!job)
        return rc;
    if (timeout_ms <= 0)
        return bt_error_set(err, BT_EINVAL, "timeout must be positive");
    job->deadline_ms = now + timeout_ms;
    eng_due_push(e, job->deadline_ms, job->key);
    job_record(e, job, "TIMEOUT_UPDATED");
    return BT_OK;
}
