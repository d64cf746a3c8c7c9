/* The photo endpoints. POST /v1/photos/missing asks which photos the server lacks. Uploads speak
 * tus 1.0 at /v1/photos/{hash} (core protocol, creation, creation-with-upload, expiration,
 * checksum with sha1, sha256 and sha512, termination): OPTIONS, POST (creation, also at
 * /v1/photos with the hash in Upload-Metadata, optionally carrying the first chunk), HEAD with
 * Tus-Resumable, PATCH, DELETE; or a whole file in one PUT. GET and HEAD read the bytes back (ETag,
 * immutable caching, one Range); GET /v1/photos/{hash}/info answers a PhotoInfo. Bodies stream to
 * disk in chunks; sync/photos.c checks every byte and stores. */
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "common/util.h"
#include "server/api.h"
#include "server/auth.h"
#include "sync/feed.h"
#include "sync/photos.h"
#include "programme/public_report_photos.h"

#define TUS_VERSION "1.0.0"
#define TUS_CTYPE "application/offset+octet-stream"
#define PHOTO_CACHE "private, max-age=31536000, immutable"
#define STAFF_ROLES (AUTH_SURVEYOR | AUTH_SUPERVISOR | AUTH_ADMIN)
#define TUS_EXTENSIONS "creation,creation-with-upload,expiration,checksum,termination"
#define CHECKSUM_NAMES "sha1,sha256,sha512" /* checksum_algos' names */

enum { CHUNK = 64 * 1024, PHOTO_STORE_RETRY_S = 30 };

/* Error codes whose status is not the one their result code maps to. */
static const struct {
    const char *code;
    int status;
} photo_statuses[] = {
    {"unsupported_media_type", 415},
    {"upload_locked", 423},
    {"checksum_mismatch", 460}, /* tus checksum extension */
};

/* Refusals of an upload's bytes, audited like the other refused requests. */
static const char *const audited_codes[] = {
    "digest_mismatch",       "unsupported_media_type",  "truncated_image",
    "photo_too_large",       "checksum_mismatch",       "beyond_upload_length",
    "upload_quota_exceeded", "upload_reports_exceeded",
};

static photos_env env_of(const http_req *r) {
    photos_env e = {r->cfg->photos_dir,
                    r->cfg->uploads_dir,
                    r->cfg->max_photo_bytes,
                    &r->cfg->sync,
                    r->cfg->report_upload_expiry_s * 1000,
                    r->cfg->report_upload_quota,
                    r->cfg->report_upload_max_reports,
                    r->cfg->upload_expiry_s * 1000,
                    r->cfg->photos};
    return e;
}

static void add_header(http_req *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Sets r->err_status for an engine error in r->err and returns its code. The photo store out
 * of reach (503 photo_store_unavailable) says when to try again. */
static int engine_failed(http_req *r) {
    r->err_status = 0;
    for (size_t i = 0; i < sizeof photo_statuses / sizeof photo_statuses[0]; i++)
        if (strcmp(r->err.code, photo_statuses[i].code) == 0)
            r->err_status = photo_statuses[i].status;
    if (strcmp(r->err.code, "photo_store_unavailable") == 0)
        add_header(r, "Retry-After: %d", PHOTO_STORE_RETRY_S);
    return r->err.rc;
}

/* Audits r's refusal when it is about the bytes sent; passes rc through. */
static int audit_upload(http_req *r, int rc) {
    for (size_t i = 0; rc < 0 && i < sizeof audited_codes / sizeof audited_codes[0]; i++)
        if (strcmp(r->err.code, audited_codes[i]) == 0)
            auth_audit_refusal(r, r->params[0][0] ? r->params[0] : NULL);
    return rc;
}

/* A reporter (a public report's upload token) writes only the photos its report listed: 403
 * photo_not_in_report, audited, for any other. Users pass; so does a hash that is not one (the
 * engine answers 400 for it). */
static int reporter_scope(http_req *r, const char *hash) {
    if (!auth_reporter(r) || !util_hash_hex_valid(hash)) return 0;
    if (report_token_allows(r->store, &r->who, hash, &r->err) == 0) return 0;
    auth_audit_refusal(r, hash);
    return r->err.rc;
}

/* Appends a header line (without its "\r\n") to the answer. */
static void add_header(http_req *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add_header(http_req *r, const char *fmt, ...) {
    size_t used = strlen(r->headers);
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(r->headers + used, sizeof r->headers - used, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n + 2 >= sizeof r->headers - used) {
        r->headers[used] = '\0'; /* cannot happen: every header here is short */
        return;
    }
    memcpy(r->headers + used + n, "\r\n", 3);
}

/* Every tus answer carries Tus-Resumable. A request naming another version, or none where one
 * is required, gets 412 with the version this server speaks. */
static int tus_start(http_req *r, int required) {
    add_header(r, "Tus-Resumable: " TUS_VERSION);
    const char *v = mg_get_header(r->conn, "Tus-Resumable");
    if (v ? strcmp(v, TUS_VERSION) == 0 : !required) return 0;
    add_header(r, "Tus-Version: " TUS_VERSION);
    return http_error(r, 412, "unsupported_tus_version",
                      "this server speaks tus " TUS_VERSION "; send Tus-Resumable: " TUS_VERSION);
}

/* The header name as a whole non-negative number into *out. Returns 0, or invalid_argument
 * when it is absent or not such a number. */
static int header_int(http_req *r, const char *name, int64_t *out) {
    const char *v = mg_get_header(r->conn, name);
    char *end = NULL;
    long long n = v && v[0] >= '0' && v[0] <= '9' ? strtoll(v, &end, 10) : -1;
    if (n < 0 || !end || *end != '\0')
        return http_error(r, 400, "invalid_argument", "%s must be a whole number of bytes", name);
    *out = n;
    return 0;
}

/* The photo's hash for a creation: the address's, else Upload-Metadata's `hash` (base64 of the
 * 64 hex digits); both when given must agree. */
static int creation_hash(http_req *r, char hash[HASH_HEX_LEN + 1]) {
    const char *meta = mg_get_header(r->conn, "Upload-Metadata");
    util_strlcpy(hash, r->params[0], HASH_HEX_LEN + 1);
    for (const char *p = meta; p && *p;) {
        size_t len = strcspn(p, ","), key = strcspn(p, " ,");
        if (key == 4 && strncmp(p, "hash", 4) == 0) {
            uint8_t text[HASH_HEX_LEN + 1];
            const char *v = p + key + strspn(p + key, " ");
            long n = util_base64_decode(v, (size_t)(p + len - v), text, HASH_HEX_LEN);
            text[n == HASH_HEX_LEN ? n : 0] = '\0';
            if (n != HASH_HEX_LEN || !util_hash_hex_valid((const char *)text))
                return http_error(r, 400, "invalid_argument",
                                  "Upload-Metadata hash must be the base64 of 64 lowercase hex "
                                  "digits (BLAKE2b-256)");
            if (hash[0] && strcmp(hash, (const char *)text) != 0)
                return http_error(r, 400, "invalid_argument",
                                  "Upload-Metadata names another hash than the address");
            memcpy(hash, text, HASH_HEX_LEN + 1);
        }
        p += len;
        if (*p == ',') p++;
        p += strspn(p, " ");
    }
    if (!hash[0])
        return http_error(r, 400, "invalid_argument",
                          "name the photo: POST /v1/photos/{hash}, or Upload-Metadata: hash "
                          "<base64 of its 64 hex digits>");
    return 0;
}

int api_photos_missing(http_req *r) {
    Outfall__V1__PhotoHashes *in = NULL;
    const char **missing = NULL;
    size_t n = 0;
    int rc = http_decode(r, &outfall__v1__photo_hashes__descriptor, (ProtobufCMessage **)&in);
    if (rc == 0)
        rc = photos_missing(r->store, &r->who, in->hashes, in->n_hashes, &missing, &n, &r->err);
    if (rc == 0) {
        Outfall__V1__PhotoHashes out = OUTFALL__V1__PHOTO_HASHES__INIT;
        out.n_hashes = n;
        out.hashes = (char **)missing;
        rc = http_send_message(r, 200, &out.base);
    }
    free(missing);
    if (in) protobuf_c_message_free_unpacked(&in->base, NULL);
    return rc;
}

int api_photos_options(http_req *r) {
    add_header(r, "Tus-Resumable: " TUS_VERSION);
    add_header(r, "Tus-Version: " TUS_VERSION);
    add_header(r, "Tus-Extension: " TUS_EXTENSIONS);
    add_header(r, "Tus-Max-Size: %lld", (long long)r->cfg->max_photo_bytes);
    add_header(r, "Tus-Checksum-Algorithm: " CHECKSUM_NAMES);
    http_send_empty(r, 204);
    return 0;
}

/* The algorithms of Upload-Checksum (tus checksum extension), from OpenSSL's libcrypto. */
static const struct {
    const char *name;
    const EVP_MD *(*md)(void);
} checksum_algos[] = {
    {"sha1", EVP_sha1},
    {"sha256", EVP_sha256},
    {"sha512", EVP_sha512},
};

/* A checksum of a chunk's body: from checksum_start until checksum_end (which frees it). */
typedef struct checksum {
    const char *name; /* NULL: none asked */
    EVP_MD_CTX *ctx;
    int len; /* the digest's bytes */
    uint8_t want[EVP_MAX_MD_SIZE];
} checksum;

/* Reads Upload-Checksum ("<algorithm> <base64>", an algorithm of checksum_algos) into ck, which
 * the caller ends with checksum_end whatever this returns. Codes: unsupported_checksum_algorithm,
 * invalid_argument (a digest of the wrong size), out_of_memory. */
static int checksum_start(http_req *r, checksum *ck) {
    const char *h = mg_get_header(r->conn, "Upload-Checksum");
    memset(ck, 0, sizeof *ck);
    if (!h) return 0;
    size_t algo = strcspn(h, " ");
    const EVP_MD *md = NULL;
    for (size_t i = 0; i < sizeof checksum_algos / sizeof checksum_algos[0]; i++)
        if (algo == strlen(checksum_algos[i].name) &&
            strncmp(h, checksum_algos[i].name, algo) == 0) {
            ck->name = checksum_algos[i].name;
            md = checksum_algos[i].md();
        }
    if (!md)
        return http_error(r, 400, "unsupported_checksum_algorithm",
                          "Upload-Checksum: use one of " CHECKSUM_NAMES ", not %.*s", (int)algo, h);
    ck->len = EVP_MD_get_size(md);
    const char *b64 = h + algo + strspn(h + algo, " ");
    long n = util_base64_decode(b64, strlen(b64), ck->want, sizeof ck->want);
    if (n != ck->len)
        return http_error(r, 400, "invalid_argument",
                          "Upload-Checksum: the %s digest must be %d bytes in base64", ck->name,
                          ck->len);
    ck->ctx = EVP_MD_CTX_new();
    if (!ck->ctx || EVP_DigestInit_ex(ck->ctx, md, NULL) != 1)
        return http_error(r, 500, "out_of_memory", "out of memory for a checksum");
    return 0;
}

static void checksum_update(checksum *ck, const uint8_t *buf, size_t n) {
    if (ck->ctx) EVP_DigestUpdate(ck->ctx, buf, n);
}

/* 1 when the body matched the checksum asked for (or none was). */
static int checksum_ok(checksum *ck) {
    uint8_t got[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (!ck->name) return 1;
    return ck->ctx && EVP_DigestFinal_ex(ck->ctx, got, &len) == 1 && (int)len == ck->len &&
           CRYPTO_memcmp(got, ck->want, len) == 0;
}

static void checksum_end(checksum *ck) {
    EVP_MD_CTX_free(ck->ctx);
    ck->ctx = NULL;
}

/* Streams the request body into u in chunks (checksummed into ck when given), holding no
 * database handle meanwhile (r's is given back first and taken again after). *cut is set when
 * the body ended before its Content-Length (the client went away). Returns 0, or the engine's
 * refusal, body_too_slow or busy (with r->err filled). */
static int stream_body(http_req *r, photos_upload *u, checksum *ck, int *cut) {
    int64_t declared = r->ri->content_length, received = 0;
    uint8_t *buf = malloc(CHUNK);
    long n = 0;
    int rc = 0;
    if (!buf) return http_error(r, 500, "out_of_memory", "out of memory for the body");
    http_store_release(r); /* no database handle held while the client sends */
    while (rc == 0 && (n = http_read_some(r, buf, CHUNK)) > 0) {
        if (ck) checksum_update(ck, buf, (size_t)n);
        rc = photos_upload_write(u, buf, (size_t)n, &r->err);
        received += n;
    }
    free(buf);
    int slow = n < 0 && r->err.code[0]; /* http_read_some refused: body_too_slow */
    *cut = n < 0 || (declared >= 0 && received < declared);
    if (http_store_acquire(r) < 0) return r->err.rc; /* busy */
    if (rc < 0) return engine_failed(r);
    return slow ? r->err.rc : 0;
}

/* Appends r's body to the caller's tus upload of hash at *offset (a PATCH, or a creation carrying
 * its first chunk), checked against ck (whose Upload-Checksum was read), and sets *offset to
 * where the upload is now: a chunk cut off keeps what came (tus core), one failing its checksum
 * keeps nothing; a whole upload is verified and stored. When the caller holds the photo already,
 * nothing is read and *offset is its size. Returns 0, or a refusal (audited when about the bytes)
 * with r->err filled and the upload as it was. */
static int append_body(http_req *r, const char *hash, checksum *ck, int64_t *offset) {
    photos_env env = env_of(r);
    photos_upload *u = NULL;
    int64_t length = 0;
    int cut = 0, stored = 0, rc = 0;
    /* The upload's lock is taken here, before "100 Continue" goes out (at the first read in
     * stream_body) and before a byte is read: a client that waited for 100 knows that a HEAD
     * it sends after losing the link waits for this request and tells what it kept. */
    if (photos_upload_open(r->store, &env, &r->who, hash, *offset, &u, &length, &r->err) < 0)
        rc = engine_failed(r);
    if (rc == 0 && u && r->ri->content_length > length - *offset) {
        photos_upload_abort(u);
        rc = http_error(r, 400, "beyond_upload_length",
                        "%lld bytes at offset %lld go past the upload's length of %lld",
                        (long long)r->ri->content_length, (long long)*offset, (long long)length);
    }
    if (rc < 0) return audit_upload(r, rc);
    if (!u) { /* the caller holds it already */
        *offset = length;
        return 0;
    }
    rc = stream_body(r, u, ck->name ? ck : NULL, &cut);
    if (rc == 0 && ck->name && (cut || !checksum_ok(ck)))
        rc = cut ? http_error(r, 400, "body_incomplete", "the chunk ended early; it was not kept")
                 : http_error(r, 460, "checksum_mismatch",
                              "the chunk does not match Upload-Checksum; it was not kept");
    if (rc < 0) {
        sync_error ignored;
        photos_upload_rewind(u, &ignored);
        photos_upload_abort(u);
        return audit_upload(r, rc);
    }
    *offset = photos_upload_offset(u);
    if (photos_upload_finish(r->store, &env, u, &r->who, &stored, &r->err) < 0)
        return audit_upload(r, engine_failed(r));
    return 0;
}

/* Adds Upload-Expires (tus expiration: an RFC 9110 date) for the caller's unfinished upload of
 * hash, and Upload-Metadata as its creation sent it when with_metadata; nothing for a finished
 * one. Returns 0, or the engine's refusal. */
static int upload_headers(http_req *r, const char *hash, int with_metadata) {
    photos_env env = env_of(r);
    char metadata[PHOTOS_METADATA_MAX + 1], date[64];
    int64_t expires_ms = 0;
    if (photos_upload_describe(r->store, &env, &r->who, hash, metadata, sizeof metadata,
                               &expires_ms, &r->err) < 0)
        return engine_failed(r);
    time_t at = (time_t)(expires_ms / 1000);
    struct tm tm;
    if (expires_ms > 0 && gmtime_r(&at, &tm) &&
        strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm) > 0)
        add_header(r, "Upload-Expires: %s", date);
    if (with_metadata && metadata[0]) add_header(r, "Upload-Metadata: %s", metadata);
    return 0;
}

/* 1 when r carries a body (a Content-Length above 0, or a chunked one). */
static int has_body(http_req *r) {
    const char *te = mg_get_header(r->conn, "Transfer-Encoding");
    return r->ri->content_length > 0 || (te && strcasestr(te, "chunked"));
}

int api_photos_create(http_req *r) {
    photos_env env = env_of(r);
    char hash[HASH_HEX_LEN + 1];
    checksum ck;
    int64_t length = 0, offset = 0;
    int stored = 0, with_data = has_body(r);
    const char *ctype = mg_get_header(r->conn, "Content-Type");
    memset(&ck, 0, sizeof ck);
    int rc = tus_start(r, 1);
    if (rc == 0 && mg_get_header(r->conn, "Upload-Defer-Length"))
        rc = http_error(r, 400, "invalid_argument",
                        "send Upload-Length; deferring it is not "
                        "supported");
    if (rc == 0) rc = header_int(r, "Upload-Length", &length);
    if (rc == 0 && with_data && (!ctype || strncasecmp(ctype, TUS_CTYPE, strlen(TUS_CTYPE)) != 0))
        rc = http_error(r, 415, "unsupported_media_type",
                        "a creation carrying data sends it as Content-Type: " TUS_CTYPE);
    if (rc == 0 && with_data) rc = checksum_start(r, &ck);
    if (rc == 0) rc = creation_hash(r, hash);
    if (rc == 0) rc = reporter_scope(r, hash);
    char addr[64];
    auth_client_addr(r, addr, sizeof addr); /* whose quota a reporter's upload counts against */
    if (rc == 0 &&
        photos_upload_create(r->store, &env, &r->who, addr, hash, length,
                             mg_get_header(r->conn, "Upload-Metadata"), &stored, &r->err) < 0)
        rc = engine_failed(r);
    if (rc == 0) add_header(r, "Location: /v1/photos/%s", hash);
    if (rc == 0 && with_data) {
        rc = append_body(r, hash, &ck, &offset);
        if (rc < 0 && strcmp(r->err.code, "offset_mismatch") == 0) {
            /* the caller's upload has bytes already: it goes on from there, body unread */
            rc = photos_upload_state(r->store, &env, &r->who, hash, &offset, &length, &r->err);
            if (rc < 0) rc = engine_failed(r);
        }
    }
    if (rc == 0 && with_data) add_header(r, "Upload-Offset: %lld", (long long)offset);
    if (rc == 0) rc = upload_headers(r, hash, 0);
    checksum_end(&ck);
    if (rc < 0) return audit_upload(r, rc);
    http_send_empty(r, 201);
    return 0;
}

/* HEAD with Tus-Resumable: how much of the upload the server has, its length, its metadata as
 * given at creation and when it expires. */
static int tus_head(http_req *r) {
    photos_env env = env_of(r);
    int64_t offset = 0, length = 0;
    int rc = tus_start(r, 1);
    if (rc == 0) rc = auth_require_role(r, STAFF_ROLES | AUTH_REPORTER);
    if (rc == 0) rc = reporter_scope(r, r->params[0]);
    if (rc == 0 &&
        photos_upload_state(r->store, &env, &r->who, r->params[0], &offset, &length, &r->err) < 0)
        rc = engine_failed(r);
    if (rc == 0) rc = upload_headers(r, r->params[0], 1);
    if (rc < 0) return rc;
    add_header(r, "Upload-Offset: %lld", (long long)offset);
    add_header(r, "Upload-Length: %lld", (long long)length);
    http_send_empty(r, 200);
    return 0;
}

int api_photos_patch(http_req *r) {
    checksum ck;
    int64_t offset = 0;
    const char *ctype = mg_get_header(r->conn, "Content-Type");
    memset(&ck, 0, sizeof ck);
    int rc = tus_start(r, 1);
    if (rc == 0 && (!ctype || strncasecmp(ctype, TUS_CTYPE, strlen(TUS_CTYPE)) != 0))
        rc = http_error(r, 415, "unsupported_media_type",
                        "PATCH a chunk as Content-Type: " TUS_CTYPE);
    if (rc == 0) rc = header_int(r, "Upload-Offset", &offset);
    if (rc == 0) rc = checksum_start(r, &ck);
    if (rc == 0) rc = reporter_scope(r, r->params[0]);
    if (rc < 0) {
        checksum_end(&ck);
        return audit_upload(r, rc);
    }
    rc = append_body(r, r->params[0], &ck, &offset);
    checksum_end(&ck);
    if (rc == 0) rc = upload_headers(r, r->params[0], 0);
    if (rc < 0) return rc;
    add_header(r, "Upload-Offset: %lld", (long long)offset);
    http_send_empty(r, 204);
    return 0;
}

/* tus termination: DELETE of the caller's unfinished upload (an admin may name another holder's
 * with ?holder=u<user id> or r<report number>) → 204; a stored photo is never deleted (409
 * photo_stored). Audited by the engine. */
int api_photos_delete(http_req *r) {
    photos_env env = env_of(r);
    char holder[32] = "";
    int rc = tus_start(r, 1);
    if (rc == 0) rc = reporter_scope(r, r->params[0]);
    int named = rc == 0 ? http_query(r, "holder", holder, sizeof holder) : 0;
    if (named < 0) rc = named;
    if (rc == 0 && photos_upload_delete(r->store, &env, &r->who, named ? holder : NULL,
                                        r->params[0], &r->err) < 0)
        rc = engine_failed(r);
    if (rc < 0) return rc;
    http_send_empty(r, 204);
    return 0;
}

int api_photos_put(http_req *r) {
    photos_env env = env_of(r);
    photos_upload *u = NULL;
    int64_t size = 0;
    int cut = 0, stored = 0;
    int rc = reporter_scope(r, r->params[0]);
    if (rc < 0) return rc;
    rc = photos_put_open(r->store, &env, &r->who, r->params[0], r->ri->content_length, &u, &size,
                         &r->err);
    if (rc < 0) return audit_upload(r, engine_failed(r));
    add_header(r, "Location: /v1/photos/%s", r->params[0]);
    if (!u) { /* the caller holds it: answered at once, nothing read or stored */
        http_send_empty(r, 200);
        return 0;
    }
    rc = stream_body(r, u, NULL, &cut);
    if (rc == 0 && cut)
        rc = http_error(r, 400, "body_incomplete", "the body ended early; nothing was kept");
    if (rc < 0) {
        photos_upload_abort(u);
        return audit_upload(r, rc);
    }
    if (photos_upload_finish(r->store, &env, u, &r->who, &stored, &r->err) < 0)
        return audit_upload(r, engine_failed(r));
    /* 200 when the server had it: the bytes proved the caller has it too, and one copy stays. */
    http_send_empty(r, stored == PHOTOS_HAD_IT ? 200 : 201);
    return 0;
}

/* Reads a Range header against a size-byte file. Returns 1 with [*first, *last] for one
 * satisfiable range; 0 to send the whole file (no header, several ranges, or one this server
 * does not understand, which RFC 9110 lets it ignore); -1 when unsatisfiable (416). */
static int range_parse(const char *h, int64_t size, int64_t *first, int64_t *last) {
    char *end = NULL;
    if (!h || strncmp(h, "bytes=", 6) != 0 || strchr(h, ',')) return 0;
    const char *p = h + 6;
    if (*p == '-') {
        if (p[1] < '0' || p[1] > '9') return 0;
        long long n = strtoll(p + 1, &end, 10);
        if (*end) return 0;
        if (n == 0 || size == 0) return -1;
        *first = n >= size ? 0 : size - n;
        *last = size - 1;
        return 1;
    }
    if (*p < '0' || *p > '9') return 0;
    long long a = strtoll(p, &end, 10), b = size - 1;
    if (*end != '-') return 0;
    p = end + 1;
    if (*p) {
        if (*p < '0' || *p > '9') return 0;
        b = strtoll(p, &end, 10);
        if (*end || b < a) return 0;
    }
    if (a >= size) return -1;
    *first = a;
    *last = b < size - 1 ? b : size - 1;
    return 1;
}

/* A photo's answer on its way: its head is sent once, with the first bytes. */
typedef struct photo_out {
    http_req *r;
    int status;
    const char *media_type;
    uint64_t length;
    int started;
} photo_out;

static void photo_head_send(photo_out *o) {
    if (o->started) return;
    o->started = 1;
    http_send_head(o->r, o->status, o->media_type, o->length);
}

/* photo_sink: the next bytes to the client; stops when it left. */
static int photo_bytes(void *ctx, const void *buf, size_t n) {
    photo_out *o = ctx;
    photo_head_send(o);
    return mg_write(o->r->conn, buf, n) <= 0;
}

/* GET and HEAD of the bytes of a photo the caller may read. */
static int serve_photo(http_req *r) {
    photos_env env = env_of(r);
    photos_info info;
    char etag[HASH_HEX_LEN + 3];
    int64_t first = 0, last = 0;
    if (auth_reporter(r)) /* a report's upload token writes, never reads */
        return http_error(r, 403, "forbidden_role", "a report's upload token may not read photos");
    if (photos_read_info(r->store, &r->who, r->params[0], &info, &r->err) < 0 ||
        feed_photo_visible(r->store, &r->who, r->params[0], &r->err) < 0)
        return engine_failed(r);
    /* A client that names image types gets this one only if it takes it (image/png for a JPEG is
     * 406); one that names none (JSON, * / *) gets the photo as it is (RFC 9110 12.5.1). */
    const char *accept = mg_get_header(r->conn, "Accept");
    if (accept && strcasestr(accept, "image/") && !http_accepts(r, info.facts.media_type))
        return http_not_acceptable(r, info.facts.media_type);
    snprintf(etag, sizeof etag, "\"%s\"", info.hash);
    const char *inm = mg_get_header(r->conn, "If-None-Match");
    const char *if_range = mg_get_header(r->conn, "If-Range");
    int ranged = range_parse(mg_get_header(r->conn, "Range"), info.size, &first, &last);
    if (if_range && strcmp(if_range, etag) != 0) ranged = 0;
    if (ranged < 0) {
        add_header(r, "Content-Range: bytes */%lld", (long long)info.size);
        return http_error(r, 416, "range_not_satisfiable",
                          "the photo has %lld bytes; the range asked for lies beyond them",
                          (long long)info.size);
    }
    int not_modified = inm && (strstr(inm, etag) || strcmp(inm, "*") == 0);
    r->cache_control = PHOTO_CACHE;
    add_header(r, "ETag: %s", etag);
    add_header(r, "Accept-Ranges: bytes");
    add_header(r, "X-Content-Type-Options: nosniff");
    if (not_modified) {
        http_send_head(r, 304, NULL, 0);
        return 0;
    }
    if (!ranged) last = info.size - 1;
    if (ranged)
        add_header(r, "Content-Range: bytes %lld-%lld/%lld", (long long)first, (long long)last,
                   (long long)info.size);
    http_store_release(r); /* no database handle held while the store and the client read */
    photo_out out = {r, ranged ? 206 : 200, info.facts.media_type, (uint64_t)(last - first + 1)};
    if (strcmp(r->method, "GET") != 0 || last < first) {
        photo_head_send(&out);
        return 0;
    }
    /* The head goes with the first byte: a store that fails before it gets a clean error. */
    if (photos_read(&env, info.hash, first, last - first + 1, photo_bytes, &out, &r->err) < 0 &&
        !out.started)
        return engine_failed(r);
    if (!out.started) photo_head_send(&out);
    return 0;
}

int api_photos_head(http_req *r) {
    return mg_get_header(r->conn, "Tus-Resumable") ? tus_head(r) : serve_photo(r);
}

int api_photos_read(http_req *r) {
    return serve_photo(r);
}

int api_photos_info(http_req *r) {
    photos_info info;
    if (photos_read_info(r->store, &r->who, r->params[0], &info, &r->err) < 0 ||
        feed_photo_visible(r->store, &r->who, r->params[0], &r->err) < 0)
        return engine_failed(r);
    const exif_facts *f = &info.facts;
    Outfall__V1__PhotoInfo m = OUTFALL__V1__PHOTO_INFO__INIT;
    m.hash = info.hash;
    m.has_size = 1;
    m.size = info.size;
    m.media_type = (char *)f->media_type;
    m.has_width = m.has_height = f->width > 0 && f->height > 0;
    m.width = f->width;
    m.height = f->height;
    m.has_gps_lat = m.has_gps_lon = f->has_gps;
    m.gps_lat = f->lat;
    m.gps_lon = f->lon;
    m.has_gps_alt = f->has_alt;
    m.gps_alt = f->alt;
    m.has_taken_at_ms = f->has_time;
    m.taken_at_ms = f->taken_at_ms;
    m.taken_at_source = f->has_time ? (char *)f->time_source : NULL;
    m.make = f->make[0] ? (char *)f->make : NULL;
    m.model = f->model[0] ? (char *)f->model : NULL;
    m.has_stored_at_ms = 1;
    m.stored_at_ms = info.stored_at_ms;
    return http_send_message(r, 200, &m.base);
}
