/* util_hash_hex_valid, which every photo hash a phone names goes through: exactly 64 lowercase
 * hex digits and nothing after them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/util.h"

#define HEX64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void sixty_four_lowercase_hex_digits_are_a_hash(void **state) {
    (void)state;
    assert_int_equal(util_hash_hex_valid(HEX64), 1);
    assert_int_equal(
        util_hash_hex_valid("ffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"
                            "ffffff"),
        1);
}

static void anything_else_is_not(void **state) {
    (void)state;
    char s[80];
    assert_int_equal(util_hash_hex_valid(NULL), 0);
    assert_int_equal(util_hash_hex_valid(""), 0);
    assert_int_equal(util_hash_hex_valid(HEX64 "0"), 0);  /* 65 digits */
    assert_int_equal(util_hash_hex_valid(HEX64 + 1), 0);  /* 63 */
    assert_int_equal(util_hash_hex_valid(HEX64 "\n"), 0); /* a character after them */
    /* Each place, in turn: upper case, the characters beside the digits' ranges, a byte past
     * ASCII, a NUL (the string ends early). */
    const char bad[] = {'A', 'F', 'g', '/', ':', '`', (char)0xe6, '\0'};
    for (size_t at = 0; at < 64; at++)
        for (size_t b = 0; b < sizeof bad; b++) {
            memcpy(s, HEX64, sizeof HEX64);
            s[at] = bad[b];
            if (util_hash_hex_valid(s)) fail_msg("valid with 0x%02x at %zu", bad[b] & 0xff, at);
        }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sixty_four_lowercase_hex_digits_are_a_hash),
        cmocka_unit_test(anything_else_is_not),
    };
    return cmocka_run_group_tests_name("common/hash_hex", tests, NULL, NULL);
}
