/* The programme (二, 一.二): each approved outfall's lifecycle, found → traced → planned →
 * remediated → closed | retained, its responsible party (二.一.2) and its remediation plan
 * (一口一策, 二.二) with the plan's rules. Every transition is a supervisor's act through the
 * engine's one write path (apply_set_fields): a new version with field history, a feed entry, an
 * audit row, and a retry-safe transition_id. The state lives in the record as Outfall.programme.
 *
 * Allowed moves (anything else is transition_not_allowed, 409, naming from and to):
 *   FOUND      -> FOUND       dates the find (found_on); an approved outfall without a stage is
 *                             FOUND
 *   FOUND      -> TRACED      the responsible party is known (or tracing failed: the county
 *                             government)
 *   TRACED     -> TRACED      corrects the party
 *   TRACED     -> PLANNED     sets the plan, checked against the rules
 *   PLANNED    -> PLANNED     revises the plan
 *   PLANNED    -> REMEDIATED  evidence: an observation with a stored remediation_done photo (none
 *                             needed when the measure is NONE)
 *   REMEDIATED -> PLANNED     verification failed (comment required); may carry a revised plan
 *   REMEDIATED -> CLOSED      销号, for BAN and MERGE plans
 *   REMEDIATED -> RETAINED    onto the retained list, for REGULARIZE and NONE plans
 *
 * Plan rules (docs/domain.md rules 1-5) are programme/rules.h's: rules 1, 2 and 5 refuse a plan (on
 * PLANNED) with the rule's code and clause; rules 3 and 4 flag the outfall (on PLANNED and
 * RETAINED).
 */
#ifndef PROGRAMME_LIFECYCLE_H
#define PROGRAMME_LIFECYCLE_H

#include <stdint.h>

#include <jansson.h>

#include "sync/store.h"

/* Applies transition t by supervisor (or admin) p in one transaction. A retried transition_id
 * answers its first result with status ALREADY_APPLIED. Dates (docs/programme.md, Dates): the
 * effective date is kept beside the recording time (the server's clock: the transition row's
 * at_ms, programme.recorded_at_ms, the result's recorded_at_ms, the audit row); it may not lie
 * before the outfall's first field observation (date_before_first_observation) nor in the future
 * (invalid_date); one more than cfg->backdate_days before today needs t->reason and
 * t->evidence_hash (backdate_needs_reason) and flags the outfall date_backdated, the audit row
 * saying so. Codes: invalid_transition, invalid_date, date_before_first_observation,
 * backdate_needs_reason, date_out_of_order, comment_required, plan_required, plan_invalid,
 * invalid_party, credit_code_required, invalid_credit_code, invalid_phone, evidence_invalid,
 * rule1_protection_zone, rule2_storm_outfall, rule5_safety_note_required (400); outside_division,
 * forbidden_role (403); not_found (404); stale_version, transition_id_reused,
 * transition_not_allowed, not_approved, pending_review, merged, evidence_required,
 * measure_keeps_outfall, measure_removes_outfall (409). *out is freed with free_unpacked. */
int lifecycle_transition(store *s, const sync_config *cfg, const principal *p,
                         const Outfall__V1__LifecycleTransition *t,
                         Outfall__V1__TransitionResult **out, sync_error *err);

/* Checks a responsible party given as JSON (proto field names): a name, a valid unified social
 * credit code (required when need_code), a plausible phone, permit_outfalls_allowed >= 1. */
int lifecycle_check_party(json_t *party, int need_code, sync_error *err);

/* Calendar dates YYYY-MM-DD. lifecycle_date_days gives the days since 1970-01-01 into *days and
 * returns 0, or -1 when text is not a real date from 1900 to 2999. */
int lifecycle_date_days(const char *text, int64_t *days);

/* The short name of a stage ("FOUND"), or "UNSPECIFIED". Static. */
const char *lifecycle_stage_name(int stage);

#endif
