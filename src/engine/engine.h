/*
 * engine.h — baton's deterministic state machine.
 *
 * (state, command, now) → new state + records. The engine does no I/O,
 * reads no clock and starts no thread: the caller passes `now` (ms since
 * the epoch) with every command, and collects what changed with
 * eng_changes_take after a batch of commands, to write it to the store in
 * one transaction (group commit). Given the same state and the same
 * commands, the engine produces the same records: replay, crash tests and
 * simulation rely on that.
 *
 * Commands never half-apply: each one is validated first (returning a
 * negative BT_E* code and a message in bt_error, with no change at all), and
 * only then applied. Out of memory inside the engine aborts the process
 * (STYLE.md: the server may abort on OOM; nothing acknowledged is lost,
 * because acknowledgement follows the durable commit).
 *
 * Threading: an engine is used by one thread at a time.
 *
 * Keys are 64-bit (base.h), unique within the engine's partition, and never
 * reused; the next key survives restarts through the store's meta table.
 */
#ifndef BATON_ENGINE_H
#define BATON_ENGINE_H

#include "base/base.h"
#include "feel/feel.h"
#include "model/model.h"

typedef struct eng_engine eng_engine;

typedef struct eng_config {
    int partition; /* key prefix; 1 when 0 */
    /* Compensation order. false (default): one handler at a time, in reverse
     * order of completion (a saga undoes its last step first, as the BPMN spec
     * describes). true: every handler at once, as Zeebe does. */
    bool compensation_all_at_once;
    /* Default job retry back-off when a failure names none: 0 = retry at once. */
    int64_t default_retry_backoff_ms;
} eng_config;

/* Creates an empty engine. cfg may be NULL. Never NULL (aborts on OOM). */
eng_engine *eng_new(const eng_config *cfg);
/* Frees the engine and everything it holds. NULL allowed. */
void eng_free(eng_engine *e);

/* ---- deployment ----------------------------------------------------------- */

typedef struct eng_resource {
    const char *name; /* "trip.bpmn" */
    const char *data; /* BPMN XML */
    size_t len;
} eng_resource;

typedef struct eng_deployed_process {
    uint64_t definition_key;
    const char *bpmn_process_id; /* owned by the engine */
    int version;
    const char *resource_name;
    bool is_new; /* false: identical to the latest version, no new version made */
} eng_deployed_process;

#define ENG_MAX_DEPLOY_PROCESSES 64
typedef struct eng_deployment {
    uint64_t key;
    int n_processes;
    eng_deployed_process processes[ENG_MAX_DEPLOY_PROCESSES];
} eng_deployment;

/* Deploys resources, all or nothing. Each executable process becomes
 * version N+1 of its id unless its resource is byte-identical to the latest
 * version's (then the latest is returned with is_new false). On a BPMN error
 * returns BT_EINVAL and fills errs (errs->items[i].message is prefixed with
 * the resource name); nothing is deployed. */
int eng_deploy(eng_engine *e, int64_t now, const eng_resource *res, int n, eng_deployment *out,
               bpmn_errors *errs);

/* ---- process instances ------------------------------------------------------ */

typedef struct eng_start {
    const char *bpmn_process_id; /* by id (latest or `version`) ... */
    int version;                 /* -1: latest */
    uint64_t definition_key;     /* ... or by key (when not 0) */
    const feel_value *variables; /* a context, or NULL */
    const char *business_id;     /* NULL: none; else unique among active instances of the process */
} eng_start;

/* Starts an instance. BT_ENOTFOUND: no such definition; BT_ECONFLICT: an
 * active instance of the process has that business id; BT_EINVAL: the
 * variables are not a context. *key = the new instance's key. */
int eng_instance_create(eng_engine *e, int64_t now, const eng_start *start, uint64_t *key,
                        bt_error *err);
/* Cancels (terminates) an active instance. BT_ENOTFOUND if unknown or ended;
 * BT_ECONFLICT if a call activity started it (cancel the root instead). */
int eng_instance_cancel(eng_engine *e, int64_t now, uint64_t key, bt_error *err);

/* Sets variables on an element instance's scope (the instance key for the
 * root scope). local: set on that scope; otherwise propagate (Zeebe's rule:
 * update where the name exists up the chain, else create at the root). */
int eng_variables_set(eng_engine *e, int64_t now, uint64_t scope_key, const feel_value *vars,
                      bool local, bt_error *err);

/* ---- jobs ---------------------------------------------------------------------- */

typedef struct eng_job_view {
    uint64_t key;
    const char *type;
    uint64_t process_instance_key;
    uint64_t element_instance_key;
    uint64_t process_definition_key;
    const char *bpmn_process_id;
    int process_definition_version;
    const char *element_id;
    const char *worker;
    int retries;
    int64_t deadline_ms;
    int n_headers;
    const bpmn_header *custom_headers;
    char *variables_json; /* owned by the view: eng_job_views_free */
} eng_job_view;

/* Activates up to max jobs of `type` (oldest first) for `worker`, each with a
 * deadline now + timeout_ms, after which it returns to the pool. fetch: NULL
 * for all visible variables, else the names to include (n_fetch of them).
 * Fills views[0..*count); free them with eng_job_views_free. */
int eng_jobs_activate(eng_engine *e, int64_t now, const char *type, const char *worker,
                      int64_t timeout_ms, int max, const char *const *fetch, int n_fetch,
                      eng_job_view *views, int *count);
void eng_job_views_free(eng_job_view *views, int count);

/* Completes an activated job, merging variables (a context or NULL).
 * BT_ENOTFOUND: no such job (or already completed); BT_ECONFLICT: the job is
 * not activated (e.g. timed out and not re-activated). */
int eng_job_complete(eng_engine *e, int64_t now, uint64_t job_key, const feel_value *variables,
                     bt_error *err);
/* Fails a job: retries left, a message, a back-off before it is activatable
 * again (-1: the engine's default). retries 0 raises a JOB_NO_RETRIES incident. */
int eng_job_fail(eng_engine *e, int64_t now, uint64_t job_key, int retries,
                 const char *error_message, int64_t backoff_ms, const feel_value *variables,
                 bt_error *err);
/* Throws a BPMN error from the job's task: caught by the nearest matching
 * error boundary event up the scope chain, else an UNHANDLED_ERROR_EVENT
 * incident. */
int eng_job_throw_error(eng_engine *e, int64_t now, uint64_t job_key, const char *error_code,
                        const char *error_message, const feel_value *variables, bt_error *err);
/* Sets a job's retries (> 0) — how an operator revives a job before resolving
 * its incident. */
int eng_job_update_retries(eng_engine *e, int64_t now, uint64_t job_key, int retries,
                           bt_error *err);
/* Sets an activated job's deadline to now + timeout_ms. */
int eng_job_update_timeout(eng_engine *e, int64_t now, uint64_t job_key, int64_t timeout_ms,
                           bt_error *err);

/* ---- incidents ------------------------------------------------------------------ */

/* Resolves an incident and continues the instance from the step that failed.
 * BT_ECONFLICT when a JOB_NO_RETRIES incident's job still has 0 retries. */
int eng_incident_resolve(eng_engine *e, int64_t now, uint64_t incident_key, bt_error *err);

/* ---- messages ----------------------------------------------------------------------- */

typedef struct eng_message_pub {
    const char *name;            /* required */
    const char *correlation_key; /* NULL: "" */
    int64_t ttl_ms;              /* how long it stays buffered; 0: not at all */
    const char *message_id;      /* NULL or "": none */
    const feel_value *variables; /* a context, or NULL */
} eng_message_pub;

/* Publishes a message (Zeebe's rules): it correlates to the open
 * subscriptions of its name and correlation key — once per process id,
 * the oldest subscription first — and starts an instance of each process
 * whose latest version has a message start event of its name (unless an
 * instance that a message with the same correlation key started is still
 * active); then it stays buffered for ttl_ms, for subscriptions that open
 * later. BT_ECONFLICT: a message with the same name, correlation key and
 * message id is buffered. *key = the message's key. */
int eng_message_publish(eng_engine *e, int64_t now, const eng_message_pub *m, uint64_t *key,
                        bt_error *err);
/* Publishes and correlates at once, without buffering (ttl_ms ignored).
 * *instance_key = the first instance it correlated to or started.
 * BT_ENOTFOUND, with no change, when nothing would take it. */
int eng_message_correlate(eng_engine *e, int64_t now, const eng_message_pub *m, uint64_t *key,
                          uint64_t *instance_key, bt_error *err);

/* ---- signals ------------------------------------------------------------------------ */

typedef struct eng_signal {
    const char *name;            /* required */
    const feel_value *variables; /* a context, or NULL */
} eng_signal;

/* Broadcasts a signal (Zeebe's rules): it triggers every open signal
 * subscription of its name, in every instance, and starts an instance of
 * each process whose latest version has a signal start event of its name.
 * It is not kept: a subscription that opens later never sees it.
 * BT_EINVAL (no change): no name, or variables not a context. *key = the
 * signal's key. */
int eng_signal_broadcast(eng_engine *e, int64_t now, const eng_signal *s, uint64_t *key,
                         bt_error *err);

/* ---- time -------------------------------------------------------------------------- */

/* Fires what is due at `now`: activated jobs past their deadline return to
 * the pool (TIMED_OUT), failed jobs whose back-off ended become activatable,
 * timers fire, buffered messages whose time to live ended expire.
 * Returns the next due time (ms), or INT64_MAX when nothing is scheduled. */
int64_t eng_tick(eng_engine *e, int64_t now);

/* ---- reading state (for the API and tests) ------------------------------------- */

typedef enum eng_instance_state {
    ENG_INSTANCE_ACTIVE = 1,
    ENG_INSTANCE_COMPLETED = 2,
    ENG_INSTANCE_TERMINATED = 3,
} eng_instance_state;

typedef struct eng_instance_view {
    uint64_t key;
    uint64_t definition_key;
    const char *bpmn_process_id;
    int version;
    eng_instance_state state;
    bool has_incident;
    const char *business_id;
    int64_t start_ms, end_ms;
    /* Called by a call activity: its instance and element instance; 0 else. */
    uint64_t parent_instance_key, parent_element_instance_key;
} eng_instance_view;

/* The instance (active, or ended in the current batch). BT_ENOTFOUND else. */
int eng_instance_get(const eng_engine *e, uint64_t key, eng_instance_view *out);
/* The variables visible at a scope (element instance or instance key), as a
 * new context (local names shadow outer ones); for an instance that
 * completed in the current batch, its final root variables. NULL if the
 * scope is unknown. */
feel_value *eng_variables_visible(const eng_engine *e, uint64_t scope_key);

typedef struct eng_incident_view {
    uint64_t key;
    int64_t created_ms;
    uint64_t process_definition_key;
    const char *bpmn_process_id;
    const char *type; /* "JOB_NO_RETRIES", "CONDITION_ERROR", ... */
    const char *message;
    uint64_t process_instance_key;
    uint64_t element_instance_key;
    const char *element_id;
    uint64_t job_key; /* 0 when not about a job */
} eng_incident_view;

/* Open incidents of an instance (0: all), up to max; returns how many exist. */
int eng_incidents_list(const eng_engine *e, uint64_t instance_key, eng_incident_view *out, int max);

/* ---- iteration, for searches (query.c) ------------------------------------------ */

/* Each walk calls cb for every object, in key order; a non-zero return
 * from cb stops the walk and is returned. Views are valid during the call. */

typedef struct eng_definition_view {
    uint64_t key;
    const char *bpmn_process_id;
    const char *name; /* NULL when the process has none */
    int version;
    bool is_latest;
    const char *resource_name;
    const char *xml;
    size_t xml_len;
    uint64_t deployment_key;
    int64_t deploy_time_ms;
} eng_definition_view;
int eng_definitions_each(const eng_engine *e, int (*cb)(void *ud, const eng_definition_view *d),
                         void *ud);
/* The name of an element of a definition, or NULL (unknown or unnamed). */
const char *eng_element_name(const eng_engine *e, uint64_t definition_key, const char *element_id);
/* One definition by key; BT_ENOTFOUND. */
int eng_definition_get(const eng_engine *e, uint64_t key, eng_definition_view *out);

typedef struct eng_job_info {
    uint64_t key;
    const char *type;
    const char *state; /* "CREATED" (activatable), "ACTIVATED", "FAILED", "ERROR_THROWN"... */
    const char *worker;
    int retries;
    int64_t deadline_ms;
    const char *error_message;
    uint64_t process_instance_key;
    uint64_t element_instance_key;
    uint64_t process_definition_key;
    const char *bpmn_process_id;
    const char *element_id;
    bool has_incident;
} eng_job_info;
int eng_jobs_each(const eng_engine *e, int (*cb)(void *ud, const eng_job_info *j), void *ud);

typedef struct eng_variable_info {
    uint64_t key;
    const char *name;
    const feel_value *value;
    uint64_t scope_key;
    uint64_t process_instance_key;
    uint64_t process_definition_key;
    const char *bpmn_process_id;
} eng_variable_info;
/* The variables of active instances (instance_key 0: all of them). */
int eng_variables_each(const eng_engine *e, uint64_t instance_key,
                       int (*cb)(void *ud, const eng_variable_info *v), void *ud);

typedef struct eng_elem_info {
    uint64_t key;
    uint64_t process_instance_key;
    uint64_t process_definition_key;
    const char *bpmn_process_id;
    const char *element_id;
    const char *element_name;
    const char *type; /* Zeebe's name, "SERVICE_TASK"; "MULTI_INSTANCE_BODY" for a body */
    uint64_t incident_key;
} eng_elem_info;
/* The live element instances of one active instance, in creation order. */
int eng_elems_each(const eng_engine *e, uint64_t instance_key,
                   int (*cb)(void *ud, const eng_elem_info *el), void *ud);

/* ---- changes: what the store must write ---------------------------------------- */

typedef struct eng_record {
    uint64_t position;
    uint64_t key;
    int64_t timestamp_ms;
    const char *value_type; /* static string */
    const char *intent;     /* static string */
    uint64_t instance_key;
    char *value; /* JSON object, owned by the engine until eng_changes_done */
    size_t value_len;
} eng_record;

typedef struct eng_definition_row {
    uint64_t key;
    const char *bpmn_process_id;
    int version;
    const char *resource_name;
    const char *checksum;
    const char *xml;
    size_t xml_len;
    uint64_t deployment_key;
    int64_t deploy_time_ms;
} eng_definition_row;

typedef struct eng_instance_row {
    uint64_t key;
    uint64_t definition_key;
    const char *bpmn_process_id;
    int version;
    int state;         /* eng_instance_state */
    bool has_incident; /* its own, or one of an instance it called (call.c) */
    const char *business_id;
    int64_t start_ms, end_ms;
    uint64_t parent_instance_key; /* the calling instance (call activity); 0 when none */
    char *state_data; /* encoded state (eng_instance_restore reads it); NULL once ended */
    size_t state_len;
} eng_instance_row;

/* State of the engine that belongs to no instance (a buffered message, a
 * timer start event's timer), as the store keeps it: data NULL means the
 * object is gone (delete it). */
enum { ENG_OBJECT_MESSAGE = 1, ENG_OBJECT_START_TIMER = 2 };
typedef struct eng_object_row {
    uint64_t key;
    int kind; /* ENG_OBJECT_* */
    char *data;
    size_t len;
} eng_object_row;

typedef struct eng_changes {
    eng_record *records;
    size_t n_records;
    eng_definition_row *definitions;
    size_t n_definitions;
    eng_instance_row *instances;
    size_t n_instances;
    eng_object_row *objects;
    size_t n_objects;
    uint64_t next_key;      /* to store in meta */
    uint64_t next_position; /* to store in meta */
} eng_changes;

/* Everything changed since the last eng_changes_done: the rows to write, in
 * one transaction. Pointers stay valid until eng_changes_done. */
void eng_changes_take(eng_engine *e, eng_changes *out);
/* The caller has written (or dropped) the changes: the engine frees them and
 * forgets ended instances. */
void eng_changes_done(eng_engine *e);

/* ---- recovery ------------------------------------------------------------------------ */

/* Restores counters, then definitions, then active instances, as read from
 * the store, into an empty engine. BT_ECORRUPT if a row does not decode. */
void eng_restore_counters(eng_engine *e, uint64_t next_key, uint64_t next_position);
int eng_restore_definition(eng_engine *e, const eng_definition_row *row, bt_error *err);
int eng_restore_instance(eng_engine *e, const eng_instance_row *row, bt_error *err);
/* Restores an engine object; after the definitions and instances
 * (BT_ECORRUPT if it does not decode, BT_EUNSUPPORTED for an unknown kind). */
int eng_restore_object(eng_engine *e, const eng_object_row *row, bt_error *err);

#endif
