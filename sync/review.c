#include "sync/review.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/credit_code.h"
#include "common/pbjson.h"
#include "common/util.h"
#include "sync/accounts.h"
#include "sync/apply.h"
#include "sync/feed.h"
#include "sync/hooks.h"
#include "sync/history.h"
#include "sync/record.h"
#include "sync/replay.h"
#include "sync/review_internal.h"

/* --- small helpers --------------------------------------------------------------------------- */

/* The integer sql answers for a (and b): contract in sync/review_internal.h. */
int64_t review_count(store *s, const char *sql, const char *a, const char *b) {
    sqlite3_stmt *st = store_stmt(s, sql);
    if (!st) return -1;
    sqlite3_bind_text(st, 1, a, -1, SQLITE_STATIC);
    if (b) sqlite3_bind_text(st, 2, b, -1, SQLITE_STATIC);
    int64_t n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    sqlite3_reset(st);
    return n;
}

/* Loads outfall id into the context's record fields. 1 found, 0 not, < 0 storage error. */
int review_load_outfall(decide_ctx *dc, const char *id) {
    sqlite3_stmt *st = store_stmt(dc->s, "SELECT division_code, version, approved_version, "
                                         "review_state, merged_into, doc, river_code "
                                         "FROM outfalls WHERE id = ?");
    if (!st) return SYNC_EINTERNAL;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        util_strlcpy(dc->id, id, sizeof dc->id);
        util_strlcpy(dc->division, (const char *)sqlite3_column_text(st, 0), sizeof dc->division);
        dc->version = sqlite3_column_int64(st, 1);
        dc->approved = sqlite3_column_int64(st, 2);
        dc->review_state = sqlite3_column_int(st, 3);
        dc->merged = sqlite3_column_type(st, 4) != SQLITE_NULL;
        json_decref(dc->doc);
        dc->doc = json_loads((const char *)sqlite3_column_text(st, 5), 0, NULL);
        util_strlcpy(dc->river, (const char *)sqlite3_column_text(st, 6), sizeof dc->river);
    }
    sqlite3_reset(st);
    if (rc == SQLITE_ROW) return dc->doc ? 1 : SYNC_EINTERNAL;
    return rc == SQLITE_DONE ? 0 : SYNC_EINTERNAL;
}

/* The flags of doc without `flag`, as a new JSON value (null when none are left). */
json_t *review_flags_without(json_t *doc, const char *flag) {
    json_t *out = json_array();
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(doc, "flags"), i, v) {
        if (strcmp(json_string_value(v), flag) != 0) json_array_append(out, v);
    }
    if (json_array_size(out) == 0) {
        json_decref(out);
        return json_null();
    }
    return out;
}

/* Applies fields to one record through the engine's single write path. */
int review_set_fields(decide_ctx *dc, const char *kind, const char *id, json_t *fields,
                      sync_error *err) {
    return apply_set_fields(&dc->ac, kind, id, fields, &dc->a, NULL, err);
}

/* --- decisions -------------------------------------------------------------------------------- */

/* The local code: division, river, two-digit type and a four-digit sequence per prefix, e.g.
 * 410882-qinhe-09-0001. The national code is a field of its own, filled by integrators. */
static int next_code(decide_ctx *dc, char *code, size_t cap, sync_error *err) {
    const ProtobufCEnumValue *t = protobuf_c_enum_descriptor_get_value_by_name(
        &outfall__v1__outfall_type__descriptor,
        json_string_value(json_object_get(dc->doc, "type"))
            ? json_string_value(json_object_get(dc->doc, "type"))
            : "");
    char prefix[96];
    snprintf(prefix, sizeof prefix, "%s-%s-%02d", dc->division, dc->river, t ? t->value : 0);
    sqlite3_stmt *st = store_stmt(dc->s, "INSERT INTO code_sequences (prefix, next) VALUES (?, 2) "
                                         "ON CONFLICT (prefix) DO UPDATE SET next = next + 1 "
                                         "RETURNING next - 1");
    if (!st) return store_fail(dc->s, SQLITE_ERROR, err);
    sqlite3_bind_text(st, 1, prefix, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    int64_t seq = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    if (rc != SQLITE_ROW) return store_fail(dc->s, rc, err);
    snprintf(code, cap, "%s-%04lld", prefix, (long long)seq);
    return 0;
}

static int decide_approve(decide_ctx *dc, sync_error *err) {
    if (dc->review_state == OUTFALL__V1__REVIEW_STATE__REVIEW_STATE_APPROVED &&
        dc->approved == dc->version)
        return sync_fail(err, SYNC_ECONFLICT, "not_open", "version %lld is approved already",
                         (long long)dc->version);
    if (review_count(dc->s,
                     "SELECT count(*) FROM conflicts WHERE state = 'open' AND (entity_id = ?1 "
                     "OR entity_id IN (SELECT id FROM observations WHERE outfall_id = ?1))",
                     dc->id, NULL) > 0)
        return sync_fail(err, SYNC_ECONFLICT, "open_conflicts",
                         "resolve the record's open conflicts before approving it");
    if (review_count(dc->s,
                     "SELECT count(*) FROM duplicates WHERE state = 'open' AND "
                     "(outfall_id = ?1 OR neighbour_id = ?1)",
                     dc->id, NULL) > 0)
        return sync_fail(err, SYNC_ECONFLICT, "open_duplicate",
                         "decide the record's duplicate suspect before approving it");
    /* An invalid credit code (flagged credit_code_invalid, sync/entity.c) never enters the
     * master inventory: return the record to the surveyor to correct it. Checked on the value,
     * so records flagged before the rule existed are caught too. */
    const char *credit = json_string_value(
        json_object_get(json_object_get(dc->doc, "responsible_party"), "credit_code"));
    char why[160];
    if (credit && *credit && credit_code_validate(credit, why, sizeof why) != CREDIT_CODE_OK)
        return sync_fail(err, SYNC_ECONFLICT, "credit_code_invalid",
                         "the responsible party's credit code is invalid (%s): return the record "
                         "to the surveyor to correct it before approving",
                         why);
    char code[128];
    const char *existing = json_string_value(json_object_get(dc->doc, "code"));
    int rc = existing ? (util_strlcpy(code, existing, sizeof code), 0)
                      : next_code(dc, code, sizeof code, err);
    if (rc) return rc;
    json_t *fields = json_pack("{s:s, s:I, s:s}", "review_state", "REVIEW_STATE_APPROVED",
                               "approved_version", (json_int_t)(dc->version + 1), "code", code);
    /* The comment that returned the record is answered: approval clears it. */
    if (fields && json_object_get(dc->doc, "review_comment"))
        json_object_set_new(fields, "review_comment", json_null());
    rc = fields ? review_set_fields(dc, "outfall", dc->id, fields, err) : SYNC_EINTERNAL;
    json_decref(fields);
    return rc;
}

static int decide_state(decide_ctx *dc, const char *state, sync_error *err) {
    if (!dc->d->comment || !*dc->d->comment)
        return sync_fail(err, SYNC_EINVALID, "comment_required",
                         "say why, for the surveyors: a comment is required");
    /* The comment goes into the record, so the surveyor's phone gets it with the feed. */
    json_t *fields =
        json_pack("{s:s, s:s}", "review_state", state, "review_comment", dc->d->comment);
    int rc = fields ? review_set_fields(dc, "outfall", dc->id, fields, err) : SYNC_EINTERNAL;
    json_decref(fields);
    return rc;
}

static int decide_reject(decide_ctx *dc, sync_error *err) {
    return decide_state(dc, "REVIEW_STATE_REJECTED", err);
}

static int decide_return(decide_ctx *dc, sync_error *err) {
    return decide_state(dc, "REVIEW_STATE_RETURNED", err);
}

/* The value a resolution chooses, as a new JSON reference (JSON null for "absent"). Fills err and
 * sets *bad on an unreadable value. */
static json_t *chosen_value(const Outfall__V1__FieldResolution *fr, const char *client_value,
                            const char *server_value, int *bad, sync_error *err) {
    const char *text = NULL;
    switch (fr->choice) {
    case OUTFALL__V1__RESOLUTION_CHOICE__RESOLUTION_CHOICE_KEEP_SERVER:
        /* Written again, so the history shows the supervisor confirmed it. */
        text = server_value;
        break;
    case OUTFALL__V1__RESOLUTION_CHOICE__RESOLUTION_CHOICE_TAKE_CLIENT:
        text = client_value;
        break;
    case OUTFALL__V1__RESOLUTION_CHOICE__RESOLUTION_CHOICE_ENTER_VALUE:
        text = fr->value;
        break;
    default:
        *bad = 1;
        sync_fail(err, SYNC_EINVALID, "invalid_decision",
                  "each resolution chooses KEEP_SERVER, TAKE_CLIENT or ENTER_VALUE");
        return NULL;
    }
    json_t *v = text ? json_loads(text, JSON_DECODE_ANY, NULL) : NULL;
    if (!v) {
        *bad = 1;
        sync_fail(err, SYNC_EINVALID, "invalid_value",
                  "conflict %lld: the value must be JSON text, e.g. \"\\\"text\\\"\" or 12.5",
                  (long long)fr->conflict_id);
    }
    return v;
}

static int decide_resolve(decide_ctx *dc, sync_error *err) {
    const Outfall__V1__Decision *d = dc->d;
    if (d->n_resolutions == 0)
        return sync_fail(err, SYNC_EINVALID, "invalid_decision",
                         "a conflict decision carries one resolution per conflict");
    /* Group the chosen values per record: "kind id" -> {field: value}. A phone's list of photos
     * taken for an observation keeps that phone's user as the author of its references ("kind
     * id" -> user id in authors): a reference counts only when its author uploaded the photo. */
    json_t *groups = json_object(), *authors = json_object();
    int rc = groups && authors ? 0 : SYNC_EINTERNAL;
    for (size_t i = 0; i < d->n_resolutions && !rc; i++) {
        const Outfall__V1__FieldResolution *fr = d->resolutions[i];
        sqlite3_stmt *st =
            store_stmt(dc->s, "SELECT kind, entity_id, field, client_value, state, "
                              "(SELECT outfall_id FROM observations WHERE id = "
                              "entity_id), server_value, user_id FROM conflicts WHERE id = ?");
        if (!st) {
            rc = store_fail(dc->s, SQLITE_ERROR, err);
            break;
        }
        sqlite3_bind_int64(st, 1, fr->conflict_id);
        if (sqlite3_step(st) != SQLITE_ROW) {
            sqlite3_reset(st);
            rc = sync_fail(err, SYNC_ENOTFOUND, "not_found", "no conflict %lld",
                           (long long)fr->conflict_id);
            break;
        }
        char key[128], field[256], client[4096], server[4096];
        const char *kind = (const char *)sqlite3_column_text(st, 0);
        const char *entity = (const char *)sqlite3_column_text(st, 1);
        const char *owner =
            strcmp(kind, "outfall") == 0 ? entity : (const char *)sqlite3_column_text(st, 5);
        int open = strcmp((const char *)sqlite3_column_text(st, 4), "open") == 0;
        int mine = owner && strcmp(owner, dc->id) == 0;
        snprintf(key, sizeof key, "%s %s", kind, entity);
        util_strlcpy(field, (const char *)sqlite3_column_text(st, 2), sizeof field);
        util_strlcpy(client,
                     sqlite3_column_text(st, 3) ? (const char *)sqlite3_column_text(st, 3) : "null",
                     sizeof client);
        util_strlcpy(server,
                     sqlite3_column_text(st, 6) ? (const char *)sqlite3_column_text(st, 6) : "null",
                     sizeof server);
        int64_t phone_user = sqlite3_column_int64(st, 7);
        int phone_photos =
            strcmp(kind, "observation") == 0 && strcmp(field, "photos") == 0 &&
            fr->choice == OUTFALL__V1__RESOLUTION_CHOICE__RESOLUTION_CHOICE_TAKE_CLIENT;
        sqlite3_reset(st);
        if (!mine) {
            rc = sync_fail(err, SYNC_EINVALID, "invalid_decision",
                           "conflict %lld is not about outfall %s", (long long)fr->conflict_id,
                           dc->id);
            break;
        }
        if (!open) {
            rc = sync_fail(err, SYNC_ECONFLICT, "not_open", "conflict %lld was resolved already",
                           (long long)fr->conflict_id);
            break;
        }
        int bad = 0;
        json_t *v = chosen_value(fr, client, server, &bad, err);
        if (bad) {
            rc = err->rc;
            break;
        }
        json_t *group = json_object_get(groups, key);
        if (!group) json_object_set_new(groups, key, group = json_object());
        if (phone_photos) json_object_set_new(authors, key, json_integer(phone_user));
        /* Flat keys are leaf paths ("responsible_party.phone"); JSON null clears the field. */
        if (v) json_object_set(group, field, v);
        json_decref(v);
        st = store_stmt(dc->s, "UPDATE conflicts SET state = 'resolved', decision_id = ? "
                               "WHERE id = ?");
        if (!st) {
            rc = store_fail(dc->s, SQLITE_ERROR, err);
            break;
        }
        sqlite3_bind_text(st, 1, d->decision_id, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, fr->conflict_id);
        if (sqlite3_step(st) != SQLITE_DONE) rc = store_fail(dc->s, SQLITE_ERROR, err);
    }
    const char *key;
    json_t *fields;
    json_object_foreach(groups, key, fields) {
        if (rc) break;
        char kind[16], id[UUID_STR_LEN + 1];
        if (sscanf(key, "%15s %36s", kind, id) != 2) continue;
        dc->ac.photo_author = json_integer_value(json_object_get(authors, key));
        rc = review_set_fields(dc, kind, id, fields, err);
        dc->ac.photo_author = 0;
    }
    json_decref(groups);
    json_decref(authors);
    return rc;
}

/* Acknowledges the flags of the record the decision names (the observation observation_id of
 * the outfall, or the outfall itself): acknowledged_flags becomes the flags it carries now, so
 * they no longer hold it in the FLAGGED queue (sync/queue.c); a flag raised later does. A
 * comment says why (comment_required). Codes: not_found (404), invalid_decision (the observation
 * is not the outfall's), stale_version (the observation moved on), not_open (no flag waits for
 * acknowledgement). */
static int decide_acknowledge(decide_ctx *dc, sync_error *err) {
    if (!dc->d->comment || !*dc->d->comment)
        return sync_fail(err, SYNC_EINVALID, "comment_required",
                         "say why the flags are accepted: a comment is required");
    const char *obs = dc->d->observation_id;
    json_t *doc = NULL;
    int rc = 0;
    if (obs) {
        sqlite3_stmt *st = store_stmt(dc->s, "SELECT outfall_id, version, doc FROM observations "
                                             "WHERE id = ?");
        if (!st) return store_fail(dc->s, SQLITE_ERROR, err);
        sqlite3_bind_text(st, 1, obs, -1, SQLITE_STATIC);
        if ((rc = sqlite3_step(st)) != SQLITE_ROW) {
            sqlite3_reset(st);
            return rc == SQLITE_DONE
                       ? sync_fail(err, SYNC_ENOTFOUND, "not_found", "no observation %s", obs)
                       : store_fail(dc->s, rc, err);
        }
        int mine = strcmp((const char *)sqlite3_column_text(st, 0), dc->id) == 0;
        int64_t version = sqlite3_column_int64(st, 1);
        doc = json_loads((const char *)sqlite3_column_text(st, 2), 0, NULL);
        sqlite3_reset(st);
        rc = !doc    ? sync_fail(err, SYNC_EINTERNAL, "storage_error", "observation unreadable")
             : !mine ? sync_fail(err, SYNC_EINVALID, "invalid_decision",
                                 "observation %s is not about outfall %s", obs, dc->id)
             : version != dc->d->base_version
                 ? sync_fail(err, SYNC_ECONFLICT, "stale_version",
                             "the observation is at version %lld, not %lld: reload it and "
                             "decide again",
                             (long long)version, (long long)dc->d->base_version)
                 : 0;
    } else {
        doc = json_incref(dc->doc);
    }
    json_t *flags = rc ? NULL : json_object_get(doc, "flags");
    json_t *acked = json_object_get(doc, "acknowledged_flags");
    size_t i, j, waiting = 0;
    json_t *f, *a;
    json_array_foreach(flags, i, f) {
        int seen = 0;
        json_array_foreach(acked, j, a) seen |= json_equal(a, f);
        waiting += !seen;
    }
    if (!rc && !waiting)
        rc = sync_fail(err, SYNC_ECONFLICT, "not_open", "the record has no flag to acknowledge");
    json_t *fields = rc ? NULL : json_pack("{s:O}", "acknowledged_flags", flags);
    if (!rc)
        rc = fields ? review_set_fields(dc, obs ? "observation" : "outfall", obs ? obs : dc->id,
                                        fields, err)
                    : sync_fail(err, SYNC_EINTERNAL, "out_of_memory", "out of memory");
    json_decref(fields);
    json_decref(doc);
    return rc;
}

/* An inspection result (read through sync/hooks.h): approval pins the observation's version, a
 * return sends it back to its inspector (with a comment). Either takes it off the queue. */
static int decide_inspection(decide_ctx *dc, int approve, sync_error *err) {
    const char *obs = dc->d->observation_id;
    hooks_inspection_row fr;
    int rc = hooks_inspection_load(dc->s, obs, &fr, err);
    if (rc <= 0)
        return rc < 0 ? rc
                      : sync_fail(err, SYNC_ENOTFOUND, "not_found", "no inspection result %s", obs);
    if (strcmp(fr.outfall_id, dc->id) != 0)
        return sync_fail(err, SYNC_EINVALID, "invalid_decision",
                         "inspection result %s is not about outfall %s", obs, dc->id);
    if (dc->d->base_version != fr.version)
        return sync_fail(err, SYNC_ECONFLICT, "stale_version",
                         "the result is at version %lld, not %lld: reload it and decide again",
                         (long long)fr.version, (long long)dc->d->base_version);
    json_t *fields;
    if (approve) {
        if (fr.decision_state == OUTFALL__V1__REVIEW_STATE__REVIEW_STATE_APPROVED &&
            fr.approved_version == fr.version)
            return sync_fail(err, SYNC_ECONFLICT, "not_open", "version %lld is approved already",
                             (long long)fr.version);
        fields = json_pack("{s:s, s:I}", "inspection_state", "REVIEW_STATE_APPROVED",
                           "inspection_approved_version", (json_int_t)(fr.version + 1));
        if (fields && fr.has_comment)
            json_object_set_new(fields, "inspection_comment", json_null());
    } else {
        if (!dc->d->comment || !*dc->d->comment)
            return sync_fail(err, SYNC_EINVALID, "comment_required",
                             "say why, for the inspector: a comment is required");
        if (!fr.pending)
            return sync_fail(err, SYNC_ECONFLICT, "not_open",
                             "the result is not waiting for review");
        fields = json_pack("{s:s, s:s}", "inspection_state", "REVIEW_STATE_RETURNED",
                           "inspection_comment", dc->d->comment);
    }
    rc = fields ? review_set_fields(dc, "observation", obs, fields, err)
                : sync_fail(err, SYNC_EINTERNAL, "out_of_memory", "out of memory");
    json_decref(fields);
    return rc ? rc : hooks_inspection_settle(dc->s, obs, err);
}

static int decide_approve_inspection(decide_ctx *dc, sync_error *err) {
    return decide_inspection(dc, 1, err);
}

static int decide_return_inspection(decide_ctx *dc, sync_error *err) {
    return decide_inspection(dc, 0, err);
}

/* 1 when a decision of kind is about an inspection result. */
static int is_inspection(int kind) {
    return kind == OUTFALL__V1__DECISION_KIND__DECISION_KIND_APPROVE_INSPECTION ||
           kind == OUTFALL__V1__DECISION_KIND__DECISION_KIND_RETURN_INSPECTION;
}

/* 1 when decision d is about one observation: its base_version is the observation's, which its
 * decider checks. */
static int names_observation(const Outfall__V1__Decision *d) {
    return is_inspection(d->kind) ||
           (d->kind == OUTFALL__V1__DECISION_KIND__DECISION_KIND_ACKNOWLEDGE_FLAGS &&
            d->observation_id);
}

static const struct {
    int kind;
    const char *action; /* for the audit trail */
    int (*decide)(decide_ctx *dc, sync_error *err);
} deciders[] = {
    {OUTFALL__V1__DECISION_KIND__DECISION_KIND_APPROVE, "review.approve", decide_approve},
    {OUTFALL__V1__DECISION_KIND__DECISION_KIND_REJECT, "review.reject", decide_reject},
    {OUTFALL__V1__DECISION_KIND__DECISION_KIND_RETURN, "review.return", decide_return},
    {OUTFALL__V1__DECISION_KIND__DECISION_KIND_RESOLVE_CONFLICT, "review.resolve", decide_resolve},
    {OUTFALL__V1__DECISION_KIND__DECISION_KIND_MERGE_DUPLICATE, "review.merge",
     review_merge_decide},
    {OUTFALL__V1__DECISION_KIND__DECISION_KIND_KEEP_APART, "review.keep_apart",
     review_merge_keep_apart},
    {OUTFALL__V1__DECISION_KIND__DECISION_KIND_APPROVE_INSPECTION, "review.approve_inspection",
     decide_approve_inspection},
    {OUTFALL__V1__DECISION_KIND__DECISION_KIND_RETURN_INSPECTION, "review.return_inspection",
     decide_return_inspection},
    {OUTFALL__V1__DECISION_KIND__DECISION_KIND_ACKNOWLEDGE_FLAGS, "review.acknowledge_flags",
     decide_acknowledge},
};

/* The first answer to a decision, kept as it was given, marked ALREADY_APPLIED. 1 found, 0 not,
 * < 0 on failure (decision_id_reused for other content). */
static int earlier_answer(store *s, const Outfall__V1__Decision *d, const uint8_t hash[32],
                          Outfall__V1__DecisionResult **out, sync_error *err) {
    int rc = replay_find(s, "SELECT content_hash, result FROM decisions WHERE decision_id = ?",
                         d->decision_id, hash, &outfall__v1__decision_result__descriptor,
                         (ProtobufCMessage **)out, "decision_id_reused", err);
    if (rc == 1) {
        (*out)->has_status = 1;
        (*out)->status = OUTFALL__V1__CHANGE_STATUS__CHANGE_STATUS_ALREADY_APPLIED;
    }
    return rc;
}

static int record_decision(decide_ctx *dc, const uint8_t hash[32], Outfall__V1__DecisionResult *res,
                           sync_error *err) {
    sqlite3_stmt *st = store_stmt(dc->s, "INSERT INTO decisions (decision_id, content_hash, kind, "
                                         "outfall_id, user_id, comment, at_ms, result) "
                                         "VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
    if (!st) return store_fail(dc->s, SQLITE_ERROR, err);
    sqlite3_bind_text(st, 1, dc->d->decision_id, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 2, hash, 32, SQLITE_STATIC);
    sqlite3_bind_int(st, 3, dc->d->kind);
    sqlite3_bind_text(st, 4, dc->d->outfall_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, dc->p->user_id);
    sqlite3_bind_text(st, 6, dc->d->comment, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 7, dc->a.at_ms);
    if (store_bind_packed(st, 8, &res->base) != SQLITE_OK)
        return sync_fail(err, SYNC_EINTERNAL, "out_of_memory", "out of memory");
    int rc = sqlite3_step(st);
    return rc == SQLITE_DONE ? 0 : store_fail(dc->s, rc, err);
}

static int check_decision(const principal *p, const Outfall__V1__Decision *d, int *which,
                          sync_error *err) {
    if (p->role != OUTFALL__V1__ROLE__ROLE_SUPERVISOR && p->role != OUTFALL__V1__ROLE__ROLE_ADMIN)
        return sync_fail(err, SYNC_EFORBIDDEN, "forbidden_role", "only supervisors decide");
    if (!util_uuid_valid(d->decision_id))
        return sync_fail(err, SYNC_EINVALID, "invalid_decision", "decision_id must be a UUID");
    if (!util_uuid_valid(d->outfall_id))
        return sync_fail(err, SYNC_EINVALID, "invalid_decision", "outfall_id must be a UUID");
    if (is_inspection(d->kind) && !util_uuid_valid(d->observation_id))
        return sync_fail(err, SYNC_EINVALID, "invalid_decision",
                         "observation_id must name the inspection result (a UUID)");
    if (d->kind == OUTFALL__V1__DECISION_KIND__DECISION_KIND_ACKNOWLEDGE_FLAGS &&
        d->observation_id && !util_uuid_valid(d->observation_id))
        return sync_fail(err, SYNC_EINVALID, "invalid_decision", "observation_id must be a UUID");
    if (d->n_take_from_other &&
        (d->kind != OUTFALL__V1__DECISION_KIND__DECISION_KIND_MERGE_DUPLICATE ||
         d->n_take_from_other > 16))
        return sync_fail(err, SYNC_EINVALID, "invalid_decision",
                         "take_from_other belongs to a merge and names at most 16 fields");
    if (!d->has_base_version)
        return sync_fail(err, SYNC_EINVALID, "invalid_decision",
                         "base_version must name the version the decision was made on");
    if (d->comment && strlen(d->comment) > 4000)
        return sync_fail(err, SYNC_EINVALID, "invalid_decision", "a comment is at most 4000 bytes");
    for (size_t i = 0; i < sizeof deciders / sizeof deciders[0]; i++)
        if ((int)d->kind == deciders[i].kind) {
            *which = (int)i;
            return 0;
        }
    return sync_fail(err, SYNC_EINVALID, "invalid_decision", "unknown decision kind");
}

int review_decide(store *s, const sync_config *cfg, const principal *p,
                  const Outfall__V1__Decision *d, Outfall__V1__DecisionResult **out,
                  sync_error *err) {
    *out = NULL;
    int which = 0;
    int rc = check_decision(p, d, &which, err);
    if (rc) {
        audit_record(s, p, "review.decide", d->outfall_id, err->code, err->message);
        return rc;
    }
    uint8_t hash[32];
    replay_hash(&d->base, hash);

    decide_ctx dc = {.s = s, .p = p, .d = d};
    dc.ac = (apply_ctx){s, cfg, p, NULL, util_now_ms(), NULL, 0, 0};
    dc.a = (history_author){d->decision_id, p->user_id, NULL, dc.ac.now_ms};
    Outfall__V1__DecisionResult *res = NULL;
    if ((rc = store_begin(s, err))) return rc;
    if ((rc = review_load_outfall(&dc, d->outfall_id)) <= 0) {
        rc = rc < 0 ? store_fail(s, SQLITE_ERROR, err)
                    : sync_fail(err, SYNC_ENOTFOUND, "not_found", "no outfall %s", d->outfall_id);
        goto fail;
    }
    if (!principal_covers(p, dc.division)) {
        rc = sync_fail(err, SYNC_EFORBIDDEN, "outside_division",
                       "outfall %s is outside your divisions", dc.id);
        goto fail;
    }
    /* A retry answers as the first time, whatever happened to the record since. */
    if ((rc = earlier_answer(s, d, hash, out, err)) != 0) {
        store_rollback(s);
        json_decref(dc.doc);
        return rc > 0 ? 0 : rc;
    }
    if (dc.merged && d->kind != OUTFALL__V1__DECISION_KIND__DECISION_KIND_RESOLVE_CONFLICT) {
        rc = sync_fail(err, SYNC_ECONFLICT, "merged", "outfall %s was merged into another", dc.id);
        goto fail;
    }
    /* A decision about one observation names its version; its decider checks it. */
    if (!names_observation(d) && d->base_version != dc.version) {
        rc = sync_fail(err, SYNC_ECONFLICT, "stale_version",
                       "the record is at version %lld, not %lld: reload it and decide again",
                       (long long)dc.version, (long long)d->base_version);
        goto fail;
    }
    util_strlcpy(dc.answer_id, dc.id, sizeof dc.answer_id);
    if ((rc = deciders[which].decide(&dc, err))) goto fail;

    res = malloc(sizeof *res);
    if (!res) {
        rc = sync_fail(err, SYNC_EINTERNAL, "out_of_memory", "out of memory");
        goto fail;
    }
    outfall__v1__decision_result__init(res);
    res->decision_id = strdup(d->decision_id);
    res->has_status = 1;
    res->status = OUTFALL__V1__CHANGE_STATUS__CHANGE_STATUS_APPLIED;
    if ((rc =
             feed_read_outfall_view(s, NULL, dc.answer_id, FEED_VIEW_LATEST, &res->outfall, err)) ||
        (names_observation(d) &&
         (rc = feed_read_observation(s, NULL, d->observation_id, &res->observation, err))) ||
        (rc = record_decision(&dc, hash, res, err)))
        goto fail;
    audit_record(s, p, deciders[which].action, d->outfall_id, "ok", d->comment);
    if ((rc = store_commit(s, err))) goto fail;
    json_decref(dc.doc);
    apply_ctx_free(&dc.ac);
    *out = res;
    return 0;
fail:
    store_rollback(s);
    json_decref(dc.doc);
    apply_ctx_free(&dc.ac);
    if (res) protobuf_c_message_free_unpacked(&res->base, NULL);
    audit_record(s, p, deciders[which].action, d->outfall_id, err->code, err->message);
    return rc;
}
