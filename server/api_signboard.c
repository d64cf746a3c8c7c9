/* GET /v1/outfalls/{id}/signboard: the QR code of an approved outfall's sign board (二.二.2),
 * leading to its public page <--public-url>/public/outfalls/{code}. As SVG (the default, and for
 * Accept: image/svg+xml or ?format=svg), PNG (Accept: image/png or ?format=png), or the payload
 * as a Signboard message (Accept: application/json or x-protobuf, or ?format=json|protobuf). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "server/api.h"
#include "programme/disclosure.h"
#include "render/qr.h"
#include "sync/outfall_ref.h"

enum answer_kind { ANSWER_SVG, ANSWER_PNG, ANSWER_JSON, ANSWER_PROTOBUF, ANSWER_NEGOTIATED };

/* ?format= values. */
static const struct {
    const char *name;
    enum answer_kind kind;
} formats[] = {
    {"svg", ANSWER_SVG},           {"png", ANSWER_PNG},     {"json", ANSWER_JSON},
    {"protobuf", ANSWER_PROTOBUF}, {"pb", ANSWER_PROTOBUF},
};

/* What to answer: ?format= wins; else an image type Accept prefers; else the message when Accept
 * names JSON or protobuf; else SVG (a browser's or a printer's Accept). -1 with r->err filled for
 * an unknown format. */
static int answer_kind(http_req *r, enum answer_kind *out) {
    char text[16];
    int rc = http_query(r, "format", text, sizeof text);
    if (rc < 0) return rc;
    if (rc == 1) {
        for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++)
            if (strcasecmp(text, formats[i].name) == 0) {
                *out = formats[i].kind;
                return 0;
            }
        return http_error(r, 400, "invalid_argument", "format is svg, png, json or protobuf");
    }
    const char *accept = mg_get_header(r->conn, "Accept");
    if (r->resp_alt && strcmp(r->resp_alt, "image/png") == 0)
        *out = ANSWER_PNG;
    else if (r->resp_alt && strcmp(r->resp_alt, "image/svg+xml") == 0)
        *out = ANSWER_SVG;
    else if (accept && (strcasestr(accept, "application/json") || strcasestr(accept, "protobuf")))
        *out = ANSWER_NEGOTIATED;
    else
        *out = ANSWER_SVG;
    return 0;
}

/* Appends s to buf[cap] at *used, percent-encoding every byte but letters, digits and - . _ ~. */
static void url_append(char *buf, size_t cap, size_t *used, const char *s) {
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p && *used + 4 < cap; p++) {
        int plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                    (*p >= '0' && *p <= '9') || strchr("-._~", *p);
        if (plain) {
            buf[(*used)++] = (char)*p;
        } else {
            buf[(*used)++] = '%';
            buf[(*used)++] = hex[*p >> 4];
            buf[(*used)++] = hex[*p & 15];
        }
    }
    buf[*used] = '\0';
}

int api_signboard_read(http_req *r) {
    char code[128], url[512];
    enum answer_kind kind = ANSWER_SVG;
    int rc = answer_kind(r, &kind);
    if (rc < 0) return rc;
    if (!r->cfg->public_url[0])
        return http_error(r, 503, "public_url_unset",
                          "this server does not know where its public pages are reached: start "
                          "it with --public-url https://host (or public-url in the config file)");
    char id[UUID_STR_LEN + 1]; /* {id} may be the outfall's code (sync/outfall_ref.h) */
    if (outfall_ref_resolve(r->store, r->params[0], id, &r->err) < 0 ||
        disclosure_signboard_code(r->store, id, code, sizeof code, &r->err) < 0)
        return r->err.rc;
    size_t used = (size_t)snprintf(url, sizeof url, "%s/public/outfalls/", r->cfg->public_url);
    url_append(url, sizeof url, &used, code);
    qr_code *q = qr_encode(url);
    if (!q) return http_error(r, 500, "internal", "the URL %s does not fit a QR code", url);
    if (kind == ANSWER_JSON || kind == ANSWER_PROTOBUF || kind == ANSWER_NEGOTIATED) {
        Outfall__V1__Signboard m = OUTFALL__V1__SIGNBOARD__INIT;
        m.outfall_id = id;
        m.code = code;
        m.url = url;
        m.has_qr_version = m.has_qr_modules = 1;
        m.qr_version = q->version;
        m.qr_modules = q->width;
        m.qr_ec_level = "Q";
        if (kind != ANSWER_NEGOTIATED)
            r->resp_enc = kind == ANSWER_JSON ? HTTP_JSON : HTTP_PROTOBUF;
        rc = http_send_message(r, 200, &m.base);
        qr_free(q);
        return rc;
    }
    size_t len = 0;
    void *body = kind == ANSWER_PNG ? (void *)qr_png(q, &len) : (void *)qr_svg(q, &len);
    qr_free(q);
    if (!body) return http_error(r, 500, "out_of_memory", "out of memory drawing the QR code");
    /* The code is letters, digits and '-' (sync/review.c makes it); the name is safe as is. */
    r->csp = HTTP_CSP_PAGE; /* an SVG is a document; the PNG gets nosniff and the rest too */
    snprintf(r->headers, sizeof r->headers,
             "Content-Disposition: inline; filename=\"signboard-%.100s.%s\"\r\n",
             strspn(code, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-") ==
                     strlen(code)
                 ? code
                 : "outfall",
             kind == ANSWER_PNG ? "png" : "svg");
    http_send_head(r, 200, kind == ANSWER_PNG ? "image/png" : "image/svg+xml", len);
    if (strcmp(r->method, "HEAD") != 0) mg_write(r->conn, body, len);
    free(body);
    return 0;
}
