/* A checksum of the photo store on disk, so a test can prove a refused request left no file
 * behind, changed none and removed none: BLAKE2b-256 over data_dir's photos/ and (when asked)
 * uploads/ trees, walked in byte order of their names, each entry hashed with its kind, its path
 * below data_dir and, for a file, its bytes (a symbolic link: its target). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/util.h"
#include "tests/lib/harness.h"

enum { TH_STORE_MAX_DEPTH = 8 };

static void th_store_put_text(crypto_generichash_state *h, const char *kind, const void *p,
                              size_t n) {
    uint8_t len[8];
    for (int i = 0; i < 8; i++)
        len[i] = (uint8_t)((uint64_t)n >> (56 - 8 * i));
    crypto_generichash_update(h, (const uint8_t *)kind, 1);
    crypto_generichash_update(h, len, sizeof len);
    crypto_generichash_update(h, p, n);
}

/* Hashes the bytes of the file at path, length first. Returns 0 or -1. */
static int th_store_put_file(crypto_generichash_state *h, const char *path) {
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0) {
        fprintf(stderr, "th: store checksum: %s: %s\n", path, strerror(errno));
        if (fd >= 0) close(fd);
        return -1;
    }
    uint8_t buf[64 * 1024], len[8];
    uint64_t size = (uint64_t)st.st_size, seen = 0;
    for (int i = 0; i < 8; i++)
        len[i] = (uint8_t)(size >> (56 - 8 * i));
    crypto_generichash_update(h, len, sizeof len);
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0) {
        crypto_generichash_update(h, buf, (size_t)n);
        seen += (uint64_t)n;
    }
    close(fd);
    if (n < 0 || seen != size) {
        fprintf(stderr, "th: store checksum: %s changed while read\n", path);
        return -1;
    }
    return 0;
}

static int th_store_by_name(const struct dirent **a, const struct dirent **b) {
    return strcmp((*a)->d_name, (*b)->d_name);
}

static int th_store_not_dots(const struct dirent *e) {
    return strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
}

/* Hashes the tree at root/rel (rel names it in the hash). Returns 0 or -1. */
static int th_store_walk(crypto_generichash_state *h, const char *root, const char *rel,
                         int depth) {
    char dir[PATH_MAX];
    struct dirent **names = NULL;
    snprintf(dir, sizeof dir, "%s/%s", root, rel);
    int n = scandir(dir, &names, th_store_not_dots, th_store_by_name);
    if (n < 0) {
        if (errno != ENOENT) {
            fprintf(stderr, "th: store checksum: %s: %s\n", dir, strerror(errno));
            return -1;
        }
        th_store_put_text(h, "-", rel, strlen(rel)); /* absent, which is not the same as empty */
        return 0;
    }
    th_store_put_text(h, "D", rel, strlen(rel));
    int rc = 0;
    for (int i = 0; i < n; i++) {
        char child[PATH_MAX], path[PATH_MAX * 2];
        struct stat st;
        snprintf(child, sizeof child, "%s/%s", rel, names[i]->d_name);
        snprintf(path, sizeof path, "%s/%s", root, child);
        if (rc == 0 && lstat(path, &st) < 0) {
            fprintf(stderr, "th: store checksum: %s: %s\n", path, strerror(errno));
            rc = -1;
        }
        if (rc == 0 && S_ISDIR(st.st_mode)) {
            rc = depth < TH_STORE_MAX_DEPTH ? th_store_walk(h, root, child, depth + 1) : -1;
        } else if (rc == 0 && S_ISREG(st.st_mode)) {
            th_store_put_text(h, "F", child, strlen(child));
            rc = th_store_put_file(h, path);
        } else if (rc == 0 && S_ISLNK(st.st_mode)) {
            char target[PATH_MAX];
            ssize_t len = readlink(path, target, sizeof target);
            th_store_put_text(h, "L", child, strlen(child));
            th_store_put_text(h, ">", target, len > 0 ? (size_t)len : 0);
        } else if (rc == 0) {
            th_store_put_text(h, "?", child, strlen(child));
        }
        free(names[i]);
    }
    free(names);
    return rc;
}

th_sum th_store_checksum(const char *data_dir, int with_uploads) {
    static int failures;
    th_sum sum;
    crypto_generichash_state h;
    crypto_generichash_init(&h, NULL, 0, 32);
    int rc = th_store_walk(&h, data_dir, "photos", 0);
    if (rc == 0 && with_uploads) rc = th_store_walk(&h, data_dir, "uploads", 0);
    uint8_t digest[32];
    crypto_generichash_final(&h, digest, sizeof digest);
    if (rc == 0)
        util_hex(digest, sizeof digest, sum.hex);
    else
        snprintf(sum.hex, sizeof sum.hex, "!store-checksum-failed-%d", ++failures);
    return sum;
}
