/* The storage handle: one SQLite connection with its pragmas, migrations and a cache of prepared
 * statements. One handle per thread; handles on the same file may be used from many threads. */
#ifndef SYNC_STORE_H
#define SYNC_STORE_H

#include <sqlite3.h>

#include "sync/sync.h"

typedef struct store store;

/* Opens (creating if needed) the database at path, sets WAL, busy_timeout, foreign keys, and applies
 * every migration newer than the file's user_version, each with its version bump in one
 * transaction. Returns 0 and a handle in *out, or a negative code with err filled. */
int store_open(const char *path, store **out, sync_error *err);

/* Closes the handle and finalizes its statements. NULL is fine. */
void store_close(store *s);

/* The schema version (PRAGMA user_version) of the open file. */
int store_schema_version(store *s);

/* The connection, borrowed; for sync/ modules only. */
sqlite3 *store_db(store *s);

/* A prepared statement for sql, cached per handle, reset and unbound: borrowed, do not finalize.
 * sql must be a string literal (the cache keys on its address). NULL on a prepare error. */
sqlite3_stmt *store_stmt(store *s, const char *sql);

/* Resets every cached statement, ending any read a caller left open (an un-reset statement pins
 * its snapshot and blocks this connection's writes). Called between requests and at the start of
 * each write transaction; never while a caller is still stepping a statement. */
void store_idle(store *s);

/* Write transactions: BEGIN IMMEDIATE / COMMIT / ROLLBACK. Return 0 or a negative code. */
int store_begin(store *s, sync_error *err);
int store_commit(store *s, sync_error *err);
void store_rollback(store *s);

/* A passive checkpoint: copies what the WAL holds into the database file as far as open reads
 * allow, without waiting for them, so the WAL stays short. For a background thread: commits
 * checkpoint by themselves only past a large threshold. Returns 0 or a negative code. */
int store_checkpoint(store *s, sync_error *err);

/* Maps a SQLite result to an engine error (busy, full, internal), fills err, returns the code. */
int store_fail(store *s, int sqlite_rc, sync_error *err);

#endif
