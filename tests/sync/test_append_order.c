/* Migration 0012 (migrations/0012_append_order.sql): field history, changes and batches of a
 * database at schema 11 become rowid tables with every row, column and chain link as it was. */
#include "fixture.h"

#include "sync/backup.h"
#include "sync/history.h"
#include "sync/migrations.h"

static void exec_ok(sqlite3 *db, const char *sql) {
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) fail_msg("%s: %s", sql, msg);
}

static int64_t count(sqlite3 *db, const char *sql) {
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

/* One text holding every row of the three tables, every column, in key order. */
static char *contents(sqlite3 *db) {
    static const char sql[] =
        "SELECT (SELECT group_concat(x, '|') FROM (SELECT quote(kind) || quote(entity_id) || "
        "quote(version) || quote(field) || quote(value) || quote(change_id) || quote(user_id) || "
        "quote(device_id) || quote(at_ms) || quote(seq) || quote(prev_hash) || quote(hash) AS x "
        "FROM field_history ORDER BY kind, entity_id, field, version)) || '#' || "
        "(SELECT group_concat(x, '|') FROM (SELECT quote(change_id) || quote(content_hash) || "
        "quote(batch_id) || quote(kind) || quote(entity_id) || quote(status) || quote(version) || "
        "quote(result) AS x FROM changes ORDER BY change_id)) || '#' || "
        "(SELECT group_concat(x, '|') FROM (SELECT quote(batch_id) || quote(device_id) || "
        "quote(device_seq) || quote(user_id) || quote(content_hash) || quote(state) || "
        "quote(received_at_ms) || quote(applied_at_ms) || quote(request) || quote(response) AS x "
        "FROM batches ORDER BY batch_id))";
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    char *text = strdup((const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return text;
}

/* Appends a chained history row after (*seq, prev). */
static void chained_row(sqlite3 *db, const char *entity, const char *field, const char *value,
                        int64_t *seq, uint8_t prev[32]) {
    history_row row = {"outfall", entity, 2, field, value, "c-2", 1, "phone-1", 1700000000000, *seq + 1};
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

static void schema_11_database_keeps_every_row_and_link(void **state) {
    (void)state;
    char dir[] = "/tmp/outfall-append-XXXXXX", path[64];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/outfall.db", dir);

    /* A database as schema 11 left it, with rows in all three tables: two field-history rows from
     * before the chain (0001's rows without seq) and a chain of five after them. */
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    exec_ok(db, "PRAGMA foreign_keys = ON");
    for (int i = 0; i < migration_count && migrations[i].version <= 11; i++) {
        exec_ok(db, migrations[i].sql);
        if (migrations[i].version == 4)
            exec_ok(db, "INSERT INTO users (id, username, password_hash, role, created_at_ms) "
                        "VALUES (1, 'surveyor', 'x', 1, 1);"
                        "INSERT INTO devices (device_id, user_id, public_key, enrolled_at_ms) "
                        "VALUES ('phone-1', 1, zeroblob(32), 1);"
                        "INSERT INTO field_history (kind, entity_id, version, field, value, "
                        "change_id, user_id, device_id, at_ms) VALUES "
                        "('outfall', 'e-1', 1, 'name', '\"old\"', 'c-1', 1, 'phone-1', 5),"
                        "('outfall', 'e-1', 1, 'landmark', NULL, 'c-1', 1, NULL, 5)");
    }
    exec_ok(db, "PRAGMA user_version = 11");
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

    /* Rowid tables now, rows in arrival order: the unchained first, then the chain by seq. */
    assert_int_equal(count(db, "SELECT count(*) FROM field_history WHERE rowid > 0"), 7);
    assert_int_equal(count(db, "SELECT count(*) FROM field_history a JOIN field_history b ON "
                               "b.rowid = a.rowid + 1 WHERE a.seq IS NOT NULL AND b.seq <> a.seq + 1"),
                     0);
    assert_int_equal(count(db, "SELECT max(rowid) FROM field_history WHERE seq IS NULL"), 2);
    assert_int_equal(count(db, "SELECT count(*) FROM changes WHERE rowid > 0"), 2);
    assert_int_equal(count(db, "SELECT count(*) FROM batches WHERE rowid > 0"), 3);
    assert_int_equal(count(db, "SELECT count(*) FROM pragma_index_list('field_history') WHERE "
                               "\"unique\" AND origin = 'pk'"),
                     1);

    /* The chain verifies as before, and the keys, indexes and triggers hold. */
    backup_chain chain = {0};
    assert_int_equal(backup_verify_history(db, &chain, &err), 0);
    assert_int_equal(chain.broken, 0);
    assert_int_equal(chain.rows, 5);
    assert_int_equal(chain.unchained, 2);
    assert_int_not_equal(sqlite3_exec(db, "UPDATE field_history SET value = 'x'", NULL, NULL, NULL),
                         SQLITE_OK);
    assert_int_not_equal(sqlite3_exec(db, "DELETE FROM field_history", NULL, NULL, NULL), SQLITE_OK);
    assert_int_not_equal(sqlite3_exec(db, "INSERT INTO field_history (kind, entity_id, version, "
                                          "field, change_id, user_id, at_ms) VALUES ('outfall', "
                                          "'e-2', 2, 'name', 'c-9', 1, 1)",
                                      NULL, NULL, NULL),
                         SQLITE_OK);
    assert_int_not_equal(sqlite3_exec(db, "INSERT INTO changes VALUES ('c-1', x'01', 'b-9', "
                                          "'outfall', 'e-1', 1, 1, x'0a')",
                                      NULL, NULL, NULL),
                         SQLITE_OK);
    assert_int_not_equal(sqlite3_exec(db, "INSERT INTO changes VALUES (NULL, x'01', 'b-9', "
                                          "'outfall', 'e-1', 1, 1, x'0a')",
                                      NULL, NULL, NULL),
                         SQLITE_OK);
    assert_int_not_equal(sqlite3_exec(db, "INSERT INTO batches VALUES ('b-9', 'phone-1', 2, 1, "
                                          "x'22', 'applied', 20, 21, NULL, NULL)",
                                      NULL, NULL, NULL),
                         SQLITE_OK);
    assert_int_not_equal(sqlite3_exec(db, "INSERT INTO batches VALUES ('b-9', 'phone-9', 9, 1, "
                                          "x'22', 'applied', 20, 21, NULL, NULL)",
                                      NULL, NULL, NULL),
                         SQLITE_OK);
    assert_int_equal(count(db, "SELECT count(*) FROM field_history"), 7);
    assert_int_equal(count(db, "SELECT count(*) FROM changes"), 2);
    assert_int_equal(count(db, "SELECT count(*) FROM batches"), 3);
    store_close(s);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(schema_11_database_keeps_every_row_and_link),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
