/*
 * api_search.c — the searches of the REST API, by one mechanism:
 *
 *   request  {filter, sort, page}  parsed and checked on the HTTP thread;
 *   source   produces every candidate as a JSON object with the spec's
 *            field names, pushing exact filters down where it can
 *            (process instances: the whole request — filter, sort, page
 *            and count — when every field of it is a column of the
 *            store's table; see instances_pushdown):
 *            process definitions from the engine, process instances from
 *            the store's instance table, and jobs, incidents, variables and
 *            element instances from the search index (store/index.h), which
 *            keeps them after they end — resolved incidents, completed
 *            jobs, the variables and elements of ended instances;
 *   filter   generic: a field's filter is a value (equality) or an object of
 *            operators — $eq $neq $exists $in $notIn $like $gt $gte $lt $lte —
 *            and "$or" takes a list of filter objects;
 *   sort     generic over the listed fields (ASC/DESC, nulls last), then by
 *            the resource's key;
 *   page     {from, limit} or {limit} or the cursors {after}/{before}, which
 *            are opaque offsets; the answer is {items, page}.
 *
 * The search index is eventually consistent: the indexer thread applies
 * the record log after each commit. A search of it waits, parked and
 * bounded, until the index holds every record committed before the search
 * ran (search_apply), so a client sees its own acknowledged changes.
 *
 * Keys are JSON strings of digits; comparisons treat two digit strings as
 * numbers, so sorting by key is numeric. Dates are ISO 8601 UTC strings, so
 * ranges over them compare as strings.
 */
#include "server/api_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"

typedef struct search_kind search_kind;

/* A search in flight: the parsed request and the matches. */
typedef struct search {
    const search_kind *kind;
    const feel_value *filter; /* inside the call's body, or NULL */
    const feel_value *sort;   /* list, or NULL */
    int64_t from, limit;
    feel_value **items;
    size_t n, cap;
    int error; /* BT_ENOMEM etc. from a source */
    api *api;
    index_db *index;     /* the search index's read handle (indexed kinds) */
    api_index_wait wait; /* until the index has caught up with the log */
    bool paged;          /* the source sorted and paged: items are the page */
    int64_t total;       /* then: how many matched in all */
    eng_engine *engine;  /* instances: for their call hierarchy */
    store *store;
} search;

struct search_kind {
    const char *key_field; /* the resource's key, the last sort criterion */
    const char *const *filter_fields;
    const char *const *sort_fields;
    int (*source)(search *s, eng_engine *e, store *st, bt_error *err);
    bool indexed; /* reads the search index (else the engine and the store) */
};

/* ---- comparing values ------------------------------------------------------- */

static bool all_digits(const char *s, size_t n) {
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

/* The text of a number as a digit string when it is a non-negative integer. */
static bool number_digits(const feel_value *v, char out[24], size_t *n) {
    int64_t i;
    if (feel_number_to_int64(v, &i) != BT_OK || i < 0)
        return false;
    *n = (size_t)snprintf(out, 24, "%lld", (long long)i);
    return true;
}

/* -2: not comparable; else -1, 0, 1. */
static int value_cmp(const feel_value *a, const feel_value *b) {
    feel_type ta = feel_value_type(a), tb = feel_value_type(b);
    char buf_a[24], buf_b[24];
    size_t la, lb;
    const char *sa = feel_string_ptr(a, &la), *sb = feel_string_ptr(b, &lb);
    if (!sa && ta == FEEL_NUMBER && number_digits(a, buf_a, &la))
        sa = buf_a;
    if (!sb && tb == FEEL_NUMBER && number_digits(b, buf_b, &lb))
        sb = buf_b;
    if (ta == FEEL_NUMBER && tb == FEEL_NUMBER) {
        int64_t x, y;
        if (feel_number_to_int64(a, &x) == BT_OK && feel_number_to_int64(b, &y) == BT_OK)
            return x < y ? -1 : x > y;
        return feel_value_equal(a, b) ? 0 : -2;
    }
    if (sa && sb) {
        if (all_digits(sa, la) && all_digits(sb, lb) && la != lb)
            return la < lb ? -1 : 1; /* numeric order of keys */
        size_t m = la < lb ? la : lb;
        int c = memcmp(sa, sb, m);
        return c ? (c < 0 ? -1 : 1) : (la < lb ? -1 : la > lb);
    }
    if (ta == FEEL_BOOLEAN && tb == FEEL_BOOLEAN)
        return (int)feel_value_is_true(a) - (int)feel_value_is_true(b); /* false < true */
    return -2;
}

/* SQL-like wildcards of the spec: * any run, ? one character. */
static bool like(const char *p, size_t pn, const char *s, size_t sn) {
    size_t pi = 0, si = 0, star = (size_t)-1, mark = 0;
    while (si < sn) {
        if (pi < pn && (p[pi] == '?' || p[pi] == s[si])) {
            pi++;
            si++;
        } else if (pi < pn && p[pi] == '*') {
            star = pi++;
            mark = si;
        } else if (star != (size_t)-1) {
            pi = star + 1;
            si = ++mark;
        } else {
            return false;
        }
    }
    while (pi < pn && p[pi] == '*')
        pi++;
    return pi == pn;
}

static bool in_list(const feel_value *v, const feel_value *list) {
    if (feel_value_type(list) != FEEL_LIST)
        return false;
    for (size_t i = 0; i < feel_list_count(list); i++)
        if (value_cmp(v, feel_list_at(list, i)) == 0)
            return true;
    return false;
}

/* Does the item's value v (NULL: absent/null) satisfy the filter f? */
static bool field_matches(const feel_value *v, const feel_value *f) {
    if (feel_value_type(f) != FEEL_CONTEXT)
        return v && value_cmp(v, f) == 0;
    size_t n = feel_context_count(f);
    for (size_t i = 0; i < n; i++) {
        size_t len;
        const char *op = feel_context_key_at(f, i, &len);
        const feel_value *x = feel_context_value_at(f, i);
        bool ok;
        if (len == 3 && !memcmp(op, "$eq", 3))
            ok = v && value_cmp(v, x) == 0;
        else if (len == 4 && !memcmp(op, "$neq", 4))
            ok = !v || value_cmp(v, x) != 0;
        else if (len == 7 && !memcmp(op, "$exists", 7))
            ok = (v != NULL) == feel_value_is_true(x);
        else if (len == 3 && !memcmp(op, "$in", 3))
            ok = v && in_list(v, x);
        else if (len == 6 && !memcmp(op, "$notIn", 6))
            ok = !v || !in_list(v, x);
        else if (len == 5 && !memcmp(op, "$like", 5)) {
            size_t pn, sn;
            const char *p = feel_string_ptr(x, &pn), *sv = v ? feel_string_ptr(v, &sn) : NULL;
            ok = p && sv && like(p, pn, sv, sn);
        } else {
            int c = v ? value_cmp(v, x) : -2;
            if (c == -2)
                ok = false;
            else if (len == 3 && !memcmp(op, "$gt", 3))
                ok = c > 0;
            else if (len == 4 && !memcmp(op, "$gte", 4))
                ok = c >= 0;
            else if (len == 3 && !memcmp(op, "$lt", 3))
                ok = c < 0;
            else if (len == 4 && !memcmp(op, "$lte", 4))
                ok = c <= 0;
            else
                ok = false; /* unknown operators were refused at parse time */
        }
        if (!ok)
            return false;
    }
    return true;
}

static const feel_value *item_field(const feel_value *item, const char *name, size_t len) {
    const feel_value *v = feel_context_get(item, name, len);
    return v && feel_value_type(v) != FEEL_NULL ? v : NULL;
}

static bool item_matches(const feel_value *item, const feel_value *filter) {
    if (!filter)
        return true;
    size_t n = feel_context_count(filter);
    for (size_t i = 0; i < n; i++) {
        size_t len;
        const char *name = feel_context_key_at(filter, i, &len);
        const feel_value *f = feel_context_value_at(filter, i);
        if (feel_value_type(f) == FEEL_NULL)
            continue;
        if (len == 3 && !memcmp(name, "$or", 3)) {
            bool any = false;
            for (size_t k = 0; k < feel_list_count(f) && !any; k++)
                any = item_matches(item, feel_list_at(f, k));
            if (!any)
                return false;
            continue;
        }
        if (!field_matches(item_field(item, name, len), f))
            return false;
    }
    return true;
}

/* ---- collecting candidates ------------------------------------------------------ */

/* Offers a candidate, given as JSON text; keeps it when it matches. */
static void offer(search *s, bt_buf *json) {
    if (s->error)
        return;
    feel_value *item = NULL;
    if (json->failed || feel_value_from_json(json->data, json->len, &item, NULL) != BT_OK) {
        s->error = BT_ENOMEM;
        return;
    }
    if (!item_matches(item, s->filter)) {
        feel_value_unref(item);
        return;
    }
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 64;
        s->items = bt_xrealloc(s->items, s->cap * sizeof *s->items);
    }
    s->items[s->n++] = item;
}

/* The exact value of a filter field when it is a plain value or {$eq: v}. */
static const feel_value *exact(const search *s, const char *name) {
    if (!s->filter)
        return NULL;
    const feel_value *f = feel_context_get(s->filter, name, strlen(name));
    if (f && feel_value_type(f) == FEEL_CONTEXT)
        f = feel_context_get(f, "$eq", 3);
    return f && feel_value_type(f) != FEEL_NULL && feel_value_type(f) != FEEL_CONTEXT ? f : NULL;
}

static uint64_t exact_key(const search *s, const char *name) {
    const feel_value *v = exact(s, name);
    if (!v)
        return 0;
    size_t n;
    const char *str = feel_string_ptr(v, &n);
    int64_t i;
    if (str && all_digits(str, n) && n < 20)
        return strtoull(str, NULL, 10);
    if (!str && feel_number_to_int64(v, &i) == BT_OK && i > 0)
        return (uint64_t)i;
    return 0;
}

static char *exact_string(const search *s, const char *name) {
    const feel_value *v = exact(s, name);
    size_t n;
    const char *str = v ? feel_string_ptr(v, &n) : NULL;
    return str ? bt_strndup(str, n) : NULL;
}

/* ---- sources ----------------------------------------------------------------------- */

static int definition_item(void *ud, const eng_definition_view *d) {
    search *s = ud;
    const feel_value *latest = exact(s, "isLatestVersion");
    if (latest && feel_value_is_true(latest) && !d->is_latest)
        return 0;
    bt_buf b = BT_BUF_INIT;
    bt_buf_putc(&b, '{');
    api_put_key(&b, "processDefinitionKey", d->key, false);
    api_put_str(&b, "name", d->name, true);
    api_put_str(&b, "resourceName", d->resource_name, true);
    api_put_int(&b, "version", d->version, true);
    bt_buf_puts(&b, ",\"versionTag\":null");
    api_put_str(&b, "processDefinitionId", d->bpmn_process_id, true);
    bt_buf_puts(&b, ",\"tenantId\":\"<default>\",\"hasStartForm\":false,\"state\":\"ACTIVE\"}");
    offer(s, &b);
    bt_buf_free(&b);
    return s->error;
}

static int definitions_source(search *s, eng_engine *e, store *st, bt_error *err) {
    (void)st;
    (void)err;
    return eng_definitions_each(e, definition_item, s);
}

static const char *instance_state_name(int state) {
    return state == 1 ? "ACTIVE" : state == 2 ? "COMPLETED" : "TERMINATED";
}

static int instance_item(void *ud, const store_instance *si) {
    search *s = ud;
    bt_buf b = BT_BUF_INIT;
    bt_buf_putc(&b, '{');
    api_put_str(&b, "processDefinitionId", si->bpmn_process_id, false);
    bt_buf_puts(&b, ",\"processDefinitionName\":null");
    api_put_int(&b, "processDefinitionVersion", si->version, true);
    bt_buf_puts(&b, ",\"processDefinitionVersionTag\":null");
    api_put_time(&b, "startDate", si->start_ms, true);
    api_put_time(&b, "endDate", si->end_ms, true);
    api_put_str(&b, "state", instance_state_name(si->state), true);
    bt_buf_puts(&b, si->has_incident ? ",\"hasIncident\":true" : ",\"hasIncident\":false");
    bt_buf_puts(&b, ",\"tenantId\":\"<default>\"");
    api_put_key(&b, "processInstanceKey", si->key, true);
    api_put_key(&b, "processDefinitionKey", si->definition_key, true);
    api_put_lineage(&b, s->engine, s->store, si->key, si->parent_instance_key);
    bt_buf_puts(&b, ",\"tags\":[]");
    api_put_str(&b, "businessId", si->business_id, true);
    bt_buf_putc(&b, '}');
    offer(s, &b);
    bt_buf_free(&b);
    return s->error;
}

/* The sort fields of instances that are columns of the store's table. */
static const struct {
    const char *field;
    store_instance_column column;
} instance_columns[] = {
    {"processInstanceKey", STORE_COL_KEY},
    {"processDefinitionId", STORE_COL_BPMN_PROCESS_ID},
    {"processDefinitionVersion", STORE_COL_VERSION},
    {"processDefinitionKey", STORE_COL_DEFINITION_KEY},
    {"startDate", STORE_COL_START},
    {"endDate", STORE_COL_END},
    {"state", STORE_COL_STATE},
    {"hasIncident", STORE_COL_HAS_INCIDENT},
    {"businessId", STORE_COL_BUSINESS_ID},
};

/* Pushes the whole request down to the store when it can: every filter
 * field an exact value of a column (a plain value or {$eq}) of the type
 * the column holds, no $or, and every sort field a column. Then the store
 * filters, sorts, pages and counts, and only the page is built as JSON.
 * Returns false (f untouched but for the fields it set) when it cannot. */
static bool instances_pushdown(search *s, store_instance_filter *f, store_instance_order order[],
                               size_t max_order) {
    size_t n = s->filter ? feel_context_count(s->filter) : 0;
    for (size_t i = 0; i < n; i++) {
        size_t len;
        const char *name = feel_context_key_at(s->filter, i, &len);
        const feel_value *v = feel_context_value_at(s->filter, i);
        if (feel_value_type(v) == FEEL_NULL)
            continue; /* ignored by item_matches too */
        char field[32];
        if (len >= sizeof field)
            return false;
        memcpy(field, name, len);
        field[len] = 0;
        const feel_value *x = exact(s, field);
        if (!x || (feel_value_type(v) == FEEL_CONTEXT && feel_context_count(v) != 1))
            return false; /* an operator other than $eq, or $or */
        feel_type t = feel_value_type(x);
        int64_t num;
        if (!strcmp(field, "processInstanceKey")) {
            if (!(f->key = exact_key(s, field)))
                return false;
        } else if (!strcmp(field, "processDefinitionKey")) {
            if (!(f->definition_key = exact_key(s, field)))
                return false;
        } else if (!strcmp(field, "processDefinitionVersion")) {
            if (t != FEEL_NUMBER || feel_number_to_int64(x, &num) != BT_OK || num < 1 ||
                num > INT32_MAX)
                return false;
            f->version = (int)num;
        } else if (!strcmp(field, "hasIncident")) {
            if (t != FEEL_BOOLEAN)
                return false;
            f->has_incident = feel_value_is_true(x);
        } else if (!strcmp(field, "state")) {
            size_t sl;
            const char *sv = feel_string_ptr(x, &sl);
            int state = !sv                                         ? 0
                        : sl == 6 && !memcmp(sv, "ACTIVE", 6)       ? STORE_INSTANCE_ACTIVE
                        : sl == 9 && !memcmp(sv, "COMPLETED", 9)    ? STORE_INSTANCE_COMPLETED
                        : sl == 10 && !memcmp(sv, "TERMINATED", 10) ? STORE_INSTANCE_TERMINATED
                                                                    : 0;
            if (!state)
                return false;
            f->state = state;
        } else if (strcmp(field, "processDefinitionId") && strcmp(field, "businessId")) {
            return false; /* not a column, or $or */
        } else if (t != FEEL_STRING) {
            return false; /* the strings themselves are set by the caller */
        }
    }
    size_t m = s->sort ? feel_list_count(s->sort) : 0;
    if (m > max_order)
        return false;
    for (size_t i = 0; i < m; i++) {
        const feel_value *crit = feel_list_at(s->sort, i);
        size_t len, ol;
        const char *field = feel_string_ptr(feel_context_get(crit, "field", 5), &len);
        const feel_value *ov = feel_context_get(crit, "order", 5);
        const char *o = ov ? feel_string_ptr(ov, &ol) : NULL;
        bool found = false;
        for (size_t k = 0; k < BT_ARRAY_LEN(instance_columns) && !found; k++) {
            if (strlen(instance_columns[k].field) == len &&
                !memcmp(instance_columns[k].field, field, len)) {
                order[i].column = instance_columns[k].column;
                order[i].desc = o && ol == 4 && !strncasecmp(o, "DESC", 4);
                found = true;
            }
        }
        if (!found)
            return false;
    }
    f->order = order;
    f->n_order = m;
    return true;
}

static int instances_source(search *s, eng_engine *e, store *st, bt_error *err) {
    s->engine = e;
    s->store = st;
    store_instance_filter f = {.has_incident = -1};
    store_instance_order order[16];
    char *pid = exact_string(s, "processDefinitionId");
    char *bid = exact_string(s, "businessId");
    f.bpmn_process_id = pid;
    f.business_id = bid;
    if (instances_pushdown(s, &f, order, BT_ARRAY_LEN(order))) {
        f.offset = s->from;
        f.limit = s->limit;
        f.total = &s->total;
        s->paged = true;
    } else {
        /* The generic path: exact filters pushed down, the rest in memory. */
        f = (store_instance_filter){.has_incident = -1};
        f.key = exact_key(s, "processInstanceKey");
        f.definition_key = exact_key(s, "processDefinitionKey");
        char *state = exact_string(s, "state");
        const feel_value *ver = exact(s, "processDefinitionVersion");
        const feel_value *inc = exact(s, "hasIncident");
        int64_t v;
        if (ver && feel_number_to_int64(ver, &v) == BT_OK)
            f.version = (int)v;
        if (inc && feel_value_type(inc) == FEEL_BOOLEAN)
            f.has_incident = feel_value_is_true(inc);
        f.bpmn_process_id = pid;
        f.business_id = bid;
        if (state)
            f.state = !strcmp(state, "ACTIVE")       ? 1
                      : !strcmp(state, "COMPLETED")  ? 2
                      : !strcmp(state, "TERMINATED") ? 3
                                                     : 99;
        bt_free(state);
    }
    int rc = store_instances_search(st, &f, instance_item, s);
    bt_free(pid);
    bt_free(bid);
    if (rc < 0 && rc != s->error)
        bt_error_set(err, rc, "the store failed to search instances");
    return rc;
}

/* ---- sources read from the search index ---------------------------------------- */

static const char *str_or_null(const char *s) {
    return s && *s ? s : NULL;
}

static int index_failed(search *s, int rc, const char *what, bt_error *err) {
    if (rc < 0 && rc != s->error)
        bt_error_set(err, rc, "the search index failed to search %s", what);
    return rc;
}

static int incident_item(void *ud, const index_incident *v) {
    search *s = ud;
    bt_buf b = BT_BUF_INIT;
    bt_buf_putc(&b, '{');
    api_put_str(&b, "processDefinitionId", v->bpmn_process_id, false);
    api_put_str(&b, "errorType", v->error_type, true);
    api_put_str(&b, "errorMessage", v->error_message, true);
    api_put_str(&b, "elementId", v->element_id, true);
    api_put_time(&b, "creationTime", v->created_ms, true);
    api_put_str(&b, "state", v->state, true);
    bt_buf_puts(&b, ",\"tenantId\":\"<default>\"");
    api_put_key(&b, "incidentKey", v->key, true);
    api_put_key(&b, "processDefinitionKey", v->process_definition_key, true);
    api_put_key(&b, "processInstanceKey", v->process_instance_key, true);
    api_put_key(&b, "rootProcessInstanceKey", v->process_instance_key, true);
    api_put_key(&b, "elementInstanceKey", v->element_instance_key, true);
    if (v->job_key)
        api_put_key(&b, "jobKey", v->job_key, true);
    else
        bt_buf_puts(&b, ",\"jobKey\":null");
    bt_buf_putc(&b, '}');
    offer(s, &b);
    bt_buf_free(&b);
    return s->error;
}

static int incidents_source(search *s, eng_engine *e, store *st, bt_error *err) {
    (void)e;
    (void)st;
    index_incident_filter f = {
        .key = exact_key(s, "incidentKey"),
        .process_instance_key = exact_key(s, "processInstanceKey"),
        .process_definition_key = exact_key(s, "processDefinitionKey"),
        .element_instance_key = exact_key(s, "elementInstanceKey"),
        .job_key = exact_key(s, "jobKey"),
        .state = exact_string(s, "state"),
        .error_type = exact_string(s, "errorType"),
        .element_id = exact_string(s, "elementId"),
        .bpmn_process_id = exact_string(s, "processDefinitionId"),
    };
    int rc = index_incidents_search(s->index, &f, incident_item, s);
    bt_free((char *)f.state);
    bt_free((char *)f.error_type);
    bt_free((char *)f.element_id);
    bt_free((char *)f.bpmn_process_id);
    return index_failed(s, rc, "incidents", err);
}

static int job_item(void *ud, const index_job *j) {
    search *s = ud;
    bt_buf b = BT_BUF_INIT;
    bt_buf_putc(&b, '{');
    bt_buf_puts(&b, "\"customHeaders\":{}");
    api_put_str(&b, "elementId", j->element_id, true);
    api_put_key(&b, "elementInstanceKey", j->element_instance_key, true);
    bool retry_left = j->error_message && j->retries > 0 && !j->ended_ms;
    bt_buf_puts(&b, retry_left ? ",\"hasFailedWithRetriesLeft\":true"
                               : ",\"hasFailedWithRetriesLeft\":false");
    api_put_key(&b, "jobKey", j->key, true);
    bt_buf_puts(&b, ",\"kind\":\"BPMN_ELEMENT\",\"listenerEventType\":\"UNSPECIFIED\"");
    api_put_str(&b, "processDefinitionId", j->bpmn_process_id, true);
    api_put_key(&b, "processDefinitionKey", j->process_definition_key, true);
    api_put_key(&b, "processInstanceKey", j->process_instance_key, true);
    api_put_key(&b, "rootProcessInstanceKey", j->process_instance_key, true);
    api_put_int(&b, "retries", j->retries, true);
    api_put_str(&b, "state", j->state, true);
    bt_buf_puts(&b, ",\"tenantId\":\"<default>\"");
    api_put_str(&b, "type", j->type, true);
    api_put_str(&b, "worker", j->worker ? j->worker : "", true);
    api_put_time(&b, "deadline", j->deadline_ms, true);
    api_put_time(&b, "creationTime", j->created_ms, true);
    bt_buf_puts(&b, ",\"deniedReason\":null");
    api_put_time(&b, "endTime", j->ended_ms, true);
    api_put_str(&b, "errorCode", str_or_null(j->error_code), true);
    bt_buf_puts(&b, ",\"isDenied\":null");
    api_put_time(&b, "lastUpdateTime", j->updated_ms, true);
    api_put_str(&b, "errorMessage", j->error_message, true);
    bt_buf_putc(&b, '}');
    offer(s, &b);
    bt_buf_free(&b);
    return s->error;
}

static int jobs_source(search *s, eng_engine *e, store *st, bt_error *err) {
    (void)e;
    (void)st;
    index_job_filter f = {
        .key = exact_key(s, "jobKey"),
        .process_instance_key = exact_key(s, "processInstanceKey"),
        .element_instance_key = exact_key(s, "elementInstanceKey"),
        .process_definition_key = exact_key(s, "processDefinitionKey"),
        .type = exact_string(s, "type"),
        .state = exact_string(s, "state"),
        .element_id = exact_string(s, "elementId"),
        .bpmn_process_id = exact_string(s, "processDefinitionId"),
        .worker = exact_string(s, "worker"),
    };
    int rc = index_jobs_search(s->index, &f, job_item, s);
    bt_free((char *)f.worker);
    bt_free((char *)f.type);
    bt_free((char *)f.state);
    bt_free((char *)f.element_id);
    bt_free((char *)f.bpmn_process_id);
    return index_failed(s, rc, "jobs", err);
}

static int variable_item(void *ud, const index_variable *v) {
    search *s = ud;
    bt_buf b = BT_BUF_INIT;
    bt_buf_putc(&b, '{');
    api_put_str(&b, "name", v->name, false);
    bt_buf_puts(&b, ",\"value\":");
    bt_buf_json_string(&b, v->value ? v->value : "null", v->value ? strlen(v->value) : 4);
    bt_buf_puts(&b, ",\"isTruncated\":false,\"tenantId\":\"<default>\"");
    api_put_key(&b, "variableKey", v->key, true);
    api_put_key(&b, "scopeKey", v->scope_key, true);
    api_put_key(&b, "processInstanceKey", v->process_instance_key, true);
    api_put_key(&b, "rootProcessInstanceKey", v->process_instance_key, true);
    bt_buf_putc(&b, '}');
    offer(s, &b);
    bt_buf_free(&b);
    return s->error;
}

static int variables_source(search *s, eng_engine *e, store *st, bt_error *err) {
    (void)e;
    (void)st;
    index_variable_filter f = {
        .key = exact_key(s, "variableKey"),
        .scope_key = exact_key(s, "scopeKey"),
        .process_instance_key = exact_key(s, "processInstanceKey"),
        .name = exact_string(s, "name"),
    };
    int rc = index_variables_search(s->index, &f, variable_item, s);
    bt_free((char *)f.name);
    return index_failed(s, rc, "variables", err);
}

typedef struct elem_search {
    search *s;
    eng_engine *engine; /* for element names */
} elem_search;

static int elem_item(void *ud, const index_elem *row) {
    elem_search *es = ud;
    search *s = es->s;
    bt_buf b = BT_BUF_INIT;
    bt_buf_putc(&b, '{');
    api_put_str(&b, "processDefinitionId", row->bpmn_process_id, false);
    api_put_time(&b, "startDate", row->start_ms, true);
    api_put_time(&b, "endDate", row->end_ms, true);
    api_put_str(&b, "elementId", row->element_id, true);
    const char *name =
        row->element_id ? eng_element_name(es->engine, row->process_definition_key, row->element_id)
                        : NULL;
    api_put_str(&b, "elementName", name ? name : row->element_id, true);
    api_put_str(&b, "type", row->type, true);
    api_put_str(&b, "state", row->state, true);
    bt_buf_puts(&b, row->incident_key ? ",\"hasIncident\":true" : ",\"hasIncident\":false");
    bt_buf_puts(&b, ",\"tenantId\":\"<default>\"");
    api_put_key(&b, "elementInstanceKey", row->key, true);
    api_put_key(&b, "processInstanceKey", row->process_instance_key, true);
    api_put_key(&b, "processDefinitionKey", row->process_definition_key, true);
    api_put_key(&b, "rootProcessInstanceKey", row->process_instance_key, true);
    if (row->incident_key)
        api_put_key(&b, "incidentKey", row->incident_key, true);
    else
        bt_buf_puts(&b, ",\"incidentKey\":null");
    bt_buf_putc(&b, '}');
    offer(s, &b);
    bt_buf_free(&b);
    return s->error;
}

static int elements_source(search *s, eng_engine *e, store *st, bt_error *err) {
    (void)st;
    index_elem_filter f = {
        .key = exact_key(s, "elementInstanceKey"),
        .process_instance_key = exact_key(s, "processInstanceKey"),
        .process_definition_key = exact_key(s, "processDefinitionKey"),
        .scope_key = exact_key(s, "elementInstanceScopeKey"),
        .incident_key = exact_key(s, "incidentKey"),
        .bpmn_process_id = exact_string(s, "processDefinitionId"),
        .element_id = exact_string(s, "elementId"),
        .type = exact_string(s, "type"),
        .state = exact_string(s, "state"),
    };
    elem_search es = {s, e};
    int rc = index_elems_search(s->index, &f, elem_item, &es);
    bt_free((char *)f.bpmn_process_id);
    bt_free((char *)f.element_id);
    bt_free((char *)f.type);
    bt_free((char *)f.state);
    return index_failed(s, rc, "element instances", err);
}

/* ---- the kinds ----------------------------------------------------------------------------- */

static const char *const definition_filters[] = {"name",
                                                 "isLatestVersion",
                                                 "resourceName",
                                                 "version",
                                                 "versionTag",
                                                 "processDefinitionId",
                                                 "tenantId",
                                                 "processDefinitionKey",
                                                 "hasStartForm",
                                                 "state",
                                                 NULL};
static const char *const definition_sorts[] = {"processDefinitionKey",
                                               "name",
                                               "resourceName",
                                               "version",
                                               "versionTag",
                                               "processDefinitionId",
                                               "tenantId",
                                               NULL};
static const char *const instance_filters[] = {"processDefinitionId",
                                               "processDefinitionName",
                                               "processDefinitionVersion",
                                               "processDefinitionVersionTag",
                                               "processDefinitionKey",
                                               "processInstanceKey",
                                               "parentProcessInstanceKey",
                                               "parentElementInstanceKey",
                                               "startDate",
                                               "endDate",
                                               "state",
                                               "hasIncident",
                                               "tenantId",
                                               "businessId",
                                               "tags",
                                               "$or",
                                               NULL};
static const char *const instance_sorts[] = {"processInstanceKey",
                                             "processDefinitionId",
                                             "processDefinitionName",
                                             "processDefinitionVersion",
                                             "processDefinitionVersionTag",
                                             "processDefinitionKey",
                                             "parentProcessInstanceKey",
                                             "parentElementInstanceKey",
                                             "startDate",
                                             "endDate",
                                             "state",
                                             "hasIncident",
                                             "tenantId",
                                             "businessId",
                                             NULL};
static const char *const incident_filters[] = {"processDefinitionId",
                                               "errorType",
                                               "errorMessage",
                                               "elementId",
                                               "creationTime",
                                               "state",
                                               "tenantId",
                                               "incidentKey",
                                               "processDefinitionKey",
                                               "processInstanceKey",
                                               "elementInstanceKey",
                                               "jobKey",
                                               NULL};
static const char *const incident_sorts[] = {"incidentKey",
                                             "processDefinitionKey",
                                             "processDefinitionId",
                                             "processInstanceKey",
                                             "errorType",
                                             "errorMessage",
                                             "elementId",
                                             "elementInstanceKey",
                                             "creationTime",
                                             "state",
                                             "jobKey",
                                             "tenantId",
                                             NULL};
static const char *const job_filters[] = {"deadline",
                                          "deniedReason",
                                          "elementId",
                                          "elementInstanceKey",
                                          "endTime",
                                          "errorCode",
                                          "errorMessage",
                                          "hasFailedWithRetriesLeft",
                                          "isDenied",
                                          "jobKey",
                                          "kind",
                                          "listenerEventType",
                                          "processDefinitionId",
                                          "processDefinitionKey",
                                          "processInstanceKey",
                                          "retries",
                                          "state",
                                          "tenantId",
                                          "type",
                                          "worker",
                                          "creationTime",
                                          "lastUpdateTime",
                                          NULL};
static const char *const job_sorts[] = {"deadline",
                                        "deniedReason",
                                        "elementId",
                                        "elementInstanceKey",
                                        "endTime",
                                        "errorCode",
                                        "errorMessage",
                                        "hasFailedWithRetriesLeft",
                                        "isDenied",
                                        "jobKey",
                                        "kind",
                                        "listenerEventType",
                                        "processDefinitionId",
                                        "processDefinitionKey",
                                        "processInstanceKey",
                                        "retries",
                                        "state",
                                        "tenantId",
                                        "type",
                                        "worker",
                                        NULL};
static const char *const variable_filters[] = {
    "name",        "value",    "tenantId",           "isTruncated",
    "variableKey", "scopeKey", "processInstanceKey", NULL};
static const char *const variable_sorts[] = {
    "value", "name", "tenantId", "variableKey", "scopeKey", "processInstanceKey", NULL};
static const char *const element_filters[] = {"processDefinitionId",
                                              "state",
                                              "type",
                                              "elementId",
                                              "elementName",
                                              "hasIncident",
                                              "tenantId",
                                              "elementInstanceKey",
                                              "processInstanceKey",
                                              "processDefinitionKey",
                                              "incidentKey",
                                              "startDate",
                                              "endDate",
                                              "elementInstanceScopeKey",
                                              NULL};
static const char *const element_sorts[] = {"elementInstanceKey",
                                            "processInstanceKey",
                                            "processDefinitionKey",
                                            "processDefinitionId",
                                            "startDate",
                                            "endDate",
                                            "elementId",
                                            "elementName",
                                            "type",
                                            "state",
                                            "incidentKey",
                                            "tenantId",
                                            NULL};

/* One row per searchable resource: its key, what may be filtered and
 * sorted, and where the candidates come from. */
static const search_kind kinds[] = {
    {"processDefinitionKey", definition_filters, definition_sorts, definitions_source, false},
    {"processInstanceKey", instance_filters, instance_sorts, instances_source, false},
    {"incidentKey", incident_filters, incident_sorts, incidents_source, true},
    {"jobKey", job_filters, job_sorts, jobs_source, true},
    {"variableKey", variable_filters, variable_sorts, variables_source, true},
    {"elementInstanceKey", element_filters, element_sorts, elements_source, true},
};
enum { K_DEFINITIONS, K_INSTANCES, K_INCIDENTS, K_JOBS, K_VARIABLES, K_ELEMENTS };

/* ---- sorting and paging ----------------------------------------------------------------- */

static const search *sorting; /* qsort has no context argument; the loop thread is single */

static int item_cmp(const void *pa, const void *pb) {
    const feel_value *a = *(feel_value *const *)pa, *b = *(feel_value *const *)pb;
    size_t n = sorting->sort ? feel_list_count(sorting->sort) : 0;
    for (size_t i = 0; i <= n; i++) {
        const char *field;
        size_t len;
        bool desc = false;
        if (i < n) {
            const feel_value *crit = feel_list_at(sorting->sort, i);
            field = feel_string_ptr(feel_context_get(crit, "field", 5), &len);
            size_t ol;
            const feel_value *order = feel_context_get(crit, "order", 5);
            const char *o = order ? feel_string_ptr(order, &ol) : NULL;
            desc = o && ol == 4 && !strncasecmp(o, "DESC", 4);
        } else {
            field = sorting->kind->key_field;
            len = strlen(field);
        }
        const feel_value *x = item_field(a, field, len), *y = item_field(b, field, len);
        int c;
        if (!x || !y)
            c = x ? -1 : y ? 1 : 0; /* nulls last, whatever the order */
        else {
            c = value_cmp(x, y);
            if (c == -2)
                c = 0;
            if (desc)
                c = -c;
        }
        if (c)
            return c;
    }
    return 0;
}

/* The index lags the log by the batches the indexer has not applied yet. A
 * search of the index first waits (parked, up to SEARCH_WAIT_MS) until the
 * index holds every record committed before the search ran, so a client
 * reads its own acknowledged writes; past that bound it answers from the
 * index as it is. The indexer's progress retries parked searches
 * (api_search_index_progress). */
#define SEARCH_WAIT_MS 2000

bool api_index_caught_up(api *a, index_db *idx, store *st, int64_t now, api_index_wait *w) {
    if (!w->waiting) {
        /* Counted before the cursor is read, so that progress made after
         * this read sees a waiting search and retries it. */
        w->waiting = true;
        atomic_fetch_add(&a->searches_waiting, 1);
        w->wait_end = now + SEARCH_WAIT_MS;
    }
    uint64_t last = 0, applied = 0;
    if (now >= w->wait_end || store_log_last(st, &last) != BT_OK ||
        index_cursor(idx, &applied) != BT_OK || applied >= last)
        return true; /* a failing read is answered by the search itself */
    return false;
}

void api_index_unwait(api *a, api_index_wait *w) {
    if (w->waiting) {
        w->waiting = false;
        atomic_fetch_sub(&a->searches_waiting, 1);
    }
}

static int search_apply(api_call *c, eng_engine *e, store *st, int64_t now, bt_error *err) {
    search *s = c->extra;
    if (s->kind->indexed) {
        if (!api_index_caught_up(s->api, s->index, st, now, &s->wait)) {
            c->cmd.park_until = s->wait.wait_end;
            return RT_PARK;
        }
        api_index_unwait(s->api, &s->wait);
    }
    int rc = s->kind->source(s, e, st, err);
    if (rc == 0 && s->error)
        rc = s->error;
    if (rc != BT_OK)
        return rc;
    size_t from, end, first; /* the page is items[first..], offsets from..end */
    int64_t total;
    if (s->paged) { /* the source sorted and paged already */
        from = (size_t)s->from;
        end = from + s->n;
        first = 0;
        total = s->total;
    } else {
        sorting = s;
        if (s->n > 1)
            qsort(s->items, s->n, sizeof *s->items, item_cmp);
        sorting = NULL;
        from = (size_t)s->from < s->n ? (size_t)s->from : s->n;
        end = from + (size_t)s->limit < s->n ? from + (size_t)s->limit : s->n;
        first = from;
        total = (int64_t)s->n;
    }
    bt_buf *b = &c->out;
    bt_buf_puts(b, "{\"items\":[");
    for (size_t i = from; i < end; i++) {
        if (i > from)
            bt_buf_putc(b, ',');
        feel_value_to_json(s->items[first + i - from], b);
    }
    bt_buf_puts(b, "],\"page\":{");
    api_put_int(b, "totalItems", total, false);
    bt_buf_puts(b, ",\"hasMoreTotalItems\":false");
    if (end > from) {
        char cur[24];
        snprintf(cur, sizeof cur, "%zu", from);
        api_put_str(b, "startCursor", cur, true);
        snprintf(cur, sizeof cur, "%zu", end);
        api_put_str(b, "endCursor", cur, true);
    } else {
        bt_buf_puts(b, ",\"startCursor\":null,\"endCursor\":null");
    }
    bt_buf_puts(b, "}}");
    return BT_OK;
}

static void search_free(void *p) {
    search *s = p;
    if (!s)
        return;
    api_index_unwait(s->api, &s->wait);
    for (size_t i = 0; i < s->n; i++)
        feel_value_unref(s->items[i]);
    bt_free(s->items);
    bt_free(s);
}

/* ---- request parsing ------------------------------------------------------------------------ */

static bool known(const char *const *names, const char *s, size_t n) {
    for (; *names; names++)
        if (strlen(*names) == n && !memcmp(*names, s, n))
            return true;
    return false;
}

static int refuse(http_exchange *ex, const char *fmt, const char *what, size_t n) {
    char detail[300];
    snprintf(detail, sizeof detail, fmt, (int)n, what);
    http_respond_problem(ex, 400, "INVALID_ARGUMENT", detail);
    return BT_EINVAL;
}

static int check_filter(http_exchange *ex, const search_kind *k, const feel_value *filter) {
    static const char *const ops[] = {"$eq", "$neq", "$exists", "$in",  "$notIn", "$like",
                                      "$gt", "$gte", "$lt",     "$lte", NULL};
    size_t n = feel_context_count(filter);
    for (size_t i = 0; i < n; i++) {
        size_t len;
        const char *name = feel_context_key_at(filter, i, &len);
        const feel_value *v = feel_context_value_at(filter, i);
        if (len == 3 && !memcmp(name, "$or", 3)) {
            if (feel_value_type(v) != FEEL_LIST)
                return refuse(ex, "filter.%.*s must be a list of filters", name, len);
            for (size_t j = 0; j < feel_list_count(v); j++) {
                const feel_value *sub = feel_list_at(v, j);
                if (feel_value_type(sub) != FEEL_CONTEXT || check_filter(ex, k, sub))
                    return feel_value_type(sub) != FEEL_CONTEXT
                               ? refuse(ex, "filter.%.*s must be a list of filters", name, len)
                               : BT_EINVAL;
            }
            continue;
        }
        if (!known(k->filter_fields, name, len))
            return refuse(ex, "unknown filter field '%.*s'", name, len);
        if (feel_value_type(v) == FEEL_CONTEXT) {
            size_t m = feel_context_count(v);
            for (size_t j = 0; j < m; j++) {
                size_t ol;
                const char *op = feel_context_key_at(v, j, &ol);
                if (!known(ops, op, ol))
                    return refuse(ex, "unknown filter operator '%.*s'", op, ol);
            }
        }
    }
    return BT_OK;
}

static int search_handler(http_exchange *ex, const http_request *req, api *a, int which) {
    static const char *const fields[] = {"filter", "sort", "page", NULL};
    const search_kind *k = &kinds[which];
    feel_value *body;
    if (api_body_object(ex, req, true, &body))
        return 0;
    api_call *c = api_call_new(a, ex, search_apply, api_done_json);
    c->body = body;
    search *s = bt_xcalloc(1, sizeof *s);
    s->kind = k;
    s->limit = 100;
    s->api = a;
    s->index = a->cfg.search_index;
    c->extra = s;
    c->extra_free = search_free;
    if (k->indexed && !s->index) {
        http_respond_problem(ex, 501, "NOT_IMPLEMENTED", "this server runs without a search index");
        goto refused;
    }
    if (api_check_fields(ex, body, fields))
        goto refused;
    const feel_value *filter = feel_context_get(body, "filter", 6);
    if (filter && feel_value_type(filter) != FEEL_NULL) {
        if (feel_value_type(filter) != FEEL_CONTEXT) {
            http_respond_problem(ex, 400, "INVALID_ARGUMENT", "filter must be an object");
            goto refused;
        }
        if (check_filter(ex, k, filter))
            goto refused;
        s->filter = filter;
    }
    const feel_value *sort = feel_context_get(body, "sort", 4);
    if (sort && feel_value_type(sort) != FEEL_NULL) {
        if (feel_value_type(sort) != FEEL_LIST) {
            http_respond_problem(ex, 400, "INVALID_ARGUMENT", "sort must be a list");
            goto refused;
        }
        for (size_t i = 0; i < feel_list_count(sort); i++) {
            const feel_value *crit = feel_list_at(sort, i);
            size_t len = 0, ol = 0;
            const feel_value *fv =
                feel_value_type(crit) == FEEL_CONTEXT ? feel_context_get(crit, "field", 5) : NULL;
            const char *f = fv ? feel_string_ptr(fv, &len) : NULL;
            const feel_value *ov =
                feel_value_type(crit) == FEEL_CONTEXT ? feel_context_get(crit, "order", 5) : NULL;
            const char *o = ov && feel_value_type(ov) != FEEL_NULL ? feel_string_ptr(ov, &ol) : "";
            if (!f || !known(k->sort_fields, f, len)) {
                refuse(ex, "unknown sort field '%.*s'", f ? f : "", len);
                goto refused;
            }
            if (!o || (ol && strncasecmp(o, "ASC", ol) && strncasecmp(o, "DESC", ol))) {
                http_respond_problem(ex, 400, "INVALID_ARGUMENT", "sort order must be ASC or DESC");
                goto refused;
            }
        }
        s->sort = sort;
    }
    const feel_value *page = feel_context_get(body, "page", 4);
    if (page && feel_value_type(page) != FEEL_NULL) {
        static const char *const page_fields[] = {"from", "limit", "after", "before", NULL};
        if (feel_value_type(page) != FEEL_CONTEXT) {
            http_respond_problem(ex, 400, "INVALID_ARGUMENT", "page must be an object");
            goto refused;
        }
        char *after = NULL, *before = NULL;
        if (api_check_fields(ex, page, page_fields) ||
            api_field_int(ex, page, "from", false, &s->from, NULL) ||
            api_field_int(ex, page, "limit", false, &s->limit, NULL) ||
            api_field_string(ex, page, "after", false, &after) ||
            api_field_string(ex, page, "before", false, &before)) {
            bt_free(after);
            bt_free(before);
            goto refused;
        }
        /* Cursors are the offsets this API hands out. */
        if (after)
            s->from = strtoll(after, NULL, 10);
        if (before) {
            int64_t b = strtoll(before, NULL, 10);
            s->from = b - s->limit > 0 ? b - s->limit : 0;
            if (s->limit > b)
                s->limit = b;
        }
        bt_free(after);
        bt_free(before);
        if (s->from < 0 || s->limit < 1 || s->limit > 10000) {
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

/* A command that does nothing: its turn of the loop retries the parked
 * searches. At most one is queued at a time. */
typedef struct search_nudge {
    rt_command cmd;
    api *api;
} search_nudge;

static int nudge_apply(eng_engine *e, store *st, int64_t now, void *ctx, bt_error *err) {
    (void)e;
    (void)st;
    (void)now;
    (void)err;
    search_nudge *n = ctx;
    atomic_store(&n->api->search_nudge_queued, false);
    return BT_OK;
}

static void nudge_done(void *ctx, int rc, const bt_error *err) {
    (void)rc;
    (void)err;
    bt_free(ctx);
}

void api_search_index_progress(void *ud) {
    api *a = ud;
    if (atomic_load(&a->searches_waiting) <= 0 || atomic_exchange(&a->search_nudge_queued, true))
        return;
    search_nudge *n = bt_xcalloc(1, sizeof *n);
    n->api = a;
    n->cmd.apply = nudge_apply;
    n->cmd.done = nudge_done;
    n->cmd.ctx = n;
    if (rt_submit(a->loop, &n->cmd) != BT_OK) { /* stopping, or full: retried at its deadline */
        atomic_store(&a->search_nudge_queued, false);
        bt_free(n);
    }
}

int api_search_definitions(http_exchange *ex, const http_request *req, void *app) {
    return search_handler(ex, req, app, K_DEFINITIONS);
}
int api_search_instances(http_exchange *ex, const http_request *req, void *app) {
    return search_handler(ex, req, app, K_INSTANCES);
}
int api_search_incidents(http_exchange *ex, const http_request *req, void *app) {
    return search_handler(ex, req, app, K_INCIDENTS);
}
int api_search_jobs(http_exchange *ex, const http_request *req, void *app) {
    return search_handler(ex, req, app, K_JOBS);
}
int api_search_variables(http_exchange *ex, const http_request *req, void *app) {
    return search_handler(ex, req, app, K_VARIABLES);
}
int api_search_elements(http_exchange *ex, const http_request *req, void *app) {
    return search_handler(ex, req, app, K_ELEMENTS);
}

/* ---- process definitions by key ----------------------------------------------------------------
 */

static int definition_apply(api_call *c, eng_engine *e, store *st, int64_t now, bt_error *err) {
    (void)st;
    (void)now;
    eng_definition_view d;
    if (eng_definition_get(e, c->key, &d) != BT_OK)
        return bt_error_set(err, BT_ENOTFOUND, "no process definition with key '%llu'",
                            (unsigned long long)c->key);
    if (c->flag) { /* the XML */
        bt_buf_append(&c->out, d.xml, d.xml_len);
        return BT_OK;
    }
    search s = {.kind = &kinds[K_DEFINITIONS], .limit = 1};
    definition_item(&s, &d);
    if (s.n == 1)
        feel_value_to_json(s.items[0], &c->out);
    for (size_t i = 0; i < s.n; i++)
        feel_value_unref(s.items[i]);
    bt_free(s.items);
    return s.error ? s.error : BT_OK;
}

static void xml_done(api_call *c, int rc, const bt_error *err) {
    if (rc != BT_OK) {
        api_answer_error(c, rc, err);
        return;
    }
    http_respond(c->ex, 200, "text/xml", c->out.data, c->out.len, NULL, 0);
}

static int definition_handler(http_exchange *ex, const http_request *req, void *app, bool xml) {
    uint64_t key;
    if (api_path_key(ex, req, "processDefinitionKey", &key))
        return 0;
    api_call *c = api_call_new(app, ex, definition_apply, xml ? xml_done : api_done_json);
    c->key = key;
    c->flag = xml;
    return api_call_submit(c);
}

int api_definition_get(http_exchange *ex, const http_request *req, void *app) {
    return definition_handler(ex, req, app, false);
}

int api_definition_xml(http_exchange *ex, const http_request *req, void *app) {
    return definition_handler(ex, req, app, true);
}
