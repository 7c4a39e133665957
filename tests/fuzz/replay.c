/*
 * replay.c — runs a libFuzzer target's LLVMFuzzerTestOneInput over files,
 * without libFuzzer: the seed corpora (and the crash reproducers saved in
 * them) become regression tests of the ordinary build, gcc and ASan included.
 *
 *   fuzz_replay_feel tests/fuzz/corpus/feel [more dirs or files ...]
 *
 * Every argument is a file or a directory; a directory's regular files are
 * run in name order (not recursively; dot files skipped). A failing input
 * aborts inside the target (CHECK) or trips a sanitizer, so reaching the end
 * means every input passed; the name of each input is printed before it runs
 * when BATON_REPLAY_VERBOSE is set, to find the culprit. Exit status 0 when
 * every input ran, 1 when an argument cannot be read or holds no input.
 *
 * The buffers here come from malloc, not bt_malloc: the driver is not part
 * of baton, and it must not count against a target's allocation hook. Each
 * input gets a buffer of exactly its size, so ASan catches a read past the end.
 */
#include <dirent.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Reads the whole file into a new malloc'd buffer of exactly its size (at
 * least 1 byte allocated so an empty file still has a valid pointer). */
static int replay_read(const char *path, uint8_t **data, size_t *size) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    size_t cap = 4096, len = 0;
    uint8_t *buf = malloc(cap);
    while (buf) {
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0)
            break;
        if (len == cap) {
            uint8_t *bigger = realloc(buf, cap * 2);
            if (!bigger) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = bigger;
            cap *= 2;
        }
    }
    int failed = !buf || ferror(f);
    fclose(f);
    if (failed) {
        free(buf);
        return -1;
    }
    /* Copy into an exact-size block: reading past len is then an ASan error. */
    uint8_t *exact = malloc(len ? len : 1);
    if (!exact) {
        free(buf);
        return -1;
    }
    memcpy(exact, buf, len);
    free(buf);
    *data = exact;
    *size = len;
    return 0;
}

static int replay_file(const char *path, bool verbose) {
    uint8_t *data;
    size_t size;
    if (replay_read(path, &data, &size) != 0) {
        fprintf(stderr, "replay: cannot read %s\n", path);
        return -1;
    }
    if (verbose)
        fprintf(stderr, "replay: %s (%zu bytes)\n", path, size);
    LLVMFuzzerTestOneInput(data, size);
    free(data);
    return 0;
}

static int replay_name_cmp(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Runs every regular file of dir in name order; the number run, or -1. */
static long replay_dir(const char *dir, bool verbose) {
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "replay: cannot open %s\n", dir);
        return -1;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    long result = 0;
    struct dirent *ent;
    while ((ent = readdir(d)) != NULL) {
        if (ent->d_name[0] == '.')
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            char **bigger = realloc(names, cap * sizeof *names);
            if (!bigger) {
                result = -1;
                break;
            }
            names = bigger;
        }
        size_t len = strlen(dir) + 1 + strlen(ent->d_name) + 1;
        names[n] = malloc(len);
        if (!names[n]) {
            result = -1;
            break;
        }
        snprintf(names[n], len, "%s/%s", dir, ent->d_name);
        n++;
    }
    closedir(d);
    if (result == 0 && n > 0)
        qsort(names, n, sizeof *names, replay_name_cmp);
    for (size_t i = 0; result >= 0 && i < n; i++) {
        struct stat st;
        if (stat(names[i], &st) != 0 || !S_ISREG(st.st_mode))
            continue;
        if (replay_file(names[i], verbose) != 0)
            result = -1;
        else
            result++;
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return result;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s corpus-dir-or-file...\n", argv[0]);
        return 1;
    }
    bool verbose = getenv("BATON_REPLAY_VERBOSE") != NULL;
    long total = 0;
    for (int i = 1; i < argc; i++) {
        struct stat st;
        long ran;
        if (stat(argv[i], &st) != 0) {
            fprintf(stderr, "replay: no such file or directory: %s\n", argv[i]);
            return 1;
        }
        if (S_ISDIR(st.st_mode))
            ran = replay_dir(argv[i], verbose);
        else
            ran = replay_file(argv[i], verbose) == 0 ? 1 : -1;
        if (ran <= 0) {
            fprintf(stderr, "replay: %s: %s\n", argv[i], ran < 0 ? "failed" : "no inputs");
            return 1;
        }
        total += ran;
    }
    printf("replay: %ld inputs passed\n", total);
    return 0;
}
