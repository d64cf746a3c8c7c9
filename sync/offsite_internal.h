/* What sync/offsite.c and sync/offsite_restore.c share: the manifest and the objects' keys. */
#ifndef SYNC_OFFSITE_INTERNAL_H
#define SYNC_OFFSITE_INTERNAL_H

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

#include "objstore/s3.h"
#include "sync/durable.h"
#include "sync/sync.h"

#define OFFSITE_MAGIC "outfall-offsite-backup 1"
#define OFFSITE_DIR "db/" /* backups are db/NAME/..., photos photos/ab/cd/<hash> */

typedef struct offsite_photo {
    char hash[65];
    int64_t size;
} offsite_photo;

/* A MANIFEST: the backup's record (b.confirmed_at_ms holds created_at_ms) and its photos. */
typedef struct offsite_manifest {
    durable_backup b;
    int local_photos;      /* 1: photos under photos/ of this bucket; 0: in the photo store's */
    offsite_photo *photos; /* malloc'd; with local_photos only */
    size_t n_photos;
} offsite_manifest;

/* "photos/ab/cd/<hash>" into key[cap]. */
static inline void offsite_photo_key(const char *hash, char *key, size_t cap) {
    snprintf(key, cap, "photos/%.2s/%.2s/%s", hash, hash + 2, hash);
}

/* err filled for a failed call to the bucket about what: backup_store_unavailable (SYNC_EBUSY). */
int offsite_store_fail(sync_error *err, const char *what, const s3_error *e);

/* Reads object key whole, hashing it: BLAKE2b-256 hex into hex[65], its size into *size. */
int offsite_object_digest(s3_client *c, const char *key, char hex[65], int64_t *size,
                          sync_error *err);

#endif
