/* One set of field names across JSON, CSV and GeoJSON (issue 21.4), through the real server:
 * every header of GET /v1/exports/outfalls.csv and every property of .geojson is a field path of
 * the contract's Outfall (or OutfallExportExtras), and every property of GET /public/outfalls a
 * path of PublicOutfall: nested fields flattened with dots (responsible_party.name), a value's
 * Chinese words as PATH_label beside it. The paths are checked by walking the descriptors the
 * server is built from, so a column named outside the contract (party_name) fails here. */
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/util.h"
#include "tests/lib/harness.h"

#define DIV "410822" /* 博爱县 */
#define PARTY "博爱县字段名污水处理有限公司"

static th_server srv;
static th_user surveyor, sup;
static th_device dev;

/* ---- the contract's paths ------------------------------------------------------------------ */

/* 1 when path (dotted: "responsible_party.name") names a field of desc that holds a value (not a
 * message), walking nested messages by their field names. */
static int leaf_path(const ProtobufCMessageDescriptor *desc, const char *path) {
    char part[128];
    const char *dot = strchr(path, '.');
    size_t n = dot ? (size_t)(dot - path) : strlen(path);
    if (n == 0 || n >= sizeof part) return 0;
    memcpy(part, path, n);
    part[n] = '\0';
    const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field_by_name(desc, part);
    if (!f) return 0;
    if (f->type == PROTOBUF_C_TYPE_MESSAGE)
        return dot ? leaf_path((const ProtobufCMessageDescriptor *)f->descriptor, dot + 1) : 0;
    return dot == NULL;
}

/* 1 when name is a contract path of one of descs (NULL-terminated), or such a path + "_label". */
static int contract_name(const ProtobufCMessageDescriptor *const *descs, const char *name) {
    char base[160];
    util_strlcpy(base, name, sizeof base);
    size_t n = strlen(base), suffix = strlen("_label");
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; descs[i]; i++)
            if (leaf_path(descs[i], base)) return 1;
        if (n <= suffix || strcmp(base + n - suffix, "_label") != 0) return 0;
        base[n - suffix] = '\0';
    }
    return 0;
}

static const ProtobufCMessageDescriptor *const export_descs[] = {
    &outfall__v1__outfall__descriptor, &outfall__v1__outfall_export_extras__descriptor, NULL};
static const ProtobufCMessageDescriptor *const public_descs[] = {
    &outfall__v1__public_outfall__descriptor, NULL};

/* Asserts that every key of props is a contract name of descs; returns how many there are. */
static size_t assert_contract_properties(const ProtobufCMessageDescriptor *const *descs,
                                         json_t *props, const char *what) {
    const char *key;
    json_t *v;
    size_t n = 0;
    json_object_foreach(props, key, v) {
        if (!contract_name(descs, key))
            print_message("%s: \"%s\" is no contract path\n", what, key);
        assert_true(contract_name(descs, key));
        n++;
    }
    return n;
}

/* ---- requests ------------------------------------------------------------------------------ */

/* GET path (with token, or none) → its 200 body as text (malloc'd, NUL-terminated). */
static char *get_text(const char *path, const char *token) {
    th_request rq = {.method = "GET", .path = path, .token = token};
    th_response r;
    assert_int_equal(th_http(&srv, &rq, &r), 200);
    char *text = malloc(r.len + 1);
    assert_non_null(text);
    memcpy(text, r.body, r.len);
    text[r.len] = '\0';
    th_response_free(&r);
    return text;
}

/* GET path → its 200 body parsed as JSON. */
static json_t *get_json(const char *path, const char *token) {
    char *text = get_text(path, token);
    json_t *j = json_loads(text, 0, NULL);
    free(text);
    assert_non_null(j);
    return j;
}

/* The properties of the first feature of a GeoJSON FeatureCollection (borrowed from fc). */
static json_t *first_properties(json_t *fc) {
    json_t *p = json_object_get(json_array_get(json_object_get(fc, "features"), 0), "properties");
    assert_true(json_is_object(p));
    return p;
}

/* ---- the tests ----------------------------------------------------------------------------- */

static void every_csv_header_is_a_contract_field_path(void **state) {
    (void)state;
    char *csv = get_text("/v1/exports/outfalls.csv?division=" DIV, sup.token);
    assert_memory_equal(csv, "\xEF\xBB\xBF", 3);
    char *eol = strstr(csv, "\r\n");
    assert_non_null(eol);
    *eol = '\0';
    size_t n = 0;
    for (char *save = NULL, *name = strtok_r(csv + 3, ",", &save); name;
         name = strtok_r(NULL, ",", &save), n++) {
        if (!contract_name(export_descs, name))
            print_message("CSV: \"%s\" is no contract path\n", name);
        assert_true(contract_name(export_descs, name));
    }
    assert_true(n > 30);
    free(csv);
}

static void every_export_geojson_property_is_a_contract_field_path(void **state) {
    (void)state;
    json_t *fc = get_json("/v1/exports/outfalls.geojson?division=" DIV, sup.token);
    assert_true(assert_contract_properties(export_descs, first_properties(fc), "GeoJSON") > 30);
    json_decref(fc);
}

static void every_public_geojson_property_is_a_public_outfall_field_path(void **state) {
    (void)state;
    json_t *fc = get_json("/public/outfalls", NULL);
    assert_true(assert_contract_properties(public_descs, first_properties(fc), "public") >= 10);
    json_decref(fc);
}

/* The party's name and the type: one name, one value, in the JSON API, both exports and the
 * public GeoJSON. */
static void the_same_field_has_the_same_name_everywhere(void **state) {
    (void)state;
    json_t *list = get_json("/v1/outfalls?division=" DIV, sup.token);
    json_t *o = json_array_get(json_object_get(list, "outfalls"), 0);
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(o, "responsibleParty"), "name")), PARTY);
    const char *type = json_string_value(json_object_get(o, "type"));
    assert_string_equal(type, "OUTFALL_TYPE_MUNICIPAL_WWTP");

    json_t *exp = get_json("/v1/exports/outfalls.geojson?division=" DIV, sup.token);
    json_t *pub = get_json("/public/outfalls", NULL);
    json_t *sides[] = {first_properties(exp), first_properties(pub)};
    for (size_t i = 0; i < 2; i++) {
        assert_string_equal(json_string_value(json_object_get(sides[i], "responsible_party.name")),
                            PARTY);
        assert_string_equal(json_string_value(json_object_get(sides[i], "type")), type);
        assert_string_equal(json_string_value(json_object_get(sides[i], "type_label")),
                            "城镇污水处理厂排污口");
        assert_string_equal(json_string_value(json_object_get(sides[i], "division_code")), DIV);
        assert_string_equal(json_string_value(json_object_get(sides[i], "programme.stage")),
                            "LIFECYCLE_STAGE_FOUND");
    }
    json_decref(pub);
    json_decref(exp);
    json_decref(list);

    char *csv = get_text("/v1/exports/outfalls.csv?division=" DIV, sup.token);
    assert_non_null(strstr(csv, ",responsible_party.name,"));
    assert_non_null(strstr(csv, "," PARTY ","));
    free(csv);
}

/* ---- the world ----------------------------------------------------------------------------- */

/* One approved outfall of DIV with its party named. */
static void make_outfall(void) {
    double lat, lon;
    th_spot(&lat, &lon);
    th_batch *b = th_batch_new(&dev);
    Outfall__V1__Outfall *o = th_outfall_create(b, "danhe", DIV, lat, lon);
    o->name = "字段名排口";
    o->has_type = 1;
    o->type = OUTFALL__V1__OUTFALL_TYPE__OUTFALL_TYPE_MUNICIPAL_WWTP;
    th_outfall_party(b, o)->name = PARTY;
    char id[37];
    util_strlcpy(id, th_batch_entity(b, 0), sizeof id);
    Outfall__V1__SyncResponse *resp = th_sync_ok(&srv, surveyor.token, b, TH_PB);
    th_batch_free(b);
    assert_non_null(resp);
    assert_int_equal(resp->results[0]->status, TH_STATUS(APPLIED));
    outfall__v1__sync_response__free_unpacked(resp, NULL);
    assert_int_equal(th_approve(&srv, sup.token, id, 1, NULL), 200);
}

static int group_setup(void **state) {
    (void)state;
    const char *div[] = {DIV, NULL};
    if (th_server_start(&srv, NULL) != 0) return -1;
    if (th_user_new(&srv, "names-surveyor", TH_ROLE(SURVEYOR), div, &surveyor) != 0 ||
        th_user_new(&srv, "names-supervisor", TH_ROLE(SUPERVISOR), div, &sup) != 0 ||
        th_device_new(&srv, surveyor.token, &dev) != 0)
        return -1;
    make_outfall();
    return 0;
}

static int group_teardown(void **state) {
    (void)state;
    return th_server_stop(&srv);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_csv_header_is_a_contract_field_path),
        cmocka_unit_test(every_export_geojson_property_is_a_contract_field_path),
        cmocka_unit_test(every_public_geojson_property_is_a_public_outfall_field_path),
        cmocka_unit_test(the_same_field_has_the_same_name_everywhere),
    };
    return cmocka_run_group_tests_name("field names", tests, group_setup, group_teardown);
}
