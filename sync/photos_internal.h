/* What photos.c (the store and its uploads) and photo_reads.c (asking and reading) share: the
 * holder check and the store's paths. Only those two files include it. */
#ifndef SYNC_PHOTOS_INTERNAL_H
#define SYNC_PHOTOS_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "sync/photos.h"

/* *held = 1 when photo hash is stored and p holds it: p uploaded its bytes (a user), or p's report
 * uploaded it with its token. *size (may be NULL) gets its size then. */
int photos_held_size(store *s, const principal *p, const char *hash, int *held, int64_t *size,
                     sync_error *err);

/* 0 when hash is 64 lowercase hex digits, else fails err (400 invalid_argument). */
int photos_hash_check(const char *hash, sync_error *err);

/* Formats a path into buf[cap]; one that does not fit becomes "", which no open finds. */
void photos_path_fmt(char *buf, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The folder of stored photo hash: <photos>/ab/cd. */
void photos_dir_of(const photos_env *env, const char *hash, char *buf, size_t cap);

#endif
