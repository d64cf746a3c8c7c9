/* Tests for common/pbjson*.c, reading: JSON into protobuf-c messages, every refusal with its error,
 * and hostile input (depth, size). */
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

/* ------------------------------------------------------------------------------ decoding */

static void camel_and_proto_names_both_accepted(void **state) {
    (void)state;
    Outfall__V1__Outfall *o = (Outfall__V1__Outfall *)decode_ok(
        OUTFALL_DESC, "{\"accuracyM\":1,\"entry_method\":\"ENTRY_METHOD_PIPE\","
                      "\"responsibleParty\":{\"credit_code\":\"x\",\"permitNumber\":\"y\"},"
                      "\"riverCode\":\"HH\",\"division_code\":\"410800\"}");
    assert_true(o->has_accuracy_m);
    assert_true(o->accuracy_m == 1.0);
    assert_true(o->has_entry_method);
    assert_int_equal(o->entry_method, OUTFALL__V1__ENTRY_METHOD__ENTRY_METHOD_PIPE);
    assert_non_null(o->responsible_party);
    assert_string_equal(o->responsible_party->credit_code, "x");
    assert_string_equal(o->responsible_party->permit_number, "y");
    assert_string_equal(o->river_code, "HH");
    assert_string_equal(o->division_code, "410800");
    protobuf_c_message_free_unpacked(&o->base, NULL);
}

static void field_given_twice_refused(void **state) {
    (void)state;
    assert_refused(OUTFALL_DESC, "{\"accuracyM\":1,\"accuracy_m\":2}",
                   "field 'accuracy_m' given twice");
    assert_refused(OUTFALL_DESC, "{\"accuracy_m\":null,\"accuracyM\":2}", "given twice");
    assert_refused(OUTFALL_DESC, "{\"flags\":[\"a\"],\"flags\":[\"b\"]}", "duplicate");
}

static void unknown_field_is_refused(void **state) {
    (void)state;
    char err[256];
    ProtobufCMessage *m = NULL;
    const char *text = "{\"id\":\"a\",\"foo\":1}";
    assert_int_equal(pbjson_decode(OUTFALL_DESC, text, strlen(text), &m, err, sizeof err), -1);
    assert_null(m);
    assert_string_equal(err, "unknown field 'foo'");
    assert_refused(OUTFALL_DESC, "{\"responsibleParty\":{\"bar\":1}}",
                   "responsibleParty: unknown field 'bar'");
    assert_refused(OUTFALL_DESC, "{\"Name\":\"x\"}", "unknown field 'Name'");
    assert_refused(OUTFALL_DESC, "{\"river__code\":\"x\"}", "unknown field");
}

static void long_unknown_key_clipped_in_error(void **state) {
    (void)state;
    char text[1200], err[512];
    ProtobufCMessage *m = NULL;
    size_t len = 0;
    len += (size_t)sprintf(text, "{\"");
    for (int i = 0; i < 300; i++)
        len += (size_t)sprintf(text + len, "河"); /* 3 bytes each */
    len += (size_t)sprintf(text + len, "\":1}");
    assert_int_equal(pbjson_decode(OUTFALL_DESC, text, len, &m, err, sizeof err), -1);
    assert_non_null(strstr(err, "unknown field '河河"));
    assert_true(strlen(err) < 100);
    json_t *s = json_string(err); /* still valid UTF-8 */
    assert_non_null(s);
    json_decref(s);
}

static void enum_by_number_accepted(void **state) {
    (void)state;
    Outfall__V1__Outfall *o =
        (Outfall__V1__Outfall *)decode_ok(OUTFALL_DESC, "{\"type\":2,\"reviewState\":3.0}");
    assert_true(o->has_type);
    assert_int_equal(o->type, OUTFALL__V1__OUTFALL_TYPE__OUTFALL_TYPE_MINE);
    assert_int_equal(o->review_state, OUTFALL__V1__REVIEW_STATE__REVIEW_STATE_REJECTED);
    protobuf_c_message_free_unpacked(&o->base, NULL);
    o = (Outfall__V1__Outfall *)decode_ok(OUTFALL_DESC,
                                          "{\"type\":\"OUTFALL_TYPE_DITCH_CHANNEL\"}");
    assert_int_equal(o->type, OUTFALL__V1__OUTFALL_TYPE__OUTFALL_TYPE_DITCH_CHANNEL);
    protobuf_c_message_free_unpacked(&o->base, NULL);
}

static void enum_bad_input_refused(void **state) {
    (void)state;
    assert_refused(OUTFALL_DESC, "{\"type\":\"OUTFALL_TYPE_NOPE\"}",
                   "type: unknown OutfallType value \"OUTFALL_TYPE_NOPE\"");
    assert_refused(OUTFALL_DESC, "{\"type\":\"outfall_type_mine\"}", "unknown OutfallType value");
    assert_refused(OUTFALL_DESC, "{\"type\":\"2\"}", "unknown OutfallType value");
    assert_refused(OUTFALL_DESC, "{\"type\":99}", "unknown OutfallType number 99");
    assert_refused(OUTFALL_DESC, "{\"type\":2.5}", "expected an integer");
    assert_refused(OUTFALL_DESC, "{\"type\":4294967298}", "out of range");
    assert_refused(OUTFALL_DESC, "{\"type\":true}",
                   "expected a name or number of enum OutfallType, got a boolean");
}

static void int32_out_of_range_refused(void **state) {
    (void)state;
    const ProtobufCMessageDescriptor *h = &outfall__v1__health__descriptor;
    assert_refused(h, "{\"schemaVersion\":2147483648}",
                   "schemaVersion: 2147483648 is out of range for int32");
    assert_refused(h, "{\"schemaVersion\":-2147483649}", "out of range for int32");
    assert_refused(h, "{\"schemaVersion\":\"2147483648\"}", "out of range for int32");
    assert_refused(h, "{\"schemaVersion\":1e10}", "out of range for int32");
    Outfall__V1__Health *ok =
        (Outfall__V1__Health *)decode_ok(h, "{\"schemaVersion\":-2147483648}");
    assert_int_equal(ok->schema_version, INT32_MIN);
    protobuf_c_message_free_unpacked(&ok->base, NULL);
    ok = (Outfall__V1__Health *)decode_ok(h, "{\"schemaVersion\":2147483647}");
    assert_int_equal(ok->schema_version, INT32_MAX);
    protobuf_c_message_free_unpacked(&ok->base, NULL);
}

static void int32_numeric_string_accepted(void **state) {
    (void)state;
    Outfall__V1__Health *h = (Outfall__V1__Health *)decode_ok(&outfall__v1__health__descriptor,
                                                              "{\"schemaVersion\":\"-12\"}");
    assert_true(h->has_schema_version);
    assert_int_equal(h->schema_version, -12);
    protobuf_c_message_free_unpacked(&h->base, NULL);
}

static void int64_accepted_as_string_or_number(void **state) {
    (void)state;
    Outfall__V1__Outfall *o =
        (Outfall__V1__Outfall *)decode_ok(OUTFALL_DESC, "{\"version\":\"9223372036854775807\"}");
    assert_true(o->version == INT64_MAX);
    protobuf_c_message_free_unpacked(&o->base, NULL);
    o = (Outfall__V1__Outfall *)decode_ok(OUTFALL_DESC, "{\"version\":-9223372036854775808}");
    assert_true(o->version == INT64_MIN);
    protobuf_c_message_free_unpacked(&o->base, NULL);
    o = (Outfall__V1__Outfall *)decode_ok(OUTFALL_DESC, "{\"version\":\"-9223372036854775808\"}");
    assert_true(o->version == INT64_MIN);
    protobuf_c_message_free_unpacked(&o->base, NULL);
    o = (Outfall__V1__Outfall *)decode_ok(OUTFALL_DESC, "{\"version\":1e3}");
    assert_true(o->has_version && o->version == 1000);
    protobuf_c_message_free_unpacked(&o->base, NULL);
    o = (Outfall__V1__Outfall *)decode_ok(OUTFALL_DESC, "{\"version\":\"0\"}");
    assert_true(o->has_version && o->version == 0);
    protobuf_c_message_free_unpacked(&o->base, NULL);
}

static void int64_out_of_range_refused(void **state) {
    (void)state;
    assert_refused(OUTFALL_DESC, "{\"version\":\"9223372036854775808\"}",
                   "version: 9223372036854775808 is out of range for int64");
    assert_refused(OUTFALL_DESC, "{\"version\":\"-9223372036854775809\"}", "out of range");
    assert_refused(OUTFALL_DESC, "{\"version\":\"99999999999999999999999\"}", "out of range");
    assert_refused(OUTFALL_DESC, "{\"version\":1e19}", "out of range for int64");
    assert_refused(OUTFALL_DESC, "{\"version\":-1e300}", "out of range");
}

static void integer_bad_input_refused(void **state) {
    (void)state;
    assert_refused(OUTFALL_DESC, "{\"version\":1.5}", "version: expected an integer, got 1.5");
    assert_refused(OUTFALL_DESC, "{\"version\":\"1.5\"}", "expected an integer");
    assert_refused(OUTFALL_DESC, "{\"version\":\" 1\"}", "expected an integer");
    assert_refused(OUTFALL_DESC, "{\"version\":\"+1\"}", "expected an integer");
    assert_refused(OUTFALL_DESC, "{\"version\":\"0x10\"}", "expected an integer");
    assert_refused(OUTFALL_DESC, "{\"version\":\"\"}", "expected an integer");
    assert_refused(OUTFALL_DESC, "{\"version\":\"-\"}", "expected an integer");
    assert_refused(OUTFALL_DESC, "{\"version\":true}", "expected an integer, got a boolean");
    assert_refused(OUTFALL_DESC, "{\"version\":[1]}", "expected an integer, got an array");
    assert_refused(OUTFALL_DESC, "{\"version\":{}}", "expected an integer, got an object");
}

static void string_bad_input_refused(void **state) {
    (void)state;
    assert_refused(OUTFALL_DESC, "{\"name\":5}", "name: expected a string, got a number");
    assert_refused(OUTFALL_DESC, "{\"name\":true}", "expected a string, got a boolean");
    assert_refused(OUTFALL_DESC, "{\"name\":[\"a\"]}", "expected a string, got an array");
    assert_refused(OUTFALL_DESC, "{\"name\":{}}", "expected a string, got an object");
    assert_refused(OUTFALL_DESC, "{\"name\":\"\xff\"}", "invalid JSON");

    char err[256];
    ProtobufCMessage *m = NULL;
    json_t *j = json_pack("{s:s%}", "name", "a\0b", (size_t)3);
    assert_non_null(j);
    assert_int_equal(pbjson_from_json(OUTFALL_DESC, j, &m, err, sizeof err), -1);
    assert_null(m);
    assert_string_equal(err, "name: string contains a NUL character");
    json_decref(j);
}

static void bool_bad_input_refused(void **state) {
    (void)state;
    assert_refused(OBS_DESC, "{\"flowing\":\"true\"}", "flowing: expected true or false");
    assert_refused(OBS_DESC, "{\"flowing\":1}", "expected true or false, got a number");
    assert_refused(OBS_DESC, "{\"oilFilm\":0}", "oilFilm: expected true or false");
    Outfall__V1__Observation *ob =
        (Outfall__V1__Observation *)decode_ok(OBS_DESC, "{\"flowing\":false,\"oilFilm\":true}");
    assert_true(ob->has_flowing && !ob->flowing);
    assert_true(ob->has_oil_film && ob->oil_film);
    protobuf_c_message_free_unpacked(&ob->base, NULL);
}

static void double_numeric_string_accepted(void **state) {
    (void)state;
    Outfall__V1__Observation *ob = (Outfall__V1__Observation *)decode_ok(
        OBS_DESC, "{\"lat\":\"1.25\",\"lon\":\"-1e-3\",\"ph\":7,\"codMgL\":\"0\"}");
    assert_true(ob->lat == 1.25);
    assert_true(ob->lon == -1e-3);
    assert_true(ob->has_ph && ob->ph == 7.0);
    assert_true(ob->has_cod_mg_l && ob->cod_mg_l == 0.0);
    protobuf_c_message_free_unpacked(&ob->base, NULL);
}

static void double_bad_input_refused(void **state) {
    (void)state;
    assert_refused(OBS_DESC, "{\"lat\":true}", "lat: expected a number, got a boolean");
    assert_refused(OBS_DESC, "{\"lat\":\"north\"}", "lat: expected a number, got \"north\"");
    assert_refused(OBS_DESC, "{\"lat\":\"nan\"}", "expected a number");
    assert_refused(OBS_DESC, "{\"lat\":\"inf\"}", "expected a number");
    assert_refused(OBS_DESC, "{\"lat\":\"0x10\"}", "expected a number");
    assert_refused(OBS_DESC, "{\"lat\":\" 1\"}", "expected a number");
    assert_refused(OBS_DESC, "{\"lat\":\"1.\"}", "expected a number");
    assert_refused(OBS_DESC, "{\"lat\":\".5\"}", "expected a number");
    assert_refused(OBS_DESC, "{\"lat\":\"1e999\"}", "out of range for double");
    assert_refused(OBS_DESC, "{\"lat\":[]}", "expected a number, got an array");
    assert_refused(OBS_DESC, "{\"lat\":1e999}", "invalid JSON");
}

static void message_bad_input_refused(void **state) {
    (void)state;
    assert_refused(OUTFALL_DESC, "{\"responsibleParty\":\"x\"}",
                   "responsibleParty: expected an object, got a string");
    assert_refused(OUTFALL_DESC, "{\"responsibleParty\":[]}", "expected an object, got an array");
    assert_refused(OUTFALL_DESC, "{\"responsibleParty\":{\"name\":1}}",
                   "responsibleParty.name: expected a string");
}

static void repeated_bad_input_refused(void **state) {
    (void)state;
    assert_refused(OUTFALL_DESC, "{\"flags\":\"x\"}", "flags: expected an array, got a string");
    assert_refused(OUTFALL_DESC, "{\"flags\":[\"a\",null]}",
                   "flags[1]: expected a string, got null");
    assert_refused(OUTFALL_DESC, "{\"flags\":[\"a\",1]}", "flags[1]: expected a string");
    assert_refused(OBS_DESC, "{\"photos\":[{},[]]}", "photos[1]: expected an object");
    assert_refused(OBS_DESC, "{\"photos\":[{\"kind\":\"PHOTO_KIND_X\"}]}",
                   "photos[0].kind: unknown PhotoKind value");
}

static void null_means_absent(void **state) {
    (void)state;
    Outfall__V1__Outfall *o = (Outfall__V1__Outfall *)decode_ok(
        OUTFALL_DESC, "{\"id\":null,\"version\":null,\"flags\":null,\"responsibleParty\":null,"
                      "\"type\":null,\"lat\":null}");
    assert_null(o->id);
    assert_false(o->has_version);
    assert_int_equal(o->n_flags, 0);
    assert_null(o->responsible_party);
    assert_false(o->has_type);
    assert_false(o->has_lat);
    assert_int_equal(protobuf_c_message_get_packed_size(&o->base), 0);
    protobuf_c_message_free_unpacked(&o->base, NULL);
}

static void empty_array_means_absent(void **state) {
    (void)state;
    Outfall__V1__Outfall *o = (Outfall__V1__Outfall *)decode_ok(OUTFALL_DESC, "{\"flags\":[]}");
    assert_int_equal(o->n_flags, 0);
    assert_null(o->flags);
    protobuf_c_message_free_unpacked(&o->base, NULL);
}

static void oneof_two_members_refused(void **state) {
    (void)state;
    assert_refused(&outfall__v1__change__descriptor, "{\"outfall\":{},\"observation\":{}}",
                   "observation: only one field of a oneof may be set, and 'outfall' already is");
    assert_refused(&outfall__v1__feed_entry__descriptor,
                   "{\"redirect\":{\"fromId\":\"a\"},\"observation\":{\"id\":\"b\"}}",
                   "only one field of a oneof");
}

static void oneof_member_decodes_with_its_case(void **state) {
    (void)state;
    Outfall__V1__Change *c = (Outfall__V1__Change *)decode_ok(
        &outfall__v1__change__descriptor, "{\"outfall\":null,\"observation\":{\"id\":\"o\"}}");
    assert_int_equal(c->entity_case, OUTFALL__V1__CHANGE__ENTITY_OBSERVATION);
    assert_string_equal(c->observation->id, "o");
    protobuf_c_message_free_unpacked(&c->base, NULL);
    c = (Outfall__V1__Change *)decode_ok(&outfall__v1__change__descriptor, "{\"outfall\":{}}");
    assert_int_equal(c->entity_case, OUTFALL__V1__CHANGE__ENTITY_OUTFALL);
    assert_non_null(c->outfall);
    protobuf_c_message_free_unpacked(&c->base, NULL);
}

static void error_names_field_path(void **state) {
    (void)state;
    char err[256];
    ProtobufCMessage *m = NULL;
    const char *text = "{\"changes\":[{},{\"outfall\":{}},{\"outfall\":{\"lat\":\"north\"}}]}";
    assert_int_equal(pbjson_decode(&outfall__v1__sync_request__descriptor, text, strlen(text), &m,
                                   err, sizeof err),
                     -1);
    assert_string_equal(err, "changes[2].outfall.lat: expected a number, got \"north\"");
    assert_refused(&outfall__v1__sync_request__descriptor,
                   "{\"changes\":[{\"observation\":{\"photos\":[{\"hash\":1}]}}]}",
                   "changes[0].observation.photos[0].hash: expected a string");
}

static void failure_midway_frees_everything(void **state) {
    (void)state;
    /* Two changes full of strings, arrays and sub-messages, then a bad one: ASan's leak checker
     * proves all of it was freed. */
    assert_refused(&outfall__v1__sync_request__descriptor,
                   "{\"batchId\":\"b\",\"changes\":["
                   "{\"changeId\":\"c1\",\"outfall\":{\"id\":\"o\",\"flags\":[\"x\",\"y\"],"
                   "\"responsibleParty\":{\"name\":\"n\"}}},"
                   "{\"observation\":{\"photos\":[{\"hash\":\"h\"},{\"hash\":\"i\"}],"
                   "\"flags\":[\"z\"]}},"
                   "{\"outfall\":{\"id\":\"p\",\"responsibleParty\":{\"name\":\"q\",\"x\":1}}}]}",
                   "changes[2].outfall.responsibleParty: unknown field 'x'");
    assert_refused(OBS_DESC, "{\"photos\":[{\"hash\":\"a\"},{\"hash\":\"b\",\"kind\":99}]}",
                   "photos[1].kind: unknown PhotoKind number 99");
    assert_refused(OUTFALL_DESC, "{\"flags\":[\"a\",\"b\",false]}", "flags[2]");
}

static void not_an_object_refused(void **state) {
    (void)state;
    assert_refused(OUTFALL_DESC, "[]", "expected a JSON object, got an array");
    assert_refused(OUTFALL_DESC, "\"x\"", "expected a JSON object, got a string");
    assert_refused(OUTFALL_DESC, "12", "expected a JSON object, got a number");
    assert_refused(OUTFALL_DESC, "null", "expected a JSON object, got null");

    char err[128];
    ProtobufCMessage *m = NULL;
    json_t *arr = json_array();
    assert_int_equal(pbjson_from_json(OUTFALL_DESC, arr, &m, err, sizeof err), -1);
    assert_null(m);
    assert_string_equal(err, "expected a JSON object, got an array");
    json_decref(arr);
}

static void invalid_json_refused(void **state) {
    (void)state;
    assert_refused(OUTFALL_DESC, "", "invalid JSON");
    assert_refused(OUTFALL_DESC, "{", "invalid JSON");
    assert_refused(OUTFALL_DESC, "{\"id\":}", "invalid JSON");
    assert_refused(OUTFALL_DESC, "{} x", "invalid JSON");
    assert_refused(OUTFALL_DESC, "{\"id\":\"a\\u0000b\"}", "invalid JSON");

    char err[64];
    ProtobufCMessage *m = NULL;
    assert_int_equal(pbjson_decode(OUTFALL_DESC, NULL, 0, &m, err, sizeof err), -1);
    assert_null(m);
}

static void text_need_not_be_nul_terminated(void **state) {
    (void)state;
    const char text[] = "{\"id\":\"a\"}garbage";
    char err[64];
    ProtobufCMessage *m = NULL;
    assert_int_equal(pbjson_decode(OUTFALL_DESC, text, 10, &m, err, sizeof err), 0);
    assert_string_equal(((Outfall__V1__Outfall *)m)->id, "a");
    protobuf_c_message_free_unpacked(m, NULL);
}

static void small_error_buffer_is_safe(void **state) {
    (void)state;
    const char *text = "{\"somethingUnknown\":1}";
    char err[8];
    ProtobufCMessage *m = NULL;
    memset(err, 'X', sizeof err);
    assert_int_equal(pbjson_decode(OUTFALL_DESC, text, strlen(text), &m, err, sizeof err), -1);
    assert_true(strlen(err) < sizeof err);
    assert_int_equal(pbjson_decode(OUTFALL_DESC, text, strlen(text), &m, NULL, 0), -1);
    assert_null(m);
}

static void empty_object_is_empty_message(void **state) {
    (void)state;
    ProtobufCMessage *m = decode_ok(&outfall__v1__sync_request__descriptor, " { } ");
    assert_int_equal(protobuf_c_message_get_packed_size(m), 0);
    assert_encodes(m, 0, "{}");
    protobuf_c_message_free_unpacked(m, NULL);
}

/* ------------------------------------------------------------------------------ hostile input */

static void thirty_two_levels_accepted(void **state) {
    (void)state;
    char *text = nested_probe_json(32);
    ProtobufCMessage *m = decode_ok(&probe_descriptor, text);
    int levels = 0;
    for (Probe *p = (Probe *)m; p; p = p->child)
        levels++;
    assert_int_equal(levels, 32);
    protobuf_c_message_free_unpacked(m, NULL);
    free(text);
}

static void deep_nesting_refused(void **state) {
    (void)state;
    char *text = nested_probe_json(33);
    assert_refused(&probe_descriptor, text, "nested deeper than 32 levels");
    free(text);
    text = nested_probe_json(2000);
    assert_refused(&probe_descriptor, text, "nested deeper than 32");
    free(text);
}

static void deep_nesting_not_encoded(void **state) {
    (void)state;
    Probe chain[33];
    for (int i = 0; i < 33; i++) {
        probe_init(&chain[i].base);
        chain[i].child = i + 1 < 33 ? &chain[i + 1] : NULL;
    }
    assert_null(pbjson_to_json(&chain[0].base, 0));
    assert_null(pbjson_encode(&chain[0].base, 0));
    json_t *ok = pbjson_to_json(&chain[1].base, 0); /* 32 levels */
    assert_non_null(ok);
    json_decref(ok);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(camel_and_proto_names_both_accepted),
        cmocka_unit_test(field_given_twice_refused),
        cmocka_unit_test(unknown_field_is_refused),
        cmocka_unit_test(long_unknown_key_clipped_in_error),
        cmocka_unit_test(enum_by_number_accepted),
        cmocka_unit_test(enum_bad_input_refused),
        cmocka_unit_test(int32_out_of_range_refused),
        cmocka_unit_test(int32_numeric_string_accepted),
        cmocka_unit_test(int64_accepted_as_string_or_number),
        cmocka_unit_test(int64_out_of_range_refused),
        cmocka_unit_test(integer_bad_input_refused),
        cmocka_unit_test(string_bad_input_refused),
        cmocka_unit_test(bool_bad_input_refused),
        cmocka_unit_test(double_numeric_string_accepted),
        cmocka_unit_test(double_bad_input_refused),
        cmocka_unit_test(message_bad_input_refused),
        cmocka_unit_test(repeated_bad_input_refused),
        cmocka_unit_test(null_means_absent),
        cmocka_unit_test(empty_array_means_absent),
        cmocka_unit_test(oneof_two_members_refused),
        cmocka_unit_test(oneof_member_decodes_with_its_case),
        cmocka_unit_test(error_names_field_path),
        cmocka_unit_test(failure_midway_frees_everything),
        cmocka_unit_test(not_an_object_refused),
        cmocka_unit_test(invalid_json_refused),
        cmocka_unit_test(text_need_not_be_nul_terminated),
        cmocka_unit_test(small_error_buffer_is_safe),
        cmocka_unit_test(empty_object_is_empty_message),
        cmocka_unit_test(thirty_two_levels_accepted),
        cmocka_unit_test(deep_nesting_refused),
        cmocka_unit_test(deep_nesting_not_encoded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
