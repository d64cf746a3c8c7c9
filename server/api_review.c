/* The review: GET /v1/review/queue, POST /v1/review/decisions, GET /v1/outfalls/{id}/history. */
#include <limits.h>

#include "server/api.h"
#include "sync/outfall_ref.h"
#include "sync/queue.h"
#include "sync/review.h"

/* ?kind=&division=&river=&limit=&page_token= → ReviewQueue. */
int api_review_queue(http_req *r) {
    char kind[64], division[16], river[64], token[32];
    int64_t limit = 0;
    queue_query q = {0};
    int rc;
    if ((rc = http_query(r, "kind", kind, sizeof kind)) < 0 ||
        (rc = http_query(r, "division", division, sizeof division)) < 0 ||
        (rc = http_query(r, "river", river, sizeof river)) < 0 ||
        (rc = http_query(r, "page_token", token, sizeof token)) < 0 ||
        (rc = http_query_int64(r, "limit", 0, 500, &limit)) < 0)
        return rc;
    if (kind[0] && http_enum_parse(&outfall__v1__review_item_kind__descriptor, "REVIEW_ITEM_KIND_",
                                   kind, &q.kind) < 0)
        return http_error(r, 400, "invalid_argument",
                          "kind must be PENDING, CONFLICT, DUPLICATE, FLAGGED, RESUBMITTED or "
                          "INSPECTION");
    q.division_code = division[0] ? division : NULL;
    q.river_code = river[0] ? river : NULL;
    q.page_token = token[0] ? token : NULL;
    q.limit = (int)limit;
    Outfall__V1__ReviewQueue *out = NULL;
    if ((rc = queue_list(r->store, &r->who, &q, &out, &r->err)) < 0) return rc;
    rc = http_send_message(r, 200, &out->base);
    protobuf_c_message_free_unpacked(&out->base, NULL);
    return rc;
}

/* Decision → DecisionResult. outfall_id and survivor_id may be codes (sync/outfall_ref.h). */
int api_review_decide(http_req *r) {
    Outfall__V1__Decision *in = NULL;
    Outfall__V1__DecisionResult *out = NULL;
    int rc = http_decode(r, &outfall__v1__decision__descriptor, (ProtobufCMessage **)&in);
    if (rc == 0) rc = outfall_ref_rewrite(r->store, &in->outfall_id, &r->err);
    if (rc == 0) rc = outfall_ref_rewrite(r->store, &in->survivor_id, &r->err);
    if (rc == 0) rc = review_decide(r->store, &r->cfg->sync, &r->who, in, &out, &r->err);
    if (rc == 0) rc = http_send_message(r, 200, &out->base);
    if (in) protobuf_c_message_free_unpacked(&in->base, NULL);
    if (out) protobuf_c_message_free_unpacked(&out->base, NULL);
    return rc;
}

/* The outfall's field history, observations and changes since approval → OutfallHistory. {id}
 * may be the outfall's code. */
int api_outfalls_history(http_req *r) {
    Outfall__V1__OutfallHistory *out = NULL;
    char id[UUID_STR_LEN + 1];
    int rc = outfall_ref_resolve(r->store, r->params[0], id, &r->err);
    if (rc == 0) rc = queue_history(r->store, &r->who, id, &out, &r->err);
    if (rc < 0) return rc;
    rc = http_send_message(r, 200, &out->base);
    protobuf_c_message_free_unpacked(&out->base, NULL);
    return rc;
}
