/* What photos.c (the store and its uploads) and photo_reads.c (asking and reading) share: the
 * holder check and the store's paths. Only those two files include it. */
#ifndef SYNC_PHOTOS_INTERNAL_H
#define SYNC_PHOTOS_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "common/util.h"
#include "sync/photos.h"

/* A holder's key: "u<user id>" or "r<report number>"; an upload's lock key "<hash>.<holder>". */
enum { HOLDER_LEN = 24, BUSY_KEY_LEN = HASH_HEX_LEN + 1 + HOLDER_LEN };

/* A public upload (report_number set) is stale once untouched since before ?8, or once its
 * report's token has expired by ?9 (a report without a token counts as expired). */
#define PUBLIC_UPLOAD_STALE                                                                        \
    "(updated_at_ms < ?8 OR coalesce((SELECT t.expires_at_ms FROM public_report_tokens t "         \
    "WHERE t.number = uploads.report_number), 0) <= ?9)"

/* The age after which a partial public upload goes: its own, else the staff's max_age_ms. */
int64_t photos_public_max_age(const photos_env *env, int64_t max_age_ms);

/* Takes the lock of upload key ("<hash>.<holder>"), waiting up to wait_ms for the request that
 * has it. Returns 0, or -1 when it stayed busy (or every slot is taken). */
int photos_upload_lock(const char *key, int wait_ms);
void photos_upload_unlock(const char *key);

/* The upload lock's key of hash's upload by holder into key[BUSY_KEY_LEN]. */
void photos_upload_key(const char *hash, const char *holder, char *key);

/* The part file of hash's upload by holder: uploads/<hash>.<holder>.part. */
void photos_part_path(const photos_env *env, const char *hash, const char *holder, char *buf,
                      size_t cap);

/* The length of hash's upload by holder: *found, *len (may be NULL). */
int photos_upload_length(store *s, const char *hash, const char *holder, int *found, int64_t *len,
                         sync_error *err);

/* *held = 1 when photo hash is stored and p holds it: p uploaded its bytes (a user), or p's report
 * uploaded it with its token. *size (may be NULL) gets its size then. */
int photos_held_size(store *s, const principal *p, const char *hash, int *held, int64_t *size,
                     sync_error *err);

/* 0 when hash is 64 lowercase hex digits, else fails err (400 invalid_argument). */
int photos_hash_check(const char *hash, sync_error *err);

/* Formats a path into buf[cap]; one that does not fit becomes "", which no open finds. */
void photos_path_fmt(char *buf, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The store of env: env->store, or *local made the folder env->photos_dir. */
const photo_store *photos_store_of(const photos_env *env, photo_store *local);

#endif
