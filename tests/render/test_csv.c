/* Tests for render/csv.c: every text cell a spreadsheet would run as a formula (OWASP's list:
 * '=',
 * '+', '-', '@', tab, carriage return first) comes out with a leading apostrophe, quoted as RFC
 * 4180 asks when it holds a separator; any other text, Chinese included, comes out as it was. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "render/csv.h"

/* What csv_text wrote, in a buffer of the test's. */
typedef struct sink {
    char buf[512];
    size_t len;
} sink;

static void sink_put(void *ctx, const char *data, size_t len) {
    sink *s = ctx;
    assert_true(s->len + len < sizeof s->buf);
    memcpy(s->buf + s->len, data, len);
    s->len += len;
    s->buf[s->len] = '\0';
}

static const char *cell(const char *text, sink *s) {
    s->len = 0;
    s->buf[0] = '\0';
    csv_text(sink_put, s, text);
    return s->buf;
}

/* One text and the cell written for it. */
static const struct {
    const char *text, *cell;
} cases[] = {
    /* formulas, each first byte of the list */
    {"=1+1", "'=1+1"},
    {"+1+1", "'+1+1"},
    {"-2+3", "'-2+3"},
    {"@SUM(A1:A9)", "'@SUM(A1:A9)"},
    {"\t=1+1", "'\t=1+1"},
    {"\r=1+1", "\"'\r=1+1\""}, /* a CR also makes it quoted */
    {"=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"},
    /* a formula holding separators: the apostrophe goes inside the quotes */
    {"=HYPERLINK(\"http://evil.example/\",\"点击\")",
     "\"'=HYPERLINK(\"\"http://evil.example/\"\",\"\"点击\"\")\""},
    {"=1,2", "\"'=1,2\""},
    {"-\n1", "\"'-\n1\""},
    /* not formulas: as they were, quoted only for a separator */
    {"沁河入河排污口", "沁河入河排污口"},
    {"A=1", "A=1"},
    {" =1+1", " =1+1"},
    {"'=1", "'=1"},
    {"a,b", "\"a,b\""},
    {"say \"hi\"", "\"say \"\"hi\"\"\""},
    {"line\nbreak", "\"line\nbreak\""},
    {"", ""},
};

static void formulas_get_an_apostrophe_and_other_text_stays(void **state) {
    (void)state;
    sink s;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *got = cell(cases[i].text, &s);
        if (strcmp(got, cases[i].cell) != 0)
            print_message("case %zu: %s gave %s, not %s\n", i, cases[i].text, got, cases[i].cell);
        assert_string_equal(got, cases[i].cell);
    }
    assert_string_equal(cell(NULL, &s), "");
}

static void the_formula_test_names_exactly_the_owasp_bytes(void **state) {
    (void)state;
    for (int c = 1; c < 256; c++) {
        char text[3] = {(char)c, 'x', '\0'};
        int want = c == '=' || c == '+' || c == '-' || c == '@' || c == '\t' || c == '\r';
        assert_int_equal(csv_is_formula(text), want);
    }
    assert_int_equal(csv_is_formula(""), 0);
    assert_int_equal(csv_is_formula(NULL), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(formulas_get_an_apostrophe_and_other_text_stays),
        cmocka_unit_test(the_formula_test_names_exactly_the_owasp_bytes),
    };
    return cmocka_run_group_tests_name("render/csv", tests, NULL, NULL);
}
