/*
 * api_signals.c — POST /v2/signals/broadcast: broadcast a signal to every
 * instance waiting for its name and to the processes that start with it;
 * answered once durable with {signalKey, tenantId}. A signal is not kept:
 * nothing waiting for it is not an error. Rules: src/engine/signals.c.
 */
#include "server/api_int.h"

#include <string.h>

/* s1 the signal's name; the answer carries c->key (the signal). */
static int signal_apply(api_call *c, eng_engine *e, store *s, int64_t now, bt_error *err) {
    (void)s;
    eng_signal sig = {c->s1, c->variables};
    int rc = eng_signal_broadcast(e, now, &sig, &c->key, err);
    if (rc != BT_OK)
        return rc;
    bt_buf *b = &c->out;
    bt_buf_putc(b, '{');
    api_put_str(b, "tenantId", "<default>", false);
    api_put_key(b, "signalKey", c->key, true);
    bt_buf_putc(b, '}');
    return BT_OK;
}

int api_signal_broadcast(http_exchange *ex, const http_request *req, void *app) {
    static const char *const fields[] = {"signalName", "variables", "tenantId", NULL};
    feel_value *body;
    if (api_body_object(ex, req, false, &body))
        return 0;
    api_call *c = api_call_new(app, ex, signal_apply, api_done_json);
    c->body = body;
    char *tenant = NULL;
    if (api_check_fields(ex, body, fields) ||
        api_field_string(ex, body, "signalName", true, &c->s1) ||
        api_field_string(ex, body, "tenantId", false, &tenant) ||
        api_field_variables(ex, app, body, "variables", &c->variables)) {
        bt_free(tenant);
        api_call_free(c);
        return 0;
    }
    bool bad_tenant = tenant && strcmp(tenant, "<default>") != 0;
    bt_free(tenant);
    if (bad_tenant || !c->s1[0]) {
        http_respond_problem(ex, 400, "INVALID_ARGUMENT",
                             bad_tenant ? "tenantId: baton has one tenant, '<default>'"
                                        : "signalName must not be empty");
        api_call_free(c);
        return 0;
    }
    return api_call_submit(c);
}
