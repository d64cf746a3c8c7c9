/* Outfalls found by their code (issue 18, point 8) through the real server: wherever an id is
 * asked (GET /v1/outfalls/{id}, its history and sign board, a transition's outfall_id, a review
 * decision's outfall_id, a report answer's link) the code on the sign board works the same as the
 * id, through one resolver (sync/outfall_ref.h); a code no outfall has is 404
 * unknown_outfall_code and writes nothing; a code does not widen who may see the record. */
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

#define DIV "410882"   /* 沁阳市 */
#define OTHER "410883" /* 孟州市 */
#define UNKNOWN_CODE "410882-qinhe-09-9999"

static th_server srv;
static th_user surveyor, sup, sup_other;
static th_device dev;
static double last_lat, last_lon; /* where create_approved put its outfall */

/* Creates an outfall of DIV and approves it: its id into id and its code into code. */
static void create_approved(char id[37], char code[64]) {
    double lat, lon;
    th_spot(&lat, &lon);
    last_lat = lat;
    last_lon = lon;
    th_batch *b = th_batch_new(&dev);
    th_outfall_create(b, "qinhe", DIV, lat, lon);
    util_strlcpy(id, th_batch_entity(b, 0), 37);
    Outfall__V1__SyncResponse *r = th_sync_ok(&srv, surveyor.token, b, TH_PB);
    th_batch_free(b);
    assert_non_null(r);
    outfall__v1__sync_response__free_unpacked(r, NULL);
    Outfall__V1__DecisionResult *res = NULL;
    assert_int_equal(th_approve(&srv, sup.token, id, 1, &res), 200);
    util_strlcpy(code, TH_S(res->outfall->code), 64);
    outfall__v1__decision_result__free_unpacked(res, NULL);
    assert_true(code[0] != '\0');
}

/* GET path as token in JSON, parsed (json_decref); the status into *status. */
static json_t *get_json(const char *path, const char *token, long *status) {
    th_request rq = {.method = "GET", .path = path, .accept = TH_JSON, .token = token};
    th_response r;
    *status = th_http(&srv, &rq, &r);
    json_t *j = json_loads((const char *)r.body, 0, NULL);
    th_response_free(&r);
    assert_non_null(j);
    return j;
}

/* POST path as token with JSON text; the status, and the answer parsed into *out (json_decref). */
static long post_json(const char *path, const char *token, const char *body, json_t **out) {
    th_request rq = {.method = "POST",
                     .path = path,
                     .token = token,
                     .content_type = TH_JSON,
                     .accept = TH_JSON,
                     .body = (const uint8_t *)body,
                     .len = strlen(body)};
    th_response r;
    long st = th_http(&srv, &rq, &r);
    *out = json_loads((const char *)r.body, 0, NULL);
    th_response_free(&r);
    return st;
}

static const char *str(json_t *j, const char *key) {
    return json_string_value(json_object_get(j, key));
}

static void an_outfall_is_found_by_its_code_wherever_an_id_is_asked(void **state) {
    (void)state;
    char id[37], code[64], path[160], body[1024];
    create_approved(id, code);
    long st;
    /* The record. */
    snprintf(path, sizeof path, "/v1/outfalls/%s", code);
    json_t *j = get_json(path, sup.token, &st);
    assert_int_equal(st, 200);
    assert_string_equal(str(j, "id"), id);
    assert_string_equal(str(j, "code"), code);
    json_decref(j);
    /* Its history. */
    snprintf(path, sizeof path, "/v1/outfalls/%s/history", code);
    j = get_json(path, sup.token, &st);
    assert_int_equal(st, 200);
    assert_string_equal(str(j, "outfallId"), id);
    json_decref(j);
    /* Its sign board. */
    snprintf(path, sizeof path, "/v1/outfalls/%s/signboard?format=json", code);
    j = get_json(path, sup.token, &st);
    assert_int_equal(st, 200);
    assert_string_equal(str(j, "outfallId"), id);
    assert_string_equal(str(j, "code"), code);
    json_decref(j);
    /* A transition names it by its code. */
    char tid[37];
    th_uuid(tid);
    snprintf(body, sizeof body,
             "{\"transitionId\":\"%s\",\"outfallId\":\"%s\",\"baseVersion\":\"2\","
             "\"toStage\":\"LIFECYCLE_STAGE_FOUND\"}",
             tid, code);
    st = post_json("/v1/programme/transitions", sup.token, body, &j);
    if (st != 200) print_message("transition: %ld %s\n", st, str(j, "message"));
    assert_int_equal(st, 200);
    json_decref(j);
    /* A review decision names it by its code: returned to the field with a comment. */
    char did[37];
    th_uuid(did);
    snprintf(body, sizeof body,
             "{\"decisionId\":\"%s\",\"kind\":\"DECISION_KIND_RETURN\",\"outfallId\":\"%s\","
             "\"baseVersion\":\"3\",\"comment\":\"请补拍标识牌\"}",
             did, code);
    st = post_json("/v1/review/decisions", sup.token, body, &j);
    if (st != 200) print_message("decision: %ld %s\n", st, str(j, "message"));
    assert_int_equal(st, 200);
    json_decref(j);
    snprintf(path, sizeof path, "/v1/outfalls/%s?view=latest", id);
    j = get_json(path, sup.token, &st);
    assert_string_equal(str(j, "reviewComment"), "请补拍标识牌");
    json_decref(j);
    /* A public report is linked to it by its code. */
    snprintf(body, sizeof body,
             "{\"kind\":\"REPORT_KIND_ILLEGAL_DISCHARGE\",\"lat\":35.0891,\"lon\":112.9501,"
             "\"divisionCode\":\"%s\",\"description\":\"夜间排黑水\"}",
             DIV);
    st = post_json("/public/reports", NULL, body, &j);
    assert_int_equal(st, 201);
    char number[32];
    util_strlcpy(number, str(j, "number"), sizeof number);
    json_decref(j);
    char aid[37];
    th_uuid(aid);
    snprintf(body, sizeof body, "{\"answerId\":\"%s\",\"answer\":\"已核查\",\"outfallId\":\"%s\"}",
             aid, code);
    snprintf(path, sizeof path, "/v1/reports/%s/answer", number);
    st = post_json(path, sup.token, body, &j);
    if (st != 200) print_message("answer: %ld %s\n", st, str(j, "message"));
    assert_int_equal(st, 200);
    assert_string_equal(str(j, "outfallId"), id);
    json_decref(j);
    snprintf(path, sizeof path, "/public/reports/%s", number);
    j = get_json(path, NULL, &st);
    assert_int_equal(st, 200);
    assert_string_equal(str(j, "outfallCode"), code);
    json_decref(j);
}

static void an_unknown_code_is_404_everywhere_and_writes_nothing(void **state) {
    (void)state;
    char id[37], code[64], body[512];
    create_approved(id, code);
    th_sum before = th_db_checksum(srv.data, TH_ALL);
    const char *paths[] = {"/v1/outfalls/" UNKNOWN_CODE, "/v1/outfalls/" UNKNOWN_CODE "/history",
                           "/v1/outfalls/" UNKNOWN_CODE "/signboard?format=json"};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        long st;
        json_t *j = get_json(paths[i], sup.token, &st);
        assert_int_equal(st, 404);
        assert_string_equal(str(j, "code"), "unknown_outfall_code");
        assert_non_null(strstr(str(j, "message"), UNKNOWN_CODE));
        json_decref(j);
    }
    char tid[37], did[37];
    th_uuid(tid), th_uuid(did);
    snprintf(body, sizeof body,
             "{\"transitionId\":\"%s\",\"outfallId\":\"" UNKNOWN_CODE "\",\"baseVersion\":\"2\","
             "\"toStage\":\"LIFECYCLE_STAGE_FOUND\"}",
             tid);
    json_t *j = NULL;
    assert_int_equal(post_json("/v1/programme/transitions", sup.token, body, &j), 404);
    assert_string_equal(str(j, "code"), "unknown_outfall_code");
    json_decref(j);
    snprintf(
        body, sizeof body,
        "{\"decisionId\":\"%s\",\"kind\":\"DECISION_KIND_REJECT\",\"outfallId\":\"" UNKNOWN_CODE
        "\",\"baseVersion\":\"2\",\"comment\":\"x\"}",
        did);
    assert_int_equal(post_json("/v1/review/decisions", sup.token, body, &j), 404);
    assert_string_equal(str(j, "code"), "unknown_outfall_code");
    json_decref(j);
    /* A planned merge into an unknown code. */
    snprintf(body, sizeof body,
             "{\"transitionId\":\"%s\",\"outfallId\":\"%s\",\"baseVersion\":\"2\","
             "\"toStage\":\"LIFECYCLE_STAGE_PLANNED\",\"plan\":{\"measure\":"
             "\"REMEDIATION_MEASURE_MERGE\",\"mergeIntoOutfallId\":\"" UNKNOWN_CODE "\"}}",
             tid, code);
    assert_int_equal(post_json("/v1/programme/transitions", sup.token, body, &j), 404);
    assert_string_equal(str(j, "code"), "unknown_outfall_code");
    json_decref(j);
    assert_string_equal(before.hex, th_db_checksum(srv.data, TH_ALL).hex);
}

/* A code opens nothing an id would not: another county's supervisor gets not_found. */
static void a_code_does_not_widen_who_sees_the_record(void **state) {
    (void)state;
    char id[37], code[64], path[160];
    create_approved(id, code);
    long st;
    snprintf(path, sizeof path, "/v1/outfalls/%s/history", code);
    json_t *j = get_json(path, sup_other.token, &st);
    assert_int_equal(st, 404);
    assert_string_equal(str(j, "code"), "not_found");
    json_decref(j);
}

/* Files a public report at lat/lon naming county (and code, may be NULL); the status, and the
 * answer into *out. */
static long report(double lat, double lon, const char *county, const char *code, json_t **out) {
    char body[512], code_field[128] = "";
    if (code) snprintf(code_field, sizeof code_field, ",\"outfallCode\":\"%s\"", code);
    snprintf(body, sizeof body,
             "{\"kind\":\"REPORT_KIND_ILLEGAL_DISCHARGE\",\"lat\":%.6f,\"lon\":%.6f,"
             "\"divisionCode\":\"%s\",\"description\":\"河边有暗管排污\"%s}",
             lat, lon, county, code_field);
    return post_json("/public/reports", NULL, body, out);
}

/* The county stored for report number is county. */
static void stored_county(const char *number, const char *county) {
    assert_int_equal(th_db_count(&srv,
                                 "SELECT count(*) FROM public_reports WHERE number = ? AND "
                                 "division_code = '" DIV "'",
                                 number),
                     strcmp(county, DIV) == 0);
}

/* Issue 18: a public report's county is checked against the outfall code it gives and, without
 * one, against its position (the nearest approved outfall within 3 km; the engine holds no
 * division areas): a wrong pick is corrected, stored corrected, and the answer says which county
 * the reporter picked and why it was changed. A code no outfall has is refused, nothing stored. */
static void a_public_reports_county_is_checked_against_its_code_and_position(void **state) {
    (void)state;
    char id[37], code[64];
    create_approved(id, code);
    json_t *j = NULL;
    /* The code names an outfall of 沁阳市; the reporter picked 孟州市: corrected. */
    assert_int_equal(report(last_lat, last_lon, OTHER, code, &j), 201);
    assert_string_equal(str(j, "reportedDivisionCode"), OTHER);
    assert_non_null(strstr(str(j, "divisionNote"), code));
    stored_county(str(j, "number"), DIV);
    json_decref(j);
    /* No code: the nearest approved outfall (some 50 m away) is in 沁阳市: corrected. */
    assert_int_equal(report(last_lat + 0.0004, last_lon, OTHER, NULL, &j), 201);
    assert_string_equal(str(j, "reportedDivisionCode"), OTHER);
    assert_non_null(strstr(str(j, "divisionNote"), "nearest"));
    stored_county(str(j, "number"), DIV);
    json_decref(j);
    /* The right county: stored as picked, nothing to say. */
    assert_int_equal(report(last_lat, last_lon, DIV, code, &j), 201);
    assert_null(json_object_get(j, "reportedDivisionCode"));
    assert_null(json_object_get(j, "divisionNote"));
    stored_county(str(j, "number"), DIV);
    json_decref(j);
    /* A code no outfall has: refused, nothing stored. */
    th_sum before = th_db_checksum(srv.data, TH_ALL);
    assert_int_equal(report(last_lat, last_lon, DIV, UNKNOWN_CODE, &j), 404);
    assert_string_equal(str(j, "code"), "unknown_outfall_code");
    json_decref(j);
    assert_string_equal(before.hex, th_db_checksum(srv.data, TH_ALL).hex);
}

static int setup(void **state) {
    (void)state;
    const char *divs[] = {DIV, NULL}, *other[] = {OTHER, NULL};
    if (th_server_start(&srv, (const char *[]){"--public-url", "https://hbj.example.cn", NULL}) ||
        th_user_new(&srv, "oc_surveyor", TH_ROLE(SURVEYOR), divs, &surveyor) ||
        th_user_new(&srv, "oc_sup", TH_ROLE(SUPERVISOR), divs, &sup) ||
        th_user_new(&srv, "oc_other", TH_ROLE(SUPERVISOR), other, &sup_other) ||
        th_device_new(&srv, surveyor.token, &dev))
        return -1;
    return 0;
}

static int teardown(void **state) {
    (void)state;
    return th_server_stop(&srv);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(an_outfall_is_found_by_its_code_wherever_an_id_is_asked),
        cmocka_unit_test(an_unknown_code_is_404_everywhere_and_writes_nothing),
        cmocka_unit_test(a_code_does_not_widen_who_sees_the_record),
        cmocka_unit_test(a_public_reports_county_is_checked_against_its_code_and_position),
    };
    return cmocka_run_group_tests_name("outfalls by code", tests, setup, teardown);
}
