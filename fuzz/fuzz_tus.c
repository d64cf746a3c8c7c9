/* Photo uploads and reads: the tus headers (Tus-Resumable, Upload-Length, Upload-Offset,
 * Upload-Metadata, Upload-Checksum, Upload-Defer-Length), PUT, HEAD, Range and If-None-Match,
 * and the photo store and EXIF reading behind them. server/api_photos.c keeps its header parsers
 * static, so they are fuzzed through the narrowest public function that reaches them:
 * routes_handle, over the fake connection (fake_conn.h), as in fuzz_http.
 *
 * An input is a photo and a sequence of requests, served in order on one state (reset at the
 * start of each input), so a creation, its PATCHes and the reads after them meet each other:
 *
 *   <photo bytes>\n----\n<request>\n----\n<request>...
 *
 * each request as fuzz_http's ("METHOD TARGET\nName: value\n\nbody"); "@hash" stands for the
 * photo's hash, a body "@photo" for the photo and "@photo:OFF:LEN" for a slice of it, and a
 * request without Authorization is the surveyor's. Oracles: fc_serve's checks of every answer. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fuzz/lib/fake_conn.h"
#include "fuzz/lib/fuzz_env.h"

enum { MAX_REQUESTS = 8 };

static const char sep[] = "\n----\n";

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc, (void)argv;
    fz_env_get();
    return 0;
}

/* Resolves a body hook against the photo. */
static void body_hook(fc_request *rq, const uint8_t *photo, size_t photo_len) {
    if (rq->len < 6 || memcmp(rq->body, "@photo", 6) != 0) return;
    unsigned long off = 0, len = photo_len;
    char spec[64];
    size_t n = rq->len - 6 < sizeof spec - 1 ? rq->len - 6 : sizeof spec - 1;
    memcpy(spec, rq->body + 6, n);
    spec[n] = '\0';
    if (spec[0] == ':' && sscanf(spec, ":%lu:%lu", &off, &len) != 2) return;
    if (off > photo_len) off = photo_len;
    if (len > photo_len - off) len = photo_len - off;
    rq->body = photo + off;
    rq->len = len;
}

static int one_input(const uint8_t *data, size_t size) {
    char *buf = malloc(size + 1);
    if (!buf) return 0;
    memcpy(buf, data, size);
    buf[size] = '\0';
    char *end = buf + size;
    char *cut = memmem(buf, size, sep, sizeof sep - 1);
    if (!cut) {
        free(buf);
        return 0;
    }
    const uint8_t *photo = (const uint8_t *)buf;
    size_t photo_len = (size_t)(cut - buf);
    char *p = cut + sizeof sep - 1;
    for (int i = 0; i < MAX_REQUESTS && p < end; i++) {
        char *next = memmem(p, (size_t)(end - p), sep, sizeof sep - 1);
        char *stop = next ? next : end;
        *stop = '\0';
        fc_request rq;
        if (fc_parse(p, (size_t)(stop - p), &rq) == 0 && strlen(rq.target) < 2048) {
            int has_auth = 0;
            for (int k = 0; k < rq.n_headers; k++)
                has_auth |= strcasecmp(rq.names[k], "Authorization") == 0;
            if (!has_auth && rq.n_headers < FC_MAX_HEADERS) {
                rq.names[rq.n_headers] = "Authorization";
                rq.values[rq.n_headers++] = "@surveyor";
            }
            body_hook(&rq, photo, photo_len);
            rq.hash_of = photo;
            rq.hash_len = photo_len;
            fc_serve(&rq, i == 0 ? FC_RESET_ALL : FC_KEEP);
        }
        p = next ? next + sizeof sep - 1 : end;
    }
    free(buf);
    return 0;
}

/* Each input runs on a thread with a CivetWeb worker's stack (fz_on_worker_stack). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    return fz_on_worker_stack(one_input, data, size);
}
