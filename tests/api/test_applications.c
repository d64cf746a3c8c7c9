/* Applications to set up an outfall (programme/applications.c) through the real server over HTTP:
 * the deciding authority for every case of 三.一.2, the 三.一.1 refusal, each decision retry-safe
 * and audited, refusals that write nothing, the public read without a token, and the list
 * (filters, pages, each county's own, the public view for non-reviewers). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/credit_code.h"
#include "common/util.h"
#include "tests/lib/harness.h"

#define DIV "410882" /* 沁阳市 */
#define LAT 35.0891
#define LON 112.9501
#define PHONE "0391-5551234"
#define CONTACT "王工程师"

#define KIND(x) OUTFALL__V1__APPLICATION_KIND__APPLICATION_KIND_##x
#define EIA(x) OUTFALL__V1__EIA_LEVEL__EIA_LEVEL_##x
#define AUTH(x) OUTFALL__V1__APPROVAL_AUTHORITY__APPROVAL_AUTHORITY_##x
#define STATUS(x) OUTFALL__V1__APPLICATION_STATUS__APPLICATION_STATUS_##x
#define TYPE(x) OUTFALL__V1__OUTFALL_TYPE__OUTFALL_TYPE_##x

static th_server srv;
static th_user county_sup, other_sup, surveyor, city_sup;
static char doc_hash[65], foreign_hash[65]; /* a document photo city_sup uploaded; one it did not */
static char credit[19];

/* A filing with every required field: a county-approved industrial outfall on the 沁河. */
typedef struct filing {
    char id[37];
    Outfall__V1__ResponsibleParty party;
    Outfall__V1__OutfallApplication a;
} filing;

static void filing_init(filing *f) {
    th_uuid(f->id);
    outfall__v1__responsible_party__init(&f->party);
    f->party.name = "沁阳市某化工有限公司";
    f->party.credit_code = credit;
    f->party.contact = CONTACT;
    f->party.phone = PHONE;
    outfall__v1__outfall_application__init(&f->a);
    f->a.id = f->id;
    f->a.has_kind = 1;
    f->a.kind = KIND(SET_UP);
    f->a.project_name = "年产一万吨精细化工项目";
    f->a.applicant = &f->party;
    f->a.has_eia_level = 1;
    f->a.eia_level = EIA(COUNTY);
    f->a.has_lat = f->a.has_lon = 1;
    f->a.lat = LAT;
    f->a.lon = LON;
    f->a.division_code = DIV;
    f->a.river_code = "qinhe";
    f->a.has_outfall_type = 1;
    f->a.outfall_type = TYPE(INDUSTRIAL_ENTERPRISE);
}

/* Files f as token in enc; returns the status, with *out on 200 and e on an error. */
static long file(const char *token, const char *enc, filing *f,
                 Outfall__V1__ApplicationResult **out, th_error *e) {
    return th_call(&srv, "POST", "/v1/applications", token, enc, &f->a.base,
                   &outfall__v1__application_result__descriptor, (ProtobufCMessage **)out, e);
}

/* Files f and checks the authority it names. */
static void expect_authority(filing *f, int authority, const char *name, const char *basis) {
    Outfall__V1__ApplicationResult *res = NULL;
    th_error e = {{0}};
    long st = file(county_sup.token, TH_JSON, f, &res, &e);
    if (st != 200) print_error("file: %ld %s %s\n", st, e.code, e.message);
    assert_int_equal(st, 200);
    assert_non_null(res->application);
    assert_int_equal(res->status, TH_STATUS(APPLIED));
    assert_int_equal(res->application->status, STATUS(RECEIVED));
    assert_int_equal(res->application->authority, authority);
    assert_string_equal(TH_S(res->application->authority_name), name);
    assert_non_null(strstr(TH_S(res->application->authority_basis), basis));
    outfall__v1__application_result__free_unpacked(res, NULL);
}

static void each_case_of_3_1_2_names_its_authority(void **state) {
    (void)state;
    filing f;
    /* Nationally approved project on a Yellow River tributary: the Yellow River basin bureau. */
    filing_init(&f);
    f.a.eia_level = EIA(NATIONAL);
    expect_authority(&f, AUTH(BASIN_BUREAU), "生态环境部黄河流域生态环境监督管理局",
                     "国家审批建设项目");
    /* ... and on the 卫河 (Hai River basin): the Hai River basin bureau. */
    filing_init(&f);
    f.a.eia_level = EIA(NATIONAL);
    f.a.river_code = "weihe";
    expect_authority(&f, AUTH(BASIN_BUREAU), "生态环境部海河流域北海海域生态环境监督管理局",
                     "国家审批建设项目");
    /* A county project in a provincial-boundary buffer zone: the basin bureau all the same. */
    filing_init(&f);
    f.a.has_provincial_boundary_buffer = 1;
    f.a.provincial_boundary_buffer = 1;
    expect_authority(&f, AUTH(BASIN_BUREAU), "生态环境部黄河流域生态环境监督管理局", "省界缓冲区");
    /* A city project with an inter-provincial dispute: the basin bureau. */
    filing_init(&f);
    f.a.eia_level = EIA(CITY);
    f.a.has_inter_provincial_dispute = 1;
    f.a.inter_provincial_dispute = 1;
    f.a.river_code = "gongchanzhuyiqu";
    expect_authority(&f, AUTH(BASIN_BUREAU), "生态环境部海河流域北海海域生态环境监督管理局",
                     "省际争议");
    /* Province-approved: the provincial department. */
    filing_init(&f);
    f.a.eia_level = EIA(PROVINCIAL);
    expect_authority(&f, AUTH(PROVINCIAL_DEPARTMENT), "河南省生态环境厅", "省级");
    /* A county project with an inter-city dispute: the provincial department. */
    filing_init(&f);
    f.a.has_inter_city_dispute = 1;
    f.a.inter_city_dispute = 1;
    expect_authority(&f, AUTH(PROVINCIAL_DEPARTMENT), "河南省生态环境厅", "市际争议");
    /* City-approved: the city bureau. */
    filing_init(&f);
    f.a.eia_level = EIA(CITY);
    expect_authority(&f, AUTH(CITY_BUREAU), "焦作市生态环境局", "市级");
    /* County-approved: the county's ecology department. */
    filing_init(&f);
    expect_authority(&f, AUTH(COUNTY_BUREAU), "沁阳市生态环境部门", "县（市）区");

    /* No level and no special case: nobody is named, nothing is written. */
    filing_init(&f);
    f.a.has_eia_level = 0;
    th_sum before = th_db_checksum(srv.data, TH_ALL);
    th_error e = {{0}};
    assert_int_equal(file(county_sup.token, TH_PB, &f, NULL, &e), 400);
    assert_string_equal(e.code, "eia_level_required");
    assert_string_equal(before.hex, th_db_checksum(srv.data, TH_ALL).hex);

    /* Works touching flood control also seek the basin's water commission's opinion (三.一.3). */
    filing_init(&f);
    f.a.has_affects_flood_control = 1;
    f.a.affects_flood_control = 1;
    Outfall__V1__ApplicationResult *res = NULL;
    assert_int_equal(file(county_sup.token, TH_PB, &f, &res, NULL), 200);
    assert_non_null(strstr(TH_S(res->application->consult), "黄河水利委员会"));
    outfall__v1__application_result__free_unpacked(res, NULL);
}

static void missed_target_refuses_industrial_outfalls_but_not_town_plants(void **state) {
    (void)state;
    static const int industrial[] = {TYPE(INDUSTRIAL_ENTERPRISE), TYPE(MINE), TYPE(TAILINGS_STORM),
                                     TYPE(PARK_WWTP)};
    static const int kinds[] = {KIND(SET_UP), KIND(CHANGE), KIND(ENLARGE)};
    for (size_t i = 0; i < sizeof industrial / sizeof industrial[0]; i++)
        for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
            filing f;
            filing_init(&f);
            f.a.outfall_type = industrial[i];
            f.a.kind = kinds[k];
            f.a.has_section_misses_target = 1;
            f.a.section_misses_target = 1;
            th_sum before = th_db_checksum(srv.data, TH_ALL);
            th_error e = {{0}};
            assert_int_equal(file(county_sup.token, TH_JSON, &f, NULL, &e), 400);
            assert_string_equal(e.code, "section_misses_target");
            assert_non_null(strstr(e.message, "三.一.1"));
            assert_string_equal(before.hex, th_db_checksum(srv.data, TH_ALL).hex);
            assert_true(th_db_count(&srv,
                                    "SELECT count(*) FROM audit WHERE target = ? AND "
                                    "outcome = 'section_misses_target'",
                                    f.id) == 1);
        }
    /* The town wastewater treatment plant's outfall is the exception. */
    filing f;
    filing_init(&f);
    f.a.outfall_type = TYPE(MUNICIPAL_WWTP);
    f.a.has_section_misses_target = 1;
    f.a.section_misses_target = 1;
    assert_int_equal(file(county_sup.token, TH_PB, &f, NULL, NULL), 200);
    /* And an industrial outfall on a section that meets its target is received. */
    filing_init(&f);
    assert_int_equal(file(county_sup.token, TH_PB, &f, NULL, NULL), 200);
}

/* Sends a decision; returns the status, *out on 200 (may be NULL), e on an error. */
static long decide(const char *token, const char *decision_id, const char *app, int to,
                   const char *comment, Outfall__V1__ApplicationResult **out, th_error *e) {
    Outfall__V1__ApplicationDecision d = OUTFALL__V1__APPLICATION_DECISION__INIT;
    d.decision_id = (char *)decision_id;
    d.application_id = (char *)app;
    d.has_to_status = 1;
    d.to_status = to;
    d.comment = (char *)comment;
    return th_call(&srv, "POST", "/v1/applications/decisions", token, TH_JSON, &d.base,
                   &outfall__v1__application_result__descriptor, (ProtobufCMessage **)out, e);
}

static void decisions_move_one_step_each_retry_safe_and_audited(void **state) {
    (void)state;
    filing f;
    filing_init(&f);
    Outfall__V1__ApplicationResult *res = NULL;
    th_error e = {{0}};
    assert_int_equal(file(county_sup.token, TH_PB, &f, &res, NULL), 200);
    assert_int_equal(res->application->version, 1);
    outfall__v1__application_result__free_unpacked(res, NULL);
    /* The same filing again: its first answer; the same id with other content: refused. */
    assert_int_equal(file(county_sup.token, TH_PB, &f, &res, NULL), 200);
    assert_int_equal(res->status, TH_STATUS(ALREADY_APPLIED));
    assert_int_equal(res->application->status, STATUS(RECEIVED));
    outfall__v1__application_result__free_unpacked(res, NULL);
    f.a.project_name = "另一个项目";
    assert_int_equal(file(county_sup.token, TH_PB, &f, NULL, &e), 409);
    assert_string_equal(e.code, "application_id_reused");

    char d1[37], d2[37], d3[37], d4[37];
    th_uuid(d1), th_uuid(d2), th_uuid(d3), th_uuid(d4);
    /* Not approved straight from RECEIVED; nothing written. */
    th_sum before = th_db_checksum(srv.data, TH_ALL);
    assert_int_equal(decide(county_sup.token, d1, f.id, STATUS(APPROVED), NULL, NULL, &e), 409);
    assert_string_equal(e.code, "status_not_allowed");
    assert_string_equal(before.hex, th_db_checksum(srv.data, TH_ALL).hex);
    /* Another division's supervisor may not decide it. */
    assert_int_equal(decide(other_sup.token, d1, f.id, STATUS(UNDER_REVIEW), NULL, NULL, &e), 403);
    assert_string_equal(e.code, "outside_division");
    /* Received → under review, and its retry. */
    assert_int_equal(decide(county_sup.token, d1, f.id, STATUS(UNDER_REVIEW), NULL, &res, NULL),
                     200);
    assert_int_equal(res->status, TH_STATUS(APPLIED));
    assert_int_equal(res->application->status, STATUS(UNDER_REVIEW));
    assert_int_equal(res->application->version, 2);
    outfall__v1__application_result__free_unpacked(res, NULL);
    before = th_db_checksum(srv.data, TH_ALL);
    assert_int_equal(decide(county_sup.token, d1, f.id, STATUS(UNDER_REVIEW), NULL, &res, NULL),
                     200);
    assert_int_equal(res->status, TH_STATUS(ALREADY_APPLIED));
    outfall__v1__application_result__free_unpacked(res, NULL);
    assert_string_equal(before.hex, th_db_checksum(srv.data, TH_ALL).hex);
    /* The same decision id for something else: refused. */
    assert_int_equal(decide(county_sup.token, d1, f.id, STATUS(APPROVED), NULL, NULL, &e), 409);
    assert_string_equal(e.code, "decision_id_reused");
    /* A refusal says why. */
    assert_int_equal(decide(county_sup.token, d2, f.id, STATUS(REFUSED), NULL, NULL, &e), 400);
    assert_string_equal(e.code, "comment_required");
    assert_int_equal(
        decide(county_sup.token, d3, f.id, STATUS(REFUSED), "排放口设置论证不充分", &res, NULL),
        200);
    assert_int_equal(res->application->status, STATUS(REFUSED));
    assert_string_equal(TH_S(res->application->decision_comment), "排放口设置论证不充分");
    assert_true(res->application->decided_at_ms > 0);
    outfall__v1__application_result__free_unpacked(res, NULL);
    /* Decided is final. */
    assert_int_equal(decide(county_sup.token, d4, f.id, STATUS(APPROVED), NULL, NULL, &e), 409);
    assert_string_equal(e.code, "status_not_allowed");
    /* The trail: filing, review, refusal as ok, and the refusals made along the way. */
    assert_int_equal(th_db_count(&srv,
                                 "SELECT count(*) FROM audit WHERE target = ? AND outcome = 'ok' "
                                 "AND action IN ('applications.file', 'applications.review', "
                                 "'applications.refuse')",
                                 f.id),
                     3);
    assert_true(th_db_count(&srv, "SELECT count(*) FROM audit WHERE target = ? AND outcome <> 'ok'",
                            f.id) >= 5);

    /* An approval, the other way to end. */
    filing g;
    filing_init(&g);
    char d5[37], d6[37];
    th_uuid(d5), th_uuid(d6);
    assert_int_equal(file(county_sup.token, TH_PB, &g, NULL, NULL), 200);
    assert_int_equal(decide(county_sup.token, d5, g.id, STATUS(UNDER_REVIEW), NULL, NULL, NULL),
                     200);
    assert_int_equal(decide(county_sup.token, d6, g.id, STATUS(APPROVED), "同意设置", &res, NULL),
                     200);
    assert_int_equal(res->application->status, STATUS(APPROVED));
    outfall__v1__application_result__free_unpacked(res, NULL);
}

static void the_decision_is_public_the_contact_is_not(void **state) {
    (void)state;
    filing f;
    filing_init(&f);
    char d1[37], d2[37];
    th_uuid(d1), th_uuid(d2);
    assert_int_equal(file(county_sup.token, TH_PB, &f, NULL, NULL), 200);
    assert_int_equal(decide(county_sup.token, d1, f.id, STATUS(UNDER_REVIEW), NULL, NULL, NULL),
                     200);
    assert_int_equal(decide(county_sup.token, d2, f.id, STATUS(APPROVED), "同意设置", NULL, NULL),
                     200);
    char path[96];
    snprintf(path, sizeof path, "/v1/applications/%s", f.id);
    th_request rq = {.method = "GET", .path = path, .accept = TH_JSON};
    th_response out;
    assert_int_equal(th_http(&srv, &rq, &out), 200);
    const char *body = (const char *)out.body;
    assert_non_null(strstr(body, "APPLICATION_STATUS_APPROVED"));
    assert_non_null(strstr(body, "同意设置"));
    assert_non_null(strstr(body, "沁阳市生态环境部门"));
    assert_non_null(strstr(body, "沁阳市某化工有限公司"));
    assert_null(strstr(body, PHONE));
    assert_null(strstr(body, CONTACT));
    th_response_free(&out);
    /* In protobuf too. */
    Outfall__V1__OutfallApplication *a = NULL;
    assert_int_equal(th_call(&srv, "GET", path, NULL, TH_PB, NULL,
                             &outfall__v1__outfall_application__descriptor, (ProtobufCMessage **)&a,
                             NULL),
                     200);
    assert_int_equal(a->status, STATUS(APPROVED));
    assert_null(a->applicant->phone);
    assert_null(a->applicant->contact);
    outfall__v1__outfall_application__free_unpacked(a, NULL);
    /* Unknown and malformed ids. */
    char other[37], bad[] = "not-a-uuid";
    th_uuid(other);
    th_error e = {{0}};
    snprintf(path, sizeof path, "/v1/applications/%s", other);
    assert_int_equal(th_call(&srv, "GET", path, NULL, TH_PB, NULL, NULL, NULL, &e), 404);
    snprintf(path, sizeof path, "/v1/applications/%s", bad);
    assert_int_equal(th_call(&srv, "GET", path, NULL, TH_PB, NULL, NULL, NULL, &e), 404);
}

static void bad_filings_and_wrong_callers_write_nothing(void **state) {
    (void)state;
    static char *bad_docs[] = {"NOTAHASH"};
    th_sum before = th_db_checksum(srv.data, TH_ALL);
    filing f;
    th_error e;
    struct {
        const char *code;
        long status;
    } want[] = {{"invalid_credit_code", 400}, {"credit_code_required", 400},
                {"invalid_position", 400},    {"unknown_river", 400},
                {"invalid_application", 400}, {"outside_division", 403},
                {"forbidden_role", 403}};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        filing_init(&f);
        char wrong[19];
        memcpy(wrong, credit, sizeof wrong);
        wrong[17] = wrong[17] == '0' ? '1' : '0';
        const char *token = county_sup.token;
        switch (i) {
        case 0:
            f.party.credit_code = wrong;
            break;
        case 1:
            f.party.credit_code = NULL;
            break;
        case 2:
            f.a.lat = 30.0;
            break;
        case 3:
            f.a.river_code = "changjiang";
            break;
        case 4:
            f.a.document_hashes = bad_docs, f.a.n_document_hashes = 1;
            break;
        case 5:
            token = other_sup.token;
            break;
        default:
            token = surveyor.token;
            break;
        }
        memset(&e, 0, sizeof e);
        long st = file(token, TH_JSON, &f, NULL, &e);
        if (st != want[i].status || strcmp(e.code, want[i].code) != 0)
            print_error("case %zu: %ld %s %s\n", i, st, e.code, e.message);
        assert_int_equal(st, want[i].status);
        assert_string_equal(e.code, want[i].code);
    }
    assert_string_equal(before.hex, th_db_checksum(srv.data, TH_ALL).hex);
}

/* GET /v1/applications?query as token in enc: the status; *out on 200. */
static long list(const char *token, const char *enc, const char *query,
                 Outfall__V1__ApplicationList **out, th_error *e) {
    char path[256];
    snprintf(path, sizeof path, "/v1/applications%s", query);
    return th_call(&srv, "GET", path, token, enc, NULL, &outfall__v1__application_list__descriptor,
                   (ProtobufCMessage **)out, e);
}

static int listed(const Outfall__V1__ApplicationList *l, const char *id) {
    for (size_t i = 0; i < l->n_applications; i++)
        if (strcmp(l->applications[i]->id, id) == 0) return 1;
    return 0;
}

static void the_list_filters_pages_and_keeps_each_county_to_its_own(void **state) {
    (void)state;
    enum { N = 5 };
    filing f[N];
    for (int i = 0; i < N; i++) { /* 410802 (解放区): nothing else is filed there */
        filing_init(&f[i]);
        f[i].a.division_code = "410802";
        assert_int_equal(file(other_sup.token, TH_PB, &f[i], NULL, NULL), 200);
    }
    char d[3][37];
    for (int i = 0; i < 3; i++)
        th_uuid(d[i]);
    assert_int_equal(decide(other_sup.token, d[0], f[0].id, STATUS(UNDER_REVIEW), NULL, NULL, NULL),
                     200);
    assert_int_equal(decide(other_sup.token, d[1], f[0].id, STATUS(APPROVED), "同意", NULL, NULL),
                     200);
    assert_int_equal(decide(other_sup.token, d[2], f[1].id, STATUS(UNDER_REVIEW), NULL, NULL, NULL),
                     200);

    /* All five, newest first, whole for the supervisor, in JSON and protobuf alike. */
    const char *encs[] = {TH_JSON, TH_PB};
    for (int e = 0; e < 2; e++) {
        Outfall__V1__ApplicationList *l = NULL;
        assert_int_equal(list(other_sup.token, encs[e], "?division=410802", &l, NULL), 200);
        assert_int_equal(l->n_applications, N);
        assert_null(l->next_page_token);
        for (size_t i = 0; i + 1 < l->n_applications; i++)
            assert_true(l->applications[i]->received_at_ms >=
                        l->applications[i + 1]->received_at_ms);
        /* The last filed is among the newest (filings of one millisecond are ordered by id). */
        size_t last = 0;
        while (last < l->n_applications && strcmp(l->applications[last]->id, f[N - 1].id) != 0)
            last++;
        assert_true(last < l->n_applications);
        assert_true(l->applications[last]->received_at_ms == l->applications[0]->received_at_ms);
        assert_string_equal(TH_S(l->applications[0]->applicant->phone), PHONE);
        assert_string_equal(TH_S(l->applications[0]->authority_name), "解放区生态环境部门");
        outfall__v1__application_list__free_unpacked(l, NULL);
    }
    /* Pages of two: 2, 2, 1, together every one once. */
    char token[128] = "", query[200];
    int seen[N] = {0}, pages = 0;
    do {
        Outfall__V1__ApplicationList *l = NULL;
        snprintf(query, sizeof query, "?division=410802&limit=2%s%s",
                 token[0] ? "&page_token=" : "", token);
        assert_int_equal(list(other_sup.token, TH_JSON, query, &l, NULL), 200);
        assert_int_equal(l->n_applications, pages < 2 ? 2 : 1);
        for (int i = 0; i < N; i++)
            seen[i] += listed(l, f[i].id);
        util_strlcpy(token, l->next_page_token ? l->next_page_token : "", sizeof token);
        outfall__v1__application_list__free_unpacked(l, NULL);
        pages++;
    } while (token[0] && pages < 10);
    assert_int_equal(pages, 3);
    for (int i = 0; i < N; i++)
        assert_int_equal(seen[i], 1);
    /* By status. */
    static const struct {
        const char *query;
        size_t n;
    } by_status[] = {{"?status=APPROVED", 1},
                     {"?status=UNDER_REVIEW", 1},
                     {"?status=received", 3},
                     {"?status=4", 0},
                     {"", N}};
    for (size_t i = 0; i < sizeof by_status / sizeof by_status[0]; i++) {
        Outfall__V1__ApplicationList *l = NULL;
        assert_int_equal(list(other_sup.token, TH_PB, by_status[i].query, &l, NULL), 200);
        assert_int_equal(l->n_applications, by_status[i].n);
        outfall__v1__application_list__free_unpacked(l, NULL);
    }
    /* Each county sees its own; a surveyor sees the public view. */
    Outfall__V1__ApplicationList *l = NULL;
    assert_int_equal(list(county_sup.token, TH_PB, "", &l, NULL), 200);
    assert_false(listed(l, f[0].id));
    assert_true(l->n_applications > 0); /* the other tests' filings in 沁阳市 */
    outfall__v1__application_list__free_unpacked(l, NULL);
    assert_int_equal(list(surveyor.token, TH_PB, "?division=" DIV, &l, NULL), 200);
    assert_true(l->n_applications > 0);
    for (size_t i = 0; i < l->n_applications; i++) {
        assert_string_equal(l->applications[i]->division_code, DIV);
        assert_null(l->applications[i]->applicant->phone);
        assert_null(l->applications[i]->applicant->contact);
    }
    outfall__v1__application_list__free_unpacked(l, NULL);

    /* Refusals: a clear code, nothing written. */
    th_sum before = th_db_checksum(srv.data, TH_STATE);
    static const struct {
        const char *query;
        long status;
        const char *code;
    } bad[] = {{"?division=410802", 403, "outside_division"},
               {"?division=999999", 400, "unknown_division"},
               {"?status=LOST", 400, "invalid_argument"},
               {"?status=0", 400, "invalid_argument"},
               {"?page_token=abc", 400, "invalid_argument"},
               {"?limit=-1", 400, "invalid_argument"}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        th_error e = {{0}};
        long st = list(county_sup.token, TH_JSON, bad[i].query, NULL, &e);
        if (st != bad[i].status) print_error("%s: %ld %s\n", bad[i].query, st, e.code);
        assert_int_equal(st, bad[i].status);
        assert_string_equal(e.code, bad[i].code);
        assert_true(e.message[0] != '\0');
    }
    th_error e = {{0}};
    assert_int_equal(list(NULL, TH_JSON, "", NULL, &e), 401);
    assert_string_equal(before.hex, th_db_checksum(srv.data, TH_STATE).hex);
}

/* Sends a decision recording a document; returns the status, *out on 200, e on an error. */
static long decide_doc(const char *token, const char *decision_id, const char *app, int to,
                       const char *comment, const char *number, const char *document,
                       Outfall__V1__ApplicationResult **out, th_error *e) {
    Outfall__V1__ApplicationDecision d = OUTFALL__V1__APPLICATION_DECISION__INIT;
    d.decision_id = (char *)decision_id;
    d.application_id = (char *)app;
    d.has_to_status = 1;
    d.to_status = to;
    d.comment = (char *)comment;
    d.document_number = (char *)number;
    d.document_hash = (char *)document;
    return th_call(&srv, "POST", "/v1/applications/decisions", token, TH_JSON, &d.base,
                   &outfall__v1__application_result__descriptor, (ProtobufCMessage **)out, e);
}

/* Issue 18's case: a province-approved project's outfall (and a basin bureau's) is decided outside
 * the city. A city supervisor pressing approve (no comment, no 批复文号) is refused with
 * application_decided_elsewhere and nothing changes; the outside decision is recorded only with
 * its document number, the hash of a document photo the caller uploaded and a comment; the
 * record then says who decided and which document, publicly, and the audit trail holds it. */
static void an_outside_authority_decides_the_city_records_its_document(void **state) {
    (void)state;
    const int outside[][2] = {{EIA(PROVINCIAL), 0}, {EIA(COUNTY), 1}};
    for (size_t i = 0; i < sizeof outside / sizeof outside[0]; i++) {
        filing f;
        filing_init(&f);
        f.a.eia_level = outside[i][0];
        f.a.has_provincial_boundary_buffer = outside[i][1];
        f.a.provincial_boundary_buffer = outside[i][1];
        Outfall__V1__ApplicationResult *res = NULL;
        th_error e = {{0}};
        assert_int_equal(file(county_sup.token, TH_PB, &f, &res, NULL), 200);
        int authority = res->application->authority;
        assert_true(authority == AUTH(PROVINCIAL_DEPARTMENT) || authority == AUTH(BASIN_BUREAU));
        outfall__v1__application_result__free_unpacked(res, NULL);
        char d1[37], d2[37], d3[37];
        th_uuid(d1), th_uuid(d2), th_uuid(d3);
        /* The city may take it in and forward it. */
        assert_int_equal(decide(city_sup.token, d1, f.id, STATUS(UNDER_REVIEW), NULL, NULL, NULL),
                         200);
        /* The city supervisor presses approve (or refuse), no comment, no 批复文号: refused. */
        th_sum before = th_db_checksum(srv.data, TH_STATE);
        assert_int_equal(decide(city_sup.token, d2, f.id, STATUS(APPROVED), NULL, NULL, &e), 409);
        assert_string_equal(e.code, "application_decided_elsewhere");
        assert_non_null(strstr(e.message, authority == AUTH(BASIN_BUREAU) ? "流域" : "河南省"));
        assert_int_equal(decide(city_sup.token, d2, f.id, STATUS(APPROVED), "同意", NULL, &e), 409);
        assert_string_equal(e.code, "application_decided_elsewhere");
        assert_int_equal(decide(county_sup.token, d2, f.id, STATUS(REFUSED), "不同意", NULL, &e),
                         409);
        assert_string_equal(e.code, "application_decided_elsewhere");
        /* A document half given, malformed, or never uploaded by the caller: refused. */
        assert_int_equal(decide_doc(city_sup.token, d2, f.id, STATUS(APPROVED), "省厅已批复",
                                    "豫环审〔2026〕12号", NULL, NULL, &e),
                         400);
        assert_string_equal(e.code, "decision_document_required");
        assert_int_equal(decide_doc(city_sup.token, d2, f.id, STATUS(APPROVED), "省厅已批复", NULL,
                                    doc_hash, NULL, &e),
                         400);
        assert_string_equal(e.code, "decision_document_required");
        assert_int_equal(decide_doc(city_sup.token, d2, f.id, STATUS(APPROVED), "省厅已批复",
                                    "豫环审〔2026〕12号", "ABC", NULL, &e),
                         400);
        assert_string_equal(e.code, "decision_document_required");
        assert_int_equal(decide_doc(city_sup.token, d2, f.id, STATUS(APPROVED), "省厅已批复",
                                    "豫环审〔2026〕12号", foreign_hash, NULL, &e),
                         400);
        assert_string_equal(e.code, "decision_document_required");
        /* A document without a comment: refused. */
        assert_int_equal(decide_doc(city_sup.token, d2, f.id, STATUS(APPROVED), NULL,
                                    "豫环审〔2026〕12号", doc_hash, NULL, &e),
                         400);
        assert_string_equal(e.code, "comment_required");
        assert_string_equal(before.hex, th_db_checksum(srv.data, TH_STATE).hex);
        /* Recorded with all three: approved, decided elsewhere, with its document. */
        assert_int_equal(decide_doc(city_sup.token, d3, f.id, STATUS(APPROVED),
                                    "省厅已批复，登记备案", "豫环审〔2026〕12号", doc_hash, &res,
                                    &e),
                         200);
        assert_int_equal(res->application->status, STATUS(APPROVED));
        assert_true(res->application->decided_elsewhere);
        assert_string_equal(TH_S(res->application->decision_document_number), "豫环审〔2026〕12号");
        assert_string_equal(TH_S(res->application->decision_document_hash), doc_hash);
        outfall__v1__application_result__free_unpacked(res, NULL);
        /* Its retry answers the first result. */
        assert_int_equal(decide_doc(city_sup.token, d3, f.id, STATUS(APPROVED),
                                    "省厅已批复，登记备案", "豫环审〔2026〕12号", doc_hash, &res,
                                    &e),
                         200);
        assert_int_equal(res->status, TH_STATUS(ALREADY_APPLIED));
        outfall__v1__application_result__free_unpacked(res, NULL);
        /* The public read shows who decided and the document number. */
        char path[96];
        snprintf(path, sizeof path, "/v1/applications/%s", f.id);
        th_request rq = {.method = "GET", .path = path, .accept = TH_JSON};
        th_response out;
        assert_int_equal(th_http(&srv, &rq, &out), 200);
        assert_non_null(strstr((const char *)out.body, "豫环审〔2026〕12号"));
        assert_non_null(strstr((const char *)out.body, "\"decidedElsewhere\":true"));
        th_response_free(&out);
        assert_int_equal(th_db_count(&srv,
                                     "SELECT count(*) FROM audit WHERE target = ? AND outcome = "
                                     "'ok' AND action = 'applications.record_outside_decision'",
                                     f.id),
                         1);
        assert_true(th_db_count(&srv,
                                "SELECT count(*) FROM audit WHERE target = ? AND outcome = "
                                "'application_decided_elsewhere'",
                                f.id) >= 3);
    }
}

/* A city-approved project's outfall is the city bureau's: a county account cannot decide it, a
 * city-wide one can (a document is optional there). */
static void a_city_bureau_application_is_decided_by_the_city(void **state) {
    (void)state;
    filing f;
    filing_init(&f);
    f.a.eia_level = EIA(CITY);
    th_error e = {{0}};
    assert_int_equal(file(county_sup.token, TH_PB, &f, NULL, NULL), 200);
    char d1[37], d2[37];
    th_uuid(d1), th_uuid(d2);
    assert_int_equal(decide(county_sup.token, d1, f.id, STATUS(UNDER_REVIEW), NULL, NULL, NULL),
                     200);
    assert_int_equal(decide(county_sup.token, d2, f.id, STATUS(APPROVED), "同意", NULL, &e), 409);
    assert_string_equal(e.code, "application_decided_elsewhere");
    Outfall__V1__ApplicationResult *res = NULL;
    assert_int_equal(decide(city_sup.token, d2, f.id, STATUS(APPROVED), "同意", &res, NULL), 200);
    assert_int_equal(res->application->status, STATUS(APPROVED));
    assert_false(res->application->decided_elsewhere);
    outfall__v1__application_result__free_unpacked(res, NULL);
}

static int group_setup(void **state) {
    (void)state;
    const char *div[] = {DIV, NULL}, *other[] = {"410802", NULL}, *city[] = {"410800", NULL};
    const char *first17 = "91410882MA44XQ7J6";
    memcpy(credit, first17, 17);
    credit[17] = credit_code_check_char(first17);
    credit[18] = '\0';
    if (th_server_start(&srv, NULL) != 0) return -1;
    if (th_user_new(&srv, "sup-qy", TH_ROLE(SUPERVISOR), div, &county_sup) ||
        th_user_new(&srv, "sup-jf", TH_ROLE(SUPERVISOR), other, &other_sup) ||
        th_user_new(&srv, "surveyor", TH_ROLE(SURVEYOR), div, &surveyor) ||
        th_user_new(&srv, "sup-city", TH_ROLE(SUPERVISOR), city, &city_sup))
        return -1;
    th_file doc, other_doc;
    if (th_photo_variant("qinhe-outfall-a-1.jpg", &doc, doc_hash) < 0 ||
        th_photo_variant("qinhe-outfall-a-2.jpg", &other_doc, foreign_hash) < 0)
        return -1;
    long put = th_photo_put(&srv, city_sup.token, doc_hash, doc.data, doc.len, NULL);
    long put_other =
        th_photo_put(&srv, county_sup.token, foreign_hash, other_doc.data, other_doc.len, NULL);
    th_file_free(&doc);
    th_file_free(&other_doc);
    if (put != 201 || put_other != 201) return -1;
    return 0;
}

static int group_teardown(void **state) {
    (void)state;
    return th_server_stop(&srv);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(each_case_of_3_1_2_names_its_authority),
        cmocka_unit_test(missed_target_refuses_industrial_outfalls_but_not_town_plants),
        cmocka_unit_test(decisions_move_one_step_each_retry_safe_and_audited),
        cmocka_unit_test(the_decision_is_public_the_contact_is_not),
        cmocka_unit_test(bad_filings_and_wrong_callers_write_nothing),
        cmocka_unit_test(the_list_filters_pages_and_keeps_each_county_to_its_own),
        cmocka_unit_test(an_outside_authority_decides_the_city_records_its_document),
        cmocka_unit_test(a_city_bureau_application_is_decided_by_the_city),
    };
    return cmocka_run_group_tests_name("applications over HTTP", tests, group_setup,
                                       group_teardown);
}
