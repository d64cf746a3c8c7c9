/* The programme through the real server over HTTP: lifecycle transitions in protobuf and JSON,
 * refusals and their statuses, protection zones, progress as JSON, protobuf and CSV, and the
 * streamed exports read back by a real JSON parser (jansson), Python's csv module and, where
 * installed, GDAL's ogrinfo. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "common/credit_code.h"
#include "common/util.h"
#include "tests/lib/harness.h"

#define DIV "410882"    /* 沁阳市: most tests */
#define DIV_MZ "410883" /* 孟州市: progress and exports only */

static th_server srv;
static th_user city_sup, county_sup, other_sup, surveyor, surveyor_mz, integrator;
static th_device dev, dev_mz;

/* ---- set-up helpers ------------------------------------------------------------------------- */

/* Creates an outfall of type in division (surveyor's phone there), approved by the city
 * supervisor; id gets its id. entry is an EntryMethod (0: none). */
static void create_approved(const char *division, const char *river, double lat, double lon,
                            int type, int entry, char id[37]) {
    th_user *u = strcmp(division, DIV_MZ) == 0 ? &surveyor_mz : &surveyor;
    th_device *d = strcmp(division, DIV_MZ) == 0 ? &dev_mz : &dev;
    th_batch *b = th_batch_new(d);
    Outfall__V1__Outfall *o = th_outfall_create(b, river, division, lat, lon);
    o->name = "沁河排口";
    if (type) o->has_type = 1, o->type = type;
    if (entry) o->has_entry_method = 1, o->entry_method = entry;
    util_strlcpy(id, th_batch_entity(b, 0), 37);
    Outfall__V1__SyncResponse *resp = th_sync_ok(&srv, u->token, b, TH_PB);
    assert_non_null(resp);
    assert_int_equal(resp->results[0]->status, TH_STATUS(APPLIED));
    outfall__v1__sync_response__free_unpacked(resp, NULL);
    th_batch_free(b);

    assert_int_equal(th_approve(&srv, city_sup.token, id, 1, NULL), 200);
    th_first_seen_at_start(&srv, id);
}

/* A transition being built: the message and the strings it points at. */
typedef struct move {
    Outfall__V1__LifecycleTransition t;
    Outfall__V1__ResponsibleParty party;
    Outfall__V1__RemediationPlan plan;
    char tid[37];
    char code[19];
} move;

static void move_init(move *m, const char *id, int64_t base, int stage, const char *date) {
    memset(m, 0, sizeof *m);
    outfall__v1__lifecycle_transition__init(&m->t);
    outfall__v1__responsible_party__init(&m->party);
    outfall__v1__remediation_plan__init(&m->plan);
    th_uuid(m->tid);
    m->t.transition_id = m->tid;
    m->t.outfall_id = (char *)id;
    m->t.has_base_version = m->t.has_to_stage = 1;
    m->t.base_version = base;
    m->t.to_stage = stage;
    m->t.effective_date = (char *)date;
}

/* Gives the transition a party with a valid credit code made from first17. */
static void move_party(move *m, const char *name, const char *first17) {
    memcpy(m->code, first17, 17);
    m->code[17] = credit_code_check_char(first17);
    m->party.name = (char *)name;
    m->party.credit_code = m->code;
    m->t.responsible_party = &m->party;
}

static void move_plan(move *m, int measure, const char *deadline) {
    m->plan.has_measure = 1;
    m->plan.measure = measure;
    m->plan.deadline = (char *)deadline;
    m->t.plan = &m->plan;
}

/* POSTs the transition as token in enc; on 200 *out (may be NULL) gets the result. */
static long post(const move *m, const char *token, const char *enc,
                 Outfall__V1__TransitionResult **out, th_error *e) {
    ProtobufCMessage *res = NULL;
    long st = th_call(&srv, "POST", "/v1/programme/transitions", token, enc, &m->t.base,
                      &outfall__v1__transition_result__descriptor, &res, e);
    if (out)
        *out = (Outfall__V1__TransitionResult *)res;
    else if (res)
        protobuf_c_message_free_unpacked(res, NULL);
    return st;
}

/* Posts and expects 200; returns the new version. */
static int64_t ok(const move *m, const char *enc) {
    Outfall__V1__TransitionResult *res = NULL;
    th_error e;
    long st = post(m, city_sup.token, enc, &res, &e);
    if (st != 200) print_message("transition: %ld %s %s\n", st, e.code, e.message);
    assert_int_equal(st, 200);
    int64_t v = res->outfall->version;
    protobuf_c_message_free_unpacked(&res->base, NULL);
    return v;
}

/* Posts and expects status with error code. */
static void refused(const move *m, const char *token, long status, const char *code,
                    const char *in_message) {
    th_error e;
    long st = post(m, token, TH_JSON, NULL, &e);
    if (st != status || strcmp(e.code, code) != 0)
        print_message("expected %ld %s, got %ld %s %s\n", status, code, st, e.code, e.message);
    assert_int_equal(st, status);
    assert_string_equal(e.code, code);
    if (in_message) assert_non_null(strstr(e.message, in_message));
}

enum {
    FOUND = OUTFALL__V1__LIFECYCLE_STAGE__LIFECYCLE_STAGE_FOUND,
    TRACED = OUTFALL__V1__LIFECYCLE_STAGE__LIFECYCLE_STAGE_TRACED,
    PLANNED = OUTFALL__V1__LIFECYCLE_STAGE__LIFECYCLE_STAGE_PLANNED,
    REMEDIATED = OUTFALL__V1__LIFECYCLE_STAGE__LIFECYCLE_STAGE_REMEDIATED,
    CLOSED = OUTFALL__V1__LIFECYCLE_STAGE__LIFECYCLE_STAGE_CLOSED,
    RETAINED = OUTFALL__V1__LIFECYCLE_STAGE__LIFECYCLE_STAGE_RETAINED,
    BAN = OUTFALL__V1__REMEDIATION_MEASURE__REMEDIATION_MEASURE_BAN,
    MERGE = OUTFALL__V1__REMEDIATION_MEASURE__REMEDIATION_MEASURE_MERGE,
    REGULARIZE = OUTFALL__V1__REMEDIATION_MEASURE__REMEDIATION_MEASURE_REGULARIZE,
    NONE = OUTFALL__V1__REMEDIATION_MEASURE__REMEDIATION_MEASURE_NONE,
};

/* ---- lifecycle ------------------------------------------------------------------------------ */

static void lifecycle_over_http_in_protobuf_and_json(void **state) {
    (void)state;
    double lat, lon;
    th_spot(&lat, &lon);
    char id[37];
    create_approved(DIV, "qinhe", lat, lon, 0, 0, id);
    move m;
    move_init(&m, id, 2, FOUND, "2023-04-01");
    int64_t v = ok(&m, TH_JSON);
    assert_int_equal(v, 3);
    move_init(&m, id, v, TRACED, "2023-05-01");
    move_party(&m, "沁阳市某食品有限公司", "91410882MA44R7LT1");
    v = ok(&m, TH_PB);
    move retry = m; /* the same transition again: the first answer, nothing new */
    Outfall__V1__TransitionResult *res = NULL;
    th_error e;
    assert_int_equal(post(&retry, city_sup.token, TH_PB, &res, &e), 200);
    assert_int_equal(res->status, TH_STATUS(ALREADY_APPLIED));
    assert_int_equal(res->outfall->version, v);
    protobuf_c_message_free_unpacked(&res->base, NULL);

    move_init(&m, id, v, PLANNED, "2023-06-01");
    move_plan(&m, NONE, NULL);
    v = ok(&m, TH_JSON);
    move_init(&m, id, v, REMEDIATED, "2023-06-02");
    v = ok(&m, TH_PB);
    move_init(&m, id, v, RETAINED, "2023-06-03");
    assert_int_equal(post(&m, county_sup.token, TH_JSON, &res, &e), 200);
    Outfall__V1__Outfall *o = res->outfall;
    assert_int_equal(o->version, 7);
    assert_int_equal(o->approved_version, 7);
    assert_int_equal(o->programme->stage, RETAINED);
    assert_string_equal(TH_S(o->programme->retained_on), "2023-06-03");
    assert_string_equal(TH_S(o->responsible_party->name), "沁阳市某食品有限公司");
    protobuf_c_message_free_unpacked(&res->base, NULL);

    /* Integrators read the approved version: the lifecycle is in it. */
    Outfall__V1__Outfall *got = NULL;
    assert_int_equal(th_get_outfall(&srv, integrator.token, id, &got, &e), 200);
    assert_int_equal(got->programme->stage, RETAINED);
    assert_int_equal(got->programme->party_basis, OUTFALL__V1__PARTY_BASIS__PARTY_BASIS_TRACED);
    outfall__v1__outfall__free_unpacked(got, NULL);
    /* The history names each transition. */
    th_response r;
    char path[128];
    snprintf(path, sizeof path, "/v1/outfalls/%s/history", id);
    th_request rq = {.method = "GET", .path = path, .accept = TH_JSON, .token = city_sup.token};
    assert_int_equal(th_http(&srv, &rq, &r), 200);
    assert_non_null(strstr((const char *)r.body, "\"programme.stage\""));
    assert_non_null(strstr((const char *)r.body, "LIFECYCLE_STAGE_RETAINED"));
    th_response_free(&r);
}

static void refusals_answer_clear_codes_and_statuses(void **state) {
    (void)state;
    double lat, lon;
    th_spot(&lat, &lon);
    char id[37];
    create_approved(DIV, "qinhe", lat, lon, 0, 0, id);
    move m;
    move_init(&m, id, 2, CLOSED, NULL);
    refused(&m, city_sup.token, 409, "transition_not_allowed", "from FOUND to CLOSED");
    move_init(&m, id, 1, TRACED, NULL);
    refused(&m, city_sup.token, 409, "stale_version", NULL);
    /* A wrong check character in the credit code. */
    move_init(&m, id, 2, TRACED, NULL);
    move_party(&m, "某公司", "91410882MA44R7LT1");
    m.code[17] = m.code[17] == 'A' ? 'B' : 'A';
    refused(&m, city_sup.token, 400, "invalid_credit_code", "GB 32100-2015");
    /* Surveyors are stopped at the route; supervisors of another county by the engine. */
    move_init(&m, id, 2, FOUND, NULL);
    refused(&m, surveyor.token, 403, "forbidden_role", NULL);
    refused(&m, other_sup.token, 403, "outside_division", NULL);
    move_init(&m, id, 2, FOUND, "2099-01-01");
    refused(&m, city_sup.token, 400, "invalid_date", "future");
    char missing[37];
    th_uuid(missing);
    move_init(&m, missing, 1, FOUND, NULL);
    refused(&m, city_sup.token, 404, "not_found", NULL);
    /* A plan needs evidence before it counts as remediated. */
    move_init(&m, id, 2, TRACED, NULL);
    move_party(&m, "某公司", "91410882MA44R7LT1");
    int64_t v = ok(&m, TH_PB);
    move_init(&m, id, v, PLANNED, NULL);
    move_plan(&m, BAN, "2030-06-30");
    v = ok(&m, TH_PB);
    move_init(&m, id, v, REMEDIATED, NULL);
    refused(&m, city_sup.token, 409, "evidence_required", NULL);
    /* Malformed JSON. */
    const char *bad = "{\"toStage\":\"LIFECYCLE_STAGE_NOWHERE\"}";
    th_request rq = {.method = "POST",
                     .path = "/v1/programme/transitions",
                     .content_type = TH_JSON,
                     .accept = TH_JSON,
                     .token = city_sup.token,
                     .body = bad,
                     .len = strlen(bad)};
    th_response r;
    assert_int_equal(th_http(&srv, &rq, &r), 400);
    th_response_free(&r);
}

/* ---- zones and the plan's rules ------------------------------------------------------------- */

/* A drinking-water zone, the square 113.30-113.31 E x 35.30-35.31 N with a hole, and a nature
 * reserve as a MultiPolygon. */
static const char zones_json[] =
    "{\"type\":\"FeatureCollection\",\"features\":["
    "{\"type\":\"Feature\",\"id\":\"api-src-1\",\"properties\":{\"name\":\"水源一级保护区\","
    "\"kind\":\"drinking_water\"},\"geometry\":{\"type\":\"Polygon\",\"coordinates\":["
    "[[113.30,35.30],[113.31,35.30],[113.31,35.31],[113.30,35.31],[113.30,35.30]],"
    "[[113.304,35.304],[113.306,35.304],[113.306,35.306],[113.304,35.306],[113.304,35.304]]]}},"
    "{\"type\":\"Feature\",\"id\":\"api-reserve\",\"properties\":{\"name\":\"湿地自然保护区\","
    "\"kind\":\"nature_reserve\"},\"geometry\":{\"type\":\"MultiPolygon\",\"coordinates\":["
    "[[[113.40,35.40],[113.41,35.40],[113.41,35.41],[113.40,35.40]]]]}}]}";

static long post_zones(const char *token, const char *ctype, const char *body, th_response *r) {
    th_request rq = {.method = "POST",
                     .path = "/v1/zones",
                     .content_type = ctype,
                     .accept = TH_JSON,
                     .token = token,
                     .body = body,
                     .len = strlen(body)};
    return th_http(&srv, &rq, r);
}

static size_t zones_at(double lat, double lon) {
    char path[128];
    snprintf(path, sizeof path, "/v1/zones/at?lat=%.9f&lon=%.9f", lat, lon);
    ProtobufCMessage *out = NULL;
    th_error e;
    assert_int_equal(th_call(&srv, "GET", path, city_sup.token, TH_PB, NULL,
                             &outfall__v1__zone_list__descriptor, &out, &e),
                     200);
    size_t n = ((Outfall__V1__ZoneList *)out)->n_zones;
    protobuf_c_message_free_unpacked(out, NULL);
    return n;
}

static void zones_import_and_rule1_over_http(void **state) {
    (void)state;
    th_response r;
    assert_int_equal(post_zones(city_sup.token, "application/geo+json", zones_json, &r), 403);
    th_response_free(&r);
    assert_int_equal(post_zones(th_admin_token(&srv), "text/plain", zones_json, &r), 415);
    th_response_free(&r);
    assert_int_equal(post_zones(th_admin_token(&srv), "application/geo+json",
                                "{\"type\":\"FeatureCollection\",\"features\":[{\"type\":"
                                "\"Feature\",\"id\":\"x\",\"properties\":{\"name\":\"x\",\"kind\":"
                                "\"drinking_water\"},\"geometry\":{\"type\":\"Point\","
                                "\"coordinates\":[113,35]}}]}",
                                &r),
                     400);
    th_error e;
    th_error_decode(&r, &e);
    assert_string_equal(e.code, "invalid_geojson");
    th_response_free(&r);
    assert_int_equal(post_zones(th_admin_token(&srv), "application/geo+json", zones_json, &r), 200);
    json_t *j = json_loadb((const char *)r.body, r.len, 0, NULL);
    assert_int_equal(json_array_size(json_object_get(j, "zones")), 2);
    json_decref(j);
    th_response_free(&r);

    ProtobufCMessage *out = NULL;
    assert_int_equal(th_call(&srv, "GET", "/v1/zones?geometry=1", surveyor.token, TH_PB, NULL,
                             &outfall__v1__zone_list__descriptor, &out, &e),
                     200);
    Outfall__V1__ZoneList *zl = (Outfall__V1__ZoneList *)out;
    assert_int_equal(zl->n_zones, 2);
    assert_string_equal(zl->zones[0]->id, "api-reserve");
    assert_int_equal(zl->zones[1]->holes, 1);
    assert_non_null(strstr(TH_S(zl->zones[1]->geometry), "\"Polygon\""));
    protobuf_c_message_free_unpacked(out, NULL);

    /* Inside, on the edge, in the hole, on the hole's edge, outside. */
    assert_int_equal(zones_at(35.302, 113.302), 1);
    assert_int_equal(zones_at(35.30, 113.305), 1);
    assert_int_equal(zones_at(35.305, 113.305), 0);
    assert_int_equal(zones_at(35.306, 113.305), 1);
    assert_int_equal(zones_at(35.299999, 113.305), 0);
    assert_int_equal(zones_at(35.405, 113.409), 1); /* the reserve's triangle */

    /* An outfall on the zone's edge may only be banned. */
    char edge[37], hole[37];
    create_approved(DIV, "qinhe", 35.30, 113.302, 0, 0, edge);
    create_approved(DIV, "qinhe", 35.305, 113.305, 0, 0, hole);
    move m;
    move_init(&m, edge, 2, TRACED, NULL);
    move_party(&m, "某公司", "91410882MA44R7LT1");
    int64_t v = ok(&m, TH_PB);
    move_init(&m, edge, v, PLANNED, NULL);
    move_plan(&m, REGULARIZE, "2030-01-01");
    refused(&m, city_sup.token, 400, "rule1_protection_zone", "二.二.2");
    m.plan.measure = OUTFALL__V1__REMEDIATION_MEASURE__REMEDIATION_MEASURE_BAN;
    v = ok(&m, TH_JSON);
    /* In the hole it is outside the zone. */
    move_init(&m, hole, 2, TRACED, NULL);
    move_party(&m, "某公司", "91410882MA44R7LT1");
    v = ok(&m, TH_PB);
    move_init(&m, hole, v, PLANNED, NULL);
    move_plan(&m, REGULARIZE, "2030-01-01");
    ok(&m, TH_PB);
}

static void rules2_and_5_over_http(void **state) {
    (void)state;
    double lat, lon;
    th_spot(&lat, &lon);
    char storm[37], sluice[37];
    create_approved(DIV, "qinhe", lat, lon, OUTFALL__V1__OUTFALL_TYPE__OUTFALL_TYPE_URBAN_STORM, 0,
                    storm);
    th_spot(&lat, &lon);
    create_approved(DIV, "qinhe", lat, lon, 0, OUTFALL__V1__ENTRY_METHOD__ENTRY_METHOD_SLUICE,
                    sluice);
    const char *ids[] = {storm, sluice};
    int64_t v[2];
    for (int i = 0; i < 2; i++) {
        move m;
        move_init(&m, ids[i], 2, TRACED, NULL);
        move_party(&m, "某公司", "91410882MA44R7LT1");
        v[i] = ok(&m, TH_PB);
    }
    move m;
    move_init(&m, storm, v[0], PLANNED, NULL);
    move_plan(&m, MERGE, "2030-01-01");
    m.plan.merge_into_sewer = "市政污水管网";
    refused(&m, city_sup.token, 400, "rule2_storm_outfall", "二.二.1");
    move_init(&m, sluice, v[1], PLANNED, NULL);
    move_plan(&m, REGULARIZE, "2030-01-01");
    refused(&m, city_sup.token, 400, "rule5_safety_note_required", "二.二.1");
    m.plan.safety_note = "汛期前完工，设临时围堰";
    ok(&m, TH_JSON);
}

/* ---- progress ------------------------------------------------------------------------------- */

/* Three outfalls of 孟州市 on the Yellow River: X traced, planned NONE, remediated and retained
 * in 2023; Y traced in 2024 and planned (BAN, due 2024-06-30) but never remediated; Z found only.
 */
static int progress_built;
static void build_mengzhou(void) {
    if (progress_built) return;
    progress_built = 1;
    char x[37], y[37], z[37];
    create_approved(DIV_MZ, "huanghe", 34.91, 112.80, 0, 0, x);
    create_approved(DIV_MZ, "huanghe", 34.92, 112.80, 0, 0, y);
    create_approved(DIV_MZ, "huanghe", 34.93, 112.80, 0, 0, z);
    const char *all[] = {x, y, z};
    for (int i = 0; i < 3; i++) {
        move m;
        move_init(&m, all[i], 2, FOUND, "2023-02-01");
        ok(&m, TH_PB);
    }
    move m;
    move_init(&m, x, 3, TRACED, "2023-03-01");
    move_party(&m, "孟州市某厂", "91410883MA44R7LT1");
    ok(&m, TH_PB);
    move_init(&m, x, 4, PLANNED, "2023-04-01");
    move_plan(&m, NONE, NULL);
    ok(&m, TH_PB);
    move_init(&m, x, 5, REMEDIATED, "2023-05-01");
    ok(&m, TH_PB);
    move_init(&m, x, 6, RETAINED, "2023-05-02");
    ok(&m, TH_PB);
    move_init(&m, y, 3, TRACED, "2024-01-15");
    m.t.has_party_basis = 1;
    m.t.party_basis = OUTFALL__V1__PARTY_BASIS__PARTY_BASIS_COUNTY_GOVERNMENT;
    ok(&m, TH_JSON);
    move_init(&m, y, 4, PLANNED, "2024-02-01");
    move_plan(&m, BAN, "2024-06-30");
    ok(&m, TH_JSON);
}

static const Outfall__V1__ProgressRow *row(const Outfall__V1__ProgressReport *r, const char *scope,
                                           const char *code) {
    for (size_t i = 0; i < r->n_rows; i++)
        if (strcmp(r->rows[i]->scope, scope) == 0 && strcmp(r->rows[i]->code, code) == 0)
            return r->rows[i];
    fail_msg("no %s row %s", scope, code);
    return NULL;
}

static void progress_in_json_protobuf_and_csv(void **state) {
    (void)state;
    build_mengzhou();
    const char *encs[] = {TH_JSON, TH_PB};
    for (int i = 0; i < 2; i++) {
        ProtobufCMessage *out = NULL;
        th_error e;
        long st =
            th_call(&srv, "GET", "/v1/progress?as_of=2023-12-31&division=" DIV_MZ, integrator.token,
                    encs[i], NULL, &outfall__v1__progress_report__descriptor, &out, &e);
        if (st != 200) print_message("progress: %ld %s %s\n", st, e.code, e.message);
        assert_int_equal(st, 200);
        Outfall__V1__ProgressReport *r = (Outfall__V1__ProgressReport *)out;
        assert_string_equal(r->as_of, "2023-12-31");
        const Outfall__V1__ProgressRow *d = row(r, "division", DIV_MZ);
        assert_int_equal(d->found, 3);
        assert_int_equal(d->traced, 1);
        assert_true(d->traced_pct > 33.2 && d->traced_pct < 33.4);
        /* X's plan is NONE (无需整治): counted apart, not as remediated (issue 18). */
        assert_int_equal(d->remediated, 0);
        assert_int_equal(d->no_remediation_needed, 1);
        assert_int_equal(d->retained, 1);
        assert_int_equal(d->n_targets, 2);
        assert_int_equal(d->targets[0]->status, OUTFALL__V1__TARGET_STATUS__TARGET_STATUS_BEHIND);
        assert_int_equal(d->targets[1]->status,
                         OUTFALL__V1__TARGET_STATUS__TARGET_STATUS_BEHIND); /* 0 of 2 < 30 */
        /* A river with nothing found has not started: never on track. */
        const Outfall__V1__ProgressRow *weihe = row(r, "river", "weihe");
        assert_int_equal(weihe->found, 0);
        assert_int_equal(weihe->targets[0]->status,
                         OUTFALL__V1__TARGET_STATUS__TARGET_STATUS_NOT_STARTED);
        assert_int_equal(weihe->targets[1]->status,
                         OUTFALL__V1__TARGET_STATUS__TARGET_STATUS_NOT_STARTED);
        protobuf_c_message_free_unpacked(out, NULL);
    }
    /* The city's own code as the division is the whole city, as no division is (it read as a
     * county with nothing in it: every figure 0). */
    ProtobufCMessage *whole = NULL, *city = NULL;
    th_error we;
    assert_int_equal(th_call(&srv, "GET", "/v1/progress?as_of=2023-12-31", city_sup.token, TH_JSON,
                             NULL, &outfall__v1__progress_report__descriptor, &whole, &we),
                     200);
    assert_int_equal(th_call(&srv, "GET", "/v1/progress?as_of=2023-12-31&division=410800",
                             city_sup.token, TH_JSON, NULL,
                             &outfall__v1__progress_report__descriptor, &city, &we),
                     200);
    const Outfall__V1__ProgressRow *w = row((Outfall__V1__ProgressReport *)whole, "division",
                                            DIV_MZ),
                                   *c =
                                       row((Outfall__V1__ProgressReport *)city, "division", DIV_MZ);
    assert_true(w->found > 0);
    assert_int_equal(c->found, w->found);
    assert_int_equal(c->traced, w->traced);
    protobuf_c_message_free_unpacked(whole, NULL);
    protobuf_c_message_free_unpacked(city, NULL);

    /* End of 2024: Y is overdue; remediated 1 of 3 misses 70 %. */
    ProtobufCMessage *out = NULL;
    th_error e;
    assert_int_equal(
        th_call(&srv, "GET", "/v1/progress?as_of=2024-12-31&division=" DIV_MZ "&river=huanghe",
                city_sup.token, TH_JSON, NULL, &outfall__v1__progress_report__descriptor, &out, &e),
        200);
    Outfall__V1__ProgressReport *r = (Outfall__V1__ProgressReport *)out;
    assert_int_equal(r->n_rows, 3); /* the selection, the division, the river */
    const Outfall__V1__ProgressRow *river = row(r, "river", "huanghe");
    assert_int_equal(river->found, 3);
    assert_int_equal(river->traced, 2);
    assert_int_equal(river->overdue_plans, 1);
    /* The overdue plan is listed: Y, BAN due 2024-06-30, 184 days before the date. */
    assert_int_equal(r->n_overdue, 1);
    assert_string_equal(r->overdue[0]->due, "2024-06-30");
    assert_int_equal(r->overdue[0]->days_overdue, 184);
    assert_int_equal(r->overdue[0]->measure, BAN);
    assert_string_equal(r->overdue[0]->division_code, DIV_MZ);
    assert_true(r->overdue[0]->code && strncmp(r->overdue[0]->code, DIV_MZ "-", 7) == 0);
    protobuf_c_message_free_unpacked(out, NULL);

    /* CSV by Accept, and by ?format=csv. */
    const char *ways[][2] = {
        {"/v1/progress?as_of=2023-12-31&division=" DIV_MZ, "text/csv"},
        {"/v1/progress?as_of=2023-12-31&division=" DIV_MZ "&format=csv", TH_JSON}};
    for (int i = 0; i < 2; i++) {
        th_request rq = {
            .method = "GET", .path = ways[i][0], .accept = ways[i][1], .token = city_sup.token};
        th_response resp;
        assert_int_equal(th_http(&srv, &rq, &resp), 200);
        assert_string_equal(resp.content_type, "text/csv; charset=utf-8");
        assert_memory_equal(resp.body,
                            "\xEF\xBB\xBF"
                            "as_of,scope,",
                            15);
        assert_non_null(strstr((const char *)resp.body,
                               "\r\n2023-12-31,division,410883,孟州市,3,1,33.3,1,0,0.0,0,1,0,"
                               "80.0,2023-12-31,80.0,BEHIND,30.0,2023-12-31,30.0,BEHIND,1\r\n"));
        th_response_free(&resp);
    }
    /* A county supervisor asking for another county; a bad date. */
    assert_int_equal(th_call(&srv, "GET", "/v1/progress?division=" DIV_MZ, county_sup.token,
                             TH_JSON, NULL, &outfall__v1__progress_report__descriptor, &out, &e),
                     403);
    assert_string_equal(e.code, "outside_division");
    assert_int_equal(th_call(&srv, "GET", "/v1/progress?as_of=31.12.2023", city_sup.token, TH_JSON,
                             NULL, &outfall__v1__progress_report__descriptor, &out, &e),
                     400);
}

/* ---- exports -------------------------------------------------------------------------------- */

/* Writes the body to a temporary file; path gets its name. */
static void to_file(const th_response *r, const char *suffix, char path[64]) {
    snprintf(path, 64, "/tmp/outfall-export-XXXXXX%s", suffix);
    int fd = mkstemps(path, (int)strlen(suffix));
    assert_true(fd >= 0);
    assert_int_equal(write(fd, r->body, r->len), (ssize_t)r->len);
    close(fd);
}

/* Runs a command and returns its first line of output in out[cap]; -1 when it could not run. */
static int run(const char *cmd, char *out, size_t cap) {
    FILE *p = popen(cmd, "r");
    if (!p) return -1;
    out[0] = '\0';
    if (!fgets(out, (int)cap, p)) out[0] = '\0';
    char rest[256];
    while (fgets(rest, sizeof rest, p)) {
    }
    int status = pclose(p);
    out[strcspn(out, "\n")] = '\0';
    return status == 0 ? 0 : -1;
}

static void exports_stream_geojson_and_csv_read_back_by_real_parsers(void **state) {
    (void)state;
    build_mengzhou();
    th_request rq = {.method = "GET",
                     .path = "/v1/exports/outfalls.geojson?division=" DIV_MZ,
                     .token = integrator.token};
    th_response r;
    assert_int_equal(th_http(&srv, &rq, &r), 200);
    assert_string_equal(r.content_type, "application/geo+json");
    json_error_t jerr;
    json_t *fc = json_loadb((const char *)r.body, r.len, 0, &jerr);
    if (!fc) print_message("GeoJSON: %s\n", jerr.text);
    assert_non_null(fc);
    json_t *features = json_object_get(fc, "features");
    assert_int_equal(json_array_size(features), 3);
    int retained = 0;
    size_t i;
    json_t *ft;
    json_array_foreach(features, i, ft) {
        json_t *p = json_object_get(ft, "properties");
        assert_string_equal(json_string_value(json_object_get(p, "division_code_label")), "孟州市");
        assert_string_equal(json_string_value(json_object_get(p, "river_code_label")), "黄河");
        assert_string_equal(json_string_value(json_object_get(p, "programme.found_on")),
                            "2023-02-01");
        if (strcmp(json_string_value(json_object_get(p, "programme.stage")),
                   "LIFECYCLE_STAGE_RETAINED") == 0)
            retained++;
    }
    assert_int_equal(retained, 1);
    json_decref(fc);
    char path[64], line[256];
    to_file(&r, ".geojson", path);
    th_response_free(&r);
    if (access("/usr/bin/ogrinfo", X_OK) == 0) {
        char cmd[320];
        snprintf(cmd, sizeof cmd, "ogrinfo -ro -al -so %s | grep 'Feature Count'", path);
        assert_int_equal(run(cmd, line, sizeof line), 0);
        assert_string_equal(line, "Feature Count: 3");
        /* GDAL reads the layer as points in WGS-84 and types the columns. */
        snprintf(cmd, sizeof cmd,
                 "ogrinfo -ro -al -so %s | grep -cE '^ *(Geometry: Point|Layer name: outfalls|"
                 "version: Integer |programme.found_on: Date |division_code_label: String "
                 "|ID\\[\"EPSG\",4326\\])'",
                 path);
        assert_int_equal(run(cmd, line, sizeof line), 0);
        assert_string_equal(line, "6");
    } else {
        print_message("ogrinfo is not installed: the GeoJSON was read by jansson only\n");
    }
    unlink(path);

    /* The Accept header asks for the same document. */
    rq.path = "/v1/exports/outfalls.csv?division=" DIV_MZ "&from=2023-01-01&to=2023-12-31";
    rq.accept = "text/csv";
    assert_int_equal(th_http(&srv, &rq, &r), 200);
    assert_string_equal(r.content_type, "text/csv; charset=utf-8");
    assert_memory_equal(r.body, "\xEF\xBB\xBF", 3);
    to_file(&r, ".csv", path);
    th_response_free(&r);
    /* Python's csv module: rows, the division's name and the WGS-84 columns. */
    char cmd[512];
    snprintf(cmd, sizeof cmd,
             "python3 -c 'import csv,sys; rows=list(csv.DictReader(open(sys.argv[1], "
             "encoding=\"utf-8-sig\", newline=\"\"))); print(len(rows), "
             "sorted(set(r[\"division_code_label\"] for r in rows))[0], "
             "min(float(r[\"lat\"]) for r in rows), rows[0][\"programme.stage\"] != \"\")' %s",
             path);
    if (run("python3 -c 'import csv'", line, sizeof line) == 0) {
        assert_int_equal(run(cmd, line, sizeof line), 0);
        assert_string_equal(line, "3 孟州市 34.91 True");
    } else {
        print_message("python3 is not installed: the CSV was checked for its BOM only\n");
    }
    unlink(path);

    /* Out of scope: refused before anything streams. */
    rq.path = "/v1/exports/outfalls.csv?division=" DIV_MZ;
    rq.token = county_sup.token;
    rq.accept = NULL;
    assert_int_equal(th_http(&srv, &rq, &r), 403);
    th_response_free(&r);
    rq.path = "/v1/exports/outfalls.geojson?from=2023-13-01";
    assert_int_equal(th_http(&srv, &rq, &r), 400);
    th_response_free(&r);
}

static void annual_report_as_html_and_csv(void **state) {
    (void)state;
    build_mengzhou();
    th_request rq = {.method = "GET",
                     .path = "/v1/reports/annual?year=2023&division=" DIV_MZ,
                     .token = city_sup.token};
    th_response r;
    assert_int_equal(th_http(&srv, &rq, &r), 200);
    assert_string_equal(r.content_type, "text/html; charset=utf-8");
    assert_non_null(strstr((const char *)r.body, "孟州市 2023 年度入河排污口监督管理工作报告"));
    assert_non_null(strstr((const char *)r.body, "<tr><th>年内列入保留清单</th><td>1</td></tr>"));
    th_response_free(&r);
    rq.accept = "text/csv";
    assert_int_equal(th_http(&srv, &rq, &r), 200);
    assert_string_equal(r.content_type, "text/csv; charset=utf-8");
    assert_non_null(strstr((const char *)r.body, "\r\nsummary,,found_in_year,,,,,,3\r\n"));
    assert_non_null(strstr((const char *)r.body, "\r\nsummary,,retained_in_year,,,,,,1\r\n"));
    th_response_free(&r);
    rq.token = county_sup.token;
    assert_int_equal(th_http(&srv, &rq, &r), 403);
    th_response_free(&r);
    rq.path = "/v1/reports/annual?division=" DIV_MZ;
    rq.token = city_sup.token;
    assert_int_equal(th_http(&srv, &rq, &r), 400);
    th_response_free(&r);
}

/* Files a public report (no account) of kind in division; returns its tracking number. */
static void report_filed(int kind, const char *division, double lat, double lon, char number[32]) {
    Outfall__V1__PublicReport in = OUTFALL__V1__PUBLIC_REPORT__INIT;
    in.has_kind = in.has_lat = in.has_lon = 1;
    in.kind = kind;
    in.lat = lat;
    in.lon = lon;
    in.division_code = (char *)division;
    in.description = "河边有暗管排水，颜色发黑";
    Outfall__V1__PublicReport *out = NULL;
    th_error e;
    long st = th_call(&srv, "POST", "/public/reports", NULL, TH_JSON, &in.base,
                      &outfall__v1__public_report__descriptor, (ProtobufCMessage **)&out, &e);
    if (st / 100 != 2) print_message("report: %ld %s %s\n", st, e.code, e.message);
    assert_int_equal(st / 100, 2);
    util_strlcpy(number, out->number, 32);
    protobuf_c_message_free_unpacked(&out->base, NULL);
}

/* The value of summary line `name` in an annual report's CSV, or -1. */
static long long summary_value(const th_response *r, const char *name) {
    char key[96];
    snprintf(key, sizeof key, "\r\nsummary,,%s,,,,,,", name);
    const char *at = strstr((const char *)r->body, key);
    return at ? atoll(at + strlen(key)) : -1;
}

static void annual_report_counts_inspections_and_public_reports(void **state) {
    (void)state;
    build_mengzhou();
    enum { ILLEGAL = 1, BORROWED = 2 };
    char n1[32], n2[32], n3[32], n4[32];
    report_filed(ILLEGAL, DIV_MZ, 34.91, 112.80, n1);
    report_filed(ILLEGAL, DIV_MZ, 34.92, 112.80, n2);
    report_filed(BORROWED, DIV_MZ, 34.93, 112.80, n3);
    report_filed(ILLEGAL, DIV, 35.10, 112.95, n4);
    char aid[37], path[96];
    th_uuid(aid);
    Outfall__V1__ReportAnswer ans = OUTFALL__V1__REPORT_ANSWER__INIT;
    ans.answer_id = aid;
    ans.answer = "已核查，责令整改";
    snprintf(path, sizeof path, "/v1/reports/%s/answer", n2);
    th_error e;
    assert_int_equal(
        th_call(&srv, "POST", path, city_sup.token, TH_JSON, &ans.base, NULL, NULL, &e), 200);

    /* A random inspection of two of 孟州市's three outfalls, by inspectors of other counties. */
    char draw_id[37];
    th_uuid(draw_id);
    Outfall__V1__InspectionInspector i1 = OUTFALL__V1__INSPECTION_INSPECTOR__INIT,
                                     i2 = OUTFALL__V1__INSPECTION_INSPECTOR__INIT;
    i1.name = "检查员甲";
    i1.division_code = DIV;
    i2.name = "检查员乙";
    i2.division_code = "410802";
    Outfall__V1__InspectionInspector *pool[] = {&i1, &i2};
    char *divs[] = {DIV_MZ};
    Outfall__V1__InspectionDrawRequest dr = OUTFALL__V1__INSPECTION_DRAW_REQUEST__INIT;
    dr.draw_id = draw_id;
    dr.n_division_codes = 1;
    dr.division_codes = divs;
    dr.has_sample = 1;
    dr.sample = 2;
    dr.n_inspectors = 2;
    dr.inspectors = pool;
    long st = th_call(&srv, "POST", "/v1/inspections/draws", city_sup.token, TH_JSON, &dr.base,
                      NULL, NULL, &e);
    if (st != 200) print_message("draw: %ld %s %s\n", st, e.code, e.message);
    assert_int_equal(st, 200);

    time_t now = time(NULL) + 8 * 3600;
    struct tm tm;
    gmtime_r(&now, &tm);
    char q[128];
    snprintf(q, sizeof q, "/v1/reports/annual?year=%d&division=%s&format=csv", tm.tm_year + 1900,
             DIV_MZ);
    th_request rq = {.method = "GET", .path = q, .token = city_sup.token};
    th_response r;
    assert_int_equal(th_http(&srv, &rq, &r), 200);
    assert_int_equal(summary_value(&r, "inspections_drawn"), 2);
    assert_int_equal(summary_value(&r, "inspection_results"), 0);
    assert_int_equal(summary_value(&r, "inspections_not_done"), 0); /* their deadline is ahead */
    assert_int_equal(summary_value(&r, "public_reports_received"), 3);
    assert_int_equal(summary_value(&r, "public_reports_answered"), 1);
    assert_int_equal(summary_value(&r, "public_reports_illegal_discharge"), 2);
    assert_int_equal(summary_value(&r, "public_reports_borrowed_use"), 1);
    th_response_free(&r);
    /* 沁阳市 had no inspection and one report; the city counts all. */
    snprintf(q, sizeof q, "/v1/reports/annual?year=%d&division=%s&format=csv", tm.tm_year + 1900,
             DIV);
    assert_int_equal(th_http(&srv, &rq, &r), 200);
    assert_int_equal(summary_value(&r, "inspections_drawn"), 0);
    assert_int_equal(summary_value(&r, "public_reports_received"), 1);
    assert_int_equal(summary_value(&r, "public_reports_answered"), 0);
    th_response_free(&r);
    snprintf(q, sizeof q, "/v1/reports/annual?year=%d&division=410800", tm.tm_year + 1900);
    assert_int_equal(th_http(&srv, &rq, &r), 200);
    assert_non_null(
        strstr((const char *)r.body, "<tr><th>年内随机抽取排污口（抽查任务）</th><td>2</td></tr>"));
    assert_non_null(strstr((const char *)r.body, "<tr><th>年内收到公众举报</th><td>4</td></tr>"));
    assert_non_null(strstr((const char *)r.body, "<tr><th>年内答复公众举报</th><td>1</td></tr>"));
    th_response_free(&r);
    /* Another year has none of them. */
    snprintf(q, sizeof q, "/v1/reports/annual?year=%d&division=%s&format=csv", tm.tm_year + 1899,
             DIV_MZ);
    assert_int_equal(th_http(&srv, &rq, &r), 200);
    assert_int_equal(summary_value(&r, "inspections_drawn"), 0);
    assert_int_equal(summary_value(&r, "public_reports_received"), 0);
    th_response_free(&r);
}

static int group_setup(void **state) {
    (void)state;
    const char *div[] = {DIV, NULL}, *mz[] = {DIV_MZ, NULL}, *city[] = {"410800", NULL},
               *other[] = {"410802", NULL};
    /* Lifecycles are dated anywhere in the programme here: no backdating limit (the rule has its
     * own tests, test_dates.c). */
    const char *const args[] = {"--backdate-days", "36500", NULL};
    if (th_server_start(&srv, args) != 0) return -1;
    if (th_user_new(&srv, "sup-city", TH_ROLE(SUPERVISOR), city, &city_sup) ||
        th_user_new(&srv, "sup-qy", TH_ROLE(SUPERVISOR), div, &county_sup) ||
        th_user_new(&srv, "sup-jf", TH_ROLE(SUPERVISOR), other, &other_sup) ||
        th_user_new(&srv, "surveyor", TH_ROLE(SURVEYOR), div, &surveyor) ||
        th_user_new(&srv, "surveyor-mz", TH_ROLE(SURVEYOR), mz, &surveyor_mz) ||
        th_user_new(&srv, "integrator", TH_ROLE(INTEGRATOR), city, &integrator))
        return -1;
    if (th_device_new(&srv, surveyor.token, &dev) ||
        th_device_new(&srv, surveyor_mz.token, &dev_mz))
        return -1;
    return 0;
}

static int group_teardown(void **state) {
    (void)state;
    return th_server_stop(&srv);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(lifecycle_over_http_in_protobuf_and_json),
        cmocka_unit_test(refusals_answer_clear_codes_and_statuses),
        cmocka_unit_test(zones_import_and_rule1_over_http),
        cmocka_unit_test(rules2_and_5_over_http),
        cmocka_unit_test(progress_in_json_protobuf_and_csv),
        cmocka_unit_test(exports_stream_geojson_and_csv_read_back_by_real_parsers),
        cmocka_unit_test(annual_report_as_html_and_csv),
        cmocka_unit_test(annual_report_counts_inspections_and_public_reports),
    };
    return cmocka_run_group_tests_name("programme over HTTP", tests, group_setup, group_teardown);
}
