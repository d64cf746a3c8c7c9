/* The feed carries the store's epoch (docs/sync.md, "Kept until durable"; docs/api.md): every
 * page of GET /v1/changes, JSON or protobuf, answered at once or after wait=, and Connect's
 * SyncService/GetChanges, names the same store_epoch as the sync answer; after `outfallctl
 * restore` the restored server's feed names a new one, so a follower knows to start again from
 * cursor 0. */
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

static th_server srv;
static th_user surveyor;
static th_device phone;
static char epoch[33]; /* the store's epoch, as the first sync answer told it */

/* Syncs one new outfall from d as token on s; returns the answer's store_epoch into out[33]. */
static void sync_one(th_server *s, const char *token, th_device *d, char out[33]) {
    double lat, lon;
    th_spot(&lat, &lon);
    th_batch *b = th_batch_new(d);
    th_outfall_create(b, "qinhe", DIV, lat, lon);
    Outfall__V1__SyncResponse *r = th_sync_ok(s, token, b, TH_PB);
    assert_non_null(r);
    assert_non_null(r->store_epoch);
    assert_int_equal(strlen(r->store_epoch), 32);
    util_strlcpy(out, r->store_epoch, 33);
    outfall__v1__sync_response__free_unpacked(r, NULL);
    th_batch_free(b);
}

/* GET path from s as token in enc; the page's store_epoch into out[33] ("" when absent). */
static void feed_epoch(th_server *s, const char *token, const char *path, const char *enc,
                       char out[33]) {
    th_response rsp;
    th_request rq = {.method = "GET", .path = path, .accept = enc, .token = token};
    assert_int_equal(th_http(s, &rq, &rsp), 200);
    ProtobufCMessage *m = NULL;
    if (strcmp(enc, TH_PB) == 0) {
        m = &outfall__v1__changes_response__unpack(NULL, rsp.len, rsp.body)->base;
    } else {
        char why[200];
        assert_int_equal(pbjson_decode(&outfall__v1__changes_response__descriptor,
                                       (const char *)rsp.body, rsp.len, &m, why, sizeof why),
                         0);
    }
    assert_non_null(m);
    const Outfall__V1__ChangesResponse *page = (const Outfall__V1__ChangesResponse *)m;
    util_strlcpy(out, page->store_epoch ? page->store_epoch : "", 33);
    protobuf_c_message_free_unpacked(m, NULL);
    th_response_free(&rsp);
}

/* Every way of reading the feed names the sync answer's epoch: both encodings, a page with
 * entries, an empty page answered at once and one answered after wait=. */
static void every_feed_page_names_the_sync_answers_epoch(void **state) {
    (void)state;
    const char *paths[] = {"/v1/changes?since=0", "/v1/changes?since=0&limit=1",
                           "/v1/changes?since=999999999", "/v1/changes?since=999999999&wait=1"};
    const char *encs[] = {TH_PB, TH_JSON};
    for (size_t p = 0; p < sizeof paths / sizeof *paths; p++)
        for (size_t e = 0; e < 2; e++) {
            char got[33];
            feed_epoch(&srv, surveyor.token, paths[p], encs[e], got);
            if (strcmp(got, epoch) != 0)
                fail_msg("%s (%s): store_epoch \"%s\", the sync answer's \"%s\"", paths[p], encs[e],
                         got, epoch);
        }
}

/* Connect's SyncService/GetChanges answers it too. */
static void connect_get_changes_names_the_epoch(void **state) {
    (void)state;
    Outfall__V1__GetChangesRequest req = OUTFALL__V1__GET_CHANGES_REQUEST__INIT;
    req.has_since = 1;
    uint8_t buf[32];
    size_t len = outfall__v1__get_changes_request__pack(&req, buf);
    const char *headers[] = {"Content-Type: application/proto", "Connect-Protocol-Version: 1",
                             "Accept:", NULL};
    th_xfer x = {.method = "POST",
                 .path = "/outfall.v1.SyncService/GetChanges",
                 .token = surveyor.token,
                 .headers = headers,
                 .body = buf,
                 .len = len};
    th_xresult out;
    assert_int_equal(th_xfer_run(&srv, &x, &out), 200);
    Outfall__V1__ChangesResponse *r =
        outfall__v1__changes_response__unpack(NULL, out.r.len, out.r.body);
    assert_non_null(r);
    assert_true(r->n_feed > 0);
    assert_non_null(r->store_epoch);
    assert_string_equal(r->store_epoch, epoch);
    outfall__v1__changes_response__free_unpacked(r, NULL);
    th_response_free(&out.r);
}

/* `outfallctl backup`, `outfallctl restore` into a new folder, a server on it: its feed names a
 * new epoch (and its sync answers the same new one), the records backed up still in it. */
static void a_restore_gives_the_feed_a_new_epoch(void **state) {
    (void)state;
    char dir[] = "/tmp/outfall-feed-epoch-XXXXXX", bk[64], restored[64], out[4096], errout[4096];
    assert_non_null(mkdtemp(dir));
    snprintf(bk, sizeof bk, "%s/backup", dir);
    snprintf(restored, sizeof restored, "%s/restored", dir);
    const char *backup[] = {"backup", bk, "--data", srv.data, NULL};
    assert_int_equal(th_ctl(&srv, NULL, backup, out, errout, sizeof out), 0);
    const char *restore[] = {"restore", bk, "--data", restored, NULL};
    assert_int_equal(th_ctl(&srv, NULL, restore, out, errout, sizeof out), 0);
    th_server again;
    const char *args[] = {"--data", restored, NULL};
    assert_int_equal(th_server_start(&again, args), 0);
    char feed[33], synced[33];
    th_user u;
    th_device d;
    assert_int_equal(
        th_user_new(&again, "after", TH_ROLE(SURVEYOR), (const char *const[]){DIV, NULL}, &u), 0);
    assert_int_equal(th_device_new(&again, u.token, &d), 0);
    sync_one(&again, u.token, &d, synced);
    feed_epoch(&again, u.token, "/v1/changes?since=0", TH_JSON, feed);
    assert_string_not_equal(feed, epoch);
    assert_string_equal(feed, synced);
    feed_epoch(&again, u.token, "/v1/changes?since=0", TH_PB, feed);
    assert_string_equal(feed, synced);
    assert_int_equal(th_server_stop(&again), 0);
    char rm[128];
    snprintf(rm, sizeof rm, "rm -rf '%s'", dir);
    assert_int_equal(system(rm), 0);
}

static int setup(void **state) {
    (void)state;
    const char *divs[] = {DIV, NULL};
    if (th_server_start(&srv, NULL) != 0 || !th_admin_token(&srv)) return -1;
    if (th_user_new(&srv, "fe", TH_ROLE(SURVEYOR), divs, &surveyor)) return -1;
    if (th_device_new(&srv, surveyor.token, &phone)) return -1;
    sync_one(&srv, surveyor.token, &phone, epoch);
    return 0;
}

static int teardown(void **state) {
    (void)state;
    return th_server_stop(&srv);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_feed_page_names_the_sync_answers_epoch),
        cmocka_unit_test(connect_get_changes_names_the_epoch),
        cmocka_unit_test(a_restore_gives_the_feed_a_new_epoch),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
