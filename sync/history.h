/* Field-level history: for each record, which version set which field to which value, by whom.
 * Three-way merge asks it what a field was at the phone's base version and who changed it since. */
#ifndef SYNC_HISTORY_H
#define SYNC_HISTORY_H

#include <jansson.h>

#include "sync/record.h"
#include "sync/store.h"

/* Who made a change, for the history rows it writes. */
typedef struct history_author {
    const char *change_id;
    int64_t user_id;
    const char *device_id; /* NULL for decisions made off a phone */
    int64_t at_ms;
} history_author;

/* One per-field history row (field_history_frozen, written before migration 0023) as the chain
 * hashes it. Strings borrowed; value (JSON text) and
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

/* One record_history row (migration 0023), a record version, as the chain hashes it: fields is
 * the canonical JSON text of what the version set (path -> value, keys sorted, null = cleared).
 * Strings borrowed; device_id NULL when absent. */
typedef struct history_version {
    const char *kind, *entity_id;
    int64_t version;
    const char *fields, *change_id;
    int64_t user_id;
    const char *device_id;
    int64_t at_ms;
    int64_t seq; /* its place in the chain, which continues the per-field rows' chain */
} history_version;

/* The version row's chain hash, as history_hash for a per-field row (with a marker of its own, so
 * it never equals a per-field row's hash): history_write stores it, `outfallctl audit verify`
 * recomputes it. */
void history_version_hash(const uint8_t prev[32], const history_version *row, uint8_t out[32]);

/* Records that `version` of kind/id set field to value (NULL = cleared): the version's one
 * record_history row, the next link of the history chain (seq, prev_hash, hash); a second write
 * of the same version by the same change while its row is still the chain's head adds the field
 * to that row. Call inside the write transaction. */
int history_write(store *s, const char *kind, const char *id, int64_t version, const char *field,
                  const json_t *value, const history_author *a, sync_error *err);

/* Writes a row for every leaf of fields (an object of path → value) at version. */
int history_write_all(store *s, const char *kind, const char *id, int64_t version, json_t *fields,
                      const history_author *a, sync_error *err);

/* history_write_all for a record whose rowid in its table the caller holds (a record it has just
 * inserted or loaded in this transaction): the same row, without looking the rowid up again.
 * rowid must be the record's; 0 looks it up. */
int history_write_all_at(store *s, const char *kind, const char *id, int64_t rowid, int64_t version,
                         json_t *fields, const history_author *a, sync_error *err);

/* history_write_all_at for leaves already flat: an object of leaf path ("a.b") -> value, as
 * history_write_all makes of a record's fields (record_each_leaf), which it only reads. texts
 * (may be NULL): leaves' members written ahead (record_pieces_make with RECORD_FIELDS_FLAGS),
 * copied into the row's text where they hold the same leaf; the text is the same either way. */
int history_write_leaves_at(store *s, const char *kind, const char *id, int64_t rowid,
                            int64_t version, json_t *leaves, const record_pieces *texts,
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
