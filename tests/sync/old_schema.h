/* Helpers for the migration tests (tests/sync/test_*): a database built through the migrations up
 * to an old schema, read and written with plain SQLite before the engine opens it. Header-only;
 * include after fixture.h. */
#ifndef TESTS_SYNC_OLD_SCHEMA_H
#define TESTS_SYNC_OLD_SCHEMA_H

#include <sqlite3.h>
#include <stdint.h>

/* Runs sql on db; the test fails with SQLite's message when it does not run. */
static inline void exec_ok(sqlite3 *db, const char *sql) {
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) fail_msg("%s: %s", sql, msg);
}

/* The integer of sql's single result. */
static inline int64_t count(sqlite3 *db, const char *sql) {
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

/* The text of sql's single result ("" for NULL), malloc'd. */
static inline char *text_of(sqlite3 *db, const char *sql) {
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    const char *text = (const char *)sqlite3_column_text(st, 0);
    char *copy = strdup(text ? text : "");
    sqlite3_finalize(st);
    return copy;
}

/* 1 when SQLite's plan for sql (EXPLAIN QUERY PLAN) names what (an index, or a way of search). */
static inline int plan_names(sqlite3 *db, const char *sql, const char *what) {
    char *explain = sqlite3_mprintf("EXPLAIN QUERY PLAN %s", sql);
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, explain, -1, &st, NULL), SQLITE_OK);
    int names = 0;
    while (sqlite3_step(st) == SQLITE_ROW)
        names |= strstr((const char *)sqlite3_column_text(st, 3), what) != NULL;
    sqlite3_finalize(st);
    sqlite3_free(explain);
    return names;
}

/* Removes the test's temporary folder dir and all in it. */
static inline void remove_folder(const char *dir) {
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

#endif
