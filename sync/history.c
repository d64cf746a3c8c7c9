#include "sync/history.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "sync/record.h"

#define FIELD_PATH_MAX 256 /* $."path" of any field a record has */

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

void history_version_hash(const uint8_t prev[32], const history_version *row, uint8_t out[32]) {
    crypto_generichash_state h;
    crypto_generichash_init(&h, NULL, 0, 32);
    crypto_generichash_update(&h, prev, 32);
    hash_text(&h, "record_history"); /* never a field row's hash for the same columns */
    hash_text(&h, row->kind);
    hash_text(&h, row->entity_id);
    hash_int(&h, row->version);
    hash_text(&h, row->fields);
    hash_text(&h, row->change_id);
    hash_int(&h, row->user_id);
    hash_text(&h, row->device_id);
    hash_int(&h, row->at_ms);
    hash_int(&h, row->seq);
    crypto_generichash_final(&h, out, 32);
}

/* The tag the handle keeps beside the chain's head (store_set_chain_head): FNV-1a of the record
 * version and the change that wrote its row, so a head written for another version or change is
 * told apart without reading its row (equal tags still read it). */
static uint64_t head_tag(const char *kind, int64_t rowid, int64_t version, const char *change_id) {
    uint64_t h = 14695981039346656037ULL;
    const char *texts[] = {kind, change_id ? change_id : ""};
    const int64_t ints[] = {rowid, version};
    for (size_t t = 0; t < 2; t++)
        for (const char *c = texts[t]; *c; c++)
            h = (h ^ (uint8_t)*c) * 1099511628211ULL;
    for (size_t i = 0; i < 2; i++)
        for (int b = 0; b < 8; b++)
            h = (h ^ (uint8_t)((uint64_t)ints[i] >> (8 * b))) * 1099511628211ULL;
    return h;
}

/* The chain's last link into *head and prev (zeros and 0 for an empty chain): the one this write
 * transaction wrote last when the handle remembers it (*tag then its tag, *known 1), else the
 * newest of record_history, else the newest link of the frozen per-field chain it continues
 * (migration 0023), *known 0. */
static int chain_head(store *s, int64_t *head, uint8_t prev[32], int *known, uint64_t *tag,
                      sync_error *err) {
    static const char *const newest[] = {
        "SELECT seq, hash FROM record_history ORDER BY seq DESC LIMIT 1",
        "SELECT seq, hash FROM field_history_frozen WHERE seq IS NOT NULL "
        "ORDER BY seq DESC LIMIT 1",
    };
    memset(prev, 0, 32);
    *head = 0;
    *known = store_chain_head(s, head, prev, tag);
    if (*known) return 0;
    for (size_t i = 0; i < sizeof newest / sizeof *newest; i++) {
        sqlite3_stmt *st = store_stmt(s, newest[i]);
        if (!st) return store_fail(s, SQLITE_ERROR, err);
        int rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            *head = sqlite3_column_int64(st, 0);
            if (sqlite3_column_bytes(st, 1) == 32) memcpy(prev, sqlite3_column_blob(st, 1), 32);
        }
        sqlite3_reset(st);
        if (rc == SQLITE_ROW) return 0;
        if (rc != SQLITE_DONE) return store_fail(s, rc, err);
    }
    return 0;
}

/* The canonical text of a version's fields: compact, keys sorted, reals as record_text writes
 * them (so a field's value reads back as the text the per-field rows held); the members texts
 * holds (may be NULL) are copied from it. */
static char *fields_text(json_t *fields, const record_pieces *texts) {
    return record_dump(fields, RECORD_FIELDS_FLAGS, texts);
}

/* The row already written for this version, when it is the chain's head and by the same change:
 * *seq, its fields (new reference) and prev_hash into prev; *seq 0 when there is none. Any other
 * row for the version is a second write of it, which the table's key refuses. */
static int version_row(store *s, const char *kind, int64_t rowid, int64_t version,
                       const history_author *a, int64_t head, int64_t *seq, json_t **fields,
                       uint8_t prev[32], sync_error *err) {
    sqlite3_stmt *st = store_stmt(s, "SELECT seq, change_id, fields, prev_hash FROM record_history "
                                     "WHERE kind = ? AND entity_rowid = ? AND version = ?");
    if (!st) return store_fail(s, SQLITE_ERROR, err);
    sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, rowid);
    sqlite3_bind_int64(st, 3, version);
    *seq = 0;
    *fields = NULL;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW && sqlite3_column_int64(st, 0) == head &&
        strcmp((const char *)sqlite3_column_text(st, 1), a->change_id) == 0) {
        *seq = head;
        *fields = json_loads((const char *)sqlite3_column_text(st, 2), 0, NULL);
        memset(prev, 0, 32);
        if (sqlite3_column_bytes(st, 3) == 32) memcpy(prev, sqlite3_column_blob(st, 3), 32);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return store_fail(s, rc, err);
    if (*seq && !*fields)
        return sync_fail(err, SYNC_EINTERNAL, "internal", "history row %lld is not JSON",
                         (long long)head);
    return 0;
}

/* Records that `version` of kind/id (at rowid in its table) set the fields of set (path ->
 * value, JSON null = cleared): a new link of the chain, or, when this change already wrote the
 * version's row and it is still the head, that row with set's fields added and its hash redone. */
static int write_version(store *s, const char *kind, const char *id, int64_t rowid, int64_t version,
                         json_t *set, const record_pieces *texts, const history_author *a,
                         sync_error *err) {
    uint8_t prev[32], hash[32];
    int64_t head, seq;
    json_t *fields = NULL;
    char *text = NULL;
    int known = 0;
    uint64_t tag = 0, mine = head_tag(kind, rowid, version, a->change_id);
    int rc = chain_head(s, &head, prev, &known, &tag, err);
    /* A remembered head of another version or change is not this version's row: no read. */
    seq = 0;
    if (!rc && (!known || tag == mine))
        rc = version_row(s, kind, rowid, version, a, head, &seq, &fields, prev, err);
    if (rc) goto done;
    if (!seq) {
        seq = head + 1;
        fields = json_incref(set);
    } else if (json_object_update(fields, set)) {
        rc = sync_fail(err, SYNC_EINTERNAL, "out_of_memory", "out of memory");
        goto done;
    }
    if (!(text = fields_text(fields, texts))) {
        rc = sync_fail(err, SYNC_EINTERNAL, "out_of_memory", "out of memory");
        goto done;
    }
    history_version row = {kind,       id,           version,  text, a->change_id,
                           a->user_id, a->device_id, a->at_ms, seq};
    history_version_hash(prev, &row, hash);
    sqlite3_stmt *st =
        seq > head ? store_stmt(s, "INSERT INTO record_history (fields, hash, seq, kind, "
                                   "entity_id, entity_rowid, version, change_id, user_id, "
                                   "device_id, at_ms, prev_hash) "
                                   "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
                   : store_stmt(s, "UPDATE record_history SET fields = ?, hash = ? WHERE seq = ?");
    if (!st) {
        rc = store_fail(s, SQLITE_ERROR, err);
        goto done;
    }
    sqlite3_bind_text(st, 1, text, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 2, hash, 32, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, seq);
    if (seq > head) {
        sqlite3_bind_text(st, 4, kind, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 5, id, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 6, rowid);
        sqlite3_bind_int64(st, 7, version);
        sqlite3_bind_text(st, 8, a->change_id, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 9, a->user_id);
        sqlite3_bind_text(st, 10, a->device_id, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 11, a->at_ms);
        if (head > 0) sqlite3_bind_blob(st, 12, prev, 32, SQLITE_STATIC);
    }
    int step = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (step != SQLITE_DONE) {
        rc = store_fail(s, step, err);
        goto done;
    }
    store_set_chain_head(s, seq, hash, mine);
done:
    free(text);
    json_decref(fields);
    return rc;
}

int history_write(store *s, const char *kind, const char *id, int64_t version, const char *field,
                  const json_t *value, const history_author *a, sync_error *err) {
    int64_t rowid;
    int rc = record_rowid(s, kind, id, &rowid, err);
    if (rc) return rc;
    json_t *set = json_object();
    if (!set || json_object_set_new(set, field, value ? json_deep_copy(value) : json_null())) {
        json_decref(set);
        return sync_fail(err, SYNC_EINTERNAL, "out_of_memory", "out of memory");
    }
    rc = write_version(s, kind, id, rowid, version, set, NULL, a, err);
    json_decref(set);
    return rc;
}

/* Adds one leaf to the object of path -> value that history_write_all writes: a reference, not a
 * copy (the object is only read, dumped and let go before the caller's fields change). */
static int flat_leaf(const char *path, json_t *value, void *flat) {
    return json_object_set(flat, path, value) ? SYNC_EINTERNAL : 0;
}

int history_write_all(store *s, const char *kind, const char *id, int64_t version, json_t *fields,
                      const history_author *a, sync_error *err) {
    return history_write_all_at(s, kind, id, 0, version, fields, a, err);
}

int history_write_all_at(store *s, const char *kind, const char *id, int64_t rowid, int64_t version,
                         json_t *fields, const history_author *a, sync_error *err) {
    json_t *set = json_object();
    if (!set || record_each_leaf(fields, flat_leaf, set)) {
        json_decref(set);
        return sync_fail(err, SYNC_EINTERNAL, "out_of_memory", "out of memory");
    }
    int rc = history_write_leaves_at(s, kind, id, rowid, version, set, NULL, a, err);
    json_decref(set);
    return rc;
}

int history_write_leaves_at(store *s, const char *kind, const char *id, int64_t rowid,
                            int64_t version, json_t *leaves, const record_pieces *texts,
                            const history_author *a, sync_error *err) {
    int rc = rowid > 0 ? 0 : record_rowid(s, kind, id, &rowid, err);
    if (rc) return rc;
    /* Nothing to record writes nothing, as before versions had one row each. */
    return json_object_size(leaves)
               ? write_version(s, kind, id, rowid, version, leaves, texts, a, err)
               : 0;
}

/* The JSON path of field in a version's fields ($."a.b"), into out; 0, or -1 when it does not
 * fit or holds a quote (no field name does). */
static int field_path(const char *field, char *out, size_t size) {
    int n = snprintf(out, size, "$.\"%s\"", field);
    return n > 0 && (size_t)n < size && !strchr(field, '"') ? 0 : -1;
}

/* The value text at column col as a new JSON reference; NULL for SQL NULL or JSON null. */
static json_t *column_value(sqlite3_stmt *st, int col) {
    const char *text = (const char *)sqlite3_column_text(st, col);
    json_t *v = text ? json_loads(text, JSON_DECODE_ANY, NULL) : NULL;
    if (json_is_null(v)) {
        json_decref(v);
        v = NULL;
    }
    return v;
}

json_t *history_value_at(store *s, const char *kind, const char *id, const char *field,
                         int64_t at) {
    /* Versions in record_history are newer than any in the frozen per-field rows: look there
     * first, and in the frozen rows only when no newer version set the field. */
    static const char *const latest[] = {
        "SELECT fields -> ?5 FROM record_history WHERE kind = ?1 AND entity_rowid = " RECORD_ROWID
        " AND version <= ?4 AND fields -> ?5 IS NOT NULL ORDER BY version DESC LIMIT 1",
        "SELECT value FROM field_history_frozen WHERE kind = ?1 AND entity_rowid = " RECORD_ROWID
        " AND field = ?3 AND version <= ?4 ORDER BY version DESC LIMIT 1",
    };
    char path[FIELD_PATH_MAX];
    if (field_path(field, path, sizeof path)) return NULL;
    json_t *v = NULL;
    for (size_t i = 0; i < sizeof latest / sizeof *latest; i++) {
        sqlite3_stmt *st = store_stmt(s, latest[i]);
        if (!st) return NULL;
        sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
        if (i) sqlite3_bind_text(st, 3, field, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 4, at);
        if (!i) sqlite3_bind_text(st, 5, path, -1, SQLITE_STATIC);
        int rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) v = column_value(st, 0);
        sqlite3_reset(st);
        if (rc != SQLITE_DONE) break;
    }
    return v;
}

int history_changed_by_other(store *s, const char *kind, const char *id, const char *field,
                             int64_t after, const char *device_id) {
    static const char *const changed[] = {
        "SELECT 1 FROM record_history WHERE kind = ?1 AND entity_rowid = " RECORD_ROWID
        " AND version > ?4 AND fields -> ?6 IS NOT NULL AND (device_id IS NULL OR "
        "device_id IS NOT ?5) LIMIT 1",
        "SELECT 1 FROM field_history_frozen WHERE kind = ?1 AND entity_rowid = " RECORD_ROWID
        " AND field = ?3 AND version > ?4 AND (device_id IS NULL OR device_id IS NOT ?5) "
        "LIMIT 1",
    };
    char path[FIELD_PATH_MAX];
    if (field_path(field, path, sizeof path)) return SYNC_EINTERNAL;
    int found = 0;
    for (size_t i = 0; i < sizeof changed / sizeof *changed && !found; i++) {
        sqlite3_stmt *st = store_stmt(s, changed[i]);
        if (!st) return SYNC_EINTERNAL;
        sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
        if (i) sqlite3_bind_text(st, 3, field, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 4, after);
        sqlite3_bind_text(st, 5, device_id, -1, SQLITE_STATIC);
        if (!i) sqlite3_bind_text(st, 6, path, -1, SQLITE_STATIC);
        int rc = sqlite3_step(st);
        sqlite3_reset(st);
        if (rc != SQLITE_ROW && rc != SQLITE_DONE) return SYNC_EINTERNAL;
        found = rc == SQLITE_ROW;
    }
    return found;
}

/* Folds the fields of every version up to ?3 of record ?1/?2 from record_history into doc, in
 * version order; 0 or -1. */
static int fold_versions(store *s, const char *kind, const char *id, int64_t version, json_t *doc) {
    sqlite3_stmt *st = store_stmt(s, "SELECT fields FROM record_history WHERE kind = ?1 AND "
                                     "entity_rowid = " RECORD_ROWID " AND version <= ?3 "
                                     "ORDER BY version");
    if (!st) return -1;
    sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, version);
    int rc, bad = 0;
    while (!bad && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        json_t *fields = json_loads((const char *)sqlite3_column_text(st, 0), 0, NULL);
        const char *path;
        json_t *v;
        bad = !fields;
        json_object_foreach(fields, path, v) {
            if (record_set(doc, path, json_is_null(v) ? NULL : v)) bad = 1;
        }
        json_decref(fields);
    }
    sqlite3_reset(st);
    return !bad && rc == SQLITE_DONE ? 0 : -1;
}

json_t *history_doc_at(store *s, const char *kind, const char *id, int64_t version) {
    /* The frozen per-field rows first (older than every version of record_history): the key
     * (kind, entity_rowid, field, version) walks each field's versions in order, the last row of
     * each field at or before `version` wins. Then the newer versions, each over the last. */
    sqlite3_stmt *st = store_stmt(s, "SELECT field, value FROM field_history_frozen WHERE "
                                     "kind = ?1 AND entity_rowid = " RECORD_ROWID
                                     " AND version <= ?3 ORDER BY field, version");
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
        json_t *v = column_value(st, 1);
        record_set(doc, (const char *)sqlite3_column_text(st, 0), v);
        json_decref(v);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE || fold_versions(s, kind, id, version, doc)) {
        json_decref(doc);
        return NULL;
    }
    return doc;
}
