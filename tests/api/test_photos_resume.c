/* Resuming a photo upload after the phone's link drops (tus), through the real server with raw
 * connections, so the test knows exactly what was sent and when: the server keeps what arrived,
 * HEAD tells it, a PATCH at the old offset is refused, the upload resumes to the end. And the
 * interleaving that made the first of these flaky, forced: a HEAD while a PATCH holds the upload
 * waits for it and never reports an offset from the middle of it. */
#include <arpa/inet.h>
#include <netinet/in.h>
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

#include "common/util.h"
#include "tests/lib/harness.h"
#include "tests/api/photos_calls.h"

static th_user s882; /* a surveyor of 410882 */

/* A connection to the server, or -1. */
static int raw_open(void) {
    struct sockaddr_in a = {.sin_family = AF_INET};
    const char *colon = strrchr(srv.addr, ':');
    int fd = colon ? socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0) : -1;
    a.sin_port = htons((uint16_t)(colon ? atoi(colon + 1) : 0));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
        close(fd);
        fd = -1;
    }
    return fd;
}

static void raw_send(int fd, const void *data, size_t len) {
    const char *p = data;
    while (len > 0) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        assert_true(n > 0);
        p += n;
        len -= (size_t)n;
    }
}

/* Reads one answer's status line and headers (up to the blank line) into buf; its status. */
static long raw_head(int fd, char *buf, size_t cap) {
    size_t used = 0;
    buf[0] = '\0';
    while (used + 1 < cap && !strstr(buf, "\r\n\r\n")) {
        ssize_t n = recv(fd, buf + used, 1, 0); /* byte by byte: nothing past the head is eaten */
        if (n <= 0) break;
        buf[++used] = '\0';
    }
    return strncmp(buf, "HTTP/1.1 ", 9) == 0 ? atol(buf + 9) : 0;
}

/* Starts a tus PATCH of hash at offset declaring len bytes, as a phone does that asks for
 * 100 Continue; returns the open connection once the server said go on. The server takes the
 * upload's lock before it says so: from then on, anything asked about the upload waits for this
 * request to end. */
static int patch_started(const char *hash, int64_t offset, size_t len) {
    char head[1024], answer[512];
    int fd = raw_open();
    assert_true(fd >= 0);
    int n = snprintf(head, sizeof head,
                     "PATCH %s HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\n" TUS
                     "\r\n" OCTETS "\r\nUpload-Offset: %lld\r\nContent-Length: %zu\r\n"
                     "Expect: 100-continue\r\n\r\n",
                     at(hash, ""), srv.addr, s882.token, (long long)offset, len);
    raw_send(fd, head, (size_t)n);
    assert_int_equal(raw_head(fd, answer, sizeof answer), 100);
    return fd;
}

/* The upload's offset by a tus HEAD (the status must be 200). */
static long head_offset(const char *hash) {
    th_xresult x;
    char value[48];
    assert_int_equal(xfer("HEAD", at(hash, ""), s882.token, HDRS(TUS), NULL, 0, &x), 200);
    th_xheader(&x, "Upload-Offset", value, sizeof value);
    th_response_free(&x.r);
    return atol(value);
}

/* The link drops after 150000 of the file's bytes: the server keeps them and HEAD says so, a
 * PATCH at the old offset is refused, and the upload resumes from HEAD's offset to the end. The
 * phone waits for 100 Continue before sending a byte, so its HEAD cannot overtake the cut-off
 * PATCH: the server takes the upload's lock before it answers 100, and HEAD waits for the lock.
 * (A client that sends the body at once and drops the link may ask HEAD before the server has
 * even read the cut-off request; HEAD then tells the offset before it, which tus allows: the late
 * PATCH or the resumed one is then refused with 409 and the client asks again.) */
static void cut_off_upload_resumes_from_head_offset(void **state) {
    (void)state;
    th_file f;
    char hash[65], length[48], offset[48], value[128];
    th_xresult x;
    assert_int_equal(th_photo_variant("qinhe-outfall-a-2.jpg", &f, hash), 0);
    snprintf(length, sizeof length, "Upload-Length: %zu", f.len);
    assert_int_equal(xfer("POST", at(hash, ""), s882.token, HDRS(TUS, length), NULL, 0, &x), 201);
    th_xheader(&x, "Location", value, sizeof value);
    assert_string_equal(value, at(hash, ""));
    th_response_free(&x.r);
    int fd = patch_started(hash, 0, f.len);
    raw_send(fd, f.data, 150000);
    close(fd); /* the link drops midway */
    long have = head_offset(hash);
    print_message("cut off after 150000 bytes sent; the server kept %ld\n", have);
    assert_int_equal(have, 150000);
    assert_int_equal(xfer("HEAD", at(hash, ""), s882.token, HDRS(TUS), NULL, 0, &x), 200);
    th_xheader(&x, "Upload-Length", value, sizeof value);
    assert_int_equal(atol(value), (long)f.len);
    th_response_free(&x.r);
    assert_int_equal(xfer("PATCH", at(hash, ""), s882.token, HDRS(TUS, "Upload-Offset: 0", OCTETS),
                          f.data, 100, &x),
                     409);
    assert_string_equal(code_of(&x), "offset_mismatch");
    th_response_free(&x.r);
    snprintf(offset, sizeof offset, "Upload-Offset: %ld", have);
    assert_int_equal(xfer("PATCH", at(hash, ""), s882.token, HDRS(TUS, offset, OCTETS),
                          f.data + have, f.len - (size_t)have, &x),
                     204);
    th_xheader(&x, "Upload-Offset", value, sizeof value);
    assert_int_equal(atol(value), (long)f.len);
    th_response_free(&x.r);
    char got[65];
    th_photo_digest(&srv, s882.token, hash, got);
    assert_string_equal(got, hash);
    th_file_free(&f);
}

/* The interleaving that made the test above flaky, forced: a HEAD arrives while a PATCH holds
 * the upload, halfway through its body. It never reports a half-written offset: it waits for the
 * PATCH (here, which never ends by itself, until the lock wait runs out: 423 upload_locked),
 * and once the link drops HEAD tells exactly what came. */
static void head_during_a_patch_waits_for_it(void **state) {
    (void)state;
    th_file f;
    char hash[65], length[48];
    th_xresult x;
    assert_int_equal(th_photo_variant("qinhe-outfall-a-2.jpg", &f, hash), 0);
    snprintf(length, sizeof length, "Upload-Length: %zu", f.len);
    assert_int_equal(xfer("POST", at(hash, ""), s882.token, HDRS(TUS, length), NULL, 0, &x), 201);
    th_response_free(&x.r);
    int fd = patch_started(hash, 0, f.len);
    raw_send(fd, f.data, 70000);
    assert_int_equal(xfer("HEAD", at(hash, ""), s882.token, HDRS(TUS), NULL, 0, &x), 423);
    th_response_free(&x.r); /* (a HEAD answer has no body to carry the code) */
    raw_send(fd, f.data + 70000, 30000);
    close(fd);
    assert_int_equal(head_offset(hash), 100000);
    assert_int_equal(xfer("PATCH", at(hash, ""), s882.token,
                          HDRS(TUS, "Upload-Offset: 100000", OCTETS), f.data + 100000,
                          f.len - 100000, &x),
                     204);
    th_response_free(&x.r);
    char got[65];
    th_photo_digest(&srv, s882.token, hash, got);
    assert_string_equal(got, hash);
    th_file_free(&f);
}

static int setup(void **state) {
    (void)state;
    const char *const in882[] = {"410882", NULL};
    if (th_server_start(&srv, NULL) < 0 ||
        th_user_new(&srv, "s882", TH_ROLE(SURVEYOR), in882, &s882) < 0)
        return -1;
    return 0;
}

static int teardown(void **state) {
    (void)state;
    return th_server_stop(&srv);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(cut_off_upload_resumes_from_head_offset),
        cmocka_unit_test(head_during_a_patch_waits_for_it),
    };
    return cmocka_run_group_tests_name("api/photos_resume", tests, setup, teardown);
}
