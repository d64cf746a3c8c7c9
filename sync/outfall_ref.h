/* Finding an outfall by what a person holds (issue 18): its id, or its code, the one on its sign
 * board and public page (Outfall.code, e.g. 410882-qinhe-09-0001, given at approval). Every
 * endpoint that asks for an outfall's id takes either: the path's {id} of GET /v1/outfalls/{id},
 * its /history and /signboard, and the outfall ids in transitions, review decisions and report
 * answers. One resolver, here. */
#ifndef SYNC_OUTFALL_REF_H
#define SYNC_OUTFALL_REF_H

#include "common/util.h"
#include "sync/store.h"

enum { OUTFALL_REF_MAX = 64 }; /* the longest code looked up, in bytes */

/* The id of the outfall ref names into id: ref itself when it is a UUID (whether such a record
 * exists and may be seen is the caller's question, as before), else the id of the outfall whose
 * code is ref. Returns 0, or unknown_outfall_code (404) when no outfall has that code (ref NULL,
 * empty, longer than OUTFALL_REF_MAX or holding a control character included). Reads only. */
int outfall_ref_resolve(store *s, const char *ref, char id[UUID_STR_LEN + 1], sync_error *err);

/* outfall_ref_resolve on a string field of a decoded message: a code in *field is replaced by the
 * outfall's id (the old string freed, the new one malloc'd); NULL, "" and UUIDs are left as they
 * are. Returns 0, unknown_outfall_code (404) or out_of_memory. */
int outfall_ref_rewrite(store *s, char **field, sync_error *err);

#endif
