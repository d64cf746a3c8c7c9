/* Tests for render/annual_report.c: the annual county report's CSV (byte-order mark, header,
 * every figure by its key, the year's-end standing and targets, the closed, retained and overdue
 * lines with text through csv_text) and its HTML page (the division's name escaped, the five
 * sections, the targets' standing in words, "无" rows for empty lists, listed cells escaped). The
 * report from real data is checked in tests/api/test_progress*.c and tests/programme. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "render/annual_report.h"

/* A report of 2024 with one figure of each section, one closed outfall whose name is a formula
 * and markup, nothing retained, one overdue plan, and the standing against two targets. */
typedef struct fixture {
    annual_report r;
    annual_report_line closed;
    Outfall__V1__OverduePlan plan, *plans[1];
    Outfall__V1__TargetCheck traced, remediated, *checks[2];
    Outfall__V1__ProgressRow standing;
} fixture;

static const char *const overdue_rivers[] = {"丹河"}; /* R1's name */

static void fixture_fill(fixture *f) {
    memset(f, 0, sizeof *f);
    static char *cells[ANNUAL_REPORT_CELLS] = {
        "C-2", "=cmd|' /C calc'!A0<b>", "沁河", "BAN", "2024-05-01", "某厂", "91410800MA000000X"};
    memcpy(f->closed.cell, cells, sizeof cells);
    outfall__v1__overdue_plan__init(&f->plan);
    f->plan.outfall_id = "o-9";
    f->plan.name = "北口";
    f->plan.river_code = "R1";
    f->plan.due = "2024-06-30";
    f->plan.has_measure = 1;
    f->plan.measure = OUTFALL__V1__REMEDIATION_MEASURE__REMEDIATION_MEASURE_MERGE;
    f->plan.has_days_overdue = 1;
    f->plan.days_overdue = 184;
    f->plans[0] = &f->plan;
    outfall__v1__target_check__init(&f->traced);
    f->traced.metric = "traced";
    f->traced.deadline = "2023-12-31";
    f->traced.target_pct = 80.0;
    f->traced.actual_pct = 90.0;
    f->traced.status = OUTFALL__V1__TARGET_STATUS__TARGET_STATUS_ON_TRACK;
    outfall__v1__target_check__init(&f->remediated);
    f->remediated.metric = "remediated";
    f->remediated.deadline = "2024-12-31";
    f->remediated.target_pct = 70.0;
    f->remediated.actual_pct = 50.0;
    f->remediated.status = OUTFALL__V1__TARGET_STATUS__TARGET_STATUS_BEHIND;
    f->checks[0] = &f->traced;
    f->checks[1] = &f->remediated;
    outfall__v1__progress_row__init(&f->standing);
    f->standing.traced_pct = 90.0;
    f->standing.remediated_pct = 50.0;
    f->standing.n_targets = 2;
    f->standing.targets = f->checks;
    f->r = (annual_report){.year = 2024,
                           .division_name = "解放区<&>",
                           .from = "2024-01-01",
                           .to = "2024-12-31",
                           .found = 10,
                           .traced = 9,
                           .remediated = 5,
                           .closed = 1,
                           .retained = 0,
                           .overdue = 1,
                           .standing = &f->standing,
                           .closed_list = &f->closed,
                           .n_closed = 1,
                           .overdue_list = f->plans,
                           .overdue_rivers = overdue_rivers,
                           .n_overdue = 1};
    f->r.fig[ANNUAL_REPORT_FOUND] = 4;
    f->r.fig[ANNUAL_REPORT_REPORTS_BORROWED] = 2;
}

static void the_csv_gives_every_figure_the_standing_and_the_listed_outfalls(void **state) {
    (void)state;
    fixture f;
    fixture_fill(&f);
    size_t len = 0;
    char *csv = annual_report_csv(&f.r, &len);
    assert_non_null(csv);
    assert_int_equal(len, strlen(csv));
    const char *want_start = "\xEF\xBB\xBF"
                             "section,code,name,river,measure,date,party,credit_code,value\r\n"
                             "summary,,found_in_year,,,,,,4\r\nsummary,,traced_in_year,,,,,,0\r\n";
    assert_memory_equal(csv, want_start, strlen(want_start));
    const char *want_end =
        "summary,,public_reports_borrowed_use,,,,,,2\r\n"
        "summary,,found_by_year_end,,,,,,10\r\nsummary,,traced_by_year_end,,,,,,9\r\n"
        "summary,,remediated_by_year_end,,,,,,5\r\nsummary,,overdue_plans,,,,,,1\r\n"
        "summary,,traced_pct,,,2024-12-31,,,90.0\r\nsummary,,traced_status,,,2023-12-31,,,ON_"
        "TRACK\r\n"
        "summary,,remediated_pct,,,2024-12-31,,,50.0\r\n"
        "summary,,remediated_status,,,2024-12-31,,,BEHIND\r\n"
        "closed,C-2,'=cmd|' /C calc'!A0<b>,沁河,BAN,2024-05-01,某厂,91410800MA000000X,\r\n"
        "overdue,o-9,北口,R1,MERGE,2024-06-30,,,184\r\n";
    assert_true(len > strlen(want_end));
    assert_string_equal(csv + len - strlen(want_end), want_end);
    free(csv);
}

static void the_page_escapes_text_and_shows_the_sections_and_the_targets_in_words(void **state) {
    (void)state;
    fixture f;
    fixture_fill(&f);
    size_t len = 0;
    char *html = annual_report_html(&f.r, &len);
    assert_non_null(html);
    assert_int_equal(len, strlen(html));
    static const char *const parts[] = {
        "<!DOCTYPE html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>"
        "解放区&lt;&amp;&gt; 2024 年度入河排污口监督管理工作报告</title>",
        "<p>统计期间 2024-01-01 至 2024-12-31（北京时间）；",
        "<tr><th>年内排查发现</th><td>4</td></tr>\n",
        "<tr><th>已溯源</th><td>9（90.0%）</td></tr>\n",
        "<tr><th>溯源目标（2023-12-31 前 80%）</th><td>达到进度</td></tr>\n",
        "<tr><th>整治目标（2024-12-31 前 70%）</th><td>滞后</td></tr>\n",
        /* the page names the river and the measure in words; the CSV keeps their codes */
        "<tr><td>o-9</td><td>北口</td><td>丹河</td><td>合并</td><td>2024-06-30</td>"
        "<td>184</td></tr>\n",
        "<h2>三、年内销号排污口</h2>",
        "<td>=cmd|&#39; /C calc&#39;!A0&lt;b&gt;</td><td>沁河</td><td>取缔</td>",
        "<h2>四、保留排污口清单（截至年底）</h2>\n<table>\n<tr><th>编码</th><th>名称</th>"
        "<th>河流</th><th>措施</th><th>日期</th><th>责任主体</th><th>统一社会信用代码</th></tr>\n"
        "<tr><td colspan=\"7\">无</td></tr>\n</table>\n",
        "<tr><th>其中：私设暗管借道排污</th><td>2</td></tr>\n</table>\n</body></html>\n",
    };
    const char *at = html;
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        const char *found = strstr(at, parts[i]);
        if (!found) fail_msg("not found in order: %s", parts[i]);
        at = found + strlen(parts[i]);
    }
    assert_null(strstr(html, "<b>"));
    free(html);
}

static void an_empty_year_has_none_rows_and_no_standing_gives_zero_percentages(void **state) {
    (void)state;
    annual_report r = {.year = 2025, .division_name = "", .from = "2025-01-01", .to = "2025-12-31"};
    size_t len = 0;
    char *html = annual_report_html(&r, &len);
    assert_non_null(html);
    assert_non_null(strstr(html, "<tr><th>已溯源</th><td>0（0.0%）</td></tr>\n"));
    assert_non_null(strstr(html, "<tr><td colspan=\"6\">无</td></tr>\n</table>\n"));
    const char *first = strstr(html, "<tr><td colspan=\"7\">无</td></tr>\n");
    assert_non_null(first);
    assert_non_null(strstr(first + 1, "<tr><td colspan=\"7\">无</td></tr>\n"));
    free(html);
    char *csv = annual_report_csv(&r, &len);
    assert_non_null(csv);
    assert_string_equal(csv + len - strlen("summary,,overdue_plans,,,,,,0\r\n"),
                        "summary,,overdue_plans,,,,,,0\r\n");
    free(csv);
}

static void a_measures_name_loses_its_prefix(void **state) {
    (void)state;
    assert_string_equal(annual_report_measure("REMEDIATION_MEASURE_BAN"), "BAN");
    assert_string_equal(annual_report_measure("OTHER"), "OTHER");
    assert_string_equal(annual_report_measure(NULL), "");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_csv_gives_every_figure_the_standing_and_the_listed_outfalls),
        cmocka_unit_test(the_page_escapes_text_and_shows_the_sections_and_the_targets_in_words),
        cmocka_unit_test(an_empty_year_has_none_rows_and_no_standing_gives_zero_percentages),
        cmocka_unit_test(a_measures_name_loses_its_prefix),
    };
    return cmocka_run_group_tests_name("render/annual_report", tests, NULL, NULL);
}
