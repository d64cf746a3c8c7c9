/* Tests for render/photo_manifest.c: the manifest's header, a photo's line (fields in order, the
 * kind by name, the EXIF time in China Standard Time, coordinates to 7 decimals, tabs and line
 * breaks in a value as spaces, empty fields for what is unknown, a line too long cut to the
 * buffer), and a member's path by media type. The archive as a whole is read back by tar(1) in
 * tests/api/test_exports.c and tests/programme/test_archive.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "outfall/v1/outfall.pb-c.h"
#include "render/photo_manifest.h"

static const char hash[] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

static void the_header_names_the_ten_columns(void **state) {
    (void)state;
    size_t len;
    const char *head = photo_manifest_head(&len);
    assert_int_equal(len, strlen(head));
    assert_string_equal(head, "path\tblake2b_256\tbytes\toutfall_id\toutfall_code\t"
                              "observation_id\tkind\ttaken_at\tgps_lat\tgps_lon\n");
}

static void a_line_gives_every_fact_in_the_headers_order(void **state) {
    (void)state;
    photo_manifest_entry e = {.path = "photos/o/b/x.jpg",
                              .hash = hash,
                              .size = 12345,
                              .outfall_id = "o",
                              .outfall_code = "HN-410802-0001",
                              .observation_id = "b",
                              .kind = OUTFALL__V1__PHOTO_KIND__PHOTO_KIND_NEAR,
                              .taken_ms = 1700000000123LL, /* 2023-11-14T22:13:20Z */
                              .has_gps = 1,
                              .lat = 35.2155,
                              .lon = 113.241234567};
    char line[PHOTO_MANIFEST_LINE];
    size_t len = photo_manifest_line(&e, line);
    char want[512];
    snprintf(want, sizeof want,
             "photos/o/b/x.jpg\t%s\t12345\to\tHN-410802-0001\tb\tPHOTO_KIND_NEAR\t"
             "2023-11-15T06:13:20+08:00\t35.2155000\t113.2412346\n",
             hash);
    assert_string_equal(line, want);
    assert_int_equal(len, strlen(want));
}

static void unknown_facts_are_empty_and_tabs_and_breaks_become_spaces(void **state) {
    (void)state;
    photo_manifest_entry e = {.path = "p",
                              .hash = "h",
                              .size = 0,
                              .outfall_id = "o",
                              .outfall_code = "A\tB\nC\rD",
                              .observation_id = NULL,
                              .kind = 999};
    char line[PHOTO_MANIFEST_LINE];
    photo_manifest_line(&e, line);
    assert_string_equal(line, "p\th\t0\to\tA B C D\t\tPHOTO_KIND_UNSPECIFIED\t\t\t\n");
}

static void a_line_too_long_is_cut_to_the_buffer(void **state) {
    (void)state;
    char code[2 * PHOTO_MANIFEST_LINE];
    memset(code, 'c', sizeof code - 1);
    code[sizeof code - 1] = '\0';
    photo_manifest_entry e = {.path = "p", .hash = "h", .outfall_code = code};
    char line[PHOTO_MANIFEST_LINE];
    size_t len = photo_manifest_line(&e, line);
    assert_true(len < PHOTO_MANIFEST_LINE);
    assert_int_equal(len, strlen(line));
    assert_int_equal(len, PHOTO_MANIFEST_LINE - 1);
    assert_memory_equal(line, "p\th\t0\t\tccc", 10);
}

static void a_members_path_takes_its_extension_from_the_media_type(void **state) {
    (void)state;
    static const struct {
        const char *media_type, *path;
    } cases[] = {
        {"image/jpeg", "photos/o/b/h.jpg"},  {"image/png", "photos/o/b/h.png"},
        {"image/heic", "photos/o/b/h.heic"}, {"application/pdf", "photos/o/b/h.bin"},
        {NULL, "photos/o/b/h.bin"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char path[64];
        photo_manifest_path(path, sizeof path, "o", "b", "h", cases[i].media_type);
        assert_string_equal(path, cases[i].path);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_header_names_the_ten_columns),
        cmocka_unit_test(a_line_gives_every_fact_in_the_headers_order),
        cmocka_unit_test(unknown_facts_are_empty_and_tabs_and_breaks_become_spaces),
        cmocka_unit_test(a_line_too_long_is_cut_to_the_buffer),
        cmocka_unit_test(a_members_path_takes_its_extension_from_the_media_type),
    };
    return cmocka_run_group_tests_name("render/photo_manifest", tests, NULL, NULL);
}
