/* A sync request from decode through apply: the bytes a phone POSTs to /v1/sync are unpacked as
 * a SyncRequest, refused as the server refuses them (strings that are not UTF-8, a device that is
 * not the caller's), then applied by batch_sync for the fixed surveyor on the world's database,
 * held batches released, and the answer encoded both ways.
 *
 * Oracles besides the sanitizers: batch_sync answers 0 or a code with an error code filled, never
 * an internal failure (a 500); an answer always encodes as JSON (every record must stay
 * readable) and has a result per change; no transaction stays open. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/pbjson.h"
#include "fuzz/lib/fuzz_env.h"
#include "sync/accounts.h"
#include "sync/batch.h"

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc, (void)argv;
    fz_env_get();
    return 0;
}

/* Encodes msg both ways; aborts when JSON refuses it. */
static void encode_both(const ProtobufCMessage *msg, const char *what) {
    char *json = pbjson_encode(msg, 0);
    if (!json) fz_fail("%s does not encode as JSON", what);
    free(json);
    size_t len = protobuf_c_message_get_packed_size(msg);
    uint8_t *buf = malloc(len ? len : 1);
    if (!buf) abort();
    if (protobuf_c_message_pack(msg, buf) != len) fz_fail("%s packs to another size", what);
    free(buf);
}

static int one_input(const uint8_t *data, size_t size) {
    fz_env *e = fz_env_get();
    Outfall__V1__SyncRequest *req = outfall__v1__sync_request__unpack(NULL, size, data);
    if (!req) return 0;
    /* http_decode's check: a body the JSON mapping would not take back (strings that are not
     * UTF-8, enum values the contract does not name) is refused before the engine sees it. */
    json_t *probe = pbjson_to_json(&req->base, 0);
    ProtobufCMessage *copy = NULL;
    char why[256];
    if (!probe || pbjson_from_json(&outfall__v1__sync_request__descriptor, probe, &copy, why,
                                   sizeof why) < 0) {
        json_decref(probe);
        outfall__v1__sync_request__free_unpacked(req, NULL);
        return 0;
    }
    json_decref(probe);
    protobuf_c_message_free_unpacked(copy, NULL);
    fz_reset(e, 0);

    /* api_sync_batch's checks: a device of the caller's. Any other id is swapped for the
     * surveyor's phone so the rest of the input still reaches the engine. */
    char *given = req->device_id;
    int64_t owner = 0;
    uint8_t pk[32];
    sync_error err = {0};
    if (!given || !given[0] || devices_lookup(e->s, given, &owner, pk, &err) < 0 ||
        owner != e->who[FZ_SURVEYOR].user_id)
        req->device_id = FZ_DEVICE;

    Outfall__V1__SyncResponse *out = NULL;
    memset(&err, 0, sizeof err);
    int rc = batch_sync(e->s, &e->cfg.sync, &e->who[FZ_SURVEYOR], req, &out, &err);
    if (rc < 0 && (out || !err.code[0] || err.rc != rc))
        fz_fail("batch_sync returned %d with code \"%s\" (rc %d) and %s answer", rc, err.code,
                err.rc, out ? "an" : "no");
    if (rc == 0 && !out) fz_fail("batch_sync returned 0 without an answer");
    /* The server answers this 500: no input the server takes may cause it. */
    if (rc == SYNC_EINTERNAL) fz_fail("batch_sync failed inside: %s %s", err.code, err.message);
    if (out) {
        encode_both(&out->base, "the SyncResponse");
        if (out->n_results != req->n_changes)
            fz_fail("%zu results for %zu changes", out->n_results, req->n_changes);
        protobuf_c_message_free_unpacked(&out->base, NULL);
    }
    /* Whatever was held applies once its wait is over. */
    int released = batch_release_expired(e->s, &e->cfg.sync, INT64_MAX / 2);
    if (released < 0 && released != SYNC_EBUSY)
        fz_fail("releasing held batches failed with %d", released);
    req->device_id = given;
    outfall__v1__sync_request__free_unpacked(req, NULL);
    return 0;
}

/* Each input runs on a thread with a CivetWeb worker's stack (fz_on_worker_stack). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    return fz_on_worker_stack(one_input, data, size);
}
