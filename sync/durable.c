/* The durable horizon (see durable.h). */
#include "sync/durable.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

int durable_next_ack(store *s, int64_t *seq, sync_error *err) {
    *seq = 0;
    sqlite3_stmt *st = store_stmt(
        s, "UPDATE store_identity SET ack_seq = ack_seq + 1 WHERE id = 1 RETURNING ack_seq");
    if (!st) return store_fail(s, SQLITE_ERROR, err);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) *seq = sqlite3_column_int64(st, 0);
    int done = rc == SQLITE_ROW ? sqlite3_step(st) : rc;
    sqlite3_reset(st);
    if (rc != SQLITE_ROW || done != SQLITE_DONE) return store_fail(s, done, err);
    return 0;
}

int durable_read(store *s, durable_horizon *out, sync_error *err) {
    memset(out, 0, sizeof *out);
    sqlite3_stmt *st =
        store_stmt(s, "SELECT epoch, ack_seq, (SELECT ifnull(max(seq), 0) FROM backups_confirmed) "
                      "FROM store_identity WHERE id = 1");
    if (!st) return store_fail(s, SQLITE_ERROR, err);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        const char *epoch = (const char *)sqlite3_column_text(st, 0);
        util_strlcpy(out->epoch, epoch ? epoch : "", sizeof out->epoch);
        out->ack_seq = sqlite3_column_int64(st, 1);
        out->durable_seq = sqlite3_column_int64(st, 2);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_ROW)
        return rc == SQLITE_DONE ? sync_fail(err, SYNC_EINTERNAL, "storage_error",
                                             "the store has no identity row")
                                 : store_fail(s, rc, err);
    return 0;
}

int durable_fill(store *s, int offsite, int64_t ack_seq, Outfall__V1__SyncResponse *resp,
                 sync_error *err) {
    durable_horizon h;
    int rc = durable_read(s, &h, err);
    if (rc) return rc;
    char *epoch = strdup(h.epoch);
    if (!epoch) return sync_fail(err, SYNC_EINTERNAL, "out_of_memory", "out of memory");
    free(resp->store_epoch);
    resp->store_epoch = epoch;
    resp->has_acknowledged_seq = 1;
    resp->acknowledged_seq = ack_seq > 0 ? ack_seq : h.ack_seq;
    resp->has_durable_seq = offsite != 0;
    resp->durable_seq = offsite ? h.durable_seq : 0;
    return 0;
}

/* Runs sql on db, the one statement bound by bind(arg), stepping it to its end; in its own
 * transaction when it writes. Returns 0 or a negative code with err. */
static int run_one(sqlite3 *db, const char *sql, void (*bind)(sqlite3_stmt *, const void *),
                   const void *arg, sync_error *err) {
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK) {
        bind(st, arg);
        while ((rc = sqlite3_step(st)) == SQLITE_ROW)
            ;
    }
    sqlite3_finalize(st);
    if (rc == SQLITE_DONE || rc == SQLITE_OK) return 0;
    if (rc == SQLITE_BUSY)
        return sync_fail(err, SYNC_EBUSY, "storage_busy", "%s", sqlite3_errmsg(db));
    return sync_fail(err, SYNC_EINTERNAL, "storage_error", "%s", sqlite3_errmsg(db));
}

static void bind_backup(sqlite3_stmt *st, const void *arg) {
    const durable_backup *b = arg;
    sqlite3_bind_text(st, 1, b->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, b->location, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, b->seq);
    sqlite3_bind_text(st, 4, b->epoch, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, b->digest, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 6, b->size);
    sqlite3_bind_int(st, 7, b->schema_version);
    sqlite3_bind_int64(st, 8, b->confirmed_at_ms);
    sqlite3_bind_int(st, 9, b->photos_uploaded);
}

int durable_record_backup(sqlite3 *db, const durable_backup *b, sync_error *err) {
    return run_one(db,
                   "INSERT INTO backups_confirmed (name, location, seq, epoch, digest, size, "
                   "schema_version, confirmed_at_ms, photos_uploaded) "
                   "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) "
                   "ON CONFLICT (name) DO NOTHING",
                   bind_backup, b, err);
}

/* Binds the text arg as ?1. */
static void bind_text(sqlite3_stmt *st, const void *arg) {
    sqlite3_bind_text(st, 1, arg, -1, SQLITE_STATIC);
}

int durable_forget_backup(sqlite3 *db, const char *name, sync_error *err) {
    return run_one(db, "DELETE FROM backups_confirmed WHERE name = ?1", bind_text, name, err);
}

int durable_list_backups(store *s, durable_backup *out, int cap, int *n, sync_error *err) {
    *n = 0;
    sqlite3_stmt *st = store_stmt(
        s, "SELECT name, location, seq, epoch, digest, size, schema_version, confirmed_at_ms, "
           "photos_uploaded FROM backups_confirmed ORDER BY confirmed_at_ms DESC, name DESC "
           "LIMIT ?1");
    if (!st) return store_fail(s, SQLITE_ERROR, err);
    sqlite3_bind_int(st, 1, cap);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && *n < cap) {
        durable_backup *b = &out[(*n)++];
        memset(b, 0, sizeof *b);
        const char *text[] = {
            (const char *)sqlite3_column_text(st, 0), (const char *)sqlite3_column_text(st, 1),
            (const char *)sqlite3_column_text(st, 3), (const char *)sqlite3_column_text(st, 4)};
        util_strlcpy(b->name, text[0] ? text[0] : "", sizeof b->name);
        util_strlcpy(b->location, text[1] ? text[1] : "", sizeof b->location);
        util_strlcpy(b->epoch, text[2] ? text[2] : "", sizeof b->epoch);
        util_strlcpy(b->digest, text[3] ? text[3] : "", sizeof b->digest);
        b->seq = sqlite3_column_int64(st, 2);
        b->size = sqlite3_column_int64(st, 5);
        b->schema_version = sqlite3_column_int(st, 6);
        b->confirmed_at_ms = sqlite3_column_int64(st, 7);
        b->photos_uploaded = sqlite3_column_int(st, 8);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) return store_fail(s, rc, err);
    return 0;
}

int durable_read_copy(sqlite3 *db, char epoch[DURABLE_EPOCH_LEN + 1], int64_t *ack_seq,
                      int *schema_version, sync_error *err) {
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, "SELECT epoch, ack_seq FROM store_identity WHERE id = 1", -1,
                                &st, NULL);
    if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *e = (const char *)sqlite3_column_text(st, 0);
        util_strlcpy(epoch, e ? e : "", DURABLE_EPOCH_LEN + 1);
        *ack_seq = sqlite3_column_int64(st, 1);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW)
        return sync_fail(err, SYNC_EINTERNAL, "storage_error",
                         "the database has no store identity: %s", sqlite3_errmsg(db));
    st = NULL;
    *schema_version = -1;
    if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        *schema_version = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return 0;
}

int durable_new_epoch(sqlite3 *db, char epoch_out[DURABLE_EPOCH_LEN + 1], sync_error *err) {
    uint8_t raw[DURABLE_EPOCH_LEN / 2];
    char hex[DURABLE_EPOCH_LEN + 1];
    randombytes_buf(raw, sizeof raw);
    sodium_bin2hex(hex, sizeof hex, raw, sizeof raw);
    int rc = run_one(db, "UPDATE store_identity SET epoch = ?1 WHERE id = 1", bind_text, hex, err);
    if (rc == 0 && epoch_out) util_strlcpy(epoch_out, hex, DURABLE_EPOCH_LEN + 1);
    return rc;
}
