/* Enrolled phones: their Ed25519 public keys, owners and revocation. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "sync/accounts.h"

static int valid_device_id(const char *id) {
    size_t n = id ? strlen(id) : 0;
    if (n < 3 || n > 64) return 0;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)id[i]) && !strchr("._-", id[i])) return 0;
    return 1;
}

/* Builds the Device message for a stored row (malloc'd; free_unpacked). */
static Outfall__V1__Device *device_message(const char *device_id, const char *name,
                                           const uint8_t *pk, const char *username, int revoked,
                                           int64_t last_seq) {
    Outfall__V1__Device *d = malloc(sizeof *d);
    if (!d) return NULL;
    outfall__v1__device__init(d);
    d->device_id = strdup(device_id);
    d->name = strdup(name);
    d->username = strdup(username);
    d->has_public_key = 1;
    d->public_key.len = 32;
    d->public_key.data = malloc(32);
    if (d->public_key.data) memcpy(d->public_key.data, pk, 32);
    d->has_revoked = 1;
    d->revoked = revoked;
    d->has_last_seq = 1;
    d->last_seq = last_seq;
    return d;
}

int devices_enroll(store *s, const principal *actor, const Outfall__V1__Device *d,
                   Outfall__V1__Device **out, sync_error *err) {
    if (out) *out = NULL;
    int rc;
    const char *id = d->device_id ? d->device_id : "";
    if (actor->role == OUTFALL__V1__ROLE__ROLE_INTEGRATOR) {
        rc = sync_fail(err, SYNC_EFORBIDDEN, "forbidden_role", "integrators do not sync");
        goto refused;
    }
    if (!valid_device_id(id)) {
        rc = sync_fail(err, SYNC_EINVALID, "invalid_device_id",
                       "device_id is 3-64 characters of letters, digits, '.', '_' or '-'");
        goto refused;
    }
    if (!d->has_public_key || d->public_key.len != 32) {
        rc = sync_fail(err, SYNC_EINVALID, "invalid_public_key",
                       "public_key must be a 32-byte Ed25519 public key");
        goto refused;
    }
    const char *name = d->name ? d->name : "";
    if (strlen(name) > 200) {
        rc = sync_fail(err, SYNC_EINVALID, "invalid_name", "a device name is at most 200 bytes");
        goto refused;
    }
    if ((rc = store_begin(s, err))) return rc;
    sqlite3_stmt *st = store_stmt(s, "SELECT user_id, public_key, revoked, name, last_seq "
                                     "FROM devices WHERE device_id = ?");
    if (!st) {
        rc = store_fail(s, SQLITE_ERROR, err);
        goto rollback;
    }
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW) {
        /* Enrolling again with the same key by the same owner is a harmless retry. */
        int same = sqlite3_column_int64(st, 0) == actor->user_id &&
                   sqlite3_column_bytes(st, 1) == 32 &&
                   memcmp(sqlite3_column_blob(st, 1), d->public_key.data, 32) == 0 &&
                   !sqlite3_column_int(st, 2);
        int64_t last_seq = sqlite3_column_int64(st, 4);
        char stored_name[201];
        util_strlcpy(stored_name, (const char *)sqlite3_column_text(st, 3), sizeof stored_name);
        sqlite3_reset(st);
        store_rollback(s);
        if (!same) {
            rc = sync_fail(err, SYNC_ECONFLICT, "device_taken",
                           "device %s is already enrolled with another key or owner", id);
            goto refused;
        }
        if (out)
            *out =
                device_message(id, stored_name, d->public_key.data, actor->username, 0, last_seq);
        return 0;
    }
    st = store_stmt(s, "INSERT INTO devices (device_id, user_id, name, public_key, "
                       "enrolled_at_ms) VALUES (?, ?, ?, ?, ?)");
    if (!st) {
        rc = store_fail(s, SQLITE_ERROR, err);
        goto rollback;
    }
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, actor->user_id);
    sqlite3_bind_text(st, 3, name, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 4, d->public_key.data, 32, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, util_now_ms());
    if ((rc = sqlite3_step(st)) != SQLITE_DONE) {
        rc = store_fail(s, rc, err);
        goto rollback;
    }
    if ((rc = store_commit(s, err))) return rc;
    audit_record(s, actor, "device.enroll", id, "ok", NULL);
    if (out) *out = device_message(id, name, d->public_key.data, actor->username, 0, 0);
    return 0;
rollback:
    store_rollback(s);
    return rc;
refused:
    audit_record(s, actor, "device.enroll", id, err ? err->code : "refused", NULL);
    return rc;
}

int devices_revoke(store *s, const principal *actor, const char *device_id, sync_error *err) {
    int rc;
    if (actor->role != OUTFALL__V1__ROLE__ROLE_ADMIN) {
        rc = sync_fail(err, SYNC_EFORBIDDEN, "forbidden_role", "only admins revoke devices");
        goto done;
    }
    if ((rc = store_begin(s, err))) return rc;
    sqlite3_stmt *st = store_stmt(s, "UPDATE devices SET revoked = 1 WHERE device_id = ?");
    if (!st) {
        store_rollback(s);
        return store_fail(s, SQLITE_ERROR, err);
    }
    sqlite3_bind_text(st, 1, device_id, -1, SQLITE_STATIC);
    if ((rc = sqlite3_step(st)) != SQLITE_DONE) {
        store_rollback(s);
        return store_fail(s, rc, err);
    }
    if (sqlite3_changes(store_db(s)) == 0) {
        store_rollback(s);
        rc = sync_fail(err, SYNC_ENOTFOUND, "not_found", "no device %s", device_id);
        goto done;
    }
    if ((rc = store_commit(s, err))) return rc;
done:
    audit_record(s, actor, "device.revoke", device_id, rc ? err->code : "ok", NULL);
    return rc;
}

int devices_lookup(store *s, const char *device_id, int64_t *user_id, uint8_t public_key[32],
                   sync_error *err) {
    sqlite3_stmt *st = store_stmt(s, "SELECT d.user_id, d.public_key, d.revoked, u.disabled "
                                     "FROM devices d JOIN users u ON u.id = d.user_id "
                                     "WHERE d.device_id = ?");
    if (!st) return store_fail(s, SQLITE_ERROR, err);
    sqlite3_bind_text(st, 1, device_id ? device_id : "", -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_ROW)
        return sync_fail(err, SYNC_EUNAUTH, "unknown_device", "device %s is not enrolled",
                         device_id ? device_id : "");
    int revoked = sqlite3_column_int(st, 2), disabled = sqlite3_column_int(st, 3);
    *user_id = sqlite3_column_int64(st, 0);
    memcpy(public_key, sqlite3_column_blob(st, 1), 32);
    sqlite3_reset(st);
    if (revoked)
        return sync_fail(err, SYNC_EUNAUTH, "device_revoked", "device %s was revoked", device_id);
    if (disabled)
        return sync_fail(err, SYNC_EFORBIDDEN, "account_disabled",
                         "the account of device %s is disabled", device_id);
    return 0;
}
