/* Migration 0029 (migrations/0029_photo_refs_by_slot.sql): an observation's photo references
 * keyed by its rowid times 1024 plus a slot, with no index of their own. A database at schema 28
 * whose references an edit left out of order migrates without losing one (the same references,
 * authors, kinds and divisions through the views, slots in each observation's order); one with
 * more references on an observation than it has slots refuses to migrate and is left as it was.
 * The engine then keeps a reference's slot and author across edits, gives a new one the lowest
 * free slot, and refuses an observation naming more photos than there are slots. */
#include "fixture.h"
#include "old_schema.h"

#include "sync/migrations.h"
#include "sync/photos.h"

#define BEFORE 28 /* the schema before the slots */

#define H1 "1111111111111111111111111111111111111111111111111111111111111111"
#define H2 "2222222222222222222222222222222222222222222222222222222222222222"
#define H3 "3333333333333333333333333333333333333333333333333333333333333333"
#define H4 "4444444444444444444444444444444444444444444444444444444444444444"
#define OUTFALL "0b7c3f0e-6a4e-4e8a-9a55-2f5d7c1d9e01"
#define OBS "0b7c3f0e-6a4e-4e8a-9a55-2f5d7c1d9eb1"
#define PHOTO(h, kind) "{\"hash\":\"" h "\",\"kind\":\"PHOTO_KIND_" kind "\"}"
/* The change creating the outfall OUTFALL, on the 沁河 in 410882 (the fixture's surveyors'). */
#define CREATE_OUTFALL                                                                             \
    "{\"changeId\":\"1b7c3f0e-6a4e-4e8a-9a55-2f5d7c1d9e01\",\"entityId\":\"" OUTFALL               \
    "\",\"baseVersion\":\"0\",\"outfall\":{\"riverCode\":\"qinhe\",\"divisionCode\":\"410882\","   \
    "\"lat\":35.1,\"lon\":113.0}}"

/* Every reference as the views show them, with its slot: observation:slot:hash digit:kind:
 * division:author. */
#define REFS                                                                                       \
    "SELECT coalesce(group_concat(x, '|'), '') FROM (SELECT observation_id || ':' || (ref_key - "  \
    "observation_rowid * 1024) || ':' || substr(hash, 1, 1) || ':' || kind || ':' || "             \
    "division_code || ':' || author_id AS x FROM %s ORDER BY observation_id, ref_key)"

static char *refs_of(sqlite3 *db, const char *view) {
    char sql[512];
    snprintf(sql, sizeof sql, REFS, view);
    return text_of(db, sql);
}

/* A database at schema 28 in dir: alice (2) created ob-1 naming H1 and H2, bob (3) ob-2 naming
 * H1, then an edit of ob-1 added H3, so ob-1's references are not one run of rowids. Alice
 * uploaded H1 and H3. extra more references of ob-2 (distinct made-up hashes). */
static void schema_28_database(char *dir, char *path, size_t cap, int extra) {
    sqlite3 *db = old_schema_database(dir, path, cap, BEFORE, 0);
    exec_ok(db, "INSERT INTO users (id, username, password_hash, role, created_at_ms) VALUES "
                "(2, 'alice', 'x', 1, 1), (3, 'bob', 'x', 1, 1);"
                "INSERT INTO outfalls (id, version, river_code, division_code, review_state, lat, "
                "lon, created_by, created_at_ms, updated_at_ms, doc) VALUES "
                "('o-b', 1, 'qinhe', '410803', 1, 35, 113, 2, 1, 1, '{}');"
                "INSERT INTO observations (id, outfall_id, version, division_code, created_by, "
                "created_at_ms, updated_at_ms, doc) VALUES "
                "('ob-1', 'o-b', 2, '410803', 2, 1, 2, '{}'), "
                "('ob-2', 'o-b', 1, '410803', 3, 1, 1, '{}');"
                "INSERT INTO observation_photo_refs (observation_rowid, hash, kind, division_code, "
                "author_id) VALUES (1, '" H1 "', 1, '410803', 2), (1, '" H2 "', 2, '410803', 2), "
                "(2, '" H1 "', 4, '410803', 3), (1, '" H3 "', 3, '410803', 2);"
                "INSERT INTO photos (hash, size, media_type, uploaded_by, stored_at_ms) VALUES "
                "('" H1 "', 1, 'image/jpeg', 2, 10), ('" H3 "', 1, 'image/jpeg', 2, 20);"
                "INSERT INTO photo_holders (hash, user_id, at_ms) VALUES ('" H1 "', 2, 10), "
                "('" H3 "', 2, 20)");
    for (int i = 0; i < extra; i++) {
        char hash[72];
        snprintf(hash, sizeof hash, "%064d", i);
        char *insert = sqlite3_mprintf("INSERT INTO observation_photo_refs (observation_rowid, "
                                       "hash, kind, division_code, author_id) VALUES (2, %Q, 1, "
                                       "'410803', 3)",
                                       hash);
        exec_ok(db, insert);
        sqlite3_free(insert);
    }
    sqlite3_close(db);
}

static void a_schema_28_database_keeps_every_reference_in_slots(void **state) {
    (void)state;
    char dir[] = "/tmp/outfall-photoslots-XXXXXX", path[64];
    schema_28_database(dir, path, sizeof path, 0);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(count(db, "SELECT count(*) FROM observation_photos"), 4);
    assert_int_equal(count(db, "SELECT count(*) FROM observation_photos_proven"), 2);
    sqlite3_close(db);

    store *s = migrated_store(path, BEFORE);
    db = store_db(s);
    /* Each observation's references in the order they were made, from slot 0: ob-1's H3, added
     * by the edit after ob-2's reference, is its third. */
    char *refs = refs_of(db, "observation_photos");
    assert_string_equal(refs, "ob-1:0:1:1:410803:2|ob-1:1:2:2:410803:2|ob-1:2:3:3:410803:2|"
                              "ob-2:0:1:4:410803:3");
    free(refs);
    refs = refs_of(db, "observation_photos_proven");
    assert_string_equal(refs, "ob-1:0:1:1:410803:2|ob-1:2:3:3:410803:2");
    free(refs);
    /* No index of their own is left (by photo they are found through photo_ref_hashes since
     * 0030); an observation's are read by key. */
    assert_int_equal(count(db, "SELECT count(*) FROM sqlite_master WHERE tbl_name = "
                               "'observation_photo_refs' AND type = 'index'"),
                     0);
    assert_true(plan_names(db, "SELECT hash FROM observation_photos WHERE observation_id = 'ob-1'",
                           "INTEGER PRIMARY KEY"));
    assert_true(plan_names(db,
                           "SELECT o.id FROM observations o WHERE o.outfall_id = 'o-b' AND EXISTS "
                           "(SELECT 1 FROM observation_photos_proven op WHERE " PHOTO_REFS_OF(
                               "op.ref_key", "o.rowid") " AND op.kind = 1)",
                           "INTEGER PRIMARY KEY"));
    assert_true(plan_names(db,
                           "SELECT DISTINCT division_code FROM observation_photos_proven op "
                           "WHERE " PHOTO_REFS_NAMING("op", "?1"),
                           "photo_ref_hashes USING PRIMARY KEY"));
    /* A key outside its observation's range is refused. */
    assert_int_not_equal(sqlite3_exec(db,
                                      "INSERT INTO observation_photo_refs (ref_key, "
                                      "observation_rowid, hash, division_code) VALUES (3 * 1024, "
                                      "2, '" H4 "', '410803')",
                                      NULL, NULL, NULL),
                         SQLITE_OK);
    store_close(s);
    remove_folder(dir);
}

static void more_references_than_slots_leave_the_database_as_it_was(void **state) {
    (void)state;
    char dir[] = "/tmp/outfall-photoslots-XXXXXX", path[64];
    schema_28_database(dir, path, sizeof path, PHOTO_REF_SLOTS); /* ob-2: 1025 references */
    store *s = NULL;
    sync_error err = {0};
    assert_int_not_equal(store_open(path, &s, &err), 0);
    assert_null(s);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(count(db, "PRAGMA user_version"), BEFORE);
    assert_int_equal(count(db, "SELECT count(*) FROM observation_photos"), 4 + PHOTO_REF_SLOTS);
    assert_int_equal(count(db, "SELECT count(*) FROM sqlite_master WHERE name = "
                               "'observation_photo_refs_0029'"),
                     0);
    sqlite3_close(db);
    remove_folder(dir);
}

/* The observation's references, slot:hash digit:kind:author (1 alice's phone, 2 bob's). */
static char *slots_of(fixture *f) {
    char sql[512];
    snprintf(sql, sizeof sql,
             "SELECT group_concat(x, '|') FROM (SELECT (ref_key - observation_rowid * 1024) || "
             "':' || substr(hash, 1, 1) || ':' || kind || ':' || CASE author_id WHEN %lld THEN 1 "
             "WHEN %lld THEN 2 END AS x FROM observation_photos WHERE observation_id = '" OBS
             "' ORDER BY ref_key)",
             (long long)f->surveyor.user_id, (long long)f->surveyor2.user_id);
    return text_of(store_db(f->s), sql);
}

static void assert_applied(Outfall__V1__SyncResponse *r) {
    for (size_t i = 0; i < r->n_results; i++)
        if (r->results[i]->status != OUTFALL__V1__CHANGE_STATUS__CHANGE_STATUS_APPLIED)
            fail_msg("change %zu: %s %s", i, r->results[i]->reason, r->results[i]->message);
    protobuf_c_message_free_unpacked(&r->base, NULL);
}

static void an_edit_keeps_slots_and_authors_and_fills_the_lowest_free(void **state) {
    fixture *f = *state;
    assert_applied(
        fx_sync(f, 0,
                "[" CREATE_OUTFALL ","
                "{\"changeId\":\"1b7c3f0e-6a4e-4e8a-9a55-2f5d7c1d9e02\",\"entityId\":\"" OBS
                "\",\"baseVersion\":\"0\",\"observation\":{\"outfallId\":\"" OUTFALL
                "\",\"photos\":[" PHOTO(H1, "NEAR") "," PHOTO(H2, "FAR") "," PHOTO(
                    H3, "SIGNBOARD") "]}}]"));
    char *got = slots_of(f);
    assert_string_equal(got, "0:1:1:1|1:2:2:1|2:3:3:1");
    free(got);
    /* Bob's phone: H2 out, H4 in, H1 named again with another kind. */
    assert_applied(fx_sync(f, 1,
                           "[{\"changeId\":\"1b7c3f0e-6a4e-4e8a-9a55-2f5d7c1d9e03\",\"entityId\":"
                           "\"" OBS "\",\"baseVersion\":\"1\",\"observation\":{\"outfallId\":"
                           "\"" OUTFALL "\",\"photos\":[" PHOTO(H3, "SIGNBOARD") "," PHOTO(
                               H4, "NEAR") "," PHOTO(H1, "SURROUNDINGS") "]}}]"));
    got = slots_of(f);
    assert_string_equal(got, "0:1:4:1|1:4:1:2|2:3:3:1");
    free(got);
}

/* changes: one observation of the fixture's outfall naming n distinct photos, as JSON, its change
 * id ending in the digit change; malloc'd. */
static char *observation_naming(int n, int change) {
    size_t cap = 512 + (size_t)n * 96, len = 0;
    char *json = malloc(cap);
    assert_non_null(json);
    len += (size_t)snprintf(json + len, cap - len,
                            "[{\"changeId\":\"1b7c3f0e-6a4e-4e8a-9a55-2f5d7c1d9e1%d\",\"entityId\":"
                            "\"" OBS "\",\"baseVersion\":\"0\",\"observation\":{\"outfallId\":"
                            "\"" OUTFALL "\",\"photos\":[",
                            change);
    for (int i = 0; i < n; i++)
        len += (size_t)snprintf(json + len, cap - len, "%s{\"hash\":\"%064d\"}", i ? "," : "", i);
    snprintf(json + len, cap - len, "]}}]");
    return json;
}

static void an_observation_names_at_most_as_many_photos_as_slots(void **state) {
    fixture *f = *state;
    assert_applied(fx_sync(f, 0, "[" CREATE_OUTFALL "]"));
    char *changes = observation_naming(PHOTO_REF_SLOTS + 1, 1);
    Outfall__V1__SyncResponse *r = fx_sync(f, 0, changes);
    free(changes);
    assert_int_equal(r->n_results, 1);
    assert_int_equal(r->results[0]->status, OUTFALL__V1__CHANGE_STATUS__CHANGE_STATUS_REJECTED);
    assert_string_equal(r->results[0]->reason, "too_many_photos");
    protobuf_c_message_free_unpacked(&r->base, NULL);
    assert_int_equal(fx_count(f, "SELECT count(*) FROM observations"), 0);
    assert_int_equal(fx_count(f, "SELECT count(*) FROM observation_photo_refs"), 0);

    changes = observation_naming(PHOTO_REF_SLOTS, 2);
    assert_applied(fx_sync(f, 0, changes));
    free(changes);
    assert_int_equal(fx_count(f, "SELECT count(*) FROM observation_photos WHERE observation_id = "
                                 "'" OBS "'"),
                     PHOTO_REF_SLOTS);
    assert_int_equal(fx_count(f, "SELECT max(ref_key - observation_rowid * 1024) FROM "
                                 "observation_photo_refs"),
                     PHOTO_REF_SLOTS - 1);
}

/* A hash named twice in one list is one reference, with the kind of its first naming; an edit
 * keeps that rule, and a list of as many photos as slots with repeats all through it keeps one
 * reference a hash (repeats found by sorting, sync/entity.c repeated_refs). */
static void a_photo_named_twice_in_a_list_is_one_reference_of_its_first_kind(void **state) {
    fixture *f = *state;
    assert_applied(
        fx_sync(f, 0,
                "[" CREATE_OUTFALL ","
                "{\"changeId\":\"1b7c3f0e-6a4e-4e8a-9a55-2f5d7c1d9e05\",\"entityId\":\"" OBS
                "\",\"baseVersion\":\"0\",\"observation\":{\"outfallId\":\"" OUTFALL
                "\",\"photos\":[" PHOTO(H2, "FAR") "," PHOTO(H1, "NEAR") "," PHOTO(
                    H2, "SIGNBOARD") "," PHOTO(H3, "SURROUNDINGS") "," PHOTO(H1, "FAR") "]}}]"));
    char *got = slots_of(f);
    assert_string_equal(got, "0:2:2:1|1:1:1:1|2:3:4:1");
    free(got);
    /* Bob's phone: H1 out, H3 twice (NEAR first), H4 in, H2 again as NEAR. */
    assert_applied(
        fx_sync(f, 1,
                "[{\"changeId\":\"1b7c3f0e-6a4e-4e8a-9a55-2f5d7c1d9e06\",\"entityId\":\"" OBS
                "\",\"baseVersion\":\"1\",\"observation\":{\"outfallId\":\"" OUTFALL
                "\",\"photos\":[" PHOTO(H3, "NEAR") "," PHOTO(H4, "SIGNBOARD") "," PHOTO(
                    H3, "FAR") "," PHOTO(H2, "NEAR") "," PHOTO(H4, "NEAR") "]}}]"));
    got = slots_of(f);
    assert_string_equal(got, "0:2:1:1|1:4:3:2|2:3:1:1");
    free(got);

    /* A full list: 1 024 places naming 300 hashes, each first at place (h * 7) % 300 of the
     * first 300 and again in later places in another order. */
    enum { DISTINCT = 300 };
    size_t cap = 512 + (size_t)PHOTO_REF_SLOTS * 128, len = 0;
    char *json = malloc(cap);
    assert_non_null(json);
    len += (size_t)snprintf(json + len, cap - len,
                            "[{\"changeId\":\"1b7c3f0e-6a4e-4e8a-9a55-2f5d7c1d9e07\","
                            "\"entityId\":\"1b7c3f0e-6a4e-4e8a-9a55-2f5d7c1d9eb7\","
                            "\"baseVersion\":\"0\",\"observation\":{\"outfallId\":\"" OUTFALL
                            "\",\"photos\":[");
    for (int i = 0; i < PHOTO_REF_SLOTS; i++) {
        int h = i < DISTINCT ? (i * 7) % DISTINCT : (i * 13 + 5) % DISTINCT;
        len += (size_t)snprintf(json + len, cap - len,
                                "%s{\"hash\":\"%064d\",\"kind\":\"PHOTO_KIND_%s\"}", i ? "," : "",
                                h, i < DISTINCT ? "NEAR" : "FAR");
    }
    snprintf(json + len, cap - len, "]}}]");
    assert_applied(fx_sync(f, 0, json));
    free(json);
    assert_int_equal(fx_count(f, "SELECT count(*) FROM observation_photos WHERE observation_id = "
                                 "'1b7c3f0e-6a4e-4e8a-9a55-2f5d7c1d9eb7'"),
                     DISTINCT);
    assert_int_equal(fx_count(f, "SELECT count(DISTINCT hash) FROM observation_photos WHERE "
                                 "observation_id = '1b7c3f0e-6a4e-4e8a-9a55-2f5d7c1d9eb7' AND "
                                 "kind = 1"),
                     DISTINCT);
    /* Slots in the order each hash is first named: place i of the first 300 holds slot i. */
    assert_int_equal(fx_count(f, "SELECT count(*) FROM observation_photos WHERE observation_id = "
                                 "'1b7c3f0e-6a4e-4e8a-9a55-2f5d7c1d9eb7' AND CAST(hash AS INTEGER) "
                                 "= ((ref_key - observation_rowid * 1024) * 7) % 300"),
                     DISTINCT);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_schema_28_database_keeps_every_reference_in_slots),
        cmocka_unit_test(more_references_than_slots_leave_the_database_as_it_was),
        cmocka_unit_test_setup_teardown(an_edit_keeps_slots_and_authors_and_fills_the_lowest_free,
                                        fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(an_observation_names_at_most_as_many_photos_as_slots,
                                        fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(
            a_photo_named_twice_in_a_list_is_one_reference_of_its_first_kind, fx_setup,
            fx_teardown),
    };
    return cmocka_run_group_tests_name("sync/photo_refs_slots", tests, NULL, NULL);
}
