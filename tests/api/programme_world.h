/* What the programme's tests over HTTP share (tests/api/test_programme.c: lifecycle, zones and
 * progress; tests/api/test_programme_reports.c: exports and the annual report): a server with a
 * city, a county and another county's supervisor, surveyors of 沁阳市 and 孟州市 and an
 * integrator; approved outfalls; lifecycle transitions made and posted; and the three 孟州市
 * outfalls the progress, export and report tests read. Included by those two files only. */
#ifndef TESTS_API_PROGRAMME_WORLD_H
#define TESTS_API_PROGRAMME_WORLD_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "common/credit_code.h"
#include "common/util.h"
#include "tests/lib/harness.h"

#define DIV "410882"    /* 沁阳市: most tests */
#define DIV_MZ "410883" /* 孟州市: progress and exports only */

static th_server srv;
static th_user city_sup, county_sup, other_sup, surveyor, surveyor_mz, integrator;
static th_device dev, dev_mz;

/* ---- set-up helpers ------------------------------------------------------------------------- */

/* Creates an outfall of type in division (surveyor's phone there), approved by the city
 * supervisor; id gets its id. entry is an EntryMethod (0: none). */
static void create_approved(const char *division, const char *river, double lat, double lon,
                            int type, int entry, char id[37]) {
    th_user *u = strcmp(division, DIV_MZ) == 0 ? &surveyor_mz : &surveyor;
    th_device *d = strcmp(division, DIV_MZ) == 0 ? &dev_mz : &dev;
    th_batch *b = th_batch_new(d);
    Outfall__V1__Outfall *o = th_outfall_create(b, river, division, lat, lon);
    o->name = "沁河排口";
    if (type) o->has_type = 1, o->type = type;
    if (entry) o->has_entry_method = 1, o->entry_method = entry;
    util_strlcpy(id, th_batch_entity(b, 0), 37);
    Outfall__V1__SyncResponse *resp = th_sync_ok(&srv, u->token, b, TH_PB);
    assert_non_null(resp);
    assert_int_equal(resp->results[0]->status, TH_STATUS(APPLIED));
    outfall__v1__sync_response__free_unpacked(resp, NULL);
    th_batch_free(b);

    assert_int_equal(th_approve(&srv, city_sup.token, id, 1, NULL), 200);
    th_first_seen_at_start(&srv, id);
}

/* A transition being built: the message and the strings it points at. */
typedef struct move {
    Outfall__V1__LifecycleTransition t;
    Outfall__V1__ResponsibleParty party;
    Outfall__V1__RemediationPlan plan;
    char tid[37];
    char code[19];
} move;

/* Starts a transition of outfall id from version base to stage, effective on date (NULL: today). */
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
}

/* Gives the transition a party with a valid credit code made from first17. */
static void move_party(move *m, const char *name, const char *first17) {
    memcpy(m->code, first17, 17);
    m->code[17] = credit_code_check_char(first17);
    m->party.name = (char *)name;
    m->party.credit_code = m->code;
    m->t.responsible_party = &m->party;
}

/* Gives the transition a remediation plan: measure, due on deadline (may be NULL). */
static void move_plan(move *m, int measure, const char *deadline) {
    m->plan.has_measure = 1;
    m->plan.measure = measure;
    m->plan.deadline = (char *)deadline;
    m->t.plan = &m->plan;
}

/* POSTs the transition as token in enc; on 200 *out (may be NULL) gets the result. */
static long post(const move *m, const char *token, const char *enc,
                 Outfall__V1__TransitionResult **out, th_error *e) {
    ProtobufCMessage *res = NULL;
    long st = th_call(&srv, "POST", "/v1/programme/transitions", token, enc, &m->t.base,
                      &outfall__v1__transition_result__descriptor, &res, e);
    if (out)
        *out = (Outfall__V1__TransitionResult *)res;
    else if (res)
        protobuf_c_message_free_unpacked(res, NULL);
    return st;
}

/* Posts and expects 200; returns the new version. */
static int64_t ok(const move *m, const char *enc) {
    Outfall__V1__TransitionResult *res = NULL;
    th_error e;
    long st = post(m, city_sup.token, enc, &res, &e);
    if (st != 200) print_message("transition: %ld %s %s\n", st, e.code, e.message);
    assert_int_equal(st, 200);
    int64_t v = res->outfall->version;
    protobuf_c_message_free_unpacked(&res->base, NULL);
    return v;
}

enum {
    FOUND = OUTFALL__V1__LIFECYCLE_STAGE__LIFECYCLE_STAGE_FOUND,
    TRACED = OUTFALL__V1__LIFECYCLE_STAGE__LIFECYCLE_STAGE_TRACED,
    PLANNED = OUTFALL__V1__LIFECYCLE_STAGE__LIFECYCLE_STAGE_PLANNED,
    REMEDIATED = OUTFALL__V1__LIFECYCLE_STAGE__LIFECYCLE_STAGE_REMEDIATED,
    CLOSED = OUTFALL__V1__LIFECYCLE_STAGE__LIFECYCLE_STAGE_CLOSED,
    RETAINED = OUTFALL__V1__LIFECYCLE_STAGE__LIFECYCLE_STAGE_RETAINED,
    BAN = OUTFALL__V1__REMEDIATION_MEASURE__REMEDIATION_MEASURE_BAN,
    MERGE = OUTFALL__V1__REMEDIATION_MEASURE__REMEDIATION_MEASURE_MERGE,
    REGULARIZE = OUTFALL__V1__REMEDIATION_MEASURE__REMEDIATION_MEASURE_REGULARIZE,
    NONE = OUTFALL__V1__REMEDIATION_MEASURE__REMEDIATION_MEASURE_NONE,
};

/* ---- 孟州市's three outfalls ---------------------------------------------------------------- */

/* Three outfalls of 孟州市 on the Yellow River: X traced, planned NONE, remediated and retained
 * in 2023; Y traced in 2024 and planned (BAN, due 2024-06-30) but never remediated; Z found only.
 */
static int progress_built; /* build_mengzhou ran */
static void build_mengzhou(void) {
    if (progress_built) return;
    progress_built = 1;
    char x[37], y[37], z[37];
    create_approved(DIV_MZ, "huanghe", 34.91, 112.80, 0, 0, x);
    create_approved(DIV_MZ, "huanghe", 34.92, 112.80, 0, 0, y);
    create_approved(DIV_MZ, "huanghe", 34.93, 112.80, 0, 0, z);
    const char *all[] = {x, y, z};
    for (int i = 0; i < 3; i++) {
        move m;
        move_init(&m, all[i], 2, FOUND, "2023-02-01");
        ok(&m, TH_PB);
    }
    move m;
    move_init(&m, x, 3, TRACED, "2023-03-01");
    move_party(&m, "孟州市某厂", "91410883MA44R7LT1");
    ok(&m, TH_PB);
    move_init(&m, x, 4, PLANNED, "2023-04-01");
    move_plan(&m, NONE, NULL);
    ok(&m, TH_PB);
    move_init(&m, x, 5, REMEDIATED, "2023-05-01");
    ok(&m, TH_PB);
    move_init(&m, x, 6, RETAINED, "2023-05-02");
    ok(&m, TH_PB);
    move_init(&m, y, 3, TRACED, "2024-01-15");
    m.t.has_party_basis = 1;
    m.t.party_basis = OUTFALL__V1__PARTY_BASIS__PARTY_BASIS_COUNTY_GOVERNMENT;
    ok(&m, TH_JSON);
    move_init(&m, y, 4, PLANNED, "2024-02-01");
    move_plan(&m, BAN, "2024-06-30");
    ok(&m, TH_JSON);
}

/* ---- the server --------------------------------------------------------------------------- */

/* Starts the server (no backdating limit) with the users and the surveyors' phones. */
static int group_setup(void **state) {
    (void)state;
    const char *div[] = {DIV, NULL}, *mz[] = {DIV_MZ, NULL}, *city[] = {"410800", NULL},
               *other[] = {"410802", NULL};
    /* Lifecycles are dated anywhere in the programme here: no backdating limit (the rule has its
     * own tests, test_dates.c). */
    const char *const args[] = {"--backdate-days", "36500", NULL};
    if (th_server_start(&srv, args) != 0) return -1;
    if (th_user_new(&srv, "sup-city", TH_ROLE(SUPERVISOR), city, &city_sup) ||
        th_user_new(&srv, "sup-qy", TH_ROLE(SUPERVISOR), div, &county_sup) ||
        th_user_new(&srv, "sup-jf", TH_ROLE(SUPERVISOR), other, &other_sup) ||
        th_user_new(&srv, "surveyor", TH_ROLE(SURVEYOR), div, &surveyor) ||
        th_user_new(&srv, "surveyor-mz", TH_ROLE(SURVEYOR), mz, &surveyor_mz) ||
        th_user_new(&srv, "integrator", TH_ROLE(INTEGRATOR), city, &integrator))
        return -1;
    if (th_device_new(&srv, surveyor.token, &dev) ||
        th_device_new(&srv, surveyor_mz.token, &dev_mz))
        return -1;
    return 0;
}

/* Stops the server; non-zero when it did not exit cleanly. */
static int group_teardown(void **state) {
    (void)state;
    return th_server_stop(&srv);
}

#endif
