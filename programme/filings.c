#include "programme/filings.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "programme/export.h"
#include "programme/progress.h"
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

/* A growing text. */
typedef struct buf {
    char *s;
    size_t len, cap;
    int oom;
} buf;

static void buf_add(buf *b, const char *data, size_t n) {
    if (b->oom) return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = (b->len + n + 1) * 2;
        char *grown = realloc(b->s, cap);
        if (!grown) {
            b->oom = 1;
            return;
        }
        b->s = grown;
        b->cap = cap;
    }
    memcpy(b->s + b->len, data, n);
    b->len += n;
    b->s[b->len] = '\0';
}

static void buf_str(buf *b, const char *text) {
    buf_add(b, text, strlen(text));
}

/* Text for an HTML page: & < > " escaped. */
static void buf_html(buf *b, const char *text, size_t n) {
    for (size_t i = 0; i < n; i++) {
        const char *esc = text[i] == '&'   ? "&amp;"
                          : text[i] == '<' ? "&lt;"
                          : text[i] == '>' ? "&gt;"
                          : text[i] == '"' ? "&quot;"
                                           : NULL;
        if (esc)
            buf_str(b, esc);
        else
            buf_add(b, text + i, 1);
    }
}

/* The next CRLF line of a CSV at *at (past the byte-order mark), its length in *n; NULL at the
 * end. */
static const char *csv_line(const char *csv, size_t len, size_t *at, size_t *n) {
    if (*at == 0 && len >= 3 && memcmp(csv, "\xEF\xBB\xBF", 3) == 0) *at = 3;
    if (*at >= len) return NULL;
    const char *line = csv + *at;
    const char *end = memchr(line, '\n', len - *at);
    size_t full = end ? (size_t)(end - line) + 1 : len - *at;
    *at += full;
    *n = full;
    while (*n && (line[*n - 1] == '\n' || line[*n - 1] == '\r'))
        (*n)--;
    return line;
}

/* 1 when the CSV holds exactly this line. */
static int csv_has(const char *csv, size_t len, const char *line, size_t n) {
    size_t at = 0, m = 0;
    for (const char *l; (l = csv_line(csv, len, &at, &m));)
        if (m == n && memcmp(l, line, n) == 0) return 1;
    return 0;
}

/* A summary line's figure name (its third cell) and value (its last), or 0 when not one. */
static int summary_of(const char *line, size_t n, const char **name, size_t *name_n,
                      const char **value, size_t *value_n) {
    if (n < 10 || memcmp(line, "summary,,", 9) != 0) return 0;
    *name = line + 9;
    const char *comma = memchr(*name, ',', n - 9);
    if (!comma) return 0;
    *name_n = (size_t)(comma - *name);
    const char *last = line + n;
    while (last > line && last[-1] != ',')
        last--;
    *value = last;
    *value_n = (size_t)(line + n - last);
    return 1;
}

/* The summary value named name in csv, or NULL (its length in *n). */
static const char *summary_value(const char *csv, size_t len, const char *name, size_t name_n,
                                 size_t *n) {
    size_t at = 0, m = 0;
    for (const char *l; (l = csv_line(csv, len, &at, &m));) {
        const char *nm, *v;
        size_t nn, vn;
        if (summary_of(l, m, &nm, &nn, &v, &vn) && nn == name_n && memcmp(nm, name, nn) == 0) {
            *n = vn;
            return v;
        }
    }
    return NULL;
}

/* One line of the differences: what, as filed, as now (either may be absent). */
static void diff_row(buf *b, int format, const char *what, size_t what_n, const char *filed,
                     size_t filed_n, const char *now, size_t now_n) {
    if (format == PROGRESS_ANNUAL_CSV) return;
    buf_str(b, "<tr><td>");
    buf_html(b, what, what_n);
    buf_str(b, "</td><td>");
    if (filed)
        buf_html(b, filed, filed_n);
    else
        buf_str(b, "—");
    buf_str(b, "</td><td>");
    if (now)
        buf_html(b, now, now_n);
    else
        buf_str(b, "—");
    buf_str(b, "</td></tr>\n");
}

/* Appends to b what differs between the filed CSV and today's: per summary figure its filed and
 * current value, per listed outfall (closed, retained) whether it is listed. CSV: the filed
 * lines that no longer hold, each with section "filed" in place of its own; HTML: a table. */
static void differences(buf *b, int format, const copy *filed, const char *now, size_t now_len) {
    size_t at, n = 0, changes = 0;
    const char *l;
    if (format == PROGRESS_ANNUAL_HTML) {
        char head[256], day[11];
        util_date_of_ms(filed->filed_at_ms, day);
        snprintf(head, sizeof head,
                 "<h2>六、报送后的变化（第 %d 次报送，%s，%s）</h2>\n<table>\n<tr><th>项目</th>"
                 "<th>报送时</th><th>现在</th></tr>\n",
                 filed->number, day, filed->username);
        buf_str(b, head);
    } else {
        char head[160], day[11];
        util_date_of_ms(filed->filed_at_ms, day);
        snprintf(head, sizeof head, "since_filing,,filing,,,%s,,,%d\r\n", day, filed->number);
        buf_str(b, head);
    }
    size_t line_no = 0;
    at = 0;
    while ((l = csv_line(filed->csv, filed->csv_len, &at, &n))) {
        if (line_no++ == 0 || csv_has(now, now_len, l, n)) continue; /* the header, or unchanged */
        const char *nm, *v, *cur = NULL;
        size_t nn, vn, cn = 0;
        changes++;
        if (format == PROGRESS_ANNUAL_CSV) {
            const char *comma = memchr(l, ',', n);
            buf_str(b, "filed");
            if (comma) buf_add(b, comma, n - (size_t)(comma - l));
            buf_str(b, "\r\n");
        } else if (summary_of(l, n, &nm, &nn, &v, &vn)) {
            cur = summary_value(now, now_len, nm, nn, &cn);
            diff_row(b, format, nm, nn, v, vn, cur, cn);
        } else {
            diff_row(b, format, l, n, "列入", strlen("列入"), NULL, 0);
        }
    }
    line_no = 0;
    at = 0;
    while ((l = csv_line(now, now_len, &at, &n))) {
        const char *nm, *v;
        size_t nn, vn;
        if (line_no++ == 0 || csv_has(filed->csv, filed->csv_len, l, n)) continue;
        if (summary_of(l, n, &nm, &nn, &v, &vn)) {
            size_t fn = 0;
            if (!summary_value(filed->csv, filed->csv_len, nm, nn, &fn))
                diff_row(b, format, nm, nn, NULL, 0, v, vn), changes++;
            continue; /* a changed figure was written with the filed lines */
        }
        changes++;
        diff_row(b, format, l, n, NULL, 0, "列入", strlen("列入"));
    }
    if (format == PROGRESS_ANNUAL_HTML) {
        if (!changes) buf_str(b, "<tr><td colspan=\"3\">无变化</td></tr>\n");
        buf_str(b, "</table>\n");
    }
}

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
    buf b = {0};
    const char *page = q->format == PROGRESS_ANNUAL_CSV ? now_csv : now;
    size_t page_len = q->format == PROGRESS_ANNUAL_CSV ? now_csv_len : now_len;
    const char *tail = "</body></html>\n";
    size_t keep = page_len;
    if (q->format == PROGRESS_ANNUAL_HTML && page_len >= strlen(tail) &&
        memcmp(page + page_len - strlen(tail), tail, strlen(tail)) == 0)
        keep = page_len - strlen(tail);
    buf_add(&b, page, keep);
    differences(&b, q->format, &filed, now_csv, now_csv_len);
    if (q->format == PROGRESS_ANNUAL_HTML) buf_str(&b, tail);
    if (b.oom) {
        free(b.s);
        rc = sync_fail(err, SYNC_EINTERNAL, "out_of_memory", "out of memory");
        goto done;
    }
    *out = b.s;
    *len = b.len;
    *number = filed.number;
done:
    free(now);
    free(now_csv);
    copy_free(&filed);
    return rc;
}
