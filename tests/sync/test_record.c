/* Records as leaf paths (tests sync/record.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sync/record.h"

static int collect(const char *path, json_t *value, void *ctx) {
    json_object_set((json_t *)ctx, path, value);
    return 0;
}

static void leaves_walk_into_nested_messages_but_not_arrays(void **state) {
    (void)state;
    json_t *doc =
        json_loads("{\"name\":\"a\",\"responsible_party\":{\"name\":\"b\",\"phone\":\"1\"},"
                   "\"flags\":[\"x\"]}",
                   0, NULL);
    json_t *leaves = json_object();
    assert_int_equal(record_each_leaf(doc, collect, leaves), 0);
    assert_int_equal(json_object_size(leaves), 4);
    assert_non_null(json_object_get(leaves, "responsible_party.phone"));
    assert_true(json_is_array(json_object_get(leaves, "flags")));
    json_decref(leaves);
    json_decref(doc);
}

static void set_creates_parents_and_clearing_removes_empty_ones(void **state) {
    (void)state;
    json_t *doc = json_object();
    json_t *v = json_string("138");
    assert_int_equal(record_set(doc, "responsible_party.phone", v), 0);
    assert_string_equal(json_string_value(record_get(doc, "responsible_party.phone")), "138");
    assert_int_equal(record_set(doc, "responsible_party.phone", NULL), 0);
    assert_null(json_object_get(doc, "responsible_party"));
    json_decref(v);
    json_decref(doc);
}

static void equal_treats_absent_and_null_alike(void **state) {
    (void)state;
    json_t *null = json_null(), *one = json_real(1.5), *one2 = json_real(1.5);
    assert_true(record_equal(NULL, null));
    assert_false(record_equal(NULL, one));
    assert_true(record_equal(one, one2));
    char *text = record_text(NULL);
    assert_string_equal(text, "null");
    free(text);
    json_decref(one);
    json_decref(one2);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(leaves_walk_into_nested_messages_but_not_arrays),
        cmocka_unit_test(set_creates_parents_and_clearing_removes_empty_ones),
        cmocka_unit_test(equal_treats_absent_and_null_alike),
    };
    return cmocka_run_group_tests_name("sync/record", tests, NULL, NULL);
}
