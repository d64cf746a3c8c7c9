/* Review: a supervisor's decisions on a duplicate pair (keep apart, merge), called by
 * review_decide (sync/review.c) inside its transaction. */
#include <stdlib.h>
#include <string.h>

#include "common/credit_code.h"
#include "common/util.h"
#include "sync/record.h"
#include "sync/review_internal.h"

/* Loads the duplicate pair named by the decision; the decided outfall must be one of it. */
static int load_pair(decide_ctx *dc, char a[UUID_STR_LEN + 1], char b[UUID_STR_LEN + 1],
                     sync_error *err) {
    sqlite3_stmt *st =
        store_stmt(dc->s, "SELECT outfall_id, neighbour_id, state FROM duplicates WHERE id = ?");
    if (!st) return store_fail(dc->s, SQLITE_ERROR, err);
    sqlite3_bind_int64(st, 1, dc->d->duplicate_id);
    if (sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_reset(st);
        return sync_fail(err, SYNC_ENOTFOUND, "not_found", "no duplicate pair %lld",
                         (long long)dc->d->duplicate_id);
    }
    util_strlcpy(a, (const char *)sqlite3_column_text(st, 0), UUID_STR_LEN + 1);
    util_strlcpy(b, (const char *)sqlite3_column_text(st, 1), UUID_STR_LEN + 1);
    int open = strcmp((const char *)sqlite3_column_text(st, 2), "open") == 0;
    sqlite3_reset(st);
    if (!open)
        return sync_fail(err, SYNC_ECONFLICT, "not_open", "duplicate pair %lld was decided already",
                         (long long)dc->d->duplicate_id);
    if (strcmp(dc->id, a) != 0 && strcmp(dc->id, b) != 0)
        return sync_fail(err, SYNC_EINVALID, "invalid_decision",
                         "outfall %s is not one of duplicate pair %lld", dc->id,
                         (long long)dc->d->duplicate_id);
    return 0;
}

/* Closes pair(s) with state; with `all_of`, every open pair naming that outfall. */
static int close_pairs(decide_ctx *dc, const char *state, const char *all_of, sync_error *err) {
    sqlite3_stmt *st = store_stmt(dc->s, "UPDATE duplicates SET state = ?1, decision_id = ?2 "
                                         "WHERE state = 'open' AND (id = ?3 OR outfall_id = ?4 "
                                         "OR neighbour_id = ?4)");
    if (!st) return store_fail(dc->s, SQLITE_ERROR, err);
    sqlite3_bind_text(st, 1, state, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, dc->d->decision_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, dc->d->duplicate_id);
    sqlite3_bind_text(st, 4, all_of, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    return rc == SQLITE_DONE ? 0 : store_fail(dc->s, rc, err);
}

/* Clears the duplicate_suspect flag of outfall id once no open pair names it as the suspect, and
 * sets the fields of taken (borrowed, may be NULL: leaf path -> value, a merge's fields from the
 * other record) in the same version; a record approved at its latest version stays approved at
 * the new one (the supervisor chose the values), unless a responsible party taken has an invalid
 * credit code (approval refuses those). Always writes a new version, so phones hear of
 * the decision. */
static int settle_suspect(decide_ctx *dc, const char *id, json_t *taken, sync_error *err) {
    int rc = review_load_outfall(dc, id);
    if (rc <= 0) return rc < 0 ? store_fail(dc->s, SQLITE_ERROR, err) : 0;
    int still = review_count(dc->s,
                             "SELECT count(*) FROM duplicates WHERE state = 'open' AND "
                             "outfall_id = ?",
                             id, NULL) > 0;
    json_t *flags = still ? json_incref(json_object_get(dc->doc, "flags"))
                          : review_flags_without(dc->doc, "duplicate_suspect");
    json_t *fields = taken ? json_deep_copy(taken) : json_object();
    if (!fields) {
        json_decref(flags);
        return sync_fail(err, SYNC_EINTERNAL, "out_of_memory", "out of memory");
    }
    json_object_set_new(fields, "flags", flags ? flags : json_null());
    /* As approval would: never pin a responsible party whose credit code is invalid. */
    const char *credit =
        taken ? json_string_value(json_object_get(taken, "responsible_party.credit_code")) : NULL;
    int credit_ok = !credit || !*credit || credit_code_validate(credit, NULL, 0) == CREDIT_CODE_OK;
    if (taken && json_object_size(taken) && credit_ok && dc->approved > 0 &&
        dc->approved == dc->version)
        json_object_set_new(fields, "approved_version", json_integer(dc->version + 1));
    rc = review_set_fields(dc, "outfall", id, fields, err);
    json_decref(fields);
    return rc;
}

/* The fields a merge may take from the other record (Decision.take_from_other): the name the
 * decision gives and the record's fields it stands for. */
static const struct {
    const char *name;
    const char *fields[5];
} merge_takes[] = {
    {"position", {"lat", "lon", "accuracy_m", "position_by_hand", NULL}},
    {"type", {"type", NULL}},
    {"name", {"name", NULL}},
    {"landmark", {"landmark", NULL}},
    {"entry_method", {"entry_method", NULL}},
    {"discharge_regime", {"discharge_regime", NULL}},
    {"responsible_party", {"responsible_party", NULL}},
    {"survey_level", {"survey_level", NULL}},
    {"river_code", {"river_code", NULL}},
    {"division_code", {"division_code", NULL}},
};

/* record_each_leaf callbacks filling a leaf path -> value object: a survivor's leaf is cleared
 * (JSON null) unless already set; the other record's leaf is taken as it is. */
static int take_cleared(const char *path, json_t *value, void *taken) {
    (void)value;
    return json_object_get(taken, path) ? 0 : json_object_set_new(taken, path, json_null());
}
static int take_value(const char *path, json_t *value, void *taken) {
    return json_object_set(taken, path, value);
}

/* The values the survivor takes from the other record by decision d, as an object of leaf path
 * -> value (JSON null: absent in the other record, so cleared) into *out (new reference; empty
 * when the decision takes nothing). Whole fields move: a responsible party the other record
 * lacks a leaf of loses it. Returns 0, or invalid_decision (400) for a name not in merge_takes,
 * writing nothing. */
static int merge_taken(const Outfall__V1__Decision *d, json_t *survivor, json_t *other,
                       json_t **out, sync_error *err) {
    *out = NULL;
    json_t *taken = json_object();
    if (!taken) return sync_fail(err, SYNC_EINTERNAL, "out_of_memory", "out of memory");
    for (size_t i = 0; i < d->n_take_from_other; i++) {
        size_t t = 0, n_takes = sizeof merge_takes / sizeof merge_takes[0];
        while (t < n_takes && strcmp(merge_takes[t].name, d->take_from_other[i]) != 0)
            t++;
        if (t == n_takes) {
            json_decref(taken);
            return sync_fail(err, SYNC_EINVALID, "invalid_decision",
                             "take_from_other: \"%.40s\" is not a field a merge takes (position, "
                             "type, name, landmark, entry_method, discharge_regime, "
                             "responsible_party, survey_level, river_code, division_code)",
                             d->take_from_other[i]);
        }
        for (const char *const *f = merge_takes[t].fields; *f; f++) {
            json_t *mine = json_pack("{s:O*}", *f, json_object_get(survivor, *f));
            json_t *theirs = json_pack("{s:O*}", *f, json_object_get(other, *f));
            int rc = mine && theirs ? record_each_leaf(mine, take_cleared, taken) ||
                                          record_each_leaf(theirs, take_value, taken)
                                    : -1;
            json_decref(mine);
            json_decref(theirs);
            if (rc) {
                json_decref(taken);
                return sync_fail(err, SYNC_EINTERNAL, "out_of_memory", "out of memory");
            }
        }
    }
    *out = taken;
    return 0;
}

/* A pair is decided only by a supervisor covering both its records: across two divisions, the
 * city. Loads each of a and b in turn (the context holds b after). Returns 0 or a code:
 * not_found, duplicate_cross_county_city_decides (403, the pair spans two divisions),
 * outside_division (403). */
static int pair_covered(decide_ctx *dc, const char *a, const char *b, sync_error *err) {
    char divisions[2][sizeof dc->division];
    for (int i = 0; i < 2; i++) {
        const char *id = i ? b : a;
        int rc = review_load_outfall(dc, id);
        if (rc <= 0)
            return rc < 0 ? store_fail(dc->s, SQLITE_ERROR, err)
                          : sync_fail(err, SYNC_ENOTFOUND, "not_found", "no outfall %s", id);
        util_strlcpy(divisions[i], dc->division, sizeof divisions[i]);
    }
    int split = strcmp(divisions[0], divisions[1]) != 0;
    for (int i = 0; i < 2; i++) {
        if (principal_covers(dc->p, divisions[i])) continue;
        if (split)
            return sync_fail(err, SYNC_EFORBIDDEN, "duplicate_cross_county_city_decides",
                             "the pair spans divisions %s and %s: the city decides it (a "
                             "supervisor covering both)",
                             divisions[0], divisions[1]);
        return sync_fail(err, SYNC_EFORBIDDEN, "outside_division",
                         "outfall %s is outside your divisions", i ? b : a);
    }
    return 0;
}

/* Keeps the pair apart (contract in sync/review_internal.h). */
int review_merge_keep_apart(decide_ctx *dc, sync_error *err) {
    char a[UUID_STR_LEN + 1], b[UUID_STR_LEN + 1];
    int rc = load_pair(dc, a, b, err);
    if (rc || (rc = pair_covered(dc, a, b, err)) || (rc = close_pairs(dc, "kept_apart", "", err)))
        return rc;
    return settle_suspect(dc, a, NULL, err);
}

/* Merges the pair into survivor_id (contract in sync/review_internal.h). */
int review_merge_decide(decide_ctx *dc, sync_error *err) {
    char a[UUID_STR_LEN + 1], b[UUID_STR_LEN + 1], survivor[UUID_STR_LEN + 1],
        other[UUID_STR_LEN + 1];
    int rc = load_pair(dc, a, b, err);
    if (rc) return rc;
    const char *want = dc->d->survivor_id ? dc->d->survivor_id : "";
    if (strcmp(want, a) != 0 && strcmp(want, b) != 0)
        return sync_fail(err, SYNC_EINVALID, "invalid_decision",
                         "survivor_id must be one of the pair (%s or %s)", a, b);
    util_strlcpy(survivor, want, sizeof survivor);
    util_strlcpy(other, strcmp(want, a) == 0 ? b : a, sizeof other);
    if ((rc = pair_covered(dc, survivor, other, err))) return rc;
    json_t *survivor_doc = NULL;
    for (int i = 0; i < 2; i++) {
        const char *id = i ? other : survivor;
        if ((rc = review_load_outfall(dc, id)) <= 0) {
            json_decref(survivor_doc);
            return rc < 0 ? store_fail(dc->s, SQLITE_ERROR, err)
                          : sync_fail(err, SYNC_ENOTFOUND, "not_found", "no outfall %s", id);
        }
        if (dc->merged) {
            json_decref(survivor_doc);
            return sync_fail(err, SYNC_ECONFLICT, "merged", "outfall %s was merged already", id);
        }
        if (i == 0) survivor_doc = json_incref(dc->doc);
    }
    /* The fields the survivor takes from the other, read before the other becomes a redirect. */
    json_t *taken = NULL;
    rc = merge_taken(dc->d, survivor_doc, dc->doc, &taken, err);
    json_decref(survivor_doc);
    if (rc) return rc;
    /* The other's observations (and with them their photos) move to the survivor. */
    char(*obs)[UUID_STR_LEN + 1] = NULL;
    size_t n = 0, cap = 0;
    sqlite3_stmt *st = store_stmt(dc->s, "SELECT id FROM observations WHERE outfall_id = ?");
    if (!st) {
        json_decref(taken);
        return store_fail(dc->s, SQLITE_ERROR, err);
    }
    sqlite3_bind_text(st, 1, other, -1, SQLITE_STATIC);
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (n == cap) {
            void *grown = realloc(obs, (cap = cap ? 2 * cap : 8) * sizeof *obs);
            if (!grown) break;
            obs = grown;
        }
        util_strlcpy(obs[n++], (const char *)sqlite3_column_text(st, 0), sizeof obs[0]);
    }
    sqlite3_reset(st);
    json_t *move = json_pack("{s:s}", "outfall_id", survivor);
    for (size_t i = 0; i < n && !rc; i++)
        rc = review_set_fields(dc, "observation", obs[i], move, err);
    json_decref(move);
    free(obs);

    /* The other becomes a redirect; later phone edits addressed to it reach the survivor. */
    if (!rc) {
        json_t *fields = json_pack("{s:s, s:o}", "merged_into", survivor, "flags",
                                   review_flags_without(dc->doc, "duplicate_suspect"));
        rc = fields ? review_set_fields(dc, "outfall", other, fields, err)
                    : sync_fail(err, SYNC_EINTERNAL, "out_of_memory", "out of memory");
        json_decref(fields);
    }
    if (!rc) rc = close_pairs(dc, "merged", other, err);
    if (!rc) {
        util_strlcpy(dc->answer_id, survivor, sizeof dc->answer_id);
        rc = settle_suspect(dc, survivor, taken, err);
    }
    json_decref(taken);
    return rc;
}
