/* kill -9 of the server in the middle of a multipart upload to the photos' bucket: a 20 MiB photo
 * goes up in two parts (16 MiB, then the rest); once the first part is in the bucket, the bucket
 * is frozen (so the upload cannot complete by chance) and the server killed. Nothing of the photo
 * is visible: no object at its address, no row, GET 404 after a restart; the same PUT afterwards
 * stores it whole, read back byte for byte. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "tests/reliability/rel.h"

static rel_server srv;
static th_s3 bucket;
static char root[300];
static uint8_t *photo;
static size_t photo_len;
static char hash[65];
static th_user user;

/* The photo: the 12 MP fixture made unique and padded after its end marker to 20 MiB. */
static int make_photo(void) {
    uint8_t *src = NULL, *unique = NULL;
    size_t len = 0, unique_len = 0;
    if (rel_fixture("large-12mp.jpg", &src, &len) < 0 ||
        rel_jpeg_unique(src, len, "photo-store-crash", &unique, &unique_len) < 0)
        return -1;
    free(src);
    photo_len = 20 * 1024 * 1024;
    photo = malloc(photo_len);
    if (!photo || unique_len > photo_len) return -1;
    memcpy(photo, unique, unique_len);
    randombytes_buf(photo + unique_len, photo_len - unique_len);
    free(unique);
    util_blake2b_hex(photo, photo_len, hash);
    return 0;
}

static int setup(void **state) {
    (void)state;
    static char data[400], log[400], store[64];
    static const char *extra[12];
    if (rel_tmpdir("s3crash", root, sizeof root) != 0 || make_photo() < 0 ||
        th_s3_start(&bucket) < 0)
        return -1;
    snprintf(data, sizeof data, "%s/data", root);
    snprintf(log, sizeof log, "%s/server.log", root);
    snprintf(store, sizeof store, "s3://%s/%s", TH_S3_BUCKET, TH_S3_PREFIX);
    const char *flags[] = {"--photo-store",
                           store,
                           "--photo-store-endpoint",
                           bucket.endpoint,
                           "--photo-store-credentials",
                           bucket.credentials,
                           NULL};
    memcpy(extra, flags, sizeof flags);
    rel_server_init(&srv, data, log, extra);
    if (rel_server_start(&srv) < 0 || rel_surveyor(&srv, &user) < 0) return -1;
    return 0;
}

static int teardown(void **state) {
    (void)state;
    rel_server_stop(&srv);
    th_s3_stop(&bucket);
    if (!getenv("TH_KEEP")) rel_rmtree(root);
    free(photo);
    return 0;
}

static int seen;
static int note_part(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st, (void)ftw;
    size_t n = strlen(path);
    if (flag == FTW_F && n > 6 && strcmp(path + n - 6, "/1.md5") == 0) seen = 1;
    return 0;
}

/* 1 when the bucket holds the first part of a multipart upload (s3rver writes N.md5 once part
 * N is whole). */
static int first_part_in(void) {
    char dir[400];
    snprintf(dir, sizeof dir, "%s/objects", bucket.root);
    seen = 0;
    nftw(dir, note_part, 16, FTW_PHYS);
    return seen;
}

static int counted;
static int count_object(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st, (void)ftw;
    size_t n = strlen(path), k = strlen("._S3rver_object");
    if (flag == FTW_F && n > k && strcmp(path + n - k, "._S3rver_object") == 0) counted++;
    return 0;
}

/* Objects under the photos' prefix in the bucket. */
static int objects(void) {
    char dir[400];
    snprintf(dir, sizeof dir, "%s/objects/%s/%s", bucket.root, TH_S3_BUCKET, TH_S3_PREFIX);
    counted = 0;
    nftw(dir, count_object, 16, FTW_PHYS);
    return counted;
}

static void *put_photo(void *arg) {
    th_server view = rel_server_view(&srv);
    *(long *)arg = rel_photo_put(&view, user.token, hash, photo, photo_len, NULL);
    return NULL;
}

static void kill_mid_multipart_leaves_no_visible_photo_and_the_retry_stores_it(void **state) {
    (void)state;
    pthread_t t;
    long put_status = -1;
    assert_int_equal(pthread_create(&t, NULL, put_photo, &put_status), 0);
    int waited = 0;
    while (!first_part_in() && waited < 60000) {
        rel_sleep_ms(2);
        waited += 2;
    }
    assert_true(first_part_in());
    th_s3_freeze(&bucket, 1); /* the second part and the completion wait */
    rel_server_kill(&srv);
    th_s3_freeze(&bucket, 0);
    pthread_join(t, NULL);
    assert_true(put_status == 0 || put_status >= 500); /* no 201: it never finished */
    assert_int_equal(objects(), 0);
    assert_int_equal(rel_server_start(&srv), 0);
    th_server view = rel_server_view(&srv);
    th_xresult x;
    th_xfer get = {.method = "GET", .path = th_photo_path(hash, ""), .token = user.token};
    assert_int_equal(th_xfer_run(&view, &get, &x), 404);
    th_response_free(&x.r);
    sqlite3 *db = rel_db_open(srv.data);
    assert_int_equal(rel_db_int(db, "SELECT count(*) FROM photos WHERE hash = ?", hash), 0);
    sqlite3_close(db);
    assert_int_equal(objects(), 0);
    /* The phone sends it again: stored whole, once. */
    assert_int_equal(rel_photo_put(&view, user.token, hash, photo, photo_len, NULL), 201);
    assert_true(rel_photo_matches(&view, user.token, hash));
    assert_int_equal(objects(), 1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(kill_mid_multipart_leaves_no_visible_photo_and_the_retry_stores_it),
    };
    return cmocka_run_group_tests_name("reliability/photo_store_crash", tests, setup, teardown);
}
