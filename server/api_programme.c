/* The programme's lifecycle: POST /v1/programme/transitions. */
#include "server/api.h"
#include "programme/lifecycle.h"
#include "sync/outfall_ref.h"

/* LifecycleTransition → TransitionResult. The outfall (and a MERGE plan's target) may be named
 * by its code (sync/outfall_ref.h). */
int api_programme_transition(http_req *r) {
    Outfall__V1__LifecycleTransition *in = NULL;
    Outfall__V1__TransitionResult *out = NULL;
    int rc =
        http_decode(r, &outfall__v1__lifecycle_transition__descriptor, (ProtobufCMessage **)&in);
    if (rc == 0) rc = outfall_ref_rewrite(r->store, &in->outfall_id, &r->err);
    if (rc == 0 && in->plan)
        rc = outfall_ref_rewrite(r->store, &in->plan->merge_into_outfall_id, &r->err);
    if (rc == 0) rc = lifecycle_transition(r->store, &r->cfg->sync, &r->who, in, &out, &r->err);
    if (rc == 0) rc = http_send_message(r, 200, &out->base);
    if (in) protobuf_c_message_free_unpacked(&in->base, NULL);
    if (out) protobuf_c_message_free_unpacked(&out->base, NULL);
    return rc;
}
