/* `photos upload DIR`: sends a folder of photos as a phone does. Each file is hashed (BLAKE2b-256,
 * its address on the server), the server is asked which it lacks, and only those are sent with
 * tus 1.0 in chunks, each with a sha256 Upload-Checksum. An upload the server has part of goes on
 * from the server's offset (HEAD); a chunk refused for its offset or checksum, or lost on the
 * way, is tried again a few times. Progress goes to stderr: a bar on a terminal, else a line per
 * file; a summary goes to stdout. */
#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

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

/* One tus exchange's outcome. */
typedef struct tus_answer {
    long status;     /* 0 when the exchange failed */
    int64_t offset;  /* Upload-Offset, -1 when absent */
    char error[320]; /* "code: message" of an Error, or curl's complaint */
} tus_answer;

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
    crypto_generichash_state st;
    uint8_t digest[32];
    int fd = open(f->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return ctl_fail("%s: %s", f->path, strerror(errno));
    crypto_generichash_init(&st, NULL, 0, sizeof digest);
    ssize_t n;
    f->size = 0;
    while ((n = read(fd, buf, cap)) > 0) {
        crypto_generichash_update(&st, buf, (size_t)n);
        f->size += n;
    }
    close(fd);
    if (n < 0) return ctl_fail("%s: %s", f->path, strerror(errno));
    crypto_generichash_final(&st, digest, sizeof digest);
    util_hex(digest, sizeof digest, f->hash);
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

/* ---- tus over libcurl ---- */

typedef struct sink {
    uint8_t *data;
    size_t len;
    tus_answer *a;
} sink;

static size_t on_body(char *data, size_t size, size_t n, void *user) {
    sink *s = user;
    size_t add = size * n;
    uint8_t *grown = realloc(s->data, s->len + add + 1);
    if (!grown) return 0;
    memcpy(grown + s->len, data, add);
    s->data = grown;
    s->len += add;
    return add;
}

static size_t on_header(char *data, size_t size, size_t n, void *user) {
    sink *s = user;
    size_t len = size * n;
    if (len > 14 && strncasecmp(data, "Upload-Offset:", 14) == 0)
        s->a->offset = strtoll(data + 14, NULL, 10);
    return len;
}

/* One tus request: method on the photo's address (create: POST /v1/photos/{hash}) with the
 * extra headers and body[len] (NULL: none). */
static void tus_call(uploader *u, const char *method, const char *hash, const char *const *headers,
                     const void *body, size_t len, tus_answer *a) {
    char url[2048], line[1024];
    sink s = {NULL, 0, a};
    memset(a, 0, sizeof *a);
    a->offset = -1;
    curl_easy_reset(u->curl);
    snprintf(url, sizeof url, "%s/v1/photos/%s", u->c->server, hash);
    struct curl_slist *h = curl_slist_append(NULL, "Tus-Resumable: 1.0.0");
    h = curl_slist_append(h, "Accept: application/x-protobuf");
    h = curl_slist_append(h, "Expect:");
    if (u->c->token) {
        snprintf(line, sizeof line, "Authorization: Bearer %s", u->c->token);
        h = curl_slist_append(h, line);
    }
    for (int i = 0; headers && headers[i]; i++)
        h = curl_slist_append(h, headers[i]);
    curl_easy_setopt(u->curl, CURLOPT_URL, url);
    curl_easy_setopt(u->curl, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(u->curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(u->curl, CURLOPT_TIMEOUT, 300L);
    curl_easy_setopt(u->curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(u->curl, CURLOPT_WRITEDATA, &s);
    curl_easy_setopt(u->curl, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(u->curl, CURLOPT_HEADERDATA, &s);
    if (strcmp(method, "HEAD") == 0) {
        curl_easy_setopt(u->curl, CURLOPT_NOBODY, 1L);
    } else {
        curl_easy_setopt(u->curl, CURLOPT_CUSTOMREQUEST, method);
        curl_easy_setopt(u->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
        curl_easy_setopt(u->curl, CURLOPT_POSTFIELDS, body ? (const char *)body : "");
    }
    CURLcode cr = curl_easy_perform(u->curl);
    if (cr != CURLE_OK) {
        snprintf(a->error, sizeof a->error, "%.8s %.150s: %.150s", method, url,
                 curl_easy_strerror(cr));
    } else {
        curl_easy_getinfo(u->curl, CURLINFO_RESPONSE_CODE, &a->status);
        Outfall__V1__Error *e =
            a->status >= 300 && s.len ? outfall__v1__error__unpack(NULL, s.len, s.data) : NULL;
        if (e && e->code)
            snprintf(a->error, sizeof a->error, "%s: %s", e->code, e->message ? e->message : "");
        else if (a->status >= 300)
            snprintf(a->error, sizeof a->error, "the server answered HTTP %ld", a->status);
        if (e) outfall__v1__error__free_unpacked(e, NULL);
    }
    free(s.data);
    curl_slist_free_all(h);
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

/* How much of f the server has: HEAD, or a new upload (offset 0) when there is none. */
static int server_offset(uploader *u, const photo_file *f, int64_t *offset) {
    tus_answer a;
    tus_call(u, "HEAD", f->hash, NULL, NULL, 0, &a);
    if (a.status == 200 && a.offset >= 0 && a.offset <= f->size) {
        *offset = a.offset;
        return CTL_OK;
    }
    if (a.status != 404)
        return bar_end(u), ctl_fail("%s: %s", f->name, a.error[0] ? a.error : "bad HEAD");
    char length[64];
    snprintf(length, sizeof length, "Upload-Length: %lld", (long long)f->size);
    const char *headers[] = {length, NULL};
    tus_call(u, "POST", f->hash, headers, NULL, 0, &a);
    if (a.status != 201) return bar_end(u), ctl_fail("%s: %s", f->name, a.error);
    *offset = 0;
    return CTL_OK;
}

/* Sends the rest of f from the server's offset in chunks. *resumed_at gets where it went on. */
static int upload_one(uploader *u, const photo_file *f, int64_t *resumed_at) {
    int64_t offset = 0;
    int tries = 0, rc = server_offset(u, f, &offset);
    int fd = rc == CTL_OK ? open(f->path, O_RDONLY | O_CLOEXEC) : -1;
    if (rc == CTL_OK && fd < 0) rc = ctl_fail("%s: %s", f->path, strerror(errno));
    *resumed_at = offset;
    while (rc == CTL_OK && offset < f->size) {
        progress(u, f, offset);
        size_t want = f->size - offset < (int64_t)u->chunk ? (size_t)(f->size - offset) : u->chunk;
        ssize_t n = pread(fd, u->buf, want, offset);
        if (n != (ssize_t)want) {
            bar_end(u);
            rc = ctl_fail("%s: cannot read at %lld", f->path, (long long)offset);
            break;
        }
        uint8_t digest[crypto_hash_sha256_BYTES];
        crypto_hash_sha256(digest, u->buf, want);
        char *b64 = util_base64_encode(digest, sizeof digest);
        char sum[96], at[64];
        snprintf(sum, sizeof sum, "Upload-Checksum: sha256 %s", b64 ? b64 : "");
        snprintf(at, sizeof at, "Upload-Offset: %lld", (long long)offset);
        free(b64);
        const char *headers[] = {at, sum, "Content-Type: application/offset+octet-stream", NULL};
        tus_answer a;
        tus_call(u, "PATCH", f->hash, headers, u->buf, want, &a);
        if (a.status == 204 && a.offset > offset && a.offset <= f->size) {
            offset = a.offset;
            tries = 0;
        } else if (++tries > RETRIES) {
            bar_end(u);
            rc = ctl_fail("%s: %s", f->name, a.error[0] ? a.error : "no progress");
        } else if (a.status == 0 || a.status == 409 || a.status == 423) {
            rc = server_offset(u, f, &offset); /* lost, or moved on: ask where it stands */
        } else if (a.status != 460) {          /* 460: send the chunk again */
            bar_end(u);
            rc = ctl_fail("%s: %s", f->name, a.error);
        }
    }
    if (rc == CTL_OK) progress(u, f, f->size);
    bar_end(u);
    if (fd >= 0) close(fd);
    return rc;
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
