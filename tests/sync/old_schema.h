/* Helpers for the migration tests (tests/sync/test_*): a database built through the migrations up
 * to an old schema, read and written with plain SQLite before the engine opens it. Header-only;
 * include after fixture.h. */
#ifndef TESTS_SYNC_OLD_SCHEMA_H
#define TESTS_SYNC_OLD_SCHEMA_H

#include <sqlite3.h>
#include <stdint.h>

#include "sync/migrations.h"
#include "sync/store.h"

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

/* The text of sql's single result ("" for NULL), with ?1 bound to param when it is not NULL;
 * malloc'd. */
static inline char *text_with(sqlite3 *db, const char *sql, const char *param) {
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    if (param) sqlite3_bind_text(st, 1, param, -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    const char *text = (const char *)sqlite3_column_text(st, 0);
    char *copy = strdup(text ? text : "");
    sqlite3_finalize(st);
    return copy;
}

/* The text of sql's single result ("" for NULL), malloc'd. */
static inline char *text_of(sqlite3 *db, const char *sql) {
    return text_with(db, sql, NULL);
}

/* Fails the test unless the text of sql's single result, ?1 bound to param, is want. */
static inline void assert_text_with(sqlite3 *db, const char *sql, const char *param,
                                    const char *want) {
    char *got = text_with(db, sql, param);
    assert_string_equal(got, want);
    free(got);
}

/* A new database file in a new folder made from dir (a mkdtemp template; the file's path into
 * path), built by the migrations up to schema version and marked at it, foreign keys on when
 * foreign_keys is 1 (as the engine opens it): open for the test to fill. */
static inline sqlite3 *old_schema_database(char *dir, char *path, size_t cap, int version,
                                           int foreign_keys) {
    assert_non_null(mkdtemp(dir));
    snprintf(path, cap, "%s/outfall.db", dir);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    if (foreign_keys) exec_ok(db, "PRAGMA foreign_keys = ON");
    for (int i = 0; i < migration_count && migrations[i].version <= version; i++)
        exec_ok(db, migrations[i].sql);
    char sql[64];
    snprintf(sql, sizeof sql, "PRAGMA user_version = %d", version);
    exec_ok(db, sql);
    return db;
}

/* The database file at path opened by the engine, which migrates it past schema `before`: the
 * store (close with store_close); the test fails when it does not open or was not migrated. */
static inline store *migrated_store(const char *path, int before) {
    store *s = NULL;
    sync_error err = {0};
    if (store_open(path, &s, &err) != 0) fail_msg("store_open %s: %s", path, err.message);
    assert_true(store_schema_version(s) > before);
    return s;
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
