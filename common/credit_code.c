#include "common/credit_code.h"

#include <stdio.h>
#include <string.h>

/* The alphabet in value order: '0' is 0 ... 'Y' is 30. */
static const char alphabet[] = "0123456789ABCDEFGHJKLMNPQRTUWXY";

/* Registration authorities of GB 32100-2015 position 1 (1 机构编制, 2 外交, 3 司法行政, 4 文化,
 * 5 民政, 6 旅游, 7 宗教, 8 工会, 9 市场监管/工商, A 中央军委改革和编制办公室, N 农业, Y 其他). */
static const char authorities[] = "123456789ANY";

/* 3^(i-1) mod 31 for i = 1..17. */
static const int weights[17] = {1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28};

static int value_of(char c) {
    const char *at = c ? strchr(alphabet, c) : NULL;
    return at ? (int)(at - alphabet) : -1;
}

char credit_code_check_char(const char *code17) {
    int sum = 0;
    for (int i = 0; i < 17; i++) {
        int v = value_of(code17[i]);
        if (v < 0) return '\0';
        sum += v * weights[i];
    }
    return alphabet[(31 - sum % 31) % 31];
}

static int fail(int rc, char *why, size_t cap, const char *msg, const char *code) {
    if (why && cap) snprintf(why, cap, "credit code %.40s: %s", code, msg);
    return rc;
}

int credit_code_validate(const char *code, char *why, size_t cap) {
    if (!code || strlen(code) != CREDIT_CODE_LEN)
        return fail(CREDIT_CODE_BAD_LENGTH, why, cap, "must be exactly 18 characters",
                    code ? code : "");
    for (int i = 0; i < CREDIT_CODE_LEN; i++)
        if (value_of(code[i]) < 0)
            return fail(CREDIT_CODE_BAD_CHAR, why, cap,
                        "uses a character outside 0-9 and A-Y without I, O, S, V, Z", code);
    if (!strchr(authorities, code[0]))
        return fail(CREDIT_CODE_BAD_AUTHORITY, why, cap,
                    "position 1 is not a registration authority (1-9, A, N, Y)", code);
    for (int i = 2; i < 8; i++)
        if (code[i] < '0' || code[i] > '9')
            return fail(CREDIT_CODE_BAD_DIVISION, why, cap,
                        "positions 3-8 must be the six-digit division of registration", code);
    char want = credit_code_check_char(code);
    if (code[17] != want) {
        char msg[96];
        snprintf(msg, sizeof msg, "check character is %c, not %c (GB 32100-2015)", want, code[17]);
        return fail(CREDIT_CODE_BAD_CHECK, why, cap, msg, code);
    }
    return CREDIT_CODE_OK;
}
