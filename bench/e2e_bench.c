/*
 * e2e_bench.c — the end-to-end benchmark of `baton serve`: a load generator
 * and job workers on the REST API, over keep-alive HTTP connections.
 *
 *   starters  S threads, each one connection, POST /v2/process-instances in
 *             a loop — as fast as the server answers, or paced to a total
 *             rate (--rate N instances/s);
 *   workers   W threads, each one connection, POST /v2/jobs/activation (long
 *             polling, up to 32 jobs) for the workload's job types, then
 *             POST /v2/jobs/{key}/completion (or /error for failing flights)
 *             for every job.
 *
 * An instance's latency is from just before its creation request to the
 * moment its last job's completion is acknowledged (the job whose completion
 * ends the instance: `work` for one-task; book-flight or cancel-hotel for
 * the trip saga). Every acknowledgement is durable (fsync'd group commit).
 *
 * The order-message workload runs in two phases: the starters create N
 * instances that wait for a message (correlation key o-<n>), then W
 * correlator threads, each one connection, POST /v2/messages/correlation
 * for every instance; a correlation's latency is its request's round trip
 * (the instance has completed when it is acknowledged).
 *
 * Usage: baton-bench-e2e --url http://127.0.0.1:8080 --workload one-task|trip-saga|order-message
 *          [--instances N] [--rate N] [--starters S] [--workers W] [--fail-every K]
 * The server must have bench/models/<workload>.bpmn deployed (bench/e2e.sh
 * does everything: starts a server on a fresh data directory, deploys, runs).
 */
#include <curl/curl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_INSTANCES 2000000

static const char *base_url = "http://127.0.0.1:8080";
static const char *workload = "one-task";
static long total = 20000, rate = 0, fail_every = 5;
static int n_starters = 4, n_workers = 4;

static atomic_long started, finished, errors;
static atomic_long flights;
static double t0;

/* Start times by instance key; keys are dense enough to hash by modulo. */
typedef struct slot {
    unsigned long long key;
    double start;
} slot;
static slot *slots;
static size_t n_slots;
static pthread_mutex_t slots_mu = PTHREAD_MUTEX_INITIALIZER;
static double *latencies;
static atomic_long n_latencies;

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void slot_put(unsigned long long key, double start) {
    pthread_mutex_lock(&slots_mu);
    size_t i = (size_t)(key * 0x9E3779B97F4A7C15ULL) % n_slots;
    while (slots[i].key)
        i = (i + 1) % n_slots;
    slots[i] = (slot){key, start};
    pthread_mutex_unlock(&slots_mu);
}

static double slot_take(unsigned long long key) {
    pthread_mutex_lock(&slots_mu);
    size_t i = (size_t)(key * 0x9E3779B97F4A7C15ULL) % n_slots;
    for (size_t probes = 0; probes < n_slots && slots[i].key; probes++) {
        if (slots[i].key == key) {
            double s = slots[i].start;
            pthread_mutex_unlock(&slots_mu);
            return s;
        }
        i = (i + 1) % n_slots;
    }
    pthread_mutex_unlock(&slots_mu);
    return -1;
}

typedef struct response {
    char *data;
    size_t len;
} response;

static size_t collect(char *p, size_t size, size_t n, void *ud) {
    response *r = ud;
    size_t len = size * n;
    r->data = realloc(r->data, r->len + len + 1);
    memcpy(r->data + r->len, p, len);
    r->len += len;
    r->data[r->len] = 0;
    return len;
}

/* POSTs body to path on the connection `c`; returns the status, the body in *out. */
static long post(CURL *c, const char *path, const char *body, response *out) {
    char url[512];
    snprintf(url, sizeof url, "%s%s", base_url, path);
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    out->len = 0;
    if (out->data)
        out->data[0] = 0;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
    curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L);
    long status = 0;
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(h);
    return status;
}

/* The value of "name":"digits" in json, or 0. */
static unsigned long long json_key(const char *json, const char *name) {
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\":\"", name);
    const char *p = json ? strstr(json, pat) : NULL;
    return p ? strtoull(p + strlen(pat), NULL, 10) : 0;
}

static bool message_workload(void) {
    return !strcmp(workload, "order-message");
}

static void *starter(void *arg) {
    long id = (long)arg;
    CURL *c = curl_easy_init();
    response r = {0};
    char body[256];
    snprintf(body, sizeof body,
             "{\"processDefinitionId\":\"%s\",\"variables\":{\"tripId\":\"T\",\"amount\":42}}",
             workload);
    for (;;) {
        long n = atomic_fetch_add(&started, 1);
        if (n >= total)
            break;
        if (message_workload())
            snprintf(body, sizeof body,
                     "{\"processDefinitionId\":\"%s\",\"variables\":{\"orderId\":\"o-%ld\"}}",
                     workload, n);
        if (rate > 0) { /* pace: instance n starts at t0 + n / rate */
            double due = t0 + (double)n / (double)rate, wait = due - now_s();
            if (wait > 0)
                usleep((useconds_t)(wait * 1e6));
        }
        double s = now_s();
        long status = post(c, "/v2/process-instances", body, &r);
        unsigned long long key = json_key(r.data, "processInstanceKey");
        if (status != 200 || !key) {
            atomic_fetch_add(&errors, 1);
            continue;
        }
        slot_put(key, s);
    }
    (void)id;
    free(r.data);
    curl_easy_cleanup(c);
    return NULL;
}

/* Is completing a job of this type the end of its instance? */
static bool ends_instance(const char *type, bool failed_flight) {
    if (!strcmp(workload, "one-task"))
        return !strcmp(type, "work");
    return (!strcmp(type, "book-flight") && !failed_flight) || !strcmp(type, "cancel-hotel");
}

static void *worker(void *arg) {
    const char *const *types = arg;
    CURL *c = curl_easy_init(), *done = curl_easy_init();
    response r = {0}, r2 = {0};
    while (atomic_load(&finished) + atomic_load(&errors) < total) {
        for (const char *const *t = types; *t; t++) {
            char body[256];
            snprintf(body, sizeof body,
                     "{\"type\":\"%s\",\"worker\":\"bench\",\"timeout\":60000,"
                     "\"maxJobsToActivate\":32,\"requestTimeout\":%d}",
                     *t, types[1] ? 200 : 1000);
            if (post(c, "/v2/jobs/activation", body, &r) != 200)
                continue;
            for (const char *p = r.data; (p = strstr(p, "\"jobKey\":\""));) {
                unsigned long long job = strtoull(p + 10, NULL, 10);
                const char *pi_at = strstr(p, "\"processInstanceKey\":\"");
                unsigned long long pi = pi_at ? strtoull(pi_at + 22, NULL, 10) : 0;
                p += 10;
                char path[128];
                bool fail = !strcmp(*t, "book-flight") && fail_every > 0 &&
                            (atomic_fetch_add(&flights, 1) + 1) % fail_every == 0;
                snprintf(path, sizeof path,
                         fail ? "/v2/jobs/%llu/error" : "/v2/jobs/%llu/completion", job);
                long st = post(done, path,
                               fail ? "{\"errorCode\":\"FLIGHT_FAILED\"}"
                                    : "{\"variables\":{\"ok\":true}}",
                               &r2);
                if (st != 204) {
                    atomic_fetch_add(&errors, 1);
                    continue;
                }
                if (ends_instance(*t, fail)) {
                    double s = slot_take(pi);
                    if (s >= 0) {
                        long i = atomic_fetch_add(&n_latencies, 1);
                        if (i < MAX_INSTANCES)
                            latencies[i] = now_s() - s;
                    }
                    atomic_fetch_add(&finished, 1);
                }
            }
        }
    }
    free(r.data);
    free(r2.data);
    curl_easy_cleanup(c);
    curl_easy_cleanup(done);
    return NULL;
}

/* Correlates the message of instance n (0..total) for each n it takes. */
static atomic_long correlated_next;

static void *correlator(void *arg) {
    (void)arg;
    CURL *c = curl_easy_init();
    response r = {0};
    char body[160];
    for (;;) {
        long n = atomic_fetch_add(&correlated_next, 1);
        if (n >= total)
            break;
        snprintf(body, sizeof body,
                 "{\"name\":\"payment-received\",\"correlationKey\":\"o-%ld\","
                 "\"variables\":{\"paid\":true}}",
                 n);
        double s = now_s();
        if (post(c, "/v2/messages/correlation", body, &r) != 200 ||
            !json_key(r.data, "processInstanceKey")) {
            atomic_fetch_add(&errors, 1);
            continue;
        }
        long i = atomic_fetch_add(&n_latencies, 1);
        if (i < MAX_INSTANCES)
            latencies[i] = now_s() - s;
        atomic_fetch_add(&finished, 1);
    }
    free(r.data);
    curl_easy_cleanup(c);
    return NULL;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--url"))
            base_url = argv[i + 1];
        else if (!strcmp(argv[i], "--workload"))
            workload = argv[i + 1];
        else if (!strcmp(argv[i], "--instances"))
            total = atol(argv[i + 1]);
        else if (!strcmp(argv[i], "--rate"))
            rate = atol(argv[i + 1]);
        else if (!strcmp(argv[i], "--starters"))
            n_starters = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--workers"))
            n_workers = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--fail-every"))
            fail_every = atol(argv[i + 1]);
    }
    if (total <= 0 || total > MAX_INSTANCES) {
        fprintf(stderr, "--instances must be 1..%d\n", MAX_INSTANCES);
        return 2;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    n_slots = (size_t)total * 2 + 1;
    slots = calloc(n_slots, sizeof *slots);
    latencies = calloc((size_t)total, sizeof *latencies);
    static const char *const one[] = {"work", NULL};
    static const char *const trip[] = {"book-hotel", "book-car",     "book-flight",
                                       "cancel-car", "cancel-hotel", NULL};
    const char *const *types = strcmp(workload, "one-task") ? trip : one;
    pthread_t th[64];
    int n = 0;
    if (message_workload()) {
        t0 = now_s();
        for (long i = 0; i < n_starters && n < 64; i++)
            pthread_create(&th[n++], NULL, starter, (void *)i);
        for (int i = 0; i < n; i++)
            pthread_join(th[i], NULL);
        double created = now_s() - t0;
        long errs = atomic_load(&errors);
        n = 0;
        t0 = now_s();
        for (int i = 0; i < n_workers && n < 64; i++)
            pthread_create(&th[n++], NULL, correlator, NULL);
        for (int i = 0; i < n; i++)
            pthread_join(th[i], NULL);
        double secs = now_s() - t0;
        long k = atomic_load(&n_latencies);
        qsort(latencies, (size_t)k, sizeof *latencies, cmp_double);
        printf("engine=baton-serve workload=order-message instances=%ld create_errors=%ld "
               "instances_per_sec=%.0f correlated=%ld errors=%ld seconds=%.2f "
               "correlations_per_sec=%.0f p50_ms=%.1f p99_ms=%.1f starters=%d correlators=%d\n",
               total, errs, (total - errs) / created, atomic_load(&finished),
               atomic_load(&errors) - errs, secs, atomic_load(&finished) / secs,
               k ? latencies[k / 2] * 1000 : 0, k ? latencies[k * 99 / 100] * 1000 : 0, n_starters,
               n_workers);
        free(slots);
        free(latencies);
        curl_global_cleanup();
        return atomic_load(&errors) ? 1 : 0;
    }
    t0 = now_s();
    for (int i = 0; i < n_workers && n < 64; i++)
        pthread_create(&th[n++], NULL, worker, (void *)types);
    for (long i = 0; i < n_starters && n < 64; i++)
        pthread_create(&th[n++], NULL, starter, (void *)i);
    for (int i = 0; i < n; i++)
        pthread_join(th[i], NULL);
    double secs = now_s() - t0;
    long k = atomic_load(&n_latencies);
    if (k > total)
        k = total;
    qsort(latencies, (size_t)k, sizeof *latencies, cmp_double);
    double p50 = k ? latencies[k / 2] * 1000 : 0, p99 = k ? latencies[k * 99 / 100] * 1000 : 0;
    char rate_text[32];
    snprintf(rate_text, sizeof rate_text, "%ld", rate);
    printf("engine=baton-serve workload=%s instances=%ld completed=%ld errors=%ld seconds=%.2f "
           "instances_per_sec=%.0f p50_ms=%.1f p99_ms=%.1f rate=%s starters=%d workers=%d\n",
           workload, total, atomic_load(&finished), atomic_load(&errors), secs,
           atomic_load(&finished) / secs, p50, p99, rate ? rate_text : "max", n_starters,
           n_workers);
    free(slots);
    free(latencies);
    curl_global_cleanup();
    return atomic_load(&errors) ? 1 : 0;
}
