/* The big batch: a surveyor back from days without signal syncs hundreds of observations in one
 * SyncRequest. For each device count (--big-batch-devices, default 1 and 8) and each run: a fresh
 * outfalld; set-up, untimed: the admin logs in, enrolls a seeding device and the devices, creates
 * the outfalls the observations name (one for every four, batches of 500), and every big batch is
 * built and signed (client/sign) before the clock starts. Timed: the devices send their batches of
 * --big-batch-size observations at once, each device one after the other on its own keep-alive
 * connection (client/http). Then the server stops and, on the same disk, (1) the same documents
 * go straight into SQLite (one row each with its JSON and a change-log row, a batch a
 * transaction, WAL, synchronous=FULL like the server) and (2) the rows the server wrote are
 * replayed as the field day's baseline does (bench_baseline_sqlite). bench/README.md, "The big
 * batch". */
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/bench.h"
#include "client/sign.h"
#include "common/util.h"

enum { BIG_SETUP_BATCH = 500, BIG_DOCS_PER_OUTFALL = 4, BIG_PHOTOS = 4, BIG_MAX_DEVICES = 64 };

/* The documents' days: from 2026-03-01 08:00 +08:00, over 20 days. */
static const int64_t big_start_ms = 1772323200000LL;

static const char *const surveyors[] = {"周海峰", "李秀英", "张卫东", "刘晓燕",
                                        "陈国强", "杨丽娟", "赵建华", "黄志明"};
static const char *const models[] = {"HUAWEI nova 11", "Xiaomi 14", "OPPO A2", "vivo Y78",
                                     "Honor X50"};
static const char *const colours[] = {"清", "灰白", "黄褐", "黑", "乳白", "浅绿"};
static const char *const odours[] = {"无", "轻微", "刺鼻", "腐臭", "鱼腥"};
static const char *const places[] = {"东关桥",     "南水北调干渠倒虹吸", "北环路闸",
                                     "丰收路涵洞", "修武县城西",         "博爱县城南",
                                     "温县黄庄镇", "武陟县詹店"};
static const char *const outlets[] = {"排水渠出口", "涵洞口",     "混凝土管口",
                                      "砖砌方涵",   "农田退水口", "雨水管出口"};
static const char *const notes[] = {
    "", "", "排口半淹没", "周边杂草丛生", "水面有泡沫", "管径约 600 毫米", "标志牌缺失"};
static const char *const photo_kinds[BIG_PHOTOS] = {"near", "near", "far", "signboard"};
static const int photo_kind_values[BIG_PHOTOS] = {
    OUTFALL__V1__PHOTO_KIND__PHOTO_KIND_NEAR, OUTFALL__V1__PHOTO_KIND__PHOTO_KIND_NEAR,
    OUTFALL__V1__PHOTO_KIND__PHOTO_KIND_FAR, OUTFALL__V1__PHOTO_KIND__PHOTO_KIND_SIGNBOARD};
#define PICK(r, list) list[bench_rand(r) % (sizeof list / sizeof list[0])]

/* The documents of a phase, the same for every run and device count. */
typedef struct big_world {
    bench_arena *arena;
    int n_outfalls;
    char (*outfall_ids)[37];
    Outfall__V1__SyncRequest *setup; /* the outfalls, by the seeding device */
    int n_setup;
    Outfall__V1__SyncRequest *batches; /* the observations; device set per run */
    int n_batches;
    const char **json; /* document i as JSON (what the raw baseline stores) */
    double json_bytes; /* mean bytes of a document's JSON */
    char seeder[48];
    uint8_t seeder_pk[32], seeder_sk[64];
} big_world;

/* A device of a run: its key, its signed batches and what came back. */
typedef struct big_device {
    char id[48];
    uint8_t pk[32], sk[64];
    bench_conn conn;
    uint8_t **bodies;
    size_t *lens;
    char **sigs;
    int n;
    int64_t statuses[8], errors;
    double *lat_ms;
    char first_error[96];
} big_device;

/* Observation i as a Change, and its JSON document, from r. */
static Outfall__V1__Change *observation(big_world *w, bench_rng *r, int i) {
    bench_arena **a = &w->arena;
    Outfall__V1__Change *c = bench_alloc(a, sizeof *c);
    Outfall__V1__Observation *o = bench_alloc(a, sizeof *o);
    outfall__v1__change__init(c);
    outfall__v1__observation__init(o);
    char id[37], change[37];
    bench_uuid(r, id);
    bench_uuid(r, change);
    int outfall = (int)(bench_rand(r) % (uint64_t)w->n_outfalls);
    int64_t at = big_start_ms + (int64_t)(bench_rand(r) % (20 * 86400)) * 1000;
    c->change_id = bench_strdup(a, change);
    c->entity_id = o->id = bench_strdup(a, id);
    c->has_base_version = 1;
    c->has_client_time_ms = 1;
    c->client_time_ms = at;
    c->entity_case = OUTFALL__V1__CHANGE__ENTITY_OBSERVATION;
    c->observation = o;
    o->outfall_id = w->outfall_ids[outfall];
    o->has_observed_at_ms = o->has_lat = o->has_lon = o->has_accuracy_m = o->has_flowing = 1;
    o->observed_at_ms = at;
    o->lat = 34.8 + bench_uniform(r) * 0.6;
    o->lon = 112.6 + bench_uniform(r) * 1.0;
    o->accuracy_m = 2 + (double)(bench_rand(r) % 230) / 10.0;
    o->flowing = bench_uniform(r) < 0.6;
    o->colour = (char *)PICK(r, colours);
    o->odour = (char *)PICK(r, odours);
    char landmark[160], text[320], photos[BIG_PHOTOS * 112] = "";
    const char *note = PICK(r, notes);
    snprintf(landmark, sizeof landmark, "%s%s%d米%s%s", PICK(r, places),
             bench_rand(r) % 2 ? "上游" : "下游", 20 + (int)(bench_rand(r) % 780),
             bench_rand(r) % 2 ? "左岸" : "右岸", PICK(r, outlets));
    snprintf(text, sizeof text, "%s%s%s", landmark, *note ? "; " : "", note);
    o->notes = bench_strdup(a, text);
    o->photos = bench_alloc(a, BIG_PHOTOS * sizeof *o->photos);
    o->n_photos = BIG_PHOTOS;
    for (int k = 0; k < BIG_PHOTOS; k++) {
        uint8_t raw[32];
        char hex[65];
        for (int j = 0; j < 4; j++) {
            uint64_t v = bench_rand(r);
            memcpy(raw + 8 * j, &v, 8);
        }
        util_hex(raw, sizeof raw, hex);
        Outfall__V1__PhotoRef *p = o->photos[k] = bench_alloc(a, sizeof *p);
        outfall__v1__photo_ref__init(p);
        p->hash = bench_strdup(a, hex);
        p->has_kind = 1;
        p->kind = (Outfall__V1__PhotoKind)photo_kind_values[k];
        size_t len = strlen(photos);
        snprintf(photos + len, sizeof photos - len, "%s{\"hash\":\"%s\",\"kind\":\"%s\"}",
                 k ? "," : "", hex, photo_kinds[k]);
    }
    int sv = (int)(bench_rand(r) % (sizeof surveyors / sizeof surveyors[0]));
    char json[2048];
    int len = snprintf(
        json, sizeof json,
        "{\"_id\":\"%s\",\"type\":\"outfall_observation\",\"outfall_id\":\"%s\","
        "\"surveyor\":{\"id\":\"sv-%04d\",\"name\":\"%s\"},\"device\":{\"id\":\"dev-%04x\","
        "\"model\":\"%s\"},\"observed_at_ms\":%lld,\"lat\":%.6f,\"lon\":%.6f,\"accuracy_m\":%.1f,"
        "\"flowing\":%s,\"colour\":\"%s\",\"odour\":\"%s\",\"landmark\":\"%s\",\"photos\":[%s],"
        "\"note\":\"%s\"}",
        id, o->outfall_id, 7 + sv * 11, surveyors[sv], (unsigned)(bench_rand(r) % 0xffff),
        PICK(r, models), (long long)at, o->lat, o->lon, o->accuracy_m,
        o->flowing ? "true" : "false", o->colour, o->odour, landmark, photos, note);
    w->json[i] = bench_strdup(a, json);
    w->json_bytes += len;
    return c;
}

/* The outfalls (one for every BIG_DOCS_PER_OUTFALL documents, 100 m apart in the field
 * divisions' boxes) and the documents, from opts->seed. */
static void world_build(const bench_opts *opts, big_world *w) {
    memset(w, 0, sizeof *w);
    bench_rng r = {opts->seed ^ 0xb16ba7c4ULL};
    bench_seed_device(opts, w->seeder, w->seeder_pk, w->seeder_sk);
    int n = opts->big_docs;
    w->n_outfalls = n / BIG_DOCS_PER_OUTFALL > 0 ? n / BIG_DOCS_PER_OUTFALL : 1;
    w->outfall_ids = bench_alloc(&w->arena, (size_t)w->n_outfalls * sizeof *w->outfall_ids);
    Outfall__V1__Change **creates = bench_alloc(&w->arena, (size_t)w->n_outfalls * sizeof *creates);
    for (int i = 0; i < w->n_outfalls; i++) {
        double lat, lon;
        int j = i / 10;
        const char *division = bench_division(i % 10, &lat, &lon);
        bench_uuid(&r, w->outfall_ids[i]);
        creates[i] =
            bench_outfall_new(&w->arena, &r, w->outfall_ids[i], division, lat + 0.001 * (j % 100),
                              lon + 0.001 * (j / 100), i, big_start_ms - 86400000LL);
    }
    w->setup = bench_cut_batches(&w->arena, &r, w->seeder, creates, w->n_outfalls, BIG_SETUP_BATCH,
                                 &w->n_setup);
    Outfall__V1__Change **obs = bench_alloc(&w->arena, (size_t)(n ? n : 1) * sizeof *obs);
    w->json = bench_alloc(&w->arena, (size_t)(n ? n : 1) * sizeof *w->json);
    for (int i = 0; i < n; i++)
        obs[i] = observation(w, &r, i);
    w->json_bytes = n ? w->json_bytes / n : 0;
    w->batches = bench_cut_batches(&w->arena, &r, "", obs, n, opts->big_batch, &w->n_batches);
    for (int b = 0; b < w->n_batches; b++) {
        w->batches[b].has_pull_limit = 1;
        w->batches[b].pull_limit = 1;
    }
}

/* Device d of a run with n devices: batches d, d + n, d + 2n ... signed with its key, seq from 1.
 * Returns 0 or -1. */
static int device_prepare(const bench_opts *opts, big_world *w, big_device *dev, int d, int n) {
    bench_rng r = {opts->seed * 7919ULL + (uint64_t)n * 104729ULL + (uint64_t)d};
    uint8_t seed[32];
    for (int i = 0; i < 4; i++) {
        uint64_t v = bench_rand(&r);
        memcpy(seed + 8 * i, &v, 8);
    }
    client_sign_seed_keypair(dev->pk, dev->sk, seed);
    char u[37];
    bench_uuid(&r, u);
    snprintf(dev->id, sizeof dev->id, "big-%d-%d-%.8s", n, d, u);
    int count = (w->n_batches - d + n - 1) / n;
    dev->bodies = calloc((size_t)(count > 0 ? count : 1), sizeof *dev->bodies);
    dev->lens = calloc((size_t)(count > 0 ? count : 1), sizeof *dev->lens);
    dev->sigs = calloc((size_t)(count > 0 ? count : 1), sizeof *dev->sigs);
    dev->lat_ms = calloc((size_t)(count > 0 ? count : 1), sizeof *dev->lat_ms);
    if (!dev->bodies || !dev->lens || !dev->sigs || !dev->lat_ms) return -1;
    for (int b = d; b < w->n_batches; b += n) {
        Outfall__V1__SyncRequest *q = &w->batches[b];
        q->device_id = dev->id;
        q->device_seq = dev->n + 1;
        if (client_sign_batch(q, 0, dev->sk, &dev->bodies[dev->n], &dev->lens[dev->n],
                              &dev->sigs[dev->n]) != 0)
            return -1;
        dev->n++;
    }
    return 0;
}

static void device_free(big_device *dev) {
    for (int i = 0; i < dev->n; i++) {
        free(dev->bodies[i]);
        free(dev->sigs[i]);
    }
    free(dev->bodies);
    free(dev->lens);
    free(dev->sigs);
    free(dev->lat_ms);
    bench_conn_close(&dev->conn);
    memset(dev, 0, sizeof *dev);
}

/* A device's timed part: its batches one after the other, each answer decoded and counted. */
static void *device_play(void *arg) {
    big_device *dev = arg;
    for (int i = 0; i < dev->n; i++) {
        double t0 = bench_now();
        long st = bench_http(&dev->conn, "POST", "/v1/sync", BENCH_PB, dev->bodies[i], dev->lens[i],
                             dev->sigs[i]);
        dev->lat_ms[i] = (bench_now() - t0) * 1000.0;
        Outfall__V1__SyncResponse *resp =
            st == 200 ? outfall__v1__sync_response__unpack(NULL, dev->conn.answer.body.len,
                                                           dev->conn.answer.body.data)
                      : NULL;
        for (size_t k = 0; resp && k < resp->n_results; k++)
            if ((unsigned)resp->results[k]->status < 8) dev->statuses[resp->results[k]->status]++;
        if (!resp) {
            dev->errors++;
            if (!dev->first_error[0]) {
                char code[48] = "";
                bench_error_code(&dev->conn, code, sizeof code);
                snprintf(dev->first_error, sizeof dev->first_error, "sync: %ld %s", st, code);
            }
        }
        if (resp) outfall__v1__sync_response__free_unpacked(resp, NULL);
    }
    return NULL;
}

/* Bytes a database at path holds in use ((page_count - freelist_count) * page_size), read with
 * a read-only handle (also while the server runs: WAL); -1 when unreadable. */
static double db_bytes(const char *path) {
    sqlite3 *db = NULL;
    sqlite3_stmt *q = NULL;
    double bytes = -1;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(db,
                           "SELECT (p.page_count - f.freelist_count) * s.page_size FROM "
                           "pragma_page_count p, pragma_freelist_count f, pragma_page_size s",
                           -1, &q, NULL) == SQLITE_OK &&
        sqlite3_step(q) == SQLITE_ROW)
        bytes = sqlite3_column_double(q, 0);
    sqlite3_finalize(q);
    sqlite3_close(db);
    return bytes;
}

static const char raw_schema[] =
    "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
    "CREATE TABLE docs (id TEXT PRIMARY KEY, outfall_id TEXT NOT NULL, device_id TEXT NOT NULL,"
    " observed_at_ms INTEGER NOT NULL, body TEXT NOT NULL, rev INTEGER NOT NULL DEFAULT 1);"
    "CREATE INDEX docs_outfall ON docs(outfall_id);"
    "CREATE TABLE change_log (seq INTEGER PRIMARY KEY, doc_id TEXT NOT NULL, op TEXT NOT NULL,"
    " device_id TEXT NOT NULL, at_ms INTEGER NOT NULL);";

/* Baseline (1): the documents straight into a fresh SQLite file at path, a batch a transaction,
 * each document one row with its JSON and one change-log row. Fills raw_* of res. 0 or -1. */
static int raw_baseline(const big_world *w, const char *path, big_result *res) {
    sqlite3 *db = NULL;
    sqlite3_stmt *doc = NULL, *log = NULL;
    int rc = -1;
    if (sqlite3_open(path, &db) != SQLITE_OK ||
        sqlite3_exec(db, raw_schema, NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db,
                           "INSERT INTO docs (id, outfall_id, device_id, observed_at_ms, body) "
                           "VALUES (?1, ?2, ?3, ?4, ?5)",
                           -1, &doc, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db,
                           "INSERT INTO change_log (doc_id, op, device_id, at_ms) "
                           "VALUES (?1, 'create', ?2, ?3)",
                           -1, &log, NULL) != SQLITE_OK)
        goto done;
    double t0 = bench_now();
    int i = 0;
    for (int b = 0; b < w->n_batches; b++) {
        const Outfall__V1__SyncRequest *q = &w->batches[b];
        if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) goto done;
        for (size_t k = 0; k < q->n_changes; k++, i++) {
            const Outfall__V1__Observation *o = q->changes[k]->observation;
            sqlite3_bind_text(doc, 1, o->id, -1, SQLITE_STATIC);
            sqlite3_bind_text(doc, 2, o->outfall_id, -1, SQLITE_STATIC);
            sqlite3_bind_text(doc, 3, q->device_id, -1, SQLITE_STATIC);
            sqlite3_bind_int64(doc, 4, o->observed_at_ms);
            sqlite3_bind_text(doc, 5, w->json[i], -1, SQLITE_STATIC);
            int s1 = sqlite3_step(doc);
            sqlite3_reset(doc);
            sqlite3_bind_text(log, 1, o->id, -1, SQLITE_STATIC);
            sqlite3_bind_text(log, 2, q->device_id, -1, SQLITE_STATIC);
            sqlite3_bind_int64(log, 3, util_now_ms());
            int s2 = sqlite3_step(log);
            sqlite3_reset(log);
            if (s1 != SQLITE_DONE || s2 != SQLITE_DONE) goto done;
        }
        if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) goto done;
    }
    res->raw_s = bench_now() - t0;
    res->raw_rows = i;
    rc = 0;
done:
    if (rc) fprintf(stderr, "bench: big batch: raw SQLite: %s\n", sqlite3_errmsg(db));
    sqlite3_finalize(doc);
    sqlite3_finalize(log);
    sqlite3_close(db);
    if (rc == 0)
        res->raw_bytes_per_doc = db_bytes(path) / (double)(res->raw_rows ? res->raw_rows : 1);
    return rc;
}

/* The set-up of a run: admin login, the seeding device and the run's devices enrolled, the
 * outfalls created, every device's connection open. 0 or -1. */
static int run_setup(big_world *w, const bench_server *srv, bench_conn *admin, big_device *devs,
                     int n) {
    long st = bench_login(admin, "admin", BENCH_ADMIN_PASSWORD);
    if (st != 200) {
        fprintf(stderr, "bench: big batch: admin login: %ld\n", st);
        return -1;
    }
    if ((st = bench_enroll(admin, w->seeder, w->seeder_pk)) != 201) {
        fprintf(stderr, "bench: big batch: enroll the seeding device: %ld\n", st);
        return -1;
    }
    for (int d = 0; d < n; d++) {
        if ((st = bench_enroll(admin, devs[d].id, devs[d].pk)) != 201) {
            fprintf(stderr, "bench: big batch: enroll device %d: %ld\n", d, st);
            return -1;
        }
        if (bench_conn_open(&devs[d].conn, srv->url) < 0) return -1;
        bench_conn_source(&devs[d].conn, d);
        util_strlcpy(devs[d].conn.token, admin->token, sizeof devs[d].conn.token);
    }
    return bench_send_setup(admin, w->setup, w->n_setup, w->seeder_sk);
}

static double percentile(const double *sorted, size_t n, double q) {
    if (n == 0) return 0;
    size_t i = (size_t)(q * (double)(n - 1) + 0.5);
    return sorted[i < n ? i : n - 1];
}

/* The timed part's figures from the devices' tallies. */
static void tally(const big_world *w, big_device *devs, int n, big_result *res) {
    double *lat = calloc((size_t)(w->n_batches ? w->n_batches : 1), sizeof *lat);
    size_t k = 0;
    for (int d = 0; d < n; d++) {
        res->errors += devs[d].errors;
        for (int s = 0; s < 8; s++)
            res->statuses[s] += devs[d].statuses[s];
        for (int i = 0; lat && i < devs[d].n; i++)
            lat[k++] = devs[d].lat_ms[i];
        if (devs[d].first_error[0])
            fprintf(stderr, "bench: big batch: device %d: %lld error(s), first %s\n", d,
                    (long long)devs[d].errors, devs[d].first_error);
    }
    if (lat) {
        qsort(lat, k, sizeof *lat, bench_cmp_double);
        res->p50 = percentile(lat, k, 0.50);
        res->p95 = percentile(lat, k, 0.95);
        res->p99 = percentile(lat, k, 0.99);
        res->lat_max = k ? lat[k - 1] : 0;
    }
    free(lat);
    res->batches = (int64_t)k;
    res->docs_per_s = res->wall_s > 0 ? (double)res->docs / res->wall_s : 0;
}

/* One run with n devices on a fresh server. 0 or -1. */
static int run_once(const bench_opts *opts, big_world *w, int n, big_result *res) {
    memset(res, 0, sizeof *res);
    res->devices = n;
    res->docs = opts->big_docs;
    res->doc_json_bytes = w->json_bytes;
    big_device devs[BIG_MAX_DEVICES];
    memset(devs, 0, sizeof devs);
    bench_conn admin = {0};
    bench_server srv;
    pthread_t threads[BIG_MAX_DEVICES];
    int rc = -1, started = 0;
    double t_setup = bench_now();
    if (bench_server_start(opts, &srv) < 0) return -1;
    for (int d = 0; d < n; d++)
        if (device_prepare(opts, w, &devs[d], d, n) < 0) goto done;
    if (bench_conn_open(&admin, srv.url) < 0 || run_setup(w, &srv, &admin, devs, n) < 0) goto done;
    char db[1024];
    snprintf(db, sizeof db, "%s/outfall.db", srv.data);
    double bytes0 = db_bytes(db);
    res->setup_s = bench_now() - t_setup;

    double loads[1] = {0};
    if (getloadavg(loads, 1) == 1) res->load1 = loads[0];
    int reset = bench_proc_reset_hwm(srv.pid) == 0;
    double cpu0 = bench_proc_cpu_s(srv.pid), t0 = bench_now();
    for (int d = 0; d < n; d++)
        if (pthread_create(&threads[d], NULL, device_play, &devs[d]) == 0)
            started++;
        else
            device_play(&devs[d]);
    for (int d = 0; d < started; d++)
        pthread_join(threads[d], NULL);
    res->wall_s = bench_now() - t0;
    res->cpu_s = bench_proc_cpu_s(srv.pid) - cpu0;
    res->rss_mb = (double)bench_proc_hwm_kb(srv.pid) / 1024.0;
    if (!reset) res->rss_mb = -res->rss_mb; /* includes set-up: shown as such */
    tally(w, devs, n, res);

    if (bench_server_stop(&srv) < 0) goto done;
    /* Per observation the server stored (a batch that failed or was held stored none). */
    int64_t stored = res->statuses[OUTFALL__V1__CHANGE_STATUS__CHANGE_STATUS_APPLIED] +
                     res->statuses[OUTFALL__V1__CHANGE_STATUS__CHANGE_STATUS_MERGED] +
                     res->statuses[OUTFALL__V1__CHANGE_STATUS__CHANGE_STATUS_CONFLICT] +
                     res->statuses[OUTFALL__V1__CHANGE_STATUS__CHANGE_STATUS_DUPLICATE_SUSPECT];
    res->server_bytes_per_doc = (db_bytes(db) - bytes0) / (double)(stored ? stored : 1);
    char path[1024];
    snprintf(path, sizeof path, "%s/big-raw.db", srv.root);
    if (raw_baseline(w, path, res) < 0) goto done;
    res->raw_per_s = res->raw_s > 0 ? (double)res->raw_rows / res->raw_s : 0;
    res->ratio_raw = res->raw_per_s > 0 ? res->docs_per_s / res->raw_per_s : 0;
    snprintf(path, sizeof path, "%s/big-rows.db", srv.root);
    int64_t batches = 0;
    if (bench_baseline_sqlite(db, path, w->seeder, &res->rows_changes, &batches, &res->rows_s) < 0)
        goto done;
    res->rows_per_s = res->rows_s > 0 ? (double)res->rows_changes / res->rows_s : 0;
    res->ratio_rows = res->rows_per_s > 0 ? res->docs_per_s / res->rows_per_s : 0;
    rc = 0;
done:
    if (rc != 0 && srv.pid) bench_server_log_tail(&srv);
    bench_server_stop(&srv);
    bench_server_clean(&srv, opts->keep);
    bench_conn_close(&admin);
    for (int d = 0; d < n; d++)
        device_free(&devs[d]);
    return rc;
}

int bench_big_batch(const bench_opts *opts) {
    big_world w;
    double t0 = bench_now();
    world_build(opts, &w);
    printf("\n## big batch: days offline in one sync\n\n"
           "%d observations (JSON documents of %.0f bytes on average, 4 photo references each) "
           "of %d outfalls created untimed first, in signed SyncRequests of %d changes; each "
           "device count on its own fresh server; seed %llu; %d run(s), medians\n",
           opts->big_docs, w.json_bytes, w.n_outfalls, opts->big_batch,
           (unsigned long long)opts->seed, opts->runs);
    fflush(stdout);
    if (opts->verbose) fprintf(stderr, "big batch: documents built in %.1f s\n", bench_now() - t0);
    int runs = opts->runs, rc = 0;
    big_result *res = calloc((size_t)(opts->n_big_devices * runs), sizeof *res);
    for (int d = 0; res && rc == 0 && d < opts->n_big_devices; d++)
        for (int r = 0; rc == 0 && r < runs; r++) {
            double t = bench_now();
            if (run_once(opts, &w, opts->big_devices[d], &res[d * runs + r]) < 0) {
                fprintf(stderr, "fieldday: big batch, %d device(s), run %d failed\n",
                        opts->big_devices[d], r + 1);
                rc = -1;
            } else {
                fprintf(stderr, "big batch: %d device(s), run %d/%d done in %.0f s\n",
                        opts->big_devices[d], r + 1, runs, bench_now() - t);
            }
        }
    if (!res) rc = -1;
    if (rc == 0) bench_print_big(opts, res, runs);
    free(res);
    bench_arena_free(&w.arena);
    return rc;
}
