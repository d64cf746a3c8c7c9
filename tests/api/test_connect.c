/* The Connect protocol's unary calls (issue 21.2) over HTTP/1.1, through the real server: POST
 * /outfall.v1.<Service>/<Method> in application/proto and application/json, answered 200 in the
 * request's codec (an empty message where the REST twin answers 204, 200 where it answers 201);
 * errors as Connect error bodies ({"code", "message", "details"}) with the status the protocol
 * gives each code and our stable code in an outfall.v1.Error detail; unknown methods 404
 * unimplemented, GET 405, other content types 415; a GET twin's parameters from the request
 * message (never from the URL); the sync method's device signature over the exact body bytes;
 * the REST twin's body limit. */
#include <setjmp.h>
#include <sodium.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "common/pbjson.h"
#include "common/util.h"
#include "tests/lib/harness.h"

#define PROTO "application/proto"
#define DIV "410882"

static th_server srv;
static th_user surveyor;
static th_device phone;

/* POST body[len] of ctype to the method's path as token (NULL: none) with the extra header line
 * extra (may be NULL) into out. Returns the status. */
static long rpc_raw(const char *method, const char *token, const char *ctype, const void *body,
                    size_t len, const char *extra, th_xresult *out) {
    char path[128], type[96];
    snprintf(path, sizeof path, "/outfall.v1.%s", method);
    snprintf(type, sizeof type, "Content-Type: %s", ctype);
    const char *headers[] = {type, "Connect-Protocol-Version: 1", "Accept:", extra, NULL};
    th_xfer x = {.method = "POST",
                 .path = path,
                 .token = token,
                 .headers = headers,
                 .body = body,
                 .len = len};
    return th_xfer_run(&srv, &x, out);
}

/* msg sent as ctype (PROTO or TH_JSON) to method. Returns the status. */
static long rpc(const char *method, const char *token, const char *ctype,
                const ProtobufCMessage *msg, th_xresult *out) {
    if (strcmp(ctype, PROTO) == 0) {
        size_t len = protobuf_c_message_get_packed_size(msg);
        uint8_t *buf = malloc(len + 1);
        protobuf_c_message_pack(msg, buf);
        long st = rpc_raw(method, token, ctype, buf, len, NULL, out);
        free(buf);
        return st;
    }
    char *text = pbjson_encode(msg, 0);
    long st = rpc_raw(method, token, ctype, text, strlen(text), NULL, out);
    free(text);
    return st;
}

/* The answer in out as a message of type desc in the codec ctype names. */
static ProtobufCMessage *reply(const th_xresult *out, const char *ctype,
                               const ProtobufCMessageDescriptor *desc) {
    char why[256];
    ProtobufCMessage *m = NULL;
    if (strcmp(ctype, PROTO) == 0)
        return protobuf_c_message_unpack(desc, NULL, out->r.len, out->r.body);
    if (pbjson_decode(desc, (const char *)out->r.body, out->r.len, &m, why, sizeof why) < 0)
        print_error("not a %s: %s\n", desc->name, why);
    return m;
}

/* Checks out is a Connect error body with Connect code want_code whose outfall.v1.Error detail
 * (its packed value and its debug form) carries our code want_ours. */
static void assert_connect_error(const th_xresult *out, const char *want_code,
                                 const char *want_ours) {
    assert_string_equal(out->r.content_type, "application/json");
    json_error_t jerr;
    json_t *body = json_loadb((const char *)out->r.body, out->r.len, 0, &jerr);
    if (!body) fail_msg("not JSON: %.*s", (int)out->r.len, out->r.body);
    assert_string_equal(json_string_value(json_object_get(body, "code")), want_code);
    assert_non_null(json_string_value(json_object_get(body, "message")));
    json_t *detail = json_array_get(json_object_get(body, "details"), 0);
    assert_non_null(detail);
    assert_string_equal(json_string_value(json_object_get(detail, "type")), "outfall.v1.Error");
    const char *b64 = json_string_value(json_object_get(detail, "value"));
    assert_non_null(b64);
    uint8_t bin[512];
    size_t n = 0;
    assert_int_equal(sodium_base642bin(bin, sizeof bin, b64, strlen(b64), NULL, &n, NULL,
                                       sodium_base64_VARIANT_ORIGINAL_NO_PADDING),
                     0);
    Outfall__V1__Error *e = outfall__v1__error__unpack(NULL, n, bin);
    assert_non_null(e);
    assert_string_equal(TH_S(e->code), want_ours);
    assert_string_equal(TH_S(e->message), json_string_value(json_object_get(body, "message")));
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(detail, "debug"), "code")), want_ours);
    outfall__v1__error__free_unpacked(e, NULL);
    json_decref(body);
}

static void login_answers_200_in_the_request_codec(void **state) {
    (void)state;
    const char *codecs[] = {PROTO, TH_JSON};
    for (size_t i = 0; i < 2; i++) {
        Outfall__V1__LoginRequest rq = OUTFALL__V1__LOGIN_REQUEST__INIT;
        rq.username = surveyor.name;
        rq.password = surveyor.password;
        th_xresult out;
        assert_int_equal(rpc("AccountService/Login", NULL, codecs[i], &rq.base, &out), 200);
        assert_string_equal(out.r.content_type, codecs[i]);
        Outfall__V1__LoginResponse *m =
            (void *)reply(&out, codecs[i], &outfall__v1__login_response__descriptor);
        assert_non_null(m);
        assert_int_equal(strlen(TH_S(m->token)), 64);
        assert_string_equal(TH_S(m->username), surveyor.name);
        protobuf_c_message_free_unpacked(&m->base, NULL);
        th_response_free(&out.r);
    }
}

static void a_refusal_is_a_connect_error_with_our_code_in_a_detail(void **state) {
    (void)state;
    Outfall__V1__LoginRequest rq = OUTFALL__V1__LOGIN_REQUEST__INIT;
    rq.username = surveyor.name;
    rq.password = "not the password";
    th_xresult out;
    /* a protobuf call's error is JSON all the same, as the protocol says */
    assert_int_equal(rpc("AccountService/Login", NULL, PROTO, &rq.base, &out), 401);
    assert_connect_error(&out, "unauthenticated", "bad_credentials");
    th_response_free(&out.r);
}

static void codes_take_the_status_the_protocol_gives_them(void **state) {
    (void)state;
    th_xresult out;
    Outfall__V1__GetChangesRequest bad = OUTFALL__V1__GET_CHANGES_REQUEST__INIT;
    bad.has_limit = 1;
    bad.limit = -1;
    assert_int_equal(rpc("SyncService/GetChanges", surveyor.token, TH_JSON, &bad.base, &out), 400);
    assert_connect_error(&out, "invalid_argument", "invalid_argument");
    th_response_free(&out.r);

    Outfall__V1__ListUsersRequest users = OUTFALL__V1__LIST_USERS_REQUEST__INIT;
    assert_int_equal(rpc("AccountService/ListUsers", surveyor.token, PROTO, &users.base, &out),
                     403);
    assert_connect_error(&out, "permission_denied", "forbidden_role");
    th_response_free(&out.r);

    assert_int_equal(rpc("AccountService/ListUsers", NULL, TH_JSON, &users.base, &out), 401);
    assert_connect_error(&out, "unauthenticated", "token_missing");
    th_response_free(&out.r);

    char id[37];
    th_uuid(id);
    Outfall__V1__GetObservationRequest obs = OUTFALL__V1__GET_OBSERVATION_REQUEST__INIT;
    obs.id = id;
    assert_int_equal(rpc("OutfallService/GetObservation", surveyor.token, TH_JSON, &obs.base, &out),
                     404);
    assert_connect_error(&out, "not_found", "not_found");
    th_response_free(&out.r);

    /* a path segment the twin needs is required */
    Outfall__V1__GetOutfallRequest none = OUTFALL__V1__GET_OUTFALL_REQUEST__INIT;
    assert_int_equal(rpc("OutfallService/GetOutfall", surveyor.token, TH_JSON, &none.base, &out),
                     400);
    assert_connect_error(&out, "invalid_argument", "invalid_argument");
    th_response_free(&out.r);
}

static void an_unknown_method_is_404_unimplemented(void **state) {
    (void)state;
    const char *paths[] = {"AccountService/Nothing", "NoService/Login", "AccountService/"};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        th_xresult out;
        assert_int_equal(rpc_raw(paths[i], surveyor.token, TH_JSON, "{}", 2, NULL, &out), 404);
        assert_connect_error(&out, "unimplemented", "not_found");
        th_response_free(&out.r);
    }
}

static void get_and_other_methods_are_refused_405(void **state) {
    (void)state;
    const char *methods[] = {"GET", "PUT", "DELETE"};
    for (size_t i = 0; i < 3; i++) {
        th_xresult out;
        th_xfer x = {.method = methods[i],
                     .path = "/outfall.v1.SyncService/GetChanges",
                     .token = surveyor.token};
        assert_int_equal(th_xfer_run(&srv, &x, &out), 405);
        char allow[64];
        assert_true(th_xheader(&out, "Allow", allow, sizeof allow));
        assert_string_equal(allow, "POST");
        assert_connect_error(&out, "unimplemented", "method_not_allowed");
        th_response_free(&out.r);
    }
}

static void only_the_connect_content_types_are_taken(void **state) {
    (void)state;
    const char *refused[] = {"text/plain", "application/x-protobuf", "application/grpc",
                             "application/connect+proto"};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        th_xresult out;
        assert_int_equal(
            rpc_raw("SyncService/GetChanges", surveyor.token, refused[i], "{}", 2, NULL, &out),
            415);
        assert_connect_error(&out, "invalid_argument", "unsupported_media_type");
        th_response_free(&out.r);
    }
    th_xresult out;
    assert_int_equal(rpc_raw("SyncService/GetChanges", surveyor.token,
                             "application/json; charset=utf-8", "{}", 2, NULL, &out),
                     200);
    th_response_free(&out.r);
    assert_int_equal(rpc_raw("SyncService/GetChanges", surveyor.token, TH_JSON, "{}", 2,
                             "Content-Encoding: gzip", &out),
                     501);
    assert_connect_error(&out, "unimplemented", "unsupported_media_type");
    th_response_free(&out.r);
}

static void the_protocol_version_must_be_1(void **state) {
    (void)state;
    th_xresult out;
    const char *headers[] = {"Content-Type: application/json", "Connect-Protocol-Version: 2", NULL};
    th_xfer x = {.method = "POST",
                 .path = "/outfall.v1.SyncService/GetChanges",
                 .token = surveyor.token,
                 .headers = headers,
                 .body = "{}",
                 .len = 2};
    assert_int_equal(th_xfer_run(&srv, &x, &out), 400);
    assert_connect_error(&out, "invalid_argument", "invalid_argument");
    th_response_free(&out.r);
}

static void a_no_content_twin_answers_an_empty_message(void **state) {
    (void)state;
    const char *codecs[] = {PROTO, TH_JSON};
    const char *bodies[] = {"", "{}"};
    for (size_t i = 0; i < 2; i++) {
        char token[128];
        assert_int_equal(th_login(&srv, surveyor.name, surveyor.password, token, NULL, NULL), 200);
        th_xresult out;
        assert_int_equal(rpc_raw("AccountService/Logout", token, codecs[i], bodies[i],
                                 strlen(bodies[i]), NULL, &out),
                         200);
        assert_string_equal(out.r.content_type, codecs[i]);
        assert_int_equal(out.r.len, strlen(bodies[i]));
        assert_memory_equal(out.r.body, bodies[i], out.r.len);
        th_response_free(&out.r);
        /* the token is gone, as after POST /v1/auth/logout */
        assert_int_equal(rpc_raw("SyncService/GetChanges", token, TH_JSON, "{}", 2, NULL, &out),
                         401);
        assert_connect_error(&out, "unauthenticated", "token_revoked");
        th_response_free(&out.r);
    }
}

static void a_created_twin_answers_200(void **state) {
    (void)state;
    th_device d;
    th_uuid(d.id);
    crypto_sign_keypair(d.pk, d.sk);
    Outfall__V1__Device m = OUTFALL__V1__DEVICE__INIT;
    m.device_id = d.id;
    m.name = "connect phone";
    m.has_public_key = 1;
    m.public_key.data = d.pk;
    m.public_key.len = sizeof d.pk;
    th_xresult out;
    assert_int_equal(rpc("AccountService/EnrollDevice", surveyor.token, PROTO, &m.base, &out), 200);
    Outfall__V1__Device *back = (void *)reply(&out, PROTO, &outfall__v1__device__descriptor);
    assert_non_null(back);
    assert_string_equal(TH_S(back->device_id), d.id);
    protobuf_c_message_free_unpacked(&back->base, NULL);
    th_response_free(&out.r);
    /* and it is listed for its owner, named by the request message's path field */
    Outfall__V1__ListDevicesRequest ld = OUTFALL__V1__LIST_DEVICES_REQUEST__INIT;
    ld.username = surveyor.name;
    assert_int_equal(rpc("AccountService/ListDevices", surveyor.token, TH_JSON, &ld.base, &out),
                     200);
    assert_non_null(strstr((const char *)out.r.body, d.id));
    th_response_free(&out.r);
}

/* A batch through SyncService/PushBatch: signed over the exact bytes it is applied; unsigned,
 * or signed over other bytes, refused as on /v1/sync, and nothing written. */
static void push_batch_keeps_the_device_signature(void **state) {
    (void)state;
    const char *codecs[] = {PROTO, TH_JSON};
    for (size_t i = 0; i < 2; i++) {
        const char *enc = i == 0 ? TH_PB : TH_JSON;
        double lat, lon;
        th_spot(&lat, &lon);
        th_batch *b = th_batch_new(&phone);
        th_outfall_create(b, "qinhe", DIV, lat, lon);
        const uint8_t *bytes;
        size_t len;
        assert_int_equal(th_batch_encode(b, enc, &bytes, &len), 0);
        char *sig = th_sign_b64(phone.sk, bytes, len);
        char header[200];
        th_xresult out;

        snprintf(header, sizeof header, "X-Device-Signature: %s", sig);
        char *other = th_sign_b64(phone.sk, "other bytes", 11);
        char wrong[200];
        snprintf(wrong, sizeof wrong, "X-Device-Signature: %s", other);
        th_sum before = th_db_checksum(srv.data, TH_ALL);
        assert_int_equal(
            rpc_raw("SyncService/PushBatch", surveyor.token, codecs[i], bytes, len, NULL, &out),
            401);
        assert_connect_error(&out, "unauthenticated", "signature_missing");
        th_response_free(&out.r);
        assert_int_equal(
            rpc_raw("SyncService/PushBatch", surveyor.token, codecs[i], bytes, len, wrong, &out),
            401);
        th_response_free(&out.r);
        assert_string_equal(th_db_checksum(srv.data, TH_ALL).hex, before.hex);

        assert_int_equal(
            rpc_raw("SyncService/PushBatch", surveyor.token, codecs[i], bytes, len, header, &out),
            200);
        assert_string_equal(out.r.content_type, codecs[i]);
        Outfall__V1__SyncResponse *r =
            (void *)reply(&out, codecs[i], &outfall__v1__sync_response__descriptor);
        assert_non_null(r);
        assert_int_equal(r->n_results, 1);
        assert_int_equal(r->results[0]->status, TH_STATUS(APPLIED));
        protobuf_c_message_free_unpacked(&r->base, NULL);
        th_response_free(&out.r);
        phone.next_seq++;

        /* the record reads back through OutfallService/GetOutfall, its id a path field */
        Outfall__V1__GetOutfallRequest g = OUTFALL__V1__GET_OUTFALL_REQUEST__INIT;
        g.id = (char *)th_batch_entity(b, 0);
        g.view = "latest";
        assert_int_equal(rpc("OutfallService/GetOutfall", surveyor.token, codecs[i], &g.base, &out),
                         200);
        Outfall__V1__Outfall *o = (void *)reply(&out, codecs[i], &outfall__v1__outfall__descriptor);
        assert_non_null(o);
        assert_string_equal(TH_S(o->id), th_batch_entity(b, 0));
        protobuf_c_message_free_unpacked(&o->base, NULL);
        th_response_free(&out.r);
        free(sig);
        free(other);
        th_batch_free(b);
    }
}

/* A method whose twin reads the query takes its parameters from the request message only: a
 * query string on the Connect path changes nothing. */
static void parameters_come_from_the_message_not_the_url(void **state) {
    (void)state;
    th_xresult out;
    const char *headers[] = {"Content-Type: application/json", NULL};
    th_xfer x = {.method = "POST",
                 .path = "/outfall.v1.SyncService/GetChanges?limit=-1",
                 .token = surveyor.token,
                 .headers = headers,
                 .body = "{\"limit\":1}",
                 .len = 11};
    assert_int_equal(th_xfer_run(&srv, &x, &out), 200);
    Outfall__V1__ChangesResponse *m =
        (void *)reply(&out, TH_JSON, &outfall__v1__changes_response__descriptor);
    assert_non_null(m);
    assert_true(m->n_feed <= 1);
    protobuf_c_message_free_unpacked(&m->base, NULL);
    th_response_free(&out.r);
}

/* The body limit of a method whose twin takes no body is a small request message's. */
static void the_body_limit_holds(void **state) {
    (void)state;
    size_t len = 8 * 1024;
    char *big = malloc(len);
    memset(big, ' ', len);
    big[0] = '{';
    big[len - 1] = '}';
    th_xresult out;
    assert_int_equal(
        rpc_raw("SyncService/GetChanges", surveyor.token, TH_JSON, big, len, NULL, &out), 429);
    assert_connect_error(&out, "resource_exhausted", "body_too_large");
    th_response_free(&out.r);
    free(big);
}

static int setup(void **state) {
    (void)state;
    const char *divs[] = {DIV, NULL};
    if (th_server_start(&srv, NULL) != 0 || !th_admin_token(&srv)) return -1;
    if (th_user_new(&srv, "cs", TH_ROLE(SURVEYOR), divs, &surveyor)) return -1;
    return th_device_new(&srv, surveyor.token, &phone);
}

static int teardown(void **state) {
    (void)state;
    return th_server_stop(&srv);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(login_answers_200_in_the_request_codec),
        cmocka_unit_test(a_refusal_is_a_connect_error_with_our_code_in_a_detail),
        cmocka_unit_test(codes_take_the_status_the_protocol_gives_them),
        cmocka_unit_test(an_unknown_method_is_404_unimplemented),
        cmocka_unit_test(get_and_other_methods_are_refused_405),
        cmocka_unit_test(only_the_connect_content_types_are_taken),
        cmocka_unit_test(the_protocol_version_must_be_1),
        cmocka_unit_test(a_no_content_twin_answers_an_empty_message),
        cmocka_unit_test(a_created_twin_answers_200),
        cmocka_unit_test(push_batch_keeps_the_device_signature),
        cmocka_unit_test(parameters_come_from_the_message_not_the_url),
        cmocka_unit_test(the_body_limit_holds),
    };
    return cmocka_run_group_tests_name("connect", tests, setup, teardown);
}
