/* Reads made ahead for the writer: while a batch is prepared beside an idle writer, its worker
 * reads what each create's write would read (sync/apply.h, apply_lookahead), on the snapshot the
 * writer's transaction started from. */
#ifndef SYNC_READ_AHEAD_H
#define SYNC_READ_AHEAD_H

#include <stdint.h>

#include "outfall/v1/outfall.pb-c.h"
#include "sync/prep.h"
#include "sync/store.h"
#include "sync/writer.h"

/* Prepares req's changes into prep (prep_changes, telling progress), and when may_look (w was
 * queued by writer_submit_if_idle and no other batch is in hand) reads ahead on s, the
 * submitting thread's handle, once w's write transaction is open (writer_job.opened). */
void read_ahead_prepare(store *s, const Outfall__V1__SyncRequest *req, change_prep *prep,
                        prep_progress *progress, writer_job *w, int may_look);

/* How many creates the workers have read ahead for since the process started: what the writer
 * then did not read itself. */
uint64_t read_ahead_count(void);

#endif
