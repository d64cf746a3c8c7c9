/* Backups off the machine, into an S3-compatible bucket (objstore/s3.h), and restores from them
 * (docs/operations.md, "Backups to the bucket"). Under the client's prefix a backup NAME (its UTC
 * time, 20261206T170000123Z) is two objects, db/NAME/outfall.db and db/NAME/MANIFEST, the
 * manifest written last; with the local photo store, the photos its database records are kept once
 * each under photos/ab/cd/<hash> (content addressed, shared by every backup, never deleted). A
 * backup whose manifest is there was uploaded, read back and digest checked: it is confirmed.
 *
 * MANIFEST is text:
 *     outfall-offsite-backup 1
 *     name NAME
 *     created_at_ms MS
 *     seq N                      (the copy's acknowledgement sequence, sync/durable.h)
 *     epoch HEX                  (the copy's store epoch)
 *     schema_version N
 *     database BYTES BLAKE2B
 *     photos local|bucket COUNT  (local: under photos/ here; bucket: in the photo store's bucket)
 *     photo HASH BYTES           (one line per photo, with local only)
 *     end
 * Knows nothing of HTTP or of the server's schedule. */
#ifndef SYNC_OFFSITE_H
#define SYNC_OFFSITE_H

#include <stdint.h>

#include "objstore/s3.h"
#include "sync/durable.h"
#include "sync/sync.h"

/* Where a backup goes and what it takes. */
typedef struct offsite_target {
    s3_client *bucket;      /* the backups' bucket and prefix */
    const char *location;   /* "s3://BUCKET/PREFIX", for the log and the record */
    const char *db_path;    /* the live database (the server may be writing it) */
    const char *photos_dir; /* the local photo store's folder; NULL: photos are in a bucket */
    const char *tmp_dir;    /* where the copy is made before it is uploaded (DATA) */
} offsite_target;

/* Makes one backup of t: SQLite's online backup of t->db_path into a temporary file (one read
 * transaction: the writer goes on), its BLAKE2b-256, the upload (multipart when large), a HEAD
 * and a read-back of the whole object checked against that digest, the photos (local store: each
 * recorded one the bucket lacks, checked against its address before and its size after), then
 * MANIFEST last, read back. Only then *out is filled (name, seq, epoch, digest, ...); the caller
 * records it (offsite_confirm). A failure leaves no manifest: no confirmed backup. The temporary
 * file is always removed. Progress lines go to stderr. Codes: backup_store_unavailable (the
 * bucket failed), backup_verify_failed (what came back differs), storage_error, storage_full. */
int offsite_backup(const offsite_target *t, durable_backup *out, sync_error *err);

/* Records b as confirmed in the database at db_path (its own connection, waiting out a busy
 * writer): durable_seq moves to b->seq. */
int offsite_confirm(const char *db_path, const durable_backup *b, sync_error *err);

/* Forgets the confirmed backup called name in the database at db_path (as offsite_confirm
 * opens it): its objects were deleted. */
int offsite_forget(const char *db_path, const char *name, sync_error *err);

/* The retention rule: keeps the newest `keep` confirmed backups and, for each of the last
 * `days` UTC days, the newest of that day; deletes the others' objects (MANIFEST first, so a
 * half-deleted backup is no longer confirmed) and backups never confirmed older than the newest
 * confirmed one. Photos are never deleted. With db_path (may be NULL), each backup deleted is
 * also forgotten by that database's record of confirmed backups (durable_forget_backup), so
 * GET /v1/backups lists only what the bucket holds. Returns the number deleted, or a negative
 * code. */
int offsite_prune(s3_client *bucket, const char *db_path, int keep, int days, sync_error *err);

/* Restores into data_dir (absent or empty): the backup `at` (NULL: the newest confirmed one) is
 * downloaded, its digest and size checked against MANIFEST, PRAGMA integrity_check and both hash
 * chains (audit, history) walked; with the local photo store (photos_dir not NULL) every photo it
 * records is downloaded and checked against its address. Then the copy gets a new store epoch
 * (phones resend what they kept), records the backup it came from as confirmed, and is renamed
 * to data_dir/outfall.db last. Fills *out with what was restored. Codes: not_found (no such
 * backup), backup_store_unavailable, backup_verify_failed, storage_error, storage_full. */
int offsite_restore(s3_client *bucket, const char *location, const char *at, const char *data_dir,
                    const char *photos_dir, durable_backup *out, sync_error *err);

#endif
