/* Backups off the machine (see offsite.h): making, confirming and pruning them. */
#include "sync/offsite.h"

#include <errno.h>
#include <limits.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/util.h"
#include "sync/backup.h"
#include "sync/offsite_internal.h"
#include "sync/photo_store.h"

int offsite_store_fail(sync_error *err, const char *what, const s3_error *e) {
    return sync_fail(err, SYNC_EBUSY, "backup_store_unavailable", "%s: %s (%s)", what, e->message,
                     s3_status_name(e->status));
}

/* Adds n bytes to the BLAKE2b state ctx: an s3_sink. */
static int hash_sink(void *ctx, const void *buf, size_t n) {
    crypto_generichash_update(ctx, buf, n);
    return 0;
}

int offsite_object_digest(s3_client *c, const char *key, char hex[65], int64_t *size,
                          sync_error *err) {
    crypto_generichash_state h;
    uint8_t digest[32];
    s3_error e = {0};
    crypto_generichash_init(&h, NULL, 0, sizeof digest);
    int64_t got = 0;
    if (s3_get(c, key, 0, -1, hash_sink, &h, &got, &e) != 0) {
        if (e.status == S3_NOT_FOUND)
            return sync_fail(err, SYNC_ENOTFOUND, "not_found", "no object %s", key);
        return offsite_store_fail(err, key, &e);
    }
    crypto_generichash_final(&h, digest, sizeof digest);
    sodium_bin2hex(hex, 65, digest, sizeof digest);
    *size = got;
    return 0;
}

/* Uploads path as key, then checks the object: its size by HEAD and, when want_hex is not NULL,
 * its bytes read back against that digest. */
static int put_checked(s3_client *c, const char *key, const char *path, int64_t size,
                       const char *want_hex, sync_error *err) {
    s3_error e = {0};
    int64_t got = -1;
    char hex[65];
    if (s3_put_file(c, key, path, &e) != 0) return offsite_store_fail(err, key, &e);
    if (s3_head(c, key, &got, &e) != 0) return offsite_store_fail(err, key, &e);
    if (got != size)
        return sync_fail(err, SYNC_EINTERNAL, "backup_verify_failed",
                         "%s holds %lld bytes, %lld were sent", key, (long long)got,
                         (long long)size);
    if (!want_hex) return 0;
    int rc = offsite_object_digest(c, key, hex, &got, err);
    if (rc) return rc;
    if (strcmp(hex, want_hex) != 0 || got != size)
        return sync_fail(err, SYNC_EINTERNAL, "backup_verify_failed",
                         "%s read back as BLAKE2b-256 %s, %s was sent", key, hex, want_hex);
    return 0;
}

/* The photos the copy records, into m (m->photos malloc'd). */
static int copy_photos(sqlite3 *db, offsite_manifest *m, sync_error *err) {
    sqlite3_stmt *st = NULL;
    size_t cap = 0;
    if (sqlite3_prepare_v2(db, "SELECT hash, size FROM photos ORDER BY hash", -1, &st, NULL))
        return sync_fail(err, SYNC_EINTERNAL, "storage_error", "%s", sqlite3_errmsg(db));
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *hash = (const char *)sqlite3_column_text(st, 0);
        if (!hash || !util_hash_hex_valid(hash)) continue;
        if (m->n_photos == cap) {
            cap = cap ? 2 * cap : 64;
            offsite_photo *grown = realloc(m->photos, cap * sizeof *grown);
            if (!grown) {
                sqlite3_finalize(st);
                return sync_fail(err, SYNC_EINTERNAL, "out_of_memory", "out of memory");
            }
            m->photos = grown;
        }
        util_strlcpy(m->photos[m->n_photos].hash, hash, sizeof m->photos[0].hash);
        m->photos[m->n_photos++].size = sqlite3_column_int64(st, 1);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE
               ? 0
               : sync_fail(err, SYNC_EINTERNAL, "storage_error", "%s", sqlite3_errmsg(db));
}

/* Uploads each photo of m the bucket lacks (a HEAD of the right size: it is there, content
 * addressed), each checked against its address first. Returns 0 or a code. */
static int upload_photos(const offsite_target *t, const offsite_manifest *m, int *sent,
                         sync_error *err) {
    *sent = 0;
    for (size_t i = 0; i < m->n_photos; i++) {
        const offsite_photo *p = &m->photos[i];
        char key[128], path[PATH_MAX], hex[65];
        int64_t size = -1;
        s3_error e = {0};
        offsite_photo_key(p->hash, key, sizeof key);
        if (s3_head(t->bucket, key, &size, &e) == 0 && size == p->size) continue;
        if (e.status != S3_OK && e.status != S3_NOT_FOUND) return offsite_store_fail(err, key, &e);
        backup_photo_path(t->photos_dir, p->hash, path, sizeof path);
        int rc = backup_file_digest(path, hex, &size, err);
        if (rc) return rc;
        if (strcmp(hex, p->hash) != 0 || size != p->size)
            return sync_fail(err, SYNC_EINTERNAL, "backup_verify_failed",
                             "photo %s on disk does not match its address", p->hash);
        if ((rc = put_checked(t->bucket, key, path, size, NULL, err))) return rc;
        (*sent)++;
    }
    return 0;
}

/* Writes m as text to path. */
static int manifest_file(const char *path, const offsite_manifest *m, sync_error *err) {
    FILE *f = fopen(path, "w");
    if (!f)
        return sync_fail(err, SYNC_EINTERNAL, "storage_error", "cannot write %s: %s", path,
                         strerror(errno));
    fprintf(f, OFFSITE_MAGIC "\nname %s\ncreated_at_ms %lld\nseq %lld\nepoch %s\n", m->b.name,
            (long long)m->b.confirmed_at_ms, (long long)m->b.seq, m->b.epoch);
    fprintf(f, "schema_version %d\ndatabase %lld %s\nphotos %s %zu\n", m->b.schema_version,
            (long long)m->b.size, m->b.digest, m->local_photos ? "local" : "bucket", m->n_photos);
    for (size_t i = 0; m->local_photos && i < m->n_photos; i++)
        fprintf(f, "photo %s %lld\n", m->photos[i].hash, (long long)m->photos[i].size);
    fprintf(f, "end\n");
    int bad = ferror(f) != 0;
    bad |= fclose(f) != 0;
    return bad ? sync_fail(err, SYNC_EFULL, "storage_full", "cannot write %s", path) : 0;
}

/* A backup's name: the UTC time to the millisecond, 20261206T170000123Z. */
static void backup_name(int64_t ms, char *out, size_t cap) {
    time_t s = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&s, &tm);
    char day[32];
    strftime(day, sizeof day, "%Y%m%dT%H%M%S", &tm);
    snprintf(out, cap, "%s%03dZ", day, (int)(ms % 1000));
}

int offsite_backup(const offsite_target *t, durable_backup *out, sync_error *err) {
    offsite_manifest m = {0};
    char copy[PATH_MAX], listing[PATH_MAX], key[128];
    sqlite3 *db = NULL;
    int sent = 0;
    int64_t started = util_now_ms();
    m.local_photos = t->photos_dir != NULL;
    util_strlcpy(m.b.location, t->location, sizeof m.b.location);
    backup_name(started, m.b.name, sizeof m.b.name);
    snprintf(copy, sizeof copy, "%s/offsite-%s.db", t->tmp_dir, m.b.name);
    snprintf(listing, sizeof listing, "%s/offsite-%s.manifest", t->tmp_dir, m.b.name);
    int rc = backup_db(t->db_path, copy, err);
    if (rc) goto done;
    if (sqlite3_open_v2(copy, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        rc = sync_fail(err, SYNC_EINTERNAL, "storage_error", "cannot open %s", copy);
        goto done;
    }
    if ((rc = durable_read_copy(db, m.b.epoch, &m.b.seq, &m.b.schema_version, err))) goto done;
    if ((rc = copy_photos(db, &m, err))) goto done;
    sqlite3_close(db);
    db = NULL;
    if ((rc = backup_file_digest(copy, m.b.digest, &m.b.size, err))) goto done;
    fprintf(stderr, "backup %s to %s: database copied (%lld bytes, seq %lld), uploading\n",
            m.b.name, t->location, (long long)m.b.size, (long long)m.b.seq);
    snprintf(key, sizeof key, OFFSITE_DIR "%s/outfall.db", m.b.name);
    if ((rc = put_checked(t->bucket, key, copy, m.b.size, m.b.digest, err))) goto done;
    if (m.local_photos && (rc = upload_photos(t, &m, &sent, err))) goto done;
    m.b.confirmed_at_ms = started;
    if ((rc = manifest_file(listing, &m, err))) goto done;
    struct stat sb;
    char listing_hex[65];
    int64_t listing_size = 0;
    if (stat(listing, &sb) != 0 ||
        (rc = backup_file_digest(listing, listing_hex, &listing_size, err)))
        goto done;
    snprintf(key, sizeof key, OFFSITE_DIR "%s/MANIFEST", m.b.name);
    if ((rc = put_checked(t->bucket, key, listing, listing_size, listing_hex, err))) goto done;
    m.b.confirmed_at_ms = util_now_ms();
    m.b.photos_uploaded = sent;
    *out = m.b;
    fprintf(stderr,
            "backup %s to %s: confirmed (database %lld bytes read back and checked, %zu photos "
            "recorded, %d uploaded) in %.1f s\n",
            m.b.name, t->location, (long long)m.b.size, m.n_photos, sent,
            (double)(util_now_ms() - started) / 1000.0);
done:
    if (db) sqlite3_close(db);
    unlink(copy);
    unlink(listing);
    free(m.photos);
    if (rc)
        fprintf(stderr, "backup %s to %s failed, not confirmed: %s\n", m.b.name, t->location,
                err ? err->message : "");
    return rc;
}

/* Opens db_path as offsite_confirm and offsite_forget do: its own connection, waiting out a busy
 * writer. Returns 0 with *db, or fails err. */
static int open_record(const char *db_path, sqlite3 **db, sync_error *err) {
    if (sqlite3_open_v2(db_path, db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
        return sync_fail(err, SYNC_EINTERNAL, "storage_error", "cannot open %s", db_path);
    sqlite3_busy_timeout(*db, 30000);
    return 0;
}

int offsite_confirm(const char *db_path, const durable_backup *b, sync_error *err) {
    sqlite3 *db = NULL;
    int rc = open_record(db_path, &db, err);
    if (rc == 0) rc = durable_record_backup(db, b, err);
    sqlite3_close(db);
    return rc;
}

int offsite_forget(const char *db_path, const char *name, sync_error *err) {
    sqlite3 *db = NULL;
    int rc = open_record(db_path, &db, err);
    if (rc == 0) rc = durable_forget_backup(db, name, err);
    sqlite3_close(db);
    return rc;
}
