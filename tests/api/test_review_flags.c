/* Reviewer flags through the real server over HTTP (issue 18, point 5): a supervisor acknowledges
 * a record's flags with a comment and the FLAGGED queue empties, until a new flag puts the record
 * back; photos of trace nodes and of finished remediation are taken away from the outfall by
 * nature and never raise photo_far_from_site (the outfall's own field photos still do); the plan
 * rules' flags (rules 3 and 4) of approved outfalls reach the queue. */
#include "tests/api/review_fixture.h"

#include "common/credit_code.h"

#define PHOTO(x) OUTFALL__V1__PHOTO_KIND__PHOTO_KIND_##x
#define SITE_LAT 35.08621 /* where qinhe-outfall-a-1.jpg was taken */
#define SITE_LON 112.95124
#define FAR_PHOTO "far-from-claimed-site.jpg" /* about 30 km from the site */
#define FAR_TIME "2026:03:14 16:05:10"

/* A fresh copy of fixture name uploaded by u (so u holds it); its hash into hash. */
static void upload(th_user *u, const char *name, char hash[65]) {
    th_file f;
    assert_int_equal(th_photo_variant(name, &f, hash), 0);
    long st = th_photo_put(&srv, u->token, hash, f.data, f.len, NULL);
    assert_true(st == 200 || st == 201);
    th_file_free(&f);
}

/* An observation by alice of outfall_id at the site, seen when FAR_PHOTO was taken, naming the
 * photos hashes[i] of kinds[i] (n of them); its id into id. */
static void observe(const char *outfall_id, char hashes[][65], const int *kinds, size_t n,
                    char id[37]) {
    th_batch *b = th_batch_new(&dev_a);
    Outfall__V1__Observation *o = th_observation_create(b, outfall_id, SITE_LAT, SITE_LON);
    o->observed_at_ms = th_plus8_ms(FAR_TIME);
    for (size_t i = 0; i < n; i++)
        th_observation_photo(b, o, hashes[i], kinds[i]);
    util_strlcpy(id, th_batch_entity(b, 0), 37);
    Outfall__V1__SyncResponse *resp = sync_as(&alice, b);
    expect(resp->results[0], "APPLIED", 1);
    outfall__v1__sync_response__free_unpacked(resp, NULL);
}

/* The observation as u reads it (freed by the caller). */
static Outfall__V1__Observation *observation(th_user *u, const char *id) {
    Outfall__V1__Observation *o = NULL;
    assert_int_equal(th_get_observation(&srv, u->token, id, &o, NULL), 200);
    return o;
}

/* The observation's flags joined with commas ("" for none) into out[256]. */
static void flags_of(const char *id, char out[256]) {
    Outfall__V1__Observation *o = observation(&sup_city, id);
    th_flags_join(o->flags, o->n_flags, out, 256);
    outfall__v1__observation__free_unpacked(o, NULL);
}

static int64_t version_of(const char *obs_id) {
    Outfall__V1__Observation *o = observation(&sup_city, obs_id);
    int64_t v = o->version;
    outfall__v1__observation__free_unpacked(o, NULL);
    return v;
}

/* The number of FLAGGED items of u's queue for query (its counts, over the whole queue). */
static int64_t flagged_count(th_user *u, const char *query) {
    Outfall__V1__ReviewQueue *q = queue_as(u, query);
    int64_t n = 0;
    for (size_t i = 0; i < q->n_counts; i++)
        if (q->counts[i]->kind == ITEM(FLAGGED)) n = q->counts[i]->count;
    outfall__v1__review_queue__free_unpacked(q, NULL);
    return n;
}

/* An ACKNOWLEDGE_FLAGS decision on observation obs of outfall at base (obs NULL: the outfall's
 * own flags, base its version). */
static void acknowledge_init(decision *x, const char *outfall, const char *obs, int64_t base,
                             const char *comment, char obs_buf[37]) {
    decision_init(x, KIND(ACKNOWLEDGE_FLAGS), outfall, base, comment);
    if (obs) {
        util_strlcpy(obs_buf, obs, 37);
        x->d.observation_id = obs_buf;
    }
}

/* ---- photos away from the outfall ------------------------------------------------------- */

static void trace_node_and_remediation_photos_far_from_the_outfall_raise_no_flag(void **state) {
    (void)state;
    char outfall[37], obs[37], flags[256], hashes[3][65];
    create(T_OTHER, "溯源", outfall);
    for (int i = 0; i < 3; i++)
        upload(&alice, FAR_PHOTO, hashes[i]);
    /* A trace node up the pipe, and the plant the outfall now discharges into: no flag. */
    int trace[] = {PHOTO(TRACE_NODE)}, done[] = {PHOTO(REMEDIATION_DONE)};
    observe(outfall, &hashes[0], trace, 1, obs);
    flags_of(obs, flags);
    assert_string_equal(flags, "");
    observe(outfall, &hashes[1], done, 1, obs);
    flags_of(obs, flags);
    assert_string_equal(flags, "");
    /* The same picture as the outfall's own near photo is still far from the site. */
    int near[] = {PHOTO(NEAR)};
    observe(outfall, &hashes[2], near, 1, obs);
    flags_of(obs, flags);
    assert_string_equal(flags, "photo_far_from_site");
    /* One far field photo among trace nodes still flags the observation. */
    char mixed[2][65];
    util_strlcpy(mixed[0], hashes[0], 65);
    util_strlcpy(mixed[1], hashes[2], 65);
    int kinds[] = {PHOTO(TRACE_NODE), PHOTO(FAR)};
    observe(outfall, mixed, kinds, 2, obs);
    flags_of(obs, flags);
    assert_string_equal(flags, "photo_far_from_site");
}

/* ---- acknowledging flags ---------------------------------------------------------------- */

static void acknowledged_flags_leave_the_queue_until_a_new_flag_is_raised(void **state) {
    (void)state;
    /* DIV_Q holds no other flagged record of this binary: its FLAGGED count is exact. */
    char outfall[37], other[37], obs[37], obs_buf[37], hash[65];
    double lat, lon;
    th_spot(&lat, &lon);
    create_at(&alice, &dev_a, DIV_Q, "qinhe", T_OTHER, lat, lon, "标记", "APPLIED", outfall);
    th_spot(&lat, &lon);
    create_at(&alice, &dev_a, DIV_Q, "qinhe", T_OTHER, lat, lon, "另一个", "APPLIED", other);
    upload(&alice, FAR_PHOTO, hash);
    int near[] = {PHOTO(NEAR)};
    observe(outfall, &hash, near, 1, obs);
    const char *query = "kind=FLAGGED&division=" DIV_Q "&limit=500";
    assert_int_equal(flagged_count(&sup_city, query), 1);
    int64_t v = version_of(obs);

    /* Refusals change nothing: no comment, a stale version, another outfall's observation, a
     * supervisor of another county, a bad observation id. */
    decision x;
    acknowledge_init(&x, outfall, obs, v, NULL, obs_buf);
    decide_refused(sup_city.token, &x, 400, "comment_required");
    acknowledge_init(&x, outfall, obs, v, "", obs_buf);
    decide_refused(sup_city.token, &x, 400, "comment_required");
    acknowledge_init(&x, outfall, obs, v + 1, "照片拍于下游取样点，已核实", obs_buf);
    decide_refused(sup_city.token, &x, 409, "stale_version");
    acknowledge_init(&x, other, obs, v, "照片拍于下游取样点，已核实", obs_buf);
    x.d.base_version = 1;
    decide_refused(sup_city.token, &x, 400, "invalid_decision");
    acknowledge_init(&x, outfall, obs, v, "照片拍于下游取样点，已核实", obs_buf);
    decide_refused(sup_other.token, &x, 403, "outside_division");
    acknowledge_init(&x, outfall, "not-a-uuid", v, "照片拍于下游取样点，已核实", obs_buf);
    decide_refused(sup_city.token, &x, 400, "invalid_decision");
    assert_int_equal(flagged_count(&sup_city, query), 1);

    /* Acknowledged with a comment: the flag stays beside the field facts, the queue empties. */
    acknowledge_init(&x, outfall, obs, v, "照片拍于下游取样点，已核实", obs_buf);
    Outfall__V1__DecisionResult *res = decide_ok(&sup_city, &x);
    assert_non_null(res->observation);
    assert_true(th_has(res->observation->flags, res->observation->n_flags, "photo_far_from_site"));
    assert_true(th_has(res->observation->acknowledged_flags, res->observation->n_acknowledged_flags,
                       "photo_far_from_site"));
    outfall__v1__decision_result__free_unpacked(res, NULL);
    assert_int_equal(flagged_count(&sup_city, query), 0);
    assert_false(queued(&sup_city, ITEM(FLAGGED), outfall));
    /* Audited with its comment. */
    assert_int_equal(th_db_count(&srv,
                                 "SELECT count(*) FROM audit WHERE action = "
                                 "'review.acknowledge_flags' AND outcome = 'ok' AND detail = ?",
                                 "照片拍于下游取样点，已核实"),
                     1);
    /* Nothing left to acknowledge. */
    acknowledge_init(&x, outfall, obs, v + 1, "再确认", obs_buf);
    decide_refused(sup_city.token, &x, 409, "not_open");

    /* The phone adds a photo without a geotag: a new flag, and the record is back. */
    char no_gps[65];
    upload(&alice, "no-gps.jpg", no_gps);
    th_batch *b = th_batch_new(&dev_a);
    Outfall__V1__Change *ch = th_batch_change(b, obs, v + 1);
    Outfall__V1__Observation *o = th_batch_alloc(b, sizeof *o);
    Outfall__V1__Observation init = OUTFALL__V1__OBSERVATION__INIT;
    *o = init;
    ch->entity_case = OUTFALL__V1__CHANGE__ENTITY_OBSERVATION;
    ch->observation = o;
    th_observation_photo(b, o, hash, PHOTO(NEAR));
    th_observation_photo(b, o, no_gps, PHOTO(FAR));
    Outfall__V1__SyncResponse *resp = sync_as(&alice, b);
    expect(resp->results[0], "APPLIED", v + 2);
    outfall__v1__sync_response__free_unpacked(resp, NULL);
    assert_int_equal(flagged_count(&sup_city, query), 1);
    acknowledge_init(&x, outfall, obs, v + 2, "无定位照片为远景，已核实", obs_buf);
    res = decide_ok(&sup_city, &x);
    outfall__v1__decision_result__free_unpacked(res, NULL);
    assert_int_equal(flagged_count(&sup_city, query), 0);
}

/* Alice edits observation obs at base to name photo hash of kind, seen at at_ms; it is at base+1.
 */
static void rephotograph(const char *obs, int64_t base, const char *hash, int64_t at_ms) {
    th_batch *b = th_batch_new(&dev_a);
    Outfall__V1__Change *ch = th_batch_change(b, obs, base);
    Outfall__V1__Observation *o = th_batch_alloc(b, sizeof *o);
    Outfall__V1__Observation init = OUTFALL__V1__OBSERVATION__INIT;
    *o = init;
    o->has_observed_at_ms = 1;
    o->observed_at_ms = at_ms;
    th_observation_photo(b, o, hash, PHOTO(NEAR));
    ch->entity_case = OUTFALL__V1__CHANGE__ENTITY_OBSERVATION;
    ch->observation = o;
    Outfall__V1__SyncResponse *resp = sync_as(&alice, b);
    expect(resp->results[0], "APPLIED", base + 1);
    outfall__v1__sync_response__free_unpacked(resp, NULL);
}

static void a_flag_that_cleared_and_is_raised_again_is_new(void **state) {
    (void)state;
    char outfall[37], obs[37], obs_buf[37], far[65], at_site[65], flags[256];
    create(T_OTHER, "复现", outfall);
    upload(&alice, FAR_PHOTO, far);
    upload(&alice, "qinhe-outfall-a-1.jpg", at_site);
    int near[] = {PHOTO(NEAR)};
    observe(outfall, &far, near, 1, obs);
    decision x;
    acknowledge_init(&x, outfall, obs, 1, "已核实", obs_buf);
    outfall__v1__decision_result__free_unpacked(decide_ok(&sup, &x), NULL);
    assert_false(queued(&sup, ITEM(FLAGGED), outfall));
    /* The phone replaces the photo with one taken at the site: no flag, nothing acknowledged. */
    rephotograph(obs, 2, at_site, 1773454925000LL /* when it was taken, +08:00 */);
    flags_of(obs, flags);
    assert_string_equal(flags, "");
    Outfall__V1__Observation *o = observation(&sup, obs);
    assert_int_equal(o->n_acknowledged_flags, 0);
    outfall__v1__observation__free_unpacked(o, NULL);
    /* Back to the far photo: the flag is raised anew and holds the record again. */
    rephotograph(obs, 3, far, th_plus8_ms(FAR_TIME));
    flags_of(obs, flags);
    assert_string_equal(flags, "photo_far_from_site");
    assert_true(queued(&sup, ITEM(FLAGGED), outfall));
}

/* ---- plan rules of approved outfalls ---------------------------------------------------- */

/* Moves approved outfall id at version *v one lifecycle step as sup; *v gets the new version. */
static void transition(const char *id, int64_t *v, int stage, Outfall__V1__ResponsibleParty *party,
                       Outfall__V1__RemediationPlan *plan) {
    char tid[37];
    th_uuid(tid);
    Outfall__V1__LifecycleTransition t = OUTFALL__V1__LIFECYCLE_TRANSITION__INIT;
    t.transition_id = tid;
    t.outfall_id = (char *)id;
    t.has_base_version = t.has_to_stage = 1;
    t.base_version = *v;
    t.to_stage = (Outfall__V1__LifecycleStage)stage;
    t.responsible_party = party;
    t.plan = plan;
    ProtobufCMessage *tr = NULL;
    th_error e;
    long st = th_call(&srv, "POST", "/v1/programme/transitions", sup.token, TH_PB, &t.base,
                      &outfall__v1__transition_result__descriptor, &tr, &e);
    if (st != 200) print_message("transition: %ld %s %s\n", st, e.code, e.message);
    assert_int_equal(st, 200);
    *v = ((Outfall__V1__TransitionResult *)tr)->outfall->version;
    protobuf_c_message_free_unpacked(tr, NULL);
}

static void rule_flags_of_approved_outfalls_reach_the_queue_and_can_be_acknowledged(void **state) {
    (void)state;
    char id[37], code[64], credit[19];
    create(TYPE(INDUSTRIAL_ENTERPRISE), "园区企业排口", id);
    approve(id, 1, code);
    int64_t v = 2;
    memcpy(credit, "91410882MA9UW3XR", 16);
    credit[16] = '5';
    credit[17] = credit_code_check_char("91410882MA9UW3XR5");
    credit[18] = '\0';
    Outfall__V1__ResponsibleParty party = OUTFALL__V1__RESPONSIBLE_PARTY__INIT;
    party.name = "园区某企业";
    party.credit_code = credit;
    party.has_in_industrial_park = party.in_industrial_park = 1;
    transition(id, &v, OUTFALL__V1__LIFECYCLE_STAGE__LIFECYCLE_STAGE_TRACED, &party, NULL);
    assert_false(queued(&sup, ITEM(FLAGGED), id));
    /* Kept discharging to the river from inside a park: rule 4 flags it, and the queue shows it. */
    Outfall__V1__RemediationPlan plan = OUTFALL__V1__REMEDIATION_PLAN__INIT;
    plan.has_measure = 1;
    plan.measure = OUTFALL__V1__REMEDIATION_MEASURE__REMEDIATION_MEASURE_REGULARIZE;
    plan.deadline = "2030-01-01";
    transition(id, &v, OUTFALL__V1__LIFECYCLE_STAGE__LIFECYCLE_STAGE_PLANNED, NULL, &plan);
    Outfall__V1__ReviewQueue *q = queue_as(&sup, "kind=FLAGGED&limit=500");
    const Outfall__V1__ReviewItem *it = item_for(q, ITEM(FLAGGED), id);
    assert_non_null(it);
    assert_null(it->observation); /* the outfall's own flag */
    assert_non_null(it->outfall);
    assert_true(th_has(it->outfall->flags, it->outfall->n_flags, "rule4_in_park_direct_discharge"));
    outfall__v1__review_queue__free_unpacked(q, NULL);
    assert_false(queued(&sup_other, ITEM(FLAGGED), id));

    /* The supervisor accepts it with a reason: it leaves the queue, the history says who. */
    decision x;
    decision_init(&x, KIND(ACKNOWLEDGE_FLAGS), id, v, NULL);
    decide_refused(sup.token, &x, 400, "comment_required");
    decision_init(&x, KIND(ACKNOWLEDGE_FLAGS), id, v, "园区污水处理厂建成前过渡，已报市局");
    Outfall__V1__DecisionResult *res = decide_ok(&sup, &x);
    assert_true(th_has(res->outfall->acknowledged_flags, res->outfall->n_acknowledged_flags,
                       "rule4_in_park_direct_discharge"));
    outfall__v1__decision_result__free_unpacked(res, NULL);
    assert_false(queued(&sup, ITEM(FLAGGED), id));
    Outfall__V1__OutfallHistory *h = history_of(&sup, id);
    const Outfall__V1__FieldChange *c = change_at(h, "acknowledged_flags", v + 1);
    assert_non_null(c);
    assert_string_equal(TH_S(c->change_id), x.id);
    assert_string_equal(TH_S(c->username), sup.name);
    outfall__v1__outfall_history__free_unpacked(h, NULL);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(trace_node_and_remediation_photos_far_from_the_outfall_raise_no_flag),
        cmocka_unit_test(acknowledged_flags_leave_the_queue_until_a_new_flag_is_raised),
        cmocka_unit_test(a_flag_that_cleared_and_is_raised_again_is_new),
        cmocka_unit_test(rule_flags_of_approved_outfalls_reach_the_queue_and_can_be_acknowledged),
    };
    return cmocka_run_group_tests_name("review flags", tests, group_setup, group_teardown);
}
