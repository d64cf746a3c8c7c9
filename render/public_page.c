/* The public page of an approved outfall (see public_page.h). */
#include "render/public_page.h"

#include <stdio.h>

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
        {"排污口类型", "type"},
        {"受纳水体", "river"},
        {"所在行政区", "division"},
        {"责任主体", "responsible_party"},
        {"监管部门", "supervising_bureau"},
        {"当前状态", "status"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        html_row(f, rows[i].label, json_string_value(json_object_get(facts, rows[i].key)));
    html_row(f, "位置", pos);
    html_row(f, "最近一次检查", public_inspection_text(facts, inspection, sizeof inspection));
    html_row(f, "监督举报电话", json_string_value(json_object_get(facts, "hotline")));
    fputs(
        "</table>\n<p>如发现偷排、超标排放或私设暗管借道排污，请拨打监督举报电话或向监管部门举报。"
        "</p>\n</body>\n</html>\n",
        f);
    return fclose(f) == 0 ? 0 : -1;
}
