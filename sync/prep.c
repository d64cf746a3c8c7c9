#include "sync/prep.h"

#include <stdatomic.h>
#include <stdlib.h>

#include "sync/replay.h"

/* How many changes may wait prepared at once, all batches together: one group's worth (what the
 * writer takes at a time, sync/writer.c). A prepared create holds some KB until it is written
 * (its fields as JSON, the copy the writer makes its document, the leaves and the texts); past
 * the budget a batch queues unprepared and the writer does the work, so memory stays bounded
 * however many batches wait. */
#define PREPARED_BUDGET 5000
static atomic_size_t prepared_waiting;

change_prep *prep_alloc(const Outfall__V1__SyncRequest *req) {
    size_t before = atomic_fetch_add(&prepared_waiting, req->n_changes);
    change_prep *prep = before + req->n_changes <= PREPARED_BUDGET
                            ? calloc(req->n_changes ? req->n_changes : 1, sizeof *prep)
                            : NULL;
    if (!prep) atomic_fetch_sub(&prepared_waiting, req->n_changes);
    return prep;
}

void prep_changes(const Outfall__V1__SyncRequest *req, change_prep *prep, prep_progress *progress) {
    for (size_t i = 0; i < req->n_changes; i++) {
        replay_hash(&req->changes[i]->base, prep[i].hash);
        apply_prepare(req->changes[i], &prep[i].apply);
        if (!progress) continue;
        pthread_mutex_lock(&progress->mu);
        progress->ready = i + 1;
        pthread_cond_signal(&progress->more);
        pthread_mutex_unlock(&progress->mu);
    }
}

void prep_wait(prep_progress *progress, size_t i) {
    if (!progress) return;
    pthread_mutex_lock(&progress->mu);
    while (progress->ready <= i)
        pthread_cond_wait(&progress->more, &progress->mu);
    pthread_mutex_unlock(&progress->mu);
}

void prep_hashed(prep_progress *progress) {
    if (!progress) return;
    pthread_mutex_lock(&progress->mu);
    progress->hashed = 1;
    pthread_cond_signal(&progress->more);
    pthread_mutex_unlock(&progress->mu);
}

void prep_wait_hashed(prep_progress *progress) {
    if (!progress) return;
    pthread_mutex_lock(&progress->mu);
    while (!progress->hashed)
        pthread_cond_wait(&progress->more, &progress->mu);
    pthread_mutex_unlock(&progress->mu);
}

void prep_free(change_prep *prep, size_t n) {
    if (!prep) return;
    for (size_t i = 0; i < n; i++)
        apply_prep_free(&prep[i].apply);
    free(prep);
    atomic_fetch_sub(&prepared_waiting, n);
}
