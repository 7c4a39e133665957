/* Unit tests for src/model: BPMN XML → the executable model.
 *
 * Good models are checked element by element (indexes, scopes, flows,
 * boundaries, compensation links, job fields); expected lines are found by
 * searching the model text for the element's id attribute, so the tests do
 * not depend on the parser to tell them where things are. Bad models are
 * data-driven: tests/data/bpmn/bad/expected.txt names each file with the
 * number of problems and the element id, line and message of the first one.
 * The reference models of ../shared/reference/trip-booking are read in place.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/model.h"

/* ---- helpers ---------------------------------------------------------------- */

/* Reads $env/rel into a NUL-terminated malloc'd buffer; fails the test if absent. */
static char *read_data(const char *env, const char *rel, size_t *len) {
    const char *dir = getenv(env);
    assert_non_null(dir);
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = 0;
    fclose(f);
    *len = (size_t)n;
    return buf;
}

/* The 1-based line of the first occurrence of needle in text. */
static int line_of(const char *text, const char *needle) {
    const char *at = strstr(text, needle);
    if (!at)
        fail_msg("'%s' not found in the model text", needle);
    int line = 1;
    for (const char *s = text; s < at; s++)
        line += *s == '\n';
    return line;
}

/* Line of the element with this id attribute. */
static int line_of_id(const char *text, const char *id) {
    char needle[160];
    snprintf(needle, sizeof needle, "id=\"%s\"", id);
    return line_of(text, needle);
}

static void print_errors(const bpmn_errors *errs) {
    for (int i = 0; i < errs->count && i < BPMN_MAX_ERRORS; i++)
        print_message("  error: %s\n", errs->items[i].message);
}

/* Parses text that must be valid. */
static bpmn_model *parse_ok(const char *xml, size_t len) {
    bpmn_model *m = NULL;
    bpmn_errors errs;
    int rc = bpmn_parse(xml, len, &m, &errs);
    if (rc != 0)
        print_errors(&errs);
    assert_int_equal(rc, 0);
    assert_int_equal(errs.count, 0);
    assert_non_null(m);
    return m;
}

/* Element index by id, which must exist. */
static int el(const bpmn_process *p, const char *id) {
    int i = bpmn_find_element(p, id);
    if (i < 0)
        fail_msg("no element '%s'", id);
    assert_string_equal(p->elements[i].id, id);
    return i;
}

static int flow(const bpmn_process *p, const char *id) {
    for (int i = 0; i < p->n_flows; i++)
        if (strcmp(p->flows[i].id, id) == 0)
            return i;
    fail_msg("no flow '%s'", id);
    return -1;
}

/* The flows from..to, by id, equal the element's outgoing list. */
static void assert_flows(const bpmn_process *p, int n, const int *list, const char *const *ids,
                         int n_ids) {
    assert_int_equal(n, n_ids);
    for (int i = 0; i < n_ids; i++)
        assert_int_equal(list[i], flow(p, ids[i]));
}

#define ASSERT_OUT(p, e, ...)                                                                      \
    do {                                                                                           \
        const char *const ids_[] = {__VA_ARGS__};                                                  \
        assert_flows(p, (p)->elements[e].n_outgoing, (p)->elements[e].outgoing, ids_,              \
                     (int)BT_ARRAY_LEN(ids_));                                                     \
    } while (0)
#define ASSERT_IN(p, e, ...)                                                                       \
    do {                                                                                           \
        const char *const ids_[] = {__VA_ARGS__};                                                  \
        assert_flows(p, (p)->elements[e].n_incoming, (p)->elements[e].incoming, ids_,              \
                     (int)BT_ARRAY_LEN(ids_));                                                     \
    } while (0)

static const char *const MINIMAL =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<bpmn:definitions xmlns:bpmn=\"http://www.omg.org/spec/BPMN/20100524/MODEL\"\n"
    "    xmlns:zeebe=\"http://camunda.org/schema/zeebe/1.0\" id=\"d\" targetNamespace=\"x\">\n"
    "  <bpmn:process id=\"one-task\" name=\"One task\" isExecutable=\"true\">\n"
    "    <bpmn:startEvent id=\"start\" />\n"
    "    <bpmn:serviceTask id=\"work\" name=\"Do the work\">\n"
    "      <bpmn:extensionElements><zeebe:taskDefinition type=\"worker\" "
    "/></bpmn:extensionElements>\n"
    "    </bpmn:serviceTask>\n"
    "    <bpmn:endEvent id=\"end\" />\n"
    "    <bpmn:sequenceFlow id=\"f1\" sourceRef=\"start\" targetRef=\"work\" />\n"
    "    <bpmn:sequenceFlow id=\"f2\" sourceRef=\"work\" targetRef=\"end\" />\n"
    "  </bpmn:process>\n"
    "</bpmn:definitions>\n";

/* ---- type tables -------------------------------------------------------------- */

static void test_type_names(void **state) {
    (void)state;
    static const char *const zeebe[BPMN_TYPE_COUNT] = {"PROCESS",
                                                       "SUB_PROCESS",
                                                       "EVENT_SUB_PROCESS",
                                                       "START_EVENT",
                                                       "END_EVENT",
                                                       "INTERMEDIATE_THROW_EVENT",
                                                       "INTERMEDIATE_CATCH_EVENT",
                                                       "BOUNDARY_EVENT",
                                                       "SERVICE_TASK",
                                                       "SEND_TASK",
                                                       "SCRIPT_TASK",
                                                       "BUSINESS_RULE_TASK",
                                                       "USER_TASK",
                                                       "RECEIVE_TASK",
                                                       "MANUAL_TASK",
                                                       "TASK",
                                                       "EXCLUSIVE_GATEWAY",
                                                       "PARALLEL_GATEWAY",
                                                       "INCLUSIVE_GATEWAY",
                                                       "EVENT_BASED_GATEWAY",
                                                       "CALL_ACTIVITY"};
    for (int t = 0; t < BPMN_TYPE_COUNT; t++)
        assert_string_equal(bpmn_type_name((bpmn_type)t), zeebe[t]);
    assert_string_equal(bpmn_type_xml_name(BPMN_PROCESS), "process");
    assert_string_equal(bpmn_type_xml_name(BPMN_SUB_PROCESS), "subProcess");
    assert_string_equal(bpmn_type_xml_name(BPMN_SERVICE_TASK), "serviceTask");
    assert_string_equal(bpmn_type_xml_name(BPMN_BUSINESS_RULE_TASK), "businessRuleTask");
    assert_string_equal(bpmn_type_xml_name(BPMN_INTERMEDIATE_THROW_EVENT),
                        "intermediateThrowEvent");
    assert_string_equal(bpmn_type_xml_name(BPMN_EVENT_BASED_GATEWAY), "eventBasedGateway");
    assert_string_equal(bpmn_type_name(BPMN_TYPE_COUNT), "UNSPECIFIED");

    assert_true(bpmn_is_activity(BPMN_SERVICE_TASK));
    assert_true(bpmn_is_activity(BPMN_SUB_PROCESS));
    assert_true(bpmn_is_activity(BPMN_CALL_ACTIVITY));
    assert_true(bpmn_is_activity(BPMN_TASK));
    assert_false(bpmn_is_activity(BPMN_PROCESS));
    assert_false(bpmn_is_activity(BPMN_BOUNDARY_EVENT));
    assert_false(bpmn_is_activity(BPMN_EXCLUSIVE_GATEWAY));

    assert_true(bpmn_is_job_task(BPMN_SERVICE_TASK));
    assert_true(bpmn_is_job_task(BPMN_SEND_TASK));
    assert_true(bpmn_is_job_task(BPMN_SCRIPT_TASK));
    assert_true(bpmn_is_job_task(BPMN_BUSINESS_RULE_TASK));
    assert_true(bpmn_is_job_task(BPMN_USER_TASK));
    assert_false(bpmn_is_job_task(BPMN_RECEIVE_TASK));
    assert_false(bpmn_is_job_task(BPMN_SUB_PROCESS));
    assert_false(bpmn_is_job_task(BPMN_TYPE_COUNT));
}

/* ---- good models ---------------------------------------------------------------- */

static void test_minimal_process(void **state) {
    (void)state;
    bpmn_model *m = parse_ok(MINIMAL, strlen(MINIMAL));
    assert_int_equal(m->n_processes, 1);
    const bpmn_process *p = &m->processes[0];
    assert_string_equal(p->id, "one-task");
    assert_string_equal(p->name, "One task");
    assert_int_equal(p->n_elements, 4);
    assert_int_equal(p->n_flows, 2);

    const bpmn_element *proc = &p->elements[0];
    assert_int_equal(proc->type, BPMN_PROCESS);
    assert_int_equal(proc->scope, -1);
    assert_int_equal(proc->line, 4);
    assert_int_equal(proc->start_event, 1);
    assert_int_equal(proc->n_children, 3);
    for (int i = 0; i < 3; i++)
        assert_int_equal(proc->children[i], i + 1);

    const bpmn_element *work = &p->elements[el(p, "work")];
    assert_int_equal(work->index, 2);
    assert_int_equal(work->type, BPMN_SERVICE_TASK);
    assert_int_equal(work->event, BPMN_EVENT_NONE);
    assert_string_equal(work->name, "Do the work");
    assert_int_equal(work->line, 6);
    assert_int_equal(work->scope, 0);
    assert_string_equal(work->job_type.text, "worker");
    assert_null(work->job_type.feel);
    assert_string_equal(work->job_retries.text, "3");
    assert_null(work->job_retries.feel);
    assert_int_equal(work->n_headers, 0);
    assert_int_equal(work->n_inputs + work->n_outputs, 0);
    assert_int_equal(work->compensation_handler, -1);
    assert_int_equal(work->attached_to, -1);
    assert_int_equal(work->default_flow, -1);
    assert_null(p->elements[el(p, "start")].name);
    ASSERT_IN(p, 2, "f1");
    ASSERT_OUT(p, 2, "f2");
    assert_int_equal(p->flows[0].source, 1);
    assert_int_equal(p->flows[0].target, 2);
    assert_int_equal(p->flows[1].line, 11);
    assert_null(p->flows[1].condition_text);
    assert_int_equal(bpmn_find_element(p, "nope"), -1);
    assert_int_equal(bpmn_find_element(p, "one-task"), 0);
    bpmn_model_free(m);
    bpmn_model_free(NULL);

    /* errs may be NULL; out may be NULL (the model is then freed). */
    assert_int_equal(bpmn_parse(MINIMAL, strlen(MINIMAL), NULL, NULL), 0);
}

static void test_trip_saga(void **state) {
    (void)state;
    size_t len;
    char *xml = read_data("BATON_TEST_DATA", "bpmn/trip-saga.bpmn", &len);
    bpmn_model *m = parse_ok(xml, len);
    assert_int_equal(m->n_processes, 1);
    const bpmn_process *p = &m->processes[0];
    assert_string_equal(p->id, "trip-saga");
    assert_string_equal(p->name, "Trip booking saga");

    /* Document order; index 0 is the process. */
    static const char *const order[] = {"trip-saga",
                                        "StartEvent_TripRequested",
                                        "Task_BookHotel",
                                        "Task_BookCar",
                                        "Task_BookFlight",
                                        "EndEvent_TripBooked",
                                        "Boundary_CompensateHotel",
                                        "Boundary_CompensateCar",
                                        "Boundary_CompensateFlight",
                                        "Boundary_FlightFailed",
                                        "Task_CancelHotel",
                                        "Task_CancelCar",
                                        "Task_CancelFlight",
                                        "Event_CompensateAll",
                                        "EndEvent_TripFailed"};
    assert_int_equal(p->n_elements, (int)BT_ARRAY_LEN(order));
    for (int i = 0; i < p->n_elements; i++) {
        const bpmn_element *e = &p->elements[i];
        assert_string_equal(e->id, order[i]);
        assert_int_equal(e->index, i);
        assert_int_equal(bpmn_find_element(p, order[i]), i);
        assert_int_equal(e->line, line_of_id(xml, order[i]));
        assert_int_equal(e->scope, i == 0 ? -1 : 0);
    }
    const bpmn_element *proc = &p->elements[0];
    assert_int_equal(proc->n_children, 14);
    assert_int_equal(proc->start_event, el(p, "StartEvent_TripRequested"));

    int start = el(p, "StartEvent_TripRequested"), hotel = el(p, "Task_BookHotel"),
        car = el(p, "Task_BookCar"), flight = el(p, "Task_BookFlight"),
        booked = el(p, "EndEvent_TripBooked"), c_hotel = el(p, "Boundary_CompensateHotel"),
        c_car = el(p, "Boundary_CompensateCar"), c_flight = el(p, "Boundary_CompensateFlight"),
        failed = el(p, "Boundary_FlightFailed"), x_hotel = el(p, "Task_CancelHotel"),
        x_car = el(p, "Task_CancelCar"), x_flight = el(p, "Task_CancelFlight"),
        comp = el(p, "Event_CompensateAll"), end_failed = el(p, "EndEvent_TripFailed");

    /* Flows, in document order, resolved. */
    static const struct {
        const char *id, *from, *to;
    } flows[] = {{"Flow_ToHotel", "StartEvent_TripRequested", "Task_BookHotel"},
                 {"Flow_ToCar", "Task_BookHotel", "Task_BookCar"},
                 {"Flow_ToFlight", "Task_BookCar", "Task_BookFlight"},
                 {"Flow_Booked", "Task_BookFlight", "EndEvent_TripBooked"},
                 {"Flow_Failed", "Boundary_FlightFailed", "Event_CompensateAll"},
                 {"Flow_Compensated", "Event_CompensateAll", "EndEvent_TripFailed"}};
    assert_int_equal(p->n_flows, (int)BT_ARRAY_LEN(flows));
    for (int i = 0; i < p->n_flows; i++) {
        assert_int_equal(p->flows[i].index, i);
        assert_string_equal(p->flows[i].id, flows[i].id);
        assert_int_equal(p->flows[i].source, el(p, flows[i].from));
        assert_int_equal(p->flows[i].target, el(p, flows[i].to));
        assert_int_equal(p->flows[i].line, line_of_id(xml, flows[i].id));
        assert_null(p->flows[i].condition);
    }
    ASSERT_OUT(p, start, "Flow_ToHotel");
    assert_int_equal(p->elements[start].n_incoming, 0);
    ASSERT_IN(p, hotel, "Flow_ToHotel");
    ASSERT_OUT(p, hotel, "Flow_ToCar");
    ASSERT_IN(p, flight, "Flow_ToFlight");
    ASSERT_OUT(p, flight, "Flow_Booked");
    ASSERT_IN(p, booked, "Flow_Booked");
    ASSERT_OUT(p, failed, "Flow_Failed");
    ASSERT_IN(p, comp, "Flow_Failed");
    ASSERT_OUT(p, comp, "Flow_Compensated");
    ASSERT_IN(p, end_failed, "Flow_Compensated");

    /* Jobs. */
    static const struct {
        const char *id, *type;
    } jobs[] = {{"Task_BookHotel", "book-hotel"},   {"Task_BookCar", "book-car"},
                {"Task_BookFlight", "book-flight"}, {"Task_CancelHotel", "cancel-hotel"},
                {"Task_CancelCar", "cancel-car"},   {"Task_CancelFlight", "cancel-flight"}};
    for (size_t i = 0; i < BT_ARRAY_LEN(jobs); i++) {
        const bpmn_element *e = &p->elements[el(p, jobs[i].id)];
        assert_int_equal(e->type, BPMN_SERVICE_TASK);
        assert_string_equal(e->job_type.text, jobs[i].type);
        assert_null(e->job_type.feel);
    }
    assert_string_equal(p->elements[hotel].job_retries.text, "5");
    assert_null(p->elements[hotel].job_retries.feel);
    assert_string_equal(p->elements[car].job_retries.text, "3");
    assert_string_equal(p->elements[flight].job_retries.text, "if trip.vip then 10 else 3");
    assert_non_null(p->elements[flight].job_retries.feel);
    assert_int_equal(p->elements[flight].n_headers, 2);
    assert_string_equal(p->elements[flight].headers[0].key, "airline");
    assert_string_equal(p->elements[flight].headers[0].value, "LH");
    assert_string_equal(p->elements[flight].headers[1].key, "class");
    assert_string_equal(p->elements[flight].headers[1].value, "economy");

    /* Mappings: sources compiled, '=' stripped, targets kept. */
    const bpmn_element *h = &p->elements[hotel];
    assert_int_equal(h->n_inputs, 2);
    assert_int_equal(h->n_outputs, 1);
    assert_string_equal(h->inputs[0].source_text, "trip.hotel");
    assert_non_null(h->inputs[0].source);
    assert_string_equal(h->inputs[0].target, "hotel");
    assert_string_equal(h->inputs[1].source_text, "trip.nights * 2");
    assert_string_equal(h->inputs[1].target, "request.nights");
    assert_string_equal(h->outputs[0].source_text, "bookingId");
    assert_string_equal(h->outputs[0].target, "hotelBookingId");
    assert_int_equal(p->elements[comp].n_outputs, 1);
    assert_string_equal(p->elements[comp].outputs[0].source_text, "\"cancelled\"");
    assert_string_equal(p->elements[comp].outputs[0].target, "status");

    /* Boundary events and compensation. */
    int acts[] = {hotel, car, flight}, bnds[] = {c_hotel, c_car, c_flight},
        handlers[] = {x_hotel, x_car, x_flight};
    for (int i = 0; i < 3; i++) {
        const bpmn_element *a = &p->elements[acts[i]], *b = &p->elements[bnds[i]],
                           *x = &p->elements[handlers[i]];
        assert_int_equal(b->type, BPMN_BOUNDARY_EVENT);
        assert_int_equal(b->event, BPMN_EVENT_COMPENSATION);
        assert_int_equal(b->attached_to, acts[i]);
        assert_true(b->cancel_activity);
        assert_int_equal(b->n_incoming + b->n_outgoing, 0);
        assert_int_equal(a->compensation_handler, handlers[i]);
        assert_false(a->is_for_compensation);
        assert_true(x->is_for_compensation);
        assert_int_equal(x->compensation_handler, -1);
        assert_int_equal(x->n_incoming + x->n_outgoing, 0);
        assert_int_equal(x->n_boundaries, 0);
    }
    assert_int_equal(p->elements[hotel].n_boundaries, 1);
    assert_int_equal(p->elements[hotel].boundaries[0], c_hotel);
    assert_int_equal(p->elements[car].n_boundaries, 1);
    assert_int_equal(p->elements[car].boundaries[0], c_car);
    assert_int_equal(p->elements[flight].n_boundaries, 2);
    assert_int_equal(p->elements[flight].boundaries[0], c_flight);
    assert_int_equal(p->elements[flight].boundaries[1], failed);

    const bpmn_element *f = &p->elements[failed];
    assert_int_equal(f->event, BPMN_EVENT_ERROR);
    assert_string_equal(f->error_code, "FLIGHT_FAILED");
    assert_string_equal(f->name, "Flight failed");
    assert_int_equal(f->attached_to, flight);
    assert_true(f->cancel_activity);

    const bpmn_element *c = &p->elements[comp];
    assert_int_equal(c->type, BPMN_INTERMEDIATE_THROW_EVENT);
    assert_int_equal(c->event, BPMN_EVENT_COMPENSATION);
    assert_int_equal(c->compensate_activity, -1);
    assert_true(c->wait_for_completion);
    assert_int_equal(p->elements[end_failed].event, BPMN_EVENT_NONE);
    assert_string_equal(p->elements[end_failed].name, "Trip booking failed");
    assert_null(p->elements[booked].error_code);

    bpmn_model_free(m);
    free(xml);
}

/* Default namespace and other prefixes, a collaboration, a non-executable
 * process, a sub-process, parallel gateways, catch-all error boundaries, the
 * other end events, a condition without '='. */
static void test_features(void **state) {
    (void)state;
    size_t len;
    char *xml = read_data("BATON_TEST_DATA", "bpmn/features.bpmn", &len);
    bpmn_model *m = parse_ok(xml, len);
    assert_int_equal(m->n_processes, 1); /* "helper" is not executable */
    const bpmn_process *p = &m->processes[0];
    assert_string_equal(p->id, "order");
    assert_string_equal(p->name, "Order fulfilment"); /* from the participant */
    assert_int_equal(p->n_elements, 17);
    assert_int_equal(p->n_flows, 13);
    assert_int_equal(bpmn_find_element(p, "HelperStart"), -1);
    assert_int_equal(bpmn_find_element(p, "Lane1"), -1);

    int ship = el(p, "Ship"), ship_start = el(p, "ShipStart"), fork = el(p, "Fork"),
        join = el(p, "Join"), check = el(p, "Check"), rate = el(p, "Rate");
    const bpmn_element *s = &p->elements[ship];
    assert_int_equal(s->type, BPMN_SUB_PROCESS);
    assert_int_equal(s->scope, 0);
    assert_int_equal(s->start_event, ship_start);
    assert_int_equal(s->n_children, 6);
    static const char *const kids[] = {"ShipStart", "Fork", "Notify", "Pack", "Join", "ShipEnd"};
    for (int i = 0; i < 6; i++) {
        assert_int_equal(s->children[i], el(p, kids[i]));
        assert_int_equal(p->elements[s->children[i]].scope, ship);
        assert_int_equal(p->elements[s->children[i]].line, line_of_id(xml, kids[i]));
    }
    assert_int_equal(p->elements[0].n_children, 10);
    assert_int_equal(p->elements[0].start_event, el(p, "Start"));
    assert_int_equal(s->n_inputs, 1);
    assert_string_equal(s->inputs[0].source_text, "order.items");
    assert_string_equal(s->outputs[0].source_text, "shipped"); /* no '=': FEEL all the same */
    assert_non_null(s->outputs[0].source);
    assert_string_equal(s->outputs[0].target, "order.shipped");

    assert_int_equal(p->elements[fork].type, BPMN_PARALLEL_GATEWAY);
    ASSERT_OUT(p, fork, "S2", "S3");
    ASSERT_IN(p, join, "S4", "S5");
    assert_int_equal(p->elements[el(p, "Notify")].type, BPMN_SEND_TASK);
    const bpmn_element *pack = &p->elements[el(p, "Pack")];
    assert_int_equal(pack->type, BPMN_SCRIPT_TASK);
    assert_string_equal(pack->job_type.text, "packer");
    assert_non_null(pack->job_type.feel);
    assert_string_equal(pack->job_retries.text, "2");
    assert_non_null(pack->job_retries.feel);
    assert_int_equal(p->elements[rate].type, BPMN_BUSINESS_RULE_TASK);

    const bpmn_element *g = &p->elements[check];
    assert_int_equal(g->default_flow, flow(p, "Flow_Small"));
    ASSERT_OUT(p, check, "Flow_Big", "Flow_Small");
    const bpmn_flow *big = &p->flows[flow(p, "Flow_Big")];
    assert_string_equal(big->condition_text, "amount > 100");
    assert_non_null(big->condition);

    const bpmn_element *any = &p->elements[el(p, "AnyError")];
    assert_int_equal(any->attached_to, ship);
    assert_null(any->error_code); /* no errorRef: catch all */
    const bpmn_element *vague = &p->elements[el(p, "VagueError")];
    assert_int_equal(vague->attached_to, rate);
    assert_null(vague->error_code); /* an error without errorCode: catch all */
    assert_int_equal(s->n_boundaries, 1);
    assert_int_equal(s->boundaries[0], el(p, "AnyError"));

    const bpmn_element *rejected = &p->elements[el(p, "Rejected")];
    assert_int_equal(rejected->event, BPMN_EVENT_ERROR);
    assert_string_equal(rejected->error_code, "REJECTED");
    assert_int_equal(p->elements[el(p, "Abort")].event, BPMN_EVENT_TERMINATE);
    const bpmn_element *undo = &p->elements[el(p, "Undo")];
    assert_int_equal(undo->event, BPMN_EVENT_COMPENSATION);
    assert_int_equal(undo->compensate_activity, ship);
    assert_false(undo->wait_for_completion);
    bpmn_model_free(m);
    free(xml);
}

/* Character and predefined entity references in attributes are decoded. */
static void test_escaped_attributes(void **state) {
    (void)state;
    const char *xml =
        "<bpmn:definitions xmlns:bpmn=\"http://www.omg.org/spec/BPMN/20100524/MODEL\" "
        "xmlns:zeebe=\"http://camunda.org/schema/zeebe/1.0\">"
        "<bpmn:process id=\"p\" isExecutable=\"true\"><bpmn:startEvent id=\"s\"/>"
        "<bpmn:serviceTask id=\"t\" name=\"a &amp; b &lt;c&gt; &#233;\"><bpmn:extensionElements>"
        "<zeebe:taskDefinition type=\"x&amp;y\"/><zeebe:taskHeaders>"
        "<zeebe:header key=\"k\" value=\"1 &lt; 2 &amp;&amp; &quot;q&quot;\"/>"
        "<zeebe:header key=\"empty\"/></zeebe:taskHeaders>"
        "</bpmn:extensionElements></bpmn:serviceTask>"
        "<bpmn:sequenceFlow id=\"f\" sourceRef=\"s\" targetRef=\"t\"/></bpmn:process>"
        "</bpmn:definitions>";
    bpmn_model *m = parse_ok(xml, strlen(xml));
    const bpmn_element *t = &m->processes[0].elements[2];
    assert_string_equal(t->name, "a & b <c> \xc3\xa9");
    assert_string_equal(t->job_type.text, "x&y");
    assert_int_equal(t->n_headers, 2);
    assert_string_equal(t->headers[0].value, "1 < 2 && \"q\"");
    assert_string_equal(t->headers[1].key, "empty");
    assert_string_equal(t->headers[1].value, "");
    bpmn_model_free(m);
}

/* Multi-instance activities: a sequential task and a parallel sub-process
 * (whose loop element is not taken for one of its children). */
static void test_multi_instance(void **state) {
    (void)state;
    const char *xml =
        "<bpmn:definitions xmlns:bpmn=\"http://www.omg.org/spec/BPMN/20100524/MODEL\" "
        "xmlns:zeebe=\"http://camunda.org/schema/zeebe/1.0\">"
        "<bpmn:process id=\"p\" isExecutable=\"true\"><bpmn:startEvent id=\"s\"/>"
        "<bpmn:serviceTask id=\"each\"><bpmn:extensionElements>"
        "<zeebe:taskDefinition type=\"work\"/></bpmn:extensionElements>"
        "<bpmn:multiInstanceLoopCharacteristics isSequential=\"true\"><bpmn:extensionElements>"
        "<zeebe:loopCharacteristics inputCollection=\"= order.items\" inputElement=\"item\" "
        "outputCollection=\"results\" outputElement=\"= result.price\"/>"
        "</bpmn:extensionElements><bpmn:completionCondition>= numberOfCompletedInstances &gt;= 2"
        "</bpmn:completionCondition></bpmn:multiInstanceLoopCharacteristics></bpmn:serviceTask>"
        "<bpmn:subProcess id=\"sub\"><bpmn:multiInstanceLoopCharacteristics>"
        "<bpmn:extensionElements><zeebe:loopCharacteristics inputCollection=\"items\" "
        "inputElement=\"x\" outputCollection=\"out\" outputElement=\"= x\"/>"
        "</bpmn:extensionElements></bpmn:multiInstanceLoopCharacteristics>"
        "<bpmn:startEvent id=\"s2\"/></bpmn:subProcess>"
        "<bpmn:task id=\"plain\"><bpmn:multiInstanceLoopCharacteristics>"
        "<bpmn:extensionElements><zeebe:loopCharacteristics inputCollection=\"=[1,2]\" "
        "outputCollection=\"sums\" outputElement=\"= {n: loopCounter}\"/>"
        "</bpmn:extensionElements></bpmn:multiInstanceLoopCharacteristics></bpmn:task>"
        "<bpmn:sequenceFlow id=\"f1\" sourceRef=\"s\" targetRef=\"each\"/>"
        "<bpmn:sequenceFlow id=\"f2\" sourceRef=\"each\" targetRef=\"sub\"/>"
        "<bpmn:sequenceFlow id=\"f3\" sourceRef=\"sub\" targetRef=\"plain\"/></bpmn:process>"
        "</bpmn:definitions>";
    bpmn_model *m = parse_ok(xml, strlen(xml));
    const bpmn_process *p = &m->processes[0];
    const bpmn_loop *each = p->elements[el(p, "each")].loop;
    assert_non_null(each);
    assert_true(each->sequential);
    assert_string_equal(each->input_collection_text, "order.items");
    assert_non_null(each->input_collection);
    assert_string_equal(each->input_element, "item");
    assert_string_equal(each->output_collection, "results");
    assert_string_equal(each->output_element_text, "result.price");
    assert_string_equal(each->output_element_var, "result"); /* made local per inner instance */
    assert_string_equal(each->completion_condition_text, "numberOfCompletedInstances >= 2");
    assert_non_null(each->completion_condition);

    const bpmn_loop *sub = p->elements[el(p, "sub")].loop;
    assert_non_null(sub);
    assert_false(sub->sequential);
    assert_string_equal(sub->input_collection_text, "items"); /* '=' is optional */
    assert_null(sub->output_element_var); /* the input element is local already */
    assert_null(sub->completion_condition);
    assert_null(p->elements[el(p, "s2")].loop);
    assert_int_equal(p->elements[el(p, "sub")].start_event, el(p, "s2"));

    const bpmn_loop *plain = p->elements[el(p, "plain")].loop;
    assert_null(plain->input_element);
    assert_null(plain->output_element_var); /* not a variable */
    assert_null(p->elements[el(p, "s")].loop);
    bpmn_model_free(m);
}

/* The Zeebe demo model: gateways and a cancel chain, job type 'lambda'. */
static void test_reference_zeebe(void **state) {
    (void)state;
    size_t len;
    char *xml =
        read_data("BATON_SHARED", "reference/trip-booking/zeebe_aws_trip-booking.bpmn", &len);
    bpmn_model *m = parse_ok(xml, len);
    assert_int_equal(m->n_processes, 1);
    const bpmn_process *p = &m->processes[0];
    assert_string_equal(p->id, "trip-booking");
    assert_null(p->name);
    assert_int_equal(p->n_elements, 13);
    assert_int_equal(p->n_flows, 13);
    int n_tasks = 0, n_gateways = 0, n_conditions = 0;
    for (int i = 1; i < p->n_elements; i++) {
        const bpmn_element *e = &p->elements[i];
        assert_int_equal(e->line, line_of_id(xml, e->id));
        if (e->type == BPMN_SERVICE_TASK) {
            n_tasks++;
            assert_string_equal(e->job_type.text, "lambda");
            assert_string_equal(e->job_retries.text, "3");
            assert_true(e->n_headers == 2 || e->n_headers == 3);
            assert_string_equal(e->headers[0].key, "functionName");
            assert_string_equal(e->headers[1].key, "body");
            assert_string_equal(e->headers[1].value,
                                "{\"body\":  \"{{{variablesJsonEscaped}}}\"  }");
        }
        if (e->type == BPMN_EXCLUSIVE_GATEWAY) {
            n_gateways++;
            assert_int_equal(e->n_outgoing, 2);
            assert_int_equal(e->default_flow, -1);
        }
    }
    for (int i = 0; i < p->n_flows; i++)
        if (p->flows[i].condition_text) {
            n_conditions++;
            assert_non_null(p->flows[i].condition);
        }
    assert_int_equal(n_tasks, 6);
    assert_int_equal(n_gateways, 3);
    assert_int_equal(n_conditions, 6);
    const bpmn_element *hotel = &p->elements[el(p, "ServiceTask_BookHotel")];
    assert_string_equal(hotel->headers[0].value, "trip-booking-functions-dev-book-hotel");
    assert_string_equal(hotel->headers[2].key, "resultName");
    assert_string_equal(hotel->headers[2].value, "bookHotelResult");
    const bpmn_flow *yes = &p->flows[flow(p, "SequenceFlow_04ynlib")];
    assert_string_equal(yes->condition_text, " bookHotelResult.success");
    int cancel_car = el(p, "ServiceTask_CancelCar");
    ASSERT_IN(p, cancel_car, "SequenceFlow_0nxqach", "SequenceFlow_1m9t2oi");
    bpmn_model_free(m);
    free(xml);
}

/* The Camunda 7 model: Java delegates and an event sub-process. */
static void test_reference_camunda7(void **state) {
    (void)state;
    size_t len;
    char *xml = read_data("BATON_SHARED",
                          "reference/trip-booking/camunda_workflow_trip-compensation.bpmn", &len);
    bpmn_model *m = (bpmn_model *)1;
    bpmn_errors errs;
    assert_int_equal(bpmn_parse(xml, len, &m, &errs), BT_EINVAL);
    assert_null(m);
    static const struct {
        const char *id, *fragment;
    } expected[] = {
        {"ServiceTask_BookFlight", "missing job type"},
        {"ServiceTask_BookCar", "missing job type"},
        {"ServiceTask_BookHotel", "missing job type"},
        {"ServiceTask_CancelFlight", "missing job type"},
        {"ServiceTask_CancelCar", "missing job type"},
        {"ServiceTask_CancelHotel", "missing job type"},
        /* In the event sub-process, which baton runs. */
        {"ServiceTask_SendCanceledEvent", "camunda:expression is a Camunda 7 implementation"},
        {"ServiceTask_SendBookedEvent", "camunda:expression is a Camunda 7 implementation"},
    };
    if (errs.count != (int)BT_ARRAY_LEN(expected))
        print_errors(&errs);
    assert_int_equal(errs.count, (int)BT_ARRAY_LEN(expected));
    for (size_t i = 0; i < BT_ARRAY_LEN(expected); i++) {
        const bt_error *e = &errs.items[i];
        assert_string_equal(e->element_id, expected[i].id);
        assert_int_equal(e->line, line_of_id(xml, expected[i].id));
        assert_int_equal(e->code, BT_EINVAL);
        if (!strstr(e->message, expected[i].fragment))
            fail_msg("'%s' lacks '%s'", e->message, expected[i].fragment);
    }
    assert_non_null(strstr(errs.items[0].message, "camunda:delegateExpression"));
    assert_int_equal(errs.items[6].line, 94);
    free(xml);
}

/* ---- bad models --------------------------------------------------------------------- */

static char *trim(char *s) {
    while (*s == ' ')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\n'))
        s[--n] = 0;
    return s;
}

static void test_bad_models(void **state) {
    (void)state;
    size_t len;
    char *table = read_data("BATON_TEST_DATA", "bpmn/bad/expected.txt", &len);
    int cases = 0;
    char *save = NULL;
    for (char *line = strtok_r(table, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (line[0] == '#' || !line[0])
            continue;
        char *cols[5];
        char *s = line;
        for (int i = 0; i < 5; i++) {
            char *bar = i < 4 ? strchr(s, '|') : NULL;
            if (i < 4 && !bar)
                fail_msg("malformed row: %s", line);
            if (bar)
                *bar = 0;
            cols[i] = trim(s);
            s = bar ? bar + 1 : s;
        }
        char rel[256];
        snprintf(rel, sizeof rel, "bpmn/bad/%s", cols[0]);
        size_t n;
        char *xml = read_data("BATON_TEST_DATA", rel, &n);
        bpmn_model *m = NULL;
        bpmn_errors errs;
        int rc = bpmn_parse(xml, n, &m, &errs);
        if (rc != BT_EINVAL || errs.count != atoi(cols[1]) ||
            strcmp(errs.items[0].element_id, cols[2]) != 0 || errs.items[0].line != atoi(cols[3]) ||
            !strstr(errs.items[0].message, cols[4])) {
            print_message("case %s: rc %d, %d errors\n", cols[0], rc, errs.count);
            print_errors(&errs);
            fail_msg("case %s: expected %s error(s), first [%s] line %s '%s'", cols[0], cols[1],
                     cols[2], cols[3], cols[4]);
        }
        assert_null(m);
        free(xml);
        cases++;
    }
    assert_true(cases >= 30);
    free(table);
}

static void test_feel_syntax_error(void **state) {
    (void)state;
    size_t len;
    char *xml = read_data("BATON_TEST_DATA", "bpmn/bad/feel-syntax-error.bpmn", &len);
    bpmn_errors errs;
    bpmn_model *m = NULL;
    assert_int_equal(bpmn_parse(xml, len, &m, &errs), BT_EINVAL);
    if (errs.count != 1)
        print_errors(&errs);
    assert_int_equal(errs.count, 1);
    const bt_error *e = &errs.items[0];
    assert_string_equal(e->element_id, "F_big");
    assert_int_equal(e->line, 9);
    /* "amount > (100": the parenthesis is still open at the end, column 14
     * of the expression (counted after the '='). */
    assert_int_equal(e->column, 14);
    assert_non_null(strstr(e->message, "invalid FEEL expression in condition 'amount > (100'"));
    free(xml);

    /* A FEEL error in an attribute: the element's line, the expression's column. */
    const char *bad_type =
        "<bpmn:definitions xmlns:bpmn=\"http://www.omg.org/spec/BPMN/20100524/MODEL\" "
        "xmlns:zeebe=\"http://camunda.org/schema/zeebe/1.0\">\n"
        "<bpmn:process id=\"p\" isExecutable=\"true\">\n"
        "<bpmn:startEvent id=\"s\"/>\n"
        "<bpmn:serviceTask id=\"t\">\n"
        "<bpmn:extensionElements>\n"
        "<zeebe:taskDefinition type=\"=&quot;a&quot; + )\"/>\n"
        "</bpmn:extensionElements></bpmn:serviceTask>\n"
        "<bpmn:sequenceFlow id=\"f\" sourceRef=\"s\" targetRef=\"t\"/>\n"
        "</bpmn:process></bpmn:definitions>\n";
    assert_int_equal(bpmn_parse(bad_type, strlen(bad_type), &m, &errs), BT_EINVAL);
    if (errs.count != 1)
        print_errors(&errs);
    assert_int_equal(errs.count, 1);
    assert_string_equal(errs.items[0].element_id, "t");
    assert_int_equal(errs.items[0].line, 6);
    assert_int_equal(errs.items[0].column, 7); /* the ')' of "a" + ) */
    assert_non_null(strstr(errs.items[0].message, "zeebe:taskDefinition type"));
}

static void test_malformed_xml(void **state) {
    (void)state;
    const char *xml =
        "<?xml version=\"1.0\"?>\n"
        "<bpmn:definitions xmlns:bpmn=\"http://www.omg.org/spec/BPMN/20100524/MODEL\">\n"
        "  <bpmn:process id=\"p\" isExecutable=\"true\">\n"
        "    <bpmn:startEvent id=\"s\">\n"
        "  </bpmn:process>\n"
        "</bpmn:definitions>\n";
    bpmn_model *m = NULL;
    bpmn_errors errs;
    assert_int_equal(bpmn_parse(xml, strlen(xml), &m, &errs), BT_EINVAL);
    assert_null(m);
    assert_int_equal(errs.count, 1);
    assert_int_equal(errs.items[0].line, 5);
    assert_true(errs.items[0].column > 0);
    assert_string_equal(errs.items[0].element_id, "");
    assert_non_null(strstr(errs.items[0].message, "malformed XML"));
    assert_non_null(strstr(errs.items[0].message, "startEvent"));

    /* Not BPMN; empty; cut short. */
    const char *other = "<definitions xmlns=\"urn:not-bpmn\"/>";
    assert_int_equal(bpmn_parse(other, strlen(other), &m, &errs), BT_EINVAL);
    assert_non_null(strstr(errs.items[0].message, "not BPMN 2.0 <definitions>"));
    assert_int_equal(bpmn_parse("", 0, &m, &errs), BT_EINVAL);
    assert_non_null(strstr(errs.items[0].message, "empty document"));
    assert_int_equal(bpmn_parse(MINIMAL, 200, &m, &errs), BT_EINVAL);
    assert_non_null(strstr(errs.items[0].message, "malformed XML"));
    assert_null(m);
}

static void test_doctype_rejected(void **state) {
    (void)state;
    /* XXE: an external entity naming a local file. */
    const char *xxe =
        "<?xml version=\"1.0\"?>\n"
        "<!DOCTYPE definitions [\n"
        "  <!ENTITY xxe SYSTEM \"file:///etc/passwd\">\n"
        "]>\n"
        "<bpmn:definitions xmlns:bpmn=\"http://www.omg.org/spec/BPMN/20100524/MODEL\">\n"
        "  <bpmn:process id=\"p\" name=\"&xxe;\" isExecutable=\"true\"><bpmn:startEvent id=\"s\"/>"
        "</bpmn:process>\n"
        "</bpmn:definitions>\n";
    bpmn_model *m = NULL;
    bpmn_errors errs;
    assert_int_equal(bpmn_parse(xxe, strlen(xxe), &m, &errs), BT_EINVAL);
    assert_null(m);
    assert_int_equal(errs.count, 1);
    assert_int_equal(errs.items[0].line, 2);
    assert_non_null(strstr(errs.items[0].message, "DOCTYPE is not allowed"));
    assert_null(strstr(errs.items[0].message, "root:")); /* nothing of the file leaks */

    /* Billion laughs: never expanded. */
    const char *lol = "<?xml version=\"1.0\"?>\n"
                      "<!DOCTYPE lolz [<!ENTITY lol \"lol\">"
                      "<!ENTITY lol2 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">"
                      "<!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">]>\n"
                      "<lolz>&lol3;</lolz>\n";
    assert_int_equal(bpmn_parse(lol, strlen(lol), &m, &errs), BT_EINVAL);
    assert_int_equal(errs.count, 1);
    assert_non_null(strstr(errs.items[0].message, "DOCTYPE is not allowed"));

    /* An external DTD, without internal subset. */
    const char *ext = "<!DOCTYPE definitions SYSTEM \"http://example.com/bpmn.dtd\">\n"
                      "<definitions/>";
    assert_int_equal(bpmn_parse(ext, strlen(ext), &m, &errs), BT_EINVAL);
    assert_non_null(strstr(errs.items[0].message, "DOCTYPE is not allowed"));
}

/* More problems than BPMN_MAX_ERRORS: all counted, the first ones kept in
 * document order although they are found by different checks. */
static void test_error_list(void **state) {
    (void)state;
    bt_buf b = BT_BUF_INIT;
    bt_buf_puts(&b,
                "<bpmn:definitions xmlns:bpmn=\"http://www.omg.org/spec/BPMN/20100524/MODEL\">\n"
                "<bpmn:process id=\"p\" isExecutable=\"true\">\n"
                "<bpmn:startEvent id=\"s\"/>\n");
    for (int i = 0; i < 20; i++) /* lines 4..23: job tasks without a type */
        bt_buf_printf(&b, "<bpmn:serviceTask id=\"t%d\"/>\n", i);
    /* line 24: a dangling flow, found after all the job types */
    bt_buf_puts(&b, "<bpmn:sequenceFlow id=\"f\" sourceRef=\"s\" targetRef=\"nowhere\"/>\n");
    bt_buf_puts(&b, "</bpmn:process></bpmn:definitions>\n");
    bpmn_model *m = NULL;
    bpmn_errors errs;
    assert_int_equal(bpmn_parse(b.data, b.len, &m, &errs), BT_EINVAL);
    /* 20 missing job types, 20 unreachable tasks, 1 dangling flow */
    assert_int_equal(errs.count, 41);
    int prev = 0;
    for (int i = 0; i < BPMN_MAX_ERRORS; i++) {
        assert_true(errs.items[i].line >= prev);
        prev = errs.items[i].line;
    }
    assert_string_equal(errs.items[0].element_id, "t0");
    assert_int_equal(errs.items[0].line, 4);
    assert_string_equal(errs.items[1].element_id, "t0");
    assert_int_equal(errs.items[BPMN_MAX_ERRORS - 1].line, 11);
    bt_buf_free(&b);
}

/* ---- allocation failures -------------------------------------------------------------- */

/* Every allocation of parsing `rel` failing in turn: BT_ENOMEM, never a crash. */
static void alloc_failures(const char *rel) {
    size_t len;
    char *xml = read_data("BATON_TEST_DATA", rel, &len);
    long n;
    int failures = 0;
    for (n = 0; n < 100000; n++) {
        bpmn_model *m = NULL;
        bpmn_errors errs;
        bt_alloc_fail_after(n);
        int rc = bpmn_parse(xml, len, &m, &errs);
        long made = bt_alloc_fail_after(-1);
        if (rc == 0) {
            assert_non_null(m);
            assert_true(made <= n); /* no allocation failed */
            bpmn_model_free(m);
            break;
        }
        assert_int_equal(rc, BT_ENOMEM);
        assert_null(m);
        failures++;
    }
    assert_true(failures > 10); /* the loop did exercise failing allocations */
    assert_true(n < 100000);
    free(xml);
}

static void test_alloc_failures(void **state) {
    (void)state;
    alloc_failures("bpmn/trip-saga.bpmn");
    alloc_failures("bpmn/multi-instance-loops.bpmn");
    alloc_failures("bpmn/signals.bpmn");
    alloc_failures("bpmn/messages-event-subs.bpmn");
}

/* Cron cycles: the next match strictly after a time, in UTC. */
static void test_cron_next(void **state) {
    (void)state;
    static const struct {
        const char *expr;
        int64_t after, next;
    } cases[] = {
        {"0 15 8 * * *", 1795161600000LL, 1795162500000LL},      /* Fri 08:00 → 08:15 */
        {"*/20 * * * * *", 1795161600000LL, 1795161620000LL},    /* strictly after */
        {"0 0 9 * * MON-FRI", 1795165200000LL, 1795424400000LL}, /* Fri 09:00 → Mon */
        {"0 0 12 * * 7", 1795289100000LL, 1795348800000LL},      /* 7 is Sunday */
        {"0 0 12 ? * sun", 1795289100000LL, 1795348800000LL},
        {"@yearly", 1798761599000LL, 1798761600000LL},             /* → 2027-01-01 */
        {"0 0 0 29 FEB ?", 1795161600000LL, 1835395200000LL},      /* → 2028-02-29 */
        {"0 0,30 8-10/2 * * *", 1795161600500LL, 1795163400000LL}, /* 08:00:00.5 → 08:30 */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int64_t next = 0;
        bt_error err = {0};
        int rc = bpmn_cron_next(cases[i].expr, strlen(cases[i].expr), cases[i].after, &next, &err);
        if (rc != BT_OK || next != cases[i].next)
            fail_msg("%s after %lld: got %lld (%s), expected %lld", cases[i].expr,
                     (long long)cases[i].after, (long long)next, err.message,
                     (long long)cases[i].next);
    }
    static const struct {
        const char *expr, *message;
    } bad[] = {
        {"0 0 9 * *", "six fields, found 5"},
        {"0 0 9 * * * *", "six fields, found more"},
        {"0 60 * * * *", "minute field '60': a value out of range"},
        {"0 0 9 L * *", "L, W and # are not supported"},
        {"0 0 9 ? * MON#2", "L, W and # are not supported"},
        {"0 0 0 30 2 *", "matches no day in the next five years"},
        {"0 0 9 * JUNE *", "unexpected characters"},
        {"0 */0 * * * *", "a step of at least 1"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t next = 0;
        bt_error err = {0};
        assert_int_equal(bpmn_cron_next(bad[i].expr, strlen(bad[i].expr), 0, &next, &err),
                         BT_EINVAL);
        if (!strstr(err.message, bad[i].message))
            fail_msg("%s: '%s' lacks '%s'", bad[i].expr, err.message, bad[i].message);
    }
    /* As a timeCycle: a cron cycle fires forever. */
    bpmn_schedule sched;
    bt_error err = {0};
    assert_int_equal(bpmn_timer_schedule(BPMN_TIMER_CYCLE, "0 0 9 * * MON-FRI", 17, 1795165200000LL,
                                         &sched, &err),
                     BT_OK);
    assert_int_equal(sched.due_ms, 1795424400000LL);
    assert_int_equal(sched.interval_ms, BPMN_INTERVAL_CRON);
    assert_int_equal(sched.repeats, -1);
    assert_int_equal(bpmn_timer_schedule(BPMN_TIMER_CYCLE, "PT5M", 4, 0, &sched, &err), BT_EINVAL);
    assert_non_null(strstr(err.message, "or a cron expression"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        /* clang-format off */
        cmocka_unit_test(test_type_names),
        cmocka_unit_test(test_minimal_process),
        cmocka_unit_test(test_trip_saga),
        cmocka_unit_test(test_features),
        cmocka_unit_test(test_escaped_attributes),
        cmocka_unit_test(test_multi_instance),
        cmocka_unit_test(test_reference_zeebe),
        cmocka_unit_test(test_reference_camunda7),
        cmocka_unit_test(test_bad_models),
        cmocka_unit_test(test_feel_syntax_error),
        cmocka_unit_test(test_cron_next),
        cmocka_unit_test(test_malformed_xml),
        cmocka_unit_test(test_doctype_rejected),
        cmocka_unit_test(test_error_list),
        cmocka_unit_test(test_alloc_failures),
        /* clang-format on */
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
