/* Reviewer flags from photos' EXIF facts (tests sync/entity.c: photo_flags, entity_photo_arrived).
 */
#include "fixture.h"

#include "sync/apply.h"

#define SITE_LAT 35.08621
#define SITE_LON 112.95124
/* 2026-03-14 10:22:05 +08:00, when qinhe-outfall-a-1.jpg was taken. */
#define SITE_TIME_MS 1773454925000LL

static const char *outfall_id = "0b7c3f0e-6a4e-4e8a-9a55-2f5d7c1d9e01";

/* Stores a photo row as the upload path would, with the surveyor (phone 0's owner, the author
 * of the observations here) as its holder, then tells the engine it arrived. */
static void photo_lands(fixture *f, const char *hash, int geotag, double lat, double lon,
                        int64_t taken_ms) {
    sync_error err = {0};
    assert_int_equal(store_begin(f->s, &err), 0);
    sqlite3_stmt *st = NULL;
    sqlite3_prepare_v2(store_db(f->s),
                       "INSERT INTO photos (hash, size, media_type, gps_lat, gps_lon, "
                       "taken_at_ms, stored_at_ms) VALUES (?, 1, 'image/jpeg', ?, ?, ?, 0)",
                       -1, &st, NULL);
    sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
    if (geotag) {
        sqlite3_bind_double(st, 2, lat);
        sqlite3_bind_double(st, 3, lon);
    }
    if (taken_ms) sqlite3_bind_int64(st, 4, taken_ms);
    assert_int_equal(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
    sqlite3_prepare_v2(store_db(f->s),
                       "INSERT INTO photo_holders (hash, user_id, at_ms) VALUES (?, ?, 0)", -1, &st,
                       NULL);
    sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, f->surveyor.user_id);
    assert_int_equal(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
    assert_int_equal(entity_photo_arrived(f->s, &f->cfg, hash, &err), 0);
    assert_int_equal(store_commit(f->s, &err), 0);
}

/* Creates the outfall and an observation at the site naming one photo; returns its flags. */
static void observe(fixture *f, const char *obs_id, const char *hash) {
    char *changes = NULL, c1[37], c2[37];
    util_uuid_new(c1);
    util_uuid_new(c2);
    assert_true(asprintf(&changes,
                         "[{\"changeId\":\"%s\",\"entityId\":\"%s\",\"baseVersion\":\"0\","
                         "\"outfall\":{\"riverCode\":\"qinhe\",\"divisionCode\":\"410882\","
                         "\"lat\":%f,\"lon\":%f}},"
                         "{\"changeId\":\"%s\",\"entityId\":\"%s\",\"baseVersion\":\"0\","
                         "\"observation\":{\"outfallId\":\"%s\",\"observedAtMs\":\"%lld\","
                         "\"lat\":%f,\"lon\":%f,\"accuracyM\":5,"
                         "\"photos\":[{\"hash\":\"%s\",\"kind\":\"PHOTO_KIND_NEAR\"}]}}]",
                         c1, outfall_id, SITE_LAT, SITE_LON, c2, obs_id, outfall_id, SITE_TIME_MS,
                         SITE_LAT, SITE_LON, hash) > 0);
    Outfall__V1__SyncResponse *r = fx_sync(f, 0, changes);
    free(changes);
    assert_int_equal(r->results[1]->status, OUTFALL__V1__CHANGE_STATUS__CHANGE_STATUS_APPLIED);
    protobuf_c_message_free_unpacked(&r->base, NULL);
}

/* The observation's flags joined with commas ("" for none). */
static char *flags_of(fixture *f, const char *obs_id) {
    Outfall__V1__Observation *o = NULL;
    sync_error err = {0};
    assert_int_equal(feed_read_observation(f->s, &f->admin, obs_id, &o, &err), 0);
    char *out = calloc(1, 256);
    for (size_t i = 0; i < o->n_flags; i++) {
        if (i) strcat(out, ",");
        strncat(out, o->flags[i], 200);
    }
    protobuf_c_message_free_unpacked(&o->base, NULL);
    return out;
}

static const char *hash_a = "247c25790e29dd5bc0a660f775e154eb667dc4a0556419662134187b48624359";
static const char *obs = "5f0c9a11-2b3c-4d5e-8f90-a1b2c3d4e5f6";

static void assert_flags(fixture *f, const char *want) {
    char *got = flags_of(f, obs);
    assert_string_equal(got, want);
    free(got);
}

static void pending_until_the_photo_lands_then_clear_at_the_site(void **state) {
    fixture *f = *state;
    observe(f, obs, hash_a);
    assert_flags(f, "photos_pending");
    int64_t feed_before = fx_count(f, "SELECT max(seq) FROM feed");
    photo_lands(f, hash_a, 1, 35.08621, 112.95124, SITE_TIME_MS);
    assert_flags(f, "");
    /* The cleared flag is news in the feed, as a new version. */
    assert_true(fx_count(f, "SELECT max(seq) FROM feed") > feed_before);
    assert_int_equal(fx_count(f, "SELECT version FROM observations"), 2);
}

static void photo_far_from_the_site_is_flagged(void **state) {
    fixture *f = *state;
    observe(f, obs, hash_a);
    /* far-from-claimed-site.jpg: 35.2156, 113.2417, some 30 km away. */
    photo_lands(f, hash_a, 1, 35.2156, 113.2417, SITE_TIME_MS);
    assert_flags(f, "photo_far_from_site");
}

static void photo_without_geotag_is_flagged(void **state) {
    fixture *f = *state;
    observe(f, obs, hash_a);
    photo_lands(f, hash_a, 0, 0, 0, 0);
    assert_flags(f, "photo_no_geotag");
}

static void photo_taken_a_day_earlier_is_flagged(void **state) {
    fixture *f = *state;
    observe(f, obs, hash_a);
    photo_lands(f, hash_a, 1, SITE_LAT, SITE_LON, SITE_TIME_MS - 86400000LL);
    assert_flags(f, "photo_time_mismatch");
}

#define T(name) cmocka_unit_test_setup_teardown(name, fx_setup, fx_teardown)

int main(void) {
    const struct CMUnitTest tests[] = {
        T(pending_until_the_photo_lands_then_clear_at_the_site),
        T(photo_far_from_the_site_is_flagged),
        T(photo_without_geotag_is_flagged),
        T(photo_taken_a_day_earlier_is_flagged),
    };
    return cmocka_run_group_tests_name("sync/photo_flags", tests, NULL, NULL);
}
