/* Deletes the stale photo uploads and stray files under uploads/ (see photos_expire in
 * photos.h); the uploads themselves are photos.c. */
#include <dirent.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/util.h"
#include "sync/photos.h"
#include "sync/photos_internal.h"

enum { EXPIRE_BATCH = 100 };

/* Deletes files under uploads/ older than cutoff_ms that no upload row explains: a PUT's
 * temporary file, a part file whose upload row went, a part file from before uploads had holders
 * (<hash>.part). */
static void sweep_files(store *s, const photos_env *env, int64_t cutoff_ms) {
    DIR *d = opendir(env->uploads_dir);
    struct dirent *e;
    if (!d) return;
    while ((e = readdir(d)) != NULL) {
        char hash[HASH_HEX_LEN + 1], holder[HOLDER_LEN] = "", key[BUSY_KEY_LEN];
        char path[PATH_MAX + 300];
        struct stat st;
        sync_error ignored;
        int found = 1;
        size_t len = strlen(e->d_name);
        if (len < HASH_HEX_LEN + 5) continue;
        util_strlcpy(hash, e->d_name, sizeof hash);
        const char *rest = e->d_name + HASH_HEX_LEN;
        int legacy = strcmp(rest, ".part") == 0, put = strncmp(rest, ".put-", 5) == 0;
        /* .<holder>.part */
        size_t holder_len = len - HASH_HEX_LEN - 6;
        int part = !legacy && !put && rest[0] == '.' && len > HASH_HEX_LEN + 6 &&
                   strcmp(e->d_name + len - 5, ".part") == 0 && holder_len < sizeof holder;
        if (!util_hash_hex_valid(hash) || (!part && !put && !legacy)) continue;
        if (part) {
            memcpy(holder, rest + 1, holder_len);
            holder[holder_len] = '\0';
        }
        photos_path_fmt(path, sizeof path, "%s/%s", env->uploads_dir, e->d_name);
        if (stat(path, &st) < 0 || (int64_t)st.st_mtime * 1000 >= cutoff_ms) continue;
        photos_upload_key(hash, holder, key);
        if (part && photos_upload_lock(key, 0) < 0) continue;
        if (!part || (photos_upload_length(s, hash, holder, &found, NULL, &ignored) == 0 && !found))
            unlink(path);
        if (part) photos_upload_unlock(key);
    }
    closedir(d);
}

/* The uploads photos_expire deletes: the staff's untouched since before ?1, the public's stale
 * (PUBLIC_UPLOAD_STALE, ?8 and ?9). */
#define UPLOAD_STALE                                                                               \
    "((report_number IS NULL AND updated_at_ms < ?1) OR "                                          \
    "(report_number IS NOT NULL AND " PUBLIC_UPLOAD_STALE "))"

/* Binds photos_expire's cut-offs to st. */
static void bind_stale(sqlite3_stmt *st, const photos_env *env, int64_t now_ms,
                       int64_t max_age_ms) {
    sqlite3_bind_int64(st, 1, now_ms - max_age_ms);
    sqlite3_bind_int64(st, 8, now_ms - photos_public_max_age(env, max_age_ms));
    sqlite3_bind_int64(st, 9, now_ms);
}

int photos_expire(store *s, const photos_env *env, int64_t now_ms, int64_t max_age_ms, int sweep,
                  sync_error *err) {
    struct {
        char hash[HASH_HEX_LEN + 1];
        char holder[HOLDER_LEN];
    } stale[EXPIRE_BATCH];
    int n = 0, gone = 0, rc = SQLITE_DONE;
    sqlite3_stmt *st =
        store_stmt(s, "SELECT hash, holder FROM uploads WHERE " UPLOAD_STALE " LIMIT 100");
    if (!st) return store_fail(s, SQLITE_ERROR, err);
    bind_stale(st, env, now_ms, max_age_ms);
    while (n < EXPIRE_BATCH && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        util_strlcpy(stale[n].hash, (const char *)sqlite3_column_text(st, 0), sizeof stale[n].hash);
        util_strlcpy(stale[n].holder, (const char *)sqlite3_column_text(st, 1),
                     sizeof stale[n].holder);
        n++;
    }
    sqlite3_reset(st);
    if (n < EXPIRE_BATCH && rc != SQLITE_DONE) return store_fail(s, rc, err);
    for (int i = 0; i < n; i++) {
        char path[PATH_MAX], key[BUSY_KEY_LEN];
        photos_upload_key(stale[i].hash, stale[i].holder, key);
        if (photos_upload_lock(key, 0) < 0) continue; /* being written: not stale */
        rc = store_begin(s, err);
        sqlite3_stmt *del = rc == 0 ? store_stmt(s, "DELETE FROM uploads WHERE hash = ?2 AND "
                                                    "holder = ?3 AND " UPLOAD_STALE)
                                    : NULL;
        if (rc == 0 && !del) rc = store_fail(s, SQLITE_ERROR, err);
        int changed = 0;
        if (rc == 0) {
            bind_stale(del, env, now_ms, max_age_ms);
            sqlite3_bind_text(del, 2, stale[i].hash, -1, SQLITE_STATIC);
            sqlite3_bind_text(del, 3, stale[i].holder, -1, SQLITE_STATIC);
            int step = sqlite3_step(del);
            sqlite3_reset(del);
            changed = step == SQLITE_DONE && sqlite3_changes(store_db(s)) > 0;
            if (step != SQLITE_DONE) rc = store_fail(s, step, err);
        }
        if (rc == 0) rc = store_commit(s, err);
        if (rc < 0) store_rollback(s);
        if (rc == 0 && changed) {
            photos_part_path(env, stale[i].hash, stale[i].holder, path, sizeof path);
            unlink(path);
            gone++;
        }
        photos_upload_unlock(key);
        if (rc < 0) return rc;
    }
    if (sweep) sweep_files(s, env, now_ms - max_age_ms);
    return gone;
}
