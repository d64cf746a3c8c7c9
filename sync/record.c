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

/* One member of an object being dumped. */
typedef struct member {
    const char *key;
    json_t *value;
} member;

static int member_order(const void *a, const void *b) {
    return strcmp(((const member *)a)->key, ((const member *)b)->key);
}

/* The members of obj in the order json_dumps writes them with flags (malloc'd, *n of them; an
 * empty object gives a non-NULL array), or NULL when out of memory. */
static member *members_of(json_t *obj, size_t flags, size_t *n) {
    *n = json_object_size(obj);
    member *m = malloc((*n ? *n : 1) * sizeof *m);
    if (!m) return NULL;
    size_t i = 0;
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v) {
        m[i].key = key;
        m[i++].value = v;
    }
    /* jansson sorts keys by their bytes, shorter first on a tie: strcmp's order for keys
     * without a NUL, which no field name holds. */
    if (flags & JSON_SORT_KEYS) qsort(m, *n, sizeof *m, member_order);
    return m;
}

/* A growing text. */
typedef struct text_buf {
    char *at;
    size_t len, cap;
    int failed;
} text_buf;

/* Appends n bytes of data; a json_dump_callback_t. 0, or -1 when out of memory. */
static int buf_add(const char *data, size_t n, void *arg) {
    text_buf *b = arg;
    if (b->failed) return -1;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (b->len + n + 1 > cap)
            cap *= 2;
        char *grown = realloc(b->at, cap);
        if (!grown) {
            b->failed = 1;
            return -1;
        }
        b->at = grown;
        b->cap = cap;
    }
    memcpy(b->at + b->len, data, n);
    b->len += n;
    b->at[b->len] = '\0';
    return 0;
}

/* 1 when key needs no escaping in JSON text: letters, digits, '_', '.' and '-' only (every field
 * name and leaf path). */
static int plain_key(const char *key) {
    for (const unsigned char *c = (const unsigned char *)key; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
              *c == '_' || *c == '.' || *c == '-'))
            return 0;
    return 1;
}

/* Appends '"key":value' as json_dumps writes the member with flags. 0 or -1. */
static int member_text(text_buf *b, const char *key, json_t *value, size_t flags) {
    int rc;
    if (plain_key(key)) {
        rc = buf_add("\"", 1, b) || buf_add(key, strlen(key), b) || buf_add("\"", 1, b);
    } else {
        json_t *k = json_string(key);
        rc = k ? json_dump_callback(k, buf_add, b, flags | JSON_ENCODE_ANY) : -1;
        json_decref(k);
    }
    if (!rc) rc = buf_add(":", 1, b);
    if (!rc) rc = json_dump_callback(value, buf_add, b, flags | JSON_ENCODE_ANY);
    return rc || b->failed ? -1 : 0;
}

int record_pieces_make(json_t *obj, size_t flags, record_pieces *out) {
    memset(out, 0, sizeof *out);
    size_t n;
    member *m = members_of(obj, flags, &n);
    out->at = m ? calloc(n ? n : 1, sizeof *out->at) : NULL;
    out->flags = flags;
    text_buf b = {0};
    int rc = out->at ? 0 : -1;
    for (size_t i = 0; !rc && i < n; i++) {
        /* The key with its NUL, then the member's text: the object itself need not be kept. */
        size_t key_at = b.len;
        rc = buf_add(m[i].key, strlen(m[i].key) + 1, &b);
        size_t from = b.len;
        if (!rc) rc = member_text(&b, m[i].key, m[i].value, flags);
        out->at[i] = (record_piece){key_at, json_incref(m[i].value), from, b.len - from};
        out->n = i + 1;
    }
    out->text = b.at;
    free(m);
    if (rc) record_pieces_free(out);
    return rc;
}

void record_pieces_free(record_pieces *p) {
    for (size_t i = 0; i < p->n; i++)
        json_decref(p->at[i].value);
    free(p->at);
    free(p->text);
    memset(p, 0, sizeof *p);
}

/* 1 when a and b dump to the same text whatever the flags: json_equal, and beyond it the same
 * sign of a zero and the same order of every object's members. */
static int identical(json_t *a, json_t *b) {
    if (a == b) return 1;
    if (json_typeof(a) != json_typeof(b)) return 0;
    switch (json_typeof(a)) {
    case JSON_REAL: {
        double x = json_real_value(a), y = json_real_value(b);
        return memcmp(&x, &y, sizeof x) == 0;
    }
    case JSON_ARRAY:
        if (json_array_size(a) != json_array_size(b)) return 0;
        for (size_t i = 0; i < json_array_size(a); i++)
            if (!identical(json_array_get(a, i), json_array_get(b, i))) return 0;
        return 1;
    case JSON_OBJECT: {
        if (json_object_size(a) != json_object_size(b)) return 0;
        void *i = json_object_iter(a), *j = json_object_iter(b);
        for (; i && j; i = json_object_iter_next(a, i), j = json_object_iter_next(b, j))
            if (strcmp(json_object_iter_key(i), json_object_iter_key(j)) != 0 ||
                !identical(json_object_iter_value(i), json_object_iter_value(j)))
                return 0;
        return !i && !j;
    }
    default:
        return json_equal(a, b);
    }
}

/* The piece of p for member m, or NULL: looked for from *from on (pieces and members mostly come
 * in the same order), which moves past it. */
static const record_piece *piece_for(const record_pieces *p, const member *m, size_t *from) {
    for (size_t k = 0; p && k < p->n; k++) {
        size_t i = (*from + k) % p->n;
        if (strcmp(p->text + p->at[i].key_at, m->key) != 0) continue;
        if (!identical(p->at[i].value, m->value)) return NULL;
        *from = i + 1;
        return &p->at[i];
    }
    return NULL;
}

char *record_dump(json_t *obj, size_t flags, const record_pieces *p) {
    if (!json_is_object(obj) || !p || !p->text || p->flags != flags) return json_dumps(obj, flags);
    size_t n, from = 0;
    member *m = members_of(obj, flags, &n);
    text_buf b = {0};
    int rc = m ? buf_add("{", 1, &b) : -1;
    for (size_t i = 0; !rc && i < n; i++) {
        const record_piece *piece = piece_for(p, &m[i], &from);
        if (i) rc = buf_add(",", 1, &b);
        if (!rc)
            rc = piece ? buf_add(p->text + piece->at, piece->len, &b)
                       : member_text(&b, m[i].key, m[i].value, flags);
    }
    if (!rc) rc = buf_add("}", 1, &b);
    free(m);
    if (rc) {
        free(b.at);
        return NULL;
    }
    return b.at;
}
