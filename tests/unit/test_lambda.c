/*
 * test_lambda.c — building Lambda Invoke requests (src/runtime/lambda.c):
 * the URL, the headers, the body, the signature for a fixed time, function
 * names and ARNs, qualifiers, invocation types, endpoints, regions, missing
 * credentials; and the classification of answers.
 *
 * The reference request's canonical request is written out by hand below
 * from the SigV4 rules, and its expected signature was computed from that
 * text with Python's hashlib/hmac — an implementation independent of
 * sigv4.c. The invoker's transfers and outcomes are covered end to end by
 * tests/lambda (a mock of the Invoke API that checks signatures itself).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/lambda.h"

#define KEY_ID  "AKIDEXAMPLE"
#define SECRET  "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define TIME_MS 1440938160000LL /* 2015-08-30T12:36:00Z */
#define JOB_KEY 2251799813685249ULL

static rt_lambda_env test_env(void) {
    rt_lambda_env e = {KEY_ID, SECRET, NULL, "us-east-1", NULL};
    return e;
}

/* The value of header `name` in r ("Name: value" lines), or NULL. */
static const char *header(const rt_lambda_request *r, const char *name) {
    size_t n = strlen(name);
    for (size_t i = 0; i < r->n_headers; i++)
        if (!strncmp(r->headers[i], name, n) && r->headers[i][n] == ':')
            return r->headers[i] + n + 2;
    return NULL;
}

static int build(const rt_lambda_env *env, const char *vars, rt_lambda_request *r, bt_error *err) {
    return rt_lambda_request_build(env, vars, JOB_KEY, TIME_MS, r, err);
}

/* Builds and expects BT_EINVAL with `fragment` in the message. */
static void expect_invalid(const rt_lambda_env *env, const char *vars, const char *fragment) {
    rt_lambda_request r;
    bt_error err = {0};
    int rc = build(env, vars, &r, &err);
    if (rc != BT_EINVAL)
        fail_msg("%s: expected BT_EINVAL, got %d", vars, rc);
    if (!strstr(err.message, fragment))
        fail_msg("%s: message '%s' lacks '%s'", vars, err.message, fragment);
    assert_null(r.url);
    assert_null(r.headers);
}

/* ---- the reference request ------------------------------------------------------- */

static void test_reference_request(void **state) {
    (void)state;
    rt_lambda_env env = test_env();
    const char *vars = "{\"functionName\":\"my-function\",\"order\":1}";
    rt_lambda_request r;
    bt_error err = {0};
    assert_int_equal(build(&env, vars, &r, &err), BT_OK);
    assert_string_equal(r.url,
                        "https://lambda.us-east-1.amazonaws.com/2015-03-31/functions/my-function/"
                        "invocations");
    /* No payload input: every variable is the event. */
    assert_string_equal(r.body, vars);
    assert_int_equal(r.body_len, strlen(vars));
    assert_false(r.event);
    assert_string_equal(r.function_name, "my-function");
    assert_string_equal(r.region, "us-east-1");
    assert_int_equal(r.n_headers, 6);
    assert_string_equal(header(&r, "Host"), "lambda.us-east-1.amazonaws.com");
    assert_string_equal(header(&r, "Content-Type"), "application/json");
    assert_string_equal(header(&r, "X-Amz-Invocation-Type"), "RequestResponse");
    assert_string_equal(header(&r, "Idempotency-Key"), "2251799813685249");
    assert_string_equal(header(&r, "X-Amz-Date"), "20150830T123600Z");
    assert_null(header(&r, "X-Amz-Security-Token"));
    assert_string_equal(r.canonical_request,
                        "POST\n"
                        "/2015-03-31/functions/my-function/invocations\n"
                        "\n"
                        "content-type:application/json\n"
                        "host:lambda.us-east-1.amazonaws.com\n"
                        "idempotency-key:2251799813685249\n"
                        "x-amz-date:20150830T123600Z\n"
                        "x-amz-invocation-type:RequestResponse\n"
                        "\n"
                        "content-type;host;idempotency-key;x-amz-date;x-amz-invocation-type\n"
                        "ccf9e44bf3685e4b794955f9685d41d64a0e90c5753b907d42d54c6344d983bd");
    assert_string_equal(
        header(&r, "Authorization"),
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/lambda/"
        "aws4_request, SignedHeaders=content-type;host;idempotency-key;x-amz-date;"
        "x-amz-invocation-type, "
        "Signature=639b883bbf23698b3f91ddf745305ecb94473eb787eee2469d379639ecde18d9");
    rt_lambda_request_free(&r);
    rt_lambda_request_free(&r); /* zeroed: a second free is harmless */
    rt_lambda_request_free(NULL);
}

/* A different time, key or body gives a different signature. */
static void test_signature_depends_on_inputs(void **state) {
    (void)state;
    rt_lambda_env env = test_env();
    const char *vars = "{\"functionName\":\"my-function\"}";
    rt_lambda_request a, b;
    assert_int_equal(build(&env, vars, &a, NULL), BT_OK);
    assert_int_equal(rt_lambda_request_build(&env, vars, JOB_KEY, TIME_MS + 1000, &b, NULL), BT_OK);
    assert_string_not_equal(header(&a, "Authorization"), header(&b, "Authorization"));
    assert_string_equal(header(&b, "X-Amz-Date"), "20150830T123601Z");
    rt_lambda_request_free(&b);
    assert_int_equal(rt_lambda_request_build(&env, vars, JOB_KEY + 1, TIME_MS, &b, NULL), BT_OK);
    assert_string_not_equal(header(&a, "Authorization"), header(&b, "Authorization"));
    rt_lambda_request_free(&b);
    env.secret_access_key = "another-secret";
    assert_int_equal(build(&env, vars, &b, NULL), BT_OK);
    assert_string_not_equal(header(&a, "Authorization"), header(&b, "Authorization"));
    rt_lambda_request_free(&b);
    rt_lambda_request_free(&a);
}

/* ---- function names, regions, qualifiers ------------------------------------------------ */

static void test_full_arn_gives_region(void **state) {
    (void)state;
    rt_lambda_env env = test_env(); /* us-east-1 in the environment: the ARN wins */
    rt_lambda_request r;
    assert_int_equal(build(&env,
                           "{\"functionName\":\"arn:aws:lambda:eu-west-1:123456789012:function:"
                           "hello:prod\"}",
                           &r, NULL),
                     BT_OK);
    assert_string_equal(r.region, "eu-west-1");
    assert_string_equal(r.url, "https://lambda.eu-west-1.amazonaws.com/2015-03-31/functions/"
                               "arn%3Aaws%3Alambda%3Aeu-west-1%3A123456789012%3Afunction%3Ahello"
                               "%3Aprod/invocations");
    assert_string_equal(header(&r, "Host"), "lambda.eu-west-1.amazonaws.com");
    /* The escaped path is encoded once more in the canonical request. */
    assert_non_null(strstr(r.canonical_request,
                           "\n/2015-03-31/functions/arn%253Aaws%253Alambda%253Aeu-west-1%253A"
                           "123456789012%253Afunction%253Ahello%253Aprod/invocations\n"));
    assert_non_null(strstr(header(&r, "Authorization"), "/20150830/eu-west-1/lambda/aws4_request"));
    rt_lambda_request_free(&r);

    /* The same region as input is fine; another one is a contradiction. */
    assert_int_equal(build(&env,
                           "{\"functionName\":\"arn:aws:lambda:eu-west-1:123456789012:function:"
                           "hello\",\"region\":\"eu-west-1\"}",
                           &r, NULL),
                     BT_OK);
    rt_lambda_request_free(&r);
    expect_invalid(&env,
                   "{\"functionName\":\"arn:aws:lambda:eu-west-1:123456789012:function:hello\","
                   "\"region\":\"us-east-2\"}",
                   "contradicts");
    /* China regions live under amazonaws.com.cn. */
    assert_int_equal(
        build(&env, "{\"functionName\":\"arn:aws-cn:lambda:cn-north-1:123456789012:function:f\"}",
              &r, NULL),
        BT_OK);
    assert_string_equal(r.url, "https://lambda.cn-north-1.amazonaws.com.cn/2015-03-31/functions/"
                               "arn%3Aaws-cn%3Alambda%3Acn-north-1%3A123456789012%3Afunction%3Af/"
                               "invocations");
    rt_lambda_request_free(&r);
}

static void test_function_name_forms(void **state) {
    (void)state;
    static const char *const good[] = {
        "my-function",
        "my_function:v2",
        "my-function:$LATEST",
        "123456789012:function:my-function",
        "123456789012:function:my-function:live",
        "arn:aws:lambda:us-west-2:123456789012:function:my-function",
        "arn:aws-us-gov:lambda:us-gov-west-1:123456789012:function:f:1",
    };
    static const char *const bad[] = {
        "",
        "a b",
        "my/function",
        "a:b:c",
        "123456789012:lambda:f",
        "arn:aws:s3:us-east-1:123456789012:function:f",
        "arn:aws:lambda:us-east-1:123456789012:layer:f",
        "arn:aws:lambda:US_EAST:123456789012:function:f",
        "arn:aws:lambda:us-east-1:12345678901x:function:f",
        "arn:aws:lambda:us-east-1:123456789012:function:",
        "f:",
        "f:v:1",
        "a:b:c:d:e:f:g:h:i:j",
    };
    for (size_t i = 0; i < BT_ARRAY_LEN(good); i++) {
        char *region = NULL;
        bt_error err = {0};
        if (rt_lambda_function_parse(good[i], &region, &err) != BT_OK)
            fail_msg("'%s' rejected: %s", good[i], err.message);
        bool arn = !strncmp(good[i], "arn:", 4);
        assert_true(arn ? region != NULL : region == NULL);
        bt_free(region);
    }
    char *region = NULL;
    assert_int_equal(rt_lambda_function_parse(good[5], &region, NULL), BT_OK);
    assert_string_equal(region, "us-west-2");
    bt_free(region);
    for (size_t i = 0; i < BT_ARRAY_LEN(bad); i++) {
        bt_error err = {0};
        region = NULL;
        if (rt_lambda_function_parse(bad[i], &region, &err) != BT_EINVAL)
            fail_msg("'%s' accepted", bad[i]);
        assert_null(region);
        assert_non_null(strstr(err.message, "functionName"));
    }
    assert_int_equal(rt_lambda_function_parse(NULL, NULL, NULL), BT_EINVAL);

    /* A partial ARN takes the region from the environment. */
    rt_lambda_env env = test_env();
    rt_lambda_request r;
    assert_int_equal(build(&env, "{\"functionName\":\"123456789012:function:f\"}", &r, NULL),
                     BT_OK);
    assert_string_equal(r.region, "us-east-1");
    assert_non_null(strstr(r.url, "/functions/123456789012%3Afunction%3Af/invocations"));
    rt_lambda_request_free(&r);
    expect_invalid(&env, "{\"functionName\":\"no such/name\"}", "not a Lambda function name");
    expect_invalid(&env, "{\"order\":1}", "'functionName' is required");
    expect_invalid(&env, "{\"functionName\":true}", "must be a string");
}

static void test_region_sources(void **state) {
    (void)state;
    rt_lambda_env env = test_env();
    rt_lambda_request r;
    assert_int_equal(build(&env, "{\"functionName\":\"f\",\"region\":\"ap-south-1\"}", &r, NULL),
                     BT_OK);
    assert_string_equal(
        r.url, "https://lambda.ap-south-1.amazonaws.com/2015-03-31/functions/f/invocations");
    assert_non_null(strstr(header(&r, "Authorization"), "/ap-south-1/lambda/aws4_request"));
    rt_lambda_request_free(&r);
    env.region = NULL;
    expect_invalid(&env, "{\"functionName\":\"f\"}", "no AWS region");
    expect_invalid(&env, "{\"functionName\":\"f\",\"region\":\"evil.com/x\"}", "not an AWS region");
}

static void test_qualifier(void **state) {
    (void)state;
    rt_lambda_env env = test_env();
    rt_lambda_request r;
    assert_int_equal(build(&env, "{\"functionName\":\"f\",\"qualifier\":\"live\"}", &r, NULL),
                     BT_OK);
    assert_string_equal(r.url, "https://lambda.us-east-1.amazonaws.com/2015-03-31/functions/f/"
                               "invocations?Qualifier=live");
    assert_non_null(strstr(r.canonical_request, "/invocations\nQualifier=live\n"));
    rt_lambda_request_free(&r);
    /* A version number, and $LATEST (escaped on the wire and when signed). */
    assert_int_equal(build(&env, "{\"functionName\":\"f\",\"qualifier\":7}", &r, NULL), BT_OK);
    assert_non_null(strstr(r.url, "?Qualifier=7"));
    rt_lambda_request_free(&r);
    assert_int_equal(build(&env, "{\"functionName\":\"f\",\"qualifier\":\"$LATEST\"}", &r, NULL),
                     BT_OK);
    assert_non_null(strstr(r.url, "?Qualifier=%24LATEST"));
    assert_non_null(strstr(r.canonical_request, "\nQualifier=%24LATEST\n"));
    rt_lambda_request_free(&r);
    expect_invalid(&env, "{\"functionName\":\"f\",\"qualifier\":\"\"}", "'qualifier' is empty");
    expect_invalid(&env, "{\"functionName\":\"f\",\"qualifier\":[1]}", "must be a string");
}

/* ---- invocation type, payload, endpoint ----------------------------------------------------- */

static void test_invocation_type(void **state) {
    (void)state;
    rt_lambda_env env = test_env();
    rt_lambda_request r;
    assert_int_equal(build(&env, "{\"functionName\":\"f\",\"invocationType\":\"Event\"}", &r, NULL),
                     BT_OK);
    assert_true(r.event);
    assert_string_equal(header(&r, "X-Amz-Invocation-Type"), "Event");
    assert_non_null(strstr(r.canonical_request, "\nx-amz-invocation-type:Event\n"));
    rt_lambda_request_free(&r);
    expect_invalid(&env, "{\"functionName\":\"f\",\"invocationType\":\"DryRunX\"}",
                   "\"RequestResponse\" or \"Event\"");
}

static void test_payload(void **state) {
    (void)state;
    rt_lambda_env env = test_env();
    rt_lambda_request r;
    assert_int_equal(build(&env,
                           "{\"functionName\":\"f\",\"payload\":{\"a\":[1,2.5,\"x\"],\"b\":null}}",
                           &r, NULL),
                     BT_OK);
    assert_string_equal(r.body, "{\"a\":[1,2.5,\"x\"],\"b\":null}");
    rt_lambda_request_free(&r);
    assert_int_equal(build(&env, "{\"functionName\":\"f\",\"payload\":\"hi\"}", &r, NULL), BT_OK);
    assert_string_equal(r.body, "\"hi\"");
    rt_lambda_request_free(&r);
    /* A null payload is no payload: all the variables. */
    const char *vars = "{\"functionName\":\"f\",\"payload\":null}";
    assert_int_equal(build(&env, vars, &r, NULL), BT_OK);
    assert_string_equal(r.body, vars);
    rt_lambda_request_free(&r);
    expect_invalid(&env, "[1]", "not a JSON object");
    expect_invalid(&env, "{", "not a JSON object");
}

static void test_endpoint(void **state) {
    (void)state;
    rt_lambda_env env = test_env();
    rt_lambda_request r;
    /* The input, with a path prefix kept and its trailing '/' dropped. */
    assert_int_equal(build(&env,
                           "{\"functionName\":\"f\",\"endpoint\":\"http://127.0.0.1:9999/mock/\"}",
                           &r, NULL),
                     BT_OK);
    assert_string_equal(r.url, "http://127.0.0.1:9999/mock/2015-03-31/functions/f/invocations");
    assert_string_equal(header(&r, "Host"), "127.0.0.1:9999");
    assert_non_null(strstr(r.canonical_request, "\nhost:127.0.0.1:9999\n"));
    assert_non_null(strstr(r.canonical_request, "\n/mock/2015-03-31/functions/f/invocations\n"));
    rt_lambda_request_free(&r);
    /* Else BATON_LAMBDA_ENDPOINT. */
    env.endpoint = "http://localhost:4010";
    assert_int_equal(build(&env, "{\"functionName\":\"f\"}", &r, NULL), BT_OK);
    assert_string_equal(r.url, "http://localhost:4010/2015-03-31/functions/f/invocations");
    rt_lambda_request_free(&r);
    expect_invalid(&env, "{\"functionName\":\"f\",\"endpoint\":\"ftp://x\"}", "http://");
    expect_invalid(&env, "{\"functionName\":\"f\",\"endpoint\":\"http://u:p@x\"}",
                   "no credentials");
    expect_invalid(&env, "{\"functionName\":\"f\",\"endpoint\":\"http://x/?a=1\"}",
                   "no credentials");
    expect_invalid(&env, "{\"functionName\":\"f\",\"endpoint\":\"http://\"}", "scheme://host");
}

/* ---- credentials ----------------------------------------------------------------------------- */

static void test_credentials(void **state) {
    (void)state;
    rt_lambda_env env = test_env();
    env.access_key_id = NULL;
    expect_invalid(&env, "{\"functionName\":\"f\"}", "AWS_ACCESS_KEY_ID");
    env = test_env();
    env.secret_access_key = NULL;
    expect_invalid(&env, "{\"functionName\":\"f\"}", "no AWS credentials");
    expect_invalid(NULL, "{\"functionName\":\"f\",\"region\":\"us-east-1\"}", "no AWS credentials");

    /* A session token is sent and signed. */
    env = test_env();
    env.session_token = "FwoGZXIvYXdzEXAMPLE//token+/=";
    rt_lambda_request r;
    assert_int_equal(build(&env, "{\"functionName\":\"f\"}", &r, NULL), BT_OK);
    assert_int_equal(r.n_headers, 7);
    assert_string_equal(header(&r, "X-Amz-Security-Token"), env.session_token);
    assert_non_null(strstr(r.canonical_request, "\nx-amz-security-token:FwoGZXIvYXdzEXAMPLE//"
                                                "token+/=\n"));
    assert_non_null(strstr(header(&r, "Authorization"),
                           "SignedHeaders=content-type;host;idempotency-key;x-amz-date;"
                           "x-amz-invocation-type;x-amz-security-token, "));
    rt_lambda_request_free(&r);
}

static void test_env_read(void **state) {
    (void)state;
    setenv("AWS_ACCESS_KEY_ID", "AKID", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "SECRET", 1);
    setenv("AWS_SESSION_TOKEN", "", 1); /* empty: none */
    unsetenv("AWS_REGION");
    setenv("AWS_DEFAULT_REGION", "eu-central-1", 1);
    setenv("BATON_LAMBDA_ENDPOINT", "http://127.0.0.1:1", 1);
    rt_lambda_env e;
    rt_lambda_env_read(&e);
    assert_string_equal(e.access_key_id, "AKID");
    assert_string_equal(e.secret_access_key, "SECRET");
    assert_null(e.session_token);
    assert_string_equal(e.region, "eu-central-1");
    assert_string_equal(e.endpoint, "http://127.0.0.1:1");
    rt_lambda_env_free(&e);
    setenv("AWS_REGION", "us-west-1", 1);
    unsetenv("AWS_ACCESS_KEY_ID");
    rt_lambda_env_read(&e);
    assert_string_equal(e.region, "us-west-1"); /* AWS_REGION first */
    assert_null(e.access_key_id);
    rt_lambda_env_free(&e);
    assert_null(e.secret_access_key);
    rt_lambda_env_free(NULL);
}

/* ---- answers ------------------------------------------------------------------------------------
 */

static void test_classify(void **state) {
    (void)state;
    assert_int_equal(rt_lambda_classify(200, NULL), RT_LAMBDA_DONE);
    assert_int_equal(rt_lambda_classify(202, ""), RT_LAMBDA_DONE);
    assert_int_equal(rt_lambda_classify(200, "Unhandled"), RT_LAMBDA_FUNCTION_ERROR);
    assert_int_equal(rt_lambda_classify(200, "Handled"), RT_LAMBDA_FUNCTION_ERROR);
    assert_int_equal(rt_lambda_classify(429, NULL), RT_LAMBDA_RETRY);
    assert_int_equal(rt_lambda_classify(500, NULL), RT_LAMBDA_RETRY);
    assert_int_equal(rt_lambda_classify(503, NULL), RT_LAMBDA_RETRY);
    assert_int_equal(rt_lambda_classify(403, NULL), RT_LAMBDA_REJECTED);
    assert_int_equal(rt_lambda_classify(404, NULL), RT_LAMBDA_REJECTED);
    assert_int_equal(rt_lambda_classify(413, NULL), RT_LAMBDA_REJECTED);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reference_request),
        cmocka_unit_test(test_signature_depends_on_inputs),
        cmocka_unit_test(test_full_arn_gives_region),
        cmocka_unit_test(test_function_name_forms),
        cmocka_unit_test(test_region_sources),
        cmocka_unit_test(test_qualifier),
        cmocka_unit_test(test_invocation_type),
        cmocka_unit_test(test_payload),
        cmocka_unit_test(test_endpoint),
        cmocka_unit_test(test_credentials),
        cmocka_unit_test(test_env_read),
        cmocka_unit_test(test_classify),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
