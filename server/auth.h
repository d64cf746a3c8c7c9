/* Who is calling: bearer token → principal, the role gate of the route table, a device's
 * signature over the body, and the audit of every refusal the server makes itself. */
#ifndef SERVER_AUTH_H
#define SERVER_AUTH_H

#include <stdint.h>

#include "server/http.h"

/* Who may call a route: public, or a mask of roles. */
#define AUTH_PUBLIC 0u
#define AUTH_SURVEYOR (1u << OUTFALL__V1__ROLE__ROLE_SURVEYOR)
#define AUTH_SUPERVISOR (1u << OUTFALL__V1__ROLE__ROLE_SUPERVISOR)
#define AUTH_INTEGRATOR (1u << OUTFALL__V1__ROLE__ROLE_INTEGRATOR)
#define AUTH_ADMIN (1u << OUTFALL__V1__ROLE__ROLE_ADMIN)
/* The province checker (省级核查): every read a city supervisor may make, and its own checks. */
#define AUTH_PROVINCE_CHECKER (1u << OUTFALL__V1__ROLE__ROLE_PROVINCE_CHECKER)
#define AUTH_ANY_USER                                                                              \
    (AUTH_SURVEYOR | AUTH_SUPERVISOR | AUTH_INTEGRATOR | AUTH_ADMIN | AUTH_PROVINCE_CHECKER)
/* A public report's upload token (programme/public_report_photos.h): no account and no role; only
 * the photo upload routes name it, and their handlers keep it to its report's photos. */
#define AUTH_REPORTER (1u << OUTFALL__V1__ROLE__ROLE_UNSPECIFIED)

/* Resolves the `Authorization: Bearer <token>` header into r->who and r->token: a user's token,
 * or a report's upload token (r->who is then the reporter: role UNSPECIFIED, user 0, username
 * "report:<number>"; see auth_reporter). Codes (401): token_missing, or
 * accounts_authenticate's / report_token_authenticate's (token_invalid, token_expired,
 * token_revoked). A refusal is audited. */
int auth_authenticate(http_req *r);

/* Checks that r->who's role is in allowed (AUTH_* bits). Code: forbidden_role (403), audited. */
int auth_require_role(http_req *r, unsigned allowed);

/* Refuses a caller whose password an admin reset and who has not changed it yet. Code:
 * password_change_required (403), audited. */
int auth_require_password_current(http_req *r);

/* 1 when r's caller is a reporter with a report's upload token, not a user. */
int auth_reporter(const http_req *r);

/* Checks the X-Device-Signature header: base64 of a one-shot Ed25519 signature over the exact
 * body bytes received, made with the key whose public half is pk. Reads the body if needed.
 * Codes (401): signature_missing, signature_malformed, signature_invalid. Not audited. */
int auth_verify_signature(http_req *r, const uint8_t pk[32]);

/* The bytes of an Ed25519 signature (libsodium's crypto_sign_BYTES). */
enum { AUTH_SIGNATURE_BYTES = 64 };

/* The X-Device-Signature header's signature into sig: 0, or -1 when it is missing or malformed
 * (nothing answered; auth_verify_signature says which). */
int auth_signature(const http_req *r, uint8_t sig[AUTH_SIGNATURE_BYTES]);

/* What auth_verify_signature answers once the signature was checked elsewhere (valid: it
 * matched the body and the device's key): 0, or 401 signature_invalid. */
int auth_signature_verdict(http_req *r, int valid);

/* Records r->err in the audit trail as a refusal of r->action on target (NULL: the request's
 * path), by r->who when authenticated (else anonymous). Never fails the request. */
void auth_audit_refusal(http_req *r, const char *target);

/* Returns rc, auditing it first (auth_audit_refusal on division, or the path when division is
 * NULL or empty) when it is SYNC_EFORBIDDEN: the engine's reads refuse a division outside the
 * caller's without auditing it. */
int auth_refused(http_req *r, int rc, const char *division);

/* The client's address for throttling (logins, public reports) and the audit, into out[cap]: the
 * peer's, or when --real-ip-header names a header and the peer is on loopback (the reverse proxy),
 * that header's address. Behind the proxy every peer is 127.0.0.1: without this one client's
 * failures would lock every client out. */
void auth_client_addr(const http_req *r, char *out, size_t cap);

#endif
