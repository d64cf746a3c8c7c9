/* What sync/exif.c reads from an image: every fixture against MANIFEST.tsv (digest, geotag,
 * DateTimeOriginal), the three ways to a time (offset, GPS stamps, the city's +08:00), the
 * hemisphere refs, pixel sizes, and the formats it knows by their magic bytes. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <sodium.h>

#include "sync/exif.h"
#include "tests/lib/harness.h"

static void read_fixture(const char *name, th_file *f, exif_facts *x, int want) {
    assert_int_equal(th_fixture(name, f), 0);
    assert_int_equal(exif_read(f->data, f->len, x), want);
}

/* Overwrites the first occurrence of from[n] in f with to[n]. */
static void patch(th_file *f, const void *from, const void *to, size_t n) {
    uint8_t *at = memmem(f->data, f->len, from, n);
    assert_non_null(at);
    memcpy(at, to, n);
}

static void every_fixture_matches_its_manifest(void **state) {
    (void)state;
    th_manifest_row rows[32];
    int n = th_manifest(rows, 32);
    assert_true(n >= 8);
    for (int i = 0; i < n; i++) {
        th_file f;
        exif_facts x;
        char hash[65];
        assert_int_equal(th_fixture(rows[i].file, &f), 0);
        th_hash_hex(f.data, f.len, hash);
        assert_string_equal(hash, rows[i].hash);
        assert_int_equal((long)f.len, rows[i].bytes);
        int rc = exif_read(f.data, f.len, &x);
        th_file_free(&f);
        if (strcmp(rows[i].file, "not-an-image.jpg") == 0) {
            assert_int_equal(rc, EXIF_NOT_IMAGE);
            continue;
        }
        if (strcmp(rows[i].file, "truncated.jpg") == 0) {
            assert_int_equal(rc, EXIF_TRUNCATED);
            continue;
        }
        assert_int_equal(rc, EXIF_OK);
        assert_string_equal(x.media_type, "image/jpeg");
        assert_int_equal(x.has_gps, rows[i].has_gps);
        if (rows[i].has_gps) {
            assert_true(fabs(x.lat - rows[i].lat) < 1e-6);
            assert_true(fabs(x.lon - rows[i].lon) < 1e-6);
        }
        assert_int_equal(x.has_time, rows[i].datetime[0] != '\0');
        if (x.has_time) assert_int_equal(x.taken_at_ms, rows[i].taken_ms);
        assert_true(x.width > 0 && x.height > 0);
    }
}

static void altitude_make_model_and_size_are_read(void **state) {
    (void)state;
    th_file f;
    exif_facts x;
    read_fixture("qinhe-outfall-a-1.jpg", &f, &x, EXIF_OK);
    th_file_free(&f);
    assert_true(x.has_alt && fabs(x.alt - 121.5) < 1e-9);
    assert_string_equal(x.make, "HUAWEI");
    assert_string_equal(x.model, "ALN-AL00");
    assert_string_equal(x.time_source, "offset");
    assert_int_equal(x.width, 1600);
    assert_int_equal(x.height, 1200);
}

static void time_without_offset_or_gps_is_local_plus_8(void **state) {
    (void)state;
    th_file f;
    exif_facts x;
    read_fixture("no-gps.jpg", &f, &x, EXIF_OK);
    th_file_free(&f);
    assert_false(x.has_gps);
    assert_string_equal(x.time_source, "local");
    assert_int_equal(x.taken_at_ms, th_plus8_ms("2026:03:15 09:01:00"));
    assert_string_equal(x.make, "OPPO");
}

static void no_exif_has_no_facts_but_a_size(void **state) {
    (void)state;
    th_file f;
    exif_facts x;
    read_fixture("no-exif.jpg", &f, &x, EXIF_OK);
    th_file_free(&f);
    assert_false(x.has_gps || x.has_alt || x.has_time);
    assert_string_equal(x.make, "");
    assert_true(x.width > 0 && x.height > 0);
}

static void gps_stamps_stand_in_for_a_missing_offset(void **state) {
    (void)state;
    th_file f;
    exif_facts x;
    assert_int_equal(th_fixture("qinhe-outfall-a-1.jpg", &f), 0);
    patch(&f, "+08:00", "??????", 6); /* OffsetTimeOriginal unreadable */
    assert_int_equal(exif_read(f.data, f.len, &x), EXIF_OK);
    th_file_free(&f);
    assert_string_equal(x.time_source, "gps"); /* 02:22:05 UTC = 10:22:05 +08:00 */
    assert_int_equal(x.taken_at_ms, th_plus8_ms("2026:03:14 10:22:05"));
}

static void south_and_west_refs_are_negative(void **state) {
    (void)state;
    /* Big-endian IFD entries: GPSLatitudeRef (1) and GPSLongitudeRef (3), ASCII, 2 bytes. */
    static const uint8_t n_ref[] = {0, 1, 0, 2, 0, 0, 0, 2, 'N', 0};
    static const uint8_t s_ref[] = {0, 1, 0, 2, 0, 0, 0, 2, 'S', 0};
    static const uint8_t e_ref[] = {0, 3, 0, 2, 0, 0, 0, 2, 'E', 0};
    static const uint8_t w_ref[] = {0, 3, 0, 2, 0, 0, 0, 2, 'W', 0};
    th_file f;
    exif_facts x;
    assert_int_equal(th_fixture("far-from-claimed-site.jpg", &f), 0);
    patch(&f, n_ref, s_ref, sizeof n_ref);
    patch(&f, e_ref, w_ref, sizeof e_ref);
    assert_int_equal(exif_read(f.data, f.len, &x), EXIF_OK);
    th_file_free(&f);
    assert_true(x.has_gps);
    assert_true(fabs(x.lat + 35.2156) < 1e-6 && fabs(x.lon + 113.2417) < 1e-6);
}

static void jpeg_needs_its_end_marker(void **state) {
    (void)state;
    th_file f;
    exif_facts x;
    read_fixture("truncated.jpg", &f, &x, EXIF_TRUNCATED);
    th_file_free(&f);
    assert_int_equal(th_fixture("qinhe-outfall-a-2.jpg", &f), 0);
    assert_int_equal(exif_read(f.data, f.len - 2, &x), EXIF_TRUNCATED);
    assert_int_equal(exif_read(f.data, f.len - 1, &x), EXIF_TRUNCATED);
    th_file_free(&f);
    char hash[65];
    assert_int_equal(th_photo_variant("qinhe-outfall-a-2.jpg", &f, hash), 0);
    assert_int_equal(exif_read(f.data, f.len, &x), EXIF_OK); /* bytes after FFD9 are fine */
    assert_true(x.has_gps);
    th_file_free(&f);
}

static void png_and_heic_are_known_by_their_magic(void **state) {
    (void)state;
    exif_facts x;
    static const uint8_t png[] = {0x89, 'P',  'N', 'G', '\r', '\n', 0x1a, '\n', /* sig */
                                  0,    0,    0,   13,  'I',  'H',  'D',  'R',  0,   0, 2, 0, 0, 0,
                                  1,    0x80, 8,   2,   0,    0,    0,    0,    0,   0, 0, 0, 0, 0,
                                  0,    'I',  'E', 'N', 'D',  0xae, 0x42, 0x60, 0x82};
    assert_int_equal(exif_read(png, sizeof png, &x), EXIF_OK);
    assert_string_equal(x.media_type, "image/png");
    assert_int_equal(x.width, 512);
    assert_int_equal(x.height, 384);
    assert_int_equal(exif_read(png, sizeof png - 12, &x), EXIF_TRUNCATED); /* no IEND */

    uint8_t heic[] = {0, 0, 0,    24,   'f', 't', 'y',  'p',  'm', 'i', 'f', '1',
                      0, 0, 0,    0,    'm', 'i', 'f',  '1',  'h', 'e', 'i', 'c', /* ftyp */
                      0, 0, 0,    32,   'm', 'e', 't',  'a',  0,   0,   0,   0,
                      0, 0, 0,    20,   'i', 's', 'p',  'e',  0,   0,   0,   0,
                      0, 0, 0x0f, 0xc0, 0,   0,   0x0b, 0xd0, /* meta */
                      0, 0, 0,    8,    'm', 'd', 'a',  't'};
    assert_int_equal(exif_read(heic, sizeof heic, &x), EXIF_OK);
    assert_string_equal(x.media_type, "image/heic");
    assert_int_equal(x.width, 4032);
    assert_int_equal(x.height, 3024);
    assert_int_equal(exif_read(heic, sizeof heic - 4, &x), EXIF_TRUNCATED);
    memcpy(heic + 8, "isom", 4);
    memcpy(heic + 16, "isom", 4);
    memcpy(heic + 20, "avc1", 4);
    assert_int_equal(exif_read(heic, sizeof heic, &x), EXIF_NOT_IMAGE); /* an MP4 */
    assert_int_equal(exif_read((const uint8_t *)"GIF89a", 6, &x), EXIF_NOT_IMAGE);
    assert_int_equal(exif_read((const uint8_t *)"", 0, &x), EXIF_NOT_IMAGE);
}

static void png_exif_chunk_is_read(void **state) {
    (void)state;
    /* A PNG whose eXIf chunk holds the TIFF block of qinhe-outfall-a-1.jpg's APP1. */
    static const uint8_t head[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0,  0, 0,
                                   13,   'I', 'H', 'D', 'R',  0,    0,    0,    64, 0, 0,
                                   0,    48,  8,   2,   0,    0,    0,    0,    0,  0, 0};
    static const uint8_t iend[] = {0, 0, 0, 0, 'I', 'E', 'N', 'D', 0xae, 0x42, 0x60, 0x82};
    th_file f;
    exif_facts x;
    assert_int_equal(th_fixture("qinhe-outfall-a-1.jpg", &f), 0);
    const uint8_t *app1 = memmem(f.data, f.len, "Exif\0\0", 6);
    assert_non_null(app1);
    size_t tiff = (size_t)(app1[-2] << 8 | app1[-1]) - 2 - 6; /* segment length less headers */
    uint8_t *png = malloc(sizeof head + 12 + tiff + sizeof iend);
    uint8_t len[4] = {0, 0, (uint8_t)(tiff >> 8), (uint8_t)tiff}, *p = png;
    memcpy(p, head, sizeof head), p += sizeof head;
    memcpy(p, len, 4), memcpy(p + 4, "eXIf", 4), memcpy(p + 8, app1 + 6, tiff), p += 8 + tiff;
    memset(p, 0, 4), p += 4; /* CRC, not checked */
    memcpy(p, iend, sizeof iend), p += sizeof iend;
    assert_int_equal(exif_read(png, (size_t)(p - png), &x), EXIF_OK);
    assert_string_equal(x.media_type, "image/png");
    assert_int_equal(x.width, 64);
    assert_true(x.has_gps && fabs(x.lat - 35.08621) < 1e-6 && fabs(x.lon - 112.95124) < 1e-6);
    assert_string_equal(x.make, "HUAWEI");
    free(png);
    th_file_free(&f);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_fixture_matches_its_manifest),
        cmocka_unit_test(altitude_make_model_and_size_are_read),
        cmocka_unit_test(time_without_offset_or_gps_is_local_plus_8),
        cmocka_unit_test(no_exif_has_no_facts_but_a_size),
        cmocka_unit_test(gps_stamps_stand_in_for_a_missing_offset),
        cmocka_unit_test(south_and_west_refs_are_negative),
        cmocka_unit_test(jpeg_needs_its_end_marker),
        cmocka_unit_test(png_and_heic_are_known_by_their_magic),
        cmocka_unit_test(png_exif_chunk_is_read),
    };
    if (sodium_init() < 0) return 1;
    return cmocka_run_group_tests_name("sync/exif", tests, NULL, NULL);
}
