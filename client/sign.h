/* The client library's signing (prefix client_sign_): a device's Ed25519 key pair, the
 * X-Device-Signature (one-shot Ed25519 over the exact body bytes, base64; never the multi-part
 * Ed25519ph), and a sync batch's body in protobuf or protobuf JSON with its signature. Needs
 * sodium_init to have run. */
#ifndef CLIENT_SIGN_H
#define CLIENT_SIGN_H

#include <stddef.h>
#include <stdint.h>

#include "outfall/v1/outfall.pb-c.h"

enum { CLIENT_SIGN_PK = 32, CLIENT_SIGN_SK = 64 };

/* A fresh random key pair into pk and sk. */
void client_sign_keypair(uint8_t pk[CLIENT_SIGN_PK], uint8_t sk[CLIENT_SIGN_SK]);

/* The key pair a 32-byte seed determines (the same seed, the same keys). */
void client_sign_seed_keypair(uint8_t pk[CLIENT_SIGN_PK], uint8_t sk[CLIENT_SIGN_SK],
                              const uint8_t seed[32]);

/* Base64 of the one-shot Ed25519 signature of body[len] by sk: the X-Device-Signature value.
 * Malloc'd, the caller frees; NULL on no memory. */
char *client_sign_b64(const uint8_t sk[CLIENT_SIGN_SK], const void *body, size_t len);

/* req encoded as a batch's body: packed protobuf (json 0) or protobuf JSON (json 1), into *bytes
 * (malloc'd, the caller frees; NUL-terminated after *len bytes). Returns 0, or -1 with *bytes
 * NULL. */
int client_sign_encode(const Outfall__V1__SyncRequest *req, int json, uint8_t **bytes, size_t *len);

/* Both at once: req's body as client_sign_encode makes it, and its signature by sk as
 * client_sign_b64 does into *signature. Both malloc'd, the caller frees them. Returns 0, or -1
 * with both NULL. */
int client_sign_batch(const Outfall__V1__SyncRequest *req, int json,
                      const uint8_t sk[CLIENT_SIGN_SK], uint8_t **bytes, size_t *len,
                      char **signature);

#endif
