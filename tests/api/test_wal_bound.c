/* The write-ahead log's bound (--wal-limit-mb, sync/writer.c gc_checkpoint_past). The server's
 * background thread checkpoints once a second, but SQLite starts the WAL again from its beginning
 * only after a checkpoint that reached its end, and under a steady stream of batches new groups
 * are committed while it copies: the WAL only grew, to 1.4 GB beside a 490 MB database after
 * 100 000 observations from one phone. Past the bound the writing thread checkpoints itself
 * between groups. Here one phone sends batch after batch: with a bound of 1 MiB the WAL file stays
 * within a few MiB and every change is applied; with no bound (0) the same stream grows it to
 * several times that, which shows the stream is steady enough to need the bound. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/lib/harness.h"

#define DIV "410882"
enum { BATCHES = 24, PER_BATCH = 200, PHOTOS = 4 };
#define MIB (1024 * 1024)

/* Watches a file's length from a thread of its own, every millisecond, keeping the largest. */
typedef struct wal_watch {
    char path[400];
    atomic_int stop;
    int64_t largest;
    pthread_t thread;
} wal_watch;

static void *watch_run(void *arg) {
    wal_watch *w = arg;
    while (!atomic_load(&w->stop)) {
        struct stat st;
        if (stat(w->path, &st) == 0 && st.st_size > w->largest) w->largest = st.st_size;
        usleep(1000);
    }
    return NULL;
}

/* Starts a server with --wal-limit-mb limit_mb, sends BATCHES batches of PER_BATCH new
 * observations from one phone one after the other, each as soon as the last is answered, and
 * returns the largest length the WAL file had meanwhile. Every change must be applied. */
static int64_t largest_wal_under_a_stream(const char *limit_mb) {
    const char *args[] = {"--wal-limit-mb", limit_mb, NULL};
    const char *divs[] = {DIV, NULL};
    th_server s;
    th_user u;
    th_device d;
    assert_int_equal(th_server_start(&s, args), 0);
    assert_int_equal(th_user_new(&s, "stream", TH_ROLE(SURVEYOR), divs, &u), 0);
    assert_int_equal(th_device_new(&s, u.token, &d), 0);

    double lat, lon;
    th_spot(&lat, &lon);
    th_batch *b = th_batch_new(&d);
    th_outfall_create(b, "danhe", DIV, lat, lon);
    char outfall[37];
    snprintf(outfall, sizeof outfall, "%s", th_batch_entity(b, 0));
    Outfall__V1__SyncResponse *r = th_sync_ok(&s, u.token, b, TH_PB);
    assert_non_null(r);
    outfall__v1__sync_response__free_unpacked(r, NULL);
    th_batch_free(b);

    wal_watch w = {.largest = 0};
    snprintf(w.path, sizeof w.path, "%s/outfall.db-wal", s.data);
    assert_int_equal(pthread_create(&w.thread, NULL, watch_run, &w), 0);
    int applied = 0;
    for (int i = 0; i < BATCHES; i++) {
        b = th_batch_new(&d);
        for (int k = 0; k < PER_BATCH; k++) {
            Outfall__V1__Observation *o = th_observation_create(b, outfall, lat, lon);
            for (int p = 0; p < PHOTOS; p++) {
                char id[37], hash[65];
                th_uuid(id);
                th_hash_hex(id, strlen(id), hash);
                th_observation_photo(b, o, hash, 1);
            }
        }
        r = th_sync_ok(&s, u.token, b, TH_PB);
        assert_non_null(r);
        for (size_t k = 0; k < r->n_results; k++)
            applied += r->results[k]->status == OUTFALL__V1__CHANGE_STATUS__CHANGE_STATUS_APPLIED;
        outfall__v1__sync_response__free_unpacked(r, NULL);
        th_batch_free(b);
    }
    atomic_store(&w.stop, 1);
    pthread_join(w.thread, NULL);
    assert_int_equal(applied, BATCHES * PER_BATCH);
    assert_int_equal(th_server_stop(&s), 0);
    return w.largest;
}

static void a_steady_stream_keeps_the_wal_within_its_bound(void **state) {
    (void)state;
    int64_t bounded = largest_wal_under_a_stream("1");
    int64_t unbounded = largest_wal_under_a_stream("0");
    print_message("%d batches of %d observations from one phone: the WAL's largest length "
                  "%.1f MiB with a bound of 1 MiB, %.1f MiB with none\n",
                  BATCHES, PER_BATCH, (double)bounded / MIB, (double)unbounded / MIB);
    /* The bound, at most twice it when batches wait, and the group committed past it. */
    assert_true(bounded <= 4 * MIB);
    assert_true(unbounded >= 3 * bounded);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_steady_stream_keeps_the_wal_within_its_bound),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
