/* tus 1.0 as stock clients speak it, through the real server: X-HTTP-Method-Override (core),
 * creation-with-upload, the sha1 checksum (the extension's mandatory one), expiration,
 * termination and who may terminate, and HEAD's Upload-Metadata. Each failed on the server before
 * issue 21 point 3 (the override was ignored, a creation's body dropped, sha1 refused, no
 * Upload-Expires, DELETE 405, HEAD without Upload-Metadata). */
#include <openssl/evp.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "common/util.h"
#include "tests/lib/harness.h"
#include "tests/api/photos_calls.h"

static th_user s882, other; /* surveyors of 410882 */

/* "Upload-Length: <len>" in buf. */
static const char *length_of(char *buf, size_t cap, size_t len) {
    snprintf(buf, cap, "Upload-Length: %zu", len);
    return buf;
}

/* "Upload-Checksum: <algo> <base64 of the digest of data[len]>" in buf; broken flips a bit. */
static const char *checksum_of(char *buf, size_t cap, const char *algo, const void *data,
                               size_t len, int broken) {
    uint8_t digest[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    assert_int_equal(EVP_Digest(data, len, digest, &n, EVP_get_digestbyname(algo), NULL), 1);
    digest[0] ^= (uint8_t)broken;
    char *b64 = util_base64_encode(digest, n);
    snprintf(buf, cap, "Upload-Checksum: %s %s", algo, b64);
    free(b64);
    return buf;
}

/* Creates token's upload of f's hash (empty). */
static void create(const char *token, const char *hash, size_t len) {
    char length[48];
    th_xresult x;
    assert_int_equal(xfer("POST", at(hash, ""), token,
                          HDRS(TUS, length_of(length, sizeof length, len)), NULL, 0, &x),
                     201);
    th_response_free(&x.r);
}

/* The upload's offset by a tus HEAD of token; -status when it is not 200. */
static long offset_of(const char *token, const char *hash) {
    th_xresult x;
    char value[48] = "";
    long status = xfer("HEAD", at(hash, ""), token, HDRS(TUS), NULL, 0, &x);
    th_xheader(&x, "Upload-Offset", value, sizeof value);
    th_response_free(&x.r);
    return status == 200 ? atol(value) : -status;
}

static void options_advertise_every_extension_and_sha1(void **state) {
    (void)state;
    th_xresult x;
    char value[256];
    assert_int_equal(xfer("OPTIONS", "/v1/photos", NULL, NULL, NULL, 0, &x), 204);
    th_xheader(&x, "Tus-Extension", value, sizeof value);
    assert_string_equal(value, "creation,creation-with-upload,expiration,checksum,termination");
    th_xheader(&x, "Tus-Checksum-Algorithm", value, sizeof value);
    assert_string_equal(value, "sha1,sha256,sha512");
    th_response_free(&x.r);
}

/* A client that may only send GET and POST (tus core): X-HTTP-Method-Override routes a POST as
 * PATCH, HEAD and DELETE, each with that method's answer. */
static void method_override_routes_a_post_as_patch_head_and_delete(void **state) {
    (void)state;
    th_file f;
    char hash[65], value[48];
    th_xresult x;
    assert_int_equal(th_photo_variant("qinhe-outfall-a-2.jpg", &f, hash), 0);
    create(s882.token, hash, f.len);
    assert_int_equal(xfer("POST", at(hash, ""), s882.token,
                          HDRS(TUS, "X-HTTP-Method-Override: PATCH", "Upload-Offset: 0", OCTETS),
                          f.data, 1000, &x),
                     204);
    th_xheader(&x, "Upload-Offset", value, sizeof value);
    assert_string_equal(value, "1000");
    th_response_free(&x.r);
    /* as tus-java-client sends a chunk: a chunked POST overridden as PATCH */
    th_xfer java = {.method = "POST",
                    .path = at(hash, ""),
                    .token = s882.token,
                    .headers =
                        HDRS(TUS, "X-HTTP-Method-Override: PATCH", "Upload-Offset: 1000", OCTETS),
                    .body = f.data + 1000,
                    .len = 2000,
                    .chunked = 1};
    assert_int_equal(th_xfer_run(&srv, &java, &x), 204);
    th_xheader(&x, "Upload-Offset", value, sizeof value);
    assert_string_equal(value, "3000");
    th_response_free(&x.r);
    assert_int_equal(xfer("POST", at(hash, ""), s882.token,
                          HDRS(TUS, "X-HTTP-Method-Override: HEAD"), NULL, 0, &x),
                     200);
    th_xheader(&x, "Upload-Offset", value, sizeof value);
    assert_string_equal(value, "3000");
    assert_int_equal(x.r.len, 0);
    th_response_free(&x.r);
    assert_int_equal(xfer("POST", at(hash, ""), s882.token,
                          HDRS(TUS, "X-HTTP-Method-Override: DELETE"), NULL, 0, &x),
                     204);
    th_response_free(&x.r);
    assert_int_equal(offset_of(s882.token, hash), -404);
    th_file_free(&f);
}

/* An override naming another method, or sent on anything but a POST, is refused with its own
 * code, and the upload stays as it was. */
static void method_override_of_another_method_is_refused(void **state) {
    (void)state;
    th_file f;
    char hash[65];
    th_xresult x;
    assert_int_equal(th_photo_variant("qinhe-outfall-a-2.jpg", &f, hash), 0);
    create(s882.token, hash, f.len);
    const char *const refused[][2] = {
        {"POST", "X-HTTP-Method-Override: PUT"},
        {"POST", "X-HTTP-Method-Override: GET"},
        {"POST", "X-HTTP-Method-Override: patch"},
        {"PATCH", "X-HTTP-Method-Override: DELETE"},
    };
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        assert_int_equal(xfer(refused[i][0], at(hash, ""), s882.token,
                              HDRS(TUS, refused[i][1], "Upload-Offset: 0", OCTETS), f.data, 1000,
                              &x),
                         400);
        assert_string_equal(code_of(&x), "method_override_not_allowed");
        th_response_free(&x.r);
    }
    assert_int_equal(offset_of(s882.token, hash), 0);
    th_file_free(&f);
}

/* creation-with-upload: the creation's body is the first chunk, kept at offset 0 and told in
 * Upload-Offset; the rest follows by PATCH; a creation carrying the whole file stores it. */
static void creation_with_upload_keeps_its_chunk(void **state) {
    (void)state;
    th_file f;
    char hash[65], length[48], value[48], got[65], meta[160];
    th_xresult x;
    assert_int_equal(th_photo_variant("qinhe-outfall-a-2.jpg", &f, hash), 0);
    assert_int_equal(xfer("POST", at(hash, ""), s882.token,
                          HDRS(TUS, length_of(length, sizeof length, f.len), OCTETS), f.data,
                          100000, &x),
                     201);
    th_xheader(&x, "Upload-Offset", value, sizeof value);
    assert_string_equal(value, "100000");
    th_response_free(&x.r);
    assert_int_equal(offset_of(s882.token, hash), 100000);
    assert_int_equal(xfer("PATCH", at(hash, ""), s882.token,
                          HDRS(TUS, "Upload-Offset: 100000", OCTETS), f.data + 100000,
                          f.len - 100000, &x),
                     204);
    th_response_free(&x.r);
    th_photo_digest(&srv, s882.token, hash, got);
    assert_string_equal(got, hash);
    th_file_free(&f);

    /* the whole file in the creation, at /v1/photos with the hash in Upload-Metadata */
    assert_int_equal(th_photo_variant("qinhe-outfall-a-2.jpg", &f, hash), 0);
    char *b64 = util_base64_encode((const uint8_t *)hash, 64);
    snprintf(meta, sizeof meta, "Upload-Metadata: hash %s", b64);
    free(b64);
    assert_int_equal(xfer("POST", "/v1/photos", s882.token,
                          HDRS(TUS, length_of(length, sizeof length, f.len), meta, OCTETS), f.data,
                          f.len, &x),
                     201);
    th_xheader(&x, "Upload-Offset", value, sizeof value);
    assert_int_equal(atol(value), (long)f.len);
    th_response_free(&x.r);
    th_photo_digest(&srv, s882.token, hash, got);
    assert_string_equal(got, hash);
    th_file_free(&f);
}

/* A creation's chunk that fails its checksum is not kept (460), nor is one of another type
 * (415); the upload exists at offset 0 only in the first case. */
static void creation_with_upload_bad_checksum_keeps_nothing(void **state) {
    (void)state;
    th_file f;
    char hash[65], length[48], sum[160];
    th_xresult x;
    assert_int_equal(th_photo_variant("qinhe-outfall-a-2.jpg", &f, hash), 0);
    assert_int_equal(xfer("POST", at(hash, ""), s882.token,
                          HDRS(TUS, length_of(length, sizeof length, f.len), OCTETS,
                               checksum_of(sum, sizeof sum, "sha256", f.data, 5000, 1)),
                          f.data, 5000, &x),
                     460);
    assert_string_equal(code_of(&x), "checksum_mismatch");
    th_response_free(&x.r);
    assert_int_equal(offset_of(s882.token, hash), 0);
    th_file_free(&f);

    assert_int_equal(th_photo_variant("qinhe-outfall-a-2.jpg", &f, hash), 0);
    assert_int_equal(
        xfer("POST", at(hash, ""), s882.token,
             HDRS(TUS, length_of(length, sizeof length, f.len), "Content-Type: image/jpeg"), f.data,
             5000, &x),
        415);
    assert_string_equal(code_of(&x), "unsupported_media_type");
    th_response_free(&x.r);
    assert_int_equal(offset_of(s882.token, hash), -404);
    th_file_free(&f);
}

/* sha1, the checksum extension's mandatory algorithm: a matching chunk is kept, a failing one
 * is 460 and dropped. */
static void sha1_checksum_is_checked(void **state) {
    (void)state;
    th_file f;
    char hash[65], sum[160];
    th_xresult x;
    assert_int_equal(th_photo_variant("qinhe-outfall-a-2.jpg", &f, hash), 0);
    create(s882.token, hash, f.len);
    assert_int_equal(xfer("PATCH", at(hash, ""), s882.token,
                          HDRS(TUS, "Upload-Offset: 0", OCTETS,
                               checksum_of(sum, sizeof sum, "sha1", f.data, 4000, 0)),
                          f.data, 4000, &x),
                     204);
    th_response_free(&x.r);
    assert_int_equal(xfer("PATCH", at(hash, ""), s882.token,
                          HDRS(TUS, "Upload-Offset: 4000", OCTETS,
                               checksum_of(sum, sizeof sum, "sha1", f.data + 4000, 4000, 1)),
                          f.data + 4000, 4000, &x),
                     460);
    assert_string_equal(code_of(&x), "checksum_mismatch");
    th_response_free(&x.r);
    assert_int_equal(offset_of(s882.token, hash), 4000);
    assert_int_equal(xfer("PATCH", at(hash, ""), s882.token,
                          HDRS(TUS, "Upload-Offset: 4000", OCTETS, "Upload-Checksum: md5 AAAA"),
                          f.data + 4000, 4000, &x),
                     400);
    assert_string_equal(code_of(&x), "unsupported_checksum_algorithm");
    th_response_free(&x.r);
    th_file_free(&f);
}

/* Seconds from now to an RFC 9110 date; a huge number when it is not one. */
static long seconds_until(const char *date) {
    struct tm tm = {0};
    const char *end = strptime(date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    if (!end || *end) return 1L << 40;
    return (long)(timegm(&tm) - time(NULL));
}

/* expiration: the creation's and a PATCH's answers tell when the unfinished upload goes
 * (--upload-expiry, a week by default, from its last bytes); a finished one has none. */
static void unfinished_upload_tells_its_expiry(void **state) {
    (void)state;
    th_file f;
    char hash[65], length[48], value[64];
    th_xresult x;
    const long week = 7 * 24 * 3600;
    assert_int_equal(th_photo_variant("qinhe-outfall-a-2.jpg", &f, hash), 0);
    assert_int_equal(xfer("POST", at(hash, ""), s882.token,
                          HDRS(TUS, length_of(length, sizeof length, f.len)), NULL, 0, &x),
                     201);
    assert_int_equal(th_xheader(&x, "Upload-Expires", value, sizeof value), 1);
    print_message("Upload-Expires: %s\n", value);
    assert_in_range(seconds_until(value), week - 60, week + 1);
    th_response_free(&x.r);
    assert_int_equal(xfer("PATCH", at(hash, ""), s882.token, HDRS(TUS, "Upload-Offset: 0", OCTETS),
                          f.data, 1000, &x),
                     204);
    assert_int_equal(th_xheader(&x, "Upload-Expires", value, sizeof value), 1);
    assert_in_range(seconds_until(value), week - 60, week + 1);
    th_response_free(&x.r);
    assert_int_equal(xfer("PATCH", at(hash, ""), s882.token,
                          HDRS(TUS, "Upload-Offset: 1000", OCTETS), f.data + 1000, f.len - 1000,
                          &x),
                     204);
    assert_int_equal(th_xheader(&x, "Upload-Expires", value, sizeof value), 0);
    th_response_free(&x.r);
    th_file_free(&f);
}

/* termination: DELETE removes the caller's unfinished upload, bytes and all, and is audited;
 * the same upload then is 404. */
static void delete_removes_an_unfinished_upload(void **state) {
    (void)state;
    th_file f;
    char hash[65];
    th_xresult x;
    assert_int_equal(th_photo_variant("qinhe-outfall-a-2.jpg", &f, hash), 0);
    create(s882.token, hash, f.len);
    assert_int_equal(xfer("PATCH", at(hash, ""), s882.token, HDRS(TUS, "Upload-Offset: 0", OCTETS),
                          f.data, 5000, &x),
                     204);
    th_response_free(&x.r);
    assert_int_equal(th_uploads_of(&srv, hash), 1);
    assert_int_equal(xfer("DELETE", at(hash, ""), s882.token, HDRS(TUS), NULL, 0, &x), 204);
    th_response_free(&x.r);
    assert_int_equal(th_uploads_of(&srv, hash), 0);
    assert_int_equal(offset_of(s882.token, hash), -404);
    assert_int_equal(th_db_count(&srv,
                                 "SELECT count(*) FROM audit WHERE action = 'photo.upload.delete' "
                                 "AND outcome = 'ok' AND target = ?",
                                 hash),
                     1);
    assert_int_equal(xfer("DELETE", at(hash, ""), s882.token, HDRS(TUS), NULL, 0, &x), 404);
    assert_string_equal(code_of(&x), "not_found");
    th_response_free(&x.r);
    th_file_free(&f);
}

/* A stored photo is never deleted: 409 photo_stored (audited), and it stays readable. */
static void delete_of_a_stored_photo_is_refused(void **state) {
    (void)state;
    th_file f;
    char hash[65], got[65];
    th_xresult x;
    assert_int_equal(th_photo_variant("qinhe-outfall-a-2.jpg", &f, hash), 0);
    assert_int_equal(th_photo_put(&srv, s882.token, hash, f.data, f.len, NULL), 201);
    assert_int_equal(xfer("DELETE", at(hash, ""), s882.token, HDRS(TUS), NULL, 0, &x), 409);
    assert_string_equal(code_of(&x), "photo_stored");
    th_response_free(&x.r);
    assert_int_equal(th_db_count(&srv,
                                 "SELECT count(*) FROM audit WHERE action = 'photo.upload.delete' "
                                 "AND outcome = 'photo_stored' AND target = ?",
                                 hash),
                     1);
    th_photo_digest(&srv, s882.token, hash, got);
    assert_string_equal(got, hash);
    /* and one the caller does not hold is not found, whether others have it or not */
    assert_int_equal(xfer("DELETE", at(hash, ""), other.token, HDRS(TUS), NULL, 0, &x), 404);
    th_response_free(&x.r);
    th_file_free(&f);
}

/* Another user's upload is out of reach: their DELETE finds none of their own (404), naming the
 * holder is forbidden (403, audited); an admin naming the holder deletes it. */
static void only_the_uploader_or_an_admin_deletes_an_upload(void **state) {
    (void)state;
    th_file f;
    char hash[65], path[160];
    th_xresult x;
    assert_int_equal(th_photo_variant("qinhe-outfall-a-2.jpg", &f, hash), 0);
    create(s882.token, hash, f.len);
    int id = th_db_count(&srv, "SELECT id FROM users WHERE username = ?", s882.name);
    assert_true(id > 0);
    snprintf(path, sizeof path, "%s?holder=u%d", at(hash, ""), id);
    assert_int_equal(xfer("DELETE", at(hash, ""), other.token, HDRS(TUS), NULL, 0, &x), 404);
    th_response_free(&x.r);
    assert_int_equal(xfer("DELETE", path, other.token, HDRS(TUS), NULL, 0, &x), 403);
    assert_string_equal(code_of(&x), "forbidden_role");
    th_response_free(&x.r);
    assert_int_equal(offset_of(s882.token, hash), 0);
    assert_int_equal(xfer("DELETE", path, th_admin_token(&srv), HDRS(TUS), NULL, 0, &x), 204);
    th_response_free(&x.r);
    assert_int_equal(offset_of(s882.token, hash), -404);
    snprintf(path, sizeof path, "%s?holder=x'1", at(hash, ""));
    assert_int_equal(xfer("DELETE", path, th_admin_token(&srv), HDRS(TUS), NULL, 0, &x), 400);
    assert_string_equal(code_of(&x), "invalid_argument");
    th_response_free(&x.r);
    th_file_free(&f);
}

/* HEAD returns the Upload-Metadata the creation sent, as sent; metadata past 1024 bytes is
 * refused and nothing made. */
static void head_returns_the_metadata_given_at_creation(void **state) {
    (void)state;
    th_file f;
    char hash[65], length[48], meta[256], value[256], big[1200];
    th_xresult x;
    assert_int_equal(th_photo_variant("qinhe-outfall-a-2.jpg", &f, hash), 0);
    char *b64 = util_base64_encode((const uint8_t *)hash, 64);
    snprintf(meta, sizeof meta, "Upload-Metadata: hash %s,filename YS5qcGc=,is_confidential", b64);
    free(b64);
    assert_int_equal(xfer("POST", "/v1/photos", s882.token,
                          HDRS(TUS, length_of(length, sizeof length, f.len), meta), NULL, 0, &x),
                     201);
    th_response_free(&x.r);
    assert_int_equal(xfer("HEAD", at(hash, ""), s882.token, HDRS(TUS), NULL, 0, &x), 200);
    assert_int_equal(th_xheader(&x, "Upload-Metadata", value, sizeof value), 1);
    assert_string_equal(value, meta + strlen("Upload-Metadata: "));
    th_response_free(&x.r);
    th_file_free(&f);

    assert_int_equal(th_photo_variant("qinhe-outfall-a-2.jpg", &f, hash), 0);
    memcpy(big, "Upload-Metadata: filename ", 26);
    memset(big + 26, 'A', sizeof big - 27);
    big[sizeof big - 1] = '\0';
    assert_int_equal(xfer("POST", at(hash, ""), s882.token,
                          HDRS(TUS, length_of(length, sizeof length, f.len), big), NULL, 0, &x),
                     400);
    assert_string_equal(code_of(&x), "invalid_argument");
    th_response_free(&x.r);
    assert_int_equal(offset_of(s882.token, hash), -404);
    th_file_free(&f);
}

static int setup(void **state) {
    (void)state;
    const char *const in882[] = {"410882", NULL};
    if (th_server_start(&srv, NULL) < 0 ||
        th_user_new(&srv, "s882", TH_ROLE(SURVEYOR), in882, &s882) < 0 ||
        th_user_new(&srv, "other", TH_ROLE(SURVEYOR), in882, &other) < 0)
        return -1;
    return 0;
}

static int teardown(void **state) {
    (void)state;
    return th_server_stop(&srv);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(options_advertise_every_extension_and_sha1),
        cmocka_unit_test(method_override_routes_a_post_as_patch_head_and_delete),
        cmocka_unit_test(method_override_of_another_method_is_refused),
        cmocka_unit_test(creation_with_upload_keeps_its_chunk),
        cmocka_unit_test(creation_with_upload_bad_checksum_keeps_nothing),
        cmocka_unit_test(sha1_checksum_is_checked),
        cmocka_unit_test(unfinished_upload_tells_its_expiry),
        cmocka_unit_test(delete_removes_an_unfinished_upload),
        cmocka_unit_test(delete_of_a_stored_photo_is_refused),
        cmocka_unit_test(only_the_uploader_or_an_admin_deletes_an_upload),
        cmocka_unit_test(head_returns_the_metadata_given_at_creation),
    };
    return cmocka_run_group_tests_name("api/photos_tus", tests, setup, teardown);
}
