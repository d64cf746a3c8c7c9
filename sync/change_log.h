/* The change log: every change a batch answered (table changes), kept with its answer under its
 * change_id, so that a change sent again is answered as it was the first time (sync/batch.c), and
 * the entries by which it is found (migration 0031). Internal to the engine's write path. */
#ifndef SYNC_CHANGE_LOG_H
#define SYNC_CHANGE_LOG_H

#include <stdint.h>

#include "outfall/v1/outfall.pb-c.h"
#include "sync/store.h"

/* A change is found by its id through an entry: a new change's waits in change_ids_recent, a
 * small table, until CHANGE_IDS_MERGE_AT wait there; then they are all moved into change_ids in
 * one pass, in key order, so each page of that large table is written once a merge instead of
 * once a batch. */
#define CHANGE_IDS_MERGE_AT 4096

/* An SQL expression: the rowid in changes of the change whose id is the parameter id, or NULL. */
#define CHANGE_ROWID_OF(id)                                                                        \
    "coalesce((SELECT change_rowid FROM change_ids_recent WHERE change_id = " id "), (SELECT "     \
    "change_rowid FROM change_ids WHERE change_id = " id "))"

/* What the log holds for ch, whose content hash is hash: 0 when its change_id is new; 1 and
 * *first (its first answer; free with protobuf_c_message_free_unpacked) when it was answered
 * before for the same content; SYNC_ECONFLICT (change_id_reused) when for other content; or
 * another negative code. */
int change_log_find(store *s, const Outfall__V1__Change *ch, const uint8_t hash[32],
                    Outfall__V1__ChangeResult **first, sync_error *err);

/* Keeps r, the answer to ch (content hash hash) in batch batch_id, and its entry, inside the
 * open write transaction; the entries are merged when due. Only change_log_find's 0 may lead
 * here: the log does not refuse an id it holds. Returns 0 or a negative code. */
int change_log_keep(store *s, const Outfall__V1__Change *ch, const uint8_t hash[32],
                    const char *batch_id, const Outfall__V1__ChangeResult *r, sync_error *err);

#endif
