/* Photos through the real server: the content-addressed store (digests, one copy however often
 * or concurrently sent), tus uploads (offsets, checksums, OPTIONS; resuming after a dropped link
 * is in test_photos_resume.c), PUT, the checks on
 * every byte (digest, type, end marker, size), reads (ETag, Range, /info) and who may read, the
 * reviewer flags from EXIF, photos_pending clearing in the feed, expiry, and outfallctl. */
#include <math.h>
#include <pthread.h>
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
#include <sodium.h>

#include "common/util.h"
#include "tests/lib/harness.h"
#include "tests/api/photos_calls.h"

#define SITE_LAT 35.08621 /* where qinhe-outfall-a-1.jpg was taken */
#define SITE_LON 112.95124
#define SITE_TIME_MS 1773454925000LL /* and when: 2026-03-14 10:22:05 +08:00 */
#define DAY_MS 86400000LL

static th_user s882, s803, s802, integ; /* surveyors of 410882, 410803, 410802; an integrator */
static th_device d882;
static char site[37]; /* an outfall of 410882 at the site */

/* Uploads fixture name with PUT (201, or 200 when stored already); its hash into hash. */
static void put_fixture(const char *name, char hash[65]) {
    th_file f;
    assert_int_equal(th_fixture(name, &f), 0);
    th_hash_hex(f.data, f.len, hash);
    long st = th_photo_put(&srv, s882.token, hash, f.data, f.len, NULL);
    assert_true(st == 200 || st == 201);
    th_file_free(&f);
}

/* Syncs, as s882, an observation of the site naming hash, seen at at_ms; its id into id. */
static void observe(const char *hash, int64_t at_ms, char id[37], int *reported_missing) {
    th_batch *b = th_batch_new(&d882);
    Outfall__V1__Observation *o = th_observation_create(b, site, SITE_LAT, SITE_LON);
    o->observed_at_ms = at_ms;
    th_observation_photo(b, o, hash, OUTFALL__V1__PHOTO_KIND__PHOTO_KIND_NEAR);
    util_strlcpy(id, th_batch_entity(b, 0), 37);
    Outfall__V1__SyncResponse *r = th_sync_ok(&srv, s882.token, b, TH_PB);
    th_batch_free(b);
    assert_non_null(r);
    assert_string_equal(th_status_name(r->results[0]->status), "APPLIED");
    if (reported_missing) *reported_missing = th_has(r->missing_photos, r->n_missing_photos, hash);
    outfall__v1__sync_response__free_unpacked(r, NULL);
}

/* The observation's flags joined with commas ("" for none). */
static void flags_of(const char *id, char out[256]) {
    Outfall__V1__Observation *o = NULL;
    assert_int_equal(th_get_observation(&srv, s882.token, id, &o, NULL), 200);
    th_flags_join(o->flags, o->n_flags, out, 256);
    outfall__v1__observation__free_unpacked(o, NULL);
}

static int setup(void **state) {
    (void)state;
    const char *const in882[] = {"410882", NULL}, *const in803[] = {"410803", NULL},
                      *const in802[] = {"410802", NULL}, *const city[] = {"410800", NULL};
    if (th_server_start(&srv, NULL) < 0 ||
        th_user_new(&srv, "s882", TH_ROLE(SURVEYOR), in882, &s882) < 0 ||
        th_user_new(&srv, "s803", TH_ROLE(SURVEYOR), in803, &s803) < 0 ||
        th_user_new(&srv, "s802", TH_ROLE(SURVEYOR), in802, &s802) < 0 ||
        th_user_new(&srv, "integ", TH_ROLE(INTEGRATOR), city, &integ) < 0 ||
        th_device_new(&srv, s882.token, &d882) < 0)
        return -1;
    th_batch *b = th_batch_new(&d882);
    th_outfall_create(b, "qinhe", "410882", SITE_LAT, SITE_LON);
    util_strlcpy(site, th_batch_entity(b, 0), sizeof site);
    Outfall__V1__SyncResponse *r = th_sync_ok(&srv, s882.token, b, TH_PB);
    th_batch_free(b);
    if (!r) return -1;
    outfall__v1__sync_response__free_unpacked(r, NULL);
    return 0;
}

static int teardown(void **state) {
    (void)state;
    return th_server_stop(&srv);
}

/* ---- the store ---- */

static void every_fixture_is_stored_with_its_manifest_digest(void **state) {
    (void)state;
    th_manifest_row rows[32];
    int n = th_manifest(rows, 32);
    assert_true(n >= 8);
    for (int i = 0; i < n; i++) {
        if (!strcmp(rows[i].file, "not-an-image.jpg") || !strcmp(rows[i].file, "truncated.jpg"))
            continue;
        char hash[65], got[65];
        put_fixture(rows[i].file, hash);
        assert_string_equal(hash, rows[i].hash);
        th_photo_digest(&srv, s882.token, hash, got);
        assert_string_equal(got, rows[i].hash);
        assert_int_equal(th_db_count(&srv, "SELECT size FROM photos WHERE hash = ?", hash),
                         rows[i].bytes);
    }
}

static void same_photo_twice_is_stored_once(void **state) {
    (void)state;
    th_file f;
    char hash[65], length[48], offset[32];
    th_xresult x;
    assert_int_equal(th_photo_variant("qinhe-outfall-a-1.jpg", &f, hash), 0);
    snprintf(length, sizeof length, "Upload-Length: %zu", f.len);
    for (int i = 0; i < 2; i++) { /* a tus upload half done: a PUT overtakes it */
        assert_int_equal(xfer("POST", at(hash, ""), s882.token, HDRS(TUS, length), NULL, 0, &x),
                         201);
        th_response_free(&x.r);
        if (i == 0)
            assert_int_equal(xfer("PATCH", at(hash, ""), s882.token,
                                  HDRS(TUS, OCTETS, "Upload-Offset: 0"), f.data, 1000, &x),
                             204);
        th_response_free(&x.r);
        assert_int_equal(th_photo_put(&srv, i ? s803.token : s882.token, hash, f.data, f.len, NULL),
                         i ? 200 : 201);
    }
    /* the tus upload is over: all there (and a creation after the fact too) */
    assert_int_equal(xfer("HEAD", at(hash, ""), s882.token, HDRS(TUS), NULL, 0, &x), 200);
    th_xheader(&x, "Upload-Offset", offset, sizeof offset);
    assert_int_equal(atol(offset), (long)f.len);
    th_response_free(&x.r);
    char dir[32];
    snprintf(dir, sizeof dir, "photos/%.2s/%.2s", hash, hash + 2);
    assert_int_equal(th_count_files(&srv, dir), 1);
    assert_int_equal(th_uploads_of(&srv, hash), 0);
    assert_int_equal(th_db_count(&srv, "SELECT count(*) FROM photos WHERE hash = ?", hash), 1);
    assert_int_equal(th_db_count(&srv, "SELECT count(*) FROM uploads WHERE hash = ?", hash), 0);
    th_file_free(&f);
}

typedef struct racer {
    th_file *f;
    const char *hash;
    int tus;
    long status;
} racer;

static void *race(void *arg) {
    racer *r = arg;
    r->status =
        r->tus ? th_tus_upload(&srv, s882.token, r->hash, r->f->data, r->f->len, r->f->len, NULL)
               : th_photo_put(&srv, s882.token, r->hash, r->f->data, r->f->len, NULL);
    return NULL;
}

static void same_photo_twice_in_parallel_is_stored_once(void **state) {
    (void)state;
    for (int tus = 0; tus <= 1; tus++) {
        th_file f;
        char hash[65], dir[32];
        assert_int_equal(th_photo_variant("no-gps.jpg", &f, hash), 0);
        racer r[2] = {{&f, hash, tus, 0}, {&f, hash, tus, 0}};
        pthread_t t[2];
        for (int i = 0; i < 2; i++)
            assert_int_equal(pthread_create(&t[i], NULL, race, &r[i]), 0);
        for (int i = 0; i < 2; i++)
            pthread_join(t[i], NULL);
        for (int i = 0; i < 2; i++) /* PUT: 201 or 200; tus: each PATCH ends the upload */
            assert_true(tus ? r[i].status == 204 : r[i].status == 200 || r[i].status == 201);
        snprintf(dir, sizeof dir, "photos/%.2s/%.2s", hash, hash + 2);
        assert_int_equal(th_count_files(&srv, dir), 1);
        assert_int_equal(th_uploads_of(&srv, hash), 0);
        assert_int_equal(th_db_count(&srv, "SELECT count(*) FROM photos WHERE hash = ?", hash), 1);
        char got[65];
        th_photo_digest(&srv, s882.token, hash, got);
        assert_string_equal(got, hash);
        th_file_free(&f);
    }
}

/* ---- every byte is checked ---- */

/* Sends data under hash by PUT and by tus; both must fail with status and code, leaving the
 * database, the photo store and the uploads folder as they were. */
static void refused_both_ways(const char *hash, const th_file *f, long status, const char *code) {
    th_sum before = th_db_checksum(srv.data, TH_ALL);
    int photos = th_count_files(&srv, "photos"), uploads = th_count_files(&srv, "uploads");
    th_error e;
    assert_int_equal(th_photo_put(&srv, s882.token, hash, f->data, f->len, &e), status);
    assert_string_equal(e.code, code);
    assert_int_equal(th_tus_upload(&srv, s882.token, hash, f->data, f->len, 100000, &e), status);
    assert_string_equal(e.code, code);
    th_sum after = th_db_checksum(srv.data, TH_ALL);
    assert_string_equal(before.hex, after.hex);
    assert_int_equal(th_count_files(&srv, "photos"), photos);
    assert_int_equal(th_count_files(&srv, "uploads"), uploads);
    th_xresult x;
    assert_int_equal(xfer("HEAD", at(hash, ""), s882.token, HDRS(TUS), NULL, 0, &x), 404);
    th_response_free(&x.r);
    assert_int_equal(xfer("GET", at(hash, ""), s882.token, NULL, NULL, 0, &x), 404);
    th_response_free(&x.r);
}

static void wrong_bytes_are_digest_mismatch_and_nothing_is_kept(void **state) {
    (void)state;
    th_file other, f;
    char hash[65];
    assert_int_equal(th_photo_variant("qinhe-outfall-a-1.jpg", &other, hash), 0);
    assert_int_equal(th_fixture("qinhe-outfall-a-2.jpg", &f), 0);
    refused_both_ways(hash, &f, 400, "digest_mismatch");
    th_file_free(&f);
    th_file_free(&other);
}

static void not_an_image_is_415(void **state) {
    (void)state;
    th_file f;
    char hash[65];
    assert_int_equal(th_fixture("not-an-image.jpg", &f), 0);
    th_hash_hex(f.data, f.len, hash);
    refused_both_ways(hash, &f, 415, "unsupported_media_type");
    th_file_free(&f);
}

static void truncated_jpeg_is_refused(void **state) {
    (void)state;
    th_file f;
    char hash[65];
    assert_int_equal(th_fixture("truncated.jpg", &f), 0);
    th_hash_hex(f.data, f.len, hash);
    refused_both_ways(hash, &f, 400, "truncated_image");
    th_file_free(&f);
}

static void over_the_size_limit_is_413_before_a_byte_is_stored(void **state) {
    (void)state;
    th_server small;
    const char *args[] = {"--max-photo-bytes", "100000", NULL};
    assert_int_equal(th_server_start(&small, args), 0);
    const char *token = th_admin_token(&small);
    th_file f;
    char hash[65], path[128];
    th_xresult x;
    assert_int_equal(th_fixture("qinhe-outfall-a-1.jpg", &f), 0); /* 289234 bytes */
    th_hash_hex(f.data, f.len, hash);
    snprintf(path, sizeof path, "/v1/photos/%s", hash);
    th_xfer put = {.method = "PUT", .path = path, .token = token, .body = f.data, .len = f.len};
    assert_int_equal(th_xfer_run(&small, &put, &x), 413); /* Content-Length says it all */
    assert_string_equal(code_of(&x), "photo_too_large");
    th_response_free(&x.r);
    put.chunked = 1; /* no length given: refused as it crosses the limit */
    assert_int_equal(th_xfer_run(&small, &put, &x), 413);
    assert_string_equal(code_of(&x), "photo_too_large");
    th_response_free(&x.r);
    th_xfer create = {.method = "POST",
                      .path = path,
                      .token = token,
                      .headers = HDRS(TUS, "Upload-Length: 289234")};
    assert_int_equal(th_xfer_run(&small, &create, &x), 413);
    assert_string_equal(code_of(&x), "photo_too_large");
    th_response_free(&x.r);
    th_xfer options = {.method = "OPTIONS", .path = "/v1/photos"};
    assert_int_equal(th_xfer_run(&small, &options, &x), 204);
    char max[32];
    th_xheader(&x, "Tus-Max-Size", max, sizeof max);
    assert_string_equal(max, "100000");
    th_response_free(&x.r);
    assert_int_equal(th_count_files(&small, "uploads"), 0);
    assert_int_equal(th_count_files(&small, "photos"), 0);
    th_file_free(&f);
    assert_int_equal(th_server_stop(&small), 0);
}

static void stale_partial_upload_expires(void **state) {
    (void)state;
    th_server brief;
    const char *args[] = {"--upload-expiry", "1", NULL};
    assert_int_equal(th_server_start(&brief, args), 0);
    const char *token = th_admin_token(&brief);
    th_file f;
    char hash[65], path[128], length[48];
    th_xresult x;
    assert_int_equal(th_photo_variant("no-exif.jpg", &f, hash), 0);
    snprintf(path, sizeof path, "/v1/photos/%s", hash);
    snprintf(length, sizeof length, "Upload-Length: %zu", f.len);
    th_xfer create = {.method = "POST", .path = path, .token = token, .headers = HDRS(TUS, length)};
    assert_int_equal(th_xfer_run(&brief, &create, &x), 201);
    th_response_free(&x.r);
    th_xfer patch = {.method = "PATCH",
                     .path = path,
                     .token = token,
                     .headers = HDRS(TUS, "Upload-Offset: 0", OCTETS),
                     .body = f.data,
                     .len = 1000};
    assert_int_equal(th_xfer_run(&brief, &patch, &x), 204);
    th_response_free(&x.r);
    assert_int_equal(th_count_files(&brief, "uploads"), 1);
    th_xfer head = {.method = "HEAD", .path = path, .token = token, .headers = HDRS(TUS)};
    long st = 200;
    for (int waited = 0; waited < 6000 && st == 200; waited += 250) {
        usleep(250 * 1000);
        st = th_xfer_run(&brief, &head, &x);
        th_response_free(&x.r);
    }
    assert_int_equal(st, 404);
    assert_int_equal(th_count_files(&brief, "uploads"), 0);
    th_file_free(&f);
    assert_int_equal(th_server_stop(&brief), 0);
}

/* ---- reviewer flags ---- */

/* Observes fixture name (stored first) at at_ms and checks the observation's flags. */
static void flags_with(const char *name, int64_t at_ms, const char *want) {
    char hash[65], id[37], flags[256];
    put_fixture(name, hash);
    observe(hash, at_ms, id, NULL);
    flags_of(id, flags);
    assert_string_equal(flags, want);
}

static void photo_at_the_claimed_site_gets_no_flag(void **state) {
    (void)state;
    flags_with("qinhe-outfall-a-1.jpg", SITE_TIME_MS, "");
}

static void photo_far_from_the_site_is_flagged(void **state) {
    (void)state;
    flags_with("far-from-claimed-site.jpg", th_plus8_ms("2026:03:14 16:05:10"),
               "photo_far_from_site");
}

static void photos_without_a_geotag_are_flagged(void **state) {
    (void)state;
    flags_with("no-gps.jpg", th_plus8_ms("2026:03:15 09:01:00"), "photo_no_geotag");
    flags_with("no-exif.jpg", SITE_TIME_MS, "photo_no_geotag");
}

static void photo_taken_a_day_earlier_is_flagged(void **state) {
    (void)state;
    flags_with("qinhe-outfall-a-1.jpg", SITE_TIME_MS + DAY_MS, "photo_time_mismatch");
}

static void photos_pending_clears_in_the_feed_once_uploaded(void **state) {
    (void)state;
    th_file f;
    char hash[65], id[37], flags[256];
    int missing = 0;
    int64_t v1 = 0, v2 = 0;
    assert_int_equal(th_photo_variant("qinhe-outfall-a-2.jpg", &f, hash), 0);
    observe(hash, SITE_TIME_MS + 96000, id, &missing);
    assert_true(missing); /* the sync answer names the photo the server lacks */
    flags_of(id, flags);
    assert_string_equal(flags, "photos_pending");
    int64_t seq1 = th_feed_observation(&srv, s882.token, id, &v1, flags);
    assert_string_equal(flags, "photos_pending");
    assert_int_equal(th_tus_upload(&srv, s882.token, hash, f.data, f.len, 100000, NULL), 204);
    flags_of(id, flags);
    assert_string_equal(flags, "");
    int64_t seq2 = th_feed_observation(&srv, s882.token, id, &v2, flags);
    assert_true(seq2 > seq1);
    assert_int_equal(v2, v1 + 1);
    assert_string_equal(flags, "");
    th_file_free(&f);
}

/* ---- reading ---- */

/* GET, HEAD and /info of hash as u: all 200 or all 404. */
static void reads(th_user *u, const char *hash, long want) {
    th_xresult x;
    assert_int_equal(xfer("GET", at(hash, ""), u->token, NULL, NULL, 0, &x), want);
    if (want == 404) assert_string_equal(code_of(&x), "not_found");
    th_response_free(&x.r);
    assert_int_equal(xfer("HEAD", at(hash, ""), u->token, NULL, NULL, 0, &x), want);
    th_response_free(&x.r);
    assert_int_equal(xfer("GET", at(hash, "/info"), u->token, NULL, NULL, 0, &x), want);
    th_response_free(&x.r);
}

static void only_the_referencing_division_and_the_uploader_read_a_photo(void **state) {
    (void)state;
    th_file f;
    char hash[65], id[37];
    int missing = 0;
    assert_int_equal(th_photo_variant("qinhe-outfall-a-1.jpg", &f, hash), 0);
    assert_int_equal(th_photo_put(&srv, s803.token, hash, f.data, f.len, NULL), 201);
    reads(&s803, hash, 200);  /* the uploader */
    reads(&s882, hash, 404);  /* nothing of 410882 names it yet */
    reads(&integ, hash, 404); /* integrators: only photos of outfalls approved at least once */
    observe(hash, SITE_TIME_MS, id, &missing); /* an observation of 410882 names it... */
    assert_true(missing);                      /* ...but its author never uploaded it */
    reads(&s882, hash, 404);                   /* naming a hash does not make it yours */
    assert_int_equal(th_photo_put(&srv, s882.token, hash, f.data, f.len, NULL), 200);
    reads(&s882, hash, 200); /* with the bytes uploaded, the reference counts */
    reads(&s802, hash, 404); /* 410802: not theirs, and not told it exists */
    reads(&s803, hash, 200);
    th_file_free(&f);
}

static void range_requests_answer_206_or_416(void **state) {
    (void)state;
    th_file f;
    char hash[65], value[96], want[96];
    th_xresult x;
    put_fixture("qinhe-outfall-a-1.jpg", hash);
    assert_int_equal(th_fixture("qinhe-outfall-a-1.jpg", &f), 0);
    const struct {
        const char *range;
        size_t first, last;
    } cases[] = {{"Range: bytes=0-99", 0, 99},
                 {"Range: bytes=-10", f.len - 10, f.len - 1},
                 {"Range: bytes=289200-", 289200, f.len - 1},
                 {"Range: bytes=289000-999999", 289000, f.len - 1}};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        assert_int_equal(xfer("GET", at(hash, ""), s882.token, HDRS(cases[i].range), NULL, 0, &x),
                         206);
        snprintf(want, sizeof want, "bytes %zu-%zu/%zu", cases[i].first, cases[i].last, f.len);
        th_xheader(&x, "Content-Range", value, sizeof value);
        assert_string_equal(value, want);
        assert_int_equal(x.r.len, cases[i].last - cases[i].first + 1);
        assert_memory_equal(x.r.body, f.data + cases[i].first, x.r.len);
        th_response_free(&x.r);
    }
    assert_int_equal(
        xfer("GET", at(hash, ""), s882.token, HDRS("Range: bytes=289234-"), NULL, 0, &x), 416);
    assert_string_equal(code_of(&x), "range_not_satisfiable");
    th_xheader(&x, "Content-Range", value, sizeof value);
    assert_string_equal(value, "bytes */289234");
    th_response_free(&x.r);
    /* the whole file, and what a cache needs */
    assert_int_equal(xfer("HEAD", at(hash, ""), s882.token, NULL, NULL, 0, &x), 200);
    snprintf(want, sizeof want, "\"%s\"", hash);
    th_xheader(&x, "ETag", value, sizeof value);
    assert_string_equal(value, want);
    th_xheader(&x, "Cache-Control", value, sizeof value);
    assert_non_null(strstr(value, "immutable"));
    th_xheader(&x, "Accept-Ranges", value, sizeof value);
    assert_string_equal(value, "bytes");
    th_xheader(&x, "Content-Length", value, sizeof value);
    assert_int_equal(atol(value), (long)f.len);
    th_xheader(&x, "Content-Type", value, sizeof value);
    assert_string_equal(value, "image/jpeg");
    th_response_free(&x.r);
    snprintf(value, sizeof value, "If-None-Match: \"%s\"", hash);
    assert_int_equal(xfer("GET", at(hash, ""), s882.token, HDRS(value), NULL, 0, &x), 304);
    th_response_free(&x.r);
    th_file_free(&f);
}

static void info_has_the_manifest_geotag_and_time(void **state) {
    (void)state;
    th_manifest_row rows[32];
    int n = th_manifest(rows, 32);
    for (int i = 0; i < n; i++) {
        if (!strcmp(rows[i].file, "not-an-image.jpg") || !strcmp(rows[i].file, "truncated.jpg"))
            continue;
        char hash[65];
        put_fixture(rows[i].file, hash);
        Outfall__V1__PhotoInfo *p = NULL;
        const char *enc = i % 2 ? TH_JSON : TH_PB;
        assert_int_equal(th_call(&srv, "GET", at(hash, "/info"), s882.token, enc, NULL,
                                 &outfall__v1__photo_info__descriptor, (ProtobufCMessage **)&p,
                                 NULL),
                         200);
        assert_string_equal(TH_S(p->hash), rows[i].hash);
        assert_int_equal(p->size, rows[i].bytes);
        assert_string_equal(TH_S(p->media_type), "image/jpeg");
        assert_true(p->has_width && p->width > 0 && p->has_height && p->height > 0);
        assert_int_equal(p->has_gps_lat && p->has_gps_lon, rows[i].has_gps);
        if (rows[i].has_gps)
            assert_true(fabs(p->gps_lat - rows[i].lat) < 1e-6 &&
                        fabs(p->gps_lon - rows[i].lon) < 1e-6);
        assert_int_equal(p->has_taken_at_ms, rows[i].datetime[0] != '\0');
        if (p->has_taken_at_ms) assert_int_equal(p->taken_at_ms, rows[i].taken_ms);
        if (!strcmp(rows[i].file, "qinhe-outfall-a-1.jpg")) {
            assert_true(p->has_gps_alt && fabs(p->gps_alt - 121.5) < 1e-9);
            assert_string_equal(TH_S(p->taken_at_source), "offset");
            assert_string_equal(TH_S(p->make), "HUAWEI");
            assert_string_equal(TH_S(p->model), "ALN-AL00");
        }
        outfall__v1__photo_info__free_unpacked(p, NULL);
    }
}

static void missing_names_only_what_the_server_lacks(void **state) {
    (void)state;
    th_file f;
    char stored[65], fresh[65];
    put_fixture("qinhe-outfall-a-1.jpg", stored);
    assert_int_equal(th_photo_variant("qinhe-outfall-a-1.jpg", &f, fresh), 0);
    char *ask[] = {stored, fresh, fresh};
    Outfall__V1__PhotoHashes req = OUTFALL__V1__PHOTO_HASHES__INIT, *resp = NULL;
    req.n_hashes = 3;
    req.hashes = ask;
    for (int json = 0; json <= 1; json++) {
        assert_int_equal(th_call(&srv, "POST", "/v1/photos/missing", s882.token,
                                 json ? TH_JSON : TH_PB, &req.base,
                                 &outfall__v1__photo_hashes__descriptor, (ProtobufCMessage **)&resp,
                                 NULL),
                         200);
        assert_int_equal(resp->n_hashes, 1);
        assert_string_equal(resp->hashes[0], fresh);
        outfall__v1__photo_hashes__free_unpacked(resp, NULL);
    }
    th_error e;
    ask[1] = "not-a-hash";
    assert_int_equal(
        th_call(&srv, "POST", "/v1/photos/missing", s882.token, TH_PB, &req.base, NULL, NULL, &e),
        400);
    assert_string_equal(e.code, "invalid_argument");
    /* integrators read; they do not upload */
    assert_int_equal(th_photo_put(&srv, integ.token, fresh, f.data, f.len, &e), 403);
    assert_string_equal(e.code, "forbidden_role");
    th_file_free(&f);
}

/* ---- tus details ---- */

static void tus_options_and_versions(void **state) {
    (void)state;
    th_xresult x;
    char v[128];
    assert_int_equal(xfer("OPTIONS", "/v1/photos", NULL, NULL, NULL, 0, &x), 204);
    const char *want[][2] = {
        {"Tus-Resumable", "1.0.0"},
        {"Tus-Version", "1.0.0"},
        {"Tus-Extension", "creation,creation-with-upload,expiration,checksum,termination"},
        {"Tus-Max-Size", "26214400"},
        {"Tus-Checksum-Algorithm", "sha1,sha256,sha512"}};
    for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
        assert_true(th_xheader(&x, want[i][0], v, sizeof v));
        assert_string_equal(v, want[i][1]);
    }
    th_response_free(&x.r);
    char hash[65];
    put_fixture("no-exif.jpg", hash);
    const char *const *bad[] = {HDRS(OCTETS, "Upload-Offset: 0"),
                                HDRS("Tus-Resumable: 0.2.2", OCTETS, "Upload-Offset: 0")};
    for (size_t i = 0; i < 2; i++) {
        assert_int_equal(xfer("PATCH", at(hash, ""), s882.token, bad[i], "x", 1, &x), 412);
        assert_string_equal(code_of(&x), "unsupported_tus_version");
        assert_true(th_xheader(&x, "Tus-Version", v, sizeof v));
        th_response_free(&x.r);
    }
    assert_int_equal(xfer("POST", "/v1/photos", s882.token, HDRS(TUS), NULL, 0, &x), 400);
    assert_string_equal(code_of(&x), "invalid_argument"); /* no Upload-Length */
    assert_true(th_xheader(&x, "Tus-Resumable", v, sizeof v));
    th_response_free(&x.r);
}

static void checksum_mismatch_is_460_and_the_chunk_is_dropped(void **state) {
    (void)state;
    th_file f;
    char hash[65], length[48], sum[160], off[32];
    th_xresult x;
    uint8_t d[64];
    assert_int_equal(th_photo_variant("no-gps.jpg", &f, hash), 0);
    snprintf(length, sizeof length, "Upload-Length: %zu", f.len);
    assert_int_equal(xfer("POST", at(hash, ""), s882.token, HDRS(TUS, length), NULL, 0, &x), 201);
    th_response_free(&x.r);
    const char *patch = at(hash, "");
    crypto_hash_sha256(d, f.data + 1, 1000); /* the digest of other bytes */
    char *b64 = util_base64_encode(d, 32);
    snprintf(sum, sizeof sum, "Upload-Checksum: sha256 %s", b64);
    free(b64);
    assert_int_equal(xfer("PATCH", patch, s882.token, HDRS(TUS, OCTETS, "Upload-Offset: 0", sum),
                          f.data, 1000, &x),
                     460);
    assert_string_equal(code_of(&x), "checksum_mismatch");
    th_response_free(&x.r);
    assert_int_equal(xfer("PATCH", patch, s882.token,
                          HDRS(TUS, OCTETS, "Upload-Offset: 0", "Upload-Checksum: md5 AAAA"),
                          f.data, 1000, &x),
                     400);
    assert_string_equal(code_of(&x), "unsupported_checksum_algorithm");
    th_response_free(&x.r);
    assert_int_equal(xfer("HEAD", patch, s882.token, HDRS(TUS), NULL, 0, &x), 200);
    th_xheader(&x, "Upload-Offset", off, sizeof off);
    assert_string_equal(off, "0"); /* nothing kept */
    th_response_free(&x.r);
    crypto_hash_sha512(d, f.data, 1000);
    b64 = util_base64_encode(d, 64);
    snprintf(sum, sizeof sum, "Upload-Checksum: sha512 %s", b64);
    free(b64);
    assert_int_equal(xfer("PATCH", patch, s882.token, HDRS(TUS, OCTETS, "Upload-Offset: 0", sum),
                          f.data, 1000, &x),
                     204);
    th_xheader(&x, "Upload-Offset", off, sizeof off);
    assert_string_equal(off, "1000");
    th_response_free(&x.r);
    th_file_free(&f);
}

/* ---- outfallctl photos upload ---- */

static void cli_uploads_a_folder_resuming_and_skipping(void **state) {
    (void)state;
    static char out[8192], err[8192];
    const char *names[] = {"qinhe-outfall-a-1.jpg", "no-gps.jpg", "far-from-claimed-site.jpg"};
    char dir[400], bad[400], path[600], hashes[3][65], token[160];
    th_file f[3];
    th_xresult x;
    snprintf(dir, sizeof dir, "%s/cli-photos", srv.root);
    snprintf(bad, sizeof bad, "%s/cli-bad", srv.root);
    assert_int_equal(mkdir(dir, 0700), 0);
    assert_int_equal(mkdir(bad, 0700), 0);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(th_photo_variant(names[i], &f[i], hashes[i]), 0);
        snprintf(path, sizeof path, "%s/%d-%s", dir, i, names[i]);
        assert_int_equal(th_write_file(path, f[i].data, f[i].len), 0);
    }
    snprintf(path, sizeof path, "%s/notes.txt", dir); /* not a photo: left alone */
    assert_int_equal(th_write_file(path, f[0].data, f[0].len), 0);
    /* the first was cut off after 100000 bytes on an earlier try */
    char length[48];
    snprintf(length, sizeof length, "Upload-Length: %zu", f[0].len);
    assert_int_equal(xfer("POST", at(hashes[0], ""), s882.token, HDRS(TUS, length), NULL, 0, &x),
                     201);
    th_response_free(&x.r);
    assert_int_equal(xfer("PATCH", at(hashes[0], ""), s882.token,
                          HDRS(TUS, OCTETS, "Upload-Offset: 0"), f[0].data, 100000, &x),
                     204);
    th_response_free(&x.r);
    snprintf(token, sizeof token, "OUTFALL_TOKEN=%s", s882.token);
    const char *const env[] = {token, NULL};
    int rc =
        th_ctl(&srv, env, HDRS("photos", "upload", dir, "--chunk", "65536"), out, err, sizeof out);
    print_message("%s%s", out, err);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(out, "3 uploaded, 0 skipped, 0 failed"));
    assert_non_null(strstr(err, "resumed at offset 100000"));
    for (int i = 0; i < 3; i++) {
        char got[65];
        th_photo_digest(&srv, s882.token, hashes[i], got);
        assert_string_equal(got, hashes[i]);
        th_file_free(&f[i]);
    }
    rc = th_ctl(&srv, env, HDRS("photos", "upload", dir), out, err, sizeof out);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(out, "0 uploaded, 3 skipped, 0 failed"));
    assert_int_equal(th_fixture("not-an-image.jpg", &f[0]), 0);
    snprintf(path, sizeof path, "%s/odd.jpg", bad);
    assert_int_equal(th_write_file(path, f[0].data, f[0].len), 0);
    th_file_free(&f[0]);
    rc = th_ctl(&srv, env, HDRS("photos", "upload", bad), out, err, sizeof out);
    assert_int_equal(rc, 1);
    assert_non_null(strstr(out, "0 uploaded, 0 skipped, 1 failed"));
    assert_non_null(strstr(err, "unsupported_media_type"));
    assert_int_equal(th_ctl(&srv, env, HDRS("photos"), out, err, sizeof out), 2);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_fixture_is_stored_with_its_manifest_digest),
        cmocka_unit_test(same_photo_twice_is_stored_once),
        cmocka_unit_test(same_photo_twice_in_parallel_is_stored_once),
        cmocka_unit_test(wrong_bytes_are_digest_mismatch_and_nothing_is_kept),
        cmocka_unit_test(not_an_image_is_415),
        cmocka_unit_test(truncated_jpeg_is_refused),
        cmocka_unit_test(over_the_size_limit_is_413_before_a_byte_is_stored),
        cmocka_unit_test(stale_partial_upload_expires),
        cmocka_unit_test(photo_at_the_claimed_site_gets_no_flag),
        cmocka_unit_test(photo_far_from_the_site_is_flagged),
        cmocka_unit_test(photos_without_a_geotag_are_flagged),
        cmocka_unit_test(photo_taken_a_day_earlier_is_flagged),
        cmocka_unit_test(photos_pending_clears_in_the_feed_once_uploaded),
        cmocka_unit_test(only_the_referencing_division_and_the_uploader_read_a_photo),
        cmocka_unit_test(range_requests_answer_206_or_416),
        cmocka_unit_test(info_has_the_manifest_geotag_and_time),
        cmocka_unit_test(missing_names_only_what_the_server_lacks),
        cmocka_unit_test(tus_options_and_versions),
        cmocka_unit_test(checksum_mismatch_is_460_and_the_chunk_is_dropped),
        cmocka_unit_test(cli_uploads_a_folder_resuming_and_skipping),
    };
    return cmocka_run_group_tests_name("api/photos", tests, setup, teardown);
}
