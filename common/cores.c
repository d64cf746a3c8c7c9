#include "common/cores.h"

#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

enum { PLACED_ANYWHERE, PLACED_WORKER, PLACED_WRITER };

static struct {
    int active;
    int writer_cpu;
    cpu_set_t all;     /* where the process may run */
    cpu_set_t workers; /* all but the writer's CPU */
    cpu_set_t writer;  /* the writer's CPU alone */
    _Atomic int64_t busy_until_ms;
} cores = {.writer_cpu = -1};

/* Where this thread was last placed; a thread starts wherever the process may run. */
static _Thread_local int placed = PLACED_ANYWHERE;

static int64_t monotonic_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

int cores_init(int enabled, char *note, size_t cap) {
    placed = PLACED_ANYWHERE;
    cores.active = 0;
    cores.writer_cpu = -1;
    if (!enabled) {
        snprintf(note, cap, "writer core: off (--writer-core 0)");
        return 0;
    }
    if (sched_getaffinity(0, sizeof cores.all, &cores.all) != 0) {
        snprintf(note, cap, "writer core: off (the CPUs this process may use are unknown)");
        return 0;
    }
    int n = CPU_COUNT(&cores.all);
    if (n < 2) {
        snprintf(note, cap, "writer core: off (%d CPU)", n);
        return 0;
    }
    for (int c = CPU_SETSIZE - 1; c >= 0 && cores.writer_cpu < 0; c--)
        if (CPU_ISSET(c, &cores.all)) cores.writer_cpu = c;
    cores.workers = cores.all;
    CPU_CLR(cores.writer_cpu, &cores.workers);
    CPU_ZERO(&cores.writer);
    CPU_SET(cores.writer_cpu, &cores.writer);
    atomic_store(&cores.busy_until_ms, 0);
    cores.active = 1;
    snprintf(note, cap,
             "writer core: CPU %d while batches are written; request workers then keep to the "
             "other %d",
             cores.writer_cpu, n - 1);
    return 1;
}

int cores_writer_cpu(void) {
    return cores.active ? cores.writer_cpu : -1;
}

/* Moves the calling thread to set `to` (one of PLACED_*). A refusal (the CPUs allowed to the
 * process changed under it) leaves the thread where it was; it is tried again next time. */
static void place(int to) {
    if (placed == to) return;
    const cpu_set_t *set = to == PLACED_WRITER   ? &cores.writer
                           : to == PLACED_WORKER ? &cores.workers
                                                 : &cores.all;
    if (sched_setaffinity(0, sizeof *set, set) == 0) placed = to;
}

void cores_writer_begin(void) {
    if (!cores.active) return;
    atomic_store(&cores.busy_until_ms, monotonic_ms() + CORES_BUSY_MS);
    place(PLACED_WRITER);
}

void cores_writer_end(void) {
    if (!cores.active) return;
    atomic_store(&cores.busy_until_ms, monotonic_ms() + CORES_BUSY_MS);
}

void cores_worker_place(void) {
    if (!cores.active) return;
    place(monotonic_ms() < atomic_load(&cores.busy_until_ms) ? PLACED_WORKER : PLACED_ANYWHERE);
}
