/* Issue 5, "Bad inputs and roles": a catalogue of bad inputs across every endpoint of the route
 * table (server/routes.c): sync batches, auth, users, devices, the feed and the reads, the review,
 * the programme (transitions, progress, zones, exports, reports), photos (POST /missing, tus
 * OPTIONS/POST/HEAD/PATCH, PUT, GET with Range, /info) and the console's static files. Each bad
 * input gets its expected status and stable error code (or, for a sync change, its REJECTED
 * reason) and leaves the database and the photo store as they were: before and after every row
 * the test checksums the database (every table but audit and tokens; for a REJECTED change also
 * without batches, changes and devices.last_seq) and the files under the data folder's photos/
 * and uploads/ (path and bytes of each, in sorted order). One table, one test per row.
 *
 * A row with a `bug` note names a defect found by this catalogue and not fixed yet: its
 * expectation is the right answer; while the server gives another, the row prints what came and
 * is skipped (its checksums must still hold), and it passes once the server is fixed. */
#include <math.h>
#include <setjmp.h>
#include <sodium.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/pbjson.h"
#include "common/util.h"
#include "tests/lib/harness.h"
#include "tests/api/bad_input_world.h"
#include "tests/api/bad_input_catalogue.h"

#define N_ROWS (sizeof catalogue / sizeof *catalogue)

static void attempt_free(attempt *a) {
    free(a->signature);
    free(a->body);
    th_batch_free(a->batch);
}

/* Fills a from a plain row: method, expanded path, caller, body, headers. */
static void plain(attempt *a, const bad_input *row) {
    a->method = row->method;
    expand(row->path, a->path, sizeof a->path);
    a->token = token_of(row->as);
    a->accept = TH_JSON;
    a->content_type = row->ctype;
    if (row->body) {
        char *text = malloc(32768);
        assert_non_null(text);
        expand(row->body, text, 32768);
        set_body(a, text, strlen(text));
        free(text);
        if (!a->content_type) a->content_type = TH_JSON;
    }
    for (int i = 0; i < 3 && row->headers[i]; i++) {
        expand(row->headers[i], a->header_text[i], sizeof a->header_text[i]);
        a->headers[i] = a->header_text[i];
    }
}

static long log_size(const th_server *s) {
    char path[320];
    struct stat st;
    snprintf(path, sizeof path, "%s/server.log", s->root);
    return stat(path, &st) == 0 ? (long)st.st_size : 0;
}

/* The error code the access log gives the request method path after offset from (the line is
 * written just after the answer, so it may take a moment), into code[64]; "" when none came. */
static void logged_code(const th_server *s, long from, const char *method, const char *path,
                        char code[64]) {
    char file[320], line[2048];
    size_t plen = strcspn(path, "?");
    snprintf(file, sizeof file, "%s/server.log", s->root);
    code[0] = '\0';
    for (int tries = 0; tries < 200 && !code[0]; tries++) {
        FILE *f = fopen(file, "r");
        if (f && fseek(f, from, SEEK_SET) == 0) {
            while (fgets(line, sizeof line, f)) {
                char m[16], p[1024], c[64];
                int status;
                if (sscanf(line, "%*s %15s %1023s %d %*s %63s", m, p, &status, c) == 4 &&
                    strcmp(m, method) == 0 && strlen(p) == plen && strncmp(p, path, plen) == 0)
                    util_strlcpy(code, c, 64);
            }
        }
        if (f) fclose(f);
        if (!code[0]) {
            struct timespec ts = {0, 10 * 1000000L};
            nanosleep(&ts, NULL);
        }
    }
}

/* Sends a; a HEAD answer has no body, so its code comes from the server's access log. */
static long send_attempt(attempt *a, th_response *resp, th_error *e) {
    char sig[256];
    const char *headers[8] = {NULL};
    int nh = 0;
    if (a->signature) {
        snprintf(sig, sizeof sig, "X-Device-Signature: %s", a->signature);
        headers[nh++] = sig;
    }
    for (int i = 0; i < 6; i++)
        if (a->headers[i]) headers[nh++] = a->headers[i];
    memset(e, 0, sizeof *e);
    if (strcmp(a->method, "HEAD") == 0) {
        long from = log_size(a->srv);
        th_xfer x = {.method = "HEAD", .path = a->path, .token = a->token, .headers = headers};
        th_xresult out;
        long st = th_xfer_run(a->srv, &x, &out);
        *resp = out.r;
        if (st < 200 || st > 299) {
            logged_code(a->srv, from, "HEAD", a->path, e->code);
            util_strlcpy(e->message, "(HEAD: from the access log)", sizeof e->message);
        }
        return st;
    }
    th_request rq = {.method = a->method,
                     .path = a->path,
                     .content_type = a->content_type,
                     .accept = a->accept,
                     .token = a->token,
                     .headers = headers,
                     .body = a->body,
                     .len = a->len};
    long st = th_http(a->srv, &rq, resp);
    if (st < 200 || st > 299) th_error_decode(resp, e);
    return st;
}

/* The REJECTED reason of a sync answer's one result, "" when it is not one. */
static void rejected_reason(const th_response *resp, char reason[64]) {
    Outfall__V1__SyncResponse *sr = NULL;
    reason[0] = '\0';
    if (th_is_json(resp->content_type)) {
        char err[128];
        pbjson_decode(&outfall__v1__sync_response__descriptor, (const char *)resp->body, resp->len,
                      (ProtobufCMessage **)&sr, err, sizeof err);
    } else {
        sr = outfall__v1__sync_response__unpack(NULL, resp->len, resp->body);
    }
    if (!sr) return;
    if (sr->n_results == 1) {
        const Outfall__V1__ChangeResult *r = sr->results[0];
        print_message("    %s %s (%s)\n", th_status_name(r->status), TH_S(r->reason),
                      TH_S(r->message));
        if (strcmp(th_status_name(r->status), "REJECTED") == 0)
            util_strlcpy(reason, TH_S(r->reason), 64);
    }
    outfall__v1__sync_response__free_unpacked(sr, NULL);
}

static void run_row(void **state) {
    const bad_input *row = *state;
    attempt a = {.srv = &srv, .token = surveyor.token, .method = "POST", .path = "/v1/sync"};
    if (row->method) plain(&a, row);
    if (row->make) row->make(&a);
    int level = row->status == 200 ? TH_STATE : TH_ALL;
    th_sum db_before = th_db_checksum(a.srv->data, level);
    th_sum files_before = th_store_checksum(a.srv->data, 1);

    th_response resp;
    th_error e;
    long st = send_attempt(&a, &resp, &e);
    th_sum db_after = th_db_checksum(a.srv->data, level);
    th_sum files_after = th_store_checksum(a.srv->data, 1);

    char got[64];
    if (st == 200 && row->status == 200)
        rejected_reason(&resp, got);
    else
        util_strlcpy(got, e.code, sizeof got);
    int as_expected = st == row->status && strcmp(got, row->code) == 0;
    if (!as_expected)
        print_message("%s: %s %s: expected %ld %s, got %ld %s: %.*s\n", row->name, a.method, a.path,
                      row->status, row->code, st, got, (int)(resp.len < 300 ? resp.len : 300),
                      (const char *)resp.body);
    if (strcmp(db_before.hex, db_after.hex) != 0)
        print_message("%s: the database changed\n", row->name);
    if (strcmp(files_before.hex, files_after.hex) != 0)
        print_message("%s: the photo store changed\n", row->name);
    int same = strcmp(db_before.hex, db_after.hex) == 0 &&
               strcmp(files_before.hex, files_after.hex) == 0 && db_before.hex[0] != '!' &&
               files_before.hex[0] != '!';
    if (!as_expected && row->bug && same) {
        print_message("KNOWN BUG %s: %s\n", row->name, row->bug);
        th_response_free(&resp);
        attempt_free(&a);
        skip();
    }

    assert_int_equal(st, row->status);
    assert_string_equal(got, row->code);
    if (row->status != 200) {
        assert_true(e.message[0] != '\0');
        if (resp.len > 0 && a.accept && strcmp(row->code, "not_acceptable") != 0)
            assert_int_equal(th_is_json(resp.content_type), th_is_json(a.accept));
    } else if (a.batch && th_batch_req(a.batch)->device_seq == dev.next_seq) {
        dev.next_seq++;
    }
    assert_string_equal(db_before.hex, db_after.hex);
    assert_string_equal(files_before.hex, files_after.hex);
    assert_true(same);
    th_response_free(&resp);
    attempt_free(&a);
}

/* Approves a fresh outfall of DIV as supervisor: approved, approved_v, approve_did. */
static int setup_approved(void) {
    th_batch *b = good_batch(&dev, NULL);
    Outfall__V1__SyncResponse *resp = th_sync_ok(&srv, surveyor.token, b, TH_PB);
    int ok = resp && resp->n_results == 1 && resp->results[0]->status == TH_STATUS(APPLIED);
    util_strlcpy(approved, th_batch_entity(b, 0), sizeof approved);
    if (resp) outfall__v1__sync_response__free_unpacked(resp, NULL);
    th_batch_free(b);
    if (!ok) return -1;
    th_uuid(approve_did);
    Outfall__V1__Decision d = OUTFALL__V1__DECISION__INIT;
    d.decision_id = approve_did;
    d.has_kind = d.has_base_version = 1;
    d.kind = OUTFALL__V1__DECISION_KIND__DECISION_KIND_APPROVE;
    d.outfall_id = approved;
    d.base_version = 1;
    ProtobufCMessage *out = NULL;
    th_error e;
    long st = th_call(&srv, "POST", "/v1/review/decisions", supervisor.token, TH_PB, &d.base,
                      &outfall__v1__decision_result__descriptor, &out, &e);
    if (st != 200 || !out) {
        fprintf(stderr, "approve: %ld %s %s\n", st, e.code, e.message);
        return -1;
    }
    approved_v = ((Outfall__V1__DecisionResult *)out)->outfall->version;
    protobuf_c_message_free_unpacked(out, NULL);
    return approved_v > 1 ? 0 : -1;
}

/* Stores a photo of surveyor's (stored) and begins a tus upload of another (part). */
static int setup_photos(void) {
    th_file f;
    th_error e;
    if (th_photo_variant("qinhe-outfall-a-1.jpg", &f, stored) < 0) return -1;
    long st = th_photo_put(&srv, surveyor.token, stored, f.data, f.len, &e);
    th_file_free(&f);
    if (st != 201) {
        fprintf(stderr, "put: %ld %s %s\n", st, e.code, e.message);
        return -1;
    }
    if (th_photo_variant("qinhe-outfall-a-2.jpg", &f, part) < 0) return -1;
    part_len = (int64_t)f.len;
    char path[128], length[64];
    snprintf(path, sizeof path, "/v1/photos/%s", part);
    snprintf(length, sizeof length, "Upload-Length: %zu", f.len);
    const char *create[] = {TUS, length, NULL};
    const char *patch[] = {TUS, "Upload-Offset: 0", "Content-Type: " OCTETS, NULL};
    th_xfer c = {.method = "POST", .path = path, .token = surveyor.token, .headers = create};
    th_xfer p = {.method = "PATCH",
                 .path = path,
                 .token = surveyor.token,
                 .headers = patch,
                 .body = f.data,
                 .len = PART_SENT};
    th_xresult out;
    long created = th_xfer_run(&srv, &c, &out);
    th_response_free(&out.r);
    long patched = created == 201 ? th_xfer_run(&srv, &p, &out) : 0;
    if (created == 201) th_response_free(&out.r);
    th_file_free(&f);
    if (created != 201 || patched != 204) {
        fprintf(stderr, "tus: create %ld, patch %ld\n", created, patched);
        return -1;
    }
    return th_uploads_of(&srv, part) == 1 ? 0 : -1;
}

/* The console folder srv serves: two real files, a link to a file outside it, a folder. */
static int setup_web(void) {
    static const char *const names[] = {"index.html", "app.js", "leak.js", "folder.js"};
    char path[4][128];
    util_strlcpy(web_dir, "/tmp/outfall-web-XXXXXX", sizeof web_dir);
    if (!mkdtemp(web_dir)) return -1;
    for (int i = 0; i < 4; i++)
        snprintf(path[i], sizeof path[i], "%s/%s", web_dir, names[i]);
    return th_write_file(path[0], "<!doctype html>\n", 16) == 0 &&
                   th_write_file(path[1], "export {};\n", 11) == 0 &&
                   symlink("/etc/hostname", path[2]) == 0 && mkdir(path[3], 0700) == 0
               ? 0
               : -1;
}

static void teardown_web(void) {
    static const char *const names[] = {"index.html", "app.js", "leak.js"};
    char path[128];
    if (!web_dir[0]) return;
    for (int i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s/%s", web_dir, names[i]);
        unlink(path);
    }
    snprintf(path, sizeof path, "%s/folder.js", web_dir);
    rmdir(path);
    rmdir(web_dir);
}

static int group_setup(void **state) {
    (void)state;
    const char *divs[] = {DIV, NULL}, *other_divs[] = {OTHER_DIV, NULL};
    const char *args[] = {
        "--max-body", MAX_BODY,       "--max-photo-bytes",           MAX_PHOTO, "--web",
        web_dir,      "--public-url", "https://outfalls.example.cn", NULL};
    const char *ttl_args[] = {"--token-ttl", SHORT_TTL, NULL};
    if (setup_web() != 0) {
        fprintf(stderr, "cannot make the console folder %s\n", web_dir);
        return -1;
    }
    if (th_server_start(&srv, args) != 0 || th_server_start(&ttl_srv, ttl_args) != 0) return -1;
    if (th_user_new(&srv, "bad", TH_ROLE(SURVEYOR), divs, &surveyor) != 0 ||
        th_user_new(&srv, "other", TH_ROLE(SURVEYOR), divs, &other) != 0 ||
        th_user_new(&srv, "revoked", TH_ROLE(SURVEYOR), divs, &revoked_owner) != 0 ||
        th_user_new(&srv, "integrator", TH_ROLE(INTEGRATOR), NULL, &integrator) != 0 ||
        th_user_new(&srv, "gone", TH_ROLE(SURVEYOR), divs, &logged_out) != 0 ||
        th_user_new(&srv, "sup", TH_ROLE(SUPERVISOR), divs, &supervisor) != 0 ||
        th_user_new(&srv, "othersup", TH_ROLE(SUPERVISOR), other_divs, &other_supervisor) != 0 ||
        th_user_new(&srv, "far", TH_ROLE(SURVEYOR), other_divs, &far_surveyor) != 0)
        return -1;
    if (th_device_new(&srv, surveyor.token, &dev) != 0 ||
        th_device_new(&srv, other.token, &other_dev) != 0 ||
        th_device_new(&srv, revoked_owner.token, &revoked_dev) != 0)
        return -1;
    if (th_device_revoke(&srv, th_admin_token(&srv), revoked_dev.id, NULL) != 204) return -1;
    if (th_logout(&srv, logged_out.token, NULL) != 204) return -1;

    setup_batch = good_batch(&dev, NULL);
    Outfall__V1__SyncResponse *resp = th_sync_ok(&srv, surveyor.token, setup_batch, TH_PB);
    if (!resp || resp->n_results != 1 ||
        resp->results[0]->status != OUTFALL__V1__CHANGE_STATUS__CHANGE_STATUS_APPLIED)
        return -1;
    util_strlcpy(existing, th_batch_entity(setup_batch, 0), sizeof existing);
    outfall__v1__sync_response__free_unpacked(resp, NULL);
    if (setup_approved() != 0 || setup_photos() != 0) return -1;

    if (th_user_new(&ttl_srv, "ttl", TH_ROLE(SURVEYOR), divs, &ttl_user) != 0) return -1;
    ttl_login_ms = util_now_ms(); /* the token was issued before this */
    return th_device_new(&ttl_srv, ttl_user.token, &ttl_dev);
}

static int group_teardown(void **state) {
    (void)state;
    th_batch_free(setup_batch);
    int a = th_server_stop(&srv), b = th_server_stop(&ttl_srv);
    teardown_web();
    return a || b ? -1 : 0;
}

int main(void) {
    struct CMUnitTest tests[N_ROWS];
    for (size_t i = 0; i < N_ROWS; i++) {
        struct CMUnitTest t = cmocka_unit_test_prestate(run_row, (void *)&catalogue[i]);
        t.name = catalogue[i].name;
        tests[i] = t;
    }
    return cmocka_run_group_tests_name("bad input", tests, group_setup, group_teardown);
}
