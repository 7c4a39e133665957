/*
 * api_history.c — an instance's history, straight from the record log.
 * Not in the Camunda 8 REST API: a baton addition, shaped like the spec's
 * searches.
 *
 *   POST /v2/process-instances/{key}/history/search
 *        body {page: {from, limit}} (both optional; limit 1..10000,
 *        default 1000) → {items: [{position, key, timestamp, valueType,
 *        intent, value}], page: {totalItems}}: every record of the
 *        instance (element lifecycle, jobs, incidents, variables, ...), in
 *        position order, `value` being the record's own JSON object.
 *
 * Like the sequence flows (api_stats.c) the log is read on the loop thread
 * with store_records_read, so the answer is consistent with every
 * acknowledged command without waiting for the search index. The whole of
 * the instance's log is walked to count totalItems; only the page is
 * written. An unknown instance — neither in the engine nor in the store —
 * is a 404, as for GET /v2/process-instances/{key}.
 */
#include "server/api_int.h"

#include <string.h>

#include "store/store.h"

enum { HISTORY_DEFAULT_LIMIT = 1000, HISTORY_MAX_LIMIT = 10000 };

/* The page being written: records [from, from + limit) of the log, counted
 * from 0; `seen` counts every record of the instance. */
typedef struct history_page {
    bt_buf *b;
    int64_t from, limit;
    int64_t seen;
    int64_t written;
} history_page;

/* A store value is a JSON object the engine wrote; a value that does not
 * even look like one (a damaged row) is answered as null rather than
 * breaking the whole answer's JSON. */
static bool looks_like_object(const char *v, size_t len) {
    while (len && (*v == ' ' || *v == '\n' || *v == '\t' || *v == '\r'))
        v++, len--;
    while (len &&
           (v[len - 1] == ' ' || v[len - 1] == '\n' || v[len - 1] == '\t' || v[len - 1] == '\r'))
        len--;
    return len >= 2 && v[0] == '{' && v[len - 1] == '}';
}

static int history_record(void *ud, const store_record *r) {
    history_page *p = ud;
    int64_t i = p->seen++;
    if (i < p->from || i - p->from >= p->limit)
        return 0;
    bt_buf *b = p->b;
    bt_buf_puts(b, p->written++ ? ",{" : "{");
    bt_buf_puts(b, "\"position\":");
    bt_buf_put_u64(b, r->position);
    api_put_key(b, "key", r->key, true);
    api_put_time(b, "timestamp", r->timestamp_ms, true);
    api_put_str(b, "valueType", r->value_type, true);
    api_put_str(b, "intent", r->intent, true);
    bt_buf_puts(b, ",\"value\":");
    if (r->value && looks_like_object(r->value, r->value_len)) {
        bt_buf_append(b, r->value, r->value_len);
    } else {
        bt_log(BT_LOG_WARN, "api: record %llu has no JSON object value",
               (unsigned long long)r->position);
        bt_buf_puts(b, "null");
    }
    bt_buf_putc(b, '}');
    return 0;
}

static int history_apply(api_call *c, eng_engine *e, store *st, int64_t now, bt_error *err) {
    (void)now;
    eng_instance_view v;
    if (eng_instance_get(e, c->key, &v) != BT_OK) {
        store_instance si;
        int rc = store_instance_get(st, c->key, &si);
        if (rc == BT_ENOTFOUND)
            return bt_error_set(err, rc, "no process instance with key '%llu'",
                                (unsigned long long)c->key);
        if (rc != BT_OK)
            return bt_error_set(err, rc, "the store failed to read the instance");
    }
    bt_buf *b = &c->out;
    bt_buf_puts(b, "{\"items\":[");
    history_page p = {.b = b, .from = c->i1, .limit = c->i2};
    int rc = store_records_read(st, c->key, 0, 0, history_record, &p);
    if (rc != BT_OK)
        return bt_error_set(err, rc, "the store failed to read the instance's records");
    bt_buf_puts(b, "],\"page\":{");
    api_put_int(b, "totalItems", p.seen, false);
    bt_buf_puts(b, "}}");
    return BT_OK;
}

int api_instance_history(http_exchange *ex, const http_request *req, void *app) {
    static const char *const fields[] = {"page", NULL};
    static const char *const page_fields[] = {"from", "limit", NULL};
    uint64_t key;
    if (api_path_key(ex, req, "processInstanceKey", &key))
        return 0;
    feel_value *body;
    if (api_body_object(ex, req, true, &body))
        return 0;
    api_call *c = api_call_new(app, ex, history_apply, api_done_json);
    c->body = body;
    c->key = key;
    c->i1 = 0;
    c->i2 = HISTORY_DEFAULT_LIMIT;
    if (api_check_fields(ex, body, fields))
        goto refused;
    const feel_value *page = feel_context_get(body, "page", 4);
    if (page && feel_value_type(page) != FEEL_NULL) {
        if (feel_value_type(page) != FEEL_CONTEXT) {
            http_respond_problem(ex, 400, "INVALID_ARGUMENT", "page must be an object");
            goto refused;
        }
        if (api_check_fields(ex, page, page_fields) ||
            api_field_int(ex, page, "from", false, &c->i1, NULL) ||
            api_field_int(ex, page, "limit", false, &c->i2, NULL))
            goto refused;
        if (c->i1 < 0 || c->i2 < 1 || c->i2 > HISTORY_MAX_LIMIT) {
            http_respond_problem(ex, 400, "INVALID_ARGUMENT",
                                 "page.from must be >= 0 and page.limit between 1 and 10000");
            goto refused;
        }
    }
    return api_call_submit(c);
refused:
    api_call_free(c);
    return 0;
}
