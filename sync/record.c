#include "sync/record.h"

#include <stdint.h>
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

json_t *record_copy(json_t *value) {
    json_t *copy = NULL;
    if (json_is_object(value)) {
        const char *key;
        json_t *v;
        copy = json_object();
        json_object_foreach(value, key, v) {
            if (copy && json_object_set_new(copy, key, record_copy(v))) {
                json_decref(copy);
                copy = NULL;
            }
        }
    } else if (json_is_array(value)) {
        size_t i;
        json_t *v;
        copy = json_array();
        json_array_foreach(value, i, v) {
            if (copy && json_array_append_new(copy, record_copy(v))) {
                json_decref(copy);
                copy = NULL;
            }
        }
    } else {
        copy = json_incref(value);
    }
    return copy;
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

/* ---- JSON text as jansson writes it, faster ----
 * jansson's json_dump_callback sets up a hash table for every call, and for every array and
 * object in it (to find cycles), and reads a string's UTF-8 one call per character: for a
 * record's members that took about 5 700 instructions each, 60 % of a batch's preparation
 * (callgrind). value_text writes the same bytes for the flags a record is written with (compact,
 * keys in order or sorted, reals with a given precision; tests/sync/test_record_text.c holds it
 * to json_dumps); any other flag, or a value nested deeper than VALUE_DEPTH (a cycle, which
 * jansson refuses), goes to jansson. */
#define VALUE_FLAGS (JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY | JSON_REAL_PRECISION(31))
#define VALUE_DEPTH 32
enum { VALUE_TOO_DEEP = -2 };

/* The length of the UTF-8 sequence at s (n bytes left) that jansson accepts (no overlong form,
 * no surrogate, nothing past U+10FFFF), or 0. */
static size_t utf8_length(const unsigned char *s, size_t n) {
    size_t len = s[0] >= 0xF0 ? 4 : s[0] >= 0xE0 ? 3 : 2;
    if (s[0] < 0xC2 || s[0] > 0xF4 || len > n) return 0;
    uint32_t cp = s[0] & (0x7F >> len);
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        cp = cp << 6 | (s[i] & 0x3F);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return len;
}

/* Appends the JSON string of s[0..n) as jansson does without JSON_ENSURE_ASCII and
 * JSON_ESCAPE_SLASH: only '"', '\\' and control characters escaped. 0 or -1 (also for text that
 * is not UTF-8, which jansson refuses). */
static int string_text(text_buf *b, const char *s, size_t n) {
    static const char hex[] = "0123456789ABCDEF";
    const unsigned char *u = (const unsigned char *)s;
    size_t from = 0, i = 0;
    int rc = buf_add("\"", 1, b);
    while (!rc && i < n) {
        if (u[i] >= 0x80) {
            size_t len = utf8_length(u + i, n - i);
            if (!len) return -1;
            i += len;
            continue;
        }
        if (u[i] >= 0x20 && u[i] != '"' && u[i] != '\\') {
            i++;
            continue;
        }
        char esc[6] = {'\\', (char)u[i], 0, 0, 0, 0};
        size_t esc_len = 2;
        switch (u[i]) {
        case '\b':
            esc[1] = 'b';
            break;
        case '\f':
            esc[1] = 'f';
            break;
        case '\n':
            esc[1] = 'n';
            break;
        case '\r':
            esc[1] = 'r';
            break;
        case '\t':
            esc[1] = 't';
            break;
        case '"':
        case '\\':
            break;
        default:
            memcpy(esc + 1, "u00", 3);
            esc[4] = hex[u[i] >> 4];
            esc[5] = hex[u[i] & 15];
            esc_len = 6;
        }
        rc = buf_add(s + from, i - from, b) || buf_add(esc, esc_len, b);
        from = ++i;
    }
    return rc || buf_add(s + from, n - from, b) || buf_add("\"", 1, b) ? -1 : 0;
}

/* Appends real v as jansson writes it with precision digits (0: 17): printf's %.*g, with ".0"
 * when that has neither a point nor an exponent, and the exponent without '+' or leading
 * zeros. */
static int real_text(text_buf *b, double v, int precision) {
    char t[64];
    int n = snprintf(t, sizeof t - 3, "%.*g", precision ? precision : 17, v);
    if (n < 0 || n >= (int)sizeof t - 3) return -1;
    char *e = memchr(t, 'e', (size_t)n);
    if (!e && !memchr(t, '.', (size_t)n)) {
        memcpy(t + n, ".0", 3);
        n += 2;
    } else if (e) {
        char *start = e + 1, *end = start + 1;
        if (*start == '-') start++;
        while (*end == '0')
            end++;
        memmove(start, end, (size_t)(t + n - end) + 1);
        n -= (int)(end - start);
    }
    return buf_add(t, (size_t)n, b);
}

static int integer_text(text_buf *b, json_int_t v) {
    char t[24], *at = t + sizeof t;
    uint64_t m = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    do {
        *--at = (char)('0' + m % 10);
        m /= 10;
    } while (m);
    if (v < 0) *--at = '-';
    return buf_add(at, (size_t)(t + sizeof t - at), b);
}

/* Appends value v as json_dump_callback writes it with flags (within VALUE_FLAGS, compact).
 * 0, -1, or VALUE_TOO_DEEP. */
static int value_text(text_buf *b, json_t *v, size_t flags, int depth) {
    if (depth > VALUE_DEPTH) return VALUE_TOO_DEEP;
    switch (json_typeof(v)) {
    case JSON_NULL:
        return buf_add("null", 4, b);
    case JSON_TRUE:
        return buf_add("true", 4, b);
    case JSON_FALSE:
        return buf_add("false", 5, b);
    case JSON_INTEGER:
        return integer_text(b, json_integer_value(v));
    case JSON_REAL:
        return real_text(b, json_real_value(v), (int)((flags >> 11) & 0x1F));
    case JSON_STRING:
        return string_text(b, json_string_value(v), json_string_length(v));
    case JSON_ARRAY: {
        int rc = buf_add("[", 1, b);
        for (size_t i = 0; !rc && i < json_array_size(v); i++) {
            if (i) rc = buf_add(",", 1, b);
            if (!rc) rc = value_text(b, json_array_get(v, i), flags, depth + 1);
        }
        return rc ? rc : buf_add("]", 1, b);
    }
    case JSON_OBJECT: {
        size_t n;
        member *m = members_of(v, flags, &n);
        int rc = m ? buf_add("{", 1, b) : -1;
        for (size_t i = 0; !rc && i < n; i++) {
            if (i) rc = buf_add(",", 1, b);
            if (!rc) rc = string_text(b, m[i].key, strlen(m[i].key));
            if (!rc) rc = buf_add(":", 1, b);
            if (!rc) rc = value_text(b, m[i].value, flags, depth + 1);
        }
        free(m);
        return rc ? rc : buf_add("}", 1, b);
    }
    }
    return -1;
}

/* Appends v as json_dump_callback(v, ..., flags | JSON_ENCODE_ANY) writes it. 0 or -1. */
static int dump_value(text_buf *b, json_t *v, size_t flags) {
    size_t mark = b->len;
    int rc = VALUE_TOO_DEEP;
    if (v && (flags & JSON_COMPACT) && !(flags & ~(size_t)VALUE_FLAGS))
        rc = value_text(b, v, flags, 0);
    if (rc == VALUE_TOO_DEEP) {
        b->len = mark;
        rc = json_dump_callback(v, buf_add, b, flags | JSON_ENCODE_ANY);
    }
    return rc || b->failed ? -1 : 0;
}

/* v's text as json_dumps(v, flags | JSON_ENCODE_ANY) writes it (malloc'd), or NULL. */
static char *text_of(json_t *v, size_t flags) {
    text_buf b = {0};
    if (dump_value(&b, v, flags)) {
        free(b.at);
        return NULL;
    }
    return b.at;
}

char *record_text(const json_t *value) {
    if (!value) return strdup("null");
    return text_of((json_t *)value, JSON_COMPACT | JSON_REAL_PRECISION(17));
}

/* Appends '"key":value' as json_dumps writes the member with flags. 0 or -1. */
static int member_text(text_buf *b, const char *key, json_t *value, size_t flags) {
    int rc = plain_key(key)
                 ? buf_add("\"", 1, b) || buf_add(key, strlen(key), b) || buf_add("\"", 1, b)
                 : string_text(b, key, strlen(key));
    if (!rc) rc = buf_add(":", 1, b);
    if (!rc) rc = dump_value(b, value, flags);
    return rc || b->failed ? -1 : 0;
}

/* like's piece of member key whose value is v itself (the same reference) when v is a scalar,
 * whose member text does not depend on JSON_SORT_KEYS; or NULL. Looked for from *from on, which
 * moves past it. */
static const record_piece *same_scalar(const record_pieces *like, size_t flags, const char *key,
                                       json_t *v, size_t *from) {
    if (!like || !like->text || json_is_object(v) || json_is_array(v) ||
        (like->flags | JSON_SORT_KEYS) != (flags | JSON_SORT_KEYS))
        return NULL;
    for (size_t k = 0; k < like->n; k++) {
        size_t i = (*from + k) % like->n;
        if (like->at[i].value != v || strcmp(like->text + like->at[i].key_at, key) != 0) continue;
        *from = i + 1;
        return &like->at[i];
    }
    return NULL;
}

int record_pieces_make(json_t *obj, size_t flags, const record_pieces *like, record_pieces *out) {
    memset(out, 0, sizeof *out);
    size_t n, like_from = 0;
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
        const record_piece *same =
            rc ? NULL : same_scalar(like, flags, m[i].key, m[i].value, &like_from);
        if (same)
            rc = buf_add(like->text + same->at, same->len, &b);
        else if (!rc)
            rc = member_text(&b, m[i].key, m[i].value, flags);
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
    if (!json_is_object(obj)) return json_dumps(obj, flags);
    if (!p || !p->text || p->flags != flags) return text_of(obj, flags);
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
