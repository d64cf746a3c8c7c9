/* The field app's inbox through the real server (issue 16 item 7): a supervisor's comment on a
 * returned or rejected record reaches the surveyor's phone as the record's server-owned
 * review_comment (feed, GET, JSON reviewComment), is cleared by approval, never shows in the
 * approved view, public pages or exports, and a phone cannot set it. The inspection tasks of
 * GET /v1/inspections/tasks are tests/api/test_inspection_tasks.c. */
#include "tests/api/review_fixture.h"

/* ---- helpers ------------------------------------------------------------------------------ */

/* GET path as token asking for JSON; the body (free it) after asserting status want. */
static char *get_text(const char *path, const char *token, long want) {
    th_request rq = {.method = "GET", .path = path, .accept = TH_JSON, .token = token};
    th_response r;
    long st = th_http(&srv, &rq, &r);
    if (st != want) print_message("GET %s: %ld %s\n", path, st, (const char *)r.body);
    assert_int_equal(st, want);
    char *body = strdup(r.body ? (const char *)r.body : "");
    th_response_free(&r);
    return body;
}

/* Decides kind on id at base with comment as sup; the record after it (free it). */
static Outfall__V1__Outfall *decide_with(int kind, const char *id, int64_t base,
                                         const char *comment) {
    decision x;
    decision_init(&x, kind, id, base, comment);
    Outfall__V1__DecisionResult *res = decide_ok(&sup, &x);
    Outfall__V1__Outfall *o = res->outfall;
    res->outfall = NULL;
    outfall__v1__decision_result__free_unpacked(res, NULL);
    return o;
}

/* The outfall id in alice's feed after since (its newest entry), or fails. */
static void feed_comment(int64_t since, const char *id, const char *want) {
    Outfall__V1__ChangesResponse *c = feed_after(&alice, since);
    const Outfall__V1__Outfall *o = feed_outfall(c, id);
    assert_non_null(o);
    if (want)
        assert_string_equal(TH_S(o->review_comment), want);
    else
        assert_null(o->review_comment);
    outfall__v1__changes_response__free_unpacked(c, NULL);
}

/* ---- the comment reaches the phone ---------------------------------------------------------- */

static void returned_record_carries_the_comment_to_the_phone_until_it_is_approved(void **state) {
    (void)state;
    const char *why = "补拍远景照片，标志牌看不清";
    char id[37];
    create(T_OTHER, "北闸", id);
    int64_t since = feed_end(&alice);

    Outfall__V1__Outfall *o = decide_with(KIND(RETURN), id, 1, why);
    assert_int_equal(o->review_state, STATE(RETURNED));
    assert_string_equal(TH_S(o->review_comment), why);
    outfall__v1__outfall__free_unpacked(o, NULL);

    /* the surveyor's phone pulls it with the record, in the feed and by id, in JSON too */
    feed_comment(since, id, why);
    o = read_as(&alice, id, NULL);
    assert_string_equal(TH_S(o->review_comment), why);
    outfall__v1__outfall__free_unpacked(o, NULL);
    char path[160];
    snprintf(path, sizeof path, "/v1/outfalls/%s", id);
    char *json = get_text(path, alice.token, 200);
    json_t *j = json_loads(json, 0, NULL);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "reviewComment")), why);
    json_decref(j);
    free(json);

    /* the history says which decision wrote it */
    Outfall__V1__OutfallHistory *h = history_of(&sup, id);
    assert_non_null(change_at(h, "review_comment", 2));
    outfall__v1__outfall_history__free_unpacked(h, NULL);

    /* reworked by the phone, it waits for the supervisor with the comment still beside it */
    edit(&alice, &dev_a, id, 2, NULL, "北闸东侧", "APPLIED", 3);
    o = read_as(&alice, id, NULL);
    assert_int_equal(o->review_state, STATE(PENDING));
    assert_string_equal(TH_S(o->review_comment), why);
    outfall__v1__outfall__free_unpacked(o, NULL);

    /* approval answers it: cleared, in the record and in the feed */
    since = feed_end(&alice);
    approve(id, 3, NULL);
    o = read_as(&alice, id, NULL);
    assert_int_equal(o->review_state, STATE(APPROVED));
    assert_null(o->review_comment);
    outfall__v1__outfall__free_unpacked(o, NULL);
    feed_comment(since, id, NULL);
    json = get_text(path, alice.token, 200);
    assert_null(strstr(json, "reviewComment"));
    free(json);
}

static void rejected_record_carries_its_comment(void **state) {
    (void)state;
    const char *why = "不是排口，是灌溉渠";
    char id[37];
    create(T_OTHER, "渠首", id);
    int64_t since = feed_end(&alice);
    Outfall__V1__Outfall *o = decide_with(KIND(REJECT), id, 1, why);
    assert_int_equal(o->review_state, STATE(REJECTED));
    assert_string_equal(TH_S(o->review_comment), why);
    outfall__v1__outfall__free_unpacked(o, NULL);
    feed_comment(since, id, why);
}

static void comment_on_an_approved_record_shows_in_no_public_view_or_export(void **state) {
    (void)state;
    const char *why = "内部意见：责任单位名称待核实";
    char id[37], code[64];
    create(T_OTHER, "南闸", id);
    approve(id, 1, code);
    edit(&alice, &dev_a, id, 2, NULL, "南闸西侧", "APPLIED", 3);
    Outfall__V1__Outfall *o = decide_with(KIND(RETURN), id, 3, why);
    assert_string_equal(TH_S(o->review_comment), why);
    outfall__v1__outfall__free_unpacked(o, NULL);

    /* the approved view (integrators, the public, exports) is the approved version: no comment */
    o = read_as(&integ, id, "approved");
    assert_int_equal(o->version, 2);
    assert_null(o->review_comment);
    outfall__v1__outfall__free_unpacked(o, NULL);
    char path[160];
    snprintf(path, sizeof path, "/public/outfalls/%s", code);
    const char *reads[][2] = {
        {path, NULL},
        {"/v1/exports/outfalls.geojson", integ.token},
        {"/v1/exports/outfalls.csv", integ.token},
        {"/public/outfalls", NULL},
    };
    for (size_t i = 0; i < sizeof reads / sizeof reads[0]; i++) {
        char *body = get_text(reads[i][0], reads[i][1], 200);
        assert_null(strstr(body, why));
        assert_null(strstr(body, "reviewComment"));
        assert_null(strstr(body, "review_comment"));
        free(body);
    }
}

/* ---- a phone cannot write it ---------------------------------------------------------------- */

static void phone_setting_a_comment_is_refused_read_only_and_writes_nothing(void **state) {
    (void)state;
    char id[37];
    create(T_OTHER, "西闸", id);
    double lat, lon;
    th_spot(&lat, &lon);
    for (int which = 0; which < 3; which++) {
        th_sum before = th_db_checksum(srv.data, TH_STATE);
        th_batch *b = th_batch_new(&dev_a);
        if (which == 0) {
            Outfall__V1__Outfall *o = th_outfall_create(b, "qinhe", DIV, lat, lon);
            o->review_comment = "自己写的意见";
        } else if (which == 1) {
            Outfall__V1__Outfall *o = th_outfall_edit(b, id, 1);
            o->review_comment = "";
        } else {
            Outfall__V1__Observation *ob = th_observation_create(b, id, lat, lon);
            ob->inspection_comment = "自己写的意见";
        }
        Outfall__V1__SyncResponse *resp = sync_as(&alice, b);
        expect(resp->results[0], "REJECTED", 0);
        assert_string_equal(TH_S(resp->results[0]->reason), "read_only_field");
        outfall__v1__sync_response__free_unpacked(resp, NULL);
        assert_string_equal(before.hex, th_db_checksum(srv.data, TH_STATE).hex);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(returned_record_carries_the_comment_to_the_phone_until_it_is_approved),
        cmocka_unit_test(rejected_record_carries_its_comment),
        cmocka_unit_test(comment_on_an_approved_record_shows_in_no_public_view_or_export),
        cmocka_unit_test(phone_setting_a_comment_is_refused_read_only_and_writes_nothing),
    };
    return cmocka_run_group_tests_name("field inbox: review comments", tests, group_setup,
                                       group_teardown);
}
