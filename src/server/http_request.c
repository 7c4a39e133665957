/*
 * http_request.c — the read side of an exchange: where a request's strings
 * live, how a path finds its route, and how a multipart body splits.
 *
 * Arena. Every string of a request (method, path, headers, query arguments,
 * path parameters) is copied into one arena of chained blocks when the
 * headers arrive, so the request is self-contained: the application may read
 * it from any thread while it owns the exchange, long after MHD's own buffers
 * have moved on. The arena is freed with the exchange.
 *
 * Routes. A pattern compiles to segments: literal, {param} (one segment) or a
 * trailing {rest*} (one or more). The request path is split on '/' first and
 * then each segment is percent-decoded, so "%2F" inside a key stays inside
 * its segment. Matching is linear over the table (tens of rows); the match
 * with most literal segments wins, so "/v2/jobs/activation" beats
 * "/v2/jobs/{jobKey}" whatever the table order. A path that matches rows of
 * other methods only gives 405 with those methods in Allow.
 *
 * Multipart (RFC 7578, RFC 2046 §5.1). The whole body is in memory (it was
 * accumulated up to the body limit), so the parser is a plain scan: find
 * "--boundary", read the part's header lines, find "\r\n--boundary", hand
 * the bytes between to the callback without copying. Names, file names and
 * content types are copied into fixed buffers (limits below): nothing is
 * allocated, so the parser is safe to fuzz and to call from any thread.
 */
#define _GNU_SOURCE /* memmem, strcasecmp */
#include "server/http_int.h"

#include <ctype.h>
#include <stdalign.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* ---- arena ------------------------------------------------------------------ */

struct http_arena_block {
    http_arena_block *next;
    size_t used;
    size_t cap;
    alignas(max_align_t) char data[];
};

enum { HTTP_ARENA_BLOCK = 4096 };

void *http_arena_alloc(http_arena *a, size_t n) {
    size_t align = alignof(max_align_t);
    n = (n + align - 1) & ~(align - 1);
    http_arena_block *b = a->head;
    if (b == NULL || b->cap - b->used < n) {
        size_t cap = n > HTTP_ARENA_BLOCK ? n : HTTP_ARENA_BLOCK;
        b = bt_xmalloc(sizeof *b + cap);
        b->used = 0;
        b->cap = cap;
        b->next = a->head;
        a->head = b;
    }
    void *p = b->data + b->used;
    b->used += n;
    return p;
}

char *http_arena_strndup(http_arena *a, const char *s, size_t n) {
    char *p = http_arena_alloc(a, n + 1);
    if (n > 0)
        memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

void http_arena_free(http_arena *a) {
    http_arena_block *b = a->head;
    while (b != NULL) {
        http_arena_block *next = b->next;
        bt_free(b);
        b = next;
    }
    a->head = NULL;
}

/* ---- percent-decoding ------------------------------------------------------------ */

static int hex_value(int c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

long http_percent_decode(const char *s, size_t n, bool plus_space, char *out) {
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '%') {
            if (i + 2 >= n)
                return -1;
            int hi = hex_value((unsigned char)s[i + 1]);
            int lo = hex_value((unsigned char)s[i + 2]);
            if (hi < 0 || lo < 0)
                return -1;
            c = (char)(hi * 16 + lo);
            i += 2;
        } else if (c == '+' && plus_space) {
            c = ' ';
        }
        if (c == '\0')
            return -1;
        out[o++] = c;
    }
    out[o] = '\0';
    return (long)o;
}

/* ---- route compilation ------------------------------------------------------------- */

static bool param_name_ok(const char *s, size_t n) {
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '-')
            return false;
    return true;
}

/* Counts the segments of an absolute path ("/" alone has one, empty). */
static size_t path_segment_count(const char *p) {
    size_t n = 0;
    for (; *p; p++)
        if (*p == '/')
            n++;
    return n;
}

static int route_compile(const http_route *row, http_route_int *r, http_seg *segs, bt_error *err) {
    const char *p = row->pattern;
    if (row->method == NULL || row->method[0] == '\0' || row->handler == NULL || p == NULL ||
        p[0] != '/')
        return bt_error_set(err, BT_EINVAL,
                            "route %s %s: needs a method, a handler and a path "
                            "starting with '/'",
                            row->method ? row->method : "?", p ? p : "?");
    r->row = row;
    r->segs = segs;
    r->n_segs = 0;
    r->n_literals = 0;
    while (*p == '/') {
        const char *start = ++p;
        while (*p && *p != '/')
            p++;
        size_t len = (size_t)(p - start);
        http_seg *seg = &segs[r->n_segs++];
        if (len >= 2 && start[0] == '{' && start[len - 1] == '}') {
            bool rest = len >= 3 && start[len - 2] == '*';
            seg->text = start + 1;
            seg->len = len - 2 - (rest ? 1 : 0);
            seg->kind = rest ? HTTP_SEG_REST : HTTP_SEG_PARAM;
            if (!param_name_ok(seg->text, seg->len) || (rest && *p != '\0'))
                return bt_error_set(err, BT_EINVAL,
                                    "route %s %s: bad parameter segment (want {name}, or "
                                    "{name*} last)",
                                    row->method, row->pattern);
        } else {
            if (memchr(start, '{', len) || memchr(start, '}', len))
                return bt_error_set(err, BT_EINVAL, "route %s %s: braces inside a segment",
                                    row->method, row->pattern);
            seg->text = start;
            seg->len = len;
            seg->kind = HTTP_SEG_LITERAL;
            r->n_literals++;
        }
    }
    return 0;
}

int http_routes_compile(const http_route *routes, size_t n, http_route_int **out, bt_error *err) {
    size_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += routes[i].pattern ? path_segment_count(routes[i].pattern) : 0;
    http_route_int *r = bt_xcalloc(n ? n : 1, sizeof *r);
    http_seg *segs = bt_xcalloc(total ? total : 1, sizeof *segs);
    size_t used = 0;
    for (size_t i = 0; i < n; i++) {
        int rc = route_compile(&routes[i], &r[i], segs + used, err);
        if (rc < 0) {
            bt_free(segs);
            bt_free(r);
            return rc;
        }
        used += r[i].n_segs;
    }
    *out = r;
    return 0;
}

void http_routes_free(http_route_int *routes, size_t n) {
    if (routes == NULL)
        return;
    if (n > 0)
        bt_free(routes[0].segs); /* one allocation for all the segments */
    else
        bt_free(routes->segs);
    bt_free(routes);
}

/* ---- route matching --------------------------------------------------------------------- */

enum { HTTP_MAX_SEGMENTS = 64 };

static bool method_matches(const char *row_method, const char *method) {
    if (strcmp(row_method, method) == 0)
        return true;
    return strcmp(method, "HEAD") == 0 && strcmp(row_method, "GET") == 0;
}

/* Whether the decoded segments match r's pattern. */
static bool route_path_matches(const http_route_int *r, char **segs, size_t n) {
    bool rest = r->n_segs > 0 && r->segs[r->n_segs - 1].kind == HTTP_SEG_REST;
    if (rest ? n < r->n_segs : n != r->n_segs)
        return false;
    for (size_t i = 0; i < r->n_segs; i++) {
        const http_seg *seg = &r->segs[i];
        if (seg->kind == HTTP_SEG_LITERAL) {
            if (strlen(segs[i]) != seg->len || memcmp(segs[i], seg->text, seg->len) != 0)
                return false;
        } else if (segs[i][0] == '\0') {
            return false; /* parameters bind non-empty segments */
        }
    }
    return true;
}

static void allow_add(char *allow, size_t cap, const char *method) {
    size_t mlen = strlen(method);
    for (const char *p = allow; (p = strstr(p, method)) != NULL; p += mlen)
        if ((p == allow || p[-1] == ' ') && (p[mlen] == ',' || p[mlen] == '\0'))
            return; /* already listed */
    size_t len = strlen(allow);
    snprintf(allow + len, cap - len, "%s%s", len ? ", " : "", method);
}

static void route_bind(http_request *req, http_arena *a, const http_route_int *r, char **segs,
                       size_t n) {
    size_t n_params = r->n_segs - r->n_literals;
    req->params = http_arena_alloc(a, (n_params ? n_params : 1) * sizeof *req->params);
    req->n_params = 0;
    for (size_t i = 0; i < r->n_segs; i++) {
        const http_seg *seg = &r->segs[i];
        if (seg->kind == HTTP_SEG_LITERAL)
            continue;
        http_header *p = &req->params[req->n_params++];
        p->name = http_arena_strndup(a, seg->text, seg->len);
        if (seg->kind == HTTP_SEG_PARAM) {
            p->value = segs[i];
            continue;
        }
        size_t len = 0; /* {rest*}: the remaining segments, joined by '/' */
        for (size_t j = i; j < n; j++)
            len += strlen(segs[j]) + 1;
        char *v = http_arena_alloc(a, len);
        v[0] = '\0';
        for (size_t j = i; j < n; j++) {
            if (j > i)
                strcat(v, "/");
            strcat(v, segs[j]);
        }
        p->value = v;
    }
}

int http_request_route(http_request *req, http_arena *a, const http_route_int *routes, size_t n,
                       const http_route_int **found, char *allow, size_t allow_cap) {
    *found = NULL;
    allow[0] = '\0';
    req->params = NULL;
    req->n_params = 0;
    const char *path = req->path;
    if (path[0] != '/')
        return HTTP_ROUTE_NO_PATH; /* "*" or absolute-form: nothing routes there */
    size_t n_segs = path_segment_count(path);
    if (n_segs > HTTP_MAX_SEGMENTS)
        return HTTP_ROUTE_NO_PATH;
    char **segs = http_arena_alloc(a, n_segs * sizeof *segs);
    const char *p = path;
    for (size_t i = 0; i < n_segs; i++) {
        const char *start = ++p;
        while (*p && *p != '/')
            p++;
        char *seg = http_arena_alloc(a, (size_t)(p - start) + 1);
        if (http_percent_decode(start, (size_t)(p - start), false, seg) < 0)
            return HTTP_ROUTE_BAD_PATH;
        segs[i] = seg;
    }
    const http_route_int *best = NULL;
    bool path_known = false;
    for (size_t i = 0; i < n; i++) {
        const http_route_int *r = &routes[i];
        if (!route_path_matches(r, segs, n_segs))
            continue;
        path_known = true;
        if (!method_matches(r->row->method, req->method)) {
            allow_add(allow, allow_cap, r->row->method);
            if (strcmp(r->row->method, "GET") == 0)
                allow_add(allow, allow_cap, "HEAD");
            continue;
        }
        if (best == NULL || r->n_literals > best->n_literals)
            best = r;
    }
    if (best == NULL)
        return path_known ? HTTP_ROUTE_NO_METHOD : HTTP_ROUTE_NO_PATH;
    route_bind(req, a, best, segs, n_segs);
    *found = best;
    return HTTP_ROUTE_FOUND;
}

/* ---- accessors ------------------------------------------------------------------------- */

const char *http_request_method(const http_request *req) {
    return req->method;
}

const char *http_request_path(const http_request *req) {
    return req->path;
}

const char *http_request_param(const http_request *req, const char *name) {
    for (size_t i = 0; i < req->n_params; i++)
        if (strcmp(req->params[i].name, name) == 0)
            return req->params[i].value;
    return NULL;
}

const char *http_request_query(const http_request *req, const char *name) {
    for (size_t i = 0; i < req->n_query; i++)
        if (strcmp(req->query[i].name, name) == 0)
            return req->query[i].value;
    return NULL;
}

size_t http_request_query_count(const http_request *req) {
    return req->n_query;
}

void http_request_query_at(const http_request *req, size_t i, const char **name,
                           const char **value) {
    *name = i < req->n_query ? req->query[i].name : NULL;
    *value = i < req->n_query ? req->query[i].value : NULL;
}

const char *http_request_header(const http_request *req, const char *name) {
    for (size_t i = 0; i < req->n_headers; i++)
        if (strcasecmp(req->headers[i].name, name) == 0)
            return req->headers[i].value;
    return NULL;
}

const char *http_request_content_type(const http_request *req) {
    return http_request_header(req, "Content-Type");
}

const char *http_request_body(const http_request *req, size_t *len) {
    if (len != NULL)
        *len = req->body_len;
    return req->body;
}

const char *http_request_user(const http_request *req) {
    return req->user;
}

/* ---- multipart/form-data ------------------------------------------------------------------ */

enum {
    MP_BOUNDARY_MAX = 70, /* RFC 2046 */
    MP_NAME_MAX = 256,
    MP_FILENAME_MAX = 1024,
    MP_TYPE_MAX = 256,
    MP_HEADERS_MAX = 16384, /* bytes of one part's header block */
};

typedef struct mp_part_head {
    char name[MP_NAME_MAX];
    char filename[MP_FILENAME_MAX];
    char content_type[MP_TYPE_MAX];
    bool has_disposition, has_filename, has_type;
} mp_part_head;

static const char *skip_ws(const char *p, const char *end) {
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    return p;
}

/* Reads a token or a quoted-string (backslash escapes) at *pp into out.
 * Returns false when malformed or longer than cap - 1. */
static bool mp_read_value(const char **pp, const char *end, char *out, size_t cap) {
    const char *p = *pp;
    size_t o = 0;
    if (p < end && *p == '"') {
        p++;
        while (p < end && *p != '"') {
            if (*p == '\\' && p + 1 < end)
                p++;
            if (o + 1 >= cap)
                return false;
            out[o++] = *p++;
        }
        if (p >= end)
            return false;
        p++; /* closing quote */
    } else {
        while (p < end && *p != ';' && *p != ' ' && *p != '\t') {
            if (o + 1 >= cap)
                return false;
            out[o++] = *p++;
        }
    }
    out[o] = '\0';
    *pp = p;
    return true;
}

/* Walks "type; a=b; c="d"" calling back for each parameter. For the
 * Content-Type of the request (boundary) and Content-Disposition (name,
 * filename). Returns false when malformed. */
static bool mp_params(const char *p, const char *end,
                      bool (*fn)(void *, const char *, size_t, const char **, const char *),
                      void *ud) {
    while (p < end && *p != ';')
        p++; /* the type itself */
    while (p < end) {
        p = skip_ws(p + 1, end); /* past ';' */
        const char *name = p;
        while (p < end && *p != '=' && *p != ';')
            p++;
        size_t name_len = (size_t)(p - name);
        while (name_len > 0 && (name[name_len - 1] == ' ' || name[name_len - 1] == '\t'))
            name_len--;
        if (p >= end || *p == ';') {
            if (name_len != 0)
                return false; /* a parameter without '=' */
            continue;
        }
        p = skip_ws(p + 1, end);
        if (!fn(ud, name, name_len, &p, end))
            return false;
        p = skip_ws(p, end);
        if (p < end && *p != ';')
            return false;
    }
    return true;
}

typedef struct mp_boundary {
    char value[MP_BOUNDARY_MAX + 1];
    bool found;
} mp_boundary;

static bool mp_on_type_param(void *ud, const char *name, size_t len, const char **pp,
                             const char *end) {
    mp_boundary *b = ud;
    char scratch[MP_TYPE_MAX];
    if (len == 8 && strncasecmp(name, "boundary", 8) == 0) {
        b->found = mp_read_value(pp, end, b->value, sizeof b->value) && b->value[0] != '\0';
        return b->found;
    }
    return mp_read_value(pp, end, scratch, sizeof scratch);
}

static bool mp_on_disposition_param(void *ud, const char *name, size_t len, const char **pp,
                                    const char *end) {
    mp_part_head *h = ud;
    char scratch[MP_FILENAME_MAX];
    if (len == 4 && strncasecmp(name, "name", 4) == 0)
        return mp_read_value(pp, end, h->name, sizeof h->name);
    if (len == 8 && strncasecmp(name, "filename", 8) == 0) {
        h->has_filename = true;
        return mp_read_value(pp, end, h->filename, sizeof h->filename);
    }
    return mp_read_value(pp, end, scratch, sizeof scratch); /* filename*, others */
}

/* Parses one header line [p, end) of a part into h. */
static bool mp_part_header(mp_part_head *h, const char *p, const char *end) {
    const char *colon = memchr(p, ':', (size_t)(end - p));
    if (colon == NULL)
        return false;
    size_t name_len = (size_t)(colon - p);
    const char *v = skip_ws(colon + 1, end);
    while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    if (name_len == 19 && strncasecmp(p, "Content-Disposition", 19) == 0) {
        if ((size_t)(end - v) < 9 || strncasecmp(v, "form-data", 9) != 0)
            return false;
        h->has_disposition = true;
        return mp_params(v, end, mp_on_disposition_param, h);
    }
    if (name_len == 12 && strncasecmp(p, "Content-Type", 12) == 0) {
        size_t len = (size_t)(end - v);
        if (len >= sizeof h->content_type)
            return false;
        memcpy(h->content_type, v, len);
        h->content_type[len] = '\0';
        h->has_type = true;
    }
    return true; /* other headers (Content-Transfer-Encoding, ...) are ignored */
}

int http_multipart_parse(const char *content_type, const char *body, size_t len, http_part_fn fn,
                         void *ud, bt_error *err) {
    if (content_type == NULL)
        return bt_error_set(err, BT_EINVAL, "multipart: no Content-Type");
    const char *ct_end = content_type + strlen(content_type);
    const char *ct = skip_ws(content_type, ct_end);
    if (strncasecmp(ct, "multipart/form-data", 19) != 0 ||
        (ct[19] != '\0' && ct[19] != ';' && ct[19] != ' '))
        return bt_error_set(err, BT_EINVAL, "multipart: Content-Type is not multipart/form-data");
    mp_boundary b = {{0}, false};
    if (!mp_params(ct, ct_end, mp_on_type_param, &b) || !b.found)
        return bt_error_set(err, BT_EINVAL, "multipart: no valid boundary parameter");

    char delim[MP_BOUNDARY_MAX + 5]; /* "\r\n--" boundary */
    size_t delim_len = (size_t)snprintf(delim, sizeof delim, "\r\n--%s", b.value);
    const char *end = body + len;
    const char *p;
    /* The first delimiter opens the body, or follows a preamble line. */
    if (len >= delim_len - 2 && memcmp(body, delim + 2, delim_len - 2) == 0) {
        p = body + delim_len - 2;
    } else {
        p = memmem(body, len, delim, delim_len);
        if (p == NULL)
            return bt_error_set(err, BT_EINVAL, "multipart: no boundary in the body");
        p += delim_len;
    }
    for (int index = 0;; index++) {
        /* After a delimiter: "--" ends the body; else optional blanks, CRLF. */
        if (end - p >= 2 && p[0] == '-' && p[1] == '-')
            return 0;
        p = skip_ws(p, end);
        if (end - p < 2 || p[0] != '\r' || p[1] != '\n')
            return bt_error_set(err, BT_EINVAL, "multipart: part %d: bad delimiter line", index);
        p += 2;
        mp_part_head h;
        memset(&h, 0, sizeof h);
        const char *head_start = p;
        for (;;) {
            const char *eol = memmem(p, (size_t)(end - p), "\r\n", 2);
            if (eol == NULL || (size_t)(eol - head_start) > MP_HEADERS_MAX)
                return bt_error_set(err, BT_EINVAL, "multipart: part %d: unterminated headers",
                                    index);
            if (eol == p) {
                p += 2;
                break;
            }
            if (!mp_part_header(&h, p, eol))
                return bt_error_set(err, BT_EINVAL, "multipart: part %d: malformed header", index);
            p = eol + 2;
        }
        if (!h.has_disposition)
            return bt_error_set(err, BT_EINVAL, "multipart: part %d: no Content-Disposition",
                                index);
        /* The data runs to the next CRLF "--boundary"; an empty part's CRLF
         * directly follows the blank line. */
        const char *data_end = memmem(p - 2, (size_t)(end - (p - 2)), delim, delim_len);
        if (data_end == NULL)
            return bt_error_set(err, BT_EINVAL, "multipart: part %d: no closing boundary", index);
        http_part part = {
            .name = h.name,
            .filename = h.has_filename ? h.filename : NULL,
            .content_type = h.has_type ? h.content_type : NULL,
            .data = data_end >= p ? p : "",
            .len = data_end >= p ? (size_t)(data_end - p) : 0,
        };
        int rc = fn(ud, &part);
        if (rc != 0)
            return rc;
        p = data_end + delim_len;
    }
}

int http_request_multipart(const http_request *req, http_part_fn fn, void *ud, bt_error *err) {
    return http_multipart_parse(http_request_content_type(req), req->body, req->body_len, fn, ud,
                                err);
}
