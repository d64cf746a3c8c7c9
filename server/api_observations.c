/* GET /v1/observations/{id}. */
#include "server/api.h"
#include "sync/feed.h"

/* The observation {id} if the caller may see it → Observation; else not_found. */
int api_observations_read(http_req *r) {
    Outfall__V1__Observation *out = NULL;
    int rc = feed_read_observation(r->store, &r->who, r->params[0], &out, &r->err);
    if (rc < 0) return rc;
    rc = http_send_message(r, 200, &out->base);
    protobuf_c_message_free_unpacked(&out->base, NULL);
    return rc;
}
