/* An S3-compatible server for the tests (prefix th_s3_): tests/s3/serve.mjs (s3rver behind a
 * Signature Version 4 check) on a free loopback port with a fresh folder, started and stopped by
 * the test. Access key and secret TH_S3_KEY / TH_S3_SECRET. */
#ifndef TESTS_LIB_S3RVER_H
#define TESTS_LIB_S3RVER_H

#include <sys/types.h>

#define TH_S3_KEY "S3RVER"
#define TH_S3_SECRET "S3RVER"
#define TH_S3_BUCKET "outfall-photos"

typedef struct th_s3 {
    pid_t pid;             /* 0 when not running */
    char root[256];        /* the mkdtemp folder: objects/, ready, s3.log, credentials */
    char endpoint[96];     /* http://127.0.0.1:PORT */
    char credentials[320]; /* a mode-600 credentials file of the key and secret */
} th_s3;

/* Starts the server (node and env OUTFALL_S3RVER, default tests/s3/serve.mjs) with bucket
 * TH_S3_BUCKET and waits up to 30 s until it listens. Returns 0, or -1 (nothing left running). */
int th_s3_start(th_s3 *s);

/* Stops the server (SIGTERM, then SIGKILL after 5 s) and keeps its folder, so a test may start it
 * again on the same objects with th_s3_restart. Safe when not running. */
void th_s3_halt(th_s3 *s);

/* Starts a halted server again on its folder and its port (endpoint stays). */
int th_s3_restart(th_s3 *s);

/* Halts the server and removes its folder. */
void th_s3_stop(th_s3 *s);

/* SIGSTOP / SIGCONT: the server accepts connections but answers nothing (a slow store). */
void th_s3_freeze(th_s3 *s, int frozen);

#endif
