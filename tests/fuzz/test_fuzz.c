/* The fuzz targets in `make test` (fuzz/README.md): for every build/fuzz/fuzz_NAME, one test
 * replays its seed corpus and its regressions (each input once: a crash found once stays fixed),
 * and one fuzzes it for FUZZ_TEST_SECONDS (default 10) from those inputs. A crash, a sanitizer
 * report, a leak, a timeout or an oracle's abort fails the test; its input is kept under
 * build/fuzz/artifacts/NAME/ and belongs in fuzz/regressions/NAME/ once fixed.
 *
 * Environment: FUZZ_BIN (default build/fuzz), FUZZ_DIR (default fuzz), FUZZ_TEST_SECONDS. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

enum { MAX_TARGETS = 16, MAX_INPUTS = 4096 };

static const char *bin_dir, *fuzz_dir;
static int seconds = 10;
static char targets[MAX_TARGETS][64];
static char names[MAX_TARGETS * 2][128];

static const char *env_or(const char *name, const char *fallback) {
    const char *v = getenv(name);
    return v && *v ? v : fallback;
}

/* Runs argv with stdout and stderr into log, killing it after limit_s. Returns its wait status,
 * or -1 when it could not start. */
static int run(char *const argv[], const char *log, int limit_s) {
    int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return -1;
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fd, 1);
        dup2(fd, 2);
        execv(argv[0], argv);
        _exit(127);
    }
    close(fd);
    if (pid < 0) return -1;
    int status = 0;
    for (int waited = 0;; waited += 100) {
        pid_t done = waitpid(pid, &status, WNOHANG);
        if (done == pid) return status;
        if (waited > limit_s * 1000) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            fprintf(stderr, "%s: killed after %d s\n", argv[0], limit_s);
            return status;
        }
        struct timespec ts = {0, 100 * 1000000L};
        nanosleep(&ts, NULL);
    }
}

/* Prints the last lines of log that are not the server's access log. */
static void tail(const char *log, int lines) {
    FILE *f = fopen(log, "r");
    if (!f) return;
    static char ring[64][512];
    int n = 0;
    char line[512];
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "127.0.0.1 ", 10) != 0) snprintf(ring[n++ % 64], 512, "%s", line);
    fclose(f);
    if (lines > 64) lines = 64;
    for (int i = n > lines ? n - lines : 0; i < n; i++)
        fputs(ring[i % 64], stderr);
}

/* The value after "key" on the last line of log holding it, e.g. "cov: " → "1234". */
static long last_number(const char *log, const char *key) {
    FILE *f = fopen(log, "r");
    long v = -1;
    char line[512];
    while (f && fgets(line, sizeof line, f)) {
        const char *p = strstr(line, key);
        if (p) v = strtol(p + strlen(key), NULL, 10);
    }
    if (f) fclose(f);
    return v;
}

/* Appends the regular files of dir to argv[*n] (paths malloc'd). */
static void add_files(const char *dir, char **argv, int *n, int cap) {
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d)) && *n < cap) {
        char path[1024];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (e->d_name[0] != '.' && stat(path, &st) == 0 && S_ISREG(st.st_mode))
            argv[(*n)++] = strdup(path);
    }
    if (d) closedir(d);
}

static void log_path(char *out, size_t cap, const char *target, const char *kind) {
    snprintf(out, cap, "%s/logs", bin_dir);
    mkdir(out, 0755);
    snprintf(out, cap, "%s/logs/%s-%s.log", bin_dir, target, kind);
}

/* Every seed and regression input of the target, each once. */
static void replays(void **state) {
    const char *t = *state;
    char bin[512], dir[512], log[600];
    static char *argv[MAX_INPUTS + 4];
    int n = 0, first;
    snprintf(bin, sizeof bin, "%s/fuzz_%s", bin_dir, t);
    argv[n++] = bin;
    argv[n++] = "-timeout=30";
    first = n;
    snprintf(dir, sizeof dir, "%s/corpus/%s", fuzz_dir, t);
    add_files(dir, argv, &n, MAX_INPUTS);
    int seeds = n - first;
    snprintf(dir, sizeof dir, "%s/regressions/%s", fuzz_dir, t);
    add_files(dir, argv, &n, MAX_INPUTS);
    argv[n] = NULL;
    log_path(log, sizeof log, t, "replay");
    int status = n > first ? run(argv, log, 300) : 0;
    for (int i = first; i < n; i++)
        free(argv[i]);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        tail(log, 40);
        fail_msg("fuzz_%s failed replaying its inputs (log: %s)", t, log);
    }
    print_message("fuzz_%s: replayed %d seeds and %d regressions\n", t, seeds, n - first - seeds);
    if (seeds == 0) fail_msg("fuzz_%s has no seed corpus in %s/corpus/%s", t, fuzz_dir, t);
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st, (void)flag, (void)ftw;
    remove(path);
    return 0;
}

/* seconds of fuzzing from the seeds and regressions; new inputs go to a scratch folder. */
static void fuzzes(void **state) {
    const char *t = *state;
    char bin[512], seeds[512], regressions[512], work[] = "/tmp/outfall-fuzz-corpus-XXXXXX";
    char time_arg[64], artifacts[600], artifact_arg[700], log[600];
    snprintf(bin, sizeof bin, "%s/fuzz_%s", bin_dir, t);
    snprintf(seeds, sizeof seeds, "%s/corpus/%s", fuzz_dir, t);
    snprintf(regressions, sizeof regressions, "%s/regressions/%s", fuzz_dir, t);
    snprintf(time_arg, sizeof time_arg, "-max_total_time=%d", seconds);
    snprintf(artifacts, sizeof artifacts, "%s/artifacts", bin_dir);
    mkdir(artifacts, 0755);
    snprintf(artifacts, sizeof artifacts, "%s/artifacts/%s", bin_dir, t);
    mkdir(artifacts, 0755);
    snprintf(artifact_arg, sizeof artifact_arg, "-artifact_prefix=%s/", artifacts);
    assert_non_null(mkdtemp(work));
    struct stat st;
    char *argv[] = {bin,
                    time_arg,
                    "-timeout=30",
                    "-rss_limit_mb=3072",
                    "-print_final_stats=1",
                    artifact_arg,
                    work,
                    seeds,
                    stat(regressions, &st) == 0 ? regressions : NULL,
                    NULL};
    log_path(log, sizeof log, t, "fuzz");
    int status = run(argv, log, seconds + 120);
    nftw(work, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
    long execs = last_number(log, "stat::number_of_executed_units: ");
    long cov = last_number(log, "cov: ");
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        tail(log, 60);
        fail_msg("fuzz_%s found a failure in %d s (log: %s; the input is in %s/: fix the bug, "
                 "then add the input to %s)",
                 t, seconds, log, artifacts, regressions);
    }
    print_message("fuzz_%s: %ld inputs in %d s, coverage %ld, no failure\n", t, execs, seconds,
                  cov);
}

int main(void) {
    bin_dir = env_or("FUZZ_BIN", "build/fuzz");
    fuzz_dir = env_or("FUZZ_DIR", "fuzz");
    seconds = atoi(env_or("FUZZ_TEST_SECONDS", "10"));
    if (seconds < 1) seconds = 1;
    int nt = 0;
    DIR *d = opendir(bin_dir);
    struct dirent *e;
    while (d && (e = readdir(d)) && nt < MAX_TARGETS)
        if (strncmp(e->d_name, "fuzz_", 5) == 0 && strlen(e->d_name) < sizeof targets[0] + 5)
            snprintf(targets[nt++], sizeof targets[0], "%s", e->d_name + 5);
    if (d) closedir(d);
    qsort(targets, (size_t)nt, sizeof targets[0], (int (*)(const void *, const void *))strcmp);
    struct CMUnitTest tests[MAX_TARGETS * 2 + 1];
    int n = 0;
    for (int i = 0; i < nt; i++) {
        snprintf(names[2 * i], sizeof names[0], "fuzz_%s_replays_its_corpus_and_regressions",
                 targets[i]);
        snprintf(names[2 * i + 1], sizeof names[0], "fuzz_%s_finds_no_failure_in_%d_seconds",
                 targets[i], seconds);
        struct CMUnitTest a = cmocka_unit_test_prestate(replays, targets[i]);
        struct CMUnitTest b = cmocka_unit_test_prestate(fuzzes, targets[i]);
        a.name = names[2 * i];
        b.name = names[2 * i + 1];
        tests[n++] = a;
        tests[n++] = b;
    }
    if (nt == 0) {
        fprintf(stderr, "no fuzz targets in %s (make build-test builds them)\n", bin_dir);
        return 1;
    }
    return _cmocka_run_group_tests("fuzz", tests, (size_t)n, NULL, NULL);
}
