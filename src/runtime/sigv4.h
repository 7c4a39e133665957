/*
 * sigv4.h — AWS Signature Version 4 for requests baton sends to AWS (the
 * Lambda invoker, lambda.h), with OpenSSL's SHA-256 and HMAC.
 *
 * Signing a request is four steps, each visible in rt_sigv4_result so a
 * test can compare them one by one with AWS's published test suite:
 *
 *   1. the canonical request
 *        METHOD \n
 *        canonical URI \n         the path normalised (no "." or "..", no
 *                                 empty segments) and URI-encoded — again:
 *                                 the path arrives as sent, so an escape
 *                                 "%3A" becomes "%253A" (AWS's double
 *                                 encoding for every service but S3, whose
 *                                 path is neither normalised nor re-encoded)
 *        canonical query \n       name=value pairs decoded, re-encoded
 *                                 (RFC 3986 unreserved characters kept,
 *                                 everything else %XX), sorted by name, then
 *                                 value; "name" alone is "name="
 *        canonical headers \n     "name:value\n" per header: names lower-
 *                                 cased and sorted, values trimmed with
 *                                 runs of spaces folded into one, repeated
 *                                 names (and folded lines) joined with ","
 *                                 in the order given; always host and
 *                                 x-amz-date, and x-amz-security-token when
 *                                 a session token is given
 *        signed headers \n        the names, ";"-separated
 *        hex SHA-256 of the payload
 *   2. the string to sign
 *        AWS4-HMAC-SHA256 \n amz date \n scope \n hex SHA-256 of step 1,
 *        scope = yyyymmdd/region/service/aws4_request
 *   3. the signing key: HMAC-SHA256 chained over "AWS4" + secret, the date,
 *      the region, the service and "aws4_request"
 *   4. the signature, hex HMAC-SHA256(key, string to sign), and the
 *      Authorization header:
 *        AWS4-HMAC-SHA256 Credential=<key id>/<scope>, SignedHeaders=<...>,
 *        Signature=<hex>
 *
 * The time is an argument: nothing here reads a clock, so a signature is a
 * pure function of its inputs (tests fix the time of the test suite,
 * 2015-08-30T12:36:00Z).
 *
 * Thread-safety: none of these functions keeps state; call them from any
 * thread. Memory comes from bt_malloc; on allocation failure they return
 * BT_ENOMEM and leave nothing allocated.
 */
#ifndef BATON_RT_SIGV4_H
#define BATON_RT_SIGV4_H

#include "base/base.h"

/* One request header, as it will be sent. Borrowed strings. */
typedef struct rt_sigv4_header {
    const char *name;
    const char *value;
} rt_sigv4_header;

/* The request to sign. Every string is borrowed and NUL-terminated. */
typedef struct rt_sigv4_request {
    const char *method; /* "GET", "POST", ... */
    const char *path;   /* as sent, percent-encoded as on the wire; NULL or "" is "/" */
    const char *query;  /* what follows '?', without it; NULL or "" for none */
    /* The headers to sign, Host among them (BT_EINVAL otherwise); names in
     * any case. X-Amz-Date and X-Amz-Security-Token may be left out: the
     * signer adds them (a given one is replaced by the signer's value). */
    const rt_sigv4_header *headers;
    size_t n_headers;
    const void *payload; /* NULL allowed when payload_len is 0 */
    size_t payload_len;
} rt_sigv4_request;

/* Who signs, for which region and service, when. Borrowed strings. */
typedef struct rt_sigv4_params {
    const char *access_key_id;
    const char *secret_access_key;
    const char *session_token; /* NULL or "": long-term credentials */
    const char *region;        /* "us-east-1" */
    const char *service;       /* "lambda"; "s3" turns off path normalisation and re-encoding */
    int64_t now_ms;            /* the signing time, ms since the epoch */
} rt_sigv4_params;

/* A signature and the steps that led to it. The strings are owned by the
 * result: rt_sigv4_result_free. */
typedef struct rt_sigv4_result {
    char amz_date[17];       /* "20150830T123600Z": send it as X-Amz-Date */
    char signature[65];      /* lower-case hex */
    char *canonical_request; /* step 1 */
    char *string_to_sign;    /* step 2 */
    char *signed_headers;    /* "host;x-amz-date" */
    char *authorization;     /* the Authorization header's value */
} rt_sigv4_result;

/* Signs req. Fills *out (zeroed first) and returns 0; BT_EINVAL (err set)
 * when an input is missing or malformed (no Host header, no credentials, a
 * header name that is not a token, a session token with a line break, a time before 1970 or after
 * 9999), and BT_ENOMEM. On failure *out holds nothing to free. err may be NULL. A header value may
 * hold line breaks (an obsolete folded header): its lines are canonicalised one by one and joined
 * with ','. The caller must not send such a value as it is. */
int rt_sigv4_sign(const rt_sigv4_request *req, const rt_sigv4_params *p, rt_sigv4_result *out,
                  bt_error *err);

/* Frees the strings of a result and zeroes it. NULL allowed. */
void rt_sigv4_result_free(rt_sigv4_result *r);

/* Step 3 alone: the signing key for a date ("20150830"), region and
 * service, into out. Returns 0, or BT_EIO when OpenSSL fails. */
int rt_sigv4_signing_key(const char *secret_access_key, const char *date, const char *region,
                         const char *service, unsigned char out[32]);

/* Lower-case hex SHA-256 of data (NULL allowed when len is 0) into out. */
void rt_sigv4_sha256_hex(const void *data, size_t len, char out[65]);

/* Appends s URI-encoded to b: RFC 3986 unreserved characters (A-Z a-z 0-9
 * - . _ ~) as they are, '/' too when keep_slash, every other byte as %XX
 * (upper-case hex). Returns 0 or BT_ENOMEM. */
int rt_sigv4_uri_encode(bt_buf *b, const char *s, size_t len, bool keep_slash);

#endif
