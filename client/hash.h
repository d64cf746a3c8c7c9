/* The client library's photo hashing (prefix client_hash_): BLAKE2b-256 (32 bytes, no key; the
 * photo store's address, the same digest as `b2sum -l 256`) as 64 lowercase hex. */
#ifndef CLIENT_HASH_H
#define CLIENT_HASH_H

#include <stddef.h>
#include <stdint.h>

enum { CLIENT_HASH_HEX = 64 };

/* The digest of data[len] into out[65]. */
void client_hash_buffer(const void *data, size_t len, char out[CLIENT_HASH_HEX + 1]);

/* The digest of the file at path into out[65], read in pieces through buf[cap] (the caller's
 * scratch memory), and its size into *size. Returns 0, or -1 with errno set (out "" then). */
int client_hash_file(const char *path, uint8_t *buf, size_t cap, char out[CLIENT_HASH_HEX + 1],
                     int64_t *size);

#endif
