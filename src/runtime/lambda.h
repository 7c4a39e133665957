/*
 * lambda.h — invoking an AWS Lambda function from a job: the request of
 * Lambda's Invoke API, signed with SigV4 (sigv4.h), for jobs of the task
 * type `io.baton:aws-lambda:1`. The built-in invoker of `baton serve`
 * (invoker.h) activates those jobs, sends what rt_lambda_request_build
 * makes and turns the answer into an outcome with rt_lambda_classify.
 *
 * Inputs — the job's variables, typically set by zeebe:input mappings:
 *   functionName    required: a name ("my-function"), a name with a
 *                   qualifier ("my-function:v2"), a partial ARN
 *                   ("123456789012:function:my-function") or a full ARN
 *                   ("arn:aws:lambda:eu-west-1:123456789012:function:my-function",
 *                   optionally ":qualifier"), as Lambda's FunctionName
 *   region          the AWS region; else the full ARN's region; else the
 *                   environment's AWS_REGION, else AWS_DEFAULT_REGION. A
 *                   region input that contradicts the ARN is an error.
 *   payload         any JSON value, sent as the event; default: all the
 *                   job's variables, as one JSON object
 *   qualifier       a version or alias (?Qualifier=...)
 *   invocationType  "RequestResponse" (default: wait for the result) or
 *                   "Event" (asynchronous: Lambda queues the event, 202)
 *   endpoint        the base URL of the Lambda API; else the environment's
 *                   BATON_LAMBDA_ENDPOINT; else https://lambda.<region>.amazonaws.com
 *                   (.amazonaws.com.cn for cn- regions). For tests and
 *                   local emulators; a path prefix is kept.
 * Credentials come from the environment of `baton serve`, read once when
 * the invoker starts: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and
 * AWS_SESSION_TOKEN (optional).
 *
 * Task headers (as for the HTTP invoker): resultVariable (the function's
 * result, its JSON payload, is stored under this name; default none),
 * resultExpression (FEEL over `response` = {status, headers, body}, a
 * context merged into the variables), errorExpression (FEEL over
 * `response` and `error` = {code, message, type}; bpmnError(code, message)
 * throws a BPMN error) and retryBackoff (ISO 8601 duration).
 *
 * The request: POST <endpoint>/2015-03-31/functions/<FunctionName, URI-
 * encoded>/invocations[?Qualifier=<qualifier>] with Content-Type:
 * application/json, X-Amz-Invocation-Type, Idempotency-Key: <job key> (the
 * same on every retry of the job), X-Amz-Date, X-Amz-Security-Token (with a
 * session token) and Authorization (SigV4 for service "lambda"; every one of
 * these headers is signed).
 *
 * Outcomes (rt_lambda_classify):
 *   2xx without X-Amz-Function-Error   complete;
 *   2xx with X-Amz-Function-Error       the function failed (Unhandled or
 *                                       Handled; body {errorType,
 *                                       errorMessage}): errorExpression may
 *                                       throw a BPMN error, else the job
 *                                       fails with retries - 1;
 *   429, 5xx, network errors            fail with retries - 1 after
 *                                       retryBackoff;
 *   other statuses (403 a bad signature, 404 no such function, ...)
 *                                       fail with retries - 1, no back-off.
 * Unusable inputs and missing credentials fail the job with no retries: an
 * incident carries the message.
 *
 * Thread-safety: rt_lambda_env_read reads the environment (call it at
 * start-up, before threads that may setenv); everything else is pure.
 * Strings come from bt_xmalloc & co.: out of memory aborts, as in the rest
 * of the invoker.
 */
#ifndef BATON_RT_LAMBDA_H
#define BATON_RT_LAMBDA_H

#include "base/base.h"

#define RT_LAMBDA_JOB_TYPE "io.baton:aws-lambda:1"

/* What the environment of `baton serve` says about AWS, read once. Every
 * string is NULL when its variable is unset or empty. */
typedef struct rt_lambda_env {
    char *access_key_id;     /* AWS_ACCESS_KEY_ID */
    char *secret_access_key; /* AWS_SECRET_ACCESS_KEY */
    char *session_token;     /* AWS_SESSION_TOKEN */
    char *region;            /* AWS_REGION, else AWS_DEFAULT_REGION */
    char *endpoint;          /* BATON_LAMBDA_ENDPOINT */
} rt_lambda_env;

/* Fills *out from the process environment. Free with rt_lambda_env_free. */
void rt_lambda_env_read(rt_lambda_env *out);
/* Frees the strings and zeroes *e (the secret is wiped first). NULL allowed. */
void rt_lambda_env_free(rt_lambda_env *e);

/* Checks a FunctionName (the forms above) and, for a full ARN, returns its
 * region in *region (bt_xstrdup'd; NULL otherwise). Returns 0 or BT_EINVAL
 * with err's message naming the problem. region and err may be NULL. */
int rt_lambda_function_parse(const char *function_name, char **region, bt_error *err);

/* An Invoke request, ready to send. Owned: rt_lambda_request_free. */
typedef struct rt_lambda_request {
    char *url;  /* endpoint + path + query */
    char *body; /* the payload, JSON */
    size_t body_len;
    char **headers; /* "Name: value" lines: Host, Content-Type, X-Amz-Invocation-Type,
                       Idempotency-Key, X-Amz-Date, [X-Amz-Security-Token,] Authorization */
    size_t n_headers;
    char *function_name; /* as given, for messages */
    char *region;
    bool event;              /* invocationType "Event" */
    char *canonical_request; /* what was signed, for tests and debugging */
} rt_lambda_request;

/* Builds the request for a job: variables_json is the job's variables (a
 * JSON object), job_key its key (the Idempotency-Key), now_ms the signing
 * time. Returns 0 and fills *out (zeroed first); BT_EINVAL with a message
 * for the incident when an input is missing or unusable or there are no
 * credentials (the job should fail with no retries); BT_ENOMEM. On failure
 * *out holds nothing to free. err may be NULL. */
int rt_lambda_request_build(const rt_lambda_env *env, const char *variables_json, uint64_t job_key,
                            int64_t now_ms, rt_lambda_request *out, bt_error *err);
/* Frees what a request owns and zeroes it. NULL allowed. */
void rt_lambda_request_free(rt_lambda_request *r);

/* What an answer of the Invoke API means for the job. */
typedef enum {
    RT_LAMBDA_DONE,           /* the function returned: complete */
    RT_LAMBDA_FUNCTION_ERROR, /* the function ran and failed */
    RT_LAMBDA_RETRY,          /* throttled or a server error: retry after the back-off */
    RT_LAMBDA_REJECTED,       /* the request was refused (4xx): retry without back-off */
} rt_lambda_outcome;

/* Classifies an HTTP status and the X-Amz-Function-Error header's value
 * (NULL or "" when absent). */
rt_lambda_outcome rt_lambda_classify(long status, const char *function_error);

#endif
