/* Retry safety: every batch, change, decision and transition carries a client-made id, and a
 * retry answers what the first try answered. This module is the one way to recognise a retry. */
#ifndef SYNC_REPLAY_H
#define SYNC_REPLAY_H

#include <stdint.h>

#include "sync/store.h"

/* The identity of a request's content: BLAKE2b-256 of its packed bytes. */
void replay_hash(const ProtobufCMessage *msg, uint8_t hash[32]);

/* Looks up the first answer to request `id`. sql selects (content_hash, result) of one row, with
 * the id bound as its only parameter, and must be a string literal (statements are cached).
 * Returns 1 and *out (unpacked as desc; free with free_unpacked) when id was answered before for
 * the same content; 0 when id is new; SYNC_ECONFLICT with err code `reused_code` when id was used
 * for other content; another negative code on a storage failure. */
int replay_find(store *s, const char *sql, const char *id, const uint8_t hash[32],
                const ProtobufCMessageDescriptor *desc, ProtobufCMessage **out,
                const char *reused_code, sync_error *err);

#endif
