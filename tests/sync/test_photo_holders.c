/* Migration 0015 (migrations/0015_revoked_batches_photo_holders.sql) on a database from before
 * it: photo holders did not exist, so it credits the uploader of each stored photo and the author
 * of each reference to a stored photo (the user of the earliest field-history row naming it, else
 * the observation's creator): references made before it keep counting, reads answer as they did.
 * A report's reference to a stored photo counts as its upload; one to a photo never stored does
 * not. Uploads in progress start over; batches keep every row and may now be refused. */
#include "fixture.h"
#include "old_schema.h"

#include "sync/migrations.h"

#define H1 "1111111111111111111111111111111111111111111111111111111111111111"
#define H2 "2222222222222222222222222222222222222222222222222222222222222222"
#define H3 "3333333333333333333333333333333333333333333333333333333333333333"
#define H4 "4444444444444444444444444444444444444444444444444444444444444444"
#define H5 "5555555555555555555555555555555555555555555555555555555555555555"
#define PHOTO(h) "{\"hash\":\"" h "\",\"kind\":\"PHOTO_KIND_NEAR\"}"

enum { HOLDERS_MIGRATION = 15 };

/* One text of sql's rows (one column each), joined with commas; malloc'd. */
static char *rows_of(sqlite3 *db, const char *sql) {
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    char *out = calloc(1, 4096);
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (out[0]) strcat(out, ",");
        strncat(out, (const char *)sqlite3_column_text(st, 0), 200);
    }
    sqlite3_finalize(st);
    return out;
}

static void rows_equal(sqlite3 *db, const char *sql, const char *want) {
    char *got = rows_of(db, sql);
    assert_string_equal(got, want);
    free(got);
}

static void every_reference_made_before_keeps_counting(void **state) {
    (void)state;
    char dir[] = "/tmp/outfall-holders-XXXXXX", path[64];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/outfall.db", dir);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    exec_ok(db, "PRAGMA foreign_keys = ON");
    int before = 0;
    for (int i = 0; i < migration_count && migrations[i].version < HOLDERS_MIGRATION; i++) {
        exec_ok(db, migrations[i].sql);
        before = migrations[i].version;
    }
    char sql[64];
    snprintf(sql, sizeof sql, "PRAGMA user_version = %d", before);
    exec_ok(db, sql);

    /* Alice (2) uploaded H1 and named it; Bob (3) added H2 (a report's upload) to her
     * observation and named H1 in his own; Carol (4) uploaded H3, which nothing names. A report
     * names H2 and H4 (never stored); an upload of H5 was under way. */
    exec_ok(db,
            "INSERT INTO users (id, username, password_hash, role, created_at_ms) VALUES "
            "(2, 'alice', 'x', 1, 1), (3, 'bob', 'x', 1, 1), (4, 'carol', 'x', 1, 1);"
            "INSERT INTO devices (device_id, user_id, public_key, enrolled_at_ms) VALUES "
            "('phone-b', 3, zeroblob(32), 1);"
            "INSERT INTO outfalls (id, version, river_code, division_code, review_state, lat, "
            "lon, created_by, created_at_ms, updated_at_ms, doc) VALUES ('o-1', 1, 'qinhe', "
            "'410882', 1, 35, 113, 2, 1, 1, '{}');"
            "INSERT INTO observations (id, outfall_id, version, division_code, created_by, "
            "created_at_ms, updated_at_ms, doc) VALUES "
            "('b-1', 'o-1', 2, '410882', 2, 1, 1, '{\"photos\":[" PHOTO(H1) "," PHOTO(
                H2) "]}'),"
                    "('b-2', 'o-1', 1, '410882', 3, 1, 1, '{\"photos\":[" PHOTO(
                        H1) "]}');"
                            "INSERT INTO field_history (kind, entity_id, version, field, value, "
                            "change_id, "
                            "user_id, at_ms, entity_rowid) VALUES "
                            "('observation', 'b-1', 1, 'photos', '[" PHOTO(
                                H1) "]', 'c-1', 2, 1, "
                                    "(SELECT rowid FROM observations WHERE id = 'b-1')),"
                                    "('observation', 'b-1', 2, 'photos', '[" PHOTO(H1) "," PHOTO(
                                        H2) "]', 'c-2', 3, 2, "
                                            "(SELECT rowid FROM observations WHERE id = 'b-1'));"
                                            "INSERT INTO observation_photos (observation_id, hash, "
                                            "kind, division_code) VALUES "
                                            "('b-1', '" H1 "', 1, '410882'), ('b-1', '" H2
                                            "', 1, '410882'), "
                                            "('b-2', '" H1 "', 1, '410882');"
                                            "INSERT INTO photos (hash, size, media_type, "
                                            "uploaded_by, stored_at_ms) VALUES "
                                            "('" H1 "', 1, 'image/jpeg', 2, 10), ('" H2
                                            "', 1, 'image/jpeg', NULL, 20), "
                                            "('" H3 "', 1, 'image/jpeg', 4, 30);"
                                            "INSERT INTO public_reports (number, kind, lat, lon, "
                                            "division_code, description, "
                                            "client_addr, status, received_at_ms) VALUES ('R1', 1, "
                                            "35, 113, '410882', 'x', "
                                            "'10.0.0.1', 1, 1);"
                                            "INSERT INTO public_report_photos (number, position, "
                                            "hash) VALUES "
                                            "('R1', 0, '" H2 "'), ('R1', 1, '" H4 "');"
                                            "INSERT INTO uploads (hash, length, created_by, "
                                            "created_at_ms, updated_at_ms) VALUES "
                                            "('" H5 "', 100, 3, 1, 1);"
                                            "INSERT INTO batches (batch_id, device_id, device_seq, "
                                            "user_id, content_hash, state, "
                                            "received_at_ms, request) VALUES ('batch-9', "
                                            "'phone-b', 9, 3, x'99', 'held', 5, "
                                            "x'0a')");
    sqlite3_close(db);

    store *s = NULL;
    sync_error err = {0};
    assert_int_equal(store_open(path, &s, &err), 0);
    db = store_db(s);
    assert_true(store_schema_version(s) >= HOLDERS_MIGRATION);
    /* The earliest history row naming a photo gives its reference's author; the creator else. */
    rows_equal(db,
               "SELECT observation_id || ':' || substr(hash, 1, 1) || ':' || author_id FROM "
               "observation_photos ORDER BY observation_id, hash",
               "b-1:1:2,b-1:2:3,b-2:1:3");
    /* Uploaders and the authors of references to stored photos hold them. */
    rows_equal(db,
               "SELECT substr(hash, 1, 1) || ':' || user_id FROM photo_holders "
               "ORDER BY hash, user_id",
               "1:2,1:3,2:3,3:4");
    assert_int_equal(count(db, "SELECT count(*) FROM observation_photos_proven"), 3);
    rows_equal(db,
               "SELECT substr(hash, 1, 1) || ':' || coalesce(uploaded_at_ms, 'none') FROM "
               "public_report_photos ORDER BY position",
               "2:20,4:none");
    assert_int_equal(count(db, "SELECT count(*) FROM uploads"), 0);
    assert_int_equal(count(db, "SELECT count(*) FROM pragma_table_info('uploads') "
                               "WHERE name = 'holder' AND pk = 2"),
                     1);
    /* Batches keep their rows, and may be refused now. */
    assert_int_equal(count(db, "SELECT count(*) FROM batches WHERE batch_id = 'batch-9' AND "
                               "state = 'held' AND request = x'0a'"),
                     1);
    exec_ok(db, "UPDATE batches SET state = 'refused', request = NULL WHERE batch_id = 'batch-9'");
    assert_int_not_equal(sqlite3_exec(db, "UPDATE batches SET state = 'gone'", NULL, NULL, NULL),
                         SQLITE_OK);
    store_close(s);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_reference_made_before_keeps_counting),
    };
    return cmocka_run_group_tests_name("sync/photo_holders (migration 0015)", tests, NULL, NULL);
}
