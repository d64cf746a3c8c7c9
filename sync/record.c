#include "sync/record.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PATH_MAX_LEN 256

static int walk(json_t *obj, char *path, size_t len, record_leaf_fn fn, void *ctx) {
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v) {
        size_t n = strlen(key);
        if (len + n + 2 > PATH_MAX_LEN) continue; /* pbjson limits depth; cannot happen */
        size_t at = len;
        if (len) path[at++] = '.';
        memcpy(path + at, key, n + 1);
        int rc = json_is_object(v) ? walk(v, path, at + n, fn, ctx) : fn(path, v, ctx);
        path[len] = '\0';
        if (rc) return rc;
    }
    return 0;
}

int record_each_leaf(json_t *obj, record_leaf_fn fn, void *ctx) {
    char path[PATH_MAX_LEN] = "";
    return walk(obj, path, 0, fn, ctx);
}

json_t *record_get(json_t *doc, const char *path) {
    char key[PATH_MAX_LEN];
    const char *dot;
    while (doc && (dot = strchr(path, '.'))) {
        size_t n = (size_t)(dot - path);
        if (n >= sizeof key) return NULL;
        memcpy(key, path, n);
        key[n] = '\0';
        doc = json_object_get(doc, key);
        path = dot + 1;
    }
    return doc ? json_object_get(doc, path) : NULL;
}

int record_enum(json_t *doc, const char *path, const ProtobufCEnumDescriptor *d) {
    const char *name = json_string_value(record_get(doc, path));
    const ProtobufCEnumValue *v =
        name ? protobuf_c_enum_descriptor_get_value_by_name(d, name) : NULL;
    return v ? v->value : 0;
}

int record_set(json_t *doc, const char *path, json_t *value) {
    const char *dot = strchr(path, '.');
    if (!dot) {
        if (!value || json_is_null(value)) {
            json_object_del(doc, path);
            return 0;
        }
        return json_object_set(doc, path, value);
    }
    char key[PATH_MAX_LEN];
    size_t n = (size_t)(dot - path);
    if (n >= sizeof key) return -1;
    memcpy(key, path, n);
    key[n] = '\0';
    json_t *child = json_object_get(doc, key);
    if (!json_is_object(child)) {
        if (!value || json_is_null(value)) return 0;
        child = json_object();
        if (!child || json_object_set_new(doc, key, child) != 0) return -1;
    }
    if (record_set(child, dot + 1, value) != 0) return -1;
    if (json_object_size(child) == 0) json_object_del(doc, key);
    return 0;
}

char *record_text(const json_t *value) {
    if (!value) return strdup("null");
    return json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(17));
}

int record_equal(const json_t *a, const json_t *b) {
    int a_null = !a || json_is_null(a), b_null = !b || json_is_null(b);
    if (a_null || b_null) return a_null && b_null;
    return json_equal((json_t *)a, (json_t *)b);
}
