/* The standard protobuf JSON mapping, walked generically over protobuf-c 1.4.1 descriptors.
 *
 * Encoding builds a jansson tree field by field in declaration order; pbjson_encode then prints it
 * with its own small printer so that doubles come out as the shortest text that reads back
 * exactly. Decoding fills the message in place, always leaving it in a state
 * protobuf_c_message_free_unpacked() can free (each pointer, count, has_ flag and oneof case is
 * stored the moment its storage exists), so any failure frees everything with one call. */
#include "common/pbjson.h"

#include <float.h>
#include <inttypes.h>
#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* At most this many levels of messages, the top one included, in either direction. */
#define PBJSON_MAX_DEPTH 32
/* Room for a field path in an error message, and for one JSON key quoted in it. */
#define PBJSON_PATH_MAX 256
#define PBJSON_KEY_SHOWN 64

/* How each protobuf-c type is stored in a message and named in error messages. */
typedef enum {
    PBJSON_K_INT,    /* signed integer of 32 or 64 bits */
    PBJSON_K_UINT,   /* unsigned integer of 32 or 64 bits */
    PBJSON_K_FLOAT,
    PBJSON_K_DOUBLE,
    PBJSON_K_BOOL,
    PBJSON_K_ENUM,
    PBJSON_K_STRING,
    PBJSON_K_BYTES,
    PBJSON_K_MESSAGE,
} pbjson_kind;

typedef struct {
    pbjson_kind kind;
    size_t size;      /* bytes of one value (one element of a repeated field) */
    const char *name; /* the proto type name */
} pbjson_type_info;

static const pbjson_type_info pbjson_types[] = {
    [PROTOBUF_C_TYPE_INT32] = {PBJSON_K_INT, sizeof(int32_t), "int32"},
    [PROTOBUF_C_TYPE_SINT32] = {PBJSON_K_INT, sizeof(int32_t), "sint32"},
    [PROTOBUF_C_TYPE_SFIXED32] = {PBJSON_K_INT, sizeof(int32_t), "sfixed32"},
    [PROTOBUF_C_TYPE_INT64] = {PBJSON_K_INT, sizeof(int64_t), "int64"},
    [PROTOBUF_C_TYPE_SINT64] = {PBJSON_K_INT, sizeof(int64_t), "sint64"},
    [PROTOBUF_C_TYPE_SFIXED64] = {PBJSON_K_INT, sizeof(int64_t), "sfixed64"},
    [PROTOBUF_C_TYPE_UINT32] = {PBJSON_K_UINT, sizeof(uint32_t), "uint32"},
    [PROTOBUF_C_TYPE_FIXED32] = {PBJSON_K_UINT, sizeof(uint32_t), "fixed32"},
    [PROTOBUF_C_TYPE_UINT64] = {PBJSON_K_UINT, sizeof(uint64_t), "uint64"},
    [PROTOBUF_C_TYPE_FIXED64] = {PBJSON_K_UINT, sizeof(uint64_t), "fixed64"},
    [PROTOBUF_C_TYPE_FLOAT] = {PBJSON_K_FLOAT, sizeof(float), "float"},
    [PROTOBUF_C_TYPE_DOUBLE] = {PBJSON_K_DOUBLE, sizeof(double), "double"},
    [PROTOBUF_C_TYPE_BOOL] = {PBJSON_K_BOOL, sizeof(protobuf_c_boolean), "bool"},
    [PROTOBUF_C_TYPE_ENUM] = {PBJSON_K_ENUM, sizeof(int), "enum"},
    [PROTOBUF_C_TYPE_STRING] = {PBJSON_K_STRING, sizeof(char *), "string"},
    [PROTOBUF_C_TYPE_BYTES] = {PBJSON_K_BYTES, sizeof(ProtobufCBinaryData), "bytes"},
    [PROTOBUF_C_TYPE_MESSAGE] = {PBJSON_K_MESSAGE, sizeof(ProtobufCMessage *), "message"},
};

/* The inclusive range of each integer type, for decoding. */
static const struct {
    int64_t min;
    uint64_t max;
} pbjson_int_ranges[] = {
    [PROTOBUF_C_TYPE_INT32] = {INT32_MIN, INT32_MAX},
    [PROTOBUF_C_TYPE_SINT32] = {INT32_MIN, INT32_MAX},
    [PROTOBUF_C_TYPE_SFIXED32] = {INT32_MIN, INT32_MAX},
    [PROTOBUF_C_TYPE_INT64] = {INT64_MIN, INT64_MAX},
    [PROTOBUF_C_TYPE_SINT64] = {INT64_MIN, INT64_MAX},
    [PROTOBUF_C_TYPE_SFIXED64] = {INT64_MIN, INT64_MAX},
    [PROTOBUF_C_TYPE_UINT32] = {0, UINT32_MAX},
    [PROTOBUF_C_TYPE_FIXED32] = {0, UINT32_MAX},
    [PROTOBUF_C_TYPE_UINT64] = {0, UINT64_MAX},
    [PROTOBUF_C_TYPE_FIXED64] = {0, UINT64_MAX},
    [PROTOBUF_C_TYPE_ENUM] = {INT32_MIN, INT32_MAX},
};

static const char pbjson_b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* ---------------------------------------------------------------- helpers shared by both ways */

/* Returns the type facts for a field; an out-of-table type (a corrupt descriptor) gives NULL. */
static const pbjson_type_info *pbjson_type(const ProtobufCFieldDescriptor *f) {
    if ((unsigned)f->type >= sizeof pbjson_types / sizeof pbjson_types[0]) return NULL;
    if (pbjson_types[f->type].size == 0) return NULL;
    return &pbjson_types[f->type];
}

/* Returns the length (1..4) of the valid UTF-8 sequence at s[0..n), or 0 when it is not one
 * (overlong forms, surrogates and code points past U+10FFFF are not). */
static size_t pbjson_utf8_len(const unsigned char *s, size_t n) {
    if (n == 0) return 0;
    if (s[0] < 0x80) return 1;
    size_t len;
    uint32_t cp;
    if (s[0] >= 0xc2 && s[0] <= 0xdf) {
        len = 2;
        cp = s[0] & 0x1fu;
    } else if (s[0] >= 0xe0 && s[0] <= 0xef) {
        len = 3;
        cp = s[0] & 0x0fu;
    } else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
        len = 4;
        cp = s[0] & 0x07u;
    } else {
        return 0;
    }
    if (n < len) return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80) return 0;
        cp = (cp << 6) | (s[i] & 0x3fu);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff))) return 0;
    if (cp >= 0xd800 && cp <= 0xdfff) return 0;
    return len;
}

/* Copies at most cap - 1 bytes of s[0..n) into dst and NUL-terminates, cutting only between
 * whole UTF-8 characters; invalid bytes and NULs become '?'. Returns the bytes written. */
static size_t pbjson_clip(char *dst, size_t cap, const char *s, size_t n) {
    size_t in = 0, out = 0;
    if (cap == 0) return 0;
    while (in < n) {
        size_t len = pbjson_utf8_len((const unsigned char *)s + in, n - in);
        if (len == 0 || s[in] == '\0') {
            if (out + 1 >= cap) break;
            dst[out++] = '?';
            in++;
            continue;
        }
        if (out + len >= cap) break;
        memcpy(dst + out, s + in, len);
        out += len;
        in += len;
    }
    dst[out] = '\0';
    return out;
}

/* Returns the next character of a proto field name's lowerCamelCase JSON name, advancing *p, or
 * '\0' at its end: each '_' is dropped and the letter after it upper-cased (protoc's rule). */
static char pbjson_camel_next(const char **p) {
    int up = 0;
    while (**p == '_') {
        up = 1;
        (*p)++;
    }
    if (**p == '\0') return '\0';
    char c = *(*p)++;
    return (up && c >= 'a' && c <= 'z') ? (char)(c - 'a' + 'A') : c;
}

/* 1 when key[0..len) is the lowerCamelCase JSON name of the proto field name, else 0. */
static int pbjson_camel_is(const char *name, const char *key, size_t len) {
    size_t k = 0;
    for (char c = pbjson_camel_next(&name); c != '\0'; c = pbjson_camel_next(&name)) {
        if (k >= len || key[k] != c) return 0;
        k++;
    }
    return k == len;
}

/* Replaces the locale's decimal point in the number text buf with '.', in place. */
static void pbjson_number_from_locale(char *buf) {
    const char *point = localeconv()->decimal_point;
    size_t plen = point ? strlen(point) : 0;
    if (plen == 0 || (plen == 1 && point[0] == '.')) return;
    char *at = strstr(buf, point);
    if (!at) return;
    *at = '.';
    memmove(at + 1, at + plen, strlen(at + plen) + 1);
}

/* --------------------------------------------------------------------------------- encoding */

/* Writes into out[cap] the shortest "%g" text of d that reads back as exactly d (or, when single,
 * as exactly the float d), in the current locale. */
static void pbjson_shortest(double d, int single, char *out, size_t cap) {
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(out, cap, "%.*g", prec, d);
        if (single ? strtof(out, NULL) == (float)d : strtod(out, NULL) == d) break;
    }
    /* "%g" turns 100 into "1e+02": spell integers below 1e17 out in full (same value). */
    const char *e = strchr(out, 'e');
    long exp10 = e ? strtol(e + 1, NULL, 10) : -1;
    if (!single && exp10 >= 0 && exp10 < 17) {
        char full[40];
        snprintf(full, sizeof full, "%.*g", (int)exp10 + 1, d);
        if (strlen(full) < cap) strcpy(out, full);
    }
}

/* Writes d into out[cap] as the shortest JSON-style number text that reads back exactly. */
static const char *pbjson_format_double(double d, char *out, size_t cap) {
    pbjson_shortest(d, 0, out, cap);
    pbjson_number_from_locale(out);
    return out;
}

/* Returns a new JSON value for a float or double: a real, or "NaN", "Infinity", "-Infinity". */
static json_t *pbjson_real_to_json(double d) {
    if (isnan(d)) return json_string("NaN");
    if (isinf(d)) return json_string(d > 0 ? "Infinity" : "-Infinity");
    return json_real(d);
}

/* Returns a new JSON value for a float: the double nearest its shortest decimal form, so that
 * 0.1f prints as 0.1 rather than 0.10000000149011612 and still reads back as the same float. */
static json_t *pbjson_float_to_json(float f) {
    char buf[40];
    if (!isfinite(f)) return pbjson_real_to_json(f);
    pbjson_shortest(f, 1, buf, sizeof buf);
    double d = strtod(buf, NULL);
    if ((float)d != f) d = f;
    return json_real(d);
}

/* Returns a new JSON string holding bytes[0..n) as standard padded base64, or NULL. */
static json_t *pbjson_bytes_to_json(const uint8_t *bytes, size_t n) {
    if (n > (SIZE_MAX / 4 - 1) * 3) return NULL;
    size_t len = (n + 2) / 3 * 4;
    char *text = malloc(len + 1);
    if (!text) return NULL;
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)bytes[i] << 16;
        if (i + 1 < n) v |= (uint32_t)bytes[i + 1] << 8;
        if (i + 2 < n) v |= bytes[i + 2];
        text[o++] = pbjson_b64_alphabet[(v >> 18) & 63];
        text[o++] = pbjson_b64_alphabet[(v >> 12) & 63];
        text[o++] = i + 1 < n ? pbjson_b64_alphabet[(v >> 6) & 63] : '=';
        text[o++] = i + 2 < n ? pbjson_b64_alphabet[v & 63] : '=';
    }
    json_t *j = json_stringn_nocheck(text, len);
    free(text);
    return j;
}

static json_t *pbjson_message_to_json(const ProtobufCMessage *msg, int flags, int depth);

/* Returns a new JSON value for one value of field f stored at p (a singular field, or one element
 * of a repeated one), or NULL on allocation failure, invalid UTF-8 or too deep nesting. */
static json_t *pbjson_value_to_json(const ProtobufCFieldDescriptor *f, const void *p, int flags,
                                    int depth) {
    char buf[32];
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
        return json_integer(*(const int32_t *)p);
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        return json_integer(*(const uint32_t *)p);
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        snprintf(buf, sizeof buf, "%" PRId64, *(const int64_t *)p);
        return json_string(buf);
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        snprintf(buf, sizeof buf, "%" PRIu64, *(const uint64_t *)p);
        return json_string(buf);
    case PROTOBUF_C_TYPE_FLOAT:
        return pbjson_float_to_json(*(const float *)p);
    case PROTOBUF_C_TYPE_DOUBLE:
        return pbjson_real_to_json(*(const double *)p);
    case PROTOBUF_C_TYPE_BOOL:
        return json_boolean(*(const protobuf_c_boolean *)p);
    case PROTOBUF_C_TYPE_ENUM: {
        int v = *(const int *)p;
        const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value(f->descriptor, v);
        return ev ? json_string(ev->name) : json_integer(v);
    }
    case PROTOBUF_C_TYPE_STRING: {
        const char *s = *(char *const *)p;
        return json_string(s ? s : "");
    }
    case PROTOBUF_C_TYPE_BYTES: {
        const ProtobufCBinaryData *bd = p;
        return pbjson_bytes_to_json(bd->data, bd->data ? bd->len : 0);
    }
    case PROTOBUF_C_TYPE_MESSAGE: {
        const ProtobufCMessage *sub = *(ProtobufCMessage *const *)p;
        return sub ? pbjson_message_to_json(sub, flags, depth + 1) : json_object();
    }
    }
    return NULL;
}

/* 1 when field f of msg is present and so is written, by the rules of protobuf-c's packer. */
static int pbjson_present(const ProtobufCMessage *msg, const ProtobufCFieldDescriptor *f) {
    const char *base = (const char *)msg;
    const void *member = base + f->offset;
    const void *ptr = NULL;
    if (f->type == PROTOBUF_C_TYPE_STRING || f->type == PROTOBUF_C_TYPE_MESSAGE)
        ptr = *(const void *const *)member;

    if (f->label == PROTOBUF_C_LABEL_REPEATED)
        return *(const size_t *)(base + f->quantifier_offset) > 0 &&
               *(const void *const *)member != NULL;
    if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
        if (*(const uint32_t *)(base + f->quantifier_offset) != f->id) return 0;
        return (f->type != PROTOBUF_C_TYPE_STRING && f->type != PROTOBUF_C_TYPE_MESSAGE) ||
               ptr != NULL;
    }
    if (f->label == PROTOBUF_C_LABEL_REQUIRED) return f->type != PROTOBUF_C_TYPE_MESSAGE || ptr;
    if (f->label == PROTOBUF_C_LABEL_OPTIONAL) {
        if (f->type == PROTOBUF_C_TYPE_STRING || f->type == PROTOBUF_C_TYPE_MESSAGE)
            return ptr != NULL && ptr != f->default_value;
        return *(const protobuf_c_boolean *)(base + f->quantifier_offset) != 0;
    }
    /* PROTOBUF_C_LABEL_NONE (proto3 without presence): written when not the zero value. */
    switch (f->type) {
    case PROTOBUF_C_TYPE_STRING:
        return ptr != NULL && *(const char *)ptr != '\0';
    case PROTOBUF_C_TYPE_MESSAGE:
        return ptr != NULL;
    case PROTOBUF_C_TYPE_BYTES:
        return ((const ProtobufCBinaryData *)member)->len > 0;
    case PROTOBUF_C_TYPE_FLOAT:
        return *(const float *)member != 0;
    case PROTOBUF_C_TYPE_DOUBLE:
        return *(const double *)member != 0;
    default: {
        const pbjson_type_info *t = pbjson_type(f);
        static const unsigned char zero[sizeof(uint64_t)];
        return t && t->size <= sizeof zero && memcmp(member, zero, t->size) != 0;
    }
    }
}

/* Returns a new JSON array of repeated field f of msg, or NULL. */
static json_t *pbjson_repeated_to_json(const ProtobufCMessage *msg,
                                       const ProtobufCFieldDescriptor *f, int flags, int depth) {
    const pbjson_type_info *t = pbjson_type(f);
    const char *base = (const char *)msg;
    size_t n = *(const size_t *)(base + f->quantifier_offset);
    const char *arr = *(const char *const *)(base + f->offset);
    json_t *array = json_array();
    if (!array || !t) goto fail;
    for (size_t i = 0; i < n; i++) {
        json_t *v = pbjson_value_to_json(f, arr + i * t->size, flags, depth);
        if (!v || json_array_append_new(array, v) != 0) goto fail;
    }
    return array;
fail:
    json_decref(array);
    return NULL;
}

/* Returns a new JSON object for msg at nesting level depth (the top message is 1), or NULL on
 * allocation failure, a string that is not valid UTF-8, or nesting deeper than PBJSON_MAX_DEPTH. */
static json_t *pbjson_message_to_json(const ProtobufCMessage *msg, int flags, int depth) {
    const ProtobufCMessageDescriptor *desc = msg->descriptor;
    json_t *obj = NULL, *val = NULL;
    char name_buf[128];
    char *name_heap = NULL;

    if (!desc || depth > PBJSON_MAX_DEPTH) goto fail;
    obj = json_object();
    if (!obj) goto fail;
    for (unsigned i = 0; i < desc->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &desc->fields[i];
        if (!pbjson_present(msg, f)) continue;
        if (f->label == PROTOBUF_C_LABEL_REPEATED)
            val = pbjson_repeated_to_json(msg, f, flags, depth);
        else
            val = pbjson_value_to_json(f, (const char *)msg + f->offset, flags, depth);
        if (!val) goto fail;

        const char *name = f->name;
        if (!(flags & PBJSON_PROTO_NAMES)) {
            size_t len = strlen(f->name);
            char *out = name_buf;
            if (len >= sizeof name_buf) {
                out = name_heap = malloc(len + 1);
                if (!out) goto fail;
            }
            const char *p = f->name;
            size_t k = 0;
            for (char c = pbjson_camel_next(&p); c != '\0'; c = pbjson_camel_next(&p)) out[k++] = c;
            out[k] = '\0';
            name = out;
        }
        int rc = json_object_set_new(obj, name, val); /* steals val, even on failure */
        val = NULL;
        free(name_heap);
        name_heap = NULL;
        if (rc != 0) goto fail;
    }
    return obj;
fail:
    free(name_heap);
    json_decref(val);
    json_decref(obj);
    return NULL;
}

/* See pbjson.h: a new JSON object for msg (caller decrefs), or NULL. */
json_t *pbjson_to_json(const ProtobufCMessage *msg, int flags) {
    if (!msg) return NULL;
    return pbjson_message_to_json(msg, flags, 1);
}

/* ----------------------------------------------------------------------------- JSON printer */

/* A growing text buffer; failed is set, and the text dropped, on the first allocation failure. */
typedef struct {
    char *data;
    size_t len, cap;
    int failed;
} pbjson_out;

/* Appends s[0..n) to o. */
static void pbjson_out_put(pbjson_out *o, const char *s, size_t n) {
    if (o->failed || n == 0) return;
    if (n > SIZE_MAX / 2 - o->len - 1) goto fail;
    if (o->len + n + 1 > o->cap) {
        size_t cap = o->cap ? o->cap : 256;
        while (cap < o->len + n + 1) cap *= 2;
        char *grown = realloc(o->data, cap);
        if (!grown) goto fail;
        o->data = grown;
        o->cap = cap;
    }
    memcpy(o->data + o->len, s, n);
    o->len += n;
    o->data[o->len] = '\0';
    return;
fail:
    o->failed = 1;
}

/* Appends s[0..n) (valid UTF-8, as every jansson string is) as a quoted JSON string; non-ASCII
 * characters are kept as they are, only '"', '\\' and control characters are escaped. */
static void pbjson_out_string(pbjson_out *o, const char *s, size_t n) {
    static const char named[0x20] = {['\b'] = 'b', ['\f'] = 'f', ['\n'] = 'n', ['\r'] = 'r',
                                     ['\t'] = 't'};
    size_t run = 0;
    pbjson_out_put(o, "\"", 1);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        char esc[8];
        if (c == '"' || c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)c;
            esc[2] = '\0';
        } else if (c < 0x20 && named[c]) {
            esc[0] = '\\';
            esc[1] = named[c];
            esc[2] = '\0';
        } else if (c < 0x20) {
            snprintf(esc, sizeof esc, "\\u%04x", c);
        } else {
            continue;
        }
        pbjson_out_put(o, s + run, i - run);
        pbjson_out_put(o, esc, strlen(esc));
        run = i + 1;
    }
    pbjson_out_put(o, s + run, n - run);
    pbjson_out_put(o, "\"", 1);
}

/* Appends v as compact JSON, reals as the shortest text that reads back exactly. */
static void pbjson_out_value(pbjson_out *o, json_t *v) {
    char buf[64];
    const char *key;
    size_t key_len, i;
    json_t *item;
    int first = 1;

    switch (json_typeof(v)) {
    case JSON_OBJECT:
        pbjson_out_put(o, "{", 1);
        json_object_keylen_foreach(v, key, key_len, item) {
            if (!first) pbjson_out_put(o, ",", 1);
            first = 0;
            pbjson_out_string(o, key, key_len);
            pbjson_out_put(o, ":", 1);
            pbjson_out_value(o, item);
        }
        pbjson_out_put(o, "}", 1);
        return;
    case JSON_ARRAY:
        pbjson_out_put(o, "[", 1);
        json_array_foreach(v, i, item) {
            if (i > 0) pbjson_out_put(o, ",", 1);
            pbjson_out_value(o, item);
        }
        pbjson_out_put(o, "]", 1);
        return;
    case JSON_STRING:
        pbjson_out_string(o, json_string_value(v), json_string_length(v));
        return;
    case JSON_INTEGER:
        snprintf(buf, sizeof buf, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        break;
    case JSON_REAL:
        pbjson_shortest(json_real_value(v), 0, buf, sizeof buf - 2);
        pbjson_number_from_locale(buf);
        if (!strpbrk(buf, ".e")) strcat(buf, ".0"); /* stays a real: keeps -0.0 negative */
        break;
    case JSON_TRUE:
        snprintf(buf, sizeof buf, "true");
        break;
    case JSON_FALSE:
        snprintf(buf, sizeof buf, "false");
        break;
    case JSON_NULL:
        snprintf(buf, sizeof buf, "null");
        break;
    }
    pbjson_out_put(o, buf, strlen(buf));
}

/* See pbjson.h: msg as compact JSON text the caller frees, or NULL. Prints with pbjson_out_value
 * rather than json_dumps so that doubles get their shortest exact form. */
char *pbjson_encode(const ProtobufCMessage *msg, int flags) {
    pbjson_out o = {0};
    json_t *json = pbjson_to_json(msg, flags);
    if (!json) return NULL;
    pbjson_out_value(&o, json);
    json_decref(json);
    if (o.failed) {
        free(o.data);
        return NULL;
    }
    return o.data;
}

/* --------------------------------------------------------------------------------- decoding */

/* Decoding state: the path of the value being read, for error messages. */
typedef struct {
    char path[PBJSON_PATH_MAX];
    size_t path_len;
    char *err;
    size_t errlen;
} pbjson_dec;

/* Writes "path: message" (or the bare message at the top level) into the caller's err buffer,
 * always as valid UTF-8. Returns -1, so failures read `return pbjson_fail(...)`. */
static int pbjson_fail(pbjson_dec *d, const char *fmt, ...) {
    char msg[PBJSON_PATH_MAX + 128], full[sizeof msg + PBJSON_PATH_MAX + 8];
    va_list ap;
    if (!d->err || d->errlen == 0) return -1;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (d->path_len)
        snprintf(full, sizeof full, "%s: %s", d->path, msg);
    else
        snprintf(full, sizeof full, "%s", msg);
    pbjson_clip(d->err, d->errlen, full, strlen(full));
    return -1;
}

/* Appends text to the path, as much as fits. Returns the previous length, for pbjson_path_pop. */
static size_t pbjson_path_push(pbjson_dec *d, const char *sep, const char *text, size_t n) {
    size_t saved = d->path_len;
    size_t room = sizeof d->path - d->path_len;
    d->path_len += pbjson_clip(d->path + d->path_len, room, sep, strlen(sep));
    room = sizeof d->path - d->path_len;
    if (room > PBJSON_KEY_SHOWN + 1) room = PBJSON_KEY_SHOWN + 1;
    d->path_len += pbjson_clip(d->path + d->path_len, room, text, n);
    return saved;
}

/* Restores the path to the length pbjson_path_push returned. */
static void pbjson_path_pop(pbjson_dec *d, size_t saved) {
    d->path_len = saved;
    d->path[saved] = '\0';
}

/* Returns how a JSON value is described in "expected X, got Y" messages. */
static const char *pbjson_json_kind(const json_t *v) {
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
    case JSON_REAL:
        return "a number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    case JSON_NULL:
        return "null";
    }
    return "an unknown value";
}

/* Parses s[0..n) as a decimal integer ("-"? digits, nothing else) into sign and magnitude.
 * Returns 0, -1 when it is not such a string, -2 when the magnitude exceeds 64 bits. */
static int pbjson_parse_decimal(const char *s, size_t n, int *neg, uint64_t *mag) {
    size_t i = 0;
    *neg = 0;
    *mag = 0;
    if (i < n && s[i] == '-') {
        *neg = 1;
        i++;
    }
    if (i == n) return -1;
    for (; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        unsigned digit = (unsigned)(s[i] - '0');
        if (*mag > (UINT64_MAX - digit) / 10) return -2;
        *mag = *mag * 10 + digit;
    }
    return 0;
}

/* Reads an integer for field type `type` from a JSON integer, an integral JSON real, or (unless
 * numbers_only) a decimal string, checking the type's range. Stores it as sign + magnitude. */
static int pbjson_int_from_json(pbjson_dec *d, json_t *v, ProtobufCType type, int numbers_only,
                                int *neg, uint64_t *mag) {
    const char *tname = pbjson_types[type].name;
    if (json_is_integer(v)) {
        json_int_t x = json_integer_value(v);
        *neg = x < 0;
        *mag = x < 0 ? (uint64_t)0 - (uint64_t)x : (uint64_t)x;
    } else if (json_is_real(v)) {
        double r = json_real_value(v);
        char shown[40];
        pbjson_format_double(r, shown, sizeof shown);
        if (r != floor(r)) return pbjson_fail(d, "expected an integer, got %s", shown);
        if (r < -9223372036854775808.0 || r >= 18446744073709551616.0)
            return pbjson_fail(d, "%s is out of range for %s", shown, tname);
        *neg = r < 0;
        *mag = r < 0 ? (uint64_t)(-r) : (uint64_t)r;
    } else if (json_is_string(v) && !numbers_only) {
        const char *s = json_string_value(v);
        size_t n = json_string_length(v);
        char shown[PBJSON_KEY_SHOWN + 1];
        int rc = pbjson_parse_decimal(s, n, neg, mag);
        pbjson_clip(shown, sizeof shown, s, n);
        if (rc == -1) return pbjson_fail(d, "expected an integer, got \"%s\"", shown);
        if (rc == -2) return pbjson_fail(d, "%s is out of range for %s", shown, tname);
    } else {
        return pbjson_fail(d, "expected an integer, got %s", pbjson_json_kind(v));
    }
    if (*mag == 0) *neg = 0;
    int ok = *neg ? *mag <= (uint64_t)0 - (uint64_t)pbjson_int_ranges[type].min
                  : *mag <= pbjson_int_ranges[type].max;
    if (!ok) {
        char shown[32];
        snprintf(shown, sizeof shown, "%s%" PRIu64, *neg ? "-" : "", *mag);
        return pbjson_fail(d, "%s is out of range for %s", shown, tname);
    }
    return 0;
}

/* 1 when s[0..n) is a JSON number: -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)? */
static int pbjson_is_json_number(const char *s, size_t n) {
    size_t i = 0, start;
    if (i < n && s[i] == '-') i++;
    if (i < n && s[i] == '0') {
        i++;
    } else {
        for (start = i; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
        }
        if (i == start) return 0;
    }
    if (i < n && s[i] == '.') {
        for (start = ++i; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
        }
        if (i == start) return 0;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-')) i++;
        for (start = i; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
        }
        if (i == start) return 0;
    }
    return i == n;
}

/* Reads a double from a JSON number, "NaN", "Infinity", "-Infinity" or a numeric string. */
static int pbjson_double_from_json(pbjson_dec *d, json_t *v, double *out) {
    if (json_is_integer(v)) {
        *out = (double)json_integer_value(v);
        return 0;
    }
    if (json_is_real(v)) {
        *out = json_real_value(v);
        return 0;
    }
    if (!json_is_string(v)) return pbjson_fail(d, "expected a number, got %s", pbjson_json_kind(v));

    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    char shown[PBJSON_KEY_SHOWN + 1];
    if (strcmp(s, "NaN") == 0 && n == 3) {
        *out = NAN;
        return 0;
    }
    if (strcmp(s, "Infinity") == 0 && n == 8) {
        *out = INFINITY;
        return 0;
    }
    if (strcmp(s, "-Infinity") == 0 && n == 9) {
        *out = -INFINITY;
        return 0;
    }
    pbjson_clip(shown, sizeof shown, s, n);
    if (!pbjson_is_json_number(s, n)) return pbjson_fail(d, "expected a number, got \"%s\"", shown);
    /* strtod reads the locale's decimal point: put it in place of '.'. */
    const char *point = localeconv()->decimal_point;
    size_t plen = point ? strlen(point) : 0;
    const char *dot = memchr(s, '.', n);
    char *buf = malloc(n + plen + 1);
    if (!buf) return pbjson_fail(d, "out of memory");
    if (dot && plen > 0) {
        size_t head = (size_t)(dot - s);
        memcpy(buf, s, head);
        memcpy(buf + head, point, plen);
        memcpy(buf + head + plen, dot + 1, n - head - 1);
        buf[n - 1 + plen] = '\0';
    } else {
        memcpy(buf, s, n);
        buf[n] = '\0';
    }
    *out = strtod(buf, NULL);
    free(buf);
    if (isinf(*out)) return pbjson_fail(d, "%s is out of range for double", shown);
    return 0;
}

/* Decodes standard or URL-safe base64, padded or not, from s[0..n) into a malloc'd buffer
 * (NULL when empty). Returns 0, or -1 when it is not base64, -2 on allocation failure. */
static int pbjson_base64_decode(const char *s, size_t n, uint8_t **out, size_t *out_len) {
    size_t end = n, pad = 0;
    *out = NULL;
    *out_len = 0;
    while (end > 0 && s[end - 1] == '=' && pad < 2) {
        end--;
        pad++;
    }
    if (end % 4 == 1) return -1;
    if (pad && (n % 4 != 0)) return -1;
    size_t len = end / 4 * 3 + (end % 4 ? end % 4 - 1 : 0);
    if (len == 0) return end == 0 ? 0 : -1;
    uint8_t *buf = malloc(len);
    if (!buf) return -2;
    uint32_t acc = 0;
    int bits = 0;
    size_t o = 0;
    for (size_t i = 0; i < end; i++) {
        unsigned char c = (unsigned char)s[i];
        int v;
        if (c >= 'A' && c <= 'Z')
            v = c - 'A';
        else if (c >= 'a' && c <= 'z')
            v = c - 'a' + 26;
        else if (c >= '0' && c <= '9')
            v = c - '0' + 52;
        else if (c == '+' || c == '-')
            v = 62;
        else if (c == '/' || c == '_')
            v = 63;
        else {
            free(buf);
            return -1;
        }
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            buf[o++] = (uint8_t)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    *out = buf;
    *out_len = o;
    return 0;
}

/* Where a decoded value goes and what records its presence once it is stored: the element count
 * of a repeated field (count != NULL), or the has_ flag / oneof case of a singular field. */
typedef struct {
    ProtobufCMessage *owner;
    size_t *count;
    size_t index;
} pbjson_slot;

/* Records that the value for f described by s has been stored. */
static void pbjson_slot_commit(const pbjson_slot *s, const ProtobufCFieldDescriptor *f) {
    char *base = (char *)s->owner;
    if (s->count) {
        *s->count = s->index + 1;
    } else if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
        *(uint32_t *)(base + f->quantifier_offset) = f->id;
    } else if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->type != PROTOBUF_C_TYPE_STRING &&
               f->type != PROTOBUF_C_TYPE_MESSAGE) {
        *(protobuf_c_boolean *)(base + f->quantifier_offset) = 1;
    }
}

static int pbjson_message_from_json(pbjson_dec *d, ProtobufCMessage *msg, json_t *obj, int depth);

/* Reads one value of field f (a singular field or one element of a repeated one) from v into
 * dst, then commits the slot. The message stays freeable with free_unpacked at every step. */
static int pbjson_value_from_json(pbjson_dec *d, const ProtobufCFieldDescriptor *f, json_t *v,
                                  void *dst, const pbjson_slot *slot, int depth) {
    const pbjson_type_info *t = pbjson_type(f);
    int neg;
    uint64_t mag;
    double r;

    if (!t) return pbjson_fail(d, "unsupported field type %d", (int)f->type);
    switch (t->kind) {
    case PBJSON_K_INT:
        if (pbjson_int_from_json(d, v, f->type, 0, &neg, &mag) != 0) return -1;
        if (t->size == sizeof(int32_t)) {
            int32_t x = neg ? (int32_t)(-(int64_t)mag) : (int32_t)mag;
            memcpy(dst, &x, sizeof x);
        } else {
            int64_t x = neg ? (mag == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)mag)
                            : (int64_t)mag;
            memcpy(dst, &x, sizeof x);
        }
        break;
    case PBJSON_K_UINT:
        if (pbjson_int_from_json(d, v, f->type, 0, &neg, &mag) != 0) return -1;
        if (t->size == sizeof(uint32_t)) {
            uint32_t x = (uint32_t)mag;
            memcpy(dst, &x, sizeof x);
        } else {
            memcpy(dst, &mag, sizeof mag);
        }
        break;
    case PBJSON_K_FLOAT: {
        /* Values up to FLT_MAX plus half an ulp still round to FLT_MAX. */
        const double limit = (double)FLT_MAX + ldexp(1.0, 103);
        if (pbjson_double_from_json(d, v, &r) != 0) return -1;
        char shown[40];
        if (isfinite(r) && fabs(r) >= limit)
            return pbjson_fail(d, "%s is out of range for float",
                               pbjson_format_double(r, shown, sizeof shown));
        float x = (float)r;
        memcpy(dst, &x, sizeof x);
        break;
    }
    case PBJSON_K_DOUBLE:
        if (pbjson_double_from_json(d, v, &r) != 0) return -1;
        memcpy(dst, &r, sizeof r);
        break;
    case PBJSON_K_BOOL: {
        if (!json_is_boolean(v))
            return pbjson_fail(d, "expected true or false, got %s", pbjson_json_kind(v));
        protobuf_c_boolean x = json_is_true(v);
        memcpy(dst, &x, sizeof x);
        break;
    }
    case PBJSON_K_ENUM: {
        const ProtobufCEnumDescriptor *ed = f->descriptor;
        const ProtobufCEnumValue *ev = NULL;
        char shown[PBJSON_KEY_SHOWN + 1];
        if (json_is_string(v)) {
            const char *s = json_string_value(v);
            pbjson_clip(shown, sizeof shown, s, json_string_length(v));
            if (strlen(s) == json_string_length(v))
                ev = protobuf_c_enum_descriptor_get_value_by_name(ed, s);
            if (!ev) return pbjson_fail(d, "unknown %s value \"%s\"", ed->short_name, shown);
        } else if (json_is_number(v)) {
            if (pbjson_int_from_json(d, v, PROTOBUF_C_TYPE_ENUM, 1, &neg, &mag) != 0) return -1;
            int num = neg ? (int)(-(int64_t)mag) : (int)mag;
            ev = protobuf_c_enum_descriptor_get_value(ed, num);
            if (!ev) return pbjson_fail(d, "unknown %s number %d", ed->short_name, num);
        } else {
            return pbjson_fail(d, "expected a name or number of enum %s, got %s", ed->short_name,
                               pbjson_json_kind(v));
        }
        int x = ev->value;
        memcpy(dst, &x, sizeof x);
        break;
    }
    case PBJSON_K_STRING: {
        if (!json_is_string(v))
            return pbjson_fail(d, "expected a string, got %s", pbjson_json_kind(v));
        size_t n = json_string_length(v);
        const char *s = json_string_value(v);
        if (memchr(s, '\0', n)) return pbjson_fail(d, "string contains a NUL character");
        char *copy = malloc(n + 1);
        if (!copy) return pbjson_fail(d, "out of memory");
        memcpy(copy, s, n + 1);
        memcpy(dst, &copy, sizeof copy);
        break;
    }
    case PBJSON_K_BYTES: {
        ProtobufCBinaryData bd = {0, NULL};
        if (!json_is_string(v))
            return pbjson_fail(d, "expected base64 text, got %s", pbjson_json_kind(v));
        int rc = pbjson_base64_decode(json_string_value(v), json_string_length(v), &bd.data,
                                      &bd.len);
        if (rc == -2) return pbjson_fail(d, "out of memory");
        if (rc != 0) return pbjson_fail(d, "expected base64 text");
        memcpy(dst, &bd, sizeof bd);
        break;
    }
    case PBJSON_K_MESSAGE: {
        const ProtobufCMessageDescriptor *sd = f->descriptor;
        if (!json_is_object(v))
            return pbjson_fail(d, "expected an object, got %s", pbjson_json_kind(v));
        if (depth + 1 > PBJSON_MAX_DEPTH)
            return pbjson_fail(d, "messages nested deeper than %d levels", PBJSON_MAX_DEPTH);
        ProtobufCMessage *sub = malloc(sd->sizeof_message);
        if (!sub) return pbjson_fail(d, "out of memory");
        protobuf_c_message_init(sd, sub);
        memcpy(dst, &sub, sizeof sub);
        pbjson_slot_commit(slot, f);
        return pbjson_message_from_json(d, sub, v, depth + 1);
    }
    }
    pbjson_slot_commit(slot, f);
    return 0;
}

/* Reads repeated field f of msg from the JSON array v. */
static int pbjson_repeated_from_json(pbjson_dec *d, ProtobufCMessage *msg,
                                     const ProtobufCFieldDescriptor *f, json_t *v, int depth) {
    const pbjson_type_info *t = pbjson_type(f);
    char *base = (char *)msg;
    if (!t) return pbjson_fail(d, "unsupported field type %d", (int)f->type);
    if (!json_is_array(v)) return pbjson_fail(d, "expected an array, got %s", pbjson_json_kind(v));
    size_t n = json_array_size(v);
    if (n == 0) return 0;
    if (n > SIZE_MAX / t->size) return pbjson_fail(d, "out of memory");
    char *arr = malloc(n * t->size);
    if (!arr) return pbjson_fail(d, "out of memory");
    pbjson_slot slot = {msg, (size_t *)(base + f->quantifier_offset), 0};
    *slot.count = 0;
    memcpy(base + f->offset, &arr, sizeof arr);
    for (slot.index = 0; slot.index < n; slot.index++) {
        char idx[32];
        snprintf(idx, sizeof idx, "[%zu]", slot.index);
        size_t saved = pbjson_path_push(d, "", idx, strlen(idx));
        if (pbjson_value_from_json(d, f, json_array_get(v, slot.index), arr + slot.index * t->size,
                                   &slot, depth) != 0)
            return -1;
        pbjson_path_pop(d, saved);
    }
    return 0;
}

/* Returns the field of desc whose proto name or lowerCamelCase name is key[0..len), or NULL. */
static const ProtobufCFieldDescriptor *pbjson_field_by_key(const ProtobufCMessageDescriptor *desc,
                                                           const char *key, size_t len) {
    for (unsigned i = 0; i < desc->n_fields; i++) {
        const char *name = desc->fields[i].name;
        if ((strlen(name) == len && memcmp(name, key, len) == 0) || pbjson_camel_is(name, key, len))
            return &desc->fields[i];
    }
    return NULL;
}

/* Fills msg (freshly initialised, at nesting level depth) from the JSON object obj. On failure
 * msg holds what was read so far, still freeable with free_unpacked, and d holds the error. */
static int pbjson_message_from_json(pbjson_dec *d, ProtobufCMessage *msg, json_t *obj,
                                    int depth) {
    const ProtobufCMessageDescriptor *desc = msg->descriptor;
    unsigned char *seen = NULL; /* per field: 0 absent, 1 given as null, 2 given */
    const char *key;
    size_t key_len;
    json_t *v;
    int rc = -1;

    seen = calloc(desc->n_fields + 1, 1);
    if (!seen) {
        pbjson_fail(d, "out of memory");
        goto out;
    }
    json_object_keylen_foreach(obj, key, key_len, v) {
        const ProtobufCFieldDescriptor *f = pbjson_field_by_key(desc, key, key_len);
        char shown[PBJSON_KEY_SHOWN + 1];
        if (!f) {
            pbjson_clip(shown, sizeof shown, key, key_len);
            pbjson_fail(d, "unknown field '%s'", shown);
            goto out;
        }
        size_t i = (size_t)(f - desc->fields);
        if (seen[i]) {
            pbjson_fail(d, "field '%s' given twice", f->name);
            goto out;
        }
        seen[i] = 1;
        if (json_is_null(v)) continue;
        seen[i] = 2;

        size_t saved = pbjson_path_push(d, d->path_len ? "." : "", key, key_len);
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            if (pbjson_repeated_from_json(d, msg, f, v, depth) != 0) goto out;
        } else {
            uint32_t set_case = 0;
            if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
                set_case = *(const uint32_t *)((const char *)msg + f->quantifier_offset);
            if (set_case != 0) {
                const ProtobufCFieldDescriptor *other =
                    protobuf_c_message_descriptor_get_field(desc, set_case);
                pbjson_fail(d, "only one field of a oneof may be set, and '%s' already is",
                            other ? other->name : "another");
                goto out;
            }
            pbjson_slot slot = {msg, NULL, 0};
            if (pbjson_value_from_json(d, f, v, (char *)msg + f->offset, &slot, depth) != 0)
                goto out;
        }
        pbjson_path_pop(d, saved);
    }
    for (unsigned i = 0; i < desc->n_fields; i++) {
        if (desc->fields[i].label == PROTOBUF_C_LABEL_REQUIRED && seen[i] != 2) {
            pbjson_fail(d, "missing required field '%s'", desc->fields[i].name);
            goto out;
        }
    }
    rc = 0;
out:
    free(seen);
    return rc;
}

/* See pbjson.h: 0 and a message the caller frees with free_unpacked, or -1, *out NULL and err. */
int pbjson_from_json(const ProtobufCMessageDescriptor *desc, json_t *json, ProtobufCMessage **out,
                     char *err, size_t errlen) {
    pbjson_dec d = {.err = err, .errlen = errlen};
    ProtobufCMessage *msg = NULL;
    int rc = -1;

    if (err && errlen) err[0] = '\0';
    if (out) *out = NULL;
    if (!desc || !json || !out) {
        pbjson_fail(&d, "no message type, JSON value or result pointer given");
        goto out;
    }
    if (!json_is_object(json)) {
        pbjson_fail(&d, "expected a JSON object, got %s", pbjson_json_kind(json));
        goto out;
    }
    msg = malloc(desc->sizeof_message);
    if (!msg) {
        pbjson_fail(&d, "out of memory");
        goto out;
    }
    protobuf_c_message_init(desc, msg);
    if (pbjson_message_from_json(&d, msg, json, 1) != 0) goto out;
    *out = msg;
    msg = NULL;
    rc = 0;
out:
    if (msg) protobuf_c_message_free_unpacked(msg, NULL);
    return rc;
}

/* See pbjson.h: as pbjson_from_json, from text[0..len); the parser refuses duplicate keys. */
int pbjson_decode(const ProtobufCMessageDescriptor *desc, const char *text, size_t len,
                  ProtobufCMessage **out, char *err, size_t errlen) {
    pbjson_dec d = {.err = err, .errlen = errlen};
    json_error_t jerr;
    json_t *json = NULL;
    int rc = -1;

    if (err && errlen) err[0] = '\0';
    if (out) *out = NULL;
    if (!text) {
        pbjson_fail(&d, "no JSON text given");
        goto out;
    }
    json = json_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
    if (!json) {
        pbjson_fail(&d, "invalid JSON at line %d, column %d: %s", jerr.line, jerr.column,
                    jerr.text);
        goto out;
    }
    rc = pbjson_from_json(desc, json, out, err, errlen);
out:
    json_decref(json);
    return rc;
}
