/* GET /v1/changes?since=&limit=: the change feed for integrators and phones. */
#include <limits.h>

#include "server/api.h"
#include "sync/feed.h"

/* Feed entries after `since` (default 0) visible to the caller, at most `limit` (0 or absent:
 * the server's default) → ChangesResponse. */
int api_changes_pull(http_req *r) {
    Outfall__V1__ChangesResponse *out = NULL;
    int64_t since = 0, limit = 0;
    int rc = http_query_int64(r, "since", 0, INT64_MAX, &since);
    if (rc == 0) rc = http_query_int64(r, "limit", 0, INT_MAX, &limit);
    if (rc < 0) return rc;
    rc = feed_pull(r->store, &r->cfg->sync, &r->who, since, (int)limit, &out, &r->err);
    if (rc < 0) return rc;
    rc = http_send_message(r, 200, &out->base);
    protobuf_c_message_free_unpacked(&out->base, NULL);
    return rc;
}
