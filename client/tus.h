/* The client library's photo uploads (prefix client_tus_): tus 1.0 as the server speaks it at
 * /v1/photos (creation with the photo's hash in Upload-Metadata, HEAD for the offset the server
 * holds, PATCH pieces each with a sha256 Upload-Checksum) and the whole-file PUT. Each exchange's
 * answer lands in a client_http_response the caller owns (zeroed before first use, freed with
 * client_http_response_free), so the caller reads the server's Error from it as it likes. */
#ifndef CLIENT_TUS_H
#define CLIENT_TUS_H

#include <stddef.h>
#include <stdint.h>

#include "client/http.h"

/* Where and how to upload; borrowed for each call. */
typedef struct client_tus {
    CURL *curl;         /* NULL: a fresh handle per exchange; else reused (kept alive) */
    const char *server; /* base URL, http://HOST:PORT, no trailing slash */
    const char *token;  /* NULL: no Authorization */
    const char *accept; /* the Accept header's value (for Error answers): a CLIENT_HTTP_ type */
    long timeout_s;     /* per exchange; 0: none */
    int use_proxy;      /* 1: honour the proxy environment */
} client_tus;

/* HEAD /v1/photos/{hash}: the offset the server holds is client_tus_offset(out). Returns the
 * status (200 while an upload is under way, 404 when there is none). */
long client_tus_head(const client_tus *t, const char *hash, client_http_response *out);

/* POST /v1/photos creating an upload of length bytes for hash. Returns the status (201). */
long client_tus_create(const client_tus *t, const char *hash, int64_t length,
                       client_http_response *out);

/* PATCH /v1/photos/{hash} with piece[n] at offset. Returns the status (204; the new offset is
 * client_tus_offset(out)). */
long client_tus_patch(const client_tus *t, const char *hash, int64_t offset, const void *piece,
                      size_t n, client_http_response *out);

/* The Upload-Offset header of an answer; -1 when it has none. */
int64_t client_tus_offset(const client_http_response *out);

/* A whole upload from memory: creation, then PATCHes of piece bytes each; stops at the first
 * answer that is not 2xx. Returns the last status (204, or 201 for an empty photo, on success). */
long client_tus_upload(const client_tus *t, const char *hash, const void *data, size_t len,
                       size_t piece, client_http_response *out);

/* How a file upload goes: piece bytes at a time through buf (the caller's, piece bytes), a piece
 * tried again up to retries times, and progress(user, offset) called before each piece and at
 * the end (progress may be NULL). */
typedef struct client_tus_file {
    const char *path;
    const char *hash; /* the file's BLAKE2b-256 hex */
    int64_t size;
    size_t piece;
    uint8_t *buf;
    int retries;
    void (*progress)(void *user, int64_t offset);
    void *user;
} client_tus_file;

/* Uploads f from wherever the server stands: HEAD for its offset (a new upload when there is
 * none), then the rest in pieces. A piece lost on the way or refused for its offset (409, 423)
 * asks the server where it stands again; one refused for its checksum (460) is sent again.
 * *resumed_at gets the offset it went on from. Returns 0, or -1 with why[cap] saying what
 * failed ("CODE: message" of the server's Error, or curl's reason). */
int client_tus_upload_file(const client_tus *t, const client_tus_file *f, int64_t *resumed_at,
                           char *why, size_t cap);

/* PUT /v1/photos/{hash} with the whole photo data[len] (streamed, application/octet-stream).
 * Returns the status (201, or 200 when the server had it). */
long client_tus_put(const client_tus *t, const char *hash, const void *data, size_t len,
                    client_http_response *out);

#endif
