/*
 * invoker.h — baton invokes functions itself: a built-in job worker inside
 * `baton serve` for two task types:
 *
 *   io.camunda:http-json:1  Camunda's REST connector, so a model drawn with
 *                           Camunda Modeler's REST connector template runs
 *                           unchanged (below);
 *   io.baton:aws-lambda:1   AWS Lambda's Invoke API, signed with SigV4:
 *                           inputs, credentials and outcomes in lambda.h.
 *
 * The REST connector's inputs arrive as its variables (zeebe:input mappings
 * of the template): url, method, headers, queryParameters, body,
 * connectionTimeoutInSeconds, readTimeoutInSeconds, and authentication
 * ({type: "basic", username, password} or {type: "bearer", token}); its
 * task headers: resultVariable, resultExpression, errorExpression,
 * retryBackoff (ISO 8601 duration, e.g. "PT10S").
 *
 * Every request carries `Idempotency-Key: <job key>`: the same on every
 * retry of the same job, so a function can deduplicate.
 *
 * Outcomes:
 *   2xx          complete: the response {status, headers, body} is
 *                `response` to resultExpression (FEEL, a context merged into
 *                the variables) and stored whole under resultVariable;
 *   errorExpression (FEEL, with `response` and `error` = {code, message})
 *                returning bpmnError(code, message) throws that BPMN error,
 *                for any outcome;
 *   4xx          otherwise fails the job, retries - 1, no back-off;
 *   5xx, timeouts, connection errors
 *                fail the job with retries - 1 after retryBackoff.
 * Inputs that cannot make a request fail the job with no retries: an
 * incident carries the reason.
 *
 * Nothing blocks the engine loop: requests run on the invoker's own thread
 * with libcurl's multi interface, hundreds at a time, whatever their task
 * type; activation is a long poll parked in the loop, and completions are
 * loop commands like any worker's.
 */
#ifndef BATON_RT_INVOKER_H
#define BATON_RT_INVOKER_H

#include "runtime/loop.h"

#define RT_HTTP_JOB_TYPE "io.camunda:http-json:1"

typedef struct rt_invoker rt_invoker;

typedef struct rt_invoker_config {
    int max_in_flight;      /* concurrent requests; 0: 256 */
    int64_t job_timeout_ms; /* activation timeout; 0: 5 minutes */
} rt_invoker_config;

/* Starts the invoker thread over a running loop. cfg may be NULL. Reads the
 * AWS settings of lambda.h from the environment, once, here. */
int rt_invoker_start(rt_loop *loop, const rt_invoker_config *cfg, rt_invoker **out, bt_error *err);
/* Stops: no new activations; requests in flight are aborted (their jobs time
 * out and are retried later — at-least-once). Call before rt_loop_stop.
 * NULL allowed. */
void rt_invoker_stop(rt_invoker *inv);

#endif
