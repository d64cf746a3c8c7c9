/* Supervisors' decisions through the engine (tests sync/review.c, queue.c, feed views). */
#include "fixture.h"

#include "sync/queue.h"
#include "sync/review.h"

#define LAT 35.08621
#define LON 112.95124

static char a_id[UUID_STR_LEN + 1], b_id[UUID_STR_LEN + 1];

static principal supervisor(fixture *f) {
    principal p;
    fx_user(f, &p, "supervisor-q", OUTFALL__V1__ROLE__ROLE_SUPERVISOR, "410882");
    return p;
}

/* Creates outfall id at lat from phone; returns the first result's status. */
static int create(fixture *f, int phone, const char *id, double lat) {
    char cid[UUID_STR_LEN + 1], *c = NULL;
    util_uuid_new(cid);
    assert_true(asprintf(&c,
                         "[{\"changeId\":\"%s\",\"entityId\":\"%s\",\"baseVersion\":\"0\","
                         "\"outfall\":{\"name\":\"口\",\"type\":\"OUTFALL_TYPE_MUNICIPAL_WWTP\","
                         "\"riverCode\":\"qinhe\",\"divisionCode\":\"410882\",\"lat\":%.7f,"
                         "\"lon\":%.7f,\"landmark\":\"桥\"}}]",
                         cid, id, lat, LON) > 0);
    Outfall__V1__SyncResponse *r = fx_sync(f, phone, c);
    free(c);
    int status = r->results[0]->status;
    protobuf_c_message_free_unpacked(&r->base, NULL);
    return status;
}

static void edit(fixture *f, int phone, const char *id, int64_t base, const char *fields) {
    char cid[UUID_STR_LEN + 1], *c = NULL;
    util_uuid_new(cid);
    assert_true(asprintf(&c,
                         "[{\"changeId\":\"%s\",\"entityId\":\"%s\",\"baseVersion\":\"%lld\","
                         "\"outfall\":%s}]",
                         cid, id, (long long)base, fields) > 0);
    Outfall__V1__SyncResponse *r = fx_sync(f, phone, c);
    free(c);
    protobuf_c_message_free_unpacked(&r->base, NULL);
}

/* Decides; returns the result code, and the result in *out when asked. */
static int decide(fixture *f, const principal *p, const char *json,
                  Outfall__V1__DecisionResult **out, sync_error *err) {
    ProtobufCMessage *d = NULL;
    char why[200];
    assert_int_equal(
        pbjson_decode(&outfall__v1__decision__descriptor, json, strlen(json), &d, why, sizeof why),
        0);
    Outfall__V1__DecisionResult *res = NULL;
    int rc = review_decide(f->s, &f->cfg, p, (Outfall__V1__Decision *)d, &res, err);
    protobuf_c_message_free_unpacked(d, NULL);
    if (out)
        *out = res;
    else if (res)
        protobuf_c_message_free_unpacked(&res->base, NULL);
    return rc;
}

static char *decision(const char *kind, const char *id, int64_t base, const char *extra) {
    char did[UUID_STR_LEN + 1], *out = NULL;
    util_uuid_new(did);
    assert_true(asprintf(&out,
                         "{\"decisionId\":\"%s\",\"kind\":\"DECISION_KIND_%s\","
                         "\"outfallId\":\"%s\",\"baseVersion\":\"%lld\"%s}",
                         did, kind, id, (long long)base, extra ? extra : "") > 0);
    return out;
}

static void approval_assigns_code_pins_version_and_retry_answers_the_same(void **state) {
    fixture *f = *state;
    principal sup = supervisor(f);
    util_uuid_new(a_id);
    create(f, 0, a_id, LAT);
    char *d = decision("APPROVE", a_id, 1, NULL);
    Outfall__V1__DecisionResult *res = NULL;
    sync_error err = {0};
    assert_int_equal(decide(f, &sup, d, &res, &err), 0);
    assert_int_equal(res->status, OUTFALL__V1__CHANGE_STATUS__CHANGE_STATUS_APPLIED);
    assert_string_equal(res->outfall->code, "410882-qinhe-09-0001");
    assert_int_equal(res->outfall->version, 2);
    assert_int_equal(res->outfall->approved_version, 2);
    assert_int_equal(res->outfall->review_state, OUTFALL__V1__REVIEW_STATE__REVIEW_STATE_APPROVED);
    protobuf_c_message_free_unpacked(&res->base, NULL);
    /* The same decision again: the first answer, nothing new written. */
    int64_t history = fx_count(f, "SELECT count(*) FROM field_history");
    assert_int_equal(decide(f, &sup, d, &res, &err), 0);
    assert_int_equal(res->status, OUTFALL__V1__CHANGE_STATUS__CHANGE_STATUS_ALREADY_APPLIED);
    protobuf_c_message_free_unpacked(&res->base, NULL);
    assert_int_equal(fx_count(f, "SELECT count(*) FROM field_history"), history);
    free(d);

    /* A later field edit waits for review; integrators still read the approved version. */
    edit(f, 0, a_id, 2, "{\"landmark\":\"新桥\"}");
    principal integrator;
    fx_user(f, &integrator, "integrator-q", OUTFALL__V1__ROLE__ROLE_INTEGRATOR, "410800");
    Outfall__V1__Outfall *o = NULL;
    assert_int_equal(feed_read_outfall(f->s, &integrator, a_id, &o, &err), 0);
    assert_string_equal(o->landmark, "桥");
    assert_int_equal(o->version, 2);
    assert_int_equal(o->latest_version, 3);
    protobuf_c_message_free_unpacked(&o->base, NULL);
    Outfall__V1__OutfallHistory *h = NULL;
    assert_int_equal(queue_history(f->s, &sup, a_id, &h, &err), 0);
    assert_int_equal(h->n_since_approved, 1);
    assert_string_equal(h->since_approved[0]->field, "landmark");
    assert_string_equal(h->since_approved[0]->approved_value, "\"桥\"");
    assert_string_equal(h->since_approved[0]->latest_value, "\"新桥\"");
    protobuf_c_message_free_unpacked(&h->base, NULL);
    queue_query q = {.kind = OUTFALL__V1__REVIEW_ITEM_KIND__REVIEW_ITEM_KIND_PENDING};
    Outfall__V1__ReviewQueue *queue = NULL;
    assert_int_equal(queue_list(f->s, &sup, &q, &queue, &err), 0);
    assert_int_equal(queue->n_items, 1);
    protobuf_c_message_free_unpacked(&queue->base, NULL);
}

static void stale_decision_is_refused_and_writes_nothing(void **state) {
    fixture *f = *state;
    principal sup = supervisor(f);
    util_uuid_new(a_id);
    create(f, 0, a_id, LAT);
    edit(f, 0, a_id, 1, "{\"name\":\"改\"}");
    char *d = decision("APPROVE", a_id, 1, NULL);
    sync_error err = {0};
    int64_t before = fx_count(f, "SELECT count(*) FROM field_history");
    assert_int_equal(decide(f, &sup, d, NULL, &err), SYNC_ECONFLICT);
    assert_string_equal(err.code, "stale_version");
    assert_int_equal(fx_count(f, "SELECT count(*) FROM field_history"), before);
    free(d);
}

static void supervisor_of_another_division_is_refused(void **state) {
    fixture *f = *state;
    principal other;
    fx_user(f, &other, "supervisor-x", OUTFALL__V1__ROLE__ROLE_SUPERVISOR, "410802");
    util_uuid_new(a_id);
    create(f, 0, a_id, LAT);
    char *d = decision("APPROVE", a_id, 1, NULL);
    sync_error err = {0};
    assert_int_equal(decide(f, &other, d, NULL, &err), SYNC_EFORBIDDEN);
    assert_string_equal(err.code, "outside_division");
    free(d);
    /* Nor does a surveyor decide at all. */
    d = decision("APPROVE", a_id, 1, NULL);
    assert_int_equal(decide(f, &f->surveyor, d, NULL, &err), SYNC_EFORBIDDEN);
    free(d);
}

static void returned_record_edited_by_the_field_is_resubmitted(void **state) {
    fixture *f = *state;
    principal sup = supervisor(f);
    util_uuid_new(a_id);
    create(f, 0, a_id, LAT);
    sync_error err = {0};
    char *d = decision("RETURN", a_id, 1, NULL);
    assert_int_equal(decide(f, &sup, d, NULL, &err), SYNC_EINVALID);
    assert_string_equal(err.code, "comment_required");
    free(d);
    d = decision("RETURN", a_id, 1, ",\"comment\":\"补拍远景照片\"");
    assert_int_equal(decide(f, &sup, d, NULL, &err), 0);
    free(d);
    edit(f, 0, a_id, 2, "{\"landmark\":\"补\"}");
    queue_query q = {.kind = OUTFALL__V1__REVIEW_ITEM_KIND__REVIEW_ITEM_KIND_RESUBMITTED};
    Outfall__V1__ReviewQueue *queue = NULL;
    assert_int_equal(queue_list(f->s, &sup, &q, &queue, &err), 0);
    assert_int_equal(queue->n_items, 1);
    assert_int_equal(queue->items[0]->outfall->review_state,
                     OUTFALL__V1__REVIEW_STATE__REVIEW_STATE_PENDING);
    protobuf_c_message_free_unpacked(&queue->base, NULL);
}

static void conflict_resolved_by_taking_the_phones_value(void **state) {
    fixture *f = *state;
    principal sup = supervisor(f);
    util_uuid_new(a_id);
    create(f, 0, a_id, LAT);
    edit(f, 1, a_id, 1, "{\"landmark\":\"甲\"}");
    edit(f, 0, a_id, 1, "{\"landmark\":\"乙\"}");
    int64_t conflict = fx_count(f, "SELECT id FROM conflicts WHERE state = 'open'");
    assert_true(conflict > 0);
    sync_error err = {0};
    char *d = decision("APPROVE", a_id, 2, NULL);
    assert_int_equal(decide(f, &sup, d, NULL, &err), SYNC_ECONFLICT);
    assert_string_equal(err.code, "open_conflicts");
    free(d);
    char extra[160];
    snprintf(
        extra, sizeof extra,
        ",\"resolutions\":[{\"conflictId\":\"%lld\",\"choice\":\"RESOLUTION_CHOICE_TAKE_CLIENT\"}]",
        (long long)conflict);
    d = decision("RESOLVE_CONFLICT", a_id, 2, extra);
    Outfall__V1__DecisionResult *res = NULL;
    assert_int_equal(decide(f, &sup, d, &res, &err), 0);
    assert_string_equal(res->outfall->landmark, "乙");
    assert_int_equal(res->outfall->version, 3);
    protobuf_c_message_free_unpacked(&res->base, NULL);
    free(d);
    assert_int_equal(fx_count(f, "SELECT count(*) FROM conflicts WHERE state = 'open'"), 0);
    /* A value of the wrong type is refused and changes nothing. */
    edit(f, 1, a_id, 2, "{\"name\":\"丙\"}");
    edit(f, 0, a_id, 2, "{\"name\":\"丁\"}");
    conflict = fx_count(f, "SELECT id FROM conflicts WHERE state = 'open'");
    snprintf(
        extra, sizeof extra,
        ",\"resolutions\":[{\"conflictId\":\"%lld\",\"choice\":\"RESOLUTION_CHOICE_ENTER_VALUE\","
        "\"value\":\"42\"}]",
        (long long)conflict);
    int64_t v = fx_count(f, "SELECT version FROM outfalls");
    d = decision("RESOLVE_CONFLICT", a_id, v, extra);
    assert_int_equal(decide(f, &sup, d, NULL, &err), SYNC_EINVALID);
    assert_string_equal(err.code, "invalid_value");
    assert_int_equal(fx_count(f, "SELECT count(*) FROM conflicts WHERE state = 'open'"), 1);
    free(d);
}

static void merge_moves_observations_and_redirects_later_edits(void **state) {
    fixture *f = *state;
    principal sup = supervisor(f);
    util_uuid_new(a_id);
    util_uuid_new(b_id);
    create(f, 0, a_id, LAT);
    assert_int_equal(create(f, 1, b_id, LAT + 0.0001),
                     OUTFALL__V1__CHANGE_STATUS__CHANGE_STATUS_DUPLICATE_SUSPECT);
    /* An observation of the duplicate. */
    char cid[UUID_STR_LEN + 1], oid[UUID_STR_LEN + 1], *c = NULL;
    util_uuid_new(cid);
    util_uuid_new(oid);
    assert_true(asprintf(&c,
                         "[{\"changeId\":\"%s\",\"entityId\":\"%s\",\"baseVersion\":\"0\","
                         "\"observation\":{\"outfallId\":\"%s\",\"flowing\":true}}]",
                         cid, oid, b_id) > 0);
    Outfall__V1__SyncResponse *r = fx_sync(f, 1, c);
    protobuf_c_message_free_unpacked(&r->base, NULL);
    free(c);
    int64_t dup = fx_count(f, "SELECT id FROM duplicates");
    char extra[200];
    snprintf(extra, sizeof extra, ",\"duplicateId\":\"%lld\",\"survivorId\":\"%s\"", (long long)dup,
             a_id);
    char *d = decision("MERGE_DUPLICATE", b_id, 1, extra);
    sync_error err = {0};
    Outfall__V1__DecisionResult *res = NULL;
    assert_int_equal(decide(f, &sup, d, &res, &err), 0);
    assert_string_equal(res->outfall->id, a_id);
    assert_int_equal(res->outfall->n_flags, 0);
    protobuf_c_message_free_unpacked(&res->base, NULL);
    free(d);
    Outfall__V1__Observation *o = NULL;
    assert_int_equal(feed_read_observation(f->s, &sup, oid, &o, &err), 0);
    assert_string_equal(o->outfall_id, a_id);
    protobuf_c_message_free_unpacked(&o->base, NULL);
    assert_int_equal(fx_count(f, "SELECT count(*) FROM feed WHERE kind = 'redirect'"), 1);
    /* Phone B, offline, edits the merged record: the edit lands on the survivor. */
    edit(f, 1, b_id, 1, "{\"landmark\":\"合并后\"}");
    Outfall__V1__Outfall *a = NULL;
    assert_int_equal(feed_read_outfall(f->s, &sup, a_id, &a, &err), 0);
    assert_string_equal(a->landmark, "合并后");
    protobuf_c_message_free_unpacked(&a->base, NULL);
    Outfall__V1__OutfallHistory *h = NULL;
    assert_int_equal(queue_history(f->s, &sup, a_id, &h, &err), 0);
    assert_int_equal(h->n_merged_ids, 1);
    assert_int_equal(h->n_observations, 1);
    protobuf_c_message_free_unpacked(&h->base, NULL);
}

static void keep_apart_clears_the_suspect_flag(void **state) {
    fixture *f = *state;
    principal sup = supervisor(f);
    util_uuid_new(a_id);
    util_uuid_new(b_id);
    create(f, 0, a_id, LAT);
    create(f, 1, b_id, LAT + 0.0001);
    int64_t dup = fx_count(f, "SELECT id FROM duplicates");
    char extra[64];
    snprintf(extra, sizeof extra, ",\"duplicateId\":\"%lld\"", (long long)dup);
    char *d = decision("KEEP_APART", a_id, 1, extra);
    sync_error err = {0};
    assert_int_equal(decide(f, &sup, d, NULL, &err), 0);
    free(d);
    Outfall__V1__Outfall *b = NULL;
    assert_int_equal(feed_read_outfall(f->s, &sup, b_id, &b, &err), 0);
    assert_int_equal(b->n_flags, 0);
    assert_int_equal(b->version, 2);
    protobuf_c_message_free_unpacked(&b->base, NULL);
    assert_int_equal(fx_count(f, "SELECT count(*) FROM duplicates WHERE state = 'kept_apart'"), 1);
}

/* Sends one observation change (create at base 0, else an edit of its photos) from phone. */
static int observation_change(fixture *f, int phone, const char *id, int64_t base,
                              const char *photos) {
    char cid[UUID_STR_LEN + 1], *c = NULL;
    util_uuid_new(cid);
    assert_true(asprintf(&c,
                         "[{\"changeId\":\"%s\",\"entityId\":\"%s\",\"baseVersion\":\"%lld\","
                         "\"observation\":{%s%s%s\"photos\":%s}}]",
                         cid, id, (long long)base, base ? "" : "\"outfallId\":\"", base ? "" : a_id,
                         base ? "" : "\",", photos) > 0);
    Outfall__V1__SyncResponse *r = fx_sync(f, phone, c);
    free(c);
    int status = r->results[0]->status;
    protobuf_c_message_free_unpacked(&r->base, NULL);
    return status;
}

#define PH(h) "{\"hash\":\"" h "\",\"kind\":\"PHOTO_KIND_NEAR\"}"
#define H1 "a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1"
#define H2 "b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2"
#define H3 "c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3"

/* A reference to a photo counts only when its author uploaded it (sync/photos.h). Two phones
 * change an observation's photo list from the same version, each naming a photo it uploaded; the
 * supervisor takes the second phone's list: its new reference is that phone's user's, so it
 * counts (no photos_pending), not the supervisor's, who never had the photo. */
static void taking_a_phones_photos_keeps_that_phones_user_as_their_author(void **state) {
    fixture *f = *state;
    principal sup = supervisor(f);
    char obs[UUID_STR_LEN + 1], sql[512];
    util_uuid_new(a_id);
    util_uuid_new(obs);
    create(f, 0, a_id, LAT);
    const struct {
        const char *hash;
        int64_t holder;
    } uploads[] = {
        {H1, f->surveyor.user_id}, {H2, f->surveyor2.user_id}, {H3, f->surveyor.user_id}};
    for (size_t i = 0; i < 3; i++) {
        snprintf(sql, sizeof sql,
                 "INSERT INTO photos (hash, size, media_type, stored_at_ms) VALUES ('%s', 1, "
                 "'image/jpeg', 0); INSERT INTO photo_holders (hash, user_id, at_ms) VALUES "
                 "('%s', %lld, 0)",
                 uploads[i].hash, uploads[i].hash, (long long)uploads[i].holder);
        assert_int_equal(sqlite3_exec(store_db(f->s), sql, NULL, NULL, NULL), SQLITE_OK);
    }
    assert_int_equal(observation_change(f, 0, obs, 0, "[" PH(H1) "]"),
                     OUTFALL__V1__CHANGE_STATUS__CHANGE_STATUS_APPLIED);
    assert_int_equal(observation_change(f, 1, obs, 1, "[" PH(H1) "," PH(H2) "]"),
                     OUTFALL__V1__CHANGE_STATUS__CHANGE_STATUS_APPLIED);
    assert_int_equal(observation_change(f, 0, obs, 1, "[" PH(H1) "," PH(H3) "]"),
                     OUTFALL__V1__CHANGE_STATUS__CHANGE_STATUS_CONFLICT);
    int64_t conflict = fx_count(f, "SELECT id FROM conflicts WHERE field = 'photos'");
    char extra[160];
    snprintf(extra, sizeof extra,
             ",\"resolutions\":[{\"conflictId\":\"%lld\",\"choice\":"
             "\"RESOLUTION_CHOICE_TAKE_CLIENT\"}]",
             (long long)conflict);
    char *d = decision("RESOLVE_CONFLICT", a_id, 1, extra);
    sync_error err = {0};
    assert_int_equal(decide(f, &sup, d, NULL, &err), 0);
    free(d);
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM observation_photos_proven WHERE observation_id = '%s' AND "
             "hash = '" H3 "' AND author_id = %lld",
             obs, (long long)f->surveyor.user_id);
    assert_int_equal(fx_count(f, sql), 1);
    Outfall__V1__Observation *o = NULL;
    assert_int_equal(feed_read_observation(f->s, &sup, obs, &o, &err), 0);
    assert_int_equal(o->n_photos, 2);
    for (size_t i = 0; i < o->n_flags; i++) /* both references count: nothing pending */
        assert_string_not_equal(o->flags[i], "photos_pending");
    protobuf_c_message_free_unpacked(&o->base, NULL);
}

#define T(name) cmocka_unit_test_setup_teardown(name, fx_setup, fx_teardown)

int main(void) {
    const struct CMUnitTest tests[] = {
        T(approval_assigns_code_pins_version_and_retry_answers_the_same),
        T(stale_decision_is_refused_and_writes_nothing),
        T(supervisor_of_another_division_is_refused),
        T(returned_record_edited_by_the_field_is_resubmitted),
        T(conflict_resolved_by_taking_the_phones_value),
        T(merge_moves_observations_and_redirects_later_edits),
        T(keep_apart_clears_the_suspect_flag),
        T(taking_a_phones_photos_keeps_that_phones_user_as_their_author),
    };
    return cmocka_run_group_tests_name("sync/review", tests, NULL, NULL);
}
