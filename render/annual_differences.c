#include "render/annual_differences.h"

#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "render/text.h"

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

/* Appends text[n] escaped for HTML, "—" when text is NULL. */
static void html_slice(text_buf *t, const char *text, size_t n) {
    if (!text) {
        text_add(t, "—");
        return;
    }
    char *copy = malloc(n + 1);
    if (!copy) {
        t->oom = 1;
        return;
    }
    memcpy(copy, text, n);
    copy[n] = '\0';
    text_add_html(t, copy);
    free(copy);
}

/* One row of the HTML table: what, as filed, as now (either may be absent). */
static void diff_row(text_buf *t, int html, const char *what, size_t what_n, const char *filed,
                     size_t filed_n, const char *now, size_t now_n) {
    if (!html) return;
    text_add(t, "<tr><td>");
    html_slice(t, what, what_n);
    text_add(t, "</td><td>");
    html_slice(t, filed, filed_n);
    text_add(t, "</td><td>");
    html_slice(t, now, now_n);
    text_add(t, "</td></tr>\n");
}

/* Appends to t what differs between the filed CSV and today's (see annual_differences). */
static void differences(text_buf *t, int html, const annual_filing *filed, const char *now,
                        size_t now_len) {
    size_t at, n = 0, changes = 0;
    const char *l;
    char day[11];
    util_date_of_ms(filed->filed_at_ms, day);
    if (html) {
        text_add(t, "<h2>六、报送后的变化（第 %d 次报送，%s，", filed->number, day);
        text_add_html(t, filed->username ? filed->username : "");
        text_add(t, "）</h2>\n<table>\n<tr><th>项目</th><th>报送时</th><th>现在</th></tr>\n");
    } else {
        text_add(t, "since_filing,,filing,,,%s,,,%d\r\n", day, filed->number);
    }
    size_t line_no = 0;
    at = 0;
    while ((l = csv_line(filed->csv, filed->csv_len, &at, &n))) {
        if (line_no++ == 0 || csv_has(now, now_len, l, n)) continue; /* the header, or unchanged */
        const char *nm, *v, *cur = NULL;
        size_t nn, vn, cn = 0;
        changes++;
        if (!html) {
            const char *comma = memchr(l, ',', n);
            text_add(t, "filed%.*s\r\n", comma ? (int)(n - (size_t)(comma - l)) : 0,
                     comma ? comma : "");
        } else if (summary_of(l, n, &nm, &nn, &v, &vn)) {
            cur = summary_value(now, now_len, nm, nn, &cn);
            diff_row(t, html, nm, nn, v, vn, cur, cn);
        } else {
            diff_row(t, html, l, n, "列入", strlen("列入"), NULL, 0);
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
                diff_row(t, html, nm, nn, NULL, 0, v, vn), changes++;
            continue; /* a changed figure was written with the filed lines */
        }
        changes++;
        diff_row(t, html, l, n, NULL, 0, "列入", strlen("列入"));
    }
    if (html) {
        if (!changes) text_add(t, "<tr><td colspan=\"3\">无变化</td></tr>\n");
        text_add(t, "</table>\n");
    }
}

char *annual_differences(const char *page, size_t page_len, int html, const annual_filing *filed,
                         const char *now_csv, size_t now_csv_len, size_t *len) {
    static const char tail[] = "</body></html>\n";
    size_t keep = page_len;
    if (html && page_len >= strlen(tail) &&
        memcmp(page + page_len - strlen(tail), tail, strlen(tail)) == 0)
        keep = page_len - strlen(tail);
    text_buf t = {0};
    text_add(&t, "%.*s", (int)keep, page);
    differences(&t, html, filed, now_csv, now_csv_len);
    if (html) text_add(&t, "%s", tail);
    return text_take(&t, len);
}
