/*
 * eng_int.h — the engine's private state. Only src/engine includes it.
 *
 * State, from the top:
 *
 *   eng_engine          definitions, instances, the job and incident indexes,
 *                       the due-time heap, key/position counters, pending
 *                       changes (records + dirty instances) and the step queue.
 *   eng_definition      one deployed process version: the parsed model.
 *   eng_instance        one process instance: its element instances, in
 *                       creation order, owning variables, jobs and incidents.
 *   eng_elem            one element instance (Zeebe's word): element, state,
 *                       flow scope, variables if it is a scope, the job of a
 *                       job task, join counters and compensation records; a
 *                       multi-instance body's loop state (eng_multi), or an
 *                       inner instance's loop counter.
 *   eng_job, eng_incident   belong to the element instance they are about.
 *   eng_timer, eng_msub     timers and message subscriptions, likewise.
 *   eng_ssub            signal subscriptions, likewise (signals.c).
 *   eng_message         a published message while it is buffered: engine-
 *                       level state, stored as an object of its own.
 *
 * Steps: a command does not recurse through the model. It enqueues steps
 * (activate this element, complete that one, take a flow, ...) and the
 * engine runs the queue to empty before the command returns. The queue is
 * FIFO, so ordering is breadth-first and deterministic, as in Zeebe.
 */
#ifndef BATON_ENG_INT_H
#define BATON_ENG_INT_H

#include "base/map.h"
#include "engine/engine.h"

typedef struct eng_instance eng_instance;
typedef struct eng_elem eng_elem;
typedef struct eng_start_timer eng_start_timer; /* start_timers.c */

typedef struct eng_definition {
    uint64_t key;
    char *bpmn_process_id;
    int version;
    char *resource_name;
    char *checksum;
    char *xml;
    size_t xml_len;
    uint64_t deployment_key;
    int64_t deploy_time_ms;
    bpmn_model *model;
    const bpmn_process *process; /* within model */
    bool persisted;              /* written to the store already */
    /* reach[i * n + j]: element j can be reached from element i along
     * sequence flows (and boundary events, link jumps) in their scope.
     * Built on first use by an inclusive join (instance.c). */
    uint8_t *reach;
} eng_definition;

/* All versions of one process id, oldest first. */
typedef struct eng_process_family {
    eng_definition **versions;
    int n_versions;
} eng_process_family;

/* A variable: name → immutable value. */
typedef struct eng_var {
    char *name;
    feel_value *value;
    uint64_t key; /* assigned when the variable is created; kept across updates */
} eng_var;

typedef struct eng_vars {
    eng_var *items;
    int count, cap;
} eng_vars;

typedef enum eng_elem_state {
    ENG_ACTIVATING,
    ENG_ACTIVATED,
    ENG_COMPLETING,
    ENG_COMPLETED,
    ENG_TERMINATING,
    ENG_TERMINATED,
} eng_elem_state;

typedef enum eng_job_state {
    ENG_JOB_ACTIVATABLE,
    ENG_JOB_ACTIVATED,
    ENG_JOB_FAILED,   /* waiting for its back-off to end */
    ENG_JOB_INCIDENT, /* retries exhausted or error unhandled */
} eng_job_state;

typedef struct eng_job {
    uint64_t key;
    eng_elem *elem;
    char *type;
    eng_job_state state;
    int retries;
    int64_t deadline_ms;      /* ACTIVATED: when it times out */
    int64_t backoff_until_ms; /* FAILED: when it becomes activatable */
    char *worker;
    char *error_message;
    char *error_code; /* the BPMN error last thrown (for its record) */
    /* Intrusive list of the activatable jobs of one type, oldest first. */
    struct eng_job *queue_prev, *queue_next;
    bool queued;
} eng_job;

typedef enum eng_incident_type {
    ENG_INC_JOB_NO_RETRIES,
    ENG_INC_CONDITION_ERROR,
    ENG_INC_IO_MAPPING_ERROR,
    ENG_INC_EXTRACT_VALUE_ERROR,
    ENG_INC_UNHANDLED_ERROR_EVENT,
    ENG_INC_UNKNOWN, /* a command ran more than ENG_MAX_STEPS steps: a loop without a wait state */
    ENG_INC_CALLED_ELEMENT_ERROR, /* a call activity cannot start its process (call.c) */
} eng_incident_type;

/* Steps one command may run before the rest are parked as incidents: an
 * instance that loops through gateways and events without ever waiting
 * would otherwise hold the engine forever. */
#define ENG_MAX_STEPS 100000

typedef struct eng_incident {
    uint64_t key;
    eng_incident_type type;
    char *message;
    eng_elem *elem;
    uint64_t job_key;
    char *error_code; /* UNHANDLED_ERROR_EVENT thrown by an end event: the code to re-throw */
    int64_t created_ms;
    int step; /* ENG_INC_UNKNOWN: the step (eng_step_kind + 1) to run on resolve */
} eng_incident;

/* A timer: a timer catch event waiting, or a timer boundary event of an
 * active activity. It belongs to `elem` (the catch event's element
 * instance, or the activity's) and fires the model element `event`. */
typedef struct eng_timer {
    uint64_t key;
    eng_elem *elem;
    struct eng_timer *next; /* the next timer of elem (a list, not an array: most have one) */
    int64_t due_ms;
    int64_t interval_ms; /* cycles */
    int event;           /* the timer event's index in the model */
    int repeats;         /* firings left after this one; -1 forever */
} eng_timer;

/* A message subscription: a message catch event or receive task waiting,
 * a message boundary event of an active activity, or a message branch of a
 * waiting event-based gateway. It belongs to `elem` like a timer, and the
 * engine indexes it by message name and correlation key (messages.c). */
typedef struct eng_msub {
    uint64_t key;
    eng_elem *elem;
    int event;        /* the catching element's index in the model */
    const char *name; /* the model's literal name, or own_name */
    char *own_name;   /* a name that came from FEEL (NULL: the literal) */
    char *correlation_key;
    /* The subscriptions of this name and key, oldest first; the oldest's
     * prev is the newest (messages.c). */
    struct eng_msub *prev, *next;
    struct eng_msub *elem_next; /* the next subscription of elem (a list: most have one) */
} eng_msub;

/* A signal subscription: a signal catch event waiting, a signal boundary
 * event of an active activity, or a signal branch of a waiting event-based
 * gateway. It belongs to `elem` like a timer, and the engine indexes it by
 * signal name (signals.c). */
typedef struct eng_ssub {
    uint64_t key;
    eng_elem *elem;
    int event; /* the catching element's index in the model */
    char *name;
    struct eng_ssub *prev, *next; /* the subscriptions of this name, oldest first */
    struct eng_ssub *elem_next;   /* the next subscription of elem (a list) */
} eng_ssub;

/* A published message while it is buffered (its time to live runs). */
typedef struct eng_message {
    uint64_t key;
    char *name, *correlation_key;
    char *message_id;      /* NULL: none */
    feel_value *variables; /* a context */
    int64_t published_ms, deadline_ms;
    char **processes; /* the process ids it correlated to (once per process) */
    int n_processes;
    struct eng_message *prev, *next; /* the messages of this name and key, oldest first */
    bool dirty;                      /* to write (or delete, once gone) at the next take */
    bool gone;                       /* expired: removed from the indexes, freed when written */
} eng_message;

/* A completed activity that can be compensated, in the scope where it
 * completed. A completed sub-process leaves one record of its own whose
 * `group` holds the records of its completed children. */
typedef struct eng_compensable {
    int element;  /* activity index in the model */
    uint64_t seq; /* completion order within the instance */
    struct eng_compensable *group;
    int n_group;
} eng_compensable;

/* A compensation in progress, driven by a throw event's element instance. */
typedef struct eng_compensation {
    int *handlers; /* activity indexes of the handlers still to run, in order */
    int n_handlers, next;
    int running; /* handlers active now */
} eng_compensation;

/* A multi-instance body's loop (multi.c). Active inner instances are the
 * body's active_children. */
typedef struct eng_multi {
    feel_value *items; /* the input collection, while a sequential body has items left to start */
    int n_instances;   /* items in the input collection */
    int started;       /* inner instances created so far: the last loopCounter given */
    int completed;     /* inner instances completed */
    int terminated;    /* inner instances terminated by the completion condition */
} eng_multi;

struct eng_elem {
    /* Pointers and keys first, the small counters and flags together at the
     * end: a million waiting instances hold two of these each, so padding
     * counts. */
    uint64_t key;
    eng_elem *scope; /* flow scope element instance; NULL for the process */
    eng_instance *inst;
    eng_vars vars;     /* local variables (every element instance may have some) */
    eng_job *job;      /* job tasks while waiting */
    eng_timer *timers; /* timers this element instance owns (n_timers), a list in creation order */
    eng_msub *msubs;   /* message subscriptions this element instance owns (n_msubs), a list */
    eng_ssub *ssubs;   /* signal subscriptions this element instance owns (n_ssubs), a list */
    eng_incident *incident;
    /* Parallel-gateway joins in this scope: tokens that arrived per flow,
     * indexed by flow index, allocated lazily (n_join_waiting: tokens
     * waiting at joins in this scope). */
    int *join_tokens;
    /* Compensation: records of activities completed in this scope
     * (n_compensable); when this is a throw event compensating, its
     * progress; when this is a handler, the throw event. */
    eng_compensable *compensable;
    eng_compensation *compensation;
    eng_elem *compensating_for;
    /* Transient, within one command. The event that happened
     * (triggered_event): an event-based gateway's first catch event (its
     * element instance then has pre_triggered: it completes at once); a
     * process started by a message or timer start event, that start event
     * (0: the none start event). trigger_vars: that event's variables (a
     * message's), also an event sub-process's, for its start event. */
    feel_value *trigger_vars;
    /* Multi-instance activities: the body, which takes the activity's place in
     * its scope, has `multi`; its inner instances (same element, the body as
     * flow scope) have their 1-based loop_counter. */
    eng_multi *multi;
    /* A call activity: the instance it called, while that one runs (call.c). */
    eng_instance *called;
    int element;         /* index in the process model */
    int active_children; /* child element instances not yet completed/terminated */
    int n_join_waiting;
    int n_compensable;
    int triggered_event;
    int loop_counter;
    uint16_t n_timers, n_msubs, n_ssubs; /* an element has a few: its boundary events' */
    uint8_t state;                       /* eng_elem_state */
    bool pre_triggered;
};

struct eng_instance {
    /* Eight-byte fields first, the small ones together at the end: a million
     * waiting instances hold one of these each, so padding counts. */
    uint64_t key;
    eng_definition *def;
    char *business_id;
    int64_t start_ms, end_ms;
    eng_elem **elems; /* live element instances, creation order; elems[0] = the process */
    uint64_t compensation_seq;
    eng_vars *final_vars; /* the root scope's variables once the instance completed, or NULL */
    /* Started by a message start event with this correlation key: no other
     * instance of the process starts for the key while this one is active. */
    char *start_correlation_key;
    /* Called by a call activity (call.c): the parent instance's key and the
     * call activity's element instance key (0, 0: not called); `caller` is
     * that element instance while this instance runs, else NULL. n_called:
     * this instance's call activities whose called instance runs. */
    uint64_t parent_key, caller_key;
    eng_elem *caller;
    eng_instance_state state;
    int n_elems, cap_elems;
    int n_incidents;
    int n_called;
    bool dirty;
};

typedef enum eng_step_kind {
    STEP_ACTIVATE, /* run the activation of elem (input mappings, behaviour) */
    STEP_COMPLETE, /* complete elem (output mappings, flows) */
    STEP_POLL,     /* subscription `arg` of elem looks for a buffered message */
} eng_step_kind;

typedef struct eng_step {
    eng_step_kind kind;
    uint64_t instance_key;
    uint64_t elem_key;
    uint64_t arg;
} eng_step;

/* The due-time heap: job deadlines and back-offs, timers, the ends of
 * messages' time to live. Entries are checked when popped (lazy deletion):
 * a stale entry is skipped. */
typedef enum eng_due_kind { DUE_JOB, DUE_TIMER, DUE_MESSAGE, DUE_START_TIMER } eng_due_kind;
typedef struct eng_due {
    int64_t at;
    uint64_t key; /* the job's, timer's or message's */
    eng_due_kind kind;
} eng_due;

struct eng_engine {
    eng_config cfg;
    uint64_t next_key;
    uint64_t next_position;
    int64_t now; /* the current command's time */

    bt_map definitions;    /* key → eng_definition */
    bt_smap families;      /* bpmn_process_id → eng_process_family */
    bt_map instances;      /* key → eng_instance (active, and ended until flushed) */
    bt_map elems;          /* element instance key → eng_elem */
    bt_map jobs;           /* key → eng_job */
    bt_map incidents;      /* key → eng_incident */
    bt_map timers;         /* key → eng_timer */
    bt_smap job_queues;    /* type → eng_job_queue */
    bt_smap business_ids;  /* "processId\nbusinessId" → eng_instance (active only) */
    bt_smap msub_index;    /* message name + correlation key → the oldest eng_msub */
    bt_map messages;       /* key → eng_message (buffered) */
    bt_smap message_index; /* message name + correlation key → eng_message_list */
    bt_smap message_ids;   /* message name + correlation key + message id → eng_message */
    bt_smap start_keys;    /* process id + correlation key → eng_instance started by a message */
    bt_map start_timers;   /* key → eng_start_timer (timer start events of latest versions) */
    bt_smap starters;      /* message or signal start event name → eng_starters (engine.c) */
    bt_map ssubs;          /* key → eng_ssub */
    bt_smap ssub_index;    /* signal name → eng_ssub_list */

    eng_due *due;
    size_t n_due, cap_due;

    eng_step *steps;
    size_t steps_head, steps_tail, steps_cap;

    /* Pending changes. */
    eng_record *records;
    size_t n_records, cap_records;
    eng_instance **dirty;
    size_t n_dirty, cap_dirty;
    eng_definition **new_defs;
    size_t n_new_defs, cap_new_defs;
    eng_message **dirty_messages;
    size_t n_dirty_messages, cap_dirty_messages;
    eng_start_timer **dirty_start_timers;
    size_t n_dirty_start_timers, cap_dirty_start_timers;
    eng_object_row *object_rows; /* built by eng_changes_take */
    size_t n_object_rows;
    eng_instance_row *rows; /* built by eng_changes_take */
    eng_definition_row *def_rows;
};

typedef struct eng_job_queue {
    eng_job *head, *tail;
} eng_job_queue;

/* ---- engine.c ----------------------------------------------------------------- */
uint64_t eng_key_next(eng_engine *e);
/* Appends a record; takes ownership of value (a bt_malloc'd JSON string). */
void eng_record_add(eng_engine *e, const char *value_type, const char *intent, uint64_t key,
                    uint64_t instance_key, char *value, size_t len);
void eng_instance_touch(eng_engine *e, eng_instance *inst);
void eng_step_push(eng_engine *e, eng_step_kind kind, eng_elem *elem);
void eng_step_push_poll(eng_engine *e, eng_elem *elem, uint64_t sub_key);
void eng_steps_run(eng_engine *e);
void eng_due_push(eng_engine *e, int64_t at, uint64_t job_key);
void eng_due_push_timer(eng_engine *e, int64_t at, uint64_t timer_key);
void eng_due_push_message(eng_engine *e, int64_t at, uint64_t message_key);
void eng_due_push_start_timer(eng_engine *e, int64_t at, uint64_t timer_key);
/* Starts an instance of def at start event `start_at` (0: the none start
 * event) with the instance variables `vars` and, on that start event, the
 * message variables `start_vars` (both may be NULL). Steps are pushed, not
 * run. */
eng_instance *eng_instance_begin(eng_engine *e, eng_definition *def, const feel_value *vars,
                                 const char *business_id, int start_at,
                                 const feel_value *start_vars);
/* eng_instance_begin for an instance called by the call activity `caller`
 * (NULL: none): linked to it before its first record. */
eng_instance *eng_instance_begin_called(eng_engine *e, eng_definition *def, const feel_value *vars,
                                        const char *business_id, int start_at,
                                        const feel_value *start_vars, eng_elem *caller);
/* The processes whose latest version starts by a message or signal of one
 * name: their ids, sorted (the definitions' strings). Kept as versions are
 * deployed and restored, so a publication or broadcast does not scan every
 * process. */
typedef struct eng_starters {
    const char **ids;
    int n;
} eng_starters;
/* The starters of kind (BPMN_EVENT_MESSAGE or _SIGNAL) and name, or NULL. */
const eng_starters *eng_starters_of(const eng_engine *e, bpmn_event_kind kind, const char *name);
/* d's start event of kind with that literal name, or -1. */
int eng_start_event_named(const eng_definition *d, bpmn_event_kind kind, const char *name);
/* The latest version of a process id, or NULL. */
eng_definition *eng_definition_latest(const eng_engine *e, const char *bpmn_process_id);
/* The newest version of a process id for which match is true, or NULL. */
eng_definition *eng_definition_newest(const eng_engine *e, const char *bpmn_process_id,
                                      bool (*match)(const eng_definition *d, const void *ud),
                                      const void *ud);
/* "processId\n<key>": the slot of a business id or a start correlation key. */
char *eng_process_slot(const char *bpmn_process_id, const char *key);
/* The process element instance ended: the instance is COMPLETED / TERMINATED. */
void eng_instance_ended(eng_engine *e, eng_instance *inst, eng_instance_state state);

/* ---- instance.c ----------------------------------------------------------------- */
const bpmn_element *eng_elem_model(const eng_elem *el);
const bpmn_process *eng_instance_process(const eng_instance *inst);
eng_elem *eng_elem_new(eng_engine *e, eng_instance *inst, eng_elem *scope, int element);
/* Appends el to the instance's live element instances and the key map. */
void eng_instance_add_elem(eng_engine *e, eng_instance *inst, eng_elem *el);
/* Activates `element` as a new element instance in scope (ACTIVATING + step). */
eng_elem *eng_elem_activate(eng_engine *e, eng_elem *scope, int element);
void eng_elem_run_activate(eng_engine *e, eng_elem *el);
void eng_elem_run_complete(eng_engine *e, eng_elem *el);
void eng_elem_take_flows(eng_engine *e, eng_elem *el);
/* Terminates el and everything below it; records TERMINATING/TERMINATED;
 * frees el. Does not touch the scope's completion. */
void eng_elem_terminate(eng_engine *e, eng_elem *el);
/* A child of scope finished (completed or terminated): complete the scope
 * when nothing is left in it. */
void eng_scope_child_done(eng_engine *e, eng_elem *scope);
void eng_elem_record(eng_engine *e, eng_elem *el, const char *intent);
/* Zeebe's type name of an element instance: "MULTI_INSTANCE_BODY" for a
 * body, else its element's ("SERVICE_TASK"). Static string. */
const char *eng_elem_type_name(const eng_elem *el);
void eng_instance_free(eng_engine *e, eng_instance *inst);
/* Throws a BPMN error from `from` (a task or an end event): finds the
 * catching boundary event up the scope chain; returns false if none. */
bool eng_error_throw(eng_engine *e, eng_elem *from, const char *code, const char *message);
/* Throws escalation `code` from the throw event `from`: the nearest enclosing
 * activity with an escalation boundary event for it catches. Interrupting:
 * that activity is terminated (with `from`) and true is returned; otherwise
 * (non-interrupting, or not caught at all) `from` goes on and false is
 * returned. */
bool eng_escalation_throw(eng_engine *e, eng_elem *from, const char *code);
/* Event `event` (a catch event, receive task, boundary event, or the target
 * of an event-based gateway) happened for its owner `owner`: the catch
 * completes, the gateway leaves toward it, a boundary event interrupts or
 * starts a parallel path. vars: a message's variables (NULL for a timer),
 * set on the event's element instance — locally when it has output
 * mappings, else propagated. */
void eng_event_occur(eng_engine *e, eng_elem *owner, int event, const feel_value *vars);
/* Sets an event's variables on its element instance (see eng_event_occur). */
void eng_event_vars_apply(eng_engine *e, eng_elem *el, const feel_value *vars);
/* Whether an event stays after it happened (a non-interrupting boundary or
 * event sub-process start event): its timer cycle or subscription goes on. */
bool eng_event_repeats(const bpmn_element *ev);
/* Opens what waits for `event` on behalf of el: its timer, or its message
 * or signal subscription (unless el has it already: an incident being retried).
 * false when it could not (an incident was raised on el). */
bool eng_wait_for(eng_engine *e, eng_elem *el, int event);
/* Terminates every child of scope but `except` (may be NULL) and clears its
 * joins. */
void eng_scope_terminate_children(eng_engine *e, eng_elem *scope, const eng_elem *except);

/* ---- event_subs.c ---------------------------------------------------------------------- */
/* Opens the timers and subscriptions of the scope's event sub-processes'
 * start events; false when one could not (an incident on scope). */
bool eng_event_subs_open(eng_engine *e, eng_elem *scope);
/* The start event of the scope's event sub-process that catches error or
 * escalation `code` (an exact code before a catch-all), or -1 — also when
 * an interrupting event sub-process runs in the scope already. */
int eng_event_sub_for_code(const eng_elem *scope, bpmn_event_kind kind, const char *code);
/* Starts the event sub-process of start event `start` in scope (see the
 * file's comment); vars: the event's variables, or NULL. */
eng_elem *eng_event_sub_trigger(eng_engine *e, eng_elem *scope, int start, const feel_value *vars);

/* ---- variables.c ---------------------------------------------------------------- */
const feel_value *eng_vars_get(const eng_vars *v, const char *name, size_t len);
void eng_vars_set_local(eng_engine *e, eng_elem *scope, const char *name, size_t len,
                        feel_value *value); /* steals value */
/* Zeebe's propagation: update the nearest scope from `from` up that has the
 * name, else create at the root. */
void eng_vars_propagate(eng_engine *e, eng_elem *from, const char *name, size_t len,
                        feel_value *value);
void eng_vars_merge(eng_engine *e, eng_elem *scope, const feel_value *ctx, bool local);
/* Appends a variable (takes name and value), no record. */
void eng_vars_append(eng_vars *v, char *name, feel_value *value, uint64_t key);
void eng_vars_free(eng_vars *v);
/* Evaluates a FEEL expression with the variables visible at el. */
int eng_eval(eng_engine *e, eng_elem *el, const feel_expr *expr, feel_value **out,
             bt_error *warning);
/* Input / output mappings; on failure fills msg and returns BT_EEVAL. */
int eng_mappings_input(eng_engine *e, eng_elem *el, char *msg, size_t msg_size);
int eng_mappings_output(eng_engine *e, eng_elem *el, char *msg, size_t msg_size);
feel_value *eng_vars_visible_at(const eng_elem *el);

/* ---- jobs.c ----------------------------------------------------------------------- */
/* Creates the job of a job task; on an expression failure raises an
 * EXTRACT_VALUE_ERROR incident and returns false. */
bool eng_job_create(eng_engine *e, eng_elem *el);
void eng_job_cancel(eng_engine *e, eng_job *job);
void eng_job_make_activatable(eng_engine *e, eng_job *job);
void eng_job_free(eng_engine *e, eng_job *job);

/* ---- incident.c ------------------------------------------------------------------- */
void eng_incident_raise(eng_engine *e, eng_elem *el, eng_incident_type type, uint64_t job_key,
                        const char *message);
/* Removes el's incident without continuing (the element is being terminated). */
void eng_incident_drop(eng_engine *e, eng_elem *el, bool record);
const char *eng_incident_type_name(eng_incident_type t);

/* ---- timers.c ------------------------------------------------------------------------- */
/* Schedules the timer of timer event `event` for el (a catch event or an
 * activity with a timer boundary). On a bad value raises an
 * EXTRACT_VALUE_ERROR incident on el and returns false. */
bool eng_timer_create(eng_engine *e, eng_elem *el, int event);
/* Cancels every timer el owns (recorded CANCELED). */
void eng_timers_cancel(eng_engine *e, eng_elem *el);
/* Cancels one timer (recorded CANCELED). */
void eng_timer_cancel(eng_engine *e, eng_timer *t);
/* Fires a due timer. */
void eng_timer_fire(eng_engine *e, eng_timer *t);
/* Frees a timer without a record (the instance is being freed). */
void eng_timer_free(eng_engine *e, eng_timer *t);
/* Adds a decoded timer to el and the engine's indexes. */
void eng_timer_attach(eng_engine *e, eng_elem *el, eng_timer *t);

/* ---- messages.c ------------------------------------------------------------------------ */
/* Opens the subscription of message catch `event` for el (a catch event,
 * receive task, activity with a message boundary, or event-based gateway):
 * evaluates the name and correlation key, then looks for a buffered
 * message (a STEP_POLL). On a bad value raises an EXTRACT_VALUE_ERROR
 * incident on el and returns false. */
bool eng_msub_open(eng_engine *e, eng_elem *el, int event);
/* Whether el has a subscription for event. */
bool eng_msub_has(const eng_elem *el, int event);
/* Closes every subscription el owns (recorded DELETED). */
void eng_msubs_close(eng_engine *e, eng_elem *el);
/* Closes one subscription (recorded DELETED). */
void eng_msub_close(eng_engine *e, eng_msub *s);
/* Frees a subscription without a record (the instance is being freed). */
void eng_msub_free(eng_engine *e, eng_msub *s);
/* Adds a decoded subscription to el and the engine's indexes. */
void eng_msub_attach(eng_engine *e, eng_elem *el, eng_msub *s);
/* Gives s its name (taking `name`): the model's literal when it is the
 * same text, so a million subscriptions do not hold a million copies. */
void eng_msub_set_name(eng_msub *s, const bpmn_element *ev, char *name);
/* STEP_POLL: subscription sub_key of el looks for a buffered message. */
void eng_msub_poll(eng_engine *e, eng_elem *el, uint64_t sub_key);
/* A message's time to live ended. */
void eng_message_expire(eng_engine *e, uint64_t message_key);
/* An instance started by a message ended: a buffered message for the same
 * key may start the next one. */
void eng_message_start_released(eng_engine *e, eng_instance *inst);
/* Frees every buffered message (the engine is being freed). */
void eng_messages_free(eng_engine *e);
/* Writes the dirty messages as object rows (out has room for all). */
size_t eng_messages_rows(eng_engine *e, eng_object_row *out);
/* The rows were written: forget expired messages. */
void eng_messages_written(eng_engine *e);
int eng_restore_message(eng_engine *e, const eng_object_row *row, bt_error *err);

/* ---- start_timers.c -------------------------------------------------------------------- */
/* Whether the timer start events of p give a schedule (BT_EINVAL with the
 * element in err otherwise): checked before a deployment changes anything. */
int eng_start_timers_check(const eng_engine *e, const bpmn_process *p, bt_error *err);
/* A new version was deployed: its timers replace the previous versions'. */
void eng_start_timers_deployed(eng_engine *e, eng_definition *def);
/* A start timer is due: starts its instance and schedules the next firing. */
void eng_start_timer_fire(eng_engine *e, uint64_t key);
/* Whether a heap entry (key, at) is the start timer's next firing. */
bool eng_start_timer_due(const eng_engine *e, uint64_t key, int64_t at);
size_t eng_start_timers_rows(eng_engine *e, eng_object_row *out);
void eng_start_timers_written(eng_engine *e);
void eng_start_timers_free(eng_engine *e);
int eng_restore_start_timer(eng_engine *e, const eng_object_row *row, bt_error *err);

/* ---- signals.c -------------------------------------------------------------------------- */
/* Opens the subscription of signal catch `event` for el (a catch event, an
 * activity with a signal boundary, or an event-based gateway): evaluates
 * the name. On a bad name raises an EXTRACT_VALUE_ERROR incident on el and
 * returns false. */
bool eng_ssub_open(eng_engine *e, eng_elem *el, int event);
/* Whether el has a subscription for event. */
bool eng_ssub_has(const eng_elem *el, int event);
/* Closes every subscription el owns (recorded DELETED). */
void eng_ssubs_close(eng_engine *e, eng_elem *el);
/* Closes one signal subscription (recorded DELETED). */
void eng_ssub_close(eng_engine *e, eng_ssub *s);
/* Frees a subscription without a record (the instance is being freed). */
void eng_ssub_free(eng_engine *e, eng_ssub *s);
/* Adds a decoded subscription to el and the engine's index. */
void eng_ssub_attach(eng_engine *e, eng_elem *el, eng_ssub *s);
/* The signal throw or end event el broadcasts its signal, with its local
 * variables, to the whole engine. false when its name does not evaluate
 * (an incident was raised on el). el may be gone afterwards (terminated by
 * an interrupting boundary event that caught the signal): look it up by
 * key. */
bool eng_signal_throw(eng_engine *e, eng_elem *el);
/* Frees the signal index (the engine is being freed). */
void eng_signals_free(eng_engine *e);

/* ---- compensation.c ---------------------------------------------------------------- */
/* Remembers that el (an activity) completed in its scope. */
void eng_compensation_note_completed(eng_engine *e, eng_elem *el);
/* Starts compensating for throw event el; returns true if handlers run (the
 * event completes when they are done), false if there is nothing to do. */
bool eng_compensation_start(eng_engine *e, eng_elem *el);
/* A compensation handler finished. */
void eng_compensation_handler_done(eng_engine *e, eng_elem *handler);
void eng_compensable_free(eng_compensable *c, int n);

/* ---- multi.c -------------------------------------------------------------------------- */
/* The activation behaviour of a multi-instance body: evaluates the input
 * collection (EXTRACT_VALUE_ERROR incident on the body when it is no list),
 * creates the output collection and the inner instances (all, or the first). */
void eng_multi_activate(eng_engine *e, eng_elem *body);
/* An inner instance is completing (after its output mappings): collects its
 * output element and evaluates the completion condition. Returns 1 when the
 * condition holds, 0 when the loop goes on, -1 when an incident was raised
 * on the inner instance (it stays COMPLETING; resolving completes it again). */
int eng_multi_inner_completing(eng_engine *e, eng_elem *inner);
/* An inner instance completed (recorded, not yet freed): with `done` the
 * other inner instances are terminated; otherwise a sequential body starts
 * its next item. The body completes once it has no active inner instance. */
void eng_multi_inner_completed(eng_engine *e, eng_elem *inner, bool done);
/* The body is completing: its output collection propagates to its scope. */
void eng_multi_body_completing(eng_engine *e, eng_elem *body);
void eng_multi_free(eng_multi *m); /* NULL allowed */

/* ---- call.c --------------------------------------------------------------------------- */
/* The activation behaviour of a call activity: evaluates the process id,
 * starts the latest version of that process with the call activity's
 * variables (a CALLED_ELEMENT_ERROR incident when it cannot) and waits. */
void eng_call_activate(eng_engine *e, eng_elem *el);
/* Links a new called instance to its call activity (before any record). */
void eng_call_link(eng_engine *e, eng_instance *called, eng_elem *caller);
/* A called instance ended (eng_instance_ended): unlinks it; when it
 * completed, its variables go to the call activity, which completes. */
void eng_call_instance_ended(eng_engine *e, eng_instance *called);
/* The call activity el is terminating: its called instance is terminated
 * (and the instances that one called, recursively). */
void eng_call_terminate_called(eng_engine *e, eng_elem *el);
/* The call activity whose called instance inst is, or NULL: where errors
 * and escalations go on from inst's process. */
eng_elem *eng_call_caller(const eng_instance *inst);
/* Whether inst, or an instance it called (recursively), has an incident. */
bool eng_call_has_incident(const eng_instance *inst);
/* inst's incidents changed: the rows of the instances above it must be
 * written again (their has_incident). */
void eng_call_incidents_changed(eng_engine *e, eng_instance *inst);
/* BT_ECONFLICT (err filled) when inst was called by another instance: only
 * the root of a call hierarchy can be cancelled (as in Zeebe). */
int eng_call_check_cancel(const eng_instance *inst, bt_error *err);
/* Links a restored called instance to its call activity, restored before
 * it (instances are restored in key order). BT_ECORRUPT when it is not
 * there. */
int eng_call_restore(eng_engine *e, eng_instance *inst, bt_error *err);

/* ---- codec.c ------------------------------------------------------------------------ */
/* Encodes an instance's whole state; the caller frees *out with bt_free. */
void eng_codec_encode(const eng_instance *inst, char **out, size_t *len);
int eng_codec_decode(eng_engine *e, eng_definition *def, const char *data, size_t len,
                     eng_instance **out, bt_error *err);

#endif
