/* The pbjson tests' shared descriptors and assertions: tests/lib/pbjson_probe.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/pbjson.h"
#include "outfall/v1/outfall.pb-c.h"
#include "tests/lib/pbjson_probe.h"

/* ------------------------------------------------------------ test-only message descriptors */

char probe_label_default[] = "none";

void probe_init(ProtobufCMessage *m) {
    Probe *p = (Probe *)m;
    memset(p, 0, sizeof *p);
    p->base.descriptor = &probe_descriptor;
    p->label = probe_label_default;
}

#define PROBE_FIELD(name, id, label, type, q, member, desc, def)                                   \
    {                                                                                              \
        name, id, PROTOBUF_C_LABEL_##label, PROTOBUF_C_TYPE_##type, q, offsetof(Probe, member),    \
            desc, def, 0, 0, NULL, NULL                                                            \
    }

static const ProtobufCFieldDescriptor probe_fields[] = {
    PROBE_FIELD("child", 1, OPTIONAL, MESSAGE, 0, child, &probe_descriptor, NULL),
    PROBE_FIELD("f", 2, OPTIONAL, FLOAT, offsetof(Probe, has_f), f, NULL, NULL),
    PROBE_FIELD("u64", 3, OPTIONAL, UINT64, offsetof(Probe, has_u64), u64, NULL, NULL),
    PROBE_FIELD("u32", 4, OPTIONAL, FIXED32, offsetof(Probe, has_u32), u32, NULL, NULL),
    PROBE_FIELD("nums", 5, REPEATED, SINT32, offsetof(Probe, n_nums), nums, NULL, NULL),
    PROBE_FIELD("blobs", 6, REPEATED, BYTES, offsetof(Probe, n_blobs), blobs, NULL, NULL),
    PROBE_FIELD("label", 7, OPTIONAL, STRING, 0, label, NULL, probe_label_default),
    PROBE_FIELD("photo_kinds", 8, REPEATED, ENUM, offsetof(Probe, n_kinds), kinds,
                &outfall__v1__photo_kind__descriptor, NULL),
    PROBE_FIELD("plain_count", 9, NONE, INT32, 0, plain_count, NULL, NULL),
};
static const unsigned probe_by_name[] = {5, 0, 1, 6, 4, 7, 8, 3, 2};
static const ProtobufCIntRange probe_ranges[] = {{1, 0}, {0, 9}};
const ProtobufCMessageDescriptor probe_descriptor = {PROTOBUF_C__MESSAGE_DESCRIPTOR_MAGIC,
                                                     "test.Probe",
                                                     "Probe",
                                                     "Probe",
                                                     "test",
                                                     sizeof(Probe),
                                                     9,
                                                     probe_fields,
                                                     probe_by_name,
                                                     1,
                                                     probe_ranges,
                                                     probe_init,
                                                     NULL,
                                                     NULL,
                                                     NULL};

void req_init(ProtobufCMessage *m) {
    memset(m, 0, sizeof(Req));
    m->descriptor = &req_descriptor;
}

static const ProtobufCFieldDescriptor req_fields[] = {
    {"id", 1, PROTOBUF_C_LABEL_REQUIRED, PROTOBUF_C_TYPE_INT32, 0, offsetof(Req, id), NULL, NULL, 0,
     0, NULL, NULL},
    {"name", 2, PROTOBUF_C_LABEL_REQUIRED, PROTOBUF_C_TYPE_STRING, 0, offsetof(Req, name), NULL,
     NULL, 0, 0, NULL, NULL},
};
static const unsigned req_by_name[] = {0, 1};
static const ProtobufCIntRange req_ranges[] = {{1, 0}, {0, 2}};
const ProtobufCMessageDescriptor req_descriptor = {PROTOBUF_C__MESSAGE_DESCRIPTOR_MAGIC,
                                                   "test.Req",
                                                   "Req",
                                                   "Req",
                                                   "test",
                                                   sizeof(Req),
                                                   2,
                                                   req_fields,
                                                   req_by_name,
                                                   1,
                                                   req_ranges,
                                                   req_init,
                                                   NULL,
                                                   NULL,
                                                   NULL};

/* ----------------------------------------------------------------------------------- helpers */

void assert_encodes(const ProtobufCMessage *msg, int flags, const char *want) {
    char *text = pbjson_encode(msg, flags);
    assert_non_null(text);
    if (strcmp(text, want) != 0) fail_msg("encoded %s\n      want %s", text, want);
    free(text);
}

ProtobufCMessage *decode_ok(const ProtobufCMessageDescriptor *desc, const char *text) {
    char err[256] = "";
    ProtobufCMessage *msg = NULL;
    if (pbjson_decode(desc, text, strlen(text), &msg, err, sizeof err) != 0)
        fail_msg("decoding %s failed: %s", text, err);
    assert_non_null(msg);
    return msg;
}

void assert_refused(const ProtobufCMessageDescriptor *desc, const char *text, const char *want) {
    static ProtobufCMessage sentinel;
    char err[256] = "";
    ProtobufCMessage *msg = &sentinel;
    if (pbjson_decode(desc, text, strlen(text), &msg, err, sizeof err) != -1)
        fail_msg("%s was accepted", text);
    assert_null(msg);
    if (!strstr(err, want)) fail_msg("%s: error \"%s\" lacks \"%s\"", text, err, want);
    json_t *s = json_string(err);
    assert_non_null(s);
    json_decref(s);
}

void assert_same_wire(const ProtobufCMessage *a, const ProtobufCMessage *b) {
    size_t na = protobuf_c_message_get_packed_size(a);
    size_t nb = protobuf_c_message_get_packed_size(b);
    assert_int_equal(na, nb);
    uint8_t *ba = malloc(na + 1), *bb = malloc(nb + 1);
    assert_non_null(ba);
    assert_non_null(bb);
    assert_int_equal(protobuf_c_message_pack(a, ba), na);
    assert_int_equal(protobuf_c_message_pack(b, bb), nb);
    assert_memory_equal(ba, bb, na);
    free(ba);
    free(bb);
}

void assert_roundtrips(const ProtobufCMessage *msg, int flags) {
    char err[256] = "";
    ProtobufCMessage *back = NULL, *back2 = NULL;
    char *text = pbjson_encode(msg, flags);
    assert_non_null(text);
    if (pbjson_decode(msg->descriptor, text, strlen(text), &back, err, sizeof err) != 0)
        fail_msg("decoding %s failed: %s", text, err);
    assert_same_wire(msg, back);
    char *again = pbjson_encode(back, flags);
    assert_non_null(again);
    assert_string_equal(again, text);

    json_t *tree = pbjson_to_json(msg, flags);
    assert_non_null(tree);
    if (pbjson_from_json(msg->descriptor, tree, &back2, err, sizeof err) != 0)
        fail_msg("from_json failed: %s", err);
    assert_same_wire(msg, back2);

    json_decref(tree);
    free(again);
    free(text);
    protobuf_c_message_free_unpacked(back, NULL);
    protobuf_c_message_free_unpacked(back2, NULL);
}

char *nested_probe_json(int levels) {
    size_t cap = (size_t)levels * 12 + 8, len = 0;
    char *text = malloc(cap);
    assert_non_null(text);
    text[len++] = '{';
    for (int i = 1; i < levels; i++) {
        memcpy(text + len, "\"child\":{", 9);
        len += 9;
    }
    memset(text + len, '}', (size_t)levels);
    len += (size_t)levels;
    text[len] = '\0';
    return text;
}
