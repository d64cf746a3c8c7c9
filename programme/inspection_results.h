/* Inspection results (双随机、一公开, 三.二): what an inspector found at an outfall a random draw
 * (programme/draws.h) picked for them, and when it counts.
 *
 * A result is an ordinary observation that carries `inspection_draw_id` and `inspection_result`
 * (with notes and photos as usual), sent by the phone through POST /v1/sync. The rules, checked
 * by the observation kind's check (sync/entity.c) on every phone change:
 * - the draw id is set when the observation is created and never changes (read_only_field); a
 *   result without a draw id is refused (inspection_draw_required);
 * - the draw exists (unknown_draw), the outfall was picked in it (not_in_draw), and the sending
 *   user is the inspector the draw assigned to that pick: a draw names inspectors by username
 *   (not_assigned_inspector); a result and observed_at_ms are required
 *   (inspection_result_required, missing_field);
 * - the first result for a pick wins: another observation for the same pick is refused
 *   (inspection_already_recorded); the inspector corrects theirs with ordinary versioned edits.
 * - a new result is taken until the end of the draw's deadline day (China Standard Time), then
 *   refused (inspection_deadline_passed): the pick is NOT_DONE, never an inspection; a result
 *   sent in time may still be corrected afterwards.
 * The pick alone authorises its inspector: the result (and its corrections) may come from an
 * account of any division (sync/entity.c, entity_pick_result); nothing else of the outfall's
 * division opens to it.
 *
 * A supervisor approves (or returns) a result through POST /v1/review/decisions
 * (DECISION_KIND_APPROVE_INSPECTION / RETURN_INSPECTION): approval pins the observation's version
 * in inspection_approved_version. Only the approved version counts: the public draw page and the
 * outfall's public "last inspection" read the result and date of that version from the field
 * history, so a later edit shows nowhere until it is approved in turn. Every phone change of a
 * result puts it back in the review queue (REVIEW_ITEM_KIND_INSPECTION).
 *
 * The engine keeps one row per result beside the observation (table inspection_results): the
 * pick, the outfall, the last decision and whether it waits for review. */
#ifndef PROGRAMME_INSPECTION_RESULTS_H
#define PROGRAMME_INSPECTION_RESULTS_H

#include <jansson.h>

#include "sync/hooks.h"
#include "sync/store.h"

/* Checks observation observation_id's document doc (old_doc before the change, NULL for a new
 * one) of live outfall outfall_id against the rules above, for a change from a phone
 * (from_phone); the server's own acts (decisions, merges) pass. Returns 0, 1 when the change is
 * refused (why->code the stable reason, why->message for people), or a negative code on a
 * storage failure (why filled). */
int inspection_results_check(store *s, const principal *p, int from_phone, json_t *old_doc,
                             json_t *doc, const char *outfall_id, const char *observation_id,
                             sync_error *why);

/* Keeps the result row of an observation that carries a draw id, after the engine saved it:
 * a phone's change (from_phone) or a new result waits for review. Call inside the write
 * transaction. Returns 0 or a negative code. */
int inspection_results_save(store *s, int from_phone, json_t *doc, const char *observation_id,
                            const char *outfall_id, const char *division_code, int64_t user_id,
                            int64_t now_ms, sync_error *err);

/* The result row of observation id (the engine's review reads it through sync/hooks.h). */
typedef hooks_inspection_row inspection_results_row;

/* Loads the result row of observation id into *out: 1 found, 0 not, negative on failure. */
int inspection_results_load(store *s, const char *observation_id, inspection_results_row *out,
                            sync_error *err);

/* Marks observation id's result as decided (no longer waiting). Inside the decision's
 * transaction. Returns 0 or a negative code. */
int inspection_results_settle(store *s, const char *observation_id, sync_error *err);

/* The latest approved result of outfall id (by its approved version's observed_at_ms): 1 with
 * *at_ms and *result (an InspectionResult), 0 when it has none, or a negative code. */
int inspection_results_last_approved(store *s, const char *outfall_id, int64_t *at_ms, int *result,
                                     sync_error *err);

/* Adds to each pick of draw d its state (OPEN, SUBMITTED, APPROVED, or NOT_DONE: no result by
 * d's deadline) and its approved result and date (result, inspected_at_ms), when there is one.
 * Returns 0 or a negative code. */
int inspection_results_fill_draw(store *s, Outfall__V1__InspectionDraw *d, sync_error *err);

enum { FINDINGS_MAX_TASKS = 500 };

/* The inspection tasks of p: every pick of a stored draw whose inspector is p's username, newest
 * draw first (then in draw order), at most FINDINGS_MAX_TASKS, each with the outfall's facts from
 * its latest version, the draw's deadline and where its result stands (OPEN, SUBMITTED, RETURNED
 * with the comment, APPROVED, or NOT_DONE: none by the deadline). *out is freed with free_unpacked.
 * Returns 0 or a negative code. */
int inspection_results_tasks(store *s, const principal *p, Outfall__V1__InspectionTaskList **out,
                             sync_error *err);

/* The Chinese name of an InspectionResult (合格, 发现问题, 违法排污; "" for another). Static. */
const char *inspection_results_result_name(int result);

#endif
