/* Managing accounts after their creation: an admin changes a user's role and divisions, disables
 * and enables it, resets its password; every user changes their own password and lists and
 * revokes their devices and signed-in tokens (admins those of anyone). Every call is audited,
 * refusals too. A call that refuses leaves the database as it was. */
#ifndef SYNC_ACCOUNT_MANAGE_H
#define SYNC_ACCOUNT_MANAGE_H

#include <stdint.h>

#include "sync/store.h"

/* Changes what `change` carries of user `username` (admins only): role (has_role), divisions
 * (replaced when change->n_divisions > 0), disabled (has_disabled). The result keeps the rules of
 * accounts_create_user. A change of role or divisions, and disabling, revokes every token of the
 * user (their rights changed; they log in again). *out (may be NULL) gets the user as stored
 * (free_unpacked). Codes: forbidden_role (403), not_found (404), invalid_role,
 * unknown_division, too_many_divisions (400), last_admin (409: it would leave no enabled
 * admin), cannot_change_self (409: an admin disabling or demoting their own account). */
int account_manage_update(store *s, const principal *actor, const char *username,
                          const Outfall__V1__User *change, Outfall__V1__User **out,
                          sync_error *err);

/* Resets user `username`'s password (admins only) to `given` (when not NULL; the strength rule of
 * creation), else to 16 random characters, which *made receives (malloc'd; the caller wipes and
 * frees it; NULL when given). The user must change it at the next login, every token of theirs is
 * revoked and their log-in locks are cleared. Codes: forbidden_role (403), not_found (404),
 * weak_password (400). */
int account_manage_reset_password(store *s, const principal *actor, const char *username,
                                  const char *given, char **made, sync_error *err);

/* The actor changes their own password: `current` is checked first within the log-in limits
 * (sync/login_limits.h; a wrong one counts as a failed login from client_addr), then `fresh` is
 * stored, the must-change mark cleared, and every other token of the actor revoked (the one
 * whose hash is current_token_hash stays). Codes: weak_password (400, checked before anything
 * is counted), wrong_password (403), locked_out (429), password_unchanged (400: fresh is the
 * current password). */
int account_manage_change_password(store *s, const principal *actor,
                                   const uint8_t current_token_hash[32], const char *current,
                                   const char *fresh, const char *client_addr, sync_error *err);

/* The devices of user `username` (admins: anyone's; others: their own), oldest enrolment
 * first, with enrolled_at_ms and last_seen_at_ms (the newest batch's arrival, when any). *out is
 * freed with free_unpacked. Codes: forbidden_role (403), not_found (404). */
int account_manage_devices(store *s, const principal *actor, const char *username,
                           Outfall__V1__DeviceList **out, sync_error *err);

/* Revokes device_id of user `username` (admins: anyone's; others: their own): its signatures are
 * refused from now on. Revoking a revoked device is a no-op. Codes: forbidden_role (403),
 * not_found (404: no such user, or no such device of theirs). */
int account_manage_revoke_device(store *s, const principal *actor, const char *username,
                                 const char *device_id, sync_error *err);

/* The tokens of user `username` not expired for more than a day (admins: anyone's; others: their
 * own), newest first; never the token itself, only its id (accounts_token_id). The one whose
 * hash is current_token_hash (may be NULL) is marked current. *out is freed with free_unpacked.
 * Codes: forbidden_role (403), not_found (404). */
int account_manage_tokens(store *s, const principal *actor, const char *username,
                          const uint8_t current_token_hash[32], Outfall__V1__TokenList **out,
                          sync_error *err);

/* Revokes the token with id token_id (16 hex digits) of user `username` (admins: anyone's;
 * others: their own). Codes: forbidden_role (403), not_found (404: no such user or token of
 * theirs, or an id of another shape). */
int account_manage_revoke_token(store *s, const principal *actor, const char *username,
                                const char *token_id, sync_error *err);

#endif
