/*
 * trip_demo.c — the trip-booking saga on the embedded engine.
 *
 * Deploys examples/trip-booking/trip-booking-jobs.bpmn into a store under
 * ./data, books two trips with in-process job handlers standing in for the
 * hotel, car and flight functions — the first succeeds, the second's flight
 * is sold out — and prints what happened to each, from the record log:
 * the second trip's car and hotel are cancelled, last booking first.
 *
 * Usage: baton-trip-demo [--data DIR] [--model FILE]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "baton.h"

static void check(int rc, const baton_error *err, const char *what) {
    if (rc) {
        fprintf(stderr, "trip-demo: %s: %s", what, err->message);
        if (err->element_id[0])
            fprintf(stderr, " (element %s, line %d)", err->element_id, err->line);
        fputc('\n', stderr);
        exit(1);
    }
}

/* The functions: each booking answers with a confirmation; a flight for a
 * trip whose variables say soldOut fails with the BPMN error FLIGHT_FAILED. */
static int handle_jobs(baton *b) {
    static const char *types[] = {"book-hotel",    "book-car",   "book-flight",
                                  "cancel-flight", "cancel-car", "cancel-hotel"};
    int handled = 0;
    for (size_t t = 0; t < sizeof types / sizeof *types; t++) {
        baton_job jobs[16];
        int n = 0;
        baton_error err;
        check(baton_activate_jobs(b, types[t], "trip-demo", 30000, 16, jobs, &n, &err), &err,
              "activate");
        for (int i = 0; i < n; i++) {
            const baton_job *j = &jobs[i];
            int rc;
            if (!strcmp(j->type, "book-flight") && strstr(j->variables_json, "\"soldOut\":true")) {
                printf("  %-13s job %llu: no seats left -> BPMN error FLIGHT_FAILED\n", j->type,
                       (unsigned long long)j->key);
                rc = baton_throw_error(b, j->key, "FLIGHT_FAILED", "no seats left", &err);
            } else {
                char vars[128];
                /* The job key is the idempotency key a real function would get. */
                snprintf(vars, sizeof vars, "{\"%.40sConfirmation\": \"%llu\"}", j->type,
                         (unsigned long long)j->key);
                for (char *p = vars; *p; p++)
                    if (*p == '-')
                        *p = '_';
                printf("  %-13s job %llu: done\n", j->type, (unsigned long long)j->key);
                rc = baton_complete_job(b, j->key, vars, &err);
            }
            check(rc, &err, "answer job");
            handled++;
        }
        baton_jobs_free(jobs, n);
    }
    return handled;
}

static int print_record(void *ud, const char *type, const char *intent, uint64_t key,
                        const char *json) {
    (void)ud;
    (void)key;
    if (strcmp(type, "PROCESS_INSTANCE") || strcmp(intent, "ELEMENT_COMPLETED"))
        return 0;
    const char *id = strstr(json, "\"elementId\":\"");
    if (id) {
        id += 13;
        printf(" %.*s", (int)(strchr(id, '"') - id), id);
    }
    return 0;
}

int main(int argc, char **argv) {
    const char *data = "data", *model = "examples/trip-booking/trip-booking-jobs.bpmn";
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--data"))
            data = argv[i + 1];
        else if (!strcmp(argv[i], "--model"))
            model = argv[i + 1];
    }
    mkdir(data, 0755);
    char path[512];
    snprintf(path, sizeof path, "%s/trip-demo.db", data);
    baton *b;
    baton_error err;
    check(baton_open(path, NULL, &b, &err), &err, path);
    baton_deployed d;
    check(baton_deploy_file(b, model, &d, &err), &err, model);
    printf("deployed %s version %d from %s\n", d.bpmn_process_id, d.version, model);

    const char *trips[] = {"{\"tripId\": \"T-1\", \"soldOut\": false}",
                           "{\"tripId\": \"T-2\", \"soldOut\": true}"};
    for (int t = 0; t < 2; t++) {
        uint64_t key;
        check(baton_create_instance(b, d.bpmn_process_id, trips[t], NULL, &key, &err), &err,
              "start");
        printf("\ntrip %d: instance %llu %s\n", t + 1, (unsigned long long)key, trips[t]);
        while (handle_jobs(b) > 0)
            ;
        baton_instance inst;
        check(baton_get_instance(b, key, &inst), &err, "read instance");
        printf("  state: %s\n  completed elements:",
               inst.state == BATON_COMPLETED ? "COMPLETED" : "not completed");
        baton_history(b, key, print_record, NULL);
        printf("\n");
    }
    printf("\nstore: %s (every step above was committed with fsync)\n", path);
    baton_close(b);
    return 0;
}
