/* Random inspections end to end through the real server (issue 8; programme/inspection_results.h,
 * programme/draws.h): draws are retry-safe by draw_id; an inspector's result comes back through
 * POST /v1/sync as an observation naming its draw, refused with a stable reason when it breaks a
 * rule (nothing written); a supervisor approves or returns it through POST /v1/review/decisions;
 * only the approved version ever shows on the public draw page, the outfall's page and the GeoJSON.
 * Last, integrators read nothing that belongs to an outfall never approved. */
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
#define RESULT(x) OUTFALL__V1__INSPECTION_RESULT__INSPECTION_RESULT_##x
#define KIND(x) OUTFALL__V1__DECISION_KIND__DECISION_KIND_##x
/* 2025-11-28 10:00 China Standard Time: the day the inspection shows as */
#define INSPECTED_AT_MS INT64_C(1764295200000)
#define INSPECTED_DAY "2025-11-28"

static th_server srv;
static th_user surveyor, sup, integ, insp[2]; /* inspectors: city-wide accounts */
static th_device dev, insp_dev[2];

typedef struct rec {
    char id[37];
    char code[64];
    double lat, lon;
} rec;

/* A new outfall of river in DIV by the surveyor, approved by the supervisor: r gets its code. */
static void approved_outfall(rec *r, const char *river) {
    th_spot(&r->lat, &r->lon);
    th_batch *b = th_batch_new(&dev);
    Outfall__V1__Outfall *o = th_outfall_create(b, river, DIV, r->lat, r->lon);
    o->name = "抽查排口";
    o->has_type = 1;
    o->type = OUTFALL__V1__OUTFALL_TYPE__OUTFALL_TYPE_MUNICIPAL_WWTP;
    util_strlcpy(r->id, th_batch_entity(b, 0), sizeof r->id);
    Outfall__V1__SyncResponse *resp = th_sync_ok(&srv, surveyor.token, b, TH_PB);
    th_batch_free(b);
    assert_non_null(resp);
    assert_int_equal(resp->results[0]->status, TH_STATUS(APPLIED));
    outfall__v1__sync_response__free_unpacked(resp, NULL);

    char did[37];
    th_uuid(did);
    Outfall__V1__Decision d = OUTFALL__V1__DECISION__INIT;
    d.decision_id = did;
    d.has_kind = d.has_base_version = 1;
    d.kind = KIND(APPROVE);
    d.outfall_id = r->id;
    d.base_version = 1;
    Outfall__V1__DecisionResult *res = NULL;
    th_error e;
    long st = th_call(&srv, "POST", "/v1/review/decisions", sup.token, TH_PB, &d.base,
                      &outfall__v1__decision_result__descriptor, (ProtobufCMessage **)&res, &e);
    if (st != 200) print_message("approve: %ld %s %s\n", st, e.code, e.message);
    assert_int_equal(st, 200);
    util_strlcpy(r->code, TH_S(res->outfall->code), sizeof r->code);
    outfall__v1__decision_result__free_unpacked(res, NULL);
}

/* A request with JSON text body (NULL: none) as token into r; returns the status. */
static long call_json(const char *method, const char *path, const char *token, const char *json,
                      th_response *r) {
    th_request rq = {.method = method,
                     .path = path,
                     .content_type = json ? TH_JSON : NULL,
                     .accept = TH_JSON,
                     .token = token,
                     .body = json,
                     .len = json ? strlen(json) : 0};
    return th_http(&srv, &rq, r);
}

/* GET path as token (NULL: none), wanting status want; the JSON answer (json_decref it). */
static json_t *get_json(const char *path, const char *token, long want) {
    th_response r;
    long st = call_json("GET", path, token, NULL, &r);
    if (st != want) print_message("GET %s: %ld %s\n", path, st, (const char *)r.body);
    assert_int_equal(st, want);
    json_t *j = json_loads((const char *)r.body, 0, NULL);
    th_response_free(&r);
    assert_non_null(j);
    return j;
}

/* The draw request for river's outfalls in DIV: sample of them, both inspectors. */
static void draw_body(char *out, size_t cap, const char *draw_id, const char *river, int sample) {
    snprintf(out, cap,
             "{\"drawId\":\"%s\",\"divisionCodes\":[\"" DIV "\"],\"riverCode\":\"%s\","
             "\"sample\":%d,\"inspectors\":[{\"name\":\"%s\",\"divisionCode\":\"410882\"},"
             "{\"name\":\"%s\",\"divisionCode\":\"410883\"}]}",
             draw_id, river, sample, insp[0].name, insp[1].name);
}

/* ---- 3. draw retries ---- */

static void
draw_id_reused_for_another_request_is_refused_and_a_retry_answers_the_same_bytes(void **state) {
    (void)state;
    rec a, b;
    approved_outfall(&a, "danhe");
    approved_outfall(&b, "danhe");
    char id[37], body[1024], other[1024];
    th_uuid(id);
    draw_body(body, sizeof body, id, "danhe", 1);
    draw_body(other, sizeof other, id, "danhe", 2);
    th_response first, again;
    assert_int_equal(call_json("POST", "/v1/inspections/draws", sup.token, body, &first), 200);

    th_sum sum = th_db_checksum(srv.data, TH_ALL);
    assert_int_equal(call_json("POST", "/v1/inspections/draws", sup.token, body, &again), 200);
    assert_int_equal(again.len, first.len);
    assert_memory_equal(again.body, first.body, first.len); /* byte for byte */
    th_response_free(&again);
    assert_string_equal(sum.hex, th_db_checksum(srv.data, TH_ALL).hex);

    /* the same id for another request: 409, nothing written, the stored draw unchanged */
    assert_int_equal(call_json("POST", "/v1/inspections/draws", sup.token, other, &again), 409);
    th_error e;
    assert_int_equal(th_error_decode(&again, &e), 0);
    assert_string_equal(e.code, "draw_id_reused");
    assert_true(strlen(e.message) > 0);
    th_response_free(&again);
    assert_string_equal(sum.hex, th_db_checksum(srv.data, TH_ALL).hex);
    char path[96];
    snprintf(path, sizeof path, "/public/inspections/%s", id);
    json_t *d = get_json(path, NULL, 200);
    assert_int_equal(json_array_size(json_object_get(d, "picks")), 1);
    json_decref(d);
    th_response_free(&first);
}

/* ---- 1 and 2. results through sync, review, the public pages ---- */

typedef struct draw {
    char id[37];
    rec outfalls[2];
    int inspector_of[2]; /* which insp[] the draw sent to outfalls[i] */
} draw;

/* Two approved outfalls of river and a draw of both. */
static void make_draw(draw *w, const char *river) {
    approved_outfall(&w->outfalls[0], river);
    approved_outfall(&w->outfalls[1], river);
    char body[1024], path[96];
    th_uuid(w->id);
    draw_body(body, sizeof body, w->id, river, 2);
    th_response r;
    long st = call_json("POST", "/v1/inspections/draws", sup.token, body, &r);
    if (st != 200) print_message("draw: %ld %s\n", st, (const char *)r.body);
    assert_int_equal(st, 200);
    th_response_free(&r);
    snprintf(path, sizeof path, "/public/inspections/%s", w->id);
    json_t *d = get_json(path, NULL, 200), *pick;
    size_t i;
    assert_int_equal(json_array_size(json_object_get(d, "picks")), 2);
    json_array_foreach(json_object_get(d, "picks"), i, pick) {
        const char *code = json_string_value(json_object_get(pick, "code"));
        const char *who = json_string_value(json_object_get(pick, "inspector"));
        int o = strcmp(code, w->outfalls[0].code) == 0 ? 0 : 1;
        assert_string_equal(code, w->outfalls[o].code);
        w->inspector_of[o] = strcmp(who, insp[0].name) == 0 ? 0 : 1;
        assert_string_equal(who, insp[w->inspector_of[o]].name);
    }
    json_decref(d);
}

/* A photo the next new result names (NULL: none). */
static const char *result_photo;

/* Syncs one observation change by inspector k (base 0: a new result with a fresh id into id;
 * else an edit of id): draw_id (NULL: none), result (0: none). Returns the change's result
 * status; reason gets a REJECTED change's reason. */
static int send_result(int k, char id[37], int64_t base, const rec *o, const char *draw_id,
                       int result, const char *notes, char reason[64]) {
    th_batch *b = th_batch_new(&insp_dev[k]);
    Outfall__V1__Observation *ob;
    if (base == 0) {
        ob = th_observation_create(b, o->id, o->lat, o->lon);
        ob->has_observed_at_ms = 1;
        ob->observed_at_ms = INSPECTED_AT_MS;
        util_strlcpy(id, th_batch_entity(b, 0), 37);
        if (result_photo)
            th_observation_photo(b, ob, result_photo, OUTFALL__V1__PHOTO_KIND__PHOTO_KIND_NEAR);
    } else {
        Outfall__V1__Change *ch = th_batch_change(b, id, base);
        ob = th_batch_alloc(b, sizeof *ob);
        outfall__v1__observation__init(ob);
        ch->entity_case = OUTFALL__V1__CHANGE__ENTITY_OBSERVATION;
        ch->observation = ob;
    }
    if (draw_id) ob->inspection_draw_id = th_batch_str(b, draw_id);
    if (result) {
        ob->has_inspection_result = 1;
        ob->inspection_result = result;
    }
    ob->notes = th_batch_str(b, notes);
    Outfall__V1__SyncResponse *resp = th_sync_ok(&srv, insp[k].token, b, TH_PB);
    th_batch_free(b);
    assert_non_null(resp);
    assert_int_equal(resp->n_results, 1);
    int status = resp->results[0]->status;
    util_strlcpy(reason, TH_S(resp->results[0]->reason), 64);
    outfall__v1__sync_response__free_unpacked(resp, NULL);
    return status;
}

/* A change that must be REJECTED with reason and leave the state as it was. */
static void refused(int k, int64_t base, char id[37], const rec *o, const char *draw_id, int result,
                    const char *want) {
    char reason[64], tmp[37];
    if (!id) id = tmp;
    th_sum before = th_db_checksum(srv.data, TH_STATE);
    assert_int_equal(send_result(k, id, base, o, draw_id, result, "不应写入", reason),
                     TH_STATUS(REJECTED));
    assert_string_equal(reason, want);
    assert_string_equal(before.hex, th_db_checksum(srv.data, TH_STATE).hex);
}

/* A decision on inspection result obs of outfall o as the supervisor; its status, and the
 * Error's code into code (non-200). *out (may be NULL) gets the result. */
static long decide(int kind, const char *decision_id, const rec *o, const char *obs, int64_t base,
                   const char *comment, char code[64], Outfall__V1__DecisionResult **out) {
    Outfall__V1__Decision d = OUTFALL__V1__DECISION__INIT;
    d.decision_id = (char *)decision_id;
    d.has_kind = d.has_base_version = 1;
    d.kind = kind;
    d.outfall_id = (char *)o->id;
    d.observation_id = (char *)obs;
    d.base_version = base;
    d.comment = (char *)comment;
    Outfall__V1__DecisionResult *res = NULL;
    th_error e = {{0}};
    long st = th_call(&srv, "POST", "/v1/review/decisions", sup.token, TH_PB, &d.base,
                      &outfall__v1__decision_result__descriptor, (ProtobufCMessage **)&res, &e);
    util_strlcpy(code, e.code, 64);
    if (out)
        *out = res;
    else if (res)
        outfall__v1__decision_result__free_unpacked(res, NULL);
    return st;
}

/* The pick of code on the public draw page (borrowed from d). */
static json_t *public_pick(json_t *d, const char *code) {
    json_t *pick;
    size_t i;
    json_array_foreach(json_object_get(d, "picks"), i, pick) {
        if (strcmp(json_string_value(json_object_get(pick, "code")), code) == 0) return pick;
    }
    fail_msg("no pick %s", code);
    return NULL;
}

/* What the public sees of outfall o and of its pick in draw w: page, GeoJSON properties, pick. */
typedef struct seen {
    char *page;
    json_t *props; /* the GeoJSON feature's properties */
    json_t *pick;  /* the draw page's pick */
    char *draw_text;
} seen;

static void look(const draw *w, const rec *o, seen *s) {
    char path[128];
    snprintf(path, sizeof path, "/public/outfalls/%s", o->code);
    th_request rq = {.method = "GET", .path = path, .accept = "*/*"};
    th_response r;
    assert_int_equal(th_http(&srv, &rq, &r), 200);
    s->page = strdup((const char *)r.body);
    th_response_free(&r);
    json_t *fc = get_json("/public/outfalls", NULL, 200), *f;
    size_t i;
    s->props = NULL;
    json_array_foreach(json_object_get(fc, "features"), i, f) {
        json_t *p = json_object_get(f, "properties");
        if (strcmp(json_string_value(json_object_get(p, "code")), o->code) == 0)
            s->props = json_incref(p);
    }
    json_decref(fc);
    assert_non_null(s->props);
    snprintf(path, sizeof path, "/public/inspections/%s", w->id);
    json_t *d = get_json(path, NULL, 200);
    s->draw_text = json_dumps(d, JSON_SORT_KEYS);
    s->pick = json_incref(public_pick(d, o->code));
    json_decref(d);
}

static void look_free(seen *s) {
    free(s->page);
    free(s->draw_text);
    json_decref(s->props);
    json_decref(s->pick);
}

/* Field by field: the pick has only its code, inspector and state (not APPROVED), the page and
 * the GeoJSON no last inspection; with whole_draw, no pick of the draw has a result. */
static void assert_nothing_shows(const seen *s, int whole_draw) {
    assert_int_equal(json_object_size(s->pick), 3); /* code, inspector, state (issue 18) */
    assert_string_not_equal(json_string_value(json_object_get(s->pick, "state")),
                            "INSPECTION_TASK_STATE_APPROVED");
    assert_null(json_object_get(s->pick, "result"));
    assert_null(json_object_get(s->pick, "inspectedAtMs"));
    assert_null(json_object_get(s->props, "last_inspection_date"));
    assert_null(json_object_get(s->props, "last_inspection_result"));
    assert_non_null(strstr(s->page, "<tr><th>最近一次检查</th><td>—</td></tr>"));
    const char *labels[] = {"合格", "发现问题", "违法排污", "INSPECTION_RESULT"};
    for (size_t i = 0; i < sizeof labels / sizeof labels[0]; i++) {
        assert_null(strstr(s->page, labels[i]));
        if (whole_draw) assert_null(strstr(s->draw_text, labels[i]));
    }
}

/* Field by field: the approved result (label, enum name) and day show, and nothing private. */
static void assert_shows(const seen *s, const char *label, const char *name, const char *secret,
                         const char *obs) {
    assert_int_equal(json_object_size(s->pick), 5);
    assert_string_equal(json_string_value(json_object_get(s->pick, "state")),
                        "INSPECTION_TASK_STATE_APPROVED");
    assert_string_equal(json_string_value(json_object_get(s->pick, "result")), name);
    assert_string_equal(json_string_value(json_object_get(s->pick, "inspectedAtMs")),
                        "1764295200000");
    assert_string_equal(json_string_value(json_object_get(s->props, "last_inspection_date")),
                        INSPECTED_DAY);
    assert_string_equal(json_string_value(json_object_get(s->props, "last_inspection_result")),
                        label);
    char row[160];
    snprintf(row, sizeof row, "<tr><th>最近一次检查</th><td>%s %s</td></tr>", INSPECTED_DAY, label);
    if (!strstr(s->page, row)) fail_msg("page lacks %s:\n%s", row, s->page);
    const char *never[] = {secret, obs, "notes", "photos", "flags", "inspection_state"};
    for (size_t i = 0; i < sizeof never / sizeof never[0]; i++) {
        assert_null(strstr(s->page, never[i]));
        assert_null(strstr(s->draw_text, never[i]));
        char *props = json_dumps(s->props, 0);
        assert_null(strstr(props, never[i]));
        free(props);
    }
}

/* The inspection items of the supervisor's queue naming observation obs. */
static int queued(const char *obs) {
    json_t *q = get_json("/v1/review/queue?kind=INSPECTION&limit=500", sup.token, 200), *it;
    size_t i;
    int n = 0;
    json_array_foreach(json_object_get(q, "items"), i, it) {
        assert_string_equal(json_string_value(json_object_get(it, "kind")),
                            "REVIEW_ITEM_KIND_INSPECTION");
        json_t *ob = json_object_get(it, "observation");
        if (strcmp(TH_S(json_string_value(json_object_get(ob, "id"))), obs) == 0) n++;
    }
    json_decref(q);
    return n;
}

static void result_goes_from_the_phone_through_review_to_the_public_pages(void **state) {
    (void)state;
    draw w;
    make_draw(&w, "qinhe");
    const rec *o = &w.outfalls[0];
    int k = w.inspector_of[0], other = 1 - k;
    seen s;
    look(&w, o, &s);
    assert_nothing_shows(&s, 1);
    look_free(&s);

    /* the assigned inspector records it: issues found, with notes and a photo */
    char obs[37], reason[64], photo[65];
    th_file f;
    assert_int_equal(th_photo_variant("qinhe-outfall-a-1.jpg", &f, photo), 0);
    long put = th_photo_put(&srv, insp[k].token, photo, f.data, f.len, NULL);
    th_file_free(&f);
    assert_true(put == 201 || put == 200);
    result_photo = photo;
    assert_int_equal(
        send_result(k, obs, 0, o, w.id, RESULT(ISSUES_FOUND), "私密备注：管口有异味", reason),
        TH_STATUS(APPLIED));
    result_photo = NULL;
    Outfall__V1__Observation *got = NULL;
    assert_int_equal(th_get_observation(&srv, sup.token, obs, &got, NULL), 200);
    assert_string_equal(got->inspection_draw_id, w.id);
    assert_int_equal(got->n_photos, 1);
    assert_string_equal(got->photos[0]->hash, photo);
    assert_int_equal(got->inspection_result, RESULT(ISSUES_FOUND));
    assert_false(got->has_inspection_approved_version);
    outfall__v1__observation__free_unpacked(got, NULL);
    assert_int_equal(queued(obs), 1);

    /* unapproved: nothing shows, field by field */
    look(&w, o, &s);
    assert_nothing_shows(&s, 1);
    look_free(&s);

    /* the supervisor approves; a retry answers the same, other content is refused */
    char did[37], code[64];
    th_uuid(did);
    Outfall__V1__DecisionResult *res = NULL;
    assert_int_equal(decide(KIND(APPROVE_INSPECTION), did, o, obs, 2, NULL, code, NULL), 409);
    assert_string_equal(code, "stale_version");
    assert_int_equal(decide(KIND(APPROVE_INSPECTION), did, o, obs, 1, NULL, code, &res), 200);
    assert_int_equal(res->status, TH_STATUS(APPLIED));
    assert_non_null(res->observation);
    assert_int_equal(res->observation->inspection_state,
                     OUTFALL__V1__REVIEW_STATE__REVIEW_STATE_APPROVED);
    assert_int_equal(res->observation->inspection_approved_version, 2);
    outfall__v1__decision_result__free_unpacked(res, NULL);
    th_sum sum = th_db_checksum(srv.data, TH_ALL);
    assert_int_equal(decide(KIND(APPROVE_INSPECTION), did, o, obs, 1, NULL, code, &res), 200);
    assert_int_equal(res->status, TH_STATUS(ALREADY_APPLIED));
    outfall__v1__decision_result__free_unpacked(res, NULL);
    assert_int_equal(decide(KIND(RETURN_INSPECTION), did, o, obs, 1, "再看", code, NULL), 409);
    assert_string_equal(code, "decision_id_reused");
    assert_string_equal(sum.hex, th_db_checksum(srv.data, TH_ALL).hex);
    assert_int_equal(queued(obs), 0);
    assert_true(th_db_count(&srv, "SELECT count(*) FROM audit WHERE action = ? AND outcome = 'ok'",
                            "review.approve_inspection") >= 1);

    look(&w, o, &s);
    assert_shows(&s, "发现问题", "INSPECTION_RESULT_ISSUES_FOUND", "私密备注", obs);
    assert_null(strstr(s.page, photo));
    assert_null(strstr(s.draw_text, photo));
    look_free(&s);
    /* the other pick has no result */
    look(&w, &w.outfalls[1], &s);
    assert_nothing_shows(&s, 0);
    look_free(&s);

    /* the inspector corrects it: an ordinary versioned edit, back in the queue, not public */
    assert_int_equal(send_result(k, obs, 2, o, NULL, RESULT(COMPLIANT), "复查合格", reason),
                     TH_STATUS(APPLIED));
    assert_int_equal(queued(obs), 1);
    look(&w, o, &s);
    assert_shows(&s, "发现问题", "INSPECTION_RESULT_ISSUES_FOUND", "复查合格", obs);
    look_free(&s);

    /* returned (a comment is required), then approved: the correction shows */
    th_uuid(did);
    assert_int_equal(decide(KIND(RETURN_INSPECTION), did, o, obs, 3, NULL, code, NULL), 400);
    assert_string_equal(code, "comment_required");
    assert_int_equal(decide(KIND(RETURN_INSPECTION), did, o, obs, 3, "请补照片", code, NULL), 200);
    assert_int_equal(queued(obs), 0);
    look(&w, o, &s);
    assert_shows(&s, "发现问题", "INSPECTION_RESULT_ISSUES_FOUND", "复查合格", obs);
    look_free(&s);
    th_uuid(did);
    assert_int_equal(decide(KIND(RETURN_INSPECTION), did, o, obs, 4, "again", code, NULL), 409);
    assert_string_equal(code, "not_open");
    assert_int_equal(decide(KIND(APPROVE_INSPECTION), did, o, obs, 4, NULL, code, NULL), 200);
    look(&w, o, &s);
    assert_shows(&s, "合格", "INSPECTION_RESULT_COMPLIANT", "复查合格", obs);
    look_free(&s);
    /* outfallctl recomputes the draw and lists the approved result beside its pick */
    char out[4096], errout[4096], line[256];
    const char *verify[] = {"inspections", "verify", w.id, NULL};
    assert_int_equal(th_ctl(&srv, NULL, verify, out, errout, sizeof out), 0);
    assert_non_null(strstr(out, "match"));
    snprintf(line, sizeof line, "%s -> %s: COMPLIANT, inspected " INSPECTED_DAY, o->code,
             insp[k].name);
    if (!strstr(out, line)) fail_msg("outfallctl lacks \"%s\":\n%s", line, out);

    /* the other inspector may not touch it */
    refused(other, 5, obs, o, NULL, RESULT(ILLEGAL_DISCHARGE), "not_assigned_inspector");
}

static void results_that_break_a_rule_are_refused_with_their_code_and_write_nothing(void **state) {
    (void)state;
    draw w;
    make_draw(&w, "manghe");
    const rec *o = &w.outfalls[0], *o2 = &w.outfalls[1];
    int k = w.inspector_of[0], other = 1 - k;
    char unknown[37];
    th_uuid(unknown);
    rec outside;
    approved_outfall(&outside, "manghe"); /* approved, but drawn in no round */

    refused(other, 0, NULL, o, w.id, RESULT(COMPLIANT), "not_assigned_inspector");
    refused(k, 0, NULL, o, w.id, 0, "inspection_result_required");
    refused(k, 0, NULL, o, unknown, RESULT(COMPLIANT), "unknown_draw");
    refused(k, 0, NULL, &outside, w.id, RESULT(COMPLIANT), "not_in_draw");
    refused(k, 0, NULL, o, NULL, RESULT(COMPLIANT), "inspection_draw_required");

    /* the first result wins; the inspector edits it, a second one is refused */
    char obs[37], reason[64];
    assert_int_equal(send_result(k, obs, 0, o, w.id, RESULT(COMPLIANT), "第一份", reason),
                     TH_STATUS(APPLIED));
    refused(k, 0, NULL, o, w.id, RESULT(ILLEGAL_DISCHARGE), "inspection_already_recorded");
    char unused[37];
    th_uuid(unused);
    refused(k, 1, obs, o, unknown, 0, "read_only_field"); /* the draw never changes */

    /* the non-assigned user's result leaves the data unchanged through the whole pipeline */
    char path[96];
    snprintf(path, sizeof path, "/public/inspections/%s", w.id);
    json_t *d = get_json(path, NULL, 200);
    assert_int_equal(json_object_size(public_pick(d, o2->code)), 3);
    json_decref(d);

    /* a surveyor may not set what only the server sets */
    th_batch *b = th_batch_new(&insp_dev[k]);
    Outfall__V1__Change *ch = th_batch_change(b, obs, 1);
    Outfall__V1__Observation *ob = th_batch_alloc(b, sizeof *ob);
    outfall__v1__observation__init(ob);
    ch->entity_case = OUTFALL__V1__CHANGE__ENTITY_OBSERVATION;
    ch->observation = ob;
    ob->has_inspection_approved_version = 1;
    ob->inspection_approved_version = 1;
    th_sum before = th_db_checksum(srv.data, TH_STATE);
    Outfall__V1__SyncResponse *resp = th_sync_ok(&srv, insp[k].token, b, TH_PB);
    th_batch_free(b);
    assert_non_null(resp);
    assert_int_equal(resp->results[0]->status, TH_STATUS(REJECTED));
    assert_string_equal(resp->results[0]->reason, "read_only_field");
    outfall__v1__sync_response__free_unpacked(resp, NULL);
    assert_string_equal(before.hex, th_db_checksum(srv.data, TH_STATE).hex);

    /* decisions naming what is not an inspection result */
    char did[37], code[64];
    th_uuid(did);
    assert_int_equal(decide(KIND(APPROVE_INSPECTION), did, o, unused, 1, NULL, code, NULL), 404);
    assert_string_equal(code, "not_found");
    assert_int_equal(decide(KIND(APPROVE_INSPECTION), did, o2, obs, 1, NULL, code, NULL), 400);
    assert_string_equal(code, "invalid_decision");
    assert_int_equal(decide(KIND(APPROVE_INSPECTION), did, o, NULL, 1, NULL, code, NULL), 400);
    assert_string_equal(code, "invalid_decision");
}

/* ---- 4. integrators and outfalls never approved ---- */

static void integrator_reads_nothing_of_an_outfall_never_approved(void **state) {
    (void)state;
    char photo[65], obs[37], id[37];
    th_file f;
    assert_int_equal(th_photo_variant("qinhe-outfall-a-1.jpg", &f, photo), 0);
    long st = th_photo_put(&srv, surveyor.token, photo, f.data, f.len, NULL);
    th_file_free(&f);
    assert_true(st == 201 || st == 200);
    double lat, lon;
    th_spot(&lat, &lon);
    th_batch *b = th_batch_new(&dev);
    th_outfall_create(b, "jihe", DIV, lat, lon);
    util_strlcpy(id, th_batch_entity(b, 0), sizeof id);
    Outfall__V1__Observation *o = th_observation_create(b, id, lat, lon);
    th_observation_photo(b, o, photo, OUTFALL__V1__PHOTO_KIND__PHOTO_KIND_NEAR);
    util_strlcpy(obs, th_batch_entity(b, 1), sizeof obs);
    Outfall__V1__SyncResponse *resp = th_sync_ok(&srv, surveyor.token, b, TH_PB);
    th_batch_free(b);
    assert_non_null(resp);
    outfall__v1__sync_response__free_unpacked(resp, NULL);

    char obs_path[96], photo_path[128], info_path[140];
    snprintf(obs_path, sizeof obs_path, "/v1/observations/%s", obs);
    snprintf(photo_path, sizeof photo_path, "/v1/photos/%s", photo);
    snprintf(info_path, sizeof info_path, "/v1/photos/%s/info", photo);
    for (int approved = 0; approved < 2; approved++) {
        long want = approved ? 200 : 404;
        const char *paths[] = {obs_path, photo_path, info_path};
        for (size_t i = 0; i < 3; i++) {
            th_request rq = {
                .method = "GET", .path = paths[i], .accept = "*/*", .token = integ.token};
            th_response r;
            long got = th_http(&srv, &rq, &r);
            if (got != want) print_message("integrator GET %s: %ld\n", paths[i], got);
            assert_int_equal(got, want);
            if (!approved) {
                th_error e;
                assert_int_equal(th_error_decode(&r, &e), 0);
                assert_string_equal(e.code, "not_found");
            }
            th_response_free(&r);
            rq.token = sup.token; /* the supervisor of the division always reads them */
            assert_int_equal(th_http(&srv, &rq, &r), 200);
            th_response_free(&r);
        }
        th_xfer x = {.method = "HEAD", .path = photo_path, .token = integ.token};
        th_xresult xr;
        assert_int_equal(th_xfer_run(&srv, &x, &xr), want);
        th_response_free(&xr.r);
        /* the feed: the observation shows to the integrator only once its outfall is approved */
        Outfall__V1__ChangesResponse *feed = NULL;
        int in_feed = 0;
        int64_t since = 0;
        do {
            assert_int_equal(th_pull(&srv, integ.token, since, 500, &feed, NULL), 200);
            for (size_t i = 0; i < feed->n_feed; i++)
                in_feed |= feed->feed[i]->observation &&
                           strcmp(TH_S(feed->feed[i]->observation->id), obs) == 0;
            since = feed->next_cursor;
            int more = feed->more;
            outfall__v1__changes_response__free_unpacked(feed, NULL);
            if (!more) break;
        } while (1);
        assert_int_equal(in_feed, approved);
        if (!approved) {
            rec r = {.lat = lat, .lon = lon};
            util_strlcpy(r.id, id, sizeof r.id);
            char did[37];
            th_uuid(did);
            Outfall__V1__Decision d = OUTFALL__V1__DECISION__INIT;
            d.decision_id = did;
            d.has_kind = d.has_base_version = 1;
            d.kind = KIND(APPROVE);
            d.outfall_id = r.id;
            d.base_version = 1;
            assert_int_equal(th_call(&srv, "POST", "/v1/review/decisions", sup.token, TH_PB,
                                     &d.base, NULL, NULL, NULL),
                             200);
        }
    }
}

static int group_setup(void **state) {
    (void)state;
    const char *div[] = {DIV, NULL}, *city[] = {"410800", NULL};
    if (th_server_start(&srv, NULL) != 0) return -1;
    if (th_user_new(&srv, "insp-surveyor", TH_ROLE(SURVEYOR), div, &surveyor) != 0 ||
        th_user_new(&srv, "insp-supervisor", TH_ROLE(SUPERVISOR), div, &sup) != 0 ||
        th_user_new(&srv, "insp-integrator", TH_ROLE(INTEGRATOR), NULL, &integ) != 0 ||
        th_user_new(&srv, "inspector-a", TH_ROLE(SURVEYOR), city, &insp[0]) != 0 ||
        th_user_new(&srv, "inspector-b", TH_ROLE(SURVEYOR), city, &insp[1]) != 0)
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
        cmocka_unit_test(
            draw_id_reused_for_another_request_is_refused_and_a_retry_answers_the_same_bytes),
        cmocka_unit_test(result_goes_from_the_phone_through_review_to_the_public_pages),
        cmocka_unit_test(results_that_break_a_rule_are_refused_with_their_code_and_write_nothing),
        cmocka_unit_test(integrator_reads_nothing_of_an_outfall_never_approved),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
