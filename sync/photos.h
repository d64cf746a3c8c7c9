/* The content-addressed photo store. A finished photo lives at photos/ab/cd/<hash> and has a row
 * in `photos` with its EXIF facts; it is written to a temporary name in its folder, fsynced,
 * renamed and recorded (with the observations' photo flags refreshed) in one transaction, so a
 * crash leaves either no row or a row with a whole, verified file. Every byte is checked before a
 * photo is kept: its BLAKE2b-256 against the hash it was sent to, its type by magic bytes, a
 * JPEG's end marker. Finished photos are never deleted. Knows nothing of HTTP.
 *
 * Holders. Naming a photo's hash does not make it yours: whoever uploads bytes that check out
 * proves they have the photo and is recorded as a holder of it (a user in `photo_holders`; a
 * public report in its `public_report_photos` row), the first one storing it, each later one
 * only recorded (one copy is kept). A reference to a photo (an observation's, a report's) counts
 * only when its author holds it: reads (photos_read_info), the reviewer's flags (photos_pending
 * until then), the photo archive and the integrators' view follow counted references only. Each
 * holder has uploads of their own: resumable ones (tus) as uploads/<hash>.<holder>.part with a
 * row in `uploads`, whole-file ones (PUT) in a private temporary file; another's upload of the
 * same photo is invisible to them and proves nothing for them.
 *
 * Uploads made with a public report's upload token (programme/public_report_photos.h) are the
 * public's: each belongs to the report and the client address that created it. They expire within
 * hours (report_expiry_ms untouched, or as soon as the report's token expires), and while
 * unfinished their Upload-Length counts against the quota of that address: report_quota_bytes in
 * all, for at most report_max_reports reports. Staff uploads have no quota and expire after the
 * caller's max_age_ms (--upload-expiry). */
#ifndef SYNC_PHOTOS_H
#define SYNC_PHOTOS_H

#include <stddef.h>
#include <stdint.h>

#include "sync/exif.h"
#include "sync/photo_store.h"
#include "sync/store.h"

/* An observation's photo references (migration 0029): each one's key is its observation's rowid
 * times PHOTO_REF_SLOTS plus its slot, so an observation names at most PHOTO_REF_SLOTS photos.
 * As SQL on SQL expressions: PHOTO_REF_KEY(rowid, slot) is the key of a reference, and
 * PHOTO_REFS_OF(key, rowid) says key is one of the references of the observation whose rowid is
 * rowid (a range of keys, which SQLite reads by rowid). */
#define PHOTO_REF_SLOTS 1024
#define PHOTO_REF_SLOTS_SQL "1024"
#define PHOTO_REF_KEY(rowid, slot) "(" rowid ") * " PHOTO_REF_SLOTS_SQL " + (" slot ")"
#define PHOTO_REFS_OF(key, rowid)                                                                  \
    key " BETWEEN " PHOTO_REF_KEY(rowid, "0") " AND " PHOTO_REF_KEY(rowid,                         \
                                                                    PHOTO_REF_SLOTS_SQL " - 1")

/* As SQL: the references (rows of observation_photo_refs, or of a view with its ref_key and hash,
 * under the name ref) to the photo whose hash is the expression hash (migration 0030): those
 * whose entry in photo_ref_hashes has the hash's first 8 hex digits, and those keyed after
 * photo_ref_hashes_upto.upto (no entry yet, sync/photo_refs.h) with the hash; the whole hash
 * compared on each. */
#define PHOTO_REFS_NAMING(ref, hash)                                                               \
    ref ".ref_key IN (SELECT ref_key FROM photo_ref_hashes WHERE hash8 = substr(" hash             \
        ", 1, 8) UNION ALL SELECT ref_key FROM observation_photo_refs WHERE ref_key > (SELECT "    \
        "upto FROM photo_ref_hashes_upto) AND hash = " hash ") AND +" ref ".hash = " hash

/* Where photos live and what is accepted. Strings borrowed; shared by every thread. */
typedef struct photos_env {
    const char *photos_dir;  /* DATA/photos */
    const char *uploads_dir; /* DATA/uploads */
    int64_t max_bytes;       /* the largest photo accepted */
    const sync_config *cfg;  /* the reviewer flags' settings */
    /* The public's uploads (made with a report's token); 0: no expiry of their own (the
     * staff's), no quota. */
    int64_t report_expiry_ms;   /* a partial one untouched this long goes */
    int64_t report_quota_bytes; /* Upload-Length one address's unfinished ones may hold in all */
    int report_max_reports;     /* reports one address may hold unfinished ones for */
    int64_t staff_expiry_ms;    /* a staff upload untouched this long goes (--upload-expiry), for
                                 * photos_upload_describe; 0: not told */
    const photo_store *store;   /* where stored photos' bytes live; NULL: the folder photos_dir */
} photos_env;

enum { PHOTOS_METADATA_MAX = 1024 }; /* bytes of Upload-Metadata an upload keeps */

/* A stored photo's row. */
typedef struct photos_info {
    char hash[65];
    int64_t size;
    exif_facts facts;
    int64_t uploaded_by; /* user id; 0 when unknown */
    int64_t stored_at_ms;
} photos_info;

enum { PHOTOS_MAX_ASK = 1000 }; /* hashes in one photos_missing call */

/* The hashes of hashes[0..n) p does not hold (the server lacks them, or p never uploaded them),
 * in the order given, without repeats: *out is a malloc'd array of pointers borrowed from hashes
 * (the caller frees the array only). Codes: invalid_argument (a hash that is not 64 lowercase hex
 * digits, or more than PHOTOS_MAX_ASK). */
int photos_missing(store *s, const principal *p, char *const *hashes, size_t n, const char ***out,
                   size_t *n_out, sync_error *err);

/* The row of stored photo hash into *out when p may read it: p holds it, or may read a record
 * whose reference to it counts: an observation of a division p covers (every division, for those
 * who see them all; sync/feed.h narrows integrators further), or, as a supervisor or admin, a
 * public report of such a division that uploaded it (programme/public_report_photos.h). Codes:
 * invalid_argument (not a hash), not_found (absent, or not visible to p: the two look the same). */
int photos_read_info(store *s, const principal *p, const char *hash, photos_info *out,
                     sync_error *err);

/* Streams bytes [offset, offset + length) (length < 0: to its end) of stored photo hash to sink,
 * from the folder or the bucket (env->store). Call after photos_read_info. Nothing reaches sink
 * when it fails before the first byte; a sink that stops is no failure. Codes:
 * photo_store_unavailable (503: the bucket is down or slow), internal (its bytes are missing). */
int photos_read(const photos_env *env, const char *hash, int64_t offset, int64_t length,
                photo_sink sink, void *ctx, sync_error *err);

/* ---- uploads ---- */

/* One request's writing into an upload, from photos_upload_open or photos_put_open until
 * photos_upload_finish or photos_upload_abort (which free it). Holds the hash's upload lock. */
typedef struct photos_upload photos_upload;

/* tus creation: registers p's upload of length bytes of hash from client_addr, with an empty
 * part file, keeping metadata (Upload-Metadata as sent, at most PHOTOS_METADATA_MAX bytes; NULL:
 * none). Creating it again with the same length keeps its bytes (metadata replaced). *stored is set
 * to 1 (and nothing made) when p holds the photo already; a photo stored by others is uploaded
 * again (its bytes are the proof) and kept once. A reporter's upload (principal_report_number(p))
 * is the public's, of p's report and client_addr, and is refused, nothing made or changed, when it
 * would take client_addr's unfinished public uploads (this one's earlier length left out) past
 * env->report_quota_bytes or past env->report_max_reports reports (when those are set). Codes:
 * invalid_argument, forbidden_role (p is no user or report), photo_too_large (413),
 * upload_length_conflict (409: p's upload of another length has bytes already), upload_locked,
 * upload_quota_exceeded, upload_reports_exceeded (429). */
int photos_upload_create(store *s, const photos_env *env, const principal *p,
                         const char *client_addr, const char *hash, int64_t length,
                         const char *metadata, int *stored, sync_error *err);

/* tus: what p's unfinished upload of hash keeps beside its bytes: its Upload-Metadata into
 * metadata[cap] ("" when none), and *expires_ms, when it will be deleted if left untouched (the
 * staff's: env->staff_expiry_ms after its last bytes, 0 when that is 0; the public's: the earlier
 * of env->report_expiry_ms after them and its report's token's expiry). No upload (finished, or
 * never made): metadata "" and *expires_ms 0. Codes: invalid_argument, forbidden_role, internal. */
int photos_upload_describe(store *s, const photos_env *env, const principal *p, const char *hash,
                           char *metadata, size_t cap, int64_t *expires_ms, sync_error *err);

/* tus termination: deletes an unfinished upload of hash, its row and its part file, waiting for a
 * request writing it. holder NULL: p's own; else the holder key ("u<user id>" or "r<report
 * number>") of another's, which only an admin may delete. A finished photo is never deleted.
 * Audited (photo.upload.delete): a deletion, and the refusals forbidden_role and photo_stored.
 * Codes: invalid_argument, forbidden_role (403: another's upload and p no admin), photo_stored
 * (409: p holds the stored photo and has no upload of it), not_found (no such upload),
 * upload_locked (423). */
int photos_upload_delete(store *s, const photos_env *env, const principal *p, const char *holder,
                         const char *hash, sync_error *err);

/* tus HEAD: the offset (bytes received) and length of p's upload of hash; a photo p holds
 * answers offset = length = its size. Waits for a request writing into it to finish. Codes:
 * invalid_argument, not_found (p has no such upload, and does not hold the photo: whether others
 * have it is not told), upload_locked (423: still written to). */
int photos_upload_state(store *s, const photos_env *env, const principal *p, const char *hash,
                        int64_t *offset, int64_t *length, sync_error *err);

/* tus PATCH: opens p's upload of hash to append at offset. When p holds the photo, *out is NULL
 * and *length its size (nothing to write). Codes: invalid_argument, not_found, offset_mismatch
 * (409: offset is not the upload's), upload_locked (423). */
int photos_upload_open(store *s, const photos_env *env, const principal *p, const char *hash,
                       int64_t offset, photos_upload **out, int64_t *length, sync_error *err);

/* PUT: opens a private upload by p of the whole file of hash into a temporary file. length is
 * the declared size (-1 when unknown). When p holds the photo already, *out is NULL and *size its
 * size (nothing to read). Codes: invalid_argument, forbidden_role, photo_too_large (413),
 * storage_full, internal. */
int photos_put_open(store *s, const photos_env *env, const principal *p, const char *hash,
                    int64_t length, photos_upload **out, int64_t *size, sync_error *err);

/* Appends buf[n] at the upload's offset. Codes: beyond_upload_length (400, nothing written),
 * photo_too_large (413), storage_full (507), internal. */
int photos_upload_write(photos_upload *u, const void *buf, size_t n, sync_error *err);

/* The offset reached so far. */
int64_t photos_upload_offset(const photos_upload *u);

/* Drops what this request appended, as for a chunk whose checksum failed. */
int photos_upload_rewind(photos_upload *u, sync_error *err);

/* What photos_upload_finish did with a whole upload. */
enum {
    PHOTOS_NOT_STORED = 0, /* not whole yet, or refused */
    PHOTOS_STORED_NOW = 1, /* its bytes are the photo now */
    PHOTOS_HAD_IT = 2,     /* the photo was stored before: p is recorded as a holder, no copy */
};

/* Ends the request's writing. The bytes received are kept (synced to disk); when the upload is
 * whole (a PUT always is) they are verified and stored as the photo, or dropped when it is stored
 * already, and p is recorded as a holder, with entity_photo_arrived in the same transaction.
 * *stored is set to one of PHOTOS_*. A failed check discards the upload whole. Frees u and
 * releases its lock in every case. With a bucket (env->store), the verified bytes are put there
 * before the photo is recorded; when that fails the photo is not recorded and a tus upload keeps
 * its whole part file, so a retry (a HEAD) only sends it to the bucket. Codes: digest_mismatch
 * (400), unsupported_media_type (400; the server answers 415), truncated_image (400),
 * storage_full (507), busy (503), photo_store_unavailable (503), internal. */
int photos_upload_finish(store *s, const photos_env *env, photos_upload *u, const principal *p,
                         int *stored, sync_error *err);

/* Ends the request without finishing: a PUT's temporary file is removed; a tus upload keeps
 * the bytes it has. Frees u and releases its lock. NULL is fine. */
void photos_upload_abort(photos_upload *u);

/* Deletes the stale uploads with their part files, skipping any being written: the staff's
 * untouched since before now_ms - max_age_ms, the public's untouched since before now_ms -
 * env->report_expiry_ms (max_age_ms when that is 0) or whose report's token has expired by now_ms.
 * With sweep_files, also files under uploads/ that no row explains and are older than
 * max_age_ms. Finished photos are never touched. Returns how many uploads went, or a negative
 * code. */
int photos_expire(store *s, const photos_env *env, int64_t now_ms, int64_t max_age_ms,
                  int sweep_files, sync_error *err);

#endif
