/* GET /v1/changes?since=&limit=&wait=: the change feed for integrators and phones. */
#include <limits.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/util.h"
#include "server/api.h"
#include "sync/durable.h"
#include "sync/feed.h"

/* The longest a follower's request may wait for new entries (?wait=, seconds): under the 60 s a
 * proxy waits for an answer by default (nginx's proxy_read_timeout). */
#define CHANGES_WAIT_MAX_S 30

/* After a commit wakes a follower, the pause before it reads the feed again, so that a burst of
 * commits (a field day's group commits, other divisions' writes) costs each follower one read. */
#define CHANGES_COALESCE_MS 50

static atomic_int waiting; /* long polls between their first empty page and their answer */

int api_changes_waiting(void) {
    return atomic_load(&waiting);
}

/* One page of the feed after since as r asked for it, sent when it holds an entry or when
 * send_empty; otherwise nothing is sent and *empty is 1. Returns 0 or a negative code. */
static int changes_page(http_req *r, int64_t since, int64_t limit, int send_empty, int *empty) {
    Outfall__V1__ChangesResponse *out = NULL;
    durable_horizon horizon; /* its epoch goes with every page: a restore makes it anew */
    int rc = durable_read(r->store, &horizon, &r->err);
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
        *empty = feed_len == 0;
        if (*empty && !send_empty) {
            free(feed);
            return 0;
        }
        page.has_next_cursor = page.has_more = 1;
        page.more = more;
        page.store_epoch = horizon.epoch;
        rc = feed_pack_spliced(&page.base, 1, feed, feed_len, &buf, &len);
        free(feed);
        if (rc) return http_error(r, 500, "out_of_memory", "out of memory encoding the answer");
        rc = http_send_packed(r, 200, buf, len);
        free(buf);
        return rc;
    }
    rc = feed_pull(r->store, &r->cfg->sync, &r->who, since, (int)limit, &out, &r->err);
    if (rc < 0) return rc;
    *empty = out->n_feed == 0;
    free(out->store_epoch);
    out->store_epoch = strdup(horizon.epoch);
    if (!out->store_epoch)
        rc = http_error(r, 500, "out_of_memory", "out of memory");
    else if (!*empty || send_empty)
        rc = http_send_message(r, 200, &out->base);
    protobuf_c_message_free_unpacked(&out->base, NULL);
    return rc;
}

/* Feed entries after `since` (default 0) visible to the caller, at most `limit` (0 or absent:
 * the server's default) → ChangesResponse. With wait=N (seconds, at most CHANGES_WAIT_MAX_S) an
 * empty page is not answered at once: the request waits, holding no database handle, until a
 * commit brings an entry the caller may see, or N seconds pass (then the empty page). */
int api_changes_pull(http_req *r) {
    int64_t since = 0, limit = 0, wait_s = 0;
    int rc = http_query_int64(r, "since", 0, INT64_MAX, &since);
    if (rc == 0) rc = http_query_int64(r, "limit", 0, INT_MAX, &limit);
    if (rc == 0) rc = http_query_int64(r, "wait", 0, CHANGES_WAIT_MAX_S, &wait_s);
    if (rc < 0) return rc;
    int64_t deadline = util_monotonic_ms() + wait_s * 1000;
    int counted = 0;
    for (;;) {
        uint64_t seen = store_commits();
        int64_t left = deadline - util_monotonic_ms();
        int empty = 0;
        if ((rc = changes_page(r, since, limit, left <= 0, &empty)) < 0 || !empty || left <= 0)
            break;
        if (!counted) atomic_fetch_add(&waiting, counted = 1);
        http_store_release(r);
        if (!store_wait_commit(seen, left))
            deadline = 0; /* timed out, or the server stops */
        else /* commits come in bursts (group commit, other divisions): read once per burst */
            nanosleep(&(struct timespec){0, CHANGES_COALESCE_MS * 1000000L}, NULL);
        if ((rc = http_store_acquire(r)) < 0) break;
    }
    if (counted) atomic_fetch_sub(&waiting, 1);
    return rc;
}
