/* The public's endpoints through the real server, without a token: GET /public/outfalls
 * (GeoJSON) and GET /public/outfalls/{code} (the sign board's page). They show approved outfalls
 * only, in their approved version, and only the public facts (programme/disclosure.h): each test
 * checks field by field what shows and that nothing private does. Then public reports (举报): filed
 * without an account, rate-limited per client address, answered by a supervisor of their
 * division, followed by the public through the tracking number. Last, random inspection draws:
 * published, and recomputed here from the published facts with programme/draws.c. */
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "common/util.h"
#include "programme/draws.h"
#include "tests/lib/harness.h"

#define DIV "410822"       /* 博爱县 */
#define OTHER_DIV "410883" /* 孟州市 */
#define TYPE(x) OUTFALL__V1__OUTFALL_TYPE__OUTFALL_TYPE_##x

static th_server srv; /* with --real-ip-header X-Real-IP: each test reports from its own address */
static th_user surveyor, sup, sup_other; /* supervisors of DIV and of OTHER_DIV */
static th_device dev;

/* What a record is made of: every private value is unique, so finding it anywhere is a leak. */
typedef struct rec {
    char id[37];
    char code[64];
    char name[96];
    char landmark[64];
    char credit[24];
    char phone[24];
    char contact[32];
    char address[64];
    double lat, lon;
} rec;

/* Creates an outfall as the surveyor with every field of r filled in, type MUNICIPAL_WWTP. */
static void create(rec *r, const char *name) {
    static int n;
    n++;
    util_strlcpy(r->name, name, sizeof r->name);
    snprintf(r->landmark, sizeof r->landmark, "私密地标%d", n);
    snprintf(r->credit, sizeof r->credit, "91410822MA%08d", 40000000 + n);
    snprintf(r->phone, sizeof r->phone, "1380000%04d", n);
    snprintf(r->contact, sizeof r->contact, "联系人甲%d", n);
    snprintf(r->address, sizeof r->address, "博爱县某路%d号", n);
    th_spot(&r->lat, &r->lon);
    r->lat += 0.0000123; /* six decimals that must not show */
    th_batch *b = th_batch_new(&dev);
    Outfall__V1__Outfall *o = th_outfall_create(b, "danhe", DIV, r->lat, r->lon);
    o->name = r->name;
    o->landmark = r->landmark;
    o->has_type = 1;
    o->type = TYPE(MUNICIPAL_WWTP);
    o->has_accuracy_m = 1;
    o->accuracy_m = 3.25;
    Outfall__V1__ResponsibleParty *p = th_outfall_party(b, o);
    p->name = "博爱县第一污水处理有限公司";
    p->contact = r->contact;
    p->phone = r->phone;
    p->address = r->address;
    p->permit_number = "PERMIT-SECRET-0001";
    util_strlcpy(r->id, th_batch_entity(b, 0), sizeof r->id);
    Outfall__V1__SyncResponse *resp = th_sync_ok(&srv, surveyor.token, b, TH_PB);
    th_batch_free(b);
    assert_non_null(resp);
    assert_int_equal(resp->results[0]->status, TH_STATUS(APPLIED));
    outfall__v1__sync_response__free_unpacked(resp, NULL);
}

/* An observation of r with notes that must never show. */
static void observe(const rec *r, const char *notes) {
    th_batch *b = th_batch_new(&dev);
    Outfall__V1__Observation *o = th_observation_create(b, r->id, r->lat, r->lon);
    o->notes = (char *)notes;
    o->colour = "灰";
    Outfall__V1__SyncResponse *resp = th_sync_ok(&srv, surveyor.token, b, TH_PB);
    th_batch_free(b);
    assert_non_null(resp);
    outfall__v1__sync_response__free_unpacked(resp, NULL);
}

/* Approves r at base as the supervisor; r->code gets its code. */
static void approve(rec *r, int64_t base) {
    Outfall__V1__DecisionResult *res = NULL;
    assert_int_equal(th_approve(&srv, sup.token, r->id, base, &res), 200);
    util_strlcpy(r->code, TH_S(res->outfall->code), sizeof r->code);
    assert_true(r->code[0] != '\0');
    outfall__v1__decision_result__free_unpacked(res, NULL);
}

/* An edit of r's name at base by the surveyor, waiting for review. */
static void rename_pending(const rec *r, int64_t base, const char *name) {
    th_batch *b = th_batch_new(&dev);
    th_outfall_edit(b, r->id, base)->name = (char *)name;
    Outfall__V1__SyncResponse *resp = th_sync_ok(&srv, surveyor.token, b, TH_PB);
    th_batch_free(b);
    assert_non_null(resp);
    assert_int_equal(resp->results[0]->status, TH_STATUS(APPLIED));
    outfall__v1__sync_response__free_unpacked(resp, NULL);
}

/* GET path without a token into out (free with th_response_free(&out->r)). */
static long get(const char *path, th_xresult *out) {
    th_xfer x = {.method = "GET", .path = path};
    return th_xfer_run(&srv, &x, out);
}

/* Asserts that none of r's private values, nor the surveyor, the device or the record's id,
 * appears in text. */
static void assert_no_private(const char *text, const rec *r) {
    char lat6[32];
    snprintf(lat6, sizeof lat6, "%.6f", r->lat);
    const char *secrets[] = {r->landmark, r->credit,  r->phone,        r->contact,
                             r->address,  r->id,      surveyor.name,   sup.name,
                             dev.id,      lat6,       "PERMIT-SECRET", "3.25",
                             "accuracy",  "landmark", "flags",         "version"};
    for (size_t i = 0; i < sizeof secrets / sizeof secrets[0]; i++)
        if (strstr(text, secrets[i])) fail_msg("public answer shows \"%s\":\n%s", secrets[i], text);
}

static void page_shows_the_approved_version_and_only_public_facts(void **state) {
    (void)state;
    rec r;
    create(&r, "丹河博爱污水厂排口");
    observe(&r, "观察备注不得公开");
    approve(&r, 1);
    rename_pending(&r, 2, "审核前的新名字");

    char path[160];
    snprintf(path, sizeof path, "/public/outfalls/%s", r.code);
    th_xresult x;
    assert_int_equal(get(path, &x), 200);
    const char *page = (const char *)x.r.body;
    char h[512];
    assert_string_equal(x.r.content_type, "text/html; charset=utf-8");
    assert_true(th_xheader(&x, "Content-Security-Policy", h, sizeof h));
    assert_non_null(strstr(h, "default-src 'none'"));
    assert_null(strstr(h, "script-src"));
    assert_null(strstr(h, "unsafe-inline"));
    assert_true(th_xheader(&x, "X-Content-Type-Options", h, sizeof h));
    assert_string_equal(h, "nosniff");
    char link[200]; /* the report form, the code filled in */
    snprintf(link, sizeof link, "<a href=\"/report/?code=%s\">", r.code);
    assert_non_null(strstr(page, link));
    assert_null(strstr(page, "<script"));
    /* the public facts */
    const char *shown[] = {
        r.code,   "丹河博爱污水厂排口",         "城镇污水处理厂排污口",       "丹河",
        "博爱县", "博爱县第一污水处理有限公司", "焦作市生态环境局博爱县分局", "12369",
        "已排查"};
    for (size_t i = 0; i < sizeof shown / sizeof shown[0]; i++)
        if (!strstr(page, shown[i])) fail_msg("page lacks \"%s\":\n%s", shown[i], page);
    char lat4[32];
    snprintf(lat4, sizeof lat4, "%.4f", r.lat);
    assert_non_null(strstr(page, lat4));
    /* and nothing else: no later edit, no observation, nothing private */
    assert_null(strstr(page, "审核前的新名字"));
    assert_null(strstr(page, "观察备注"));
    assert_no_private(page, &r);
    th_response_free(&x.r);
}

static void geojson_lists_approved_outfalls_with_exactly_the_public_properties(void **state) {
    (void)state;
    rec a, never;
    create(&a, "公开列表排口");
    approve(&a, 1);
    rename_pending(&a, 2, "列表里不应出现的新名字");
    create(&never, "从未审核的排口");

    th_xresult x;
    assert_int_equal(get("/public/outfalls", &x), 200);
    assert_string_equal(x.r.content_type, "application/geo+json");
    const char *text = (const char *)x.r.body;
    assert_no_private(text, &a);
    assert_no_private(text, &never);
    assert_null(strstr(text, "从未审核的排口"));
    assert_null(strstr(text, "列表里不应出现的新名字"));
    json_t *fc = json_loads(text, 0, NULL);
    assert_non_null(fc);
    assert_string_equal(json_string_value(json_object_get(fc, "type")), "FeatureCollection");
    json_t *features = json_object_get(fc, "features"), *f;
    size_t i;
    int found = 0;
    json_array_foreach(features, i, f) {
        json_t *props = json_object_get(f, "properties");
        /* PublicOutfall's field paths, flattened with dots, and the labels beside them */
        const char *keys[] = {"code",
                              "name",
                              "type",
                              "type_label",
                              "river_code",
                              "river_code_label",
                              "division_code",
                              "division_code_label",
                              "responsible_party.name",
                              "programme.stage",
                              "programme.stage_label",
                              "supervising_bureau",
                              "hotline"};
        assert_int_equal(json_object_size(props), sizeof keys / sizeof keys[0]);
        for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++)
            assert_true(json_is_string(json_object_get(props, keys[k])));
        assert_int_equal(json_object_size(f), 3); /* type, geometry, properties */
        if (strcmp(json_string_value(json_object_get(props, "code")), a.code) != 0) continue;
        found++;
        assert_string_equal(json_string_value(json_object_get(props, "name")), "公开列表排口");
        assert_string_equal(json_string_value(json_object_get(props, "type")),
                            "OUTFALL_TYPE_MUNICIPAL_WWTP");
        assert_string_equal(json_string_value(json_object_get(props, "type_label")),
                            "城镇污水处理厂排污口");
        assert_string_equal(json_string_value(json_object_get(props, "river_code_label")), "丹河");
        assert_string_equal(json_string_value(json_object_get(props, "programme.stage_label")),
                            "已排查");
        json_t *c = json_object_get(json_object_get(f, "geometry"), "coordinates");
        double lon = json_number_value(json_array_get(c, 0));
        double lat = json_number_value(json_array_get(c, 1));
        assert_true(lat != a.lat && lat > a.lat - 0.00006 && lat < a.lat + 0.00006);
        assert_true(lon > a.lon - 0.00006 && lon < a.lon + 0.00006);
    }
    assert_int_equal(found, 1);
    json_decref(fc);
    th_response_free(&x.r);
}

/* Public coordinates are written as the short numbers they are (4 decimals), not as binary
 * doubles spelled out: 112.96, never 112.95999999999999 (issue 21). */
static void geojson_writes_coordinates_in_their_shortest_form(void **state) {
    (void)state;
    rec a;
    create(&a, "坐标位数排口");
    approve(&a, 1);
    th_xresult x;
    assert_int_equal(get("/public/outfalls", &x), 200);
    const char *text = (const char *)x.r.body;
    for (const char *p = text; (p = strchr(p, '.')) != NULL; p++) {
        size_t digits = strspn(p + 1, "0123456789");
        if (digits > 7) fail_msg("a number with %zu decimals: %.30s", digits, p - 6);
    }
    json_t *fc = json_loads(text, 0, NULL);
    assert_non_null(fc);
    json_decref(fc);
    th_response_free(&x.r);
}

static void unapproved_or_unknown_code_is_a_404_page(void **state) {
    (void)state;
    rec never;
    create(&never, "未审核");
    th_xresult x;
    assert_int_equal(get("/public/outfalls/410822-danhe-09-9999", &x), 404);
    assert_string_equal(x.r.content_type, "text/html; charset=utf-8");
    assert_null(strstr((const char *)x.r.body, "<script"));
    th_response_free(&x.r);
    char path[96];
    snprintf(path, sizeof path, "/public/outfalls/%s", never.id); /* an id is not a code */
    assert_int_equal(get(path, &x), 404);
    th_response_free(&x.r);
}

static void text_on_the_page_is_escaped(void **state) {
    (void)state;
    rec r;
    create(&r, "<script>alert('x')</script>&\"排口\"");
    approve(&r, 1);
    char path[160];
    snprintf(path, sizeof path, "/public/outfalls/%s", r.code);
    th_xresult x;
    assert_int_equal(get(path, &x), 200);
    const char *page = (const char *)x.r.body;
    assert_null(strstr(page, "<script"));
    assert_null(strstr(page, "alert('x')"));
    assert_non_null(
        strstr(page, "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;&quot;排口&quot;"));
    th_response_free(&x.r);
}

/* ---- public reports ---- */

/* POST /public/reports with JSON text from client address ip; out gets the answer. */
static long report_post(const char *ip, const char *json, th_xresult *out) {
    char real_ip[64];
    snprintf(real_ip, sizeof real_ip, "X-Real-IP: %s", ip);
    const char *h[] = {"Content-Type: application/json", "Accept: application/json", real_ip, NULL};
    th_xfer x = {.method = "POST",
                 .path = "/public/reports",
                 .headers = h,
                 .body = json,
                 .len = strlen(json)};
    return th_xfer_run(&srv, &x, out);
}

/* A valid report in DIV with description desc and contact as JSON text (static buffer). */
static const char *report_json(const char *kind, const char *desc, const char *contact) {
    static char buf[512];
    snprintf(buf, sizeof buf,
             "{\"kind\":\"%s\",\"lat\":35.1712,\"lon\":113.0801,\"divisionCode\":\"" DIV "\","
             "\"description\":\"%s\",\"contact\":\"%s\"}",
             kind, desc, contact);
    return buf;
}

/* Files a report from ip and hands back its tracking number (into number[17]). */
static void report_ok(const char *ip, const char *json, char number[17]) {
    th_xresult x;
    long st = report_post(ip, json, &x);
    if (st != 201) print_message("report: %ld %s\n", st, (const char *)x.r.body);
    assert_int_equal(st, 201);
    json_t *j = json_loads((const char *)x.r.body, 0, NULL);
    const char *n = json_string_value(json_object_get(j, "number"));
    assert_non_null(n);
    assert_int_equal(strlen(n), 16);
    assert_int_equal(strspn(n, "0123456789ABCDEFGHJKMNPQRSTVWXYZ"), 16);
    util_strlcpy(number, n, 17);
    assert_string_equal(json_string_value(json_object_get(j, "status")), "REPORT_STATUS_RECEIVED");
    json_decref(j);
    th_response_free(&x.r);
}

/* The report refused with status and code, the database (audit aside) unchanged. */
static void report_refused(const char *ip, const char *json, long status, const char *code) {
    th_sum before = th_db_checksum(srv.data, TH_ALL);
    th_xresult x;
    long st = report_post(ip, json, &x);
    th_error e;
    th_error_decode(&x.r, &e);
    if (st != status || strcmp(e.code, code) != 0)
        print_message("expected %ld %s, got %ld %s\n", status, code, st, e.code);
    assert_int_equal(st, status);
    assert_string_equal(e.code, code);
    th_response_free(&x.r);
    assert_string_equal(before.hex, th_db_checksum(srv.data, TH_ALL).hex);
}

/* GET path as token (NULL: none) as JSON, parsed; the caller json_decref()s. */
static json_t *get_json(const char *path, const char *token, long want) {
    th_request rq = {.method = "GET", .path = path, .accept = TH_JSON, .token = token};
    th_response r;
    long st = th_http(&srv, &rq, &r);
    if (st != want) print_message("GET %s: %ld %s\n", path, st, (const char *)r.body);
    assert_int_equal(st, want);
    json_t *j = json_loads((const char *)r.body, 0, NULL);
    assert_non_null(j);
    th_response_free(&r);
    return j;
}

/* The report numbered number in the queue token sees, or NULL (borrowed from list). */
static json_t *in_queue(json_t *list, const char *number) {
    json_t *rep;
    size_t i;
    json_array_foreach(json_object_get(list, "reports"), i, rep) {
        if (strcmp(json_string_value(json_object_get(rep, "number")), number) == 0) return rep;
    }
    return NULL;
}

/* POST /v1/reports/{number}/answer as token with JSON text. */
static long answer_post(const char *token, const char *number, const char *json, th_response *r) {
    char path[96];
    snprintf(path, sizeof path, "/v1/reports/%s/answer", number);
    th_request rq = {.method = "POST",
                     .path = path,
                     .content_type = TH_JSON,
                     .accept = TH_JSON,
                     .token = token,
                     .body = json,
                     .len = strlen(json)};
    return th_http(&srv, &rq, r);
}

static void report_goes_from_submission_to_answer_and_its_public_status_follows(void **state) {
    (void)state;
    rec r;
    create(&r, "被举报的排口");
    approve(&r, 1);
    char number[17], path[96];
    report_ok(
        "10.1.0.1",
        report_json("REPORT_KIND_ILLEGAL_DISCHARGE", "夜间排黑水 <b>很臭</b>", "王某 13912345678"),
        number);

    /* the public sees its status, nothing of what was sent */
    snprintf(path, sizeof path, "/public/reports/%s", number);
    json_t *pub = get_json(path, NULL, 200);
    char *text = json_dumps(pub, 0);
    assert_string_equal(json_string_value(json_object_get(pub, "status")),
                        "REPORT_STATUS_RECEIVED");
    assert_null(strstr(text, "13912345678"));
    assert_null(strstr(text, "黑水"));
    assert_null(strstr(text, "35.17"));
    assert_null(strstr(text, "10.1.0.1"));
    free(text);
    json_decref(pub);

    /* the supervisor of the division sees it in full; another division's does not */
    json_t *q = get_json("/v1/reports?status=RECEIVED", sup.token, 200);
    json_t *rep = in_queue(q, number);
    assert_non_null(rep);
    assert_string_equal(json_string_value(json_object_get(rep, "contact")), "王某 13912345678");
    assert_string_equal(json_string_value(json_object_get(rep, "description")),
                        "夜间排黑水 <b>很臭</b>");
    json_decref(q);
    q = get_json("/v1/reports", sup_other.token, 200);
    assert_null(in_queue(q, number));
    json_decref(q);

    /* answered, linked to the outfall; another division's supervisor may not */
    char aid[37], body[512];
    th_uuid(aid);
    snprintf(body, sizeof body,
             "{\"answerId\":\"%s\",\"answer\":\"已现场核查，责令整改。\",\"outfallId\":\"%s\"}",
             aid, r.id);
    th_response resp;
    th_error e;
    assert_int_equal(answer_post(sup_other.token, number, body, &resp), 403);
    th_error_decode(&resp, &e);
    assert_string_equal(e.code, "outside_division");
    th_response_free(&resp);
    assert_int_equal(answer_post(sup.token, number, body, &resp), 200);
    th_response_free(&resp);
    th_sum before = th_db_checksum(srv.data, TH_ALL);
    assert_int_equal(answer_post(sup.token, number, body, &resp), 200); /* a retry */
    th_response_free(&resp);
    assert_string_equal(before.hex, th_db_checksum(srv.data, TH_ALL).hex);
    char other[37], body2[256];
    th_uuid(other);
    snprintf(body2, sizeof body2, "{\"answerId\":\"%s\",\"answer\":\"另一个答复\"}", other);
    assert_int_equal(answer_post(sup.token, number, body2, &resp), 409);
    th_error_decode(&resp, &e);
    assert_string_equal(e.code, "already_answered");
    th_response_free(&resp);
    assert_int_equal(th_db_count(&srv,
                                 "SELECT count(*) FROM audit WHERE action = 'report.answer' "
                                 "AND target = ? AND outcome = 'ok'",
                                 number),
                     1);

    /* the public now reads the answer and the outfall's public code, still no contact */
    pub = get_json(path, NULL, 200);
    text = json_dumps(pub, 0);
    assert_string_equal(json_string_value(json_object_get(pub, "status")),
                        "REPORT_STATUS_ANSWERED");
    assert_string_equal(json_string_value(json_object_get(pub, "answer")),
                        "已现场核查，责令整改。");
    assert_string_equal(json_string_value(json_object_get(pub, "outfallCode")), r.code);
    assert_null(strstr(text, "13912345678"));
    assert_null(strstr(text, r.id));
    free(text);
    json_decref(pub);
    q = get_json("/v1/reports?status=ANSWERED", sup.token, 200);
    rep = in_queue(q, number);
    assert_non_null(rep);
    assert_string_equal(json_string_value(json_object_get(rep, "outfallId")), r.id);
    json_decref(q);
}

static void borrowed_use_is_a_report_of_its_own_kind(void **state) {
    (void)state;
    char number[17], path[96];
    report_ok("10.3.0.1", report_json("REPORT_KIND_BORROWED_USE", "有人私设暗管接入我单位排口", ""),
              number);
    snprintf(path, sizeof path, "/public/reports/%s", number);
    json_t *pub = get_json(path, NULL, 200);
    assert_string_equal(json_string_value(json_object_get(pub, "kind")),
                        "REPORT_KIND_BORROWED_USE");
    json_decref(pub);
}

static void rate_limit_holds_per_client_address(void **state) {
    (void)state;
    char number[17];
    for (int i = 0; i < 5; i++)
        report_ok("10.2.0.1", report_json("REPORT_KIND_ILLEGAL_DISCHARGE", "排污", ""), number);
    report_refused("10.2.0.1", report_json("REPORT_KIND_ILLEGAL_DISCHARGE", "排污", ""), 429,
                   "rate_limited");
    report_ok("10.2.0.2", report_json("REPORT_KIND_ILLEGAL_DISCHARGE", "排污", ""), number);
    assert_int_equal(
        th_db_count(&srv, "SELECT count(*) FROM public_reports WHERE client_addr = ?", "10.2.0.1"),
        5);
}

static void bad_reports_are_refused_and_write_nothing(void **state) {
    (void)state;
    const char *ip = "10.4.0.1";
    report_refused(ip, report_json("REPORT_KIND_ILLEGAL_DISCHARGE", "  ", ""), 400,
                   "description_required");
    report_refused(ip, report_json("REPORT_KIND_UNSPECIFIED", "排污", ""), 400, "invalid_kind");
    report_refused(ip, report_json("REPORT_KIND_ILLEGAL_DISCHARGE", "排污\\u0007", ""), 400,
                   "invalid_text");
    report_refused(ip,
                   "{\"kind\":\"REPORT_KIND_ILLEGAL_DISCHARGE\",\"lat\":39.9,\"lon\":116.4,"
                   "\"divisionCode\":\"" DIV "\",\"description\":\"北京\"}",
                   400, "invalid_position");
    report_refused(ip,
                   "{\"kind\":\"REPORT_KIND_ILLEGAL_DISCHARGE\",\"lat\":35.1,\"lon\":113.1,"
                   "\"divisionCode\":\"999999\",\"description\":\"排污\"}",
                   400, "unknown_division");
    char desc[2100];
    memset(desc, 'x', 2001);
    desc[2001] = '\0';
    char *huge = malloc(20000);
    assert_non_null(huge);
    snprintf(huge, 20000,
             "{\"kind\":\"REPORT_KIND_ILLEGAL_DISCHARGE\",\"lat\":35.1,\"lon\":113.1,"
             "\"divisionCode\":\"" DIV "\",\"description\":\"%s\"}",
             desc);
    report_refused(ip, huge, 413, "text_too_long");
    memset(huge, ' ', 19999);
    huge[19999] = '\0';
    memcpy(huge, "{\"description\":\"x\"", 18);
    huge[19998] = '}';
    report_refused(ip, huge, 413, "body_too_large");
    free(huge);
    /* unknown and malformed tracking numbers */
    json_t *j = get_json("/public/reports/0000000000000000", NULL, 404);
    json_decref(j);
    j = get_json("/public/reports/..%2F..%2Fetc", NULL, 404);
    json_decref(j);
}

/* ---- random inspections ---- */

/* The published draw as JSON → the engine's input and result, to recompute it here. */
typedef struct published {
    draws_candidate cands[256];
    draws_inspector insps[8];
    draws_pair prev[64], picks[64];
    draws_input in;
    draws_result res;
} published;

static void published_load(json_t *d, published *p) {
    memset(p, 0, sizeof *p);
    size_t i, len = 0;
    json_t *x;
    assert_int_equal(sodium_hex2bin(p->in.seed, 32, json_string_value(json_object_get(d, "seed")),
                                    64, NULL, &len, NULL),
                     0);
    json_array_foreach(json_object_get(d, "candidates"), i, x) {
        assert_true(i < 256);
        util_strlcpy(p->cands[i].code, json_string_value(json_object_get(x, "code")), 64);
        util_strlcpy(p->cands[i].division, json_string_value(json_object_get(x, "divisionCode")),
                     8);
        p->cands[i].weight = (unsigned)json_integer_value(json_object_get(x, "weight"));
        p->in.n_candidates = i + 1;
    }
    json_array_foreach(json_object_get(d, "inspectors"), i, x) {
        util_strlcpy(p->insps[i].name, json_string_value(json_object_get(x, "name")), 64);
        util_strlcpy(p->insps[i].division, json_string_value(json_object_get(x, "divisionCode")),
                     8);
        p->in.n_inspectors = i + 1;
    }
    json_array_foreach(json_object_get(d, "previous"), i, x) {
        util_strlcpy(p->prev[i].code, json_string_value(json_object_get(x, "code")), 64);
        util_strlcpy(p->prev[i].inspector, json_string_value(json_object_get(x, "inspector")), 64);
        p->in.n_previous = i + 1;
    }
    json_array_foreach(json_object_get(d, "picks"), i, x) {
        util_strlcpy(p->picks[i].code, json_string_value(json_object_get(x, "code")), 64);
        util_strlcpy(p->picks[i].inspector, json_string_value(json_object_get(x, "inspector")), 64);
        p->res.n_picks = i + 1;
    }
    p->in.candidates = p->cands;
    p->in.inspectors = p->insps;
    p->in.previous = p->prev;
    p->in.sample = (size_t)json_integer_value(json_object_get(d, "sample"));
    p->res.picks = p->picks;
    sodium_hex2bin(p->res.candidates_hash, 32,
                   json_string_value(json_object_get(d, "candidatesHash")), 64, NULL, &len, NULL);
    sodium_hex2bin(p->res.inspectors_hash, 32,
                   json_string_value(json_object_get(d, "inspectorsHash")), 64, NULL, &len, NULL);
}

/* POST /v1/inspections/draws as token with JSON text. */
static long draw_post(const char *token, const char *json, th_response *r) {
    th_request rq = {.method = "POST",
                     .path = "/v1/inspections/draws",
                     .content_type = TH_JSON,
                     .accept = TH_JSON,
                     .token = token,
                     .body = json,
                     .len = strlen(json)};
    return th_http(&srv, &rq, r);
}

static void draw_is_published_and_recomputes_from_its_public_facts(void **state) {
    (void)state;
    rec a, b, c;
    create(&a, "抽查甲");
    approve(&a, 1);
    create(&b, "抽查乙");
    approve(&b, 1);
    create(&c, "抽查丙");
    approve(&c, 1);
    char id[37], body[768];
    th_uuid(id);
    snprintf(body, sizeof body,
             "{\"drawId\":\"%s\",\"divisionCodes\":[\"" DIV "\"],\"weighted\":true,\"sample\":2,"
             "\"seed\":\"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\","
             "\"inspectors\":[{\"name\":\"insp-a\",\"divisionCode\":\"410882\"},"
             "{\"name\":\"insp-b\",\"divisionCode\":\"" DIV "\"},"
             "{\"name\":\"insp-c\",\"divisionCode\":\"410883\"}]}",
             id);
    th_response r;
    assert_int_equal(draw_post(surveyor.token, body, &r), 403);
    th_response_free(&r);
    long st = draw_post(sup.token, body, &r);
    if (st != 200) print_message("draw: %ld %s\n", st, (const char *)r.body);
    assert_int_equal(st, 200);
    th_response_free(&r);

    char path[96];
    snprintf(path, sizeof path, "/public/inspections/%s", id);
    json_t *d = get_json(path, NULL, 200);
    published *p = malloc(sizeof *p);
    assert_non_null(p);
    published_load(d, p);
    assert_int_equal(p->res.n_picks, 2);
    for (size_t i = 0; i < p->res.n_picks; i++) {
        assert_string_not_equal(p->picks[i].inspector, "insp-b"); /* of the outfalls' division */
        assert_int_equal(strncmp(p->picks[i].code, DIV, 6), 0);
    }
    sync_error err = {0};
    if (draws_verify(&p->in, &p->res, &err)) fail_msg("verify: %s", err.message);
    p->in.seed[0] ^= 1;
    assert_int_equal(draws_verify(&p->in, &p->res, &err), SYNC_ECONFLICT);
    p->in.seed[0] ^= 1;
    p->cands[0].weight = p->cands[0].weight == 1 ? 3 : 1;
    assert_int_equal(draws_verify(&p->in, &p->res, &err), SYNC_ECONFLICT);
    char *before = json_dumps(d, JSON_SORT_KEYS);

    /* outfallctl recomputes it from the server's copy, and refuses a tampered file */
    char out[4096], errout[4096];
    const char *verify_id[] = {"inspections", "verify", id, NULL};
    int ex = th_ctl(&srv, NULL, verify_id, out, errout, sizeof out);
    if (ex != 0) print_message("outfallctl: %d %s %s\n", ex, out, errout);
    assert_int_equal(ex, 0);
    assert_non_null(strstr(out, "match"));
    char file[400];
    snprintf(file, sizeof file, "%s/tampered-draw.json", srv.root);
    json_t *seed = json_object_get(d, "seed");
    char flipped[65];
    util_strlcpy(flipped, json_string_value(seed), sizeof flipped);
    flipped[0] = flipped[0] == '0' ? '1' : '0';
    json_object_set_new(d, "seed", json_string(flipped));
    char *tampered = json_dumps(d, 0);
    assert_int_equal(th_write_file(file, tampered, strlen(tampered)), 0);
    free(tampered);
    const char *verify_file[] = {"inspections", "verify", "--file", file, NULL};
    assert_int_equal(th_ctl(&srv, NULL, verify_file, out, errout, sizeof out), 1);
    assert_non_null(strstr(out, "MISMATCH"));
    json_decref(d);

    /* a retry answers the stored draw and writes nothing */
    th_sum sum = th_db_checksum(srv.data, TH_ALL);
    assert_int_equal(draw_post(sup.token, body, &r), 200);
    th_response_free(&r);
    assert_string_equal(sum.hex, th_db_checksum(srv.data, TH_ALL).hex);
    d = get_json(path, NULL, 200);
    char *after = json_dumps(d, JSON_SORT_KEYS);
    assert_string_equal(before, after);
    free(before);
    free(after);
    json_decref(d);

    /* the next round names this one's picks as its previous, and recomputes too */
    char id2[37];
    th_uuid(id2);
    memcpy(strstr(body, id), id2, 36);
    assert_int_equal(draw_post(sup.token, body, &r), 200);
    th_response_free(&r);
    snprintf(path, sizeof path, "/public/inspections/%s", id2);
    d = get_json(path, NULL, 200);
    assert_string_equal(json_string_value(json_object_get(d, "previousDrawId")), id);
    published_load(d, p);
    assert_int_equal(p->in.n_previous, 2);
    if (draws_verify(&p->in, &p->res, &err)) fail_msg("verify: %s", err.message);
    json_decref(d);
    free(p);

    /* outside the supervisor's divisions, and unknown draws */
    th_uuid(id2);
    snprintf(body, sizeof body,
             "{\"drawId\":\"%s\",\"divisionCodes\":[\"" OTHER_DIV "\"],\"sample\":1,"
             "\"inspectors\":[{\"name\":\"insp-a\",\"divisionCode\":\"410882\"}]}",
             id2);
    assert_int_equal(draw_post(sup.token, body, &r), 403);
    th_response_free(&r);
    th_uuid(id2);
    snprintf(path, sizeof path, "/public/inspections/%s", id2);
    json_decref(get_json(path, NULL, 404));
}

static int group_setup(void **state) {
    (void)state;
    const char *div[] = {DIV, NULL}, *other[] = {OTHER_DIV, NULL};
    const char *args[] = {"--real-ip-header", "X-Real-IP", NULL};
    if (th_server_start(&srv, args) != 0) return -1;
    if (th_user_new(&srv, "pub-surveyor", TH_ROLE(SURVEYOR), div, &surveyor) != 0 ||
        th_user_new(&srv, "pub-supervisor", TH_ROLE(SUPERVISOR), div, &sup) != 0 ||
        th_user_new(&srv, "pub-supervisor-other", TH_ROLE(SUPERVISOR), other, &sup_other) != 0)
        return -1;
    return th_device_new(&srv, surveyor.token, &dev);
}

static int group_teardown(void **state) {
    (void)state;
    return th_server_stop(&srv);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(page_shows_the_approved_version_and_only_public_facts),
        cmocka_unit_test(geojson_lists_approved_outfalls_with_exactly_the_public_properties),
        cmocka_unit_test(geojson_writes_coordinates_in_their_shortest_form),
        cmocka_unit_test(unapproved_or_unknown_code_is_a_404_page),
        cmocka_unit_test(text_on_the_page_is_escaped),
        cmocka_unit_test(report_goes_from_submission_to_answer_and_its_public_status_follows),
        cmocka_unit_test(borrowed_use_is_a_report_of_its_own_kind),
        cmocka_unit_test(rate_limit_holds_per_client_address),
        cmocka_unit_test(bad_reports_are_refused_and_write_nothing),
        cmocka_unit_test(draw_is_published_and_recomputes_from_its_public_facts),
    };
    return cmocka_run_group_tests_name("public API", tests, group_setup, group_teardown);
}
