/* POST /v1/auth/login and POST /v1/auth/logout. */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "server/api.h"
#include "server/auth.h"
#include "sync/accounts.h"

/* LoginRequest → LoginResponse (a bearer token, its expiry, role and divisions); a refusal for
 * too many failed logins (429 locked_out) carries Retry-After. */
int api_auth_login(http_req *r) {
    Outfall__V1__LoginRequest *in = NULL;
    Outfall__V1__LoginResponse *out = NULL;
    int rc = http_decode(r, &outfall__v1__login_request__descriptor, (ProtobufCMessage **)&in);
    if (rc < 0) goto done;
    if (!in->username || !in->username[0] || !in->password || !in->password[0]) {
        rc = http_error(r, 400, "invalid_argument", "username and password are required");
        goto done;
    }
    char addr[64];
    auth_client_addr(r, addr, sizeof addr);
    int64_t retry_after_s = 0;
    rc = accounts_login_retry_after(r->store, &r->cfg->sync, in->username, in->password, addr,
                                    &retry_after_s, &out, &r->err);
    if (rc < 0 && retry_after_s > 0) {
        size_t used = strlen(r->headers);
        snprintf(r->headers + used, sizeof r->headers - used, "Retry-After: %lld\r\n",
                 (long long)retry_after_s);
    }
    if (rc < 0) goto done;
    rc = http_send_message(r, 200, &out->base);
done:
    if (in && in->password) sodium_memzero(in->password, strlen(in->password));
    if (in) protobuf_c_message_free_unpacked(&in->base, NULL);
    if (out) protobuf_c_message_free_unpacked(&out->base, NULL);
    return rc;
}

/* Revokes the token the request was made with; 204. */
int api_auth_logout(http_req *r) {
    int rc = accounts_revoke_token(r->store, r->token, &r->err);
    if (rc < 0) return rc;
    http_send_empty(r, 204);
    return 0;
}
