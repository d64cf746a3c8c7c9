#include "server/auth.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "common/util.h"
#include "sync/accounts.h"
#include "programme/public_report_photos.h"

enum { SIGNATURE_LEN = crypto_sign_BYTES };
_Static_assert((int)SIGNATURE_LEN == (int)AUTH_SIGNATURE_BYTES,
               "auth.h names the signature's size");

/* Role names for messages, indexed by Outfall__V1__Role. */
static const char *const role_names[] = {"report upload token", "surveyor", "supervisor",
                                         "integrator",          "admin",    "province checker"};

void auth_audit_refusal(http_req *r, const char *target) {
    if (!r->store) return;
    audit_record(r->store, r->authenticated ? &r->who : NULL, r->action, target ? target : r->path,
                 r->err.code, r->err.message);
}

int auth_refused(http_req *r, int rc, const char *division) {
    if (rc == SYNC_EFORBIDDEN) auth_audit_refusal(r, division && division[0] ? division : NULL);
    return rc;
}

int auth_authenticate(http_req *r) {
    const char *h = mg_get_header(r->conn, "Authorization");
    const char *tok = NULL;
    size_t len = 0;
    if (h) {
        while (*h == ' ' || *h == '\t')
            h++;
        if (strncasecmp(h, "Bearer", 6) == 0 && (h[6] == ' ' || h[6] == '\t')) {
            tok = h + 6;
            while (*tok == ' ' || *tok == '\t')
                tok++;
            len = strcspn(tok, " \t\r\n");
        }
    }
    if (!tok || len == 0) {
        http_error(r, 401, "token_missing",
                   "send Authorization: Bearer <token> (POST /v1/auth/login)");
        goto refused;
    }
    if (len >= sizeof r->token) {
        http_error(r, 401, "token_invalid", "the bearer token is not one this server issued");
        goto refused;
    }
    memcpy(r->token, tok, len);
    r->token[len] = '\0';
    if (report_token_like(r->token)) { /* an anonymous reporter: no account, no audit identity */
        if (report_token_authenticate(r->store, r->token, &r->who, &r->err) == 0) return 0;
        r->token[0] = '\0';
        if (r->err.rc != SYNC_EUNAUTH) return r->err.rc;
        goto refused;
    }
    if (accounts_authenticate(r->store, r->token, &r->who, &r->err) < 0) {
        r->token[0] = '\0';
        if (r->err.rc != SYNC_EUNAUTH) return r->err.rc; /* busy or broken: not a refusal */
        goto refused;
    }
    r->authenticated = 1;
    return 0;
refused:
    r->token[0] = '\0';
    auth_audit_refusal(r, NULL);
    return r->err.rc;
}

int auth_reporter(const http_req *r) {
    return !r->authenticated && report_principal(&r->who);
}

int auth_require_role(http_req *r, unsigned allowed) {
    int role = r->who.role;
    if (role == OUTFALL__V1__ROLE__ROLE_UNSPECIFIED && !auth_reporter(r)) role = -1;
    if (role >= 0 && role < 32 && (allowed & (1u << role))) return 0;
    const char *name = role >= 0 && role < (int)(sizeof role_names / sizeof role_names[0])
                           ? role_names[role]
                           : "unknown";
    http_error(r, 403, "forbidden_role", "the %s role may not call %s", name, r->action);
    auth_audit_refusal(r, NULL);
    return r->err.rc;
}

int auth_require_password_current(http_req *r) {
    if (!r->authenticated || !r->who.must_change_password) return 0;
    http_error(r, 403, "password_change_required",
               "your password was reset: change it first (POST /v1/me/password)");
    auth_audit_refusal(r, NULL);
    return r->err.rc;
}

/* The header's value without its surrounding blanks into *at and *len: 1, or 0 when it is
 * absent or blank. */
static int signature_header(const http_req *r, const char **at, size_t *len) {
    const char *h = mg_get_header(r->conn, "X-Device-Signature");
    if (!h || h[strspn(h, " \t")] == '\0') return 0;
    h += strspn(h, " \t");
    *at = h;
    *len = strcspn(h, " \t\r\n");
    return 1;
}

/* 1 when the header's value h[0..len) is base64 of exactly a signature, decoded into sig. */
static int signature_decoded(const char *h, size_t len, uint8_t sig[SIGNATURE_LEN + 8]) {
    return h[len + strspn(h + len, " \t\r\n")] == '\0' &&
           util_base64_decode(h, len, sig, SIGNATURE_LEN + 8) == SIGNATURE_LEN;
}

int auth_signature(const http_req *r, uint8_t sig[AUTH_SIGNATURE_BYTES]) {
    const char *h;
    size_t len;
    uint8_t got[SIGNATURE_LEN + 8];
    if (!signature_header(r, &h, &len) || !signature_decoded(h, len, got)) return -1;
    memcpy(sig, got, SIGNATURE_LEN);
    return 0;
}

int auth_signature_verdict(http_req *r, int valid) {
    return valid ? 0
                 : http_error(r, 401, "signature_invalid",
                              "the signature does not match the body and the device's key");
}

int auth_verify_signature(http_req *r, const uint8_t pk[32]) {
    static const uint8_t empty[1];
    uint8_t sig[SIGNATURE_LEN + 8];
    const char *h;
    size_t len;
    if (!signature_header(r, &h, &len))
        return http_error(r, 401, "signature_missing",
                          "send X-Device-Signature: base64 of the Ed25519 signature of the body");
    if (!signature_decoded(h, len, sig))
        return http_error(r, 401, "signature_malformed",
                          "X-Device-Signature must be base64 of exactly %d bytes", SIGNATURE_LEN);
    int rc = http_read_body(r);
    if (rc < 0) return rc;
    return auth_signature_verdict(
        r, crypto_sign_verify_detached(sig, r->body ? r->body : empty, r->body_len, pk) == 0);
}

void auth_client_addr(const http_req *r, char *out, size_t cap) {
    const char *peer = r->ri->remote_addr;
    const char *named =
        r->cfg->real_ip_header[0] ? mg_get_header(r->conn, r->cfg->real_ip_header) : NULL;
    int loopback = strncmp(peer, "127.", 4) == 0 || strcmp(peer, "::1") == 0;
    size_t n = named ? strspn(named, "0123456789abcdefABCDEF.:") : 0;
    if (loopback && n > 0 && n < cap && named[n] == '\0')
        snprintf(out, cap, "%s", named);
    else
        snprintf(out, cap, "%s", peer);
}
