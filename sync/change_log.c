#include "sync/change_log.h"

#include <stdlib.h>

#include "sync/replay.h"

int change_log_find(store *s, const Outfall__V1__Change *ch, const uint8_t hash[32],
                    Outfall__V1__ChangeResult **first, sync_error *err) {
    return replay_find(
        s, "SELECT content_hash, result FROM changes WHERE rowid = " CHANGE_ROWID_OF("?1"),
        ch->change_id, hash, &outfall__v1__change_result__descriptor, (ProtobufCMessage **)first,
        "change_id_reused", err);
}

/* The entry by which the change just kept, id change_id at rowid, is found again: into
 * change_ids_recent, and when CHANGE_IDS_MERGE_AT wait there, all of them moved into change_ids
 * (their key order is the one they are read in). The number waiting is counted once a write
 * transaction (store_recent_change_ids): the entries another handle left count too. Returns
 * SQLITE_DONE or an SQLite code. */
static int change_id_entry(store *s, const char *change_id, int64_t rowid) {
    store_count *n = store_recent_change_ids(s);
    sqlite3_stmt *st;
    int rc;
    if (!n->known) {
        if (!(st = store_stmt(s, "SELECT count(*) FROM change_ids_recent"))) return SQLITE_ERROR;
        if ((rc = sqlite3_step(st)) == SQLITE_ROW) n->n = sqlite3_column_int64(st, 0);
        sqlite3_reset(st);
        if (rc != SQLITE_ROW) return rc;
        n->known = 1;
    }
    if (!(st = store_stmt(s, "INSERT INTO change_ids_recent (change_id, change_rowid) "
                             "VALUES (?, ?)")))
        return SQLITE_ERROR;
    sqlite3_bind_text(st, 1, change_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, rowid);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE || ++n->n < CHANGE_IDS_MERGE_AT) return rc;
    rc = store_exec(s, "INSERT INTO change_ids (change_id, change_rowid) SELECT change_id, "
                       "change_rowid FROM change_ids_recent");
    if (rc == SQLITE_OK) rc = store_exec(s, "DELETE FROM change_ids_recent");
    if (rc != SQLITE_OK) return rc;
    n->n = 0;
    return SQLITE_DONE;
}

int change_log_keep(store *s, const Outfall__V1__Change *ch, const uint8_t hash[32],
                    const char *batch_id, const Outfall__V1__ChangeResult *r, sync_error *err) {
    sqlite3_stmt *st = store_stmt(s, "INSERT INTO changes (change_id, content_hash, batch_id, "
                                     "kind, entity_id, status, version, result) "
                                     "VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
    if (!st) return store_fail(s, SQLITE_ERROR, err);
    sqlite3_bind_text(st, 1, ch->change_id, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 2, hash, 32, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, batch_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4,
                      ch->entity_case == OUTFALL__V1__CHANGE__ENTITY_OBSERVATION ? "observation"
                                                                                 : "outfall",
                      -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, r->entity_id, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 6, r->status);
    sqlite3_bind_int64(st, 7, r->version);
    if (store_bind_packed(st, 8, &r->base) != SQLITE_OK)
        return sync_fail(err, SYNC_EINTERNAL, "out_of_memory", "out of memory");
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE)
        rc = change_id_entry(s, ch->change_id, sqlite3_last_insert_rowid(store_db(s)));
    return rc == SQLITE_DONE ? 0 : store_fail(s, rc, err);
}
