/* Naming a photo's hash does not make it yours (sync/photos.c, sync/entity.c,
 * programme/public_report_photos.c): a reference to a photo counts only when its author proved
 * possession of the bytes by uploading them. A surveyor of another county who names a stored photo
 * in an observation, or anyone who names it in an anonymous public report, reads nothing of it: not
 * the bytes (GET, HEAD, Range), not /info, not its existence through a tus HEAD or
 * /v1/photos/missing, not through the photo archive; the observation stays photos_pending and
 * the sync answer lists the photo as missing. Uploading the bytes (PUT or tus) makes the caller
 * a holder without storing a second copy, and the reference then counts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "common/util.h"
#include "tests/lib/harness.h"
#include "tests/api/photos_calls.h"

#define DIV_A "410882" /* 沁阳市: where the photo was taken and uploaded */
#define DIV_B "410802" /* 解放区: another county */
#define LAT_A 35.08621
#define LON_A 112.95124
#define LAT_B 35.24012
#define LON_B 113.23571

static th_user s_a, s_b, sup_a, sup_b; /* surveyors and supervisors of DIV_A and DIV_B */
static th_device d_a, d_b;
static char site_a[37], site_b[37];

/* Creates an outfall of division at (lat, lon) as u via d; its id into id. */
static int outfall(th_user *u, th_device *d, const char *division, double lat, double lon,
                   char id[37]) {
    th_batch *b = th_batch_new(d);
    th_outfall_create(b, "qinhe", division, lat, lon);
    util_strlcpy(id, th_batch_entity(b, 0), 37);
    Outfall__V1__SyncResponse *r = th_sync_ok(&srv, u->token, b, TH_PB);
    th_batch_free(b);
    if (!r) return -1;
    outfall__v1__sync_response__free_unpacked(r, NULL);
    return 0;
}

/* Syncs, as u via d, an observation of outfall naming hash; its id into id; *missing set when the
 * answer lists hash in missing_photos. */
static void observe(th_user *u, th_device *d, const char *outfall_id, double lat, double lon,
                    const char *hash, char id[37], int *missing) {
    th_batch *b = th_batch_new(d);
    Outfall__V1__Observation *o = th_observation_create(b, outfall_id, lat, lon);
    th_observation_photo(b, o, hash, OUTFALL__V1__PHOTO_KIND__PHOTO_KIND_NEAR);
    util_strlcpy(id, th_batch_entity(b, 0), 37);
    Outfall__V1__SyncResponse *r = th_sync_ok(&srv, u->token, b, TH_PB);
    th_batch_free(b);
    assert_non_null(r);
    assert_string_equal(th_status_name(r->results[0]->status), "APPLIED");
    *missing = th_has(r->missing_photos, r->n_missing_photos, hash);
    outfall__v1__sync_response__free_unpacked(r, NULL);
}

/* The observation's flags as u reads it, joined with commas. */
static void flags_of(th_user *u, const char *id, char out[256]) {
    Outfall__V1__Observation *o = NULL;
    assert_int_equal(th_get_observation(&srv, u->token, id, &o, NULL), 200);
    th_flags_join(o->flags, o->n_flags, out, 256);
    outfall__v1__observation__free_unpacked(o, NULL);
}

/* Every way of reading hash as token answers want (404 not_found when refused): GET, GET with a
 * Range, HEAD, /info. */
static void reads(const char *token, const char *hash, long want) {
    const struct {
        const char *method, *suffix;
        const char *const *headers;
    } ways[] = {
        {"GET", "", NULL},
        {"GET", "", HDRS("Range: bytes=0-9")},
        {"HEAD", "", NULL},
        {"GET", "/info", NULL},
    };
    for (size_t i = 0; i < sizeof ways / sizeof *ways; i++) {
        th_xresult x;
        long st =
            xfer(ways[i].method, at(hash, ways[i].suffix), token, ways[i].headers, NULL, 0, &x);
        long expect = want == 200 && ways[i].headers ? 206 : want;
        if (st != expect)
            print_message("%s %s%s: %ld, expected %ld\n", ways[i].method, hash, ways[i].suffix, st,
                          expect);
        assert_int_equal(st, expect);
        if (st == 404 && strcmp(ways[i].method, "GET") == 0)
            assert_string_equal(code_of(&x), "not_found");
        th_response_free(&x.r);
    }
}

/* The tus HEAD of hash as token: its status; *offset the Upload-Offset of a 200. */
static long tus_head(const char *token, const char *hash, long *offset) {
    th_xresult x;
    char v[32] = "";
    long st = xfer("HEAD", at(hash, ""), token, HDRS(TUS), NULL, 0, &x);
    th_xheader(&x, "Upload-Offset", v, sizeof v);
    *offset = st == 200 ? atol(v) : -1;
    th_response_free(&x.r);
    return st;
}

/* POST /v1/photos/missing as token with one hash: 1 when the answer names it. */
static int missing_for(const char *token, const char *hash) {
    char *ask[] = {(char *)hash};
    Outfall__V1__PhotoHashes req = OUTFALL__V1__PHOTO_HASHES__INIT, *resp = NULL;
    req.n_hashes = 1;
    req.hashes = ask;
    assert_int_equal(th_call(&srv, "POST", "/v1/photos/missing", token, TH_PB, &req.base,
                             &outfall__v1__photo_hashes__descriptor, (ProtobufCMessage **)&resp,
                             NULL),
                     200);
    int named = resp->n_hashes == 1 && strcmp(resp->hashes[0], hash) == 0;
    outfall__v1__photo_hashes__free_unpacked(resp, NULL);
    return named;
}

/* A fresh photo uploaded by s_a and named by s_a's observation in DIV_A: the real owner's. */
static void owned_photo(th_file *f, char hash[65]) {
    char obs[37];
    int missing = 1;
    assert_int_equal(th_photo_variant("qinhe-outfall-a-1.jpg", f, hash), 0);
    assert_int_equal(th_photo_put(&srv, s_a.token, hash, f->data, f->len, NULL), 201);
    observe(&s_a, &d_a, site_a, LAT_A, LON_A, hash, obs, &missing);
    assert_false(missing);
    reads(s_a.token, hash, 200);
    reads(sup_a.token, hash, 200);
}

static void naming_a_hash_in_an_observation_does_not_make_it_readable(void **state) {
    (void)state;
    th_file f;
    char hash[65], obs[37], flags[256];
    int missing = 0;
    owned_photo(&f, hash);
    th_sum store_before = th_store_checksum(srv.data, 0);

    /* County B names it in its own observation: stored, but the reference proves nothing. */
    observe(&s_b, &d_b, site_b, LAT_B, LON_B, hash, obs, &missing);
    assert_true(missing); /* the phone is asked for the bytes */
    flags_of(&s_b, obs, flags);
    assert_string_equal(flags, "photos_pending");
    reads(s_b.token, hash, 404);
    reads(sup_b.token, hash, 404);
    long offset;
    assert_int_equal(tus_head(s_b.token, hash, &offset), 404); /* no upload of theirs */
    assert_true(missing_for(s_b.token, hash)); /* "missing", though the server has the bytes */
    assert_false(missing_for(s_a.token, hash));

    /* Wrong bytes prove nothing and change nothing. */
    th_sum db_before = th_db_checksum(srv.data, TH_ALL);
    th_error e;
    assert_int_equal(th_photo_put(&srv, s_b.token, hash, f.data, f.len - 1, &e), 400);
    assert_string_equal(e.code, "digest_mismatch");
    assert_string_equal(th_db_checksum(srv.data, TH_ALL).hex, db_before.hex);
    reads(s_b.token, hash, 404);

    /* With the bytes in hand it is theirs too: 200 (the server had it), one copy kept. */
    assert_int_equal(th_photo_put(&srv, s_b.token, hash, f.data, f.len, NULL), 200);
    assert_string_equal(th_store_checksum(srv.data, 0).hex, store_before.hex);
    reads(s_b.token, hash, 200);
    reads(sup_b.token, hash, 200);
    assert_int_equal(tus_head(s_b.token, hash, &offset), 200);
    assert_int_equal(offset, (long)f.len);
    flags_of(&s_b, obs, flags); /* no longer pending: its EXIF is checked like any photo's */
    assert_string_equal(flags, "photo_far_from_site,photo_time_mismatch");
    assert_false(missing_for(s_b.token, hash));
    /* A holder's PUT is answered at once, as before. */
    assert_int_equal(th_photo_put(&srv, s_b.token, hash, f.data, f.len, NULL), 200);
    th_file_free(&f);
}

static void naming_a_hash_in_a_public_report_does_not_make_it_readable(void **state) {
    (void)state;
    th_file f;
    char hash[65], body[512];
    owned_photo(&f, hash);
    snprintf(body, sizeof body,
             "{\"kind\":\"REPORT_KIND_ILLEGAL_DISCHARGE\",\"lat\":35.2401,\"lon\":113.2357,"
             "\"divisionCode\":\"" DIV_B "\",\"description\":\"暗管排污\",\"photos\":[\"%s\"]}",
             hash);
    th_xfer x = {.method = "POST",
                 .path = "/public/reports",
                 .headers = HDRS("Content-Type: application/json"),
                 .body = body,
                 .len = strlen(body)};
    th_xresult r;
    assert_int_equal(th_xfer_run(&srv, &x, &r), 201);
    json_t *j = json_loads((const char *)r.r.body, 0, NULL);
    char token[80];
    util_strlcpy(token, json_string_value(json_object_get(j, "uploadToken")), sizeof token);
    json_decref(j);
    th_response_free(&r.r);

    reads(sup_b.token, hash, 404); /* the report's division: the reference proves nothing */
    /* The reporter with the bytes proves it: one copy, and the report's supervisors see it. */
    th_sum store_before = th_store_checksum(srv.data, 0);
    assert_int_equal(th_photo_put(&srv, token, hash, f.data, f.len, NULL), 200);
    assert_string_equal(th_store_checksum(srv.data, 0).hex, store_before.hex);
    reads(sup_b.token, hash, 200);
    reads(s_b.token, hash, 404); /* surveyors never see reports' photos */
    th_file_free(&f);
}

static void tus_head_tells_a_non_holder_nothing(void **state) {
    (void)state;
    th_file f;
    char hash[65], length[48], offset[32];
    th_xresult x;
    owned_photo(&f, hash);
    /* A stored photo: a tus HEAD by a non-holder is 404, as for one that does not exist. */
    assert_int_equal(xfer("HEAD", at(hash, ""), s_b.token, HDRS(TUS), NULL, 0, &x), 404);
    th_response_free(&x.r);

    /* Another's upload in progress: invisible too, and one's own is one's own. */
    th_file g;
    char fresh[65];
    assert_int_equal(th_photo_variant("no-gps.jpg", &g, fresh), 0);
    snprintf(length, sizeof length, "Upload-Length: %zu", g.len);
    assert_int_equal(xfer("POST", at(fresh, ""), s_a.token, HDRS(TUS, length), NULL, 0, &x), 201);
    th_response_free(&x.r);
    assert_int_equal(xfer("PATCH", at(fresh, ""), s_a.token, HDRS(TUS, OCTETS, "Upload-Offset: 0"),
                          g.data, 1000, &x),
                     204);
    th_response_free(&x.r);
    assert_int_equal(xfer("HEAD", at(fresh, ""), s_b.token, HDRS(TUS), NULL, 0, &x), 404);
    th_response_free(&x.r);
    assert_int_equal(xfer("HEAD", at(fresh, ""), s_a.token, HDRS(TUS), NULL, 0, &x), 200);
    th_xheader(&x, "Upload-Offset", offset, sizeof offset);
    assert_string_equal(offset, "1000");
    th_response_free(&x.r);
    /* A PATCH of someone else's upload finds none of its own. */
    assert_int_equal(xfer("PATCH", at(fresh, ""), s_b.token,
                          HDRS(TUS, OCTETS, "Upload-Offset: 1000"), g.data + 1000, 1000, &x),
                     404);
    th_response_free(&x.r);

    /* A non-holder uploads a stored photo by tus: its own upload from 0, then a holder. */
    snprintf(length, sizeof length, "Upload-Length: %zu", f.len);
    assert_int_equal(xfer("POST", at(hash, ""), s_b.token, HDRS(TUS, length), NULL, 0, &x), 201);
    th_response_free(&x.r);
    assert_int_equal(xfer("HEAD", at(hash, ""), s_b.token, HDRS(TUS), NULL, 0, &x), 200);
    th_xheader(&x, "Upload-Offset", offset, sizeof offset);
    assert_string_equal(offset, "0");
    th_response_free(&x.r);
    assert_int_equal(th_tus_upload(&srv, s_b.token, hash, f.data, f.len, 100000, NULL), 204);
    reads(s_b.token, hash, 200);
    assert_int_equal(th_uploads_of(&srv, hash), 0);
    char dir[32];
    snprintf(dir, sizeof dir, "photos/%.2s/%.2s", hash, hash + 2);
    assert_int_equal(th_count_files(&srv, dir), 1);
    th_file_free(&f);
    th_file_free(&g);
}

static void the_photo_archive_leaves_out_an_unproven_reference(void **state) {
    (void)state;
    th_file f;
    char hash[65], obs[37], site[37];
    int missing = 0;
    owned_photo(&f, hash);
    /* County B names it in an observation of a record its supervisor approves. */
    assert_int_equal(outfall(&s_b, &d_b, DIV_B, LAT_B + 0.02, LON_B, site), 0);
    observe(&s_b, &d_b, site, LAT_B + 0.02, LON_B, hash, obs, &missing);
    assert_int_equal(th_approve(&srv, sup_b.token, site, 1, NULL), 200);
    th_request rq = {
        .method = "GET", .path = "/v1/exports/photos.tar?division=" DIV_B, .token = sup_b.token};
    th_response r;
    assert_int_equal(th_http(&srv, &rq, &r), 200);
    assert_null(memmem(r.body, r.len, hash, 64));
    assert_null(memmem(r.body, r.len, f.data + 1000, 64)); /* nor its bytes */
    th_response_free(&r);
    th_file_free(&f);
}

static int setup(void **state) {
    (void)state;
    const char *const in_a[] = {DIV_A, NULL}, *const in_b[] = {DIV_B, NULL};
    if (th_server_start(&srv, NULL) < 0 ||
        th_user_new(&srv, "hold-sa", TH_ROLE(SURVEYOR), in_a, &s_a) < 0 ||
        th_user_new(&srv, "hold-sb", TH_ROLE(SURVEYOR), in_b, &s_b) < 0 ||
        th_user_new(&srv, "hold-supa", TH_ROLE(SUPERVISOR), in_a, &sup_a) < 0 ||
        th_user_new(&srv, "hold-supb", TH_ROLE(SUPERVISOR), in_b, &sup_b) < 0 ||
        th_device_new(&srv, s_a.token, &d_a) < 0 || th_device_new(&srv, s_b.token, &d_b) < 0)
        return -1;
    if (outfall(&s_a, &d_a, DIV_A, LAT_A, LON_A, site_a) < 0 ||
        outfall(&s_b, &d_b, DIV_B, LAT_B, LON_B, site_b) < 0)
        return -1;
    return 0;
}

static int teardown(void **state) {
    (void)state;
    return th_server_stop(&srv);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(naming_a_hash_in_an_observation_does_not_make_it_readable),
        cmocka_unit_test(naming_a_hash_in_a_public_report_does_not_make_it_readable),
        cmocka_unit_test(tus_head_tells_a_non_holder_nothing),
        cmocka_unit_test(the_photo_archive_leaves_out_an_unproven_reference),
    };
    return cmocka_run_group_tests_name("api/photo_holders", tests, setup, teardown);
}
