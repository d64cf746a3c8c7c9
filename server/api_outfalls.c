/* GET /v1/outfalls (filtered, paged) and GET /v1/outfalls/{id}. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "server/api.h"
#include "sync/feed.h"

#define REVIEW_STATE_PREFIX "REVIEW_STATE_"

/* The ReviewState named by text: its enum name with or without the REVIEW_STATE_ prefix (any
 * case), or its number. Returns 0 and *out, or -1. */
static int review_state_parse(const char *text, int *out) {
    const ProtobufCEnumDescriptor *d = &outfall__v1__review_state__descriptor;
    char *end = NULL;
    long n = strtol(text, &end, 10);
    if (end != text && *end == '\0') {
        if (!protobuf_c_enum_descriptor_get_value(d, (int)n) || n < 0 || n > INT_MAX) return -1;
        *out = (int)n;
        return 0;
    }
    size_t plen = strlen(REVIEW_STATE_PREFIX);
    if (strncasecmp(text, REVIEW_STATE_PREFIX, plen) == 0) text += plen;
    for (unsigned i = 0; i < d->n_values; i++)
        if (strcasecmp(d->values[i].name + plen, text) == 0) {
            *out = d->values[i].value;
            return 0;
        }
    return -1;
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
    if (state[0] && review_state_parse(state, &q.review_state) < 0)
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

/* The outfall {id} if the caller may see it → Outfall; else not_found. */
int api_outfalls_read(http_req *r) {
    Outfall__V1__Outfall *out = NULL;
    int rc = feed_read_outfall(r->store, &r->who, r->params[0], &out, &r->err);
    if (rc < 0) return rc;
    rc = http_send_message(r, 200, &out->base);
    protobuf_c_message_free_unpacked(&out->base, NULL);
    return rc;
}
