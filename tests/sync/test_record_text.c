/* The record's JSON text (sync/record.c) is written by the project's own writer, not jansson's
 * json_dump_callback, and must be the same bytes: documents and history rows are compared and
 * hashed into the history chain as text. Each value here, hand-picked and random, is written both
 * ways with the flags records use: record_text, record_dump with and without pieces against
 * json_dumps (NULL, refused, on both sides alike), pieces made from pieces of the other flags
 * included. */
#include <float.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sync/record.h"

#define TEXT_FLAGS (JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(17))

static void same_text(const char *got, const char *want, const char *what) {
    if (!got && !want) return;
    if (!got || !want || strcmp(got, want) != 0)
        fail_msg("%s: ours %s, jansson's %s", what, got ? got : "(NULL)", want ? want : "(NULL)");
}

/* v written every way a record is, against jansson. Takes v. */
static void writes_as_jansson(json_t *v) {
    assert_non_null(v);
    char *want = json_dumps(v, TEXT_FLAGS), *got = record_text(v);
    same_text(got, want, "record_text");
    free(want);
    free(got);
    json_t *obj = json_pack("{s:O,s:O,s:i}", "value", v, "a", v, "z", 1);
    assert_non_null(obj);
    const size_t flags[] = {RECORD_DOC_FLAGS, RECORD_FIELDS_FLAGS};
    for (size_t i = 0; i < 2; i++) {
        want = json_dumps(obj, flags[i]);
        got = record_dump(obj, flags[i], NULL);
        same_text(got, want, "record_dump");
        free(got);
        record_pieces pieces;
        if (record_pieces_make(obj, flags[i], NULL, &pieces) == 0) {
            got = record_dump(obj, flags[i], &pieces);
            same_text(got, want, "record_dump with pieces");
            free(got);
            /* The other flags' pieces, the scalars' texts taken from these. */
            record_pieces like;
            assert_int_equal(record_pieces_make(obj, flags[1 - i], &pieces, &like), 0);
            char *other = json_dumps(obj, flags[1 - i]);
            got = record_dump(obj, flags[1 - i], &like);
            same_text(got, other, "record_dump with pieces made like others");
            free(got);
            free(other);
            record_pieces_free(&like);
            record_pieces_free(&pieces);
        } else {
            assert_null(want); /* only a value jansson refuses has no pieces */
        }
        free(want);
    }
    json_decref(obj);
    json_decref(v);
}

static double random_double(void) {
    uint64_t bits = 0;
    for (int i = 0; i < 4; i++)
        bits = bits << 16 | (uint64_t)(rand() & 0xFFFF);
    double d;
    memcpy(&d, &bits, sizeof d);
    return d;
}

static void reals(void **state) {
    (void)state;
    const double hand[] = {0.0,
                           -0.0,
                           1.0,
                           -1.0,
                           0.1,
                           35.123456789012345,
                           112.95124,
                           100.0,
                           1e15,
                           1e16,
                           1e17,
                           123456789012345678.0,
                           1e20,
                           1e21,
                           1e100,
                           -1.5e300,
                           1e-5,
                           1e-7,
                           1.0000000000000002,
                           DBL_MAX,
                           -DBL_MAX,
                           DBL_MIN,
                           4.9406564584124654e-324,
                           2.5e-308};
    for (size_t i = 0; i < sizeof hand / sizeof *hand; i++)
        writes_as_jansson(json_real(hand[i]));
    srand(20261207);
    for (int i = 0; i < 20000; i++) {
        double d = random_double();
        if (isfinite(d)) writes_as_jansson(json_real(d));
        writes_as_jansson(json_real((rand() % 36000000 - 18000000) / 100000.0));
    }
}

static void integers_and_literals(void **state) {
    (void)state;
    const json_int_t hand[] = {0, 1, -1, 9, 10, -10, INT64_MAX, INT64_MIN, INT64_MIN + 1};
    for (size_t i = 0; i < sizeof hand / sizeof *hand; i++)
        writes_as_jansson(json_integer(hand[i]));
    for (int i = 0; i < 2000; i++)
        writes_as_jansson(json_integer((json_int_t)random_double()));
    writes_as_jansson(json_null());
    writes_as_jansson(json_true());
    writes_as_jansson(json_false());
}

static void strings(void **state) {
    (void)state;
    for (int c = 0; c < 256; c++) {
        char s[4] = {'a', (char)c, 'b', 0};
        writes_as_jansson(json_stringn_nocheck(s, 3)); /* bytes >= 0x80 alone: refused */
    }
    const char *hand[] = {"",
                          "沁河排口：雨污混流，\"暗管\"\\排放",
                          "tab\there\nnew line\r\f\b",
                          "emoji 😀 and 𝄞",
                          "/slash/ stays",
                          "\xed\xa0\x80",         /* a surrogate */
                          "\xc0\xaf",             /* overlong */
                          "\xe0\x80\xaf",         /* overlong */
                          "\xf0\x80\x80\xaf",     /* overlong */
                          "\xf4\x90\x80\x80",     /* past U+10FFFF */
                          "\xe6\xb2\x81\xe6\xb2", /* cut short */
                          "\xf5\x80\x80\x80",
                          "\x7f delete"};
    for (size_t i = 0; i < sizeof hand / sizeof *hand; i++)
        writes_as_jansson(json_stringn_nocheck(hand[i], strlen(hand[i])));
    writes_as_jansson(json_stringn("a\0b", 3));
    /* Random bytes drawn mostly from valid pieces. */
    const char *parts[] = {"a",        "\"", "\\", "\n",           "\x01",
                           "\x1f",     "沁", "😀",  "\xc3\xa9",     "\x80",
                           "\xe6\xb2", " ",  "0",  "\xef\xbf\xbf", "\xf4\x8f\xbf\xbf"};
    for (int i = 0; i < 20000; i++) {
        char s[128];
        size_t n = 0;
        for (int k = rand() % 12; k > 0; k--) {
            const char *p = parts[rand() % (sizeof parts / sizeof *parts)];
            memcpy(s + n, p, strlen(p));
            n += strlen(p);
        }
        writes_as_jansson(json_stringn_nocheck(s, n));
    }
}

/* A random value up to depth levels deep. */
static json_t *random_value(int depth) {
    static const char *keys[] = {"a",  "ab",  "b",  "A",    "_",    "photos", "lat",
                                 "la", "z.y", "键", "k\"q", "k\\b", "k\n",    ""};
    switch (depth > 0 ? rand() % 7 : rand() % 5) {
    case 0:
        return json_integer(rand() - RAND_MAX / 2);
    case 1:
        return json_real((rand() % 2000000) / 7.0 - 1000);
    case 2:
        return json_string(rand() % 2 ? "PHOTO_KIND_NEAR" : "沁河 \"x\"\t");
    case 3:
        return rand() % 2 ? json_true() : json_null();
    case 4:
        return json_string("");
    case 5: {
        json_t *a = json_array();
        for (int n = rand() % 4; n > 0; n--)
            json_array_append_new(a, random_value(depth - 1));
        return a;
    }
    default: {
        json_t *o = json_object();
        for (int n = rand() % 6; n > 0; n--)
            json_object_set_new(o, keys[rand() % (sizeof keys / sizeof *keys)],
                                random_value(depth - 1));
        return o;
    }
    }
}

static void nested_values(void **state) {
    (void)state;
    writes_as_jansson(json_array());
    writes_as_jansson(json_object());
    writes_as_jansson(json_pack("{s:{s:[i,f,s]},s:[]}", "b", "ab", 1, 35.5, "x", "a"));
    for (int i = 0; i < 5000; i++)
        writes_as_jansson(random_value(5));
    /* Deeper than the writer goes itself: jansson writes it. */
    json_t *deep = json_integer(7);
    for (int i = 0; i < 100; i++)
        deep = i % 2 ? json_pack("[o]", deep) : json_pack("{s:o}", "k", deep);
    writes_as_jansson(deep);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reals),
        cmocka_unit_test(integers_and_literals),
        cmocka_unit_test(strings),
        cmocka_unit_test(nested_values),
    };
    return cmocka_run_group_tests_name("sync/record_text", tests, NULL, NULL);
}
