/*
 * fuzz_bpmn.c — libFuzzer target for the BPMN model parser.
 *
 * Feeds the input to bpmn_parse as a BPMN resource. A rejected model must
 * come with at least one error and no model; an accepted model must hold
 * together: every index in range, every element findable by its id, flows
 * linking the elements that list them. A violation aborts (a finding).
 *
 *   cmake -S . -B build-fuzz -DBATON_FUZZ=ON -DCMAKE_C_COMPILER=clang
 *   cmake --build build-fuzz --target fuzz_bpmn
 *   build-fuzz/fuzz_bpmn -dict=tests/fuzz/bpmn.dict tests/fuzz/corpus/bpmn
 */
#include <stdint.h>
#include <stdlib.h>

#include "model/model.h"

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c))                                                                                  \
            abort();                                                                               \
    } while (0)

static void check_list(const bpmn_process *p, int n, const int *list, int limit) {
    CHECK(n >= 0);
    CHECK(n == 0 || list);
    for (int i = 0; i < n; i++)
        CHECK(list[i] >= 0 && list[i] < limit);
    (void)p;
}

static void check_process(const bpmn_process *p) {
    CHECK(p->n_elements > 0 && p->elements[0].type == BPMN_PROCESS);
    CHECK(p->elements[0].scope == -1);
    /* A process starts at its none start event, or by messages, timers or
     * signals: a start event of the process in every case. */
    bool starts = p->elements[0].start_event > 0;
    for (int j = 0; j < p->elements[0].n_children; j++)
        starts |= p->elements[p->elements[0].children[j]].type == BPMN_START_EVENT;
    CHECK(starts);
    for (int j = 0; j < p->elements[0].n_message_starts; j++)
        CHECK(p->elements[p->elements[0].message_starts[j]].event == BPMN_EVENT_MESSAGE);
    for (int j = 0; j < p->elements[0].n_timer_starts; j++)
        CHECK(p->elements[p->elements[0].timer_starts[j]].event == BPMN_EVENT_TIMER);
    for (int i = 0; i < p->n_elements; i++) {
        const bpmn_element *e = &p->elements[i];
        CHECK(e->index == i && e->id);
        CHECK(bpmn_find_element(p, e->id) == i);
        CHECK(i == 0 || (e->scope >= 0 && e->scope < p->n_elements));
        check_list(p, e->n_incoming, e->incoming, p->n_flows);
        check_list(p, e->n_outgoing, e->outgoing, p->n_flows);
        check_list(p, e->n_children, e->children, p->n_elements);
        check_list(p, e->n_boundaries, e->boundaries, p->n_elements);
        check_list(p, e->n_event_subs, e->event_subs, p->n_elements);
        for (int j = 0; j < e->n_event_subs; j++) {
            const bpmn_element *sub = &p->elements[e->event_subs[j]];
            CHECK(sub->type == BPMN_EVENT_SUB_PROCESS && sub->scope == i);
            CHECK(sub->start_event > 0 && p->elements[sub->start_event].event != BPMN_EVENT_NONE);
        }
        for (int j = 0; j < e->n_outgoing; j++)
            CHECK(p->flows[e->outgoing[j]].source == i);
        for (int j = 0; j < e->n_incoming; j++)
            CHECK(p->flows[e->incoming[j]].target == i);
        for (int j = 0; j < e->n_children; j++)
            CHECK(p->elements[e->children[j]].scope == i);
        for (int j = 0; j < e->n_boundaries; j++)
            CHECK(p->elements[e->boundaries[j]].attached_to == i);
        CHECK(e->default_flow >= -1 && e->default_flow < p->n_flows);
        CHECK(e->compensation_handler >= -1 && e->compensation_handler < p->n_elements);
        CHECK(e->compensate_activity >= -1 && e->compensate_activity < p->n_elements);
        if (e->type == BPMN_BOUNDARY_EVENT)
            CHECK(e->attached_to >= 0 && e->attached_to < p->n_elements);
        if (bpmn_is_job_task(e->type))
            CHECK(e->job_type.text && e->job_retries.text);
        if (e->loop) { /* a multi-instance activity: what the engine relies on */
            CHECK(bpmn_is_activity(e->type));
            CHECK(e->loop->input_collection && e->loop->input_collection_text);
            CHECK(!e->loop->output_collection == !e->loop->output_element);
            CHECK(!e->loop->completion_condition_text == !e->loop->completion_condition);
        }
    }
    for (int f = 0; f < p->n_flows; f++) {
        const bpmn_flow *fl = &p->flows[f];
        CHECK(fl->index == f && fl->id);
        CHECK(fl->source > 0 && fl->source < p->n_elements);
        CHECK(fl->target > 0 && fl->target < p->n_elements);
        CHECK(!fl->condition_text == !fl->condition);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    bpmn_model *m = NULL;
    bpmn_errors errs;
    int rc = bpmn_parse((const char *)data, size, &m, &errs);
    if (rc == 0) {
        CHECK(m && m->n_processes > 0 && errs.count == 0);
        for (int i = 0; i < m->n_processes; i++)
            check_process(&m->processes[i]);
    } else {
        CHECK(!m);
        CHECK(rc == BT_ENOMEM || (rc == BT_EINVAL && errs.count > 0));
    }
    bpmn_model_free(m);
    return 0;
}
