/* Internal to the engine's write path (apply.c and entity.c): records as loaded, the two kinds of
 * record and the helpers both sides share. Other modules use sync/apply.h. */
#ifndef SYNC_ENTITY_H
#define SYNC_ENTITY_H

#include <jansson.h>

#include "common/util.h"
#include "sync/apply.h"
#include "sync/record.h"

/* A record as loaded from its table. */
typedef struct entity_row {
    int64_t rowid;
    int64_t version;
    char id[UUID_STR_LEN + 1];
    char division[8];
    char merged_into[UUID_STR_LEN + 1];
    char duplicate_of[UUID_STR_LEN + 1]; /* a new outfall's nearest neighbour, if any */
    double duplicate_distance_m;
    json_t *doc;
    /* The document's members as the phone sent them, written ahead (record_pieces_make with
     * RECORD_DOC_FLAGS), or NULL: saving copies those the document still holds as they were. */
    const record_pieces *doc_texts;
    /* Which photos of the document count, as its check found them (photo_flags): stored and
     * held by their reference's author, a bit a place in the list (PHOTO_REF_SLOTS of them,
     * sync/photos.h). Good for the list proven_of with proven_n entries only: saving asks the
     * database again for any other. */
    const json_t *proven_of;
    size_t proven_n;
    uint8_t proven[1024 / 8];
} entity_row;

typedef struct entity_kind {
    const char *name;
    const ProtobufCMessageDescriptor *desc;
    const char *const *read_only; /* fields only the server sets */
    const char *const *required;  /* fields a create must carry */
    int (*load)(apply_ctx *c, const char *id, entity_row *out);
    /* Checks doc (after the change) and sets derived state; 1 = rejected (r filled), 0, or < 0. */
    int (*check)(apply_ctx *c, entity_row *old, entity_row *doc, Outfall__V1__ChangeResult *r,
                 sync_error *err);
    int (*save)(apply_ctx *c, entity_row *rw, int created, sync_error *err);
} entity_kind;

/* The kinds, outfall first, then observation. */
extern const entity_kind entity_kinds[2];

/* Marks r REJECTED with a stable reason and a message for people, dropping any partial outcome.
 * Returns 1, so a check can `return apply_reject(...)`. (apply.c) */
int apply_reject(Outfall__V1__ChangeResult *r, const char *reason, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Follows merge redirects from outfall id to the live record: its id into live, its division
 * into division. Returns 1 when found, 0 when not, negative on a storage error. Reads c->s
 * only. */
int entity_live_outfall(apply_ctx *c, const char *id, char live[UUID_STR_LEN + 1],
                        char division[8]);

/* A string field of a document, borrowed; "" when absent. */
const char *entity_str(json_t *doc, const char *key);

/* The user a new photo reference of this change counts as named by: the change's own author,
 * or for a supervisor taking a phone's value (apply_ctx.photo_author) the phone's user. */
int64_t entity_photo_author(const apply_ctx *c);

/* 1 when a change of kind k to a record whose document is doc is an inspection pick's result sent
 * from a phone (an observation carrying inspection_draw_id): the pick, not the sender's divisions,
 * decides who may send it (programme/inspection_results.h checks the sender is its inspector). */
int entity_pick_result(const apply_ctx *c, const entity_kind *k, json_t *doc);

/* The flags of a document as compact JSON text (malloc'd), to tell whether they changed. */
char *entity_flags_text(json_t *doc);

/* Drops from doc's acknowledged_flags every flag doc no longer carries (a flag that clears is
 * forgotten, so when it is raised again it holds the record in the FLAGGED queue anew); removes
 * the list when it empties. Returns 1 when the list changed (the caller writes its history row),
 * else 0. */
int entity_forget_cleared(json_t *doc);

#endif
