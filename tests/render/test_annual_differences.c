/* Tests for render/annual_differences.c: today's annual report followed by what changed since it
 * was filed — a changed figure with its filed and current value, an outfall listed since, and
 * one no longer listed; the page's closing tags kept last; the filer's name escaped; the CSV's
 * since_filing line and the filed lines that no longer hold; no change said as such. The whole
 * path through the server: tests/api/test_filings.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "render/annual_differences.h"

#define BOM "\xEF\xBB\xBF"
#define HEAD "section,code,name,river,measure,date,party,credit_code,value\r\n"

static const char filed_csv[] = BOM HEAD "summary,,traced_in_year,,,,,,1\r\n"
                                         "closed,C-1,甲,沁河,BAN,2024-05-01,,,\r\n";
static const char now_csv[] = BOM HEAD "summary,,traced_in_year,,,,,,2\r\n"
                                       "closed,C-2,乙,丹河,MERGE,2024-07-01,,,\r\n";
static const char page[] = "<!DOCTYPE html>\n<html><body><h1>报告</h1>\n</body></html>\n";

static const annual_filing filing = {
    .number = 1,
    .filed_at_ms = 1735689600000LL, /* 2025-01-01 00:00 UTC */
    .username = "<zhou>",
    .csv = filed_csv,
    .csv_len = sizeof filed_csv - 1,
};

static void the_page_lists_each_change_in_section_six_before_its_closing_tags(void **state) {
    (void)state;
    size_t len = 0;
    char *html =
        annual_differences(page, sizeof page - 1, 1, &filing, now_csv, sizeof now_csv - 1, &len);
    assert_non_null(html);
    assert_int_equal(len, strlen(html));
    const char *parts[] = {
        "<h1>报告</h1>\n",
        "<h2>六、报送后的变化（第 1 次报送，2025-01-01，&lt;zhou&gt;）</h2>",
        "<tr><td>traced_in_year</td><td>1</td><td>2</td></tr>",
        "<tr><td>closed,C-1,甲,沁河,BAN,2024-05-01,,,</td><td>列入</td><td>—</td></tr>",
        "<tr><td>closed,C-2,乙,丹河,MERGE,2024-07-01,,,</td><td>—</td><td>列入</td></tr>",
        "</table>\n</body></html>\n",
    };
    const char *at = html;
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        const char *found = strstr(at, parts[i]);
        if (!found) fail_msg("not found in order: %s\n%s", parts[i], html);
        at = found + strlen(parts[i]);
    }
    assert_string_equal(at, "");
    free(html);
}

static void the_csv_adds_the_filed_lines_that_no_longer_hold(void **state) {
    (void)state;
    size_t len = 0;
    char *csv = annual_differences(now_csv, sizeof now_csv - 1, 0, &filing, now_csv,
                                   sizeof now_csv - 1, &len);
    assert_non_null(csv);
    const char *tail = strstr(csv, "since_filing,,filing,,,2025-01-01,,,1\r\n");
    assert_non_null(tail);
    assert_string_equal(tail, "since_filing,,filing,,,2025-01-01,,,1\r\n"
                              "filed,,traced_in_year,,,,,,1\r\n"
                              "filed,C-1,甲,沁河,BAN,2024-05-01,,,\r\n");
    assert_memory_equal(csv, now_csv, sizeof now_csv - 1); /* today's report first, whole */
    free(csv);
}

static void nothing_changed_says_so(void **state) {
    (void)state;
    annual_filing same = filing;
    same.csv = now_csv;
    same.csv_len = sizeof now_csv - 1;
    size_t len = 0;
    char *html =
        annual_differences(page, sizeof page - 1, 1, &same, now_csv, sizeof now_csv - 1, &len);
    assert_non_null(strstr(html, "<tr><td colspan=\"3\">无变化</td></tr>\n</table>\n"));
    free(html);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_page_lists_each_change_in_section_six_before_its_closing_tags),
        cmocka_unit_test(the_csv_adds_the_filed_lines_that_no_longer_hold),
        cmocka_unit_test(nothing_changed_says_so),
    };
    return cmocka_run_group_tests_name("annual differences", tests, NULL, NULL);
}
