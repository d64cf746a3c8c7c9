/* The review through the real server over HTTP: supervisors' decisions (approve, reject, return,
 * resolve a conflict three ways, merge or keep apart a duplicate pair), their refusals (stale
 * version, open questions, reused ids, scopes and roles), retries, the approved view integrators
 * read, the queue with its counts and filters, and an outfall's history. The engine-level tests of
 * the same features are tests/sync/test_review.c; these prove them on the wire. */
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/pbjson.h"
#include "common/util.h"
#include "tests/lib/harness.h"

#define DIV "410882"       /* 沁阳市: where most tests work */
#define DIV_Q "410883"     /* 孟州市: only the queue test writes here, so its counts are exact */
#define OTHER_DIV "410802" /* 解放区: a supervisor here sees none of DIV */

#define KIND(x) OUTFALL__V1__DECISION_KIND__DECISION_KIND_##x
#define CHOICE(x) OUTFALL__V1__RESOLUTION_CHOICE__RESOLUTION_CHOICE_##x
#define ITEM(x) OUTFALL__V1__REVIEW_ITEM_KIND__REVIEW_ITEM_KIND_##x
#define STATE(x) OUTFALL__V1__REVIEW_STATE__REVIEW_STATE_##x
#define TYPE(x) OUTFALL__V1__OUTFALL_TYPE__OUTFALL_TYPE_##x

/* Only the approval test uses type 09 on qinhe in DIV, so its codes count from 0001. */
#define T_OTHER TYPE(RURAL_SEWAGE_SCATTERED)
#define DLAT_10M 0.00009 /* about 10 m north: a duplicate suspect on the same river */

static th_server srv;
static th_user alice, bob; /* surveyors of DIV and DIV_Q, one phone each */
static th_device dev_a, dev_b;
static th_user sup;       /* supervisor of DIV */
static th_user sup_other; /* supervisor of OTHER_DIV */
static th_user sup_city;  /* city-level supervisor (410800) */
static th_user integ;     /* integrator */

/* ---- phones ------------------------------------------------------------------------------- */

/* Sends b as u, frees b, and hands back the response, asserting one result per change. */
static Outfall__V1__SyncResponse *sync_as(th_user *u, th_batch *b) {
    size_t n = th_batch_req(b)->n_changes;
    Outfall__V1__SyncResponse *resp = th_sync_ok(&srv, u->token, b, TH_PB);
    assert_non_null(resp);
    assert_int_equal(resp->n_results, n);
    th_batch_free(b);
    return resp;
}

static void expect(const Outfall__V1__ChangeResult *r, const char *status, int64_t version) {
    if (r->reason) print_message("result reason: %s %s\n", r->reason, TH_S(r->message));
    assert_string_equal(th_status_name(r->status), status);
    if (version) assert_int_equal(r->version, version);
}

/* Creates an outfall as u via d at (lat, lon), expecting status at version 1; id gets its id. */
static void create_at(th_user *u, th_device *d, const char *division, const char *river, int type,
                      double lat, double lon, const char *landmark, const char *status,
                      char id[37]) {
    th_batch *b = th_batch_new(d);
    Outfall__V1__Outfall *o = th_outfall_create(b, river, division, lat, lon);
    o->name = "排口";
    o->landmark = (char *)landmark;
    if (type) {
        o->has_type = 1;
        o->type = (Outfall__V1__OutfallType)type;
    }
    util_strlcpy(id, th_batch_entity(b, 0), 37);
    Outfall__V1__SyncResponse *resp = sync_as(u, b);
    expect(resp->results[0], status, 1);
    outfall__v1__sync_response__free_unpacked(resp, NULL);
}

/* A new outfall of DIV on qinhe at a fresh spot, by alice. */
static void create(int type, const char *landmark, char id[37]) {
    double lat, lon;
    th_spot(&lat, &lon);
    create_at(&alice, &dev_a, DIV, "qinhe", type, lat, lon, landmark, "APPLIED", id);
}

/* An edit of id at base by u via d, setting name and/or landmark (NULL: untouched). */
static Outfall__V1__SyncResponse *edit_resp(th_user *u, th_device *d, const char *id, int64_t base,
                                            const char *name, const char *landmark) {
    th_batch *b = th_batch_new(d);
    Outfall__V1__Outfall *o = th_outfall_edit(b, id, base);
    o->name = (char *)name;
    o->landmark = (char *)landmark;
    return sync_as(u, b);
}

static void edit(th_user *u, th_device *d, const char *id, int64_t base, const char *name,
                 const char *landmark, const char *status, int64_t version) {
    Outfall__V1__SyncResponse *resp = edit_resp(u, d, id, base, name, landmark);
    expect(resp->results[0], status, version);
    outfall__v1__sync_response__free_unpacked(resp, NULL);
}

/* Two outfalls of division on river about 10 m apart: a by alice, then b by bob, a duplicate
 * suspect of a. */
static void pair(const char *division, const char *river, char a[37], char b[37]) {
    double lat, lon;
    th_spot(&lat, &lon);
    create_at(&alice, &dev_a, division, river, T_OTHER, lat, lon, "上游", "APPLIED", a);
    th_batch *bt = th_batch_new(&dev_b);
    th_outfall_create(bt, river, division, lat + DLAT_10M, lon)->landmark = "下游";
    util_strlcpy(b, th_batch_entity(bt, 0), 37);
    Outfall__V1__SyncResponse *resp = sync_as(&bob, bt);
    expect(resp->results[0], "DUPLICATE_SUSPECT", 1);
    assert_string_equal(TH_S(resp->results[0]->duplicate_of), a);
    outfall__v1__sync_response__free_unpacked(resp, NULL);
}

/* An observation of outfall_id by u via d naming one photo the server lacks (so it is flagged
 * photos_pending); obs gets its id, hash the photo's. */
static void observe(th_user *u, th_device *d, const char *outfall_id, char obs[37], char hash[65]) {
    char seed[64];
    snprintf(seed, sizeof seed, "photo of %s", outfall_id);
    util_blake2b_hex(seed, strlen(seed), hash);
    th_batch *b = th_batch_new(d);
    Outfall__V1__Observation *o = th_observation_create(b, outfall_id, 35.0, 112.9);
    o->has_flowing = 1;
    o->flowing = 1;
    o->colour = "灰";
    th_observation_photo(b, o, hash, OUTFALL__V1__PHOTO_KIND__PHOTO_KIND_NEAR);
    util_strlcpy(obs, th_batch_entity(b, 0), 37);
    Outfall__V1__SyncResponse *resp = sync_as(u, b);
    expect(resp->results[0], "APPLIED", 1);
    assert_true(th_has(resp->missing_photos, resp->n_missing_photos, hash));
    outfall__v1__sync_response__free_unpacked(resp, NULL);
}

/* ---- reads -------------------------------------------------------------------------------- */

/* GET /v1/outfalls/{id}[?view=view] as u. */
static long read_status(th_user *u, const char *id, const char *view, Outfall__V1__Outfall **out,
                        th_error *e) {
    char path[160];
    snprintf(path, sizeof path, "/v1/outfalls/%s%s%s", id, view ? "?view=" : "", view ? view : "");
    return th_call(&srv, "GET", path, u->token, TH_PB, NULL, &outfall__v1__outfall__descriptor,
                   (ProtobufCMessage **)out, e);
}

static Outfall__V1__Outfall *read_as(th_user *u, const char *id, const char *view) {
    Outfall__V1__Outfall *o = NULL;
    th_error e;
    long st = read_status(u, id, view, &o, &e);
    if (st != 200)
        print_message("GET outfall %s as %s: %ld %s %s\n", id, u->name, st, e.code, e.message);
    assert_int_equal(st, 200);
    assert_non_null(o);
    return o;
}

static Outfall__V1__OutfallHistory *history_of(th_user *u, const char *id) {
    char path[160];
    snprintf(path, sizeof path, "/v1/outfalls/%s/history", id);
    Outfall__V1__OutfallHistory *h = NULL;
    th_error e;
    long st = th_call(&srv, "GET", path, u->token, TH_PB, NULL,
                      &outfall__v1__outfall_history__descriptor, (ProtobufCMessage **)&h, &e);
    if (st != 200) print_message("GET %s: %ld %s %s\n", path, st, e.code, e.message);
    assert_int_equal(st, 200);
    assert_non_null(h);
    return h;
}

/* The history row of field at version, or NULL. */
static const Outfall__V1__FieldChange *change_at(const Outfall__V1__OutfallHistory *h,
                                                 const char *field, int64_t version) {
    for (size_t i = 0; i < h->n_changes; i++)
        if (strcmp(TH_S(h->changes[i]->field), field) == 0 && h->changes[i]->version == version)
            return h->changes[i];
    return NULL;
}

/* The feed's end as u sees it: the cursor after the last entry. */
static int64_t feed_end(th_user *u) {
    int64_t since = 0;
    for (int page = 0; page < 100; page++) {
        Outfall__V1__ChangesResponse *c = NULL;
        assert_int_equal(th_pull(&srv, u->token, since, 1000, &c, NULL), 200);
        since = c->next_cursor;
        int more = c->more;
        outfall__v1__changes_response__free_unpacked(c, NULL);
        if (!more) break;
    }
    return since;
}

/* Everything after since in u's feed, in one page. */
static Outfall__V1__ChangesResponse *feed_after(th_user *u, int64_t since) {
    Outfall__V1__ChangesResponse *c = NULL;
    assert_int_equal(th_pull(&srv, u->token, since, 1000, &c, NULL), 200);
    assert_false(c->more);
    return c;
}

static const Outfall__V1__Outfall *feed_outfall(const Outfall__V1__ChangesResponse *c,
                                                const char *id) {
    for (size_t i = 0; i < c->n_feed; i++)
        if (c->feed[i]->entry_case == OUTFALL__V1__FEED_ENTRY__ENTRY_OUTFALL &&
            strcmp(TH_S(c->feed[i]->outfall->id), id) == 0)
            return c->feed[i]->outfall;
    return NULL;
}

static const Outfall__V1__Redirect *feed_redirect(const Outfall__V1__ChangesResponse *c,
                                                  const char *from) {
    for (size_t i = 0; i < c->n_feed; i++)
        if (c->feed[i]->entry_case == OUTFALL__V1__FEED_ENTRY__ENTRY_REDIRECT &&
            strcmp(TH_S(c->feed[i]->redirect->from_id), from) == 0)
            return c->feed[i]->redirect;
    return NULL;
}

/* ---- the queue ---------------------------------------------------------------------------- */

static long queue_status(const char *token, const char *query, Outfall__V1__ReviewQueue **out,
                         th_error *e) {
    char path[512];
    snprintf(path, sizeof path, "/v1/review/queue%s%s", query ? "?" : "", query ? query : "");
    return th_call(&srv, "GET", path, token, TH_PB, NULL, &outfall__v1__review_queue__descriptor,
                   (ProtobufCMessage **)out, e);
}

static Outfall__V1__ReviewQueue *queue_as(th_user *u, const char *query) {
    Outfall__V1__ReviewQueue *q = NULL;
    th_error e;
    long st = queue_status(u->token, query, &q, &e);
    if (st != 200)
        print_message("queue ?%s as %s: %ld %s %s\n", TH_S(query), u->name, st, e.code, e.message);
    assert_int_equal(st, 200);
    assert_non_null(q);
    return q;
}

/* The first item of kind (0: any) about outfall_id, or NULL. */
static const Outfall__V1__ReviewItem *item_for(const Outfall__V1__ReviewQueue *q, int kind,
                                               const char *outfall_id) {
    for (size_t i = 0; i < q->n_items; i++)
        if ((!kind || (int)q->items[i]->kind == kind) &&
            strcmp(TH_S(q->items[i]->outfall_id), outfall_id) == 0)
            return q->items[i];
    return NULL;
}

/* 1 when u's whole queue (one big page) holds an item of kind (0: any) about outfall_id. */
static int queued(th_user *u, int kind, const char *outfall_id) {
    Outfall__V1__ReviewQueue *q = queue_as(u, "limit=500");
    assert_null(q->next_page_token);
    int found = item_for(q, kind, outfall_id) != NULL;
    outfall__v1__review_queue__free_unpacked(q, NULL);
    return found;
}

static int64_t count_of(const Outfall__V1__ReviewQueue *q, int kind) {
    for (size_t i = 0; i < q->n_counts; i++)
        if ((int)q->counts[i]->kind == kind) return q->counts[i]->count;
    return 0;
}

/* The id of the open conflict on field of outfall id, as the queue shows it; 0 when none. */
static int64_t open_conflict(const char *id, const char *field) {
    Outfall__V1__ReviewQueue *q = queue_as(&sup, "kind=CONFLICT&limit=500");
    int64_t found = 0;
    for (size_t i = 0; i < q->n_items; i++) {
        const Outfall__V1__ReviewItem *it = q->items[i];
        assert_int_equal(it->kind, ITEM(CONFLICT));
        assert_non_null(it->conflict);
        if (strcmp(TH_S(it->outfall_id), id) == 0 && strcmp(TH_S(it->conflict->field), field) == 0)
            found = it->conflict->id;
    }
    outfall__v1__review_queue__free_unpacked(q, NULL);
    return found;
}

/* The id of the open duplicate pair whose suspect is b, as the queue shows it; 0 when none. */
static int64_t open_duplicate(th_user *u, const char *b) {
    Outfall__V1__ReviewQueue *q = queue_as(u, "kind=DUPLICATE&limit=500");
    int64_t found = 0;
    for (size_t i = 0; i < q->n_items; i++)
        if (q->items[i]->duplicate && strcmp(TH_S(q->items[i]->duplicate->outfall_id), b) == 0)
            found = q->items[i]->duplicate->id;
    outfall__v1__review_queue__free_unpacked(q, NULL);
    return found;
}

/* ---- decisions ---------------------------------------------------------------------------- */

/* A Decision being built, with the storage it points into (do not copy it by value). */
typedef struct decision {
    Outfall__V1__Decision d;
    char id[37];
    char outfall[37];
    char survivor[37];
    Outfall__V1__FieldResolution res[4];
    Outfall__V1__FieldResolution *res_p[4];
} decision;

static void decision_init(decision *x, int kind, const char *outfall_id, int64_t base,
                          const char *comment) {
    memset(x, 0, sizeof *x);
    Outfall__V1__Decision init = OUTFALL__V1__DECISION__INIT;
    x->d = init;
    th_uuid(x->id);
    util_strlcpy(x->outfall, outfall_id, sizeof x->outfall);
    x->d.decision_id = x->id;
    x->d.has_kind = 1;
    x->d.kind = (Outfall__V1__DecisionKind)kind;
    x->d.outfall_id = x->outfall;
    x->d.has_base_version = 1;
    x->d.base_version = base;
    x->d.comment = (char *)comment;
}

static void decision_resolve(decision *x, int64_t conflict_id, int choice, const char *value) {
    size_t i = x->d.n_resolutions;
    assert_true(i < 4);
    Outfall__V1__FieldResolution init = OUTFALL__V1__FIELD_RESOLUTION__INIT;
    x->res[i] = init;
    x->res[i].has_conflict_id = 1;
    x->res[i].conflict_id = conflict_id;
    x->res[i].has_choice = 1;
    x->res[i].choice = (Outfall__V1__ResolutionChoice)choice;
    x->res[i].value = (char *)value;
    x->res_p[i] = &x->res[i];
    x->d.resolutions = x->res_p;
    x->d.n_resolutions = i + 1;
}

static void decision_pair(decision *x, int64_t duplicate_id, const char *survivor) {
    x->d.has_duplicate_id = 1;
    x->d.duplicate_id = duplicate_id;
    if (survivor) {
        util_strlcpy(x->survivor, survivor, sizeof x->survivor);
        x->d.survivor_id = x->survivor;
    }
}

/* POST /v1/review/decisions as token (NULL: none) in enc. */
static long decide(const char *token, const decision *x, const char *enc,
                   Outfall__V1__DecisionResult **out, th_error *e) {
    return th_call(&srv, "POST", "/v1/review/decisions", token, enc, &x->d.base,
                   &outfall__v1__decision_result__descriptor, (ProtobufCMessage **)out, e);
}

/* x decided by u, answered 200 APPLIED with the record after it. */
static Outfall__V1__DecisionResult *decide_ok(th_user *u, const decision *x) {
    Outfall__V1__DecisionResult *res = NULL;
    th_error e;
    long st = decide(u->token, x, TH_PB, &res, &e);
    if (st != 200) print_message("decision as %s: %ld %s %s\n", u->name, st, e.code, e.message);
    assert_int_equal(st, 200);
    assert_non_null(res);
    assert_string_equal(TH_S(res->decision_id), x->id);
    assert_string_equal(th_status_name(res->status), "APPLIED");
    assert_non_null(res->outfall);
    return res;
}

/* x sent as token is refused with status and code, and leaves the database as it was (the audit
 * row every refusal writes aside). */
static void decide_refused(const char *token, const decision *x, long status, const char *code) {
    th_sum before = th_db_checksum(srv.data, TH_ALL);
    Outfall__V1__DecisionResult *res = NULL;
    th_error e;
    long st = decide(token, x, TH_PB, &res, &e);
    if (res) outfall__v1__decision_result__free_unpacked(res, NULL);
    if (st != status || strcmp(e.code, code) != 0)
        print_message("decision: expected %ld %s, got %ld %s %s\n", status, code, st, e.code,
                      e.message);
    assert_int_equal(st, status);
    assert_string_equal(e.code, code);
    th_sum after = th_db_checksum(srv.data, TH_ALL);
    assert_string_equal(before.hex, after.hex);
}

/* Approves id at base as sup; returns the code it was given (into code[64]). */
static void approve(const char *id, int64_t base, char code[64]) {
    decision x;
    decision_init(&x, KIND(APPROVE), id, base, NULL);
    Outfall__V1__DecisionResult *res = decide_ok(&sup, &x);
    assert_int_equal(res->outfall->review_state, STATE(APPROVED));
    if (code) util_strlcpy(code, TH_S(res->outfall->code), 64);
    outfall__v1__decision_result__free_unpacked(res, NULL);
}

/* POST /v1/review/decisions with JSON text as u, asking for JSON back. */
static long post_json(th_user *u, const char *body, th_response *r) {
    th_request rq = {.method = "POST",
                     .path = "/v1/review/decisions",
                     .content_type = TH_JSON,
                     .accept = TH_JSON,
                     .token = u->token,
                     .body = body,
                     .len = strlen(body)};
    return th_http(&srv, &rq, r);
}

/* An outfall whose landmark clashed: alice made it ("甲"), bob changed it to "乙" from version 1,
 * and alice's phone, still on version 1, changed it to "丙". Returns the open conflict's id;
 * *version gets the record's version. */
static int64_t clash(char id[37], int64_t *version) {
    create(T_OTHER, "甲", id);
    edit(&bob, &dev_b, id, 1, NULL, "乙", "APPLIED", 2);
    Outfall__V1__SyncResponse *resp = edit_resp(&alice, &dev_a, id, 1, NULL, "丙");
    expect(resp->results[0], "CONFLICT", 0);
    assert_int_equal(resp->results[0]->n_conflicts, 1);
    outfall__v1__sync_response__free_unpacked(resp, NULL);
    Outfall__V1__Outfall *o = read_as(&sup, id, NULL);
    assert_string_equal(TH_S(o->landmark), "乙");
    *version = o->version;
    outfall__v1__outfall__free_unpacked(o, NULL);
    int64_t conflict = open_conflict(id, "landmark");
    assert_true(conflict > 0);
    return conflict;
}

/* ---- approve, reject, return -------------------------------------------------------------- */

static void approval_assigns_code_pins_version_and_shows_in_the_feed(void **state) {
    (void)state;
    char id[37], id2[37], code2[64];
    create(TYPE(MUNICIPAL_WWTP), "桥", id);
    int64_t since_sup = feed_end(&sup), since_integ = feed_end(&integ);
    assert_true(queued(&sup, ITEM(PENDING), id));

    decision x;
    decision_init(&x, KIND(APPROVE), id, 1, "核查无误");
    Outfall__V1__DecisionResult *res = decide_ok(&sup, &x);
    const Outfall__V1__Outfall *o = res->outfall;
    assert_string_equal(TH_S(o->id), id);
    assert_string_equal(TH_S(o->code), "410882-qinhe-09-0001");
    assert_null(o->national_code); /* kept apart from the local code, for integrators */
    assert_int_equal(o->version, 2);
    assert_int_equal(o->approved_version, 2);
    assert_int_equal(o->latest_version, 2);
    assert_int_equal(o->review_state, STATE(APPROVED));
    assert_string_equal(TH_S(o->landmark), "桥");
    outfall__v1__decision_result__free_unpacked(res, NULL);

    /* Everyone reads the approved record: staff in the latest view, integrators the approved. */
    th_user *readers[] = {&sup, &alice, &integ};
    for (size_t i = 0; i < 3; i++) {
        Outfall__V1__Outfall *got = read_as(readers[i], id, NULL);
        assert_int_equal(got->version, 2);
        assert_int_equal(got->approved_version, 2);
        assert_string_equal(TH_S(got->code), "410882-qinhe-09-0001");
        assert_int_equal(got->review_state, STATE(APPROVED));
        outfall__v1__outfall__free_unpacked(got, NULL);
    }
    /* The decision is a change in the feed, for supervisors and for integrators. */
    th_user *pullers[] = {&sup, &integ};
    int64_t since[] = {since_sup, since_integ};
    for (size_t i = 0; i < 2; i++) {
        Outfall__V1__ChangesResponse *c = feed_after(pullers[i], since[i]);
        const Outfall__V1__Outfall *e = feed_outfall(c, id);
        assert_non_null(e);
        assert_int_equal(e->version, 2);
        assert_string_equal(TH_S(e->code), "410882-qinhe-09-0001");
        assert_int_equal(e->review_state, STATE(APPROVED));
        outfall__v1__changes_response__free_unpacked(c, NULL);
    }
    assert_false(queued(&sup, 0, id));

    /* Approving the same version again: nothing is open. */
    decision again;
    decision_init(&again, KIND(APPROVE), id, 2, NULL);
    decide_refused(sup.token, &again, 409, "not_open");

    /* The sequence counts on within the same division, river and type. */
    create(TYPE(MUNICIPAL_WWTP), "桥下", id2);
    approve(id2, 1, code2);
    assert_string_equal(code2, "410882-qinhe-09-0002");
}

static void reject_in_json_needs_a_comment_and_answers_in_json(void **state) {
    (void)state;
    char id[37], did[37], body[512];
    create(T_OTHER, "灌渠", id);
    th_uuid(did);
    snprintf(body, sizeof body,
             "{\"decisionId\":\"%s\",\"kind\":\"DECISION_KIND_REJECT\",\"outfallId\":\"%s\","
             "\"baseVersion\":\"1\"}",
             did, id);
    th_sum before = th_db_checksum(srv.data, TH_ALL);
    th_response r;
    assert_int_equal(post_json(&sup, body, &r), 400);
    assert_true(th_is_json(r.content_type));
    th_error e;
    assert_int_equal(th_error_decode(&r, &e), 0);
    assert_string_equal(e.code, "comment_required");
    th_response_free(&r);
    th_sum after = th_db_checksum(srv.data, TH_ALL);
    assert_string_equal(before.hex, after.hex);

    /* The same decision id, now with a comment: a refusal did not use the id up. */
    snprintf(body, sizeof body,
             "{\"decisionId\":\"%s\",\"kind\":\"DECISION_KIND_REJECT\",\"outfallId\":\"%s\","
             "\"baseVersion\":\"1\",\"comment\":\"不是排污口，是灌溉渠\"}",
             did, id);
    long st = post_json(&sup, body, &r);
    if (st != 200) print_message("JSON reject: %ld %s\n", st, (const char *)r.body);
    assert_int_equal(st, 200);
    assert_true(th_is_json(r.content_type));
    /* The JSON mapping itself: enums by name, 64-bit integers as strings, camelCase names. */
    json_t *j = json_loadb((const char *)r.body, r.len, 0, NULL);
    assert_non_null(j);
    json_t *jo = json_object_get(j, "outfall");
    assert_string_equal(TH_S(json_string_value(json_object_get(j, "decisionId"))), did);
    assert_string_equal(TH_S(json_string_value(json_object_get(j, "status"))),
                        "CHANGE_STATUS_APPLIED");
    assert_string_equal(TH_S(json_string_value(json_object_get(jo, "reviewState"))),
                        "REVIEW_STATE_REJECTED");
    assert_string_equal(TH_S(json_string_value(json_object_get(jo, "version"))), "2");
    assert_string_equal(TH_S(json_string_value(json_object_get(jo, "latestVersion"))), "2");
    json_decref(j);
    ProtobufCMessage *m = NULL;
    char why[256];
    assert_int_equal(pbjson_decode(&outfall__v1__decision_result__descriptor, (const char *)r.body,
                                   r.len, &m, why, sizeof why),
                     0);
    Outfall__V1__DecisionResult *res = (Outfall__V1__DecisionResult *)m;
    assert_string_equal(TH_S(res->outfall->id), id);
    assert_null(res->outfall->code); /* only approval gives a code */
    outfall__v1__decision_result__free_unpacked(res, NULL);
    th_response_free(&r);

    Outfall__V1__Outfall *got = read_as(&sup, id, NULL);
    assert_int_equal(got->review_state, STATE(REJECTED));
    assert_int_equal(got->version, 2);
    assert_int_equal(got->approved_version, 0);
    outfall__v1__outfall__free_unpacked(got, NULL);
    assert_false(queued(&sup, 0, id));
}

static void return_needs_a_comment_and_a_field_edit_resubmits_it(void **state) {
    (void)state;
    char id[37];
    create(T_OTHER, "老闸", id);
    decision x;
    decision_init(&x, KIND(RETURN), id, 1, NULL);
    decide_refused(sup.token, &x, 400, "comment_required");
    decision_init(&x, KIND(RETURN), id, 1, "");
    decide_refused(sup.token, &x, 400, "comment_required");

    decision_init(&x, KIND(RETURN), id, 1, "补拍远景照片");
    Outfall__V1__DecisionResult *res = decide_ok(&sup, &x);
    assert_int_equal(res->outfall->review_state, STATE(RETURNED));
    assert_int_equal(res->outfall->version, 2);
    outfall__v1__decision_result__free_unpacked(res, NULL);
    assert_false(queued(&sup, 0, id)); /* with the surveyors now, not the supervisors */

    /* The surveyor's phone reworks it: back to the supervisors, as resubmitted. */
    edit(&alice, &dev_a, id, 2, NULL, "新闸", "APPLIED", 3);
    Outfall__V1__Outfall *got = read_as(&sup, id, NULL);
    assert_int_equal(got->review_state, STATE(PENDING));
    outfall__v1__outfall__free_unpacked(got, NULL);
    Outfall__V1__ReviewQueue *q = queue_as(&sup, "kind=RESUBMITTED&limit=500");
    const Outfall__V1__ReviewItem *it = item_for(q, ITEM(RESUBMITTED), id);
    assert_non_null(it);
    assert_non_null(it->outfall);
    assert_int_equal(it->outfall->review_state, STATE(PENDING));
    assert_int_equal(it->outfall->version, 3);
    assert_string_equal(TH_S(it->outfall->landmark), "新闸");
    for (size_t i = 0; i < q->n_items; i++)
        assert_int_equal(q->items[i]->kind, ITEM(RESUBMITTED));
    outfall__v1__review_queue__free_unpacked(q, NULL);
    assert_false(queued(&sup, ITEM(PENDING), id));

    approve(id, 3, NULL);
    assert_false(queued(&sup, 0, id));
}

/* ---- conflicts ---------------------------------------------------------------------------- */

static void resolving_a_conflict_keep_server_keeps_the_value_and_closes_it(void **state) {
    (void)state;
    char id[37];
    int64_t v;
    int64_t conflict = clash(id, &v);
    /* The queue shows the conflict with all three values and who sent the clashing one. */
    Outfall__V1__ReviewQueue *q = queue_as(&sup, "kind=CONFLICT&limit=500");
    const Outfall__V1__ReviewItem *it = item_for(q, ITEM(CONFLICT), id);
    assert_non_null(it);
    const Outfall__V1__ConflictInfo *ci = it->conflict;
    assert_int_equal(ci->id, conflict);
    assert_string_equal(TH_S(ci->entity_kind), "outfall");
    assert_string_equal(TH_S(ci->entity_id), id);
    assert_string_equal(TH_S(ci->base_value), "\"甲\"");
    assert_string_equal(TH_S(ci->server_value), "\"乙\"");
    assert_string_equal(TH_S(ci->client_value), "\"丙\"");
    assert_string_equal(TH_S(ci->username), alice.name);
    assert_string_equal(TH_S(ci->device_id), dev_a.id);
    assert_true(ci->at_ms > 0);
    outfall__v1__review_queue__free_unpacked(q, NULL);

    decision x;
    decision_init(&x, KIND(RESOLVE_CONFLICT), id, v, NULL);
    decision_resolve(&x, conflict, CHOICE(KEEP_SERVER), NULL);
    Outfall__V1__DecisionResult *res = decide_ok(&sup, &x);
    assert_string_equal(TH_S(res->outfall->landmark), "乙");
    /* Keeping the value is still a decision: a new version confirming it. */
    assert_int_equal(res->outfall->version, v + 1);
    outfall__v1__decision_result__free_unpacked(res, NULL);
    assert_int_equal(open_conflict(id, "landmark"), 0);
    Outfall__V1__Outfall *got = read_as(&sup, id, NULL);
    assert_string_equal(TH_S(got->landmark), "乙");
    outfall__v1__outfall__free_unpacked(got, NULL);
    /* Decided once: deciding it again, on the current version, finds it closed. */
    decision_init(&x, KIND(RESOLVE_CONFLICT), id, v + 1, NULL);
    decision_resolve(&x, conflict, CHOICE(TAKE_CLIENT), NULL);
    decide_refused(sup.token, &x, 409, "not_open");
}

/* DESIGN.md, Review: "Each decision is a change through the same engine and shows in the feed."
 * Keeping the server's value changes no field, but it is still a decision. */
static void resolving_a_conflict_keep_server_shows_in_the_feed(void **state) {
    (void)state;
    char id[37];
    int64_t v;
    int64_t conflict = clash(id, &v);
    int64_t since = feed_end(&sup);
    decision x;
    decision_init(&x, KIND(RESOLVE_CONFLICT), id, v, NULL);
    decision_resolve(&x, conflict, CHOICE(KEEP_SERVER), NULL);
    outfall__v1__decision_result__free_unpacked(decide_ok(&sup, &x), NULL);
    Outfall__V1__ChangesResponse *c = feed_after(&sup, since);
    int in_feed = feed_outfall(c, id) != NULL;
    outfall__v1__changes_response__free_unpacked(c, NULL);
    if (!in_feed) print_message("the KEEP_SERVER decision left no entry in the feed\n");
    assert_true(in_feed);
}

static void resolving_a_conflict_take_client_applies_the_phones_value(void **state) {
    (void)state;
    char id[37];
    int64_t v;
    int64_t conflict = clash(id, &v);
    int64_t since = feed_end(&sup);
    decision x;
    decision_init(&x, KIND(RESOLVE_CONFLICT), id, v, NULL);
    decision_resolve(&x, conflict, CHOICE(TAKE_CLIENT), NULL);
    Outfall__V1__DecisionResult *res = decide_ok(&sup, &x);
    assert_string_equal(TH_S(res->outfall->landmark), "丙");
    assert_int_equal(res->outfall->version, v + 1);
    outfall__v1__decision_result__free_unpacked(res, NULL);
    assert_int_equal(open_conflict(id, "landmark"), 0);

    Outfall__V1__ChangesResponse *c = feed_after(&sup, since);
    const Outfall__V1__Outfall *e = feed_outfall(c, id);
    assert_non_null(e);
    assert_string_equal(TH_S(e->landmark), "丙");
    assert_int_equal(e->version, v + 1);
    outfall__v1__changes_response__free_unpacked(c, NULL);
    /* The history names the decision, its supervisor, and no device. */
    Outfall__V1__OutfallHistory *h = history_of(&sup, id);
    const Outfall__V1__FieldChange *fc = change_at(h, "landmark", v + 1);
    assert_non_null(fc);
    assert_string_equal(TH_S(fc->value), "\"丙\"");
    assert_string_equal(TH_S(fc->change_id), x.id);
    assert_string_equal(TH_S(fc->username), sup.name);
    assert_null(fc->device_id);
    outfall__v1__outfall_history__free_unpacked(h, NULL);
}

static void resolving_a_conflict_enter_value_applies_the_supervisors_value(void **state) {
    (void)state;
    char id[37];
    int64_t v;
    int64_t conflict = clash(id, &v);
    decision x;
    decision_init(&x, KIND(RESOLVE_CONFLICT), id, v, NULL);
    decision_resolve(&x, conflict, CHOICE(ENTER_VALUE), "\"丁桥东侧\"");
    Outfall__V1__DecisionResult *res = decide_ok(&sup, &x);
    assert_string_equal(TH_S(res->outfall->landmark), "丁桥东侧");
    assert_int_equal(res->outfall->version, v + 1);
    outfall__v1__decision_result__free_unpacked(res, NULL);
    assert_int_equal(open_conflict(id, "landmark"), 0);
    Outfall__V1__Outfall *got = read_as(&alice, id, NULL);
    assert_string_equal(TH_S(got->landmark), "丁桥东侧");
    outfall__v1__outfall__free_unpacked(got, NULL);
}

static void entered_value_of_the_wrong_type_is_invalid_value_and_changes_nothing(void **state) {
    (void)state;
    char id[37];
    int64_t v;
    int64_t conflict = clash(id, &v);
    decision x;
    decision_init(&x, KIND(RESOLVE_CONFLICT), id, v, NULL);
    decision_resolve(&x, conflict, CHOICE(ENTER_VALUE), "42"); /* landmark is a string */
    th_sum before = th_db_checksum(srv.data, TH_STATE);
    decide_refused(sup.token, &x, 400, "invalid_value");
    decision_init(&x, KIND(RESOLVE_CONFLICT), id, v, NULL);
    decision_resolve(&x, conflict, CHOICE(ENTER_VALUE), "丁桥"); /* not JSON text */
    decide_refused(sup.token, &x, 400, "invalid_value");
    th_sum after = th_db_checksum(srv.data, TH_STATE);
    assert_string_equal(before.hex, after.hex);
    assert_int_equal(open_conflict(id, "landmark"), conflict);
    Outfall__V1__Outfall *got = read_as(&sup, id, NULL);
    assert_string_equal(TH_S(got->landmark), "乙");
    assert_int_equal(got->version, v);
    outfall__v1__outfall__free_unpacked(got, NULL);
}

static void approval_is_refused_while_a_conflict_is_open(void **state) {
    (void)state;
    char id[37];
    int64_t v;
    int64_t conflict = clash(id, &v);
    decision x;
    decision_init(&x, KIND(APPROVE), id, v, NULL);
    decide_refused(sup.token, &x, 409, "open_conflicts");
    decision_init(&x, KIND(RESOLVE_CONFLICT), id, v, NULL);
    decision_resolve(&x, conflict, CHOICE(TAKE_CLIENT), NULL);
    Outfall__V1__DecisionResult *res = decide_ok(&sup, &x);
    int64_t now = res->outfall->version;
    outfall__v1__decision_result__free_unpacked(res, NULL);
    approve(id, now, NULL);
}

/* ---- stale versions, retries, reused ids -------------------------------------------------- */

static void decision_on_a_stale_version_is_refused_and_writes_nothing(void **state) {
    (void)state;
    char id[37];
    create(T_OTHER, "码头", id);
    edit(&bob, &dev_b, id, 1, "改过的名字", NULL, "APPLIED", 2);
    decision x;
    decision_init(&x, KIND(APPROVE), id, 1, NULL); /* the supervisor saw version 1 */
    decide_refused(sup.token, &x, 409, "stale_version");
    decision_init(&x, KIND(REJECT), id, 3, "来自未来的版本");
    decide_refused(sup.token, &x, 409, "stale_version");
    Outfall__V1__Outfall *got = read_as(&sup, id, NULL);
    assert_int_equal(got->version, 2);
    assert_int_equal(got->review_state, STATE(PENDING));
    assert_null(got->code);
    outfall__v1__outfall__free_unpacked(got, NULL);
    approve(id, 2, NULL);
}

static void retried_decision_answers_already_applied_and_writes_nothing(void **state) {
    (void)state;
    char id[37], code[64];
    create(T_OTHER, "泵站", id);
    decision x;
    decision_init(&x, KIND(APPROVE), id, 1, "同意");
    Outfall__V1__DecisionResult *res = decide_ok(&sup, &x);
    util_strlcpy(code, TH_S(res->outfall->code), sizeof code);
    outfall__v1__decision_result__free_unpacked(res, NULL);

    /* The same decision again, in protobuf and in JSON: the first answer, nothing written. */
    const char *encs[] = {TH_PB, TH_JSON};
    for (int round = 0; round < 3; round++) {
        th_sum before = th_db_checksum(srv.data, TH_ALL);
        th_error e;
        long st = decide(sup.token, &x, encs[round % 2], &res, &e);
        if (st != 200) print_message("retry: %ld %s %s\n", st, e.code, e.message);
        assert_int_equal(st, 200);
        assert_string_equal(th_status_name(res->status), "ALREADY_APPLIED");
        assert_string_equal(TH_S(res->decision_id), x.id);
        assert_int_equal(res->outfall->version, 2); /* the first answer's record */
        assert_string_equal(TH_S(res->outfall->code), code);
        outfall__v1__decision_result__free_unpacked(res, NULL);
        th_sum after = th_db_checksum(srv.data, TH_ALL);
        assert_string_equal(before.hex, after.hex);
        /* Even once the record moved on, a retry answers what it answered. */
        if (round == 1) edit(&alice, &dev_a, id, 2, NULL, "泵站北", "APPLIED", 3);
    }

    /* The same id with other content is refused, even where that content would now apply. */
    x.d.comment = "同意（修改）";
    decide_refused(sup.token, &x, 409, "decision_id_reused");
    x.d.comment = "同意";
    x.d.base_version = 3;
    decide_refused(sup.token, &x, 409, "decision_id_reused");
    Outfall__V1__Outfall *got = read_as(&sup, id, NULL);
    assert_int_equal(got->version, 3);
    assert_int_equal(got->approved_version, 2);
    outfall__v1__outfall__free_unpacked(got, NULL);
}

/* ---- scopes and roles --------------------------------------------------------------------- */

static void supervisor_of_another_division_is_refused_outside_division(void **state) {
    (void)state;
    char id[37];
    create(T_OTHER, "桥南", id);
    decision x;
    decision_init(&x, KIND(APPROVE), id, 1, NULL);
    decide_refused(sup_other.token, &x, 403, "outside_division");
    decision_init(&x, KIND(REJECT), id, 1, "不属于本区");
    decide_refused(sup_other.token, &x, 403, "outside_division");
    assert_false(queued(&sup_other, 0, id));
    assert_true(queued(&sup, ITEM(PENDING), id));
    assert_true(queued(&sup_city, ITEM(PENDING), id));
    /* A city-level supervisor decides everywhere. */
    decision_init(&x, KIND(APPROVE), id, 1, NULL);
    Outfall__V1__DecisionResult *res = decide_ok(&sup_city, &x);
    assert_int_equal(res->outfall->review_state, STATE(APPROVED));
    outfall__v1__decision_result__free_unpacked(res, NULL);
}

static void surveyor_integrator_and_no_token_are_refused(void **state) {
    (void)state;
    char id[37];
    create(T_OTHER, "桥北", id);
    decision x;
    decision_init(&x, KIND(APPROVE), id, 1, NULL);
    decide_refused(alice.token, &x, 403, "forbidden_role");
    decide_refused(integ.token, &x, 403, "forbidden_role");
    decide_refused(NULL, &x, 401, "token_missing");
    const char *tokens[] = {alice.token, integ.token, NULL};
    const long statuses[] = {403, 403, 401};
    const char *codes[] = {"forbidden_role", "forbidden_role", "token_missing"};
    for (int i = 0; i < 3; i++) {
        Outfall__V1__ReviewQueue *q = NULL;
        th_error e;
        assert_int_equal(queue_status(tokens[i], "limit=10", &q, &e), statuses[i]);
        assert_null(q);
        assert_string_equal(e.code, codes[i]);
    }
    Outfall__V1__Outfall *got = read_as(&sup, id, NULL);
    assert_int_equal(got->version, 1);
    assert_int_equal(got->review_state, STATE(PENDING));
    outfall__v1__outfall__free_unpacked(got, NULL);
}

static void replay_of_a_decision_by_a_supervisor_of_another_division_is_refused(void **state) {
    (void)state;
    char id[37];
    create(T_OTHER, "回放", id);
    decision x;
    decision_init(&x, KIND(APPROVE), id, 1, NULL);
    outfall__v1__decision_result__free_unpacked(decide_ok(&sup, &x), NULL);
    /* Another division's supervisor sending the same bytes neither decides nor reads the record. */
    decide_refused(sup_other.token, &x, 403, "outside_division");
}

/* ---- duplicates --------------------------------------------------------------------------- */

static void approval_is_refused_while_a_duplicate_is_open(void **state) {
    (void)state;
    char a[37], b[37];
    pair(DIV, "qinhe", a, b);
    assert_true(open_duplicate(&sup, b) > 0);
    decision x;
    decision_init(&x, KIND(APPROVE), b, 1, NULL);
    decide_refused(sup.token, &x, 409, "open_duplicate");
    decision_init(&x, KIND(APPROVE), a, 1, NULL); /* the neighbour is part of the question too */
    decide_refused(sup.token, &x, 409, "open_duplicate");
}

static void merge_moves_observations_and_photos_and_redirects_later_phone_edits(void **state) {
    (void)state;
    char a[37], b[37], obs[37], hash[65];
    pair(DIV, "qinhe", a, b);
    observe(&bob, &dev_b, b, obs, hash);
    /* The queue shows the pair with the distance and the neighbour. */
    Outfall__V1__ReviewQueue *q = queue_as(&sup, "kind=DUPLICATE&limit=500");
    const Outfall__V1__ReviewItem *it = item_for(q, ITEM(DUPLICATE), b);
    assert_non_null(it);
    assert_non_null(it->duplicate);
    int64_t dup = it->duplicate->id;
    assert_string_equal(TH_S(it->duplicate->neighbour_id), a);
    assert_true(it->duplicate->distance_m > 5 && it->duplicate->distance_m < 15);
    assert_non_null(it->duplicate->neighbour);
    assert_string_equal(TH_S(it->duplicate->neighbour->id), a);
    outfall__v1__review_queue__free_unpacked(q, NULL);

    int64_t since = feed_end(&sup);
    decision x;
    decision_init(&x, KIND(MERGE_DUPLICATE), b, 1, "同一排口");
    decision_pair(&x, dup, a);
    Outfall__V1__DecisionResult *res = decide_ok(&sup, &x);
    assert_string_equal(TH_S(res->outfall->id), a); /* the survivor */
    assert_false(th_has(res->outfall->flags, res->outfall->n_flags, "duplicate_suspect"));
    outfall__v1__decision_result__free_unpacked(res, NULL);

    /* The observation, with its photo reference, now belongs to the survivor. */
    Outfall__V1__Observation *ob = NULL;
    assert_int_equal(th_get_observation(&srv, sup.token, obs, &ob, NULL), 200);
    assert_string_equal(TH_S(ob->outfall_id), a);
    assert_int_equal(ob->n_photos, 1);
    assert_string_equal(TH_S(ob->photos[0]->hash), hash);
    outfall__v1__observation__free_unpacked(ob, NULL);
    Outfall__V1__OutfallHistory *h = history_of(&sup, a);
    assert_int_equal(h->n_merged_ids, 1);
    assert_string_equal(TH_S(h->merged_ids[0]), b);
    assert_int_equal(h->n_observations, 1);
    assert_string_equal(TH_S(h->observations[0]->id), obs);
    assert_int_equal(h->observations[0]->n_photos, 1);
    assert_string_equal(TH_S(h->observations[0]->photos[0]->hash), hash);
    int b_rows = 0;
    for (size_t i = 0; i < h->n_changes; i++)
        b_rows += strcmp(TH_S(h->changes[i]->entity_id), b) == 0;
    assert_true(b_rows > 0); /* the merged record's history came along */
    outfall__v1__outfall_history__free_unpacked(h, NULL);

    /* In the feed the other is a redirect to the survivor, and no longer an outfall. */
    Outfall__V1__ChangesResponse *c = feed_after(&sup, since);
    const Outfall__V1__Redirect *rd = feed_redirect(c, b);
    assert_non_null(rd);
    assert_string_equal(TH_S(rd->to_id), a);
    assert_null(feed_outfall(c, b));
    assert_non_null(feed_outfall(c, a));
    outfall__v1__changes_response__free_unpacked(c, NULL);
    Outfall__V1__Outfall *got = read_as(&sup, b, NULL);
    assert_string_equal(TH_S(got->merged_into), a);
    outfall__v1__outfall__free_unpacked(got, NULL);
    assert_false(queued(&sup, 0, b));
    assert_int_equal(open_duplicate(&sup, b), 0);

    /* Bob's phone, offline through all this, edits the merged record from its old version. */
    Outfall__V1__SyncResponse *resp = edit_resp(&bob, &dev_b, b, 1, NULL, "合并后新标志");
    const Outfall__V1__ChangeResult *r = resp->results[0];
    if (r->reason) print_message("edit of merged id: %s %s\n", r->reason, TH_S(r->message));
    assert_true(r->status == TH_STATUS(APPLIED) || r->status == TH_STATUS(MERGED));
    assert_string_equal(TH_S(r->entity_id), a);
    outfall__v1__sync_response__free_unpacked(resp, NULL);
    got = read_as(&sup, a, NULL);
    assert_string_equal(TH_S(got->landmark), "合并后新标志");
    outfall__v1__outfall__free_unpacked(got, NULL);
    got = read_as(&sup, b, NULL);
    assert_string_equal(TH_S(got->landmark), "下游");
    outfall__v1__outfall__free_unpacked(got, NULL);
    /* And so does a new observation it addresses to the merged id. */
    char later[37], later_hash[65];
    observe(&bob, &dev_b, b, later, later_hash);
    ob = NULL;
    assert_int_equal(th_get_observation(&srv, sup.token, later, &ob, NULL), 200);
    assert_string_equal(TH_S(ob->outfall_id), a);
    outfall__v1__observation__free_unpacked(ob, NULL);

    /* The merged record takes no more decisions. */
    decision_init(&x, KIND(APPROVE), b, 2, NULL);
    decide_refused(sup.token, &x, 409, "merged");
}

/* A phone's base_version counts the merged record's versions, which may run ahead of the
 * survivor's: its edit must still land on the survivor. */
static void
edit_of_merged_id_from_a_version_beyond_the_survivors_lands_on_the_survivor(void **state) {
    (void)state;
    char a[37], b[37];
    pair(DIV, "qinhe", a, b);
    edit(&bob, &dev_b, b, 1, "一改", NULL, "APPLIED", 2);
    edit(&bob, &dev_b, b, 2, "二改", NULL, "APPLIED", 3);
    int64_t dup = open_duplicate(&sup, b);
    assert_true(dup > 0);
    decision x;
    decision_init(&x, KIND(MERGE_DUPLICATE), b, 3, NULL);
    decision_pair(&x, dup, a);
    Outfall__V1__DecisionResult *res = decide_ok(&sup, &x);
    int64_t survivor_version = res->outfall->version;
    outfall__v1__decision_result__free_unpacked(res, NULL);
    assert_true(survivor_version < 3); /* the situation this test is about */

    Outfall__V1__SyncResponse *resp = edit_resp(&bob, &dev_b, b, 3, NULL, "合并后");
    const Outfall__V1__ChangeResult *r = resp->results[0];
    if (r->reason)
        print_message("edit of merged id at base 3: %s %s\n", r->reason, TH_S(r->message));
    int status = r->status;
    char entity[40];
    util_strlcpy(entity, TH_S(r->entity_id), sizeof entity);
    outfall__v1__sync_response__free_unpacked(resp, NULL);
    assert_true(status == TH_STATUS(APPLIED) || status == TH_STATUS(MERGED));
    assert_string_equal(entity, a);
    Outfall__V1__Outfall *got = read_as(&sup, a, NULL);
    assert_string_equal(TH_S(got->landmark), "合并后");
    outfall__v1__outfall__free_unpacked(got, NULL);
}

static void keep_apart_clears_the_duplicate_suspect_flag(void **state) {
    (void)state;
    char a[37], b[37];
    pair(DIV, "qinhe", a, b);
    Outfall__V1__Outfall *got = read_as(&sup, b, NULL);
    assert_true(th_has(got->flags, got->n_flags, "duplicate_suspect"));
    outfall__v1__outfall__free_unpacked(got, NULL);
    int64_t dup = open_duplicate(&sup, b);
    assert_true(dup > 0);
    int64_t since = feed_end(&alice);
    decision x;
    decision_init(&x, KIND(KEEP_APART), a, 1, "两个排口，一左一右");
    decision_pair(&x, dup, NULL);
    outfall__v1__decision_result__free_unpacked(decide_ok(&sup, &x), NULL);

    got = read_as(&sup, b, NULL);
    assert_false(th_has(got->flags, got->n_flags, "duplicate_suspect"));
    assert_int_equal(got->version, 2);
    assert_null(got->merged_into);
    outfall__v1__outfall__free_unpacked(got, NULL);
    got = read_as(&sup, a, NULL);
    assert_null(got->merged_into);
    outfall__v1__outfall__free_unpacked(got, NULL);
    assert_int_equal(open_duplicate(&sup, b), 0);
    /* Phones hear of it: the suspect comes through the feed without its flag. */
    Outfall__V1__ChangesResponse *c = feed_after(&alice, since);
    const Outfall__V1__Outfall *e = feed_outfall(c, b);
    assert_non_null(e);
    assert_false(th_has(e->flags, e->n_flags, "duplicate_suspect"));
    outfall__v1__changes_response__free_unpacked(c, NULL);
    /* Nothing holds their approval back any more. */
    approve(b, 2, NULL);
    approve(a, 1, NULL);
    /* And the pair, decided, takes no second decision. */
    decision_init(&x, KIND(KEEP_APART), a, 2, NULL);
    decision_pair(&x, dup, NULL);
    decide_refused(sup.token, &x, 409, "not_open");
}

/* ---- the approved view and history -------------------------------------------------------- */

static void integrator_reads_the_approved_version_while_a_field_edit_waits(void **state) {
    (void)state;
    char id[37], code[64];
    create(T_OTHER, "旧桥", id);
    th_error e;
    assert_int_equal(read_status(&integ, id, NULL, NULL, &e), 404); /* never approved yet */
    assert_string_equal(e.code, "not_found");
    approve(id, 1, code);
    edit(&alice, &dev_a, id, 2, NULL, "新桥", "APPLIED", 3);

    const char *views[] = {NULL, "approved"};
    for (int i = 0; i < 2; i++) {
        Outfall__V1__Outfall *got = read_as(&integ, id, views[i]);
        assert_int_equal(got->version, 2);
        assert_int_equal(got->approved_version, 2);
        assert_int_equal(got->latest_version, 3);
        assert_string_equal(TH_S(got->landmark), "旧桥");
        assert_string_equal(TH_S(got->code), code);
        assert_int_equal(got->review_state, STATE(APPROVED));
        outfall__v1__outfall__free_unpacked(got, NULL);
    }
    Outfall__V1__Outfall *got = read_as(&sup, id, NULL); /* staff default: the latest */
    assert_int_equal(got->version, 3);
    assert_int_equal(got->approved_version, 2);
    assert_int_equal(got->latest_version, 3);
    assert_string_equal(TH_S(got->landmark), "新桥");
    outfall__v1__outfall__free_unpacked(got, NULL);
    got = read_as(&sup, id, "approved");
    assert_int_equal(got->version, 2);
    assert_string_equal(TH_S(got->landmark), "旧桥");
    outfall__v1__outfall__free_unpacked(got, NULL);

    /* The reviewer sees exactly what changed since approval, and the record waits in the queue. */
    Outfall__V1__OutfallHistory *h = history_of(&sup, id);
    assert_int_equal(h->approved_version, 2);
    assert_int_equal(h->n_since_approved, 1);
    assert_string_equal(TH_S(h->since_approved[0]->field), "landmark");
    assert_string_equal(TH_S(h->since_approved[0]->approved_value), "\"旧桥\"");
    assert_string_equal(TH_S(h->since_approved[0]->latest_value), "\"新桥\"");
    outfall__v1__outfall_history__free_unpacked(h, NULL);
    assert_true(queued(&sup, ITEM(PENDING), id));
    approve(id, 3, NULL);
    got = read_as(&integ, id, NULL);
    assert_int_equal(got->version, 4);
    assert_string_equal(TH_S(got->landmark), "新桥");
    assert_string_equal(TH_S(got->code), code); /* the code stays with the outfall */
    outfall__v1__outfall__free_unpacked(got, NULL);
}

static void history_names_who_which_device_and_which_change_for_each_field(void **state) {
    (void)state;
    char id[37], created_by[37], edited_by[37];
    double lat, lon;
    th_spot(&lat, &lon);
    th_batch *b = th_batch_new(&dev_a);
    Outfall__V1__Outfall *o = th_outfall_create(b, "qinhe", DIV, lat, lon);
    o->name = "史口";
    o->landmark = "老柳树";
    util_strlcpy(id, th_batch_entity(b, 0), sizeof id);
    util_strlcpy(created_by, th_batch_change_id(b, 0), sizeof created_by);
    Outfall__V1__SyncResponse *resp = sync_as(&alice, b);
    expect(resp->results[0], "APPLIED", 1);
    outfall__v1__sync_response__free_unpacked(resp, NULL);
    b = th_batch_new(&dev_b);
    th_outfall_edit(b, id, 1)->landmark = "新柳树";
    util_strlcpy(edited_by, th_batch_change_id(b, 0), sizeof edited_by);
    resp = sync_as(&bob, b);
    expect(resp->results[0], "APPLIED", 2);
    outfall__v1__sync_response__free_unpacked(resp, NULL);
    decision x;
    decision_init(&x, KIND(APPROVE), id, 2, NULL);
    Outfall__V1__DecisionResult *res = decide_ok(&sup, &x);
    char code[64];
    util_strlcpy(code, TH_S(res->outfall->code), sizeof code);
    outfall__v1__decision_result__free_unpacked(res, NULL);

    Outfall__V1__OutfallHistory *h = history_of(&sup, id);
    assert_string_equal(TH_S(h->outfall_id), id);
    struct {
        const char *field;
        int64_t version;
        const char *value;
        const char *user;
        const char *device;
        const char *change;
    } want[] = {
        {"name", 1, "\"史口\"", alice.name, dev_a.id, created_by},
        {"landmark", 1, "\"老柳树\"", alice.name, dev_a.id, created_by},
        {"river_code", 1, "\"qinhe\"", alice.name, dev_a.id, created_by},
        {"landmark", 2, "\"新柳树\"", bob.name, dev_b.id, edited_by},
        {"review_state", 3, "\"REVIEW_STATE_APPROVED\"", sup.name, NULL, x.id},
        {"code", 3, NULL, sup.name, NULL, x.id},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        const Outfall__V1__FieldChange *fc = change_at(h, want[i].field, want[i].version);
        if (!fc)
            print_message("no history of %s at version %lld\n", want[i].field,
                          (long long)want[i].version);
        assert_non_null(fc);
        if (want[i].value) assert_string_equal(TH_S(fc->value), want[i].value);
        assert_string_equal(TH_S(fc->username), want[i].user);
        if (want[i].device)
            assert_string_equal(TH_S(fc->device_id), want[i].device);
        else
            assert_null(fc->device_id);
        assert_string_equal(TH_S(fc->change_id), want[i].change);
        assert_string_equal(TH_S(fc->entity_id), id);
        assert_true(fc->at_ms > 0);
    }
    char quoted[80];
    snprintf(quoted, sizeof quoted, "\"%s\"", code);
    assert_string_equal(TH_S(change_at(h, "code", 3)->value), quoted);
    for (size_t i = 1; i < h->n_changes; i++) /* oldest first */
        assert_true(h->changes[i - 1]->version <= h->changes[i]->version);
    assert_null(change_at(h, "landmark", 3)); /* a decision writes only what it changed */
    assert_int_equal(h->n_since_approved, 0);
    outfall__v1__outfall_history__free_unpacked(h, NULL);
}

/* ---- the queue ---------------------------------------------------------------------------- */

static void queue_counts_each_kind_and_filters_by_kind_division_and_river(void **state) {
    (void)state;
    /* DIV_Q holds exactly: p (pending, with a flagged observation), c (pending, one conflict),
     * d1 and d2 (pending, one duplicate pair), r (returned, resubmitted) on jihe, and w (pending)
     * on weihe. */
    char p[37], c[37], d1[37], d2[37], r[37], w[37], obs[37], hash[65];
    double lat, lon;
    th_spot(&lat, &lon);
    create_at(&alice, &dev_a, DIV_Q, "jihe", T_OTHER, lat, lon, "p", "APPLIED", p);
    observe(&alice, &dev_a, p, obs, hash);
    th_spot(&lat, &lon);
    create_at(&alice, &dev_a, DIV_Q, "jihe", T_OTHER, lat, lon, "甲", "APPLIED", c);
    edit(&bob, &dev_b, c, 1, NULL, "乙", "APPLIED", 2);
    edit(&alice, &dev_a, c, 1, NULL, "丙", "CONFLICT", 0);
    pair(DIV_Q, "jihe", d1, d2);
    th_spot(&lat, &lon);
    create_at(&alice, &dev_a, DIV_Q, "jihe", T_OTHER, lat, lon, "r", "APPLIED", r);
    decision x;
    decision_init(&x, KIND(RETURN), r, 1, "重拍");
    outfall__v1__decision_result__free_unpacked(decide_ok(&sup_city, &x), NULL);
    edit(&alice, &dev_a, r, 2, NULL, "r2", "APPLIED", 3);
    th_spot(&lat, &lon);
    create_at(&alice, &dev_a, DIV_Q, "weihe", T_OTHER, lat, lon, "w", "APPLIED", w);

    struct {
        const char *query;
        int64_t pending, conflict, duplicate, flagged, resubmitted;
    } cases[] = {
        {"division=" DIV_Q, 5, 1, 1, 1, 1},
        {"division=" DIV_Q "&river=jihe", 4, 1, 1, 1, 1},
        {"division=" DIV_Q "&river=weihe", 1, 0, 0, 0, 0},
        {"division=" DIV_Q "&kind=CONFLICT", 0, 1, 0, 0, 0},
        {"division=" DIV_Q "&kind=REVIEW_ITEM_KIND_DUPLICATE", 0, 0, 1, 0, 0},
        {"division=" DIV_Q "&kind=flagged", 0, 0, 0, 1, 0},
        {"division=" DIV_Q "&kind=RESUBMITTED&river=jihe", 0, 0, 0, 0, 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char query[160];
        snprintf(query, sizeof query, "%s&limit=500", cases[i].query);
        Outfall__V1__ReviewQueue *q = queue_as(&sup_city, query);
        int64_t want[6] = {0,
                           cases[i].pending,
                           cases[i].conflict,
                           cases[i].duplicate,
                           cases[i].flagged,
                           cases[i].resubmitted};
        int64_t total = 0, seen[6] = {0};
        for (int k = 1; k <= 5; k++) {
            if (count_of(q, k) != want[k])
                print_message("?%s: count of kind %d is %lld, not %lld\n", query, k,
                              (long long)count_of(q, k), (long long)want[k]);
            assert_int_equal(count_of(q, k), want[k]);
            total += want[k];
        }
        for (size_t j = 0; j < q->n_counts; j++)
            assert_true(q->counts[j]->count > 0);
        assert_int_equal(q->n_items, total);
        for (size_t j = 0; j < q->n_items; j++) {
            const Outfall__V1__ReviewItem *it = q->items[j];
            assert_true(it->kind >= 1 && it->kind <= 5);
            seen[it->kind]++;
            assert_non_null(it->outfall);
            assert_string_equal(TH_S(it->outfall->division_code), DIV_Q);
            assert_string_equal(TH_S(it->outfall->id), TH_S(it->outfall_id));
        }
        for (int k = 1; k <= 5; k++)
            assert_int_equal(seen[k], want[k]);
        outfall__v1__review_queue__free_unpacked(q, NULL);
    }

    /* Each kind's item carries its details. */
    Outfall__V1__ReviewQueue *q = queue_as(&sup_city, "division=" DIV_Q "&limit=500");
    const Outfall__V1__ReviewItem *it = item_for(q, ITEM(CONFLICT), c);
    assert_non_null(it);
    assert_non_null(it->conflict);
    assert_string_equal(TH_S(it->conflict->client_value), "\"丙\"");
    it = item_for(q, ITEM(DUPLICATE), d2);
    assert_non_null(it);
    assert_non_null(it->duplicate);
    assert_string_equal(TH_S(it->duplicate->neighbour_id), d1);
    it = item_for(q, ITEM(FLAGGED), p);
    assert_non_null(it);
    assert_non_null(it->observation);
    assert_string_equal(TH_S(it->observation->id), obs);
    assert_true(th_has(it->observation->flags, it->observation->n_flags, "photos_pending"));
    assert_non_null(item_for(q, ITEM(RESUBMITTED), r));
    assert_null(item_for(q, ITEM(PENDING), r));
    assert_non_null(item_for(q, ITEM(PENDING), w));
    outfall__v1__review_queue__free_unpacked(q, NULL);

    /* Pages of 4 walk the same 9 items, oldest first, each once; counts cover the whole queue. */
    char token[64] = "", query[160];
    size_t n = 0;
    int64_t last_at = 0;
    char keys[16][128];
    for (int page = 0; page < 5; page++) {
        snprintf(query, sizeof query, "division=" DIV_Q "&limit=4%s%s",
                 token[0] ? "&page_token=" : "", token);
        q = queue_as(&sup_city, query);
        assert_int_equal(count_of(q, ITEM(PENDING)), 5);
        assert_true(q->n_items <= 4);
        for (size_t j = 0; j < q->n_items && n < 16; j++) {
            it = q->items[j];
            assert_true(it->at_ms >= last_at);
            last_at = it->at_ms;
            snprintf(keys[n], sizeof keys[n], "%d %s %lld %s", (int)it->kind, TH_S(it->outfall_id),
                     it->conflict    ? (long long)it->conflict->id
                     : it->duplicate ? (long long)it->duplicate->id
                                     : 0LL,
                     it->observation ? TH_S(it->observation->id) : "");
            for (size_t k = 0; k < n; k++)
                assert_string_not_equal(keys[k], keys[n]);
            n++;
        }
        token[0] = '\0';
        if (q->next_page_token) util_strlcpy(token, q->next_page_token, sizeof token);
        outfall__v1__review_queue__free_unpacked(q, NULL);
        if (!token[0]) break;
    }
    assert_int_equal(n, 9);

    /* A supervisor of another division sees none of it, even when asking for it by name. */
    q = queue_as(&sup, "division=" DIV_Q "&limit=500");
    assert_int_equal(q->n_items, 0);
    assert_int_equal(q->n_counts, 0);
    outfall__v1__review_queue__free_unpacked(q, NULL);
    q = queue_as(&sup, "limit=500");
    for (size_t j = 0; j < q->n_items; j++)
        assert_string_equal(TH_S(q->items[j]->outfall->division_code), DIV);
    outfall__v1__review_queue__free_unpacked(q, NULL);
    /* A kind the queue does not have is a bad request. */
    th_error e;
    assert_int_equal(queue_status(sup.token, "kind=LOST", NULL, &e), 400);
    assert_string_equal(e.code, "invalid_argument");
}

/* ---- the group ---------------------------------------------------------------------------- */

static int group_setup(void **state) {
    (void)state;
    const char *surveyed[] = {DIV, DIV_Q, NULL};
    const char *div[] = {DIV, NULL}, *other[] = {OTHER_DIV, NULL}, *city[] = {"410800", NULL};
    if (th_server_start(&srv, NULL) != 0) return -1;
    if (th_user_new(&srv, "surveyor-a", TH_ROLE(SURVEYOR), surveyed, &alice) != 0 ||
        th_user_new(&srv, "surveyor-b", TH_ROLE(SURVEYOR), surveyed, &bob) != 0 ||
        th_user_new(&srv, "supervisor", TH_ROLE(SUPERVISOR), div, &sup) != 0 ||
        th_user_new(&srv, "supervisor-other", TH_ROLE(SUPERVISOR), other, &sup_other) != 0 ||
        th_user_new(&srv, "supervisor-city", TH_ROLE(SUPERVISOR), city, &sup_city) != 0 ||
        th_user_new(&srv, "integrator", TH_ROLE(INTEGRATOR), city, &integ) != 0)
        return -1;
    if (th_device_new(&srv, alice.token, &dev_a) != 0 ||
        th_device_new(&srv, bob.token, &dev_b) != 0)
        return -1;
    return 0;
}

static int group_teardown(void **state) {
    (void)state;
    return th_server_stop(&srv);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(approval_assigns_code_pins_version_and_shows_in_the_feed),
        cmocka_unit_test(reject_in_json_needs_a_comment_and_answers_in_json),
        cmocka_unit_test(return_needs_a_comment_and_a_field_edit_resubmits_it),
        cmocka_unit_test(resolving_a_conflict_keep_server_keeps_the_value_and_closes_it),
        cmocka_unit_test(resolving_a_conflict_keep_server_shows_in_the_feed),
        cmocka_unit_test(resolving_a_conflict_take_client_applies_the_phones_value),
        cmocka_unit_test(resolving_a_conflict_enter_value_applies_the_supervisors_value),
        cmocka_unit_test(entered_value_of_the_wrong_type_is_invalid_value_and_changes_nothing),
        cmocka_unit_test(approval_is_refused_while_a_conflict_is_open),
        cmocka_unit_test(decision_on_a_stale_version_is_refused_and_writes_nothing),
        cmocka_unit_test(retried_decision_answers_already_applied_and_writes_nothing),
        cmocka_unit_test(supervisor_of_another_division_is_refused_outside_division),
        cmocka_unit_test(surveyor_integrator_and_no_token_are_refused),
        cmocka_unit_test(replay_of_a_decision_by_a_supervisor_of_another_division_is_refused),
        cmocka_unit_test(approval_is_refused_while_a_duplicate_is_open),
        cmocka_unit_test(merge_moves_observations_and_photos_and_redirects_later_phone_edits),
        cmocka_unit_test(
            edit_of_merged_id_from_a_version_beyond_the_survivors_lands_on_the_survivor),
        cmocka_unit_test(keep_apart_clears_the_duplicate_suspect_flag),
        cmocka_unit_test(integrator_reads_the_approved_version_while_a_field_edit_waits),
        cmocka_unit_test(history_names_who_which_device_and_which_change_for_each_field),
        cmocka_unit_test(queue_counts_each_kind_and_filters_by_kind_division_and_river),
    };
    return cmocka_run_group_tests_name("review API", tests, group_setup, group_teardown);
}
