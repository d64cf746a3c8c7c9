/* The storage handle: one SQLite connection with its pragmas, migrations and a cache of prepared
 * statements. One handle per thread; handles on the same file may be used from many threads. */
#ifndef SYNC_STORE_H
#define SYNC_STORE_H

#include <protobuf-c/protobuf-c.h>
#include <sqlite3.h>
#include <stdint.h>

#include "sync/sync.h"

typedef struct store store;

/* Opens (creating if needed) the database at path, sets WAL, busy_timeout, foreign keys, and
 * applies every migration newer than the file's user_version, each with its version bump in one
 * transaction. Returns 0 and a handle in *out, or a negative code with err filled. */
int store_open(const char *path, store **out, sync_error *err);

/* store_open for the handle that writes sync batches in groups: a commit's WAL writes go out
 * gathered into a few large writes (sync/walvfs.h). Other handles on the same file read what it
 * commits as usual. Keep its `synchronous` at FULL, as store_open leaves it. */
int store_open_writer(const char *path, store **out, sync_error *err);

/* Closes the handle and finalizes its statements. NULL is fine. */
void store_close(store *s);

/* The schema version (PRAGMA user_version) of the open file. */
int store_schema_version(store *s);

/* The connection, borrowed; for sync/ modules only. */
sqlite3 *store_db(store *s);

/* A prepared statement for sql, cached per handle, reset and unbound: borrowed, do not finalize.
 * sql must be a string literal (the cache keys on its address). NULL on a prepare error. */
sqlite3_stmt *store_stmt(store *s, const char *sql);

/* Binds m, packed, as blob parameter i of st (the statement owns the bytes). Returns SQLITE_OK,
 * or SQLITE_NOMEM when there is no memory to pack it. */
int store_bind_packed(sqlite3_stmt *st, int i, const ProtobufCMessage *m);

/* Resets every cached statement, ending any read a caller left open (an un-reset statement pins
 * its snapshot and blocks this connection's writes). Called between requests and at the start of
 * each write transaction; never while a caller is still stepping a statement. */
void store_idle(store *s);

/* Runs one statement without output (BEGIN, SAVEPOINT x, RELEASE x) through the statement cache,
 * so its text is parsed once per handle rather than per call; sql is a string literal as for
 * store_stmt. Returns SQLite's code (SQLITE_OK when it ran). */
int store_exec(store *s, const char *sql);

/* Write transactions: BEGIN IMMEDIATE / COMMIT / ROLLBACK. Return 0 or a negative code. */
int store_begin(store *s, sync_error *err);
int store_commit(store *s, sync_error *err);

/* Commits made through store_commit by every handle of the process so far: a long poll notes it
 * before reading and waits for it to change (store_wait_commit). */
uint64_t store_commits(void);

/* Waits until some handle commits after `seen` (a store_commits() value), at most timeout_ms.
 * Returns 1 when one did, 0 on timeout or once store_commits_stop was called. Holds no handle:
 * release yours first. */
int store_wait_commit(uint64_t seen, int64_t timeout_ms);

/* Wakes every store_wait_commit and makes later ones return at once (the server stopping). */
void store_commits_stop(void);
void store_rollback(store *s);

/* Rolls the open transaction back to the named savepoint (still open after). Use it rather than
 * "ROLLBACK TO" by hand: it also forgets what the handle remembers of the transaction (the
 * history chain's head). Returns 0 or a negative code. */
int store_rollback_to(store *s, const char *savepoint);

/* The field-history chain's head (its last seq and that row's hash, and the tag its writer gave
 * it) as this handle's open write transaction last wrote it: 1 with *seq, hash and *tag filled, 0
 * when not known, and the caller reads it from the table. Forgotten when the transaction ends
 * (commit or rollback, through SQLite's hooks) and at store_rollback_to, so it is never a head
 * another writer moved. */
int store_chain_head(store *s, int64_t *seq, uint8_t hash[32], uint64_t *tag);

/* Remembers the chain's head just written, inside an explicit transaction only (in autocommit
 * the write has already committed and the next transaction must read it again). tag is the
 * writer's own summary of the row (sync/history.c: which record version, by which change). */
void store_set_chain_head(store *s, int64_t seq, const uint8_t hash[32], uint64_t tag);

/* What the engine keeps of the photo references' hash entries (sync/photo_refs.c, migration
 * 0030) on this handle, for its open write transaction: upto, the key up to which every reference
 * has its entry, and tail, how many references are keyed after it. Read from the tables when
 * known is 0, and kept up to date by the handle after that: no other handle writes while the
 * transaction is open. The transaction's end forgets them (through SQLite's hooks), as
 * store_rollback_to does. */
typedef struct store_hash_counts {
    int64_t upto, tail;
    int known;
} store_hash_counts;
store_hash_counts *store_photo_hash_counts(store *s);

/* How many change ids wait in change_ids_recent for their merge (sync/batch.c, migration 0031),
 * on this handle for its open write transaction: counted from the table when known is 0, then
 * kept up to date by the handle, and forgotten at the transaction's end, as the counts above. */
typedef struct store_count {
    int64_t n;
    int known;
} store_count;
store_count *store_recent_change_ids(store *s);

/* A passive checkpoint: copies what the WAL holds into the database file as far as open reads
 * allow, without waiting for them, so the WAL stays short. For the server's background thread,
 * and for its writing thread once the WAL is past its bound (sync/writer.c); other commits
 * checkpoint by themselves only past a large threshold. Returns 0 or a negative code. */
int store_checkpoint(store *s, sync_error *err);

/* Takes checkpoints out of this handle's commits (SQLite's auto-checkpoint runs inside the
 * commit that crosses its threshold): for a process whose background thread calls
 * store_checkpoint instead. From then on the handle notes the WAL's length after each of its
 * commits (store_wal_bytes). store_checkpoints_deferred says whether a handle was set so. */
void store_defer_checkpoints(store *s);
int store_checkpoints_deferred(store *s);

/* For a handle whose checkpoints are deferred: the WAL's length in bytes after the handle's last
 * commit, 0 before its first and after store_checkpoint on it (whether or not the checkpoint
 * reached the WAL's end, which open reads can prevent). SQLite starts the WAL again from its
 * beginning at the first commit after a checkpoint that reached its end, so while commits follow
 * one another faster than a checkpoint runs beside them, the WAL only grows (sync/writer.c bounds
 * it). */
int64_t store_wal_bytes(store *s);

/* Maps a SQLite result to an engine error (busy, full, internal), fills err, returns the code. */
int store_fail(store *s, int sqlite_rc, sync_error *err);

#endif
