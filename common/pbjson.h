/* The standard protobuf JSON mapping, done generically from protobuf-c's descriptors: one schema,
 * two encodings, no hand-written JSON per message.
 *
 * Encoding: lowerCamelCase names (or the proto names with PBJSON_PROTO_NAMES); enums by name;
 * int64/uint64/fixed64/sint64 as JSON strings; bytes as standard base64; floats/doubles as numbers,
 * with "NaN", "Infinity", "-Infinity" as strings; proto2 presence respected (a field is written
 * when its has_ flag is set, its pointer is non-NULL, or its repeated count is non-zero; a oneof
 * when its case is set).
 * Decoding accepts both lowerCamelCase and proto names, enums by name or number, 64-bit integers as
 * strings or numbers, null as "absent"; it refuses unknown fields, wrong types, out-of-range
 * numbers and a JSON value that is not an object, with a message naming the field path. */
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

/* Returns any JSON value as compact text, malloc'd and NUL-terminated (the caller frees), or NULL
 * on allocation failure. Reals are written as the shortest text that reads back exactly (112.96,
 * where json_dumps writes 112.95999999999999). */
char *pbjson_dumps(json_t *json);

/* Builds a new message of type desc from a JSON object. On success returns 0 and stores in *out a
 * message the caller frees with protobuf_c_message_free_unpacked(*out, NULL). On failure returns
 * -1, leaves *out NULL and writes a message for people (naming the field path) into err[errlen]. */
int pbjson_from_json(const ProtobufCMessageDescriptor *desc, json_t *json, ProtobufCMessage **out,
                     char *err, size_t errlen);

/* Like pbjson_from_json, from JSON text of len bytes (need not be NUL-terminated). Text nested
 * deeper than PBJSON_MAX_NESTING is refused before the parser sees it (jansson's parser
 * recurses once per level: 1000 levels overflow a 100 KiB thread stack). */
int pbjson_decode(const ProtobufCMessageDescriptor *desc, const char *text, size_t len,
                  ProtobufCMessage **out, char *err, size_t errlen);

/* ---- bounds checked before decoding (pbjson_bounds.c) ---- */

/* The deepest nesting any caller accepts: JSON arrays and objects open at once, or protobuf
 * messages one inside another (the top one counts). The contract's deepest body (a sync batch's
 * change's outfall's programme's plan's responsible party) nests 7 in JSON, 6 in protobuf; a
 * GeoJSON MultiPolygon collection 8. */
#define PBJSON_MAX_NESTING 32

/* What a body may cost to decode. */
typedef struct pbjson_bounds {
    int max_depth;      /* nesting, as PBJSON_MAX_NESTING counts it */
    size_t max_values;  /* JSON values (keys included), or protobuf fields read (each element of
                           a repeated field, packed ones too) */
    size_t max_unknown; /* protobuf fields the message type does not name */
    size_t max_bytes;   /* the estimated memory decoding allocates */
} pbjson_bounds;

/* What a scan counted (up to where it stopped). */
typedef struct pbjson_tally {
    int depth;
    size_t values;
    size_t unknown;
    size_t bytes; /* estimated memory decoding allocates: an upper bound, not exact */
} pbjson_tally;

/* Results of the scans: PBJSON_WITHIN, or which bound was crossed first. */
enum {
    PBJSON_WITHIN = 0,
    PBJSON_TOO_DEEP = -1,
    PBJSON_TOO_MANY_VALUES = -2,
    PBJSON_TOO_MANY_UNKNOWN = -3,
    PBJSON_TOO_COSTLY = -4,
    PBJSON_NOT_WIRE = -5, /* not protobuf wire format at all (cut off, a group, field 0) */
};

/* pbjson_json_scan's flags: the text will become a message through the JSON mapping (its
 * memory is counted besides jansson's tree). */
enum { PBJSON_SCAN_MAPPED = 1 };

/* Counts JSON text[0..len) against b into *t without allocating or recursing: nesting, values
 * and what jansson (and with PBJSON_SCAN_MAPPED the JSON mapping) would allocate for it. Does not
 * validate the text (the parser does); text that is not JSON is counted as far as it reads like
 * JSON. */
int pbjson_json_scan(const char *text, size_t len, int flags, const pbjson_bounds *b,
                     pbjson_tally *t);

/* Walks protobuf wire bytes buf[0..len) as a message of type desc against b into *t without
 * allocating: nesting of known message fields, fields read, unknown fields, and what
 * protobuf_c_message_unpack would allocate. Returns a bound crossed, PBJSON_NOT_WIRE, or
 * PBJSON_WITHIN (unpack may still refuse the bytes: wrong wire types, missing required fields). */
int pbjson_wire_scan(const ProtobufCMessageDescriptor *desc, const uint8_t *buf, size_t len,
                     const pbjson_bounds *b, pbjson_tally *t);

/* Checks what protobuf-c's unpacker does not, walking msg with its descriptor: every present
 * string is valid UTF-8 and every present enum value is one its enum names (the JSON mapping
 * takes neither other). Returns 0, or -1 with a message for people naming the field in
 * err[errlen]. */
int pbjson_check_message(const ProtobufCMessage *msg, char *err, size_t errlen);

#endif
