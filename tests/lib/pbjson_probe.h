/* Shared by the pbjson tests (tests/common/test_pbjson_*.c): two hand-written message descriptors
 * for what outfall.proto lacks (Probe: a recursive message for the depth limit, float, uint64,
 * fixed32, sint32, repeated bytes and enums, a string default, a proto3-style field without
 * presence; Req: required fields) and the assertions the tests share. */
#ifndef TESTS_LIB_PBJSON_PROBE_H
#define TESTS_LIB_PBJSON_PROBE_H

#include <protobuf-c/protobuf-c.h>
#include <stdint.h>

typedef struct Probe Probe;
struct Probe {
    ProtobufCMessage base;
    Probe *child;
    protobuf_c_boolean has_f;
    float f;
    protobuf_c_boolean has_u64;
    uint64_t u64;
    protobuf_c_boolean has_u32;
    uint32_t u32;
    size_t n_nums;
    int32_t *nums;
    size_t n_blobs;
    ProtobufCBinaryData *blobs;
    char *label;
    size_t n_kinds;
    int *kinds;
    int32_t plain_count;
};

typedef struct {
    ProtobufCMessage base;
    int32_t id;
    char *name;
} Req;

extern const ProtobufCMessageDescriptor probe_descriptor;
extern const ProtobufCMessageDescriptor req_descriptor;
extern char probe_label_default[];

/* Initialise a Probe / Req as protobuf-c's generated *_init functions do. */
void probe_init(ProtobufCMessage *m);
void req_init(ProtobufCMessage *m);

#define OUTFALL_DESC (&outfall__v1__outfall__descriptor)
#define OBS_DESC (&outfall__v1__observation__descriptor)

/* Fails unless msg encodes (with flags) to exactly want. */
void assert_encodes(const ProtobufCMessage *msg, int flags, const char *want);
/* Decodes text, failing the test (with the error) unless it succeeds. The caller frees. */
ProtobufCMessage *decode_ok(const ProtobufCMessageDescriptor *desc, const char *text);
/* Fails unless decoding text is refused with *out NULL, an error containing want, and an error
 * that is valid UTF-8. */
void assert_refused(const ProtobufCMessageDescriptor *desc, const char *text, const char *want);
/* Fails unless a and b pack to the same protobuf bytes. */
void assert_same_wire(const ProtobufCMessage *a, const ProtobufCMessage *b);
/* Encodes msg, decodes the text and the JSON tree back, and checks both copies pack to the same
 * bytes as msg and encode to the same text. */
void assert_roundtrips(const ProtobufCMessage *msg, int flags);
/* Returns a malloc'd JSON text of `levels` Probe messages nested through "child". */
char *nested_probe_json(int levels);

#endif
