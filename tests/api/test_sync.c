/* Every row of docs/sync.md's protocol table, through the real server over HTTP: creates,
 * duplicate suspects, fast-forward, merge, conflict, same-device edits, replays, photos pending
 * and atomicity. Held batches are in test_held.c, the bad inputs in test_bad_input.c. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/util.h"
#include "tests/lib/harness.h"

#define DIV "410802"

static th_server srv;
static th_user alice, bob, carol; /* surveyors of DIV */
static th_device dev_a, dev_b, dev_c;

/* Sends b as u, frees b, and hands back the response, asserting one result per change. */
static Outfall__V1__SyncResponse *sync_as(th_user *u, th_batch *b) {
    size_t n = th_batch_req(b)->n_changes;
    Outfall__V1__SyncResponse *resp = th_sync_ok(&srv, u->token, b, TH_PB);
    assert_non_null(resp);
    assert_int_equal(resp->n_results, n);
    for (size_t i = 0; i < n; i++)
        assert_string_equal(TH_S(resp->results[i]->change_id), th_batch_change_id(b, i));
    th_batch_free(b);
    return resp;
}

static void expect(const Outfall__V1__ChangeResult *r, const char *status, int64_t version) {
    if (r->reason) print_message("result reason: %s %s\n", r->reason, TH_S(r->message));
    assert_string_equal(th_status_name(r->status), status);
    if (version) assert_int_equal(r->version, version);
}

static Outfall__V1__Outfall *get(const char *id) {
    Outfall__V1__Outfall *o = NULL;
    th_error e;
    long st = th_get_outfall(&srv, th_admin_token(&srv), id, &o, &e);
    if (st != 200) print_message("GET /v1/outfalls/%s: %ld %s %s\n", id, st, e.code, e.message);
    assert_int_equal(st, 200);
    assert_non_null(o);
    return o;
}

static void gone(const char *id) {
    th_error e;
    assert_int_equal(th_get_outfall(&srv, th_admin_token(&srv), id, NULL, &e), 404);
    assert_string_equal(e.code, "not_found");
}

/* Creates an outfall on river at (lat, lon) as u via d, with a landmark; id gets its id. */
static void seed_at(th_user *u, th_device *d, const char *river, double lat, double lon,
                    const char *landmark, char id[37]) {
    th_batch *b = th_batch_new(d);
    Outfall__V1__Outfall *o = th_outfall_create(b, river, DIV, lat, lon);
    o->landmark = (char *)landmark;
    util_strlcpy(id, th_batch_entity(b, 0), 37);
    Outfall__V1__SyncResponse *resp = sync_as(u, b);
    expect(resp->results[0], "APPLIED", 1);
    outfall__v1__sync_response__free_unpacked(resp, NULL);
}

static void seed(th_user *u, th_device *d, const char *landmark, char id[37]) {
    double lat, lon;
    th_spot(&lat, &lon);
    seed_at(u, d, "qinhe", lat, lon, landmark, id);
}

/* An edit of one string field of id at base, as u via d; returns the result's status name. */
static void edit_landmark(th_user *u, th_device *d, const char *id, int64_t base, const char *v,
                          const char *status, int64_t version) {
    th_batch *b = th_batch_new(d);
    th_outfall_edit(b, id, base)->landmark = (char *)v;
    Outfall__V1__SyncResponse *resp = sync_as(u, b);
    expect(resp->results[0], status, version);
    outfall__v1__sync_response__free_unpacked(resp, NULL);
}

static void create_is_applied_at_version_1_pending_review(void **state) {
    (void)state;
    double lat, lon;
    th_spot(&lat, &lon);
    th_batch *b = th_batch_new(&dev_a);
    Outfall__V1__Outfall *o = th_outfall_create(b, "qinhe", DIV, lat, lon);
    o->name = "沁河左岸排口";
    o->has_type = 1;
    o->type = OUTFALL__V1__OUTFALL_TYPE__OUTFALL_TYPE_RURAL_SEWAGE_SCATTERED;
    o->has_entry_method = 1;
    o->entry_method = OUTFALL__V1__ENTRY_METHOD__ENTRY_METHOD_PIPE;
    char id[37];
    util_strlcpy(id, th_batch_entity(b, 0), sizeof id);
    Outfall__V1__SyncResponse *resp = sync_as(&alice, b);
    expect(resp->results[0], "APPLIED", 1);
    assert_string_equal(TH_S(resp->results[0]->entity_id), id);
    outfall__v1__sync_response__free_unpacked(resp, NULL);

    Outfall__V1__Outfall *got = get(id);
    assert_string_equal(TH_S(got->id), id);
    assert_int_equal(got->version, 1);
    assert_int_equal(got->review_state, OUTFALL__V1__REVIEW_STATE__REVIEW_STATE_PENDING);
    assert_string_equal(TH_S(got->name), "沁河左岸排口");
    assert_string_equal(TH_S(got->river_code), "qinhe");
    assert_string_equal(TH_S(got->division_code), DIV);
    assert_int_equal(got->type, OUTFALL__V1__OUTFALL_TYPE__OUTFALL_TYPE_RURAL_SEWAGE_SCATTERED);
    assert_int_equal(got->entry_method, OUTFALL__V1__ENTRY_METHOD__ENTRY_METHOD_PIPE);
    assert_true(fabs(got->lat - lat) < 1e-9 && fabs(got->lon - lon) < 1e-9);
    assert_false(th_has(got->flags, got->n_flags, "duplicate_suspect"));
    outfall__v1__outfall__free_unpacked(got, NULL);
}

/* Creates a first outfall on qinhe, then one dlat degrees north of it on river2; returns the
 * second's result via *resp and both ids. */
static const Outfall__V1__ChangeResult *neighbour(const char *river2, double dlat, char first[37],
                                                  char second[37],
                                                  Outfall__V1__SyncResponse **resp) {
    double lat, lon;
    th_spot(&lat, &lon);
    seed_at(&alice, &dev_a, "qinhe", lat, lon, "first", first);
    th_batch *b = th_batch_new(&dev_b);
    th_outfall_create(b, river2, DIV, lat + dlat, lon);
    util_strlcpy(second, th_batch_entity(b, 0), 37);
    *resp = sync_as(&bob, b);
    return (*resp)->results[0];
}

static void create_within_30m_on_same_river_is_duplicate_suspect(void **state) {
    (void)state;
    char first[37], second[37];
    Outfall__V1__SyncResponse *resp;
    const Outfall__V1__ChangeResult *r =
        neighbour("qinhe", 0.00018 /* 20 m */, first, second, &resp);
    expect(r, "DUPLICATE_SUSPECT", 1);
    assert_string_equal(TH_S(r->duplicate_of), first);
    outfall__v1__sync_response__free_unpacked(resp, NULL);
    Outfall__V1__Outfall *got = get(second); /* stored, flagged, queued for review */
    assert_true(th_has(got->flags, got->n_flags, "duplicate_suspect"));
    assert_int_equal(got->review_state, OUTFALL__V1__REVIEW_STATE__REVIEW_STATE_PENDING);
    outfall__v1__outfall__free_unpacked(got, NULL);
}

static void create_within_30m_on_another_river_is_applied(void **state) {
    (void)state;
    char first[37], second[37];
    Outfall__V1__SyncResponse *resp;
    const Outfall__V1__ChangeResult *r =
        neighbour("manghe", 0.00009 /* 10 m */, first, second, &resp);
    expect(r, "APPLIED", 1);
    assert_true(r->duplicate_of == NULL || r->duplicate_of[0] == '\0');
    outfall__v1__sync_response__free_unpacked(resp, NULL);
    Outfall__V1__Outfall *got = get(second);
    assert_false(th_has(got->flags, got->n_flags, "duplicate_suspect"));
    outfall__v1__outfall__free_unpacked(got, NULL);
}

static void create_100m_away_on_same_river_is_applied(void **state) {
    (void)state;
    char first[37], second[37];
    Outfall__V1__SyncResponse *resp;
    const Outfall__V1__ChangeResult *r =
        neighbour("qinhe", 0.0009 /* 100 m */, first, second, &resp);
    expect(r, "APPLIED", 1);
    assert_true(r->duplicate_of == NULL || r->duplicate_of[0] == '\0');
    outfall__v1__sync_response__free_unpacked(resp, NULL);
}

static void edit_on_current_base_fast_forwards(void **state) {
    (void)state;
    char id[37];
    seed(&alice, &dev_a, "old bridge", id);
    edit_landmark(&bob, &dev_b, id, 1, "new bridge", "APPLIED", 2);
    Outfall__V1__Outfall *got = get(id);
    assert_int_equal(got->version, 2);
    assert_string_equal(TH_S(got->landmark), "new bridge");
    assert_string_equal(TH_S(got->river_code), "qinhe"); /* untouched fields stay */
    outfall__v1__outfall__free_unpacked(got, NULL);
}

static void create_then_edit_in_one_batch_apply_in_order(void **state) {
    (void)state;
    double lat, lon;
    th_spot(&lat, &lon);
    th_batch *b = th_batch_new(&dev_a);
    th_outfall_create(b, "qinhe", DIV, lat, lon)->landmark = "first";
    char id[37];
    util_strlcpy(id, th_batch_entity(b, 0), sizeof id);
    th_outfall_edit(b, id, 1)->landmark = "second";
    Outfall__V1__SyncResponse *resp = sync_as(&alice, b);
    expect(resp->results[0], "APPLIED", 1);
    expect(resp->results[1], "APPLIED", 2);
    outfall__v1__sync_response__free_unpacked(resp, NULL);
    Outfall__V1__Outfall *got = get(id);
    assert_string_equal(TH_S(got->landmark), "second");
    outfall__v1__outfall__free_unpacked(got, NULL);
}

static void edit_on_stale_base_merges_untouched_fields(void **state) {
    (void)state;
    char id[37];
    seed(&alice, &dev_a, "mill", id);
    edit_landmark(&bob, &dev_b, id, 1, "old mill", "APPLIED", 2);
    th_batch *b = th_batch_new(&dev_c); /* carol still has version 1 */
    th_outfall_edit(b, id, 1)->name = "carol's name";
    Outfall__V1__SyncResponse *resp = sync_as(&carol, b);
    expect(resp->results[0], "MERGED", 3);
    assert_int_equal(resp->results[0]->n_conflicts, 0);
    outfall__v1__sync_response__free_unpacked(resp, NULL);
    Outfall__V1__Outfall *got = get(id);
    assert_int_equal(got->version, 3);
    assert_string_equal(TH_S(got->landmark), "old mill"); /* bob's */
    assert_string_equal(TH_S(got->name), "carol's name"); /* carol's */
    outfall__v1__outfall__free_unpacked(got, NULL);
}

static void edit_on_stale_base_to_same_value_merges(void **state) {
    (void)state;
    char id[37];
    seed(&alice, &dev_a, "ford", id);
    edit_landmark(&bob, &dev_b, id, 1, "stone ford", "APPLIED", 2);
    edit_landmark(&carol, &dev_c, id, 1, "stone ford", "MERGED", 0);
    Outfall__V1__Outfall *got = get(id);
    assert_string_equal(TH_S(got->landmark), "stone ford");
    outfall__v1__outfall__free_unpacked(got, NULL);
}

static void edit_clashing_on_stale_base_keeps_server_value_and_reports_conflict(void **state) {
    (void)state;
    char id[37];
    seed(&alice, &dev_a, "a", id);
    edit_landmark(&bob, &dev_b, id, 1, "b", "APPLIED", 2);
    th_batch *b = th_batch_new(&dev_c);
    Outfall__V1__Outfall *o = th_outfall_edit(b, id, 1);
    o->landmark = "c";
    o->name = "merged name";
    Outfall__V1__SyncResponse *resp = sync_as(&carol, b);
    const Outfall__V1__ChangeResult *r = resp->results[0];
    expect(r, "CONFLICT", 0);
    assert_int_equal(r->n_conflicts, 1);
    assert_string_equal(TH_S(r->conflicts[0]->field), "landmark");
    assert_string_equal(TH_S(r->conflicts[0]->base_value), "\"a\"");
    assert_string_equal(TH_S(r->conflicts[0]->server_value), "\"b\"");
    assert_string_equal(TH_S(r->conflicts[0]->client_value), "\"c\"");
    int64_t version = r->version;
    outfall__v1__sync_response__free_unpacked(resp, NULL);
    Outfall__V1__Outfall *got = get(id);
    assert_string_equal(TH_S(got->landmark), "b");       /* the server value stays */
    assert_string_equal(TH_S(got->name), "merged name"); /* the other field merged */
    assert_int_equal(got->version, 3);
    assert_int_equal(version, 3);
    outfall__v1__outfall__free_unpacked(got, NULL);
}

static void nested_field_conflict_names_its_path(void **state) {
    (void)state;
    double lat, lon;
    th_spot(&lat, &lon);
    th_batch *b = th_batch_new(&dev_a);
    Outfall__V1__ResponsibleParty *p =
        th_outfall_party(b, th_outfall_create(b, "qinhe", DIV, lat, lon));
    p->name = "焦作某厂";
    p->phone = "0391-1111111";
    char id[37];
    util_strlcpy(id, th_batch_entity(b, 0), sizeof id);
    Outfall__V1__SyncResponse *resp = sync_as(&alice, b);
    expect(resp->results[0], "APPLIED", 1);
    outfall__v1__sync_response__free_unpacked(resp, NULL);

    b = th_batch_new(&dev_b);
    th_outfall_party(b, th_outfall_edit(b, id, 1))->phone = "0391-2222222";
    resp = sync_as(&bob, b);
    expect(resp->results[0], "APPLIED", 2);
    outfall__v1__sync_response__free_unpacked(resp, NULL);

    b = th_batch_new(&dev_c);
    p = th_outfall_party(b, th_outfall_edit(b, id, 1));
    p->phone = "0391-3333333";
    p->contact = "王工";
    resp = sync_as(&carol, b);
    const Outfall__V1__ChangeResult *r = resp->results[0];
    expect(r, "CONFLICT", 0);
    assert_int_equal(r->n_conflicts, 1);
    assert_string_equal(TH_S(r->conflicts[0]->field), "responsible_party.phone");
    assert_string_equal(TH_S(r->conflicts[0]->base_value), "\"0391-1111111\"");
    assert_string_equal(TH_S(r->conflicts[0]->server_value), "\"0391-2222222\"");
    assert_string_equal(TH_S(r->conflicts[0]->client_value), "\"0391-3333333\"");
    outfall__v1__sync_response__free_unpacked(resp, NULL);
    Outfall__V1__Outfall *got = get(id);
    assert_non_null(got->responsible_party);
    assert_string_equal(TH_S(got->responsible_party->phone), "0391-2222222");
    assert_string_equal(TH_S(got->responsible_party->contact), "王工");
    assert_string_equal(TH_S(got->responsible_party->name), "焦作某厂");
    outfall__v1__outfall__free_unpacked(got, NULL);
}

static void conflict_on_field_absent_at_base_reports_null(void **state) {
    (void)state;
    char id[37];
    seed(&alice, &dev_a, NULL, id);
    th_batch *b = th_batch_new(&dev_b);
    th_outfall_edit(b, id, 1)->name = "bob's";
    Outfall__V1__SyncResponse *resp = sync_as(&bob, b);
    expect(resp->results[0], "APPLIED", 2);
    outfall__v1__sync_response__free_unpacked(resp, NULL);
    b = th_batch_new(&dev_c);
    th_outfall_edit(b, id, 1)->name = "carol's";
    resp = sync_as(&carol, b);
    const Outfall__V1__ChangeResult *r = resp->results[0];
    expect(r, "CONFLICT", 0);
    assert_int_equal(r->n_conflicts, 1);
    assert_string_equal(TH_S(r->conflicts[0]->field), "name");
    assert_string_equal(TH_S(r->conflicts[0]->base_value), "null");
    assert_string_equal(TH_S(r->conflicts[0]->server_value), "\"bob's\"");
    assert_string_equal(TH_S(r->conflicts[0]->client_value), "\"carol's\"");
    outfall__v1__sync_response__free_unpacked(resp, NULL);
}

static void same_device_earlier_edits_never_conflict(void **state) {
    (void)state;
    char id[37];
    seed(&alice, &dev_a, "v1", id);
    edit_landmark(&alice, &dev_a, id, 1, "alice offline 1", "APPLIED", 2);
    th_batch *b = th_batch_new(&dev_b);
    th_outfall_edit(b, id, 2)->name = "bob's name";
    Outfall__V1__SyncResponse *resp = sync_as(&bob, b);
    expect(resp->results[0], "APPLIED", 3);
    outfall__v1__sync_response__free_unpacked(resp, NULL);
    /* alice's phone still says version 1: only it changed landmark since, so no conflict */
    edit_landmark(&alice, &dev_a, id, 1, "alice offline 2", "MERGED", 4);
    Outfall__V1__Outfall *got = get(id);
    assert_string_equal(TH_S(got->landmark), "alice offline 2");
    assert_string_equal(TH_S(got->name), "bob's name");
    outfall__v1__outfall__free_unpacked(got, NULL);
}

/* Appends to b a create identical, byte for byte, to change 0 of `like`. */
static void copy_create(th_batch *b, th_batch *like, double lat, double lon, const char *mark) {
    Outfall__V1__Outfall *o = th_outfall_create(b, "qinhe", DIV, lat, lon);
    o->landmark = (char *)mark;
    Outfall__V1__Change *c = th_batch_req(b)->changes[0];
    Outfall__V1__Change *orig = th_batch_req(like)->changes[0];
    c->change_id = orig->change_id;
    c->entity_id = orig->entity_id;
    c->client_time_ms = orig->client_time_ms;
}

static void replayed_change_id_in_new_batch_is_already_applied(void **state) {
    (void)state;
    double lat, lon;
    th_spot(&lat, &lon);
    th_batch *first = th_batch_new(&dev_a);
    th_outfall_create(first, "qinhe", DIV, lat, lon)->landmark = "replayed";
    char id[37];
    util_strlcpy(id, th_batch_entity(first, 0), sizeof id);
    Outfall__V1__SyncResponse *resp = th_sync_ok(&srv, alice.token, first, TH_PB);
    assert_non_null(resp);
    expect(resp->results[0], "APPLIED", 1);
    outfall__v1__sync_response__free_unpacked(resp, NULL);
    edit_landmark(&bob, &dev_b, id, 1, "edited since", "APPLIED", 2);

    th_sum before = th_db_checksum(srv.data, TH_STATE);
    th_batch *again = th_batch_new(&dev_a);
    copy_create(again, first, lat, lon, "replayed");
    resp = sync_as(&alice, again);
    const Outfall__V1__ChangeResult *r = resp->results[0];
    expect(r, "ALREADY_APPLIED", 0);
    assert_string_equal(TH_S(r->entity_id), id);
    assert_int_equal(r->version, 1); /* the stored result, not the record's current version */
    outfall__v1__sync_response__free_unpacked(resp, NULL);
    th_batch_free(first);
    th_sum after = th_db_checksum(srv.data, TH_STATE);
    assert_string_equal(before.hex, after.hex);
    Outfall__V1__Outfall *got = get(id);
    assert_int_equal(got->version, 2);
    assert_string_equal(TH_S(got->landmark), "edited since");
    outfall__v1__outfall__free_unpacked(got, NULL);
}

static void replay_batch(const char *enc) {
    double lat, lon;
    th_spot(&lat, &lon);
    th_batch *b = th_batch_new(&dev_a);
    th_outfall_create(b, "qinhe", DIV, lat, lon);
    th_outfall_create(b, "qinhe", DIV, 91.0, lon); /* rejected, answered the same again */
    th_sync_result one, two;
    assert_int_equal(th_sync(&srv, alice.token, b, enc, &one), 200);
    expect(th_result(&one, 0), "APPLIED", 1);
    expect(th_result(&one, 1), "REJECTED", 0);
    th_sum before = th_db_checksum(srv.data, TH_ALL);
    assert_int_equal(th_sync(&srv, alice.token, b, enc, &two), 200);
    th_sum after = th_db_checksum(srv.data, TH_ALL);
    assert_string_equal(one.raw.content_type, two.raw.content_type);
    assert_int_equal(one.raw.len, two.raw.len);
    assert_memory_equal(one.raw.body, two.raw.body, one.raw.len);
    assert_string_equal(before.hex, after.hex);
    th_sync_result_free(&one);
    th_sync_result_free(&two);
    th_batch_free(b);
}

static void replayed_batch_returns_identical_bytes_and_writes_nothing(void **state) {
    (void)state;
    replay_batch(TH_PB);
}

static void replayed_json_batch_returns_identical_bytes_and_writes_nothing(void **state) {
    (void)state;
    replay_batch(TH_JSON);
}

static void observation_naming_unknown_photos_is_flagged_photos_pending(void **state) {
    (void)state;
    char outfall[37], h1[65], h2[65], obs[37];
    seed(&alice, &dev_a, "photo site", outfall);
    util_blake2b_hex(outfall, 10, h1);
    util_blake2b_hex(outfall, 20, h2);
    th_batch *b = th_batch_new(&dev_a);
    Outfall__V1__Observation *o = th_observation_create(b, outfall, 35.1, 113.2);
    o->has_flowing = 1;
    o->flowing = 1;
    o->colour = "grey";
    th_observation_photo(b, o, h1, OUTFALL__V1__PHOTO_KIND__PHOTO_KIND_NEAR);
    th_observation_photo(b, o, h2, OUTFALL__V1__PHOTO_KIND__PHOTO_KIND_FAR);
    util_strlcpy(obs, th_batch_entity(b, 0), sizeof obs);
    Outfall__V1__SyncResponse *resp = sync_as(&alice, b);
    expect(resp->results[0], "APPLIED", 1);
    assert_true(th_has(resp->missing_photos, resp->n_missing_photos, h1));
    assert_true(th_has(resp->missing_photos, resp->n_missing_photos, h2));
    outfall__v1__sync_response__free_unpacked(resp, NULL);

    Outfall__V1__Observation *got = NULL;
    assert_int_equal(th_get_observation(&srv, alice.token, obs, &got, NULL), 200);
    assert_string_equal(TH_S(got->outfall_id), outfall);
    assert_true(th_has(got->flags, got->n_flags, "photos_pending"));
    assert_int_equal(got->n_photos, 2);
    assert_string_equal(TH_S(got->colour), "grey");
    outfall__v1__observation__free_unpacked(got, NULL);
}

static void batch_with_one_rejected_change_applies_the_others(void **state) {
    (void)state;
    double lat, lon;
    th_spot(&lat, &lon);
    th_batch *b = th_batch_new(&dev_a);
    th_outfall_create(b, "qinhe", DIV, lat, lon);
    th_outfall_create(b, "qinhe", DIV, lat + 0.002, 181.0);
    th_outfall_create(b, "danhe", DIV, lat + 0.004, lon);
    char ids[3][37];
    for (size_t i = 0; i < 3; i++)
        util_strlcpy(ids[i], th_batch_entity(b, i), 37);
    Outfall__V1__SyncResponse *resp = sync_as(&alice, b);
    expect(resp->results[0], "APPLIED", 1);
    expect(resp->results[1], "REJECTED", 0);
    assert_string_equal(TH_S(resp->results[1]->reason), "invalid_coordinates");
    expect(resp->results[2], "APPLIED", 1);
    outfall__v1__sync_response__free_unpacked(resp, NULL);
    outfall__v1__outfall__free_unpacked(get(ids[0]), NULL);
    gone(ids[1]);
    outfall__v1__outfall__free_unpacked(get(ids[2]), NULL);
}

/* The harness's own proof: the checksum sees an applied change, and its two levels differ
 * exactly by the bookkeeping a REJECTED change writes (batch, change result, last_seq). */
static void checksum_sees_applied_changes_and_only_state_ignores_bookkeeping(void **state) {
    (void)state;
    double lat, lon;
    th_spot(&lat, &lon);
    th_sum state0 = th_db_checksum(srv.data, TH_STATE), all0 = th_db_checksum(srv.data, TH_ALL);
    assert_true(state0.hex[0] != '!' && all0.hex[0] != '!');
    assert_string_not_equal(state0.hex, all0.hex);
    th_batch *b = th_batch_new(&dev_a);
    th_outfall_create(b, "qinhe", DIV, NAN, lon);
    Outfall__V1__SyncResponse *resp = sync_as(&alice, b);
    expect(resp->results[0], "REJECTED", 0);
    outfall__v1__sync_response__free_unpacked(resp, NULL);
    th_sum state1 = th_db_checksum(srv.data, TH_STATE), all1 = th_db_checksum(srv.data, TH_ALL);
    assert_string_equal(state0.hex, state1.hex);
    assert_string_not_equal(all0.hex, all1.hex);
    char id[37];
    seed_at(&alice, &dev_a, "qinhe", lat, lon, "counted", id);
    th_sum state2 = th_db_checksum(srv.data, TH_STATE);
    assert_string_not_equal(state1.hex, state2.hex);
}

/* A batch of 64 KB or more has its signature checked beside its decoding (server/api_sync.c,
 * early_verify), and answers as a small one: signed with another device's key it is 401
 * signature_invalid and writes nothing, naming another user's device it is 403 device_not_yours,
 * and signed by its own device it applies. */
static void big_batch_signature_is_checked_as_a_small_ones(void **state) {
    (void)state;
    static char landmark[1100];
    memset(landmark, 'x', sizeof landmark - 1);
    th_batch *b = th_batch_new(&dev_a), *bobs = th_batch_new(&dev_b);
    for (int i = 0; i < 80; i++) {
        double lat, lon;
        th_spot(&lat, &lon);
        th_outfall_create(b, "qinhe", DIV, lat, lon)->landmark = landmark;
        th_outfall_create(bobs, "qinhe", DIV, lat, lon)->landmark = landmark;
    }
    const uint8_t *bytes, *bob_bytes;
    size_t len, bob_len;
    assert_int_equal(th_batch_encode(b, TH_PB, &bytes, &len), 0);
    assert_int_equal(th_batch_encode(bobs, TH_PB, &bob_bytes, &bob_len), 0);
    assert_true(len >= 64 * 1024);
    th_sum before = th_db_checksum(srv.data, TH_ALL);
    th_sync_result r;
    char *sig = th_sign_b64(dev_b.sk, bytes, len);
    assert_int_equal(th_sync_raw(&srv, alice.token, "application/x-protobuf", sig, bytes, len, &r),
                     401);
    assert_string_equal(r.err.code, "signature_invalid");
    th_sync_result_free(&r);
    free(sig);
    sig = th_sign_b64(dev_b.sk, bob_bytes, bob_len);
    assert_int_equal(
        th_sync_raw(&srv, alice.token, "application/x-protobuf", sig, bob_bytes, bob_len, &r), 403);
    assert_string_equal(r.err.code, "device_not_yours");
    th_sync_result_free(&r);
    free(sig);
    th_sum after = th_db_checksum(srv.data, TH_ALL);
    assert_string_equal(after.hex, before.hex);

    sig = th_sign_b64(dev_a.sk, bytes, len);
    assert_int_equal(th_sync_raw(&srv, alice.token, "application/x-protobuf", sig, bytes, len, &r),
                     200);
    assert_int_equal(r.resp->n_results, 80);
    for (size_t i = 0; i < 80; i++)
        assert_int_equal(r.resp->results[i]->status, TH_STATUS(APPLIED));
    th_sync_result_free(&r);
    free(sig);
    dev_a.next_seq++;
    th_batch_free(b);
    th_batch_free(bobs);
}

static int group_setup(void **state) {
    (void)state;
    const char *divs[] = {DIV, NULL};
    if (th_server_start(&srv, NULL) != 0) return -1;
    th_user *users[] = {&alice, &bob, &carol};
    th_device *devs[] = {&dev_a, &dev_b, &dev_c};
    for (int i = 0; i < 3; i++) {
        if (th_user_new(&srv, "surveyor", TH_ROLE(SURVEYOR), divs, users[i]) != 0) return -1;
        if (th_device_new(&srv, users[i]->token, devs[i]) != 0) return -1;
    }
    return 0;
}

static int group_teardown(void **state) {
    (void)state;
    return th_server_stop(&srv);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(create_is_applied_at_version_1_pending_review),
        cmocka_unit_test(create_within_30m_on_same_river_is_duplicate_suspect),
        cmocka_unit_test(create_within_30m_on_another_river_is_applied),
        cmocka_unit_test(create_100m_away_on_same_river_is_applied),
        cmocka_unit_test(edit_on_current_base_fast_forwards),
        cmocka_unit_test(create_then_edit_in_one_batch_apply_in_order),
        cmocka_unit_test(edit_on_stale_base_merges_untouched_fields),
        cmocka_unit_test(edit_on_stale_base_to_same_value_merges),
        cmocka_unit_test(edit_clashing_on_stale_base_keeps_server_value_and_reports_conflict),
        cmocka_unit_test(nested_field_conflict_names_its_path),
        cmocka_unit_test(conflict_on_field_absent_at_base_reports_null),
        cmocka_unit_test(same_device_earlier_edits_never_conflict),
        cmocka_unit_test(replayed_change_id_in_new_batch_is_already_applied),
        cmocka_unit_test(replayed_batch_returns_identical_bytes_and_writes_nothing),
        cmocka_unit_test(replayed_json_batch_returns_identical_bytes_and_writes_nothing),
        cmocka_unit_test(observation_naming_unknown_photos_is_flagged_photos_pending),
        cmocka_unit_test(batch_with_one_rejected_change_applies_the_others),
        cmocka_unit_test(checksum_sees_applied_changes_and_only_state_ignores_bookkeeping),
        cmocka_unit_test(big_batch_signature_is_checked_as_a_small_ones),
    };
    return cmocka_run_group_tests_name("sync protocol", tests, group_setup, group_teardown);
}
