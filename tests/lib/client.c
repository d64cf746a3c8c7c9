/* HTTP with the server (over client/http), and the calls every API test needs: login, users,
 * devices, reads. Talks only to the harness's server on 127.0.0.1, never through a proxy. */
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "client/http.h"
#include "client/sign.h"
#include "common/pbjson.h"
#include "common/util.h"
#include "tests/lib/harness.h"

enum { TH_MAX_HEADERS = 64 };

static void th_curl_init(void) {
    static int done;
    if (done) return;
    done = 1;
    if (client_http_global_init() != 0) fprintf(stderr, "th: curl_global_init failed\n");
    if (sodium_init() < 0) fprintf(stderr, "th: sodium_init failed\n");
}

static int th_has_header(const char *const *headers, const char *name) {
    size_t n = strlen(name);
    for (int i = 0; headers && headers[i]; i++)
        if (strncasecmp(headers[i], name, n) == 0 && headers[i][n] == ':') return 1;
    return 0;
}

long th_http(const th_server *s, const th_request *rq, th_response *out) {
    memset(out, 0, sizeof *out);
    th_curl_init();
    char url[2048], type[512], accept[512];
    const char *lines[TH_MAX_HEADERS + 4];
    size_t n = 0;
    snprintf(url, sizeof url, "%s%s", s->url, rq->path);
    /* Headers curl would add by itself are sent only when the test names them. */
    if (!th_has_header(rq->headers, "Content-Type")) {
        snprintf(type, sizeof type, "Content-Type:%s%s", rq->content_type ? " " : "",
                 rq->content_type ? rq->content_type : "");
        lines[n++] = type;
    }
    if (!th_has_header(rq->headers, "Accept")) {
        snprintf(accept, sizeof accept, "Accept:%s%s", rq->accept ? " " : "",
                 rq->accept ? rq->accept : "");
        lines[n++] = accept;
    }
    if (!th_has_header(rq->headers, "Expect")) lines[n++] = "Expect:";
    for (int i = 0; rq->headers && rq->headers[i] && n < TH_MAX_HEADERS + 3; i++)
        lines[n++] = rq->headers[i];
    lines[n] = NULL;
    client_http_request req = {.method = rq->method,
                               .url = url,
                               .token = rq->token,
                               .headers = lines,
                               .body = rq->body,
                               .len = rq->len,
                               .timeout_s = 60};
    client_http_response r = {0};
    client_http_exchange(NULL, &req, &r);
    if (r.status == 0) fprintf(stderr, "th: %s %s: %s\n", rq->method, rq->path, r.error);
    out->status = r.status;
    out->body = r.body.data;
    out->len = r.body.len;
    util_strlcpy(out->content_type, r.content_type, sizeof out->content_type);
    return out->status;
}

void th_response_free(th_response *r) {
    free(r->body);
    r->body = NULL;
    r->len = 0;
}

int th_is_json(const char *ct) {
    return client_http_is_json(ct);
}

int th_error_decode(const th_response *r, th_error *e) {
    memset(e, 0, sizeof *e);
    if (client_http_error(r->content_type, r->body, r->len, e->code, sizeof e->code, e->message,
                          sizeof e->message) == 0)
        return 0;
    util_strlcpy(e->code, "<undecodable>", sizeof e->code);
    return -1;
}

/* Decodes a 2xx body of type desc in the encoding its content type names. NULL on failure. */
static ProtobufCMessage *th_decode(const th_response *r, const ProtobufCMessageDescriptor *desc) {
    ProtobufCMessage *m = NULL;
    if (th_is_json(r->content_type)) {
        char err[256];
        if (pbjson_decode(desc, (const char *)r->body, r->len, &m, err, sizeof err) != 0)
            fprintf(stderr, "th: JSON %s did not decode: %s\n", desc->name, err);
    } else {
        m = protobuf_c_message_unpack(desc, NULL, r->len, r->body);
        if (!m) fprintf(stderr, "th: protobuf %s did not decode (%zu bytes)\n", desc->name, r->len);
    }
    return m;
}

long th_call(const th_server *s, const char *method, const char *path, const char *token,
             const char *enc, const ProtobufCMessage *req,
             const ProtobufCMessageDescriptor *out_desc, ProtobufCMessage **out, th_error *err) {
    uint8_t *body = NULL;
    size_t len = 0;
    int json = strcmp(enc, TH_JSON) == 0;
    if (out) *out = NULL;
    if (err) memset(err, 0, sizeof *err);
    if (req && json) {
        char *text = pbjson_encode(req, 0);
        if (!text) return 0;
        body = (uint8_t *)text;
        len = strlen(text);
    } else if (req) {
        len = protobuf_c_message_get_packed_size(req);
        body = malloc(len + 1);
        if (!body) return 0;
        protobuf_c_message_pack(req, body);
    }
    th_response r;
    th_request rq = {.method = method,
                     .path = path,
                     .content_type = req ? enc : NULL,
                     .accept = enc,
                     .token = token,
                     .body = body,
                     .len = len};
    long st = th_http(s, &rq, &r);
    if (st >= 200 && st < 300 && out_desc && out) {
        *out = th_decode(&r, out_desc);
        if (!*out) st = 0;
    } else if ((st < 200 || st >= 300) && err && st != 0) {
        th_error_decode(&r, err);
    }
    th_response_free(&r);
    free(body);
    return st;
}

long th_approve(const th_server *s, const char *token, const char *id, int64_t base_version,
                Outfall__V1__DecisionResult **out) {
    char did[37];
    th_uuid(did);
    Outfall__V1__Decision d = OUTFALL__V1__DECISION__INIT;
    d.decision_id = did;
    d.has_kind = d.has_base_version = 1;
    d.kind = OUTFALL__V1__DECISION_KIND__DECISION_KIND_APPROVE;
    d.outfall_id = (char *)id;
    d.base_version = base_version;
    Outfall__V1__DecisionResult *res = NULL;
    th_error e = {0};
    long st = th_call(s, "POST", "/v1/review/decisions", token, TH_PB, &d.base,
                      &outfall__v1__decision_result__descriptor, (ProtobufCMessage **)&res, &e);
    if (st != 200)
        fprintf(stderr, "approve %s at %lld: %ld %s %s\n", id, (long long)base_version, st, e.code,
                e.message);
    if (out)
        *out = res;
    else if (res)
        outfall__v1__decision_result__free_unpacked(res, NULL);
    return st;
}

long th_login(const th_server *s, const char *username, const char *password, char token[128],
              Outfall__V1__LoginResponse **out, th_error *err) {
    Outfall__V1__LoginRequest rq = OUTFALL__V1__LOGIN_REQUEST__INIT;
    rq.username = (char *)username;
    rq.password = (char *)password;
    Outfall__V1__LoginResponse *resp = NULL;
    long st = th_call(s, "POST", "/v1/auth/login", NULL, TH_PB, &rq.base,
                      &outfall__v1__login_response__descriptor, (ProtobufCMessage **)&resp, err);
    if (token) token[0] = '\0';
    if (resp && resp->token && token) util_strlcpy(token, resp->token, 128);
    if (out)
        *out = resp;
    else if (resp)
        outfall__v1__login_response__free_unpacked(resp, NULL);
    return st;
}

long th_logout(const th_server *s, const char *token, th_error *err) {
    return th_call(s, "POST", "/v1/auth/logout", token, TH_PB, NULL, NULL, NULL, err);
}

long th_user_create(const th_server *s, const char *admin_token, const char *username,
                    const char *password, int role, const char *const *divisions, th_error *err) {
    Outfall__V1__User u = OUTFALL__V1__USER__INIT;
    u.username = (char *)username;
    u.password = (char *)password;
    u.has_role = 1;
    u.role = (Outfall__V1__Role)role;
    while (divisions && divisions[u.n_divisions])
        u.n_divisions++;
    u.divisions = (char **)divisions;
    return th_call(s, "POST", "/v1/users", admin_token, TH_PB, &u.base, NULL, NULL, err);
}

int th_user_new(th_server *s, const char *prefix, int role, const char *const *divisions,
                th_user *u) {
    static int serial;
    char rnd[37];
    th_uuid(rnd);
    memset(u, 0, sizeof *u);
    snprintf(u->name, sizeof u->name, "%s-%d-%.8s", prefix, ++serial, rnd);
    snprintf(u->password, sizeof u->password, "pw-%s", rnd);
    const char *admin = th_admin_token(s);
    th_error err = {0};
    long st = admin ? th_user_create(s, admin, u->name, u->password, role, divisions, &err) : 0;
    if (st != 201) {
        fprintf(stderr, "th: create user %s: %ld %s %s\n", u->name, st, err.code, err.message);
        return -1;
    }
    st = th_login(s, u->name, u->password, u->token, NULL, &err);
    if (st != 200) {
        fprintf(stderr, "th: login %s: %ld %s %s\n", u->name, st, err.code, err.message);
        return -1;
    }
    return 0;
}

long th_device_enroll(const th_server *s, const char *token, th_device *d, th_error *err) {
    th_curl_init();
    memset(d, 0, sizeof *d);
    th_uuid(d->id);
    client_sign_keypair(d->pk, d->sk);
    d->next_seq = 1;
    Outfall__V1__Device dev = OUTFALL__V1__DEVICE__INIT;
    dev.device_id = d->id;
    dev.name = "test phone";
    dev.has_public_key = 1;
    dev.public_key.data = d->pk;
    dev.public_key.len = sizeof d->pk;
    return th_call(s, "POST", "/v1/devices", token, TH_PB, &dev.base, NULL, NULL, err);
}

int th_device_new(const th_server *s, const char *token, th_device *d) {
    th_error err;
    long st = th_device_enroll(s, token, d, &err);
    if (st == 201) return 0;
    fprintf(stderr, "th: enroll device: %ld %s %s\n", st, err.code, err.message);
    return -1;
}

long th_device_revoke(const th_server *s, const char *token, const char *device_id, th_error *err) {
    char path[256];
    snprintf(path, sizeof path, "/v1/devices/%s", device_id);
    return th_call(s, "DELETE", path, token, TH_PB, NULL, NULL, NULL, err);
}

long th_get_outfall(const th_server *s, const char *token, const char *id,
                    Outfall__V1__Outfall **out, th_error *err) {
    char path[256];
    snprintf(path, sizeof path, "/v1/outfalls/%s", id);
    return th_call(s, "GET", path, token, TH_PB, NULL, &outfall__v1__outfall__descriptor,
                   (ProtobufCMessage **)out, err);
}

long th_get_observation(const th_server *s, const char *token, const char *id,
                        Outfall__V1__Observation **out, th_error *err) {
    char path[256];
    snprintf(path, sizeof path, "/v1/observations/%s", id);
    return th_call(s, "GET", path, token, TH_PB, NULL, &outfall__v1__observation__descriptor,
                   (ProtobufCMessage **)out, err);
}

long th_list_outfalls(const th_server *s, const char *token, const char *query,
                      Outfall__V1__OutfallList **out, th_error *err) {
    char path[1024];
    snprintf(path, sizeof path, "/v1/outfalls%s%s", query ? "?" : "", query ? query : "");
    return th_call(s, "GET", path, token, TH_PB, NULL, &outfall__v1__outfall_list__descriptor,
                   (ProtobufCMessage **)out, err);
}

long th_pull(const th_server *s, const char *token, int64_t since, int limit,
             Outfall__V1__ChangesResponse **out, th_error *err) {
    char path[128];
    snprintf(path, sizeof path, "/v1/changes?since=%lld&limit=%d", (long long)since, limit);
    return th_call(s, "GET", path, token, TH_PB, NULL, &outfall__v1__changes_response__descriptor,
                   (ProtobufCMessage **)out, err);
}
