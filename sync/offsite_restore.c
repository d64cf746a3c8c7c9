/* Backups off the machine (see offsite.h): reading manifests, pruning, restoring. */
#include <errno.h>
#include <fcntl.h>
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
#include "sync/offsite.h"
#include "sync/offsite_internal.h"

enum { MANIFEST_MAX = 64 * 1024 * 1024, MAX_BACKUPS = 4096 };

/* ---- reading ---- */

typedef struct text_buf {
    char *data;
    size_t len, cap;
} text_buf;

/* Appends to a text_buf: an s3_sink. Stops past MANIFEST_MAX. */
static int text_sink(void *ctx, const void *buf, size_t n) {
    text_buf *t = ctx;
    if (t->len + n + 1 > MANIFEST_MAX) return 1;
    if (t->len + n + 1 > t->cap) {
        size_t cap = (t->len + n + 1) * 2;
        char *grown = realloc(t->data, cap);
        if (!grown) return 1;
        t->data = grown;
        t->cap = cap;
    }
    memcpy(t->data + t->len, buf, n);
    t->len += n;
    t->data[t->len] = '\0';
    return 0;
}

/* Parses one manifest line into m. Returns 1 at "end", 0 for another line, -1 when bad. */
static int manifest_line(const char *line, offsite_manifest *m, size_t *cap) {
    char word[80], text[80];
    long long a = 0;
    if (strcmp(line, "end") == 0) return 1;
    if (sscanf(line, "name %63s", text) == 1) return util_strlcpy(m->b.name, text, 64), 0;
    if (sscanf(line, "created_at_ms %lld", &a) == 1) return m->b.confirmed_at_ms = a, 0;
    if (sscanf(line, "seq %lld", &a) == 1) return m->b.seq = a, 0;
    if (sscanf(line, "epoch %32s", text) == 1) return util_strlcpy(m->b.epoch, text, 33), 0;
    if (sscanf(line, "schema_version %lld", &a) == 1) return m->b.schema_version = (int)a, 0;
    if (sscanf(line, "database %lld %64s", &a, text) == 2 && util_hash_hex_valid(text)) {
        m->b.size = a;
        util_strlcpy(m->b.digest, text, sizeof m->b.digest);
        return 0;
    }
    if (sscanf(line, "photos %15s %lld", word, &a) == 2) {
        m->local_photos = strcmp(word, "local") == 0;
        return 0;
    }
    if (sscanf(line, "photo %64s %lld", text, &a) == 2 && util_hash_hex_valid(text)) {
        if (m->n_photos == *cap) {
            *cap = *cap ? 2 * *cap : 64;
            offsite_photo *grown = realloc(m->photos, *cap * sizeof *grown);
            if (!grown) return -1;
            m->photos = grown;
        }
        util_strlcpy(m->photos[m->n_photos].hash, text, 65);
        m->photos[m->n_photos++].size = a;
        return 0;
    }
    return -1;
}

/* Downloads and parses db/name/MANIFEST into *m (m->photos malloc'd). */
static int manifest_get(s3_client *c, const char *name, offsite_manifest *m, sync_error *err) {
    char key[128];
    text_buf t = {0};
    s3_error e = {0};
    size_t cap = 0;
    memset(m, 0, sizeof *m);
    snprintf(key, sizeof key, OFFSITE_DIR "%s/MANIFEST", name);
    if (s3_get(c, key, 0, -1, text_sink, &t, NULL, &e) != 0) {
        free(t.data);
        if (e.status == S3_NOT_FOUND)
            return sync_fail(err, SYNC_ENOTFOUND, "not_found", "no confirmed backup %s", name);
        return offsite_store_fail(err, key, &e);
    }
    int ended = 0, bad = !t.data || strncmp(t.data, OFFSITE_MAGIC "\n", strlen(OFFSITE_MAGIC) + 1);
    char *save = NULL;
    for (char *line = bad ? NULL : strtok_r(t.data + strlen(OFFSITE_MAGIC) + 1, "\n", &save);
         line && !ended && !bad; line = strtok_r(NULL, "\n", &save)) {
        int r = manifest_line(line, m, &cap);
        ended = r == 1;
        bad = r < 0;
    }
    free(t.data);
    if (bad || !ended || strcmp(m->b.name, name) != 0 || !m->b.digest[0]) {
        free(m->photos);
        m->photos = NULL;
        return sync_fail(err, SYNC_EINTERNAL, "backup_verify_failed",
                         "the manifest of backup %s is damaged", name);
    }
    return 0;
}

typedef struct names {
    char (*name)[64];
    size_t n;
    int confirmed[MAX_BACKUPS]; /* 1: its MANIFEST is there */
} names;

/* Collects the backups' names from a listing of db/: an s3_list_fn. */
static int name_seen(void *ctx, const char *key, int64_t size) {
    (void)size;
    names *ns = ctx;
    const char *name = key + strlen(OFFSITE_DIR), *slash = strchr(name, '/');
    if (!slash || slash == name || (size_t)(slash - name) >= 64) return 0;
    size_t len = (size_t)(slash - name);
    size_t i = 0;
    while (i < ns->n && !(strncmp(ns->name[i], name, len) == 0 && ns->name[i][len] == '\0'))
        i++;
    if (i == ns->n) {
        if (ns->n == MAX_BACKUPS) return 0;
        memcpy(ns->name[i], name, len);
        ns->name[i][len] = '\0';
        ns->confirmed[i] = 0;
        ns->n++;
    }
    if (strcmp(slash + 1, "MANIFEST") == 0) ns->confirmed[i] = 1;
    return 0;
}

static int by_name(const void *a, const void *b) {
    return strcmp(a, b);
}

/* Lists the backups under db/ into *ns (sorted oldest first; ns->name malloc'd). */
static int list_backups(s3_client *c, names *ns, sync_error *err) {
    s3_error e = {0};
    memset(ns, 0, sizeof *ns);
    ns->name = calloc(MAX_BACKUPS, sizeof *ns->name);
    if (!ns->name) return sync_fail(err, SYNC_EINTERNAL, "out_of_memory", "out of memory");
    if (s3_list(c, OFFSITE_DIR, name_seen, ns, &e) != 0) return offsite_store_fail(err, "list", &e);
    /* Sort names and their marks together: names are unique, so sort an index by name. */
    char(*sorted)[64] = calloc(ns->n ? ns->n : 1, sizeof *sorted);
    if (!sorted) return sync_fail(err, SYNC_EINTERNAL, "out_of_memory", "out of memory");
    for (size_t i = 0; i < ns->n; i++)
        snprintf(sorted[i], 64, "%s", ns->name[i]);
    qsort(sorted, ns->n, sizeof *sorted, by_name);
    int marks[MAX_BACKUPS];
    for (size_t i = 0; i < ns->n; i++)
        for (size_t j = 0; j < ns->n; j++)
            if (strcmp(sorted[i], ns->name[j]) == 0) marks[i] = ns->confirmed[j];
    memcpy(ns->confirmed, marks, ns->n * sizeof *marks);
    memcpy(ns->name, sorted, ns->n * sizeof *sorted);
    free(sorted);
    return 0;
}

/* ---- pruning ---- */

/* Deletes backup name's objects, its MANIFEST first. */
static int drop_backup(s3_client *c, const char *name, sync_error *err) {
    static const char *const parts[] = {"MANIFEST", "outfall.db"};
    for (size_t i = 0; i < sizeof parts / sizeof *parts; i++) {
        char key[128];
        s3_error e = {0};
        snprintf(key, sizeof key, OFFSITE_DIR "%s/%s", name, parts[i]);
        if (s3_delete(c, key, &e) != 0 && e.status != S3_NOT_FOUND)
            return offsite_store_fail(err, key, &e);
    }
    return 0;
}

int offsite_prune(s3_client *bucket, const char *db_path, int keep, int days, sync_error *err) {
    names ns;
    int rc = list_backups(bucket, &ns, err), dropped = 0;
    char newest_day[16] = "";
    int64_t now_s = util_now_ms() / 1000;
    int kept = 0;
    /* Newest first: the newest `keep` confirmed, then the newest of each of the last `days`
     * days; unconfirmed ones older than a confirmed one were cut off. */
    int seen_confirmed = 0;
    for (size_t k = ns.n; rc == 0 && k-- > 0;) {
        const char *name = ns.name[k];
        int keep_it = 0;
        if (ns.confirmed[k]) {
            struct tm tm = {0};
            char day[16];
            snprintf(day, sizeof day, "%.8s", name);
            int young = 0;
            if (sscanf(day, "%4d%2d%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday) == 3) {
                tm.tm_year -= 1900;
                tm.tm_mon -= 1;
                young = now_s - (int64_t)timegm(&tm) < (int64_t)days * 86400;
            }
            keep_it = kept < keep || (young && strcmp(day, newest_day) != 0);
            if (keep_it) {
                kept++;
                util_strlcpy(newest_day, day, sizeof newest_day);
            }
            seen_confirmed = 1;
        } else {
            keep_it = !seen_confirmed; /* may be a backup still on its way */
        }
        if (keep_it) continue;
        if ((rc = drop_backup(bucket, name, err)) == 0) dropped++;
        if (rc == 0 && db_path) rc = offsite_forget(db_path, name, err);
    }
    free(ns.name);
    return rc ? rc : dropped;
}

/* ---- restoring ---- */

typedef struct file_sink {
    int fd;
    crypto_generichash_state h;
    int failed;
} file_sink;

static int to_file(void *ctx, const void *buf, size_t n) {
    file_sink *f = ctx;
    crypto_generichash_update(&f->h, buf, n);
    const char *p = buf;
    while (n > 0) {
        ssize_t w = write(f->fd, p, n);
        if (w <= 0) return f->failed = errno ? errno : EIO;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* mkdir -p of path's folder. */
static void make_parents(const char *path) {
    char buf[PATH_MAX];
    util_strlcpy(buf, path, sizeof buf);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        mkdir(buf, 0750);
        *p = '/';
    }
}

/* Downloads key into path (new; fsynced), checking its BLAKE2b-256 and size against want_hex and
 * want_size. Nothing is left at path when it fails. */
static int fetch_checked(s3_client *c, const char *key, const char *path, const char *want_hex,
                         int64_t want_size, sync_error *err) {
    file_sink f = {.fd = -1};
    s3_error e = {0};
    uint8_t digest[32];
    char hex[65];
    int64_t got = 0;
    make_parents(path);
    f.fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (f.fd < 0)
        return sync_fail(err, SYNC_EINTERNAL, "storage_error", "cannot write %s: %s", path,
                         strerror(errno));
    crypto_generichash_init(&f.h, NULL, 0, sizeof digest);
    int rc = s3_get(c, key, 0, -1, to_file, &f, &got, &e);
    if (rc != 0)
        rc = f.failed ? sync_fail(err, SYNC_EFULL, "storage_full", "cannot write %s: %s", path,
                                  strerror(f.failed))
             : e.status == S3_NOT_FOUND
                 ? sync_fail(err, SYNC_ENOTFOUND, "not_found", "the bucket has no %s", key)
                 : offsite_store_fail(err, key, &e);
    if (rc == 0 && fsync(f.fd) != 0)
        rc = sync_fail(err, SYNC_EFULL, "storage_full", "cannot fsync %s", path);
    close(f.fd);
    if (rc == 0) {
        crypto_generichash_final(&f.h, digest, sizeof digest);
        sodium_bin2hex(hex, sizeof hex, digest, sizeof digest);
        if (strcmp(hex, want_hex) != 0 || got != want_size)
            rc = sync_fail(err, SYNC_EINTERNAL, "backup_verify_failed",
                           "%s came back as BLAKE2b-256 %s (%lld bytes), the manifest says %s "
                           "(%lld bytes)",
                           key, hex, (long long)got, want_hex, (long long)want_size);
    }
    if (rc) unlink(path);
    return rc;
}

/* The copy's integrity and both hash chains. */
static int check_copy(sqlite3 *db, sync_error *err) {
    char msg[256];
    backup_chain chain;
    if (backup_integrity(db, msg, sizeof msg) != 0)
        return sync_fail(err, SYNC_EINTERNAL, "backup_verify_failed",
                         "the database fails PRAGMA integrity_check: %s", msg);
    int rc = backup_verify_audit(db, &chain, err);
    if (rc == 0 && chain.broken)
        return sync_fail(err, SYNC_EINTERNAL, "backup_verify_failed", "the audit chain: %s",
                         chain.what);
    if (rc == 0) rc = backup_verify_history(db, &chain, err);
    if (rc == 0 && chain.broken)
        return sync_fail(err, SYNC_EINTERNAL, "backup_verify_failed", "the history chain: %s",
                         chain.what);
    return rc;
}

/* Downloads each photo of m into photos_dir, checked against its address. */
static int fetch_photos(s3_client *c, const offsite_manifest *m, const char *photos_dir,
                        sync_error *err) {
    for (size_t i = 0; i < m->n_photos; i++) {
        char key[128], path[PATH_MAX], part[PATH_MAX + 8];
        offsite_photo_key(m->photos[i].hash, key, sizeof key);
        backup_photo_path(photos_dir, m->photos[i].hash, path, sizeof path);
        snprintf(part, sizeof part, "%s.part", path);
        int rc = fetch_checked(c, key, part, m->photos[i].hash, m->photos[i].size, err);
        if (rc) return rc;
        if (rename(part, path) != 0)
            return sync_fail(err, SYNC_EINTERNAL, "storage_error", "cannot rename %s", part);
    }
    return 0;
}

int offsite_restore(s3_client *bucket, const char *location, const char *at, const char *data_dir,
                    const char *photos_dir, durable_backup *out, sync_error *err) {
    names ns = {0};
    offsite_manifest m = {0};
    sqlite3 *db = NULL;
    char name[64] = "", key[128], part[PATH_MAX], final[PATH_MAX];
    snprintf(part, sizeof part, "%s/outfall.db.restoring", data_dir);
    snprintf(final, sizeof final, "%s/outfall.db", data_dir);
    int rc = 0;
    if (at) {
        util_strlcpy(name, at, sizeof name);
    } else if ((rc = list_backups(bucket, &ns, err)) == 0) {
        for (size_t k = ns.n; k-- > 0 && !name[0];)
            if (ns.confirmed[k]) util_strlcpy(name, ns.name[k], sizeof name);
        if (!name[0])
            rc = sync_fail(err, SYNC_ENOTFOUND, "not_found", "%s holds no confirmed backup",
                           location);
    }
    if (rc || (rc = manifest_get(bucket, name, &m, err))) goto done;
    fprintf(stderr, "restore: backup %s (seq %lld, %lld bytes, %zu photos) from %s\n", name,
            (long long)m.b.seq, (long long)m.b.size, m.n_photos, location);
    snprintf(key, sizeof key, OFFSITE_DIR "%s/outfall.db", name);
    if ((rc = fetch_checked(bucket, key, part, m.b.digest, m.b.size, err))) goto done;
    if (sqlite3_open_v2(part, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        rc = sync_fail(err, SYNC_EINTERNAL, "storage_error", "cannot open %s", part);
        goto done;
    }
    if ((rc = check_copy(db, err))) goto done;
    if (photos_dir && m.local_photos && (rc = fetch_photos(bucket, &m, photos_dir, err))) goto done;
    if (photos_dir && !m.local_photos)
        fprintf(stderr,
                "restore: backup %s was made with the photos in the photo store's bucket: "
                "start the server with that --photo-store\n",
                name);
    util_strlcpy(m.b.location, location, sizeof m.b.location);
    if ((rc = durable_new_epoch(db, NULL, err)) || (rc = durable_record_backup(db, &m.b, err)))
        goto done;
    sqlite3_close(db);
    db = NULL;
    if (rename(part, final) != 0) {
        rc = sync_fail(err, SYNC_EINTERNAL, "storage_error", "cannot rename %s", part);
        goto done;
    }
    *out = m.b;
done:
    if (db) sqlite3_close(db);
    if (rc) unlink(part);
    free(ns.name);
    free(m.photos);
    return rc;
}
