/* One HTTP exchange over libcurl, the single body callback, and the server's Error decoded. */
#include "client/http.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/util.h"
#include "outfall/v1/outfall.pb-c.h"

enum { CLIENT_HTTP_LINE = 1024, CLIENT_HTTP_FIRST_CAP = 4096 };

size_t client_http_body_write(char *data, size_t size, size_t n, void *user) {
    client_http_body *b = user;
    size_t add = size * n;
    if (b->limit && b->len + add > b->limit) {
        b->over = 1;
        return 0;
    }
    if (b->len + add + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : CLIENT_HTTP_FIRST_CAP;
        while (cap < b->len + add + 1)
            cap *= 2;
        uint8_t *grown = realloc(b->data, cap);
        if (!grown) return 0;
        b->data = grown;
        b->cap = cap;
    }
    memcpy(b->data + b->len, data, add);
    b->len += add;
    b->data[b->len] = '\0';
    return add;
}

void client_http_body_free(client_http_body *b) {
    free(b->data);
    memset(b, 0, sizeof *b);
}

/* The state of one exchange, for the read and header callbacks. */
typedef struct client_http_xfer {
    const client_http_request *rq;
    size_t sent;
    client_http_response *out;
} client_http_xfer;

static size_t client_http_read(char *buf, size_t size, size_t n, void *user) {
    client_http_xfer *x = user;
    size_t left = x->rq->len - x->sent, want = size * n, cut = x->rq->cut_after;
    if (cut && x->sent >= cut) return CURL_READFUNC_ABORT;
    if (cut && cut - x->sent < want) want = cut - x->sent;
    if (want > left) want = left;
    memcpy(buf, (const uint8_t *)x->rq->body + x->sent, want);
    x->sent += want;
    return want;
}

/* Keeps the header lines of the last answer (a 100 Continue's are dropped when the next comes). */
static size_t client_http_header_line(char *data, size_t size, size_t n, void *user) {
    client_http_response *out = ((client_http_xfer *)user)->out;
    size_t add = size * n, used = strlen(out->headers);
    if (add >= 5 && strncmp(data, "HTTP/", 5) == 0) used = 0;
    if (used + add < sizeof out->headers) {
        memcpy(out->headers + used, data, add);
        used += add;
    }
    out->headers[used] = '\0';
    return add;
}

int client_http_global_init(void) {
    static int done;
    if (done) return 0;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) return -1;
    atexit(curl_global_cleanup);
    done = 1;
    return 0;
}

/* The request's header lines as curl takes them. NULL only when there are none. */
static struct curl_slist *client_http_header_list(const client_http_request *rq) {
    char line[CLIENT_HTTP_LINE];
    struct curl_slist *h = NULL;
    if (rq->token) {
        snprintf(line, sizeof line, "Authorization: Bearer %s", rq->token);
        h = curl_slist_append(h, line);
    }
    if (rq->signature) {
        snprintf(line, sizeof line, "X-Device-Signature: %s", rq->signature);
        h = curl_slist_append(h, line);
    }
    for (int i = 0; rq->headers && rq->headers[i]; i++)
        h = curl_slist_append(h, rq->headers[i]);
    return h;
}

/* Sets c up for rq (method, body, options) with x as the callbacks' state. */
static void client_http_setup(CURL *c, const client_http_request *rq, struct curl_slist *h,
                              client_http_xfer *x) {
    int head = strcmp(rq->method, "HEAD") == 0, streamed = rq->send != CLIENT_HTTP_FIELDS;
    curl_easy_setopt(c, CURLOPT_URL, rq->url);
    if (!rq->use_proxy) curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    if (rq->timeout_s > 0) curl_easy_setopt(c, CURLOPT_TIMEOUT, rq->timeout_s);
    if (rq->tcp_nodelay) curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L);
    if (rq->interface) curl_easy_setopt(c, CURLOPT_INTERFACE, rq->interface);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, client_http_body_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &x->out->body);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, client_http_header_line);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, x);
    if (head) {
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    } else if (rq->body && streamed) {
        curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(c, CURLOPT_READFUNCTION, client_http_read);
        curl_easy_setopt(c, CURLOPT_READDATA, x);
        curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE,
                         rq->send == CLIENT_HTTP_CHUNKED ? (curl_off_t)-1 : (curl_off_t)rq->len);
    } else if (rq->body || strcmp(rq->method, "POST") == 0) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(rq->body ? rq->len : 0));
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, rq->body ? (const char *)rq->body : "");
    }
    if (!head && ((rq->body && streamed) ||
                  (strcmp(rq->method, "GET") != 0 && strcmp(rq->method, "POST") != 0)))
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, rq->method);
}

long client_http_exchange(CURL *curl, const client_http_request *rq, client_http_response *out) {
    client_http_body kept = out->body;
    memset(out, 0, sizeof *out);
    out->body = kept;
    out->body.len = 0;
    out->body.over = 0;
    CURL *c = curl ? curl : curl_easy_init();
    struct curl_slist *h = NULL;
    client_http_xfer x = {rq, 0, out};
    if (!c) {
        out->curl_code = CURLE_FAILED_INIT;
        goto done;
    }
    if (curl) curl_easy_reset(c);
    h = client_http_header_list(rq);
    client_http_setup(c, rq, h, &x);
    out->curl_code = curl_easy_perform(c);
    /* A kept-alive connection the server closes for idleness as this request goes out fails it
     * before any answer (HTTP/1.1's known race, RFC 9112 section 9.3.1): sent again once on a
     * new connection, as a phone would. */
    long connects = 1;
    curl_easy_getinfo(c, CURLINFO_NUM_CONNECTS, &connects);
    if (rq->resend_stale && connects == 0 && out->body.len == 0 &&
        (out->curl_code == CURLE_SEND_ERROR || out->curl_code == CURLE_RECV_ERROR ||
         out->curl_code == CURLE_GOT_NOTHING)) {
        out->resent = 1;
        x.sent = 0;
        out->headers[0] = '\0';
        curl_easy_setopt(c, CURLOPT_FRESH_CONNECT, 1L);
        out->curl_code = curl_easy_perform(c);
    }
    if (out->curl_code == CURLE_OK) {
        char *ct = NULL;
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
        curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct);
        if (ct) util_strlcpy(out->content_type, ct, sizeof out->content_type);
    }
done:
    if (out->curl_code != CURLE_OK) {
        out->status = 0;
        util_strlcpy(out->error, curl_easy_strerror(out->curl_code), sizeof out->error);
    }
    if (!out->body.data) client_http_body_write("", 0, 0, &out->body);
    curl_slist_free_all(h);
    if (c && !curl) curl_easy_cleanup(c);
    return out->status;
}

void client_http_response_free(client_http_response *out) {
    client_http_body_free(&out->body);
}

int client_http_header(const char *headers, const char *name, char *buf, size_t cap) {
    size_t n = strlen(name);
    for (const char *p = headers; *p; p += strcspn(p, "\n"), p += *p == '\n') {
        if (strncasecmp(p, name, n) != 0 || p[n] != ':') continue;
        const char *v = p + n + 1 + strspn(p + n + 1, " \t");
        size_t len = strcspn(v, "\r\n");
        while (len > 0 && (v[len - 1] == ' ' || v[len - 1] == '\t'))
            len--;
        snprintf(buf, cap, "%.*s", (int)len, v);
        return 1;
    }
    buf[0] = '\0';
    return 0;
}

int client_http_is_json(const char *ct) {
    size_t n = strlen(CLIENT_HTTP_JSON);
    return ct && strncasecmp(ct, CLIENT_HTTP_JSON, n) == 0 &&
           (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

int client_http_error(const char *content_type, const uint8_t *body, size_t len, char *code,
                      size_t code_cap, char *message, size_t message_cap) {
    code[0] = message[0] = '\0';
    if (client_http_is_json(content_type)) {
        json_t *j = json_loadb((const char *)body, len, 0, NULL);
        const char *c = json_string_value(json_object_get(j, "code"));
        const char *m = json_string_value(json_object_get(j, "message"));
        if (c) util_strlcpy(code, c, code_cap);
        if (m) util_strlcpy(message, m, message_cap);
        json_decref(j);
    } else if (len) {
        Outfall__V1__Error *e = outfall__v1__error__unpack(NULL, len, body);
        if (e && e->code) util_strlcpy(code, e->code, code_cap);
        if (e && e->message) util_strlcpy(message, e->message, message_cap);
        if (e) outfall__v1__error__free_unpacked(e, NULL);
    }
    return code[0] ? 0 : -1;
}
