/* The audit trail: append-only (triggers refuse UPDATE and DELETE), each row hash-chained to the
 * one before it, so an edit made behind the server's back shows as a broken chain. */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "common/util.h"
#include "sync/accounts.h"

void audit_hash(const uint8_t prev[32], int64_t at_ms, int64_t user_id, const char *username,
                const char *action, const char *target, const char *outcome, const char *detail,
                uint8_t out[32]) {
    char numbers[48];
    snprintf(numbers, sizeof numbers, "%lld|%lld", (long long)at_ms, (long long)user_id);
    const char *fields[] = {numbers, username, action, target, outcome, detail};
    crypto_generichash_state h;
    crypto_generichash_init(&h, NULL, 0, 32);
    crypto_generichash_update(&h, prev, 32);
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        const char *f = fields[i] ? fields[i] : "";
        crypto_generichash_update(&h, (const uint8_t *)f, strlen(f) + 1);
    }
    crypto_generichash_final(&h, out, 32);
}

void audit_record(store *s, const principal *actor, const char *action, const char *target,
                  const char *outcome, const char *detail) {
    sqlite3 *db = store_db(s);
    int own_tx = sqlite3_get_autocommit(db);
    if (own_tx && sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) goto fail;

    uint8_t prev[32] = {0}, hash[32];
    int has_prev = 0;
    sqlite3_stmt *st = store_stmt(s, "SELECT hash FROM audit ORDER BY id DESC LIMIT 1");
    if (!st) goto fail;
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_bytes(st, 0) == 32) {
        memcpy(prev, sqlite3_column_blob(st, 0), 32);
        has_prev = 1;
    }
    sqlite3_reset(st);

    int64_t now = util_now_ms();
    audit_hash(prev, now, actor ? actor->user_id : 0, actor ? actor->username : "", action, target,
               outcome, detail, hash);

    st = store_stmt(s, "INSERT INTO audit (at_ms, user_id, username, action, target, outcome, "
                       "detail, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
    if (!st) goto fail;
    sqlite3_bind_int64(st, 1, now);
    if (actor) {
        sqlite3_bind_int64(st, 2, actor->user_id);
        sqlite3_bind_text(st, 3, actor->username, -1, SQLITE_STATIC);
    }
    sqlite3_bind_text(st, 4, action, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, target, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, outcome, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 7, detail, -1, SQLITE_STATIC);
    if (has_prev) sqlite3_bind_blob(st, 8, prev, 32, SQLITE_STATIC);
    sqlite3_bind_blob(st, 9, hash, 32, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE) goto fail;
    if (own_tx && sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) goto fail;
    return;
fail:
    fprintf(stderr, "audit: could not record %s %s (%s): %s\n", action, target ? target : "",
            outcome, sqlite3_errmsg(db));
    if (own_tx && !sqlite3_get_autocommit(db)) sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
}
