/* Ed25519 keys and the signature of a sync batch's exact bytes (libsodium, one-shot). */
#include "client/sign.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "common/pbjson.h"
#include "common/util.h"

void client_sign_keypair(uint8_t pk[CLIENT_SIGN_PK], uint8_t sk[CLIENT_SIGN_SK]) {
    crypto_sign_keypair(pk, sk);
}

void client_sign_seed_keypair(uint8_t pk[CLIENT_SIGN_PK], uint8_t sk[CLIENT_SIGN_SK],
                              const uint8_t seed[32]) {
    crypto_sign_seed_keypair(pk, sk, seed);
}

char *client_sign_b64(const uint8_t sk[CLIENT_SIGN_SK], const void *body, size_t len) {
    uint8_t sig[crypto_sign_BYTES];
    crypto_sign_detached(sig, NULL, body, len, sk);
    return util_base64_encode(sig, sizeof sig);
}

int client_sign_encode(const Outfall__V1__SyncRequest *req, int json, uint8_t **bytes,
                       size_t *len) {
    *bytes = NULL;
    *len = 0;
    if (json) {
        char *text = pbjson_encode(&req->base, 0);
        if (!text) return -1;
        *bytes = (uint8_t *)text;
        *len = strlen(text);
        return 0;
    }
    size_t n = protobuf_c_message_get_packed_size(&req->base);
    uint8_t *packed = malloc(n + 1);
    if (!packed) return -1;
    protobuf_c_message_pack(&req->base, packed);
    packed[n] = '\0';
    *bytes = packed;
    *len = n;
    return 0;
}

int client_sign_batch(const Outfall__V1__SyncRequest *req, int json,
                      const uint8_t sk[CLIENT_SIGN_SK], uint8_t **bytes, size_t *len,
                      char **signature) {
    *signature = NULL;
    if (client_sign_encode(req, json, bytes, len) != 0) return -1;
    *signature = client_sign_b64(sk, *bytes, *len);
    if (*signature) return 0;
    free(*bytes);
    *bytes = NULL;
    *len = 0;
    return -1;
}
