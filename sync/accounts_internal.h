/* What sync/accounts.c shares with sync/account_manage.c: password hashing within the bound on
 * concurrent argon2id hashes, the rules a new account's password, role and divisions keep, and a
 * token's stored hash and shown id. Not for other modules. */
#ifndef SYNC_ACCOUNTS_INTERNAL_H
#define SYNC_ACCOUNTS_INTERNAL_H

#include <sodium.h>
#include <stddef.h>
#include <stdint.h>

#include "sync/store.h"

/* Hashes password with argon2id (crypto_pwhash_str) into out. Returns 0, or -1 (out of
 * memory). */
int accounts_hash_password(const char *password, char out[crypto_pwhash_STRBYTES]);

/* 0 when password matches the stored hash, else -1. */
int accounts_verify_password(const char *stored, const char *password);

/* The strength rule of every password: 10 to 256 characters. Returns 0, or weak_password (400)
 * with err filled. */
int accounts_check_password(const char *password, sync_error *err);

/* The rules of a role and its divisions (as accounts_create_user keeps them): role is one of
 * SURVEYOR..ADMIN (has_role 0 counts as missing), at most SYNC_MAX_DIVISIONS divisions, each one
 * that exists, and at least one for surveyors and supervisors. Returns 0, or invalid_role,
 * too_many_divisions or unknown_division (400) with err filled. */
int accounts_check_role_divisions(store *s, int has_role, int role, char *const *divisions,
                                  size_t n_divisions, sync_error *err);

/* Decodes a token's hex text into its stored hash. Returns 0, or -1 when it is not a token's
 * shape. */
int accounts_token_hash(const char *token, uint8_t hash[32]);

/* A token's shown id: the first 16 hex digits (lowercase) of its stored hash, into out[17]. */
void accounts_token_id(const uint8_t hash[32], char out[17]);

/* Fills the divisions of user id into *out (malloc'd array of malloc'd strings, sorted; for a
 * message the caller frees). Returns 0 or SYNC_EINTERNAL. */
int accounts_load_divisions(store *s, int64_t id, char ***out, size_t *n);

#endif
