/* The protobuf JSON mapping, encoding: a message to a jansson tree and to text. */
#include "common/pbjson_impl.h"

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
const char *pbjson_format_double(double d, char *out, size_t cap) {
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
            for (char c = pbjson_camel_next(&p); c != '\0'; c = pbjson_camel_next(&p))
                out[k++] = c;
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
        while (cap < o->len + n + 1)
            cap *= 2;
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
    static const char named[0x20] = {
        ['\b'] = 'b', ['\f'] = 'f', ['\n'] = 'n', ['\r'] = 'r', ['\t'] = 't'};
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

/* See pbjson.h: json as compact text the caller frees, or NULL on allocation failure. */
char *pbjson_dumps(json_t *json) {
    pbjson_out o = {0};
    pbjson_out_value(&o, json);
    if (o.failed) {
        free(o.data);
        return NULL;
    }
    return o.data;
}

/* See pbjson.h: msg as compact JSON text the caller frees, or NULL. Prints with pbjson_dumps
 * rather than json_dumps so that doubles get their shortest exact form. */
char *pbjson_encode(const ProtobufCMessage *msg, int flags) {
    json_t *json = pbjson_to_json(msg, flags);
    if (!json) return NULL;
    char *text = pbjson_dumps(json);
    json_decref(json);
    return text;
}
