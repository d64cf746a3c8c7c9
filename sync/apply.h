/* Applying one change of a batch to the inventory: create, fast-forward, three-way merge,
 * conflicts, duplicate suspects, photo references. Runs inside the batch's transaction. */
#ifndef SYNC_APPLY_H
#define SYNC_APPLY_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "common/util.h"
#include "sync/history.h"
#include "sync/record.h"
#include "sync/store.h"

/* What a create's write reads of the database, read ahead by the batch's worker on the snapshot
 * the writer's transaction started from, when nothing the batch wrote before the change can
 * have changed it (sync/read_ahead.h). Each holds for the id it names only; what is not
 * held the writer reads itself. */
typedef struct apply_lookahead {
    int change_new; /* 1: no change kept has the change's id */
    int entity_new; /* 1: no record of the change's kind has the change's entity id */
    /* An observation's outfall, found live ("" when not looked up): the id looked up, the one
     * its merge redirects lead to, and that one's division. */
    char outfall_id[UUID_STR_LEN + 1], live[UUID_STR_LEN + 1], division[8];
} apply_lookahead;

typedef struct apply_ctx {
    store *s;
    const sync_config *cfg;
    const principal *p;
    const char *device_id;
    int64_t now_ms;
    /* Photo hashes the batch names that the sender does not hold (not stored, or never
     * uploaded by them: sync/photos.h), for the phone to upload (malloc'd strings, no repeats). */
    char **missing;
    size_t n_missing, cap_missing;
    /* The user a photo reference the change adds counts as named by (a reference counts only
     * when its author uploaded the photo); 0: p. A supervisor taking a phone's value of an
     * observation's photos sets it to that phone's user. */
    int64_t photo_author;
    /* A new outfall's found date (sync/entity.c): when the batch was received and when its
     * device was enrolled (sync/batch.c; 0: unknown), and the change's time on the phone
     * (apply_change sets it; 0: not sent). */
    int64_t received_ms, enrolled_ms, client_time_ms;
    /* An index over missing, so that a batch naming thousands of photos finds a repeat at once:
     * open addressing, a power-of-two count of slots at most half full, each holding an index
     * into missing plus 1 (0: empty). */
    size_t *missing_slots, n_slots;
    /* The change being applied's reads made ahead, or NULL (apply_change_prepared sets it). */
    const apply_lookahead *ahead;
} apply_ctx;

/* Applies ch and writes its outcome into r (status, version, reason, conflicts, duplicate_of;
 * strings malloc'd, as free_unpacked expects). A change the rules refuse is a REJECTED result
 * with nothing written, not an error. Returns 0, or a negative code on a storage failure, after
 * which the caller must roll the batch back. */
int apply_change(apply_ctx *c, const Outfall__V1__Change *ch, Outfall__V1__ChangeResult *r,
                 sync_error *err);

/* What apply_change works out from a change without the database (the phone's fields as JSON,
 * or a refusal that needs no stored record), made ahead of the write on any thread: the HTTP
 * worker prepares a batch's changes before it queues for the writer (sync/batch.c). */
typedef struct apply_prep {
    int ready;              /* 1: fields or the refusal hold the answer; 0: work it out again */
    json_t *fields;         /* the phone's fields without the id (owned), or NULL */
    char *reason, *message; /* the refusal (malloc'd), or NULL */
    /* For a create, the texts the writer would write of the fields (kept when fields are
     * taken; empty when they could not be made): the document's members (RECORD_DOC_FLAGS) and
     * version 1's history leaves (RECORD_FIELDS_FLAGS). */
    record_pieces doc_texts, leaf_texts;
    /* For a create, taken by the writer with fields: the document it writes (a copy of fields)
     * and version 1's history leaves (path -> value of fields); owned, or NULL. */
    json_t *doc, *leaves;
    /* What the writer let go of (fields, the document, the leaves), freed with the preparation
     * off the writer's thread (prep_free_later); owned, or NULL. */
    json_t *spent[3];
    /* Reads made ahead for the change's write (all 0 / "": none). */
    apply_lookahead ahead;
} apply_prep;

/* Fills *prep for ch, reading nothing but ch. Returns 0, or -1 when out of memory (*prep then
 * not ready, which apply_change_prepared takes as no preparation). */
int apply_prepare(const Outfall__V1__Change *ch, apply_prep *prep);

/* Frees what *prep holds and zeroes it. */
void apply_prep_free(apply_prep *prep);

/* apply_change with the work apply_prepare did for ch (prep may be NULL or not ready: then it is
 * done here). Takes prep's fields, so a second call for the same change does that work again;
 * the answer, the rows written and the refusals are apply_change's, byte for byte. */
int apply_change_prepared(apply_ctx *c, const Outfall__V1__Change *ch, apply_prep *prep,
                          Outfall__V1__ChangeResult *r, sync_error *err);

/* Sets fields (an object of leaf path -> JSON value; null clears) on record kind/id as the
 * server's own act (a supervisor's decision: server-owned fields allowed), checks the rules, and
 * writes a new version with its history and feed entry. c->p must cover the record's division
 * (else outside_division, 403). A value the rules refuse is SYNC_EINVALID with the rule's reason.
 * *version (may be NULL) gets the new version. Call inside a write transaction. */
int apply_set_fields(apply_ctx *c, const char *kind, const char *id, json_t *fields,
                     const history_author *a, int64_t *version, sync_error *err);

/* Sets or clears a reviewer flag in a record document. */
void apply_flag(json_t *doc, const char *flag, int on);

/* A photo has just been stored: recomputes the photo flags of every observation that names it
 * (photos_pending clears when the last one lands), as a new version in the feed. Call inside the
 * write transaction that records the photo. Returns 0 or a negative code. */
int entity_photo_arrived(store *s, const sync_config *cfg, const char *hash, sync_error *err);

/* Frees the missing-photo list and its index. */
void apply_ctx_free(apply_ctx *c);

#endif
