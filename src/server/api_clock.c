/*
 * api_clock.c — PUT /v2/clock (pin the engine's clock to a timestamp) and
 * POST /v2/clock/reset (back to the system clock), as Camunda 8 has them.
 *
 * The clock is the loop's (rt_config.clock reads api_config.pinned_clock:
 * 0 means the system clock). Pinning runs as a loop command, so it is
 * ordered with every other command, and the command also fires what is due
 * at the new time (timers, message time-to-live, job time-outs) before the
 * answer: a client that pins the clock past a timer sees its effect in its
 * next request. Pinning is off unless `baton serve --clock-control on` —
 * moving time by hand is for tests and demos, not production.
 */
#include "server/api_int.h"

static int clock_apply(api_call *c, eng_engine *e, store *s, int64_t now, bt_error *err) {
    (void)s;
    (void)err;
    (void)now;
    atomic_store(c->api->cfg.pinned_clock, c->i1);
    eng_tick(e, c->i1 ? c->i1 : bt_clock_now_ms());
    return BT_OK;
}

static int clock_request(http_exchange *ex, void *app, int64_t at) {
    api *a = app;
    if (!a->cfg.pinned_clock) {
        http_respond_problem(ex, 403, "FORBIDDEN",
                             "the clock cannot be changed: start baton serve with "
                             "--clock-control on (for tests only)");
        return 0;
    }
    api_call *c = api_call_new(app, ex, clock_apply, api_done_no_content);
    c->i1 = at;
    return api_call_submit(c);
}

int api_clock_pin(http_exchange *ex, const http_request *req, void *app) {
    static const char *const fields[] = {"timestamp", NULL};
    feel_value *body;
    int64_t at = 0;
    if (api_body_object(ex, req, false, &body))
        return 0;
    int bad =
        api_check_fields(ex, body, fields) || api_field_int(ex, body, "timestamp", true, &at, NULL);
    feel_value_unref(body);
    if (bad)
        return 0;
    if (at <= 0) {
        http_respond_problem(ex, 400, "INVALID_ARGUMENT",
                             "timestamp must be a positive number of milliseconds since the "
                             "epoch");
        return 0;
    }
    return clock_request(ex, app, at);
}

int api_clock_reset(http_exchange *ex, const http_request *req, void *app) {
    (void)req;
    return clock_request(ex, app, 0);
}
