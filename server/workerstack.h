/* The stacks CivetWeb's worker threads run on, and how deep the server's work reaches into them.
 *
 * Debian 12's libcivetweb 1.15 is built with CMake's default CIVETWEB_THREAD_STACK_SIZE, so every
 * worker thread gets WORKERSTACK_BYTES of stack (glibc keeps the thread's descriptor and static
 * TLS at its top), and outfalld cannot change that without rebuilding the library. Everything a
 * request runs must fit: the fuzz targets run each input on a thread of this size
 * (fuzz/lib/fuzz_env.c), and each worker paints its stack when it starts so the server can log
 * the deepest use it has seen (docs/reliability.md, Bodies). */
#ifndef SERVER_WORKERSTACK_H
#define SERVER_WORKERSTACK_H

#include <stddef.h>

/* CivetWeb 1.15's worker stack as Debian builds it (USE_STACK_SIZE=102400). */
#define WORKERSTACK_BYTES (100 * 1024)

/* Turns the painting on (on != 0) for threads started from now on. Off by default: painting
 * makes a thread's whole stack resident (512 workers: 50 MB), so it is for measuring
 * (--stack-report 1), not for serving. */
void workerstack_enable(int on);

/* When enabled (workerstack_enable), fills the calling thread's unused stack (below the caller's
 * frame) with a pattern, so that workerstack_used can tell how deep the thread's stack was ever
 * used. Call it first thing on a new thread. Does nothing when the thread's stack cannot be found.
 */
void workerstack_paint(void);

/* The most bytes of the calling thread's stack used since workerstack_paint, counted from the
 * stack's top (the thread's descriptor and TLS included), or 0 when it was not painted. *size
 * (may be NULL) gets the stack's size. */
size_t workerstack_used(size_t *size);

/* Checks the calling thread's stack after a request (what names it, for the log): when it went
 * deeper than any worker's before, logs the new deepest use to stderr
 * ("worker stack: deepest use N of M bytes, after WHAT"). Returns the process-wide deepest use. */
size_t workerstack_note(const char *what);

#endif
