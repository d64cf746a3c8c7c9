/* The durable horizon (docs/sync.md, "Kept until durable"): what a sync answer tells a phone so it
 * keeps every batch the server acknowledged until a backup off the machine holds it, and resends
 * what it kept when the database was restored. Three values, all in the database
 * (migration 0025): the store's epoch (random; made anew by a restore), the acknowledgement
 * sequence (every batch the server acknowledges, applied or held, gets the next number in its own
 * transaction) and the backups confirmed off the machine (durable_seq: the highest sequence one
 * holds). Knows nothing of HTTP or of object stores. */
#ifndef SYNC_DURABLE_H
#define SYNC_DURABLE_H

#include <sqlite3.h>
#include <stdint.h>

#include "sync/store.h"

#define DURABLE_EPOCH_LEN 32 /* hex digits of the 16 random bytes */

/* The horizon as one answer reports it. */
typedef struct durable_horizon {
    char epoch[DURABLE_EPOCH_LEN + 1];
    int64_t ack_seq;     /* the acknowledgement sequence's last number */
    int64_t durable_seq; /* the highest seq of a confirmed backup; 0 when none is */
} durable_horizon;

/* Inside the caller's write transaction: gives the batch being acknowledged the next number of
 * the acknowledgement sequence, into *seq. It rolls back with the transaction. */
int durable_next_ack(store *s, int64_t *seq, sync_error *err);

/* Reads the epoch, the acknowledgement sequence and durable_seq into *out. */
int durable_read(store *s, durable_horizon *out, sync_error *err);

/* Sets store_epoch and acknowledged_seq of resp (acknowledged_seq only when ack_seq > 0: the
 * batch's own number; else the sequence's current end, which is never below it), and
 * durable_seq when offsite (a backup off the machine is configured); unset otherwise. Returns
 * 0, or a negative code (the answer is left as it was). */
int durable_fill(store *s, int offsite, int64_t ack_seq, Outfall__V1__SyncResponse *resp,
                 sync_error *err);

/* What one confirmed backup holds: its row in backups_confirmed. */
typedef struct durable_backup {
    char name[64];      /* under the prefix, e.g. 20261206T170000Z */
    char location[512]; /* s3://bucket/prefix */
    int64_t seq;        /* the copy's acknowledgement sequence */
    char epoch[DURABLE_EPOCH_LEN + 1];
    char digest[65]; /* BLAKE2b-256 of the copy, hex */
    int64_t size;
    int schema_version;
    int64_t confirmed_at_ms;
    int photos_uploaded; /* photos this backup uploaded (0: they stay in the photo store) */
} durable_backup;

/* Records b as confirmed (idempotent by name) on db, in a transaction of its own: from then on
 * durable_seq is at least b->seq. Only after the backup was uploaded, read back, digest checked
 * and its manifest written. */
int durable_record_backup(sqlite3 *db, const durable_backup *b, sync_error *err);

/* Forgets the backup called name on db (the retention rule deleted its objects), so it is no
 * longer listed; durable_seq stays with the newer backups kept. */
int durable_forget_backup(sqlite3 *db, const char *name, sync_error *err);

/* The confirmed backups, newest first (by confirmed_at_ms), at most cap of them into out[], their
 * count into *n. Returns 0 or a negative code. */
int durable_list_backups(store *s, durable_backup *out, int cap, int *n, sync_error *err);

/* Reads the copy's own epoch, acknowledgement sequence and schema version from db (a backup's
 * copy of the database, or any store file). */
int durable_read_copy(sqlite3 *db, char epoch[DURABLE_EPOCH_LEN + 1], int64_t *ack_seq,
                      int *schema_version, sync_error *err);

/* For a restore: gives db (the restored copy, not yet served) a new random epoch, into
 * epoch_out when not NULL, so phones resend what they kept. */
int durable_new_epoch(sqlite3 *db, char epoch_out[DURABLE_EPOCH_LEN + 1], sync_error *err);

#endif
