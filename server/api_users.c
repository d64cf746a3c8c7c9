/* Accounts: POST and GET /v1/users (admins), PATCH /v1/users/{username} and its password reset
 * (admins), a user's devices and signed-in tokens (admins: anyone's; each user: their own), and
 * POST /v1/me/password. */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "server/api.h"
#include "server/auth.h"
#include "sync/account_manage.h"
#include "sync/accounts.h"
#include "sync/accounts_internal.h"

/* User (username, password, role, divisions) → 201 with the User as created, never its
 * password. */
int api_users_create(http_req *r) {
    Outfall__V1__User *in = NULL;
    int rc = http_decode(r, &outfall__v1__user__descriptor, (ProtobufCMessage **)&in);
    if (rc < 0) goto done;
    rc = accounts_create_user(r->store, &r->who, in, &r->err);
    if (rc < 0) goto done;
    Outfall__V1__User echo = *in;
    echo.password = NULL;
    rc = http_send_message(r, 201, &echo.base);
done:
    if (in && in->password) sodium_memzero(in->password, strlen(in->password));
    if (in) protobuf_c_message_free_unpacked(&in->base, NULL);
    return rc;
}

/* Every account, without passwords → UserList. */
int api_users_list(http_req *r) {
    Outfall__V1__UserList *out = NULL;
    int rc = accounts_list_users(r->store, &r->who, &out, &r->err);
    if (rc < 0) return rc;
    rc = http_send_message(r, 200, &out->base);
    protobuf_c_message_free_unpacked(&out->base, NULL);
    return rc;
}

/* PATCH /v1/users/{username}: a User with only what changes (role, divisions, disabled) → 200
 * with the User as stored. */
int api_users_update(http_req *r) {
    Outfall__V1__User *in = NULL, *out = NULL;
    int rc = http_decode(r, &outfall__v1__user__descriptor, (ProtobufCMessage **)&in);
    if (rc < 0) goto done;
    if (in->password || (in->username && strcmp(in->username, r->params[0]) != 0)) {
        rc = http_error(r, 400, "invalid_argument",
                        "PATCH changes role, divisions and disabled; a password is reset with "
                        "POST /v1/users/{username}/password and a name never changes");
        audit_record(r->store, &r->who, "user.update", r->params[0], r->err.code, NULL);
        goto done;
    }
    rc = account_manage_update(r->store, &r->who, r->params[0], in, &out, &r->err);
    if (rc < 0) goto done;
    rc = out ? http_send_message(r, 200, &out->base)
             : http_error(r, 500, "storage_error", "the user vanished");
done:
    if (in && in->password) sodium_memzero(in->password, strlen(in->password));
    if (in) protobuf_c_message_free_unpacked(&in->base, NULL);
    if (out) protobuf_c_message_free_unpacked(&out->base, NULL);
    return rc;
}

/* POST /v1/users/{username}/password: a PasswordReset (its password the admin's choice, or
 * unset) → 200 with the PasswordReset holding the one-time password, shown this once. */
int api_users_reset_password(http_req *r) {
    Outfall__V1__PasswordReset *in = NULL;
    char *made = NULL;
    int rc = http_decode(r, &outfall__v1__password_reset__descriptor, (ProtobufCMessage **)&in);
    if (rc < 0) goto done;
    rc = account_manage_reset_password(r->store, &r->who, r->params[0], in->password, &made,
                                       &r->err);
    if (rc < 0) goto done;
    Outfall__V1__PasswordReset answer = OUTFALL__V1__PASSWORD_RESET__INIT;
    answer.username = r->params[0];
    answer.password = made ? made : in->password;
    rc = http_send_message(r, 200, &answer.base);
done:
    if (made) {
        sodium_memzero(made, strlen(made));
        free(made);
    }
    if (in && in->password) sodium_memzero(in->password, strlen(in->password));
    if (in) protobuf_c_message_free_unpacked(&in->base, NULL);
    return rc;
}

/* POST /v1/me/password: a PasswordChange → 204. The token of this request stays signed in;
 * every other token of the user is revoked. */
int api_me_password(http_req *r) {
    Outfall__V1__PasswordChange *in = NULL;
    uint8_t current[32];
    char client[64];
    int rc = http_decode(r, &outfall__v1__password_change__descriptor, (ProtobufCMessage **)&in);
    if (rc < 0) goto done;
    auth_client_addr(r, client, sizeof client);
    int known = accounts_token_hash(r->token, current) == 0;
    rc = account_manage_change_password(r->store, &r->who, known ? current : NULL,
                                        in->current_password, in->new_password, client, &r->err);
    if (rc < 0) goto done;
    http_send_empty(r, 204);
done:
    if (in && in->current_password)
        sodium_memzero(in->current_password, strlen(in->current_password));
    if (in && in->new_password) sodium_memzero(in->new_password, strlen(in->new_password));
    if (in) protobuf_c_message_free_unpacked(&in->base, NULL);
    return rc;
}

/* GET /v1/users/{username}/devices → DeviceList. */
int api_users_devices(http_req *r) {
    Outfall__V1__DeviceList *out = NULL;
    int rc = account_manage_devices(r->store, &r->who, r->params[0], &out, &r->err);
    if (rc < 0) return rc;
    rc = http_send_message(r, 200, &out->base);
    protobuf_c_message_free_unpacked(&out->base, NULL);
    return rc;
}

/* DELETE /v1/users/{username}/devices/{id} → 204. */
int api_users_revoke_device(http_req *r) {
    int rc = account_manage_revoke_device(r->store, &r->who, r->params[0], r->params[1], &r->err);
    if (rc < 0) return rc;
    http_send_empty(r, 204);
    return 0;
}

/* GET /v1/users/{username}/tokens → TokenList (ids, never tokens). */
int api_users_tokens(http_req *r) {
    Outfall__V1__TokenList *out = NULL;
    uint8_t current[32];
    int known = accounts_token_hash(r->token, current) == 0;
    int rc = account_manage_tokens(r->store, &r->who, r->params[0], known ? current : NULL, &out,
                                   &r->err);
    if (rc < 0) return rc;
    rc = http_send_message(r, 200, &out->base);
    protobuf_c_message_free_unpacked(&out->base, NULL);
    return rc;
}

/* DELETE /v1/users/{username}/tokens/{id} → 204. */
int api_users_revoke_token(http_req *r) {
    int rc = account_manage_revoke_token(r->store, &r->who, r->params[0], r->params[1], &r->err);
    if (rc < 0) return rc;
    http_send_empty(r, 204);
    return 0;
}
