/* The engine's hooks (sync/hooks.c): where the engine calls a programme feature, it calls what was
 * registered, and without a registration it calls nothing. Shown on a phone's inspection result
 * (an observation naming a draw), which the programme checks the inspection result
 * (programme/inspection_results.c). */
#include "fixture.h"

#include "programme/hooks.h"
#include "sync/hooks.h"

/* A phone's observation of a new outfall carrying an inspection result for a draw that does not
 * exist, sent as one batch. Returns the change's result (status, reason) and frees the rest. */
static void send_result_for_no_draw(fixture *f, int *status, char reason[64]) {
    char buf[600];
    Outfall__V1__SyncResponse *r = fx_sync(f, 0, fx_one_create(buf, sizeof buf, 35.08));
    assert_int_equal(r->results[0]->status, OUTFALL__V1__CHANGE_STATUS__CHANGE_STATUS_APPLIED);
    char outfall[UUID_STR_LEN + 1];
    util_strlcpy(outfall, r->results[0]->entity_id, sizeof outfall);
    protobuf_c_message_free_unpacked(&r->base, NULL);
    char cid[UUID_STR_LEN + 1], oid[UUID_STR_LEN + 1];
    util_uuid_new(cid);
    util_uuid_new(oid);
    snprintf(buf, sizeof buf,
             "[{\"changeId\":\"%s\",\"entityId\":\"%s\",\"baseVersion\":\"0\","
             "\"observation\":{\"outfallId\":\"%s\",\"observedAtMs\":\"1773454925000\","
             "\"inspectionDrawId\":\"no-such-draw\","
             "\"inspectionResult\":\"INSPECTION_RESULT_COMPLIANT\"}}]",
             cid, oid, outfall);
    r = fx_sync(f, 0, buf);
    *status = r->results[0]->status;
    util_strlcpy(reason, r->results[0]->reason ? r->results[0]->reason : "", 64);
    protobuf_c_message_free_unpacked(&r->base, NULL);
}

static void engine_alone_checks_and_records_no_inspection_result(void **state) {
    fixture *f = *state;
    hooks_install(NULL);
    int status = 0;
    char reason[64];
    send_result_for_no_draw(f, &status, reason);
    assert_int_equal(status, OUTFALL__V1__CHANGE_STATUS__CHANGE_STATUS_APPLIED);
    assert_int_equal(fx_count(f, "SELECT count(*) FROM inspection_results"), 0);
}

static void with_the_programme_hooks_a_result_for_no_draw_is_rejected(void **state) {
    fixture *f = *state;
    programme_hooks_install();
    int status = 0;
    char reason[64];
    send_result_for_no_draw(f, &status, reason);
    hooks_install(NULL);
    assert_int_equal(status, OUTFALL__V1__CHANGE_STATUS__CHANGE_STATUS_REJECTED);
    assert_string_equal(reason, "unknown_draw");
    assert_int_equal(fx_count(f, "SELECT count(*) FROM observations"), 0);
}

static int refuse_every_observation(store *s, const principal *p, int from_phone, json_t *old_doc,
                                    json_t *doc, const char *outfall_id, const char *observation_id,
                                    sync_error *why) {
    (void)s, (void)p, (void)from_phone, (void)old_doc, (void)doc, (void)outfall_id;
    (void)observation_id;
    sync_fail(why, SYNC_EINVALID, "refused_by_hook", "a test's hook refuses it");
    return 1;
}

static void a_registered_hook_decides_what_the_engine_does(void **state) {
    fixture *f = *state;
    hooks_install(&(hooks){.observation_check = refuse_every_observation});
    int status = 0;
    char reason[64];
    send_result_for_no_draw(f, &status, reason);
    hooks_install(NULL);
    assert_int_equal(status, OUTFALL__V1__CHANGE_STATUS__CHANGE_STATUS_REJECTED);
    assert_string_equal(reason, "refused_by_hook");
}

/* What write_then_refuse's write answered (it runs on the writing thread: no assert there). */
static int hook_wrote = -1;

/* A check that writes before it refuses: what a create's checks must never do, since a create
 * runs without a savepoint (sync/batch.c, apply_one). */
static int write_then_refuse(store *s, const principal *p, int from_phone, json_t *old_doc,
                             json_t *doc, const char *outfall_id, const char *observation_id,
                             sync_error *why) {
    (void)p, (void)from_phone, (void)old_doc, (void)doc, (void)outfall_id, (void)observation_id;
    hook_wrote = store_exec(s, "INSERT INTO rivers (code, name, basin_code) SELECT 'test-river', "
                               "'written by a check', basin_code FROM rivers LIMIT 1");
    sync_fail(why, SYNC_EINVALID, "refused_by_hook", "a test's hook refuses it");
    return 1;
}

/* A create refused after it wrote fails its batch whole instead of leaving the row behind; the
 * same refusal made before any write is an ordinary REJECTED answer. */
static void a_create_refused_after_it_wrote_fails_its_batch(void **state) {
    fixture *f = *state;
    char buf[600];
    Outfall__V1__SyncResponse *r = fx_sync(f, 0, fx_one_create(buf, sizeof buf, 35.08));
    char outfall[UUID_STR_LEN + 1];
    util_strlcpy(outfall, r->results[0]->entity_id, sizeof outfall);
    protobuf_c_message_free_unpacked(&r->base, NULL);
    int64_t changes = fx_count(f, "SELECT count(*) FROM changes");
    hooks_install(&(hooks){.observation_check = write_then_refuse});
    char cid[UUID_STR_LEN + 1], oid[UUID_STR_LEN + 1];
    util_uuid_new(cid);
    util_uuid_new(oid);
    snprintf(buf, sizeof buf,
             "[{\"changeId\":\"%s\",\"entityId\":\"%s\",\"baseVersion\":\"0\","
             "\"observation\":{\"outfallId\":\"%s\"}}]",
             cid, oid, outfall);
    sync_error err = {0};
    r = fx_sync_seq(f, 0, ++f->seq[0], NULL, buf, &err);
    hooks_install(NULL);
    assert_int_equal(hook_wrote, SQLITE_OK);
    assert_null(r);
    assert_string_equal(err.code, "internal");
    assert_int_equal(fx_count(f, "SELECT count(*) FROM rivers WHERE code = 'test-river'"), 0);
    assert_int_equal(fx_count(f, "SELECT count(*) FROM observations"), 0);
    assert_int_equal(fx_count(f, "SELECT count(*) FROM changes"), changes);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(engine_alone_checks_and_records_no_inspection_result,
                                        fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(with_the_programme_hooks_a_result_for_no_draw_is_rejected,
                                        fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(a_registered_hook_decides_what_the_engine_does, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(a_create_refused_after_it_wrote_fails_its_batch, fx_setup,
                                        fx_teardown),
    };
    return cmocka_run_group_tests_name("sync/hooks", tests, NULL, NULL);
}
