/* GET /v1/changes?since=&limit=: the change feed for integrators and phones. */
#include <limits.h>
#include <stdlib.h>

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
    if (r->resp_enc == HTTP_PROTOBUF) {
        /* The page's records spliced from the decoded-record cache: the same bytes, less work. */
        Outfall__V1__ChangesResponse page = OUTFALL__V1__CHANGES_RESPONSE__INIT;
        uint8_t *feed = NULL, *buf = NULL;
        size_t feed_len = 0, len = 0;
        int more = 0;
        rc = feed_pull_packed(r->store, &r->cfg->sync, &r->who, since, (int)limit,
                              1 /* ChangesResponse.feed */, &feed, &feed_len, &page.next_cursor,
                              &more, &r->err);
        if (rc < 0) return rc;
        page.has_next_cursor = page.has_more = 1;
        page.more = more;
        rc = feed_pack_spliced(&page.base, 1, feed, feed_len, &buf, &len);
        free(feed);
        if (rc) return http_error(r, 500, "out_of_memory", "out of memory encoding the answer");
        rc = http_send_packed(r, 200, buf, len);
        free(buf);
        return rc;
    }
    rc = feed_pull(r->store, &r->cfg->sync, &r->who, since, (int)limit, &out, &r->err);
    if (rc < 0) return rc;
    rc = http_send_message(r, 200, &out->base);
    protobuf_c_message_free_unpacked(&out->base, NULL);
    return rc;
}
