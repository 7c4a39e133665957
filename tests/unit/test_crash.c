/*
 * Durability: a process that runs instances through the embedding API is
 * killed with SIGKILL at pseudo-random points (a fixed seed picks after how
 * many acknowledgements); the store is reopened and every instance is driven
 * to its end. Checked after every kill:
 *   - no acknowledged instance is lost (it exists after the restart);
 *   - no acknowledged job completion is lost (the job never comes back);
 *   - every instance completes exactly once (one ELEMENT_COMPLETED record
 *     for its process element).
 * The child tells the parent what was acknowledged through a pipe, one line
 * per call that returned success — i.e. after the durable commit. The kill
 * lands wherever the child happens to be: the assertions hold for any timing.
 *
 * The same for messages: a child starts instances that wait for a message
 * and publishes their messages (with a time to live and a messageId), half
 * before the instance starts (buffered), half after (correlated at once).
 * After every kill: an instance whose start and message were both
 * acknowledged has completed, and publishing an acknowledged message's id
 * again is refused (it is still buffered): a publisher that retries after a
 * crash cannot deliver twice.
 */
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

#include "engine_fixture.h"

#define BT_ARRAY_LEN_T(a) (sizeof(a) / sizeof((a)[0]))

#define MAX_ACKS 4096

static const char *TYPES[] = {"work",        "book-hotel",   "book-car",
                              "book-flight", "cancel-hotel", "cancel-car"};

static const char *SAGA = "<bpmn:startEvent id=\"start\"/>\n" TASK(
    "bookHotel",
    "book-hotel") "<bpmn:boundaryEvent id=\"hc\" "
                  "attachedToRef=\"bookHotel\"><bpmn:compensateEventDefinition/>"
                  "</bpmn:boundaryEvent><bpmn:serviceTask id=\"cancelHotel\" "
                  "isForCompensation=\"true\">"
                  "<bpmn:extensionElements><zeebe:taskDefinition type=\"cancel-hotel\"/>"
                  "</bpmn:extensionElements></bpmn:serviceTask>"
                  "<bpmn:association id=\"a1\" sourceRef=\"hc\" targetRef=\"cancelHotel\"/>" TASK(
                      "bookCar",
                      "book-car") "<bpmn:boundaryEvent id=\"cc\" "
                                  "attachedToRef=\"bookCar\"><bpmn:compensateEventDefinition/>"
                                  "</bpmn:boundaryEvent><bpmn:serviceTask id=\"cancelCar\" "
                                  "isForCompensation=\"true\">"
                                  "<bpmn:extensionElements><zeebe:taskDefinition "
                                  "type=\"cancel-car\"/>"
                                  "</bpmn:extensionElements></bpmn:serviceTask>"
                                  "<bpmn:association id=\"a2\" sourceRef=\"cc\" "
                                  "targetRef=\"cancelCar\"/>" TASK(
                                      "bookFlight",
                                      "book-flight") "<bpmn:boundaryEvent id=\"fe\" "
                                                     "attachedToRef=\"bookFlight\"><bpmn:"
                                                     "errorEventDefinition/>"
                                                     "</bpmn:boundaryEvent>"
                                                     "<bpmn:endEvent "
                                                     "id=\"undo\"><bpmn:compensateEventDefinition/"
                                                     "></bpmn:endEvent>"
                                                     "<bpmn:endEvent id=\"booked\"/>" FLOW(
                                                         "f1", "start", "bookHotel")
                                                         FLOW("f2", "bookHotel", "bookCar")
                                                             FLOW("f3", "bookCar", "bookFlight")
                                                                 FLOW("f4", "bookFlight", "booked")
                                                                     FLOW("f5", "fe", "undo");

static const char *ONE =
    "<bpmn:startEvent id=\"start\"/>\n" TASK("task", "work") "<bpmn:endEvent id=\"end\"/>\n" FLOW(
        "f1", "start", "task") FLOW("f2", "task", "end");

static void ack(int fd, char kind, uint64_t key) {
    char line[40];
    int n = snprintf(line, sizeof line, "%c %llu\n", kind, (unsigned long long)key);
    if (write(fd, line, (size_t)n) != n)
        _exit(3);
}

/* Processes every activatable job once; flight bookings of odd instances
 * fail. Returns how many jobs were handled. */
static int work_once(baton *b, int fd) {
    int handled = 0;
    for (size_t t = 0; t < BT_ARRAY_LEN_T(TYPES); t++) {
        baton_job jobs[32];
        int n = 0;
        baton_error err;
        if (baton_activate_jobs(b, TYPES[t], "crash", 60000, 32, jobs, &n, &err) != 0)
            continue;
        for (int i = 0; i < n; i++) {
            int rc;
            if (strcmp(TYPES[t], "book-flight") == 0 && jobs[i].process_instance_key % 2)
                rc = baton_throw_error(b, jobs[i].key, "NO_SEATS", NULL, &err);
            else
                rc = baton_complete_job(b, jobs[i].key, "{\"done\": true}", &err);
            if (rc == 0 && fd >= 0)
                ack(fd, 'C', jobs[i].key);
            handled++;
        }
        baton_jobs_free(jobs, n);
    }
    return handled;
}

static void child_run(const char *path, int fd, int round) {
    baton *b;
    baton_error err;
    if (baton_open(path, NULL, &b, &err) != 0)
        _exit(2);
    for (int i = 0;; i++) {
        uint64_t key;
        /* A few group-committed batches too: acknowledged only after commit. */
        if (i % 5 == 4) {
            uint64_t keys[4];
            baton_batch_begin(b);
            for (int k = 0; k < 4; k++)
                if (baton_create_instance(b, k % 2 ? "saga" : "one", NULL, NULL, &keys[k], &err))
                    _exit(4);
            if (baton_batch_commit(b, &err) == 0)
                for (int k = 0; k < 4; k++)
                    ack(fd, 'S', keys[k]);
        } else if (baton_create_instance(b, (i + round) % 2 ? "saga" : "one", NULL, NULL, &key,
                                         &err) == 0) {
            ack(fd, 'S', key);
        }
        work_once(b, fd);
    }
}

typedef struct acks {
    uint64_t started[MAX_ACKS * 4];
    int n_started;
    uint64_t completed[MAX_ACKS * 8];
    int n_completed;
} acks;

static int read_acks(int fd, acks *a, int stop_after) {
    FILE *in = fdopen(fd, "r");
    char line[64];
    int seen = 0;
    while (seen < stop_after && fgets(line, sizeof line, in)) {
        unsigned long long key;
        char kind;
        if (sscanf(line, "%c %llu", &kind, &key) != 2)
            continue;
        if (kind == 'S' && a->n_started < (int)BT_ARRAY_LEN_T(a->started))
            a->started[a->n_started++] = key;
        else if (kind == 'C' && a->n_completed < (int)BT_ARRAY_LEN_T(a->completed))
            a->completed[a->n_completed++] = key;
        seen++;
    }
    fclose(in);
    return seen;
}

typedef struct completion_count {
    int process_completed;
} completion_count;

static int count_process_completed(void *ud, const char *type, const char *intent, uint64_t key,
                                   const char *json) {
    (void)key;
    completion_count *c = ud;
    if (!strcmp(type, "PROCESS_INSTANCE") && !strcmp(intent, "ELEMENT_COMPLETED") &&
        strstr(json, "\"bpmnElementType\":\"PROCESS\""))
        c->process_completed++;
    return 0;
}

static int64_t later_clock(void *ud) {
    (void)ud;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + 120000;
}

static void test_sigkill_loses_nothing_acknowledged(void **state) {
    (void)state;
    fixture *f = fixture_new(false);
    deploy_ok(f, "one", "", ONE);
    deploy_ok(f, "saga", "", SAGA);
    baton_close(f->b);
    f->b = NULL;

    static acks a;
    memset(&a, 0, sizeof a);
    uint32_t seed = 12345;
    for (int round = 0; round < 6; round++) {
        seed = seed * 1103515245u + 12345u;
        int stop_after = 20 + (int)((seed >> 8) % 200);
        int p[2];
        assert_int_equal(pipe(p), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            close(p[0]);
            child_run(f->path, p[1], round);
            _exit(0);
        }
        close(p[1]);
        read_acks(p[0], &a, stop_after);
        kill(pid, SIGKILL);
        int status;
        waitpid(pid, &status, 0);
        assert_true(WIFSIGNALED(status) || WEXITSTATUS(status) == 0);
    }
    assert_true(a.n_started > 0);

    /* Recover and finish everything. Jobs the child had activated come back
     * when their deadline passes: the recovering process lives two minutes
     * later than the child did. */
    baton_options opts = {.clock = later_clock};
    baton_error err;
    assert_int_equal(baton_open(f->path, &opts, &f->b, &err), 0);
    baton_tick(f->b, &err);
    for (int i = 0; i < a.n_started; i++) {
        baton_instance inst;
        if (baton_get_instance(f->b, a.started[i], &inst) != 0)
            fail_msg("acknowledged instance %llu lost", (unsigned long long)a.started[i]);
    }
    /* A job whose completion was acknowledged never comes back. */
    for (int guard = 0; guard < 1000; guard++) {
        int handled = 0;
        for (size_t t = 0; t < BT_ARRAY_LEN_T(TYPES); t++) {
            baton_job jobs[64];
            int n = 0;
            assert_int_equal(
                baton_activate_jobs(f->b, TYPES[t], "finish", 60000, 64, jobs, &n, &err), 0);
            for (int i = 0; i < n; i++) {
                for (int c = 0; c < a.n_completed; c++)
                    if (a.completed[c] == jobs[i].key)
                        fail_msg("job %llu completed before the crash came back",
                                 (unsigned long long)jobs[i].key);
                assert_int_equal(baton_complete_job(f->b, jobs[i].key, NULL, &err), 0);
                handled++;
            }
            baton_jobs_free(jobs, n);
        }
        if (!handled)
            break;
    }
    for (int i = 0; i < a.n_started; i++) {
        baton_instance inst;
        assert_int_equal(baton_get_instance(f->b, a.started[i], &inst), 0);
        if (inst.state != BATON_COMPLETED)
            fail_msg("instance %llu did not complete (state %d)", (unsigned long long)a.started[i],
                     inst.state);
        completion_count c = {0};
        assert_int_equal(baton_history(f->b, a.started[i], count_process_completed, &c), 0);
        assert_int_equal(c.process_completed, 1);
    }
    fixture_free(f);
}

/* ---- messages ------------------------------------------------------------------- */

static const char *PAID_DEF =
    "<bpmn:message id=\"paid\" name=\"paid\"><bpmn:extensionElements>"
    "<zeebe:subscription correlationKey=\"=orderId\"/></bpmn:extensionElements></bpmn:message>";

static const char *WAIT =
    "<bpmn:startEvent id=\"start\"/><bpmn:intermediateCatchEvent id=\"wait\">"
    "<bpmn:messageEventDefinition messageRef=\"paid\"/></bpmn:intermediateCatchEvent>"
    "<bpmn:endEvent id=\"end\"/>" FLOW("f1", "start", "wait") FLOW("f2", "wait", "end");

static void message_child(const char *path, int fd, int round) {
    baton *b;
    baton_error err;
    if (baton_open(path, NULL, &b, &err) != 0)
        _exit(2);
    for (int i = 0;; i++) {
        char id[32], vars[64], line[80];
        snprintf(id, sizeof id, "r%d-%d", round, i);
        snprintf(vars, sizeof vars, "{\"orderId\":\"%s\"}", id);
        baton_message m = {"paid", id, 3600000, id, "{\"paid\":true}"};
        uint64_t key, mk;
        for (int step = 0; step < 2; step++) {
            int n = 0;
            if ((step == 0) == (i % 2 == 0)) { /* even: start first; odd: publish first */
                if (baton_create_instance(b, "order", vars, NULL, &key, &err) == 0)
                    n = snprintf(line, sizeof line, "S %s %llu\n", id, (unsigned long long)key);
            } else if (baton_publish_message(b, &m, &mk, &err) == 0) {
                n = snprintf(line, sizeof line, "P %s\n", id);
            }
            if (n > 0 && write(fd, line, (size_t)n) != n)
                _exit(3);
        }
    }
}

#define MAX_ORDERS 8192

typedef struct order_acks {
    char id[MAX_ORDERS][24];
    uint64_t key[MAX_ORDERS]; /* 0: the start was not acknowledged */
    bool published[MAX_ORDERS];
    int n;
} order_acks;

static int order_slot(order_acks *a, const char *id) {
    for (int i = 0; i < a->n; i++)
        if (!strcmp(a->id[i], id))
            return i;
    if (a->n == MAX_ORDERS)
        return -1;
    snprintf(a->id[a->n], sizeof a->id[0], "%s", id);
    return a->n++;
}

static void read_order_acks(int fd, order_acks *a, int stop_after) {
    FILE *in = fdopen(fd, "r");
    char line[96];
    for (int seen = 0; seen < stop_after && fgets(line, sizeof line, in); seen++) {
        char kind, id[24];
        unsigned long long key = 0;
        if (sscanf(line, "%c %23s %llu", &kind, id, &key) < 2)
            continue;
        int slot = order_slot(a, id);
        if (slot < 0)
            break;
        if (kind == 'S')
            a->key[slot] = key;
        else
            a->published[slot] = true;
    }
    fclose(in);
}

static void test_sigkill_loses_no_message(void **state) {
    (void)state;
    fixture *f = fixture_new(false);
    deploy_ok(f, "order", PAID_DEF, WAIT);
    baton_close(f->b);
    f->b = NULL;

    static order_acks a;
    memset(&a, 0, sizeof a);
    uint32_t seed = 777;
    for (int round = 0; round < 6; round++) {
        seed = seed * 1103515245u + 12345u;
        int stop_after = 20 + (int)((seed >> 8) % 300);
        int p[2];
        assert_int_equal(pipe(p), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            close(p[0]);
            message_child(f->path, p[1], round);
            _exit(0);
        }
        close(p[1]);
        read_order_acks(p[0], &a, stop_after);
        kill(pid, SIGKILL);
        int status;
        waitpid(pid, &status, 0);
        assert_true(WIFSIGNALED(status) || WEXITSTATUS(status) == 0);
    }

    baton_error err;
    assert_int_equal(baton_open(f->path, NULL, &f->b, &err), 0);
    int both = 0;
    for (int i = 0; i < a.n; i++) {
        if (a.key[i]) {
            baton_instance inst;
            if (baton_get_instance(f->b, a.key[i], &inst) != 0)
                fail_msg("acknowledged instance %s lost", a.id[i]);
            if (a.published[i] && inst.state != BATON_COMPLETED)
                fail_msg("instance %s and its message were acknowledged, but it waits (%d)",
                         a.id[i], inst.state);
            both += a.published[i];
        }
        if (a.published[i]) {
            baton_message m = {"paid", a.id[i], 3600000, a.id[i], NULL};
            uint64_t mk;
            if (baton_publish_message(f->b, &m, &mk, &err) != BATON_ECONFLICT)
                fail_msg("message %s was acknowledged, but its id is free again", a.id[i]);
        }
    }
    assert_true(both > 0);
    fixture_free(f);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sigkill_loses_nothing_acknowledged),
        cmocka_unit_test(test_sigkill_loses_no_message),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
