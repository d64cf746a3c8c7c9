/* The tests' S3-compatible server (see s3rver.h). */
#include "tests/lib/s3rver.h"

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

#include "tests/lib/child.h"

static void th_s3_sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* node's full path from PATH into out[cap]; 0 when found. */
static int th_s3_node(char *out, size_t cap) {
    const char *path = getenv("PATH");
    char dirs[4096];
    snprintf(dirs, sizeof dirs, "%s", path && *path ? path : "/usr/local/bin:/usr/bin:/bin");
    for (char *save = NULL, *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
        snprintf(out, cap, "%s/node", d);
        if (access(out, X_OK) == 0) return 0;
    }
    return -1;
}

static int th_s3_unlink(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st, (void)flag, (void)ftw;
    remove(path);
    return 0;
}

static int th_s3_run(th_s3 *s) {
    char node[512], ready[300], log[300], objects[300], port[16] = "0";
    const char *colon = strrchr(s->endpoint, ':');
    if (colon && colon > s->endpoint + 5) snprintf(port, sizeof port, "%s", colon + 1);
    const char *script = getenv("OUTFALL_S3RVER");
    if (!script || !*script) script = "tests/s3/serve.mjs";
    if (th_s3_node(node, sizeof node) < 0 || access(script, R_OK) != 0) {
        fprintf(stderr, "th_s3: node or %s missing (make node-deps)\n", script);
        return -1;
    }
    snprintf(ready, sizeof ready, "%s/ready", s->root);
    snprintf(log, sizeof log, "%s/s3.log", s->root);
    snprintf(objects, sizeof objects, "%s/objects", s->root);
    unlink(ready);
    char *argv[] = {node, (char *)script, objects, ready, port, TH_S3_BUCKET, NULL};
    s->pid = child_spawn(node, argv, log, 1, "unused");
    if (s->pid < 0) {
        fprintf(stderr, "th_s3: cannot start node: %s\n", strerror(errno));
        s->pid = 0;
        return -1;
    }
    for (int waited = 0; waited < 30000; waited += 20) {
        char addr[64];
        if (child_read_ready(ready, addr, sizeof addr)) {
            snprintf(s->endpoint, sizeof s->endpoint, "http://%s", addr);
            return 0;
        }
        int status;
        if (waitpid(s->pid, &status, WNOHANG) == s->pid) break;
        th_s3_sleep_ms(20);
    }
    fprintf(stderr, "th_s3: the S3 server did not start (log %s)\n", log);
    th_s3_halt(s);
    return -1;
}

int th_s3_start(th_s3 *s) {
    memset(s, 0, sizeof *s);
    const char *tmp = getenv("TMPDIR");
    snprintf(s->root, sizeof s->root, "%s/outfall-s3-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(s->root)) {
        fprintf(stderr, "th_s3: mkdtemp: %s\n", strerror(errno));
        return -1;
    }
    snprintf(s->credentials, sizeof s->credentials, "%s/credentials", s->root);
    FILE *f = fopen(s->credentials, "w");
    if (!f ||
        fprintf(f, "access_key_id = %s\nsecret_access_key = %s\n", TH_S3_KEY, TH_S3_SECRET) < 0 ||
        fclose(f) != 0 || chmod(s->credentials, 0600) != 0) {
        fprintf(stderr, "th_s3: cannot write %s\n", s->credentials);
        th_s3_stop(s);
        return -1;
    }
    if (th_s3_run(s) < 0) {
        th_s3_stop(s);
        return -1;
    }
    return 0;
}

void th_s3_halt(th_s3 *s) {
    if (s->pid <= 0) return;
    int status = 0, done = 0;
    kill(s->pid, SIGCONT);
    kill(-s->pid, SIGTERM);
    for (int waited = 0; waited < 5000 && !done; waited += 10) {
        done = waitpid(s->pid, &status, WNOHANG) == s->pid;
        if (!done) th_s3_sleep_ms(10);
    }
    if (!done) {
        kill(-s->pid, SIGKILL);
        waitpid(s->pid, &status, 0);
    }
    s->pid = 0;
}

int th_s3_restart(th_s3 *s) {
    th_s3_halt(s);
    return th_s3_run(s);
}

void th_s3_stop(th_s3 *s) {
    th_s3_halt(s);
    if (s->root[0] && !getenv("TH_KEEP")) nftw(s->root, th_s3_unlink, 16, FTW_DEPTH | FTW_PHYS);
    s->root[0] = '\0';
}

void th_s3_freeze(th_s3 *s, int frozen) {
    if (s->pid > 0) kill(s->pid, frozen ? SIGSTOP : SIGCONT);
}
