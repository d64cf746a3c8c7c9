#include "programme/inspection_results.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "sync/history.h"
#include "programme/draws.h"

#define TASK_STATE(x) OUTFALL__V1__INSPECTION_TASK_STATE__INSPECTION_TASK_STATE_##x

/* InspectionResult → its Chinese name, indexed by value. */
static const char *const result_names[] = {"", "合格", "发现问题", "违法排污"};

const char *inspection_results_result_name(int result) {
    if (result < 0 || (size_t)result >= sizeof result_names / sizeof result_names[0]) return "";
    return result_names[result];
}

/* A string field of doc, borrowed; "" when absent. */
static const char *doc_str(json_t *doc, const char *key) {
    const char *v = json_string_value(json_object_get(doc, key));
    return v ? v : "";
}

/* An enum value stored by name (or, from older rows, by number) as its number; 0 when absent or
 * unknown. */
static int enum_of(json_t *v, const ProtobufCEnumDescriptor *desc) {
    if (json_is_integer(v)) return (int)json_integer_value(v);
    const ProtobufCEnumValue *e =
        json_is_string(v) ? protobuf_c_enum_descriptor_get_value_by_name(desc, json_string_value(v))
                          : NULL;
    return e ? e->value : 0;
}

static int64_t int_of(json_t *v) {
    return json_is_integer(v)  ? json_integer_value(v)
           : json_is_string(v) ? strtoll(json_string_value(v), NULL, 10)
                               : 0;
}

/* Refuses with reason and a message for people; returns 1. */
static int refuse(sync_error *why, const char *reason, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int refuse(sync_error *why, const char *reason, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    why->rc = SYNC_EINVALID;
    util_strlcpy(why->code, reason, sizeof why->code);
    vsnprintf(why->message, sizeof why->message, fmt, ap);
    va_end(ap);
    return 1;
}

/* One text column of the row selected by sql (one text parameter) into out[cap]: 1 found,
 * 0 not, negative on failure. */
static int one_text(store *s, const char *sql, const char *arg, char *out, size_t cap,
                    sync_error *err) {
    out[0] = '\0';
    sqlite3_stmt *st = store_stmt(s, sql);
    if (!st) return store_fail(s, SQLITE_ERROR, err);
    sqlite3_bind_text(st, 1, arg, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW && sqlite3_column_text(st, 0))
        util_strlcpy(out, (const char *)sqlite3_column_text(st, 0), cap);
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return store_fail(s, rc, err);
    return rc == SQLITE_ROW && out[0];
}

int inspection_results_check(store *s, const principal *p, int from_phone, json_t *old_doc,
                             json_t *doc, const char *outfall_id, const char *observation_id,
                             sync_error *why) {
    if (!from_phone) return 0;
    const char *draw_id = doc_str(doc, "inspection_draw_id");
    json_t *result = json_object_get(doc, "inspection_result");
    if (old_doc && strcmp(draw_id, doc_str(old_doc, "inspection_draw_id")) != 0)
        return refuse(why, "read_only_field",
                      "inspection_draw_id is set when the observation is created and never "
                      "changes");
    if (!draw_id[0]) {
        if (result)
            return refuse(why, "inspection_draw_required",
                          "an inspection_result needs the inspection_draw_id of its draw");
        return 0;
    }
    int value = enum_of(result, &outfall__v1__inspection_result__descriptor);
    if (value < 1 || value > 3)
        return refuse(why, "inspection_result_required",
                      "an inspection of draw %.40s needs its inspection_result (COMPLIANT, "
                      "ISSUES_FOUND or ILLEGAL_DISCHARGE)",
                      draw_id);
    if (int_of(json_object_get(doc, "observed_at_ms")) <= 0)
        return refuse(why, "missing_field",
                      "an inspection of draw %.40s needs observed_at_ms, the day it was made",
                      draw_id);

    /* The pick: a new result's is its outfall's code; an edited one keeps the pick it took. */
    char code[128];
    int rc = old_doc ? one_text(s, "SELECT code FROM inspection_results WHERE observation_id = ?",
                                observation_id, code, sizeof code, why)
                     : one_text(s, "SELECT code FROM outfalls WHERE id = ?", outfall_id, code,
                                sizeof code, why);
    if (rc < 0) return rc;
    Outfall__V1__InspectionDraw *d = NULL;
    sync_error e = {0};
    int found = draws_read(s, draw_id, &d, &e);
    if (found == SYNC_ENOTFOUND)
        return refuse(why, "unknown_draw", "no inspection draw %.40s", draw_id);
    if (found < 0) {
        *why = e;
        return found;
    }
    const Outfall__V1__InspectionPick *pick = NULL;
    for (size_t i = 0; rc == 1 && i < d->n_picks; i++)
        if (d->picks[i]->code && strcmp(d->picks[i]->code, code) == 0) pick = d->picks[i];
    int out = 0;
    if (!pick)
        out = refuse(why, "not_in_draw", "draw %.40s did not pick outfall %.40s", draw_id,
                     outfall_id);
    else if (!pick->inspector || strcmp(pick->inspector, p->username) != 0)
        out = refuse(why, "not_assigned_inspector",
                     "draw %.40s assigned outfall %.64s to another inspector", draw_id, code);
    else if (!old_doc && d->deadline && draws_deadline_passed(d->deadline, util_now_ms()))
        out = refuse(why, "inspection_deadline_passed",
                     "draw %.40s took results until %s; this pick is reported as not done", draw_id,
                     d->deadline);
    protobuf_c_message_free_unpacked(&d->base, NULL);
    if (out || old_doc) return out;

    /* The first result for a pick wins. */
    sqlite3_stmt *st = store_stmt(s, "SELECT observation_id FROM inspection_results "
                                     "WHERE draw_id = ? AND code = ?");
    if (!st) return store_fail(s, SQLITE_ERROR, why);
    sqlite3_bind_text(st, 1, draw_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, code, -1, SQLITE_STATIC);
    char first[40] = "";
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        util_strlcpy(first, (const char *)sqlite3_column_text(st, 0), sizeof first);
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return store_fail(s, rc, why);
    if (rc == SQLITE_ROW && strcmp(first, observation_id) != 0)
        return refuse(why, "inspection_already_recorded",
                      "the result of this pick was recorded already (observation %.40s); edit "
                      "that one",
                      first);
    return 0;
}

int inspection_results_save(store *s, int from_phone, json_t *doc, const char *observation_id,
                            const char *outfall_id, const char *division_code, int64_t user_id,
                            int64_t now_ms, sync_error *err) {
    const char *draw_id = doc_str(doc, "inspection_draw_id");
    if (!draw_id[0]) return 0;
    /* A new row takes its pick from the outfall's code (the check found it in the draw). */
    sqlite3_stmt *st = store_stmt(
        s, "INSERT INTO inspection_results (draw_id, code, observation_id, outfall_id, "
           "division_code, user_id, decision_state, pending, approved_version, updated_at_ms) "
           "VALUES (?1, (SELECT code FROM outfalls WHERE id = ?3), ?2, ?3, ?4, ?5, ?6, 1, ?7, ?8) "
           "ON CONFLICT (observation_id) DO UPDATE SET outfall_id = excluded.outfall_id, "
           "division_code = excluded.division_code, decision_state = excluded.decision_state, "
           "approved_version = excluded.approved_version, updated_at_ms = excluded.updated_at_ms, "
           "pending = CASE WHEN ?9 THEN 1 ELSE pending END");
    if (!st) return store_fail(s, SQLITE_ERROR, err);
    sqlite3_bind_text(st, 1, draw_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, observation_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, outfall_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, division_code, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, user_id);
    sqlite3_bind_int(
        st, 6,
        enum_of(json_object_get(doc, "inspection_state"), &outfall__v1__review_state__descriptor));
    sqlite3_bind_int64(st, 7, int_of(json_object_get(doc, "inspection_approved_version")));
    sqlite3_bind_int64(st, 8, now_ms);
    sqlite3_bind_int(st, 9, from_phone);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : store_fail(s, rc, err);
}

int inspection_results_load(store *s, const char *observation_id, inspection_results_row *out,
                            sync_error *err) {
    memset(out, 0, sizeof *out);
    sqlite3_stmt *st =
        store_stmt(s, "SELECT r.outfall_id, r.division_code, r.pending, r.decision_state, "
                      "r.approved_version, o.version, "
                      "json_extract(o.doc, '$.inspection_comment') IS NOT NULL "
                      "FROM inspection_results r "
                      "JOIN observations o ON o.id = r.observation_id WHERE r.observation_id = ?");
    if (!st) return store_fail(s, SQLITE_ERROR, err);
    sqlite3_bind_text(st, 1, observation_id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        util_strlcpy(out->outfall_id, (const char *)sqlite3_column_text(st, 0),
                     sizeof out->outfall_id);
        util_strlcpy(out->division_code, (const char *)sqlite3_column_text(st, 1),
                     sizeof out->division_code);
        out->pending = sqlite3_column_int(st, 2);
        out->decision_state = sqlite3_column_int(st, 3);
        out->approved_version = sqlite3_column_int64(st, 4);
        out->version = sqlite3_column_int64(st, 5);
        out->has_comment = sqlite3_column_int(st, 6);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return store_fail(s, rc, err);
    return rc == SQLITE_ROW;
}

int inspection_results_settle(store *s, const char *observation_id, sync_error *err) {
    sqlite3_stmt *st =
        store_stmt(s, "UPDATE inspection_results SET pending = 0 WHERE observation_id = ?");
    if (!st) return store_fail(s, SQLITE_ERROR, err);
    sqlite3_bind_text(st, 1, observation_id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : store_fail(s, rc, err);
}

/* The approved result and date of observation id at version approved, from the history. */
static void approved_facts(store *s, const char *id, int64_t approved, int64_t *at_ms,
                           int *result) {
    json_t *v = history_value_at(s, "observation", id, "inspection_result", approved);
    *result = enum_of(v, &outfall__v1__inspection_result__descriptor);
    json_decref(v);
    v = history_value_at(s, "observation", id, "observed_at_ms", approved);
    *at_ms = int_of(v);
    json_decref(v);
}

int inspection_results_last_approved(store *s, const char *outfall_id, int64_t *at_ms, int *result,
                                     sync_error *err) {
    *at_ms = 0;
    *result = 0;
    /* Collect first: the history reads use statements of their own. */
    char(*ids)[40] = NULL;
    int64_t *versions = NULL;
    size_t n = 0, cap = 0;
    sqlite3_stmt *st = store_stmt(s, "SELECT observation_id, approved_version FROM "
                                     "inspection_results WHERE outfall_id = ? AND "
                                     "approved_version > 0");
    if (!st) return store_fail(s, SQLITE_ERROR, err);
    sqlite3_bind_text(st, 1, outfall_id, -1, SQLITE_STATIC);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == cap) {
            cap = cap ? 2 * cap : 4;
            void *a = realloc(ids, cap * sizeof *ids), *b = a ? realloc(versions, cap * 8) : NULL;
            if (a) ids = a;
            if (b) versions = b;
            if (!a || !b) break;
        }
        util_strlcpy(ids[n], (const char *)sqlite3_column_text(st, 0), sizeof ids[n]);
        versions[n++] = sqlite3_column_int64(st, 1);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        free(ids);
        free(versions);
        return rc == SQLITE_ROW ? sync_fail(err, SYNC_EINTERNAL, "out_of_memory", "out of memory")
                                : store_fail(s, rc, err);
    }
    for (size_t i = 0; i < n; i++) {
        int64_t at;
        int value;
        approved_facts(s, ids[i], versions[i], &at, &value);
        if (value && at >= *at_ms) {
            *at_ms = at;
            *result = value;
        }
    }
    free(ids);
    free(versions);
    return *result != 0;
}

int inspection_results_fill_draw(store *s, Outfall__V1__InspectionDraw *d, sync_error *err) {
    int overdue = d->deadline && draws_deadline_passed(d->deadline, util_now_ms());
    for (size_t i = 0; i < d->n_picks; i++) {
        Outfall__V1__InspectionPick *pk = d->picks[i];
        sqlite3_stmt *st = store_stmt(s, "SELECT observation_id, approved_version FROM "
                                         "inspection_results WHERE draw_id = ? AND code = ?");
        if (!st) return store_fail(s, SQLITE_ERROR, err);
        sqlite3_bind_text(st, 1, d->id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, pk->code ? pk->code : "", -1, SQLITE_STATIC);
        int rc = sqlite3_step(st);
        char id[40] = "";
        int64_t approved = 0;
        if (rc == SQLITE_ROW) {
            util_strlcpy(id, (const char *)sqlite3_column_text(st, 0), sizeof id);
            approved = sqlite3_column_int64(st, 1);
        }
        sqlite3_reset(st);
        if (rc != SQLITE_ROW && rc != SQLITE_DONE) return store_fail(s, rc, err);
        pk->has_state = 1;
        pk->state = rc != SQLITE_ROW ? (overdue ? TASK_STATE(NOT_DONE) : TASK_STATE(OPEN))
                    : approved > 0   ? TASK_STATE(APPROVED)
                                     : TASK_STATE(SUBMITTED);
        if (approved <= 0) continue;
        int64_t at;
        int value;
        approved_facts(s, id, approved, &at, &value);
        if (!value) continue;
        pk->has_result = pk->has_inspected_at_ms = 1;
        pk->result = (Outfall__V1__InspectionResult)value;
        pk->inspected_at_ms = at;
    }
    return 0;
}

/* --- the inspectors' tasks ------------------------------------------------------------------- */

/* A text column as a malloc'd copy, NULL when SQL NULL. */
static char *column_dup(sqlite3_stmt *st, int i) {
    const unsigned char *v = sqlite3_column_text(st, i);
    return v ? strdup((const char *)v) : NULL;
}

/* Fills task t's outfall facts from the live record that carries t->code (a merged one only when
 * no live one does). Returns 0 or a negative code. */
static int task_outfall(store *s, Outfall__V1__InspectionTask *t, sync_error *err) {
    sqlite3_stmt *st =
        store_stmt(s, "SELECT id, json_extract(doc, '$.name'), river_code, division_code, lat, lon "
                      "FROM outfalls WHERE code = ? ORDER BY merged_into IS NOT NULL LIMIT 1");
    if (!st) return store_fail(s, SQLITE_ERROR, err);
    sqlite3_bind_text(st, 1, t->code, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        t->outfall_id = column_dup(st, 0);
        t->name = column_dup(st, 1);
        t->river_code = column_dup(st, 2);
        t->division_code = column_dup(st, 3);
        t->has_lat = t->has_lon = 1;
        t->lat = sqlite3_column_double(st, 4);
        t->lon = sqlite3_column_double(st, 5);
    }
    sqlite3_reset(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : store_fail(s, rc, err);
}

/* Fills task t's state, result and comment from the result row of its pick, if any; a pick with
 * none is OPEN until its deadline has passed, NOT_DONE after. */
static int task_state(store *s, Outfall__V1__InspectionTask *t, sync_error *err) {
    sqlite3_stmt *st =
        store_stmt(s, "SELECT r.observation_id, r.pending, r.decision_state, "
                      "json_extract(o.doc, '$.inspection_comment') "
                      "FROM inspection_results r JOIN observations o "
                      "ON o.id = r.observation_id WHERE r.draw_id = ? AND r.code = ?");
    if (!st) return store_fail(s, SQLITE_ERROR, err);
    sqlite3_bind_text(st, 1, t->draw_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, t->code, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    t->has_state = 1;
    t->state =
        draws_deadline_passed(t->deadline, util_now_ms()) ? TASK_STATE(NOT_DONE) : TASK_STATE(OPEN);
    if (rc == SQLITE_ROW) {
        int pending = sqlite3_column_int(st, 1), decided = sqlite3_column_int(st, 2);
        t->observation_id = column_dup(st, 0);
        t->state = pending ? OUTFALL__V1__INSPECTION_TASK_STATE__INSPECTION_TASK_STATE_SUBMITTED
                   : decided == OUTFALL__V1__REVIEW_STATE__REVIEW_STATE_RETURNED
                       ? OUTFALL__V1__INSPECTION_TASK_STATE__INSPECTION_TASK_STATE_RETURNED
                   : decided == OUTFALL__V1__REVIEW_STATE__REVIEW_STATE_APPROVED
                       ? OUTFALL__V1__INSPECTION_TASK_STATE__INSPECTION_TASK_STATE_APPROVED
                       : OUTFALL__V1__INSPECTION_TASK_STATE__INSPECTION_TASK_STATE_SUBMITTED;
        if (t->state == OUTFALL__V1__INSPECTION_TASK_STATE__INSPECTION_TASK_STATE_RETURNED)
            t->comment = column_dup(st, 3);
    }
    sqlite3_reset(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : store_fail(s, rc, err);
}

int inspection_results_tasks(store *s, const principal *p, Outfall__V1__InspectionTaskList **out,
                             sync_error *err) {
    *out = NULL;
    Outfall__V1__InspectionTaskList *list = malloc(sizeof *list);
    if (!list) return sync_fail(err, SYNC_EINTERNAL, "out_of_memory", "out of memory");
    outfall__v1__inspection_task_list__init(list);
    list->tasks = calloc(FINDINGS_MAX_TASKS, sizeof *list->tasks);
    int rc = list->tasks ? 0 : sync_fail(err, SYNC_EINTERNAL, "out_of_memory", "out of memory");
    /* The picks are read from the stored draws' documents; the facts of each after the scan,
     * since they use statements of their own. */
    sqlite3_stmt *st =
        rc ? NULL
           : store_stmt(
                 s,
                 "SELECT d.id, d.drawn_at_ms, json_extract(pk.value, '$.code'), " DRAWS_DEADLINE_SQL
                 " FROM inspection_draws d, json_each(d.doc, '$.picks') pk "
                 "WHERE json_extract(pk.value, '$.inspector') = ? "
                 "ORDER BY d.drawn_at_ms DESC, d.rowid DESC, pk.key LIMIT ?");
    if (!rc && !st) rc = store_fail(s, SQLITE_ERROR, err);
    if (!rc) {
        sqlite3_bind_text(st, 1, p->username, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 2, FINDINGS_MAX_TASKS);
        int step;
        while ((step = sqlite3_step(st)) == SQLITE_ROW && list->n_tasks < FINDINGS_MAX_TASKS) {
            Outfall__V1__InspectionTask *t = malloc(sizeof *t);
            if (!t) {
                rc = sync_fail(err, SYNC_EINTERNAL, "out_of_memory", "out of memory");
                break;
            }
            outfall__v1__inspection_task__init(t);
            list->tasks[list->n_tasks++] = t;
            t->draw_id = column_dup(st, 0);
            t->has_drawn_at_ms = 1;
            t->drawn_at_ms = sqlite3_column_int64(st, 1);
            t->code = column_dup(st, 2);
            t->deadline = column_dup(st, 3);
            if (!t->draw_id || !t->code || !t->deadline) {
                rc = sync_fail(err, SYNC_EINTERNAL, "out_of_memory", "out of memory");
                break;
            }
        }
        if (!rc && step != SQLITE_ROW && step != SQLITE_DONE) rc = store_fail(s, step, err);
        sqlite3_reset(st);
    }
    for (size_t i = 0; !rc && i < list->n_tasks; i++)
        if (!(rc = task_outfall(s, list->tasks[i], err))) rc = task_state(s, list->tasks[i], err);
    if (rc) {
        protobuf_c_message_free_unpacked(&list->base, NULL);
        return rc;
    }
    *out = list;
    return 0;
}
