/* `photos upload DIR`: sends a folder of photos as a phone does. Each file is hashed (BLAKE2b-256,
 * its address on the server), the server is asked which it lacks, and only those are sent with
 * tus 1.0 in chunks, each with a sha256 Upload-Checksum. An upload the server has part of goes on
 * from the server's offset (HEAD); a chunk refused for its offset or checksum, or lost on the
 * way, is tried again a few times (client/tus does the uploading). Progress goes to stderr: a bar
 * on a terminal, else a line per file; a summary goes to stdout. */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "client/hash.h"
#include "client/tus.h"
#include "common/util.h"
#include "outfall/v1/outfall.pb-c.h"
#include "tools/outfallctl/ctl.h"

enum { MAX_FILES = 10000, ASK_BATCH = 500, RETRIES = 3, DEFAULT_CHUNK = 1024 * 1024 };

static const char *const photo_exts[] = {"jpg", "jpeg", "png", "heic", "heif"};

typedef struct photo_file {
    char name[256];
    char path[4096];
    int64_t size;
    char hash[HASH_HEX_LEN + 1];
    int missing; /* the server lacks it */
} photo_file;

typedef struct uploader {
    const ctl *c;
    CURL *curl; /* one handle: its connection is kept alive between chunks */
    size_t chunk;
    int tty;
    int bar_open; /* a progress bar is on stderr's current line */
    uint8_t *buf;
} uploader;

/* 1 when name is a photo this command sends (by its extension, any case; no hidden files). */
static int is_photo_name(const char *name) {
    const char *dot = strrchr(name, '.');
    if (name[0] == '.' || !dot) return 0;
    for (size_t i = 0; i < sizeof photo_exts / sizeof *photo_exts; i++)
        if (strcasecmp(dot + 1, photo_exts[i]) == 0) return 1;
    return 0;
}

static int by_name(const void *a, const void *b) {
    return strcmp(((const photo_file *)a)->name, ((const photo_file *)b)->name);
}

/* The BLAKE2b-256 of f's file into f->hash and its size into f->size. */
static int hash_file(photo_file *f, uint8_t *buf, size_t cap) {
    if (client_hash_file(f->path, buf, cap, f->hash, &f->size) != 0)
        return ctl_fail("%s: %s", f->path, strerror(errno));
    return CTL_OK;
}

/* The photos of dir, sorted by name, hashed. *out is malloc'd (the caller frees it). */
static int list_photos(const char *dir, uint8_t *buf, size_t cap, photo_file **out, size_t *n) {
    DIR *d = opendir(dir);
    struct dirent *e;
    *out = NULL;
    *n = 0;
    if (!d) return ctl_fail("%s: %s", dir, strerror(errno));
    photo_file *files = calloc(MAX_FILES, sizeof *files);
    int rc = files ? CTL_OK : ctl_fail("out of memory");
    while (rc == CTL_OK && (e = readdir(d)) != NULL) {
        struct stat st;
        if (!is_photo_name(e->d_name) || strlen(e->d_name) >= sizeof files->name) continue;
        if (*n == MAX_FILES) {
            rc = ctl_fail("%s holds more than %d photos; send it in parts", dir, MAX_FILES);
            break;
        }
        photo_file *f = &files[*n];
        snprintf(f->name, sizeof f->name, "%s", e->d_name);
        snprintf(f->path, sizeof f->path, "%s/%s", dir, e->d_name);
        if (stat(f->path, &st) == 0 && S_ISREG(st.st_mode)) (*n)++;
    }
    closedir(d);
    if (rc == CTL_OK) qsort(files, *n, sizeof *files, by_name);
    for (size_t i = 0; rc == CTL_OK && i < *n; i++)
        rc = hash_file(&files[i], buf, cap);
    if (rc != CTL_OK) {
        free(files);
        *n = 0;
        return rc;
    }
    *out = files;
    return CTL_OK;
}

/* Asks the server which of files it lacks, ASK_BATCH at a time, marking them missing. */
static int ask_missing(const ctl *c, photo_file *files, size_t n) {
    for (size_t at = 0; at < n; at += ASK_BATCH) {
        size_t k = n - at < ASK_BATCH ? n - at : ASK_BATCH;
        char *hashes[ASK_BATCH];
        for (size_t i = 0; i < k; i++)
            hashes[i] = files[at + i].hash;
        Outfall__V1__PhotoHashes req = OUTFALL__V1__PHOTO_HASHES__INIT;
        req.n_hashes = k;
        req.hashes = hashes;
        Outfall__V1__PhotoHashes *resp = NULL;
        int rc = ctl_call(c, "POST", "/v1/photos/missing", &req.base, NULL,
                          &outfall__v1__photo_hashes__descriptor, (ProtobufCMessage **)&resp);
        if (rc != CTL_OK) return rc;
        for (size_t i = 0; i < k; i++)
            for (size_t j = 0; j < resp->n_hashes; j++)
                if (strcmp(files[at + i].hash, resp->hashes[j]) == 0) files[at + i].missing = 1;
        outfall__v1__photo_hashes__free_unpacked(resp, NULL);
    }
    return CTL_OK;
}

/* Ends the progress bar's line, so what follows starts on its own. */
static void bar_end(uploader *u) {
    if (u->bar_open) fputc('\n', stderr);
    u->bar_open = 0;
}

static void progress(uploader *u, const photo_file *f, int64_t offset) {
    if (!u->tty) return;
    u->bar_open = 1;
    int width = 30, done = f->size ? (int)(offset * width / f->size) : width;
    fprintf(stderr, "\r%-32.32s [%.*s%*s] %3d%% %6.1f/%.1f MiB", f->name, done,
            "##############################", width - done, "",
            f->size ? (int)(offset * 100 / f->size) : 100, (double)offset / 1048576.0,
            (double)f->size / 1048576.0);
}

/* What the progress callback needs. */
typedef struct upload_state {
    uploader *u;
    const photo_file *f;
} upload_state;

static void on_progress(void *user, int64_t offset) {
    upload_state *st = user;
    progress(st->u, st->f, offset);
}

/* Sends f with tus from where the server stands. *resumed_at gets where it went on. */
static int upload_one(uploader *u, const photo_file *f, int64_t *resumed_at) {
    char why[512];
    upload_state st = {u, f};
    client_tus t = {.curl = u->curl,
                    .server = u->c->server,
                    .token = u->c->token,
                    .accept = CLIENT_HTTP_PB,
                    .timeout_s = 300,
                    .use_proxy = 1};
    client_tus_file tf = {.path = f->path,
                          .hash = f->hash,
                          .size = f->size,
                          .piece = u->chunk,
                          .buf = u->buf,
                          .retries = RETRIES,
                          .progress = on_progress,
                          .user = &st};
    int rc = client_tus_upload_file(&t, &tf, resumed_at, why, sizeof why);
    bar_end(u);
    return rc == 0 ? CTL_OK : ctl_fail("%s: %s", f->name, why);
}

static int upload_dir(const ctl *c, const char *dir, size_t chunk) {
    photo_file *files = NULL;
    size_t n = 0, sent = 0, skipped = 0, failed = 0;
    uploader u = {
        .c = c, .curl = curl_easy_init(), .chunk = chunk, .tty = isatty(2), .buf = malloc(chunk)};
    int rc = u.curl && u.buf ? CTL_OK : ctl_fail("cannot start libcurl");
    if (rc == CTL_OK) rc = list_photos(dir, u.buf, chunk, &files, &n);
    if (rc == CTL_OK) rc = ask_missing(c, files, n);
    for (size_t i = 0; rc == CTL_OK && i < n; i++) {
        const photo_file *f = &files[i];
        int64_t resumed = 0;
        if (!f->missing) {
            skipped++;
            fprintf(stderr, "skipped %s: the server has it\n", f->name);
        } else if (upload_one(&u, f, &resumed) == CTL_OK) {
            sent++;
            if (!u.tty && resumed > 0)
                fprintf(stderr, "uploaded %s (%lld bytes, resumed at offset %lld)\n", f->name,
                        (long long)f->size, (long long)resumed);
            else if (!u.tty)
                fprintf(stderr, "uploaded %s (%lld bytes)\n", f->name, (long long)f->size);
        } else {
            failed++;
        }
    }
    if (rc == CTL_OK) printf("%zu uploaded, %zu skipped, %zu failed\n", sent, skipped, failed);
    if (rc == CTL_OK && failed) rc = CTL_FAIL;
    free(files);
    free(u.buf);
    if (u.curl) curl_easy_cleanup(u.curl);
    return rc;
}

int cmd_photos(const ctl *c, int argc, char **argv) {
    static const struct option opts[] = {
        {"chunk", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    long long chunk = DEFAULT_CHUNK;
    char *end = NULL;
    int opt;
    if (argc > 1 && (strcmp(argv[1], "verify") == 0 || strcmp(argv[1], "migrate") == 0))
        return cmd_photo_store(argc - 1, argv + 1);
    while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (opt == 'c') {
            errno = 0;
            chunk = strtoll(optarg, &end, 10);
            if (errno || *end || chunk < 1024 || chunk > 64LL * 1024 * 1024) {
                fprintf(stderr, "outfallctl: --chunk takes 1024 to 67108864 bytes\n");
                return ctl_usage(1);
            }
        } else if (opt == 'h') {
            return ctl_usage(0), CTL_OK;
        } else {
            return ctl_usage(1);
        }
    }
    if (argc - optind != 2 || strcmp(argv[optind], "upload") != 0) {
        fprintf(stderr, "outfallctl: photos upload needs a folder\n");
        return ctl_usage(1);
    }
    return upload_dir(c, argv[optind + 1], (size_t)chunk);
}
