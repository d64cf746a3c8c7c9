#include "programme/progress.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/util.h"
#include "programme/draws.h"
#include "render/annual_report.h"
#include "programme/export.h"
#include "programme/lifecycle.h"
#include "sync/record.h"

/* The plan's targets (一.二), per metric in deadline order. */
static const struct target {
    const char *metric;
    const char *deadline;
    double pct;
} targets[] = {
    {"traced", "2023-12-31", 80.0},
    {"remediated", "2023-12-31", 30.0},
    {"remediated", "2024-12-31", 70.0},
    {"remediated", "2025-12-31", PROGRESS_BASICALLY_ALL_PCT},
};

static const char *const metrics[] = {"traced", "remediated"};

/* The counts of one row while the outfalls are walked. */
typedef struct bucket {
    char code[64];
    char name[128];
    int64_t found, traced, planned, remediated, closed, retained, overdue;
    int64_t none_needed; /* plans of measure NONE by the date: apart from remediation */
} bucket;

typedef struct buckets {
    bucket *b;
    size_t n;
} buckets;

static double round1(double x) {
    return round(x * 10.0) / 10.0;
}

static double pct(int64_t part, int64_t whole) {
    return whole > 0 ? round1(100.0 * (double)part / (double)whole) : 0.0;
}

static int64_t days_of(const char *date) {
    int64_t d = 0;
    lifecycle_date_days(date, &d);
    return d;
}

/* The check of metric's figure `actual` (a percentage of `found`) on day as_of. */
static Outfall__V1__TargetCheck *target_check(const char *metric, const char *as_of, double actual,
                                              int64_t found) {
    Outfall__V1__TargetCheck *c = malloc(sizeof *c);
    if (!c) return NULL;
    outfall__v1__target_check__init(c);
    const struct target *cur = NULL, *prev = NULL, *last = NULL;
    for (size_t i = 0; i < sizeof targets / sizeof targets[0]; i++) {
        if (strcmp(targets[i].metric, metric) != 0) continue;
        if (!cur && strcmp(targets[i].deadline, as_of) >= 0) cur = &targets[i];
        if (!cur) prev = &targets[i];
        last = &targets[i];
    }
    double expected;
    if (!cur) {
        cur = last;
        expected = cur->pct;
    } else {
        double from_pct = prev ? prev->pct : 0.0;
        int64_t from = days_of(prev ? prev->deadline : PROGRESS_START), to = days_of(cur->deadline);
        int64_t now = days_of(as_of);
        double share = now <= from ? 0.0 : (double)(now - from) / (double)(to - from);
        expected = round1(from_pct + (cur->pct - from_pct) * share);
    }
    c->metric = strdup(metric);
    c->deadline = strdup(cur->deadline);
    c->has_target_pct = c->has_expected_pct = c->has_actual_pct = c->has_status = 1;
    c->target_pct = cur->pct;
    c->expected_pct = expected;
    c->actual_pct = actual;
    c->status = found == 0           ? OUTFALL__V1__TARGET_STATUS__TARGET_STATUS_NOT_STARTED
                : actual >= expected ? OUTFALL__V1__TARGET_STATUS__TARGET_STATUS_ON_TRACK
                                     : OUTFALL__V1__TARGET_STATUS__TARGET_STATUS_BEHIND;
    return c;
}

static Outfall__V1__ProgressRow *row_of(const char *scope, const bucket *b, const char *as_of) {
    Outfall__V1__ProgressRow *r = malloc(sizeof *r);
    if (!r) return NULL;
    outfall__v1__progress_row__init(r);
    r->scope = strdup(scope);
    r->code = strdup(b->code);
    r->name = strdup(b->name);
    r->has_found = r->has_traced = r->has_traced_pct = r->has_planned = r->has_remediated = 1;
    r->has_remediated_pct = r->has_closed = r->has_retained = r->has_overdue_plans = 1;
    r->found = b->found;
    r->traced = b->traced;
    r->traced_pct = pct(b->traced, b->found);
    r->planned = b->planned;
    r->remediated = b->remediated;
    r->remediated_pct = pct(b->remediated, b->found - b->none_needed);
    r->has_no_remediation_needed = 1;
    r->no_remediation_needed = b->none_needed;
    r->closed = b->closed;
    r->retained = b->retained;
    r->overdue_plans = b->overdue;
    r->targets = calloc(2, sizeof *r->targets);
    if (!r->targets) return r;
    double actual[2] = {r->traced_pct, r->remediated_pct};
    for (size_t i = 0; i < 2; i++) {
        Outfall__V1__TargetCheck *c = target_check(metrics[i], as_of, actual[i], b->found);
        if (c) r->targets[r->n_targets++] = c;
    }
    return r;
}

static bucket *find(buckets *bs, const char *code) {
    for (size_t i = 0; i < bs->n; i++)
        if (strcmp(bs->b[i].code, code) == 0) return &bs->b[i];
    return NULL;
}

/* Loads the rows of a (code, name) query into bs, keeping those p covers (p NULL: all); sql
 * binds ?1 to filter (may be NULL). */
static int load_buckets(store *s, const char *sql, const char *filter, const principal *p,
                        buckets *bs, sync_error *err) {
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(store_db(s), sql, -1, &st, NULL);
    if (rc != SQLITE_OK) return store_fail(s, rc, err);
    sqlite3_bind_text(st, 1, filter, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *code = (const char *)sqlite3_column_text(st, 0);
        if (p && !principal_covers(p, code)) continue;
        bucket *grown = realloc(bs->b, (bs->n + 1) * sizeof *bs->b);
        if (!grown) {
            rc = SQLITE_NOMEM;
            break;
        }
        bs->b = grown;
        bucket *b = &bs->b[bs->n++];
        memset(b, 0, sizeof *b);
        util_strlcpy(b->code, code, sizeof b->code);
        util_strlcpy(b->name, (const char *)sqlite3_column_text(st, 1), sizeof b->name);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : store_fail(s, rc, err);
}

/* The stage dates of an outfall's approved version (borrowed from its document). */
typedef struct stage_dates {
    const char *found, *traced, *planned, *remediated, *closed, *retained, *deadline, *end;
    int none; /* the plan's measure is NONE */
} stage_dates;

static const char *doc_date(json_t *doc, const char *path) {
    return json_string_value(record_get(doc, path));
}

/* 1 when the outfall's plan (its approved version's) is NONE (无需整治). */
static int plan_is_none(const export_row *row) {
    const char *m = doc_date(row->doc, "programme.plan.measure");
    return m && strcmp(m, "REMEDIATION_MEASURE_NONE") == 0;
}

static void dates_of(const export_row *row, stage_dates *d) {
    d->found = row->found_on;
    d->traced = doc_date(row->doc, "programme.traced_on");
    d->planned = doc_date(row->doc, "programme.planned_on");
    d->remediated = doc_date(row->doc, "programme.remediated_on");
    d->closed = doc_date(row->doc, "programme.closed_on");
    d->retained = doc_date(row->doc, "programme.retained_on");
    d->deadline = doc_date(row->doc, "programme.plan.deadline");
    d->end = doc_date(row->doc, "programme.plan.transition_end");
    d->none = plan_is_none(row);
}

static int before_or_on(const char *date, const char *as_of) {
    return date && strcmp(date, as_of) <= 0;
}

/* The day a plan falls due: its deadline or its transition period's end, whichever is later. */
static const char *due_of(const stage_dates *d) {
    if (d->deadline && d->end) return strcmp(d->deadline, d->end) > 0 ? d->deadline : d->end;
    return d->deadline ? d->deadline : d->end;
}

/* The days an outfall's plan is overdue on as_of: found and planned by then, not remediated by
 * then, its due day before as_of. 0 when it is not overdue. */
static int64_t overdue_days(const stage_dates *d, const char *as_of) {
    const char *due = due_of(d);
    if (!before_or_on(d->found, as_of) || !before_or_on(d->planned, as_of) ||
        before_or_on(d->remediated, as_of) || !due || strcmp(due, as_of) >= 0)
        return 0;
    return days_of(as_of) - days_of(due);
}

/* Adds one outfall to b (may be NULL) as of as_of. A plan of measure NONE made by then counts in
 * none_needed, never in remediated. */
static void count(bucket *b, const stage_dates *d, const char *as_of) {
    if (!b || !before_or_on(d->found, as_of)) return;
    b->found++;
    b->traced += before_or_on(d->traced, as_of);
    int planned = before_or_on(d->planned, as_of);
    int none = planned && d->none;
    b->planned += planned;
    b->none_needed += none;
    b->remediated += !none && before_or_on(d->remediated, as_of);
    b->closed += before_or_on(d->closed, as_of);
    b->retained += before_or_on(d->retained, as_of);
    b->overdue += overdue_days(d, as_of) > 0;
}

/* The overdue plans a walk collects (progress_report's list, the annual report's). */
typedef struct overdue_list {
    Outfall__V1__OverduePlan **items;
    size_t n;
    int oom;
} overdue_list;

static char *dup_or_null(const char *v) {
    return v ? strdup(v) : NULL;
}

/* Adds row to l when its plan is overdue on as_of (d: its stage dates). */
static void overdue_collect(overdue_list *l, const export_row *row, const stage_dates *d,
                            const char *as_of) {
    int64_t days = overdue_days(d, as_of);
    if (!days || l->oom) return;
    Outfall__V1__OverduePlan **grown = realloc(l->items, (l->n + 1) * sizeof *l->items);
    Outfall__V1__OverduePlan *o = grown ? malloc(sizeof *o) : NULL;
    if (grown) l->items = grown;
    if (!o) {
        l->oom = 1;
        return;
    }
    outfall__v1__overdue_plan__init(o);
    l->items[l->n++] = o;
    o->outfall_id = dup_or_null(row->id);
    o->code = dup_or_null(doc_date(row->doc, "code"));
    o->name = dup_or_null(doc_date(row->doc, "name"));
    o->division_code = dup_or_null(row->division_code);
    o->river_code = dup_or_null(row->river_code);
    o->due = dup_or_null(due_of(d));
    o->has_days_overdue = 1;
    o->days_overdue = days;
    const char *m = doc_date(row->doc, "programme.plan.measure");
    const ProtobufCEnumValue *v = m ? protobuf_c_enum_descriptor_get_value_by_name(
                                          &outfall__v1__remediation_measure__descriptor, m)
                                    : NULL;
    if (v) {
        o->has_measure = 1;
        o->measure = v->value;
    }
    if (!o->outfall_id || !o->due) l->oom = 1;
}

/* The most overdue first, then by code. */
static int by_days_overdue(const void *a, const void *b) {
    const Outfall__V1__OverduePlan *x = *(Outfall__V1__OverduePlan *const *)a,
                                   *y = *(Outfall__V1__OverduePlan *const *)b;
    if (x->days_overdue != y->days_overdue) return x->days_overdue > y->days_overdue ? -1 : 1;
    return strcmp(x->code ? x->code : x->outfall_id, y->code ? y->code : y->outfall_id);
}

static void overdue_free(overdue_list *l) {
    for (size_t i = 0; i < l->n; i++)
        protobuf_c_message_free_unpacked(&l->items[i]->base, NULL);
    free(l->items);
    memset(l, 0, sizeof *l);
}

/* What progress_report's walk fills. */
typedef struct tally {
    const char *as_of;
    bucket *city;
    buckets *divisions, *rivers;
    overdue_list overdue;
} tally;

static int tally_row(void *ctx, const export_row *row) {
    tally *t = ctx;
    stage_dates d;
    dates_of(row, &d);
    count(t->city, &d, t->as_of);
    overdue_collect(&t->overdue, row, &d, t->as_of);
    count(find(t->divisions, row->division_code), &d, t->as_of);
    if (row->river_code) count(find(t->rivers, row->river_code), &d, t->as_of);
    return 0;
}

static void name_of(store *s, const char *code, char *out, size_t cap) {
    sqlite3_stmt *st = store_stmt(s, "SELECT name FROM divisions WHERE code = ?");
    if (!st) return;
    sqlite3_bind_text(st, 1, code, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW)
        util_strlcpy(out, (const char *)sqlite3_column_text(st, 0), cap);
    sqlite3_reset(st);
}

static int append_row(Outfall__V1__ProgressReport *rep, Outfall__V1__ProgressRow *row) {
    if (!row) return -1;
    rep->rows[rep->n_rows++] = row;
    return 0;
}

int progress_report(store *s, const principal *p, const progress_query *q, int64_t now_ms,
                    Outfall__V1__ProgressReport **out, sync_error *err) {
    *out = NULL;
    char today[11], as_of[11];
    util_date_of_ms(now_ms, today);
    if (q->as_of && lifecycle_date_days(q->as_of, NULL))
        return sync_fail(err, SYNC_EINVALID, "invalid_argument", "as_of must be a date YYYY-MM-DD");
    util_strlcpy(as_of, q->as_of ? q->as_of : today, sizeof as_of);
    export_query eq = {.division_code = q->division_code, .river_code = q->river_code};
    int rc = export_check(s, p, &eq, err);
    if (rc) return rc;

    buckets divisions = {0}, rivers = {0};
    bucket city = {.code = SYNC_CITY_DIVISION};
    Outfall__V1__ProgressReport *rep = NULL;
    tally t = {0};
    rc = load_buckets(s,
                      "SELECT code, name FROM divisions WHERE level = 'county' AND "
                      "(?1 IS NULL OR code = ?1) ORDER BY code",
                      q->division_code && strcmp(q->division_code, SYNC_CITY_DIVISION) != 0
                          ? q->division_code
                          : NULL, /* the city's code: all its counties */
                      p, &divisions, err);
    if (!rc)
        rc = load_buckets(s,
                          "SELECT code, name FROM rivers WHERE (?1 IS NULL OR code = ?1) "
                          "ORDER BY basin_code DESC, rowid",
                          q->river_code, NULL, &rivers, err);
    if (rc) goto done;
    /* The whole-city row names the city, or the one division asked for, or the caller's own. */
    name_of(s, SYNC_CITY_DIVISION, city.name, sizeof city.name);
    t = (tally){as_of, &city, &divisions, &rivers, {0}};
    if ((rc = export_walk(s, p, &eq, tally_row, &t, err))) goto done;
    if (t.overdue.oom) {
        rc = sync_fail(err, SYNC_EINTERNAL, "out_of_memory", "out of memory");
        goto done;
    }

    rep = malloc(sizeof *rep);
    if (rep) {
        outfall__v1__progress_report__init(rep);
        rep->rows = calloc(1 + divisions.n + rivers.n, sizeof *rep->rows);
    }
    if (!rep || !rep->rows) {
        rc = sync_fail(err, SYNC_EINTERNAL, "out_of_memory", "out of memory");
        goto done;
    }
    rep->as_of = strdup(as_of);
    rep->has_basically_all_pct = 1;
    rep->basically_all_pct = PROGRESS_BASICALLY_ALL_PCT;
    if (append_row(rep, row_of("city", &city, as_of))) rc = -1;
    for (size_t i = 0; i < divisions.n && !rc; i++)
        if (append_row(rep, row_of("division", &divisions.b[i], as_of))) rc = -1;
    for (size_t i = 0; i < rivers.n && !rc; i++)
        if (append_row(rep, row_of("river", &rivers.b[i], as_of))) rc = -1;
    if (rc) rc = sync_fail(err, SYNC_EINTERNAL, "out_of_memory", "out of memory");
    if (!rc && t.overdue.n) {
        qsort(t.overdue.items, t.overdue.n, sizeof *t.overdue.items, by_days_overdue);
        rep->overdue = t.overdue.items;
        rep->n_overdue = t.overdue.n;
        t.overdue = (overdue_list){0};
    }
done:
    overdue_free(&t.overdue);
    free(divisions.b);
    free(rivers.b);
    if (rc && rep) {
        protobuf_c_message_free_unpacked(&rep->base, NULL);
        rep = NULL;
    }
    *out = rep;
    return rc;
}

/* --- the annual report ------------------------------------------------------------------------ */

/* The closed or retained list being gathered (render/annual_report.h's lines, malloc'd cells). */
enum { LIST_CELLS = ANNUAL_REPORT_CELLS };
typedef annual_report_line listed;

typedef struct list {
    listed *l;
    size_t n;
    int oom;
} list;

static void list_add(list *l, const char *const cells[LIST_CELLS]) {
    listed *grown = l->oom ? NULL : realloc(l->l, (l->n + 1) * sizeof *l->l);
    if (!grown) {
        l->oom = 1;
        return;
    }
    l->l = grown;
    for (int i = 0; i < LIST_CELLS; i++)
        if (!(l->l[l->n].cell[i] = strdup(cells[i] ? cells[i] : ""))) l->oom = 1;
    l->n++;
}

static void list_free(list *l) {
    for (size_t i = 0; i < l->n; i++)
        for (int c = 0; c < LIST_CELLS; c++)
            free(l->l[i].cell[c]);
    free(l->l);
}

static int by_code(const void *a, const void *b) {
    return strcmp(((const listed *)a)->cell[0], ((const listed *)b)->cell[0]);
}

/* What the annual report's walk fills. */
typedef struct year_tally {
    const char *from, *to;
    int64_t fig[ANNUAL_REPORT_FIGURES];
    bucket end;
    const buckets *rivers;
    list closed, retained;
    overdue_list overdue; /* plans overdue at the year's end */
} year_tally;

static int in_year(const year_tally *y, const char *date) {
    return date && strcmp(date, y->from) >= 0 && strcmp(date, y->to) <= 0;
}

static int year_row(void *ctx, const export_row *row) {
    year_tally *y = ctx;
    stage_dates d;
    dates_of(row, &d);
    const char *m = annual_report_measure(doc_date(row->doc, "programme.plan.measure"));
    y->fig[ANNUAL_REPORT_FOUND] += in_year(y, d.found);
    y->fig[ANNUAL_REPORT_TRACED] += in_year(y, d.traced);
    y->fig[ANNUAL_REPORT_PLANNED] += in_year(y, d.planned);
    y->fig[ANNUAL_REPORT_CLOSED] += in_year(y, d.closed);
    y->fig[ANNUAL_REPORT_RETAINED] += in_year(y, d.retained);
    if (in_year(y, d.remediated)) {
        y->fig[ANNUAL_REPORT_REMEDIATED] +=
            !d.none; /* NONE is counted apart, never as remediated */
        y->fig[ANNUAL_REPORT_BAN] += strcmp(m, "BAN") == 0;
        y->fig[ANNUAL_REPORT_MERGE] += strcmp(m, "MERGE") == 0;
        y->fig[ANNUAL_REPORT_REGULARIZE] += strcmp(m, "REGULARIZE") == 0;
        y->fig[ANNUAL_REPORT_NONE] += strcmp(m, "NONE") == 0;
    }
    count(&y->end, &d, y->to);
    overdue_collect(&y->overdue, row, &d, y->to);
    const char *code = doc_date(row->doc, "code"), *name = doc_date(row->doc, "name");
    bucket *river = row->river_code ? find((buckets *)y->rivers, row->river_code) : NULL;
    const char *cells[LIST_CELLS] = {code ? code : row->id,
                                     name,
                                     river ? river->name : row->river_code,
                                     m,
                                     NULL,
                                     doc_date(row->doc, "responsible_party.name"),
                                     doc_date(row->doc, "responsible_party.credit_code")};
    if (in_year(y, d.closed)) {
        cells[4] = d.closed;
        list_add(&y->closed, cells);
    }
    if (before_or_on(d.retained, y->to)) {
        cells[4] = d.retained;
        list_add(&y->retained, cells);
    }
    return 0;
}

/* The year's inspections and public reports of division (or the whole city) into y->fig.
 * Inspections: the picks of the draws made during the year whose outfall lies in the division,
 * of them those past their draw's deadline with no result (not done: never an inspection), and
 * the results sent (and approved) for them. Self-checks (市县自查): the outfalls the division's
 * plans for the year (programme/self_checks.h) will check, and the approved results of the
 * division's picks of the year's draws. Public reports: received during the year (in
 * all and by kind) and answered during the year. */
static int year_oversight(store *s, const char *division, year_tally *y, sync_error *err) {
    static const char *const sql[] = {
        "SELECT count(*), coalesce(sum(" DRAWS_DEADLINE_SQL " < ?4 AND NOT EXISTS (SELECT 1 FROM "
        "inspection_results r WHERE r.draw_id = d.id AND r.code = json_extract(k.value, "
        "'$.code'))), 0), 0, 0 FROM inspection_draws d, json_each(d.doc, '$.picks') k, "
        "json_each(d.doc, '$.candidates') c WHERE date(d.drawn_at_ms / 1000, 'unixepoch', "
        "'+8 hours') BETWEEN ?2 AND ?3 AND json_extract(c.value, '$.code') = "
        "json_extract(k.value, '$.code') AND (?1 = '" SYNC_CITY_DIVISION "' OR "
        "coalesce(json_extract(c.value, '$.divisionCode'), json_extract(c.value, "
        "'$.division_code')) = ?1)",
        "SELECT count(*), coalesce(sum(r.approved_version > 0), 0), 0, 0 FROM inspection_results r "
        "JOIN inspection_draws d ON d.id = r.draw_id WHERE date(d.drawn_at_ms / 1000, "
        "'unixepoch', '+8 hours') BETWEEN ?2 AND ?3 AND (?1 = '" SYNC_CITY_DIVISION "' OR "
        "r.division_code = ?1)",
        "SELECT coalesce(sum(received BETWEEN ?2 AND ?3), 0), coalesce(sum(answered BETWEEN ?2 AND "
        "?3), 0), coalesce(sum(received BETWEEN ?2 AND ?3 AND kind = 1), 0), "
        "coalesce(sum(received BETWEEN ?2 AND ?3 AND kind = 2), 0) FROM (SELECT kind, "
        "date(received_at_ms / 1000, 'unixepoch', '+8 hours') AS received, "
        "date(answered_at_ms / 1000, 'unixepoch', '+8 hours') AS answered FROM public_reports "
        "WHERE ?1 = '" SYNC_CITY_DIVISION "' OR division_code = ?1)",
        "SELECT (SELECT coalesce(sum(planned_count), 0) FROM self_check_plans WHERE year = "
        "CAST(substr(?2, 1, 4) AS INTEGER) AND (?1 = '" SYNC_CITY_DIVISION "' OR division_code = "
        "?1)), count(*), 0, 0 FROM inspection_results r JOIN inspection_draws d ON d.id = "
        "r.draw_id WHERE r.approved_version > 0 AND date(d.drawn_at_ms / 1000, 'unixepoch', "
        "'+8 hours') BETWEEN ?2 AND ?3 AND (?1 = '" SYNC_CITY_DIVISION "' OR r.division_code = ?1)",
    };
    static const int into[][4] = {
        {ANNUAL_REPORT_INSPECTED, ANNUAL_REPORT_INSPECTIONS_NOT_DONE, -1, -1},
        {ANNUAL_REPORT_INSPECTION_RESULTS, ANNUAL_REPORT_INSPECTION_APPROVED, -1, -1},
        {ANNUAL_REPORT_REPORTS_RECEIVED, ANNUAL_REPORT_REPORTS_ANSWERED,
         ANNUAL_REPORT_REPORTS_ILLEGAL, ANNUAL_REPORT_REPORTS_BORROWED},
        {ANNUAL_REPORT_SELF_CHECK_PLANNED, ANNUAL_REPORT_SELF_CHECK_DONE, -1, -1},
    };
    char today[11];
    util_date_of_ms(util_now_ms(), today);
    for (size_t q = 0; q < sizeof sql / sizeof sql[0]; q++) {
        sqlite3_stmt *st = store_stmt(s, sql[q]);
        if (!st) return store_fail(s, SQLITE_ERROR, err);
        sqlite3_bind_text(st, 1, division, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, y->from, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, y->to, -1, SQLITE_STATIC);
        if (sqlite3_bind_parameter_count(st) >= 4)
            sqlite3_bind_text(st, 4, today, -1, SQLITE_STATIC);
        int rc = sqlite3_step(st);
        for (int i = 0; rc == SQLITE_ROW && i < 4; i++)
            if (into[q][i] >= 0) y->fig[into[q][i]] = sqlite3_column_int64(st, i);
        sqlite3_reset(st);
        if (rc != SQLITE_ROW) return store_fail(s, rc, err);
    }
    return 0;
}

int progress_annual(store *s, const principal *p, int year, const char *division, int format,
                    char **out, size_t *len, sync_error *err) {
    *out = NULL;
    if (year < 2023 || year > 2999)
        return sync_fail(err, SYNC_EINVALID, "invalid_argument", "year must be 2023 or later");
    int city_wide = division && strcmp(division, SYNC_CITY_DIVISION) == 0;
    export_query q = {.division_code = city_wide ? NULL : division};
    if (!division) return sync_fail(err, SYNC_EINVALID, "unknown_division", "no division (none)");
    int rc = export_check(s, p, &(export_query){.division_code = division}, err);
    if (rc) return rc;
    char from[11], to[11], name[128] = "";
    snprintf(from, sizeof from, "%04d-01-01", year);
    snprintf(to, sizeof to, "%04d-12-31", year);
    name_of(s, division, name, sizeof name);
    buckets rivers = {0};
    year_tally y = {.from = from, .to = to, .rivers = &rivers};
    util_strlcpy(y.end.code, division, sizeof y.end.code);
    util_strlcpy(y.end.name, name, sizeof y.end.name);
    rc =
        load_buckets(s, "SELECT code, name FROM rivers WHERE ?1 IS NULL", NULL, NULL, &rivers, err);
    if (!rc) rc = export_walk(s, p, &q, year_row, &y, err);
    if (!rc) rc = year_oversight(s, division, &y, err);
    if (!rc && (y.closed.oom || y.retained.oom || y.overdue.oom))
        rc = sync_fail(err, SYNC_EINTERNAL, "out_of_memory", "out of memory");
    if (rc) {
        free(rivers.b);
        list_free(&y.closed);
        list_free(&y.retained);
        overdue_free(&y.overdue);
        return rc;
    }
    if (y.overdue.n) qsort(y.overdue.items, y.overdue.n, sizeof *y.overdue.items, by_days_overdue);
    /* the overdue plans' rivers by name, as the lists show them (the page is for people) */
    const char **overdue_rivers = calloc(y.overdue.n + 1, sizeof *overdue_rivers);
    for (size_t i = 0; overdue_rivers && i < y.overdue.n; i++) {
        const char *code = y.overdue.items[i]->river_code;
        bucket *b = code ? find(&rivers, code) : NULL;
        overdue_rivers[i] = b ? b->name : code;
    }
    if (y.closed.n) qsort(y.closed.l, y.closed.n, sizeof *y.closed.l, by_code);
    if (y.retained.n) qsort(y.retained.l, y.retained.n, sizeof *y.retained.l, by_code);
    Outfall__V1__ProgressRow *standing = row_of(division, &y.end, to);
    annual_report r = {
        .year = year,
        .division_name = name,
        .from = from,
        .to = to,
        .found = y.end.found,
        .traced = y.end.traced,
        .remediated = y.end.remediated,
        .closed = y.end.closed,
        .retained = y.end.retained,
        .overdue = y.end.overdue,
        .standing = standing,
        .closed_list = y.closed.l,
        .n_closed = y.closed.n,
        .retained_list = y.retained.l,
        .n_retained = y.retained.n,
        .overdue_list = y.overdue.items,
        .overdue_rivers = overdue_rivers,
        .n_overdue = y.overdue.n,
    };
    memcpy(r.fig, y.fig, sizeof r.fig);
    *out = format == PROGRESS_ANNUAL_CSV ? annual_report_csv(&r, len) : annual_report_html(&r, len);
    free(overdue_rivers);
    free(rivers.b);
    list_free(&y.closed);
    list_free(&y.retained);
    overdue_free(&y.overdue);
    if (standing) protobuf_c_message_free_unpacked(&standing->base, NULL);
    return *out ? 0 : sync_fail(err, SYNC_EINTERNAL, "out_of_memory", "out of memory");
}
