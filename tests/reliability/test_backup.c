/* Backups: `outfallctl backup` while phones sync and upload against the running server, then
 * `outfallctl restore` into a fresh folder and a second server on it. The backup is one
 * consistent moment: everything acknowledged before it began is in it, every batch in it is
 * whole; the restored server answers the backed-up records at their versions, their history as
 * the original server tells it up to those versions, and every photo with bytes matching its
 * hash; its chains verify. A damaged backup (one byte of a photo, one byte of the database) is
 * refused by restore. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "tests/reliability/rel.h"

enum { PHONES = 3, SEED_STEPS = 8 };

typedef struct acked {
    char id[65]; /* a change_id, a batch_id or a photo hash */
    double at;   /* when its answer came */
    size_t size; /* a batch's changes */
} acked;

typedef struct list {
    acked *items;
    size_t n, cap;
} list;

typedef struct phone {
    int idx;
    th_user user;
    th_device dev;
    unsigned seed;
    char (*outfalls)[37];
    int64_t *versions;
    size_t n_outfalls, cap_outfalls;
    list changes, batches, photos;
    long steps;
    char failure[400];
} phone;

static rel_server srv, restored;
static char root[300], backup_dir[400], restore_dir[400];
static phone phones[PHONES];
static int stop_load, photos_on;
static uint8_t *fixture;
static size_t fixture_len;

static void add(list *l, const char *id, size_t size) {
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 128;
        l->items = realloc(l->items, l->cap * sizeof *l->items);
        if (!l->items) abort();
    }
    util_strlcpy(l->items[l->n].id, id, sizeof l->items[l->n].id);
    l->items[l->n].at = rel_now();
    l->items[l->n++].size = size;
}

/* One step of a phone: a new outfall, an edit of one of its own, and every other step an
 * observation naming a photo uploaded just before. Returns 0, or -1 with p->failure set. */
static int phone_step(phone *p) {
    long k = p->steps++;
    th_batch *b = th_batch_new(&p->dev);
    double lat, lon;
    char text[96];
    rel_spot(&lat, &lon);
    snprintf(text, sizeof text, "backup phone %d step %ld", p->idx, k);
    th_outfall_create(b, REL_RIVER, REL_DIV, lat, lon)->landmark = th_batch_str(b, text);
    size_t edited = 0;
    if (p->n_outfalls) {
        edited = rand_r(&p->seed) % p->n_outfalls;
        snprintf(text, sizeof text, "edited at step %ld", k);
        th_outfall_edit(b, p->outfalls[edited], p->versions[edited])->landmark =
            th_batch_str(b, text);
        if (photos_on && k % 2 == 0) {
            uint8_t *bytes = NULL;
            size_t len = 0;
            char hash[65];
            snprintf(text, sizeof text, "backup test phone %d step %ld", p->idx, k);
            th_error e;
            if (rel_jpeg_unique(fixture, fixture_len, text, &bytes, &len) != 0) abort();
            util_blake2b_hex(bytes, len, hash);
            long st = rel_photo_put(&srv.th, p->user.token, hash, bytes, len, &e);
            free(bytes);
            if (st != 201) {
                snprintf(p->failure, sizeof p->failure, "phone %d: PUT photo: %ld %s", p->idx, st,
                         e.code);
                th_batch_free(b);
                return -1;
            }
            add(&p->photos, hash, 0);
            rel_spot(&lat, &lon);
            th_observation_photo(b, th_observation_create(b, p->outfalls[edited], lat, lon), hash,
                                 OUTFALL__V1__PHOTO_KIND__PHOTO_KIND_NEAR);
        }
    }
    Outfall__V1__SyncRequest *req = th_batch_req(b);
    th_sync_result r;
    long st = th_sync(&srv.th, p->user.token, b, TH_PB, &r);
    int rc = 0;
    if (st != 200 || !r.resp || r.resp->n_results != req->n_changes) {
        snprintf(p->failure, sizeof p->failure, "phone %d: sync %ld %s %s", p->idx, st, r.err.code,
                 r.err.message);
        rc = -1;
    }
    for (size_t i = 0; rc == 0 && i < req->n_changes; i++) {
        const Outfall__V1__ChangeResult *c = r.resp->results[i];
        const char *status = th_status_name(c->status);
        if (strcmp(status, "APPLIED") != 0 && strcmp(status, "MERGED") != 0) {
            snprintf(p->failure, sizeof p->failure, "phone %d: change %zu %s %s", p->idx, i, status,
                     TH_S(c->reason));
            rc = -1;
            break;
        }
        add(&p->changes, TH_S(c->change_id), 0);
        if (i == 1) p->versions[edited] = c->version;
    }
    if (rc == 0) {
        add(&p->batches, req->batch_id, req->n_changes);
        if (p->n_outfalls == p->cap_outfalls) {
            p->cap_outfalls = p->cap_outfalls ? 2 * p->cap_outfalls : 64;
            p->outfalls = realloc(p->outfalls, p->cap_outfalls * sizeof *p->outfalls);
            p->versions = realloc(p->versions, p->cap_outfalls * sizeof *p->versions);
            if (!p->outfalls || !p->versions) abort();
        }
        util_strlcpy(p->outfalls[p->n_outfalls], th_batch_entity(b, 0), 37);
        p->versions[p->n_outfalls++] = 1;
    }
    th_sync_result_free(&r);
    th_batch_free(b);
    return rc;
}

static void *phone_main(void *arg) {
    phone *p = arg;
    while (!__atomic_load_n(&stop_load, __ATOMIC_ACQUIRE) && phone_step(p) == 0) {
    }
    return NULL;
}

static int setup(void **state) {
    (void)state;
    if (rel_tmpdir("backup", root, sizeof root) != 0) return -1;
    char data[400], log[400];
    snprintf(data, sizeof data, "%s/data", root);
    snprintf(log, sizeof log, "%s/server.log", root);
    snprintf(backup_dir, sizeof backup_dir, "%s/backup", root);
    snprintf(restore_dir, sizeof restore_dir, "%s/restored", root);
    rel_server_init(&srv, data, log, NULL);
    if (rel_server_start(&srv) != 0 || !th_admin_token(&srv.th)) return -1;
    for (int i = 0; i < PHONES; i++) {
        phones[i].idx = i;
        phones[i].seed = (unsigned)(31 * i + 5);
        if (rel_surveyor(&srv, &phones[i].user) != 0 ||
            th_device_new(&srv.th, phones[i].user.token, &phones[i].dev) != 0)
            return -1;
    }
    if (rel_fixture("qinhe-outfall-a-1.jpg", &fixture, &fixture_len) != 0) return -1;
    char hash[65];
    th_error e;
    util_blake2b_hex(fixture, fixture_len, hash);
    long st = rel_photo_put(&srv.th, phones[0].user.token, hash, fixture, fixture_len, &e);
    photos_on = st == 200 || st == 201;
    if (!photos_on) { /* the photo routes are part of what this test proves */
        fprintf(stderr, "backup: PUT of a fixture photo answered %ld %s\n", st, e.code);
        return -1;
    }
    return 0;
}

static int teardown(void **state) {
    (void)state;
    rel_server_kill(&srv);
    rel_server_kill(&restored);
    if (getenv("TH_KEEP"))
        fprintf(stderr, "backup: kept %s\n", root);
    else
        rel_rmtree(root);
    for (int i = 0; i < PHONES; i++) {
        free(phones[i].outfalls);
        free(phones[i].versions);
        free(phones[i].changes.items);
        free(phones[i].batches.items);
        free(phones[i].photos.items);
    }
    free(fixture);
    return 0;
}

/* GET /v1/outfalls/{id}/history from s as the admin. */
static Outfall__V1__OutfallHistory *history_of(rel_server *s, const char *id) {
    char path[128];
    snprintf(path, sizeof path, "/v1/outfalls/%s/history", id);
    Outfall__V1__OutfallHistory *h = NULL;
    th_error e;
    long st = th_call(&s->th, "GET", path, th_admin_token(&s->th), TH_PB, NULL,
                      &outfall__v1__outfall_history__descriptor, (ProtobufCMessage **)&h, &e);
    if (st != 200) print_message("GET %s: %ld %s\n", path, st, e.code);
    assert_int_equal(st, 200);
    return h;
}

/* 1 when the restored history equals the original's entries up to version. */
static int same_history(const Outfall__V1__OutfallHistory *orig,
                        const Outfall__V1__OutfallHistory *back, int64_t version) {
    size_t j = 0;
    for (size_t i = 0; i < orig->n_changes; i++) {
        const Outfall__V1__FieldChange *a = orig->changes[i];
        if (a->version > version) continue;
        if (j >= back->n_changes) return 0;
        const Outfall__V1__FieldChange *b = back->changes[j++];
        if (a->version != b->version || strcmp(TH_S(a->field), TH_S(b->field)) != 0 ||
            strcmp(TH_S(a->value), TH_S(b->value)) != 0 ||
            strcmp(TH_S(a->change_id), TH_S(b->change_id)) != 0)
            return 0;
    }
    return j == back->n_changes;
}

/* Flips one byte in the middle of path. */
static void damage(const char *path) {
    int fd = open(path, O_RDWR);
    assert_true(fd >= 0);
    off_t size = lseek(fd, 0, SEEK_END);
    uint8_t byte;
    assert_int_equal(pread(fd, &byte, 1, size / 2), 1);
    byte ^= 0x01;
    assert_int_equal(pwrite(fd, &byte, 1, size / 2), 1);
    close(fd);
}

static void backup_under_load_restores_records_history_and_photos(void **state) {
    (void)state;
    for (int s = 0; s < SEED_STEPS; s++)
        for (int i = 0; i < PHONES; i++)
            assert_int_equal(phone_step(&phones[i]), 0);
    pthread_t threads[PHONES];
    for (int i = 0; i < PHONES; i++)
        assert_int_equal(pthread_create(&threads[i], NULL, phone_main, &phones[i]), 0);
    rel_sleep_ms(500);

    char out[8192];
    const char *backup_args[] = {"backup", backup_dir, "--data", srv.data, NULL};
    double t_backup = rel_now();
    int rc = rel_ctl(out, sizeof out, backup_args);
    double backup_s = rel_now() - t_backup;
    rel_sleep_ms(300);
    __atomic_store_n(&stop_load, 1, __ATOMIC_RELEASE);
    for (int i = 0; i < PHONES; i++)
        pthread_join(threads[i], NULL);
    for (int i = 0; i < PHONES; i++)
        if (phones[i].failure[0]) print_message("%s\n", phones[i].failure);
    for (int i = 0; i < PHONES; i++)
        assert_string_equal(phones[i].failure, "");
    assert_int_equal(rc, 0);

    /* The backup is one moment: all acknowledged before it began is in it, and every batch in
     * it is whole. */
    char path[600];
    snprintf(path, sizeof path, "%s/outfall.db", backup_dir);
    sqlite3 *bdb = NULL;
    assert_int_equal(sqlite3_open_v2(path, &bdb, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    size_t before = 0, missing = 0, batches_in = 0, partial = 0, photos_before = 0,
           photos_missing = 0, changes_total = 0, batches_total = 0, phone0_after = 0;
    for (int i = 0; i < PHONES; i++) {
        phone *p = &phones[i];
        changes_total += p->changes.n;
        batches_total += p->batches.n;
        for (size_t j = 0; j < p->changes.n; j++) {
            if (p->changes.items[j].at >= t_backup) continue;
            before++;
            missing += rel_db_int(bdb, "SELECT count(*) FROM changes WHERE change_id = ?1",
                                  p->changes.items[j].id) != 1;
        }
        for (size_t j = 0; j < p->batches.n; j++) {
            const char *id = p->batches.items[j].id;
            int64_t n = rel_db_int(bdb, "SELECT count(*) FROM changes WHERE batch_id = ?1", id);
            int64_t b = rel_db_int(bdb, "SELECT count(*) FROM batches WHERE batch_id = ?1", id);
            batches_in += b == 1;
            if (i == 0) phone0_after += b != 1;
            partial += b != 1 ? n != 0 : n != (int64_t)p->batches.items[j].size;
        }
        for (size_t j = 0; j < p->photos.n; j++) {
            if (p->photos.items[j].at >= t_backup) continue;
            photos_before++;
            photos_missing += rel_db_int(bdb, "SELECT count(*) FROM photos WHERE hash = ?1",
                                         p->photos.items[j].id) != 1;
        }
    }
    rel_say("backup: taken in %.2f s under load (%zu batches, %zu changes acknowledged in all); "
            "it holds %zu batches, none partial (%zu are); %zu/%zu changes and %zu/%zu photos "
            "acknowledged before it began\n",
            backup_s, batches_total, changes_total, batches_in, partial, before - missing, before,
            photos_before - photos_missing, photos_before);
    assert_int_equal(missing, 0);
    assert_int_equal(partial, 0);
    assert_int_equal(photos_missing, 0);
    assert_true(batches_in > 0 && batches_in < batches_total); /* load ran across it */

    /* Restore into a fresh folder (and not over a used one), and serve it. */
    const char *restore_args[] = {"restore", backup_dir, "--data", restore_dir, NULL};
    assert_int_equal(rel_ctl(out, sizeof out, restore_args), 0);
    assert_int_equal(rel_ctl(out, sizeof out, restore_args), 1);
    assert_non_null(strstr(out, "not empty"));
    char log[400];
    snprintf(log, sizeof log, "%s/restored.log", root);
    rel_server_init(&restored, restore_dir, log, NULL);
    assert_int_equal(rel_server_start(&restored), 0);
    util_strlcpy(restored.th.admin_token, srv.th.admin_token, sizeof restored.th.admin_token);

    /* Records at the backed-up versions, their history as the original tells it. */
    sqlite3_stmt *st = NULL;
    assert_int_equal(
        sqlite3_prepare_v2(bdb, "SELECT id, version FROM outfalls ORDER BY id", -1, &st, NULL),
        SQLITE_OK);
    size_t records = 0, wrong = 0, history_rows = 0, history_wrong = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *id = (const char *)sqlite3_column_text(st, 0);
        int64_t version = sqlite3_column_int64(st, 1);
        Outfall__V1__Outfall *o = NULL;
        th_error e;
        records++;
        if (th_get_outfall(&restored.th, th_admin_token(&restored.th), id, &o, &e) != 200 ||
            o->version != version)
            wrong++;
        if (o) outfall__v1__outfall__free_unpacked(o, NULL);
        Outfall__V1__OutfallHistory *h1 = history_of(&srv, id), *h2 = history_of(&restored, id);
        history_rows += h2->n_changes;
        if (!same_history(h1, h2, version) && history_wrong++ == 0)
            print_message("history of %s differs after the restore\n", id);
        outfall__v1__outfall_history__free_unpacked(h1, NULL);
        outfall__v1__outfall_history__free_unpacked(h2, NULL);
    }
    sqlite3_finalize(st);
    /* Every photo, to those who may read it: the admin when an observation's reference to it
     * counts (its author uploaded it), else its uploader (a photo uploaded just before the backup,
     * named by a batch after it). */
    size_t photos = 0, photos_ok = 0;
    assert_int_equal(sqlite3_prepare_v2(bdb,
                                        "SELECT p.hash, EXISTS (SELECT 1 FROM "
                                        "observation_photos_proven r WHERE r.hash = p.hash), "
                                        "u.username FROM photos p LEFT JOIN users u ON "
                                        "u.id = p.uploaded_by",
                                        -1, &st, NULL),
                     SQLITE_OK);
    while (sqlite3_step(st) == SQLITE_ROW) {
        char token[128] = "";
        const char *name = (const char *)sqlite3_column_text(st, 2);
        for (int i = 0; i < PHONES && !token[0] && !sqlite3_column_int(st, 1); i++)
            if (name && strcmp(phones[i].user.name, name) == 0)
                th_login(&restored.th, name, phones[i].user.password, token, NULL, NULL);
        photos++;
        photos_ok +=
            (size_t)rel_photo_matches(&restored.th, token[0] ? token : th_admin_token(&restored.th),
                                      (const char *)sqlite3_column_text(st, 0));
    }
    sqlite3_finalize(st);
    sqlite3_close(bdb);
    const char *verify_args[] = {"audit", "verify", "--data", restore_dir, NULL};
    int verified = rel_ctl(out, sizeof out, verify_args);

    /* The restored server takes new work. */
    th_device fresh;
    assert_int_equal(th_device_new(&restored.th, phones[0].user.token, &fresh), 0);
    th_batch *b = th_batch_new(&fresh);
    double lat, lon;
    rel_spot(&lat, &lon);
    th_outfall_create(b, REL_RIVER, REL_DIV, lat, lon);
    Outfall__V1__SyncResponse *resp = th_sync_ok(&restored.th, phones[0].user.token, b, TH_PB);
    th_batch_free(b);
    assert_non_null(resp);
    outfall__v1__sync_response__free_unpacked(resp, NULL);
    /* A phone that synced after the backup: its next batch waits behind the sequence numbers
     * the restored server never saw (docs/operations.md, Backups). */
    size_t after = phone0_after;
    b = th_batch_new(&phones[0].dev);
    rel_spot(&lat, &lon);
    th_outfall_create(b, REL_RIVER, REL_DIV, lat, lon);
    resp = th_sync_ok(&restored.th, phones[0].user.token, b, TH_PB);
    th_batch_free(b);
    assert_non_null(resp);
    assert_int_equal(resp->n_results, 1);
    const char *next_status = th_status_name(resp->results[0]->status);
    assert_string_equal(next_status, after ? "HELD" : "APPLIED");
    rel_say("backup: restored server: %zu outfalls, %zu at another version; %zu history entries, "
            "%zu outfalls whose history differs from the original's; %zu/%zu photos read back "
            "with their hash; audit verify exit %d; a new device's sync answered 200; a phone "
            "with %zu batches the backup lacks gets %s for its next\n",
            records, wrong, history_rows, history_wrong, photos_ok, photos, verified, after,
            next_status);
    outfall__v1__sync_response__free_unpacked(resp, NULL);
    assert_true(records > 0);
    assert_int_equal(wrong, 0);
    assert_int_equal(history_wrong, 0);
    assert_int_equal(photos_ok, photos);
    if (photos_on) assert_true(photos > 1);
    assert_int_equal(verified, 0);
    assert_int_equal(rel_server_stop(&restored), 0);
    assert_int_equal(rel_server_stop(&srv), 0);

    /* A damaged backup is refused, naming what is wrong. */
    char dest[500];
    if (photos_on) {
        sqlite3 *db = rel_db_open(restore_dir);
        assert_non_null(db);
        sqlite3_stmt *one = NULL;
        char hash[65] = "";
        if (sqlite3_prepare_v2(db, "SELECT hash FROM photos LIMIT 1", -1, &one, NULL) ==
                SQLITE_OK &&
            sqlite3_step(one) == SQLITE_ROW)
            util_strlcpy(hash, (const char *)sqlite3_column_text(one, 0), sizeof hash);
        sqlite3_finalize(one);
        sqlite3_close(db);
        char photo[800];
        snprintf(photo, sizeof photo, "%s/photos", backup_dir);
        backup_photo_path(photo, hash, path, sizeof path);
        damage(path);
        snprintf(dest, sizeof dest, "%s/restored-2", root);
        const char *args[] = {"restore", backup_dir, "--data", dest, NULL};
        assert_int_equal(rel_ctl(out, sizeof out, args), 1);
        assert_non_null(strstr(out, "digest_mismatch"));
        assert_non_null(strstr(out, hash));
        damage(path); /* back as it was */
    }
    snprintf(path, sizeof path, "%s/outfall.db", backup_dir);
    damage(path);
    snprintf(dest, sizeof dest, "%s/restored-3", root);
    const char *args[] = {"restore", backup_dir, "--data", dest, NULL};
    assert_int_equal(rel_ctl(out, sizeof out, args), 1);
    assert_non_null(strstr(out, "does not match its manifest"));
    rel_say("backup: a backup with one byte changed in a photo%s or in the database is refused "
            "by restore\n",
            photos_on ? "" : " (no photos this run)");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(backup_under_load_restores_records_history_and_photos),
    };
    return cmocka_run_group_tests_name("reliability/backup", tests, setup, teardown);
}
