/* The database off the machine (docs/reliability.md, "No acknowledged change lost"): a field day
 * of phones against a server that backs up to a bucket (s3rver, tests/lib/s3rver.h) on its
 * schedule; phones keep what the server acknowledged until an answer's durable_seq covers it
 * (docs/sync.md, "Kept until durable"). The server is killed (-9) with batches acknowledged after
 * the last confirmed backup, its data folder deleted, `outfallctl restore --from` the bucket onto
 * a fresh folder, a server started on it: the phones see the new store epoch and resend what they
 * kept, uploading the photos it asks for again, and every change and photo a phone was ever
 * acknowledged is there. And a bucket that stops answering mid-backup confirms nothing: durable_seq
 * stays, and the next run after it answers again confirms. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <dirent.h>

#include "tests/lib/s3rver.h"
#include "tests/reliability/rel.h"

enum { PHONES = 2, MAX_ITEMS = 256 };

/* A batch a phone keeps until durable: the batch, the photo it names (bytes, for the upload a
 * restored server asks for again), and under which epoch with which number it was acknowledged. */
typedef struct kept {
    th_batch *b;
    int64_t seq;
    char epoch[33];
    char photo[65];
    uint8_t *bytes;
    size_t len;
} kept;

/* What a phone made and was acknowledged, to check after the restore. */
typedef struct made {
    char id[37];
    char landmark[96];
    char photo[65]; /* an observation's photo, "" for an outfall */
    int observation;
} made;

typedef struct phone {
    int idx;
    th_user user;
    th_device dev;
    kept kept[MAX_ITEMS];
    size_t n_kept;
    made made[MAX_ITEMS];
    size_t n_made;
    char epoch[33];
    int64_t durable, last_ack;
    long steps;
} phone;

static rel_server srv;
static th_s3 s3;
static char root[300], data_dir[400], restored_dir[400], store_url[128];
static phone phones[PHONES];
static uint8_t *fixture;
static size_t fixture_len;
static const char *extra[16];

/* Drops the kept batches a backup holds: same epoch, acknowledged_seq <= durable_seq. */
static void drop_durable(phone *p) {
    size_t w = 0;
    for (size_t i = 0; i < p->n_kept; i++) {
        kept *k = &p->kept[i];
        if (strcmp(k->epoch, p->epoch) == 0 && k->seq <= p->durable) {
            th_batch_free(k->b);
            free(k->bytes);
            continue;
        }
        p->kept[w++] = *k;
    }
    p->n_kept = w;
}

/* Sends b and checks the answer; uploads the photos it names missing (the bytes are the kept
 * ones). Returns the answer (freed by the caller). */
static Outfall__V1__SyncResponse *send(phone *p, th_batch *b, const kept *photo) {
    th_sync_result r;
    long st = th_sync(&srv.th, p->user.token, b, TH_PB, &r);
    if (st != 200) print_error("phone %d: sync %ld %s %s\n", p->idx, st, r.err.code, r.err.message);
    assert_int_equal(st, 200);
    Outfall__V1__SyncResponse *resp = r.resp;
    r.resp = NULL;
    th_sync_result_free(&r);
    assert_non_null(resp->store_epoch);
    assert_true(resp->has_acknowledged_seq && resp->has_durable_seq);
    int64_t seq = th_batch_req(b)->device_seq;
    if (p->dev.next_seq <= seq) p->dev.next_seq = seq + 1;
    for (size_t i = 0; i < resp->n_missing_photos; i++) {
        assert_non_null(photo);
        assert_string_equal(resp->missing_photos[i], photo->photo);
        th_error e;
        long put =
            rel_photo_put(&srv.th, p->user.token, photo->photo, photo->bytes, photo->len, &e);
        if (put != 201 && put != 200)
            print_error("phone %d: photo again: %ld %s\n", p->idx, put, e.code);
        assert_true(put == 201 || put == 200);
    }
    return resp;
}

/* What a phone does with an answer: a new epoch sends every kept batch again, oldest first;
 * then durable_seq lets it drop what a backup holds. */
static void take_answer(phone *p, const Outfall__V1__SyncResponse *resp) {
    int restored = p->epoch[0] && strcmp(p->epoch, resp->store_epoch) != 0;
    util_strlcpy(p->epoch, resp->store_epoch, sizeof p->epoch);
    p->durable = resp->durable_seq;
    if (restored) {
        rel_say("phone %d: new store epoch; sending its %zu kept batches again\n", p->idx,
                p->n_kept);
        for (size_t i = 0; i < p->n_kept; i++) {
            kept *k = &p->kept[i];
            Outfall__V1__SyncResponse *again = send(p, k->b, k->photo[0] ? k : NULL);
            for (size_t c = 0; c < again->n_results; c++)
                assert_int_not_equal(again->results[c]->status, TH_STATUS(REJECTED));
            k->seq = again->acknowledged_seq;
            util_strlcpy(k->epoch, again->store_epoch, sizeof k->epoch);
            p->durable = again->durable_seq;
            outfall__v1__sync_response__free_unpacked(again, NULL);
        }
    }
    drop_durable(p);
}

/* One step of a phone: a new outfall and, every other step, an observation of its last outfall
 * naming a new photo uploaded just before. Kept until durable. */
static void phone_step(phone *p) {
    long step = p->steps++;
    th_batch *b = th_batch_new(&p->dev);
    kept k = {.b = b};
    double lat, lon;
    rel_spot(&lat, &lon);
    made *m = &p->made[p->n_made++];
    snprintf(m->landmark, sizeof m->landmark, "offsite phone %d step %ld", p->idx, step);
    th_outfall_create(b, REL_RIVER, REL_DIV, lat, lon)->landmark = th_batch_str(b, m->landmark);
    util_strlcpy(m->id, th_batch_entity(b, 0), sizeof m->id);
    if (step % 2 == 1) {
        const made *last = &p->made[p->n_made - 2];
        assert_int_equal(rel_jpeg_unique(fixture, fixture_len, m->landmark, &k.bytes, &k.len), 0);
        util_blake2b_hex(k.bytes, k.len, k.photo);
        assert_int_equal(rel_photo_put(&srv.th, p->user.token, k.photo, k.bytes, k.len, NULL), 201);
        rel_spot(&lat, &lon);
        made *o = &p->made[p->n_made++];
        th_observation_photo(b, th_observation_create(b, last->id, lat, lon), k.photo,
                             OUTFALL__V1__PHOTO_KIND__PHOTO_KIND_NEAR);
        util_strlcpy(o->id, th_batch_entity(b, 1), sizeof o->id);
        util_strlcpy(o->photo, k.photo, sizeof o->photo);
        o->observation = 1;
    }
    Outfall__V1__SyncResponse *resp = send(p, b, NULL);
    k.seq = p->last_ack = resp->acknowledged_seq;
    util_strlcpy(k.epoch, resp->store_epoch, sizeof k.epoch);
    assert_true(p->n_kept < MAX_ITEMS);
    p->kept[p->n_kept++] = k;
    take_answer(p, resp);
    outfall__v1__sync_response__free_unpacked(resp, NULL);
}

/* Phones step until an answer's durable_seq covers every batch acknowledged before the call
 * (and want), within limit_s. Returns the durable_seq reached. */
static int64_t until_durable_past(int64_t want, double limit_s) {
    for (int i = 0; i < PHONES; i++)
        if (phones[i].last_ack > want) want = phones[i].last_ack;
    double end = rel_now() + limit_s;
    while (rel_now() < end) {
        rel_sleep_ms(500);
        phone_step(&phones[0]);
        if (phones[0].durable >= want) return phones[0].durable;
    }
    print_error("durable_seq stayed at %lld, below %lld, for %.0f s\n",
                (long long)phones[0].durable, (long long)want, limit_s);
    fail();
    return 0;
}

static int64_t until_durable(double limit_s) {
    return until_durable_past(0, limit_s);
}

/* Every outfall, observation and photo each phone was acknowledged, as the phone made it. */
static void assert_all_present(void) {
    size_t outfalls = 0, photos = 0;
    for (int i = 0; i < PHONES; i++) {
        phone *p = &phones[i];
        for (size_t j = 0; j < p->n_made; j++) {
            const made *m = &p->made[j];
            th_error e;
            if (m->observation) {
                Outfall__V1__Observation *o = NULL;
                assert_int_equal(th_get_observation(&srv.th, p->user.token, m->id, &o, &e), 200);
                protobuf_c_message_free_unpacked(&o->base, NULL);
                assert_true(rel_photo_matches(&srv.th, p->user.token, m->photo));
                photos++;
                continue;
            }
            Outfall__V1__Outfall *o = NULL;
            long st = th_get_outfall(&srv.th, p->user.token, m->id, &o, &e);
            if (st != 200) print_error("phone %d: outfall %s: %ld %s\n", i, m->id, st, e.code);
            assert_int_equal(st, 200);
            assert_string_equal(TH_S(o->landmark), m->landmark);
            protobuf_c_message_free_unpacked(&o->base, NULL);
            outfalls++;
        }
    }
    rel_say("all %zu outfalls and %zu observations with their photos present\n", outfalls, photos);
}

static void a_restore_from_the_bucket_loses_no_acknowledged_change_or_photo(void **state) {
    (void)state;
    for (int i = 0; i < PHONES; i++)
        for (int s = 0; s < 4; s++)
            phone_step(&phones[i]);
    int64_t durable = until_durable(60);
    rel_say("a scheduled backup confirmed: durable_seq %lld\n", (long long)durable);
    /* More batches, acknowledged after it; the next backup is seconds away. */
    for (int i = 0; i < PHONES; i++)
        for (int s = 0; s < 3; s++)
            phone_step(&phones[i]);
    size_t pending = 0;
    for (int i = 0; i < PHONES; i++)
        for (size_t k = 0; k < phones[i].n_kept; k++)
            pending += phones[i].kept[k].seq > phones[i].durable;
    rel_say("%zu acknowledged batches not yet in a confirmed backup\n", pending);
    assert_true(pending > 0);

    rel_server_kill(&srv);
    rel_rmtree(data_dir);
    char out[8192];
    const char *args[] = {"restore",      "--from",
                          store_url,      "--data",
                          restored_dir,   "--photo-store-endpoint",
                          s3.endpoint,    "--photo-store-credentials",
                          s3.credentials, NULL};
    assert_int_equal(rel_ctl(out, sizeof out, args), 0);
    assert_non_null(strstr(out, "a new store epoch"));
    /* A folder in use is refused, and left as it was. */
    assert_int_not_equal(rel_ctl(out, sizeof out, args), 0);
    assert_non_null(strstr(out, "is not empty"));
    util_strlcpy(srv.data, restored_dir, sizeof srv.data);
    /* A temporary copy a backup cut off left behind goes at the next start. */
    char leftover[500];
    snprintf(leftover, sizeof leftover, "%s/offsite-20261206T000000000Z.db", restored_dir);
    FILE *f = fopen(leftover, "w");
    assert_non_null(f);
    fclose(f);
    assert_int_equal(rel_server_start(&srv), 0);
    assert_int_not_equal(access(leftover, F_OK), 0);

    /* Each phone's next sync shows the new epoch: it resends what it kept. */
    for (int i = 0; i < PHONES; i++)
        phone_step(&phones[i]);
    assert_all_present();
}

/* 1 when the file at path holds text. */
static int log_has(const char *path, const char *text) {
    uint8_t *buf = NULL;
    size_t len = 0;
    if (rel_read_file(path, &buf, &len) != 0) return 0;
    int found = memmem(buf, len, text, strlen(text)) != NULL;
    free(buf);
    return found;
}

/* A bucket that stops answering while backups run (frozen: it takes connections and answers
 * nothing): no backup is confirmed, durable_seq stays; once it answers again the next run
 * confirms what was acknowledged meanwhile. */
static void a_bucket_stopped_mid_backup_confirms_nothing_and_the_next_run_does(void **state) {
    (void)state;
    int64_t before = until_durable(60);
    th_s3_freeze(&s3, 1);
    rel_sleep_ms(3000); /* a backup under way when it stopped gives up (--photo-store-timeout 2) */
    phone_step(&phones[1]);
    int64_t stuck = phones[1].durable;
    assert_true(stuck >= before);
    for (int i = 0; i < 8; i++) {
        rel_sleep_ms(1000);
        phone_step(&phones[1]);
        assert_int_equal(phones[1].durable, stuck);
    }
    assert_true(log_has(srv.log, "failed, not confirmed"));
    th_s3_freeze(&s3, 0);
    int64_t after = until_durable(60);
    assert_true(after > stuck);
    assert_all_present();
}

/* Runs `outfallctl --server URL --token TOKEN ARGS...` (args NULL-terminated, at most 10);
 * its output into out[cap]. Returns the exit status. */
static int ctl_as(const char *token, char *out, size_t cap, const char *const *args) {
    const char *all[16] = {"--server", srv.th.url, "--token", token};
    int n = 4;
    for (int i = 0; args[i] && n < 15; i++)
        all[n++] = args[i];
    all[n] = NULL;
    return rel_ctl(out, cap, all);
}

/* The number of batches kept in dir (NNN.json files), the last one's name into last[cap]. */
static int kept_files(const char *dir, char *last, size_t cap) {
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *e;
    last[0] = '\0';
    while (d && (e = readdir(d)))
        if (strstr(e->d_name, ".json") && strlen(e->d_name) == 17) {
            n++;
            if (strcmp(e->d_name, last) > 0) util_strlcpy(last, e->d_name, cap);
        }
    if (d) closedir(d);
    return n;
}

/* Pushes one new outfall as batch seq of the simulator (outfallctl push --keep); its id into
 * id[37]. Returns the answer's acknowledged_seq. */
static int64_t sim_push(const char *keys, const char *keep, int seq, char id[37]) {
    static char out[4 << 20]; /* the answer, with its page of the feed */
    char path[500], text[1024], seq_text[16];
    double lat, lon;
    rel_spot(&lat, &lon);
    th_uuid(id);
    snprintf(path, sizeof path, "%s/sim-%d.json", root, seq);
    snprintf(text, sizeof text,
             "[{\"entityId\": \"%s\", \"baseVersion\": \"0\", \"outfall\": {\"riverCode\": "
             "\"%s\", \"divisionCode\": \"%s\", \"lat\": %.6f, \"lon\": %.6f, "
             "\"landmark\": \"simulator %d\"}}]",
             id, REL_RIVER, REL_DIV, lat, lon, seq);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    snprintf(seq_text, sizeof seq_text, "%d", seq);
    const char *args[] = {"push", path, "--key", keys, "--seq", seq_text, "--keep", keep, NULL};
    assert_int_equal(ctl_as(phones[0].user.token, out, sizeof out, args), 0);
    const char *ack = strstr(out, "\"acknowledgedSeq\": \"");
    assert_non_null(ack);
    return strtoll(ack + strlen("\"acknowledgedSeq\": \""), NULL, 10);
}

/* The phone simulator keeps by the same rule: `outfallctl push --keep DIR` keeps each batch until
 * an answer's durable_seq covers it, and after a restore sends what it kept again. */
static void the_phone_simulator_keeps_until_durable_and_resends_after_a_restore(void **state) {
    (void)state;
    char keys[400], keep[400], out[8192], last[64], ids[4][37], again[400];
    snprintf(keys, sizeof keys, "%s/sim.key", root);
    snprintf(keep, sizeof keep, "%s/sim-kept", root);
    snprintf(again, sizeof again, "%s/restored-again", root);
    mkdir(keep, 0700);
    const char *enroll[] = {"device", "enroll", "--id", "sim-phone-1", "--name",
                            "sim",    "--key",  keys,   NULL};
    assert_int_equal(ctl_as(phones[0].user.token, out, sizeof out, enroll), 0);
    int64_t first = sim_push(keys, keep, 1, ids[0]);
    assert_int_equal(kept_files(keep, last, sizeof last), 1);
    until_durable_past(first, 60);
    sim_push(keys, keep, 2, ids[1]); /* its answer says batch 1 is durable: dropped */
    assert_int_equal(kept_files(keep, last, sizeof last), 1);
    assert_string_equal(last, "000000000002.json");
    sim_push(keys, keep, 3, ids[2]);
    assert_int_equal(kept_files(keep, last, sizeof last), 2);

    rel_server_kill(&srv);
    rel_rmtree(srv.data);
    const char *args[] = {"restore",      "--from",
                          store_url,      "--data",
                          again,          "--photo-store-endpoint",
                          s3.endpoint,    "--photo-store-credentials",
                          s3.credentials, NULL};
    assert_int_equal(rel_ctl(out, sizeof out, args), 0);
    util_strlcpy(srv.data, again, sizeof srv.data);
    assert_int_equal(rel_server_start(&srv), 0);
    sim_push(keys, keep, 4, ids[3]); /* a new epoch: 2 and 3 go again, then 4 applies */
    for (int i = 0; i < 4; i++) {
        Outfall__V1__Outfall *o = NULL;
        th_error e;
        assert_int_equal(th_get_outfall(&srv.th, phones[0].user.token, ids[i], &o, &e), 200);
        protobuf_c_message_free_unpacked(&o->base, NULL);
    }
    for (int i = 0; i < PHONES; i++)
        phone_step(&phones[i]);
    assert_all_present();
}

/* Runs outfalld with --backup-to to (and the bucket's endpoint and credentials); it must stop by
 * itself. Returns its exit status, its log in log[cap]. */
static int start_refused(const char *to, char *log, size_t cap) {
    char data[400], logpath[400];
    const char *bin = getenv("OUTFALLD") ? getenv("OUTFALLD") : "build/asan/outfalld";
    snprintf(data, sizeof data, "%s/refused", root);
    snprintf(logpath, sizeof logpath, "%s/refused.log", root);
    unlink(logpath);
    char *argv[] = {(char *)bin,    "--listen",
                    "127.0.0.1:0",  "--data",
                    data,           "--backup-to",
                    (char *)to,     "--photo-store-endpoint",
                    s3.endpoint,    "--photo-store-credentials",
                    s3.credentials, NULL};
    pid_t pid = child_spawn(bin, argv, logpath, 0, TH_ADMIN_PASSWORD);
    assert_true(pid > 0);
    int status = 0, done = 0;
    for (int waited = 0; waited < 20000 && !done; waited += 20) {
        done = waitpid(pid, &status, WNOHANG) == pid;
        if (!done) rel_sleep_ms(20);
    }
    if (!done) {
        kill(-pid, SIGKILL);
        waitpid(pid, &status, 0);
        fail_msg("outfalld started with a bad --backup-to");
    }
    uint8_t *text = NULL;
    size_t n = 0;
    log[0] = '\0';
    if (rel_read_file(logpath, &text, &n) == 0) {
        n = n < cap - 1 ? n : cap - 1;
        memcpy(log, text, n);
        log[n] = '\0';
    }
    free(text);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* A bucket that does not exist, or a --backup-to that names none, stops the start with one
 * clear line. */
static void a_bad_backup_bucket_stops_the_server_at_start(void **state) {
    (void)state;
    char log[4096];
    assert_int_equal(start_refused("s3://no-such-bucket/city", log, sizeof log), 1);
    assert_non_null(strstr(log, "backup store unusable"));
    assert_non_null(strstr(log, "no-such-bucket"));
    assert_int_equal(start_refused("s3:///city", log, sizeof log), 1);
    assert_non_null(strstr(log, "--backup-to is s3://BUCKET/PREFIX"));
}

static int setup(void **state) {
    (void)state;
    static char every[] = "0.05";
    if (rel_tmpdir("offsite", root, sizeof root) != 0 || th_s3_start(&s3) < 0) return -1;
    if (rel_fixture("qinhe-outfall-a-1.jpg", &fixture, &fixture_len) != 0) return -1;
    snprintf(data_dir, sizeof data_dir, "%s/data", root);
    snprintf(restored_dir, sizeof restored_dir, "%s/restored", root);
    snprintf(store_url, sizeof store_url, "s3://%s/backups", TH_S3_BUCKET);
    const char *flags[] = {"--backup-to",
                           store_url,
                           "--backup-every",
                           every,
                           "--photo-store-endpoint",
                           s3.endpoint,
                           "--photo-store-credentials",
                           s3.credentials,
                           "--photo-store-timeout",
                           "2",
                           NULL};
    memcpy(extra, flags, sizeof flags);
    char log[400];
    snprintf(log, sizeof log, "%s/server.log", root);
    rel_server_init(&srv, data_dir, log, extra);
    if (rel_server_start(&srv) != 0) return -1;
    for (int i = 0; i < PHONES; i++) {
        phones[i].idx = i;
        if (rel_surveyor(&srv, &phones[i].user) ||
            th_device_new(&srv.th, phones[i].user.token, &phones[i].dev))
            return -1;
    }
    return 0;
}

static int teardown(void **state) {
    (void)state;
    int rc = rel_server_stop(&srv);
    th_s3_stop(&s3);
    for (int i = 0; i < PHONES; i++)
        for (size_t k = 0; k < phones[i].n_kept; k++) {
            th_batch_free(phones[i].kept[k].b);
            free(phones[i].kept[k].bytes);
        }
    free(fixture);
    if (rc == 0 && !getenv("TH_KEEP")) rel_rmtree(root);
    return rc;
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_restore_from_the_bucket_loses_no_acknowledged_change_or_photo),
        cmocka_unit_test(a_bucket_stopped_mid_backup_confirms_nothing_and_the_next_run_does),
        cmocka_unit_test(the_phone_simulator_keeps_until_durable_and_resends_after_a_restore),
        cmocka_unit_test(a_bad_backup_bucket_stops_the_server_at_start),
    };
    return cmocka_run_group_tests_name("offsite backups", tests, setup, teardown);
}
