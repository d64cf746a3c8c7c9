/* The review queue: every open question the sync left for supervisors, in one list. */
#ifndef SYNC_QUEUE_H
#define SYNC_QUEUE_H

#include "sync/store.h"

typedef struct queue_query {
    int kind;                  /* Outfall__V1__ReviewItemKind, 0 = all */
    const char *division_code; /* NULL = any the caller covers */
    const char *river_code;
    int limit;              /* 0 = 50; at most 500 */
    const char *page_token; /* next_page_token of the previous page, NULL for the first */
} queue_query;

/* The open items in p's divisions, oldest first, with counts per kind over the whole filtered
 * queue. Items: records pending approval (new, or changed since approval), open conflicts, open
 * duplicate pairs, observations with reviewer flags not acknowledged, approved outfalls with a
 * plan-rule flag (rule3_, rule4_) not acknowledged (FLAGGED, no observation), returned records
 * resubmitted, inspection
 * results waiting for approval (programme/inspection_results.h). A duplicate pair across two
 * divisions (city_decides) is an item in each division's queue, and once for whoever sees both; its
 * `neighbour` record comes only to those who may read it, so a county supervisor learns that a
 * suspect exists in the other county, never its fields. *out is freed with free_unpacked. */
int queue_list(store *s, const principal *p, const queue_query *q, Outfall__V1__ReviewQueue **out,
               sync_error *err);

/* An outfall's history: every field's values over time with who, which device, when and through
 * which change or decision (outfalls merged into it included), its observations' timeline, and
 * what changed since its approved version. */
int queue_history(store *s, const principal *p, const char *outfall_id,
                  Outfall__V1__OutfallHistory **out, sync_error *err);

#endif
