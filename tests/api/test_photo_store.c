/* Photos in an S3-compatible bucket (--photo-store s3://..., sync/photo_store.h) when the bucket
 * fails: wrong credentials or a missing bucket stop the server at start with one line; a bucket
 * that is down or frozen makes an upload's finish answer 503 photo_store_unavailable with
 * Retry-After, records nothing and keeps a tus upload's bytes, so the retry after the bucket is
 * back only sends them on; a sync naming photos keeps working and lists them missing; a read of a
 * stored photo answers 503, not 404 or 500. And outfallctl photos migrate / verify move a data
 * folder's photos into a bucket and check them there. (The photo tests themselves also run on a
 * bucket: tests/run.sh, OUTFALL_TEST_PHOTO_STORE=s3.) */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/util.h"
#include "tests/lib/child.h"
#include "tests/lib/harness.h"
#include "tests/api/photos_calls.h"

#define SITE_LAT 35.08621
#define SITE_LON 112.95124

static th_user s882;
static th_device d882;

static int setup(void **state) {
    (void)state;
    const char *const in882[] = {"410882", NULL};
    setenv("OUTFALL_TEST_PHOTO_STORE", "s3", 1);
    if (th_server_start(&srv, NULL) < 0 ||
        th_user_new(&srv, "s882", TH_ROLE(SURVEYOR), in882, &s882) < 0 ||
        th_device_new(&srv, s882.token, &d882) < 0)
        return -1;
    return 0;
}

static int teardown(void **state) {
    (void)state;
    th_s3_freeze(&srv.s3, 0);
    return th_server_stop(&srv);
}

/* Runs outfalld with the bucket flags of srv's S3 server and credentials file creds, bucket
 * bucket; returns its exit status and its log in log[cap] (it must stop by itself). */
static int start_fails(const char *bucket, const char *creds, char *log, size_t cap) {
    char data[400], logpath[400], store[128];
    const char *bin = getenv("OUTFALLD") ? getenv("OUTFALLD") : "build/asan/outfalld";
    snprintf(data, sizeof data, "%s/refused", srv.s3.root);
    snprintf(logpath, sizeof logpath, "%s/refused.log", srv.s3.root);
    snprintf(store, sizeof store, "s3://%s/city", bucket);
    char *argv[] = {(char *)bin,
                    "--listen",
                    "127.0.0.1:0",
                    "--data",
                    data,
                    "--photo-store",
                    store,
                    "--photo-store-endpoint",
                    srv.s3.endpoint,
                    "--photo-store-credentials",
                    (char *)creds,
                    NULL};
    pid_t pid = child_spawn(bin, argv, logpath, 0, TH_ADMIN_PASSWORD);
    assert_true(pid > 0);
    int status = 0, done = 0;
    for (int waited = 0; waited < 20000 && !done; waited += 20) {
        done = waitpid(pid, &status, WNOHANG) == pid;
        if (!done) usleep(20000);
    }
    if (!done) {
        kill(-pid, SIGKILL);
        waitpid(pid, &status, 0);
        fail_msg("outfalld started with a bad photo store");
    }
    FILE *f = fopen(logpath, "r");
    size_t n = f ? fread(log, 1, cap - 1, f) : 0;
    log[n] = '\0';
    if (f) fclose(f);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void a_wrong_secret_or_a_missing_bucket_stops_the_server_at_start(void **state) {
    (void)state;
    char creds[400], log[4096];
    snprintf(creds, sizeof creds, "%s/wrong-credentials", srv.s3.root);
    FILE *f = fopen(creds, "w");
    fputs("S3RVER\nnot-the-secret\n", f);
    fclose(f);
    chmod(creds, 0600);
    assert_int_not_equal(start_fails(TH_S3_BUCKET, creds, log, sizeof log), 0);
    assert_non_null(strstr(log, "photo store"));
    assert_non_null(strstr(log, "denied"));
    assert_int_not_equal(start_fails("no-such-bucket", srv.s3.credentials, log, sizeof log), 0);
    assert_non_null(strstr(log, "no bucket no-such-bucket"));
    chmod(srv.s3.credentials, 0644); /* readable by others: refused before any request */
    assert_int_not_equal(start_fails(TH_S3_BUCKET, srv.s3.credentials, log, sizeof log), 0);
    chmod(srv.s3.credentials, 0600);
    assert_non_null(strstr(log, "chmod 600"));
}

/* Fixture name's variant (a photo no other test stored) into *f and hash. */
static void fresh_photo(const char *name, th_file *f, char hash[65]) {
    assert_int_equal(th_photo_variant(name, f, hash), 0);
}

static void expect_unavailable(th_xresult *x, long status) {
    char retry[16] = "";
    assert_int_equal(status, 503);
    assert_string_equal(code_of(x), "photo_store_unavailable");
    assert_int_equal(th_xheader(x, "Retry-After", retry, sizeof retry), 1);
    assert_true(atoi(retry) > 0);
}

static void a_tus_upload_finished_while_the_bucket_is_down_is_kept_and_stored_on_retry(void **s) {
    (void)s;
    th_file f;
    char hash[65], length[48], offset[32], got[65];
    th_xresult x;
    fresh_photo("qinhe-outfall-a-1.jpg", &f, hash);
    snprintf(length, sizeof length, "Upload-Length: %zu", f.len);
    assert_int_equal(xfer("POST", at(hash, ""), s882.token, HDRS(TUS, length), NULL, 0, &x), 201);
    th_response_free(&x.r);
    th_s3_halt(&srv.s3); /* down: connections refused */
    long st = xfer("PATCH", at(hash, ""), s882.token, HDRS(TUS, OCTETS, "Upload-Offset: 0"), f.data,
                   f.len, &x);
    expect_unavailable(&x, st);
    th_response_free(&x.r);
    assert_int_equal(th_db_count(&srv, "SELECT count(*) FROM photos WHERE hash = ?", hash), 0);
    assert_int_equal(th_uploads_of(&srv, hash), 1); /* the bytes stay for the retry */
    /* A HEAD while it is still down says so, and still nothing is recorded. */
    st = xfer("HEAD", at(hash, ""), s882.token, HDRS(TUS), NULL, 0, &x);
    assert_int_equal(st, 503);
    th_response_free(&x.r);
    assert_int_equal(th_s3_restart(&srv.s3), 0);
    /* The client's retry: HEAD finds every byte there; the server stores it now. */
    assert_int_equal(xfer("HEAD", at(hash, ""), s882.token, HDRS(TUS), NULL, 0, &x), 200);
    th_xheader(&x, "Upload-Offset", offset, sizeof offset);
    assert_int_equal(atoll(offset), (long long)f.len);
    th_response_free(&x.r);
    assert_int_equal(th_db_count(&srv, "SELECT count(*) FROM photos WHERE hash = ?", hash), 1);
    assert_int_equal(th_uploads_of(&srv, hash), 0);
    th_photo_digest(&srv, s882.token, hash, got);
    assert_string_equal(got, hash);
    th_file_free(&f);
}

static void a_put_while_the_bucket_is_frozen_answers_503_and_records_nothing(void **state) {
    (void)state;
    th_file f;
    char hash[65];
    th_xresult x;
    fresh_photo("qinhe-outfall-a-2.jpg", &f, hash);
    th_s3_freeze(&srv.s3, 1); /* slow: it takes the connection and answers nothing */
    th_xfer put = {
        .method = "PUT", .path = at(hash, ""), .token = s882.token, .body = f.data, .len = f.len};
    long st = th_xfer_run(&srv, &put, &x);
    th_s3_freeze(&srv.s3, 0);
    expect_unavailable(&x, st);
    th_response_free(&x.r);
    assert_int_equal(th_db_count(&srv, "SELECT count(*) FROM photos WHERE hash = ?", hash), 0);
    assert_int_equal(th_photo_put(&srv, s882.token, hash, f.data, f.len, NULL), 201);
    assert_int_equal(th_db_count(&srv, "SELECT count(*) FROM photos WHERE hash = ?", hash), 1);
    th_file_free(&f);
}

static void syncs_naming_photos_go_on_and_reads_answer_503_while_the_bucket_is_down(void **s) {
    (void)s;
    th_file f, g;
    char stored[65], absent[65];
    th_xresult x;
    fresh_photo("no-gps.jpg", &f, stored);
    fresh_photo("no-exif.jpg", &g, absent);
    assert_int_equal(th_photo_put(&srv, s882.token, stored, f.data, f.len, NULL), 201);
    th_s3_halt(&srv.s3);
    th_batch *b = th_batch_new(&d882);
    th_outfall_create(b, "qinhe", "410882", SITE_LAT, SITE_LON);
    Outfall__V1__Observation *o =
        th_observation_create(b, th_batch_entity(b, 0), SITE_LAT, SITE_LON);
    th_observation_photo(b, o, absent, OUTFALL__V1__PHOTO_KIND__PHOTO_KIND_NEAR);
    Outfall__V1__SyncResponse *r = th_sync_ok(&srv, s882.token, b, TH_PB);
    th_batch_free(b);
    assert_non_null(r);
    assert_string_equal(th_status_name(r->results[1]->status), "APPLIED");
    assert_true(th_has(r->missing_photos, r->n_missing_photos, absent));
    outfall__v1__sync_response__free_unpacked(r, NULL);
    /* The stored photo's facts come from the database; its bytes from the bucket: 503. */
    assert_int_equal(xfer("GET", at(stored, "/info"), s882.token, NULL, NULL, 0, &x), 200);
    th_response_free(&x.r);
    expect_unavailable(&x, xfer("GET", at(stored, ""), s882.token, NULL, NULL, 0, &x));
    th_response_free(&x.r);
    assert_int_equal(th_s3_restart(&srv.s3), 0);
    char got[65];
    th_photo_digest(&srv, s882.token, stored, got);
    assert_string_equal(got, stored);
    th_file_free(&f);
    th_file_free(&g);
}

/* Removes photo hash's object (its files) from the S3 server's folder, under prefix. */
static void drop_object(const char *prefix, const char *hash) {
    char path[600];
    const char *suffixes[] = {"._S3rver_object", "._S3rver_object.md5", "._S3rver_metadata.json"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s/objects/%s/%s/%.2s/%.2s/%s%s", srv.s3.root, TH_S3_BUCKET,
                 prefix, hash, hash + 2, hash, suffixes[i]);
        assert_int_equal(unlink(path), 0);
    }
}

static void outfallctl_migrates_a_folder_into_the_bucket_resumably_and_verifies_it(void **state) {
    (void)state;
    th_server local;
    th_user u;
    th_file f[2];
    char hash[2][65], out[8192], errout[8192], data[400];
    const char *const in882[] = {"410882", NULL};
    unsetenv("OUTFALL_TEST_PHOTO_STORE"); /* a server on the folder, as before the move */
    int started = th_server_start(&local, NULL);
    setenv("OUTFALL_TEST_PHOTO_STORE", "s3", 1);
    assert_int_equal(started, 0);
    assert_int_equal(th_user_new(&local, "mover", TH_ROLE(SURVEYOR), in882, &u), 0);
    for (int i = 0; i < 2; i++) {
        fresh_photo(i ? "qinhe-outfall-a-2.jpg" : "qinhe-outfall-a-1.jpg", &f[i], hash[i]);
        assert_int_equal(th_photo_put(&local, u.token, hash[i], f[i].data, f[i].len, NULL), 201);
    }
    snprintf(data, sizeof data, "%s", local.data);
    const char *const migrate[] = {"photos",
                                   "migrate",
                                   "--data",
                                   data,
                                   "--photo-store",
                                   "s3://" TH_S3_BUCKET "/moved",
                                   "--photo-store-endpoint",
                                   srv.s3.endpoint,
                                   "--photo-store-credentials",
                                   srv.s3.credentials,
                                   NULL};
    const char *const verify[] = {"photos",
                                  "verify",
                                  "--data",
                                  data,
                                  "--photo-store",
                                  "s3://" TH_S3_BUCKET "/moved",
                                  "--photo-store-endpoint",
                                  srv.s3.endpoint,
                                  "--photo-store-credentials",
                                  srv.s3.credentials,
                                  NULL};
    const char *const verify_local[] = {"photos", "verify", "--data", data, NULL};
    assert_int_equal(th_ctl(&local, NULL, migrate, out, errout, sizeof out), 0);
    assert_non_null(strstr(out, "2 copied, 0 present already, 0 failed"));
    assert_non_null(strstr(errout, "copied")); /* progress */
    /* Again: both there whole (size and digest), nothing sent. */
    assert_int_equal(th_ctl(&local, NULL, migrate, out, errout, sizeof out), 0);
    assert_non_null(strstr(out, "0 copied, 2 present already"));
    assert_int_equal(th_ctl(&local, NULL, verify, out, errout, sizeof out), 0);
    assert_non_null(strstr(out, "verified 2 photos in s3 store: 2 ok, 0 missing"));
    /* One lost in the bucket: verify says which and fails; migrate puts it back. */
    drop_object("moved", hash[1]);
    assert_int_equal(th_ctl(&local, NULL, verify, out, errout, sizeof out), 1);
    assert_non_null(strstr(out, "1 ok, 1 missing"));
    assert_non_null(strstr(errout, hash[1]));
    assert_int_equal(th_ctl(&local, NULL, migrate, out, errout, sizeof out), 0);
    assert_non_null(strstr(out, "1 copied, 1 present already"));
    assert_int_equal(th_ctl(&local, NULL, verify, out, errout, sizeof out), 0);
    assert_int_equal(th_ctl(&local, NULL, verify_local, out, errout, sizeof out), 0);
    assert_non_null(strstr(out, "verified 2 photos in local store: 2 ok"));
    /* A local file whose bytes went bad is found by verify and never migrated. */
    char path[600];
    snprintf(path, sizeof path, "%s/photos/%.2s/%.2s/%s", data, hash[0], hash[0] + 2, hash[0]);
    FILE *bad = fopen(path, "r+b");
    fputc('X', bad);
    fclose(bad);
    assert_int_equal(th_ctl(&local, NULL, verify_local, out, errout, sizeof out), 1);
    assert_non_null(strstr(out, "1 bad"));
    drop_object("moved", hash[0]);
    assert_int_equal(th_ctl(&local, NULL, migrate, out, errout, sizeof out), 1);
    assert_non_null(strstr(out, "0 copied, 1 present already, 1 failed"));
    th_file_free(&f[0]);
    th_file_free(&f[1]);
    assert_int_equal(th_server_stop(&local), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_wrong_secret_or_a_missing_bucket_stops_the_server_at_start),
        cmocka_unit_test(
            a_tus_upload_finished_while_the_bucket_is_down_is_kept_and_stored_on_retry),
        cmocka_unit_test(a_put_while_the_bucket_is_frozen_answers_503_and_records_nothing),
        cmocka_unit_test(syncs_naming_photos_go_on_and_reads_answer_503_while_the_bucket_is_down),
        cmocka_unit_test(outfallctl_migrates_a_folder_into_the_bucket_resumably_and_verifies_it),
    };
    return cmocka_run_group_tests_name("photos in a bucket that fails", tests, setup, teardown);
}
