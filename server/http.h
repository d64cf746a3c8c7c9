/* One HTTP exchange over CivetWeb: the request's context, its body read under a limit, content
 * negotiation (protobuf or JSON), and answers that are a message, nothing, or an Error. */
#ifndef SERVER_HTTP_H
#define SERVER_HTTP_H

#include <civetweb.h>
#include <protobuf-c/protobuf-c.h>
#include <stddef.h>
#include <stdint.h>

#include "server/config.h"
#include "sync/store.h"

typedef enum http_encoding { HTTP_JSON = 0, HTTP_PROTOBUF = 1 } http_encoding;

enum { HTTP_MAX_PARAMS = 2, HTTP_PARAM_LEN = 128 };

/* How long a request waits in line for a database handle (server/dbpool.h) before 503 busy. */
enum { HTTP_STORE_WAIT_MS = 10000 };

/* The answer's headers a page of another origin allowed by --cors-origin may read. */
#define HTTP_CORS_EXPOSED                                                                          \
    "ETag, Location, Retry-After, Content-Range, Upload-Offset, Upload-Length, Upload-Metadata, "  \
    "Upload-Expires, "                                                                             \
    "Tus-Resumable, Tus-Version, Tus-Extension, Tus-Max-Size, Tus-Checksum-Algorithm"

/* Everything a handler needs about the request it serves. Lives on the worker's stack for one
 * request; nothing in it outlives the request. */
typedef struct http_req {
    struct mg_connection *conn;
    const struct mg_request_info *ri;
    const server_config *cfg;
    store *store;       /* a handle from the pool while held (http_store_acquire), else NULL */
    int64_t started_ms; /* when the request's head was in (util_monotonic_ms) */
    const char *method; /* borrowed from ri */
    const char *path;   /* decoded path without the query, borrowed from ri */
    char action[96];    /* "DELETE /v1/devices/{id}": the route, as the audit trail records it */
    int has_ctype;      /* the request named a content type we speak */
    http_encoding req_enc;
    http_encoding resp_enc;
    char params[HTTP_MAX_PARAMS][HTTP_PARAM_LEN]; /* {id} segments of the route, in order */
    char token[256];                              /* the bearer token once authenticated */
    int authenticated;
    principal who; /* valid when authenticated */
    uint8_t *body; /* owned; freed by http_req_finish */
    size_t body_len;
    int64_t body_limit;    /* the route's body limit in bytes (server/routes.c); 0: takes none */
    int64_t held;          /* bytes of the body-memory budget (--body-memory) r holds */
    int body_read;         /* the body was read whole */
    int64_t body_received; /* bytes of it http_read_some handed out so far */
    int must_close;        /* answer with Connection: close (unread or oversize body) */
    int status;            /* the status sent (0 until an answer went out), for the access log */
    sync_error err;        /* what a failing handler reports */
    int err_status;        /* the status for err when it is not the one its code maps to */
    char allow[64];        /* the Allow header of a 405 */
    /* More to answer than the usual (photos: tus headers, ETag, Range, caching). */
    char headers[512];         /* extra header lines for the answer, each ending "\r\n" */
    const char *cache_control; /* the answer's Cache-Control; NULL: no-store */
    int continued;             /* "100 Continue" went out */
    char cors_origin[128];     /* an Origin allowed by --cors-origin, echoed in the answer */
    /* "text/csv" or "application/geo+json" when Accept prefers one of them (NULL otherwise):
     * a handler that can answer in it does; the others answer in resp_enc. */
    const char *resp_alt;
    /* 1 when Accept takes a protobuf or JSON message (absent, a wildcard, or one of their types):
     * an endpoint that answers only messages is 406 otherwise (server/routes.c). */
    int accepts_message;
    /* The Content-Security-Policy of the answer (borrowed, static or outliving the answer):
     * when set, the answer carries the document security headers whatever its type (see
     * http_send_head); NULL: HTTP_CSP_PAGE for a document, nothing for the rest. */
    const char *csp;
    /* A Connect call (server/connect.h): the answer is 200 with a message in the request's codec
     * (an empty one for "204"), or a Connect error body; the query comes from r->query. */
    int connect;
    const char *connect_code; /* the Connect code of a protocol-level refusal (NULL: by status) */
    char *query; /* owned: a Connect call's query parameters (name=value&...), or NULL */
} http_req;

/* The Content-Security-Policy of a page the server writes itself (the annual report, a sign
 * board's SVG): nothing loaded from anywhere, no script, no form, its own inline <style>, no
 * <base>, never framed. */
#define HTTP_CSP_PAGE                                                                              \
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; base-uri 'none'; "       \
    "form-action 'none'; frame-ancestors 'none'"

/* CivetWeb's init_thread callback: a worker paints its stack, so that the deepest use any
 * request reaches can be measured (server/workerstack.h). Returns NULL. */
void *http_thread_init(const struct mg_context *ctx, int thread_type);

/* CivetWeb's init_connection and connection_close callbacks: they count the connections the
 * worker threads hold, so that an answer can close its connection when nearly all are taken;
 * the close also uncounts the connection from its client address (server/admit.h). */
int http_conn_open(const struct mg_connection *conn, void **conn_data);
void http_conn_close(const struct mg_connection *conn);

/* Fills r for the request on conn: the request's content type, and the response encoding and
 * r->accepts_message from Accept. Returns 0, or a negative code with r->err filled (a NUL in the
 * query); r is usable for an answer either way. */
int http_req_start(http_req *r, struct mg_connection *conn, const server_config *cfg);

/* 1 when the request's Accept takes media type (e.g. "image/jpeg": exactly, by its major type's
 * range "image/" plus a star, or by the range of everything, with q above 0; the exact type with
 * q=0 refuses it), or has no Accept; else 0. The type's parameters are ignored; a type that is
 * itself a range ("image/" and a star) is taken by any type of its major type. */
int http_accepts(const http_req *r, const char *type);

/* Refuses r with 406 not_acceptable: the answer would be of type (a message: NULL), which Accept
 * does not take. Returns the negative code. */
int http_not_acceptable(http_req *r, const char *type);

/* Takes a database handle from the pool into r->store (nothing when r holds one), waiting up to
 * HTTP_STORE_WAIT_MS. Returns 0, or a negative code with r->err filled (busy, 503). */
int http_store_acquire(http_req *r);

/* Gives r->store back to the pool (none held: nothing) and sets it to NULL: for a handler about
 * to wait on its client (streaming a file, a body it reads itself). */
void http_store_release(http_req *r);

/* Workers held back for new clients: when all but these hold a connection, answers close
 * their connection rather than keep it idle. */
int http_reserve(const server_config *cfg);

/* Releases what r owns, its database handle included. */
void http_req_finish(http_req *r);

/* Reads the whole body into r->body, at most r->body_limit bytes: a declared length over the
 * limit fails before anything is read; a chunked body fails as soon as its count crosses it (and
 * the connection closes). The buffer grows as bytes arrive, each step taken first from the
 * process-wide budget for body memory (--body-memory), waiting a moment for room. The database
 * handle r holds goes back to the pool while the body comes and is taken again after. Answers
 * "100 Continue" first when the client waits for it. Idempotent. Returns 0 or a negative code
 * with r->err filled (413 body_too_large, 400 body_incomplete, 408 body_too_slow, 503
 * body_memory_busy or busy). */
int http_read_body(http_req *r);

/* Reads the body as http_read_body, then checks it as JSON text before any parser sees it:
 * nesting (400 json_too_deep), values (400 too_many_values) and the memory its decoding would
 * take (400 decoded_too_large), which is then taken from the budget like the body's bytes
 * (503 body_memory_busy). For handlers that parse JSON themselves (the GeoJSON zone import). */
int http_read_json(http_req *r);

/* Reads up to cap bytes of the body as it streams in, for bodies too big to hold (photos); the
 * first call answers "100 Continue" when the client waits for it. Returns the count, 0 once the
 * body is over (r->body_read is then set), or -1 when the connection failed before that or the
 * body came too slowly (r->err is then body_too_slow, 408). */
long http_read_some(http_req *r, void *buf, size_t cap);

/* Reads the body and decodes it as a message of type desc per the request's Content-Type, after
 * bounding what decoding costs without allocating (pbjson_json_scan, pbjson_wire_scan): nesting,
 * values, unknown protobuf fields and the estimated memory, which is taken from the body-memory
 * budget before decoding. A protobuf message must then hold only valid UTF-8 and named enum
 * values (pbjson_check_message). On success *out is a message the caller frees with
 * protobuf_c_message_free_unpacked(*out, NULL). Codes: unsupported_media_type (415);
 * malformed_protobuf, malformed_json, json_too_deep, protobuf_too_deep, too_many_values,
 * too_many_unknown_fields, decoded_too_large (400); those of http_read_body. *out is NULL on
 * failure. */
int http_decode(http_req *r, const ProtobufCMessageDescriptor *desc, ProtobufCMessage **out);

/* Sends msg with status in the negotiated encoding. Returns 0, or a negative code with r->err
 * filled when encoding failed (nothing was sent then). */
int http_send_message(http_req *r, int status, const ProtobufCMessage *msg);

/* Sends len bytes of a message already packed as protobuf, for a request whose negotiated
 * encoding is protobuf (r->resp_enc == HTTP_PROTOBUF). Returns 0. */
int http_send_packed(http_req *r, int status, const uint8_t *buf, size_t len);

/* Sends status and the head of an answer whose len-byte body of ctype (NULL: none) the caller
 * then writes with mg_write, except for a HEAD request. Adds r->headers and r->cache_control.
 * Every answer a browser may render as a document (text/html, XHTML, XML, SVG), and every answer
 * whose handler set r->csp, carries the security headers, written here and nowhere else:
 * Content-Security-Policy (r->csp, else HTTP_CSP_PAGE; frame-ancestors 'none' added to a policy
 * that lacks it), X-Content-Type-Options: nosniff, X-Frame-Options: DENY and Referrer-Policy:
 * no-referrer. */
void http_send_head(http_req *r, int status, const char *ctype, uint64_t len);

/* Sends a status without a body (204). */
void http_send_empty(http_req *r, int status);

/* Sends r->err as an Error, with r->err_status or else the status its result code maps to. */
void http_send_error(http_req *r);

/* Fills r->err for an error whose status is explicit (404, 405, 406, 415 ...) and returns its
 * (negative) result code, so a handler can write `return http_error(...)`. */
int http_error(http_req *r, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* The HTTP status for an engine result code (500 for one it does not know). */
int http_status_for(int rc);

/* The lowerCamelCase form of the snake_case name[len] (review_state → reviewState) into
 * out[cap]. Returns 1, or 0 when it does not fit. */
int http_camel_case(const char *name, size_t len, char *out, size_t cap);

/* The query parameter name (snake_case), or else its lowerCamelCase form, decoded, into buf[cap].
 * Returns 1 when present (even empty), 0 when absent, or a negative code with r->err filled
 * (invalid_argument: too long). */
int http_query(http_req *r, const char *name, char *buf, size_t cap);

/* The query parameter name as an integer in [min, max], or *out unchanged when absent or empty.
 * Returns 0, or SYNC_EINVALID with r->err naming the parameter. */
/* Parses an enum value given by its full name, by its name without `prefix` (any case), or by
 * its number. Returns 0 and *out, or -1. */
int http_enum_parse(const ProtobufCEnumDescriptor *d, const char *prefix, const char *text,
                    int *out);

int http_query_int64(http_req *r, const char *name, int64_t min, int64_t max, int64_t *out);

#endif
