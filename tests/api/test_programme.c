/* The programme through the real server over HTTP: lifecycle transitions in protobuf and JSON,
 * refusals and their statuses, protection zones and the plan's rules, progress as JSON, protobuf
 * and CSV. The exports and the annual report are tests/api/test_programme_reports.c. */
#include "tests/api/programme_world.h"

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

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(lifecycle_over_http_in_protobuf_and_json),
        cmocka_unit_test(refusals_answer_clear_codes_and_statuses),
        cmocka_unit_test(zones_import_and_rule1_over_http),
        cmocka_unit_test(rules2_and_5_over_http),
        cmocka_unit_test(progress_in_json_protobuf_and_csv),
    };
    return cmocka_run_group_tests_name("programme over HTTP", tests, group_setup, group_teardown);
}
