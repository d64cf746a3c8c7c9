/* The photo stores (see photo_store.h): the local folder and an S3-compatible bucket. */
#include "sync/photo_store.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sodium.h>
#include <unistd.h>

#include "common/util.h"

enum { READ_CHUNK = 64 * 1024 };

void photo_store_key(const char *hash, char *key, size_t cap) {
    snprintf(key, cap, "%.2s/%.2s/%.64s", hash, hash + 2, hash);
}

/* ---- the local folder ---- */

/* Where photo hash lives under the folder, to depth parts: 1 <dir>/ab, 2 <dir>/ab/cd, 3 the file
 * <dir>/ab/cd/<hash>; into buf[PATH_MAX] ("" when it does not fit: no open finds it). */
static void local_path(const photo_store *ps, const char *hash, int parts, char *buf) {
    static const char *const formats[] = {"%s/%.2s", "%s/%.2s/%.2s", "%s/%.2s/%.2s/%.64s"};
    int n = snprintf(buf, PATH_MAX, formats[parts - 1], ps->dir, hash, hash + 2, hash);
    if (n < 0 || n >= PATH_MAX) buf[0] = '\0';
}

int photo_store_fsync_dir(const char *path) {
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

/* Creates dir when missing; a new one is made durable by syncing its parent folder. */
int photo_store_make_dir(const char *dir) {
    char parent[PATH_MAX];
    if (mkdir(dir, 0750) < 0) return errno == EEXIST ? 0 : -1;
    util_strlcpy(parent, dir, sizeof parent);
    char *slash = strrchr(parent, '/');
    if (slash && slash != parent)
        *slash = '\0';
    else
        util_strlcpy(parent, slash ? "/" : ".", sizeof parent);
    return photo_store_fsync_dir(parent);
}

int photo_store_io_fail(sync_error *err, const char *what) {
    if (errno == ENOSPC || errno == EDQUOT)
        return sync_fail(err, SYNC_EFULL, "storage_full", "no space left for %s", what);
    return sync_fail(err, SYNC_EINTERNAL, "internal", "%s: %s", what, strerror(errno));
}

static int local_prepare(const photo_store *ps, const char *hash, const char *path, int64_t size,
                         sync_error *err) {
    char dir[PATH_MAX];
    (void)path, (void)size;
    int rc = photo_store_make_dir(ps->dir);
    for (int parts = 1; rc == 0 && parts <= 2; parts++) {
        local_path(ps, hash, parts, dir);
        rc = photo_store_make_dir(dir);
    }
    return rc < 0 ? photo_store_io_fail(err, "the photo's folder") : 0;
}

static int local_place(const photo_store *ps, const char *hash, const char *path, int *moved,
                       sync_error *err) {
    char dir[PATH_MAX], file[PATH_MAX];
    local_path(ps, hash, 2, dir);
    local_path(ps, hash, 3, file);
    *moved = 0;
    if (rename(path, file) < 0) return photo_store_io_fail(err, "storing a photo");
    *moved = 1;
    return photo_store_fsync_dir(dir) < 0 ? photo_store_io_fail(err, "storing a photo") : 0;
}

static void local_unplace(const photo_store *ps, const char *hash, const char *path) {
    char file[PATH_MAX];
    local_path(ps, hash, 3, file);
    if (rename(file, path) < 0) unlink(file);
}

static int local_read(const photo_store *ps, const char *hash, int64_t offset, int64_t length,
                      photo_sink sink, void *ctx, sync_error *err) {
    char file[PATH_MAX];
    local_path(ps, hash, 3, file);
    int fd = open(file, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return sync_fail(err, SYNC_EINTERNAL, "internal",
                         "photo %s is recorded but its file cannot be opened: %s", hash,
                         strerror(errno));
    uint8_t *buf = malloc(READ_CHUNK);
    int rc = buf ? 0 : sync_fail(err, SYNC_EINTERNAL, "out_of_memory", "out of memory");
    for (int64_t at = offset; rc == 0 && (length < 0 || at < offset + length);) {
        size_t want = READ_CHUNK;
        if (length >= 0 && offset + length - at < (int64_t)want)
            want = (size_t)(offset + length - at);
        ssize_t n = pread(fd, buf, want, at);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) rc = photo_store_io_fail(err, "reading a photo");
        if (n <= 0 || sink(ctx, buf, (size_t)n) != 0) break; /* its end, or the reader left */
        at += n;
    }
    free(buf);
    close(fd);
    return rc;
}

static int local_size(const photo_store *ps, const char *hash, int64_t *size, sync_error *err) {
    char file[PATH_MAX];
    struct stat st;
    local_path(ps, hash, 3, file);
    *size = -1;
    if (stat(file, &st) == 0) *size = st.st_size;
    return *size >= 0 || errno == ENOENT ? 0 : photo_store_io_fail(err, "a photo's file");
}

static const photo_store_ops local_ops = {"local",       local_prepare, local_place,
                                          local_unplace, local_read,    local_size};

/* ---- a bucket ---- */

/* Fails err from a bucket's failure e about photo hash: unreachable, slow or refusing is 503
 * photo_store_unavailable (try again); an object missing or a bad answer is internal. */
static int bucket_fail(const s3_error *e, const char *what, const char *hash, sync_error *err) {
    if (e->status == S3_UNAVAILABLE || e->status == S3_DENIED)
        return sync_fail(err, SYNC_EBUSY, "photo_store_unavailable",
                         "the photo store is %s while %s photo %.16s...: try again shortly (%s)",
                         s3_status_name(e->status), what, hash, e->message);
    return sync_fail(err, SYNC_EINTERNAL, "internal", "the photo store, %s photo %.16s...: %s %s",
                     what, hash, e->code, e->message);
}

static int bucket_prepare(const photo_store *ps, const char *hash, const char *path, int64_t size,
                          sync_error *err) {
    char key[80];
    int64_t have = -1;
    s3_error e = {0};
    photo_store_key(hash, key, sizeof key);
    int rc = s3_head(ps->s3, key, &have, &e);
    if (rc == 0 && have == size) return 0; /* stored before: not uploaded twice */
    if (rc < 0 && rc != S3_NOT_FOUND) return bucket_fail(&e, "checking", hash, err);
    if (s3_put_file(ps->s3, key, path, &e) < 0) return bucket_fail(&e, "storing", hash, err);
    return 0;
}

static int bucket_place(const photo_store *ps, const char *hash, const char *path, int *moved,
                        sync_error *err) {
    (void)ps, (void)hash, (void)path, (void)err;
    *moved = 0;
    return 0;
}

static void bucket_unplace(const photo_store *ps, const char *hash, const char *path) {
    (void)ps, (void)hash, (void)path; /* an object without a row is invisible and kept once */
}

/* Passes a bucket's bytes on to the caller's sink, noting that it stopped. */
typedef struct relay {
    photo_sink sink;
    void *ctx;
    int stopped;
} relay;

static int relay_bytes(void *ctx, const void *buf, size_t n) {
    relay *r = ctx;
    r->stopped = r->sink(r->ctx, buf, n) != 0;
    return r->stopped;
}

static int bucket_read(const photo_store *ps, const char *hash, int64_t offset, int64_t length,
                       photo_sink sink, void *ctx, sync_error *err) {
    char key[80];
    relay r = {sink, ctx, 0};
    s3_error e = {0};
    photo_store_key(hash, key, sizeof key);
    int rc = s3_get(ps->s3, key, offset, length, relay_bytes, &r, NULL, &e);
    if (rc == 0 || r.stopped) return 0;
    return bucket_fail(&e, "reading", hash, err);
}

static int bucket_size(const photo_store *ps, const char *hash, int64_t *size, sync_error *err) {
    char key[80];
    s3_error e = {0};
    photo_store_key(hash, key, sizeof key);
    int rc = s3_head(ps->s3, key, size, &e);
    if (rc == S3_NOT_FOUND) *size = -1;
    return rc == 0 || rc == S3_NOT_FOUND ? 0 : bucket_fail(&e, "checking", hash, err);
}

static const photo_store_ops bucket_ops = {"s3",           bucket_prepare, bucket_place,
                                           bucket_unplace, bucket_read,    bucket_size};

void photo_store_local(photo_store *ps, const char *dir) {
    memset(ps, 0, sizeof *ps);
    ps->ops = &local_ops;
    ps->dir = dir;
}

void photo_store_bucket(photo_store *ps, s3_client *c) {
    memset(ps, 0, sizeof *ps);
    ps->ops = &bucket_ops;
    ps->s3 = c;
}

void photo_store_close(photo_store *ps) {
    if (!ps) return;
    s3_close(ps->s3);
    ps->s3 = NULL;
}

int photo_store_open(photo_store *ps, const photo_store_spec *spec, char *why, size_t cap) {
    char bucket[64] = "", access[256], secret[256], reason[300];
    const char *prefix = "";
    s3_client *c = NULL;
    s3_error e = {0};
    if (!spec->store || !spec->store[0] || strcmp(spec->store, "local") == 0) {
        photo_store_local(ps, spec->dir);
        return 0;
    }
    if (strncmp(spec->store, "s3://", 5) != 0) {
        snprintf(why, cap, "--photo-store is local or s3://BUCKET/PREFIX, not \"%.100s\"",
                 spec->store);
        return -1;
    }
    const char *name = spec->store + 5, *slash = strchr(name, '/');
    size_t len = slash ? (size_t)(slash - name) : strlen(name);
    if (len == 0 || len >= sizeof bucket) {
        snprintf(why, cap, "--photo-store %.100s names no bucket", spec->store);
        return -1;
    }
    memcpy(bucket, name, len);
    if (slash) prefix = slash + 1;
    if (!spec->endpoint || !spec->endpoint[0]) {
        snprintf(why, cap, "--photo-store %.100s needs --photo-store-endpoint URL", spec->store);
        return -1;
    }
    int got = spec->credentials && spec->credentials[0]
                  ? s3_credentials_load(spec->credentials, access, sizeof access, secret,
                                        sizeof secret, reason, sizeof reason)
                  : s3_credentials_env(access, sizeof access, secret, sizeof secret);
    if (got < 0) {
        snprintf(why, cap, "the photo store's credentials: %s",
                 spec->credentials && spec->credentials[0]
                     ? reason
                     : "give --photo-store-credentials FILE, or set AWS_ACCESS_KEY_ID and "
                       "AWS_SECRET_ACCESS_KEY");
        return -1;
    }
    long timeout_ms = (spec->timeout_s > 0 ? spec->timeout_s : 30) * 1000L;
    s3_config cfg = {.endpoint = spec->endpoint,
                     .region = spec->region,
                     .bucket = bucket,
                     .prefix = prefix,
                     .access_key = access,
                     .secret_key = secret,
                     .connect_timeout_ms = timeout_ms < 5000 ? timeout_ms : 5000,
                     .timeout_ms = timeout_ms,
                     .stall_timeout_ms = timeout_ms,
                     .part_bytes = spec->part_bytes};
    int rc = s3_open(&cfg, &c, &e);
    if (rc == 0) rc = s3_bucket_check(c, &e);
    sodium_memzero(secret, sizeof secret);
    if (rc < 0) {
        snprintf(why, cap, "the photo store s3://%s at %.200s cannot be used (%s): %s", bucket,
                 spec->endpoint, s3_status_name(e.status), e.message);
        s3_close(c);
        return -1;
    }
    photo_store_bucket(ps, c);
    return 0;
}
