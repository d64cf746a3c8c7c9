/* A record as the engine sees it: a JSON object in the protobuf JSON mapping with proto field
 * names, addressed field by field through leaf paths ("landmark", "responsible_party.phone").
 * Nested messages are walked into; repeated fields and scalars are leaves. */
#ifndef SYNC_RECORD_H
#define SYNC_RECORD_H

#include <jansson.h>
#include <protobuf-c/protobuf-c.h>

/* Calls fn for every leaf of obj with its dotted path. Stops and returns fn's first non-zero. */
typedef int (*record_leaf_fn)(const char *path, json_t *value, void *ctx);
int record_each_leaf(json_t *obj, record_leaf_fn fn, void *ctx);

/* The value at path, borrowed, or NULL when absent. */
json_t *record_get(json_t *doc, const char *path);

/* The enum field at path (stored by name) as its number of d; 0 when absent or unknown. */
int record_enum(json_t *doc, const char *path, const ProtobufCEnumDescriptor *d);

/* Sets path to value (a new reference is taken), creating parent objects; NULL or JSON null
 * removes the leaf and any parent left empty. Returns 0, or -1 on allocation failure. */
int record_set(json_t *doc, const char *path, json_t *value);

/* A copy of value whose objects and arrays are new and whose strings, numbers, booleans and
 * nulls are shared with it (a new reference), or NULL when out of memory: what json_deep_copy
 * gives for any change made through objects and arrays, which is the only way the project
 * changes a value (it never sets a scalar in place: json_string_set and its kind are not used),
 * at a fraction of the allocations. */
json_t *record_copy(json_t *value);

/* Compact JSON text of value ("null" for NULL), malloc'd; the caller frees. */
char *record_text(const json_t *value);

/* 1 when a and b hold the same value (NULL and JSON null are the same). */
int record_equal(const json_t *a, const json_t *b);

/* How a record's document is stored (observations.doc, outfalls.doc) and how a version's fields
 * are written in its history row (record_history.fields: keys sorted). */
#define RECORD_DOC_FLAGS (JSON_COMPACT | JSON_REAL_PRECISION(17))
#define RECORD_FIELDS_FLAGS (JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(17))

/* The members of a JSON object, each as the compact text json_dumps gives it ('"key":value'),
 * made ahead (on any thread, from values that are not changed after) so that a later dump of an
 * object holding the same members joins them instead of writing them again (record_dump). */
typedef struct record_piece {
    size_t key_at;  /* the member's key (NUL-terminated) from key_at in the pieces' text */
    json_t *value;  /* a reference */
    size_t at, len; /* its text: len bytes from at in the pieces' text */
} record_piece;
typedef struct record_pieces {
    record_piece *at;
    size_t n;
    char *text; /* each piece's key and text, one after the other (malloc'd) */
    size_t flags;
} record_pieces;

/* Makes *out, the pieces of obj's members dumped with flags (JSON_COMPACT, with or without
 * JSON_SORT_KEYS and a JSON_REAL_PRECISION), in the order json_dumps writes them. like (may be
 * NULL) holds pieces made before: a member of obj under the same key whose value is the same
 * scalar (the same reference) takes its text from there instead of being written again. Returns
 * 0, or -1 when out of memory (*out then empty). */
int record_pieces_make(json_t *obj, size_t flags, const record_pieces *like, record_pieces *out);

/* Frees what p holds and empties it. */
void record_pieces_free(record_pieces *p);

/* json_dumps(obj, flags) byte for byte, flags as for record_pieces_make: a member of obj whose
 * key and value equal a piece of p (made with the same flags; may be NULL) is copied from it,
 * the others are written. malloc'd; NULL when out of memory. */
char *record_dump(json_t *obj, size_t flags, const record_pieces *p);

#endif
