/* Where stored photos' bytes live: the local folder (DATA/photos/ab/cd/<hash>, the default) or an
 * S3-compatible bucket (objstore/s3.h) under the same content address, PREFIX/ab/cd/<hash>, so a
 * photo is kept once. A small table of operations per kind; sync/photos.c stores through it in
 * three steps around the transaction that records a photo (prepare outside it, place inside it,
 * unplace when it rolls back) and sync/photo_reads.c reads through it. Knows nothing of the
 * database: a photo is visible only once its row is written, whatever the store holds. */
#ifndef SYNC_PHOTO_STORE_H
#define SYNC_PHOTO_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "objstore/s3.h"
#include "sync/sync.h"

/* Receives the next n bytes of a photo; returns 0 to go on, non-zero to stop (the reader left). */
typedef int (*photo_sink)(void *ctx, const void *buf, size_t n);

typedef struct photo_store photo_store;

/* One kind of store. Codes of every operation: photo_store_unavailable (SYNC_EBUSY, 503: the
 * bucket cannot be reached, is slow or refuses us; try again), storage_full (507), internal. */
typedef struct photo_store_ops {
    const char *kind; /* "local" or "s3" */
    /* Before the recording transaction, with the verified file at path (size bytes): the local
     * folders are made; a bucket gets the bytes (HEAD first: an object of that size is kept). */
    int (*prepare)(const photo_store *ps, const char *hash, const char *path, int64_t size,
                   sync_error *err);
    /* Inside the transaction: the local file is renamed to its address (*moved set); a bucket has
     * it already. */
    int (*place)(const photo_store *ps, const char *hash, const char *path, int *moved,
                 sync_error *err);
    /* The transaction failed after place moved the file: it goes back to path. */
    void (*unplace)(const photo_store *ps, const char *hash, const char *path);
    /* Streams bytes [offset, offset + length) of photo hash to sink; nothing reaches sink when it
     * fails before the first byte. A sink that stops is no failure. */
    int (*read)(const photo_store *ps, const char *hash, int64_t offset, int64_t length,
                photo_sink sink, void *ctx, sync_error *err);
    /* The size of photo hash's bytes in the store into *size; -1 when absent. */
    int (*size)(const photo_store *ps, const char *hash, int64_t *size, sync_error *err);
} photo_store_ops;

struct photo_store {
    const photo_store_ops *ops;
    const char *dir; /* local: DATA/photos (borrowed: it outlives the store) */
    s3_client *s3;   /* s3: the bucket (owned) */
};

/* A local store of folder dir (borrowed), filled in place (nothing to free). */
void photo_store_local(photo_store *ps, const char *dir);

/* A bucket store that takes client c (freed by photo_store_close). */
void photo_store_bucket(photo_store *ps, s3_client *c);

/* How to reach a store, as the flags say it (--photo-store and its companions). */
typedef struct photo_store_spec {
    const char *store;       /* "local" (or NULL, "") or "s3://BUCKET[/PREFIX]" */
    const char *dir;         /* the local folder (DATA/photos) */
    const char *endpoint;    /* the bucket's http(s) endpoint */
    const char *region;      /* its SigV4 region; NULL or "": us-east-1 */
    const char *credentials; /* a credentials file (s3_credentials_load); NULL or "": the
                                environment's AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY */
    int timeout_s;           /* a request's limit (and a stalled transfer's); 0: 30 */
    int64_t part_bytes;      /* multipart part size; 0: the client's default */
} photo_store_spec;

/* Makes the store spec names into *ps and, for a bucket, checks that it exists and takes the
 * credentials (a HEAD of the bucket). Returns 0, or -1 with one line for people in why[cap]
 * (nothing to close then). */
int photo_store_open(photo_store *ps, const photo_store_spec *spec, char *why, size_t cap);

/* Frees what the store owns. */
void photo_store_close(photo_store *ps);

/* Where photo hash lives in a bucket: "ab/cd/<hash>" into key[cap] (the client adds its prefix). */
void photo_store_key(const char *hash, char *key, size_t cap);

/* The local folder's file helpers, which the uploads in sync/photos.c share: fsyncs the folder
 * path (0, or -1 with errno); creates dir when missing, a new one made durable by syncing its
 * parent (0 or -1); fails err from errno after a file operation on what (507 storage_full when
 * the disk is full, else 500 internal) and returns it. */
int photo_store_fsync_dir(const char *path);
int photo_store_make_dir(const char *dir);
int photo_store_io_fail(sync_error *err, const char *what);

#endif
