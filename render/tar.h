/* POSIX tar (ustar, POSIX.1-1988) members for the photo archive (programme/archive.c): a member is
 * its header block, its bytes, and zeros up to the next block; an archive ends with two zero
 * blocks. Pure: the caller writes the bytes where it wants. */
#ifndef RENDER_TAR_H
#define RENDER_TAR_H

#include <stddef.h>
#include <stdint.h>

enum { TAR_BLOCK = 512 };

/* The header block of a regular file path of size bytes, modified at mtime (seconds; 0 when not
 * positive), mode 0644, owner "outfall", into h. A path over 100 bytes is split at a '/' into
 * prefix (at most 155 bytes) and name (at most 100); a name still longer is cut at 100. */
void tar_header(char h[TAR_BLOCK], const char *path, uint64_t size, int64_t mtime);

/* How many zero bytes follow a member of size bytes to reach the next block. */
size_t tar_padding(uint64_t size);

/* Takes len bytes of an archive. */
typedef void (*tar_put_fn)(void *ctx, const char *data, size_t len);

/* Writes the header block of a member (tar_header) through put. */
void tar_put_header(tar_put_fn put, void *ctx, const char *path, uint64_t size, int64_t mtime);

/* Writes the zeros that follow a member of size bytes (tar_padding) through put. */
void tar_put_padding(tar_put_fn put, void *ctx, uint64_t size);

/* Writes the archive's end, two zero blocks, through put. */
void tar_put_end(tar_put_fn put, void *ctx);

#endif
