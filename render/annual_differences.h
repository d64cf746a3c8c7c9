/* The annual report with what changed since it was filed (四.一; programme/filings.c asks for it
 * with `current=1`): today's report followed by section 六, the differences between the filed
 * CSV and today's. Plain data in, bytes out. */
#ifndef RENDER_ANNUAL_DIFFERENCES_H
#define RENDER_ANNUAL_DIFFERENCES_H

#include <stddef.h>
#include <stdint.h>

/* The filing compared against: its number, when and by whom, and the CSV it filed. */
typedef struct annual_filing {
    int number;
    int64_t filed_at_ms;
    const char *username;
    const char *csv; /* as filed: UTF-8 with a byte-order mark, CRLF lines */
    size_t csv_len;
} annual_filing;

/* page (today's report, page_len bytes; HTML when html, else CSV) followed by the differences
 * between filed->csv and now_csv: per summary figure its filed and current value, per listed
 * outfall (closed, retained) whether it is listed. HTML: a table "六、报送后的变化" before the
 * page's closing tags; CSV: a `since_filing` line, then each filed line that no longer holds with
 * section "filed" in place of its own. Returns a malloc'd text and its length in *len, or NULL
 * when out of memory. */
char *annual_differences(const char *page, size_t page_len, int html, const annual_filing *filed,
                         const char *now_csv, size_t now_csv_len, size_t *len);

#endif
