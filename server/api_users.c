/* POST /v1/users and GET /v1/users: accounts, managed by admins. */
#include <sodium.h>
#include <string.h>

#include "server/api.h"
#include "sync/accounts.h"

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
