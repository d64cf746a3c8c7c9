/* Migration 0027 (migrations/0027_photo_refs_by_rowid.sql): photo references keyed by the
 * observation's rowid. A database at schema 26 with references as the engine wrote them then
 * (an edited photo list, an observation moved to the survivor by a merge, a reference that does
 * not count) migrates without losing one: the same references, authors, kinds and divisions read
 * back through the views, the same ones count, reads by photo find them through the new index,
 * and the history chain verifies. The engine then writes over the migrated rows (a photo
 * arriving) keeping every reference's author, and the chain goes on. */
#include "fixture.h"
#include "old_schema.h"

#include "sync/apply.h"
#include "sync/backup.h"
#include "sync/history.h"
#include "sync/migrations.h"
#include "sync/photos.h"

#define BEFORE 26 /* the schema before observation_photo_refs */

#define H1 "1111111111111111111111111111111111111111111111111111111111111111"
#define H2 "2222222222222222222222222222222222222222222222222222222222222222"
#define H3 "3333333333333333333333333333333333333333333333333333333333333333"
#define H4 "4444444444444444444444444444444444444444444444444444444444444444"
#define H9 "9999999999999999999999999999999999999999999999999999999999999999"
#define OUTFALL "0b7c3f0e-6a4e-4e8a-9a55-2f5d7c1d9e01"
#define OBS_1 "0b7c3f0e-6a4e-4e8a-9a55-2f5d7c1d9eb1"
#define OBS_2 "0b7c3f0e-6a4e-4e8a-9a55-2f5d7c1d9eb2"
#define PHOTO(h, kind) "{\"hash\":\"" h "\",\"kind\":\"PHOTO_KIND_" kind "\"}"

/* Every reference, every column, as the old table showed them; and those that count. */
#define REFS                                                                                       \
    "SELECT group_concat(x, '|') FROM (SELECT observation_id || ':' || substr(hash, 1, 1) || "     \
    "':' || kind || ':' || division_code || ':' || author_id AS x FROM %s ORDER BY "               \
    "observation_id, hash)"

/* The text of sql's single result (sql a format with one %s, the table or view), malloc'd. */
static char *text_from(sqlite3 *db, const char *format, const char *from) {
    char sql[512];
    snprintf(sql, sizeof sql, format, from);
    return text_of(db, sql);
}

/* One record_history row as the engine wrote it at schema 26: the next link after (*seq, prev). */
static void version_row(sqlite3 *db, const char *kind, const char *entity, int64_t version,
                        const char *fields, const char *change, int64_t user, const char *device,
                        int64_t *seq, uint8_t prev[32]) {
    history_version row = {
        kind, entity, version, fields, change, user, device, 1700000000000 + *seq, *seq + 1};
    uint8_t hash[32];
    history_version_hash(prev, &row, hash);
    sqlite3_stmt *st = NULL;
    assert_int_equal(
        sqlite3_prepare_v2(db,
                           "INSERT INTO record_history (seq, kind, entity_id, entity_rowid, "
                           "version, fields, change_id, user_id, device_id, at_ms, prev_hash, "
                           "hash) VALUES (?1, ?2, ?3, CASE ?2 WHEN 'outfall' THEN (SELECT rowid "
                           "FROM outfalls WHERE id = ?3) ELSE (SELECT rowid FROM observations "
                           "WHERE id = ?3) END, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                           -1, &st, NULL),
        SQLITE_OK);
    sqlite3_bind_int64(st, 1, row.seq);
    sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, entity, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, version);
    sqlite3_bind_text(st, 5, fields, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, change, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 7, user);
    sqlite3_bind_text(st, 8, device, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 9, row.at_ms);
    if (*seq) sqlite3_bind_blob(st, 10, prev, 32, SQLITE_STATIC);
    sqlite3_bind_blob(st, 11, hash, 32, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
    memcpy(prev, hash, 32);
    (*seq)++;
}

/* A folder with a database at schema 26: alice (2) created ob-1 naming H1, H9 and H3, then bob
 * (3) took H9 out and added H2; bob created ob-2 naming H1 and H4 on outfall o-a, which a
 * supervisor (4) merged into o-b (another division), moving ob-2 there. Alice uploaded H1, bob
 * H2 and H4; H3 is not stored yet (ob-1 has photos_pending), and bob's reference to H1 does not
 * count (he never uploaded it). Returns the number of history links in *links. */
static void schema_26_database(char *dir, char *path, size_t cap, int64_t *links) {
    sqlite3 *db = old_schema_database(dir, path, cap, BEFORE, 1);
    exec_ok(db,
            "INSERT INTO users (id, username, password_hash, role, created_at_ms) VALUES "
            "(2, 'alice', 'x', 1, 1), (3, 'bob', 'x', 1, 1), (4, 'sup', 'x', 2, 1);"
            "INSERT INTO outfalls (id, version, river_code, division_code, review_state, lat, lon, "
            "created_by, created_at_ms, updated_at_ms, doc, merged_into) VALUES "
            "('o-b', 1, 'qinhe', '410803', 1, 35, 113, 2, 1, 1, '{}', NULL),"
            "('o-a', 2, 'qinhe', '410802', 1, 35, 113, 3, 1, 1, '{}', 'o-b');"
            "INSERT INTO observations (id, outfall_id, version, division_code, created_by, "
            "created_at_ms, updated_at_ms, doc) VALUES "
            "('ob-1', 'o-b', 2, '410803', 2, 1, 2, '{\"id\":\"ob-1\",\"outfall_id\":\"o-b\","
            "\"version\":2,\"photos\":[" PHOTO(H1, "NEAR") "," PHOTO(H2, "FAR") "," PHOTO(
                H3, "SIGNBOARD") "],\"flags\":[\"photos_pending\"]}'),"
                                 "('ob-2', 'o-b', 2, '410803', 3, 1, 3, "
                                 "'{\"id\":\"ob-2\","
                                 "\"outfall_id\":\"o-b\",\"version\":2,\"photos\":"
                                 "[" PHOTO(H1, "SURROUNDINGS") "," PHOTO(
                                     H4, "NEAR") "]}');"
                                                 "INSERT INTO observation_photos "
                                                 "(observation_id, hash, kind, "
                                                 "division_code, "
                                                 "author_id) VALUES "
                                                 "('ob-1', '" H1 "', 1, '410803', 2),"
                                                 "('ob-1', '" H2 "', 2, '410803', 3),"
                                                 "('ob-1', '" H3 "', 3, '410803', 2),"
                                                 "('ob-2', '" H1 "', 4, '410803', 3),"
                                                 "('ob-2', '" H4 "', 1, '410803', 3);"
                                                 "INSERT INTO photos (hash, size, "
                                                 "media_type, gps_lat, gps_lon, "
                                                 "uploaded_by, "
                                                 "stored_at_ms) VALUES "
                                                 "('" H1 "', 1, 'image/jpeg', 35, 113, 2, 10),"
                                                 "('" H2 "', 1, 'image/jpeg', 35, 113, 3, 20),"
                                                 "('" H4 "', 1, 'image/jpeg', 35, 113, 3, 30);"
                                                 "INSERT INTO photo_holders (hash, "
                                                 "user_id, "
                                                 "at_ms) VALUES "
                                                 "('" H1 "', 2, 10), ('" H2 "', 3, 20), ('" H4
                                                 "', 3, 30)");
    int64_t seq = 0;
    uint8_t head[32] = {0};
    version_row(db, "outfall", "o-b", 1, "{\"name\":\"south drain\"}", "c-1", 2, "phone-a", &seq,
                head);
    version_row(db, "outfall", "o-a", 1, "{\"name\":\"north drain\"}", "c-2", 3, "phone-b", &seq,
                head);
    version_row(db, "observation", "ob-1", 1,
                "{\"outfall_id\":\"o-b\",\"photos\":[" PHOTO(H1, "NEAR") "," PHOTO(
                    H9, "FAR") "," PHOTO(H3, "SIGNBOARD") "]}",
                "c-3", 2, "phone-a", &seq, head);
    version_row(
        db, "observation", "ob-2", 1,
        "{\"outfall_id\":\"o-a\",\"photos\":[" PHOTO(H1, "SURROUNDINGS") "," PHOTO(H4, "NEAR") "]}",
        "c-4", 3, "phone-b", &seq, head);
    version_row(
        db, "observation", "ob-1", 2,
        "{\"photos\":[" PHOTO(H1, "NEAR") "," PHOTO(H2, "FAR") "," PHOTO(H3, "SIGNBOARD") "]}",
        "c-5", 3, "phone-b", &seq, head);
    version_row(db, "outfall", "o-a", 2, "{\"merged_into\":\"o-b\"}", "c-6", 4, NULL, &seq, head);
    version_row(db, "observation", "ob-2", 2, "{\"outfall_id\":\"o-b\"}", "c-6", 4, NULL, &seq,
                head);
    *links = seq;
    sqlite3_close(db);
}

static void chain_verifies(sqlite3 *db, int64_t rows) {
    backup_chain chain = {0};
    sync_error err = {0};
    assert_int_equal(backup_verify_history(db, &chain, &err), 0);
    assert_int_equal(chain.broken, 0);
    assert_int_equal(chain.rows, rows);
}

/* The observations naming photo hash (?1) through a reference that counts, as the readers by
 * photo ask (sync/photo_reads.c, sync/feed.c), comma-separated. */
static void assert_proven_naming(sqlite3 *db, const char *hash, const char *want) {
    assert_text_with(db,
                     "SELECT coalesce(group_concat(observation_id), '') FROM (SELECT "
                     "observation_id FROM observation_photos_proven op WHERE " PHOTO_REFS_NAMING(
                         "op", "?1") " ORDER BY observation_id)",
                     hash, want);
}

static void a_schema_26_database_keeps_every_photo_reference_and_verifies(void **state) {
    (void)state;
    char dir[] = "/tmp/outfall-photorefs-XXXXXX", path[64];
    int64_t links;
    schema_26_database(dir, path, sizeof path, &links);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    char *refs_before = text_from(db, REFS, "observation_photos");
    char *proven_before = text_from(db, REFS, "observation_photos_proven");
    sqlite3_close(db);
    assert_string_equal(refs_before, "ob-1:1:1:410803:2|ob-1:2:2:410803:3|ob-1:3:3:410803:2|"
                                     "ob-2:1:4:410803:3|ob-2:4:1:410803:3");
    assert_string_equal(proven_before, "ob-1:1:1:410803:2|ob-1:2:2:410803:3|ob-2:4:1:410803:3");

    store *s = migrated_store(path, BEFORE);
    db = store_db(s);

    /* Every reference, keyed by its observation's rowid now, reads back the same. */
    assert_int_equal(count(db, "SELECT count(*) FROM observation_photo_refs r JOIN observations o "
                               "ON o.rowid = r.observation_rowid"),
                     5);
    char *refs_after = text_from(db, REFS, "observation_photos");
    char *proven_after = text_from(db, REFS, "observation_photos_proven");
    assert_string_equal(refs_after, refs_before);
    assert_string_equal(proven_after, proven_before);
    free(refs_after);
    free(proven_after);
    assert_proven_naming(db, H1, "ob-1"); /* bob's reference in ob-2 does not count */
    assert_proven_naming(db, H4, "ob-2");
    assert_proven_naming(db, H3, "");
    /* Reads by photo go through the entries by the hash's first digits (0030), not a scan. */
    assert_true(plan_names(db,
                           "SELECT DISTINCT division_code FROM observation_photos_proven op "
                           "WHERE " PHOTO_REFS_NAMING("op", "?1"),
                           "photo_ref_hashes USING PRIMARY KEY"));
    chain_verifies(db, links);

    /* H3 arrives from alice: ob-1's photos_pending clears, a new version through the engine
     * that rewrites its references by rowid, each keeping its author and kind. */
    sync_config cfg;
    sync_config_defaults(&cfg);
    sync_error err = {0};
    assert_int_equal(store_begin(s, &err), 0);
    exec_ok(db, "INSERT INTO photos (hash, size, media_type, gps_lat, gps_lon, uploaded_by, "
                "stored_at_ms) VALUES ('" H3 "', 1, 'image/jpeg', 35, 113, 2, 40);"
                "INSERT INTO photo_holders (hash, user_id, at_ms) VALUES ('" H3 "', 2, 40)");
    assert_int_equal(entity_photo_arrived(s, &cfg, H3, &err), 0);
    assert_int_equal(store_commit(s, &err), 0);
    assert_int_equal(count(db, "SELECT version FROM observations WHERE id = 'ob-1'"), 3);
    assert_int_equal(count(db, "SELECT json_extract(doc, '$.flags') IS NULL FROM observations "
                               "WHERE id = 'ob-1'"),
                     1);
    refs_after = text_from(db, REFS, "observation_photos");
    assert_string_equal(refs_after, refs_before);
    free(refs_after);
    proven_after = text_from(db, REFS, "observation_photos_proven");
    assert_string_equal(proven_after, "ob-1:1:1:410803:2|ob-1:2:2:410803:3|ob-1:3:3:410803:2|"
                                      "ob-2:4:1:410803:3");
    free(proven_after);
    assert_proven_naming(db, H3, "ob-1");
    chain_verifies(db, links + 1);

    free(refs_before);
    free(proven_before);
    store_close(s);
    remove_folder(dir);
}

/* A new observation's references carry its rowid, set by the engine before they are saved: an
 * outfall and two observations in one batch, each reference keyed by its own observation. */
static void a_new_observations_references_carry_its_rowid(void **state) {
    fixture *f = *state;
    static const char changes[] =
        "[{\"changeId\":\"1b7c3f0e-6a4e-4e8a-9a55-2f5d7c1d9e01\",\"entityId\":\"" OUTFALL
        "\",\"baseVersion\":\"0\","
        "\"outfall\":{\"riverCode\":\"qinhe\",\"divisionCode\":\"410882\",\"lat\":35.1,"
        "\"lon\":113.0}},"
        "{\"changeId\":\"1b7c3f0e-6a4e-4e8a-9a55-2f5d7c1d9e02\",\"entityId\":\"" OBS_1
        "\",\"baseVersion\":\"0\","
        "\"observation\":{\"outfallId\":\"" OUTFALL "\",\"photos\":[" PHOTO(H2, "NEAR") "," PHOTO(
            H1,
            "FAR") "]}},"
                   "{\"changeId\":\"1b7c3f0e-6a4e-4e8a-9a55-2f5d7c1d9e03\",\"entityId\":\"" OBS_2
                   "\",\"baseVersion\":\"0\","
                   "\"observation\":{\"outfallId\":\"" OUTFALL
                   "\",\"photos\":[" PHOTO(H1, "SIGNBOARD") "]}}]";
    Outfall__V1__SyncResponse *r = fx_sync(f, 0, changes);
    for (int i = 0; i < 3; i++) {
        if (r->results[i]->status != OUTFALL__V1__CHANGE_STATUS__CHANGE_STATUS_APPLIED)
            fail_msg("change %d: %s %s", i, r->results[i]->reason, r->results[i]->message);
    }
    protobuf_c_message_free_unpacked(&r->base, NULL);
    assert_int_equal(
        fx_count(f, "SELECT count(*) FROM observation_photo_refs r JOIN "
                    "observations o ON o.rowid = r.observation_rowid WHERE o.id = '" OBS_1 "'"),
        2);
    assert_int_equal(
        fx_count(f, "SELECT count(*) FROM observation_photos WHERE observation_id = '" OBS_2
                    "' AND kind = 3 AND hash = '" H1 "' AND division_code = '410882' "
                    "AND author_id = (SELECT created_by FROM observations WHERE id = '" OBS_2 "')"),
        1);
    assert_int_equal(fx_count(f, "SELECT count(*) FROM observation_photo_refs WHERE "
                                 "observation_rowid NOT IN (SELECT rowid FROM observations)"),
                     0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_schema_26_database_keeps_every_photo_reference_and_verifies),
        cmocka_unit_test_setup_teardown(a_new_observations_references_carry_its_rowid, fx_setup,
                                        fx_teardown),
    };
    return cmocka_run_group_tests_name("sync/photo_refs_rowid", tests, NULL, NULL);
}
