#include "sync/replay.h"
#include "programme/lifecycle.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "common/credit_code.h"
#include "common/pbjson.h"
#include "common/util.h"
#include "sync/accounts.h"
#include "sync/apply.h"
#include "sync/feed.h"
#include "sync/history.h"
#include "sync/photos.h"
#include "sync/record.h"
#include "programme/rules.h"
#include "programme/zones.h"

#define MAX_NOTE_BYTES RULES_MAX_NOTE_BYTES

enum {
    FOUND = OUTFALL__V1__LIFECYCLE_STAGE__LIFECYCLE_STAGE_FOUND,
    TRACED = OUTFALL__V1__LIFECYCLE_STAGE__LIFECYCLE_STAGE_TRACED,
    PLANNED = OUTFALL__V1__LIFECYCLE_STAGE__LIFECYCLE_STAGE_PLANNED,
    REMEDIATED = OUTFALL__V1__LIFECYCLE_STAGE__LIFECYCLE_STAGE_REMEDIATED,
    CLOSED = OUTFALL__V1__LIFECYCLE_STAGE__LIFECYCLE_STAGE_CLOSED,
    RETAINED = OUTFALL__V1__LIFECYCLE_STAGE__LIFECYCLE_STAGE_RETAINED,
};

enum {
    BAN = OUTFALL__V1__REMEDIATION_MEASURE__REMEDIATION_MEASURE_BAN,
    MERGE = OUTFALL__V1__REMEDIATION_MEASURE__REMEDIATION_MEASURE_MERGE,
    REGULARIZE = OUTFALL__V1__REMEDIATION_MEASURE__REMEDIATION_MEASURE_REGULARIZE,
    NONE = OUTFALL__V1__REMEDIATION_MEASURE__REMEDIATION_MEASURE_NONE,
};

/* One transition in progress: the outfall as loaded at its start and the fields it will set. */
typedef struct tctx {
    store *s;
    const sync_config *cfg;
    const principal *p;
    const Outfall__V1__LifecycleTransition *t;
    apply_ctx ac;
    history_author a;
    char id[UUID_STR_LEN + 1];
    char division[8];
    int64_t version, approved, created_ms;
    int review_state, merged;
    json_t *doc;         /* the record now */
    int from;            /* its stage */
    char date[11];       /* the transition's effective date */
    json_t *fields;      /* leaf path -> new value (JSON null clears), for apply_set_fields */
    char first[11];      /* the day of the outfall's first field observation */
    int backdated_days;  /* how far the date reaches back before the recording, past the limit */
    int evidence_stored; /* the evidence hash names a stored photo */
} tctx;

/* --- dates ------------------------------------------------------------------------------------ */

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar (H. Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

int lifecycle_date_days(const char *text, int64_t *days) {
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (!text || strlen(text) != 10 || text[4] != '-' || text[7] != '-') return -1;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (text[i] < '0' || text[i] > '9')) return -1;
    int y = atoi(text), m = atoi(text + 5), d = atoi(text + 8);
    if (y < 1900 || y > 2999 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1]) return -1;
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (m == 2 && d == 29 && !leap) return -1;
    if (days) *days = days_from_civil(y, (unsigned)m, (unsigned)d);
    return 0;
}

const char *lifecycle_stage_name(int stage) {
    const ProtobufCEnumValue *v =
        protobuf_c_enum_descriptor_get_value(&outfall__v1__lifecycle_stage__descriptor, stage);
    return v ? v->name + strlen("LIFECYCLE_STAGE_") : "UNSPECIFIED";
}

/* --- the record ------------------------------------------------------------------------------- */

static const char *doc_str(json_t *doc, const char *path) {
    return json_string_value(record_get(doc, path));
}

static int stage_of(json_t *doc) {
    int stage = record_enum(doc, "programme.stage", &outfall__v1__lifecycle_stage__descriptor);
    return stage ? stage : FOUND;
}

static int measure_of(json_t *doc) {
    return record_enum(doc, "programme.plan.measure",
                       &outfall__v1__remediation_measure__descriptor);
}

static const char *enum_name(const ProtobufCEnumDescriptor *d, int value) {
    const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(d, value);
    return v ? v->name : NULL;
}

/* Sets leaf path to v in the transition's fields (v stolen; NULL clears the field). */
static void put(tctx *tc, const char *path, json_t *v) {
    json_object_set_new(tc->fields, path, v ? v : json_null());
}

struct subtree {
    tctx *tc;
    const char *prefix;
    json_t *keep; /* the new subtree: leaves of the old one it lacks are cleared */
};

static int clear_missing(const char *path, json_t *value, void *ctx) {
    struct subtree *st = ctx;
    (void)value;
    if (!st->keep || !record_get(st->keep, path)) {
        char full[256];
        snprintf(full, sizeof full, "%s.%s", st->prefix, path);
        put(st->tc, full, NULL);
    }
    return 0;
}

static int set_leaf(const char *path, json_t *value, void *ctx) {
    struct subtree *st = ctx;
    char full[256];
    snprintf(full, sizeof full, "%s.%s", st->prefix, path);
    put(st->tc, full, json_incref(value));
    return 0;
}

/* Replaces the subtree at prefix with obj (borrowed; NULL removes it), leaf by leaf, so the
 * field history can rebuild any version exactly. */
static void replace_subtree(tctx *tc, const char *prefix, json_t *obj) {
    struct subtree st = {tc, prefix, obj};
    json_t *old = record_get(tc->doc, prefix);
    if (json_is_object(old)) record_each_leaf(old, clear_missing, &st);
    if (json_is_object(obj)) record_each_leaf(obj, set_leaf, &st);
}

/* The date the outfall was found: programme.found_on, else the day its record was created. */
static void found_on(tctx *tc, char out[11]) {
    const char *d = doc_str(tc->doc, "programme.found_on");
    if (d)
        util_strlcpy(out, d, 11);
    else
        util_date_of_ms(tc->created_ms, out);
}

/* Refuses an effective date before the date of the stage it follows (named what). */
static int not_before(tctx *tc, const char *earlier, const char *what, sync_error *err) {
    int64_t a = 0, b = 0;
    if (!earlier || lifecycle_date_days(earlier, &a) || lifecycle_date_days(tc->date, &b)) return 0;
    if (b < a)
        return sync_fail(err, SYNC_EINVALID, "date_out_of_order",
                         "effective_date %s is before the outfall was %s (%s)", tc->date, what,
                         earlier);
    return 0;
}

static json_t *message_json(const ProtobufCMessage *m) {
    return m ? pbjson_to_json(m, PBJSON_PROTO_NAMES) : NULL;
}

/* --- the responsible party -------------------------------------------------------------------- */

static int phone_valid(const char *phone) {
    size_t n = strlen(phone), digits = 0;
    if (n < 5 || n > 24) return 0;
    for (size_t i = 0; i < n; i++) {
        char c = phone[i];
        if (c >= '0' && c <= '9')
            digits++;
        else if (!strchr("+-() ", c))
            return 0;
    }
    return digits >= 5;
}

int lifecycle_check_party(json_t *party, int need_code, sync_error *err) {
    const char *name = json_string_value(json_object_get(party, "name"));
    const char *code = json_string_value(json_object_get(party, "credit_code"));
    const char *phone = json_string_value(json_object_get(party, "phone"));
    json_t *allowed = json_object_get(party, "permit_outfalls_allowed");
    if (!name || !*name || strlen(name) > 200)
        return sync_fail(err, SYNC_EINVALID, "invalid_party",
                         "the responsible party needs a name (1-200 bytes)");
    if (!code && need_code)
        return sync_fail(err, SYNC_EINVALID, "credit_code_required",
                         "responsible party %s needs its unified social credit code "
                         "(统一社会信用代码)",
                         name);
    char why[160];
    if (code && credit_code_validate(code, why, sizeof why) != CREDIT_CODE_OK)
        return sync_fail(err, SYNC_EINVALID, "invalid_credit_code", "%s", why);
    if (phone && !phone_valid(phone))
        return sync_fail(err, SYNC_EINVALID, "invalid_phone",
                         "phone %.40s: 5-24 characters of digits, spaces and + - ( )", phone);
    if (allowed && (!json_is_integer(allowed) || json_integer_value(allowed) < 1))
        return sync_fail(err, SYNC_EINVALID, "invalid_party",
                         "permit_outfalls_allowed must be at least 1");
    return 0;
}

/* The county government of the outfall's division (政府兜底): "沁阳市人民政府", or the management
 * committee of a zone without a government of its own ("城乡一体化示范区管委会"). */
static int county_government(tctx *tc, char *out, size_t cap, sync_error *err) {
    sqlite3_stmt *st = store_stmt(tc->s, "SELECT name FROM divisions WHERE code = ?");
    if (!st) return store_fail(tc->s, SQLITE_ERROR, err);
    sqlite3_bind_text(st, 1, tc->division, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(st, 0);
        size_t n = strlen(name), zone = strlen("示范区");
        int is_zone = n >= zone && strcmp(name + n - zone, "示范区") == 0;
        snprintf(out, cap, "%s%s", name, is_zone ? "管委会" : "人民政府");
    }
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? 0 : store_fail(tc->s, rc == SQLITE_DONE ? SQLITE_ERROR : rc, err);
}

/* --- honest dates ----------------------------------------------------------------------------- */

/* The day (YYYY-MM-DD, China Standard Time) of the outfall's first field observation into
 * tc->first: the earliest of the day its record was created, the field date its creating phone
 * gave (the first programme.found_on a device set; a supervisor's FOUND never counts) and the day
 * the first of its observations was received (an outfall merged into it brings its own). */
static int first_observation(tctx *tc, sync_error *err) {
    util_date_of_ms(tc->created_ms, tc->first);
    /* The per-field rows from before migration 0023, then the version rows after it. */
    sqlite3_stmt *st = store_stmt(
        tc->s, "SELECT day FROM (SELECT version, json_extract(value, '$') AS day "
               "FROM field_history_frozen WHERE kind = 'outfall' AND entity_rowid = "
               "(SELECT rowid FROM outfalls WHERE id = ?1) AND field = 'programme.found_on' "
               "AND device_id IS NOT NULL AND value IS NOT NULL "
               "UNION ALL SELECT version, fields ->> '$.\"programme.found_on\"' "
               "FROM record_history WHERE kind = 'outfall' AND entity_rowid = "
               "(SELECT rowid FROM outfalls WHERE id = ?1) AND device_id IS NOT NULL "
               "AND fields ->> '$.\"programme.found_on\"' IS NOT NULL) "
               "ORDER BY version LIMIT 1");
    if (!st) return store_fail(tc->s, SQLITE_ERROR, err);
    sqlite3_bind_text(st, 1, tc->id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    const char *phone_day = rc == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 0) : NULL;
    if (phone_day && lifecycle_date_days(phone_day, NULL) == 0 && strcmp(phone_day, tc->first) < 0)
        util_strlcpy(tc->first, phone_day, sizeof tc->first);
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return store_fail(tc->s, rc, err);
    st = store_stmt(tc->s, "SELECT min(created_at_ms) FROM observations WHERE outfall_id = ?");
    if (!st) return store_fail(tc->s, SQLITE_ERROR, err);
    sqlite3_bind_text(st, 1, tc->id, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
        char day[11];
        util_date_of_ms(sqlite3_column_int64(st, 0), day);
        if (strcmp(day, tc->first) < 0) util_strlcpy(tc->first, day, sizeof tc->first);
    }
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? 0 : store_fail(tc->s, rc, err);
}

/* 1 when text holds something besides white space. */
static int has_text(const char *text) {
    for (; text && *text; text++)
        if (!strchr(" \t\r\n", *text)) return 1;
    return 0;
}

/* The rules of a transition's date against today (the recording day): never before the outfall's
 * first field observation (date_before_first_observation); more than cfg->backdate_days back, a
 * reason and an evidence hash are required (backdate_needs_reason) and tc->backdated_days says
 * how far it reaches. */
static int check_dates(tctx *tc, const char *today, sync_error *err) {
    int rc = first_observation(tc, err);
    if (rc) return rc;
    if (strcmp(tc->date, tc->first) < 0)
        return sync_fail(err, SYNC_EINVALID, "date_before_first_observation",
                         "effective_date %s is before the outfall's first field observation (%s): "
                         "nothing can have happened to it before it was seen",
                         tc->date, tc->first);
    int64_t date_days = 0, today_days = 0;
    lifecycle_date_days(tc->date, &date_days);
    lifecycle_date_days(today, &today_days);
    int64_t back = today_days - date_days;
    if (back <= tc->cfg->backdate_days) return 0;
    if (!has_text(tc->t->reason) || !tc->t->evidence_hash)
        return sync_fail(err, SYNC_EINVALID, "backdate_needs_reason",
                         "effective_date %s is %lld days before today (%s), more than %d: give a "
                         "reason and the hash of a stored photo or a document as evidence",
                         tc->date, (long long)back, today, tc->cfg->backdate_days);
    tc->backdated_days = (int)back;
    sqlite3_stmt *st = store_stmt(tc->s, "SELECT 1 FROM photos WHERE hash = ?");
    if (!st) return store_fail(tc->s, SQLITE_ERROR, err);
    sqlite3_bind_text(st, 1, tc->t->evidence_hash, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    tc->evidence_stored = rc == SQLITE_ROW;
    sqlite3_reset(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : store_fail(tc->s, rc, err);
}

/* Adds date_backdated to the outfall's flags (beside those the move itself set), for the city. */
static int flag_backdated(tctx *tc, sync_error *err) {
    json_t *flags = json_object_get(tc->fields, "flags");
    flags =
        json_is_array(flags) ? json_deep_copy(flags) : json_deep_copy(record_get(tc->doc, "flags"));
    if (!flags) flags = json_array();
    json_t *doc = json_object();
    if (!flags || !doc || json_object_set_new(doc, "flags", flags)) {
        json_decref(doc);
        return sync_fail(err, SYNC_EINTERNAL, "out_of_memory", "out of memory");
    }
    apply_flag(doc, "date_backdated", 1);
    put(tc, "flags", json_incref(json_object_get(doc, "flags")));
    json_decref(doc);
    return 0;
}

/* --- moves ------------------------------------------------------------------------------------ */

static int to_found(tctx *tc, sync_error *err) {
    (void)err;
    put(tc, "programme.stage", json_string("LIFECYCLE_STAGE_FOUND"));
    put(tc, "programme.found_on", json_string(tc->date));
    return 0;
}

static int to_traced(tctx *tc, sync_error *err) {
    const Outfall__V1__LifecycleTransition *t = tc->t;
    char found[11];
    found_on(tc, found);
    int rc = not_before(tc, found, "found", err);
    if (rc) return rc;
    int basis = t->has_party_basis ? t->party_basis : OUTFALL__V1__PARTY_BASIS__PARTY_BASIS_TRACED;
    const char *basis_name = enum_name(&outfall__v1__party_basis__descriptor, basis);
    if (!basis_name || basis == OUTFALL__V1__PARTY_BASIS__PARTY_BASIS_UNSPECIFIED)
        return sync_fail(err, SYNC_EINVALID, "invalid_transition",
                         "party_basis must be APPLICANT, TRACED, COUNTY_GOVERNMENT or DESIGNATED");
    json_t *party = t->responsible_party ? message_json(&t->responsible_party->base)
                                         : json_deep_copy(record_get(tc->doc, "responsible_party"));
    if (!party) party = json_object();
    if (!party) return sync_fail(err, SYNC_EINTERNAL, "out_of_memory", "out of memory");
    int county = basis == OUTFALL__V1__PARTY_BASIS__PARTY_BASIS_COUNTY_GOVERNMENT;
    if (county) {
        /* Tracing failed: the county government is the party, whatever name was given. */
        char name[160];
        if ((rc = county_government(tc, name, sizeof name, err)) == 0)
            json_object_set_new(party, "name", json_string(name));
    }
    if (!rc) rc = lifecycle_check_party(party, !county, err);
    if (!rc) {
        replace_subtree(tc, "responsible_party", party);
        put(tc, "programme.stage", json_string("LIFECYCLE_STAGE_TRACED"));
        put(tc, "programme.traced_on", json_string(tc->date));
        put(tc, "programme.party_basis", json_string(basis_name));
    }
    json_decref(party);
    return rc;
}

/* Rules 3 and 4 (programme/rules.h) for a plan with measure and the party as it will be: sets
 * "flags" in the fields when they change. */
static int enterprise_flags(tctx *tc, int measure, json_t *party, sync_error *err) {
    json_t *flags = NULL;
    int changed = 0;
    int rc = rules_enterprise_flags(tc->s, tc->id, tc->doc, measure, party, &flags, &changed, err);
    if (!rc && changed) put(tc, "flags", flags);
    return rc;
}

static int to_planned(tctx *tc, sync_error *err) {
    const Outfall__V1__LifecycleTransition *t = tc->t;
    int rc = 0;
    if (tc->from == TRACED)
        rc = not_before(tc, doc_str(tc->doc, "programme.traced_on"), "traced", err);
    else if (tc->from == PLANNED)
        rc = not_before(tc, doc_str(tc->doc, "programme.planned_on"), "planned", err);
    else
        rc = not_before(tc, doc_str(tc->doc, "programme.remediated_on"), "remediated", err);
    if (rc) return rc;
    if (tc->from == REMEDIATED && (!t->comment || !*t->comment))
        return sync_fail(err, SYNC_EINVALID, "comment_required",
                         "say why the remediation was not accepted: a comment is required");
    if (!t->plan && tc->from != REMEDIATED)
        return sync_fail(err, SYNC_EINVALID, "plan_required", "a move to PLANNED carries the plan");
    int measure = measure_of(tc->doc);
    if (t->plan) {
        json_t *zone_ids = json_array(), *plan = message_json(&t->plan->base);
        if (!zone_ids || !plan)
            rc = sync_fail(err, SYNC_EINTERNAL, "out_of_memory", "out of memory");
        if (!rc) rc = rules_check_plan(tc->s, tc->id, tc->doc, tc->date, t->plan, zone_ids, err);
        if (!rc) {
            replace_subtree(tc, "programme.plan", plan);
            put(tc, "programme.zone_ids", json_array_size(zone_ids) ? json_incref(zone_ids) : NULL);
            measure = t->plan->measure;
        }
        json_decref(zone_ids);
        json_decref(plan);
        if (rc) return rc;
    }
    put(tc, "programme.stage", json_string("LIFECYCLE_STAGE_PLANNED"));
    if (tc->from == TRACED) put(tc, "programme.planned_on", json_string(tc->date));
    if (tc->from == REMEDIATED) {
        put(tc, "programme.remediated_on", NULL);
        put(tc, "programme.evidence_observation_ids", NULL);
    }
    return enterprise_flags(tc, measure, record_get(tc->doc, "responsible_party"), err);
}

/* The observations of the outfall naming a stored photo of kind remediation_done whose author
 * uploaded it (a reference that counts: sync/photos.h), oldest first, as a JSON array of ids (new
 * reference), or NULL on a storage error. */
static json_t *evidence_of(tctx *tc) {
    sqlite3_stmt *st = store_stmt(
        tc->s,
        "SELECT o.id FROM observations o WHERE o.outfall_id = ?1 AND EXISTS (SELECT 1 FROM "
        "observation_photos_proven op JOIN photos ph ON ph.hash = op.hash WHERE " PHOTO_REFS_OF(
            "op.ref_key", "o.rowid") " AND op.kind = ?2) ORDER BY o.created_at_ms, o.id");
    if (!st) return NULL;
    json_t *ids = json_array();
    sqlite3_bind_text(st, 1, tc->id, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, OUTFALL__V1__PHOTO_KIND__PHOTO_KIND_REMEDIATION_DONE);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        json_array_append_new(ids, json_string((const char *)sqlite3_column_text(st, 0)));
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        json_decref(ids);
        return NULL;
    }
    return ids;
}

static int to_remediated(tctx *tc, sync_error *err) {
    const Outfall__V1__LifecycleTransition *t = tc->t;
    int rc = not_before(tc, doc_str(tc->doc, "programme.planned_on"), "planned", err);
    if (rc) return rc;
    int measure = measure_of(tc->doc);
    json_t *have = evidence_of(tc), *use = NULL;
    if (!have) return store_fail(tc->s, SQLITE_ERROR, err);
    if (t->n_evidence_observation_ids) {
        use = json_array();
        for (size_t i = 0; i < t->n_evidence_observation_ids && !rc; i++) {
            const char *id = t->evidence_observation_ids[i];
            int known = 0;
            size_t j;
            json_t *v;
            json_array_foreach(have, j, v) known |= strcmp(json_string_value(v), id) == 0;
            if (!known)
                rc = sync_fail(err, SYNC_EINVALID, "evidence_invalid",
                               "observation %.40s is not an observation of outfall %s with a "
                               "stored remediation_done photo",
                               id, tc->id);
            else
                json_array_append_new(use, json_string(id));
        }
    } else {
        use = json_incref(have);
    }
    if (!rc && measure != NONE && json_array_size(use) == 0)
        rc = sync_fail(err, SYNC_ECONFLICT, "evidence_required",
                       "no evidence yet: the outfall needs an observation with a stored "
                       "remediation_done photo");
    if (!rc) {
        put(tc, "programme.stage", json_string("LIFECYCLE_STAGE_REMEDIATED"));
        put(tc, "programme.remediated_on", json_string(tc->date));
        put(tc, "programme.evidence_observation_ids",
            json_array_size(use) ? json_incref(use) : NULL);
    }
    json_decref(use);
    json_decref(have);
    return rc;
}

static int to_closed(tctx *tc, sync_error *err) {
    int rc = not_before(tc, doc_str(tc->doc, "programme.remediated_on"), "remediated", err);
    if (rc) return rc;
    int measure = measure_of(tc->doc);
    if (measure != BAN && measure != MERGE)
        return sync_fail(err, SYNC_ECONFLICT, "measure_keeps_outfall",
                         "the plan's measure %s keeps the outfall: retain it, or revise the plan",
                         measure == NONE ? "NONE" : "REGULARIZE");
    put(tc, "programme.stage", json_string("LIFECYCLE_STAGE_CLOSED"));
    put(tc, "programme.closed_on", json_string(tc->date));
    return 0;
}

static int to_retained(tctx *tc, sync_error *err) {
    int rc = not_before(tc, doc_str(tc->doc, "programme.remediated_on"), "remediated", err);
    if (rc) return rc;
    int measure = measure_of(tc->doc);
    if (measure != REGULARIZE && measure != NONE)
        return sync_fail(err, SYNC_ECONFLICT, "measure_removes_outfall",
                         "the plan's measure %s removes the outfall: close it (销号) instead",
                         measure == BAN ? "BAN" : "MERGE");
    put(tc, "programme.stage", json_string("LIFECYCLE_STAGE_RETAINED"));
    put(tc, "programme.retained_on", json_string(tc->date));
    return enterprise_flags(tc, measure, record_get(tc->doc, "responsible_party"), err);
}

static const struct {
    int from, to;
    const char *action; /* for the audit trail */
    int (*apply)(tctx *tc, sync_error *err);
} moves[] = {
    {FOUND, FOUND, "programme.found", to_found},
    {FOUND, TRACED, "programme.traced", to_traced},
    {TRACED, TRACED, "programme.traced", to_traced},
    {TRACED, PLANNED, "programme.planned", to_planned},
    {PLANNED, PLANNED, "programme.planned", to_planned},
    {PLANNED, REMEDIATED, "programme.remediated", to_remediated},
    {REMEDIATED, PLANNED, "programme.reopened", to_planned},
    {REMEDIATED, CLOSED, "programme.closed", to_closed},
    {REMEDIATED, RETAINED, "programme.retained", to_retained},
};

/* --- the transaction -------------------------------------------------------------------------- */

static int load(tctx *tc, const char *id) {
    sqlite3_stmt *st = store_stmt(tc->s, "SELECT division_code, version, approved_version, "
                                         "review_state, merged_into, doc, created_at_ms "
                                         "FROM outfalls WHERE id = ?");
    if (!st) return SYNC_EINTERNAL;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        util_strlcpy(tc->id, id, sizeof tc->id);
        util_strlcpy(tc->division, (const char *)sqlite3_column_text(st, 0), sizeof tc->division);
        tc->version = sqlite3_column_int64(st, 1);
        tc->approved = sqlite3_column_int64(st, 2);
        tc->review_state = sqlite3_column_int(st, 3);
        tc->merged = sqlite3_column_type(st, 4) != SQLITE_NULL;
        tc->doc = json_loads((const char *)sqlite3_column_text(st, 5), 0, NULL);
        tc->created_ms = sqlite3_column_int64(st, 6);
    }
    sqlite3_reset(st);
    if (rc == SQLITE_ROW) return tc->doc ? 1 : SYNC_EINTERNAL;
    return rc == SQLITE_DONE ? 0 : SYNC_EINTERNAL;
}

static int check_request(const principal *p, const Outfall__V1__LifecycleTransition *t,
                         sync_error *err) {
    if (p->role != OUTFALL__V1__ROLE__ROLE_SUPERVISOR && p->role != OUTFALL__V1__ROLE__ROLE_ADMIN)
        return sync_fail(err, SYNC_EFORBIDDEN, "forbidden_role",
                         "only supervisors move outfalls through the programme");
    if (!util_uuid_valid(t->transition_id))
        return sync_fail(err, SYNC_EINVALID, "invalid_transition", "transition_id must be a UUID");
    if (!util_uuid_valid(t->outfall_id))
        return sync_fail(err, SYNC_EINVALID, "invalid_transition", "outfall_id must be a UUID");
    if (!t->has_base_version)
        return sync_fail(err, SYNC_EINVALID, "invalid_transition",
                         "base_version must name the version the transition was made on");
    if (!t->has_to_stage || (int)t->to_stage < FOUND || (int)t->to_stage > RETAINED)
        return sync_fail(err, SYNC_EINVALID, "invalid_transition",
                         "to_stage must be FOUND, TRACED, PLANNED, REMEDIATED, CLOSED or RETAINED");
    if (t->effective_date && lifecycle_date_days(t->effective_date, NULL))
        return sync_fail(err, SYNC_EINVALID, "invalid_date",
                         "effective_date %.20s is not a date YYYY-MM-DD", t->effective_date);
    if (t->comment && strlen(t->comment) > MAX_NOTE_BYTES)
        return sync_fail(err, SYNC_EINVALID, "invalid_transition", "a comment is at most %d bytes",
                         MAX_NOTE_BYTES);
    if (t->reason && strlen(t->reason) > MAX_NOTE_BYTES)
        return sync_fail(err, SYNC_EINVALID, "invalid_transition", "a reason is at most %d bytes",
                         MAX_NOTE_BYTES);
    if (t->evidence_hash && !util_hash_hex_valid(t->evidence_hash))
        return sync_fail(err, SYNC_EINVALID, "invalid_transition",
                         "evidence_hash must be 64 lowercase hex digits (BLAKE2b-256 or SHA-256)");
    return 0;
}

/* The first answer to a transition, kept as given, marked ALREADY_APPLIED. 1 found, 0 not,
 * < 0 on failure (transition_id_reused for other content). */
static int earlier_answer(store *s, const Outfall__V1__LifecycleTransition *t,
                          const uint8_t hash[32], Outfall__V1__TransitionResult **out,
                          sync_error *err) {
    int rc = replay_find(s, "SELECT content_hash, result FROM transitions WHERE transition_id = ?",
                         t->transition_id, hash, &outfall__v1__transition_result__descriptor,
                         (ProtobufCMessage **)out, "transition_id_reused", err);
    if (rc == 1) {
        (*out)->has_status = 1;
        (*out)->status = OUTFALL__V1__CHANGE_STATUS__CHANGE_STATUS_ALREADY_APPLIED;
    }
    return rc;
}

static int record_transition(tctx *tc, const uint8_t hash[32],
                             const Outfall__V1__TransitionResult *res, sync_error *err) {
    size_t n = protobuf_c_message_get_packed_size(&res->base);
    uint8_t *packed = malloc(n ? n : 1);
    if (!packed) return sync_fail(err, SYNC_EINTERNAL, "out_of_memory", "out of memory");
    protobuf_c_message_pack(&res->base, packed);
    sqlite3_stmt *st = store_stmt(tc->s, "INSERT INTO transitions (transition_id, content_hash, "
                                         "outfall_id, from_stage, to_stage, effective_date, "
                                         "user_id, comment, at_ms, result, reason, "
                                         "evidence_hash, backdated_days) "
                                         "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    if (!st) {
        free(packed);
        return store_fail(tc->s, SQLITE_ERROR, err);
    }
    sqlite3_bind_text(st, 1, tc->t->transition_id, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 2, hash, 32, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, tc->id, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 4, tc->from);
    sqlite3_bind_int(st, 5, tc->t->to_stage);
    sqlite3_bind_text(st, 6, tc->date, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 7, tc->p->user_id);
    sqlite3_bind_text(st, 8, tc->t->comment, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 9, tc->a.at_ms);
    sqlite3_bind_blob(st, 10, packed, (int)n, free);
    if (tc->backdated_days) {
        sqlite3_bind_text(st, 11, tc->t->reason, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 12, tc->t->evidence_hash, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 13, tc->backdated_days);
    } else {
        for (int i = 11; i <= 13; i++)
            sqlite3_bind_null(st, i);
    }
    int rc = sqlite3_step(st);
    return rc == SQLITE_DONE ? 0 : store_fail(tc->s, rc, err);
}

/* The audit row's detail of a transition: the move, the date it claims and when it was recorded;
 * a backdated one says so, with its reason and evidence. */
static void audit_detail(const tctx *tc, char *out, size_t cap) {
    char recorded[32];
    time_t secs = (time_t)(tc->a.at_ms / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    strftime(recorded, sizeof recorded, "%Y-%m-%dT%H:%M:%SZ", &tm);
    int n = snprintf(out, cap, "%s -> %s on %s, recorded %s", lifecycle_stage_name(tc->from),
                     lifecycle_stage_name(tc->t->to_stage), tc->date, recorded);
    if (n > 0 && (size_t)n < cap && tc->backdated_days)
        n += snprintf(out + n, cap - (size_t)n,
                      "; BACKDATED %d days (limit %d), flagged date_backdated: reason: %s; "
                      "evidence %s %s",
                      tc->backdated_days, tc->cfg->backdate_days, tc->t->reason,
                      tc->evidence_stored ? "stored photo" : "document", tc->t->evidence_hash);
    if (n > 0 && (size_t)n < cap && tc->t->comment)
        snprintf(out + n, cap - (size_t)n, ": %s", tc->t->comment);
}

/* Refuses a move the table lacks, naming from, to and where `from` may go. */
static int not_allowed(tctx *tc, sync_error *err) {
    char may[160] = "";
    size_t used = 0;
    for (size_t i = 0; i < sizeof moves / sizeof moves[0]; i++)
        if (moves[i].from == tc->from)
            used += (size_t)snprintf(may + used, sizeof may - used, "%s%s", used ? ", " : "",
                                     lifecycle_stage_name(moves[i].to));
    return sync_fail(err, SYNC_ECONFLICT, "transition_not_allowed",
                     "outfall %s cannot go from %s to %s; from %s it may go to %s", tc->id,
                     lifecycle_stage_name(tc->from), lifecycle_stage_name(tc->t->to_stage),
                     lifecycle_stage_name(tc->from), used ? may : "nowhere (it is settled)");
}

/* Everything a transition checks and writes, inside the open transaction. */
static int transition_body(tctx *tc, int *which, sync_error *err) {
    const Outfall__V1__LifecycleTransition *t = tc->t;
    int rc = load(tc, t->outfall_id);
    if (rc <= 0)
        return rc < 0 ? store_fail(tc->s, SQLITE_ERROR, err)
                      : sync_fail(err, SYNC_ENOTFOUND, "not_found", "no outfall %s", t->outfall_id);
    if (!principal_covers(tc->p, tc->division))
        return sync_fail(err, SYNC_EFORBIDDEN, "outside_division",
                         "outfall %s is outside your divisions", tc->id);
    if (tc->merged)
        return sync_fail(err, SYNC_ECONFLICT, "merged", "outfall %s was merged into another",
                         tc->id);
    if (!tc->approved || tc->review_state != OUTFALL__V1__REVIEW_STATE__REVIEW_STATE_APPROVED)
        return sync_fail(err, SYNC_ECONFLICT, "not_approved",
                         "outfall %s is not in the approved inventory", tc->id);
    if (tc->version != tc->approved)
        return sync_fail(err, SYNC_ECONFLICT, "pending_review",
                         "outfall %s has edits since version %lld waiting for review: approve or "
                         "return them first",
                         tc->id, (long long)tc->approved);
    if (t->base_version != tc->version)
        return sync_fail(err, SYNC_ECONFLICT, "stale_version",
                         "the record is at version %lld, not %lld: reload it and decide again",
                         (long long)tc->version, (long long)t->base_version);
    char today[11];
    util_date_of_ms(tc->a.at_ms, today);
    util_strlcpy(tc->date, t->effective_date ? t->effective_date : today, sizeof tc->date);
    if (strcmp(tc->date, today) > 0)
        return sync_fail(err, SYNC_EINVALID, "invalid_date",
                         "effective_date %s is in the future (today is %s)", tc->date, today);
    if ((rc = check_dates(tc, today, err))) return rc;
    tc->from = stage_of(tc->doc);
    *which = -1;
    for (size_t i = 0; i < sizeof moves / sizeof moves[0]; i++)
        if (moves[i].from == tc->from && moves[i].to == (int)t->to_stage) *which = (int)i;
    if (*which < 0) return not_allowed(tc, err);
    if ((rc = moves[*which].apply(tc, err))) return rc;
    if (tc->backdated_days && (rc = flag_backdated(tc, err))) return rc;
    put(tc, "programme.recorded_at_ms", json_integer(tc->a.at_ms));
    /* A supervisor's act on an approved record: the new version is the approved one. */
    put(tc, "approved_version", json_integer(tc->version + 1));
    return apply_set_fields(&tc->ac, "outfall", tc->id, tc->fields, &tc->a, NULL, err);
}

int lifecycle_transition(store *s, const sync_config *cfg, const principal *p,
                         const Outfall__V1__LifecycleTransition *t,
                         Outfall__V1__TransitionResult **out, sync_error *err) {
    *out = NULL;
    int rc = check_request(p, t, err);
    if (rc) {
        audit_record(s, p, "programme.transition", t->outfall_id, err->code, err->message);
        return rc;
    }
    uint8_t hash[32];
    replay_hash(&t->base, hash);

    tctx tc = {.s = s, .cfg = cfg, .p = p, .t = t};
    tc.ac = (apply_ctx){s, cfg, p, NULL, util_now_ms(), NULL, 0, 0};
    tc.a = (history_author){t->transition_id, p->user_id, NULL, tc.ac.now_ms};
    tc.fields = json_object();
    int which = -1;
    Outfall__V1__TransitionResult *res = NULL;
    if (!tc.fields) return sync_fail(err, SYNC_EINTERNAL, "out_of_memory", "out of memory");
    if ((rc = store_begin(s, err))) goto done;
    if ((rc = earlier_answer(s, t, hash, out, err)) != 0) {
        store_rollback(s);
        rc = rc > 0 ? 0 : rc;
        goto done;
    }
    if ((rc = transition_body(&tc, &which, err))) goto fail;
    res = malloc(sizeof *res);
    if (!res) {
        rc = sync_fail(err, SYNC_EINTERNAL, "out_of_memory", "out of memory");
        goto fail;
    }
    outfall__v1__transition_result__init(res);
    res->transition_id = strdup(t->transition_id);
    res->has_status = 1;
    res->status = OUTFALL__V1__CHANGE_STATUS__CHANGE_STATUS_APPLIED;
    res->has_recorded_at_ms = 1;
    res->recorded_at_ms = tc.a.at_ms;
    res->has_backdated_days = tc.backdated_days != 0;
    res->backdated_days = tc.backdated_days;
    if ((rc = feed_read_outfall_view(s, NULL, tc.id, FEED_VIEW_LATEST, &res->outfall, err)) ||
        (rc = record_transition(&tc, hash, res, err)))
        goto fail;
    char detail[3 * MAX_NOTE_BYTES + 256];
    audit_detail(&tc, detail, sizeof detail);
    audit_record(s, p, moves[which].action, tc.id, "ok", detail);
    if ((rc = store_commit(s, err))) goto fail;
    *out = res;
    res = NULL;
    goto done;
fail:
    store_rollback(s);
    audit_record(s, p, which >= 0 ? moves[which].action : "programme.transition", t->outfall_id,
                 err->code, err->message);
done:
    if (res) protobuf_c_message_free_unpacked(&res->base, NULL);
    json_decref(tc.fields);
    json_decref(tc.doc);
    apply_ctx_free(&tc.ac);
    return rc;
}
