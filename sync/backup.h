/* Backups and the tamper-evident chains, for the offline admin tasks of `outfallctl` (backup,
 * restore, audit verify): a consistent copy of a live database through SQLite's online backup
 * API, files copied with their BLAKE2b-256 checked on the way, and walks of the audit trail's and
 * the field history's hash chains. These open the database file directly (never through a
 * server) and never write to the source. Knows nothing of HTTP. */
#ifndef SYNC_BACKUP_H
#define SYNC_BACKUP_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "sync/sync.h"

/* Copies the database at src_path (opened read-only; a server may be writing it) into a new file
 * dst_path in one backup step, so the copy is one consistent snapshot: WAL readers never block
 * writers, and a single step holds one read transaction from the first page to the last. In the
 * copy, uploads in progress are dropped (their part files are not part of a backup; phones start
 * them again) and `PRAGMA integrity_check` must answer ok; the copy is fsynced. dst_path must not
 * exist. On failure dst_path is removed. Codes: storage_error, integrity_failed, storage_full. */
int backup_db(const char *src_path, const char *dst_path, sync_error *err);

/* Copies src to dst through a temporary file beside dst (fsynced, then renamed), hashing the
 * bytes on the way. When want_hash is not NULL the BLAKE2b-256 must equal it, and when
 * want_size >= 0 the size must equal it; otherwise nothing is left at dst. The digest read goes
 * to got_hash[65] when not NULL. Parent folders of dst are created. Codes: not_found (no src),
 * digest_mismatch, size_mismatch, storage_full, io_error. */
int backup_copy_file(const char *src, const char *dst, const char *want_hash, int64_t want_size,
                     char got_hash[65], sync_error *err);

/* BLAKE2b-256 of a whole file as 64 hex digits into hex[65], and its size. Codes: not_found,
 * io_error. */
int backup_file_digest(const char *path, char hex[65], int64_t *size, sync_error *err);

/* The path of photo hash under photos_dir: photos_dir/ab/cd/<hash>, into buf[cap]. */
void backup_photo_path(const char *photos_dir, const char *hash, char *buf, size_t cap);

/* Runs `PRAGMA integrity_check` on db. Returns 0 when it answers ok, else -1 with its first
 * complaint in msg[cap]. */
int backup_integrity(sqlite3 *db, char *msg, size_t cap);

/* What a walk of one hash chain found. */
typedef struct backup_chain {
    int64_t rows;      /* chained rows walked */
    int64_t unchained; /* field history rows older than the chain (always 0 for the audit) */
    int broken;        /* 1 when a link is broken */
    int64_t at;        /* the first broken link: the audit row's id, the history row's seq */
    char what[320];    /* which row and what is wrong with it, for people */
    char head[65];     /* hex hash of the last row walked ("" when none): note it somewhere safe
                          to detect later a cut of the chain's tail */
} backup_chain;

/* Walks the audit trail in id order inside one read transaction: each row's prev_hash must be
 * the hash of the row before it (NULL for the first) and its hash the BLAKE2b-256 of that hash
 * and its content, as sync/audit.c computes them. Stops at the first broken link. Returns 0
 * (out->broken tells the verdict) or a negative code when the walk itself failed. */
int backup_verify_audit(sqlite3 *db, backup_chain *out, sync_error *err);

/* The same walk over the history chain in seq order: the per-field rows (history_hash of
 * sync/history.c; field_history_frozen from migration 0023 on), then the one row per record
 * version that continues them (record_history, history_version_hash), and a check that no
 * per-field row lacks a place in the chain beyond those older than it. A database from before the
 * chain (no seq column) fails with chain_missing. */
int backup_verify_history(sqlite3 *db, backup_chain *out, sync_error *err);

#endif
