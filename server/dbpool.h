/* The database handles the request threads share (prefix dbpool_). CivetWeb runs one thread per
 * open connection, and a kept-alive connection holds its thread while idle; the handles are few
 * and apart from the threads, so many idle or slow connections cost a thread each (cheap) but no
 * SQLite connection, and the work done at once is bounded by the handles, not the connections.
 * A request takes a handle for what it does with the database and gives it back while it waits
 * for its client (reading a body, streaming a file). Waiters are served in arrival order. */
#ifndef SERVER_DBPOOL_H
#define SERVER_DBPOOL_H

#include <stdint.h>

#include "sync/store.h"

/* Prepares a pool of size handles on db_path, opened on first use. Returns 0 or -1. Call once
 * before serving. */
int dbpool_init(const char *db_path, int size);

/* Takes a handle, waiting in arrival order until one is free or until the monotonic time
 * deadline_ms (util_monotonic_ms). Returns the handle, or NULL with err filled: busy (503) when
 * the wait ran out, or the store's failure to open. The caller gives it back with
 * dbpool_release. */
store *dbpool_acquire(int64_t deadline_ms, sync_error *err);

/* Ends any read left open on s and gives it back to the pool. NULL is ignored. */
void dbpool_release(store *s);

/* Handles given out now, and waiting requests: for the tests' and the health figures. */
void dbpool_stats(int *in_use, int *waiting);

/* Closes every handle; none may be given out. */
void dbpool_close(void);

#endif
