/* fieldday: the 5 pm benchmark. Every surveyor gets back in range and syncs a day's work at once.
 *
 * Each run: a fresh outfalld on a fresh data folder; set-up (untimed): the admin seeds the shared
 * outfalls and the pull division's records through POST /v1/sync, creates one surveyor per phone
 * and logs each in (argon2id is slow on purpose), and learns the feed's head. Then the field day
 * (timed, phase by phase, every phone at once up to --concurrency): enroll the phone's device;
 * ask which photos are missing and PUT them; send the signed batches (some twice); pull the feed.
 * Then a new phone pulls its division's records on the quiet server. The server stops, and the two
 * baselines run on the same disk. Each figure is the median over --runs runs. */
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "bench/bench.h"
#include "client/sign.h"
#include "common/util.h"

enum { MAX_PAGES = 100000, SETUP_THREADS = 4 };

/* ---- a pool of threads playing phones ---- */

typedef struct phase {
    const bench_opts *opts;
    bench_phone *phones;
    int n;
    atomic_int next;
    const char *url;
    void (*play)(struct phase *ph, bench_phone *p);
    const bench_fixture *fx;
    double t0; /* when the phase started */
} phase;

static void *phase_worker(void *arg) {
    phase *ph = arg;
    for (;;) {
        int i = atomic_fetch_add(&ph->next, 1);
        if (i >= ph->n) break;
        ph->play(ph, &ph->phones[i]);
    }
    return NULL;
}

/* Runs play for every phone, at most threads at once. Returns the wall time in seconds. */
static double run_phase(phase *ph, int threads, void (*play)(phase *, bench_phone *)) {
    if (threads > ph->n) threads = ph->n;
    if (threads < 1) threads = 1;
    pthread_t *t = calloc((size_t)threads, sizeof *t);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 512 * 1024);
    atomic_store(&ph->next, 0);
    ph->play = play;
    double t0 = ph->t0 = bench_now();
    int started = 0;
    for (int i = 0; t && i < threads; i++)
        if (pthread_create(&t[i], &attr, phase_worker, ph) == 0) started++;
    if (started == 0) phase_worker(ph);
    for (int i = 0; i < started; i++)
        pthread_join(t[i], NULL);
    double dt = bench_now() - t0;
    pthread_attr_destroy(&attr);
    free(t);
    return dt;
}

static void tally_error(bench_phone *p, const char *what, long status) {
    p->t.errors++;
    if (!p->t.first_error[0]) {
        char code[48] = "";
        if (status) bench_error_code(&p->conn, code, sizeof code);
        snprintf(p->t.first_error, sizeof p->t.first_error, "%s: %ld %s", what, status, code);
    }
}

static void add_latency(bench_tally *t, double ms) {
    if (t->n_lat == t->cap_lat) {
        size_t cap = t->cap_lat ? 2 * t->cap_lat : 16;
        double *grown = realloc(t->lat_ms, cap * sizeof *grown);
        if (!grown) return;
        t->lat_ms = grown;
        t->cap_lat = cap;
    }
    t->lat_ms[t->n_lat++] = ms;
}

/* ---- set-up ---- */

static void play_create_user(phase *ph, bench_phone *p) {
    bench_conn *admin = &p->conn; /* the admin's token, copied in for set-up */
    Outfall__V1__User u = OUTFALL__V1__USER__INIT;
    char *divs[1] = {(char *)p->division};
    u.username = p->username;
    u.password = p->password;
    u.has_role = 1;
    u.role = OUTFALL__V1__ROLE__ROLE_SURVEYOR;
    u.n_divisions = 1;
    u.divisions = divs;
    long st = bench_call(admin, "POST", "/v1/users", &u.base, NULL, NULL);
    if (st != 201) tally_error(p, "create user", st);
    (void)ph;
}

static void play_login(phase *ph, bench_phone *p) {
    Outfall__V1__LoginRequest rq = OUTFALL__V1__LOGIN_REQUEST__INIT;
    Outfall__V1__LoginResponse *resp = NULL;
    rq.username = p->username;
    rq.password = p->password;
    p->conn.token[0] = '\0';
    long st = bench_call(&p->conn, "POST", "/v1/auth/login", &rq.base,
                         &outfall__v1__login_response__descriptor, (ProtobufCMessage **)&resp);
    if (st == 200 && resp && resp->token)
        util_strlcpy(p->conn.token, resp->token, sizeof p->conn.token);
    else
        tally_error(p, "login", st);
    if (resp) outfall__v1__login_response__free_unpacked(resp, NULL);
    (void)ph;
}

/* Pulls the feed after *cursor until the end, as conn. Returns the entries pulled, or -1. */
static int64_t pull_all(bench_conn *c, int64_t *cursor) {
    int64_t entries = 0;
    for (int page = 0; page < MAX_PAGES; page++) {
        char path[96];
        snprintf(path, sizeof path, "/v1/changes?since=%lld&limit=1000", (long long)*cursor);
        Outfall__V1__ChangesResponse *r = NULL;
        long st = bench_call(c, "GET", path, NULL, &outfall__v1__changes_response__descriptor,
                             (ProtobufCMessage **)&r);
        if (st != 200 || !r) {
            if (r) outfall__v1__changes_response__free_unpacked(r, NULL);
            return -1;
        }
        entries += (int64_t)r->n_feed;
        if (r->has_next_cursor) *cursor = r->next_cursor;
        int more = r->has_more && r->more && r->n_feed > 0;
        outfall__v1__changes_response__free_unpacked(r, NULL);
        if (!more) return entries;
    }
    return entries;
}

/* Set-up batches through the one write path (bench.h). */
int bench_send_setup(bench_conn *admin, Outfall__V1__SyncRequest *reqs, int n,
                     const uint8_t sk[64]) {
    long st;
    for (int b = 0; b < n; b++) {
        Outfall__V1__SyncRequest *q = &reqs[b];
        q->has_since = 1;
        q->since = 0;
        q->has_pull_limit = 1;
        q->pull_limit = 1;
        uint8_t *body = NULL;
        size_t len = 0;
        char *sig = NULL;
        if (client_sign_batch(q, 0, sk, &body, &len, &sig) != 0) return -1;
        st = bench_http(admin, "POST", "/v1/sync", BENCH_PB, body, len, sig);
        free(sig);
        free(body);
        Outfall__V1__SyncResponse *r =
            st == 200 ? outfall__v1__sync_response__unpack(NULL, admin->answer.body.len,
                                                           admin->answer.body.data)
                      : NULL;
        int bad = !r;
        for (size_t i = 0; r && i < r->n_results; i++)
            bad |= r->results[i]->status != OUTFALL__V1__CHANGE_STATUS__CHANGE_STATUS_APPLIED;
        if (r) outfall__v1__sync_response__free_unpacked(r, NULL);
        if (bad) {
            char code[48] = "";
            bench_error_code(admin, code, sizeof code);
            fprintf(stderr, "bench: seed batch %d: %ld %s (or a change not APPLIED)\n", b, st,
                    code);
            return -1;
        }
    }
    return 0;
}

/* The admin's seed through the one write path. Returns 0 or -1. */
static int seed(const bench_opts *opts, bench_conn *admin, const bench_world *w) {
    char id[48];
    uint8_t pk[32], sk[64];
    bench_seed_device(opts, id, pk, sk);
    long st = bench_enroll(admin, id, pk);
    if (st != 201) {
        fprintf(stderr, "bench: enroll the seeding device: %ld\n", st);
        return -1;
    }
    return bench_send_setup(admin, w->seed, w->n_seed, sk);
}

/* ---- the field day ---- */

static void play_enroll(phase *ph, bench_phone *p) {
    long st = bench_enroll(&p->conn, p->device_id, p->pk);
    if (st != 201) tally_error(p, "enroll", st);
    (void)ph;
}

static void play_photos(phase *ph, bench_phone *p) {
    if (p->n_photos == 0) return;
    Outfall__V1__PhotoHashes ask = OUTFALL__V1__PHOTO_HASHES__INIT;
    char **hashes = calloc((size_t)p->n_photos, sizeof *hashes);
    if (!hashes) return;
    for (int k = 0; k < p->n_photos; k++)
        hashes[k] = p->photos[k].hash;
    ask.hashes = hashes;
    ask.n_hashes = (size_t)p->n_photos;
    Outfall__V1__PhotoHashes *missing = NULL;
    long st = bench_call(&p->conn, "POST", "/v1/photos/missing", &ask.base,
                         &outfall__v1__photo_hashes__descriptor, (ProtobufCMessage **)&missing);
    free(hashes);
    if (st != 200 || !missing) {
        tally_error(p, "photos/missing", st);
        return;
    }
    p->t.photos_missing += (int64_t)missing->n_hashes;
    uint8_t *buf = NULL;
    size_t cap = 0;
    for (size_t m = 0; m < missing->n_hashes; m++) {
        const bench_photo *photo = NULL;
        for (int k = 0; k < p->n_photos && !photo; k++)
            if (strcmp(p->photos[k].hash, missing->hashes[m]) == 0) photo = &p->photos[k];
        if (!photo) continue;
        if (photo->len > cap) {
            free(buf);
            cap = photo->len;
            buf = malloc(cap);
            if (!buf) break;
        }
        bench_photo_bytes(ph->fx, photo, buf);
        char path[128];
        snprintf(path, sizeof path, "/v1/photos/%s", photo->hash);
        st = bench_http(&p->conn, "PUT", path, "image/jpeg", buf, photo->len, NULL);
        if (st == 201 || st == 200 || st == 204) {
            p->t.photos_uploaded++;
            p->t.photo_bytes += (int64_t)photo->len;
        } else {
            tally_error(p, "PUT photo", st);
        }
    }
    free(buf);
    outfall__v1__photo_hashes__free_unpacked(missing, NULL);
}

/* Sends one batch (body already signed); records latency and, unless replay, the results. */
static void send_batch(bench_phone *p, const uint8_t *body, size_t len, const char *sig,
                       size_t n_changes, int replay) {
    double t0 = bench_now();
    long st = bench_http(&p->conn, "POST", "/v1/sync", BENCH_PB, body, len, sig);
    add_latency(&p->t, (bench_now() - t0) * 1000.0);
    p->t.batches_sent++;
    if (replay) p->t.replays++;
    Outfall__V1__SyncResponse *r =
        st == 200 ? outfall__v1__sync_response__unpack(NULL, p->conn.answer.body.len,
                                                       p->conn.answer.body.data)
                  : NULL;
    if (!r) {
        tally_error(p, "sync", st);
        return;
    }
    if (!replay) {
        p->t.changes_sent += (int64_t)n_changes;
        for (size_t i = 0; i < r->n_results; i++)
            if ((unsigned)r->results[i]->status < 8) p->t.statuses[r->results[i]->status]++;
    }
    if (r->has_next_cursor && r->next_cursor > p->cursor) p->cursor = r->next_cursor;
    outfall__v1__sync_response__free_unpacked(r, NULL);
}

static void play_sync(phase *ph, bench_phone *p) {
    /* With --arrival-s, the phone comes back in range at its own moment of the window. */
    for (double wait; (wait = ph->t0 + p->arrival - bench_now()) > 0;) {
        struct timespec ts = {(time_t)wait, (long)((wait - (double)(time_t)wait) * 1e9)};
        nanosleep(&ts, NULL);
    }
    for (int b = 0; b < p->n_batches; b++) {
        Outfall__V1__SyncRequest *q = &p->batches[b].req;
        q->since = p->cursor;
        uint8_t *body = NULL;
        size_t len = 0;
        char *sig = NULL;
        if (client_sign_batch(q, 0, p->sk, &body, &len, &sig) != 0) return;
        send_batch(p, body, len, sig, q->n_changes, 0);
        /* The phone lost the answer and sends the very same request again. */
        if (p->batches[b].replay) send_batch(p, body, len, sig, q->n_changes, 1);
        free(sig);
        free(body);
    }
    (void)ph;
}

static void play_pull(phase *ph, bench_phone *p) {
    int64_t n = pull_all(&p->conn, &p->cursor);
    if (n < 0)
        tally_error(p, "pull", 0);
    else
        p->t.feed_entries += n;
    (void)ph;
}

/* ---- one run ---- */

/* This process's user + system CPU seconds so far. */
static double self_cpu_s(void) {
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0) return 0;
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static int profiling(const bench_opts *opts, const char *name) {
    return opts->profile && strcmp(opts->profile, name) == 0;
}

/* run_phase, under perf when --profile names this phase. *peak_mb gets the server's peak RSS
 * during the phase (its VmHWM, reset at the start when the kernel lets us). */
static double timed_phase(const bench_opts *opts, phase *ph, pid_t server, const char *name,
                          void (*play)(phase *, bench_phone *), double *peak_mb) {
    long before = bench_proc_hwm_kb(server);
    int reset = bench_proc_reset_hwm(server) == 0;
    pid_t perf = profiling(opts, name) ? bench_profile_start(server, opts->profile_out) : 0;
    double dt = run_phase(ph, opts->concurrency, play);
    bench_profile_stop(perf);
    long hwm = bench_proc_hwm_kb(server);
    *peak_mb = (double)(reset || hwm > before ? hwm : before) / 1024.0;
    return dt;
}

int bench_cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double percentile(const double *sorted, size_t n, double q) {
    if (n == 0) return 0;
    size_t i = (size_t)(q * (double)(n - 1) + 0.5);
    return sorted[i < n ? i : n - 1];
}

static int run_once(const bench_opts *opts, const bench_world *w, bench_phone *phones,
                    const bench_fixture *fx, int run, run_result *res) {
    memset(res, 0, sizeof *res);
    bench_server srv;
    int rc = -1;
    bench_conn admin = {0}, newphone = {0};
    char newphone_user[48], newphone_password[48];
    snprintf(newphone_user, sizeof newphone_user, "bench-newphone");
    snprintf(newphone_password, sizeof newphone_password, "pw-new-phone-%llu",
             (unsigned long long)opts->seed);
    bench_rng arrivals = {opts->seed ^ 0xa77a1ULL};
    for (int i = 0; i < opts->phones; i++) {
        bench_phone *p = &phones[i];
        free(p->t.lat_ms);
        memset(&p->t, 0, sizeof p->t);
        p->cursor = 0;
        p->arrival = opts->arrival_s * bench_uniform(&arrivals);
    }
    if (bench_server_start(opts, &srv) < 0) return -1;
    double t_setup = bench_now();
    if (bench_conn_open(&admin, srv.url) < 0 || bench_conn_open(&newphone, srv.url) < 0) goto done;

    /* Set-up, untimed. */
    Outfall__V1__LoginRequest lr = OUTFALL__V1__LOGIN_REQUEST__INIT;
    Outfall__V1__LoginResponse *login = NULL;
    lr.username = "admin";
    lr.password = BENCH_ADMIN_PASSWORD;
    long st = bench_call(&admin, "POST", "/v1/auth/login", &lr.base,
                         &outfall__v1__login_response__descriptor, (ProtobufCMessage **)&login);
    if (st != 200 || !login || !login->token) {
        fprintf(stderr, "bench: admin login: %ld\n", st);
        if (login) outfall__v1__login_response__free_unpacked(login, NULL);
        goto done;
    }
    util_strlcpy(admin.token, login->token, sizeof admin.token);
    outfall__v1__login_response__free_unpacked(login, NULL);
    if (seed(opts, &admin, w) < 0) goto done;
    if (opts->verbose) fprintf(stderr, "run %d: seeded in %.1f s\n", run, bench_now() - t_setup);

    phase ph;
    memset(&ph, 0, sizeof ph);
    ph.opts = opts;
    ph.phones = phones;
    ph.n = opts->phones;
    ph.url = srv.url;
    ph.fx = fx;
    for (int i = 0; i < opts->phones; i++) {
        if (bench_conn_open(&phones[i].conn, srv.url) < 0) goto done;
        bench_conn_source(&phones[i].conn, i);
        util_strlcpy(phones[i].conn.token, admin.token, sizeof phones[i].conn.token);
    }
    run_phase(&ph, SETUP_THREADS, play_create_user);
    run_phase(&ph, SETUP_THREADS, play_login);
    {
        Outfall__V1__User u = OUTFALL__V1__USER__INIT;
        char *divs[1] = {(char *)w->pull_division};
        u.username = newphone_user;
        u.password = newphone_password;
        u.has_role = 1;
        u.role = OUTFALL__V1__ROLE__ROLE_SURVEYOR;
        u.n_divisions = 1;
        u.divisions = divs;
        st = bench_call(&admin, "POST", "/v1/users", &u.base, NULL, NULL);
        lr.username = newphone_user;
        lr.password = newphone_password;
        login = NULL;
        long st2 = st == 201 ? bench_call(&newphone, "POST", "/v1/auth/login", &lr.base,
                                          &outfall__v1__login_response__descriptor,
                                          (ProtobufCMessage **)&login)
                             : 0;
        if (st2 != 200 || !login || !login->token) {
            fprintf(stderr, "bench: the new phone's user: %ld / %ld\n", st, st2);
            if (login) outfall__v1__login_response__free_unpacked(login, NULL);
            goto done;
        }
        util_strlcpy(newphone.token, login->token, sizeof newphone.token);
        outfall__v1__login_response__free_unpacked(login, NULL);
    }
    int64_t setup_errors = 0;
    for (int i = 0; i < opts->phones; i++)
        setup_errors += phones[i].t.errors;
    if (setup_errors) {
        for (int i = 0; i < opts->phones; i++)
            if (phones[i].t.first_error[0]) {
                fprintf(stderr, "bench: set-up failed for %lld phone(s), e.g. %s\n",
                        (long long)setup_errors, phones[i].t.first_error);
                break;
            }
        goto done;
    }
    /* Every phone pulled this morning: its cursor is the feed's head. */
    int64_t head = 0;
    if (pull_all(&admin, &head) < 0) {
        fprintf(stderr, "bench: the admin's pull of the feed failed\n");
        goto done;
    }
    for (int i = 0; i < opts->phones; i++)
        phones[i].cursor = head;
    res->setup_s = bench_now() - t_setup;
    res->rss_all_mb = (double)bench_proc_hwm_kb(srv.pid) / 1024.0;
    if (opts->verbose)
        fprintf(stderr, "run %d: set-up %.1f s (server peak so far %.0f MB)\n", run, res->setup_s,
                res->rss_all_mb);

    /* The field day, timed phase by phase. */
    res->hwm_reset = bench_proc_reset_hwm(srv.pid) == 0;
    double loads[1] = {0};
    if (getloadavg(loads, 1) == 1) res->load1 = loads[0];
    long overflows0 = bench_listen_overflows();
    for (int i = 0; i < opts->phones; i++)
        phones[i].conn.resent = 0;
    double cpu0 = bench_proc_cpu_s(srv.pid), client0 = self_cpu_s(), c;
    res->enroll_s = timed_phase(opts, &ph, srv.pid, "enroll", play_enroll, &res->rss_phase[0]);
    res->cpu_enroll = (c = bench_proc_cpu_s(srv.pid)) - cpu0;
    res->photo_s = timed_phase(opts, &ph, srv.pid, "photos", play_photos, &res->rss_phase[1]);
    res->cpu_photos = bench_proc_cpu_s(srv.pid) - c;
    c = bench_proc_cpu_s(srv.pid);
    double client_sync0 = self_cpu_s();
    res->sync_s = timed_phase(opts, &ph, srv.pid, "sync", play_sync, &res->rss_phase[2]);
    res->cpu_sync = bench_proc_cpu_s(srv.pid) - c;
    res->client_cpu_sync = self_cpu_s() - client_sync0;
    c = bench_proc_cpu_s(srv.pid);
    res->pull_s = timed_phase(opts, &ph, srv.pid, "pull", play_pull, &res->rss_phase[3]);
    res->cpu_pull = bench_proc_cpu_s(srv.pid) - c;
    res->cpu_s = bench_proc_cpu_s(srv.pid) - cpu0;
    res->client_cpu_s = self_cpu_s() - client0;
    long overflows1 = bench_listen_overflows();
    res->overflows = overflows0 >= 0 && overflows1 >= 0 ? overflows1 - overflows0 : -1;
    res->rss_mb = 0;
    for (int i = 0; i < 4; i++)
        if (res->rss_phase[i] > res->rss_mb) res->rss_mb = res->rss_phase[i];
    if (opts->verbose)
        fprintf(stderr, "run %d: enroll %.2f s, photos %.2f s, sync %.2f s, pull %.2f s\n", run,
                res->enroll_s, res->photo_s, res->sync_s, res->pull_s);

    /* A new phone of the pull division, on the quiet server. */
    for (int i = 0; i < opts->phones; i++)
        bench_conn_close(&phones[i].conn);
    int64_t cursor = 0;
    pid_t perf = profiling(opts, "newpull") ? bench_profile_start(srv.pid, opts->profile_out) : 0;
    double t0 = bench_now();
    res->newpull_records = pull_all(&newphone, &cursor);
    res->newpull_s = bench_now() - t0;
    bench_profile_stop(perf);
    double hwm = (double)bench_proc_hwm_kb(srv.pid) / 1024.0;
    if (hwm > res->rss_mb) res->rss_mb = hwm;
    if (res->rss_mb > res->rss_all_mb) res->rss_all_mb = res->rss_mb;

    /* Tally. */
    size_t n_lat = 0;
    for (int i = 0; i < opts->phones; i++) {
        bench_tally *t = &phones[i].t;
        res->changes += t->changes_sent;
        res->batches += t->batches_sent;
        res->replays += t->replays;
        res->errors += t->errors;
        res->resent += phones[i].conn.resent;
        res->photos += t->photos_uploaded;
        res->photo_bytes += t->photo_bytes;
        res->feed_entries += t->feed_entries;
        for (int s = 0; s < 8; s++)
            res->statuses[s] += t->statuses[s];
        n_lat += t->n_lat;
        if (t->first_error[0] && opts->verbose)
            fprintf(stderr, "run %d: phone %d: %lld error(s), first %s\n", run, i,
                    (long long)t->errors, t->first_error);
    }
    double *lat = calloc(n_lat ? n_lat : 1, sizeof *lat);
    size_t k = 0;
    for (int i = 0; lat && i < opts->phones; i++)
        for (size_t j = 0; j < phones[i].t.n_lat; j++)
            lat[k++] = phones[i].t.lat_ms[j];
    if (lat) {
        qsort(lat, k, sizeof *lat, bench_cmp_double);
        res->p50 = percentile(lat, k, 0.50);
        res->p95 = percentile(lat, k, 0.95);
        res->p99 = percentile(lat, k, 0.99);
        res->lat_max = k ? lat[k - 1] : 0;
    }
    free(lat);
    res->changes_per_s = res->sync_s > 0 ? (double)res->changes / res->sync_s : 0;
    res->batches_per_s = res->sync_s > 0 ? (double)res->batches / res->sync_s : 0;
    res->photo_mb_s = res->photo_s > 0 ? (double)res->photo_bytes / 1e6 / res->photo_s : 0;

    /* The server stops; the baselines run alone on the same disk. */
    if (bench_server_stop(&srv) < 0) goto done;
    char src[1024], dst[1024], dir[1024], seeder[48];
    uint8_t pk[32], sk[64];
    bench_seed_device(opts, seeder, pk, sk);
    snprintf(src, sizeof src, "%s/outfall.db", srv.data);
    snprintf(dir, sizeof dir, "%s/baseline", srv.root);
    snprintf(dst, sizeof dst, "%s/baseline.db", srv.root);
    if (bench_baseline_sqlite(src, dst, seeder, &res->base_changes, &res->base_batches,
                              &res->base_sql_s) < 0)
        goto done;
    if (bench_baseline_photos(dir, fx, phones, opts->phones, &res->base_photo_bytes,
                              &res->base_photo_s) < 0)
        goto done;
    res->base_sql_per_s = res->base_sql_s > 0 ? (double)res->base_changes / res->base_sql_s : 0;
    res->base_photo_mb_s =
        res->base_photo_s > 0 ? (double)res->base_photo_bytes / 1e6 / res->base_photo_s : 0;
    res->ratio_sql = res->base_sql_per_s > 0 ? res->changes_per_s / res->base_sql_per_s : 0;
    res->ratio_photo = res->base_photo_mb_s > 0 ? res->photo_mb_s / res->base_photo_mb_s : 0;
    rc = 0;
done:
    if (rc != 0 && srv.pid) bench_server_log_tail(&srv);
    bench_server_stop(&srv);
    bench_server_clean(&srv, opts->keep);
    for (int i = 0; i < opts->phones; i++)
        bench_conn_close(&phones[i].conn);
    bench_conn_close(&admin);
    bench_conn_close(&newphone);
    return rc;
}

int main(int argc, char **argv) {
    bench_opts opts;
    if (bench_parse_flags(argc, argv, &opts) < 0) return 2;
    if (sodium_init() < 0 || curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fprintf(stderr, "fieldday: libsodium or libcurl failed to start\n");
        return 1;
    }
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    bench_fixture *fx = NULL;
    int n_fx = 0;
    if (bench_fixtures_load(opts.fixtures, &fx, &n_fx) < 0) return 1;
    bench_print_header(&opts, argc, argv, fx, n_fx);

    bench_world w;
    memset(&w, 0, sizeof w);
    bench_phone *phones = NULL;
    double t0 = bench_now();
    int field_day = !opts.big_only;
    if (field_day && bench_world_build(&opts, &w, fx, n_fx, &phones) < 0) return 1;
    if (opts.verbose && field_day) fprintf(stderr, "scenario built in %.1f s\n", bench_now() - t0);

    run_result res[BENCH_MAX_RUNS];
    int n = 0, rc = 0;
    for (int run = 1; field_day && run <= opts.runs; run++) {
        double t = bench_now();
        if (run_once(&opts, &w, phones, fx, run, &res[n]) < 0) {
            fprintf(stderr, "fieldday: run %d failed\n", run);
            rc = 1;
            break;
        }
        n++;
        fprintf(stderr, "run %d/%d done in %.0f s\n", run, opts.runs, bench_now() - t);
    }
    if (n > 0) bench_print_table(&opts, res, n);
    if (rc == 0 && opts.big_docs > 0 && bench_big_batch(&opts) < 0) rc = 1;
    printf("\ntotal time %.0f s\n", bench_now() - t0);
    if (field_day) bench_world_free(&w, phones, opts.phones);
    bench_fixtures_free(fx, n_fx);
    curl_global_cleanup();
    return rc;
}
