/* A SQLite VFS over the default one that gathers a transaction's WAL writes into one buffer and
 * hands them to the kernel in a few large writes when SQLite syncs the WAL.
 *
 * SQLite writes each WAL frame with two calls (its 24-byte header, then the page), so a group
 * commit of 800 pages made 1 600 `pwrite`s, each finding and dirtying page-cache pages on its
 * own. Here they are copied into a buffer (at most WALVFS_MAX_BUFFER bytes; fuller, it is written
 * out and starts again) and written in writes of 124 KiB (the default VFS takes no larger ones)
 * while the frames are contiguous.
 *
 * Correct because nothing reads the gathered bytes before they are written: the buffer goes to
 * the file before any read, truncation, size query or non-contiguous write of that WAL, and
 * before its sync. With `synchronous = FULL` (store_open sets it) SQLite syncs the WAL at each
 * commit before it publishes the new frames in the WAL index, so other connections never look
 * for frames still in the buffer. With `synchronous = NORMAL` or `OFF` it publishes without a
 * sync, and this VFS must not be used. Files other than WALs pass straight through. */
#ifndef SYNC_WALVFS_H
#define SYNC_WALVFS_H

#define WALVFS_NAME "outfall-walgather"

/* The most bytes gathered before they are written: 4 MiB, about a thousand pages. */
#define WALVFS_MAX_BUFFER (4 << 20)

/* Registers the VFS (not as the default) over the default VFS. Idempotent and thread-safe.
 * Returns SQLITE_OK, or SQLite's error when it cannot. */
int walvfs_register(void);

#endif
