/* Migration 0033 (migrations/0033_observations_by_outfall_prefix.sql): observations found by
 * their outfall through an index of the first 8 characters of its id, the whole id compared after
 * (OBSERVATIONS_OF, sync/observations.h). A database at schema 32 migrates: the index on the whole
 * id goes, the new one has every observation, and the query finds exactly an outfall's
 * observations through it, two outfalls whose ids share those 8 characters too. */
#include "fixture.h"
#include "old_schema.h"

#include "sync/observations.h"

#define BEFORE 32 /* the schema before the prefix index */

#define OF_OUTFALL                                                                                 \
    "SELECT coalesce(group_concat(id, ' '), '') FROM (SELECT id FROM observations "                \
    "WHERE " OBSERVATIONS_OF("observations", "?1") " ORDER BY id)"

static void a_schema_32_database_finds_observations_by_outfall_through_the_prefix(void **state) {
    (void)state;
    char dir[] = "/tmp/outfall-obsof-XXXXXX", path[64];
    sqlite3 *db = old_schema_database(dir, path, sizeof path, BEFORE, 0);
    /* Two outfalls whose ids share their first 8 characters, and a third. */
    exec_ok(db, "INSERT INTO outfalls (id, version, river_code, division_code, review_state, lat, "
                "lon, created_by, created_at_ms, updated_at_ms, doc) VALUES "
                "('aaaaaaaa-1', 1, 'qinhe', '410882', 1, 35.1, 113.0, 1, 0, 0, '{}'), "
                "('aaaaaaaa-2', 1, 'qinhe', '410882', 1, 35.2, 113.0, 1, 0, 0, '{}'), "
                "('bbbbbbbb-3', 1, 'qinhe', '410882', 1, 35.3, 113.0, 1, 0, 0, '{}')");
    exec_ok(db, "INSERT INTO observations (id, outfall_id, version, division_code, created_by, "
                "created_at_ms, updated_at_ms, doc) VALUES "
                "('b-1', 'aaaaaaaa-1', 1, '410882', 1, 0, 0, '{}'), "
                "('b-2', 'aaaaaaaa-2', 1, '410882', 1, 0, 0, '{}'), "
                "('b-3', 'aaaaaaaa-1', 1, '410882', 1, 0, 0, '{}'), "
                "('b-4', 'bbbbbbbb-3', 1, '410882', 1, 0, 0, '{}')");
    sqlite3_close(db);

    store *s = migrated_store(path, BEFORE);
    db = store_db(s);
    assert_int_equal(count(db, "SELECT count(*) FROM sqlite_master WHERE name = "
                               "'observations_outfall'"),
                     0);
    assert_int_equal(count(db, "SELECT count(*) FROM observations INDEXED BY observations_outfall8 "
                               "WHERE substr(outfall_id, 1, 8) >= ''"),
                     4);
    assert_text_with(db, OF_OUTFALL, "aaaaaaaa-1", "b-1 b-3");
    assert_text_with(db, OF_OUTFALL, "aaaaaaaa-2", "b-2");
    assert_text_with(db, OF_OUTFALL, "bbbbbbbb-3", "b-4");
    assert_text_with(db, OF_OUTFALL, "aaaaaaaa", "");
    assert_text_with(db, OF_OUTFALL, "cccccccc-4", "");
    assert_true(plan_names(db, OF_OUTFALL, "USING INDEX observations_outfall8"));
    store_close(s);
    remove_folder(dir);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_schema_32_database_finds_observations_by_outfall_through_the_prefix),
    };
    return cmocka_run_group_tests_name("sync/observations_of", tests, NULL, NULL);
}
