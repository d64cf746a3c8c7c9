/* The field-day benchmark (prefix bench_): starts an optimised outfalld on a free loopback port
 * with a fresh data folder, plays a field day of N phones against it over HTTP, measures, runs
 * the two baselines that bound it in the same process, and prints one table.
 *
 * Files: fieldday.c (flags, the run, the phases, the table), scenario.c (the deterministic
 * phones, batches and photos), http.c (a small libcurl client), proc.c (the server process and
 * what /proc says of it), baseline.c (raw SQLite inserts, raw photo writes).
 *
 * Conventions: functions return 0 or -1 after printing one line to stderr naming what failed;
 * HTTP calls return the status (0 when the exchange itself failed). Nothing here is a test: the
 * program prints figures, never pass/fail, and exits non-zero only when it could not measure. */
#ifndef BENCH_BENCH_H
#define BENCH_BENCH_H

#include <curl/curl.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "client/http.h"
#include "outfall/v1/outfall.pb-c.h"

#define BENCH_ADMIN_PASSWORD "bench-admin-password-0815"
#define BENCH_PB "application/x-protobuf"

/* ---- options (flags.c) ---- */

typedef struct bench_opts {
    int phones;         /* phones in the field day */
    int observations;   /* observations per phone */
    int creates;        /* new outfalls per phone */
    int edits;          /* edits of existing outfalls per phone */
    int photos;         /* photos per phone */
    int batch;          /* changes per batch */
    int concurrency;    /* phones playing at once */
    int runs;           /* each figure is the median of this many runs */
    int pull_records;   /* records in the division a new phone pulls */
    int hot;            /* shared outfalls per field division, edited by many phones */
    int dup_pct;        /* share of new outfalls placed next to an existing one */
    int replay_pct;     /* share of batches sent twice (a phone that lost the answer) */
    int arrival_s;      /* phones start their batches spread over this many seconds (0: at once) */
    int server_threads; /* --threads for outfalld; 0 = its default */
    const char *server_args[16]; /* more outfalld flags, as given */
    int n_server_args;
    uint64_t seed;           /* everything random comes from this */
    int keep;                /* keep the data folders */
    const char *profile;     /* a phase to record with perf (enroll, photos, sync, pull, newpull) */
    const char *profile_out; /* the perf.data file */
    int verbose;
    const char *outfalld; /* the server binary */
    const char *fixtures; /* folder of *.jpg photo fixtures */
    const char *tmpdir;   /* where the data folders go */
    /* The big-batch phase (bigbatch.c): days offline synced at once. */
    int big_docs;       /* observations in the phase; 0: no big-batch phase */
    int big_batch;      /* changes per SyncRequest */
    int big_devices[4]; /* the device counts measured, each run on its own server */
    int n_big_devices;
    int big_only; /* skip the field day */
} bench_opts;

/* ---- the server process (proc.c) ---- */

typedef struct bench_server {
    pid_t pid;      /* 0 when not running */
    char root[512]; /* the mkdtemp folder: data/, ready, server.log, baseline files */
    char data[600]; /* the --data folder */
    char url[96];   /* http://127.0.0.1:PORT */
} bench_server;

/* Starts outfalld on 127.0.0.1:0 with a fresh data folder under opts->tmpdir and waits up to
 * 30 s for its ready file. On failure nothing is left running or on disk. */
int bench_server_start(const bench_opts *opts, bench_server *s);

/* SIGTERM, a bounded wait (then SIGKILL). Returns 0 when it exited with status 0. Keeps the
 * folder (bench_server_clean removes it). Safe to call twice. */
int bench_server_stop(bench_server *s);

/* Removes the server's folder unless keep is set. */
void bench_server_clean(bench_server *s, int keep);

/* Prints the last lines of the server's log to stderr. */
void bench_server_log_tail(const bench_server *s);

/* Peak resident set (VmHWM) and current resident set (VmRSS) of pid in KiB; -1 when unreadable. */
long bench_proc_hwm_kb(pid_t pid);
long bench_proc_rss_kb(pid_t pid);

/* Resets pid's VmHWM to its current RSS (writes 5 to /proc/PID/clear_refs). 0 or -1. */
int bench_proc_reset_hwm(pid_t pid);

/* User + system CPU seconds pid has used so far (/proc/PID/stat utime + stime); -1 on failure. */
double bench_proc_cpu_s(pid_t pid);

/* Starts `perf record -g` on pid into out; returns perf's pid, or -1 (perf missing: a line on
 * stderr, the run goes on). bench_profile_stop ends it and waits. */
pid_t bench_profile_start(pid_t pid, const char *out);
void bench_profile_stop(pid_t perf);

/* The kernel's count of connections dropped because a listen queue was full (TcpExt
 * ListenOverflows, all sockets of the machine); -1 when unreadable. */
long bench_listen_overflows(void);

/* Seconds from a monotonic clock. */
double bench_now(void);

/* ---- HTTP (http.c) ---- */

/* One phone's connection: a libcurl handle kept between requests (keep-alive), the token, and
 * a reusable answer buffer. */
typedef struct bench_conn {
    CURL *curl;
    const char *url;             /* borrowed: http://HOST:PORT */
    char token[160];             /* "" for none */
    client_http_response answer; /* the last answer; its body buffer is reused */
    int64_t resent;              /* exchanges sent again on a new connection: see bench_http */
    char source[32]; /* the loopback address it connects from ("" = the system's choice) */
} bench_conn;

int bench_conn_open(bench_conn *c, const char *url);

/* Makes c connect from a loopback address of its own for phone index, as real phones come from
 * addresses of their own (the server caps connections per address: --max-conns-per-addr). */
void bench_conn_source(bench_conn *c, int index);
void bench_conn_close(bench_conn *c);

/* One exchange: method path with body[len] (NULL: none) of content type ctype, and an
 * X-Device-Signature header when signature is not NULL, over client/http. The answer lands in
 * c->answer. A kept-alive connection lost before any answer is sent again once (counted in
 * c->resent). Returns the status, 0 when the exchange failed. */
long bench_http(bench_conn *c, const char *method, const char *path, const char *ctype,
                const void *body, size_t len, const char *signature);

/* Protobuf exchange: packs req (NULL: no body), decodes a 2xx answer into *out when out_desc
 * is given. Returns the status (0 also when a 2xx answer did not decode). */
long bench_call(bench_conn *c, const char *method, const char *path, const ProtobufCMessage *req,
                const ProtobufCMessageDescriptor *out_desc, ProtobufCMessage **out);

/* The Error code of the last non-2xx answer, into buf[cap] ("?" when undecodable). */
void bench_error_code(const bench_conn *c, char *buf, size_t cap);

/* ---- the scenario (scenario.c) ---- */

/* A deterministic random stream (splitmix64). */
typedef struct bench_rng {
    uint64_t s;
} bench_rng;

uint64_t bench_rand(bench_rng *r);
double bench_uniform(bench_rng *r); /* [0, 1) */
void bench_uuid(bench_rng *r, char out[37]);

/* A bump allocator for a phone's messages; freed at once. */
typedef struct bench_arena bench_arena;
void *bench_alloc(bench_arena **a, size_t n);
char *bench_strdup(bench_arena **a, const char *s);
void bench_arena_free(bench_arena **a);

/* The photo fixtures: every *.jpg in the folder that is a whole JPEG (SOI ... EOI). */
typedef struct bench_fixture {
    uint8_t *data;
    size_t len;
    size_t insert_at; /* after SOI and the APPn segments: where a COM segment may go */
    char name[128];
} bench_fixture;

int bench_fixtures_load(const char *dir, bench_fixture **out, int *n);
void bench_fixtures_free(bench_fixture *f, int n);

/* One unique photo: a fixture with a COM segment saying whose photo it is. */
typedef struct bench_photo {
    int fixture;
    char comment[96];
    size_t len;    /* bytes of the whole file */
    char hash[65]; /* BLAKE2b-256, lowercase hex */
} bench_photo;

/* Writes the photo's bytes into buf (at least p->len bytes). */
void bench_photo_bytes(const bench_fixture *fx, const bench_photo *p, uint8_t *buf);

/* A batch as the phone keeps it: the request (since is set when sent) and whether it is sent
 * twice. */
typedef struct bench_batch {
    Outfall__V1__SyncRequest req;
    int replay;
} bench_batch;

/* Per-phone results of a run. */
typedef struct bench_tally {
    int64_t statuses[8];  /* results by ChangeStatus */
    int64_t changes_sent; /* changes in first sends (replays excluded) */
    int64_t batches_sent; /* every POST /v1/sync, replays included */
    int64_t replays;
    int64_t errors; /* answers other than 200, and failed exchanges */
    int64_t photos_uploaded, photo_bytes, photos_missing;
    int64_t feed_entries; /* pulled by the phone after its batches */
    double *lat_ms;       /* one per POST /v1/sync */
    size_t n_lat, cap_lat;
    char first_error[96];
} bench_tally;

typedef struct bench_phone {
    int index;
    const char *division; /* borrowed, static */
    char username[48], password[48];
    char device_id[48];
    uint8_t pk[32], sk[64];
    bench_photo *photos;
    int n_photos;
    bench_batch *batches;
    int n_batches;
    bench_arena *arena;
    bench_conn conn;
    int64_t cursor; /* the feed cursor the phone last pulled */
    double arrival; /* when, in seconds after the sync phase starts, the phone comes in range */
    bench_tally t;
} bench_phone;

/* The shared outfalls of the city before the field day: what the admin seeds. */
typedef struct bench_world {
    int n_divisions;                /* field divisions */
    const char *const *divisions;   /* borrowed, static */
    const char *pull_division;      /* where the new phone works */
    int hot;                        /* shared outfalls per field division */
    char (*hot_ids)[37];            /* [n_divisions * hot] */
    Outfall__V1__SyncRequest *seed; /* the seeding batches (admin's device) */
    int n_seed;
    bench_arena *arena;
} bench_world;

/* Builds the world and every phone's photos and batches from opts->seed. Deterministic: the
 * same options give the same bytes. */
int bench_world_build(const bench_opts *opts, bench_world *w, const bench_fixture *fx, int n_fx,
                      bench_phone **phones);
void bench_world_free(bench_world *w, bench_phone *phones, int n);

/* The seeding device's id and key (the admin's). */
void bench_seed_device(const bench_opts *opts, char id[48], uint8_t pk[32], uint8_t sk[64]);

/* One new outfall (version 1) of division at lat, lon on river number river_index, made as a
 * surveyor fills it in, in arena a from r (scenario.c). entity_id NULL: a fresh UUID. */
Outfall__V1__Change *bench_outfall_new(bench_arena **a, bench_rng *r, const char *entity_id,
                                       const char *division, double lat, double lon,
                                       int river_index, int64_t at_ms);

/* The field division number d (of 10) and its box's south-west corner (scenario.c). */
const char *bench_division(int d, double *lat, double *lon);

/* changes[0..n) cut into requests of at most size changes for device_id, device_seq from 1, in
 * arena a (scenario.c). *n_out gets the number of requests. */
Outfall__V1__SyncRequest *bench_cut_batches(bench_arena **a, bench_rng *r, const char *device_id,
                                            Outfall__V1__Change **changes, int n, int size,
                                            int *n_out);

/* The admin's login as user with password on c: c->token is set. Returns the status (200). */
long bench_login(bench_conn *c, const char *user, const char *password);

/* POST /v1/devices with device_id and its public key, as c. Returns the status (201). */
long bench_enroll(bench_conn *c, const char *device_id, const uint8_t pk[32]);

/* Sends reqs[0..n) signed by sk through POST /v1/sync as admin, untimed set-up: every change
 * must come back APPLIED. Returns 0, or -1 after a line on stderr (fieldday.c). */
int bench_send_setup(bench_conn *admin, Outfall__V1__SyncRequest *reqs, int n,
                     const uint8_t sk[64]);

/* ---- baselines (baseline.c) ---- */

/* Replays into a fresh database (store_open: the server's schema and pragmas) the rows the
 * server wrote for the field day, read from the stopped server's database at src_db: one
 * transaction per batch, as the server commits them. The seed device's batches are copied first,
 * untimed. *changes gets the number of changes replayed, *seconds the time of the inserts. */
int bench_baseline_sqlite(const char *src_db, const char *dst_db, const char *seed_device,
                          int64_t *changes, int64_t *batches, double *seconds);

/* Writes the same photo bytes, one file each, sequentially, each hashed with BLAKE2b-256 and
 * fsynced, into dir. *bytes and *seconds (hashing + writing + fsync) are filled. */
int bench_baseline_photos(const char *dir, const bench_fixture *fx, bench_phone *phones, int n,
                          int64_t *bytes, double *seconds);

/* ---- one run's figures (fieldday.c measures them, report.c prints them) ---- */

enum { BENCH_MAX_RUNS = 15 };

typedef struct run_result {
    double setup_s, enroll_s, photo_s, sync_s, pull_s;
    double load1; /* the machine's 1-minute load average as the field day began */
    double cpu_enroll, cpu_photos, cpu_sync, cpu_pull; /* server CPU s per phase */
    double client_cpu_s;    /* this program's CPU over the field day (the phones) */
    double client_cpu_sync; /* the same in the sync phase alone */
    double rss_phase[4];    /* server peak RSS MB in enroll, photos, sync, pull */
    long overflows;         /* connections the kernel dropped for a full listen queue */
    int64_t resent;         /* exchanges sent again after the server closed an idle connection */
    int64_t changes, batches, replays, errors, statuses[8], feed_entries;
    double changes_per_s, batches_per_s, p50, p95, p99, lat_max;
    int64_t photos, photo_bytes;
    double photo_mb_s;
    double newpull_s;
    int64_t newpull_records;
    double rss_mb, rss_all_mb, cpu_s;
    int hwm_reset;
    int64_t base_changes, base_batches, base_photo_bytes;
    double base_sql_s, base_sql_per_s, base_photo_s, base_photo_mb_s;
    double ratio_sql, ratio_photo;
} run_result;

/* ---- the big batch (bigbatch.c; bench/README.md, "The big batch") ---- */

/* One big-batch run at one device count: a fresh server, the outfalls created untimed, then
 * every observation in signed batches from that many enrolled devices at once. */
typedef struct big_result {
    int devices;
    double load1;   /* the machine's 1-minute load average as the timed part began */
    double setup_s; /* server start, login, enrolment, the outfalls, signing: untimed */
    int64_t docs, batches, errors, statuses[8];
    double wall_s, docs_per_s, p50, p95, p99, lat_max;
    double rss_mb, cpu_s;        /* server peak RSS in the timed part; its CPU there */
    double server_bytes_per_doc; /* growth of the server's database ÷ docs */
    /* (1) the documents straight into SQLite: one row each with its JSON and a change-log row */
    int64_t raw_rows;
    double raw_s, raw_per_s, ratio_raw, raw_bytes_per_doc, doc_json_bytes;
    /* (2) the rows the server wrote, replayed as bench_baseline_sqlite does */
    int64_t rows_changes;
    double rows_s, rows_per_s, ratio_rows;
} big_result;

/* Runs the big-batch phase --runs times at each of opts->big_devices and prints its table.
 * Returns 0, or -1 when it could not measure. */
int bench_big_batch(const bench_opts *opts);

/* The big batch's table: medians of res[d * runs + r] for each device count d (report.c). */
void bench_print_big(const bench_opts *opts, const big_result *res, int runs);

/* qsort's comparison of two doubles. */
int bench_cmp_double(const void *a, const void *b);

/* Reads fieldday's flags into o (defaults for the rest); prints usage and returns -1 on a bad
 * one (flags.c). */
int bench_parse_flags(int argc, char **argv, bench_opts *o);

/* The report's opening lines: command, machine, scenario (report.c). */
void bench_print_header(const bench_opts *o, int argc, char **argv, const bench_fixture *fx,
                        int n_fx);

/* The table of medians over res[0..n), the baselines, the targets and a line per run
 * (report.c). */
void bench_print_table(const bench_opts *opts, const run_result *res, int n);

#endif
