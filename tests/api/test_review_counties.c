/* A duplicate-suspect pair across two counties (sync/queue.c, sync/review.c): each county's
 * supervisor sees that a suspect exists in the other county and that the city decides, never
 * the other county's unapproved record; neither merges nor keeps them apart (refused with
 * duplicate_cross_county_city_decides); the city-level supervisor sees both in full and merges,
 * taking the better fields of the other record. Every read path is tried for the other county's
 * record: the queue, the record, its history, its observation, the feed and the lists. */
#include "tests/api/review_fixture.h"

#define DIV_B "410822" /* 博爱县: upstream on the Qin, beside DIV (沁阳市) */

/* What the county B record holds that county A must never read, and the other way round. */
#define B_CREDIT "91410822MA9B000001"
#define B_CONTACT "王五乙厂联系人"
#define B_PHONE "13912340001"
#define B_ADDRESS "博爱县乙厂路一号"
#define B_NOTE "乙县观察记录备注"
#define A_PHONE "13712340002"
#define A_TYPE OUTFALL__V1__OUTFALL_TYPE__OUTFALL_TYPE_MUNICIPAL_WWTP

static th_user carol; /* surveyor of DIV_B */
static th_user sup_b; /* supervisor of DIV_B */
static th_device dev_c;

static char rec_a[37], rec_b[37], obs_b[37];

/* Creates the county B record with its responsible party, an observation of it, and alice's
 * county A record 10 m away on the same river: the suspect. */
static int setup(void **state) {
    const char *in_b[] = {DIV_B, NULL};
    if (group_setup(state) != 0 ||
        th_user_new(&srv, "surveyor-c", TH_ROLE(SURVEYOR), in_b, &carol) != 0 ||
        th_user_new(&srv, "supervisor-b", TH_ROLE(SUPERVISOR), in_b, &sup_b) != 0 ||
        th_device_new(&srv, carol.token, &dev_c) != 0)
        return -1;
    double lat, lon;
    th_spot(&lat, &lon);
    th_batch *b = th_batch_new(&dev_c);
    Outfall__V1__Outfall *o = th_outfall_create(b, "qinhe", DIV_B, lat, lon);
    o->name = "乙县排口";
    Outfall__V1__ResponsibleParty *rp = th_outfall_party(b, o);
    rp->name = "乙厂";
    rp->credit_code = B_CREDIT;
    rp->contact = B_CONTACT;
    rp->phone = B_PHONE;
    rp->address = B_ADDRESS;
    util_strlcpy(rec_b, th_batch_entity(b, 0), sizeof rec_b);
    Outfall__V1__Observation *ob = th_observation_create(b, rec_b, lat, lon);
    ob->notes = B_NOTE;
    util_strlcpy(obs_b, th_batch_entity(b, 1), sizeof obs_b);
    Outfall__V1__SyncResponse *resp = th_sync_ok(&srv, carol.token, b, TH_PB);
    th_batch_free(b);
    if (!resp) return -1;
    outfall__v1__sync_response__free_unpacked(resp, NULL);

    b = th_batch_new(&dev_a);
    o = th_outfall_create(b, "qinhe", DIV, lat + DLAT_10M, lon);
    o->name = "甲县排口";
    o->has_type = 1; /* county A's surveyor told the type; county B's did not */
    o->type = A_TYPE;
    th_outfall_party(b, o)->phone = A_PHONE;
    util_strlcpy(rec_a, th_batch_entity(b, 0), sizeof rec_a);
    resp = th_sync_ok(&srv, alice.token, b, TH_PB);
    th_batch_free(b);
    if (!resp) return -1;
    int suspect =
        resp->results[0]->status == OUTFALL__V1__CHANGE_STATUS__CHANGE_STATUS_DUPLICATE_SUSPECT &&
        strcmp(TH_S(resp->results[0]->duplicate_of), rec_b) == 0;
    outfall__v1__sync_response__free_unpacked(resp, NULL);
    return suspect ? 0 : -1;
}

/* GET path as u in JSON: the status, and whether the body holds any of the strings. */
static long get_raw(th_user *u, const char *path, const char *const *secrets, int *leaked) {
    th_request rq = {.method = "GET", .path = path, .accept = TH_JSON, .token = u->token};
    th_response r;
    long st = th_http(&srv, &rq, &r);
    *leaked = 0;
    for (const char *const *sec = secrets; *sec; sec++)
        if (r.body && strstr((const char *)r.body, *sec)) {
            print_message("GET %s as %s shows %s\n", path, u->name, *sec);
            *leaked = 1;
        }
    th_response_free(&r);
    return st;
}

static const char *const b_secrets[] = {B_CREDIT, B_CONTACT, B_PHONE, B_ADDRESS, B_NOTE, NULL};
static const char *const a_secrets[] = {A_PHONE, NULL};

/* The DUPLICATE item of u's queue about outfall id, asserting there is exactly one such. */
static const Outfall__V1__ReviewItem *dup_item(const Outfall__V1__ReviewQueue *q, const char *id) {
    const Outfall__V1__ReviewItem *found = NULL;
    for (size_t i = 0; i < q->n_items; i++)
        if (q->items[i]->kind == ITEM(DUPLICATE) && q->items[i]->duplicate &&
            (strcmp(TH_S(q->items[i]->duplicate->outfall_id), id) == 0 ||
             strcmp(TH_S(q->items[i]->duplicate->neighbour_id), id) == 0)) {
            assert_null(found);
            found = q->items[i];
        }
    assert_non_null(found);
    return found;
}

static void county_supervisors_see_that_the_city_decides_not_the_other_record(void **state) {
    (void)state;
    int leaked;
    /* County A's supervisor: the suspect, and of county B's record its id and county only. */
    assert_int_equal(get_raw(&sup, "/v1/review/queue?limit=500", b_secrets, &leaked), 200);
    assert_false(leaked);
    Outfall__V1__ReviewQueue *q = queue_as(&sup, "limit=500");
    const Outfall__V1__ReviewItem *it = dup_item(q, rec_a);
    assert_string_equal(TH_S(it->outfall_id), rec_a);
    assert_string_equal(TH_S(it->duplicate->outfall_id), rec_a);
    assert_string_equal(TH_S(it->duplicate->neighbour_id), rec_b);
    assert_null(it->duplicate->neighbour);
    assert_true(it->duplicate->has_city_decides && it->duplicate->city_decides);
    assert_string_equal(TH_S(it->duplicate->outfall_division_code), DIV);
    assert_string_equal(TH_S(it->duplicate->neighbour_division_code), DIV_B);
    outfall__v1__review_queue__free_unpacked(q, NULL);

    /* County B's supervisor hears of it too (their record's approval waits on it), the same way. */
    assert_int_equal(get_raw(&sup_b, "/v1/review/queue?limit=500", a_secrets, &leaked), 200);
    assert_false(leaked);
    q = queue_as(&sup_b, "limit=500");
    it = dup_item(q, rec_b);
    assert_string_equal(TH_S(it->outfall_id), rec_b);
    assert_string_equal(TH_S(it->duplicate->outfall_id), rec_a);
    assert_true(it->duplicate->city_decides);
    assert_string_equal(TH_S(it->duplicate->outfall_division_code), DIV);
    assert_string_equal(TH_S(it->duplicate->neighbour_division_code), DIV_B);
    outfall__v1__review_queue__free_unpacked(q, NULL);
}

static void every_read_path_hides_the_other_countys_record(void **state) {
    (void)state;
    char path[160];
    int leaked;
    const struct {
        const char *fmt;
        const char *id;
    } paths[] = {
        {"/v1/outfalls/%s", rec_b},         {"/v1/outfalls/%s?view=latest", rec_b},
        {"/v1/outfalls/%s/history", rec_b}, {"/v1/observations/%s", obs_b},
        {"/v1/outfalls/%s/history", rec_a}, /* their own record's history names no B field */
    };
    for (size_t i = 0; i < sizeof paths / sizeof *paths; i++) {
        snprintf(path, sizeof path, paths[i].fmt, paths[i].id);
        long st = get_raw(&sup, path, b_secrets, &leaked);
        assert_false(leaked);
        assert_int_equal(st, paths[i].id == rec_a ? 200 : 404);
    }
    const char *lists[] = {
        "/v1/outfalls?limit=1000",        "/v1/outfalls?division=" DIV_B,
        "/v1/changes?since=0&limit=1000", "/v1/review/queue?division=" DIV_B "&limit=500",
        "/v1/exports/outfalls.csv",       "/v1/exports/outfalls.geojson"};
    for (size_t i = 0; i < sizeof lists / sizeof *lists; i++) {
        get_raw(&sup, lists[i], b_secrets, &leaked);
        assert_false(leaked);
        get_raw(&alice, lists[i], b_secrets,
                &leaked); /* nor A's surveyors (they cover DIV_Q too) */
        assert_false(leaked);
    }
}

static void county_supervisors_may_not_decide_the_pair(void **state) {
    (void)state;
    Outfall__V1__ReviewQueue *q = queue_as(&sup, "limit=500");
    int64_t dup_id = dup_item(q, rec_a)->duplicate->id;
    outfall__v1__review_queue__free_unpacked(q, NULL);
    Outfall__V1__Outfall *a = read_as(&sup, rec_a, NULL);
    int64_t va = a->version;
    outfall__v1__outfall__free_unpacked(a, NULL);
    Outfall__V1__Outfall *b = read_as(&sup_b, rec_b, NULL);
    int64_t vb = b->version;
    outfall__v1__outfall__free_unpacked(b, NULL);

    const struct {
        th_user *who;
        const char *outfall;
        int64_t base;
        int kind;
        const char *survivor;
    } tries[] = {
        {&sup, rec_a, va, KIND(MERGE_DUPLICATE), rec_a},
        {&sup, rec_a, va, KIND(MERGE_DUPLICATE), rec_b},
        {&sup, rec_a, va, KIND(KEEP_APART), NULL},
        {&sup_b, rec_b, vb, KIND(MERGE_DUPLICATE), rec_b},
        {&sup_b, rec_b, vb, KIND(KEEP_APART), NULL},
    };
    for (size_t i = 0; i < sizeof tries / sizeof *tries; i++) {
        decision x;
        decision_init(&x, tries[i].kind, tries[i].outfall, tries[i].base, "同一个排口");
        x.d.has_duplicate_id = 1;
        x.d.duplicate_id = dup_id;
        if (tries[i].survivor) {
            util_strlcpy(x.survivor, tries[i].survivor, sizeof x.survivor);
            x.d.survivor_id = x.survivor;
        }
        decide_refused(tries[i].who->token, &x, 403, "duplicate_cross_county_city_decides");
    }
    /* Nor approve their own record while the city has not decided. */
    decision x;
    decision_init(&x, KIND(APPROVE), rec_b, vb, NULL);
    decide_refused(sup_b.token, &x, 409, "open_duplicate");
}

static void the_city_sees_both_in_full_once_and_merges(void **state) {
    (void)state;
    int leaked;
    const char *none[] = {NULL};
    assert_int_equal(get_raw(&sup_city, "/v1/review/queue?limit=500", none, &leaked), 200);
    Outfall__V1__ReviewQueue *q = queue_as(&sup_city, "limit=500");
    const Outfall__V1__ReviewItem *it = dup_item(q, rec_a); /* once, about the suspect */
    assert_string_equal(TH_S(it->outfall_id), rec_a);
    assert_true(it->duplicate->city_decides);
    assert_non_null(it->duplicate->neighbour);
    assert_non_null(it->duplicate->neighbour->responsible_party);
    assert_string_equal(TH_S(it->duplicate->neighbour->responsible_party->credit_code), B_CREDIT);
    assert_string_equal(TH_S(it->duplicate->neighbour->responsible_party->phone), B_PHONE);
    int64_t dup_id = it->duplicate->id;
    outfall__v1__review_queue__free_unpacked(q, NULL);
    /* Asked for county B only, the city sees the pair from B's side. */
    q = queue_as(&sup_city, "division=" DIV_B "&limit=500");
    assert_string_equal(TH_S(dup_item(q, rec_b)->outfall_id), rec_b);
    outfall__v1__review_queue__free_unpacked(q, NULL);

    /* The city keeps county B's record, with county A's better position and its type. */
    Outfall__V1__Outfall *a = read_as(&sup_city, rec_a, NULL);
    double a_lat = a->lat, a_lon = a->lon;
    decision x;
    decision_init(&x, KIND(MERGE_DUPLICATE), rec_a, a->version, "同一个排口，保留乙县记录");
    outfall__v1__outfall__free_unpacked(a, NULL);
    x.d.has_duplicate_id = 1;
    x.d.duplicate_id = dup_id;
    util_strlcpy(x.survivor, rec_b, sizeof x.survivor);
    x.d.survivor_id = x.survivor;
    char *take[] = {"position", "type"};
    x.d.n_take_from_other = 2;
    x.d.take_from_other = take;
    Outfall__V1__DecisionResult *res = decide_ok(&sup_city, &x);
    assert_string_equal(TH_S(res->outfall->id), rec_b);
    assert_true(res->outfall->lat == a_lat && res->outfall->lon == a_lon);
    assert_int_equal(res->outfall->type, A_TYPE);
    assert_string_equal(TH_S(res->outfall->division_code), DIV_B); /* not taken: B's still */
    assert_string_equal(TH_S(res->outfall->name), "乙县排口");
    int64_t v = res->outfall->version;
    outfall__v1__decision_result__free_unpacked(res, NULL);
    /* The history names the decision that set them. */
    Outfall__V1__OutfallHistory *h = history_of(&sup_city, rec_b);
    const char *fields[] = {"lat", "lon", "type"};
    for (size_t i = 0; i < 3; i++) {
        const Outfall__V1__FieldChange *c = change_at(h, fields[i], v);
        assert_non_null(c);
        assert_string_equal(TH_S(c->change_id), x.id);
    }
    outfall__v1__outfall_history__free_unpacked(h, NULL);
    assert_false(queued(&sup, ITEM(DUPLICATE), rec_a));
    assert_false(queued(&sup_b, ITEM(DUPLICATE), rec_b));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(county_supervisors_see_that_the_city_decides_not_the_other_record),
        cmocka_unit_test(every_read_path_hides_the_other_countys_record),
        cmocka_unit_test(county_supervisors_may_not_decide_the_pair),
        cmocka_unit_test(the_city_sees_both_in_full_once_and_merges),
    };
    return cmocka_run_group_tests_name("review across counties", tests, setup, group_teardown);
}
