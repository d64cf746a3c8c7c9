/* The durable horizon in the sync answer (docs/sync.md, "Kept until durable"): every answer to a
 * batch, REST or Connect, protobuf or JSON, first time or replay, applied or held, carries the
 * store's epoch and the batch's acknowledged_seq; durable_seq is unset while no backup off the
 * machine is configured. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/pbjson.h"
#include "common/util.h"
#include "tests/lib/harness.h"

#define DIV "410802"
#define CONNECT_PROTO "application/proto"

static th_server srv;
static th_user surveyor;
static th_device phone;
static char epoch[33]; /* the store's epoch, as the first answer told it */

/* A batch of one new outfall for d. */
static th_batch *one_outfall(th_device *d) {
    double lat, lon;
    th_spot(&lat, &lon);
    th_batch *b = th_batch_new(d);
    th_outfall_create(b, "qinhe", DIV, lat, lon);
    return b;
}

/* Asserts r carries the horizon: the store's epoch (32 hex digits, the same in every answer)
 * and an acknowledged_seq, and no durable_seq. Returns the acknowledged_seq. */
static int64_t assert_horizon(const Outfall__V1__SyncResponse *r) {
    assert_non_null(r->store_epoch);
    assert_int_equal(strlen(r->store_epoch), 32);
    for (const char *c = r->store_epoch; *c; c++)
        assert_non_null(strchr("0123456789abcdef", *c));
    if (!epoch[0]) util_strlcpy(epoch, r->store_epoch, sizeof epoch);
    assert_string_equal(r->store_epoch, epoch);
    assert_true(r->has_acknowledged_seq);
    assert_true(r->acknowledged_seq > 0);
    assert_false(r->has_durable_seq);
    return r->acknowledged_seq;
}

static Outfall__V1__SyncResponse *sync_ok(th_batch *b, const char *enc) {
    Outfall__V1__SyncResponse *r = th_sync_ok(&srv, surveyor.token, b, enc);
    assert_non_null(r);
    return r;
}

/* Each new batch gets the next number: the second answer's acknowledged_seq is the first's plus
 * one, under the same epoch. */
static void each_batch_answer_carries_the_epoch_and_the_next_acknowledged_seq(void **state) {
    (void)state;
    th_batch *a = one_outfall(&phone);
    Outfall__V1__SyncResponse *ra = sync_ok(a, TH_PB);
    th_batch *b = one_outfall(&phone);
    Outfall__V1__SyncResponse *rb = sync_ok(b, TH_PB);
    assert_int_equal(rb->results[0]->status, TH_STATUS(APPLIED));
    assert_int_equal(assert_horizon(rb), assert_horizon(ra) + 1);
    outfall__v1__sync_response__free_unpacked(ra, NULL);
    outfall__v1__sync_response__free_unpacked(rb, NULL);
    th_batch_free(a);
    th_batch_free(b);
}

/* A replay answers the horizon too: the same epoch and an acknowledged_seq no lower than the
 * first answer's (a phone keeping it by that number keeps it at least as long), and it writes
 * no new number: the next batch gets the one after the last. */
static void a_replay_answers_the_horizon_and_takes_no_number(void **state) {
    (void)state;
    th_batch *b = one_outfall(&phone);
    Outfall__V1__SyncResponse *first = sync_ok(b, TH_PB);
    int64_t seq = assert_horizon(first);
    th_sync_result again;
    assert_int_equal(th_sync(&srv, surveyor.token, b, TH_PB, &again), 200);
    assert_int_equal(again.resp->results[0]->status, TH_STATUS(APPLIED));
    assert_true(assert_horizon(again.resp) >= seq);
    th_sync_result_free(&again);
    th_batch *next = one_outfall(&phone);
    Outfall__V1__SyncResponse *rn = sync_ok(next, TH_PB);
    assert_int_equal(assert_horizon(rn), seq + 1);
    outfall__v1__sync_response__free_unpacked(first, NULL);
    outfall__v1__sync_response__free_unpacked(rn, NULL);
    th_batch_free(b);
    th_batch_free(next);
}

/* A batch held behind a gap is acknowledged as well (it waits in the database): it gets its
 * number, and so does the batch that fills the gap. */
static void a_held_batch_gets_its_number(void **state) {
    (void)state;
    th_device d;
    assert_int_equal(th_device_new(&srv, surveyor.token, &d), 0);
    th_batch *gap = one_outfall(&d);
    d.next_seq++;
    th_batch *ahead = one_outfall(&d);
    Outfall__V1__SyncResponse *held = sync_ok(ahead, TH_PB);
    assert_int_equal(held->results[0]->status, TH_STATUS(HELD));
    int64_t seq = assert_horizon(held);
    Outfall__V1__SyncResponse *filled = sync_ok(gap, TH_PB);
    assert_int_equal(filled->results[0]->status, TH_STATUS(APPLIED));
    assert_int_equal(assert_horizon(filled), seq + 1);
    outfall__v1__sync_response__free_unpacked(held, NULL);
    outfall__v1__sync_response__free_unpacked(filled, NULL);
    th_batch_free(gap);
    th_batch_free(ahead);
}

/* A batch whose every change is rejected still changed the database (its answers are kept for
 * replays, the device's sequence moved): it is numbered like any other. */
static void a_batch_of_rejected_changes_is_numbered_too(void **state) {
    (void)state;
    th_batch *ok = one_outfall(&phone);
    Outfall__V1__SyncResponse *rok = sync_ok(ok, TH_PB);
    int64_t seq = assert_horizon(rok);
    th_batch *bad = th_batch_new(&phone);
    th_outfall_create(bad, "no-such-river", DIV, 34.0, 113.0);
    Outfall__V1__SyncResponse *rbad = sync_ok(bad, TH_PB);
    assert_int_equal(rbad->results[0]->status, TH_STATUS(REJECTED));
    assert_int_equal(assert_horizon(rbad), seq + 1);
    outfall__v1__sync_response__free_unpacked(rok, NULL);
    outfall__v1__sync_response__free_unpacked(rbad, NULL);
    th_batch_free(ok);
    th_batch_free(bad);
}

/* In JSON the fields take the contract's mapping: acknowledgedSeq as a string (64 bits),
 * storeEpoch, and no durableSeq. */
static void json_answers_name_them_by_the_contracts_mapping(void **state) {
    (void)state;
    th_batch *b = one_outfall(&phone);
    th_sync_result r;
    assert_int_equal(th_sync(&srv, surveyor.token, b, TH_JSON, &r), 200);
    const char *body = (const char *)r.raw.body;
    char want[96];
    snprintf(want, sizeof want, "\"acknowledgedSeq\":\"%lld\"",
             (long long)r.resp->acknowledged_seq);
    assert_non_null(strstr(body, want));
    snprintf(want, sizeof want, "\"storeEpoch\":\"%s\"", epoch);
    assert_non_null(strstr(body, want));
    assert_null(strstr(body, "durableSeq"));
    assert_horizon(r.resp);
    th_sync_result_free(&r);
    th_batch_free(b);
}

/* Connect's SyncService/PushBatch answers them the same. */
static void connect_push_batch_answers_the_horizon(void **state) {
    (void)state;
    th_batch *b = one_outfall(&phone);
    const uint8_t *bytes;
    size_t len;
    assert_int_equal(th_batch_encode(b, TH_PB, &bytes, &len), 0);
    char *sig = th_sign_b64(phone.sk, bytes, len);
    char header[200];
    snprintf(header, sizeof header, "X-Device-Signature: %s", sig);
    const char *headers[] = {"Content-Type: " CONNECT_PROTO, "Connect-Protocol-Version: 1",
                             "Accept:", header, NULL};
    th_xfer x = {.method = "POST",
                 .path = "/outfall.v1.SyncService/PushBatch",
                 .token = surveyor.token,
                 .headers = headers,
                 .body = bytes,
                 .len = len};
    th_xresult out;
    assert_int_equal(th_xfer_run(&srv, &x, &out), 200);
    Outfall__V1__SyncResponse *r = outfall__v1__sync_response__unpack(NULL, out.r.len, out.r.body);
    assert_non_null(r);
    assert_int_equal(r->results[0]->status, TH_STATUS(APPLIED));
    assert_horizon(r);
    phone.next_seq++;
    outfall__v1__sync_response__free_unpacked(r, NULL);
    th_response_free(&out.r);
    free(sig);
    th_batch_free(b);
}

static int setup(void **state) {
    (void)state;
    const char *divs[] = {DIV, NULL};
    if (th_server_start(&srv, NULL) != 0 || !th_admin_token(&srv)) return -1;
    if (th_user_new(&srv, "dh", TH_ROLE(SURVEYOR), divs, &surveyor)) return -1;
    return th_device_new(&srv, surveyor.token, &phone);
}

static int teardown(void **state) {
    (void)state;
    return th_server_stop(&srv);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(each_batch_answer_carries_the_epoch_and_the_next_acknowledged_seq),
        cmocka_unit_test(a_replay_answers_the_horizon_and_takes_no_number),
        cmocka_unit_test(a_held_batch_gets_its_number),
        cmocka_unit_test(a_batch_of_rejected_changes_is_numbered_too),
        cmocka_unit_test(json_answers_name_them_by_the_contracts_mapping),
        cmocka_unit_test(connect_push_batch_answers_the_horizon),
    };
    return cmocka_run_group_tests_name("durable horizon", tests, setup, teardown);
}
