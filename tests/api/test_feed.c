/* The change feed (since, limit, next_cursor, more; one entry per record, moved on each change)
 * and the outfall list (filters, page tokens). */
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

#define FEED_DIV "410890" /* only the feed tests write here */
#define N_FEED 5

static th_server srv;
static th_user feeder, lister;
static th_device dfeed, dlist;
static char feed_ids[N_FEED][37];
static int64_t feed_end; /* the cursor after the last entry, once known */

static const char *entry_id(const Outfall__V1__FeedEntry *e) {
    if (e->entry_case == OUTFALL__V1__FEED_ENTRY__ENTRY_OUTFALL) return e->outfall->id;
    if (e->entry_case == OUTFALL__V1__FEED_ENTRY__ENTRY_OBSERVATION) return e->observation->id;
    return NULL;
}

static Outfall__V1__ChangesResponse *pull(int64_t since, int limit) {
    Outfall__V1__ChangesResponse *c = NULL;
    th_error e;
    long st = th_pull(&srv, feeder.token, since, limit, &c, &e);
    if (st != 200) print_message("pull since=%lld: %ld %s\n", (long long)since, st, e.code);
    assert_int_equal(st, 200);
    assert_non_null(c);
    return c;
}

/* Sends b as u, asserting every change is status. */
static void sync_all(th_user *u, th_batch *b, const char *status) {
    Outfall__V1__SyncResponse *resp = th_sync_ok(&srv, u->token, b, TH_PB);
    assert_non_null(resp);
    assert_int_equal(resp->n_results, th_batch_req(b)->n_changes);
    for (size_t i = 0; i < resp->n_results; i++)
        assert_string_equal(th_status_name(resp->results[i]->status), status);
    outfall__v1__sync_response__free_unpacked(resp, NULL);
    th_batch_free(b);
}

static void feed_pages_with_since_limit_next_cursor_and_more(void **state) {
    (void)state;
    const size_t sizes[] = {2, 2, 1};
    int seen[N_FEED] = {0};
    int64_t since = 0, last_seq = 0;
    for (int page = 0; page < 3; page++) {
        Outfall__V1__ChangesResponse *c = pull(since, 2);
        assert_int_equal(c->n_feed, sizes[page]);
        assert_int_equal(c->more, page < 2);
        for (size_t i = 0; i < c->n_feed; i++) {
            assert_true(c->feed[i]->seq > since);
            assert_true(c->feed[i]->seq > last_seq);
            last_seq = c->feed[i]->seq;
            for (int k = 0; k < N_FEED; k++)
                seen[k] += strcmp(TH_S(entry_id(c->feed[i])), feed_ids[k]) == 0;
        }
        assert_int_equal(c->next_cursor, last_seq);
        since = c->next_cursor;
        outfall__v1__changes_response__free_unpacked(c, NULL);
    }
    for (int k = 0; k < N_FEED; k++)
        assert_int_equal(seen[k], 1);
    feed_end = since;
}

static void empty_page_keeps_the_cursor(void **state) {
    (void)state;
    assert_true(feed_end > 0);
    Outfall__V1__ChangesResponse *c = pull(feed_end, 10);
    assert_int_equal(c->n_feed, 0);
    assert_false(c->more);
    assert_true(c->next_cursor >= feed_end);
    outfall__v1__changes_response__free_unpacked(c, NULL);
}

static void edited_record_moves_to_the_end_of_the_feed_in_full(void **state) {
    (void)state;
    th_batch *b = th_batch_new(&dfeed);
    th_outfall_edit(b, feed_ids[0], 1)->landmark = "moved to the end";
    sync_all(&feeder, b, "APPLIED");

    Outfall__V1__ChangesResponse *c = pull(feed_end, 10);
    assert_int_equal(c->n_feed, 1);
    const Outfall__V1__FeedEntry *e = c->feed[0];
    assert_int_equal(e->entry_case, OUTFALL__V1__FEED_ENTRY__ENTRY_OUTFALL);
    /* the full current record, not just the field that changed */
    assert_string_equal(TH_S(e->outfall->id), feed_ids[0]);
    assert_int_equal(e->outfall->version, 2);
    assert_string_equal(TH_S(e->outfall->landmark), "moved to the end");
    assert_string_equal(TH_S(e->outfall->river_code), "weihe");
    assert_string_equal(TH_S(e->outfall->division_code), FEED_DIV);
    assert_true(e->outfall->has_lat && e->outfall->has_lon);
    assert_int_equal(e->outfall->review_state, OUTFALL__V1__REVIEW_STATE__REVIEW_STATE_PENDING);
    outfall__v1__changes_response__free_unpacked(c, NULL);

    c = pull(0, 100); /* one entry per record: the edited one only at its new place */
    assert_int_equal(c->n_feed, N_FEED);
    assert_string_equal(TH_S(entry_id(c->feed[N_FEED - 1])), feed_ids[0]);
    for (size_t i = 0; i + 1 < N_FEED; i++)
        assert_string_not_equal(TH_S(entry_id(c->feed[i])), feed_ids[0]);
    outfall__v1__changes_response__free_unpacked(c, NULL);
}

static void sync_answer_carries_a_feed_page_after_since(void **state) {
    (void)state;
    th_batch *b = th_batch_new(&dfeed);
    th_outfall_create(b, "weihe", FEED_DIV, 35.45, 113.6);
    th_batch_req(b)->since = 0;
    th_batch_req(b)->has_pull_limit = 1;
    th_batch_req(b)->pull_limit = 2;
    Outfall__V1__SyncResponse *resp = th_sync_ok(&srv, feeder.token, b, TH_PB);
    th_batch_free(b);
    assert_non_null(resp);
    assert_int_equal(resp->n_feed, 2);
    assert_true(resp->more);
    assert_true(resp->feed[0]->seq < resp->feed[1]->seq);
    assert_int_equal(resp->next_cursor, resp->feed[1]->seq);
    int64_t cursor = resp->next_cursor;
    outfall__v1__sync_response__free_unpacked(resp, NULL);

    /* The rest comes from the cursor: the other records and the one just created. */
    Outfall__V1__ChangesResponse *c = pull(cursor, 100);
    assert_int_equal(c->n_feed, N_FEED + 1 - 2);
    assert_false(c->more);
    outfall__v1__changes_response__free_unpacked(c, NULL);
}

static void bad_feed_parameters_are_invalid_argument(void **state) {
    (void)state;
    const char *paths[] = {"/v1/changes?since=-1", "/v1/changes?since=abc", "/v1/changes?limit=-5",
                           "/v1/outfalls?review_state=LOST", "/v1/outfalls?limit=ten"};
    for (size_t i = 0; i < sizeof paths / sizeof *paths; i++) {
        th_error e;
        long st = th_call(&srv, "GET", paths[i], feeder.token, TH_PB, NULL, NULL, NULL, &e);
        if (st != 400) print_message("%s: %ld %s\n", paths[i], st, e.code);
        assert_int_equal(st, 400);
        assert_string_equal(e.code, "invalid_argument");
    }
}

/* The ids of the outfalls lister sees for query, across pages of `limit`. */
static size_t list_all(const char *query, int limit, char ids[][37], size_t cap, int *pages) {
    char q[512], token[256] = "";
    size_t n = 0;
    *pages = 0;
    do {
        snprintf(q, sizeof q, "%s&limit=%d%s%s", query, limit, token[0] ? "&page_token=" : "",
                 token);
        Outfall__V1__OutfallList *l = NULL;
        assert_int_equal(th_list_outfalls(&srv, lister.token, q, &l, NULL), 200);
        assert_true(l->n_outfalls <= (size_t)limit);
        for (size_t i = 0; i < l->n_outfalls && n < cap; i++)
            util_strlcpy(ids[n++], TH_S(l->outfalls[i]->id), 37);
        util_strlcpy(token, l->next_page_token ? l->next_page_token : "", sizeof token);
        outfall__v1__outfall_list__free_unpacked(l, NULL);
        ++*pages;
    } while (token[0] && *pages < 50);
    return n;
}

static void list_filters_by_river_division_and_review_state(void **state) {
    (void)state;
    char ids[16][37];
    int pages;
    assert_int_equal(list_all("river=danhe", 100, ids, 16, &pages), 2);
    assert_int_equal(list_all("river=weihe&division=410883", 100, ids, 16, &pages), 3);
    assert_int_equal(list_all("division=410882", 100, ids, 16, &pages), 1);
    assert_int_equal(
        list_all("division=410883&review_state=REVIEW_STATE_PENDING", 100, ids, 16, &pages), 5);
    assert_int_equal(list_all("review_state=REVIEW_STATE_APPROVED", 100, ids, 16, &pages), 0);
}

static void list_pages_with_page_token(void **state) {
    (void)state;
    char ids[16][37];
    int pages;
    size_t n = list_all("division=410883", 2, ids, 16, &pages);
    assert_int_equal(n, 5);
    assert_int_equal(pages, 3);
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            assert_string_not_equal(ids[i], ids[j]);
}

/* A protobuf feed page is spliced from packed records (sync/feed.c feed_pull_packed); it must
 * be the bytes the messages pack to: the JSON answer of the same page, decoded and packed. */
static void protobuf_page_is_the_json_page_packed(void **state) {
    (void)state;
    const char *tokens[] = {feeder.token, lister.token}; /* one division; two */
    const char *paths[] = {"/v1/changes?since=0", "/v1/changes?since=0&limit=3"};
    for (int t = 0; t < 2; t++) {
        for (int i = 0; i < 2; i++) {
            th_response pb, js;
            th_request rq = {
                .method = "GET", .path = paths[i], .accept = TH_PB, .token = tokens[t]};
            assert_int_equal(th_http(&srv, &rq, &pb), 200);
            rq.accept = TH_JSON;
            assert_int_equal(th_http(&srv, &rq, &js), 200);
            ProtobufCMessage *m = NULL;
            char why[200];
            assert_int_equal(pbjson_decode(&outfall__v1__changes_response__descriptor,
                                           (const char *)js.body, js.len, &m, why, sizeof why),
                             0);
            assert_true(((Outfall__V1__ChangesResponse *)m)->n_feed > 0);
            size_t n = protobuf_c_message_get_packed_size(m);
            uint8_t *b = malloc(n ? n : 1);
            assert_non_null(b);
            protobuf_c_message_pack(m, b);
            assert_int_equal(pb.len, n);
            assert_memory_equal(pb.body, b, n);
            free(b);
            protobuf_c_message_free_unpacked(m, NULL);
            th_response_free(&pb);
            th_response_free(&js);
        }
    }
}

static int group_setup(void **state) {
    (void)state;
    if (th_server_start(&srv, NULL) != 0) return -1;
    if (th_user_new(&srv, "feeder", TH_ROLE(SURVEYOR), (const char *const[]){FEED_DIV, NULL},
                    &feeder) != 0 ||
        th_user_new(&srv, "lister", TH_ROLE(SURVEYOR),
                    (const char *const[]){"410883", "410882", NULL}, &lister) != 0 ||
        th_device_new(&srv, feeder.token, &dfeed) != 0 ||
        th_device_new(&srv, lister.token, &dlist) != 0)
        return -1;
    th_batch *b = th_batch_new(&dfeed);
    for (int i = 0; i < N_FEED; i++) {
        double lat, lon;
        th_spot(&lat, &lon);
        th_outfall_create(b, "weihe", FEED_DIV, lat, lon);
        util_strlcpy(feed_ids[i], th_batch_entity(b, (size_t)i), 37);
    }
    Outfall__V1__SyncResponse *resp = th_sync_ok(&srv, feeder.token, b, TH_PB);
    th_batch_free(b);
    if (!resp) return -1;
    outfall__v1__sync_response__free_unpacked(resp, NULL);

    const struct {
        const char *river, *division;
    } lists[] = {{"weihe", "410883"}, {"weihe", "410883"}, {"weihe", "410883"},
                 {"danhe", "410883"}, {"danhe", "410883"}, {"weihe", "410882"}};
    b = th_batch_new(&dlist);
    for (size_t i = 0; i < sizeof lists / sizeof *lists; i++) {
        double lat, lon;
        th_spot(&lat, &lon);
        th_outfall_create(b, lists[i].river, lists[i].division, lat, lon);
    }
    resp = th_sync_ok(&srv, lister.token, b, TH_PB);
    th_batch_free(b);
    if (!resp) return -1;
    outfall__v1__sync_response__free_unpacked(resp, NULL);
    return 0;
}

static int group_teardown(void **state) {
    (void)state;
    return th_server_stop(&srv);
}

int main(void) {
    /* In this order: each feed test starts where the one before it left the feed. */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(feed_pages_with_since_limit_next_cursor_and_more),
        cmocka_unit_test(empty_page_keeps_the_cursor),
        cmocka_unit_test(edited_record_moves_to_the_end_of_the_feed_in_full),
        cmocka_unit_test(sync_answer_carries_a_feed_page_after_since),
        cmocka_unit_test(bad_feed_parameters_are_invalid_argument),
        cmocka_unit_test(list_filters_by_river_division_and_review_state),
        cmocka_unit_test(list_pages_with_page_token),
        cmocka_unit_test(protobuf_page_is_the_json_page_packed),
    };
    return cmocka_run_group_tests_name("feed and lists", tests, group_setup, group_teardown);
}
