/* The S3 client (see s3.h): one curl easy handle a request, signed by libcurl's SigV4 with the
 * payload hash set here, bodies streamed from a file range or a small buffer, answers streamed to
 * a sink or kept (bounded) to read an XML answer or an error. */
#include "objstore/s3.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The hash of no bytes, for requests without a body. */
#define EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

enum {
    URL_CAP = 2048,
    KEY_CAP = 1024,
    ANSWER_CAP = 8 * 1024 * 1024, /* the largest XML answer kept (a list page is ~300 KB) */
    ERROR_KEEP = 4096,            /* bytes of an error answer kept */
    HASH_CHUNK = 64 * 1024,
    MAX_PARTS = 10000,
    ETAG_CAP = 80,
};

struct s3_client {
    char endpoint[512];
    char bucket[64];
    char prefix[256];
    char sigv4[128];   /* "aws:amz:REGION:s3" */
    char userpwd[600]; /* "key:secret" */
    long connect_ms, timeout_ms, stall_ms;
    int64_t part_bytes;
    int list_page;
};

/* One request and what came back. */
typedef struct request {
    const char *method; /* GET PUT POST HEAD DELETE */
    char url[URL_CAP];
    char range[80];               /* "Range: bytes=a-b" or "" */
    char if_match[ETAG_CAP + 16]; /* "If-Match: <etag>" or "": a resumed GET's object */
    int resumed;                  /* a resumed GET: only a 206 answer's bytes go to the sink */
    char sha[65];                 /* the payload's SHA-256 */
    int fd;                       /* a body from a file: fd's [body_off, body_off + body_len) */
    int64_t body_off, body_len, body_at;
    const char *mem; /* or a body in memory (a POST) */
    size_t mem_len;
    int stream;   /* 1: a long transfer (stall timeout instead of a total one) */
    s3_sink sink; /* a GET's body goes here when the answer is 2xx */
    void *ctx;
    int64_t sent;
    int aborted;
    char *answer; /* the body otherwise, up to answer_max */
    size_t answer_len, answer_max;
    int answer_over;
    char etag[ETAG_CAP];
    int64_t content_length; /* the answer's Content-Length; -1 when none */
    long http_status;
} request;

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_start(void) {
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (sodium_init() < 0) abort();
}

const char *s3_status_name(s3_status st) {
    static const char *const names[] = {"ok", "not found", "unavailable", "denied", "bad"};
    int i = -(int)st;
    return i >= 0 && i < 5 ? names[i] : "bad";
}

/* Fills err and returns st. */
static int fail(s3_error *err, s3_status st, long http, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static int fail(s3_error *err, s3_status st, long http, const char *code, const char *fmt, ...) {
    err->status = st;
    err->http_status = http;
    snprintf(err->code, sizeof err->code, "%s", code);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
    return st;
}

static void copy(char *dst, size_t cap, const char *src) {
    snprintf(dst, cap, "%s", src ? src : "");
}

/* 1 when every byte of s is in allowed and s has no "..": keys and prefixes need no escaping in
 * a URL path, and so sign the same everywhere. */
static int safe_path(const char *s, const char *allowed) {
    for (const char *p = s; *p; p++)
        if (!strchr(allowed, *p) || *p == '\0') return 0;
    return strstr(s, "..") == NULL;
}

#define KEY_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-/"

int s3_open(const s3_config *cfg, s3_client **out, s3_error *err) {
    *out = NULL;
    pthread_once(&curl_once, curl_start);
    const char *region = cfg->region && cfg->region[0] ? cfg->region : "us-east-1";
    const char *prefix = cfg->prefix ? cfg->prefix : "";
    size_t blen = cfg->bucket ? strlen(cfg->bucket) : 0;
    if (!cfg->endpoint ||
        (strncmp(cfg->endpoint, "http://", 7) != 0 && strncmp(cfg->endpoint, "https://", 8) != 0))
        return fail(err, S3_BAD, 0, "bad_endpoint",
                    "the endpoint must be an http:// or https:// URL");
    if (blen < 3 || blen > 63 ||
        strspn(cfg->bucket, "abcdefghijklmnopqrstuvwxyz0123456789.-") != blen)
        return fail(err, S3_BAD, 0, "bad_bucket", "a bucket name is 3 to 63 of a-z 0-9 . -");
    if (!safe_path(prefix, KEY_CHARS) || prefix[0] == '/' || strlen(prefix) > 200)
        return fail(err, S3_BAD, 0, "bad_prefix",
                    "a prefix is at most 200 of A-Z a-z 0-9 . _ - /, without a leading / or ..");
    if (!safe_path(region, "abcdefghijklmnopqrstuvwxyz0123456789-") || strlen(region) > 60)
        return fail(err, S3_BAD, 0, "bad_region", "a region is of a-z 0-9 -");
    if (!cfg->access_key || !cfg->access_key[0] || !cfg->secret_key || !cfg->secret_key[0] ||
        strchr(cfg->access_key, ':') || strlen(cfg->access_key) + strlen(cfg->secret_key) > 590)
        return fail(err, S3_BAD, 0, "bad_credentials", "an access key and a secret are needed");
    s3_client *c = calloc(1, sizeof *c);
    if (!c) return fail(err, S3_BAD, 0, "out_of_memory", "out of memory");
    copy(c->endpoint, sizeof c->endpoint, cfg->endpoint);
    size_t elen = strlen(c->endpoint);
    while (elen > 0 && c->endpoint[elen - 1] == '/')
        c->endpoint[--elen] = '\0';
    copy(c->bucket, sizeof c->bucket, cfg->bucket);
    copy(c->prefix, sizeof c->prefix, prefix);
    size_t plen = strlen(c->prefix);
    while (plen > 0 && c->prefix[plen - 1] == '/')
        c->prefix[--plen] = '\0';
    snprintf(c->sigv4, sizeof c->sigv4, "aws:amz:%s:s3", region);
    snprintf(c->userpwd, sizeof c->userpwd, "%s:%s", cfg->access_key, cfg->secret_key);
    c->connect_ms = cfg->connect_timeout_ms > 0 ? cfg->connect_timeout_ms : 5000;
    c->timeout_ms = cfg->timeout_ms > 0 ? cfg->timeout_ms : 30000;
    c->stall_ms = cfg->stall_timeout_ms > 0 ? cfg->stall_timeout_ms : 30000;
    c->part_bytes = cfg->part_bytes >= S3_MIN_PART ? cfg->part_bytes : 16 * 1024 * 1024;
    c->list_page = cfg->list_page > 0 && cfg->list_page <= 1000 ? cfg->list_page : 0;
    *out = c;
    return 0;
}

void s3_close(s3_client *c) {
    if (!c) return;
    sodium_memzero(c->userpwd, sizeof c->userpwd);
    free(c);
}

/* ---- URLs ---- */

/* Percent-encodes s for a query value as SigV4 signs it (every byte but A-Z a-z 0-9 - _ . ~). */
static void query_encode(const char *s, char *out, size_t cap) {
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p && o + 4 < cap; p++) {
        if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
            strchr("-_.~", *p)) {
            out[o++] = (char)*p;
        } else {
            out[o++] = '%';
            out[o++] = hex[*p >> 4];
            out[o++] = hex[*p & 15];
        }
    }
    out[o] = '\0';
}

/* The full key of key under the client's prefix into out[cap]; -1 when key is not a safe one. */
static int full_key(const s3_client *c, const char *key, char *out, size_t cap) {
    if (!key || !key[0] || key[0] == '/' || !safe_path(key, KEY_CHARS)) return -1;
    int n =
        c->prefix[0] ? snprintf(out, cap, "%s/%s", c->prefix, key) : snprintf(out, cap, "%s", key);
    return n < 0 || (size_t)n >= cap ? -1 : 0;
}

/* The URL of object key (NULL: the bucket) with query (NULL: none; sorted and encoded). */
static int object_url(const s3_client *c, const char *key, const char *query, request *rq,
                      s3_error *err) {
    char full[KEY_CAP];
    if (key && full_key(c, key, full, sizeof full) < 0)
        return fail(err, S3_BAD, 0, "bad_key", "object key '%.80s' is not one this client writes",
                    key);
    int n = snprintf(rq->url, sizeof rq->url, "%s/%s%s%s%s%s", c->endpoint, c->bucket,
                     key ? "/" : "", key ? full : "", query ? "?" : "", query ? query : "");
    if (n < 0 || (size_t)n >= sizeof rq->url)
        return fail(err, S3_BAD, 0, "bad_key", "the URL is too long");
    return 0;
}

/* ---- hashing ---- */

/* The SHA-256 (hex) of fd's [off, off + len) into hex[65], read in chunks. */
static int hash_range(int fd, int64_t off, int64_t len, char hex[65], s3_error *err) {
    crypto_hash_sha256_state st;
    unsigned char digest[crypto_hash_sha256_BYTES];
    unsigned char *buf = malloc(HASH_CHUNK);
    if (!buf) return fail(err, S3_BAD, 0, "out_of_memory", "out of memory");
    crypto_hash_sha256_init(&st);
    int64_t at = 0;
    int rc = 0;
    while (rc == 0 && at < len) {
        size_t want = len - at < HASH_CHUNK ? (size_t)(len - at) : HASH_CHUNK;
        ssize_t got = pread(fd, buf, want, off + at);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0)
            rc = fail(err, S3_BAD, 0, "read_failed", "reading the file: %s",
                      got < 0 ? strerror(errno) : "it is shorter than it was");
        else {
            crypto_hash_sha256_update(&st, buf, (size_t)got);
            at += got;
        }
    }
    free(buf);
    crypto_hash_sha256_final(&st, digest);
    sodium_bin2hex(hex, 65, digest, sizeof digest);
    return rc;
}

static void hash_mem(const char *mem, size_t len, char hex[65]) {
    unsigned char digest[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(digest, (const unsigned char *)mem, len);
    sodium_bin2hex(hex, 65, digest, sizeof digest);
}

/* ---- the transfer ---- */

static size_t on_read(char *buf, size_t size, size_t nitems, void *arg) {
    request *rq = arg;
    size_t want = size * nitems;
    if ((int64_t)want > rq->body_len - rq->body_at) want = (size_t)(rq->body_len - rq->body_at);
    if (want == 0) return 0;
    ssize_t got;
    do
        got = pread(rq->fd, buf, want, rq->body_off + rq->body_at);
    while (got < 0 && errno == EINTR);
    if (got <= 0) return CURL_READFUNC_ABORT;
    rq->body_at += got;
    return (size_t)got;
}

/* Keeps n bytes of an answer (up to answer_max; past it answer_over is set). */
static void keep(request *rq, const char *buf, size_t n) {
    if (rq->answer_len + n > rq->answer_max) {
        rq->answer_over = 1;
        n = rq->answer_max > rq->answer_len ? rq->answer_max - rq->answer_len : 0;
    }
    if (n == 0) return;
    char *grown = realloc(rq->answer, rq->answer_len + n + 1);
    if (!grown) {
        rq->answer_over = 1;
        return;
    }
    rq->answer = grown;
    memcpy(rq->answer + rq->answer_len, buf, n);
    rq->answer_len += n;
    rq->answer[rq->answer_len] = '\0';
}

/* Whether a resumed GET's answer (status) is a success other than 206: the whole object sent
 * again instead of the rest. */
static int whole_again(const request *rq, long status) {
    return rq->resumed && status >= 200 && status < 300 && status != 206;
}

static size_t on_write(char *buf, size_t size, size_t nmemb, void *arg) {
    request *rq = arg;
    size_t n = size * nmemb;
    if (rq->sink && whole_again(rq, rq->http_status)) {
        rq->aborted = 1; /* the whole object again, not the rest: nothing of it goes on */
        return 0;
    }
    if (rq->sink && rq->http_status >= 200 && rq->http_status < 300) {
        if (rq->sink(rq->ctx, buf, n) != 0) {
            rq->aborted = 1;
            return 0;
        }
        rq->sent += (int64_t)n;
        return n;
    }
    keep(rq, buf, n);
    return n;
}

/* Notes the status line's code and an ETag header. */
static size_t on_header(char *buf, size_t size, size_t nitems, void *arg) {
    request *rq = arg;
    size_t n = size * nitems;
    if (n > 9 && strncmp(buf, "HTTP/", 5) == 0) {
        const char *sp = memchr(buf, ' ', n);
        if (sp) rq->http_status = strtol(sp + 1, NULL, 10);
    } else if (n > 15 && strncasecmp(buf, "content-length:", 15) == 0) {
        rq->content_length = strtoll(buf + 15, NULL, 10);
    } else if (n > 5 && strncasecmp(buf, "etag:", 5) == 0) {
        size_t a = 5, b = n;
        while (a < b && (buf[a] == ' ' || buf[a] == '\t'))
            a++;
        while (b > a && (buf[b - 1] == '\r' || buf[b - 1] == '\n' || buf[b - 1] == ' '))
            b--;
        if (b - a < sizeof rq->etag) {
            memcpy(rq->etag, buf + a, b - a);
            rq->etag[b - a] = '\0';
        }
    }
    return n;
}

/* The text between <tag> and </tag> of xml (from *from on; *from moves past it) into out[cap],
 * with the five XML entities undone. Returns 1 when found. */
static int xml_text(const char *xml, const char *tag, const char **from, char *out, size_t cap) {
    char open[64], close[64];
    snprintf(open, sizeof open, "<%s>", tag);
    snprintf(close, sizeof close, "</%s>", tag);
    const char *a = strstr(from ? *from : xml, open);
    const char *b = a ? strstr(a, close) : NULL;
    if (!a || !b) return 0;
    a += strlen(open);
    static const struct {
        const char *entity;
        char c;
    } entities[] = {
        {"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''}};
    size_t o = 0;
    while (a < b && o + 1 < cap) {
        size_t i = 0, n = sizeof entities / sizeof entities[0];
        while (*a == '&' && i < n && strncmp(a, entities[i].entity, strlen(entities[i].entity)))
            i++;
        if (*a == '&' && i < n) {
            out[o++] = entities[i].c;
            a += strlen(entities[i].entity);
        } else {
            out[o++] = *a++;
        }
    }
    out[o] = '\0';
    if (from) *from = b + strlen(close);
    return 1;
}

/* The kind of a failed transfer's curl code. */
static s3_status curl_kind(CURLcode cc) {
    switch (cc) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
        return S3_UNAVAILABLE;
    default:
        return S3_BAD;
    }
}

/* The kind of an HTTP status. */
static s3_status http_kind(long status) {
    if (status >= 200 && status < 300) return S3_OK;
    if (status == 404) return S3_NOT_FOUND;
    if (status == 401 || status == 403) return S3_DENIED;
    if (status == 408 || status == 429 || status >= 500) return S3_UNAVAILABLE;
    return S3_BAD;
}

/* Runs rq against c. Returns 0 for a 2xx answer, else the failure's kind with err filled. */
static int perform(s3_client *c, request *rq, s3_error *err) {
    char sha_header[120];
    struct curl_slist *headers = NULL;
    CURL *h = curl_easy_init();
    if (!h) return fail(err, S3_BAD, 0, "out_of_memory", "curl_easy_init failed");
    snprintf(sha_header, sizeof sha_header, "x-amz-content-sha256: %s",
             rq->sha[0] ? rq->sha : EMPTY_SHA256);
    headers = curl_slist_append(headers, sha_header);
    headers = curl_slist_append(headers, "Expect:");
    if (rq->range[0]) headers = curl_slist_append(headers, rq->range);
    if (rq->if_match[0]) headers = curl_slist_append(headers, rq->if_match);
    if (rq->mem) headers = curl_slist_append(headers, "Content-Type: application/xml");
    if (rq->answer_max == 0) rq->answer_max = ERROR_KEEP;
    curl_easy_setopt(h, CURLOPT_URL, rq->url);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_HTTPAUTH, CURLAUTH_AWS_SIGV4);
    curl_easy_setopt(h, CURLOPT_AWS_SIGV4, c->sigv4);
    curl_easy_setopt(h, CURLOPT_USERPWD, c->userpwd);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, c->connect_ms);
    if (rq->stream) {
        curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1024L);
        curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, (c->stall_ms + 999) / 1000);
    } else {
        curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, c->timeout_ms);
    }
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, rq);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, rq);
    if (strcmp(rq->method, "HEAD") == 0) {
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    } else if (strcmp(rq->method, "PUT") == 0) {
        curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
        curl_easy_setopt(h, CURLOPT_READDATA, rq);
        curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)rq->body_len);
    } else if (strcmp(rq->method, "POST") == 0) {
        curl_easy_setopt(h, CURLOPT_POST, 1L);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, rq->mem ? rq->mem : "");
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)rq->mem_len);
    } else if (strcmp(rq->method, "GET") != 0) {
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, rq->method);
    }
    CURLcode cc = curl_easy_perform(h);
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    rq->http_status = status;
    int rc = 0;
    if (rq->aborted && whole_again(rq, status)) {
        rc = fail(err, S3_BAD, status, "range_ignored",
                  "GET %s: the store answered %ld, not 206, to a request for the rest of an object",
                  c->bucket, status);
    } else if (rq->aborted) {
        rc = fail(err, S3_BAD, status, "aborted", "the receiver stopped the transfer");
    } else if (cc != CURLE_OK) {
        rc = fail(err, curl_kind(cc), status, "transfer_failed", "%s %s: %s", rq->method, c->bucket,
                  curl_easy_strerror(cc));
    } else if (http_kind(status) != S3_OK) {
        char code[64] = "", message[160] = "";
        if (rq->answer) {
            xml_text(rq->answer, "Code", NULL, code, sizeof code);
            xml_text(rq->answer, "Message", NULL, message, sizeof message);
        }
        rc = fail(err, http_kind(status), status, code[0] ? code : "http_error",
                  "%s of an object in bucket %s: HTTP %ld %s", rq->method, c->bucket, status,
                  message);
    } else if (rq->answer && strstr(rq->answer, "<Error>")) { /* a 200 carrying an error */
        char code[64] = "";
        xml_text(rq->answer, "Code", NULL, code, sizeof code);
        rc = fail(
            err,
            strcmp(code, "InternalError") == 0 || strcmp(code, "SlowDown") == 0 ? S3_UNAVAILABLE
                                                                                : S3_BAD,
            status, code[0] ? code : "error", "%s answered 200 with error %s", rq->method, code);
    }
    curl_slist_free_all(headers);
    curl_easy_cleanup(h);
    return rc;
}

static void request_init(request *rq, const char *method) {
    memset(rq, 0, sizeof *rq);
    rq->method = method;
    rq->fd = -1;
    rq->content_length = -1;
}

static void request_free(request *rq) {
    free(rq->answer);
    rq->answer = NULL;
}

/* ---- operations ---- */

int s3_bucket_check(s3_client *c, s3_error *err) {
    request rq;
    request_init(&rq, "HEAD");
    int rc = object_url(c, NULL, NULL, &rq, err);
    if (rc == 0) rc = perform(c, &rq, err);
    if (rc == S3_NOT_FOUND)
        fail(err, S3_NOT_FOUND, 404, "NoSuchBucket", "there is no bucket %s at %s", c->bucket,
             c->endpoint);
    else if (rc == S3_DENIED)
        fail(err, S3_DENIED, rq.http_status, "AccessDenied",
             "bucket %s refuses these credentials (HTTP %ld)", c->bucket, rq.http_status);
    request_free(&rq);
    return rc;
}

int s3_head(s3_client *c, const char *key, int64_t *size, s3_error *err) {
    request rq;
    request_init(&rq, "HEAD");
    *size = -1;
    int rc = object_url(c, key, NULL, &rq, err);
    if (rc == 0) rc = perform(c, &rq, err);
    if (rc == 0) *size = rq.content_length;
    request_free(&rq);
    return rc;
}

int s3_delete(s3_client *c, const char *key, s3_error *err) {
    request rq;
    request_init(&rq, "DELETE");
    int rc = object_url(c, key, NULL, &rq, err);
    if (rc == 0) rc = perform(c, &rq, err);
    request_free(&rq);
    return rc == S3_NOT_FOUND ? 0 : rc;
}

/* How many times s3_get takes up a transfer the store cut, each after new bytes came. */
#define GET_RESUMES 3

int s3_get(s3_client *c, const char *key, int64_t offset, int64_t length, s3_sink sink, void *ctx,
           int64_t *sent, s3_error *err) {
    if (length == 0) {
        if (sent) *sent = 0;
        return 0;
    }
    int64_t got = 0;
    char etag[ETAG_CAP] = "";
    int rc = 0;
    for (int resumes = 0;; resumes++) {
        request rq;
        request_init(&rq, "GET");
        rq.sink = sink;
        rq.ctx = ctx;
        rq.stream = 1;
        int64_t from = offset + got;
        if (from > 0 || length > 0) {
            if (length > 0)
                snprintf(rq.range, sizeof rq.range, "Range: bytes=%" PRId64 "-%" PRId64, from,
                         offset + length - 1);
            else
                snprintf(rq.range, sizeof rq.range, "Range: bytes=%" PRId64 "-", from);
        }
        if (got > 0) {
            /* The rest of the same object, or nothing (412). */
            rq.resumed = 1;
            if (etag[0]) snprintf(rq.if_match, sizeof rq.if_match, "If-Match: %s", etag);
        }
        rc = object_url(c, key, NULL, &rq, err);
        if (rc == 0) rc = perform(c, &rq, err);
        got += rq.sent;
        if (!etag[0] && rq.sent > 0) snprintf(etag, sizeof etag, "%s", rq.etag);
        int cut = rc == S3_UNAVAILABLE && rq.sent > 0 && !rq.aborted;
        request_free(&rq);
        /* A transfer cut after it brought bytes goes on from the first byte it did not bring
         * (a store's connection dropped, or an object read while still being written). */
        if (!cut || resumes == GET_RESUMES) break;
    }
    if (sent) *sent = got;
    return rc;
}

/* PUT of fd's [off, off + len) to the URL in rq (a whole object or one part). */
static int put_range(s3_client *c, request *rq, int fd, int64_t off, int64_t len, s3_error *err) {
    rq->fd = fd;
    rq->body_off = off;
    rq->body_len = len;
    rq->stream = 1;
    int rc = hash_range(fd, off, len, rq->sha, err);
    return rc == 0 ? perform(c, rq, err) : rc;
}

/* A multipart upload's id and its parts' ETags. */
typedef struct multipart {
    char id[512];
    char (*etags)[ETAG_CAP];
    int parts;
} multipart;

/* POST (or DELETE) with query "uploadId=<id>" on key, body mem (may be NULL). */
static int upload_call(s3_client *c, const char *method, const char *key, const multipart *m,
                       const char *mem, size_t mem_len, request *rq, s3_error *err) {
    char id[1600], query[1700];
    query_encode(m->id, id, sizeof id);
    snprintf(query, sizeof query, "uploadId=%s", id);
    request_init(rq, method);
    rq->mem = mem;
    rq->mem_len = mem_len;
    rq->answer_max = 64 * 1024;
    if (mem) hash_mem(mem, mem_len, rq->sha);
    int rc = object_url(c, key, query, rq, err);
    return rc == 0 ? perform(c, rq, err) : rc;
}

/* The body of CompleteMultipartUpload for m, malloc'd. */
static char *complete_body(const multipart *m, size_t *len) {
    size_t cap = 64 + (size_t)m->parts * (ETAG_CAP + 64), o = 0;
    char *body = malloc(cap);
    if (!body) return NULL;
    o += (size_t)snprintf(body + o, cap - o, "<CompleteMultipartUpload>");
    for (int i = 0; i < m->parts; i++)
        o += (size_t)snprintf(body + o, cap - o,
                              "<Part><PartNumber>%d</PartNumber><ETag>%s</ETag></Part>", i + 1,
                              m->etags[i]);
    o += (size_t)snprintf(body + o, cap - o, "</CompleteMultipartUpload>");
    *len = o;
    return body;
}

/* A multipart upload of fd (size bytes) to key in parts of part bytes; aborted on failure. */
static int put_multipart(s3_client *c, const char *key, int fd, int64_t size, int64_t part,
                         s3_error *err) {
    multipart m = {.parts = (int)((size + part - 1) / part)};
    request rq;
    request_init(&rq, "POST");
    rq.answer_max = 64 * 1024;
    rq.mem = "";
    hash_mem("", 0, rq.sha);
    int rc = object_url(c, key, "uploads=", &rq, err);
    if (rc == 0) rc = perform(c, &rq, err);
    if (rc == 0 && (!rq.answer || !xml_text(rq.answer, "UploadId", NULL, m.id, sizeof m.id)))
        rc = fail(err, S3_BAD, rq.http_status, "bad_answer", "no UploadId in the answer");
    request_free(&rq);
    if (rc < 0) return rc;
    m.etags = calloc((size_t)m.parts, sizeof *m.etags);
    if (!m.etags) rc = fail(err, S3_BAD, 0, "out_of_memory", "out of memory");
    for (int i = 0; rc == 0 && i < m.parts; i++) {
        char id[1600], query[1800];
        int64_t off = (int64_t)i * part, len = size - off < part ? size - off : part;
        query_encode(m.id, id, sizeof id);
        snprintf(query, sizeof query, "partNumber=%d&uploadId=%s", i + 1, id);
        request_init(&rq, "PUT");
        rc = object_url(c, key, query, &rq, err);
        if (rc == 0) rc = put_range(c, &rq, fd, off, len, err);
        if (rc == 0 && !rq.etag[0])
            rc = fail(err, S3_BAD, rq.http_status, "bad_answer", "no ETag for part %d", i + 1);
        if (rc == 0) copy(m.etags[i], ETAG_CAP, rq.etag);
        request_free(&rq);
    }
    size_t body_len = 0;
    char *body = rc == 0 ? complete_body(&m, &body_len) : NULL;
    if (rc == 0 && !body) rc = fail(err, S3_BAD, 0, "out_of_memory", "out of memory");
    if (rc == 0) {
        rc = upload_call(c, "POST", key, &m, body, body_len, &rq, err);
        request_free(&rq);
    }
    if (rc < 0 && m.id[0]) { /* no parts left behind; the first failure is what is told */
        s3_error ignored;
        upload_call(c, "DELETE", key, &m, NULL, 0, &rq, &ignored);
        request_free(&rq);
    }
    free(body);
    free(m.etags);
    return rc;
}

int s3_put_file(s3_client *c, const char *key, const char *path, s3_error *err) {
    struct stat st;
    int fd = open(path, O_RDONLY | O_CLOEXEC), rc;
    if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        rc = fail(err, S3_BAD, 0, "read_failed", "cannot read %s: %s", path,
                  fd < 0 ? strerror(errno) : "not a regular file");
        if (fd >= 0) close(fd);
        return rc;
    }
    int64_t part = c->part_bytes;
    while ((st.st_size + part - 1) / part > MAX_PARTS)
        part *= 2;
    if (st.st_size <= part) {
        request rq;
        request_init(&rq, "PUT");
        rc = object_url(c, key, NULL, &rq, err);
        if (rc == 0) rc = put_range(c, &rq, fd, 0, st.st_size, err);
        request_free(&rq);
    } else {
        rc = put_multipart(c, key, fd, st.st_size, part, err);
    }
    close(fd);
    return rc;
}

/* Calls fn for each <Contents> of a listing page; the last full key seen goes to marker[cap];
 * *stopped when fn asked to stop. */
static int list_page(const s3_client *c, const char *xml, s3_list_fn fn, void *ctx, char *marker,
                     size_t marker_cap, int *stopped, s3_error *err) {
    const char *at = xml;
    char block[KEY_CAP + 512];
    size_t skip = c->prefix[0] ? strlen(c->prefix) + 1 : 0;
    while (!*stopped && xml_text(xml, "Contents", &at, block, sizeof block)) {
        char key[KEY_CAP] = "", size[32] = "";
        if (!xml_text(block, "Key", NULL, key, sizeof key) ||
            !xml_text(block, "Size", NULL, size, sizeof size) || strlen(key) < skip)
            return fail(err, S3_BAD, 0, "bad_answer", "a listing entry without Key or Size");
        copy(marker, marker_cap, key);
        *stopped = fn(ctx, key + skip, strtoll(size, NULL, 10)) != 0;
    }
    return 0;
}

int s3_list(s3_client *c, const char *key_prefix, s3_list_fn fn, void *ctx, s3_error *err) {
    char full[KEY_CAP], prefix_q[3 * KEY_CAP], marker[KEY_CAP] = "", marker_q[3 * KEY_CAP];
    int rc = 0, stopped = 0, more = 1;
    if (!key_prefix) key_prefix = "";
    if (!safe_path(key_prefix, KEY_CHARS) || key_prefix[0] == '/')
        return fail(err, S3_BAD, 0, "bad_key", "a listing prefix is of the key's characters");
    snprintf(full, sizeof full, "%s%s%s", c->prefix, c->prefix[0] ? "/" : "", key_prefix);
    query_encode(full, prefix_q, sizeof prefix_q);
    /* ListObjects (version 1) with a marker, the last key seen: what every S3-compatible store
     * speaks alike (version 2's continuation tokens are each store's own). */
    while (rc == 0 && more && !stopped) {
        char query[sizeof prefix_q + sizeof marker_q + 128], truncated[8] = "", page[32] = "";
        request rq;
        request_init(&rq, "GET");
        rq.answer_max = ANSWER_CAP;
        query_encode(marker, marker_q, sizeof marker_q);
        if (c->list_page) snprintf(page, sizeof page, "max-keys=%d&", c->list_page);
        /* Sorted by name, as SigV4 signs a query. */
        snprintf(query, sizeof query, "%s%s%s%sprefix=%s", marker[0] ? "marker=" : "", marker_q,
                 marker[0] ? "&" : "", page, prefix_q);
        rc = object_url(c, NULL, query, &rq, err);
        if (rc == 0) rc = perform(c, &rq, err);
        if (rc == 0 && (!rq.answer || rq.answer_over))
            rc = fail(err, S3_BAD, rq.http_status, "bad_answer",
                      "a listing page too large or empty");
        if (rc == 0) rc = list_page(c, rq.answer, fn, ctx, marker, sizeof marker, &stopped, err);
        if (rc == 0) {
            xml_text(rq.answer, "IsTruncated", NULL, truncated, sizeof truncated);
            more = strcmp(truncated, "true") == 0 && marker[0];
        }
        request_free(&rq);
    }
    return rc;
}

/* ---- credentials ---- */

/* Strips trailing spaces and line ends of s in place. */
static void trim(char *s) {
    size_t n = strlen(s);
    while (n > 0 && strchr(" \t\r\n", s[n - 1]))
        s[--n] = '\0';
}

int s3_credentials_load(const char *path, char *access, size_t access_cap, char *secret,
                        size_t secret_cap, char *why, size_t why_cap) {
    static const char *const access_names[] = {"access_key_id", "aws_access_key_id"};
    static const char *const secret_names[] = {"secret_access_key", "aws_secret_access_key"};
    struct stat st;
    char line[1024], *lines[2] = {NULL, NULL};
    int n_plain = 0, rc = 0;
    access[0] = secret[0] = '\0';
    FILE *f = fopen(path, "re");
    if (!f || fstat(fileno(f), &st) < 0) {
        snprintf(why, why_cap, "cannot read %s: %s", path, strerror(errno));
        if (f) fclose(f);
        return -1;
    }
    if (!S_ISREG(st.st_mode) || (st.st_mode & 077)) {
        snprintf(why, why_cap, "%s must be a regular file only its owner may read (chmod 600)",
                 path);
        fclose(f);
        return -1;
    }
    while (rc == 0 && fgets(line, sizeof line, f)) {
        trim(line);
        char *eq = strchr(line, '=');
        if (!line[0] || line[0] == '#' || line[0] == '[') continue;
        if (eq) {
            *eq = '\0';
            trim(line);
            char *value = eq + 1;
            value += strspn(value, " \t");
            for (size_t i = 0; i < 2; i++) {
                if (strcmp(line, access_names[i]) == 0) snprintf(access, access_cap, "%s", value);
                if (strcmp(line, secret_names[i]) == 0) snprintf(secret, secret_cap, "%s", value);
            }
        } else if (n_plain < 2) {
            lines[n_plain] = strdup(line);
            n_plain++;
        } else {
            rc = -1;
        }
    }
    fclose(f);
    if (!access[0] && !secret[0] && n_plain == 2 && lines[0] && lines[1]) {
        snprintf(access, access_cap, "%s", lines[0]);
        snprintf(secret, secret_cap, "%s", lines[1]);
    }
    for (int i = 0; i < 2; i++)
        if (lines[i]) {
            sodium_memzero(lines[i], strlen(lines[i]));
            free(lines[i]);
        }
    sodium_memzero(line, sizeof line);
    if (rc < 0 || !access[0] || !secret[0]) {
        snprintf(why, why_cap,
                 "%s holds no credentials: two lines (access key, then secret) or "
                 "access_key_id=... and secret_access_key=...",
                 path);
        return -1;
    }
    return 0;
}

int s3_credentials_env(char *access, size_t access_cap, char *secret, size_t secret_cap) {
    const char *a = getenv("AWS_ACCESS_KEY_ID"), *s = getenv("AWS_SECRET_ACCESS_KEY");
    if (!a || !a[0] || !s || !s[0] || strlen(a) >= access_cap || strlen(s) >= secret_cap) return -1;
    snprintf(access, access_cap, "%s", a);
    snprintf(secret, secret_cap, "%s", s);
    return 0;
}
