/* The programme's engine tests' shared set-up (tests/programme/test_lifecycle.c and
 * test_progress.c): people, sync batches from their phones, approval, lifecycle transitions,
 * parties, plans and evidence. Header-only, like fixture.h: each test includes it once. */
#ifndef TESTS_SYNC_PROGRAMME_FIXTURE_H
#define TESTS_SYNC_PROGRAMME_FIXTURE_H

#include "tests/sync/fixture.h"

#include <ctype.h>
#include <math.h>

#include "common/credit_code.h"
#include "programme/export.h"
#include "programme/hooks.h"
#include "programme/lifecycle.h"
#include "programme/progress.h"
#include "sync/queue.h"
#include "sync/review.h"
#include "programme/zones.h"

/* 2023-01-01 00:00 China Standard Time: when the fixture's outfalls were first seen. */
#define PROGRAMME_FIRST_SEEN_MS INT64_C(1672502400000)

#define LAT 35.08621
#define LON 112.95124

typedef struct people {
    principal city;     /* a city-wide supervisor */
    principal county;   /* a supervisor of 410882 */
    principal mengzhou; /* a surveyor of 410883 with phone-m */
    int64_t mengzhou_seq;
} people;

static people who;

static inline void people_setup(fixture *f) {
    fx_user(f, &who.city, "supervisor-city", OUTFALL__V1__ROLE__ROLE_SUPERVISOR, "410800");
    fx_user(f, &who.county, "supervisor-qy", OUTFALL__V1__ROLE__ROLE_SUPERVISOR, "410882");
    fx_user(f, &who.mengzhou, "surveyor-mz", OUTFALL__V1__ROLE__ROLE_SURVEYOR, "410883");
    fx_device(f, &who.mengzhou, "phone-m");
    who.mengzhou_seq = 0;
}

static inline int setup(void **state) {
    if (fx_setup(state)) return -1;
    programme_hooks_install(); /* the engine with the programme's features, as the server runs */
    /* These tests commit hundreds of small transactions: skip the fsyncs (test data only). */
    fixture *f = *state;
    if (sqlite3_exec(store_db(f->s), "PRAGMA synchronous = OFF", NULL, NULL, NULL)) return -1;
    /* These tests date lifecycles anywhere in the programme: no backdating limit here (the rule
     * has its own tests, tests/api/test_dates.c). */
    f->cfg.backdate_days = 36500;
    people_setup(*state);
    return 0;
}

/* A valid credit code made from 17 characters. Static buffer, one at a time. */
static inline const char *code_of(const char *first17) {
    static char code[19];
    memcpy(code, first17, 17);
    code[17] = credit_code_check_char(first17);
    code[18] = '\0';
    return code;
}

static inline int64_t value(fixture *f, const char *fmt, const char *id) {
    char sql[256];
    snprintf(sql, sizeof sql, fmt, id);
    return fx_count(f, sql);
}

static inline int64_t version_of(fixture *f, const char *id) {
    return value(f, "SELECT version FROM outfalls WHERE id = '%s'", id);
}

/* One sync batch of changes (a JSON array) from the Mengzhou surveyor's phone. */
static inline void sync_mengzhou(fixture *f, const char *changes) {
    char *json = NULL, bid[UUID_STR_LEN + 1];
    util_uuid_new(bid);
    assert_true(asprintf(&json,
                         "{\"batchId\":\"%s\",\"deviceId\":\"phone-m\",\"deviceSeq\":\"%lld\","
                         "\"changes\":%s}",
                         bid, (long long)++who.mengzhou_seq, changes) > 0);
    ProtobufCMessage *req = NULL;
    char why[200];
    assert_int_equal(pbjson_decode(&outfall__v1__sync_request__descriptor, json, strlen(json), &req,
                                   why, sizeof why),
                     0);
    free(json);
    Outfall__V1__SyncResponse *resp = NULL;
    sync_error err = {0};
    assert_int_equal(
        batch_sync(f->s, &f->cfg, &who.mengzhou, (Outfall__V1__SyncRequest *)req, &resp, &err), 0);
    protobuf_c_message_free_unpacked(req, NULL);
    protobuf_c_message_free_unpacked(&resp->base, NULL);
}

static inline void sync_in(fixture *f, const char *division, const char *changes) {
    if (strcmp(division, "410883") == 0) {
        sync_mengzhou(f, changes);
        return;
    }
    Outfall__V1__SyncResponse *r = fx_sync(f, 0, changes);
    protobuf_c_message_free_unpacked(&r->base, NULL);
}

/* Creates an outfall (extra: more fields of the outfall object, starting with a comma). */
static inline void create_in(fixture *f, char id[UUID_STR_LEN + 1], const char *division,
                             const char *river, double lat, double lon, const char *extra) {
    char cid[UUID_STR_LEN + 1], *c = NULL;
    util_uuid_new(cid);
    util_uuid_new(id);
    assert_true(asprintf(&c,
                         "[{\"changeId\":\"%s\",\"entityId\":\"%s\",\"baseVersion\":\"0\","
                         "\"outfall\":{\"name\":\"排口\",\"riverCode\":\"%s\",\"divisionCode\":"
                         "\"%s\",\"lat\":%.9f,\"lon\":%.9f%s}}]",
                         cid, id, river, division, lat, lon, extra ? extra : "") > 0);
    sync_in(f, division, c);
    free(c);
    assert_int_equal(version_of(f, id), 1);
    /* The world of these tests: every outfall was first seen when the programme started
     * (2023-01-01, China Standard Time), so its lifecycle may be dated from then on. */
    char sql[160];
    snprintf(sql, sizeof sql, "UPDATE outfalls SET created_at_ms = %lld WHERE id = '%s'",
             (long long)PROGRAMME_FIRST_SEEN_MS, id);
    assert_int_equal(sqlite3_exec(store_db(f->s), sql, NULL, NULL, NULL), SQLITE_OK);
}

static inline void approve(fixture *f, const char *id) {
    char did[UUID_STR_LEN + 1], *json = NULL;
    util_uuid_new(did);
    assert_true(asprintf(&json,
                         "{\"decisionId\":\"%s\",\"kind\":\"DECISION_KIND_APPROVE\","
                         "\"outfallId\":\"%s\",\"baseVersion\":\"%lld\"}",
                         did, id, (long long)version_of(f, id)) > 0);
    ProtobufCMessage *d = NULL;
    char why[200];
    assert_int_equal(
        pbjson_decode(&outfall__v1__decision__descriptor, json, strlen(json), &d, why, sizeof why),
        0);
    free(json);
    Outfall__V1__DecisionResult *res = NULL;
    sync_error err = {0};
    int rc = review_decide(f->s, &f->cfg, &who.city, (Outfall__V1__Decision *)d, &res, &err);
    if (rc) print_message("approve: %s %s\n", err.code, err.message);
    assert_int_equal(rc, 0);
    protobuf_c_message_free_unpacked(d, NULL);
    protobuf_c_message_free_unpacked(&res->base, NULL);
}

static inline void create_approved(fixture *f, char id[UUID_STR_LEN + 1], const char *division,
                                   const char *river, double lat, double lon, const char *extra) {
    create_in(f, id, division, river, lat, lon, extra);
    approve(f, id);
}

/* Runs a transition given as JSON text; returns the result code, and the result when asked. */
static inline int transition_json(fixture *f, const principal *p, const char *json,
                                  Outfall__V1__TransitionResult **out, sync_error *err) {
    ProtobufCMessage *t = NULL;
    char why[200];
    int drc = pbjson_decode(&outfall__v1__lifecycle_transition__descriptor, json, strlen(json), &t,
                            why, sizeof why);
    if (drc) print_message("bad test transition: %s\n%s\n", why, json);
    assert_int_equal(drc, 0);
    Outfall__V1__TransitionResult *res = NULL;
    int rc =
        lifecycle_transition(f->s, &f->cfg, p, (Outfall__V1__LifecycleTransition *)t, &res, err);
    protobuf_c_message_free_unpacked(t, NULL);
    if (out)
        *out = res;
    else if (res)
        protobuf_c_message_free_unpacked(&res->base, NULL);
    return rc;
}

static inline char *transition_text(fixture *f, const char *id, const char *stage, const char *date,
                                    const char *extra) {
    char tid[UUID_STR_LEN + 1], *json = NULL, when[48] = "";
    util_uuid_new(tid);
    if (date) snprintf(when, sizeof when, ",\"effectiveDate\":\"%s\"", date);
    assert_true(asprintf(&json,
                         "{\"transitionId\":\"%s\",\"outfallId\":\"%s\",\"baseVersion\":"
                         "\"%lld\",\"toStage\":\"LIFECYCLE_STAGE_%s\"%s%s}",
                         tid, id, (long long)version_of(f, id), stage, when,
                         extra ? extra : "") > 0);
    return json;
}

/* Moves outfall id to stage on date (NULL: today) as p; returns the result code. */
static inline int move_as(fixture *f, const principal *p, const char *id, const char *stage,
                          const char *date, const char *extra, sync_error *err) {
    char *json = transition_text(f, id, stage, date, extra);
    int rc = transition_json(f, p, json, NULL, err);
    free(json);
    return rc;
}

/* The same, asserting it is applied. */
static inline void move(fixture *f, const char *id, const char *stage, const char *date,
                        const char *extra) {
    sync_error err = {0};
    int rc = move_as(f, &who.city, id, stage, date, extra, &err);
    if (rc) print_message("move to %s: %s %s\n", stage, err.code, err.message);
    assert_int_equal(rc, 0);
}

/* A party with a valid credit code, as the extra of a transition. */
static char party_buf[512];
static inline const char *party(const char *name, const char *first17, const char *more) {
    snprintf(party_buf, sizeof party_buf,
             ",\"responsibleParty\":{\"name\":\"%s\",\"creditCode\":\"%s\",\"phone\":"
             "\"0391-1234567\"%s}",
             name, code_of(first17), more ? more : "");
    return party_buf;
}

static char plan_buf[1024];
static inline const char *plan(const char *measure, const char *deadline, const char *more) {
    snprintf(plan_buf, sizeof plan_buf,
             ",\"plan\":{\"measure\":\"REMEDIATION_MEASURE_%s\"%s%s%s%s}", measure,
             deadline ? ",\"deadline\":\"" : "", deadline ? deadline : "", deadline ? "\"" : "",
             more ? more : "");
    return plan_buf;
}

/* Gives outfall id an observation naming a stored photo of kind remediation_done, uploaded (so
 * held) by the surveyors who sync here. */
static inline void evidence(fixture *f, const char *id, const char *division) {
    char hash[65], seed[64], cid[UUID_STR_LEN + 1], oid[UUID_STR_LEN + 1], *c = NULL;
    snprintf(seed, sizeof seed, "evidence %s", id);
    util_blake2b_hex(seed, strlen(seed), hash);
    char sql[320];
    snprintf(sql, sizeof sql,
             "INSERT INTO photos (hash, size, media_type, stored_at_ms) VALUES ('%s', 1, "
             "'image/jpeg', 0); INSERT INTO photo_holders (hash, user_id, at_ms) SELECT '%s', id, "
             "0 FROM users",
             hash, hash);
    assert_int_equal(sqlite3_exec(store_db(f->s), sql, NULL, NULL, NULL), SQLITE_OK);
    util_uuid_new(cid);
    util_uuid_new(oid);
    assert_true(asprintf(&c,
                         "[{\"changeId\":\"%s\",\"entityId\":\"%s\",\"baseVersion\":\"0\","
                         "\"observation\":{\"outfallId\":\"%s\",\"notes\":\"已封堵\",\"photos\":"
                         "[{\"hash\":\"%s\",\"kind\":\"PHOTO_KIND_REMEDIATION_DONE\"}]}}]",
                         cid, oid, id, hash) > 0);
    sync_in(f, division, c);
    free(c);
}

static inline Outfall__V1__Outfall *read_latest(fixture *f, const char *id) {
    Outfall__V1__Outfall *o = NULL;
    sync_error err = {0};
    assert_int_equal(feed_read_outfall_view(f->s, NULL, id, FEED_VIEW_LATEST, &o, &err), 0);
    return o;
}

#endif
