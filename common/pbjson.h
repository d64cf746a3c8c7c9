/* The standard protobuf JSON mapping, done generically from protobuf-c's descriptors: one schema,
 * two encodings, no hand-written JSON per message.
 *
 * Encoding: lowerCamelCase names (or the proto names with PBJSON_PROTO_NAMES); enums by name;
 * int64/uint64/fixed64/sint64 as JSON strings; bytes as standard base64; floats/doubles as numbers,
 * with "NaN", "Infinity", "-Infinity" as strings; proto2 presence respected (a field is written
 * when its has_ flag is set, its pointer is non-NULL, or its repeated count is non-zero; a oneof
 * when its case is set).
 * Decoding accepts both lowerCamelCase and proto names, enums by name or number, 64-bit integers as
 * strings or numbers, null as "absent"; it refuses unknown fields, wrong types, out-of-range numbers
 * and a JSON value that is not an object, with a message naming the field path. */
#ifndef COMMON_PBJSON_H
#define COMMON_PBJSON_H

#include <jansson.h>
#include <protobuf-c/protobuf-c.h>
#include <stddef.h>

enum { PBJSON_PROTO_NAMES = 1 };

/* Returns a new JSON object for msg (the caller json_decref()s it), or NULL on allocation failure,
 * on a string field that is not valid UTF-8 (protobuf-c does not check it when unpacking), or on
 * messages nested more than 32 deep. */
json_t *pbjson_to_json(const ProtobufCMessage *msg, int flags);

/* Returns msg as compact JSON text, malloc'd and NUL-terminated (the caller frees), or NULL as
 * pbjson_to_json. Doubles are written as the shortest text that reads back exactly. */
char *pbjson_encode(const ProtobufCMessage *msg, int flags);

/* Builds a new message of type desc from a JSON object. On success returns 0 and stores in *out a
 * message the caller frees with protobuf_c_message_free_unpacked(*out, NULL). On failure returns -1,
 * leaves *out NULL and writes a message for people (naming the field path) into err[errlen]. */
int pbjson_from_json(const ProtobufCMessageDescriptor *desc, json_t *json, ProtobufCMessage **out,
                     char *err, size_t errlen);

/* Like pbjson_from_json, from JSON text of len bytes (need not be NUL-terminated). */
int pbjson_decode(const ProtobufCMessageDescriptor *desc, const char *text, size_t len,
                  ProtobufCMessage **out, char *err, size_t errlen);

#endif
