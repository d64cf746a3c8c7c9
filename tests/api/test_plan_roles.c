/* Roles for the whole plan (issue 18 point 4), through the real server:
 * - a random inspection pick authorises the inspector it names to send, and correct, that pick's
 *   result for that outfall whatever the inspector's own county (the issue's case: a draw sends
 *   county A's inspector to county B), and nothing else of county B;
 * - the province checker (省级核查) draws its own round and sends its picks' results, and no
 *   other write (its every read and refusal per endpoint: tests/api/test_roles.c);
 * - a draw's deadline: the request's or the month's end; a pick with no result by then is
 *   NOT_DONE in the tasks and the public draw, takes no late result, and the annual report counts
 *   it apart, never as an inspection;
 * - county self-check annual plans (市县自查): recorded by the county, read by the city and the
 *   province checker, with progress against them, and in the annual report. */
#include <jansson.h>
#include <setjmp.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/util.h"
#include "tests/lib/harness.h"

#define DIV_B "410822" /* 博爱县: the outfalls */
#define DIV_A "410883" /* 孟州市: inspector a's only county */
#define RESULT(x) OUTFALL__V1__INSPECTION_RESULT__INSPECTION_RESULT_##x
#define KIND(x) OUTFALL__V1__DECISION_KIND__DECISION_KIND_##x
#define TASK(x) OUTFALL__V1__INSPECTION_TASK_STATE__INSPECTION_TASK_STATE_##x

static th_server srv;
static th_user surveyor_b, sup_b, sup_a, sup_city, insp_a, insp_other, checker;
static th_device dev_b, dev_insp_a, dev_insp_other, dev_checker;
static char today[11], year[5];

typedef struct rec {
    char id[37];
    char code[64];
    double lat, lon;
    int64_t version; /* the approved outfall's version */
} rec;

/* ---- helpers ---- */

/* Decides kind on observation obs (or the outfall, obs NULL) of outfall id at base as sup_b. */
static void decide(int kind, const char *id, const char *obs, int64_t base, const char *comment) {
    char did[37];
    th_uuid(did);
    Outfall__V1__Decision d = OUTFALL__V1__DECISION__INIT;
    d.decision_id = did;
    d.has_kind = d.has_base_version = 1;
    d.kind = kind;
    d.outfall_id = (char *)id;
    d.observation_id = (char *)obs;
    d.base_version = base;
    d.comment = (char *)comment;
    Outfall__V1__DecisionResult *res = NULL;
    th_error e;
    long st = th_call(&srv, "POST", "/v1/review/decisions", sup_b.token, TH_PB, &d.base,
                      &outfall__v1__decision_result__descriptor, (ProtobufCMessage **)&res, &e);
    if (st != 200) print_message("decision: %ld %s %s\n", st, e.code, e.message);
    assert_int_equal(st, 200);
    outfall__v1__decision_result__free_unpacked(res, NULL);
}

/* A new approved outfall of river in DIV_B: r gets its id and code. */
static void approved_outfall(rec *r, const char *river) {
    th_spot(&r->lat, &r->lon);
    th_batch *b = th_batch_new(&dev_b);
    th_outfall_create(b, river, DIV_B, r->lat, r->lon);
    util_strlcpy(r->id, th_batch_entity(b, 0), sizeof r->id);
    Outfall__V1__SyncResponse *resp = th_sync_ok(&srv, surveyor_b.token, b, TH_PB);
    th_batch_free(b);
    assert_non_null(resp);
    assert_int_equal(resp->results[0]->status, TH_STATUS(APPLIED));
    outfall__v1__sync_response__free_unpacked(resp, NULL);
    decide(KIND(APPROVE), r->id, NULL, 1, NULL);
    Outfall__V1__Outfall *o = NULL;
    assert_int_equal(th_get_outfall(&srv, sup_b.token, r->id, &o, NULL), 200);
    util_strlcpy(r->code, TH_S(o->code), sizeof r->code);
    r->version = o->version;
    outfall__v1__outfall__free_unpacked(o, NULL);
}

/* POSTs body (JSON) to path as token: the status; the answer's JSON into *out when out. */
static long post_json(const char *path, const char *token, const char *body, json_t **out,
                      th_error *e) {
    th_request rq = {.method = "POST",
                     .path = path,
                     .content_type = TH_JSON,
                     .accept = TH_JSON,
                     .token = token,
                     .body = body,
                     .len = strlen(body)};
    th_response r;
    long st = th_http(&srv, &rq, &r);
    if (out) *out = st == 200 ? json_loads((const char *)r.body, 0, NULL) : NULL;
    if (e && st != 200) th_error_decode(&r, e);
    th_response_free(&r);
    return st;
}

/* GETs path as token (NULL: none): the status, the JSON answer into *out on 200. */
static long get_json(const char *path, const char *token, json_t **out, th_error *e) {
    th_request rq = {.method = "GET", .path = path, .accept = TH_JSON, .token = token};
    th_response r;
    long st = th_http(&srv, &rq, &r);
    *out = st == 200 ? json_loads((const char *)r.body, 0, NULL) : NULL;
    if (e && st != 200) th_error_decode(&r, e);
    th_response_free(&r);
    return st;
}

/* Draws every approved outfall of river in DIV_B (sample n) as token, inspectors the n names
 * (of pool divisions divs); deadline (NULL: none). draw_id gets the id; *out the draw. */
static long draw(const char *token, const char *river, int n, const char *const *names,
                 const char *const *divs, const char *deadline, char draw_id[37], json_t **out,
                 th_error *e) {
    char body[1024], pool[512] = "", dl[64] = "";
    th_uuid(draw_id);
    for (int i = 0; i < n; i++) {
        size_t used = strlen(pool);
        snprintf(pool + used, sizeof pool - used, "%s{\"name\":\"%s\",\"divisionCode\":\"%s\"}",
                 i ? "," : "", names[i], divs[i]);
    }
    if (deadline) snprintf(dl, sizeof dl, ",\"deadline\":\"%s\"", deadline);
    snprintf(body, sizeof body,
             "{\"drawId\":\"%s\",\"divisionCodes\":[\"" DIV_B "\"],\"riverCode\":\"%s\","
             "\"sample\":%d,\"inspectors\":[%s]%s}",
             draw_id, river, n, pool, dl);
    return post_json("/v1/inspections/draws", token, body, out, e);
}

/* The inspector the draw d assigned to code. */
static const char *inspector_of(json_t *d, const char *code) {
    size_t i;
    json_t *pick;
    json_array_foreach(json_object_get(d, "picks"), i, pick) {
        if (strcmp(json_string_value(json_object_get(pick, "code")), code) == 0)
            return json_string_value(json_object_get(pick, "inspector"));
    }
    fail_msg("no pick of %s", code);
    return NULL;
}

/* Sends, as user u from phone dev, a result for o of draw_id (base 0: new, id gets its id; else
 * an edit of id); or with draw_id NULL and base 0 a plain observation. Returns the change's
 * status, its reason into reason[64]. */
static int send_result(th_user *u, th_device *dev, char id[37], int64_t base, const rec *o,
                       const char *draw_id, int result, char reason[64]) {
    th_batch *b = th_batch_new(dev);
    Outfall__V1__Observation *ob;
    if (base == 0) {
        ob = th_observation_create(b, o->id, o->lat, o->lon);
        ob->has_observed_at_ms = 1;
        ob->observed_at_ms = util_now_ms();
        if (draw_id) ob->inspection_draw_id = th_batch_str(b, draw_id);
        util_strlcpy(id, th_batch_entity(b, 0), 37);
    } else {
        Outfall__V1__Change *ch = th_batch_change(b, id, base);
        ob = th_batch_alloc(b, sizeof *ob);
        outfall__v1__observation__init(ob);
        ch->entity_case = OUTFALL__V1__CHANGE__ENTITY_OBSERVATION;
        ch->observation = ob;
    }
    if (result) {
        ob->has_inspection_result = 1;
        ob->inspection_result = result;
    }
    Outfall__V1__SyncResponse *resp = th_sync_ok(&srv, u->token, b, TH_PB);
    th_batch_free(b);
    assert_non_null(resp);
    int status = resp->results[0]->status;
    util_strlcpy(reason, TH_S(resp->results[0]->reason), 64);
    outfall__v1__sync_response__free_unpacked(resp, NULL);
    return status;
}

/* The state of u's task for code in draw_id ("" when not listed); its deadline into dl[11]. */
static const char *task_state(th_user *u, const char *draw_id, const char *code, char dl[11]) {
    static char state[64];
    json_t *l = NULL, *t;
    assert_int_equal(get_json("/v1/inspections/tasks", u->token, &l, NULL), 200);
    size_t i;
    state[0] = '\0';
    json_array_foreach(json_object_get(l, "tasks"), i, t) {
        if (strcmp(json_string_value(json_object_get(t, "drawId")), draw_id) == 0 &&
            strcmp(json_string_value(json_object_get(t, "code")), code) == 0) {
            util_strlcpy(state, json_string_value(json_object_get(t, "state")), sizeof state);
            if (dl) util_strlcpy(dl, TH_S(json_string_value(json_object_get(t, "deadline"))), 11);
        }
    }
    json_decref(l);
    return state;
}

/* The state of the public draw's pick of code. */
static const char *public_state(const char *draw_id, const char *code) {
    static char state[64];
    char path[96];
    json_t *d = NULL, *pick;
    snprintf(path, sizeof path, "/public/inspections/%s", draw_id);
    assert_int_equal(get_json(path, NULL, &d, NULL), 200);
    size_t i;
    state[0] = '\0';
    json_array_foreach(json_object_get(d, "picks"), i, pick) {
        if (strcmp(json_string_value(json_object_get(pick, "code")), code) == 0)
            util_strlcpy(state, TH_S(json_string_value(json_object_get(pick, "state"))),
                         sizeof state);
    }
    json_decref(d);
    return state;
}

/* The annual report's summary figure key for division, this year, as token. */
static long annual_figure(const char *division, const char *key) {
    char path[128], line[96];
    snprintf(path, sizeof path, "/v1/reports/annual?year=%s&division=%s&format=csv", year,
             division);
    th_request rq = {.method = "GET", .path = path, .token = sup_city.token};
    th_response r;
    assert_int_equal(th_http(&srv, &rq, &r), 200);
    snprintf(line, sizeof line, "\r\nsummary,,%s,,,,,,", key);
    const char *at = strstr((const char *)r.body, line);
    long v = at ? strtol(at + strlen(line), NULL, 10) : -1;
    th_response_free(&r);
    if (v < 0) fail_msg("no figure %s in the annual report", key);
    return v;
}

/* Runs sql (one text parameter) on the server's database: the day passes for a draw. */
static void db_exec(const char *sql, const char *arg) {
    char path[400];
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    snprintf(path, sizeof path, "%s/outfall.db", srv.data);
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    sqlite3_bind_text(st, 1, arg, -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
    sqlite3_close(db);
}

/* ---- a pick authorises its inspector (the issue's case) ---- */

static void a_draw_sends_county_a_inspector_to_county_b_and_the_result_is_accepted(void **state) {
    (void)state;
    rec o;
    approved_outfall(&o, "danhe");
    const char *names[] = {insp_a.name}, *divs[] = {DIV_A};
    char draw_id[37];
    json_t *d = NULL;
    th_error e;
    assert_int_equal(draw(sup_b.token, "danhe", 1, names, divs, NULL, draw_id, &d, &e), 200);
    assert_string_equal(inspector_of(d, o.code), insp_a.name);
    json_decref(d);

    /* county A's account sends the result for county B's outfall: accepted, not outside_division */
    char obs[37], reason[64];
    int status = send_result(&insp_a, &dev_insp_a, obs, 0, &o, draw_id, RESULT(COMPLIANT), reason);
    if (status != TH_STATUS(APPLIED)) print_message("result: %s\n", reason);
    assert_int_equal(status, TH_STATUS(APPLIED));
    assert_string_equal(task_state(&insp_a, draw_id, o.code, NULL),
                        "INSPECTION_TASK_STATE_SUBMITTED");

    /* returned by county B's supervisor, corrected by the inspector, approved */
    decide(KIND(RETURN_INSPECTION), o.id, obs, 1, "请补拍排口近景");
    assert_int_equal(
        send_result(&insp_a, &dev_insp_a, obs, 2, &o, NULL, RESULT(ISSUES_FOUND), reason),
        TH_STATUS(APPLIED));
    decide(KIND(APPROVE_INSPECTION), o.id, obs, 3, NULL);
    assert_string_equal(task_state(&insp_a, draw_id, o.code, NULL),
                        "INSPECTION_TASK_STATE_APPROVED");
    assert_string_equal(public_state(draw_id, o.code), "INSPECTION_TASK_STATE_APPROVED");
}

static void the_pick_authorises_its_result_and_nothing_else_of_that_county(void **state) {
    (void)state;
    rec o[2];
    approved_outfall(&o[0], "tanqulaohe");
    approved_outfall(&o[1], "tanqulaohe");
    const char *names[] = {insp_a.name, insp_other.name}, *divs[] = {DIV_A, DIV_A};
    char draw_id[37];
    json_t *d = NULL;
    assert_int_equal(draw(sup_b.token, "tanqulaohe", 2, names, divs, NULL, draw_id, &d, NULL), 200);
    int mine = strcmp(inspector_of(d, o[0].code), insp_a.name) == 0 ? 0 : 1;
    json_decref(d);
    char obs[37], reason[64];

    /* not the other inspector's pick */
    assert_int_equal(
        send_result(&insp_a, &dev_insp_a, obs, 0, &o[1 - mine], draw_id, RESULT(COMPLIANT), reason),
        TH_STATUS(REJECTED));
    assert_string_equal(reason, "not_assigned_inspector");
    /* no plain observation of the picked outfall, no edit of the outfall itself */
    assert_int_equal(send_result(&insp_a, &dev_insp_a, obs, 0, &o[mine], NULL, 0, reason),
                     TH_STATUS(REJECTED));
    assert_string_equal(reason, "outside_division");
    th_batch *b = th_batch_new(&dev_insp_a);
    th_outfall_edit(b, o[mine].id, o[mine].version)->landmark = "moved by the inspector";
    Outfall__V1__SyncResponse *resp = th_sync_ok(&srv, insp_a.token, b, TH_PB);
    th_batch_free(b);
    assert_int_equal(resp->results[0]->status, TH_STATUS(REJECTED));
    assert_string_equal(TH_S(resp->results[0]->reason), "outside_division");
    outfall__v1__sync_response__free_unpacked(resp, NULL);
    /* nor reads county B's records */
    Outfall__V1__Outfall *got = NULL;
    assert_int_equal(th_get_outfall(&srv, insp_a.token, o[mine].id, &got, NULL), 404);
    /* its own pick: accepted */
    assert_int_equal(send_result(&insp_a, &dev_insp_a, obs, 0, &o[mine], draw_id,
                                 RESULT(ILLEGAL_DISCHARGE), reason),
                     TH_STATUS(APPLIED));
}

/* ---- the province checker ---- */

static void province_checker_draws_sends_its_picks_result_and_writes_nothing_else(void **state) {
    (void)state;
    rec o;
    approved_outfall(&o, "gongchanzhuyiqu");
    const char *names[] = {checker.name}, *divs[] = {"410000"};
    char draw_id[37];
    json_t *d = NULL;
    th_error e;
    long st = draw(checker.token, "gongchanzhuyiqu", 1, names, divs, NULL, draw_id, &d, &e);
    if (st != 200) print_message("checker's draw: %ld %s %s\n", st, e.code, e.message);
    assert_int_equal(st, 200);
    assert_string_equal(inspector_of(d, o.code), checker.name);
    json_decref(d);

    char obs[37], plain[37], reason[64];
    assert_int_equal(
        send_result(&checker, &dev_checker, obs, 0, &o, draw_id, RESULT(COMPLIANT), reason),
        TH_STATUS(APPLIED));
    assert_string_equal(task_state(&checker, draw_id, o.code, NULL),
                        "INSPECTION_TASK_STATE_SUBMITTED");
    /* its correction is its own check too */
    assert_int_equal(
        send_result(&checker, &dev_checker, obs, 1, &o, NULL, RESULT(ISSUES_FOUND), reason),
        TH_STATUS(APPLIED));
    /* anything else it writes is refused, and leaves the records as they were */
    assert_int_equal(send_result(&checker, &dev_checker, plain, 0, &o, NULL, 0, reason),
                     TH_STATUS(REJECTED));
    assert_string_equal(reason, "read_only_role");
    th_batch *b = th_batch_new(&dev_checker);
    th_outfall_edit(b, o.id, o.version)->landmark = "edited by the province";
    Outfall__V1__SyncResponse *resp = th_sync_ok(&srv, checker.token, b, TH_PB);
    th_batch_free(b);
    assert_int_equal(resp->results[0]->status, TH_STATUS(REJECTED));
    assert_string_equal(TH_S(resp->results[0]->reason), "read_only_role");
    outfall__v1__sync_response__free_unpacked(resp, NULL);
    Outfall__V1__Outfall *got = NULL;
    assert_int_equal(th_get_outfall(&srv, checker.token, o.id, &got, NULL), 200);
    assert_int_equal(got->version, o.version);
    assert_null(got->landmark);
    outfall__v1__outfall__free_unpacked(got, NULL);
}

/* ---- deadlines ---- */

static void a_draw_takes_a_deadline_or_ends_with_its_month_and_refuses_a_bad_one(void **state) {
    (void)state;
    rec o;
    approved_outfall(&o, "weihe");
    const char *names[] = {insp_a.name}, *divs[] = {DIV_A};
    char draw_id[37], month_end[11];
    json_t *d = NULL;
    assert_int_equal(draw(sup_b.token, "weihe", 1, names, divs, NULL, draw_id, &d, NULL), 200);
    /* the last day of this month: the next day is the 1st or the month changes */
    util_strlcpy(month_end, TH_S(json_string_value(json_object_get(d, "deadline"))),
                 sizeof month_end);
    json_decref(d);
    assert_int_equal(strncmp(month_end, today, 8), 0);
    assert_true(strcmp(month_end, today) >= 0);
    assert_true(strcmp(month_end + 8, "28") >= 0);
    char dl[11] = "";
    assert_string_equal(task_state(&insp_a, draw_id, o.code, dl), "INSPECTION_TASK_STATE_OPEN");
    assert_string_equal(dl, month_end);

    const char *bad[] = {"2024-01-01", "2026-02-30", "tomorrow", "20261231"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        th_error e;
        th_sum before = th_db_checksum(srv.data, TH_ALL);
        assert_int_equal(draw(sup_b.token, "weihe", 1, names, divs, bad[i], draw_id, &d, &e), 400);
        assert_string_equal(e.code, "invalid_draw");
        assert_string_equal(before.hex, th_db_checksum(srv.data, TH_ALL).hex);
    }
    char later[11];
    snprintf(later, sizeof later, "%d-12-31", atoi(year) + 1);
    const char *others[] = {insp_other.name}; /* insp_a inspected it in the previous round */
    assert_int_equal(draw(sup_b.token, "weihe", 1, others, divs, later, draw_id, &d, NULL), 200);
    assert_string_equal(json_string_value(json_object_get(d, "deadline")), later);
    json_decref(d);
}

static void a_pick_without_result_by_the_deadline_is_not_done_and_never_counted(void **state) {
    (void)state;
    rec o[2];
    approved_outfall(&o[0], "manghe");
    approved_outfall(&o[1], "manghe");
    const char *names[] = {insp_a.name, insp_other.name}, *divs[] = {DIV_A, DIV_A};
    long drawn = annual_figure(DIV_B, "inspections_drawn");
    long not_done = annual_figure(DIV_B, "inspections_not_done");
    long results = annual_figure(DIV_B, "inspection_results");
    char draw_id[37];
    json_t *d = NULL;
    assert_int_equal(draw(sup_b.token, "manghe", 2, names, divs, today, draw_id, &d, NULL), 200);
    int done = strcmp(inspector_of(d, o[0].code), insp_a.name) == 0 ? 0 : 1;
    json_decref(d);

    /* one pick answered in time, the other not */
    char obs[37], late[37], reason[64];
    assert_int_equal(
        send_result(&insp_a, &dev_insp_a, obs, 0, &o[done], draw_id, RESULT(COMPLIANT), reason),
        TH_STATUS(APPLIED));
    /* the deadline day ends (the draw was made yesterday, due yesterday) */
    db_exec("UPDATE inspection_draws SET drawn_at_ms = drawn_at_ms - 86400000, doc = "
            "json_set(doc, '$.deadline', date('now', '+8 hours', '-1 day'), '$.drawnAtMs', "
            "drawn_at_ms - 86400000) WHERE id = ?",
            draw_id);

    const rec *missed = &o[1 - done];
    assert_string_equal(task_state(&insp_other, draw_id, missed->code, NULL),
                        "INSPECTION_TASK_STATE_NOT_DONE");
    assert_string_equal(public_state(draw_id, missed->code), "INSPECTION_TASK_STATE_NOT_DONE");
    assert_string_equal(task_state(&insp_a, draw_id, o[done].code, NULL),
                        "INSPECTION_TASK_STATE_SUBMITTED");
    assert_string_equal(public_state(draw_id, o[done].code), "INSPECTION_TASK_STATE_SUBMITTED");
    /* a late result is refused and writes nothing */
    assert_int_equal(send_result(&insp_other, &dev_insp_other, late, 0, missed, draw_id,
                                 RESULT(COMPLIANT), reason),
                     TH_STATUS(REJECTED));
    assert_string_equal(reason, "inspection_deadline_passed");
    assert_string_equal(task_state(&insp_other, draw_id, missed->code, NULL),
                        "INSPECTION_TASK_STATE_NOT_DONE");
    /* the result sent in time is still corrected after the deadline */
    assert_int_equal(
        send_result(&insp_a, &dev_insp_a, obs, 1, &o[done], NULL, RESULT(ISSUES_FOUND), reason),
        TH_STATUS(APPLIED));

    /* the annual report: both picks drawn, one not done, one result; the dead pick is no
     * inspection (unless the year turned over between the draw's day and today) */
    if (strncmp(today + 5, "01-01", 5) != 0) {
        assert_int_equal(annual_figure(DIV_B, "inspections_drawn"), drawn + 2);
        assert_int_equal(annual_figure(DIV_B, "inspections_not_done"), not_done + 1);
        assert_int_equal(annual_figure(DIV_B, "inspection_results"), results + 1);
    }
}

/* ---- county self-check plans ---- */

static void county_self_check_plan_is_recorded_read_up_to_the_province_and_progresses(void **s) {
    (void)s;
    rec o;
    approved_outfall(&o, "xinmanghe");
    char body[512], path[128];
    json_t *p = NULL;
    th_error e;
    snprintf(body, sizeof body,
             "{\"divisionCode\":\"" DIV_B "\",\"year\":%s,\"plannedCount\":4,"
             "\"outfallCodes\":[\"%s\"],\"riverCodes\":[\"xinmanghe\"],\"note\":\"第一季度完成\","
             "\"doneCount\":99}",
             year, o.code);
    long st = post_json("/v1/self-check-plans", sup_b.token, body, &p, &e);
    if (st != 200) print_message("plan: %ld %s %s\n", st, e.code, e.message);
    assert_int_equal(st, 200);
    assert_int_equal(json_integer_value(json_object_get(p, "plannedCount")), 4);
    assert_string_equal(json_string_value(json_object_get(p, "recordedBy")), sup_b.name);
    long done0 = json_integer_value(json_object_get(p, "doneCount")); /* never the client's */
    assert_true(done0 < 99);
    json_decref(p);

    /* an approved result of the county's pick this year counts as done */
    const char *names[] = {insp_a.name}, *divs[] = {DIV_A};
    char draw_id[37], obs[37], reason[64];
    json_t *d = NULL;
    assert_int_equal(draw(sup_b.token, "xinmanghe", 1, names, divs, NULL, draw_id, &d, NULL), 200);
    json_decref(d);
    assert_int_equal(
        send_result(&insp_a, &dev_insp_a, obs, 0, &o, draw_id, RESULT(COMPLIANT), reason),
        TH_STATUS(APPLIED));
    decide(KIND(APPROVE_INSPECTION), o.id, obs, 1, NULL);

    /* the city and the province checker read it, with its progress; the other counties missing */
    th_user *readers[] = {&sup_city, &checker, &sup_b};
    for (size_t i = 0; i < sizeof readers / sizeof readers[0]; i++) {
        json_t *l = NULL;
        snprintf(path, sizeof path, "/v1/self-check-plans?year=%s", year);
        assert_int_equal(get_json(path, readers[i]->token, &l, NULL), 200);
        json_t *plan = json_array_get(json_object_get(l, "plans"), 0);
        assert_int_equal(json_array_size(json_object_get(l, "plans")), 1);
        assert_string_equal(json_string_value(json_object_get(plan, "divisionCode")), DIV_B);
        assert_int_equal(json_integer_value(json_object_get(plan, "doneCount")), done0 + 1);
        assert_int_equal(json_integer_value(json_object_get(plan, "donePercent")),
                         (done0 + 1) * 100 / 4);
        assert_string_equal(
            json_string_value(json_array_get(json_object_get(plan, "outfallCodes"), 0)), o.code);
        assert_string_equal(json_string_value(json_object_get(plan, "note")), "第一季度完成");
        size_t missing = json_array_size(json_object_get(l, "missing"));
        assert_true(readers[i] == &sup_b ? missing == 0 : missing >= 9);
        json_decref(l);
    }
    /* and the annual report shows plan and progress */
    assert_int_equal(annual_figure(DIV_B, "self_check_planned"), 4);
    assert_int_equal(annual_figure(DIV_B, "self_check_done"), done0 + 1);

    /* recording it again replaces it */
    snprintf(body, sizeof body, "{\"divisionCode\":\"" DIV_B "\",\"year\":%s,\"plannedCount\":6}",
             year);
    assert_int_equal(post_json("/v1/self-check-plans", sup_b.token, body, &p, NULL), 200);
    assert_int_equal(json_integer_value(json_object_get(p, "plannedCount")), 6);
    assert_null(json_object_get(p, "note"));
    json_decref(p);
    assert_int_equal(annual_figure(DIV_B, "self_check_planned"), 6);
}

static void self_check_plans_refuse_bad_input_and_other_counties_and_write_nothing(void **s) {
    (void)s;
    char ok_year[8], next[8], body[512], path[128], big_note[2100];
    snprintf(ok_year, sizeof ok_year, "%s", year);
    snprintf(next, sizeof next, "%d", atoi(year) + 2);
    memset(big_note, 'x', 2001);
    big_note[2001] = '\0';
    struct {
        const char *token, *division, *year, *extra;
        long status;
        const char *code;
    } cases[] = {
        {sup_b.token, DIV_B, ok_year, ",\"plannedCount\":0", 400, "invalid_self_check_plan"},
        {sup_b.token, DIV_B, ok_year, "", 400, "invalid_self_check_plan"},
        {sup_b.token, DIV_B, "2022", ",\"plannedCount\":3", 400, "invalid_self_check_plan"},
        {sup_b.token, DIV_B, next, ",\"plannedCount\":3", 400, "invalid_self_check_plan"},
        {sup_b.token, DIV_B, ok_year, ",\"plannedCount\":3,\"outfallCodes\":[\"NOPE-1\"]", 400,
         "invalid_self_check_plan"},
        {sup_b.token, DIV_B, ok_year, ",\"plannedCount\":3,\"riverCodes\":[\"nile\"]", 400,
         "invalid_self_check_plan"},
        {sup_b.token, DIV_B, ok_year, ",\"plannedCount\":3,\"note\":\"BIG\"", 400,
         "invalid_self_check_plan"},
        {sup_city.token, "410800", ok_year, ",\"plannedCount\":3", 400, "invalid_self_check_plan"},
        {sup_b.token, "999999", ok_year, ",\"plannedCount\":3", 400, "unknown_division"},
        {sup_a.token, DIV_B, ok_year, ",\"plannedCount\":3", 403, "outside_division"},
        {checker.token, DIV_B, ok_year, ",\"plannedCount\":3", 403, "forbidden_role"},
        {surveyor_b.token, DIV_B, ok_year, ",\"plannedCount\":3", 403, "forbidden_role"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *extra = strcmp(cases[i].extra, ",\"plannedCount\":3,\"note\":\"BIG\"") == 0
                                ? NULL
                                : cases[i].extra;
        if (extra)
            snprintf(body, sizeof body, "{\"divisionCode\":\"%s\",\"year\":%s%s}",
                     cases[i].division, cases[i].year, extra);
        char *big = NULL;
        if (!extra) {
            size_t n = strlen(big_note) + 200;
            big = malloc(n);
            snprintf(big, n,
                     "{\"divisionCode\":\"%s\",\"year\":%s,\"plannedCount\":3,\"note\":\"%s\"}",
                     cases[i].division, cases[i].year, big_note);
        }
        th_sum before = th_db_checksum(srv.data, TH_ALL);
        th_error e = {{0}};
        long st = post_json("/v1/self-check-plans", cases[i].token, big ? big : body, NULL, &e);
        free(big);
        if (st != cases[i].status || strcmp(e.code, cases[i].code) != 0)
            print_message("case %zu: %ld %s %s\n", i, st, e.code, e.message);
        assert_int_equal(st, cases[i].status);
        assert_string_equal(e.code, cases[i].code);
        assert_string_equal(before.hex, th_db_checksum(srv.data, TH_ALL).hex);
    }
    /* reads: another county's supervisor may not read county B's plan */
    json_t *l = NULL;
    th_error e;
    snprintf(path, sizeof path, "/v1/self-check-plans?year=%s&division=" DIV_B, year);
    assert_int_equal(get_json(path, sup_a.token, &l, &e), 403);
    assert_string_equal(e.code, "outside_division");
    assert_int_equal(get_json("/v1/self-check-plans", sup_b.token, &l, &e), 400);
    assert_string_equal(e.code, "invalid_argument");
}

static int group_setup(void **state) {
    (void)state;
    const char *b[] = {DIV_B, NULL}, *a[] = {DIV_A, NULL}, *city[] = {"410800", NULL};
    util_date_of_ms(util_now_ms(), today);
    snprintf(year, sizeof year, "%.4s", today);
    if (th_server_start(&srv, NULL) != 0) return -1;
    if (th_user_new(&srv, "plan-surveyor-b", TH_ROLE(SURVEYOR), b, &surveyor_b) ||
        th_user_new(&srv, "plan-supervisor-b", TH_ROLE(SUPERVISOR), b, &sup_b) ||
        th_user_new(&srv, "plan-supervisor-a", TH_ROLE(SUPERVISOR), a, &sup_a) ||
        th_user_new(&srv, "plan-supervisor-city", TH_ROLE(SUPERVISOR), city, &sup_city) ||
        th_user_new(&srv, "plan-inspector-a", TH_ROLE(SURVEYOR), a, &insp_a) ||
        th_user_new(&srv, "plan-inspector-a2", TH_ROLE(SURVEYOR), a, &insp_other) ||
        th_user_new(&srv, "plan-province", TH_ROLE(PROVINCE_CHECKER), NULL, &checker))
        return -1;
    return th_device_new(&srv, surveyor_b.token, &dev_b) ||
           th_device_new(&srv, insp_a.token, &dev_insp_a) ||
           th_device_new(&srv, insp_other.token, &dev_insp_other) ||
           th_device_new(&srv, checker.token, &dev_checker);
}

static int group_teardown(void **state) {
    (void)state;
    return th_server_stop(&srv);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_draw_sends_county_a_inspector_to_county_b_and_the_result_is_accepted),
        cmocka_unit_test(the_pick_authorises_its_result_and_nothing_else_of_that_county),
        cmocka_unit_test(province_checker_draws_sends_its_picks_result_and_writes_nothing_else),
        cmocka_unit_test(a_draw_takes_a_deadline_or_ends_with_its_month_and_refuses_a_bad_one),
        cmocka_unit_test(a_pick_without_result_by_the_deadline_is_not_done_and_never_counted),
        cmocka_unit_test(county_self_check_plan_is_recorded_read_up_to_the_province_and_progresses),
        cmocka_unit_test(self_check_plans_refuse_bad_input_and_other_counties_and_write_nothing),
    };
    return cmocka_run_group_tests_name("roles for the whole plan", tests, group_setup,
                                       group_teardown);
}
