/* Tests for common/pbjson*.c, writing: the protobuf JSON mapping from protobuf-c messages, round
 * trips, and the scalar types outfall.proto lacks (tests/lib/pbjson_probe.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/pbjson.h"
#include "outfall/v1/outfall.pb-c.h"
#include "tests/lib/pbjson_probe.h"

/* ------------------------------------------------------------------------------ encoding */

static void int64_encodes_as_string(void **state) {
    (void)state;
    Outfall__V1__Outfall o = OUTFALL__V1__OUTFALL__INIT;
    o.has_version = 1;
    o.version = 42;
    assert_encodes(&o.base, 0, "{\"version\":\"42\"}");
    o.version = INT64_MIN;
    assert_encodes(&o.base, 0, "{\"version\":\"-9223372036854775808\"}");
    o.version = INT64_MAX;
    assert_encodes(&o.base, 0, "{\"version\":\"9223372036854775807\"}");
}

static void int32_encodes_as_number(void **state) {
    (void)state;
    Outfall__V1__Health h = OUTFALL__V1__HEALTH__INIT;
    h.has_schema_version = 1;
    h.schema_version = -7;
    assert_encodes(&h.base, 0, "{\"schemaVersion\":-7}");
}

static void absent_optional_is_not_written(void **state) {
    (void)state;
    Outfall__V1__Outfall o = OUTFALL__V1__OUTFALL__INIT;
    assert_encodes(&o.base, 0, "{}");
    o.lat = 35.0; /* a value without its has_ flag is absent */
    o.n_flags = 0;
    assert_encodes(&o.base, 0, "{}");
}

static void zero_with_presence_is_written(void **state) {
    (void)state;
    Outfall__V1__Observation ob = OUTFALL__V1__OBSERVATION__INIT;
    ob.has_lat = 1;
    ob.has_flowing = 1;
    ob.notes = "";
    ob.has_version = 1;
    ob.has_survey_level = 1;
    assert_encodes(&ob.base, 0,
                   "{\"lat\":0.0,\"flowing\":false,\"notes\":\"\",\"version\":\"0\","
                   "\"surveyLevel\":\"SURVEY_LEVEL_UNSPECIFIED\"}");
}

static void keys_follow_declaration_order(void **state) {
    (void)state;
    Outfall__V1__Outfall o = OUTFALL__V1__OUTFALL__INIT;
    o.has_survey_level = 1;
    o.survey_level = OUTFALL__V1__SURVEY_LEVEL__SURVEY_LEVEL_WALK;
    o.has_lat = 1;
    o.lat = 1.5;
    o.has_type = 1;
    o.type = OUTFALL__V1__OUTFALL_TYPE__OUTFALL_TYPE_MINE;
    o.name = "n";
    o.has_version = 1;
    o.version = 1;
    o.id = "a";
    assert_encodes(&o.base, 0,
                   "{\"id\":\"a\",\"version\":\"1\",\"name\":\"n\",\"type\":\"OUTFALL_TYPE_MINE\","
                   "\"lat\":1.5,\"surveyLevel\":\"SURVEY_LEVEL_WALK\"}");
}

static void oneof_written_only_for_its_case(void **state) {
    (void)state;
    Outfall__V1__Observation ob = OUTFALL__V1__OBSERVATION__INIT;
    ob.id = "o1";
    Outfall__V1__Change c = OUTFALL__V1__CHANGE__INIT;
    c.entity_case = OUTFALL__V1__CHANGE__ENTITY_OBSERVATION;
    c.observation = &ob;
    assert_encodes(&c.base, 0, "{\"observation\":{\"id\":\"o1\"}}");
    c.entity_case = OUTFALL__V1__CHANGE__ENTITY__NOT_SET;
    assert_encodes(&c.base, 0, "{}");
}

static void enum_encodes_by_name(void **state) {
    (void)state;
    Outfall__V1__LoginResponse r = OUTFALL__V1__LOGIN_RESPONSE__INIT;
    r.has_role = 1;
    r.role = OUTFALL__V1__ROLE__ROLE_ADMIN;
    assert_encodes(&r.base, 0, "{\"role\":\"ROLE_ADMIN\"}");
}

static void unknown_enum_number_written_as_number(void **state) {
    (void)state;
    Outfall__V1__Outfall o = OUTFALL__V1__OUTFALL__INIT;
    o.has_type = 1;
    o.type = (Outfall__V1__OutfallType)99;
    assert_encodes(&o.base, 0, "{\"type\":99}");
}

static void nan_and_infinity_as_strings(void **state) {
    (void)state;
    Outfall__V1__Observation ob = OUTFALL__V1__OBSERVATION__INIT;
    ob.has_lat = ob.has_lon = ob.has_accuracy_m = 1;
    ob.lat = NAN;
    ob.lon = INFINITY;
    ob.accuracy_m = -INFINITY;
    assert_encodes(&ob.base, 0,
                   "{\"lat\":\"NaN\",\"lon\":\"Infinity\",\"accuracyM\":\"-Infinity\"}");

    Outfall__V1__Observation *back = (Outfall__V1__Observation *)decode_ok(
        OBS_DESC, "{\"lat\":\"NaN\",\"lon\":\"Infinity\",\"accuracyM\":\"-Infinity\"}");
    assert_true(back->has_lat && isnan(back->lat));
    assert_true(back->has_lon && isinf(back->lon) && back->lon > 0);
    assert_true(back->has_accuracy_m && isinf(back->accuracy_m) && back->accuracy_m < 0);
    protobuf_c_message_free_unpacked(&back->base, NULL);
}

static void doubles_use_shortest_exact_text(void **state) {
    (void)state;
    Outfall__V1__Observation ob = OUTFALL__V1__OBSERVATION__INIT;
    ob.has_lat = 1;
    ob.lat = 0.1;
    assert_encodes(&ob.base, 0, "{\"lat\":0.1}");
    ob.lat = 1.0 / 3;
    assert_encodes(&ob.base, 0, "{\"lat\":0.3333333333333333}");
    ob.lat = 100;
    assert_encodes(&ob.base, 0, "{\"lat\":100.0}");
    ob.lat = -0.0;
    assert_encodes(&ob.base, 0, "{\"lat\":-0.0}");
    ob.lat = 1e21;
    assert_encodes(&ob.base, 0, "{\"lat\":1e+21}");
}

static void doubles_roundtrip_exactly(void **state) {
    (void)state;
    const double values[] = {0.1,
                             1.0 / 3,
                             -0.0,
                             5e-324,
                             DBL_MIN,
                             DBL_MAX,
                             -DBL_MAX,
                             1e21,
                             1e-7,
                             123456789.0,
                             0.30000000000000004,
                             9007199254740993.0,
                             2.5e-308,
                             112.98765432109876,
                             -1.0};
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        Outfall__V1__Observation ob = OUTFALL__V1__OBSERVATION__INIT;
        ob.has_cod_mg_l = 1;
        ob.cod_mg_l = values[i];
        char *text = pbjson_encode(&ob.base, 0);
        assert_non_null(text);
        Outfall__V1__Observation *back = (Outfall__V1__Observation *)decode_ok(OBS_DESC, text);
        if (memcmp(&back->cod_mg_l, &values[i], sizeof(double)) != 0)
            fail_msg("%.17g came back as %.17g via %s", values[i], back->cod_mg_l, text);
        protobuf_c_message_free_unpacked(&back->base, NULL);
        free(text);
    }
}

static void chinese_text_kept_as_utf8(void **state) {
    (void)state;
    Outfall__V1__Outfall o = OUTFALL__V1__OUTFALL__INIT;
    o.name = "沁河排口（工业）";
    assert_encodes(&o.base, 0, "{\"name\":\"沁河排口（工业）\"}");
    Outfall__V1__Outfall *back = (Outfall__V1__Outfall *)decode_ok(
        OUTFALL_DESC, "{\"name\":\"\\u6c81\\u6cb3\",\"landmark\":\"桥下\"}");
    assert_string_equal(back->name, "沁河");
    assert_string_equal(back->landmark, "桥下");
    protobuf_c_message_free_unpacked(&back->base, NULL);
}

static void control_characters_escaped(void **state) {
    (void)state;
    Outfall__V1__Observation ob = OUTFALL__V1__OBSERVATION__INIT;
    ob.notes = "a\"b\\c\n\t\x01/";
    assert_encodes(&ob.base, 0, "{\"notes\":\"a\\\"b\\\\c\\n\\t\\u0001/\"}");
    assert_roundtrips(&ob.base, 0);
}

static void invalid_utf8_string_not_encoded(void **state) {
    (void)state;
    Outfall__V1__Outfall o = OUTFALL__V1__OUTFALL__INIT;
    o.name = "bad \xff byte";
    assert_null(pbjson_to_json(&o.base, 0));
    assert_null(pbjson_encode(&o.base, 0));
}

static void bytes_as_base64(void **state) {
    (void)state;
    uint8_t key[4] = {0x00, 0x01, 0xfb, 0xff};
    Outfall__V1__Device dev = OUTFALL__V1__DEVICE__INIT;
    dev.has_public_key = 1;
    dev.public_key.data = key;
    dev.public_key.len = sizeof key;
    assert_encodes(&dev.base, 0, "{\"publicKey\":\"AAH7/w==\"}");
    dev.public_key.len = 2;
    assert_encodes(&dev.base, 0, "{\"publicKey\":\"AAE=\"}");
    dev.public_key.len = 0;
    assert_encodes(&dev.base, 0, "{\"publicKey\":\"\"}");
    dev.has_public_key = 0;
    assert_encodes(&dev.base, 0, "{}");

    Outfall__V1__Device *back = (Outfall__V1__Device *)decode_ok(&outfall__v1__device__descriptor,
                                                                 "{\"publicKey\":\"AAH7/w==\"}");
    assert_true(back->has_public_key);
    assert_int_equal(back->public_key.len, 4);
    assert_memory_equal(back->public_key.data, key, 4);
    protobuf_c_message_free_unpacked(&back->base, NULL);
}

static void bytes_accept_url_safe_and_unpadded(void **state) {
    (void)state;
    const char *texts[] = {"{\"publicKey\":\"AAH7/w==\"}", "{\"publicKey\":\"AAH7/w\"}",
                           "{\"publicKey\":\"AAH7_w==\"}", "{\"publicKey\":\"AAH7_w\"}",
                           "{\"public_key\":\"AAH7_w\"}"};
    const uint8_t want[4] = {0x00, 0x01, 0xfb, 0xff};
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        Outfall__V1__Device *d =
            (Outfall__V1__Device *)decode_ok(&outfall__v1__device__descriptor, texts[i]);
        assert_int_equal(d->public_key.len, 4);
        assert_memory_equal(d->public_key.data, want, 4);
        protobuf_c_message_free_unpacked(&d->base, NULL);
    }
    const uint8_t both[3] = {0xfb, 0xff, 0xbf};
    const char *both_texts[] = {"{\"publicKey\":\"+/+/\"}", "{\"publicKey\":\"-_-_\"}"};
    for (size_t i = 0; i < 2; i++) {
        Outfall__V1__Device *d =
            (Outfall__V1__Device *)decode_ok(&outfall__v1__device__descriptor, both_texts[i]);
        assert_int_equal(d->public_key.len, 3);
        assert_memory_equal(d->public_key.data, both, 3);
        protobuf_c_message_free_unpacked(&d->base, NULL);
    }
    Outfall__V1__Device *empty =
        (Outfall__V1__Device *)decode_ok(&outfall__v1__device__descriptor, "{\"publicKey\":\"\"}");
    assert_true(empty->has_public_key);
    assert_int_equal(empty->public_key.len, 0);
    protobuf_c_message_free_unpacked(&empty->base, NULL);
}

static void bytes_bad_base64_refused(void **state) {
    (void)state;
    const ProtobufCMessageDescriptor *d = &outfall__v1__device__descriptor;
    assert_refused(d, "{\"publicKey\":\"AAECA\"}", "publicKey: expected base64 text");
    assert_refused(d, "{\"publicKey\":\"AA=A\"}", "expected base64 text");
    assert_refused(d, "{\"publicKey\":\"AQ=\"}", "expected base64 text");
    assert_refused(d, "{\"publicKey\":\"AQID===\"}", "expected base64 text");
    assert_refused(d, "{\"publicKey\":\"AQ ID\"}", "expected base64 text");
    assert_refused(d, "{\"publicKey\":\"@@@@\"}", "expected base64 text");
    assert_refused(d, "{\"publicKey\":\"====\"}", "expected base64 text");
    assert_refused(d, "{\"publicKey\":12}", "expected base64 text, got a number");
    assert_refused(d, "{\"publicKey\":[1,2]}", "expected base64 text, got an array");
}

static void proto_names_flag(void **state) {
    (void)state;
    Outfall__V1__ResponsibleParty rp = OUTFALL__V1__RESPONSIBLE_PARTY__INIT;
    rp.credit_code = "91410800MA00000000";
    Outfall__V1__Outfall o = OUTFALL__V1__OUTFALL__INIT;
    o.has_accuracy_m = 1;
    o.accuracy_m = 2.5;
    o.responsible_party = &rp;
    assert_encodes(&o.base, PBJSON_PROTO_NAMES,
                   "{\"accuracy_m\":2.5,\"responsible_party\":"
                   "{\"credit_code\":\"91410800MA00000000\"}}");
    assert_encodes(&o.base, 0,
                   "{\"accuracyM\":2.5,\"responsibleParty\":"
                   "{\"creditCode\":\"91410800MA00000000\"}}");
    assert_roundtrips(&o.base, PBJSON_PROTO_NAMES);
}

static void camel_names_follow_protoc_rule(void **state) {
    (void)state;
    Outfall__V1__Observation ob = OUTFALL__V1__OBSERVATION__INIT;
    ob.has_nh3n_mg_l = ob.has_flow_m3_s = ob.has_observed_at_ms = 1;
    ob.nh3n_mg_l = 1.5;
    ob.flow_m3_s = 2.5;
    ob.observed_at_ms = 3;
    assert_encodes(&ob.base, 0, "{\"observedAtMs\":\"3\",\"nh3nMgL\":1.5,\"flowM3S\":2.5}");
}

/* ------------------------------------------------------------------------------ round trips */

static void roundtrip_sync_request_is_identical(void **state) {
    (void)state;
    Outfall__V1__ResponsibleParty rp = OUTFALL__V1__RESPONSIBLE_PARTY__INIT;
    rp.name = "某某化工有限公司";
    rp.credit_code = "91410800MA00000000";
    rp.phone = "+86 391 000 0000";
    rp.address = "";

    char *oflags[] = {"重复?", "needs \"review\"\n"};
    Outfall__V1__Outfall of = OUTFALL__V1__OUTFALL__INIT;
    of.id = "6f1c2a7e-0c1b-4c58-9a43-1f2e3d4c5b6a";
    of.has_version = 1;
    of.version = INT64_MAX;
    of.name = "沁河排口";
    of.has_type = 1;
    of.type = OUTFALL__V1__OUTFALL_TYPE__OUTFALL_TYPE_MINE;
    of.has_lat = of.has_lon = of.has_accuracy_m = 1;
    of.lat = 35.123456789012345;
    of.lon = 112.98765432109876;
    of.accuracy_m = 0.1;
    of.has_entry_method = 1;
    of.entry_method = OUTFALL__V1__ENTRY_METHOD__ENTRY_METHOD_BOX_CULVERT;
    of.has_review_state = 1; /* zero, but present */
    of.landmark = "";
    of.responsible_party = &rp;
    of.n_flags = 2;
    of.flags = oflags;
    of.has_survey_level = 1;
    of.survey_level = OUTFALL__V1__SURVEY_LEVEL__SURVEY_LEVEL_EXPERT;

    Outfall__V1__PhotoRef p1 = OUTFALL__V1__PHOTO_REF__INIT, p2 = OUTFALL__V1__PHOTO_REF__INIT;
    p1.hash = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
    p1.has_kind = 1;
    p1.kind = OUTFALL__V1__PHOTO_KIND__PHOTO_KIND_NEAR;
    p2.has_kind = 1;
    Outfall__V1__PhotoRef *photos[] = {&p1, &p2};

    Outfall__V1__Observation ob = OUTFALL__V1__OBSERVATION__INIT;
    ob.id = "obs-1";
    ob.outfall_id = of.id;
    ob.has_observed_at_ms = 1;
    ob.observed_at_ms = 1732790000123;
    ob.has_flowing = 1;
    ob.flowing = 0;
    ob.has_oil_film = 1;
    ob.oil_film = 1;
    ob.colour = "黄褐色";
    ob.notes = "tab\there";
    ob.n_photos = 2;
    ob.photos = photos;
    ob.has_cod_mg_l = ob.has_ph = ob.has_tn_mg_l = ob.has_tp_mg_l = 1;
    ob.cod_mg_l = 1e-300;
    ob.ph = -0.0;
    ob.tn_mg_l = 5e-324;
    ob.tp_mg_l = DBL_MAX;
    ob.has_discharge_regime = 1;
    ob.discharge_regime = OUTFALL__V1__DISCHARGE_REGIME__DISCHARGE_REGIME_INTERMITTENT;

    Outfall__V1__Change c0 = OUTFALL__V1__CHANGE__INIT, c1 = OUTFALL__V1__CHANGE__INIT,
                        c2 = OUTFALL__V1__CHANGE__INIT;
    c0.change_id = "c0";
    c0.entity_id = of.id;
    c0.has_base_version = 1;
    c0.base_version = 0;
    c0.entity_case = OUTFALL__V1__CHANGE__ENTITY_OUTFALL;
    c0.outfall = &of;
    c1.change_id = "c1";
    c1.has_client_time_ms = 1;
    c1.client_time_ms = -1;
    c1.entity_case = OUTFALL__V1__CHANGE__ENTITY_OBSERVATION;
    c1.observation = &ob;
    c2.change_id = "c2";
    Outfall__V1__Change *changes[] = {&c0, &c1, &c2};

    Outfall__V1__SyncRequest req = OUTFALL__V1__SYNC_REQUEST__INIT;
    req.batch_id = "batch";
    req.device_id = "设备-7";
    req.has_device_seq = 1;
    req.device_seq = 1;
    req.has_since = 1;
    req.since = 0;
    req.n_changes = 3;
    req.changes = changes;
    req.has_pull_limit = 1;
    req.pull_limit = INT32_MIN;

    assert_roundtrips(&req.base, 0);
    assert_roundtrips(&req.base, PBJSON_PROTO_NAMES);
}

static void roundtrip_sync_response_is_identical(void **state) {
    (void)state;
    Outfall__V1__FieldConflict fc = OUTFALL__V1__FIELD_CONFLICT__INIT;
    fc.field = "responsible_party.phone";
    fc.base_value = "null";
    fc.server_value = "\"123\"";
    fc.client_value = "\"456\"";
    Outfall__V1__FieldConflict *conflicts[] = {&fc};
    Outfall__V1__ChangeResult r0 = OUTFALL__V1__CHANGE_RESULT__INIT;
    r0.change_id = "c0";
    r0.has_status = 1;
    r0.status = OUTFALL__V1__CHANGE_STATUS__CHANGE_STATUS_CONFLICT;
    r0.has_version = 1;
    r0.version = 7;
    r0.n_conflicts = 1;
    r0.conflicts = conflicts;
    Outfall__V1__ChangeResult r1 = OUTFALL__V1__CHANGE_RESULT__INIT;
    r1.has_status = 1;
    r1.status = OUTFALL__V1__CHANGE_STATUS__CHANGE_STATUS_REJECTED;
    r1.reason = "outside_division";
    r1.message = "不在您的辖区内";
    Outfall__V1__ChangeResult *results[] = {&r0, &r1};

    Outfall__V1__Redirect rd = OUTFALL__V1__REDIRECT__INIT;
    rd.from_id = "a";
    rd.to_id = "b";
    Outfall__V1__Outfall of = OUTFALL__V1__OUTFALL__INIT;
    of.id = "b";
    of.merged_into = "";
    Outfall__V1__FeedEntry f0 = OUTFALL__V1__FEED_ENTRY__INIT, f1 = OUTFALL__V1__FEED_ENTRY__INIT,
                           f2 = OUTFALL__V1__FEED_ENTRY__INIT;
    f0.has_seq = 1;
    f0.seq = 1;
    f0.entry_case = OUTFALL__V1__FEED_ENTRY__ENTRY_REDIRECT;
    f0.redirect = &rd;
    f1.has_seq = 1;
    f1.seq = 2;
    f1.entry_case = OUTFALL__V1__FEED_ENTRY__ENTRY_OUTFALL;
    f1.outfall = &of;
    f2.has_seq = 1;
    f2.seq = INT64_MIN;
    Outfall__V1__FeedEntry *feed[] = {&f0, &f1, &f2};

    char *missing[] = {"aa", "bb", ""};
    Outfall__V1__SyncResponse resp = OUTFALL__V1__SYNC_RESPONSE__INIT;
    resp.batch_id = "batch";
    resp.n_results = 2;
    resp.results = results;
    resp.n_missing_photos = 3;
    resp.missing_photos = missing;
    resp.n_feed = 3;
    resp.feed = feed;
    resp.has_next_cursor = 1;
    resp.next_cursor = 3;
    resp.has_more = 1;
    resp.more = 0;

    assert_roundtrips(&resp.base, 0);
    assert_roundtrips(&resp.base, PBJSON_PROTO_NAMES);
}

static void roundtrip_device_and_user_are_identical(void **state) {
    (void)state;
    uint8_t key[32];
    for (size_t i = 0; i < sizeof key; i++)
        key[i] = (uint8_t)(i * 37 + 200);
    Outfall__V1__Device dev = OUTFALL__V1__DEVICE__INIT;
    dev.device_id = "d";
    dev.has_public_key = 1;
    dev.public_key.data = key;
    dev.public_key.len = sizeof key;
    dev.has_revoked = 1;
    dev.has_last_seq = 1;
    dev.last_seq = 99;
    assert_roundtrips(&dev.base, 0);

    char *divisions[] = {"410800", "410802"};
    Outfall__V1__User u = OUTFALL__V1__USER__INIT;
    u.username = "张三";
    u.has_role = 1;
    u.role = OUTFALL__V1__ROLE__ROLE_SUPERVISOR;
    u.n_divisions = 2;
    u.divisions = divisions;
    u.has_disabled = 1;
    u.disabled = 1;
    Outfall__V1__User *users[] = {&u, &u};
    Outfall__V1__UserList list = OUTFALL__V1__USER_LIST__INIT;
    list.n_users = 2;
    list.users = users;
    assert_roundtrips(&list.base, 0);
}

/* ----------------------------------------------------------- types outfall.proto lacks */

static void float_uses_shortest_float_text(void **state) {
    (void)state;
    Probe p;
    probe_init(&p.base);
    p.has_f = 1;
    p.f = 0.1f;
    assert_encodes(&p.base, 0, "{\"f\":0.1}");
    Probe *back = (Probe *)decode_ok(&probe_descriptor, "{\"f\":0.1}");
    assert_true(back->has_f && back->f == 0.1f);
    protobuf_c_message_free_unpacked(&back->base, NULL);

    const float values[] = {FLT_MAX, -FLT_MAX, FLT_MIN, 1e-45f, 16777217.0f, 3.14159274f, -0.0f};
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        p.f = values[i];
        assert_roundtrips(&p.base, 0);
    }
    p.f = NAN;
    assert_encodes(&p.base, 0, "{\"f\":\"NaN\"}");
}

static void float_out_of_range_refused(void **state) {
    (void)state;
    assert_refused(&probe_descriptor, "{\"f\":3.5e38}", "f: 3.5e+38 is out of range for float");
    assert_refused(&probe_descriptor, "{\"f\":\"-1e39\"}", "out of range for float");
    assert_refused(&probe_descriptor, "{\"f\":\"abc\"}", "f: expected a number");
    Probe *p = (Probe *)decode_ok(&probe_descriptor, "{\"f\":3.4028235e38}");
    assert_true(p->f == FLT_MAX);
    protobuf_c_message_free_unpacked(&p->base, NULL);
    p = (Probe *)decode_ok(&probe_descriptor, "{\"f\":\"-Infinity\"}");
    assert_true(isinf(p->f) && p->f < 0);
    protobuf_c_message_free_unpacked(&p->base, NULL);
}

static void uint64_full_range(void **state) {
    (void)state;
    Probe p;
    probe_init(&p.base);
    p.has_u64 = 1;
    p.u64 = UINT64_MAX;
    assert_encodes(&p.base, 0, "{\"u64\":\"18446744073709551615\"}");
    assert_roundtrips(&p.base, 0);
    assert_refused(&probe_descriptor, "{\"u64\":\"18446744073709551616\"}",
                   "u64: 18446744073709551616 is out of range for uint64");
    assert_refused(&probe_descriptor, "{\"u64\":\"-1\"}", "-1 is out of range for uint64");
    assert_refused(&probe_descriptor, "{\"u64\":-1}", "out of range for uint64");
    Probe *back = (Probe *)decode_ok(&probe_descriptor, "{\"u64\":9223372036854775807}");
    assert_true(back->u64 == INT64_MAX);
    protobuf_c_message_free_unpacked(&back->base, NULL);
}

static void uint32_as_number_and_range_checked(void **state) {
    (void)state;
    Probe p;
    probe_init(&p.base);
    p.has_u32 = 1;
    p.u32 = UINT32_MAX;
    assert_encodes(&p.base, 0, "{\"u32\":4294967295}");
    assert_roundtrips(&p.base, 0);
    assert_refused(&probe_descriptor, "{\"u32\":4294967296}", "out of range for fixed32");
    assert_refused(&probe_descriptor, "{\"u32\":-1}", "out of range for fixed32");
}

static void repeated_scalars_roundtrip(void **state) {
    (void)state;
    int32_t nums[] = {0, -1, INT32_MIN, INT32_MAX};
    uint8_t b0[] = {1, 2, 3};
    ProtobufCBinaryData blobs[] = {{sizeof b0, b0}, {0, NULL}};
    int kinds[] = {OUTFALL__V1__PHOTO_KIND__PHOTO_KIND_FAR, 77};
    Probe p;
    probe_init(&p.base);
    p.n_nums = 4;
    p.nums = nums;
    p.n_blobs = 2;
    p.blobs = blobs;
    p.n_kinds = 1;
    p.kinds = kinds;
    assert_encodes(&p.base, PBJSON_PROTO_NAMES,
                   "{\"nums\":[0,-1,-2147483648,2147483647],\"blobs\":[\"AQID\",\"\"],"
                   "\"photo_kinds\":[\"PHOTO_KIND_FAR\"]}");
    assert_roundtrips(&p.base, 0);
    p.n_kinds = 2;
    assert_encodes(&p.base, 0,
                   "{\"nums\":[0,-1,-2147483648,2147483647],\"blobs\":[\"AQID\",\"\"],"
                   "\"photoKinds\":[\"PHOTO_KIND_FAR\",77]}");
    assert_refused(&probe_descriptor, "{\"nums\":[1,2147483648]}", "nums[1]: 2147483648 is out");
    assert_refused(&probe_descriptor, "{\"blobs\":[\"AQID\",\"A\"]}", "blobs[1]: expected base64");
}

static void string_default_not_written_and_replaced(void **state) {
    (void)state;
    Probe p;
    probe_init(&p.base);
    assert_encodes(&p.base, 0, "{}");
    Probe *back = (Probe *)decode_ok(&probe_descriptor, "{}");
    assert_ptr_equal(back->label, probe_label_default);
    protobuf_c_message_free_unpacked(&back->base, NULL);
    back = (Probe *)decode_ok(&probe_descriptor, "{\"label\":\"set\"}");
    assert_string_equal(back->label, "set");
    assert_encodes(&back->base, 0, "{\"label\":\"set\"}");
    protobuf_c_message_free_unpacked(&back->base, NULL);
}

static void implicit_presence_zero_not_written(void **state) {
    (void)state;
    Probe p;
    probe_init(&p.base);
    assert_encodes(&p.base, 0, "{}");
    p.plain_count = 5;
    assert_encodes(&p.base, 0, "{\"plainCount\":5}");
    Probe *back = (Probe *)decode_ok(&probe_descriptor, "{\"plain_count\":\"6\"}");
    assert_int_equal(back->plain_count, 6);
    protobuf_c_message_free_unpacked(&back->base, NULL);
}

static void required_fields_written_and_enforced(void **state) {
    (void)state;
    Req r;
    req_init(&r.base);
    r.name = "";
    assert_encodes(&r.base, 0, "{\"id\":0,\"name\":\"\"}");
    assert_refused(&req_descriptor, "{\"id\":1}", "missing required field 'name'");
    assert_refused(&req_descriptor, "{\"id\":1,\"name\":null}", "missing required field 'name'");
    Req *back = (Req *)decode_ok(&req_descriptor, "{\"id\":1,\"name\":\"n\"}");
    assert_int_equal(back->id, 1);
    assert_string_equal(back->name, "n");
    protobuf_c_message_free_unpacked(&back->base, NULL);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(int64_encodes_as_string),
        cmocka_unit_test(int32_encodes_as_number),
        cmocka_unit_test(absent_optional_is_not_written),
        cmocka_unit_test(zero_with_presence_is_written),
        cmocka_unit_test(keys_follow_declaration_order),
        cmocka_unit_test(oneof_written_only_for_its_case),
        cmocka_unit_test(enum_encodes_by_name),
        cmocka_unit_test(unknown_enum_number_written_as_number),
        cmocka_unit_test(nan_and_infinity_as_strings),
        cmocka_unit_test(doubles_use_shortest_exact_text),
        cmocka_unit_test(doubles_roundtrip_exactly),
        cmocka_unit_test(chinese_text_kept_as_utf8),
        cmocka_unit_test(control_characters_escaped),
        cmocka_unit_test(invalid_utf8_string_not_encoded),
        cmocka_unit_test(bytes_as_base64),
        cmocka_unit_test(bytes_accept_url_safe_and_unpadded),
        cmocka_unit_test(bytes_bad_base64_refused),
        cmocka_unit_test(proto_names_flag),
        cmocka_unit_test(camel_names_follow_protoc_rule),
        cmocka_unit_test(roundtrip_sync_request_is_identical),
        cmocka_unit_test(roundtrip_sync_response_is_identical),
        cmocka_unit_test(roundtrip_device_and_user_are_identical),
        cmocka_unit_test(float_uses_shortest_float_text),
        cmocka_unit_test(float_out_of_range_refused),
        cmocka_unit_test(uint64_full_range),
        cmocka_unit_test(uint32_as_number_and_range_checked),
        cmocka_unit_test(repeated_scalars_roundtrip),
        cmocka_unit_test(string_default_not_written_and_replaced),
        cmocka_unit_test(implicit_presence_zero_not_written),
        cmocka_unit_test(required_fields_written_and_enforced),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
