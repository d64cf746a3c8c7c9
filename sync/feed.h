/* The change feed and the read model: what phones and integrators read. */
#ifndef SYNC_FEED_H
#define SYNC_FEED_H

#include "sync/store.h"

/* Feed entries after `since` visible to p, at most limit (0 = the default; capped at the
 * configured maximum), each with the record's full current state, or a redirect for a merged
 * outfall. *out is freed with protobuf_c_message_free_unpacked. */
int feed_pull(store *s, const sync_config *cfg, const principal *p, int64_t since, int limit,
              Outfall__V1__ChangesResponse **out, sync_error *err);

/* The same page for a protobuf answer, packed: *out (malloc'd, *out_len bytes; NULL for none)
 * holds each entry as field `field` of the enclosing message (tag, length, FeedEntry bytes), the
 * bytes protobuf_c_message_pack gives for feed_pull's entries; *next_cursor and *more as there.
 * Records come straight from the decoded-record cache's packed bytes, not unpacked and packed
 * again. */
int feed_pull_packed(store *s, const sync_config *cfg, const principal *p, int64_t since, int limit,
                     uint32_t field, uint8_t **out, size_t *out_len, int64_t *next_cursor,
                     int *more, sync_error *err);

/* Packs msg, whose repeated field `field` is empty, with bytes[0..n) (whole encodings of that
 * field, as feed_pull_packed gives) in that field's place: *out malloc'd, *out_len bytes.
 * Returns 0, or -1 when memory is short. */
int feed_pack_spliced(const ProtobufCMessage *msg, uint32_t field, const uint8_t *bytes, size_t n,
                      uint8_t **out, size_t *out_len);

/* 1 when every field of packed message b[0..n) numbers below field, 0 when one does not, -1
 * when the bytes are not a message's. */
int feed_fields_below(const uint8_t *b, size_t n, uint32_t field);

/* *out (malloc'd, *out_len bytes): head[0..head_len), a packed message whose fields all number
 * below the page's field, then bytes[0..n) (that field's encodings, as feed_pull_packed gives),
 * then tail packed, whose fields all number above it: the bytes the three packed as one message
 * give. Returns 0, or -1 when memory is short. */
int feed_pack_after(const uint8_t *head, size_t head_len, const uint8_t *bytes, size_t n,
                    const ProtobufCMessage *tail, uint8_t **out, size_t *out_len);

/* Which version of an outfall a read shows: the latest, or the last one a supervisor approved
 * (rebuilt from the field history). Integrators always read the approved one; for everyone else
 * DEFAULT means the latest. */
enum { FEED_VIEW_DEFAULT = 0, FEED_VIEW_LATEST = 1, FEED_VIEW_APPROVED = 2 };

int feed_read_outfall_view(store *s, const principal *p, const char *id, int view,
                           Outfall__V1__Outfall **out, sync_error *err);

/* One outfall (in the default view) or observation by id, if p may see it; else not_found.
 * Integrators see only observations of outfalls approved at least once, as in the feed. Freed
 * with free_unpacked. */
int feed_read_outfall(store *s, const principal *p, const char *id, Outfall__V1__Outfall **out,
                      sync_error *err);
int feed_read_observation(store *s, const principal *p, const char *id,
                          Outfall__V1__Observation **out, sync_error *err);

/* Whether p may read photo hash beyond its division scope (sync/photos.c checks that): an
 * integrator reads only photos named by an observation of an outfall approved at least once,
 * through a reference that counts (its author uploaded the photo: sync/photos.h).
 * Returns 0 when visible, not_found (as for an absent photo) when not, or another negative code. */
int feed_photo_visible(store *s, const principal *p, const char *hash, sync_error *err);

/* A filtered, paged list of outfalls. Filters that are NULL or 0 do not apply. page_token is the
 * next_page_token of the previous page (NULL for the first). */
typedef struct outfall_query {
    const char *river_code;
    const char *division_code;
    int review_state; /* Outfall__V1__ReviewState, 0 = any */
    int limit;        /* 0 = 100; at most 1000 */
    int view;         /* FEED_VIEW_*: approved lists only outfalls approved at least once */
    const char *page_token;
    /* The inventory's filters, on the latest version only (in the approved view they are
     * refused: invalid_argument). Each is checked by the caller before it comes here. */
    const char *text;       /* q: part of the code or the name (ASCII letters in any case) */
    const char *type_name;  /* an OutfallType's full name, e.g. "OUTFALL_TYPE_MINE" */
    const char *stage_name; /* a LifecycleStage's full name; FOUND includes approved outfalls
                             * without a stage; any stage lists only approved outfalls */
    const char *flag;       /* one of the record's flags, e.g. "duplicate_suspect" */
    int overdue;            /* 1: a plan is set, not remediated, and its deadline (or transition
                             * period's end, if later) is before today (China Standard Time) */
} outfall_query;

int feed_list_outfalls(store *s, const principal *p, const outfall_query *q,
                       Outfall__V1__OutfallList **out, sync_error *err);

/* For the engine's write path: moves kind/id to the feed's head (a new seq) under division_code.
 * kind is "outfall", "observation" or "redirect"; rowid is the record's rowid in its table
 * (outfalls for "outfall" and "redirect", observations for "observation"), the key of its one
 * feed row. Call inside the write transaction. */
int feed_touch(store *s, const char *kind, const char *id, int64_t rowid, const char *division_code,
               sync_error *err);

#endif
