/*
 * model.c — the model's memory, its type tables and lookups.
 *
 * Memory: a model is built once and then only read, so everything it points
 * to comes from one arena: a chain of blocks from bt_malloc, carved by a bump
 * pointer, released together by bpmn_model_free in O(blocks). Requests larger
 * than a quarter of a block get a block of their own, so little is wasted at
 * block ends. The compiled FEEL expressions are the only objects with their
 * own lifetime: the arena keeps a list of them and frees each one.
 *
 * Type tables: one row per bpmn_type with Zeebe's name (as records and the
 * REST API show it), the BPMN XML local name and the classification flags.
 * The rows are in enum order; a static assertion keeps the table in step.
 *
 * Errors: bpmn_ctx_report keeps the first BPMN_MAX_ERRORS problems sorted by
 * line, so a caller sees them in document order whichever check found them.
 */
#include "model/model_int.h"

#include "feel/temporal.h"

#include <stdlib.h>

#include <stdio.h>
#include <string.h>

/* ---- arena ------------------------------------------------------------------ */

#define ARENA_BLOCK 16384
#define ARENA_ALIGN 16

typedef struct arena_block {
    struct arena_block *next;
    size_t used, cap;
    /* Data follows, aligned: the header is padded to ARENA_ALIGN. */
} arena_block;

#define BLOCK_HEADER ((sizeof(arena_block) + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1))

struct bpmn_arena {
    arena_block *head; /* the block being carved; older blocks follow */
    feel_expr **feel;  /* owned expressions */
    size_t n_feel, cap_feel;
};

bpmn_arena *bpmn_arena_new(void) {
    return bt_calloc(1, sizeof(bpmn_arena));
}

void bpmn_arena_free(bpmn_arena *a) {
    if (!a)
        return;
    for (size_t i = 0; i < a->n_feel; i++)
        feel_expr_free(a->feel[i]);
    bt_free(a->feel);
    arena_block *b = a->head;
    while (b) {
        arena_block *next = b->next;
        bt_free(b);
        b = next;
    }
    bt_free(a);
}

static arena_block *arena_block_new(size_t cap) {
    arena_block *b = bt_malloc(BLOCK_HEADER + cap);
    if (b) {
        b->next = NULL;
        b->used = 0;
        b->cap = cap;
    }
    return b;
}

void *bpmn_arena_alloc(bpmn_arena *a, size_t n) {
    size_t size = (n + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
    if (size < n)
        return NULL; /* overflow */
    if (size == 0)
        size = ARENA_ALIGN;
    arena_block *b = a->head;
    if (!b || b->cap - b->used < size) {
        if (size > ARENA_BLOCK / 4) {
            /* A big request: its own block, linked behind the current one so
             * the current block keeps being carved. */
            if (size > SIZE_MAX - BLOCK_HEADER)
                return NULL;
            arena_block *big = arena_block_new(size);
            if (!big)
                return NULL;
            big->used = size;
            if (b) {
                big->next = b->next;
                b->next = big;
            } else {
                a->head = big;
            }
            char *p = (char *)big + BLOCK_HEADER;
            memset(p, 0, size);
            return p;
        }
        b = arena_block_new(ARENA_BLOCK);
        if (!b)
            return NULL;
        b->next = a->head;
        a->head = b;
    }
    char *p = (char *)b + BLOCK_HEADER + b->used;
    b->used += size;
    memset(p, 0, size);
    return p;
}

char *bpmn_arena_strndup(bpmn_arena *a, const char *s, size_t n) {
    if (!s)
        return NULL;
    char *p = bpmn_arena_alloc(a, n + 1);
    if (p)
        memcpy(p, s, n); /* the arena zeroes: p[n] is already NUL */
    return p;
}

char *bpmn_arena_strdup(bpmn_arena *a, const char *s) {
    return s ? bpmn_arena_strndup(a, s, strlen(s)) : NULL;
}

int bpmn_arena_own_feel(bpmn_arena *a, feel_expr *e) {
    if (a->n_feel == a->cap_feel) {
        size_t cap = a->cap_feel ? a->cap_feel * 2 : 16;
        feel_expr **grown = bt_realloc(a->feel, cap * sizeof *grown);
        if (!grown) {
            feel_expr_free(e);
            return BT_ENOMEM;
        }
        a->feel = grown;
        a->cap_feel = cap;
    }
    a->feel[a->n_feel++] = e;
    return 0;
}

void bpmn_model_free(bpmn_model *m) {
    if (m)
        bpmn_arena_free(m->arena); /* m itself lives in the arena */
}

/* ---- type tables ------------------------------------------------------------- */

enum {
    T_ACTIVITY = 1 << 0,
    T_JOB = 1 << 1,
    T_EVENT = 1 << 2,
    T_CONTAINER = 1 << 3,
};

static const struct type_row {
    const char *zeebe_name;
    const char *xml_name;
    unsigned flags;
} type_rows[] = {
    [BPMN_PROCESS] = {"PROCESS", "process", T_CONTAINER},
    [BPMN_SUB_PROCESS] = {"SUB_PROCESS", "subProcess", T_ACTIVITY | T_CONTAINER},
    /* An event sub-process is a subProcess with triggeredByEvent="true". */
    [BPMN_EVENT_SUB_PROCESS] = {"EVENT_SUB_PROCESS", "subProcess", T_ACTIVITY | T_CONTAINER},
    [BPMN_START_EVENT] = {"START_EVENT", "startEvent", T_EVENT},
    [BPMN_END_EVENT] = {"END_EVENT", "endEvent", T_EVENT},
    [BPMN_INTERMEDIATE_THROW_EVENT] = {"INTERMEDIATE_THROW_EVENT", "intermediateThrowEvent",
                                       T_EVENT},
    [BPMN_INTERMEDIATE_CATCH_EVENT] = {"INTERMEDIATE_CATCH_EVENT", "intermediateCatchEvent",
                                       T_EVENT},
    [BPMN_BOUNDARY_EVENT] = {"BOUNDARY_EVENT", "boundaryEvent", T_EVENT},
    [BPMN_SERVICE_TASK] = {"SERVICE_TASK", "serviceTask", T_ACTIVITY | T_JOB},
    [BPMN_SEND_TASK] = {"SEND_TASK", "sendTask", T_ACTIVITY | T_JOB},
    [BPMN_SCRIPT_TASK] = {"SCRIPT_TASK", "scriptTask", T_ACTIVITY | T_JOB},
    [BPMN_BUSINESS_RULE_TASK] = {"BUSINESS_RULE_TASK", "businessRuleTask", T_ACTIVITY | T_JOB},
    [BPMN_USER_TASK] = {"USER_TASK", "userTask", T_ACTIVITY | T_JOB},
    [BPMN_RECEIVE_TASK] = {"RECEIVE_TASK", "receiveTask", T_ACTIVITY},
    [BPMN_MANUAL_TASK] = {"MANUAL_TASK", "manualTask", T_ACTIVITY},
    [BPMN_TASK] = {"TASK", "task", T_ACTIVITY},
    [BPMN_EXCLUSIVE_GATEWAY] = {"EXCLUSIVE_GATEWAY", "exclusiveGateway", 0},
    [BPMN_PARALLEL_GATEWAY] = {"PARALLEL_GATEWAY", "parallelGateway", 0},
    [BPMN_INCLUSIVE_GATEWAY] = {"INCLUSIVE_GATEWAY", "inclusiveGateway", 0},
    [BPMN_EVENT_BASED_GATEWAY] = {"EVENT_BASED_GATEWAY", "eventBasedGateway", 0},
    [BPMN_CALL_ACTIVITY] = {"CALL_ACTIVITY", "callActivity", T_ACTIVITY},
};

_Static_assert(BT_ARRAY_LEN(type_rows) == BPMN_TYPE_COUNT, "one type_rows row per bpmn_type");

static const struct type_row *type_row(bpmn_type t) {
    return (unsigned)t < BPMN_TYPE_COUNT ? &type_rows[t] : NULL;
}

const char *bpmn_type_name(bpmn_type t) {
    const struct type_row *r = type_row(t);
    return r ? r->zeebe_name : "UNSPECIFIED";
}

const char *bpmn_type_xml_name(bpmn_type t) {
    const struct type_row *r = type_row(t);
    return r ? r->xml_name : "unknown";
}

bool bpmn_is_activity(bpmn_type t) {
    const struct type_row *r = type_row(t);
    return r && (r->flags & T_ACTIVITY);
}

bool bpmn_is_job_task(bpmn_type t) {
    const struct type_row *r = type_row(t);
    return r && (r->flags & T_JOB);
}

bool bpmn_element_is_job(const bpmn_element *el) {
    return bpmn_is_job_task(el->type) ||
           ((el->type == BPMN_END_EVENT || el->type == BPMN_INTERMEDIATE_THROW_EVENT) &&
            el->event == BPMN_EVENT_MESSAGE);
}

bool bpmn_type_is_event(bpmn_type t) {
    const struct type_row *r = type_row(t);
    return r && (r->flags & T_EVENT);
}

bool bpmn_type_is_container(bpmn_type t) {
    const struct type_row *r = type_row(t);
    return r && (r->flags & T_CONTAINER);
}

/* ---- lookup ------------------------------------------------------------------- */

int bpmn_find_element(const bpmn_process *p, const char *id) {
    if (!p || !id || !p->by_id)
        return -1;
    int lo = 0, hi = p->n_elements - 1;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        int idx = p->by_id[mid];
        int cmp = strcmp(id, p->elements[idx].id);
        if (cmp == 0)
            return idx;
        if (cmp < 0)
            hi = mid - 1;
        else
            lo = mid + 1;
    }
    return -1;
}

const bpmn_event_def *bpmn_ctx_find_event_def(const bpmn_ctx *c, const char *id) {
    if (!id)
        return NULL;
    int lo = 0, hi = c->n_event_defs - 1;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        int cmp = strcmp(id, c->event_defs[mid].id);
        if (cmp == 0)
            return &c->event_defs[mid];
        if (cmp < 0)
            hi = mid - 1;
        else
            lo = mid + 1;
    }
    return NULL;
}

/* ---- build state ----------------------------------------------------------------- */

void bpmn_build_release(bpmn_build *b) {
    if (!b)
        return;
    bt_free(b->nodes);
    bt_free(b->flows);
    bt_free(b->assocs);
    b->nodes = NULL;
    b->flows = NULL;
    b->assocs = NULL;
    b->n_nodes = b->cap_nodes = b->n_flows = b->cap_flows = b->n_assocs = b->cap_assocs = 0;
}

/* ---- errors ------------------------------------------------------------------------ */

void bpmn_ctx_report(bpmn_ctx *c, const char *element_id, int line, int column, const char *fmt,
                     ...) {
    bpmn_errors *e = &c->errs;
    e->count++;
    int kept = e->count - 1 < BPMN_MAX_ERRORS ? e->count - 1 : BPMN_MAX_ERRORS;
    /* Find the slot: after every kept error on a line <= this one. */
    int at = kept;
    while (at > 0 && e->items[at - 1].line > line)
        at--;
    if (at == BPMN_MAX_ERRORS)
        return; /* later in the document than all we keep */
    int last = kept < BPMN_MAX_ERRORS ? kept : BPMN_MAX_ERRORS - 1;
    memmove(&e->items[at + 1], &e->items[at], (size_t)(last - at) * sizeof e->items[0]);
    bt_error *it = &e->items[at];
    memset(it, 0, sizeof *it);
    it->code = BT_EINVAL;
    it->line = line;
    it->column = column;
    /* The message stands on its own: "<id>: <what> (line L, column C)". */
    size_t cap = sizeof it->message, n = 0;
    if (element_id) {
        snprintf(it->element_id, sizeof it->element_id, "%s", element_id);
        n = (size_t)snprintf(it->message, cap, "%s: ", element_id);
        if (n >= cap)
            n = cap - 1;
    }
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(it->message + n, cap - n, fmt, ap);
    va_end(ap);
    n = w < 0 || (size_t)w >= cap - n ? cap - 1 : n + (size_t)w;
    if (line > 0 && column > 0)
        snprintf(it->message + n, cap - n, " (line %d, column %d)", line, column);
    else if (line > 0)
        snprintf(it->message + n, cap - n, " (line %d)", line);
}

int bpmn_ctx_nomem(bpmn_ctx *c) {
    c->status = BT_ENOMEM;
    return BT_ENOMEM;
}

/* ---- timers -------------------------------------------------------------- */

static int duration_ms(const char *s, size_t n, int64_t *out) {
    feel_duration_kind kind;
    feel_dt_duration dt;
    feel_ym_duration ym;
    if (feel_duration_parse(s, n, &kind, &dt, &ym) != BT_OK || kind != FEEL_DURATION_DAYS_TIME ||
        dt.seconds < 0 || dt.seconds > INT64_MAX / 1000 - 1)
        return BT_EINVAL;
    *out = dt.seconds * 1000 + dt.nanos / 1000000;
    return BT_OK;
}

static int date_ms(const char *s, size_t n, int64_t *out) {
    feel_datetime dt;
    if (feel_datetime_parse(s, n, &dt) != BT_OK) {
        feel_date d; /* a date alone: midnight UTC */
        if (feel_date_parse(s, n, &d) != BT_OK)
            return BT_EINVAL;
        feel_datetime_from_date(&d, &dt);
    }
    if (dt.time.zone.kind == FEEL_ZONE_NONE)
        feel_zone_from_offset(0, &dt.time.zone);
    int64_t secs;
    int32_t nanos;
    if (feel_datetime_to_epoch(&dt, &secs, &nanos) != BT_OK)
        return BT_EINVAL;
    *out = secs * 1000 + nanos / 1000000;
    return BT_OK;
}

int bpmn_timer_schedule(bpmn_timer_kind kind, const char *text, size_t len, int64_t now_ms,
                        bpmn_schedule *out, bt_error *err) {
    *out = (bpmn_schedule){0, 0, 0};
    int64_t ms;
    switch (kind) {
    case BPMN_TIMER_DURATION:
        if (duration_ms(text, len, &ms) != BT_OK)
            break;
        out->due_ms = now_ms + ms;
        return BT_OK;
    case BPMN_TIMER_DATE:
        if (date_ms(text, len, &ms) != BT_OK)
            break;
        out->due_ms = ms;
        return BT_OK;
    case BPMN_TIMER_CYCLE: {
        if (len < 2 || text[0] != 'R') {
            if (!memchr(text, ' ', len) && text[0] != '@')
                break; /* neither form */
            if (bpmn_cron_next(text, len, now_ms, &out->due_ms, err) != BT_OK)
                return BT_EINVAL;
            out->interval_ms = BPMN_INTERVAL_CRON;
            out->repeats = -1;
            return BT_OK;
        }
        const char *slash = memchr(text, '/', len);
        if (!slash)
            break;
        long repeats = -1;
        if (slash > text + 1) {
            char *end;
            repeats = strtol(text + 1, &end, 10);
            if (end != slash || repeats < 1)
                break;
        }
        const char *rest = slash + 1;
        size_t rest_len = len - (size_t)(rest - text);
        const char *second = memchr(rest, '/', rest_len);
        int64_t start = -1;
        if (second) { /* R/<start>/<interval> */
            if (date_ms(rest, (size_t)(second - rest), &start) != BT_OK)
                break;
            rest_len -= (size_t)(second + 1 - rest);
            rest = second + 1;
        }
        if (duration_ms(rest, rest_len, &ms) != BT_OK || ms <= 0)
            break;
        out->interval_ms = ms;
        out->due_ms = start >= 0 ? start : now_ms + ms;
        out->repeats = repeats < 0 ? -1 : (int)repeats - 1;
        return BT_OK;
    }
    case BPMN_TIMER_NONE: break;
    }
    static const char *what[] = {"", "an ISO 8601 duration (PT1H)", "an ISO 8601 date-time",
                                 "an ISO 8601 cycle (R3/PT10M) or a cron expression"};
    return bt_error_set(err, BT_EINVAL, "'%.*s' is not %s", (int)(len > 100 ? 100 : len), text,
                        what[kind]);
}
