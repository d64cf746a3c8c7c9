/* Issue 15, "The front door holds": the attack catalogue (attack_catalogue.h), beside the
 * bad-input catalogue. Each row is one hostile request, sent over a raw socket so that it can
 * lie (a Content-Length it does not keep, a chunked body past every limit, bytes after the
 * server answered), with the status and Error.code it must get; after every row the server is
 * alive (GET /healthz 200) and the database and photo store are as they were, and where a row
 * says so its peak resident memory (VmHWM from /proc, reset before the row) rose by less than
 * its bound.
 *
 * Besides the rows:
 * - hostile 16 MiB bodies sent 8 at a time, three rounds, anonymous and signed-in alike: the
 *   server's peak RSS rises by less than 100 MB and falls back after (figures printed);
 * - a request that finds no room in --body-memory waits, then gets 503 body_memory_busy;
 * - the deepest legitimate work (a 2000-change batch in both encodings, a zone import, exports,
 *   the annual report, the review queue, logins) fits a worker's stack with room to spare: the
 *   server logs the deepest use of its painted worker stacks (server/workerstack.h).
 *
 * The server runs with ASAN_OPTIONS quarantine_size_mb=4 added: AddressSanitizer keeps freed
 * blocks mapped in its quarantine (256 MB by default) to catch use after free, which would hide
 * whether the server gives memory back. With OUTFALLD=build/release/outfalld the figures are the
 * release build's. ATTACKS_ONLY=PATTERN runs only the tests whose names match. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/util.h"
#include "server/workerstack.h"
#include "tests/lib/harness.h"

#define DIV "410802"

static th_server srv;
static th_user surveyor;

/* Who sends a row's request. */
enum { AS_NOBODY, AS_SURVEYOR, AS_ADMIN };

/* How a row's body goes: with its true Content-Length, chunked, or with the Content-Length
 * `declare` whatever its length, the write side then closed (the server sees the end). */
enum { SEND_PLAIN, SEND_CHUNKED, SEND_DECLARE };

/* A body being made: malloc'd bytes. */
typedef struct body_buf {
    uint8_t *data;
    size_t len;
} body_buf;

typedef struct attack {
    const char *name;
    const char *method;
    const char *path;
    int as;
    const char *ctype; /* NULL: application/json */
    const char *headers[3];
    void (*body)(body_buf *b, size_t size); /* NULL: no body */
    size_t size;
    int send;
    long long declare;
    long status; /* 0: the connection ends without an answer */
    const char *code;
    long rss_mb; /* 0: no bound */
} attack;

/* ---- body generators: each makes a body of about `size` (levels, bytes, ...) ---- */

static void body_alloc(body_buf *b, size_t len) {
    b->data = malloc(len ? len : 1);
    assert_non_null(b->data);
    b->len = len;
}

/* "[[[...]]]", size levels. */
static void deep_arrays(body_buf *b, size_t size) {
    body_alloc(b, 2 * size);
    memset(b->data, '[', size);
    memset(b->data + size, ']', size);
}

/* "[[[..." size levels, never closed. */
static void open_arrays(body_buf *b, size_t size) {
    body_alloc(b, size);
    memset(b->data, '[', size);
}

/* {"a":{"a":...{}...}}, size levels. */
static void deep_objects(body_buf *b, size_t size) {
    body_alloc(b, 6 * size);
    for (size_t i = 0; i < size; i++)
        memcpy(b->data + 5 * i, "{\"a\":", 5);
    memset(b->data + 5 * size, '}', size);
}

/* A zone whose coordinates nest size levels. */
static void deep_geojson(body_buf *b, size_t size) {
    const char *head = "{\"type\":\"FeatureCollection\",\"features\":[{\"type\":\"Feature\","
                       "\"id\":\"z\",\"properties\":{\"name\":\"z\",\"kind\":\"drinking_water\"},"
                       "\"geometry\":{\"type\":\"Polygon\",\"coordinates\":";
    size_t h = strlen(head), levels = size > 5 ? size - 5 : 1;
    body_alloc(b, h + 2 * levels + 4);
    memcpy(b->data, head, h);
    memset(b->data + h, '[', levels);
    memset(b->data + h + levels, ']', levels);
    memcpy(b->data + h + 2 * levels, "}}]}", 4);
}

/* A decision whose comment holds size '[' characters: nesting only in appearance. */
static void brackets_in_string(body_buf *b, size_t size) {
    const char *head = "{\"kind\":\"DECISION_KIND_APPROVE\",\"comment\":\"";
    size_t h = strlen(head);
    body_alloc(b, h + size + 2);
    memcpy(b->data, head, h);
    memset(b->data + h, '[', size);
    memcpy(b->data + h + size, "\"}", 2);
}

/* "[0,0,0,...]" of size bytes (a JSON value per 2 bytes). */
static void wide_array(body_buf *b, size_t size) {
    body_alloc(b, size < 2 ? 2 : size);
    for (size_t i = 0; i < b->len; i++)
        b->data[i] = i % 2 ? ',' : '0';
    b->data[0] = '[';
    b->data[b->len - 1] = ']';
    if (b->len > 2 && b->data[b->len - 2] == ',') b->data[b->len - 2] = '0';
}

/* "[{},{},...]" of about size bytes. */
static void empty_objects(body_buf *b, size_t size) {
    size_t n = size / 3;
    body_alloc(b, 3 * n + 1);
    b->data[0] = '[';
    for (size_t i = 0; i < n; i++)
        memcpy(b->data + 1 + 3 * i, i + 1 < n ? "{}," : "{}]", 3);
}

/* A FeatureCollection of one zone with size bytes of positions. */
static void wide_positions(body_buf *b, size_t size) {
    const char *head = "{\"type\":\"FeatureCollection\",\"features\":[{\"type\":\"Feature\","
                       "\"id\":\"z\",\"properties\":{\"name\":\"z\",\"kind\":\"drinking_water\"},"
                       "\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[";
    const char *pos = "[113.3001,35.3001],";
    size_t h = strlen(head), p = strlen(pos), n = (size - h - 16) / p;
    body_alloc(b, h + n * p + 16);
    memcpy(b->data, head, h);
    for (size_t i = 0; i < n; i++)
        memcpy(b->data + h + i * p, pos, p);
    size_t end = h + n * p - 1;
    memcpy(b->data + end, "]]}}]}", 6);
    b->len = end + 6;
}

/* Protobuf: the tag/length pair tag,0 repeated over size bytes (an empty element each). */
static void pb_pairs(body_buf *b, size_t size, uint8_t tag) {
    body_alloc(b, size & ~(size_t)1);
    for (size_t i = 0; i < b->len; i += 2)
        b->data[i] = tag, b->data[i + 1] = 0;
}

/* A PublicReport of empty photo names (field 9). */
static void pb_empty_repeated(body_buf *b, size_t size) {
    pb_pairs(b, size, 9 << 3 | 2);
}

/* A SyncRequest of empty changes (field 5). */
static void pb_empty_changes(body_buf *b, size_t size) {
    pb_pairs(b, size, 5 << 3 | 2);
}

/* Unknown varint fields (number 1000, value 0): three bytes each. */
static void pb_unknown_fields(body_buf *b, size_t size) {
    body_alloc(b, size / 3 * 3);
    for (size_t i = 0; i < b->len; i += 3)
        b->data[i] = 0xc0, b->data[i + 1] = 0x3e, b->data[i + 2] = 0;
}

/* One unknown length-delimited field (number 1000) holding the rest of size bytes. */
static void pb_one_huge_unknown(body_buf *b, size_t size) {
    size_t payload = size - 8;
    body_alloc(b, size);
    uint8_t *p = b->data;
    *p++ = 0xc2, *p++ = 0x3e; /* field 1000, length-delimited */
    for (size_t v = payload;; v >>= 7) {
        *p++ = (uint8_t)((v & 0x7f) | (v >= 0x80 ? 0x80 : 0));
        if (v < 0x80) break;
    }
    memset(p, 0x01, payload);
    b->len = (size_t)(p - b->data) + payload;
}

/* A LoginRequest whose username is not UTF-8. */
static void pb_bad_utf8_login(body_buf *b, size_t size) {
    (void)size;
    static const uint8_t bytes[] = {0x0a, 0x02, 0xff, 0xfe, 0x12, 0x01, 'x'};
    body_alloc(b, sizeof bytes);
    memcpy(b->data, bytes, sizeof bytes);
}

/* A LoginRequest whose username's length runs past the end. */
static void pb_cut_login(body_buf *b, size_t size) {
    (void)size;
    static const uint8_t bytes[] = {0x0a, 0x40, 'a', 'd', 'm'};
    body_alloc(b, sizeof bytes);
    memcpy(b->data, bytes, sizeof bytes);
}

#include "tests/api/attack_catalogue.h"

#define N_ROWS (sizeof catalogue / sizeof *catalogue)

/* ---- a raw HTTP exchange ---- */

/* Connects to s. Returns the socket or -1. */
static int raw_connect(const th_server *s) {
    char host[64];
    util_strlcpy(host, s->addr, sizeof host);
    char *colon = strrchr(host, ':');
    if (!colon) return -1;
    *colon = '\0';
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(colon + 1))};
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || inet_pton(AF_INET, host, &sa.sin_addr) != 1 ||
        connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        if (fd >= 0) close(fd);
        return -1;
    }
    return fd;
}

/* 1 when the server has sent something (its answer) or closed. */
static int answered(int fd) {
    struct pollfd p = {fd, POLLIN, 0};
    return poll(&p, 1, 0) > 0;
}

/* Sends all of data unless the server answers first. Returns 0, or -1 when it answered or the
 * connection failed (stop sending). */
static int send_all(int fd, const void *data, size_t len) {
    const uint8_t *p = data;
    while (len > 0) {
        if (answered(fd)) return -1;
        ssize_t n = send(fd, p, len > 65536 ? 65536 : len, MSG_NOSIGNAL);
        if (n <= 0) return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Reads the answer (until the connection closes or its Content-Length is in, 30 s at most) into
 * out. Returns its status, 0 when none came. */
static long read_answer(int fd, th_response *out) {
    size_t cap = 65536, len = 0;
    char *buf = malloc(cap + 1);
    assert_non_null(buf);
    for (int waited = 0; waited < 30000;) {
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, 100) <= 0) {
            waited += 100;
            continue;
        }
        ssize_t n = recv(fd, buf + len, cap - len, 0);
        if (n <= 0) break;
        len += (size_t)n;
        buf[len] = '\0';
        char *end = strstr(buf, "\r\n\r\n");
        char *cl = end ? strcasestr(buf, "\r\nContent-Length:") : NULL;
        if (end && cl && cl < end && len >= (size_t)(end + 4 - buf) + strtoul(cl + 17, NULL, 10))
            break;
        if (len == cap) break;
    }
    buf[len] = '\0';
    memset(out, 0, sizeof *out);
    char *end = strstr(buf, "\r\n\r\n");
    if (strncmp(buf, "HTTP/1.", 7) == 0 && end) {
        out->status = strtol(buf + 9, NULL, 10);
        char *ct = strcasestr(buf, "\r\nContent-Type:");
        if (ct && ct < end)
            snprintf(out->content_type, sizeof out->content_type, "%.*s",
                     (int)strcspn(ct + 15 + strspn(ct + 15, " "), "\r\n"),
                     ct + 15 + strspn(ct + 15, " "));
        out->len = len - (size_t)(end + 4 - buf);
        out->body = malloc(out->len + 1);
        assert_non_null(out->body);
        memcpy(out->body, end + 4, out->len);
        out->body[out->len] = '\0';
    } else {
        out->body = calloc(1, 1);
    }
    free(buf);
    return out->status;
}

/* One request over its own connection: head lines, then body as `send` says. */
static long raw_request(const th_server *s, const char *method, const char *path, const char *token,
                        const char *ctype, const char *const *headers, const body_buf *body,
                        int send, long long declare, th_response *out) {
    char head[4096];
    int n = snprintf(head, sizeof head,
                     "%s %s HTTP/1.1\r\nHost: %s\r\nAccept: application/json\r\n"
                     "Connection: close\r\n",
                     method, path, s->addr);
    if (token)
        n += snprintf(head + n, sizeof head - (size_t)n, "Authorization: Bearer %s\r\n", token);
    if (body || send == SEND_DECLARE)
        n += snprintf(head + n, sizeof head - (size_t)n, "Content-Type: %s\r\n",
                      ctype ? ctype : "application/json");
    for (int i = 0; headers && i < 3 && headers[i]; i++)
        n += snprintf(head + n, sizeof head - (size_t)n, "%s\r\n", headers[i]);
    if (send == SEND_CHUNKED)
        n += snprintf(head + n, sizeof head - (size_t)n, "Transfer-Encoding: chunked\r\n");
    else if (send == SEND_DECLARE)
        n += snprintf(head + n, sizeof head - (size_t)n, "Content-Length: %lld\r\n", declare);
    else if (body)
        n += snprintf(head + n, sizeof head - (size_t)n, "Content-Length: %zu\r\n", body->len);
    n += snprintf(head + n, sizeof head - (size_t)n, "\r\n");
    int fd = raw_connect(s);
    if (fd < 0) return 0;
    int ok = send_all(fd, head, (size_t)n) == 0;
    if (ok && body && send == SEND_CHUNKED) {
        for (size_t at = 0; ok && at < body->len; at += 65536) {
            size_t piece = body->len - at < 65536 ? body->len - at : 65536;
            char size_line[32];
            int k = snprintf(size_line, sizeof size_line, "%zx\r\n", piece);
            ok = send_all(fd, size_line, (size_t)k) == 0 &&
                 send_all(fd, body->data + at, piece) == 0 && send_all(fd, "\r\n", 2) == 0;
        }
        if (ok) send_all(fd, "0\r\n\r\n", 5);
    } else if (ok && body) {
        send_all(fd, body->data, body->len);
    }
    if (send == SEND_DECLARE) shutdown(fd, SHUT_WR);
    long st = read_answer(fd, out);
    close(fd);
    return st;
}

/* ---- the server's memory ---- */

/* The server's VmRSS or VmHWM from /proc, in KiB (-1 when unreadable). */
static long rss_kib(pid_t pid, const char *key) {
    char path[64], line[256];
    long v = -1;
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    size_t klen = strlen(key);
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, key, klen) == 0 && line[klen] == ':')
            v = strtol(line + klen + 1, NULL, 10);
    if (f) fclose(f);
    return v;
}

/* Starts the server's peak (VmHWM) afresh from its RSS now. */
static void peak_reset(pid_t pid) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/clear_refs", (int)pid);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("5", f);
    fclose(f);
}

static const char *token_of(int as) {
    return as == AS_SURVEYOR ? surveyor.token : as == AS_ADMIN ? th_admin_token(&srv) : NULL;
}

static void assert_alive(void) {
    th_response r;
    th_request rq = {.method = "GET", .path = "/healthz", .accept = TH_JSON};
    long st = th_http(&srv, &rq, &r);
    th_response_free(&r);
    assert_int_equal(st, 200);
}

/* ---- the catalogue ---- */

static void run_row(void **state) {
    const attack *row = *state;
    body_buf body = {0};
    if (row->body) row->body(&body, row->size);
    char path[256];
    util_strlcpy(path, row->path, sizeof path);
    th_sum db_before = th_db_checksum(srv.data, TH_ALL);
    th_sum files_before = th_store_checksum(srv.data, 1);
    long rss_before = rss_kib(srv.pid, "VmRSS");
    peak_reset(srv.pid);

    th_response resp;
    th_error e = {{0}, {0}};
    long st = raw_request(&srv, row->method, path, token_of(row->as), row->ctype, row->headers,
                          row->body ? &body : NULL, row->send, row->declare, &resp);
    if (st >= 300) th_error_decode(&resp, &e);
    long peak = rss_kib(srv.pid, "VmHWM");
    print_message("  %s %s (%zu bytes): %ld %s; RSS %ld -> peak %ld KiB\n", row->method, path,
                  body.len, st, e.code, rss_before, peak);
    if (st != row->status || strcmp(e.code, row->code) != 0)
        print_message("  expected %ld %s, got %ld %s: %.*s\n", row->status, row->code, st, e.code,
                      (int)(resp.len < 300 ? resp.len : 300), (const char *)resp.body);
    assert_alive();
    th_sum db_after = th_db_checksum(srv.data, TH_ALL);
    th_sum files_after = th_store_checksum(srv.data, 1);

    assert_int_equal(st, row->status);
    assert_string_equal(e.code, row->code);
    if (row->status) assert_true(e.message[0] != '\0');
    assert_true(db_before.hex[0] != '!' && files_before.hex[0] != '!');
    assert_string_equal(db_before.hex, db_after.hex);
    assert_string_equal(files_before.hex, files_after.hex);
    if (row->rss_mb) assert_true(peak - rss_before < row->rss_mb * 1024);
    th_response_free(&resp);
    free(body.data);
}

/* ---- hostile 16 MiB bodies, 8 at a time ---- */

/* What the flood sends: rows of the catalogue by name, cycled through by the senders. */
static const char *const flood_rows[] = {
    "sync_16_mib_of_empty_changes_is_400_decoded_too_large",
    "public_report_chunked_16_mib_is_413_while_reading",
    "sync_16_mib_of_unknown_fields_is_400_too_many_unknown_fields",
    "public_report_chunked_16_mib_of_empty_photos_is_413",
    "sync_16_mib_json_array_is_400_too_many_values",
    "sync_one_16_mib_unknown_field_decodes_within_budget_then_400_invalid_batch",
    "sync_2_mib_of_empty_json_objects_is_400_decoded_too_large",
    "public_report_declaring_16_mib_is_413_unread",
};
enum { FLOOD_SENDERS = 8, FLOOD_ROUNDS = 3 };
/* What may stay resident after the flood: two 16 MiB bodies' worth. */
static const long FLOOD_AFTER_BYTES = 2L * 16 * 1024 * 1024;

typedef struct flood_sender {
    pthread_t thread;
    int index;
    const attack *row;
    body_buf body;
    long status[FLOOD_ROUNDS];
    char code[FLOOD_ROUNDS][64];
} flood_sender;

static const attack *row_named(const char *name) {
    for (size_t i = 0; i < N_ROWS; i++)
        if (strcmp(catalogue[i].name, name) == 0) return &catalogue[i];
    return NULL;
}

static void *flood_send(void *arg) {
    flood_sender *f = arg;
    for (int round = 0; round < FLOOD_ROUNDS; round++) {
        th_response resp;
        th_error e = {{0}, {0}};
        f->status[round] = raw_request(
            &srv, f->row->method, f->row->path, token_of(f->row->as), f->row->ctype,
            f->row->headers, f->row->body ? &f->body : NULL, f->row->send, f->row->declare, &resp);
        if (f->status[round] >= 300) th_error_decode(&resp, &e);
        util_strlcpy(f->code[round], e.code, sizeof f->code[round]);
        th_response_free(&resp);
    }
    return NULL;
}

/* Samples the server's RSS until *stop, keeping the largest. */
typedef struct sampler {
    pthread_t thread;
    volatile int stop;
    long peak;
} sampler;

static void *sample(void *arg) {
    sampler *sm = arg;
    while (!sm->stop) {
        long v = rss_kib(srv.pid, "VmRSS");
        if (v > sm->peak) sm->peak = v;
        struct timespec ts = {0, 2 * 1000000L};
        nanosleep(&ts, NULL);
    }
    return NULL;
}

static void hostile_16_mib_bodies_8_at_a_time_raise_peak_rss_under_100_mb(void **state) {
    (void)state;
    static flood_sender senders[FLOOD_SENDERS];
    th_sum db_before = th_db_checksum(srv.data, TH_ALL);
    for (int i = 0; i < FLOOD_SENDERS; i++) {
        senders[i].index = i;
        senders[i].row = row_named(flood_rows[i % (sizeof flood_rows / sizeof *flood_rows)]);
        assert_non_null(senders[i].row);
        if (senders[i].row->body) senders[i].row->body(&senders[i].body, senders[i].row->size);
    }
    /* A first flood, not measured, warms the server: the database handles that many requests at
     * once take are opened on first use and keep their page caches (server/dbpool.h), and the
     * heaps of the threads that served them stay; the second flood is the one measured. */
    for (int i = 0; i < FLOOD_SENDERS; i++)
        assert_int_equal(pthread_create(&senders[i].thread, NULL, flood_send, &senders[i]), 0);
    for (int i = 0; i < FLOOD_SENDERS; i++)
        pthread_join(senders[i].thread, NULL);
    long before = rss_kib(srv.pid, "VmRSS");
    peak_reset(srv.pid);
    sampler sm = {.peak = before};
    assert_int_equal(pthread_create(&sm.thread, NULL, sample, &sm), 0);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < FLOOD_SENDERS; i++)
        assert_int_equal(pthread_create(&senders[i].thread, NULL, flood_send, &senders[i]), 0);
    for (int i = 0; i < FLOOD_SENDERS; i++)
        pthread_join(senders[i].thread, NULL);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    long peak = rss_kib(srv.pid, "VmHWM");
    /* Memory goes back: after the last answer the server settles within a few seconds to less
     * than two bodies' worth above where it started (the defect this guards against kept 0.35 to
     * 1.9 GB per body; what stays is allocator and sanitizer bookkeeping, 6 to 16 MB measured,
     * so the bound is not a coin toss). */
    long after = 0;
    for (int i = 0; i < 50; i++) {
        after = rss_kib(srv.pid, "VmRSS");
        if ((after - before) * 1024 < FLOOD_AFTER_BYTES) break;
        struct timespec ts = {0, 100 * 1000000L};
        nanosleep(&ts, NULL);
    }
    sm.stop = 1;
    pthread_join(sm.thread, NULL);
    int refused = 0, busy = 0;
    for (int i = 0; i < FLOOD_SENDERS; i++)
        for (int round = 0; round < FLOOD_ROUNDS; round++) {
            const flood_sender *f = &senders[i];
            if (f->status[round] == 503 && strcmp(f->code[round], "body_memory_busy") == 0)
                busy++;
            else if (f->status[round] == f->row->status &&
                     strcmp(f->code[round], f->row->code) == 0)
                refused++;
            else
                print_message("  %s: got %ld %s\n", f->row->name, f->status[round], f->code[round]);
        }
    print_message("  %d hostile bodies (%d at a time) in %.1f s: %d refused as their row says, "
                  "%d busy (503); server RSS %ld KiB before, peak %ld KiB (VmHWM; sampled %ld), "
                  "%ld KiB after: peak rise %.1f MB, after %+.1f MB\n",
                  FLOOD_SENDERS * FLOOD_ROUNDS, FLOOD_SENDERS,
                  (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9,
                  refused, busy, before, peak, sm.peak, after, (double)(peak - before) * 1024 / 1e6,
                  (double)(after - before) * 1024 / 1e6);
    for (int i = 0; i < FLOOD_SENDERS; i++)
        free(senders[i].body.data);
    assert_alive();
    th_sum db_after = th_db_checksum(srv.data, TH_ALL);
    assert_string_equal(db_before.hex, db_after.hex);
    assert_int_equal(refused + busy, FLOOD_SENDERS * FLOOD_ROUNDS);
    assert_true((peak - before) * 1024 < 100 * 1000 * 1000);
    assert_true((after - before) * 1024 < FLOOD_AFTER_BYTES);
}

/* ---- the budget's wait ---- */

/* Holds a body of `declared` bytes open on fd after sending `sent` of them. */
static int hold_body(const th_server *s, const char *token, size_t declared, size_t sent) {
    int fd = raw_connect(s);
    if (fd < 0) return -1;
    char head[512];
    int n = snprintf(head, sizeof head,
                     "POST /v1/sync HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\n"
                     "Content-Type: application/x-protobuf\r\nContent-Length: %zu\r\n\r\n",
                     s->addr, token, declared);
    body_buf b;
    pb_empty_changes(&b, sent);
    int rc = send_all(fd, head, (size_t)n) == 0 && send_all(fd, b.data, b.len) == 0 ? fd : -1;
    free(b.data);
    if (rc < 0) close(fd);
    return rc;
}

static void request_finding_no_body_memory_waits_then_is_503_body_memory_busy(void **state) {
    (void)state;
    th_server small;
    th_user u;
    const char *divs[] = {DIV, NULL};
    const char *args[] = {"--body-memory", "1048576", NULL};
    assert_int_equal(th_server_start(&small, args), 0);
    assert_int_equal(th_user_new(&small, "busy", TH_ROLE(SURVEYOR), divs, &u), 0);
    /* A body of 1 MiB, 600 KiB of it sent: its buffer has grown to the whole budget. */
    int fd = hold_body(&small, u.token, 1024 * 1024, 600 * 1024);
    assert_true(fd >= 0);
    struct timespec settle = {0, 300 * 1000000L};
    nanosleep(&settle, NULL);
    body_buf b;
    wide_array(&b, 100);
    th_response resp;
    th_error e = {{0}, {0}};
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    long st =
        raw_request(&small, "POST", "/v1/auth/login", NULL, NULL, NULL, &b, SEND_PLAIN, 0, &resp);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    th_error_decode(&resp, &e);
    char code[64];
    util_strlcpy(code, e.code, sizeof code);
    double waited = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    print_message("  a login while a 1 MiB body holds --body-memory 1 MiB: %ld %s after %.1f s\n",
                  st, code, waited);
    th_response_free(&resp);
    close(fd);
    /* Once the held body is gone, the same request goes through to the decoder (an array is
     * not a LoginRequest). */
    nanosleep(&settle, NULL);
    long again =
        raw_request(&small, "POST", "/v1/auth/login", NULL, NULL, NULL, &b, SEND_PLAIN, 0, &resp);
    th_error_decode(&resp, &e);
    print_message("  the same login once it is gone: %ld %s\n", again, e.code);
    th_response_free(&resp);
    free(b.data);
    assert_int_equal(th_server_stop(&small), 0);
    assert_int_equal(st, 503);
    assert_string_equal(code, "body_memory_busy");
    assert_true(waited >= 2.5);
    assert_int_equal(again, 400);
    assert_string_equal(e.code, "malformed_json");
}

/* ---- how deep legitimate work reaches into a worker's stack ---- */

/* The deepest worker stack use the server logged ("worker stack: deepest use N of M bytes, after
 * WHAT"), with its size and what reached it. */
static size_t deepest_logged(const th_server *s, size_t *size, char *what, size_t cap) {
    char path[320], line[512];
    size_t deepest = 0;
    snprintf(path, sizeof path, "%s/server.log", s->root);
    FILE *f = fopen(path, "r");
    while (f && fgets(line, sizeof line, f)) {
        size_t used, of;
        int at = 0;
        if (sscanf(line, "worker stack: deepest use %zu of %zu bytes, after %n", &used, &of, &at) >=
                2 &&
            at > 0 && used > deepest) {
            deepest = used;
            *size = of;
            snprintf(what, cap, "%.*s", (int)strcspn(line + at, "\n"), line + at);
        }
    }
    if (f) fclose(f);
    return deepest;
}

static void deepest_legitimate_work_fits_a_worker_stack_with_room(void **state) {
    (void)state;
    const char *tok = th_admin_token(&srv);
    th_device dev;
    assert_int_equal(th_device_new(&srv, surveyor.token, &dev), 0);
    /* A batch of 2000 creates with every nested message, in both encodings. */
    for (int enc = 0; enc < 2; enc++) {
        th_batch *b = th_batch_new(&dev);
        assert_non_null(b);
        for (int i = 0; i < 2000; i++) {
            double lat, lon;
            th_spot(&lat, &lon);
            Outfall__V1__Outfall *o = th_outfall_create(b, "qinhe", DIV, lat, lon);
            Outfall__V1__ResponsibleParty *party = th_outfall_party(b, o);
            party->name = th_batch_str(b, "某化工有限公司");
        }
        Outfall__V1__SyncResponse *resp =
            th_sync_ok(&srv, surveyor.token, b, enc ? TH_JSON : TH_PB);
        assert_non_null(resp);
        outfall__v1__sync_response__free_unpacked(resp, NULL);
        th_batch_free(b);
    }
    static const char *const reads[] = {
        "/v1/exports/outfalls.geojson",
        "/v1/exports/outfalls.csv",
        "/v1/review/queue?limit=500",
        "/v1/changes?since=0&limit=1000",
        "/v1/outfalls?limit=1000",
        "/v1/progress",
        "/v1/reports/annual?year=2025&division=410800",
        "/public/outfalls",
    };
    for (size_t i = 0; i < sizeof reads / sizeof *reads; i++) {
        th_response r;
        th_request rq = {.method = "GET", .path = reads[i], .accept = TH_JSON, .token = tok};
        long st = th_http(&srv, &rq, &r);
        print_message("  GET %s: %ld, %zu bytes\n", reads[i], st, r.len);
        th_response_free(&r);
    }
    /* Photos: EXIF read on upload (libexif), then read back. */
    static const char *const photos[] = {"qinhe-outfall-a-1.jpg", "large-12mp.jpg", "no-gps.jpg"};
    for (size_t i = 0; i < sizeof photos / sizeof *photos; i++) {
        th_file f;
        char hash[65], digest[65];
        if (th_photo_variant(photos[i], &f, hash) < 0) continue;
        long put = th_photo_put(&srv, surveyor.token, hash, f.data, f.len, NULL);
        th_photo_digest(&srv, surveyor.token, hash, digest);
        print_message("  PUT /v1/photos/{%s}: %ld\n", photos[i], put);
        th_file_free(&f);
    }
    body_buf zones;
    wide_positions(&zones, 256 * 1024);
    th_response r;
    long st = raw_request(&srv, "POST", "/v1/zones", tok, GEOJSON, NULL, &zones, SEND_PLAIN, 0, &r);
    print_message("  POST /v1/zones (%zu bytes of GeoJSON): %ld\n", zones.len, st);
    th_response_free(&r);
    free(zones.data);

    size_t size = 0;
    char what[128] = "";
    size_t deepest = deepest_logged(&srv, &size, what, sizeof what);
    print_message("  deepest worker stack use: %zu of %zu bytes (%.0f %%), after %s\n", deepest,
                  size, size ? 100.0 * (double)deepest / (double)size : 0.0, what);
    assert_int_equal(size, WORKERSTACK_BYTES);
    assert_true(deepest > 0);
    assert_true(deepest < WORKERSTACK_BYTES / 2);
}

static int group_setup(void **state) {
    (void)state;
    /* Freed memory must be seen going back (see the top of the file). */
    char asan[512];
    const char *old = getenv("ASAN_OPTIONS");
    snprintf(asan, sizeof asan, "%s%squarantine_size_mb=4", old ? old : "", old && *old ? ":" : "");
    setenv("ASAN_OPTIONS", asan, 1);
    const char *divs[] = {DIV, NULL};
    /* --stack-report 1: the workers paint their stacks, so the log names the deepest use */
    const char *const args[] = {"--stack-report", "1", NULL};
    if (th_server_start(&srv, args) != 0) return -1;
    if (!th_admin_token(&srv)) return -1;
    return th_user_new(&srv, "attacked", TH_ROLE(SURVEYOR), divs, &surveyor);
}

static int group_teardown(void **state) {
    (void)state;
    return th_server_stop(&srv);
}

int main(void) {
    th_password_hash_minimum = 0; /* what a real argon2id hash costs is part of what is tested */
    struct CMUnitTest tests[N_ROWS + 3];
    for (size_t i = 0; i < N_ROWS; i++) {
        struct CMUnitTest t = cmocka_unit_test_prestate(run_row, (void *)&catalogue[i]);
        t.name = catalogue[i].name;
        tests[i] = t;
    }
    struct CMUnitTest more[] = {
        cmocka_unit_test(hostile_16_mib_bodies_8_at_a_time_raise_peak_rss_under_100_mb),
        cmocka_unit_test(request_finding_no_body_memory_waits_then_is_503_body_memory_busy),
        cmocka_unit_test(deepest_legitimate_work_fits_a_worker_stack_with_room),
    };
    memcpy(tests + N_ROWS, more, sizeof more);
    /* ATTACKS_ONLY=PATTERN runs the tests whose names match (cmocka's * and ?), e.g. to see each
     * row fail on its own against an older server (the first deep row kills it). */
    if (getenv("ATTACKS_ONLY")) cmocka_set_test_filter(getenv("ATTACKS_ONLY"));
    return cmocka_run_group_tests_name("attacks", tests, group_setup, group_teardown);
}
