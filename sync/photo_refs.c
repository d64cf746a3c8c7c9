#include "sync/photo_refs.h"

#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "sync/photos.h"

/* The slot of hash in c's index of missing photos: the one holding it, or the empty one where it
 * goes. c->n_slots is a power of two with an empty slot left. */
static size_t missing_slot(const apply_ctx *c, const char *hash) {
    /* Keyed: a batch's photo hashes are the phone's to choose (FNV-1a's were easy to make share
     * a slot, each lookup then walking all of them). */
    size_t i = (size_t)util_table_hash(hash) & (c->n_slots - 1);
    while (c->missing_slots[i] && strcmp(c->missing[c->missing_slots[i] - 1], hash) != 0)
        i = (i + 1) & (c->n_slots - 1);
    return i;
}

/* Makes c's index of missing photos room for one more (at most half full). Returns 0 or -1. */
static int missing_index_room(apply_ctx *c) {
    if (2 * (c->n_missing + 1) <= c->n_slots) return 0;
    size_t n = c->n_slots ? 2 * c->n_slots : 64;
    size_t *slots = calloc(n, sizeof *slots);
    if (!slots) return -1;
    free(c->missing_slots);
    c->missing_slots = slots;
    c->n_slots = n;
    for (size_t k = 0; k < c->n_missing; k++)
        c->missing_slots[missing_slot(c, c->missing[k])] = k + 1;
    return 0;
}

/* Adds hash to the batch's photos to upload, once. Returns 0 or -1 (out of memory). */
static int remember_missing(apply_ctx *c, const char *hash) {
    if (missing_index_room(c)) return -1;
    size_t slot = missing_slot(c, hash);
    if (c->missing_slots[slot]) return 0;
    if (c->n_missing == c->cap_missing) {
        size_t cap = c->cap_missing ? 2 * c->cap_missing : 8;
        char **grown = realloc(c->missing, cap * sizeof *grown);
        if (!grown) return -1;
        c->missing = grown;
        c->cap_missing = cap;
    }
    if (!(c->missing[c->n_missing] = strdup(hash))) return -1;
    c->missing_slots[slot] = ++c->n_missing;
    return 0;
}

/* The PhotoKind number of a photo reference in a document (enums are stored by name). */
static int photo_kind(json_t *photo) {
    const char *name = entity_str(photo, "kind");
    const ProtobufCEnumValue *v =
        protobuf_c_enum_descriptor_get_value_by_name(&outfall__v1__photo_kind__descriptor, name);
    return v ? v->value : 0;
}

/* Whether the photo hash is stored and the sender holds it (uploaded its bytes): 1 or 0, or -1
 * when it cannot be read. */
static int photo_held(apply_ctx *c, const char *hash) {
    sqlite3_stmt *st = store_stmt(c->s, "SELECT EXISTS (SELECT 1 FROM photos WHERE hash = ?1) AND "
                                        "EXISTS (SELECT 1 FROM photo_holders WHERE hash = ?1 AND "
                                        "user_id = ?2)");
    if (!st) return -1;
    sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, c->p->user_id);
    int held = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
    sqlite3_reset(st);
    return held;
}

/* Before an edit saves observation rw's references: deletes those it no longer names and marks
 * the slots of those it keeps in used (a bit a slot). Returns 0 or an SQLite code. */
static int kept_slots(apply_ctx *c, const entity_row *rw, json_t *photos,
                      uint8_t used[PHOTO_REF_SLOTS / 8]) {
    char *listed = photos ? json_dumps(photos, JSON_COMPACT | JSON_ENCODE_ANY) : strdup("[]");
    sqlite3_stmt *st =
        listed ? store_stmt(c->s, "DELETE FROM observation_photo_refs WHERE " PHOTO_REFS_OF(
                                      "ref_key", "?1") " AND hash NOT IN (SELECT "
                                                       "json_extract(value, '$.hash') FROM "
                                                       "json_each(?2) WHERE type = 'object' AND "
                                                       "json_extract(value, '$.hash') IS NOT NULL)")
               : NULL;
    int rc = st ? 0 : SQLITE_ERROR;
    if (st) {
        sqlite3_bind_int64(st, 1, rw->rowid);
        sqlite3_bind_text(st, 2, listed, -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
        sqlite3_reset(st);
        rc = rc == SQLITE_DONE ? 0 : rc;
    }
    free(listed);
    static const char slots_sql[] = "SELECT ref_key - " PHOTO_REF_KEY(
        "?1", "0") " FROM observation_photo_refs WHERE " PHOTO_REFS_OF("ref_key", "?1");
    st = rc ? NULL : store_stmt(c->s, slots_sql);
    if (!rc && !st) rc = SQLITE_ERROR;
    if (st) {
        sqlite3_bind_int64(st, 1, rw->rowid);
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            int64_t slot = sqlite3_column_int64(st, 0);
            if (slot >= 0 && slot < PHOTO_REF_SLOTS) used[slot / 8] |= (uint8_t)(1u << (slot % 8));
        }
        sqlite3_reset(st);
        rc = rc == SQLITE_DONE ? 0 : rc;
    }
    return rc;
}

/* An edit naming photo hash again: the reference observation rw has to it takes the kind and
 * division, keeping its author (into *author). Returns 1 when there was one, 0 when not, or an
 * SQLite code made negative. */
static int kept_ref(apply_ctx *c, const entity_row *rw, const char *hash, int kind,
                    int64_t *author) {
    sqlite3_stmt *st = store_stmt(
        c->s,
        "UPDATE observation_photo_refs SET kind = ?3, division_code = ?4 WHERE " PHOTO_REFS_OF(
            "ref_key", "?1") " AND hash = ?2 RETURNING author_id");
    if (!st) return -SQLITE_ERROR;
    sqlite3_bind_int64(st, 1, rw->rowid);
    sqlite3_bind_text(st, 2, hash, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 3, kind);
    sqlite3_bind_text(st, 4, rw->division, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st), found = rc == SQLITE_ROW;
    if (found) {
        *author = sqlite3_column_int64(st, 0);
        rc = sqlite3_step(st);
    }
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? found : -rc;
}

/* A photo reference's hash and its place in its observation's list, for repeated_refs. */
typedef struct named_photo {
    const char *hash;
    size_t at;
} named_photo;

static int named_photo_order(const void *a, const void *b) {
    const named_photo *x = a, *y = b;
    int c = strcmp(x->hash, y->hash);
    return c ? c : (x->at > y->at) - (x->at < y->at);
}

/* A list this short is compared pair by pair: at most 28 comparisons, and no allocation or sort
 * (those were 2 % of the writer's time on observations of four photos, perf). */
enum { PAIRWISE_UPTO = 8 };

/* Marks in again (a bit a place in photos, at most PHOTO_REF_SLOTS of them) each reference that
 * names the hash of an earlier one. A long list is sorted by hash rather than each compared with
 * every earlier one: for a list of 1 024 photos that was half a million comparisons, 110 M
 * instructions of the writer's for one observation. Returns 0, or -1 when memory is short. */
static int repeated_refs(json_t *photos, uint8_t again[PHOTO_REF_SLOTS / 8]) {
    size_t n = json_array_size(photos);
    if (n < 2) return 0;
    if (n <= PAIRWISE_UPTO) {
        const char *hash[PAIRWISE_UPTO];
        for (size_t i = 0; i < n; i++) {
            hash[i] = entity_str(json_array_get(photos, i), "hash");
            for (size_t j = 0; j < i; j++)
                if (strcmp(hash[i], hash[j]) == 0) {
                    again[i / 8] |= (uint8_t)(1u << (i % 8));
                    break;
                }
        }
        return 0;
    }
    named_photo *by_hash = malloc(n * sizeof *by_hash);
    if (!by_hash) return -1;
    for (size_t i = 0; i < n; i++)
        by_hash[i] = (named_photo){entity_str(json_array_get(photos, i), "hash"), i};
    qsort(by_hash, n, sizeof *by_hash, named_photo_order);
    for (size_t i = 1; i < n; i++)
        if (strcmp(by_hash[i].hash, by_hash[i - 1].hash) == 0)
            again[by_hash[i].at / 8] |= (uint8_t)(1u << (by_hash[i].at % 8));
    free(by_hash);
    return 0;
}

/* The one number sql reads, into *out. Returns 0 or an SQLite code. */
static int number_of(store *s, const char *sql, int64_t *out) {
    sqlite3_stmt *st = store_stmt(s, sql);
    if (!st) return SQLITE_ERROR;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) *out = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? SQLITE_CORRUPT : rc;
}

/* Makes the hash entries of the references keyed after photo_ref_hashes_upto.upto, in the
 * entries' order, and moves upto to the last reference (migration 0030). Returns 0 or an SQLite
 * code. */
static int merge_hashes(store *s, store_hash_counts *n) {
    int rc = store_exec(s, "INSERT OR IGNORE INTO photo_ref_hashes (hash8, ref_key) SELECT "
                           "substr(hash, 1, 8), ref_key FROM observation_photo_refs WHERE ref_key "
                           "> (SELECT upto FROM photo_ref_hashes_upto) ORDER BY 1, 2");
    if (rc == SQLITE_OK)
        rc = store_exec(s, "UPDATE photo_ref_hashes_upto SET upto = coalesce((SELECT "
                           "max(ref_key) FROM observation_photo_refs), upto)");
    if (rc != SQLITE_OK) return rc;
    n->known = 0;
    return 0;
}

/* After a new reference keyed ref_key to photo hash: when the references up to its key have their
 * entries, it gets its own now; otherwise it is one more of the tail, and the tail's entries are
 * made once PHOTO_HASHES_MERGE_AT wait. Returns 0 or an SQLite code. */
static int hash_entry(store *s, int64_t ref_key, const char *hash) {
    store_hash_counts *n = store_photo_hash_counts(s);
    int rc = 0;
    if (!n->known) {
        /* Once a write transaction; the count (about 0.1 ms for a full tail) has this one. */
        if ((rc = number_of(s, "SELECT upto FROM photo_ref_hashes_upto", &n->upto)) ||
            (rc = number_of(s,
                            "SELECT count(*) FROM observation_photo_refs WHERE ref_key > (SELECT "
                            "upto FROM photo_ref_hashes_upto)",
                            &n->tail)))
            return rc;
        n->known = 1;
    } else if (ref_key > n->upto) {
        n->tail++;
    }
    if (ref_key <= n->upto) {
        sqlite3_stmt *st = store_stmt(s, "INSERT OR IGNORE INTO photo_ref_hashes (hash8, ref_key) "
                                         "VALUES (substr(?1, 1, 8), ?2)");
        if (!st) return SQLITE_ERROR;
        sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, ref_key);
        rc = sqlite3_step(st);
        sqlite3_reset(st);
        return rc == SQLITE_DONE ? 0 : rc;
    }
    return n->tail < PHOTO_HASHES_MERGE_AT ? 0 : merge_hashes(s, n);
}

int photo_refs_save(apply_ctx *c, entity_row *rw, int created, sync_error *err) {
    json_t *photos = json_object_get(rw->doc, "photos");
    uint8_t used[PHOTO_REF_SLOTS / 8] = {0}, again[PHOTO_REF_SLOTS / 8] = {0};
    if (json_array_size(photos) > PHOTO_REF_SLOTS)
        return sync_fail(err, SYNC_EINTERNAL, "internal",
                         "an observation unchecked for its photos");
    if (repeated_refs(photos, again))
        return sync_fail(err, SYNC_EINTERNAL, "out_of_memory", "out of memory");
    int rc = created ? 0 : kept_slots(c, rw, photos, used);
    if (rc) return store_fail(c->s, rc, err);
    int slot = 0;
    size_t i;
    json_t *photo;
    json_array_foreach(photos, i, photo) {
        const char *hash = entity_str(photo, "hash");
        /* The first of repeated references sets the kind, as before. */
        if (again[i / 8] >> (i % 8) & 1) continue;
        int64_t author = entity_photo_author(c);
        int kept = created ? 0 : kept_ref(c, rw, hash, photo_kind(photo), &author);
        if (kept < 0) return store_fail(c->s, -kept, err);
        if (!kept) {
            while (slot < PHOTO_REF_SLOTS && (used[slot / 8] >> (slot % 8) & 1))
                slot++;
            /* A plain insert, whose author is the one bound (RETURNING would make SQLite buffer
             * the row in a temporary b-tree it opens for each statement). */
            sqlite3_stmt *st =
                store_stmt(c->s, "INSERT INTO observation_photo_refs (ref_key, observation_rowid, "
                                 "hash, kind, division_code, author_id) VALUES (" PHOTO_REF_KEY(
                                     "?1", "?6") ", ?1, ?2, ?3, ?4, ?5)");
            if (!st) return store_fail(c->s, SQLITE_ERROR, err);
            sqlite3_bind_int64(st, 1, rw->rowid);
            sqlite3_bind_text(st, 2, hash, -1, SQLITE_STATIC);
            sqlite3_bind_int(st, 3, photo_kind(photo));
            sqlite3_bind_text(st, 4, rw->division, -1, SQLITE_STATIC);
            sqlite3_bind_int64(st, 5, author);
            sqlite3_bind_int(st, 6, slot);
            rc = sqlite3_step(st);
            sqlite3_reset(st);
            if (rc != SQLITE_DONE ||
                (rc = hash_entry(c->s, rw->rowid * PHOTO_REF_SLOTS + slot, hash)))
                return store_fail(c->s, rc, err);
            slot++;
        }
        /* Only the sender can upload for their own reference. Its check has found whether the
         * sender holds it when it is theirs (proven_photo asks the same of the same author). */
        if (author != c->p->user_id || !c->p->user_id) continue;
        int held = rw->proven_of == photos && rw->proven_n == json_array_size(photos)
                       ? rw->proven[i / 8] >> (i % 8) & 1
                       : photo_held(c, hash);
        if (held < 0) return store_fail(c->s, SQLITE_ERROR, err);
        if (!held && remember_missing(c, hash))
            return sync_fail(err, SYNC_EINTERNAL, "out_of_memory", "out of memory");
    }
    return 0;
}
