/* The backups' retention rule (sync/offsite.h, offsite_prune) against s3rver: the newest N
 * confirmed backups stay, and the newest of each of the last D days; an unconfirmed backup older
 * than a confirmed one goes, a newer one (maybe still on its way) stays; MANIFEST and database go
 * together. */
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
#include "objstore/s3.h"
#include "sync/offsite.h"
#include "tests/lib/s3rver.h"

static th_s3 server;
static s3_client *bucket;
static char small[400];

/* A backup's name at ms: 20261206T170000123Z. */
static void name_at(int64_t ms, char out[32]) {
    time_t s = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&s, &tm);
    strftime(out, 32, "%Y%m%dT%H%M%S000Z", &tm);
}

/* Puts backup name's objects: its database, and its MANIFEST when confirmed. */
static void put_backup(const char *name, int confirmed) {
    char key[128];
    s3_error e;
    snprintf(key, sizeof key, "db/%s/outfall.db", name);
    assert_int_equal(s3_put_file(bucket, key, small, &e), 0);
    if (!confirmed) return;
    snprintf(key, sizeof key, "db/%s/MANIFEST", name);
    assert_int_equal(s3_put_file(bucket, key, small, &e), 0);
}

typedef struct seen {
    char keys[64][96];
    int n;
} seen;

static int collect(void *ctx, const char *key, int64_t size) {
    (void)size;
    seen *s = ctx;
    if (s->n < 64) util_strlcpy(s->keys[s->n++], key, sizeof s->keys[0]);
    return 0;
}

/* 1 when the listing holds db/name/part. */
static int has(const seen *s, const char *name, const char *part) {
    char key[128];
    snprintf(key, sizeof key, "db/%s/%s", name, part);
    for (int i = 0; i < s->n; i++)
        if (strcmp(s->keys[i], key) == 0) return 1;
    return 0;
}

static void keeps_the_newest_n_and_one_a_day_and_drops_the_rest(void **state) {
    (void)state;
    const int64_t min = 60000, day = 86400000;
    int64_t midnight = util_now_ms() / day * day;
    struct {
        int64_t at;
        int confirmed, stays;
        char name[32];
    } b[] = {
        {midnight + 4 * min, 0, 1, ""},            /* unconfirmed, newest: maybe on its way */
        {midnight + 3 * min, 1, 1, ""},            /* the newest two confirmed */
        {midnight + 2 * min + 30000, 0, 0, ""},    /* unconfirmed, older than a confirmed one */
        {midnight + 2 * min, 1, 1, ""},            /*  */
        {midnight + 1 * min, 1, 0, ""},            /* today's third */
        {midnight - day + 2 * min, 1, 1, ""},      /* yesterday's newest */
        {midnight - day + 1 * min, 1, 0, ""},      /* yesterday's older one */
        {midnight - 2 * day + 1 * min, 1, 1, ""},  /* the day before's only one */
        {midnight - 10 * day + 1 * min, 1, 0, ""}, /* past the 3 days */
    };
    const size_t n = sizeof b / sizeof *b;
    for (size_t i = 0; i < n; i++) {
        name_at(b[i].at, b[i].name);
        put_backup(b[i].name, b[i].confirmed);
    }
    sync_error err = {0};
    assert_int_equal(offsite_prune(bucket, NULL, 2, 3, &err), 4);
    seen s = {0};
    s3_error e;
    assert_int_equal(s3_list(bucket, "db/", collect, &s, &e), 0);
    for (size_t i = 0; i < n; i++) {
        if (b[i].stays != has(&s, b[i].name, "outfall.db"))
            print_error("backup %s: expected %s\n", b[i].name, b[i].stays ? "kept" : "deleted");
        assert_int_equal(has(&s, b[i].name, "outfall.db"), b[i].stays);
        assert_int_equal(has(&s, b[i].name, "MANIFEST"), b[i].stays && b[i].confirmed);
    }
    /* Run again: nothing more goes. */
    assert_int_equal(offsite_prune(bucket, NULL, 2, 3, &err), 0);
}

static int setup(void **state) {
    (void)state;
    if (th_s3_start(&server) < 0) return -1;
    s3_config cfg = {.endpoint = server.endpoint,
                     .bucket = TH_S3_BUCKET,
                     .prefix = "city/backups",
                     .access_key = TH_S3_KEY,
                     .secret_key = TH_S3_SECRET,
                     .list_page = 3};
    s3_error e;
    if (s3_open(&cfg, &bucket, &e) != 0) return -1;
    snprintf(small, sizeof small, "%s/small", server.root);
    FILE *f = fopen(small, "w");
    if (!f) return -1;
    fputs("not a database: only names matter here\n", f);
    return fclose(f);
}

static int teardown(void **state) {
    (void)state;
    s3_close(bucket);
    th_s3_stop(&server);
    return 0;
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(keeps_the_newest_n_and_one_a_day_and_drops_the_rest),
    };
    return cmocka_run_group_tests_name("offsite retention", tests, setup, teardown);
}
