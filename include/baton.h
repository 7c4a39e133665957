/*
 * baton.h — embed the baton workflow engine in a C program, the way one
 * embeds SQLite.
 *
 *     baton *b;
 *     baton_error err;
 *     if (baton_open("trips.db", NULL, &b, &err)) { fprintf(stderr, "%s\n", err.message); ... }
 *     baton_deploy_file(b, "trip-booking.bpmn", NULL, &err);
 *     uint64_t trip;
 *     baton_create_instance(b, "trip-booking", "{\"tripId\":\"T1\"}", "T1", &trip, &err);
 *     baton_job jobs[16]; int n;
 *     baton_activate_jobs(b, "book-hotel", "me", 30000, 16, jobs, &n);
 *     ... baton_complete_job(b, jobs[0].key, "{\"hotelBooking\":\"H-1\"}", &err); ...
 *     baton_jobs_free(jobs, n);
 *     baton_close(b);
 *
 * Durability: every call that changes state returns only after its effects
 * are committed to the store with fsync (acknowledged means durable). To
 * commit many commands at once (group commit), wrap them in
 * baton_batch_begin / baton_batch_commit: the commit then happens once, at
 * baton_batch_commit. If a commit fails, the call reports BATON_EIO and the
 * batch's outcome is unknown (a failed fsync may still have reached the
 * disk): baton reopens the store and continues from what the file holds, as
 * a restart would, so read the state back before retrying.
 *
 * Time: the engine never reads a clock itself. By default baton uses the
 * system clock; tests and simulations pass their own (baton_options.clock)
 * and call baton_tick to fire what is due (job time-outs, retry back-offs).
 *
 * Errors: functions return 0, or a negative code (BATON_E*) and fill
 * *err (may be NULL). Keys are 64-bit integers. JSON strings in and out are
 * UTF-8 objects. Strings returned in structs are owned by baton and valid
 * until the next call on the same handle, unless stated otherwise.
 *
 * Threading: a baton handle is used by one thread at a time.
 */
#ifndef BATON_H
#define BATON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum {
    BATON_OK = 0,
    BATON_ENOMEM = -1,
    BATON_EINVAL = -2,
    BATON_ENOTFOUND = -3,
    BATON_ECONFLICT = -4,
    BATON_EIO = -5,
    BATON_ECORRUPT = -6,
    BATON_ELIMIT = -7,
    BATON_EEVAL = -8,
    BATON_EBUSY = -9,
    BATON_EUNSUPPORTED = -10,
};

typedef struct baton_error {
    int code;
    int line;   /* BPMN line, when about a model */
    int column; /* FEEL column, when about an expression */
    char element_id[128];
    char message[512];
} baton_error;

typedef struct baton baton;

typedef struct baton_options {
    /* Current time in ms since the epoch; NULL: the system clock. */
    int64_t (*clock)(void *ud);
    void *clock_ud;
    /* Run compensation handlers all at once (Zeebe) instead of one at a time
     * in reverse order of completion (the default). */
    bool compensation_all_at_once;
    /* Skip fsync (benchmarks of the non-durable case only). */
    bool no_sync;
} baton_options;

/* Opens or creates the store at path (an SQLite file) and recovers every
 * instance where it stood. opts may be NULL. */
int baton_open(const char *path, const baton_options *opts, baton **out, baton_error *err);
/* Closes; an open batch is rolled back (its commands were not acknowledged). */
void baton_close(baton *b);

/* Group commit: the commands between begin and commit are committed once. */
int baton_batch_begin(baton *b);
int baton_batch_commit(baton *b, baton_error *err);

/* ---- deployment ------------------------------------------------------------ */

typedef struct baton_deployed {
    uint64_t definition_key;
    char bpmn_process_id[256];
    int version;
    bool is_new; /* false: identical to the latest version */
} baton_deployed;

/* Deploys one BPMN resource (all its executable processes). out may be NULL;
 * otherwise it receives the first process. On a model error returns
 * BATON_EINVAL with the element id, line (and FEEL column) in err. */
int baton_deploy(baton *b, const char *name, const char *xml, size_t len, baton_deployed *out,
                 baton_error *err);
int baton_deploy_file(baton *b, const char *path, baton_deployed *out, baton_error *err);

/* ---- instances ----------------------------------------------------------------- */

/* Starts the latest version of process_id. variables_json may be NULL;
 * business_id may be NULL (else unique among active instances: ECONFLICT). */
int baton_create_instance(baton *b, const char *process_id, const char *variables_json,
                          const char *business_id, uint64_t *key, baton_error *err);
/* Terminates an active instance and the instances its call activities
 * started. BATON_ECONFLICT for an instance a call activity started: cancel
 * the root of the call hierarchy instead. */
int baton_cancel_instance(baton *b, uint64_t key, baton_error *err);

enum { BATON_ACTIVE = 1, BATON_COMPLETED = 2, BATON_TERMINATED = 3 };

typedef struct baton_instance {
    uint64_t key;
    uint64_t definition_key;
    char bpmn_process_id[256];
    int version;
    int state;         /* BATON_ACTIVE, BATON_COMPLETED, BATON_TERMINATED */
    bool has_incident; /* its own, or one of an instance it called */
    int64_t start_ms, end_ms;
    uint64_t parent_instance_key; /* started by a call activity of this instance; 0: none */
} baton_instance;

/* Reads an instance, active or ended. BATON_ENOTFOUND if unknown. */
int baton_get_instance(baton *b, uint64_t key, baton_instance *out);
/* The variables visible in an active instance's root scope, as a JSON
 * object the caller frees with baton_free. NULL if not active. */
char *baton_get_variables(baton *b, uint64_t instance_key);
/* Sets variables on a scope (an instance or element instance key), local or
 * propagated. */
int baton_set_variables(baton *b, uint64_t scope_key, const char *variables_json, bool local,
                        baton_error *err);
void baton_free(void *p);

/* ---- jobs ------------------------------------------------------------------------- */

typedef struct baton_job {
    uint64_t key; /* also the idempotency key for the function it invokes */
    const char *type;
    uint64_t process_instance_key;
    uint64_t element_instance_key;
    const char *bpmn_process_id;
    const char *element_id;
    int retries;
    int64_t deadline_ms;
    int n_headers;
    const char *const *header_keys;
    const char *const *header_values;
    char *variables_json; /* freed by baton_jobs_free */
} baton_job;

/* Activates up to max jobs of type for worker; each must be completed,
 * failed or errored before timeout_ms, else it returns to the pool. */
int baton_activate_jobs(baton *b, const char *type, const char *worker, int64_t timeout_ms, int max,
                        baton_job *jobs, int *count, baton_error *err);
void baton_jobs_free(baton_job *jobs, int count);
int baton_complete_job(baton *b, uint64_t job_key, const char *variables_json, baton_error *err);
/* retries: how many are left; backoff_ms: delay before the next try (-1 default). */
int baton_fail_job(baton *b, uint64_t job_key, int retries, const char *message, int64_t backoff_ms,
                   baton_error *err);
int baton_throw_error(baton *b, uint64_t job_key, const char *code, const char *message,
                      baton_error *err);
int baton_update_job_retries(baton *b, uint64_t job_key, int retries, baton_error *err);

/* ---- messages ---------------------------------------------------------------------- */

typedef struct baton_message {
    const char *name;            /* required */
    const char *correlation_key; /* NULL: "" */
    int64_t time_to_live_ms;     /* buffered this long for subscriptions opening later */
    const char *message_id;      /* NULL: none; else unique among buffered messages */
    const char *variables_json;  /* NULL: none */
} baton_message;

/* Publishes a message: it correlates to the instances waiting for its name
 * and correlation key (once per process), starts the processes with a
 * message start event of its name, and stays buffered for its time to live.
 * BATON_ECONFLICT: a message with the same name, key and id is buffered. */
int baton_publish_message(baton *b, const baton_message *m, uint64_t *key, baton_error *err);
/* Correlates a message at once, without buffering; *instance_key = the
 * first instance it reached. BATON_ENOTFOUND (nothing changed) when no
 * instance waits for it and no process starts with it. */
int baton_correlate_message(baton *b, const baton_message *m, uint64_t *key, uint64_t *instance_key,
                            baton_error *err);

/* ---- signals ----------------------------------------------------------------------- */

/* Broadcasts the signal `name` with variables (a JSON object, or NULL): it
 * triggers every instance waiting for it (catch events, boundary events,
 * event-based gateways) and starts an instance of each process whose latest
 * version has a signal start event of that name. It is not kept: an
 * instance that waits for it later does not get it. *key = the signal's
 * key (may be NULL). BATON_EINVAL: no name, or variables not an object. */
int baton_broadcast_signal(baton *b, const char *name, const char *variables_json, uint64_t *key,
                           baton_error *err);

/* ---- incidents ------------------------------------------------------------------- */

typedef struct baton_incident {
    uint64_t key;
    char type[32];
    char message[512];
    uint64_t process_instance_key;
    uint64_t element_instance_key;
    char element_id[128];
    uint64_t job_key;
} baton_incident;

/* Open incidents of an instance (0: all), up to max; returns how many exist. */
int baton_list_incidents(baton *b, uint64_t instance_key, baton_incident *out, int max);
int baton_resolve_incident(baton *b, uint64_t incident_key, baton_error *err);

/* ---- time --------------------------------------------------------------------------- */

/* Fires what is due now (job time-outs, back-offs, timers, the end of
 * messages' time to live) and commits. Returns the
 * next due time in ms since the epoch (INT64_MAX: nothing scheduled), or a
 * negative error code. */
int64_t baton_tick(baton *b, baton_error *err);

/* ---- history ------------------------------------------------------------------------ */

/* Calls cb for each committed record of an instance (0: all) in order:
 * value_type ("PROCESS_INSTANCE", "JOB", ...), intent, key, JSON value. */
int baton_history(baton *b, uint64_t instance_key,
                  int (*cb)(void *ud, const char *value_type, const char *intent, uint64_t key,
                            const char *value_json),
                  void *ud);

#ifdef __cplusplus
}
#endif
#endif
