#include "sync/writer.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/cores.h"

/* Batches wait in one queue for the writing thread, which the first batch starts and which then
 * stays. It takes the oldest queued batch and every other queued batch of that database file and
 * applies them in one transaction, so that a batch that fails leaves nothing of its own and
 * every batch stays all or nothing (gc_run_group); then it commits once, wakes the threads whose
 * batches it wrote, and takes the batches that came meanwhile. Waiting threads block on a
 * condition variable instead of sleeping in SQLite's busy handler, and the fsync and the WAL work
 * of a commit are shared by the group.
 *
 * One thread writes rather than whichever request thread found no writer at work: handing the
 * writing over took 2.6 ms a group (the next writer had to be woken and get a CPU among 31 busy
 * request threads; 0.24 s of a 3.1 s sync phase of the 500-phone field day, 99 groups), and the
 * writer's CPU (common/cores.h) now stays with one thread. When that thread cannot be started,
 * a request thread that finds no writer at work writes the group itself, as before. */

enum { GC_MAX_BATCHES = 64, GC_MAX_CHANGES = 5000 };

/* The page cache of the handle that writes groups (SQLite's default, 2000 KiB, stays on every
 * other connection). A group of a few hundred changes dirties more pages than the default holds,
 * and SQLite then spills them to the WAL in the middle of the transaction, to write them again at
 * its commit: 6.6 % of the server's time in the field day's sync phase went to that
 * (sqlite3PcacheFetchStress), none with this. Readers keep the small cache: 32 feed pages of 1000
 * records at once would otherwise each grow one this large. */
#define GC_WRITER_CACHE "PRAGMA cache_size = -16384"

static struct {
    pthread_mutex_t mu;
    pthread_cond_t done; /* a group was committed (the threads waiting for their batch) */
    pthread_cond_t work; /* a batch was queued, or the writer is asked to stop */
    writer_job *head;    /* waiting, oldest first */
    int writing;         /* a group is being applied */
    int thread;          /* the writing thread runs */
    int thread_failed;   /* it could not be started: request threads write */
    int stop;            /* the writing thread is asked to stop */
    pthread_t tid;
} gc = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, PTHREAD_COND_INITIALIZER};

/* Applies jobs[0..n) in one write transaction on s and commits once. A job that fails having
 * written nothing (the connection's change count unmoved: batch_decide refuses before its first
 * write) keeps its error and the group goes on. A job that fails after writing takes the
 * transaction down: it is rolled back, that job keeps its error, and the others are written again
 * in a new transaction (at most once per failed job). When the transaction itself fails, every
 * job fails.
 *
 * No savepoint per job: SQLite keeps a savepoint's undo pages in an in-memory sub-journal of
 * 1 KiB chunks (temp_store = MEMORY) and walks it from its first chunk each time a savepoint or
 * statement nested inside is released. Under a savepoint held over a whole batch that journal
 * grows with every page the batch touches, so each change's release walked all of it: 42 % of the
 * writing thread's time on batches of 500 (memjrnlTruncate). Without it each change's savepoint
 * (sync/batch.c apply_one) is the outermost one and its journal starts empty. */
static void gc_run_group(store *s, writer_job **jobs, int n) {
    sqlite3 *db = store_db(s);
    sync_error err = {0};
    int rc = 0, again;
    for (int i = 0; i < n; i++)
        jobs[i]->rc = 0;
    do {
        again = 0;
        rc = store_begin(s, &err);
        /* The first job is applied first: nothing is written before it in this transaction. */
        if (!rc && n > 0 && s != jobs[0]->s) atomic_store(&jobs[0]->opened, 1);
        for (int i = 0; i < n && !rc && !again; i++) {
            writer_job *j = jobs[i];
            if (j->rc) continue; /* failed in an earlier attempt: left out */
            sqlite3_int64 before = sqlite3_total_changes64(db);
            j->rc = j->write(s, j->arg, &j->err);
            /* A failure SQLite answers by rolling back the whole transaction takes the group. */
            if (sqlite3_get_autocommit(db))
                rc = sync_fail(&err, SYNC_EINTERNAL, "storage_error",
                               "the write transaction was rolled back");
            else if (j->rc && sqlite3_total_changes64(db) != before)
                again = 1;
        }
        if (again) store_rollback(s);
    } while (again);
    if (rc)
        store_rollback(s);
    else
        rc = store_commit(s, &err);
    for (int i = 0; rc && i < n; i++) {
        jobs[i]->rc = rc;
        jobs[i]->err = err;
    }
}

/* ---- the writing connection ----
 * A group is written through one handle per database file, kept across groups, and not through
 * the connection of the thread that sent its first batch: SQLite drops a connection's page
 * cache when another connection has written since its last transaction, so each group used to
 * start cold, reading every index page on its path back from the kernel (pread). Only the
 * thread that holds gc.writing uses these handles. A handle whose file was replaced (another
 * inode at the path: a test's folder made again) is closed and opened anew. When one cannot be
 * opened, the group goes through the submitting thread's own handle, as before. */
enum { GC_WRITERS = 4 };

typedef struct gc_writer {
    char *file;
    dev_t dev;
    ino_t ino;
    store *s;
} gc_writer;

static gc_writer gc_writers[GC_WRITERS];        /* guarded by gc.writing */
static unsigned gc_writers_next;                /* the slot a new file takes when all are used */
static int64_t gc_wal_limit = WRITER_WAL_LIMIT; /* writer_wal_limit; 0: none */

static void gc_writer_close(gc_writer *w) {
    store_close(w->s);
    free(w->file);
    memset(w, 0, sizeof *w);
}

/* The writing handle for s's file (borrowed), or s itself when none can be had. */
static store *gc_writer_for(store *s, const char *file) {
    struct stat st;
    if (!file[0] || stat(file, &st) < 0) return s;
    gc_writer *w = NULL;
    for (int i = 0; i < GC_WRITERS && !w; i++)
        if (gc_writers[i].file && strcmp(gc_writers[i].file, file) == 0) w = &gc_writers[i];
    if (w && (w->dev != st.st_dev || w->ino != st.st_ino)) gc_writer_close(w);
    if (w && w->s) return w->s;
    if (!w) {
        for (int i = 0; i < GC_WRITERS && !w; i++)
            if (!gc_writers[i].file) w = &gc_writers[i];
        if (!w) {
            w = &gc_writers[gc_writers_next++ % GC_WRITERS];
            gc_writer_close(w);
        }
    }
    sync_error err = {0};
    if (!(w->file = strdup(file)) || store_open_writer(file, &w->s, &err) < 0) {
        gc_writer_close(w);
        return s;
    }
    w->dev = st.st_dev;
    w->ino = st.st_ino;
    if (store_checkpoints_deferred(s)) store_defer_checkpoints(w->s);
    sqlite3_exec(store_db(w->s), GC_WRITER_CACHE, NULL, NULL, NULL);
    return w->s;
}

/* With gc.mu held and gc.head not empty: applies the oldest queued batch and the other queued
 * batches of its file as one group, and wakes the threads waiting for them. The mutex is let go
 * while the group is written. */
static void gc_write_next(void) {
    writer_job *group[GC_MAX_BATCHES];
    writer_job *first = gc.head;
    int n = 0;
    size_t changes = 0;
    for (writer_job **q = &gc.head; *q && n < GC_MAX_BATCHES;) {
        writer_job *c = *q;
        if (c == first ||
            (strcmp(c->file, first->file) == 0 && changes + c->n_changes <= GC_MAX_CHANGES)) {
            group[n++] = c;
            changes += c->n_changes;
            *q = c->next;
        } else {
            q = &c->next;
        }
    }
    gc.writing = 1;
    pthread_mutex_unlock(&gc.mu);
    cores_writer_begin(); /* a CPU of its own while it writes (common/cores.h) */
    gc_run_group(gc_writer_for(first->s, first->file), group, n);
    cores_writer_end();
    pthread_mutex_lock(&gc.mu);
    for (int i = 0; i < n; i++)
        group[i]->done = 1;
    gc.writing = 0;
    pthread_cond_broadcast(&gc.done);
}

/* The WAL's bound. Under a steady stream of batches the background thread's checkpoint
 * (store_checkpoint, once a second) never reaches the WAL's end, new groups being committed while
 * it copies, so the WAL never starts again from its beginning: 1.4 GB for a database of 490 MB
 * after 100 000 observations from one phone (docs/performance.md). So the writing thread, whose
 * groups are the only ones committed meanwhile, checkpoints a WAL past the bound itself, between
 * groups: when nothing waits, or at once past twice the bound. With gc.mu held: returns 1 when it
 * checkpointed a file's WAL past factor times the bound (the mutex let go meanwhile, and batches
 * that come queue as behind a group), else 0. */
static int gc_checkpoint_past(int factor) {
    gc_writer *w = NULL;
    for (int i = 0; i < GC_WRITERS && !w && gc_wal_limit > 0; i++)
        if (gc_writers[i].s && store_wal_bytes(gc_writers[i].s) > factor * gc_wal_limit)
            w = &gc_writers[i];
    if (!w) return 0;
    gc.writing = 1;
    pthread_mutex_unlock(&gc.mu);
    sync_error err = {0};
    if (store_checkpoint(w->s, &err) < 0)
        fprintf(stderr, "checkpoint of %s failed: %s\n", w->file, err.message);
    pthread_mutex_lock(&gc.mu);
    gc.writing = 0;
    pthread_cond_broadcast(&gc.done);
    return 1;
}

static void *gc_writer_main(void *arg) {
    (void)arg;
    pthread_setname_np(pthread_self(), "outfalld-writer");
    pthread_mutex_lock(&gc.mu);
    while (!gc.stop) {
        if (gc_checkpoint_past(gc.head ? 2 : 1)) continue;
        if (gc.head)
            gc_write_next();
        else
            pthread_cond_wait(&gc.work, &gc.mu);
    }
    pthread_mutex_unlock(&gc.mu);
    return NULL;
}

void writer_wal_limit(int64_t bytes) {
    pthread_mutex_lock(&gc.mu);
    gc_wal_limit = bytes > 0 ? bytes : 0;
    pthread_mutex_unlock(&gc.mu);
}

/* With gc.mu held: starts the writing thread unless it runs or could not be started. */
static void gc_start_writer(void) {
    if (gc.thread || gc.thread_failed) return;
    gc.stop = 0;
    if (pthread_create(&gc.tid, NULL, gc_writer_main, NULL) == 0)
        gc.thread = 1;
    else
        gc.thread_failed = 1;
}

void writer_close(void) {
    pthread_mutex_lock(&gc.mu);
    int joining = gc.thread;
    gc.stop = 1;
    pthread_cond_signal(&gc.work);
    pthread_mutex_unlock(&gc.mu);
    if (joining) pthread_join(gc.tid, NULL);
    pthread_mutex_lock(&gc.mu);
    gc.thread = 0;
    gc.thread_failed = 0;
    gc.stop = 0;
    pthread_cond_broadcast(&gc.done); /* batches still queued: their threads write them */
    while (gc.writing)
        pthread_cond_wait(&gc.done, &gc.mu);
    for (int i = 0; i < GC_WRITERS; i++)
        gc_writer_close(&gc_writers[i]);
    pthread_mutex_unlock(&gc.mu);
}

/* With gc.mu held: appends j to the queue and wakes the writing thread (starting it when it
 * does not run yet). */
static void gc_queue(writer_job *j) {
    writer_job **tail = &gc.head;
    while (*tail)
        tail = &(*tail)->next;
    *tail = j;
    gc_start_writer();
    if (gc.thread) pthread_cond_signal(&gc.work);
}

void writer_wait(writer_job *j) {
    pthread_mutex_lock(&gc.mu);
    while (!j->done) {
        if (!gc.thread && !gc.writing)
            gc_write_next();
        else
            pthread_cond_wait(&gc.done, &gc.mu);
    }
    pthread_mutex_unlock(&gc.mu);
}

void writer_submit(writer_job *j) {
    pthread_mutex_lock(&gc.mu);
    gc_queue(j);
    pthread_mutex_unlock(&gc.mu);
    writer_wait(j);
}

int writer_submit_if_idle(writer_job *j) {
    pthread_mutex_lock(&gc.mu);
    gc_start_writer();
    int idle = gc.thread && !gc.head && !gc.writing;
    if (idle) gc_queue(j);
    pthread_mutex_unlock(&gc.mu);
    return idle;
}
