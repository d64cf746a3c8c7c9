/* POSIX tar (ustar) members (see tar.h). */
#include "render/tar.h"

#include <string.h>

/* v as width - 1 octal digits (zero-padded) and a NUL into field. */
static void octal(char *field, size_t width, uint64_t v) {
    field[width - 1] = '\0';
    for (size_t i = width - 1; i-- > 0; v >>= 3)
        field[i] = (char)('0' + (v & 7));
}

void tar_header(char h[TAR_BLOCK], const char *path, uint64_t size, int64_t mtime) {
    memset(h, 0, TAR_BLOCK);
    size_t len = strlen(path);
    const char *name = path;
    if (len > 100) {
        const char *cut = NULL;
        for (const char *c = path; *c; c++)
            if (*c == '/' && (size_t)(c - path) <= 155 && len - (size_t)(c - path) - 1 <= 100)
                cut = c;
        if (cut) {
            memcpy(h + 345, path, (size_t)(cut - path));
            name = cut + 1;
        }
    }
    memcpy(h, name, strlen(name) < 100 ? strlen(name) : 100);
    memcpy(h + 100, "0000644", 7);
    memcpy(h + 108, "0000000", 7);
    memcpy(h + 116, "0000000", 7);
    octal(h + 124, 12, size);
    octal(h + 136, 12, mtime > 0 ? (uint64_t)mtime : 0);
    h[156] = '0';
    memcpy(h + 257, "ustar", 6);
    memcpy(h + 263, "00", 2);
    memcpy(h + 265, "outfall", 7);
    memcpy(h + 297, "outfall", 7);
    memset(h + 148, ' ', 8);
    unsigned sum = 0;
    for (size_t i = 0; i < TAR_BLOCK; i++)
        sum += (unsigned char)h[i];
    octal(h + 148, 7, sum);
    h[155] = ' ';
}

size_t tar_padding(uint64_t size) {
    size_t rest = (size_t)(size % TAR_BLOCK);
    return rest ? TAR_BLOCK - rest : 0;
}

void tar_put_header(tar_put_fn put, void *ctx, const char *path, uint64_t size, int64_t mtime) {
    char h[TAR_BLOCK];
    tar_header(h, path, size, mtime);
    put(ctx, h, sizeof h);
}

/* Two blocks of zeros: the padding of any member, and the archive's end. */
static const char zeros[2 * TAR_BLOCK];

void tar_put_padding(tar_put_fn put, void *ctx, uint64_t size) {
    put(ctx, zeros, tar_padding(size));
}

void tar_put_end(tar_put_fn put, void *ctx) {
    put(ctx, zeros, sizeof zeros);
}
