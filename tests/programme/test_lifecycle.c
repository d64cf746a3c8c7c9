/* The programme through the engine (tests programme/lifecycle.c and programme/rules.c): lifecycle
 * transitions allowed and refused, the responsible party, and the plan's rules. Progress, the
 * exports and the annual report are in test_progress.c. */
#include "programme_fixture.h"

/* ---- lifecycle ------------------------------------------------------------------------------ */

static void full_lifecycle_is_versioned_in_history_feed_and_audit(void **state) {
    fixture *f = *state;
    char id[UUID_STR_LEN + 1];
    create_approved(f, id, "410882", "qinhe", LAT, LON,
                    ",\"type\":\"OUTFALL_TYPE_INDUSTRIAL_ENTERPRISE\"");
    assert_int_equal(version_of(f, id), 2);
    int64_t feed_before = value(f, "SELECT seq FROM feed WHERE entity_id = '%s'", id);

    move(f, id, "FOUND", "2023-03-01", NULL);
    move(f, id, "TRACED", "2023-06-01", party("焦作某化工有限公司", "91410882MA44R7LT1", NULL));
    move(f, id, "PLANNED", "2023-07-01", plan("BAN", "2023-10-31", ",\"notes\":\"拆除管道\""));
    evidence(f, id, "410882");
    move(f, id, "REMEDIATED", "2023-10-15", NULL);
    char *json = transition_text(f, id, "CLOSED", "2023-11-01", ",\"comment\":\"现场核查已封堵\"");
    Outfall__V1__TransitionResult *res = NULL;
    sync_error err = {0};
    assert_int_equal(transition_json(f, &who.county, json, &res, &err), 0);
    free(json);

    /* Each step a version, approved at once: nothing waits in the review queue. */
    Outfall__V1__Outfall *o = res->outfall;
    assert_int_equal(res->status, OUTFALL__V1__CHANGE_STATUS__CHANGE_STATUS_APPLIED);
    assert_int_equal(o->version, 7);
    assert_int_equal(o->approved_version, 7);
    assert_int_equal(o->review_state, OUTFALL__V1__REVIEW_STATE__REVIEW_STATE_APPROVED);
    assert_int_equal(o->programme->stage, OUTFALL__V1__LIFECYCLE_STAGE__LIFECYCLE_STAGE_CLOSED);
    assert_string_equal(o->programme->found_on, "2023-03-01");
    assert_string_equal(o->programme->traced_on, "2023-06-01");
    assert_string_equal(o->programme->planned_on, "2023-07-01");
    assert_string_equal(o->programme->remediated_on, "2023-10-15");
    assert_string_equal(o->programme->closed_on, "2023-11-01");
    assert_int_equal(o->programme->party_basis, OUTFALL__V1__PARTY_BASIS__PARTY_BASIS_TRACED);
    assert_int_equal(o->programme->plan->measure,
                     OUTFALL__V1__REMEDIATION_MEASURE__REMEDIATION_MEASURE_BAN);
    assert_int_equal(o->programme->n_evidence_observation_ids, 1);
    assert_string_equal(o->responsible_party->name, "焦作某化工有限公司");
    protobuf_c_message_free_unpacked(&res->base, NULL);
    queue_query q = {0};
    Outfall__V1__ReviewQueue *queue = NULL;
    assert_int_equal(queue_list(f->s, &who.city, &q, &queue, &err), 0);
    for (size_t i = 0; i < queue->n_items; i++)
        assert_true(queue->items[i]->kind !=
                    OUTFALL__V1__REVIEW_ITEM_KIND__REVIEW_ITEM_KIND_PENDING);
    protobuf_c_message_free_unpacked(&queue->base, NULL);

    /* The history holds each stage with its transition; the approved view shows the last. */
    assert_int_equal(value(f,
                           "SELECT count(*) FROM field_history WHERE entity_id = '%s' AND "
                           "field = 'programme.stage'",
                           id),
                     5);
    assert_int_equal(value(f,
                           "SELECT count(*) FROM field_history h JOIN transitions t ON "
                           "t.transition_id = h.change_id WHERE h.entity_id = '%s' AND "
                           "h.field = 'programme.stage'",
                           id),
                     5);
    principal integrator;
    fx_user(f, &integrator, "integrator-p", OUTFALL__V1__ROLE__ROLE_INTEGRATOR, "410800");
    assert_int_equal(feed_read_outfall(f->s, &integrator, id, &o, &err), 0);
    assert_int_equal(o->programme->stage, OUTFALL__V1__LIFECYCLE_STAGE__LIFECYCLE_STAGE_CLOSED);
    assert_string_equal(o->programme->plan->notes, "拆除管道");
    protobuf_c_message_free_unpacked(&o->base, NULL);
    /* The feed moved the record to its head; the audit names who did each step. */
    assert_true(value(f, "SELECT seq FROM feed WHERE entity_id = '%s'", id) > feed_before);
    assert_int_equal(value(f,
                           "SELECT count(*) FROM audit WHERE target = '%s' AND outcome = 'ok' "
                           "AND action LIKE 'programme.%%'",
                           id),
                     5);
    assert_int_equal(value(f,
                           "SELECT count(*) FROM audit WHERE target = '%s' AND action = "
                           "'programme.closed' AND username = 'supervisor-qy' AND detail LIKE "
                           "'REMEDIATED -> CLOSED on 2023-11-01%%'",
                           id),
                     1);
}

static void retried_transition_answers_first_result_and_writes_nothing(void **state) {
    fixture *f = *state;
    char id[UUID_STR_LEN + 1];
    create_approved(f, id, "410882", "qinhe", LAT, LON, NULL);
    move(f, id, "FOUND", "2023-12-01", NULL);
    char *json = transition_text(f, id, "TRACED", "2024-01-05",
                                 party("沁阳市某养殖场", "92410882MA3XH7K2C", NULL));
    sync_error err = {0};
    Outfall__V1__TransitionResult *res = NULL;
    assert_int_equal(transition_json(f, &who.city, json, &res, &err), 0);
    int64_t version = res->outfall->version;
    protobuf_c_message_free_unpacked(&res->base, NULL);
    int64_t history = fx_count(f, "SELECT count(*) FROM field_history");
    assert_int_equal(transition_json(f, &who.city, json, &res, &err), 0);
    assert_int_equal(res->status, OUTFALL__V1__CHANGE_STATUS__CHANGE_STATUS_ALREADY_APPLIED);
    assert_int_equal(res->outfall->version, version);
    protobuf_c_message_free_unpacked(&res->base, NULL);
    assert_int_equal(fx_count(f, "SELECT count(*) FROM field_history"), history);
    /* The same id with other content is refused. */
    char *other = strdup(json);
    char *at = strstr(other, "2024-01-05");
    memcpy(at, "2024-01-06", 10);
    assert_int_equal(transition_json(f, &who.city, other, NULL, &err), SYNC_ECONFLICT);
    assert_string_equal(err.code, "transition_id_reused");
    free(other);
    free(json);
}

static void refused_transitions_name_from_and_to_and_write_nothing(void **state) {
    fixture *f = *state;
    char id[UUID_STR_LEN + 1];
    create_approved(f, id, "410882", "qinhe", LAT, LON, NULL);
    sync_error err = {0};
    int64_t history = fx_count(f, "SELECT count(*) FROM field_history");
    static const char *const from_found[] = {"PLANNED", "REMEDIATED", "CLOSED", "RETAINED"};
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(
            move_as(f, &who.city, id, from_found[i], NULL, plan("BAN", "2030-01-01", NULL), &err),
            SYNC_ECONFLICT);
        assert_string_equal(err.code, "transition_not_allowed");
        char want[64];
        snprintf(want, sizeof want, "from FOUND to %s", from_found[i]);
        assert_non_null(strstr(err.message, want));
        assert_non_null(strstr(err.message, "it may go to FOUND, TRACED"));
    }
    assert_int_equal(fx_count(f, "SELECT count(*) FROM field_history"), history);

    move(f, id, "TRACED", NULL, party("某公司", "91410882MA44R7LT1", NULL));
    static const char *const from_traced[] = {"FOUND", "REMEDIATED", "CLOSED", "RETAINED"};
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(move_as(f, &who.city, id, from_traced[i], NULL, NULL, &err),
                         SYNC_ECONFLICT);
        assert_string_equal(err.code, "transition_not_allowed");
    }
    /* A REGULARIZE plan keeps the outfall: it is retained, never closed. */
    move(f, id, "PLANNED", NULL, plan("REGULARIZE", "2030-01-01", NULL));
    evidence(f, id, "410882");
    move(f, id, "REMEDIATED", NULL, NULL);
    assert_int_equal(move_as(f, &who.city, id, "CLOSED", NULL, NULL, &err), SYNC_ECONFLICT);
    assert_string_equal(err.code, "measure_keeps_outfall");
    /* Verification failed: back to PLANNED, with a reason. */
    assert_int_equal(move_as(f, &who.city, id, "PLANNED", NULL, NULL, &err), SYNC_EINVALID);
    assert_string_equal(err.code, "comment_required");
    move(f, id, "PLANNED", NULL, ",\"comment\":\"标志牌未设置\"");
    Outfall__V1__Outfall *o = read_latest(f, id);
    assert_null(o->programme->remediated_on);
    assert_int_equal(o->programme->n_evidence_observation_ids, 0);
    assert_int_equal(o->programme->plan->measure,
                     OUTFALL__V1__REMEDIATION_MEASURE__REMEDIATION_MEASURE_REGULARIZE);
    protobuf_c_message_free_unpacked(&o->base, NULL);
    move(f, id, "REMEDIATED", NULL, NULL);
    move(f, id, "RETAINED", NULL, NULL);
    static const char *const settled[] = {"FOUND",      "TRACED", "PLANNED",
                                          "REMEDIATED", "CLOSED", "RETAINED"};
    for (size_t i = 0; i < 6; i++) {
        assert_int_equal(move_as(f, &who.city, id, settled[i], NULL, NULL, &err), SYNC_ECONFLICT);
        assert_string_equal(err.code, "transition_not_allowed");
        assert_non_null(strstr(err.message, "nowhere (it is settled)"));
    }
    /* A BAN plan removes the outfall: it is closed, never retained. */
    char ban[UUID_STR_LEN + 1];
    create_approved(f, ban, "410882", "danhe", LAT, LON, NULL);
    move(f, ban, "TRACED", NULL, party("某公司", "91410882MA44R7LT1", NULL));
    move(f, ban, "PLANNED", NULL, plan("BAN", "2030-01-01", NULL));
    evidence(f, ban, "410882");
    move(f, ban, "REMEDIATED", NULL, NULL);
    assert_int_equal(move_as(f, &who.city, ban, "RETAINED", NULL, NULL, &err), SYNC_ECONFLICT);
    assert_string_equal(err.code, "measure_removes_outfall");
    assert_true(fx_count(f, "SELECT count(*) FROM audit WHERE outcome = "
                            "'transition_not_allowed'") >= 14);
}

static void unapproved_pending_stale_and_out_of_scope_are_refused(void **state) {
    fixture *f = *state;
    char id[UUID_STR_LEN + 1];
    sync_error err = {0};
    create_in(f, id, "410882", "qinhe", LAT, LON, NULL);
    assert_int_equal(move_as(f, &who.city, id, "TRACED", NULL, NULL, &err), SYNC_ECONFLICT);
    assert_string_equal(err.code, "not_approved");
    approve(f, id);
    /* Field edits waiting for review come first. */
    char cid[UUID_STR_LEN + 1], *c = NULL;
    util_uuid_new(cid);
    assert_true(asprintf(&c,
                         "[{\"changeId\":\"%s\",\"entityId\":\"%s\",\"baseVersion\":\"2\","
                         "\"outfall\":{\"landmark\":\"新桥\"}}]",
                         cid, id) > 0);
    sync_in(f, "410882", c);
    free(c);
    assert_int_equal(move_as(f, &who.city, id, "FOUND", NULL, NULL, &err), SYNC_ECONFLICT);
    assert_string_equal(err.code, "pending_review");
    approve(f, id);
    /* A stale base version. */
    char *json = transition_text(f, id, "FOUND", NULL, NULL);
    char *at = strstr(json, "\"baseVersion\":\"");
    at[15] = '1';
    assert_int_equal(transition_json(f, &who.city, json, NULL, &err), SYNC_ECONFLICT);
    assert_string_equal(err.code, "stale_version");
    free(json);
    /* Surveyors do not move outfalls; supervisors only within their divisions. */
    assert_int_equal(move_as(f, &f->surveyor, id, "FOUND", NULL, NULL, &err), SYNC_EFORBIDDEN);
    assert_string_equal(err.code, "forbidden_role");
    principal other;
    fx_user(f, &other, "supervisor-jf", OUTFALL__V1__ROLE__ROLE_SUPERVISOR, "410802");
    assert_int_equal(move_as(f, &other, id, "FOUND", NULL, NULL, &err), SYNC_EFORBIDDEN);
    assert_string_equal(err.code, "outside_division");
    char missing[UUID_STR_LEN + 1];
    util_uuid_new(missing);
    assert_int_equal(move_as(f, &who.city, missing, "FOUND", NULL, NULL, &err), SYNC_ENOTFOUND);
    /* A phone may not write the programme itself. */
    util_uuid_new(cid);
    assert_true(asprintf(&c,
                         "[{\"changeId\":\"%s\",\"entityId\":\"%s\",\"baseVersion\":\"3\","
                         "\"outfall\":{\"programme\":{\"stage\":"
                         "\"LIFECYCLE_STAGE_CLOSED\"}}}]",
                         cid, id) > 0);
    Outfall__V1__SyncResponse *r = fx_sync(f, 0, c);
    free(c);
    assert_int_equal(r->results[0]->status, OUTFALL__V1__CHANGE_STATUS__CHANGE_STATUS_REJECTED);
    assert_string_equal(r->results[0]->reason, "read_only_field");
    protobuf_c_message_free_unpacked(&r->base, NULL);
}

static void dates_are_real_not_in_the_future_and_in_order(void **state) {
    fixture *f = *state;
    char id[UUID_STR_LEN + 1];
    sync_error err = {0};
    create_approved(f, id, "410882", "qinhe", LAT, LON, NULL);
    static const char *const bad[] = {"2023-02-30", "2023-13-01", "23-01-01", "2023-1-01",
                                      "2024-02-30"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(move_as(f, &who.city, id, "FOUND", bad[i], NULL, &err), SYNC_EINVALID);
        assert_string_equal(err.code, "invalid_date");
    }
    assert_int_equal(move_as(f, &who.city, id, "FOUND", "2024-02-29", NULL, &err), 0); /* leap */
    assert_int_equal(move_as(f, &who.city, id, "FOUND", "2999-01-01", NULL, &err), SYNC_EINVALID);
    assert_string_equal(err.code, "invalid_date");
    assert_non_null(strstr(err.message, "in the future"));
    assert_int_equal(move_as(f, &who.city, id, "TRACED", "2024-02-28",
                             party("某公司", "91410882MA44R7LT1", NULL), &err),
                     SYNC_EINVALID);
    assert_string_equal(err.code, "date_out_of_order");
    /* The same day as the find is fine. */
    move(f, id, "TRACED", "2024-02-29", party("某公司", "91410882MA44R7LT1", NULL));
    assert_int_equal(
        move_as(f, &who.city, id, "PLANNED", "2024-03-01", plan("BAN", "2024-02-29", NULL), &err),
        SYNC_EINVALID);
    assert_string_equal(err.code, "plan_invalid"); /* deadline before the plan */
}

static void responsible_party_needs_a_valid_credit_code_unless_the_county_steps_in(void **state) {
    fixture *f = *state;
    char id[UUID_STR_LEN + 1];
    sync_error err = {0};
    create_approved(f, id, "410882", "qinhe", LAT, LON, NULL);
    char bad[19];
    strcpy(bad, code_of("91410882MA44R7LT1"));
    bad[17] = bad[17] == '0' ? '1' : '0';
    char extra[256];
    snprintf(extra, sizeof extra,
             ",\"responsibleParty\":{\"name\":\"某公司\",\"creditCode\":\"%s\"}", bad);
    assert_int_equal(move_as(f, &who.city, id, "TRACED", NULL, extra, &err), SYNC_EINVALID);
    assert_string_equal(err.code, "invalid_credit_code");
    assert_non_null(strstr(err.message, "check character"));
    assert_int_equal(move_as(f, &who.city, id, "TRACED", NULL,
                             ",\"responsibleParty\":{\"name\":\"某公司\"}", &err),
                     SYNC_EINVALID);
    assert_string_equal(err.code, "credit_code_required");
    assert_int_equal(move_as(f, &who.city, id, "TRACED", NULL,
                             ",\"responsibleParty\":{\"creditCode\":\"91350100M000100Y43\"}", &err),
                     SYNC_EINVALID);
    assert_string_equal(err.code, "invalid_party");
    assert_int_equal(move_as(f, &who.city, id, "TRACED", NULL,
                             party("某公司", "91410882MA44R7LT1", NULL) /* fine */, &err),
                     0);
    assert_int_equal(move_as(f, &who.city, id, "TRACED", NULL,
                             ",\"responsibleParty\":{\"name\":\"某公司\",\"creditCode\":"
                             "\"91350100M000100Y43\",\"phone\":\"call me\"}",
                             &err),
                     SYNC_EINVALID);
    assert_string_equal(err.code, "invalid_phone");

    /* Tracing failed: the county government is responsible, and the record says so. */
    move(f, id, "TRACED", NULL,
         ",\"partyBasis\":\"PARTY_BASIS_COUNTY_GOVERNMENT\",\"responsibleParty\":{\"contact\":"
         "\"王科长\"}");
    Outfall__V1__Outfall *o = read_latest(f, id);
    assert_string_equal(o->responsible_party->name, "沁阳市人民政府");
    assert_string_equal(o->responsible_party->contact, "王科长");
    assert_null(o->responsible_party->credit_code); /* the old party's leaves are gone */
    assert_null(o->responsible_party->phone);
    assert_int_equal(o->programme->party_basis,
                     OUTFALL__V1__PARTY_BASIS__PARTY_BASIS_COUNTY_GOVERNMENT);
    protobuf_c_message_free_unpacked(&o->base, NULL);

    /* The party the surveyors recorded is used when the transition names none. */
    char other[UUID_STR_LEN + 1];
    char more[160];
    snprintf(more, sizeof more,
             ",\"type\":\"OUTFALL_TYPE_MUNICIPAL_WWTP\",\"responsibleParty\":{\"name\":"
             "\"沁阳市污水处理厂\",\"creditCode\":\"%s\"}",
             code_of("12410882MB1234567"));
    create_approved(f, other, "410882", "danhe", LAT, LON, more);
    move(f, other, "TRACED", NULL, ",\"partyBasis\":\"PARTY_BASIS_APPLICANT\"");
    o = read_latest(f, other);
    assert_string_equal(o->responsible_party->name, "沁阳市污水处理厂");
    assert_int_equal(o->programme->party_basis, OUTFALL__V1__PARTY_BASIS__PARTY_BASIS_APPLICANT);
    protobuf_c_message_free_unpacked(&o->base, NULL);
    /* A zone without a government of its own: its management committee. */
    char zone[UUID_STR_LEN + 1];
    create_approved(f, zone, "410882", "qinhe", LAT + 0.01, LON, NULL);
    sqlite3_exec(store_db(f->s),
                 "UPDATE divisions SET name = '城乡一体化示范区' WHERE code = '410882'", NULL, NULL,
                 NULL);
    move(f, zone, "TRACED", NULL, ",\"partyBasis\":\"PARTY_BASIS_COUNTY_GOVERNMENT\"");
    o = read_latest(f, zone);
    assert_string_equal(o->responsible_party->name, "城乡一体化示范区管委会");
    protobuf_c_message_free_unpacked(&o->base, NULL);
}

/* ---- plan rules ----------------------------------------------------------------------------- */

/* A drinking-water zone: the square 112.95-112.96 E x 35.08-35.09 N. */
static void import_zone(fixture *f) {
    static const char fc[] =
        "{\"type\":\"FeatureCollection\",\"features\":[{\"type\":\"Feature\",\"id\":\"src-1\","
        "\"properties\":{\"name\":\"沁河水源地\",\"kind\":\"drinking_water\"},\"geometry\":{"
        "\"type\":\"Polygon\",\"coordinates\":[[[112.95,35.08],[112.96,35.08],[112.96,35.09],"
        "[112.95,35.09],[112.95,35.08]]]}}]}";
    sync_error err = {0};
    assert_int_equal(zones_import(f->s, &f->admin, fc, strlen(fc), NULL, &err), 0);
}

/* An approved, traced outfall at (lat, lon) with extra outfall fields. */
static void traced_at(fixture *f, char id[UUID_STR_LEN + 1], double lat, double lon,
                      const char *extra) {
    create_approved(f, id, "410882", "qinhe", lat, lon, extra);
    move(f, id, "TRACED", NULL, party("某公司", "91410882MA44R7LT1", NULL));
}

static void rule1_protection_zone_allows_only_a_ban_inside_and_on_the_edge(void **state) {
    fixture *f = *state;
    import_zone(f);
    sync_error err = {0};
    char inside[UUID_STR_LEN + 1], edge[UUID_STR_LEN + 1], outside[UUID_STR_LEN + 1];
    traced_at(f, inside, 35.085, 112.955, NULL);
    traced_at(f, edge, 35.08, 112.9575, NULL);      /* on the zone's southern boundary */
    traced_at(f, outside, 35.0795, 112.9575, NULL); /* 55 m south */
    static const char *const not_ban[] = {"REGULARIZE", "NONE", "MERGE"};
    for (size_t i = 0; i < 3; i++) {
        const char *more =
            strcmp(not_ban[i], "MERGE") == 0 ? ",\"mergeIntoSewer\":\"污水管网\"" : NULL;
        assert_int_equal(move_as(f, &who.city, inside, "PLANNED", NULL,
                                 plan(not_ban[i], "2030-01-01", more), &err),
                         SYNC_EINVALID);
        assert_string_equal(err.code, "rule1_protection_zone");
        assert_non_null(strstr(err.message, "二.二.2"));
        assert_non_null(strstr(err.message, "src-1"));
        assert_int_equal(move_as(f, &who.city, edge, "PLANNED", NULL,
                                 plan(not_ban[i], "2030-01-01", more), &err),
                         SYNC_EINVALID);
        assert_string_equal(err.code, "rule1_protection_zone");
    }
    move(f, inside, "PLANNED", NULL, plan("BAN", "2030-01-01", NULL));
    Outfall__V1__Outfall *o = read_latest(f, inside);
    assert_int_equal(o->programme->n_zone_ids, 1);
    assert_string_equal(o->programme->zone_ids[0], "src-1");
    protobuf_c_message_free_unpacked(&o->base, NULL);
    move(f, outside, "PLANNED", NULL, plan("REGULARIZE", "2030-01-01", NULL));
    o = read_latest(f, outside);
    assert_int_equal(o->programme->n_zone_ids, 0);
    protobuf_c_message_free_unpacked(&o->base, NULL);
    /* Revising an inside plan away from a ban is refused too. */
    assert_int_equal(move_as(f, &who.city, inside, "PLANNED", NULL,
                             plan("REGULARIZE", "2030-01-01", NULL), &err),
                     SYNC_EINVALID);
    assert_string_equal(err.code, "rule1_protection_zone");
}

static void rule2_storm_outfall_is_never_merged_or_blocked(void **state) {
    fixture *f = *state;
    import_zone(f);
    sync_error err = {0};
    char storm[UUID_STR_LEN + 1], zoned[UUID_STR_LEN + 1], other[UUID_STR_LEN + 1];
    const char *is_storm = ",\"type\":\"OUTFALL_TYPE_URBAN_STORM\"";
    traced_at(f, storm, 35.10, 112.97, is_storm);
    traced_at(f, zoned, 35.085, 112.955, is_storm); /* inside the zone */
    traced_at(f, other, 35.11, 112.97, ",\"type\":\"OUTFALL_TYPE_URBAN_SEWAGE_SCATTERED\"");
    const char *refused[][2] = {
        {"MERGE", ",\"mergeIntoSewer\":\"市政管网\""},
        {"BAN", NULL},
        {"REGULARIZE", ",\"blocksOutfall\":true,\"safetyNote\":\"汛期前完成\""},
    };
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(move_as(f, &who.city, storm, "PLANNED", NULL,
                                 plan(refused[i][0], "2030-01-01", refused[i][1]), &err),
                         SYNC_EINVALID);
        assert_string_equal(err.code, "rule2_storm_outfall");
        assert_non_null(strstr(err.message, "二.二.1"));
    }
    move(f, storm, "PLANNED", NULL, plan("REGULARIZE", "2030-01-01", NULL));
    /* Inside a protection zone rule 2 wins: a storm outfall there is regularized, not banned. */
    assert_int_equal(
        move_as(f, &who.city, zoned, "PLANNED", NULL, plan("BAN", "2030-01-01", NULL), &err),
        SYNC_EINVALID);
    assert_string_equal(err.code, "rule2_storm_outfall");
    move(f, zoned, "PLANNED", NULL, plan("REGULARIZE", "2030-01-01", NULL));
    /* Nor is another outfall merged into a storm outfall. */
    char into[128];
    snprintf(into, sizeof into, ",\"mergeIntoOutfallId\":\"%s\"", storm);
    assert_int_equal(
        move_as(f, &who.city, other, "PLANNED", NULL, plan("MERGE", "2030-01-01", into), &err),
        SYNC_EINVALID);
    assert_string_equal(err.code, "rule2_storm_outfall");
    /* A merge names exactly one live target. */
    assert_int_equal(
        move_as(f, &who.city, other, "PLANNED", NULL, plan("MERGE", "2030-01-01", NULL), &err),
        SYNC_EINVALID);
    assert_string_equal(err.code, "plan_invalid");
    char self[128];
    snprintf(self, sizeof self, ",\"mergeIntoOutfallId\":\"%s\"", other);
    assert_int_equal(
        move_as(f, &who.city, other, "PLANNED", NULL, plan("MERGE", "2030-01-01", self), &err),
        SYNC_EINVALID);
    assert_string_equal(err.code, "plan_invalid");
    move(f, other, "PLANNED", NULL,
         plan("MERGE", "2030-01-01", ",\"mergeIntoSewer\":\"市政管网\""));
}

static void rule5_flood_control_works_need_a_safety_note(void **state) {
    fixture *f = *state;
    sync_error err = {0};
    char sluice[UUID_STR_LEN + 1], plain[UUID_STR_LEN + 1];
    traced_at(f, sluice, 35.10, 112.97, ",\"entryMethod\":\"ENTRY_METHOD_SLUICE\"");
    traced_at(f, plain, 35.11, 112.97, ",\"entryMethod\":\"ENTRY_METHOD_PIPE\"");
    /* Through a sluice in the levee: any works need the note; none needed, none asked. */
    assert_int_equal(move_as(f, &who.city, sluice, "PLANNED", NULL,
                             plan("REGULARIZE", "2030-01-01", NULL), &err),
                     SYNC_EINVALID);
    assert_string_equal(err.code, "rule5_safety_note_required");
    assert_non_null(strstr(err.message, "二.二.1"));
    assert_int_equal(move_as(f, &who.city, sluice, "PLANNED", NULL,
                             plan("REGULARIZE", "2030-01-01", ",\"safetyNote\":\"\""), &err),
                     SYNC_EINVALID);
    move(f, sluice, "PLANNED", NULL, plan("NONE", NULL, NULL));
    move(f, sluice, "PLANNED", NULL,
         plan("REGULARIZE", "2030-01-01", ",\"safetyNote\":\"汛期不施工，设临时围堰\""));
    /* A pipe: only when the plan says the works touch flood control. */
    assert_int_equal(move_as(f, &who.city, plain, "PLANNED", NULL,
                             plan("BAN", "2030-01-01", ",\"affectsFloodControl\":true"), &err),
                     SYNC_EINVALID);
    assert_string_equal(err.code, "rule5_safety_note_required");
    move(f, plain, "PLANNED", NULL, plan("BAN", "2030-01-01", NULL));
    Outfall__V1__Outfall *o = read_latest(f, plain);
    assert_null(o->programme->plan->safety_note);
    protobuf_c_message_free_unpacked(&o->base, NULL);
    /* A revision that drops a field clears it. */
    o = read_latest(f, sluice);
    assert_string_equal(o->programme->plan->safety_note, "汛期不施工，设临时围堰");
    protobuf_c_message_free_unpacked(&o->base, NULL);
    move(f, sluice, "PLANNED", NULL, plan("NONE", NULL, NULL));
    o = read_latest(f, sluice);
    assert_null(o->programme->plan->safety_note);
    assert_null(o->programme->plan->deadline);
    protobuf_c_message_free_unpacked(&o->base, NULL);
}

static int has_flag(Outfall__V1__Outfall *o, const char *flag) {
    for (size_t i = 0; i < o->n_flags; i++)
        if (strcmp(o->flags[i], flag) == 0) return 1;
    return 0;
}

static void rules3_and_4_flag_enterprise_outfalls(void **state) {
    fixture *f = *state;
    const char *enterprise = ",\"type\":\"OUTFALL_TYPE_INDUSTRIAL_ENTERPRISE\"";
    char a[UUID_STR_LEN + 1], b[UUID_STR_LEN + 1], c[UUID_STR_LEN + 1], d[UUID_STR_LEN + 1],
        e[UUID_STR_LEN + 1];
    create_approved(f, a, "410882", "qinhe", 35.10, 112.97, enterprise);
    create_approved(f, b, "410882", "qinhe", 35.11, 112.97, enterprise);
    create_approved(f, c, "410882", "danhe", 35.12, 112.97, enterprise);
    create_approved(f, d, "410882", "danhe", 35.13, 112.97, enterprise);
    create_approved(f, e, "410882", "danhe", 35.14, 112.97, enterprise);
    const char *firm = "91410882MA44R7LT1", *licensed = "91410882MA3XH7K2C";
    move(f, a, "TRACED", NULL, party("某化工公司", firm, NULL));
    move(f, b, "TRACED", NULL, party("某化工公司", firm, NULL));
    move(f, a, "PLANNED", NULL, plan("REGULARIZE", "2030-01-01", NULL));
    Outfall__V1__Outfall *o = read_latest(f, a);
    assert_false(has_flag(o, "rule3_enterprise_outfall_count")); /* its only kept outfall */
    protobuf_c_message_free_unpacked(&o->base, NULL);
    /* A second kept outfall of the same enterprise outside a park: flagged. */
    move(f, b, "PLANNED", NULL, plan("REGULARIZE", "2030-01-01", NULL));
    o = read_latest(f, b);
    assert_true(has_flag(o, "rule3_enterprise_outfall_count"));
    protobuf_c_message_free_unpacked(&o->base, NULL);
    /* Banning it clears the flag. */
    move(f, b, "PLANNED", NULL, plan("BAN", "2030-01-01", NULL));
    o = read_latest(f, b);
    assert_false(has_flag(o, "rule3_enterprise_outfall_count"));
    protobuf_c_message_free_unpacked(&o->base, NULL);
    /* Two kept, and the permit allows exactly two: not flagged. */
    move(f, d, "TRACED", NULL, party("某钢铁公司", licensed, ",\"permitOutfallsAllowed\":2"));
    move(f, e, "TRACED", NULL, party("某钢铁公司", licensed, ",\"permitOutfallsAllowed\":2"));
    move(f, d, "PLANNED", NULL, plan("REGULARIZE", "2030-01-01", NULL));
    move(f, e, "PLANNED", NULL, plan("NONE", NULL, NULL));
    o = read_latest(f, e);
    assert_false(has_flag(o, "rule3_enterprise_outfall_count"));
    protobuf_c_message_free_unpacked(&o->base, NULL);
    /* In a park, keeping a direct discharge to the river is flagged (rule 4). */
    move(f, c, "TRACED", NULL,
         party("园区某企业", "91410882MA9UW3XR5", ",\"inIndustrialPark\":true"));
    move(f, c, "PLANNED", NULL, plan("REGULARIZE", "2030-01-01", NULL));
    o = read_latest(f, c);
    assert_true(has_flag(o, "rule4_in_park_direct_discharge"));
    protobuf_c_message_free_unpacked(&o->base, NULL);
    move(f, c, "PLANNED", NULL,
         plan("MERGE", "2030-01-01", ",\"mergeIntoSewer\":\"园区污水处理厂\""));
    o = read_latest(f, c);
    assert_false(has_flag(o, "rule4_in_park_direct_discharge"));
    protobuf_c_message_free_unpacked(&o->base, NULL);
}

static void remediation_needs_stored_evidence_unless_nothing_was_to_be_done(void **state) {
    fixture *f = *state;
    sync_error err = {0};
    char id[UUID_STR_LEN + 1], none[UUID_STR_LEN + 1];
    traced_at(f, id, 35.10, 112.97, NULL);
    move(f, id, "PLANNED", NULL, plan("BAN", "2030-01-01", NULL));
    assert_int_equal(move_as(f, &who.city, id, "REMEDIATED", NULL, NULL, &err), SYNC_ECONFLICT);
    assert_string_equal(err.code, "evidence_required");
    /* A remediation photo the server does not have yet is no evidence. */
    char cid[UUID_STR_LEN + 1], oid[UUID_STR_LEN + 1], *c = NULL;
    util_uuid_new(cid);
    util_uuid_new(oid);
    assert_true(asprintf(&c,
                         "[{\"changeId\":\"%s\",\"entityId\":\"%s\",\"baseVersion\":\"0\","
                         "\"observation\":{\"outfallId\":\"%s\",\"photos\":[{\"hash\":"
                         "\"%064d\",\"kind\":\"PHOTO_KIND_REMEDIATION_DONE\"}]}}]",
                         cid, oid, id, 7) > 0);
    sync_in(f, "410882", c);
    free(c);
    assert_int_equal(move_as(f, &who.city, id, "REMEDIATED", NULL, NULL, &err), SYNC_ECONFLICT);
    assert_string_equal(err.code, "evidence_required");
    char named[128];
    snprintf(named, sizeof named, ",\"evidenceObservationIds\":[\"%s\"]", oid);
    assert_int_equal(move_as(f, &who.city, id, "REMEDIATED", NULL, named, &err), SYNC_EINVALID);
    assert_string_equal(err.code, "evidence_invalid");
    evidence(f, id, "410882");
    move(f, id, "REMEDIATED", NULL, NULL);
    Outfall__V1__Outfall *o = read_latest(f, id);
    assert_int_equal(o->programme->n_evidence_observation_ids, 1);
    protobuf_c_message_free_unpacked(&o->base, NULL);
    traced_at(f, none, 35.11, 112.97, NULL);
    move(f, none, "PLANNED", NULL, plan("NONE", NULL, NULL));
    move(f, none, "REMEDIATED", NULL, NULL);
    move(f, none, "RETAINED", NULL, NULL);
}

int main(void) {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, fx_teardown)
    const struct CMUnitTest tests[] = {
        T(full_lifecycle_is_versioned_in_history_feed_and_audit),
        T(retried_transition_answers_first_result_and_writes_nothing),
        T(refused_transitions_name_from_and_to_and_write_nothing),
        T(unapproved_pending_stale_and_out_of_scope_are_refused),
        T(dates_are_real_not_in_the_future_and_in_order),
        T(responsible_party_needs_a_valid_credit_code_unless_the_county_steps_in),
        T(rule1_protection_zone_allows_only_a_ban_inside_and_on_the_edge),
        T(rule2_storm_outfall_is_never_merged_or_blocked),
        T(rule5_flood_control_works_need_a_safety_note),
        T(rules3_and_4_flag_enterprise_outfalls),
        T(remediation_needs_stored_evidence_unless_nothing_was_to_be_done),
    };
#undef T
    if (getenv("TEST_FILTER")) cmocka_set_test_filter(getenv("TEST_FILTER"));
    return cmocka_run_group_tests_name("programme", tests, NULL, NULL);
}
