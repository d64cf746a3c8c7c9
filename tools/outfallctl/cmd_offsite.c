/* `backup --to s3://BUCKET/PREFIX` and `restore --from s3://BUCKET/PREFIX [--at NAME] --data
 * NEWDIR`: a backup into the bucket by hand (the one outfalld makes on its schedule) and a
 * restore from it onto a new folder. The engine side is sync/offsite.c; the bucket is reached
 * with the photo store's flags (--photo-store-endpoint, -region, -credentials, -timeout). */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/util.h"
#include "sync/offsite.h"
#include "sync/photo_store.h"
#include "tools/outfallctl/ctl.h"

/* What an offsite command was given. */
typedef struct offsite_args {
    const char *data;
    const char *url;         /* --to / --from */
    const char *at;          /* --at NAME, or NULL */
    const char *photo_store; /* "local" or s3://...: where the photos live */
    photo_store_spec spec;   /* the bucket of url */
    char photos_dir[PATH_MAX];
} offsite_args;

/* Parses argv (after the command's name) into *a. Returns -1 to go on, or an exit status. */
static int parse(int argc, char **argv, offsite_args *a) {
    static const struct option opts[] = {
        {"data", required_argument, NULL, 'd'},
        {"to", required_argument, NULL, 'u'},
        {"from", required_argument, NULL, 'u'},
        {"at", required_argument, NULL, 'a'},
        {"photo-store", required_argument, NULL, 's'},
        {"photo-store-endpoint", required_argument, NULL, 'e'},
        {"photo-store-region", required_argument, NULL, 'r'},
        {"photo-store-credentials", required_argument, NULL, 'c'},
        {"photo-store-timeout", required_argument, NULL, 't'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int opt;
    memset(a, 0, sizeof *a);
    a->photo_store = "local";
    optind = 1;
    while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (opt) {
        case 'd':
            a->data = optarg;
            break;
        case 'u':
            a->url = optarg;
            break;
        case 'a':
            a->at = optarg;
            break;
        case 's': /* where the photos live, not the bucket of --to / --from */
            a->photo_store = optarg;
            break;
        case 'h':
            return ctl_usage(0);
        default:
            if (ctl_photo_store_flag(opt, optarg, &a->spec) <= 0) return ctl_usage(1);
        }
    }
    if (optind != argc || !a->url) return ctl_usage(1);
    if (strncmp(a->url, "s3://", 5) != 0 || !a->url[5] || a->url[5] == '/')
        return ctl_fail("the bucket is s3://BUCKET/PREFIX, not %s", a->url);
    if (!a->data) a->data = "./data";
    snprintf(a->photos_dir, sizeof a->photos_dir, "%s/photos", a->data);
    a->spec.store = a->url;
    a->spec.dir = a->photos_dir;
    return -1;
}

/* 1 when the command's arguments name a bucket (--to / --from): an offsite command. */
int cmd_offsite_wanted(int argc, char **argv) {
    for (int i = 1; i < argc; i++)
        if (strncmp(argv[i], "--to", 4) == 0 || strncmp(argv[i], "--from", 6) == 0) return 1;
    return 0;
}

int cmd_offsite_backup(int argc, char **argv) {
    offsite_args a;
    int early = parse(argc, argv, &a);
    if (early >= 0) return early;
    char db_path[PATH_MAX + 16], why[1024];
    snprintf(db_path, sizeof db_path, "%s/outfall.db", a.data);
    struct stat sb;
    if (stat(db_path, &sb) != 0) return ctl_fail("no database at %s (give --data)", db_path);
    photo_store bucket;
    if (photo_store_open(&bucket, &a.spec, why, sizeof why) < 0)
        return ctl_fail("the backup bucket: %s", why);
    int local = strcmp(a.photo_store, "local") == 0;
    offsite_target t = {.bucket = bucket.s3,
                        .location = a.url,
                        .db_path = db_path,
                        .photos_dir = local ? a.photos_dir : NULL,
                        .tmp_dir = a.data};
    durable_backup b;
    sync_error err = {0};
    int rc = offsite_backup(&t, &b, &err);
    if (rc == 0) rc = offsite_confirm(db_path, &b, &err);
    photo_store_close(&bucket);
    if (rc) return ctl_fail("%s: %s", err.code, err.message);
    printf("backup %s in %s: seq %lld, database %lld bytes, BLAKE2b-256 %s; confirmed\n", b.name,
           a.url, (long long)b.seq, (long long)b.size, b.digest);
    return CTL_OK;
}

/* 1 when path is missing or an empty folder. */
static int unused_folder(const char *path) {
    DIR *d = opendir(path);
    if (!d) return errno == ENOENT;
    struct dirent *e;
    int empty = 1;
    while (empty && (e = readdir(d)))
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) empty = 0;
    closedir(d);
    return empty;
}

int cmd_offsite_restore(int argc, char **argv) {
    offsite_args a;
    int early = parse(argc, argv, &a);
    if (early >= 0) return early;
    char why[1024];
    int has_data = 0;
    for (int i = 1; i < argc; i++)
        has_data |= strncmp(argv[i], "--data", 6) == 0;
    if (!has_data) return ctl_fail("restore --from takes --data NEWDIR");
    if (!unused_folder(a.data))
        return ctl_fail("data folder %s is not empty; name a new or empty folder", a.data);
    if ((mkdir(a.data, 0750) < 0 && errno != EEXIST) ||
        (mkdir(a.photos_dir, 0750) < 0 && errno != EEXIST))
        return ctl_fail("cannot create %s: %s", a.photos_dir, strerror(errno));
    photo_store bucket;
    if (photo_store_open(&bucket, &a.spec, why, sizeof why) < 0)
        return ctl_fail("the backup bucket: %s", why);
    int local = strcmp(a.photo_store, "local") == 0;
    durable_backup b;
    sync_error err = {0};
    int64_t t0 = util_now_ms();
    int rc = offsite_restore(bucket.s3, a.url, a.at, a.data, local ? a.photos_dir : NULL, &b, &err);
    photo_store_close(&bucket);
    if (rc) return ctl_fail("%s: %s", err.code, err.message);
    printf("restored backup %s from %s into %s: seq %lld, database %lld bytes (schema %d), its "
           "digest, integrity and chains checked, a new store epoch, in %.1f s; start the server "
           "with --data %s\n",
           b.name, a.url, a.data, (long long)b.seq, (long long)b.size, b.schema_version,
           (double)(util_now_ms() - t0) / 1000.0, a.data);
    return CTL_OK;
}
