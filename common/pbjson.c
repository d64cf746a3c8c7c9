/* The standard protobuf JSON mapping, walked generically over protobuf-c 1.4.1 descriptors.
 *
 * Encoding builds a jansson tree field by field in declaration order; pbjson_encode then prints it
 * with its own small printer so that doubles come out as the shortest text that reads back
 * exactly. Decoding fills the message in place, always leaving it in a state
 * protobuf_c_message_free_unpacked() can free (each pointer, count, has_ flag and oneof case is
 * stored the moment its storage exists), so any failure frees everything with one call. */
#include "common/pbjson_impl.h"

const pbjson_type_info pbjson_types[] = {
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
const pbjson_int_range pbjson_int_ranges[] = {
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

const char pbjson_b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* ---------------------------------------------------------------- helpers shared by both ways */

/* Returns the type facts for a field; an out-of-table type (a corrupt descriptor) gives NULL. */
const pbjson_type_info *pbjson_type(const ProtobufCFieldDescriptor *f) {
    if ((unsigned)f->type >= sizeof pbjson_types / sizeof pbjson_types[0]) return NULL;
    if (pbjson_types[f->type].size == 0) return NULL;
    return &pbjson_types[f->type];
}

/* Returns the length (1..4) of the valid UTF-8 sequence at s[0..n), or 0 when it is not one
 * (overlong forms, surrogates and code points past U+10FFFF are not). */
size_t pbjson_utf8_len(const unsigned char *s, size_t n) {
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
size_t pbjson_clip(char *dst, size_t cap, const char *s, size_t n) {
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
char pbjson_camel_next(const char **p) {
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
int pbjson_camel_is(const char *name, const char *key, size_t len) {
    size_t k = 0;
    for (char c = pbjson_camel_next(&name); c != '\0'; c = pbjson_camel_next(&name)) {
        if (k >= len || key[k] != c) return 0;
        k++;
    }
    return k == len;
}

/* Replaces the locale's decimal point in the number text buf with '.', in place. */
void pbjson_number_from_locale(char *buf) {
    const char *point = localeconv()->decimal_point;
    size_t plen = point ? strlen(point) : 0;
    if (plen == 0 || (plen == 1 && point[0] == '.')) return;
    char *at = strstr(buf, point);
    if (!at) return;
    *at = '.';
    memmove(at + 1, at + plen, strlen(at + plen) + 1);
}
