/* Exports through the real server (tests programme/export.c, programme/archive.c,
 * programme/progress.c over HTTP): progress and the GeoJSON/CSV exports follow the approved version
 * of an outfall, not a phone's edit waiting for review; the photo archive (GET
 * /v1/exports/photos.tar) unpacked by GNU tar, every photo's digest checked against the archive's
 * manifest and against the fixtures' MANIFEST.tsv, with its filters, scope and refusals. */
#include <dirent.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "common/util.h"
#include "tests/lib/harness.h"

#define DIV "410882"    /* 沁阳市 */
#define DIV_MZ "410883" /* 孟州市 */

static th_server srv;
static th_user city_sup, county_sup, surveyor, integrator;
static th_device dev;

/* ---- helpers -------------------------------------------------------------------------------- */

static void approve(const char *id, int64_t base) {
    assert_int_equal(th_approve(&srv, city_sup.token, id, base, NULL), 200);
}

/* Creates an outfall from the surveyor's phone (who covers both counties) and approves it. */
static void create_approved(const char *division, const char *river, char id[37]) {
    double lat, lon;
    th_spot(&lat, &lon);
    th_batch *b = th_batch_new(&dev);
    Outfall__V1__Outfall *o = th_outfall_create(b, river, division, lat, lon);
    o->name = "导出排口";
    util_strlcpy(id, th_batch_entity(b, 0), 37);
    Outfall__V1__SyncResponse *resp = th_sync_ok(&srv, surveyor.token, b, TH_PB);
    assert_non_null(resp);
    assert_int_equal(resp->results[0]->status, TH_STATUS(APPLIED));
    outfall__v1__sync_response__free_unpacked(resp, NULL);
    th_batch_free(b);
    approve(id, 1);
    th_first_seen_at_start(&srv, id);
}

static void get(const char *token, const char *path, long status, th_response *r) {
    th_request rq = {.method = "GET", .path = path, .token = token};
    long st = th_http(&srv, &rq, r);
    if (st != status) print_message("GET %s: %ld\n%.*s\n", path, st, (int)r->len, r->body);
    assert_int_equal(st, status);
}

/* The refusal of a GET: status and error code, nothing streamed. */
static void refused(const char *token, const char *path, long status, const char *code) {
    th_response r;
    get(token, path, status, &r);
    th_error e;
    assert_int_equal(th_error_decode(&r, &e), 0);
    assert_string_equal(e.code, code);
    assert_true(e.message[0] != '\0');
    th_response_free(&r);
}

/* found in the progress row (scope, code) as token sees it today. */
static int64_t found(const char *token, const char *query, const char *scope, const char *code) {
    char path[160];
    snprintf(path, sizeof path, "/v1/progress%s", query);
    Outfall__V1__ProgressReport *rep = NULL;
    th_error e;
    assert_int_equal(th_call(&srv, "GET", path, token, TH_JSON, NULL,
                             &outfall__v1__progress_report__descriptor, (ProtobufCMessage **)&rep,
                             &e),
                     200);
    int64_t n = -1;
    for (size_t i = 0; i < rep->n_rows; i++)
        if (strcmp(rep->rows[i]->scope, scope) == 0 && strcmp(rep->rows[i]->code, code) == 0)
            n = rep->rows[i]->found;
    protobuf_c_message_free_unpacked(&rep->base, NULL);
    return n;
}

/* The GeoJSON export at query as token: the number of features; *division and *river (may be
 * NULL) get the first feature's properties. */
static size_t features(const char *token, const char *query, char division[16], char river[32]) {
    char path[160];
    snprintf(path, sizeof path, "/v1/exports/outfalls.geojson%s", query);
    th_response r;
    get(token, path, 200, &r);
    json_t *fc = json_loadb((const char *)r.body, r.len, 0, NULL);
    th_response_free(&r);
    assert_non_null(fc);
    json_t *fs = json_object_get(fc, "features");
    size_t n = json_array_size(fs);
    json_t *p = json_object_get(json_array_get(fs, 0), "properties");
    if (division && n)
        util_strlcpy(division, json_string_value(json_object_get(p, "division_code")), 16);
    if (river && n) util_strlcpy(river, json_string_value(json_object_get(p, "river_code")), 32);
    json_decref(fc);
    return n;
}

/* The CSV export's data lines (BOM and header excluded). */
static int csv_rows(const char *token, const char *query) {
    char path[160];
    snprintf(path, sizeof path, "/v1/exports/outfalls.csv%s", query);
    th_response r;
    get(token, path, 200, &r);
    int lines = 0;
    for (size_t i = 0; i < r.len; i++)
        lines += r.body[i] == '\n';
    th_response_free(&r);
    return lines - 1;
}

/* ---- the approved version decides ----------------------------------------------------------- */

static void progress_and_exports_follow_the_approved_version(void **state) {
    (void)state;
    char id[37];
    create_approved(DIV, "qinhe", id); /* version 2, approved */

    /* The phone moves it to another county and river; the edit waits for review. */
    th_batch *b = th_batch_new(&dev);
    Outfall__V1__Outfall *o = th_outfall_edit(b, id, 2);
    o->division_code = DIV_MZ;
    o->river_code = "huanghe";
    Outfall__V1__SyncResponse *resp = th_sync_ok(&srv, surveyor.token, b, TH_PB);
    assert_non_null(resp);
    assert_int_equal(resp->results[0]->status, TH_STATUS(APPLIED));
    outfall__v1__sync_response__free_unpacked(resp, NULL);
    th_batch_free(b);
    assert_int_equal(th_db_count(&srv,
                                 "SELECT count(*) FROM outfalls WHERE id = ? AND version = 3 AND "
                                 "approved_version = 2 AND division_code = '" DIV_MZ "'",
                                 id),
                     1);

    /* Progress and the exports still show what was approved: 沁阳市 on the 沁河. */
    assert_int_equal(found(city_sup.token, "", "division", DIV), 1);
    assert_int_equal(found(city_sup.token, "", "division", DIV_MZ), 0);
    assert_int_equal(found(city_sup.token, "", "river", "qinhe"), 1);
    assert_int_equal(found(city_sup.token, "", "river", "huanghe"), 0);
    assert_int_equal(found(city_sup.token, "?division=" DIV_MZ, "city", "410800"), 0);
    assert_int_equal(found(city_sup.token, "?river=huanghe", "city", "410800"), 0);
    assert_int_equal(found(county_sup.token, "", "division", DIV), 1);
    char division[16] = "", river[32] = "";
    assert_int_equal(features(integrator.token, "?division=" DIV, division, river), 1);
    assert_string_equal(division, DIV);
    assert_string_equal(river, "qinhe");
    assert_int_equal(features(integrator.token, "?division=" DIV_MZ, NULL, NULL), 0);
    assert_int_equal(features(integrator.token, "?river=huanghe", NULL, NULL), 0);
    assert_int_equal(features(county_sup.token, "", NULL, NULL), 1);
    assert_int_equal(csv_rows(integrator.token, "?division=" DIV), 1);
    assert_int_equal(csv_rows(integrator.token, "?division=" DIV_MZ "&river=huanghe"), 0);

    /* Once approved, the figures and exports move with it. */
    approve(id, 3);
    assert_int_equal(found(city_sup.token, "", "division", DIV), 0);
    assert_int_equal(found(city_sup.token, "", "division", DIV_MZ), 1);
    assert_int_equal(found(city_sup.token, "", "river", "huanghe"), 1);
    assert_int_equal(found(county_sup.token, "", "city", "410800"), 0);
    assert_int_equal(features(integrator.token, "?division=" DIV, NULL, NULL), 0);
    assert_int_equal(features(integrator.token, "?division=" DIV_MZ, division, river), 1);
    assert_string_equal(division, DIV_MZ);
    assert_string_equal(river, "huanghe");
    assert_int_equal(features(county_sup.token, "", NULL, NULL), 0);
    assert_int_equal(csv_rows(integrator.token, "?division=" DIV_MZ "&river=huanghe"), 1);
}

/* ---- the photo archive ---------------------------------------------------------------------- */

/* What the archive should hold: fixture file, outfall (index into ids), kind. */
static const struct {
    const char *file;
    int outfall;
    int kind;
} placed[] = {
    {"qinhe-outfall-a-1.jpg", 0, OUTFALL__V1__PHOTO_KIND__PHOTO_KIND_NEAR},
    {"qinhe-outfall-a-2.jpg", 0, OUTFALL__V1__PHOTO_KIND__PHOTO_KIND_FAR},
    {"no-gps.jpg", 0, OUTFALL__V1__PHOTO_KIND__PHOTO_KIND_SIGNBOARD},
    {"far-from-claimed-site.jpg", 1, OUTFALL__V1__PHOTO_KIND__PHOTO_KIND_NEAR},
    {"large-12mp.jpg", 1, OUTFALL__V1__PHOTO_KIND__PHOTO_KIND_SURROUNDINGS},
    {"no-exif.jpg", 2, OUTFALL__V1__PHOTO_KIND__PHOTO_KIND_REMEDIATION_DONE},
};
enum { N_PLACED = sizeof placed / sizeof placed[0] };

static char ids[3][37]; /* 0: 沁阳市 沁河, found 2023; 1: 孟州市 黄河; 2: 沁阳市 丹河 */
static int archive_built;

static void build_archive(void) {
    if (archive_built) return;
    archive_built = 1;
    create_approved(DIV, "qinhe", ids[0]);
    create_approved(DIV_MZ, "huanghe", ids[1]);
    create_approved(DIV, "danhe", ids[2]);
    /* Outfall 0 was found in 2023: a date filter leaves it out. */
    char tid[37];
    th_uuid(tid);
    Outfall__V1__LifecycleTransition t = OUTFALL__V1__LIFECYCLE_TRANSITION__INIT;
    t.transition_id = tid;
    t.outfall_id = ids[0];
    t.has_base_version = t.has_to_stage = 1;
    t.base_version = 2;
    t.to_stage = OUTFALL__V1__LIFECYCLE_STAGE__LIFECYCLE_STAGE_FOUND;
    t.effective_date = "2023-02-01";
    th_error e;
    assert_int_equal(th_call(&srv, "POST", "/v1/programme/transitions", city_sup.token, TH_PB,
                             &t.base, NULL, NULL, &e),
                     200);

    /* One observation per outfall naming its photos, plus one photo never uploaded. */
    th_batch *b = th_batch_new(&dev);
    Outfall__V1__Observation *obs[3];
    for (int i = 0; i < 3; i++)
        obs[i] = th_observation_create(b, ids[i], 35.1, 113.0);
    for (int i = 0; i < N_PLACED; i++) {
        th_file f;
        char hash[65];
        assert_int_equal(th_fixture(placed[i].file, &f), 0);
        th_hash_hex(f.data, f.len, hash);
        assert_int_equal(th_photo_put(&srv, surveyor.token, hash, f.data, f.len, NULL) / 100, 2);
        th_file_free(&f);
        th_observation_photo(b, obs[placed[i].outfall], hash, placed[i].kind);
    }
    char ghost[65];
    th_hash_hex("never uploaded", 14, ghost);
    th_observation_photo(b, obs[2], ghost, OUTFALL__V1__PHOTO_KIND__PHOTO_KIND_FAR);
    Outfall__V1__SyncResponse *resp = th_sync_ok(&srv, surveyor.token, b, TH_PB);
    assert_non_null(resp);
    outfall__v1__sync_response__free_unpacked(resp, NULL);
    th_batch_free(b);
}

/* One line of the archive's manifest. */
typedef struct mline {
    char path[200], hash[65], outfall[37], code[64], observation[37], kind[48], taken[40];
    long bytes;
    int has_gps;
    double lat, lon;
} mline;

static void field(char **p, char *out, size_t cap) {
    size_t n = strcspn(*p, "\t\n");
    util_strlcpy(out, *p, n + 1 < cap ? n + 1 : cap);
    *p += n + ((*p)[n] ? 1 : 0);
}

/* Reads dir/MANIFEST.tsv into lines[cap]; returns the count. */
static int read_manifest(const char *dir, mline *lines, int cap) {
    char path[128], buf[2048];
    snprintf(path, sizeof path, "%s/MANIFEST.tsv", dir);
    FILE *fp = fopen(path, "r");
    assert_non_null(fp);
    assert_non_null(fgets(buf, sizeof buf, fp));
    assert_string_equal(buf, "path\tblake2b_256\tbytes\toutfall_id\toutfall_code\tobservation_id"
                             "\tkind\ttaken_at\tgps_lat\tgps_lon\n");
    int n = 0;
    while (n < cap && fgets(buf, sizeof buf, fp)) {
        mline *m = &lines[n++];
        char *p = buf, bytes[24], lat[32], lon[32];
        field(&p, m->path, sizeof m->path);
        field(&p, m->hash, sizeof m->hash);
        field(&p, bytes, sizeof bytes);
        field(&p, m->outfall, sizeof m->outfall);
        field(&p, m->code, sizeof m->code);
        field(&p, m->observation, sizeof m->observation);
        field(&p, m->kind, sizeof m->kind);
        field(&p, m->taken, sizeof m->taken);
        field(&p, lat, sizeof lat);
        field(&p, lon, sizeof lon);
        m->bytes = atol(bytes);
        m->has_gps = lat[0] != '\0';
        m->lat = atof(lat);
        m->lon = atof(lon);
    }
    fclose(fp);
    return n;
}

/* BLAKE2b-256 of a file's bytes; its size into *size. */
static void file_digest(const char *path, char out[65], long *size) {
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    fseek(fp, 0, SEEK_END);
    *size = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    uint8_t *data = malloc((size_t)*size + 1);
    assert_int_equal(fread(data, 1, (size_t)*size, fp), (size_t)*size);
    fclose(fp);
    th_hash_hex(data, (size_t)*size, out);
    free(data);
}

/* Downloads the archive at query as token, unpacks it with GNU tar into a fresh folder (dir) and
 * returns the manifest's lines; checks the archive lists MANIFEST.tsv first and that every
 * photo's bytes match its manifest line. */
static int fetch_archive(const char *token, const char *query, char dir[64], mline *lines,
                         int cap) {
    char path[160];
    snprintf(path, sizeof path, "/v1/exports/photos.tar%s", query);
    th_response r;
    get(token, path, 200, &r);
    assert_string_equal(r.content_type, "application/x-tar");
    assert_int_equal(r.len % 512, 0);
    snprintf(dir, 64, "/tmp/outfall-archive-XXXXXX");
    assert_non_null(mkdtemp(dir));
    char tar[96], cmd[256], first[128] = "";
    snprintf(tar, sizeof tar, "%s.tar", dir);
    FILE *fp = fopen(tar, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(r.body, 1, r.len, fp), r.len);
    fclose(fp);
    th_response_free(&r);
    snprintf(cmd, sizeof cmd, "tar -tf %s 2>/dev/null | head -1", tar);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    assert_non_null(fgets(first, sizeof first, p));
    pclose(p);
    assert_string_equal(first, "MANIFEST.tsv\n");
    snprintf(cmd, sizeof cmd, "tar -xf %s -C %s", tar, dir);
    assert_int_equal(system(cmd), 0);
    unlink(tar);
    int n = read_manifest(dir, lines, cap);
    for (int i = 0; i < n; i++) {
        char file[300], digest[65];
        long size = 0;
        snprintf(file, sizeof file, "%s/%s", dir, lines[i].path);
        file_digest(file, digest, &size);
        assert_string_equal(digest, lines[i].hash);
        assert_int_equal(size, lines[i].bytes);
    }
    return n;
}

static void remove_dir(const char *dir) {
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

/* The fixture's manifest row of file. */
static const th_manifest_row *fixture_row(const th_manifest_row *rows, int n, const char *file) {
    for (int i = 0; i < n; i++)
        if (strcmp(rows[i].file, file) == 0) return &rows[i];
    fail_msg("no fixture %s", file);
    return NULL;
}

static void photo_archive_unpacks_with_tar_and_matches_the_fixture_manifest(void **state) {
    (void)state;
    build_archive();
    th_manifest_row fx[32];
    int n_fx = th_manifest(fx, 32);
    assert_true(n_fx >= N_PLACED);
    char dir[64];
    mline lines[16];
    int n = fetch_archive(integrator.token, "", dir, lines, 16);
    assert_int_equal(n, N_PLACED); /* the photo never uploaded is not in it */
    for (int i = 0; i < N_PLACED; i++) {
        const th_manifest_row *want = fixture_row(fx, n_fx, placed[i].file);
        const mline *m = NULL;
        for (int j = 0; j < n; j++)
            if (strcmp(lines[j].hash, want->hash) == 0) m = &lines[j];
        if (!m) fail_msg("%s is not in the archive", placed[i].file);
        assert_int_equal(m->bytes, want->bytes);
        assert_string_equal(m->outfall, ids[placed[i].outfall]);
        assert_true(strncmp(m->code, placed[i].outfall == 1 ? DIV_MZ : DIV, 6) == 0);
        assert_int_equal(strlen(m->observation), 36);
        char path[200];
        snprintf(path, sizeof path, "photos/%s/%s/%s.jpg", m->outfall, m->observation, m->hash);
        assert_string_equal(m->path, path);
        const char *kind = protobuf_c_enum_descriptor_get_value(
                               &outfall__v1__photo_kind__descriptor, placed[i].kind)
                               ->name;
        assert_string_equal(m->kind, kind);
        assert_int_equal(m->has_gps, want->has_gps);
        if (want->has_gps) {
            assert_true(fabs(m->lat - want->lat) < 1e-6);
            assert_true(fabs(m->lon - want->lon) < 1e-6);
        }
        if (want->datetime[0]) { /* "2026:03:14 10:22:05" → "2026-03-14T10:22:05+08:00" */
            char taken[40];
            snprintf(taken, sizeof taken, "%.4s-%.2s-%.2sT%.8s+08:00", want->datetime,
                     want->datetime + 5, want->datetime + 8, want->datetime + 11);
            assert_string_equal(m->taken, taken);
        } else {
            assert_string_equal(m->taken, "");
        }
    }
    remove_dir(dir);
}

/* The archive's photo count at query as token. */
static int archived(const char *token, const char *query) {
    char dir[64];
    mline lines[16];
    int n = fetch_archive(token, query, dir, lines, 16);
    remove_dir(dir);
    return n;
}

static void photo_archive_filters_scopes_and_refuses_like_the_exports(void **state) {
    (void)state;
    build_archive();
    assert_int_equal(archived(integrator.token, "?division=" DIV_MZ), 2);
    assert_int_equal(archived(integrator.token, "?river=qinhe"), 3);
    assert_int_equal(archived(integrator.token, "?division=" DIV "&river=danhe"), 1);
    assert_int_equal(archived(integrator.token, "?to=2023-12-31"), 3);
    assert_int_equal(archived(integrator.token, "?from=2024-01-01"), 3);
    assert_int_equal(archived(integrator.token, "?updated_since=2999-01-01"), 0);
    assert_int_equal(archived(county_sup.token, ""), 4); /* 沁阳市 only */
    refused(county_sup.token, "/v1/exports/photos.tar?division=" DIV_MZ, 403, "outside_division");
    refused(integrator.token, "/v1/exports/photos.tar?division=999999", 400, "unknown_division");
    refused(integrator.token, "/v1/exports/photos.tar?river=amazon", 400, "unknown_river");
    refused(integrator.token, "/v1/exports/photos.tar?from=2024-02-30", 400, "invalid_argument");
    refused(NULL, "/v1/exports/photos.tar", 401, "token_missing");
}

/* A found-date range whose end is before its start is refused before anything is streamed, for
 * each export alike (issue 19: the console shows the catalogue's Chinese text). */
static void an_export_whose_to_is_before_from_is_refused(void **state) {
    (void)state;
    static const char *const paths[] = {"/v1/exports/outfalls.csv", "/v1/exports/outfalls.geojson",
                                        "/v1/exports/photos.tar"};
    char path[160];
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        snprintf(path, sizeof path, "%s?from=2024-03-02&to=2024-03-01", paths[i]);
        refused(integrator.token, path, 400, "invalid_date_range");
        snprintf(path, sizeof path, "%s?from=2024-03-01&to=2024-03-01", paths[i]);
        th_response r;
        get(integrator.token, path, 200, &r); /* one day, from = to, is a range */
        th_response_free(&r);
    }
}

static int group_setup(void **state) {
    (void)state;
    const char *div[] = {DIV, NULL}, *both[] = {DIV, DIV_MZ, NULL}, *city[] = {"410800", NULL};
    /* Lifecycles are dated anywhere in the programme here: no backdating limit (the rule has its
     * own tests, test_dates.c). */
    const char *const args[] = {"--backdate-days", "36500", NULL};
    if (th_server_start(&srv, args) != 0) return -1;
    if (th_user_new(&srv, "sup-city", TH_ROLE(SUPERVISOR), city, &city_sup) ||
        th_user_new(&srv, "sup-qy", TH_ROLE(SUPERVISOR), div, &county_sup) ||
        th_user_new(&srv, "surveyor", TH_ROLE(SURVEYOR), both, &surveyor) ||
        th_user_new(&srv, "integrator", TH_ROLE(INTEGRATOR), city, &integrator))
        return -1;
    return th_device_new(&srv, surveyor.token, &dev) ? -1 : 0;
}

static int group_teardown(void **state) {
    (void)state;
    return th_server_stop(&srv);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(progress_and_exports_follow_the_approved_version),
        cmocka_unit_test(photo_archive_unpacks_with_tar_and_matches_the_fixture_manifest),
        cmocka_unit_test(photo_archive_filters_scopes_and_refuses_like_the_exports),
        cmocka_unit_test(an_export_whose_to_is_before_from_is_refused),
    };
    return cmocka_run_group_tests_name("exports over HTTP", tests, group_setup, group_teardown);
}
