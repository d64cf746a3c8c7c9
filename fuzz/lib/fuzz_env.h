/* The world the engine fuzz targets run in (prefix fz_): a real database in a temporary folder
 * (under /dev/shm when there is one, so commits cost no disk flush) with an admin, users of each
 * role, an enrolled phone, a few records, and a snapshot of all of it that fz_reset restores
 * before every input, so each input meets the same state and a crash replays from its file
 * alone. Made once per process; the folder is removed at exit.
 *
 * Fixed names the seed corpora use: */
#ifndef FUZZ_LIB_FUZZ_ENV_H
#define FUZZ_LIB_FUZZ_ENV_H

#include <stddef.h>
#include <stdint.h>

#include "server/config.h"
#include "sync/store.h"

#define FZ_DIVISION "410882"       /* the surveyor's and the supervisor's division */
#define FZ_OTHER_DIVISION "410803" /* the "other" surveyor's */
#define FZ_DEVICE "fuzz-phone-1"   /* the surveyor's enrolled phone */
#define FZ_OTHER_DEVICE "fuzz-phone-2"
#define FZ_OUTFALL "00000000-0000-4000-8000-00000000f001"     /* an outfall at version 2 */
#define FZ_OUTFALL_2 "00000000-0000-4000-8000-00000000f002"   /* a pending one */
#define FZ_OBSERVATION "00000000-0000-4000-8000-00000000b001" /* an observation of FZ_OUTFALL */
#define FZ_PHOTO "0000000000000000000000000000000000000000000000000000000000000001"

/* Who a request may act as. */
enum fz_role { FZ_ADMIN, FZ_SURVEYOR, FZ_SUPERVISOR, FZ_INTEGRATOR, FZ_OTHER, FZ_N_ROLES };

typedef struct fz_env {
    char dir[96];
    server_config cfg;
    store *s; /* the harness's own handle; engine targets use it too */
    principal who[FZ_N_ROLES];
    char token[FZ_N_ROLES][72]; /* a live bearer token per role */
    uint8_t device_sk[64];      /* FZ_DEVICE's secret key */
    uint8_t other_sk[64];       /* FZ_OTHER_DEVICE's (the other surveyor's) */
} fz_env;

/* The world, made on first call (aborts with a message when it cannot be made). */
fz_env *fz_env_get(void);

/* Brings the database back to the snapshot taken when the world was made, and empties the
 * photo and upload folders when with_files. Aborts when the database cannot be restored (a
 * transaction an input left open would do that: a bug worth a crash). */
void fz_reset(fz_env *e, int with_files);

/* Runs one(data, size) on a new thread whose stack is a server worker's (WORKERSTACK_BYTES,
 * server/workerstack.h) and returns what it returns, so that an input overflowing a worker's
 * stack crashes here as it would crash the server (on the main thread's 8 MB stack it never
 * would). Every target's LLVMFuzzerTestOneInput goes through it. */
int fz_on_worker_stack(int (*one)(const uint8_t *, size_t), const uint8_t *data, size_t size);

/* Aborts with a message: the oracle of every target. */
void fz_fail(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

#endif
