/*
 * test_sigv4.c — the SigV4 signer (src/runtime/sigv4.c) against AWS's
 * published Signature Version 4 test suite (tests/data/sigv4, its origin and
 * licence in tests/data/sigv4/README.md).
 *
 * Each vector is a directory with <name>.req (the request), .creq (its
 * canonical request), .sts (the string to sign), .authz (the Authorization
 * header) and .sreq (the signed request). The test parses the .req into an
 * rt_sigv4_request, signs it with the suite's credentials, region, service
 * and time, and compares the three steps with the files byte for byte, and
 * the Authorization line of the .sreq with the result. A session token
 * found in the .req (post-sts-header-before) is passed as the session token.
 *
 * Then the parts the suite does not reach: the double encoding of an
 * escaped path (a Lambda ARN), S3's single encoding, query re-encoding, the
 * signing key of AWS's documented key derivation example, bad inputs, and
 * every allocation failing in turn.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/sigv4.h"

/* The suite's fixed inputs. */
#define SUITE_KEY_ID  "AKIDEXAMPLE"
#define SUITE_SECRET  "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define SUITE_REGION  "us-east-1"
#define SUITE_SERVICE "service"
#define SUITE_TIME_MS 1440938160000LL /* 2015-08-30T12:36:00Z */

/* Every vector of the suite, by path under tests/data/sigv4. Left out:
 * post-sts-token/post-sts-header-after, whose token is added after signing
 * — this signer always signs the token it is given. */
static const char *const VECTORS[] = {
    "get-header-key-duplicate",
    "get-header-value-multiline",
    "get-header-value-order",
    "get-header-value-trim",
    "get-unreserved",
    "get-utf8",
    "get-vanilla",
    "get-vanilla-empty-query-key",
    "get-vanilla-query",
    "get-vanilla-query-order-key",
    "get-vanilla-query-order-key-case",
    "get-vanilla-query-order-value",
    "get-vanilla-query-unreserved",
    "get-vanilla-utf8-query",
    "normalize-path/get-relative",
    "normalize-path/get-relative-relative",
    "normalize-path/get-slash",
    "normalize-path/get-slash-dot-slash",
    "normalize-path/get-slash-pointless-dot",
    "normalize-path/get-slashes",
    "normalize-path/get-space",
    "post-header-key-case",
    "post-header-key-sort",
    "post-header-value-case",
    "post-sts-token/post-sts-header-before",
    "post-vanilla",
    "post-vanilla-empty-query-value",
    "post-vanilla-query",
    "post-x-www-form-urlencoded",
    "post-x-www-form-urlencoded-parameters",
};

/* ---- helpers ---------------------------------------------------------------- */

/* Reads tests/data/sigv4/<vector>/<basename>.<ext>; NULL when absent. */
static char *read_vector_file(const char *vector, const char *ext) {
    const char *dir = getenv("BATON_TEST_DATA");
    assert_non_null(dir);
    const char *base = strrchr(vector, '/');
    base = base ? base + 1 : vector;
    char path[1024];
    snprintf(path, sizeof path, "%s/sigv4/%s/%s.%s", dir, vector, base, ext);
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = 0;
    fclose(f);
    return buf;
}

static char *must_read(const char *vector, const char *ext) {
    char *s = read_vector_file(vector, ext);
    if (!s)
        fail_msg("vector %s has no .%s file", vector, ext);
    return s;
}

#define MAX_HEADERS 16

/* A parsed .req: the request line, the headers (a line that starts with
 * white space continues the previous header's value, kept as a line break
 * for the signer to fold), a blank line, the body. Points into text. */
typedef struct parsed_req {
    char *text;
    char *method, *path, *query, *body;
    rt_sigv4_header headers[MAX_HEADERS];
    char *values[MAX_HEADERS]; /* malloc'd, for continuation lines */
    size_t n_headers;
    const char *session_token;
} parsed_req;

static void parse_req(parsed_req *r, char *text) {
    memset(r, 0, sizeof *r);
    r->text = text;
    char *eol = strchr(text, '\n');
    assert_non_null(eol);
    *eol = 0;
    /* "METHOD target HTTP/1.1"; the target may hold spaces (get-space). */
    char *sp = strchr(text, ' ');
    char *proto = strstr(text, " HTTP/");
    assert_non_null(sp);
    assert_non_null(proto);
    *sp = 0;
    *proto = 0;
    r->method = text;
    r->path = sp + 1;
    char *q = strchr(r->path, '?');
    if (q) {
        *q = 0;
        r->query = q + 1;
    }
    char *line = eol + 1;
    while (line && *line) {
        char *next = strchr(line, '\n');
        if (next)
            *next++ = 0;
        if (!*line) { /* blank line: the body follows */
            r->body = next;
            break;
        }
        if (*line == ' ' || *line == '\t') {
            assert_true(r->n_headers > 0);
            char *prev = r->values[r->n_headers - 1];
            size_t pl = strlen(prev), ll = strlen(line);
            prev = realloc(prev, pl + ll + 2);
            assert_non_null(prev);
            prev[pl] = '\n';
            memcpy(prev + pl + 1, line, ll + 1);
            r->values[r->n_headers - 1] = prev;
            r->headers[r->n_headers - 1].value = prev;
        } else {
            char *colon = strchr(line, ':');
            assert_non_null(colon);
            *colon = 0;
            assert_true(r->n_headers < MAX_HEADERS);
            r->values[r->n_headers] = strdup(colon + 1);
            r->headers[r->n_headers].name = line;
            r->headers[r->n_headers].value = r->values[r->n_headers];
            if (!strcasecmp(line, "X-Amz-Security-Token"))
                r->session_token = r->values[r->n_headers];
            r->n_headers++;
        }
        line = next;
    }
}

static void parsed_req_free(parsed_req *r) {
    for (size_t i = 0; i < r->n_headers; i++)
        free(r->values[i]);
    free(r->text);
}

static rt_sigv4_params suite_params(const char *token) {
    rt_sigv4_params p = {SUITE_KEY_ID, SUITE_SECRET,  token,
                         SUITE_REGION, SUITE_SERVICE, SUITE_TIME_MS};
    return p;
}

static rt_sigv4_request request_of(const parsed_req *r) {
    rt_sigv4_request q = {r->method,
                          r->path,
                          r->query,
                          r->headers,
                          r->n_headers,
                          r->body,
                          r->body ? strlen(r->body) : 0};
    return q;
}

/* ---- the suite ------------------------------------------------------------------ */

static void test_suite_vectors(void **state) {
    (void)state;
    for (size_t i = 0; i < BT_ARRAY_LEN(VECTORS); i++) {
        const char *v = VECTORS[i];
        parsed_req r;
        parse_req(&r, must_read(v, "req"));
        char *creq = must_read(v, "creq"), *sts = must_read(v, "sts");
        char *authz = must_read(v, "authz"), *sreq = must_read(v, "sreq");

        rt_sigv4_request req = request_of(&r);
        rt_sigv4_params p = suite_params(r.session_token);
        rt_sigv4_result out;
        bt_error err = {0};
        int rc = rt_sigv4_sign(&req, &p, &out, &err);
        if (rc != BT_OK)
            fail_msg("%s: sign failed: %s", v, err.message);
        if (strcmp(out.canonical_request, creq))
            fail_msg("%s: canonical request\n--- got ---\n%s\n--- want ---\n%s", v,
                     out.canonical_request, creq);
        if (strcmp(out.string_to_sign, sts))
            fail_msg("%s: string to sign\n--- got ---\n%s\n--- want ---\n%s", v, out.string_to_sign,
                     sts);
        if (strcmp(out.authorization, authz))
            fail_msg("%s: authorization\n--- got ---\n%s\n--- want ---\n%s", v, out.authorization,
                     authz);
        /* The signed request carries the same Authorization line. */
        char line[1024];
        snprintf(line, sizeof line, "\nAuthorization: %s", out.authorization);
        if (!strstr(sreq, line))
            fail_msg("%s: .sreq has no line '%s'", v, line + 1);
        assert_string_equal(out.amz_date, "20150830T123600Z");
        /* The signature is the tail of the header. */
        const char *sig = strstr(out.authorization, "Signature=");
        assert_non_null(sig);
        assert_string_equal(sig + 10, out.signature);

        rt_sigv4_result_free(&out);
        parsed_req_free(&r);
        free(creq);
        free(sts);
        free(authz);
        free(sreq);
    }
}

/* The session token vector: x-amz-security-token is signed, and the signer
 * adds it (and x-amz-date) itself when the caller leaves them out. */
static void test_session_token_added_by_signer(void **state) {
    (void)state;
    const char *v = "post-sts-token/post-sts-header-before";
    parsed_req r;
    parse_req(&r, must_read(v, "req"));
    assert_non_null(r.session_token);
    char *authz = must_read(v, "authz");
    rt_sigv4_header host[] = {{"Host", "example.amazonaws.com"}};
    rt_sigv4_request req = {"POST", "/", NULL, host, 1, NULL, 0};
    rt_sigv4_params p = suite_params(r.session_token);
    rt_sigv4_result out;
    assert_int_equal(rt_sigv4_sign(&req, &p, &out, NULL), BT_OK);
    assert_string_equal(out.authorization, authz);
    assert_string_equal(out.signed_headers, "host;x-amz-date;x-amz-security-token");
    rt_sigv4_result_free(&out);

    /* Without the token the same request signs as post-vanilla. */
    char *vanilla = must_read("post-vanilla", "authz");
    p.session_token = "";
    assert_int_equal(rt_sigv4_sign(&req, &p, &out, NULL), BT_OK);
    assert_string_equal(out.authorization, vanilla);
    rt_sigv4_result_free(&out);
    free(vanilla);
    free(authz);
    parsed_req_free(&r);
}

/* ---- beyond the suite ------------------------------------------------------------- */

/* AWS's documented example of deriving a signing key (secret
 * wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY, 20120215, us-east-1, iam). */
static void test_signing_key_example(void **state) {
    (void)state;
    unsigned char key[32];
    assert_int_equal(rt_sigv4_signing_key(SUITE_SECRET, "20120215", "us-east-1", "iam", key), 0);
    char hex[65];
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", key[i]);
    assert_string_equal(hex, "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d");
}

static char *canonical_request_of(const char *service, const char *path, const char *query) {
    rt_sigv4_header host[] = {{"Host", "lambda.us-east-1.amazonaws.com"}};
    rt_sigv4_request req = {"POST", path, query, host, 1, "{}", 2};
    rt_sigv4_params p = suite_params(NULL);
    p.service = service;
    rt_sigv4_result out;
    assert_int_equal(rt_sigv4_sign(&req, &p, &out, NULL), BT_OK);
    char *creq = strdup(out.canonical_request);
    rt_sigv4_result_free(&out);
    return creq;
}

/* The second line of a canonical request. */
static void assert_canonical_uri(const char *service, const char *path, const char *want) {
    char *creq = canonical_request_of(service, path, NULL);
    char *nl = strchr(creq, '\n');
    char *end = strchr(nl + 1, '\n');
    *end = 0;
    assert_string_equal(nl + 1, want);
    free(creq);
}

static void test_double_encoding(void **state) {
    (void)state;
    /* A Lambda ARN is sent with ':' escaped; non-S3 services encode again. */
    assert_canonical_uri("lambda",
                         "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012"
                         "%3Afunction%3Ahello/invocations",
                         "/2015-03-31/functions/arn%253Aaws%253Alambda%253Aus-east-1%253A"
                         "123456789012%253Afunction%253Ahello/invocations");
    assert_canonical_uri("lambda", "/a b/./c/../d/", "/a%20b/d/");
    assert_canonical_uri("lambda", "", "/");
    /* S3: neither normalised nor encoded again. */
    assert_canonical_uri("s3", "/my-object//example//photo.user",
                         "/my-object//example//photo.user");
    assert_canonical_uri("s3", "/a%20b/c d", "/a%20b/c%20d");
}

static void test_query_reencoded_and_sorted(void **state) {
    (void)state;
    char *creq = canonical_request_of("lambda", "/", "b=2&a=%7e%20x&A=&c&&a=1+1");
    char *q = strchr(strchr(creq, '\n') + 1, '\n') + 1;
    *strchr(q, '\n') = 0;
    assert_string_equal(q, "A=&a=1%2B1&a=~%20x&b=2&c=");
    free(creq);
}

static void test_bad_inputs(void **state) {
    (void)state;
    rt_sigv4_header no_host[] = {{"Content-Type", "application/json"}};
    rt_sigv4_request req = {"POST", "/", NULL, no_host, 1, NULL, 0};
    rt_sigv4_params p = suite_params(NULL);
    rt_sigv4_result out;
    bt_error err = {0};
    assert_int_equal(rt_sigv4_sign(&req, &p, &out, &err), BT_EINVAL);
    assert_non_null(strstr(err.message, "Host"));
    assert_null(out.authorization);

    rt_sigv4_header host[] = {{"Host", "example.amazonaws.com"}};
    req.headers = host;
    p.secret_access_key = "";
    assert_int_equal(rt_sigv4_sign(&req, &p, &out, &err), BT_EINVAL);
    assert_non_null(strstr(err.message, "credentials"));
    p = suite_params("token\r\nX-Evil: 1");
    assert_int_equal(rt_sigv4_sign(&req, &p, &out, &err), BT_EINVAL);
    p = suite_params(NULL);
    p.now_ms = -1;
    assert_int_equal(rt_sigv4_sign(&req, &p, &out, &err), BT_EINVAL);
    rt_sigv4_header bad_name[] = {{"Host", "x"}, {"Bad Name", "v"}};
    req.headers = bad_name;
    req.n_headers = 2;
    p = suite_params(NULL);
    assert_int_equal(rt_sigv4_sign(&req, &p, &out, &err), BT_EINVAL);
    rt_sigv4_result_free(NULL);
}

/* Every allocation failing in turn: BT_ENOMEM and nothing leaked (ASan),
 * or the right signature. */
static void test_allocation_failures(void **state) {
    (void)state;
    const char *v = "get-header-key-duplicate";
    parsed_req r;
    parse_req(&r, must_read(v, "req"));
    char *authz = must_read(v, "authz");
    rt_sigv4_request req = request_of(&r);
    rt_sigv4_params p = suite_params("a-token");
    rt_sigv4_result out;
    bt_alloc_fail_after(-1);
    assert_int_equal(rt_sigv4_sign(&req, &p, &out, NULL), BT_OK);
    rt_sigv4_result_free(&out);
    long total = bt_alloc_fail_after(-1);
    assert_true(total > 0);
    int failures = 0;
    for (long n = 0; n <= total; n++) {
        bt_alloc_fail_after(n);
        int rc = rt_sigv4_sign(&req, &p, &out, NULL);
        bt_alloc_fail_after(-1);
        if (rc == BT_ENOMEM) {
            failures++;
            assert_null(out.canonical_request);
        } else {
            assert_int_equal(rc, BT_OK);
            rt_sigv4_result_free(&out);
        }
    }
    assert_true(failures > 0);
    /* And without a token, the suite's answer still. */
    p.session_token = NULL;
    assert_int_equal(rt_sigv4_sign(&req, &p, &out, NULL), BT_OK);
    assert_string_equal(out.authorization, authz);
    rt_sigv4_result_free(&out);
    free(authz);
    parsed_req_free(&r);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_suite_vectors),
        cmocka_unit_test(test_session_token_added_by_signer),
        cmocka_unit_test(test_signing_key_example),
        cmocka_unit_test(test_double_encoding),
        cmocka_unit_test(test_query_reencoded_and_sorted),
        cmocka_unit_test(test_bad_inputs),
        cmocka_unit_test(test_allocation_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
