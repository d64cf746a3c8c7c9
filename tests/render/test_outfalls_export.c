/* Tests for render/outfalls_export.c: a GeoJSON feature's exact bytes (id, [lon, lat], the
 * properties but lon and lat, null for an absent value, numbers bare, text as escaped JSON
 * strings), the collection's opening and closing, and the CSV's header and rows (numbers bare,
 * text quoted and a formula neutralised by csv_text, absent values empty). The whole export is
 * read back by GDAL and compared in tests/api/test_programme_reports.c and test_exports*.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "render/outfalls_export.h"

/* What the renderer wrote, gathered. */
typedef struct sink {
    char s[4096];
    size_t len;
} sink;

static void gather(void *ctx, const char *data, size_t len) {
    sink *k = ctx;
    assert_true(k->len + len < sizeof k->s);
    memcpy(k->s + k->len, data, len);
    k->len += len;
    k->s[k->len] = '\0';
}

static const outfalls_export_cell cells[] = {
    {"id", "o-1", 0},
    {"name", "He said \"hi\"\\\n", 0},
    {"lon", "113.25", 1},
    {"lat", "35.5", 1},
    {"river_code_label", NULL, 0},
    {"version", "3", 1},
    {"responsible_party.name", "=HYPERLINK(\"x\")", 0},
};
#define N_CELLS (sizeof cells / sizeof cells[0])

static void a_feature_has_its_point_and_every_other_column_as_a_property(void **state) {
    (void)state;
    sink k = {0};
    outfalls_export_geojson_feature(gather, &k, "o-1", 113.25, 35.5, cells, N_CELLS, 0);
    assert_string_equal(
        k.s, "\n{\"type\":\"Feature\",\"id\":\"o-1\",\"geometry\":{\"type\":\"Point\","
             "\"coordinates\":[113.25,35.5]},\"properties\":{\"id\":\"o-1\",\"name\":\"He said "
             "\\\"hi\\\"\\\\\\u000a\",\"river_code_label\":null,\"version\":3,\"responsible_party."
             "name\":"
             "\"=HYPERLINK(\\\"x\\\")\"}}");
}

static void
features_after_the_first_are_separated_by_a_comma_and_the_collection_closes(void **state) {
    (void)state;
    sink k = {0};
    outfalls_export_geojson_head(gather, &k);
    outfalls_export_geojson_feature(gather, &k, "a", 1, 2, cells, 1, 0);
    outfalls_export_geojson_feature(gather, &k, "b", -0.5, 1e-7, cells, 1, 1);
    outfalls_export_geojson_tail(gather, &k);
    assert_string_equal(
        k.s,
        "{\"type\":\"FeatureCollection\",\"name\":\"outfalls\",\"features\":["
        "\n{\"type\":\"Feature\",\"id\":\"a\",\"geometry\":{\"type\":\"Point\",\"coordinates\":"
        "[1,2]},\"properties\":{\"id\":\"o-1\"}},"
        "\n{\"type\":\"Feature\",\"id\":\"b\",\"geometry\":{\"type\":\"Point\",\"coordinates\":"
        "[-0.5,0.0000001]},\"properties\":{\"id\":\"o-1\"}}\n]}\n");
}

static void
the_csv_has_a_bom_a_header_and_rows_with_text_quoted_and_formulas_neutralised(void **state) {
    (void)state;
    sink k = {0};
    outfalls_export_csv_head(gather, &k, cells, N_CELLS);
    outfalls_export_csv_row(gather, &k, cells, N_CELLS);
    assert_string_equal(k.s, "\xEF\xBB\xBF"
                             "id,name,lon,lat,river_code_label,version,responsible_party.name\r\n"
                             "o-1,\"He said \"\"hi\"\"\\\n\",113.25,35.5,,3,"
                             "\"'=HYPERLINK(\"\"x\"\")\"\r\n");
}

/* Coordinates at most 7 decimals (about a centimetre), never a binary double spelled out. */
static void coordinates_have_at_most_seven_decimals_and_no_trailing_zeros(void **state) {
    (void)state;
    static const struct {
        double v;
        const char *text;
    } cases[] = {{112.96, "112.96"}, {35.123456789, "35.1234568"}, {100.0, "100"},
                 {-0.00000001, "0"}, {-112.5, "-112.5"},           {0.0000001, "0.0000001"}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char buf[40];
        assert_string_equal(outfalls_export_coordinate(cases[i].v, buf, sizeof buf), cases[i].text);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_feature_has_its_point_and_every_other_column_as_a_property),
        cmocka_unit_test(coordinates_have_at_most_seven_decimals_and_no_trailing_zeros),
        cmocka_unit_test(
            features_after_the_first_are_separated_by_a_comma_and_the_collection_closes),
        cmocka_unit_test(
            the_csv_has_a_bom_a_header_and_rows_with_text_quoted_and_formulas_neutralised),
    };
    return cmocka_run_group_tests_name("render/outfalls_export", tests, NULL, NULL);
}
