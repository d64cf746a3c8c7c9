/* A core for the writing thread.
 *
 * Batches are applied and committed by one thread at a time (group commit, sync/writer.c), and
 * every batch waits for it, so that thread is the server's bottleneck when phones sync at once.
 * With 2 CPUs shared by it and 31 request workers, it spent a fifth of its time waiting for a
 * CPU (runnable but preempted: 0.6-0.8 s of a 3 s sync phase, measured with schedstat in the
 * field-day benchmark). While batches are being written, the request workers therefore keep off
 * one CPU, which the writing thread takes and keeps; when no batch has been written for a while,
 * workers may use every CPU again (photo uploads and feed pulls need them all). Nothing else
 * changes: the kernel still schedules; this only narrows where each thread may run.
 *
 * Inactive (every call a no-op) until cores_init enables it, and with fewer than 2 CPUs. */
#ifndef COMMON_CORES_H
#define COMMON_CORES_H

#include <stddef.h>

/* How long after a batch was written the workers still keep off the writer's CPU. */
#define CORES_BUSY_MS 500

/* Enables the placement when `enabled` and the process may run on 2 CPUs or more: the writer's
 * CPU is the highest of them. Writes a line for the log into note[cap] either way. Returns 1
 * when active. Call once, before the worker threads start (the calling thread counts as placed
 * anywhere). */
int cores_init(int enabled, char *note, size_t cap);

/* The CPU the writing thread takes, or -1 when inactive. */
int cores_writer_cpu(void);

/* The calling thread is about to write a group of batches: it moves to the writer's CPU. */
void cores_writer_begin(void);

/* The calling thread has committed its group. It stays on the writer's CPU (the writing thread
 * sleeps there until the next group); a request thread that wrote a group, when the writing
 * thread could not be started, goes back among the workers at its next request. */
void cores_writer_end(void);

/* A request worker, at the start of each request: off the writer's CPU while batches are being
 * written (one within CORES_BUSY_MS), anywhere otherwise. A system call only when that changes
 * for the thread. */
void cores_worker_place(void);

#endif
