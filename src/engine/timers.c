/*
 * timers.c — timer events: intermediate timer catch events and timer
 * boundary events (interrupting or not, once or in a cycle).
 *
 *   catch event     activated → timer created → (due) TRIGGERED → the event
 *                   completes and the token moves on
 *   boundary event  the activity activated → a timer per timer boundary →
 *                   (due) TRIGGERED → interrupting: the activity is
 *                   terminated and the boundary event takes over;
 *                   non-interrupting: the boundary event starts a parallel
 *                   path, and a cycle schedules the next firing
 *   any timer       its owner completes or is terminated first → CANCELED
 *
 * Timers are durable like everything else: they live in their element
 * instance's encoded state with an absolute due time, and the engine's
 * due-time heap is rebuilt from them on restore — a timer that fell due while
 * the server was down fires at the first tick after the start, never early.
 */
#include "engine/eng_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void timer_record(eng_engine *e, const eng_timer *t, const char *intent) {
    const bpmn_element *ev = &eng_instance_process(t->elem->inst)->elements[t->event];
    bt_buf b = BT_BUF_INIT;
    bt_buf_puts(&b, "{\"targetElementId\":");
    bt_buf_json_string(&b, ev->id, strlen(ev->id));
    bt_buf_printf(&b,
                  ",\"elementInstanceKey\":\"%llu\",\"processInstanceKey\":\"%llu\","
                  "\"dueDate\":%lld,\"repetitions\":%d}",
                  (unsigned long long)t->elem->key, (unsigned long long)t->elem->inst->key,
                  (long long)t->due_ms, t->repeats);
    size_t len = b.len;
    char *text = bt_buf_take(&b);
    if (!text)
        abort();
    eng_record_add(e, "TIMER", intent, t->key, t->elem->inst->key, text, len);
    eng_instance_touch(e, t->elem->inst);
}

void eng_timer_attach(eng_engine *e, eng_elem *el, eng_timer *t) {
    t->elem = el;
    t->next = NULL;
    eng_timer **at = &el->timers;
    while (*at)
        at = &(*at)->next;
    *at = t;
    el->n_timers++;
    bt_map_put(&e->timers, t->key, t);
    eng_due_push_timer(e, t->due_ms, t->key);
}

static void timer_detach(eng_engine *e, eng_timer *t) {
    eng_elem *el = t->elem;
    for (eng_timer **at = &el->timers; *at; at = &(*at)->next)
        if (*at == t) {
            *at = t->next;
            el->n_timers--;
            break;
        }
    bt_map_remove(&e->timers, t->key);
}

void eng_timer_free(eng_engine *e, eng_timer *t) {
    timer_detach(e, t);
    bt_free(t);
}

/* The timer value's text: the literal, or the FEEL result as a string (a
 * FEEL duration or date-time becomes its ISO 8601 text). */
static int timer_text(eng_engine *e, eng_elem *el, const bpmn_element *ev, char **out, char *msg,
                      size_t msg_size) {
    if (!ev->timer.feel) {
        *out = bt_xstrdup(ev->timer.text);
        return BT_OK;
    }
    feel_value *v = NULL;
    bt_error warn = {0};
    int rc = eng_eval(e, el, ev->timer.feel, &v, &warn);
    size_t len;
    const char *s = rc == BT_OK ? feel_string_ptr(v, &len) : NULL;
    if (s) {
        *out = bt_strndup(s, len);
    } else if (rc == BT_OK && feel_value_type(v) != FEEL_NULL) {
        bt_buf json = BT_BUF_INIT; /* temporal values print as "..." ISO strings */
        feel_value_to_json(v, &json);
        *out = json.len > 2 && json.data[0] == '"' ? bt_strndup(json.data + 1, json.len - 2) : NULL;
        bt_buf_free(&json);
    } else {
        *out = NULL;
    }
    if (!*out)
        snprintf(msg, msg_size,
                 "Expected the timer expression '%s' to give a duration, date or "
                 "cycle, but it gave %s%s%s",
                 ev->timer.text, rc == BT_OK ? feel_type_name(feel_value_type(v)) : bt_strerror(rc),
                 warn.code ? ": " : "", warn.code ? warn.message : "");
    feel_value_unref(v);
    return *out ? BT_OK : BT_EEVAL;
}

bool eng_timer_create(eng_engine *e, eng_elem *el, int event) {
    const bpmn_element *ev = &eng_instance_process(el->inst)->elements[event];
    char msg[512];
    char *text = NULL;
    bpmn_schedule sched;
    bt_error err;
    if (timer_text(e, el, ev, &text, msg, sizeof msg) != BT_OK) {
        eng_incident_raise(e, el, ENG_INC_EXTRACT_VALUE_ERROR, 0, msg);
        return false;
    }
    if (bpmn_timer_schedule(ev->timer_kind, text, strlen(text), e->now, &sched, &err) != BT_OK) {
        snprintf(msg, sizeof msg, "Timer of '%s': %s", ev->id, err.message);
        bt_free(text);
        eng_incident_raise(e, el, ENG_INC_EXTRACT_VALUE_ERROR, 0, msg);
        return false;
    }
    bt_free(text);
    eng_timer *t = bt_xcalloc(1, sizeof *t);
    t->key = eng_key_next(e);
    t->event = event;
    t->due_ms = sched.due_ms;
    t->interval_ms = sched.interval_ms;
    t->repeats = sched.repeats;
    eng_timer_attach(e, el, t);
    timer_record(e, t, "CREATED");
    return true;
}

void eng_timer_cancel(eng_engine *e, eng_timer *t) {
    timer_record(e, t, "CANCELED");
    eng_timer_free(e, t);
}

void eng_timers_cancel(eng_engine *e, eng_elem *el) {
    while (el->timers)
        eng_timer_cancel(e, el->timers);
}

void eng_timer_fire(eng_engine *e, eng_timer *t) {
    eng_elem *owner = t->elem;
    const bpmn_element *ev = &eng_instance_process(owner->inst)->elements[t->event];
    timer_record(e, t, "TRIGGERED");
    if (!eng_event_repeats(ev)) {
        /* Fires once: a catch event, a gateway's branch, an interrupting
         * boundary or event sub-process start event. */
        int event = t->event;
        eng_timer_free(e, t);
        eng_event_occur(e, owner, event, NULL);
        return;
    }
    /* A boundary or event sub-process start event that does not interrupt:
     * a parallel path, and a cycle schedules its next firing. */
    eng_event_occur(e, owner, t->event, NULL);
    if (t->interval_ms == BPMN_INTERVAL_CRON) {
        /* The next match of the cron expression after now (evaluated again
         * if it is FEEL); if it no longer gives one, the cycle ends. */
        char *text = NULL, msg[256];
        bpmn_schedule next;
        bt_error err;
        if (timer_text(e, owner, ev, &text, msg, sizeof msg) == BT_OK &&
            bpmn_timer_schedule(ev->timer_kind, text, strlen(text), e->now, &next, &err) == BT_OK &&
            next.interval_ms == BPMN_INTERVAL_CRON) {
            t->due_ms = next.due_ms;
            eng_due_push_timer(e, t->due_ms, t->key);
            timer_record(e, t, "CREATED");
        } else {
            eng_timer_free(e, t);
        }
        bt_free(text);
    } else if (t->repeats != 0 && t->interval_ms > 0) {
        /* The next firing one interval on; repetitions missed while the
         * server was down are not replayed in a burst: the cycle resumes
         * one interval from now. */
        t->due_ms += t->interval_ms;
        if (t->due_ms <= e->now)
            t->due_ms = e->now + t->interval_ms;
        if (t->repeats > 0)
            t->repeats--;
        eng_due_push_timer(e, t->due_ms, t->key);
        timer_record(e, t, "CREATED");
    } else {
        eng_timer_free(e, t);
    }
}
