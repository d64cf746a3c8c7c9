/* The feed page packed straight from the decoded-record cache (sync/feed.c feed_pull_packed,
 * sync/batch.c batch_sync_packed) gives the same bytes as the messages packed: for pages with
 * outfalls, observations and a redirect, for a cache miss and a hit, for replays, for each view. */
#include "fixture.h"

static char ids[8][UUID_STR_LEN + 1];

/* A SyncRequest from phone-a with the given id, device_seq and JSON changes (free_unpacked). */
static Outfall__V1__SyncRequest *make_req(const char *batch_id, int64_t seq, const char *changes) {
    char *json = NULL;
    assert_true(asprintf(&json,
                         "{\"batchId\":\"%s\",\"deviceId\":\"phone-a\",\"deviceSeq\":\"%lld\","
                         "\"since\":\"0\",\"changes\":%s}",
                         batch_id, (long long)seq, changes) > 0);
    ProtobufCMessage *req = NULL;
    char why[256];
    int rc = pbjson_decode(&outfall__v1__sync_request__descriptor, json, strlen(json), &req, why,
                           sizeof why);
    if (rc) fprintf(stderr, "bad test batch: %s\n%s\n", why, json);
    assert_int_equal(rc, 0);
    free(json);
    return (Outfall__V1__SyncRequest *)req;
}

static char *create_change(const char *id, const char *name) {
    char cid[UUID_STR_LEN + 1], *out = NULL;
    util_uuid_new(cid);
    assert_true(asprintf(&out,
                         "{\"changeId\":\"%s\",\"entityId\":\"%s\",\"baseVersion\":\"0\","
                         "\"outfall\":{\"name\":\"%s\",\"type\":\"OUTFALL_TYPE_UNDETERMINED\","
                         "\"riverCode\":\"qinhe\",\"divisionCode\":\"410882\",\"lat\":35.08621,"
                         "\"lon\":112.95124,\"landmark\":\"桥下\",\"responsibleParty\":{\"name\":"
                         "\"某厂\"}}}",
                         cid, id, name) > 0);
    return out;
}

static char *observe_change(const char *id, const char *outfall) {
    char cid[UUID_STR_LEN + 1], *out = NULL;
    util_uuid_new(cid);
    assert_true(asprintf(&out,
                         "{\"changeId\":\"%s\",\"entityId\":\"%s\",\"baseVersion\":\"0\","
                         "\"observation\":{\"outfallId\":\"%s\",\"observedAtMs\":\"1773454925000\","
                         "\"flowing\":true,\"photos\":[{\"hash\":\"247c25790e29dd5bc0a660f775e154eb"
                         "667dc4a0556419662134187b48624359\",\"kind\":\"PHOTO_KIND_NEAR\"}]}}",
                         cid, id, outfall) > 0);
    return out;
}

/* Packs msg, for comparing; *len bytes, malloc'd. */
static uint8_t *pack(const ProtobufCMessage *msg, size_t *len) {
    *len = protobuf_c_message_get_packed_size(msg);
    uint8_t *b = malloc(*len ? *len : 1);
    assert_non_null(b);
    protobuf_c_message_pack(msg, b);
    return b;
}

static void assert_same_bytes(const uint8_t *a, size_t na, const uint8_t *b, size_t nb) {
    assert_int_equal(na, nb);
    assert_memory_equal(a, b, na);
}

/* Three outfalls, an observation with a missing photo, an edit, one outfall approved and another
 * merged into it (a redirect in the feed). The feed then holds outfall 3 (version 1), the
 * observation, outfall 0 (version 2, approved 1) and the redirect of outfall 1 to outfall 0. */
static void world(fixture *f) {
    util_uuid_new(ids[0]);
    util_uuid_new(ids[1]);
    util_uuid_new(ids[2]);
    util_uuid_new(ids[3]);
    char *c0 = create_change(ids[0], "沁河一号口"), *c1 = create_change(ids[1], "沁河二号口");
    char *c2 = observe_change(ids[2], ids[0]), *c3 = create_change(ids[3], "沁河三号口");
    char *batch = NULL;
    assert_true(asprintf(&batch, "[%s,%s,%s,%s]", c0, c1, c2, c3) > 0);
    Outfall__V1__SyncResponse *r = fx_sync(f, 0, batch);
    protobuf_c_message_free_unpacked(&r->base, NULL);
    free(c0);
    free(c1);
    free(c2);
    free(c3);
    free(batch);
    char cid[UUID_STR_LEN + 1];
    util_uuid_new(cid);
    assert_true(asprintf(&batch,
                         "[{\"changeId\":\"%s\",\"entityId\":\"%s\",\"baseVersion\":\"1\","
                         "\"outfall\":{\"name\":\"沁河一号排口\"}}]",
                         cid, ids[0]) > 0);
    r = fx_sync(f, 0, batch);
    assert_int_equal(r->results[0]->status, OUTFALL__V1__CHANGE_STATUS__CHANGE_STATUS_APPLIED);
    protobuf_c_message_free_unpacked(&r->base, NULL);
    free(batch);
    char sql[256];
    snprintf(sql, sizeof sql, "UPDATE outfalls SET approved_version = 1 WHERE id = '%s'", ids[0]);
    assert_int_equal(sqlite3_exec(store_db(f->s), sql, NULL, NULL, NULL), SQLITE_OK);
    snprintf(sql, sizeof sql, "UPDATE outfalls SET merged_into = '%s' WHERE id = '%s'", ids[0],
             ids[1]);
    assert_int_equal(sqlite3_exec(store_db(f->s), sql, NULL, NULL, NULL), SQLITE_OK);
    snprintf(sql, sizeof sql, "SELECT rowid FROM outfalls WHERE id = '%s'", ids[1]);
    int64_t rowid = fx_count(f, sql);
    sync_error err = {0};
    assert_int_equal(feed_touch(f->s, "redirect", ids[1], rowid, "410882", &err), 0);
}

/* feed_pull's page packed, and feed_pull_packed's spliced into the same ChangesResponse. */
static void assert_pages_equal(fixture *f, const principal *p, int64_t since, int limit,
                               size_t *entries) {
    sync_error err = {0};
    Outfall__V1__ChangesResponse *page = NULL;
    assert_int_equal(feed_pull(f->s, &f->cfg, p, since, limit, &page, &err), 0);
    size_t na = 0;
    uint8_t *a = pack(&page->base, &na);
    uint8_t *feed = NULL, *b = NULL;
    size_t feed_len = 0, nb = 0;
    int64_t cursor = -1;
    int more = -1;
    assert_int_equal(
        feed_pull_packed(f->s, &f->cfg, p, since, limit, 1, &feed, &feed_len, &cursor, &more, &err),
        0);
    assert_int_equal(cursor, page->next_cursor);
    assert_int_equal(more, page->more);
    Outfall__V1__ChangesResponse empty = OUTFALL__V1__CHANGES_RESPONSE__INIT;
    empty.has_next_cursor = empty.has_more = 1;
    empty.next_cursor = cursor;
    empty.more = more;
    assert_int_equal(feed_pack_spliced(&empty.base, 1, feed, feed_len, &b, &nb), 0);
    assert_same_bytes(a, na, b, nb);
    if (entries) *entries = page->n_feed;
    free(a);
    free(b);
    free(feed);
    protobuf_c_message_free_unpacked(&page->base, NULL);
}

static void packed_page_equals_the_messages_packed(void **state) {
    fixture *f = *state;
    world(f);
    size_t n = 0;
    /* First packed (records decoded from JSON), then the messages, then packed again (hits). */
    assert_pages_equal(f, &f->surveyor, 0, 0, &n);
    assert_int_equal(n, 4); /* outfall, observation, edited outfall, redirect */
    assert_pages_equal(f, &f->surveyor, 0, 0, NULL);
    assert_pages_equal(f, &f->surveyor, 0, 2, &n); /* more follows */
    assert_int_equal(n, 2);
    assert_pages_equal(f, &f->admin, 0, 0, NULL);        /* every division: the list query */
    assert_pages_equal(f, &f->surveyor, 1000000, 0, &n); /* an empty page */
    assert_int_equal(n, 0);
    principal integrator;
    fx_user(f, &integrator, "integrator-a", OUTFALL__V1__ROLE__ROLE_INTEGRATOR, "410882");
    assert_pages_equal(f, &integrator, 0, 0, &n); /* the approved view */
    assert_true(n >= 1);
}

/* The world, and a new batch (its id ids[4]) of the surveyor's phone creating one observation
 * (ids[5]) of outfall ids[0]. */
static Outfall__V1__SyncRequest *one_observation_batch(fixture *f) {
    world(f);
    util_uuid_new(ids[4]);
    util_uuid_new(ids[5]);
    char *c = observe_change(ids[5], ids[0]), *changes = NULL;
    assert_true(asprintf(&changes, "[%s]", c) > 0);
    free(c);
    Outfall__V1__SyncRequest *req = make_req(ids[4], ++f->seq[0], changes);
    free(changes);
    return req;
}

static void packed_sync_answer_equals_the_message_answer_and_replays(void **state) {
    fixture *f = *state;
    Outfall__V1__SyncRequest *req = one_observation_batch(f);
    sync_error err = {0};
    uint8_t *first = NULL, *again = NULL;
    size_t n_first = 0, n_again = 0;
    /* The first send, packed; then its replay through the messages; then packed again. */
    assert_int_equal(batch_sync_packed(f->s, &f->cfg, &f->surveyor, req, &first, &n_first, &err),
                     0);
    Outfall__V1__SyncResponse *resp = NULL;
    assert_int_equal(batch_sync(f->s, &f->cfg, &f->surveyor, req, &resp, &err), 0);
    assert_int_equal(resp->n_feed, 5);
    assert_int_equal(resp->n_missing_photos, 1);
    size_t n_msg = 0;
    uint8_t *msg = pack(&resp->base, &n_msg);
    assert_same_bytes(first, n_first, msg, n_msg);
    assert_int_equal(batch_sync_packed(f->s, &f->cfg, &f->surveyor, req, &again, &n_again, &err),
                     0);
    assert_same_bytes(first, n_first, again, n_again);
    /* And the bytes read back as the answer. */
    Outfall__V1__SyncResponse *back = outfall__v1__sync_response__unpack(NULL, n_first, first);
    assert_non_null(back);
    assert_int_equal(back->n_feed, 5);
    int seen = 0;
    for (size_t i = 0; i < back->n_feed; i++) {
        const Outfall__V1__FeedEntry *e = back->feed[i];
        if (e->entry_case == OUTFALL__V1__FEED_ENTRY__ENTRY_OUTFALL &&
            strcmp(e->outfall->id, ids[3]) == 0) {
            assert_int_equal(e->outfall->approved_version, 0);
            assert_int_equal(e->outfall->latest_version, 1);
            seen |= 1;
        } else if (e->entry_case == OUTFALL__V1__FEED_ENTRY__ENTRY_OUTFALL) {
            assert_string_equal(e->outfall->id, ids[0]);
            assert_int_equal(e->outfall->approved_version, 1);
            assert_int_equal(e->outfall->latest_version, 2);
            seen |= 2;
        } else if (e->entry_case == OUTFALL__V1__FEED_ENTRY__ENTRY_REDIRECT) {
            assert_string_equal(e->redirect->from_id, ids[1]);
            assert_string_equal(e->redirect->to_id, ids[0]);
            seen |= 4;
        } else {
            assert_int_equal(e->entry_case, OUTFALL__V1__FEED_ENTRY__ENTRY_OBSERVATION);
            seen |= strcmp(e->observation->id, ids[5]) == 0 ? 8 : 16;
        }
    }
    assert_int_equal(seen, 31);
    protobuf_c_message_free_unpacked(&back->base, NULL);
    protobuf_c_message_free_unpacked(&resp->base, NULL);
    protobuf_c_message_free_unpacked(&req->base, NULL);
    free(first);
    free(again);
    free(msg);
}

/* The engine keys each record's one feed row by its table and rowid (migration 0028): the
 * outfalls', the observation's and the redirect's rows each name the record of their entity_id,
 * and an edit moved the outfall's row rather than adding one. */
static void every_feed_row_names_its_record_by_table_and_rowid(void **state) {
    fixture *f = *state;
    world(f);
    assert_int_equal(fx_count(f, "SELECT count(*) FROM feed"), 4);
    assert_int_equal(fx_count(f, "SELECT count(*) FROM feed f WHERE CASE f.entity_table WHEN 0 "
                                 "THEN (SELECT id FROM outfalls WHERE rowid = f.entity_rowid) "
                                 "ELSE (SELECT id FROM observations WHERE rowid = "
                                 "f.entity_rowid) END = f.entity_id AND f.entity_table = "
                                 "(f.kind = 'observation')"),
                     4);
}

/* A replay's protobuf answer is the stored answer's bytes with the page and the horizon after
 * them, not unpacked and packed again; an answer stored with fields after the feed (as an older
 * version could have kept it) is still answered as its message packed, each field once. */
static void replayed_answer_stored_with_later_fields_is_answered_as_its_message(void **state) {
    fixture *f = *state;
    Outfall__V1__SyncRequest *req = one_observation_batch(f);
    sync_error err = {0};
    uint8_t *first = NULL, *again = NULL, *msg = NULL;
    size_t n_first = 0, n_again = 0, n_msg = 0;
    assert_int_equal(batch_sync_packed(f->s, &f->cfg, &f->surveyor, req, &first, &n_first, &err),
                     0);
    /* The stored answer rewritten with a cursor, a horizon and a feed entry of its own. */
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(store_db(f->s),
                                        "SELECT response FROM batches WHERE batch_id = ?", -1, &st,
                                        NULL),
                     SQLITE_OK);
    sqlite3_bind_text(st, 1, ids[4], -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    Outfall__V1__SyncResponse *stored = outfall__v1__sync_response__unpack(
        NULL, (size_t)sqlite3_column_bytes(st, 0), sqlite3_column_blob(st, 0));
    sqlite3_finalize(st);
    assert_non_null(stored);
    assert_int_equal(stored->n_feed, 0);
    Outfall__V1__FeedEntry entry = OUTFALL__V1__FEED_ENTRY__INIT;
    Outfall__V1__FeedEntry *entries[] = {&entry};
    entry.has_seq = 1;
    entry.seq = 999;
    stored->n_feed = 1;
    stored->feed = entries;
    stored->has_next_cursor = stored->has_acknowledged_seq = 1;
    stored->next_cursor = 12345;
    stored->acknowledged_seq = 54321;
    size_t n_old = 0;
    uint8_t *old = pack(&stored->base, &n_old);
    stored->n_feed = 0;
    stored->feed = NULL;
    protobuf_c_message_free_unpacked(&stored->base, NULL);
    assert_int_equal(sqlite3_prepare_v2(store_db(f->s),
                                        "UPDATE batches SET response = ? WHERE batch_id = ?", -1,
                                        &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_blob(st, 1, old, (int)n_old, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, ids[4], -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
    free(old);
    /* Answered through the messages and packed: the page and horizon replace the stored ones. */
    Outfall__V1__SyncResponse *resp = NULL;
    assert_int_equal(batch_sync(f->s, &f->cfg, &f->surveyor, req, &resp, &err), 0);
    assert_int_equal(resp->n_feed, 5);
    assert_int_not_equal(resp->next_cursor, 12345);
    msg = pack(&resp->base, &n_msg);
    assert_int_equal(batch_sync_packed(f->s, &f->cfg, &f->surveyor, req, &again, &n_again, &err),
                     0);
    assert_same_bytes(msg, n_msg, again, n_again);
    assert_same_bytes(first, n_first, again, n_again);
    protobuf_c_message_free_unpacked(&resp->base, NULL);
    protobuf_c_message_free_unpacked(&req->base, NULL);
    free(first);
    free(again);
    free(msg);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(packed_page_equals_the_messages_packed, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(packed_sync_answer_equals_the_message_answer_and_replays,
                                        fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(every_feed_row_names_its_record_by_table_and_rowid,
                                        fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(
            replayed_answer_stored_with_later_fields_is_answered_as_its_message, fx_setup,
            fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
