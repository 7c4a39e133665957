/*
 * http_response.c — the write side: what an answer looks like on the wire,
 * the tables that name statuses and map baton's error codes to them, static
 * files for the web UI, and authentication.
 *
 * Answers. Every http_respond* builds a complete http_answer (status,
 * headers, body, all copied) on the caller's thread and hands it to
 * http_exchange_finish (http.c), which decides whether it is sent. So the
 * caller's buffers may be reused as soon as the call returns, and the MHD
 * thread never reads application memory.
 *
 * Problem details follow RFC 9457 as the Camunda REST API v2 uses them
 * (ProblemDetail in the spec: type, title, status, detail, instance all
 * present; type "about:blank"; instance the request path).
 *
 * Errors. error_table below is THE mapping from BT_E* codes to HTTP status
 * and problem title (STYLE.md 6). Titles follow the names the Camunda gateway
 * uses for engine rejections (INVALID_ARGUMENT, NOT_FOUND, INVALID_STATE, ...).
 *
 * Files. http_respond_file serves the operations UI: small static assets read
 * whole into memory. The guard is two-layered: the relative path is refused
 * if any segment is "..", and the resolved real path (symlinks followed) must
 * lie below the resolved root.
 *
 * Authentication. Basic and static bearer tokens. Credentials are compared
 * with http_auth_equal, and every configured credential is compared on every
 * request (no early exit at the first match), so the time taken does not
 * depend on which user name exists or on how much of a secret was right.
 */
#define _GNU_SOURCE /* strcasecmp, realpath */
#include "server/http_int.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- tables ------------------------------------------------------------------ */

static const struct {
    int status;
    const char *reason;
} reason_table[] = {
    {100, "Continue"},
    {200, "OK"},
    {201, "Created"},
    {202, "Accepted"},
    {204, "No Content"},
    {301, "Moved Permanently"},
    {302, "Found"},
    {304, "Not Modified"},
    {400, "Bad Request"},
    {401, "Unauthorized"},
    {403, "Forbidden"},
    {404, "Not Found"},
    {405, "Method Not Allowed"},
    {406, "Not Acceptable"},
    {408, "Request Timeout"},
    {409, "Conflict"},
    {410, "Gone"},
    {411, "Length Required"},
    {413, "Content Too Large"},
    {415, "Unsupported Media Type"},
    {422, "Unprocessable Content"},
    {429, "Too Many Requests"},
    {500, "Internal Server Error"},
    {501, "Not Implemented"},
    {502, "Bad Gateway"},
    {503, "Service Unavailable"},
    {504, "Gateway Timeout"},
};

static const struct {
    int code;
    int status;
    const char *title;
} error_table[] = {
    {BT_EINVAL, 400, "INVALID_ARGUMENT"},       /* malformed request, model or expression */
    {BT_ENOTFOUND, 404, "NOT_FOUND"},           /* no such key / definition / element */
    {BT_ECONFLICT, 409, "INVALID_STATE"},       /* not in a state that allows this */
    {BT_ELIMIT, 400, "INVALID_ARGUMENT"},       /* a size or count limit of the request */
    {BT_EEVAL, 400, "INVALID_ARGUMENT"},        /* an expression given in the request failed */
    {BT_EUNSUPPORTED, 400, "INVALID_ARGUMENT"}, /* valid BPMN/FEEL that baton does not run */
    {BT_EBUSY, 503, "RESOURCE_EXHAUSTED"},      /* queue full: back-pressure, retry */
    {BT_ENOMEM, 503, "RESOURCE_EXHAUSTED"},     /* out of memory: transient */
    {BT_EIO, 500, "INTERNAL_ERROR"},            /* the store or the OS failed */
    {BT_ECORRUPT, 500, "INTERNAL_ERROR"},       /* stored data inconsistent */
};

const char *http_status_reason(int status) {
    for (size_t i = 0; i < BT_ARRAY_LEN(reason_table); i++)
        if (reason_table[i].status == status)
            return reason_table[i].reason;
    return "Unknown";
}

int http_status_for_error(int code, const char **title) {
    for (size_t i = 0; i < BT_ARRAY_LEN(error_table); i++) {
        if (error_table[i].code == code) {
            if (title != NULL)
                *title = error_table[i].title;
            return error_table[i].status;
        }
    }
    if (title != NULL)
        *title = "INTERNAL_ERROR";
    return 500;
}

/* ---- answers ------------------------------------------------------------------- */

http_answer *http_answer_new(int status, const char *content_type, const void *body, size_t len,
                             const http_header *headers, size_t n_headers) {
    size_t n = n_headers + (content_type != NULL ? 1 : 0);
    size_t strings = content_type != NULL ? strlen("Content-Type") + strlen(content_type) + 2 : 0;
    for (size_t i = 0; i < n_headers; i++)
        strings += strlen(headers[i].name) + strlen(headers[i].value) + 2;
    /* One block: the answer, its header array, then the header strings. */
    http_answer *a = bt_xmalloc(sizeof *a + n * sizeof(http_header) + strings);
    a->status = status >= 100 && status <= 599 ? status : 500;
    a->headers = (http_header *)(a + 1);
    a->n_headers = 0;
    char *p = (char *)(a->headers + n);
    for (size_t i = 0; i < n; i++) {
        bool ct = content_type != NULL && i == 0;
        const char *name = ct ? "Content-Type" : headers[i - (content_type != NULL)].name;
        const char *value = ct ? content_type : headers[i - (content_type != NULL)].value;
        size_t nl = strlen(name) + 1, vl = strlen(value) + 1;
        memcpy(p, name, nl);
        a->headers[i].name = p;
        p += nl;
        memcpy(p, value, vl);
        a->headers[i].value = p;
        p += vl;
        a->n_headers++;
    }
    a->len = body != NULL ? len : 0;
    a->body = NULL;
    if (a->len > 0) {
        a->body = bt_xmalloc(a->len);
        memcpy(a->body, body, a->len);
    }
    return a;
}

void http_answer_free(http_answer *a) {
    if (a == NULL)
        return;
    bt_free(a->body);
    bt_free(a);
}

http_answer *http_answer_problem(int status, const char *title, const char *detail,
                                 const char *instance, const http_header *headers,
                                 size_t n_headers) {
    if (title == NULL)
        title = http_status_reason(status);
    if (detail == NULL)
        detail = title;
    bt_buf b = BT_BUF_INIT;
    bt_buf_puts(&b, "{\"type\":\"about:blank\",\"title\":");
    bt_buf_json_string(&b, title, strlen(title));
    bt_buf_printf(&b, ",\"status\":%d,\"detail\":", status);
    bt_buf_json_string(&b, detail, strlen(detail));
    bt_buf_puts(&b, ",\"instance\":");
    bt_buf_json_string(&b, instance ? instance : "", instance ? strlen(instance) : 0);
    bt_buf_putc(&b, '}');
    if (b.failed) { /* the server's bookkeeping aborts on out of memory (base.h) */
        bt_log(BT_LOG_ERROR, "http: out of memory");
        abort();
    }
    http_answer *a =
        http_answer_new(status, "application/problem+json", b.data, b.len, headers, n_headers);
    bt_buf_free(&b);
    return a;
}

/* ---- respond ------------------------------------------------------------------------ */

int http_respond(http_exchange *ex, int status, const char *content_type, const void *body,
                 size_t len, const http_header *headers, size_t n_headers) {
    return http_exchange_finish(
        ex, http_answer_new(status, content_type, body, len, headers, n_headers));
}

int http_respond_json(http_exchange *ex, int status, const char *json, size_t len) {
    return http_respond(ex, status, "application/json", json, json ? len : 0, NULL, 0);
}

int http_respond_problem(http_exchange *ex, int status, const char *title, const char *detail) {
    const char *instance = http_request_path(http_exchange_request(ex));
    return http_exchange_finish(ex, http_answer_problem(status, title, detail, instance, NULL, 0));
}

int http_respond_error(http_exchange *ex, int code, const char *detail) {
    const char *title;
    int status = http_status_for_error(code, &title);
    return http_respond_problem(ex, status, title, detail ? detail : bt_strerror(code));
}

/* ---- static files --------------------------------------------------------------------- */

enum { HTTP_FILE_MAX = 64 << 20 };

static const struct {
    const char *ext;
    const char *type;
} content_types[] = {
    {".html", "text/html; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".json", "application/json"},
    {".woff2", "font/woff2"},
};

static const char *file_content_type(const char *path) {
    const char *dot = strrchr(path, '.');
    const char *slash = strrchr(path, '/');
    if (dot != NULL && (slash == NULL || dot > slash))
        for (size_t i = 0; i < BT_ARRAY_LEN(content_types); i++)
            if (strcasecmp(dot, content_types[i].ext) == 0)
                return content_types[i].type;
    return "application/octet-stream";
}

/* Whether rel is a relative path with no ".." or "." segment and no
 * backslash. Empty segments ("a//b") are harmless and allowed. */
static bool file_rel_path_ok(const char *rel) {
    if (rel[0] == '/' || strchr(rel, '\\') != NULL)
        return false;
    for (const char *seg = rel; *seg;) {
        size_t len = strcspn(seg, "/");
        if ((len == 1 && seg[0] == '.') || (len == 2 && seg[0] == '.' && seg[1] == '.'))
            return false;
        seg += len;
        if (*seg == '/')
            seg++;
    }
    return true;
}

/* Reads the regular file at path whole. 0, BT_ENOTFOUND, BT_EIO. */
static int file_read(const char *path, char **data, size_t *len) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT || errno == ENOTDIR ? BT_ENOTFOUND : BT_EIO;
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return BT_ENOTFOUND;
    }
    if (st.st_size > HTTP_FILE_MAX) {
        close(fd);
        return BT_EIO;
    }
    size_t size = (size_t)st.st_size, got = 0;
    char *buf = bt_xmalloc(size ? size : 1);
    while (got < size) {
        ssize_t n = read(fd, buf + got, size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(fd);
    if (got != size) {
        bt_free(buf);
        return BT_EIO;
    }
    *data = buf;
    *len = size;
    return 0;
}

int http_respond_file(http_exchange *ex, const char *root, const char *rel_path) {
    char root_real[PATH_MAX], joined[PATH_MAX], real[PATH_MAX];
    if (rel_path == NULL || !file_rel_path_ok(rel_path)) {
        int rc = http_respond_problem(ex, 400, NULL, "path not allowed");
        return rc == 0 ? BT_EINVAL : rc;
    }
    size_t rl = strlen(rel_path);
    const char *index = rl == 0 || rel_path[rl - 1] == '/' ? "index.html" : "";
    int n = snprintf(joined, sizeof joined, "%s/%s%s", root ? root : "", rel_path, index);
    if (root == NULL || realpath(root, root_real) == NULL || n < 0 || (size_t)n >= sizeof joined) {
        int rc = http_respond_problem(ex, 500, NULL, "static file root unavailable");
        return rc == 0 ? BT_EIO : rc;
    }
    size_t root_len = strlen(root_real);
    if (realpath(joined, real) == NULL ||
        !(strncmp(real, root_real, root_len) == 0 &&
          (real[root_len] == '/' || (root_len == 1 && root_real[0] == '/')))) {
        int rc = http_respond_problem(ex, 404, NULL, "no such file");
        return rc == 0 ? BT_ENOTFOUND : rc;
    }
    char *data = NULL;
    size_t len = 0;
    int frc = file_read(real, &data, &len);
    if (frc < 0) {
        int rc = frc == BT_ENOTFOUND ? http_respond_problem(ex, 404, NULL, "no such file")
                                     : http_respond_problem(ex, 500, NULL, "cannot read file");
        return rc == 0 ? frc : rc;
    }
    http_answer *a = http_answer_new(200, file_content_type(real), NULL, 0, NULL, 0);
    a->body = data; /* hand the buffer over instead of copying it */
    a->len = len;
    if (len == 0) {
        bt_free(data);
        a->body = NULL;
    }
    return http_exchange_finish(ex, a);
}

/* ---- authentication ------------------------------------------------------------------------ */

bool http_auth_equal(const void *a, size_t a_len, const void *b, size_t b_len) {
    const unsigned char *x = a, *y = b;
    size_t n = a_len > b_len ? a_len : b_len;
    unsigned diff = a_len != b_len;
    /* Visit every byte of the longer string whatever the contents; the
     * shorter one is read as zeros past its end. */
    for (size_t i = 0; i < n; i++) {
        unsigned cx = i < a_len ? x[i] : 0;
        unsigned cy = i < b_len ? y[i] : 0;
        diff |= cx ^ cy;
    }
    return diff == 0;
}

void http_auth_init(http_auth *auth, const http_config *cfg) {
    memset(auth, 0, sizeof *auth);
    auth->n_users = cfg->n_basic_users;
    auth->users = bt_xcalloc(auth->n_users ? auth->n_users : 1, sizeof *auth->users);
    for (size_t i = 0; i < auth->n_users; i++) {
        auth->users[i].username = bt_xstrdup(cfg->basic_users[i].username);
        auth->users[i].password = bt_xstrdup(cfg->basic_users[i].password);
    }
    auth->n_tokens = cfg->n_bearer_tokens;
    auth->tokens = bt_xcalloc(auth->n_tokens ? auth->n_tokens : 1, sizeof *auth->tokens);
    for (size_t i = 0; i < auth->n_tokens; i++)
        auth->tokens[i] = bt_xstrdup(cfg->bearer_tokens[i]);
    auth->realm = bt_xstrdup(cfg->realm ? cfg->realm : "baton");
    bt_buf b = BT_BUF_INIT;
    bt_buf_printf(&b, "Basic realm=\"%s\"", auth->realm);
    auth->challenge_basic = bt_xstrdup(b.data);
    bt_buf_reset(&b);
    bt_buf_printf(&b, "Bearer realm=\"%s\"", auth->realm);
    auth->challenge_bearer = bt_xstrdup(b.data);
    bt_buf_free(&b);
}

void http_auth_free(http_auth *auth) {
    for (size_t i = 0; i < auth->n_users; i++) {
        bt_free((char *)auth->users[i].username);
        bt_free((char *)auth->users[i].password);
    }
    bt_free(auth->users);
    for (size_t i = 0; i < auth->n_tokens; i++)
        bt_free(auth->tokens[i]);
    bt_free(auth->tokens);
    bt_free(auth->realm);
    bt_free(auth->challenge_basic);
    bt_free(auth->challenge_bearer);
    memset(auth, 0, sizeof *auth);
}

static int base64_value(int c) {
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

/* Decodes standard base64 (padding optional) into out (n * 3 / 4 + 1
 * bytes), NUL-terminated. Returns the length, or -1 when malformed. */
static long base64_decode(const char *s, size_t n, char *out) {
    while (n > 0 && s[n - 1] == '=')
        n--;
    size_t o = 0;
    unsigned acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        int v = base64_value((unsigned char)s[i]);
        if (v < 0)
            return -1;
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (char)((acc >> bits) & 0xff);
        }
    }
    if (bits >= 6)
        return -1; /* a lone sextet cannot end a valid encoding */
    out[o] = '\0';
    return (long)o;
}

enum { HTTP_AUTH_MAX = 4096 };

bool http_auth_check(const http_auth *auth, const char *authorization, http_arena *a,
                     const char **user) {
    *user = NULL;
    if (authorization == NULL)
        return false;
    while (*authorization == ' ' || *authorization == '\t')
        authorization++;
    size_t len = strlen(authorization);
    if (len > HTTP_AUTH_MAX)
        return false;
    while (len > 0 && (authorization[len - 1] == ' ' || authorization[len - 1] == '\t'))
        len--;
    bool ok = false;
    if (len > 6 && strncasecmp(authorization, "Basic ", 6) == 0 && auth->n_users > 0) {
        const char *enc = authorization + 6;
        size_t enc_len = len - 6;
        while (enc_len > 0 && *enc == ' ')
            enc++, enc_len--;
        char *plain = http_arena_alloc(a, enc_len * 3 / 4 + 3);
        long plain_len = base64_decode(enc, enc_len, plain);
        const char *colon = plain_len > 0 ? memchr(plain, ':', (size_t)plain_len) : NULL;
        if (colon == NULL)
            return false;
        size_t ul = (size_t)(colon - plain), pl = (size_t)plain_len - ul - 1;
        const char *who = NULL;
        for (size_t i = 0; i < auth->n_users; i++) {
            const http_basic_user *u = &auth->users[i];
            bool m = http_auth_equal(plain, ul, u->username, strlen(u->username));
            m &= http_auth_equal(colon + 1, pl, u->password, strlen(u->password));
            who = m ? u->username : who;
            ok |= m;
        }
        if (ok)
            *user = http_arena_strndup(a, who, strlen(who));
    } else if (len > 7 && strncasecmp(authorization, "Bearer ", 7) == 0 && auth->n_tokens > 0) {
        const char *tok = authorization + 7;
        size_t tok_len = len - 7;
        while (tok_len > 0 && *tok == ' ')
            tok++, tok_len--;
        for (size_t i = 0; i < auth->n_tokens; i++)
            ok |= http_auth_equal(tok, tok_len, auth->tokens[i], strlen(auth->tokens[i]));
    }
    return ok;
}

http_answer *http_auth_challenge(const http_auth *auth, const char *instance,
                                 bool had_credentials) {
    http_header h[2];
    size_t n = 0;
    if (auth->n_users > 0)
        h[n++] = (http_header){"WWW-Authenticate", auth->challenge_basic};
    if (auth->n_tokens > 0)
        h[n++] = (http_header){"WWW-Authenticate", auth->challenge_bearer};
    return http_answer_problem(401, NULL,
                               had_credentials ? "invalid credentials" : "credentials required",
                               instance, h, n);
}
