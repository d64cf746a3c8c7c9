/* CivetWeb's connection calls over a request in memory, and the checks of every answer: see
 * fake_conn.h. */
#include "fuzz/lib/fake_conn.h"

#include <civetweb.h>
#include <jansson.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "client/hash.h"
#include "client/sign.h"
#include "common/util.h"
#include "fuzz/lib/fuzz_env.h"
#include "server/dbpool.h"
#include "server/http.h"
#include "server/routes.h"

/* The connection CivetWeb would hand the server: the request and what the server wrote. */
struct mg_connection {
    struct mg_request_info ri;
    const uint8_t *body;
    size_t body_len, body_read;
    uint8_t *out; /* everything written, interim answers included */
    size_t out_len, out_cap;
};

const struct mg_request_info *mg_get_request_info(const struct mg_connection *conn) {
    return &conn->ri;
}

const char *mg_get_header(const struct mg_connection *conn, const char *name) {
    for (int i = 0; i < conn->ri.num_headers; i++)
        if (strcasecmp(conn->ri.http_headers[i].name, name) == 0)
            return conn->ri.http_headers[i].value;
    return NULL;
}

int mg_read(struct mg_connection *conn, void *buf, size_t len) {
    size_t left = conn->body_len - conn->body_read;
    if (len > left) len = left;
    if (len > (size_t)1 << 30) len = (size_t)1 << 30;
    memcpy(buf, conn->body + conn->body_read, len);
    conn->body_read += len;
    return (int)len;
}

int mg_write(struct mg_connection *conn, const void *buf, size_t len) {
    if (conn->out_len + len > conn->out_cap) {
        size_t cap = (conn->out_len + len) * 2 + 256;
        uint8_t *grown = realloc(conn->out, cap);
        if (!grown) abort();
        conn->out = grown;
        conn->out_cap = cap;
    }
    memcpy(conn->out + conn->out_len, buf, len);
    conn->out_len += len;
    return (int)len;
}

int mg_printf(struct mg_connection *conn, const char *fmt, ...) {
    va_list ap;
    char *text = NULL;
    va_start(ap, fmt);
    int n = vasprintf(&text, fmt, ap);
    va_end(ap);
    if (n < 0) return -1;
    mg_write(conn, text, (size_t)n);
    free(text);
    return n;
}

const char *mg_get_response_code_text(const struct mg_connection *conn, int code) {
    (void)conn;
    return code < 200 ? "Informational" : code < 300 ? "OK" : code < 400 ? "Redirect" : "Error";
}

/* ---- the input format ---- */

int fc_parse(char *buf, size_t len, fc_request *rq) {
    memset(rq, 0, sizeof *rq);
    char *end = buf + len, *p = buf;
    char *nl = memchr(p, '\n', len);
    if (!nl) return -1;
    *nl = '\0';
    if (nl > p && nl[-1] == '\r') nl[-1] = '\0';
    char *sp = strchr(p, ' ');
    if (!sp || sp == p) return -1;
    *sp = '\0';
    rq->method = p;
    rq->target = sp + 1;
    p = nl + 1;
    while (p < end) {
        nl = memchr(p, '\n', (size_t)(end - p));
        char *line_end = nl ? nl : end;
        if (line_end > p && line_end[-1] == '\r') line_end--;
        if (line_end == p) { /* the blank line: the body follows */
            p = nl ? nl + 1 : end;
            break;
        }
        *line_end = '\0';
        if (nl) *nl = '\0';
        char *colon = strchr(p, ':');
        if (colon && rq->n_headers < FC_MAX_HEADERS) {
            *colon = '\0';
            char *v = colon + 1;
            while (*v == ' ' || *v == '\t')
                v++;
            rq->names[rq->n_headers] = p;
            rq->values[rq->n_headers++] = v;
        }
        p = nl ? nl + 1 : end;
    }
    rq->body = (const uint8_t *)p;
    rq->len = (size_t)(end - p);
    return 0;
}

/* ---- serving and checking ---- */

/* The value of header name in the head text[0..len) (lines joined by CRLF), into out[cap]; 0
 * when absent. */
static int head_value(const char *head, const char *name, char *out, size_t cap) {
    size_t n = strlen(name);
    for (const char *line = head; line && *line;) {
        const char *eol = strstr(line, "\r\n");
        size_t ll = eol ? (size_t)(eol - line) : strlen(line);
        if (ll > n && strncasecmp(line, name, n) == 0 && line[n] == ':') {
            const char *v = line + n + 1;
            while (*v == ' ')
                v++;
            snprintf(out, cap, "%.*s", (int)(ll - (size_t)(v - line)), v);
            return 1;
        }
        line = eol ? eol + 2 : NULL;
    }
    return 0;
}

/* Checks what the server wrote for rq (status returned by routes_handle). */
static void check_answer(const fc_request *rq, const uint8_t *out, size_t len, int status) {
    const char *p = (const char *)out, *end = p + len;
    /* An interim "100 Continue" may come first. */
    static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
    if (len >= sizeof cont - 1 && memcmp(p, cont, sizeof cont - 1) == 0) p += sizeof cont - 1;
    const char *head_end = memmem(p, (size_t)(end - p), "\r\n\r\n", 4);
    if (!head_end) fz_fail("%s %s: no end of the head in %zu bytes", rq->method, rq->target, len);
    size_t head_len = (size_t)(head_end - p);
    char *head = strndup(p, head_len);
    if (!head || strlen(head) != head_len) fz_fail("a NUL in the answer's head");
    int st = 0, used = 0;
    if (sscanf(head, "HTTP/1.1 %3d %n", &st, &used) != 1 || used == 0)
        fz_fail("%s %s: a head that is not HTTP/1.1: %.60s", rq->method, rq->target, head);
    if (st != status) fz_fail("%s %s: sent %d, returned %d", rq->method, rq->target, st, status);
    /* No line break inside a header: nothing from the request may split the head. */
    for (const char *c = head; *c; c++)
        if ((*c == '\r' && c[1] != '\n') || (*c == '\n' && (c == head || c[-1] != '\r')))
            fz_fail("%s %s: a bare line break in the head:\n%s", rq->method, rq->target, head);
    const char *body = head_end + 4;
    size_t body_len = (size_t)(end - body);
    char cl[32], ctype[128], te[64];
    int has_cl = head_value(head, "Content-Length", cl, sizeof cl);
    int chunked =
        head_value(head, "Transfer-Encoding", te, sizeof te) && strcasecmp(te, "chunked") == 0;
    if (chunked && strcmp(rq->method, "HEAD") != 0) {
        /* Chunks, each "HEX\r\nDATA\r\n", then "0\r\n\r\n" and nothing after. */
        const char *c = body, *stop = body + body_len;
        for (;;) {
            char *hex_end = NULL;
            unsigned long n = strtoul(c, &hex_end, 16);
            if (hex_end == c || stop - hex_end < 2 || memcmp(hex_end, "\r\n", 2) != 0 ||
                n > (unsigned long)(stop - hex_end - 2))
                fz_fail("%s %s: a chunked body that does not frame", rq->method, rq->target);
            c = hex_end + 2 + n;
            if (stop - c < 2 || memcmp(c, "\r\n", 2) != 0)
                fz_fail("%s %s: a chunk without its CRLF", rq->method, rq->target);
            c += 2;
            if (n == 0) break;
        }
        if (c != stop) fz_fail("%s %s: bytes after the last chunk", rq->method, rq->target);
        body_len = 0; /* the JSON check below does not apply to a stream */
    } else if (strcmp(rq->method, "HEAD") == 0) {
        if (body_len) fz_fail("HEAD %s: a body of %zu bytes", rq->target, body_len);
    } else if (status == 204 || status == 304) {
        if (body_len) fz_fail("%s %s: a %d with a body", rq->method, rq->target, status);
    } else if (!has_cl || strtoull(cl, NULL, 10) != body_len) {
        fz_fail("%s %s: Content-Length %s for a body of %zu bytes", rq->method, rq->target,
                has_cl ? cl : "absent", body_len);
    }
    /* A HEAD answer has no body to decode (checked empty above). */
    int has_ct =
        strcmp(rq->method, "HEAD") != 0 && head_value(head, "Content-Type", ctype, sizeof ctype);
    if (body_len && has_ct && strncasecmp(ctype, "application/json", 16) == 0) {
        json_error_t je;
        json_t *j = json_loadb(body, body_len, 0, &je);
        if (!j)
            fz_fail("%s %s: a JSON answer that does not parse (%s)", rq->method, rq->target,
                    je.text);
        if (status >= 400 && !json_is_string(json_object_get(j, "code")))
            fz_fail("%s %s: a %d without an error code", rq->method, rq->target, status);
        json_decref(j);
    } else if (status >= 400 && has_ct && strcasecmp(ctype, "application/x-protobuf") == 0) {
        Outfall__V1__Error *e = outfall__v1__error__unpack(NULL, body_len, (const uint8_t *)body);
        if (!e || !e->code || !e->code[0])
            fz_fail("%s %s: a %d whose Error does not decode", rq->method, rq->target, status);
        outfall__v1__error__free_unpacked(e, NULL);
    }
    if (status == 500)
        fz_fail("%s %s: 500 for an input:\n%s\n%.*s", rq->method, rq->target, head,
                (int)(body_len < 400 ? body_len : 400), body);
    free(head);
}

/* value with "@hash64" (base64 of the hash's hex), "@hash" (the hex), "@sha256" and "@sha512"
 * (base64 of the body's digest) filled in, into out[cap]. */
static void expand(const char *v, const char *hash_hex, const uint8_t *body, size_t len, char *out,
                   size_t cap) {
    uint8_t d256[crypto_hash_sha256_BYTES], d512[crypto_hash_sha512_BYTES];
    crypto_hash_sha256(d256, body, len);
    crypto_hash_sha512(d512, body, len);
    char *h64 = util_base64_encode((const uint8_t *)hash_hex, 64);
    char *s256 = util_base64_encode(d256, sizeof d256),
         *s512 = util_base64_encode(d512, sizeof d512);
    static const char *const hooks[] = {"@hash64", "@hash", "@sha256", "@sha512"};
    const char *with[] = {h64 ? h64 : "", hash_hex, s256 ? s256 : "", s512 ? s512 : ""};
    size_t n = 0;
    while (*v && n + 1 < cap) {
        size_t k = 0;
        while (k < 4 && strncmp(v, hooks[k], strlen(hooks[k])) != 0)
            k++;
        if (k < 4) {
            n += (size_t)snprintf(out + n, cap - n, "%s", with[k]);
            if (n >= cap) n = cap - 1;
            v += strlen(hooks[k]);
        } else {
            out[n++] = *v++;
        }
    }
    out[n] = '\0';
    free(h64);
    free(s256);
    free(s512);
}

static const char *const role_hooks[FZ_N_ROLES] = {"@admin", "@surveyor", "@supervisor",
                                                   "@integrator", "@other"};

int fc_serve(const fc_request *rq, int reset) {
    fz_env *e = fz_env_get();
    static int pooled;
    if (!pooled && dbpool_init(e->cfg.db_path, 1) < 0) abort(); /* one handle, as one worker */
    pooled = 1;
    if (reset != FC_KEEP) fz_reset(e, reset == FC_RESET_ALL);

    struct mg_connection *conn = calloc(1, sizeof *conn);
    char hash_hex[65], path_buf[4096], *path = NULL;
    static char expanded[FC_MAX_HEADERS][512];
    if (!conn) abort();
    conn->ri.request_method = rq->method;
    conn->ri.http_version = "1.1";
    util_strlcpy(conn->ri.remote_addr, "127.0.0.1", sizeof conn->ri.remote_addr);
    conn->ri.remote_port = 40000;
    conn->ri.server_port = 8080;
    conn->body = rq->body;
    conn->body_len = rq->len;

    /* The target: "@hash" filled in, split at '?', the path URL-decoded as CivetWeb does. */
    if (rq->hash_of)
        client_hash_buffer(rq->hash_of, rq->hash_len, hash_hex);
    else
        client_hash_buffer(rq->body, rq->len, hash_hex);
    char target[4096];
    size_t tl = 0;
    for (const char *t = rq->target; *t && tl + 65 < sizeof target;) {
        if (strncmp(t, "@hash", 5) == 0) {
            memcpy(target + tl, hash_hex, 64);
            tl += 64;
            t += 5;
        } else {
            target[tl++] = *t++;
        }
    }
    target[tl] = '\0';
    char *q = strchr(target, '?');
    if (q) *q++ = '\0';
    conn->ri.request_uri = target;
    conn->ri.local_uri_raw = target;
    conn->ri.query_string = q;
    int dl = mg_url_decode(target, (int)strlen(target), path_buf, sizeof path_buf, 0);
    path = dl >= 0 ? path_buf : target;
    conn->ri.local_uri = path;

    long long content_length = rq->len ? (long long)rq->len : -1;
    for (int i = 0; i < rq->n_headers && i < MG_MAX_HEADERS; i++) {
        const char *v = rq->values[i];
        if (strchr(v, '@') && strcasecmp(rq->names[i], "Authorization") != 0 &&
            strcasecmp(rq->names[i], "X-Device-Signature") != 0) {
            expand(v, hash_hex, rq->body, rq->len, expanded[i], sizeof expanded[i]);
            v = expanded[i];
        }
        if (strcasecmp(rq->names[i], "Authorization") == 0)
            for (int k = 0; k < FZ_N_ROLES; k++)
                if (strcmp(v, role_hooks[k]) == 0) {
                    snprintf(expanded[i], sizeof expanded[i], "Bearer %s", e->token[k]);
                    v = expanded[i];
                }
        if (strcasecmp(rq->names[i], "X-Device-Signature") == 0 &&
            (strcmp(v, "@sign") == 0 || strcmp(v, "@other") == 0)) {
            /* Each header's value in its own slot: a request may carry the header twice. */
            char *b64 = client_sign_b64(strcmp(v, "@sign") == 0 ? e->device_sk : e->other_sk,
                                        rq->body, rq->len);
            util_strlcpy(expanded[i], b64 ? b64 : "", sizeof expanded[i]);
            free(b64);
            v = expanded[i];
        }
        if (strcasecmp(rq->names[i], "Content-Length") == 0) {
            char *cend = NULL;
            long long n = strtoll(v, &cend, 10);
            if (cend != v && *cend == '\0' && n >= 0) content_length = n;
        }
        conn->ri.http_headers[conn->ri.num_headers].name = rq->names[i];
        conn->ri.http_headers[conn->ri.num_headers++].value = v;
    }
    /* CivetWeb delivers no more than the declared length. */
    if (content_length >= 0 && (unsigned long long)content_length < conn->body_len)
        conn->body_len = (size_t)content_length;
    const char *te = mg_get_header(conn, "Transfer-Encoding");
    conn->ri.content_length = te && strcasestr(te, "chunked") ? -1 : content_length;

    int status = routes_handle(conn, &e->cfg);
    mg_write(conn, "", 1); /* a NUL after the answer, for the checks' string functions */
    check_answer(rq, conn->out, conn->out_len - 1, status);
    free(conn->out);
    free(conn);
    return status;
}
