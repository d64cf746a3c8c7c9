/* Soak: a steady 50 signed batches per second against one server (30 s, 1500 batches, in make
 * test; set OUTFALL_SOAK_SECONDS=600 for the long form, make soak-long). Every batch must be
 * answered 200 with the right result for each change; the server's resident memory is printed at
 * the start, middle and end and must stay roughly flat; its log must show no error and no 5xx; and
 * it must stop cleanly (under ASan that includes LeakSanitizer's check at exit). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "tests/reliability/rel.h"

enum { PHONES = 10, RATE = 50, SOAK_SHORT_S = 30 };

typedef struct phone {
    int idx;
    th_user user;
    th_device dev;
    char last_id[37];
    int64_t last_version;
    int64_t cursor;
    double *latency; /* seconds, one per batch */
    size_t n, cap;
    long wrong; /* batches answered otherwise than expected */
    long late;  /* batches sent after their slot (the one before took longer than a period) */
    long creates;
    char first_wrong[300];
} phone;

static rel_server srv;
static char root[300];
static phone phones[PHONES];
static double t_start, soak_s;

static void wrong(phone *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void wrong(phone *p, const char *fmt, ...) {
    if (p->wrong++ > 0) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->first_wrong, sizeof p->first_wrong, fmt, ap);
    va_end(ap);
}

/* One phone: a batch every PHONES / RATE seconds on a fixed schedule (so the whole fleet makes
 * RATE a second), each a new outfall and an edit of the one before. */
static void *phone_main(void *arg) {
    phone *p = arg;
    double period = (double)PHONES / RATE, offset = p->idx * (1.0 / RATE);
    for (long k = 0;; k++) {
        double due = t_start + offset + k * period;
        if (due >= t_start + soak_s) break;
        double now = rel_now();
        if (now < due)
            rel_sleep_ms((int)((due - now) * 1000));
        else if (now - due > period / 2)
            p->late++;
        th_batch *b = th_batch_new(&p->dev);
        Outfall__V1__SyncRequest *req = th_batch_req(b);
        req->since = p->cursor;
        req->has_pull_limit = 1;
        req->pull_limit = 10;
        double lat, lon;
        char landmark[64];
        rel_spot(&lat, &lon);
        snprintf(landmark, sizeof landmark, "soak phone %d batch %ld", p->idx, k);
        th_outfall_create(b, REL_RIVER, REL_DIV, lat, lon)->landmark = th_batch_str(b, landmark);
        char new_id[37];
        util_strlcpy(new_id, th_batch_entity(b, 0), sizeof new_id);
        if (p->last_id[0])
            th_outfall_edit(b, p->last_id, p->last_version)->landmark = th_batch_str(b, "edited");
        size_t n = req->n_changes;
        double t0 = rel_now();
        th_sync_result r;
        long st = th_sync(&srv.th, p->user.token, b, TH_PB, &r);
        double took = rel_now() - t0;
        if (p->n == p->cap) {
            p->cap = p->cap ? 2 * p->cap : 1024;
            p->latency = realloc(p->latency, p->cap * sizeof *p->latency);
            if (!p->latency) abort();
        }
        p->latency[p->n++] = took;
        if (st != 200 || !r.resp) {
            wrong(p, "phone %d batch %ld: %ld %s %s", p->idx, k, st, r.err.code, r.err.message);
        } else if (r.resp->n_results != n) {
            wrong(p, "phone %d batch %ld: %zu results for %zu changes", p->idx, k,
                  r.resp->n_results, n);
        } else {
            const Outfall__V1__ChangeResult *c0 = r.resp->results[0];
            const Outfall__V1__ChangeResult *c1 = n > 1 ? r.resp->results[1] : NULL;
            if (strcmp(th_status_name(c0->status), "APPLIED") != 0 || c0->version != 1 ||
                strcmp(TH_S(c0->change_id), th_batch_change_id(b, 0)) != 0)
                wrong(p, "phone %d batch %ld: create answered %s v%lld %s", p->idx, k,
                      th_status_name(c0->status), (long long)c0->version, TH_S(c0->reason));
            else if (c1 && (strcmp(th_status_name(c1->status), "APPLIED") != 0 ||
                            c1->version != p->last_version + 1))
                wrong(p, "phone %d batch %ld: edit answered %s v%lld %s", p->idx, k,
                      th_status_name(c1->status), (long long)c1->version, TH_S(c1->reason));
            else
                p->creates++;
            if (r.resp->has_next_cursor) p->cursor = r.resp->next_cursor;
        }
        util_strlcpy(p->last_id, new_id, sizeof p->last_id);
        p->last_version = 1;
        th_sync_result_free(&r);
        th_batch_free(b);
    }
    return NULL;
}

static int setup(void **state) {
    (void)state;
    if (rel_tmpdir("soak", root, sizeof root) != 0) return -1;
    char data[400], log[400];
    snprintf(data, sizeof data, "%s/data", root);
    snprintf(log, sizeof log, "%s/server.log", root);
    /* ASan holds up to 256 MiB of freed memory in quarantine; a small one lets the server's
     * RSS show its live memory. Only the server's copy of the variable changes. */
    const char *asan = getenv("ASAN_OPTIONS");
    char options[1024];
    snprintf(options, sizeof options, "%s%squarantine_size_mb=16", asan ? asan : "",
             asan && *asan ? ":" : "");
    setenv("ASAN_OPTIONS", options, 1);
    rel_server_init(&srv, data, log, NULL);
    if (rel_server_start(&srv) != 0 || !th_admin_token(&srv.th)) return -1;
    for (int i = 0; i < PHONES; i++) {
        phones[i].idx = i;
        if (rel_surveyor(&srv, &phones[i].user) != 0 ||
            th_device_new(&srv.th, phones[i].user.token, &phones[i].dev) != 0)
            return -1;
    }
    return 0;
}

static int teardown(void **state) {
    (void)state;
    rel_server_kill(&srv);
    if (getenv("TH_KEEP"))
        fprintf(stderr, "soak: kept %s\n", root);
    else
        rel_rmtree(root);
    for (int i = 0; i < PHONES; i++)
        free(phones[i].latency);
    return 0;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void fifty_batches_a_second_answered_with_flat_memory(void **state) {
    (void)state;
    soak_s = (double)rel_env_long("OUTFALL_SOAK_SECONDS", SOAK_SHORT_S);
    long rss_start = rel_rss_kb(&srv);
    rel_say("soak: %d phones, %d signed batches/s for %.0f s; server RSS at start %ld KiB\n",
            PHONES, RATE, soak_s, rss_start);
    pthread_t threads[PHONES];
    t_start = rel_now() + 0.2;
    for (int i = 0; i < PHONES; i++)
        assert_int_equal(pthread_create(&threads[i], NULL, phone_main, &phones[i]), 0);

    /* Memory at a tenth (warmed up), the middle and the end. */
    long rss_warm = -1, rss_mid = -1, rss_end = -1;
    const double marks[3] = {0.1, 0.5, 0.995};
    long *slots[3] = {&rss_warm, &rss_mid, &rss_end};
    for (int m = 0; m < 3; m++) {
        double at = t_start + marks[m] * soak_s, now = rel_now();
        if (at > now) rel_sleep_ms((int)((at - now) * 1000));
        *slots[m] = rel_rss_kb(&srv);
        rel_say("soak: at %3.0f s server RSS %ld KiB\n", rel_now() - t_start, *slots[m]);
    }
    for (int i = 0; i < PHONES; i++)
        pthread_join(threads[i], NULL);
    double elapsed = rel_now() - t_start;

    size_t total = 0;
    long wrong_n = 0, late = 0, creates = 0;
    for (int i = 0; i < PHONES; i++) {
        total += phones[i].n;
        wrong_n += phones[i].wrong;
        late += phones[i].late;
        creates += phones[i].creates;
        if (phones[i].wrong) print_message("%s\n", phones[i].first_wrong);
    }
    double *all = malloc((total ? total : 1) * sizeof *all);
    assert_non_null(all);
    size_t k = 0;
    for (int i = 0; i < PHONES; i++)
        for (size_t j = 0; j < phones[i].n; j++)
            all[k++] = phones[i].latency[j];
    qsort(all, total, sizeof *all, cmp_double);
#define PCT(p) (total ? all[(size_t)((double)(total - 1) * (p))] * 1000 : 0)
    rel_say("soak: %zu batches in %.1f s (%.1f/s), %ld answered wrongly, %ld sent late; latency "
            "ms p50 %.1f p95 %.1f p99 %.1f max %.1f\n",
            total, elapsed, total / elapsed, wrong_n, late, PCT(0.5), PCT(0.95), PCT(0.99),
            PCT(1.0));
    free(all);

    char first[512];
    int trouble = rel_log_trouble(srv.log, first, sizeof first);
    /* Loose on purpose (SQLite's page caches fill as the file grows): a leak of any size that
     * matters doubles the middle figure long before the end. */
    long bound = 2 * rss_mid + 64 * 1024;
    rel_say("soak: RSS start %ld, warm %ld, middle %ld, end %ld KiB (bound %ld); growth from "
            "middle to end %.1f MiB/min; %d troubled lines in the server log%s%s\n",
            rss_start, rss_warm, rss_mid, rss_end, bound,
            (double)(rss_end - rss_mid) / 1024.0 / ((marks[2] - marks[1]) * soak_s / 60.0), trouble,
            trouble ? ", first: " : "", trouble ? first : "");
    int stopped = rel_server_stop(&srv);
    sqlite3 *db = rel_db_open(srv.data);
    assert_non_null(db);
    int64_t outfalls = rel_db_int(db, "SELECT count(*) FROM outfalls", NULL);
    sqlite3_close(db);
    rel_say("soak: server stopped %s; %lld outfalls stored for %ld created\n",
            stopped == 0 ? "cleanly (exit 0, no leak reported)" : "BADLY", (long long)outfalls,
            creates);
    assert_int_equal(wrong_n, 0);
    assert_true(total >= (size_t)(RATE * soak_s * 0.98));
    assert_true(total / elapsed >= RATE * 0.9);
    assert_true(rss_end > 0 && rss_mid > 0);
    assert_true(rss_end < bound);
    assert_int_equal(trouble, 0);
    assert_int_equal(stopped, 0);
    assert_int_equal(outfalls, creates);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fifty_batches_a_second_answered_with_flat_memory),
    };
    return cmocka_run_group_tests_name("reliability/soak", tests, setup, teardown);
}
