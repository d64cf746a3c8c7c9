/* Crash-kill under load. Phones (threads, each with its own enrolled device) sync signed batches
 * and upload photos while the test kills the server with SIGKILL at random moments and starts it
 * again on the same data folder (on a new port; the phones follow). Phones retry as real ones do:
 * the same bytes, the same batch_id, with a growing pause, until answered. Then it checks, and
 * prints, that every acknowledged change is there exactly once, no batch is partly applied, the
 * retries made no duplicates, the database passes integrity_check, both hash chains hold, every
 * stored photo's bytes match its hash and no partial upload is visible as a photo.
 *
 * Short form (make test): 20 kills. Long form: OUTFALL_CRASH_KILLS=100 (make crash-long). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "tests/reliability/rel.h"

enum { PHONES = 6, KILLS_SHORT = 20, MAX_UNANSWERED_S = 90 };

/* What one phone sent and was answered. */
typedef struct sent_change {
    char change_id[37];
    char entity_id[37];
    char batch_id[37];
    int kind; /* 0 outfall create, 1 outfall edit, 2 observation create */
} sent_change;

typedef struct own_outfall {
    char id[37];
    int64_t version; /* the last version this phone was answered */
} own_outfall;

typedef struct phone {
    int idx;
    th_user user;
    th_device dev;
    unsigned seed;
    int64_t cursor;
    own_outfall *outfalls;
    size_t n_outfalls, cap_outfalls;
    sent_change *changes;
    size_t n_changes, cap_changes;
    char (*batches)[37];
    size_t *batch_sizes;
    size_t n_batches, cap_batches;
    char (*photos)[65];
    size_t n_photos, cap_photos;
    long failed_attempts; /* sync attempts that got no answer */
    long retried;         /* batches answered only after at least one failed attempt */
    long photo_failed;    /* upload attempts that got no answer */
    double worst_wait_s;  /* the longest a batch waited for its answer */
    char failure[512];
} phone;

static rel_server srv;
static char root[300];
static phone phones[PHONES];
static int stop_load;
static int photos_on;
static uint8_t *fixture;
static size_t fixture_len;

#define GROW(arr, n, cap)                                                                          \
    do {                                                                                           \
        if ((n) == (cap)) {                                                                        \
            (cap) = (cap) ? 2 * (cap) : 64;                                                        \
            void *grown_ = realloc((arr), (cap) * sizeof *(arr));                                  \
            if (!grown_) abort();                                                                  \
            (arr) = grown_;                                                                        \
        }                                                                                          \
    } while (0)

static void phone_fail(phone *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void phone_fail(phone *p, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = snprintf(p->failure, sizeof p->failure, "phone %d: ", p->idx);
    vsnprintf(p->failure + n, sizeof p->failure - (size_t)n, fmt, ap);
    va_end(ap);
}

/* A growing pause between attempts, with jitter, as phones back off. */
static void backoff(phone *p, int attempt) {
    int base = 20 << (attempt < 5 ? attempt : 5);
    rel_sleep_ms(base / 2 + (int)(rand_r(&p->seed) % (unsigned)base));
}

/* Uploads a fresh unique photo until the server answers 2xx; its hash into hash[65]. */
static int upload_photo(phone *p, char hash[65]) {
    char tag[96];
    uint8_t *bytes = NULL;
    size_t len = 0;
    snprintf(tag, sizeof tag, "crash test phone %d photo %zu", p->idx, p->n_photos);
    if (rel_jpeg_unique(fixture, fixture_len, tag, &bytes, &len) != 0) {
        phone_fail(p, "the fixture is not a JPEG this test can vary");
        return -1;
    }
    util_blake2b_hex(bytes, len, hash);
    double t0 = rel_now();
    int rc = -1;
    for (int attempt = 0;; attempt++) {
        th_server v = rel_server_view(&srv);
        th_error e;
        long st = rel_photo_put(&v, p->user.token, hash, bytes, len, &e);
        if (st == 200 || st == 201) {
            rc = 0;
            break;
        }
        if (st != 0 && st != 503 && st != 423) {
            phone_fail(p, "PUT photo %s answered %ld %s %s", hash, st, e.code, e.message);
            break;
        }
        p->photo_failed++;
        if (rel_now() - t0 > MAX_UNANSWERED_S) {
            phone_fail(p, "photo %s: no answer in %d s", hash, MAX_UNANSWERED_S);
            break;
        }
        backoff(p, attempt);
    }
    free(bytes);
    if (rc == 0) {
        GROW(p->photos, p->n_photos, p->cap_photos);
        memcpy(p->photos[p->n_photos++], hash, 65);
    }
    return rc;
}

/* Builds the phone's next batch: two new outfalls, an edit of one of its own, and every third
 * batch (when photos are served) an observation naming a photo uploaded just before. */
static th_batch *next_batch(phone *p, long k, int kinds[8]) {
    th_batch *b = th_batch_new(&p->dev);
    Outfall__V1__SyncRequest *req = th_batch_req(b);
    req->since = p->cursor;
    req->has_pull_limit = 1;
    req->pull_limit = 10;
    size_t n = 0;
    for (int i = 0; i < 2; i++) {
        double lat, lon;
        char landmark[64];
        rel_spot(&lat, &lon);
        snprintf(landmark, sizeof landmark, "phone %d batch %ld outfall %d", p->idx, k, i);
        th_outfall_create(b, REL_RIVER, REL_DIV, lat, lon)->landmark = th_batch_str(b, landmark);
        kinds[n++] = 0;
    }
    if (p->n_outfalls > 0) {
        own_outfall *o = &p->outfalls[rand_r(&p->seed) % p->n_outfalls];
        char landmark[64];
        snprintf(landmark, sizeof landmark, "phone %d batch %ld edit", p->idx, k);
        th_outfall_edit(b, o->id, o->version)->landmark = th_batch_str(b, landmark);
        kinds[n++] = 1;
        char hash[65];
        if (photos_on && k % 3 == 0 && upload_photo(p, hash) == 0) {
            double lat, lon;
            rel_spot(&lat, &lon);
            Outfall__V1__Observation *obs = th_observation_create(b, o->id, lat, lon);
            th_observation_photo(b, obs, hash, OUTFALL__V1__PHOTO_KIND__PHOTO_KIND_NEAR);
            kinds[n++] = 2;
        }
    }
    return b;
}

/* Checks the answer to b, change by change, and takes in what it says. */
static int take_answer(phone *p, th_batch *b, const int *kinds,
                       const Outfall__V1__SyncResponse *r) {
    Outfall__V1__SyncRequest *req = th_batch_req(b);
    if (r->n_results != req->n_changes) {
        phone_fail(p, "batch %s: %zu results for %zu changes", req->batch_id, r->n_results,
                   req->n_changes);
        return -1;
    }
    for (size_t i = 0; i < req->n_changes; i++) {
        const Outfall__V1__ChangeResult *cr = r->results[i];
        const char *status = th_status_name(cr->status);
        int ok = cr->change_id && strcmp(cr->change_id, th_batch_change_id(b, i)) == 0;
        if (kinds[i] == 1)
            ok = ok && (strcmp(status, "APPLIED") == 0 || strcmp(status, "MERGED") == 0);
        else
            ok = ok && strcmp(status, "APPLIED") == 0 && cr->version == 1;
        if (!ok) {
            phone_fail(p, "batch %s change %zu: %s version %lld reason %s %s", req->batch_id, i,
                       status, (long long)cr->version, TH_S(cr->reason), TH_S(cr->message));
            return -1;
        }
        sent_change *c;
        GROW(p->changes, p->n_changes, p->cap_changes);
        c = &p->changes[p->n_changes++];
        util_strlcpy(c->change_id, cr->change_id, sizeof c->change_id);
        util_strlcpy(c->entity_id, th_batch_entity(b, i), sizeof c->entity_id);
        util_strlcpy(c->batch_id, req->batch_id, sizeof c->batch_id);
        c->kind = kinds[i];
        if (kinds[i] == 0) {
            GROW(p->outfalls, p->n_outfalls, p->cap_outfalls);
            util_strlcpy(p->outfalls[p->n_outfalls].id, c->entity_id, 37);
            p->outfalls[p->n_outfalls++].version = 1;
        } else if (kinds[i] == 1) {
            for (size_t j = 0; j < p->n_outfalls; j++)
                if (strcmp(p->outfalls[j].id, c->entity_id) == 0)
                    p->outfalls[j].version = cr->version;
        }
    }
    GROW(p->batches, p->n_batches, p->cap_batches);
    p->batch_sizes = realloc(p->batch_sizes, p->cap_batches * sizeof *p->batch_sizes);
    if (!p->batch_sizes) abort();
    util_strlcpy(p->batches[p->n_batches], req->batch_id, 37);
    p->batch_sizes[p->n_batches++] = req->n_changes;
    if (r->has_next_cursor) p->cursor = r->next_cursor;
    return 0;
}

/* One phone: batches one after another until told to stop; each is sent, byte for byte the
 * same, until the server answers it. */
static void *phone_main(void *arg) {
    phone *p = arg;
    for (long k = 0; !__atomic_load_n(&stop_load, __ATOMIC_ACQUIRE) && !p->failure[0]; k++) {
        int kinds[8];
        th_batch *b = next_batch(p, k, kinds);
        const uint8_t *bytes;
        size_t len;
        if (p->failure[0] || th_batch_encode(b, TH_PB, &bytes, &len) != 0) {
            if (!p->failure[0]) phone_fail(p, "cannot encode a batch");
            th_batch_free(b);
            break;
        }
        char *sig = th_sign_b64(p->dev.sk, bytes, len);
        double t0 = rel_now();
        for (int attempt = 0;; attempt++) {
            th_server v = rel_server_view(&srv);
            th_sync_result r;
            long st = th_sync_raw(&v, p->user.token, TH_PB, sig, bytes, len, &r);
            if (st == 200 && r.resp) {
                if (attempt > 0) p->retried++;
                double waited = rel_now() - t0;
                if (waited > p->worst_wait_s) p->worst_wait_s = waited;
                if (take_answer(p, b, kinds, r.resp) == 0) p->dev.next_seq++;
                th_sync_result_free(&r);
                break;
            }
            th_sync_result_free(&r);
            if (st != 0 && st != 503) {
                phone_fail(p, "batch %s answered %ld %s %s", th_batch_req(b)->batch_id, st,
                           r.err.code, r.err.message);
                break;
            }
            p->failed_attempts++;
            if (rel_now() - t0 > MAX_UNANSWERED_S) {
                phone_fail(p, "batch %s: no answer in %d s", th_batch_req(b)->batch_id,
                           MAX_UNANSWERED_S);
                break;
            }
            backoff(p, attempt);
        }
        free(sig);
        th_batch_free(b);
    }
    return NULL;
}

static int setup(void **state) {
    (void)state;
    if (rel_tmpdir("crash", root, sizeof root) != 0) return -1;
    char data[400], log[400];
    snprintf(data, sizeof data, "%s/data", root);
    snprintf(log, sizeof log, "%s/server.log", root);
    rel_server_init(&srv, data, log, NULL);
    if (rel_server_start(&srv) != 0 || !th_admin_token(&srv.th)) return -1;
    for (int i = 0; i < PHONES; i++) {
        phones[i].idx = i;
        phones[i].seed = (unsigned)(i * 7919 + 17);
        if (rel_surveyor(&srv, &phones[i].user) != 0 ||
            th_device_new(&srv.th, phones[i].user.token, &phones[i].dev) != 0)
            return -1;
    }
    /* Photos ride along once the server takes uploads: a PUT to an absent route is 404. */
    if (rel_fixture("qinhe-outfall-a-1.jpg", &fixture, &fixture_len) != 0) return -1;
    th_error e;
    char hash[65];
    util_blake2b_hex(fixture, fixture_len, hash);
    long st = rel_photo_put(&srv.th, phones[0].user.token, hash, fixture, fixture_len, &e);
    photos_on = st == 200 || st == 201;
    if (!photos_on) { /* the photo routes are part of what this test proves */
        fprintf(stderr, "crash: PUT of a fixture photo answered %ld %s\n", st, e.code);
        return -1;
    }
    return 0;
}

static int teardown(void **state) {
    (void)state;
    rel_server_kill(&srv);
    if (getenv("TH_KEEP"))
        fprintf(stderr, "crash: kept %s\n", root);
    else
        rel_rmtree(root);
    for (int i = 0; i < PHONES; i++) {
        free(phones[i].outfalls);
        free(phones[i].changes);
        free(phones[i].batches);
        free(phones[i].batch_sizes);
        free(phones[i].photos);
    }
    free(fixture);
    return 0;
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every entity id in the whole change feed, as the admin reads it, sorted, into *ids (malloc'd
 * array of malloc'd strings), with each outfall's version in the same order in *versions. */
static size_t read_feed(char ***ids, int64_t **versions) {
    size_t n = 0, cap = 0;
    *ids = NULL;
    *versions = NULL;
    int64_t since = 0;
    for (int more = 1; more;) {
        Outfall__V1__ChangesResponse *page = NULL;
        th_error e;
        long st = th_pull(&srv.th, th_admin_token(&srv.th), since, 1000, &page, &e);
        if (st != 200) print_message("pull since %lld: %ld %s\n", (long long)since, st, e.code);
        assert_int_equal(st, 200);
        for (size_t i = 0; i < page->n_feed; i++) {
            const Outfall__V1__FeedEntry *f = page->feed[i];
            const char *id = f->outfall       ? f->outfall->id
                             : f->observation ? f->observation->id
                                              : NULL;
            if (!id) continue;
            if (n == cap) {
                cap = cap ? 2 * cap : 1024;
                *ids = realloc(*ids, cap * sizeof **ids);
                *versions = realloc(*versions, cap * sizeof **versions);
                assert_non_null(*ids);
                assert_non_null(*versions);
            }
            size_t len = strlen(id);
            char *copy = malloc(len + 1 + 20);
            memcpy(copy, id, len + 1);
            /* the version rides after the id's NUL, so sorting keeps them together */
            int64_t v = f->outfall ? f->outfall->version : f->observation->version;
            memcpy(copy + len + 1, &v, sizeof v);
            (*ids)[n++] = copy;
        }
        since = page->next_cursor;
        more = page->more && page->n_feed > 0;
        outfall__v1__changes_response__free_unpacked(page, NULL);
    }
    qsort(*ids, n, sizeof **ids, cmp_str);
    for (size_t i = 0; i < n; i++)
        memcpy(&(*versions)[i], (*ids)[i] + strlen((*ids)[i]) + 1, sizeof(int64_t));
    return n;
}

static void acknowledged_changes_survive_kill_9_exactly_once(void **state) {
    (void)state;
    long kills = rel_env_long("OUTFALL_CRASH_KILLS", KILLS_SHORT);
    unsigned seed = (unsigned)time(NULL);
    rel_say("crash: %d phones, %ld kills (seed %u), photos %s\n", PHONES, kills, seed,
            photos_on ? "on" : "off");
    char client_log[400];
    snprintf(client_log, sizeof client_log, "%s/client.log", root);
    int saved_stderr = rel_stderr_to(client_log);
    pthread_t threads[PHONES];
    for (int i = 0; i < PHONES; i++)
        assert_int_equal(pthread_create(&threads[i], NULL, phone_main, &phones[i]), 0);

    /* The killer: a random moment under load, kill -9, start again on the same folder. */
    double t0 = rel_now(), down_total = 0;
    int restarted = 1;
    for (long k = 0; k < kills && restarted; k++) {
        rel_sleep_ms(150 + (int)(rand_r(&seed) % 1100));
        rel_server_kill(&srv);
        double t_down = rel_now();
        rel_sleep_ms((int)(rand_r(&seed) % 60));
        restarted = rel_server_start(&srv) == 0;
        down_total += rel_now() - t_down;
    }
    rel_sleep_ms(500);
    __atomic_store_n(&stop_load, 1, __ATOMIC_RELEASE);
    for (int i = 0; i < PHONES; i++)
        pthread_join(threads[i], NULL);
    double t_load = rel_now() - t0;
    long unanswered = rel_stderr_back(saved_stderr, client_log);
    assert_true(restarted);

    size_t batches = 0, changes = 0, creates = 0, edits = 0, observations = 0, n_photos = 0;
    long failed = 0, retried = 0, photo_failed = 0;
    double worst = 0;
    int phone_failures = 0;
    for (int i = 0; i < PHONES; i++) {
        phone *p = &phones[i];
        if (p->failure[0]) {
            print_message("%s\n", p->failure);
            phone_failures++;
        }
        batches += p->n_batches;
        changes += p->n_changes;
        n_photos += p->n_photos;
        failed += p->failed_attempts;
        retried += p->retried;
        photo_failed += p->photo_failed;
        if (p->worst_wait_s > worst) worst = p->worst_wait_s;
        for (size_t j = 0; j < p->n_changes; j++) {
            creates += p->changes[j].kind == 0;
            edits += p->changes[j].kind == 1;
            observations += p->changes[j].kind == 2;
        }
    }
    rel_say("crash: %.1f s under load, %d server starts, %.2f s down in all; %zu batches (%zu "
            "changes: %zu outfalls, %zu edits, %zu observations) acknowledged; %ld sync attempts "
            "lost to kills, %ld batches answered only on a retry, longest wait %.2f s; %zu "
            "photos uploaded, %ld upload attempts lost (%ld requests unanswered in all)\n",
            t_load, srv.starts, down_total, batches, changes, creates, edits, observations, failed,
            retried, worst, n_photos, photo_failed, unanswered);
    assert_int_equal(phone_failures, 0);
    assert_true(batches > (size_t)kills);

    /* Through the server: the feed holds each record once, at the version last acknowledged. */
    char **feed_ids;
    int64_t *feed_versions;
    size_t n_feed = read_feed(&feed_ids, &feed_versions);
    size_t feed_dups = 0, missing = 0, wrong_version = 0;
    for (size_t i = 1; i < n_feed; i++)
        feed_dups += strcmp(feed_ids[i - 1], feed_ids[i]) == 0;
    for (int i = 0; i < PHONES; i++) {
        phone *p = &phones[i];
        for (size_t j = 0; j < p->n_changes; j++) {
            if (p->changes[j].kind == 1) continue;
            const char *key = p->changes[j].entity_id;
            char **hit = bsearch(&key, feed_ids, n_feed, sizeof *feed_ids, cmp_str);
            if (!hit) {
                if (missing++ == 0) print_message("not in the feed: %s\n", key);
                continue;
            }
            if (p->changes[j].kind != 0) continue;
            int64_t want = 0;
            for (size_t o = 0; o < p->n_outfalls; o++)
                if (strcmp(p->outfalls[o].id, key) == 0) want = p->outfalls[o].version;
            if (feed_versions[hit - feed_ids] != want && wrong_version++ == 0)
                print_message("outfall %s: version %lld in the feed, %lld acknowledged\n", key,
                              (long long)feed_versions[hit - feed_ids], (long long)want);
        }
    }
    size_t photos_read = 0;
    for (int i = 0; i < PHONES; i++)
        for (size_t j = 0; j < phones[i].n_photos; j++)
            photos_read +=
                (size_t)rel_photo_matches(&srv.th, th_admin_token(&srv.th), phones[i].photos[j]);
    for (size_t i = 0; i < n_feed; i++)
        free(feed_ids[i]);
    free(feed_ids);
    free(feed_versions);
    rel_say("crash: feed: %zu records, %zu acknowledged records missing, %zu twice, %zu at another "
            "version than acknowledged; %zu/%zu photos read back with their hash\n",
            n_feed, missing, feed_dups, wrong_version, photos_read, n_photos);
    assert_int_equal(missing, 0);
    assert_int_equal(feed_dups, 0);
    assert_int_equal(wrong_version, 0);
    assert_int_equal(photos_read, n_photos);
    assert_int_equal(n_feed, creates + observations);

    /* In the file, once the server has stopped cleanly. */
    assert_int_equal(rel_server_stop(&srv), 0);
    char msg[256];
    int integrity = rel_integrity(srv.data, msg, sizeof msg);
    sqlite3 *db = rel_db_open(srv.data);
    assert_non_null(db);
    int64_t db_changes = rel_db_int(db, "SELECT count(*) FROM changes", NULL);
    int64_t db_batches =
        rel_db_int(db, "SELECT count(*) FROM batches WHERE state = 'applied'", NULL);
    int64_t db_held = rel_db_int(db, "SELECT count(*) FROM batches WHERE state <> 'applied'", NULL);
    int64_t db_outfalls = rel_db_int(db, "SELECT count(*) FROM outfalls", NULL);
    int64_t db_observations = rel_db_int(db, "SELECT count(*) FROM observations", NULL);
    int64_t fk = rel_db_int(db, "SELECT count(*) FROM pragma_foreign_key_check", NULL);
    size_t partial = 0, absent = 0;
    for (int i = 0; i < PHONES; i++) {
        phone *p = &phones[i];
        for (size_t j = 0; j < p->n_batches; j++)
            if (rel_db_int(db, "SELECT count(*) FROM changes WHERE batch_id = ?1", p->batches[j]) !=
                    (int64_t)p->batch_sizes[j] &&
                partial++ == 0)
                print_message("batch %s is not whole\n", p->batches[j]);
        for (size_t j = 0; j < p->n_changes; j++)
            if (rel_db_int(db, "SELECT count(*) FROM changes WHERE change_id = ?1",
                           p->changes[j].change_id) != 1 &&
                absent++ == 0)
                print_message("change %s is not there once\n", p->changes[j].change_id);
    }
    sqlite3_close(db);
    rel_store_check photos;
    int store = rel_photo_store(srv.data, &photos);
    backup_chain audit, history;
    int chains = rel_chains_ok(srv.data, &audit, &history);
    rel_say("crash: database: integrity_check %s, %lld foreign key faults; %lld batches applied "
            "(%zu acknowledged), %lld held; %lld changes (%zu acknowledged), %zu not there "
            "exactly once; %zu batches not whole; %lld outfalls (%zu created), %lld "
            "observations (%zu created)\n",
            msg, (long long)fk, (long long)db_batches, batches, (long long)db_held,
            (long long)db_changes, changes, absent, partial, (long long)db_outfalls, creates,
            (long long)db_observations, observations);
    rel_say("crash: photo store: %ld photos, %ld verified against their hash, %ld bad%s%s; %ld "
            "whole files without a row and %ld temporary files, neither visible as a photo\n",
            photos.rows, photos.verified, photos.bad, photos.bad ? ": " : "", photos.first_bad,
            photos.orphans, photos.temp);
    rel_say("crash: audit chain %s (%lld entries), history chain %s (%lld rows)\n",
            audit.broken ? "BROKEN" : "ok", (long long)audit.rows, history.broken ? "BROKEN" : "ok",
            (long long)history.rows);
    assert_int_equal(integrity, 0);
    assert_int_equal(fk, 0);
    assert_int_equal(partial, 0);
    assert_int_equal(absent, 0);
    assert_int_equal(db_changes, (int64_t)changes);
    assert_int_equal(db_batches, (int64_t)batches);
    assert_int_equal(db_held, 0);
    assert_int_equal(db_outfalls, (int64_t)creates);
    assert_int_equal(db_observations, (int64_t)observations);
    assert_int_equal(store, 0);
    assert_int_equal(photos.temp, 0); /* a crash leaves nothing under another name in photos/ */
    assert_true(photos.rows >= (long)n_photos);
    assert_int_equal(chains, 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(acknowledged_changes_survive_kill_9_exactly_once),
    };
    return cmocka_run_group_tests_name("reliability/crash", tests, setup, teardown);
}
