/* The protobuf JSON mapping (common/pbjson.c) for every message type of the contract. An input
 * is "<type>\n<bytes>": <type> names a message (e.g. outfall.v1.SyncRequest; an unknown name picks
 * one by its bytes), <bytes> are read twice: as JSON text through pbjson_decode, and as protobuf
 * wire bytes through protobuf-c and pbjson_encode.
 *
 * Oracles besides the sanitizers: a message decoded from JSON encodes again; what pbjson_encode
 * writes, pbjson_decode reads back to the same message (same wire bytes, same JSON text). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/pbjson.h"
#include "fuzz/lib/fuzz_env.h"

/* Every message descriptor of the contract, generated from the protobuf-c header. */
static const ProtobufCMessageDescriptor *const descriptors[] = {
#include "pb_descriptors.inc"
};
enum { N_DESCRIPTORS = sizeof descriptors / sizeof descriptors[0] };

/* The message type an input's first line names. */
static const ProtobufCMessageDescriptor *pick(const uint8_t *name, size_t len) {
    unsigned sum = 0;
    for (size_t i = 0; i < N_DESCRIPTORS; i++)
        if (strlen(descriptors[i]->name) == len && memcmp(descriptors[i]->name, name, len) == 0)
            return descriptors[i];
    for (size_t i = 0; i < len; i++)
        sum = sum * 31 + name[i];
    return descriptors[sum % N_DESCRIPTORS];
}

/* 1 when every enum value in msg (nested messages included) is one its enum names. protobuf-c
 * keeps any number it reads; pbjson_encode writes an unnamed one as a number, which
 * pbjson_decode (like the proto2 JSON mapping) refuses, and the server refuses such a body
 * (http_decode). So only messages with named values must survive a round trip. */
static int enums_known(const ProtobufCMessage *msg) {
    const ProtobufCMessageDescriptor *d = msg->descriptor;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        const char *base = (const char *)msg + f->offset;
        size_t n = 1;
        const char *items = base;
        const void *quantifier = (const char *)msg + f->quantifier_offset;
        if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
            if (*(const uint32_t *)quantifier != f->id) continue; /* another member is set */
        } else if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->type == PROTOBUF_C_TYPE_ENUM) {
            if (!*(const protobuf_c_boolean *)quantifier) continue;
        }
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            n = *(const size_t *)quantifier;
            items = *(char *const *)(const void *)base;
        } else if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
            n = *(ProtobufCMessage *const *)(const void *)base ? 1 : 0;
        }
        for (size_t k = 0; k < n; k++) {
            if (f->type == PROTOBUF_C_TYPE_ENUM) {
                int v = ((const int *)(const void *)items)[k];
                if (!protobuf_c_enum_descriptor_get_value(f->descriptor, v)) return 0;
            } else if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
                const ProtobufCMessage *sub = ((ProtobufCMessage *const *)(const void *)items)[k];
                if (sub && !enums_known(sub)) return 0;
            }
        }
    }
    return 1;
}

/* msg's wire bytes, malloc'd, into *len. */
static uint8_t *pack(const ProtobufCMessage *msg, size_t *len) {
    *len = protobuf_c_message_get_packed_size(msg);
    uint8_t *buf = malloc(*len ? *len : 1);
    if (!buf) abort();
    protobuf_c_message_pack(msg, buf);
    return buf;
}

/* Checks that text (what pbjson_encode wrote for msg) decodes and encodes to text again, and
 * with same_wire, that the copy packs to msg's wire bytes (not so for a message unpacked from the
 * wire: its unknown fields have no JSON). */
static void check_round_trip(const ProtobufCMessageDescriptor *d, const ProtobufCMessage *msg,
                             const char *text, int same_wire) {
    ProtobufCMessage *again = NULL;
    char why[256];
    if (pbjson_decode(d, text, strlen(text), &again, why, sizeof why) < 0)
        fz_fail("%s: pbjson_decode refuses what pbjson_encode wrote (%s): %s", d->name, why, text);
    char *text2 = pbjson_encode(again, 0);
    if (!text2) fz_fail("%s: the decoded copy does not encode: %s", d->name, text);
    if (strcmp(text, text2) != 0)
        fz_fail("%s: JSON changed in a round trip:\n  %s\n  %s", d->name, text, text2);
    if (same_wire) {
        size_t n1, n2;
        uint8_t *b1 = pack(msg, &n1), *b2 = pack(again, &n2);
        if (n1 != n2 || memcmp(b1, b2, n1) != 0)
            fz_fail("%s: wire bytes changed in a JSON round trip: %s", d->name, text);
        free(b1);
        free(b2);
    }
    free(text2);
    protobuf_c_message_free_unpacked(again, NULL);
}

static int one_input(const uint8_t *data, size_t size) {
    const uint8_t *nl = memchr(data, '\n', size);
    size_t name_len = nl ? (size_t)(nl - data) : 0;
    const ProtobufCMessageDescriptor *d = pick(data, name_len);
    const uint8_t *body = nl ? nl + 1 : data;
    size_t len = size - (size_t)(body - data);

    /* As JSON text. */
    ProtobufCMessage *m = NULL;
    char why[256];
    if (pbjson_decode(d, (const char *)body, len, &m, why, sizeof why) == 0) {
        if (!m) fz_fail("%s: pbjson_decode returned 0 without a message", d->name);
        char *text = pbjson_encode(m, 0);
        if (!text) fz_fail("%s: a message decoded from JSON does not encode", d->name);
        check_round_trip(d, m, text, 1);
        free(text);
        protobuf_c_message_free_unpacked(m, NULL);
    } else if (m) {
        fz_fail("%s: pbjson_decode failed but left a message", d->name);
    }

    /* As wire bytes: what the server would answer for a message it holds. */
    m = protobuf_c_message_unpack(d, NULL, len, body);
    if (m) {
        char *text = pbjson_encode(m, 0);
        json_t *j = pbjson_to_json(m, PBJSON_PROTO_NAMES);
        if (!text != !j) fz_fail("%s: pbjson_encode and pbjson_to_json disagree", d->name);
        if (text && enums_known(m)) check_round_trip(d, m, text, 0);
        free(text);
        json_decref(j);
        protobuf_c_message_free_unpacked(m, NULL);
    }
    return 0;
}

/* Each input runs on a thread with a CivetWeb worker's stack (fz_on_worker_stack). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    return fz_on_worker_stack(one_input, data, size);
}
