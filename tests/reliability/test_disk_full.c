/* Disk full: the data folder on a 4 MiB tmpfs the test mounts (it runs as root, as CI and the
 * development machines do; without the mount it fails, it never skips). Once a filler file has
 * taken every free byte, syncs that cannot be stored answer 507 storage_full and photo uploads
 * 507 storage_full; the server stays up and reads keep working; once the space is freed the same
 * requests succeed, and nothing is corrupted: integrity_check, both hash chains, every
 * acknowledged change once, every photo's bytes its hash. The mount is always undone. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/mount.h>
#include <sys/statvfs.h>

#include <cmocka.h>

#include "tests/reliability/rel.h"

enum { MAX_FILL_BATCHES = 200, CREATES_PER_BATCH = 20, LANDMARK_LEN = 1500 };

static rel_server srv;
static char root[300], mnt[400], filler[450];
static int mounted;
static th_user surveyor;
static th_device dev;
static int photos_on;
static uint8_t *fixture;
static size_t fixture_len;

/* Every change acknowledged, by change_id, and every batch with its size. */
static char (*acked)[37];
static size_t n_acked, cap_acked;
static char (*batch_ids)[37];
static size_t *batch_sizes, n_batches, cap_batches;

static void unmount(void) {
    if (!mounted) return;
    if (umount2(mnt, 0) != 0 && umount2(mnt, MNT_DETACH) != 0)
        fprintf(stderr, "disk-full: cannot unmount %s: %s\n", mnt, strerror(errno));
    else
        mounted = 0;
}

static void at_exit(void) {
    rel_server_kill(&srv);
    unmount();
}

static int setup(void **state) {
    (void)state;
    if (rel_tmpdir("diskfull", root, sizeof root) != 0) return -1;
    snprintf(mnt, sizeof mnt, "%s/mnt", root);
    snprintf(filler, sizeof filler, "%s/filler", mnt);
    if (mkdir(mnt, 0700) != 0) return -1;
    atexit(at_exit);
    return 0;
}

static int teardown(void **state) {
    (void)state;
    rel_server_kill(&srv);
    unmount();
    if (getenv("TH_KEEP"))
        fprintf(stderr, "disk-full: kept %s (the data folder went with the tmpfs)\n", root);
    else if (!mounted)
        rel_rmtree(root);
    free(acked);
    free(batch_ids);
    free(batch_sizes);
    free(fixture);
    return 0;
}

static long free_kib(void) {
    struct statvfs v;
    return statvfs(mnt, &v) == 0 ? (long)(v.f_bavail * v.f_frsize / 1024) : -1;
}

/* Takes every free byte of the tmpfs into the filler file: big writes, then smaller ones, down
 * to single bytes. Returns the bytes written. */
static long fill_up(void) {
    int fd = open(filler, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    static uint8_t block[64 * 1024];
    memset(block, 0x5a, sizeof block);
    long total = 0;
    for (size_t size = sizeof block; size >= 1; size /= 4) {
        ssize_t n;
        while ((n = write(fd, block, size)) > 0)
            total += n;
        assert_true(n < 0 && errno == ENOSPC);
        if (size < 4) break;
    }
    fsync(fd);
    close(fd);
    return total;
}

/* A batch of CREATES_PER_BATCH outfalls with long landmarks: one that needs room to store. */
static th_batch *bulky_batch(int round) {
    th_batch *b = th_batch_new(&dev);
    static char landmark[LANDMARK_LEN + 1];
    for (int i = 0; i < CREATES_PER_BATCH; i++) {
        double lat, lon;
        rel_spot(&lat, &lon);
        int n = snprintf(landmark, sizeof landmark, "round %d outfall %d ", round, i);
        memset(landmark + n, 'x', sizeof landmark - 1 - (size_t)n);
        landmark[LANDMARK_LEN] = '\0';
        th_outfall_create(b, REL_RIVER, REL_DIV, lat, lon)->landmark = th_batch_str(b, landmark);
    }
    return b;
}

/* Sends the exact bytes of b (encoded and signed once by the caller). On 200, checks every
 * change APPLIED and records them. Returns the status; the error code into code[64]. */
static long send_bytes(th_batch *b, const uint8_t *bytes, size_t len, const char *sig,
                       char code[64]) {
    th_sync_result r;
    long st = th_sync_raw(&srv.th, surveyor.token, TH_PB, sig, bytes, len, &r);
    util_strlcpy(code, r.err.code, 64);
    if (st == 200) {
        Outfall__V1__SyncRequest *req = th_batch_req(b);
        assert_non_null(r.resp);
        assert_int_equal(r.resp->n_results, req->n_changes);
        for (size_t i = 0; i < req->n_changes; i++) {
            const Outfall__V1__ChangeResult *c = r.resp->results[i];
            if (strcmp(th_status_name(c->status), "APPLIED") != 0)
                print_message("change %zu: %s %s\n", i, th_status_name(c->status), TH_S(c->reason));
            assert_string_equal(th_status_name(c->status), "APPLIED");
            if (n_acked == cap_acked) {
                cap_acked = cap_acked ? 2 * cap_acked : 256;
                acked = realloc(acked, cap_acked * sizeof *acked);
                assert_non_null(acked);
            }
            util_strlcpy(acked[n_acked++], TH_S(c->change_id), 37);
        }
        if (n_batches == cap_batches) {
            cap_batches = cap_batches ? 2 * cap_batches : 64;
            batch_ids = realloc(batch_ids, cap_batches * sizeof *batch_ids);
            batch_sizes = realloc(batch_sizes, cap_batches * sizeof *batch_sizes);
            assert_true(batch_ids && batch_sizes);
        }
        util_strlcpy(batch_ids[n_batches], req->batch_id, 37);
        batch_sizes[n_batches++] = req->n_changes;
        if (req->device_seq == dev.next_seq) dev.next_seq++;
    }
    th_sync_result_free(&r);
    return st;
}

/* Encodes and signs b, sends it once; returns the status. */
static long send_batch(th_batch *b, char code[64]) {
    const uint8_t *bytes;
    size_t len;
    assert_int_equal(th_batch_encode(b, TH_PB, &bytes, &len), 0);
    char *sig = th_sign_b64(dev.sk, bytes, len);
    long st = send_bytes(b, bytes, len, sig, code);
    free(sig);
    return st;
}

static long get_status(const char *path, const char *token) {
    th_request rq = {.method = "GET", .path = path, .token = token, .accept = TH_PB};
    th_response r;
    long st = th_http(&srv.th, &rq, &r);
    th_response_free(&r);
    return st;
}

static void full_disk_answers_507_and_recovers_intact(void **state) {
    (void)state;
    if (mount("tmpfs", mnt, "tmpfs", MS_NOSUID | MS_NODEV, "size=4m,mode=0700") != 0) {
        print_message("disk-full: cannot mount a 4 MiB tmpfs at %s: %s. This test needs root "
                      "(CAP_SYS_ADMIN) to make a small filesystem; it does not skip.\n",
                      mnt, strerror(errno));
        fail();
    }
    mounted = 1;
    char data[500], log[400];
    snprintf(data, sizeof data, "%s/data", mnt);
    snprintf(log, sizeof log, "%s/server.log", root); /* the log stays off the full disk */
    rel_server_init(&srv, data, log, NULL);
    assert_int_equal(rel_server_start(&srv), 0);
    assert_non_null(th_admin_token(&srv.th));
    assert_int_equal(rel_surveyor(&srv, &surveyor), 0);
    assert_int_equal(th_device_new(&srv.th, surveyor.token, &dev), 0);

    /* Some records and a photo stored while there is room. */
    char code[64], seeded[37];
    th_batch *b = th_batch_new(&dev);
    for (int i = 0; i < 3; i++) {
        double lat, lon;
        rel_spot(&lat, &lon);
        th_outfall_create(b, REL_RIVER, REL_DIV, lat, lon)->landmark = "before the disk filled";
    }
    util_strlcpy(seeded, th_batch_entity(b, 0), sizeof seeded);
    assert_int_equal(send_batch(b, code), 200);
    th_batch_free(b);
    assert_int_equal(rel_fixture("qinhe-outfall-a-2.jpg", &fixture, &fixture_len), 0);
    char seeded_photo[65], late_photo[65];
    util_blake2b_hex(fixture, fixture_len, seeded_photo);
    th_error e;
    long st = rel_photo_put(&srv.th, surveyor.token, seeded_photo, fixture, fixture_len, &e);
    photos_on = st == 201 || st == 200;
    if (!photos_on) { /* the photo routes are part of what this test proves */
        fprintf(stderr, "disk-full: PUT of a fixture photo answered %ld %s\n", st, e.code);
        fail();
    }

    long before = free_kib();
    long filled = fill_up();
    rel_say("disk-full: tmpfs 4 MiB, %ld KiB free before the filler, %ld KiB written into it, "
            "%ld KiB free now\n",
            before, filled / 1024, free_kib());

    /* A photo cannot land. */
    uint8_t *photo = NULL;
    size_t photo_len = 0;
    long photo_full = 0;
    if (photos_on) {
        assert_int_equal(
            rel_jpeg_unique(fixture, fixture_len, "written on a full disk", &photo, &photo_len), 0);
        util_blake2b_hex(photo, photo_len, late_photo);
        photo_full = rel_photo_put(&srv.th, surveyor.token, late_photo, photo, photo_len, &e);
        rel_say("disk-full: PUT of a %zu-byte photo answered %ld %s\n", photo_len, photo_full,
                e.code);
        assert_int_equal(photo_full, 507);
        assert_string_equal(e.code, "storage_full");
    }

    /* Batches until one cannot be stored: SQLite may still reuse room in its WAL for a while. */
    th_batch *refused = NULL;
    const uint8_t *bytes = NULL;
    size_t len = 0;
    char *sig = NULL;
    int stored_while_full = 0;
    for (int round = 0; round < MAX_FILL_BATCHES && !refused; round++) {
        b = bulky_batch(round);
        assert_int_equal(th_batch_encode(b, TH_PB, &bytes, &len), 0);
        sig = th_sign_b64(dev.sk, bytes, len);
        st = send_bytes(b, bytes, len, sig, code);
        if (st == 200) {
            stored_while_full++;
            free(sig);
            th_batch_free(b);
            continue;
        }
        if (st != 507) print_message("a sync on a full disk answered %ld %s\n", st, code);
        assert_int_equal(st, 507);
        assert_string_equal(code, "storage_full");
        refused = b;
    }
    assert_non_null(refused);
    /* Retrying while still full is refused the same way, and writes nothing. */
    int64_t changes_before = 0;
    st = send_bytes(refused, bytes, len, sig, code);
    assert_int_equal(st, 507);
    assert_string_equal(code, "storage_full");

    /* The server is up and reads work. */
    int alive = waitpid(srv.pid, NULL, WNOHANG) == 0;
    long health = get_status("/healthz", NULL);
    Outfall__V1__Outfall *o = NULL;
    long read = th_get_outfall(&srv.th, surveyor.token, seeded, &o, &e);
    if (o) outfall__v1__outfall__free_unpacked(o, NULL);
    Outfall__V1__ChangesResponse *page = NULL;
    long pulled = th_pull(&srv.th, surveyor.token, 0, 50, &page, &e);
    size_t n_feed = page ? page->n_feed : 0;
    if (page) outfall__v1__changes_response__free_unpacked(page, NULL);
    int photo_read = photos_on ? rel_photo_matches(&srv.th, surveyor.token, seeded_photo) : 1;
    rel_say("disk-full: %d bulky batches stored before the first 507, then 507 storage_full "
            "twice for the same batch; server %s, healthz %ld, read outfall %ld, pull %ld (%zu "
            "entries), stored photo read back %s\n",
            stored_while_full, alive ? "up" : "DOWN", health, read, pulled, n_feed,
            photo_read ? "whole" : "WRONG");
    assert_true(alive);
    assert_int_equal(health, 200);
    assert_int_equal(read, 200);
    assert_int_equal(pulled, 200);
    assert_true(photo_read);
    sqlite3 *db = rel_db_open(srv.data);
    assert_non_null(db);
    changes_before = rel_db_int(db, "SELECT count(*) FROM changes WHERE batch_id = ?1",
                                th_batch_req(refused)->batch_id);
    sqlite3_close(db);
    assert_int_equal(changes_before, 0); /* not partly applied */

    /* Room again: the same requests succeed. */
    assert_int_equal(unlink(filler), 0);
    st = send_bytes(refused, bytes, len, sig, code);
    if (st != 200) print_message("the refused batch, once room was freed: %ld %s\n", st, code);
    assert_int_equal(st, 200);
    free(sig);
    th_batch_free(refused);
    long photo_after = 0;
    int late_read = 1;
    if (photos_on) {
        photo_after = rel_photo_put(&srv.th, surveyor.token, late_photo, photo, photo_len, &e);
        assert_int_equal(photo_after, 201);
        late_read = rel_photo_matches(&srv.th, surveyor.token, late_photo);
        assert_true(late_read);
    }
    free(photo);
    b = bulky_batch(-1);
    st = send_batch(b, code);
    th_batch_free(b);
    assert_int_equal(st, 200);
    rel_say("disk-full: after freeing %ld KiB: the refused batch answered 200 (all applied), the "
            "refused photo %ld, a new batch 200\n",
            filled / 1024, photo_after);

    /* Nothing corrupted. */
    assert_int_equal(rel_server_stop(&srv), 0);
    char msg[256];
    int integrity = rel_integrity(srv.data, msg, sizeof msg);
    db = rel_db_open(srv.data);
    assert_non_null(db);
    size_t absent = 0, partial = 0;
    for (size_t i = 0; i < n_acked; i++)
        absent +=
            rel_db_int(db, "SELECT count(*) FROM changes WHERE change_id = ?1", acked[i]) != 1;
    for (size_t i = 0; i < n_batches; i++)
        partial += rel_db_int(db, "SELECT count(*) FROM changes WHERE batch_id = ?1",
                              batch_ids[i]) != (int64_t)batch_sizes[i];
    int64_t total = rel_db_int(db, "SELECT count(*) FROM changes", NULL);
    sqlite3_close(db);
    rel_store_check photos;
    int store = rel_photo_store(srv.data, &photos);
    backup_chain audit, history;
    int chains = rel_chains_ok(srv.data, &audit, &history);
    rel_say("disk-full: integrity_check %s; %zu acknowledged changes (%lld stored), %zu missing, "
            "%zu batches not whole; photos %ld/%ld verified, %ld bad, %ld temporary files left; "
            "audit chain %s (%lld), history chain %s (%lld)\n",
            msg, n_acked, (long long)total, absent, partial, photos.verified, photos.rows,
            photos.bad, photos.temp, audit.broken ? "BROKEN" : "ok", (long long)audit.rows,
            history.broken ? "BROKEN" : "ok", (long long)history.rows);
    assert_int_equal(integrity, 0);
    assert_int_equal(absent, 0);
    assert_int_equal(partial, 0);
    assert_int_equal(total, (int64_t)n_acked);
    assert_int_equal(store, 0);
    assert_int_equal(chains, 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(full_disk_answers_507_and_recovers_intact),
    };
    return cmocka_run_group_tests_name("reliability/disk_full", tests, setup, teardown);
}
