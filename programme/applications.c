#include "sync/replay.h"
#include "programme/applications.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/credit_code.h"
#include "common/util.h"
#include "sync/accounts.h"
#include "sync/photos.h"

#define APP_STATUS(x) OUTFALL__V1__APPLICATION_STATUS__APPLICATION_STATUS_##x
#define APP_AUTH(x) OUTFALL__V1__APPROVAL_AUTHORITY__APPROVAL_AUTHORITY_##x
#define EIA(x) OUTFALL__V1__EIA_LEVEL__EIA_LEVEL_##x

enum { MAX_DOCUMENTS = 50, MAX_TEXT = 200, MAX_COMMENT = 4000 };

/* The basins' authorities: the ecology ministry's basin bureau that decides (三.一.2) and the
 * water ministry's basin commission whose opinion flood-related works need (三.一.3). */
static const struct {
    const char *basin;
    const char *bureau;
    const char *commission;
} basins[] = {
    {"huanghe", "生态环境部黄河流域生态环境监督管理局", "水利部黄河水利委员会"},
    {"haihe", "生态环境部海河流域北海海域生态环境监督管理局", "水利部海河水利委员会"},
};

int applications_authority(const Outfall__V1__OutfallApplication *a, const char *basin_code,
                           const char *division_name, int *authority, char *name, size_t name_cap,
                           char *basis, size_t basis_cap, char *consult, size_t consult_cap) {
    const char *bureau = "生态环境部流域生态环境监督管理局", *commission = "流域管理机构";
    for (size_t i = 0; i < sizeof basins / sizeof basins[0]; i++)
        if (basin_code && strcmp(basin_code, basins[i].basin) == 0) {
            bureau = basins[i].bureau;
            commission = basins[i].commission;
        }
    int level = a->has_eia_level ? (int)a->eia_level : 0;
    if (level == EIA(NATIONAL) || a->provincial_boundary_buffer || a->inter_provincial_dispute) {
        *authority = APP_AUTH(BASIN_BUREAU);
        util_strlcpy(name, bureau, name_cap);
        snprintf(basis, basis_cap, "三.一.2: %s",
                 level == EIA(NATIONAL)          ? "国家审批建设项目"
                 : a->provincial_boundary_buffer ? "位于省界缓冲区河湖"
                                                 : "存在省际争议");
    } else if (level == EIA(PROVINCIAL) || a->inter_city_dispute) {
        *authority = APP_AUTH(PROVINCIAL_DEPARTMENT);
        util_strlcpy(name, "河南省生态环境厅", name_cap);
        snprintf(basis, basis_cap, "三.一.2: %s",
                 level == EIA(PROVINCIAL) ? "省级生态环境部门审批建设项目" : "存在市际争议");
    } else if (level == EIA(CITY)) {
        *authority = APP_AUTH(CITY_BUREAU);
        util_strlcpy(name, "焦作市生态环境局", name_cap);
        util_strlcpy(basis, "三.一.2: 市级生态环境部门审批建设项目", basis_cap);
    } else if (level == EIA(COUNTY)) {
        *authority = APP_AUTH(COUNTY_BUREAU);
        snprintf(name, name_cap, "%s生态环境部门", division_name ? division_name : "");
        util_strlcpy(basis, "三.一.2: 县（市）区生态环境部门审批建设项目", basis_cap);
    } else {
        return -1;
    }
    if (a->affects_flood_control)
        snprintf(consult, consult_cap, "%s或水行政主管部门 (三.一.3)", commission);
    else
        consult[0] = '\0';
    return 0;
}

/* --- helpers ---------------------------------------------------------------------------------- */

/* A malloc'd packed copy of m into *bytes and *len; NULL when out of memory. */
static uint8_t *pack(const ProtobufCMessage *m, size_t *len) {
    *len = protobuf_c_message_get_packed_size(m);
    uint8_t *packed = malloc(*len ? *len : 1);
    if (packed) protobuf_c_message_pack(m, packed);
    return packed;
}

/* A deep copy of a (free with free_unpacked), or NULL. */
static Outfall__V1__OutfallApplication *copy_app(const Outfall__V1__OutfallApplication *a) {
    size_t n;
    uint8_t *packed = pack(&a->base, &n);
    if (!packed) return NULL;
    Outfall__V1__OutfallApplication *c = outfall__v1__outfall_application__unpack(NULL, n, packed);
    free(packed);
    return c;
}

static void set_str(char **field, const char *value) {
    free(*field);
    *field = value ? strdup(value) : NULL;
}

/* Loads application id: its division, status and record. 1 found, 0 not, < 0 on failure. */
static int load_app(store *s, const char *id, char division[8],
                    Outfall__V1__OutfallApplication **out, sync_error *err) {
    sqlite3_stmt *st = store_stmt(s, "SELECT division_code, record FROM applications WHERE id = ?");
    if (!st) return store_fail(s, SQLITE_ERROR, err);
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        if (division) util_strlcpy(division, (const char *)sqlite3_column_text(st, 0), 8);
        *out = outfall__v1__outfall_application__unpack(NULL, (size_t)sqlite3_column_bytes(st, 1),
                                                        sqlite3_column_blob(st, 1));
    }
    sqlite3_reset(st);
    if (rc == SQLITE_ROW)
        return *out ? 1 : sync_fail(err, SYNC_EINTERNAL, "storage_error", "record unreadable");
    return rc == SQLITE_DONE ? 0 : store_fail(s, rc, err);
}

/* A new ApplicationResult holding app (taken), or NULL. */
static Outfall__V1__ApplicationResult *result_new(const char *id, int status,
                                                  Outfall__V1__OutfallApplication *app) {
    Outfall__V1__ApplicationResult *res = malloc(sizeof *res);
    if (!res) return NULL;
    outfall__v1__application_result__init(res);
    res->id = strdup(id);
    res->has_status = 1;
    res->status = status;
    res->application = app;
    return res;
}

/* The stored answer of an earlier request with this id in table `sql`; 1 found (same content),
 * 0 none, < 0 reused with other content or unreadable. */
static int earlier_answer(store *s, const char *sql, const char *id, const uint8_t hash[32],
                          const char *what, Outfall__V1__ApplicationResult **out, sync_error *err) {
    int rc = replay_find(
        s, sql, id, hash, &outfall__v1__application_result__descriptor, (ProtobufCMessage **)out,
        strcmp(what, "application") == 0 ? "application_id_reused" : "decision_id_reused", err);
    if (rc == 1) {
        (*out)->has_status = 1;
        (*out)->status = OUTFALL__V1__CHANGE_STATUS__CHANGE_STATUS_ALREADY_APPLIED;
    }
    return rc;
}

/* Records decision decision_id (hash: its request's) moving application app_id to status `to`,
 * with res, the answer a retry of it gets. Call inside the write transaction. */
static int record_decision(store *s, const char *decision_id, const uint8_t hash[32],
                           const char *app_id, int to, int64_t user_id, const char *comment,
                           int64_t at_ms, const Outfall__V1__ApplicationResult *res,
                           sync_error *err) {
    size_t n;
    uint8_t *packed = pack(&res->base, &n);
    if (!packed) return sync_fail(err, SYNC_EINTERNAL, "out_of_memory", "out of memory");
    sqlite3_stmt *st = store_stmt(s, "INSERT INTO application_decisions (decision_id, "
                                     "content_hash, application_id, to_status, user_id, comment, "
                                     "at_ms, result) VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
    int rc = st ? SQLITE_OK : SQLITE_ERROR;
    if (st) {
        sqlite3_bind_text(st, 1, decision_id, -1, SQLITE_STATIC);
        sqlite3_bind_blob(st, 2, hash, 32, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, app_id, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 4, to);
        sqlite3_bind_int64(st, 5, user_id);
        sqlite3_bind_text(st, 6, comment, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 7, at_ms);
        sqlite3_bind_blob(st, 8, packed, (int)n, SQLITE_STATIC);
        rc = sqlite3_step(st);
        sqlite3_reset(st);
    }
    free(packed);
    return rc == SQLITE_DONE ? 0 : store_fail(s, rc, err);
}

static int is_reviewer(const principal *p) {
    return p->role == OUTFALL__V1__ROLE__ROLE_SUPERVISOR ||
           p->role == OUTFALL__V1__ROLE__ROLE_ADMIN;
}

/* --- filing ----------------------------------------------------------------------------------- */

/* The checks that need no storage. */
static int check_filing(const Outfall__V1__OutfallApplication *a, sync_error *err) {
    if (!util_uuid_valid(a->id))
        return sync_fail(err, SYNC_EINVALID, "invalid_application", "id must be a UUID");
    if (!a->has_kind || a->kind < 1 || a->kind > 3)
        return sync_fail(err, SYNC_EINVALID, "invalid_application",
                         "kind must be SET_UP, CHANGE or ENLARGE");
    if (!a->project_name || !*a->project_name || strlen(a->project_name) > MAX_TEXT)
        return sync_fail(err, SYNC_EINVALID, "invalid_application",
                         "project_name is required (1-%d bytes)", MAX_TEXT);
    const Outfall__V1__ResponsibleParty *u = a->applicant;
    if (!u || !u->name || !*u->name || strlen(u->name) > MAX_TEXT)
        return sync_fail(err, SYNC_EINVALID, "invalid_party",
                         "the applicant needs a name (1-%d bytes)", MAX_TEXT);
    if (!u->credit_code)
        return sync_fail(err, SYNC_EINVALID, "credit_code_required",
                         "applicant %s needs its unified social credit code (统一社会信用代码)",
                         u->name);
    char why[160];
    if (credit_code_validate(u->credit_code, why, sizeof why) != CREDIT_CODE_OK)
        return sync_fail(err, SYNC_EINVALID, "invalid_credit_code", "%s", why);
    const char *texts[] = {u->contact, u->phone, u->address, u->permit_number};
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
        if (texts[i] && strlen(texts[i]) > MAX_TEXT)
            return sync_fail(err, SYNC_EINVALID, "invalid_party",
                             "the applicant's details are at most %d bytes each", MAX_TEXT);
    if (a->has_eia_level && (a->eia_level < 0 || a->eia_level > 4))
        return sync_fail(err, SYNC_EINVALID, "invalid_application", "unknown eia_level");
    if (!a->has_lat || !a->has_lon || !isfinite(a->lat) || !isfinite(a->lon) || a->lat < 34.5 ||
        a->lat > 35.8 || a->lon < 112.3 || a->lon > 114.0)
        return sync_fail(err, SYNC_EINVALID, "invalid_position",
                         "lat/lon (WGS-84) are required and must lie in or near the city");
    if (!a->has_outfall_type || a->outfall_type < 1 || a->outfall_type > 22)
        return sync_fail(err, SYNC_EINVALID, "invalid_application",
                         "outfall_type is required (HJ 1312-2023)");
    if (a->n_document_hashes > MAX_DOCUMENTS)
        return sync_fail(err, SYNC_EINVALID, "invalid_application", "at most %d documents",
                         MAX_DOCUMENTS);
    for (size_t i = 0; i < a->n_document_hashes; i++)
        if (!util_hash_hex_valid(a->document_hashes[i]))
            return sync_fail(err, SYNC_EINVALID, "invalid_application",
                             "document %zu: a photo hash is 64 lowercase hex", i + 1);
    /* 三.一.1: industrial outfalls (HJ 1312 工业排污口, types 1-8) on a section missing its
     * target; the town wastewater plant's (type 9) is the exception. */
    if (a->section_misses_target && a->outfall_type >= 1 && a->outfall_type <= 8)
        return sync_fail(
            err, SYNC_EINVALID, "section_misses_target",
            "三.一.1: the river section misses its water-quality target: no industrial "
            "outfall may be set up, changed or enlarged on it (only a town "
            "wastewater treatment plant's)");
    return 0;
}

/* The division's name into name[cap] and the river's basin into basin[cap]. */
static int lookup_places(store *s, const Outfall__V1__OutfallApplication *a, char *name,
                         char *basin, size_t cap, sync_error *err) {
    sqlite3_stmt *st = store_stmt(s, "SELECT name FROM divisions WHERE code = ?");
    if (!st) return store_fail(s, SQLITE_ERROR, err);
    sqlite3_bind_text(st, 1, a->division_code ? a->division_code : "", -1, SQLITE_STATIC);
    int found = sqlite3_step(st) == SQLITE_ROW;
    if (found) util_strlcpy(name, (const char *)sqlite3_column_text(st, 0), cap);
    sqlite3_reset(st);
    if (!found)
        return sync_fail(err, SYNC_EINVALID, "unknown_division", "no division %.16s",
                         a->division_code ? a->division_code : "");
    st = store_stmt(s, "SELECT basin_code FROM rivers WHERE code = ?");
    if (!st) return store_fail(s, SQLITE_ERROR, err);
    sqlite3_bind_text(st, 1, a->river_code ? a->river_code : "", -1, SQLITE_STATIC);
    found = sqlite3_step(st) == SQLITE_ROW;
    if (found) util_strlcpy(basin, (const char *)sqlite3_column_text(st, 0), cap);
    sqlite3_reset(st);
    if (!found)
        return sync_fail(err, SYNC_EINVALID, "unknown_river", "no river %.40s",
                         a->river_code ? a->river_code : "");
    return 0;
}

int applications_file(store *s, const principal *p, const Outfall__V1__OutfallApplication *a,
                      Outfall__V1__ApplicationResult **out, sync_error *err) {
    *out = NULL;
    const char *target = a->id ? a->id : "";
    char division[96] = "", basin[96] = "", name[160], basis[160], consult[160];
    int authority = 0, rc = 0;
    Outfall__V1__OutfallApplication *app = NULL;
    Outfall__V1__ApplicationResult *res = NULL;
    uint8_t *packed = NULL;
    if (!is_reviewer(p)) {
        rc = sync_fail(err, SYNC_EFORBIDDEN, "forbidden_role", "only supervisors record filings");
        goto refused;
    }
    if ((rc = check_filing(a, err)) || (rc = lookup_places(s, a, division, basin, 96, err)))
        goto refused;
    if (!principal_covers(p, a->division_code)) {
        rc = sync_fail(err, SYNC_EFORBIDDEN, "outside_division",
                       "division %s is outside your divisions", a->division_code);
        goto refused;
    }
    if (applications_authority(a, basin, division, &authority, name, sizeof name, basis,
                               sizeof basis, consult, sizeof consult) < 0) {
        rc = sync_fail(err, SYNC_EINVALID, "eia_level_required",
                       "三.一.2: the EIA's approval level (or a special case) names who decides: "
                       "give eia_level");
        goto refused;
    }
    uint8_t hash[32];
    replay_hash(&a->base, hash);
    if ((rc = store_begin(s, err))) goto refused;
    rc = earlier_answer(s,
                        "SELECT content_hash, (SELECT result FROM application_decisions "
                        "WHERE decision_id = 'filing:' || id) FROM applications WHERE id = ?",
                        a->id, hash, "application", out, err);
    if (rc) {
        store_rollback(s);
        if (rc > 0) return 0;
        goto refused;
    }
    int64_t now = util_now_ms();
    app = copy_app(a);
    if (!app) {
        rc = sync_fail(err, SYNC_EINTERNAL, "out_of_memory", "out of memory");
        goto fail;
    }
    app->has_status = 1;
    app->status = APP_STATUS(RECEIVED);
    app->has_authority = 1;
    app->authority = authority;
    set_str(&app->authority_name, name);
    set_str(&app->authority_basis, basis);
    set_str(&app->consult, consult[0] ? consult : NULL);
    set_str(&app->decision_comment, NULL);
    set_str(&app->decision_document_number, NULL);
    set_str(&app->decision_document_hash, NULL);
    app->has_decided_elsewhere = 0;
    app->has_decided_at_ms = 0;
    app->has_received_at_ms = 1;
    app->received_at_ms = now;
    app->has_version = 1;
    app->version = 1;
    size_t n;
    if (!(packed = pack(&app->base, &n))) {
        rc = sync_fail(err, SYNC_EINTERNAL, "out_of_memory", "out of memory");
        goto fail;
    }
    sqlite3_stmt *st = store_stmt(s, "INSERT INTO applications (id, content_hash, division_code, "
                                     "status, version, user_id, received_at_ms, record) "
                                     "VALUES (?, ?, ?, ?, 1, ?, ?, ?)");
    if (!st) {
        rc = store_fail(s, SQLITE_ERROR, err);
        goto fail;
    }
    sqlite3_bind_text(st, 1, a->id, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 2, hash, 32, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, a->division_code, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 4, APP_STATUS(RECEIVED));
    sqlite3_bind_int64(st, 5, p->user_id);
    sqlite3_bind_int64(st, 6, now);
    sqlite3_bind_blob(st, 7, packed, (int)n, SQLITE_STATIC);
    if ((rc = sqlite3_step(st)) != SQLITE_DONE) {
        rc = store_fail(s, rc, err);
        goto fail;
    }
    res = result_new(a->id, OUTFALL__V1__CHANGE_STATUS__CHANGE_STATUS_APPLIED, app);
    if (!res) {
        rc = sync_fail(err, SYNC_EINTERNAL, "out_of_memory", "out of memory");
        goto fail;
    }
    app = NULL;
    /* The first answer, kept as a pseudo-decision so a retry answers it as it was. */
    char fid[64];
    snprintf(fid, sizeof fid, "filing:%s", a->id);
    if ((rc = record_decision(s, fid, hash, a->id, APP_STATUS(RECEIVED), p->user_id, NULL, now, res,
                              err)))
        goto fail;
    audit_record(s, p, "applications.file", a->id, "ok", name);
    if ((rc = store_commit(s, err))) goto fail;
    free(packed);
    *out = res;
    return 0;
fail:
    store_rollback(s);
refused:
    free(packed);
    if (app) protobuf_c_message_free_unpacked(&app->base, NULL);
    if (res) protobuf_c_message_free_unpacked(&res->base, NULL);
    audit_record(s, p, "applications.file", target, err->code, err->message);
    return rc;
}

/* --- decisions -------------------------------------------------------------------------------- */

/* The statuses a decision may move from, indexed by the status it moves to. */
static const int allowed_from[] = {
    [APP_STATUS(UNDER_REVIEW)] = APP_STATUS(RECEIVED),
    [APP_STATUS(APPROVED)] = APP_STATUS(UNDER_REVIEW),
    [APP_STATUS(REFUSED)] = APP_STATUS(UNDER_REVIEW),
};
static const char *const status_names[] = {"UNSPECIFIED", "RECEIVED", "UNDER_REVIEW", "APPROVED",
                                           "REFUSED"};

/* 1 when authority lies outside the city (the province, a basin bureau): the city records its
 * decision, never makes it. */
static int authority_is_outside(int authority) {
    return authority == APP_AUTH(BASIN_BUREAU) || authority == APP_AUTH(PROVINCIAL_DEPARTMENT);
}

/* Checks d's decision document (批复文号 and the document photo's hash): both or neither; a number
 * of at most 100 bytes without control characters; a hash of a photo p has uploaded (it proves p
 * holds the document). Returns 0 (*given set to 1 when both came), or decision_document_required
 * (400). */
static int check_document(store *s, const principal *p, const Outfall__V1__ApplicationDecision *d,
                          int *given, sync_error *err) {
    int has_number = d->document_number && *d->document_number,
        has_hash = d->document_hash && *d->document_hash;
    *given = has_number && has_hash;
    if (!has_number && !has_hash) return 0;
    if (!has_number || !has_hash)
        return sync_fail(err, SYNC_EINVALID, "decision_document_required",
                         "a decision document needs both its 批复文号 (document_number) and the "
                         "hash of its stored photo (document_hash)");
    int bad_text = strlen(d->document_number) > 100;
    for (const unsigned char *c = (const unsigned char *)d->document_number; *c; c++)
        bad_text |= *c < 0x20 || *c == 0x7f;
    if (bad_text)
        return sync_fail(err, SYNC_EINVALID, "decision_document_required",
                         "document_number is at most 100 bytes of text without control characters");
    if (!util_hash_hex_valid(d->document_hash))
        return sync_fail(err, SYNC_EINVALID, "decision_document_required",
                         "document_hash must be 64 lowercase hex digits (BLAKE2b-256)");
    const char **missing = NULL;
    size_t n_missing = 0;
    char *hashes[] = {d->document_hash};
    int rc = photos_missing(s, p, hashes, 1, &missing, &n_missing, err);
    free(missing);
    if (rc) return rc;
    if (n_missing)
        return sync_fail(err, SYNC_EINVALID, "decision_document_required",
                         "the document photo %.64s is not stored as yours: upload it first "
                         "(POST /v1/photos), then record the decision",
                         d->document_hash);
    return 0;
}

/* Who decides application app (三.一.2, issue 18), for p's decision d moving it to `to`:
 * UNDER_REVIEW is any covering reviewer's step. A final decision (APPROVED, REFUSED) of an
 * authority outside the city (province, basin bureau) is recorded, never made, by the city: it
 * needs the outside decision's document (number and stored photo) and a comment, and is marked
 * decided_elsewhere; without a document it is application_decided_elsewhere (409). A city
 * bureau's application is decided by a city-wide account only (application_decided_elsewhere for
 * a county's). A county bureau's by any reviewer covering it. Returns 0, or a refusal; on 0
 * *elsewhere says whether the decision is an outside one being recorded and *documented whether a
 * document came. */
static int check_authority(store *s, const principal *p, const Outfall__V1__OutfallApplication *app,
                           const Outfall__V1__ApplicationDecision *d, int to, int *elsewhere,
                           int *documented, sync_error *err) {
    int authority = app->has_authority ? (int)app->authority : 0;
    const char *name = app->authority_name ? app->authority_name : "";
    *elsewhere = 0;
    int rc = check_document(s, p, d, documented, err);
    if (rc) return rc;
    if (to == APP_STATUS(UNDER_REVIEW)) {
        if (*documented)
            return sync_fail(
                err, SYNC_EINVALID, "invalid_decision",
                "a decision document belongs to APPROVED or REFUSED, not UNDER_REVIEW");
        return 0;
    }
    if (authority_is_outside(authority)) {
        if (!*documented)
            return sync_fail(err, SYNC_ECONFLICT, "application_decided_elsewhere",
                             "三.一.2: application %s is decided by %s, not by the city: record "
                             "its decision with the 批复文号 (document_number), the hash of the "
                             "document's photo (document_hash) and a comment",
                             app->id, name);
        if (!d->comment || !*d->comment)
            return sync_fail(err, SYNC_EINVALID, "comment_required",
                             "recording %s's decision needs a comment", name);
        *elsewhere = 1;
        return 0;
    }
    if (authority == APP_AUTH(CITY_BUREAU) && !principal_all_divisions(p))
        return sync_fail(err, SYNC_ECONFLICT, "application_decided_elsewhere",
                         "三.一.2: application %s is decided by %s: a county account cannot "
                         "approve or refuse it",
                         app->id, name);
    return 0;
}

int applications_decide(store *s, const principal *p, const Outfall__V1__ApplicationDecision *d,
                        Outfall__V1__ApplicationResult **out, sync_error *err) {
    *out = NULL;
    const char *target = d->application_id ? d->application_id : "";
    const char *action = "applications.decide";
    Outfall__V1__OutfallApplication *app = NULL;
    Outfall__V1__ApplicationResult *res = NULL;
    uint8_t *packed = NULL;
    char division[8];
    int rc;
    if (!is_reviewer(p)) {
        rc = sync_fail(err, SYNC_EFORBIDDEN, "forbidden_role", "only supervisors decide");
        goto refused;
    }
    if (!util_uuid_valid(d->decision_id) || !util_uuid_valid(d->application_id)) {
        rc = sync_fail(err, SYNC_EINVALID, "invalid_decision",
                       "decision_id and application_id must be UUIDs");
        goto refused;
    }
    int to = d->has_to_status ? (int)d->to_status : 0;
    if (to < APP_STATUS(UNDER_REVIEW) || to > APP_STATUS(REFUSED)) {
        rc = sync_fail(err, SYNC_EINVALID, "invalid_decision",
                       "to_status must be UNDER_REVIEW, APPROVED or REFUSED");
        goto refused;
    }
    if (d->comment && strlen(d->comment) > MAX_COMMENT) {
        rc = sync_fail(err, SYNC_EINVALID, "invalid_decision", "a comment is at most %d bytes",
                       MAX_COMMENT);
        goto refused;
    }
    if (to == APP_STATUS(REFUSED) && (!d->comment || !*d->comment)) {
        rc = sync_fail(err, SYNC_EINVALID, "comment_required",
                       "a refusal says why, for the applicant and the public");
        goto refused;
    }
    uint8_t hash[32];
    replay_hash(&d->base, hash);
    if ((rc = store_begin(s, err))) goto refused;
    if ((rc = load_app(s, d->application_id, division, &app, err)) <= 0) {
        if (rc == 0)
            rc =
                sync_fail(err, SYNC_ENOTFOUND, "not_found", "no application %s", d->application_id);
        goto fail;
    }
    if (!principal_covers(p, division)) {
        rc = sync_fail(err, SYNC_EFORBIDDEN, "outside_division",
                       "application %s is outside your divisions", d->application_id);
        goto fail;
    }
    rc = earlier_answer(s,
                        "SELECT content_hash, result FROM application_decisions "
                        "WHERE decision_id = ?",
                        d->decision_id, hash, "decision", out, err);
    if (rc) {
        store_rollback(s);
        protobuf_c_message_free_unpacked(&app->base, NULL);
        if (rc > 0) return 0;
        app = NULL;
        goto refused;
    }
    int from = app->has_status ? (int)app->status : 0;
    if (from != allowed_from[to]) {
        rc = sync_fail(err, SYNC_ECONFLICT, "status_not_allowed",
                       "application %s is %s: it cannot move to %s", d->application_id,
                       status_names[from >= 0 && from <= 4 ? from : 0], status_names[to]);
        goto fail;
    }
    int elsewhere = 0, documented = 0;
    if ((rc = check_authority(s, p, app, d, to, &elsewhere, &documented, err))) goto fail;
    if (elsewhere) action = "applications.record_outside_decision";
    int64_t now = util_now_ms();
    app->status = to;
    app->version++;
    if (to != APP_STATUS(UNDER_REVIEW)) {
        set_str(&app->decision_comment, d->comment && *d->comment ? d->comment : NULL);
        app->has_decided_at_ms = 1;
        app->decided_at_ms = now;
        set_str(&app->decision_document_number, documented ? d->document_number : NULL);
        set_str(&app->decision_document_hash, documented ? d->document_hash : NULL);
        app->has_decided_elsewhere = elsewhere;
        app->decided_elsewhere = elsewhere;
    }
    size_t n;
    if (!(packed = pack(&app->base, &n))) {
        rc = sync_fail(err, SYNC_EINTERNAL, "out_of_memory", "out of memory");
        goto fail;
    }
    sqlite3_stmt *st = store_stmt(s, "UPDATE applications SET status = ?, version = ?, record = ? "
                                     "WHERE id = ?");
    if (!st) {
        rc = store_fail(s, SQLITE_ERROR, err);
        goto fail;
    }
    sqlite3_bind_int(st, 1, to);
    sqlite3_bind_int64(st, 2, app->version);
    sqlite3_bind_blob(st, 3, packed, (int)n, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, d->application_id, -1, SQLITE_STATIC);
    if ((rc = sqlite3_step(st)) != SQLITE_DONE) {
        rc = store_fail(s, rc, err);
        goto fail;
    }
    res = result_new(d->decision_id, OUTFALL__V1__CHANGE_STATUS__CHANGE_STATUS_APPLIED, app);
    if (!res) {
        rc = sync_fail(err, SYNC_EINTERNAL, "out_of_memory", "out of memory");
        goto fail;
    }
    app = NULL;
    if ((rc = record_decision(s, d->decision_id, hash, d->application_id, to, p->user_id,
                              d->comment, now, res, err)))
        goto fail;
    if (elsewhere) {
        char detail[400];
        snprintf(detail, sizeof detail, "%s by %s, %s, document %s: %s", status_names[to],
                 res->application->authority_name ? res->application->authority_name : "",
                 d->document_number, d->document_hash, d->comment);
        audit_record(s, p, action, d->application_id, "ok", detail);
    } else {
        audit_record(s, p,
                     to == APP_STATUS(APPROVED)  ? "applications.approve"
                     : to == APP_STATUS(REFUSED) ? "applications.refuse"
                                                 : "applications.review",
                     d->application_id, "ok", d->comment);
    }
    if ((rc = store_commit(s, err))) goto fail;
    free(packed);
    *out = res;
    return 0;
fail:
    store_rollback(s);
refused:
    free(packed);
    if (app) protobuf_c_message_free_unpacked(&app->base, NULL);
    if (res) protobuf_c_message_free_unpacked(&res->base, NULL);
    audit_record(s, p, action, target, err->code, err->message);
    return rc;
}

int applications_read(store *s, const char *id, int public_view,
                      Outfall__V1__OutfallApplication **out, sync_error *err) {
    *out = NULL;
    if (!util_uuid_valid(id)) return sync_fail(err, SYNC_ENOTFOUND, "not_found", "no application");
    int rc = load_app(s, id, NULL, out, err);
    if (rc == 0) return sync_fail(err, SYNC_ENOTFOUND, "not_found", "no application %s", id);
    if (rc < 0) return rc;
    if (public_view && (*out)->applicant) {
        set_str(&(*out)->applicant->contact, NULL);
        set_str(&(*out)->applicant->phone, NULL);
    }
    return 0;
}

/* --- the list --------------------------------------------------------------------------------- */

/* Reads a page token "<received_at_ms>.<id>" into *ms and id; 0, or -1 when it is not one. */
static int page_token_parse(const char *token, int64_t *ms, char id[UUID_STR_LEN + 1]) {
    char *end = NULL;
    long long v = strtoll(token, &end, 10);
    if (end == token || *end != '.' || v < 0 || !util_uuid_valid(end + 1)) return -1;
    *ms = v;
    util_strlcpy(id, end + 1, UUID_STR_LEN + 1);
    return 0;
}

int applications_list(store *s, const principal *p, const application_query *q,
                      Outfall__V1__ApplicationList **out, sync_error *err) {
    *out = NULL;
    int limit = q->limit <= 0 ? 50 : q->limit > 500 ? 500 : q->limit;
    int64_t after_ms = 0;
    char after_id[UUID_STR_LEN + 1] = "";
    if (q->status < 0 || q->status > APP_STATUS(REFUSED))
        return sync_fail(err, SYNC_EINVALID, "invalid_argument",
                         "status must be RECEIVED, UNDER_REVIEW, APPROVED or REFUSED");
    if (q->page_token && page_token_parse(q->page_token, &after_ms, after_id))
        return sync_fail(err, SYNC_EINVALID, "invalid_argument",
                         "page_token is not one this list handed out");
    if (q->division_code) {
        sqlite3_stmt *st = store_stmt(s, "SELECT 1 FROM divisions WHERE code = ?");
        if (!st) return store_fail(s, SQLITE_ERROR, err);
        sqlite3_bind_text(st, 1, q->division_code, -1, SQLITE_STATIC);
        int known = sqlite3_step(st) == SQLITE_ROW;
        sqlite3_reset(st);
        if (!known)
            return sync_fail(err, SYNC_EINVALID, "unknown_division", "no division %.16s",
                             q->division_code);
        if (!principal_covers(p, q->division_code))
            return sync_fail(err, SYNC_EFORBIDDEN, "outside_division",
                             "division %s is outside your divisions", q->division_code);
    }
    Outfall__V1__ApplicationList *list = malloc(sizeof *list);
    if (list) {
        outfall__v1__application_list__init(list);
        list->applications = calloc((size_t)limit, sizeof *list->applications);
    }
    if (!list || !list->applications) {
        free(list);
        return sync_fail(err, SYNC_EINTERNAL, "out_of_memory", "out of memory");
    }
    sqlite3_stmt *st =
        store_stmt(s, "SELECT division_code, received_at_ms, id, record FROM applications "
                      "WHERE (?1 = 0 OR status = ?1) AND (?2 IS NULL OR division_code = ?2) "
                      "AND (?3 = '' OR received_at_ms < ?4 OR (received_at_ms = ?4 AND id < ?3)) "
                      "ORDER BY received_at_ms DESC, id DESC");
    int rc = st ? SQLITE_OK : SQLITE_ERROR;
    if (st) {
        sqlite3_bind_int(st, 1, q->status);
        sqlite3_bind_text(st, 2, q->division_code, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, after_id, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 4, after_ms);
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            if (!principal_covers(p, (const char *)sqlite3_column_text(st, 0))) continue;
            if ((int)list->n_applications == limit) { /* one more: there is a next page */
                const Outfall__V1__OutfallApplication *last =
                    list->applications[list->n_applications - 1];
                char token[80];
                snprintf(token, sizeof token, "%lld.%s", (long long)last->received_at_ms, last->id);
                list->next_page_token = strdup(token);
                rc = SQLITE_DONE;
                break;
            }
            Outfall__V1__OutfallApplication *a = outfall__v1__outfall_application__unpack(
                NULL, (size_t)sqlite3_column_bytes(st, 3), sqlite3_column_blob(st, 3));
            if (!a) {
                rc = SQLITE_CORRUPT;
                break;
            }
            if (q->public_view && a->applicant) {
                set_str(&a->applicant->contact, NULL);
                set_str(&a->applicant->phone, NULL);
            }
            list->applications[list->n_applications++] = a;
        }
        sqlite3_reset(st);
    }
    if (rc != SQLITE_DONE) {
        protobuf_c_message_free_unpacked(&list->base, NULL);
        return store_fail(s, rc, err);
    }
    *out = list;
    return 0;
}
