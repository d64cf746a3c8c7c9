#include "sync/queue.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/pbjson.h"
#include "common/util.h"
#include "sync/feed.h"
#include "sync/history.h"
#include "sync/record.h"

/* A record (its doc in scope) carries a flag matching `which` that no supervisor acknowledged
 * (DECISION_KIND_ACKNOWLEDGE_FLAGS, sync/review.c). */
#define QUEUE_UNACKNOWLEDGED(which)                                                                \
    "EXISTS (SELECT 1 FROM json_each(doc, '$.flags') f WHERE (" which ") AND f.value NOT IN "      \
    "(SELECT a.value FROM json_each(doc, '$.acknowledged_flags') a))"

/* Every open item as (kind, outfall, reference, time, pair_division). Kinds follow
 * outfall.v1.ReviewItemKind. A duplicate pair is an item of its suspect (the newer record); a
 * pair across two divisions is also an item of the neighbour, with pair_division naming the
 * suspect's division, so that the neighbour's county hears of it (its record's approval waits on
 * it) while a caller who sees the suspect's item does not get the pair twice (QUEUE_FILTER). */
#define QUEUE_ITEMS                                                                                \
    "SELECT 1 AS kind, id AS outfall_id, NULL AS ref, updated_at_ms AS at_ms, "                    \
    "  NULL AS pair_division FROM outfalls "                                                       \
    "  WHERE merged_into IS NULL AND ((review_state = 1 AND returned = 0) OR "                     \
    "  (review_state = 2 AND (EXISTS (SELECT 1 FROM record_history h WHERE h.kind = 'outfall' "    \
    "  AND h.entity_rowid = outfalls.rowid AND h.version > approved_version "                      \
    "  AND h.device_id IS NOT NULL) OR EXISTS (SELECT 1 FROM field_history_frozen h "              \
    "  WHERE h.kind = 'outfall' AND h.entity_rowid = outfalls.rowid "                              \
    "  AND h.version > approved_version AND h.device_id IS NOT NULL)))) "                          \
    "UNION ALL SELECT 5, id, NULL, updated_at_ms, NULL FROM outfalls "                             \
    "  WHERE merged_into IS NULL AND review_state = 1 AND returned = 1 "                           \
    "UNION ALL SELECT 2, CASE c.kind WHEN 'outfall' THEN c.entity_id ELSE "                        \
    "  (SELECT outfall_id FROM observations WHERE id = c.entity_id) END, c.id, c.created_at_ms, "  \
    "  NULL FROM conflicts c WHERE c.state = 'open' "                                              \
    "UNION ALL SELECT 3, outfall_id, id, created_at_ms, NULL FROM duplicates "                     \
    "  WHERE state = 'open' "                                                                      \
    "UNION ALL SELECT 3, d.neighbour_id, d.id, d.created_at_ms, a.division_code "                  \
    "  FROM duplicates d JOIN outfalls a ON a.id = d.outfall_id "                                  \
    "  JOIN outfalls b ON b.id = d.neighbour_id "                                                  \
    "  WHERE d.state = 'open' AND a.division_code <> b.division_code "                             \
    "UNION ALL SELECT 4, outfall_id, id, updated_at_ms, NULL FROM observations "                   \
    "  WHERE " QUEUE_UNACKNOWLEDGED(                                                               \
        "1") " "                                                                                   \
             "UNION ALL SELECT 4, id, NULL, updated_at_ms, NULL FROM outfalls "                    \
             "  WHERE merged_into IS NULL AND review_state = 2 AND " QUEUE_UNACKNOWLEDGED(         \
                 "(f.value LIKE 'rule%' OR f.value = 'date_backdated')") " "                       \
                                                                         "UNION ALL SELECT 6, "    \
                                                                         "outfall_id, "            \
                                                                         "observation_id, "        \
                                                                         "updated_at_ms, NULL "    \
                                                                         "  FROM "                 \
                                                                         "inspection_results "     \
                                                                         "WHERE pending = 1 "

/* The filter every query over the queue shares: ?1 kind, ?2 division, ?3 river, ?4 scope. A
 * neighbour's row of a pair across divisions shows only where the suspect's row does not. */
#define QUEUE_FILTER                                                                               \
    " q JOIN outfalls o ON o.id = q.outfall_id WHERE (?1 = 0 OR q.kind = ?1) "                     \
    "AND (?2 IS NULL OR o.division_code = ?2) AND (?3 IS NULL OR o.river_code = ?3) "              \
    "AND (?4 IS NULL OR o.division_code IN (SELECT value FROM json_each(?4))) "                    \
    "AND (q.pair_division IS NULL OR NOT ((?2 IS NULL OR q.pair_division = ?2) AND "               \
    "  (?4 IS NULL OR q.pair_division IN (SELECT value FROM json_each(?4)))))"

static void bind_filter(sqlite3_stmt *st, const queue_query *q, const char *scope) {
    sqlite3_bind_int(st, 1, q->kind);
    sqlite3_bind_text(st, 2, q->division_code, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, q->river_code, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, scope, -1, SQLITE_STATIC);
}

/* The caller's divisions as a JSON array, or NULL when they see all (malloc'd). */
static char *scope_of(const principal *p) {
    if (principal_all_divisions(p)) return NULL;
    json_t *a = json_array();
    for (int i = 0; i < p->n_divisions; i++)
        json_array_append_new(a, json_string(p->divisions[i]));
    char *text = json_dumps(a, JSON_COMPACT);
    json_decref(a);
    return text;
}

static char *text_or_null(sqlite3_stmt *st, int col) {
    const unsigned char *t = sqlite3_column_text(st, col);
    return t ? strdup((const char *)t) : NULL;
}

static Outfall__V1__ConflictInfo *conflict_info(store *s, int64_t id) {
    sqlite3_stmt *st = store_stmt(
        s, "SELECT c.kind, c.entity_id, c.field, c.base_value, c.server_value, c.client_value, "
           "u.username, c.device_id, c.created_at_ms FROM conflicts c "
           "LEFT JOIN users u ON u.id = c.user_id WHERE c.id = ?");
    if (!st) return NULL;
    sqlite3_bind_int64(st, 1, id);
    Outfall__V1__ConflictInfo *c = NULL;
    if (sqlite3_step(st) == SQLITE_ROW && (c = malloc(sizeof *c))) {
        outfall__v1__conflict_info__init(c);
        c->has_id = 1;
        c->id = id;
        c->entity_kind = text_or_null(st, 0);
        c->entity_id = text_or_null(st, 1);
        c->field = text_or_null(st, 2);
        c->base_value = text_or_null(st, 3);
        c->server_value = text_or_null(st, 4);
        c->client_value = text_or_null(st, 5);
        c->username = text_or_null(st, 6);
        c->device_id = text_or_null(st, 7);
        c->has_at_ms = 1;
        c->at_ms = sqlite3_column_int64(st, 8);
    }
    sqlite3_reset(st);
    return c;
}

/* Duplicate pair `id` as p sees it: both records' ids and divisions, whether the city decides
 * (they lie in different divisions), and the neighbour's latest version only when p may read
 * it: a county supervisor never gets the other county's unapproved record. NULL when the pair
 * is gone or memory is short. */
static Outfall__V1__DuplicateInfo *duplicate_info(store *s, const principal *p, int64_t id) {
    sqlite3_stmt *st = store_stmt(
        s, "SELECT d.outfall_id, d.neighbour_id, d.distance_m, a.division_code, b.division_code "
           "FROM duplicates d JOIN outfalls a ON a.id = d.outfall_id "
           "JOIN outfalls b ON b.id = d.neighbour_id WHERE d.id = ?");
    if (!st) return NULL;
    sqlite3_bind_int64(st, 1, id);
    Outfall__V1__DuplicateInfo *d = NULL;
    if (sqlite3_step(st) == SQLITE_ROW && (d = malloc(sizeof *d))) {
        outfall__v1__duplicate_info__init(d);
        d->has_id = d->has_distance_m = d->has_city_decides = 1;
        d->id = id;
        d->outfall_id = text_or_null(st, 0);
        d->neighbour_id = text_or_null(st, 1);
        d->distance_m = sqlite3_column_double(st, 2);
        d->outfall_division_code = text_or_null(st, 3);
        d->neighbour_division_code = text_or_null(st, 4);
        d->city_decides = d->outfall_division_code && d->neighbour_division_code &&
                          strcmp(d->outfall_division_code, d->neighbour_division_code) != 0;
    }
    sqlite3_reset(st);
    if (d && d->neighbour_id && d->neighbour_division_code &&
        principal_covers(p, d->neighbour_division_code))
        feed_read_outfall_view(s, NULL, d->neighbour_id, FEED_VIEW_LATEST, &d->neighbour, NULL);
    return d;
}

/* Fills item's details, as p sees them, from its kind and reference. Returns 0 or -1. */
static int fill_item(store *s, const principal *p, Outfall__V1__ReviewItem *it, int64_t ref_id,
                     const char *ref_text) {
    if (feed_read_outfall_view(s, NULL, it->outfall_id, FEED_VIEW_LATEST, &it->outfall, NULL))
        return -1;
    switch (it->kind) {
    case OUTFALL__V1__REVIEW_ITEM_KIND__REVIEW_ITEM_KIND_CONFLICT:
        return (it->conflict = conflict_info(s, ref_id)) ? 0 : -1;
    case OUTFALL__V1__REVIEW_ITEM_KIND__REVIEW_ITEM_KIND_DUPLICATE:
        return (it->duplicate = duplicate_info(s, p, ref_id)) ? 0 : -1;
    case OUTFALL__V1__REVIEW_ITEM_KIND__REVIEW_ITEM_KIND_FLAGGED:
        if (!ref_text[0]) return 0; /* the outfall's own plan-rule flags: no observation */
        /* fall through */
    case OUTFALL__V1__REVIEW_ITEM_KIND__REVIEW_ITEM_KIND_INSPECTION:
        return feed_read_observation(s, NULL, ref_text, &it->observation, NULL) ? -1 : 0;
    default:
        return 0;
    }
}

int queue_list(store *s, const principal *p, const queue_query *q, Outfall__V1__ReviewQueue **out,
               sync_error *err) {
    *out = NULL;
    int limit = q->limit <= 0 ? 50 : q->limit > 500 ? 500 : q->limit;
    long offset = 0;
    if (q->page_token) {
        char *end = NULL;
        errno = 0;
        offset = strtol(q->page_token, &end, 10);
        if (end == q->page_token || *end || errno || offset < 0)
            return sync_fail(err, SYNC_EINVALID, "invalid_argument",
                             "page_token must be the next_page_token of an earlier page");
    }
    char *scope = scope_of(p);
    Outfall__V1__ReviewQueue *res = malloc(sizeof *res);
    int rc = 0;
    struct row {
        int kind;
        char outfall[UUID_STR_LEN + 1];
        int64_t ref_id;
        char ref[UUID_STR_LEN + 1];
        int64_t at_ms;
    } *rows = calloc((size_t)limit + 1, sizeof *rows);
    int n = 0;
    if (!res || !rows) {
        free(res);
        res = NULL;
        rc = sync_fail(err, SYNC_EINTERNAL, "out_of_memory", "out of memory");
        goto done;
    }
    outfall__v1__review_queue__init(res);
    /* One read transaction: the counts and the page are from the same moment. */
    int began = sqlite3_get_autocommit(store_db(s)) &&
                sqlite3_exec(store_db(s), "BEGIN", NULL, NULL, NULL) == SQLITE_OK;
    sqlite3_stmt *st = store_stmt(s, "SELECT q.kind, count(*) FROM (" QUEUE_ITEMS ")" QUEUE_FILTER
                                     " GROUP BY q.kind ORDER BY q.kind");
    if (!st) {
        rc = store_fail(s, SQLITE_ERROR, err);
        goto read_done;
    }
    bind_filter(st, q, scope);
    res->counts = calloc(8, sizeof *res->counts);
    while (res->counts && res->n_counts < 8 && sqlite3_step(st) == SQLITE_ROW) {
        Outfall__V1__KindCount *kc = malloc(sizeof *kc);
        if (!kc) break;
        outfall__v1__kind_count__init(kc);
        kc->has_kind = kc->has_count = 1;
        kc->kind = sqlite3_column_int(st, 0);
        kc->count = sqlite3_column_int64(st, 1);
        res->counts[res->n_counts++] = kc;
    }
    sqlite3_reset(st);
    st = store_stmt(s, "SELECT q.kind, q.outfall_id, q.ref, q.at_ms FROM (" QUEUE_ITEMS
                       ")" QUEUE_FILTER
                       " ORDER BY q.at_ms, q.kind, q.outfall_id, q.ref LIMIT ?5 OFFSET ?6");
    if (!st) {
        rc = store_fail(s, SQLITE_ERROR, err);
        goto read_done;
    }
    bind_filter(st, q, scope);
    sqlite3_bind_int(st, 5, limit + 1);
    sqlite3_bind_int64(st, 6, offset);
    while (n <= limit && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        rows[n].kind = sqlite3_column_int(st, 0);
        util_strlcpy(rows[n].outfall, (const char *)sqlite3_column_text(st, 1),
                     sizeof rows[n].outfall);
        rows[n].ref_id = sqlite3_column_int64(st, 2);
        if (sqlite3_column_type(st, 2) == SQLITE_TEXT)
            util_strlcpy(rows[n].ref, (const char *)sqlite3_column_text(st, 2), sizeof rows[n].ref);
        rows[n].at_ms = sqlite3_column_int64(st, 3);
        n++;
    }
    sqlite3_reset(st);
    rc = 0;
    if (n > limit) {
        char token[32];
        snprintf(token, sizeof token, "%ld", offset + limit);
        res->next_page_token = strdup(token);
        n = limit;
    }
    res->items = calloc((size_t)n + 1, sizeof *res->items);
    for (int i = 0; res->items && i < n; i++) {
        Outfall__V1__ReviewItem *it = malloc(sizeof *it);
        if (!it) break;
        outfall__v1__review_item__init(it);
        it->has_kind = it->has_at_ms = 1;
        it->kind = rows[i].kind;
        it->at_ms = rows[i].at_ms;
        it->outfall_id = strdup(rows[i].outfall);
        res->items[res->n_items++] = it;
        if (fill_item(s, p, it, rows[i].ref_id, rows[i].ref)) {
            rc = sync_fail(err, SYNC_EINTERNAL, "storage_error", "queue item %s unreadable",
                           rows[i].outfall);
            break;
        }
    }
read_done:
    if (began) sqlite3_exec(store_db(s), "COMMIT", NULL, NULL, NULL);
done:
    free(rows);
    free(scope);
    if (rc && res) {
        protobuf_c_message_free_unpacked(&res->base, NULL);
        res = NULL;
    }
    *out = res;
    return rc;
}

/* Appends the field changes of record `id` to h. The record's rowid goes in as a value: the view
 * field_history (migration 0023) reads each of its tables by (kind, entity_rowid) only then. */
static int add_changes(store *s, const char *id, Outfall__V1__OutfallHistory *h, size_t *cap) {
    sqlite3_stmt *st = store_stmt(s, "SELECT rowid FROM outfalls WHERE id = ?");
    if (!st) return -1;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    int64_t rowid = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return -1;
    st = store_stmt(
        s, "SELECT h.field, h.value, h.version, u.username, h.device_id, h.at_ms, h.change_id "
           "FROM field_history h LEFT JOIN users u ON u.id = h.user_id "
           "WHERE h.kind = 'outfall' AND h.entity_rowid = ? ORDER BY h.version, h.field");
    if (!st) return -1;
    sqlite3_bind_int64(st, 1, rowid);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (h->n_changes == *cap) {
            *cap = *cap ? 2 * *cap : 32;
            void *grown = realloc(h->changes, *cap * sizeof *h->changes);
            if (!grown) break;
            h->changes = grown;
        }
        Outfall__V1__FieldChange *c = malloc(sizeof *c);
        if (!c) break;
        outfall__v1__field_change__init(c);
        c->field = text_or_null(st, 0);
        c->value = text_or_null(st, 1);
        c->has_version = c->has_at_ms = 1;
        c->version = sqlite3_column_int64(st, 2);
        c->username = text_or_null(st, 3);
        if (!c->username) c->username = strdup("system");
        c->device_id = text_or_null(st, 4);
        c->at_ms = sqlite3_column_int64(st, 5);
        c->change_id = text_or_null(st, 6);
        c->entity_id = strdup(id);
        h->changes[h->n_changes++] = c;
    }
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

struct diff_ctx {
    json_t *other;
    Outfall__V1__OutfallHistory *h;
    int approved_side; /* walking the approved document: report fields the latest lacks */
};

static int diff_leaf(const char *path, json_t *value, void *ctx) {
    struct diff_ctx *d = ctx;
    json_t *other = record_get(d->other, path);
    if (d->approved_side ? other != NULL : record_equal(value, other)) return 0;
    Outfall__V1__FieldDiff *fd = malloc(sizeof *fd);
    void *grown = realloc(d->h->since_approved, (d->h->n_since_approved + 1) * sizeof fd);
    if (!fd || !grown) {
        free(fd);
        if (grown) d->h->since_approved = grown;
        return -1;
    }
    d->h->since_approved = grown;
    outfall__v1__field_diff__init(fd);
    fd->field = strdup(path);
    fd->approved_value = record_text(d->approved_side ? value : other);
    fd->latest_value = record_text(d->approved_side ? NULL : value);
    d->h->since_approved[d->h->n_since_approved++] = fd;
    return 0;
}

/* Fields that are bookkeeping, not facts: never part of "what changed since approval". */
static void drop_bookkeeping(json_t *doc) {
    static const char *const keys[] = {
        "id", "version", "approved_version", "review_state", "code", "latest_version", NULL};
    for (const char *const *k = keys; *k; k++)
        json_object_del(doc, *k);
}

/* The audit entries naming outfall_id or an outfall merged into it (directly or through others),
 * oldest first, at most 500, into h->audit. Returns 0, or -1 on a storage error. */
static int add_audit(store *s, const char *outfall_id, Outfall__V1__OutfallHistory *h) {
    sqlite3_stmt *st = store_stmt(
        s, "SELECT id, at_ms, username, action, outcome, detail FROM audit WHERE target IN "
           "(WITH RECURSIVE m(id) AS (SELECT ?1 UNION "
           "SELECT o.id FROM outfalls o JOIN m ON o.merged_into = m.id) SELECT id FROM m) "
           "ORDER BY id LIMIT 500");
    if (!st) return -1;
    sqlite3_bind_text(st, 1, outfall_id, -1, SQLITE_STATIC);
    int rc = 0;
    while (rc == 0 && sqlite3_step(st) == SQLITE_ROW) {
        Outfall__V1__AuditEntry *e = malloc(sizeof *e);
        void *grown = realloc(h->audit, (h->n_audit + 1) * sizeof *h->audit);
        if (grown) h->audit = grown;
        if (!e || !grown) {
            free(e);
            rc = -1;
            break;
        }
        outfall__v1__audit_entry__init(e);
        e->has_id = e->has_at_ms = 1;
        e->id = sqlite3_column_int64(st, 0);
        e->at_ms = sqlite3_column_int64(st, 1);
        char **field[] = {&e->username, &e->action, &e->outcome, &e->detail};
        for (int k = 0; k < 4; k++) {
            const char *text = (const char *)sqlite3_column_text(st, 2 + k);
            if (text) *field[k] = strdup(text);
        }
        h->audit[h->n_audit++] = e;
    }
    sqlite3_reset(st);
    return rc;
}

int queue_history(store *s, const principal *p, const char *outfall_id,
                  Outfall__V1__OutfallHistory **out, sync_error *err) {
    *out = NULL;
    Outfall__V1__Outfall *o = NULL;
    int rc = feed_read_outfall_view(s, p, outfall_id, FEED_VIEW_LATEST, &o, err);
    if (rc) return rc;
    Outfall__V1__OutfallHistory *h = malloc(sizeof *h);
    if (!h) {
        protobuf_c_message_free_unpacked(&o->base, NULL);
        return sync_fail(err, SYNC_EINTERNAL, "out_of_memory", "out of memory");
    }
    outfall__v1__outfall_history__init(h);
    h->outfall_id = strdup(outfall_id);
    h->has_approved_version = 1;
    h->approved_version = o->approved_version;

    /* This outfall and every outfall merged into it, directly or through others. */
    sqlite3_stmt *st = store_stmt(s, "WITH RECURSIVE m(id) AS (SELECT ?1 UNION "
                                     "SELECT o.id FROM outfalls o JOIN m ON o.merged_into = m.id) "
                                     "SELECT id FROM m");
    size_t cap_ids = 0, cap_changes = 0;
    char **ids = NULL;
    size_t n_ids = 0;
    if (!st)
        rc = store_fail(s, SQLITE_ERROR, err);
    else {
        sqlite3_bind_text(st, 1, outfall_id, -1, SQLITE_STATIC);
        while (sqlite3_step(st) == SQLITE_ROW) {
            if (n_ids == cap_ids) {
                void *grown = realloc(ids, (cap_ids = cap_ids ? 2 * cap_ids : 4) * sizeof *ids);
                if (!grown) break;
                ids = grown;
            }
            ids[n_ids++] = strdup((const char *)sqlite3_column_text(st, 0));
        }
        sqlite3_reset(st);
    }
    for (size_t i = 0; !rc && i < n_ids; i++) {
        if (add_changes(s, ids[i], h, &cap_changes)) rc = store_fail(s, SQLITE_ERROR, err);
        if (i > 0) { /* the merged ones */
            void *grown = realloc(h->merged_ids, (h->n_merged_ids + 1) * sizeof *h->merged_ids);
            if (grown) {
                h->merged_ids = grown;
                h->merged_ids[h->n_merged_ids++] = strdup(ids[i]);
            }
        }
    }
    /* The observations' timeline. */
    st = rc ? NULL
            : store_stmt(s, "SELECT id FROM observations WHERE outfall_id = ? ORDER BY "
                            "json_extract(doc, '$.observed_at_ms'), created_at_ms");
    if (st) {
        sqlite3_bind_text(st, 1, outfall_id, -1, SQLITE_STATIC);
        char(*obs)[UUID_STR_LEN + 1] = NULL;
        size_t n = 0, cap = 0;
        while (sqlite3_step(st) == SQLITE_ROW) {
            if (n == cap) {
                void *grown = realloc(obs, (cap = cap ? 2 * cap : 8) * sizeof *obs);
                if (!grown) break;
                obs = grown;
            }
            util_strlcpy(obs[n++], (const char *)sqlite3_column_text(st, 0), sizeof obs[0]);
        }
        sqlite3_reset(st);
        h->observations = calloc(n + 1, sizeof *h->observations);
        for (size_t i = 0; h->observations && i < n; i++)
            if (!feed_read_observation(s, NULL, obs[i], &h->observations[h->n_observations], NULL))
                h->n_observations++;
        free(obs);
    }
    /* What changed since the approved version, field by field. */
    if (!rc && o->approved_version) {
        json_t *approved = history_doc_at(s, "outfall", outfall_id, o->approved_version);
        json_t *latest = pbjson_to_json(&o->base, PBJSON_PROTO_NAMES);
        if (approved && latest) {
            drop_bookkeeping(approved);
            drop_bookkeeping(latest);
            struct diff_ctx a = {approved, h, 0}, b = {latest, h, 1};
            record_each_leaf(latest, diff_leaf, &a);
            record_each_leaf(approved, diff_leaf, &b);
        }
        json_decref(approved);
        json_decref(latest);
    }
    if (!rc && p->role != OUTFALL__V1__ROLE__ROLE_SURVEYOR &&
        p->role != OUTFALL__V1__ROLE__ROLE_INTEGRATOR && add_audit(s, outfall_id, h))
        rc = store_fail(s, SQLITE_ERROR, err);
    for (size_t i = 0; i < n_ids; i++)
        free(ids[i]);
    free(ids);
    protobuf_c_message_free_unpacked(&o->base, NULL);
    if (rc) {
        protobuf_c_message_free_unpacked(&h->base, NULL);
        return rc;
    }
    *out = h;
    return 0;
}
