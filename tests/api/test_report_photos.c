/* Photos on public reports (举报) through the real server: a report lists the digests of its
 * photos and gets an upload token scoped to exactly those; the anonymous reporter uploads them
 * through the same photo upload (PUT and tus) with the same checks (digest, size, magic bytes);
 * supervisors of the report's division see them, the public view of the report never does. The
 * token cannot upload another digest (403 photo_not_in_report), cannot read a photo or call any
 * other endpoint, expires (401 token_expired); no token is 401. A reporter's unfinished upload
 * goes when its token expires or after --report-upload-expiry untouched (a surveyor's stays), and
 * one address holds at most --report-upload-quota bytes of them, for --report-upload-max-reports
 * reports (429). Every refusal leaves the database, the photo store and the uploads folder as they
 * were. */
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>
#include <sqlite3.h>

#include "common/util.h"
#include "tests/lib/harness.h"

#define DIV "410822"       /* 博爱县 */
#define OTHER_DIV "410883" /* 孟州市 */
#define MAX_PHOTO "300000" /* every fixture but large-12mp.jpg fits */
#define TUS "Tus-Resumable: 1.0.0"
#define OCTETS "Content-Type: application/offset+octet-stream"
#define HDRS(...) ((const char *const[]){__VA_ARGS__, NULL})

static th_server srv; /* --real-ip-header X-Real-IP, --max-photo-bytes MAX_PHOTO */
static th_user surveyor, sup, sup_other;

/* A report filed with its token. */
typedef struct filed {
    char number[17];
    char token[80];
} filed;

/* Files a report in DIV on server on from ip listing hashes[0..n) (as JSON); 201 expected. */
static void file_report_on(th_server *on, const char *ip, char hashes[][65], int n, filed *out) {
    char body[1024], real_ip[64];
    int len = snprintf(body, sizeof body,
                       "{\"kind\":\"REPORT_KIND_ILLEGAL_DISCHARGE\",\"lat\":35.1712,"
                       "\"lon\":113.0801,\"divisionCode\":\"" DIV "\",\"description\":\"暗管排污"
                       "\",\"photos\":[");
    for (int i = 0; i < n; i++)
        len += snprintf(body + len, sizeof body - (size_t)len, "%s\"%s\"", i ? "," : "", hashes[i]);
    snprintf(body + len, sizeof body - (size_t)len, "]}");
    snprintf(real_ip, sizeof real_ip, "X-Real-IP: %s", ip);
    th_xfer x = {.method = "POST",
                 .path = "/public/reports",
                 .headers = HDRS("Content-Type: application/json", real_ip),
                 .body = body,
                 .len = strlen(body)};
    th_xresult r;
    long st = th_xfer_run(on, &x, &r);
    if (st != 201) print_message("report: %ld %s\n", st, (const char *)r.r.body);
    assert_int_equal(st, 201);
    json_t *j = json_loads((const char *)r.r.body, 0, NULL);
    assert_non_null(j);
    util_strlcpy(out->number, json_string_value(json_object_get(j, "number")), sizeof out->number);
    const char *token = json_string_value(json_object_get(j, "uploadToken"));
    out->token[0] = '\0';
    if (n > 0) {
        assert_non_null(token);
        assert_int_equal(strlen(token), 68);
        assert_memory_equal(token, "rpt-", 4);
        util_strlcpy(out->token, token, sizeof out->token);
        int64_t expires =
            strtoll(json_string_value(json_object_get(j, "uploadTokenExpiresAtMs")), NULL, 10);
        assert_true(expires > util_now_ms());
    } else {
        assert_null(token);
    }
    assert_null(json_object_get(j, "photos")); /* the answer is the public view */
    json_decref(j);
    th_response_free(&r.r);
}

/* Files a report on the group's server. */
static void file_report(const char *ip, char hashes[][65], int n, filed *out) {
    file_report_on(&srv, ip, hashes, n, out);
}

/* Everything a refusal must leave as it was. */
typedef struct world {
    th_sum db;
    int photos, uploads;
} world;

static world world_now(void) {
    world w = {th_db_checksum(srv.data, TH_ALL), th_count_files(&srv, "photos"),
               th_count_files(&srv, "uploads")};
    return w;
}

static void world_same(const world *before) {
    world after = world_now();
    assert_string_equal(before->db.hex, after.db.hex);
    assert_int_equal(before->photos, after.photos);
    assert_int_equal(before->uploads, after.uploads);
}

/* Sends method to /v1/photos/{hash}[suffix] with token; expects status and (unless a HEAD) code,
 * with nothing changed. */
static void refused(const char *method, const char *hash, const char *suffix, const char *token,
                    const char *const *headers, const th_file *body, long status,
                    const char *code) {
    world before = world_now();
    th_xfer x = {.method = method,
                 .path = th_photo_path(hash, suffix),
                 .token = token,
                 .headers = headers,
                 .body = body ? body->data : NULL,
                 .len = body ? body->len : 0};
    th_xresult r;
    long st = th_xfer_run(&srv, &x, &r);
    th_error e;
    if (strcmp(method, "HEAD") != 0) th_error_decode(&r.r, &e);
    if (st != status) print_message("%s %s: %ld %s\n", method, hash, st, (const char *)r.r.body);
    assert_int_equal(st, status);
    if (strcmp(method, "HEAD") != 0) {
        assert_string_equal(e.code, code);
        assert_true(e.message[0] != '\0');
    }
    th_response_free(&r.r);
    world_same(&before);
}

/* The report numbered number as supervisor token sees it in GET /v1/reports (NULL when not):
 * a new reference. */
static json_t *queued(const char *token, const char *number) {
    th_request rq = {.method = "GET", .path = "/v1/reports", .accept = TH_JSON, .token = token};
    th_response r;
    assert_int_equal(th_http(&srv, &rq, &r), 200);
    json_t *list = json_loads((const char *)r.body, 0, NULL), *found = NULL, *rep;
    th_response_free(&r);
    size_t i;
    json_array_foreach(json_object_get(list, "reports"), i, rep) {
        if (strcmp(json_string_value(json_object_get(rep, "number")), number) == 0)
            found = json_incref(rep);
    }
    json_decref(list);
    return found;
}

static void photos_upload_with_the_token_and_only_supervisors_see_them(void **state) {
    (void)state;
    th_file f[2];
    char h[2][65], got[65], path[64];
    assert_int_equal(th_photo_variant("qinhe-outfall-a-1.jpg", &f[0], h[0]), 0);
    assert_int_equal(th_photo_variant("qinhe-outfall-a-2.jpg", &f[1], h[1]), 0);
    filed rep;
    file_report("10.7.0.1", h, 2, &rep);
    /* one by PUT, one by tus in chunks, as any phone would */
    assert_int_equal(th_photo_put(&srv, rep.token, h[0], f[0].data, f[0].len, NULL), 201);
    assert_int_equal(th_tus_upload(&srv, rep.token, h[1], f[1].data, f[1].len, 65536, NULL), 204);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(th_db_count(&srv,
                                     "SELECT count(*) FROM photos WHERE hash = ? AND "
                                     "uploaded_by IS NULL",
                                     h[i]),
                         1);
        th_photo_digest(&srv, sup.token, h[i], got); /* the division's supervisor reads it */
        assert_string_equal(got, h[i]);
        th_photo_digest(&srv, sup_other.token, h[i], got); /* another division's does not */
        assert_string_equal(got, "");
        th_photo_digest(&srv, surveyor.token, h[i], got); /* nor a surveyor */
        assert_string_equal(got, "");
    }
    json_t *q = queued(sup.token, rep.number);
    assert_non_null(q);
    json_t *photos = json_object_get(q, "photos");
    assert_int_equal(json_array_size(photos), 2);
    assert_string_equal(json_string_value(json_array_get(photos, 0)), h[0]);
    assert_string_equal(json_string_value(json_array_get(photos, 1)), h[1]);
    assert_null(json_object_get(q, "uploadToken"));
    json_decref(q);
    assert_null(queued(sup_other.token, rep.number));
    /* the public view shows no photo, no digest, no token */
    snprintf(path, sizeof path, "/public/reports/%s", rep.number);
    th_request rq = {.method = "GET", .path = path, .accept = TH_JSON};
    th_response r;
    assert_int_equal(th_http(&srv, &rq, &r), 200);
    const char *text = (const char *)r.body;
    assert_null(strstr(text, "photos"));
    assert_null(strstr(text, h[0]));
    assert_null(strstr(text, h[1]));
    assert_null(strstr(text, "rpt-"));
    th_response_free(&r);
    /* stored already: a second PUT is answered at once */
    assert_int_equal(th_photo_put(&srv, rep.token, h[0], f[0].data, f[0].len, NULL), 200);
    th_file_free(&f[0]);
    th_file_free(&f[1]);
}

static void the_token_writes_only_its_reports_photos_and_reads_nothing(void **state) {
    (void)state;
    th_file mine, other, bad, big;
    char h[3][65], other_hash[65], length[48];
    assert_int_equal(th_photo_variant("no-gps.jpg", &mine, h[0]), 0);
    assert_int_equal(th_photo_variant("no-exif.jpg", &other, other_hash), 0);
    assert_int_equal(th_fixture("not-an-image.jpg", &bad), 0);
    th_hash_hex(bad.data, bad.len, h[1]);
    assert_int_equal(th_photo_variant("large-12mp.jpg", &big, h[2]), 0);
    filed rep;
    file_report("10.7.0.2", h, 3, &rep);
    const char *tok = rep.token;
    /* another digest: 403 on every way in */
    refused("PUT", other_hash, "", tok, NULL, &other, 403, "photo_not_in_report");
    snprintf(length, sizeof length, "Upload-Length: %zu", other.len);
    refused("POST", other_hash, "", tok, HDRS(TUS, length), NULL, 403, "photo_not_in_report");
    refused("PATCH", other_hash, "", tok, HDRS(TUS, "Upload-Offset: 0", OCTETS), &other, 403,
            "photo_not_in_report");
    refused("HEAD", other_hash, "", tok, HDRS(TUS), NULL, 403, NULL);
    /* its own digests get the same checks as anyone's */
    refused("PUT", h[0], "", tok, NULL, &other, 400, "digest_mismatch");
    refused("PUT", h[1], "", tok, NULL, &bad, 415, "unsupported_media_type");
    refused("PUT", h[2], "", tok, NULL, &big, 413, "photo_too_large");
    /* no token, a made-up one, a user's token on a report's photo are what they always were */
    refused("PUT", h[0], "", NULL, NULL, &mine, 401, "token_missing");
    char forged[80] = "rpt-";
    uint8_t raw[32];
    randombytes_buf(raw, sizeof raw);
    sodium_bin2hex(forged + 4, 65, raw, sizeof raw);
    refused("PUT", h[0], "", forged, NULL, &mine, 401, "token_invalid");
    /* stored with the token, it still cannot read it, nor call anything else */
    assert_int_equal(th_photo_put(&srv, tok, h[0], mine.data, mine.len, NULL), 201);
    refused("GET", h[0], "", tok, NULL, NULL, 403, "forbidden_role");
    refused("GET", h[0], "/info", tok, NULL, NULL, 403, "forbidden_role");
    refused("HEAD", h[0], "", tok, NULL, NULL, 403, NULL);
    world before = world_now();
    th_request rq = {.method = "GET", .path = "/v1/reports", .accept = TH_JSON, .token = tok};
    th_response r;
    th_error e;
    assert_int_equal(th_http(&srv, &rq, &r), 403);
    th_error_decode(&r, &e);
    assert_string_equal(e.code, "forbidden_role");
    th_response_free(&r);
    rq.path = "/v1/outfalls";
    assert_int_equal(th_http(&srv, &rq, &r), 403);
    th_response_free(&r);
    world_same(&before);
    th_file_free(&mine);
    th_file_free(&other);
    th_file_free(&bad);
    th_file_free(&big);
}

static void an_expired_token_uploads_nothing(void **state) {
    (void)state;
    th_file f;
    char h[1][65], db[400];
    assert_int_equal(th_photo_variant("far-from-claimed-site.jpg", &f, h[0]), 0);
    filed rep;
    file_report("10.7.0.3", h, 1, &rep);
    /* its hour is over: the row's expiry moved into the past, as the clock would */
    sqlite3 *conn = NULL;
    snprintf(db, sizeof db, "%s/outfall.db", srv.data);
    assert_int_equal(sqlite3_open(db, &conn), SQLITE_OK);
    sqlite3_busy_timeout(conn, 5000);
    assert_int_equal(sqlite3_exec(conn,
                                  "UPDATE public_report_tokens SET expires_at_ms = 1 WHERE "
                                  "number = (SELECT number FROM public_reports ORDER BY "
                                  "received_at_ms DESC LIMIT 1)",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_changes(conn), 1);
    sqlite3_close(conn);
    refused("PUT", h[0], "", rep.token, NULL, &f, 401, "token_expired");
    char length[48];
    snprintf(length, sizeof length, "Upload-Length: %zu", f.len);
    refused("POST", h[0], "", rep.token, HDRS(TUS, length), NULL, 401, "token_expired");
    th_file_free(&f);
}

static void the_photo_list_is_checked_and_a_bad_one_files_nothing(void **state) {
    (void)state;
    const char *bodies[] = {
        "\"photos\":[\"1\",\"2\",\"3\",\"4\",\"5\",\"6\"]",
        "\"photos\":[\"ABCDEF\"]",
        "\"photos\":[\"" /* upper case is not the address form */
        "0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF\"]",
        "\"photos\":[\"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\","
        "\"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\"]",
    };
    const char *codes[] = {"too_many_photos", "invalid_photo", "invalid_photo", "invalid_photo"};
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        char body[1024];
        snprintf(body, sizeof body,
                 "{\"kind\":\"REPORT_KIND_ILLEGAL_DISCHARGE\",\"lat\":35.1712,\"lon\":113.0801,"
                 "\"divisionCode\":\"" DIV "\",\"description\":\"排污\",%s}",
                 bodies[i]);
        world before = world_now();
        th_xfer x = {.method = "POST",
                     .path = "/public/reports",
                     .headers = HDRS("Content-Type: application/json", "X-Real-IP: 10.7.0.4"),
                     .body = body,
                     .len = strlen(body)};
        th_xresult r;
        th_error e;
        assert_int_equal(th_xfer_run(&srv, &x, &r), 400);
        th_error_decode(&r.r, &e);
        assert_string_equal(e.code, codes[i]);
        th_response_free(&r.r);
        world_same(&before);
    }
}

/* Reports with photos count against the address's hourly limit like any: the sixth is refused and
 * issues no token. */
static void the_rate_limit_bounds_the_uploads_too(void **state) {
    (void)state;
    char h[1][65];
    th_file f;
    assert_int_equal(th_photo_variant("qinhe-outfall-a-1.jpg", &f, h[0]), 0);
    th_file_free(&f);
    filed rep;
    for (int i = 0; i < 5; i++)
        file_report("10.7.0.5", h, 1, &rep);
    int tokens =
        th_db_count(&srv, "SELECT count(*) FROM public_report_tokens WHERE number <> ?", "");
    char body[512];
    snprintf(body, sizeof body,
             "{\"kind\":\"REPORT_KIND_ILLEGAL_DISCHARGE\",\"lat\":35.1712,\"lon\":113.0801,"
             "\"divisionCode\":\"" DIV "\",\"description\":\"排污\",\"photos\":[\"%s\"]}",
             h[0]);
    world before = world_now();
    th_xfer x = {.method = "POST",
                 .path = "/public/reports",
                 .headers = HDRS("Content-Type: application/json", "X-Real-IP: 10.7.0.5"),
                 .body = body,
                 .len = strlen(body)};
    th_xresult r;
    th_error e;
    assert_int_equal(th_xfer_run(&srv, &x, &r), 429);
    th_error_decode(&r.r, &e);
    assert_string_equal(e.code, "rate_limited");
    th_response_free(&r.r);
    world_same(&before);
    assert_int_equal(
        th_db_count(&srv, "SELECT count(*) FROM public_report_tokens WHERE number <> ?", ""),
        tokens);
}

/* ---- unfinished uploads: expiry and the address's quota ---- */

#define MIB (1024LL * 1024)

/* A made-up photo address. */
static void random_hash(char out[65]) {
    uint8_t raw[32];
    randombytes_buf(raw, sizeof raw);
    sodium_bin2hex(out, 65, raw, sizeof raw);
}

/* tus creation of hash with Upload-Length length on server on, as token from ip (NULL: the
 * peer's address). The Error's code goes into code[64] ("" on success). Returns the status. */
static long tus_create(th_server *on, const char *token, const char *ip, const char *hash,
                       long long length, char code[64]) {
    char len_h[64], ip_h[64];
    snprintf(len_h, sizeof len_h, "Upload-Length: %lld", length);
    snprintf(ip_h, sizeof ip_h, "X-Real-IP: %s", ip ? ip : "127.0.0.1");
    th_xfer x = {.method = "POST",
                 .path = th_photo_path(hash, ""),
                 .token = token,
                 .headers = HDRS(TUS, len_h, ip_h)};
    th_xresult r;
    long st = th_xfer_run(on, &x, &r);
    th_error e = {.code = ""};
    if (st != 201) th_error_decode(&r.r, &e);
    if (st != 201 && !e.message[0]) print_message("creation refused without a message\n");
    util_strlcpy(code, e.code, 64);
    th_response_free(&r.r);
    return st;
}

/* tus creation with the expected answer: 201, or status with code, nothing stored or changed
 * then (but the audit row of the refusal). */
static void create_expect(th_server *on, const char *token, const char *ip, const char *hash,
                          long long length, long status, const char *code) {
    th_sum db = th_db_checksum(on->data, TH_ALL);
    int uploads = th_count_files(on, "uploads");
    char got[64];
    long st = tus_create(on, token, ip, hash, length, got);
    if (st != status)
        print_message("creation of %lld bytes from %s: %ld %s\n", length, ip, st, got);
    assert_int_equal(st, status);
    if (status == 201) return;
    assert_string_equal(got, code);
    assert_string_equal(th_db_checksum(on->data, TH_ALL).hex, db.hex);
    assert_int_equal(th_count_files(on, "uploads"), uploads);
}

/* PATCHes data[len] at offset 0 of hash's upload on server on as token; 204 expected. */
static void tus_patch(th_server *on, const char *token, const char *hash, const void *data,
                      size_t len) {
    th_xfer x = {.method = "PATCH",
                 .path = th_photo_path(hash, ""),
                 .token = token,
                 .headers = HDRS(TUS, "Upload-Offset: 0", OCTETS),
                 .body = data,
                 .len = len};
    th_xresult r;
    assert_int_equal(th_xfer_run(on, &x, &r), 204);
    th_response_free(&r.r);
}

static int upload_rows(th_server *on, const char *hash) {
    return th_db_count(on, "SELECT count(*) FROM uploads WHERE hash = ?", hash);
}

/* Waits up to 20 s for hash's upload row to go (the server expires uploads every second).
 * Returns 1 when it went. */
static int upload_gone(th_server *on, const char *hash) {
    for (int i = 0; i < 100 && upload_rows(on, hash) != 0; i++)
        usleep(200 * 1000);
    return upload_rows(on, hash) == 0;
}

/* Moves the upload token of report number into the past, as the clock would. */
static void expire_token(th_server *on, const char *number) {
    char db[400];
    sqlite3 *conn = NULL;
    sqlite3_stmt *st = NULL;
    snprintf(db, sizeof db, "%s/outfall.db", on->data);
    assert_int_equal(sqlite3_open(db, &conn), SQLITE_OK);
    sqlite3_busy_timeout(conn, 5000);
    assert_int_equal(sqlite3_prepare_v2(conn,
                                        "UPDATE public_report_tokens SET expires_at_ms = 1 WHERE "
                                        "number = ?",
                                        -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_text(st, 1, number, -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
    assert_int_equal(sqlite3_changes(conn), 1);
    sqlite3_close(conn);
}

/* A reporter's partial upload goes as soon as its token expires, not after --upload-expiry's
 * week; a surveyor's partial upload beside it stays. */
static void a_reporters_partial_upload_goes_when_its_token_expires(void **state) {
    (void)state;
    th_file mine, staff;
    char h[1][65], staff_hash[65], code[64];
    assert_int_equal(th_photo_variant("qinhe-outfall-a-2.jpg", &mine, h[0]), 0);
    assert_int_equal(th_photo_variant("no-gps.jpg", &staff, staff_hash), 0);
    filed rep;
    file_report("10.7.0.6", h, 1, &rep);
    assert_int_equal(tus_create(&srv, rep.token, "10.7.0.6", h[0], (long long)mine.len, code), 201);
    tus_patch(&srv, rep.token, h[0], mine.data, mine.len / 2);
    assert_int_equal(tus_create(&srv, surveyor.token, NULL, staff_hash, (long long)staff.len, code),
                     201);
    tus_patch(&srv, surveyor.token, staff_hash, staff.data, staff.len / 2);
    assert_int_equal(th_uploads_of(&srv, h[0]), 1);
    expire_token(&srv, rep.number);
    assert_true(upload_gone(&srv, h[0]));
    assert_int_equal(th_uploads_of(&srv, h[0]), 0); /* its part file went with it */
    assert_int_equal(upload_rows(&srv, staff_hash), 1);
    assert_int_equal(th_uploads_of(&srv, staff_hash), 1);
    th_file_free(&mine);
    th_file_free(&staff);
}

/* tus for a reporter: the creation tells when the partial upload expires (within the hour of
 * --report-upload-expiry and never after the token), the reporter ends it with a tus DELETE
 * (termination) and deletes nothing of another photo (403 photo_not_in_report). */
static void a_reporter_sees_its_uploads_expiry_and_terminates_it(void **state) {
    (void)state;
    th_file mine;
    char h[1][65], other[65], expires[64] = "", len_h[64];
    assert_int_equal(th_photo_variant("qinhe-outfall-a-2.jpg", &mine, h[0]), 0);
    filed rep;
    file_report("10.7.0.9", h, 1, &rep);
    snprintf(len_h, sizeof len_h, "Upload-Length: %zu", mine.len);
    th_xfer x = {.method = "POST",
                 .path = th_photo_path(h[0], ""),
                 .token = rep.token,
                 .headers = HDRS(TUS, len_h, "X-Real-IP: 10.7.0.9")};
    th_xresult r;
    assert_int_equal(th_xfer_run(&srv, &x, &r), 201);
    assert_int_equal(th_xheader(&r, "Upload-Expires", expires, sizeof expires), 1);
    th_response_free(&r.r);
    struct tm tm = {0};
    const char *end = strptime(expires, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    assert_true(end && *end == '\0');
    long left = (long)(timegm(&tm) - time(NULL));
    print_message("Upload-Expires: %s (%ld s from now)\n", expires, left);
    assert_in_range(left, 3600 - 60, 3600);
    tus_patch(&srv, rep.token, h[0], mine.data, mine.len / 2);
    random_hash(other);
    th_xfer del = {.method = "DELETE",
                   .path = th_photo_path(other, ""),
                   .token = rep.token,
                   .headers = HDRS(TUS)};
    assert_int_equal(th_xfer_run(&srv, &del, &r), 403);
    th_error e = {.code = ""};
    th_error_decode(&r.r, &e);
    assert_string_equal(e.code, "photo_not_in_report");
    th_response_free(&r.r);
    del.path = th_photo_path(h[0], "");
    assert_int_equal(th_xfer_run(&srv, &del, &r), 204);
    th_response_free(&r.r);
    assert_int_equal(upload_rows(&srv, h[0]), 0);
    assert_int_equal(th_uploads_of(&srv, h[0]), 0);
    th_file_free(&mine);
}

/* With --report-upload-expiry 3, a reporter's partial upload left untouched goes within seconds
 * (a tus HEAD then finds none), while a surveyor's keeps --upload-expiry. */
static void a_reporters_partial_upload_expires_untouched_and_a_staff_one_stays(void **state) {
    (void)state;
    th_server short_srv;
    th_user sv;
    const char *args[] = {"--real-ip-header", "X-Real-IP", "--report-upload-expiry", "3", NULL};
    const char *div[] = {DIV, NULL};
    assert_int_equal(th_server_start(&short_srv, args), 0);
    assert_int_equal(th_user_new(&short_srv, "rp-short", TH_ROLE(SURVEYOR), div, &sv), 0);
    th_file mine, staff;
    char h[1][65], staff_hash[65], code[64];
    assert_int_equal(th_photo_variant("qinhe-outfall-a-1.jpg", &mine, h[0]), 0);
    assert_int_equal(th_photo_variant("no-exif.jpg", &staff, staff_hash), 0);
    filed rep;
    file_report_on(&short_srv, "10.8.0.1", h, 1, &rep);
    assert_int_equal(tus_create(&short_srv, rep.token, "10.8.0.1", h[0], (long long)mine.len, code),
                     201);
    tus_patch(&short_srv, rep.token, h[0], mine.data, mine.len / 2);
    assert_int_equal(tus_create(&short_srv, sv.token, NULL, staff_hash, (long long)staff.len, code),
                     201);
    tus_patch(&short_srv, sv.token, staff_hash, staff.data, staff.len / 2);
    assert_true(upload_gone(&short_srv, h[0]));
    assert_int_equal(th_uploads_of(&short_srv, h[0]), 0);
    th_xfer x = {.method = "HEAD",
                 .path = th_photo_path(h[0], ""),
                 .token = rep.token,
                 .headers = HDRS(TUS)};
    th_xresult r;
    assert_int_equal(th_xfer_run(&short_srv, &x, &r), 404);
    th_response_free(&r.r);
    assert_int_equal(upload_rows(&short_srv, staff_hash), 1);
    assert_int_equal(th_uploads_of(&short_srv, staff_hash), 1);
    th_file_free(&mine);
    th_file_free(&staff);
    assert_int_equal(th_server_stop(&short_srv), 0);
}

/* With the default limits (64 MiB of unfinished public uploads per address, for at most 3
 * reports; photos up to 25 MiB): a fourth report's upload is 429 upload_reports_exceeded, bytes
 * past 64 MiB are 429 upload_quota_exceeded, each refusal storing nothing; another address and
 * the staff are not held back; an expired token's uploads go and free the address's quota. */
static void an_address_holds_at_most_its_quota_of_unfinished_report_uploads(void **state) {
    (void)state;
    th_server q;
    th_user sv;
    const char *args[] = {"--real-ip-header", "X-Real-IP", NULL};
    const char *div[] = {DIV, NULL};
    assert_int_equal(th_server_start(&q, args), 0);
    assert_int_equal(th_user_new(&q, "rp-quota", TH_ROLE(SURVEYOR), div, &sv), 0);
    const char *a = "10.9.0.1", *b = "10.9.0.2";
    char h[5][65], g[4][65], k[2][65];
    for (int i = 0; i < 5; i++)
        random_hash(h[i]);
    for (int i = 0; i < 4; i++)
        random_hash(g[i]);
    for (int i = 0; i < 2; i++)
        random_hash(k[i]);
    filed r1, r2, r3, r4, r5;
    file_report_on(&q, a, h, 5, &r1);
    file_report_on(&q, a, &g[0], 1, &r2);
    file_report_on(&q, a, &g[1], 1, &r3);
    file_report_on(&q, a, &g[2], 2, &r4); /* g[2] and g[3] */
    file_report_on(&q, b, k, 1, &r5);
    /* three reports' uploads from a; the fourth report's is refused */
    create_expect(&q, r2.token, a, g[0], 1000, 201, NULL);
    create_expect(&q, r3.token, a, g[1], 1000, 201, NULL);
    create_expect(&q, r1.token, a, h[0], 25 * MIB, 201, NULL);
    create_expect(&q, r4.token, a, g[2], 1000, 429, "upload_reports_exceeded");
    /* bytes: up to 64 MiB in all, to the byte */
    create_expect(&q, r1.token, a, h[1], 25 * MIB, 201, NULL);
    create_expect(&q, r1.token, a, h[2], 14 * MIB, 429, "upload_quota_exceeded");
    create_expect(&q, r1.token, a, h[2], 14 * MIB - 2000, 201, NULL);
    create_expect(&q, r1.token, a, h[3], 1, 429, "upload_quota_exceeded");
    create_expect(&q, r1.token, a, h[0], 25 * MIB, 201, NULL); /* again: its own bytes count once */
    /* the quota is the address's: b and the staff (from a's address, too) go on */
    create_expect(&q, r5.token, b, k[0], 25 * MIB, 201, NULL);
    create_expect(&q, sv.token, a, k[1], 25 * MIB, 201, NULL);
    assert_int_equal(th_db_count(&q, "SELECT count(*) FROM uploads WHERE client_addr = ?", a), 5);
    /* r1's token expires: its uploads go, and a may start r4's */
    expire_token(&q, r1.number);
    assert_true(upload_gone(&q, h[0]));
    assert_true(upload_gone(&q, h[1]));
    assert_true(upload_gone(&q, h[2]));
    create_expect(&q, r4.token, a, g[2], 25 * MIB, 201, NULL);
    create_expect(&q, r4.token, a, g[3], 25 * MIB, 201, NULL);
    assert_int_equal(upload_rows(&q, k[1]), 1); /* the staff's is not touched */
    assert_int_equal(th_server_stop(&q), 0);
}

static int group_setup(void **state) {
    (void)state;
    const char *div[] = {DIV, NULL}, *other[] = {OTHER_DIV, NULL};
    const char *args[] = {"--real-ip-header", "X-Real-IP", "--max-photo-bytes", MAX_PHOTO, NULL};
    if (th_server_start(&srv, args) != 0) return -1;
    if (th_user_new(&srv, "rp-surveyor", TH_ROLE(SURVEYOR), div, &surveyor) != 0 ||
        th_user_new(&srv, "rp-supervisor", TH_ROLE(SUPERVISOR), div, &sup) != 0 ||
        th_user_new(&srv, "rp-supervisor-other", TH_ROLE(SUPERVISOR), other, &sup_other) != 0)
        return -1;
    return 0;
}

static int group_teardown(void **state) {
    (void)state;
    return th_server_stop(&srv);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(photos_upload_with_the_token_and_only_supervisors_see_them),
        cmocka_unit_test(the_token_writes_only_its_reports_photos_and_reads_nothing),
        cmocka_unit_test(an_expired_token_uploads_nothing),
        cmocka_unit_test(the_photo_list_is_checked_and_a_bad_one_files_nothing),
        cmocka_unit_test(the_rate_limit_bounds_the_uploads_too),
        cmocka_unit_test(a_reporters_partial_upload_goes_when_its_token_expires),
        cmocka_unit_test(a_reporter_sees_its_uploads_expiry_and_terminates_it),
        cmocka_unit_test(a_reporters_partial_upload_expires_untouched_and_a_staff_one_stays),
        cmocka_unit_test(an_address_holds_at_most_its_quota_of_unfinished_report_uploads),
    };
    return cmocka_run_group_tests_name("api/report_photos", tests, group_setup, group_teardown);
}
