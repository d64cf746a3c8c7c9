/* The S3 client (objstore/s3.c) against a real S3-compatible server on loopback (s3rver behind a
 * Signature Version 4 check, tests/lib/s3rver.h): objects put, read whole and by range, sized,
 * listed page by page and deleted; a file larger than a part goes up as a multipart upload and
 * comes back byte for byte; a wrong secret, a missing bucket, a stopped or frozen server each give
 * their own kind of failure; credentials files are read in both forms and refused when others may
 * read them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "objstore/s3.h"
#include "tests/lib/s3rver.h"

static th_s3 server;

typedef struct fixture {
    s3_client *c;
    char dir[300];
} fixture;

/* A client of the test server with part size 5 MiB, short timeouts and listing pages of 3. */
static s3_client *client_of(const char *secret, const char *bucket) {
    s3_config cfg = {.endpoint = server.endpoint,
                     .region = "cn-north-1",
                     .bucket = bucket,
                     .prefix = "city/photos",
                     .access_key = TH_S3_KEY,
                     .secret_key = secret,
                     .connect_timeout_ms = 1000,
                     .timeout_ms = 2000,
                     .stall_timeout_ms = 2000,
                     .part_bytes = S3_MIN_PART,
                     .list_page = 3};
    s3_client *c = NULL;
    s3_error err;
    assert_int_equal(s3_open(&cfg, &c, &err), 0);
    return c;
}

static int setup(void **state) {
    fixture *f = calloc(1, sizeof *f);
    if (!f || th_s3_start(&server) < 0) return -1;
    f->c = client_of(TH_S3_SECRET, TH_S3_BUCKET);
    snprintf(f->dir, sizeof f->dir, "%s", server.root);
    *state = f;
    return 0;
}

static int teardown(void **state) {
    fixture *f = *state;
    s3_close(f->c);
    th_s3_stop(&server);
    free(f);
    return 0;
}

/* Writes n bytes of a repeatable pattern (seed) to a file in the fixture's folder. */
static void write_file(const fixture *f, const char *name, size_t n, unsigned seed, char *path,
                       size_t cap) {
    snprintf(path, cap, "%s/%s", f->dir, name);
    FILE *out = fopen(path, "wb");
    assert_non_null(out);
    for (size_t i = 0; i < n; i++)
        fputc((int)((i * 2654435761u + seed) >> 13) & 0xff, out);
    assert_int_equal(fclose(out), 0);
}

/* Collects a GET's bytes into a buffer, or hashes them. */
typedef struct collected {
    unsigned char *buf;
    size_t len, cap;
    int stop_after; /* calls before the sink refuses; 0: never */
    int calls;
    crypto_generichash_state hash;
} collected;

static int collect(void *ctx, const void *buf, size_t n) {
    collected *c = ctx;
    if (c->stop_after && ++c->calls >= c->stop_after) return 1;
    crypto_generichash_update(&c->hash, buf, n);
    if (c->len + n <= c->cap) memcpy(c->buf + c->len, buf, n);
    c->len += n;
    return 0;
}

static void hash_file(const char *path, unsigned char out[32]) {
    crypto_generichash_state st;
    unsigned char buf[65536];
    FILE *in = fopen(path, "rb");
    assert_non_null(in);
    crypto_generichash_init(&st, NULL, 0, 32);
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0)
        crypto_generichash_update(&st, buf, n);
    fclose(in);
    crypto_generichash_final(&st, out, 32);
}

static void put_get_head_and_delete_an_object(void **state) {
    fixture *f = *state;
    char path[400];
    unsigned char want[32], got[32];
    s3_error err;
    int64_t size = 0, sent = 0;
    write_file(f, "small", 3000, 1, path, sizeof path);
    hash_file(path, want);
    assert_int_equal(s3_put_file(f->c, "ab/cd/small", path, &err), 0);
    assert_int_equal(s3_head(f->c, "ab/cd/small", &size, &err), 0);
    assert_int_equal(size, 3000);
    collected c = {.cap = 0};
    crypto_generichash_init(&c.hash, NULL, 0, 32);
    assert_int_equal(s3_get(f->c, "ab/cd/small", 0, -1, collect, &c, &sent, &err), 0);
    crypto_generichash_final(&c.hash, got, 32);
    assert_int_equal(sent, 3000);
    assert_memory_equal(want, got, 32);
    assert_int_equal(s3_delete(f->c, "ab/cd/small", &err), 0);
    assert_int_equal(s3_head(f->c, "ab/cd/small", &size, &err), S3_NOT_FOUND);
    assert_int_equal(err.status, S3_NOT_FOUND);
    /* A GET of what is not there gives the sink nothing. */
    c.len = 0;
    assert_int_equal(s3_get(f->c, "ab/cd/small", 0, -1, collect, &c, &sent, &err), S3_NOT_FOUND);
    assert_int_equal(c.len, 0);
    assert_int_equal(s3_delete(f->c, "ab/cd/small", &err), 0); /* absent is fine */
}

static void a_range_reads_those_bytes_only(void **state) {
    fixture *f = *state;
    char path[400];
    unsigned char whole[5000], part[100];
    s3_error err;
    int64_t sent = 0;
    write_file(f, "ranged", sizeof whole, 7, path, sizeof path);
    FILE *in = fopen(path, "rb");
    assert_int_equal(fread(whole, 1, sizeof whole, in), sizeof whole);
    fclose(in);
    assert_int_equal(s3_put_file(f->c, "ranged", path, &err), 0);
    collected c = {.buf = part, .cap = sizeof part};
    crypto_generichash_init(&c.hash, NULL, 0, 32);
    assert_int_equal(s3_get(f->c, "ranged", 1234, 100, collect, &c, &sent, &err), 0);
    assert_int_equal(sent, 100);
    assert_memory_equal(part, whole + 1234, 100);
    /* From an offset to the end. */
    c.len = 0;
    assert_int_equal(s3_get(f->c, "ranged", 4950, -1, collect, &c, &sent, &err), 0);
    assert_int_equal(sent, 50);
    assert_memory_equal(part, whole + 4950, 50);
    /* A sink that stops the transfer makes the GET fail as aborted. */
    collected stop = {.stop_after = 1};
    crypto_generichash_init(&stop.hash, NULL, 0, 32);
    assert_int_equal(s3_get(f->c, "ranged", 0, -1, collect, &stop, &sent, &err), S3_BAD);
    assert_string_equal(err.code, "aborted");
}

typedef struct listing {
    char keys[16][64];
    int64_t sizes[16];
    int n;
} listing;

static int list_one(void *ctx, const char *key, int64_t size) {
    listing *l = ctx;
    if (l->n < 16) {
        snprintf(l->keys[l->n], sizeof l->keys[0], "%s", key);
        l->sizes[l->n] = size;
    }
    l->n++;
    return 0;
}

static void a_listing_follows_its_pages_in_key_order(void **state) {
    fixture *f = *state;
    char path[400], key[64];
    s3_error err;
    write_file(f, "tiny", 10, 3, path, sizeof path);
    for (int i = 7; i >= 0; i--) {
        snprintf(key, sizeof key, "list/%02d", i);
        assert_int_equal(s3_put_file(f->c, key, path, &err), 0);
    }
    assert_int_equal(s3_put_file(f->c, "other/x", path, &err), 0);
    listing l = {.n = 0};
    int listed = s3_list(f->c, "list/", list_one, &l, &err); /* pages of 3: 3 pages */
    if (listed) print_message("s3_list: %s %s\n", err.code, err.message);
    assert_int_equal(listed, 0);
    assert_int_equal(l.n, 8);
    for (int i = 0; i < 8; i++) {
        snprintf(key, sizeof key, "list/%02d", i);
        assert_string_equal(l.keys[i], key);
        assert_int_equal(l.sizes[i], 10);
    }
    listing none = {.n = 0};
    assert_int_equal(s3_list(f->c, "nothing/", list_one, &none, &err), 0);
    assert_int_equal(none.n, 0);
}

static void a_file_larger_than_a_part_goes_up_in_parts_and_comes_back_whole(void **state) {
    fixture *f = *state;
    char path[400];
    unsigned char want[32], got[32];
    s3_error err;
    int64_t size = 0, sent = 0;
    size_t n = 2 * S3_MIN_PART + 12345; /* three parts */
    write_file(f, "large", n, 11, path, sizeof path);
    hash_file(path, want);
    assert_int_equal(s3_put_file(f->c, "ef/01/large", path, &err), 0);
    assert_int_equal(s3_head(f->c, "ef/01/large", &size, &err), 0);
    assert_int_equal(size, (int64_t)n);
    collected c = {.cap = 0};
    crypto_generichash_init(&c.hash, NULL, 0, 32);
    assert_int_equal(s3_get(f->c, "ef/01/large", 0, -1, collect, &c, &sent, &err), 0);
    crypto_generichash_final(&c.hash, got, 32);
    assert_int_equal(sent, (int64_t)n);
    assert_memory_equal(want, got, 32);
}

static void a_wrong_secret_is_denied_and_stores_nothing(void **state) {
    fixture *f = *state;
    char path[400];
    s3_error err;
    int64_t size;
    s3_client *wrong = client_of("not-the-secret", TH_S3_BUCKET);
    write_file(f, "denied", 100, 5, path, sizeof path);
    assert_int_equal(s3_bucket_check(wrong, &err), S3_DENIED);
    assert_int_equal(s3_put_file(wrong, "denied", path, &err), S3_DENIED);
    assert_string_equal(err.code, "SignatureDoesNotMatch");
    assert_int_equal(err.http_status, 403);
    assert_int_equal(s3_head(f->c, "denied", &size, &err), S3_NOT_FOUND);
    s3_close(wrong);
}

static void a_missing_bucket_is_not_found_and_a_good_one_passes(void **state) {
    fixture *f = *state;
    s3_error err;
    assert_int_equal(s3_bucket_check(f->c, &err), 0);
    s3_client *missing = client_of(TH_S3_SECRET, "no-such-bucket");
    assert_int_equal(s3_bucket_check(missing, &err), S3_NOT_FOUND);
    assert_non_null(strstr(err.message, "no-such-bucket"));
    s3_close(missing);
}

static void a_stopped_or_frozen_server_is_unavailable(void **state) {
    fixture *f = *state;
    char path[400];
    s3_error err;
    int64_t size;
    write_file(f, "later", 100, 9, path, sizeof path);
    th_s3_freeze(&server, 1);
    assert_int_equal(s3_put_file(f->c, "later", path, &err), S3_UNAVAILABLE);
    assert_int_equal(s3_head(f->c, "later", &size, &err), S3_UNAVAILABLE);
    th_s3_freeze(&server, 0);
    th_s3_halt(&server);
    assert_int_equal(s3_bucket_check(f->c, &err), S3_UNAVAILABLE);
    assert_int_equal(s3_put_file(f->c, "later", path, &err), S3_UNAVAILABLE);
    assert_int_equal(th_s3_restart(&server), 0); /* on its port again: the client goes on */
    assert_int_equal(s3_head(f->c, "later", &size, &err), S3_NOT_FOUND);
}

static void credentials_files_in_both_forms_and_never_readable_by_others(void **state) {
    fixture *f = *state;
    char path[400], access[128], secret[128], why[300];
    snprintf(path, sizeof path, "%s/creds", f->dir);
    FILE *out = fopen(path, "w");
    fputs("AKID123\nsecret/with+chars\n", out);
    fclose(out);
    chmod(path, 0600);
    assert_int_equal(
        s3_credentials_load(path, access, sizeof access, secret, sizeof secret, why, sizeof why),
        0);
    assert_string_equal(access, "AKID123");
    assert_string_equal(secret, "secret/with+chars");
    out = fopen(path, "w");
    fputs("# the bucket's key\naws_access_key_id = K2\naws_secret_access_key=S2\n", out);
    fclose(out);
    assert_int_equal(
        s3_credentials_load(path, access, sizeof access, secret, sizeof secret, why, sizeof why),
        0);
    assert_string_equal(access, "K2");
    assert_string_equal(secret, "S2");
    chmod(path, 0640);
    assert_int_equal(
        s3_credentials_load(path, access, sizeof access, secret, sizeof secret, why, sizeof why),
        -1);
    assert_non_null(strstr(why, "chmod 600"));
    out = fopen(path, "w");
    fputs("only-one-line\n", out);
    fclose(out);
    chmod(path, 0600);
    assert_int_equal(
        s3_credentials_load(path, access, sizeof access, secret, sizeof secret, why, sizeof why),
        -1);
}

static void bad_configurations_and_keys_are_refused(void **state) {
    fixture *f = *state;
    s3_error err;
    s3_client *c = NULL;
    s3_config cfg = {.endpoint = "ftp://x", .bucket = "b-1", .access_key = "k", .secret_key = "s"};
    assert_int_equal(s3_open(&cfg, &c, &err), S3_BAD);
    cfg.endpoint = "http://127.0.0.1:1";
    cfg.bucket = "Bad_Bucket";
    assert_int_equal(s3_open(&cfg, &c, &err), S3_BAD);
    cfg.bucket = "good";
    cfg.prefix = "../up";
    assert_int_equal(s3_open(&cfg, &c, &err), S3_BAD);
    int64_t size;
    assert_int_equal(s3_head(f->c, "a/../b", &size, &err), S3_BAD);
    assert_int_equal(s3_head(f->c, "sp ace", &size, &err), S3_BAD);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(put_get_head_and_delete_an_object),
        cmocka_unit_test(a_range_reads_those_bytes_only),
        cmocka_unit_test(a_listing_follows_its_pages_in_key_order),
        cmocka_unit_test(a_file_larger_than_a_part_goes_up_in_parts_and_comes_back_whole),
        cmocka_unit_test(a_wrong_secret_is_denied_and_stores_nothing),
        cmocka_unit_test(a_missing_bucket_is_not_found_and_a_good_one_passes),
        cmocka_unit_test(credentials_files_in_both_forms_and_never_readable_by_others),
        cmocka_unit_test(bad_configurations_and_keys_are_refused),
        cmocka_unit_test(a_stopped_or_frozen_server_is_unavailable),
    };
    return cmocka_run_group_tests_name("objstore s3 client", tests, setup, teardown);
}
