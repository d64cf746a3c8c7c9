/* A small HTTP client over libcurl: one handle per phone, kept alive between its requests, and
 * protobuf calls on top. Talks only to the benchmark's own server on 127.0.0.1. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/bench.h"
#include "common/util.h"

static size_t on_body(char *data, size_t size, size_t n, void *user) {
    bench_conn *c = user;
    size_t add = size * n;
    if (c->len + add + 1 > c->cap) {
        size_t cap = c->cap ? c->cap : 4096;
        while (cap < c->len + add + 1)
            cap *= 2;
        uint8_t *grown = realloc(c->body, cap);
        if (!grown) return 0;
        c->body = grown;
        c->cap = cap;
    }
    memcpy(c->body + c->len, data, add);
    c->len += add;
    c->body[c->len] = '\0';
    return add;
}

int bench_conn_open(bench_conn *c, const char *url) {
    memset(c, 0, sizeof *c);
    c->url = url;
    c->curl = curl_easy_init();
    if (!c->curl) {
        fprintf(stderr, "bench: curl_easy_init failed\n");
        return -1;
    }
    return 0;
}

void bench_conn_source(bench_conn *c, int index) {
    snprintf(c->source, sizeof c->source, "host!127.1.%d.%d", (index / 250) % 250, 1 + index % 250);
}

void bench_conn_close(bench_conn *c) {
    if (c->curl) curl_easy_cleanup(c->curl);
    free(c->body);
    memset(c, 0, sizeof *c);
}

long bench_http(bench_conn *c, const char *method, const char *path, const char *ctype,
                const void *body, size_t len, const char *signature) {
    char url[512], line[256];
    CURL *h = c->curl;
    snprintf(url, sizeof url, "%s%s", c->url, path);
    struct curl_slist *hd = curl_slist_append(NULL, "Expect:");
    hd = curl_slist_append(hd, "Accept: " BENCH_PB);
    snprintf(line, sizeof line, "Content-Type:%s%s", ctype ? " " : "", ctype ? ctype : "");
    hd = curl_slist_append(hd, line);
    if (c->token[0]) {
        snprintf(line, sizeof line, "Authorization: Bearer %s", c->token);
        hd = curl_slist_append(hd, line);
    }
    if (signature) {
        snprintf(line, sizeof line, "X-Device-Signature: %s", signature);
        hd = curl_slist_append(hd, line);
    }
    curl_easy_reset(h);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 300L);
    if (c->source[0]) curl_easy_setopt(h, CURLOPT_INTERFACE, c->source);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hd);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, c);
    if (body || strcmp(method, "POST") == 0) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(body ? len : 0));
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body ? (const char *)body : "");
    }
    if (strcmp(method, "GET") != 0 && strcmp(method, "POST") != 0)
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    c->len = 0;
    long status = 0;
    CURLcode rc = curl_easy_perform(h);
    /* A kept-alive connection the server closes for idleness as this request goes out fails
     * it before any answer (HTTP/1.1's known race, RFC 9112 section 9.3.1): a phone sends it
     * again on a new connection, as every exchange here may be sent twice. Counted. */
    long connects = 1;
    curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, &connects);
    if (connects == 0 && c->len == 0 &&
        (rc == CURLE_SEND_ERROR || rc == CURLE_RECV_ERROR || rc == CURLE_GOT_NOTHING)) {
        c->resent++;
        curl_easy_setopt(h, CURLOPT_FRESH_CONNECT, 1L);
        rc = curl_easy_perform(h);
    }
    if (rc == CURLE_OK)
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    else
        fprintf(stderr, "bench: %s %s: %s\n", method, path, curl_easy_strerror(rc));
    curl_slist_free_all(hd);
    return status;
}

long bench_call(bench_conn *c, const char *method, const char *path, const ProtobufCMessage *req,
                const ProtobufCMessageDescriptor *out_desc, ProtobufCMessage **out) {
    uint8_t *body = NULL;
    size_t len = 0;
    if (out) *out = NULL;
    if (req) {
        len = protobuf_c_message_get_packed_size(req);
        body = malloc(len ? len : 1);
        if (!body) return 0;
        protobuf_c_message_pack(req, body);
    }
    long st = bench_http(c, method, path, req ? BENCH_PB : NULL, body, len, NULL);
    free(body);
    if (st >= 200 && st < 300 && out_desc && out) {
        *out = protobuf_c_message_unpack(out_desc, NULL, c->len, c->body ? c->body : (uint8_t *)"");
        if (!*out) {
            fprintf(stderr, "bench: %s %s: the answer is not a %s\n", method, path, out_desc->name);
            return 0;
        }
    }
    return st;
}

void bench_error_code(const bench_conn *c, char *buf, size_t cap) {
    Outfall__V1__Error *e = c->len ? outfall__v1__error__unpack(NULL, c->len, c->body) : NULL;
    util_strlcpy(buf, e && e->code ? e->code : "?", cap);
    if (e) outfall__v1__error__free_unpacked(e, NULL);
}
