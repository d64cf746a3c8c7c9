/* GET /v1/outfalls (filtered, paged) and GET /v1/outfalls/{id}. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "server/api.h"
#include "sync/feed.h"
#include "sync/outfall_ref.h"

/* ?view=latest|approved (absent: the caller's default, see feed.h) into *view. */
static int view_param(http_req *r, int *view) {
    char text[16];
    int rc = http_query(r, "view", text, sizeof text);
    if (rc < 0) return rc;
    *view = !text[0]                            ? FEED_VIEW_DEFAULT
            : strcasecmp(text, "latest") == 0   ? FEED_VIEW_LATEST
            : strcasecmp(text, "approved") == 0 ? FEED_VIEW_APPROVED
                                                : -1;
    if (*view < 0) return http_error(r, 400, "invalid_argument", "view must be latest or approved");
    return 0;
}

/* ?river=&division=&review_state=&limit=&page_token= → OutfallList. */
int api_outfalls_list(http_req *r) {
    char river[64], division[16], state[64], token[256];
    int64_t limit = 0;
    outfall_query q = {0};
    Outfall__V1__OutfallList *out = NULL;
    int rc;
    if ((rc = http_query(r, "river", river, sizeof river)) < 0 ||
        (rc = http_query(r, "division", division, sizeof division)) < 0 ||
        (rc = http_query(r, "page_token", token, sizeof token)) < 0 ||
        (rc = http_query(r, "review_state", state, sizeof state)) < 0 ||
        (rc = http_query_int64(r, "limit", 0, INT_MAX, &limit)) < 0)
        return rc;
    if ((rc = view_param(r, &q.view)) < 0) return rc;
    if (state[0] && http_enum_parse(&outfall__v1__review_state__descriptor, "REVIEW_STATE_", state,
                                    &q.review_state) < 0)
        return http_error(r, 400, "invalid_argument",
                          "review_state must be PENDING, APPROVED, REJECTED, RETURNED or a number");
    q.river_code = river[0] ? river : NULL;
    q.division_code = division[0] ? division : NULL;
    q.page_token = token[0] ? token : NULL;
    q.limit = (int)limit;
    rc = feed_list_outfalls(r->store, &r->who, &q, &out, &r->err);
    if (rc < 0) return rc;
    rc = http_send_message(r, 200, &out->base);
    protobuf_c_message_free_unpacked(&out->base, NULL);
    return rc;
}

/* The outfall {id} (its id or its code) if the caller may see it, in the view asked for →
 * Outfall; else not_found (unknown_outfall_code for a code no outfall has). */
int api_outfalls_read(http_req *r) {
    Outfall__V1__Outfall *out = NULL;
    int view = 0;
    char id[UUID_STR_LEN + 1];
    int rc = view_param(r, &view);
    if (rc < 0) return rc;
    if ((rc = outfall_ref_resolve(r->store, r->params[0], id, &r->err)) < 0) return rc;
    rc = feed_read_outfall_view(r->store, &r->who, id, view, &out, &r->err);
    if (rc < 0) return rc;
    rc = http_send_message(r, 200, &out->base);
    protobuf_c_message_free_unpacked(&out->base, NULL);
    return rc;
}
