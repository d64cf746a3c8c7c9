/* A checksum of the database's content, so a test can prove a refused request wrote nothing:
 * BLAKE2b-256 over a deterministic dump (tables by name, columns in order, rows ordered by every
 * column), read through a read-only connection inside one read transaction. */
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "common/util.h"
#include "tests/lib/harness.h"

/* What each level leaves out: a whole table (column NULL) or one column, from `level` up. */
static const struct {
    const char *table;
    const char *column;
    int level;
} th_skip[] = {
    {"audit", NULL, TH_ALL},          /* every refusal is audited, by design */
    {"tokens", NULL, TH_ALL},         /* logins and logouts */
    {"login_pairs", NULL, TH_ALL},    /* failed logins are counted, by design */
    {"login_accounts", NULL, TH_ALL}, /* (sync/login_limits.c) */
    {"batches", NULL, TH_STATE},
    {"changes", NULL, TH_STATE},
    {"change_ids", NULL, TH_STATE}, /* the changes' entries (migration 0031) */
    {"change_ids_recent", NULL, TH_STATE},
    {"devices", "last_seq", TH_STATE},
    {"store_identity", "ack_seq", TH_STATE}, /* every acknowledged batch is numbered */
};

static int th_skipped(const char *table, const char *column, int level) {
    for (size_t i = 0; i < sizeof th_skip / sizeof *th_skip; i++) {
        if (level < th_skip[i].level || strcmp(th_skip[i].table, table) != 0) continue;
        if (!th_skip[i].column || (column && strcmp(th_skip[i].column, column) == 0)) return 1;
    }
    return 0;
}

static void th_put(crypto_generichash_state *h, const void *p, size_t n) {
    crypto_generichash_update(h, p, n);
}

static void th_put_u64(crypto_generichash_state *h, uint64_t v) {
    uint8_t b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)(v >> (56 - 8 * i));
    th_put(h, b, 8);
}

static void th_put_text(crypto_generichash_state *h, const void *p, size_t n) {
    th_put_u64(h, n);
    th_put(h, p, n);
}

/* Appends "SELECT "a","b" FROM "t" ORDER BY 1,2" for the columns not skipped to sql[cap].
 * Returns the number of columns, 0 when none is left, or -1 on an error. */
static int th_select_for(sqlite3 *db, const char *table, int level, char *sql, size_t cap) {
    char q[512];
    snprintf(q, sizeof q, "SELECT name FROM pragma_table_info('%s') ORDER BY cid", table);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, q, -1, &st, NULL) != SQLITE_OK) return -1;
    size_t len = (size_t)snprintf(sql, cap, "SELECT ");
    int n = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *col = (const char *)sqlite3_column_text(st, 0);
        if (th_skipped(table, col, level)) continue;
        len +=
            (size_t)snprintf(sql + len, len < cap ? cap - len : 0, "%s\"%s\"", n ? "," : "", col);
        n++;
    }
    sqlite3_finalize(st);
    len += (size_t)snprintf(sql + len, len < cap ? cap - len : 0, " FROM \"%s\" ORDER BY ", table);
    for (int i = 1; i <= n; i++)
        len += (size_t)snprintf(sql + len, len < cap ? cap - len : 0, "%s%d", i > 1 ? "," : "", i);
    return len < cap ? n : -1;
}

static int th_hash_table(sqlite3 *db, const char *table, int level, crypto_generichash_state *h) {
    char sql[4096];
    int ncol = th_select_for(db, table, level, sql, sizeof sql);
    if (ncol <= 0) return ncol;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        fprintf(stderr, "th: checksum of %s: %s\n", table, sqlite3_errmsg(db));
        return -1;
    }
    th_put(h, "T", 1);
    th_put_text(h, table, strlen(table));
    for (int i = 0; i < ncol; i++) {
        const char *name = sqlite3_column_name(st, i);
        th_put_text(h, name, strlen(name));
    }
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        th_put(h, "R", 1);
        for (int i = 0; i < ncol; i++) {
            uint8_t type = (uint8_t)sqlite3_column_type(st, i);
            th_put(h, &type, 1);
            if (type == SQLITE_INTEGER) {
                th_put_u64(h, (uint64_t)sqlite3_column_int64(st, i));
            } else if (type == SQLITE_FLOAT) {
                double d = sqlite3_column_double(st, i);
                uint64_t bits;
                memcpy(&bits, &d, sizeof bits);
                th_put_u64(h, bits);
            } else if (type == SQLITE_TEXT || type == SQLITE_BLOB) {
                const void *p = type == SQLITE_TEXT ? (const void *)sqlite3_column_text(st, i)
                                                    : sqlite3_column_blob(st, i);
                th_put_text(h, p, (size_t)sqlite3_column_bytes(st, i));
            }
        }
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) fprintf(stderr, "th: checksum of %s: %s\n", table, sqlite3_errmsg(db));
    return rc == SQLITE_DONE ? 0 : -1;
}

th_sum th_db_checksum(const char *data_dir, int level) {
    static int failures;
    th_sum sum;
    char path[512];
    snprintf(path, sizeof path, "%s/outfall.db", data_dir);
    sqlite3 *db = NULL;
    sqlite3_stmt *tables = NULL;
    int ok = 0;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) goto out;
    sqlite3_busy_timeout(db, 5000);
    if (sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) goto out;
    if (sqlite3_prepare_v2(db,
                           "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE "
                           "'sqlite\\_%' ESCAPE '\\' ORDER BY name",
                           -1, &tables, NULL) != SQLITE_OK)
        goto out;
    crypto_generichash_state h;
    crypto_generichash_init(&h, NULL, 0, 32);
    int rc, ntables = 0;
    while ((rc = sqlite3_step(tables)) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(tables, 0);
        if (th_skipped(name, NULL, level)) continue;
        if (th_hash_table(db, name, level, &h) != 0) goto out;
        ntables++;
    }
    if (rc != SQLITE_DONE || ntables == 0) goto out;
    uint8_t digest[32];
    crypto_generichash_final(&h, digest, sizeof digest);
    util_hex(digest, sizeof digest, sum.hex);
    ok = 1;
out:
    if (!ok) {
        fprintf(stderr, "th: checksum of %s failed: %s\n", path, db ? sqlite3_errmsg(db) : "no db");
        snprintf(sum.hex, sizeof sum.hex, "!checksum-failed-%d", ++failures);
    }
    sqlite3_finalize(tables);
    if (db) sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    sqlite3_close(db);
    return sum;
}
