/* Users, bearer tokens, enrolled devices and the audit trail. */
#ifndef SYNC_ACCOUNTS_H
#define SYNC_ACCOUNTS_H

#include <stdint.h>

#include "sync/store.h"

/* Sets the bound on concurrent argon2id hashes (each takes 64 MiB) and the login limits
 * (sync/login_limits.h), and makes the dummy hash unknown names are checked against (one
 * argon2id hash). Call once before serving. */
void accounts_init(const sync_config *cfg);

/* Slots of the in-memory table of failed-login counts for names that are no account and for
 * client addresses (sync/login_limits.h); n >= 16. Call before the first login; later calls
 * change nothing. */
enum { ACCOUNTS_THROTTLE_SLOTS = 8192 };
void accounts_throttle_slots(int n);

/* On a database with no admin account, creates user "admin" (city-wide). The password is
 * `password` when not NULL, else a random one written to generated[33]. *created is set to 1 when
 * the account was made now. Returns 0 or a negative code. */
int accounts_bootstrap_admin(store *s, const char *password, char generated[33], int *created,
                             sync_error *err);

/* Creates a user from u (username, password, role, divisions). Only admins may; the refusal is
 * audited. Codes: invalid_username, weak_password, invalid_role, unknown_division, username_taken.
 */
int accounts_create_user(store *s, const principal *actor, const Outfall__V1__User *u,
                         sync_error *err);

/* Every user, without passwords. *out is freed with protobuf_c_message_free_unpacked(). */
int accounts_list_users(store *s, const principal *actor, Outfall__V1__UserList **out,
                        sync_error *err);

/* Checks a password and issues a token, within the login limits of sync/login_limits.h
 * (client_addr: the client's address as the server sees it). A name that is no enabled account
 * costs the same argon2id check as a wrong password and is counted alike; a disabled account
 * is told so (account_disabled, 403) only after its right password, with the same work. Every
 * outcome is audited. Codes: bad_credentials (401), locked_out (429, before any check of the
 * password), account_disabled (403). The response's must_change_password is set after an
 * admin's reset.
 * *out is freed with free_unpacked. */
int accounts_login(store *s, const sync_config *cfg, const char *username, const char *password,
                   const char *client_addr, Outfall__V1__LoginResponse **out, sync_error *err);

/* accounts_login that also sets *retry_after_s (when not NULL) on locked_out to the seconds until
 * the lock ends, for a Retry-After header; 0 on every other outcome. */
int accounts_login_retry_after(store *s, const sync_config *cfg, const char *username,
                               const char *password, const char *client_addr,
                               int64_t *retry_after_s, Outfall__V1__LoginResponse **out,
                               sync_error *err);

/* Resolves a bearer token to its principal (with must_change_password), and notes its use at
 * most once a minute (tokens.last_used_at_ms). Codes (401): token_invalid, token_expired,
 * token_revoked. */
int accounts_authenticate(store *s, const char *token, principal *p, sync_error *err);

/* Loads user_id's principal (role, username, divisions), as for a held batch applied later.
 * Codes: not_found (a disabled or missing user). */
int accounts_principal(store *s, int64_t user_id, principal *p, sync_error *err);

/* Revokes the given bearer token (logout). */
int accounts_revoke_token(store *s, const char *token, sync_error *err);

/* Enrolls a phone for the acting user (surveyors, supervisors, admins). d needs device_id (a UUID
 * or 3-64 characters of [A-Za-z0-9._-]) and a 32-byte Ed25519 public_key. Enrolling the same id
 * with the same key again is a no-op; another key or owner is device_taken (409).
 * *out (may be NULL) gets the stored device. */
int devices_enroll(store *s, const principal *actor, const Outfall__V1__Device *d,
                   Outfall__V1__Device **out, sync_error *err);

/* Admin revokes a phone: its signatures are refused from now on. */
int devices_revoke(store *s, const principal *actor, const char *device_id, sync_error *err);

/* Looks up a device for signature checks. Codes: unknown_device (401), device_revoked (401),
 * account_disabled (403: its owner's account is disabled). */
int devices_lookup(store *s, const char *device_id, int64_t *user_id, uint8_t public_key[32],
                   sync_error *err);

/* The hash of one audit entry: BLAKE2b-256 over the previous entry's hash (zeros for the first)
 * and each field of the entry followed by a NUL byte, so no field can bleed into the next. NULL
 * strings hash as empty ones. The chain's one definition: the writer and `audit verify` use it. */
void audit_hash(const uint8_t prev[32], int64_t at_ms, int64_t user_id, const char *username,
                const char *action, const char *target, const char *outcome, const char *detail,
                uint8_t out[32]);

/* Appends to the audit trail (hash-chained). actor may be NULL for unauthenticated requests.
 * outcome is "ok" or the refusal's error code. Failures are logged to stderr, never fatal. */
void audit_record(store *s, const principal *actor, const char *action, const char *target,
                  const char *outcome, const char *detail);

#endif
