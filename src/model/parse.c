/*
 * parse.c — BPMN 2.0 XML → one bpmn_build per executable process.
 *
 * Reading the XML safely. libxml2 parses from memory with XML_PARSE_NONET and
 * without XML_PARSE_NOENT / XML_PARSE_DTDLOAD; on top of that any DOCTYPE is
 * refused the moment the parser sees it (a SAX internalSubset hook stops the
 * parser), so no entity is ever declared: no external entity can be read (XXE)
 * and no entity can be expanded a billion times. Documents above
 * BPMN_MAX_DOCUMENT bytes are refused before parsing. Malformed XML is
 * reported with libxml2's message, line and column.
 *
 * Walking the document. Elements are matched by namespace URI (BPMN model,
 * Zeebe), never by prefix. <definitions> yields the <error> definitions, the
 * participants' names and the processes; a process with isExecutable other
 * than "true" is skipped. Inside a process or an embedded sub-process every
 * element of the BPMN namespace is looked up in flow_kinds[], one row per
 * element kind: a flow node of a type baton executes, a flow node it does not
 * execute yet (reported with id, type and line, never silently dropped), a
 * sequence flow, an association, or something without meaning for execution
 * (lanes, annotations, groups, data objects: skipped). An unknown element is
 * reported as unsupported. Unsupported flow nodes still get a node (flagged),
 * so the flows that touch them resolve and the report stays precise; the model
 * is never returned when anything was reported.
 *
 * Events: the event definition decides the kind; event_supported() is the
 * table of (type, definition) pairs baton executes. Extension elements in the
 * Zeebe namespace are read (taskDefinition, taskHeaders, ioMapping, and a
 * call activity's calledElement), ignored when they are documentation
 * (properties, versionTag), and rejected otherwise; other namespaces
 * (camunda:, modeler:) are ignored.
 *
 * Multi-instance activities: <multiInstanceLoopCharacteristics> holds
 * <zeebe:loopCharacteristics> (inputCollection required; inputElement,
 * outputCollection with outputElement) and an optional
 * <completionCondition>, read into a bpmn_loop; anything else inside it is
 * rejected, as is <standardLoopCharacteristics>.
 *
 * Values: an attribute starting with '=' is a FEEL expression, compiled here
 * (the text after '='); a syntax error names the element, its line and the
 * column inside the expression. Everything kept is copied into the arena, so
 * the XML document is freed before bpmn_parse returns.
 */
#include "model/model_int.h"

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NS_BPMN  "http://www.omg.org/spec/BPMN/20100524/MODEL"
#define NS_ZEEBE "http://camunda.org/schema/zeebe/1.0"

/* Larger resources are refused unread. */
#define BPMN_MAX_DOCUMENT (16u << 20)

/* ---- XML helpers ---------------------------------------------------------- */

static bool node_in_ns(const xmlNode *n, const char *ns) {
    return n->type == XML_ELEMENT_NODE && n->ns && n->ns->href &&
           strcmp((const char *)n->ns->href, ns) == 0;
}

/* true when n is the BPMN element `local`. */
static bool node_is(const xmlNode *n, const char *local) {
    return node_in_ns(n, NS_BPMN) && strcmp((const char *)n->name, local) == 0;
}

static int node_line(const xmlNode *n) {
    long line = xmlGetLineNo(n);
    return line > 0 && line < INT32_MAX ? (int)line : 0;
}

/* The value of the un-prefixed attribute `name`, borrowed from the document,
 * or NULL when absent. Attribute values are one text node: without a DOCTYPE
 * there are no entity references, and character references are substituted
 * by the parser. */
static const char *node_attr(const xmlNode *n, const char *name) {
    for (const xmlAttr *a = n->properties; a; a = a->next) {
        if (a->ns || strcmp((const char *)a->name, name) != 0)
            continue;
        const xmlNode *t = a->children;
        return t && t->content ? (const char *)t->content : "";
    }
    return NULL;
}

static bool attr_is_true(const xmlNode *n, const char *name) {
    const char *v = node_attr(n, name);
    return v && strcmp(v, "true") == 0;
}

static bool attr_is_false(const xmlNode *n, const char *name) {
    const char *v = node_attr(n, name);
    return v && strcmp(v, "false") == 0;
}

static xmlNode *first_child(const xmlNode *n) {
    for (xmlNode *c = n->children; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE)
            return c;
    return NULL;
}

static xmlNode *next_sibling(const xmlNode *n) {
    for (xmlNode *c = n->next; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE)
            return c;
    return NULL;
}

#define FOR_CHILDREN(c, parent) for (xmlNode *c = first_child(parent); c; c = next_sibling(c))

/* ---- parse state ------------------------------------------------------------ */

typedef struct parser {
    bpmn_ctx *c;
    bpmn_build *b;
} parser;

static char *keep(parser *p, const char *s) {
    if (!s)
        return NULL;
    char *k = bpmn_arena_strdup(p->c->arena, s);
    if (!k)
        bpmn_ctx_nomem(p->c);
    return k;
}

static bool failed(const parser *p) {
    return p->c->status != 0;
}

/* Compiles FEEL source src[0..len) owned by the arena afterwards. On a syntax
 * error reports it against the element (id, line) with the expression column. */
static feel_expr *compile(parser *p, const char *src, const char *id, int line, const char *what) {
    feel_expr *e = NULL;
    bt_error err;
    bt_error_clear(&err);
    int rc = feel_compile(src, strlen(src), &e, &err);
    if (rc == BT_ENOMEM) {
        bpmn_ctx_nomem(p->c);
        return NULL;
    }
    if (rc != 0 || !e) {
        bpmn_ctx_report(p->c, id, line, err.column > 0 ? err.column : 1,
                        "invalid FEEL expression in %s '%s': %s", what, src,
                        err.message[0] ? err.message : "syntax error");
        feel_expr_free(e);
        return NULL;
    }
    if (bpmn_arena_own_feel(p->c->arena, e) != 0) {
        bpmn_ctx_nomem(p->c);
        return NULL;
    }
    return e;
}

/* A value that is a literal or, with a leading '=', a FEEL expression. */
static void parse_value(parser *p, const char *value, const char *id, int line, const char *what,
                        bpmn_expr *out) {
    out->text = NULL;
    out->feel = NULL;
    if (!value)
        return;
    if (value[0] == '=') {
        out->text = keep(p, value + 1);
        if (out->text)
            out->feel = compile(p, out->text, id, line, what);
    } else {
        out->text = keep(p, value);
    }
}

/* ---- element kinds ------------------------------------------------------------ */

enum kind_role {
    ROLE_NODE,        /* a flow node baton executes (subject to its details) */
    ROLE_UNSUPPORTED, /* a flow node baton does not execute yet */
    ROLE_FLOW,        /* sequenceFlow */
    ROLE_ASSOCIATION, /* association (compensation handlers) */
    ROLE_SKIP,        /* no meaning for execution */
};

/* One row per BPMN element that may appear inside a process or sub-process.
 * To support a kind later: flip its role to ROLE_NODE and teach parse_node
 * and validate.c its details. */
static const struct flow_kind {
    const char *xml_name;
    enum kind_role role;
    bpmn_type type; /* the node's type; for kinds without a bpmn_type, a
                       stand-in that lets flows resolve */
} flow_kinds[] = {
    {"startEvent", ROLE_NODE, BPMN_START_EVENT},
    {"endEvent", ROLE_NODE, BPMN_END_EVENT},
    {"intermediateThrowEvent", ROLE_NODE, BPMN_INTERMEDIATE_THROW_EVENT},
    {"intermediateCatchEvent", ROLE_NODE,
     BPMN_INTERMEDIATE_CATCH_EVENT}, /* no definition supported */
    {"boundaryEvent", ROLE_NODE, BPMN_BOUNDARY_EVENT},
    {"serviceTask", ROLE_NODE, BPMN_SERVICE_TASK},
    {"sendTask", ROLE_NODE, BPMN_SEND_TASK},
    {"scriptTask", ROLE_NODE, BPMN_SCRIPT_TASK},
    {"businessRuleTask", ROLE_NODE, BPMN_BUSINESS_RULE_TASK},
    {"userTask", ROLE_NODE, BPMN_USER_TASK},
    {"receiveTask", ROLE_NODE, BPMN_RECEIVE_TASK},
    {"manualTask", ROLE_NODE, BPMN_MANUAL_TASK},
    {"task", ROLE_NODE, BPMN_TASK},
    {"exclusiveGateway", ROLE_NODE, BPMN_EXCLUSIVE_GATEWAY},
    {"parallelGateway", ROLE_NODE, BPMN_PARALLEL_GATEWAY},
    {"inclusiveGateway", ROLE_NODE, BPMN_INCLUSIVE_GATEWAY},
    {"eventBasedGateway", ROLE_NODE, BPMN_EVENT_BASED_GATEWAY},
    {"complexGateway", ROLE_UNSUPPORTED, BPMN_INCLUSIVE_GATEWAY},
    {"subProcess", ROLE_NODE, BPMN_SUB_PROCESS}, /* triggeredByEvent: event sub-process */
    {"transaction", ROLE_UNSUPPORTED, BPMN_SUB_PROCESS},
    {"adHocSubProcess", ROLE_UNSUPPORTED, BPMN_SUB_PROCESS},
    {"callActivity", ROLE_NODE, BPMN_CALL_ACTIVITY}, /* zeebe:calledElement names the process */
    {"sequenceFlow", ROLE_FLOW, BPMN_TYPE_COUNT},
    {"association", ROLE_ASSOCIATION, BPMN_TYPE_COUNT},
    {"laneSet", ROLE_SKIP, BPMN_TYPE_COUNT},
    {"textAnnotation", ROLE_SKIP, BPMN_TYPE_COUNT},
    {"group", ROLE_SKIP, BPMN_TYPE_COUNT},
    {"dataObject", ROLE_SKIP, BPMN_TYPE_COUNT},
    {"dataObjectReference", ROLE_SKIP, BPMN_TYPE_COUNT},
    {"dataStoreReference", ROLE_SKIP, BPMN_TYPE_COUNT},
    {"documentation", ROLE_SKIP, BPMN_TYPE_COUNT},
    {"extensionElements", ROLE_SKIP, BPMN_TYPE_COUNT}, /* read by the container itself */
    /* A sub-process's loop characteristics: read by parse_node. */
    {"multiInstanceLoopCharacteristics", ROLE_SKIP, BPMN_TYPE_COUNT},
    {"standardLoopCharacteristics", ROLE_SKIP, BPMN_TYPE_COUNT},
    {"ioSpecification", ROLE_SKIP, BPMN_TYPE_COUNT},
    {"property", ROLE_SKIP, BPMN_TYPE_COUNT},
};

static const struct flow_kind *flow_kind_find(const char *name) {
    for (size_t i = 0; i < BT_ARRAY_LEN(flow_kinds); i++)
        if (strcmp(flow_kinds[i].xml_name, name) == 0)
            return &flow_kinds[i];
    return NULL;
}

/* Event definitions. `known` false: a definition without a bpmn_event_kind
 * (conditional, cancel), never supported. */
static const struct event_def {
    const char *xml_name;
    bpmn_event_kind kind;
    bool known;
} event_defs[] = {
    {"errorEventDefinition", BPMN_EVENT_ERROR, true},
    {"terminateEventDefinition", BPMN_EVENT_TERMINATE, true},
    {"compensateEventDefinition", BPMN_EVENT_COMPENSATION, true},
    {"timerEventDefinition", BPMN_EVENT_TIMER, true},
    {"messageEventDefinition", BPMN_EVENT_MESSAGE, true},
    {"signalEventDefinition", BPMN_EVENT_SIGNAL, true},
    {"escalationEventDefinition", BPMN_EVENT_ESCALATION, true},
    {"linkEventDefinition", BPMN_EVENT_LINK, true},
    {"conditionalEventDefinition", BPMN_EVENT_NONE, false},
    {"cancelEventDefinition", BPMN_EVENT_NONE, false},
};

/* The (event type, definition) pairs baton executes. */
static bool event_supported(bpmn_type t, bpmn_event_kind k) {
    switch (t) {
    case BPMN_START_EVENT: /* all but none, message, timer and signal: in event sub-processes */
        return k == BPMN_EVENT_NONE || k == BPMN_EVENT_MESSAGE || k == BPMN_EVENT_TIMER ||
               k == BPMN_EVENT_ERROR || k == BPMN_EVENT_ESCALATION || k == BPMN_EVENT_SIGNAL;
    case BPMN_END_EVENT:
        return k == BPMN_EVENT_NONE || k == BPMN_EVENT_ERROR || k == BPMN_EVENT_TERMINATE ||
               k == BPMN_EVENT_COMPENSATION || k == BPMN_EVENT_ESCALATION ||
               k == BPMN_EVENT_MESSAGE /* message: a job */ || k == BPMN_EVENT_SIGNAL;
    case BPMN_INTERMEDIATE_THROW_EVENT:
        return k == BPMN_EVENT_NONE || k == BPMN_EVENT_COMPENSATION || k == BPMN_EVENT_LINK ||
               k == BPMN_EVENT_ESCALATION || k == BPMN_EVENT_MESSAGE || k == BPMN_EVENT_SIGNAL;
    case BPMN_INTERMEDIATE_CATCH_EVENT:
        return k == BPMN_EVENT_TIMER || k == BPMN_EVENT_LINK || k == BPMN_EVENT_MESSAGE ||
               k == BPMN_EVENT_SIGNAL;
    case BPMN_BOUNDARY_EVENT:
        return k == BPMN_EVENT_ERROR || k == BPMN_EVENT_COMPENSATION || k == BPMN_EVENT_TIMER ||
               k == BPMN_EVENT_ESCALATION || k == BPMN_EVENT_MESSAGE || k == BPMN_EVENT_SIGNAL;
    default: return false;
    }
}

/* ---- nodes --------------------------------------------------------------------- */

static int node_push(parser *p) {
    bpmn_build *b = p->b;
    if (b->n_nodes == b->cap_nodes) {
        int cap = b->cap_nodes ? b->cap_nodes * 2 : 32;
        bpmn_node *grown = bt_realloc(b->nodes, (size_t)cap * sizeof *grown);
        if (!grown)
            return bpmn_ctx_nomem(p->c);
        b->nodes = grown;
        b->cap_nodes = cap;
    }
    int i = b->n_nodes++;
    bpmn_node *n = &b->nodes[i];
    memset(n, 0, sizeof *n);
    n->el.index = i;
    n->el.default_flow = -1;
    n->el.start_event = -1;
    n->el.compensation_handler = -1;
    n->el.attached_to = -1;
    n->el.compensate_activity = -1;
    n->el.link_target = -1;
    n->el.cancel_activity = true;
    n->el.wait_for_completion = true;
    n->el.propagate_all_parent = true;
    n->el.propagate_all_child = true;
    return i;
}

static void node_unsupported(parser *p, int i, const char *detail) {
    bpmn_node *n = &p->b->nodes[i];
    if (n->unsupported)
        return; /* one report per element */
    n->unsupported = true;
    bpmn_ctx_report(p->c, n->el.id, n->el.line, 0, "element type '%s'%s%s is not supported",
                    n->xml_name, detail ? " with " : "", detail ? detail : "");
}

/* <timerEventDefinition> with one of timeDuration, timeDate, timeCycle: its
 * text, literal or "=FEEL". A literal is checked here; FEEL when it runs. */
static void parse_timer(parser *p, int i, const xmlNode *def) {
    static const struct {
        const char *name;
        bpmn_timer_kind kind;
    } kinds[] = {{"timeDuration", BPMN_TIMER_DURATION},
                 {"timeDate", BPMN_TIMER_DATE},
                 {"timeCycle", BPMN_TIMER_CYCLE}};
    bpmn_node *n = &p->b->nodes[i];
    int found = 0;
    for (const xmlNode *c = def->children; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE || !node_in_ns(c, NS_BPMN))
            continue;
        for (size_t k = 0; k < BT_ARRAY_LEN(kinds); k++) {
            if (strcmp((const char *)c->name, kinds[k].name) != 0)
                continue;
            found++;
            xmlChar *text = xmlNodeGetContent(c);
            const char *t = (const char *)text;
            while (t && (*t == ' ' || *t == '\n' || *t == '\t' || *t == '\r'))
                t++;
            char *trimmed = t ? bt_strdup(t) : NULL;
            for (size_t e = trimmed ? strlen(trimmed) : 0;
                 e > 0 && strchr(" \n\t\r", trimmed[e - 1]); e--)
                trimmed[e - 1] = 0;
            xmlFree(text);
            n->el.timer_kind = kinds[k].kind;
            if (!trimmed || !trimmed[0])
                bpmn_ctx_report(p->c, n->el.id, n->el.line, 0, "%s is empty", kinds[k].name);
            else
                parse_value(p, trimmed, n->el.id, n->el.line, kinds[k].name, &n->el.timer);
            bpmn_schedule sched;
            bt_error terr;
            if (trimmed && trimmed[0] && trimmed[0] != '=' &&
                bpmn_timer_schedule(kinds[k].kind, trimmed, strlen(trimmed), 0, &sched, &terr))
                bpmn_ctx_report(p->c, n->el.id, n->el.line, 0, "%s: %s", kinds[k].name,
                                terr.message);
            bt_free(trimmed);
        }
    }
    if (found != 1)
        bpmn_ctx_report(p->c, n->el.id, n->el.line, 0,
                        "a timer needs exactly one of timeDuration, timeDate or timeCycle");
}

static void parse_container(parser *p, const xmlNode *x, int container);

/* zeebe:taskHeaders */
static void parse_headers(parser *p, int i, const xmlNode *x) {
    int n = 0;
    FOR_CHILDREN(h, x) {
        if (node_in_ns(h, NS_ZEEBE) && strcmp((const char *)h->name, "header") == 0)
            n++;
    }
    bpmn_node *node = &p->b->nodes[i];
    if (n == 0 || node->el.n_headers > 0)
        return;
    bpmn_header *hs = bpmn_arena_alloc(p->c->arena, (size_t)n * sizeof *hs);
    if (!hs) {
        bpmn_ctx_nomem(p->c);
        return;
    }
    int k = 0;
    FOR_CHILDREN(h, x) {
        if (!node_in_ns(h, NS_ZEEBE) || strcmp((const char *)h->name, "header") != 0)
            continue;
        const char *key = node_attr(h, "key"), *value = node_attr(h, "value");
        if (!key || !key[0])
            bpmn_ctx_report(p->c, node->el.id, node_line(h), 0, "zeebe:header without a key");
        hs[k].key = keep(p, key ? key : "");
        hs[k].value = keep(p, value ? value : "");
        k++;
    }
    node->el.headers = hs;
    node->el.n_headers = n;
}

/* A mapping target: a variable name or a dotted path, no empty segment and
 * no white space. */
static bool target_valid(const char *t) {
    if (!t || !t[0] || t[0] == '.')
        return false;
    for (const char *s = t; *s; s++) {
        if (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
            return false;
        if (*s == '.' && (s[1] == '.' || s[1] == 0))
            return false;
    }
    return true;
}

static void parse_mappings(parser *p, int i, const xmlNode *x, const char *kind, int *count,
                           const bpmn_mapping **out) {
    int n = 0;
    FOR_CHILDREN(m, x) {
        if (node_in_ns(m, NS_ZEEBE) && strcmp((const char *)m->name, kind) == 0)
            n++;
    }
    if (n == 0 || *count > 0)
        return;
    bpmn_mapping *ms = bpmn_arena_alloc(p->c->arena, (size_t)n * sizeof *ms);
    if (!ms) {
        bpmn_ctx_nomem(p->c);
        return;
    }
    const char *id = p->b->nodes[i].el.id;
    char what[32];
    snprintf(what, sizeof what, "zeebe:%s source", kind);
    int k = 0;
    FOR_CHILDREN(m, x) {
        if (!node_in_ns(m, NS_ZEEBE) || strcmp((const char *)m->name, kind) != 0)
            continue;
        int line = node_line(m);
        const char *source = node_attr(m, "source"), *target = node_attr(m, "target");
        if (!source || !source[0] || (source[0] == '=' && !source[1])) {
            bpmn_ctx_report(p->c, id, line, 0, "zeebe:%s without a source", kind);
        } else if (source[0] == '=') {
            ms[k].source_text = keep(p, source + 1);
            if (ms[k].source_text)
                ms[k].source = compile(p, ms[k].source_text, id, line, what);
        } else {
            /* A static value (Zeebe 8: no '=' prefix), as connector templates
             * write them (source="POST"): the string itself, compiled as a
             * FEEL string literal. */
            bt_buf lit = BT_BUF_INIT;
            bt_buf_putc(&lit, '"');
            for (const char *c = source; *c; c++) {
                if (*c == '"' || *c == '\\')
                    bt_buf_putc(&lit, '\\');
                bt_buf_putc(&lit, *c);
            }
            bt_buf_putc(&lit, '"');
            ms[k].source_text = keep(p, source);
            if (lit.failed)
                bpmn_ctx_nomem(p->c);
            else if (ms[k].source_text)
                ms[k].source = compile(p, lit.data, id, line, what);
            bt_buf_free(&lit);
        }
        if (!target_valid(target))
            bpmn_ctx_report(p->c, id, line, 0,
                            "zeebe:%s target '%s' is not a variable name or a dotted path", kind,
                            target ? target : "");
        ms[k].target = keep(p, target);
        k++;
        if (failed(p))
            return;
    }
    *out = ms;
    *count = n;
}

static void parse_task_definition(parser *p, int i, const xmlNode *x) {
    bpmn_node *n = &p->b->nodes[i];
    const char *id = n->el.id;
    int line = node_line(x);
    const char *type = node_attr(x, "type"), *retries = node_attr(x, "retries");
    if (type && type[0] && strcmp(type, "=") != 0)
        parse_value(p, type, id, line, "zeebe:taskDefinition type", &n->el.job_type);
    parse_value(p, retries ? retries : "3", id, line, "zeebe:taskDefinition retries",
                &n->el.job_retries);
    if (retries && retries[0] != '=') {
        char *end = NULL;
        long v = strtol(retries, &end, 10);
        if (!retries[0] || *end || v < 0 || v > INT32_MAX)
            bpmn_ctx_report(p->c, id, line, 0,
                            "zeebe:taskDefinition retries '%s' is not a non-negative integer",
                            retries);
    }
}

/* Appends a header (key, value) to node i's headers (arena memory). */
static void header_add(parser *p, int i, const char *key, const char *value) {
    bpmn_node *node = &p->b->nodes[i];
    bpmn_header *hs = bpmn_arena_alloc(p->c->arena, (size_t)(node->el.n_headers + 1) * sizeof *hs);
    if (!hs) {
        bpmn_ctx_nomem(p->c);
        return;
    }
    for (int k = 0; k < node->el.n_headers; k++)
        hs[k] = node->el.headers[k];
    hs[node->el.n_headers].key = keep(p, key);
    hs[node->el.n_headers].value = keep(p, value);
    node->el.headers = hs;
    node->el.n_headers++;
}

/* A job-based user task's details, as Zeebe hands them to the worker of
 * "io.camunda.zeebe:userTask": custom headers io.camunda.zeebe:assignee,
 * :candidateGroups, :candidateUsers, :formKey, :dueDate, :followUpDate,
 * :priority (values as written; an "=..." value is passed as text). */
static void parse_user_task_detail(parser *p, int i, const xmlNode *e, const char *name) {
    static const struct {
        const char *element, *attr, *header;
    } rows[] = {
        {"assignmentDefinition", "assignee", "io.camunda.zeebe:assignee"},
        {"assignmentDefinition", "candidateGroups", "io.camunda.zeebe:candidateGroups"},
        {"assignmentDefinition", "candidateUsers", "io.camunda.zeebe:candidateUsers"},
        {"formDefinition", "formKey", "io.camunda.zeebe:formKey"},
        {"formDefinition", "formId", "io.camunda.zeebe:formKey"},
        {"taskSchedule", "dueDate", "io.camunda.zeebe:dueDate"},
        {"taskSchedule", "followUpDate", "io.camunda.zeebe:followUpDate"},
        {"priorityDefinition", "priority", "io.camunda.zeebe:priority"},
    };
    for (size_t k = 0; k < BT_ARRAY_LEN(rows); k++) {
        if (strcmp(rows[k].element, name) != 0)
            continue;
        const char *v = node_attr(e, rows[k].attr);
        if (v && v[0])
            header_add(p, i, rows[k].header, v);
    }
}

static bool is_user_task_detail(const char *name) {
    return !strcmp(name, "assignmentDefinition") || !strcmp(name, "formDefinition") ||
           !strcmp(name, "taskSchedule") || !strcmp(name, "priorityDefinition");
}

/* A propagateAll* attribute of zeebe:calledElement: absent or "true" is
 * true, "false" false; anything else is reported. */
static bool parse_propagate(parser *p, int i, const xmlNode *x, const char *name) {
    const char *v = node_attr(x, name);
    if (!v || strcmp(v, "true") == 0)
        return true;
    if (strcmp(v, "false") != 0)
        bpmn_ctx_report(p->c, p->b->nodes[i].el.id, node_line(x), 0,
                        "zeebe:calledElement %s '%s' is not 'true' or 'false'", name, v);
    return false;
}

/* <zeebe:calledElement processId propagateAllChildVariables
 * propagateAllParentVariables bindingType versionTag> of call activity node
 * i: bindingType "latest" (the default), "deployment" or "versionTag" (with
 * the versionTag to call). */
static void parse_called_element(parser *p, int i, const xmlNode *x) {
    bpmn_node *n = &p->b->nodes[i];
    const char *id = n->el.id;
    int line = node_line(x);
    const char *process_id = node_attr(x, "processId");
    if (n->el.called_process.text) {
        bpmn_ctx_report(p->c, id, line, 0, "a second zeebe:calledElement");
        return;
    }
    if (process_id && process_id[0] && strcmp(process_id, "=") != 0)
        parse_value(p, process_id, id, line, "zeebe:calledElement processId",
                    &n->el.called_process);
    n = &p->b->nodes[i];
    n->el.propagate_all_parent = parse_propagate(p, i, x, "propagateAllParentVariables");
    n->el.propagate_all_child = parse_propagate(p, i, x, "propagateAllChildVariables");
    const char *binding = node_attr(x, "bindingType");
    const char *tag = node_attr(x, "versionTag");
    if (!binding || strcmp(binding, "latest") == 0) {
        n->el.binding = BPMN_BINDING_LATEST;
    } else if (strcmp(binding, "deployment") == 0) {
        n->el.binding = BPMN_BINDING_DEPLOYMENT;
    } else if (strcmp(binding, "versionTag") == 0) {
        n->el.binding = BPMN_BINDING_VERSION_TAG;
        if (!tag || !tag[0])
            bpmn_ctx_report(p->c, id, line, 0,
                            "zeebe:calledElement bindingType=\"versionTag\" needs the versionTag "
                            "to call");
        n->el.version_tag = keep(p, tag);
    } else {
        bpmn_ctx_report(p->c, id, line, 0,
                        "zeebe:calledElement bindingType=\"%s\": expected latest, deployment or "
                        "versionTag",
                        binding);
    }
}

/* Extension elements of a flow node (or, with i = 0, of the process). */
static void parse_extensions(parser *p, int i, const xmlNode *x) {
    FOR_CHILDREN(e, x) {
        if (!node_in_ns(e, NS_ZEEBE))
            continue; /* camunda:, modeler: and other tools' extensions */
        bpmn_node *n = &p->b->nodes[i];
        const char *name = (const char *)e->name;
        bpmn_type t = n->el.type;
        if (strcmp(name, "properties") == 0 || strcmp(name, "versionTag") == 0)
            continue; /* documentation for tools, no meaning for execution */
        if (strcmp(name, "taskDefinition") == 0 && bpmn_element_is_job(&n->el)) {
            parse_task_definition(p, i, e);
        } else if (strcmp(name, "taskHeaders") == 0 && bpmn_element_is_job(&n->el)) {
            parse_headers(p, i, e);
        } else if (t == BPMN_USER_TASK && is_user_task_detail(name)) {
            parse_user_task_detail(p, i, e, name);
        } else if (strcmp(name, "calledElement") == 0 && t == BPMN_CALL_ACTIVITY) {
            parse_called_element(p, i, e);
        } else if (strcmp(name, "ioMapping") == 0 &&
                   (bpmn_is_activity(t) || bpmn_type_is_event(t))) {
            bool has_inputs = false;
            FOR_CHILDREN(m, e) {
                if (node_in_ns(m, NS_ZEEBE) && strcmp((const char *)m->name, "input") == 0)
                    has_inputs = true;
            }
            /* Events take inputs only where they make a signal's variables. */
            bool signal_throw = n->el.event == BPMN_EVENT_SIGNAL &&
                                (t == BPMN_INTERMEDIATE_THROW_EVENT || t == BPMN_END_EVENT);
            if (has_inputs && !bpmn_is_activity(t) && !signal_throw) {
                node_unsupported(p, i, "zeebe:input mappings");
                continue;
            }
            parse_mappings(p, i, e, "input", &n->el.n_inputs, &n->el.inputs);
            n = &p->b->nodes[i];
            parse_mappings(p, i, e, "output", &n->el.n_outputs, &n->el.outputs);
        } else {
            char detail[96];
            snprintf(detail, sizeof detail, "extension element 'zeebe:%s'", name);
            node_unsupported(p, i, detail);
        }
        if (failed(p))
            return;
    }
}

/* The event definition of event node i: sets el.event, event_ref,
 * activity_ref, wait_for_completion; reports what is not supported. */
static void parse_event_definition(parser *p, int i, const xmlNode *x) {
    const xmlNode *def = NULL;
    const struct event_def *row = NULL;
    int n_defs = 0;
    FOR_CHILDREN(c, x) {
        if (!node_in_ns(c, NS_BPMN))
            continue;
        const char *name = (const char *)c->name;
        if (strcmp(name, "eventDefinitionRef") == 0) {
            node_unsupported(p, i, "eventDefinitionRef");
            return;
        }
        size_t len = strlen(name), suffix = strlen("EventDefinition");
        if (len <= suffix || strcmp(name + len - suffix, "EventDefinition") != 0)
            continue;
        n_defs++;
        def = c;
        row = NULL;
        for (size_t k = 0; k < BT_ARRAY_LEN(event_defs); k++)
            if (strcmp(event_defs[k].xml_name, name) == 0)
                row = &event_defs[k];
    }
    bpmn_node *n = &p->b->nodes[i];
    if (n_defs > 1) {
        node_unsupported(p, i, "several event definitions");
        return;
    }
    if (n_defs == 1 && (!row || !row->known || !event_supported(n->el.type, row->kind))) {
        node_unsupported(p, i, (const char *)def->name);
        return;
    }
    if (n_defs == 0 && !event_supported(n->el.type, BPMN_EVENT_NONE)) {
        node_unsupported(p, i, n->el.type == BPMN_BOUNDARY_EVENT ? "no event definition" : NULL);
        return;
    }
    if (!def)
        return;
    n->el.event = row->kind;
    if (row->kind == BPMN_EVENT_ERROR || row->kind == BPMN_EVENT_ESCALATION) {
        const char *ref =
            node_attr(def, row->kind == BPMN_EVENT_ERROR ? "errorRef" : "escalationRef");
        n->has_event_ref = ref != NULL;
        n->event_ref = keep(p, ref);
    } else if (row->kind == BPMN_EVENT_MESSAGE || row->kind == BPMN_EVENT_SIGNAL) {
        const char *ref =
            node_attr(def, row->kind == BPMN_EVENT_MESSAGE ? "messageRef" : "signalRef");
        n->has_event_ref = ref != NULL;
        n->event_ref = keep(p, ref);
    } else if (row->kind == BPMN_EVENT_COMPENSATION) {
        n->activity_ref = keep(p, node_attr(def, "activityRef"));
        if (attr_is_false(def, "waitForCompletion"))
            n->el.wait_for_completion = false;
    } else if (row->kind == BPMN_EVENT_TIMER) {
        parse_timer(p, i, def);
    } else if (row->kind == BPMN_EVENT_LINK) {
        const char *name = node_attr(def, "name");
        if (!name || !name[0])
            name = n->el.name; /* modelers often name the event, not the definition */
        if (!name || !name[0])
            bpmn_ctx_report(p->c, n->el.id, n->el.line, 0, "a link event needs a name");
        n->el.link_name = keep(p, name);
    }
}

static char *node_text(parser *p, const xmlNode *x);

/* A variable name as inputElement and outputCollection take it: not empty,
 * not an expression, no white space, no path. */
static bool variable_name_valid(const char *s) {
    if (!s || !s[0] || s[0] == '=')
        return false;
    for (; *s; s++)
        if (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r' || *s == '.')
            return false;
    return true;
}

/* When a FEEL expression is a name or a dotted path of names (letters,
 * digits, '_'), the first name, in the arena; NULL otherwise. */
static const char *expression_variable(parser *p, const char *text) {
    const char *s = text + strspn(text, " \t\r\n");
    size_t len = strlen(s);
    while (len > 0 && strchr(" \t\r\n", s[len - 1]))
        len--;
    size_t first = 0;
    bool start = true;
    for (size_t k = 0; k < len; k++) {
        char c = s[k];
        bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
        bool digit = c >= '0' && c <= '9';
        if (c == '.' && !start) {
            if (!first)
                first = k;
            start = true;
        } else if (letter || (digit && !start)) {
            start = false;
        } else {
            return NULL;
        }
    }
    if (len == 0 || start)
        return NULL;
    char *name = bpmn_arena_strndup(p->c->arena, s, first ? first : len);
    if (!name)
        bpmn_ctx_nomem(p->c);
    return name;
}

/* A loop expression attribute or element text: FEEL, with or without the
 * leading '='. NULL (not reported) when absent or empty. */
static feel_expr *loop_expression(parser *p, int i, const char *value, int line, const char *what,
                                  const char **text) {
    *text = NULL;
    if (!value)
        return NULL;
    value += strspn(value, " \t\r\n");
    if (value[0] == '=')
        value++;
    value += strspn(value, " \t\r\n");
    if (!value[0])
        return NULL;
    *text = keep(p, value);
    return *text ? compile(p, *text, p->b->nodes[i].el.id, line, what) : NULL;
}

/* <multiInstanceLoopCharacteristics> of activity node i. */
static void parse_loop(parser *p, int i, const xmlNode *x) {
    bpmn_loop *loop = bpmn_arena_alloc(p->c->arena, sizeof *loop);
    if (!loop) {
        bpmn_ctx_nomem(p->c);
        return;
    }
    loop->sequential = attr_is_true(x, "isSequential");
    const xmlNode *zeebe = NULL;
    FOR_CHILDREN(c, x) {
        if (node_is(c, "extensionElements")) {
            FOR_CHILDREN(e, c) {
                if (!node_in_ns(e, NS_ZEEBE))
                    continue;
                if (strcmp((const char *)e->name, "loopCharacteristics") == 0 && !zeebe) {
                    zeebe = e;
                } else {
                    char detail[128];
                    snprintf(detail, sizeof detail,
                             "extension element 'zeebe:%s' in multiInstanceLoopCharacteristics",
                             (const char *)e->name);
                    node_unsupported(p, i, detail);
                    return;
                }
            }
        } else if (node_is(c, "completionCondition")) {
            char *text = node_text(p, c);
            if (!text)
                return;
            loop->completion_condition = loop_expression(
                p, i, text, node_line(c), "completionCondition", &loop->completion_condition_text);
            if (!loop->completion_condition_text && !failed(p))
                bpmn_ctx_report(p->c, p->b->nodes[i].el.id, node_line(c), 0,
                                "empty completionCondition");
        } else if (node_in_ns(c, NS_BPMN) && !node_is(c, "documentation")) {
            char detail[128];
            snprintf(detail, sizeof detail, "multiInstanceLoopCharacteristics with <%s>",
                     (const char *)c->name);
            node_unsupported(p, i, detail);
            return;
        }
        if (failed(p))
            return;
    }
    bpmn_node *n = &p->b->nodes[i];
    const char *id = n->el.id;
    n->el.loop = loop;
    if (!zeebe) {
        bpmn_ctx_report(p->c, id, n->el.line, 0,
                        "a multi-instance activity needs an inputCollection "
                        "(<zeebe:loopCharacteristics inputCollection=\"= items\"/>)");
        return;
    }
    int line = node_line(zeebe);
    loop->input_collection =
        loop_expression(p, i, node_attr(zeebe, "inputCollection"), line,
                        "zeebe:loopCharacteristics inputCollection", &loop->input_collection_text);
    if (!loop->input_collection_text && !failed(p))
        bpmn_ctx_report(p->c, id, line, 0,
                        "a multi-instance activity needs an inputCollection "
                        "(<zeebe:loopCharacteristics inputCollection=\"= items\"/>)");
    const char *input_element = node_attr(zeebe, "inputElement");
    const char *output_collection = node_attr(zeebe, "outputCollection");
    if (input_element && input_element[0] && !variable_name_valid(input_element))
        bpmn_ctx_report(p->c, id, line, 0,
                        "zeebe:loopCharacteristics inputElement '%s' is not a variable name",
                        input_element);
    if (output_collection && output_collection[0] && !variable_name_valid(output_collection))
        bpmn_ctx_report(p->c, id, line, 0,
                        "zeebe:loopCharacteristics outputCollection '%s' is not a variable name",
                        output_collection);
    loop->input_element = input_element && input_element[0] ? keep(p, input_element) : NULL;
    loop->output_collection =
        output_collection && output_collection[0] ? keep(p, output_collection) : NULL;
    loop->output_element =
        loop_expression(p, i, node_attr(zeebe, "outputElement"), line,
                        "zeebe:loopCharacteristics outputElement", &loop->output_element_text);
    if (failed(p))
        return;
    if (loop->output_collection && !loop->output_element_text)
        bpmn_ctx_report(p->c, id, line, 0,
                        "zeebe:loopCharacteristics outputCollection needs an outputElement "
                        "(the expression whose result is collected)");
    else if (!loop->output_collection && loop->output_element_text)
        bpmn_ctx_report(p->c, id, line, 0,
                        "zeebe:loopCharacteristics outputElement needs an outputCollection "
                        "(the variable that collects the results)");
    if (loop->output_element_text) {
        const char *var = expression_variable(p, loop->output_element_text);
        bool keyword = var && (!strcmp(var, "null") || !strcmp(var, "true") ||
                               !strcmp(var, "false") || !strcmp(var, "loopCounter"));
        if (var && !keyword && !(loop->input_element && strcmp(var, loop->input_element) == 0))
            loop->output_element_var = var;
    }
}

/* The Camunda 7 way of implementing a task (an attribute of the camunda:
 * namespace), to explain why a task of such a model has no job type. */
static const char *camunda7_implementation(const xmlNode *x) {
    static const char *const attrs[] = {"class", "delegateExpression", "expression",
                                        "type",  "decisionRef",        "resultVariable"};
    for (const xmlAttr *a = x->properties; a; a = a->next) {
        if (!a->ns || !a->ns->href ||
            strcmp((const char *)a->ns->href, "http://camunda.org/schema/1.0/bpmn") != 0)
            continue;
        for (size_t k = 0; k < BT_ARRAY_LEN(attrs); k++)
            if (strcmp((const char *)a->name, attrs[k]) == 0)
                return attrs[k];
    }
    return NULL;
}

/* A flow node: a node in the build, its attributes, extensions and, for an
 * embedded sub-process, its children. */
static void parse_node(parser *p, const xmlNode *x, const struct flow_kind *kind, int scope) {
    const char *id = node_attr(x, "id");
    if (!id || !id[0]) {
        bpmn_ctx_report(p->c, NULL, node_line(x), 0, "element '%s' has no id",
                        (const char *)x->name);
        return;
    }
    int i = node_push(p);
    if (i < 0)
        return;
    bpmn_node *n = &p->b->nodes[i];
    n->xml_name = kind->xml_name;
    n->el.type = kind->type;
    n->el.scope = scope;
    n->el.line = node_line(x);
    n->el.id = keep(p, id);
    n->el.name = keep(p, node_attr(x, "name"));
    if (failed(p))
        return;
    if (kind->role == ROLE_UNSUPPORTED) {
        node_unsupported(p, i, NULL);
        return;
    }
    bpmn_type t = kind->type;
    if (t == BPMN_SUB_PROCESS && attr_is_true(x, "triggeredByEvent"))
        n->el.type = t = BPMN_EVENT_SUB_PROCESS;
    if (bpmn_is_activity(t)) {
        n->el.is_for_compensation = attr_is_true(x, "isForCompensation");
        FOR_CHILDREN(c, x) {
            if (node_is(c, "standardLoopCharacteristics") ||
                (node_is(c, "multiInstanceLoopCharacteristics") && p->b->nodes[i].el.loop)) {
                node_unsupported(p, i, (const char *)c->name);
                return;
            }
            if (node_is(c, "multiInstanceLoopCharacteristics"))
                parse_loop(p, i, c);
            if (p->b->nodes[i].unsupported || failed(p))
                return;
        }
        n = &p->b->nodes[i];
    }
    if (bpmn_type_is_event(t)) {
        parse_event_definition(p, i, x);
        if (p->b->nodes[i].unsupported || failed(p))
            return;
    }
    n = &p->b->nodes[i];
    if (t == BPMN_BOUNDARY_EVENT) {
        n->attached_ref = keep(p, node_attr(x, "attachedToRef"));
        if (attr_is_false(x, "cancelActivity"))
            n->el.cancel_activity = false;
    }
    if (t == BPMN_START_EVENT && attr_is_false(x, "isInterrupting"))
        n->el.cancel_activity = false; /* an event sub-process's start event */
    /* A cycle repeats: only where the element stays (a boundary event or an
     * event sub-process start event that does not interrupt) or starts
     * instances (a timer start event); a catch event or an interrupting one
     * fires once. */
    bool process_start = t == BPMN_START_EVENT && n->el.scope == 0; /* a timer start event */
    if (n->el.event == BPMN_EVENT_TIMER && n->el.timer_kind == BPMN_TIMER_CYCLE && !process_start &&
        ((t != BPMN_BOUNDARY_EVENT && t != BPMN_START_EVENT) || n->el.cancel_activity))
        bpmn_ctx_report(p->c, n->el.id, n->el.line, 0,
                        "timeCycle needs a non-interrupting boundary or event sub-process start "
                        "event (cancelActivity=\"false\" / isInterrupting=\"false\"); use "
                        "timeDuration or timeDate here");
    if (t == BPMN_EXCLUSIVE_GATEWAY || t == BPMN_INCLUSIVE_GATEWAY)
        n->default_ref = keep(p, node_attr(x, "default"));
    if (t == BPMN_RECEIVE_TASK) {
        n->has_event_ref = node_attr(x, "messageRef") != NULL;
        n->event_ref = keep(p, node_attr(x, "messageRef"));
    }
    if (t == BPMN_SCRIPT_TASK || t == BPMN_BUSINESS_RULE_TASK) {
        /* A BPMN script body (Camunda 7) would run nothing in baton. */
        FOR_CHILDREN(c, x) {
            if (node_is(c, "script")) {
                node_unsupported(p, i, "an inline script");
                return;
            }
        }
    }
    FOR_CHILDREN(c, x) {
        if (node_is(c, "extensionElements"))
            parse_extensions(p, i, c);
        if (p->b->nodes[i].unsupported || failed(p))
            return;
    }
    n = &p->b->nodes[i];
    if (t == BPMN_USER_TASK && !n->el.job_type.text) {
        /* Job-based user tasks: one job type for a task list to work on. */
        n->el.job_type.text = keep(p, "io.camunda.zeebe:userTask");
        if (!n->el.job_retries.text)
            parse_value(p, "3", n->el.id, n->el.line, "retries", &n->el.job_retries);
    }
    if (bpmn_element_is_job(&n->el) && !n->el.job_type.text) {
        const char *c7 = camunda7_implementation(x);
        bpmn_ctx_report(p->c, n->el.id, n->el.line, 0,
                        "missing job type: a %s'%s' needs <zeebe:taskDefinition "
                        "type=\"...\"/>%s%s%s",
                        n->el.event == BPMN_EVENT_MESSAGE ? "message " : "", n->xml_name,
                        c7 ? " (camunda:" : "", c7 ? c7 : "",
                        c7 ? " is a Camunda 7 implementation, not supported)" : "");
    }
    if (t == BPMN_CALL_ACTIVITY && !n->el.called_process.text && !failed(p))
        bpmn_ctx_report(p->c, n->el.id, n->el.line, 0,
                        "a call activity needs the process to call: "
                        "<zeebe:calledElement processId=\"...\"/>");
    if (t == BPMN_SUB_PROCESS || t == BPMN_EVENT_SUB_PROCESS)
        parse_container(p, x, i);
}

/* ---- flows and associations ------------------------------------------------------- */

/* The text of an element (text and CDATA children), trimmed; arena memory. */
static char *node_text(parser *p, const xmlNode *x) {
    bt_buf b = BT_BUF_INIT;
    for (const xmlNode *t = x->children; t; t = t->next)
        if ((t->type == XML_TEXT_NODE || t->type == XML_CDATA_SECTION_NODE) && t->content)
            bt_buf_puts(&b, (const char *)t->content);
    if (b.failed) {
        bt_buf_free(&b);
        bpmn_ctx_nomem(p->c);
        return NULL;
    }
    const char *s = b.data ? b.data : "";
    size_t n = b.len;
    while (n > 0 && strchr(" \t\r\n", s[0])) {
        s++;
        n--;
    }
    while (n > 0 && strchr(" \t\r\n", s[n - 1]))
        n--;
    char *k = bpmn_arena_strndup(p->c->arena, s, n);
    bt_buf_free(&b);
    if (!k)
        bpmn_ctx_nomem(p->c);
    return k;
}

static void parse_flow(parser *p, const xmlNode *x, int scope) {
    const char *id = node_attr(x, "id");
    int line = node_line(x);
    if (!id || !id[0]) {
        bpmn_ctx_report(p->c, NULL, line, 0, "element 'sequenceFlow' has no id");
        return;
    }
    bpmn_build *b = p->b;
    if (b->n_flows == b->cap_flows) {
        int cap = b->cap_flows ? b->cap_flows * 2 : 32;
        bpmn_build_flow *grown = bt_realloc(b->flows, (size_t)cap * sizeof *grown);
        if (!grown) {
            bpmn_ctx_nomem(p->c);
            return;
        }
        b->flows = grown;
        b->cap_flows = cap;
    }
    bpmn_build_flow *f = &b->flows[b->n_flows];
    memset(f, 0, sizeof *f);
    f->fl.index = b->n_flows++;
    f->fl.id = keep(p, id);
    f->fl.line = line;
    f->fl.source = f->fl.target = -1;
    f->scope = scope;
    f->source_ref = keep(p, node_attr(x, "sourceRef"));
    f->target_ref = keep(p, node_attr(x, "targetRef"));
    FOR_CHILDREN(c, x) {
        if (!node_is(c, "conditionExpression"))
            continue;
        char *text = node_text(p, c);
        if (!text)
            return;
        if (text[0] == '=')
            text++;
        if (!text[strspn(text, " \t\r\n")]) {
            bpmn_ctx_report(p->c, f->fl.id, node_line(c), 0, "empty condition expression");
            return;
        }
        f->fl.condition_text = text;
        f->fl.condition = compile(p, text, f->fl.id, node_line(c), "condition");
    }
}

static void parse_association(parser *p, const xmlNode *x) {
    bpmn_build *b = p->b;
    if (b->n_assocs == b->cap_assocs) {
        int cap = b->cap_assocs ? b->cap_assocs * 2 : 8;
        bpmn_build_assoc *grown = bt_realloc(b->assocs, (size_t)cap * sizeof *grown);
        if (!grown) {
            bpmn_ctx_nomem(p->c);
            return;
        }
        b->assocs = grown;
        b->cap_assocs = cap;
    }
    bpmn_build_assoc *a = &b->assocs[b->n_assocs++];
    a->id = keep(p, node_attr(x, "id"));
    a->line = node_line(x);
    a->source_ref = keep(p, node_attr(x, "sourceRef"));
    a->target_ref = keep(p, node_attr(x, "targetRef"));
}

/* The flow elements of a process or embedded sub-process (node `container`). */
static void parse_container(parser *p, const xmlNode *x, int container) {
    FOR_CHILDREN(c, x) {
        if (failed(p))
            return;
        if (!node_in_ns(c, NS_BPMN))
            continue;
        const struct flow_kind *kind = flow_kind_find((const char *)c->name);
        if (!kind) {
            /* Unknown to baton: report it, and keep a stand-in node so flows
             * touching it do not add dangling-flow noise. */
            int line = node_line(c);
            const char *id = node_attr(c, "id");
            if (!id || !id[0]) {
                bpmn_ctx_report(p->c, NULL, line, 0, "element type '%s' is not supported",
                                (const char *)c->name);
                continue;
            }
            int i = node_push(p);
            if (i < 0)
                return;
            bpmn_node *n = &p->b->nodes[i];
            n->el.type = BPMN_TASK;
            n->el.scope = container;
            n->el.line = line;
            n->el.id = keep(p, id);
            n->xml_name = keep(p, (const char *)c->name);
            if (!failed(p))
                node_unsupported(p, i, NULL);
            continue;
        }
        switch (kind->role) {
        case ROLE_NODE:
        case ROLE_UNSUPPORTED: parse_node(p, c, kind, container); break;
        case ROLE_FLOW: parse_flow(p, c, container); break;
        case ROLE_ASSOCIATION: parse_association(p, c); break;
        case ROLE_SKIP: break;
        }
    }
}

/* A <process isExecutable="true">: node 0 and everything inside. */
static void parse_process(parser *p, const xmlNode *x, const char *fallback_name) {
    int i = node_push(p);
    if (i < 0)
        return;
    bpmn_node *n = &p->b->nodes[0];
    n->xml_name = "process";
    n->el.type = BPMN_PROCESS;
    n->el.scope = -1;
    n->el.line = node_line(x);
    const char *id = node_attr(x, "id");
    if (!id || !id[0]) {
        bpmn_ctx_report(p->c, NULL, n->el.line, 0, "element 'process' has no id");
        id = "";
    }
    const char *name = node_attr(x, "name");
    n->el.id = keep(p, id);
    n->el.name = keep(p, name && name[0] ? name : fallback_name);
    p->b->id = n->el.id;
    p->b->name = n->el.name;
    p->b->line = n->el.line;
    FOR_CHILDREN(c, x) {
        if (!node_is(c, "extensionElements"))
            continue;
        FOR_CHILDREN(e, c) {
            if (!node_in_ns(e, NS_ZEEBE))
                continue;
            const char *en = (const char *)e->name;
            if (strcmp(en, "versionTag") == 0)
                p->b->version_tag = keep(p, node_attr(e, "value"));
            else if (strcmp(en, "properties") != 0 && strcmp(en, "userTaskForm") != 0)
                bpmn_ctx_report(p->c, p->b->id, node_line(e), 0,
                                "extension element 'zeebe:%s' on a process is not supported", en);
        }
    }
    parse_container(p, x, 0);
}

/* ---- definitions ------------------------------------------------------------------- */

typedef struct id_use {
    const char *id; /* borrowed from the document */
    int line;
    int order;
} id_use;

typedef struct id_list {
    id_use *items;
    int n, cap;
} id_list;

static void ids_collect(bpmn_ctx *c, const xmlNode *x, id_list *l) {
    FOR_CHILDREN(e, x) {
        if (c->status)
            return;
        if (!node_in_ns(e, NS_BPMN))
            continue; /* diagrams and extensions have ids of their own kind */
        const char *id = node_attr(e, "id");
        if (id && id[0]) {
            if (l->n == l->cap) {
                int cap = l->cap ? l->cap * 2 : 64;
                id_use *grown = bt_realloc(l->items, (size_t)cap * sizeof *grown);
                if (!grown) {
                    bpmn_ctx_nomem(c);
                    return;
                }
                l->items = grown;
                l->cap = cap;
            }
            l->items[l->n] = (id_use){id, node_line(e), l->n};
            l->n++;
        }
        ids_collect(c, e, l);
    }
}

static int id_use_cmp(const void *a, const void *b) {
    const id_use *x = a, *y = b;
    int c = strcmp(x->id, y->id);
    return c ? c : (x->order > y->order) - (x->order < y->order);
}

/* Ids are unique in a document: report every reuse at the later element. */
static void ids_check_unique(bpmn_ctx *c, const xmlNode *definitions) {
    id_list l = {0};
    ids_collect(c, definitions, &l);
    if (!c->status && l.n > 1) {
        qsort(l.items, (size_t)l.n, sizeof *l.items, id_use_cmp);
        for (int i = 1; i < l.n; i++)
            if (strcmp(l.items[i].id, l.items[i - 1].id) == 0) {
                int first = i - 1;
                while (first > 0 && strcmp(l.items[first - 1].id, l.items[i].id) == 0)
                    first--;
                bpmn_ctx_report(c, l.items[i].id, l.items[i].line, 0,
                                "duplicate id: already used on line %d", l.items[first].line);
            }
    }
    bt_free(l.items);
}

static int event_def_cmp(const void *a, const void *b) {
    return strcmp(((const bpmn_event_def *)a)->id, ((const bpmn_event_def *)b)->id);
}

static bool is_event_def(const xmlNode *e) {
    return (node_is(e, "error") || node_is(e, "escalation") || node_is(e, "message") ||
            node_is(e, "signal")) &&
           node_attr(e, "id");
}

/* A <bpmn:message>: its name and the correlation key of its
 * <zeebe:subscription>, each a literal or FEEL. */
static void parse_message_def(parser *p, const xmlNode *e, bpmn_event_def *d) {
    int line = node_line(e);
    parse_value(p, node_attr(e, "name"), d->id, line, "message name", &d->name);
    FOR_CHILDREN(ext, e) {
        if (!node_is(ext, "extensionElements"))
            continue;
        FOR_CHILDREN(z, ext) {
            if (node_in_ns(z, NS_ZEEBE) && strcmp((const char *)z->name, "subscription") == 0)
                parse_value(p, node_attr(z, "correlationKey"), d->id, node_line(z),
                            "correlationKey", &d->correlation_key);
        }
    }
}

/* <bpmn:error>, <bpmn:escalation>, <bpmn:message> and <bpmn:signal>
 * definitions, sorted by id for bpmn_ctx_find_event_def. */
static void collect_event_defs(bpmn_ctx *c, const xmlNode *definitions) {
    int n = 0;
    FOR_CHILDREN(e, definitions) {
        if (is_event_def(e))
            n++;
    }
    if (n == 0)
        return;
    bpmn_event_def *defs = bpmn_arena_alloc(c->arena, (size_t)n * sizeof *defs);
    if (!defs) {
        bpmn_ctx_nomem(c);
        return;
    }
    parser p = {c, NULL};
    int k = 0;
    FOR_CHILDREN(e, definitions) {
        if (!is_event_def(e))
            continue;
        bpmn_event_def *d = &defs[k++];
        d->kind = node_is(e, "error")        ? BPMN_EVENT_ERROR
                  : node_is(e, "escalation") ? BPMN_EVENT_ESCALATION
                  : node_is(e, "signal")     ? BPMN_EVENT_SIGNAL
                                             : BPMN_EVENT_MESSAGE;
        d->id = keep(&p, node_attr(e, "id"));
        if (d->kind == BPMN_EVENT_MESSAGE) {
            parse_message_def(&p, e, d);
        } else if (d->kind == BPMN_EVENT_SIGNAL) {
            parse_value(&p, node_attr(e, "name"), d->id, node_line(e), "signal name", &d->name);
        } else {
            bool escalation = d->kind == BPMN_EVENT_ESCALATION;
            const char *code = node_attr(e, escalation ? "escalationCode" : "errorCode");
            d->code = keep(&p, code);
            if (code && code[0] == '=')
                bpmn_ctx_report(c, d->id, node_line(e), 0, "an %s expression is not supported",
                                escalation ? "escalationCode" : "errorCode");
        }
        if (failed(&p))
            return;
    }
    qsort(defs, (size_t)n, sizeof *defs, event_def_cmp);
    c->event_defs = defs;
    c->n_event_defs = n;
}

/* The name of the participant whose processRef is process_id, or NULL. */
static const char *participant_name(const xmlNode *definitions, const char *process_id) {
    FOR_CHILDREN(col, definitions) {
        if (!node_is(col, "collaboration"))
            continue;
        FOR_CHILDREN(part, col) {
            const char *ref = node_attr(part, "processRef");
            if (node_is(part, "participant") && ref && strcmp(ref, process_id) == 0)
                return node_attr(part, "name");
        }
    }
    return NULL;
}

/* ---- reading the document ------------------------------------------------------------ */

/* What the SAX hooks saw while reading. */
typedef struct read_state {
    bool doctype; /* a DOCTYPE was refused */
    int doctype_line;
    bool error; /* the first error, as libxml2 reported it */
    int line, column;
    char message[256];
} read_state;

/* SAX hook for <!DOCTYPE ...>: stops the parser before any declaration. */
static void on_doctype(void *ctx, const xmlChar *name, const xmlChar *external_id,
                       const xmlChar *system_id) {
    xmlParserCtxt *ctxt = ctx;
    read_state *st = ctxt->_private;
    st->doctype = true;
    st->doctype_line = ctxt->input ? ctxt->input->line : 0;
    xmlStopParser(ctxt);
}

/* Structured error hook: keeps the first error (the later ones follow from
 * it), so the line points at the cause, not at the end of the document. */
static void on_error(void *ctx, xmlError *e) {
    xmlParserCtxt *ctxt = ctx;
    read_state *st = ctxt ? ctxt->_private : NULL;
    if (!st || st->error || !e || e->level < XML_ERR_ERROR)
        return;
    st->error = true;
    st->line = e->line;
    st->column = e->int2;
    snprintf(st->message, sizeof st->message, "%s", e->message ? e->message : "not well-formed");
    size_t n = strlen(st->message);
    while (n > 0 && (st->message[n - 1] == '\n' || st->message[n - 1] == ' '))
        st->message[--n] = 0;
}

static pthread_once_t xml_once = PTHREAD_ONCE_INIT;

static void xml_init(void) {
    xmlInitParser();
}

/* Parses the bytes into a document, or reports why not (returns NULL). */
static xmlDoc *xml_read(bpmn_ctx *c, const char *xml, size_t len) {
    pthread_once(&xml_once, xml_init);
    xmlParserCtxt *ctxt = xmlNewParserCtxt();
    if (!ctxt) {
        bpmn_ctx_nomem(c);
        return NULL;
    }
    read_state st;
    memset(&st, 0, sizeof st);
    ctxt->_private = &st;
    ctxt->userData = ctxt; /* what the error hook receives */
    ctxt->sax->internalSubset = on_doctype;
    ctxt->sax->serror = on_error;
    int options = XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_BIG_LINES;
    xmlDoc *doc = xmlCtxtReadMemory(ctxt, xml, (int)len, NULL, NULL, options);
    if (st.doctype) {
        bpmn_ctx_report(c, NULL, st.doctype_line, 0,
                        "a DOCTYPE is not allowed in a BPMN resource (no DTDs, no entities)");
        xmlFreeDoc(doc);
        doc = NULL;
    } else if (!doc || !ctxt->wellFormed || st.error) {
        if (!st.error) {
            const xmlError *e = xmlCtxtGetLastError(ctxt);
            if (e && e->message)
                on_error(ctxt, (xmlError *)e);
        }
        bpmn_ctx_report(c, NULL, st.line, st.column, "malformed XML: %s",
                        st.error ? st.message : "not well-formed");
        xmlFreeDoc(doc);
        doc = NULL;
    }
    xmlFreeParserCtxt(ctxt);
    return doc;
}

/* Lays the processes of the document out in *out (arena memory). */
static void parse_definitions(bpmn_ctx *c, const xmlNode *root, bpmn_model *m) {
    if (!node_is(root, "definitions")) {
        bpmn_ctx_report(c, NULL, node_line(root), 0,
                        "the root element is '%s', not BPMN 2.0 <definitions> (namespace %s)",
                        (const char *)root->name, NS_BPMN);
        return;
    }
    ids_check_unique(c, root);
    collect_event_defs(c, root);
    int n = 0;
    FOR_CHILDREN(x, root) {
        if (node_is(x, "process") && attr_is_true(x, "isExecutable"))
            n++;
    }
    if (c->status)
        return;
    if (n == 0) {
        bpmn_ctx_report(c, NULL, 0, 0,
                        "no executable process: a <process isExecutable=\"true\"> is required");
        return;
    }
    m->processes = bpmn_arena_alloc(c->arena, (size_t)n * sizeof *m->processes);
    if (!m->processes) {
        bpmn_ctx_nomem(c);
        return;
    }
    FOR_CHILDREN(x, root) {
        if (!node_is(x, "process") || !attr_is_true(x, "isExecutable"))
            continue;
        bpmn_build b = {0};
        parser p = {c, &b};
        const char *id = node_attr(x, "id");
        parse_process(&p, x, id ? participant_name(root, id) : NULL);
        if (!c->status)
            bpmn_validate(c, &b, &m->processes[m->n_processes++]);
        bpmn_build_release(&b);
        if (c->status)
            return;
    }
}

int bpmn_parse(const char *xml, size_t len, bpmn_model **out, bpmn_errors *errs) {
    if (out)
        *out = NULL;
    if (errs)
        memset(errs, 0, sizeof *errs);
    bpmn_ctx c;
    memset(&c, 0, sizeof c);
    if (!xml || len == 0) {
        bpmn_ctx_report(&c, NULL, 0, 0, "empty document");
    } else if (len > BPMN_MAX_DOCUMENT) {
        bpmn_ctx_report(&c, NULL, 0, 0, "the document is larger than %u bytes", BPMN_MAX_DOCUMENT);
    }
    if (c.errs.count > 0) {
        if (errs)
            *errs = c.errs;
        return BT_EINVAL;
    }
    c.arena = bpmn_arena_new();
    if (!c.arena)
        return BT_ENOMEM;
    bpmn_model *m = bpmn_arena_alloc(c.arena, sizeof *m);
    if (!m) {
        bpmn_arena_free(c.arena);
        return BT_ENOMEM;
    }
    m->arena = c.arena;
    xmlDoc *doc = xml_read(&c, xml, len);
    if (doc) {
        const xmlNode *root = xmlDocGetRootElement(doc);
        if (root)
            parse_definitions(&c, root, m);
        else
            bpmn_ctx_report(&c, NULL, 0, 0, "the document has no root element");
        xmlFreeDoc(doc);
    }
    if (c.status || c.errs.count > 0) {
        bpmn_arena_free(c.arena);
        if (c.status)
            return c.status;
        if (errs)
            *errs = c.errs;
        return BT_EINVAL;
    }
    if (out)
        *out = m;
    else
        bpmn_model_free(m);
    return 0;
}
