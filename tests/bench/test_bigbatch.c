/* The benchmark's big-batch phase (bench/README.md, "The big batch") at a tiny size, so it cannot
 * rot: fieldday of this build tree (build/asan/bench/fieldday beside $OUTFALLD) runs the phase
 * alone against this tree's outfalld, and its table, its baselines and its per-run lines must
 * come out with every observation APPLIED. Bad flags are refused before anything starts. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

enum { LIMIT_S = 300, OUT_CAP = 1 << 16 };

static char fieldday[PATH_MAX], outfalld[PATH_MAX], fixtures[PATH_MAX], tmpdir[PATH_MAX];

/* Runs fieldday with the extra flags (NULL-terminated) and its output (stdout and stderr) into
 * out[OUT_CAP]; killed after LIMIT_S. Returns its exit code, or -1 when it did not exit. */
static int run_fieldday(char *out, const char *first, ...) {
    char *argv[32];
    int n = 0;
    argv[n++] = fieldday;
    argv[n++] = "--outfalld";
    argv[n++] = outfalld;
    argv[n++] = "--fixtures";
    argv[n++] = fixtures;
    argv[n++] = "--tmpdir";
    argv[n++] = tmpdir;
    va_list ap;
    va_start(ap, first);
    for (const char *a = first; a && n < 31; a = va_arg(ap, const char *))
        argv[n++] = (char *)a;
    va_end(ap);
    argv[n] = NULL;
    char log[PATH_MAX + 16];
    snprintf(log, sizeof log, "%s/fieldday.log", tmpdir);
    int fd = open(log, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fd, 1);
        dup2(fd, 2);
        execv(argv[0], argv);
        _exit(127);
    }
    int status = 0, code = -1;
    for (int waited = 0; pid > 0; waited += 100) {
        if (waitpid(pid, &status, WNOHANG) == pid) {
            code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
            break;
        }
        if (waited > LIMIT_S * 1000) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            break;
        }
        struct timespec ts = {0, 100 * 1000000L};
        nanosleep(&ts, NULL);
    }
    ssize_t got = pread(fd, out, OUT_CAP - 1, 0);
    out[got > 0 ? got : 0] = '\0';
    close(fd);
    unlink(log);
    return code;
}

static int count(const char *text, const char *what) {
    int n = 0;
    for (const char *p = text; (p = strstr(p, what)); p += strlen(what))
        n++;
    return n;
}

static void the_big_batch_phase_prints_its_table_with_both_baselines(void **state) {
    (void)state;
    static char out[OUT_CAP];
    int code = run_fieldday(out, "--big-batch-only", "--big-batch-docs", "60", "--big-batch-size",
                            "20", "--big-batch-devices", "1,2", "--runs", "1", NULL);
    if (code != 0) fprintf(stderr, "%s\n", out);
    assert_int_equal(code, 0);
    assert_non_null(strstr(out, "| figure (big batch: 60 observations, batches of 20) | "
                                "1 device | 2 devices |"));
    assert_non_null(strstr(out, "| server: observations/s |"));
    assert_non_null(strstr(out, "| baseline: the documents straight into SQLite, rows/s |"));
    assert_non_null(strstr(out, "| **server ÷ raw SQLite documents** |"));
    assert_non_null(strstr(out, "| baseline: the server's own rows replayed, changes/s |"));
    assert_non_null(strstr(out, "every big batch answered: yes"));
    /* Each device count: 3 batches of 20, every observation applied, both baselines whole. */
    assert_int_equal(count(out, ", 3 batches, "), 2);
    assert_int_equal(count(out, "| APPLIED 60, MERGED 0, CONFLICT 0"), 2);
    assert_int_equal(count(out, "| raw SQLite "), 2);
    assert_int_equal(count(out, "(60 rows)"), 2);
    assert_int_equal(count(out, "(60 changes)"), 2);
    /* The field day was not played. */
    assert_null(strstr(out, "changes applied/s"));
}

static void bad_big_batch_flags_are_refused_before_anything_starts(void **state) {
    (void)state;
    static char out[OUT_CAP];
    static const char *const bad[][2] = {
        {"--big-batch-devices", "0"},  {"--big-batch-devices", "1,,8"},
        {"--big-batch-devices", "65"}, {"--big-batch-devices", "1,2,3,4,5"},
        {"--big-batch-size", "0"},     {"--big-batch-size", "5001"},
        {"--big-batch-docs", "-1"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(run_fieldday(out, "--big-batch-only", bad[i][0], bad[i][1], NULL), 2);
        assert_non_null(strstr(out, bad[i][0]));
        assert_null(strstr(out, "big batch:"));
    }
    assert_int_equal(run_fieldday(out, "--big-batch-only", "--big-batch-docs", "0", NULL), 2);
    assert_non_null(strstr(out, "--big-batch-only needs --big-batch-docs above 0"));
}

int main(void) {
    const char *server = getenv("OUTFALLD");
    const char *fx = getenv("OUTFALL_FIXTURES");
    if (!server || !*server) {
        fprintf(stderr, "test_bigbatch: OUTFALLD is not set (run through tests/run.sh)\n");
        return 1;
    }
    snprintf(outfalld, sizeof outfalld, "%s", server);
    /* fieldday of the same build tree: TREE/outfalld -> TREE/bench/fieldday. */
    snprintf(fieldday, sizeof fieldday, "%s", server);
    char *slash = strrchr(fieldday, '/');
    snprintf(slash ? slash + 1 : fieldday,
             sizeof fieldday - (size_t)(slash ? slash + 1 - fieldday : 0), "bench/fieldday");
    snprintf(fixtures, sizeof fixtures, "%s/photos", fx && *fx ? fx : "tests/fixtures");
    snprintf(tmpdir, sizeof tmpdir, "/tmp/test_bigbatch.XXXXXX");
    if (!mkdtemp(tmpdir)) {
        fprintf(stderr, "test_bigbatch: mkdtemp: %s\n", strerror(errno));
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_big_batch_phase_prints_its_table_with_both_baselines),
        cmocka_unit_test(bad_big_batch_flags_are_refused_before_anything_starts),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    rmdir(tmpdir);
    return failed;
}
