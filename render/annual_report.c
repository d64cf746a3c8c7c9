/* The annual county report as CSV and HTML (see annual_report.h). */
#include "render/annual_report.h"

#include <stdio.h>
#include <string.h>

#include "render/enum_labels.h"
#include "render/progress_csv.h"
#include "render/text.h"

enum { FORMAT_CSV, FORMAT_HTML };

/* The figures' CSV keys and HTML labels, in the enum's order. */
static const struct {
    const char *key, *label;
} figures[ANNUAL_REPORT_FIGURES] = {
    {"found_in_year", "年内排查发现"},
    {"traced_in_year", "年内完成溯源"},
    {"planned_in_year", "年内制定整治方案"},
    {"remediated_in_year", "年内完成整治"},
    {"remediated_ban", "其中：取缔"},
    {"remediated_merge", "其中：合并"},
    {"remediated_regularize", "其中：规范"},
    {"remediated_none", "另：无需整治（不计入整治）"},
    {"closed_in_year", "年内销号"},
    {"retained_in_year", "年内列入保留清单"},
    {"inspections_drawn", "年内随机抽取排污口（抽查任务）"},
    {"inspection_results", "其中：已提交检查结果"},
    {"inspection_results_approved", "其中：检查结果已审核公开"},
    {"inspections_not_done", "其中：逾期未检查（不计为检查）"},
    {"self_check_planned", "市县自查计划检查排污口"},
    {"self_check_done", "市县自查已完成（检查结果已审核）"},
    {"public_reports_received", "年内收到公众举报"},
    {"public_reports_answered", "年内答复公众举报"},
    {"public_reports_illegal_discharge", "其中：偷排、超标排放、违规设置排污口"},
    {"public_reports_borrowed_use", "其中：私设暗管借道排污"},
};

/* The head of the closed and retained lists' tables. */
static const char *const list_head[ANNUAL_REPORT_CELLS] = {
    "编码", "名称", "河流", "措施", "日期", "责任主体", "统一社会信用代码"};

const char *annual_report_measure(const char *m) {
    static const char prefix[] = "REMEDIATION_MEASURE_";
    return m && strncmp(m, prefix, sizeof prefix - 1) == 0 ? m + sizeof prefix - 1 : m ? m : "";
}

/* A measure (annual_report_measure's name: BAN, ...) in the report's words for the page, from
 * the labels the exports use (render/enum_labels.h); the CSV keeps the name. */
static const char *measure_label(const char *name) {
    char full[64];
    snprintf(full, sizeof full, "REMEDIATION_MEASURE_%s", name[0] ? name : "UNSPECIFIED");
    const char *label = enum_label(full);
    return label ? label : name;
}

/* A target's standing in the annual report's words: 达到进度, 滞后 or 未开始 (nothing found). */
static const char *status_label(int status) {
    return status == OUTFALL__V1__TARGET_STATUS__TARGET_STATUS_ON_TRACK      ? "达到进度"
           : status == OUTFALL__V1__TARGET_STATUS__TARGET_STATUS_NOT_STARTED ? "未开始"
                                                                             : "滞后";
}

/* Writes the plans overdue at the year's end (issue 18: listed, not only counted): in CSV one
 * `overdue` line each (code, name, river, measure, date = the due day, value = days overdue), in
 * HTML a table. */
static void annual_overdue(text_buf *t, const annual_report *r, int format) {
    if (format == FORMAT_HTML)
        text_add(t,
                 "<h3>逾期未完成整治的排污口（截至年底）</h3>\n<table>\n<tr><th>编码</th><th>名称"
                 "</th><th>河流</th><th>措施</th><th>期限</th><th>逾期天数</th></tr>\n");
    for (size_t i = 0; i < r->n_overdue; i++) {
        const Outfall__V1__OverduePlan *o = r->overdue_list[i];
        const ProtobufCEnumValue *m =
            o->has_measure ? protobuf_c_enum_descriptor_get_value(
                                 &outfall__v1__remediation_measure__descriptor, o->measure)
                           : NULL;
        const char *measure = annual_report_measure(m ? m->name : NULL);
        const char *river = r->overdue_rivers && format == FORMAT_HTML && r->overdue_rivers[i]
                                ? r->overdue_rivers[i]
                                : o->river_code;
        const char *cells[] = {o->code ? o->code : o->outfall_id, o->name, river,
                               format == FORMAT_HTML ? measure_label(measure) : measure, o->due};
        if (format == FORMAT_CSV) {
            text_add_csv(t, "overdue", 0);
            for (size_t c = 0; c < sizeof cells / sizeof cells[0]; c++)
                text_add_csv(t, cells[c], 0);
            text_add(t, ",,%lld\r\n", (long long)o->days_overdue);
            continue;
        }
        text_add(t, "<tr>");
        for (size_t c = 0; c < sizeof cells / sizeof cells[0]; c++) {
            text_add(t, "<td>");
            text_add_html(t, cells[c]);
            text_add(t, "</td>");
        }
        text_add(t, "<td>%lld</td></tr>\n", (long long)o->days_overdue);
    }
    if (format == FORMAT_HTML)
        text_add(t, "%s</table>\n", r->n_overdue ? "" : "<tr><td colspan=\"6\">无</td></tr>\n");
}

/* Writes the outfalls of one list (closed during the year, or retained at its end). */
static void annual_list(text_buf *t, const annual_report_line *l, size_t n, int format,
                        const char *section) {
    for (size_t k = 0; k < n; k++) {
        char *const *cells = l[k].cell;
        if (format == FORMAT_CSV) {
            text_add_csv(t, section, 0);
            for (size_t i = 0; i < ANNUAL_REPORT_CELLS; i++)
                text_add_csv(t, cells[i], 0);
            text_add(t, "\r\n");
        } else {
            text_add(t, "<tr>");
            for (size_t i = 0; i < ANNUAL_REPORT_CELLS; i++) {
                text_add(t, "<td>");
                text_add_html(t, i == 3 ? measure_label(cells[i] ? cells[i] : "") : cells[i]);
                text_add(t, "</td>");
            }
            text_add(t, "</tr>\n");
        }
    }
    if (format == FORMAT_HTML && n == 0) text_add(t, "<tr><td colspan=\"7\">无</td></tr>\n");
}

char *annual_report_csv(const annual_report *r, size_t *len) {
    text_buf t = {0};
    const Outfall__V1__ProgressRow *standing = r->standing;
    text_add(&t, "\xEF\xBB\xBF"
                 "section,code,name,river,measure,date,party,credit_code,value\r\n");
    for (int i = 0; i < ANNUAL_REPORT_FIGURES; i++)
        text_add(&t, "summary,,%s,,,,,,%lld\r\n", figures[i].key, (long long)r->fig[i]);
    text_add(&t,
             "summary,,found_by_year_end,,,,,,%lld\r\nsummary,,traced_by_year_end,,,,,,%lld\r\n"
             "summary,,remediated_by_year_end,,,,,,%lld\r\nsummary,,overdue_plans,,,,,,%lld\r\n",
             (long long)r->found, (long long)r->traced, (long long)r->remediated,
             (long long)r->overdue);
    for (size_t i = 0; standing && i < standing->n_targets; i++) {
        const Outfall__V1__TargetCheck *c = standing->targets[i];
        text_add(&t, "summary,,%s_pct,,,%s,,,%.1f\r\nsummary,,%s_status,,,%s,,,%s\r\n", c->metric,
                 r->to, c->actual_pct, c->metric, c->deadline, progress_csv_status_name(c->status));
    }
    annual_list(&t, r->closed_list, r->n_closed, FORMAT_CSV, "closed");
    annual_list(&t, r->retained_list, r->n_retained, FORMAT_CSV, "retained");
    annual_overdue(&t, r, FORMAT_CSV);
    return text_take(&t, len);
}

char *annual_report_html(const annual_report *r, size_t *len) {
    text_buf t = {0};
    const Outfall__V1__ProgressRow *standing = r->standing;
    text_add(&t, "<!DOCTYPE html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>");
    text_add_html(&t, r->division_name);
    text_add(&t,
             " %d 年度入河排污口监督管理工作报告</title>\n<style>body{font-family:sans-serif;"
             "margin:2em}table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px "
             "solid #444;padding:2px 8px;text-align:left}@media print{body{margin:0}"
             "h2{break-after:avoid}}</style></head><body>\n<h1>",
             r->year);
    text_add_html(&t, r->division_name);
    text_add(&t,
             " %d 年度入河排污口监督管理工作报告</h1>\n<p>统计期间 %s 至 %s（北京时间）；"
             "依据《焦作市加强入河排污口监督管理工作方案》一.二、二、四.一。</p>\n"
             "<h2>一、年度工作量</h2>\n<table>\n",
             r->year, r->from, r->to);
    for (int i = 0; i < ANNUAL_REPORT_INSPECTED; i++)
        text_add(&t, "<tr><th>%s</th><td>%lld</td></tr>\n", figures[i].label, (long long)r->fig[i]);
    text_add(&t,
             "</table>\n<h2>二、截至年底进展</h2>\n<table>\n<tr><th>已排查</th><td>%lld</td></tr>\n"
             "<tr><th>已溯源</th><td>%lld（%.1f%%）</td></tr>\n<tr><th>已整治</th><td>%lld"
             "（%.1f%%）</td></tr>\n<tr><th>已销号</th><td>%lld</td></tr>\n<tr><th>保留</th>"
             "<td>%lld</td></tr>\n<tr><th>逾期未完成整治方案</th><td>%lld</td></tr>\n",
             (long long)r->found, (long long)r->traced, standing ? standing->traced_pct : 0.0,
             (long long)r->remediated, standing ? standing->remediated_pct : 0.0,
             (long long)r->closed, (long long)r->retained, (long long)r->overdue);
    for (size_t i = 0; standing && i < standing->n_targets; i++) {
        const Outfall__V1__TargetCheck *c = standing->targets[i];
        text_add(&t, "<tr><th>%s目标（%s 前 %.0f%%）</th><td>%s</td></tr>\n",
                 strcmp(c->metric, "traced") == 0 ? "溯源" : "整治", c->deadline, c->target_pct,
                 status_label(c->status));
    }
    text_add(&t, "</table>\n");
    annual_overdue(&t, r, FORMAT_HTML);
    const char *titles[] = {"三、年内销号排污口", "四、保留排污口清单（截至年底）"};
    for (int l = 0; l < 2; l++) {
        text_add(&t, "<h2>%s</h2>\n<table>\n<tr>", titles[l]);
        for (size_t i = 0; i < ANNUAL_REPORT_CELLS; i++)
            text_add(&t, "<th>%s</th>", list_head[i]);
        text_add(&t, "</tr>\n");
        if (l)
            annual_list(&t, r->retained_list, r->n_retained, FORMAT_HTML, "retained");
        else
            annual_list(&t, r->closed_list, r->n_closed, FORMAT_HTML, "closed");
        text_add(&t, "</table>\n");
    }
    text_add(&t, "<h2>五、监督检查与公众举报</h2>\n<table>\n");
    for (int i = ANNUAL_REPORT_INSPECTED; i < ANNUAL_REPORT_FIGURES; i++)
        text_add(&t, "<tr><th>%s</th><td>%lld</td></tr>\n", figures[i].label, (long long)r->fig[i]);
    text_add(&t, "</table>\n</body></html>\n");
    return text_take(&t, len);
}
