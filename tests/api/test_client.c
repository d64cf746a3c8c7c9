/* The client library (client/) against the real server: an exchange's body limit and reused
 * buffer, header lookup, the server's Error in either encoding, photo hashes of files, a batch's
 * signature over its exact bytes, and a tus file upload that goes on from the server's offset. */
#include <setjmp.h>
#include <sodium.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "client/hash.h"
#include "client/http.h"
#include "client/sign.h"
#include "client/tus.h"
#include "common/util.h"
#include "tests/lib/harness.h"

static th_server srv;

/* The server's address with path, in a static buffer. */
static const char *at(const char *path) {
    static char url[512];
    snprintf(url, sizeof url, "%s%s", srv.url, path);
    return url;
}

static void answer_longer_than_the_limit_fails_and_says_so(void **state) {
    (void)state;
    client_http_request rq = {.method = "GET", .url = at("/healthz"), .timeout_s = 30};
    client_http_response r = {0};
    assert_int_equal(client_http_exchange(NULL, &rq, &r), 200);
    size_t whole = r.body.len;
    assert_true(whole > 4);
    assert_int_equal(r.body.over, 0);
    r.body.limit = whole - 1;
    assert_int_equal(client_http_exchange(NULL, &rq, &r), 0);
    assert_int_equal(r.body.over, 1);
    assert_true(r.error[0] != '\0');
    r.body.limit = whole;
    assert_int_equal(client_http_exchange(NULL, &rq, &r), 200);
    assert_int_equal(r.body.len, whole);
    client_http_response_free(&r);
}

static void kept_handle_answers_each_exchange_into_a_fresh_body(void **state) {
    (void)state;
    CURL *c = curl_easy_init();
    assert_non_null(c);
    client_http_request rq = {.method = "GET", .url = at("/healthz"), .timeout_s = 30};
    client_http_response r = {0};
    assert_int_equal(client_http_exchange(c, &rq, &r), 200);
    char *first = strdup((const char *)r.body.data);
    assert_int_equal(client_http_exchange(c, &rq, &r), 200);
    assert_int_equal(r.body.len, strlen(first)); /* not appended to the first answer */
    assert_string_equal((const char *)r.body.data, first);
    assert_int_equal(r.body.data[r.body.len], '\0');
    free(first);
    client_http_response_free(&r);
    curl_easy_cleanup(c);
}

static void header_lookup_ignores_case_and_trims(void **state) {
    (void)state;
    const char *block = "HTTP/1.1 204 No Content\r\nupload-offset:  1234 \r\nX-A: b\r\n\r\n";
    char v[32];
    assert_int_equal(client_http_header(block, "Upload-Offset", v, sizeof v), 1);
    assert_string_equal(v, "1234");
    assert_int_equal(client_http_header(block, "x-a", v, sizeof v), 1);
    assert_string_equal(v, "b");
    assert_int_equal(client_http_header(block, "X", v, sizeof v), 0); /* a prefix is no match */
    assert_string_equal(v, "");
    client_http_response r = {0};
    util_strlcpy(r.headers, block, sizeof r.headers);
    assert_int_equal(client_tus_offset(&r), 1234);
    util_strlcpy(r.headers, "Upload-Offset: 12x\r\n", sizeof r.headers);
    assert_int_equal(client_tus_offset(&r), -1);
}

static void server_error_decodes_in_either_encoding(void **state) {
    (void)state;
    const char *types[] = {CLIENT_HTTP_JSON, CLIENT_HTTP_PB};
    for (size_t i = 0; i < 2; i++) {
        char accept[64], code[64], message[256];
        snprintf(accept, sizeof accept, "Accept: %s", types[i]);
        const char *headers[] = {accept, NULL};
        client_http_request rq = {
            .method = "GET", .url = at("/v1/outfalls"), .headers = headers, .timeout_s = 30};
        client_http_response r = {0};
        assert_int_equal(client_http_exchange(NULL, &rq, &r), 401);
        assert_int_equal(client_http_is_json(r.content_type), i == 0);
        assert_int_equal(client_http_error(r.content_type, r.body.data, r.body.len, code,
                                           sizeof code, message, sizeof message),
                         0);
        assert_true(code[0] != '\0');
        assert_true(message[0] != '\0');
        client_http_response_free(&r);
    }
    char code[64], message[256];
    assert_int_equal(client_http_error(CLIENT_HTTP_JSON, (const uint8_t *)"{}", 2, code,
                                       sizeof code, message, sizeof message),
                     -1);
    assert_string_equal(code, "");
}

static void file_hash_is_the_buffers_and_the_manifests(void **state) {
    (void)state;
    th_manifest_row rows[16];
    int n = th_manifest(rows, 16);
    assert_true(n > 0);
    uint8_t buf[4096];
    char path[1024], hex[65], from_buffer[65];
    const char *root = getenv("OUTFALL_FIXTURES");
    snprintf(path, sizeof path, "%s/photos/%s", root && *root ? root : "tests/fixtures",
             rows[0].file);
    int64_t size = 0;
    assert_int_equal(client_hash_file(path, buf, sizeof buf, hex, &size), 0);
    assert_string_equal(hex, rows[0].hash);
    assert_int_equal(size, rows[0].bytes);
    th_file f;
    assert_int_equal(th_fixture(rows[0].file, &f), 0);
    client_hash_buffer(f.data, f.len, from_buffer);
    assert_string_equal(from_buffer, hex);
    th_file_free(&f);
    assert_int_equal(client_hash_file("/nonexistent/photo.jpg", buf, sizeof buf, hex, &size), -1);
    assert_string_equal(hex, "");
}

static void batch_signature_holds_over_its_exact_bytes_only(void **state) {
    (void)state;
    uint8_t pk[CLIENT_SIGN_PK], sk[CLIENT_SIGN_SK];
    client_sign_keypair(pk, sk);
    Outfall__V1__SyncRequest req = OUTFALL__V1__SYNC_REQUEST__INIT;
    req.batch_id = "7d6c1a9e-3f0b-4c55-9a53-0e2b8f1d2c44";
    req.device_id = "phone-1";
    req.has_device_seq = 1;
    req.device_seq = 3;
    for (int json = 0; json <= 1; json++) {
        uint8_t *bytes = NULL, sig[crypto_sign_BYTES];
        size_t len = 0;
        char *sig64 = NULL;
        assert_int_equal(client_sign_batch(&req, json, sk, &bytes, &len, &sig64), 0);
        assert_int_equal(json, bytes[0] == '{');
        assert_int_equal(util_base64_decode(sig64, strlen(sig64), sig, sizeof sig), sizeof sig);
        assert_int_equal(crypto_sign_verify_detached(sig, bytes, len, pk), 0);
        bytes[len - 1] ^= 1;
        assert_int_not_equal(crypto_sign_verify_detached(sig, bytes, len, pk), 0);
        free(bytes);
        free(sig64);
    }
}

static void file_upload_goes_on_from_the_servers_offset(void **state) {
    (void)state;
    th_file f;
    char hash[65], path[400], why[320], got[65];
    assert_int_equal(th_photo_variant("no-gps.jpg", &f, hash), 0);
    snprintf(path, sizeof path, "%s/variant.jpg", srv.root);
    assert_int_equal(th_write_file(path, f.data, f.len), 0);
    const char *token = th_admin_token(&srv);
    assert_non_null(token);
    client_tus t = {.server = srv.url, .token = token, .accept = TH_JSON, .timeout_s = 60};
    client_http_response r = {0};
    assert_int_equal(client_tus_create(&t, hash, (int64_t)f.len, &r), 201);
    assert_int_equal(client_tus_patch(&t, hash, 0, f.data, 100000, &r), 204);
    assert_int_equal(client_tus_offset(&r), 100000);
    client_http_response_free(&r);
    uint8_t *buf = malloc(65536);
    client_tus_file tf = {.path = path,
                          .hash = hash,
                          .size = (int64_t)f.len,
                          .piece = 65536,
                          .buf = buf,
                          .retries = 3};
    int64_t resumed = -1;
    assert_int_equal(client_tus_upload_file(&t, &tf, &resumed, why, sizeof why), 0);
    assert_int_equal(resumed, 100000);
    th_photo_digest(&srv, token, hash, got);
    assert_string_equal(got, hash);
    /* A file that is not what its hash says is refused, with the server's reason. */
    char other[65];
    th_file g;
    assert_int_equal(th_photo_variant("no-gps.jpg", &g, other), 0);
    tf.hash = other;
    tf.size = (int64_t)g.len;
    assert_int_equal(client_tus_upload_file(&t, &tf, &resumed, why, sizeof why), -1);
    assert_true(why[0] != '\0');
    free(buf);
    th_file_free(&f);
    th_file_free(&g);
}

static int setup(void **state) {
    (void)state;
    if (sodium_init() < 0 || client_http_global_init() != 0) return -1;
    return th_server_start(&srv, NULL);
}

static int teardown(void **state) {
    (void)state;
    return th_server_stop(&srv);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(answer_longer_than_the_limit_fails_and_says_so),
        cmocka_unit_test(kept_handle_answers_each_exchange_into_a_fresh_body),
        cmocka_unit_test(header_lookup_ignores_case_and_trims),
        cmocka_unit_test(server_error_decodes_in_either_encoding),
        cmocka_unit_test(file_hash_is_the_buffers_and_the_manifests),
        cmocka_unit_test(batch_signature_holds_over_its_exact_bytes_only),
        cmocka_unit_test(file_upload_goes_on_from_the_servers_offset),
    };
    return cmocka_run_group_tests_name("api/client", tests, setup, teardown);
}
