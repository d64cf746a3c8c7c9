/* Photos of public reports (举报) and the upload tokens that let an anonymous reporter send them.
 *
 * A reporter lists the digests (BLAKE2b-256, 64 lowercase hex) of at most REPORT_PHOTOS_MAX photos
 * with the report. In the same transaction as the report, the server records them and issues an
 * upload token: 32 random bytes ("rpt-" and 64 hex digits), stored only as its BLAKE2b-256 hash,
 * valid for the configured time and scoped to exactly those digests of that report. With it, the
 * reporter uploads through the same photo upload as the staff (tus or PUT at /v1/photos/{hash}),
 * with the same digest check, size limit and magic-byte sniff; nothing else: no other digest, no
 * read, no other endpoint. No account is made. Abuse is bounded by the reports' per-address rate
 * limit: an address files at most PUBLIC_REPORTS_PER_HOUR reports, each naming at most
 * REPORT_PHOTOS_MAX photos of at most --max-photo-bytes; and by the upload store (sync/photos.h):
 * an unfinished upload made with a token expires within hours, at the latest with the token, and
 * counts against its address's quota.
 *
 * Who sees them: supervisors and admins of the report's division (GET /v1/reports lists the
 * digests; GET /v1/photos/{hash} reads a stored one, once the report's token uploaded it: naming
 * a digest proves nothing); never the public view of the report. */
#ifndef PROGRAMME_PUBLIC_REPORT_PHOTOS_H
#define PROGRAMME_PUBLIC_REPORT_PHOTOS_H

#include <stddef.h>
#include <stdint.h>

#include "sync/store.h"

enum {
    REPORT_PHOTOS_MAX = 5,
    REPORT_TOKEN_LEN = 4 + 64, /* "rpt-" and 64 hex digits */
};

#define REPORT_TOKEN_PREFIX "rpt-"

/* The username a reporter's principal carries: "report:" and the tracking number. */
#define REPORT_PRINCIPAL_PREFIX PRINCIPAL_REPORT_PREFIX /* sync/sync.h */

/* Checks the photo digests a reporter listed: at most REPORT_PHOTOS_MAX, each 64 lowercase hex,
 * no repeats. Codes (400): too_many_photos, invalid_photo. */
int public_report_photos_check(char *const *hashes, size_t n, sync_error *err);

/* Inside the caller's write transaction: records hashes[0..n) as report number's photos and
 * issues its upload token, valid until now_ms + ttl_ms, into token[REPORT_TOKEN_LEN + 1]. With
 * n = 0 nothing is written and token is "". Returns 0 or a negative code. */
int public_report_photos_attach(store *s, const char *number, char *const *hashes, size_t n,
                                int64_t now_ms, int64_t ttl_ms, char *token, sync_error *err);

/* Report number's photo digests, in the order listed: *out is a malloc'd array of malloc'd
 * strings (free each, then the array), *n their count (0 and NULL when none). */
int public_report_photos_list(store *s, const char *number, char ***out, size_t *n,
                              sync_error *err);

/* 1 when token has the form of a report upload token (not whether it is valid). */
int report_token_like(const char *token);

/* Resolves a report upload token into *p: user 0, role 0 (ROLE_UNSPECIFIED: no role of a staff
 * account), no division, username REPORT_PRINCIPAL_PREFIX + the report's number. Codes (401):
 * token_invalid, token_expired. */
int report_token_authenticate(store *s, const char *token, principal *p, sync_error *err);

/* 1 when p is a reporter's principal (from report_token_authenticate). */
int report_principal(const principal *p);

/* Whether reporter p may upload photo hash: 0 when its report lists hash; else the code
 * photo_not_in_report (403). */
int report_token_allows(store *s, const principal *p, const char *hash, sync_error *err);

/* 1 when a report of a division p covers names photo hash, that report's token uploaded it (a
 * report's reference to a photo counts only then: sync/photos.h), and p is a supervisor or
 * admin; 0 when not, or a negative code. */
int public_report_photos_visible(store *s, const principal *p, const char *hash, sync_error *err);

/* 1 when reporter p's report names photo hash and its token uploaded it (the report holds it),
 * 0 when not (or p is no reporter), or a negative code. */
int public_report_photos_held(store *s, const principal *p, const char *hash, sync_error *err);

/* Inside the caller's write transaction: records that reporter p's token uploaded photo hash,
 * which its report names. Returns 1 when newly recorded, 0 when it was already (or p is no
 * reporter, or its report does not name hash), or a negative code. */
int public_report_photos_uploaded(store *s, const principal *p, const char *hash, int64_t now_ms,
                                  sync_error *err);

#endif
