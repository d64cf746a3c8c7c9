/* The phones' HTTP over client/http: one handle per phone, kept alive between its requests, and
 * protobuf calls on top. Talks only to the benchmark's own server on 127.0.0.1. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/bench.h"
#include "common/util.h"

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
    client_http_response_free(&c->answer);
    memset(c, 0, sizeof *c);
}

long bench_http(bench_conn *c, const char *method, const char *path, const char *ctype,
                const void *body, size_t len, const char *signature) {
    char url[512], type[256];
    snprintf(url, sizeof url, "%s%s", c->url, path);
    snprintf(type, sizeof type, "Content-Type:%s%s", ctype ? " " : "", ctype ? ctype : "");
    const char *headers[] = {"Expect:", "Accept: " BENCH_PB, type, NULL};
    client_http_request rq = {.method = method,
                              .url = url,
                              .token = c->token[0] ? c->token : NULL,
                              .signature = signature,
                              .headers = headers,
                              .body = body,
                              .len = len,
                              .timeout_s = 300,
                              .tcp_nodelay = 1,
                              .interface = c->source[0] ? c->source : NULL,
                              .resend_stale = 1};
    long status = client_http_exchange(c->curl, &rq, &c->answer);
    c->resent += c->answer.resent;
    if (status == 0) fprintf(stderr, "bench: %s %s: %s\n", method, path, c->answer.error);
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
        *out = protobuf_c_message_unpack(out_desc, NULL, c->answer.body.len, c->answer.body.data);
        if (!*out) {
            fprintf(stderr, "bench: %s %s: the answer is not a %s\n", method, path, out_desc->name);
            return 0;
        }
    }
    return st;
}

void bench_error_code(const bench_conn *c, char *buf, size_t cap) {
    char message[256];
    if (client_http_error(c->answer.content_type, c->answer.body.data, c->answer.body.len, buf, cap,
                          message, sizeof message) != 0)
        util_strlcpy(buf, "?", cap);
}

long bench_login(bench_conn *c, const char *user, const char *password) {
    Outfall__V1__LoginRequest rq = OUTFALL__V1__LOGIN_REQUEST__INIT;
    Outfall__V1__LoginResponse *resp = NULL;
    rq.username = (char *)user;
    rq.password = (char *)password;
    c->token[0] = '\0';
    long st = bench_call(c, "POST", "/v1/auth/login", &rq.base,
                         &outfall__v1__login_response__descriptor, (ProtobufCMessage **)&resp);
    if (st == 200 && resp && resp->token)
        util_strlcpy(c->token, resp->token, sizeof c->token);
    else if (st == 200)
        st = 0;
    if (resp) outfall__v1__login_response__free_unpacked(resp, NULL);
    return st;
}

long bench_enroll(bench_conn *c, const char *device_id, const uint8_t pk[32]) {
    Outfall__V1__Device d = OUTFALL__V1__DEVICE__INIT;
    d.device_id = (char *)device_id;
    d.name = "field phone";
    d.has_public_key = 1;
    d.public_key.data = (uint8_t *)pk;
    d.public_key.len = 32;
    return bench_call(c, "POST", "/v1/devices", &d.base, NULL, NULL);
}
