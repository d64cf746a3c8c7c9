/* Whole requests through the real route table: the URL path (route matching, {id} segments),
 * the query string (http_query, http_query_int64, enum and page-token parsing), the headers
 * (Accept negotiation, Content-Type, Authorization, X-Device-Signature, Expect, Content-Length,
 * tus headers) and the body (protobuf or JSON of whatever the endpoint takes), served by
 * routes_handle on the fuzz world over a fake connection (fake_conn.h).
 *
 * An input is "METHOD TARGET\nName: value\n...\n\nbody"; fake_conn.h lists the "@" hooks that
 * stand for live tokens, device signatures and a body's hash. Oracles: fc_serve's checks of the
 * answer (well-formed, no 500) and the sanitizers. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz/lib/fake_conn.h"
#include "fuzz/lib/fuzz_env.h"

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc, (void)argv;
    fz_env_get();
    return 0;
}

static int one_input(const uint8_t *data, size_t size) {
    char *buf = malloc(size + 1);
    if (!buf) return 0;
    memcpy(buf, data, size);
    buf[size] = '\0';
    fc_request rq;
    if (fc_parse(buf, size, &rq) == 0 && strlen(rq.target) < 2048)
        fc_serve(&rq, strstr(rq.target, "photo") ? FC_RESET_ALL : FC_RESET_DB);
    free(buf);
    return 0;
}

/* Each input runs on a thread with a CivetWeb worker's stack (fz_on_worker_stack). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    return fz_on_worker_stack(one_input, data, size);
}
