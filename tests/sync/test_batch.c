/* The engine's protocol table, row by row, on a real SQLite file (tests sync/batch.c, apply.c). */
#include "fixture.h"

#define QINHE_LAT 35.08621
#define QINHE_LON 112.95124

static char ids[16][UUID_STR_LEN + 1];

static const char *uuid(int i) {
    util_uuid_new(ids[i]);
    return ids[i];
}

/* A JSON Change creating an outfall; malloc'd. */
static char *create_json(const char *entity, double lat, double lon, const char *river,
                         const char *division) {
    char cid[UUID_STR_LEN + 1], *out = NULL;
    util_uuid_new(cid);
    if (asprintf(&out,
                 "{\"changeId\":\"%s\",\"entityId\":\"%s\",\"baseVersion\":\"0\","
                 "\"outfall\":{\"name\":\"沁河排口\",\"type\":\"OUTFALL_TYPE_UNDETERMINED\","
                 "\"riverCode\":\"%s\",\"divisionCode\":\"%s\",\"lat\":%.7f,\"lon\":%.7f,"
                 "\"landmark\":\"桥下\",\"responsibleParty\":{\"name\":\"某厂\"}}}",
                 cid, entity, river, division, lat, lon) < 0)
        return NULL;
    return out;
}

/* A JSON Change editing an outfall with the given fields object; malloc'd. */
static char *edit_json(const char *change_id, const char *entity, int64_t base,
                       const char *fields) {
    char cid[UUID_STR_LEN + 1], *out = NULL;
    if (!change_id) {
        util_uuid_new(cid);
        change_id = cid;
    }
    if (asprintf(&out,
                 "{\"changeId\":\"%s\",\"entityId\":\"%s\",\"baseVersion\":\"%lld\","
                 "\"outfall\":%s}",
                 change_id, entity, (long long)base, fields) < 0)
        return NULL;
    return out;
}

/* Sends one change from phone as its own batch and returns its result's status. */
static Outfall__V1__SyncResponse *send1(fixture *f, int phone, char *change) {
    char *batch = NULL;
    assert_true(asprintf(&batch, "[%s]", change) > 0);
    free(change);
    Outfall__V1__SyncResponse *r = fx_sync(f, phone, batch);
    free(batch);
    assert_int_equal(r->n_results, 1);
    return r;
}

static int status_of(Outfall__V1__SyncResponse *r) {
    return r->results[0]->status;
}

static void create_outfall(fixture *f, const char *id) {
    Outfall__V1__SyncResponse *r =
        send1(f, 0, create_json(id, QINHE_LAT, QINHE_LON, "qinhe", "410882"));
    assert_int_equal(status_of(r), OUTFALL__V1__CHANGE_STATUS__CHANGE_STATUS_APPLIED);
    protobuf_c_message_free_unpacked(&r->base, NULL);
}

static Outfall__V1__Outfall *read_outfall(fixture *f, const char *id) {
    Outfall__V1__Outfall *o = NULL;
    sync_error err = {0};
    assert_int_equal(feed_read_outfall(f->s, &f->admin, id, &o, &err), 0);
    return o;
}

static void create_is_applied_at_version_1_pending(void **state) {
    fixture *f = *state;
    const char *id = uuid(0);
    Outfall__V1__SyncResponse *r =
        send1(f, 0, create_json(id, QINHE_LAT, QINHE_LON, "qinhe", "410882"));
    assert_int_equal(status_of(r), OUTFALL__V1__CHANGE_STATUS__CHANGE_STATUS_APPLIED);
    assert_int_equal(r->results[0]->version, 1);
    assert_true(r->n_feed >= 1);
    protobuf_c_message_free_unpacked(&r->base, NULL);
    Outfall__V1__Outfall *o = read_outfall(f, id);
    assert_int_equal(o->version, 1);
    assert_int_equal(o->review_state, OUTFALL__V1__REVIEW_STATE__REVIEW_STATE_PENDING);
    assert_string_equal(o->landmark, "桥下");
    assert_string_equal(o->responsible_party->name, "某厂");
    assert_true(o->lat == QINHE_LAT);
    protobuf_c_message_free_unpacked(&o->base, NULL);
}

static void create_near_existing_on_same_river_is_duplicate_suspect(void **state) {
    fixture *f = *state;
    create_outfall(f, uuid(0));
    /* 0.0001° of latitude is about 11 m. */
    Outfall__V1__SyncResponse *r =
        send1(f, 1, create_json(uuid(1), QINHE_LAT + 0.0001, QINHE_LON, "qinhe", "410882"));
    assert_int_equal(status_of(r), OUTFALL__V1__CHANGE_STATUS__CHANGE_STATUS_DUPLICATE_SUSPECT);
    assert_string_equal(r->results[0]->duplicate_of, ids[0]);
    protobuf_c_message_free_unpacked(&r->base, NULL);
    Outfall__V1__Outfall *o = read_outfall(f, ids[1]);
    assert_int_equal(o->n_flags, 1);
    assert_string_equal(o->flags[0], "duplicate_suspect");
    protobuf_c_message_free_unpacked(&o->base, NULL);
    assert_int_equal(fx_count(f, "SELECT count(*) FROM duplicates WHERE state = 'open'"), 1);
}

static void create_near_existing_on_other_river_or_far_is_not_suspect(void **state) {
    fixture *f = *state;
    create_outfall(f, uuid(0));
    Outfall__V1__SyncResponse *r =
        send1(f, 0, create_json(uuid(1), QINHE_LAT + 0.0001, QINHE_LON, "manghe", "410882"));
    assert_int_equal(status_of(r), OUTFALL__V1__CHANGE_STATUS__CHANGE_STATUS_APPLIED);
    protobuf_c_message_free_unpacked(&r->base, NULL);
    /* 0.0009° of latitude is about 100 m. */
    r = send1(f, 0, create_json(uuid(2), QINHE_LAT + 0.0009, QINHE_LON, "qinhe", "410882"));
    assert_int_equal(status_of(r), OUTFALL__V1__CHANGE_STATUS__CHANGE_STATUS_APPLIED);
    protobuf_c_message_free_unpacked(&r->base, NULL);
}

static void fast_forward_edit_is_applied(void **state) {
    fixture *f = *state;
    create_outfall(f, uuid(0));
    Outfall__V1__SyncResponse *r =
        send1(f, 0, edit_json(NULL, ids[0], 1, "{\"landmark\":\"新桥\"}"));
    assert_int_equal(status_of(r), OUTFALL__V1__CHANGE_STATUS__CHANGE_STATUS_APPLIED);
    assert_int_equal(r->results[0]->version, 2);
    protobuf_c_message_free_unpacked(&r->base, NULL);
    Outfall__V1__Outfall *o = read_outfall(f, ids[0]);
    assert_string_equal(o->landmark, "新桥");
    protobuf_c_message_free_unpacked(&o->base, NULL);
}

static void stale_edit_of_untouched_fields_merges(void **state) {
    fixture *f = *state;
    create_outfall(f, uuid(0));
    /* Phone B moves it to version 2 by changing the landmark... */
    Outfall__V1__SyncResponse *r =
        send1(f, 1, edit_json(NULL, ids[0], 1, "{\"landmark\":\"新桥\"}"));
    protobuf_c_message_free_unpacked(&r->base, NULL);
    /* ...phone A, still at version 1, changes the name. */
    r = send1(f, 0, edit_json(NULL, ids[0], 1, "{\"name\":\"一号口\"}"));
    assert_int_equal(status_of(r), OUTFALL__V1__CHANGE_STATUS__CHANGE_STATUS_MERGED);
    assert_int_equal(r->results[0]->version, 3);
    protobuf_c_message_free_unpacked(&r->base, NULL);
    Outfall__V1__Outfall *o = read_outfall(f, ids[0]);
    assert_string_equal(o->landmark, "新桥");
    assert_string_equal(o->name, "一号口");
    protobuf_c_message_free_unpacked(&o->base, NULL);
}

static void stale_edit_of_changed_field_conflicts_and_merges_the_rest(void **state) {
    fixture *f = *state;
    create_outfall(f, uuid(0));
    Outfall__V1__SyncResponse *r =
        send1(f, 1, edit_json(NULL, ids[0], 1, "{\"responsibleParty\":{\"phone\":\"111\"}}"));
    protobuf_c_message_free_unpacked(&r->base, NULL);
    r = send1(f, 0,
              edit_json(NULL, ids[0], 1,
                        "{\"responsibleParty\":{\"phone\":\"222\"},\"name\":\"二号口\"}"));
    assert_int_equal(status_of(r), OUTFALL__V1__CHANGE_STATUS__CHANGE_STATUS_CONFLICT);
    Outfall__V1__ChangeResult *cr = r->results[0];
    assert_int_equal(cr->version, 3);
    assert_int_equal(cr->n_conflicts, 1);
    assert_string_equal(cr->conflicts[0]->field, "responsible_party.phone");
    assert_string_equal(cr->conflicts[0]->base_value, "null");
    assert_string_equal(cr->conflicts[0]->server_value, "\"111\"");
    assert_string_equal(cr->conflicts[0]->client_value, "\"222\"");
    protobuf_c_message_free_unpacked(&r->base, NULL);
    Outfall__V1__Outfall *o = read_outfall(f, ids[0]);
    assert_string_equal(o->responsible_party->phone, "111"); /* the server's value stays */
    assert_string_equal(o->responsible_party->name, "某厂");
    assert_string_equal(o->name, "二号口"); /* the other field merged */
    protobuf_c_message_free_unpacked(&o->base, NULL);
    assert_int_equal(fx_count(f, "SELECT count(*) FROM conflicts WHERE state = 'open'"), 1);
}

static void same_value_on_both_sides_is_not_a_conflict(void **state) {
    fixture *f = *state;
    create_outfall(f, uuid(0));
    Outfall__V1__SyncResponse *r = send1(f, 1, edit_json(NULL, ids[0], 1, "{\"landmark\":\"同\"}"));
    protobuf_c_message_free_unpacked(&r->base, NULL);
    r = send1(f, 0, edit_json(NULL, ids[0], 1, "{\"landmark\":\"同\"}"));
    assert_int_equal(status_of(r), OUTFALL__V1__CHANGE_STATUS__CHANGE_STATUS_MERGED);
    assert_int_equal(r->results[0]->n_conflicts, 0);
    protobuf_c_message_free_unpacked(&r->base, NULL);
}

static void same_device_earlier_edits_never_conflict(void **state) {
    fixture *f = *state;
    create_outfall(f, uuid(0));
    /* Offline, phone A edits twice from version 1: the second edit's base is still 1. */
    Outfall__V1__SyncResponse *r = send1(f, 0, edit_json(NULL, ids[0], 1, "{\"landmark\":\"甲\"}"));
    protobuf_c_message_free_unpacked(&r->base, NULL);
    r = send1(f, 0, edit_json(NULL, ids[0], 1, "{\"landmark\":\"乙\"}"));
    assert_int_equal(status_of(r), OUTFALL__V1__CHANGE_STATUS__CHANGE_STATUS_MERGED);
    protobuf_c_message_free_unpacked(&r->base, NULL);
    Outfall__V1__Outfall *o = read_outfall(f, ids[0]);
    assert_string_equal(o->landmark, "乙");
    protobuf_c_message_free_unpacked(&o->base, NULL);
}

static void replayed_change_id_is_already_applied_and_writes_nothing(void **state) {
    fixture *f = *state;
    create_outfall(f, uuid(0));
    const char *cid = uuid(1);
    Outfall__V1__SyncResponse *r = send1(f, 0, edit_json(cid, ids[0], 1, "{\"name\":\"x\"}"));
    protobuf_c_message_free_unpacked(&r->base, NULL);
    int64_t history = fx_count(f, "SELECT count(*) FROM field_history");
    r = send1(f, 0, edit_json(cid, ids[0], 1, "{\"name\":\"x\"}"));
    assert_int_equal(status_of(r), OUTFALL__V1__CHANGE_STATUS__CHANGE_STATUS_ALREADY_APPLIED);
    assert_int_equal(r->results[0]->version, 2);
    protobuf_c_message_free_unpacked(&r->base, NULL);
    assert_int_equal(fx_count(f, "SELECT count(*) FROM field_history"), history);
    assert_int_equal(fx_count(f, "SELECT version FROM outfalls"), 2);
}

static void reused_change_id_with_new_content_is_rejected(void **state) {
    fixture *f = *state;
    create_outfall(f, uuid(0));
    const char *cid = uuid(1);
    Outfall__V1__SyncResponse *r = send1(f, 0, edit_json(cid, ids[0], 1, "{\"name\":\"x\"}"));
    protobuf_c_message_free_unpacked(&r->base, NULL);
    r = send1(f, 0, edit_json(cid, ids[0], 1, "{\"name\":\"y\"}"));
    assert_int_equal(status_of(r), OUTFALL__V1__CHANGE_STATUS__CHANGE_STATUS_REJECTED);
    assert_string_equal(r->results[0]->reason, "change_id_reused");
    protobuf_c_message_free_unpacked(&r->base, NULL);
}

static void replayed_batch_answers_the_same_and_writes_nothing(void **state) {
    fixture *f = *state;
    char *change = create_json(uuid(0), QINHE_LAT, QINHE_LON, "qinhe", "410882"), *batch = NULL;
    assert_true(asprintf(&batch, "[%s]", change) > 0);
    const char *bid = uuid(1);
    sync_error err = {0};
    Outfall__V1__SyncResponse *a = fx_sync_seq(f, 0, 1, bid, batch, &err);
    assert_non_null(a);
    int64_t history = fx_count(f, "SELECT count(*) FROM field_history");
    Outfall__V1__SyncResponse *b = fx_sync_seq(f, 0, 1, bid, batch, &err);
    assert_non_null(b);
    size_t na = protobuf_c_message_get_packed_size(&a->base);
    size_t nb = protobuf_c_message_get_packed_size(&b->base);
    assert_int_equal(na, nb);
    uint8_t *pa = malloc(na), *pb = malloc(nb);
    protobuf_c_message_pack(&a->base, pa);
    protobuf_c_message_pack(&b->base, pb);
    assert_memory_equal(pa, pb, na);
    free(pa);
    free(pb);
    assert_int_equal(fx_count(f, "SELECT count(*) FROM field_history"), history);
    /* The same batch_id with other content is refused. */
    free(change);
    change = create_json(uuid(2), QINHE_LAT, QINHE_LON, "qinhe", "410882");
    free(batch);
    assert_true(asprintf(&batch, "[%s]", change) > 0);
    assert_null(fx_sync_seq(f, 0, 1, bid, batch, &err));
    assert_string_equal(err.code, "batch_id_reused");
    protobuf_c_message_free_unpacked(&a->base, NULL);
    protobuf_c_message_free_unpacked(&b->base, NULL);
    free(change);
    free(batch);
}

static void batch_ahead_of_gap_is_held_then_applied_when_gap_fills(void **state) {
    fixture *f = *state;
    char *c1 = create_json(uuid(0), QINHE_LAT, QINHE_LON, "qinhe", "410882"), *b1 = NULL;
    char *c2 = create_json(uuid(1), QINHE_LAT + 0.01, QINHE_LON, "qinhe", "410882"), *b2 = NULL;
    assert_true(asprintf(&b1, "[%s]", c1) > 0 && asprintf(&b2, "[%s]", c2) > 0);
    const char *bid2 = uuid(2);
    sync_error err = {0};
    Outfall__V1__SyncResponse *r = fx_sync_seq(f, 0, 2, bid2, b2, &err);
    assert_non_null(r);
    assert_int_equal(status_of(r), OUTFALL__V1__CHANGE_STATUS__CHANGE_STATUS_HELD);
    protobuf_c_message_free_unpacked(&r->base, NULL);
    assert_int_equal(fx_count(f, "SELECT count(*) FROM outfalls"), 0);
    /* The held batch replayed is still held. */
    r = fx_sync_seq(f, 0, 2, bid2, b2, &err);
    assert_int_equal(status_of(r), OUTFALL__V1__CHANGE_STATUS__CHANGE_STATUS_HELD);
    protobuf_c_message_free_unpacked(&r->base, NULL);
    /* Sequence 1 arrives: both apply, in order. */
    r = fx_sync_seq(f, 0, 1, NULL, b1, &err);
    assert_int_equal(status_of(r), OUTFALL__V1__CHANGE_STATUS__CHANGE_STATUS_APPLIED);
    protobuf_c_message_free_unpacked(&r->base, NULL);
    assert_int_equal(fx_count(f, "SELECT count(*) FROM outfalls"), 2);
    assert_int_equal(fx_count(f, "SELECT last_seq FROM devices WHERE device_id = 'phone-a'"), 2);
    /* The phone re-sends the held batch and now learns its real result. */
    r = fx_sync_seq(f, 0, 2, bid2, b2, &err);
    assert_int_equal(status_of(r), OUTFALL__V1__CHANGE_STATUS__CHANGE_STATUS_APPLIED);
    protobuf_c_message_free_unpacked(&r->base, NULL);
    free(c1), free(c2), free(b1), free(b2);
}

static void held_batch_applies_after_its_wait(void **state) {
    fixture *f = *state;
    char *c = create_json(uuid(0), QINHE_LAT, QINHE_LON, "qinhe", "410882"), *b = NULL;
    assert_true(asprintf(&b, "[%s]", c) > 0);
    sync_error err = {0};
    Outfall__V1__SyncResponse *r = fx_sync_seq(f, 0, 3, NULL, b, &err);
    assert_int_equal(status_of(r), OUTFALL__V1__CHANGE_STATUS__CHANGE_STATUS_HELD);
    protobuf_c_message_free_unpacked(&r->base, NULL);
    assert_int_equal(batch_release_expired(f->s, &f->cfg, util_now_ms()), 0);
    assert_int_equal(batch_release_expired(f->s, &f->cfg, util_now_ms() + f->cfg.held_wait_ms), 1);
    assert_int_equal(fx_count(f, "SELECT count(*) FROM outfalls"), 1);
    assert_int_equal(fx_count(f, "SELECT last_seq FROM devices WHERE device_id = 'phone-a'"), 3);
    assert_int_equal(fx_count(f, "SELECT count(*) FROM audit WHERE action = 'batch.gap_skipped'"),
                     1);
    free(c), free(b);
}

/* A revoked phone's held batches never land: not when a batch that passed the HTTP checks before
 * the revocation fills the gap (it is refused itself, inside the write), not when their wait runs
 * out. Each is refused, audited, and answers so when the phone asks again. */
static void revoked_devices_held_batches_are_refused_never_applied(void **state) {
    fixture *f = *state;
    char *b[3] = {NULL, NULL, NULL}, bid[3][UUID_STR_LEN + 1];
    for (int i = 0; i < 3; i++) {
        char *c = create_json(uuid(i), QINHE_LAT + 0.01 * i, QINHE_LON, "qinhe", "410882");
        assert_true(asprintf(&b[i], "[%s]", c) > 0);
        free(c);
        util_uuid_new(bid[i]);
    }
    sync_error err = {0};
    for (int seq = 2; seq <= 3; seq++) {
        Outfall__V1__SyncResponse *r = fx_sync_seq(f, 0, seq, bid[seq - 1], b[seq - 1], &err);
        assert_non_null(r);
        assert_int_equal(status_of(r), OUTFALL__V1__CHANGE_STATUS__CHANGE_STATUS_HELD);
        protobuf_c_message_free_unpacked(&r->base, NULL);
    }
    assert_int_equal(devices_revoke(f->s, &f->admin, "phone-a", &err), 0);
    /* Sequence 1, checked before the revocation, reaches the writer after it. */
    assert_null(fx_sync_seq(f, 0, 1, bid[0], b[0], &err));
    assert_string_equal(err.code, "device_revoked");
    assert_int_equal(fx_count(f, "SELECT count(*) FROM outfalls"), 0);
    assert_int_equal(batch_release_expired(f->s, &f->cfg, util_now_ms() + f->cfg.held_wait_ms), 0);
    assert_int_equal(fx_count(f, "SELECT count(*) FROM outfalls"), 0);
    assert_int_equal(fx_count(f, "SELECT count(*) FROM field_history"), 0);
    assert_int_equal(fx_count(f, "SELECT count(*) FROM changes"), 0);
    assert_int_equal(fx_count(f, "SELECT last_seq FROM devices WHERE device_id = 'phone-a'"), 0);
    assert_int_equal(fx_count(f, "SELECT count(*) FROM batches WHERE state = 'refused' "
                                 "AND request IS NULL"),
                     2);
    assert_int_equal(fx_count(f, "SELECT count(*) FROM audit WHERE action = 'batch.refused' "
                                 "AND outcome = 'device_revoked'"),
                     2);
    /* Nothing is left to release, and asking again tells why. */
    assert_int_equal(batch_release_expired(f->s, &f->cfg, util_now_ms() + f->cfg.held_wait_ms), 0);
    assert_null(fx_sync_seq(f, 0, 2, bid[1], b[1], &err));
    assert_string_equal(err.code, "batch_refused_device_revoked");
    assert_int_equal(err.rc, SYNC_EFORBIDDEN);
    for (int i = 0; i < 3; i++)
        free(b[i]);
}

static void seq_already_applied_with_new_batch_is_refused(void **state) {
    fixture *f = *state;
    create_outfall(f, uuid(0));
    sync_error err = {0};
    assert_null(fx_sync_seq(f, 0, 1, NULL, "[]", &err));
    assert_string_equal(err.code, "device_seq_reused");
}

static void rejected_change_does_not_stop_the_rest(void **state) {
    fixture *f = *state;
    char *good = create_json(uuid(0), QINHE_LAT, QINHE_LON, "qinhe", "410882");
    char *bad = create_json(uuid(1), QINHE_LAT, QINHE_LON, "nosuchriver", "410882");
    char *good2 = create_json(uuid(2), QINHE_LAT + 0.01, QINHE_LON, "qinhe", "410882"), *b = NULL;
    assert_true(asprintf(&b, "[%s,%s,%s]", good, bad, good2) > 0);
    Outfall__V1__SyncResponse *r = fx_sync(f, 0, b);
    assert_int_equal(r->n_results, 3);
    assert_int_equal(r->results[0]->status, OUTFALL__V1__CHANGE_STATUS__CHANGE_STATUS_APPLIED);
    assert_int_equal(r->results[1]->status, OUTFALL__V1__CHANGE_STATUS__CHANGE_STATUS_REJECTED);
    assert_string_equal(r->results[1]->reason, "unknown_river");
    assert_int_equal(r->results[2]->status, OUTFALL__V1__CHANGE_STATUS__CHANGE_STATUS_APPLIED);
    protobuf_c_message_free_unpacked(&r->base, NULL);
    assert_int_equal(fx_count(f, "SELECT count(*) FROM outfalls"), 2);
    free(good), free(bad), free(good2), free(b);
}

static void internal_failure_rolls_back_the_whole_batch(void **state) {
    fixture *f = *state;
    /* A trigger that fails the second change's history write stands in for a disk error. It is
     * in the file, not TEMP: group commits write through their own connection (sync/writer.c). */
    assert_int_equal(
        sqlite3_exec(store_db(f->s),
                     "CREATE TRIGGER boom BEFORE INSERT ON record_history "
                     "WHEN NEW.fields -> '$.name' = '\"boom\"' BEGIN SELECT RAISE(FAIL, 'boom'); "
                     "END",
                     NULL, NULL, NULL),
        SQLITE_OK);
    char *good = create_json(uuid(0), QINHE_LAT, QINHE_LON, "qinhe", "410882");
    char *boom = edit_json(NULL, ids[0], 1, "{\"name\":\"boom\"}"), *b = NULL;
    assert_true(asprintf(&b, "[%s,%s]", good, boom) > 0);
    sync_error err = {0};
    assert_null(fx_sync_seq(f, 0, 1, NULL, b, &err));
    assert_int_equal(err.rc, SYNC_EINTERNAL);
    assert_int_equal(fx_count(f, "SELECT count(*) FROM outfalls"), 0);
    assert_int_equal(fx_count(f, "SELECT count(*) FROM changes"), 0);
    assert_int_equal(fx_count(f, "SELECT count(*) FROM batches"), 0);
    assert_int_equal(fx_count(f, "SELECT last_seq FROM devices WHERE device_id = 'phone-a'"), 0);
    free(good), free(boom), free(b);
}

static void invalid_changes_are_rejected_with_reasons(void **state) {
    fixture *f = *state;
    create_outfall(f, uuid(0));
    struct {
        char *change;
        const char *reason;
    } cases[] = {
        {create_json(uuid(1), 95.0, QINHE_LON, "qinhe", "410882"), "invalid_coordinates"},
        {create_json(uuid(1), QINHE_LAT, QINHE_LON, "qinhe", "999999"), "unknown_division"},
        {create_json(uuid(1), QINHE_LAT, QINHE_LON, "qinhe", "410802"), "outside_division"},
        {edit_json(NULL, uuid(2), 1, "{\"name\":\"x\"}"), "not_found"},
        {edit_json(NULL, ids[0], 7, "{\"name\":\"x\"}"), "base_version_ahead"},
        {edit_json(NULL, ids[0], 1, "{\"reviewState\":\"REVIEW_STATE_APPROVED\"}"),
         "read_only_field"},
        {edit_json(NULL, ids[0], 1, "{\"lat\":\"NaN\"}"), "invalid_coordinates"},
        {edit_json(NULL, ids[0], 1, "{\"lon\":\"Infinity\"}"), "invalid_coordinates"},
        {edit_json(NULL, ids[0], 0, "{\"name\":\"x\"}"), "already_exists"},
        {edit_json(NULL, uuid(3), 0, "{\"name\":\"x\"}"), "missing_field"},
    };
    int64_t history = fx_count(f, "SELECT count(*) FROM field_history");
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        Outfall__V1__SyncResponse *r = send1(f, 0, cases[i].change);
        assert_int_equal(status_of(r), OUTFALL__V1__CHANGE_STATUS__CHANGE_STATUS_REJECTED);
        if (strcmp(r->results[0]->reason, cases[i].reason) != 0)
            fail_msg("case %zu: reason %s, wanted %s", i, r->results[0]->reason, cases[i].reason);
        assert_non_null(r->results[0]->message);
        protobuf_c_message_free_unpacked(&r->base, NULL);
    }
    assert_int_equal(fx_count(f, "SELECT count(*) FROM field_history"), history);
    assert_int_equal(fx_count(f, "SELECT count(*) FROM outfalls"), 1);
    /* The write outside the surveyor's division is in the audit trail. */
    assert_int_equal(fx_count(f, "SELECT count(*) FROM audit WHERE action = 'sync.change' "
                                 "AND outcome = 'outside_division'"),
                     1);
}

/* A batch of many observations naming photos the server lacks lists each photo once, in the
 * order first named: one photo every observation names, and one of its own each (more than the
 * index of listed photos first has room for). */
static void a_big_batch_lists_each_missing_photo_once_in_the_order_named(void **state) {
    fixture *f = *state;
    enum { OBSERVATIONS = 150 };
    create_outfall(f, uuid(0));
    const char *shared = "347c25790e29dd5bc0a660f775e154eb667dc4a0556419662134187b48624359";
    char *batch = strdup("[");
    for (int i = 0; i < OBSERVATIONS && batch; i++) {
        char cid[UUID_STR_LEN + 1], oid[UUID_STR_LEN + 1], *more = NULL;
        util_uuid_new(cid);
        util_uuid_new(oid);
        if (asprintf(&more,
                     "%s%s{\"changeId\":\"%s\",\"entityId\":\"%s\",\"baseVersion\":\"0\","
                     "\"observation\":{\"outfallId\":\"%s\",\"observedAtMs\":\"1773454925000\","
                     "\"flowing\":true,\"photos\":[{\"hash\":\"%s\",\"kind\":\"PHOTO_KIND_NEAR\"},"
                     "{\"hash\":\"%064x\",\"kind\":\"PHOTO_KIND_FAR\"}]}}",
                     batch, i ? "," : "", cid, oid, ids[0], shared, i + 1) < 0)
            more = NULL;
        free(batch);
        batch = more;
    }
    char *closed = NULL;
    assert_non_null(batch);
    assert_true(asprintf(&closed, "%s]", batch) > 0);
    free(batch);
    Outfall__V1__SyncResponse *r = fx_sync(f, 0, closed);
    free(closed);
    assert_int_equal(r->n_results, OBSERVATIONS);
    assert_int_equal(status_of(r), OUTFALL__V1__CHANGE_STATUS__CHANGE_STATUS_APPLIED);
    assert_int_equal(r->n_missing_photos, OBSERVATIONS + 1);
    assert_string_equal(r->missing_photos[0], shared);
    for (int i = 0; i < OBSERVATIONS; i++) {
        char own[65];
        snprintf(own, sizeof own, "%064x", i + 1);
        assert_string_equal(r->missing_photos[i + 1], own);
    }
    protobuf_c_message_free_unpacked(&r->base, NULL);
}

static void observation_naming_missing_photos_is_pending(void **state) {
    fixture *f = *state;
    create_outfall(f, uuid(0));
    const char *hash = "247c25790e29dd5bc0a660f775e154eb667dc4a0556419662134187b48624359";
    char cid[UUID_STR_LEN + 1], *change = NULL;
    util_uuid_new(cid);
    assert_true(
        asprintf(&change,
                 "{\"changeId\":\"%s\",\"entityId\":\"%s\",\"baseVersion\":\"0\","
                 "\"observation\":{\"outfallId\":\"%s\",\"observedAtMs\":\"1773454925000\","
                 "\"flowing\":true,\"photos\":[{\"hash\":\"%s\",\"kind\":\"PHOTO_KIND_NEAR\"}]}}",
                 cid, uuid(1), ids[0], hash) > 0);
    Outfall__V1__SyncResponse *r = send1(f, 0, change);
    assert_int_equal(status_of(r), OUTFALL__V1__CHANGE_STATUS__CHANGE_STATUS_APPLIED);
    assert_int_equal(r->n_missing_photos, 1);
    assert_string_equal(r->missing_photos[0], hash);
    protobuf_c_message_free_unpacked(&r->base, NULL);
    Outfall__V1__Observation *o = NULL;
    sync_error err = {0};
    assert_int_equal(feed_read_observation(f->s, &f->surveyor, ids[1], &o, &err), 0);
    assert_int_equal(o->n_flags, 1);
    assert_string_equal(o->flags[0], "photos_pending");
    protobuf_c_message_free_unpacked(&o->base, NULL);
}

static void feed_pages_with_cursor_and_scopes_by_division(void **state) {
    fixture *f = *state;
    for (int i = 0; i < 3; i++) {
        Outfall__V1__SyncResponse *r =
            send1(f, 0, create_json(uuid(i), QINHE_LAT + 0.01 * i, QINHE_LON, "qinhe", "410882"));
        protobuf_c_message_free_unpacked(&r->base, NULL);
    }
    Outfall__V1__ChangesResponse *page = NULL;
    sync_error err = {0};
    assert_int_equal(feed_pull(f->s, &f->cfg, &f->surveyor, 0, 2, &page, &err), 0);
    assert_int_equal(page->n_feed, 2);
    assert_true(page->more);
    int64_t cursor = page->next_cursor;
    protobuf_c_message_free_unpacked(&page->base, NULL);
    assert_int_equal(feed_pull(f->s, &f->cfg, &f->surveyor, cursor, 2, &page, &err), 0);
    assert_int_equal(page->n_feed, 1);
    assert_false(page->more);
    protobuf_c_message_free_unpacked(&page->base, NULL);
    /* A surveyor of another division sees none of it. */
    principal other;
    fx_user(f, &other, "surveyor-c", OUTFALL__V1__ROLE__ROLE_SURVEYOR, "410802");
    assert_int_equal(feed_pull(f->s, &f->cfg, &other, 0, 10, &page, &err), 0);
    assert_int_equal(page->n_feed, 0);
    protobuf_c_message_free_unpacked(&page->base, NULL);
    Outfall__V1__Outfall *o = NULL;
    assert_int_equal(feed_read_outfall(f->s, &other, ids[0], &o, &err), SYNC_ENOTFOUND);
}

#define T(name) cmocka_unit_test_setup_teardown(name, fx_setup, fx_teardown)

int main(void) {
    const struct CMUnitTest tests[] = {
        T(create_is_applied_at_version_1_pending),
        T(create_near_existing_on_same_river_is_duplicate_suspect),
        T(create_near_existing_on_other_river_or_far_is_not_suspect),
        T(fast_forward_edit_is_applied),
        T(stale_edit_of_untouched_fields_merges),
        T(stale_edit_of_changed_field_conflicts_and_merges_the_rest),
        T(same_value_on_both_sides_is_not_a_conflict),
        T(same_device_earlier_edits_never_conflict),
        T(replayed_change_id_is_already_applied_and_writes_nothing),
        T(reused_change_id_with_new_content_is_rejected),
        T(replayed_batch_answers_the_same_and_writes_nothing),
        T(batch_ahead_of_gap_is_held_then_applied_when_gap_fills),
        T(held_batch_applies_after_its_wait),
        T(revoked_devices_held_batches_are_refused_never_applied),
        T(seq_already_applied_with_new_batch_is_refused),
        T(rejected_change_does_not_stop_the_rest),
        T(internal_failure_rolls_back_the_whole_batch),
        T(invalid_changes_are_rejected_with_reasons),
        T(observation_naming_missing_photos_is_pending),
        T(a_big_batch_lists_each_missing_photo_once_in_the_order_named),
        T(feed_pages_with_cursor_and_scopes_by_division),
    };
    return cmocka_run_group_tests_name("sync/batch", tests, NULL, NULL);
}
