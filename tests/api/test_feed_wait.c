/* Following the change feed without polling (issue 21.5): GET /v1/changes?wait=N answers as soon
 * as a commit brings an entry the caller may see, or after N seconds with an empty page; a write
 * the caller may not see does not end the wait; the wait is bounded (30 s) and a stopping server
 * answers at once. */
#include <pthread.h>
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

#define DIV_A "410882"
#define DIV_B "410883"

static th_server srv;
static th_user follower, surveyor_a, surveyor_b;
static th_device dev_a, dev_b;

/* A long poll run on its own thread: the request's path, and its answer. */
typedef struct poll_call {
    char path[160];
    long status;
    int64_t took_ms, done_ms; /* how long it took; when it was answered (monotonic) */
    th_xresult x;
} poll_call;

static void *poll_run(void *arg) {
    poll_call *p = arg;
    const char *headers[] = {"Accept: application/json", NULL};
    th_xfer x = {.method = "GET", .path = p->path, .token = follower.token, .headers = headers};
    int64_t start = util_monotonic_ms();
    p->status = th_xfer_run(&srv, &x, &p->x);
    p->done_ms = util_monotonic_ms();
    p->took_ms = p->done_ms - start;
    return NULL;
}

/* The feed's cursor now, as the follower sees it. */
static int64_t cursor_now(void) {
    Outfall__V1__ChangesResponse *c = NULL;
    th_error e;
    int64_t since = 0;
    for (;;) {
        assert_int_equal(th_pull(&srv, follower.token, since, 500, &c, &e), 200);
        since = c->next_cursor;
        int more = c->more;
        outfall__v1__changes_response__free_unpacked(c, NULL);
        if (!more) return since;
    }
}

/* A new outfall by u's phone d in division. */
static void create_outfall(th_user *u, th_device *d, const char *division) {
    double lat, lon;
    th_spot(&lat, &lon);
    th_batch *b = th_batch_new(d);
    Outfall__V1__Outfall *o = th_outfall_create(b, "danhe", division, lat, lon);
    o->name = "跟随变更的排口";
    Outfall__V1__SyncResponse *resp = th_sync_ok(&srv, u->token, b, TH_PB);
    assert_non_null(resp);
    outfall__v1__sync_response__free_unpacked(resp, NULL);
    th_batch_free(b);
}

static void a_waiting_follower_gets_a_new_entry_at_once(void **state) {
    (void)state;
    poll_call p = {0};
    snprintf(p.path, sizeof p.path, "/v1/changes?since=%lld&wait=20", (long long)cursor_now());
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, poll_run, &p), 0);
    usleep(500 * 1000);
    int64_t wrote = util_monotonic_ms();
    create_outfall(&surveyor_a, &dev_a, DIV_A);
    pthread_join(t, NULL);
    assert_int_equal(p.status, 200);
    int64_t after_write = p.done_ms - wrote;
    print_message("answered %lld ms after the write (request took %lld ms)\n",
                  (long long)after_write, (long long)p.took_ms);
    assert_true(p.took_ms < 10000); /* not at the limit: the commit woke it */
    assert_non_null(strstr((const char *)p.x.r.body, "跟随变更的排口"));
    th_response_free(&p.x.r);
}

static void an_entry_the_caller_may_not_see_does_not_end_the_wait(void **state) {
    (void)state;
    poll_call p = {0};
    snprintf(p.path, sizeof p.path, "/v1/changes?since=%lld&wait=2", (long long)cursor_now());
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, poll_run, &p), 0);
    usleep(300 * 1000);
    create_outfall(&surveyor_b, &dev_b, DIV_B); /* the follower reads division A only */
    pthread_join(t, NULL);
    assert_int_equal(p.status, 200);
    assert_true(p.took_ms >= 1900);
    assert_null(strstr((const char *)p.x.r.body, "跟随变更的排口"));
    th_response_free(&p.x.r);
}

static void nothing_new_answers_an_empty_page_after_the_wait_and_the_wait_is_bounded(void **state) {
    (void)state;
    poll_call p = {0};
    snprintf(p.path, sizeof p.path, "/v1/changes?since=%lld&wait=1", (long long)cursor_now());
    poll_run(&p);
    assert_int_equal(p.status, 200);
    assert_true(p.took_ms >= 900 && p.took_ms < 5000);
    th_response_free(&p.x.r);
    snprintf(p.path, sizeof p.path, "/v1/changes?wait=31");
    poll_run(&p);
    assert_int_equal(p.status, 400);
    assert_non_null(strstr((const char *)p.x.r.body, "wait"));
    th_response_free(&p.x.r);
    /* without wait= the answer is at once, as before */
    snprintf(p.path, sizeof p.path, "/v1/changes?since=%lld", (long long)cursor_now());
    poll_run(&p);
    assert_int_equal(p.status, 200);
    assert_true(p.took_ms < 3000); /* no wait asked: answered at once (3 s for a loaded machine) */
    th_response_free(&p.x.r);
}

static void a_stopping_server_answers_its_waiting_followers_at_once(void **state) {
    (void)state;
    poll_call p = {0};
    snprintf(p.path, sizeof p.path, "/v1/changes?since=%lld&wait=30", (long long)cursor_now());
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, poll_run, &p), 0);
    usleep(500 * 1000);
    int64_t start = util_monotonic_ms();
    assert_int_equal(th_server_stop(&srv), 0);
    int64_t stopped = util_monotonic_ms() - start;
    pthread_join(t, NULL);
    print_message("stopped in %lld ms with a follower waiting\n", (long long)stopped);
    assert_true(stopped < 10000);
    assert_int_equal(p.status, 200);
    th_response_free(&p.x.r);
}

static int group_setup(void **state) {
    (void)state;
    const char *a[] = {DIV_A, NULL}, *b[] = {DIV_B, NULL};
    if (th_server_start(&srv, NULL) != 0) return -1;
    return th_user_new(&srv, "follow-sup", TH_ROLE(SUPERVISOR), a, &follower) ||
           th_user_new(&srv, "follow-surv-a", TH_ROLE(SURVEYOR), a, &surveyor_a) ||
           th_user_new(&srv, "follow-surv-b", TH_ROLE(SURVEYOR), b, &surveyor_b) ||
           th_device_new(&srv, surveyor_a.token, &dev_a) ||
           th_device_new(&srv, surveyor_b.token, &dev_b);
}

static int group_teardown(void **state) {
    (void)state;
    return 0; /* the last test stops the server */
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_waiting_follower_gets_a_new_entry_at_once),
        cmocka_unit_test(an_entry_the_caller_may_not_see_does_not_end_the_wait),
        cmocka_unit_test(nothing_new_answers_an_empty_page_after_the_wait_and_the_wait_is_bounded),
        cmocka_unit_test(a_stopping_server_answers_its_waiting_followers_at_once),
    };
    return cmocka_run_group_tests_name("feed wait", tests, group_setup, group_teardown);
}
