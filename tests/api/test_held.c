/* Held batches: a batch whose device_seq is ahead of a gap is stored and answered HELD, applied
 * when the gap fills (in seq order), or after --held-wait seconds; a revoked phone's held batch
 * is refused instead, audited, and nothing of it is written. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "common/util.h"
#include "tests/lib/harness.h"

#define DIV "410811"

static th_server srv;
static th_user user;

static void expect_all(const Outfall__V1__SyncResponse *resp, th_batch *b, const char *status) {
    assert_non_null(resp);
    assert_int_equal(resp->n_results, th_batch_req(b)->n_changes);
    for (size_t i = 0; i < resp->n_results; i++) {
        const Outfall__V1__ChangeResult *r = resp->results[i];
        if (r->reason) print_message("change %zu: %s %s\n", i, r->reason, TH_S(r->message));
        assert_string_equal(TH_S(r->change_id), th_batch_change_id(b, i));
        assert_string_equal(th_status_name(r->status), status);
    }
}

static long status_of(const char *id) {
    return th_get_outfall(&srv, th_admin_token(&srv), id, NULL, NULL);
}

static th_batch *create_batch(th_device *d, int64_t seq, char id[37]) {
    double lat, lon;
    th_spot(&lat, &lon);
    th_batch *b = th_batch_new(d);
    th_batch_req(b)->device_seq = seq;
    th_outfall_create(b, "weihe", DIV, lat, lon);
    util_strlcpy(id, th_batch_entity(b, 0), 37);
    return b;
}

static void batch_ahead_of_a_gap_is_held_then_applied_when_the_gap_fills(void **state) {
    (void)state;
    th_device d;
    assert_int_equal(th_device_new(&srv, user.token, &d), 0);
    char x[37], z[37];
    th_batch *b2 = create_batch(&d, 2, x);
    th_outfall_create(b2, "weihe", DIV, 35.3, 113.3)->landmark = "second in batch 2";

    th_sum before = th_db_checksum(srv.data, TH_STATE);
    Outfall__V1__SyncResponse *resp = th_sync_ok(&srv, user.token, b2, TH_PB);
    expect_all(resp, b2, "HELD");
    outfall__v1__sync_response__free_unpacked(resp, NULL);
    th_sum after = th_db_checksum(srv.data, TH_STATE);
    assert_string_equal(before.hex, after.hex); /* held: nothing applied yet */
    assert_int_equal(status_of(x), 404);

    th_batch *b1 = create_batch(&d, 1, z);
    resp = th_sync_ok(&srv, user.token, b1, TH_PB);
    expect_all(resp, b1, "APPLIED"); /* only its own results */
    outfall__v1__sync_response__free_unpacked(resp, NULL);
    assert_int_equal(status_of(z), 200);
    assert_int_equal(status_of(x), 200);
    assert_int_equal(status_of(th_batch_entity(b2, 1)), 200);

    /* The phone re-sends the held batch: same batch_id, its real results now. */
    resp = th_sync_ok(&srv, user.token, b2, TH_PB);
    expect_all(resp, b2, "APPLIED");
    assert_int_equal(resp->results[0]->version, 1);
    assert_string_equal(TH_S(resp->results[0]->entity_id), x);
    outfall__v1__sync_response__free_unpacked(resp, NULL);

    char next[37];
    th_batch *b3 = create_batch(&d, 3, next);
    resp = th_sync_ok(&srv, user.token, b3, TH_PB);
    expect_all(resp, b3, "APPLIED");
    outfall__v1__sync_response__free_unpacked(resp, NULL);
    th_batch_free(b1);
    th_batch_free(b2);
    th_batch_free(b3);
}

static void held_batches_apply_in_seq_order_when_the_gap_fills(void **state) {
    (void)state;
    th_device d;
    assert_int_equal(th_device_new(&srv, user.token, &d), 0);
    char x[37], first[37];
    th_batch *b3 = create_batch(&d, 3, x);
    th_batch *b4 = th_batch_new(&d);
    th_batch_req(b4)->device_seq = 4;
    th_outfall_edit(b4, x, 1)->landmark = "edited by seq 4";
    /* Sent out of order, both ahead of the missing 1 and 2. */
    Outfall__V1__SyncResponse *resp = th_sync_ok(&srv, user.token, b4, TH_PB);
    expect_all(resp, b4, "HELD");
    outfall__v1__sync_response__free_unpacked(resp, NULL);
    resp = th_sync_ok(&srv, user.token, b3, TH_PB);
    expect_all(resp, b3, "HELD");
    outfall__v1__sync_response__free_unpacked(resp, NULL);
    assert_int_equal(status_of(x), 404);

    th_batch *b1 = create_batch(&d, 1, first);
    resp = th_sync_ok(&srv, user.token, b1, TH_PB);
    expect_all(resp, b1, "APPLIED");
    outfall__v1__sync_response__free_unpacked(resp, NULL);
    assert_int_equal(status_of(x), 404); /* 2 is still missing */

    char second[37];
    th_batch *b2 = create_batch(&d, 2, second);
    resp = th_sync_ok(&srv, user.token, b2, TH_PB);
    expect_all(resp, b2, "APPLIED");
    assert_int_equal(resp->n_results, 1);
    outfall__v1__sync_response__free_unpacked(resp, NULL);

    Outfall__V1__Outfall *o = NULL;
    assert_int_equal(th_get_outfall(&srv, user.token, x, &o, NULL), 200);
    assert_int_equal(o->version, 2);
    assert_string_equal(TH_S(o->landmark), "edited by seq 4");
    outfall__v1__outfall__free_unpacked(o, NULL);

    resp = th_sync_ok(&srv, user.token, b4, TH_PB);
    expect_all(resp, b4, "APPLIED");
    assert_int_equal(resp->results[0]->version, 2);
    outfall__v1__sync_response__free_unpacked(resp, NULL);
    th_batch_free(b1);
    th_batch_free(b2);
    th_batch_free(b3);
    th_batch_free(b4);
}

static void held_batch_is_released_after_held_wait(void **state) {
    (void)state;
    th_device d;
    assert_int_equal(th_device_new(&srv, user.token, &d), 0);
    char x[37];
    th_batch *b2 = create_batch(&d, 2, x);
    Outfall__V1__SyncResponse *resp = th_sync_ok(&srv, user.token, b2, TH_PB);
    expect_all(resp, b2, "HELD");
    outfall__v1__sync_response__free_unpacked(resp, NULL);

    /* --held-wait 1: seq 1 never comes; the server applies 2 on its own. */
    int64_t deadline = util_now_ms() + 15000;
    long st;
    while ((st = status_of(x)) == 404 && util_now_ms() < deadline) {
        struct timespec ts = {0, 200 * 1000000L};
        nanosleep(&ts, NULL);
    }
    assert_int_equal(st, 200);

    resp = th_sync_ok(&srv, user.token, b2, TH_PB);
    expect_all(resp, b2, "APPLIED");
    outfall__v1__sync_response__free_unpacked(resp, NULL);
    char y[37];
    th_batch *b3 = create_batch(&d, 3, y);
    resp = th_sync_ok(&srv, user.token, b3, TH_PB);
    expect_all(resp, b3, "APPLIED");
    outfall__v1__sync_response__free_unpacked(resp, NULL);
    th_batch_free(b2);
    th_batch_free(b3);
}

/* Waits up to 15 s for the held batch `batch_id` to be decided one way or the other: its outfall
 * `id` visible to the admin, or an audit row refusing it. */
static void wait_for_release(const char *batch_id, const char *id) {
    int64_t deadline = util_now_ms() + 15000;
    while (util_now_ms() < deadline && status_of(id) == 404 &&
           th_db_count(&srv,
                       "SELECT count(*) FROM audit WHERE action = 'batch.refused' "
                       "AND target = ?",
                       batch_id) < 1) {
        struct timespec ts = {0, 200 * 1000000L};
        nanosleep(&ts, NULL);
    }
}

static void revoked_phones_held_batch_is_refused_when_its_wait_runs_out(void **state) {
    (void)state;
    th_device d;
    th_error e;
    assert_int_equal(th_device_new(&srv, user.token, &d), 0);
    char x[37];
    th_batch *b2 = create_batch(&d, 2, x);
    Outfall__V1__SyncResponse *resp = th_sync_ok(&srv, user.token, b2, TH_PB);
    expect_all(resp, b2, "HELD"); /* sent while the phone was still enrolled */
    outfall__v1__sync_response__free_unpacked(resp, NULL);
    long st = th_device_revoke(&srv, th_admin_token(&srv), d.id, &e);
    assert_true(st == 200 || st == 204);
    th_sum before = th_db_checksum(srv.data, TH_STATE);

    /* --held-wait 1: the wait runs out, and the batch must not land. */
    const char *batch_id = th_batch_req(b2)->batch_id;
    wait_for_release(batch_id, x);
    assert_int_equal(status_of(x), 404);
    th_sum after = th_db_checksum(srv.data, TH_STATE);
    assert_string_equal(before.hex, after.hex); /* no record, field history or feed entry */
    assert_int_equal(th_db_count(&srv,
                                 "SELECT count(*) FROM audit WHERE action = 'batch.refused' AND "
                                 "target = ? AND outcome = 'device_revoked'",
                                 batch_id),
                     1);
    char detail[64];
    snprintf(detail, sizeof detail, "%%device %s%%", d.id);
    assert_int_equal(th_db_count(&srv,
                                 "SELECT count(*) FROM audit WHERE action = 'batch.refused' AND "
                                 "detail LIKE ?",
                                 detail),
                     1);
    assert_int_equal(
        th_db_count(&srv, "SELECT count(*) FROM batches WHERE batch_id = ? AND state = 'refused'",
                    batch_id),
        1);

    /* The phone asks again with the same batch: told it was refused, and why. */
    th_sync_result r;
    assert_int_equal(th_sync(&srv, user.token, b2, TH_PB, &r), 403);
    assert_string_equal(r.err.code, "batch_refused_device_revoked");
    th_sync_result_free(&r);
    assert_int_equal(th_sync(&srv, user.token, b2, TH_JSON, &r), 403);
    assert_string_equal(r.err.code, "batch_refused_device_revoked");
    th_sync_result_free(&r);
    /* A new batch of the revoked phone: refused as before. */
    char y[37];
    th_batch *b3 = create_batch(&d, 3, y);
    assert_int_equal(th_sync(&srv, user.token, b3, TH_PB, &r), 401);
    assert_string_equal(r.err.code, "device_revoked");
    th_sync_result_free(&r);
    after = th_db_checksum(srv.data, TH_STATE);
    assert_string_equal(before.hex, after.hex);
    assert_int_equal(status_of(y), 404);
    th_batch_free(b2);
    th_batch_free(b3);
}

static int setup_with(const char *const *args) {
    const char *divs[] = {DIV, NULL};
    if (th_server_start(&srv, args) != 0) return -1;
    return th_user_new(&srv, "held", TH_ROLE(SURVEYOR), divs, &user);
}

static int setup_default(void **state) {
    (void)state;
    return setup_with(NULL);
}

static int setup_short_wait(void **state) {
    (void)state;
    const char *args[] = {"--held-wait", "1", NULL};
    return setup_with(args);
}

static int teardown(void **state) {
    (void)state;
    return th_server_stop(&srv);
}

int main(void) {
    const struct CMUnitTest gap[] = {
        cmocka_unit_test(batch_ahead_of_a_gap_is_held_then_applied_when_the_gap_fills),
        cmocka_unit_test(held_batches_apply_in_seq_order_when_the_gap_fills),
    };
    const struct CMUnitTest wait[] = {
        cmocka_unit_test(held_batch_is_released_after_held_wait),
        cmocka_unit_test(revoked_phones_held_batch_is_refused_when_its_wait_runs_out),
    };
    int failed = cmocka_run_group_tests_name("held batches", gap, setup_default, teardown);
    failed += cmocka_run_group_tests_name("held wait", wait, setup_short_wait, teardown);
    return failed;
}
