#include "programme/filings.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "programme/export.h"
#include "programme/progress.h"
#include "render/annual_differences.h"
#include "sync/accounts.h"

/* One stored filing: its number, when and by whom, the filed bytes and their hashes. */
typedef struct copy {
    int number;
    int64_t filed_at_ms;
    char *username, *html, *csv, *html_hash, *csv_hash;
    size_t html_len, csv_len;
} copy;

static void copy_free(copy *c) {
    free(c->username);
    free(c->html);
    free(c->csv);
    free(c->html_hash);
    free(c->csv_hash);
    memset(c, 0, sizeof *c);
}

static char *column_dup(sqlite3_stmt *st, int i, size_t *len) {
    size_t n = (size_t)sqlite3_column_bytes(st, i);
    const void *v = sqlite3_column_blob(st, i);
    char *out = malloc(n + 1);
    if (!out) return NULL;
    if (n) memcpy(out, v, n);
    out[n] = '\0';
    if (len) *len = n;
    return out;
}

/* Filing `number` of division and year (0: the latest) into *c: 1 found, 0 none, < 0 on
 * failure. Free *c with copy_free. */
static int copy_find(store *s, const char *division, int year, int number, copy *c,
                     sync_error *err) {
    memset(c, 0, sizeof *c);
    sqlite3_stmt *st = store_stmt(s, "SELECT number, filed_at_ms, username, html, csv, html_hash, "
                                     "csv_hash FROM report_filing_copies WHERE division_code = ?1 "
                                     "AND year = ?2 AND (?3 = 0 OR number = ?3) "
                                     "ORDER BY number DESC LIMIT 1");
    if (!st) return store_fail(s, SQLITE_ERROR, err);
    sqlite3_bind_text(st, 1, division, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, year);
    sqlite3_bind_int(st, 3, number);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        c->number = sqlite3_column_int(st, 0);
        c->filed_at_ms = sqlite3_column_int64(st, 1);
        c->username = column_dup(st, 2, NULL);
        c->html = column_dup(st, 3, &c->html_len);
        c->csv = column_dup(st, 4, &c->csv_len);
        c->html_hash = column_dup(st, 5, NULL);
        c->csv_hash = column_dup(st, 6, NULL);
    }
    sqlite3_reset(st);
    if (rc == SQLITE_ROW) {
        if (c->username && c->html && c->csv && c->html_hash && c->csv_hash) return 1;
        copy_free(c);
        return sync_fail(err, SYNC_EINTERNAL, "out_of_memory", "out of memory");
    }
    return rc == SQLITE_DONE ? 0 : store_fail(s, rc, err);
}

/* Adds the filing's number and hashes to a ReportFiling answer. */
static int with_copy(Outfall__V1__ReportFiling *f, const copy *c) {
    if (!c->number) return 0;
    f->has_number = 1;
    f->number = c->number;
    f->filed_at_ms = c->filed_at_ms;
    free(f->filed_by);
    f->filed_by = strdup(c->username);
    f->html_hash = strdup(c->html_hash);
    f->csv_hash = strdup(c->csv_hash);
    return f->filed_by && f->html_hash && f->csv_hash ? 0 : -1;
}

/* The year now in China Standard Time. */
static int year_now(void) {
    char today[11];
    util_date_of_ms(util_now_ms(), today);
    return atoi(today);
}

/* Renders the report of division for year as p would see it now, HTML and CSV, and stores it as
 * filing `number` by p (comment: a correction's reason). Inside the caller's transaction. */
static int copy_store(store *s, const principal *p, const char *division, int year, int number,
                      const char *comment, char hashes[2][HASH_HEX_LEN + 1], sync_error *err) {
    char *html = NULL, *csv = NULL;
    size_t html_len = 0, csv_len = 0;
    int rc = progress_annual(s, p, year, division, PROGRESS_ANNUAL_HTML, &html, &html_len, err);
    if (!rc) rc = progress_annual(s, p, year, division, PROGRESS_ANNUAL_CSV, &csv, &csv_len, err);
    if (rc) goto done;
    util_blake2b_hex(html, html_len, hashes[0]);
    util_blake2b_hex(csv, csv_len, hashes[1]);
    sqlite3_stmt *st =
        store_stmt(s, "INSERT INTO report_filing_copies (division_code, year, "
                      "number, filed_at_ms, user_id, username, comment, html, csv, "
                      "html_hash, csv_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    if (!st) {
        rc = store_fail(s, SQLITE_ERROR, err);
        goto done;
    }
    sqlite3_bind_text(st, 1, division, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, year);
    sqlite3_bind_int(st, 3, number);
    sqlite3_bind_int64(st, 4, util_now_ms());
    sqlite3_bind_int64(st, 5, p->user_id);
    sqlite3_bind_text(st, 6, p->username, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 7, comment, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 8, html, (int)html_len, SQLITE_STATIC);
    sqlite3_bind_blob(st, 9, csv, (int)csv_len, SQLITE_STATIC);
    sqlite3_bind_text(st, 10, hashes[0], -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 11, hashes[1], -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    sqlite3_clear_bindings(st);
    sqlite3_reset(st);
    rc = rc == SQLITE_DONE ? 0 : store_fail(s, rc, err);
done:
    free(html);
    free(csv);
    return rc;
}

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

/* Checks who marks what: role, year (ended), a county p covers. */
static int mark_allowed(store *s, const principal *p, const Outfall__V1__ReportFiling *f,
                        const char *division, sync_error *err) {
    if (p->role != OUTFALL__V1__ROLE__ROLE_SUPERVISOR && p->role != OUTFALL__V1__ROLE__ROLE_ADMIN)
        return sync_fail(err, SYNC_EFORBIDDEN, "forbidden_role", "only supervisors mark reports");
    if (!f->has_year || f->year < 2023 || f->year > 2999)
        return sync_fail(err, SYNC_EINVALID, "invalid_argument", "year must be 2023-2999");
    int now = year_now();
    if (f->year >= now)
        return sync_fail(err, SYNC_EINVALID, "filing_year_not_ended",
                         "the report for %d cannot be filed before the year has ended (it is %d "
                         "now): file it from 1 January %d",
                         (int)f->year, now, (int)f->year + 1);
    if (f->has_corrects && (f->corrects < 1 || !f->comment || !*f->comment))
        return sync_fail(err, SYNC_EINVALID, "comment_required",
                         "a correction names the filing it corrects (1 or more) and says why in "
                         "comment");
    if (f->comment && strlen(f->comment) > 2000)
        return sync_fail(err, SYNC_EINVALID, "invalid_argument", "a comment is at most 2000 bytes");
    sqlite3_stmt *st = store_stmt(s, "SELECT level FROM divisions WHERE code = ?");
    if (!st) return store_fail(s, SQLITE_ERROR, err);
    sqlite3_bind_text(st, 1, division, -1, SQLITE_STATIC);
    int found = sqlite3_step(st) == SQLITE_ROW;
    int county = found && strcmp((const char *)sqlite3_column_text(st, 0), "county") == 0;
    sqlite3_reset(st);
    if (!found)
        return sync_fail(err, SYNC_EINVALID, "unknown_division", "no division %.16s", division);
    if (!county)
        return sync_fail(err, SYNC_EINVALID, "invalid_argument",
                         "a county files its report with the city: name a county division");
    if (!principal_covers(p, division))
        return sync_fail(err, SYNC_EFORBIDDEN, "outside_division",
                         "division %s is outside your divisions", division);
    return 0;
}

/* Inside the transaction: the answer for a mark or a correction already made (1, *out set), or 0
 * when a new filing is to be made, with *number its number. */
static int earlier_filing(store *s, const Outfall__V1__ReportFiling *f, const char *division,
                          int *number, Outfall__V1__ReportFiling **out, sync_error *err) {
    copy latest = {0}, asked = {0};
    int rc = find(s, division, f->year, out, err);
    if (rc < 0) return rc;
    int marked = rc == 1;
    if ((rc = copy_find(s, division, f->year, 0, &latest, err)) < 0) goto done;
    *number = latest.number + 1;
    rc = 0;
    if (!f->has_corrects) {
        rc = marked; /* a repeat answers the latest filing */
        if (marked && with_copy(*out, &latest))
            rc = sync_fail(err, SYNC_EINTERNAL, "out_of_memory", "out of memory");
        goto done;
    }
    if (!marked || (int)f->corrects > latest.number) {
        rc = sync_fail(err, SYNC_EINVALID, "invalid_argument",
                       "there is no filing %d of %s for %d to correct (the latest is %d)",
                       (int)f->corrects, division, (int)f->year, latest.number);
        goto done;
    }
    if ((int)f->corrects < latest.number) {
        /* A retry: the filing that corrected it answers. */
        if ((rc = copy_find(s, division, f->year, (int)f->corrects + 1, &asked, err)) < 0)
            goto done;
        if (rc == 1 && with_copy(*out, &asked))
            rc = sync_fail(err, SYNC_EINTERNAL, "out_of_memory", "out of memory");
        goto done;
    }
    protobuf_c_message_free_unpacked(&(*out)->base, NULL);
    *out = NULL;
done:
    if (rc <= 0 && *out) {
        protobuf_c_message_free_unpacked(&(*out)->base, NULL);
        *out = NULL;
    }
    copy_free(&latest);
    copy_free(&asked);
    return rc;
}

int filings_mark(store *s, const principal *p, const Outfall__V1__ReportFiling *f,
                 Outfall__V1__ReportFiling **out, sync_error *err) {
    *out = NULL;
    const char *division = f->division_code ? f->division_code : "";
    int number = 0;
    char hashes[2][HASH_HEX_LEN + 1], target[32], detail[2300];
    copy made = {0};
    int rc = mark_allowed(s, p, f, division, err);
    if (rc) goto refused;
    if ((rc = store_begin(s, err))) goto refused;
    if ((rc = earlier_filing(s, f, division, &number, out, err)) != 0) {
        store_rollback(s);
        if (rc > 0) return 0;
        goto refused;
    }
    if (number == 1) {
        sqlite3_stmt *st =
            store_stmt(s, "INSERT OR IGNORE INTO report_filings (division_code, year, filed_at_ms, "
                          "user_id, username) VALUES (?, ?, ?, ?, ?)");
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
    }
    if ((rc = copy_store(s, p, division, f->year, number, f->has_corrects ? f->comment : NULL,
                         hashes, err)))
        goto fail;
    snprintf(target, sizeof target, "%s/%d", division, (int)f->year);
    snprintf(detail, sizeof detail, "filing %d%s%s: html blake2b-256 %s, csv blake2b-256 %s",
             number, f->has_corrects ? ", a correction: " : "", f->has_corrects ? f->comment : "",
             hashes[0], hashes[1]);
    audit_record(s, p, f->has_corrects ? "reports.corrected" : "reports.filed", target, "ok",
                 detail);
    if ((rc = find(s, division, f->year, out, err)) != 1 ||
        (rc = copy_find(s, division, f->year, number, &made, err)) != 1) {
        if (rc == 0) rc = sync_fail(err, SYNC_EINTERNAL, "storage_error", "filing not stored");
        goto fail;
    }
    if (with_copy(*out, &made)) {
        rc = sync_fail(err, SYNC_EINTERNAL, "out_of_memory", "out of memory");
        goto fail;
    }
    if ((rc = store_commit(s, err))) goto fail;
    copy_free(&made);
    return 0;
fail:
    store_rollback(s);
    copy_free(&made);
    if (*out) protobuf_c_message_free_unpacked(&(*out)->base, NULL);
    *out = NULL;
refused:
    audit_record(s, p, f->has_corrects ? "reports.corrected" : "reports.filed", division, err->code,
                 err->message);
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

/* --- the filed report and the differences since ------------------------------------------------
 */

int filings_annual(store *s, const principal *p, const filings_report_query *q, char **out,
                   size_t *len, int *number, sync_error *err) {
    *out = NULL;
    *len = 0;
    *number = 0;
    copy filed = {0};
    char *now = NULL, *now_csv = NULL;
    size_t now_len = 0, now_csv_len = 0;
    int rc = export_check(s, p, &(export_query){.division_code = q->division}, err);
    if (rc) return rc;
    if ((rc = copy_find(s, q->division, q->year, q->filing, &filed, err)) < 0) return rc;
    if (rc == 0 && q->filing) {
        rc = sync_fail(err, SYNC_ENOTFOUND, "not_found", "%s has no filing %d for %d", q->division,
                       q->filing, q->year);
        goto done;
    }
    if (rc == 1 && !q->current) { /* exactly the bytes filed */
        int csv = q->format == PROGRESS_ANNUAL_CSV;
        *len = csv ? filed.csv_len : filed.html_len;
        *out = csv ? filed.csv : filed.html;
        if (csv)
            filed.csv = NULL;
        else
            filed.html = NULL;
        *number = filed.number;
        rc = 0;
        goto done;
    }
    int have_filing = rc == 1;
    if ((rc = progress_annual(s, p, q->year, q->division, q->format, &now, &now_len, err)))
        goto done;
    if (!have_filing) {
        *out = now;
        *len = now_len;
        now = NULL;
        goto done;
    }
    if (q->format == PROGRESS_ANNUAL_CSV) {
        now_csv = now;
        now_csv_len = now_len;
        now = NULL;
    } else if ((rc = progress_annual(s, p, q->year, q->division, PROGRESS_ANNUAL_CSV, &now_csv,
                                     &now_csv_len, err))) {
        goto done;
    }
    const char *page = q->format == PROGRESS_ANNUAL_CSV ? now_csv : now;
    size_t page_len = q->format == PROGRESS_ANNUAL_CSV ? now_csv_len : now_len;
    annual_filing since = {filed.number, filed.filed_at_ms, filed.username, filed.csv,
                           filed.csv_len};
    *out = annual_differences(page, page_len, q->format == PROGRESS_ANNUAL_HTML, &since, now_csv,
                              now_csv_len, len);
    if (!*out) {
        rc = sync_fail(err, SYNC_EINTERNAL, "out_of_memory", "out of memory");
        goto done;
    }
    *number = filed.number;
done:
    free(now);
    free(now_csv);
    copy_free(&filed);
    return rc;
}
