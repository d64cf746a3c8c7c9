/* tus 1.0 uploads and the whole-file PUT of a photo, over client/http. */
#include "client/tus.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/util.h"

enum { CLIENT_TUS_LINES = 8 };

/* One exchange on the photo's address (hash NULL: the collection, /v1/photos) with the Accept
 * header, Tus-Resumable unless send is streamed (the whole-file PUT is not tus), extra lines
 * (NULL-terminated, may be NULL) and body. */
static long client_tus_call(const client_tus *t, const char *method, const char *hash,
                            const char *const *extra, const void *body, size_t len,
                            client_http_send send, client_http_response *out) {
    char url[2048], accept[160];
    const char *lines[CLIENT_TUS_LINES + 4] = {accept, "Expect:"};
    size_t n = 2;
    if (send == CLIENT_HTTP_FIELDS) lines[n++] = "Tus-Resumable: 1.0.0";
    snprintf(url, sizeof url, "%s/v1/photos%s%s", t->server, hash ? "/" : "", hash ? hash : "");
    snprintf(accept, sizeof accept, "Accept: %s", t->accept ? t->accept : CLIENT_HTTP_PB);
    for (size_t i = 0; extra && extra[i] && i < CLIENT_TUS_LINES; i++)
        lines[n++] = extra[i];
    lines[n] = NULL;
    client_http_request rq = {.method = method,
                              .url = url,
                              .token = t->token,
                              .headers = lines,
                              .body = body,
                              .len = len,
                              .send = send,
                              .timeout_s = t->timeout_s,
                              .use_proxy = t->use_proxy};
    return client_http_exchange(t->curl, &rq, out);
}

long client_tus_head(const client_tus *t, const char *hash, client_http_response *out) {
    return client_tus_call(t, "HEAD", hash, NULL, NULL, 0, CLIENT_HTTP_FIELDS, out);
}

long client_tus_create(const client_tus *t, const char *hash, int64_t length,
                       client_http_response *out) {
    char meta[200], size[64];
    char *b64 = util_base64_encode((const uint8_t *)hash, strlen(hash));
    snprintf(meta, sizeof meta, "Upload-Metadata: hash %s", b64 ? b64 : "");
    free(b64);
    snprintf(size, sizeof size, "Upload-Length: %" PRId64, length);
    const char *extra[] = {size, meta, NULL};
    return client_tus_call(t, "POST", NULL, extra, NULL, 0, CLIENT_HTTP_FIELDS, out);
}

long client_tus_patch(const client_tus *t, const char *hash, int64_t offset, const void *piece,
                      size_t n, client_http_response *out) {
    uint8_t digest[crypto_hash_sha256_BYTES];
    char sum[128], at[64];
    crypto_hash_sha256(digest, piece, n);
    char *b64 = util_base64_encode(digest, sizeof digest);
    snprintf(sum, sizeof sum, "Upload-Checksum: sha256 %s", b64 ? b64 : "");
    free(b64);
    snprintf(at, sizeof at, "Upload-Offset: %" PRId64, offset);
    const char *extra[] = {at, sum, "Content-Type: application/offset+octet-stream", NULL};
    return client_tus_call(t, "PATCH", hash, extra, piece, n, CLIENT_HTTP_FIELDS, out);
}

int64_t client_tus_offset(const client_http_response *out) {
    char value[32], *end = NULL;
    if (!client_http_header(out->headers, "Upload-Offset", value, sizeof value)) return -1;
    errno = 0;
    long long v = strtoll(value, &end, 10);
    return errno || end == value || *end || v < 0 ? -1 : (int64_t)v;
}

long client_tus_upload(const client_tus *t, const char *hash, const void *data, size_t len,
                       size_t piece, client_http_response *out) {
    long st = client_tus_create(t, hash, (int64_t)len, out);
    for (size_t at = 0; st >= 200 && st < 300 && at < len; at += piece) {
        size_t n = len - at < piece ? len - at : piece;
        st = client_tus_patch(t, hash, (int64_t)at, (const uint8_t *)data + at, n, out);
    }
    return st;
}

/* What an answer that is not a success says, into why[cap]. */
static void client_tus_why(const client_http_response *out, char *why, size_t cap) {
    char code[64], message[256];
    if (out->status == 0)
        snprintf(why, cap, "%s", out->error);
    else if (client_http_error(out->content_type, out->body.data, out->body.len, code, sizeof code,
                               message, sizeof message) == 0)
        snprintf(why, cap, "%s: %s", code, message);
    else
        snprintf(why, cap, "the server answered HTTP %ld", out->status);
}

/* How much of f the server holds: HEAD, or a new upload (offset 0) when there is none. */
static int client_tus_where(const client_tus *t, const client_tus_file *f, int64_t *offset,
                            client_http_response *out, char *why, size_t cap) {
    long st = client_tus_head(t, f->hash, out);
    int64_t held = client_tus_offset(out);
    if (st == 200 && held >= 0 && held <= f->size) {
        *offset = held;
        return 0;
    }
    if (st != 404) {
        client_tus_why(out, why, cap);
        if (st == 200) snprintf(why, cap, "bad HEAD");
        return -1;
    }
    if (client_tus_create(t, f->hash, f->size, out) != 201) {
        client_tus_why(out, why, cap);
        return -1;
    }
    *offset = 0;
    return 0;
}

int client_tus_upload_file(const client_tus *t, const client_tus_file *f, int64_t *resumed_at,
                           char *why, size_t cap) {
    client_http_response out = {0};
    int64_t offset = 0;
    int tries = 0, rc = client_tus_where(t, f, &offset, &out, why, cap);
    int fd = rc == 0 ? open(f->path, O_RDONLY | O_CLOEXEC) : -1;
    if (rc == 0 && fd < 0) {
        snprintf(why, cap, "%s: %s", f->path, strerror(errno));
        rc = -1;
    }
    *resumed_at = offset;
    while (rc == 0 && offset < f->size) {
        if (f->progress) f->progress(f->user, offset);
        size_t want = f->size - offset < (int64_t)f->piece ? (size_t)(f->size - offset) : f->piece;
        if (pread(fd, f->buf, want, offset) != (ssize_t)want) {
            snprintf(why, cap, "%s: cannot read at %" PRId64, f->path, offset);
            rc = -1;
            break;
        }
        long st = client_tus_patch(t, f->hash, offset, f->buf, want, &out);
        int64_t now = client_tus_offset(&out);
        if (st == 204 && now > offset && now <= f->size) {
            offset = now;
            tries = 0;
        } else if (++tries > f->retries) {
            client_tus_why(&out, why, cap);
            if (st == 204) snprintf(why, cap, "no progress");
            rc = -1;
        } else if (st == 0 || st == 409 || st == 423) {
            rc = client_tus_where(t, f, &offset, &out, why, cap); /* lost, or moved on */
        } else if (st != 460) {                                   /* 460: send it again */
            client_tus_why(&out, why, cap);
            rc = -1;
        }
    }
    if (rc == 0 && f->progress) f->progress(f->user, f->size);
    if (fd >= 0) close(fd);
    client_http_response_free(&out);
    return rc;
}

long client_tus_put(const client_tus *t, const char *hash, const void *data, size_t len,
                    client_http_response *out) {
    const char *extra[] = {"Content-Type: application/octet-stream", NULL};
    return client_tus_call(t, "PUT", hash, extra, data, len, CLIENT_HTTP_STREAM, out);
}
