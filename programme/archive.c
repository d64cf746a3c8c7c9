#include "programme/archive.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/util.h"
#include "render/photo_manifest.h"
#include "render/tar.h"
#include "sync/photos.h"
#include "sync/record.h"

/* Every stored photo the observations of outfall ?1 name, in a stable order: only references that
 * count (their author uploaded the photo: sync/photos.h), never a hash merely named. */
static const char photos_sql[] =
    "SELECT o.id, op.hash, op.kind, p.size, p.media_type, p.gps_lat, p.gps_lon, p.taken_at_ms, "
    "p.stored_at_ms FROM observations o JOIN observation_photos_proven op "
    "ON " PHOTO_REFS_OF("op.ref_key",
                        "o.rowid") " "
                                   "JOIN photos p ON p.hash = op.hash WHERE o.outfall_id = ?1 "
                                   "ORDER BY o.created_at_ms, o.id, op.hash";

/* One photo of the archive: the manifest's facts, and what copying it needs. */
typedef struct entry {
    photo_manifest_entry m;
    const char *media_type;
    int64_t stored_ms;
    char path[160];
} entry;

enum { PASS_MEASURE, PASS_MANIFEST, PASS_PHOTOS };

/* One archive being written. */
typedef struct archive {
    store *s;
    const photos_env *env;
    export_out o;
    int pass;
    uint64_t manifest_len; /* counted in PASS_MEASURE */
    long long n;
    sync_error *err;
} archive;

/* photo_sink: a photo's next bytes into the archive, counting them; stops when the archive's
 * reader did. */
typedef struct photo_copy {
    archive *a;
    int64_t copied;
} photo_copy;

static int copy_bytes(void *ctx, const void *buf, size_t n) {
    photo_copy *c = ctx;
    export_put(&c->a->o, buf, n);
    c->copied += (int64_t)n;
    return c->a->o.stopped;
}

/* Copies the stored photo of e into the archive, from the folder or the bucket. */
static int copy_photo(archive *a, const entry *e) {
    photo_copy c = {a, 0};
    tar_put_header(export_put_bytes, &a->o, e->path, (uint64_t)e->m.size, e->stored_ms / 1000);
    int rc = photos_read(a->env, e->m.hash, 0, e->m.size, copy_bytes, &c, a->err);
    if (rc) return rc;
    if (c.copied < e->m.size && !a->o.stopped)
        return sync_fail(a->err, SYNC_EINTERNAL, "storage_error",
                         "photo %s is shorter than its recorded %lld bytes", e->m.hash,
                         (long long)e->m.size);
    tar_put_padding(export_put_bytes, &a->o, (uint64_t)e->m.size);
    return 0;
}

/* Handles the photos of one outfall in the current pass. */
static int archive_row(void *ctx, const export_row *row) {
    archive *a = ctx;
    sqlite3_stmt *st = store_stmt(a->s, photos_sql);
    if (!st) return store_fail(a->s, SQLITE_ERROR, a->err);
    sqlite3_bind_text(st, 1, row->id, -1, SQLITE_STATIC);
    const char *code = json_string_value(json_object_get(row->doc, "code"));
    int rc = 0, step;
    while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW) {
        entry e = {
            .m =
                {
                    .hash = (const char *)sqlite3_column_text(st, 1),
                    .size = sqlite3_column_int64(st, 3),
                    .outfall_id = row->id,
                    .outfall_code = code,
                    .observation_id = (const char *)sqlite3_column_text(st, 0),
                    .kind = sqlite3_column_int(st, 2),
                    .taken_ms = sqlite3_column_int64(st, 7),
                    .has_gps = sqlite3_column_type(st, 5) != SQLITE_NULL &&
                               sqlite3_column_type(st, 6) != SQLITE_NULL,
                    .lat = sqlite3_column_double(st, 5),
                    .lon = sqlite3_column_double(st, 6),
                },
            .media_type = (const char *)sqlite3_column_text(st, 4),
            .stored_ms = sqlite3_column_int64(st, 8),
        };
        e.m.path = e.path;
        photo_manifest_path(e.path, sizeof e.path, e.m.outfall_id, e.m.observation_id, e.m.hash,
                            e.media_type);
        if (a->pass == PASS_PHOTOS) {
            if (!(rc = copy_photo(a, &e))) a->n++;
        } else {
            char line[PHOTO_MANIFEST_LINE];
            size_t len = photo_manifest_line(&e.m, line);
            if (a->pass == PASS_MEASURE)
                a->manifest_len += len;
            else
                export_put(&a->o, line, len);
        }
        if (!rc && a->o.stopped) rc = 1;
    }
    if (!rc && step != SQLITE_DONE) rc = store_fail(a->s, step, a->err);
    sqlite3_reset(st);
    return rc;
}

int archive_photos(store *s, const photos_env *env, const principal *p, const export_query *q,
                   export_write_fn write, void *ctx, long long *count, sync_error *err) {
    archive a = {.s = s,
                 .env = env,
                 .o = {.buf = malloc(EXPORT_CHUNK), .write = write, .ctx = ctx},
                 .err = err};
    int rc = 0, in_txn = 0;
    if (!a.o.buf) {
        rc = sync_fail(err, SYNC_EINTERNAL, "out_of_memory", "out of memory");
        goto done;
    }
    /* One read transaction: the three passes see the same photos. */
    if (sqlite3_get_autocommit(store_db(s))) {
        int brc = sqlite3_exec(store_db(s), "BEGIN", NULL, NULL, NULL);
        if (brc != SQLITE_OK) {
            rc = store_fail(s, brc, err);
            goto done;
        }
        in_txn = 1;
    }
    size_t head_len;
    const char *head = photo_manifest_head(&head_len);
    a.manifest_len = head_len;
    a.pass = PASS_MEASURE;
    if ((rc = export_walk(s, p, q, archive_row, &a, err))) goto done;
    tar_put_header(export_put_bytes, &a.o, PHOTO_MANIFEST_NAME, a.manifest_len,
                   util_now_ms() / 1000);
    export_put(&a.o, head, head_len);
    a.pass = PASS_MANIFEST;
    if ((rc = export_walk(s, p, q, archive_row, &a, err))) goto done;
    tar_put_padding(export_put_bytes, &a.o, a.manifest_len);
    a.pass = PASS_PHOTOS;
    if ((rc = export_walk(s, p, q, archive_row, &a, err))) goto done;
    tar_put_end(export_put_bytes, &a.o);
    export_flush(&a.o);
done:
    if (rc > 0 || (!rc && a.o.stopped))
        rc = sync_fail(err, SYNC_EINTERNAL, "export_aborted", "the reader stopped the export");
    if (in_txn) sqlite3_exec(store_db(s), "COMMIT", NULL, NULL, NULL);
    free(a.o.buf);
    if (count) *count = a.n;
    return rc;
}
