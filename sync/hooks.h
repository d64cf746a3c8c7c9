/* Where the engine calls a programme feature: a table of function pointers the programme
 * registers at start (programme/hooks.c, programme_hooks_install), so that no file of the engine
 * includes a programme header. Two features reach into the engine's write path today:
 * - inspection results (programme/inspection_results.h): an observation that carries an inspection
 * draw is checked and recorded beside the observation, and a supervisor approves or returns it;
 * - photos of public reports (programme/public_report_photos.h): a report's upload token holds,
 * uploads and shows the photos its report names. With no hook registered (the engine alone, as some
 * engine tests run it) each call below answers 0: nothing is refused, nothing recorded, no
 * inspection result found, no report holds a photo.
 *
 * The table is set once, before any thread uses the engine, and only read afterwards. */
#ifndef SYNC_HOOKS_H
#define SYNC_HOOKS_H

#include <jansson.h>
#include <stdint.h>

#include "sync/store.h"

/* An inspection result's row beside its observation, as the review reads it. */
typedef struct hooks_inspection_row {
    char outfall_id[40];
    char division_code[8];
    int pending;        /* waits for a supervisor */
    int decision_state; /* Outfall__V1__ReviewState of the last decision, 0 = none */
    int64_t approved_version;
    int64_t version; /* the observation's current version */
    int has_comment; /* the observation carries an inspection_comment (a return's) */
} hooks_inspection_row;

/* The hooks; a NULL member answers 0. The contracts are those of the calls below. */
typedef struct hooks {
    int (*observation_check)(store *s, const principal *p, int from_phone, json_t *old_doc,
                             json_t *doc, const char *outfall_id, const char *observation_id,
                             sync_error *why);
    int (*observation_saved)(store *s, int from_phone, json_t *doc, const char *observation_id,
                             const char *outfall_id, const char *division_code, int64_t user_id,
                             int64_t now_ms, sync_error *err);
    int (*inspection_load)(store *s, const char *observation_id, hooks_inspection_row *out,
                           sync_error *err);
    int (*inspection_settle)(store *s, const char *observation_id, sync_error *err);
    int (*report_photo_held)(store *s, const principal *p, const char *hash, sync_error *err);
    int (*report_photo_uploaded)(store *s, const principal *p, const char *hash, int64_t now_ms,
                                 sync_error *err);
    int (*report_photo_visible)(store *s, const principal *p, const char *hash, sync_error *err);
} hooks;

/* Registers h (copied; NULL: no hooks, every call answers 0). Call before any thread uses the
 * engine. */
void hooks_install(const hooks *h);

/* Checks observation observation_id's document doc (old_doc before the change, NULL for a new
 * one) of live outfall outfall_id, for a change from a phone (from_phone). Returns 0 when it
 * passes, 1 when the change is refused (why->code the stable reason, why->message for people),
 * or a negative code on a storage failure (why filled). */
int hooks_observation_check(store *s, const principal *p, int from_phone, json_t *old_doc,
                            json_t *doc, const char *outfall_id, const char *observation_id,
                            sync_error *why);

/* After the engine saved observation observation_id (document doc, inside the write
 * transaction): the features record what they keep beside it. Returns 0 or a negative code. */
int hooks_observation_saved(store *s, int from_phone, json_t *doc, const char *observation_id,
                            const char *outfall_id, const char *division_code, int64_t user_id,
                            int64_t now_ms, sync_error *err);

/* Loads the inspection result row of observation observation_id into *out: 1 found, 0 not,
 * negative on failure. */
int hooks_inspection_load(store *s, const char *observation_id, hooks_inspection_row *out,
                          sync_error *err);

/* Marks observation observation_id's inspection result as decided (no longer waiting), inside
 * the decision's transaction. Returns 0 or a negative code. */
int hooks_inspection_settle(store *s, const char *observation_id, sync_error *err);

/* 1 when public reporter p's report holds photo hash (its token uploaded it), 0 when not, or a
 * negative code. */
int hooks_report_photo_held(store *s, const principal *p, const char *hash, sync_error *err);

/* Inside the caller's write transaction: records that reporter p's token uploaded photo hash.
 * Returns 1 when newly recorded, 0 when not, or a negative code. */
int hooks_report_photo_uploaded(store *s, const principal *p, const char *hash, int64_t now_ms,
                                sync_error *err);

/* 1 when supervisor or admin p may see photo hash because a public report of a division p covers
 * names it and uploaded it, 0 when not, or a negative code. */
int hooks_report_photo_visible(store *s, const principal *p, const char *hash, sync_error *err);

#endif
