/* What a created record leaves in the history chain, byte for byte: version 1's record_history
 * row holds the canonical text of every leaf the phone set and what the server set beside them
 * (review state, flags, the found date), its hash links it to the row before, and the stored
 * document is the text it always was. Pinned so that work moved off the writer (the fields
 * prepared by the HTTP worker, one copy of the document instead of two) changes none of it. */
#include "fixture.h"

#include "sync/history.h"

#define OUTFALL_ID "0b7e6f2c-4d1a-4c3b-9e8f-1a2b3c4d5e6f"
#define OBS_ID "5c1d2e3f-4a5b-4c6d-8e7f-a0b1c2d3e4f5"
#define PHOTO "247c25790e29dd5bc0a660f775e154eb667dc4a0556419662134187b48624359"

/* The text of the first column of sql's first row (malloc'd), or NULL. */
static char *text_of(fixture *f, const char *sql) {
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(store_db(f->s), sql, -1, &st, NULL), SQLITE_OK);
    char *text = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0)
                     ? strdup((const char *)sqlite3_column_text(st, 0))
                     : NULL;
    sqlite3_finalize(st);
    return text;
}

/* Every record_history row's hash recomputed from its columns and the row before it. */
static void assert_chain_holds(fixture *f) {
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(store_db(f->s),
                                        "SELECT kind, entity_id, version, fields, change_id, "
                                        "user_id, device_id, at_ms, seq, prev_hash, hash "
                                        "FROM record_history ORDER BY seq",
                                        -1, &st, NULL),
                     SQLITE_OK);
    uint8_t prev[32] = {0}, hash[32];
    int rows = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        history_version row = {(const char *)sqlite3_column_text(st, 0),
                               (const char *)sqlite3_column_text(st, 1),
                               sqlite3_column_int64(st, 2),
                               (const char *)sqlite3_column_text(st, 3),
                               (const char *)sqlite3_column_text(st, 4),
                               sqlite3_column_int64(st, 5),
                               (const char *)sqlite3_column_text(st, 6),
                               sqlite3_column_int64(st, 7),
                               sqlite3_column_int64(st, 8)};
        if (rows) {
            assert_int_equal(sqlite3_column_bytes(st, 9), 32);
            assert_memory_equal(sqlite3_column_blob(st, 9), prev, 32);
        }
        history_version_hash(prev, &row, hash);
        assert_int_equal(sqlite3_column_bytes(st, 10), 32);
        assert_memory_equal(sqlite3_column_blob(st, 10), hash, 32);
        memcpy(prev, hash, 32);
        rows++;
    }
    sqlite3_finalize(st);
    assert_int_equal(rows, 2);
}

static void created_records_write_the_pinned_history_text_doc_and_chain(void **state) {
    fixture *f = *state;
    /* An outfall with a nested message, reals and Chinese text; then an observation of it with a
     * photo not uploaded yet (the server flags it), reals that need all 17 digits and an enum. */
    Outfall__V1__SyncResponse *r = fx_sync(
        f, 0,
        "[{\"changeId\":\"9d0f3b1e-2a4c-4e5f-8a6b-7c8d9e0f1a2b\",\"entityId\":\"" OUTFALL_ID
        "\",\"baseVersion\":\"0\",\"outfall\":{\"id\":\"" OUTFALL_ID "\",\"name\":\"沁河排口\","
        "\"type\":\"OUTFALL_TYPE_UNDETERMINED\",\"riverCode\":\"qinhe\",\"divisionCode\":"
        "\"410882\",\"lat\":35.08912,\"lon\":112.95124,\"accuracyM\":4.5,\"landmark\":\"桥下\","
        "\"responsibleParty\":{\"name\":\"沁阳造纸厂\",\"phone\":\"0391-5551234\"}}}]");
    assert_int_equal(r->n_results, 1);
    assert_int_equal(r->results[0]->status, OUTFALL__V1__CHANGE_STATUS__CHANGE_STATUS_APPLIED);
    protobuf_c_message_free_unpacked(&r->base, NULL);
    r = fx_sync(f, 0,
                "[{\"changeId\":\"3e4f5a6b-7c8d-4e9f-a0b1-c2d3e4f5a6b7\",\"entityId\":\"" OBS_ID
                "\",\"baseVersion\":\"0\",\"observation\":{\"outfallId\":\"" OUTFALL_ID
                "\",\"observedAtMs\":\"1773454925000\",\"lat\":35.089123456789012,"
                "\"lon\":112.95124,\"flowing\":true,\"colour\":\"灰黑\",\"codMgL\":0.1,"
                "\"ph\":7.25,\"surveyLevel\":\"SURVEY_LEVEL_WALK\",\"photos\":[{\"hash\":\"" PHOTO
                "\",\"kind\":\"PHOTO_KIND_NEAR\"}]}}]");
    assert_int_equal(r->n_results, 1);
    assert_int_equal(r->results[0]->status, OUTFALL__V1__CHANGE_STATUS__CHANGE_STATUS_APPLIED);
    protobuf_c_message_free_unpacked(&r->base, NULL);

    char day[11];
    util_date_of_ms(util_now_ms(), day);
    char want[600];
    snprintf(want, sizeof want,
             "{\"accuracy_m\":4.5,\"division_code\":\"410882\",\"landmark\":\"桥下\","
             "\"lat\":35.089120000000001,\"lon\":112.95124,\"name\":\"沁河排口\","
             "\"programme.found_on\":\"%s\",\"responsible_party.name\":\"沁阳造纸厂\","
             "\"responsible_party.phone\":\"0391-5551234\",\"review_state\":"
             "\"REVIEW_STATE_PENDING\",\"river_code\":\"qinhe\",\"type\":"
             "\"OUTFALL_TYPE_UNDETERMINED\"}",
             day);
    char *got = text_of(f, "SELECT fields FROM record_history WHERE kind = 'outfall'");
    assert_string_equal(got, want);
    free(got);
    snprintf(want, sizeof want,
             "{\"name\":\"沁河排口\",\"type\":\"OUTFALL_TYPE_UNDETERMINED\",\"river_code\":"
             "\"qinhe\",\"division_code\":\"410882\",\"lat\":35.089120000000001,\"lon\":112.95124,"
             "\"accuracy_m\":4.5,\"landmark\":\"桥下\",\"responsible_party\":{\"name\":"
             "\"沁阳造纸厂\",\"phone\":\"0391-5551234\"},\"programme\":{\"found_on\":\"%s\"},"
             "\"id\":\"" OUTFALL_ID "\",\"version\":1,\"review_state\":\"REVIEW_STATE_PENDING\"}",
             day);
    got = text_of(f, "SELECT doc FROM outfalls");
    assert_string_equal(got, want);
    free(got);

    got = text_of(f, "SELECT fields FROM record_history WHERE kind = 'observation'");
    assert_string_equal(
        got, "{\"cod_mg_l\":0.10000000000000001,\"colour\":\"灰黑\",\"flags\":[\"photos_pending\"],"
             "\"flowing\":true,\"lat\":35.089123456789011,\"lon\":112.95124,\"observed_at_ms\":"
             "\"1773454925000\",\"outfall_id\":\"" OUTFALL_ID "\",\"ph\":7.25,\"photos\":[{"
             "\"hash\":\"" PHOTO "\",\"kind\":\"PHOTO_KIND_NEAR\"}],\"survey_level\":"
             "\"SURVEY_LEVEL_WALK\"}");
    free(got);
    got = text_of(f, "SELECT doc FROM observations");
    assert_string_equal(
        got, "{\"outfall_id\":\"" OUTFALL_ID "\",\"observed_at_ms\":\"1773454925000\","
             "\"lat\":35.089123456789011,\"lon\":112.95124,\"flowing\":true,\"colour\":\"灰黑\","
             "\"photos\":[{\"hash\":\"" PHOTO "\",\"kind\":\"PHOTO_KIND_NEAR\"}],\"cod_mg_l\":"
             "0.10000000000000001,\"ph\":7.25,\"survey_level\":\"SURVEY_LEVEL_WALK\",\"flags\":"
             "[\"photos_pending\"],\"id\":\"" OBS_ID "\",\"version\":1}");
    free(got);
    assert_chain_holds(f);
}

/* A change the worker refuses without the database answers as the writer did and leaves
 * nothing; the good change beside it applies, and the batch sent again answers the same. */
static void refusals_worked_out_before_the_writer_answer_the_same_and_leave_nothing(void **state) {
    fixture *f = *state;
    char batch_id[UUID_STR_LEN + 1];
    util_uuid_new(batch_id);
    const char *changes =
        "[{\"changeId\":\"9d0f3b1e-2a4c-4e5f-8a6b-7c8d9e0f1a2b\",\"entityId\":\"" OUTFALL_ID
        "\",\"baseVersion\":\"0\",\"outfall\":{\"name\":\"a\",\"riverCode\":\"qinhe\","
        "\"divisionCode\":\"410882\",\"lat\":35.08912,\"lon\":112.95124,\"flags\":[\"x\"]}},"
        "{\"changeId\":\"1e4f5a6b-7c8d-4e9f-a0b1-c2d3e4f5a6b7\",\"entityId\":\"not-a-uuid\","
        "\"baseVersion\":\"0\",\"outfall\":{\"name\":\"b\"}},"
        "{\"changeId\":\"2e4f5a6b-7c8d-4e9f-a0b1-c2d3e4f5a6b7\",\"entityId\":\"" OBS_ID "\","
        "\"baseVersion\":\"0\",\"outfall\":{\"id\":\"" OUTFALL_ID "\",\"name\":\"c\"}},"
        "{\"changeId\":\"3e4f5a6b-7c8d-4e9f-a0b1-c2d3e4f5a6b7\",\"entityId\":\"" OBS_ID "\","
        "\"baseVersion\":\"0\",\"outfall\":{\"name\":\"d\",\"riverCode\":\"qinhe\","
        "\"divisionCode\":\"410882\",\"lat\":35.18912,\"lon\":112.95124}}]";
    static const char *const reasons[][2] = {
        {"read_only_field", "flags is set by the server, not the phone"},
        {"invalid_change", "entity_id must be a UUID"},
        {"invalid_change", "the record's id differs from the change's entity_id"},
        {NULL, NULL},
    };
    for (int send = 0; send < 2; send++) {
        sync_error err = {0};
        Outfall__V1__SyncResponse *r = fx_sync_seq(f, 0, 1, batch_id, changes, &err);
        assert_non_null(r);
        assert_int_equal(r->n_results, 4);
        for (size_t i = 0; i < 4; i++) {
            if (!reasons[i][0]) {
                assert_int_equal(r->results[i]->status,
                                 OUTFALL__V1__CHANGE_STATUS__CHANGE_STATUS_APPLIED);
                continue;
            }
            assert_int_equal(r->results[i]->status,
                             OUTFALL__V1__CHANGE_STATUS__CHANGE_STATUS_REJECTED);
            assert_string_equal(r->results[i]->reason, reasons[i][0]);
            assert_string_equal(r->results[i]->message, reasons[i][1]);
        }
        protobuf_c_message_free_unpacked(&r->base, NULL);
    }
    assert_int_equal(fx_count(f, "SELECT count(*) FROM outfalls"), 1);
    assert_int_equal(fx_count(f, "SELECT count(*) FROM outfalls WHERE id = '" OBS_ID "'"), 1);
    assert_int_equal(fx_count(f, "SELECT count(*) FROM record_history"), 1);
    assert_int_equal(fx_count(f, "SELECT count(*) FROM changes"), 4);
}

#define T(name) cmocka_unit_test_setup_teardown(name, fx_setup, fx_teardown)

int main(void) {
    const struct CMUnitTest tests[] = {
        T(created_records_write_the_pinned_history_text_doc_and_chain),
        T(refusals_worked_out_before_the_writer_answer_the_same_and_leave_nothing),
    };
    return cmocka_run_group_tests_name("sync/create_history", tests, NULL, NULL);
}
