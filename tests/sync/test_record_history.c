/* Migration 0023 (migrations/0023_record_history.sql): history is one row per record version
 * (record_history), one chain link each, instead of one row and link per field. A database at
 * schema 22 with per-field rows as the engine wrote them then (a chain of links over records
 * created and edited by two phones and a supervisor) migrates without losing a row or a link: the
 * rows read back the same (the field_history view), the merge's answers and the approved view are
 * the same, and `outfallctl audit verify`'s walk passes. New versions continue the same chain
 * from the old head; a row of either table changed or removed afterwards breaks it. */
#include "fixture.h"
#include "old_schema.h"

#include "sync/backup.h"
#include "sync/history.h"
#include "sync/migrations.h"

#define BEFORE 22 /* the schema before record_history */

/* Every per-field row, every column, in (record, field, version) order: as the history endpoint
 * and the readers see it. */
static char *field_rows(sqlite3 *db) {
    return text_of(db, "SELECT group_concat(x, '|') FROM (SELECT quote(kind) || quote(entity_id) "
                       "|| quote(version) || quote(field) || quote(value) || quote(change_id) || "
                       "quote(user_id) || quote(device_id) || quote(at_ms) || quote(seq) || "
                       "quote(prev_hash) || quote(hash) || quote(entity_rowid) AS x FROM "
                       "field_history ORDER BY kind, entity_id, field, version)");
}

/* One per-field row as the engine wrote it at schema 22 (sync/history.c then): the next link of
 * the chain after (*seq, prev). */
static void old_row(sqlite3 *db, const char *kind, const char *entity, int64_t version,
                    const char *field, const char *value, const char *change, const char *device,
                    int64_t *seq, uint8_t prev[32]) {
    history_row row = {
        kind, entity, version, field, value, change, 1, device, 1700000000000 + version, *seq + 1};
    uint8_t hash[32];
    history_hash(prev, &row, hash);
    sqlite3_stmt *st = NULL;
    assert_int_equal(
        sqlite3_prepare_v2(db,
                           "INSERT INTO field_history (kind, entity_id, version, field, value, "
                           "change_id, user_id, device_id, at_ms, seq, prev_hash, hash, "
                           "entity_rowid) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
                           "CASE ?1 WHEN 'outfall' THEN (SELECT rowid FROM outfalls WHERE id = "
                           "?2) ELSE (SELECT rowid FROM observations WHERE id = ?2) END)",
                           -1, &st, NULL),
        SQLITE_OK);
    sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, entity, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, version);
    sqlite3_bind_text(st, 4, field, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, value, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, change, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 7, 1);
    sqlite3_bind_text(st, 8, device, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 9, row.at_ms);
    sqlite3_bind_int64(st, 10, row.seq);
    if (*seq) sqlite3_bind_blob(st, 11, prev, 32, SQLITE_STATIC);
    sqlite3_bind_blob(st, 12, hash, 32, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
    memcpy(prev, hash, 32);
    (*seq)++;
}

/* A folder with a database at schema BEFORE holding two outfalls and an observation: outfall
 * o-a created by phone-1 (version 1), its landmark changed by phone-2 (2), approved by a
 * supervisor (3, no device); o-b created; the observation created with a nested field. Returns
 * the old chain's head hash in head and the number of links in *links. */
static void schema_22_database(char *dir, char *path, size_t cap, uint8_t head[32],
                               int64_t *links) {
    sqlite3 *db = old_schema_database(dir, path, cap, BEFORE, 1);
    exec_ok(db, "INSERT INTO users (id, username, password_hash, role, created_at_ms) "
                "VALUES (1, 'surveyor', 'x', 1, 1);"
                "INSERT INTO outfalls (id, version, river_code, division_code, review_state, lat, "
                "lon, created_by, created_at_ms, updated_at_ms, doc) SELECT id, v, "
                "(SELECT code FROM rivers LIMIT 1), (SELECT code FROM divisions LIMIT 1), 1, 35, "
                "113, 1, 1, 1, '{}' FROM (SELECT 'o-a' AS id, 3 AS v UNION ALL "
                "SELECT 'o-b', 1);"
                "INSERT INTO observations (id, outfall_id, version, division_code, created_by, "
                "created_at_ms, updated_at_ms, doc) SELECT 'ob-1', 'o-a', 1, code, 1, 1, 1, '{}' "
                "FROM divisions LIMIT 1");
    int64_t seq = 0;
    memset(head, 0, 32);
    old_row(db, "outfall", "o-a", 1, "name", "\"north drain\"", "c-1", "phone-1", &seq, head);
    old_row(db, "outfall", "o-a", 1, "landmark", "\"old bridge\"", "c-1", "phone-1", &seq, head);
    old_row(db, "outfall", "o-a", 1, "lat", "35.123456789012344", "c-1", "phone-1", &seq, head);
    old_row(db, "outfall", "o-a", 1, "review_state", "\"REVIEW_STATE_PENDING\"", "c-1", "phone-1",
            &seq, head);
    old_row(db, "outfall", "o-b", 1, "name", "\"south drain\"", "c-2", "phone-2", &seq, head);
    old_row(db, "observation", "ob-1", 1, "flow.rate", "\"FLOW_RATE_HIGH\"", "c-3", "phone-1", &seq,
            head);
    old_row(db, "outfall", "o-a", 2, "landmark", "\"new bridge\"", "c-4", "phone-2", &seq, head);
    old_row(db, "outfall", "o-a", 2, "name", NULL, "c-4", "phone-2", &seq, head);
    old_row(db, "outfall", "o-a", 3, "review_state", "\"REVIEW_STATE_APPROVED\"", "c-5", NULL, &seq,
            head);
    *links = seq;
    sqlite3_close(db);
}

static void assert_value(store *s, const char *kind, const char *id, const char *field, int64_t at,
                         const char *want_text) {
    json_t *v = history_value_at(s, kind, id, field, at);
    char *text = v ? json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT | JSON_REAL_PRECISION(17)) : NULL;
    if (!want_text) {
        if (text)
            fail_msg("%s %s %s@%lld: want absent, got %s", kind, id, field, (long long)at, text);
    } else {
        assert_non_null(text);
        assert_string_equal(text, want_text);
    }
    free(text);
    json_decref(v);
}

/* The merge's and the approved view's answers over the old rows, the same before and after the
 * migration; with_changes 0 once newer versions changed the fields since. */
static void assert_old_answers(store *s, int with_changes) {
    assert_value(s, "outfall", "o-a", "landmark", 1, "\"old bridge\"");
    assert_value(s, "outfall", "o-a", "landmark", 2, "\"new bridge\"");
    assert_value(s, "outfall", "o-a", "name", 1, "\"north drain\"");
    assert_value(s, "outfall", "o-a", "name", 2, NULL); /* cleared at 2 */
    assert_value(s, "outfall", "o-a", "lat", 3, "35.123456789012344");
    assert_value(s, "observation", "ob-1", "flow.rate", 1, "\"FLOW_RATE_HIGH\"");
    if (with_changes) {
        assert_int_equal(history_changed_by_other(s, "outfall", "o-a", "landmark", 1, "phone-1"),
                         1);
        assert_int_equal(history_changed_by_other(s, "outfall", "o-a", "landmark", 1, "phone-2"),
                         0);
        assert_int_equal(
            history_changed_by_other(s, "outfall", "o-a", "review_state", 2, "phone-1"),
            1); /* a decision made off a phone counts as someone else */
        assert_int_equal(history_changed_by_other(s, "outfall", "o-a", "lat", 1, "phone-1"), 0);
    }
    json_t *approved = history_doc_at(s, "outfall", "o-a", 3);
    assert_non_null(approved);
    char *text = json_dumps(approved, JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(17));
    assert_string_equal(text, "{\"landmark\":\"new bridge\",\"lat\":35.123456789012344,"
                              "\"review_state\":\"REVIEW_STATE_APPROVED\"}");
    free(text);
    json_decref(approved);
}

static void a_schema_22_database_reads_back_the_same_history_and_verifies(void **state) {
    (void)state;
    char dir[] = "/tmp/outfall-rechist-XXXXXX", path[64];
    uint8_t head[32];
    int64_t links;
    schema_22_database(dir, path, sizeof path, head, &links);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    char *before = field_rows(db);
    sqlite3_close(db);

    store *s = migrated_store(path, BEFORE);
    db = store_db(s);

    /* Every row and column as it was, through the view; nothing in the new table yet. */
    char *after = field_rows(db);
    assert_string_equal(after, before);
    free(before);
    free(after);
    assert_int_equal(count(db, "SELECT count(*) FROM field_history_frozen"), links);
    assert_int_equal(count(db, "SELECT count(*) FROM record_history"), 0);
    assert_old_answers(s, 1);

    backup_chain chain = {0};
    sync_error err = {0};
    assert_int_equal(backup_verify_history(db, &chain, &err), 0);
    assert_int_equal(chain.broken, 0);
    assert_int_equal(chain.rows, links);
    char head_hex[65];
    util_hex(head, 32, head_hex);
    assert_string_equal(chain.head, head_hex);

    /* A new version of o-a (a phone's edit, then the flags the server set beside it, one row)
     * continues the chain from the old head. */
    history_author a = {"c-6", 1, "phone-1", 1700000000009};
    assert_int_equal(store_begin(s, &err), 0);
    json_t *edit =
        json_pack("{s:s, s:{s:s}}", "landmark", "weir", "responsible_party", "phone", "0391-1");
    json_t *flags = json_pack("[s]", "FLAG_NEAR_DUPLICATE");
    assert_int_equal(history_write_all(s, "outfall", "o-a", 4, edit, &a, &err), 0);
    assert_int_equal(history_write(s, "outfall", "o-a", 4, "flags", flags, &a, &err), 0);
    assert_int_equal(store_commit(s, &err), 0);
    json_decref(edit);
    json_decref(flags);
    assert_int_equal(count(db, "SELECT count(*) FROM record_history"), 1);
    assert_int_equal(count(db, "SELECT seq FROM record_history"), links + 1);
    char *prev_hex = text_of(db, "SELECT lower(hex(prev_hash)) FROM record_history");
    assert_string_equal(prev_hex, head_hex);
    free(prev_hex);
    char *fields = text_of(db, "SELECT fields FROM record_history");
    assert_string_equal(fields, "{\"flags\":[\"FLAG_NEAR_DUPLICATE\"],\"landmark\":\"weir\","
                                "\"responsible_party.phone\":\"0391-1\"}");
    free(fields);

    /* The old answers stand; the new version answers across the boundary. */
    assert_old_answers(s, 0);
    assert_value(s, "outfall", "o-a", "landmark", 4, "\"weir\"");
    assert_value(s, "outfall", "o-a", "responsible_party.phone", 4, "\"0391-1\"");
    assert_value(s, "outfall", "o-a", "responsible_party.phone", 3, NULL);
    assert_int_equal(history_changed_by_other(s, "outfall", "o-a", "landmark", 3, "phone-2"), 1);
    assert_int_equal(history_changed_by_other(s, "outfall", "o-a", "landmark", 3, "phone-1"), 0);
    assert_int_equal(history_changed_by_other(s, "outfall", "o-a", "lat", 3, "phone-2"), 0);
    json_t *doc = history_doc_at(s, "outfall", "o-a", 4);
    assert_non_null(doc);
    assert_string_equal(json_string_value(json_object_get(doc, "landmark")), "weir");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(doc, "responsible_party"), "phone")),
        "0391-1");
    assert_string_equal(json_string_value(json_object_get(doc, "review_state")),
                        "REVIEW_STATE_APPROVED");
    assert_null(json_object_get(doc, "name"));
    json_decref(doc);
    /* The view shows the version's fields as rows, values as the per-field rows held them. */
    assert_int_equal(count(db, "SELECT count(*) FROM field_history WHERE entity_id = 'o-a' AND "
                               "version = 4"),
                     3);
    char *value = text_of(db, "SELECT value FROM field_history WHERE version = 4 AND "
                              "field = 'flags'");
    assert_string_equal(value, "[\"FLAG_NEAR_DUPLICATE\"]");
    free(value);

    memset(&chain, 0, sizeof chain);
    assert_int_equal(backup_verify_history(db, &chain, &err), 0);
    assert_int_equal(chain.broken, 0);
    assert_int_equal(chain.rows, links + 1);

    /* Nothing goes into the frozen table any more; no old row can change. */
    assert_int_not_equal(sqlite3_exec(db,
                                      "INSERT INTO field_history_frozen (kind, entity_id, "
                                      "version, field, change_id, user_id, at_ms) VALUES "
                                      "('outfall', 'o-b', 2, 'name', 'c-9', 1, 1)",
                                      NULL, NULL, NULL),
                         SQLITE_OK);
    assert_int_not_equal(
        sqlite3_exec(db, "UPDATE field_history_frozen SET value = NULL", NULL, NULL, NULL),
        SQLITE_OK);
    store_close(s);
    remove_folder(dir);
}

static void a_frozen_row_changed_after_the_migration_breaks_the_chain(void **state) {
    (void)state;
    char dir[] = "/tmp/outfall-rechist-XXXXXX", path[64];
    uint8_t head[32];
    int64_t links;
    schema_22_database(dir, path, sizeof path, head, &links);
    store *s = NULL;
    sync_error err = {0};
    assert_int_equal(store_open(path, &s, &err), 0);
    sqlite3 *db = store_db(s);
    exec_ok(db, "DROP TRIGGER field_history_no_update;"
                "UPDATE field_history_frozen SET value = '\"new bridgE\"' WHERE value = "
                "'\"new bridge\"'");
    backup_chain chain = {0};
    assert_int_equal(backup_verify_history(db, &chain, &err), 0);
    assert_int_equal(chain.broken, 1);
    assert_int_equal(chain.at, 7);
    assert_non_null(strstr(chain.what, "does not match its hash"));
    store_close(s);
    remove_folder(dir);
}

static void the_first_version_row_removed_breaks_the_chain(void **state) {
    (void)state;
    char dir[] = "/tmp/outfall-rechist-XXXXXX", path[64];
    uint8_t head[32];
    int64_t links;
    schema_22_database(dir, path, sizeof path, head, &links);
    store *s = NULL;
    sync_error err = {0};
    assert_int_equal(store_open(path, &s, &err), 0);
    sqlite3 *db = store_db(s);
    history_author a = {"c-6", 1, "phone-1", 1700000000009};
    json_t *name = json_string("weir");
    for (int64_t v = 4; v <= 5; v++) {
        assert_int_equal(store_begin(s, &err), 0);
        assert_int_equal(history_write(s, "outfall", "o-a", v, "landmark", name, &a, &err), 0);
        assert_int_equal(store_commit(s, &err), 0);
    }
    json_decref(name);
    exec_ok(db, "DROP TRIGGER record_history_no_delete;"
                "DELETE FROM record_history WHERE version = 4");
    backup_chain chain = {0};
    assert_int_equal(backup_verify_history(db, &chain, &err), 0);
    assert_int_equal(chain.broken, 1);
    assert_int_equal(chain.at, links + 2);
    assert_non_null(strstr(chain.what, "missing"));
    store_close(s);
    remove_folder(dir);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_schema_22_database_reads_back_the_same_history_and_verifies),
        cmocka_unit_test(a_frozen_row_changed_after_the_migration_breaks_the_chain),
        cmocka_unit_test(the_first_version_row_removed_breaks_the_chain),
    };
    return cmocka_run_group_tests_name("sync/record_history", tests, NULL, NULL);
}
