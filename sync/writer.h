/* Group commit: one thread writes the queued batches of a database file as one transaction. */
#ifndef SYNC_WRITER_H
#define SYNC_WRITER_H

#include <stdatomic.h>
#include <stddef.h>

#include "sync/store.h"

/* What a job writes: called by the writer inside the group's write transaction on ws (the
 * writing handle of the job's file, or the submitter's own handle when none opens). Returns 0,
 * or a negative code with *err set. A job that fails should do so before its first write: then
 * the rest of the group goes on in the same transaction. One that fails after writing makes the
 * writer roll the transaction back and call the other jobs' write again in a new one, so write
 * may be called more than once for a job: each call starts over and replaces what an earlier
 * call answered. */
typedef int (*writer_write_fn)(store *ws, void *arg, sync_error *err);

/* One batch waiting to be written. The submitter fills s, file, n_changes, write and arg (all
 * borrowed, kept alive until writer_submit returns); the writer fills rc and err. */
typedef struct writer_job {
    store *s;         /* the submitting thread's handle, for when no writing handle opens */
    const char *file; /* the database file: a group holds the batches of one file */
    size_t n_changes; /* the job's weight: a group holds at most 5000 changes (and 64 jobs) */
    writer_write_fn write;
    void *arg;      /* passed to write */
    int rc;         /* write's answer, or the group's when its transaction failed */
    sync_error err; /* with rc */
    /* Set by the writer once the write transaction that applies this job first is open, on a
     * writing handle other than s: until it commits, a read begun on s then sees what that
     * transaction started from (sync/read_ahead.c reads ahead for the writer so). */
    atomic_int opened;
    /* The writer's own. */
    int done;
    struct writer_job *next;
} writer_job;

/* Queues j and returns once it is written and committed, by the writing thread (which the first
 * job starts and which then stays) or, when that thread could not be started, by this thread or
 * another request thread. j is written with the other queued jobs of its file in one
 * transaction, committed once (a job that fails writes nothing of its own). Afterwards j->rc is
 * write's answer (0 or negative, with j->err), or the group's error when its commit failed: then
 * nothing of any job in the group was kept. */
void writer_submit(writer_job *j);

/* Queues j, as writer_submit does, only when the writing thread runs and is idle (nothing queued,
 * no group being written), and returns 1 at once; the caller then finishes what the job's write
 * may wait for (while the writer already starts on it) and calls writer_wait(j). Returns 0 and
 * queues nothing otherwise: the caller then uses writer_submit. A job queued early must never wait
 * for anything the writer or another job holds. */
int writer_submit_if_idle(writer_job *j);

/* Returns once j, queued by writer_submit_if_idle, is written and committed (see writer_submit). */
void writer_wait(writer_job *j);

/* The WAL length past which the writing thread checkpoints a file's WAL itself, between groups
 * (see gc_checkpoint_past in sync/writer.c), for handles whose checkpoints are deferred (the
 * server's): when no batch waits, or at once past twice this. 0: never (the background thread's
 * checkpoints alone). WRITER_WAL_LIMIT until set; the server's --wal-limit-mb. */
#define WRITER_WAL_LIMIT ((int64_t)128 << 20)
void writer_wal_limit(int64_t bytes);

/* Stops the writing thread and closes the handles that write groups (one per database file, kept
 * open between groups), after waiting for a group in progress. For a clean stop;
 * writer_submit starts them again when called after. */
void writer_close(void);

#endif
