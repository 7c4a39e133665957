/*
 * model.h — a BPMN 2.0 resource as an executable, validated, immutable model.
 *
 * bpmn_parse reads BPMN 2.0 XML (as saved by Camunda Modeler, with the
 * zeebe: extension namespace) and returns a bpmn_model: one bpmn_process per
 * executable <process>. Everything the engine needs is resolved here, once,
 * at deploy time: references become indexes, FEEL expressions are compiled,
 * defaults are filled in. The engine never looks at XML.
 *
 * Shape of a process: elements[] holds every flow node and container; index
 * 0 is the process itself (type BPMN_PROCESS). Each element names its
 * enclosing container in `scope` (the process or an embedded sub-process;
 * -1 for the process). Sequence flows are in flows[]. Boundary events live in
 * the scope of the activity they are attached to.
 *
 * What is rejected, with the element id, its line and the reason:
 * unsupported elements (id, type and line — nothing is silently ignored),
 * dangling flows, duplicate ids, gateways without outgoing flows, elements no
 * start event reaches, job tasks without a job type, FEEL syntax errors (with
 * the column inside the expression), broken references (errorRef,
 * signalRef, attachedToRef, activityRef, compensation associations), multi-instance
 * activities without an inputCollection, call activities without a
 * processId.
 *
 * Ownership: the bpmn_model owns everything it points to (one arena);
 * bpmn_model_free releases it. A model is immutable after bpmn_parse and may
 * be shared by threads.
 */
#ifndef BATON_MODEL_H
#define BATON_MODEL_H

#include "base/base.h"
#include "feel/feel.h"

typedef enum bpmn_type {
    BPMN_PROCESS,
    BPMN_SUB_PROCESS,
    BPMN_EVENT_SUB_PROCESS,
    BPMN_START_EVENT,
    BPMN_END_EVENT,
    BPMN_INTERMEDIATE_THROW_EVENT,
    BPMN_INTERMEDIATE_CATCH_EVENT,
    BPMN_BOUNDARY_EVENT,
    BPMN_SERVICE_TASK,
    BPMN_SEND_TASK,
    BPMN_SCRIPT_TASK,
    BPMN_BUSINESS_RULE_TASK,
    BPMN_USER_TASK,
    BPMN_RECEIVE_TASK,
    BPMN_MANUAL_TASK,
    BPMN_TASK,
    BPMN_EXCLUSIVE_GATEWAY,
    BPMN_PARALLEL_GATEWAY,
    BPMN_INCLUSIVE_GATEWAY,
    BPMN_EVENT_BASED_GATEWAY,
    BPMN_CALL_ACTIVITY,
    BPMN_TYPE_COUNT
} bpmn_type;

/* The event definition of an event element. */
typedef enum bpmn_event_kind {
    BPMN_EVENT_NONE,
    BPMN_EVENT_ERROR,
    BPMN_EVENT_TERMINATE,
    BPMN_EVENT_COMPENSATION,
    BPMN_EVENT_TIMER,
    BPMN_EVENT_MESSAGE,
    BPMN_EVENT_SIGNAL,
    BPMN_EVENT_ESCALATION,
    BPMN_EVENT_LINK,
} bpmn_event_kind;

typedef enum bpmn_timer_kind {
    BPMN_TIMER_NONE,
    BPMN_TIMER_DURATION, /* timeDuration */
    BPMN_TIMER_DATE,     /* timeDate */
    BPMN_TIMER_CYCLE,    /* timeCycle */
} bpmn_timer_kind;

/* Zeebe's name of a type, as records and the REST API show it:
 * "PROCESS", "SUB_PROCESS", "SERVICE_TASK", "EXCLUSIVE_GATEWAY", ... */
const char *bpmn_type_name(bpmn_type t);
/* The BPMN XML local name: "process", "subProcess", "serviceTask", ... */
const char *bpmn_type_xml_name(bpmn_type t);

/* A value given either literally or as a FEEL expression ("=..." in the XML).
 * text: the literal, or the expression source without '='; NULL when the
 * attribute is absent. feel: the compiled expression, NULL for a literal. */
typedef struct bpmn_expr {
    const char *text;
    feel_expr *feel;
} bpmn_expr;

/* zeebe:input / zeebe:output: evaluate source (FEEL), assign to target (a
 * variable name, or a dotted path "a.b" into a context). */
typedef struct bpmn_mapping {
    const char *source_text;
    feel_expr *source;
    const char *target;
} bpmn_mapping;

typedef struct bpmn_header {
    const char *key;
    const char *value;
} bpmn_header;

/* A multi-instance activity's loop characteristics
 * (<multiInstanceLoopCharacteristics> with <zeebe:loopCharacteristics>): the
 * activity runs once per item of the input collection, all at once or one
 * after the other. Expressions are FEEL (the leading '=' is optional). */
typedef struct bpmn_loop {
    bool sequential; /* isSequential="true" */
    const char *input_collection_text;
    feel_expr *input_collection;     /* required: evaluates to the list */
    const char *input_element;       /* local variable holding the item, or NULL */
    const char *output_collection;   /* variable collecting the results, or NULL */
    const char *output_element_text; /* given exactly when output_collection is */
    feel_expr *output_element;       /* evaluated in each inner instance as it completes */
    /* When output_element is a variable (or a path into one) other than
     * input_element and loopCounter: that variable's name, created as null
     * in each inner instance so that a job's result of that name stays
     * local to it (Zeebe). NULL otherwise. */
    const char *output_element_var;
    const char *completion_condition_text; /* NULL: run every item */
    feel_expr *completion_condition;
} bpmn_loop;

typedef struct bpmn_element {
    int index; /* position in process->elements */
    bpmn_type type;
    bpmn_event_kind event; /* events only; BPMN_EVENT_NONE otherwise */
    const char *id;
    const char *name; /* NULL when unnamed */
    int line;         /* line of the element's start tag */
    int scope;        /* index of the enclosing process / sub-process; -1 for the process */

    /* Sequence flows (indexes into process->flows). */
    int n_incoming, n_outgoing;
    const int *incoming, *outgoing;
    int default_flow; /* exclusive/inclusive gateway default, or -1 */

    /* Containers (process, sub-process): direct children and the none start event. */
    int n_children;
    const int *children;
    int start_event; /* index of the none start event, or -1 */
    /* The process: its message start events and its timer start events
     * (indexes), which start instances. */
    int n_message_starts;
    const int *message_starts;
    int n_timer_starts;
    const int *timer_starts;
    /* Containers: their event sub-processes (indexes). An event
     * sub-process's start_event is its one start event, which has an event
     * definition (timer, message, error, escalation); cancel_activity is
     * that start event's isInterrupting. */
    int n_event_subs;
    const int *event_subs;

    /* Activities. */
    int n_boundaries;
    const int *boundaries;    /* boundary events attached to this activity */
    int compensation_handler; /* activity that undoes this one (via a compensation
                                 boundary event + association), or -1 */
    bool is_for_compensation; /* this activity is a compensation handler */
    const bpmn_loop *loop;    /* multi-instance activities; NULL otherwise */

    /* Job-based tasks (service, send, script, business-rule tasks). */
    bpmn_expr job_type;    /* zeebe:taskDefinition type (required) */
    bpmn_expr job_retries; /* zeebe:taskDefinition retries; text "3" when absent */
    int n_headers;
    const bpmn_header *headers; /* zeebe:taskHeaders, in document order */

    /* zeebe:ioMapping, on activities and (outputs only) on events. */
    int n_inputs, n_outputs;
    const bpmn_mapping *inputs, *outputs;

    /* Boundary events, and start events of event sub-processes. */
    int attached_to;      /* activity index */
    bool cancel_activity; /* interrupting (the default): cancelActivity / isInterrupting */

    /* Error and escalation events: the code thrown (end/throw event) or
     * caught (boundary); NULL on a catching event means "catch all". */
    const char *error_code;

    /* Timer events (intermediate catch, boundary, start): when they fire. The value
     * is an ISO 8601 duration ("PT1H"), date-time ("2026-01-01T10:00:00Z")
     * or repeating cycle ("R3/PT10M", "R/PT1H"; boundary events that do not
     * interrupt), given literally or as FEEL ("=..."). */
    bpmn_timer_kind timer_kind;
    bpmn_expr timer;

    /* Message catch events (start, intermediate, boundary) and receive
     * tasks: the message's name (literal or FEEL; a literal on a start
     * event) and its correlation key (FEEL or literal; required but on
     * start events), from the <bpmn:message> the element refers to. */
    bpmn_expr message_name;
    bpmn_expr correlation_key;

    /* Signal events (start, intermediate catch and throw, boundary, end):
     * the name of the <bpmn:signal> the element refers to, literal or FEEL
     * (a literal on a start event). */
    bpmn_expr signal_name;

    /* Link events: the name pairs a throw with the one catch of that name in
     * the same scope; link_target is that catch event, for a throw. */
    const char *link_name;
    int link_target;

    /* Compensation throw (intermediate throw or end event): the activity to
     * compensate, or -1 for every completed activity of the scope. */
    int compensate_activity;
    bool wait_for_completion; /* BPMN default true */

    /* Call activities (<zeebe:calledElement>): the process to call, by its
     * BPMN process id (literal or FEEL; required), and which variables go
     * into the called instance and come back from it. */
    bpmn_expr called_process;
    bool propagate_all_parent; /* propagateAllParentVariables, default true */
    bool propagate_all_child;  /* propagateAllChildVariables, default true */
    /* Which version it calls (bindingType): the latest (the default), the
     * one deployed together with the caller, or the newest with the
     * zeebe:versionTag `version_tag`. */
    enum { BPMN_BINDING_LATEST, BPMN_BINDING_DEPLOYMENT, BPMN_BINDING_VERSION_TAG } binding;
    const char *version_tag;
} bpmn_element;

typedef struct bpmn_flow {
    int index;
    const char *id;
    int line;
    int source, target;         /* element indexes */
    const char *condition_text; /* NULL when unconditional */
    feel_expr *condition;
} bpmn_flow;

typedef struct bpmn_process {
    const char *id;          /* the BPMN process id ("bpmnProcessId") */
    const char *name;        /* NULL when unnamed */
    const char *version_tag; /* zeebe:versionTag value, or NULL */
    int n_elements;
    bpmn_element *elements; /* elements[0] is the process */
    int n_flows;
    bpmn_flow *flows;
    const int *by_id; /* private: element indexes sorted by id, for bpmn_find_element */
} bpmn_process;

typedef struct bpmn_model {
    int n_processes;
    bpmn_process *processes; /* executable processes, in document order */
    void *arena;             /* private */
} bpmn_model;

/* Every problem found, in document order; items[] holds the first
 * BPMN_MAX_ERRORS, count all of them. */
#define BPMN_MAX_ERRORS 16
typedef struct bpmn_errors {
    int count;
    bt_error items[BPMN_MAX_ERRORS];
} bpmn_errors;

/* Parses and validates a BPMN resource. Returns 0 and *out (free with
 * bpmn_model_free), or BT_EINVAL with errs filled (element_id, line, column
 * for FEEL, message) and *out NULL; BT_ENOMEM when an allocation fails.
 * errs may be NULL. A document without an executable process is an error. */
int bpmn_parse(const char *xml, size_t len, bpmn_model **out, bpmn_errors *errs);
void bpmn_model_free(bpmn_model *m); /* NULL allowed */

/* When a timer fires, computed from its value's text at `now` (ms since the
 * epoch): a duration fires at now + duration; a date at that instant (a
 * date-time without an offset is UTC); a cycle "R<n>/<duration>" (n
 * omitted: forever; "R<n>/<start>/<duration>" starts at <start>) fires first
 * at now + duration (or start), then every interval; a cycle may also be a
 * cron expression (cron.c), which fires forever. repeats counts the firings
 * left after the first (-1: forever). BT_EINVAL with err otherwise. */
typedef struct bpmn_schedule {
    int64_t due_ms;
    int64_t interval_ms; /* BPMN_INTERVAL_CRON: the next firing comes from the cron expression */
    int repeats;
} bpmn_schedule;
#define BPMN_INTERVAL_CRON (-1)
int bpmn_timer_schedule(bpmn_timer_kind kind, const char *text, size_t len, int64_t now_ms,
                        bpmn_schedule *out, bt_error *err);

/* The first time strictly after after_ms (ms since the epoch, UTC) that the
 * cron expression matches (cron.c). BT_EINVAL with err if it is not one, or
 * matches nothing within five years. */
int bpmn_cron_next(const char *text, size_t len, int64_t after_ms, int64_t *next_ms, bt_error *err);

/* Index of the element with this id, or -1. O(log n). */
int bpmn_find_element(const bpmn_process *p, const char *id);

/* true for the activity types (tasks, sub-processes, call activities). */
bool bpmn_is_activity(bpmn_type t);
/* true for tasks that create a job (service, send, script, business rule, user). */
bool bpmn_is_job_task(bpmn_type t);
/* Whether the element works through a job: the job tasks, and message
 * throw and end events (as in Zeebe, a worker sends the message). */
bool bpmn_element_is_job(const bpmn_element *el);

#endif
