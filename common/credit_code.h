/* The unified social credit code (统一社会信用代码, GB 32100-2015): 18 characters from the
 * alphabet 0-9 A-H J-N P-R T U W-Y (no I, O, S, V, Z): the registration authority (1), the
 * organisation category (1), the GB/T 2260 division of registration (6 digits), the organisation
 * code (9) and a check character computed over the first 17. */
#ifndef COMMON_CREDIT_CODE_H
#define COMMON_CREDIT_CODE_H

#include <stddef.h>

#define CREDIT_CODE_LEN 18

/* The check character (position 18) for the first 17 characters of code, or '\0' when one of
 * them is outside the code's alphabet. Weights are 3^(i-1) mod 31; the character is the one
 * whose value is 31 - (sum mod 31), 31 counting as 0. */
char credit_code_check_char(const char *code17);

/* Validation results, 0 for a valid code. */
enum {
    CREDIT_CODE_OK = 0,
    CREDIT_CODE_BAD_LENGTH = -1,    /* not exactly 18 characters */
    CREDIT_CODE_BAD_CHAR = -2,      /* a character outside the alphabet (lowercase included) */
    CREDIT_CODE_BAD_AUTHORITY = -3, /* position 1 names no registration authority */
    CREDIT_CODE_BAD_DIVISION = -4,  /* positions 3-8 are not six digits */
    CREDIT_CODE_BAD_CHECK = -5,     /* position 18 is not the check character */
};

/* Checks code (NUL-terminated). Returns CREDIT_CODE_OK or the first problem found; when why is
 * not NULL a sentence for people goes into why[cap]. */
int credit_code_validate(const char *code, char *why, size_t cap);

#endif
