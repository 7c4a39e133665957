/*
 * lambda.c — the Invoke request of lambda.h.
 *
 * Building a request is a straight line: parse the job's variables, pick
 * the function, region, endpoint, qualifier, invocation type and payload
 * (each with its fallback, in the order lambda.h lists), compose the path
 * and query exactly as they go on the wire, sign the very header values
 * that will be sent (sigv4.h), and hand back "Name: value" lines. The
 * Host header is explicit so that what curl sends is what was signed.
 * Every input problem is a BT_EINVAL whose message ends up in an incident,
 * so the messages name the input and what would fix it.
 */
#include "runtime/lambda.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "feel/feel.h"
#include "runtime/sigv4.h"

#define INVOKE_PATH "/2015-03-31/functions/"

/* ---- environment ----------------------------------------------------------------- */

static char *env_dup(const char *name) {
    const char *v = getenv(name);
    return v && *v ? bt_xstrdup(v) : NULL;
}

void rt_lambda_env_read(rt_lambda_env *out) {
    memset(out, 0, sizeof *out);
    out->access_key_id = env_dup("AWS_ACCESS_KEY_ID");
    out->secret_access_key = env_dup("AWS_SECRET_ACCESS_KEY");
    out->session_token = env_dup("AWS_SESSION_TOKEN");
    out->region = env_dup("AWS_REGION");
    if (!out->region)
        out->region = env_dup("AWS_DEFAULT_REGION");
    out->endpoint = env_dup("BATON_LAMBDA_ENDPOINT");
}

void rt_lambda_env_free(rt_lambda_env *e) {
    if (!e)
        return;
    if (e->secret_access_key)
        memset(e->secret_access_key, 0, strlen(e->secret_access_key));
    bt_free(e->access_key_id);
    bt_free(e->secret_access_key);
    bt_free(e->session_token);
    bt_free(e->region);
    bt_free(e->endpoint);
    memset(e, 0, sizeof *e);
}

/* ---- function names ---------------------------------------------------------------- */

static bool all_of(const char *s, size_t n, const char *extra, bool digits_only) {
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool ok = (c >= '0' && c <= '9') ||
                  (!digits_only && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                                    (extra && strchr(extra, c))));
        if (!ok)
            return false;
    }
    return true;
}

static bool is_region(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        if ((s[i] < 'a' || s[i] > 'z') && (s[i] < '0' || s[i] > '9') && s[i] != '-')
            return false;
    return n > 0 && n < 64;
}

static bool part_is(const char *s, size_t n, const char *word) {
    return strlen(word) == n && !memcmp(s, word, n);
}

int rt_lambda_function_parse(const char *fn, char **region, bt_error *err) {
    if (region)
        *region = NULL;
    if (!fn || !*fn)
        return bt_error_set(err, BT_EINVAL, "the input 'functionName' is required");
    enum { MAX_PARTS = 9 };
    const char *part[MAX_PARTS];
    size_t len[MAX_PARTS];
    size_t n = 0;
    for (const char *p = fn;; n++) {
        if (n == MAX_PARTS)
            goto bad;
        const char *colon = strchr(p, ':');
        part[n] = p;
        len[n] = colon ? (size_t)(colon - p) : strlen(p);
        if (!colon) {
            n++;
            break;
        }
        p = colon + 1;
    }
    /* Index of the name; the qualifier, when present, follows it. */
    size_t name_at;
    switch (n) {
    case 1:
    case 2: name_at = 0; break;
    case 3:
    case 4:
        if (!all_of(part[0], len[0], NULL, true) || !part_is(part[1], len[1], "function"))
            goto bad;
        name_at = 2;
        break;
    case 7:
    case 8:
        if (!part_is(part[0], len[0], "arn") || len[1] < 3 || memcmp(part[1], "aws", 3) ||
            !all_of(part[1], len[1], "-", false) || !part_is(part[2], len[2], "lambda") ||
            !is_region(part[3], len[3]) || !all_of(part[4], len[4], NULL, true) ||
            !part_is(part[5], len[5], "function"))
            goto bad;
        name_at = 6;
        break;
    default: goto bad;
    }
    if (len[name_at] > 140 || !all_of(part[name_at], len[name_at], "-_", false))
        goto bad;
    if (name_at + 1 < n && !part_is(part[name_at + 1], len[name_at + 1], "$LATEST") &&
        !all_of(part[name_at + 1], len[name_at + 1], "-_", false))
        goto bad;
    if (region && name_at == 6) {
        *region = bt_strndup(part[3], len[3]);
        if (!*region)
            abort();
    }
    return BT_OK;
bad:
    return bt_error_set(err, BT_EINVAL,
                        "the input 'functionName' (\"%.200s\") is not a Lambda function name, "
                        "name:qualifier, partial ARN (123456789012:function:name) or ARN "
                        "(arn:aws:lambda:region:123456789012:function:name)",
                        fn);
}

/* ---- inputs ------------------------------------------------------------------------------ */

static const feel_value *input(const feel_value *vars, const char *name) {
    const feel_value *v = feel_context_get(vars, name, strlen(name));
    return v && feel_value_type(v) != FEEL_NULL ? v : NULL;
}

/* A string input, or a number's text (a qualifier may be a version
 * number); NULL when absent; BT_EINVAL for another type. */
static int text_input(const feel_value *vars, const char *name, char **out, bt_error *err) {
    *out = NULL;
    const feel_value *v = input(vars, name);
    if (!v)
        return BT_OK;
    size_t n;
    const char *s = feel_string_ptr(v, &n);
    if (s) {
        if (memchr(s, '\0', n))
            return bt_error_set(err, BT_EINVAL, "the input '%s' holds a NUL character", name);
        *out = bt_strndup(s, n);
    } else if (feel_value_type(v) == FEEL_NUMBER) {
        bt_buf b = BT_BUF_INIT;
        feel_value_to_json(v, &b);
        *out = bt_buf_take(&b);
    } else {
        return bt_error_set(err, BT_EINVAL, "the input '%s' must be a string, not %s", name,
                            feel_type_name(feel_value_type(v)));
    }
    if (!*out)
        abort();
    return BT_OK;
}

/* Splits an endpoint "http[s]://authority[/prefix]" into its parts. */
static int parse_endpoint(const char *url, char **base, char **authority, char **prefix,
                          bt_error *err) {
    size_t scheme = !strncasecmp(url, "https://", 8) ? 8 : !strncasecmp(url, "http://", 7) ? 7 : 0;
    if (!scheme)
        return bt_error_set(err, BT_EINVAL,
                            "the Lambda endpoint \"%.200s\" must start with http:// or https://",
                            url);
    const char *a = url + scheme;
    size_t al = strcspn(a, "/?#");
    const char *rest = a + al;
    if (al == 0 || memchr(a, '@', al) || strpbrk(url, " \t\r\n") || strpbrk(rest, "?#"))
        return bt_error_set(err, BT_EINVAL,
                            "the Lambda endpoint \"%.200s\" must be scheme://host[:port][/path], "
                            "with no credentials, query or fragment",
                            url);
    size_t rl = strlen(rest);
    while (rl > 0 && rest[rl - 1] == '/')
        rl--;
    *base = bt_strndup(url, scheme + al);
    *authority = bt_strndup(a, al);
    *prefix = bt_strndup(rest, rl);
    if (!*base || !*authority || !*prefix)
        abort();
    return BT_OK;
}

static void add_header(rt_lambda_request *r, const char *name, const char *value) {
    r->headers = bt_xrealloc(r->headers, (r->n_headers + 1) * sizeof *r->headers);
    bt_buf b = BT_BUF_INIT;
    bt_buf_printf(&b, "%s: %s", name, value);
    r->headers[r->n_headers++] = bt_buf_take(&b);
    if (!r->headers[r->n_headers - 1])
        abort();
}

void rt_lambda_request_free(rt_lambda_request *r) {
    if (!r)
        return;
    bt_free(r->url);
    bt_free(r->body);
    for (size_t i = 0; i < r->n_headers; i++)
        bt_free(r->headers[i]);
    bt_free(r->headers);
    bt_free(r->function_name);
    bt_free(r->region);
    bt_free(r->canonical_request);
    memset(r, 0, sizeof *r);
}

/* ---- the request ------------------------------------------------------------------------------
 */

int rt_lambda_request_build(const rt_lambda_env *env, const char *variables_json, uint64_t job_key,
                            int64_t now_ms, rt_lambda_request *out, bt_error *err) {
    memset(out, 0, sizeof *out);
    feel_value *vars = NULL;
    if (!variables_json ||
        feel_value_from_json(variables_json, strlen(variables_json), &vars, NULL) != BT_OK ||
        feel_value_type(vars) != FEEL_CONTEXT) {
        feel_value_unref(vars);
        return bt_error_set(err, BT_EINVAL, "the job's variables are not a JSON object");
    }
    char *fn = NULL, *region = NULL, *arn_region = NULL, *qualifier = NULL, *type = NULL;
    char *endpoint = NULL, *base = NULL, *authority = NULL, *prefix = NULL;
    bt_buf url = BT_BUF_INIT, path = BT_BUF_INIT, query = BT_BUF_INIT;
    rt_sigv4_result sig = {0};
    int rc = text_input(vars, "functionName", &fn, err);
    if (rc == BT_OK)
        rc = rt_lambda_function_parse(fn, &arn_region, err);
    if (rc == BT_OK)
        rc = text_input(vars, "region", &region, err);
    if (rc == BT_OK && region && arn_region && strcmp(region, arn_region))
        rc = bt_error_set(err, BT_EINVAL,
                          "the input 'region' (%.64s) contradicts the function ARN's region (%s)",
                          region, arn_region);
    if (rc == BT_OK && !region)
        region = bt_xstrdup(arn_region ? arn_region : env && env->region ? env->region : "");
    if (rc == BT_OK && !*region)
        rc = bt_error_set(err, BT_EINVAL,
                          "no AWS region for Lambda function '%.200s': set the input 'region', "
                          "use a full ARN, or set AWS_REGION for baton serve",
                          fn);
    if (rc == BT_OK && !is_region(region, strlen(region)))
        rc = bt_error_set(err, BT_EINVAL, "the region \"%.64s\" is not an AWS region name", region);
    if (rc == BT_OK)
        rc = text_input(vars, "qualifier", &qualifier, err);
    if (rc == BT_OK && qualifier && !*qualifier)
        rc = bt_error_set(err, BT_EINVAL, "the input 'qualifier' is empty");
    if (rc == BT_OK)
        rc = text_input(vars, "invocationType", &type, err);
    if (rc == BT_OK && type && strcmp(type, "RequestResponse") && strcmp(type, "Event"))
        rc = bt_error_set(err, BT_EINVAL,
                          "the input 'invocationType' must be \"RequestResponse\" or \"Event\", "
                          "not \"%.64s\"",
                          type);
    if (rc == BT_OK)
        rc = text_input(vars, "endpoint", &endpoint, err);
    if (rc == BT_OK && !endpoint && env && env->endpoint)
        endpoint = bt_xstrdup(env->endpoint);
    if (rc == BT_OK && !endpoint) {
        bt_buf e = BT_BUF_INIT;
        bt_buf_printf(&e, "https://lambda.%s.amazonaws.com%s", region,
                      strncmp(region, "cn-", 3) ? "" : ".cn");
        endpoint = bt_buf_take(&e);
    }
    if (rc == BT_OK)
        rc = parse_endpoint(endpoint, &base, &authority, &prefix, err);
    if (rc == BT_OK && (!env || !env->access_key_id || !env->secret_access_key))
        rc = bt_error_set(err, BT_EINVAL,
                          "no AWS credentials: baton serve found no AWS_ACCESS_KEY_ID and "
                          "AWS_SECRET_ACCESS_KEY in its environment when it started");
    if (rc != BT_OK)
        goto done;

    /* The payload: the input, else every variable of the job. */
    const feel_value *payload = input(vars, "payload");
    if (payload) {
        bt_buf b = BT_BUF_INIT;
        feel_value_to_json(payload, &b);
        out->body = bt_buf_take(&b);
    } else {
        out->body = bt_xstrdup(variables_json);
    }
    if (!out->body)
        abort();
    out->body_len = strlen(out->body);

    bt_buf_puts(&path, prefix);
    bt_buf_puts(&path, INVOKE_PATH);
    rt_sigv4_uri_encode(&path, fn, strlen(fn), false);
    bt_buf_puts(&path, "/invocations");
    if (qualifier) {
        bt_buf_puts(&query, "Qualifier=");
        rt_sigv4_uri_encode(&query, qualifier, strlen(qualifier), false);
    }
    bt_buf_printf(&url, "%s%s%s%s", base, path.data, query.len ? "?" : "",
                  query.len ? query.data : "");
    if (url.failed || path.failed || query.failed) {
        rc = bt_error_set(err, BT_ENOMEM, "out of memory");
        goto done;
    }

    const char *invocation_type = type ? type : "RequestResponse";
    char idem[32];
    snprintf(idem, sizeof idem, "%llu", (unsigned long long)job_key);
    rt_sigv4_header headers[] = {
        {"Host", authority},
        {"Content-Type", "application/json"},
        {"X-Amz-Invocation-Type", invocation_type},
        {"Idempotency-Key", idem},
    };
    rt_sigv4_request req = {
        "POST",    path.data,    query.len ? query.data : NULL, headers, BT_ARRAY_LEN(headers),
        out->body, out->body_len};
    rt_sigv4_params params = {
        env->access_key_id, env->secret_access_key, env->session_token, region, "lambda", now_ms};
    rc = rt_sigv4_sign(&req, &params, &sig, err);
    if (rc != BT_OK)
        goto done;
    for (size_t i = 0; i < BT_ARRAY_LEN(headers); i++)
        add_header(out, headers[i].name, headers[i].value);
    add_header(out, "X-Amz-Date", sig.amz_date);
    if (env->session_token)
        add_header(out, "X-Amz-Security-Token", env->session_token);
    add_header(out, "Authorization", sig.authorization);
    out->url = bt_buf_take(&url);
    out->function_name = fn;
    out->region = region;
    out->event = type && !strcmp(type, "Event");
    out->canonical_request = sig.canonical_request;
    sig.canonical_request = NULL;
    fn = region = NULL;

done:
    if (rc != BT_OK)
        rt_lambda_request_free(out);
    rt_sigv4_result_free(&sig);
    bt_buf_free(&url);
    bt_buf_free(&path);
    bt_buf_free(&query);
    bt_free(fn);
    bt_free(region);
    bt_free(arn_region);
    bt_free(qualifier);
    bt_free(type);
    bt_free(endpoint);
    bt_free(base);
    bt_free(authority);
    bt_free(prefix);
    feel_value_unref(vars);
    return rc;
}

rt_lambda_outcome rt_lambda_classify(long status, const char *function_error) {
    if (status >= 200 && status < 300)
        return function_error && *function_error ? RT_LAMBDA_FUNCTION_ERROR : RT_LAMBDA_DONE;
    if (status == 429 || status >= 500 || status < 100)
        return RT_LAMBDA_RETRY;
    return RT_LAMBDA_REJECTED;
}
