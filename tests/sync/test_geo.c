/* Polygons and protection zones (tests sync/geo.c and programme/zones.c): exact point-in-polygon
 * with holes at the boundary cases below, GeoJSON checks, and the zone import. The boundary counts
 * as inside, the hole's boundary included. */
#include "fixture.h"

#include "sync/geo.h"
#include "programme/zones.h"

/* A square 113.0-113.2 E x 35.0-35.2 N with a square hole 113.05-113.15 x 35.05-35.15. */
static const char square_with_hole[] =
    "{\"type\":\"Polygon\",\"coordinates\":["
    "[[113.0,35.0],[113.2,35.0],[113.2,35.2],[113.0,35.2],[113.0,35.0]],"
    "[[113.05,35.05],[113.05,35.15],[113.15,35.15],[113.15,35.05],[113.05,35.05]]]}";

/* A right triangle whose hypotenuse runs from (113.0, 35.0) to (113.2, 35.2): lat = lon - 78. */
static const char triangle[] =
    "{\"type\":\"Polygon\",\"coordinates\":[[[113.0,35.0],[113.2,35.0],[113.2,35.2],"
    "[113.0,35.0]]]}";

/* A diamond with vertices at the latitude of the tested points, and a far second polygon. */
static const char diamond_and_island[] =
    "{\"type\":\"MultiPolygon\",\"coordinates\":["
    "[[[113.0,35.1],[113.1,35.0],[113.2,35.1],[113.1,35.2],[113.0,35.1]]],"
    "[[[112.7,34.9],[112.8,34.9],[112.8,35.0],[112.7,35.0],[112.7,34.9]]]]}";

static geo_shape parse(const char *text) {
    json_t *g = json_loads(text, 0, NULL);
    assert_non_null(g);
    geo_shape s;
    char why[200] = "";
    int rc = geo_parse(g, &s, why, sizeof why);
    if (rc) print_message("geo_parse: %s\n", why);
    assert_int_equal(rc, 0);
    json_decref(g);
    return s;
}

static void square_with_hole_inside_outside_and_in_the_hole(void **state) {
    (void)state;
    geo_shape s = parse(square_with_hole);
    assert_int_equal(s.n_polygons, 1);
    assert_int_equal(s.n_holes, 1);
    assert_int_equal(geo_locate(&s, 35.02, 113.02), GEO_INSIDE);
    assert_int_equal(geo_locate(&s, 35.18, 113.19), GEO_INSIDE);
    assert_int_equal(geo_locate(&s, 35.10, 113.10), GEO_OUTSIDE); /* in the hole */
    assert_int_equal(geo_locate(&s, 35.30, 113.10), GEO_OUTSIDE);
    assert_int_equal(geo_locate(&s, 35.10, 112.99), GEO_OUTSIDE);
    assert_int_equal(geo_contains(&s, 35.10, 113.10), 0);
    geo_free(&s);
}

static void boundary_of_outer_ring_and_of_hole_counts_as_inside(void **state) {
    (void)state;
    geo_shape s = parse(square_with_hole);
    assert_int_equal(geo_locate(&s, 35.0, 113.1), GEO_BOUNDARY);   /* bottom edge */
    assert_int_equal(geo_locate(&s, 35.1, 113.2), GEO_BOUNDARY);   /* right edge */
    assert_int_equal(geo_locate(&s, 35.2, 113.0), GEO_BOUNDARY);   /* a corner */
    assert_int_equal(geo_locate(&s, 35.15, 113.1), GEO_BOUNDARY);  /* the hole's top edge */
    assert_int_equal(geo_locate(&s, 35.05, 113.05), GEO_BOUNDARY); /* the hole's corner */
    assert_int_equal(geo_contains(&s, 35.15, 113.1), 1);
    /* One nanodegree (about 0.1 mm) off the edges decides cleanly either way. */
    assert_int_equal(geo_locate(&s, 34.999999999, 113.1), GEO_OUTSIDE);
    assert_int_equal(geo_locate(&s, 35.000000001, 113.1), GEO_INSIDE);
    assert_int_equal(geo_locate(&s, 35.149999999, 113.1), GEO_OUTSIDE); /* just in the hole */
    assert_int_equal(geo_locate(&s, 35.150000001, 113.1), GEO_INSIDE);
    geo_free(&s);
}

static void diagonal_edge_is_exact_to_the_nanodegree(void **state) {
    (void)state;
    geo_shape s = parse(triangle);
    /* On the hypotenuse: no decimal value on it lands a rounding error away. */
    assert_int_equal(geo_locate(&s, 35.1, 113.1), GEO_BOUNDARY);
    assert_int_equal(geo_locate(&s, 35.123456, 113.123456), GEO_BOUNDARY);
    assert_int_equal(geo_locate(&s, 35.123455999, 113.123456), GEO_INSIDE);
    assert_int_equal(geo_locate(&s, 35.123456001, 113.123456), GEO_OUTSIDE);
    assert_int_equal(geo_locate(&s, 35.05, 113.15), GEO_INSIDE);
    assert_int_equal(geo_locate(&s, 35.15, 113.05), GEO_OUTSIDE);
    geo_free(&s);
}

static void ray_through_vertices_counts_each_crossing_once(void **state) {
    (void)state;
    geo_shape s = parse(diamond_and_island);
    /* On the latitude of the diamond's left and right vertices: a ray eastwards from the west
     * touches both, from the centre only the right one. */
    assert_int_equal(geo_locate(&s, 35.1, 112.95), GEO_OUTSIDE);
    assert_int_equal(geo_locate(&s, 35.1, 113.1), GEO_INSIDE);
    assert_int_equal(geo_locate(&s, 35.1, 113.25), GEO_OUTSIDE);
    assert_int_equal(geo_locate(&s, 35.1, 113.0), GEO_BOUNDARY); /* the vertex itself */
    /* Level with the top vertex, beside it. */
    assert_int_equal(geo_locate(&s, 35.2, 113.05), GEO_OUTSIDE);
    /* The second polygon of the MultiPolygon. */
    assert_int_equal(geo_locate(&s, 34.95, 112.75), GEO_INSIDE);
    assert_int_equal(geo_locate(&s, 34.9, 112.75), GEO_BOUNDARY);
    assert_int_equal(geo_locate(&s, 34.95, 112.85), GEO_OUTSIDE);
    geo_free(&s);
}

static void bad_geometries_are_refused_with_the_reason(void **state) {
    (void)state;
    static const struct {
        const char *json;
        const char *why;
    } bad[] = {
        {"{\"type\":\"Point\",\"coordinates\":[113,35]}", "Polygon or MultiPolygon"},
        {"{\"type\":\"Polygon\",\"coordinates\":[[[113,35],[113.1,35],[113,35]]]}",
         "at least four"},
        {"{\"type\":\"Polygon\",\"coordinates\":[[[113,35],[113.1,35],[113.1,35.1],[113,35.1]]]}",
         "not closed"},
        {"{\"type\":\"Polygon\",\"coordinates\":[[[181,35],[113.1,35],[113.1,35.1],[181,35]]]}",
         "WGS-84"},
        {"{\"type\":\"Polygon\",\"coordinates\":[[[113,\"35\"],[113.1,35],[113.1,35.1],[113,35]]]}",
         "[lon, lat]"},
        {"{\"type\":\"Polygon\",\"coordinates\":[]}", "no coordinates"},
        {"{\"type\":\"MultiPolygon\",\"coordinates\":[[]]}", "outer ring"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_t *g = json_loads(bad[i].json, 0, NULL);
        assert_non_null(g);
        geo_shape s;
        char why[200] = "";
        assert_int_equal(geo_parse(g, &s, why, sizeof why), -1);
        if (!strstr(why, bad[i].why)) print_message("%s: %s\n", bad[i].json, why);
        assert_non_null(strstr(why, bad[i].why));
        assert_int_equal(s.n_polygons, 0);
        json_decref(g);
    }
}

static char *collection(const char *id, const char *kind, const char *geometry) {
    char *out = NULL;
    assert_true(asprintf(&out,
                         "{\"type\":\"FeatureCollection\",\"features\":[{\"type\":\"Feature\","
                         "\"id\":\"%s\",\"properties\":{\"name\":\"沁河饮用水水源一级保护区\","
                         "\"kind\":\"%s\"},\"geometry\":%s}]}",
                         id, kind, geometry) > 0);
    return out;
}

static void import_stores_zones_and_finds_them_by_point(void **state) {
    fixture *f = *state;
    char *fc = collection("qinhe-src-1", "drinking_water", square_with_hole);
    Outfall__V1__ZoneList *zl = NULL;
    sync_error err = {0};
    assert_int_equal(zones_import(f->s, &f->admin, fc, strlen(fc), &zl, &err), 0);
    free(fc);
    assert_int_equal(zl->n_zones, 1);
    assert_string_equal(zl->zones[0]->id, "qinhe-src-1");
    assert_int_equal(zl->zones[0]->kind, OUTFALL__V1__ZONE_KIND__ZONE_KIND_DRINKING_WATER);
    assert_int_equal(zl->zones[0]->holes, 1);
    assert_null(zl->zones[0]->geometry);
    protobuf_c_message_free_unpacked(&zl->base, NULL);

    /* A second zone, a MultiPolygon, as a single Feature with its id in the properties. */
    char *feature = NULL;
    assert_true(asprintf(&feature,
                         "{\"type\":\"Feature\",\"properties\":{\"id\":\"reserve-2\","
                         "\"name\":\"太行山猕猴国家级自然保护区\",\"kind\":\"NATURE_RESERVE\"},"
                         "\"geometry\":%s}",
                         diamond_and_island) > 0);
    assert_int_equal(zones_import(f->s, &f->admin, feature, strlen(feature), NULL, &err), 0);
    free(feature);

    assert_int_equal(zones_at(f->s, 35.02, 113.02, &zl, &err), 0); /* the square only */
    assert_int_equal(zl->n_zones, 1);
    protobuf_c_message_free_unpacked(&zl->base, NULL);
    assert_int_equal(zones_at(f->s, 35.1, 113.0, &zl, &err), 0); /* square edge, diamond vertex */
    assert_int_equal(zl->n_zones, 2);
    assert_string_equal(zl->zones[0]->id, "qinhe-src-1");
    assert_string_equal(zl->zones[1]->id, "reserve-2");
    protobuf_c_message_free_unpacked(&zl->base, NULL);
    assert_int_equal(zones_at(f->s, 35.10, 113.10, &zl, &err), 0); /* hole, diamond centre */
    assert_int_equal(zl->n_zones, 1);
    assert_string_equal(zl->zones[0]->id, "reserve-2");
    protobuf_c_message_free_unpacked(&zl->base, NULL);
    assert_int_equal(zones_at(f->s, 35.4, 113.5, &zl, &err), 0);
    assert_int_equal(zl->n_zones, 0);
    protobuf_c_message_free_unpacked(&zl->base, NULL);

    /* Importing an id again replaces the zone: the hole is gone. */
    fc = collection("qinhe-src-1", "other_special",
                    "{\"type\":\"Polygon\",\"coordinates\":[[[113.0,35.0],[113.2,35.0],"
                    "[113.2,35.2],[113.0,35.2],[113.0,35.0]]]}");
    assert_int_equal(zones_import(f->s, &f->admin, fc, strlen(fc), NULL, &err), 0);
    free(fc);
    assert_int_equal(fx_count(f, "SELECT count(*) FROM protection_zones"), 2);
    assert_int_equal(zones_list(f->s, 1, &zl, &err), 0);
    assert_int_equal(zl->n_zones, 2);
    assert_int_equal(zl->zones[0]->holes, 0);
    assert_int_equal(zl->zones[0]->kind, OUTFALL__V1__ZONE_KIND__ZONE_KIND_OTHER_SPECIAL);
    assert_non_null(strstr(zl->zones[0]->geometry, "\"Polygon\""));
    protobuf_c_message_free_unpacked(&zl->base, NULL);
    assert_true(fx_count(f, "SELECT count(*) FROM audit WHERE action = 'zones.import' "
                            "AND outcome = 'ok'") == 3);
}

static void bad_import_stores_nothing_and_only_admins_import(void **state) {
    fixture *f = *state;
    sync_error err = {0};
    /* The second feature is broken: the first is not kept either. */
    char *fc = NULL;
    assert_true(asprintf(&fc,
                         "{\"type\":\"FeatureCollection\",\"features\":["
                         "{\"type\":\"Feature\",\"id\":\"ok-1\",\"properties\":{\"name\":\"甲\","
                         "\"kind\":\"drinking_water\"},\"geometry\":%s},"
                         "{\"type\":\"Feature\",\"id\":\"bad-2\",\"properties\":{\"name\":\"乙\","
                         "\"kind\":\"drinking_water\"},\"geometry\":{\"type\":\"Polygon\","
                         "\"coordinates\":[[[113,35],[113.1,35],[113.1,35.1],[113,35.1]]]}}]}",
                         triangle) > 0);
    assert_int_equal(zones_import(f->s, &f->admin, fc, strlen(fc), NULL, &err), SYNC_EINVALID);
    assert_string_equal(err.code, "invalid_geojson");
    assert_non_null(strstr(err.message, "bad-2"));
    assert_int_equal(fx_count(f, "SELECT count(*) FROM protection_zones"), 0);
    assert_int_equal(zones_import(f->s, &f->surveyor, fc, strlen(fc), NULL, &err), SYNC_EFORBIDDEN);
    free(fc);
    static const char *const bad[] = {
        "not json",
        "{\"type\":\"FeatureCollection\",\"features\":[]}",
        "{\"type\":\"Polygon\",\"coordinates\":[]}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(zones_import(f->s, &f->admin, bad[i], strlen(bad[i]), NULL, &err),
                         SYNC_EINVALID);
    fc = collection("no spaces allowed", "drinking_water", triangle);
    assert_int_equal(zones_import(f->s, &f->admin, fc, strlen(fc), NULL, &err), SYNC_EINVALID);
    assert_string_equal(err.code, "invalid_zone");
    free(fc);
    fc = collection("z-1", "swimming_pool", triangle);
    assert_int_equal(zones_import(f->s, &f->admin, fc, strlen(fc), NULL, &err), SYNC_EINVALID);
    assert_string_equal(err.code, "invalid_zone");
    free(fc);
    assert_int_equal(fx_count(f, "SELECT count(*) FROM protection_zones"), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(square_with_hole_inside_outside_and_in_the_hole),
        cmocka_unit_test(boundary_of_outer_ring_and_of_hole_counts_as_inside),
        cmocka_unit_test(diagonal_edge_is_exact_to_the_nanodegree),
        cmocka_unit_test(ray_through_vertices_counts_each_crossing_once),
        cmocka_unit_test(bad_geometries_are_refused_with_the_reason),
        cmocka_unit_test_setup_teardown(import_stores_zones_and_finds_them_by_point, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(bad_import_stores_nothing_and_only_admins_import, fx_setup,
                                        fx_teardown),
    };
    return cmocka_run_group_tests_name("geo and zones", tests, NULL, NULL);
}
