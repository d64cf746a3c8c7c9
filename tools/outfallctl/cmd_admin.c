/* Offline admin tasks on the data folder, through the files rather than the server: `backup DIR`
 * (a consistent copy while the server runs), `restore DIR --data DATA` (into a fresh folder) and
 * `audit verify` (walk the hash chains). The engine side is sync/backup.c.
 *
 * A backup folder holds outfall.db (one self-contained SQLite file), photos/ab/cd/<hash> for
 * every photo that copy records, and MANIFEST, written last, whose presence marks the backup
 * whole:
 *     outfall-backup 1
 *     created_at_ms MS
 *     schema_version N
 *     database outfall.db BYTES BLAKE2B
 *     photos COUNT BYTES
 *     photo HASH BYTES          (one line per photo)
 *     end                                                                                      */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/util.h"
#include "sync/backup.h"
#include "sync/durable.h"
#include "tools/outfallctl/ctl.h"

#define CTL_DEFAULT_DATA "./data"
#define MANIFEST_MAGIC "outfall-backup 1"

typedef struct manifest_photo {
    char hash[65];
    int64_t size;
} manifest_photo;

typedef struct manifest {
    int64_t created_at_ms;
    int schema_version;
    int64_t db_size;
    char db_hash[65];
    manifest_photo *photos; /* malloc'd */
    size_t n_photos;
    int64_t photo_bytes;
} manifest;

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Parses the options every admin command shares (--data, --help) into *data. Returns -1 to go
 * on, or the exit status to return at once. */
static int admin_options(int argc, char **argv, const char **data) {
    static const struct option opts[] = {
        {"data", required_argument, NULL, 'd'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int opt;
    while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (opt) {
        case 'd':
            *data = optarg;
            break;
        case 'h':
            ctl_usage(0);
            return CTL_OK;
        default:
            return ctl_usage(1);
        }
    }
    return -1;
}

/* 1 when path is missing or an empty folder, 0 when it holds something, -1 when it is not a
 * folder or cannot be read. */
static int absent_or_empty(const char *path) {
    DIR *d = opendir(path);
    if (!d) return errno == ENOENT ? 1 : -1;
    struct dirent *e;
    int empty = 1;
    while (empty && (e = readdir(d)))
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) empty = 0;
    closedir(d);
    return empty;
}

/* Makes path (and, within it, photos/) for a backup or a restore: it must be missing or empty. */
static int fresh_folder(const char *path, const char *what) {
    int state = absent_or_empty(path);
    if (state < 0) return ctl_fail("%s %s: %s", what, path, strerror(errno));
    if (state == 0) return ctl_fail("%s %s is not empty; name a new or empty folder", what, path);
    char photos[PATH_MAX];
    snprintf(photos, sizeof photos, "%s/photos", path);
    if ((mkdir(path, 0750) < 0 && errno != EEXIST) || (mkdir(photos, 0750) < 0 && errno != EEXIST))
        return ctl_fail("cannot create %s: %s", photos, strerror(errno));
    return CTL_OK;
}

static int fsync_path(const char *path) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

/* Opens a database file read-only for the admin tasks. */
static int open_read_only(const char *path, sqlite3 **db) {
    struct stat sb;
    if (stat(path, &sb) != 0) return ctl_fail("no database at %s", path);
    if (sqlite3_open_v2(path, db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        int rc = ctl_fail("cannot open %s: %s", path, *db ? sqlite3_errmsg(*db) : "no memory");
        sqlite3_close(*db);
        *db = NULL;
        return rc;
    }
    sqlite3_busy_timeout(*db, 10000);
    return CTL_OK;
}

static int64_t db_count(sqlite3 *db, const char *sql) {
    sqlite3_stmt *st = NULL;
    int64_t n = -1;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

/* The photos db records (hash, size), in hash order, into a malloc'd *out. */
static int db_photos(sqlite3 *db, manifest_photo **out, size_t *n) {
    sqlite3_stmt *st = NULL;
    size_t cap = 0;
    *out = NULL;
    *n = 0;
    if (sqlite3_prepare_v2(db, "SELECT hash, size FROM photos ORDER BY hash", -1, &st, NULL) !=
        SQLITE_OK)
        return ctl_fail("cannot list the photos: %s", sqlite3_errmsg(db));
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *hash = (const char *)sqlite3_column_text(st, 0);
        if (!hash || !util_hash_hex_valid(hash)) {
            sqlite3_finalize(st);
            return ctl_fail("the photos table holds a bad hash %s", hash ? hash : "(null)");
        }
        if (*n == cap) {
            cap = cap ? 2 * cap : 64;
            manifest_photo *grown = realloc(*out, cap * sizeof *grown);
            if (!grown) {
                sqlite3_finalize(st);
                return ctl_fail("out of memory");
            }
            *out = grown;
        }
        util_strlcpy((*out)[*n].hash, hash, sizeof(*out)[*n].hash);
        (*out)[*n].size = sqlite3_column_int64(st, 1);
        (*n)++;
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? CTL_OK : ctl_fail("cannot list the photos: %s", sqlite3_errmsg(db));
}

/* Writes m to dir/MANIFEST through a temporary file, fsynced and renamed. */
static int manifest_write(const char *dir, const manifest *m) {
    char path[PATH_MAX], tmp[PATH_MAX + 8];
    snprintf(path, sizeof path, "%s/MANIFEST", dir);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f) return ctl_fail("cannot write %s: %s", tmp, strerror(errno));
    fprintf(f, MANIFEST_MAGIC "\ncreated_at_ms %lld\nschema_version %d\n",
            (long long)m->created_at_ms, m->schema_version);
    fprintf(f, "database outfall.db %lld %s\n", (long long)m->db_size, m->db_hash);
    fprintf(f, "photos %zu %lld\n", m->n_photos, (long long)m->photo_bytes);
    for (size_t i = 0; i < m->n_photos; i++)
        fprintf(f, "photo %s %lld\n", m->photos[i].hash, (long long)m->photos[i].size);
    fprintf(f, "end\n");
    int bad = fflush(f) != 0 || fsync(fileno(f)) != 0;
    bad |= fclose(f) != 0;
    if (bad || rename(tmp, path) != 0) {
        unlink(tmp);
        return ctl_fail("cannot write %s: %s", path, strerror(errno));
    }
    return fsync_path(dir) == 0 ? CTL_OK : ctl_fail("cannot fsync %s: %s", dir, strerror(errno));
}

/* Reads dir/MANIFEST into *m (m->photos malloc'd). A missing or unfinished one fails. */
static int manifest_read(const char *dir, manifest *m) {
    char path[PATH_MAX], line[512];
    snprintf(path, sizeof path, "%s/MANIFEST", dir);
    memset(m, 0, sizeof *m);
    FILE *f = fopen(path, "r");
    if (!f) return ctl_fail("%s: %s (not a finished backup)", path, strerror(errno));
    int ok = fgets(line, sizeof line, f) && strcmp(line, MANIFEST_MAGIC "\n") == 0;
    int ended = 0;
    size_t cap = 0, declared = 0;
    while (ok && !ended && fgets(line, sizeof line, f)) {
        char hash[80];
        long long a = 0, b = 0;
        if (sscanf(line, "created_at_ms %lld", &a) == 1) {
            m->created_at_ms = a;
        } else if (sscanf(line, "schema_version %lld", &a) == 1) {
            m->schema_version = (int)a;
        } else if (sscanf(line, "database outfall.db %lld %64s", &a, hash) == 2) {
            m->db_size = a;
            util_strlcpy(m->db_hash, hash, sizeof m->db_hash);
        } else if (sscanf(line, "photos %lld %lld", &a, &b) == 2) {
            declared = (size_t)a;
            m->photo_bytes = b;
        } else if (sscanf(line, "photo %64s %lld", hash, &a) == 2 && util_hash_hex_valid(hash)) {
            if (m->n_photos == cap) {
                cap = cap ? 2 * cap : 64;
                manifest_photo *grown = realloc(m->photos, cap * sizeof *grown);
                if (!grown) {
                    ok = 0;
                    break;
                }
                m->photos = grown;
            }
            util_strlcpy(m->photos[m->n_photos].hash, hash, 65);
            m->photos[m->n_photos++].size = a;
        } else if (strcmp(line, "end\n") == 0) {
            ended = 1;
        } else {
            ok = 0;
        }
    }
    fclose(f);
    if (!ok || !ended || !util_hash_hex_valid(m->db_hash) || declared != m->n_photos) {
        free(m->photos);
        m->photos = NULL;
        return ctl_fail("%s is damaged or unfinished", path);
    }
    return CTL_OK;
}

/* ---- backup ---- */

int cmd_backup(const ctl *c, int argc, char **argv) {
    (void)c;
    if (cmd_offsite_wanted(argc, argv)) return cmd_offsite_backup(argc, argv);
    const char *data = CTL_DEFAULT_DATA;
    int early = admin_options(argc, argv, &data);
    if (early >= 0) return early;
    if (argc - optind != 1) {
        fprintf(stderr, "outfallctl: backup takes one DIR\n");
        return ctl_usage(1);
    }
    const char *dir = argv[optind];
    char src[PATH_MAX], dst[PATH_MAX], partial[PATH_MAX + 16], photos_src[PATH_MAX];
    snprintf(src, sizeof src, "%s/outfall.db", data);
    snprintf(dst, sizeof dst, "%s/outfall.db", dir);
    snprintf(partial, sizeof partial, "%s.partial", dst);
    snprintf(photos_src, sizeof photos_src, "%s/photos", data);
    double t0 = now_s();
    struct stat sb;
    if (stat(src, &sb) != 0) return ctl_fail("no database at %s (give --data)", src);
    int rc = fresh_folder(dir, "backup folder");
    if (rc != CTL_OK) return rc;

    sync_error err = {0};
    manifest m = {0};
    sqlite3 *db = NULL;
    m.created_at_ms = util_now_ms();
    if (backup_db(src, partial, &err) != 0) {
        rc = ctl_fail("%s: %s", err.code, err.message);
        goto out;
    }
    double t_db = now_s() - t0;
    if ((rc = open_read_only(partial, &db)) != CTL_OK) goto out;
    m.schema_version = (int)db_count(db, "PRAGMA user_version");
    int64_t outfalls = db_count(db, "SELECT count(*) FROM outfalls");
    int64_t observations = db_count(db, "SELECT count(*) FROM observations");
    int64_t history = db_count(db, "SELECT count(*) FROM field_history");
    int64_t audit = db_count(db, "SELECT count(*) FROM audit");
    if ((rc = db_photos(db, &m.photos, &m.n_photos)) != CTL_OK) goto out;
    sqlite3_close(db);
    db = NULL;

    /* The photos the copy records, each checked against its name on the way: photos are never
     * deleted and a row is written only once its file is whole, so each one is there. */
    for (size_t i = 0; i < m.n_photos; i++) {
        char from[PATH_MAX], to[PATH_MAX];
        backup_photo_path(photos_src, m.photos[i].hash, from, sizeof from);
        snprintf(to, sizeof to, "%s/photos/%.2s/%.2s/%s", dir, m.photos[i].hash,
                 m.photos[i].hash + 2, m.photos[i].hash);
        if (backup_copy_file(from, to, m.photos[i].hash, m.photos[i].size, NULL, &err) != 0) {
            rc = ctl_fail("photo %s: %s: %s", m.photos[i].hash, err.code, err.message);
            goto out;
        }
        m.photo_bytes += m.photos[i].size;
    }
    if (backup_file_digest(partial, m.db_hash, &m.db_size, &err) != 0 ||
        rename(partial, dst) != 0) {
        rc = ctl_fail("cannot finish %s: %s", dst, err.code[0] ? err.message : strerror(errno));
        goto out;
    }
    if ((rc = manifest_write(dir, &m)) != CTL_OK) goto out;
    printf("backup %s: database %lld bytes (schema %d; %lld outfalls, %lld observations, %lld "
           "history rows, %lld audit entries) copied in %.2f s; %zu photos, %lld bytes, each "
           "checked against its BLAKE2b-256; done in %.2f s\n",
           dir, (long long)m.db_size, m.schema_version, (long long)outfalls,
           (long long)observations, (long long)history, (long long)audit, t_db, m.n_photos,
           (long long)m.photo_bytes, now_s() - t0);
out:
    if (db) sqlite3_close(db);
    if (rc != CTL_OK) unlink(partial);
    free(m.photos);
    return rc;
}

/* ---- restore ---- */

int cmd_restore(const ctl *c, int argc, char **argv) {
    (void)c;
    if (cmd_offsite_wanted(argc, argv)) return cmd_offsite_restore(argc, argv);
    const char *data = NULL;
    int early = admin_options(argc, argv, &data);
    if (early >= 0) return early;
    if (argc - optind != 1 || !data) {
        fprintf(stderr, "outfallctl: restore takes one backup DIR and --data DATA\n");
        return ctl_usage(1);
    }
    const char *dir = argv[optind];
    char db_path[PATH_MAX], msg[256], hex[65];
    snprintf(db_path, sizeof db_path, "%s/outfall.db", dir);
    double t0 = now_s();
    manifest m;
    int rc = manifest_read(dir, &m);
    if (rc != CTL_OK) return rc;
    sync_error err = {0};
    sqlite3 *db = NULL;
    manifest_photo *rows = NULL;
    size_t n_rows = 0;
    int64_t size = 0;

    /* Check the backup whole before touching DATA: the database's digest, its integrity, and
     * that the manifest names every photo the database records. */
    if (backup_file_digest(db_path, hex, &size, &err) != 0) {
        rc = ctl_fail("%s: %s", err.code, err.message);
        goto out;
    }
    if (strcmp(hex, m.db_hash) != 0 || size != m.db_size) {
        rc = ctl_fail("%s does not match its manifest (BLAKE2b-256 %s, expected %s): the backup "
                      "is damaged",
                      db_path, hex, m.db_hash);
        goto out;
    }
    if ((rc = open_read_only(db_path, &db)) != CTL_OK) goto out;
    if (backup_integrity(db, msg, sizeof msg) != 0) {
        rc = ctl_fail("%s fails PRAGMA integrity_check: %s", db_path, msg);
        goto out;
    }
    if ((rc = db_photos(db, &rows, &n_rows)) != CTL_OK) goto out;
    if (n_rows != m.n_photos) {
        rc = ctl_fail("the database records %zu photos, the manifest %zu", n_rows, m.n_photos);
        goto out;
    }
    for (size_t i = 0; i < n_rows; i++)
        if (strcmp(rows[i].hash, m.photos[i].hash) != 0 || rows[i].size != m.photos[i].size) {
            rc = ctl_fail("photo %s of the database is not the manifest's %s", rows[i].hash,
                          m.photos[i].hash);
            goto out;
        }
    sqlite3_close(db);
    db = NULL;

    if ((rc = fresh_folder(data, "data folder")) != CTL_OK) goto out;
    /* Photos first, the database last: a folder with outfall.db in it is complete. */
    for (size_t i = 0; i < m.n_photos; i++) {
        char from[PATH_MAX], to[PATH_MAX];
        snprintf(from, sizeof from, "%s/photos/%.2s/%.2s/%s", dir, m.photos[i].hash,
                 m.photos[i].hash + 2, m.photos[i].hash);
        snprintf(to, sizeof to, "%s/photos/%.2s/%.2s/%s", data, m.photos[i].hash,
                 m.photos[i].hash + 2, m.photos[i].hash);
        if (backup_copy_file(from, to, m.photos[i].hash, m.photos[i].size, NULL, &err) != 0) {
            rc = ctl_fail("photo %s: %s: %s", m.photos[i].hash, err.code, err.message);
            goto out;
        }
    }
    char to[PATH_MAX], part[PATH_MAX + 16];
    snprintf(to, sizeof to, "%s/outfall.db", data);
    snprintf(part, sizeof part, "%s.restoring", to);
    if (backup_copy_file(db_path, part, m.db_hash, m.db_size, NULL, &err) != 0) {
        rc = ctl_fail("database: %s: %s", err.code, err.message);
        goto out;
    }
    /* A new store epoch (sync/durable.h): phones resend what they kept since. */
    int bad = sqlite3_open_v2(part, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK ||
              durable_new_epoch(db, NULL, &err) != 0;
    sqlite3_close(db);
    db = NULL;
    if (bad || rename(part, to) != 0) {
        rc = ctl_fail("database: cannot give %s a new store epoch: %s", part,
                      err.code[0] ? err.message : strerror(errno));
        unlink(part);
        goto out;
    }
    printf("restored %s into %s: database %lld bytes (schema %d), %zu photos, %lld bytes, each "
           "checked against its BLAKE2b-256, in %.2f s; start the server with --data %s\n",
           dir, data, (long long)m.db_size, m.schema_version, m.n_photos, (long long)m.photo_bytes,
           now_s() - t0, data);
out:
    if (db) sqlite3_close(db);
    free(rows);
    free(m.photos);
    return rc;
}

/* ---- audit verify ---- */

/* Prints one chain's verdict. Returns 1 when it holds. */
static int chain_report(const char *name, const backup_chain *ch, const char *unit) {
    if (ch->broken) {
        printf("%s: BROKEN after %lld good %s: %s\n", name, (long long)ch->rows, unit, ch->what);
        return 0;
    }
    printf("%s: ok, %lld %s", name, (long long)ch->rows, unit);
    if (ch->unchained) printf(" (and %lld older than the chain)", (long long)ch->unchained);
    printf(", head %s\n", ch->head[0] ? ch->head : "(empty)");
    return 1;
}

int cmd_audit(const ctl *c, int argc, char **argv) {
    (void)c;
    const char *data = CTL_DEFAULT_DATA;
    int early = admin_options(argc, argv, &data);
    if (early >= 0) return early;
    if (argc - optind != 1 || strcmp(argv[optind], "verify") != 0) {
        fprintf(stderr, "outfallctl: audit takes one subcommand: verify\n");
        return ctl_usage(1);
    }
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/outfall.db", data);
    sqlite3 *db = NULL;
    int rc = open_read_only(path, &db);
    if (rc != CTL_OK) return rc;
    backup_chain audit, history;
    sync_error err = {0};
    if (backup_verify_audit(db, &audit, &err) != 0 ||
        backup_verify_history(db, &history, &err) != 0) {
        rc = ctl_fail("%s: %s", err.code, err.message);
    } else {
        int ok = chain_report("audit chain", &audit, "entries");
        ok &= chain_report("history chain", &history, "rows");
        fflush(stdout);
        if (!ok)
            rc = ctl_fail("the audit trail or the field history was altered behind the server");
    }
    sqlite3_close(db);
    return rc;
}
