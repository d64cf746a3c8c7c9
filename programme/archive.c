#include "programme/archive.h"
#include "render/tar.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/util.h"
#include "sync/record.h"

enum { MANIFEST_LINE = 1024 };

static const char manifest_name[] = "MANIFEST.tsv";
static const char manifest_head[] = "path\tblake2b_256\tbytes\toutfall_id\toutfall_code\t"
                                    "observation_id\tkind\ttaken_at\tgps_lat\tgps_lon\n";

/* Every stored photo the observations of outfall ?1 name, in a stable order: only references that
 * count (their author uploaded the photo: sync/photos.h), never a hash merely named. */
static const char photos_sql[] =
    "SELECT o.id, op.hash, op.kind, p.size, p.media_type, p.gps_lat, p.gps_lon, p.taken_at_ms, "
    "p.stored_at_ms FROM observations o JOIN observation_photos_proven op "
    "ON op.observation_id = o.id "
    "JOIN photos p ON p.hash = op.hash WHERE o.outfall_id = ?1 "
    "ORDER BY o.created_at_ms, o.id, op.hash";

/* One photo of the archive; strings borrowed. */
typedef struct entry {
    const char *outfall_id, *outfall_code, *observation_id, *hash, *media_type;
    int kind;
    int64_t size, taken_ms, stored_ms;
    int has_gps;
    double lat, lon;
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
    char *file_buf; /* EXPORT_CHUNK bytes for copying a photo */
    sync_error *err;
} archive;

static const char *extension(const char *media_type) {
    if (!media_type) return "bin";
    if (strcmp(media_type, "image/jpeg") == 0) return "jpg";
    if (strcmp(media_type, "image/png") == 0) return "png";
    if (strcmp(media_type, "image/heic") == 0) return "heic";
    return "bin";
}

static const char *kind_name(int kind) {
    const ProtobufCEnumValue *v =
        protobuf_c_enum_descriptor_get_value(&outfall__v1__photo_kind__descriptor, kind);
    return v ? v->name : "PHOTO_KIND_UNSPECIFIED";
}

/* Appends value to buf[*len..cap) with tabs and line breaks as spaces. */
static void tsv_field(char *buf, size_t cap, size_t *len, const char *value, int last) {
    for (const char *c = value ? value : ""; *c && *len + 2 < cap; c++)
        buf[(*len)++] = (*c == '\t' || *c == '\n' || *c == '\r') ? ' ' : *c;
    if (*len + 1 < cap) buf[(*len)++] = last ? '\n' : '\t';
    buf[*len] = '\0';
}

/* The manifest line of e into buf[MANIFEST_LINE]; returns its length. */
static size_t manifest_line(const entry *e, char *buf) {
    char bytes[24] = "", taken[40] = "", lat[32] = "", lon[32] = "";
    snprintf(bytes, sizeof bytes, "%lld", (long long)e->size);
    if (e->taken_ms) {
        time_t t = (time_t)(e->taken_ms / 1000) + 8 * 3600;
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(taken, sizeof taken, "%Y-%m-%dT%H:%M:%S+08:00", &tm);
    }
    if (e->has_gps) {
        snprintf(lat, sizeof lat, "%.7f", e->lat);
        snprintf(lon, sizeof lon, "%.7f", e->lon);
    }
    const char *fields[] = {e->path,
                            e->hash,
                            bytes,
                            e->outfall_id,
                            e->outfall_code,
                            e->observation_id,
                            kind_name(e->kind),
                            taken,
                            lat,
                            lon};
    size_t n = sizeof fields / sizeof fields[0], len = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < n; i++)
        tsv_field(buf, MANIFEST_LINE, &len, fields[i], i + 1 == n);
    return len;
}

/* Writes the ustar header of a member path of size bytes (render/tar.h). */
static void put_header(export_out *o, const char *path, uint64_t size, int64_t mtime) {
    char h[TAR_BLOCK];
    tar_header(h, path, size, mtime);
    export_put(o, h, sizeof h);
}

/* Zeros up to the next block after a member of size bytes. */
static void put_padding(export_out *o, uint64_t size) {
    static const char zeros[TAR_BLOCK];
    export_put(o, zeros, tar_padding(size));
}

/* Copies the stored photo of e into the archive. */
static int copy_photo(archive *a, const entry *e) {
    int fd = -1;
    int rc = photos_open(a->env, e->hash, &fd, a->err);
    if (rc) return rc;
    put_header(&a->o, e->path, (uint64_t)e->size, e->stored_ms / 1000);
    int64_t left = e->size;
    while (left > 0 && !a->o.stopped) {
        size_t want = left < EXPORT_CHUNK ? (size_t)left : EXPORT_CHUNK;
        ssize_t got = read(fd, a->file_buf, want);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) {
            close(fd);
            return sync_fail(a->err, SYNC_EINTERNAL, "storage_error",
                             "photo %s is shorter than its recorded %lld bytes", e->hash,
                             (long long)e->size);
        }
        export_put(&a->o, a->file_buf, (size_t)got);
        left -= got;
    }
    close(fd);
    put_padding(&a->o, (uint64_t)e->size);
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
            .outfall_id = row->id,
            .outfall_code = code,
            .observation_id = (const char *)sqlite3_column_text(st, 0),
            .hash = (const char *)sqlite3_column_text(st, 1),
            .kind = sqlite3_column_int(st, 2),
            .size = sqlite3_column_int64(st, 3),
            .media_type = (const char *)sqlite3_column_text(st, 4),
            .has_gps = sqlite3_column_type(st, 5) != SQLITE_NULL &&
                       sqlite3_column_type(st, 6) != SQLITE_NULL,
            .lat = sqlite3_column_double(st, 5),
            .lon = sqlite3_column_double(st, 6),
            .taken_ms = sqlite3_column_int64(st, 7),
            .stored_ms = sqlite3_column_int64(st, 8),
        };
        snprintf(e.path, sizeof e.path, "photos/%s/%s/%s.%s", e.outfall_id, e.observation_id,
                 e.hash, extension(e.media_type));
        if (a->pass == PASS_PHOTOS) {
            if (!(rc = copy_photo(a, &e))) a->n++;
        } else {
            char line[MANIFEST_LINE];
            size_t len = manifest_line(&e, line);
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
                 .file_buf = malloc(EXPORT_CHUNK),
                 .err = err};
    int rc = 0, in_txn = 0;
    if (!a.o.buf || !a.file_buf) {
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
    a.manifest_len = sizeof manifest_head - 1;
    a.pass = PASS_MEASURE;
    if ((rc = export_walk(s, p, q, archive_row, &a, err))) goto done;
    put_header(&a.o, manifest_name, a.manifest_len, util_now_ms() / 1000);
    export_put(&a.o, manifest_head, sizeof manifest_head - 1);
    a.pass = PASS_MANIFEST;
    if ((rc = export_walk(s, p, q, archive_row, &a, err))) goto done;
    put_padding(&a.o, a.manifest_len);
    a.pass = PASS_PHOTOS;
    if ((rc = export_walk(s, p, q, archive_row, &a, err))) goto done;
    static const char end[2 * TAR_BLOCK];
    export_put(&a.o, end, sizeof end);
    export_flush(&a.o);
done:
    if (rc > 0 || (!rc && a.o.stopped))
        rc = sync_fail(err, SYNC_EINTERNAL, "export_aborted", "the reader stopped the export");
    if (in_txn) sqlite3_exec(store_db(s), "COMMIT", NULL, NULL, NULL);
    free(a.o.buf);
    free(a.file_buf);
    if (count) *count = a.n;
    return rc;
}
