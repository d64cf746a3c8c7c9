/* Tests for common/credit_code.c: the GB 32100-2015 check character and the code's shape. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "common/credit_code.h"

/* Codes of real, registered enterprises (published on their licences). */
static const char *const real_codes[] = {
    "91350100M000100Y43", /* the standard's own worked example */
    "914403001922038216", /* 华为技术有限公司 */
    "91330100799655058B", /* 阿里巴巴(中国)有限公司 */
    "9144030071526726XG", /* 深圳市腾讯计算机系统有限公司 */
    "91110000802100433B", /* 北京百度网讯科技有限公司 */
};

static void real_codes_are_valid(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof real_codes / sizeof real_codes[0]; i++) {
        char why[160] = "";
        int rc = credit_code_validate(real_codes[i], why, sizeof why);
        if (rc) print_message("%s: %s\n", real_codes[i], why);
        assert_int_equal(rc, CREDIT_CODE_OK);
    }
}

static void check_character_matches_the_standard(void **state) {
    (void)state;
    assert_int_equal(credit_code_check_char("91350100M000100Y4"), '3');
    assert_int_equal(credit_code_check_char("9144030071526726X"), 'G');
    /* A sum that is a multiple of 31 gives 0, not 31. */
    assert_int_equal(credit_code_check_char("00000000000000000"), '0');
    assert_int_equal(credit_code_check_char("10000000000000000"), 'Y'); /* 31 - 1 */
    /* A letter outside the alphabet has no check character. */
    assert_int_equal(credit_code_check_char("91350100I000100Y4"), '\0');
}

static void every_wrong_check_character_is_refused(void **state) {
    (void)state;
    static const char alphabet[] = "0123456789ABCDEFGHJKLMNPQRTUWXY";
    char code[19];
    strcpy(code, "91350100M000100Y43");
    int refused = 0;
    for (const char *c = alphabet; *c; c++) {
        code[17] = *c;
        int rc = credit_code_validate(code, NULL, 0);
        if (*c == '3')
            assert_int_equal(rc, CREDIT_CODE_OK);
        else {
            assert_int_equal(rc, CREDIT_CODE_BAD_CHECK);
            refused++;
        }
    }
    assert_int_equal(refused, 30);
}

static void one_changed_character_is_caught(void **state) {
    (void)state;
    char code[19];
    strcpy(code, "914403001922038216");
    code[10] = '3'; /* 1922038 -> 1932038 */
    char why[160];
    assert_int_equal(credit_code_validate(code, why, sizeof why), CREDIT_CODE_BAD_CHECK);
    assert_non_null(strstr(why, "check character is"));
    /* Two neighbours swapped. */
    strcpy(code, "914403001922038216");
    code[9] = '9', code[10] = '1';
    assert_int_equal(credit_code_validate(code, NULL, 0), CREDIT_CODE_BAD_CHECK);
}

static void malformed_codes_are_refused_with_the_reason(void **state) {
    (void)state;
    assert_int_equal(credit_code_validate(NULL, NULL, 0), CREDIT_CODE_BAD_LENGTH);
    assert_int_equal(credit_code_validate("", NULL, 0), CREDIT_CODE_BAD_LENGTH);
    assert_int_equal(credit_code_validate("91350100M000100Y4", NULL, 0), CREDIT_CODE_BAD_LENGTH);
    assert_int_equal(credit_code_validate("91350100M000100Y433", NULL, 0), CREDIT_CODE_BAD_LENGTH);
    /* Lowercase, and the five letters the standard leaves out. */
    assert_int_equal(credit_code_validate("91350100m000100Y43", NULL, 0), CREDIT_CODE_BAD_CHAR);
    const char *left_out = "IOSVZ";
    for (const char *c = left_out; *c; c++) {
        char code[19];
        strcpy(code, "91350100M000100Y43");
        code[8] = *c;
        assert_int_equal(credit_code_validate(code, NULL, 0), CREDIT_CODE_BAD_CHAR);
    }
    /* Position 1: B is in the alphabet but names no registration authority. */
    char code[19];
    strcpy(code, "B1350100M000100Y4");
    code[17] = credit_code_check_char(code);
    code[18] = '\0';
    assert_int_equal(credit_code_validate(code, NULL, 0), CREDIT_CODE_BAD_AUTHORITY);
    /* Positions 3-8 are a division code: digits only, even with a correct check character. */
    strcpy(code, "9135A100M000100Y4");
    code[17] = credit_code_check_char(code);
    code[18] = '\0';
    assert_int_equal(credit_code_validate(code, NULL, 0), CREDIT_CODE_BAD_DIVISION);
    /* A code made with its check character computed is valid. */
    strcpy(code, "91410800MA4XXXXXX");
    code[17] = credit_code_check_char(code);
    code[18] = '\0';
    assert_int_equal(credit_code_validate(code, NULL, 0), CREDIT_CODE_OK);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(real_codes_are_valid),
        cmocka_unit_test(check_character_matches_the_standard),
        cmocka_unit_test(every_wrong_check_character_is_refused),
        cmocka_unit_test(one_changed_character_is_caught),
        cmocka_unit_test(malformed_codes_are_refused_with_the_reason),
    };
    return cmocka_run_group_tests_name("credit code", tests, NULL, NULL);
}
