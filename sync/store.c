#include "sync/store.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "sync/migrations.h"
#include "sync/walvfs.h"

/* Pages in the WAL past which a commit checkpoints by itself: about 40 MB, far more than a
 * second of writes, so in the server the background thread's store_checkpoint does it first. */
#define STORE_AUTOCHECKPOINT_PAGES "10000"

/* Statements are cached by the address of their SQL literal: an open-addressed table. The code
 * holds about 140 store_stmt call sites; a worker that serves every route would fill a table of
 * 128 and get NULL ("statement cache full") from then on. */
#define STMT_CACHE 512

struct store {
    sqlite3 *db;
    int deferred;      /* store_defer_checkpoints: no checkpoint inside a commit */
    int64_t wal_bytes; /* store_wal_bytes: the WAL's length after this handle's last commit */
    int frame_bytes;   /* a WAL frame's length: a page and its 24-byte header */
    int head_known;    /* chain_seq/chain_hash hold the history chain's head in this transaction */
    int64_t chain_seq;
    uint8_t chain_hash[32];
    uint64_t chain_tag;
    store_hash_counts hashes; /* store_photo_hash_counts */
    store_count recent_ids;   /* store_recent_change_ids */
    struct {
        const char *sql;
        sqlite3_stmt *stmt;
    } cache[STMT_CACHE];
};

/* Runs sql on db. Returns 0, or the negative code with err filled: a lock that stayed taken past
 * the busy timeout is SYNC_EBUSY storage_busy (503, retry), anything else storage_error. */
static int exec(sqlite3 *db, const char *sql, sync_error *err) {
    char *msg = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
    int busy = (rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED;
    if (rc != SQLITE_OK) {
        if (busy)
            sync_fail(err, SYNC_EBUSY, "storage_busy", "the database is busy; retry");
        else
            sync_fail(err, SYNC_EINTERNAL, "storage_error", "%s", msg ? msg : sqlite3_errstr(rc));
        sqlite3_free(msg);
        return busy ? SYNC_EBUSY : SYNC_EINTERNAL;
    }
    return 0;
}

/* Forgets what the handle remembered of its write transaction (the history chain's head, the
 * photo hash counts, the change ids waiting): at its start and end, and at store_rollback_to. */
static void forget_transaction(store *s) {
    s->head_known = 0;
    s->hashes.known = 0;
    s->recent_ids.known = 0;
}

/* Transaction ends forget (SQLite's commit and rollback hooks; the commit hook returns 0 to let
 * the commit go on). */
static int forget_on_commit(void *arg) {
    forget_transaction(arg);
    return 0;
}

static void forget_on_rollback(void *arg) {
    forget_transaction(arg);
}

static int user_version(sqlite3 *db) {
    sqlite3_stmt *st = NULL;
    int v = -1;
    if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return v;
}

/* Applies each migration newer than the file, with its user_version bump in the same transaction
 * (user_version rolls back with it). Concurrent openers serialise on BEGIN IMMEDIATE. A file
 * already at the newest version is only read: opening a handle must not queue for the write
 * lock, which the writing thread takes group after group under load (a handle opened during a
 * big upload waited there past the busy timeout: 500 "database is locked"). */
static int migrate(sqlite3 *db, sync_error *err) {
    int current = user_version(db);
    for (int i = 0; i < migration_count; i++) {
        const struct migration *m = &migrations[i];
        if (current >= m->version) continue;
        if (exec(db, "BEGIN IMMEDIATE", err)) return SYNC_EINTERNAL;
        if (user_version(db) >= m->version) {
            if (exec(db, "COMMIT", err)) return SYNC_EINTERNAL;
            continue;
        }
        char bump[64];
        snprintf(bump, sizeof bump, "PRAGMA user_version = %d", m->version);
        sync_error why = {0};
        if (exec(db, m->sql, &why) || exec(db, bump, &why) || exec(db, "COMMIT", &why)) {
            sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
            return sync_fail(err, SYNC_EINTERNAL, "migration_failed", "migration %s: %s", m->name,
                             why.message);
        }
    }
    return 0;
}

/* SQLite counts every allocation in global statistics under one mutex (SQLITE_DEFAULT_MEMSTATUS
 * in Debian's build): with 32 worker threads reading feed pages that mutex was the server's most
 * contended lock (futex wake-ups under sqlite3Malloc in the field day's profile). Nothing here
 * reads those statistics. It must be set before SQLite initialises, so once, before the first
 * open; a call after that fails harmlessly and leaves the counting on. */
static void store_configure(void) {
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

static void configure_once(void) {
    static pthread_once_t configured = PTHREAD_ONCE_INIT;
    pthread_once(&configured, store_configure);
}

/* store_open on the VFS named vfs (NULL: the default). */
static int open_on(const char *path, const char *vfs, store **out, sync_error *err) {
    configure_once();
    *out = NULL;
    store *s = calloc(1, sizeof *s);
    if (!s) return sync_fail(err, SYNC_EINTERNAL, "out_of_memory", "out of memory");
    int rc = sqlite3_open_v2(path, &s->db,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, vfs);
    if (rc != SQLITE_OK) {
        sync_fail(err, SYNC_EINTERNAL, "storage_error", "cannot open %s: %s", path,
                  s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
        goto fail;
    }
    sqlite3_busy_timeout(s->db, 10000);
    sqlite3_commit_hook(s->db, forget_on_commit, s);
    sqlite3_rollback_hook(s->db, forget_on_rollback, s);
    if (exec(s->db,
             "PRAGMA journal_mode = WAL;"
             "PRAGMA synchronous = FULL;"
             "PRAGMA foreign_keys = ON;"
             "PRAGMA temp_store = MEMORY;"
             /* Checkpoints belong to a background thread (store_checkpoint), not to the commit
              * of whichever request crossed the threshold; this one is the safety net. */
             "PRAGMA wal_autocheckpoint = " STORE_AUTOCHECKPOINT_PAGES ";",
             err))
        goto fail;
    if (migrate(s->db, err)) goto fail;
    *out = s;
    return 0;
fail:
    store_close(s);
    return err ? err->rc : SYNC_EINTERNAL;
}

int store_open(const char *path, store **out, sync_error *err) {
    return open_on(path, NULL, out, err);
}

int store_open_writer(const char *path, store **out, sync_error *err) {
    configure_once(); /* before the registration initialises SQLite */
    int rc = walvfs_register();
    if (rc != SQLITE_OK)
        return sync_fail(err, SYNC_EINTERNAL, "storage_error", "cannot register %s: %s",
                         WALVFS_NAME, sqlite3_errstr(rc));
    return open_on(path, WALVFS_NAME, out, err);
}

void store_close(store *s) {
    if (!s) return;
    for (int i = 0; i < STMT_CACHE; i++)
        sqlite3_finalize(s->cache[i].stmt);
    sqlite3_close(s->db);
    free(s);
}

int store_schema_version(store *s) {
    return user_version(s->db);
}

sqlite3 *store_db(store *s) {
    return s->db;
}

sqlite3_stmt *store_stmt(store *s, const char *sql) {
    size_t h = ((size_t)(uintptr_t)sql >> 3) % STMT_CACHE;
    for (size_t n = 0; n < STMT_CACHE; n++, h = (h + 1) % STMT_CACHE) {
        if (s->cache[h].sql == sql) {
            sqlite3_reset(s->cache[h].stmt);
            sqlite3_clear_bindings(s->cache[h].stmt);
            return s->cache[h].stmt;
        }
        if (!s->cache[h].sql) {
            sqlite3_stmt *st = NULL;
            if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) !=
                SQLITE_OK) {
                fprintf(stderr, "store: prepare failed: %s\n  in: %s\n", sqlite3_errmsg(s->db),
                        sql);
                return NULL;
            }
            s->cache[h].sql = sql;
            s->cache[h].stmt = st;
            return st;
        }
    }
    /* Cache full: a statement set this large is a bug in the caller. */
    fprintf(stderr, "store: statement cache full\n");
    return NULL;
}

int store_bind_packed(sqlite3_stmt *st, int i, const ProtobufCMessage *m) {
    size_t n = protobuf_c_message_get_packed_size(m);
    uint8_t *packed = malloc(n ? n : 1);
    if (!packed) return SQLITE_NOMEM;
    protobuf_c_message_pack(m, packed);
    return sqlite3_bind_blob(st, i, packed, (int)n, free); /* frees it when it fails too */
}

int store_fail(store *s, int sqlite_rc, sync_error *err) {
    switch (sqlite_rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return sync_fail(err, SYNC_EBUSY, "storage_busy", "the database is busy; retry");
    case SQLITE_FULL:
        return sync_fail(err, SYNC_EFULL, "storage_full", "the server's disk is full");
    default:
        return sync_fail(err, SYNC_EINTERNAL, "storage_error", "storage error: %s",
                         s ? sqlite3_errmsg(s->db) : sqlite3_errstr(sqlite_rc));
    }
}

void store_idle(store *s) {
    for (int i = 0; i < STMT_CACHE; i++)
        if (s->cache[i].stmt) sqlite3_reset(s->cache[i].stmt);
}

int store_exec(store *s, const char *sql) {
    sqlite3_stmt *st = store_stmt(s, sql);
    if (!st) return SQLITE_ERROR;
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? SQLITE_OK : rc;
}

int store_begin(store *s, sync_error *err) {
    if (sqlite3_get_autocommit(s->db)) store_idle(s);
    forget_transaction(s);
    int rc = store_exec(s, "BEGIN IMMEDIATE");
    return rc == SQLITE_OK ? 0 : store_fail(s, rc, err);
}

/* The process's commit count and its waiters (long polls of the feed). */
static pthread_mutex_t commit_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t commit_made = PTHREAD_COND_INITIALIZER;
static uint64_t commit_count;
static int commits_stopped;

uint64_t store_commits(void) {
    pthread_mutex_lock(&commit_lock);
    uint64_t n = commit_count;
    pthread_mutex_unlock(&commit_lock);
    return n;
}

int store_wait_commit(uint64_t seen, int64_t timeout_ms) {
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += timeout_ms / 1000;
    until.tv_nsec += (timeout_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&commit_lock);
    int timed_out = 0;
    while (commit_count == seen && !commits_stopped && !timed_out)
        timed_out = pthread_cond_timedwait(&commit_made, &commit_lock, &until) != 0;
    int made = commit_count != seen;
    pthread_mutex_unlock(&commit_lock);
    return made;
}

void store_commits_stop(void) {
    pthread_mutex_lock(&commit_lock);
    commits_stopped = 1;
    pthread_cond_broadcast(&commit_made);
    pthread_mutex_unlock(&commit_lock);
}

int store_commit(store *s, sync_error *err) {
    int rc = store_exec(s, "COMMIT");
    if (rc == SQLITE_OK) {
        pthread_mutex_lock(&commit_lock);
        commit_count++;
        pthread_cond_broadcast(&commit_made);
        pthread_mutex_unlock(&commit_lock);
        return 0;
    }
    store_fail(s, rc, err);
    store_rollback(s);
    return err ? err->rc : SYNC_EINTERNAL;
}

int store_rollback_to(store *s, const char *savepoint) {
    char sql[96];
    forget_transaction(s);
    snprintf(sql, sizeof sql, "ROLLBACK TO \"%s\"", savepoint);
    int rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? 0 : store_fail(s, rc, NULL);
}

store_hash_counts *store_photo_hash_counts(store *s) {
    return &s->hashes;
}

store_count *store_recent_change_ids(store *s) {
    return &s->recent_ids;
}

int store_chain_head(store *s, int64_t *seq, uint8_t hash[32], uint64_t *tag) {
    if (!s->head_known || sqlite3_get_autocommit(s->db)) return 0;
    *seq = s->chain_seq;
    *tag = s->chain_tag;
    memcpy(hash, s->chain_hash, 32);
    return 1;
}

void store_set_chain_head(store *s, int64_t seq, const uint8_t hash[32], uint64_t tag) {
    if (sqlite3_get_autocommit(s->db)) {
        s->head_known = 0;
        return;
    }
    s->chain_seq = seq;
    memcpy(s->chain_hash, hash, 32);
    s->chain_tag = tag;
    s->head_known = 1;
}

int store_checkpoint(store *s, sync_error *err) {
    int rc = sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    s->wal_bytes = 0; /* known again at the next commit */
    return rc == SQLITE_OK || rc == SQLITE_BUSY ? 0 : store_fail(s, rc, err);
}

/* SQLite's WAL hook, called after each commit of s with the frames the WAL then holds. */
static int note_wal_length(void *arg, sqlite3 *db, const char *name, int frames) {
    (void)db;
    (void)name;
    store *s = arg;
    s->wal_bytes = (int64_t)frames * s->frame_bytes;
    return SQLITE_OK;
}

void store_defer_checkpoints(store *s) {
    /* The hook replaces SQLite's auto-checkpoint, which is one too (sqlite3_wal_hook). */
    sqlite3_stmt *st = NULL;
    s->frame_bytes = 4096 + 24;
    if (sqlite3_prepare_v2(s->db, "PRAGMA page_size", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        s->frame_bytes = sqlite3_column_int(st, 0) + 24;
    sqlite3_finalize(st);
    sqlite3_wal_hook(s->db, note_wal_length, s);
    s->deferred = 1;
}

int64_t store_wal_bytes(store *s) {
    return s->wal_bytes;
}

int store_checkpoints_deferred(store *s) {
    return s->deferred;
}

void store_rollback(store *s) {
    if (!sqlite3_get_autocommit(s->db)) sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}
