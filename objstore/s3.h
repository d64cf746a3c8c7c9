/* A small client of S3-compatible object storage (AWS S3, Ceph RGW, MinIO, the clouds' OSS/COS
 * endpoints): path-style URLs against a configured endpoint (http or https), requests signed with
 * AWS Signature Version 4 by libcurl (CURLOPT_AWS_SIGV4), the payload's SHA-256 computed here and
 * sent as x-amz-content-sha256 (so it is signed and the store can check the bytes). Every object
 * key is relative to the configured prefix. Bodies stream from files and to callbacks in small
 * chunks: nothing is loaded whole. Every call has timeouts. Knows nothing of the engine, the
 * programme or the server. A client is shared by threads: each call uses its own curl handle. */
#ifndef OBJSTORE_S3_H
#define OBJSTORE_S3_H

#include <stddef.h>
#include <stdint.h>

/* What went wrong, in the few kinds callers answer differently. */
typedef enum {
    S3_OK = 0,
    S3_NOT_FOUND = -1,   /* no such object (or bucket) */
    S3_UNAVAILABLE = -2, /* unreachable, timed out, 5xx, throttled: try again later */
    S3_DENIED = -3,      /* 401/403: wrong key or secret, or no right to the bucket */
    S3_BAD = -4,         /* anything else: a bad request or answer, a local file error */
} s3_status;

/* The last failure of a call: its kind, the HTTP status (0 when none came), the store's error
 * code (e.g. "SignatureDoesNotMatch") and a message for a log line. */
typedef struct s3_error {
    s3_status status;
    long http_status;
    char code[64];
    char message[256];
} s3_error;

/* Where and how to reach the bucket. Strings are copied by s3_open. */
typedef struct s3_config {
    const char *endpoint;   /* "http://127.0.0.1:9000" or "https://oss.example.cn" */
    const char *region;     /* "us-east-1" when NULL or "" */
    const char *bucket;     /* 3..63 of [a-z0-9.-] */
    const char *prefix;     /* "" or e.g. "city/photos": [A-Za-z0-9._/-], no leading '/' */
    const char *access_key; /* the credentials (s3_credentials_load) */
    const char *secret_key;
    long connect_timeout_ms; /* 0: 5000 */
    long timeout_ms;         /* a call without a body to stream; 0: 30000 */
    long stall_timeout_ms;   /* a streaming call gives up after this long below 1 KiB/s; 0: 30000 */
    int64_t part_bytes;      /* multipart part size (>= 5 MiB); 0: 16 MiB; files larger than one
                                part go as a multipart upload */
    int list_page;           /* keys a listing page asks for (max-keys); 0: the store's (1000) */
} s3_config;

enum { S3_MIN_PART = 5 * 1024 * 1024 };

typedef struct s3_client s3_client;

/* Makes a client of cfg into *out (free with s3_close). Checks the configuration's form only (no
 * request: see s3_bucket_check). Returns 0, or S3_BAD with a message in err. */
int s3_open(const s3_config *cfg, s3_client **out, s3_error *err);

void s3_close(s3_client *c);

/* HEAD of the bucket: 0 when it exists and the credentials may use it; S3_NOT_FOUND (no such
 * bucket), S3_DENIED, S3_UNAVAILABLE, S3_BAD otherwise. */
int s3_bucket_check(s3_client *c, s3_error *err);

/* Stores the file at path as object key: one PUT when it is at most one part, else a multipart
 * upload (created, its parts uploaded, completed; aborted on any failure, so a failed upload leaves
 * no object). The file's bytes are read twice (hash, then send), never held whole. */
int s3_put_file(s3_client *c, const char *key, const char *path, s3_error *err);

/* The size of object key into *size. S3_NOT_FOUND when absent. */
int s3_head(s3_client *c, const char *key, int64_t *size, s3_error *err);

/* Receives the next n bytes of a GET's body; returns 0 to go on, non-zero to stop the transfer
 * (the GET then fails with S3_BAD, code "aborted"). */
typedef int (*s3_sink)(void *ctx, const void *buf, size_t n);

/* Streams object key's bytes [offset, offset + length) to sink (length < 0: to its end). Nothing
 * reaches sink unless the store answered 200/206, so a failure before the first byte is a clean
 * error; *sent (may be NULL) counts the bytes given to sink. A transfer the store cuts after some
 * bytes is taken up from the next byte (a Range and If-Match of the same object, a 206 answer
 * only), up to 3 times, each after new bytes: the sink sees every byte once, in order. */
int s3_get(s3_client *c, const char *key, int64_t offset, int64_t length, s3_sink sink, void *ctx,
           int64_t *sent, s3_error *err);

/* Deletes object key (absent is fine: S3 answers 204 either way). */
int s3_delete(s3_client *c, const char *key, s3_error *err);

/* Called for each object of a listing: its key (relative to the client's prefix) and size;
 * returns 0 to go on, non-zero to stop early. */
typedef int (*s3_list_fn)(void *ctx, const char *key, int64_t size);

/* Lists every object whose key starts with key_prefix (relative to the client's prefix), in key
 * order, following the pages (ListObjectsV2, up to 1000 a page). */
int s3_list(s3_client *c, const char *key_prefix, s3_list_fn fn, void *ctx, s3_error *err);

/* Reads credentials from path: two lines (access key, then secret) or key=value lines
 * (access_key_id / aws_access_key_id and secret_access_key / aws_secret_access_key). The file
 * must be a regular file no one but its owner may read (mode & 077 == 0). Returns 0, or -1 with a
 * message in why[cap]. */
int s3_credentials_load(const char *path, char *access, size_t access_cap, char *secret,
                        size_t secret_cap, char *why, size_t why_cap);

/* Credentials from the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY): 0, or -1 when
 * either is missing or too long. */
int s3_credentials_env(char *access, size_t access_cap, char *secret, size_t secret_cap);

/* A status's name for messages: "not found", "unavailable", "denied", "bad". */
const char *s3_status_name(s3_status st);

#endif
