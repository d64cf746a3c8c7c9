/* Migration 0030 (migrations/0030_photo_refs_hashes_gathered.sql): photo references found by
 * hash through entries made in bulk, in order (sync/photo_refs.c), and, for the newest references
 * that have none yet, by reading those. A database at schema 29 migrates with an entry for every
 * reference and finds each by hash as before. The engine's readers by photo (a photo arriving, a
 * photo's read rights) find references whether they have their entries or not; the entries are
 * made when PHOTO_HASHES_MERGE_AT references wait, not before, counting those another handle
 * wrote; a new reference of an older observation gets its entry at once; an entry whose
 * reference an edit removed, or whose key a later reference took, finds nothing it should not,
 * and none is found twice. */
#include "fixture.h"
#include "old_schema.h"

#include "sync/apply.h"
#include "sync/migrations.h"
#include "sync/photo_refs.h"
#include "sync/photos.h"

#define BEFORE 29 /* the schema before the gathered entries */

#define H1 "1111111111111111111111111111111111111111111111111111111111111111"
#define H2 "2222222222222222222222222222222222222222222222222222222222222222"
#define H3 "3333333333333333333333333333333333333333333333333333333333333333"
#define H4 "4444444444444444444444444444444444444444444444444444444444444444"
/* Another photo whose hash begins as H1's: found by the same entries, told apart by the whole. */
#define H1B "1111111100000000000000000000000000000000000000000000000000000000"
#define OUTFALL "0b7c3f0e-6a4e-4e8a-9a55-2f5d7c1d9e01"
#define OBS "0b7c3f0e-6a4e-4e8a-9a55-2f5d7c1d9eb1"
#define OBS2 "0b7c3f0e-6a4e-4e8a-9a55-2f5d7c1d9eb2"
#define PHOTO(h) "{\"hash\":\"" h "\",\"kind\":\"PHOTO_KIND_NEAR\"}"
/* The change creating the outfall OUTFALL, on the 沁河 in 410882 (the fixture's surveyors'). */
#define CREATE_OUTFALL                                                                             \
    "{\"changeId\":\"1b7c3f0e-6a4e-4e8a-9a55-2f5d7c1d9e01\",\"entityId\":\"" OUTFALL               \
    "\",\"baseVersion\":\"0\",\"outfall\":{\"riverCode\":\"qinhe\",\"divisionCode\":\"410882\","   \
    "\"lat\":35.1,\"lon\":113.0}}"

/* The observations whose references name hash (?1), as the engine's readers find them
 * (PHOTO_REFS_NAMING), comma-separated in the order found, a repeat kept. */
static void assert_naming(sqlite3 *db, const char *hash, const char *want) {
    assert_text_with(
        db,
        "SELECT coalesce(group_concat(o.id), '') FROM observation_photo_refs r JOIN "
        "observations o ON o.rowid = r.observation_rowid WHERE " PHOTO_REFS_NAMING("r", "?1"),
        hash, want);
}

static void a_schema_29_database_finds_every_reference_by_hash_after_migrating(void **state) {
    (void)state;
    char dir[] = "/tmp/outfall-photohashes-XXXXXX", path[64];
    sqlite3 *db = old_schema_database(dir, path, sizeof path, BEFORE, 0);
    /* ob-1 names H1, H2 and H1B; ob-2 names H1 and H3. */
    exec_ok(db, "INSERT INTO users (id, username, password_hash, role, created_at_ms) VALUES "
                "(2, 'alice', 'x', 1, 1);"
                "INSERT INTO outfalls (id, version, river_code, division_code, review_state, lat, "
                "lon, created_by, created_at_ms, updated_at_ms, doc) VALUES "
                "('o-b', 1, 'qinhe', '410803', 1, 35, 113, 2, 1, 1, '{}');"
                "INSERT INTO observations (id, outfall_id, version, division_code, created_by, "
                "created_at_ms, updated_at_ms, doc) VALUES "
                "('ob-1', 'o-b', 1, '410803', 2, 1, 1, '{}'), "
                "('ob-2', 'o-b', 1, '410803', 2, 1, 1, '{}');"
                "INSERT INTO observation_photo_refs (ref_key, observation_rowid, hash, kind, "
                "division_code, author_id) VALUES (1024, 1, '" H1 "', 1, '410803', 2), "
                "(1025, 1, '" H2 "', 1, '410803', 2), (1026, 1, '" H1B "', 1, '410803', 2), "
                "(2048, 2, '" H3 "', 1, '410803', 2), (2049, 2, '" H1 "', 1, '410803', 2)");
    sqlite3_close(db);

    store *s = migrated_store(path, BEFORE);
    db = store_db(s);
    /* An entry for each reference, all of them up to the last; the old index gone. */
    assert_int_equal(count(db, "SELECT count(*) FROM photo_ref_hashes"), 5);
    assert_int_equal(count(db, "SELECT count(*) FROM photo_ref_hashes p JOIN "
                               "observation_photo_refs r ON r.ref_key = p.ref_key AND p.hash8 = "
                               "substr(r.hash, 1, 8)"),
                     5);
    assert_int_equal(count(db, "SELECT upto FROM photo_ref_hashes_upto"), 2049);
    assert_int_equal(count(db, "SELECT count(*) FROM sqlite_master WHERE tbl_name = "
                               "'observation_photo_refs' AND type = 'index'"),
                     0);
    assert_naming(db, H1, "ob-1,ob-2");
    assert_naming(db, H1B, "ob-1");
    assert_naming(db, H2, "ob-1");
    assert_naming(db, H3, "ob-2");
    assert_naming(db, H4, "");
    /* Through the entries' key and the newest references' keys, not a scan. */
    static const char by_hash[] = "SELECT r.ref_key FROM observation_photo_refs r WHERE "
                                  "" PHOTO_REFS_NAMING("r", "?1");
    assert_true(plan_names(db, by_hash, "photo_ref_hashes USING PRIMARY KEY (hash8=?)"));
    assert_true(
        plan_names(db, by_hash, "observation_photo_refs USING INTEGER PRIMARY KEY (rowid>?)"));
    assert_true(plan_names(db, by_hash, "r USING INTEGER PRIMARY KEY (rowid=?)"));
    /* A reference keyed after the last is found without an entry. */
    exec_ok(db, "INSERT INTO observation_photo_refs (ref_key, observation_rowid, hash, kind, "
                "division_code, author_id) VALUES (2050, 2, '" H4 "', 1, '410803', 2)");
    assert_int_equal(count(db, "SELECT count(*) FROM photo_ref_hashes"), 5);
    assert_naming(db, H4, "ob-2");
    store_close(s);
    remove_folder(dir);
}

static void assert_applied(Outfall__V1__SyncResponse *r) {
    for (size_t i = 0; i < r->n_results; i++)
        if (r->results[i]->status != OUTFALL__V1__CHANGE_STATUS__CHANGE_STATUS_APPLIED)
            fail_msg("change %zu: %s %s", i, r->results[i]->reason, r->results[i]->message);
    protobuf_c_message_free_unpacked(&r->base, NULL);
}

/* Photo hash stored, uploaded by the fixture's first surveyor (its author). */
static void stored(fixture *f, const char *hash) {
    char *sql =
        sqlite3_mprintf("INSERT INTO photos (hash, size, media_type, gps_lat, gps_lon, "
                        "uploaded_by, stored_at_ms) VALUES (%Q, 1, 'image/jpeg', 35.1, "
                        "113.0, %lld, 1);"
                        "INSERT INTO photo_holders (hash, user_id, at_ms) VALUES (%Q, "
                        "%lld, 1)",
                        hash, (long long)f->surveyor.user_id, hash, (long long)f->surveyor.user_id);
    exec_ok(store_db(f->s), sql);
    sqlite3_free(sql);
}

/* Whether the fixture's second surveyor, who holds no photo, may read hash: through a reference
 * that counts, found by hash (sync/photo_reads.c). 1 or 0. */
static int second_may_read(fixture *f, const char *hash) {
    photos_info info;
    sync_error err = {0};
    return photos_read_info(f->s, &f->surveyor2, hash, &info, &err) == 0;
}

/* An edit of OBS (at version base) by the first phone naming the photos in list. */
static void edit_obs(fixture *f, int change, int base, const char *list) {
    char json[1024];
    snprintf(json, sizeof json,
             "[{\"changeId\":\"1b7c3f0e-6a4e-4e8a-9a55-2f5d7c1d9e%02d\",\"entityId\":\"" OBS
             "\",\"baseVersion\":\"%d\",\"observation\":{\"outfallId\":\"" OUTFALL
             "\",\"photos\":[%s]}}]",
             change, base, list);
    assert_applied(fx_sync(f, 0, json));
}

/* n references that wait for their entries, as many older ones would: keyed below every
 * observation's (negative rowids, of no observation), with upto moved below them; made-up
 * hashes. */
static void waiting(fixture *f, int n) {
    char *sql = sqlite3_mprintf("UPDATE photo_ref_hashes_upto SET upto = -1000000000;"
                                "WITH RECURSIVE i(v) AS (SELECT 0 UNION ALL SELECT v + 1 FROM i "
                                "WHERE v < %d - 1) INSERT INTO observation_photo_refs (ref_key, "
                                "observation_rowid, hash, division_code) SELECT -1024 * (v / 1000 "
                                "+ 1) + v %% 1000, -(v / 1000 + 1), printf('f%%063d', v), '410882' "
                                "FROM i",
                                n);
    exec_ok(store_db(f->s), sql);
    sqlite3_free(sql);
}

static void references_are_found_by_hash_before_and_after_their_entries_merge(void **state) {
    fixture *f = *state;
    sqlite3 *db = store_db(f->s);
    stored(f, H1);
    assert_applied(fx_sync(f, 0,
                           "[" CREATE_OUTFALL ",{\"changeId\":\"1b7c3f0e-6a4e-4e8a-9a55-"
                           "2f5d7c1d9e02\",\"entityId\":\"" OBS "\",\"baseVersion\":\"0\","
                           "\"observation\":{\"outfallId\":\"" OUTFALL
                           "\",\"photos\":[" PHOTO(H1) "," PHOTO(H2) "]}}]"));
    /* More references wait, written by another handle than the engine's writer: its next
     * transaction counts them. One short of a merge: no entries yet, and the references are
     * found all the same. */
    waiting(f, PHOTO_HASHES_MERGE_AT - 3);
    assert_int_equal(count(db, "SELECT count(*) FROM photo_ref_hashes"), 0);
    assert_naming(db, H1, OBS);
    assert_naming(db, H2, OBS);
    assert_int_equal(second_may_read(f, H1), 1);

    /* The next new reference makes them due: its batch makes every entry, the other handle's
     * references' too. */
    edit_obs(f, 3, 1, PHOTO(H1) "," PHOTO(H2) "," PHOTO(H3));
    assert_int_equal(count(db, "SELECT count(*) FROM photo_ref_hashes"), PHOTO_HASHES_MERGE_AT);
    assert_int_equal(count(db, "SELECT upto FROM photo_ref_hashes_upto"),
                     count(db, "SELECT max(ref_key) FROM observation_photo_refs"));
    assert_naming(db, H1, OBS);
    assert_naming(db, H2, OBS);
    assert_int_equal(second_may_read(f, H1), 1);
    /* One by its entry, one waiting: both found. */
    assert_applied(fx_sync(f, 0,
                           "[{\"changeId\":\"1b7c3f0e-6a4e-4e8a-9a55-2f5d7c1d9e04\",\"entityId\":"
                           "\"" OBS2 "\",\"baseVersion\":\"0\",\"observation\":{\"outfallId\":"
                           "\"" OUTFALL "\",\"photos\":[" PHOTO(H3) "]}}]"));
    assert_int_equal(count(db, "SELECT count(*) FROM photo_ref_hashes"), PHOTO_HASHES_MERGE_AT);
    assert_naming(db, H3, OBS "," OBS2);

    /* H2 and H3 arrive: the engine finds OBS by an entry, OBS2 as a reference waiting. */
    assert_int_equal(count(db, "SELECT json_extract(doc, '$.flags') LIKE '%photos_pending%' FROM "
                               "observations WHERE id = '" OBS "'"),
                     1);
    stored(f, H2);
    stored(f, H3);
    sync_error err = {0};
    assert_int_equal(store_begin(f->s, &err), 0);
    assert_int_equal(entity_photo_arrived(f->s, &f->cfg, H2, &err), 0);
    assert_int_equal(entity_photo_arrived(f->s, &f->cfg, H3, &err), 0);
    assert_int_equal(store_commit(f->s, &err), 0);
    assert_int_equal(count(db, "SELECT coalesce(json_extract(doc, '$.flags') LIKE "
                               "'%photos_pending%', 0) FROM observations WHERE id = '" OBS "'"),
                     0);
    /* H2's arrival cleared OBS (H3 was stored by then), H3's OBS2. */
    assert_int_equal(count(db, "SELECT count(*) FROM record_history WHERE (entity_id = '" OBS
                               "' AND change_id = 'photo:" H2 "') OR (entity_id = '" OBS2
                               "' AND change_id = 'photo:" H3 "')"),
                     2);

    /* H1 out and H4 in its freed slot: H1's merged entry now leads to H4's reference. */
    int64_t h1_key = count(db, "SELECT ref_key FROM observation_photo_refs WHERE hash = '" H1 "'");
    edit_obs(f, 5, 3, PHOTO(H4) "," PHOTO(H2) "," PHOTO(H3));
    assert_int_equal(count(db, "SELECT ref_key FROM observation_photo_refs WHERE hash = '" H4 "'"),
                     h1_key);
    /* Keyed before the last entry's: H4's entry is made at once. */
    assert_int_equal(
        count(db, "SELECT count(*) FROM photo_ref_hashes WHERE hash8 = substr('" H4 "', 1, 8)"), 1);
    assert_naming(db, H1, "");
    assert_naming(db, H4, OBS);
    assert_int_equal(second_may_read(f, H1), 0);
    /* H1 back in the same slot: its old entry serves again, found once. */
    edit_obs(f, 6, 4, PHOTO(H1) "," PHOTO(H2) "," PHOTO(H3));
    assert_int_equal(count(db, "SELECT ref_key FROM observation_photo_refs WHERE hash = '" H1 "'"),
                     h1_key);
    assert_int_equal(
        count(db, "SELECT count(*) FROM photo_ref_hashes WHERE hash8 = substr('" H1 "', 1, 8)"), 1);
    assert_naming(db, H1, OBS);
    assert_naming(db, H4, "");
    assert_int_equal(second_may_read(f, H1), 1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_schema_29_database_finds_every_reference_by_hash_after_migrating),
        cmocka_unit_test_setup_teardown(
            references_are_found_by_hash_before_and_after_their_entries_merge, fx_setup,
            fx_teardown),
    };
    return cmocka_run_group_tests_name("sync/photo_ref_hashes", tests, NULL, NULL);
}
