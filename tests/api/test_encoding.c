/* One schema, two encodings: the same endpoints in protobuf and in the standard protobuf JSON
 * mapping (lowerCamelCase names, enums by name, 64-bit integers as strings), chosen by
 * Content-Type and Accept; errors come back in the encoding asked for. */
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/pbjson.h"
#include "common/util.h"
#include "tests/lib/harness.h"

#define DIV "410823"

static th_server srv;
static th_user surveyor;
static th_device dev;
static char outfall_id[37];

/* A raw exchange whose body is JSON text; the answer parsed as JSON into *json (decref it). */
static long json_exchange(const char *method, const char *path, const char *token, const char *body,
                          const char *accept, json_t **json, char ct[128]) {
    th_request rq = {.method = method,
                     .path = path,
                     .content_type = body ? TH_JSON : NULL,
                     .accept = accept,
                     .token = token,
                     .body = body,
                     .len = body ? strlen(body) : 0};
    th_response r;
    long st = th_http(&srv, &rq, &r);
    if (ct) util_strlcpy(ct, r.content_type, 128);
    if (json) *json = json_loadb((const char *)r.body, r.len, 0, NULL);
    th_response_free(&r);
    return st;
}

static int is_digits(const char *s) {
    if (!s || !*s) return 0;
    for (; *s; s++)
        if (*s < '0' || *s > '9') return 0;
    return 1;
}

static void login_speaks_json_with_enum_names_and_int64_strings(void **state) {
    (void)state;
    json_t *j = NULL;
    char ct[128];
    assert_int_equal(json_exchange("POST", "/v1/auth/login", NULL,
                                   "{\"username\":\"admin\",\"password\":\"" TH_ADMIN_PASSWORD
                                   "\"}",
                                   TH_JSON, &j, ct),
                     200);
    assert_true(th_is_json(ct));
    assert_non_null(j);
    assert_true(json_is_string(json_object_get(j, "token")));
    assert_true(is_digits(json_string_value(json_object_get(j, "expiresAtMs"))));
    assert_string_equal(TH_S(json_string_value(json_object_get(j, "role"))), "ROLE_ADMIN");
    json_decref(j);
}

static void json_request_may_ask_for_a_protobuf_answer(void **state) {
    (void)state;
    const char *body = "{\"username\":\"admin\",\"password\":\"" TH_ADMIN_PASSWORD "\"}";
    th_request rq = {.method = "POST",
                     .path = "/v1/auth/login",
                     .content_type = TH_JSON,
                     .accept = TH_PB,
                     .body = body,
                     .len = strlen(body)};
    th_response r;
    assert_int_equal(th_http(&srv, &rq, &r), 200);
    assert_false(th_is_json(r.content_type));
    Outfall__V1__LoginResponse *lr = outfall__v1__login_response__unpack(NULL, r.len, r.body);
    assert_non_null(lr);
    assert_int_equal(lr->role, TH_ROLE(ADMIN));
    outfall__v1__login_response__free_unpacked(lr, NULL);
    th_response_free(&r);
}

static void json_content_type_with_charset_is_accepted(void **state) {
    (void)state;
    const char *body = "{\"username\":\"admin\",\"password\":\"" TH_ADMIN_PASSWORD "\"}";
    th_request rq = {.method = "POST",
                     .path = "/v1/auth/login",
                     .content_type = "application/json; charset=utf-8",
                     .accept = TH_JSON,
                     .body = body,
                     .len = strlen(body)};
    th_response r;
    assert_int_equal(th_http(&srv, &rq, &r), 200);
    th_response_free(&r);
}

static void sync_in_json_answers_in_json_like_protobuf(void **state) {
    (void)state;
    double lat, lon;
    th_spot(&lat, &lon);
    th_batch *b = th_batch_new(&dev);
    th_outfall_create(b, "jihe", DIV, lat, lon)->landmark = "json bank";
    char id[37];
    util_strlcpy(id, th_batch_entity(b, 0), sizeof id);
    th_sync_result r;
    assert_int_equal(th_sync(&srv, surveyor.token, b, TH_JSON, &r), 200);
    assert_true(th_is_json(r.raw.content_type));
    json_t *j = json_loadb((const char *)r.raw.body, r.raw.len, 0, NULL);
    assert_non_null(j);
    json_t *res = json_array_get(json_object_get(j, "results"), 0);
    assert_non_null(res);
    assert_string_equal(TH_S(json_string_value(json_object_get(res, "status"))),
                        "CHANGE_STATUS_APPLIED");
    assert_string_equal(TH_S(json_string_value(json_object_get(res, "entityId"))), id);
    assert_string_equal(TH_S(json_string_value(json_object_get(res, "version"))), "1");
    assert_true(is_digits(json_string_value(json_object_get(j, "nextCursor"))));
    json_t *feed = json_object_get(j, "feed");
    for (size_t i = 0; i < json_array_size(feed); i++)
        assert_true(is_digits(json_string_value(json_object_get(json_array_get(feed, i), "seq"))));
    json_decref(j);
    /* the same answer through the generic decoder */
    assert_non_null(r.resp);
    assert_int_equal(r.resp->results[0]->status, TH_STATUS(APPLIED));
    th_sync_result_free(&r);
    th_batch_free(b);
}

/* GET path in enc as the surveyor; the body decoded and packed again, into *packed (free it). */
static size_t read_packed(const char *path, const char *enc, const ProtobufCMessageDescriptor *d,
                          uint8_t **packed) {
    ProtobufCMessage *m = NULL;
    assert_int_equal(th_call(&srv, "GET", path, surveyor.token, enc, NULL, d, &m, NULL), 200);
    assert_non_null(m);
    size_t n = protobuf_c_message_get_packed_size(m);
    *packed = malloc(n + 1);
    assert_non_null(*packed);
    protobuf_c_message_pack(m, *packed);
    protobuf_c_message_free_unpacked(m, NULL);
    return n;
}

static void outfall_reads_the_same_in_json_and_protobuf(void **state) {
    (void)state;
    char path[128];
    snprintf(path, sizeof path, "/v1/outfalls/%s", outfall_id);
    uint8_t *a, *b;
    size_t na = read_packed(path, TH_PB, &outfall__v1__outfall__descriptor, &a);
    size_t nb = read_packed(path, TH_JSON, &outfall__v1__outfall__descriptor, &b);
    assert_int_equal(na, nb);
    assert_memory_equal(a, b, na);
    free(a);
    free(b);

    json_t *j = NULL;
    char ct[128];
    assert_int_equal(json_exchange("GET", path, surveyor.token, NULL, TH_JSON, &j, ct), 200);
    assert_true(th_is_json(ct));
    assert_string_equal(TH_S(json_string_value(json_object_get(j, "riverCode"))), "jihe");
    assert_string_equal(TH_S(json_string_value(json_object_get(j, "divisionCode"))), DIV);
    assert_string_equal(TH_S(json_string_value(json_object_get(j, "version"))), "1");
    assert_string_equal(TH_S(json_string_value(json_object_get(j, "reviewState"))),
                        "REVIEW_STATE_PENDING");
    assert_true(json_is_number(json_object_get(j, "lat")));
    assert_null(json_object_get(j, "river_code"));
    json_decref(j);
}

static void feed_reads_the_same_in_json_and_protobuf(void **state) {
    (void)state;
    uint8_t *a, *b;
    const char *path = "/v1/changes?since=0&limit=50";
    size_t na = read_packed(path, TH_PB, &outfall__v1__changes_response__descriptor, &a);
    size_t nb = read_packed(path, TH_JSON, &outfall__v1__changes_response__descriptor, &b);
    assert_int_equal(na, nb);
    assert_memory_equal(a, b, na);
    free(a);
    free(b);
    json_t *j = NULL;
    assert_int_equal(json_exchange("GET", path, surveyor.token, NULL, TH_JSON, &j, NULL), 200);
    assert_true(is_digits(json_string_value(json_object_get(j, "nextCursor"))));
    assert_true(json_array_size(json_object_get(j, "feed")) >= 1);
    json_decref(j);
}

static void errors_come_in_the_encoding_asked_for(void **state) {
    (void)state;
    const char *encs[] = {TH_PB, TH_JSON};
    char ghost[37], path[64];
    th_uuid(ghost);
    snprintf(path, sizeof path, "/v1/outfalls/%s", ghost);
    for (int i = 0; i < 2; i++) {
        th_request rq = {.method = "GET", .path = path, .accept = encs[i], .token = surveyor.token};
        th_response r;
        assert_int_equal(th_http(&srv, &rq, &r), 404);
        assert_int_equal(th_is_json(r.content_type), i == 1);
        th_error e;
        assert_int_equal(th_error_decode(&r, &e), 0);
        assert_string_equal(e.code, "not_found");
        assert_true(e.message[0] != '\0');
        th_response_free(&r);
    }
    /* A JSON body that is not JSON: a JSON error. */
    json_t *j = NULL;
    char ct[128];
    assert_int_equal(
        json_exchange("POST", "/v1/auth/login", NULL, "{\"username\":", TH_JSON, &j, ct), 400);
    assert_true(th_is_json(ct));
    assert_string_equal(TH_S(json_string_value(json_object_get(j, "code"))), "malformed_json");
    json_decref(j);
}

static void healthz_speaks_both_encodings(void **state) {
    (void)state;
    uint8_t *a, *b;
    size_t na = read_packed("/healthz", TH_PB, &outfall__v1__health__descriptor, &a);
    size_t nb = read_packed("/healthz", TH_JSON, &outfall__v1__health__descriptor, &b);
    assert_int_equal(na, nb);
    assert_memory_equal(a, b, na);
    free(a);
    free(b);
}

static int group_setup(void **state) {
    (void)state;
    if (th_server_start(&srv, NULL) != 0) return -1;
    if (th_user_new(&srv, "enc", TH_ROLE(SURVEYOR), (const char *const[]){DIV, NULL}, &surveyor) !=
            0 ||
        th_device_new(&srv, surveyor.token, &dev) != 0)
        return -1;
    double lat, lon;
    th_spot(&lat, &lon);
    th_batch *b = th_batch_new(&dev);
    Outfall__V1__Outfall *o = th_outfall_create(b, "jihe", DIV, lat, lon);
    o->name = "济河 排口 \"quoted\" \\ name";
    o->has_accuracy_m = 1;
    o->accuracy_m = 3.25;
    th_outfall_party(b, o)->credit_code = "91410800MA0000000X";
    util_strlcpy(outfall_id, th_batch_entity(b, 0), sizeof outfall_id);
    Outfall__V1__SyncResponse *resp = th_sync_ok(&srv, surveyor.token, b, TH_PB);
    th_batch_free(b);
    if (!resp) return -1;
    outfall__v1__sync_response__free_unpacked(resp, NULL);
    return 0;
}

static int group_teardown(void **state) {
    (void)state;
    return th_server_stop(&srv);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(login_speaks_json_with_enum_names_and_int64_strings),
        cmocka_unit_test(json_request_may_ask_for_a_protobuf_answer),
        cmocka_unit_test(json_content_type_with_charset_is_accepted),
        cmocka_unit_test(sync_in_json_answers_in_json_like_protobuf),
        cmocka_unit_test(outfall_reads_the_same_in_json_and_protobuf),
        cmocka_unit_test(feed_reads_the_same_in_json_and_protobuf),
        cmocka_unit_test(errors_come_in_the_encoding_asked_for),
        cmocka_unit_test(healthz_speaks_both_encodings),
    };
    return cmocka_run_group_tests_name("encodings", tests, group_setup, group_teardown);
}
