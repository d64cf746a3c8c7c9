/* The remediation plan's rules (docs/domain.md rules 1-5, 二.二), checked for one outfall's plan by
 * the programme's transitions (programme/lifecycle.c). Refusals carry the rule's code and, in the
 * message, the clause it comes from:
 *   rule1_protection_zone      (二.二.2) inside an imported protection zone only BAN is allowed;
 *   rule2_storm_outfall        (二.二.1) a town storm-water outfall is never merged or blocked
 *                              (no MERGE, BAN or blocks_outfall; nor merged into); rule 2 wins
 *                              over rule 1 for such an outfall inside a zone;
 *   rule5_safety_note_required (二.二.1) works that may affect flood control or levees (the plan
 *                              says so, it blocks the outfall, or the outfall enters through a
 *                              sluice or pump station) need a safety note.
 * Rules 3 and 4 flag rather than refuse:
 *   rule3_enterprise_outfall_count  an enterprise outside parks keeps more outfalls than its
 *                                   permit allows (one unless permit_outfalls_allowed says more);
 *   rule4_in_park_direct_discharge  an in-park enterprise's outfall kept discharging to the river.
 * Only reads the store. */
#ifndef PROGRAMME_RULES_H
#define PROGRAMME_RULES_H

#include <jansson.h>

#include "sync/store.h"

#define RULES_MAX_NOTE_BYTES 4000

/* Checks plan, made on date (YYYY-MM-DD) for outfall id whose record is doc (borrowed), for its
 * own shape (measure, deadline, transition end, merge target, party, note sizes: plan_invalid and
 * the party's codes) and against rules 1, 2 and 5. Appends to zone_ids (a JSON array) the ids of
 * the protection zones holding the outfall. Returns 0 or the refusal (400). */
int rules_check_plan(store *s, const char *id, json_t *doc, const char *date,
                     const Outfall__V1__RemediationPlan *plan, json_t *zone_ids, sync_error *err);

/* Rules 3 and 4 for outfall id (record doc) under a plan with measure and party (the responsible
 * party as it will be, proto names): *changed is set when the record's flags must change, and then
 * *flags_out is their new value (a new reference; NULL when none are left). */
int rules_enterprise_flags(store *s, const char *id, json_t *doc, int measure, json_t *party,
                           json_t **flags_out, int *changed, sync_error *err);

#endif
