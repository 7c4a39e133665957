/*
 * variables.c — variable scopes, Zeebe's propagation rules, and the
 * input/output mappings.
 *
 * Every element instance is a variable scope; the process instance is the
 * root. A name is looked up from the element instance outwards: the nearest
 * scope that has it wins (local variables shadow outer ones).
 *
 * Setting variables (Camunda docs, "Variables"):
 *   - local: created or updated in the given scope;
 *   - propagated (job completion without output mappings, the variables of
 *     a message, ...): each name is updated in the nearest scope that has it,
 *     starting at the given scope; a name no scope has is created at the root;
 *   - input mappings create local variables of the element instance;
 *   - output mappings are evaluated in the element instance (which sees its
 *     own local variables, such as a job's result when output mappings exist)
 *     and their results are propagated from the flow scope.
 * A mapping target is a name or a dotted path ("order.total"): a path
 * updates the nested entry of the context the name holds (or of a new one).
 *
 * Each change is a VARIABLE record (CREATED / UPDATED) with the value as JSON.
 */
#include "engine/eng_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void oom_if(const void *p) {
    if (!p)
        abort();
}

const feel_value *eng_vars_get(const eng_vars *v, const char *name, size_t len) {
    for (int i = 0; i < v->count; i++)
        if (strncmp(v->items[i].name, name, len) == 0 && v->items[i].name[len] == 0)
            return v->items[i].value;
    return NULL;
}

void eng_vars_free(eng_vars *v) {
    for (int i = 0; i < v->count; i++) {
        bt_free(v->items[i].name);
        feel_value_unref(v->items[i].value);
    }
    bt_free(v->items);
    memset(v, 0, sizeof *v);
}

static void variable_record(eng_engine *e, eng_elem *scope, uint64_t key, const char *name,
                            size_t len, const feel_value *value, bool created) {
    bt_buf b = BT_BUF_INIT;
    bt_buf_puts(&b, "{\"name\":");
    bt_buf_json_string(&b, name, len);
    bt_buf_puts(&b, ",\"value\":");
    bt_buf json = BT_BUF_INIT;
    if (feel_value_to_json(value, &json) != BT_OK)
        abort();
    bt_buf_json_string(&b, json.data ? json.data : "null", json.data ? json.len : 4);
    bt_buf_free(&json);
    bt_buf_printf(&b, ",\"scopeKey\":\"%llu\",\"processInstanceKey\":\"%llu\"}",
                  (unsigned long long)scope->key, (unsigned long long)scope->inst->key);
    size_t n = b.len;
    char *text = bt_buf_take(&b);
    oom_if(text);
    eng_record_add(e, "VARIABLE", created ? "CREATED" : "UPDATED", key, scope->inst->key, text, n);
}

void eng_vars_set_local(eng_engine *e, eng_elem *scope, const char *name, size_t len,
                        feel_value *value) {
    eng_vars *v = &scope->vars;
    for (int i = 0; i < v->count; i++) {
        if (strncmp(v->items[i].name, name, len) == 0 && v->items[i].name[len] == 0) {
            if (feel_value_equal(v->items[i].value, value)) {
                feel_value_unref(value); /* unchanged: no record */
                return;
            }
            feel_value_unref(v->items[i].value);
            v->items[i].value = value;
            variable_record(e, scope, v->items[i].key, name, len, value, false);
            eng_instance_touch(e, scope->inst);
            return;
        }
    }
    char *copy = bt_strndup(name, len);
    oom_if(copy);
    uint64_t key = eng_key_next(e);
    eng_vars_append(v, copy, value, key);
    variable_record(e, scope, key, name, len, value, true);
    eng_instance_touch(e, scope->inst);
}

void eng_vars_propagate(eng_engine *e, eng_elem *from, const char *name, size_t len,
                        feel_value *value) {
    eng_elem *root = from;
    for (eng_elem *s = from; s; s = s->scope) {
        if (eng_vars_get(&s->vars, name, len)) {
            eng_vars_set_local(e, s, name, len, value);
            return;
        }
        root = s;
    }
    eng_vars_set_local(e, root, name, len, value);
}

void eng_vars_append(eng_vars *v, char *name, feel_value *value, uint64_t key) {
    if (v->count == v->cap) {
        /* One to begin with, then doubling: most scopes hold a few (and a
         * million waiting instances add up). */
        v->cap = v->cap ? v->cap * 2 : 1;
        v->items = bt_xrealloc(v->items, (size_t)v->cap * sizeof *v->items);
    }
    v->items[v->count++] = (eng_var){name, value, key};
}

void eng_vars_merge(eng_engine *e, eng_elem *scope, const feel_value *ctx, bool local) {
    size_t n = feel_context_count(ctx);
    for (size_t i = 0; i < n; i++) {
        size_t len;
        const char *name = feel_context_key_at(ctx, i, &len);
        feel_value *v = feel_value_ref((feel_value *)feel_context_value_at(ctx, i));
        if (local)
            eng_vars_set_local(e, scope, name, len, v);
        else
            eng_vars_propagate(e, scope, name, len, v);
    }
}

/* ---- FEEL evaluation --------------------------------------------------------- */

static const feel_value *lookup_in_scopes(void *ud, const char *name, size_t len) {
    for (const eng_elem *s = ud; s; s = s->scope) {
        const feel_value *v = eng_vars_get(&s->vars, name, len);
        if (v)
            return v;
    }
    return NULL;
}

int eng_eval(eng_engine *e, eng_elem *el, const feel_expr *expr, feel_value **out,
             bt_error *warning) {
    feel_env env = {lookup_in_scopes, el, e->now};
    int rc = feel_eval(expr, &env, out, warning);
    if (rc == BT_ENOMEM)
        abort();
    return rc;
}

feel_value *eng_vars_visible_at(const eng_elem *el) {
    feel_value *ctx = feel_context_new();
    oom_if(ctx);
    /* Outermost first, so inner scopes overwrite (shadow) outer names. */
    int depth = 0;
    for (const eng_elem *s = el; s; s = s->scope)
        depth++;
    const eng_elem **chain = bt_xmalloc((size_t)depth * sizeof *chain);
    int n = 0;
    for (const eng_elem *s = el; s; s = s->scope)
        chain[n++] = s;
    for (int i = n - 1; i >= 0; i--)
        for (int k = 0; k < chain[i]->vars.count; k++) {
            const eng_var *v = &chain[i]->vars.items[k];
            if (feel_context_put(ctx, v->name, strlen(v->name), feel_value_ref(v->value)) != BT_OK)
                abort();
        }
    bt_free(chain);
    return ctx;
}

feel_value *eng_variables_visible(const eng_engine *e, uint64_t scope_key) {
    eng_elem *el = bt_map_get(&e->elems, scope_key);
    if (el)
        return eng_vars_visible_at(el);
    /* An instance that completed in this batch still has its final variables. */
    eng_instance *inst = bt_map_get(&e->instances, scope_key);
    if (!inst || inst->state != ENG_INSTANCE_COMPLETED)
        return NULL;
    feel_value *ctx = feel_context_new();
    oom_if(ctx);
    for (int i = 0; inst->final_vars && i < inst->final_vars->count; i++) {
        const eng_var *v = &inst->final_vars->items[i];
        if (feel_context_put(ctx, v->name, strlen(v->name), feel_value_ref(v->value)) != BT_OK)
            abort();
    }
    return ctx;
}

int eng_variables_set(eng_engine *e, int64_t now, uint64_t scope_key, const feel_value *vars,
                      bool local, bt_error *err) {
    e->now = now;
    eng_elem *el = bt_map_get(&e->elems, scope_key);
    if (!el)
        return bt_error_set(err, BT_ENOTFOUND, "no active element instance with key '%llu'",
                            (unsigned long long)scope_key);
    if (!vars || feel_value_type(vars) != FEEL_CONTEXT)
        return bt_error_set(err, BT_EINVAL, "variables must be a JSON object");
    eng_vars_merge(e, el, vars, local);
    return BT_OK;
}

/* ---- mappings ------------------------------------------------------------------- */

/* A fresh copy of a context (entries shared by reference), or a new empty
 * context when v is not one. */
static feel_value *context_copy(const feel_value *v) {
    feel_value *c = feel_context_new();
    oom_if(c);
    if (v && feel_value_type(v) == FEEL_CONTEXT) {
        size_t n = feel_context_count(v);
        for (size_t i = 0; i < n; i++) {
            size_t len;
            const char *k = feel_context_key_at(v, i, &len);
            if (feel_context_put(
                    c, k, len, feel_value_ref((feel_value *)feel_context_value_at(v, i))) != BT_OK)
                abort();
        }
    }
    return c;
}

/* Returns base with the value at path (dotted, relative to base) set to val;
 * base may be NULL or not a context. Steals val. */
static feel_value *with_path(const feel_value *base, const char *path, feel_value *val) {
    const char *dot = strchr(path, '.');
    size_t len = dot ? (size_t)(dot - path) : strlen(path);
    feel_value *c = context_copy(base);
    feel_value *inner = val;
    if (dot) {
        const feel_value *old = base && feel_value_type(base) == FEEL_CONTEXT
                                    ? feel_context_get(base, path, len)
                                    : NULL;
        inner = with_path(old, dot + 1, val);
    }
    if (feel_context_put(c, path, len, inner) != BT_OK)
        abort();
    return c;
}

/* Evaluates mappings in el; adds each result to doc (a fresh context) at its
 * target. `current` resolves the present value of a target's first name. */
static int mappings_eval(eng_engine *e, eng_elem *el, const bpmn_mapping *maps, int n,
                         feel_value *doc, eng_elem *current, char *msg, size_t msg_size) {
    for (int i = 0; i < n; i++) {
        feel_value *v = NULL;
        bt_error warn = {0};
        int rc = eng_eval(e, el, maps[i].source, &v, &warn);
        if (rc != BT_OK) {
            snprintf(msg, msg_size, "failed to evaluate expression '%s': %s", maps[i].source_text,
                     bt_strerror(rc));
            return BT_EEVAL;
        }
        if (feel_value_type(v) == FEEL_NULL && warn.code) {
            /* Zeebe: a mapping whose source cannot be resolved is an error. */
            feel_value_unref(v);
            snprintf(msg, msg_size, "failed to evaluate expression '%s': %s", maps[i].source_text,
                     warn.message);
            return BT_EEVAL;
        }
        const char *target = maps[i].target;
        const char *dot = strchr(target, '.');
        if (!dot) {
            if (feel_context_put(doc, target, strlen(target), v) != BT_OK)
                abort();
            continue;
        }
        size_t len = (size_t)(dot - target);
        const feel_value *base = feel_context_get(doc, target, len);
        if (!base && current)
            base = lookup_in_scopes(current, target, len);
        feel_value *nested = with_path(base, dot + 1, v);
        if (feel_context_put(doc, target, len, nested) != BT_OK)
            abort();
    }
    return BT_OK;
}

int eng_mappings_input(eng_engine *e, eng_elem *el, char *msg, size_t msg_size) {
    const bpmn_element *m = eng_elem_model(el);
    feel_value *doc = feel_context_new();
    oom_if(doc);
    int rc = mappings_eval(e, el, m->inputs, m->n_inputs, doc, NULL, msg, msg_size);
    if (rc == BT_OK)
        eng_vars_merge(e, el, doc, true);
    feel_value_unref(doc);
    return rc;
}

int eng_mappings_output(eng_engine *e, eng_elem *el, char *msg, size_t msg_size) {
    const bpmn_element *m = eng_elem_model(el);
    feel_value *doc = feel_context_new();
    oom_if(doc);
    int rc = mappings_eval(e, el, m->outputs, m->n_outputs, doc, el->scope, msg, msg_size);
    if (rc == BT_OK && el->scope)
        eng_vars_merge(e, el->scope, doc, false);
    feel_value_unref(doc);
    return rc;
}
