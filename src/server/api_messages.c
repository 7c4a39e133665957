/*
 * api_messages.c — messages: POST /v2/messages/publication (buffered for
 * `timeToLive`, deduplicated by `messageId`, answered once durable, without
 * waiting for correlation) and POST /v2/messages/correlation (correlated at
 * once, not buffered; answers the first instance it reached, 404 when
 * nothing takes it). Correlation rules: src/engine/messages.c.
 */
#include "server/api_int.h"

#include <string.h>

/* s1 name, s2 correlation key, s3 message id, i1 time to live; the answer
 * carries c->key (the message) and i2 (the instance, correlation only). */
static int message_apply(api_call *c, eng_engine *e, store *s, int64_t now, bt_error *err) {
    (void)s;
    eng_message_pub pub = {c->s1, c->s2, c->i1, c->s3, c->variables};
    uint64_t instance = 0;
    int rc = c->flag ? eng_message_correlate(e, now, &pub, &c->key, &instance, err)
                     : eng_message_publish(e, now, &pub, &c->key, err);
    if (rc != BT_OK)
        return rc;
    bt_buf *b = &c->out;
    bt_buf_putc(b, '{');
    api_put_str(b, "tenantId", "<default>", false);
    api_put_key(b, "messageKey", c->key, true);
    if (c->flag)
        api_put_key(b, "processInstanceKey", instance, true);
    bt_buf_putc(b, '}');
    return BT_OK;
}

static int message_request(http_exchange *ex, const http_request *req, void *app, bool correlate) {
    static const char *const publish_fields[] = {
        "name", "correlationKey", "timeToLive", "messageId", "variables", "tenantId", NULL};
    static const char *const correlate_fields[] = {"name", "correlationKey", "variables",
                                                   "tenantId", NULL};
    feel_value *body;
    if (api_body_object(ex, req, false, &body))
        return 0;
    api_call *c = api_call_new(app, ex, message_apply, api_done_json);
    c->body = body;
    c->flag = correlate;
    char *tenant = NULL;
    if (api_check_fields(ex, body, correlate ? correlate_fields : publish_fields) ||
        api_field_string(ex, body, "name", true, &c->s1) ||
        api_field_string(ex, body, "correlationKey", false, &c->s2) ||
        api_field_string(ex, body, "tenantId", false, &tenant) ||
        (!correlate && (api_field_int(ex, body, "timeToLive", false, &c->i1, NULL) ||
                        api_field_string(ex, body, "messageId", false, &c->s3))) ||
        api_field_variables(ex, app, body, "variables", &c->variables)) {
        bt_free(tenant);
        api_call_free(c);
        return 0;
    }
    bool bad_tenant = tenant && strcmp(tenant, "<default>") != 0;
    bt_free(tenant);
    if (bad_tenant || !c->s1[0] || c->i1 < 0) {
        http_respond_problem(ex, 400, "INVALID_ARGUMENT",
                             bad_tenant  ? "tenantId: baton has one tenant, '<default>'"
                             : c->i1 < 0 ? "timeToLive must not be negative"
                                         : "name must not be empty");
        api_call_free(c);
        return 0;
    }
    return api_call_submit(c);
}

int api_message_publish(http_exchange *ex, const http_request *req, void *app) {
    return message_request(ex, req, app, false);
}

int api_message_correlate(http_exchange *ex, const http_request *req, void *app) {
    return message_request(ex, req, app, true);
}
