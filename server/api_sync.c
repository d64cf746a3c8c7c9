/* POST /v1/sync: one signed batch from a phone. */
#include <stdlib.h>
#include <string.h>

#include "server/api.h"
#include "server/auth.h"
#include "sync/accounts.h"
#include "sync/batch.h"

/* After devices_lookup refused the batch's device with rc: a revoked device's own phone (its
 * owner's token, its signature over the body) asking again about a batch the server refused when
 * it was released gets 403 batch_refused_device_revoked, so it knows nothing of it was applied.
 * Anything else keeps the lookup's refusal. Returns the code to answer with. */
static int revoked_phone_answer(http_req *r, const Outfall__V1__SyncRequest *in, int64_t owner,
                                const uint8_t pk[32], int rc) {
    if (strcmp(r->err.code, "device_revoked") != 0 || owner != r->who.user_id) return rc;
    sync_error revoked = r->err;
    int status = r->err_status;
    if (auth_verify_signature(r, pk) == 0 &&
        batch_refused(r->store, in->batch_id, in->device_id, &r->err) == SYNC_EFORBIDDEN)
        return r->err.rc;
    r->err = revoked;
    r->err_status = status;
    return rc;
}

/* The checks before the engine sees the batch, in order: body within the limit, a SyncRequest in
 * the request's encoding, a device_id, an enrolled and unrevoked device of the caller, and its
 * signature over the exact bytes received (a revoked phone asking about a batch refused for
 * that is told so: revoked_phone_answer). Every refusal here is audited and writes nothing
 * else. Then batch_sync answers SyncResponse (200). */
int api_sync_batch(http_req *r) {
    Outfall__V1__SyncRequest *in = NULL;
    Outfall__V1__SyncResponse *out = NULL;
    uint8_t pk[32];
    int64_t owner = 0;
    int checked = 0; /* the request passed every check here and reached the engine */
    int rc = http_decode(r, &outfall__v1__sync_request__descriptor, (ProtobufCMessage **)&in);
    if (rc < 0) goto done;
    if (!in->device_id || !in->device_id[0]) {
        rc = http_error(r, 400, "invalid_batch", "device_id is required");
        goto done;
    }
    rc = devices_lookup(r->store, in->device_id, &owner, pk, &r->err);
    if (rc < 0) {
        rc = revoked_phone_answer(r, in, owner, pk, rc);
        goto done;
    }
    if (owner != r->who.user_id) {
        rc = http_error(r, 403, "device_not_yours", "device %s is enrolled by another user",
                        in->device_id);
        goto done;
    }
    rc = auth_verify_signature(r, pk);
    if (rc < 0) goto done;
    checked = 1;
    if (r->resp_enc == HTTP_PROTOBUF) {
        /* The feed page spliced from the decoded-record cache: the same bytes, less work. */
        uint8_t *buf = NULL;
        size_t len = 0;
        rc = batch_sync_packed(r->store, &r->cfg->sync, &r->who, in, &buf, &len, &r->err);
        if (rc < 0) goto done;
        rc = http_send_packed(r, 200, buf, len);
        free(buf);
        goto done;
    }
    rc = batch_sync(r->store, &r->cfg->sync, &r->who, in, &out, &r->err);
    if (rc < 0) goto done;
    rc = http_send_message(r, 200, &out->base);
done:
    if (rc < 0 && !checked && r->err.rc != SYNC_EBUSY && r->err.rc != SYNC_EINTERNAL &&
        r->err.rc != SYNC_EFULL)
        auth_audit_refusal(r, in && in->device_id && in->device_id[0] ? in->device_id : NULL);
    if (in) protobuf_c_message_free_unpacked(&in->base, NULL);
    if (out) protobuf_c_message_free_unpacked(&out->base, NULL);
    return rc;
}
