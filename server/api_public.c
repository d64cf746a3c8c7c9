/* The public's endpoints, no account needed (programme/disclosure.h says what is public):
 * GET /public/outfalls (GeoJSON of every approved outfall's public facts) and
 * GET /public/outfalls/{code} (the sign board's page: HTML in Chinese, every text escaped, a
 * Content-Security-Policy that allows no script and nothing from elsewhere). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/pbjson.h"
#include "server/api.h"
#include "server/auth.h"
#include "programme/inspection_results.h"
#include "programme/draws.h"
#include "programme/disclosure.h"
#include "render/public_page.h"

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

/* GET /public/outfalls: a GeoJSON FeatureCollection, readable from any origin. */
int api_public_outfalls(http_req *r) {
    json_t *fc = NULL;
    int rc = disclosure_list_outfalls(r->store, &fc, &r->err);
    if (rc < 0) return rc;
    char *text = pbjson_dumps(fc); /* coordinates as 112.96, not 112.95999999999999 */
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
    rc = public_page_html(facts, &page, &len);
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

/* 1 when the client asks for a page before any data: Accept names text/html ahead of JSON and
 * protobuf, as a browser following a link does. fetch()'s and stock clients' Accept (absent,
 * JSON, protobuf or * / *) keep getting the message. */
static int prefers_html(http_req *r) {
    const char *accept = mg_get_header(r->conn, "Accept");
    const char *html = accept ? strcasestr(accept, "text/html") : NULL;
    if (!html) return 0;
    static const char *const data[] = {"application/json", "application/x-protobuf",
                                       "application/protobuf", "application/proto"};
    for (size_t i = 0; i < sizeof data / sizeof data[0]; i++) {
        const char *d = strcasestr(accept, data[i]);
        if (d && d < html) return 0;
    }
    return 1;
}

/* Answers a browser's GET /public/reports/{number}: the reporter's page of rep (rc 0), a page
 * saying the number is unknown (404), or rc as it is. */
static int report_page(http_req *r, int rc, const Outfall__V1__PublicReport *rep) {
    if (rc == SYNC_ENOTFOUND) {
        static const char missing[] =
            "<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<title>未找到举报</title>\n</head>\n<body>\n<h1>未找到该举报编号</h1>\n"
            "<p>请核对举报编号（16 位字母和数字）后再查询。</p>\n</body>\n</html>\n";
        public_send(r, 404, "text/html; charset=utf-8", NULL, missing, sizeof missing - 1);
        return 0;
    }
    if (rc < 0) return rc;
    char *page = NULL;
    size_t len = 0;
    if (public_report_html(rep, &page, &len) < 0) {
        free(page);
        return http_error(r, 500, "out_of_memory", "out of memory");
    }
    public_send(r, 200, "text/html; charset=utf-8", NULL, page, len);
    free(page);
    return 0;
}

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
    if (prefers_html(r)) {
        rc = report_page(r, rc, out);
    } else if (rc == 0) {
        rc = http_send_message(r, 200, &out->base);
    }
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
