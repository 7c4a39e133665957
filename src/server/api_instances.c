/*
 * api_instances.c — deployments, process instances (create, await, cancel,
 * read), incident resolution and variables.
 *
 * awaitCompletion: the created instance's call is parked in the loop and
 * looked at after every batch; when the instance has completed, the answer
 * carries its final variables (all, or those of fetchVariables). The final
 * variables live in the engine until the end of the batch in which the
 * instance completed, and parked calls are looked at before that end.
 */
#include "server/api_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- deployments ---------------------------------------------------------- */

#define MAX_RESOURCES 32

typedef struct deploy_req {
    int n;
    char *names[MAX_RESOURCES];
    char *data[MAX_RESOURCES];
    size_t len[MAX_RESOURCES];
} deploy_req;

static void deploy_req_free(void *p) {
    deploy_req *d = p;
    if (!d)
        return;
    for (int i = 0; i < d->n; i++) {
        bt_free(d->names[i]);
        bt_free(d->data[i]);
    }
    bt_free(d);
}

static int deploy_part(void *ud, const http_part *part) {
    deploy_req *d = ud;
    if (strcmp(part->name, "tenantId") == 0)
        return 0; /* single-tenant: accepted and ignored */
    if (strcmp(part->name, "resources") != 0)
        return BT_EINVAL;
    if (d->n == MAX_RESOURCES)
        return BT_ELIMIT;
    int i = d->n++;
    d->names[i] = bt_xstrdup(part->filename && *part->filename ? part->filename : "resource.bpmn");
    d->data[i] = bt_xmalloc(part->len + 1);
    memcpy(d->data[i], part->data, part->len);
    d->data[i][part->len] = 0;
    d->len[i] = part->len;
    return 0;
}

static int deploy_apply(api_call *c, eng_engine *e, store *s, int64_t now, bt_error *err) {
    (void)s;
    deploy_req *d = c->extra;
    eng_resource res[MAX_RESOURCES];
    for (int i = 0; i < d->n; i++)
        res[i] = (eng_resource){d->names[i], d->data[i], d->len[i]};
    eng_deployment dep;
    bpmn_errors *errs = bt_xcalloc(1, sizeof *errs);
    int rc = eng_deploy(e, now, res, d->n, &dep, errs);
    if (rc != BT_OK) {
        /* The detail lists every problem: element id, line (and column). */
        bt_buf detail = BT_BUF_INIT;
        bt_buf_puts(&detail, "the deployment was rejected: ");
        int shown = errs->count < BPMN_MAX_ERRORS ? errs->count : BPMN_MAX_ERRORS;
        for (int i = 0; i < shown; i++) {
            if (i)
                bt_buf_puts(&detail, "; ");
            bt_buf_puts(&detail, errs->items[i].message);
        }
        if (errs->count > shown)
            bt_buf_printf(&detail, "; and %d more", errs->count - shown);
        bt_free(c->s1);
        c->s1 = bt_buf_take(&detail);
        bt_error_set(err, rc, "%s", c->s1 ? c->s1 : "the deployment was rejected");
        bt_free(errs);
        return rc == BT_ENOMEM ? BT_ENOMEM : BT_EINVAL;
    }
    bt_free(errs);
    bt_buf *b = &c->out;
    bt_buf_putc(b, '{');
    api_put_key(b, "deploymentKey", dep.key, false);
    api_put_str(b, "tenantId", "<default>", true);
    bt_buf_puts(b, ",\"deployments\":[");
    for (int i = 0; i < dep.n_processes; i++) {
        const eng_deployed_process *p = &dep.processes[i];
        bt_buf_puts(b, i ? ",{\"processDefinition\":{" : "{\"processDefinition\":{");
        api_put_str(b, "processDefinitionId", p->bpmn_process_id, false);
        api_put_int(b, "processDefinitionVersion", p->version, true);
        api_put_str(b, "resourceName", p->resource_name, true);
        api_put_str(b, "tenantId", "<default>", true);
        api_put_key(b, "processDefinitionKey", p->definition_key, true);
        bt_buf_puts(b, "},\"decisionDefinition\":null,\"decisionRequirements\":null,"
                       "\"form\":null,\"resource\":null}");
    }
    bt_buf_puts(b, "]}");
    return BT_OK;
}

int api_deploy(http_exchange *ex, const http_request *req, void *app) {
    deploy_req *d = bt_xcalloc(1, sizeof *d);
    bt_error perr = {0};
    int rc = http_request_multipart(req, deploy_part, d, &perr);
    if (rc != BT_OK || d->n == 0) {
        char detail[600];
        snprintf(detail, sizeof detail, "%s",
                 rc == BT_ELIMIT                      ? "a deployment holds at most 32 resources"
                 : rc == BT_EINVAL && perr.message[0] ? perr.message
                 : rc == BT_EINVAL ? "only 'resources' and 'tenantId' parts are allowed"
                                   : "the deployment has no 'resources' part");
        http_respond_problem(ex, 400, "INVALID_ARGUMENT", detail);
        deploy_req_free(d);
        return 0;
    }
    api_call *c = api_call_new(app, ex, deploy_apply, api_done_json);
    c->extra = d;
    c->extra_free = deploy_req_free;
    return api_call_submit(c);
}

/* ---- process instances ------------------------------------------------------------- */

static void instance_result(api_call *c, const eng_instance_view *v, const feel_value *vars) {
    bt_buf *b = &c->out;
    bt_buf_reset(b);
    bt_buf_putc(b, '{');
    api_put_str(b, "processDefinitionId", v->bpmn_process_id, false);
    api_put_int(b, "processDefinitionVersion", v->version, true);
    api_put_str(b, "tenantId", "<default>", true);
    bt_buf_puts(b, ",\"variables\":");
    if (vars) {
        if (feel_value_to_json(vars, b) != BT_OK)
            abort();
    } else {
        bt_buf_puts(b, "{}");
    }
    api_put_key(b, "processDefinitionKey", v->definition_key, true);
    api_put_key(b, "processInstanceKey", v->key, true);
    bt_buf_puts(b, ",\"tags\":[]");
    api_put_str(b, "businessId", v->business_id, true);
    bt_buf_putc(b, '}');
}

/* The variables to answer with: all, or the fetchVariables names. */
static feel_value *chosen_variables(api_call *c, eng_engine *e, uint64_t key) {
    feel_value *all = eng_variables_visible(e, key);
    if (!all || !c->names)
        return all;
    feel_value *some = feel_context_new();
    if (!some)
        abort();
    for (int i = 0; i < c->n_names; i++) {
        const feel_value *v = feel_context_get(all, c->names[i], strlen(c->names[i]));
        if (v && feel_context_put(some, c->names[i], strlen(c->names[i]),
                                  feel_value_ref((feel_value *)v)) != BT_OK)
            abort();
    }
    feel_value_unref(all);
    return some;
}

/* s1 process id, i1 version, i2 definition key, s2 business id, flag await,
 * i3 await timeout; key: the created instance (0 before). */
static int create_apply(api_call *c, eng_engine *e, store *s, int64_t now, bt_error *err) {
    (void)s;
    if (!c->key) {
        eng_start st = {.bpmn_process_id = c->s1,
                        .version = (int)c->i1,
                        .definition_key = (uint64_t)c->i2,
                        .variables = c->variables,
                        .business_id = c->s2};
        int rc = eng_instance_create(e, now, &st, &c->key, err);
        if (rc != BT_OK)
            return rc;
        if (c->flag)
            c->cmd.park_until = now + c->i3;
    }
    eng_instance_view v;
    if (eng_instance_get(e, c->key, &v) != BT_OK)
        return bt_error_set(err, BT_ENOTFOUND, "the process instance %llu is gone",
                            (unsigned long long)c->key);
    if (c->flag && v.state == ENG_INSTANCE_ACTIVE)
        return RT_PARK;
    if (c->flag && v.state == ENG_INSTANCE_TERMINATED)
        return bt_error_set(err, BT_ECONFLICT,
                            "the process instance %llu was terminated before it completed",
                            (unsigned long long)c->key);
    feel_value *vars = c->flag ? chosen_variables(c, e, c->key) : NULL;
    instance_result(c, &v, vars);
    feel_value_unref(vars);
    return BT_OK;
}

static void create_done(api_call *c, int rc, const bt_error *err) {
    if (rc == RT_TIMEOUT) {
        char detail[200];
        snprintf(detail, sizeof detail,
                 "the process instance %llu was created but did not complete within the "
                 "request timeout",
                 (unsigned long long)c->key);
        http_respond_problem(c->ex, 504, "DEADLINE_EXCEEDED", detail);
        return;
    }
    api_done_json(c, rc, err);
}

int api_instance_create(http_exchange *ex, const http_request *req, void *app) {
    api *a = app;
    static const char *const fields[] = {"processDefinitionId",
                                         "processDefinitionKey",
                                         "processDefinitionVersion",
                                         "variables",
                                         "tenantId",
                                         "operationReference",
                                         "startInstructions",
                                         "runtimeInstructions",
                                         "awaitCompletion",
                                         "fetchVariables",
                                         "requestTimeout",
                                         "tags",
                                         "businessId",
                                         NULL};
    feel_value *body;
    if (api_body_object(ex, req, false, &body))
        return 0;
    api_call *c = api_call_new(a, ex, create_apply, create_done);
    c->body = body;
    uint64_t def_key = 0;
    int64_t timeout = 0;
    c->i1 = -1;
    if (api_check_fields(ex, body, fields) ||
        api_field_string(ex, body, "processDefinitionId", false, &c->s1) ||
        api_field_key(ex, body, "processDefinitionKey", false, &def_key) ||
        api_field_int(ex, body, "processDefinitionVersion", false, &c->i1, NULL) ||
        api_field_variables(ex, a, body, "variables", &c->variables) ||
        api_field_bool(ex, body, "awaitCompletion", &c->flag) ||
        api_field_names(ex, body, "fetchVariables", c) ||
        api_field_int(ex, body, "requestTimeout", false, &timeout, NULL) ||
        api_field_string(ex, body, "businessId", false, &c->s2)) {
        api_call_free(c);
        return 0;
    }
    const feel_value *si = feel_context_get(body, "startInstructions", 17);
    const char *problem = NULL;
    if (!c->s1 && !def_key)
        problem = "either 'processDefinitionId' or 'processDefinitionKey' is required";
    else if (c->s1 && def_key)
        problem = "give 'processDefinitionId' or 'processDefinitionKey', not both";
    else if (si && feel_value_type(si) == FEEL_LIST && feel_list_count(si) > 0)
        problem = "startInstructions are not supported yet: instances start at the none start "
                  "event";
    if (problem) {
        http_respond_problem(ex, 400, "INVALID_ARGUMENT", problem);
        api_call_free(c);
        return 0;
    }
    c->i2 = (int64_t)def_key;
    c->i3 = timeout > 0 ? timeout : a->cfg.default_await_timeout_ms;
    return api_call_submit(c);
}

static int cancel_apply(api_call *c, eng_engine *e, store *s, int64_t now, bt_error *err) {
    (void)s;
    return eng_instance_cancel(e, now, c->key, err);
}

/* An operation on the entity named by the path's key, whose optional body
 * may only carry an operationReference; 204 when it is done. */
static int keyed_operation(http_exchange *ex, const http_request *req, void *app,
                           const char *key_name, api_apply_fn apply) {
    static const char *const fields[] = {"operationReference", NULL};
    uint64_t key;
    feel_value *body;
    if (api_path_key(ex, req, key_name, &key) || api_body_object(ex, req, true, &body))
        return 0;
    api_call *c = api_call_new(app, ex, apply, api_done_no_content);
    c->body = body;
    c->key = key;
    if (api_check_fields(ex, body, fields)) {
        api_call_free(c);
        return 0;
    }
    return api_call_submit(c);
}

int api_instance_cancel(http_exchange *ex, const http_request *req, void *app) {
    return keyed_operation(ex, req, app, "processInstanceKey", cancel_apply);
}

static const char *state_name(int state) {
    return state == ENG_INSTANCE_ACTIVE      ? "ACTIVE"
           : state == ENG_INSTANCE_COMPLETED ? "COMPLETED"
                                             : "TERMINATED";
}

void api_put_lineage(bt_buf *b, eng_engine *e, store *s, uint64_t key, uint64_t parent) {
    eng_instance_view v;
    bool active = eng_instance_get(e, key, &v) == BT_OK;
    if (!parent) {
        bt_buf_puts(b, ",\"parentProcessInstanceKey\":null,\"parentElementInstanceKey\":null");
        api_put_key(b, "rootProcessInstanceKey", key, true);
        return;
    }
    api_put_key(b, "parentProcessInstanceKey", parent, true);
    if (active && v.parent_element_instance_key)
        api_put_key(b, "parentElementInstanceKey", v.parent_element_instance_key, true);
    else
        bt_buf_puts(b, ",\"parentElementInstanceKey\":null");
    /* Up the parents: a hierarchy is at most a few levels deep; the bound
     * stops a corrupt store's cycle. */
    uint64_t root = parent;
    for (int depth = 0; root && depth < 1000; depth++) {
        uint64_t up = 0;
        store_instance si;
        if (eng_instance_get(e, root, &v) == BT_OK)
            up = v.parent_instance_key;
        else if (store_instance_get(s, root, &si) == BT_OK)
            up = si.parent_instance_key;
        else
            root = 0; /* unknown: null */
        if (!up)
            break;
        root = up;
    }
    if (root)
        api_put_key(b, "rootProcessInstanceKey", root, true);
    else
        bt_buf_puts(b, ",\"rootProcessInstanceKey\":null");
}

static void instance_json(bt_buf *b, eng_engine *e, store *s, uint64_t key, uint64_t parent,
                          uint64_t def_key, const char *process_id, int version, int state,
                          bool incident, const char *business_id, int64_t start_ms,
                          int64_t end_ms) {
    bt_buf_putc(b, '{');
    api_put_str(b, "processDefinitionId", process_id, false);
    bt_buf_puts(b, ",\"processDefinitionName\":null");
    api_put_int(b, "processDefinitionVersion", version, true);
    bt_buf_puts(b, ",\"processDefinitionVersionTag\":null");
    api_put_time(b, "startDate", start_ms, true);
    api_put_time(b, "endDate", end_ms, true);
    api_put_str(b, "state", state_name(state), true);
    bt_buf_puts(b, incident ? ",\"hasIncident\":true" : ",\"hasIncident\":false");
    api_put_str(b, "tenantId", "<default>", true);
    api_put_key(b, "processInstanceKey", key, true);
    api_put_key(b, "processDefinitionKey", def_key, true);
    api_put_lineage(b, e, s, key, parent);
    bt_buf_puts(b, ",\"tags\":[]");
    api_put_str(b, "businessId", business_id, true);
    bt_buf_putc(b, '}');
}

static int get_apply(api_call *c, eng_engine *e, store *s, int64_t now, bt_error *err) {
    (void)now;
    eng_instance_view v;
    if (eng_instance_get(e, c->key, &v) == BT_OK) {
        instance_json(&c->out, e, s, v.key, v.parent_instance_key, v.definition_key,
                      v.bpmn_process_id, v.version, v.state, v.has_incident, v.business_id,
                      v.start_ms, v.end_ms);
        return BT_OK;
    }
    store_instance si;
    int rc = store_instance_get(s, c->key, &si);
    if (rc == BT_ENOTFOUND)
        return bt_error_set(err, rc, "no process instance with key '%llu'",
                            (unsigned long long)c->key);
    if (rc != BT_OK)
        return bt_error_set(err, rc, "the store failed to read the instance");
    /* si's strings live in the store's row buffer, which the lineage's own
     * reads reuse: copies. */
    char *process_id = bt_xstrdup(si.bpmn_process_id);
    char *business_id = si.business_id ? bt_xstrdup(si.business_id) : NULL;
    instance_json(&c->out, e, s, si.key, si.parent_instance_key, si.definition_key, process_id,
                  si.version, si.state, si.has_incident, business_id, si.start_ms, si.end_ms);
    bt_free(process_id);
    bt_free(business_id);
    return BT_OK;
}

int api_instance_get(http_exchange *ex, const http_request *req, void *app) {
    uint64_t key;
    if (api_path_key(ex, req, "processInstanceKey", &key))
        return 0;
    api_call *c = api_call_new(app, ex, get_apply, api_done_json);
    c->key = key;
    return api_call_submit(c);
}

/* ---- incidents and variables ---------------------------------------------------------- */

static int resolve_apply(api_call *c, eng_engine *e, store *s, int64_t now, bt_error *err) {
    (void)s;
    return eng_incident_resolve(e, now, c->key, err);
}

int api_incident_resolve(http_exchange *ex, const http_request *req, void *app) {
    return keyed_operation(ex, req, app, "incidentKey", resolve_apply);
}

static int variables_apply(api_call *c, eng_engine *e, store *s, int64_t now, bt_error *err) {
    (void)s;
    return eng_variables_set(e, now, c->key, c->variables, c->flag, err);
}

int api_variables_set(http_exchange *ex, const http_request *req, void *app) {
    static const char *const fields[] = {"variables", "local", "operationReference", NULL};
    uint64_t key;
    feel_value *body;
    if (api_path_key(ex, req, "elementInstanceKey", &key) || api_body_object(ex, req, false, &body))
        return 0;
    api_call *c = api_call_new(app, ex, variables_apply, api_done_no_content);
    c->body = body;
    c->key = key;
    if (api_check_fields(ex, body, fields) ||
        api_field_variables(ex, app, body, "variables", &c->variables) ||
        api_field_bool(ex, body, "local", &c->flag)) {
        api_call_free(c);
        return 0;
    }
    if (!c->variables) {
        http_respond_problem(ex, 400, "INVALID_ARGUMENT", "the field 'variables' is required");
        api_call_free(c);
        return 0;
    }
    return api_call_submit(c);
}
