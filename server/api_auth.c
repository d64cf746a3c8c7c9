/* POST /v1/auth/login and POST /v1/auth/logout. */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "server/api.h"
#include "sync/accounts.h"

/* The client's address for login throttling and the audit into out[cap]: the peer's, or when
 * --real-ip-header names a header and the peer is on loopback (the reverse proxy), that header's
 * address. Behind the proxy every peer is 127.0.0.1: without this one client's failures locked
 * every client out. */
static void client_addr(const http_req *r, char *out, size_t cap) {
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

/* LoginRequest → LoginResponse (a bearer token, its expiry, role and divisions). */
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
    client_addr(r, addr, sizeof addr);
    rc = accounts_login(r->store, &r->cfg->sync, in->username, in->password, addr, &out, &r->err);
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
