#include "sync/progress.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/util.h"
#include "sync/programme.h"

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
    programme_date_days(date, &d);
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
    c->status = found == 0 || actual >= expected
                    ? OUTFALL__V1__TARGET_STATUS__TARGET_STATUS_ON_TRACK
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
    r->remediated_pct = pct(b->remediated, b->found);
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

/* Loads the rows of a (code, name) query into bs; sql binds ?1 to filter (may be NULL) and ?2 to
 * the caller's scope (NULL: all). */
static int load_buckets(store *s, const char *sql, const char *filter, const char *scope,
                        buckets *bs, sync_error *err) {
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(store_db(s), sql, -1, &st, NULL);
    if (rc != SQLITE_OK) return store_fail(s, rc, err);
    sqlite3_bind_text(st, 1, filter, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, scope, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        bucket *grown = realloc(bs->b, (bs->n + 1) * sizeof *bs->b);
        if (!grown) {
            rc = SQLITE_NOMEM;
            break;
        }
        bs->b = grown;
        bucket *b = &bs->b[bs->n++];
        memset(b, 0, sizeof *b);
        util_strlcpy(b->code, (const char *)sqlite3_column_text(st, 0), sizeof b->code);
        util_strlcpy(b->name, (const char *)sqlite3_column_text(st, 1), sizeof b->name);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : store_fail(s, rc, err);
}

static int before_or_on(const unsigned char *date, const char *as_of) {
    return date && strcmp((const char *)date, as_of) <= 0;
}

/* Adds one outfall (a row of OUTFALL_DATES) to b as of as_of. */
static void count(bucket *b, sqlite3_stmt *st, const char *as_of) {
    if (!b || !before_or_on(sqlite3_column_text(st, 2), as_of)) return;
    b->found++;
    b->traced += before_or_on(sqlite3_column_text(st, 3), as_of);
    int planned = before_or_on(sqlite3_column_text(st, 4), as_of);
    int remediated = before_or_on(sqlite3_column_text(st, 5), as_of);
    b->planned += planned;
    b->remediated += remediated;
    b->closed += before_or_on(sqlite3_column_text(st, 6), as_of);
    b->retained += before_or_on(sqlite3_column_text(st, 7), as_of);
    const char *deadline = (const char *)sqlite3_column_text(st, 8);
    const char *end = (const char *)sqlite3_column_text(st, 9);
    const char *due = deadline && end ? (strcmp(deadline, end) > 0 ? deadline : end)
                      : deadline      ? deadline
                                      : end;
    if (planned && !remediated && due && strcmp(due, as_of) < 0) b->overdue++;
}

/* Every outfall of the approved inventory with its stage dates; ?1 division, ?2 river, ?3 scope. */
static const char outfall_dates[] =
    "SELECT division_code, river_code, "
    "coalesce(json_extract(doc, '$.programme.found_on'), "
    "  date(created_at_ms / 1000, 'unixepoch', '+8 hours')), "
    "json_extract(doc, '$.programme.traced_on'), json_extract(doc, '$.programme.planned_on'), "
    "json_extract(doc, '$.programme.remediated_on'), json_extract(doc, '$.programme.closed_on'), "
    "json_extract(doc, '$.programme.retained_on'), json_extract(doc, '$.programme.plan.deadline'), "
    "json_extract(doc, '$.programme.plan.transition_end') "
    "FROM outfalls WHERE approved_version > 0 AND merged_into IS NULL AND review_state <> 3 "
    "AND (?1 IS NULL OR division_code = ?1) AND (?2 IS NULL OR river_code = ?2) "
    "AND (?3 IS NULL OR division_code IN (SELECT value FROM json_each(?3)))";

/* The caller's divisions as a JSON array, or NULL when they see all (malloc'd). */
static char *scope_of(const principal *p) {
    if (principal_all_divisions(p)) return NULL;
    json_t *a = json_array();
    for (int i = 0; i < p->n_divisions; i++)
        json_array_append_new(a, json_string(p->divisions[i]));
    char *text = json_dumps(a, JSON_COMPACT);
    json_decref(a);
    return text;
}

static int exists(store *s, const char *sql, const char *code) {
    sqlite3_stmt *st = store_stmt(s, sql);
    if (!st) return 0;
    sqlite3_bind_text(st, 1, code, -1, SQLITE_STATIC);
    int found = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_reset(st);
    return found;
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
    programme_date_of_ms(now_ms, today);
    if (q->as_of && programme_date_days(q->as_of, NULL))
        return sync_fail(err, SYNC_EINVALID, "invalid_argument", "as_of must be a date YYYY-MM-DD");
    util_strlcpy(as_of, q->as_of ? q->as_of : today, sizeof as_of);
    if (q->division_code) {
        if (!exists(s, "SELECT 1 FROM divisions WHERE code = ?", q->division_code))
            return sync_fail(err, SYNC_EINVALID, "unknown_division", "no division %.16s",
                             q->division_code);
        if (!principal_covers(p, q->division_code))
            return sync_fail(err, SYNC_EFORBIDDEN, "outside_division",
                             "division %s is outside your divisions", q->division_code);
    }
    if (q->river_code && !exists(s, "SELECT 1 FROM rivers WHERE code = ?", q->river_code))
        return sync_fail(err, SYNC_EINVALID, "unknown_river", "no river %.40s", q->river_code);

    char *scope = scope_of(p);
    buckets divisions = {0}, rivers = {0};
    bucket city = {.code = SYNC_CITY_DIVISION};
    Outfall__V1__ProgressReport *rep = NULL;
    int rc = load_buckets(s,
                          "SELECT code, name FROM divisions WHERE level = 'county' AND "
                          "(?1 IS NULL OR code = ?1) AND (?2 IS NULL OR code IN "
                          "(SELECT value FROM json_each(?2))) ORDER BY code",
                          q->division_code, scope, &divisions, err);
    if (!rc)
        rc = load_buckets(s,
                          "SELECT code, name FROM rivers WHERE (?1 IS NULL OR code = ?1) "
                          "ORDER BY basin_code DESC, rowid",
                          q->river_code, NULL, &rivers, err);
    if (rc) goto done;
    /* The whole-city row names the city, or the one division asked for, or the caller's own. */
    sqlite3_stmt *st = store_stmt(s, "SELECT name FROM divisions WHERE code = ?");
    if (st) {
        sqlite3_bind_text(st, 1, SYNC_CITY_DIVISION, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW)
            util_strlcpy(city.name, (const char *)sqlite3_column_text(st, 0), sizeof city.name);
        sqlite3_reset(st);
    }

    st = NULL;
    rc = sqlite3_prepare_v2(store_db(s), outfall_dates, -1, &st, NULL);
    if (rc != SQLITE_OK) {
        rc = store_fail(s, rc, err);
        goto done;
    }
    sqlite3_bind_text(st, 1, q->division_code, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, q->river_code, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, scope, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        count(&city, st, as_of);
        count(find(&divisions, (const char *)sqlite3_column_text(st, 0)), st, as_of);
        count(find(&rivers, (const char *)sqlite3_column_text(st, 1)), st, as_of);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        rc = store_fail(s, rc, err);
        goto done;
    }
    rc = 0;

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
done:
    free(scope);
    free(divisions.b);
    free(rivers.b);
    if (rc && rep) {
        protobuf_c_message_free_unpacked(&rep->base, NULL);
        rep = NULL;
    }
    *out = rep;
    return rc;
}

/* --- CSV -------------------------------------------------------------------------------------- */

typedef struct text {
    char *s;
    size_t len, cap;
    int oom;
} text;

static void add(text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void add(text *t, const char *fmt, ...) {
    if (t->oom) return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(t->s ? t->s + t->len : NULL, t->s ? t->cap - t->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0) {
            t->oom = 1;
            return;
        }
        if (t->s && t->len + (size_t)n < t->cap) {
            t->len += (size_t)n;
            return;
        }
        size_t cap = (t->cap ? t->cap * 2 : 4096) + (size_t)n;
        char *grown = realloc(t->s, cap);
        if (!grown) {
            t->oom = 1;
            return;
        }
        t->s = grown;
        t->cap = cap;
    }
}

/* One CSV field: quoted when it holds a comma, a quote or a line break (quotes doubled). */
static void add_field(text *t, const char *v, int last) {
    v = v ? v : "";
    if (strpbrk(v, ",\"\r\n")) {
        add(t, "\"");
        for (const char *c = v; *c; c++) {
            if (*c == '"')
                add(t, "\"\"");
            else
                add(t, "%c", *c);
        }
        add(t, "\"");
    } else {
        add(t, "%s", v);
    }
    add(t, last ? "\r\n" : ",");
}

static const char *status_name(int status) {
    return status == OUTFALL__V1__TARGET_STATUS__TARGET_STATUS_ON_TRACK ? "ON_TRACK"
           : status == OUTFALL__V1__TARGET_STATUS__TARGET_STATUS_BEHIND ? "BEHIND"
                                                                        : "";
}

char *progress_csv(const Outfall__V1__ProgressReport *r, size_t *len) {
    text t = {0};
    add(&t, "\xEF\xBB\xBF");
    add(&t, "as_of,scope,code,name,found,traced,traced_pct,planned,remediated,remediated_pct,"
            "closed,retained,overdue_plans,traced_target_pct,traced_deadline,traced_expected_pct,"
            "traced_status,remediated_target_pct,remediated_deadline,remediated_expected_pct,"
            "remediated_status\r\n");
    for (size_t i = 0; i < r->n_rows; i++) {
        const Outfall__V1__ProgressRow *row = r->rows[i];
        add_field(&t, r->as_of, 0);
        add_field(&t, row->scope, 0);
        add_field(&t, row->code, 0);
        add_field(&t, row->name, 0);
        add(&t, "%lld,%lld,%.1f,%lld,%lld,%.1f,%lld,%lld,%lld", (long long)row->found,
            (long long)row->traced, row->traced_pct, (long long)row->planned,
            (long long)row->remediated, row->remediated_pct, (long long)row->closed,
            (long long)row->retained, (long long)row->overdue_plans);
        for (size_t m = 0; m < 2; m++) {
            const Outfall__V1__TargetCheck *c = NULL;
            for (size_t j = 0; j < row->n_targets; j++)
                if (strcmp(row->targets[j]->metric, metrics[m]) == 0) c = row->targets[j];
            if (c)
                add(&t, ",%.1f,%s,%.1f,%s", c->target_pct, c->deadline, c->expected_pct,
                    status_name(c->status));
            else
                add(&t, ",,,,");
        }
        add(&t, "\r\n");
    }
    if (t.oom) {
        free(t.s);
        return NULL;
    }
    *len = t.len;
    return t.s;
}

/* --- the annual report ------------------------------------------------------------------------ */

/* Text for HTML: & < > " escaped. */
static void add_html(text *t, const char *v) {
    for (const char *c = v ? v : ""; *c; c++) {
        switch (*c) {
        case '&':
            add(t, "&amp;");
            break;
        case '<':
            add(t, "&lt;");
            break;
        case '>':
            add(t, "&gt;");
            break;
        case '"':
            add(t, "&quot;");
            break;
        default:
            add(t, "%c", *c);
        }
    }
}

/* Every outfall of the approved inventory of ?1 (a division, or the city) with its dates. */
static const char annual_sql[] =
    "SELECT coalesce(o.code, o.id), coalesce(json_extract(o.doc, '$.name'), ''), r.name, "
    "json_extract(o.doc, '$.programme.plan.measure'), "
    "coalesce(json_extract(o.doc, '$.programme.found_on'), "
    "  date(o.created_at_ms / 1000, 'unixepoch', '+8 hours')), "
    "json_extract(o.doc, '$.programme.traced_on'), json_extract(o.doc, '$.programme.planned_on'), "
    "json_extract(o.doc, '$.programme.remediated_on'), "
    "json_extract(o.doc, '$.programme.closed_on'), json_extract(o.doc, '$.programme.retained_on'), "
    "json_extract(o.doc, '$.programme.plan.deadline'), "
    "json_extract(o.doc, '$.programme.plan.transition_end'), "
    "json_extract(o.doc, '$.responsible_party.name'), "
    "json_extract(o.doc, '$.responsible_party.credit_code') "
    "FROM outfalls o JOIN rivers r ON r.code = o.river_code "
    "WHERE o.approved_version > 0 AND o.merged_into IS NULL AND o.review_state <> 3 "
    "AND (?1 = '" SYNC_CITY_DIVISION "' OR o.division_code = ?1) ORDER BY 1";

enum {
    A_CODE,
    A_NAME,
    A_RIVER,
    A_MEASURE,
    A_FOUND,
    A_TRACED,
    A_PLANNED,
    A_REMEDIATED,
    A_CLOSED,
    A_RETAINED,
    A_DEADLINE,
    A_END,
    A_PARTY,
    A_CREDIT
};

/* The report's figures, in the order shown, with their labels. */
enum {
    F_FOUND,
    F_TRACED,
    F_PLANNED,
    F_REMEDIATED,
    F_BAN,
    F_MERGE,
    F_REGULARIZE,
    F_NONE,
    F_CLOSED,
    F_RETAINED,
    F_N
};
static const struct {
    const char *key, *label;
} figures[F_N] = {
    {"found_in_year", "年内排查发现"},       {"traced_in_year", "年内完成溯源"},
    {"planned_in_year", "年内制定整治方案"}, {"remediated_in_year", "年内完成整治"},
    {"remediated_ban", "其中：取缔"},        {"remediated_merge", "其中：合并"},
    {"remediated_regularize", "其中：规范"}, {"remediated_none", "其中：无需整治"},
    {"closed_in_year", "年内销号"},          {"retained_in_year", "年内列入保留清单"},
};

static const char *col(sqlite3_stmt *st, int i) {
    return (const char *)sqlite3_column_text(st, i);
}

static const char *measure_short(const char *m) {
    static const char prefix[] = "REMEDIATION_MEASURE_";
    return m && strncmp(m, prefix, sizeof prefix - 1) == 0 ? m + sizeof prefix - 1 : m ? m : "";
}

/* Writes the outfalls of one list (closed during the year, or retained at its end). */
static void annual_list(text *t, sqlite3_stmt *st, int format, const char *section, int date_col,
                        const char *from, const char *to) {
    sqlite3_reset(st);
    int n = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *date = col(st, date_col);
        if (!date || strcmp(date, to) > 0 || (from && strcmp(date, from) < 0)) continue;
        const char *cells[] = {col(st, A_CODE),
                               col(st, A_NAME),
                               col(st, A_RIVER),
                               measure_short(col(st, A_MEASURE)),
                               date,
                               col(st, A_PARTY),
                               col(st, A_CREDIT)};
        if (format == PROGRESS_ANNUAL_CSV) {
            add_field(t, section, 0);
            for (size_t i = 0; i < 7; i++)
                add_field(t, cells[i], 0);
            add(t, "\r\n");
        } else {
            add(t, "<tr>");
            for (size_t i = 0; i < 7; i++) {
                add(t, "<td>");
                add_html(t, cells[i]);
                add(t, "</td>");
            }
            add(t, "</tr>\n");
        }
        n++;
    }
    if (format == PROGRESS_ANNUAL_HTML && n == 0) add(t, "<tr><td colspan=\"7\">无</td></tr>\n");
}

int progress_annual(store *s, const principal *p, int year, const char *division, int format,
                    char **out, size_t *len, sync_error *err) {
    *out = NULL;
    if (year < 2023 || year > 2999)
        return sync_fail(err, SYNC_EINVALID, "invalid_argument", "year must be 2023 or later");
    if (!division || !exists(s, "SELECT 1 FROM divisions WHERE code = ?", division))
        return sync_fail(err, SYNC_EINVALID, "unknown_division", "no division %.16s",
                         division ? division : "(none)");
    if (!principal_covers(p, division))
        return sync_fail(err, SYNC_EFORBIDDEN, "outside_division",
                         "division %s is outside your divisions", division);
    char from[11], to[11], name[128] = "";
    snprintf(from, sizeof from, "%04d-01-01", year);
    snprintf(to, sizeof to, "%04d-12-31", year);
    sqlite3_stmt *st = store_stmt(s, "SELECT name FROM divisions WHERE code = ?");
    if (st) {
        sqlite3_bind_text(st, 1, division, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW) util_strlcpy(name, col(st, 0), sizeof name);
        sqlite3_reset(st);
    }
    st = NULL;
    int rc = sqlite3_prepare_v2(store_db(s), annual_sql, -1, &st, NULL);
    if (rc != SQLITE_OK) return store_fail(s, rc, err);
    sqlite3_bind_text(st, 1, division, -1, SQLITE_STATIC);

    int64_t fig[F_N] = {0};
    bucket end = {.code = ""};
    util_strlcpy(end.code, division, sizeof end.code);
    util_strlcpy(end.name, name, sizeof end.name);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
#define IN_YEAR(i) (col(st, i) && strcmp(col(st, i), from) >= 0 && strcmp(col(st, i), to) <= 0)
#define BY_END(i) (col(st, i) && strcmp(col(st, i), to) <= 0)
        fig[F_FOUND] += IN_YEAR(A_FOUND);
        fig[F_TRACED] += IN_YEAR(A_TRACED);
        fig[F_PLANNED] += IN_YEAR(A_PLANNED);
        fig[F_CLOSED] += IN_YEAR(A_CLOSED);
        fig[F_RETAINED] += IN_YEAR(A_RETAINED);
        if (IN_YEAR(A_REMEDIATED)) {
            const char *m = measure_short(col(st, A_MEASURE));
            fig[F_REMEDIATED]++;
            fig[F_BAN] += strcmp(m, "BAN") == 0;
            fig[F_MERGE] += strcmp(m, "MERGE") == 0;
            fig[F_REGULARIZE] += strcmp(m, "REGULARIZE") == 0;
            fig[F_NONE] += strcmp(m, "NONE") == 0;
        }
        if (!BY_END(A_FOUND)) continue;
        end.found++;
        end.traced += BY_END(A_TRACED);
        end.planned += BY_END(A_PLANNED);
        end.remediated += BY_END(A_REMEDIATED);
        end.closed += BY_END(A_CLOSED);
        end.retained += BY_END(A_RETAINED);
        const char *deadline = col(st, A_DEADLINE), *tend = col(st, A_END);
        const char *due = deadline && tend ? (strcmp(deadline, tend) > 0 ? deadline : tend)
                          : deadline       ? deadline
                                           : tend;
        if (BY_END(A_PLANNED) && !BY_END(A_REMEDIATED) && due && strcmp(due, to) < 0) end.overdue++;
#undef IN_YEAR
#undef BY_END
    }
    if (rc != SQLITE_DONE) {
        rc = store_fail(s, rc, err);
        sqlite3_finalize(st);
        return rc;
    }
    Outfall__V1__ProgressRow *standing = row_of(division, &end, to);
    text t = {0};
    static const char *const list_head[] = {
        "编码", "名称", "河流", "措施", "日期", "责任主体", "统一社会信用代码"};
    if (format == PROGRESS_ANNUAL_CSV) {
        add(&t, "\xEF\xBB\xBF"
                "section,code,name,river,measure,date,party,credit_code,value\r\n");
        for (int i = 0; i < F_N; i++)
            add(&t, "summary,,%s,,,,,,%lld\r\n", figures[i].key, (long long)fig[i]);
        add(&t,
            "summary,,found_by_year_end,,,,,,%lld\r\nsummary,,traced_by_year_end,,,,,,%lld\r\n"
            "summary,,remediated_by_year_end,,,,,,%lld\r\nsummary,,overdue_plans,,,,,,%lld\r\n",
            (long long)end.found, (long long)end.traced, (long long)end.remediated,
            (long long)end.overdue);
        for (size_t i = 0; standing && i < standing->n_targets; i++) {
            const Outfall__V1__TargetCheck *c = standing->targets[i];
            add(&t, "summary,,%s_pct,,,%s,,,%.1f\r\nsummary,,%s_status,,,%s,,,%s\r\n", c->metric,
                to, c->actual_pct, c->metric, c->deadline, status_name(c->status));
        }
        annual_list(&t, st, format, "closed", A_CLOSED, from, to);
        annual_list(&t, st, format, "retained", A_RETAINED, NULL, to);
    } else {
        add(&t, "<!DOCTYPE html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>");
        add_html(&t, name);
        add(&t,
            " %d 年度入河排污口监督管理工作报告</title>\n<style>body{font-family:sans-serif;"
            "margin:2em}table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px "
            "solid #444;padding:2px 8px;text-align:left}@media print{body{margin:0}"
            "h2{break-after:avoid}}</style></head><body>\n<h1>",
            year);
        add_html(&t, name);
        add(&t,
            " %d 年度入河排污口监督管理工作报告</h1>\n<p>统计期间 %s 至 %s（北京时间）；"
            "依据《焦作市加强入河排污口监督管理工作方案》一.二、二、四.一。</p>\n"
            "<h2>一、年度工作量</h2>\n<table>\n",
            year, from, to);
        for (int i = 0; i < F_N; i++)
            add(&t, "<tr><th>%s</th><td>%lld</td></tr>\n", figures[i].label, (long long)fig[i]);
        add(&t,
            "</table>\n<h2>二、截至年底进展</h2>\n<table>\n<tr><th>已排查</th><td>%lld</td></tr>\n"
            "<tr><th>已溯源</th><td>%lld（%.1f%%）</td></tr>\n<tr><th>已整治</th><td>%lld"
            "（%.1f%%）</td></tr>\n<tr><th>已销号</th><td>%lld</td></tr>\n<tr><th>保留</th>"
            "<td>%lld</td></tr>\n<tr><th>逾期未完成整治方案</th><td>%lld</td></tr>\n",
            (long long)end.found, (long long)end.traced, standing ? standing->traced_pct : 0.0,
            (long long)end.remediated, standing ? standing->remediated_pct : 0.0,
            (long long)end.closed, (long long)end.retained, (long long)end.overdue);
        for (size_t i = 0; standing && i < standing->n_targets; i++) {
            const Outfall__V1__TargetCheck *c = standing->targets[i];
            add(&t, "<tr><th>%s目标（%s 前 %.0f%%）</th><td>%s</td></tr>\n",
                strcmp(c->metric, "traced") == 0 ? "溯源" : "整治", c->deadline, c->target_pct,
                c->status == OUTFALL__V1__TARGET_STATUS__TARGET_STATUS_ON_TRACK ? "达到进度"
                                                                                : "滞后");
        }
        add(&t, "</table>\n");
        const char *titles[] = {"三、年内销号排污口", "四、保留排污口清单（截至年底）"};
        for (int l = 0; l < 2; l++) {
            add(&t, "<h2>%s</h2>\n<table>\n<tr>", titles[l]);
            for (size_t i = 0; i < 7; i++)
                add(&t, "<th>%s</th>", list_head[i]);
            add(&t, "</tr>\n");
            annual_list(&t, st, format, l ? "retained" : "closed", l ? A_RETAINED : A_CLOSED,
                        l ? NULL : from, to);
            add(&t, "</table>\n");
        }
        add(&t, "<h2>五、监督检查与公众举报</h2>\n<p>本系统尚未记录监督检查和公众举报，请另行填报。"
                "</p>\n</body></html>\n");
    }
    sqlite3_finalize(st);
    if (standing) protobuf_c_message_free_unpacked(&standing->base, NULL);
    if (t.oom) {
        free(t.s);
        return sync_fail(err, SYNC_EINTERNAL, "out_of_memory", "out of memory");
    }
    *out = t.s;
    *len = t.len;
    return 0;
}
