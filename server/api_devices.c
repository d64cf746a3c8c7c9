/* POST /v1/devices (enroll a phone) and DELETE /v1/devices/{id} (revoke it). */
#include "server/api.h"
#include "sync/accounts.h"

/* Device (device_id, name, 32-byte Ed25519 public key) → 201 with the stored Device. */
int api_devices_enroll(http_req *r) {
    Outfall__V1__Device *in = NULL, *out = NULL;
    int rc = http_decode(r, &outfall__v1__device__descriptor, (ProtobufCMessage **)&in);
    if (rc < 0) goto done;
    rc = devices_enroll(r->store, &r->who, in, &out, &r->err);
    if (rc < 0) goto done;
    rc = http_send_message(r, 201, out ? &out->base : &in->base);
done:
    if (in) protobuf_c_message_free_unpacked(&in->base, NULL);
    if (out) protobuf_c_message_free_unpacked(&out->base, NULL);
    return rc;
}

/* Revokes device {id}; 204. Its signatures are refused from now on. */
int api_devices_revoke(http_req *r) {
    int rc = devices_revoke(r->store, &r->who, r->params[0], &r->err);
    if (rc < 0) return rc;
    http_send_empty(r, 204);
    return 0;
}
