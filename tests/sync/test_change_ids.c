/* Migration 0031 (migrations/0031_change_ids_gathered.sql): changes found by change id through
 * entries made in a small table and moved in bulk, in order, into a large one (sync/change_log.c).
 * A database at schema 30 migrates with an entry for every change, its rowids kept, and the lookup
 * reads both tables by key (no scan). The engine answers a retried change from its entry wherever
 * it is (waiting or merged), refuses a change id reused for other content, and moves the waiting
 * entries when CHANGE_IDS_MERGE_AT wait, counting those another handle wrote, not one before. */
#include "fixture.h"
#include "old_schema.h"

#include "sync/change_log.h"
#include "sync/migrations.h"

#define BEFORE 30 /* the schema before the gathered entries */

#define OUTFALL "0b7c3f0e-6a4e-4e8a-9a55-2f5d7c1d9e01"
#define CHANGE(n) "1b7c3f0e-6a4e-4e8a-9a55-2f5d7c1d9e" #n

/* The batch of the change whose id is ?1, found as the engine finds it, or "". */
#define BATCH_OF                                                                                   \
    "SELECT coalesce((SELECT batch_id FROM changes WHERE rowid = " CHANGE_ROWID_OF("?1") "), '')"

static void a_schema_30_database_finds_every_change_by_id_after_migrating(void **state) {
    (void)state;
    char dir[] = "/tmp/outfall-changeids-XXXXXX", path[64];
    sqlite3 *db = old_schema_database(dir, path, sizeof path, BEFORE, 0);
    exec_ok(db, "INSERT INTO changes (rowid, change_id, content_hash, batch_id, kind, entity_id, "
                "status, version, result) VALUES "
                "(5, 'c-2', x'02', 'b-1', 'outfall', 'e-1', 1, 1, x'0a'), "
                "(7, 'c-1', x'01', 'b-1', 'outfall', 'e-2', 1, 1, x'0b'), "
                "(9, 'c-3', x'03', 'b-2', 'observation', 'e-3', 3, 0, x'0c')");
    sqlite3_close(db);

    store *s = migrated_store(path, BEFORE);
    db = store_db(s);
    /* The rows as they were, at their rowids; an entry for each, none waiting; no index left on
     * changes. */
    assert_text_with(db,
                     "SELECT group_concat(rowid || ':' || change_id || ':' || hex(content_hash) "
                     "|| ':' || batch_id || ':' || kind || ':' || entity_id || ':' || status || "
                     "':' || version || ':' || hex(result), ' ') FROM (SELECT rowid, * FROM "
                     "changes ORDER BY rowid)",
                     NULL,
                     "5:c-2:02:b-1:outfall:e-1:1:1:0A 7:c-1:01:b-1:outfall:e-2:1:1:0B "
                     "9:c-3:03:b-2:observation:e-3:3:0:0C");
    assert_text_with(db,
                     "SELECT group_concat(change_id || '=' || change_rowid, ' ') FROM change_ids",
                     NULL, "c-1=7 c-2=5 c-3=9");
    assert_int_equal(count(db, "SELECT count(*) FROM change_ids_recent"), 0);
    assert_int_equal(count(db, "SELECT count(*) FROM sqlite_master WHERE tbl_name = 'changes' AND "
                               "type = 'index'"),
                     0);
    assert_text_with(db, BATCH_OF, "c-1", "b-1");
    assert_text_with(db, BATCH_OF, "c-3", "b-2");
    assert_text_with(db, BATCH_OF, "c-4", "");
    /* Both tables by their key, the change by its rowid: no scan. */
    assert_true(plan_names(db, BATCH_OF, "change_ids_recent USING PRIMARY KEY (change_id=?)"));
    assert_true(plan_names(db, BATCH_OF, "change_ids USING PRIMARY KEY (change_id=?)"));
    assert_true(plan_names(db, BATCH_OF, "changes USING INTEGER PRIMARY KEY (rowid=?)"));
    store_close(s);
    remove_folder(dir);
}

/* The first phone's batch of one change: change_id CHANGE(n), renaming OUTFALL (at version base
 * 0: creating it) to name. */
static Outfall__V1__ChangeResult *send(fixture *f, const char *change_id, int base,
                                       const char *name) {
    char json[512];
    snprintf(json, sizeof json,
             "[{\"changeId\":\"%s\",\"entityId\":\"" OUTFALL "\",\"baseVersion\":\"%d\","
             "\"outfall\":{\"name\":\"%s\"%s}}]",
             change_id, base, name,
             base ? ""
                  : ",\"riverCode\":\"qinhe\",\"divisionCode\":\"410882\",\"lat\":35.1,"
                    "\"lon\":113.0");
    Outfall__V1__SyncResponse *r = fx_sync(f, 0, json);
    assert_int_equal(r->n_results, 1);
    Outfall__V1__ChangeResult *one = r->results[0];
    r->results[0] = NULL;
    r->n_results = 0;
    protobuf_c_message_free_unpacked(&r->base, NULL);
    return one;
}

/* Fails unless change_id sent again with name at base is answered status (at version, or
 * refused for reason), and the batch wrote no change. */
static void assert_sent_again(fixture *f, const char *change_id, int base, const char *name,
                              int status, int version, const char *reason) {
    int64_t changes = fx_count(f, "SELECT count(*) FROM changes");
    Outfall__V1__ChangeResult *r = send(f, change_id, base, name);
    assert_int_equal(r->status, status);
    assert_int_equal(r->version, version);
    if (reason) assert_string_equal(r->reason, reason);
    protobuf_c_message_free_unpacked(&r->base, NULL);
    assert_int_equal(fx_count(f, "SELECT count(*) FROM changes"), changes);
}

/* Fails unless change_id's entry is in table (change_ids_recent or change_ids) and leads to its
 * change. */
static void assert_entry_in(fixture *f, const char *table, const char *change_id) {
    char *sql = sqlite3_mprintf("SELECT count(*) FROM %s e JOIN changes c ON c.rowid = "
                                "e.change_rowid AND c.change_id = e.change_id WHERE e.change_id = "
                                "%Q",
                                table, change_id);
    assert_int_equal(fx_count(f, sql), 1);
    sqlite3_free(sql);
}

static void changes_are_found_by_id_before_and_after_their_entries_merge(void **state) {
    fixture *f = *state;
    const int applied = OUTFALL__V1__CHANGE_STATUS__CHANGE_STATUS_APPLIED,
              again = OUTFALL__V1__CHANGE_STATUS__CHANGE_STATUS_ALREADY_APPLIED,
              rejected = OUTFALL__V1__CHANGE_STATUS__CHANGE_STATUS_REJECTED;
    Outfall__V1__ChangeResult *r = send(f, CHANGE(01), 0, "甲");
    assert_int_equal(r->status, applied);
    protobuf_c_message_free_unpacked(&r->base, NULL);
    /* Its entry waits; the change is found by it: a retry is answered as first, a reuse for
     * other content refused, and neither writes. */
    assert_entry_in(f, "change_ids_recent", CHANGE(01));
    assert_int_equal(fx_count(f, "SELECT count(*) FROM change_ids"), 0);
    assert_sent_again(f, CHANGE(01), 0, "甲", again, 1, NULL);
    assert_sent_again(f, CHANGE(01), 0, "乙", rejected, 0, "change_id_reused");

    /* More entries wait, written by another handle than the engine's writer (made-up ids, of
     * no change): its next transaction counts them. One short of a merge. */
    char *sql = sqlite3_mprintf("WITH RECURSIVE i(v) AS (SELECT 0 UNION ALL SELECT v + 1 FROM i "
                                "WHERE v < %d - 1) INSERT INTO change_ids_recent (change_id, "
                                "change_rowid) SELECT printf('f%%035d', v), -1 - v FROM i",
                                CHANGE_IDS_MERGE_AT - 2);
    exec_ok(store_db(f->s), sql);
    sqlite3_free(sql);
    assert_int_equal(fx_count(f, "SELECT count(*) FROM change_ids_recent"),
                     CHANGE_IDS_MERGE_AT - 1);

    /* The next change makes them due: its batch moves every entry, the other handle's too. */
    r = send(f, CHANGE(02), 1, "丙");
    assert_int_equal(r->status, applied);
    protobuf_c_message_free_unpacked(&r->base, NULL);
    assert_int_equal(fx_count(f, "SELECT count(*) FROM change_ids_recent"), 0);
    assert_int_equal(fx_count(f, "SELECT count(*) FROM change_ids"), CHANGE_IDS_MERGE_AT);
    assert_entry_in(f, "change_ids", CHANGE(01));
    assert_entry_in(f, "change_ids", CHANGE(02));
    /* Found where they went. */
    assert_sent_again(f, CHANGE(01), 0, "甲", again, 1, NULL);
    assert_sent_again(f, CHANGE(02), 1, "丙", again, 2, NULL);
    assert_sent_again(f, CHANGE(02), 1, "丁", rejected, 0, "change_id_reused");

    /* A new change's entry waits again; one found in each table. */
    r = send(f, CHANGE(03), 2, "戊");
    assert_int_equal(r->status, applied);
    protobuf_c_message_free_unpacked(&r->base, NULL);
    assert_entry_in(f, "change_ids_recent", CHANGE(03));
    assert_int_equal(fx_count(f, "SELECT count(*) FROM change_ids_recent"), 1);
    assert_sent_again(f, CHANGE(03), 2, "戊", again, 3, NULL);
    assert_sent_again(f, CHANGE(01), 0, "甲", again, 1, NULL);
    assert_int_equal(fx_count(f, "SELECT version FROM outfalls WHERE id = '" OUTFALL "'"), 3);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_schema_30_database_finds_every_change_by_id_after_migrating),
        cmocka_unit_test_setup_teardown(
            changes_are_found_by_id_before_and_after_their_entries_merge, fx_setup, fx_teardown),
    };
    return cmocka_run_group_tests_name("sync/change_ids", tests, NULL, NULL);
}
