/* What sync/review.c shares with sync/review_merge.c (a duplicate pair's decisions): the record a
 * decision is about, and the helpers every decider uses. Not for other modules. */
#ifndef SYNC_REVIEW_INTERNAL_H
#define SYNC_REVIEW_INTERNAL_H

#include <jansson.h>
#include <stdint.h>

#include "sync/apply.h"
#include "sync/history.h"
#include "sync/store.h"

/* The record a decision is about, as loaded at its start. */
typedef struct decide_ctx {
    store *s;
    const principal *p;
    const Outfall__V1__Decision *d;
    apply_ctx ac;
    history_author a;
    char id[UUID_STR_LEN + 1];
    char division[8];
    char river[64];
    int64_t version;
    int64_t approved;
    int review_state;
    int merged;
    json_t *doc;
    char answer_id[UUID_STR_LEN + 1]; /* the record the result shows (the survivor of a merge) */
} decide_ctx;

/* The integer the query sql answers with its first parameter a (and its second b, unless NULL),
 * or -1 when it cannot be run. */
int64_t review_count(store *s, const char *sql, const char *a, const char *b);

/* Loads outfall id into the context's record fields. 1 found, 0 not, < 0 storage error. */
int review_load_outfall(decide_ctx *dc, const char *id);

/* The flags of doc without `flag`, as a new JSON value (null when none are left). */
json_t *review_flags_without(json_t *doc, const char *flag);

/* Applies fields to one record (kind "outfall" or "observation") through the engine's single
 * write path, as the decision's author. 0 or a sync error code with err filled. */
int review_set_fields(decide_ctx *dc, const char *kind, const char *id, json_t *fields,
                      sync_error *err);

/* Keeps the duplicate pair the decision names apart: the pair (and its twin) closed as
 * kept_apart, the suspect's duplicate_suspect flag cleared once no open pair names it. Codes:
 * not_found (404), invalid_decision (400), outside_division and
 * duplicate_cross_county_city_decides (403), not_open (409). */
int review_merge_keep_apart(decide_ctx *dc, sync_error *err);

/* Merges the duplicate pair the decision names into survivor_id: the fields take_from_other
 * names move from the other record, its observations move to the survivor, and it becomes a
 * redirect (merged_into). Codes as review_merge_keep_apart, and merged (409) when either record
 * was merged already. */
int review_merge_decide(decide_ctx *dc, sync_error *err);

#endif
