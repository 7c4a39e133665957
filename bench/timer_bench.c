/*
 * timer_bench.c — timers at scale, through the embedding API (no HTTP), on a
 * durable SQLite store (fsync on every commit), with the system clock.
 *
 * Workloads:
 *
 *   timer-waiting   N instances (default 1,000,000) of bench/models/
 *                   timer-wait.bpmn (start → timer P7D → end) created in
 *                   group commits of B (default 500), all left waiting at
 *                   the timer. Reports the creation rate, memory per waiting
 *                   instance — the growth of RSS (/proc/self/statm) and of
 *                   the malloc heap (mallinfo2: bytes in use, which leaves
 *                   out SQLite's page cache and freed-but-kept pages) over
 *                   the creation, divided by N — and the store's size on disk
 *                   (database + WAL) per instance. It runs first, in a fresh
 *                   process, so no freed memory of an earlier workload hides
 *                   the growth. The store is then closed and opened again:
 *                   the time baton_open takes to recover N waiting instances
 *                   and rebuild the due-time heap is reported too.
 *
 *   timer-loop      whether the loop stays fast with many timers pending:
 *                   on an empty store (pending=0), then on the recovered
 *                   store with the N timers pending (pending=N):
 *                     tick_idle_us   the mean cost of baton_tick when nothing
 *                                    is due (2,000 calls)
 *                     create_ms      one group commit creating K (default
 *                                    1,000) instances of timer-at.bpmn, all
 *                                    due at the same millisecond a second on
 *                                    (median of 5 rounds)
 *                     fire_ms        the one baton_tick, called at that due
 *                                    time, that fires the K timers and
 *                                    commits (median of 5 rounds); each
 *                                    round checks that all K completed
 *
 *   timer-lateness  T timers (default 100,000) falling due at a steady R a
 *                   second (default 10,000/s, so over T/R seconds of wall
 *                   time): T instances of timer-at.bpmn (start → timer at
 *                   the date-time in variable `due` → end), the i-th due at
 *                   t0 + i·1000/R ms, created in group commits before t0
 *                   (t0 leaves room for the creation at half the rate the
 *                   timer-waiting workload reached). Then the loop a runtime
 *                   runs: baton_tick, sleep until the due time it returned,
 *                   tick again — nothing else in between. Run on the empty
 *                   store and on the store holding the N waiting instances.
 *
 * How a timer's firing is found (through the engine, not by assumption):
 * during the loop the bench only records, for every tick, the clock value
 * baton_tick received (the clock callback keeps the last value it returned;
 * baton_tick reads the clock once) and the wall time at which baton_tick
 * returned, i.e. after its commit. After the loop every instance is read
 * back with baton_get_instance — from the store, since ended instances
 * leave the engine's memory once committed. In timer-at.bpmn the timer is
 * followed only by the end event, so the command that fires the timer also
 * completes the instance, and the engine stamps the instance's end_ms with
 * that command's time. The firing tick is therefore the first tick whose
 * clock value equals end_ms (a later tick with the same millisecond has
 * nothing left to fire), and
 *
 *     lateness = (wall time that tick returned) − (the timer's due time)
 *
 * which counts the wait for the tick, the tick's own work and its fsync'd
 * commit. An instance that is not COMPLETED, or whose end_ms is before its
 * due time or matches no tick, is counted (unfired / early / unmatched) and
 * never silently dropped. A sample of 100 instances is also checked in the
 * record log (baton_history) for its TIMER TRIGGERED record. Reading the
 * state after the loop, rather than between ticks, keeps the reads out of
 * what is measured.
 *
 * Printed, one line per workload: key=value pairs, as bench/embedded_bench.c.
 * Besides the figures above:
 *   timer-waiting   apply_max_ms / apply_max_at: the slowest batch's engine
 *                   part (the create calls) and how many instances existed
 *                   then; commit_max_ms: the slowest group commit
 *   timer-lateness  achieved_rate: timers fired / (last firing commit − first
 *                   due time); start_late_p99_ms: the firing tick's clock
 *                   value − due time (how late the tick began, without its
 *                   own work); tick_p50/p99/max_ms: duration of the ticks
 *                   that fired something; tick_max_cpu_ms: this thread's CPU
 *                   time in the slowest of them (much less than its
 *                   duration: it waited, for fsync); loop_busy: time in
 *                   baton_tick / wall time of the loop; written_kb_per_timer:
 *                   bytes the process passed to write(2) during the loop
 *                   (WAL frames and checkpoints) per timer fired;
 *                   slack_ms: how long before the first due time the
 *                   creation ended (negative: the run is not valid)
 *
 * Usage: baton-bench-timers [--waiting N] [--batch B] [--timers T]
 *                           [--rate R] [--probe K] [--vars JSON|none]
 *                           [--models DIR] [--dir DIR]
 * --vars: the variables of each waiting instance (default the same as the
 * waiting workload of bench/embedded_bench.c, {"tripId":"T","amount":42}).
 */
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "baton.h"
#include "bench_util.h"

/* ---- clocks, memory, files ----------------------------------------------------- */

/* The engine's clock: the system clock, remembering what it last said. */
typedef struct bench_clock {
    int64_t last_ms;
} bench_clock;

static int64_t wall_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t wall_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int64_t clock_read(void *ud) {
    bench_clock *c = ud;
    c->last_ms = wall_ms();
    return c->last_ms;
}

static double cpu_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Bytes this process has passed to write(2) and friends (/proc/self/io). */
static long long written_bytes(void) {
    FILE *f = fopen("/proc/self/io", "r");
    char line[128];
    long long v = 0;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "wchar: %lld", &v) == 1)
            break;
    if (f)
        fclose(f);
    return v;
}

static void sleep_until_ms(int64_t at_ms) {
    struct timespec ts = {(time_t)(at_ms / 1000), (long)(at_ms % 1000) * 1000000L};
    while (clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &ts, NULL) == EINTR)
        ;
}

/* Bytes malloc has handed out and not taken back (arena chunks + mmap'd). */
static double heap_bytes(void) {
    struct mallinfo2 mi = mallinfo2();
    return (double)mi.uordblks + (double)mi.hblkhd;
}

/* An ISO 8601 UTC date-time with milliseconds. */
static void iso_ms(int64_t ms, char out[40]) {
    time_t secs = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    snprintf(out, 40, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
}

/* ---- stores ------------------------------------------------------------------------- */

typedef struct bench_store {
    char path[512];
    baton *b;
    bench_clock clock;
} bench_store;

static void store_paths_remove(const char *path) {
    static const char *const suffix[] = {"", "-wal", "-shm"};
    for (int i = 0; i < 3; i++) {
        char p[600];
        snprintf(p, sizeof p, "%s%s", path, suffix[i]);
        unlink(p);
    }
}

static void store_open_at(bench_store *s) {
    baton_options opts = {.clock = clock_read, .clock_ud = &s->clock};
    baton_error err;
    if (baton_open(s->path, &opts, &s->b, &err))
        die("open", &err);
}

static void store_fresh(bench_store *s, const char *dir, const char *name, const char *models) {
    snprintf(s->path, sizeof s->path, "%s/%s.db", dir, name);
    store_paths_remove(s->path);
    store_open_at(s);
    static const char *const files[] = {"timer-wait.bpmn", "timer-at.bpmn"};
    for (int i = 0; i < 2; i++) {
        char path[512];
        snprintf(path, sizeof path, "%s/%s", models, files[i]);
        baton_error err;
        if (baton_deploy_file(s->b, path, NULL, &err))
            die(path, &err);
    }
}

static void store_drop(bench_store *s) {
    baton_close(s->b);
    s->b = NULL;
    store_paths_remove(s->path);
}

/* Creates one timer-at instance due at due_ms. */
static uint64_t create_due(baton *b, int64_t due_ms) {
    char when[40], vars[64];
    iso_ms(due_ms, when);
    snprintf(vars, sizeof vars, "{\"due\":\"%s\"}", when);
    uint64_t key;
    baton_error err;
    if (baton_create_instance(b, "timer-at", vars, NULL, &key, &err))
        die("start", &err);
    return key;
}

/* ---- timer-waiting ------------------------------------------------------------------- */

/* Returns the creation rate (instances/s). */
static double run_waiting(bench_store *s, int waiting, int batch, const char *vars) {
    baton_error err;
    long rss_before = rss_kb();
    double heap_before = heap_bytes();
    /* Per batch: the engine's part (the create calls) and the commit. */
    double apply_max = 0, commit_max = 0;
    int apply_max_at = 0;
    double t0 = now_s();
    for (int started = 0; started < waiting; started += batch) {
        double a0 = now_s();
        baton_batch_begin(s->b);
        for (int i = 0; i < batch && started + i < waiting; i++) {
            uint64_t key;
            if (baton_create_instance(s->b, "timer-wait", vars, NULL, &key, &err))
                die("start", &err);
        }
        double a1 = now_s();
        if (baton_batch_commit(s->b, &err))
            die("commit", &err);
        double a2 = now_s();
        if (a1 - a0 > apply_max) {
            apply_max = a1 - a0;
            apply_max_at = started;
        }
        if (a2 - a1 > commit_max)
            commit_max = a2 - a1;
    }
    double secs = now_s() - t0;
    long rss_after = rss_kb();
    double heap_after = heap_bytes();
    char wal[600];
    snprintf(wal, sizeof wal, "%s-wal", s->path);
    long long disk = file_size(s->path) + file_size(wal);

    /* Recovery: close, open again, time baton_open. */
    baton_close(s->b);
    double r0 = now_s();
    store_open_at(s);
    double recover = now_s() - r0;
    int64_t next = baton_tick(s->b, &err);
    if (next < 0)
        die("tick", &err);

    double n = waiting > 0 ? waiting : 1;
    printf("engine=baton workload=timer-waiting instances=%d seconds=%.2f instances_per_sec=%.0f "
           "bytes_per_instance=%.0f heap_bytes_per_instance=%.0f store_bytes_per_instance=%.0f "
           "rss_mb=%.1f recover_seconds=%.2f next_due_in_s=%.0f apply_max_ms=%.1f apply_max_at=%d "
           "commit_max_ms=%.1f durable=fsync batch=%d\n",
           waiting, secs, waiting / secs, (double)(rss_after - rss_before) * 1024.0 / n,
           (heap_after - heap_before) / n, (double)disk / n, rss_after / 1024.0, recover,
           next == INT64_MAX ? -1.0 : (double)(next - wall_ms()) / 1000.0, apply_max * 1e3,
           apply_max_at, commit_max * 1e3, batch);
    fflush(stdout);
    return waiting / secs;
}

/* ---- timer-loop ------------------------------------------------------------------------- */

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void run_loop_probe(bench_store *s, long pending, int k) {
    enum { IDLE_TICKS = 2000, ROUNDS = 5 };
    baton_error err;
    double t0 = now_s();
    for (int i = 0; i < IDLE_TICKS; i++)
        if (baton_tick(s->b, &err) < 0)
            die("tick", &err);
    double idle_us = (now_s() - t0) / IDLE_TICKS * 1e6;

    uint64_t *keys = calloc((size_t)k, sizeof *keys);
    double create_ms[ROUNDS], fire_ms[ROUNDS];
    long fired = 0;
    for (int r = 0; r < ROUNDS; r++) {
        int64_t due = wall_ms() + 1000;
        t0 = now_s();
        baton_batch_begin(s->b);
        for (int i = 0; i < k; i++)
            keys[i] = create_due(s->b, due);
        if (baton_batch_commit(s->b, &err))
            die("commit", &err);
        create_ms[r] = (now_s() - t0) * 1e3;
        if (wall_ms() >= due)
            fprintf(stderr, "bench: the probe batch took longer than its timers' delay\n");
        sleep_until_ms(due);
        t0 = now_s();
        if (baton_tick(s->b, &err) < 0)
            die("tick", &err);
        fire_ms[r] = (now_s() - t0) * 1e3;
        for (int i = 0; i < k; i++) {
            baton_instance inst;
            if (baton_get_instance(s->b, keys[i], &inst) == BATON_OK &&
                inst.state == BATON_COMPLETED)
                fired++;
        }
    }
    free(keys);
    qsort(create_ms, ROUNDS, sizeof *create_ms, cmp_double);
    qsort(fire_ms, ROUNDS, sizeof *fire_ms, cmp_double);
    printf("engine=baton workload=timer-loop pending=%ld tick_idle_us=%.2f batch=%d "
           "create_ms=%.1f fire_ms=%.1f fire_ms_max=%.1f fired=%ld/%d rounds=%d\n",
           pending, idle_us, k, create_ms[ROUNDS / 2], fire_ms[ROUNDS / 2], fire_ms[ROUNDS - 1],
           fired, k * ROUNDS, ROUNDS);
    fflush(stdout);
}

/* ---- timer-lateness ------------------------------------------------------------------------ */

typedef struct tick_mark {
    int64_t now_ms;    /* the clock value baton_tick received */
    int64_t return_us; /* wall time when it returned (committed) */
    int64_t took_us;   /* how long the call took */
    int64_t cpu_us;    /* this thread's CPU time in it (the rest is waiting: fsync) */
    bool fired;        /* some timer's end_ms matched it */
} tick_mark;

typedef struct history_probe {
    int triggered;
} history_probe;

static int history_one(void *ud, const char *value_type, const char *intent, uint64_t key,
                       const char *value_json) {
    (void)key;
    (void)value_json;
    history_probe *h = ud;
    if (strcmp(value_type, "TIMER") == 0 && strcmp(intent, "TRIGGERED") == 0)
        h->triggered++;
    return 0;
}

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of sorted v[0..n). */
static int64_t pct(const int64_t *v, long n, double p) {
    if (n == 0)
        return 0;
    long i = (long)(p * (double)n + 0.999999) - 1;
    return v[i < 0 ? 0 : i >= n ? n - 1 : i];
}

static void run_lateness(bench_store *s, long pending, int timers, int rate, int batch,
                         double create_rate) {
    baton_error err;
    uint64_t *keys = calloc((size_t)timers, sizeof *keys);
    int64_t *due = calloc((size_t)timers, sizeof *due);
    /* Room for the creation at half the rate seen, and a second more. */
    double create_est = timers / (create_rate > 1000 ? create_rate / 2 : 2500.0);
    int64_t t0 = wall_ms() + 1000 + (int64_t)(create_est * 1000);
    for (int i = 0; i < timers; i++)
        due[i] = t0 + (int64_t)i * 1000 / rate;
    double c0 = now_s();
    for (int started = 0; started < timers; started += batch) {
        baton_batch_begin(s->b);
        for (int i = started; i < started + batch && i < timers; i++)
            keys[i] = create_due(s->b, due[i]);
        if (baton_batch_commit(s->b, &err))
            die("commit", &err);
    }
    double create_secs = now_s() - c0;
    int64_t slack_ms = t0 - wall_ms();
    if (slack_ms < 0)
        fprintf(stderr, "bench: creating the timers ran %lld ms past the first due time\n",
                (long long)-slack_ms);

    /* The loop: tick, sleep until the next due time, tick. */
    long long written0 = written_bytes();
    size_t cap = 1 << 16, n_ticks = 0;
    tick_mark *ticks = malloc(cap * sizeof *ticks);
    int64_t last_due = due[timers - 1];
    double busy = 0;
    for (;;) {
        double b0 = now_s(), cpu0 = cpu_s();
        int64_t next = baton_tick(s->b, &err);
        int64_t back = wall_us();
        double took = now_s() - b0, cpu = cpu_s() - cpu0;
        if (s->clock.last_ms >= t0)
            busy += took;
        if (next < 0)
            die("tick", &err);
        if (n_ticks == cap)
            ticks = realloc(ticks, (cap *= 2) * sizeof *ticks);
        ticks[n_ticks++] =
            (tick_mark){s->clock.last_ms, back, (int64_t)(took * 1e6), (int64_t)(cpu * 1e6), false};
        if (s->clock.last_ms >= last_due)
            break;
        if (next > wall_ms())
            sleep_until_ms(next < last_due ? next : last_due);
    }

    long long written = written_bytes() - written0;

    /* Read every instance back and find the tick that fired its timer. */
    int64_t *late_us = malloc((size_t)timers * sizeof *late_us);
    int64_t *seen_ms = malloc((size_t)timers * sizeof *seen_ms);
    long n = 0, unfired = 0, early = 0, unmatched = 0;
    int64_t last_commit = 0;
    for (int i = 0; i < timers; i++) {
        baton_instance inst;
        if (baton_get_instance(s->b, keys[i], &inst) != BATON_OK || inst.state != BATON_COMPLETED) {
            unfired++;
            continue;
        }
        if (inst.end_ms < due[i]) {
            early++;
            continue;
        }
        size_t lo = 0, hi = n_ticks; /* first tick with now_ms >= end_ms */
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            if (ticks[mid].now_ms < inst.end_ms)
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo == n_ticks || ticks[lo].now_ms != inst.end_ms) {
            unmatched++;
            continue;
        }
        ticks[lo].fired = true;
        int64_t back = ticks[lo].return_us;
        late_us[n] = back - due[i] * 1000;
        seen_ms[n] = inst.end_ms - due[i];
        n++;
        if (back > last_commit)
            last_commit = back;
    }
    int checked = 0, with_record = 0;
    for (int i = 0; i<timers; i += timers / 100> 0 ? timers / 100 : 1) {
        history_probe h = {0};
        baton_history(s->b, keys[i], history_one, &h);
        checked++;
        with_record += h.triggered == 1;
    }
    /* How long the ticks that fired something took (their work + commit). */
    int64_t *took = malloc(n_ticks * sizeof *took);
    long firing_ticks = 0;
    const tick_mark *slowest = NULL;
    for (size_t i = 0; i < n_ticks; i++)
        if (ticks[i].fired) {
            took[firing_ticks++] = ticks[i].took_us;
            if (!slowest || ticks[i].took_us > slowest->took_us)
                slowest = &ticks[i];
        }
    qsort(took, (size_t)firing_ticks, sizeof *took, cmp_i64);
    qsort(late_us, (size_t)n, sizeof *late_us, cmp_i64);
    qsort(seen_ms, (size_t)n, sizeof *seen_ms, cmp_i64);
    double span = (double)(last_commit - (int64_t)t0 * 1000) / 1e6;
    double window = (double)(last_due - t0) / 1000.0;
    printf("engine=baton workload=timer-lateness pending=%ld timers=%d target_rate=%d "
           "achieved_rate=%.0f p50_ms=%.1f p99_ms=%.1f max_ms=%.1f start_late_p99_ms=%lld "
           "ticks=%zu firing_ticks=%ld timers_per_firing_tick=%.1f tick_p50_ms=%.1f "
           "tick_p99_ms=%.1f tick_max_ms=%.1f tick_max_cpu_ms=%.1f loop_busy=%.0f%% "
           "written_kb_per_timer=%.1f "
           "window_s=%.1f fired=%ld unfired=%ld early=%ld unmatched=%ld history_ok=%d/%d "
           "create_seconds=%.1f slack_ms=%lld durable=fsync\n",
           pending, timers, rate, n > 0 && span > 0 ? n / (span > window ? span : window) : 0.0,
           pct(late_us, n, 0.50) / 1e3, pct(late_us, n, 0.99) / 1e3, n ? late_us[n - 1] / 1e3 : 0,
           (long long)pct(seen_ms, n, 0.99), n_ticks, firing_ticks,
           firing_ticks ? (double)n / firing_ticks : 0.0, pct(took, firing_ticks, 0.50) / 1e3,
           pct(took, firing_ticks, 0.99) / 1e3, firing_ticks ? took[firing_ticks - 1] / 1e3 : 0,
           slowest ? slowest->cpu_us / 1e3 : 0,
           100.0 * busy / ((double)(ticks[n_ticks - 1].return_us / 1000 - t0) / 1000.0 + 1e-9),
           (double)written / 1024.0 / timers, window, n, unfired, early, unmatched, with_record,
           checked, create_secs, (long long)slack_ms);
    fflush(stdout);
    free(took);
    free(ticks);
    free(late_us);
    free(seen_ms);
    free(keys);
    free(due);
}

/* ---- main ------------------------------------------------------------------------------------ */

int main(int argc, char **argv) {
    int waiting = 1000000, batch = 500, timers = 100000, rate = 10000, probe = 1000;
    const char *models = "bench/models", *dir = NULL;
    const char *vars = "{\"tripId\":\"T\",\"amount\":42}";
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *k = argv[i], *v = argv[i + 1];
        if (!strcmp(k, "--waiting"))
            waiting = atoi(v);
        else if (!strcmp(k, "--batch"))
            batch = atoi(v);
        else if (!strcmp(k, "--timers"))
            timers = atoi(v);
        else if (!strcmp(k, "--rate"))
            rate = atoi(v);
        else if (!strcmp(k, "--probe"))
            probe = atoi(v);
        else if (!strcmp(k, "--vars"))
            vars = strcmp(v, "none") ? v : NULL;
        else if (!strcmp(k, "--models"))
            models = v;
        else if (!strcmp(k, "--dir"))
            dir = v;
        else {
            fprintf(stderr, "bench: unknown option %s\n", k);
            return 2;
        }
    }
    if (batch < 1 || timers < 1 || rate < 1 || probe < 1 || waiting < 0) {
        fprintf(stderr, "bench: --batch, --timers, --rate and --probe must be positive\n");
        return 2;
    }
    char tmp[] = "/tmp/baton-timers-XXXXXX";
    bool own_dir = !dir;
    if (!dir && !(dir = mkdtemp(tmp))) {
        perror("mkdtemp");
        return 1;
    }

    /* First, in a fresh process: memory per waiting instance. */
    bench_store full = {0};
    store_fresh(&full, dir, "timers-waiting", models);
    double create_rate = run_waiting(&full, waiting, batch, vars);

    bench_store empty = {0};
    store_fresh(&empty, dir, "timers-empty", models);
    run_loop_probe(&empty, 0, probe);
    run_lateness(&empty, 0, timers, rate, batch, create_rate);
    store_drop(&empty);

    run_loop_probe(&full, waiting, probe);
    run_lateness(&full, waiting, timers, rate, batch, create_rate);
    store_drop(&full);
    if (own_dir)
        rmdir(dir);
    return 0;
}
