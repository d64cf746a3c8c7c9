#include "programme/filings.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "sync/accounts.h"

/* A new ReportFiling from the current row of st (division, year, at, username), or NULL. */
static Outfall__V1__ReportFiling *filing_of(sqlite3_stmt *st) {
    Outfall__V1__ReportFiling *f = malloc(sizeof *f);
    if (!f) return NULL;
    outfall__v1__report_filing__init(f);
    f->division_code = strdup((const char *)sqlite3_column_text(st, 0));
    f->has_year = f->has_filed_at_ms = 1;
    f->year = sqlite3_column_int(st, 1);
    f->filed_at_ms = sqlite3_column_int64(st, 2);
    f->filed_by = strdup((const char *)sqlite3_column_text(st, 3));
    return f;
}

/* The mark of division for year into *out: 1 found, 0 none, < 0 on failure. */
static int find(store *s, const char *division, int year, Outfall__V1__ReportFiling **out,
                sync_error *err) {
    sqlite3_stmt *st = store_stmt(s, "SELECT division_code, year, filed_at_ms, username "
                                     "FROM report_filings WHERE division_code = ? AND year = ?");
    if (!st) return store_fail(s, SQLITE_ERROR, err);
    sqlite3_bind_text(st, 1, division, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, year);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) *out = filing_of(st);
    sqlite3_reset(st);
    if (rc == SQLITE_ROW)
        return *out ? 1 : sync_fail(err, SYNC_EINTERNAL, "out_of_memory", "out of memory");
    return rc == SQLITE_DONE ? 0 : store_fail(s, rc, err);
}

int filings_mark(store *s, const principal *p, const Outfall__V1__ReportFiling *f,
                 Outfall__V1__ReportFiling **out, sync_error *err) {
    *out = NULL;
    const char *division = f->division_code ? f->division_code : "";
    int rc;
    if (p->role != OUTFALL__V1__ROLE__ROLE_SUPERVISOR && p->role != OUTFALL__V1__ROLE__ROLE_ADMIN) {
        rc = sync_fail(err, SYNC_EFORBIDDEN, "forbidden_role", "only supervisors mark reports");
        goto refused;
    }
    if (!f->has_year || f->year < 2023 || f->year > 2999) {
        rc = sync_fail(err, SYNC_EINVALID, "invalid_argument", "year must be 2023-2999");
        goto refused;
    }
    sqlite3_stmt *st = store_stmt(s, "SELECT level FROM divisions WHERE code = ?");
    if (!st) return store_fail(s, SQLITE_ERROR, err);
    sqlite3_bind_text(st, 1, division, -1, SQLITE_STATIC);
    int found = sqlite3_step(st) == SQLITE_ROW;
    int county = found && strcmp((const char *)sqlite3_column_text(st, 0), "county") == 0;
    sqlite3_reset(st);
    if (!found) {
        rc = sync_fail(err, SYNC_EINVALID, "unknown_division", "no division %.16s", division);
        goto refused;
    }
    if (!county) {
        rc = sync_fail(err, SYNC_EINVALID, "invalid_argument",
                       "a county files its report with the city: name a county division");
        goto refused;
    }
    if (!principal_covers(p, division)) {
        rc = sync_fail(err, SYNC_EFORBIDDEN, "outside_division",
                       "division %s is outside your divisions", division);
        goto refused;
    }
    if ((rc = store_begin(s, err))) goto refused;
    if ((rc = find(s, division, f->year, out, err)) != 0) {
        store_rollback(s);
        return rc > 0 ? 0 : rc;
    }
    st = store_stmt(s, "INSERT INTO report_filings (division_code, year, filed_at_ms, user_id, "
                       "username) VALUES (?, ?, ?, ?, ?)");
    if (!st) {
        rc = store_fail(s, SQLITE_ERROR, err);
        goto fail;
    }
    sqlite3_bind_text(st, 1, division, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, f->year);
    sqlite3_bind_int64(st, 3, util_now_ms());
    sqlite3_bind_int64(st, 4, p->user_id);
    sqlite3_bind_text(st, 5, p->username, -1, SQLITE_STATIC);
    if ((rc = sqlite3_step(st)) != SQLITE_DONE) {
        rc = store_fail(s, rc, err);
        goto fail;
    }
    char target[32];
    snprintf(target, sizeof target, "%s/%d", division, (int)f->year);
    audit_record(s, p, "reports.filed", target, "ok", NULL);
    if ((rc = find(s, division, f->year, out, err)) != 1) {
        if (rc == 0) rc = sync_fail(err, SYNC_EINTERNAL, "storage_error", "mark not stored");
        goto fail;
    }
    if ((rc = store_commit(s, err))) goto fail;
    return 0;
fail:
    store_rollback(s);
    if (*out) protobuf_c_message_free_unpacked(&(*out)->base, NULL);
    *out = NULL;
refused:
    audit_record(s, p, "reports.filed", division, err->code, err->message);
    return rc;
}

int filings_list(store *s, const principal *p, int year, Outfall__V1__ReportFilingList **out,
                 sync_error *err) {
    *out = NULL;
    if (year < 2023 || year > 2999)
        return sync_fail(err, SYNC_EINVALID, "invalid_argument", "year must be 2023-2999");
    Outfall__V1__ReportFilingList *l = calloc(1, sizeof *l);
    if (!l) return sync_fail(err, SYNC_EINTERNAL, "out_of_memory", "out of memory");
    outfall__v1__report_filing_list__init(l);
    l->has_year = 1;
    l->year = year;
    char due[16];
    snprintf(due, sizeof due, "%04d-01-10", year + 1);
    l->due = strdup(due);
    int rc = 0;
    sqlite3_stmt *st = store_stmt(s, "SELECT d.code, ?1, f.filed_at_ms, f.username "
                                     "FROM divisions d LEFT JOIN report_filings f "
                                     "ON f.division_code = d.code AND f.year = ?1 "
                                     "WHERE d.level = 'county' ORDER BY d.code");
    if (!st) {
        rc = store_fail(s, SQLITE_ERROR, err);
        goto done;
    }
    sqlite3_bind_int(st, 1, year);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *code = (const char *)sqlite3_column_text(st, 0);
        if (!principal_covers(p, code)) continue;
        if (sqlite3_column_type(st, 2) == SQLITE_NULL) {
            char **grown = realloc(l->missing, (l->n_missing + 1) * sizeof *grown);
            if (!grown) break;
            l->missing = grown;
            l->missing[l->n_missing++] = strdup(code);
        } else {
            Outfall__V1__ReportFiling **grown = realloc(l->filed, (l->n_filed + 1) * sizeof *grown);
            if (!grown) break;
            l->filed = grown;
            Outfall__V1__ReportFiling *f = filing_of(st);
            if (f) l->filed[l->n_filed++] = f;
        }
    }
    sqlite3_reset(st);
    rc = rc == SQLITE_DONE ? 0 : store_fail(s, rc == SQLITE_ROW ? SQLITE_NOMEM : rc, err);
done:
    if (rc) {
        protobuf_c_message_free_unpacked(&l->base, NULL);
        return rc;
    }
    *out = l;
    return 0;
}
