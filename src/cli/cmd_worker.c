/*
 * cmd_worker.c — `baton worker --type T -- COMMAND [ARGS...]`: a job worker
 * that runs a local command per job, so that any script or binary becomes
 * a function baton can orchestrate.
 *
 * The convention (also in usage_text and the README):
 *   stdin   the job's variables, one JSON object;
 *   env     BATON_JOB_KEY (the same on every retry: the idempotency key),
 *           BATON_JOB_TYPE, BATON_PROCESS_INSTANCE_KEY, BATON_ELEMENT_ID,
 *           BATON_RETRIES (retries left, this attempt included), and
 *           BATON_HEADER_<KEY> per custom header (the key upper-cased,
 *           anything not a letter or digit as '_');
 *   exit 0  stdout is a JSON object (its variables complete the job) or
 *           empty (the job completes with none); anything else fails it;
 *   exit 64 stdout {"errorCode": "...", "errorMessage": "...", "variables":
 *           {...}} (message and variables optional) throws a BPMN error;
 *   other   the job fails with retries - 1 and back-off --backoff, with the
 *           last 4 KiB of stderr, trimmed, as the error message.
 * The command runs without a shell (posix_spawnp, PATH search), in its own
 * process group: a Ctrl-C at the terminal reaches the worker, not the job.
 * A command still running shortly before the job's timeout (a fifth of it,
 * at most 2 s, before) gets SIGTERM (its whole process group), SIGKILL
 * after half that margin more, and the job fails — before the server hands
 * the job to another worker.
 *
 * Threads: the main thread polls (POST /v2/jobs/activation, long polling,
 * maxJobsToActivate = free slots) and queues the jobs; --concurrency N slot
 * threads (default 1) each take a job from the queue, run its command and
 * report the outcome with their own client (one connection each). So the
 * worker never holds more jobs than it can run.
 *
 * Variables travel as JSON text read and written by baton's own JSON
 * (src/feel): numbers reach the command, and come back, exactly as the
 * engine holds them (decimal, any size), never through binary doubles.
 *
 * Stopping: SIGINT or SIGTERM sets a flag; the poll in flight is abandoned
 * (libcurl's progress callback) and no other starts; the slots finish the
 * jobs they hold, report them, and the worker exits 0. --max-jobs N stops
 * the same way after N jobs.
 */
#define _GNU_SOURCE /* pipe2 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/client.h"
#include "feel/feel.h"

extern char **environ;

static const char usage_text[] =
    "usage: baton worker --type TYPE [--worker NAME] [--concurrency N] [--max-jobs N]\n"
    "                    [--timeout MS] [--poll-timeout MS] [--backoff MS]\n"
    "                    [connection options] -- COMMAND [ARGS...]\n"
    "\n"
    "Activates jobs of TYPE and runs COMMAND (no shell) for each:\n"
    "  stdin    the job's variables as one JSON object\n"
    "  env      BATON_JOB_KEY (the same on every retry: use it as the idempotency\n"
    "           key), BATON_JOB_TYPE, BATON_PROCESS_INSTANCE_KEY, BATON_ELEMENT_ID,\n"
    "           BATON_RETRIES (retries left), BATON_HEADER_<KEY> per custom header\n"
    "           (key upper-cased, other characters than letters and digits as _)\n"
    "  exit 0   stdout empty or a JSON object: the job completes with those\n"
    "           variables; any other output fails the job\n"
    "  exit 64  stdout {\"errorCode\": \"CODE\", \"errorMessage\": \"...\", \"variables\": {}}\n"
    "           (message and variables optional): throws the BPMN error CODE\n"
    "  other    the job fails with one retry less, after --backoff; the last 4 KiB\n"
    "           of stderr is the error message (none left: an incident)\n"
    "A command still running near the job's --timeout is stopped (SIGTERM, then\n"
    "SIGKILL) and the job fails.\n"
    "\n"
    "  --concurrency N   run up to N commands at once (default 1)\n"
    "  --max-jobs N      exit after N jobs (default: run until SIGINT/SIGTERM)\n"
    "  --timeout MS      job timeout: how long a job is ours (default 60000)\n"
    "  --poll-timeout MS how long one activation request waits (default 10000)\n"
    "  --backoff MS      retry back-off of a failed job (default 1000)\n"
    "  --worker NAME     the worker's name in the job (default baton-worker)\n"
    "SIGINT/SIGTERM: stop polling, finish the jobs in hand, exit 0.\n"
    "\n" CLI_CLIENT_OPTIONS_HELP;

#define BPMN_ERROR_EXIT 64
#define STDERR_KEEP     4096       /* bytes of stderr in an error message */
#define STDOUT_MAX      (8L << 20) /* larger output fails the job */
#define REPORT_ATTEMPTS 3          /* tries to report an outcome when unreachable */
#define POLL_TICK_MS    100        /* how often a child's exit is checked */
#define RECONNECT_MS    1000       /* pause before polling again after a failed poll */

typedef struct worker_options {
    cli_client_config cfg;
    const char *type;
    const char *name;
    long concurrency;
    long max_jobs; /* 0: no limit */
    long timeout_ms;
    long poll_ms;
    long backoff_ms;
    char **command; /* NULL-terminated (argv's tail) */
} worker_options;

/* A job as the slots need it, taken out of the activation answer by the
 * poller (plain strings: nothing is shared between threads). */
typedef struct worker_job {
    char *key;
    char *element_id;
    int64_t retries;
    char *variables; /* the variables as JSON text (exact numbers) */
    char **env;      /* "BATON_...=..." for the command, NULL-terminated */
    size_t n_env;    /* slots of env filled (some NULL after a failed allocation) */
    struct worker_job *next;
} worker_job;

/* Shared between the poller and the slots, under mu. */
typedef struct worker {
    const worker_options *o;
    pthread_mutex_t mu;
    pthread_cond_t changed; /* CLOCK_MONOTONIC */
    worker_job *head, *tail;
    long busy;    /* jobs queued or running */
    bool closing; /* no more jobs will be queued */
} worker;

typedef struct slot {
    worker *w;
    cli_client *client;
    pthread_t thread;
} slot;

static volatile sig_atomic_t stop_requested;

static void on_stop_signal(int sig) {
    (void)sig;
    stop_requested = 1;
}

static int64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Sleeps ms, or less when a stop is requested. */
static void nap(long ms) {
    for (int64_t end = now_ms() + ms; !stop_requested && now_ms() < end;) {
        struct timespec ts = {0, 50 * 1000000L};
        nanosleep(&ts, NULL);
    }
}

/* ---- running the command -------------------------------------------------------- */

typedef struct run_result {
    int spawn_error; /* errno of a failed spawn, else 0 */
    bool exited;
    int exit_code;  /* when exited */
    int signal;     /* when killed by a signal */
    bool timed_out; /* we stopped it */
    bool too_long;  /* stdout passed STDOUT_MAX */
    bt_buf out;
    bt_buf err; /* the tail of stderr */
} run_result;

/* The environment of the command: ours without stale BATON_ job variables,
 * plus the job's. The array is the caller's to free; its strings are
 * borrowed from environ and the job. */
static char **job_environment(const worker_job *job) {
    static const char *const ours[] = {
        "BATON_JOB_KEY=",    "BATON_JOB_TYPE=", "BATON_PROCESS_INSTANCE_KEY=",
        "BATON_ELEMENT_ID=", "BATON_RETRIES=",  "BATON_HEADER_"};
    size_t n_env = 0, n_job = job->n_env;
    while (environ && environ[n_env])
        n_env++;
    char **env = bt_calloc(n_env + n_job + 1, sizeof *env);
    if (!env)
        return NULL;
    size_t n = 0;
    for (size_t i = 0; i < n_env; i++) {
        bool stale = false;
        for (size_t k = 0; k < BT_ARRAY_LEN(ours) && !stale; k++)
            stale = strncmp(environ[i], ours[k], strlen(ours[k])) == 0;
        if (!stale)
            env[n++] = environ[i];
    }
    for (size_t i = 0; i < n_job; i++)
        env[n++] = job->env[i];
    env[n] = NULL;
    return env;
}

/* Reads what fd has now into b (stderr: only its tail is kept). Returns
 * false at end of file or on error. */
static bool drain(int fd, bt_buf *b, bool tail_only, bool *too_long) {
    char chunk[16384];
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof chunk);
        if (n > 0) {
            if (!tail_only && b->len + (size_t)n > (size_t)STDOUT_MAX) {
                *too_long = true;
                continue; /* keep reading so that the command is not blocked */
            }
            bt_buf_append(b, chunk, (size_t)n);
            if (tail_only && b->len > 16 * STDERR_KEEP) {
                memmove(b->data, b->data + b->len - STDERR_KEEP, STDERR_KEEP);
                b->len = STDERR_KEEP;
            }
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
    }
}

static void close_fd(int *fd) {
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

/* Runs the command with input on stdin and env as its environment; fills
 * r (r->out and r->err to be freed by the caller). limit_ms: when to stop
 * it. */
static void run_command(char **command, const char *input, char **env, long limit_ms, long grace_ms,
                        run_result *r) {
    int in[2] = {-1, -1}, out[2] = {-1, -1}, err[2] = {-1, -1};
    if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC)) {
        r->spawn_error = errno;
        close_fd(&in[0]), close_fd(&in[1]), close_fd(&out[0]), close_fd(&out[1]);
        close_fd(&err[0]), close_fd(&err[1]);
        return;
    }
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawn_file_actions_adddup2(&fa, err[1], 2);
    posix_spawnattr_init(&attr);
    sigset_t none, reset;
    sigemptyset(&none);
    sigemptyset(&reset);
    sigaddset(&reset, SIGINT);
    sigaddset(&reset, SIGTERM);
    sigaddset(&reset, SIGPIPE);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &reset);
    posix_spawnattr_setpgroup(&attr, 0);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                        POSIX_SPAWN_SETSIGDEF);
    pid_t pid;
    int rc = posix_spawnp(&pid, command[0], &fa, &attr, command, env);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    close_fd(&in[0]), close_fd(&out[1]), close_fd(&err[1]);
    if (rc != 0) {
        r->spawn_error = rc;
        close_fd(&in[1]), close_fd(&out[0]), close_fd(&err[0]);
        return;
    }
    fcntl(in[1], F_SETFL, O_NONBLOCK);
    fcntl(out[0], F_SETFL, O_NONBLOCK);
    fcntl(err[0], F_SETFL, O_NONBLOCK);

    size_t in_len = strlen(input), written = 0;
    if (in_len == 0)
        close_fd(&in[1]);
    int64_t term_at = now_ms() + limit_ms, kill_at = 0;
    bool killed = false;
    int wait_ms = 1, status = 0;
    for (;;) {
        if (!r->exited && waitpid(pid, &status, WNOHANG) == pid) {
            r->exited = true;
            /* What the command wrote is in the pipes now; a descendant may
             * hold them open: take what is there and stop listening. */
            if (out[0] >= 0)
                drain(out[0], &r->out, false, &r->too_long);
            if (err[0] >= 0)
                drain(err[0], &r->err, true, &r->too_long);
            close_fd(&in[1]), close_fd(&out[0]), close_fd(&err[0]);
        }
        if (r->exited)
            break;
        int64_t now = now_ms();
        if (!r->timed_out && now >= term_at) {
            r->timed_out = true;
            kill(-pid, SIGTERM);
            kill_at = now + grace_ms;
        }
        if (r->timed_out && !killed && now >= kill_at) {
            killed = true;
            kill(-pid, SIGKILL);
        }
        int64_t next = r->timed_out ? (killed ? now + POLL_TICK_MS : kill_at) : term_at;
        int timeout = (int)(next - now < POLL_TICK_MS ? next - now : POLL_TICK_MS);
        if (timeout < 0)
            timeout = 0;
        struct pollfd fds[3];
        int n = 0;
        if (in[1] >= 0)
            fds[n++] = (struct pollfd){in[1], POLLOUT, 0};
        if (out[0] >= 0)
            fds[n++] = (struct pollfd){out[0], POLLIN, 0};
        if (err[0] >= 0)
            fds[n++] = (struct pollfd){err[0], POLLIN, 0};
        if (n == 0) {
            /* Both outputs are closed: the command is exiting (or closed
             * them); look again soon, then less often. */
            if (timeout > wait_ms)
                timeout = wait_ms;
            wait_ms = wait_ms < POLL_TICK_MS ? wait_ms * 2 : POLL_TICK_MS;
        }
        if (poll(fds, (nfds_t)n, timeout) < 0 && errno != EINTR)
            break;
        for (int i = 0; i < n; i++) {
            if (!fds[i].revents)
                continue;
            if (fds[i].fd == in[1]) {
                ssize_t w = write(in[1], input + written, in_len - written);
                if (w > 0)
                    written += (size_t)w;
                if (written == in_len || (w < 0 && errno != EAGAIN && errno != EINTR))
                    close_fd(&in[1]); /* all given, or the command does not read (EPIPE) */
            } else if (fds[i].fd == out[0]) {
                if (!drain(out[0], &r->out, false, &r->too_long))
                    close_fd(&out[0]);
            } else if (!drain(err[0], &r->err, true, &r->too_long)) {
                close_fd(&err[0]);
            }
        }
    }
    if (!r->exited) { /* poll failed: do not leave the command behind */
        kill(-pid, SIGKILL);
        waitpid(pid, &status, 0);
        r->exited = true;
        close_fd(&in[1]), close_fd(&out[0]), close_fd(&err[0]);
    }
    if (WIFEXITED(status)) {
        r->exit_code = WEXITSTATUS(status);
    } else {
        r->exit_code = -1;
        r->signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    }
}

/* The last STDERR_KEEP bytes of b, trimmed, valid UTF-8; in place. */
static const char *stderr_text(bt_buf *b) {
    if (!b->data || b->failed)
        return "";
    char *s = b->data;
    size_t n = b->len;
    if (n > STDERR_KEEP) {
        s += n - STDERR_KEEP;
        n = STDERR_KEEP;
        while (n > 0 && ((unsigned char)*s & 0xC0) == 0x80) /* not mid-character */
            s++, n--;
    }
    while (n > 0 && (*s == ' ' || *s == '\n' || *s == '\r' || *s == '\t'))
        s++, n--;
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == '\t'))
        n--;
    s[n] = 0;
    cli_utf8_sanitize(s, n);
    return s;
}

/* ---- reporting -------------------------------------------------------------------- */

/* POSTs an outcome (body: JSON text); retries when the server cannot be
 * reached or is busy. Returns true when the server took it. */
static bool report(cli_client *c, const char *job_key, const char *what, const bt_buf *body) {
    char path[96];
    snprintf(path, sizeof path, "/v2/jobs/%s/%s", job_key, what);
    if (body->failed) {
        fprintf(stderr, "baton worker: job %s: out of memory for the %s\n", job_key, what);
        return false;
    }
    for (int attempt = 1;; attempt++) {
        cli_response r = {0};
        int rc = cli_client_request_text(c, "POST", path, body->data, 0, &r);
        bool ok = rc == BT_OK && r.status >= 200 && r.status <= 299;
        bool again = rc == BT_EIO || r.status == 503 || r.status == 429;
        if (!ok && (!again || attempt == REPORT_ATTEMPTS)) {
            fprintf(stderr, "baton worker: job %s: the %s was not accepted: ", job_key, what);
            fflush(stderr);
            cli_report_failure(c, &r, rc);
        }
        cli_response_free(&r);
        if (ok || !again || attempt == REPORT_ATTEMPTS)
            return ok;
        struct timespec ts = {0, 250 * 1000000L * attempt};
        nanosleep(&ts, NULL);
    }
}

static void put_string(bt_buf *b, const char *s) {
    bt_buf_json_string(b, s, strlen(s));
}

/* Fails the job with one retry less; message must be valid UTF-8. */
static void fail_job(cli_client *c, const worker_options *o, const worker_job *job,
                     const char *message) {
    int64_t retries = job->retries > 0 ? job->retries - 1 : 0;
    bt_buf body = BT_BUF_INIT;
    bt_buf_printf(&body,
                  "{\"retries\":%lld,\"retryBackOff\":%ld,\"errorMessage\":", (long long)retries,
                  o->backoff_ms);
    put_string(&body, message);
    bt_buf_putc(&body, '}');
    if (report(c, job->key, "failure", &body))
        fprintf(stderr, "baton worker: job %s (%s) failed (retries left: %lld): %s\n", job->key,
                job->element_id, (long long)retries, message);
    bt_buf_free(&body);
}

static bool only_space(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\n' && s[i] != '\r' && s[i] != '\t')
            return false;
    return true;
}

/* exit 0: complete with stdout's variables (none when it is empty). */
static void complete_job(cli_client *c, const worker_options *o, const worker_job *job,
                         const run_result *r) {
    bt_buf body = BT_BUF_INIT;
    bt_buf_putc(&body, '{');
    if (r->out.len > 0 && !only_space(r->out.data, r->out.len)) {
        bt_error err = {0};
        bt_buf_puts(&body, "\"variables\":");
        if (cli_json_object_text(r->out.data, r->out.len, &body, &err) != BT_OK) {
            char message[700];
            snprintf(message, sizeof message,
                     "the command exited 0 but its output is %s; a JSON object of variables "
                     "(or nothing) completes the job",
                     err.message);
            cli_utf8_sanitize(message, strlen(message));
            bt_buf_free(&body);
            fail_job(c, o, job, message);
            return;
        }
    }
    bt_buf_putc(&body, '}');
    if (report(c, job->key, "completion", &body))
        fprintf(stderr, "baton worker: job %s (%s) completed\n", job->key, job->element_id);
    bt_buf_free(&body);
}

/* The string member name of ctx: its text, NULL when absent or null; sets
 * *bad when it is there but not a string. */
static const char *member_string(const feel_value *ctx, const char *name, size_t *len, bool *bad) {
    const feel_value *v = feel_context_get(ctx, name, strlen(name));
    if (!v || feel_value_type(v) == FEEL_NULL)
        return NULL;
    const char *s = feel_string_ptr(v, len);
    if (!s)
        *bad = true;
    return s;
}

/* exit 64: throw the BPMN error that stdout names; err: the stderr text. */
static void throw_error(cli_client *c, const worker_options *o, const worker_job *job,
                        const run_result *r, const char *err) {
    feel_value *doc = NULL;
    bt_error perr = {0};
    bool bad = r->out.len == 0 ||
               feel_value_from_json(r->out.data, r->out.len, &doc, &perr) != BT_OK ||
               feel_value_type(doc) != FEEL_CONTEXT;
    size_t code_len = 0, msg_len = 0;
    const char *code = bad ? NULL : member_string(doc, "errorCode", &code_len, &bad);
    const char *msg = bad ? NULL : member_string(doc, "errorMessage", &msg_len, &bad);
    const feel_value *vars = bad ? NULL : feel_context_get(doc, "variables", 9);
    if (vars && feel_value_type(vars) == FEEL_NULL)
        vars = NULL;
    if (bad || !code || code_len == 0 || (vars && feel_value_type(vars) != FEEL_CONTEXT)) {
        feel_value_unref(doc);
        char message[STDERR_KEEP + 200];
        snprintf(message, sizeof message,
                 "the command exited %d (throw a BPMN error) but its output is not "
                 "{\"errorCode\": \"...\", \"errorMessage\": \"...\"}%s%s",
                 BPMN_ERROR_EXIT, *err ? ": " : "", err);
        fail_job(c, o, job, message);
        return;
    }
    bt_buf body = BT_BUF_INIT;
    bt_buf_puts(&body, "{\"errorCode\":");
    bt_buf_json_string(&body, code, code_len);
    if (msg) {
        bt_buf_puts(&body, ",\"errorMessage\":");
        bt_buf_json_string(&body, msg, msg_len);
    }
    if (vars) {
        bt_buf_puts(&body, ",\"variables\":");
        feel_value_to_json(vars, &body);
    }
    bt_buf_putc(&body, '}');
    if (report(c, job->key, "error", &body))
        fprintf(stderr, "baton worker: job %s (%s) threw the BPMN error %.*s\n", job->key,
                job->element_id, (int)code_len, code);
    bt_buf_free(&body);
    feel_value_unref(doc);
}

/* Runs one job's command and reports how it went. */
static void run_job(cli_client *c, const worker_options *o, const worker_job *job) {
    char **env = job_environment(job);
    if (!env) {
        fail_job(c, o, job, "the worker ran out of memory");
        return;
    }
    /* Stop the command a margin before the job's deadline, so that the
     * failure arrives while the job is still ours. */
    long margin = o->timeout_ms / 5 < 2000 ? o->timeout_ms / 5 : 2000;
    run_result r = {0};
    run_command(o->command, job->variables, env, o->timeout_ms - margin, margin / 2, &r);
    bt_free(env);

    char message[STDERR_KEEP + 300];
    const char *err = stderr_text(&r.err);
    const char *sep = *err ? ": " : "";
    if (r.spawn_error) {
        snprintf(message, sizeof message, "cannot run %s: %s", o->command[0],
                 strerror(r.spawn_error));
        cli_utf8_sanitize(message, strlen(message));
        fail_job(c, o, job, message);
    } else if (r.timed_out) {
        snprintf(message, sizeof message,
                 "the command ran longer than the job timeout allows (%ld ms) and was "
                 "stopped%s%s",
                 o->timeout_ms, sep, err);
        fail_job(c, o, job, message);
    } else if (r.exit_code < 0) {
        snprintf(message, sizeof message, "the command was killed by signal %d (%s)%s%s", r.signal,
                 strsignal(r.signal), sep, err);
        cli_utf8_sanitize(message, strlen(message));
        fail_job(c, o, job, message);
    } else if (r.too_long) {
        snprintf(message, sizeof message, "the command's output is larger than %ld bytes",
                 STDOUT_MAX);
        fail_job(c, o, job, message);
    } else if (r.exit_code == 0) {
        complete_job(c, o, job, &r);
    } else if (r.exit_code == BPMN_ERROR_EXIT) {
        throw_error(c, o, job, &r, err);
    } else {
        if (*err)
            snprintf(message, sizeof message, "%s", err);
        else
            snprintf(message, sizeof message, "the command exited with status %d", r.exit_code);
        fail_job(c, o, job, message);
    }
    bt_buf_free(&r.out);
    bt_buf_free(&r.err);
}

/* ---- jobs ------------------------------------------------------------------------ */

static void worker_job_free(worker_job *job) {
    if (!job)
        return;
    bt_free(job->key);
    bt_free(job->element_id);
    bt_free(job->variables);
    for (size_t i = 0; i < job->n_env; i++)
        bt_free(job->env[i]);
    bt_free(job->env);
    bt_free(job);
}

/* The string field name of a job ("" when absent), copied; NULL: no memory. */
static char *job_string(const feel_value *job, const char *name) {
    size_t len = 0;
    const char *s = feel_string_ptr(feel_context_get(job, name, strlen(name)), &len);
    return bt_strndup(s ? s : "", s ? len : 0);
}

/* "NAME=value" with the value's NULs dropped (they cannot be in a variable). */
static char *env_entry(const char *name, const char *value, size_t len) {
    bt_buf b = BT_BUF_INIT;
    bt_buf_printf(&b, "%s=", name);
    for (size_t i = 0; i < len; i++)
        if (value[i])
            bt_buf_putc(&b, value[i]);
    return b.failed ? NULL : bt_buf_take(&b);
}

/* Takes what a slot needs out of one job of the activation answer.
 * Returns NULL when out of memory or when the job has no key. */
static worker_job *worker_job_new(const feel_value *v) {
    worker_job *job = bt_calloc(1, sizeof *job);
    if (!job || feel_value_type(v) != FEEL_CONTEXT) {
        bt_free(job);
        return NULL;
    }
    int64_t retries = 0;
    feel_number_to_int64(feel_context_get(v, "retries", 7), &retries);
    job->retries = retries;
    job->key = job_string(v, "jobKey");
    job->element_id = job_string(v, "elementId");
    bt_buf vars = BT_BUF_INIT;
    const feel_value *variables = feel_context_get(v, "variables", 9);
    if (variables && feel_value_type(variables) == FEEL_CONTEXT)
        feel_value_to_json(variables, &vars);
    else
        bt_buf_puts(&vars, "{}");
    job->variables = vars.failed ? NULL : bt_buf_take(&vars);
    bt_buf_free(&vars);

    const feel_value *headers = feel_context_get(v, "customHeaders", 13);
    size_t n_headers = feel_value_type(headers) == FEEL_CONTEXT ? feel_context_count(headers) : 0;
    job->env = bt_calloc(5 + n_headers + 1, sizeof *job->env);
    if (!job->key || !*job->key || !job->element_id || !job->variables || !job->env) {
        worker_job_free(job);
        return NULL;
    }
    static const char *const fields[][2] = {{"BATON_JOB_KEY", "jobKey"},
                                            {"BATON_JOB_TYPE", "type"},
                                            {"BATON_PROCESS_INSTANCE_KEY", "processInstanceKey"},
                                            {"BATON_ELEMENT_ID", "elementId"}};
    bool ok = true;
    for (size_t i = 0; i < BT_ARRAY_LEN(fields); i++) {
        size_t len = 0;
        const char *s =
            feel_string_ptr(feel_context_get(v, fields[i][1], strlen(fields[i][1])), &len);
        ok &= (job->env[job->n_env++] = env_entry(fields[i][0], s ? s : "", s ? len : 0)) != NULL;
    }
    char number[24];
    snprintf(number, sizeof number, "%lld", (long long)retries);
    ok &= (job->env[job->n_env++] = env_entry("BATON_RETRIES", number, strlen(number))) != NULL;
    for (size_t i = 0; i < n_headers && ok; i++) {
        size_t key_len, len;
        const char *key = feel_context_key_at(headers, i, &key_len);
        const char *value = feel_string_ptr(feel_context_value_at(headers, i), &len);
        if (!value)
            continue;
        bt_buf name = BT_BUF_INIT;
        bt_buf_puts(&name, "BATON_HEADER_");
        for (size_t k = 0; k < key_len; k++) {
            char ch = key[k];
            if (ch >= 'a' && ch <= 'z')
                ch = (char)(ch - 'a' + 'A');
            else if (!((ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9')))
                ch = '_';
            bt_buf_putc(&name, ch);
        }
        ok &= !name.failed && (job->env[job->n_env++] = env_entry(name.data, value, len)) != NULL;
        bt_buf_free(&name);
    }
    if (!ok) {
        worker_job_free(job);
        return NULL;
    }
    return job;
}

/* ---- slots and the poller ----------------------------------------------------------- */

static void *slot_main(void *arg) {
    slot *s = arg;
    worker *w = s->w;
    for (;;) {
        pthread_mutex_lock(&w->mu);
        while (!w->head && !w->closing)
            pthread_cond_wait(&w->changed, &w->mu);
        worker_job *q = w->head;
        if (q) {
            w->head = q->next;
            if (!w->head)
                w->tail = NULL;
        }
        pthread_mutex_unlock(&w->mu);
        if (!q)
            return NULL;
        run_job(s->client, w->o, q);
        worker_job_free(q);
        pthread_mutex_lock(&w->mu);
        w->busy--;
        pthread_cond_broadcast(&w->changed);
        pthread_mutex_unlock(&w->mu);
    }
}

/* Waits for a free slot; returns how many are free, 0 when stopping. */
static long free_slots(worker *w) {
    pthread_mutex_lock(&w->mu);
    while (w->busy >= w->o->concurrency && !stop_requested) {
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_nsec += 200 * 1000000L; /* a signal cannot wake the condition: look again */
        if (until.tv_nsec >= 1000000000L)
            until.tv_sec++, until.tv_nsec -= 1000000000L;
        pthread_cond_timedwait(&w->changed, &w->mu, &until);
    }
    long n = stop_requested ? 0 : w->o->concurrency - w->busy;
    pthread_mutex_unlock(&w->mu);
    return n;
}

static void enqueue(worker *w, worker_job *job) {
    pthread_mutex_lock(&w->mu);
    if (w->tail)
        w->tail->next = job;
    else
        w->head = job;
    w->tail = job;
    w->busy++;
    pthread_cond_broadcast(&w->changed);
    pthread_mutex_unlock(&w->mu);
}

/* Polls for jobs until stopped, --max-jobs is reached or the server refuses
 * us (4xx: wrong credentials or options). Returns the exit status. */
static int poll_jobs(worker *w, cli_client *c) {
    const worker_options *o = w->o;
    long activated = 0;
    bool unreachable = false;
    while (!stop_requested) {
        long n = free_slots(w);
        if (o->max_jobs && n > o->max_jobs - activated)
            n = o->max_jobs - activated;
        if (n <= 0)
            break;
        bt_buf body = BT_BUF_INIT;
        bt_buf_puts(&body, "{\"type\":");
        put_string(&body, o->type);
        bt_buf_puts(&body, ",\"worker\":");
        put_string(&body, o->name);
        bt_buf_printf(&body, ",\"timeout\":%ld,\"maxJobsToActivate\":%ld,\"requestTimeout\":%ld}",
                      o->timeout_ms, n, o->poll_ms);
        if (body.failed)
            return 1;
        cli_response r = {0};
        int rc = cli_client_request_text(c, "POST", "/v2/jobs/activation", body.data,
                                         o->poll_ms + CLI_POLL_MARGIN_MS, &r);
        bt_buf_free(&body);
        if (rc == BT_ECONFLICT) { /* stop requested */
            cli_response_free(&r);
            break;
        }
        if (rc != BT_OK || r.status >= 500 || r.status == 429) {
            if (!unreachable) { /* say it once per outage */
                fprintf(stderr, "baton worker: cannot activate jobs, retrying: ");
                fflush(stderr);
                cli_report_failure(c, &r, rc);
            }
            unreachable = true;
            cli_response_free(&r);
            nap(RECONNECT_MS);
            continue;
        }
        if (r.status < 200 || r.status > 299) {
            cli_report_failure(c, &r, rc);
            cli_response_free(&r);
            return 1;
        }
        if (unreachable)
            fprintf(stderr, "baton worker: activating jobs again\n");
        unreachable = false;
        /* baton's JSON reader: the variables keep their exact numbers. */
        feel_value *doc = NULL;
        bt_error err = {0};
        if (feel_value_from_json(r.body.data, r.body.len, &doc, &err) != BT_OK)
            fprintf(stderr, "baton worker: the activation answer is not JSON: %s\n", err.message);
        cli_response_free(&r);
        const feel_value *jobs = doc ? feel_context_get(doc, "jobs", 4) : NULL;
        for (size_t i = 0; jobs && i < feel_list_count(jobs); i++) {
            worker_job *job = worker_job_new(feel_list_at(jobs, i));
            if (job)
                enqueue(w, job);
            else
                fprintf(stderr, "baton worker: a job could not be read; it returns after its "
                                "timeout\n");
            activated++;
        }
        feel_value_unref(doc);
    }
    return 0;
}

/* ---- options and main ------------------------------------------------------------- */

static int parse_ms(const char *flag, const char *v, long min, long *out) {
    if (!v || cli_parse_long(v, min, INT32_MAX, out)) {
        fprintf(stderr, "baton worker: %s wants a number of at least %ld\n", flag, min);
        return -1;
    }
    return 0;
}

static int parse_options(int argc, char **argv, worker_options *o) {
    o->name = "baton-worker";
    o->concurrency = 1;
    o->timeout_ms = 60000;
    o->poll_ms = 10000;
    o->backoff_ms = 1000;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        int opt = cli_client_option(&o->cfg, argc, argv, &i);
        if (opt < 0)
            return -1;
        if (opt > 0)
            continue;
        if (strcmp(a, "--") == 0 || a[0] != '-') {
            o->command = argv + i + (a[0] == '-');
            break;
        }
        int rc = 0;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)
            return 1;
        if (strcmp(a, "--type") == 0 && v)
            o->type = argv[++i];
        else if (strcmp(a, "--worker") == 0 && v)
            o->name = argv[++i];
        else if (strcmp(a, "--concurrency") == 0)
            rc = parse_ms(a, v, 1, &o->concurrency), i++;
        else if (strcmp(a, "--max-jobs") == 0)
            rc = parse_ms(a, v, 1, &o->max_jobs), i++;
        else if (strcmp(a, "--timeout") == 0)
            rc = parse_ms(a, v, 100, &o->timeout_ms), i++;
        else if (strcmp(a, "--poll-timeout") == 0)
            rc = parse_ms(a, v, 1, &o->poll_ms), i++;
        else if (strcmp(a, "--backoff") == 0)
            rc = parse_ms(a, v, 0, &o->backoff_ms), i++;
        else {
            fprintf(stderr, "baton worker: unknown option %s\n", a);
            return -1;
        }
        if (rc)
            return -1;
    }
    if (!o->type || !*o->type || !o->command || !o->command[0]) {
        fprintf(stderr, "baton worker: %s\n",
                !o->type || !*o->type ? "--type is required" : "the command is missing");
        return -1;
    }
    if (o->concurrency > 1024) {
        fprintf(stderr, "baton worker: --concurrency is at most 1024\n");
        return -1;
    }
    return 0;
}

int cli_cmd_worker(int argc, char **argv) {
    worker_options o = {0};
    int prc = parse_options(argc, argv, &o);
    if (prc) {
        fputs(usage_text, prc > 0 ? stdout : stderr);
        return prc > 0 ? 0 : 2;
    }
    /* The pipes of run_command must not land on 0, 1 or 2. */
    for (int fd = 0; fd <= 2; fd++)
        if (fcntl(fd, F_GETFD) < 0 && open("/dev/null", O_RDWR) != fd)
            return 1;

    worker w = {.o = &o};
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&w.changed, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&w.mu, NULL);

    cli_client *poller = NULL;
    slot *slots = bt_calloc((size_t)o.concurrency, sizeof *slots);
    int status = slots && cli_client_new(&o.cfg, &poller) == BT_OK ? 0 : 1;
    for (long i = 0; status == 0 && i < o.concurrency; i++) {
        slots[i].w = &w;
        if (cli_client_new(&o.cfg, &slots[i].client) != BT_OK)
            status = 1;
    }

    /* The signals go to the poller (this thread); the slots block them and
     * the commands start with the default dispositions (run_command). */
    signal(SIGPIPE, SIG_IGN);
    struct sigaction sa = {0};
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigset_t stop_set, old;
    sigemptyset(&stop_set);
    sigaddset(&stop_set, SIGINT);
    sigaddset(&stop_set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop_set, &old);
    long started = 0;
    for (; status == 0 && started < o.concurrency; started++)
        if (pthread_create(&slots[started].thread, NULL, slot_main, &slots[started]) != 0) {
            fprintf(stderr, "baton worker: cannot start a thread\n");
            status = 1;
            break;
        }
    pthread_sigmask(SIG_SETMASK, &old, NULL);

    if (status == 0) {
        cli_client_set_abort(poller, &stop_requested);
        fprintf(stderr, "baton worker: activating '%s' jobs at %s (concurrency %ld)\n", o.type,
                cli_client_address(poller), o.concurrency);
        status = poll_jobs(&w, poller);
        if (stop_requested)
            fprintf(stderr, "baton worker: stopping; finishing the jobs in hand\n");
    }
    pthread_mutex_lock(&w.mu);
    w.closing = true;
    pthread_cond_broadcast(&w.changed);
    pthread_mutex_unlock(&w.mu);
    for (long i = 0; i < started; i++)
        pthread_join(slots[i].thread, NULL);
    for (long i = 0; slots && i < o.concurrency; i++)
        cli_client_free(slots[i].client);
    bt_free(slots);
    cli_client_free(poller);
    pthread_cond_destroy(&w.changed);
    pthread_mutex_destroy(&w.mu);
    return status;
}
