/* A batch's preparation on the HTTP worker: what each change needs no database for (its content
 * hash, its fields as JSON, the refusals that read nothing, a create's texts), worked out before
 * or beside the writer (sync/batch.c), within a budget of changes waiting prepared. */
#ifndef SYNC_PREP_H
#define SYNC_PREP_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "outfall/v1/outfall.pb-c.h"
#include "sync/apply.h"

/* What the HTTP worker works out for one change before its batch queues for the writer, from
 * the change alone: its content hash (replay) and its fields (apply_prepare). */
typedef struct change_prep {
    uint8_t hash[32];
    apply_prep apply;
} change_prep;

/* How far the worker has prepared a batch's changes, in order: the writer may start on a batch
 * while its worker still prepares the later changes (sync_results), and waits for each change it
 * reaches before it is ready. */
typedef struct prep_progress {
    pthread_mutex_t mu;
    pthread_cond_t more;
    size_t ready; /* changes [0, ready) are prepared; guarded by mu */
    int hashed;   /* the batch's content hash is written (after its changes); guarded by mu */
} prep_progress;

/* Room for req's preparation (zeroed; free with prep_free), or NULL when the budget is spent or
 * memory is short: then the writer does that work itself. */
change_prep *prep_alloc(const Outfall__V1__SyncRequest *req);

/* Reads made for the writer while a batch is prepared (sync/read_ahead.c): look(arg, i) is called
 * for change i once it is prepared, before progress tells the writer. */
typedef struct prep_look {
    void (*look)(void *arg, size_t i);
    void *arg;
} prep_look;

/* Prepares req's changes into prep (from prep_alloc), calling look (may be NULL) for each and
 * telling progress (may be NULL) after each one. */
void prep_changes(const Outfall__V1__SyncRequest *req, change_prep *prep, prep_progress *progress,
                  const prep_look *look);

/* Returns once change i of the batch progress follows is prepared (at once when progress is
 * NULL). */
void prep_wait(prep_progress *progress, size_t i);

/* Tells progress (may be NULL) that the batch's content hash is written. */
void prep_hashed(prep_progress *progress);

/* Returns once the batch progress follows is hashed (at once when progress is NULL). */
void prep_wait_hashed(prep_progress *progress);

/* Frees prep (from prep_alloc, n changes; NULL: nothing) and gives its room back to the budget. */
void prep_free(change_prep *prep, size_t n);

/* prep_free on a thread of its own, so the caller's answer need not wait for it (at once, on the
 * caller's thread, when that thread cannot be had). */
void prep_free_later(change_prep *prep, size_t n);

/* Frees what waits for prep_free_later and stops its thread (the next call starts it again). */
void prep_close(void);

#endif
