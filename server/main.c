/* outfalld: reads its configuration, prepares the data folder and the admin account, serves the
 * route table with CivetWeb, releases held batches and expires stale photo uploads in the
 * background, and stops cleanly on SIGTERM or SIGINT. */
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <civetweb.h>
#include <jansson.h>

#include "common/cores.h"
#include "common/util.h"
#include "server/admit.h"
#include "server/backups.h"
#include "server/api.h"
#include "server/config.h"
#include "server/dbpool.h"
#include "server/http.h"
#include "server/routes.h"
#include "server/workerstack.h"
#include "programme/hooks.h"
#include "sync/accounts.h"
#include "sync/batch.h"
#include "sync/photos.h"
#include "sync/prep.h"
#include "sync/store.h"
#include "sync/writer.h"

enum { EXIT_USAGE = 2 };

/* glibc heaps ("arenas") shared by the server's threads. Its default, 8 per core, lets each
 * thread keep its own heap with its own free memory: in the field-day benchmark (200 phones, 64
 * threads) the server's peak resident memory fell from 212 MB to 154 MB with 2, at the same
 * speed. With the one writing thread (sync/writer.c) sharing one of 2 arenas with half of the 32
 * request threads, it spent 9-12 % of its time waiting for that arena's lock under SQLite's
 * mallocs (500-phone field day, perf); with 8 arenas 1.7 % (4: 4.1 %, 64: none) and its samples
 * in the sync phase fell by about a sixth, for 134 MB of peak resident memory instead of 120
 * (4: 122 MB, 64: 164 MB). */
enum { MALLOC_ARENAS = 8 };

/* Blocks of this size or more get their own mapping, returned to the system when freed. Request
 * bodies (server/http.c) grow to megabytes, and glibc's default threshold rises to the largest
 * block freed (up to 32 MiB), after which freed bodies stayed in a thread's heap: RSS held 270 MB
 * after one hostile body. A fixed 256 KiB sent a big batch's body (about 400 KB for 500
 * observations), its canonical copy and its answer to fresh mappings on every request, each page
 * faulted in and unmapped again: at 1 MiB a batch's blocks come from the heap, a hostile body of
 * megabytes still has its own mapping. */
enum { MALLOC_MMAP_AT = 1024 * 1024 };

/* Free memory at the top of a heap is kept up to this much before it goes back to the system
 * (glibc's default: 128 KiB). A batch frees its megabyte or two as it ends, and with the default
 * each heap gave it back (madvise, a TLB flush on every core) only to fault it in again for the
 * next batch. At most this much a heap stays, 8 heaps; a request that held more than
 * BODY_TRIM_AFTER of body memory still trims (server/http.c). */
enum { MALLOC_TRIM_AT = 4 * 1024 * 1024 };

/* Connections the kernel holds for CivetWeb to accept (its default is 200): when every phone
 * of a team comes back in range at once, the ones past the queue are dropped and retry their
 * connect a second or more later. The kernel caps it at net.core.somaxconn. */
#define LISTEN_BACKLOG "1024"

/* The background thread that applies held batches once they have waited long enough. */
typedef struct releaser {
    const server_config *cfg;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t wake;
    int stop;
} releaser;

/* Creates path and its missing parents (like mkdir -p). Returns 0 or -1 with errno set. */
static int make_dirs(const char *path) {
    char buf[PATH_MAX];
    util_strlcpy(buf, path, sizeof buf);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(buf, 0750) < 0 && errno != EEXIST) return -1;
        *p = '/';
    }
    if (mkdir(buf, 0750) < 0 && errno != EEXIST) return -1;
    return 0;
}

/* 1 when any comma-separated entry of listen asks for TLS (CivetWeb's "s" suffix). */
static int listen_wants_tls(const char *listen) {
    for (const char *p = listen; *p;) {
        size_t len = strcspn(p, ",");
        size_t end = len;
        while (end > 0 && p[end - 1] == ' ')
            end--;
        if (end > 0 && p[end - 1] == 's') return 1;
        p += len;
        if (*p == ',') p++;
    }
    return 0;
}

/* The host part of listen's first entry ("127.0.0.1" of "127.0.0.1:8080"; "0.0.0.0" when it
 * names only a port) into out[cap]. */
static void listen_host(const char *listen, char *out, size_t cap) {
    size_t len = strcspn(listen, ",");
    const char *start = listen[0] == '+' ? listen + 1 : listen;
    const char *colon = NULL;
    for (const char *p = start; p < listen + len; p++)
        if (*p == ':') colon = p;
    if (!colon || colon == start) {
        util_strlcpy(out, "0.0.0.0", cap);
        return;
    }
    snprintf(out, cap, "%.*s", (int)(colon - start), start);
}

/* Writes text to path through a temporary file and a rename, so readers never see it half
 * written. Returns 0 or -1 with errno set. */
static int write_atomically(const char *path, const char *text) {
    char tmp[PATH_MAX + 32];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "w");
    if (!f) return -1;
    int bad = fputs(text, f) < 0;
    bad |= fflush(f) != 0;
    bad |= fsync(fileno(f)) != 0;
    bad |= fclose(f) != 0;
    if (bad || rename(tmp, path) < 0) {
        int saved = errno;
        unlink(tmp);
        errno = saved;
        return -1;
    }
    return 0;
}

/* Deletes the partial photo uploads untouched past --upload-expiry (those made with a report's
 * token: past --report-upload-expiry, or once the token expired), and once a minute the uploads
 * folder's stray files older than --upload-expiry. Failures are logged, never fatal. */
static void expire_uploads(store *s, const server_config *cfg, unsigned tick) {
    photos_env env = {.photos_dir = cfg->photos_dir,
                      .uploads_dir = cfg->uploads_dir,
                      .max_bytes = cfg->max_photo_bytes,
                      .cfg = &cfg->sync,
                      .report_expiry_ms = cfg->report_upload_expiry_s * 1000};
    sync_error err = {0};
    int n =
        photos_expire(s, &env, util_now_ms(), cfg->upload_expiry_s * 1000, tick % 60 == 0, &err);
    if (n > 0) fprintf(stderr, "expired %d stale photo upload(s)\n", n);
    if (n < 0) fprintf(stderr, "expiring photo uploads failed: %s\n", err.message);
}

/* Every second, applies the held batches past their wait, expires stale photo uploads and
 * checkpoints the WAL, with the thread's own store. */
static void *releaser_main(void *arg) {
    releaser *rl = arg;
    store *s = NULL;
    sync_error err;
    int last_rc = 0;
    unsigned tick = 0;
    pthread_mutex_lock(&rl->mu);
    while (!rl->stop) {
        struct timespec at;
        clock_gettime(CLOCK_MONOTONIC, &at);
        at.tv_sec += 1;
        pthread_cond_timedwait(&rl->wake, &rl->mu, &at);
        if (rl->stop) break;
        pthread_mutex_unlock(&rl->mu);
        int rc = s ? 0 : store_open(rl->cfg->db_path, &s, &err);
        if (rc == 0) rc = batch_release_expired(s, &rl->cfg->sync, util_now_ms());
        if (rc > 0) fprintf(stderr, "released %d held batch(es) past their wait\n", rc);
        if (rc < 0 && rc != last_rc)
            fprintf(stderr, "releasing held batches failed (%d)%s%s\n", rc, s ? "" : ": ",
                    s ? "" : err.message);
        last_rc = rc < 0 ? rc : 0;
        if (s) expire_uploads(s, rl->cfg, tick++);
        if (s && store_checkpoint(s, &err) < 0)
            fprintf(stderr, "checkpoint failed: %s\n", err.message);
        pthread_mutex_lock(&rl->mu);
    }
    pthread_mutex_unlock(&rl->mu);
    store_close(s);
    return NULL;
}

/* Starts rl's thread for cfg. Returns 0, or -1 when the thread could not start. */
static int releaser_start(releaser *rl, const server_config *cfg) {
    pthread_condattr_t attr;
    rl->cfg = cfg;
    rl->stop = 0;
    pthread_mutex_init(&rl->mu, NULL);
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&rl->wake, &attr);
    pthread_condattr_destroy(&attr);
    return pthread_create(&rl->thread, NULL, releaser_main, rl) == 0 ? 0 : -1;
}

/* Wakes rl's thread, waits for it to close its store and end, and releases rl. */
static void releaser_stop(releaser *rl) {
    pthread_mutex_lock(&rl->mu);
    rl->stop = 1;
    pthread_cond_signal(&rl->wake);
    pthread_mutex_unlock(&rl->mu);
    pthread_join(rl->thread, NULL);
    pthread_cond_destroy(&rl->wake);
    pthread_mutex_destroy(&rl->mu);
}

/* CivetWeb's own messages (bind failures, ...) go to stderr. */
/* CivetWeb answers a few requests itself, before any route runs: an unknown method, a malformed
 * request line, headers over the limit. Those answers get our Error format too, so every non-2xx
 * answer has a machine-readable code. */
static int civetweb_error(struct mg_connection *conn, int status, const char *errmsg) {
    static const struct {
        int status;
        const char *code;
    } codes[] = {
        {400, "bad_request"},  {405, "method_not_allowed"}, {413, "body_too_large"},
        {414, "uri_too_long"}, {431, "headers_too_large"},  {500, "internal"},
        {503, "unavailable"},
    };
    const char *code = "http_error";
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
        if (codes[i].status == status) code = codes[i].code;
    json_t *e = json_pack("{s:s, s:s}", "code", code, "message",
                          errmsg && *errmsg ? errmsg : "the request could not be read");
    char *body = e ? json_dumps(e, JSON_COMPACT) : NULL;
    json_decref(e);
    if (!body) return 1; /* CivetWeb's own plain answer, then */
    mg_printf(conn,
              "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
              "Cache-Control: no-store\r\nConnection: close\r\n\r\n%s",
              status, mg_get_response_code_text(conn, status), strlen(body), body);
    free(body);
    return 0;
}

static int log_civetweb(const struct mg_connection *conn, const char *message) {
    (void)conn;
    fprintf(stderr, "civetweb: %s\n", message);
    return 1;
}

/* Creates the data folder and opens the database, applying its migrations. Returns the handle,
 * or NULL after printing why. */
static store *prepare_data(const server_config *cfg) {
    store *s = NULL;
    sync_error err = {0};
    if (make_dirs(cfg->data_dir) < 0 || make_dirs(cfg->photos_dir) < 0 ||
        make_dirs(cfg->uploads_dir) < 0) {
        fprintf(stderr, "outfalld: cannot create the folders of %s: %s\n", cfg->data_dir,
                strerror(errno));
        return NULL;
    }
    if (store_open(cfg->db_path, &s, &err) < 0) {
        fprintf(stderr, "outfalld: cannot open %s: %s\n", cfg->db_path, err.message);
        return NULL;
    }
    return s;
}

/* Makes the admin account on first start, printing its password when generated. Called once
 * the server listens, so a password shown once is never lost to a failed start. Returns 0 or -1
 * after printing why. */
static int bootstrap_admin(store *s) {
    sync_error err = {0};
    char generated[33] = "";
    int created = 0;
    const char *password = getenv("OUTFALL_ADMIN_PASSWORD");
    if (password && !password[0]) password = NULL;
    if (accounts_bootstrap_admin(s, password, generated, &created, &err) < 0) {
        fprintf(stderr, "outfalld: cannot create the admin account: %s\n", err.message);
        return -1;
    }
    if (created && password)
        printf("created admin account \"admin\" with the password from OUTFALL_ADMIN_PASSWORD\n");
    else if (created)
        printf("created admin account \"admin\" with password %s (shown once)\n", generated);
    fflush(stdout);
    sodium_memzero(generated, sizeof generated);
    return 0;
}

/* Starts CivetWeb on cfg->listen with the route table. Returns the context, or NULL after
 * printing why. */
static struct mg_context *serve_start(const server_config *cfg) {
    char threads[16], keep_alive[16], request_timeout[16], errtext[256] = "";
    unsigned errcode = 0;
    snprintf(threads, sizeof threads, "%d", cfg->threads);
    snprintf(keep_alive, sizeof keep_alive, "%d", cfg->keep_alive_ms);
    snprintf(request_timeout, sizeof request_timeout, "%d", cfg->request_timeout_s * 1000);
    /* clang-format off */
    const char *options[] = {
        "listening_ports",       cfg->listen,
        "num_threads",           threads,
        /* A request's head must be in within this since the connection was taken (CivetWeb
         * checks the whole head against it, not each read); every read and write waits at most
         * this long. A body's deadline is the server's own (--body-timeout). */
        "request_timeout_ms",    request_timeout,
        "enable_keep_alive",     "yes",
        "keep_alive_timeout_ms", keep_alive,
        "listen_backlog",        LISTEN_BACKLOG,
        "tcp_nodelay",           "1",
        /* Paths stay as sent: decoding "%00" would cut a path short and alias another file. No
         * route needs an escaped character in its path; query values are decoded one by one. */
        "decode_url",            "no",
        /* No CORS by CivetWeb: it would approve every preflight with "*". The route table
         * answers preflights for --cors-origin's origins only (server/routes.c). */
        "access_control_allow_origin",  "",
        "access_control_allow_methods", "",
        "access_control_allow_headers", "",
        NULL,
    };
    /* clang-format on */
    struct mg_callbacks cb;
    memset(&cb, 0, sizeof cb);
    cb.init_thread = http_thread_init;
    cb.init_connection = http_conn_open;
    cb.connection_close = http_conn_close;
    cb.log_message = log_civetweb;
    cb.http_error = civetweb_error;
    struct mg_init_data init = {
        .callbacks = &cb, .user_data = NULL, .configuration_options = options};
    struct mg_error_data error = {
        .code = &errcode, .text = errtext, .text_buffer_size = sizeof errtext};
    struct mg_context *ctx = mg_start2(&init, &error);
    if (!ctx) {
        fprintf(stderr, "outfalld: cannot listen on %s: %s\n", cfg->listen,
                errtext[0] ? errtext : "CivetWeb did not start");
        return NULL;
    }
    mg_set_request_handler(ctx, "/", routes_handle, (void *)cfg);
    return ctx;
}

/* Prints where the server listens and writes it to the ready file. Returns 0 or -1. */
static int announce(struct mg_context *ctx, const server_config *cfg) {
    struct mg_server_port ports[8];
    char host[200], addr[256];
    int n = mg_get_server_ports(ctx, 8, ports);
    if (n < 1) {
        fprintf(stderr, "outfalld: CivetWeb reports no listening port\n");
        return -1;
    }
    listen_host(cfg->listen, host, sizeof host);
    snprintf(addr, sizeof addr, "%s:%d", host, ports[0].port);
    printf("listening on http://%s\n", addr);
    fflush(stdout);
    if (cfg->ready_file[0] && write_atomically(cfg->ready_file, addr) < 0) {
        fprintf(stderr, "outfalld: cannot write %s: %s\n", cfg->ready_file, strerror(errno));
        return -1;
    }
    return 0;
}

int main(int argc, char **argv) {
    static server_config cfg;
    char err[1024];
    mallopt(M_ARENA_MAX, MALLOC_ARENAS);
    mallopt(M_MMAP_THRESHOLD, MALLOC_MMAP_AT);
    mallopt(M_TRIM_THRESHOLD, MALLOC_TRIM_AT);
    int rc = config_load(&cfg, argc, argv, err, sizeof err);
    if (rc == CONFIG_HELP) {
        config_usage(stdout);
        return 0;
    }
    if (rc < 0) {
        fprintf(stderr, "outfalld: %s\n", err);
        return EXIT_USAGE;
    }
    int tls = listen_wants_tls(cfg.listen);
    if (tls && !mg_check_feature(MG_FEATURES_TLS)) {
        fprintf(stderr,
                "outfalld: --listen %s asks for TLS, but this CivetWeb build has no TLS; "
                "terminate TLS in a reverse proxy in front of a loopback port\n",
                cfg.listen);
        return EXIT_USAGE;
    }
    if (tls && !(mg_init_library(MG_FEATURES_TLS) & MG_FEATURES_TLS)) {
        fprintf(stderr,
                "outfalld: --listen %s asks for TLS, but CivetWeb could not initialise it "
                "(see docs/operations.md, \"TLS\"); terminate TLS in a reverse proxy in front of a "
                "loopback port\n",
                cfg.listen);
        return EXIT_USAGE;
    }
    if (!tls) mg_init_library(0);
    if (sodium_init() < 0) {
        fprintf(stderr, "outfalld: libsodium failed to initialise\n");
        return 1;
    }
    accounts_throttle_slots(cfg.login_throttle_slots);
    accounts_init(&cfg.sync);
    programme_hooks_install(); /* the features the engine calls (sync/hooks.h) */
    workerstack_enable(cfg.stack_report);
    char cores_note[160];
    cores_init(cfg.writer_core, cores_note, sizeof cores_note);
    writer_wal_limit((int64_t)cfg.wal_limit_mb << 20);
    fprintf(stderr, "outfalld: %s\n", cores_note);
    /* The photos' bucket is checked before anything starts: wrong credentials or a missing
     * bucket stop the server with one line. */
    static photo_store photos;
    photo_store_spec spec = {cfg.photo_store,
                             cfg.photos_dir,
                             cfg.photo_store_endpoint,
                             cfg.photo_store_region,
                             cfg.photo_store_credentials,
                             cfg.photo_store_timeout_s};
    if (photo_store_open(&photos, &spec, err, sizeof err) < 0) {
        fprintf(stderr, "outfalld: 照片存储不可用 (photo store unusable): %s\n", err);
        return 1;
    }
    if (photos.s3) cfg.photos = &photos;
    if (backups_open(&cfg, err, sizeof err) < 0) {
        fprintf(stderr, "outfalld: 备份存储不可用 (backup store unusable): %s\n", err);
        photo_store_close(&photos);
        return 1;
    }
    store *main_store = prepare_data(&cfg);
    if (!main_store) return 1;
    if (dbpool_init(cfg.db_path, cfg.db_handles) < 0 ||
        admit_init(cfg.max_conns_per_addr, cfg.real_ip_header[0] != '\0', cfg.threads + 1) < 0) {
        fprintf(stderr, "outfalld: out of memory\n");
        store_close(main_store);
        return 1;
    }

    /* Signals are taken by sigwait below; every thread started from here on blocks them. */
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);
    signal(SIGPIPE, SIG_IGN);

    int exit_code = 1, releasing = 0;
    releaser rl;
    struct mg_context *ctx = serve_start(&cfg);
    if (!ctx) {
        if (tls)
            fprintf(stderr, "outfalld: outfalld takes no TLS certificate; terminate TLS in a "
                            "reverse proxy (nginx) in front of a loopback port\n");
        store_close(main_store);
        dbpool_close();
        return tls ? EXIT_USAGE : 1;
    }
    releasing = releaser_start(&rl, &cfg) == 0;
    if (!releasing) fprintf(stderr, "outfalld: cannot start the held-batch thread\n");
    if (releasing && backups_start(&cfg) < 0) {
        fprintf(stderr, "outfalld: cannot start the backup thread\n");
        releasing = 0;
        releaser_stop(&rl);
    }
    if (releasing && bootstrap_admin(main_store) == 0 && announce(ctx, &cfg) == 0) {
        int sig = 0;
        store_close(main_store);
        main_store = NULL;
        sigwait(&stop_signals, &sig);
        fprintf(stderr, "outfalld: signal %d, stopping\n", sig);
        exit_code = 0;
    }
    /* Long polls of the feed answer now rather than at their limit: woken, given up to a second
     * to write their answer before mg_stop, after which CivetWeb writes nothing more. */
    store_commits_stop();
    for (int ms = 0; ms < 1000 && api_changes_waiting() > 0; ms += 10)
        nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
    mg_stop(ctx);
    if (releasing) releaser_stop(&rl);
    backups_stop();
    writer_close();
    prep_close(); /* the batches' preparations still waiting to be freed */
    dbpool_close();
    store_close(main_store);
    photo_store_close(&photos);
    mg_exit_library();
    return exit_code;
}
