/* POST /v1/sync: one signed batch from a phone. */
#include <pthread.h>
#include <sodium.h>
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

/* A big batch's signature checked on a thread of its own while the request's thread decodes the
 * batch: for 500 observations each took about 2.5 ms, one after the other, before the writer
 * could start. Started only for a protobuf body of EARLY_VERIFY_AT bytes or more whose device_id
 * (read from the body's top level) names an enrolled device of the caller, and a well-formed
 * signature header; its verdict is taken only for the public key the checks in order look up,
 * so what the request is answered, and in which order the checks refuse it, stay those of
 * auth_verify_signature. */
enum { EARLY_VERIFY_AT = 64 * 1024, EARLY_VERIFY_STACK = 256 * 1024, DEVICE_ID_MAX = 128 };

typedef struct early_verify {
    pthread_t thread;
    int started;
    uint8_t sig[AUTH_SIGNATURE_BYTES], pk[32];
    const uint8_t *body;
    size_t len;
    int valid; /* written by the thread, read after it is joined */
} early_verify;

static void *early_verify_main(void *arg) {
    early_verify *e = arg;
    e->valid = crypto_sign_verify_detached(e->sig, e->body, e->len, e->pk) == 0;
    return NULL;
}

/* Reads a varint at *at (before end) into *v: 0, or -1 when it is cut or longer than 10 bytes. */
static int read_varint(const uint8_t **at, const uint8_t *end, uint64_t *v) {
    *v = 0;
    for (int shift = 0; shift < 70 && *at < end; shift += 7) {
        uint8_t b = *(*at)++;
        *v |= (uint64_t)(b & 0x7F) << shift;
        if (!(b & 0x80)) return 0;
    }
    return -1;
}

/* The last SyncRequest.device_id (field 2) of body's top level into out (NUL-terminated, at
 * most cap - 1 bytes): 0, or -1 when there is none or the bytes do not read as protobuf. */
static int scanned_device_id(const uint8_t *body, size_t len, char *out, size_t cap) {
    const uint8_t *at = body, *end = body + len;
    int found = -1;
    while (at < end) {
        uint64_t key, n;
        if (read_varint(&at, end, &key)) return -1;
        switch (key & 7) {
        case 0:
            if (read_varint(&at, end, &n)) return -1;
            break;
        case 1:
        case 5:
            if ((size_t)(end - at) < ((key & 7) == 1 ? 8u : 4u)) return -1;
            at += (key & 7) == 1 ? 8 : 4;
            break;
        case 2:
            if (read_varint(&at, end, &n) || n > (uint64_t)(end - at)) return -1;
            if (key >> 3 == 2) {
                if (n >= cap) return -1;
                memcpy(out, at, n);
                out[n] = '\0';
                found = 0;
            }
            at += n;
            break;
        default:
            return -1;
        }
    }
    return found;
}

/* Starts e for r when it may (see early_verify). */
static void early_verify_start(http_req *r, early_verify *e) {
    char device_id[DEVICE_ID_MAX];
    int64_t owner = 0;
    sync_error ignored = {0};
    pthread_attr_t attr;
    if (!r->has_ctype || r->req_enc != HTTP_PROTOBUF || r->body_len < EARLY_VERIFY_AT ||
        auth_signature(r, e->sig) < 0 ||
        scanned_device_id(r->body, r->body_len, device_id, sizeof device_id) < 0 ||
        devices_lookup(r->store, device_id, &owner, e->pk, &ignored) < 0 ||
        owner != r->who.user_id || pthread_attr_init(&attr) != 0)
        return;
    e->body = r->body;
    e->len = r->body_len;
    pthread_attr_setstacksize(&attr, EARLY_VERIFY_STACK);
    e->started = pthread_create(&e->thread, &attr, early_verify_main, e) == 0;
    pthread_attr_destroy(&attr);
}

/* Waits for e when it runs; 1 when it ran. */
static int early_verify_join(early_verify *e) {
    if (!e->started) return 0;
    pthread_join(e->thread, NULL);
    e->started = 0;
    return 1;
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
    early_verify early = {0};
    /* The body is read first, as http_decode reads it (after its Content-Type check). */
    int rc = r->has_ctype ? http_read_body(r) : 0;
    if (rc < 0) goto done;
    if (r->store) early_verify_start(r, &early);
    rc = http_decode(r, &outfall__v1__sync_request__descriptor, (ProtobufCMessage **)&in);
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
    /* The early verdict counts only for the key looked up here. */
    rc = early_verify_join(&early) && memcmp(early.pk, pk, sizeof pk) == 0
             ? auth_signature_verdict(r, early.valid)
             : auth_verify_signature(r, pk);
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
    early_verify_join(&early); /* the body it reads is r's */
    if (rc < 0 && !checked && r->err.rc != SYNC_EBUSY && r->err.rc != SYNC_EINTERNAL &&
        r->err.rc != SYNC_EFULL)
        auth_audit_refusal(r, in && in->device_id && in->device_id[0] ? in->device_id : NULL);
    if (in) protobuf_c_message_free_unpacked(&in->base, NULL);
    if (out) protobuf_c_message_free_unpacked(&out->base, NULL);
    return rc;
}
