/*
 * sigv4.c — AWS Signature Version 4 (sigv4.h).
 *
 * The canonical request is built in one bt_buf, step by step in the order
 * of sigv4.h; the headers are first gathered into an array of (lower-case
 * name, canonical value, position) entries, the ones the signer owns
 * (x-amz-date, x-amz-security-token) added, and sorted by name, then by
 * position, so repeated names keep the order they were given in — the
 * order their values are joined. Hashing and HMAC are OpenSSL's one-shot
 * EVP_Digest and HMAC with SHA-256.
 */
#include "runtime/sigv4.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define ALGORITHM "AWS4-HMAC-SHA256"

static const char HEX_LOWER[] = "0123456789abcdef";
static const char HEX_UPPER[] = "0123456789ABCDEF";

/* ---- primitives -------------------------------------------------------------- */

static void hex_of(const unsigned char *d, size_t n, char *out) {
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = HEX_LOWER[d[i] >> 4];
        out[2 * i + 1] = HEX_LOWER[d[i] & 15];
    }
    out[2 * n] = '\0';
}

void rt_sigv4_sha256_hex(const void *data, size_t len, char out[65]) {
    unsigned char md[32];
    unsigned int n = 0;
    static const char empty[1] = "";
    if (EVP_Digest(data ? data : empty, len, md, &n, EVP_sha256(), NULL) != 1 || n != 32)
        abort(); /* SHA-256 over memory cannot fail short of a broken libcrypto */
    hex_of(md, 32, out);
}

static int hmac(const void *key, size_t key_len, const void *msg, size_t msg_len,
                unsigned char out[32]) {
    unsigned int n = 0;
    if (!HMAC(EVP_sha256(), key, (int)key_len, msg, msg_len, out, &n) || n != 32)
        return BT_EIO;
    return BT_OK;
}

int rt_sigv4_signing_key(const char *secret_access_key, const char *date, const char *region,
                         const char *service, unsigned char out[32]) {
    size_t sl = strlen(secret_access_key);
    char *k = bt_malloc(sl + 5);
    if (!k)
        return BT_ENOMEM;
    memcpy(k, "AWS4", 4);
    memcpy(k + 4, secret_access_key, sl + 1);
    unsigned char a[32], b[32];
    int rc = hmac(k, sl + 4, date, strlen(date), a);
    if (rc == BT_OK)
        rc = hmac(a, 32, region, strlen(region), b);
    if (rc == BT_OK)
        rc = hmac(b, 32, service, strlen(service), a);
    if (rc == BT_OK)
        rc = hmac(a, 32, "aws4_request", 12, out);
    memset(k, 0, sl + 4);
    bt_free(k);
    return rc;
}

static bool unreserved(unsigned char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}

int rt_sigv4_uri_encode(bt_buf *b, const char *s, size_t len, bool keep_slash) {
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (unreserved(c) || (keep_slash && c == '/')) {
            bt_buf_putc(b, (char)c);
        } else {
            char esc[3] = {'%', HEX_UPPER[c >> 4], HEX_UPPER[c & 15]};
            bt_buf_append(b, esc, 3);
        }
    }
    return b->failed ? BT_ENOMEM : BT_OK;
}

static int hex_value(char c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Appends s percent-decoded to b (a '%' not followed by two hex digits is
 * kept as it is; '+' is a plus sign, as AWS reads it). */
static void uri_decode(bt_buf *b, const char *s, size_t len) {
    for (size_t i = 0; i < len; i++) {
        int hi, lo;
        if (s[i] == '%' && i + 2 < len && (hi = hex_value(s[i + 1])) >= 0 &&
            (lo = hex_value(s[i + 2])) >= 0) {
            bt_buf_putc(b, (char)(hi * 16 + lo));
            i += 2;
        } else {
            bt_buf_putc(b, s[i]);
        }
    }
}

/* ---- canonical URI ---------------------------------------------------------------- */

/* Non-S3: remove "." and ".." segments and empty ones (RFC 3986 §5.2.4, and
 * "//" collapses), keep a trailing '/', then encode every byte outside the
 * unreserved set and '/' — a '%' too: the double encoding. S3: the path
 * as sent, its escapes kept. */
static int canonical_uri(bt_buf *b, const char *path, bool s3) {
    if (!path || !*path)
        path = "/";
    size_t len = strlen(path);
    if (s3) {
        if (path[0] != '/')
            bt_buf_putc(b, '/');
        for (size_t i = 0; i < len; i++) {
            unsigned char c = (unsigned char)path[i];
            if (unreserved(c) || c == '/' || c == '%')
                bt_buf_putc(b, (char)c);
            else
                rt_sigv4_uri_encode(b, path + i, 1, false);
        }
        return b->failed ? BT_ENOMEM : BT_OK;
    }
    /* Segments as (start, length) pairs: at most len / 2 + 1 non-empty ones. */
    size_t cap = len / 2 + 2, n = 0;
    size_t *seg = bt_malloc(cap * 2 * sizeof *seg);
    if (!seg)
        return BT_ENOMEM;
    size_t i = 0;
    while (i < len) {
        while (i < len && path[i] == '/')
            i++;
        size_t start = i;
        while (i < len && path[i] != '/')
            i++;
        size_t sl = i - start;
        if (sl == 0 || (sl == 1 && path[start] == '.'))
            continue;
        if (sl == 2 && path[start] == '.' && path[start + 1] == '.') {
            if (n > 0)
                n--;
            continue;
        }
        seg[2 * n] = start;
        seg[2 * n + 1] = sl;
        n++;
    }
    bt_buf_putc(b, '/');
    for (size_t k = 0; k < n; k++) {
        if (k > 0)
            bt_buf_putc(b, '/');
        rt_sigv4_uri_encode(b, path + seg[2 * k], seg[2 * k + 1], false);
    }
    if (n > 0 && path[len - 1] == '/')
        bt_buf_putc(b, '/');
    bt_free(seg);
    return b->failed ? BT_ENOMEM : BT_OK;
}

/* ---- canonical query ---------------------------------------------------------------- */

typedef struct query_param {
    char *pair; /* "name=value", both encoded */
    size_t name_len;
} query_param;

static int query_param_cmp(const void *a, const void *b) {
    const query_param *x = a, *y = b;
    size_t n = x->name_len < y->name_len ? x->name_len : y->name_len;
    int c = memcmp(x->pair, y->pair, n);
    if (c)
        return c;
    if (x->name_len != y->name_len)
        return x->name_len < y->name_len ? -1 : 1;
    return strcmp(x->pair + x->name_len + 1, y->pair + y->name_len + 1);
}

static int canonical_query(bt_buf *b, const char *query) {
    if (!query || !*query)
        return BT_OK;
    size_t count = 1;
    for (const char *p = query; *p; p++)
        count += *p == '&';
    query_param *params = bt_calloc(count, sizeof *params);
    if (!params)
        return BT_ENOMEM;
    size_t n = 0;
    int rc = BT_OK;
    const char *p = query;
    while (*p && rc == BT_OK) {
        const char *end = strchr(p, '&');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len > 0) {
            const char *eq = memchr(p, '=', len);
            size_t nl = eq ? (size_t)(eq - p) : len;
            bt_buf raw = BT_BUF_INIT, enc = BT_BUF_INIT;
            uri_decode(&raw, p, nl);
            rt_sigv4_uri_encode(&enc, raw.data ? raw.data : "", raw.len, false);
            size_t name_len = enc.len;
            bt_buf_putc(&enc, '=');
            bt_buf_reset(&raw);
            if (eq)
                uri_decode(&raw, eq + 1, len - nl - 1);
            rt_sigv4_uri_encode(&enc, raw.data ? raw.data : "", raw.len, false);
            bool failed = raw.failed || enc.failed;
            bt_buf_free(&raw);
            if (failed) {
                bt_buf_free(&enc);
                rc = BT_ENOMEM;
                break;
            }
            params[n].pair = bt_buf_take(&enc);
            params[n].name_len = name_len;
            n++;
        }
        p += len + (end ? 1 : 0);
    }
    if (rc == BT_OK) {
        qsort(params, n, sizeof *params, query_param_cmp);
        for (size_t i = 0; i < n; i++) {
            if (i > 0)
                bt_buf_putc(b, '&');
            bt_buf_puts(b, params[i].pair);
        }
    }
    for (size_t i = 0; i < n; i++)
        bt_free(params[i].pair);
    bt_free(params);
    return rc != BT_OK ? rc : b->failed ? BT_ENOMEM : BT_OK;
}

/* ---- canonical headers ------------------------------------------------------------------ */

typedef struct canon_header {
    char *name;  /* lower-case */
    char *value; /* trimmed, spaces folded, lines joined with ',' */
    size_t position;
} canon_header;

static int canon_header_cmp(const void *a, const void *b) {
    const canon_header *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    if (c)
        return c;
    return x->position < y->position ? -1 : x->position > y->position;
}

/* The canonical form of a value: each line (a value folded over several
 * lines has one per line) trimmed of spaces and tabs, inner runs of them
 * folded into one space, the lines joined with ','. */
static char *canonical_value(const char *v) {
    bt_buf b = BT_BUF_INIT;
    bool first_line = true;
    const char *p = v;
    for (;;) {
        size_t len = strcspn(p, "\r\n");
        const char *s = p, *e = p + len;
        while (s < e && (*s == ' ' || *s == '\t'))
            s++;
        while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
            e--;
        if (s < e) {
            if (!first_line)
                bt_buf_putc(&b, ',');
            first_line = false;
            for (const char *q = s; q < e; q++) {
                if (*q == ' ' || *q == '\t') {
                    while (q + 1 < e && (q[1] == ' ' || q[1] == '\t'))
                        q++;
                    bt_buf_putc(&b, ' ');
                } else {
                    bt_buf_putc(&b, *q);
                }
            }
        }
        p += len;
        if (!*p)
            break;
        p += strspn(p, "\r\n");
    }
    return bt_buf_take(&b); /* "" for an empty value; NULL when out of memory */
}

static char *lower_dup(const char *s) {
    char *d = bt_strdup(s);
    for (char *q = d; q && *q; q++)
        if (*q >= 'A' && *q <= 'Z')
            *q = (char)(*q + 32);
    return d;
}

/* Appends the canonical headers block (with its final newline) to b and
 * the signed header names to sh. */
static int canonical_headers(bt_buf *b, bt_buf *sh, const rt_sigv4_request *req,
                             const char *amz_date, const char *token, bt_error *err) {
    size_t cap = req->n_headers + 2, n = 0;
    canon_header *hs = bt_calloc(cap, sizeof *hs);
    if (!hs)
        return BT_ENOMEM;
    int rc = BT_OK;
    bool has_host = false;
    for (size_t i = 0; i < req->n_headers && rc == BT_OK; i++) {
        const char *name = req->headers[i].name, *value = req->headers[i].value;
        if (!name || !*name || strpbrk(name, "\r\n: \t")) {
            rc = bt_error_set(err, BT_EINVAL, "sigv4: header name '%s' is not a token",
                              name ? name : "(null)");
            break;
        }
        if (!strcasecmp(name, "x-amz-date") || !strcasecmp(name, "x-amz-security-token"))
            continue; /* the signer's own, added below */
        if (!strcasecmp(name, "host"))
            has_host = true;
        hs[n].name = lower_dup(name);
        hs[n].value = canonical_value(value ? value : "");
        hs[n].position = i;
        if (!hs[n].name || !hs[n].value)
            rc = BT_ENOMEM;
        n++;
    }
    if (rc == BT_OK && !has_host)
        rc = bt_error_set(err, BT_EINVAL, "sigv4: the request has no Host header");
    if (rc == BT_OK) {
        hs[n].name = bt_strdup("x-amz-date");
        hs[n].value = bt_strdup(amz_date);
        hs[n].position = req->n_headers;
        if (!hs[n].name || !hs[n].value)
            rc = BT_ENOMEM;
        n++;
    }
    if (rc == BT_OK && token) {
        if (strpbrk(token, "\r\n")) {
            rc = bt_error_set(err, BT_EINVAL, "sigv4: the session token has a line break");
        } else {
            hs[n].name = bt_strdup("x-amz-security-token");
            hs[n].value = canonical_value(token);
            hs[n].position = req->n_headers + 1;
            if (!hs[n].name || !hs[n].value)
                rc = BT_ENOMEM;
            n++;
        }
    }
    if (rc == BT_OK) {
        qsort(hs, n, sizeof *hs, canon_header_cmp);
        for (size_t i = 0; i < n; i++) {
            bool same = i > 0 && !strcmp(hs[i].name, hs[i - 1].name);
            if (same) {
                /* Repeated name: join onto the line just written. */
                b->len--; /* drop the '\n' */
                bt_buf_putc(b, ',');
            } else {
                if (i > 0)
                    bt_buf_putc(sh, ';');
                bt_buf_puts(sh, hs[i].name);
                bt_buf_puts(b, hs[i].name);
                bt_buf_putc(b, ':');
            }
            bt_buf_puts(b, hs[i].value);
            bt_buf_putc(b, '\n');
        }
        if (b->failed || sh->failed)
            rc = BT_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        bt_free(hs[i].name);
        bt_free(hs[i].value);
    }
    bt_free(hs);
    return rc;
}

/* ---- signing --------------------------------------------------------------------------------- */

static int format_amz_date(int64_t now_ms, char out[17]) {
    int64_t secs = now_ms >= 0 ? now_ms / 1000 : -1;
    if (secs < 0 || secs > 253402300799LL) /* 9999-12-31T23:59:59Z */
        return BT_EINVAL;
    time_t t = (time_t)secs;
    struct tm tm;
    if (!gmtime_r(&t, &tm) || strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm) != 16)
        return BT_EINVAL;
    return BT_OK;
}

void rt_sigv4_result_free(rt_sigv4_result *r) {
    if (!r)
        return;
    bt_free(r->canonical_request);
    bt_free(r->string_to_sign);
    bt_free(r->signed_headers);
    bt_free(r->authorization);
    memset(r, 0, sizeof *r);
}

int rt_sigv4_sign(const rt_sigv4_request *req, const rt_sigv4_params *p, rt_sigv4_result *out,
                  bt_error *err) {
    memset(out, 0, sizeof *out);
    if (!req || !p || !req->method || !*req->method || !p->region || !*p->region || !p->service ||
        !*p->service)
        return bt_error_set(err, BT_EINVAL, "sigv4: method, region and service are required");
    if (!p->access_key_id || !*p->access_key_id || !p->secret_access_key || !*p->secret_access_key)
        return bt_error_set(err, BT_EINVAL, "sigv4: no credentials (access key id and secret)");
    if (format_amz_date(p->now_ms, out->amz_date) != BT_OK)
        return bt_error_set(err, BT_EINVAL, "sigv4: the time %lld ms is out of range",
                            (long long)p->now_ms);
    const char *token = p->session_token && *p->session_token ? p->session_token : NULL;
    bool s3 = !strcmp(p->service, "s3");

    bt_buf creq = BT_BUF_INIT, sh = BT_BUF_INIT, sts = BT_BUF_INIT, auth = BT_BUF_INIT;
    int rc = BT_OK;
    bt_buf_puts(&creq, req->method);
    bt_buf_putc(&creq, '\n');
    rc = canonical_uri(&creq, req->path, s3);
    bt_buf_putc(&creq, '\n');
    if (rc == BT_OK)
        rc = canonical_query(&creq, req->query);
    bt_buf_putc(&creq, '\n');
    if (rc == BT_OK)
        rc = canonical_headers(&creq, &sh, req, out->amz_date, token, err);
    bt_buf_putc(&creq, '\n');
    bt_buf_append(&creq, sh.data ? sh.data : "", sh.len);
    bt_buf_putc(&creq, '\n');
    char hash[65];
    rt_sigv4_sha256_hex(req->payload, req->payload_len, hash);
    bt_buf_puts(&creq, hash);
    if (rc == BT_OK && (creq.failed || sh.failed))
        rc = BT_ENOMEM;

    char date[9];
    memcpy(date, out->amz_date, 8);
    date[8] = '\0';
    if (rc == BT_OK) {
        rt_sigv4_sha256_hex(creq.data, creq.len, hash);
        bt_buf_printf(&sts, "%s\n%s\n%s/%s/%s/aws4_request\n%s", ALGORITHM, out->amz_date, date,
                      p->region, p->service, hash);
        if (sts.failed)
            rc = BT_ENOMEM;
    }
    unsigned char key[32], sig[32];
    if (rc == BT_OK)
        rc = rt_sigv4_signing_key(p->secret_access_key, date, p->region, p->service, key);
    if (rc == BT_OK)
        rc = hmac(key, sizeof key, sts.data, sts.len, sig);
    memset(key, 0, sizeof key);
    if (rc == BT_OK) {
        hex_of(sig, 32, out->signature);
        bt_buf_printf(
            &auth, "%s Credential=%s/%s/%s/%s/aws4_request, SignedHeaders=%s, Signature=%s",
            ALGORITHM, p->access_key_id, date, p->region, p->service, sh.data, out->signature);
        if (auth.failed)
            rc = BT_ENOMEM;
    }
    if (rc != BT_OK) {
        bt_buf_free(&creq);
        bt_buf_free(&sh);
        bt_buf_free(&sts);
        bt_buf_free(&auth);
        memset(out, 0, sizeof *out);
        if (rc == BT_ENOMEM)
            bt_error_set(err, BT_ENOMEM, "sigv4: out of memory");
        else if (rc == BT_EIO)
            bt_error_set(err, BT_EIO, "sigv4: HMAC-SHA256 failed");
        return rc;
    }
    out->canonical_request = bt_buf_take(&creq);
    out->signed_headers = bt_buf_take(&sh);
    out->string_to_sign = bt_buf_take(&sts);
    out->authorization = bt_buf_take(&auth);
    return BT_OK;
}
