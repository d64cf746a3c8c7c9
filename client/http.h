/* The client library's HTTP (prefix client_http_): one exchange over libcurl, as outfallctl, the
 * tests and the benchmark make them. A request names its method, URL, header lines and body (from
 * memory: sent as is, or streamed chunked or cut off part way, as the tests need); the answer's
 * status, content type, header lines and body (a growing buffer with an optional limit) come back
 * in a client_http_response. The library prints nothing: a failed exchange leaves status 0 and
 * curl's reason in error[]. It knows nothing of the server's internals, only its wire contract
 * (the Error message, in protobuf or JSON). */
#ifndef CLIENT_HTTP_H
#define CLIENT_HTTP_H

#include <curl/curl.h>
#include <stddef.h>
#include <stdint.h>

#define CLIENT_HTTP_PB "application/x-protobuf"
#define CLIENT_HTTP_JSON "application/json"

/* A body being received: data[len] then a NUL (data is NULL before the first byte), in a buffer
 * of cap bytes kept between exchanges that reuse it. limit > 0 refuses an answer longer than
 * limit bytes (the exchange fails with over set). Owned by whoever holds it; free with
 * client_http_body_free. */
typedef struct client_http_body {
    uint8_t *data;
    size_t len, cap;
    size_t limit; /* 0: no limit */
    int over;     /* 1 when an answer passed limit */
} client_http_body;

/* The one CURLOPT_WRITEFUNCTION: appends size * n bytes of data to the client_http_body user,
 * keeping it NUL-terminated. Returns the bytes taken; 0 (which fails the transfer) when memory
 * runs out or limit is passed. */
size_t client_http_body_write(char *data, size_t size, size_t n, void *user);

/* Frees b's buffer and zeroes it (limit included). Safe on a zeroed body. */
void client_http_body_free(client_http_body *b);

/* Where a request's body comes from. */
typedef enum client_http_send {
    CLIENT_HTTP_FIELDS = 0, /* body[len] handed to curl whole (a POST without one sends none) */
    CLIENT_HTTP_STREAM,     /* body[len] read piece by piece with Content-Length */
    CLIENT_HTTP_CHUNKED,    /* body[len] read piece by piece with Transfer-Encoding: chunked */
} client_http_send;

typedef struct client_http_request {
    const char *method;         /* "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE" ... */
    const char *url;            /* the whole URL */
    const char *token;          /* NULL: no Authorization; else sent as "Bearer token" */
    const char *signature;      /* NULL: none; else the X-Device-Signature header's value */
    const char *const *headers; /* more "Name: value" lines, NULL-terminated (may be NULL);
                                   "Name:" alone keeps curl from sending a header of its own */
    const void *body;           /* NULL: no body; borrowed for the exchange */
    size_t len;
    client_http_send send; /* how body goes out */
    size_t cut_after;      /* > 0 (streamed bodies): drop the connection after this many bytes */
    long timeout_s;        /* whole exchange; 0: no limit */
    int use_proxy;         /* 1: honour the proxy environment (curl's default); 0: never */
    int tcp_nodelay;       /* 1: TCP_NODELAY */
    const char *interface; /* NULL, or curl's CURLOPT_INTERFACE ("host!127.1.0.2") */
    int resend_stale;      /* 1: an exchange a kept-alive connection lost before any answer
                              is sent once more on a new connection (counted in resent) */
} client_http_request;

typedef struct client_http_response {
    long status;            /* 0 when the exchange failed */
    client_http_body body;  /* the answer's body (always non-NULL data after an exchange) */
    char content_type[128]; /* "" when none */
    char headers[4096];     /* the final answer's header lines, as received (truncated) */
    CURLcode curl_code;     /* CURLE_OK, or why the exchange failed */
    char error[256];        /* "" or curl's reason for curl_code */
    int resent;             /* 1 when resend_stale sent it again */
} client_http_response;

/* Calls curl_global_init once per process (and curl_global_cleanup at exit). Returns 0 or -1. */
int client_http_global_init(void);

/* Runs rq into out. curl NULL uses a fresh handle for this exchange; else curl is reset and
 * used, so its kept-alive connection serves the next exchange too (the handle stays the
 * caller's). out's body buffer is reused (its len starts at 0): zero out before its first use;
 * the caller frees it with client_http_response_free. Returns out->status. */
long client_http_exchange(CURL *curl, const client_http_request *rq, client_http_response *out);

/* Frees out's body. */
void client_http_response_free(client_http_response *out);

/* The value of header name in a block of header lines (case-insensitive), spaces trimmed, into
 * buf[cap]. 1 when present, else 0 (buf ""). */
int client_http_header(const char *headers, const char *name, char *buf, size_t cap);

/* 1 when a Content-Type value names JSON (parameters such as charset ignored). */
int client_http_is_json(const char *content_type);

/* The server's Error in an answer's body, decoded in the encoding content_type names (JSON, else
 * protobuf), into code[code_cap] and message[message_cap] ("" for what is absent). Returns 0,
 * or -1 when the body holds no Error with a code. */
int client_http_error(const char *content_type, const uint8_t *body, size_t len, char *code,
                      size_t code_cap, char *message, size_t message_cap);

#endif
