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

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sigkill_loses_nothing_acknowledged),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
