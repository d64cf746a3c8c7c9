/* Backups and chain walks (see backup.h). */
#include "sync/backup.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sync/accounts.h"
#include "common/util.h"
#include "sync/history.h"

enum { COPY_CHUNK = 64 * 1024, BUSY_TRIES = 200 };

/* ---- files ---- */

static int io_fail(sync_error *err, const char *what, const char *path) {
    if (errno == ENOSPC || errno == EDQUOT)
        return sync_fail(err, SYNC_EFULL, "storage_full", "no space left to %s %s", what, path);
    return sync_fail(err, SYNC_EINTERNAL, "io_error", "cannot %s %s: %s", what, path,
                     strerror(errno));
}

/* fsyncs the folder holding path, so a rename or a new file in it is durable. */
static int sync_parent(const char *path) {
    char dir[PATH_MAX];
    util_strlcpy(dir, path, sizeof dir);
    char *slash = strrchr(dir, '/');
    if (slash == dir)
        slash[1] = '\0';
    else if (slash)
        *slash = '\0';
    else
        util_strlcpy(dir, ".", sizeof dir);
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

/* Creates the folders above path (like mkdir -p of its dirname). Returns 0 or -1 with errno. */
static int make_parents(const char *path) {
    char buf[PATH_MAX];
    util_strlcpy(buf, path, sizeof buf);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(buf, 0750) < 0 && errno != EEXIST) return -1;
        *p = '/';
    }
    return 0;
}

void backup_photo_path(const char *photos_dir, const char *hash, char *buf, size_t cap) {
    snprintf(buf, cap, "%s/%.2s/%.2s/%s", photos_dir, hash, hash + 2, hash);
}

int backup_file_digest(const char *path, char hex[65], int64_t *size, sync_error *err) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? sync_fail(err, SYNC_ENOTFOUND, "not_found", "no file %s", path)
                               : io_fail(err, "open", path);
    uint8_t *buf = malloc(COPY_CHUNK), digest[32];
    crypto_generichash_state h;
    crypto_generichash_init(&h, NULL, 0, sizeof digest);
    int64_t total = 0;
    ssize_t n = -1;
    while (buf && (n = read(fd, buf, COPY_CHUNK)) > 0) {
        crypto_generichash_update(&h, buf, (size_t)n);
        total += n;
    }
    int rc = 0;
    if (!buf)
        rc = sync_fail(err, SYNC_EINTERNAL, "out_of_memory", "out of memory");
    else if (n < 0)
        rc = io_fail(err, "read", path);
    free(buf);
    close(fd);
    if (rc) return rc;
    crypto_generichash_final(&h, digest, sizeof digest);
    util_hex(digest, sizeof digest, hex);
    if (size) *size = total;
    return 0;
}

int backup_copy_file(const char *src, const char *dst, const char *want_hash, int64_t want_size,
                     char got_hash[65], sync_error *err) {
    char tmp[PATH_MAX + 32], hex[65];
    uint8_t *buf = NULL, digest[32];
    int in = -1, out = -1, rc = 0;
    int64_t total = 0;
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", dst, (long)getpid());
    in = open(src, O_RDONLY | O_CLOEXEC);
    if (in < 0) {
        rc = errno == ENOENT ? sync_fail(err, SYNC_ENOTFOUND, "not_found", "no file %s", src)
                             : io_fail(err, "open", src);
        goto out;
    }
    if (make_parents(dst) < 0) {
        rc = io_fail(err, "create the folders of", dst);
        goto out;
    }
    out = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
    if (out < 0) {
        rc = io_fail(err, "create", tmp);
        goto out;
    }
    buf = malloc(COPY_CHUNK);
    if (!buf) {
        rc = sync_fail(err, SYNC_EINTERNAL, "out_of_memory", "out of memory");
        goto out;
    }
    crypto_generichash_state h;
    crypto_generichash_init(&h, NULL, 0, sizeof digest);
    for (;;) {
        ssize_t n = read(in, buf, COPY_CHUNK);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            rc = io_fail(err, "read", src);
            goto out;
        }
        if (n == 0) break;
        crypto_generichash_update(&h, buf, (size_t)n);
        total += n;
        for (ssize_t done = 0; done < n;) {
            ssize_t w = write(out, buf + done, (size_t)(n - done));
            if (w < 0 && errno == EINTR) continue;
            if (w < 0) {
                rc = io_fail(err, "write", tmp);
                goto out;
            }
            done += w;
        }
    }
    crypto_generichash_final(&h, digest, sizeof digest);
    util_hex(digest, sizeof digest, hex);
    if (got_hash) memcpy(got_hash, hex, sizeof hex);
    if (want_hash && strcmp(want_hash, hex) != 0) {
        rc = sync_fail(err, SYNC_EINTERNAL, "digest_mismatch",
                       "%s hashes to %.16s..., not to its name: the file is damaged", src, hex);
        goto out;
    }
    if (want_size >= 0 && total != want_size) {
        rc = sync_fail(err, SYNC_EINTERNAL, "size_mismatch", "%s: %lld bytes, not %lld", src,
                       (long long)total, (long long)want_size);
        goto out;
    }
    if (fsync(out) < 0) {
        rc = io_fail(err, "fsync", tmp);
        goto out;
    }
    if (close(out) < 0) {
        out = -1;
        rc = io_fail(err, "close", tmp);
        goto out;
    }
    out = -1;
    if (rename(tmp, dst) < 0) {
        rc = io_fail(err, "rename into place", dst);
        goto out;
    }
    if (sync_parent(dst) < 0) rc = io_fail(err, "fsync the folder of", dst);
out:
    if (out >= 0) close(out);
    if (in >= 0) close(in);
    if (rc) unlink(tmp);
    free(buf);
    return rc;
}

/* ---- the database ---- */

int backup_integrity(sqlite3 *db, char *msg, size_t cap) {
    sqlite3_stmt *st = NULL;
    int ok = 0;
    msg[0] = '\0';
    if (sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL) != SQLITE_OK) {
        snprintf(msg, cap, "%s", sqlite3_errmsg(db));
        return -1;
    }
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        const char *first = (const char *)sqlite3_column_text(st, 0);
        ok = first && strcmp(first, "ok") == 0;
        snprintf(msg, cap, "%s", first ? first : "(null)");
    } else {
        snprintf(msg, cap, "%s", sqlite3_errmsg(db));
    }
    sqlite3_finalize(st);
    return ok ? 0 : -1;
}

static void sleep_ms(int ms) {
    struct timespec ts = {0, (long)ms * 1000000L};
    nanosleep(&ts, NULL);
}

static int db_fail(sync_error *err, sqlite3 *db, int rc, const char *what) {
    if ((rc & 0xff) == SQLITE_FULL)
        return sync_fail(err, SYNC_EFULL, "storage_full", "%s: the disk is full", what);
    return sync_fail(err, SYNC_EINTERNAL, "storage_error", "%s: %s", what,
                     db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
}

int backup_db(const char *src_path, const char *dst_path, sync_error *err) {
    sqlite3 *src = NULL, *dst = NULL;
    sqlite3_backup *b = NULL;
    int rc = 0, step = SQLITE_OK, made = 0;
    char msg[256];
    struct stat sb;
    if (stat(src_path, &sb) != 0)
        return sync_fail(err, SYNC_ENOTFOUND, "not_found", "no database at %s", src_path);
    if (lstat(dst_path, &sb) == 0)
        return sync_fail(err, SYNC_ECONFLICT, "exists", "%s exists already", dst_path);
    int orc = sqlite3_open_v2(src_path, &src, SQLITE_OPEN_READONLY, NULL);
    if (orc != SQLITE_OK) {
        rc = db_fail(err, src, orc, "open the database");
        goto out;
    }
    sqlite3_busy_timeout(src, 10000);
    orc = sqlite3_open_v2(dst_path, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    made = 1;
    if (orc != SQLITE_OK) {
        rc = db_fail(err, dst, orc, "create the copy");
        goto out;
    }
    b = sqlite3_backup_init(dst, "main", src, "main");
    if (!b) {
        rc = db_fail(err, dst, sqlite3_errcode(dst), "start the backup");
        goto out;
    }
    /* One step for every page: the copy is the snapshot of one read transaction. A busy source
     * (a checkpoint holding it) is retried from where it stood. */
    for (int tries = 0; tries < BUSY_TRIES; tries++) {
        step = sqlite3_backup_step(b, -1);
        if (step != SQLITE_BUSY && step != SQLITE_LOCKED) break;
        sleep_ms(50);
    }
    int fin = sqlite3_backup_finish(b);
    b = NULL;
    if (step != SQLITE_DONE || fin != SQLITE_OK) {
        rc = db_fail(err, dst, step != SQLITE_DONE ? step : fin, "copy the database");
        goto out;
    }
    /* The copy becomes one self-contained file; uploads in progress stay behind. */
    char *emsg = NULL;
    orc = sqlite3_exec(dst,
                       "PRAGMA journal_mode = DELETE;"
                       "DELETE FROM uploads WHERE EXISTS (SELECT 1 FROM sqlite_schema "
                       "WHERE type = 'table' AND name = 'uploads');",
                       NULL, NULL, &emsg);
    if (orc != SQLITE_OK && emsg && strstr(emsg, "no such table")) orc = SQLITE_OK;
    if (orc != SQLITE_OK) {
        rc = sync_fail(err, (orc & 0xff) == SQLITE_FULL ? SYNC_EFULL : SYNC_EINTERNAL,
                       (orc & 0xff) == SQLITE_FULL ? "storage_full" : "storage_error",
                       "prepare the copy: %s", emsg ? emsg : sqlite3_errstr(orc));
        sqlite3_free(emsg);
        goto out;
    }
    sqlite3_free(emsg);
    if (backup_integrity(dst, msg, sizeof msg) != 0) {
        rc = sync_fail(err, SYNC_EINTERNAL, "integrity_failed",
                       "the copy fails PRAGMA integrity_check: %s", msg);
        goto out;
    }
out:
    if (b) sqlite3_backup_finish(b);
    if (dst && sqlite3_close(dst) != SQLITE_OK && !rc)
        rc = sync_fail(err, SYNC_EINTERNAL, "storage_error", "cannot close the copy");
    sqlite3_close(src);
    if (!rc) {
        int fd = open(dst_path, O_RDONLY | O_CLOEXEC);
        if (fd < 0 || fsync(fd) < 0 || sync_parent(dst_path) < 0)
            rc = io_fail(err, "fsync", dst_path);
        if (fd >= 0) close(fd);
    }
    if (rc && made) {
        unlink(dst_path);
        char side[PATH_MAX + 16];
        snprintf(side, sizeof side, "%s-journal", dst_path);
        unlink(side);
    }
    return rc;
}

/* ---- the chains ---- */

static void chain_begin(backup_chain *out) {
    memset(out, 0, sizeof *out);
}

static void chain_break(backup_chain *out, int64_t at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void chain_break(backup_chain *out, int64_t at, const char *fmt, ...) {
    out->broken = 1;
    out->at = at;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out->what, sizeof out->what, fmt, ap);
    va_end(ap);
}

/* Checks one link: the row's prev_hash column against the previous row's hash (has_prev 0: it
 * must be NULL), and its stored hash against the one recomputed. Returns 1 when it holds. */
static int link_holds(backup_chain *out, int64_t at, const char *name, int has_prev,
                      const uint8_t prev[32], sqlite3_stmt *st, int prev_col, int hash_col,
                      const uint8_t want[32]) {
    int prev_null = sqlite3_column_type(st, prev_col) == SQLITE_NULL;
    int prev_ok = has_prev ? !prev_null && sqlite3_column_bytes(st, prev_col) == 32 &&
                                 memcmp(sqlite3_column_blob(st, prev_col), prev, 32) == 0
                           : prev_null;
    if (!prev_ok) {
        chain_break(out, at,
                    "%s %lld: its prev_hash is not the hash of the %s before it: a row before it "
                    "was removed, inserted or rewritten",
                    name, (long long)at, has_prev ? "row" : "(absent) row");
        return 0;
    }
    if (sqlite3_column_bytes(st, hash_col) != 32 ||
        memcmp(sqlite3_column_blob(st, hash_col), want, 32) != 0) {
        chain_break(out, at,
                    "%s %lld: its content does not match its hash: it was changed after it was "
                    "written",
                    name, (long long)at);
        return 0;
    }
    return 1;
}

static const char *col_text(sqlite3_stmt *st, int i) {
    return (const char *)sqlite3_column_text(st, i);
}

/* Runs fn inside one read transaction on db, so a walk sees one snapshot. */
static int in_read_tx(sqlite3 *db, int (*fn)(sqlite3 *, backup_chain *, sync_error *),
                      backup_chain *out, sync_error *err) {
    int orc = sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
    if (orc != SQLITE_OK) return db_fail(err, db, orc, "begin a read");
    int rc = fn(db, out, err);
    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    return rc;
}

static int walk_audit(sqlite3 *db, backup_chain *out, sync_error *err) {
    sqlite3_stmt *st = NULL;
    int orc = sqlite3_prepare_v2(db,
                                 "SELECT id, at_ms, user_id, username, action, target, outcome, "
                                 "detail, prev_hash, hash FROM audit ORDER BY id",
                                 -1, &st, NULL);
    if (orc != SQLITE_OK) return db_fail(err, db, orc, "read the audit trail");
    uint8_t prev[32] = {0}, want[32];
    int has_prev = 0;
    while ((orc = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(st, 0);
        audit_hash(prev, sqlite3_column_int64(st, 1), sqlite3_column_int64(st, 2), col_text(st, 3),
                   col_text(st, 4), col_text(st, 5), col_text(st, 6), col_text(st, 7), want);
        if (!link_holds(out, id, "audit entry", has_prev, prev, st, 8, 9, want)) break;
        memcpy(prev, want, sizeof prev);
        has_prev = 1;
        out->rows++;
    }
    sqlite3_finalize(st);
    if (!out->broken && orc != SQLITE_DONE) return db_fail(err, db, orc, "read the audit trail");
    if (has_prev) util_hex(prev, sizeof prev, out->head);
    return 0;
}

int backup_verify_audit(sqlite3 *db, backup_chain *out, sync_error *err) {
    chain_begin(out);
    return in_read_tx(db, walk_audit, out, err);
}

static int64_t single_int(sqlite3 *db, const char *sql, int64_t otherwise) {
    sqlite3_stmt *st = NULL;
    int64_t v = otherwise;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

/* Where a walk of the history chain stands: the last link's hash and seq. */
struct chain_walk {
    uint8_t prev[32];
    int has_prev;
    int64_t last;
};

/* The seq of the next link must follow w->last; otherwise rows between them are missing. */
static int link_in_place(backup_chain *out, const struct chain_walk *w, int64_t seq,
                         const char *kind, const char *entity_id, const char *field,
                         int64_t version) {
    if (seq == w->last + 1) return 1;
    chain_break(out, seq,
                "history row %lld (%s %s, field %s, version %lld) follows row %lld: the rows "
                "between them are missing",
                (long long)seq, kind ? kind : "", entity_id ? entity_id : "", field ? field : "",
                (long long)version, (long long)w->last);
    return 0;
}

/* Walks the per-field rows of table (field_history, or field_history_frozen from migration 0023
 * on) in seq order, with history_hash. */
static int walk_field_rows(sqlite3 *db, const char *table, struct chain_walk *w, backup_chain *out,
                           sync_error *err) {
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT kind, entity_id, version, field, value, change_id, user_id, device_id, "
             "at_ms, seq, prev_hash, hash FROM %s WHERE seq IS NOT NULL ORDER BY seq",
             table);
    sqlite3_stmt *st = NULL;
    int orc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (orc != SQLITE_OK) return db_fail(err, db, orc, "read the field history");
    uint8_t want[32];
    while ((orc = sqlite3_step(st)) == SQLITE_ROW) {
        history_row row = {col_text(st, 0),
                           col_text(st, 1),
                           sqlite3_column_int64(st, 2),
                           col_text(st, 3),
                           col_text(st, 4),
                           col_text(st, 5),
                           sqlite3_column_int64(st, 6),
                           col_text(st, 7),
                           sqlite3_column_int64(st, 8),
                           sqlite3_column_int64(st, 9)};
        if (!link_in_place(out, w, row.seq, row.kind, row.entity_id, row.field, row.version)) break;
        history_hash(w->prev, &row, want);
        if (!link_holds(out, row.seq, "history row", w->has_prev, w->prev, st, 10, 11, want)) {
            size_t used = strlen(out->what);
            snprintf(out->what + used, sizeof out->what - used, " (%s %s, field %s, version %lld)",
                     row.kind ? row.kind : "", row.entity_id ? row.entity_id : "",
                     row.field ? row.field : "", (long long)row.version);
            break;
        }
        memcpy(w->prev, want, sizeof want);
        w->has_prev = 1;
        w->last = row.seq;
        out->rows++;
    }
    sqlite3_finalize(st);
    if (!out->broken && orc != SQLITE_DONE) return db_fail(err, db, orc, "read the field history");
    return 0;
}

/* Walks record_history (one row per record version, migration 0023) in seq order, with
 * history_version_hash, continuing the per-field rows' chain. */
static int walk_version_rows(sqlite3 *db, struct chain_walk *w, backup_chain *out,
                             sync_error *err) {
    sqlite3_stmt *st = NULL;
    int orc = sqlite3_prepare_v2(db,
                                 "SELECT kind, entity_id, version, fields, change_id, user_id, "
                                 "device_id, at_ms, seq, prev_hash, hash FROM record_history "
                                 "ORDER BY seq",
                                 -1, &st, NULL);
    if (orc != SQLITE_OK) return db_fail(err, db, orc, "read the record history");
    uint8_t want[32];
    while ((orc = sqlite3_step(st)) == SQLITE_ROW) {
        history_version row = {col_text(st, 0),
                               col_text(st, 1),
                               sqlite3_column_int64(st, 2),
                               col_text(st, 3),
                               col_text(st, 4),
                               sqlite3_column_int64(st, 5),
                               col_text(st, 6),
                               sqlite3_column_int64(st, 7),
                               sqlite3_column_int64(st, 8)};
        if (!link_in_place(out, w, row.seq, row.kind, row.entity_id, "(all)", row.version)) break;
        history_version_hash(w->prev, &row, want);
        if (!link_holds(out, row.seq, "history row", w->has_prev, w->prev, st, 9, 10, want)) {
            size_t used = strlen(out->what);
            snprintf(out->what + used, sizeof out->what - used, " (%s %s, version %lld)",
                     row.kind ? row.kind : "", row.entity_id ? row.entity_id : "",
                     (long long)row.version);
            break;
        }
        memcpy(w->prev, want, sizeof want);
        w->has_prev = 1;
        w->last = row.seq;
        out->rows++;
    }
    sqlite3_finalize(st);
    if (!out->broken && orc != SQLITE_DONE) return db_fail(err, db, orc, "read the record history");
    return 0;
}

static int walk_history(sqlite3 *db, backup_chain *out, sync_error *err) {
    int versions = single_int(db,
                              "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND "
                              "name = 'record_history'",
                              0) == 1;
    const char *fields_table = versions ? "field_history_frozen" : "field_history";
    char sql[160];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM pragma_table_info('%s') WHERE name = 'seq'",
             fields_table);
    if (single_int(db, sql, 0) != 1)
        return sync_fail(err, SYNC_EINVALID, "chain_missing",
                         "this database predates the history chain (schema before 5)");
    struct chain_walk w = {{0}, 0, 0};
    int rc = walk_field_rows(db, fields_table, &w, out, err);
    if (!rc && !out->broken && versions) rc = walk_version_rows(db, &w, out, err);
    if (rc) return rc;
    if (w.has_prev) util_hex(w.prev, sizeof w.prev, out->head);
    if (out->broken) return 0;
    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s WHERE seq IS NULL", fields_table);
    int64_t unchained = single_int(db, sql, 0);
    int64_t base = single_int(db, "SELECT unchained_rows FROM history_chain_base", 0);
    out->unchained = unchained;
    if (unchained > base)
        chain_break(out, 0,
                    "%lld history rows have no place in the chain, %lld more than the rows older "
                    "than it: they were added behind the server's back",
                    (long long)unchained, (long long)(unchained - base));
    else if (unchained < base)
        chain_break(out, 0, "%lld of the %lld history rows older than the chain are missing",
                    (long long)(base - unchained), (long long)base);
    return 0;
}

int backup_verify_history(sqlite3 *db, backup_chain *out, sync_error *err) {
    chain_begin(out);
    return in_read_tx(db, walk_history, out, err);
}
