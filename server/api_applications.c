/* Applications to set up, change or enlarge an outfall (设置审核): POST /v1/applications,
 * POST /v1/applications/decisions, and GET /v1/applications/{id}, public. */
#include "server/api.h"
#include "sync/applications.h"

/* OutfallApplication → ApplicationResult. */
int api_applications_file(http_req *r) {
    Outfall__V1__OutfallApplication *in = NULL;
    Outfall__V1__ApplicationResult *out = NULL;
    int rc =
        http_decode(r, &outfall__v1__outfall_application__descriptor, (ProtobufCMessage **)&in);
    if (rc == 0) rc = applications_file(r->store, &r->who, in, &out, &r->err);
    if (rc == 0) rc = http_send_message(r, 200, &out->base);
    if (in) protobuf_c_message_free_unpacked(&in->base, NULL);
    if (out) protobuf_c_message_free_unpacked(&out->base, NULL);
    return rc;
}

/* ApplicationDecision → ApplicationResult. */
int api_applications_decide(http_req *r) {
    Outfall__V1__ApplicationDecision *in = NULL;
    Outfall__V1__ApplicationResult *out = NULL;
    int rc =
        http_decode(r, &outfall__v1__application_decision__descriptor, (ProtobufCMessage **)&in);
    if (rc == 0) rc = applications_decide(r->store, &r->who, in, &out, &r->err);
    if (rc == 0) rc = http_send_message(r, 200, &out->base);
    if (in) protobuf_c_message_free_unpacked(&in->base, NULL);
    if (out) protobuf_c_message_free_unpacked(&out->base, NULL);
    return rc;
}

/* → OutfallApplication, the public view (no token needed, none looked at). */
int api_applications_read(http_req *r) {
    Outfall__V1__OutfallApplication *out = NULL;
    int rc = applications_read(r->store, r->params[0], 1, &out, &r->err);
    if (rc == 0) rc = http_send_message(r, 200, &out->base);
    if (out) protobuf_c_message_free_unpacked(&out->base, NULL);
    return rc;
}
