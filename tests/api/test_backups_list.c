/* GET /v1/backups (docs/api.md; docs/operations.md "Backups to the bucket"): what an admin sees
 * of the backups off the machine, through a real server backing up every second or so to an
 * S3-compatible server on loopback (tests/lib/s3rver.h): the confirmed backups newest first with
 * what each holds, durable_seq and the store epoch as the sync answers give them, the last failure
 * while the bucket is down (and gone once a backup is confirmed again); a server without
 * --backup-to says so. Who may call it: tests/api/test_roles.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/util.h"
#include "tests/lib/harness.h"

#define DIV "410802"

static th_s3 s3;
static th_server srv;
static th_user surveyor;
static th_device phone;

/* GET /v1/backups on s as its admin, decoded (free with ..._free_unpacked). */
static Outfall__V1__BackupStatus *status_of(th_server *s) {
    ProtobufCMessage *m = NULL;
    assert_int_equal(th_call(s, "GET", "/v1/backups", th_admin_token(s), TH_PB, NULL,
                             &outfall__v1__backup_status__descriptor, &m, NULL),
                     200);
    return (Outfall__V1__BackupStatus *)m;
}

/* One synced outfall from phone; the answer (free with ..._free_unpacked). */
static Outfall__V1__SyncResponse *sync_one(th_server *s, const char *token, th_device *d) {
    double lat, lon;
    th_spot(&lat, &lon);
    th_batch *b = th_batch_new(d);
    th_outfall_create(b, "qinhe", DIV, lat, lon);
    Outfall__V1__SyncResponse *r = th_sync_ok(s, token, b, TH_PB);
    th_batch_free(b);
    assert_non_null(r);
    return r;
}

/* Polls until done(status, arg) or 30 s pass; returns the last status. */
static Outfall__V1__BackupStatus *wait_for(int (*done)(const Outfall__V1__BackupStatus *, int64_t),
                                           int64_t arg) {
    int64_t until = util_monotonic_ms() + 30000;
    for (;;) {
        Outfall__V1__BackupStatus *st = status_of(&srv);
        if (done(st, arg) || util_monotonic_ms() > until) return st;
        outfall__v1__backup_status__free_unpacked(st, NULL);
        usleep(200 * 1000);
    }
}

/* Two confirmed backups, the newest holding batch number seq. */
static int two_backups_hold(const Outfall__V1__BackupStatus *st, int64_t seq) {
    return st->n_backups >= 2 && st->backups[0]->acknowledged_seq >= seq;
}

static int has_failure(const Outfall__V1__BackupStatus *st, int64_t unused) {
    (void)unused;
    return st->has_last_failure_at_ms;
}

/* No failure, and a backup confirmed after the time given. */
static int confirmed_after(const Outfall__V1__BackupStatus *st, int64_t at_ms) {
    return !st->has_last_failure_at_ms && st->n_backups > 0 && st->backups[0]->made_at_ms > at_ms;
}

/* The confirmed backups, newest first, each with what it holds; durable_seq is the newest one's
 * number and the epoch the sync answer's. */
static void confirmed_backups_are_listed_newest_first_with_what_they_hold(void **state) {
    (void)state;
    Outfall__V1__SyncResponse *r = sync_one(&srv, surveyor.token, &phone);
    int64_t before = util_now_ms();
    Outfall__V1__BackupStatus *st = wait_for(two_backups_hold, r->acknowledged_seq);
    assert_true(two_backups_hold(st, r->acknowledged_seq));
    assert_true(st->has_configured && st->configured);
    assert_false(st->has_last_failure_at_ms);
    assert_string_equal(st->store_epoch, r->store_epoch);
    assert_true(st->acknowledged_seq >= r->acknowledged_seq);
    assert_int_equal(st->durable_seq, st->backups[0]->acknowledged_seq);
    for (size_t i = 0; i < st->n_backups; i++) {
        const Outfall__V1__ConfirmedBackup *b = st->backups[i];
        assert_int_equal(strlen(b->name), strlen("20261206T170000123Z"));
        assert_non_null(strstr(b->location, "s3://" TH_S3_BUCKET "/backups"));
        assert_true(b->database_bytes > 4096);
        assert_true(b->schema_version >= 26);
        assert_true(b->made_at_ms > before - 600000 && b->made_at_ms <= util_now_ms());
        if (i > 0) assert_true(st->backups[i - 1]->made_at_ms >= b->made_at_ms);
    }
    outfall__v1__backup_status__free_unpacked(st, NULL);
    outfall__v1__sync_response__free_unpacked(r, NULL);
}

/* The bucket down: the last failure shows with its reason, the confirmed backups stay listed;
 * the bucket back: the next confirmed backup clears it. */
static void a_failed_attempt_shows_until_a_backup_is_confirmed_again(void **state) {
    (void)state;
    th_s3_halt(&s3);
    Outfall__V1__BackupStatus *st = wait_for(has_failure, 0);
    assert_true(st->has_last_failure_at_ms);
    assert_true(st->last_failure_at_ms <= util_now_ms());
    assert_non_null(st->last_failure_reason);
    assert_true(strlen(st->last_failure_reason) > 0);
    assert_true(st->n_backups > 0);
    int64_t failed_at = st->last_failure_at_ms;
    outfall__v1__backup_status__free_unpacked(st, NULL);
    assert_int_equal(th_s3_restart(&s3), 0);
    st = wait_for(confirmed_after, failed_at);
    assert_true(confirmed_after(st, failed_at));
    outfall__v1__backup_status__free_unpacked(st, NULL);
}

/* In JSON the fields take the contract's mapping. */
static void json_names_the_fields_by_the_contracts_mapping(void **state) {
    (void)state;
    th_response rsp;
    th_request rq = {
        .method = "GET", .path = "/v1/backups", .accept = TH_JSON, .token = th_admin_token(&srv)};
    assert_int_equal(th_http(&srv, &rq, &rsp), 200);
    const char *body = (const char *)rsp.body;
    const char *names[] = {"\"configured\":true", "\"storeEpoch\":\"", "\"durableSeq\":\"",
                           "\"backups\":[",       "\"madeAtMs\":\"",   "\"databaseBytes\":\""};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        if (!strstr(body, names[i])) fail_msg("%s not in %s", names[i], body);
    th_response_free(&rsp);
}

/* Without --backup-to: not configured, nothing confirmed, durable_seq 0, the store's epoch. */
static void a_server_without_backup_to_says_so(void **state) {
    (void)state;
    th_server plain;
    assert_int_equal(th_server_start(&plain, NULL), 0);
    Outfall__V1__BackupStatus *st = status_of(&plain);
    assert_true(st->has_configured);
    assert_false(st->configured);
    assert_int_equal(st->n_backups, 0);
    assert_false(st->has_last_failure_at_ms);
    assert_int_equal(st->durable_seq, 0);
    assert_non_null(st->store_epoch);
    assert_int_equal(strlen(st->store_epoch), 32);
    outfall__v1__backup_status__free_unpacked(st, NULL);
    assert_int_equal(th_server_stop(&plain), 0);
}

/* The retention rule at --backup-keep 2 (no days kept): backups it deleted from the bucket are
 * no longer listed. Waits for a list of at most two whose newest was made 10 s (several
 * intervals) after the start: a list that kept every confirmed backup never gets there. */
static void backups_the_retention_rule_deleted_are_no_longer_listed(void **state) {
    (void)state;
    th_server kept;
    const char *args[] = {"--backup-to",
                          "s3://" TH_S3_BUCKET "/kept-two",
                          "--backup-every",
                          "0.02",
                          "--backup-keep",
                          "2",
                          "--backup-keep-days",
                          "0",
                          "--photo-store-endpoint",
                          s3.endpoint,
                          "--photo-store-credentials",
                          s3.credentials,
                          NULL};
    int64_t start = util_now_ms();
    assert_int_equal(th_server_start(&kept, args), 0);
    int64_t until = util_monotonic_ms() + 30000;
    Outfall__V1__BackupStatus *st = NULL;
    for (;;) {
        st = status_of(&kept);
        if ((st->n_backups >= 1 && st->n_backups <= 2 &&
             st->backups[0]->made_at_ms > start + 10000) ||
            util_monotonic_ms() > until)
            break;
        outfall__v1__backup_status__free_unpacked(st, NULL);
        usleep(200 * 1000);
    }
    if (st->n_backups > 0)
        print_message("%zu listed, the newest %lld ms after the start\n", st->n_backups,
                      (long long)(st->backups[0]->made_at_ms - start));
    assert_true(st->n_backups >= 1 && st->n_backups <= 2);
    assert_true(st->backups[0]->made_at_ms > start + 10000);
    assert_int_equal(st->durable_seq, st->backups[0]->acknowledged_seq);
    outfall__v1__backup_status__free_unpacked(st, NULL);
    assert_int_equal(th_server_stop(&kept), 0);
}

static int setup(void **state) {
    (void)state;
    if (th_s3_start(&s3) < 0) return -1;
    const char *args[] = {"--backup-to",
                          "s3://" TH_S3_BUCKET "/backups",
                          "--backup-every",
                          "0.02",
                          "--photo-store-endpoint",
                          s3.endpoint,
                          "--photo-store-credentials",
                          s3.credentials,
                          "--photo-store-timeout",
                          "2",
                          NULL};
    const char *divs[] = {DIV, NULL};
    if (th_server_start(&srv, args) != 0 || !th_admin_token(&srv)) return -1;
    if (th_user_new(&srv, "bk", TH_ROLE(SURVEYOR), divs, &surveyor)) return -1;
    return th_device_new(&srv, surveyor.token, &phone);
}

static int teardown(void **state) {
    (void)state;
    int rc = th_server_stop(&srv);
    th_s3_stop(&s3);
    return rc;
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(confirmed_backups_are_listed_newest_first_with_what_they_hold),
        cmocka_unit_test(json_names_the_fields_by_the_contracts_mapping),
        cmocka_unit_test(a_failed_attempt_shows_until_a_backup_is_confirmed_again),
        cmocka_unit_test(a_server_without_backup_to_says_so),
        cmocka_unit_test(backups_the_retention_rule_deleted_are_no_longer_listed),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
