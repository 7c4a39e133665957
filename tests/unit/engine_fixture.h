/*
 * engine_fixture.h — shared helpers for the engine tests that go through the
 * embedding API (include/baton.h) over a real SQLite file in a fresh
 * temporary directory, with a test clock the test moves by hand.
 *
 * Models are written inline: bpmn_doc() wraps a process body (and optional
 * definitions-level elements such as <error>) into a BPMN document with the
 * Zeebe namespace.
 */
#ifndef BATON_ENGINE_FIXTURE_H
#define BATON_ENGINE_FIXTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "baton.h"

typedef struct fixture {
    char dir[64];
    char path[128];
    int64_t now;
    baton *b;
} fixture;

static inline int64_t fixture_clock(void *ud) {
    return ((fixture *)ud)->now;
}

static inline void fixture_open_with(fixture *f, bool all_at_once) {
    baton_options opts = {
        .clock = fixture_clock, .clock_ud = f, .compensation_all_at_once = all_at_once};
    baton_error err;
    int rc = baton_open(f->path, &opts, &f->b, &err);
    if (rc != 0)
        fail_msg("baton_open: %s", err.message);
}

static inline fixture *fixture_new(bool all_at_once) {
    fixture *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/baton-test-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof f->path, "%s/baton.db", f->dir);
    f->now = 1795289100000LL; /* 2026-11-21T19:25:00Z */
    fixture_open_with(f, all_at_once);
    return f;
}

static inline void fixture_reopen(fixture *f) {
    baton_close(f->b);
    fixture_open_with(f, false);
}

static inline void fixture_free(fixture *f) {
    baton_close(f->b);
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", f->dir);
    free(f);
}

/* A BPMN document with one executable process `id` holding `body`. */
static inline char *bpmn_doc(const char *id, const char *defs, const char *body) {
    const char *fmt =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<bpmn:definitions xmlns:bpmn=\"http://www.omg.org/spec/BPMN/20100524/MODEL\"\n"
        "  xmlns:zeebe=\"http://camunda.org/schema/zeebe/1.0\" id=\"defs\"\n"
        "  targetNamespace=\"http://baton.test\">\n"
        "%s\n"
        "<bpmn:process id=\"%s\" isExecutable=\"true\">\n%s\n</bpmn:process>\n"
        "</bpmn:definitions>\n";
    size_t n = strlen(fmt) + strlen(id) + strlen(defs) + strlen(body) + 1;
    char *s = malloc(n);
    snprintf(s, n, fmt, defs, id, body);
    return s;
}

/* <serviceTask id=ID> with job type TYPE and optional extra extension XML. */
#define TASK(id, type)                                                                             \
    "<bpmn:serviceTask id=\"" id "\"><bpmn:extensionElements><zeebe:taskDefinition type=\"" type   \
    "\"/></bpmn:extensionElements></bpmn:serviceTask>\n"
#define FLOW(id, from, to)                                                                         \
    "<bpmn:sequenceFlow id=\"" id "\" sourceRef=\"" from "\" targetRef=\"" to "\"/>\n"
#define COND_FLOW(id, from, to, cond)                                                              \
    "<bpmn:sequenceFlow id=\"" id "\" sourceRef=\"" from "\" targetRef=\"" to "\">"                \
    "<bpmn:conditionExpression xsi:type=\"bpmn:tFormalExpression\" "                               \
    "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">" cond                                \
    "</bpmn:conditionExpression></bpmn:sequenceFlow>\n"

static inline void deploy_ok(fixture *f, const char *id, const char *defs, const char *body) {
    char *xml = bpmn_doc(id, defs, body);
    baton_error err;
    baton_deployed d;
    int rc = baton_deploy(f->b, "test.bpmn", xml, strlen(xml), &d, &err);
    if (rc != 0)
        fail_msg("deploy %s: %s (element %s, line %d)", id, err.message, err.element_id, err.line);
    free(xml);
}

static inline uint64_t start_ok(fixture *f, const char *id, const char *vars) {
    uint64_t key = 0;
    baton_error err;
    int rc = baton_create_instance(f->b, id, vars, NULL, &key, &err);
    if (rc != 0)
        fail_msg("start %s: %s", id, err.message);
    return key;
}

/* Activates exactly one job of type and returns its key (fails otherwise). */
static inline uint64_t one_job(fixture *f, const char *type) {
    baton_job jobs[4];
    int n = 0;
    baton_error err;
    assert_int_equal(baton_activate_jobs(f->b, type, "test", 60000, 4, jobs, &n, &err), 0);
    if (n != 1)
        fail_msg("expected one job of type %s, got %d", type, n);
    uint64_t key = jobs[0].key;
    baton_jobs_free(jobs, n);
    return key;
}

static inline int count_jobs(fixture *f, const char *type) {
    baton_job jobs[64];
    int n = 0;
    baton_error err;
    assert_int_equal(baton_activate_jobs(f->b, type, "count", 1, 64, jobs, &n, &err), 0);
    baton_jobs_free(jobs, n);
    /* Give them back: let their 1 ms deadline pass. */
    f->now += 2;
    baton_tick(f->b, &err);
    return n;
}

static inline void complete_ok(fixture *f, uint64_t job, const char *vars) {
    baton_error err;
    int rc = baton_complete_job(f->b, job, vars, &err);
    if (rc != 0)
        fail_msg("complete %llu: %s", (unsigned long long)job, err.message);
}

static inline int instance_state(fixture *f, uint64_t key) {
    baton_instance inst;
    assert_int_equal(baton_get_instance(f->b, key, &inst), 0);
    return inst.state;
}

/* Fires what is due at the fixture's clock. */
static inline void tick(fixture *f) {
    baton_error err;
    assert_true(baton_tick(f->b, &err) >= 0);
}

static inline void assert_contains(const char *text, const char *needle) {
    if (!text || !strstr(text, needle))
        fail_msg("'%s' lacks '%s'", text ? text : "(null)", needle);
}

static inline void assert_lacks(const char *text, const char *needle) {
    if (text && strstr(text, needle))
        fail_msg("'%s' has '%s'", text, needle);
}

/* The root variables of an active instance contain `needle`. */
static inline void assert_vars_contain(fixture *f, uint64_t pi, const char *needle) {
    char *vars = baton_get_variables(f->b, pi);
    assert_non_null(vars);
    assert_contains(vars, needle);
    baton_free(vars);
}

static inline void throw_ok(fixture *f, uint64_t job, const char *code) {
    baton_error err;
    if (baton_throw_error(f->b, job, code, "it failed", &err) != 0)
        fail_msg("throw %s: %s", code, err.message);
}

/* Publishes a message (ttl: its time to live, ms). */
static inline void publish_ok(fixture *f, const char *name, const char *key, int64_t ttl,
                              const char *vars) {
    baton_message m = {name, key, ttl, NULL, vars};
    uint64_t mk = 0;
    baton_error err;
    if (baton_publish_message(f->b, &m, &mk, &err) != 0)
        fail_msg("publish %s: %s", name, err.message);
    assert_true(mk > 0);
}

/* A model of process `bad` that is refused: the message holds `needle`. */
static inline void deploy_fails(fixture *f, const char *defs, const char *body,
                                const char *needle) {
    char *xml = bpmn_doc("bad", defs, body);
    baton_error err;
    int rc = baton_deploy(f->b, "bad.bpmn", xml, strlen(xml), NULL, &err);
    free(xml);
    if (rc != BATON_EINVAL)
        fail_msg("a model that should be refused deployed (%d); wanted '%s'", rc, needle);
    assert_true(err.line > 0 || err.element_id[0]);
    assert_contains(err.message, needle);
}

/* ---- history --------------------------------------------------------------------- */

typedef struct history_count {
    const char *value_type, *intent, *fragment; /* fragment NULL: any value */
    int n;
} history_count;

static inline int history_count_cb(void *ud, const char *value_type, const char *intent,
                                   uint64_t key, const char *value_json) {
    (void)key;
    history_count *c = ud;
    if (!strcmp(value_type, c->value_type) && !strcmp(intent, c->intent) &&
        (!c->fragment || strstr(value_json, c->fragment)))
        c->n++;
    return 0;
}

/* Records of the instance with that type and intent whose value holds
 * fragment (NULL: any). */
static inline int count_records(fixture *f, uint64_t pi, const char *value_type, const char *intent,
                                const char *fragment) {
    history_count c = {value_type, intent, fragment, 0};
    assert_int_equal(baton_history(f->b, pi, history_count_cb, &c), 0);
    return c.n;
}

#endif
