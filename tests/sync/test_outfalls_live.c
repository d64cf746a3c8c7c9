/* Migration 0032 (migrations/0032_outfalls_live.sql): the outfall a new observation names, found
 * by id with where it was merged and its division in one index (sync/entity.c, live_outfall). A
 * database at schema 31 migrates with an entry for every outfall, and the lookup reads the index
 * alone. Through the engine the index answers as the table would: an observation of a merged
 * outfall goes to the survivor, in the survivor's division as it is now; one of an unknown outfall
 * is refused. */
#include "fixture.h"
#include "old_schema.h"

#define BEFORE 31 /* the schema before the index */

/* The engine's lookup (sync/entity.c, live_outfall), word for word. */
#define LIVE_OUTFALL                                                                               \
    "SELECT merged_into, division_code FROM outfalls INDEXED BY outfalls_live WHERE id = ?"

static void a_schema_31_database_finds_outfalls_in_the_index_alone_after_migrating(void **state) {
    (void)state;
    char dir[] = "/tmp/outfall-live-XXXXXX", path[64];
    sqlite3 *db = old_schema_database(dir, path, sizeof path, BEFORE, 0);
    exec_ok(db, "INSERT INTO outfalls (id, version, river_code, division_code, review_state, lat, "
                "lon, merged_into, created_by, created_at_ms, updated_at_ms, doc) VALUES "
                "('o-live', 1, 'qinhe', '410882', 1, 35.1, 113.0, NULL, 1, 0, 0, '{}'), "
                "('o-gone', 2, 'qinhe', '410883', 1, 35.2, 113.0, 'o-live', 1, 0, 0, '{}')");
    sqlite3_close(db);

    store *s = migrated_store(path, BEFORE);
    db = store_db(s);
    assert_int_equal(count(db, "SELECT count(*) FROM outfalls INDEXED BY outfalls_live"), 2);
    assert_text_with(
        db, "SELECT coalesce(merged_into, '-') || ' ' || division_code FROM (" LIVE_OUTFALL ")",
        "o-gone", "o-live 410883");
    assert_text_with(
        db, "SELECT coalesce(merged_into, '-') || ' ' || division_code FROM (" LIVE_OUTFALL ")",
        "o-live", "- 410882");
    /* The search ends in the index: the table is not read. */
    assert_true(plan_names(db, LIVE_OUTFALL, "USING COVERING INDEX outfalls_live (id=?)"));
    store_close(s);
    remove_folder(dir);
}

/* The id of a new outfall the first phone creates in 410882 at lat. */
static void create_outfall(fixture *f, double lat, char id[UUID_STR_LEN + 1]) {
    char batch[512];
    Outfall__V1__SyncResponse *r = fx_sync(f, 0, fx_one_create(batch, sizeof batch, lat));
    assert_int_equal(r->n_results, 1);
    assert_int_equal(r->results[0]->status, OUTFALL__V1__CHANGE_STATUS__CHANGE_STATUS_APPLIED);
    util_strlcpy(id, r->results[0]->entity_id, UUID_STR_LEN + 1);
    protobuf_c_message_free_unpacked(&r->base, NULL);
}

/* The first phone's new observation of outfall: its result (free with
 * protobuf_c_message_free_unpacked); its id into id. */
static Outfall__V1__ChangeResult *observe(fixture *f, const char *outfall,
                                          char id[UUID_STR_LEN + 1]) {
    char cid[UUID_STR_LEN + 1], batch[512];
    util_uuid_new(cid);
    util_uuid_new(id);
    snprintf(batch, sizeof batch,
             "[{\"changeId\":\"%s\",\"entityId\":\"%s\",\"baseVersion\":\"0\","
             "\"observation\":{\"outfallId\":\"%s\",\"observedAtMs\":\"1773454925000\","
             "\"flowing\":true}}]",
             cid, id, outfall);
    Outfall__V1__SyncResponse *r = fx_sync(f, 0, batch);
    assert_int_equal(r->n_results, 1);
    Outfall__V1__ChangeResult *one = r->results[0];
    r->results[0] = NULL;
    r->n_results = 0;
    protobuf_c_message_free_unpacked(&r->base, NULL);
    return one;
}

/* Fails unless observation id is stored under outfall in division. */
static void assert_stored_under(fixture *f, const char *id, const char *outfall,
                                const char *division) {
    char *sql = sqlite3_mprintf("SELECT count(*) FROM observations WHERE id = %Q AND outfall_id = "
                                "%Q AND division_code = %Q",
                                id, outfall, division);
    assert_int_equal(fx_count(f, sql), 1);
    sqlite3_free(sql);
}

static void observations_follow_merges_and_divisions_as_the_outfalls_hold_them(void **state) {
    fixture *f = *state;
    char gone[UUID_STR_LEN + 1], live[UUID_STR_LEN + 1], obs[UUID_STR_LEN + 1];
    create_outfall(f, 35.10, gone);
    create_outfall(f, 35.20, live);
    /* The merge as the review leaves it in the table (sync/review_merge.c sets more besides). */
    char *sql = sqlite3_mprintf("UPDATE outfalls SET merged_into = %Q WHERE id = %Q", live, gone);
    assert_int_equal(sqlite3_exec(store_db(f->s), sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_free(sql);

    Outfall__V1__ChangeResult *r = observe(f, gone, obs);
    assert_int_equal(r->status, OUTFALL__V1__CHANGE_STATUS__CHANGE_STATUS_APPLIED);
    protobuf_c_message_free_unpacked(&r->base, NULL);
    assert_stored_under(f, obs, live, "410882");

    /* The survivor moves to a division the surveyor does not cover: the index has the move. */
    sql = sqlite3_mprintf("UPDATE outfalls SET division_code = '410883' WHERE id = %Q", live);
    assert_int_equal(sqlite3_exec(store_db(f->s), sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_free(sql);
    int64_t before = fx_count(f, "SELECT count(*) FROM observations");
    r = observe(f, gone, obs);
    assert_int_equal(r->status, OUTFALL__V1__CHANGE_STATUS__CHANGE_STATUS_REJECTED);
    assert_string_equal(r->reason, "outside_division");
    protobuf_c_message_free_unpacked(&r->base, NULL);

    r = observe(f, "5a0c8d6e-0000-4000-8000-000000000000", obs);
    assert_int_equal(r->status, OUTFALL__V1__CHANGE_STATUS__CHANGE_STATUS_REJECTED);
    assert_string_equal(r->reason, "unknown_outfall");
    protobuf_c_message_free_unpacked(&r->base, NULL);
    assert_int_equal(fx_count(f, "SELECT count(*) FROM observations"), before);
}

#define T(name) cmocka_unit_test_setup_teardown(name, fx_setup, fx_teardown)

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_schema_31_database_finds_outfalls_in_the_index_alone_after_migrating),
        T(observations_follow_merges_and_divisions_as_the_outfalls_hold_them),
    };
    return cmocka_run_group_tests_name("sync/outfalls_live", tests, NULL, NULL);
}
