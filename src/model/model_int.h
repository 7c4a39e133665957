/*
 * model_int.h — what the model's files share while a resource is turned into
 * a bpmn_model (private to src/model).
 *
 * The pipeline has three stages, one file each:
 *
 *   parse.c     XML → a bpmn_build per executable process: elements and flows
 *               in document order, attributes copied into the arena, FEEL
 *               compiled, references still as ids (default_ref, attached_ref,
 *               event_ref, activity_ref, association ends);
 *   validate.c  resolves the ids into indexes, checks the structure (scopes,
 *               start events, reachability, compensation links) and lays the
 *               result out as the immutable bpmn_process;
 *   model.c     the arena that owns everything, the type tables, lookup.
 *
 * Every problem is reported through bpmn_ctx_report, which keeps the first
 * BPMN_MAX_ERRORS in document (line) order and counts them all. The first
 * allocation failure is sticky in ctx->status: the stages stop early and
 * bpmn_parse returns BT_ENOMEM.
 */
#ifndef BATON_MODEL_INT_H
#define BATON_MODEL_INT_H

#include "model/model.h"

/* ---- arena (model.c) ------------------------------------------------------ */

typedef struct bpmn_arena bpmn_arena;

/* A new, empty arena, or NULL on ENOMEM. */
bpmn_arena *bpmn_arena_new(void);
/* Frees every block and every FEEL expression handed to bpmn_arena_own_feel.
 * NULL allowed. */
void bpmn_arena_free(bpmn_arena *a);
/* n zeroed bytes aligned for any type, valid until bpmn_arena_free; NULL on
 * ENOMEM. n = 0 yields a valid unique pointer. */
void *bpmn_arena_alloc(bpmn_arena *a, size_t n);
/* Copies of strings into the arena. NULL in → NULL out (not an error);
 * NULL on ENOMEM otherwise (check the input to tell the two apart). */
char *bpmn_arena_strdup(bpmn_arena *a, const char *s);
char *bpmn_arena_strndup(bpmn_arena *a, const char *s, size_t n);
/* The arena takes ownership of e (freed by bpmn_arena_free). BT_ENOMEM, with
 * e freed at once, when the list cannot grow. */
int bpmn_arena_own_feel(bpmn_arena *a, feel_expr *e);

/* ---- the build state (parse.c → validate.c) --------------------------------- */

/* An element while its process is being built. el is the final element
 * except for the pointer arrays, which validate.c lays out. */
typedef struct bpmn_node {
    bpmn_element el;
    const char *xml_name;     /* the XML local name, for messages */
    const char *default_ref;  /* exclusive gateway default="flow id" */
    const char *attached_ref; /* boundary event attachedToRef */
    const char *event_ref;    /* errorRef, escalationRef, messageRef or signalRef (event
                                 definition, receive task) */
    const char *activity_ref; /* compensateEventDefinition activityRef */
    bool has_event_ref;       /* event_ref given (may still be unresolvable) */
    bool unsupported;         /* already reported as unsupported: exempt from the other checks */
} bpmn_node;

typedef struct bpmn_build_flow {
    bpmn_flow fl;
    int scope; /* index of the container the flow is declared in */
    const char *source_ref, *target_ref;
} bpmn_build_flow;

/* A directed association (compensation boundary event → handler). */
typedef struct bpmn_build_assoc {
    const char *id;
    int line;
    const char *source_ref, *target_ref;
} bpmn_build_assoc;

/* What an event definition refers to, declared at definitions level (one
 * table: ids are unique across the definitions): <bpmn:error id errorCode>,
 * <bpmn:escalation id escalationCode>, <bpmn:message id name> with its
 * <zeebe:subscription correlationKey>, and <bpmn:signal id name>. */
typedef struct bpmn_event_def {
    const char *id;
    bpmn_event_kind kind;      /* BPMN_EVENT_ERROR, _ESCALATION, _MESSAGE or _SIGNAL */
    const char *code;          /* errors and escalations: NULL or "" when it has no code */
    bpmn_expr name;            /* messages, signals: the name, literal or FEEL (text NULL: none) */
    bpmn_expr correlation_key; /* messages: zeebe:subscription correlationKey */
} bpmn_event_def;

typedef struct bpmn_build {
    const char *id, *name, *version_tag;
    int line;
    bpmn_node *nodes; /* nodes[0] is the process */
    int n_nodes, cap_nodes;
    bpmn_build_flow *flows;
    int n_flows, cap_flows;
    bpmn_build_assoc *assocs;
    int n_assocs, cap_assocs;
} bpmn_build;

typedef struct bpmn_ctx {
    bpmn_arena *arena;
    int status; /* 0, or BT_ENOMEM once an allocation failed */
    bpmn_errors errs;
    const bpmn_event_def *event_defs; /* sorted by id */
    int n_event_defs;
} bpmn_ctx;

/* Records a problem: element_id may be NULL, line/column 0 when unknown.
 * The message is printf-style; the stored message reads
 * "<element_id>: <message> (line L, column C)", the parts that are known. Keeps the first
 * BPMN_MAX_ERRORS in line order (stable for equal lines) and counts every call. */
void bpmn_ctx_report(bpmn_ctx *c, const char *element_id, int line, int column, const char *fmt,
                     ...) __attribute__((format(printf, 5, 6)));

/* Marks the context as out of memory; returns BT_ENOMEM. */
int bpmn_ctx_nomem(bpmn_ctx *c);

/* The definitions-level error, escalation, message or signal with this id, or NULL. */
const bpmn_event_def *bpmn_ctx_find_event_def(const bpmn_ctx *c, const char *id);

/* Frees the build's own vectors (not the arena data). NULL allowed. */
void bpmn_build_release(bpmn_build *b);

/* Resolves and checks b, reporting problems to c, and fills *out with the
 * laid-out process (arena memory; references that did not resolve are -1).
 * *out is only meaningful when nothing was reported. Returns 0, or BT_ENOMEM. */
int bpmn_validate(bpmn_ctx *c, bpmn_build *b, bpmn_process *out);

/* true for the event types. */
bool bpmn_type_is_event(bpmn_type t);
/* true for the containers of flow elements (process, sub-processes). */
bool bpmn_type_is_container(bpmn_type t);

#endif
