/* Helpers the reliability tests share (prefix rel_), on top of the harness (tests/lib): a server
 * process on a data folder the test owns, so it can be killed with SIGKILL and started again on
 * the same folder; its memory and its log; the database opened directly; phones' positions that
 * never make duplicate suspects; fixture photos made unique; the photo store walked and checked;
 * and running outfallctl. Header-only (every test is its own binary): include it once. */
#ifndef TESTS_RELIABILITY_REL_H
#define TESTS_RELIABILITY_REL_H

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/util.h"
#include "sync/backup.h"
#include "tests/lib/child.h"
#include "tests/lib/harness.h"

#define REL_UNUSED __attribute__((unused))
#define REL_DIV "410802"
#define REL_RIVER "qinhe"

/* ---- time ---- */

static REL_UNUSED double rel_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static REL_UNUSED void rel_sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* Prints a line of the test's figures to stdout at once (run.sh tees it into the suite's log). */
static REL_UNUSED void rel_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static REL_UNUSED void rel_say(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    fflush(stdout);
}

/* A whole number from the environment, or dflt when unset or not a number. */
static REL_UNUSED long rel_env_long(const char *name, long dflt) {
    const char *v = getenv(name);
    char *end = NULL;
    long n = v && *v ? strtol(v, &end, 10) : dflt;
    return v && *v && end && *end == '\0' && n > 0 ? n : dflt;
}

/* ---- the test's own stderr ---- */

/* Sends this process's stderr to path from now on (the harness prints a line for every request
 * that got no answer, hundreds while a server is being killed). Returns the saved stderr, or -1. */
static REL_UNUSED int rel_stderr_to(const char *path) {
    fflush(stderr);
    int saved = dup(2);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (saved < 0 || fd < 0 || dup2(fd, 2) < 0) {
        if (fd >= 0) close(fd);
        if (saved >= 0) close(saved);
        return -1;
    }
    close(fd);
    return saved;
}

/* Puts stderr back and passes on what path caught, except the harness's lines about requests
 * that got no answer, which are only counted. Returns that count. */
static REL_UNUSED long rel_stderr_back(int saved, const char *path) {
    if (saved < 0) return 0;
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    static const char *const lost[] = {"Couldn't connect",
                                       "Server returned nothing",
                                       "Failure when receiving",
                                       "Transferred a partial file",
                                       "Connection reset",
                                       "Send failure",
                                       "Recv failure"};
    FILE *f = fopen(path, "r");
    char line[2048];
    long n = 0;
    while (f && fgets(line, sizeof line, f)) {
        int known = 0;
        for (size_t i = 0; strncmp(line, "th: ", 4) == 0 && i < sizeof lost / sizeof *lost; i++)
            known |= strstr(line, lost[i]) != NULL;
        if (known)
            n++;
        else
            fputs(line, stderr);
    }
    if (f) fclose(f);
    return n;
}

/* ---- folders ---- */

static REL_UNUSED int rel_rm_entry(const char *path, const struct stat *st, int flag,
                                   struct FTW *ftw) {
    (void)st, (void)flag, (void)ftw;
    remove(path);
    return 0;
}

static REL_UNUSED void rel_rmtree(const char *root) {
    if (root && root[0]) nftw(root, rel_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* A fresh folder under TMPDIR (or /tmp) named after what, into out[cap]. Returns 0 or -1. */
static REL_UNUSED int rel_tmpdir(const char *what, char *out, size_t cap) {
    const char *tmp = getenv("TMPDIR");
    snprintf(out, cap, "%s/outfall-%s-XXXXXX", tmp && *tmp ? tmp : "/tmp", what);
    if (mkdtemp(out)) return 0;
    fprintf(stderr, "rel: mkdtemp %s: %s\n", out, strerror(errno));
    out[0] = '\0';
    return -1;
}

/* ---- the server process ---- */

/* A server on a data folder the test owns. th is what the harness's HTTP calls need (url and the
 * cached admin token); its pid and root stay empty so th_server_stop never touches it. The url
 * changes at each start (a new free port): threads read it through rel_server_view. */
typedef struct rel_server {
    th_server th;
    pthread_mutex_t mu;
    pid_t pid;
    char data[512];
    char log[512];
    char ready[512];
    int starts;
    const char *const *extra; /* more flags, NULL-terminated (may be NULL) */
} rel_server;

enum { REL_MAX_LIVE = 8 };
static pid_t rel_live[REL_MAX_LIVE];

static REL_UNUSED void rel_atexit(void) {
    for (int i = 0; i < REL_MAX_LIVE; i++)
        if (rel_live[i] > 0) {
            kill(-rel_live[i], SIGKILL);
            waitpid(rel_live[i], NULL, 0);
            rel_live[i] = 0;
        }
}

static REL_UNUSED void rel_live_set(pid_t old, pid_t now) {
    static int registered;
    if (!registered) {
        atexit(rel_atexit);
        registered = 1;
    }
    for (int i = 0; i < REL_MAX_LIVE; i++)
        if (rel_live[i] == old) {
            rel_live[i] = now;
            return;
        }
}

/* Sets up s for a server on data (created when missing), logging to log (appended: every start
 * of the same server writes to one log). Nothing runs yet. */
static REL_UNUSED void rel_server_init(rel_server *s, const char *data, const char *log,
                                       const char *const *extra) {
    memset(s, 0, sizeof *s);
    pthread_mutex_init(&s->mu, NULL);
    util_strlcpy(s->data, data, sizeof s->data);
    util_strlcpy(s->log, log, sizeof s->log);
    snprintf(s->ready, sizeof s->ready, "%s.ready", log);
    s->extra = extra;
    mkdir(data, 0700);
}

/* Starts outfalld (env OUTFALLD) on 127.0.0.1:0 with s's data folder, and waits up to 20 s for
 * its ready file. Returns 0, or -1 after printing why (nothing is left running). */
static REL_UNUSED int rel_server_start(rel_server *s) {
    signal(SIGPIPE, SIG_IGN);
    const char *bin = getenv("OUTFALLD");
    if (!bin || !*bin) bin = "build/asan/outfalld";
    unlink(s->ready);
    char *argv[32];
    int argc = 0;
    const char *fixed[] = {bin,     "--listen",     "127.0.0.1:0", "--data",
                           s->data, "--ready-file", s->ready};
    for (size_t i = 0; i < sizeof fixed / sizeof *fixed; i++)
        argv[argc++] = (char *)fixed[i];
    for (int i = 0; s->extra && s->extra[i] && argc < 31; i++)
        argv[argc++] = (char *)s->extra[i];
    argv[argc] = NULL;

    pid_t pid = child_spawn(bin, argv, s->log, 1, TH_ADMIN_PASSWORD);
    if (pid < 0) {
        fprintf(stderr, "rel: cannot start %s: %s\n", bin, strerror(errno));
        return -1;
    }
    rel_live_set(0, pid);
    for (int waited = 0; waited < 20000; waited += 5) {
        char line[64];
        if (child_read_ready(s->ready, line, sizeof line)) {
            pthread_mutex_lock(&s->mu);
            s->pid = pid;
            util_strlcpy(s->th.addr, line, sizeof s->th.addr);
            snprintf(s->th.url, sizeof s->th.url, "http://%s", line);
            s->starts++;
            pthread_mutex_unlock(&s->mu);
            return 0;
        }
        int status;
        if (waitpid(pid, &status, WNOHANG) == pid) {
            fprintf(stderr, "rel: %s died before it was ready (status %d); see %s\n", bin, status,
                    s->log);
            rel_live_set(pid, 0);
            return -1;
        }
        rel_sleep_ms(5);
    }
    fprintf(stderr, "rel: %s wrote no ready file in 20 s\n", bin);
    kill(-pid, SIGKILL);
    waitpid(pid, NULL, 0);
    rel_live_set(pid, 0);
    return -1;
}

/* kill -9 of the server and whatever it started; waits for it. */
static REL_UNUSED void rel_server_kill(rel_server *s) {
    pthread_mutex_lock(&s->mu);
    pid_t pid = s->pid;
    s->pid = 0;
    pthread_mutex_unlock(&s->mu);
    if (pid <= 0) return;
    kill(-pid, SIGKILL);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    rel_live_set(pid, 0);
}

/* SIGTERM and a wait of up to 20 s (then SIGKILL). Returns 0 when the server exited with status
 * 0 (under ASan that also means LeakSanitizer found no leak), else -1 after printing how it
 * ended. */
static REL_UNUSED int rel_server_stop(rel_server *s) {
    pthread_mutex_lock(&s->mu);
    pid_t pid = s->pid;
    s->pid = 0;
    pthread_mutex_unlock(&s->mu);
    if (pid <= 0) return 0;
    int status = 0, done = 0;
    kill(pid, SIGTERM);
    for (int waited = 0; waited < 20000 && !done; waited += 10) {
        done = waitpid(pid, &status, WNOHANG) == pid;
        if (!done) rel_sleep_ms(10);
    }
    if (!done) {
        fprintf(stderr, "rel: the server did not stop within 20 s of SIGTERM\n");
        kill(-pid, SIGKILL);
        waitpid(pid, &status, 0);
    }
    kill(-pid, SIGKILL);
    rel_live_set(pid, 0);
    if (done && WIFEXITED(status) && WEXITSTATUS(status) == 0) return 0;
    if (WIFEXITED(status))
        fprintf(stderr, "rel: the server exited with status %d; see %s\n", WEXITSTATUS(status),
                s->log);
    else if (WIFSIGNALED(status))
        fprintf(stderr, "rel: the server died of signal %d; see %s\n", WTERMSIG(status), s->log);
    return -1;
}

/* A copy of the server's address as it is now, for one exchange from any thread. */
static REL_UNUSED th_server rel_server_view(rel_server *s) {
    pthread_mutex_lock(&s->mu);
    th_server v = s->th;
    pthread_mutex_unlock(&s->mu);
    return v;
}

/* The server's resident memory in KiB (VmRSS), or -1. */
static REL_UNUSED long rel_rss_kb(rel_server *s) {
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)s->pid);
    FILE *f = fopen(path, "r");
    long kb = -1;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %ld kB", &kb) == 1) break;
    if (f) fclose(f);
    return kb;
}

/* Counts the lines of the server's log that tell of trouble: an error or failure the server
 * reported, a sanitizer's report, or an answer with a 5xx status (the access log writes
 * "ADDR METHOD PATH STATUS TIMEms ..."). The first one goes to first[cap]. */
static REL_UNUSED int rel_log_trouble(const char *log, char *first, size_t cap) {
    static const char *const words[] = {"error",  "fail",  "Sanitizer", "runtime error",
                                        "cannot", "panic", "abort"};
    FILE *f = fopen(log, "r");
    char line[2048];
    int n = 0;
    first[0] = '\0';
    while (f && fgets(line, sizeof line, f)) {
        char addr[64], method[16], path[1024];
        int status = 0, bad = 0;
        if (sscanf(line, "%63s %15s %1023s %d", addr, method, path, &status) == 4 &&
            strchr(method, '/') == NULL && path[0] == '/')
            bad = status >= 500;
        else
            for (size_t i = 0; i < sizeof words / sizeof *words && !bad; i++)
                bad = strcasestr(line, words[i]) != NULL;
        if (!bad) continue;
        if (n++ == 0) {
            util_strlcpy(first, line, cap);
            first[strcspn(first, "\n")] = '\0';
        }
    }
    if (f) fclose(f);
    return n;
}

/* ---- accounts and phones ---- */

/* A surveyor of REL_DIV with a fresh name, logged in. Returns 0 or -1. */
static REL_UNUSED int rel_surveyor(rel_server *s, th_user *u) {
    static const char *const divs[] = {REL_DIV, NULL};
    return th_user_new(&s->th, "rel", TH_ROLE(SURVEYOR), divs, u);
}

/* A position for the n-th new outfall of this process: a grid of 55 m cells inside the city,
 * so no two outfalls are duplicate suspects (the radius is 30 m). Thread-safe. */
static REL_UNUSED void rel_spot(double *lat, double *lon) {
    static long next;
    long k = __atomic_fetch_add(&next, 1, __ATOMIC_RELAXED);
    *lat = 34.80 + (double)(k % 1500) * 0.0005;
    *lon = 112.60 + (double)(k / 1500) * 0.0006;
}

/* ---- the database, read directly ---- */

/* Opens data/outfall.db read-only (a server may be running). NULL after printing why. */
static REL_UNUSED sqlite3 *rel_db_open(const char *data) {
    char path[600];
    snprintf(path, sizeof path, "%s/outfall.db", data);
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        fprintf(stderr, "rel: open %s: %s\n", path, db ? sqlite3_errmsg(db) : "no memory");
        sqlite3_close(db);
        return NULL;
    }
    sqlite3_busy_timeout(db, 10000);
    return db;
}

/* The first column of the first row of sql, with ?1 bound to text when not NULL; -1 when the
 * query failed (printed), `none` when it gave no row. */
static REL_UNUSED int64_t rel_db_int(sqlite3 *db, const char *sql, const char *text) {
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        fprintf(stderr, "rel: %s: %s\n", sql, sqlite3_errmsg(db));
        return -1;
    }
    if (text) sqlite3_bind_text(st, 1, text, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    int64_t v = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : rc == SQLITE_DONE ? 0 : -1;
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        fprintf(stderr, "rel: %s: %s\n", sql, sqlite3_errmsg(db));
    sqlite3_finalize(st);
    return v;
}

/* `PRAGMA integrity_check` of data's database: 0 when "ok", else -1 with the answer in msg. */
static REL_UNUSED int rel_integrity(const char *data, char *msg, size_t cap) {
    sqlite3 *db = rel_db_open(data);
    if (!db) {
        snprintf(msg, cap, "cannot open");
        return -1;
    }
    int rc = backup_integrity(db, msg, cap);
    sqlite3_close(db);
    return rc;
}

/* Walks both hash chains of data's database; prints and returns 0 when both hold. */
static REL_UNUSED int rel_chains_ok(const char *data, backup_chain *audit, backup_chain *history) {
    sqlite3 *db = rel_db_open(data);
    sync_error err = {0};
    int rc = -1;
    if (db && backup_verify_audit(db, audit, &err) == 0 &&
        backup_verify_history(db, history, &err) == 0)
        rc = audit->broken || history->broken ? -1 : 0;
    else
        fprintf(stderr, "rel: chain walk: %s %s\n", err.code, err.message);
    if (rc != 0 && audit->broken) fprintf(stderr, "rel: audit chain: %s\n", audit->what);
    if (rc != 0 && history->broken) fprintf(stderr, "rel: history chain: %s\n", history->what);
    sqlite3_close(db);
    return rc;
}

/* ---- photos ---- */

/* The whole of a file into a malloc'd *buf. Returns 0 or -1. */
static REL_UNUSED int rel_read_file(const char *path, uint8_t **buf, size_t *len) {
    FILE *f = fopen(path, "rb");
    *buf = NULL;
    *len = 0;
    if (!f) return -1;
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    *buf = size > 0 ? malloc((size_t)size) : NULL;
    int ok = *buf && fread(*buf, 1, (size_t)size, f) == (size_t)size;
    fclose(f);
    if (!ok) {
        free(*buf);
        *buf = NULL;
        return -1;
    }
    *len = (size_t)size;
    return 0;
}

/* The fixture photo name (from $OUTFALL_FIXTURES/photos) into *buf. Returns 0 or -1. */
static REL_UNUSED int rel_fixture(const char *name, uint8_t **buf, size_t *len) {
    const char *dir = getenv("OUTFALL_FIXTURES");
    char path[1024];
    snprintf(path, sizeof path, "%s/photos/%s", dir && *dir ? dir : "tests/fixtures", name);
    if (rel_read_file(path, buf, len) == 0) return 0;
    fprintf(stderr, "rel: cannot read the fixture %s: %s\n", path, strerror(errno));
    return -1;
}

/* A copy of the JPEG src with a comment (COM) segment holding tag inserted before its first
 * scan, so each copy is another photo (another hash) with the same picture and EXIF. *out is
 * malloc'd. Returns 0, or -1 when src is not a JPEG this understands. */
static REL_UNUSED int rel_jpeg_unique(const uint8_t *src, size_t len, const char *tag,
                                      uint8_t **out, size_t *out_len) {
    size_t at = 2;
    if (len < 4 || src[0] != 0xFF || src[1] != 0xD8) return -1;
    while (at + 4 <= len && src[at] == 0xFF && src[at + 1] != 0xDA)
        at += 2 + ((size_t)src[at + 2] << 8 | src[at + 3]);
    if (at + 4 > len || src[at] != 0xFF) return -1;
    size_t n = strlen(tag), seg = 2 + n;
    *out = malloc(len + 2 + seg);
    if (!*out) return -1;
    memcpy(*out, src, at);
    uint8_t head[4] = {0xFF, 0xFE, (uint8_t)(seg >> 8), (uint8_t)seg};
    memcpy(*out + at, head, 4);
    memcpy(*out + at + 4, tag, n);
    memcpy(*out + at + 4 + n, src + at, len - at);
    *out_len = len + 2 + seg;
    return 0;
}

/* PUT /v1/photos/{hash} of bytes as token. Returns the status (0: no answer); the error, if
 * any, into err (may be NULL). */
static REL_UNUSED long rel_photo_put(const th_server *s, const char *token, const char *hash,
                                     const uint8_t *bytes, size_t len, th_error *err) {
    char path[128];
    snprintf(path, sizeof path, "/v1/photos/%s", hash);
    th_request rq = {.method = "PUT",
                     .path = path,
                     .content_type = "image/jpeg",
                     .accept = TH_PB,
                     .token = token,
                     .body = bytes,
                     .len = len};
    th_response r;
    long st = th_http(s, &rq, &r);
    if (err) {
        memset(err, 0, sizeof *err);
        if (st >= 300) th_error_decode(&r, err);
    }
    th_response_free(&r);
    return st;
}

/* GET /v1/photos/{hash} as token: 1 when it answers 200 with bytes whose BLAKE2b-256 is hash,
 * 0 when it answers otherwise (printed). */
static REL_UNUSED int rel_photo_matches(const th_server *s, const char *token, const char *hash) {
    char path[128], got[65] = "";
    snprintf(path, sizeof path, "/v1/photos/%s", hash);
    th_request rq = {.method = "GET", .path = path, .token = token};
    th_response r;
    long st = th_http(s, &rq, &r);
    if (st == 200) util_blake2b_hex(r.body, r.len, got);
    th_response_free(&r);
    if (st == 200 && strcmp(got, hash) == 0) return 1;
    fprintf(stderr, "rel: GET %s answered %ld, bytes hashing to %s\n", path, st, got);
    return 0;
}

/* What rel_photo_store found. */
typedef struct rel_store_check {
    long rows;     /* photos rows */
    long verified; /* rows whose file is there with the right size and hash */
    long orphans;  /* whole files named by their hash with no row (a crash between the
                      rename and the commit): not visible, a retry records them */
    long temp;     /* other files under photos/ (temporary names): not visible */
    long bad;      /* rows without a good file, or hash-named files with other bytes */
    char first_bad[256];
} rel_store_check;

static rel_store_check *rel_walk_check;
static sqlite3 *rel_walk_db;

static REL_UNUSED int rel_walk_entry(const char *path, const struct stat *st, int flag,
                                     struct FTW *ftw) {
    (void)st;
    if (flag != FTW_F) return 0;
    const char *name = path + ftw->base;
    rel_store_check *c = rel_walk_check;
    if (!util_hash_hex_valid(name)) {
        c->temp++;
        return 0;
    }
    char hex[65];
    int64_t size;
    sync_error err;
    int row = rel_db_int(rel_walk_db, "SELECT count(*) FROM photos WHERE hash = ?1", name) == 1;
    if (backup_file_digest(path, hex, &size, &err) != 0 || strcmp(hex, name) != 0) {
        if (c->bad++ == 0)
            snprintf(c->first_bad, sizeof c->first_bad, "%s holds other bytes", path);
    } else if (!row) {
        c->orphans++;
    }
    return 0;
}

/* Checks data's photo store against its photos table: every row's file is there, whole, with
 * its hash; every file named by a hash holds those bytes. Returns 0 when nothing is bad. */
static REL_UNUSED int rel_photo_store(const char *data, rel_store_check *c) {
    memset(c, 0, sizeof *c);
    sqlite3 *db = rel_db_open(data);
    if (!db) return -1;
    sqlite3_stmt *st = NULL;
    char photos[600];
    snprintf(photos, sizeof photos, "%s/photos", data);
    if (sqlite3_prepare_v2(db, "SELECT hash, size FROM photos", -1, &st, NULL) == SQLITE_OK) {
        while (sqlite3_step(st) == SQLITE_ROW) {
            const char *hash = (const char *)sqlite3_column_text(st, 0);
            char path[800], hex[65];
            int64_t size = -1;
            sync_error err;
            c->rows++;
            backup_photo_path(photos, hash, path, sizeof path);
            if (backup_file_digest(path, hex, &size, &err) == 0 && strcmp(hex, hash) == 0 &&
                size == sqlite3_column_int64(st, 1))
                c->verified++;
            else if (c->bad++ == 0)
                snprintf(c->first_bad, sizeof c->first_bad, "photo %s: no good file", hash);
        }
    }
    sqlite3_finalize(st);
    rel_walk_check = c;
    rel_walk_db = db;
    nftw(photos, rel_walk_entry, 16, FTW_PHYS);
    sqlite3_close(db);
    return c->bad ? -1 : 0;
}

/* ---- outfallctl ---- */

/* Runs outfallctl (env OUTFALLCTL) with args (NULL-terminated, without argv[0]); its stdout and
 * stderr go to out[cap] (truncated) and are echoed. Returns its exit status, or -1. */
static REL_UNUSED int rel_ctl(char *out, size_t cap, const char *const *args) {
    const char *bin = getenv("OUTFALLCTL");
    if (!bin || !*bin) bin = "build/asan/outfallctl";
    int fds[2];
    if (pipe(fds) != 0) return -1;
    char *argv[16];
    int argc = 0;
    argv[argc++] = (char *)bin;
    for (int i = 0; args[i] && argc < 15; i++)
        argv[argc++] = (char *)args[i];
    argv[argc] = NULL;
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fds[1], 1);
        dup2(fds[1], 2);
        close(fds[0]);
        close(fds[1]);
        execv(bin, argv);
        _exit(127);
    }
    close(fds[1]);
    size_t used = 0;
    char buf[4096];
    ssize_t n;
    while ((n = read(fds[0], buf, sizeof buf)) > 0) {
        fwrite(buf, 1, (size_t)n, stdout);
        size_t take = used + (size_t)n < cap ? (size_t)n : cap - used - 1;
        memcpy(out + used, buf, take);
        used += take;
    }
    out[used] = '\0';
    fflush(stdout);
    close(fds[0]);
    int status = 0;
    if (pid < 0 || waitpid(pid, &status, 0) != pid) return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

#endif
