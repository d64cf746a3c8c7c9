#include "sync/batch.h"

#include <ctype.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cores.h"
#include "common/util.h"
#include "sync/accounts.h"
#include "sync/apply.h"
#include "sync/change_log.h"
#include "sync/durable.h"
#include "sync/feed.h"
#include "sync/prep.h"
#include "sync/read_ahead.h"
#include "sync/replay.h"
#include "sync/writer.h"

#define MAX_CHANGES 5000

/* SyncResponse.feed's field number: the answer's fields before it (batch_id, results,
 * missing_photos) are what a batch's stored answer holds, those after it the page's cursor and
 * the durable horizon. */
enum { SYNC_RESPONSE_FEED = 4 };

/* A batch's identity leaves out what only shapes the pull (since, pull_limit): a phone that
 * retries after pulling elsewhere still replays the same batch. */
static void batch_hash(const Outfall__V1__SyncRequest *req, uint8_t hash[32]) {
    Outfall__V1__SyncRequest copy = *req;
    copy.has_since = copy.has_pull_limit = 0;
    replay_hash(&copy.base, hash);
}

static Outfall__V1__ChangeResult *new_result(const Outfall__V1__Change *ch) {
    Outfall__V1__ChangeResult *r = malloc(sizeof *r);
    if (!r) return NULL;
    outfall__v1__change_result__init(r);
    r->change_id = strdup(ch->change_id ? ch->change_id : "");
    r->entity_id = strdup(ch->entity_id ? ch->entity_id : "");
    /* Ids are compared as text: keep them in one case. */
    for (char *c = r->entity_id; c && *c; c++)
        *c = (char)tolower((unsigned char)*c);
    return r;
}

static Outfall__V1__SyncResponse *new_response(const char *batch_id, size_t n) {
    Outfall__V1__SyncResponse *resp = malloc(sizeof *resp);
    if (!resp) return NULL;
    outfall__v1__sync_response__init(resp);
    resp->batch_id = strdup(batch_id);
    resp->results = calloc(n + 1, sizeof *resp->results);
    if (!resp->batch_id || !resp->results) {
        protobuf_c_message_free_unpacked(&resp->base, NULL);
        return NULL;
    }
    return resp;
}

/* Every change answered HELD: the batch waits for an earlier device_seq. */
static Outfall__V1__SyncResponse *held_response(const Outfall__V1__SyncRequest *req) {
    Outfall__V1__SyncResponse *resp = new_response(req->batch_id, req->n_changes);
    for (size_t i = 0; resp && i < req->n_changes; i++) {
        Outfall__V1__ChangeResult *r = new_result(req->changes[i]);
        if (!r) {
            protobuf_c_message_free_unpacked(&resp->base, NULL);
            return NULL;
        }
        r->has_status = 1;
        r->status = OUTFALL__V1__CHANGE_STATUS__CHANGE_STATUS_HELD;
        resp->results[resp->n_results++] = r;
    }
    return resp;
}

/* Whether batch_id was received before (applied, held or refused): such a batch applies nothing
 * when it comes again, so its changes are not prepared. Read on the request's own handle; a
 * batch sent twice at once may be prepared for nothing, which costs only time. */
static int batch_known(store *s, const char *batch_id) {
    sqlite3_stmt *st = store_stmt(s, "SELECT 1 FROM batches WHERE batch_id = ?");
    if (!st) return 0;
    sqlite3_bind_text(st, 1, batch_id, -1, SQLITE_STATIC);
    int known = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_reset(st);
    return known;
}

/* Runs one change; a rejected change leaves nothing behind. An edit runs under a savepoint: its
 * merge writes the conflicts it finds before the rules may still refuse it. A create is refused
 * only before its first write (its checks only read), so it runs without one: a savepoint makes
 * SQLite copy every page the change touches again into its sub-journal first, 18 % of the
 * writer's instructions in a batch of creates (callgrind). A create refused after it wrote would
 * be a bug: it fails the batch (internal) rather than leave its rows. */
static int apply_one(apply_ctx *c, const Outfall__V1__Change *ch, change_prep *prep,
                     const uint8_t hash[32], const char *batch_id, Outfall__V1__ChangeResult *r,
                     sync_error *err) {
    int edit = ch->base_version != 0, rc = 0;
    sqlite3_int64 written = sqlite3_total_changes64(store_db(c->s));
    if (edit && (rc = store_exec(c->s, "SAVEPOINT change")) != SQLITE_OK)
        return store_fail(c->s, rc, err);
    if ((rc = apply_change_prepared(c, ch, prep ? &prep->apply : NULL, r, err))) return rc;
    int rejected = r->status == OUTFALL__V1__CHANGE_STATUS__CHANGE_STATUS_REJECTED;
    if (edit && rejected) store_rollback_to(c->s, "change");
    if (edit) store_exec(c->s, "RELEASE change");
    if (!edit && rejected && sqlite3_total_changes64(store_db(c->s)) != written)
        return sync_fail(err, SYNC_EINTERNAL, "internal",
                         "the create of %s was refused (%s) after it wrote", ch->entity_id,
                         r->reason ? r->reason : "?");
    /* A write refused for lack of rights is audited, with the batch. */
    if (r->reason &&
        (strcmp(r->reason, "outside_division") == 0 || strcmp(r->reason, "read_only_role") == 0))
        audit_record(c->s, c->p, "sync.change", r->entity_id, r->reason, r->message);

    return change_log_keep(c->s, ch, hash, batch_id, r, err);
}

/* The answer to one change: replayed, refused for reuse, or applied now. prep (may be NULL) is
 * what the worker worked out for it. */
static int answer_change(apply_ctx *c, const Outfall__V1__Change *ch, change_prep *prep,
                         const char *batch_id, Outfall__V1__ChangeResult **out, sync_error *err) {
    Outfall__V1__ChangeResult *r = new_result(ch);
    if (!r) return sync_fail(err, SYNC_EINTERNAL, "out_of_memory", "out of memory");
    *out = r;
    if (!util_uuid_valid(ch->change_id)) {
        r->has_status = 1;
        r->status = OUTFALL__V1__CHANGE_STATUS__CHANGE_STATUS_REJECTED;
        r->reason = strdup("invalid_change");
        r->message = strdup("change_id must be a UUID");
        return 0;
    }
    uint8_t own[32];
    const uint8_t *hash = prep ? prep->hash : own;
    if (!prep) replay_hash(&ch->base, own);
    Outfall__V1__ChangeResult *first = NULL;
    /* Read ahead by the worker when it could be (sync/read_ahead.h). */
    int rc =
        prep && prep->apply.ahead.change_new ? 0 : change_log_find(c->s, ch, hash, &first, err);
    if (prep) prep->apply.ahead.change_new = 0; /* a retried group reads for itself */
    if (rc == 0) return apply_one(c, ch, prep, hash, batch_id, r, err);
    if (rc == SYNC_ECONFLICT) {
        /* A change refused for reuse is an answer for that change, not a failed batch. */
        r->has_status = 1;
        r->status = OUTFALL__V1__CHANGE_STATUS__CHANGE_STATUS_REJECTED;
        r->reason = strdup("change_id_reused");
        r->message = strdup("this change_id was used before for different content");
        return 0;
    }
    if (rc < 0) return rc;
    protobuf_c_message_free_unpacked(&r->base, NULL);
    first->has_status = 1;
    first->status = OUTFALL__V1__CHANGE_STATUS__CHANGE_STATUS_ALREADY_APPLIED;
    *out = first;
    return 0;
}

/* The last applied device_seq of device_id, or -1 when it is not enrolled (or on a storage
 * error); *revoked (may be NULL) is set when an admin revoked it. */
static int64_t device_last_seq(store *s, const char *device_id, int *revoked) {
    sqlite3_stmt *st = store_stmt(s, "SELECT last_seq, revoked FROM devices WHERE device_id = ?");
    if (revoked) *revoked = 0;
    if (!st) return -1;
    sqlite3_bind_text(st, 1, device_id, -1, SQLITE_STATIC);
    int64_t seq = -1;
    if (sqlite3_step(st) == SQLITE_ROW) {
        seq = sqlite3_column_int64(st, 0);
        if (revoked) *revoked = sqlite3_column_int(st, 1) != 0;
    }
    sqlite3_reset(st);
    return seq;
}

/* When device_id was enrolled (Unix ms), or 0 when unknown. */
static int64_t device_enrolled_ms(store *s, const char *device_id) {
    sqlite3_stmt *st = store_stmt(s, "SELECT enrolled_at_ms FROM devices WHERE device_id = ?");
    if (!st) return 0;
    sqlite3_bind_text(st, 1, device_id, -1, SQLITE_STATIC);
    int64_t at = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    return at;
}

static int revoked_fail(sync_error *err, const char *device_id) {
    return sync_fail(err, SYNC_EUNAUTH, "device_revoked", "device %s was revoked", device_id);
}

/* Applies req's changes in order inside the caller's transaction, records the batch as applied
 * and moves the device's sequence on. *out gets the results (without the feed). prep (may be
 * NULL) holds what the worker worked out for each change (prep_changes). */
static int apply_batch(store *s, const sync_config *cfg, const principal *p,
                       const Outfall__V1__SyncRequest *req, change_prep *prep,
                       prep_progress *progress, const uint8_t hash[32], int64_t received_ms,
                       Outfall__V1__SyncResponse **out, sync_error *err) {
    *out = NULL;
    apply_ctx c = {s, cfg, p, req->device_id, util_now_ms(), NULL, 0, 0};
    c.received_ms = received_ms;
    c.enrolled_ms = device_enrolled_ms(s, req->device_id);
    Outfall__V1__SyncResponse *resp = new_response(req->batch_id, req->n_changes);
    int rc = 0;
    if (!resp) {
        rc = sync_fail(err, SYNC_EINTERNAL, "out_of_memory", "out of memory");
        goto done;
    }
    for (size_t i = 0; i < req->n_changes; i++) {
        if (prep) prep_wait(progress, i);
        rc = answer_change(&c, req->changes[i], prep ? &prep[i] : NULL, req->batch_id,
                           &resp->results[i], err);
        if (resp->results[i]) resp->n_results = i + 1;
        if (rc) goto done;
    }
    resp->missing_photos = c.missing;
    resp->n_missing_photos = c.n_missing;
    c.missing = NULL;
    c.n_missing = 0;

    sqlite3_stmt *st = store_stmt(
        s, "INSERT INTO batches (batch_id, device_id, device_seq, user_id, content_hash, state, "
           "received_at_ms, applied_at_ms, response) VALUES (?1, ?2, ?3, ?4, ?5, 'applied', ?6, "
           "?7, ?8) ON CONFLICT (batch_id) DO UPDATE SET state = 'applied', request = NULL, "
           "applied_at_ms = ?7, response = ?8");
    if (!st) {
        rc = store_fail(s, SQLITE_ERROR, err);
        goto done;
    }
    sqlite3_bind_text(st, 1, req->batch_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, req->device_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, req->device_seq);
    sqlite3_bind_int64(st, 4, p->user_id);
    prep_wait_hashed(progress);
    sqlite3_bind_blob(st, 5, hash, 32, SQLITE_STATIC);
    sqlite3_bind_int64(st, 6, received_ms);
    sqlite3_bind_int64(st, 7, c.now_ms);
    if (store_bind_packed(st, 8, &resp->base) != SQLITE_OK) {
        rc = sync_fail(err, SYNC_EINTERNAL, "out_of_memory", "out of memory");
        goto done;
    }
    if ((rc = sqlite3_step(st)) != SQLITE_DONE) {
        rc = store_fail(s, rc, err);
        goto done;
    }
    st = store_stmt(s, "UPDATE devices SET last_seq = ? WHERE device_id = ?");
    if (!st) {
        rc = store_fail(s, SQLITE_ERROR, err);
        goto done;
    }
    sqlite3_bind_int64(st, 1, req->device_seq);
    sqlite3_bind_text(st, 2, req->device_id, -1, SQLITE_STATIC);
    rc = sqlite3_step(st) == SQLITE_DONE ? 0 : store_fail(s, SQLITE_ERROR, err);
done:
    apply_ctx_free(&c);
    if (rc && resp) {
        protobuf_c_message_free_unpacked(&resp->base, NULL);
        resp = NULL;
    }
    *out = resp;
    return rc;
}

/* Inside the caller's write transaction: refuses every held batch of revoked device_id. Each
 * keeps its row, as 'refused' and without its request, so that the phone asking again learns
 * why (batch_refused); nothing of it is applied; each gets an audit row naming the batch and the
 * device. Returns how many were refused, or a negative code. */
static int refuse_held(store *s, const char *device_id, sync_error *err) {
    enum { AT_ONCE = 64 };
    struct {
        char batch_id[UUID_STR_LEN + 1];
        int64_t seq, user_id;
    } held[AT_ONCE];
    int n = 0, refused = 0, rc = 0;
    do {
        sqlite3_stmt *st = store_stmt(s, "SELECT batch_id, device_seq, user_id FROM batches "
                                         "WHERE device_id = ? AND state = 'held' "
                                         "ORDER BY device_seq LIMIT 64");
        if (!st) return store_fail(s, SQLITE_ERROR, err);
        sqlite3_bind_text(st, 1, device_id, -1, SQLITE_STATIC);
        for (n = 0; n < AT_ONCE && (rc = sqlite3_step(st)) == SQLITE_ROW; n++) {
            util_strlcpy(held[n].batch_id, (const char *)sqlite3_column_text(st, 0),
                         sizeof held[n].batch_id);
            held[n].seq = sqlite3_column_int64(st, 1);
            held[n].user_id = sqlite3_column_int64(st, 2);
        }
        sqlite3_reset(st);
        if (rc != SQLITE_ROW && rc != SQLITE_DONE) return store_fail(s, rc, err);
        for (int i = 0; i < n; i++) {
            st = store_stmt(s, "UPDATE batches SET state = 'refused', request = NULL "
                               "WHERE batch_id = ?");
            if (!st) return store_fail(s, SQLITE_ERROR, err);
            sqlite3_bind_text(st, 1, held[i].batch_id, -1, SQLITE_STATIC);
            if ((rc = sqlite3_step(st)) != SQLITE_DONE) return store_fail(s, rc, err);
            principal owner;
            sync_error ignored;
            int known = accounts_principal(s, held[i].user_id, &owner, &ignored) == 0;
            char detail[160];
            snprintf(detail, sizeof detail,
                     "device %s was revoked while batch device_seq %lld was held: refused, "
                     "nothing of it applied",
                     device_id, (long long)held[i].seq);
            audit_record(s, known ? &owner : NULL, "batch.refused", held[i].batch_id,
                         "device_revoked", detail);
            refused++;
        }
    } while (n == AT_ONCE);
    return refused;
}

/* Applies, each in its own transaction, the held batches of device_id that follow its last
 * applied sequence without a gap. With skip_gap_before > 0, the batch at that sequence applies
 * even if earlier ones never arrived (its wait ran out). A revoked device's held batches are
 * refused instead (refuse_held), however they come to be released. Returns how many applied,
 * or < 0. */
static int release_held(store *s, const sync_config *cfg, const char *device_id,
                        int64_t skip_gap_before) {
    int applied = 0;
    for (;;) {
        sync_error err = {0};
        if (store_begin(s, &err)) return err.rc;
        int revoked = 0;
        int64_t last = device_last_seq(s, device_id, &revoked);
        if (revoked) {
            int refused = refuse_held(s, device_id, &err);
            int rc = refused < 0 ? refused : store_commit(s, &err);
            if (rc < 0) {
                store_rollback(s);
                fprintf(stderr,
                        "batch: refusing the held batches of revoked device %s failed: %s\n",
                        device_id, err.message);
                return rc;
            }
            if (refused > 0)
                fprintf(stderr, "batch: refused %d held batch(es) of revoked device %s\n", refused,
                        device_id);
            return applied;
        }
        int64_t want = last + 1;
        if (skip_gap_before > want) want = skip_gap_before;
        skip_gap_before = 0;
        sqlite3_stmt *st = store_stmt(s, "SELECT user_id, content_hash, received_at_ms, request "
                                         "FROM batches WHERE device_id = ? AND device_seq = ? "
                                         "AND state = 'held'");
        if (!st) {
            store_rollback(s);
            return SYNC_EINTERNAL;
        }
        sqlite3_bind_text(st, 1, device_id, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, want);
        if (sqlite3_step(st) != SQLITE_ROW) {
            sqlite3_reset(st);
            store_rollback(s);
            return applied;
        }
        int64_t user_id = sqlite3_column_int64(st, 0);
        uint8_t hash[32];
        memcpy(hash, sqlite3_column_blob(st, 1), 32);
        int64_t received = sqlite3_column_int64(st, 2);
        Outfall__V1__SyncRequest *req = outfall__v1__sync_request__unpack(
            NULL, (size_t)sqlite3_column_bytes(st, 3), sqlite3_column_blob(st, 3));
        sqlite3_reset(st);
        principal p;
        Outfall__V1__SyncResponse *resp = NULL;
        int rc = !req ? SYNC_EINTERNAL : accounts_principal(s, user_id, &p, &err);
        if (!rc) {
            if (want > last + 1) {
                char detail[96];
                snprintf(detail, sizeof detail, "sequences %lld-%lld never arrived",
                         (long long)last + 1, (long long)want - 1);
                audit_record(s, &p, "batch.gap_skipped", device_id, "ok", detail);
            }
            rc = apply_batch(s, cfg, &p, req, NULL, NULL, hash, received, &resp, &err);
        }
        if (req) protobuf_c_message_free_unpacked(&req->base, NULL);
        if (resp) protobuf_c_message_free_unpacked(&resp->base, NULL);
        if (rc || (rc = store_commit(s, &err))) {
            store_rollback(s);
            fprintf(stderr, "batch: held batch %s#%lld failed: %s\n", device_id, (long long)want,
                    err.message);
            return rc;
        }
        applied++;
    }
}

/* The first answer to an applied batch, kept as it was given. */
static int stored_response(store *s, const char *batch_id, Outfall__V1__SyncResponse **out,
                           sync_error *err) {
    sqlite3_stmt *st = store_stmt(s, "SELECT response FROM batches WHERE batch_id = ?");
    if (!st) return store_fail(s, SQLITE_ERROR, err);
    sqlite3_bind_text(st, 1, batch_id, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW)
        *out = outfall__v1__sync_response__unpack(NULL, (size_t)sqlite3_column_bytes(st, 0),
                                                  sqlite3_column_blob(st, 0));
    sqlite3_reset(st);
    return *out ? 0 : sync_fail(err, SYNC_EINTERNAL, "storage_error", "batch answer unreadable");
}

/* The first answer to an applied batch as it was stored: *out its packed bytes (malloc'd,
 * *out_len), or NULL when they hold a field numbered `before` or more (an answer stored whole by
 * an older version), which the caller then unpacks (stored_response). */
static int stored_response_bytes(store *s, const char *batch_id, uint32_t before, uint8_t **out,
                                 size_t *out_len, sync_error *err) {
    *out = NULL;
    *out_len = 0;
    sqlite3_stmt *st = store_stmt(s, "SELECT response FROM batches WHERE batch_id = ?");
    if (!st) return store_fail(s, SQLITE_ERROR, err);
    sqlite3_bind_text(st, 1, batch_id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st), readable = 0;
    if (rc == SQLITE_ROW) {
        const uint8_t *b = sqlite3_column_blob(st, 0);
        size_t n = (size_t)sqlite3_column_bytes(st, 0);
        int below = n == 0 ? 1 : b ? feed_fields_below(b, n, before) : -1;
        readable = below >= 0;
        if (below == 1 && (*out = malloc(n ? n : 1))) {
            if (n) memcpy(*out, b, n);
            *out_len = n;
        }
    }
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return store_fail(s, rc, err);
    return readable ? 0
                    : sync_fail(err, SYNC_EINTERNAL, "storage_error", "batch answer unreadable");
}

/* The answer to a batch that was refused when released (refuse_held). */
static int batch_refused_fail(sync_error *err, const char *batch_id, const char *device_id) {
    return sync_fail(err, SYNC_EFORBIDDEN, "batch_refused_device_revoked",
                     "batch %s was not applied: device %s was revoked while the batch was held; "
                     "nothing of it was written",
                     batch_id, device_id);
}

int batch_refused(store *s, const char *batch_id, const char *device_id, sync_error *err) {
    sqlite3_stmt *st = store_stmt(s, "SELECT 1 FROM batches WHERE batch_id = ? AND device_id = ? "
                                     "AND state = 'refused'");
    if (!st) return store_fail(s, SQLITE_ERROR, err);
    sqlite3_bind_text(st, 1, batch_id ? batch_id : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, device_id ? device_id : "", -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc == SQLITE_ROW) return batch_refused_fail(err, batch_id, device_id);
    return rc == SQLITE_DONE ? 0 : store_fail(s, rc, err);
}

/* Stores req as held behind a gap in its device's sequence. */
static int hold_batch(store *s, const principal *p, const Outfall__V1__SyncRequest *req,
                      const uint8_t hash[32], sync_error *err) {
    sqlite3_stmt *st = store_stmt(s, "INSERT INTO batches (batch_id, device_id, device_seq, "
                                     "user_id, content_hash, state, received_at_ms, request) "
                                     "VALUES (?, ?, ?, ?, ?, 'held', ?, ?)");
    if (!st) return store_fail(s, SQLITE_ERROR, err);
    sqlite3_bind_text(st, 1, req->batch_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, req->device_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, req->device_seq);
    sqlite3_bind_int64(st, 4, p->user_id);
    sqlite3_bind_blob(st, 5, hash, 32, SQLITE_STATIC);
    sqlite3_bind_int64(st, 6, util_now_ms());
    if (store_bind_packed(st, 7, &req->base) != SQLITE_OK)
        return sync_fail(err, SYNC_EINTERNAL, "out_of_memory", "out of memory");
    int rc = sqlite3_step(st);
    if (rc == SQLITE_CONSTRAINT)
        return sync_fail(err, SYNC_ECONFLICT, "device_seq_reused",
                         "device_seq %lld is already taken by another held batch",
                         (long long)req->device_seq);
    return rc == SQLITE_DONE ? 0 : store_fail(s, rc, err);
}

static int check_request(const Outfall__V1__SyncRequest *req, sync_error *err) {
    if (!util_uuid_valid(req->batch_id))
        return sync_fail(err, SYNC_EINVALID, "invalid_batch", "batch_id must be a UUID");
    if (!req->device_id || !*req->device_id)
        return sync_fail(err, SYNC_EINVALID, "invalid_batch", "device_id is required");
    if (!req->has_device_seq || req->device_seq < 1)
        return sync_fail(err, SYNC_EINVALID, "invalid_batch", "device_seq must be 1 or more");
    if (req->n_changes > MAX_CHANGES)
        return sync_fail(err, SYNC_ETOOBIG, "too_many_changes", "at most %d changes a batch",
                         MAX_CHANGES);
    if (req->has_since && req->since < 0)
        return sync_fail(err, SYNC_EINVALID, "invalid_batch", "since must be 0 or more");
    return 0;
}

/* Moves the feed page into resp. */
static int attach_feed(store *s, const sync_config *cfg, const principal *p,
                       const Outfall__V1__SyncRequest *req, Outfall__V1__SyncResponse *resp,
                       sync_error *err) {
    Outfall__V1__ChangesResponse *page = NULL;
    int rc =
        feed_pull(s, cfg, p, req->since, req->has_pull_limit ? req->pull_limit : 0, &page, err);
    if (rc) return rc;
    for (size_t i = 0; i < resp->n_feed; i++)
        protobuf_c_message_free_unpacked(&resp->feed[i]->base, NULL);
    free(resp->feed);
    resp->feed = page->feed;
    resp->n_feed = page->n_feed;
    page->feed = NULL;
    page->n_feed = 0;
    resp->has_next_cursor = 1;
    resp->next_cursor = page->next_cursor;
    resp->has_more = 1;
    resp->more = page->more;
    protobuf_c_message_free_unpacked(&page->base, NULL);
    return 0;
}

/* One batch on its way through group commit (sync/writer.h): what batch_decide reads and what
 * it answers. */
typedef struct batch_job {
    const sync_config *cfg;
    const principal *p;
    const Outfall__V1__SyncRequest *req;
    const uint8_t *hash;     /* its content hash, written once progress says so (job_hash) */
    change_prep *prep;       /* what the worker worked out for each change, or NULL */
    prep_progress *progress; /* how far it has got, or NULL: all of it */
    Outfall__V1__SyncResponse *resp; /* the answer without its feed page, once decided */
    int release;                     /* applied, and a held batch waits right behind it */
    int stored;      /* applied before: its stored answer is read after the write (sync_results) */
    int64_t ack_seq; /* its number in the acknowledgement sequence; 0 for a replay */
} batch_job;

/* j's batch's content hash, waited for when the writer started on the batch before its worker
 * hashed it (sync_results). */
static const uint8_t *job_hash(const batch_job *j) {
    prep_wait_hashed(j->progress);
    return j->hash;
}

/* Decides one batch inside the caller's write transaction: a replay gets its first answer and
 * writes nothing, a batch ahead of a gap in its device's sequence is held, the next one applies.
 * Returns 0 with j->resp (NULL only when out of memory), or a negative code with *err; the
 * caller rolls back what it wrote. A writer_write_fn (sync/writer.h), arg a batch_job. */
static int batch_decide(store *s, void *arg, sync_error *err) {
    batch_job *j = arg;
    const Outfall__V1__SyncRequest *req = j->req;
    Outfall__V1__SyncResponse *resp = NULL;
    int rc;
    int revoked = 0;
    /* Called again after the group's transaction was rolled back: start over. */
    if (j->resp) protobuf_c_message_free_unpacked(&j->resp->base, NULL);
    j->resp = NULL;
    j->release = 0;
    j->stored = 0;
    int64_t last = device_last_seq(s, req->device_id, &revoked);
    sqlite3_stmt *st =
        store_stmt(s, "SELECT content_hash, state, device_id FROM batches WHERE batch_id = ?");
    if (!st) return store_fail(s, SQLITE_ERROR, err);
    sqlite3_bind_text(st, 1, req->batch_id, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW) {
        int same = sqlite3_column_bytes(st, 0) == 32 &&
                   memcmp(sqlite3_column_blob(st, 0), job_hash(j), 32) == 0;
        const char *state = (const char *)sqlite3_column_text(st, 1);
        int held = strcmp(state, "held") == 0, refused = strcmp(state, "refused") == 0;
        sqlite3_reset(st);
        if (!same)
            return sync_fail(err, SYNC_ECONFLICT, "batch_id_reused",
                             "batch %s was sent before with different content", req->batch_id);
        if (refused) return batch_refused_fail(err, req->batch_id, req->device_id);
        /* Held, and never to apply: the device was revoked meanwhile. */
        if (held && revoked) return revoked_fail(err, req->device_id);
        /* A replay: answer as the first time, write nothing. An applied batch's answer is read
         * by the request's own thread once the writer is done with it (it never changes once
         * applied): unpacked here, 500 results held up every batch behind it. */
        if (!held) {
            j->stored = 1;
            return 0;
        }
        j->resp = held_response(req);
        return j->resp ? 0 : SYNC_EINTERNAL;
    }
    sqlite3_reset(st);
    if (last < 0)
        return sync_fail(err, SYNC_EUNAUTH, "unknown_device", "device %s is not enrolled",
                         req->device_id);
    /* Checked again here, inside the write: a batch that passed the HTTP checks just before an
     * admin revoked its device applies nothing, nor releases what is held behind it. */
    if (revoked) return revoked_fail(err, req->device_id);
    if (req->device_seq <= last)
        return sync_fail(err, SYNC_ECONFLICT, "device_seq_reused",
                         "device_seq %lld was already applied (the device is at %lld)",
                         (long long)req->device_seq, (long long)last);
    /* Applied or held, the batch is acknowledged: it gets the next number (sync/durable.h). */
    if ((rc = durable_next_ack(s, &j->ack_seq, err))) return rc;
    if (req->device_seq > last + 1) {
        if ((rc = hold_batch(s, j->p, req, job_hash(j), err))) return rc;
        j->resp = held_response(req);
        return 0;
    }
    if ((rc = apply_batch(s, j->cfg, j->p, req, j->prep, j->progress, j->hash, util_now_ms(), &resp,
                          err)))
        return rc;
    j->resp = resp;
    /* This batch may fill the gap in front of a held one: release_held looks after the commit. */
    st = store_stmt(s, "SELECT 1 FROM batches WHERE device_id = ? AND device_seq = ? "
                       "AND state = 'held'");
    if (st) {
        sqlite3_bind_text(st, 1, req->device_id, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, req->device_seq + 1);
        j->release = sqlite3_step(st) == SQLITE_ROW;
        sqlite3_reset(st);
    } else {
        j->release = 1; /* cannot tell: let release_held look */
    }
    return 0;
}

/* The batches being prepared or written. Reading ahead costs the worker about twice what it
 * saves the writer (a worker's connection starts each transaction with its page cache dropped,
 * as the writer has committed since), so it pays only while the worker would otherwise stand
 * idle: when its batch is the only one in hand. With several phones syncing, the workers' CPU is
 * as busy as the writer's (8 clients: 3 % fewer docs/s reading ahead). */
static atomic_int batches_in_hand;

/* The batch applied (or answered again), its answer in *out without the feed page but with the
 * durable horizon (sync/durable.h): store_epoch, acknowledged_seq, durable_seq. With stored not
 * NULL, a batch applied before may instead get its first answer's packed bytes, without feed
 * and horizon, in *stored (malloc'd, *stored_len), and *out then holds only the horizon. */
static int sync_results(store *s, const sync_config *cfg, const principal *p,
                        const Outfall__V1__SyncRequest *req, Outfall__V1__SyncResponse **out,
                        uint8_t **stored, size_t *stored_len, sync_error *err) {
    *out = NULL;
    uint8_t hash[32];
    int rc = check_request(req, err);
    if (rc) return rc;
    const char *file = sqlite3_db_filename(store_db(s), "main");
    /* The work that needs no database is done here, on the request's thread, not the writer's.
     * When the writer is idle it starts on the batch at once and the two overlap (the writer
     * waits for each change it reaches before it is prepared); when it is busy, the batch
     * queues once prepared, so the writer never waits for a worker while others queue. */
    change_prep *prep = batch_known(s, req->batch_id) ? NULL : prep_alloc(req);
    prep_progress progress = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0};
    batch_job job = {
        .cfg = cfg, .p = p, .req = req, .hash = hash, .prep = prep, .progress = &progress};
    writer_job w = {.s = s,
                    .file = file ? file : "",
                    .n_changes = req->n_changes,
                    .write = batch_decide,
                    .arg = &job};
    int others = atomic_fetch_add(&batches_in_hand, 1);
    int early = prep && writer_submit_if_idle(&w);
    if (!early) job.progress = NULL; /* the writer has not seen the job yet */
    if (prep) read_ahead_prepare(s, req, prep, job.progress, &w, early && !others);
    /* The batch's hash (about 1.5 ms for 500 changes) after its changes: the writer needs it
     * only to record the batch, once it has applied them all, or for a rare batch id it knows. */
    batch_hash(req, hash);
    if (early) {
        prep_hashed(job.progress);
        writer_wait(&w);
    } else {
        writer_submit(&w);
    }
    atomic_fetch_sub(&batches_in_hand, 1);
    prep_free_later(job.prep, req->n_changes); /* after the answer, not before it */
    if (w.rc) {
        /* A group whose commit failed kept nothing: its answer goes too. */
        if (job.resp) protobuf_c_message_free_unpacked(&job.resp->base, NULL);
        if (err) *err = w.err;
        return w.rc;
    }
    Outfall__V1__SyncResponse *resp = job.resp;
    if (job.stored && stored) {
        rc = stored_response_bytes(s, req->batch_id, SYNC_RESPONSE_FEED, stored, stored_len, err);
        if (rc) return rc;
        if (*stored && (resp = malloc(sizeof *resp))) outfall__v1__sync_response__init(resp);
    }
    if (job.stored && !resp && (rc = stored_response(s, req->batch_id, &resp, err))) return rc;
    if (!resp) return sync_fail(err, SYNC_EINTERNAL, "out_of_memory", "out of memory");
    /* This batch filled the gap in front of a held one. */
    if (job.release) release_held(s, cfg, req->device_id, 0);
    /* The durable horizon: a replay reports the sequence's end, never below its own number. */
    if ((rc = durable_fill(s, cfg->offsite_backups, job.ack_seq, resp, err))) {
        protobuf_c_message_free_unpacked(&resp->base, NULL);
        if (stored) {
            free(*stored);
            *stored = NULL;
        }
        return rc;
    }
    *out = resp;
    return 0;
}

int batch_sync(store *s, const sync_config *cfg, const principal *p,
               const Outfall__V1__SyncRequest *req, Outfall__V1__SyncResponse **out,
               sync_error *err) {
    Outfall__V1__SyncResponse *resp = NULL;
    int rc = sync_results(s, cfg, p, req, &resp, NULL, NULL, err);
    if (rc) return rc;
    if ((rc = attach_feed(s, cfg, p, req, resp, err))) {
        protobuf_c_message_free_unpacked(&resp->base, NULL);
        return rc;
    }
    *out = resp;
    return 0;
}

int batch_sync_packed(store *s, const sync_config *cfg, const principal *p,
                      const Outfall__V1__SyncRequest *req, uint8_t **out, size_t *out_len,
                      sync_error *err) {
    *out = NULL;
    *out_len = 0;
    Outfall__V1__SyncResponse *resp = NULL;
    uint8_t *stored = NULL;
    size_t stored_len = 0;
    int rc = sync_results(s, cfg, p, req, &resp, &stored, &stored_len, err);
    if (rc) return rc;
    uint8_t *feed = NULL;
    size_t feed_len = 0;
    int64_t cursor = 0;
    int more = 0;
    rc = feed_pull_packed(s, cfg, p, req->since, req->has_pull_limit ? req->pull_limit : 0,
                          SYNC_RESPONSE_FEED, &feed, &feed_len, &cursor, &more, err);
    if (rc == 0) {
        for (size_t i = 0; i < resp->n_feed; i++)
            protobuf_c_message_free_unpacked(&resp->feed[i]->base, NULL);
        resp->n_feed = 0;
        resp->has_next_cursor = 1;
        resp->next_cursor = cursor;
        resp->has_more = 1;
        resp->more = more;
        /* A stored answer's bytes (fields before the feed) go out as they are, then the page,
         * then the rest: the bytes its message packed whole gives, without unpacking it. */
        int failed =
            stored
                ? feed_pack_after(stored, stored_len, feed, feed_len, &resp->base, out, out_len)
                : feed_pack_spliced(&resp->base, SYNC_RESPONSE_FEED, feed, feed_len, out, out_len);
        if (failed) rc = sync_fail(err, SYNC_EINTERNAL, "out_of_memory", "out of memory");
    }
    free(stored);
    free(feed);
    protobuf_c_message_free_unpacked(&resp->base, NULL);
    return rc;
}

int batch_release_expired(store *s, const sync_config *cfg, int64_t now_ms) {
    /* The oldest expired held batch of each device: applying it releases those behind it. */
    sqlite3_stmt *st = store_stmt(s, "SELECT device_id, MIN(device_seq) FROM batches "
                                     "WHERE state = 'held' AND received_at_ms <= ? "
                                     "GROUP BY device_id");
    if (!st) return SYNC_EINTERNAL;
    sqlite3_bind_int64(st, 1, now_ms - cfg->held_wait_ms);
    struct {
        char device[65];
        int64_t seq;
    } due[64];
    int n = 0;
    while (n < 64 && sqlite3_step(st) == SQLITE_ROW) {
        util_strlcpy(due[n].device, (const char *)sqlite3_column_text(st, 0), sizeof due[n].device);
        due[n].seq = sqlite3_column_int64(st, 1);
        n++;
    }
    sqlite3_reset(st);
    int total = 0;
    for (int i = 0; i < n; i++) {
        int rc = release_held(s, cfg, due[i].device, due[i].seq);
        if (rc < 0) return rc;
        total += rc;
    }
    return total;
}
