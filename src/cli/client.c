/*
 * client.c — the REST client of the `baton` commands (client.h): libcurl's
 * easy interface, one handle per client so that its connection is kept
 * alive between requests.
 *
 * Every request sets all the options it depends on (method, body, headers,
 * time-out) because the handle keeps the previous request's options. The
 * body is collected into a bt_buf; the Content-Type of the answer decides
 * whether an error is printed from problem details (RFC 9457) or raw.
 *
 * Aborting: a client may watch a flag (the worker's "stop" flag, set by its
 * SIGINT/SIGTERM handler); the transfer's progress callback, which libcurl
 * calls at least once a second even while idle, ends the transfer when the
 * flag is set.
 */
#include "cli/client.h"
#include "feel/feel.h"

#include <curl/curl.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct cli_client {
    CURL *curl;
    char *address; /* no trailing slash */
    char *userpwd; /* USER:PASSWORD or NULL */
    char *bearer;  /* "Authorization: Bearer ..." or NULL */
    volatile sig_atomic_t *abort_flag;
    cli_response *current; /* the response being received */
};

/* ---- options ------------------------------------------------------------------ */

int cli_client_option(cli_client_config *cfg, int argc, char **argv, int *i) {
    static const char *const names[] = {"--address", "--user", "--token"};
    const char *a = argv[*i];
    for (size_t n = 0; n < BT_ARRAY_LEN(names); n++) {
        size_t len = strlen(names[n]);
        const char *value;
        if (strcmp(a, names[n]) == 0) {
            if (*i + 1 >= argc) {
                fprintf(stderr, "error: %s needs a value\n", a);
                return -1;
            }
            value = argv[++*i];
        } else if (strncmp(a, names[n], len) == 0 && a[len] == '=') {
            value = a + len + 1;
        } else {
            continue;
        }
        if (n == 0)
            cfg->address = value;
        else if (n == 1)
            cfg->user = value;
        else
            cfg->token = value;
        return 1;
    }
    return 0;
}

/* ---- set-up ---------------------------------------------------------------------- */

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_global_rc;

static void curl_global_setup(void) {
    curl_global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static const char *config_value(const char *flag, const char *env_name) {
    if (flag && *flag)
        return flag;
    const char *env = getenv(env_name);
    return env && *env ? env : NULL;
}

int cli_client_new(const cli_client_config *cfg, cli_client **out) {
    *out = NULL;
    pthread_once(&curl_once, curl_global_setup);
    if (curl_global_rc != CURLE_OK) {
        fprintf(stderr, "error: libcurl: %s\n", curl_easy_strerror(curl_global_rc));
        return BT_EIO;
    }
    cli_client_config none = {0};
    if (!cfg)
        cfg = &none;
    const char *address = config_value(cfg->address, "BATON_ADDRESS");
    const char *user = config_value(cfg->user, "BATON_USER");
    const char *token = config_value(cfg->token, "BATON_TOKEN");
    if (!address)
        address = CLI_DEFAULT_ADDRESS;

    cli_client *c = bt_calloc(1, sizeof *c);
    if (!c)
        return BT_ENOMEM;
    size_t len = strlen(address);
    while (len > 0 && address[len - 1] == '/')
        len--;
    /* "host:port" alone means http:// */
    bool has_scheme = strstr(address, "://") != NULL;
    bt_buf a = BT_BUF_INIT;
    if (!has_scheme)
        bt_buf_puts(&a, "http://");
    bt_buf_append(&a, address, len);
    c->address = bt_buf_take(&a);
    if (user)
        c->userpwd = bt_strdup(user);
    if (token) {
        bt_buf h = BT_BUF_INIT;
        bt_buf_printf(&h, "Authorization: Bearer %s", token);
        c->bearer = bt_buf_take(&h);
    }
    c->curl = curl_easy_init();
    if (!c->address || (user && !c->userpwd) || (token && !c->bearer) || !c->curl) {
        cli_client_free(c);
        fprintf(stderr, "error: out of memory\n");
        return BT_ENOMEM;
    }
    *out = c;
    return BT_OK;
}

void cli_client_free(cli_client *c) {
    if (!c)
        return;
    if (c->curl)
        curl_easy_cleanup(c->curl);
    bt_free(c->address);
    bt_free(c->userpwd);
    bt_free(c->bearer);
    bt_free(c);
}

const char *cli_client_address(const cli_client *c) {
    return c->address;
}

void cli_client_set_abort(cli_client *c, volatile sig_atomic_t *flag) {
    c->abort_flag = flag;
}

void cli_response_free(cli_response *r) {
    if (!r)
        return;
    bt_buf_free(&r->body);
    r->status = 0;
    r->content_type[0] = 0;
    r->error[0] = 0;
}

/* ---- transfers ---------------------------------------------------------------------- */

static size_t on_body(char *data, size_t size, size_t n, void *ud) {
    cli_client *c = ud;
    size_t len = size * n;
    if (bt_buf_append(&c->current->body, data, len) != BT_OK)
        return 0; /* libcurl reports a write error */
    return len;
}

static int on_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow) {
    (void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
    cli_client *c = ud;
    return c->abort_flag && *c->abort_flag ? 1 : 0;
}

/* Sets what every request shares, runs it, collects the answer. */
static int perform(cli_client *c, const char *path, struct curl_slist *headers, long timeout_ms,
                   cli_response *out) {
    cli_response_free(out);
    bt_buf url = BT_BUF_INIT;
    bt_buf_printf(&url, "%s%s", c->address, path);
    if (url.failed)
        return BT_ENOMEM;
    CURL *h = c->curl;
    curl_easy_setopt(h, CURLOPT_URL, url.data);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L); /* threads: no SIGALRM for DNS time-outs */
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, CLI_CONNECT_TIMEOUT_MS);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms > 0 ? timeout_ms : CLI_REQUEST_TIMEOUT_MS);
    curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, c);
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, c->abort_flag ? 0L : 1L);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, c);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "baton-cli");
    if (c->userpwd) {
        curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        curl_easy_setopt(h, CURLOPT_USERPWD, c->userpwd);
    }
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    char errbuf[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);

    c->current = out;
    CURLcode rc = curl_easy_perform(h);
    c->current = NULL;
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, NULL);
    bt_buf_free(&url);
    if (rc != CURLE_OK) {
        snprintf(out->error, sizeof out->error, "%s", errbuf[0] ? errbuf : curl_easy_strerror(rc));
        return rc == CURLE_ABORTED_BY_CALLBACK ? BT_ECONFLICT
               : rc == CURLE_OUT_OF_MEMORY     ? BT_ENOMEM
                                               : BT_EIO;
    }
    if (out->body.failed)
        return BT_ENOMEM;
    bt_buf_putc(&out->body, 0); /* NUL-terminated even when empty */
    out->body.len--;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &out->status);
    char *ct = NULL;
    curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &ct);
    snprintf(out->content_type, sizeof out->content_type, "%s", ct ? ct : "");
    return BT_OK;
}

/* The request headers: Accept, the bearer token, optionally Content-Type.
 * "Expect:" turns off libcurl's 100-continue round trip for large bodies. */
static struct curl_slist *base_headers(cli_client *c, const char *content_type) {
    struct curl_slist *list = NULL, *next;
    const char *items[4] = {"Accept: application/json, application/problem+json",
                            "Expect:", c->bearer, content_type};
    for (size_t i = 0; i < BT_ARRAY_LEN(items); i++) {
        if (!items[i])
            continue;
        next = curl_slist_append(list, items[i]);
        if (!next) {
            curl_slist_free_all(list);
            return NULL;
        }
        list = next;
    }
    return list;
}

int cli_client_request_text(cli_client *c, const char *method, const char *path, const char *json,
                            long timeout_ms, cli_response *out) {
    struct curl_slist *headers = base_headers(c, json ? "Content-Type: application/json" : NULL);
    if (!headers)
        return BT_ENOMEM;
    CURL *h = c->curl;
    curl_easy_setopt(h, CURLOPT_MIMEPOST, NULL);
    if (strcmp(method, "GET") == 0) {
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, NULL);
    } else {
        /* POSTFIELDS makes it a POST with a body; other methods rename it. */
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, json ? json : "");
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, json ? (long)strlen(json) : 0L);
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, strcmp(method, "POST") == 0 ? NULL : method);
    }
    int rc = perform(c, path, headers, timeout_ms, out);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, NULL);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
    curl_slist_free_all(headers);
    return rc;
}

int cli_client_request(cli_client *c, const char *method, const char *path, json_t *body,
                       long timeout_ms, cli_response *out) {
    char *json = NULL;
    if (body) {
        json = json_dumps(body, JSON_COMPACT);
        if (!json)
            return BT_ENOMEM;
    }
    int rc = cli_client_request_text(c, method, path, json, timeout_ms, out);
    bt_free(json);
    return rc;
}

static const char *base_name(const char *path) {
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

int cli_client_deploy(cli_client *c, char *const *files, int n_files, cli_response *out) {
    CURL *h = c->curl;
    curl_mime *mime = curl_mime_init(h);
    struct curl_slist *headers = base_headers(c, NULL);
    if (!mime || !headers) {
        curl_mime_free(mime);
        curl_slist_free_all(headers);
        return BT_ENOMEM;
    }
    for (int i = 0; i < n_files; i++) {
        curl_mimepart *part = curl_mime_addpart(mime);
        if (!part || curl_mime_name(part, "resources") != CURLE_OK ||
            curl_mime_filedata(part, files[i]) != CURLE_OK ||
            curl_mime_filename(part, base_name(files[i])) != CURLE_OK ||
            curl_mime_type(part, "application/octet-stream") != CURLE_OK) {
            curl_mime_free(mime);
            curl_slist_free_all(headers);
            snprintf(out->error, sizeof out->error, "cannot attach %s", files[i]);
            return BT_EIO;
        }
    }
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, NULL);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, NULL);
    curl_easy_setopt(h, CURLOPT_MIMEPOST, mime);
    int rc = perform(c, "/v2/deployments", headers, 0, out);
    curl_easy_setopt(h, CURLOPT_MIMEPOST, NULL);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
    curl_mime_free(mime);
    curl_slist_free_all(headers);
    return rc;
}

/* ---- answers -------------------------------------------------------------------------- */

void cli_report_failure(const cli_client *c, const cli_response *r, int rc) {
    if (rc == BT_ENOMEM) {
        fprintf(stderr, "error: out of memory\n");
        return;
    }
    if (rc == BT_ECONFLICT) {
        fprintf(stderr, "error: interrupted\n");
        return;
    }
    if (rc != BT_OK || r->status == 0) {
        fprintf(stderr, "error: cannot reach baton at %s: %s\n", c->address,
                r->error[0] ? r->error : "no answer");
        return;
    }
    json_t *doc = NULL;
    if (r->body.len > 0)
        doc = json_loadb(r->body.data, r->body.len, 0, NULL);
    const char *title = doc ? cli_json_str(doc, "title", false) : "";
    const char *detail = doc ? cli_json_str(doc, "detail", false) : "";
    if (*title || *detail) {
        fprintf(stderr, "error: %s: %s\n", *title ? title : "error", detail);
    } else {
        int len = r->body.len > 500 ? 500 : (int)r->body.len;
        while (len > 0 && (r->body.data[len - 1] == '\n' || r->body.data[len - 1] == '\r'))
            len--;
        fprintf(stderr, "error: HTTP %ld%s%.*s\n", r->status, len ? ": " : "", len,
                len ? r->body.data : "");
    }
    json_decref(doc);
}

int cli_call_text(cli_client *c, const char *method, const char *path, const char *json,
                  long timeout_ms, cli_response *out) {
    int rc = cli_client_request_text(c, method, path, json, timeout_ms, out);
    if (rc != BT_OK || out->status < 200 || out->status > 299) {
        cli_report_failure(c, out, rc);
        cli_response_free(out);
        return 1;
    }
    return 0;
}

int cli_call(cli_client *c, const char *method, const char *path, json_t *body, long timeout_ms,
             json_t **out) {
    if (out)
        *out = NULL;
    char *json = NULL;
    if (body && !(json = json_dumps(body, JSON_COMPACT))) {
        fprintf(stderr, "error: out of memory\n");
        return 1;
    }
    cli_response r = {0};
    int status = cli_call_text(c, method, path, json, timeout_ms, &r);
    bt_free(json);
    if (status != 0)
        return status;
    if (out && r.body.len > 0) {
        json_error_t jerr;
        *out = json_loadb(r.body.data, r.body.len, 0, &jerr);
        if (!*out) {
            fprintf(stderr, "error: the server's answer is not JSON: %s\n", jerr.text);
            status = 1;
        }
    }
    cli_response_free(&r);
    return status;
}

int cli_search(const cli_client_config *cfg, const char *path, json_t *body, const char *noun,
               void (*print)(json_t *items)) {
    cli_client *c;
    if (cli_client_new(cfg, &c) != BT_OK)
        return 1;
    json_t *answer = NULL;
    int status = cli_call(c, "POST", path, body, 0, &answer);
    if (status == 0) {
        json_t *items = json_object_get(answer, "items");
        print(items);
        json_int_t total =
            json_integer_value(json_object_get(json_object_get(answer, "page"), "totalItems"));
        if (total > (json_int_t)json_array_size(items))
            fprintf(stderr, "(%zu of %lld %s shown; --limit N shows more)\n",
                    json_array_size(items), (long long)total, noun);
    }
    json_decref(answer);
    cli_client_free(c);
    return status;
}

int cli_json_object_text(const char *json, size_t len, bt_buf *out, bt_error *err) {
    feel_value *v = NULL;
    bt_error perr = {0};
    int rc = feel_value_from_json(json, len, &v, &perr);
    if (rc == BT_ENOMEM)
        return bt_error_set(err, rc, "out of memory");
    if (rc != BT_OK)
        return bt_error_set(err, BT_EINVAL, "not JSON: %s (line %d, column %d)", perr.message,
                            perr.line, perr.column);
    if (feel_value_type(v) != FEEL_CONTEXT) {
        feel_value_unref(v);
        return bt_error_set(err, BT_EINVAL, "not a JSON object");
    }
    rc = feel_value_to_json(v, out);
    feel_value_unref(v);
    return rc == BT_OK && !out->failed ? BT_OK : bt_error_set(err, BT_ENOMEM, "out of memory");
}

/* ---- helpers ---------------------------------------------------------------------------- */

bool cli_is_key(const char *s) {
    size_t n = strlen(s);
    if (n == 0 || n > 19 || strspn(s, "0123456789") != n)
        return false;
    return strspn(s, "0") != n;
}

int cli_parse_long(const char *s, long min, long max, long *out) {
    if (!s || !*s)
        return BT_EINVAL;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (*end || errno || v < min || v > max)
        return BT_EINVAL;
    *out = v;
    return BT_OK;
}

const char *cli_json_str(const json_t *obj, const char *name, bool dash) {
    const json_t *v = json_object_get(obj, name);
    if (json_is_string(v))
        return json_string_value(v);
    return dash && (!v || json_is_null(v)) ? "-" : "";
}

int cli_json_set_str(json_t *obj, const char *name, const char *value) {
    json_t *s = json_string(value);
    return s && json_object_set_new(obj, name, s) == 0 ? BT_OK : BT_ENOMEM;
}

/* Length of the valid UTF-8 sequence at s (at most n bytes), 0 if invalid. */
static size_t utf8_sequence(const unsigned char *s, size_t n) {
    unsigned c = s[0];
    size_t len;
    unsigned min;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        len = 2, min = 0x80;
    else if (c >= 0xE0 && c <= 0xEF)
        len = 3, min = 0x800;
    else if (c >= 0xF0 && c <= 0xF4)
        len = 4, min = 0x10000;
    else
        return 0;
    if (len > n)
        return 0;
    unsigned cp = c & (0x7F >> len);
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return len;
}

void cli_utf8_sanitize(char *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        size_t len = utf8_sequence((const unsigned char *)s + i, n - i);
        if (len == 0 || (len == 1 && s[i] == 0)) {
            s[i++] = '?';
            continue;
        }
        i += len;
    }
}

void cli_table_print(FILE *to, const char *const *header, int n_cols, const char *const *cells,
                     int n_rows) {
    size_t width[16] = {0};
    if (n_cols > (int)BT_ARRAY_LEN(width))
        n_cols = (int)BT_ARRAY_LEN(width);
    for (int col = 0; col < n_cols; col++) {
        width[col] = strlen(header[col]);
        for (int row = 0; row < n_rows; row++) {
            size_t len = strlen(cells[row * n_cols + col]);
            if (len > width[col])
                width[col] = len;
        }
    }
    for (int row = -1; row < n_rows; row++) {
        const char *const *line = row < 0 ? header : cells + row * n_cols;
        for (int col = 0; col < n_cols; col++) {
            if (col == n_cols - 1)
                fprintf(to, "%s\n", line[col]);
            else
                fprintf(to, "%-*s  ", (int)width[col], line[col]);
        }
    }
}

int cli_body_variables(bt_buf *body, const char *variables) {
    bt_error err = {0};
    bt_buf_puts(body, ",\"variables\":");
    if (cli_json_object_text(variables, strlen(variables), body, &err) == BT_OK)
        return 0;
    fprintf(stderr, "error: --variables is %s\n", err.message);
    return err.code == BT_ENOMEM ? 1 : 2;
}

int cli_post_print_key(const cli_client_config *cfg, const char *path, const char *body,
                       const char *field) {
    cli_client *c;
    if (cli_client_new(cfg, &c) != BT_OK)
        return 1;
    cli_response r = {0};
    int status = cli_call_text(c, "POST", path, body, 0, &r);
    if (status == 0) {
        feel_value *doc = NULL;
        size_t len = 0;
        const char *k = NULL;
        if (feel_value_from_json(r.body.data, r.body.len, &doc, NULL) == BT_OK &&
            feel_value_type(doc) == FEEL_CONTEXT)
            k = feel_string_ptr(feel_context_get(doc, field, strlen(field)), &len);
        if (k) {
            printf("%.*s\n", (int)len, k);
        } else {
            fprintf(stderr, "error: the answer has no %s\n", field);
            status = 1;
        }
        feel_value_unref(doc);
    }
    cli_response_free(&r);
    cli_client_free(c);
    return status;
}
