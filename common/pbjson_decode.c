/* The protobuf JSON mapping, decoding: JSON into a message protobuf-c can free. */
#include "common/pbjson_impl.h"

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
            int64_t x =
                neg ? (mag == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)mag) : (int64_t)mag;
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
        int rc =
            pbjson_base64_decode(json_string_value(v), json_string_length(v), &bd.data, &bd.len);
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
static int pbjson_message_from_json(pbjson_dec *d, ProtobufCMessage *msg, json_t *obj, int depth) {
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
    const pbjson_bounds nesting = {PBJSON_MAX_NESTING, SIZE_MAX, SIZE_MAX, SIZE_MAX};
    pbjson_tally tally;
    if (pbjson_json_scan(text, len, 0, &nesting, &tally) == PBJSON_TOO_DEEP) {
        pbjson_fail(&d, "JSON nested deeper than %d levels", PBJSON_MAX_NESTING);
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
