#include "programme/self_checks.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "sync/accounts.h"

/* The level of division code into *level: 1 a county, 0 the city, -1 no such division.
 * Returns 0 or a negative code (err filled). */
static int county_of(store *s, const char *code, int *level, sync_error *err) {
    sqlite3_stmt *st = store_stmt(s, "SELECT level FROM divisions WHERE code = ?");
    if (!st) return store_fail(s, SQLITE_ERROR, err);
    sqlite3_bind_text(st, 1, code, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    *level =
        rc == SQLITE_ROW ? strcmp((const char *)sqlite3_column_text(st, 0), "county") == 0 : -1;
    sqlite3_reset(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : store_fail(s, rc, err);
}

/* 1 when sql (two text parameters) selects a row, 0 when not, negative on failure. */
static int row_exists(store *s, const char *sql, const char *a, const char *b, sync_error *err) {
    sqlite3_stmt *st = store_stmt(s, sql);
    if (!st) return store_fail(s, SQLITE_ERROR, err);
    sqlite3_bind_text(st, 1, a, -1, SQLITE_STATIC);
    if (b) sqlite3_bind_text(st, 2, b, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return store_fail(s, rc, err);
    return rc == SQLITE_ROW;
}

/* The approved inspection results of division's picks of the draws made in year into *done. */
static int done_of(store *s, const char *division, int year, int64_t *done, sync_error *err) {
    sqlite3_stmt *st = store_stmt(
        s, "SELECT count(*) FROM inspection_results r JOIN inspection_draws d ON d.id = r.draw_id "
           "WHERE r.approved_version > 0 AND r.division_code = ?1 AND CAST(strftime('%Y', "
           "d.drawn_at_ms / 1000, 'unixepoch', '+8 hours') AS INTEGER) = ?2");
    if (!st) return store_fail(s, SQLITE_ERROR, err);
    sqlite3_bind_text(st, 1, division, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, year);
    int rc = sqlite3_step(st);
    *done = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? 0 : store_fail(s, rc, err);
}

/* The stored plan of division for year into *out with its progress: 1 found, 0 none, negative
 * on failure. */
static int plan_load(store *s, const char *division, int year, Outfall__V1__SelfCheckPlan **out,
                     sync_error *err) {
    *out = NULL;
    sqlite3_stmt *st = store_stmt(s, "SELECT plan, username, recorded_at_ms FROM self_check_plans "
                                     "WHERE division_code = ? AND year = ?");
    if (!st) return store_fail(s, SQLITE_ERROR, err);
    sqlite3_bind_text(st, 1, division, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, year);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *out = outfall__v1__self_check_plan__unpack(NULL, (size_t)sqlite3_column_bytes(st, 0),
                                                    sqlite3_column_blob(st, 0));
        if (*out) {
            (*out)->recorded_by = strdup((const char *)sqlite3_column_text(st, 1));
            (*out)->has_recorded_at_ms = 1;
            (*out)->recorded_at_ms = sqlite3_column_int64(st, 2);
        }
    }
    sqlite3_reset(st);
    if (rc == SQLITE_DONE) return 0;
    if (rc != SQLITE_ROW) return store_fail(s, rc, err);
    if (!*out || !(*out)->recorded_by) {
        if (*out) protobuf_c_message_free_unpacked(&(*out)->base, NULL);
        *out = NULL;
        return sync_fail(err, SYNC_EINTERNAL, "storage_error", "self-check plan %s/%d unreadable",
                         division, year);
    }
    int64_t done = 0;
    if ((rc = done_of(s, division, year, &done, err)) < 0) {
        protobuf_c_message_free_unpacked(&(*out)->base, NULL);
        *out = NULL;
        return rc;
    }
    Outfall__V1__SelfCheckPlan *p = *out;
    p->has_done_count = p->has_done_percent = 1;
    p->done_count = (int32_t)done;
    p->done_percent = p->planned_count > 0 ? (int32_t)(done * 100 / p->planned_count) : 0;
    return 1;
}

/* Checks plan in's values against the rules of self_checks_record (the division's level and
 * the caller's cover excepted). Returns 0 or a negative code with err filled. */
static int plan_check(store *s, const Outfall__V1__SelfCheckPlan *in, sync_error *err) {
    char year_now[11];
    util_date_of_ms(util_now_ms(), year_now);
    int next_year = atoi(year_now) + 1;
    if (!in->has_year || in->year < 2023 || in->year > next_year)
        return sync_fail(err, SYNC_EINVALID, "invalid_self_check_plan", "year must be 2023 to %d",
                         next_year);
    if (!in->has_planned_count || in->planned_count < 1 || in->planned_count > 100000)
        return sync_fail(err, SYNC_EINVALID, "invalid_self_check_plan",
                         "planned_count (outfalls to check) must be 1 to 100000");
    if (in->n_outfall_codes > SELF_CHECKS_MAX_CODES || in->n_river_codes > SELF_CHECKS_MAX_RIVERS)
        return sync_fail(err, SYNC_EINVALID, "invalid_self_check_plan",
                         "a plan names at most %d outfalls and %d rivers", SELF_CHECKS_MAX_CODES,
                         SELF_CHECKS_MAX_RIVERS);
    if (in->note && strlen(in->note) > SELF_CHECKS_MAX_NOTE)
        return sync_fail(err, SYNC_EINVALID, "invalid_self_check_plan", "note is at most %d bytes",
                         SELF_CHECKS_MAX_NOTE);
    for (size_t i = 0; i < in->n_outfall_codes; i++) {
        int rc = row_exists(s,
                            "SELECT 1 FROM outfalls WHERE code = ?1 AND division_code = ?2 AND "
                            "merged_into IS NULL",
                            in->outfall_codes[i], in->division_code, err);
        if (rc < 0) return rc;
        if (!rc)
            return sync_fail(err, SYNC_EINVALID, "invalid_self_check_plan",
                             "no approved outfall %.64s in division %s", in->outfall_codes[i],
                             in->division_code);
    }
    for (size_t i = 0; i < in->n_river_codes; i++) {
        int rc =
            row_exists(s, "SELECT 1 FROM rivers WHERE code = ?", in->river_codes[i], NULL, err);
        if (rc < 0) return rc;
        if (!rc)
            return sync_fail(err, SYNC_EINVALID, "invalid_self_check_plan", "no river %.64s",
                             in->river_codes[i]);
    }
    return 0;
}

int self_checks_record(store *s, const principal *p, const Outfall__V1__SelfCheckPlan *in,
                       Outfall__V1__SelfCheckPlan **out, sync_error *err) {
    *out = NULL;
    const char *division = in->division_code ? in->division_code : "";
    uint8_t *packed = NULL;
    int rc;
    if (p->role != OUTFALL__V1__ROLE__ROLE_SUPERVISOR && p->role != OUTFALL__V1__ROLE__ROLE_ADMIN) {
        rc = sync_fail(err, SYNC_EFORBIDDEN, "forbidden_role",
                       "only a county's supervisors (or admins) record its self-check plan");
        goto refused;
    }
    int level;
    if ((rc = county_of(s, division, &level, err))) return rc;
    if (level < 0) {
        rc = sync_fail(err, SYNC_EINVALID, "unknown_division", "no division %.16s", division);
        goto refused;
    }
    if (level == 0) {
        rc = sync_fail(err, SYNC_EINVALID, "invalid_self_check_plan",
                       "a self-check plan is a county's: name a county division");
        goto refused;
    }
    if (!principal_covers(p, division)) {
        rc = sync_fail(err, SYNC_EFORBIDDEN, "outside_division",
                       "division %s is outside your divisions", division);
        goto refused;
    }
    if ((rc = plan_check(s, in, err))) goto refused;
    /* What is kept: the recorded facts only, never the progress a client may have sent. */
    Outfall__V1__SelfCheckPlan kept = OUTFALL__V1__SELF_CHECK_PLAN__INIT;
    kept.division_code = (char *)division;
    kept.has_year = kept.has_planned_count = 1;
    kept.year = in->year;
    kept.planned_count = in->planned_count;
    kept.n_outfall_codes = in->n_outfall_codes;
    kept.outfall_codes = in->outfall_codes;
    kept.n_river_codes = in->n_river_codes;
    kept.river_codes = in->river_codes;
    kept.note = in->note;
    size_t n = outfall__v1__self_check_plan__get_packed_size(&kept);
    packed = malloc(n ? n : 1);
    if (!packed) return sync_fail(err, SYNC_EINTERNAL, "out_of_memory", "out of memory");
    outfall__v1__self_check_plan__pack(&kept, packed);
    if ((rc = store_begin(s, err))) goto done;
    sqlite3_stmt *st = store_stmt(
        s, "INSERT OR REPLACE INTO self_check_plans (division_code, year, planned_count, plan, "
           "user_id, username, recorded_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?)");
    if (!st) {
        rc = store_fail(s, SQLITE_ERROR, err);
        goto fail;
    }
    sqlite3_bind_text(st, 1, division, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, in->year);
    sqlite3_bind_int(st, 3, in->planned_count);
    sqlite3_bind_blob(st, 4, packed, (int)n, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, p->user_id);
    sqlite3_bind_text(st, 6, p->username, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 7, util_now_ms());
    int step = sqlite3_step(st);
    sqlite3_reset(st);
    if (step != SQLITE_DONE) {
        rc = store_fail(s, step, err);
        goto fail;
    }
    char target[32], detail[48];
    snprintf(target, sizeof target, "%s/%d", division, (int)in->year);
    snprintf(detail, sizeof detail, "planned %d", (int)in->planned_count);
    audit_record(s, p, "self_check.plan", target, "ok", detail);
    if ((rc = plan_load(s, division, in->year, out, err)) != 1) {
        if (rc == 0) rc = sync_fail(err, SYNC_EINTERNAL, "storage_error", "plan not stored");
        goto fail;
    }
    if ((rc = store_commit(s, err))) goto fail;
    goto done;
fail:
    store_rollback(s);
    if (*out) protobuf_c_message_free_unpacked(&(*out)->base, NULL);
    *out = NULL;
    goto done;
refused:
    audit_record(s, p, "self_check.plan", division, err->code, err->message);
done:
    free(packed);
    return rc;
}

int self_checks_list(store *s, const principal *p, int year, const char *division,
                     Outfall__V1__SelfCheckPlanList **out, sync_error *err) {
    *out = NULL;
    if (year < 2023 || year > 2999)
        return sync_fail(err, SYNC_EINVALID, "invalid_argument", "year must be 2023-2999");
    if (division) {
        int level, rc = county_of(s, division, &level, err);
        if (rc) return rc;
        if (level < 0)
            return sync_fail(err, SYNC_EINVALID, "unknown_division", "no division %.16s", division);
        if (level == 0)
            division = NULL; /* the city: every county p covers */
        else if (!principal_covers(p, division))
            return sync_fail(err, SYNC_EFORBIDDEN, "outside_division",
                             "division %s is outside your divisions", division);
    }
    Outfall__V1__SelfCheckPlanList *l = malloc(sizeof *l);
    if (!l) return sync_fail(err, SYNC_EINTERNAL, "out_of_memory", "out of memory");
    outfall__v1__self_check_plan_list__init(l);
    l->has_year = 1;
    l->year = year;
    /* The counties first (the plans' reads use statements of their own). */
    char(*codes)[8] = NULL;
    size_t n = 0;
    int rc = 0;
    sqlite3_stmt *st = store_stmt(s, "SELECT code FROM divisions WHERE level = 'county' AND "
                                     "(?1 IS NULL OR code = ?1) ORDER BY code");
    if (!st) rc = store_fail(s, SQLITE_ERROR, err);
    if (!rc) {
        sqlite3_bind_text(st, 1, division, -1, SQLITE_STATIC);
        int step;
        while ((step = sqlite3_step(st)) == SQLITE_ROW) {
            const char *code = (const char *)sqlite3_column_text(st, 0);
            if (!principal_covers(p, code)) continue;
            void *grown = realloc(codes, (n + 1) * sizeof *codes);
            if (!grown) {
                rc = sync_fail(err, SYNC_EINTERNAL, "out_of_memory", "out of memory");
                break;
            }
            codes = grown;
            util_strlcpy(codes[n++], code, sizeof *codes);
        }
        if (!rc && step != SQLITE_DONE) rc = store_fail(s, step, err);
        sqlite3_reset(st);
    }
    if (!rc && n) {
        l->plans = calloc(n, sizeof *l->plans);
        l->missing = calloc(n, sizeof *l->missing);
        if (!l->plans || !l->missing)
            rc = sync_fail(err, SYNC_EINTERNAL, "out_of_memory", "out of memory");
    }
    for (size_t i = 0; !rc && i < n; i++) {
        Outfall__V1__SelfCheckPlan *plan = NULL;
        int found = plan_load(s, codes[i], year, &plan, err);
        if (found < 0) {
            rc = found;
        } else if (found) {
            l->plans[l->n_plans++] = plan;
        } else if (!(l->missing[l->n_missing++] = strdup(codes[i]))) {
            rc = sync_fail(err, SYNC_EINTERNAL, "out_of_memory", "out of memory");
        }
    }
    free(codes);
    if (rc) {
        protobuf_c_message_free_unpacked(&l->base, NULL);
        return rc;
    }
    *out = l;
    return 0;
}
