/* Managing accounts after their creation (sync/account_manage.h): role, divisions, disabling,
 * password resets and changes, devices and signed-in tokens. */
#include "sync/account_manage.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "sync/accounts.h"
#include "sync/accounts_internal.h"
#include "sync/login_limits.h"

/* The account a call is about. */
typedef struct target {
    int64_t id;
    int role;
    int disabled;
} target;

/* Finds user `username` for actor: admins reach anyone; with self_ok, others reach their own
 * account only. A non-admin asking for another name is refused before the name is looked up, so
 * the answer does not tell which names exist. Returns 0 with *t filled, or forbidden_role (403)
 * or not_found (404). */
static int target_find(store *s, const principal *actor, const char *username, int self_ok,
                       target *t, sync_error *err) {
    int admin = actor->role == OUTFALL__V1__ROLE__ROLE_ADMIN;
    if (!admin && (!self_ok || !username || strcmp(username, actor->username) != 0))
        return sync_fail(err, SYNC_EFORBIDDEN, "forbidden_role",
                         self_ok ? "only admins manage other users' accounts"
                                 : "only admins manage accounts");
    sqlite3_stmt *st = store_stmt(s, "SELECT id, role, disabled FROM users WHERE username = ?");
    if (!st) return store_fail(s, SQLITE_ERROR, err);
    sqlite3_bind_text(st, 1, username ? username : "", -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        t->id = sqlite3_column_int64(st, 0);
        t->role = sqlite3_column_int(st, 1);
        t->disabled = sqlite3_column_int(st, 2);
    }
    sqlite3_reset(st);
    if (rc == SQLITE_DONE)
        return sync_fail(err, SYNC_ENOTFOUND, "not_found", "no user %s", username ? username : "");
    return rc == SQLITE_ROW ? 0 : store_fail(s, rc, err);
}

/* Revokes every live token of user_id but the one with hash keep (may be NULL), inside the
 * caller's transaction. Returns the number revoked, or a negative code. */
static int revoke_tokens(store *s, int64_t user_id, const uint8_t keep[32], sync_error *err) {
    static const uint8_t none[32];
    sqlite3_stmt *st = store_stmt(s, "UPDATE tokens SET revoked = 1 WHERE user_id = ? AND "
                                     "revoked = 0 AND hash <> ?");
    if (!st) return store_fail(s, SQLITE_ERROR, err);
    sqlite3_bind_int64(st, 1, user_id);
    sqlite3_bind_blob(st, 2, keep ? keep : none, 32, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) return store_fail(s, rc, err);
    return sqlite3_changes(store_db(s));
}

/* Runs sql (binding int64 values a, b in order; the count is the statement's) in the caller's
 * transaction. Returns 0 or a negative code. */
static int exec2(store *s, sqlite3_stmt *st, int n, int64_t a, int64_t b, sync_error *err) {
    if (!st) return store_fail(s, SQLITE_ERROR, err);
    sqlite3_bind_int64(st, 1, a);
    if (n > 1) sqlite3_bind_int64(st, 2, b);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : store_fail(s, rc, err);
}

/* The number of enabled admins other than user_id. */
static int other_admins(store *s, int64_t user_id) {
    sqlite3_stmt *st = store_stmt(s, "SELECT count(*) FROM users WHERE role = ? AND disabled = 0 "
                                     "AND id <> ?");
    if (!st) return 0;
    sqlite3_bind_int(st, 1, OUTFALL__V1__ROLE__ROLE_ADMIN);
    sqlite3_bind_int64(st, 2, user_id);
    int n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
    sqlite3_reset(st);
    return n;
}

/* Writes the update of t (role, divisions when n_div > 0, disabled) in one transaction, and
 * revokes the user's tokens when revoke. *revoked gets how many. Returns 0 or a negative code. */
static int update_write(store *s, const target *t, int role, char *const *divisions, size_t n_div,
                        int disabled, int revoke, int *revoked, sync_error *err) {
    int rc = store_begin(s, err);
    if (rc) return rc;
    sqlite3_stmt *st = store_stmt(s, "UPDATE users SET role = ?, disabled = ? WHERE id = ?");
    if (!st) {
        rc = store_fail(s, SQLITE_ERROR, err);
        goto rollback;
    }
    sqlite3_bind_int(st, 1, role);
    sqlite3_bind_int(st, 2, disabled);
    sqlite3_bind_int64(st, 3, t->id);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        rc = store_fail(s, rc, err);
        goto rollback;
    }
    rc = 0;
    if (n_div > 0) {
        rc = exec2(s, store_stmt(s, "DELETE FROM user_divisions WHERE user_id = ?"), 1, t->id, 0,
                   err);
        for (size_t i = 0; !rc && i < n_div; i++) {
            st = store_stmt(s, "INSERT OR IGNORE INTO user_divisions (user_id, division_code) "
                               "VALUES (?, ?)");
            if (!st) {
                rc = store_fail(s, SQLITE_ERROR, err);
                break;
            }
            sqlite3_bind_int64(st, 1, t->id);
            sqlite3_bind_text(st, 2, divisions[i], -1, SQLITE_STATIC);
            int step = sqlite3_step(st);
            sqlite3_reset(st);
            if (step != SQLITE_DONE) rc = store_fail(s, step, err);
        }
        if (rc) goto rollback;
    }
    *revoked = 0;
    if (revoke && (rc = revoke_tokens(s, t->id, NULL, err)) < 0) goto rollback;
    if (revoke) *revoked = rc;
    return store_commit(s, err);
rollback:
    store_rollback(s);
    return rc;
}

/* The User message of user id as stored (malloc'd; free_unpacked), or NULL. */
static Outfall__V1__User *user_message(store *s, int64_t id) {
    sqlite3_stmt *st = store_stmt(s, "SELECT username, role, disabled, must_change_password "
                                     "FROM users WHERE id = ?");
    if (!st) return NULL;
    sqlite3_bind_int64(st, 1, id);
    Outfall__V1__User *u = NULL;
    if (sqlite3_step(st) == SQLITE_ROW && (u = malloc(sizeof *u))) {
        outfall__v1__user__init(u);
        u->username = strdup((const char *)sqlite3_column_text(st, 0));
        u->has_role = 1;
        u->role = sqlite3_column_int(st, 1);
        u->has_disabled = 1;
        u->disabled = sqlite3_column_int(st, 2);
        u->has_must_change_password = 1;
        u->must_change_password = sqlite3_column_int(st, 3);
    }
    sqlite3_reset(st);
    if (u) accounts_load_divisions(s, id, &u->divisions, &u->n_divisions);
    return u;
}

int account_manage_update(store *s, const principal *actor, const char *username,
                          const Outfall__V1__User *change, Outfall__V1__User **out,
                          sync_error *err) {
    if (out) *out = NULL;
    target t;
    char **current = NULL;
    size_t n_current = 0;
    int revoked = 0;
    char detail[160];
    int rc = target_find(s, actor, username, 0, &t, err);
    if (rc) goto done;
    int role = change->has_role ? (int)change->role : t.role;
    int disabled = change->has_disabled ? change->disabled != 0 : t.disabled;
    char *const *divisions = change->divisions;
    size_t n_div = change->n_divisions;
    if (n_div == 0 && (rc = accounts_load_divisions(s, t.id, &current, &n_current))) {
        rc = sync_fail(err, SYNC_EINTERNAL, "storage_error", "cannot read the user's divisions");
        goto done;
    }
    if ((rc = accounts_check_role_divisions(s, 1, role, n_div ? divisions : current,
                                            n_div ? n_div : n_current, err)))
        goto done;
    int stays_admin = role == OUTFALL__V1__ROLE__ROLE_ADMIN && !disabled;
    int was_admin = t.role == OUTFALL__V1__ROLE__ROLE_ADMIN && !t.disabled;
    if (was_admin && !stays_admin && other_admins(s, t.id) == 0) {
        rc = sync_fail(err, SYNC_ECONFLICT, "last_admin",
                       "%s is the last enabled admin: make another admin first", username);
        goto done;
    }
    if (t.id == actor->user_id && !stays_admin) {
        rc = sync_fail(err, SYNC_ECONFLICT, "cannot_change_self",
                       "an admin cannot disable their own account or give up their admin role");
        goto done;
    }
    int revoke = change->has_role || n_div > 0 || (disabled && !t.disabled);
    rc = update_write(s, &t, role, divisions, n_div, disabled, revoke, &revoked, err);
    if (rc) goto done;
    if (out) *out = user_message(s, t.id);
done:
    snprintf(detail, sizeof detail, "role=%d divisions=%zu disabled=%d tokens_revoked=%d",
             change->has_role ? (int)change->role : -1, change->n_divisions,
             change->has_disabled ? (int)change->disabled : -1, revoked);
    audit_record(s, actor, "user.update", username ? username : "", rc ? err->code : "ok", detail);
    for (size_t i = 0; i < n_current; i++)
        free(current[i]);
    free(current);
    return rc;
}

/* 16 random letters and digits, none that reads like another (no I, l, O, 0, 1), into out[17]:
 * about 93 bits, to be read out or typed once. */
static void one_time_password(char out[17]) {
    static const char alphabet[] = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    for (int i = 0; i < 16; i++)
        out[i] = alphabet[randombytes_uniform(sizeof alphabet - 1)];
    out[16] = '\0';
}

int account_manage_reset_password(store *s, const principal *actor, const char *username,
                                  const char *given, char **made, sync_error *err) {
    *made = NULL;
    target t;
    char generated[17] = "", hash[crypto_pwhash_STRBYTES];
    int revoked = 0;
    int rc = target_find(s, actor, username, 0, &t, err);
    if (rc) goto done;
    if (given && (rc = accounts_check_password(given, err))) goto done;
    if (!given) one_time_password(generated);
    if (accounts_hash_password(given ? given : generated, hash) != 0) {
        rc = sync_fail(err, SYNC_EINTERNAL, "out_of_memory", "password hashing failed");
        goto done;
    }
    if ((rc = store_begin(s, err))) goto done;
    sqlite3_stmt *st = store_stmt(s, "UPDATE users SET password_hash = ?, "
                                     "must_change_password = 1 WHERE id = ?");
    if (!st) {
        rc = store_fail(s, SQLITE_ERROR, err);
        goto rollback;
    }
    sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, t.id);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        rc = store_fail(s, rc, err);
        goto rollback;
    }
    if ((rc = revoke_tokens(s, t.id, NULL, err)) < 0) goto rollback;
    revoked = rc;
    /* A reset is how a locked-out user gets back in: their counts start again. */
    if ((rc = exec2(s, store_stmt(s, "DELETE FROM login_pairs WHERE user_id = ?"), 1, t.id, 0,
                    err)) ||
        (rc = exec2(s, store_stmt(s, "DELETE FROM login_accounts WHERE user_id = ?"), 1, t.id, 0,
                    err)))
        goto rollback;
    if ((rc = store_commit(s, err))) goto done;
    if (!given && !(*made = strdup(generated)))
        rc = sync_fail(err, SYNC_EINTERNAL, "out_of_memory", "out of memory");
    goto done;
rollback:
    store_rollback(s);
done:
    sodium_memzero(generated, sizeof generated);
    sodium_memzero(hash, sizeof hash);
    char detail[64];
    snprintf(detail, sizeof detail, "%s tokens_revoked=%d", given ? "given" : "generated", revoked);
    audit_record(s, actor, "user.reset_password", username ? username : "", rc ? err->code : "ok",
                 detail);
    return rc;
}

/* Counts a wrong current password as a failed login of a, with its audit row, in one
 * transaction. Returns wrong_password (403), or the storage's code. */
static int change_failed(store *s, const principal *actor, login_limits_attempt *a,
                         const char *client_addr, sync_error *err) {
    int locked = 0;
    int rc = store_begin(s, err);
    if (rc) return rc;
    if ((rc = login_limits_fail(s, a, &locked, err))) {
        store_rollback(s);
        return rc;
    }
    audit_record(s, actor, "password.change", actor->username,
                 locked ? "locked_out" : "wrong_password", client_addr);
    if ((rc = store_commit(s, err))) return rc;
    return sync_fail(err, SYNC_EFORBIDDEN, "wrong_password", "the current password is wrong");
}

/* Stores fresh's hash for the actor, clears the must-change mark and the log-in pair count, and
 * revokes the actor's other tokens, in one transaction. *revoked gets how many. */
static int change_write(store *s, const principal *actor, login_limits_attempt *a,
                        const uint8_t keep[32], const char *fresh, int *revoked, sync_error *err) {
    char hash[crypto_pwhash_STRBYTES];
    if (accounts_hash_password(fresh, hash) != 0)
        return sync_fail(err, SYNC_EINTERNAL, "out_of_memory", "password hashing failed");
    int rc = store_begin(s, err);
    if (rc) goto done;
    sqlite3_stmt *st = store_stmt(s, "UPDATE users SET password_hash = ?, "
                                     "must_change_password = 0 WHERE id = ?");
    if (!st) {
        rc = store_fail(s, SQLITE_ERROR, err);
        goto rollback;
    }
    sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, actor->user_id);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        rc = store_fail(s, rc, err);
        goto rollback;
    }
    if ((rc = revoke_tokens(s, actor->user_id, keep, err)) < 0) goto rollback;
    *revoked = rc;
    if ((rc = login_limits_succeed(s, a, err))) goto rollback;
    rc = store_commit(s, err);
    goto done;
rollback:
    store_rollback(s);
done:
    sodium_memzero(hash, sizeof hash);
    return rc;
}

int account_manage_change_password(store *s, const principal *actor,
                                   const uint8_t current_token_hash[32], const char *current,
                                   const char *fresh, const char *client_addr, sync_error *err) {
    char stored[crypto_pwhash_STRBYTES] = "";
    int64_t wait_ms = 0;
    int revoked = 0, counted = 0;
    login_limits_attempt a;
    int rc = accounts_check_password(fresh, err);
    if (rc) goto audit;
    counted = 1;
    if ((rc = login_limits_begin(s, &a, actor->user_id, actor->username, client_addr, &wait_ms,
                                 err)))
        goto done;
    if (wait_ms > 0) {
        rc = sync_fail(err, SYNC_ELOCKED, "locked_out",
                       "too many failed passwords; try again in %lld s",
                       (long long)((wait_ms + 999) / 1000));
        goto done;
    }
    sqlite3_stmt *st = store_stmt(s, "SELECT password_hash FROM users WHERE id = ?");
    if (!st) {
        rc = store_fail(s, SQLITE_ERROR, err);
        goto done;
    }
    sqlite3_bind_int64(st, 1, actor->user_id);
    if (sqlite3_step(st) == SQLITE_ROW)
        util_strlcpy(stored, (const char *)sqlite3_column_text(st, 0), sizeof stored);
    sqlite3_reset(st);
    if (!stored[0] || accounts_verify_password(stored, current ? current : "") != 0) {
        rc = change_failed(s, actor, &a, client_addr, err);
        login_limits_end(&a);
        sodium_memzero(stored, sizeof stored);
        return rc; /* audited with the count */
    }
    if (strcmp(current, fresh) == 0) {
        rc = sync_fail(err, SYNC_EINVALID, "password_unchanged",
                       "the new password must differ from the current one");
        goto done;
    }
    rc = change_write(s, actor, &a, current_token_hash, fresh, &revoked, err);
done:
    if (counted) login_limits_end(&a);
audit:
    sodium_memzero(stored, sizeof stored);
    char detail[96];
    snprintf(detail, sizeof detail, "%s tokens_revoked=%d", client_addr ? client_addr : "",
             revoked);
    audit_record(s, actor, "password.change", actor->username, rc ? err->code : "ok", detail);
    return rc;
}

/* Appends m to a growing array *v of *n (capacity *cap). Returns 0, or -1 out of memory. */
static int push(void ***v, size_t *n, size_t *cap, void *m) {
    if (*n == *cap) {
        size_t grown = *cap ? *cap * 2 : 8;
        void **w = realloc(*v, grown * sizeof *w);
        if (!w) return -1;
        *v = w;
        *cap = grown;
    }
    (*v)[(*n)++] = m;
    return 0;
}

int account_manage_devices(store *s, const principal *actor, const char *username,
                           Outfall__V1__DeviceList **out, sync_error *err) {
    *out = NULL;
    target t;
    Outfall__V1__DeviceList *list = NULL;
    int rc = target_find(s, actor, username, 1, &t, err);
    if (rc) goto done;
    if (!(list = malloc(sizeof *list))) {
        rc = sync_fail(err, SYNC_EINTERNAL, "out_of_memory", "out of memory");
        goto done;
    }
    outfall__v1__device_list__init(list);
    sqlite3_stmt *st =
        store_stmt(s, "SELECT device_id, name, public_key, revoked, last_seq, enrolled_at_ms, "
                      "(SELECT max(received_at_ms) FROM batches b WHERE b.device_id = d.device_id) "
                      "FROM devices d WHERE user_id = ? ORDER BY enrolled_at_ms, device_id");
    if (!st) {
        rc = store_fail(s, SQLITE_ERROR, err);
        goto done;
    }
    sqlite3_bind_int64(st, 1, t.id);
    size_t cap = 0;
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        Outfall__V1__Device *d = malloc(sizeof *d);
        if (!d || push((void ***)&list->devices, &list->n_devices, &cap, d) != 0) {
            free(d);
            step = SQLITE_NOMEM;
            break;
        }
        outfall__v1__device__init(d);
        d->device_id = strdup((const char *)sqlite3_column_text(st, 0));
        d->name = strdup((const char *)sqlite3_column_text(st, 1));
        d->username = strdup(username);
        if (sqlite3_column_bytes(st, 2) == 32 && (d->public_key.data = malloc(32))) {
            memcpy(d->public_key.data, sqlite3_column_blob(st, 2), 32);
            d->public_key.len = 32;
            d->has_public_key = 1;
        }
        d->has_revoked = 1;
        d->revoked = sqlite3_column_int(st, 3);
        d->has_last_seq = 1;
        d->last_seq = sqlite3_column_int64(st, 4);
        d->has_enrolled_at_ms = 1;
        d->enrolled_at_ms = sqlite3_column_int64(st, 5);
        if (sqlite3_column_type(st, 6) != SQLITE_NULL) {
            d->has_last_seen_at_ms = 1;
            d->last_seen_at_ms = sqlite3_column_int64(st, 6);
        }
    }
    sqlite3_reset(st);
    if (step != SQLITE_DONE) {
        rc = store_fail(s, step, err);
        goto done;
    }
    *out = list;
    list = NULL;
done:
    if (list) protobuf_c_message_free_unpacked(&list->base, NULL);
    audit_record(s, actor, "user.devices", username ? username : "", rc ? err->code : "ok", NULL);
    return rc;
}

int account_manage_revoke_device(store *s, const principal *actor, const char *username,
                                 const char *device_id, sync_error *err) {
    target t;
    int rc = target_find(s, actor, username, 1, &t, err);
    if (rc) goto done;
    if ((rc = store_begin(s, err))) goto done;
    sqlite3_stmt *st =
        store_stmt(s, "UPDATE devices SET revoked = 1 WHERE device_id = ? AND user_id = ?");
    if (!st) {
        store_rollback(s);
        rc = store_fail(s, SQLITE_ERROR, err);
        goto done;
    }
    sqlite3_bind_text(st, 1, device_id ? device_id : "", -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, t.id);
    int step = sqlite3_step(st);
    sqlite3_reset(st);
    if (step != SQLITE_DONE) {
        store_rollback(s);
        rc = store_fail(s, step, err);
        goto done;
    }
    if (sqlite3_changes(store_db(s)) == 0) {
        store_rollback(s);
        rc = sync_fail(err, SYNC_ENOTFOUND, "not_found", "%s has no device %s", username,
                       device_id ? device_id : "");
        goto done;
    }
    rc = store_commit(s, err);
done:
    audit_record(s, actor, "device.revoke", device_id ? device_id : "", rc ? err->code : "ok",
                 username);
    return rc;
}

int account_manage_tokens(store *s, const principal *actor, const char *username,
                          const uint8_t current_token_hash[32], Outfall__V1__TokenList **out,
                          sync_error *err) {
    *out = NULL;
    target t;
    Outfall__V1__TokenList *list = NULL;
    int rc = target_find(s, actor, username, 1, &t, err);
    if (rc) goto done;
    if (!(list = malloc(sizeof *list))) {
        rc = sync_fail(err, SYNC_EINTERNAL, "out_of_memory", "out of memory");
        goto done;
    }
    outfall__v1__token_list__init(list);
    sqlite3_stmt *st = store_stmt(s, "SELECT hash, created_at_ms, last_used_at_ms, expires_at_ms, "
                                     "revoked FROM tokens WHERE user_id = ? AND expires_at_ms > ? "
                                     "ORDER BY created_at_ms DESC LIMIT 500");
    if (!st) {
        rc = store_fail(s, SQLITE_ERROR, err);
        goto done;
    }
    sqlite3_bind_int64(st, 1, t.id);
    sqlite3_bind_int64(st, 2, util_now_ms() - 86400000);
    size_t cap = 0;
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        Outfall__V1__TokenInfo *k = malloc(sizeof *k);
        char id[17];
        if (!k || push((void ***)&list->tokens, &list->n_tokens, &cap, k) != 0) {
            free(k);
            step = SQLITE_NOMEM;
            break;
        }
        outfall__v1__token_info__init(k);
        const uint8_t *hash = sqlite3_column_blob(st, 0);
        if (sqlite3_column_bytes(st, 0) != 32) continue;
        accounts_token_id(hash, id);
        k->id = strdup(id);
        k->has_created_at_ms = 1;
        k->created_at_ms = sqlite3_column_int64(st, 1);
        if (sqlite3_column_int64(st, 2) > 0) {
            k->has_last_used_at_ms = 1;
            k->last_used_at_ms = sqlite3_column_int64(st, 2);
        }
        k->has_expires_at_ms = 1;
        k->expires_at_ms = sqlite3_column_int64(st, 3);
        k->has_revoked = 1;
        k->revoked = sqlite3_column_int(st, 4);
        k->has_current = 1;
        k->current = current_token_hash && sodium_memcmp(hash, current_token_hash, 32) == 0;
    }
    sqlite3_reset(st);
    if (step != SQLITE_DONE) {
        rc = store_fail(s, step, err);
        goto done;
    }
    *out = list;
    list = NULL;
done:
    if (list) protobuf_c_message_free_unpacked(&list->base, NULL);
    audit_record(s, actor, "user.tokens", username ? username : "", rc ? err->code : "ok", NULL);
    return rc;
}

/* 1 when id is 16 lowercase hex digits. */
static int valid_token_id(const char *id) {
    if (!id || strlen(id) != 16) return 0;
    for (int i = 0; i < 16; i++)
        if (!isxdigit((unsigned char)id[i]) || isupper((unsigned char)id[i])) return 0;
    return 1;
}

int account_manage_revoke_token(store *s, const principal *actor, const char *username,
                                const char *token_id, sync_error *err) {
    target t;
    int rc = target_find(s, actor, username, 1, &t, err);
    if (rc) goto done;
    if (!valid_token_id(token_id)) {
        rc = sync_fail(err, SYNC_ENOTFOUND, "not_found",
                       "a token id is the 16 hex digits GET .../tokens shows");
        goto done;
    }
    if ((rc = store_begin(s, err))) goto done;
    sqlite3_stmt *st = store_stmt(s, "UPDATE tokens SET revoked = 1 WHERE user_id = ? AND "
                                     "lower(hex(substr(hash, 1, 8))) = ?");
    if (!st) {
        store_rollback(s);
        rc = store_fail(s, SQLITE_ERROR, err);
        goto done;
    }
    sqlite3_bind_int64(st, 1, t.id);
    sqlite3_bind_text(st, 2, token_id, -1, SQLITE_STATIC);
    int step = sqlite3_step(st);
    sqlite3_reset(st);
    if (step != SQLITE_DONE) {
        store_rollback(s);
        rc = store_fail(s, step, err);
        goto done;
    }
    if (sqlite3_changes(store_db(s)) == 0) {
        store_rollback(s);
        rc = sync_fail(err, SYNC_ENOTFOUND, "not_found", "%s has no token %s", username, token_id);
        goto done;
    }
    rc = store_commit(s, err);
done:
    audit_record(s, actor, "token.revoke", token_id ? token_id : "", rc ? err->code : "ok",
                 username);
    return rc;
}
