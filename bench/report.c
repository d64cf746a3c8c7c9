/* The field day's report: the header naming the command, the machine and the scenario, and the
 * table of medians with the baselines, the targets and a line per run (bench/README.md, "The
 * table"). Printing only: fieldday.c measures. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "bench/bench.h"
#include "common/util.h"

/* ---- the table ---- */

static double median_of(const run_result *r, int n, size_t offset) {
    double v[BENCH_MAX_RUNS];
    for (int i = 0; i < n; i++)
        v[i] = *(const double *)(const void *)((const char *)&r[i] + offset);
    qsort(v, (size_t)n, sizeof *v, bench_cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

#define MED(field) median_of(res, n, offsetof(run_result, field))

/* A number with thin grouping: 12 345. */
static const char *group(double v, char *buf, size_t cap) {
    char raw[32];
    snprintf(raw, sizeof raw, "%.0f", v);
    size_t len = strlen(raw), o = 0;
    for (size_t i = 0; i < len && o + 2 < cap; i++) {
        if (i && (len - i) % 3 == 0 && raw[i - 1] != '-') buf[o++] = ' ';
        buf[o++] = raw[i];
    }
    buf[o] = '\0';
    return buf;
}

static const char *yes_no(int ok) {
    return ok ? "**met**" : "**not met**";
}

void bench_print_table(const bench_opts *opts, const run_result *res, int n) {
    char a[32], b[32], c[32];
    double ratio_sql = MED(ratio_sql), ratio_photo = MED(ratio_photo);
    double p99 = MED(p99), rss = MED(rss_mb), pull = MED(newpull_s);
    int64_t errors = 0;
    for (int i = 0; i < n; i++)
        errors += res[i].errors;
    printf("\n| figure | field day (median of %d) | baseline, same run | ratio | target | |\n", n);
    printf("|---|---:|---:|---:|---|---|\n");
    if (opts->arrival_s > 0)
        printf(
            "| changes applied/s (arrivals over %d s: the offered load, not capacity) | %s | raw "
            "SQLite inserts: %s/s | | | |\n",
            opts->arrival_s, group(MED(changes_per_s), a, sizeof a),
            group(MED(base_sql_per_s), b, sizeof b));
    else
        printf("| changes applied/s | %s | raw SQLite inserts: %s/s | %.2f | ≥ 0.5 × baseline | "
               "%s |\n",
               group(MED(changes_per_s), a, sizeof a), group(MED(base_sql_per_s), b, sizeof b),
               ratio_sql, yes_no(ratio_sql >= 0.5));
    printf("| batches/s (of %d changes) | %.0f | | | | |\n", opts->batch, MED(batches_per_s));
    char when[64] = "";
    if (opts->arrival_s > 0) snprintf(when, sizeof when, ", arriving over %d s", opts->arrival_s);
    printf(
        "| batch latency p50 / p95 / p99 (%d phones%s) | %.0f / %.0f / %.0f ms | | | p99 < 1 s%s "
        "| %s |\n",
        opts->concurrency, when, MED(p50), MED(p95), p99,
        opts->phones >= 500 ? "" : " (at 500 phones)",
        opts->phones >= 500 && opts->concurrency >= 500 ? yes_no(p99 < 1000 && errors == 0)
                                                        : "(run with --phones 500)");
    printf("| photo upload MB/s | %.0f | write + fsync + BLAKE2b: %.0f MB/s | %.2f | ≥ 0.8 × "
           "baseline | %s |\n",
           MED(photo_mb_s), MED(base_photo_mb_s), ratio_photo, yes_no(ratio_photo >= 0.8));
    printf("| new phone pulls its division (%s records) | %.2f s | | | < 2 s | %s |\n",
           group((double)res[0].newpull_records, c, sizeof c), pull,
           opts->pull_records >= 10000 ? yes_no(pull < 2.0) : "(fewer than 10 000)");
    printf("| server peak RSS, field day%s | %.0f MB | | | < 200 MB | %s |\n",
           res[0].hwm_reset ? "" : " (incl. set-up)", rss, yes_no(rss < 200));
    printf("| server CPU time, field day (user + sys) | %.1f s | | | | |\n", MED(cpu_s));
    printf("\nevery batch answered: %s (%lld failed exchanges over %d run(s))\n",
           errors == 0 ? "yes" : "NO", (long long)errors, n);
    printf("\nper run (field day phases, s; changes; results):\n");
    for (int i = 0; i < n; i++) {
        const run_result *r = &res[i];
        printf("  run %d: load %.1f, set-up %.1f | enroll %.2f, photos %.2f (%lld files, %.0f MB), "
               "sync %.2f (%lld changes, %lld batches, %lld replays), pull %.2f (%lld entries) | "
               "new phone %.2f s | baseline SQLite %.2f s (%lld changes, %lld batches), "
               "photos %.2f s | peak RSS incl. set-up %.0f MB\n",
               i + 1, r->load1, r->setup_s, r->enroll_s, r->photo_s, (long long)r->photos,
               (double)r->photo_bytes / 1e6, r->sync_s, (long long)r->changes,
               (long long)r->batches, (long long)r->replays, r->pull_s, (long long)r->feed_entries,
               r->newpull_s, r->base_sql_s, (long long)r->base_changes, (long long)r->base_batches,
               r->base_photo_s, r->rss_all_mb);
        printf("         server CPU s: enroll %.2f, photos %.2f, sync %.2f (%.0f µs a change), "
               "pull %.2f; the phones (this program) %.1f s, %.1f s of it in sync; server peak RSS "
               "MB: enroll %.0f, photos %.0f, sync %.0f, pull %.0f; connects dropped by a full "
               "listen queue: %ld; exchanges sent again after the server closed an idle "
               "connection: %lld\n",
               r->cpu_enroll, r->cpu_photos, r->cpu_sync,
               r->changes ? r->cpu_sync * 1e6 / (double)r->changes : 0, r->cpu_pull,
               r->client_cpu_s, r->client_cpu_sync, r->rss_phase[0], r->rss_phase[1],
               r->rss_phase[2], r->rss_phase[3], r->overflows, (long long)r->resent);
        printf(
            "         results: APPLIED %lld, MERGED %lld, CONFLICT %lld, DUPLICATE_SUSPECT %lld, "
            "REJECTED %lld, ALREADY_APPLIED %lld, HELD %lld; p99 %.0f ms, max %.0f ms\n",
            (long long)r->statuses[1], (long long)r->statuses[2], (long long)r->statuses[3],
            (long long)r->statuses[4], (long long)r->statuses[5], (long long)r->statuses[6],
            (long long)r->statuses[7], r->p99, r->lat_max);
    }
}

void bench_print_header(const bench_opts *o, int argc, char **argv, const bench_fixture *fx,
                        int n_fx) {
    struct utsname u;
    char cpu[128] = "?", line[256];
    FILE *f = fopen("/proc/cpuinfo", "r");
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "model name", 10) == 0) {
            const char *colon = strchr(line, ':');
            util_strlcpy(cpu, colon ? colon + 2 : line, sizeof cpu);
            cpu[strcspn(cpu, "\n")] = '\0';
            break;
        }
    if (f) fclose(f);
    uname(&u);
    time_t now = time(NULL);
    char when[64];
    strftime(when, sizeof when, "%Y-%m-%d %H:%M %Z", localtime(&now));
    printf("# outfall field-day benchmark\n\n");
    printf("command: ");
    const char *shown = getenv("BENCH_COMMAND");
    if (shown && *shown)
        printf("%s", shown);
    else
        for (int i = 0; i < argc; i++)
            printf("%s%s", i ? " " : "", argv[i]);
    printf("\nmachine: %ld CPUs (%s), %s %s, %s\n", sysconf(_SC_NPROCESSORS_ONLN), cpu, u.sysname,
           u.release, when);
    double mb = 0;
    for (int i = 0; i < n_fx; i++)
        mb += (double)fx[i].len / 1e6;
    if (o->big_only) {
        fflush(stdout);
        return; /* the big batch prints its own scenario */
    }
    printf("scenario: %d phones at once (concurrency %d), each: %d observations, %d new outfalls, "
           "%d edits, in batches of %d (%d%% sent twice), %d photos (from %d fixtures, mean "
           "%.2f MB);\n          %d shared outfalls in each of 10 field divisions (%d%% of new "
           "outfalls land next to one); a new phone's division holds %d records; seed %llu; "
           "%d run(s), medians\n",
           o->phones, o->concurrency, o->observations, o->creates, o->edits, o->batch,
           o->replay_pct, o->photos, n_fx, n_fx ? mb / n_fx : 0, o->hot, o->dup_pct,
           o->pull_records, (unsigned long long)o->seed, o->runs);
    if (o->arrival_s > 0)
        printf("          in the sync phase the phones come back in range spread evenly at random "
               "over %d s\n",
               o->arrival_s);
    fflush(stdout);
}

/* ---- the big batch ---- */

/* The median of field (a double of big_result) over the runs of device count d. */
static double big_median(const big_result *res, int d, int runs, size_t offset) {
    double v[BENCH_MAX_RUNS];
    for (int i = 0; i < runs; i++)
        v[i] = *(const double *)(const void *)((const char *)&res[d * runs + i] + offset);
    qsort(v, (size_t)runs, sizeof *v, bench_cmp_double);
    return runs % 2 ? v[runs / 2] : (v[runs / 2 - 1] + v[runs / 2]) / 2;
}

#define BIG(d, field) big_median(res, d, runs, offsetof(big_result, field))

void bench_print_big(const bench_opts *opts, const big_result *res, int runs) {
    int n = opts->n_big_devices;
    char a[32], b[32];
    printf("\n| figure (big batch: %d observations, batches of %d) |", opts->big_docs,
           opts->big_batch);
    for (int d = 0; d < n; d++)
        printf(" %d device%s |", opts->big_devices[d], opts->big_devices[d] > 1 ? "s" : "");
    printf("\n|---|");
    for (int d = 0; d < n; d++)
        printf("---:|");
    printf("\n| server: observations/s |");
    for (int d = 0; d < n; d++)
        printf(" %s |", group(BIG(d, docs_per_s), a, sizeof a));
    printf("\n| batch latency p50 / p95 / p99 |");
    for (int d = 0; d < n; d++)
        printf(" %.0f / %.0f / %.0f ms |", BIG(d, p50), BIG(d, p95), BIG(d, p99));
    printf("\n| baseline: the documents straight into SQLite, rows/s |");
    for (int d = 0; d < n; d++)
        printf(" %s |", group(BIG(d, raw_per_s), a, sizeof a));
    printf("\n| **server ÷ raw SQLite documents** |");
    for (int d = 0; d < n; d++)
        printf(" **%.3f** |", BIG(d, ratio_raw));
    printf("\n| baseline: the server's own rows replayed, changes/s |");
    for (int d = 0; d < n; d++)
        printf(" %s |", group(BIG(d, rows_per_s), a, sizeof a));
    printf("\n| server ÷ its rows replayed |");
    for (int d = 0; d < n; d++)
        printf(" %.2f |", BIG(d, ratio_rows));
    printf("\n| database bytes per observation: server / raw SQLite |");
    for (int d = 0; d < n; d++)
        printf(" %s / %s |", group(BIG(d, server_bytes_per_doc), a, sizeof a),
               group(BIG(d, raw_bytes_per_doc), b, sizeof b));
    printf("\n| server peak RSS (timed part) |");
    for (int d = 0; d < n; d++)
        printf(" %.0f MB%s |", BIG(d, rss_mb) < 0 ? -BIG(d, rss_mb) : BIG(d, rss_mb),
               BIG(d, rss_mb) < 0 ? " (incl. set-up)" : "");
    printf("\n| server CPU per observation |");
    for (int d = 0; d < n; d++) {
        double cpu = BIG(d, cpu_s);
        printf(" %.0f µs |", opts->big_docs ? cpu * 1e6 / opts->big_docs : 0);
    }
    int64_t errors = 0;
    for (int i = 0; i < n * runs; i++)
        errors += res[i].errors;
    printf("\n\nissue 20's target: ≥ 2 × PouchDB Server's docs/s on the same documents (measured "
           "beside it, not by this program); the documents straight into SQLite bound what any "
           "server can do on this disk.\n");
    printf("every big batch answered: %s (%lld failed exchanges)\n", errors == 0 ? "yes" : "NO",
           (long long)errors);
    printf("\nper run (big batch):\n");
    for (int i = 0; i < n * runs; i++) {
        const big_result *r = &res[i];
        printf("  %d device(s), run %d: load %.1f, set-up %.1f s | %.2f s, %lld batches, "
               "%.0f obs/s, p99 %.0f ms, max %.0f ms, server CPU %.2f s | raw SQLite %.2f s "
               "(%lld rows) | server rows replayed %.2f s (%lld changes) | APPLIED %lld, "
               "MERGED %lld, CONFLICT %lld, DUPLICATE_SUSPECT %lld, REJECTED %lld, "
               "ALREADY_APPLIED %lld, HELD %lld\n",
               r->devices, i % runs + 1, r->load1, r->setup_s, r->wall_s, (long long)r->batches,
               r->docs_per_s, r->p99, r->lat_max, r->cpu_s, r->raw_s, (long long)r->raw_rows,
               r->rows_s, (long long)r->rows_changes, (long long)r->statuses[1],
               (long long)r->statuses[2], (long long)r->statuses[3], (long long)r->statuses[4],
               (long long)r->statuses[5], (long long)r->statuses[6], (long long)r->statuses[7]);
    }
    fflush(stdout);
}
