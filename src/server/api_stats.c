/*
 * api_stats.c — the aggregate reads of the REST API that are not searches:
 *
 *   POST /v2/process-definitions/{key}/statistics/element-instances
 *        per element of one process version, how many of its element
 *        instances are active, completed, canceled (terminated), and how
 *        many active ones have an open incident. Answered from the search
 *        index by one GROUP BY over its elem_definition index
 *        (index_elem_stats_read): exact counts at a cost that follows the
 *        number of element instances of that version, not of the store.
 *        Like the searches of the index, it first waits (bounded) until the
 *        index holds every record committed before the request, so a
 *        client sees its own acknowledged changes. The process's own
 *        element (the instances themselves) is not an element of the
 *        diagram and is left out. The spec's optional instance filter is
 *        not supported yet: a non-empty one is refused with 400 rather
 *        than ignored.
 *
 *   GET  /v2/process-instances/{key}/sequence-flows
 *        the sequence flows the instance took, each once, in the order
 *        first taken: the instance's PROCESS_INSTANCE SEQUENCE_FLOW_TAKEN
 *        records, read from the record log (store_records_read). The log
 *        is the store's, read on the loop thread, so the answer is
 *        consistent without waiting for the index.
 */
#include "server/api_int.h"

#include <string.h>

#include "store/store.h"

/* ---- element statistics of a process definition ----------------------------------- */

typedef struct stats_call {
    api *api;
    index_db *index;
    api_index_wait wait;
} stats_call;

static void stats_call_free(void *p) {
    stats_call *sc = p;
    if (!sc)
        return;
    api_index_unwait(sc->api, &sc->wait);
    bt_free(sc);
}

typedef struct stats_out {
    bt_buf *b;
    const char *process_id; /* the process's own element: not reported */
    size_t n;
} stats_out;

static int stats_row(void *ud, const index_elem_stats *row) {
    stats_out *o = ud;
    if (o->process_id && !strcmp(row->element_id, o->process_id))
        return 0;
    bt_buf *b = o->b;
    bt_buf_puts(b, o->n++ ? ",{" : "{");
    api_put_str(b, "elementId", row->element_id, false);
    api_put_int(b, "active", row->active, true);
    api_put_int(b, "canceled", row->terminated, true);
    api_put_int(b, "incidents", row->incidents, true);
    api_put_int(b, "completed", row->completed, true);
    bt_buf_putc(b, '}');
    return 0;
}

static int stats_apply(api_call *c, eng_engine *e, store *st, int64_t now, bt_error *err) {
    stats_call *sc = c->extra;
    eng_definition_view d;
    if (eng_definition_get(e, c->key, &d) != BT_OK)
        return bt_error_set(err, BT_ENOTFOUND, "no process definition with key '%llu'",
                            (unsigned long long)c->key);
    if (!api_index_caught_up(sc->api, sc->index, st, now, &sc->wait)) {
        c->cmd.park_until = sc->wait.wait_end;
        return RT_PARK;
    }
    api_index_unwait(sc->api, &sc->wait);
    bt_buf *b = &c->out;
    bt_buf_puts(b, "{\"items\":[");
    stats_out o = {.b = b, .process_id = d.bpmn_process_id};
    int rc = index_elem_stats_read(sc->index, c->key, stats_row, &o);
    if (rc != BT_OK)
        return bt_error_set(err, rc, "the search index failed to count element instances");
    bt_buf_puts(b, "]}");
    return BT_OK;
}

int api_definition_element_stats(http_exchange *ex, const http_request *req, void *app) {
    static const char *const fields[] = {"filter", NULL};
    api *a = app;
    uint64_t key;
    if (api_path_key(ex, req, "processDefinitionKey", &key))
        return 0;
    if (!a->cfg.search_index) {
        http_respond_problem(ex, 501, "NOT_IMPLEMENTED", "this server runs without a search index");
        return 0;
    }
    feel_value *body;
    if (api_body_object(ex, req, true, &body))
        return 0;
    api_call *c = api_call_new(a, ex, stats_apply, api_done_json);
    c->body = body;
    c->key = key;
    stats_call *sc = bt_xcalloc(1, sizeof *sc);
    sc->api = a;
    sc->index = a->cfg.search_index;
    c->extra = sc;
    c->extra_free = stats_call_free;
    if (api_check_fields(ex, body, fields))
        goto refused;
    const feel_value *filter = feel_context_get(body, "filter", 6);
    if (filter && feel_value_type(filter) != FEEL_NULL) {
        if (feel_value_type(filter) != FEEL_CONTEXT) {
            http_respond_problem(ex, 400, "INVALID_ARGUMENT", "filter must be an object");
            goto refused;
        }
        if (feel_context_count(filter) > 0) {
            http_respond_problem(ex, 400, "INVALID_ARGUMENT",
                                 "filters on element statistics are not supported; send an "
                                 "empty filter for the counts of every instance");
            goto refused;
        }
    }
    return api_call_submit(c);
refused:
    api_call_free(c);
    return 0;
}

/* ---- sequence flows taken by an instance -------------------------------------------- */

/* The flows seen so far (ids, each once) and the record that could not be
 * read, if any. */
typedef struct flows_read {
    char **ids;
    size_t n, cap;
    int error;
} flows_read;

static int flow_record(void *ud, const store_record *r) {
    flows_read *fr = ud;
    if (strcmp(r->value_type, "PROCESS_INSTANCE") || strcmp(r->intent, "SEQUENCE_FLOW_TAKEN"))
        return 0;
    feel_value *v = NULL;
    if (feel_value_from_json(r->value, r->value_len, &v, NULL) != BT_OK) {
        bt_log(BT_LOG_WARN, "api: record %llu has no JSON object value",
               (unsigned long long)r->position);
        return 0; /* one bad record does not hide the others */
    }
    size_t len = 0;
    const feel_value *idv = feel_context_get(v, "elementId", 9);
    const char *id = idv ? feel_string_ptr(idv, &len) : NULL;
    bool seen = !id;
    for (size_t i = 0; i < fr->n && !seen; i++)
        seen = strlen(fr->ids[i]) == len && !memcmp(fr->ids[i], id, len);
    if (!seen) {
        if (fr->n == fr->cap) {
            fr->cap = fr->cap ? fr->cap * 2 : 16;
            fr->ids = bt_xrealloc(fr->ids, fr->cap * sizeof *fr->ids);
        }
        char *copy = bt_strndup(id, len);
        if (copy)
            fr->ids[fr->n++] = copy;
        else
            fr->error = BT_ENOMEM;
    }
    feel_value_unref(v);
    return fr->error;
}

static void flows_free(flows_read *fr) {
    for (size_t i = 0; i < fr->n; i++)
        bt_free(fr->ids[i]);
    bt_free(fr->ids);
}

static int flows_apply(api_call *c, eng_engine *e, store *st, int64_t now, bt_error *err) {
    (void)now;
    uint64_t definition_key;
    const char *process_id;
    eng_instance_view v;
    store_instance si;
    if (eng_instance_get(e, c->key, &v) == BT_OK) {
        definition_key = v.definition_key;
        process_id = v.bpmn_process_id;
    } else {
        int rc = store_instance_get(st, c->key, &si);
        if (rc == BT_ENOTFOUND)
            return bt_error_set(err, rc, "no process instance with key '%llu'",
                                (unsigned long long)c->key);
        if (rc != BT_OK)
            return bt_error_set(err, rc, "the store failed to read the instance");
        definition_key = si.definition_key;
        process_id = si.bpmn_process_id;
    }
    /* A copy: the store's row buffer may be reused by the read below. */
    char *pid = bt_strdup(process_id);
    flows_read fr = {0};
    int rc = pid ? store_records_read(st, c->key, 0, 0, flow_record, &fr) : BT_ENOMEM;
    if (rc == BT_OK)
        rc = fr.error;
    if (rc != BT_OK) {
        flows_free(&fr);
        bt_free(pid);
        return bt_error_set(err, rc, "the store failed to read the instance's records");
    }
    bt_buf *b = &c->out;
    bt_buf_puts(b, "{\"items\":[");
    for (size_t i = 0; i < fr.n; i++) {
        bt_buf_puts(b, i ? ",{" : "{");
        api_put_str(b, "sequenceFlowId", fr.ids[i], false);
        api_put_key(b, "processInstanceKey", c->key, true);
        api_put_key(b, "rootProcessInstanceKey", c->key, true);
        api_put_key(b, "processDefinitionKey", definition_key, true);
        api_put_str(b, "processDefinitionId", pid, true);
        api_put_str(b, "elementId", fr.ids[i], true);
        bt_buf_puts(b, ",\"tenantId\":\"<default>\"}");
    }
    bt_buf_puts(b, "]}");
    flows_free(&fr);
    bt_free(pid);
    return BT_OK;
}

int api_instance_sequence_flows(http_exchange *ex, const http_request *req, void *app) {
    uint64_t key;
    if (api_path_key(ex, req, "processInstanceKey", &key))
        return 0;
    api_call *c = api_call_new(app, ex, flows_apply, api_done_json);
    c->key = key;
    return api_call_submit(c);
}
