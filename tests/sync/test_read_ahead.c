/* Reads the worker makes ahead for the writer (sync/read_ahead.h): whether a create's
 * change id and record are new, and where its observation's outfall lives, read on the worker's
 * handle while the writer's transaction for the batch is open. What the batch's own earlier
 * changes wrote the worker cannot see, so a repeat late in a batch must still get the answer it
 * got before. Each case puts its repeat last, after enough other creates that the worker reads
 * ahead by then: once it begins, it reads ahead for every create after, so a count that moved
 * (read_ahead_count) says the last change was read ahead too. */
#include "fixture.h"
#include "sync/read_ahead.h"

enum { FILLERS = 2000 };

static char outfall[UUID_STR_LEN + 1];

/* An observation create of outfall_id, as a JSON Change; malloc'd. */
static char *observation(const char *change_id, const char *entity, const char *outfall_id) {
    char cid[UUID_STR_LEN + 1], oid[UUID_STR_LEN + 1], *out = NULL;
    if (!change_id) util_uuid_new(cid);
    if (!entity) util_uuid_new(oid);
    if (asprintf(&out,
                 "{\"changeId\":\"%s\",\"entityId\":\"%s\",\"baseVersion\":\"0\","
                 "\"observation\":{\"outfallId\":\"%s\",\"observedAtMs\":\"1773454925000\","
                 "\"flowing\":true,\"colour\":\"灰\"}}",
                 change_id ? change_id : cid, entity ? entity : oid, outfall_id) < 0)
        return NULL;
    return out;
}

/* A JSON array of changes, written as it grows (open_memstream). */
typedef struct batch {
    char *text;
    size_t len;
    FILE *out;
    int n;
} batch;

static void batch_open(batch *b) {
    memset(b, 0, sizeof *b);
    b->out = open_memstream(&b->text, &b->len);
    assert_non_null(b->out);
    fputc('[', b->out);
}

/* Appends change (taken). */
static void append(batch *b, char *change) {
    assert_non_null(change);
    fprintf(b->out, "%s%s", b->n++ ? "," : "", change);
    free(change);
}

/* Sends the batch from phone 0 and frees its text. */
static Outfall__V1__SyncResponse *batch_send(fixture *f, batch *b) {
    fputc(']', b->out);
    assert_int_equal(fclose(b->out), 0);
    Outfall__V1__SyncResponse *r = fx_sync(f, 0, b->text);
    free(b->text);
    return r;
}

/* A batch of first, FILLERS new observations of the fixture's outfall, then last (both taken);
 * sent from phone 0. Returns the answer; asserts the worker read ahead for the last change. */
static Outfall__V1__SyncResponse *late_repeat(fixture *f, char *first, char *last) {
    batch b;
    batch_open(&b);
    append(&b, first);
    for (int i = 0; i < FILLERS; i++)
        append(&b, observation(NULL, NULL, outfall));
    append(&b, last);
    uint64_t before = read_ahead_count();
    Outfall__V1__SyncResponse *r = batch_send(f, &b);
    assert_int_equal(r->n_results, FILLERS + 2);
    /* The writer took the batch at once, and the worker read ahead once its transaction was
     * open (some milliseconds on a loaded machine), so for the last change. */
    assert_true(read_ahead_count() > before);
    return r;
}

static int setup(void **state) {
    if (fx_setup(state)) return -1;
    fixture *f = *state;
    char buf[1024];
    Outfall__V1__SyncResponse *r = fx_sync(f, 0, fx_one_create(buf, sizeof buf, 35.08621));
    assert_int_equal(r->results[0]->status, OUTFALL__V1__CHANGE_STATUS__CHANGE_STATUS_APPLIED);
    util_strlcpy(outfall, r->results[0]->entity_id, sizeof outfall);
    protobuf_c_message_free_unpacked(&r->base, NULL);
    return 0;
}

/* The same change twice in one batch: the second is a replay of the first, written once. */
static void a_change_id_repeated_in_its_batch_is_answered_as_already_applied(void **state) {
    fixture *f = *state;
    char cid[UUID_STR_LEN + 1], oid[UUID_STR_LEN + 1];
    util_uuid_new(cid);
    util_uuid_new(oid);
    Outfall__V1__SyncResponse *r =
        late_repeat(f, observation(cid, oid, outfall), observation(cid, oid, outfall));
    assert_int_equal(r->results[0]->status, OUTFALL__V1__CHANGE_STATUS__CHANGE_STATUS_APPLIED);
    const Outfall__V1__ChangeResult *last = r->results[FILLERS + 1];
    assert_int_equal(last->status, OUTFALL__V1__CHANGE_STATUS__CHANGE_STATUS_ALREADY_APPLIED);
    assert_int_equal(last->version, 1);
    protobuf_c_message_free_unpacked(&r->base, NULL);
    assert_int_equal(fx_count(f, "SELECT count(*) FROM observations"), FILLERS + 1);
}

/* Two creates of one record in a batch: the second is refused, and the first stays. */
static void a_record_created_twice_in_its_batch_is_refused_the_second_time(void **state) {
    fixture *f = *state;
    char oid[UUID_STR_LEN + 1];
    util_uuid_new(oid);
    Outfall__V1__SyncResponse *r =
        late_repeat(f, observation(NULL, oid, outfall), observation(NULL, oid, outfall));
    assert_int_equal(r->results[0]->status, OUTFALL__V1__CHANGE_STATUS__CHANGE_STATUS_APPLIED);
    const Outfall__V1__ChangeResult *last = r->results[FILLERS + 1];
    assert_int_equal(last->status, OUTFALL__V1__CHANGE_STATUS__CHANGE_STATUS_REJECTED);
    assert_string_equal(last->reason, "already_exists");
    protobuf_c_message_free_unpacked(&r->base, NULL);
    assert_int_equal(fx_count(f, "SELECT count(*) FROM observations"), FILLERS + 1);
}

/* An observation of an outfall the batch created earlier finds it. */
static void an_observation_finds_the_outfall_its_batch_created(void **state) {
    fixture *f = *state;
    char oid[UUID_STR_LEN + 1], cid[UUID_STR_LEN + 1], *create = NULL;
    util_uuid_new(oid);
    util_uuid_new(cid);
    assert_true(asprintf(&create,
                         "{\"changeId\":\"%s\",\"entityId\":\"%s\",\"baseVersion\":\"0\","
                         "\"outfall\":{\"name\":\"沁河排口\",\"type\":\"OUTFALL_TYPE_"
                         "UNDETERMINED\",\"riverCode\":\"qinhe\",\"divisionCode\":\"410882\","
                         "\"lat\":35.2,\"lon\":112.95124}}",
                         cid, oid) > 0);
    Outfall__V1__SyncResponse *r = late_repeat(f, create, observation(NULL, NULL, oid));
    assert_int_equal(r->results[0]->status, OUTFALL__V1__CHANGE_STATUS__CHANGE_STATUS_APPLIED);
    assert_int_equal(r->results[FILLERS + 1]->status,
                     OUTFALL__V1__CHANGE_STATUS__CHANGE_STATUS_APPLIED);
    protobuf_c_message_free_unpacked(&r->base, NULL);
}

/* A batch whose creates were all read ahead answers as the engine answered before: an id the
 * log holds is a replay, a record that exists is refused, an unknown outfall is refused. */
static void what_an_earlier_batch_wrote_is_read_ahead_as_it_is(void **state) {
    fixture *f = *state;
    char cid[UUID_STR_LEN + 1], oid[UUID_STR_LEN + 1], nowhere[UUID_STR_LEN + 1];
    util_uuid_new(cid);
    util_uuid_new(oid);
    util_uuid_new(nowhere);
    batch b;
    batch_open(&b);
    append(&b, observation(cid, oid, outfall));
    Outfall__V1__SyncResponse *r = batch_send(f, &b);
    protobuf_c_message_free_unpacked(&r->base, NULL);

    batch_open(&b);
    for (int i = 0; i < FILLERS; i++)
        append(&b, observation(NULL, NULL, outfall));
    append(&b, observation(cid, oid, outfall));
    append(&b, observation(NULL, oid, outfall));
    append(&b, observation(NULL, NULL, nowhere));
    uint64_t before = read_ahead_count();
    r = batch_send(f, &b);
    assert_true(read_ahead_count() > before);
    assert_int_equal(r->results[FILLERS]->status,
                     OUTFALL__V1__CHANGE_STATUS__CHANGE_STATUS_ALREADY_APPLIED);
    assert_int_equal(r->results[FILLERS + 1]->status,
                     OUTFALL__V1__CHANGE_STATUS__CHANGE_STATUS_REJECTED);
    assert_string_equal(r->results[FILLERS + 1]->reason, "already_exists");
    assert_int_equal(r->results[FILLERS + 2]->status,
                     OUTFALL__V1__CHANGE_STATUS__CHANGE_STATUS_REJECTED);
    assert_string_equal(r->results[FILLERS + 2]->reason, "unknown_outfall");
    protobuf_c_message_free_unpacked(&r->base, NULL);
    assert_int_equal(fx_count(f, "SELECT count(*) FROM observations"), FILLERS + 1);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, fx_teardown)

int main(void) {
    const struct CMUnitTest tests[] = {
        T(a_change_id_repeated_in_its_batch_is_answered_as_already_applied),
        T(a_record_created_twice_in_its_batch_is_refused_the_second_time),
        T(an_observation_finds_the_outfall_its_batch_created),
        T(what_an_earlier_batch_wrote_is_read_ahead_as_it_is),
    };
    return cmocka_run_group_tests_name("reads made ahead", tests, NULL, NULL);
}
