/* What the two photo test files (test_photos.c, test_photos_resume.c) share: the server they
 * start, the tus header lines, and short forms of the harness's transfer and error decoding.
 * Include after <cmocka.h> and tests/lib/harness.h, once per test program. */
#ifndef TESTS_API_PHOTOS_CALLS_H
#define TESTS_API_PHOTOS_CALLS_H

#define TUS "Tus-Resumable: 1.0.0"
#define OCTETS "Content-Type: application/offset+octet-stream"
#define HDRS(...) ((const char *const[]){__VA_ARGS__, NULL})

static th_server srv;

static const char *at(const char *hash, const char *suffix) {
    return th_photo_path(hash, suffix);
}

static long xfer(const char *method, const char *path, const char *token,
                 const char *const *headers, const void *body, size_t len, th_xresult *out) {
    th_xfer x = {.method = method,
                 .path = path,
                 .token = token,
                 .headers = headers,
                 .body = body,
                 .len = len};
    return th_xfer_run(&srv, &x, out);
}

/* The answer's Error code (for a non-2xx). */
static const char *code_of(th_xresult *out) {
    static th_error e;
    th_error_decode(&out->r, &e);
    return e.code;
}

#endif
