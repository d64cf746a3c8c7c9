/* The annual report's filing mark (programme/filings.c) through the real server: a county's
 * supervisor marks it once (a repeat answers the first mark), the list shows who filed and who
 * is missing, and bad or foreign marks write nothing. */
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

static th_server srv;
static th_user qy_sup, city_sup, surveyor;

static long mark(const char *token, const char *division, int year, Outfall__V1__ReportFiling **out,
                 th_error *e) {
    Outfall__V1__ReportFiling f = OUTFALL__V1__REPORT_FILING__INIT;
    f.division_code = (char *)division;
    f.has_year = year != 0;
    f.year = year;
    return th_call(&srv, "POST", "/v1/reports/annual/filed", token, TH_JSON, &f.base,
                   &outfall__v1__report_filing__descriptor, (ProtobufCMessage **)out, e);
}

static Outfall__V1__ReportFilingList *list(const char *token, int year) {
    char path[64];
    snprintf(path, sizeof path, "/v1/reports/filings?year=%d", year);
    Outfall__V1__ReportFilingList *l = NULL;
    assert_int_equal(th_call(&srv, "GET", path, token, TH_PB, NULL,
                             &outfall__v1__report_filing_list__descriptor, (ProtobufCMessage **)&l,
                             NULL),
                     200);
    return l;
}

static void a_county_marks_its_report_once(void **state) {
    (void)state;
    Outfall__V1__ReportFilingList *l = list(city_sup.token, 2025);
    assert_int_equal(l->n_filed, 0);
    assert_int_equal(l->n_missing, 11); /* every county of the city */
    assert_string_equal(l->due, "2026-01-10");
    outfall__v1__report_filing_list__free_unpacked(l, NULL);

    Outfall__V1__ReportFiling *f = NULL;
    assert_int_equal(mark(qy_sup.token, "410882", 2025, &f, NULL), 200);
    int64_t at = f->filed_at_ms;
    assert_string_equal(f->filed_by, qy_sup.name);
    outfall__v1__report_filing__free_unpacked(f, NULL);
    /* A repeat answers the first mark and writes nothing. */
    th_sum before = th_db_checksum(srv.data, TH_ALL);
    assert_int_equal(mark(city_sup.token, "410882", 2025, &f, NULL), 200);
    assert_int_equal(f->filed_at_ms, at);
    assert_string_equal(f->filed_by, qy_sup.name);
    outfall__v1__report_filing__free_unpacked(f, NULL);
    assert_string_equal(before.hex, th_db_checksum(srv.data, TH_ALL).hex);
    assert_int_equal(th_db_count(&srv,
                                 "SELECT count(*) FROM audit WHERE action = 'reports.filed' AND "
                                 "outcome = 'ok' AND target = ?",
                                 "410882/2025"),
                     1);

    /* The county sees itself filed; the city sees the ten others missing. */
    l = list(qy_sup.token, 2025);
    assert_int_equal(l->n_filed, 1);
    assert_int_equal(l->n_missing, 0);
    outfall__v1__report_filing_list__free_unpacked(l, NULL);
    l = list(city_sup.token, 2025);
    assert_int_equal(l->n_filed, 1);
    assert_string_equal(l->filed[0]->division_code, "410882");
    assert_int_equal(l->n_missing, 10);
    outfall__v1__report_filing_list__free_unpacked(l, NULL);
    /* Another year is its own. */
    l = list(qy_sup.token, 2024);
    assert_int_equal(l->n_missing, 1);
    outfall__v1__report_filing_list__free_unpacked(l, NULL);
}

static void bad_and_foreign_marks_write_nothing(void **state) {
    (void)state;
    th_sum before = th_db_checksum(srv.data, TH_ALL);
    th_error e;
    assert_int_equal(mark(qy_sup.token, "410883", 2025, NULL, &e), 403);
    assert_string_equal(e.code, "outside_division");
    assert_int_equal(mark(city_sup.token, "410800", 2025, NULL, &e), 400);
    assert_string_equal(e.code, "invalid_argument");
    assert_int_equal(mark(qy_sup.token, "410882", 2022, NULL, &e), 400);
    assert_string_equal(e.code, "invalid_argument");
    assert_int_equal(mark(qy_sup.token, "410899", 2025, NULL, &e), 400);
    assert_string_equal(e.code, "unknown_division");
    assert_int_equal(mark(surveyor.token, "410882", 2025, NULL, &e), 403);
    assert_string_equal(e.code, "forbidden_role");
    assert_string_equal(before.hex, th_db_checksum(srv.data, TH_ALL).hex);
    assert_int_equal(
        th_call(&srv, "GET", "/v1/reports/filings", qy_sup.token, TH_PB, NULL, NULL, NULL, &e),
        400);
}

static int group_setup(void **state) {
    (void)state;
    const char *qy[] = {"410882", NULL}, *city[] = {"410800", NULL};
    if (th_server_start(&srv, NULL) != 0) return -1;
    if (th_user_new(&srv, "sup-qy", TH_ROLE(SUPERVISOR), qy, &qy_sup) ||
        th_user_new(&srv, "sup-city", TH_ROLE(SUPERVISOR), city, &city_sup) ||
        th_user_new(&srv, "surveyor", TH_ROLE(SURVEYOR), qy, &surveyor))
        return -1;
    return 0;
}

static int group_teardown(void **state) {
    (void)state;
    return th_server_stop(&srv);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_county_marks_its_report_once),
        cmocka_unit_test(bad_and_foreign_marks_write_nothing),
    };
    return cmocka_run_group_tests_name("annual report filings over HTTP", tests, group_setup,
                                       group_teardown);
}
