/* The public's endpoints, no account needed (programme/disclosure.h says what is public):
 * GET /public/outfalls (GeoJSON of every approved outfall's public facts) and
 * GET /public/outfalls/{code} (the sign board's page: HTML in Chinese, every text escaped, a
 * Content-Security-Policy that allows no script and nothing from elsewhere). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/api.h"
#include "server/auth.h"
#include "programme/inspection_results.h"
#include "programme/draws.h"
#include "programme/disclosure.h"

/* The Content-Security-Policy of every public answer: no script, nothing from elsewhere, no
 * frames. http_send_head adds it with nosniff, no referrer and DENY framing. */
static const char public_csp[] = "default-src 'none'; img-src 'self'; style-src 'self'; "
                                 "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/* Sends status with body[len] of ctype, the public security headers and extra header lines. */
static void public_send(http_req *r, int status, const char *ctype, const char *extra,
                        const void *body, size_t len) {
    snprintf(r->headers, sizeof r->headers, "%s", extra ? extra : "");
    r->csp = public_csp;
    r->cache_control = "no-cache";
    http_send_head(r, status, ctype, len);
    if (len > 0 && strcmp(r->method, "HEAD") != 0) mg_write(r->conn, body, len);
}

/* Writes text to f with &, <, >, " and ' escaped for HTML text and attribute values. */
static void html_escape(FILE *f, const char *text) {
    for (const char *p = text ? text : ""; *p; p++) {
        switch (*p) {
        case '&':
            fputs("&amp;", f);
            break;
        case '<':
            fputs("&lt;", f);
            break;
        case '>':
            fputs("&gt;", f);
            break;
        case '"':
            fputs("&quot;", f);
            break;
        case '\'':
            fputs("&#39;", f);
            break;
        default:
            fputc(*p, f);
        }
    }
}

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
static int html_page(json_t *facts, char **out, size_t *len) {
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

/* GET /public/outfalls: a GeoJSON FeatureCollection, readable from any origin. */
int api_public_outfalls(http_req *r) {
    json_t *fc = NULL;
    int rc = disclosure_list_outfalls(r->store, &fc, &r->err);
    if (rc < 0) return rc;
    char *text = json_dumps(fc, JSON_COMPACT);
    json_decref(fc);
    if (!text) return http_error(r, 500, "out_of_memory", "out of memory");
    public_send(r, 200, "application/geo+json", "Access-Control-Allow-Origin: *\r\n", text,
                strlen(text));
    free(text);
    return 0;
}

/* GET /public/outfalls/{code}: the sign board's page, or a page saying there is none (404). */
int api_public_outfall(http_req *r) {
    json_t *facts = NULL;
    char *page = NULL;
    size_t len = 0;
    int rc = disclosure_read_outfall(r->store, r->params[0], &facts, &r->err);
    if (rc == SYNC_ENOTFOUND) {
        static const char missing[] =
            "<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<title>未找到排污口</title>\n</head>\n<body>\n<h1>未找到该排污口</h1>\n"
            "<p>没有已审核公开的排污口使用此编码。</p>\n</body>\n</html>\n";
        public_send(r, 404, "text/html; charset=utf-8", NULL, missing, sizeof missing - 1);
        return 0;
    }
    if (rc < 0) return rc;
    rc = html_page(facts, &page, &len);
    json_decref(facts);
    if (rc < 0) {
        free(page);
        return http_error(r, 500, "out_of_memory", "out of memory");
    }
    public_send(r, 200, "text/html; charset=utf-8", NULL, page, len);
    free(page);
    return 0;
}

/* ---- public reports (举报) ---- */

/* POST /public/reports: PublicReport → 201 with its public view and tracking number. */
int api_public_report_submit(http_req *r) {
    Outfall__V1__PublicReport *in = NULL, *out = NULL;
    snprintf(r->headers, sizeof r->headers, "X-Content-Type-Options: nosniff\r\n");
    /* Its body limit (16 KiB: the text limits of programme/disclosure.h with room for JSON) is the
     * route table's (server/routes.c), counted as the body is read. */
    int rc = http_decode(r, &outfall__v1__public_report__descriptor, (ProtobufCMessage **)&in);
    if (rc == 0) {
        char addr[64];
        auth_client_addr(r, addr, sizeof addr);
        rc = disclosure_report_submit(r->store, in, addr, r->cfg->report_upload_ttl_s * 1000, &out,
                                      &r->err);
    }
    if (rc == 0) rc = http_send_message(r, 201, &out->base);
    if (in) protobuf_c_message_free_unpacked(&in->base, NULL);
    if (out) protobuf_c_message_free_unpacked(&out->base, NULL);
    return rc;
}

/* GET /public/reports/{number}: the report's status and answer, never what the reporter sent. */
int api_public_report_read(http_req *r) {
    Outfall__V1__PublicReport *out = NULL;
    snprintf(r->headers, sizeof r->headers, "X-Content-Type-Options: nosniff\r\n");
    int rc = disclosure_report_read(r->store, r->params[0], &out, &r->err);
    if (rc == 0) rc = http_send_message(r, 200, &out->base);
    if (out) protobuf_c_message_free_unpacked(&out->base, NULL);
    return rc;
}

/* GET /public/inspections/{id}: a draw's published facts and result, for anyone to recompute, with
 * each pick's approved inspection result and date once a supervisor approved it. */
int api_public_inspection(http_req *r) {
    Outfall__V1__InspectionDraw *out = NULL;
    snprintf(r->headers, sizeof r->headers, "X-Content-Type-Options: nosniff\r\n");
    int rc = draws_read(r->store, r->params[0], &out, &r->err);
    if (rc == 0)
        rc = inspection_results_fill_draw(r->store, out, &r->err); /* approved results only */
    if (rc == 0) rc = http_send_message(r, 200, &out->base);
    if (out) protobuf_c_message_free_unpacked(&out->base, NULL);
    return rc;
}
