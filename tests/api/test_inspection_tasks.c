/* An inspector's tasks through the real server (issue 16 item 7): GET /v1/inspections/tasks lists
 * the picks of the stored draws assigned to the caller's username, with the outfall's facts and
 * where the result stands: OPEN, SUBMITTED once the phone syncs a result, RETURNED with the
 * supervisor's comment (also the observation's inspection_comment), SUBMITTED again after the
 * inspector's correction, APPROVED (comment cleared). Nobody else sees them. */
#include <jansson.h>
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

#define DIV "410822" /* 博爱县: the outfalls */
#define RIVER "jihe" /* only these tests' outfalls are on it */
#define OWN "410883" /* 孟州市: inspector b's own county (its only division) */
#define RESULT(x) OUTFALL__V1__INSPECTION_RESULT__INSPECTION_RESULT_##x
#define KIND(x) OUTFALL__V1__DECISION_KIND__DECISION_KIND_##x
#define TASK(x) OUTFALL__V1__INSPECTION_TASK_STATE__INSPECTION_TASK_STATE_##x
#define INSPECTED_AT_MS INT64_C(1764295200000)

static th_server srv;
static th_user surveyor, sup, integ, bystander;
static th_user insp[2]; /* a: city-wide account; b: its own county only */
static th_device dev, insp_dev[2];

typedef struct rec {
    char id[37];
    char code[64];
    double lat, lon;
} rec;

/* Decides kind on observation obs (or the outfall, obs NULL) of outfall id at base as sup. */
static Outfall__V1__DecisionResult *decide(int kind, const char *id, const char *obs, int64_t base,
                                           const char *comment) {
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
    long st = th_call(&srv, "POST", "/v1/review/decisions", sup.token, TH_PB, &d.base,
                      &outfall__v1__decision_result__descriptor, (ProtobufCMessage **)&res, &e);
    if (st != 200) print_message("decision: %ld %s %s\n", st, e.code, e.message);
    assert_int_equal(st, 200);
    return res;
}

/* A new approved outfall of RIVER in DIV named name: r gets its id and code. */
static void approved_outfall(rec *r, const char *name) {
    th_spot(&r->lat, &r->lon);
    th_batch *b = th_batch_new(&dev);
    Outfall__V1__Outfall *o = th_outfall_create(b, RIVER, DIV, r->lat, r->lon);
    o->name = (char *)name;
    util_strlcpy(r->id, th_batch_entity(b, 0), sizeof r->id);
    Outfall__V1__SyncResponse *resp = th_sync_ok(&srv, surveyor.token, b, TH_PB);
    th_batch_free(b);
    assert_non_null(resp);
    assert_int_equal(resp->results[0]->status, TH_STATUS(APPLIED));
    outfall__v1__sync_response__free_unpacked(resp, NULL);
    Outfall__V1__DecisionResult *res = decide(KIND(APPROVE), r->id, NULL, 1, NULL);
    util_strlcpy(r->code, TH_S(res->outfall->code), sizeof r->code);
    outfall__v1__decision_result__free_unpacked(res, NULL);
}

/* GET /v1/inspections/tasks as token: the status, and the list into *out on 200. */
static long tasks_status(const char *token, Outfall__V1__InspectionTaskList **out, th_error *e) {
    return th_call(&srv, "GET", "/v1/inspections/tasks", token, TH_PB, NULL,
                   &outfall__v1__inspection_task_list__descriptor, (ProtobufCMessage **)out, e);
}

static Outfall__V1__InspectionTaskList *tasks_of(th_user *u) {
    Outfall__V1__InspectionTaskList *l = NULL;
    th_error e;
    long st = tasks_status(u->token, &l, &e);
    if (st != 200) print_message("tasks of %s: %ld %s %s\n", u->name, st, e.code, e.message);
    assert_int_equal(st, 200);
    assert_non_null(l);
    return l;
}

/* The task of draw_id for code in l, or NULL. */
static const Outfall__V1__InspectionTask *task_in(const Outfall__V1__InspectionTaskList *l,
                                                  const char *draw_id, const char *code) {
    for (size_t i = 0; i < l->n_tasks; i++)
        if (strcmp(TH_S(l->tasks[i]->draw_id), draw_id) == 0 &&
            strcmp(TH_S(l->tasks[i]->code), code) == 0)
            return l->tasks[i];
    return NULL;
}

/* Draws both outfalls among both inspectors; assigned[i] gets the inspector of outfalls[i]. */
static void draw_two(char draw_id[37], const rec outfalls[2], int assigned[2]) {
    char body[1024];
    th_uuid(draw_id);
    snprintf(body, sizeof body,
             "{\"drawId\":\"%s\",\"divisionCodes\":[\"" DIV "\"],\"riverCode\":\"" RIVER "\","
             "\"sample\":2,\"inspectors\":[{\"name\":\"%s\",\"divisionCode\":\"410882\"},"
             "{\"name\":\"%s\",\"divisionCode\":\"" OWN "\"}]}",
             draw_id, insp[0].name, insp[1].name);
    th_request rq = {.method = "POST",
                     .path = "/v1/inspections/draws",
                     .content_type = TH_JSON,
                     .accept = TH_JSON,
                     .token = sup.token,
                     .body = body,
                     .len = strlen(body)};
    th_response r;
    long st = th_http(&srv, &rq, &r);
    if (st != 200) print_message("draw: %ld %s\n", st, (const char *)r.body);
    assert_int_equal(st, 200);
    json_t *d = json_loads((const char *)r.body, 0, NULL), *pick;
    th_response_free(&r);
    size_t i;
    assert_int_equal(json_array_size(json_object_get(d, "picks")), 2);
    json_array_foreach(json_object_get(d, "picks"), i, pick) {
        const char *code = json_string_value(json_object_get(pick, "code"));
        const char *who = json_string_value(json_object_get(pick, "inspector"));
        int o = strcmp(code, outfalls[0].code) == 0 ? 0 : 1;
        assert_string_equal(code, outfalls[o].code);
        assigned[o] = strcmp(who, insp[0].name) == 0 ? 0 : 1;
    }
    json_decref(d);
    assert_int_not_equal(assigned[0], assigned[1]);
}

/* Syncs inspector k's result for outfall o of draw_id (base 0: new, id gets its id; else an edit
 * of id); returns the change's status, reason into reason[64]. */
static int send_result(int k, char id[37], int64_t base, const rec *o, const char *draw_id,
                       int result, char reason[64]) {
    th_batch *b = th_batch_new(&insp_dev[k]);
    Outfall__V1__Observation *ob;
    if (base == 0) {
        ob = th_observation_create(b, o->id, o->lat, o->lon);
        ob->has_observed_at_ms = 1;
        ob->observed_at_ms = INSPECTED_AT_MS;
        ob->inspection_draw_id = th_batch_str(b, draw_id);
        util_strlcpy(id, th_batch_entity(b, 0), 37);
    } else {
        Outfall__V1__Change *ch = th_batch_change(b, id, base);
        ob = th_batch_alloc(b, sizeof *ob);
        outfall__v1__observation__init(ob);
        ch->entity_case = OUTFALL__V1__CHANGE__ENTITY_OBSERVATION;
        ch->observation = ob;
    }
    ob->has_inspection_result = 1;
    ob->inspection_result = result;
    Outfall__V1__SyncResponse *resp = th_sync_ok(&srv, insp[k].token, b, TH_PB);
    th_batch_free(b);
    assert_non_null(resp);
    int status = resp->results[0]->status;
    util_strlcpy(reason, TH_S(resp->results[0]->reason), 64);
    outfall__v1__sync_response__free_unpacked(resp, NULL);
    return status;
}

/* Inspector k's task for o in draw_id is in state want (with comment, NULL: none). */
static void expect_task(int k, const char *draw_id, const rec *o, int want, const char *obs,
                        const char *comment) {
    Outfall__V1__InspectionTaskList *l = tasks_of(&insp[k]);
    const Outfall__V1__InspectionTask *t = task_in(l, draw_id, o->code);
    assert_non_null(t);
    assert_int_equal(t->state, want);
    if (obs)
        assert_string_equal(TH_S(t->observation_id), obs);
    else
        assert_null(t->observation_id);
    if (comment)
        assert_string_equal(TH_S(t->comment), comment);
    else
        assert_null(t->comment);
    outfall__v1__inspection_task_list__free_unpacked(l, NULL);
}

/* ---- tests -------------------------------------------------------------------------------- */

static void tasks_follow_a_result_from_open_to_approved_for_its_inspector_only(void **state) {
    (void)state;
    rec o[2];
    approved_outfall(&o[0], "济河一号排口");
    approved_outfall(&o[1], "济河二号排口");
    char draw_id[37];
    int assigned[2];
    draw_two(draw_id, o, assigned);
    /* the city-wide inspector's pick (an inspector of another county: issue 18) */
    int k = 0, m = assigned[0] == 0 ? 0 : 1;
    const rec *mine = &o[m];

    /* listed OPEN with the outfall's facts, and only the caller's own picks */
    Outfall__V1__InspectionTaskList *l = tasks_of(&insp[k]);
    assert_int_equal(l->n_tasks, 1);
    const Outfall__V1__InspectionTask *t = l->tasks[0];
    assert_string_equal(TH_S(t->draw_id), draw_id);
    assert_string_equal(TH_S(t->outfall_id), mine->id);
    assert_string_equal(TH_S(t->code), mine->code);
    assert_string_equal(TH_S(t->name), m == 0 ? "济河一号排口" : "济河二号排口");
    assert_string_equal(TH_S(t->river_code), RIVER);
    assert_string_equal(TH_S(t->division_code), DIV);
    assert_true(t->has_lat && t->has_lon);
    assert_true(t->lat == mine->lat && t->lon == mine->lon);
    assert_true(t->drawn_at_ms > 0);
    assert_int_equal(t->state, TASK(OPEN));
    assert_null(t->observation_id);
    outfall__v1__inspection_task_list__free_unpacked(l, NULL);

    /* the inspector's phone sends the result: SUBMITTED */
    char obs[37], reason[64];
    int status = send_result(k, obs, 0, mine, draw_id, RESULT(ISSUES_FOUND), reason);
    if (status != TH_STATUS(APPLIED)) print_message("result: %s\n", reason);
    assert_int_equal(status, TH_STATUS(APPLIED));
    expect_task(k, draw_id, mine, TASK(SUBMITTED), obs, NULL);

    /* returned with a comment: RETURNED, the comment on the task and in the observation */
    const char *why = "照片里看不到排口，请补拍近景";
    Outfall__V1__DecisionResult *res = decide(KIND(RETURN_INSPECTION), mine->id, obs, 1, why);
    assert_string_equal(TH_S(res->observation->inspection_comment), why);
    outfall__v1__decision_result__free_unpacked(res, NULL);
    expect_task(k, draw_id, mine, TASK(RETURNED), obs, why);
    Outfall__V1__Observation *got = NULL;
    assert_int_equal(th_get_observation(&srv, insp[k].token, obs, &got, NULL), 200);
    assert_string_equal(TH_S(got->inspection_comment), why);
    outfall__v1__observation__free_unpacked(got, NULL);

    /* the inspector corrects it (an edit of the same result): SUBMITTED again */
    assert_int_equal(send_result(k, obs, 2, mine, NULL, RESULT(COMPLIANT), reason),
                     TH_STATUS(APPLIED));
    expect_task(k, draw_id, mine, TASK(SUBMITTED), obs, NULL);

    /* approved: APPROVED, the comment cleared, and the public draw page never carries it */
    res = decide(KIND(APPROVE_INSPECTION), mine->id, obs, 3, NULL);
    assert_null(res->observation->inspection_comment);
    outfall__v1__decision_result__free_unpacked(res, NULL);
    expect_task(k, draw_id, mine, TASK(APPROVED), obs, NULL);
    char path[96];
    snprintf(path, sizeof path, "/public/inspections/%s", draw_id);
    th_request rq = {.method = "GET", .path = path, .accept = TH_JSON};
    th_response r;
    assert_int_equal(th_http(&srv, &rq, &r), 200);
    assert_null(strstr((const char *)r.body, why));
    assert_null(strstr((const char *)r.body, "inspectionComment"));
    th_response_free(&r);

    /* the other inspector sees only their own pick, still OPEN; nobody else sees any */
    l = tasks_of(&insp[1 - k]);
    assert_null(task_in(l, draw_id, mine->code));
    assert_non_null(task_in(l, draw_id, o[1 - m].code));
    outfall__v1__inspection_task_list__free_unpacked(l, NULL);
    th_user *others[] = {&bystander, &sup, &surveyor};
    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++) {
        l = tasks_of(others[i]);
        assert_int_equal(l->n_tasks, 0);
        outfall__v1__inspection_task_list__free_unpacked(l, NULL);
    }
}

static void tasks_answer_in_json_with_lower_camel_case_names(void **state) {
    (void)state;
    th_request rq = {.method = "GET",
                     .path = "/v1/inspections/tasks",
                     .accept = TH_JSON,
                     .token = insp[0].token};
    th_response r;
    assert_int_equal(th_http(&srv, &rq, &r), 200);
    json_t *j = json_loads((const char *)r.body, 0, NULL);
    th_response_free(&r);
    assert_non_null(j);
    json_t *t = json_array_get(json_object_get(j, "tasks"), 0);
    assert_non_null(t);
    const char *keys[] = {"drawId",       "outfallId", "code", "name",      "riverCode",
                          "divisionCode", "lat",       "lon",  "drawnAtMs", "state"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (!json_object_get(t, keys[i])) fail_msg("task lacks %s", keys[i]);
    assert_non_null(
        strstr(json_string_value(json_object_get(t, "state")), "INSPECTION_TASK_STATE_"));
    json_decref(j);
}

static void integrators_and_callers_without_a_token_are_refused(void **state) {
    (void)state;
    Outfall__V1__InspectionTaskList *l = NULL;
    th_error e;
    assert_int_equal(tasks_status(integ.token, &l, &e), 403);
    assert_string_equal(e.code, "forbidden_role");
    assert_int_equal(tasks_status(NULL, &l, &e), 401);
    assert_null(l);
}

static int group_setup(void **state) {
    (void)state;
    const char *div[] = {DIV, NULL}, *city[] = {"410800", NULL}, *own[] = {OWN, NULL};
    if (th_server_start(&srv, NULL) != 0) return -1;
    if (th_user_new(&srv, "task-surveyor", TH_ROLE(SURVEYOR), div, &surveyor) != 0 ||
        th_user_new(&srv, "task-supervisor", TH_ROLE(SUPERVISOR), div, &sup) != 0 ||
        th_user_new(&srv, "task-integrator", TH_ROLE(INTEGRATOR), NULL, &integ) != 0 ||
        th_user_new(&srv, "task-bystander", TH_ROLE(SURVEYOR), city, &bystander) != 0 ||
        th_user_new(&srv, "inspector-a", TH_ROLE(SURVEYOR), city, &insp[0]) != 0 ||
        th_user_new(&srv, "inspector-b", TH_ROLE(SURVEYOR), own, &insp[1]) != 0)
        return -1;
    return th_device_new(&srv, surveyor.token, &dev) ||
           th_device_new(&srv, insp[0].token, &insp_dev[0]) ||
           th_device_new(&srv, insp[1].token, &insp_dev[1]);
}

static int group_teardown(void **state) {
    (void)state;
    return th_server_stop(&srv);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(tasks_follow_a_result_from_open_to_approved_for_its_inspector_only),
        cmocka_unit_test(tasks_answer_in_json_with_lower_camel_case_names),
        cmocka_unit_test(integrators_and_callers_without_a_token_are_refused),
    };
    return cmocka_run_group_tests_name("inspection tasks", tests, group_setup, group_teardown);
}
