/* The review through the real server over HTTP, part two: duplicate pairs (approval refused while
 * one is open, merge, keep apart), the approved view integrators read while an edit waits, an
 * outfall's field history, and the queue with its counts and filters. Part one,
 * tests/api/test_review.c, holds the decisions on one record; the server, people and helpers both
 * share are tests/api/review_fixture.h. */
#include "tests/api/review_fixture.h"

/* ---- helpers of these tests -------------------------------------------------------------- */

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

static const Outfall__V1__Redirect *feed_redirect(const Outfall__V1__ChangesResponse *c,
                                                  const char *from) {
    for (size_t i = 0; i < c->n_feed; i++)
        if (c->feed[i]->entry_case == OUTFALL__V1__FEED_ENTRY__ENTRY_REDIRECT &&
            strcmp(TH_S(c->feed[i]->redirect->from_id), from) == 0)
            return c->feed[i]->redirect;
    return NULL;
}

static int64_t count_of(const Outfall__V1__ReviewQueue *q, int kind) {
    for (size_t i = 0; i < q->n_counts; i++)
        if ((int)q->counts[i]->kind == kind) return q->counts[i]->count;
    return 0;
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

static void decision_pair(decision *x, int64_t duplicate_id, const char *survivor) {
    x->d.has_duplicate_id = 1;
    x->d.duplicate_id = duplicate_id;
    if (survivor) {
        util_strlcpy(x->survivor, survivor, sizeof x->survivor);
        x->d.survivor_id = x->survivor;
    }
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

static void merge_keeps_the_fields_chosen_from_the_other_record(void **state) {
    (void)state;
    /* a is approved; b, found 10 m away later, has the better position and the right type. */
    char a[37], b[37];
    double lat, lon;
    th_spot(&lat, &lon);
    create_at(&alice, &dev_a, DIV, "qinhe", T_OTHER, lat, lon, "上游", "APPLIED", a);
    approve(a, 1, NULL);
    th_batch *bt = th_batch_new(&dev_b);
    Outfall__V1__Outfall *o = th_outfall_create(bt, "qinhe", DIV, lat + DLAT_10M, lon);
    o->landmark = "下游";
    o->has_type = 1;
    o->type = TYPE(MUNICIPAL_WWTP);
    util_strlcpy(b, th_batch_entity(bt, 0), 37);
    Outfall__V1__SyncResponse *resp = sync_as(&bob, bt);
    expect(resp->results[0], "DUPLICATE_SUSPECT", 1);
    outfall__v1__sync_response__free_unpacked(resp, NULL);
    int64_t dup = open_duplicate(&sup, b);
    assert_true(dup > 0);

    /* A field a merge does not take, and take_from_other outside a merge, change nothing. */
    decision x;
    char *bad[] = {"position", "code"}, *apart[] = {"type"}, *take[] = {"position", "type"};
    decision_init(&x, KIND(MERGE_DUPLICATE), b, 1, "同一排口");
    decision_pair(&x, dup, a);
    x.d.n_take_from_other = 2;
    x.d.take_from_other = bad;
    decide_refused(sup.token, &x, 400, "invalid_decision");
    decision_init(&x, KIND(KEEP_APART), b, 1, "两个排口");
    decision_pair(&x, dup, NULL);
    x.d.n_take_from_other = 1;
    x.d.take_from_other = apart;
    decide_refused(sup.token, &x, 400, "invalid_decision");

    decision_init(&x, KIND(MERGE_DUPLICATE), b, 1, "同一排口，取新记录的位置和类型");
    decision_pair(&x, dup, a);
    x.d.n_take_from_other = 2;
    x.d.take_from_other = take;
    Outfall__V1__DecisionResult *res = decide_ok(&sup, &x);
    const Outfall__V1__Outfall *s = res->outfall;
    assert_string_equal(TH_S(s->id), a);
    assert_true(s->lat == lat + DLAT_10M && s->lon == lon);
    assert_int_equal(s->type, TYPE(MUNICIPAL_WWTP));
    assert_string_equal(TH_S(s->landmark), "上游"); /* not chosen: the survivor's own */
    /* It was approved at its latest version: the supervisor's choice stays approved. */
    assert_int_equal(s->approved_version, s->version);
    int64_t v = s->version;
    outfall__v1__decision_result__free_unpacked(res, NULL);
    Outfall__V1__Outfall *pub = read_as(&integ, a, NULL);
    assert_int_equal(pub->type, TYPE(MUNICIPAL_WWTP));
    outfall__v1__outfall__free_unpacked(pub, NULL);
    Outfall__V1__OutfallHistory *h = history_of(&sup, a);
    const char *fields[] = {"lat", "type"};
    for (size_t i = 0; i < 2; i++) {
        const Outfall__V1__FieldChange *c = change_at(h, fields[i], v);
        assert_non_null(c);
        assert_string_equal(TH_S(c->change_id), x.id);
    }
    assert_null(change_at(h, "landmark", v));
    outfall__v1__outfall_history__free_unpacked(h, NULL);
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

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(approval_is_refused_while_a_duplicate_is_open),
        cmocka_unit_test(merge_moves_observations_and_photos_and_redirects_later_phone_edits),
        cmocka_unit_test(
            edit_of_merged_id_from_a_version_beyond_the_survivors_lands_on_the_survivor),
        cmocka_unit_test(merge_keeps_the_fields_chosen_from_the_other_record),
        cmocka_unit_test(keep_apart_clears_the_duplicate_suspect_flag),
        cmocka_unit_test(integrator_reads_the_approved_version_while_a_field_edit_waits),
        cmocka_unit_test(history_names_who_which_device_and_which_change_for_each_field),
        cmocka_unit_test(queue_counts_each_kind_and_filters_by_kind_division_and_river),
    };
    return cmocka_run_group_tests_name("review API: duplicates, history, queue", tests, group_setup,
                                       group_teardown);
}
