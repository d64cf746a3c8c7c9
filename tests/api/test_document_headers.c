/* The security headers of every answer a browser may render as a document (tests
 * server/http.c's http_send_head, through which every such answer goes). Every GET route of
 * server/routes.c is called, its {parameters} filled with real records (and every console file
 * for /web/{file}), three ways: without Accept, with a browser's Accept, and with ?format=html.
 * Whatever answers HTML, XHTML, XML or SVG must carry a Content-Security-Policy that loads
 * nothing by default and forbids framing (frame-ancestors 'none'), X-Content-Type-Options:
 * nosniff, X-Frame-Options: DENY and Referrer-Policy: no-referrer. And the routes known to
 * answer documents must have done so: the console (/, /web/{file}), the sign board's public page
 * (/public/outfalls/{code}, found and not found), the annual report (/v1/reports/annual, HTML by
 * default) and the sign board's QR code (/v1/outfalls/{id}/signboard, SVG by default). */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>

#include "common/util.h"
#include "tests/lib/harness.h"

#define DIV "410882" /* 沁阳市 */
#define BROWSER_ACCEPT                                                                             \
    "Accept: "                                                                                     \
    "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"

static th_server srv; /* --public-url, so sign boards answer */
static const char *admin;
static char outfall_id[37], outfall_code[64];

/* The media types a browser renders as a document. */
static const char *const document_types[] = {"text/html", "application/xhtml+xml", "image/svg+xml",
                                             "text/xml", "application/xml"};

static int is_document(const char *ctype) {
    size_t len = strcspn(ctype, "; ");
    for (size_t i = 0; len && i < sizeof document_types / sizeof document_types[0]; i++)
        if (strlen(document_types[i]) == len && strncasecmp(document_types[i], ctype, len) == 0)
            return 1;
    return 0;
}

/* GETs path as the admin with extra headers (Accept among them); the answer into x. */
static long get(const char *path, const char *const *headers, th_xresult *x) {
    th_xfer rq = {.method = "GET", .path = path, .token = admin, .headers = headers};
    return th_xfer_run(&srv, &rq, x);
}

/* Checks the security headers of a document answer; the failures go to stderr naming path.
 * Returns the number of headers missing or wrong. */
static int headers_missing(const char *path, const th_xresult *x) {
    char v[1024];
    int bad = 0;
    if (!th_xheader(x, "Content-Security-Policy", v, sizeof v) ||
        !strstr(v, "frame-ancestors 'none'") || !strstr(v, "default-src") ||
        strstr(v, "default-src *") || strstr(v, "'unsafe-eval'")) {
        print_error("%s (%s): Content-Security-Policy [%s]\n", path, x->r.content_type, v);
        bad++;
    }
    if (!th_xheader(x, "X-Content-Type-Options", v, sizeof v) || strcmp(v, "nosniff") != 0) {
        print_error("%s (%s): X-Content-Type-Options [%s]\n", path, x->r.content_type, v);
        bad++;
    }
    if (!th_xheader(x, "X-Frame-Options", v, sizeof v) || strcmp(v, "DENY") != 0) {
        print_error("%s (%s): X-Frame-Options [%s]\n", path, x->r.content_type, v);
        bad++;
    }
    if (!th_xheader(x, "Referrer-Policy", v, sizeof v) || strcmp(v, "no-referrer") != 0) {
        print_error("%s (%s): Referrer-Policy [%s]\n", path, x->r.content_type, v);
        bad++;
    }
    return bad;
}

/* What a route's {parameter} is filled with, and the query a route needs to answer at all. */
static const struct {
    const char *pattern, *query;
} queries[] = {
    {"/v1/reports/annual", "year=2024&division=410800"},
    {"/v1/zones/at", "lat=35.1&lon=112.9"},
    {"/v1/reports/filings", "year=2024"},
};

/* Fills pattern's {parameters} into path[cap] with file for {file}; appends the query it needs,
 * and "format=html" when format is set. */
static void fill(const char *pattern, const char *file, int format, char *path, size_t cap) {
    size_t n = 0;
    path[0] = '\0';
    for (const char *p = pattern; *p && n + 1 < cap;) {
        if (*p != '{') {
            path[n++] = *p++;
            path[n] = '\0';
            continue;
        }
        const char *close = strchr(p, '}');
        const char *value = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        if (strncmp(p, "{id}", 4) == 0)
            value = strncmp(pattern, "/v1/outfalls/", 13) == 0
                        ? outfall_id
                        : "6f1c2d3e-4b5a-4c6d-8e9f-0a1b2c3d4e5f";
        else if (strncmp(p, "{code}", 6) == 0)
            value = outfall_code;
        else if (strncmp(p, "{number}", 8) == 0)
            value = "ABCDEFGHJKMNPQRS";
        else if (strncmp(p, "{file}", 6) == 0)
            value = file;
        n += (size_t)snprintf(path + n, cap - n, "%s", value);
        p = close ? close + 1 : p + strlen(p);
    }
    const char *query = NULL;
    for (size_t i = 0; i < sizeof queries / sizeof queries[0]; i++)
        if (strcmp(queries[i].pattern, pattern) == 0) query = queries[i].query;
    snprintf(path + n, cap - n, "%s%s%s%s", query || format ? "?" : "", query ? query : "",
             query && format ? "&" : "", format ? "format=html" : "");
}

/* The routes that answer documents, and how many document answers each gave in the sweep. */
static struct {
    const char *pattern;
    int documents;
} known[] = {
    {"/", 0},
    {"/web/{file}", 0},
    {"/public/outfalls/{code}", 0},
    {"/v1/reports/annual", 0},
    {"/v1/outfalls/{id}/signboard", 0},
};

/* Calls one path three ways; returns the number of document answers lacking a header. Counts
 * the document answers into *documents. */
static int sweep_path(const char *pattern, const char *file, int *documents) {
    static const char *const browser[] = {BROWSER_ACCEPT, NULL}, *const none[] = {"Accept:", NULL};
    int bad = 0;
    for (int way = 0; way < 3; way++) {
        char path[512];
        fill(pattern, file, way == 2, path, sizeof path);
        th_xresult x;
        long st = get(path, way == 1 ? browser : none, &x);
        if (st == 0) {
            print_error("GET %s: no answer\n", path);
            bad++;
        } else if (is_document(x.r.content_type)) {
            (*documents)++;
            bad += headers_missing(path, &x);
        }
        th_response_free(&x.r);
    }
    return bad;
}

static void every_document_the_server_answers_carries_the_security_headers(void **state) {
    (void)state;
    FILE *f = fopen("server/routes.c", "r");
    if (!f) fail_msg("cannot read server/routes.c (run from the repository's root)");
    char line[512], method[16], pattern[128];
    int routes = 0, bad = 0;
    while (fgets(line, sizeof line, f)) {
        if (sscanf(line, " {\"%15[A-Z]\" , \"%127[^\"]\" ,", method, pattern) != 2 &&
            sscanf(line, " {\"%15[A-Z]\", \"%127[^\"]\",", method, pattern) != 2)
            continue;
        if (strcmp(method, "GET") != 0) continue;
        routes++;
        int documents = 0;
        if (strstr(pattern, "{file}")) { /* every file of the console, and one that is not */
            DIR *d = opendir("web");
            assert_non_null(d);
            struct dirent *e;
            while ((e = readdir(d)) != NULL)
                if (e->d_name[0] != '.') bad += sweep_path(pattern, e->d_name, &documents);
            closedir(d);
            bad += sweep_path(pattern, "nope.html", &documents);
        } else {
            bad += sweep_path(pattern, NULL, &documents);
        }
        if (strcmp(pattern, "/public/outfalls/{code}") == 0) { /* its not-found page too */
            th_xresult x;
            static const char *const none[] = {"Accept:", NULL};
            assert_int_equal(get("/public/outfalls/410882-none-00-0000", none, &x), 404);
            assert_true(is_document(x.r.content_type));
            documents++;
            bad += headers_missing("/public/outfalls/410882-none-00-0000", &x);
            th_response_free(&x.r);
        }
        for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
            if (strcmp(known[i].pattern, pattern) == 0) known[i].documents += documents;
    }
    fclose(f);
    assert_true(routes >= 20);
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
        if (known[i].documents == 0) print_error("%s answered no document\n", known[i].pattern);
        assert_true(known[i].documents > 0);
    }
    assert_int_equal(bad, 0);
}

/* The annual report, the finding of issue 15: HTML by default, by ?format=html and for a
 * browser's Accept, each with the headers; its CSP allows no script and no load from anywhere. */
static void the_annual_report_page_carries_them_however_it_is_asked_for(void **state) {
    (void)state;
    static const char *const browser[] = {BROWSER_ACCEPT, NULL}, *const none[] = {"Accept:", NULL};
    const char *paths[] = {"/v1/reports/annual?year=2024&division=" DIV,
                           "/v1/reports/annual?year=2024&division=" DIV "&format=html",
                           "/v1/reports/annual?year=2024&division=" DIV};
    for (int i = 0; i < 3; i++) {
        th_xresult x;
        assert_int_equal(get(paths[i], i == 2 ? browser : none, &x), 200);
        assert_string_equal(x.r.content_type, "text/html; charset=utf-8");
        assert_int_equal(headers_missing(paths[i], &x), 0);
        char csp[1024];
        assert_true(th_xheader(&x, "Content-Security-Policy", csp, sizeof csp));
        assert_non_null(strstr(csp, "default-src 'none'"));
        assert_null(strstr(csp, "script-src"));
        th_response_free(&x.r);
    }
}

static int group_setup(void **state) {
    (void)state;
    const char *args[] = {"--public-url", "https://outfalls.example.org", NULL};
    const char *div[] = {DIV, NULL};
    th_user surveyor;
    th_device dev;
    if (th_server_start(&srv, args) != 0) return -1;
    admin = th_admin_token(&srv);
    if (!admin || th_user_new(&srv, "doc-surveyor", TH_ROLE(SURVEYOR), div, &surveyor) != 0 ||
        th_device_new(&srv, surveyor.token, &dev) != 0)
        return -1;
    double lat, lon;
    th_spot(&lat, &lon);
    th_batch *b = th_batch_new(&dev);
    Outfall__V1__Outfall *o = th_outfall_create(b, "qinhe", DIV, lat, lon);
    o->name = "<script>alert(1)</script>沁河排口";
    util_strlcpy(outfall_id, th_batch_entity(b, 0), sizeof outfall_id);
    Outfall__V1__SyncResponse *resp = th_sync_ok(&srv, surveyor.token, b, TH_PB);
    th_batch_free(b);
    if (!resp) return -1;
    outfall__v1__sync_response__free_unpacked(resp, NULL);
    Outfall__V1__DecisionResult *d = NULL;
    if (th_approve(&srv, admin, outfall_id, 1, &d) != 200 || !d->outfall || !d->outfall->code)
        return -1;
    util_strlcpy(outfall_code, d->outfall->code, sizeof outfall_code);
    protobuf_c_message_free_unpacked(&d->base, NULL);
    return 0;
}

static int group_teardown(void **state) {
    (void)state;
    return th_server_stop(&srv);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_document_the_server_answers_carries_the_security_headers),
        cmocka_unit_test(the_annual_report_page_carries_them_however_it_is_asked_for),
    };
    return cmocka_run_group_tests_name("api/document_headers", tests, group_setup, group_teardown);
}
