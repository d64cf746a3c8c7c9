/* The Connect methods added for the last RPC-shaped routes (issue 21.2), through the real server:
 * every route of server/routes.c has a Connect twin (a row running the same handler) unless
 * docs/api.md names it REST on purpose (downloads, tus, images, pages, GeoJSON bodies, health);
 * each new method answers what its REST twin answers, byte for byte in JSON, takes its path
 * segments from its request message (or, for UpdateUser, ResetPassword and AnswerPublicReport,
 * from the body message the twin reads), and refuses a missing one with a Connect error. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "common/util.h"
#include "tests/lib/harness.h"

#define DIV "410882" /* 沁阳市 */

static th_server srv;
static th_user sup;

/* The routes that stay REST on purpose (docs/api.md, Connect): what they answer or take is not a
 * message (files, images, HTML, GeoJSON, CSV, tar, tus uploads), or it is the liveness probe. */
static const char *const rest_only[] = {"/v1/outfalls/{id}/signboard",
                                        "/v1/zones POST",
                                        "/v1/exports/outfalls.geojson",
                                        "/v1/exports/outfalls.csv",
                                        "/v1/exports/photos.tar",
                                        "/v1/reports/annual",
                                        "OPTIONS",
                                        "/v1/photos POST",
                                        "/v1/photos/{hash} POST",
                                        "/v1/photos/{hash} PATCH",
                                        "/v1/photos/{hash} PUT",
                                        "/v1/photos/{hash} DELETE",
                                        "/v1/photos/{hash} HEAD",
                                        "/v1/photos/{hash} GET",
                                        "/public/outfalls",
                                        "/public/outfalls/{code}",
                                        "/healthz",
                                        "/",
                                        "/web/config.json",
                                        "/web/{file}",
                                        "/field",
                                        "/field/",
                                        "/field/{file}",
                                        "/field/vendor/{file}",
                                        "/report",
                                        "/report/",
                                        "/report/{file}",
                                        NULL};

/* 1 when the REST route (method, pattern) is one of rest_only: named by its pattern, by its
 * pattern and method, or (OPTIONS) by its method. */
static int rest_on_purpose(const char *method, const char *pattern) {
    char both[160];
    snprintf(both, sizeof both, "%s %s", pattern, method);
    for (size_t i = 0; rest_only[i]; i++)
        if (strcmp(rest_only[i], pattern) == 0 || strcmp(rest_only[i], both) == 0 ||
            strcmp(rest_only[i], method) == 0)
            return 1;
    return 0;
}

/* POST json to /outfall.v1.<method> as token (NULL: none) into out. Returns the status. */
static long rpc(const char *method, const char *token, const char *json, th_xresult *out) {
    char path[128];
    snprintf(path, sizeof path, "/outfall.v1.%s", method);
    const char *headers[] = {"Content-Type: application/json", "Connect-Protocol-Version: 1", NULL};
    th_xfer x = {.method = "POST",
                 .path = path,
                 .token = token,
                 .headers = headers,
                 .body = json,
                 .len = strlen(json)};
    return th_xfer_run(&srv, &x, out);
}

/* GET path as token (NULL: none) in JSON into out. Returns the status. */
static long rest_get(const char *path, const char *token, th_xresult *out) {
    const char *headers[] = {"Accept: application/json", NULL};
    th_xfer x = {.method = "GET", .path = path, .token = token, .headers = headers};
    return th_xfer_run(&srv, &x, out);
}

/* Asserts that the method with json and the REST GET of path answer 200 with the same bytes. */
static void assert_same_answer(const char *method, const char *json, const char *path,
                               const char *token) {
    th_xresult a, b;
    assert_int_equal(rpc(method, token, json, &a), 200);
    assert_int_equal(rest_get(path, token, &b), 200);
    if (a.r.len != b.r.len || memcmp(a.r.body, b.r.body, a.r.len) != 0)
        print_error("%s: %.*s\n%s: %.*s\n", method, (int)a.r.len, a.r.body, path, (int)b.r.len,
                    b.r.body);
    assert_int_equal(a.r.len, b.r.len);
    assert_memory_equal(a.r.body, b.r.body, a.r.len);
    th_response_free(&a.r);
    th_response_free(&b.r);
}

/* Asserts out is a Connect error body with Connect code want and our code ours in its debug. */
static void assert_connect_error(const th_xresult *out, const char *want, const char *ours) {
    json_t *body = json_loadb((const char *)out->r.body, out->r.len, 0, NULL);
    assert_non_null(body);
    assert_string_equal(json_string_value(json_object_get(body, "code")), want);
    json_t *debug = json_object_get(json_array_get(json_object_get(body, "details"), 0), "debug");
    assert_string_equal(json_string_value(json_object_get(debug, "code")), ours);
    json_decref(body);
}

/* ---- the tests ----------------------------------------------------------------------------- */

static void every_rpc_shaped_route_has_a_connect_method(void **state) {
    (void)state;
    FILE *f = fopen("server/routes.c", "r");
    if (!f) fail_msg("cannot read server/routes.c (run from the repository's root)");
    static char methods[200][128], handlers[200][64], patterns[200][128], rpcs[200][64];
    int n = 0, n_rpc = 0, missing = 0;
    char line[600], method[16], pattern[128], handler[64];
    while (fgets(line, sizeof line, f) && n < 200)
        if (sscanf(line, " {\"%15[A-Z]\", \"%127[^\"]\", %63[a-z_0-9],", method, pattern,
                   handler) == 3) {
            if (strncmp(pattern, "/outfall.v1.", 12) == 0) {
                util_strlcpy(rpcs[n_rpc++], handler, sizeof rpcs[0]);
                continue;
            }
            util_strlcpy(methods[n], method, sizeof methods[0]);
            util_strlcpy(patterns[n], pattern, sizeof patterns[0]);
            util_strlcpy(handlers[n++], handler, sizeof handlers[0]);
        }
    fclose(f);
    assert_true(n > 50 && n_rpc > 30);
    for (int i = 0; i < n; i++) {
        int twin = 0;
        for (int k = 0; k < n_rpc && !twin; k++)
            twin = strcmp(rpcs[k], handlers[i]) == 0;
        if (twin || rest_on_purpose(methods[i], patterns[i])) continue;
        print_error("%s %s (%s) has no Connect method\n", methods[i], patterns[i], handlers[i]);
        missing++;
    }
    assert_int_equal(missing, 0);
}

static void zone_and_filing_reads_answer_as_their_rest_twins(void **state) {
    (void)state;
    assert_same_answer("ZoneService/ListZones", "{\"geometry\":true}", "/v1/zones?geometry=1",
                       sup.token);
    assert_same_answer("ZoneService/FindZonesAt", "{\"lat\":35.08,\"lon\":112.95}",
                       "/v1/zones/at?lat=35.08&lon=112.95", sup.token);
    assert_same_answer("ReportService/ListReportFilings", "{\"year\":2025}",
                       "/v1/reports/filings?year=2025", sup.token);
    assert_same_answer("ProgrammeService/ListInspectionDraws", "{\"limit\":10}",
                       "/v1/inspections/draws?limit=10", sup.token);
    /* a required parameter missing: the twin's refusal, as a Connect error */
    th_xresult out;
    assert_int_equal(rpc("ZoneService/FindZonesAt", sup.token, "{\"lat\":35.08}", &out), 400);
    assert_connect_error(&out, "invalid_argument", "invalid_argument");
    th_response_free(&out.r);
}

/* A public report from its filing to its answer, by Connect calls only. */
static void a_public_report_goes_through_the_connect_methods(void **state) {
    (void)state;
    th_xresult out;
    assert_int_equal(rpc("PublicService/SubmitPublicReport", NULL,
                         "{\"kind\":\"REPORT_KIND_ILLEGAL_DISCHARGE\",\"lat\":35.08,\"lon\":112.95,"
                         "\"divisionCode\":\"" DIV "\",\"description\":\"connect report\"}",
                         &out),
                     200);
    json_t *rep = json_loadb((const char *)out.r.body, out.r.len, 0, NULL);
    th_response_free(&out.r);
    char number[32], json[256], path[96];
    util_strlcpy(number, TH_S(json_string_value(json_object_get(rep, "number"))), sizeof number);
    json_decref(rep);
    assert_int_equal(strlen(number), 16);

    snprintf(json, sizeof json, "{\"number\":\"%s\"}", number);
    snprintf(path, sizeof path, "/public/reports/%s", number);
    assert_same_answer("PublicService/GetPublicReport", json, path, NULL);
    assert_same_answer("ReportService/ListPublicReports", "{\"status\":\"REPORT_STATUS_RECEIVED\"}",
                       "/v1/reports?status=RECEIVED", sup.token);

    char aid[37];
    th_uuid(aid);
    snprintf(json, sizeof json, "{\"number\":\"%s\",\"answerId\":\"%s\",\"answer\":\"已核查\"}",
             number, aid);
    assert_int_equal(rpc("ReportService/AnswerPublicReport", sup.token, json, &out), 200);
    rep = json_loadb((const char *)out.r.body, out.r.len, 0, NULL);
    assert_string_equal(json_string_value(json_object_get(rep, "status")),
                        "REPORT_STATUS_ANSWERED");
    json_decref(rep);
    th_response_free(&out.r);
    /* without the number that names the report: refused, nothing answered */
    snprintf(json, sizeof json, "{\"answerId\":\"%s\",\"answer\":\"x\"}", aid);
    assert_int_equal(rpc("ReportService/AnswerPublicReport", sup.token, json, &out), 400);
    assert_connect_error(&out, "invalid_argument", "invalid_argument");
    th_response_free(&out.r);
}

/* UpdateUser and ResetPassword name the account by the body message's username. */
static void an_admin_updates_and_resets_an_account_by_connect(void **state) {
    (void)state;
    const char *divs[] = {DIV, NULL};
    th_user u;
    assert_int_equal(th_user_new(&srv, "ct", TH_ROLE(SURVEYOR), divs, &u), 0);
    const char *admin = th_admin_token(&srv);
    char json[200];
    th_xresult out;
    snprintf(json, sizeof json, "{\"username\":\"%s\",\"disabled\":true}", u.name);
    assert_int_equal(rpc("AccountService/UpdateUser", admin, json, &out), 200);
    json_t *back = json_loadb((const char *)out.r.body, out.r.len, 0, NULL);
    assert_true(json_is_true(json_object_get(back, "disabled")));
    assert_string_equal(json_string_value(json_object_get(back, "username")), u.name);
    json_decref(back);
    th_response_free(&out.r);
    char token[128];
    assert_int_equal(th_login(&srv, u.name, u.password, token, NULL, NULL), 403);

    snprintf(json, sizeof json, "{\"username\":\"%s\"}", u.name);
    assert_int_equal(rpc("AccountService/ResetPassword", admin, json, &out), 200);
    back = json_loadb((const char *)out.r.body, out.r.len, 0, NULL);
    assert_string_equal(json_string_value(json_object_get(back, "username")), u.name);
    assert_true(strlen(TH_S(json_string_value(json_object_get(back, "password")))) >= 12);
    json_decref(back);
    th_response_free(&out.r);

    /* no username: refused before anything is read or changed; not an admin: refused too */
    assert_int_equal(rpc("AccountService/UpdateUser", admin, "{\"disabled\":false}", &out), 400);
    assert_connect_error(&out, "invalid_argument", "invalid_argument");
    th_response_free(&out.r);
    assert_int_equal(rpc("AccountService/UpdateUser", sup.token, json, &out), 403);
    assert_connect_error(&out, "permission_denied", "forbidden_role");
    th_response_free(&out.r);
}

/* SyncService.GetChanges takes wait as GET /v1/changes?wait= does: an empty page is held until
 * an entry comes or wait seconds pass (issue 21.5); without wait it is answered at once. */
static void get_changes_waits_like_the_rest_feed(void **state) {
    (void)state;
    th_xresult out;
    assert_int_equal(rpc("SyncService/GetChanges", sup.token, "{\"limit\":1000}", &out), 200);
    json_t *page = json_loadb((const char *)out.r.body, out.r.len, 0, NULL);
    th_response_free(&out.r);
    char json[128];
    snprintf(json, sizeof json, "{\"since\":\"%s\",\"wait\":2}",
             TH_S(json_string_value(json_object_get(page, "nextCursor"))));
    json_decref(page);
    int64_t start = util_monotonic_ms();
    assert_int_equal(rpc("SyncService/GetChanges", sup.token, json, &out), 200);
    int64_t waited = util_monotonic_ms() - start;
    th_response_free(&out.r);
    print_message("an empty page with wait=2 answered after %lld ms\n", (long long)waited);
    assert_true(waited >= 1800 && waited < 6000);
    /* a wait above the stated limit is refused as on the REST path */
    assert_int_equal(rpc("SyncService/GetChanges", sup.token, "{\"wait\":31}", &out), 400);
    assert_connect_error(&out, "invalid_argument", "invalid_argument");
    th_response_free(&out.r);
}

static int setup(void **state) {
    (void)state;
    const char *divs[] = {DIV, NULL};
    if (th_server_start(&srv, NULL) != 0 || !th_admin_token(&srv)) return -1;
    return th_user_new(&srv, "ctsup", TH_ROLE(SUPERVISOR), divs, &sup);
}

static int teardown(void **state) {
    (void)state;
    return th_server_stop(&srv);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_rpc_shaped_route_has_a_connect_method),
        cmocka_unit_test(zone_and_filing_reads_answer_as_their_rest_twins),
        cmocka_unit_test(a_public_report_goes_through_the_connect_methods),
        cmocka_unit_test(an_admin_updates_and_resets_an_account_by_connect),
        cmocka_unit_test(get_changes_waits_like_the_rest_feed),
    };
    return cmocka_run_group_tests_name("connect twins", tests, setup, teardown);
}
