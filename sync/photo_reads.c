/* Asking and reading the photo store (see photos.h): which of a holder's photos the server lacks,
 * who may read a stored photo, its facts, and its file. The store and its uploads: photos.c. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/util.h"
#include "sync/hooks.h"
#include "sync/photos.h"
#include "sync/photos_internal.h"

int photos_missing(store *s, const principal *p, char *const *hashes, size_t n, const char ***out,
                   size_t *n_out, sync_error *err) {
    *out = NULL;
    *n_out = 0;
    if (n > PHOTOS_MAX_ASK)
        return sync_fail(err, SYNC_EINVALID, "invalid_argument",
                         "ask about at most %d hashes at once, not %zu", PHOTOS_MAX_ASK, n);
    for (size_t i = 0; i < n; i++)
        if (!hashes[i] || !util_hash_hex_valid(hashes[i]))
            return sync_fail(err, SYNC_EINVALID, "invalid_argument",
                             "hashes[%zu] is not 64 lowercase hex digits (BLAKE2b-256)", i);
    const char **list = calloc(n ? n : 1, sizeof *list);
    if (!list) return sync_fail(err, SYNC_EINTERNAL, "out_of_memory", "out of memory");
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        int held = 0, seen = 0;
        for (size_t j = 0; j < k && !seen; j++)
            seen = strcmp(list[j], hashes[i]) == 0;
        int rc = seen ? 0 : photos_held_size(s, p, hashes[i], &held, NULL, err);
        if (rc < 0) {
            free(list);
            return rc;
        }
        if (!seen && !held) list[k++] = hashes[i];
    }
    *out = list;
    *n_out = k;
    return 0;
}

/* 1 when p may read stored photo hash, 0 when not, or a negative code: p holds it, or may read a
 * record whose reference to it counts (its author uploaded it): an observation of a division p
 * covers (any, for those who see every division), or, for supervisors and admins, a public report
 * of such a division that uploaded it with its token. */
static int may_read(store *s, const principal *p, const char *hash, sync_error *err) {
    int held = 0, rc = photos_held_size(s, p, hash, &held, NULL, err);
    if (rc < 0 || held) return rc < 0 ? rc : 1;
    sqlite3_stmt *st =
        store_stmt(s, "SELECT DISTINCT division_code FROM "
                      "observation_photos_proven op WHERE " PHOTO_REFS_NAMING("op", "?1"));
    if (!st) return store_fail(s, SQLITE_ERROR, err);
    sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
    int ok = 0;
    rc = SQLITE_DONE;
    while (!ok && (rc = sqlite3_step(st)) == SQLITE_ROW)
        ok = principal_covers(p, (const char *)sqlite3_column_text(st, 0));
    sqlite3_reset(st);
    if (!ok && rc != SQLITE_DONE) return store_fail(s, rc, err);
    return ok ? ok
              : hooks_report_photo_visible(s, p, hash, err); /* a public report's, to supervisors */
}

static void column_text(sqlite3_stmt *st, int col, char *out, size_t cap) {
    const unsigned char *t = sqlite3_column_text(st, col);
    util_strlcpy(out, t ? (const char *)t : "", cap);
}

int photos_read_info(store *s, const principal *p, const char *hash, photos_info *out,
                     sync_error *err) {
    memset(out, 0, sizeof *out);
    if (photos_hash_check(hash, err) < 0) return err->rc;
    sqlite3_stmt *st = store_stmt(
        s, "SELECT size, media_type, width, height, gps_lat, gps_lon, gps_alt, taken_at_ms, "
           "taken_at_source, make, model, uploaded_by, stored_at_ms FROM photos WHERE hash = ?");
    if (!st) return store_fail(s, SQLITE_ERROR, err);
    sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        exif_facts *f = &out->facts;
        util_strlcpy(out->hash, hash, sizeof out->hash);
        out->size = sqlite3_column_int64(st, 0);
        column_text(st, 1, f->media_type, sizeof f->media_type);
        f->width = sqlite3_column_int(st, 2);
        f->height = sqlite3_column_int(st, 3);
        f->has_gps =
            sqlite3_column_type(st, 4) != SQLITE_NULL && sqlite3_column_type(st, 5) != SQLITE_NULL;
        f->lat = sqlite3_column_double(st, 4);
        f->lon = sqlite3_column_double(st, 5);
        f->has_alt = sqlite3_column_type(st, 6) != SQLITE_NULL;
        f->alt = sqlite3_column_double(st, 6);
        f->has_time = sqlite3_column_type(st, 7) != SQLITE_NULL;
        f->taken_at_ms = sqlite3_column_int64(st, 7);
        column_text(st, 8, f->time_source, sizeof f->time_source);
        column_text(st, 9, f->make, sizeof f->make);
        column_text(st, 10, f->model, sizeof f->model);
        out->uploaded_by = sqlite3_column_int64(st, 11);
        out->stored_at_ms = sqlite3_column_int64(st, 12);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return store_fail(s, rc, err);
    int visible = rc == SQLITE_ROW ? may_read(s, p, hash, err) : 0;
    if (visible < 0) return visible;
    if (!visible) {
        memset(out, 0, sizeof *out);
        return sync_fail(err, SYNC_ENOTFOUND, "not_found", "no photo %s", hash);
    }
    return 0;
}

const photo_store *photos_store_of(const photos_env *env, photo_store *local) {
    if (env->store) return env->store;
    photo_store_local(local, env->photos_dir);
    return local;
}

int photos_read(const photos_env *env, const char *hash, int64_t offset, int64_t length,
                photo_sink sink, void *ctx, sync_error *err) {
    photo_store local;
    const photo_store *ps = photos_store_of(env, &local);
    return ps->ops->read(ps, hash, offset, length, sink, ctx, err);
}
