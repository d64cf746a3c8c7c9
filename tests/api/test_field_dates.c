/* Field dates through the real server (issue 16 item 8): a new outfall is found on the phone's
 * field date, the day (China Standard Time) of its creating change's client_time_ms, bounded by
 * the batch's receipt (the future) and the signing device's enrolment (before its key existed),
 * with a few minutes' clock skew allowed. Out of bounds it is still stored, found on the day
 * received and flagged field_time_out_of_range. The date shows as Outfall.programme.found_on, a
 * trace may be dated on it, and the exports select by it. The test moves a device's enrolment
 * into the past in the database, as the passing days would. */
#include <setjmp.h>
#include <sqlite3.h>
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

#define DIV "410882"
#define DAY_MS INT64_C(86400000)
#define FLAG "field_time_out_of_range"

static th_server srv;
static th_user alice, sup;
static th_device old_phone; /* enrolled ten days ago (moved back in the database) */
static th_device new_phone; /* enrolled just now */

/* The day (YYYY-MM-DD, China Standard Time) of Unix time ms. */
static void day_of(int64_t ms, char out[11]) {
    time_t t = (time_t)(ms / 1000) + 8 * 3600;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 11, "%Y-%m-%d", &tm);
}

/* Moves device d's enrolment back by days in the live database. */
static void enrolled_days_ago(const th_device *d, int days) {
    char path[400];
    snprintf(path, sizeof path, "%s/outfall.db", srv.data);
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "UPDATE devices SET enrolled_at_ms = enrolled_at_ms - ?1 "
                                        "WHERE device_id = ?2",
                                        -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_int64(st, 1, days * DAY_MS);
    sqlite3_bind_text(st, 2, d->id, -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_DONE);
    assert_int_equal(sqlite3_changes(db), 1);
    sqlite3_finalize(st);
    sqlite3_close(db);
}

/* A new outfall by alice via d whose change says the phone recorded it at client_ms; stored
 * APPLIED, its id into id; the record as read back (free it). The days the server received it
 * in go into received[2] (before and after, for a sync across midnight). */
static Outfall__V1__Outfall *found_at(th_device *d, int64_t client_ms, char id[37],
                                      char received[2][11]) {
    double lat, lon;
    th_spot(&lat, &lon);
    th_batch *b = th_batch_new(d);
    Outfall__V1__Outfall *o = th_outfall_create(b, "qinhe", DIV, lat, lon);
    o->name = "田间排口";
    th_batch_req(b)->changes[0]->client_time_ms = client_ms;
    util_strlcpy(id, th_batch_entity(b, 0), 37);
    day_of(util_now_ms(), received[0]);
    Outfall__V1__SyncResponse *resp = th_sync_ok(&srv, alice.token, b, TH_PB);
    day_of(util_now_ms(), received[1]);
    th_batch_free(b);
    assert_non_null(resp);
    assert_int_equal(resp->results[0]->status, TH_STATUS(APPLIED));
    outfall__v1__sync_response__free_unpacked(resp, NULL);
    Outfall__V1__Outfall *got = NULL;
    assert_int_equal(th_get_outfall(&srv, alice.token, id, &got, NULL), 200);
    assert_non_null(got->programme);
    assert_non_null(got->programme->found_on);
    return got;
}

/* The record is found on the day it was received, and flagged. */
static void found_on_receipt_and_flagged(const Outfall__V1__Outfall *o, char received[2][11]) {
    const char *found = o->programme->found_on;
    if (strcmp(found, received[0]) != 0) assert_string_equal(found, received[1]);
    assert_true(th_has(o->flags, o->n_flags, FLAG));
}

/* ---- tests -------------------------------------------------------------------------------- */

static void outfall_recorded_three_days_ago_is_found_that_day_and_traced_on_it(void **state) {
    (void)state;
    int64_t field_ms = util_now_ms() - 3 * DAY_MS;
    char id[37], received[2][11], field_day[11];
    day_of(field_ms, field_day);
    Outfall__V1__Outfall *o = found_at(&old_phone, field_ms, id, received);
    assert_string_equal(o->programme->found_on, field_day);
    assert_false(th_has(o->flags, o->n_flags, FLAG));
    assert_false(o->programme->has_stage); /* a date, not a stage: transitions set stages */
    outfall__v1__outfall__free_unpacked(o, NULL);

    /* approved, it is traced on the field day: no date_out_of_order */
    Outfall__V1__DecisionResult *res = NULL;
    assert_int_equal(th_approve(&srv, sup.token, id, 1, &res), 200);
    int64_t v = res->outfall->version;
    char code[64];
    util_strlcpy(code, TH_S(res->outfall->code), sizeof code);
    outfall__v1__decision_result__free_unpacked(res, NULL);
    char tid[37], credit[19];
    th_uuid(tid);
    memcpy(credit, "91410882MA44R7LT1", 17);
    credit[17] = credit_code_check_char("91410882MA44R7LT1");
    credit[18] = '\0';
    Outfall__V1__ResponsibleParty party = OUTFALL__V1__RESPONSIBLE_PARTY__INIT;
    party.name = "沁阳市某食品有限公司";
    party.credit_code = credit;
    Outfall__V1__LifecycleTransition t = OUTFALL__V1__LIFECYCLE_TRANSITION__INIT;
    t.transition_id = tid;
    t.outfall_id = id;
    t.has_base_version = t.has_to_stage = 1;
    t.base_version = v;
    t.to_stage = OUTFALL__V1__LIFECYCLE_STAGE__LIFECYCLE_STAGE_TRACED;
    t.effective_date = field_day;
    t.responsible_party = &party;
    ProtobufCMessage *tr = NULL;
    th_error e;
    long st = th_call(&srv, "POST", "/v1/programme/transitions", sup.token, TH_PB, &t.base,
                      &outfall__v1__transition_result__descriptor, &tr, &e);
    if (st != 200) print_message("trace on %s: %ld %s %s\n", field_day, st, e.code, e.message);
    assert_int_equal(st, 200);
    Outfall__V1__Outfall *after = ((Outfall__V1__TransitionResult *)tr)->outfall;
    assert_string_equal(TH_S(after->programme->found_on), field_day);
    assert_string_equal(TH_S(after->programme->traced_on), field_day);
    protobuf_c_message_free_unpacked(tr, NULL);

    /* the exports (and with them the reports) select it by its field day */
    char path[160];
    snprintf(path, sizeof path, "/v1/exports/outfalls.csv?from=%s&to=%s", field_day, field_day);
    th_request rq = {.method = "GET", .path = path, .token = sup.token};
    th_response r;
    assert_int_equal(th_http(&srv, &rq, &r), 200);
    if (!strstr((const char *)r.body, code)) fail_msg("%s lacks %s:\n%s", path, code, r.body);
    th_response_free(&r);
}

static void client_time_in_the_future_is_found_on_the_receive_day_and_flagged(void **state) {
    (void)state;
    char id[37], received[2][11];
    Outfall__V1__Outfall *o = found_at(&old_phone, util_now_ms() + 2 * DAY_MS, id, received);
    found_on_receipt_and_flagged(o, received);
    outfall__v1__outfall__free_unpacked(o, NULL);
}

static void
client_time_before_the_devices_enrolment_is_found_on_the_receive_day_and_flagged(void **state) {
    (void)state;
    char id[37], received[2][11];
    Outfall__V1__Outfall *o = found_at(&new_phone, util_now_ms() - 3 * DAY_MS, id, received);
    found_on_receipt_and_flagged(o, received);
    outfall__v1__outfall__free_unpacked(o, NULL);
}

static void phone_clock_a_few_minutes_fast_still_counts_as_the_field_time(void **state) {
    (void)state;
    int64_t field_ms = util_now_ms() + 3 * 60 * 1000;
    char id[37], received[2][11], field_day[11];
    day_of(field_ms, field_day);
    Outfall__V1__Outfall *o = found_at(&new_phone, field_ms, id, received);
    assert_string_equal(o->programme->found_on, field_day);
    assert_false(th_has(o->flags, o->n_flags, FLAG));
    outfall__v1__outfall__free_unpacked(o, NULL);
}

static int group_setup(void **state) {
    (void)state;
    const char *div[] = {DIV, NULL};
    if (th_server_start(&srv, NULL) != 0) return -1;
    if (th_user_new(&srv, "dates-surveyor", TH_ROLE(SURVEYOR), div, &alice) != 0 ||
        th_user_new(&srv, "dates-supervisor", TH_ROLE(SUPERVISOR), div, &sup) != 0 ||
        th_device_new(&srv, alice.token, &old_phone) != 0 ||
        th_device_new(&srv, alice.token, &new_phone) != 0)
        return -1;
    enrolled_days_ago(&old_phone, 10);
    return 0;
}

static int group_teardown(void **state) {
    (void)state;
    return th_server_stop(&srv);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(outfall_recorded_three_days_ago_is_found_that_day_and_traced_on_it),
        cmocka_unit_test(client_time_in_the_future_is_found_on_the_receive_day_and_flagged),
        cmocka_unit_test(
            client_time_before_the_devices_enrolment_is_found_on_the_receive_day_and_flagged),
        cmocka_unit_test(phone_clock_a_few_minutes_fast_still_counts_as_the_field_time),
    };
    return cmocka_run_group_tests_name("field dates", tests, group_setup, group_teardown);
}
