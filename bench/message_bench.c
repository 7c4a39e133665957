/*
 * message_bench.c — messages on the embedded engine, durable (SQLite, one
 * fsync per group commit):
 *
 *   waiting      N instances parked at a message catch event (correlation
 *                key = the instance's order id): resident memory per
 *                waiting instance (RSS after minus before, over N) and store
 *                bytes per instance (file + WAL)
 *   correlate    one message per waiting instance, published in group-
 *                committed batches of B; each correlates at once (the
 *                instances complete): durable correlations per second
 *   buffered     M messages published first, with a time to live, then M
 *                instances started, each taking its buffered message when
 *                its subscription opens: durable instances per second
 *
 * Correlation is looked up by name + correlation key in a hash index, so
 * its cost must not grow with the number of waiting instances: the
 * correlate line is measured with all N instances still waiting at start.
 *
 * Usage: baton-bench-messages [--waiting N] [--buffered M] [--batch B] [--dir DIR]
 * Prints one key=value line per workload.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "baton.h"
#include "bench_util.h"

static const char MODEL[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<bpmn:definitions xmlns:bpmn=\"http://www.omg.org/spec/BPMN/20100524/MODEL\"\n"
    "  xmlns:zeebe=\"http://camunda.org/schema/zeebe/1.0\" id=\"d\" "
    "targetNamespace=\"http://baton.bench\">\n"
    "  <bpmn:message id=\"paid\" name=\"payment-received\"><bpmn:extensionElements>\n"
    "    <zeebe:subscription "
    "correlationKey=\"=orderId\"/></bpmn:extensionElements></bpmn:message>\n"
    "  <bpmn:process id=\"order\" isExecutable=\"true\">\n"
    "    <bpmn:startEvent id=\"start\"/>\n"
    "    <bpmn:intermediateCatchEvent id=\"wait\"><bpmn:messageEventDefinition "
    "messageRef=\"paid\"/></bpmn:intermediateCatchEvent>\n"
    "    <bpmn:endEvent id=\"end\"/>\n"
    "    <bpmn:sequenceFlow id=\"f1\" sourceRef=\"start\" targetRef=\"wait\"/>\n"
    "    <bpmn:sequenceFlow id=\"f2\" sourceRef=\"wait\" targetRef=\"end\"/>\n"
    "  </bpmn:process>\n"
    "</bpmn:definitions>\n";

static baton *open_fresh(const char *dir, const char *name, char *path, size_t size) {
    snprintf(path, size, "%s/%s.db", dir, name);
    unlink(path);
    char wal[600];
    snprintf(wal, sizeof wal, "%s-wal", path);
    unlink(wal);
    baton *b;
    baton_error err;
    if (baton_open(path, NULL, &b, &err))
        die("open", &err);
    if (baton_deploy(b, "order.bpmn", MODEL, strlen(MODEL), NULL, &err))
        die("deploy", &err);
    return b;
}

/* Every SAMPLE-th instance's key, to check the outcome afterwards. */
#define SAMPLE 1000
static uint64_t sampled[100000];
static int n_sampled;

static void start_batch(baton *b, int from, int count) {
    baton_error err;
    char vars[64];
    if (baton_batch_begin(b))
        die("batch", NULL);
    for (int i = from; i < from + count; i++) {
        snprintf(vars, sizeof vars, "{\"orderId\":\"o-%d\"}", i);
        uint64_t key;
        if (baton_create_instance(b, "order", vars, NULL, &key, &err))
            die("start", &err);
        if (i % SAMPLE == 0 && n_sampled < (int)(sizeof sampled / sizeof sampled[0]))
            sampled[n_sampled++] = key;
    }
    if (baton_batch_commit(b, &err))
        die("commit", &err);
}

static void publish_batch(baton *b, int from, int count, int64_t ttl) {
    baton_error err;
    char key[32];
    if (baton_batch_begin(b))
        die("batch", NULL);
    for (int i = from; i < from + count; i++) {
        snprintf(key, sizeof key, "o-%d", i);
        baton_message m = {"payment-received", key, ttl, NULL, "{\"amount\":42}"};
        uint64_t mk;
        if (baton_publish_message(b, &m, &mk, &err))
            die("publish", &err);
    }
    if (baton_batch_commit(b, &err))
        die("commit", &err);
}

/* Every sampled instance is in `state`. */
static void check_sampled(baton *b, int state, const char *what) {
    for (int i = 0; i < n_sampled; i++) {
        baton_instance inst;
        if (baton_get_instance(b, sampled[i], &inst) || inst.state != state)
            die(what, NULL);
    }
}

static int min_int(int a, int b) {
    return a < b ? a : b;
}

int main(int argc, char **argv) {
    int waiting = 1000000, buffered = 100000, batch = 1000;
    const char *dir = NULL;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--waiting"))
            waiting = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--buffered"))
            buffered = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--batch"))
            batch = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--dir"))
            dir = argv[i + 1];
    }
    char tmp[] = "/tmp/baton-bench-msg-XXXXXX";
    if (!dir && !(dir = mkdtemp(tmp))) {
        perror("mkdtemp");
        return 1;
    }
    char path[512];

    /* waiting + correlate */
    baton *b = open_fresh(dir, "messages", path, sizeof path);
    long before = rss_kb();
    double t0 = now_s();
    for (int i = 0; i < waiting; i += batch)
        start_batch(b, i, min_int(batch, waiting - i));
    double t1 = now_s();
    check_sampled(b, BATON_ACTIVE, "an instance did not wait");
    long after = rss_kb();
    char wal[600];
    snprintf(wal, sizeof wal, "%s-wal", path);
    printf("engine=baton workload=waiting-at-message instances=%d bytes_per_instance=%.0f "
           "store_bytes_per_instance=%.0f starts_per_sec=%.0f\n",
           waiting, (double)(after - before) * 1024.0 / waiting,
           (double)(file_size(path) + file_size(wal)) / waiting, waiting / (t1 - t0));
    fflush(stdout);
    t0 = now_s();
    for (int i = 0; i < waiting; i += batch)
        publish_batch(b, i, min_int(batch, waiting - i), 0);
    t1 = now_s();
    check_sampled(b, BATON_COMPLETED, "a message did not complete its instance");
    n_sampled = 0;
    printf("engine=baton workload=correlate messages=%d seconds=%.3f correlations_per_sec=%.0f "
           "batch=%d durable=fsync\n",
           waiting, t1 - t0, waiting / (t1 - t0), batch);
    fflush(stdout);
    baton_close(b);

    /* buffered first, then the subscriptions */
    b = open_fresh(dir, "buffered", path, sizeof path);
    t0 = now_s();
    for (int i = 0; i < buffered; i += batch)
        publish_batch(b, i, min_int(batch, buffered - i), 3600000);
    double t_pub = now_s() - t0;
    t0 = now_s();
    for (int i = 0; i < buffered; i += batch)
        start_batch(b, i, min_int(batch, buffered - i));
    t1 = now_s();
    check_sampled(b, BATON_COMPLETED, "an instance did not take its buffered message");
    printf("engine=baton workload=buffered messages=%d publish_per_sec=%.0f "
           "instances_taking_buffered_per_sec=%.0f batch=%d durable=fsync\n",
           buffered, buffered / t_pub, buffered / (t1 - t0), batch);
    baton_close(b);
    return 0;
}
