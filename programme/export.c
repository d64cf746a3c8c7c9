#include "programme/export.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "common/util.h"
#include "render/outfalls_export.h"
#include "sync/history.h"
#include "render/enum_labels.h"
#include "programme/lifecycle.h"
#include "sync/record.h"

/* Where a column's value comes from. */
enum {
    COL_ID,
    COL_TEXT,
    COL_NUMBER,
    COL_DIVISION_NAME,
    COL_RIVER_NAME,
    COL_STAGE,
    COL_FOUND,
    COL_VERSION,
    COL_UPDATED,
    COL_LABEL /* the Chinese label of the enum in the column before it (render/enum_labels.h) */
};

/* The export's columns, in order: name, kind, and for values of the record its leaf path. A name
 * is the contract's (issue 21): a field path of Outfall flattened with dots, or of
 * OutfallExportExtras; an enum column and a division's or river's code are followed by their
 * Chinese words as PATH_label (issue 19.6). Integrators read columns by name: only ever add. */
static const struct column {
    const char *name;
    int kind;
    const char *path;
} columns[] = {
    {"id", COL_ID, NULL},
    {"code", COL_TEXT, "code"},
    {"national_code", COL_TEXT, "national_code"},
    {"name", COL_TEXT, "name"},
    {"type", COL_TEXT, "type"},
    {"type_label", COL_LABEL, NULL},
    {"division_code", COL_TEXT, "division_code"},
    {"division_code_label", COL_DIVISION_NAME, NULL},
    {"river_code", COL_TEXT, "river_code"},
    {"river_code_label", COL_RIVER_NAME, NULL},
    {"lon", COL_NUMBER, "lon"},
    {"lat", COL_NUMBER, "lat"},
    {"accuracy_m", COL_NUMBER, "accuracy_m"},
    {"landmark", COL_TEXT, "landmark"},
    {"entry_method", COL_TEXT, "entry_method"},
    {"entry_method_label", COL_LABEL, NULL},
    {"discharge_regime", COL_TEXT, "discharge_regime"},
    {"discharge_regime_label", COL_LABEL, NULL},
    {"survey_level", COL_TEXT, "survey_level"},
    {"survey_level_label", COL_LABEL, NULL},
    {"responsible_party.name", COL_TEXT, "responsible_party.name"},
    {"responsible_party.credit_code", COL_TEXT, "responsible_party.credit_code"},
    {"responsible_party.permit_number", COL_TEXT, "responsible_party.permit_number"},
    {"responsible_party.address", COL_TEXT, "responsible_party.address"},
    {"responsible_party.contact", COL_TEXT, "responsible_party.contact"},
    {"responsible_party.phone", COL_TEXT, "responsible_party.phone"},
    {"programme.party_basis", COL_TEXT, "programme.party_basis"},
    {"programme.party_basis_label", COL_LABEL, NULL},
    {"programme.stage", COL_STAGE, "programme.stage"},
    {"programme.stage_label", COL_LABEL, NULL},
    {"programme.found_on", COL_FOUND, NULL},
    {"programme.traced_on", COL_TEXT, "programme.traced_on"},
    {"programme.planned_on", COL_TEXT, "programme.planned_on"},
    {"programme.remediated_on", COL_TEXT, "programme.remediated_on"},
    {"programme.closed_on", COL_TEXT, "programme.closed_on"},
    {"programme.retained_on", COL_TEXT, "programme.retained_on"},
    {"programme.plan.measure", COL_TEXT, "programme.plan.measure"},
    {"programme.plan.measure_label", COL_LABEL, NULL},
    {"programme.plan.deadline", COL_TEXT, "programme.plan.deadline"},
    {"programme.plan.transition_end", COL_TEXT, "programme.plan.transition_end"},
    {"version", COL_VERSION, NULL},
    {"updated_at", COL_UPDATED, NULL},
};
#define N_COLUMNS (sizeof columns / sizeof columns[0])

/* Code → name of the divisions and rivers, read once per export. */
typedef struct names {
    size_t n;
    char (*code)[64];
    char (*name)[128];
} names;

typedef export_out out;

void export_flush(out *o) {
    if (o->len && !o->stopped && o->write(o->ctx, o->buf, o->len)) o->stopped = 1;
    o->len = 0;
}

void export_put(out *o, const void *data, size_t n) {
    const char *from = data;
    while (n && !o->stopped) {
        size_t room = EXPORT_CHUNK - o->len, take = n < room ? n : room;
        memcpy(o->buf + o->len, from, take);
        o->len += take;
        from += take;
        n -= take;
        if (o->len == EXPORT_CHUNK) export_flush(o);
    }
}

void export_put_bytes(void *ctx, const char *data, size_t len) {
    export_put(ctx, data, len);
}

static const char *name_of(const names *n, const char *code) {
    for (size_t i = 0; code && i < n->n; i++)
        if (strcmp(n->code[i], code) == 0) return n->name[i];
    return NULL;
}

static int load_names(store *s, const char *sql, names *n, sync_error *err) {
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(store_db(s), sql, -1, &st, NULL);
    if (rc != SQLITE_OK) return store_fail(s, rc, err);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        void *c = realloc(n->code, (n->n + 1) * sizeof *n->code);
        if (c) n->code = c;
        void *m = realloc(n->name, (n->n + 1) * sizeof *n->name);
        if (m) n->name = m;
        if (!c || !m) {
            rc = SQLITE_NOMEM;
            break;
        }
        util_strlcpy(n->code[n->n], (const char *)sqlite3_column_text(st, 0), sizeof n->code[0]);
        util_strlcpy(n->name[n->n], (const char *)sqlite3_column_text(st, 1), sizeof n->name[0]);
        n->n++;
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : store_fail(s, rc, err);
}

/* One row being written: the record in its approved version and the row's own columns. */
typedef struct record {
    const char *id;
    json_t *doc;
    const char *found_on;
    int64_t version;
    int64_t updated_ms;
} record;

/* The text of column c for rec into buf (cap bytes); NULL when absent. *number is set when the
 * value is a number (written bare in JSON). */
static const char *value_of(const struct column *c, const record *rec, const names *divisions,
                            const names *rivers, char *buf, size_t cap, int *number) {
    *number = 0;
    switch (c->kind) {
    case COL_ID:
        return rec->id;
    case COL_DIVISION_NAME:
        return name_of(divisions, json_string_value(json_object_get(rec->doc, "division_code")));
    case COL_RIVER_NAME:
        return name_of(rivers, json_string_value(json_object_get(rec->doc, "river_code")));
    case COL_FOUND:
        return rec->found_on;
    case COL_VERSION:
        *number = 1;
        snprintf(buf, cap, "%lld", (long long)rec->version);
        return buf;
    case COL_UPDATED: {
        time_t t = (time_t)(rec->updated_ms / 1000);
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
        return buf;
    }
    case COL_STAGE: {
        const char *stage = json_string_value(record_get(rec->doc, c->path));
        return stage ? stage : "LIFECYCLE_STAGE_FOUND";
    }
    case COL_LABEL: /* never the first column: it follows the enum it names */
        return enum_label(value_of(c - 1, rec, divisions, rivers, buf, cap, number));
    default: {
        json_t *v = record_get(rec->doc, c->path);
        if (json_is_string(v)) return json_string_value(v);
        if (json_is_integer(v)) {
            *number = 1;
            snprintf(buf, cap, "%lld", (long long)json_integer_value(v));
            return buf;
        }
        if (json_is_real(v) && isfinite(json_real_value(v))) {
            *number = 1;
            if (strcmp(c->name, "lon") == 0 || strcmp(c->name, "lat") == 0)
                return outfalls_export_coordinate(json_real_value(v), buf, cap);
            snprintf(buf, cap, "%.15g", json_real_value(v));
            return buf;
        }
        if (json_is_boolean(v)) return json_is_true(v) ? "true" : "false";
        return NULL;
    }
    }
}

/* The cells of rec, one per column: names from the table, values into bufs (a buffer each). */
static void cells_of(const record *rec, const names *divisions, const names *rivers,
                     char bufs[N_COLUMNS][64], outfalls_export_cell cells[N_COLUMNS]) {
    for (size_t i = 0; i < N_COLUMNS; i++) {
        cells[i].name = columns[i].name;
        cells[i].number = 0;
        cells[i].value = rec ? value_of(&columns[i], rec, divisions, rivers, bufs[i],
                                        sizeof bufs[i], &cells[i].number)
                             : NULL;
    }
}

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

static int known(store *s, const char *sql, const char *code) {
    sqlite3_stmt *st = store_stmt(s, sql);
    if (!st) return 0;
    sqlite3_bind_text(st, 1, code, -1, SQLITE_STATIC);
    int found = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_reset(st);
    return found;
}

int export_check(store *s, const principal *p, const export_query *q, sync_error *err) {
    const char *dates[] = {q->from, q->to, q->updated_since};
    const char *names_[] = {"from", "to", "updated_since"};
    for (int i = 0; i < 3; i++)
        if (dates[i] && lifecycle_date_days(dates[i], NULL))
            return sync_fail(err, SYNC_EINVALID, "invalid_argument", "%s must be a date YYYY-MM-DD",
                             names_[i]);
    if (q->from && q->to && strcmp(q->from, q->to) > 0)
        return sync_fail(err, SYNC_EINVALID, "invalid_date_range", "to (%s) is before from (%s)",
                         q->to, q->from);
    if (q->division_code) {
        if (!known(s, "SELECT 1 FROM divisions WHERE code = ?", q->division_code))
            return sync_fail(err, SYNC_EINVALID, "unknown_division", "no division %.16s",
                             q->division_code);
        if (!principal_covers(p, q->division_code))
            return sync_fail(err, SYNC_EFORBIDDEN, "outside_division",
                             "division %s is outside your divisions", q->division_code);
    }
    if (q->river_code && !known(s, "SELECT 1 FROM rivers WHERE code = ?", q->river_code))
        return sync_fail(err, SYNC_EINVALID, "unknown_river", "no river %.40s", q->river_code);
    return 0;
}

/* The approved inventory with the columns the walk reads. Rows whose latest version is the
 * approved one are filtered here on their columns; the others (edits since approval, which may
 * have moved the outfall) pass to the walk, which filters them on their approved version. */
static const char walk_sql[] =
    "SELECT id, version, approved_version, doc, updated_at_ms, "
    "date(created_at_ms / 1000, 'unixepoch', '+8 hours') FROM outfalls "
    "WHERE approved_version > 0 AND merged_into IS NULL AND review_state <> 3 "
    "AND (version <> approved_version OR ((?1 IS NULL OR division_code = ?1) "
    "  AND (?2 IS NULL OR river_code = ?2) "
    "  AND (?3 IS NULL OR division_code IN (SELECT value FROM json_each(?3))))) "
    "AND (?4 IS NULL OR date(updated_at_ms / 1000, 'unixepoch', '+8 hours') >= ?4) "
    "ORDER BY rowid";

/* 1 when row (its approved version) passes q's filters and p's scope. */
static int walk_keeps(const principal *p, const export_query *q, const export_row *row) {
    if (!row->division_code || !principal_covers(p, row->division_code)) return 0;
    if (q->division_code && strcmp(q->division_code, row->division_code) != 0) return 0;
    if (q->river_code && (!row->river_code || strcmp(q->river_code, row->river_code) != 0))
        return 0;
    if (q->from && strcmp(row->found_on, q->from) < 0) return 0;
    return !q->to || strcmp(row->found_on, q->to) <= 0;
}

int export_walk(store *s, const principal *p, const export_query *in, export_row_fn fn, void *ctx,
                sync_error *err) {
    export_query whole = *in, *q = &whole;
    if (q->division_code && strcmp(q->division_code, SYNC_CITY_DIVISION) == 0)
        q->division_code = NULL; /* the city's code: every division of it */
    char *scope = scope_of(p);
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(store_db(s), walk_sql, -1, &st, NULL);
    if (rc != SQLITE_OK) {
        free(scope);
        return store_fail(s, rc, err);
    }
    sqlite3_bind_text(st, 1, q->division_code, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, q->river_code, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, scope, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, q->updated_since, -1, SQLITE_STATIC);
    int stop = 0;
    while (!stop && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        export_row row = {
            .id = (const char *)sqlite3_column_text(st, 0),
            .version = sqlite3_column_int64(st, 2),
            .updated_ms = sqlite3_column_int64(st, 4),
        };
        /* The approved version is the stored document unless edits wait for review since; then
         * it is rebuilt from the field history, as the feed's approved view does. */
        row.doc = sqlite3_column_int64(st, 1) == row.version
                      ? json_loads((const char *)sqlite3_column_text(st, 3), 0, NULL)
                      : history_doc_at(s, "outfall", row.id, row.version);
        if (!row.doc) {
            stop =
                sync_fail(err, SYNC_EINTERNAL, "storage_error", "outfall %s is unreadable", row.id);
            break;
        }
        row.division_code = json_string_value(json_object_get(row.doc, "division_code"));
        row.river_code = json_string_value(json_object_get(row.doc, "river_code"));
        row.found_on = json_string_value(record_get(row.doc, "programme.found_on"));
        if (!row.found_on) row.found_on = (const char *)sqlite3_column_text(st, 5);
        if (walk_keeps(p, q, &row)) stop = fn(ctx, &row);
        json_decref(row.doc);
    }
    if (!stop && rc != SQLITE_DONE) stop = store_fail(s, rc, err);
    sqlite3_finalize(st);
    free(scope);
    return stop;
}

/* The state of one export while the walk hands it rows. */
typedef struct writer {
    out o;
    int format;
    names divisions, rivers;
    long long n;
} writer;

static int write_row(void *ctx, const export_row *row) {
    writer *w = ctx;
    record rec = {row->id, row->doc, row->found_on, row->version, row->updated_ms};
    char bufs[N_COLUMNS][64];
    outfalls_export_cell cells[N_COLUMNS];
    cells_of(&rec, &w->divisions, &w->rivers, bufs, cells);
    if (w->format == EXPORT_GEOJSON)
        outfalls_export_geojson_feature(
            export_put_bytes, &w->o, row->id, json_number_value(json_object_get(row->doc, "lon")),
            json_number_value(json_object_get(row->doc, "lat")), cells, N_COLUMNS, w->n);
    else
        outfalls_export_csv_row(export_put_bytes, &w->o, cells, N_COLUMNS);
    w->n++;
    return w->o.stopped;
}

int export_outfalls(store *s, const principal *p, const export_query *q, int format,
                    export_write_fn write, void *ctx, long long *count, sync_error *err) {
    if (count) *count = 0;
    int rc = export_check(s, p, q, err);
    if (rc) return rc;
    writer w = {.o = {.buf = malloc(EXPORT_CHUNK), .write = write, .ctx = ctx}, .format = format};
    if (!w.o.buf) {
        rc = sync_fail(err, SYNC_EINTERNAL, "out_of_memory", "out of memory");
        goto done;
    }
    if ((rc = load_names(s, "SELECT code, name FROM divisions", &w.divisions, err)) ||
        (rc = load_names(s, "SELECT code, name FROM rivers", &w.rivers, err)))
        goto done;
    if (format == EXPORT_GEOJSON) {
        outfalls_export_geojson_head(export_put_bytes, &w.o);
    } else {
        char bufs[N_COLUMNS][64];
        outfalls_export_cell cells[N_COLUMNS];
        cells_of(NULL, NULL, NULL, bufs, cells);
        outfalls_export_csv_head(export_put_bytes, &w.o, cells, N_COLUMNS);
    }
    rc = export_walk(s, p, q, write_row, &w, err);
    if (rc > 0 || w.o.stopped)
        rc = sync_fail(err, SYNC_EINTERNAL, "export_aborted", "the reader stopped the export");
    if (!rc) {
        if (format == EXPORT_GEOJSON) outfalls_export_geojson_tail(export_put_bytes, &w.o);
        export_flush(&w.o);
        if (w.o.stopped)
            rc = sync_fail(err, SYNC_EINTERNAL, "export_aborted", "the reader stopped the export");
    }
done:
    free(w.o.buf);
    free(w.divisions.code);
    free(w.divisions.name);
    free(w.rivers.code);
    free(w.rivers.name);
    if (count) *count = w.n;
    return rc;
}
