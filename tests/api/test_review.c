/* The review through the real server over HTTP, part one: supervisors' decisions on one record
 * (approve, reject, return, resolve a conflict three ways), their refusals (stale version, open
 * conflicts, reused ids, scopes and roles) and retries. Part two, tests/api/test_review_merge.c,
 * holds duplicate pairs, the approved view, history and the queue; the server, people and helpers
 * both share are tests/api/review_fixture.h. The engine-level tests of the same features are
 * tests/sync/test_review.c; these prove them on the wire. */
#include "tests/api/review_fixture.h"

#include "common/credit_code.h"

/* ---- helpers of these tests -------------------------------------------------------------- */

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

/* docs/design.md, Review: "Each decision is a change through the same engine and shows in the
 * feed." Keeping the server's value changes no field, but it is still a decision. */
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

/* ---- credit codes from phones ------------------------------------------------------------ */

/* A credit code (统一社会信用代码) from first17: with its right check character, or (wrong) with
 * the next character of the alphabet instead. out gets 19 bytes. */
static void credit_code(const char *first17, int wrong, char out[19]) {
    static const char alphabet[] = "0123456789ABCDEFGHJKLMNPQRTUWXY";
    memcpy(out, first17, 17);
    char c = credit_code_check_char(first17);
    assert_true(c != '\0');
    out[17] = wrong ? alphabet[(strchr(alphabet, c) - alphabet + 1) % 31] : c;
    out[18] = '\0';
}

/* Sends a change of outfall id (base 0: a new one of DIV on qinhe, id gets it) by u via d whose
 * responsible party carries credit; expects status (at version, 0: any). */
static void send_party_as(th_user *u, th_device *d, char id[37], int64_t base, const char *credit,
                          const char *status, int64_t version) {
    th_batch *b = th_batch_new(d);
    Outfall__V1__Outfall *o;
    if (base == 0) {
        double lat, lon;
        th_spot(&lat, &lon);
        o = th_outfall_create(b, "qinhe", DIV, lat, lon);
        o->name = "信用代码排口";
        util_strlcpy(id, th_batch_entity(b, 0), 37);
    } else {
        o = th_outfall_edit(b, id, base);
    }
    Outfall__V1__ResponsibleParty *rp = th_outfall_party(b, o);
    rp->name = "沁阳某化工有限公司";
    rp->credit_code = (char *)credit;
    Outfall__V1__SyncResponse *resp = sync_as(u, b);
    expect(resp->results[0], status, version);
    outfall__v1__sync_response__free_unpacked(resp, NULL);
}

/* send_party_as by alice. */
static void send_party(char id[37], int64_t base, const char *credit, const char *status,
                       int64_t version) {
    send_party_as(&alice, &dev_a, id, base, credit, status, version);
}

/* 1 when the latest version of outfall id carries flag credit_code_invalid; *code (may be NULL)
 * gets its stored credit code, or "" for none. */
static int credit_flagged(const char *id, char code[19]) {
    Outfall__V1__Outfall *o = read_as(&sup, id, "latest");
    int flagged = th_has(o->flags, o->n_flags, "credit_code_invalid");
    if (code)
        util_strlcpy(code, o->responsible_party ? TH_S(o->responsible_party->credit_code) : "", 19);
    outfall__v1__outfall__free_unpacked(o, NULL);
    return flagged;
}

static void
phone_credit_code_failing_its_check_is_flagged_not_refused_and_blocks_approval(void **state) {
    (void)state;
    char id[37], bad[19], good[19], stored[19];
    credit_code("91410882MA44XQ7J6", 1, bad);
    credit_code("91410882MA44XQ7J6", 0, good);
    /* Kept as the phone sent it (nothing lost), flagged for the reviewer. */
    send_party(id, 0, bad, "APPLIED", 1);
    assert_true(credit_flagged(id, stored));
    assert_string_equal(stored, bad);
    assert_true(queued(&sup, ITEM(PENDING), id));

    /* Approval is refused with a clear code and writes nothing; returning it is not. */
    decision x;
    decision_init(&x, KIND(APPROVE), id, 1, NULL);
    decide_refused(sup.token, &x, 409, "credit_code_invalid");
    th_error e;
    assert_int_equal(decide(sup.token, &x, TH_JSON, NULL, &e), 409);
    assert_string_equal(e.code, "credit_code_invalid");
    assert_non_null(strstr(e.message, bad));
    assert_non_null(strstr(e.message, "check"));
    decision_init(&x, KIND(RETURN), id, 1, "信用代码校验位不对，请现场核实营业执照");
    outfall__v1__decision_result__free_unpacked(decide_ok(&sup, &x), NULL);

    /* The surveyor corrects it: the flag clears in the same version, the history says so, and
     * the record can be approved. */
    send_party(id, 2, good, "APPLIED", 3);
    assert_false(credit_flagged(id, stored));
    assert_string_equal(stored, good);
    Outfall__V1__OutfallHistory *h = history_of(&sup, id);
    const Outfall__V1__FieldChange *c = change_at(h, "flags", 1);
    assert_non_null(c);
    assert_non_null(strstr(TH_S(c->value), "credit_code_invalid"));
    c = change_at(h, "flags", 3);
    assert_non_null(c);
    assert_null(strstr(TH_S(c->value), "credit_code_invalid"));
    outfall__v1__outfall_history__free_unpacked(h, NULL);
    decision_init(&x, KIND(APPROVE), id, 3, NULL);
    Outfall__V1__DecisionResult *res = decide_ok(&sup, &x);
    assert_false(th_has(res->outfall->flags, res->outfall->n_flags, "credit_code_invalid"));
    outfall__v1__decision_result__free_unpacked(res, NULL);

    /* An edit after approval that breaks the code is flagged again and waits for review; its
     * approval is refused until corrected. */
    send_party(id, 4, bad, "APPLIED", 5);
    assert_true(credit_flagged(id, NULL));
    assert_true(queued(&sup, ITEM(PENDING), id));
    decision_init(&x, KIND(APPROVE), id, 5, NULL);
    decide_refused(sup.token, &x, 409, "credit_code_invalid");
}

static void valid_absent_and_empty_credit_codes_are_not_flagged_other_faults_are(void **state) {
    (void)state;
    char good[19], lower[19], id[37];
    credit_code("91410882MA44R7LT1", 0, good);
    util_strlcpy(lower, good, sizeof lower);
    for (char *p = lower; *p; p++)
        if (*p >= 'A' && *p <= 'Z') *p = (char)(*p - 'A' + 'a');
    const struct {
        const char *code;
        int flagged;
    } cases[] = {
        {good, 0},
        {NULL, 0},                  /* a party without a code */
        {"", 0},                    /* an empty code: nothing recorded */
        {lower, 1},                 /* the alphabet is upper case */
        {"91410882MA44R7LT", 1},    /* 16 characters */
        {"91410882MA44R7LTIO", 1},  /* I and O are not in the alphabet */
        {"B1410882MA44R7LT1X", 1},  /* no such registration authority */
        {"914108X2MA44R7LT1X", 1},  /* the division is not six digits */
        {"91410882MA44R7LT1X1", 1}, /* 19 characters */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        send_party(id, 0, cases[i].code, "APPLIED", 1);
        if (credit_flagged(id, NULL) != cases[i].flagged)
            fail_msg("credit code %s: flagged %d", cases[i].code ? cases[i].code : "(none)",
                     !cases[i].flagged);
        decision x;
        decision_init(&x, KIND(APPROVE), id, 1, NULL);
        if (cases[i].flagged)
            decide_refused(sup.token, &x, 409, "credit_code_invalid");
        else
            outfall__v1__decision_result__free_unpacked(decide_ok(&sup, &x), NULL);
    }
}

static void supervisor_entering_a_valid_credit_code_in_a_conflict_clears_the_flag(void **state) {
    (void)state;
    char id[37], bad[19], bad2[19], good[19], stored[19];
    credit_code("91410882MA44XQ7J6", 1, bad);
    credit_code("91410882MA44R7LT1", 1, bad2);
    credit_code("91410882MA44R7LT1", 0, good);
    send_party(id, 0, bad, "APPLIED", 1);
    /* Two phones change the code from version 1: the server keeps bob's (also invalid). */
    send_party_as(&bob, &dev_b, id, 1, bad2, "APPLIED", 2);
    send_party(id, 1, "91410882MA44XQ7J60", "CONFLICT", 0);
    assert_true(credit_flagged(id, stored));
    assert_string_equal(stored, bad2);
    int64_t conflict = open_conflict(id, "responsible_party.credit_code");
    assert_true(conflict > 0);
    Outfall__V1__Outfall *o = read_as(&sup, id, NULL);
    int64_t v = o->version;
    outfall__v1__outfall__free_unpacked(o, NULL);

    /* The supervisor enters the right code: the engine checks it like a phone's and clears the
     * flag in the decision's version; approval then goes through. */
    char value[24];
    snprintf(value, sizeof value, "\"%s\"", good);
    decision x;
    decision_init(&x, KIND(RESOLVE_CONFLICT), id, v, NULL);
    decision_resolve(&x, conflict, CHOICE(ENTER_VALUE), value);
    Outfall__V1__DecisionResult *res = decide_ok(&sup, &x);
    assert_int_equal(res->outfall->version, v + 1);
    assert_false(th_has(res->outfall->flags, res->outfall->n_flags, "credit_code_invalid"));
    assert_string_equal(TH_S(res->outfall->responsible_party->credit_code), good);
    outfall__v1__decision_result__free_unpacked(res, NULL);
    decision_init(&x, KIND(APPROVE), id, v + 1, NULL);
    outfall__v1__decision_result__free_unpacked(decide_ok(&sup, &x), NULL);
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
        cmocka_unit_test(
            phone_credit_code_failing_its_check_is_flagged_not_refused_and_blocks_approval),
        cmocka_unit_test(valid_absent_and_empty_credit_codes_are_not_flagged_other_faults_are),
        cmocka_unit_test(supervisor_entering_a_valid_credit_code_in_a_conflict_clears_the_flag),
        cmocka_unit_test(supervisor_of_another_division_is_refused_outside_division),
        cmocka_unit_test(surveyor_integrator_and_no_token_are_refused),
        cmocka_unit_test(replay_of_a_decision_by_a_supervisor_of_another_division_is_refused),
    };
    return cmocka_run_group_tests_name("review API: decisions", tests, group_setup, group_teardown);
}
