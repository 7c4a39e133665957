/*
 * cmd_resolve.c — `baton resolve INCIDENT_KEY`: resolve an incident; the
 * instance runs the failed step again.
 *
 * A JOB_NO_RETRIES incident needs retries first: with --retries N the
 * command sets the job's retries (PATCH /v2/jobs/KEY) and then resolves.
 * The job is --job KEY, or else the one the incident search names.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/client.h"

static const char usage_text[] =
    "usage: baton resolve INCIDENT_KEY [--retries N [--job JOB_KEY]] [connection options]\n"
    "\n"
    "Resolves the incident: the failed step runs again against the current state.\n"
    "For a job that ran out of retries (JOB_NO_RETRIES), --retries N first gives\n"
    "the job N retries; the job is --job KEY or, without it, the incident's job.\n"
    "\n" CLI_CLIENT_OPTIONS_HELP;

/* Finds the incident's job key through the incident search. Returns 0 and
 * fills job, or prints why not and returns 1. */
static int incident_job(cli_client *c, const char *incident, char job[24]) {
    json_t *body = json_pack("{s:{s:s}}", "filter", "incidentKey", incident);
    json_t *answer = NULL;
    int status = body ? cli_call(c, "POST", "/v2/incidents/search", body, 0, &answer) : 1;
    json_decref(body);
    if (status != 0)
        return 1;
    json_t *item = json_array_get(json_object_get(answer, "items"), 0);
    const char *key = item ? cli_json_str(item, "jobKey", false) : "";
    if (!item)
        fprintf(stderr, "error: no incident with key %s\n", incident);
    else if (!cli_is_key(key))
        fprintf(stderr, "error: incident %s (%s) is not about a job: --retries does not apply\n",
                incident, cli_json_str(item, "errorType", false));
    else
        snprintf(job, 24, "%s", key);
    status = item && cli_is_key(key) ? 0 : 1;
    json_decref(answer);
    return status;
}

int cli_cmd_resolve(int argc, char **argv) {
    cli_client_config cfg = {0};
    const char *incident = NULL, *job_arg = NULL;
    long retries = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        int opt = cli_client_option(&cfg, argc, argv, &i);
        if (opt < 0)
            return 2;
        if (opt > 0)
            continue;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(usage_text, stdout);
            return 0;
        } else if (strcmp(a, "--retries") == 0 && v) {
            if (cli_parse_long(argv[++i], 1, 1000000, &retries)) {
                fprintf(stderr, "baton resolve: --retries wants a number from 1 to 1000000\n");
                return 2;
            }
        } else if (strcmp(a, "--job") == 0 && v) {
            job_arg = argv[++i];
            if (!cli_is_key(job_arg)) {
                fprintf(stderr, "baton resolve: --job wants a key, not '%s'\n", job_arg);
                return 2;
            }
        } else if (!incident && cli_is_key(a)) {
            incident = a;
        } else {
            fprintf(stderr, "baton resolve: unexpected argument %s\n%s", a, usage_text);
            return 2;
        }
    }
    if (!incident || (job_arg && !retries)) {
        if (job_arg && !retries)
            fprintf(stderr, "baton resolve: --job goes with --retries\n");
        fputs(usage_text, stderr);
        return 2;
    }

    cli_client *c;
    if (cli_client_new(&cfg, &c) != BT_OK)
        return 1;
    char path[96], job[24] = "";
    int status = 0;
    if (retries) {
        if (job_arg)
            snprintf(job, sizeof job, "%s", job_arg);
        else
            status = incident_job(c, incident, job);
        if (status == 0) {
            json_t *body = json_pack("{s:{s:I}}", "changeset", "retries", (json_int_t)retries);
            snprintf(path, sizeof path, "/v2/jobs/%s", job);
            status = body ? cli_call(c, "PATCH", path, body, 0, NULL) : 1;
            json_decref(body);
        }
    }
    if (status == 0) {
        snprintf(path, sizeof path, "/v2/incidents/%s/resolution", incident);
        status = cli_call(c, "POST", path, NULL, 0, NULL);
    }
    if (status == 0) {
        if (retries)
            printf("resolved %s (job %s has %ld retries)\n", incident, job, retries);
        else
            printf("resolved %s\n", incident);
    }
    cli_client_free(c);
    return status;
}
