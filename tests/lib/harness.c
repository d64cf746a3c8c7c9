/* The server process: start outfalld on a free loopback port with a fresh data folder, wait for
 * it to say where it listens, stop it, and clean up after it whatever happened to the test. */
#include "tests/lib/harness.h"

#include <errno.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/util.h"
#include "tests/lib/child.h"

enum { TH_MAX_ARGS = 48, TH_MAX_LIVE = 16 };
static const int th_ready_wait_ms = 20000;
static const int th_stop_wait_ms = 15000;

/* Servers still running, by value, so an exit without teardown (a crashed test) still stops
 * them and removes their folders. */
static struct {
    pid_t pid;
    char root[256];
} th_live[TH_MAX_LIVE];
static int th_atexit_done;

static void th_sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static int th_rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st, (void)flag, (void)ftw;
    if (remove(path) != 0) fprintf(stderr, "th: remove %s: %s\n", path, strerror(errno));
    return 0;
}

static void th_rmtree(const char *root) {
    if (root[0]) nftw(root, th_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void th_atexit(void) {
    for (int i = 0; i < TH_MAX_LIVE; i++) {
        if (th_live[i].pid <= 0) continue;
        kill(-th_live[i].pid, SIGKILL);
        kill(th_live[i].pid, SIGKILL);
        waitpid(th_live[i].pid, NULL, 0);
        th_rmtree(th_live[i].root);
        th_live[i].pid = 0;
    }
}

static void th_live_add(pid_t pid, const char *root) {
    if (!th_atexit_done) {
        atexit(th_atexit);
        th_atexit_done = 1;
    }
    for (int i = 0; i < TH_MAX_LIVE; i++) {
        if (th_live[i].pid > 0) continue;
        th_live[i].pid = pid;
        util_strlcpy(th_live[i].root, root, sizeof th_live[i].root);
        return;
    }
    fprintf(stderr, "th: more than %d servers at once; pid %d is not tracked\n", TH_MAX_LIVE,
            (int)pid);
}

static void th_live_remove(pid_t pid) {
    for (int i = 0; i < TH_MAX_LIVE; i++)
        if (th_live[i].pid == pid) th_live[i].pid = 0;
}

/* Prints the last few KiB of the server's log to stderr. */
static void th_log_tail(const th_server *s) {
    char path[300];
    snprintf(path, sizeof path, "%s/server.log", s->root);
    FILE *f = fopen(path, "rb");
    if (!f) return;
    char buf[6144];
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, size > (long)sizeof buf - 1 ? size - (long)sizeof buf + 1 : 0, SEEK_SET);
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    fprintf(stderr, "---- tail of %s ----\n%s\n---- end of log ----\n", path, buf);
}

static void th_describe_status(int status) {
    if (WIFEXITED(status))
        fprintf(stderr, "th: server exited with status %d\n", WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        fprintf(stderr, "th: server killed by signal %d\n", WTERMSIG(status));
}

/* Reads HOST:PORT from the ready file once it exists. Returns 1 when read, 0 not yet. */
static int th_read_ready(th_server *s, const char *ready) {
    if (!child_read_ready(ready, s->addr, sizeof s->addr)) return 0;
    snprintf(s->url, sizeof s->url, "http://%s", s->addr);
    return 1;
}

int th_server_start(th_server *s, const char *const *extra_args) {
    memset(s, 0, sizeof *s);
    signal(SIGPIPE, SIG_IGN);
    const char *bin = getenv("OUTFALLD");
    if (!bin || !*bin) bin = "build/asan/outfalld";
    if (access(bin, X_OK) != 0) {
        fprintf(stderr, "th: server binary %s: %s (run make build-test, or set OUTFALLD)\n", bin,
                strerror(errno));
        return -1;
    }
    const char *tmp = getenv("TMPDIR");
    snprintf(s->root, sizeof s->root, "%s/outfall-test-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(s->root)) {
        fprintf(stderr, "th: mkdtemp %s: %s\n", s->root, strerror(errno));
        s->root[0] = '\0';
        return -1;
    }
    char ready[300], log[300];
    snprintf(s->data, sizeof s->data, "%s/data", s->root);
    snprintf(ready, sizeof ready, "%s/ready", s->root);
    snprintf(log, sizeof log, "%s/server.log", s->root);
    if (mkdir(s->data, 0700) != 0) {
        fprintf(stderr, "th: mkdir %s: %s\n", s->data, strerror(errno));
        th_rmtree(s->root);
        return -1;
    }
    char *argv[TH_MAX_ARGS];
    int argc = 0;
    const char *fixed[] = {bin,     "--listen",     "127.0.0.1:0", "--data",
                           s->data, "--ready-file", ready};
    for (size_t i = 0; i < sizeof fixed / sizeof *fixed; i++)
        argv[argc++] = (char *)fixed[i];
    if (th_photo_store_s3()) {
        if (th_s3_start(&s->s3) < 0) {
            th_rmtree(s->root);
            return -1;
        }
        const char *bucket[] = {"--photo-store",
                                "s3://" TH_S3_BUCKET "/" TH_S3_PREFIX,
                                "--photo-store-endpoint",
                                s->s3.endpoint,
                                "--photo-store-credentials",
                                s->s3.credentials,
                                "--photo-store-timeout",
                                "5"};
        for (size_t i = 0; i < sizeof bucket / sizeof *bucket; i++)
            argv[argc++] = (char *)bucket[i];
    }
    for (int i = 0; extra_args && extra_args[i] && argc < TH_MAX_ARGS - 1; i++)
        argv[argc++] = (char *)extra_args[i];
    argv[argc] = NULL;

    s->pid = child_spawn(bin, argv, log, 0, TH_ADMIN_PASSWORD);
    if (s->pid < 0) fprintf(stderr, "th: cannot start %s: %s\n", bin, strerror(errno));
    if (s->pid < 0) {
        s->pid = 0;
        th_rmtree(s->root);
        th_s3_stop(&s->s3);
        return -1;
    }
    th_live_add(s->pid, s->root);
    for (int waited = 0; waited < th_ready_wait_ms; waited += 10) {
        if (th_read_ready(s, ready)) return 0;
        int status;
        if (waitpid(s->pid, &status, WNOHANG) == s->pid) {
            fprintf(stderr, "th: %s died before it was ready\n", bin);
            th_describe_status(status);
            th_log_tail(s);
            kill(-s->pid, SIGKILL);
            th_live_remove(s->pid);
            s->pid = 0;
            th_rmtree(s->root);
            th_s3_stop(&s->s3);
            return -1;
        }
        th_sleep_ms(10);
    }
    fprintf(stderr, "th: %s wrote no ready file within %d s\n", bin, th_ready_wait_ms / 1000);
    th_server_stop(s);
    return -1;
}

int th_server_stop(th_server *s) {
    int rc = 0;
    if (!s) return 0;
    if (s->pid > 0) {
        int status = 0, done = 0;
        if (kill(-s->pid, SIGTERM) != 0) kill(s->pid, SIGTERM);
        for (int waited = 0; waited < th_stop_wait_ms && !done; waited += 10) {
            done = waitpid(s->pid, &status, WNOHANG) == s->pid;
            if (!done) th_sleep_ms(10);
        }
        if (!done) {
            fprintf(stderr, "th: server did not stop within %d s of SIGTERM; killing it\n",
                    th_stop_wait_ms / 1000);
            kill(-s->pid, SIGKILL);
            kill(s->pid, SIGKILL);
            waitpid(s->pid, &status, 0);
            rc = -1;
        } else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            rc = -1;
        }
        if (rc != 0) {
            th_describe_status(status);
            th_log_tail(s);
        }
        kill(-s->pid, SIGKILL); /* whatever it left behind in its group */
        th_live_remove(s->pid);
        s->pid = 0;
    }
    if (s->root[0]) {
        if (getenv("TH_KEEP"))
            fprintf(stderr, "th: kept %s\n", s->root);
        else
            th_rmtree(s->root);
        s->root[0] = '\0';
    }
    th_s3_stop(&s->s3);
    return rc;
}

int th_photo_store_s3(void) {
    const char *store = getenv("OUTFALL_TEST_PHOTO_STORE");
    return store && strcmp(store, "s3") == 0;
}

const char *th_admin_token(th_server *s) {
    if (s->admin_token[0]) return s->admin_token;
    th_error err;
    long st = th_login(s, "admin", TH_ADMIN_PASSWORD, s->admin_token, NULL, &err);
    if (st != 200) {
        fprintf(stderr, "th: admin login: %ld %s %s\n", st, err.code, err.message);
        s->admin_token[0] = '\0';
        return NULL;
    }
    return s->admin_token;
}

void th_uuid(char out[37]) {
    util_uuid_new(out);
}

void th_spot(double *lat, double *lon) {
    static int next;
    int k = next++;
    *lat = 34.90 + (k % 50) * 0.01;
    *lon = 112.70 + (k / 50) * 0.01;
}

int th_has(char *const *flags, size_t n, const char *flag) {
    for (size_t i = 0; i < n; i++)
        if (flags[i] && strcmp(flags[i], flag) == 0) return 1;
    return 0;
}
