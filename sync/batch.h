/* Applying a phone's batch: ordering by device_seq, idempotency, held batches, one transaction. */
#ifndef SYNC_BATCH_H
#define SYNC_BATCH_H

#include "sync/store.h"

/* Applies one batch for principal p, whose token and device signature the caller has already
 * checked (req->device_id belongs to p). Returns 0 and *out (freed with
 * protobuf_c_message_free_unpacked) carrying a result per change, the photos the server lacks,
 * a page of the feed after req->since, and the durable horizon (sync/durable.h: the store's
 * epoch, the batch's acknowledged_seq, durable_seq when cfg->offsite_backups). A replayed
 * batch_id answers its first results again (acknowledged_seq: the sequence's end) and writes
 * nothing. On an internal failure the whole batch rolls back and a negative code returns.
 * Codes: invalid_batch (400), unknown_device / device_revoked (401; the device is checked again
 * inside the write), batch_refused_device_revoked (403: this batch was held, then refused),
 * batch_id_reused / device_seq_reused (409). */
int batch_sync(store *s, const sync_config *cfg, const principal *p,
               const Outfall__V1__SyncRequest *req, Outfall__V1__SyncResponse **out,
               sync_error *err);

/* batch_sync with its answer packed as protobuf: *out (malloc'd, *out_len bytes) is exactly
 * protobuf_c_message_pack of batch_sync's answer, the feed page spliced from the decoded-record
 * cache (feed_pull_packed) instead of decoded into messages and packed again. */
int batch_sync_packed(store *s, const sync_config *cfg, const principal *p,
                      const Outfall__V1__SyncRequest *req, uint8_t **out, size_t *out_len,
                      sync_error *err);

/* Applies held batches that have waited longer than cfg->held_wait_ms as of now_ms, skipping the
 * gap in front of them. The held batches of a revoked device are never applied: released by a
 * filled gap or by their wait, they are refused (kept as 'refused', without their request) and
 * audited (batch.refused, naming the batch and the device). Returns the number applied, or a
 * negative code. */
int batch_release_expired(store *s, const sync_config *cfg, int64_t now_ms);

/* Whether batch_id of device_id was refused because its device was revoked while it was held:
 * SYNC_EFORBIDDEN with err's code batch_refused_device_revoked (403) when it was, 0 when not, or
 * another negative code. Reads only: for answering a revoked phone that asks again. */
int batch_refused(store *s, const char *batch_id, const char *device_id, sync_error *err);

#endif
