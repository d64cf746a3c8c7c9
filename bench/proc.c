/* The server process: start outfalld with a fresh data folder, wait for its ready file, read
 * its memory and CPU from /proc, stop it, remove its folder. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench/bench.h"
#include "common/util.h"
#include "tests/lib/child.h"

enum { READY_WAIT_MS = 30000, STOP_WAIT_MS = 30000 };

double bench_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st, (void)flag, (void)ftw;
    if (remove(path) != 0) fprintf(stderr, "bench: remove %s: %s\n", path, strerror(errno));
    return 0;
}

void bench_server_clean(bench_server *s, int keep) {
    if (!s->root[0]) return;
    if (keep)
        fprintf(stderr, "bench: kept %s\n", s->root);
    else
        nftw(s->root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    s->root[0] = '\0';
}

void bench_server_log_tail(const bench_server *s) {
    char path[700], buf[4096];
    snprintf(path, sizeof path, "%s/server.log", s->root);
    FILE *f = fopen(path, "rb");
    if (!f) return;
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, size > (long)sizeof buf - 1 ? size - (long)sizeof buf + 1 : 0, SEEK_SET);
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    fprintf(stderr, "---- tail of %s ----\n%s\n---- end ----\n", path, buf);
}

/* Reads HOST:PORT from the ready file once it exists: 1 when read, 0 not yet. */
static int read_ready(bench_server *s, const char *ready) {
    char addr[64]; /* 127.0.0.1:PORT */
    if (!child_read_ready(ready, addr, sizeof addr)) return 0;
    snprintf(s->url, sizeof s->url, "http://%s", addr);
    return 1;
}

int bench_server_start(const bench_opts *opts, bench_server *s) {
    memset(s, 0, sizeof *s);
    if (access(opts->outfalld, X_OK) != 0) {
        fprintf(stderr, "bench: server binary %s: %s\n", opts->outfalld, strerror(errno));
        return -1;
    }
    snprintf(s->root, sizeof s->root, "%s/outfall-bench-XXXXXX", opts->tmpdir);
    if (!mkdtemp(s->root)) {
        fprintf(stderr, "bench: mkdtemp %s: %s\n", s->root, strerror(errno));
        s->root[0] = '\0';
        return -1;
    }
    char ready[700], log[700], threads[16];
    snprintf(s->data, sizeof s->data, "%s/data", s->root);
    snprintf(ready, sizeof ready, "%s/ready", s->root);
    snprintf(log, sizeof log, "%s/server.log", s->root);
    snprintf(threads, sizeof threads, "%d", opts->server_threads);
    char *argv[48];
    int argc = 0;
    argv[argc++] = (char *)opts->outfalld;
    argv[argc++] = "--listen";
    argv[argc++] = "127.0.0.1:0";
    argv[argc++] = "--data";
    argv[argc++] = s->data;
    argv[argc++] = "--ready-file";
    argv[argc++] = ready;
    if (opts->server_threads > 0) {
        argv[argc++] = "--threads";
        argv[argc++] = threads;
    }
    for (int i = 0; i < opts->n_server_args && argc < 47; i++)
        argv[argc++] = (char *)opts->server_args[i];
    argv[argc] = NULL;

    pid_t pid = child_spawn(argv[0], argv, log, 0, BENCH_ADMIN_PASSWORD);
    if (pid < 0) {
        fprintf(stderr, "bench: cannot start %s: %s\n", opts->outfalld, strerror(errno));
        bench_server_clean(s, 0);
        return -1;
    }
    s->pid = pid;
    for (int waited = 0; waited < READY_WAIT_MS; waited += 10) {
        if (read_ready(s, ready)) return 0;
        int status;
        if (waitpid(pid, &status, WNOHANG) == pid) {
            fprintf(stderr, "bench: %s died before it was ready\n", opts->outfalld);
            bench_server_log_tail(s);
            s->pid = 0;
            bench_server_clean(s, 0);
            return -1;
        }
        sleep_ms(10);
    }
    fprintf(stderr, "bench: %s wrote no ready file within %d s\n", opts->outfalld,
            READY_WAIT_MS / 1000);
    bench_server_stop(s);
    bench_server_clean(s, 0);
    return -1;
}

int bench_server_stop(bench_server *s) {
    if (s->pid <= 0) return 0;
    int status = 0, done = 0, rc = 0;
    kill(s->pid, SIGTERM);
    for (int waited = 0; waited < STOP_WAIT_MS && !done; waited += 10) {
        done = waitpid(s->pid, &status, WNOHANG) == s->pid;
        if (!done) sleep_ms(10);
    }
    if (!done) {
        fprintf(stderr, "bench: server did not stop within %d s; killing it\n",
                STOP_WAIT_MS / 1000);
        kill(-s->pid, SIGKILL);
        kill(s->pid, SIGKILL);
        waitpid(s->pid, &status, 0);
        rc = -1;
    } else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "bench: server exited abnormally (status %d)\n", status);
        bench_server_log_tail(s);
        rc = -1;
    }
    s->pid = 0;
    return rc;
}

pid_t bench_profile_start(pid_t pid, const char *out) {
    char target[32];
    snprintf(target, sizeof target, "%d", (int)pid);
    pid_t perf = fork();
    if (perf == 0) {
        int nullfd = open("/dev/null", O_RDWR | O_CLOEXEC);
        if (nullfd >= 0) {
            dup2(nullfd, 0);
            dup2(nullfd, 1);
        }
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        execlp("perf", "perf", "record", "-F", "999", "--sample-cpu", "--call-graph", "dwarf,16384",
               "-p", target, "-o", out, (char *)NULL);
        _exit(127);
    }
    if (perf < 0) {
        fprintf(stderr, "bench: cannot start perf: %s\n", strerror(errno));
        return -1;
    }
    sleep_ms(300); /* let it attach before the phase starts */
    int status;
    if (waitpid(perf, &status, WNOHANG) == perf) {
        fprintf(stderr, "bench: perf record exited at once (is perf installed and allowed?)\n");
        return -1;
    }
    return perf;
}

void bench_profile_stop(pid_t perf) {
    if (perf <= 0) return;
    kill(perf, SIGINT);
    int status;
    for (int waited = 0; waited < STOP_WAIT_MS; waited += 10) {
        if (waitpid(perf, &status, WNOHANG) == perf) return;
        sleep_ms(10);
    }
    kill(perf, SIGKILL);
    waitpid(perf, &status, 0);
}

long bench_listen_overflows(void) {
    FILE *f = fopen("/proc/net/netstat", "r");
    if (!f) return -1;
    char names[4096], values[4096];
    long v = -1;
    while (v < 0 && fgets(names, sizeof names, f) && fgets(values, sizeof values, f)) {
        if (strncmp(names, "TcpExt:", 7) != 0) continue;
        char *sn = NULL, *sv = NULL;
        char *n = strtok_r(names, " \n", &sn), *x = strtok_r(values, " \n", &sv);
        while (n && x) {
            if (strcmp(n, "ListenOverflows") == 0) v = strtol(x, NULL, 10);
            n = strtok_r(NULL, " \n", &sn);
            x = strtok_r(NULL, " \n", &sv);
        }
    }
    fclose(f);
    return v;
}

/* The value in KiB of a "Name:   N kB" line of /proc/PID/status; -1 when absent. */
static long status_kb(pid_t pid, const char *name) {
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    long v = -1;
    size_t n = strlen(name);
    while (fgets(line, sizeof line, f))
        if (strncmp(line, name, n) == 0 && line[n] == ':') {
            v = strtol(line + n + 1, NULL, 10);
            break;
        }
    fclose(f);
    return v;
}

long bench_proc_hwm_kb(pid_t pid) {
    return status_kb(pid, "VmHWM");
}
long bench_proc_rss_kb(pid_t pid) {
    return status_kb(pid, "VmRSS");
}

int bench_proc_reset_hwm(pid_t pid) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/clear_refs", (int)pid);
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    int ok = write(fd, "5", 1) == 1;
    close(fd);
    return ok ? 0 : -1;
}

double bench_proc_cpu_s(pid_t pid) {
    char path[64], buf[2048];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    /* Fields after the command name, which is in parentheses and may hold blanks. */
    char *p = strrchr(buf, ')');
    if (!p) return -1;
    unsigned long utime = 0, stime = 0;
    /* state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime */
    if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime, &stime) != 2)
        return -1;
    return (double)(utime + stime) / (double)sysconf(_SC_CLK_TCK);
}
