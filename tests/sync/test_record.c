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

/* record_dump joins pieces made of one object into the dump of another: whatever the two hold
 * (the same members, values changed in place or in type, members gone, added or reordered,
 * nested objects, arrays, escapes, keys that sort close), the text is json_dumps's. */
static void dump_from_pieces_is_json_dumps_byte_for_byte(void **state) {
    (void)state;
    static const char *const docs[] = {
        "{}",
        "{\"name\":\"沁河排口\",\"lat\":35.08912,\"lon\":112.95124,\"n\":1,\"ok\":true}",
        "{\"name\":\"沁河排口\",\"lat\":35.089120000000001,\"lon\":112.9,\"n\":1.0,\"ok\":true,"
        "\"flags\":[\"photos_pending\"],\"id\":\"x\",\"version\":1}",
        "{\"lon\":112.95124,\"lat\":35.08912,\"name\":\"q\\\"\\\\\\n\\u0001/é\",\"n\":null}",
        "{\"a\":{\"b\":1,\"a\":[{\"z\":1,\"y\":0.1}]},\"a.b\":2,\"ab\":3,\"B\":4,\"é\":5,\"\":6}",
        "{\"a\":{\"b\":1,\"a\":[{\"z\":1,\"y\":0.2}]},\"ab\":3,\"B\":\"4\",\"a.b\":2}",
        "{\"photos\":[{\"hash\":\"247c\",\"kind\":\"PHOTO_KIND_NEAR\"}],\"programme\":{\"found_"
        "on\":"
        "\"2026-12-06\"},\"name\":\"沁河排口\"}",
        "{\"a\":{\"a\":[{\"y\":0.1,\"z\":1}],\"b\":1},\"x\":-0.0}",
        "{\"a\":{\"b\":1,\"a\":[{\"z\":1,\"y\":0.1}]},\"x\":0.0}",
    };
    const size_t flag_sets[] = {JSON_COMPACT | JSON_REAL_PRECISION(17),
                                JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(17)};
    size_t n = sizeof docs / sizeof *docs;
    for (size_t f = 0; f < 2; f++)
        for (size_t a = 0; a < n; a++)
            for (size_t b = 0; b < n; b++) {
                json_t *from = json_loads(docs[a], 0, NULL), *to = json_loads(docs[b], 0, NULL);
                assert_non_null(from);
                assert_non_null(to);
                record_pieces p;
                assert_int_equal(record_pieces_make(from, flag_sets[f], NULL, &p), 0);
                char *want = json_dumps(to, flag_sets[f]), *got = record_dump(to, flag_sets[f], &p);
                assert_string_equal(got, want);
                free(got);
                /* Its own pieces, the same values shared. */
                got = record_dump(from, flag_sets[f], &p);
                free(want);
                want = json_dumps(from, flag_sets[f]);
                assert_string_equal(got, want);
                free(got);
                free(want);
                record_pieces_free(&p);
                json_decref(from);
                json_decref(to);
            }
}

/* record_copy: new objects and arrays, the same scalars; a change through the copy's objects
 * and arrays leaves the original as it was, and the copy dumps as json_deep_copy's does. */
static void copy_shares_scalars_and_copies_containers(void **state) {
    (void)state;
    json_t *doc = json_loads("{\"lat\":35.1,\"name\":\"沁河\",\"n\":3,\"ok\":true,\"no\":null,"
                             "\"photos\":[{\"hash\":\"ab\",\"kind\":\"PHOTO_KIND_NEAR\"}],"
                             "\"responsible_party\":{\"phone\":\"1\"},\"empty\":[]}",
                             0, NULL);
    assert_non_null(doc);
    char *before = json_dumps(doc, JSON_COMPACT);
    json_t *copy = record_copy(doc), *deep = json_deep_copy(doc);
    assert_non_null(copy);
    assert_true(json_equal(copy, doc));
    char *copied = json_dumps(copy, JSON_COMPACT), *deep_text = json_dumps(deep, JSON_COMPACT);
    assert_string_equal(copied, deep_text);
    assert_ptr_equal(json_object_get(copy, "lat"), json_object_get(doc, "lat"));
    assert_ptr_equal(json_object_get(copy, "name"), json_object_get(doc, "name"));
    json_t *photos = json_object_get(copy, "photos");
    assert_ptr_not_equal(photos, json_object_get(doc, "photos"));
    assert_ptr_not_equal(json_array_get(photos, 0),
                         json_array_get(json_object_get(doc, "photos"), 0));
    assert_ptr_not_equal(json_object_get(copy, "responsible_party"),
                         json_object_get(doc, "responsible_party"));
    /* Changes through the copy, as the rules make them. */
    json_object_set_new(json_array_get(photos, 0), "kind", json_string("PHOTO_KIND_FAR"));
    json_array_append_new(photos, json_object());
    json_t *phone = json_string("2");
    assert_int_equal(record_set(copy, "responsible_party.phone", phone), 0);
    json_decref(phone);
    json_object_set_new(copy, "lat", json_real(36));
    json_array_append_new(json_object_get(copy, "empty"), json_true());
    char *after = json_dumps(doc, JSON_COMPACT);
    assert_string_equal(after, before);
    free(before);
    free(after);
    free(copied);
    free(deep_text);
    json_decref(deep);
    json_decref(copy);
    json_decref(doc);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(leaves_walk_into_nested_messages_but_not_arrays),
        cmocka_unit_test(set_creates_parents_and_clearing_removes_empty_ones),
        cmocka_unit_test(equal_treats_absent_and_null_alike),
        cmocka_unit_test(dump_from_pieces_is_json_dumps_byte_for_byte),
        cmocka_unit_test(copy_shares_scalars_and_copies_containers),
    };
    return cmocka_run_group_tests_name("sync/record", tests, NULL, NULL);
}
