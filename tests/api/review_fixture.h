/* Shared by the review API tests (tests/api/test_review.c: decisions on one record;
 * tests/api/test_review_merge.c: duplicate pairs, the approved view, history and the queue): one
 * real server per test binary with its surveyors, phones and supervisors, and the helpers both
 * use to sync, read, list the queue and decide over HTTP. Header-only: each test includes it once,
 * first (it brings the includes cmocka needs). */
#ifndef TESTS_API_REVIEW_FIXTURE_H
#define TESTS_API_REVIEW_FIXTURE_H

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
static inline Outfall__V1__SyncResponse *sync_as(th_user *u, th_batch *b) {
    size_t n = th_batch_req(b)->n_changes;
    Outfall__V1__SyncResponse *resp = th_sync_ok(&srv, u->token, b, TH_PB);
    assert_non_null(resp);
    assert_int_equal(resp->n_results, n);
    th_batch_free(b);
    return resp;
}

static inline void expect(const Outfall__V1__ChangeResult *r, const char *status, int64_t version) {
    if (r->reason) print_message("result reason: %s %s\n", r->reason, TH_S(r->message));
    assert_string_equal(th_status_name(r->status), status);
    if (version) assert_int_equal(r->version, version);
}

/* Creates an outfall as u via d at (lat, lon), expecting status at version 1; id gets its id. */
static inline void create_at(th_user *u, th_device *d, const char *division, const char *river,
                             int type, double lat, double lon, const char *landmark,
                             const char *status, char id[37]) {
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
static inline void create(int type, const char *landmark, char id[37]) {
    double lat, lon;
    th_spot(&lat, &lon);
    create_at(&alice, &dev_a, DIV, "qinhe", type, lat, lon, landmark, "APPLIED", id);
}

/* An edit of id at base by u via d, setting name and/or landmark (NULL: untouched). */
static inline Outfall__V1__SyncResponse *edit_resp(th_user *u, th_device *d, const char *id,
                                                   int64_t base, const char *name,
                                                   const char *landmark) {
    th_batch *b = th_batch_new(d);
    Outfall__V1__Outfall *o = th_outfall_edit(b, id, base);
    o->name = (char *)name;
    o->landmark = (char *)landmark;
    return sync_as(u, b);
}

static inline void edit(th_user *u, th_device *d, const char *id, int64_t base, const char *name,
                        const char *landmark, const char *status, int64_t version) {
    Outfall__V1__SyncResponse *resp = edit_resp(u, d, id, base, name, landmark);
    expect(resp->results[0], status, version);
    outfall__v1__sync_response__free_unpacked(resp, NULL);
}

/* ---- reads -------------------------------------------------------------------------------- */

/* GET /v1/outfalls/{id}[?view=view] as u. */
static inline long read_status(th_user *u, const char *id, const char *view,
                               Outfall__V1__Outfall **out, th_error *e) {
    char path[160];
    snprintf(path, sizeof path, "/v1/outfalls/%s%s%s", id, view ? "?view=" : "", view ? view : "");
    return th_call(&srv, "GET", path, u->token, TH_PB, NULL, &outfall__v1__outfall__descriptor,
                   (ProtobufCMessage **)out, e);
}

static inline Outfall__V1__Outfall *read_as(th_user *u, const char *id, const char *view) {
    Outfall__V1__Outfall *o = NULL;
    th_error e;
    long st = read_status(u, id, view, &o, &e);
    if (st != 200)
        print_message("GET outfall %s as %s: %ld %s %s\n", id, u->name, st, e.code, e.message);
    assert_int_equal(st, 200);
    assert_non_null(o);
    return o;
}

static inline Outfall__V1__OutfallHistory *history_of(th_user *u, const char *id) {
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
static inline const Outfall__V1__FieldChange *change_at(const Outfall__V1__OutfallHistory *h,
                                                        const char *field, int64_t version) {
    for (size_t i = 0; i < h->n_changes; i++)
        if (strcmp(TH_S(h->changes[i]->field), field) == 0 && h->changes[i]->version == version)
            return h->changes[i];
    return NULL;
}

/* The feed's end as u sees it: the cursor after the last entry. */
static inline int64_t feed_end(th_user *u) {
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
static inline Outfall__V1__ChangesResponse *feed_after(th_user *u, int64_t since) {
    Outfall__V1__ChangesResponse *c = NULL;
    assert_int_equal(th_pull(&srv, u->token, since, 1000, &c, NULL), 200);
    assert_false(c->more);
    return c;
}

static inline const Outfall__V1__Outfall *feed_outfall(const Outfall__V1__ChangesResponse *c,
                                                       const char *id) {
    for (size_t i = 0; i < c->n_feed; i++)
        if (c->feed[i]->entry_case == OUTFALL__V1__FEED_ENTRY__ENTRY_OUTFALL &&
            strcmp(TH_S(c->feed[i]->outfall->id), id) == 0)
            return c->feed[i]->outfall;
    return NULL;
}

/* ---- the queue ---------------------------------------------------------------------------- */

static inline long queue_status(const char *token, const char *query,
                                Outfall__V1__ReviewQueue **out, th_error *e) {
    char path[512];
    snprintf(path, sizeof path, "/v1/review/queue%s%s", query ? "?" : "", query ? query : "");
    return th_call(&srv, "GET", path, token, TH_PB, NULL, &outfall__v1__review_queue__descriptor,
                   (ProtobufCMessage **)out, e);
}

static inline Outfall__V1__ReviewQueue *queue_as(th_user *u, const char *query) {
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
static inline const Outfall__V1__ReviewItem *item_for(const Outfall__V1__ReviewQueue *q, int kind,
                                                      const char *outfall_id) {
    for (size_t i = 0; i < q->n_items; i++)
        if ((!kind || (int)q->items[i]->kind == kind) &&
            strcmp(TH_S(q->items[i]->outfall_id), outfall_id) == 0)
            return q->items[i];
    return NULL;
}

/* 1 when u's whole queue (one big page) holds an item of kind (0: any) about outfall_id. */
static inline int queued(th_user *u, int kind, const char *outfall_id) {
    Outfall__V1__ReviewQueue *q = queue_as(u, "limit=500");
    assert_null(q->next_page_token);
    int found = item_for(q, kind, outfall_id) != NULL;
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

static inline void decision_init(decision *x, int kind, const char *outfall_id, int64_t base,
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

/* POST /v1/review/decisions as token (NULL: none) in enc. */
static inline long decide(const char *token, const decision *x, const char *enc,
                          Outfall__V1__DecisionResult **out, th_error *e) {
    return th_call(&srv, "POST", "/v1/review/decisions", token, enc, &x->d.base,
                   &outfall__v1__decision_result__descriptor, (ProtobufCMessage **)out, e);
}

/* x decided by u, answered 200 APPLIED with the record after it. */
static inline Outfall__V1__DecisionResult *decide_ok(th_user *u, const decision *x) {
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
static inline void decide_refused(const char *token, const decision *x, long status,
                                  const char *code) {
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
static inline void approve(const char *id, int64_t base, char code[64]) {
    decision x;
    decision_init(&x, KIND(APPROVE), id, base, NULL);
    Outfall__V1__DecisionResult *res = decide_ok(&sup, &x);
    assert_int_equal(res->outfall->review_state, STATE(APPROVED));
    if (code) util_strlcpy(code, TH_S(res->outfall->code), 64);
    outfall__v1__decision_result__free_unpacked(res, NULL);
}

/* ---- the group ---------------------------------------------------------------------------- */

static inline int group_setup(void **state) {
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

static inline int group_teardown(void **state) {
    (void)state;
    return th_server_stop(&srv);
}

#endif
