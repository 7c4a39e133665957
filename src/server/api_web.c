/*
 * api_web.c — the operations UI's static files (web/ of the repository,
 * copied with the bpmn-js bundles into <build>/web by the `web` target).
 *
 *   GET /              the UI's index.html
 *   GET /ui/{path*}    a file below the web root; a path that names no file
 *                      and whose last segment has no extension is one of
 *                      the UI's own pages (/ui/instances/123): index.html,
 *                      and the page's script routes on location.pathname
 *
 * The UI talks to baton only through the REST API (/v2), from the browser.
 * These routes are not public: with authentication on they need the same
 * credentials as the API, so the browser asks for them (Basic) once and
 * sends them with every request of the page, API calls included.
 *
 * The root is api_config.web_root (`baton serve --web DIR`); without one
 * the routes answer 404 with a problem saying how to get the UI. Paths are
 * guarded by http_respond_file (no "..", nothing outside the root); the
 * existence check here only chooses between the file and index.html.
 */
#include "server/api_int.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

/* Whether rel names a regular file below root (no guard: the answer only
 * picks which path http_respond_file, which guards, is given). */
static bool web_file_exists(const char *root, const char *rel) {
    char path[PATH_MAX];
    int n = snprintf(path, sizeof path, "%s/%s", root, rel);
    struct stat st;
    return n > 0 && (size_t)n < sizeof path && stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* Whether the last segment of rel has a '.' (an asset, not a UI page). */
static bool web_has_extension(const char *rel) {
    const char *slash = strrchr(rel, '/');
    const char *last = slash ? slash + 1 : rel;
    return strchr(last, '.') != NULL;
}

int api_web(http_exchange *ex, const http_request *req, void *app) {
    const api *a = app;
    const char *root = a->cfg.web_root;
    if (root == NULL || root[0] == '\0') {
        http_respond_problem(ex, 404, "NOT_FOUND",
                             "the web UI is not installed: build the `web` target and start "
                             "baton serve with --web DIR (or BATON_WEB)");
        return 0;
    }
    const char *rel = http_request_param(req, "path");
    if (rel == NULL || rel[0] == '\0')
        rel = "index.html";
    else if (!strstr(rel, "..") && !web_has_extension(rel) && !web_file_exists(root, rel))
        rel = "index.html"; /* one of the UI's pages: the script routes it */
    http_respond_file(ex, root, rel);
    return 0;
}
