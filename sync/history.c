#include "sync/history.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "sync/record.h"

/* Feeds one column to the chain hash: a presence byte, then a big-endian length and the bytes. */
static void hash_text(crypto_generichash_state *h, const char *text) {
    uint8_t head[9] = {text != NULL};
    uint64_t n = text ? strlen(text) : 0;
    for (int i = 0; i < 8; i++)
        head[1 + i] = (uint8_t)(n >> (56 - 8 * i));
    crypto_generichash_update(h, head, sizeof head);
    if (n) crypto_generichash_update(h, (const uint8_t *)text, n);
}

static void hash_int(crypto_generichash_state *h, int64_t v) {
    uint8_t b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)((uint64_t)v >> (56 - 8 * i));
    crypto_generichash_update(h, b, sizeof b);
}

void history_hash(const uint8_t prev[32], const history_row *row, uint8_t out[32]) {
    crypto_generichash_state h;
    crypto_generichash_init(&h, NULL, 0, 32);
    crypto_generichash_update(&h, prev, 32);
    hash_text(&h, row->kind);
    hash_text(&h, row->entity_id);
    hash_int(&h, row->version);
    hash_text(&h, row->field);
    hash_text(&h, row->value);
    hash_text(&h, row->change_id);
    hash_int(&h, row->user_id);
    hash_text(&h, row->device_id);
    hash_int(&h, row->at_ms);
    hash_int(&h, row->seq);
    crypto_generichash_final(&h, out, 32);
}

/* The rowid of record kind/id in its own table, which field history keys its rows by (migration
 * 0013): as SQL on the parameters ?1 (kind) and ?2 (id), then as a lookup. */
#define RECORD_ROWID                                                                               \
    "CASE ?1 WHEN 'outfall' THEN (SELECT rowid FROM outfalls WHERE id = ?2) "                      \
    "ELSE (SELECT rowid FROM observations WHERE id = ?2) END"

static int record_rowid(store *s, const char *kind, const char *id, int64_t *rowid,
                        sync_error *err) {
    sqlite3_stmt *st = store_stmt(s, "SELECT " RECORD_ROWID);
    if (!st) return store_fail(s, SQLITE_ERROR, err);
    sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    *rowid = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    int absent = rc == SQLITE_ROW && sqlite3_column_type(st, 0) == SQLITE_NULL;
    sqlite3_reset(st);
    if (rc != SQLITE_ROW) return store_fail(s, rc, err);
    if (absent)
        return sync_fail(err, SYNC_EINTERNAL, "internal",
                         "field history for %s %s, which is not stored", kind, id);
    return 0;
}

/* history_write for the record at rowid in its table (record_rowid). */
static int write_row(store *s, const char *kind, const char *id, int64_t rowid, int64_t version,
                     const char *field, const json_t *value, const history_author *a,
                     sync_error *err) {
    /* The chain's head: the write transaction this runs in keeps it from moving meanwhile, so
     * the head this transaction wrote last is still the head (the handle forgets it when the
     * transaction ends or rolls back to a savepoint). Reading it back for every field was two
     * index seeks per field written. */
    uint8_t prev[32] = {0}, hash[32];
    int64_t head = 0;
    sqlite3_stmt *st;
    int rc;
    if (!store_chain_head(s, &head, prev)) {
        st = store_stmt(s, "SELECT seq, hash FROM field_history WHERE seq IS NOT NULL "
                           "ORDER BY seq DESC LIMIT 1");
        if (!st) return store_fail(s, SQLITE_ERROR, err);
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            head = sqlite3_column_int64(st, 0);
            if (sqlite3_column_bytes(st, 1) == 32) memcpy(prev, sqlite3_column_blob(st, 1), 32);
        }
        sqlite3_reset(st);
        if (rc != SQLITE_ROW && rc != SQLITE_DONE) return store_fail(s, rc, err);
    }

    char *text = value && !json_is_null(value) ? record_text(value) : NULL;
    history_row row = {kind,         id,         version,      field,    text,
                       a->change_id, a->user_id, a->device_id, a->at_ms, head + 1};
    history_hash(prev, &row, hash);
    st = store_stmt(s, "INSERT INTO field_history (kind, entity_id, version, field, value, "
                       "change_id, user_id, device_id, at_ms, seq, prev_hash, hash, "
                       "entity_rowid) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    if (!st) {
        free(text);
        return store_fail(s, SQLITE_ERROR, err);
    }
    sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, version);
    sqlite3_bind_text(st, 4, field, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, text, -1, free);
    sqlite3_bind_text(st, 6, a->change_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 7, a->user_id);
    sqlite3_bind_text(st, 8, a->device_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 9, a->at_ms);
    sqlite3_bind_int64(st, 10, head + 1);
    if (head > 0) sqlite3_bind_blob(st, 11, prev, 32, SQLITE_TRANSIENT);
    sqlite3_bind_blob(st, 12, hash, 32, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 13, rowid);
    rc = sqlite3_step(st);
    if (rc != SQLITE_DONE) return store_fail(s, rc, err);
    store_set_chain_head(s, head + 1, hash);
    return 0;
}

int history_write(store *s, const char *kind, const char *id, int64_t version, const char *field,
                  const json_t *value, const history_author *a, sync_error *err) {
    int64_t rowid;
    int rc = record_rowid(s, kind, id, &rowid, err);
    return rc ? rc : write_row(s, kind, id, rowid, version, field, value, a, err);
}

struct write_all {
    store *s;
    const char *kind, *id;
    int64_t rowid, version;
    const history_author *a;
    sync_error *err;
};

static int write_leaf(const char *path, json_t *value, void *ctx) {
    struct write_all *w = ctx;
    return write_row(w->s, w->kind, w->id, w->rowid, w->version, path, value, w->a, w->err);
}

int history_write_all(store *s, const char *kind, const char *id, int64_t version, json_t *fields,
                      const history_author *a, sync_error *err) {
    struct write_all w = {s, kind, id, 0, version, a, err};
    int rc = record_rowid(s, kind, id, &w.rowid, err);
    return rc ? rc : record_each_leaf(fields, write_leaf, &w);
}

json_t *history_value_at(store *s, const char *kind, const char *id, const char *field,
                         int64_t at) {
    sqlite3_stmt *st = store_stmt(s, "SELECT value FROM field_history WHERE kind = ?1 AND "
                                     "entity_rowid = " RECORD_ROWID " AND field = ?3 AND "
                                     "version <= ?4 ORDER BY version DESC LIMIT 1");
    if (!st) return NULL;
    sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, field, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, at);
    json_t *v = NULL;
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
        v = json_loads((const char *)sqlite3_column_text(st, 0), JSON_DECODE_ANY, NULL);
    sqlite3_reset(st);
    return v;
}

int history_changed_by_other(store *s, const char *kind, const char *id, const char *field,
                             int64_t after, const char *device_id) {
    sqlite3_stmt *st = store_stmt(s, "SELECT 1 FROM field_history WHERE kind = ?1 AND "
                                     "entity_rowid = " RECORD_ROWID " AND field = ?3 AND "
                                     "version > ?4 AND (device_id IS NULL OR device_id IS NOT ?5) "
                                     "LIMIT 1");
    if (!st) return SYNC_EINTERNAL;
    sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, field, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, after);
    sqlite3_bind_text(st, 5, device_id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc == SQLITE_ROW) return 1;
    return rc == SQLITE_DONE ? 0 : SYNC_EINTERNAL;
}

json_t *history_doc_at(store *s, const char *kind, const char *id, int64_t version) {
    /* The key (kind, entity_rowid, field, version) walks each field's versions in order: the
     * last row of each field at or before `version` wins. */
    sqlite3_stmt *st = store_stmt(s, "SELECT field, value FROM field_history WHERE kind = ?1 AND "
                                     "entity_rowid = " RECORD_ROWID " AND version <= ?3 "
                                     "ORDER BY field, version");
    json_t *doc = json_object();
    if (!st || !doc) {
        json_decref(doc);
        return NULL;
    }
    sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, version);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *text = (const char *)sqlite3_column_text(st, 1);
        json_t *v = text ? json_loads(text, JSON_DECODE_ANY, NULL) : NULL;
        record_set(doc, (const char *)sqlite3_column_text(st, 0), v);
        json_decref(v);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        json_decref(doc);
        return NULL;
    }
    return doc;
}
