#include "sync/apply.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/pbjson.h"
#include "common/util.h"
#include "sync/entity.h"
#include "sync/history.h"
#include "sync/record.h"

#define MAX_TEXT_BYTES 4096
#define MAX_REDIRECTS 16

/* --- results ------------------------------------------------------------------------------ */

int apply_reject(Outfall__V1__ChangeResult *r, const char *reason, const char *fmt, ...) {
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    r->has_status = 1;
    r->status = OUTFALL__V1__CHANGE_STATUS__CHANGE_STATUS_REJECTED;
    r->has_version = 0;
    /* A rejected change leaves nothing behind: its partial outcome goes too. */
    for (size_t i = 0; i < r->n_conflicts; i++)
        protobuf_c_message_free_unpacked(&r->conflicts[i]->base, NULL);
    free(r->conflicts);
    r->conflicts = NULL;
    r->n_conflicts = 0;
    free(r->duplicate_of);
    r->duplicate_of = NULL;
    free(r->reason);
    free(r->message);
    r->reason = strdup(reason);
    r->message = strdup(msg);
    return 1;
}

static void set_status(Outfall__V1__ChangeResult *r, int status, int64_t version) {
    r->has_status = 1;
    r->status = status;
    r->has_version = 1;
    r->version = version;
}

static int add_conflict(Outfall__V1__ChangeResult *r, const char *field, const json_t *base,
                        const json_t *server, const json_t *client) {
    void *grown = realloc(r->conflicts, (r->n_conflicts + 1) * sizeof *r->conflicts);
    Outfall__V1__FieldConflict *fc = malloc(sizeof *fc);
    if (!grown || !fc) {
        free(fc);
        if (grown) r->conflicts = grown;
        return -1;
    }
    r->conflicts = grown;
    outfall__v1__field_conflict__init(fc);
    fc->field = strdup(field);
    fc->base_value = record_text(base);
    fc->server_value = record_text(server);
    fc->client_value = record_text(client);
    r->conflicts[r->n_conflicts++] = fc;
    return 0;
}

/* --- flags -------------------------------------------------------------------------------- */

void apply_flag(json_t *doc, const char *flag, int on) {
    json_t *flags = json_object_get(doc, "flags");
    size_t i;
    json_t *v;
    json_array_foreach(flags, i, v) {
        if (strcmp(json_string_value(v), flag) == 0) {
            if (!on) json_array_remove(flags, i);
            if (json_array_size(flags) == 0) json_object_del(doc, "flags");
            return;
        }
    }
    if (!on) return;
    if (!flags) json_object_set_new(doc, "flags", flags = json_array());
    json_array_append_new(flags, json_string(flag));
}

/* --- the generic flow --------------------------------------------------------------------- */

struct leaf_scan {
    const entity_kind *k;
    Outfall__V1__ChangeResult *r;
};

/* Refuses server-owned fields and over-long text in what the phone sent. */
static int scan_leaf(const char *path, json_t *value, void *ctx) {
    struct leaf_scan *sc = ctx;
    for (const char *const *f = sc->k->read_only; *f; f++) {
        size_t n = strlen(*f); /* a message field covers every leaf below it */
        if (strncmp(path, *f, n) == 0 && (path[n] == '\0' || path[n] == '.'))
            return apply_reject(sc->r, "read_only_field", "%s is set by the server, not the phone",
                                path);
    }
    if (json_is_string(value) && strlen(json_string_value(value)) > MAX_TEXT_BYTES)
        return apply_reject(sc->r, "invalid_change", "%s is longer than %d bytes", path,
                            MAX_TEXT_BYTES);
    return 0;
}

struct merge {
    apply_ctx *c;
    const entity_kind *k;
    entity_row *rw;
    int64_t base;
    const char *redirected_from; /* the merged record the phone addressed, or NULL */
    json_t *applied;             /* path -> value taken from the phone */
    Outfall__V1__ChangeResult *r;
    sync_error *err;
    int rc;
};

/* Three-way merge of one field: the phone's value goes in unless someone else changed the field
 * since the phone's base version to a different value; then the server's value stays and a
 * conflict holds all three. */
static int merge_leaf(const char *path, json_t *client, void *ctx) {
    struct merge *m = ctx;
    json_t *server = record_get(m->rw->doc, path);
    if (record_equal(server, client)) return 0;
    int other = 0;
    if (m->redirected_from) {
        /* The phone's base version belongs to the merged record, not the survivor: compare
         * values instead. The field clashes unless the survivor still holds what the phone saw. */
        json_t *seen = history_value_at(m->c->s, m->k->name, m->redirected_from, path, m->base);
        other = !record_equal(seen, server);
        json_decref(seen);
    } else if (m->base < m->rw->version) {
        other = history_changed_by_other(m->c->s, m->k->name, m->rw->id, path, m->base,
                                         m->c->device_id);
        if (other < 0) return m->rc = store_fail(m->c->s, SQLITE_ERROR, m->err);
    }
    if (!other) return json_object_set(m->applied, path, client) ? (m->rc = SYNC_EINTERNAL) : 0;

    json_t *base = history_value_at(
        m->c->s, m->k->name, m->redirected_from ? m->redirected_from : m->rw->id, path, m->base);
    int rc = add_conflict(m->r, path, base, server, client);
    if (!rc) {
        sqlite3_stmt *st = store_stmt(m->c->s, "INSERT INTO conflicts (kind, entity_id, field, "
                                               "base_value, server_value, client_value, "
                                               "change_id, device_id, user_id, created_at_ms) "
                                               "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
        Outfall__V1__FieldConflict *fc = m->r->conflicts[m->r->n_conflicts - 1];
        if (st) {
            sqlite3_bind_text(st, 1, m->k->name, -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 2, m->rw->id, -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 3, path, -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 4, fc->base_value, -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 5, fc->server_value, -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 6, fc->client_value, -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 7, m->r->change_id, -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 8, m->c->device_id, -1, SQLITE_STATIC);
            sqlite3_bind_int64(st, 9, m->c->p->user_id);
            sqlite3_bind_int64(st, 10, m->c->now_ms);
        }
        rc = st && sqlite3_step(st) == SQLITE_DONE ? 0 : SYNC_EINTERNAL;
    }
    json_decref(base);
    if (rc) m->rc = store_fail(m->c->s, SQLITE_ERROR, m->err);
    return m->rc;
}

static int set_leaf(const char *path, json_t *value, void *ctx) {
    return record_set(ctx, path, value) ? SYNC_EINTERNAL : 0;
}

/* Adds one leaf to an object of leaf path -> value (a reference: the object is only read). */
static int add_leaf(const char *path, json_t *value, void *leaves) {
    return json_object_set(leaves, path, value) ? SYNC_EINTERNAL : 0;
}

/* Sets one leaf the server set on a new record over the phone's leaves; null clears it. */
static int server_leaf(const char *path, json_t *value, void *leaves) {
    if (json_is_null(value)) return json_object_del(leaves, path), 0;
    return add_leaf(path, value, leaves);
}

/* Lets go of v (a reference the writer holds): into prep's spent, freed with the preparation
 * off the writer's thread, when prep has room; else here. */
static void spend(apply_prep *prep, json_t *v) {
    for (size_t i = 0; prep && v && i < sizeof prep->spent / sizeof *prep->spent; i++) {
        if (!prep->spent[i]) {
            prep->spent[i] = v;
            return;
        }
    }
    json_decref(v);
}

/* The fields the server sets on a new record beside the phone's, which its history holds too:
 * the review state, the flags and the programme's found date. */
static const char *const create_server_fields[] = {"review_state", "flags", "programme", NULL};

/* Version 1's history: every leaf the phone set (leaves holds them, path -> value) and those the
 * server set beside them in doc, over them. One row, written once. */
static int create_history(apply_ctx *c, const entity_kind *k, entity_row *rw, json_t *leaves,
                          const record_pieces *texts, const history_author *a, sync_error *err) {
    json_t *server = json_object();
    int rc = server ? 0 : SYNC_EINTERNAL;
    for (const char *const *f = create_server_fields; !rc && *f; f++) {
        json_t *v = json_object_get(rw->doc, *f);
        if (v && json_object_set(server, *f, v)) rc = SYNC_EINTERNAL;
    }
    if (!rc) rc = record_each_leaf(server, server_leaf, leaves);
    json_decref(server);
    if (rc) return sync_fail(err, SYNC_EINTERNAL, "out_of_memory", "out of memory");
    return history_write_leaves_at(c->s, k->name, rw->id, rw->rowid, 1, leaves, texts, a, err);
}

/* Creates record id of kind k from the phone's fields; prep (may be NULL) holds their texts,
 * document and leaves made ahead (apply_prepare), and takes what the writer lets go of. */
static int create(apply_ctx *c, const entity_kind *k, const char *id, json_t *fields,
                  apply_prep *prep, const history_author *a, Outfall__V1__ChangeResult *r,
                  sync_error *err) {
    entity_row existing;
    /* Read ahead by the worker when it could be (apply_lookahead). */
    int rc = prep && prep->ahead.entity_new ? 0 : k->load(c, id, &existing);
    if (rc < 0) return store_fail(c->s, SQLITE_ERROR, err);
    if (rc > 0) {
        json_decref(existing.doc);
        return apply_reject(r, "already_exists", "%s %s already exists; edit it with its version",
                            k->name, id);
    }
    for (const char *const *f = k->required; *f; f++)
        if (!json_object_get(fields, *f))
            return apply_reject(r, "missing_field", "a new %s needs %s", k->name, *f);

    entity_row rw = {.version = 1, .doc_texts = prep ? &prep->doc_texts : NULL};
    util_strlcpy(rw.id, id, sizeof rw.id);
    /* The document is a copy the rules may change; the history keeps the phone's own leaves.
     * Both made on the worker when it could (apply_prepare), else here. */
    json_t *leaves = NULL;
    if (prep && prep->doc && prep->leaves) {
        rw.doc = prep->doc;
        leaves = prep->leaves;
        prep->doc = prep->leaves = NULL;
    } else {
        rw.doc = record_copy(fields);
        leaves = json_object();
        if (!rw.doc || !leaves || record_each_leaf(fields, add_leaf, leaves)) {
            rc = sync_fail(err, SYNC_EINTERNAL, "out_of_memory", "out of memory");
            goto done;
        }
    }
    set_status(r, OUTFALL__V1__CHANGE_STATUS__CHANGE_STATUS_APPLIED, 1);
    rc = k->check(c, NULL, &rw, r, err);
    if (rc == 0) {
        json_object_set_new(rw.doc, "id", json_string(id));
        json_object_set_new(rw.doc, "version", json_integer(1));
        if (k == &entity_kinds[0])
            json_object_set_new(rw.doc, "review_state", json_string("REVIEW_STATE_PENDING"));
        rc = k->save(c, &rw, 1, err);
        if (!rc) rc = create_history(c, k, &rw, leaves, prep ? &prep->leaf_texts : NULL, a, err);
    }
done:
    spend(prep, leaves);
    spend(prep, rw.doc);
    return rc > 0 ? 0 : rc;
}

/* The rowid of outfall id in its table, or 0. */
static int64_t outfall_rowid(apply_ctx *c, const char *id) {
    sqlite3_stmt *st = store_stmt(c->s, "SELECT rowid FROM outfalls WHERE id = ?");
    if (!st) return 0;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    int64_t rowid = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    return rowid;
}

/* The survivor's version written by the decision that merged `merged` into it, or 0. The
 * records' rowids go in as values: the view field_history (migration 0023) reads each of its
 * tables by (kind, entity_rowid) only when the rowid is a value, not a subquery. */
static int64_t merge_version(apply_ctx *c, const char *merged, const char *survivor) {
    int64_t merged_rowid = outfall_rowid(c, merged), survivor_rowid = outfall_rowid(c, survivor);
    sqlite3_stmt *st = store_stmt(
        c->s, "SELECT s.version FROM field_history m JOIN field_history s ON s.kind = m.kind "
              "AND s.change_id = m.change_id AND s.entity_rowid = ?2 WHERE m.kind = 'outfall' "
              "AND m.entity_rowid = ?1 AND m.field = 'merged_into' ORDER BY m.version DESC, "
              "s.version DESC LIMIT 1");
    if (!st || !merged_rowid || !survivor_rowid) return 0;
    sqlite3_bind_int64(st, 1, merged_rowid);
    sqlite3_bind_int64(st, 2, survivor_rowid);
    int64_t v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    return v;
}

static int edit(apply_ctx *c, const entity_kind *k, const char *id, int64_t base, json_t *fields,
                const history_author *a, Outfall__V1__ChangeResult *r, sync_error *err) {
    entity_row old, rw;
    int rc = k->load(c, id, &old);
    if (rc < 0) return store_fail(c->s, SQLITE_ERROR, err);
    /* The version the phone's base counts in: the addressed record's, even once it is merged. */
    int64_t addressed_version = rc > 0 ? old.version : 0;
    /* Edits addressed to a merged outfall go to the one it was merged into. */
    char last_merged[UUID_STR_LEN + 1] = "";
    for (int hop = 0; rc > 0 && old.merged_into[0] && hop < MAX_REDIRECTS; hop++) {
        char next[UUID_STR_LEN + 1];
        util_strlcpy(last_merged, old.id, sizeof last_merged);
        util_strlcpy(next, old.merged_into, sizeof next);
        json_decref(old.doc);
        rc = k->load(c, next, &old);
        if (rc < 0) return store_fail(c->s, SQLITE_ERROR, err);
    }
    if (rc == 0) return apply_reject(r, "not_found", "no %s %s to edit", k->name, id);
    rw = old;
    rw.doc = json_deep_copy(old.doc);
    json_t *applied = json_object();
    char *flags_before = entity_flags_text(old.doc);
    if (!rw.doc || !applied || !flags_before) {
        rc = sync_fail(err, SYNC_EINTERNAL, "out_of_memory", "out of memory");
        goto done;
    }
    /* A pick's result is edited by the pick's inspector wherever it lies (entity_pick_result). */
    if (!entity_pick_result(c, k, old.doc) && !principal_covers(c->p, old.division)) {
        rc =
            apply_reject(r, "outside_division", "%s %s is outside your divisions", k->name, old.id);
        goto done;
    }
    if (base > addressed_version) {
        rc = apply_reject(r, "base_version_ahead",
                          "base_version %lld is ahead of the server's version %lld",
                          (long long)base, (long long)addressed_version);
        goto done;
    }
    int redirected = strcmp(old.id, id) != 0;
    if (redirected) {
        free(r->entity_id);
        r->entity_id = strdup(old.id);
    }

    /* A redirected edit counts from the merge: the fields someone else changed on the survivor
     * since then clash; when the merge point is unknown, values are compared instead. */
    int64_t merge_point = redirected ? merge_version(c, last_merged, old.id) : 0;
    struct merge m = {c,
                      k,
                      &rw,
                      merge_point ? merge_point : base,
                      redirected && !merge_point ? id : NULL,
                      applied,
                      r,
                      err,
                      0};
    if ((rc = record_each_leaf(fields, merge_leaf, &m)) || (rc = m.rc)) goto done;
    if ((rc = record_each_leaf(applied, set_leaf, rw.doc))) goto done;
    if ((rc = k->check(c, &old, &rw, r, err))) goto done;

    char *flags_after = entity_flags_text(rw.doc);
    int flags_changed = !flags_after || strcmp(flags_before, flags_after) != 0;
    free(flags_after);
    int changed = json_object_size(applied) > 0 || flags_changed;
    if (changed) {
        int forgot = entity_forget_cleared(rw.doc);
        rw.version = old.version + 1;
        json_object_set_new(rw.doc, "version", json_integer(rw.version));
        if ((rc = k->save(c, &rw, 0, err))) goto done;
        if ((rc = history_write_all(c->s, k->name, rw.id, rw.version, applied, a, err))) goto done;
        if (flags_changed && (rc = history_write(c->s, k->name, rw.id, rw.version, "flags",
                                                 json_object_get(rw.doc, "flags"), a, err)))
            goto done;
        if (forgot && (rc = history_write(c->s, k->name, rw.id, rw.version, "acknowledged_flags",
                                          json_object_get(rw.doc, "acknowledged_flags"), a, err)))
            goto done;
        json_t *state = json_object_get(rw.doc, "review_state");
        if (!record_equal(state, json_object_get(old.doc, "review_state")) &&
            (rc = history_write(c->s, k->name, rw.id, rw.version, "review_state", state, a, err)))
            goto done;
    }
    int status = r->n_conflicts ? OUTFALL__V1__CHANGE_STATUS__CHANGE_STATUS_CONFLICT
                 : !redirected && base == old.version
                     ? OUTFALL__V1__CHANGE_STATUS__CHANGE_STATUS_APPLIED
                     : OUTFALL__V1__CHANGE_STATUS__CHANGE_STATUS_MERGED;
    set_status(r, status, rw.version);
done:
    free(flags_before);
    json_decref(applied);
    json_decref(rw.doc);
    json_decref(old.doc);
    return rc > 0 ? 0 : rc;
}

/* The kind of record ch carries and its message into *msg, or NULL. */
static const entity_kind *change_kind(const Outfall__V1__Change *ch, const ProtobufCMessage **msg) {
    switch (ch->entity_case) {
    case OUTFALL__V1__CHANGE__ENTITY_OUTFALL:
        *msg = &ch->outfall->base;
        return &entity_kinds[0];
    case OUTFALL__V1__CHANGE__ENTITY_OBSERVATION:
        *msg = &ch->observation->base;
        return &entity_kinds[1];
    default:
        *msg = NULL;
        return NULL;
    }
}

/* What ch asks, checked without the database: the phone's fields into *fields (a new reference,
 * without the record's id) and 0; or 1 with the refusal in r (a change of no kind, an entity_id
 * that is no UUID, a negative base_version, a record id other than entity_id, a server-owned
 * field, an over-long text); or -1 when out of memory. Reads nothing but ch: any thread. */
static int change_fields(const Outfall__V1__Change *ch, json_t **fields,
                         Outfall__V1__ChangeResult *r) {
    const ProtobufCMessage *msg;
    const entity_kind *k = change_kind(ch, &msg);
    *fields = NULL;
    if (!k)
        return apply_reject(r, "invalid_change", "a change carries an outfall or an observation");
    if (!util_uuid_valid(ch->entity_id))
        return apply_reject(r, "invalid_change", "entity_id must be a UUID");
    if (ch->base_version < 0)
        return apply_reject(r, "invalid_change",
                            "base_version must be 0 (create) or a server version");
    json_t *got = pbjson_to_json(msg, PBJSON_PROTO_NAMES);
    if (!got) return -1;
    int rc = 0;
    json_t *id = json_object_get(got, "id");
    if (id && strcasecmp(json_string_value(id), ch->entity_id) != 0)
        rc = apply_reject(r, "invalid_change",
                          "the record's id differs from the change's entity_id");
    json_object_del(got, "id");
    struct leaf_scan sc = {k, r};
    if (!rc) rc = record_each_leaf(got, scan_leaf, &sc);
    if (rc)
        json_decref(got);
    else
        *fields = got;
    return rc;
}

int apply_prepare(const Outfall__V1__Change *ch, apply_prep *prep) {
    memset(prep, 0, sizeof *prep);
    Outfall__V1__ChangeResult r = OUTFALL__V1__CHANGE_RESULT__INIT;
    int rc = change_fields(ch, &prep->fields, &r);
    if (rc > 0) {
        prep->reason = r.reason;
        prep->message = r.message;
        r.reason = r.message = NULL;
    }
    free(r.reason);
    free(r.message);
    /* A refusal whose words did not fit in memory is worked out again by the writer. */
    prep->ready = rc == 0 || (rc > 0 && prep->reason && prep->message);
    if (rc == 0 && ch->base_version == 0) {
        /* What a create writes of the phone's fields is written here (left empty when out of
         * memory: the writer then writes it all). */
        record_pieces_make(prep->fields, RECORD_DOC_FLAGS, NULL, &prep->doc_texts);
        json_t *leaves = json_object();
        if (leaves && !record_each_leaf(prep->fields, add_leaf, leaves)) {
            /* Most leaves are the document's own members: their texts are copied. */
            record_pieces_make(leaves, RECORD_FIELDS_FLAGS, &prep->doc_texts, &prep->leaf_texts);
            prep->doc = record_copy(prep->fields);
            prep->leaves = json_incref(leaves);
        }
        json_decref(leaves);
    }
    return rc < 0 ? -1 : 0;
}

void apply_prep_free(apply_prep *prep) {
    json_decref(prep->fields);
    json_decref(prep->doc);
    json_decref(prep->leaves);
    for (size_t i = 0; i < sizeof prep->spent / sizeof *prep->spent; i++)
        json_decref(prep->spent[i]);
    record_pieces_free(&prep->doc_texts);
    record_pieces_free(&prep->leaf_texts);
    free(prep->reason);
    free(prep->message);
    memset(prep, 0, sizeof *prep);
}

int apply_change(apply_ctx *c, const Outfall__V1__Change *ch, Outfall__V1__ChangeResult *r,
                 sync_error *err) {
    return apply_change_prepared(c, ch, NULL, r, err);
}

int apply_change_prepared(apply_ctx *c, const Outfall__V1__Change *ch, apply_prep *prep,
                          Outfall__V1__ChangeResult *r, sync_error *err) {
    json_t *fields = NULL;
    int rc;
    if (prep && prep->ready && prep->reason) {
        apply_reject(r, prep->reason, "%s", prep->message);
        return 0;
    }
    if (prep && prep->ready) {
        /* Taken, not shared: a second call for the change (a retried group) works it out anew. */
        fields = prep->fields;
        prep->fields = NULL;
        prep->ready = 0;
        rc = 0;
    } else {
        rc = change_fields(ch, &fields, r);
    }
    if (rc < 0) return sync_fail(err, SYNC_EINTERNAL, "out_of_memory", "out of memory");
    if (rc > 0) return 0; /* rejected, r holds why */
    const ProtobufCMessage *msg;
    const entity_kind *k = change_kind(ch, &msg);
    c->client_time_ms = ch->has_client_time_ms ? ch->client_time_ms : 0;
    history_author a = {ch->change_id, c->p->user_id, c->device_id, c->now_ms};
    c->ahead = prep ? &prep->ahead : NULL;
    rc = ch->base_version == 0 ? create(c, k, ch->entity_id, fields, prep, &a, r, err)
                               : edit(c, k, ch->entity_id, ch->base_version, fields, &a, r, err);
    c->ahead = NULL;
    /* Read once: a second call for the change (a retried group) reads for itself. */
    if (prep) memset(&prep->ahead, 0, sizeof prep->ahead);
    spend(prep, fields);
    return rc > 0 ? 0 : rc; /* > 0: rejected, r holds why */
}

int apply_set_fields(apply_ctx *c, const char *kind_name, const char *id, json_t *fields,
                     const history_author *a, int64_t *version, sync_error *err) {
    const entity_kind *k =
        strcmp(kind_name, "observation") == 0 ? &entity_kinds[1] : &entity_kinds[0];
    entity_row old, rw;
    int rc = k->load(c, id, &old);
    if (rc <= 0)
        return rc < 0 ? store_fail(c->s, SQLITE_ERROR, err)
                      : sync_fail(err, SYNC_ENOTFOUND, "not_found", "no %s %s", k->name, id);
    if (!principal_covers(c->p, old.division)) {
        json_decref(old.doc);
        return sync_fail(err, SYNC_EFORBIDDEN, "outside_division",
                         "%s %s is outside your divisions", k->name, id);
    }
    rw = old;
    rw.doc = json_deep_copy(old.doc);
    Outfall__V1__ChangeResult r = OUTFALL__V1__CHANGE_RESULT__INIT;
    char *before = entity_flags_text(old.doc);
    rc = rw.doc && before ? record_each_leaf(fields, set_leaf, rw.doc) : SYNC_EINTERNAL;
    if (rc) {
        rc = sync_fail(err, SYNC_EINTERNAL, "out_of_memory", "out of memory");
        goto done;
    }
    /* A value of the wrong shape for its field is refused before any rule is asked. */
    ProtobufCMessage *typed = NULL;
    char why[200];
    if (pbjson_from_json(k->desc, rw.doc, &typed, why, sizeof why) != 0) {
        rc = sync_fail(err, SYNC_EINVALID, "invalid_value", "%s", why);
        goto done;
    }
    protobuf_c_message_free_unpacked(typed, NULL);
    if ((rc = k->check(c, &old, &rw, &r, err)) > 0) {
        /* The rules refuse the value a supervisor chose: say why, change nothing. */
        rc = sync_fail(err, SYNC_EINVALID, r.reason ? r.reason : "invalid_value", "%s",
                       r.message ? r.message : "the value breaks a rule");
        goto done;
    }
    if (rc) goto done;
    int forgot = entity_forget_cleared(rw.doc);
    rw.version = old.version + 1;
    json_object_set_new(rw.doc, "version", json_integer(rw.version));
    if ((rc = k->save(c, &rw, 0, err))) goto done;
    if ((rc = history_write_all(c->s, k->name, rw.id, rw.version, fields, a, err))) goto done;
    char *after = entity_flags_text(rw.doc);
    if (!json_object_get(fields, "flags") && after && strcmp(before, after) != 0)
        rc = history_write(c->s, k->name, rw.id, rw.version, "flags",
                           json_object_get(rw.doc, "flags"), a, err);
    free(after);
    if (!rc && forgot)
        rc = history_write(c->s, k->name, rw.id, rw.version, "acknowledged_flags",
                           json_object_get(rw.doc, "acknowledged_flags"), a, err);
    if (!rc && version) *version = rw.version;
done:
    free(r.reason);
    free(r.message);
    free(r.duplicate_of);
    free(before);
    json_decref(rw.doc);
    json_decref(old.doc);
    return rc;
}

void apply_ctx_free(apply_ctx *c) {
    for (size_t i = 0; i < c->n_missing; i++)
        free(c->missing[i]);
    free(c->missing);
    free(c->missing_slots);
    c->missing = NULL;
    c->missing_slots = NULL;
    c->n_missing = c->cap_missing = c->n_slots = 0;
}
