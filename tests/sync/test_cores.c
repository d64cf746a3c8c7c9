/* The writing thread's core (common/cores.c) and its use by the group commit (sync/writer.c):
 * which CPUs a thread may run on, read back with sched_getaffinity. */
#include "fixture.h"

#include <sched.h>
#include <time.h>

#include "common/cores.h"
#include "sync/writer.h"

static cpu_set_t mask_now(void) {
    cpu_set_t m;
    CPU_ZERO(&m);
    assert_int_equal(sched_getaffinity(0, sizeof m, &m), 0);
    return m;
}

static void sleep_ms(int ms) {
    struct timespec t = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&t, NULL);
}

/* Every test starts and ends with this thread free to run anywhere and the placement off. */
static cpu_set_t all;

static int cores_setup(void **state) {
    all = mask_now();
    char note[160];
    cores_init(0, note, sizeof note);
    return fx_setup(state);
}

static int cores_teardown(void **state) {
    writer_close(); /* the writing thread and its handle on this test's file */
    sched_setaffinity(0, sizeof all, &all);
    char note[160];
    cores_init(0, note, sizeof note);
    return fx_teardown(state);
}

static int highest_cpu(const cpu_set_t *m) {
    for (int c = CPU_SETSIZE - 1; c >= 0; c--)
        if (CPU_ISSET(c, m)) return c;
    return -1;
}

static void off_leaves_threads_where_they_are(void **state) {
    (void)state;
    char note[160];
    assert_int_equal(cores_init(0, note, sizeof note), 0);
    assert_non_null(strstr(note, "off"));
    assert_int_equal(cores_writer_cpu(), -1);
    cores_writer_begin();
    cpu_set_t m = mask_now();
    assert_true(CPU_EQUAL(&m, &all));
    cores_writer_end();
    cores_worker_place();
    m = mask_now();
    assert_true(CPU_EQUAL(&m, &all));
}

static void one_cpu_is_off(void **state) {
    (void)state;
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(highest_cpu(&all), &one);
    assert_int_equal(sched_setaffinity(0, sizeof one, &one), 0);
    char note[160];
    assert_int_equal(cores_init(1, note, sizeof note), 0);
    assert_non_null(strstr(note, "1 CPU"));
    assert_int_equal(cores_writer_cpu(), -1);
    cores_writer_begin();
    cpu_set_t m = mask_now();
    assert_true(CPU_EQUAL(&m, &one));
}

static void writer_takes_a_cpu_workers_keep_off_it_while_writing(void **state) {
    (void)state;
    if (CPU_COUNT(&all) < 2) skip();
    char note[160];
    assert_int_equal(cores_init(1, note, sizeof note), 1);
    int w = highest_cpu(&all);
    assert_int_equal(cores_writer_cpu(), w);

    /* Before any batch: a worker may run anywhere. */
    cores_worker_place();
    cpu_set_t m = mask_now();
    assert_true(CPU_EQUAL(&m, &all));

    cores_writer_begin();
    m = mask_now();
    assert_int_equal(CPU_COUNT(&m), 1);
    assert_true(CPU_ISSET(w, &m));

    /* The writing thread keeps its CPU between groups. */
    cores_writer_end();
    m = mask_now();
    assert_int_equal(CPU_COUNT(&m), 1);
    assert_true(CPU_ISSET(w, &m));

    /* Still busy: a request keeps off the writer's CPU (a request thread that wrote a group,
     * when the writing thread could not be started, leaves it so). */
    cores_worker_place();
    m = mask_now();
    assert_int_equal(CPU_COUNT(&m), CPU_COUNT(&all) - 1);
    assert_false(CPU_ISSET(w, &m));

    /* Quiet for longer than CORES_BUSY_MS: every CPU again. */
    sleep_ms(CORES_BUSY_MS + 100);
    cores_worker_place();
    m = mask_now();
    assert_true(CPU_EQUAL(&m, &all));
}

/* A batch through the engine is written by the writing thread, on the writer's CPU alone; the
 * thread that sent it was not moved (it would be, were the group written on it). */
static void a_batch_is_written_by_the_writing_thread_on_its_cpu(void **state) {
    fixture *f = *state;
    if (CPU_COUNT(&all) < 2) skip();
    char note[160];
    assert_int_equal(cores_init(1, note, sizeof note), 1);
    char batch[600];
    Outfall__V1__SyncResponse *r = fx_sync(f, 0, fx_one_create(batch, sizeof batch, 35.08621));
    assert_int_equal(r->n_results, 1);
    assert_int_equal(r->results[0]->status, OUTFALL__V1__CHANGE_STATUS__CHANGE_STATUS_APPLIED);
    protobuf_c_message_free_unpacked(&r->base, NULL);
    cpu_set_t m = mask_now();
    assert_true(CPU_EQUAL(&m, &all));
    pid_t writer = 0;
    assert_int_equal(fx_threads_named("outfalld-writer", &writer), 1);
    CPU_ZERO(&m);
    assert_int_equal(sched_getaffinity(writer, sizeof m, &m), 0);
    assert_int_equal(CPU_COUNT(&m), 1);
    assert_true(CPU_ISSET(cores_writer_cpu(), &m));
}

#define T(name) cmocka_unit_test_setup_teardown(name, cores_setup, cores_teardown)

int main(void) {
    const struct CMUnitTest tests[] = {
        T(off_leaves_threads_where_they_are),
        T(one_cpu_is_off),
        T(writer_takes_a_cpu_workers_keep_off_it_while_writing),
        T(a_batch_is_written_by_the_writing_thread_on_its_cpu),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
