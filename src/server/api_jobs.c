/*
 * api_jobs.c — the job worker protocol: activation with long polling,
 * completion, failure with retries and back-off, BPMN errors, updates.
 *
 * Long polling: an activation that finds no job is parked in the loop
 * (RT_PARK) and tried again after every later batch — a job created by any
 * command is handed out in the same turn, after its creation is committed
 * together with the activation. The request ends with an empty list when
 * requestTimeout passes; a negative requestTimeout answers at once.
 */
#include "server/api_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- activation ------------------------------------------------------------ */

static void job_json(bt_buf *b, const eng_job_view *j) {
    bt_buf_putc(b, '{');
    api_put_str(b, "type", j->type, false);
    api_put_str(b, "processDefinitionId", j->bpmn_process_id, true);
    api_put_int(b, "processDefinitionVersion", j->process_definition_version, true);
    api_put_str(b, "elementId", j->element_id, true);
    bt_buf_puts(b, ",\"customHeaders\":{");
    for (int h = 0; h < j->n_headers; h++)
        api_put_str(b, j->custom_headers[h].key, j->custom_headers[h].value, h > 0);
    bt_buf_putc(b, '}');
    api_put_str(b, "worker", j->worker, true);
    api_put_int(b, "retries", j->retries, true);
    api_put_int(b, "deadline", j->deadline_ms, true);
    bt_buf_puts(b, ",\"variables\":");
    bt_buf_puts(b, j->variables_json ? j->variables_json : "{}");
    api_put_str(b, "tenantId", "<default>", true);
    api_put_key(b, "jobKey", j->key, true);
    api_put_key(b, "processInstanceKey", j->process_instance_key, true);
    api_put_key(b, "processDefinitionKey", j->process_definition_key, true);
    api_put_key(b, "elementInstanceKey", j->element_instance_key, true);
    api_put_key(b, "rootProcessInstanceKey", j->process_instance_key, true);
    bt_buf_puts(b, ",\"kind\":\"BPMN_ELEMENT\",\"listenerEventType\":\"UNSPECIFIED\","
                   "\"tags\":[],\"userTask\":null}");
}

/* s1 type, s2 worker, i1 timeout, i2 max jobs, names fetchVariable. */
static int activate_apply(api_call *c, eng_engine *e, store *s, int64_t now, bt_error *err) {
    (void)s;
    (void)err;
    int max = (int)c->i2;
    eng_job_view *views = bt_xcalloc((size_t)max, sizeof *views);
    int n = 0;
    eng_jobs_activate(e, now, c->s1, c->s2, c->i1, max, c->names, c->names ? c->n_names : 0, views,
                      &n);
    if (n == 0 && c->flag) { /* long polling */
        bt_free(views);
        if (!c->cmd.park_until)
            c->cmd.park_until = now + c->i3;
        return RT_PARK;
    }
    bt_buf_reset(&c->out);
    bt_buf_puts(&c->out, "{\"jobs\":[");
    for (int i = 0; i < n; i++) {
        if (i)
            bt_buf_putc(&c->out, ',');
        job_json(&c->out, &views[i]);
    }
    bt_buf_puts(&c->out, "]}");
    eng_job_views_free(views, n);
    bt_free(views);
    return BT_OK;
}

static void activate_done(api_call *c, int rc, const bt_error *err) {
    if (rc == RT_TIMEOUT) {
        http_respond_json(c->ex, 200, "{\"jobs\":[]}", 11);
        return;
    }
    api_done_json(c, rc, err);
}

int api_jobs_activate(http_exchange *ex, const http_request *req, void *app) {
    api *a = app;
    static const char *const fields[] = {"type",
                                         "worker",
                                         "timeout",
                                         "maxJobsToActivate",
                                         "fetchVariable",
                                         "requestTimeout",
                                         "tenantIds",
                                         "tenantFilter",
                                         NULL};
    feel_value *body;
    if (api_body_object(ex, req, false, &body))
        return 0;
    api_call *c = api_call_new(a, ex, activate_apply, activate_done);
    c->body = body;
    int64_t request_timeout = 0;
    bool has_rt = false;
    if (api_check_fields(ex, body, fields) || api_field_string(ex, body, "type", true, &c->s1) ||
        api_field_string(ex, body, "worker", false, &c->s2) ||
        api_field_int(ex, body, "timeout", true, &c->i1, NULL) ||
        api_field_int(ex, body, "maxJobsToActivate", true, &c->i2, NULL) ||
        api_field_int(ex, body, "requestTimeout", false, &request_timeout, &has_rt) ||
        api_field_names(ex, body, "fetchVariable", c)) {
        api_call_free(c);
        return 0;
    }
    if (!c->s1[0] || c->i1 <= 0 || c->i2 <= 0 || c->i2 > 10000) {
        http_respond_problem(ex, 400, "INVALID_ARGUMENT",
                             !c->s1[0]    ? "the job type must not be empty"
                             : c->i1 <= 0 ? "the timeout must be a positive number of milliseconds"
                                          : "maxJobsToActivate must be between 1 and 10000");
        api_call_free(c);
        return 0;
    }
    if (!c->s2)
        c->s2 = bt_xstrdup("");
    if (request_timeout == 0)
        request_timeout = a->cfg.default_poll_timeout_ms;
    c->flag = request_timeout > 0;
    c->i3 = request_timeout;
    return api_call_submit(c);
}

/* ---- completion, failure, error, update ----------------------------------------- */

static int complete_apply(api_call *c, eng_engine *e, store *s, int64_t now, bt_error *err) {
    (void)s;
    return eng_job_complete(e, now, c->key, c->variables, err);
}

int api_job_complete(http_exchange *ex, const http_request *req, void *app) {
    static const char *const fields[] = {"variables", "result", NULL};
    uint64_t key;
    feel_value *body;
    if (api_path_key(ex, req, "jobKey", &key) || api_body_object(ex, req, true, &body))
        return 0;
    api_call *c = api_call_new(app, ex, complete_apply, api_done_no_content);
    c->body = body;
    c->key = key;
    if (api_check_fields(ex, body, fields) ||
        api_field_variables(ex, app, body, "variables", &c->variables)) {
        api_call_free(c);
        return 0;
    }
    return api_call_submit(c);
}

/* i1 retries, i2 back-off, s1 message. */
static int fail_apply(api_call *c, eng_engine *e, store *s, int64_t now, bt_error *err) {
    (void)s;
    return eng_job_fail(e, now, c->key, (int)c->i1, c->s1, c->i2, c->variables, err);
}

int api_job_fail(http_exchange *ex, const http_request *req, void *app) {
    static const char *const fields[] = {"retries", "errorMessage", "retryBackOff", "variables",
                                         NULL};
    uint64_t key;
    feel_value *body;
    if (api_path_key(ex, req, "jobKey", &key) || api_body_object(ex, req, true, &body))
        return 0;
    api_call *c = api_call_new(app, ex, fail_apply, api_done_no_content);
    c->body = body;
    c->key = key;
    if (api_check_fields(ex, body, fields) ||
        api_field_int(ex, body, "retries", false, &c->i1, NULL) ||
        api_field_string(ex, body, "errorMessage", false, &c->s1) ||
        api_field_int(ex, body, "retryBackOff", false, &c->i2, NULL) ||
        api_field_variables(ex, app, body, "variables", &c->variables)) {
        api_call_free(c);
        return 0;
    }
    if (c->i1 < 0 || c->i1 > 1000000 || c->i2 < 0) {
        http_respond_problem(ex, 400, "INVALID_ARGUMENT",
                             c->i2 < 0 ? "retryBackOff must not be negative"
                                       : "retries must be between 0 and 1000000");
        api_call_free(c);
        return 0;
    }
    return api_call_submit(c);
}

/* s1 code, s2 message. */
static int error_apply(api_call *c, eng_engine *e, store *s, int64_t now, bt_error *err) {
    (void)s;
    return eng_job_throw_error(e, now, c->key, c->s1, c->s2, c->variables, err);
}

int api_job_error(http_exchange *ex, const http_request *req, void *app) {
    static const char *const fields[] = {"errorCode", "errorMessage", "variables", NULL};
    uint64_t key;
    feel_value *body;
    if (api_path_key(ex, req, "jobKey", &key) || api_body_object(ex, req, false, &body))
        return 0;
    api_call *c = api_call_new(app, ex, error_apply, api_done_no_content);
    c->body = body;
    c->key = key;
    if (api_check_fields(ex, body, fields) ||
        api_field_string(ex, body, "errorCode", true, &c->s1) ||
        api_field_string(ex, body, "errorMessage", false, &c->s2) ||
        api_field_variables(ex, app, body, "variables", &c->variables)) {
        api_call_free(c);
        return 0;
    }
    if (!c->s1[0]) {
        http_respond_problem(ex, 400, "INVALID_ARGUMENT", "errorCode must not be empty");
        api_call_free(c);
        return 0;
    }
    return api_call_submit(c);
}

/* i1 retries (flag: given), i2 timeout (s1 != NULL: given). Never half
 * applied: the values were checked by the handler, so only the timeout
 * change can still be refused (job not activated), and it goes first. */
static int update_apply(api_call *c, eng_engine *e, store *s, int64_t now, bt_error *err) {
    (void)s;
    int rc = BT_OK;
    if (c->s1)
        rc = eng_job_update_timeout(e, now, c->key, c->i2, err);
    if (rc == BT_OK && c->flag)
        rc = eng_job_update_retries(e, now, c->key, (int)c->i1, err);
    return rc;
}

int api_job_update(http_exchange *ex, const http_request *req, void *app) {
    static const char *const fields[] = {"changeset", "operationReference", NULL};
    static const char *const changes[] = {"retries", "timeout", NULL};
    uint64_t key;
    feel_value *body;
    if (api_path_key(ex, req, "jobKey", &key) || api_body_object(ex, req, false, &body))
        return 0;
    api_call *c = api_call_new(app, ex, update_apply, api_done_no_content);
    c->body = body;
    c->key = key;
    const feel_value *cs = feel_context_get(body, "changeset", 9);
    bool has_timeout = false;
    if (api_check_fields(ex, body, fields)) {
        api_call_free(c);
        return 0;
    }
    if (!cs || feel_value_type(cs) != FEEL_CONTEXT) {
        http_respond_problem(ex, 400, "INVALID_ARGUMENT",
                             "the field 'changeset' must be an object");
        api_call_free(c);
        return 0;
    }
    if (api_check_fields(ex, cs, changes) ||
        api_field_int(ex, cs, "retries", false, &c->i1, &c->flag) ||
        api_field_int(ex, cs, "timeout", false, &c->i2, &has_timeout)) {
        api_call_free(c);
        return 0;
    }
    if (has_timeout)
        c->s1 = bt_xstrdup("timeout");
    if ((!c->flag && !has_timeout) || (c->flag && (c->i1 < 1 || c->i1 > 1000000)) ||
        (has_timeout && c->i2 <= 0)) {
        http_respond_problem(
            ex, 400, "INVALID_ARGUMENT",
            !c->flag && !has_timeout    ? "the changeset must set 'retries' or 'timeout'"
            : has_timeout && c->i2 <= 0 ? "the timeout must be a positive number of milliseconds"
                                        : "retries must be between 1 and 1000000");
        api_call_free(c);
        return 0;
    }
    return api_call_submit(c);
}
