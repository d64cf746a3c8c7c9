/* Review: supervisors' decisions (through the same write path as phones), the review queue, and
 * an outfall's history. */
#ifndef SYNC_REVIEW_H
#define SYNC_REVIEW_H

#include "sync/store.h"

/* Applies decision d by supervisor (or admin) p in one transaction: a new version of each record
 * it touches, with history rows naming d->decision_id, feed entries and an audit row. A retried
 * decision_id answers its first result with status ALREADY_APPLIED. Codes: invalid_decision,
 * comment_required, invalid_value (400); outside_division, forbidden_role,
 * duplicate_cross_county_city_decides (a pair across two divisions, decided by the city) (403);
 * not_found (404);
 * stale_version, decision_id_reused, open_conflicts, open_duplicate, not_open, merged (409).
 * *out is freed with free_unpacked. */
int review_decide(store *s, const sync_config *cfg, const principal *p,
                  const Outfall__V1__Decision *d, Outfall__V1__DecisionResult **out,
                  sync_error *err);

#endif
