/* Migration 0012 (migrations/0012_append_order.sql): field history, changes and batches of a
 * database at schema 11 become rowid tables with every row, column and chain link as it was.
 * Migration 0013 (migrations/0013_history_by_record.sql): field history is keyed by each record's
 * rowid, so a new record's rows go at the end of the key, and reads find them as before. */
#include "fixture.h"
#include "old_schema.h"

#include "sync/backup.h"
#include "sync/history.h"
#include "sync/migrations.h"

/* Every column a field-history row had before migration 0013, as one text. */
#define HISTORY_COLUMNS                                                                            \
    "quote(kind) || quote(entity_id) || quote(version) || quote(field) || quote(value) || "        \
    "quote(change_id) || quote(user_id) || quote(device_id) || quote(at_ms) || quote(seq) || "     \
    "quote(prev_hash) || quote(hash)"

/* One text holding every row of the three tables, every column, in key order. */
static char *contents(sqlite3 *db) {
    static const char sql[] =
        "SELECT (SELECT group_concat(x, '|') FROM (SELECT " HISTORY_COLUMNS " AS x "
        "FROM field_history ORDER BY kind, entity_id, field, version)) || '#' || "
        "(SELECT group_concat(x, '|') FROM (SELECT quote(change_id) || quote(content_hash) || "
        "quote(batch_id) || quote(kind) || quote(entity_id) || quote(status) || quote(version) || "
        "quote(result) AS x FROM changes ORDER BY change_id)) || '#' || "
        "(SELECT group_concat(x, '|') FROM (SELECT quote(batch_id) || quote(device_id) || "
        "quote(device_seq) || quote(user_id) || quote(content_hash) || quote(state) || "
        "quote(received_at_ms) || quote(applied_at_ms) || quote(request) || quote(response) AS x "
        "FROM batches ORDER BY batch_id))";
    return text_of(db, sql);
}

/* A new folder from template dir with path its database file, migrated up to schema version
 * (user_version set); after_4, when not NULL, runs once schema 4 is in place. */
static sqlite3 *database_at(int version, char *dir, char *path, size_t cap, const char *after_4) {
    assert_non_null(mkdtemp(dir));
    snprintf(path, cap, "%s/outfall.db", dir);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    exec_ok(db, "PRAGMA foreign_keys = ON");
    for (int i = 0; i < migration_count && migrations[i].version <= version; i++) {
        exec_ok(db, migrations[i].sql);
        if (migrations[i].version == 4 && after_4) exec_ok(db, after_4);
    }
    char sql[64];
    snprintf(sql, sizeof sql, "PRAGMA user_version = %d", version);
    exec_ok(db, sql);
    return db;
}

/* Appends a chained history row of kind/entity at version after (*seq, prev). */
static void chained_row_of(sqlite3 *db, const char *kind, const char *entity, int64_t version,
                           const char *field, const char *value, int64_t *seq, uint8_t prev[32]) {
    history_row row = {kind,  entity, version,   field,         value,
                       "c-2", 1,      "phone-1", 1700000000000, *seq + 1};
    uint8_t hash[32];
    history_hash(prev, &row, hash);
    sqlite3_stmt *st = NULL;
    assert_int_equal(
        sqlite3_prepare_v2(db,
                           "INSERT INTO field_history (kind, entity_id, version, field, value, "
                           "change_id, user_id, device_id, at_ms, seq, prev_hash, hash) VALUES "
                           "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                           -1, &st, NULL),
        SQLITE_OK);
    sqlite3_bind_text(st, 1, row.kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, row.entity_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, row.version);
    sqlite3_bind_text(st, 4, row.field, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, row.value, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, row.change_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 7, row.user_id);
    sqlite3_bind_text(st, 8, row.device_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 9, row.at_ms);
    sqlite3_bind_int64(st, 10, row.seq);
    if (*seq) sqlite3_bind_blob(st, 11, prev, 32, SQLITE_STATIC);
    sqlite3_bind_blob(st, 12, hash, 32, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
    memcpy(prev, hash, 32);
    (*seq)++;
}

/* The same for outfall entity at version 2. */
static void chained_row(sqlite3 *db, const char *entity, const char *field, const char *value,
                        int64_t *seq, uint8_t prev[32]) {
    chained_row_of(db, "outfall", entity, 2, field, value, seq, prev);
}

static void schema_11_database_keeps_every_row_and_link(void **state) {
    (void)state;
    char dir[] = "/tmp/outfall-append-XXXXXX", path[64];

    /* A database as schema 11 left it, with rows in all three tables: two field-history rows from
     * before the chain (0001's rows without seq) and a chain of five after them. */
    sqlite3 *db = database_at(11, dir, path, sizeof path,
                              "INSERT INTO users (id, username, password_hash, role, "
                              "created_at_ms) VALUES (1, 'surveyor', 'x', 1, 1);"
                              "INSERT INTO devices (device_id, user_id, public_key, "
                              "enrolled_at_ms) VALUES ('phone-1', 1, zeroblob(32), 1);"
                              "INSERT INTO field_history (kind, entity_id, version, field, value, "
                              "change_id, user_id, device_id, at_ms) VALUES "
                              "('outfall', 'e-1', 1, 'name', '\"old\"', 'c-1', 1, 'phone-1', 5),"
                              "('outfall', 'e-1', 1, 'landmark', NULL, 'c-1', 1, NULL, 5)");
    /* The records the rows are about (migration 0013 keys field history by their rowids). */
    for (int i = 0; i < 3; i++) {
        char sql[320];
        snprintf(sql, sizeof sql,
                 "INSERT INTO outfalls (id, version, river_code, division_code, review_state, "
                 "lat, lon, created_by, created_at_ms, updated_at_ms, doc) SELECT 'e-%d', 2, "
                 "(SELECT code FROM rivers LIMIT 1), (SELECT code FROM divisions LIMIT 1), 1, "
                 "35, 113, 1, 1, 1, '{}'",
                 i);
        exec_ok(db, sql);
    }
    int64_t seq = 0;
    uint8_t prev[32] = {0};
    const char *fields[] = {"name", "landmark", "lat", "lon", "responsible_party.phone"};
    for (int i = 0; i < 5; i++)
        chained_row(db, i < 3 ? "e-2" : "e-0", fields[i], i == 1 ? NULL : "\"v\"", &seq, prev);
    exec_ok(db, "INSERT INTO changes VALUES ('c-1', x'01', 'b-1', 'outfall', 'e-1', 1, 1, x'0a'),"
                "('c-2', x'02', 'b-2', 'outfall', 'e-2', 2, 2, x'0b');"
                "INSERT INTO batches VALUES ('b-2', 'phone-1', 2, 1, x'22', 'applied', 20, 21, "
                "NULL, x'beef'),('b-1', 'phone-1', 1, 1, x'11', 'applied', 10, 11, NULL, x'ab'),"
                "('b-3', 'phone-1', 4, 1, x'33', 'held', 30, NULL, x'cafe', NULL)");
    char *before = contents(db);
    sqlite3_close(db);

    store *s = NULL;
    sync_error err = {0};
    assert_int_equal(store_open(path, &s, &err), 0);
    db = store_db(s);
    assert_int_equal(store_schema_version(s), migrations[migration_count - 1].version);

    char *after = contents(db);
    assert_string_equal(after, before);
    free(before);
    free(after);
    assert_int_equal(count(db, "SELECT count(*) FROM field_history"), 7);

    /* Rowid tables now, rows in arrival order: the unchained first, then the chain by seq (the
     * per-field table is field_history_frozen since migration 0023). */
    assert_int_equal(count(db, "SELECT count(*) FROM field_history_frozen WHERE rowid > 0"), 7);
    assert_int_equal(count(db,
                           "SELECT count(*) FROM field_history_frozen a JOIN field_history_frozen "
                           "b ON b.rowid = a.rowid + 1 WHERE a.seq IS NOT NULL AND "
                           "b.seq <> a.seq + 1"),
                     0);
    assert_int_equal(count(db, "SELECT max(rowid) FROM field_history_frozen WHERE seq IS NULL"), 2);
    assert_int_equal(count(db, "SELECT count(*) FROM changes WHERE rowid > 0"), 2);
    assert_int_equal(count(db, "SELECT count(*) FROM batches WHERE rowid > 0"), 3);
    assert_int_equal(count(db, "SELECT count(*) FROM pragma_index_list('field_history_frozen') "
                               "WHERE \"unique\" AND name = 'field_history_record'"),
                     1);

    /* The chain verifies as before, and the keys, indexes and triggers hold. */
    backup_chain chain = {0};
    assert_int_equal(backup_verify_history(db, &chain, &err), 0);
    assert_int_equal(chain.broken, 0);
    assert_int_equal(chain.rows, 5);
    assert_int_equal(chain.unchained, 2);
    assert_int_not_equal(sqlite3_exec(db, "UPDATE field_history SET value = 'x'", NULL, NULL, NULL),
                         SQLITE_OK);
    assert_int_not_equal(sqlite3_exec(db, "DELETE FROM field_history", NULL, NULL, NULL),
                         SQLITE_OK);
    assert_int_not_equal(sqlite3_exec(db,
                                      "INSERT INTO field_history (kind, entity_id, version, "
                                      "field, change_id, user_id, at_ms, entity_rowid) "
                                      "VALUES ('outfall', 'e-2', 2, 'name', 'c-9', 1, 1, 3)",
                                      NULL, NULL, NULL),
                         SQLITE_OK);
    /* A change id is kept once: by its entry since migration 0031 (the engine looks it up
     * before it writes a change, tests/sync/test_change_ids.c). */
    assert_int_not_equal(
        sqlite3_exec(db, "INSERT INTO change_ids VALUES ('c-1', 9)", NULL, NULL, NULL), SQLITE_OK);
    assert_int_not_equal(sqlite3_exec(db,
                                      "INSERT INTO changes VALUES (NULL, x'01', 'b-9', "
                                      "'outfall', 'e-1', 1, 1, x'0a')",
                                      NULL, NULL, NULL),
                         SQLITE_OK);
    assert_int_not_equal(sqlite3_exec(db,
                                      "INSERT INTO batches VALUES ('b-9', 'phone-1', 2, 1, "
                                      "x'22', 'applied', 20, 21, NULL, NULL)",
                                      NULL, NULL, NULL),
                         SQLITE_OK);
    assert_int_not_equal(sqlite3_exec(db,
                                      "INSERT INTO batches VALUES ('b-9', 'phone-9', 9, 1, "
                                      "x'22', 'applied', 20, 21, NULL, NULL)",
                                      NULL, NULL, NULL),
                         SQLITE_OK);
    assert_int_equal(count(db, "SELECT count(*) FROM field_history"), 7);
    assert_int_equal(count(db, "SELECT count(*) FROM changes"), 2);
    assert_int_equal(count(db, "SELECT count(*) FROM batches"), 3);
    store_close(s);
    remove_folder(dir);
}

/* Every row of the per-field history table (field_history, field_history_frozen from migration
 * 0023 on) with its rowid and every column, in rowid order. */
static char *history_rows(sqlite3 *db, const char *table) {
    char sql[512];
    snprintf(sql, sizeof sql,
             "SELECT group_concat(x, '|') FROM (SELECT rowid || " HISTORY_COLUMNS " AS x "
             "FROM %s ORDER BY rowid)",
             table);
    return text_of(db, sql);
}

static void assert_json_string(json_t *v, const char *want) {
    assert_non_null(v);
    assert_string_equal(json_string_value(v), want);
    json_decref(v);
}

static void schema_12_history_is_keyed_by_each_records_rowid(void **state) {
    (void)state;
    char dir[] = "/tmp/outfall-history-key-XXXXXX", path[80];

    /* Schema 12 with two outfalls (o-b stored first), an observation, a chain of history rows
     * about them in mixed order, and a row whose record is not stored. */
    sqlite3 *db = database_at(12, dir, path, sizeof path, NULL);
    exec_ok(db, "INSERT INTO users (id, username, password_hash, role, created_at_ms) "
                "VALUES (1, 'surveyor', 'x', 1, 1);"
                "INSERT INTO outfalls (id, version, river_code, division_code, review_state, lat, "
                "lon, created_by, created_at_ms, updated_at_ms, doc) SELECT id, 2, "
                "(SELECT code FROM rivers LIMIT 1), (SELECT code FROM divisions LIMIT 1), 1, 35, "
                "113, 1, 1, 1, '{}' FROM (SELECT 'o-b' AS id UNION ALL SELECT 'o-a') ORDER BY "
                "id DESC;"
                "INSERT INTO observations (id, outfall_id, version, division_code, created_by, "
                "created_at_ms, updated_at_ms, doc) SELECT 'ob-1', 'o-a', 1, code, 1, 1, 1, '{}' "
                "FROM divisions LIMIT 1");
    int64_t seq = 0;
    uint8_t prev[32] = {0};
    chained_row_of(db, "outfall", "o-a", 1, "name", "\"first\"", &seq, prev);
    chained_row_of(db, "observation", "ob-1", 1, "name", "\"seen\"", &seq, prev);
    chained_row_of(db, "outfall", "o-a", 1, "landmark", "\"bridge\"", &seq, prev);
    chained_row_of(db, "outfall", "o-b", 1, "name", "\"other\"", &seq, prev);
    chained_row_of(db, "outfall", "o-a", 2, "name", "\"second\"", &seq, prev);
    chained_row_of(db, "outfall", "gone", 1, "name", "\"lost\"", &seq, prev);
    char *before = history_rows(db, "field_history");
    sqlite3_close(db);

    store *s = NULL;
    sync_error err = {0};
    assert_int_equal(store_open(path, &s, &err), 0);
    db = store_db(s);
    assert_true(store_schema_version(s) >= 13);

    /* Every row, rowid and column as it was; each names its record's rowid in its own table. */
    char *after = history_rows(db, "field_history_frozen");
    assert_string_equal(after, before);
    free(before);
    free(after);
    assert_int_equal(count(db, "SELECT count(*) FROM field_history h WHERE entity_rowid IS "
                               "CASE kind WHEN 'outfall' THEN (SELECT rowid FROM outfalls WHERE "
                               "id = h.entity_id) ELSE (SELECT rowid FROM observations WHERE "
                               "id = h.entity_id) END"),
                     6);
    assert_int_equal(count(db, "SELECT entity_rowid FROM field_history WHERE entity_id = 'o-a'"),
                     2);
    assert_int_equal(count(db, "SELECT count(*) FROM field_history WHERE entity_rowid IS NULL"), 1);

    /* The reads find the rows by their record. */
    assert_json_string(history_value_at(s, "outfall", "o-a", "name", 1), "first");
    assert_json_string(history_value_at(s, "outfall", "o-a", "name", 2), "second");
    assert_json_string(history_value_at(s, "observation", "ob-1", "name", 5), "seen");
    assert_null(history_value_at(s, "outfall", "o-a", "kind", 2));
    assert_int_equal(history_changed_by_other(s, "outfall", "o-a", "name", 1, "phone-2"), 1);
    assert_int_equal(history_changed_by_other(s, "outfall", "o-a", "name", 1, "phone-1"), 0);
    assert_int_equal(history_changed_by_other(s, "outfall", "o-a", "landmark", 1, "phone-2"), 0);
    json_t *doc = history_doc_at(s, "outfall", "o-a", 1);
    assert_non_null(doc);
    assert_string_equal(json_string_value(json_object_get(doc, "name")), "first");
    assert_string_equal(json_string_value(json_object_get(doc, "landmark")), "bridge");
    assert_int_equal(json_object_size(doc), 2);
    json_decref(doc);

    /* The chain verifies; the key is unique; the triggers hold. */
    backup_chain chain = {0};
    assert_int_equal(backup_verify_history(db, &chain, &err), 0);
    assert_int_equal(chain.broken, 0);
    assert_int_equal(chain.rows, 6);
    assert_int_equal(count(db, "SELECT count(*) FROM pragma_index_info('field_history_record')"),
                     4);
    assert_int_not_equal(sqlite3_exec(db,
                                      "INSERT INTO field_history_frozen (kind, entity_id, version, "
                                      "field, change_id, user_id, at_ms, entity_rowid) "
                                      "VALUES ('outfall', 'o-a', 3, 'name', 'c-9', 1, 1, 2)",
                                      NULL, NULL, NULL),
                         SQLITE_OK);
    assert_int_not_equal(sqlite3_exec(db,
                                      "INSERT INTO field_history (kind, entity_id, version, "
                                      "field, change_id, user_id, at_ms, entity_rowid) "
                                      "VALUES ('outfall', 'o-a', 2, 'name', 'c-9', 1, 1, 2)",
                                      NULL, NULL, NULL),
                         SQLITE_OK);
    assert_int_not_equal(
        sqlite3_exec(db, "UPDATE field_history_frozen SET entity_rowid = 1", NULL, NULL, NULL),
        SQLITE_OK);
    assert_int_equal(count(db, "SELECT count(*) FROM field_history"), 6);
    store_close(s);
    remove_folder(dir);
}

static void a_new_records_history_goes_at_the_end_of_its_key(void **state) {
    fixture *f = *state;
    char batch[512];
    for (int i = 0; i < 4; i++) {
        Outfall__V1__SyncResponse *r =
            fx_sync(f, i % 2, fx_one_create(batch, sizeof batch, 35.0 + 0.01 * i));
        assert_int_equal(r->results[0]->status, OUTFALL__V1__CHANGE_STATUS__CHANGE_STATUS_APPLIED);
        protobuf_c_message_free_unpacked(&r->base, NULL);
    }
    /* Every row names its record's rowid; no row written later sorts before an earlier one
     * (one row per record version since migration 0023). */
    assert_true(fx_count(f, "SELECT count(*) FROM field_history") >= 4 * 5);
    assert_int_equal(fx_count(f, "SELECT count(*) FROM record_history"), 4);
    assert_int_equal(fx_count(f, "SELECT count(*) FROM record_history h LEFT JOIN outfalls o ON "
                                 "o.rowid = h.entity_rowid WHERE o.id IS NOT h.entity_id"),
                     0);
    assert_int_equal(fx_count(f, "SELECT count(*) FROM record_history a JOIN record_history b ON "
                                 "b.seq > a.seq AND b.kind = a.kind WHERE b.entity_rowid < "
                                 "a.entity_rowid"),
                     0);
}

static void history_of_a_record_not_stored_is_refused(void **state) {
    fixture *f = *state;
    int64_t before = fx_count(f, "SELECT count(*) FROM field_history");
    sync_error err = {0};
    assert_int_equal(store_begin(f->s, &err), 0);
    history_author a = {"c-1", 1, "phone-a", 1};
    json_t *v = json_string("x");
    assert_int_not_equal(history_write(f->s, "outfall", "no-such-record", 1, "name", v, &a, &err),
                         0);
    assert_string_equal(err.code, "internal");
    assert_non_null(strstr(err.message, "no-such-record"));
    json_t *fields = json_pack("{s:s}", "name", "x");
    memset(&err, 0, sizeof err);
    assert_int_not_equal(
        history_write_all(f->s, "observation", "no-such-record", 1, fields, &a, &err), 0);
    assert_string_equal(err.code, "internal");
    json_decref(fields);
    json_decref(v);
    store_rollback(f->s);
    assert_int_equal(fx_count(f, "SELECT count(*) FROM field_history"), before);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(schema_11_database_keeps_every_row_and_link),
        cmocka_unit_test(schema_12_history_is_keyed_by_each_records_rowid),
        cmocka_unit_test_setup_teardown(a_new_records_history_goes_at_the_end_of_its_key, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(history_of_a_record_not_stored_is_refused, fx_setup,
                                        fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
