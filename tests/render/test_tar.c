/* Tests for render/tar.c: a ustar header as POSIX.1-1988 lays it out (name, octal size and time,
 * checksum, magic), a long path split at a '/' into prefix and name, and the padding to a block.
 * The archive as a whole is read back by tar(1) in tests/api/test_exports.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "render/tar.h"

/* The header's checksum as a reader computes it: the sum of its bytes, the checksum field as
 * eight spaces. */
static unsigned checksum_of(const char h[TAR_BLOCK]) {
    unsigned sum = 0;
    for (size_t i = 0; i < TAR_BLOCK; i++)
        sum += (i >= 148 && i < 156) ? ' ' : (unsigned char)h[i];
    return sum;
}

static void a_short_path_fills_name_size_time_and_a_checksum_readers_accept(void **state) {
    (void)state;
    char h[TAR_BLOCK];
    tar_header(h, "photos/a.jpg", 1234, 1700000000);
    assert_string_equal(h, "photos/a.jpg");
    assert_int_equal(strtoull(h + 124, NULL, 8), 1234);
    assert_int_equal(strtoull(h + 136, NULL, 8), 1700000000);
    assert_int_equal(h[156], '0');
    assert_memory_equal(h + 257,
                        "ustar\0"
                        "00",
                        8);
    assert_int_equal(strtoul(h + 148, NULL, 8), checksum_of(h));
    assert_int_equal(h[345], '\0'); /* no prefix */
}

static void a_long_path_is_split_at_a_slash_into_prefix_and_name(void **state) {
    (void)state;
    char dir[121], path[200], h[TAR_BLOCK];
    memset(dir, 'd', 120);
    dir[120] = '\0';
    snprintf(path, sizeof path, "%s/photo-with-a-long-name.jpg", dir);
    tar_header(h, path, 1, 0);
    assert_string_equal(h, "photo-with-a-long-name.jpg");
    assert_memory_equal(h + 345, dir, 120);
    assert_int_equal(strtoull(h + 136, NULL, 8), 0); /* no time: 0 */
}

static void members_are_padded_to_whole_blocks(void **state) {
    (void)state;
    assert_int_equal(tar_padding(0), 0);
    assert_int_equal(tar_padding(1), 511);
    assert_int_equal(tar_padding(512), 0);
    assert_int_equal(tar_padding(513), 511);
    assert_int_equal(tar_padding(5ull * 1024 * 1024 * 1024 + 100), 412);
}

/* What tar_put_* wrote, gathered. */
typedef struct sink {
    char s[4 * TAR_BLOCK];
    size_t len;
} sink;

static void gather(void *ctx, const char *data, size_t len) {
    sink *k = ctx;
    assert_true(k->len + len <= sizeof k->s);
    memcpy(k->s + k->len, data, len);
    k->len += len;
}

static void
a_member_is_its_header_then_padding_and_an_archive_ends_with_two_zero_blocks(void **state) {
    (void)state;
    sink k = {0};
    char h[TAR_BLOCK];
    tar_header(h, "MANIFEST.tsv", 3, 1700000000);
    tar_put_header(gather, &k, "MANIFEST.tsv", 3, 1700000000);
    assert_int_equal(k.len, TAR_BLOCK);
    assert_memory_equal(k.s, h, TAR_BLOCK);
    gather(&k, "abc", 3);
    tar_put_padding(gather, &k, 3);
    assert_int_equal(k.len, 2 * TAR_BLOCK);
    tar_put_padding(gather, &k, 2 * TAR_BLOCK); /* a whole number of blocks: nothing */
    assert_int_equal(k.len, 2 * TAR_BLOCK);
    tar_put_end(gather, &k);
    assert_int_equal(k.len, 4 * TAR_BLOCK);
    for (size_t i = TAR_BLOCK + 3; i < k.len; i++)
        assert_int_equal(k.s[i], 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_short_path_fills_name_size_time_and_a_checksum_readers_accept),
        cmocka_unit_test(a_long_path_is_split_at_a_slash_into_prefix_and_name),
        cmocka_unit_test(members_are_padded_to_whole_blocks),
        cmocka_unit_test(
            a_member_is_its_header_then_padding_and_an_archive_ends_with_two_zero_blocks),
    };
    return cmocka_run_group_tests_name("render/tar", tests, NULL, NULL);
}
