#include "server/dbpool.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/util.h"

/* The page cache of each of the pool's handles: 1.5 MB, where SQLite's default is 2 MB. Warm,
 * the 32 handles held 64 MB of pages the OS page cache holds too, and the 500-phone field day's
 * peak resident memory (its new phone's pull, after the pull phase) sat at the 200 MB bound:
 * 200-202 MB in 3 runs with 2 MB, 183-188 MB in 2 with 1.5 MB (p99 of the sync phase 756-888 and
 * 804-914 ms, the new phone's pull 0.22-0.25 s either way); 1 MB gave 170 MB and a p99 of
 * 857-1 083 ms. */
#define POOL_CACHE "PRAGMA cache_size = -1536"

/* A request waiting for a handle, on its own stack; the releaser hands a handle straight to the
 * first one in line, so no waiter is woken for nothing and none is overtaken. */
typedef struct waiter {
    struct waiter *next;
    pthread_cond_t wake;
    int slot; /* the handle's slot once handed over; -1 until then */
} waiter;

static struct {
    pthread_mutex_t mu;
    char db_path[4096 + 16];
    int size;
    store **handles; /* [size]; NULL until first used */
    int *free_slots; /* a stack of free slot numbers */
    int n_free;
    waiter *first, *last; /* the line, oldest first */
    int n_waiting;
} pool = {.mu = PTHREAD_MUTEX_INITIALIZER};

int dbpool_init(const char *db_path, int size) {
    if (size < 1 || strlen(db_path) >= sizeof pool.db_path) return -1;
    pool.handles = calloc((size_t)size, sizeof *pool.handles);
    pool.free_slots = calloc((size_t)size, sizeof *pool.free_slots);
    if (!pool.handles || !pool.free_slots) {
        free(pool.handles);
        free(pool.free_slots);
        pool.handles = NULL;
        pool.free_slots = NULL;
        return -1;
    }
    util_strlcpy(pool.db_path, db_path, sizeof pool.db_path);
    pool.size = size;
    for (int i = 0; i < size; i++)
        pool.free_slots[i] = size - 1 - i;
    pool.n_free = size;
    return 0;
}

/* Waits in line for a slot until deadline_ms; called with pool.mu held. Returns the slot, or -1
 * when the wait ran out (the waiter has then left the line). */
static int wait_in_line(int64_t deadline_ms) {
    waiter w = {.next = NULL, .slot = -1};
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&w.wake, &attr);
    pthread_condattr_destroy(&attr);
    if (pool.last)
        pool.last->next = &w;
    else
        pool.first = &w;
    pool.last = &w;
    pool.n_waiting++;
    struct timespec at = {.tv_sec = deadline_ms / 1000, .tv_nsec = (deadline_ms % 1000) * 1000000};
    while (w.slot < 0)
        if (pthread_cond_timedwait(&w.wake, &pool.mu, &at) != 0 && w.slot < 0) break;
    if (w.slot < 0) { /* still in line: leave it */
        waiter **p = &pool.first, *prev = NULL;
        while (*p != &w) {
            prev = *p;
            p = &(*p)->next;
        }
        *p = w.next;
        if (pool.last == &w) pool.last = prev;
        pool.n_waiting--;
    }
    pthread_cond_destroy(&w.wake);
    return w.slot;
}

/* Hands slot to the first in line, or puts it back among the free; called with pool.mu held. */
static void give_back(int slot) {
    waiter *w = pool.first;
    if (!w) {
        pool.free_slots[pool.n_free++] = slot;
        return;
    }
    pool.first = w->next;
    if (!pool.first) pool.last = NULL;
    pool.n_waiting--;
    w->slot = slot;
    pthread_cond_signal(&w->wake);
}

store *dbpool_acquire(int64_t deadline_ms, sync_error *err) {
    pthread_mutex_lock(&pool.mu);
    int slot = -1;
    if (pool.n_free > 0 && !pool.first)
        slot = pool.free_slots[--pool.n_free];
    else if (pool.size > 0)
        slot = wait_in_line(deadline_ms);
    store *held = slot >= 0 ? pool.handles[slot] : NULL;
    pthread_mutex_unlock(&pool.mu);
    if (slot < 0) {
        sync_fail(err, SYNC_EBUSY, "busy",
                  "the server is busy: every database connection stayed taken; try again");
        return NULL;
    }
    if (held) return held;
    if (store_open(pool.db_path, &held, err) < 0) {
        pthread_mutex_lock(&pool.mu);
        give_back(slot); /* its next holder tries to open it again */
        pthread_mutex_unlock(&pool.mu);
        return NULL;
    }
    /* The server's background thread checkpoints every second (server/main.c): none inside a
     * request's commit, where it held up every batch of a group commit. */
    store_defer_checkpoints(held);
    sqlite3_exec(store_db(held), POOL_CACHE, NULL, NULL, NULL);
    pthread_mutex_lock(&pool.mu);
    pool.handles[slot] = held;
    pthread_mutex_unlock(&pool.mu);
    return held;
}

void dbpool_release(store *s) {
    if (!s) return;
    store_idle(s); /* no read left open between holders */
    pthread_mutex_lock(&pool.mu);
    int slot = 0;
    while (slot < pool.size && pool.handles[slot] != s)
        slot++;
    if (slot < pool.size) give_back(slot);
    pthread_mutex_unlock(&pool.mu);
}

void dbpool_stats(int *in_use, int *waiting) {
    pthread_mutex_lock(&pool.mu);
    *in_use = pool.size - pool.n_free;
    *waiting = pool.n_waiting;
    pthread_mutex_unlock(&pool.mu);
}

void dbpool_close(void) {
    pthread_mutex_lock(&pool.mu);
    for (int i = 0; i < pool.size; i++)
        store_close(pool.handles[i]);
    free(pool.handles);
    free(pool.free_slots);
    pool.handles = NULL;
    pool.free_slots = NULL;
    pool.size = pool.n_free = 0;
    pthread_mutex_unlock(&pool.mu);
}
