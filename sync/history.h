/* Field-level history: for each record, which version set which field to which value, by whom.
 * Three-way merge asks it what a field was at the phone's base version and who changed it since. */
#ifndef SYNC_HISTORY_H
#define SYNC_HISTORY_H

#include <jansson.h>

#include "sync/store.h"

/* Who made a change, for the history rows it writes. */
typedef struct history_author {
    const char *change_id;
    int64_t user_id;
    const char *device_id; /* NULL for decisions made off a phone */
    int64_t at_ms;
} history_author;

/* One field_history row as the chain hashes it. Strings borrowed; value (JSON text) and
 * device_id are NULL when absent. */
typedef struct history_row {
    const char *kind, *entity_id;
    int64_t version;
    const char *field, *value, *change_id;
    int64_t user_id;
    const char *device_id;
    int64_t at_ms;
    int64_t seq; /* its place in the chain, from 1 */
} history_row;

/* The row's chain hash: BLAKE2b-256 of prev (the hash of the row before it; zeros for the first)
 * followed by every column of row, each length-prefixed (a NULL apart from an empty string), into
 * out. history_write stores it; `outfallctl audit verify` recomputes it. */
void history_hash(const uint8_t prev[32], const history_row *row, uint8_t out[32]);

/* Records that `version` of kind/id set field to value (NULL = cleared), as the next link of the
 * history chain (seq, prev_hash, hash). Call inside the write transaction. */
int history_write(store *s, const char *kind, const char *id, int64_t version, const char *field,
                  const json_t *value, const history_author *a, sync_error *err);

/* Writes a row for every leaf of fields (an object of path → value) at version. */
int history_write_all(store *s, const char *kind, const char *id, int64_t version, json_t *fields,
                      const history_author *a, sync_error *err);

/* The value field had at version `at` (the last one set at or before it), as a new JSON
 * reference the caller json_decref()s, or NULL when it was absent. */
json_t *history_value_at(store *s, const char *kind, const char *id, const char *field, int64_t at);

/* 1 when some version after `after` changed field by anyone but device_id (decisions made off a
 * phone count as someone else), 0 when not, negative on a storage error. */
int history_changed_by_other(store *s, const char *kind, const char *id, const char *field,
                             int64_t after, const char *device_id);

/* The record as it stood at `version`: every field's last value at or before it, rebuilt from
 * the history into a new JSON object (proto names) the caller json_decref()s; NULL on failure. */
json_t *history_doc_at(store *s, const char *kind, const char *id, int64_t version);

#endif
