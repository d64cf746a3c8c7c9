/* The group commit's writing thread (sync/writer.c): batches sent at once from many threads, each
 * with its own handle as the server's request threads have, are all applied, each once, by one
 * thread that stays; writer_close stops it and the next batch starts it again; when it
 * cannot start, the sending threads write the groups themselves. */
#include "fixture.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/resource.h>
#include <unistd.h>

#include "sync/prep.h"
#include "sync/writer.h"

#define WRITER_NAME "outfalld-writer"
#define FREER_NAME "outfalld-free"

enum { SENDERS = 6, BATCHES = 12, CHANGES = 3 };

typedef struct sender {
    fixture *f;
    int idx;
    char device[32];
    int applied;   /* changes answered APPLIED */
    int answered;  /* batches answered */
    char why[400]; /* the first failure */
} sender;

static void *send_batches(void *arg) {
    sender *x = arg;
    store *s = NULL;
    sync_error err = {0};
    if (store_open(x->f->path, &s, &err)) {
        snprintf(x->why, sizeof x->why, "store_open: %s", err.message);
        return NULL;
    }
    for (int b = 0; b < BATCHES; b++) {
        char *changes = strdup("["), *json = NULL, bid[UUID_STR_LEN + 1];
        for (int c = 0; c < CHANGES && changes; c++) {
            char id[UUID_STR_LEN + 1], cid[UUID_STR_LEN + 1], *more = NULL;
            util_uuid_new(id);
            util_uuid_new(cid);
            if (asprintf(&more,
                         "%s%s{\"changeId\":\"%s\",\"entityId\":\"%s\",\"baseVersion\":\"0\","
                         "\"outfall\":{\"name\":\"沁河排口 %d-%d-%d\",\"type\":"
                         "\"OUTFALL_TYPE_UNDETERMINED\",\"riverCode\":\"qinhe\","
                         "\"divisionCode\":\"410882\",\"lat\":%.5f,\"lon\":112.95124}}",
                         changes, c ? "," : "", cid, id, x->idx, b, c,
                         35.0 + 0.01 * (x->idx * BATCHES * CHANGES + b * CHANGES + c)) < 0)
                more = NULL;
            free(changes);
            changes = more;
        }
        util_uuid_new(bid);
        if (!changes || asprintf(&json,
                                 "{\"batchId\":\"%s\",\"deviceId\":\"%s\",\"deviceSeq\":\"%d\","
                                 "\"changes\":%s]}",
                                 bid, x->device, b + 1, changes) < 0)
            json = NULL;
        free(changes);
        ProtobufCMessage *req = NULL;
        char why[200];
        if (!json || pbjson_decode(&outfall__v1__sync_request__descriptor, json, strlen(json), &req,
                                   why, sizeof why)) {
            snprintf(x->why, sizeof x->why, "bad test batch");
            free(json);
            break;
        }
        free(json);
        Outfall__V1__SyncResponse *resp = NULL;
        int rc = batch_sync(s, &x->f->cfg, &x->f->surveyor, (Outfall__V1__SyncRequest *)req, &resp,
                            &err);
        protobuf_c_message_free_unpacked(req, NULL);
        if (rc || !resp) {
            snprintf(x->why, sizeof x->why, "batch %d: %s %s", b, err.code, err.message);
            break;
        }
        x->answered++;
        for (size_t i = 0; i < resp->n_results; i++)
            x->applied +=
                resp->results[i]->status == OUTFALL__V1__CHANGE_STATUS__CHANGE_STATUS_APPLIED;
        protobuf_c_message_free_unpacked(&resp->base, NULL);
    }
    store_close(s);
    return NULL;
}

/* This program is linked with -Wl,--wrap=pthread_create (Makefile): while refuse_threads is set,
 * no thread but a sender starts, as when the system is out of threads. */
int __real_pthread_create(pthread_t *t, const pthread_attr_t *attr, void *(*fn)(void *), void *arg);
int __wrap_pthread_create(pthread_t *t, const pthread_attr_t *attr, void *(*fn)(void *), void *arg);

static atomic_int refuse_threads;

int __wrap_pthread_create(pthread_t *t, const pthread_attr_t *attr, void *(*fn)(void *),
                          void *arg) {
    if (atomic_load(&refuse_threads) && fn != send_batches) return EAGAIN;
    return __real_pthread_create(t, attr, fn, arg);
}

/* SENDERS threads, each with its own handle and phone, send BATCHES batches at once; every
 * change is applied once and each phone's batches in its order. */
static void send_at_once(fixture *f) {
    sender senders[SENDERS];
    pthread_t t[SENDERS];
    for (int i = 0; i < SENDERS; i++) {
        senders[i] = (sender){.f = f, .idx = i};
        snprintf(senders[i].device, sizeof senders[i].device, "phone-gc-%d", i);
        fx_device(f, &f->surveyor, senders[i].device);
    }
    for (int i = 0; i < SENDERS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, send_batches, &senders[i]), 0);
    for (int i = 0; i < SENDERS; i++)
        assert_int_equal(pthread_join(t[i], NULL), 0);
    for (int i = 0; i < SENDERS; i++) {
        if (senders[i].why[0]) fail_msg("sender %d: %s", i, senders[i].why);
        assert_int_equal(senders[i].answered, BATCHES);
        assert_int_equal(senders[i].applied, BATCHES * CHANGES);
    }
    assert_int_equal(fx_count(f, "SELECT count(*) FROM outfalls"), SENDERS * BATCHES * CHANGES);
    assert_int_equal(fx_count(f, "SELECT count(*) FROM batches WHERE state = 'applied'"),
                     SENDERS * BATCHES);
    assert_int_equal(fx_count(f, "SELECT count(*) FROM changes"), SENDERS * BATCHES * CHANGES);
    /* Each device's batches in its order, none twice. */
    assert_int_equal(fx_count(f, "SELECT count(*) FROM (SELECT device_id FROM batches "
                                 "WHERE device_id LIKE 'phone-gc-%' GROUP BY device_id "
                                 "HAVING max(device_seq) = count(*) AND "
                                 "count(DISTINCT device_seq) = count(*))"),
                     SENDERS);
}

static void batches_at_once_are_applied_once_by_one_writing_thread(void **state) {
    fixture *f = *state;
    send_at_once(f);
    /* One thread wrote them, and it stays for the next batches. */
    assert_int_equal(fx_threads_named(WRITER_NAME, NULL), 1);
}

static void without_a_writing_thread_the_senders_write_the_groups(void **state) {
    fixture *f = *state;
    writer_close();
    atomic_store(&refuse_threads, 1);
    send_at_once(f);
    atomic_store(&refuse_threads, 0);
    assert_int_equal(fx_threads_named(WRITER_NAME, NULL), 0);

    /* Once threads can start again (writer_close forgets the failure), one writes. */
    writer_close();
    char batch[600];
    Outfall__V1__SyncResponse *r = fx_sync(f, 0, fx_one_create(batch, sizeof batch, 38.5));
    assert_int_equal(r->results[0]->status, OUTFALL__V1__CHANGE_STATUS__CHANGE_STATUS_APPLIED);
    protobuf_c_message_free_unpacked(&r->base, NULL);
    assert_int_equal(fx_threads_named(WRITER_NAME, NULL), 1);
}

static void closing_stops_the_writing_thread_and_a_batch_starts_it_again(void **state) {
    fixture *f = *state;
    char batch[600];
    Outfall__V1__SyncResponse *r = fx_sync(f, 0, fx_one_create(batch, sizeof batch, 35.08621));
    assert_int_equal(r->results[0]->status, OUTFALL__V1__CHANGE_STATUS__CHANGE_STATUS_APPLIED);
    protobuf_c_message_free_unpacked(&r->base, NULL);
    assert_int_equal(fx_threads_named(WRITER_NAME, NULL), 1);

    writer_close();
    assert_int_equal(fx_threads_named(WRITER_NAME, NULL), 0);

    r = fx_sync(f, 1, fx_one_create(batch, sizeof batch, 35.18621));
    assert_int_equal(r->results[0]->status, OUTFALL__V1__CHANGE_STATUS__CHANGE_STATUS_APPLIED);
    protobuf_c_message_free_unpacked(&r->base, NULL);
    assert_int_equal(fx_threads_named(WRITER_NAME, NULL), 1);
    assert_int_equal(fx_count(f, "SELECT count(*) FROM outfalls"), 2);
}

/* ---- a failing job inside a group ----
 * Jobs written straight through writer_submit: each writes a row of its own into gc_probe. The
 * first one holds the writing thread until the others are queued, so they go as one group. */
typedef struct probe_job {
    writer_job w;
    int id;
    int write_first; /* writes its row before failing (or succeeding) */
    int fails;       /* returns an error */
    int calls;       /* how often the writer called it */
    pthread_t thread;
} probe_job;

static atomic_int probes_queued, probe_holding;

static int probe_write(store *ws, void *arg, sync_error *err) {
    probe_job *p = arg;
    p->calls++;
    if (p->id == 0) { /* the first: wait until the others are about to queue */
        atomic_store(&probe_holding, 1);
        for (int i = 0; i < 500 && atomic_load(&probes_queued) < 3; i++)
            usleep(10000);
        usleep(200000);
    }
    if (p->write_first) {
        char sql[96];
        snprintf(sql, sizeof sql, "INSERT INTO gc_probe (job) VALUES (%d)", p->id);
        if (sqlite3_exec(store_db(ws), sql, NULL, NULL, NULL) != SQLITE_OK)
            return sync_fail(err, SYNC_EINTERNAL, "storage_error", "probe insert failed");
    }
    return p->fails ? sync_fail(err, SYNC_ECONFLICT, "probe_failed", "job %d fails", p->id) : 0;
}

static void *probe_submit(void *arg) {
    probe_job *p = arg;
    if (p->id) atomic_fetch_add(&probes_queued, 1);
    writer_submit(&p->w);
    return NULL;
}

static void a_job_that_fails_leaves_nothing_and_the_rest_of_its_group_is_kept(void **state) {
    fixture *f = *state;
    assert_int_equal(store_exec(f->s, "CREATE TABLE gc_probe (job INTEGER NOT NULL)"), SQLITE_OK);
    const char *file = sqlite3_db_filename(store_db(f->s), "main");
    /* 0 holds the writer; then, queued in this order, 1 writes and succeeds, 2 writes, then
     * fails, 3 fails before writing. */
    probe_job jobs[4] = {{.id = 0, .write_first = 1},
                         {.id = 1, .write_first = 1},
                         {.id = 2, .write_first = 1, .fails = 1},
                         {.id = 3, .fails = 1}};
    atomic_store(&probes_queued, 0);
    atomic_store(&probe_holding, 0);
    for (int i = 0; i < 4; i++)
        jobs[i].w = (writer_job){
            .s = f->s, .file = file, .n_changes = 1, .write = probe_write, .arg = &jobs[i]};
    assert_int_equal(pthread_create(&jobs[0].thread, NULL, probe_submit, &jobs[0]), 0);
    for (int i = 0; i < 1000 && !atomic_load(&probe_holding); i++)
        usleep(10000);            /* until the first is being written, alone */
    for (int i = 1; i < 4; i++) { /* queued in this order */
        assert_int_equal(pthread_create(&jobs[i].thread, NULL, probe_submit, &jobs[i]), 0);
        usleep(50000);
    }
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_join(jobs[i].thread, NULL), 0);

    assert_int_equal(jobs[0].w.rc, 0);
    assert_int_equal(jobs[1].w.rc, 0);
    assert_int_equal(jobs[2].w.rc, SYNC_ECONFLICT);
    assert_string_equal(jobs[2].w.err.code, "probe_failed");
    assert_int_equal(jobs[3].w.rc, SYNC_ECONFLICT);
    /* The rows of the jobs that succeeded, once each; nothing of the one that failed. */
    assert_int_equal(fx_count(f, "SELECT count(*) FROM gc_probe WHERE job = 0"), 1);
    assert_int_equal(fx_count(f, "SELECT count(*) FROM gc_probe WHERE job = 1"), 1);
    assert_int_equal(fx_count(f, "SELECT count(*) FROM gc_probe"), 2);
    /* 1, 2 and 3 went as one group: 2 failed after writing, so the transaction was rolled back
     * and 1 written again; 3 failed before writing and cost nothing. */
    assert_int_equal(jobs[0].calls, 1);
    assert_int_equal(jobs[1].calls, 2);
    assert_int_equal(jobs[2].calls, 1);
    assert_int_equal(jobs[3].calls, 1);
}

/* A real batch in a group that is rolled back and written again: the second write works the
 * changes out anew (the worker's preparation was taken by the first), and what it leaves is a
 * create's, byte for byte. */
typedef struct batch_thread {
    fixture *f;
    const char *changes;
    Outfall__V1__SyncResponse *resp;
    sync_error err;
    pthread_t thread;
} batch_thread;

static void *send_one_batch(void *arg) {
    batch_thread *b = arg;
    atomic_fetch_add(&probes_queued, 1);
    b->resp = fx_sync_seq(b->f, 0, 1, NULL, b->changes, &b->err);
    return NULL;
}

static void a_batch_written_again_after_its_group_rolled_back_applies_once_the_same(void **state) {
    fixture *f = *state;
    assert_int_equal(store_exec(f->s, "CREATE TABLE gc_probe (job INTEGER NOT NULL)"), SQLITE_OK);
    const char *file = sqlite3_db_filename(store_db(f->s), "main");
    probe_job jobs[3] = {{.id = 0, .write_first = 1},
                         {.id = 2, .write_first = 1, .fails = 1},
                         {.id = 3, .fails = 1}};
    atomic_store(&probes_queued, 0);
    atomic_store(&probe_holding, 0);
    for (int i = 0; i < 3; i++)
        jobs[i].w = (writer_job){
            .s = f->s, .file = file, .n_changes = 1, .write = probe_write, .arg = &jobs[i]};
    batch_thread b = {.f = f,
                      .changes = "[{\"changeId\":\"9d0f3b1e-2a4c-4e5f-8a6b-7c8d9e0f1a2b\","
                                 "\"entityId\":\"0b7e6f2c-4d1a-4c3b-9e8f-1a2b3c4d5e6f\","
                                 "\"baseVersion\":\"0\",\"outfall\":{\"name\":\"沁河排口\","
                                 "\"type\":\"OUTFALL_TYPE_UNDETERMINED\",\"riverCode\":\"qinhe\","
                                 "\"divisionCode\":\"410882\",\"lat\":35.08912,"
                                 "\"lon\":112.95124}}]"};
    assert_int_equal(pthread_create(&jobs[0].thread, NULL, probe_submit, &jobs[0]), 0);
    for (int i = 0; i < 1000 && !atomic_load(&probe_holding); i++)
        usleep(10000); /* until the first is being written, alone */
    /* Queued in this order: the batch, a job that fails after writing, one that fails before. */
    assert_int_equal(pthread_create(&b.thread, NULL, send_one_batch, &b), 0);
    usleep(50000);
    for (int i = 1; i < 3; i++) {
        assert_int_equal(pthread_create(&jobs[i].thread, NULL, probe_submit, &jobs[i]), 0);
        usleep(50000);
    }
    for (int i = 0; i < 3; i++)
        assert_int_equal(pthread_join(jobs[i].thread, NULL), 0);
    assert_int_equal(pthread_join(b.thread, NULL), 0);

    assert_int_equal(jobs[1].w.rc, SYNC_ECONFLICT);
    assert_int_equal(jobs[1].calls, 1);
    assert_non_null(b.resp);
    assert_int_equal(b.resp->n_results, 1);
    assert_int_equal(b.resp->results[0]->status, OUTFALL__V1__CHANGE_STATUS__CHANGE_STATUS_APPLIED);
    protobuf_c_message_free_unpacked(&b.resp->base, NULL);
    assert_int_equal(fx_count(f, "SELECT count(*) FROM outfalls"), 1);
    assert_int_equal(fx_count(f, "SELECT count(*) FROM changes"), 1);
    assert_int_equal(fx_count(f, "SELECT count(*) FROM record_history"), 1);
    char day[11], want[400];
    util_date_of_ms(util_now_ms(), day);
    snprintf(want, sizeof want,
             "SELECT count(*) FROM record_history WHERE fields = '{\"division_code\":\"410882\","
             "\"lat\":35.089120000000001,\"lon\":112.95124,\"name\":\"沁河排口\","
             "\"programme.found_on\":\"%s\",\"review_state\":\"REVIEW_STATE_PENDING\","
             "\"river_code\":\"qinhe\",\"type\":\"OUTFALL_TYPE_UNDETERMINED\"}'",
             day);
    assert_int_equal(fx_count(f, want), 1);
    snprintf(want, sizeof want,
             "SELECT count(*) FROM outfalls WHERE doc = '{\"name\":\"沁河排口\",\"type\":"
             "\"OUTFALL_TYPE_UNDETERMINED\",\"river_code\":\"qinhe\",\"division_code\":"
             "\"410882\",\"lat\":35.089120000000001,\"lon\":112.95124,\"programme\":{"
             "\"found_on\":\"%s\"},\"id\":\"0b7e6f2c-4d1a-4c3b-9e8f-1a2b3c4d5e6f\","
             "\"version\":1,\"review_state\":\"REVIEW_STATE_PENDING\"}'",
             day);
    assert_int_equal(fx_count(f, want), 1);
}

/* The room the budget of prepared changes has (sync/prep.c PREPARED_BUDGET) is all free: a
 * request of that many changes gets it. */
static void assert_budget_all_free(void) {
    Outfall__V1__SyncRequest whole = OUTFALL__V1__SYNC_REQUEST__INIT;
    whole.n_changes = 5000;
    change_prep *room = prep_alloc(&whole);
    assert_non_null(room);
    prep_free(room, whole.n_changes);
    whole.n_changes = 5001;
    assert_null(prep_alloc(&whole));
}

/* A batch's preparation is freed after its answer by a thread of its own; closing frees what
 * waits and stops it, and every change's room is back in the budget. */
static void a_batchs_preparation_is_freed_after_its_answer_and_its_room_given_back(void **state) {
    fixture *f = *state;
    prep_close();
    assert_int_equal(fx_threads_named(FREER_NAME, NULL), 0);
    int own = getpriority(PRIO_PROCESS, 0);
    send_at_once(f);
    pid_t freer = 0;
    assert_int_equal(fx_threads_named(FREER_NAME, &freer), 1);
    /* At the lowest priority, so that the answer it follows keeps its CPU (sync/prep.c); the
     * other threads as they were. The thread sets it as it starts: waited for, up to 5 s. */
    for (int i = 0; i < 500 && getpriority(PRIO_PROCESS, (id_t)freer) != 19; i++)
        usleep(10000);
    assert_int_equal(getpriority(PRIO_PROCESS, (id_t)freer), 19);
    assert_int_equal(getpriority(PRIO_PROCESS, 0), own);
    prep_close();
    assert_int_equal(fx_threads_named(FREER_NAME, NULL), 0);
    assert_budget_all_free();

    /* Without that thread, the sender frees it itself, and it is tried again next time. */
    atomic_store(&refuse_threads, 1);
    char batch[600];
    Outfall__V1__SyncResponse *r = fx_sync(f, 0, fx_one_create(batch, sizeof batch, 39.1));
    assert_int_equal(r->results[0]->status, OUTFALL__V1__CHANGE_STATUS__CHANGE_STATUS_APPLIED);
    protobuf_c_message_free_unpacked(&r->base, NULL);
    atomic_store(&refuse_threads, 0);
    assert_int_equal(fx_threads_named(FREER_NAME, NULL), 0);
    assert_budget_all_free();
    r = fx_sync(f, 1, fx_one_create(batch, sizeof batch, 39.3));
    assert_int_equal(r->results[0]->status, OUTFALL__V1__CHANGE_STATUS__CHANGE_STATUS_APPLIED);
    protobuf_c_message_free_unpacked(&r->base, NULL);
    assert_int_equal(fx_threads_named(FREER_NAME, NULL), 1);
    prep_close();
    assert_budget_all_free();
}

/* Each test's folder is removed with its file: close the writing handles on it first. */
static int gc_teardown(void **state) {
    writer_close();
    return fx_teardown(state);
}

#define T(name) cmocka_unit_test_setup_teardown(name, fx_setup, gc_teardown)

int main(void) {
    const struct CMUnitTest tests[] = {
        T(batches_at_once_are_applied_once_by_one_writing_thread),
        T(closing_stops_the_writing_thread_and_a_batch_starts_it_again),
        T(without_a_writing_thread_the_senders_write_the_groups),
        T(a_job_that_fails_leaves_nothing_and_the_rest_of_its_group_is_kept),
        T(a_batch_written_again_after_its_group_rolled_back_applies_once_the_same),
        T(a_batchs_preparation_is_freed_after_its_answer_and_its_room_given_back),
    };
    return cmocka_run_group_tests_name("sync/group_commit", tests, NULL, NULL);
}
