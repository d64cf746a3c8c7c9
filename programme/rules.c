#include "programme/rules.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "common/pbjson.h"
#include "common/util.h"
#include "sync/apply.h"
#include "programme/lifecycle.h"
#include "sync/record.h"
#include "programme/zones.h"

enum {
    CLOSED = OUTFALL__V1__LIFECYCLE_STAGE__LIFECYCLE_STAGE_CLOSED,
    BAN = OUTFALL__V1__REMEDIATION_MEASURE__REMEDIATION_MEASURE_BAN,
    MERGE = OUTFALL__V1__REMEDIATION_MEASURE__REMEDIATION_MEASURE_MERGE,
    REGULARIZE = OUTFALL__V1__REMEDIATION_MEASURE__REMEDIATION_MEASURE_REGULARIZE,
    NONE = OUTFALL__V1__REMEDIATION_MEASURE__REMEDIATION_MEASURE_NONE,
};

/* The OutfallType numbers of enterprise sewage outfalls (工矿企业排污口), for rules 3 and 4. */
static int enterprise_type(int type) {
    return type == OUTFALL__V1__OUTFALL_TYPE__OUTFALL_TYPE_INDUSTRIAL_ENTERPRISE ||
           type == OUTFALL__V1__OUTFALL_TYPE__OUTFALL_TYPE_MINE ||
           type == OUTFALL__V1__OUTFALL_TYPE__OUTFALL_TYPE_TAILINGS;
}

int rules_enterprise_flags(store *s, const char *id, json_t *doc, int measure, json_t *party,
                           json_t **flags_out, int *changed, sync_error *err) {
    *flags_out = NULL;
    *changed = 0;
    int type = record_enum(doc, "type", &outfall__v1__outfall_type__descriptor);
    int keeps = measure == REGULARIZE || measure == NONE;
    int in_park = json_is_true(json_object_get(party, "in_industrial_park"));
    const char *code = json_string_value(json_object_get(party, "credit_code"));
    int rule3 = 0, rule4 = enterprise_type(type) && keeps && in_park;
    if (enterprise_type(type) && keeps && !in_park && code) {
        sqlite3_stmt *st = store_stmt(
            s,
            "SELECT count(*) FROM outfalls WHERE id <> ?1 AND merged_into IS NULL "
            "AND approved_version > 0 AND json_extract(doc, '$.responsible_party.credit_code') = "
            "?2 "
            "AND json_extract(doc, '$.type') IN ('OUTFALL_TYPE_INDUSTRIAL_ENTERPRISE', "
            "'OUTFALL_TYPE_MINE', 'OUTFALL_TYPE_TAILINGS') "
            "AND NOT coalesce(json_extract(doc, '$.responsible_party.in_industrial_park'), 0) "
            "AND (json_extract(doc, '$.programme.stage') = 'LIFECYCLE_STAGE_RETAINED' OR "
            "(json_extract(doc, '$.programme.stage') IN ('LIFECYCLE_STAGE_PLANNED', "
            "'LIFECYCLE_STAGE_REMEDIATED') AND json_extract(doc, '$.programme.plan.measure') IN "
            "('REMEDIATION_MEASURE_REGULARIZE', 'REMEDIATION_MEASURE_NONE')))");
        if (!st) return store_fail(s, SQLITE_ERROR, err);
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, code, -1, SQLITE_STATIC);
        int rc = sqlite3_step(st);
        int64_t others = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
        sqlite3_reset(st);
        if (rc != SQLITE_ROW) return store_fail(s, rc, err);
        json_t *allowed = json_object_get(party, "permit_outfalls_allowed");
        int64_t may = json_is_integer(allowed) ? json_integer_value(allowed) : 1;
        rule3 = others + 1 > may;
    }
    json_t *flags = json_deep_copy(record_get(doc, "flags"));
    if (!flags) flags = json_array();
    json_t *before = json_deep_copy(flags);
    json_t *probe = json_object();
    json_object_set(probe, "flags", flags);
    apply_flag(probe, "rule3_enterprise_outfall_count", rule3);
    apply_flag(probe, "rule4_in_park_direct_discharge", rule4);
    json_t *after = json_object_get(probe, "flags");
    if (!record_equal(after && json_array_size(after) ? after : NULL,
                      json_array_size(before) ? before : NULL)) {
        *changed = 1;
        *flags_out = after ? json_incref(after) : NULL;
    }
    json_decref(probe);
    json_decref(flags);
    json_decref(before);
    return 0;
}

/* The stage of outfall id and its type, for a merge target. 1 found (live), 0 not, < 0 error. */
static int merge_target(store *s, const char *id, int *stage, int *type) {
    sqlite3_stmt *st =
        store_stmt(s, "SELECT doc FROM outfalls WHERE id = ? AND merged_into IS NULL");
    if (!st) return SYNC_EINTERNAL;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        json_t *doc = json_loads((const char *)sqlite3_column_text(st, 0), 0, NULL);
        *stage = record_enum(doc, "programme.stage", &outfall__v1__lifecycle_stage__descriptor);
        *type = record_enum(doc, "type", &outfall__v1__outfall_type__descriptor);
        json_decref(doc);
    }
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : SYNC_EINTERNAL;
}

int rules_check_plan(store *s, const char *id, json_t *doc, const char *date,
                     const Outfall__V1__RemediationPlan *plan, json_t *zone_ids, sync_error *err) {
    int measure = plan->has_measure ? plan->measure : 0;
    if (measure < BAN || measure > NONE)
        return sync_fail(err, SYNC_EINVALID, "plan_invalid",
                         "the plan needs a measure: BAN, MERGE, REGULARIZE or NONE");
    int64_t day = 0, deadline = 0, end = 0;
    lifecycle_date_days(date, &day);
    if (measure != NONE && !plan->deadline)
        return sync_fail(err, SYNC_EINVALID, "plan_invalid", "the plan needs a deadline");
    if (plan->deadline && lifecycle_date_days(plan->deadline, &deadline))
        return sync_fail(err, SYNC_EINVALID, "plan_invalid", "deadline %.20s is not YYYY-MM-DD",
                         plan->deadline);
    if (plan->deadline && deadline < day)
        return sync_fail(err, SYNC_EINVALID, "plan_invalid",
                         "deadline %s is before the plan's date %s", plan->deadline, date);
    if (plan->transition_end && lifecycle_date_days(plan->transition_end, &end))
        return sync_fail(err, SYNC_EINVALID, "plan_invalid",
                         "transition_end %.20s is not YYYY-MM-DD", plan->transition_end);
    if (plan->transition_end && end < day)
        return sync_fail(err, SYNC_EINVALID, "plan_invalid",
                         "transition_end %s is before the plan's date %s", plan->transition_end,
                         date);
    if ((plan->notes && strlen(plan->notes) > RULES_MAX_NOTE_BYTES) ||
        (plan->safety_note && strlen(plan->safety_note) > RULES_MAX_NOTE_BYTES))
        return sync_fail(err, SYNC_EINVALID, "plan_invalid", "notes are at most %d bytes",
                         RULES_MAX_NOTE_BYTES);
    int into_outfall = plan->merge_into_outfall_id && *plan->merge_into_outfall_id;
    int into_sewer = plan->merge_into_sewer && *plan->merge_into_sewer;
    if (measure == MERGE && into_outfall == into_sewer)
        return sync_fail(err, SYNC_EINVALID, "plan_invalid",
                         "a MERGE plan names its target: merge_into_outfall_id or "
                         "merge_into_sewer, one of them");
    if (measure != MERGE && (into_outfall || into_sewer))
        return sync_fail(err, SYNC_EINVALID, "plan_invalid", "only a MERGE plan has a target");
    int type = record_enum(doc, "type", &outfall__v1__outfall_type__descriptor);
    const int storm = OUTFALL__V1__OUTFALL_TYPE__OUTFALL_TYPE_URBAN_STORM;
    if (into_outfall) {
        int target_stage = 0, target_type = 0;
        if (!util_uuid_valid(plan->merge_into_outfall_id) ||
            strcasecmp(plan->merge_into_outfall_id, id) == 0)
            return sync_fail(err, SYNC_EINVALID, "plan_invalid",
                             "merge_into_outfall_id must be another outfall's id");
        int found = merge_target(s, plan->merge_into_outfall_id, &target_stage, &target_type);
        if (found < 0) return store_fail(s, SQLITE_ERROR, err);
        if (!found || target_stage == CLOSED)
            return sync_fail(err, SYNC_EINVALID, "plan_invalid",
                             "merge target %s is not a live outfall", plan->merge_into_outfall_id);
        if (target_type == storm)
            return sync_fail(
                err, SYNC_EINVALID, "rule2_storm_outfall",
                "二.二.1: a town storm-water outfall (城镇雨洪排口) may not be merged: "
                "%s is one",
                plan->merge_into_outfall_id);
    }
    if (plan->responsible_party) {
        json_t *party = pbjson_to_json(&plan->responsible_party->base, PBJSON_PROTO_NAMES);
        int rc = party ? lifecycle_check_party(party, 1, err)
                       : sync_fail(err, SYNC_EINTERNAL, "out_of_memory", "out of memory");
        json_decref(party);
        if (rc) return rc;
    }

    /* Rule 2 (二.二.1): town storm-water outfalls are never merged or blocked. */
    int blocks = plan->has_blocks_outfall && plan->blocks_outfall;
    if (type == storm && (measure == MERGE || measure == BAN || blocks))
        return sync_fail(
            err, SYNC_EINVALID, "rule2_storm_outfall",
            "二.二.1: a town storm-water outfall (城镇雨洪排口) may never be merged or "
            "blocked (严禁合并、封堵); plan REGULARIZE or NONE");

    /* Rule 1 (二.二.2): inside a protection zone the only plan is a ban. */
    double lat = json_number_value(json_object_get(doc, "lat"));
    double lon = json_number_value(json_object_get(doc, "lon"));
    Outfall__V1__ZoneList *zones = NULL;
    int rc = zones_at(s, lat, lon, &zones, err);
    if (rc) return rc;
    for (size_t i = 0; i < zones->n_zones; i++)
        json_array_append_new(zone_ids, json_string(zones->zones[i]->id));
    if (zones->n_zones && type != storm && measure != BAN)
        rc = sync_fail(err, SYNC_EINVALID, "rule1_protection_zone",
                       "二.二.2: the outfall lies in protection zone %s (%s): it may only be "
                       "banned (依法予以取缔)",
                       zones->zones[0]->id, zones->zones[0]->name ? zones->zones[0]->name : "");
    protobuf_c_message_free_unpacked(&zones->base, NULL);
    if (rc) return rc;

    /* Rule 5 (二.二.1): works that may affect flood control or levees carry a safety note. */
    int entry = record_enum(doc, "entry_method", &outfall__v1__entry_method__descriptor);
    int flood = (plan->has_affects_flood_control && plan->affects_flood_control) || blocks ||
                entry == OUTFALL__V1__ENTRY_METHOD__ENTRY_METHOD_SLUICE ||
                entry == OUTFALL__V1__ENTRY_METHOD__ENTRY_METHOD_PUMP_STATION;
    if (measure != NONE && flood && (!plan->safety_note || !*plan->safety_note))
        return sync_fail(err, SYNC_EINVALID, "rule5_safety_note_required",
                         "二.二.1: works that may affect flood control, drainage or levees need a "
                         "safety note (消除安全隐患的措施)");
    return 0;
}
