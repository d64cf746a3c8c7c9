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

/* Compact JSON text of value ("null" for NULL), malloc'd; the caller frees. */
char *record_text(const json_t *value);

/* 1 when a and b hold the same value (NULL and JSON null are the same). */
int record_equal(const json_t *a, const json_t *b);

#endif
