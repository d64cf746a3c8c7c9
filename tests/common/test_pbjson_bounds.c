/* common/pbjson_bounds.c: the scans that bound a body's cost before decoding, and the check of
 * an unpacked message that replaced the JSON round trip. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/pbjson.h"
#include "outfall/v1/outfall.pb-c.h"

static const pbjson_bounds loose = {PBJSON_MAX_NESTING, SIZE_MAX, SIZE_MAX, SIZE_MAX};

static int json_rc(const char *text, const pbjson_bounds *b, pbjson_tally *t) {
    return pbjson_json_scan(text, strlen(text), PBJSON_SCAN_MAPPED, b, t);
}

static void brackets_inside_strings_are_not_nesting(void **state) {
    (void)state;
    pbjson_tally t;
    assert_int_equal(json_rc("{\"a\":\"[[[[\\\"{{{{\",\"b\":[1,{\"c\":\"]]]\"}]}", &loose, &t),
                     PBJSON_WITHIN);
    assert_int_equal(t.depth, 3);
    assert_int_equal(t.values, 9); /* 3 keys, 2 strings, 1, 2 objects, 1 array */
}

static void nesting_past_32_is_refused_at_any_depth(void **state) {
    (void)state;
    char text[200001];
    pbjson_tally t;
    for (size_t levels = 32; levels <= 100000; levels = levels == 32 ? 33 : levels * 10) {
        memset(text, '[', levels);
        memset(text + levels, ']', levels);
        text[2 * levels] = '\0';
        assert_int_equal(json_rc(text, &loose, &t),
                         levels <= PBJSON_MAX_NESTING ? PBJSON_WITHIN : PBJSON_TOO_DEEP);
    }
    /* Unclosed and never closed count the same. */
    memset(text, '{', 40);
    text[40] = '\0';
    assert_int_equal(json_rc(text, &loose, &t), PBJSON_TOO_DEEP);
}

static void values_and_memory_are_bounded(void **state) {
    (void)state;
    pbjson_tally t;
    pbjson_bounds few = loose;
    few.max_values = 3;
    assert_int_equal(json_rc("[0,1,2]", &few, &t), PBJSON_TOO_MANY_VALUES);
    assert_int_equal(json_rc("[0,1]", &few, &t), PBJSON_WITHIN);
    size_t two = t.bytes;
    assert_int_equal(json_rc("[0,1,2,3,4,5,6,7,8,9]", &loose, &t), PBJSON_WITHIN);
    assert_true(t.bytes > two);
    pbjson_bounds small = loose;
    small.max_bytes = t.bytes - 1;
    assert_int_equal(json_rc("[0,1,2,3,4,5,6,7,8,9]", &small, &t), PBJSON_TOO_COSTLY);
}

static void wire_scan_counts_packed_and_repeated_elements(void **state) {
    (void)state;
    pbjson_tally t;
    /* InspectionDrawRequest.types (4): five enum values packed, then two unpacked. */
    static const uint8_t packed[] = {0x22, 0x05, 1, 2, 3, 4, 5, 0x20, 1, 0x20, 2};
    assert_int_equal(pbjson_wire_scan(&outfall__v1__inspection_draw_request__descriptor, packed,
                                      sizeof packed, &loose, &t),
                     PBJSON_WITHIN);
    assert_int_equal(t.values, 7);
    assert_int_equal(t.unknown, 0);
    /* SyncRequest.changes (5): empty messages, each one allocated. */
    uint8_t empties[2000];
    for (size_t i = 0; i < sizeof empties; i += 2)
        empties[i] = 0x2a, empties[i + 1] = 0;
    assert_int_equal(pbjson_wire_scan(&outfall__v1__sync_request__descriptor, empties,
                                      sizeof empties, &loose, &t),
                     PBJSON_WITHIN);
    assert_int_equal(t.values, 1000);
    assert_true(t.bytes > 1000 * outfall__v1__change__descriptor.sizeof_message);
    pbjson_bounds small = loose;
    small.max_bytes = 64 * 1024;
    assert_int_equal(pbjson_wire_scan(&outfall__v1__sync_request__descriptor, empties,
                                      sizeof empties, &small, &t),
                     PBJSON_TOO_COSTLY);
}

static void wire_scan_bounds_unknown_fields_and_refuses_broken_bytes(void **state) {
    (void)state;
    pbjson_tally t;
    static const uint8_t unknown[] = {0xc0, 0x3e, 1, 0xc0, 0x3e, 2, 0xc0, 0x3e, 3};
    pbjson_bounds two = loose;
    two.max_unknown = 2;
    const ProtobufCMessageDescriptor *d = &outfall__v1__login_request__descriptor;
    assert_int_equal(pbjson_wire_scan(d, unknown, sizeof unknown, &two, &t),
                     PBJSON_TOO_MANY_UNKNOWN);
    assert_int_equal(pbjson_wire_scan(d, unknown, 6, &two, &t), PBJSON_WITHIN);
    assert_int_equal(t.unknown, 2);
    static const uint8_t cut[] = {0x0a, 0x40, 'a'};
    static const uint8_t group[] = {0x0b, 0x0c};
    static const uint8_t field_zero[] = {0x00, 0x01};
    assert_int_equal(pbjson_wire_scan(d, cut, sizeof cut, &loose, &t), PBJSON_NOT_WIRE);
    assert_int_equal(pbjson_wire_scan(d, group, sizeof group, &loose, &t), PBJSON_NOT_WIRE);
    assert_int_equal(pbjson_wire_scan(d, field_zero, sizeof field_zero, &loose, &t),
                     PBJSON_NOT_WIRE);
}

static void unpacked_message_needs_utf8_and_named_enums(void **state) {
    (void)state;
    char why[128];
    Outfall__V1__LoginRequest login = OUTFALL__V1__LOGIN_REQUEST__INIT;
    login.username = "李伟";
    assert_int_equal(pbjson_check_message(&login.base, why, sizeof why), 0);
    login.username = "\xff\xfe";
    assert_int_equal(pbjson_check_message(&login.base, why, sizeof why), -1);
    assert_non_null(strstr(why, "username"));
    Outfall__V1__Outfall o = OUTFALL__V1__OUTFALL__INIT;
    Outfall__V1__Change c = OUTFALL__V1__CHANGE__INIT;
    Outfall__V1__Change *changes[] = {&c};
    Outfall__V1__SyncRequest req = OUTFALL__V1__SYNC_REQUEST__INIT;
    c.entity_case = OUTFALL__V1__CHANGE__ENTITY_OUTFALL;
    c.outfall = &o;
    req.n_changes = 1;
    req.changes = changes;
    o.has_type = 1;
    o.type = 99;
    assert_int_equal(pbjson_check_message(&req.base, why, sizeof why), -1);
    assert_non_null(strstr(why, "99"));
    o.has_type = 0; /* an absent field is not checked */
    assert_int_equal(pbjson_check_message(&req.base, why, sizeof why), 0);
}

/* The check passes over ASCII 8 bytes at a time: a bad byte is found wherever it sits after or
 * inside a run of ASCII, and a sequence cut at the end of the string is refused too. */
static void utf8_check_finds_a_bad_byte_at_any_place_in_ascii(void **state) {
    (void)state;
    char why[128], text[64];
    static const char *const bad[] = {"\xff", "\xc3", "\xe6\x9d", "\xed\xa0\x80", "\xc0\xaf"};
    Outfall__V1__LoginRequest login = OUTFALL__V1__LOGIN_REQUEST__INIT;
    login.username = text;
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++)
        for (size_t before = 0; before <= 17; before++)
            for (size_t after = 0; after <= 9; after++) {
                size_t n = 0;
                memset(text, 'a', before);
                n += before;
                memcpy(text + n, bad[k], strlen(bad[k]));
                n += strlen(bad[k]);
                memset(text + n, 'b', after);
                n += after;
                text[n] = '\0';
                assert_int_equal(pbjson_check_message(&login.base, why, sizeof why), -1);
            }
    login.username = "an ascii run of more than eight bytes, then 李伟, then ascii again 0123456";
    assert_int_equal(pbjson_check_message(&login.base, why, sizeof why), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(brackets_inside_strings_are_not_nesting),
        cmocka_unit_test(nesting_past_32_is_refused_at_any_depth),
        cmocka_unit_test(values_and_memory_are_bounded),
        cmocka_unit_test(wire_scan_counts_packed_and_repeated_elements),
        cmocka_unit_test(wire_scan_bounds_unknown_fields_and_refuses_broken_bytes),
        cmocka_unit_test(unpacked_message_needs_utf8_and_named_enums),
        cmocka_unit_test(utf8_check_finds_a_bad_byte_at_any_place_in_ascii),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
