/* The write lock taken for long (issue 20.1): under a big upload the writing thread holds
 * SQLite's write lock group after group. Here another connection holds it. Requests that only
 * read answer at once on every database handle, also handles the server opens while the lock is
 * held (opening one used to queue for the write lock to check the schema: past the 10 s busy
 * timeout it answered 500 storage_error "database is locked"); a batch whose write cannot get the
 * lock in time answers 503 storage_busy with Retry-After, stores nothing, and goes through when
 * sent again after the lock is let go. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "common/util.h"
#include "tests/lib/harness.h"

#define DIV "410882"
enum { READERS = 12, READ_BOUND_MS = 5000 };

static th_server srv;
static th_user surveyor;
static th_device dev;
static sqlite3 *holder; /* the connection holding the write lock, NULL when none */

/* Takes the database's write lock on a connection of the test's own and keeps it. */
static void hold_write_lock(void) {
    char path[400];
    snprintf(path, sizeof path, "%s/outfall.db", srv.data);
    assert_int_equal(sqlite3_open(path, &holder), SQLITE_OK);
    assert_int_equal(sqlite3_exec(holder, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
}

static void let_go_write_lock(void) {
    if (!holder) return;
    sqlite3_exec(holder, "ROLLBACK", NULL, NULL, NULL);
    sqlite3_close(holder);
    holder = NULL;
}

/* One read of the feed on its own thread, and how it was answered. */
typedef struct read_call {
    pthread_t thread;
    long status;
    int64_t took_ms;
    th_xresult x;
} read_call;

static void *read_run(void *arg) {
    read_call *c = arg;
    const char *headers[] = {"Accept: application/json", NULL};
    th_xfer x = {.method = "GET",
                 .path = "/v1/changes?since=0&limit=5",
                 .token = surveyor.token,
                 .headers = headers};
    int64_t start = util_monotonic_ms();
    c->status = th_xfer_run(&srv, &x, &c->x);
    c->took_ms = util_monotonic_ms() - start;
    return NULL;
}

static int setup(void **state) {
    (void)state;
    const char *divs[] = {DIV, NULL};
    if (th_server_start(&srv, NULL) != 0) return -1;
    if (!th_admin_token(&srv)) return -1;
    if (th_user_new(&srv, "busy", TH_ROLE(SURVEYOR), divs, &surveyor) != 0) return -1;
    return th_device_new(&srv, surveyor.token, &dev);
}

static int teardown(void **state) {
    (void)state;
    let_go_write_lock();
    return th_server_stop(&srv);
}

static void
reads_answer_at_once_on_every_handle_while_another_connection_holds_the_write_lock(void **state) {
    (void)state;
    hold_write_lock();
    read_call calls[READERS];
    memset(calls, 0, sizeof calls);
    for (int i = 0; i < READERS; i++)
        assert_int_equal(pthread_create(&calls[i].thread, NULL, read_run, &calls[i]), 0);
    for (int i = 0; i < READERS; i++)
        pthread_join(calls[i].thread, NULL);
    let_go_write_lock();
    for (int i = 0; i < READERS; i++) {
        if (calls[i].status != 200 || calls[i].took_ms > READ_BOUND_MS)
            fprintf(stderr, "read %d: %ld in %lld ms: %.*s\n", i, calls[i].status,
                    (long long)calls[i].took_ms, 160, (const char *)calls[i].x.r.body);
        assert_int_equal(calls[i].status, 200);
        assert_true(calls[i].took_ms < READ_BOUND_MS);
        th_response_free(&calls[i].x.r);
    }
}

/* Sends b's bytes (encoded and signed) as POST /v1/sync with the answer's headers. */
static long send_batch(const uint8_t *body, size_t len, const char *sig_b64, th_xresult *out) {
    char sig[256];
    snprintf(sig, sizeof sig, "X-Device-Signature: %s", sig_b64);
    const char *headers[] = {sig, "Content-Type: " TH_PB, "Accept: " TH_PB, NULL};
    th_xfer x = {.method = "POST",
                 .path = "/v1/sync",
                 .token = surveyor.token,
                 .headers = headers,
                 .body = body,
                 .len = len};
    return th_xfer_run(&srv, &x, out);
}

static void
a_batch_that_cannot_get_the_write_lock_answers_503_storage_busy_with_retry_after(void **state) {
    (void)state;
    double lat, lon;
    th_spot(&lat, &lon);
    th_batch *b = th_batch_new(&dev);
    assert_non_null(b);
    th_outfall_create(b, "danhe", DIV, lat, lon);
    const uint8_t *bytes = NULL;
    size_t len = 0;
    assert_int_equal(th_batch_encode(b, TH_PB, &bytes, &len), 0);
    uint8_t *body = malloc(len);
    assert_non_null(body);
    memcpy(body, bytes, len);
    char *sig = th_sign_b64(dev.sk, body, len);
    th_sum before = th_db_checksum(srv.data, TH_ALL);

    hold_write_lock();
    th_xresult busy;
    long status = send_batch(body, len, sig, &busy);
    let_go_write_lock();
    th_error e;
    memset(&e, 0, sizeof e);
    th_error_decode(&busy.r, &e);
    char retry[32] = "";
    int has_retry = th_xheader(&busy, "Retry-After", retry, sizeof retry);
    th_response_free(&busy.r);
    assert_int_equal(status, 503);
    assert_string_equal(e.code, "storage_busy");
    assert_true(has_retry);
    assert_true(atoi(retry) > 0);
    th_sum after = th_db_checksum(srv.data, TH_ALL);
    assert_string_equal(before.hex, after.hex);

    th_xresult again;
    assert_int_equal(send_batch(body, len, sig, &again), 200);
    Outfall__V1__SyncResponse *resp =
        outfall__v1__sync_response__unpack(NULL, again.r.len, again.r.body);
    assert_non_null(resp);
    assert_int_equal(resp->n_results, 1);
    assert_int_equal(resp->results[0]->status, TH_STATUS(APPLIED));
    outfall__v1__sync_response__free_unpacked(resp, NULL);
    th_response_free(&again.r);
    free(sig);
    free(body);
    th_batch_free(b);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(
            reads_answer_at_once_on_every_handle_while_another_connection_holds_the_write_lock),
        cmocka_unit_test(
            a_batch_that_cannot_get_the_write_lock_answers_503_storage_busy_with_retry_after),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
