/* BLAKE2b-256 of a buffer or a file, as 64 lowercase hex (libsodium's crypto_generichash). */
#include "client/hash.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <unistd.h>

#include "common/util.h"

void client_hash_buffer(const void *data, size_t len, char out[CLIENT_HASH_HEX + 1]) {
    util_blake2b_hex(data, len, out);
}

int client_hash_file(const char *path, uint8_t *buf, size_t cap, char out[CLIENT_HASH_HEX + 1],
                     int64_t *size) {
    crypto_generichash_state st;
    uint8_t digest[32];
    ssize_t n = 0;
    out[0] = '\0';
    *size = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    crypto_generichash_init(&st, NULL, 0, sizeof digest);
    while ((n = read(fd, buf, cap)) > 0) {
        crypto_generichash_update(&st, buf, (size_t)n);
        *size += n;
    }
    int saved = errno;
    close(fd);
    if (n < 0) {
        errno = saved;
        return -1;
    }
    crypto_generichash_final(&st, digest, sizeof digest);
    util_hex(digest, sizeof digest, out);
    return 0;
}
