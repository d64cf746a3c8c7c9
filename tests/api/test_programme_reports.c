/* The programme's reports through the real server over HTTP: the streamed exports read back by a
 * real JSON parser (jansson), Python's csv module and, where installed, GDAL's ogrinfo; the
 * annual report as HTML and CSV, counting inspections and public reports. The lifecycle, zones
 * and progress are tests/api/test_programme.c. */
#include "tests/api/programme_world.h"

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

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(exports_stream_geojson_and_csv_read_back_by_real_parsers),
        cmocka_unit_test(annual_report_as_html_and_csv),
        cmocka_unit_test(annual_report_counts_inspections_and_public_reports),
    };
    return cmocka_run_group_tests_name("programme's reports over HTTP", tests, group_setup,
                                       group_teardown);
}
