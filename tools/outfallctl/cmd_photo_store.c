/* `photos verify` and `photos migrate`: offline work on the photo store of a data folder. verify
 * reads every photo the database records back from the store (the folder or a bucket) and hashes
 * it; migrate copies the folder's photos into a bucket, resumably. Both read DATA's database
 * directly (read-only; the server may run) and need no token. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "sync/photo_store.h"
#include "tools/outfallctl/ctl.h"

/* What a photo store command was given. */
typedef struct store_args {
    const char *data;
    photo_store_spec spec;
    char photos_dir[4096];
} store_args;

int ctl_photo_store_flag(int opt, const char *arg, photo_store_spec *spec) {
    char *end = NULL;
    long seconds;
    switch (opt) {
    case 's':
        spec->store = arg;
        return 1;
    case 'e':
        spec->endpoint = arg;
        return 1;
    case 'r':
        spec->region = arg;
        return 1;
    case 'c':
        spec->credentials = arg;
        return 1;
    case 't':
        seconds = strtol(arg, &end, 10);
        if (end == arg || *end || seconds < 1 || seconds > 3600) {
            fprintf(stderr,
                    "outfallctl: --photo-store-timeout takes whole seconds, 1 to 3600, not "
                    "\"%s\"\n",
                    arg);
            return -1;
        }
        spec->timeout_s = (int)seconds;
        return 1;
    default:
        return 0;
    }
}

/* Parses --data and the --photo-store flags (as outfalld takes them) from argv after the
 * sub-command. Returns 0, or CTL_USAGE after printing why. */
static int parse_args(int argc, char **argv, store_args *a) {
    static const struct option opts[] = {
        {"data", required_argument, NULL, 'd'},
        {"photo-store", required_argument, NULL, 's'},
        {"photo-store-endpoint", required_argument, NULL, 'e'},
        {"photo-store-region", required_argument, NULL, 'r'},
        {"photo-store-credentials", required_argument, NULL, 'c'},
        {"photo-store-timeout", required_argument, NULL, 't'},
        {NULL, 0, NULL, 0},
    };
    int opt;
    memset(a, 0, sizeof *a);
    a->data = "./data";
    a->spec.store = "local";
    optind = 1;
    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (opt) {
        case 'd':
            a->data = optarg;
            break;
        default:
            if (ctl_photo_store_flag(opt, optarg, &a->spec) <= 0) return ctl_usage(1);
        }
    }
    if (optind != argc) return ctl_usage(1);
    snprintf(a->photos_dir, sizeof a->photos_dir, "%s/photos", a->data);
    a->spec.dir = a->photos_dir;
    return 0;
}

/* Opens DATA's database read-only with its photos listed: "SELECT hash, size FROM photos". */
static int open_photos(const char *data, sqlite3 **db, sqlite3_stmt **st) {
    char path[4200];
    snprintf(path, sizeof path, "%s/outfall.db", data);
    *st = NULL;
    if (sqlite3_open_v2(path, db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(*db, "SELECT hash, size FROM photos ORDER BY hash", -1, st, NULL) !=
            SQLITE_OK) {
        int rc = ctl_fail("cannot read %s: %s", path, sqlite3_errmsg(*db));
        sqlite3_close(*db);
        return rc;
    }
    return CTL_OK;
}

/* A photo's bytes hashed as they stream by. */
typedef struct digest {
    crypto_generichash_state st;
    int64_t bytes;
} digest;

static int digest_bytes(void *ctx, const void *buf, size_t n) {
    digest *d = ctx;
    crypto_generichash_update(&d->st, buf, n);
    d->bytes += (int64_t)n;
    return 0;
}

/* What reading photo hash back from ps found. */
enum { FOUND_OK, FOUND_MISSING, FOUND_BAD, FOUND_UNREADABLE };

/* Reads photo hash (size bytes recorded) from ps and hashes it. */
static int check_one(const photo_store *ps, const char *hash, int64_t size, char *why, size_t cap) {
    int64_t have = -1;
    sync_error err = {0};
    unsigned char out[32];
    char hex[65];
    if (ps->ops->size(ps, hash, &have, &err) < 0) {
        snprintf(why, cap, "%s", err.message);
        return FOUND_UNREADABLE;
    }
    if (have < 0) return FOUND_MISSING;
    digest d = {.bytes = 0};
    crypto_generichash_init(&d.st, NULL, 0, sizeof out);
    if (ps->ops->read(ps, hash, 0, -1, digest_bytes, &d, &err) < 0) {
        snprintf(why, cap, "%s", err.message);
        return FOUND_UNREADABLE;
    }
    crypto_generichash_final(&d.st, out, sizeof out);
    sodium_bin2hex(hex, sizeof hex, out, sizeof out);
    if (d.bytes != size || strcmp(hex, hash) != 0) {
        snprintf(why, cap, "%" PRId64 " bytes hashing to %.16s..., recorded %" PRId64, d.bytes, hex,
                 size);
        return FOUND_BAD;
    }
    return FOUND_OK;
}

static int verify(const store_args *a) {
    static const char *const words[] = {"ok", "missing", "bad", "unreadable"};
    photo_store ps;
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    char why[600];
    long long count[4] = {0, 0, 0, 0}, n = 0;
    if (photo_store_open(&ps, &a->spec, why, sizeof why) < 0) return ctl_fail("%s", why);
    if (open_photos(a->data, &db, &st) != CTL_OK) {
        photo_store_close(&ps);
        return CTL_FAIL;
    }
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *hash = (const char *)sqlite3_column_text(st, 0);
        int found = check_one(&ps, hash, sqlite3_column_int64(st, 1), why, sizeof why);
        count[found]++;
        n++;
        if (found != FOUND_OK)
            fprintf(stderr, "verify: %s %s%s%s\n", hash, words[found], found > 1 ? ": " : "",
                    found > 1 ? why : "");
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    photo_store_close(&ps);
    printf("verified %lld photos in %s store: %lld ok, %lld missing, %lld bad, %lld unreadable\n",
           n, ps.ops->kind, count[0], count[1], count[2], count[3]);
    return count[0] == n ? CTL_OK : CTL_FAIL;
}

static int migrate(const store_args *a) {
    photo_store from, to;
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    char why[600];
    long long copied = 0, present = 0, failed = 0, n = 0;
    if (strncmp(a->spec.store, "s3://", 5) != 0)
        return ctl_fail("photos migrate copies the folder into a bucket: give --photo-store "
                        "s3://BUCKET/PREFIX");
    photo_store_local(&from, a->photos_dir);
    if (photo_store_open(&to, &a->spec, why, sizeof why) < 0) return ctl_fail("%s", why);
    if (open_photos(a->data, &db, &st) != CTL_OK) {
        photo_store_close(&to);
        return CTL_FAIL;
    }
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *hash = (const char *)sqlite3_column_text(st, 0);
        int64_t size = sqlite3_column_int64(st, 1);
        char path[4200];
        sync_error err = {0};
        n++;
        /* There whole already (a run before this one): its size and digest say so. */
        if (check_one(&to, hash, size, why, sizeof why) == FOUND_OK) {
            present++;
            fprintf(stderr, "migrate: %lld %s present\n", n, hash);
            continue;
        }
        int local = check_one(&from, hash, size, why, sizeof why);
        snprintf(path, sizeof path, "%s/%.2s/%.2s/%s", a->photos_dir, hash, hash + 2, hash);
        if (local != FOUND_OK || to.ops->prepare(&to, hash, path, size, &err) < 0) {
            failed++;
            fprintf(stderr, "migrate: %lld %s FAILED: %s\n", n, hash,
                    local != FOUND_OK ? (local == FOUND_MISSING ? "no local file" : why)
                                      : err.message);
            continue;
        }
        copied++;
        fprintf(stderr, "migrate: %lld %s copied\n", n, hash);
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    photo_store_close(&to);
    printf("migrated %lld photos to %s: %lld copied, %lld present already, %lld failed\n", n,
           a->spec.store, copied, present, failed);
    return failed == 0 ? CTL_OK : CTL_FAIL;
}

int cmd_photo_store(int argc, char **argv) {
    store_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc != 0) return rc;
    if (sodium_init() < 0) return ctl_fail("libsodium failed to initialise");
    return strcmp(argv[0], "verify") == 0 ? verify(&a) : migrate(&a);
}
