/* The content-addressed photo store, its holders and its uploads (see photos.h); asking which
 * photos a holder lacks and reading them is photo_reads.c. Each holder
 * (a user, or a public report's upload token) has uploads of their own. One request at a time
 * writes into an upload: a small table of busy uploads (hash and holder), shared by the server's
 * threads, serialises them; which of two finished copies of a photo is kept is decided by the
 * write transaction that records it (the second finds the row, drops its copy and records its
 * holder). */
#include "sync/photos.h"
#include "sync/photos_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/util.h"
#include "sync/accounts.h"
#include "sync/apply.h"
#include "sync/hooks.h"

enum { LOCK_WAIT_MS = 10000 };

struct photos_upload {
    char hash[HASH_HEX_LEN + 1];
    char holder[HOLDER_LEN]; /* whose upload: a tus upload is its holder's own */
    char key[BUSY_KEY_LEN];  /* its lock: "<hash>.<holder>" */
    char path[PATH_MAX];     /* the file written: uploads/<hash>.part or a PUT's temporary file */
    int fd;
    int tus;       /* 1: a resumable upload with a row in `uploads`; 0: a PUT */
    int64_t start; /* the offset when this request opened it */
    int64_t offset;
    int64_t length; /* -1: not known (a PUT without Content-Length) */
    int64_t max_bytes;
    int locked;
};

/* ---- the busy uploads: one writer per upload ---- */

enum { MAX_BUSY = 1024 };                 /* at most one per worker thread */
static char busy[MAX_BUSY][BUSY_KEY_LEN]; /* "<hash>.<holder>"; "" marks a free slot */
static pthread_mutex_t busy_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t busy_cv = PTHREAD_COND_INITIALIZER;

static int busy_slot(const char *key) {
    for (int i = 0; i < MAX_BUSY; i++)
        if (strcmp(busy[i], key) == 0) return i;
    return -1;
}

/* Takes the lock of upload key ("<hash>.<holder>"), waiting up to wait_ms for the request that
 * has it. Returns 0, or -1 when it stayed busy (or every slot is taken). */
int photos_upload_lock(const char *key, int wait_ms) {
    struct timespec until;
    int rc = 0, slot;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += wait_ms / 1000 + (until.tv_nsec + (wait_ms % 1000) * 1000000L) / 1000000000L;
    until.tv_nsec = (until.tv_nsec + (wait_ms % 1000) * 1000000L) % 1000000000L;
    pthread_mutex_lock(&busy_mu);
    while (rc == 0 && busy_slot(key) >= 0)
        if (wait_ms <= 0 || pthread_cond_timedwait(&busy_cv, &busy_mu, &until) == ETIMEDOUT)
            rc = busy_slot(key) >= 0 ? -1 : 0;
    if (rc == 0 && (slot = busy_slot("")) >= 0)
        util_strlcpy(busy[slot], key, sizeof busy[slot]);
    else
        rc = -1;
    pthread_mutex_unlock(&busy_mu);
    return rc;
}

void photos_upload_unlock(const char *key) {
    pthread_mutex_lock(&busy_mu);
    int slot = busy_slot(key);
    if (slot >= 0) busy[slot][0] = '\0';
    pthread_cond_broadcast(&busy_cv);
    pthread_mutex_unlock(&busy_mu);
}

static int locked_fail(sync_error *err) {
    return sync_fail(err, SYNC_ECONFLICT, "upload_locked",
                     "another request is writing this upload; try again shortly");
}

/* The upload lock's key of hash's upload by holder into key[BUSY_KEY_LEN]. */
void photos_upload_key(const char *hash, const char *holder, char *key) {
    snprintf(key, BUSY_KEY_LEN, "%.64s.%s", hash, holder);
}

/* ---- holders ---- */

/* p's holder key into key[HOLDER_LEN]: "u<user id>" for a user, "r<number>" for a public
 * report's upload token (programme/public_report_photos.h). Returns 0, or forbidden_role for anyone
 * else (no user: they upload nothing). */
static int holder_key(const principal *p, char *key, sync_error *err) {
    key[0] = '\0';
    if (p && principal_report_number(p))
        snprintf(key, HOLDER_LEN, "r%.20s", principal_report_number(p));
    else if (p && p->user_id > 0)
        snprintf(key, HOLDER_LEN, "u%lld", (long long)p->user_id);
    else
        return sync_fail(err, SYNC_EFORBIDDEN, "forbidden_role", "only users upload photos");
    return 0;
}

/* photos_internal.h */
int photos_held_size(store *s, const principal *p, const char *hash, int *held, int64_t *size,
                     sync_error *err) {
    *held = 0;
    if (p && principal_report_number(p)) {
        int rc = hooks_report_photo_held(s, p, hash, err);
        if (rc <= 0) return rc;
    }
    sqlite3_stmt *st = store_stmt(
        s, "SELECT size FROM photos WHERE hash = ?1 AND (?2 = 0 OR EXISTS (SELECT 1 FROM "
           "photo_holders WHERE hash = ?1 AND user_id = ?3))");
    if (!st) return store_fail(s, SQLITE_ERROR, err);
    sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, !(p && principal_report_number(p)));
    sqlite3_bind_int64(st, 3, p ? p->user_id : 0);
    int rc = sqlite3_step(st);
    *held = rc == SQLITE_ROW;
    if (*held && size) *size = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : store_fail(s, rc, err);
}

/* Inside the caller's write transaction: records that p proved possession of stored photo hash
 * (its upload checked out). *added is set when p did not hold it before. */
static int record_holder(store *s, const principal *p, const char *hash, int *added,
                         sync_error *err) {
    *added = 0;
    if (p && principal_report_number(p)) {
        int rc = hooks_report_photo_uploaded(s, p, hash, util_now_ms(), err);
        if (rc > 0) *added = 1;
        return rc < 0 ? rc : 0;
    }
    if (!p || p->user_id <= 0) return 0;
    sqlite3_stmt *st = store_stmt(s, "INSERT OR IGNORE INTO photo_holders (hash, user_id, at_ms) "
                                     "VALUES (?, ?, ?)");
    if (!st) return store_fail(s, SQLITE_ERROR, err);
    sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, p->user_id);
    sqlite3_bind_int64(st, 3, util_now_ms());
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) return store_fail(s, rc, err);
    *added = sqlite3_changes(store_db(s)) > 0;
    return 0;
}

/* ---- paths and files ---- */

/* photos_internal.h */
void photos_path_fmt(char *buf, size_t cap, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, cap, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= cap) buf[0] = '\0';
}

/* The bytes received so far of hash's upload by holder. */
void photos_part_path(const photos_env *env, const char *hash, const char *holder, char *buf,
                      size_t cap) {
    photos_path_fmt(buf, cap, "%s/%s.%s.part", env->uploads_dir, hash, holder);
}

int photos_hash_check(const char *hash, sync_error *err) {
    if (hash && util_hash_hex_valid(hash)) return 0;
    return sync_fail(err, SYNC_EINVALID, "invalid_argument",
                     "a photo's address is 64 lowercase hex digits of its BLAKE2b-256");
}

/* *found = 1 when sql (one ? for hash) yields a row; *value its first column. */
static int query_hash(store *s, const char *sql, const char *hash, int *found, int64_t *value,
                      sync_error *err) {
    sqlite3_stmt *st = store_stmt(s, sql);
    if (!st) return store_fail(s, SQLITE_ERROR, err);
    sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    *found = rc == SQLITE_ROW;
    if (*found && value) *value = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : store_fail(s, rc, err);
}

static int photo_size(store *s, const char *hash, int *found, int64_t *size, sync_error *err) {
    return query_hash(s, "SELECT size FROM photos WHERE hash = ?", hash, found, size, err);
}

/* The length of hash's upload by holder: *found, *len. */
int photos_upload_length(store *s, const char *hash, const char *holder, int *found, int64_t *len,
                         sync_error *err) {
    sqlite3_stmt *st = store_stmt(s, "SELECT length FROM uploads WHERE hash = ? AND holder = ?");
    if (!st) return store_fail(s, SQLITE_ERROR, err);
    sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, holder, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    *found = rc == SQLITE_ROW;
    if (*found && len) *len = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : store_fail(s, rc, err);
}

/* Runs sql with ?1 = hash, ?2 = holder and ?3 = v (when it has a ?3): in a write transaction of
 * its own when own, else inside the caller's. */
static int run_hash(store *s, const char *sql, const char *hash, const char *holder, int64_t v,
                    int own, sync_error *err) {
    int rc = own ? store_begin(s, err) : 0;
    sqlite3_stmt *st = rc == 0 ? store_stmt(s, sql) : NULL;
    if (rc == 0 && !st) rc = store_fail(s, SQLITE_ERROR, err);
    if (rc == 0) {
        sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, holder, -1, SQLITE_STATIC);
        if (sqlite3_bind_parameter_count(st) > 2) sqlite3_bind_int64(st, 3, v);
        int step = sqlite3_step(st);
        sqlite3_reset(st);
        if (step != SQLITE_DONE) rc = store_fail(s, step, err);
    }
    if (own && rc < 0) store_rollback(s);
    return own && rc == 0 ? store_commit(s, err) : rc;
}

/* ---- uploads ---- */

static int too_large(const photos_env *env, int64_t length, sync_error *err) {
    return sync_fail(err, SYNC_ETOOBIG, "photo_too_large",
                     "the photo is %lld bytes; the limit is %lld", (long long)length,
                     (long long)env->max_bytes);
}

/* The age after which a partial public upload goes: its own, else the staff's. */
int64_t photos_public_max_age(const photos_env *env, int64_t max_age_ms) {
    return env->report_expiry_ms > 0 ? env->report_expiry_ms : max_age_ms;
}

/* Inside the caller's write transaction: refuses a public upload of length bytes of hash by
 * holder (report number's) from addr when the public uploads addr holds unfinished and not stale
 * (this one's own left out) would pass env's quota of bytes or of reports. Codes:
 * upload_reports_exceeded, upload_quota_exceeded (429). */
static int public_quota_check(store *s, const photos_env *env, const char *number, const char *addr,
                              const char *hash, const char *holder, int64_t length, int64_t now_ms,
                              sync_error *err) {
    sqlite3_stmt *st = store_stmt(
        s, "SELECT coalesce(sum(length), 0), count(DISTINCT report_number), "
           "coalesce(max(report_number = ?3), 0) FROM uploads WHERE client_addr = ?1 AND "
           "report_number IS NOT NULL AND NOT (hash = ?2 AND holder = ?4) "
           "AND NOT " PUBLIC_UPLOAD_STALE);
    if (!st) return store_fail(s, SQLITE_ERROR, err);
    sqlite3_bind_text(st, 1, addr, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, hash, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, number, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, holder, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 8,
                       env->report_expiry_ms > 0 ? now_ms - env->report_expiry_ms : INT64_MIN);
    sqlite3_bind_int64(st, 9, now_ms);
    int step = sqlite3_step(st);
    int64_t held = sqlite3_column_int64(st, 0);
    int reports = sqlite3_column_int(st, 1), listed = sqlite3_column_int(st, 2);
    sqlite3_reset(st);
    if (step != SQLITE_ROW) return store_fail(s, step, err);
    long long minutes = (long long)((env->report_expiry_ms + 59999) / 60000);
    if (env->report_max_reports > 0 && !listed && reports >= env->report_max_reports)
        return sync_fail(err, SYNC_ELOCKED, "upload_reports_exceeded",
                         "unfinished uploads of %d reports come from your address already, the "
                         "most it may hold: finish them, or wait until they expire (%lld minutes "
                         "untouched, or when their report's upload token does)",
                         reports, minutes);
    if (env->report_quota_bytes > 0 && length > env->report_quota_bytes - held)
        return sync_fail(err, SYNC_ELOCKED, "upload_quota_exceeded",
                         "unfinished uploads from your address hold %lld bytes; %lld more would "
                         "pass its limit of %lld: finish them, or wait until they expire (%lld "
                         "minutes untouched, or when their report's upload token does)",
                         (long long)held, (long long)length, (long long)env->report_quota_bytes,
                         minutes);
    return 0;
}

int photos_upload_create(store *s, const photos_env *env, const principal *p,
                         const char *client_addr, const char *hash, int64_t length,
                         const char *metadata, int *stored, sync_error *err) {
    char path[PATH_MAX], holder[HOLDER_LEN], key[BUSY_KEY_LEN];
    int found = 0, made = 0, fd = -1, rc;
    int64_t have = 0, now = util_now_ms();
    struct stat st;
    /* a reporter's creation makes the upload the public's, of its report and address */
    const char *number = p ? principal_report_number(p) : NULL;
    *stored = 0;
    if (photos_hash_check(hash, err) < 0) return err->rc;
    if (length <= 0)
        return sync_fail(err, SYNC_EINVALID, "invalid_argument", "Upload-Length must be positive");
    if (length > env->max_bytes) return too_large(env, length, err);
    if (metadata && strlen(metadata) > PHOTOS_METADATA_MAX)
        return sync_fail(err, SYNC_EINVALID, "invalid_argument",
                         "Upload-Metadata may hold at most %d bytes", PHOTOS_METADATA_MAX);
    if ((rc = holder_key(p, holder, err)) < 0) return rc;
    photos_upload_key(hash, holder, key);
    if (photos_upload_lock(key, LOCK_WAIT_MS) < 0) return locked_fail(err);
    photos_part_path(env, hash, holder, path, sizeof path);
    if ((rc = photos_held_size(s, p, hash, stored, NULL, err)) < 0 || *stored) goto done;
    if ((rc = photos_upload_length(s, hash, holder, &found, &have, err)) < 0) goto done;
    int64_t received = stat(path, &st) == 0 ? st.st_size : 0;
    if (found && have != length && received > 0) {
        rc = sync_fail(err, SYNC_ECONFLICT, "upload_length_conflict",
                       "your upload of this photo with Upload-Length %lld has %lld bytes already",
                       (long long)have, (long long)received);
        goto done;
    }
    /* The quota is checked and the upload recorded in one transaction: two creations from one
     * address at once cannot both fit under it. */
    if ((rc = store_begin(s, err)) < 0) goto done;
    if (number && (rc = public_quota_check(s, env, number, client_addr ? client_addr : "", hash,
                                           holder, length, now, err)) < 0)
        goto rollback;
    if (photo_store_make_dir(env->uploads_dir) < 0) {
        rc = photo_store_io_fail(err, "the uploads folder");
        goto rollback;
    }
    fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | (found ? 0 : O_TRUNC), 0640);
    made = fd >= 0 && !found;
    if (fd < 0 || close(fd) < 0) {
        rc = photo_store_io_fail(err, "a new upload");
        goto rollback;
    }
    sqlite3_stmt *ins = store_stmt(
        s, "INSERT INTO uploads (hash, holder, length, created_by, created_at_ms, updated_at_ms, "
           "report_number, client_addr, metadata) VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6, ?7, ?8) "
           "ON CONFLICT (hash, holder) DO UPDATE SET length = ?3, updated_at_ms = ?5, "
           "report_number = ?6, client_addr = ?7, metadata = ?8");
    rc = ins ? 0 : store_fail(s, SQLITE_ERROR, err);
    if (ins) {
        sqlite3_bind_text(ins, 1, hash, -1, SQLITE_STATIC);
        sqlite3_bind_text(ins, 2, holder, -1, SQLITE_STATIC);
        sqlite3_bind_int64(ins, 3, length);
        if (p && p->user_id) sqlite3_bind_int64(ins, 4, p->user_id);
        sqlite3_bind_int64(ins, 5, now);
        if (number) {
            sqlite3_bind_text(ins, 6, number, -1, SQLITE_STATIC);
            sqlite3_bind_text(ins, 7, client_addr ? client_addr : "", -1, SQLITE_STATIC);
        }
        if (metadata) sqlite3_bind_text(ins, 8, metadata, -1, SQLITE_STATIC);
        int step = sqlite3_step(ins);
        sqlite3_reset(ins);
        if (step != SQLITE_DONE) rc = store_fail(s, step, err);
    }
    if (rc == 0) rc = store_commit(s, err);
rollback:
    if (rc < 0) {
        store_rollback(s);
        if (made) unlink(path);
    }
done:
    photos_upload_unlock(key);
    return rc;
}

int photos_upload_describe(store *s, const photos_env *env, const principal *p, const char *hash,
                           char *metadata, size_t cap, int64_t *expires_ms, sync_error *err) {
    char holder[HOLDER_LEN];
    int rc;
    metadata[0] = '\0';
    *expires_ms = 0;
    if (photos_hash_check(hash, err) < 0) return err->rc;
    if ((rc = holder_key(p, holder, err)) < 0) return rc;
    sqlite3_stmt *st = store_stmt(
        s,
        "SELECT coalesce(metadata, ''), updated_at_ms, report_number IS NOT NULL, "
        "coalesce((SELECT t.expires_at_ms FROM public_report_tokens t "
        "WHERE t.number = uploads.report_number), 0) FROM uploads WHERE hash = ? AND holder = ?");
    if (!st) return store_fail(s, SQLITE_ERROR, err);
    sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, holder, -1, SQLITE_STATIC);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        util_strlcpy(metadata, (const char *)sqlite3_column_text(st, 0), cap);
        int64_t touched = sqlite3_column_int64(st, 1), token_expires = sqlite3_column_int64(st, 3);
        int64_t age = sqlite3_column_int(st, 2) ? photos_public_max_age(env, env->staff_expiry_ms)
                                                : env->staff_expiry_ms;
        *expires_ms = age > 0 ? touched + age : 0;
        if (sqlite3_column_int(st, 2) && (*expires_ms == 0 || token_expires < *expires_ms))
            *expires_ms = token_expires;
    }
    sqlite3_reset(st);
    return step == SQLITE_ROW || step == SQLITE_DONE ? 0 : store_fail(s, step, err);
}

int photos_upload_delete(store *s, const photos_env *env, const principal *p, const char *holder,
                         const char *hash, sync_error *err) {
    char own[HOLDER_LEN], key[BUSY_KEY_LEN], path[PATH_MAX];
    int found = 0, held = 0, rc;
    if (photos_hash_check(hash, err) < 0) return err->rc;
    if ((rc = holder_key(p, own, err)) < 0) return rc;
    if (holder && strcmp(holder, own) != 0 && p->role != OUTFALL__V1__ROLE__ROLE_ADMIN) {
        sync_fail(err, SYNC_EFORBIDDEN, "forbidden_role", "only an admin deletes another's upload");
        audit_record(s, p, "photo.upload.delete", hash, err->code, holder);
        return err->rc;
    }
    if (holder && (strlen(holder) < 2 || strlen(holder) >= HOLDER_LEN ||
                   (holder[0] != 'u' && holder[0] != 'r') ||
                   strspn(holder + 1, "0123456789ABCDEFGHJKMNPQRSTVWXYZ") != strlen(holder + 1)))
        return sync_fail(err, SYNC_EINVALID, "invalid_argument",
                         "holder must be u<user id> or r<report number>");
    if (!holder) holder = own;
    photos_upload_key(hash, holder, key);
    if (photos_upload_lock(key, LOCK_WAIT_MS) < 0) return locked_fail(err);
    if ((rc = photos_upload_length(s, hash, holder, &found, NULL, err)) < 0) goto done;
    if (found) {
        rc = run_hash(s, "DELETE FROM uploads WHERE hash = ?1 AND holder = ?2", hash, holder, 0, 1,
                      err);
        photos_part_path(env, hash, holder, path, sizeof path);
        if (rc == 0) unlink(path);
        if (rc == 0) audit_record(s, p, "photo.upload.delete", hash, "ok", holder);
        goto done;
    }
    if (holder == own && (rc = photos_held_size(s, p, hash, &held, NULL, err)) < 0) goto done;
    rc = held ? sync_fail(err, SYNC_ECONFLICT, "photo_stored",
                          "photo %s is stored, and stored photos are never deleted", hash)
              : sync_fail(err, SYNC_ENOTFOUND, "not_found", "no unfinished upload of photo %s",
                          hash);
    if (held) audit_record(s, p, "photo.upload.delete", hash, err->code, err->message);
done:
    photos_upload_unlock(key);
    return rc;
}

/* Takes p's tus upload of hash for this request: its lock, its length, its part file (created
 * when missing) open at its end in *out. When p holds the stored photo, *held is set, *length is
 * its size and nothing is taken. Another's upload of the same photo is not p's: p has none until
 * it creates one. Codes: invalid_argument, forbidden_role, upload_locked, not_found. */
static int tus_take(store *s, const photos_env *env, const principal *p, const char *hash,
                    photos_upload **out, int64_t *length, int *held, sync_error *err) {
    char holder[HOLDER_LEN], key[BUSY_KEY_LEN];
    int found = 0, rc;
    struct stat st;
    *out = NULL;
    *held = 0;
    if (photos_hash_check(hash, err) < 0) return err->rc;
    if ((rc = holder_key(p, holder, err)) < 0) return rc;
    photos_upload_key(hash, holder, key);
    if (photos_upload_lock(key, LOCK_WAIT_MS) < 0) return locked_fail(err);
    if ((rc = photos_held_size(s, p, hash, held, length, err)) < 0 ||
        (!*held && (rc = photos_upload_length(s, hash, holder, &found, length, err)) < 0))
        goto release;
    if (*held) { /* a part left by an upload a PUT overtook goes */
        char path[PATH_MAX];
        photos_part_path(env, hash, holder, path, sizeof path);
        unlink(path);
        goto release;
    }
    photos_upload *u = found ? calloc(1, sizeof *u) : NULL;
    if (!u) {
        rc = found ? sync_fail(err, SYNC_EINTERNAL, "out_of_memory", "out of memory")
                   : sync_fail(err, SYNC_ENOTFOUND, "not_found",
                               "no upload of photo %s of yours: create it first (POST /v1/photos)",
                               hash);
        goto release;
    }
    util_strlcpy(u->hash, hash, sizeof u->hash);
    util_strlcpy(u->holder, holder, sizeof u->holder);
    util_strlcpy(u->key, key, sizeof u->key);
    photos_part_path(env, hash, holder, u->path, sizeof u->path);
    u->tus = u->locked = 1;
    u->length = *length;
    u->max_bytes = env->max_bytes;
    u->fd = open(u->path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
    if (u->fd < 0 || fstat(u->fd, &st) < 0) {
        rc = photo_store_io_fail(err, "an upload's part file");
        if (u->fd >= 0) close(u->fd);
        free(u);
        goto release;
    }
    u->start = u->offset = st.st_size;
    *out = u;
    return 0;
release:
    photos_upload_unlock(key);
    return rc;
}

int photos_upload_state(store *s, const photos_env *env, const principal *p, const char *hash,
                        int64_t *offset, int64_t *length, sync_error *err) {
    photos_upload *u = NULL;
    int held = 0, stored = 0, rc = tus_take(s, env, p, hash, &u, length, &held, err);
    *offset = held ? *length : u ? u->offset : 0;
    if (rc < 0 || !u) return rc;
    if (u->offset < u->length) {
        photos_upload_abort(u);
        return 0;
    }
    /* Whole but not stored (a crash, a failed commit): store it now, as p's. */
    rc = photos_upload_finish(s, env, u, p, &stored, err);
    if (rc < 0 && err->rc == SYNC_EINVALID) { /* its bytes were bad: it is gone */
        char why[sizeof err->code];
        util_strlcpy(why, err->code, sizeof why);
        return sync_fail(err, SYNC_ENOTFOUND, "not_found",
                         "the upload of photo %s was discarded: %s", hash, why);
    }
    return rc;
}

int photos_upload_open(store *s, const photos_env *env, const principal *p, const char *hash,
                       int64_t offset, photos_upload **out, int64_t *length, sync_error *err) {
    int held = 0, rc = tus_take(s, env, p, hash, out, length, &held, err);
    if (rc < 0 || !*out || (*out)->offset == offset) return rc;
    rc = sync_fail(err, SYNC_ECONFLICT, "offset_mismatch",
                   "Upload-Offset is %lld but the upload has %lld bytes", (long long)offset,
                   (long long)(*out)->offset);
    photos_upload_abort(*out);
    *out = NULL;
    return rc;
}

int photos_put_open(store *s, const photos_env *env, const principal *p, const char *hash,
                    int64_t length, photos_upload **out, int64_t *size, sync_error *err) {
    char holder[HOLDER_LEN];
    int held = 0, rc;
    *out = NULL;
    if (photos_hash_check(hash, err) < 0) return err->rc;
    if ((rc = holder_key(p, holder, err)) < 0) return rc;
    if ((rc = photos_held_size(s, p, hash, &held, size, err)) < 0 || held) return rc;
    if (length > env->max_bytes) return too_large(env, length, err);
    if (photo_store_make_dir(env->uploads_dir) < 0)
        return photo_store_io_fail(err, "the uploads folder");
    photos_upload *u = calloc(1, sizeof *u);
    if (!u) return sync_fail(err, SYNC_EINTERNAL, "out_of_memory", "out of memory");
    util_strlcpy(u->hash, hash, sizeof u->hash);
    util_strlcpy(u->holder, holder, sizeof u->holder);
    photos_path_fmt(u->path, sizeof u->path, "%s/%s.put-XXXXXX", env->uploads_dir, hash);
    u->fd = mkostemp(u->path, O_CLOEXEC);
    if (u->fd < 0) {
        rc = photo_store_io_fail(err, "a new upload");
        free(u);
        return rc;
    }
    u->length = length;
    u->max_bytes = env->max_bytes;
    *out = u;
    return 0;
}

int photos_upload_write(photos_upload *u, const void *buf, size_t n, sync_error *err) {
    if (u->length >= 0 && (int64_t)n > u->length - u->offset)
        return sync_fail(err, SYNC_EINVALID, "beyond_upload_length",
                         "the body goes past the upload's length of %lld bytes",
                         (long long)u->length);
    if ((int64_t)n > u->max_bytes - u->offset)
        return sync_fail(err, SYNC_ETOOBIG, "photo_too_large",
                         "the photo is over the limit of "
                         "%lld bytes",
                         (long long)u->max_bytes);
    const uint8_t *p = buf;
    while (n > 0) {
        ssize_t w = pwrite(u->fd, p, n, u->offset);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return photo_store_io_fail(err, "an upload");
        p += w;
        n -= (size_t)w;
        u->offset += w;
    }
    return 0;
}

int64_t photos_upload_offset(const photos_upload *u) {
    return u->offset;
}

int photos_upload_rewind(photos_upload *u, sync_error *err) {
    if (ftruncate(u->fd, u->start) < 0) return photo_store_io_fail(err, "an upload");
    u->offset = u->start;
    return 0;
}

/* Checks the whole upload u: its BLAKE2b-256 against its hash, its type, its end marker; reads
 * its facts into *f. Returns 0 or a negative code (the upload is bad, or reading failed). */
static int verify(photos_upload *u, exif_facts *f, sync_error *err) {
    static const uint8_t empty[1];
    char got[HASH_HEX_LEN + 1];
    size_t len = (size_t)u->offset;
    uint8_t *data = len ? mmap(NULL, len, PROT_READ, MAP_PRIVATE, u->fd, 0) : NULL;
    if (len && data == MAP_FAILED) return photo_store_io_fail(err, "an upload");
    util_blake2b_hex(data ? data : empty, len, got);
    int rc = 0;
    if (strcmp(got, u->hash) != 0) {
        rc = sync_fail(err, SYNC_EINVALID, "digest_mismatch",
                       "the %zu bytes received hash to %.16s..., not to the address's %.16s...; "
                       "nothing was kept",
                       len, got, u->hash);
    } else {
        int ex = exif_read(data ? data : empty, len, f);
        if (ex == EXIF_NOT_IMAGE)
            rc = sync_fail(err, SYNC_EINVALID, "unsupported_media_type",
                           "the file is not a JPEG, PNG or HEIC image");
        else if (ex == EXIF_TRUNCATED)
            rc = sync_fail(err, SYNC_EINVALID, "truncated_image",
                           "the %s ends before its end marker: the file is cut off", f->media_type);
    }
    if (data) munmap(data, len);
    return rc;
}

/* Binds a text column, NULL when empty. */
static void bind_text_or_null(sqlite3_stmt *st, int col, const char *text) {
    if (text && text[0]) sqlite3_bind_text(st, col, text, -1, SQLITE_STATIC);
}

static int insert_photo(store *s, const photos_upload *u, const exif_facts *f, const principal *p,
                        sync_error *err) {
    sqlite3_stmt *st = store_stmt(
        s, "INSERT INTO photos (hash, size, media_type, width, height, gps_lat, gps_lon, gps_alt, "
           "taken_at_ms, taken_at_source, make, model, uploaded_by, stored_at_ms) "
           "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    if (!st) return store_fail(s, SQLITE_ERROR, err);
    sqlite3_bind_text(st, 1, u->hash, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, u->offset);
    sqlite3_bind_text(st, 3, f->media_type, -1, SQLITE_STATIC);
    if (f->width > 0 && f->height > 0) {
        sqlite3_bind_int(st, 4, f->width);
        sqlite3_bind_int(st, 5, f->height);
    }
    if (f->has_gps) {
        sqlite3_bind_double(st, 6, f->lat);
        sqlite3_bind_double(st, 7, f->lon);
    }
    if (f->has_alt) sqlite3_bind_double(st, 8, f->alt);
    if (f->has_time) {
        sqlite3_bind_int64(st, 9, f->taken_at_ms);
        sqlite3_bind_text(st, 10, f->time_source, -1, SQLITE_STATIC);
    }
    bind_text_or_null(st, 11, f->make);
    bind_text_or_null(st, 12, f->model);
    if (p && p->user_id) sqlite3_bind_int64(st, 13, p->user_id);
    sqlite3_bind_int64(st, 14, util_now_ms());
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : store_fail(s, rc, err);
}

/* Makes verified upload u the photo. Its bytes go to the store first (a bucket gets them before
 * any transaction: no write lock is held across the network), unless the photo is recorded
 * already; then in one transaction a local file is renamed from uploads/ straight to its hash in
 * photos/ab/cd/ (the folder synced), its row is written, p is recorded as a holder, p's upload
 * row goes and the observations naming it get their flags. A crash leaves the file either in
 * uploads/ (resumed or swept there) or whole at its hash, never under another name in photos/; an
 * object in a bucket without its row is invisible. A photo stored before wins: u's copy is
 * dropped and p only recorded as a holder (*had set). On failure u's file is back where it was. */
static int store_photo(store *s, const photos_env *env, photos_upload *u, const exif_facts *f,
                       const principal *p, int *had, sync_error *err) {
    photo_store local;
    const photo_store *ps = photos_store_of(env, &local);
    int found = 0, moved = 0, added = 0, rc;
    if (fsync(u->fd) < 0) return photo_store_io_fail(err, "an upload");
    if ((rc = photo_size(s, u->hash, &found, NULL, err)) < 0) return rc;
    if (!found && (rc = ps->ops->prepare(ps, u->hash, u->path, u->offset, err)) < 0) return rc;
    if ((rc = store_begin(s, err)) < 0) return rc;
    if ((rc = photo_size(s, u->hash, &found, NULL, err)) < 0) goto rollback;
    if (!found) {
        if ((rc = ps->ops->place(ps, u->hash, u->path, &moved, err)) < 0) goto rollback;
        if ((rc = insert_photo(s, u, f, p, err)) < 0) goto rollback;
    }
    if ((rc = record_holder(s, p, u->hash, &added, err)) < 0) goto rollback;
    /* The references of p's observations to it count now: their flags follow. */
    if ((!found || added) && (rc = entity_photo_arrived(s, env->cfg, u->hash, err)) < 0)
        goto rollback;
    /* p's tus upload of it, this one or one a PUT overtook, is over. */
    if ((rc = run_hash(s, "DELETE FROM uploads WHERE hash = ?1 AND holder = ?2", u->hash, u->holder,
                       0, 0, err)) < 0)
        goto rollback;
    if ((rc = store_commit(s, err)) < 0) goto fail;
    if (!moved) unlink(u->path); /* a copy the store has, or had before */
    *had = found;
    return 0;
rollback:
    store_rollback(s);
fail:
    if (moved) ps->ops->unplace(ps, u->hash, u->path);
    return rc;
}

int photos_upload_finish(store *s, const photos_env *env, photos_upload *u, const principal *p,
                         int *stored, sync_error *err) {
    int rc = 0, had = 0;
    *stored = PHOTOS_NOT_STORED;
    if (u->tus && fdatasync(u->fd) < 0) rc = photo_store_io_fail(err, "an upload");
    int whole = !u->tus || u->offset >= u->length;
    if (rc == 0 && u->tus && !whole) {
        rc = run_hash(s, "UPDATE uploads SET updated_at_ms = ?3 WHERE hash = ?1 AND holder = ?2",
                      u->hash, u->holder, util_now_ms(), 1, err);
    } else if (rc == 0) {
        exif_facts f;
        rc = verify(u, &f, err);
        if (rc == 0) {
            rc = store_photo(s, env, u, &f, p, &had, err); /* on failure a tus part stays */
            if (rc == 0) *stored = had ? PHOTOS_HAD_IT : PHOTOS_STORED_NOW;
        } else if (err->rc == SYNC_EINVALID) { /* bad bytes: the upload goes whole */
            sync_error ignored;
            unlink(u->path);
            if (u->tus)
                run_hash(s, "DELETE FROM uploads WHERE hash = ?1 AND holder = ?2", u->hash,
                         u->holder, 0, 1, &ignored);
        }
    }
    if (!u->tus) unlink(u->path); /* a PUT's copy is stored or of no use */
    close(u->fd);
    if (u->locked) photos_upload_unlock(u->key);
    free(u);
    return rc;
}

void photos_upload_abort(photos_upload *u) {
    if (!u) return;
    if (!u->tus) unlink(u->path);
    close(u->fd);
    if (u->locked) photos_upload_unlock(u->key);
    free(u);
}
