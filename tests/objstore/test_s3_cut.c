/* s3_get against a store that cuts its answers (a loopback server of this test's own, which
 * answers every GET of one object and drops the connection after as many bytes as the test says):
 * the transfer is taken up from the first byte it did not bring, by range and for the same
 * object, until it is whole; the sink sees every byte once and in order. A store that answers the
 * resumed request with the whole object again, or that keeps cutting, is a failure with the bytes
 * already given counted, never bytes given twice. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "objstore/s3.h"

#define OBJECT_BYTES 200000
#define MAX_REQUESTS 8

/* The store: what it answers, and what it was asked. */
typedef struct cutting_store {
    int fd;
    int port;
    pthread_t thread;
    unsigned char body[OBJECT_BYTES];
    long cuts[MAX_REQUESTS]; /* body bytes sent before the connection drops; -1: all */
    int ignore_range;        /* answer every GET with 200 and the whole object */
    int changed;             /* answer a GET with If-Match 412: the object is another now */
    int requests;
    char ranges[MAX_REQUESTS][64];   /* each request's Range header value, or "" */
    char if_match[MAX_REQUESTS][64]; /* and its If-Match */
} cutting_store;

/* The value of header name in head (a request's headers), into out[cap]; "" when absent. */
static void header_value(const char *head, const char *name, char *out, size_t cap) {
    out[0] = '\0';
    const char *at = strcasestr(head, name);
    if (!at) return;
    at += strlen(name);
    while (*at == ' ')
        at++;
    size_t n = strcspn(at, "\r\n");
    snprintf(out, cap, "%.*s", (int)(n < cap ? n : cap - 1), at);
}

static void send_all(int fd, const void *buf, size_t n) {
    const char *p = buf;
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w <= 0) return;
        p += w;
        n -= (size_t)w;
    }
}

static void *store_main(void *arg) {
    cutting_store *st = arg;
    for (;;) {
        int c = accept(st->fd, NULL, NULL);
        if (c < 0) return NULL;
        char head[8192] = "";
        size_t len = 0;
        while (len < sizeof head - 1 && !strstr(head, "\r\n\r\n")) {
            ssize_t r = recv(c, head + len, sizeof head - 1 - len, 0);
            if (r <= 0) break;
            len += (size_t)r;
            head[len] = '\0';
        }
        int i = st->requests < MAX_REQUESTS ? st->requests++ : MAX_REQUESTS - 1;
        header_value(head, "\nRange:", st->ranges[i], sizeof st->ranges[i]);
        header_value(head, "\nIf-Match:", st->if_match[i], sizeof st->if_match[i]);
        if (st->changed && st->if_match[i][0]) {
            static const char gone[] =
                "HTTP/1.1 412 Precondition Failed\r\nContent-Type: application/xml\r\n"
                "Content-Length: 97\r\nConnection: close\r\n\r\n<Error><Code>Precondition"
                "Failed</Code><Message>At least one precondition failed</Message></Error>";
            send_all(c, gone, sizeof gone - 1);
            close(c);
            continue;
        }
        long from = 0, to = OBJECT_BYTES - 1;
        int ranged = !st->ignore_range && st->ranges[i][0] &&
                     sscanf(st->ranges[i], "bytes=%ld-%ld", &from, &to) >= 1;
        if (to >= OBJECT_BYTES) to = OBJECT_BYTES - 1;
        char reply[256];
        int n = ranged ? snprintf(reply, sizeof reply,
                                  "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes %ld-%ld/%d"
                                  "\r\nContent-Length: %ld\r\nETag: \"obj-1\"\r\n"
                                  "Connection: close\r\n\r\n",
                                  from, to, OBJECT_BYTES, to - from + 1)
                       : snprintf(reply, sizeof reply,
                                  "HTTP/1.1 200 OK\r\nContent-Length: %d\r\nETag: \"obj-1\"\r\n"
                                  "Connection: close\r\n\r\n",
                                  OBJECT_BYTES);
        if (!ranged) from = 0, to = OBJECT_BYTES - 1;
        send_all(c, reply, (size_t)n);
        long body = to - from + 1;
        if (st->cuts[i] >= 0 && st->cuts[i] < body) body = st->cuts[i];
        send_all(c, st->body + from, (size_t)body);
        close(c);
    }
}

static void store_start(cutting_store *st) {
    for (int i = 0; i < OBJECT_BYTES; i++)
        st->body[i] = (unsigned char)((i * 2654435761u) >> 13);
    st->fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(st->fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(st->fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(st->fd, 8), 0);
    socklen_t alen = sizeof a;
    assert_int_equal(getsockname(st->fd, (struct sockaddr *)&a, &alen), 0);
    st->port = ntohs(a.sin_port);
    assert_int_equal(pthread_create(&st->thread, NULL, store_main, st), 0);
}

static void store_stop(cutting_store *st) {
    shutdown(st->fd, SHUT_RDWR);
    close(st->fd);
    pthread_join(st->thread, NULL);
}

static s3_client *client_of(const cutting_store *st) {
    char endpoint[64];
    snprintf(endpoint, sizeof endpoint, "http://127.0.0.1:%d", st->port);
    s3_config cfg = {.endpoint = endpoint,
                     .region = "cn-north-1",
                     .bucket = "photos",
                     .access_key = "AKIDEXAMPLE",
                     .secret_key = "secret",
                     .connect_timeout_ms = 1000,
                     .timeout_ms = 2000,
                     .stall_timeout_ms = 2000};
    s3_client *c = NULL;
    s3_error err;
    assert_int_equal(s3_open(&cfg, &c, &err), 0);
    return c;
}

/* The bytes a GET gave its sink, in order. */
typedef struct received {
    unsigned char buf[OBJECT_BYTES * 2];
    size_t len;
} received;

static int receive(void *ctx, const void *buf, size_t n) {
    received *r = ctx;
    if (r->len + n > sizeof r->buf) return 1;
    memcpy(r->buf + r->len, buf, n);
    r->len += n;
    return 0;
}

/* A test's store (started, answering whole until the test sets its cuts), a client of it, and
 * what the sink got. */
typedef struct fixture {
    cutting_store st;
    s3_client *c;
    received got;
    int64_t sent;
    s3_error err;
} fixture;

static int setup(void **state) {
    fixture *f = calloc(1, sizeof *f);
    if (!f) return -1;
    for (int i = 0; i < MAX_REQUESTS; i++)
        f->st.cuts[i] = -1;
    store_start(&f->st);
    f->c = client_of(&f->st);
    f->sent = -1;
    *state = f;
    return 0;
}

static int teardown(void **state) {
    fixture *f = *state;
    s3_close(f->c);
    store_stop(&f->st);
    free(f);
    return 0;
}

/* Fails unless the sink got exactly the object's bytes [from, from + n), and *sent says n. */
static void assert_got(const fixture *f, size_t from, size_t n) {
    assert_int_equal(f->sent, (int64_t)n);
    assert_int_equal(f->got.len, n);
    assert_memory_equal(f->got.buf, f->st.body + from, n);
}

static void a_cut_transfer_goes_on_from_the_byte_it_reached(void **state) {
    fixture *f = *state;
    f->st.cuts[0] = 70000, f->st.cuts[1] = 50000;
    assert_int_equal(s3_get(f->c, "a/b/obj", 0, -1, receive, &f->got, &f->sent, &f->err), 0);
    assert_got(f, 0, OBJECT_BYTES);
    assert_int_equal(f->st.requests, 3);
    assert_string_equal(f->st.ranges[0], "");
    assert_string_equal(f->st.ranges[1], "bytes=70000-");
    assert_string_equal(f->st.ranges[2], "bytes=120000-");
    assert_string_equal(f->st.if_match[0], "");
    assert_string_equal(f->st.if_match[1], "\"obj-1\"");
    assert_string_equal(f->st.if_match[2], "\"obj-1\"");
}

static void a_cut_range_keeps_to_its_end(void **state) {
    fixture *f = *state;
    f->st.cuts[0] = 1000;
    assert_int_equal(s3_get(f->c, "a/b/obj", 5000, 20000, receive, &f->got, &f->sent, &f->err), 0);
    assert_got(f, 5000, 20000);
    assert_int_equal(f->st.requests, 2);
    assert_string_equal(f->st.ranges[0], "bytes=5000-24999");
    assert_string_equal(f->st.ranges[1], "bytes=6000-24999");
}

/* A store that answers the resumed request with the whole object: its bytes would come again. */
static void a_whole_object_again_is_refused_not_given_twice(void **state) {
    fixture *f = *state;
    f->st.cuts[0] = 30000;
    f->st.ignore_range = 1;
    assert_int_equal(s3_get(f->c, "a/b/obj", 0, -1, receive, &f->got, &f->sent, &f->err), S3_BAD);
    assert_string_equal(f->err.code, "range_ignored");
    assert_got(f, 0, 30000);
    assert_int_equal(f->st.requests, 2);
}

/* The object replaced between the cut and the rest: the store's 412 is the answer, and only the
 * first object's bytes were given. */
static void an_object_replaced_meanwhile_is_its_stores_refusal(void **state) {
    fixture *f = *state;
    f->st.cuts[0] = 30000;
    f->st.changed = 1;
    assert_int_equal(s3_get(f->c, "a/b/obj", 0, -1, receive, &f->got, &f->sent, &f->err), S3_BAD);
    assert_string_equal(f->err.code, "PreconditionFailed");
    assert_got(f, 0, 30000);
    assert_int_equal(f->st.requests, 2);
}

/* A store that cuts every answer: given up after three takes, the bytes so far counted. */
static void a_store_that_keeps_cutting_fails_after_three_resumes(void **state) {
    fixture *f = *state;
    for (int i = 0; i < MAX_REQUESTS; i++)
        f->st.cuts[i] = 10000;
    assert_int_equal(s3_get(f->c, "a/b/obj", 0, -1, receive, &f->got, &f->sent, &f->err),
                     S3_UNAVAILABLE);
    assert_got(f, 0, 40000);
    assert_int_equal(f->st.requests, 4);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void) {
    const struct CMUnitTest tests[] = {
        T(a_cut_transfer_goes_on_from_the_byte_it_reached),
        T(a_cut_range_keeps_to_its_end),
        T(a_whole_object_again_is_refused_not_given_twice),
        T(an_object_replaced_meanwhile_is_its_stores_refusal),
        T(a_store_that_keeps_cutting_fails_after_three_resumes),
    };
    return cmocka_run_group_tests_name("objstore/s3_cut", tests, NULL, NULL);
}
