/* Honest dates and frozen filings through the real server (issue 18, points 1 and 2). A
 * transition keeps the date it claims beside the time it was recorded; it may not precede the
 * outfall's first field observation; reaching back more than --backdate-days (30 here, the
 * default) it needs a reason and evidence and flags the outfall date_backdated. Filing a year's
 * annual report stores the bytes filed with their hashes; later changes never alter them;
 * ?current=1 shows what changed since; a correction is filing 2; a year not over is refused. The
 * tests move a device's enrolment into the past in the database, as the passing days would. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "common/credit_code.h"
#include "common/util.h"
#include "tests/lib/harness.h"

#define QY "410882"
#define MZ "410883"
#define DAY_MS INT64_C(86400000)
/* 2023-03-01 12:00 China Standard Time: the day the Mengzhou outfall was seen. */
#define SEEN_2023_MS INT64_C(1677643200000)

static th_server srv;
static th_user alice, mz_surveyor, city_sup, mz_sup;
static th_device alice_phone, mz_phone;

enum {
    FOUND = OUTFALL__V1__LIFECYCLE_STAGE__LIFECYCLE_STAGE_FOUND,
    TRACED = OUTFALL__V1__LIFECYCLE_STAGE__LIFECYCLE_STAGE_TRACED,
    PLANNED = OUTFALL__V1__LIFECYCLE_STAGE__LIFECYCLE_STAGE_PLANNED,
    REMEDIATED = OUTFALL__V1__LIFECYCLE_STAGE__LIFECYCLE_STAGE_REMEDIATED,
    RETAINED = OUTFALL__V1__LIFECYCLE_STAGE__LIFECYCLE_STAGE_RETAINED,
    NONE = OUTFALL__V1__REMEDIATION_MEASURE__REMEDIATION_MEASURE_NONE,
};

/* The day (YYYY-MM-DD, China Standard Time) of Unix time ms. */
static void day_of(int64_t ms, char out[11]) {
    time_t t = (time_t)(ms / 1000) + 8 * 3600;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 11, "%Y-%m-%d", &tm);
}

/* Moves device d's enrolment to at_ms in the live database. */
static void enrolled_at(const th_device *d, int64_t at_ms) {
    char sql[96];
    snprintf(sql, sizeof sql, "UPDATE devices SET enrolled_at_ms = %lld WHERE device_id = ?",
             (long long)at_ms);
    assert_int_equal(th_db_exec(&srv, sql, d->id), 1);
}

/* A new outfall in division, recorded by u's phone d at client_ms (0: no time), approved by the
 * city; its id into id; returns its version. */
static int64_t outfall_seen(th_user *u, th_device *d, const char *division, const char *river,
                            int64_t client_ms, char id[37]) {
    double lat, lon;
    th_spot(&lat, &lon);
    th_batch *b = th_batch_new(d);
    Outfall__V1__Outfall *o = th_outfall_create(b, river, division, lat, lon);
    o->name = "日期排口";
    if (client_ms) th_batch_req(b)->changes[0]->client_time_ms = client_ms;
    util_strlcpy(id, th_batch_entity(b, 0), 37);
    Outfall__V1__SyncResponse *resp = th_sync_ok(&srv, u->token, b, TH_PB);
    th_batch_free(b);
    assert_non_null(resp);
    assert_int_equal(resp->results[0]->status, TH_STATUS(APPLIED));
    outfall__v1__sync_response__free_unpacked(resp, NULL);
    Outfall__V1__DecisionResult *res = NULL;
    assert_int_equal(th_approve(&srv, city_sup.token, id, 1, &res), 200);
    int64_t v = res->outfall->version;
    outfall__v1__decision_result__free_unpacked(res, NULL);
    return v;
}

/* A transition being built, with the strings it points at. */
typedef struct move {
    Outfall__V1__LifecycleTransition t;
    Outfall__V1__ResponsibleParty party;
    Outfall__V1__RemediationPlan plan;
    char tid[37], code[19];
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
    if (stage == TRACED) {
        memcpy(m->code, "91410882MA44R7LT1", 17);
        m->code[17] = credit_code_check_char("91410882MA44R7LT1");
        m->party.name = "沁阳市某食品有限公司";
        m->party.credit_code = m->code;
        m->t.responsible_party = &m->party;
    }
    if (stage == PLANNED) {
        m->plan.has_measure = 1;
        m->plan.measure = (Outfall__V1__RemediationMeasure)NONE;
        m->t.plan = &m->plan;
    }
}

/* POSTs the transition as the city supervisor; on 200 *out (may be NULL) gets the result. */
static long post(const move *m, Outfall__V1__TransitionResult **out, th_error *e) {
    ProtobufCMessage *res = NULL;
    long st = th_call(&srv, "POST", "/v1/programme/transitions", city_sup.token, TH_JSON,
                      &m->t.base, &outfall__v1__transition_result__descriptor, &res, e);
    if (out)
        *out = (Outfall__V1__TransitionResult *)res;
    else if (res)
        protobuf_c_message_free_unpacked(res, NULL);
    return st;
}

/* Posts and expects 200; returns the new version. */
static int64_t applied(const move *m) {
    Outfall__V1__TransitionResult *res = NULL;
    th_error e;
    long st = post(m, &res, &e);
    if (st != 200) print_message("transition: %ld %s %s\n", st, e.code, e.message);
    assert_int_equal(st, 200);
    int64_t v = res->outfall->version;
    protobuf_c_message_free_unpacked(&res->base, NULL);
    return v;
}

/* Posts and expects 400 with code, the data exactly as it was. */
static void refused(const move *m, const char *code) {
    th_sum before = th_db_checksum(srv.data, TH_STATE);
    th_error e;
    long st = post(m, NULL, &e);
    if (st != 400 || strcmp(e.code, code) != 0)
        print_message("expected 400 %s, got %ld %s %s\n", code, st, e.code, e.message);
    assert_int_equal(st, 400);
    assert_string_equal(e.code, code);
    assert_string_equal(before.hex, th_db_checksum(srv.data, TH_STATE).hex);
}

/* A photo alice's phone uploaded: its hash into hash. */
static void stored_photo(char hash[65]) {
    th_file f;
    assert_int_equal(th_photo_variant("qinhe-outfall-a-1.jpg", &f, hash), 0);
    assert_true(th_photo_put(&srv, alice.token, hash, f.data, f.len, NULL) / 100 == 2);
    th_file_free(&f);
}

/* ---- dates -------------------------------------------------------------------------------- */

/* The case: a record created today, a supervisor dating found, traced, planned,
 * remediated and retained into 2023: each refused; the same moves dated today pass. */
static void a_record_created_today_cannot_be_dated_into_2023(void **state) {
    (void)state;
    char id[37], today[11], photo[65];
    int64_t v = outfall_seen(&alice, &alice_phone, QY, "qinhe", 0, id);
    day_of(util_now_ms(), today);
    stored_photo(photo);
    static const struct {
        int stage;
        const char *date;
    } steps[] = {{FOUND, "2023-02-01"},
                 {TRACED, "2023-03-01"},
                 {PLANNED, "2023-04-01"},
                 {REMEDIATED, "2023-05-01"},
                 {RETAINED, "2023-06-01"}};
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        move m;
        move_init(&m, id, v, steps[i].stage, steps[i].date);
        refused(&m, "date_before_first_observation");
        /* Neither a reason nor evidence opens a date before the record was seen. */
        m.t.reason = "县里说2023年就查到了";
        m.t.evidence_hash = photo;
        th_uuid(m.tid);
        refused(&m, "date_before_first_observation");
        move_init(&m, id, v, steps[i].stage, today);
        v = applied(&m);
    }
    Outfall__V1__Outfall *o = NULL;
    assert_int_equal(th_get_outfall(&srv, city_sup.token, id, &o, NULL), 200);
    assert_int_equal(o->programme->stage, RETAINED);
    assert_string_equal(o->programme->found_on, today);
    assert_false(th_has(o->flags, o->n_flags, "date_backdated"));
    outfall__v1__outfall__free_unpacked(o, NULL);
    assert_int_equal(th_db_count(&srv,
                                 "SELECT count(*) FROM audit WHERE target = ? AND outcome = "
                                 "'date_before_first_observation'",
                                 id),
                     10);
}

static void a_date_in_the_future_is_refused(void **state) {
    (void)state;
    char id[37], tomorrow[11];
    int64_t v = outfall_seen(&alice, &alice_phone, QY, "qinhe", 0, id);
    day_of(util_now_ms() + DAY_MS, tomorrow);
    move m;
    move_init(&m, id, v, FOUND, tomorrow);
    refused(&m, "invalid_date");
}

/* Seen 60 days ago: tracing dated 45 days ago needs a reason and evidence; then it is kept with
 * both times, flagged for the city and audited as backdated. Within 30 days nothing is asked. */
static void
backdating_past_the_limit_needs_reason_and_evidence_and_flags_the_outfall(void **state) {
    (void)state;
    int64_t now = util_now_ms();
    char id[37], seen[11], traced[11], planned[11], photo[65];
    day_of(now - 60 * DAY_MS, seen);
    day_of(now - 45 * DAY_MS, traced);
    day_of(now - 20 * DAY_MS, planned);
    int64_t v = outfall_seen(&alice, &alice_phone, QY, "qinhe", now - 60 * DAY_MS, id);
    stored_photo(photo);

    move m;
    move_init(&m, id, v, TRACED, traced);
    refused(&m, "backdate_needs_reason");
    m.t.reason = "   ";
    m.t.evidence_hash = photo;
    refused(&m, "backdate_needs_reason"); /* a blank reason is none */
    m.t.reason = "溯源记录纸质存档，补录";
    m.t.evidence_hash = NULL;
    refused(&m, "backdate_needs_reason");
    m.t.evidence_hash = "ABCDEF";
    refused(&m, "invalid_transition");

    m.t.evidence_hash = photo;
    Outfall__V1__TransitionResult *res = NULL;
    th_error e;
    int64_t before = util_now_ms();
    assert_int_equal(post(&m, &res, &e), 200);
    int64_t after = util_now_ms();
    assert_true(res->has_recorded_at_ms);
    assert_true(res->recorded_at_ms >= before && res->recorded_at_ms <= after);
    assert_int_equal(res->backdated_days, 45);
    Outfall__V1__Outfall *o = res->outfall;
    assert_string_equal(o->programme->traced_on, traced);
    assert_int_equal(o->programme->recorded_at_ms, res->recorded_at_ms);
    assert_true(th_has(o->flags, o->n_flags, "date_backdated"));
    v = o->version;
    protobuf_c_message_free_unpacked(&res->base, NULL);

    /* The flag reaches the city's FLAGGED queue, though the outfall is approved. */
    th_xfer q = {.method = "GET",
                 .path = "/v1/review/queue?kind=FLAGGED&limit=500",
                 .token = city_sup.token};
    th_xresult qr;
    assert_int_equal(th_xfer_run(&srv, &q, &qr), 200);
    assert_non_null(strstr((const char *)qr.r.body, id));
    th_response_free(&qr.r);

    /* Both times in the field history (the claimed date as the value, the recording as at_ms),
     * reason and evidence with the transition, and the audit row says so. */
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM field_history WHERE entity_id = ? AND field = "
             "'programme.traced_on' AND value = '\"%s\"' AND at_ms >= %lld",
             traced, (long long)before);
    assert_int_equal(th_db_count(&srv, sql, id), 1);
    assert_int_equal(th_db_count(&srv,
                                 "SELECT count(*) FROM transitions WHERE outfall_id = ? AND "
                                 "backdated_days = 45 AND reason = '溯源记录纸质存档，补录'",
                                 id),
                     1);
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM audit WHERE target = ? AND outcome = 'ok' AND detail LIKE "
             "'FOUND -> TRACED on %s, recorded %%BACKDATED 45 days (limit 30)%%stored photo %s'",
             traced, photo);
    assert_int_equal(th_db_count(&srv, sql, id), 1);

    /* 20 days back is within the limit: no reason asked; the flag stays for the city. */
    move_init(&m, id, v, PLANNED, planned);
    v = applied(&m);
    Outfall__V1__Outfall *got = NULL;
    assert_int_equal(th_get_outfall(&srv, city_sup.token, id, &got, NULL), 200);
    assert_string_equal(got->programme->planned_on, planned);
    assert_true(th_has(got->flags, got->n_flags, "date_backdated"));
    outfall__v1__outfall__free_unpacked(got, NULL);

    /* A document's hash (not a stored photo) is evidence too, and the audit says which. */
    char other[37], doc_hash[65];
    int64_t ov = outfall_seen(&alice, &alice_phone, QY, "qinhe", now - 60 * DAY_MS, other);
    th_hash_hex("焦作市生态环境局 溯源报告", strlen("焦作市生态环境局 溯源报告"), doc_hash);
    move_init(&m, other, ov, FOUND, traced);
    m.t.reason = "以县局溯源报告为准";
    m.t.evidence_hash = doc_hash;
    applied(&m);
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM audit WHERE target = ? AND detail LIKE '%%evidence document "
             "%s'",
             doc_hash);
    assert_int_equal(th_db_count(&srv, sql, other), 1);
}

/* ---- filings ------------------------------------------------------------------------------ */

/* GET of the annual report of Mengzhou for 2023 (query: more parameters): its bytes' hash into
 * hash, and the body (free it) when asked. */
static long report(const char *query, char hash[65], char **body) {
    char path[160];
    snprintf(path, sizeof path, "/v1/reports/annual?year=2023&division=" MZ "%s", query);
    th_xfer x = {.method = "GET", .path = path, .token = mz_sup.token};
    th_xresult r;
    long st = th_xfer_run(&srv, &x, &r);
    th_hash_hex(r.r.body, r.r.len, hash);
    if (body) {
        *body = malloc(r.r.len + 1);
        memcpy(*body, r.r.body, r.r.len);
        (*body)[r.r.len] = '\0';
    }
    th_response_free(&r.r);
    return st;
}

static long file(int year, int corrects, const char *comment, Outfall__V1__ReportFiling **out,
                 th_error *e) {
    Outfall__V1__ReportFiling f = OUTFALL__V1__REPORT_FILING__INIT;
    f.division_code = MZ;
    f.has_year = 1;
    f.year = year;
    f.has_corrects = corrects != 0;
    f.corrects = corrects;
    f.comment = (char *)comment;
    return th_call(&srv, "POST", "/v1/reports/annual/filed", mz_sup.token, TH_JSON, &f.base,
                   &outfall__v1__report_filing__descriptor, (ProtobufCMessage **)out, e);
}

/* The case: file 2023, then change a 2023 date through an allowed path (a backdated
 * trace with reason and evidence): the filed report is byte for byte what was filed, the current
 * one shows the difference, a correction is filing 2 and filing 1 stays. */
static void a_filed_report_never_moves_and_a_correction_is_filing_2(void **state) {
    (void)state;
    char id[37], photo[65];
    int64_t v = outfall_seen(&mz_surveyor, &mz_phone, MZ, "huanghe", SEEN_2023_MS, id);
    stored_photo(photo);

    Outfall__V1__ReportFiling *f = NULL;
    assert_int_equal(file(2023, 0, NULL, &f, NULL), 200);
    assert_int_equal(f->number, 1);
    char html1[65], csv1[65], got[65];
    util_strlcpy(html1, TH_S(f->html_hash), sizeof html1);
    util_strlcpy(csv1, TH_S(f->csv_hash), sizeof csv1);
    outfall__v1__report_filing__free_unpacked(f, NULL);
    assert_int_equal(strlen(html1), 64);
    char sql[300];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM audit WHERE action = 'reports.filed' AND outcome = 'ok' AND "
             "target = ? AND detail = 'filing 1: html blake2b-256 %s, csv blake2b-256 %s'",
             html1, csv1);
    assert_int_equal(th_db_count(&srv, sql, MZ "/2023"), 1);
    char *csv_before = NULL;
    assert_int_equal(report("", got, NULL), 200);
    assert_string_equal(got, html1);
    assert_int_equal(report("&format=csv", got, &csv_before), 200);
    assert_string_equal(got, csv1);
    assert_non_null(strstr(csv_before, "summary,,traced_by_year_end,,,,,,0\r\n"));
    free(csv_before);

    /* The allowed path: traced on 2023-06-01, with reason and evidence (backdated, flagged). */
    move m;
    move_init(&m, id, v, TRACED, "2023-06-01");
    m.t.reason = "2023年溯源档案补录";
    m.t.evidence_hash = photo;
    applied(&m);

    assert_int_equal(report("", got, NULL), 200);
    assert_string_equal(got, html1);
    assert_int_equal(report("&format=csv", got, NULL), 200);
    assert_string_equal(got, csv1);
    assert_int_equal(report("&filing=1&format=csv", got, NULL), 200);
    assert_string_equal(got, csv1);

    char *now = NULL;
    assert_int_equal(report("&current=1&format=csv", got, &now), 200);
    assert_non_null(strstr(now, "summary,,traced_by_year_end,,,,,,1\r\n"));
    assert_non_null(strstr(now, "since_filing,,filing,,,"));
    assert_non_null(strstr(now, "filed,,traced_by_year_end,,,,,,0\r\n"));
    assert_null(strstr(now, "filed,,found_by_year_end,")); /* unchanged figures are not listed */
    free(now);
    assert_int_equal(report("&current=1", got, &now), 200);
    assert_non_null(strstr(now, "六、报送后的变化（第 1 次报送"));
    assert_non_null(strstr(now, "<tr><td>traced_by_year_end</td><td>0</td><td>1</td></tr>"));
    free(now);

    /* A repeat answers filing 1 and writes nothing. */
    th_sum before = th_db_checksum(srv.data, TH_STATE);
    assert_int_equal(file(2023, 0, NULL, &f, NULL), 200);
    assert_int_equal(f->number, 1);
    assert_string_equal(f->html_hash, html1);
    outfall__v1__report_filing__free_unpacked(f, NULL);
    assert_string_equal(before.hex, th_db_checksum(srv.data, TH_STATE).hex);

    /* A correction needs a reason; then it is filing 2, and filing 1 is kept. */
    th_error e;
    assert_int_equal(file(2023, 1, NULL, NULL, &e), 400);
    assert_string_equal(e.code, "comment_required");
    assert_int_equal(file(2023, 2, "溯源日期更正", NULL, &e), 400);
    assert_string_equal(e.code, "invalid_argument");
    assert_int_equal(file(2023, 1, "溯源日期更正", &f, NULL), 200);
    assert_int_equal(f->number, 2);
    char html2[65];
    util_strlcpy(html2, TH_S(f->html_hash), sizeof html2);
    assert_string_not_equal(html2, html1);
    outfall__v1__report_filing__free_unpacked(f, NULL);
    assert_int_equal(report("", got, NULL), 200);
    assert_string_equal(got, html2);
    assert_int_equal(report("&filing=1", got, NULL), 200);
    assert_string_equal(got, html1);
    assert_int_equal(report("&current=1", got, &now), 200);
    assert_non_null(strstr(now, "<td colspan=\"3\">无变化</td>"));
    free(now);
    assert_int_equal(th_db_count(&srv,
                                 "SELECT count(*) FROM audit WHERE action = 'reports.corrected' "
                                 "AND outcome = 'ok' AND target = ? AND detail LIKE 'filing 2, a "
                                 "correction: 溯源日期更正: html blake2b-256 %'",
                                 MZ "/2023"),
                     1);
    /* Retrying the correction answers filing 2 again. */
    before = th_db_checksum(srv.data, TH_STATE);
    assert_int_equal(file(2023, 1, "溯源日期更正", &f, NULL), 200);
    assert_int_equal(f->number, 2);
    outfall__v1__report_filing__free_unpacked(f, NULL);
    assert_string_equal(before.hex, th_db_checksum(srv.data, TH_STATE).hex);
    assert_int_equal(report("&filing=3", got, NULL), 404);
}

static void filing_a_year_not_ended_is_refused(void **state) {
    (void)state;
    char today[11];
    day_of(util_now_ms(), today);
    int this_year = atoi(today);
    th_sum before = th_db_checksum(srv.data, TH_STATE);
    th_error e;
    assert_int_equal(file(2027 > this_year ? 2027 : this_year + 1, 0, NULL, NULL, &e), 400);
    assert_string_equal(e.code, "filing_year_not_ended");
    assert_int_equal(file(this_year, 0, NULL, NULL, &e), 400);
    assert_string_equal(e.code, "filing_year_not_ended");
    assert_string_equal(before.hex, th_db_checksum(srv.data, TH_STATE).hex);
    /* The year before is over: it may be filed. */
    assert_int_equal(file(this_year - 1, 0, NULL, NULL, &e), 200);
}

static int group_setup(void **state) {
    (void)state;
    const char *qy[] = {QY, NULL}, *mz[] = {MZ, NULL}, *city[] = {"410800", NULL};
    if (th_server_start(&srv, NULL) != 0) return -1;
    if (th_user_new(&srv, "dates-surveyor", TH_ROLE(SURVEYOR), qy, &alice) != 0 ||
        th_user_new(&srv, "dates-mz-surveyor", TH_ROLE(SURVEYOR), mz, &mz_surveyor) != 0 ||
        th_user_new(&srv, "dates-city", TH_ROLE(SUPERVISOR), city, &city_sup) != 0 ||
        th_user_new(&srv, "dates-mz-sup", TH_ROLE(SUPERVISOR), mz, &mz_sup) != 0 ||
        th_device_new(&srv, alice.token, &alice_phone) != 0 ||
        th_device_new(&srv, mz_surveyor.token, &mz_phone) != 0)
        return -1;
    /* The phones were enrolled long ago: alice's 90 days, Mengzhou's before the programme. */
    enrolled_at(&alice_phone, util_now_ms() - 90 * DAY_MS);
    enrolled_at(&mz_phone, TH_PROGRAMME_START_MS - DAY_MS);
    return 0;
}

static int group_teardown(void **state) {
    (void)state;
    return th_server_stop(&srv);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_record_created_today_cannot_be_dated_into_2023),
        cmocka_unit_test(a_date_in_the_future_is_refused),
        cmocka_unit_test(backdating_past_the_limit_needs_reason_and_evidence_and_flags_the_outfall),
        cmocka_unit_test(a_filed_report_never_moves_and_a_correction_is_filing_2),
        cmocka_unit_test(filing_a_year_not_ended_is_refused),
    };
    return cmocka_run_group_tests_name("honest dates and frozen filings", tests, group_setup,
                                       group_teardown);
}
