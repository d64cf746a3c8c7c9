/* An observation's photo references as its save writes them (migration 0029: keyed by the
 * observation's rowid and a slot, sync/photos.h) with their hash entries (migration 0030), and
 * the batch's list of photos for the phone to upload that comes of them. Internal to the
 * engine's write path (entity.c). */
#ifndef SYNC_PHOTO_REFS_H
#define SYNC_PHOTO_REFS_H

#include "sync/entity.h"

/* Keeps observation rw's photo references beside it, each under a key in its rowid's range
 * (rw->rowid: save_common has set it, for a created one too, before this runs; migration 0029):
 * those it no longer names go (a created observation has none yet: its rowid is new), each it
 * names is kept with its kind and division, a reference it had keeps its author and slot, and a
 * new one takes the lowest free slot and counts as named by entity_photo_author.
 * observation_check has held the list to PHOTO_REF_SLOTS photos, so a slot is always free. The
 * photos the sender named but does not hold (not stored, or never uploaded by them) are listed
 * for the phone (apply_ctx.missing), which then uploads them. A new reference's hash entry
 * (migration 0030) is made at once when it is keyed up to photo_ref_hashes_upto.upto, and
 * otherwise with the others waiting, once PHOTO_HASHES_MERGE_AT wait. Returns 0 or a negative
 * code. */
int photo_refs_save(apply_ctx *c, entity_row *rw, int created, sync_error *err);

/* The references without a hash entry yet (migration 0030: the newest, keyed after
 * photo_ref_hashes_upto.upto) that photo_refs_save lets wait before it makes their entries in
 * one ordered pass, writing each page of photo_ref_hashes once then. A lookup by hash reads
 * these references themselves, so their number bounds its work too. */
#define PHOTO_HASHES_MERGE_AT 8192

#endif
