#include "sync/feed.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/pbjson.h"
#include "common/util.h"
#include "sync/history.h"
#include "sync/photos.h"

int feed_touch(store *s, const char *kind, const char *id, int64_t rowid, const char *division_code,
               sync_error *err) {
    /* One statement: (entity_table, entity_rowid) is UNIQUE, so REPLACE deletes the record's old
     * row (if any) and the insert takes the next seq (AUTOINCREMENT). A new record's rowid is
     * its table's highest, so its key goes at the end of that index. */
    sqlite3_stmt *st = store_stmt(s, "INSERT OR REPLACE INTO feed (kind, entity_id, "
                                     "division_code, entity_table, entity_rowid) "
                                     "VALUES (?1, ?2, ?3, ?1 = 'observation', ?4)");
    if (!st) return store_fail(s, SQLITE_ERROR, err);
    sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, division_code, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, rowid);
    int rc = sqlite3_step(st);
    return rc == SQLITE_DONE ? 0 : store_fail(s, rc, err);
}

/* The principal's divisions as a JSON array for json_each(), or NULL when they see all
 * (malloc'd; the caller frees). */
static char *division_filter(const principal *p) {
    if (principal_all_divisions(p)) return NULL;
    json_t *a = json_array();
    for (int i = 0; i < p->n_divisions; i++)
        json_array_append_new(a, json_string(p->divisions[i]));
    char *text = json_dumps(a, JSON_COMPACT);
    json_decref(a);
    return text;
}

/* The view p reads: integrators (and through them the public) only ever read what a supervisor
 * approved; people at work read the latest unless they ask for the approved one. */
static int resolve_view(const principal *p, int view) {
    if (p && p->role == OUTFALL__V1__ROLE__ROLE_INTEGRATOR) return FEED_VIEW_APPROVED;
    return view == FEED_VIEW_DEFAULT ? FEED_VIEW_LATEST : view;
}

/* ---- decoded records ----
 * At 5 pm many phones of a division pull the same new records, and decoding a record's JSON into
 * its message is most of what a feed page costs. The decoding depends on nothing but the JSON
 * text, so a small cache keeps the packed message of recently decoded texts, keyed by the whole
 * text: a hit unpacks instead of parsing, and a changed record is another text, never a stale
 * hit. Bounded: one entry per slot, the newest wins. */
enum { DECODED_SLOTS = 8192 }; /* about 10 MB when full */

typedef struct decoded {
    const ProtobufCMessageDescriptor *desc;
    uint64_t hash;
    char *text; /* the JSON text, text_len bytes */
    size_t text_len;
    uint8_t *packed; /* the message it decodes to, packed */
    size_t packed_len;
} decoded;

/* Slots are guarded by 16 locks (slot number modulo 16): with one lock, the 32 workers building
 * feed pages at once queued on it (futex waits under decoded_get in the field day's profile). */
enum { DECODED_LOCKS = 16 };
#define DECODED_LOCK PTHREAD_MUTEX_INITIALIZER
#define DECODED_LOCKS4 DECODED_LOCK, DECODED_LOCK, DECODED_LOCK, DECODED_LOCK

static struct {
    pthread_mutex_t mu[DECODED_LOCKS];
    decoded slot[DECODED_SLOTS];
} decoded_cache = {{DECODED_LOCKS4, DECODED_LOCKS4, DECODED_LOCKS4, DECODED_LOCKS4}};

static pthread_mutex_t *decoded_lock(uint64_t h) {
    return &decoded_cache.mu[(h % DECODED_SLOTS) % DECODED_LOCKS];
}

/* FNV-1a of text[0..n), taken 8 bytes at a time (a record's JSON is a kilobyte or two, hashed
 * for every record of every feed page). */
static uint64_t text_hash(const char *text, size_t n) {
    uint64_t h = 14695981039346656037ULL, w;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        memcpy(&w, text + i, 8);
        h = (h ^ w) * 1099511628211ULL;
        h ^= h >> 29;
    }
    for (; i < n; i++)
        h = (h ^ (uint8_t)text[i]) * 1099511628211ULL;
    return h;
}

/* The message of desc that text decodes to, when the cache has it: *out (free_unpacked). */
static ProtobufCMessage *decoded_get(const ProtobufCMessageDescriptor *desc, const char *text,
                                     size_t n, uint64_t h) {
    ProtobufCMessage *m = NULL;
    decoded *d = &decoded_cache.slot[h % DECODED_SLOTS];
    pthread_mutex_lock(decoded_lock(h));
    if (d->desc == desc && d->hash == h && d->text_len == n && memcmp(d->text, text, n) == 0)
        m = protobuf_c_message_unpack(desc, NULL, d->packed_len, d->packed);
    pthread_mutex_unlock(decoded_lock(h));
    return m;
}

/* Remembers that text decodes to m. Nothing happens when memory is short. */
static void decoded_put(const ProtobufCMessageDescriptor *desc, const char *text, size_t n,
                        uint64_t h, const ProtobufCMessage *m) {
    size_t packed_len = protobuf_c_message_get_packed_size(m);
    uint8_t *packed = malloc(packed_len ? packed_len : 1);
    char *copy = malloc(n ? n : 1);
    if (!packed || !copy) {
        free(packed);
        free(copy);
        return;
    }
    protobuf_c_message_pack(m, packed);
    memcpy(copy, text, n);
    decoded *d = &decoded_cache.slot[h % DECODED_SLOTS];
    pthread_mutex_lock(decoded_lock(h));
    char *old_text = d->text;
    uint8_t *old_packed = d->packed;
    *d = (decoded){desc, h, copy, n, packed, packed_len};
    pthread_mutex_unlock(decoded_lock(h));
    free(old_text);
    free(old_packed);
}

/* Decodes JSON text[0..n) into a message of desc (free_unpacked): 0, or -1 when it does not. */
static int decode_record(const ProtobufCMessageDescriptor *desc, const char *text, size_t n,
                         ProtobufCMessage **out) {
    uint64_t h = text_hash(text, n);
    if ((*out = decoded_get(desc, text, n, h))) return 0;
    char why[200];
    json_t *doc = json_loadb(text, n, 0, NULL);
    int rc = doc ? pbjson_from_json(desc, doc, out, why, sizeof why) : -1;
    json_decref(doc);
    if (rc == 0) decoded_put(desc, text, n, h, *out);
    return rc;
}

/* Loads a record and decodes it into a message of desc (freed with free_unpacked). Outfalls come
 * in the given view, with approved_version and latest_version set. Returns 1 when found and
 * visible to p, 0 when not, negative on failure. */
static int load_record(store *s, const principal *p, const char *sql,
                       const ProtobufCMessageDescriptor *desc, const char *id, int view,
                       ProtobufCMessage **out, sync_error *err) {
    *out = NULL;
    sqlite3_stmt *st = store_stmt(s, sql);
    if (!st) return store_fail(s, SQLITE_ERROR, err);
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        sqlite3_reset(st);
        return rc == SQLITE_DONE ? 0 : store_fail(s, rc, err);
    }
    if (p && !principal_covers(p, (const char *)sqlite3_column_text(st, 0))) {
        sqlite3_reset(st);
        return 0;
    }
    int is_outfall = desc == &outfall__v1__outfall__descriptor;
    int64_t version = sqlite3_column_int64(st, 2), approved = sqlite3_column_int64(st, 3);
    json_t *doc = NULL;
    if (is_outfall && view == FEED_VIEW_APPROVED) {
        sqlite3_reset(st);
        if (!approved) return 0;
        if ((doc = history_doc_at(s, "outfall", id, approved))) {
            json_object_set_new(doc, "id", json_string(id));
            json_object_set_new(doc, "version", json_integer(approved));
        }
        char why[200];
        rc = doc ? pbjson_from_json(desc, doc, out, why, sizeof why) : -1;
        json_decref(doc);
    } else {
        const char *text = (const char *)sqlite3_column_text(st, 1);
        size_t n = (size_t)sqlite3_column_bytes(st, 1);
        rc = text ? decode_record(desc, text, n, out) : -1;
        sqlite3_reset(st);
    }
    if (rc) return sync_fail(err, SYNC_EINTERNAL, "storage_error", "record %s is unreadable", id);
    if (is_outfall) {
        Outfall__V1__Outfall *o = (Outfall__V1__Outfall *)*out;
        o->has_approved_version = o->has_latest_version = 1;
        o->approved_version = approved;
        o->latest_version = version;
    }
    return 1;
}

static const char outfall_sql[] =
    "SELECT division_code, doc, version, approved_version FROM outfalls WHERE id = ?";
static const char observation_sql[] =
    "SELECT division_code, doc, version, 0 FROM observations WHERE id = ?";
/* What integrators read: only observations of outfalls a supervisor approved at least once. */
static const char observation_approved_sql[] =
    "SELECT b.division_code, b.doc, b.version, 0 FROM observations b JOIN outfalls o "
    "ON o.id = b.outfall_id WHERE b.id = ? AND o.approved_version > 0";

int feed_read_outfall_view(store *s, const principal *p, const char *id, int view,
                           Outfall__V1__Outfall **out, sync_error *err) {
    view = resolve_view(p, view);
    int rc = load_record(s, p, outfall_sql, &outfall__v1__outfall__descriptor, id, view,
                         (ProtobufCMessage **)out, err);
    if (rc == 0)
        return sync_fail(
            err, SYNC_ENOTFOUND, "not_found",
            view == FEED_VIEW_APPROVED ? "no approved version of outfall %s" : "no outfall %s", id);
    return rc < 0 ? rc : 0;
}

int feed_read_outfall(store *s, const principal *p, const char *id, Outfall__V1__Outfall **out,
                      sync_error *err) {
    return feed_read_outfall_view(s, p, id, FEED_VIEW_DEFAULT, out, err);
}

int feed_read_observation(store *s, const principal *p, const char *id,
                          Outfall__V1__Observation **out, sync_error *err) {
    int approved_only = resolve_view(p, FEED_VIEW_DEFAULT) == FEED_VIEW_APPROVED;
    int rc = load_record(s, p, approved_only ? observation_approved_sql : observation_sql,
                         &outfall__v1__observation__descriptor, id, FEED_VIEW_LATEST,
                         (ProtobufCMessage **)out, err);
    if (rc == 0) return sync_fail(err, SYNC_ENOTFOUND, "not_found", "no observation %s", id);
    return rc < 0 ? rc : 0;
}

/* Builds the feed entry for one feed row into *out (malloc'd; free_unpacked). Returns 1, or 0
 * when the row has nothing to show in this view (an outfall never approved, to an integrator),
 * or a negative code. */
static int entry_for(store *s, int64_t seq, const char *kind, const char *id, int view,
                     Outfall__V1__FeedEntry **out, sync_error *err) {
    Outfall__V1__FeedEntry *e = *out = malloc(sizeof *e);
    if (!e) return sync_fail(err, SYNC_EINTERNAL, "out_of_memory", "out of memory");
    outfall__v1__feed_entry__init(e);
    e->has_seq = 1;
    e->seq = seq;
    int rc = 1;
    if (strcmp(kind, "outfall") == 0) {
        rc = load_record(s, NULL, outfall_sql, &outfall__v1__outfall__descriptor, id, view,
                         (ProtobufCMessage **)&e->outfall, err);
        e->entry_case = OUTFALL__V1__FEED_ENTRY__ENTRY_OUTFALL;
    } else if (strcmp(kind, "observation") == 0) {
        rc = load_record(s, NULL,
                         view == FEED_VIEW_APPROVED ? observation_approved_sql : observation_sql,
                         &outfall__v1__observation__descriptor, id, FEED_VIEW_LATEST,
                         (ProtobufCMessage **)&e->observation, err);
        e->entry_case = OUTFALL__V1__FEED_ENTRY__ENTRY_OBSERVATION;
    } else {
        Outfall__V1__Redirect *r = e->redirect = malloc(sizeof *r);
        if (r) {
            outfall__v1__redirect__init(r);
            e->entry_case = OUTFALL__V1__FEED_ENTRY__ENTRY_REDIRECT;
            r->from_id = strdup(id);
            sqlite3_stmt *st = store_stmt(s, "SELECT merged_into FROM outfalls WHERE id = ?");
            if (st) {
                sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
                if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
                    r->to_id = strdup((const char *)sqlite3_column_text(st, 0));
                sqlite3_reset(st);
            }
        }
    }
    if (rc != 1) {
        protobuf_c_message_free_unpacked(&e->base, NULL);
        *out = NULL;
    }
    return rc;
}

/* One row of a feed page. */
typedef struct feed_row {
    int64_t seq;
    char kind[16];
    char id[UUID_STR_LEN + 1];
} feed_row;

/* Reads the rows of p's page after since into *rows (malloc'd, *n of them, at most *limit,
 * clamped as feed_pull says) and whether more follow. Call inside the page's read transaction. */
static int page_rows(store *s, const sync_config *cfg, const principal *p, int64_t since,
                     int *limit, feed_row **rows, int *n, int *more, sync_error *err) {
    *rows = NULL;
    *n = *more = 0;
    if (*limit <= 0) *limit = cfg->pull_limit_default;
    if (*limit > cfg->pull_limit_max) *limit = cfg->pull_limit_max;
    char *divisions = division_filter(p);
    feed_row *r = *rows = calloc((size_t)*limit + 1, sizeof *r);
    int rc = 0;
    if (!r) {
        rc = sync_fail(err, SYNC_EINTERNAL, "out_of_memory", "out of memory");
        goto done;
    }
    /* One division (every surveyor): an equality the index feed(division_code, seq) serves in
     * seq order. The list form walks the feed by seq from `since` and tests every row's
     * division: about ten rows read for each one kept with ten divisions at work. */
    int one = divisions && p->n_divisions == 1;
    sqlite3_stmt *st =
        one ? store_stmt(s, "SELECT seq, kind, entity_id FROM feed WHERE division_code = ?2 AND "
                            "seq > ?1 ORDER BY seq LIMIT ?3")
            : store_stmt(s, "SELECT seq, kind, entity_id FROM feed WHERE seq > ? AND (?2 IS NULL "
                            "OR division_code IN (SELECT value FROM json_each(?2))) ORDER BY seq "
                            "LIMIT ?3");
    if (!st) {
        rc = store_fail(s, SQLITE_ERROR, err);
        goto done;
    }
    sqlite3_bind_int64(st, 1, since);
    if (one)
        sqlite3_bind_text(st, 2, p->divisions[0], -1, SQLITE_STATIC);
    else
        sqlite3_bind_text(st, 2, divisions, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 3, *limit + 1);
    int k = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && k <= *limit) {
        r[k].seq = sqlite3_column_int64(st, 0);
        util_strlcpy(r[k].kind, (const char *)sqlite3_column_text(st, 1), sizeof r[k].kind);
        util_strlcpy(r[k].id, (const char *)sqlite3_column_text(st, 2), sizeof r[k].id);
        k++;
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
        rc = store_fail(s, rc, err);
        goto done;
    }
    rc = 0;
    *more = k > *limit;
    *n = k > *limit ? *limit : k;
done:
    free(divisions);
    if (rc) {
        free(*rows);
        *rows = NULL;
    }
    return rc;
}

int feed_pull(store *s, const sync_config *cfg, const principal *p, int64_t since, int limit,
              Outfall__V1__ChangesResponse **out, sync_error *err) {
    *out = NULL;
    if (since < 0) return sync_fail(err, SYNC_EINVALID, "invalid_argument", "since must be >= 0");
    int view = resolve_view(p, FEED_VIEW_DEFAULT);

    Outfall__V1__ChangesResponse *resp = malloc(sizeof *resp);
    feed_row *rows = NULL;
    int n = 0, more = 0, rc = 0, began = 0;
    if (!resp) return sync_fail(err, SYNC_EINTERNAL, "out_of_memory", "out of memory");
    outfall__v1__changes_response__init(resp);
    /* One read transaction: the rows and the records they name are from the same moment. */
    began = sqlite3_get_autocommit(store_db(s)) && store_exec(s, "BEGIN") == SQLITE_OK;
    if ((rc = page_rows(s, cfg, p, since, &limit, &rows, &n, &more, err))) goto done;
    resp->has_more = 1;
    resp->more = more;
    resp->feed = calloc((size_t)n + 1, sizeof *resp->feed);
    if (!resp->feed) {
        rc = sync_fail(err, SYNC_EINTERNAL, "out_of_memory", "out of memory");
        goto done;
    }
    for (int i = 0; i < n; i++) {
        Outfall__V1__FeedEntry *e = NULL;
        rc = entry_for(s, rows[i].seq, rows[i].kind, rows[i].id, view, &e, err);
        if (rc < 0) goto done;
        if (e) resp->feed[resp->n_feed++] = e;
    }
    rc = 0;
    resp->has_next_cursor = 1;
    resp->next_cursor = n ? rows[n - 1].seq : since;
done:
    if (began) store_exec(s, "COMMIT");
    free(rows);
    if (rc && resp) {
        protobuf_c_message_free_unpacked(&resp->base, NULL);
        resp = NULL;
    }
    *out = resp;
    return rc;
}

/* ---- the feed page packed (protobuf answers) ----
 * A protobuf answer's feed page need not be unpacked from the decoded-record cache into messages
 * only to be packed again for every phone: the cache's packed record is copied straight into the
 * answer. protobuf-c packs a message's fields in field-number order, a submessage as tag, length
 * and its bytes, a repeated one as one such field per element, so the bytes below are the ones
 * protobuf_c_message_pack gives for feed_pull's page (tests/sync/test_feed_packed.c checks). */

/* A growing byte buffer; oom is set once an append failed. */
typedef struct pbuf {
    uint8_t *b;
    size_t n, cap;
    int oom;
} pbuf;

static uint8_t *pbuf_room(pbuf *g, size_t more) {
    if (g->oom) return NULL;
    if (g->n + more > g->cap) {
        size_t cap = g->cap ? g->cap * 2 : 4096;
        while (cap < g->n + more)
            cap *= 2;
        uint8_t *b = realloc(g->b, cap);
        if (!b) {
            g->oom = 1;
            return NULL;
        }
        g->b = b;
        g->cap = cap;
    }
    return g->b + g->n;
}

static void pbuf_put(pbuf *g, const void *p, size_t n) {
    uint8_t *d = pbuf_room(g, n);
    if (!d) return;
    if (n) memcpy(d, p, n);
    g->n += n;
}

/* Writes v as a varint into out (10 bytes at most); returns its length. */
static size_t varint(uint8_t *out, uint64_t v) {
    size_t i = 0;
    while (v >= 0x80) {
        out[i++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    out[i++] = (uint8_t)v;
    return i;
}

static void pbuf_varint(pbuf *g, uint64_t v) {
    uint8_t tmp[10];
    pbuf_put(g, tmp, varint(tmp, v));
}

/* Reads a varint at *pos of b[0..n); -1 when it runs off the end. */
static int read_varint(const uint8_t *b, size_t n, size_t *pos, uint64_t *v) {
    *v = 0;
    for (int shift = 0; shift < 64 && *pos < n; shift += 7) {
        uint8_t c = b[(*pos)++];
        *v |= (uint64_t)(c & 0x7f) << shift;
        if (!(c & 0x80)) return 0;
    }
    return -1;
}

/* In packed message b[0..n) (fields in number order), the offset of the first field numbered lo
 * or more, and how many bytes the fields numbered lo..hi take from there. -1 when malformed. */
static int field_span(const uint8_t *b, size_t n, uint32_t lo, uint32_t hi, size_t *at,
                      size_t *len) {
    size_t pos = 0, start = n, end = n;
    while (pos < n) {
        size_t here = pos;
        uint64_t tag, v;
        if (read_varint(b, n, &pos, &tag)) return -1;
        switch (tag & 7) {
        case 0:
            if (read_varint(b, n, &pos, &v)) return -1;
            break;
        case 1:
            pos += 8;
            break;
        case 2:
            if (read_varint(b, n, &pos, &v) || v > n - pos) return -1;
            pos += (size_t)v;
            break;
        case 5:
            pos += 4;
            break;
        default:
            return -1;
        }
        if (pos > n) return -1;
        uint64_t field = tag >> 3;
        if (field >= lo && start == n) start = here;
        if (field > hi) {
            end = here;
            break;
        }
    }
    *at = start;
    *len = end - start;
    return 0;
}

int feed_pack_spliced(const ProtobufCMessage *msg, uint32_t field, const uint8_t *bytes, size_t n,
                      uint8_t **out, size_t *out_len) {
    *out = NULL;
    *out_len = 0;
    /* Packed once into a block with room for the page, which then moves in at its place. */
    size_t plen = protobuf_c_message_get_packed_size(msg), at, len;
    uint8_t *res = malloc(plen + n ? plen + n : 1);
    if (!res) return -1;
    protobuf_c_message_pack(msg, res);
    if (field_span(res, plen, field, field, &at, &len) < 0) {
        free(res);
        return -1;
    }
    memmove(res + at + n, res + at + len, plen - at - len);
    if (n) memcpy(res + at, bytes, n);
    *out = res;
    *out_len = plen - len + n;
    return 0;
}

int feed_fields_below(const uint8_t *b, size_t n, uint32_t field) {
    size_t at, len;
    if (field_span(b, n, field, UINT32_MAX, &at, &len) < 0) return -1;
    return at == n;
}

int feed_pack_after(const uint8_t *head, size_t head_len, const uint8_t *bytes, size_t n,
                    const ProtobufCMessage *tail, uint8_t **out, size_t *out_len) {
    size_t tail_len = protobuf_c_message_get_packed_size(tail), total = head_len + n + tail_len;
    *out = malloc(total ? total : 1);
    *out_len = 0;
    if (!*out) return -1;
    if (head_len) memcpy(*out, head, head_len);
    if (n) memcpy(*out + head_len, bytes, n);
    protobuf_c_message_pack(tail, *out + head_len + n);
    *out_len = total;
    return 0;
}

/* Appends to g the cached packed record (of desc) that JSON text[0..n) decodes to, decoding and
 * caching it on a miss. -1 when the text does not decode. */
static int packed_record(const ProtobufCMessageDescriptor *desc, const char *text, size_t n,
                         pbuf *g) {
    uint64_t h = text_hash(text, n);
    decoded *d = &decoded_cache.slot[h % DECODED_SLOTS];
    int hit = 0;
    pthread_mutex_lock(decoded_lock(h));
    if (d->desc == desc && d->hash == h && d->text_len == n && memcmp(d->text, text, n) == 0) {
        pbuf_put(g, d->packed, d->packed_len);
        hit = 1;
    }
    pthread_mutex_unlock(decoded_lock(h));
    if (hit) return 0;
    ProtobufCMessage *m = NULL;
    char why[200];
    json_t *doc = json_loadb(text, n, 0, NULL);
    int rc = doc ? pbjson_from_json(desc, doc, &m, why, sizeof why) : -1;
    json_decref(doc);
    if (rc) return -1;
    decoded_put(desc, text, n, h, m);
    uint8_t *room = pbuf_room(g, protobuf_c_message_get_packed_size(m));
    if (room) g->n += protobuf_c_message_pack(m, room);
    protobuf_c_message_free_unpacked(m, NULL);
    return 0;
}

/* Appends entry e to g as field `field` (tag, length, its packed bytes) and frees it. */
static void put_entry_message(pbuf *g, uint32_t field, Outfall__V1__FeedEntry *e) {
    size_t len = protobuf_c_message_get_packed_size(&e->base);
    pbuf_varint(g, ((uint64_t)field << 3) | 2);
    pbuf_varint(g, len);
    uint8_t *room = pbuf_room(g, len);
    if (room) g->n += protobuf_c_message_pack(&e->base, room);
    protobuf_c_message_free_unpacked(&e->base, NULL);
}

/* Appends feed row r of the latest view to g as field `field` (tag, length, FeedEntry bytes),
 * as entry_for's entry packs. Returns 1, 0 when the record is gone, or a negative code. */
static int packed_entry(store *s, const feed_row *r, uint32_t field, pbuf *g, pbuf *rec,
                        sync_error *err) {
    int is_outfall = strcmp(r->kind, "outfall") == 0;
    if (!is_outfall && strcmp(r->kind, "observation") != 0) {
        /* A redirect: rare, built and packed as a message. */
        Outfall__V1__FeedEntry *e = NULL;
        int rc = entry_for(s, r->seq, r->kind, r->id, FEED_VIEW_LATEST, &e, err);
        if (rc == 1) put_entry_message(g, field, e);
        return rc;
    }
    const ProtobufCMessageDescriptor *desc =
        is_outfall ? &outfall__v1__outfall__descriptor : &outfall__v1__observation__descriptor;
    sqlite3_stmt *st = store_stmt(s, is_outfall ? outfall_sql : observation_sql);
    if (!st) return store_fail(s, SQLITE_ERROR, err);
    sqlite3_bind_text(st, 1, r->id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        sqlite3_reset(st);
        return rc == SQLITE_DONE ? 0 : store_fail(s, rc, err);
    }
    int64_t version = sqlite3_column_int64(st, 2), approved = sqlite3_column_int64(st, 3);
    const char *text = (const char *)sqlite3_column_text(st, 1);
    size_t n = (size_t)sqlite3_column_bytes(st, 1);
    rec->n = 0;
    rc = text ? packed_record(desc, text, n, rec) : -1;
    sqlite3_reset(st);
    if (rec->oom) return sync_fail(err, SYNC_EINTERNAL, "out_of_memory", "out of memory");
    if (rc)
        return sync_fail(err, SYNC_EINTERNAL, "storage_error", "record %s is unreadable", r->id);
    /* Outfalls: approved_version (20) and latest_version (21) set, in their place. */
    uint8_t vers[24];
    size_t vn = 0, at = rec->n, len = 0;
    if (is_outfall) {
        vn += varint(vers + vn, 20 << 3);
        vn += varint(vers + vn, (uint64_t)approved);
        vn += varint(vers + vn, 21 << 3);
        vn += varint(vers + vn, (uint64_t)version);
        if (field_span(rec->b, rec->n, 20, 21, &at, &len))
            return sync_fail(err, SYNC_EINTERNAL, "storage_error", "record %s is unreadable",
                             r->id);
    }
    size_t rlen = rec->n - len + vn;
    uint8_t head[32];
    size_t hn = varint(head, 1 << 3); /* seq */
    hn += varint(head + hn, (uint64_t)r->seq);
    hn += varint(head + hn, ((uint64_t)(is_outfall ? 2 : 3) << 3) | 2);
    hn += varint(head + hn, rlen);
    pbuf_varint(g, ((uint64_t)field << 3) | 2);
    pbuf_varint(g, hn + rlen);
    pbuf_put(g, head, hn);
    pbuf_put(g, rec->b, at);
    pbuf_put(g, vers, vn);
    pbuf_put(g, rec->b + at + len, rec->n - at - len);
    return 1;
}

int feed_pull_packed(store *s, const sync_config *cfg, const principal *p, int64_t since, int limit,
                     uint32_t field, uint8_t **out, size_t *out_len, int64_t *next_cursor,
                     int *more, sync_error *err) {
    *out = NULL;
    *out_len = 0;
    if (since < 0) return sync_fail(err, SYNC_EINVALID, "invalid_argument", "since must be >= 0");
    int view = resolve_view(p, FEED_VIEW_DEFAULT);
    pbuf g = {0}, rec = {0};
    feed_row *rows = NULL;
    int n = 0, rc = 0;
    int began = sqlite3_get_autocommit(store_db(s)) && store_exec(s, "BEGIN") == SQLITE_OK;
    if ((rc = page_rows(s, cfg, p, since, &limit, &rows, &n, more, err))) goto done;
    for (int i = 0; i < n; i++) {
        if (view == FEED_VIEW_LATEST) {
            rc = packed_entry(s, &rows[i], field, &g, &rec, err);
        } else {
            /* The approved view (integrators): rebuilt from history, packed as a message. */
            Outfall__V1__FeedEntry *e = NULL;
            rc = entry_for(s, rows[i].seq, rows[i].kind, rows[i].id, view, &e, err);
            if (e) put_entry_message(&g, field, e);
        }
        if (rc < 0) goto done;
    }
    rc = g.oom ? sync_fail(err, SYNC_EINTERNAL, "out_of_memory", "out of memory") : 0;
    *next_cursor = n ? rows[n - 1].seq : since;
done:
    if (began) store_exec(s, "COMMIT");
    free(rows);
    free(rec.b);
    if (rc) {
        free(g.b);
    } else {
        *out = g.b;
        *out_len = g.n;
    }
    return rc;
}

/* The inventory's optional filters: each present one adds its clause to the list's query, so
 * SQLite can walk the index made for it (migrations/0019_inventory_filters.sql) in id order. The
 * expressions must match the indexes' text. Parameters ?8 to ?11 are bound whether used or not. */
static const char *const list_filter_sql[] = {
    /* q: the code and name kept apart by triggers (outfall_search), read whole */
    " AND id IN (SELECT id FROM outfall_search WHERE instr(text, lower(?8)) > 0)",
    /* type */ " AND json_extract(doc, '$.type') = ?9",
    /* stage */
    " AND coalesce(json_extract(doc, '$.programme.stage'), 'LIFECYCLE_STAGE_FOUND') = ?10 "
    "AND approved_version > 0",
    /* flag */
    " AND json_extract(doc, '$.flags') IS NOT NULL AND EXISTS (SELECT 1 FROM "
    "json_each(doc, '$.flags') WHERE value = ?11)",
    /* overdue */
    " AND json_extract(doc, '$.programme.planned_on') IS NOT NULL AND "
    "json_extract(doc, '$.programme.remediated_on') IS NULL AND "
    "max(coalesce(json_extract(doc, '$.programme.plan.deadline'), ''), "
    "coalesce(json_extract(doc, '$.programme.plan.transition_end'), '')) <> '' AND "
    "max(coalesce(json_extract(doc, '$.programme.plan.deadline'), ''), "
    "coalesce(json_extract(doc, '$.programme.plan.transition_end'), '')) < "
    "date('now', '+8 hours')",
};
enum { LIST_FILTERS = sizeof list_filter_sql / sizeof list_filter_sql[0] };

/* One query text per set of filters present (bit i: list_filter_sql[i]), built once: the
 * statement cache keys on the text's address, so each stays put. */
static char list_sql[1 << LIST_FILTERS][2048];
static pthread_once_t list_sql_once = PTHREAD_ONCE_INIT;

static void list_sql_build(void) {
    for (unsigned set = 0; set < (1u << LIST_FILTERS); set++) {
        char *at = list_sql[set], *end = list_sql[set] + sizeof list_sql[set];
        at += snprintf(at, (size_t)(end - at), "%s",
                       "SELECT id FROM outfalls WHERE id > ?1 AND (?2 IS NULL OR river_code = ?2) "
                       "AND (?3 IS NULL OR division_code = ?3) AND (?4 = 0 OR review_state = ?4) "
                       "AND (?5 IS NULL OR division_code IN (SELECT value FROM json_each(?5))) "
                       "AND (?7 = 0 OR approved_version > 0)");
        for (unsigned i = 0; i < LIST_FILTERS; i++)
            if (set & (1u << i)) at += snprintf(at, (size_t)(end - at), "%s", list_filter_sql[i]);
        snprintf(at, (size_t)(end - at), " ORDER BY id LIMIT ?6");
    }
}

/* The query text for q's filters. */
static const char *list_sql_for(const outfall_query *q) {
    pthread_once(&list_sql_once, list_sql_build);
    unsigned set = (q->text ? 1u : 0) | (q->type_name ? 2u : 0) | (q->stage_name ? 4u : 0) |
                   (q->flag ? 8u : 0) | (q->overdue ? 16u : 0);
    return list_sql[set];
}

int feed_list_outfalls(store *s, const principal *p, const outfall_query *q,
                       Outfall__V1__OutfallList **out, sync_error *err) {
    *out = NULL;
    int limit = q->limit <= 0 ? 100 : q->limit > 1000 ? 1000 : q->limit;
    int view = resolve_view(p, q->view);
    if (view == FEED_VIEW_APPROVED &&
        (q->text || q->type_name || q->stage_name || q->flag || q->overdue))
        return sync_fail(err, SYNC_EINVALID, "invalid_argument",
                         "q, type, stage, flag and overdue filter the latest version: they need "
                         "view=latest and a role that reads it");
    Outfall__V1__OutfallList *list = malloc(sizeof *list);
    char *divisions = division_filter(p);
    char(*ids)[UUID_STR_LEN + 1] = calloc((size_t)limit + 1, sizeof *ids);
    int rc = 0, n = 0;
    if (!list || !ids) {
        free(list);
        rc = sync_fail(err, SYNC_EINTERNAL, "out_of_memory", "out of memory");
        list = NULL;
        goto done;
    }
    outfall__v1__outfall_list__init(list);
    sqlite3_stmt *st = store_stmt(s, list_sql_for(q));
    if (!st) {
        rc = store_fail(s, SQLITE_ERROR, err);
        goto done;
    }
    sqlite3_bind_text(st, 1, q->page_token ? q->page_token : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, q->river_code, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, q->division_code, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 4, q->review_state);
    sqlite3_bind_text(st, 5, divisions, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 6, limit + 1);
    sqlite3_bind_int(st, 7, view == FEED_VIEW_APPROVED);
    /* Binding a number the text does not use is harmless (SQLITE_RANGE past the last one). */
    sqlite3_bind_text(st, 8, q->text, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 9, q->type_name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 10, q->stage_name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 11, q->flag, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && n <= limit)
        util_strlcpy(ids[n++], (const char *)sqlite3_column_text(st, 0), sizeof ids[0]);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
        rc = store_fail(s, rc, err);
        goto done;
    }
    rc = 0;
    int more = n > limit;
    if (more) n = limit;
    list->outfalls = calloc((size_t)n + 1, sizeof *list->outfalls);
    if (!list->outfalls) {
        rc = sync_fail(err, SYNC_EINTERNAL, "out_of_memory", "out of memory");
        goto done;
    }
    for (int i = 0; i < n; i++) {
        ProtobufCMessage *m = NULL;
        rc = load_record(s, NULL, outfall_sql, &outfall__v1__outfall__descriptor, ids[i], view, &m,
                         err);
        if (rc < 0) goto done;
        if (m) list->outfalls[list->n_outfalls++] = (Outfall__V1__Outfall *)m;
    }
    rc = 0;
    if (more) list->next_page_token = strdup(ids[n - 1]);
done:
    free(ids);
    free(divisions);
    if (rc && list) {
        protobuf_c_message_free_unpacked(&list->base, NULL);
        list = NULL;
    }
    *out = list;
    return rc;
}

int feed_photo_visible(store *s, const principal *p, const char *hash, sync_error *err) {
    if (resolve_view(p, FEED_VIEW_DEFAULT) != FEED_VIEW_APPROVED) return 0;
    sqlite3_stmt *st =
        store_stmt(s, "SELECT 1 FROM observation_photos_proven op JOIN observations b ON b.rowid = "
                      "op.observation_rowid JOIN outfalls o ON o.id = b.outfall_id WHERE "
                      "o.approved_version > 0 AND " PHOTO_REFS_NAMING("op", "?1") " LIMIT 1");
    if (!st) return store_fail(s, SQLITE_ERROR, err);
    sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc == SQLITE_ROW) return 0;
    if (rc != SQLITE_DONE) return store_fail(s, rc, err);
    return sync_fail(err, SYNC_ENOTFOUND, "not_found", "no photo %.64s", hash);
}
