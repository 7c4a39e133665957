/*
 * embedded_bench.c — the embedded-engine benchmark: no HTTP, in-process job
 * handlers, a durable SQLite store (fsync on every commit).
 *
 * Workloads (bench/models/):
 *   one-task   start → service task → end
 *   trip-saga  book hotel → car → flight with compensation; every fifth
 *              flight fails with a BPMN error, which cancels car then hotel
 *   waiting    instances parked at a service task: memory per instance
 *
 * The loop is what a runtime does: take a batch of commands (start B
 * instances; activate and complete up to B jobs of each type), apply them,
 * commit once (group commit), repeat until every instance has ended.
 *
 * Usage: baton-bench-embedded [--instances N] [--batch B] [--waiting M]
 *                             [--models DIR] [--dir DIR]
 * Prints one line per workload, the same shape as the peer's lines.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "baton.h"
#include "bench_util.h"

static long peak_rss_kb(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

static baton *open_fresh(const char *dir, const char *name) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s.db", dir, name);
    unlink(path);
    char wal[600];
    snprintf(wal, sizeof wal, "%s-wal", path);
    unlink(wal);
    baton *b;
    baton_error err;
    if (baton_open(path, NULL, &b, &err))
        die("open", &err);
    return b;
}

static void deploy(baton *b, const char *models, const char *file) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", models, file);
    baton_error err;
    if (baton_deploy_file(b, path, NULL, &err))
        die(path, &err);
}

/* Activates and handles every activatable job of each type, in one batch
 * per type. `fail_every`: throw a BPMN error on every n-th flight. */
static int drain(baton *b, const char *const *types, int n_types, int batch, int fail_every,
                 long *flights) {
    int handled = 0;
    baton_job *jobs = calloc((size_t)batch, sizeof *jobs);
    baton_error err;
    for (int t = 0; t < n_types; t++) {
        int n = 0;
        baton_batch_begin(b);
        if (baton_activate_jobs(b, types[t], "bench", 60000, batch, jobs, &n, &err))
            die("activate", &err);
        for (int i = 0; i < n; i++) {
            int rc;
            if (fail_every && strcmp(types[t], "book-flight") == 0 && ++*flights % fail_every == 0)
                rc = baton_throw_error(b, jobs[i].key, "FLIGHT_FAILED", "no seats", &err);
            else
                rc = baton_complete_job(b, jobs[i].key, "{\"booking\":\"ok\"}", &err);
            if (rc)
                die("complete", &err);
        }
        if (baton_batch_commit(b, &err))
            die("commit", &err);
        baton_jobs_free(jobs, n);
        handled += n;
    }
    free(jobs);
    return handled;
}

static void run_workload(const char *dir, const char *models, const char *name, const char *file,
                         const char *process_id, const char *const *types, int n_types,
                         int fail_every, int instances, int batch) {
    baton *b = open_fresh(dir, name);
    deploy(b, models, file);
    baton_error err;
    long flights = 0;
    double t0 = now_s();
    int started = 0;
    while (started < instances) {
        int k = instances - started < batch ? instances - started : batch;
        baton_batch_begin(b);
        for (int i = 0; i < k; i++) {
            uint64_t key;
            if (baton_create_instance(b, process_id, "{\"tripId\":\"T\",\"amount\":42}", NULL, &key,
                                      &err))
                die("start", &err);
        }
        if (baton_batch_commit(b, &err))
            die("commit", &err);
        started += k;
        while (drain(b, types, n_types, batch, fail_every, &flights) > 0)
            ;
    }
    double secs = now_s() - t0;
    printf("engine=baton workload=%s instances=%d seconds=%.3f instances_per_sec=%.0f "
           "peak_rss_mb=%.1f durable=fsync batch=%d\n",
           name, instances, secs, instances / secs, peak_rss_kb() / 1024.0, batch);
    fflush(stdout);
    baton_close(b);
}

static void run_waiting(const char *dir, const char *models, int waiting, int batch) {
    baton *b = open_fresh(dir, "waiting");
    deploy(b, models, "one-task.bpmn");
    baton_error err;
    long before = rss_kb();
    for (int started = 0; started < waiting; started += batch) {
        baton_batch_begin(b);
        for (int i = 0; i < batch && started + i < waiting; i++) {
            uint64_t key;
            if (baton_create_instance(b, "one-task", "{\"tripId\":\"T\",\"amount\":42}", NULL, &key,
                                      &err))
                die("start", &err);
        }
        if (baton_batch_commit(b, &err))
            die("commit", &err);
    }
    long after = rss_kb();
    printf("engine=baton workload=waiting instances=%d bytes_per_instance=%.0f\n", waiting,
           (double)(after - before) * 1024.0 / waiting);
    baton_close(b);
}

int main(int argc, char **argv) {
    int instances = 20000, batch = 500, waiting = 100000;
    const char *models = "bench/models", *dir = NULL;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--instances"))
            instances = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--batch"))
            batch = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--waiting"))
            waiting = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--models"))
            models = argv[i + 1];
        else if (!strcmp(argv[i], "--dir"))
            dir = argv[i + 1];
    }
    char tmp[] = "/tmp/baton-bench-XXXXXX";
    if (!dir && !(dir = mkdtemp(tmp))) {
        perror("mkdtemp");
        return 1;
    }
    static const char *const one[] = {"work"};
    static const char *const trip[] = {"book-hotel",    "book-car",   "book-flight",
                                       "cancel-flight", "cancel-car", "cancel-hotel"};
    run_workload(dir, models, "one-task", "one-task.bpmn", "one-task", one, 1, 0, instances, batch);
    run_workload(dir, models, "trip-saga", "trip-saga.bpmn", "trip-saga", trip, 6, 5, instances / 2,
                 batch);
    run_waiting(dir, models, waiting, batch);
    return 0;
}
