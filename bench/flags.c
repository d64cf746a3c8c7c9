/* fieldday's flags: their defaults, --help, and the checks on each (bench/README.md). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/bench.h"

/* ---- flags ---- */

static void usage(FILE *out) {
    fprintf(out,
            "usage: fieldday [flags]\n\n"
            "Plays a field day against a fresh optimised outfalld and prints one table.\n"
            "  --phones N          phones (default 200)\n"
            "  --observations N    observations per phone (default 20)\n"
            "  --creates N         new outfalls per phone (default 5)\n"
            "  --edits N           edits of existing outfalls per phone (default 5)\n"
            "  --photos N          photos per phone (default 4)\n"
            "  --batch N           changes per batch (default 10)\n"
            "  --concurrency N     phones at once (default: all of them)\n"
            "  --arrival-s S       phones come back in range spread over S seconds of the sync\n"
            "                      phase instead of all at the same instant (default 0)\n"
            "  --runs N            runs; each figure is the median (default 3)\n"
            "  --seed N            random seed (default 1)\n"
            "  --pull-records N    records of the division a new phone pulls (default 10000)\n"
            "  --hot N             shared outfalls per field division (default 50)\n"
            "  --dup-pct N         %% of new outfalls placed next to an existing one (default 10)\n"
            "  --replay-pct N      %% of batches sent twice (default 5)\n"
            "  --server-threads N  outfalld --threads (default: the server's default)\n"
            "  --server-arg ARG    one more outfalld flag (repeat: --server-arg --keep-alive-ms\n"
            "                      --server-arg 200)\n"
            "  --outfalld PATH     server binary (default build/release/outfalld)\n"
            "  --fixtures DIR      photo fixtures (default tests/fixtures/photos)\n"
            "  --tmpdir DIR        where data folders go (default $TMPDIR or /tmp)\n"
            "  --profile PHASE     record the server with perf during one phase: enroll, photos,\n"
            "                      sync, pull or newpull (last run's recording is kept)\n"
            "  --profile-out FILE  where perf writes (default fieldday.perf.data)\n"
            "  --big-batch-docs N  observations of the big-batch phase run after the field day\n"
            "                      (default 20000; 0: no big-batch phase)\n"
            "  --big-batch-size N  changes per big batch (default 500)\n"
            "  --big-batch-devices LIST  device counts, one server each (default 1,8)\n"
            "  --big-batch-only    the big-batch phase alone, no field day\n"
            "  --quick             a smoke run: 20 phones, small numbers, 1000 big-batch\n"
            "                      observations in batches of 100, 1 run\n"
            "  --keep              keep the data folders\n"
            "  --verbose           say what happens\n");
}

/* A comma-separated list of device counts (1 to 64, at most 4) into o->big_devices. */
static int parse_devices(const char *text, bench_opts *o) {
    int n = 0;
    const char *p = text;
    while (*p && n < 4) {
        char *end = NULL;
        long v = strtol(p, &end, 10);
        if (end == p || v < 1 || v > 64 || (*end && *end != ',')) break;
        o->big_devices[n++] = (int)v;
        p = *end ? end + 1 : end;
    }
    if (n == 0 || *p) {
        fprintf(stderr,
                "fieldday: --big-batch-devices: \"%s\" is not a list of up to 4 counts from 1 "
                "to 64, such as 1,8\n",
                text);
        return -1;
    }
    o->n_big_devices = n;
    return 0;
}

static int parse_int(const char *name, const char *text, int min, int max, int *out) {
    char *end = NULL;
    long v = strtol(text, &end, 10);
    if (!*text || *end || v < min || v > max) {
        fprintf(stderr, "fieldday: --%s: \"%s\" is not a number from %d to %d\n", name, text, min,
                max);
        return -1;
    }
    *out = (int)v;
    return 0;
}

int bench_parse_flags(int argc, char **argv, bench_opts *o) {
    static const struct option longs[] = {
        {"phones", required_argument, NULL, 'n'},
        {"observations", required_argument, NULL, 'o'},
        {"creates", required_argument, NULL, 'c'},
        {"edits", required_argument, NULL, 'e'},
        {"photos", required_argument, NULL, 'p'},
        {"batch", required_argument, NULL, 'b'},
        {"concurrency", required_argument, NULL, 'C'},
        {"runs", required_argument, NULL, 'r'},
        {"seed", required_argument, NULL, 's'},
        {"pull-records", required_argument, NULL, 'P'},
        {"hot", required_argument, NULL, 'H'},
        {"dup-pct", required_argument, NULL, 'd'},
        {"replay-pct", required_argument, NULL, 'R'},
        {"server-threads", required_argument, NULL, 'T'},
        {"outfalld", required_argument, NULL, 'O'},
        {"fixtures", required_argument, NULL, 'F'},
        {"tmpdir", required_argument, NULL, 't'},
        {"quick", no_argument, NULL, 'q'},
        {"keep", no_argument, NULL, 'k'},
        {"verbose", no_argument, NULL, 'v'},
        {"server-arg", required_argument, NULL, 'A'},
        {"profile", required_argument, NULL, 'x'},
        {"profile-out", required_argument, NULL, 'X'},
        {"arrival-s", required_argument, NULL, 'a'},
        {"big-batch-docs", required_argument, NULL, 'D'},
        {"big-batch-size", required_argument, NULL, 'B'},
        {"big-batch-devices", required_argument, NULL, 'V'},
        {"big-batch-only", no_argument, NULL, 'Y'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *tmp = getenv("TMPDIR");
    *o = (bench_opts){.phones = 200,
                      .observations = 20,
                      .creates = 5,
                      .edits = 5,
                      .photos = 4,
                      .batch = 10,
                      .concurrency = 0,
                      .runs = 3,
                      .pull_records = 10000,
                      .hot = 50,
                      .dup_pct = 10,
                      .replay_pct = 5,
                      .seed = 1,
                      .outfalld = "build/release/outfalld",
                      .fixtures = "tests/fixtures/photos",
                      .tmpdir = tmp && *tmp ? tmp : "/tmp",
                      .profile_out = "fieldday.perf.data",
                      .big_docs = 20000,
                      .big_batch = 500,
                      .big_devices = {1, 8},
                      .n_big_devices = 2};
    /* --quick first, so flags after it still win. */
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--quick") == 0) {
            o->phones = 20, o->observations = 6, o->creates = 2, o->edits = 2, o->photos = 2;
            o->runs = 1, o->pull_records = 1000, o->hot = 10, o->big_docs = 1000;
            o->big_batch = 100;
        }
    int opt, rc = 0;
    while (rc == 0 && (opt = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
        const char *name = "";
        for (int i = 0; longs[i].name; i++)
            if (longs[i].val == opt) name = longs[i].name;
        int v;
        switch (opt) {
        case 'n':
            rc = parse_int(name, optarg, 1, 100000, &o->phones);
            break;
        case 'o':
            rc = parse_int(name, optarg, 0, 10000, &o->observations);
            break;
        case 'c':
            rc = parse_int(name, optarg, 0, 10000, &o->creates);
            break;
        case 'e':
            rc = parse_int(name, optarg, 0, 10000, &o->edits);
            break;
        case 'p':
            rc = parse_int(name, optarg, 0, 1000, &o->photos);
            break;
        case 'b':
            rc = parse_int(name, optarg, 1, 5000, &o->batch);
            break;
        case 'C':
            rc = parse_int(name, optarg, 1, 100000, &o->concurrency);
            break;
        case 'r':
            rc = parse_int(name, optarg, 1, BENCH_MAX_RUNS, &o->runs);
            break;
        case 's':
            rc = parse_int(name, optarg, 0, 2000000000, &v), o->seed = (uint64_t)v;
            break;
        case 'P':
            rc = parse_int(name, optarg, 0, 1000000, &o->pull_records);
            break;
        case 'H':
            rc = parse_int(name, optarg, 0, 100, &o->hot);
            break;
        case 'd':
            rc = parse_int(name, optarg, 0, 100, &o->dup_pct);
            break;
        case 'R':
            rc = parse_int(name, optarg, 0, 100, &o->replay_pct);
            break;
        case 'T':
            rc = parse_int(name, optarg, 1, 1024, &o->server_threads);
            break;
        case 'A':
            if (o->n_server_args < 16) o->server_args[o->n_server_args++] = optarg;
            break;
        case 'a':
            rc = parse_int(name, optarg, 0, 3600, &o->arrival_s);
            break;
        case 'x':
            o->profile = optarg;
            break;
        case 'X':
            o->profile_out = optarg;
            break;
        case 'O':
            o->outfalld = optarg;
            break;
        case 'F':
            o->fixtures = optarg;
            break;
        case 't':
            o->tmpdir = optarg;
            break;
        case 'D':
            rc = parse_int(name, optarg, 0, 1000000, &o->big_docs);
            break;
        case 'B':
            rc = parse_int(name, optarg, 1, 5000, &o->big_batch);
            break;
        case 'V':
            rc = parse_devices(optarg, o);
            break;
        case 'Y':
            o->big_only = 1;
            break;
        case 'q':
            break;
        case 'k':
            o->keep = 1;
            break;
        case 'v':
            o->verbose = 1;
            break;
        case 'h':
            usage(stdout);
            exit(0);
        default:
            rc = -1;
            break;
        }
    }
    if (rc == 0 && optind < argc) {
        fprintf(stderr, "fieldday: unexpected argument \"%s\"\n", argv[optind]);
        rc = -1;
    }
    if (rc == 0 && o->big_only && o->big_docs == 0) {
        fprintf(stderr, "fieldday: --big-batch-only needs --big-batch-docs above 0\n");
        rc = -1;
    }
    if (rc) usage(stderr);
    if (o->concurrency == 0) o->concurrency = o->phones;
    return rc;
}
