/*
 * bench_util.h — what the embedded benchmarks share: a monotonic clock,
 * the resident set size, file sizes, and dying with baton's message.
 * Header-only (static functions): each benchmark is one program.
 */
#ifndef BATON_BENCH_UTIL_H
#define BATON_BENCH_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "baton.h"

/* Seconds on the monotonic clock. */
static inline double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The resident set size now, in KiB (/proc/self/statm). */
static inline long rss_kb(void) {
    FILE *f = fopen("/proc/self/statm", "r");
    long pages = 0, resident = 0;
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
            resident = 0;
        fclose(f);
    }
    return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

/* A file's size in bytes, 0 when it does not exist. */
static inline long long file_size(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 ? (long long)st.st_size : 0;
}

static inline void die(const char *what, const baton_error *err) {
    fprintf(stderr, "bench: %s: %s\n", what, err ? err->message : "");
    exit(1);
}

#endif
