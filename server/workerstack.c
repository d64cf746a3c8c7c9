#include "server/workerstack.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>

/* The pattern painted words hold: a word still holding it was never written. */
#define WORKERSTACK_PAINT 0x5ca1ab1e0ddba11ULL
/* Bytes left unpainted below the painting function's own frame (its callees' frames). */
enum { WORKERSTACK_SLACK = 1024 };

/* The calling thread's painted range: [painted_lo, stack_top); 0 when not painted. */
static _Thread_local uintptr_t painted_lo, stack_top;
static _Thread_local size_t stack_size;
/* The deepest use logged so far, over every worker. */
static atomic_size_t deepest;
/* workerstack_enable's switch. */
static atomic_int painting;

void workerstack_enable(int on) {
    atomic_store(&painting, on != 0);
}

/* Written word by word without AddressSanitizer's checks: the memory below the live frames is the
 * thread's own, but no frame owns it now. */
__attribute__((no_sanitize_address, noinline)) static void workerstack_fill(uint64_t *lo,
                                                                            uint64_t *hi) {
    for (volatile uint64_t *p = lo; p < hi; p++)
        *p = WORKERSTACK_PAINT;
}

void workerstack_paint(void) {
    pthread_attr_t attr;
    void *addr = NULL;
    size_t size = 0;
    if (!atomic_load(&painting) || pthread_getattr_np(pthread_self(), &attr) != 0) return;
    int rc = pthread_attr_getstack(&attr, &addr, &size);
    pthread_attr_destroy(&attr);
    if (rc != 0 || !addr || size == 0) return;
    uintptr_t lo = ((uintptr_t)addr + 7) & ~(uintptr_t)7;
    uintptr_t here = (uintptr_t)__builtin_frame_address(0);
    if (here < lo + WORKERSTACK_SLACK || here > (uintptr_t)addr + size) return;
    uintptr_t hi = (here - WORKERSTACK_SLACK) & ~(uintptr_t)7;
    workerstack_fill((uint64_t *)lo, (uint64_t *)hi);
    painted_lo = lo;
    stack_top = (uintptr_t)addr + size;
    stack_size = size;
}

__attribute__((no_sanitize_address, noinline)) size_t workerstack_used(size_t *size) {
    if (size) *size = stack_size;
    if (!painted_lo) return 0;
    const volatile uint64_t *p = (const uint64_t *)painted_lo;
    while ((uintptr_t)p < stack_top && *p == WORKERSTACK_PAINT)
        p++;
    return stack_top - (uintptr_t)p;
}

size_t workerstack_note(const char *what) {
    size_t size = 0, used = workerstack_used(&size);
    size_t seen = atomic_load(&deepest);
    while (used > seen)
        if (atomic_compare_exchange_weak(&deepest, &seen, used)) {
            fprintf(stderr, "worker stack: deepest use %zu of %zu bytes, after %s\n", used, size,
                    what);
            return used;
        }
    return seen;
}
