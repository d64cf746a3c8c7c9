#include "sync/prep.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

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

void prep_changes(const Outfall__V1__SyncRequest *req, change_prep *prep, prep_progress *progress,
                  const prep_look *look) {
    for (size_t i = 0; i < req->n_changes; i++) {
        replay_hash(&req->changes[i]->base, prep[i].hash);
        apply_prepare(req->changes[i], &prep[i].apply);
        if (look) look->look(look->arg, i);
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

/* ---- freeing after the answer ----
 * A batch's preparation (for 500 creates: their fields as JSON, the documents, leaves and texts)
 * took about 3 ms to free, on the request's thread between the commit and the answer: a tenth of
 * a batch's time with one phone syncing. A thread of its own frees it instead while the answer
 * goes out. Its room stays counted in the budget until it is freed, so a freer that falls behind
 * makes batches queue unprepared, never memory grow. */
typedef struct spent_prep {
    struct spent_prep *next;
    change_prep *prep;
    size_t n;
} spent_prep;

static struct {
    pthread_mutex_t mu;
    pthread_cond_t more;
    spent_prep *head; /* waiting to be freed */
    int thread;       /* the freeing thread runs */
    int stop;         /* it is asked to stop once the list is empty */
    pthread_t tid;
} reaper = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER};

static void free_list(spent_prep *list) {
    while (list) {
        spent_prep *next = list->next;
        prep_free(list->prep, list->n);
        free(list);
        list = next;
    }
}

/* The freeing thread's nice value: the lowest priority. The request's thread that hands it a
 * batch goes on to send that batch's answer, on the same CPU while batches are written (the
 * workers keep to the CPUs not the writer's, common/cores.h). At the same priority the freeing
 * thread, just woken, took that CPU first, and the answer waited for the batch to be freed: the
 * worker waited for a CPU about 1.4 ms a batch of 500 at 1 client, often 2 ms (perf sched
 * timehist). At nice 19 it does not preempt the thread that woke it and runs when that thread
 * waits for its next request. It is not starved: nice keeps it a share of a busy CPU, and a
 * freer that falls behind makes batches queue unprepared, never memory grow. What nice cannot
 * help: it frees into the malloc arena the worker allocates from, and the worker still waits for
 * that arena's lock 0.6-2 ms a batch (round 17 of docs/performance.md tried four placements of
 * this thread; none was faster). */
#define REAPER_NICE 19

static void *reaper_main(void *unused) {
    (void)unused;
    /* Per thread on Linux; a refusal leaves it at the process's priority, as before. */
    setpriority(PRIO_PROCESS, (id_t)gettid(), REAPER_NICE);
    pthread_mutex_lock(&reaper.mu);
    for (;;) {
        spent_prep *list = reaper.head;
        reaper.head = NULL;
        if (!list && reaper.stop) break;
        if (!list) {
            pthread_cond_wait(&reaper.more, &reaper.mu);
            continue;
        }
        pthread_mutex_unlock(&reaper.mu);
        free_list(list);
        pthread_mutex_lock(&reaper.mu);
    }
    pthread_mutex_unlock(&reaper.mu);
    return NULL;
}

void prep_free_later(change_prep *prep, size_t n) {
    if (!prep) return;
    spent_prep *sp = malloc(sizeof *sp);
    pthread_mutex_lock(&reaper.mu);
    /* A thread that could not start is tried again next time; this one is freed here. */
    if (sp && !reaper.thread && !reaper.stop &&
        pthread_create(&reaper.tid, NULL, reaper_main, NULL) == 0) {
        reaper.thread = 1;
        pthread_setname_np(reaper.tid, "outfalld-free");
    }
    int queued = sp && reaper.thread && !reaper.stop;
    if (queued) {
        *sp = (spent_prep){reaper.head, prep, n};
        reaper.head = sp;
        pthread_cond_signal(&reaper.more);
    }
    pthread_mutex_unlock(&reaper.mu);
    if (!queued) {
        free(sp);
        prep_free(prep, n);
    }
}

void prep_close(void) {
    pthread_mutex_lock(&reaper.mu);
    int joining = reaper.thread;
    reaper.stop = 1;
    pthread_cond_signal(&reaper.more);
    pthread_mutex_unlock(&reaper.mu);
    if (joining) pthread_join(reaper.tid, NULL);
    pthread_mutex_lock(&reaper.mu);
    spent_prep *left = reaper.head; /* none: the thread empties the list before it stops */
    reaper.head = NULL;
    reaper.thread = reaper.stop = 0;
    pthread_mutex_unlock(&reaper.mu);
    free_list(left);
}
