#include "server/http.h"

#include <errno.h>
#include <limits.h>
#include <malloc.h>
#include <pthread.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "common/pbjson.h"
#include "common/util.h"
#include "server/admit.h"
#include "server/connect.h"
#include "server/dbpool.h"
#include "server/workerstack.h"

/* The media types we speak, request and response alike. */
static const struct {
    const char *type;
    http_encoding enc;
} media_types[] = {
    {"application/x-protobuf", HTTP_PROTOBUF},
    {"application/protobuf", HTTP_PROTOBUF},
    {"application/proto", HTTP_PROTOBUF}, /* the Connect protocol's name for it */
    {"application/json", HTTP_JSON},
};

/* Media types a few handlers answer in besides the two above (exports, progress as CSV). */
static const char *const alt_media_types[] = {"text/csv", "application/geo+json", "image/svg+xml",
                                              "image/png"};

/* What each engine result code answers over HTTP. */
static const struct {
    int rc;
    int status;
} status_map[] = {
    {SYNC_EINVALID, 400},  {SYNC_EUNAUTH, 401},   {SYNC_EFORBIDDEN, 403}, {SYNC_ENOTFOUND, 404},
    {SYNC_ECONFLICT, 409}, {SYNC_ETOOBIG, 413},   {SYNC_ELOCKED, 429},    {SYNC_EFULL, 507},
    {SYNC_EBUSY, 503},     {SYNC_EINTERNAL, 500},
};

/* The first buffer for a body of unknown length (chunked). */
enum { CHUNK_START = 64 * 1024 };

/* A body that declares its length up to this size is read into one buffer of that size: one
 * allocation, no copy as it grows (a batch of 500 observations is about 400 KB, and doubling
 * from CHUNK_START copied 448 KB of it on the way). A larger one starts here and doubles, so a
 * sender that declares megabytes and sends a trickle holds at most twice what it sent. */
enum { BODY_WHOLE_UP_TO = 1024 * 1024 };

int http_reserve(const server_config *cfg) {
    return cfg->threads / 8;
}

/* What a body may hold besides its bytes and its memory (pbjson_bounds): fields or values (5000
 * changes of a full batch take about 500 000), and protobuf fields the contract does not name (a
 * newer client's few). */
#define BODY_MAX_VALUES 1000000
#define BODY_MAX_UNKNOWN 1000
#define HTTP_TEXT_(x) #x
#define HTTP_TEXT(x) HTTP_TEXT_(x)

/* How long a request waits for room in the body-memory budget before 503 body_memory_busy. */
enum { BODY_MEMORY_WAIT_MS = 3000 };

/* After a request that held this much body memory, free heap pages go back to the system
 * (malloc_trim): a decoded batch leaves its small blocks spread over a thread's heap. */
enum { BODY_TRIM_AFTER = 4 * 1024 * 1024 };

/* The process-wide budget for request-body memory (--body-memory): the bytes of bodies being read
 * and the estimated memory of their decoding, held from the moment they are taken until the
 * request ends, so that bodies sent at once cannot all be in memory at once. */
static struct {
    pthread_mutex_t mu;
    pthread_cond_t freed;
    int64_t held;
} body_memory = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0};

/* How each bound a body crossed is answered (pbjson_json_scan, pbjson_wire_scan). */
static const struct {
    int rc;
    const char *json_code, *protobuf_code;
    const char *what; /* completes "the body ..." */
} bound_errors[] = {
    {PBJSON_TOO_DEEP, "json_too_deep", "protobuf_too_deep",
     "nests deeper than " HTTP_TEXT(PBJSON_MAX_NESTING) " levels"},
    {PBJSON_TOO_MANY_VALUES, "too_many_values", "too_many_values",
     "holds more than " HTTP_TEXT(BODY_MAX_VALUES) " values"},
    {PBJSON_TOO_MANY_UNKNOWN, "too_many_unknown_fields", "too_many_unknown_fields",
     "holds more than " HTTP_TEXT(BODY_MAX_UNKNOWN) " fields the contract does not name"},
    {PBJSON_TOO_COSTLY, "decoded_too_large", "decoded_too_large",
     "would take more memory to decode than the server may give it (--body-memory)"},
    {PBJSON_NOT_WIRE, "malformed_json", "malformed_protobuf", "is not protobuf wire format"},
};

int http_status_for(int rc) {
    for (size_t i = 0; i < sizeof status_map / sizeof status_map[0]; i++)
        if (status_map[i].rc == rc) return status_map[i].status;
    return 500;
}

/* The engine code for an HTTP status, for errors the server raises itself. */
static int rc_for_status(int status) {
    for (size_t i = 0; i < sizeof status_map / sizeof status_map[0]; i++)
        if (status_map[i].status == status) return status_map[i].rc;
    return status >= 500 ? SYNC_EINTERNAL : SYNC_EINVALID;
}

/* Connections a worker thread holds now, from CivetWeb handing one over to its close. */
static atomic_int open_connections;

int http_conn_open(const struct mg_connection *conn, void **conn_data) {
    (void)conn;
    *conn_data = NULL;
    atomic_fetch_add(&open_connections, 1);
    return 0;
}

void http_conn_close(const struct mg_connection *conn) {
    const struct mg_request_info *ri = mg_get_request_info(conn);
    atomic_fetch_sub(&open_connections, 1);
    if (ri) admit_conn_close(ri->remote_addr); /* counted by accept() (server/admit.c) */
}

void *http_thread_init(const struct mg_context *ctx, int thread_type) {
    (void)ctx;
    if (thread_type == 1) workerstack_paint(); /* for the deepest use, in the log */
    return NULL;
}

int http_error(http_req *r, int status, const char *code, const char *fmt, ...) {
    r->err.rc = rc_for_status(status);
    r->err_status = status;
    util_strlcpy(r->err.code, code, sizeof r->err.code);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->err.message, sizeof r->err.message, fmt, ap);
    va_end(ap);
    return r->err.rc;
}

/* Narrows the span *text[0..*len) to leave out blanks at both ends. */
static void span_trim(const char **text, size_t *len) {
    while (*len > 0 && (**text == ' ' || **text == '\t'))
        (*text)++, (*len)--;
    while (*len > 0 && ((*text)[*len - 1] == ' ' || (*text)[*len - 1] == '\t'))
        (*len)--;
}

/* Looks up the media type in text[0..len), blanks around it ignored: 1 and *enc when we speak
 * it, else 0. */
static int media_lookup(const char *text, size_t len, http_encoding *enc) {
    span_trim(&text, &len);
    for (size_t i = 0; i < sizeof media_types / sizeof media_types[0]; i++)
        if (strlen(media_types[i].type) == len &&
            strncasecmp(media_types[i].type, text, len) == 0) {
            *enc = media_types[i].enc;
            return 1;
        }
    return 0;
}

/* Picks the response encoding from an Accept header: the acceptable range with the highest q
 * (the first on a tie); a wildcard means the request's own encoding, else JSON. One of
 * alt_media_types that wins goes into *alt (the encoding is then the fallback). Returns 0, or -1
 * when the header names none of these. */
static int negotiate(const char *accept, const http_req *r, http_encoding *out, const char **alt) {
    http_encoding fallback = r->has_ctype ? r->req_enc : HTTP_JSON;
    double best_q = 0;
    const char *p = accept;
    *out = fallback;
    *alt = NULL;
    if (!accept || accept[strspn(accept, " \t,")] == '\0') return 0;
    while (*p) {
        size_t len = strcspn(p, ",");
        size_t type_len = strcspn(p, ";,");
        double q = 1.0;
        const char *qp = p + type_len;
        while (qp < p + len && *qp == ';') {
            qp++;
            while (*qp == ' ' || *qp == '\t')
                qp++;
            if ((qp[0] == 'q' || qp[0] == 'Q') && qp[1] == '=') q = strtod(qp + 2, NULL);
            qp += strcspn(qp, ";,");
        }
        http_encoding enc = fallback;
        const char *t = p;
        size_t tl = type_len;
        span_trim(&t, &tl);
        int wildcard = (tl == 3 && strncmp(t, "*/*", 3) == 0) ||
                       (tl == 13 && strncasecmp(t, "application/*", 13) == 0);
        const char *alt_type = NULL;
        for (size_t i = 0; i < sizeof alt_media_types / sizeof alt_media_types[0]; i++)
            if (strlen(alt_media_types[i]) == tl && strncasecmp(alt_media_types[i], t, tl) == 0)
                alt_type = alt_media_types[i];
        if ((wildcard || alt_type || media_lookup(t, tl, &enc)) && q > best_q) {
            best_q = q;
            *out = enc;
            *alt = alt_type;
        }
        p += len;
        if (*p == ',') p++;
    }
    return best_q > 0 ? 0 : -1;
}

int http_req_start(http_req *r, struct mg_connection *conn, const server_config *cfg) {
    memset(r, 0, sizeof *r);
    r->conn = conn;
    r->ri = mg_get_request_info(conn);
    r->cfg = cfg;
    r->started_ms = util_monotonic_ms();
    r->method = r->ri->request_method ? r->ri->request_method : "";
    r->path = r->ri->local_uri ? r->ri->local_uri : "/";
    snprintf(r->action, sizeof r->action, "%s %.80s", r->method, r->path);
    const char *ctype = mg_get_header(conn, "Content-Type");
    if (ctype) r->has_ctype = media_lookup(ctype, strcspn(ctype, ";"), &r->req_enc);
    /* A NUL byte would cut a decoded parameter short and let "2025-01-01%00junk" pass as a date. */
    const char *query = r->ri->query_string;
    if (query && strstr(query, "%00"))
        return http_error(r, 400, "invalid_argument", "the query string holds a NUL byte (%%00)");
    r->accepts_message =
        negotiate(mg_get_header(conn, "Accept"), r, &r->resp_enc, &r->resp_alt) == 0;
    if (!r->accepts_message) r->resp_enc = HTTP_JSON; /* for an error, the one readable form */
    /* A Connect call answers in its request's codec, whatever Accept says. */
    r->connect = connect_is_call(r->path);
    if (r->connect) {
        r->accepts_message = 1;
        r->resp_alt = NULL;
        r->resp_enc = r->has_ctype ? r->req_enc : HTTP_JSON;
    }
    return 0;
}

int http_accepts(const http_req *r, const char *type) { /* type's parameters ignored */
    const char *accept = mg_get_header(r->conn, "Accept");
    if (!accept || accept[strspn(accept, " \t,")] == '\0') return 1;
    size_t major = strcspn(type, "/"), type_len = strcspn(type, "; ");
    int ok = 0, refused = 0;
    for (const char *p = accept; *p;) {
        size_t len = strcspn(p, ","), range_len = strcspn(p, ";,");
        const char *t = p;
        size_t tl = range_len;
        span_trim(&t, &tl);
        double q = 1.0;
        for (const char *qp = p + range_len; qp < p + len && *qp == ';';) {
            qp++;
            while (*qp == ' ' || *qp == '\t')
                qp++;
            if ((qp[0] == 'q' || qp[0] == 'Q') && qp[1] == '=') q = strtod(qp + 2, NULL);
            qp += strcspn(qp, ";,");
        }
        int exact = tl == type_len && strncasecmp(t, type, tl) == 0;
        if (type_len == major + 2 && type[major + 1] == '*') /* type is itself a range */
            exact = tl > major && t[major] == '/' && strncasecmp(t, type, major) == 0;
        int range =
            (tl == 3 && strncmp(t, "*/*", 3) == 0) ||
            (tl == major + 2 && strncasecmp(t, type, major + 1) == 0 && t[major + 1] == '*');
        if (exact && q <= 0) refused = 1;
        if ((exact || range) && q > 0) ok = 1;
        p += len;
        if (*p == ',') p++;
    }
    return ok && !refused;
}

int http_not_acceptable(http_req *r, const char *type) {
    r->resp_enc = HTTP_JSON;
    if (type)
        return http_error(r, 406, "not_acceptable", "the answer is %s, which Accept does not take",
                          type);
    return http_error(r, 406, "not_acceptable",
                      "Accept names neither application/x-protobuf nor application/json");
}

int http_store_acquire(http_req *r) {
    if (r->store) return 0;
    r->store = dbpool_acquire(util_monotonic_ms() + HTTP_STORE_WAIT_MS, &r->err);
    if (!r->store) r->err_status = http_status_for(r->err.rc);
    return r->store ? 0 : r->err.rc;
}

void http_store_release(http_req *r) {
    dbpool_release(r->store);
    r->store = NULL;
}

/* Gives back what r holds of the body-memory budget. */
static void body_memory_give_back(http_req *r) {
    if (r->held == 0) return;
    pthread_mutex_lock(&body_memory.mu);
    body_memory.held -= r->held;
    pthread_cond_broadcast(&body_memory.freed);
    pthread_mutex_unlock(&body_memory.mu);
    r->held = 0;
}

void http_req_finish(http_req *r) {
    int64_t held = r->held;
    http_store_release(r);
    free(r->body);
    r->body = NULL;
    free(r->query);
    r->query = NULL;
    body_memory_give_back(r);
    if (held >= BODY_TRIM_AFTER) malloc_trim(0);
    workerstack_note(r->action);
}

/* 1 when the request may carry a body that has not been read whole. */
static int body_pending(const http_req *r) {
    if (r->body_read) return 0;
    const char *te = mg_get_header(r->conn, "Transfer-Encoding");
    return r->ri->content_length > 0 || (te && strcasestr(te, "chunked"));
}

/* Answers "100 Continue" once, when the client waits for it before sending the body. */
static void send_continue(http_req *r) {
    const char *expect = mg_get_header(r->conn, "Expect");
    if (!r->continued && expect && strcasecmp(expect, "100-continue") == 0 && r->ri->http_version &&
        strcmp(r->ri->http_version, "1.1") == 0)
        mg_write(r->conn, "HTTP/1.1 100 Continue\r\n\r\n", 25);
    r->continued = 1;
}

/* 1 when the body is coming in slower than the server allows: past --body-timeout since the
 * request's head, plus a second for every --body-min-rate bytes received. A client sending a
 * byte now and then would otherwise keep its worker as long as it likes. */
static int body_late(const http_req *r, int64_t received) {
    int64_t allowed = r->cfg->body_timeout_s * 1000;
    if (r->cfg->body_min_rate > 0) allowed += received * 1000 / r->cfg->body_min_rate;
    return util_monotonic_ms() - r->started_ms > allowed;
}

/* Fills r->err for a body that came too slowly (408, the connection closes). */
static int body_too_slow(http_req *r) {
    r->must_close = 1;
    return http_error(r, 408, "body_too_slow",
                      "the body came slower than %lld bytes a second after %lld s; send it again",
                      (long long)r->cfg->body_min_rate, (long long)r->cfg->body_timeout_s);
}

long http_read_some(http_req *r, void *buf, size_t cap) {
    if (r->body_read) return 0;
    if (body_late(r, r->body_received)) {
        body_too_slow(r);
        return -1;
    }
    send_continue(r);
    /* 0 also when the peer went away early: the caller compares what came with what was due. */
    int n = mg_read(r->conn, buf, cap > INT_MAX ? INT_MAX : cap);
    if (n == 0) r->body_read = 1;
    if (n > 0) r->body_received += n;
    return n;
}

/* Takes n more bytes of the body-memory budget for r, waiting up to BODY_MEMORY_WAIT_MS for
 * others to give theirs back. Returns 0, or a negative code with r->err filled: 413
 * body_too_large when r's share could never fit the budget, 503 body_memory_busy when no room
 * came in time. */
static int body_memory_take(http_req *r, int64_t n) {
    int64_t budget = r->cfg->body_memory;
    if (r->held + n > budget) {
        r->must_close = 1;
        return http_error(r, 413, "body_too_large",
                          "the body needs more memory than the server gives all bodies at once "
                          "(--body-memory %lld bytes)",
                          (long long)budget);
    }
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += BODY_MEMORY_WAIT_MS / 1000;
    until.tv_nsec += (long)(BODY_MEMORY_WAIT_MS % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) until.tv_sec++, until.tv_nsec -= 1000000000L;
    int timed_out = 0;
    pthread_mutex_lock(&body_memory.mu);
    while (body_memory.held + n > budget && !timed_out)
        timed_out = pthread_cond_timedwait(&body_memory.freed, &body_memory.mu, &until) != 0;
    int taken = body_memory.held + n <= budget;
    if (taken) body_memory.held += n;
    pthread_mutex_unlock(&body_memory.mu);
    if (!taken) {
        r->must_close = 1;
        return http_error(r, 503, "body_memory_busy",
                          "the server is holding as many request bodies as it may; try again");
    }
    r->held += n;
    return 0;
}

int http_read_body(http_req *r) {
    if (r->body_read) return 0;
    int64_t limit = r->body_limit;
    long long declared = r->ri->content_length;
    const char *te = mg_get_header(r->conn, "Transfer-Encoding");
    int chunked = te && strcasestr(te, "chunked");
    if (declared > limit) {
        r->must_close = 1;
        return http_error(r, 413, "body_too_large",
                          "the body is %lld bytes; the limit here is %lld", declared,
                          (long long)limit);
    }
    if (declared <= 0 && !chunked) {
        r->body_read = 1;
        return 0;
    }
    /* The database handle goes back to the pool while the client sends: a slow sender holds
     * its worker thread, not a connection to the database others wait for. */
    int had_store = r->store != NULL;
    http_store_release(r);
    send_continue(r);
    /* The most to read: what was declared, or one byte past the limit to see a chunked body
     * cross it. The buffer starts at the declared length up to BODY_WHOLE_UP_TO, else at
     * CHUNK_START or BODY_WHOLE_UP_TO, and doubles as bytes arrive, so a slow or short body
     * holds little. */
    size_t most = declared > 0 ? (size_t)declared : (size_t)limit + 1, cap = 0, len = 0;
    size_t first = declared > 0 ? BODY_WHOLE_UP_TO : CHUNK_START;
    int rc = 0;
    for (;;) {
        if (len == cap) {
            if (cap >= most) break;
            size_t grown = cap ? cap * 2 : first;
            if (grown > most) grown = most;
            if ((rc = body_memory_take(r, (int64_t)(grown - cap))) < 0) break;
            uint8_t *bigger = realloc(r->body, grown);
            if (!bigger) {
                r->must_close = 1;
                rc = http_error(r, 500, "out_of_memory", "out of memory for the body");
                break;
            }
            r->body = bigger;
            cap = grown;
        }
        if (body_late(r, (int64_t)len)) {
            rc = body_too_slow(r);
            break;
        }
        int n = mg_read(r->conn, r->body + len, cap - len);
        if (n <= 0) break;
        len += (size_t)n;
    }
    r->body_len = len;
    if (rc < 0) return rc;
    if (len > (size_t)limit) {
        r->must_close = 1;
        return http_error(r, 413, "body_too_large", "the body is over the limit here of %lld bytes",
                          (long long)limit);
    }
    if (declared > 0 && len < (size_t)declared) {
        r->must_close = 1;
        return http_error(r, 400, "body_incomplete", "the body ended after %zu of %lld bytes", len,
                          declared);
    }
    r->body_read = 1;
    return had_store ? http_store_acquire(r) : 0;
}

/* The bounds for decoding r's body: the fixed ones, and the memory left of the budget once its
 * bytes are held. */
static pbjson_bounds decode_bounds(const http_req *r) {
    int64_t room = r->cfg->body_memory - r->held;
    pbjson_bounds b = {PBJSON_MAX_NESTING, BODY_MAX_VALUES, BODY_MAX_UNKNOWN,
                       room > 0 ? (size_t)room : 0};
    return b;
}

/* Answers a scan's result rc for r's body in encoding enc, and takes the memory its decoding
 * will need (t->bytes) when it is within bounds. Returns 0 or a negative code with r->err. */
static int bounded(http_req *r, http_encoding enc, int rc, const pbjson_tally *t) {
    if (rc == PBJSON_WITHIN) return body_memory_take(r, (int64_t)t->bytes);
    for (size_t i = 0; i < sizeof bound_errors / sizeof bound_errors[0]; i++)
        if (bound_errors[i].rc == rc)
            return http_error(r, 400,
                              enc == HTTP_JSON ? bound_errors[i].json_code
                                               : bound_errors[i].protobuf_code,
                              "the body %s", bound_errors[i].what);
    return http_error(r, 500, "internal", "unknown result %d of the body's scan", rc);
}

int http_read_json(http_req *r) {
    pbjson_tally t;
    int rc = http_read_body(r);
    if (rc < 0) return rc;
    pbjson_bounds b = decode_bounds(r);
    return bounded(r, HTTP_JSON, pbjson_json_scan((const char *)r->body, r->body_len, 0, &b, &t),
                   &t);
}

int http_decode(http_req *r, const ProtobufCMessageDescriptor *desc, ProtobufCMessage **out) {
    static const uint8_t empty[1];
    char why[256];
    pbjson_tally t;
    *out = NULL;
    if (!r->has_ctype) {
        const char *ctype = mg_get_header(r->conn, "Content-Type");
        return http_error(r, 415, "unsupported_media_type",
                          "send the body as application/x-protobuf or application/json, not %.60s",
                          ctype ? ctype : "without a Content-Type");
    }
    int rc = http_read_body(r);
    if (rc < 0) return rc;
    const uint8_t *body = r->body ? r->body : empty;
    pbjson_bounds b = decode_bounds(r);
    if (r->req_enc == HTTP_PROTOBUF) {
        rc = bounded(r, HTTP_PROTOBUF, pbjson_wire_scan(desc, body, r->body_len, &b, &t), &t);
        if (rc < 0) return rc;
        *out = protobuf_c_message_unpack(desc, NULL, r->body_len, body);
        if (!*out)
            return http_error(r, 400, "malformed_protobuf", "the body is not a valid %s",
                              desc->name);
        /* protobuf-c checks neither that strings are UTF-8 nor that enum values are ones the
         * contract names; every record must stay readable as JSON (an unknown enum value stored
         * made its record and the whole feed unreadable). */
        if (pbjson_check_message(*out, why, sizeof why) < 0) {
            protobuf_c_message_free_unpacked(*out, NULL);
            *out = NULL;
            return http_error(r, 400, "malformed_protobuf", "%s", why);
        }
        return 0;
    }
    rc = bounded(r, HTTP_JSON,
                 pbjson_json_scan((const char *)body, r->body_len, PBJSON_SCAN_MAPPED, &b, &t), &t);
    if (rc < 0) return rc;
    if (pbjson_decode(desc, (const char *)body, r->body_len, out, why, sizeof why) < 0) {
        *out = NULL;
        return http_error(r, 400, "malformed_json", "%s", why);
    }
    return 0;
}

/* 1 when the client asked to keep the connection open (as CivetWeb decides it): a Connection
 * header naming keep-alive, or none on HTTP/1.1. */
static int client_keeps_alive(const http_req *r) {
    const char *c = mg_get_header(r->conn, "Connection");
    if (c) return strcasestr(c, "keep-alive") != NULL;
    return r->ri->http_version && strcmp(r->ri->http_version, "1.1") == 0;
}

/* Media types a browser renders as a document, which may run script or be framed. */
static const char *const document_types[] = {"text/html", "application/xhtml+xml", "image/svg+xml",
                                             "text/xml", "application/xml"};

/* 1 when ctype (parameters ignored) is one of document_types. */
static int is_document(const char *ctype) {
    size_t len = ctype ? strcspn(ctype, "; ") : 0;
    for (size_t i = 0; len && i < sizeof document_types / sizeof document_types[0]; i++)
        if (strlen(document_types[i]) == len && strncasecmp(document_types[i], ctype, len) == 0)
            return 1;
    return 0;
}

/* The security headers of r's answer of ctype into out[cap] (see http_send_head): "" unless it
 * is a document or r->csp is set. Returns out. */
static const char *security_headers(const http_req *r, const char *ctype, char *out, size_t cap) {
    const char *csp = r->csp ? r->csp : HTTP_CSP_PAGE;
    out[0] = '\0';
    if (r->csp || is_document(ctype))
        snprintf(out, cap,
                 "Content-Security-Policy: %s%s\r\nX-Content-Type-Options: nosniff\r\n"
                 "X-Frame-Options: DENY\r\nReferrer-Policy: no-referrer\r\n",
                 csp, strstr(csp, "frame-ancestors") ? "" : "; frame-ancestors 'none'");
    return out;
}

/* Sends status and the headers of a len-byte body (a NULL ctype: no body). The head is written
 * raw rather than through mg_response_header_*, because an interim "100 Continue" written
 * before it would make CivetWeb refuse those. The connection closes after an unread body and
 * after a 401, as CivetWeb closes it then. */
void http_send_head(http_req *r, int status, const char *ctype, uint64_t len) {
    char head[4096], date[64], security[1280];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    if (body_pending(r) || status == 401 || !client_keeps_alive(r)) r->must_close = 1;
    /* Capacity held back: when all but a reserve of the workers hold a connection, this one
     * closes after its answer, so idle kept-alive connections cannot take the last workers from
     * clients yet to come (a health check, a login), and a client that answers at once cannot
     * keep its worker request after request while others wait in CivetWeb's queue. */
    if (r->cfg && atomic_load(&open_connections) >= r->cfg->threads - http_reserve(r->cfg))
        r->must_close = 1;
    const char *reason = status == 460 ? "Checksum Mismatch" /* tus; unknown to CivetWeb */
                                       : mg_get_response_code_text(r->conn, status);
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 %d %s\r\nDate: %s\r\nCache-Control: %s\r\nConnection: %s\r\n",
                     status, reason, date, r->cache_control ? r->cache_control : "no-store",
                     r->must_close ? "close" : "keep-alive");
    if (ctype) n += snprintf(head + n, sizeof head - (size_t)n, "Content-Type: %s\r\n", ctype);
    if (status != 204 && status != 304)
        n += snprintf(head + n, sizeof head - (size_t)n, "Content-Length: %llu\r\n",
                      (unsigned long long)len);
    if (status == 401)
        n += snprintf(head + n, sizeof head - (size_t)n, "WWW-Authenticate: Bearer\r\n");
    if (status == 405 && r->allow[0])
        n += snprintf(head + n, sizeof head - (size_t)n, "Allow: %s\r\n", r->allow);
    /* Clients that read the hint (Node's fetch, undici) close an idle connection before the
     * server does, so none sends a request on a connection the server is closing. */
    if (!r->must_close && r->cfg)
        n += snprintf(head + n, sizeof head - (size_t)n, "Keep-Alive: timeout=%d\r\n",
                      r->cfg->keep_alive_ms / 1000 > 0 ? r->cfg->keep_alive_ms / 1000 : 1);
    if (r->cors_origin[0])
        n += snprintf(head + n, sizeof head - (size_t)n,
                      "Access-Control-Allow-Origin: %s\r\nVary: Origin\r\n"
                      "Access-Control-Expose-Headers: %s\r\n",
                      r->cors_origin, HTTP_CORS_EXPOSED);
    n += snprintf(head + n, sizeof head - (size_t)n, "%s%s\r\n",
                  security_headers(r, ctype, security, sizeof security), r->headers);
    mg_write(r->conn, head, (size_t)n);
    r->status = status;
}

/* Writes into out a strong validator of an answer built in memory (RFC 9110 8.8.3): the first 16
 * bytes of BLAKE2b over its media type and its bytes, in hex and quoted. The same bytes always
 * give the same tag, so a record's tag changes with its version and a page's with any row. */
static void body_etag(const char *ctype, const void *body, size_t len, char out[35]) {
    uint8_t h[16];
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, sizeof h);
    crypto_generichash_update(&st, (const uint8_t *)ctype, strlen(ctype) + 1);
    crypto_generichash_update(&st, body, len);
    crypto_generichash_final(&st, h, sizeof h);
    out[0] = '"';
    sodium_bin2hex(out + 1, 33, h, sizeof h);
    out[33] = '"';
    out[34] = '\0';
}

/* 1 when an If-None-Match header names tag or is "*" (the weak comparison of RFC 9110 13.1.2:
 * a W/ before a listed tag does not matter). */
static int none_match(const char *header, const char *tag) {
    for (const char *p = header; *p;) {
        p += strspn(p, " \t,");
        if (*p == '*') return 1;
        if (strncmp(p, "W/", 2) == 0) p += 2;
        size_t n = strcspn(p, " \t,");
        if (n == strlen(tag) && strncmp(p, tag, n) == 0) return 1;
        p += n;
    }
    return 0;
}

/* Sends status, the headers and len bytes of body (a NULL ctype: no body; none for HEAD). A
 * successful GET or HEAD answer carries an ETag, and is 304 without its body when the client's
 * If-None-Match names it. */
static void send_raw(http_req *r, int status, const char *ctype, const void *body, size_t len) {
    int readonly = strcmp(r->method, "GET") == 0 || strcmp(r->method, "HEAD") == 0;
    if (status == 200 && ctype && readonly) {
        char tag[35];
        body_etag(ctype, body, len, tag);
        size_t used = strlen(r->headers);
        snprintf(r->headers + used, sizeof r->headers - used, "ETag: %s\r\n", tag);
        const char *inm = mg_get_header(r->conn, "If-None-Match");
        if (inm && none_match(inm, tag)) {
            http_send_head(r, 304, NULL, 0);
            return;
        }
    }
    http_send_head(r, status, ctype, len);
    if (len > 0 && strcmp(r->method, "HEAD") != 0) mg_write(r->conn, body, len);
}

/* The protobuf media type of an answer: the Connect protocol's name on a Connect call. */
static const char *protobuf_type(const http_req *r) {
    return r->connect ? "application/proto" : "application/x-protobuf";
}

int http_send_message(http_req *r, int status, const ProtobufCMessage *msg) {
    if (r->connect) status = 200;
    if (r->resp_enc == HTTP_PROTOBUF) {
        size_t len = protobuf_c_message_get_packed_size(msg);
        uint8_t *buf = malloc(len ? len : 1);
        if (!buf) return http_error(r, 500, "out_of_memory", "out of memory encoding the answer");
        protobuf_c_message_pack(msg, buf);
        send_raw(r, status, protobuf_type(r), buf, len);
        free(buf);
        return 0;
    }
    char *text = pbjson_encode(msg, 0);
    if (!text) return http_error(r, 500, "internal", "could not encode the answer as JSON");
    send_raw(r, status, "application/json", text, strlen(text));
    free(text);
    return 0;
}

int http_send_packed(http_req *r, int status, const uint8_t *buf, size_t len) {
    send_raw(r, r->connect ? 200 : status, protobuf_type(r), buf, len);
    return 0;
}

void http_send_empty(http_req *r, int status) {
    /* A Connect call's success is an empty message: no bytes in protobuf, {} in JSON. */
    int connect_answer = r->connect && status < 300 && strcmp(r->method, "POST") == 0;
    if (connect_answer && r->resp_enc == HTTP_PROTOBUF)
        send_raw(r, 200, protobuf_type(r), NULL, 0);
    else if (connect_answer)
        send_raw(r, 200, "application/json", "{}", 2);
    else
        send_raw(r, status, NULL, NULL, 0);
}

/* Sends r->err as a Connect error body (server/connect.h) for our status. */
static void send_connect_error(http_req *r, int status) {
    int http_status = 500;
    char *text = connect_error_body(r, status, &http_status);
    static const char fallback[] = "{\"code\":\"internal\",\"message\":\"error\",\"details\":[]}";
    if (text)
        send_raw(r, http_status, "application/json", text, strlen(text));
    else
        send_raw(r, http_status, "application/json", fallback, sizeof fallback - 1);
    free(text);
}

void http_send_error(http_req *r) {
    Outfall__V1__Error e = OUTFALL__V1__ERROR__INIT;
    int status = r->err_status ? r->err_status : http_status_for(r->err.rc);
    /* A busy server (a lock or a pool that stayed taken) says when to come back. */
    if (status == 503 && !strstr(r->headers, "Retry-After:")) {
        size_t used = strlen(r->headers);
        snprintf(r->headers + used, sizeof r->headers - used, "Retry-After: 2\r\n");
    }
    if (r->connect) {
        send_connect_error(r, status);
        return;
    }
    e.code = r->err.code[0] ? r->err.code : "internal";
    e.message = r->err.message;
    if (http_send_message(r, status, &e.base) < 0) send_raw(r, status, NULL, NULL, 0);
}

int http_camel_case(const char *name, size_t len, char *out, size_t cap) {
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        if (o + 1 >= cap) return 0;
        if (name[i] == '_' && i + 1 < len && name[i + 1] >= 'a' && name[i + 1] <= 'z')
            out[o++] = (char)(name[++i] - 'a' + 'A');
        else
            out[o++] = name[i];
    }
    out[o] = '\0';
    return 1;
}

int http_query(http_req *r, const char *name, char *buf, size_t cap) {
    /* A Connect call's parameters come from its request message, never from the URL. */
    const char *qs = r->connect ? r->query : r->ri->query_string;
    char camel[64];
    buf[0] = '\0';
    if (!qs) return 0;
    int n = mg_get_var(qs, strlen(qs), name, buf, cap);
    if (n == -1 && http_camel_case(name, strlen(name), camel, sizeof camel) &&
        strcmp(camel, name) != 0)
        n = mg_get_var(qs, strlen(qs), camel, buf, cap); /* reviewState for review_state */
    if (n == -1) return 0;
    if (n < 0) return http_error(r, 400, "invalid_argument", "%s is too long", name);
    return 1;
}

int http_query_int64(http_req *r, const char *name, int64_t min, int64_t max, int64_t *out) {
    char buf[32], *end = NULL;
    int rc = http_query(r, name, buf, sizeof buf);
    if (rc <= 0 || buf[0] == '\0') return rc < 0 ? rc : 0;
    errno = 0;
    long long v = strtoll(buf, &end, 10);
    if (errno || *end != '\0' || !(buf[0] == '-' || (buf[0] >= '0' && buf[0] <= '9')) || v < min ||
        v > max)
        return http_error(r, 400, "invalid_argument", "%s must be an integer from %lld to %lld",
                          name, (long long)min, (long long)max);
    *out = v;
    return 0;
}

int http_enum_parse(const ProtobufCEnumDescriptor *d, const char *prefix, const char *text,
                    int *out) {
    char *end = NULL;
    long n = strtol(text, &end, 10);
    if (end != text && *end == '\0') {
        if (n < INT_MIN || n > INT_MAX || !protobuf_c_enum_descriptor_get_value(d, (int)n))
            return -1;
        *out = (int)n;
        return 0;
    }
    size_t plen = strlen(prefix);
    if (strncasecmp(text, prefix, plen) == 0) text += plen;
    for (unsigned i = 0; i < d->n_values; i++)
        if (strncasecmp(d->values[i].name, prefix, plen) == 0 &&
            strcasecmp(d->values[i].name + plen, text) == 0) {
            *out = d->values[i].value;
            return 0;
        }
    return -1;
}
