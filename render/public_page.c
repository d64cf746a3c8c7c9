/* The public page of an approved outfall (see public_page.h). */
#include "render/public_page.h"

#include <stdio.h>
#include <time.h>

#include "render/html.h"

/* One row of the facts table: label and the escaped value (or "—" when empty). */
static void html_row(FILE *f, const char *label, const char *value) {
    fprintf(f, "<tr><th>%s</th><td>", label);
    html_escape(f, value && value[0] ? value : "—");
    fputs("</td></tr>\n", f);
}

/* The last approved inspection of facts as "date result" into out[cap] ("" when none). */
static const char *public_inspection_text(json_t *facts, char *out, size_t cap) {
    const char *day = json_string_value(json_object_get(facts, "last_inspection_date"));
    const char *result = json_string_value(json_object_get(facts, "last_inspection_result"));
    snprintf(out, cap, "%s%s%s", day ? day : "", day && result ? " " : "", result ? result : "");
    return out;
}

/* The page for facts (disclosure_read_outfall's object), malloc'd into *out[*len]; -1 on no memory.
 */
int public_page_html(json_t *facts, char **out, size_t *len) {
    FILE *f = open_memstream(out, len);
    if (!f) return -1;
    const char *code = json_string_value(json_object_get(facts, "code"));
    char pos[64];
    snprintf(pos, sizeof pos, "北纬 %.4f°，东经 %.4f°（WGS-84）",
             json_real_value(json_object_get(facts, "lat")),
             json_real_value(json_object_get(facts, "lon")));
    fputs("<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>"
          "入河排污口信息公开 ",
          f);
    html_escape(f, code);
    fputs("</title>\n</head>\n<body>\n<h1>入河排污口信息公开</h1>\n<table>\n", f);
    char inspection[96];
    static const struct {
        const char *label, *key;
    } rows[] = {
        {"排污口编码", "code"},
        {"排污口名称", "name"},
        {"排污口类型", "type_label"},
        {"受纳水体", "river_code_label"},
        {"所在行政区", "division_code_label"},
        {"责任主体", "responsible_party.name"},
        {"监管部门", "supervising_bureau"},
        {"当前状态", "programme.stage_label"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        html_row(f, rows[i].label, json_string_value(json_object_get(facts, rows[i].key)));
    html_row(f, "位置", pos);
    html_row(f, "最近一次检查", public_inspection_text(facts, inspection, sizeof inspection));
    html_row(f, "监督举报电话", json_string_value(json_object_get(facts, "hotline")));
    fputs("</table>\n<p>如发现偷排、超标排放或私设暗管借道排污，请拨打监督举报电话，或"
          "<a href=\"/report/?code=",
          f);
    for (const char *c = code ? code : ""; *c; c++) /* the code as a query value */
        if ((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') ||
            *c == '-' || *c == '_' || *c == '.')
            fputc(*c, f);
        else
            fprintf(f, "%%%02X", (unsigned char)*c);
    fputs("\">在线举报</a>（可附照片）。</p>\n</body>\n</html>\n", f);
    return fclose(f) == 0 ? 0 : -1;
}

/* at_ms as a date and time in China Standard Time (UTC+8, no daylight saving), the city's time,
 * into out[cap]; "—" when not set. */
static const char *china_time(int64_t at_ms, char *out, size_t cap) {
    if (at_ms <= 0) return "—";
    time_t t = (time_t)(at_ms / 1000) + 8 * 3600;
    struct tm tm;
    if (!gmtime_r(&t, &tm) || strftime(out, cap, "%Y年%m月%d日 %H:%M（北京时间）", &tm) == 0)
        return "—";
    return out;
}

/* The Chinese name of a report's kind and status, as the console labels them (web/labels.js). */
static const char *report_kind_text(int kind) {
    switch (kind) {
    case OUTFALL__V1__REPORT_KIND__REPORT_KIND_ILLEGAL_DISCHARGE:
        return "偷排、超标排放或违规设置排污口";
    case OUTFALL__V1__REPORT_KIND__REPORT_KIND_BORROWED_USE:
        return "借道排污";
    default:
        return "未填写";
    }
}

static const char *report_status_text(int status) {
    return status == OUTFALL__V1__REPORT_STATUS__REPORT_STATUS_ANSWERED   ? "已答复"
           : status == OUTFALL__V1__REPORT_STATUS__REPORT_STATUS_RECEIVED ? "已受理，待答复"
                                                                          : "未知";
}

int public_report_html(const Outfall__V1__PublicReport *rep, char **out, size_t *len) {
    FILE *f = open_memstream(out, len);
    if (!f) return -1;
    char received[64], answered[64];
    fputs("<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
          "<title>举报办理情况</title>\n</head>\n<body>\n<h1>举报办理情况</h1>\n<table>\n",
          f);
    html_row(f, "举报编号", rep->number);
    html_row(f, "举报类型", report_kind_text(rep->has_kind ? (int)rep->kind : 0));
    html_row(f, "办理状态", report_status_text(rep->has_status ? (int)rep->status : 0));
    html_row(
        f, "受理时间",
        china_time(rep->has_received_at_ms ? rep->received_at_ms : 0, received, sizeof received));
    if (rep->has_status && rep->status == OUTFALL__V1__REPORT_STATUS__REPORT_STATUS_ANSWERED) {
        html_row(f, "答复时间",
                 china_time(rep->has_answered_at_ms ? rep->answered_at_ms : 0, answered,
                            sizeof answered));
        html_row(f, "答复内容", rep->answer);
        if (rep->outfall_code && rep->outfall_code[0]) html_row(f, "涉及排污口", rep->outfall_code);
    }
    fputs("</table>\n", f);
    if (!(rep->has_status && rep->status == OUTFALL__V1__REPORT_STATUS__REPORT_STATUS_ANSWERED))
        fputs("<p>监管部门正在核查，答复后本页会显示答复内容。请保存举报编号以便查询。</p>\n", f);
    fputs("<p>如情况紧急，请拨打监督举报电话 12369。</p>\n</body>\n</html>\n", f);
    return fclose(f) == 0 ? 0 : -1;
}
