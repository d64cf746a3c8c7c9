/* Bounds on what decoding a body costs, checked before anything is decoded, and the checks of a
 * message protobuf-c unpacked that its unpacker does not make (common/pbjson.h).
 *
 * Both scans walk the bytes once, allocate nothing and stop at the first bound crossed. The
 * JSON scan is a loop with a depth counter, so it runs on any stack, however deep the text
 * nests; the protobuf scan recurses once per nested message and refuses to go deeper than
 * bounds->max_depth. The memory estimates are upper bounds of what jansson (one allocation per
 * value), protobuf-c's unpacker (a record per field seen, an array per repeated field, a copy
 * per string, bytes or unknown field) and the JSON mapping allocate on 64-bit glibc; they need
 * not be exact, only never much lower than the truth. */
#include "common/pbjson_impl.h"

/* What one allocation costs beyond the bytes asked for (glibc's header and rounding). */
#define PBJSON_ALLOC_OVERHEAD 16
/* JSON, jansson's tree: a value (json_t and its subtype) with its slot in an array or its key's
 * pair in an object; an array's table; an object's hash table. Strings are copied once. */
#define PBJSON_TREE_VALUE_COST 64
#define PBJSON_TREE_ARRAY_COST 128
#define PBJSON_TREE_OBJECT_COST 256
/* JSON, then the message the mapping fills: a value stored in its field (strings copied again),
 * and a message per object. */
#define PBJSON_MAPPED_VALUE_COST 32
#define PBJSON_MAPPED_OBJECT_COST 512
/* protobuf: the record protobuf-c's unpacker keeps for every field it reads (ScannedMember). */
#define PBJSON_WIRE_FIELD_COST 32

/* Adds cost to t->bytes and checks it against b. Returns PBJSON_WITHIN or PBJSON_TOO_COSTLY. */
static int pbjson_charge(pbjson_tally *t, const pbjson_bounds *b, size_t cost) {
    t->bytes = cost > SIZE_MAX - t->bytes ? SIZE_MAX : t->bytes + cost;
    return t->bytes > b->max_bytes ? PBJSON_TOO_COSTLY : PBJSON_WITHIN;
}

/* Counts one more value in t and checks it against b. */
static int pbjson_count_value(pbjson_tally *t, const pbjson_bounds *b) {
    return ++t->values > b->max_values ? PBJSON_TOO_MANY_VALUES : PBJSON_WITHIN;
}

/* 1 for a byte that continues a JSON number or literal (true, false, null) once it started. */
static int pbjson_scalar_byte(unsigned char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '.' ||
           c == '+' || c == '-';
}

/* See pbjson.h. A string's end is found as jansson finds it (a quote not escaped by a
 * backslash), so brackets inside strings never count as nesting; up to the first byte jansson
 * would refuse, the two read the same structure. */
int pbjson_json_scan(const char *text, size_t len, int flags, const pbjson_bounds *b,
                     pbjson_tally *t) {
    size_t arrays = 0, objects = 0, string_bytes = 0;
    int depth = 0, rc = PBJSON_WITHIN;
    memset(t, 0, sizeof *t);
    for (size_t i = 0; i < len && rc == PBJSON_WITHIN; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c == '"') {
            size_t start = i++;
            while (i < len && text[i] != '"')
                i += text[i] == '\\' ? 2 : 1;
            string_bytes += (i < len ? i : len) - start;
            rc = pbjson_count_value(t, b);
        } else if (c == '[' || c == '{') {
            if (++depth > t->depth) t->depth = depth;
            *(c == '[' ? &arrays : &objects) += 1;
            rc = depth > b->max_depth ? PBJSON_TOO_DEEP : pbjson_count_value(t, b);
        } else if (c == ']' || c == '}') {
            if (depth > 0) depth--;
        } else if (c == '-' || (c >= '0' && c <= '9') || c == 't' || c == 'f' || c == 'n') {
            while (i + 1 < len && pbjson_scalar_byte((unsigned char)text[i + 1]))
                i++;
            rc = pbjson_count_value(t, b);
        }
    }
    int mapped = (flags & PBJSON_SCAN_MAPPED) != 0;
    const size_t costs[][2] = {
        {string_bytes + PBJSON_ALLOC_OVERHEAD, mapped ? string_bytes : 0},
        {t->values * PBJSON_TREE_VALUE_COST, mapped ? t->values * PBJSON_MAPPED_VALUE_COST : 0},
        {arrays * PBJSON_TREE_ARRAY_COST, 0},
        {objects * PBJSON_TREE_OBJECT_COST, mapped ? objects * PBJSON_MAPPED_OBJECT_COST : 0},
    };
    for (size_t i = 0; i < sizeof costs / sizeof costs[0] && rc == PBJSON_WITHIN; i++) {
        rc = pbjson_charge(t, b, costs[i][0]);
        if (rc == PBJSON_WITHIN) rc = pbjson_charge(t, b, costs[i][1]);
    }
    return rc;
}

/* Reads a varint at buf[*pos..len) into *v (as protobuf-c reads one: at most 10 bytes) and moves
 * *pos past it. Returns 0, or -1 when it is cut off or too long. */
static int pbjson_wire_varint(const uint8_t *buf, size_t len, size_t *pos, uint64_t *v) {
    *v = 0;
    for (unsigned i = 0; i < 10 && *pos < len; i++) {
        uint8_t byte = buf[(*pos)++];
        *v |= (uint64_t)(byte & 0x7f) << (7 * i);
        if (!(byte & 0x80)) return 0;
    }
    return -1;
}

/* The number of elements of a packed repeated field of type type in payload[0..n), or -1 when
 * the field's type cannot be packed (strings, bytes, messages). */
static long long pbjson_packed_count(ProtobufCType type, const uint8_t *payload, size_t n) {
    switch (type) {
    case PROTOBUF_C_TYPE_FIXED32:
    case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_FLOAT:
        return (long long)(n / 4);
    case PROTOBUF_C_TYPE_FIXED64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_DOUBLE:
        return (long long)(n / 8);
    case PROTOBUF_C_TYPE_STRING:
    case PROTOBUF_C_TYPE_BYTES:
    case PROTOBUF_C_TYPE_MESSAGE:
        return -1;
    default: {
        long long count = 0; /* varints: one ends at each byte without the high bit */
        for (size_t i = 0; i < n; i++)
            count += !(payload[i] & 0x80);
        return count;
    }
    }
}

/* Walks the fields of one message of type desc in buf[0..len) at nesting level depth. */
static int pbjson_wire_message(const ProtobufCMessageDescriptor *desc, const uint8_t *buf,
                               size_t len, int depth, const pbjson_bounds *b, pbjson_tally *t) {
    if (depth > b->max_depth) return PBJSON_TOO_DEEP;
    if (depth > t->depth) t->depth = depth;
    int rc = pbjson_charge(t, b, desc->sizeof_message + PBJSON_ALLOC_OVERHEAD);
    size_t pos = 0;
    while (rc == PBJSON_WITHIN && pos < len) {
        uint64_t tag, n = 0;
        if (pbjson_wire_varint(buf, len, &pos, &tag) < 0 || (tag >> 3) == 0 || tag >> 32)
            return PBJSON_NOT_WIRE;
        unsigned wire_type = (unsigned)(tag & 7);
        const uint8_t *payload = buf + pos;
        if (wire_type == 0) {
            if (pbjson_wire_varint(buf, len, &pos, &n) < 0) return PBJSON_NOT_WIRE;
            n = 0;
        } else if (wire_type == 1 || wire_type == 5) {
            n = wire_type == 1 ? 8 : 4;
        } else if (wire_type == 2) {
            if (pbjson_wire_varint(buf, len, &pos, &n) < 0) return PBJSON_NOT_WIRE;
            payload = buf + pos;
        } else {
            return PBJSON_NOT_WIRE; /* groups: protobuf-c refuses them too */
        }
        if (n > len - pos) return PBJSON_NOT_WIRE;
        pos += n;
        if ((rc = pbjson_count_value(t, b)) != PBJSON_WITHIN) break;
        if ((rc = pbjson_charge(t, b, PBJSON_WIRE_FIELD_COST)) != PBJSON_WITHIN) break;

        const ProtobufCFieldDescriptor *f =
            protobuf_c_message_descriptor_get_field(desc, (unsigned)(tag >> 3));
        const pbjson_type_info *ti = f ? pbjson_type(f) : NULL;
        if (!f || !ti) {
            if (++t->unknown > b->max_unknown) return PBJSON_TOO_MANY_UNKNOWN;
            rc = pbjson_charge(t, b,
                               sizeof(ProtobufCMessageUnknownField) + n + PBJSON_ALLOC_OVERHEAD);
            continue;
        }
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            long long packed = wire_type == 2 ? pbjson_packed_count(f->type, payload, n) : -1;
            if (packed >= 0) { /* one value is counted already */
                t->values += packed > 0 ? (size_t)packed - 1 : 0;
                if (t->values > b->max_values) return PBJSON_TOO_MANY_VALUES;
                rc = pbjson_charge(t, b, (size_t)packed * ti->size);
                continue;
            }
            rc = pbjson_charge(t, b, ti->size); /* its slot in the field's array */
        }
        if (rc != PBJSON_WITHIN || wire_type != 2) continue;
        if (f->type == PROTOBUF_C_TYPE_MESSAGE)
            rc = pbjson_wire_message(f->descriptor, payload, n, depth + 1, b, t);
        else if (f->type == PROTOBUF_C_TYPE_STRING || f->type == PROTOBUF_C_TYPE_BYTES)
            rc = pbjson_charge(t, b, n + 1 + PBJSON_ALLOC_OVERHEAD);
    }
    return rc;
}

/* See pbjson.h. */
int pbjson_wire_scan(const ProtobufCMessageDescriptor *desc, const uint8_t *buf, size_t len,
                     const pbjson_bounds *b, pbjson_tally *t) {
    memset(t, 0, sizeof *t);
    return pbjson_wire_message(desc, buf, len, 1, b, t);
}

/* 1 when s[0..n) is valid UTF-8 (pbjson_utf8_len's rules). Runs of ASCII, most of a batch's
 * ids, hashes and codes, are passed over 8 bytes at a time. */
static int utf8_valid(const unsigned char *s, size_t n) {
    for (size_t i = 0, step; i < n; i += step) {
        uint64_t word;
        if (n - i >= sizeof word) {
            memcpy(&word, s + i, sizeof word);
            if ((word & 0x8080808080808080ull) == 0) {
                step = sizeof word;
                continue;
            }
        }
        if ((step = pbjson_utf8_len(s + i, n - i)) == 0) return 0;
    }
    return 1;
}

/* Checks one present value of field f stored at p. */
static int pbjson_check_value(const ProtobufCFieldDescriptor *f, const void *p, int depth,
                              char *err, size_t errlen);

/* Checks every present field of msg (at nesting level depth). */
static int pbjson_check_fields(const ProtobufCMessage *msg, int depth, char *err, size_t errlen) {
    const ProtobufCMessageDescriptor *d = msg->descriptor;
    if (depth > PBJSON_MAX_DEPTH) {
        snprintf(err, errlen, "messages nested deeper than %d levels", PBJSON_MAX_DEPTH);
        return -1;
    }
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        if (f->type != PROTOBUF_C_TYPE_ENUM && f->type != PROTOBUF_C_TYPE_STRING &&
            f->type != PROTOBUF_C_TYPE_MESSAGE)
            continue;
        const pbjson_type_info *ti = pbjson_type(f);
        const char *member = (const char *)msg + f->offset;
        const void *quantifier = (const char *)msg + f->quantifier_offset;
        if (!ti) continue;
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t n = *(const size_t *)quantifier;
            const char *items = *(char *const *)(const void *)member;
            for (size_t k = 0; k < n; k++)
                if (pbjson_check_value(f, items + k * ti->size, depth, err, errlen) < 0) return -1;
            continue;
        }
        if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
            if (*(const uint32_t *)quantifier != f->id) continue;
        } else if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->type == PROTOBUF_C_TYPE_ENUM) {
            if (!*(const protobuf_c_boolean *)quantifier) continue;
        }
        if (pbjson_check_value(f, member, depth, err, errlen) < 0) return -1;
    }
    return 0;
}

static int pbjson_check_value(const ProtobufCFieldDescriptor *f, const void *p, int depth,
                              char *err, size_t errlen) {
    if (f->type == PROTOBUF_C_TYPE_ENUM) {
        int v = *(const int *)p;
        const ProtobufCEnumDescriptor *ed = f->descriptor;
        if (protobuf_c_enum_descriptor_get_value(ed, v)) return 0;
        snprintf(err, errlen, "%s: unknown %s number %d", f->name, ed->short_name, v);
        return -1;
    }
    if (f->type == PROTOBUF_C_TYPE_STRING) {
        const unsigned char *s = *(const unsigned char *const *)p;
        if (s && !utf8_valid(s, strlen((const char *)s))) {
            snprintf(err, errlen, "%s: the string is not valid UTF-8", f->name);
            return -1;
        }
        return 0;
    }
    const ProtobufCMessage *sub = *(ProtobufCMessage *const *)p;
    return sub ? pbjson_check_fields(sub, depth + 1, err, errlen) : 0;
}

/* See pbjson.h. */
int pbjson_check_message(const ProtobufCMessage *msg, char *err, size_t errlen) {
    char scratch[1];
    if (!err || errlen == 0) err = scratch, errlen = sizeof scratch;
    err[0] = '\0';
    return pbjson_check_fields(msg, 1, err, errlen);
}
