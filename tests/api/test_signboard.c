/* Sign boards (二.二.2) through the real server: GET /v1/outfalls/{id}/signboard answers the QR
 * code leading to the outfall's public page, <--public-url>/public/outfalls/{code}. The PNG is
 * decoded back by a real decoder (zbarimg, Debian's zbar-tools) and must yield that exact URL,
 * which the server then serves; the SVG must be well-formed XML with the QR's modules; the
 * payload comes as JSON and protobuf. Refusals: an unapproved or unknown outfall, a bad id or
 * format, a server started without --public-url (503), and a --public-url that is not https (the
 * server does not start). Each refusal leaves the database as it was. */
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "client/http.h"
#include "common/util.h"
#include "tests/lib/harness.h"

#define DIV "410882"
/* With a trailing slash, which the server drops. */
#define PUBLIC_URL "https://hbj.jiaozuo.example.cn/paiwukou/"
#define PUBLIC_BASE "https://hbj.jiaozuo.example.cn/paiwukou"

static th_server srv;   /* --public-url PUBLIC_URL */
static th_server plain; /* no --public-url */
static th_user surveyor, sup, integ;
static th_device dev;
static char approved[37], pending[37], code[64];

/* Creates an outfall of DIV as the surveyor; its id into id. */
static void create(char id[37]) {
    double lat, lon;
    th_spot(&lat, &lon);
    th_batch *b = th_batch_new(&dev);
    th_outfall_create(b, "qinhe", DIV, lat, lon);
    util_strlcpy(id, th_batch_entity(b, 0), 37);
    Outfall__V1__SyncResponse *r = th_sync_ok(&srv, surveyor.token, b, TH_PB);
    th_batch_free(b);
    assert_non_null(r);
    outfall__v1__sync_response__free_unpacked(r, NULL);
}

/* Approves id at version 1 as the supervisor; its code into code. */
static void approve(const char *id) {
    Outfall__V1__DecisionResult *res = NULL;
    assert_int_equal(th_approve(&srv, sup.token, id, 1, &res), 200);
    util_strlcpy(code, TH_S(res->outfall->code), sizeof code);
    outfall__v1__decision_result__free_unpacked(res, NULL);
    assert_true(code[0] != '\0');
}

/* GET path as token on s with exactly one Accept header, accept's (none when NULL: the harness's
 * client always names JSON), into out's status, content type and body. */
static long get(th_server *s, const char *path, const char *token, const char *accept,
                th_xresult *out) {
    char url[512], line[160];
    const char *headers[] = {"Accept:", accept ? line : NULL, NULL};
    memset(out, 0, sizeof *out);
    if (accept) snprintf(line, sizeof line, "Accept: %s", accept);
    snprintf(url, sizeof url, "%s%s", s->url, path);
    client_http_request rq = {.method = "GET", .url = url, .token = token, .headers = headers};
    client_http_response r = {0};
    out->r.status = client_http_exchange(NULL, &rq, &r);
    out->r.body = r.body.data;
    out->r.len = r.body.len;
    util_strlcpy(out->r.content_type, r.content_type, sizeof out->r.content_type);
    return out->r.status;
}

static const char *board(const char *id, const char *query) {
    static char path[160];
    snprintf(path, sizeof path, "/v1/outfalls/%s/signboard%s", id, query);
    return path;
}

/* The text a command prints (at most cap - 1 bytes, trailing newline dropped); its exit status. */
static int run(const char *cmd, char *out, size_t cap) {
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t n = fread(out, 1, cap - 1, p);
    out[n] = '\0';
    while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == '\r'))
        out[--n] = '\0';
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Writes the answer's body to srv's folder under name; the path into path. */
static void save(const th_xresult *x, const char *name, char path[400]) {
    snprintf(path, 400, "%s/%s", srv.root, name);
    assert_int_equal(th_write_file(path, x->r.body, x->r.len), 0);
}

static int setup(void **state) {
    (void)state;
    const char *divs[] = {DIV, NULL}, *args[] = {"--public-url", PUBLIC_URL, NULL};
    if (th_server_start(&srv, args) != 0 || th_server_start(&plain, NULL) != 0 ||
        th_user_new(&srv, "sb_surveyor", TH_ROLE(SURVEYOR), divs, &surveyor) != 0 ||
        th_user_new(&srv, "sb_sup", TH_ROLE(SUPERVISOR), divs, &sup) != 0 ||
        th_user_new(&srv, "sb_integ", TH_ROLE(INTEGRATOR), NULL, &integ) != 0 ||
        th_device_new(&srv, surveyor.token, &dev) != 0)
        return -1;
    return 0;
}

static int teardown(void **state) {
    (void)state;
    int a = th_server_stop(&srv), b = th_server_stop(&plain);
    return a || b ? -1 : 0;
}

/* The PNG decodes, with zbarimg, to the public page's URL, and that page is served. */
static void png_decodes_to_the_public_page(void **state) {
    (void)state;
    create(approved);
    approve(approved);
    th_xresult x;
    char path[400], cmd[600], got[512], want[256];
    assert_int_equal(get(&srv, board(approved, "?format=png"), sup.token, NULL, &x), 200);
    assert_string_equal(x.r.content_type, "image/png");
    assert_true(x.r.len > 8 && memcmp(x.r.body, "\x89PNG\r\n\x1a\n", 8) == 0);
    save(&x, "board.png", path);
    th_response_free(&x.r);
    snprintf(cmd, sizeof cmd, "zbarimg --quiet --raw '%s' 2>/dev/null", path);
    int st = run(cmd, got, sizeof got);
    snprintf(want, sizeof want, PUBLIC_BASE "/public/outfalls/%s", code);
    print_message("zbarimg: %s\n", got);
    assert_int_equal(st, 0);
    assert_string_equal(got, want);
    /* the QR code's target is the page the public sees */
    char page[128];
    snprintf(page, sizeof page, "/public/outfalls/%s", code);
    assert_int_equal(get(&srv, page, NULL, NULL, &x), 200);
    assert_non_null(strstr((const char *)x.r.body, code));
    th_response_free(&x.r);
    /* Accept: image/png picks the PNG too */
    assert_int_equal(get(&srv, board(approved, ""), surveyor.token, "image/png", &x), 200);
    assert_string_equal(x.r.content_type, "image/png");
    th_response_free(&x.r);
}

/* Counts the dark modules of an SVG path of runs "M<x> <y>h<n>v1h-<n>z"; -1 when malformed. */
static long svg_modules(const char *svg) {
    const char *d = strstr(svg, " d=\"");
    long total = 0;
    if (!d) return -1;
    for (d += 4; *d == 'M';) {
        int x, y, n, back, used = 0;
        if (sscanf(d, "M%d %dh%dv1h-%dz%n", &x, &y, &n, &back, &used) != 4 || n != back || n < 1)
            return -1;
        total += n;
        d += used;
    }
    return *d == '"' ? total : -1;
}

/* The SVG is the default answer, well-formed XML (read back by python3's XML parser when there
 * is one), a square of the QR's width plus the quiet zone, with dark modules on it. */
static void svg_is_the_default_and_well_formed(void **state) {
    (void)state;
    th_xresult x, j;
    char path[400], cmd[700], got[256];
    assert_int_equal(get(&srv, board(approved, "?format=json"), sup.token, NULL, &j), 200);
    json_t *m = json_loadb((const char *)j.r.body, j.r.len, 0, NULL);
    assert_non_null(m);
    int width = (int)json_integer_value(json_object_get(m, "qrModules"));
    json_decref(m);
    th_response_free(&j.r);
    for (int i = 0; i < 3; i++) { /* no Accept, a browser's, image/svg+xml */
        const char *accept[] = {NULL, "text/html,*/*;q=0.8", "image/svg+xml;q=0.9"};
        assert_int_equal(get(&srv, board(approved, ""), sup.token, accept[i], &x), 200);
        assert_string_equal(x.r.content_type, "image/svg+xml");
        th_response_free(&x.r);
    }
    assert_int_equal(get(&srv, board(approved, "?format=svg"), sup.token, NULL, &x), 200);
    const char *svg = (const char *)x.r.body;
    char box[64];
    snprintf(box, sizeof box, "viewBox=\"0 0 %d %d\"", width + 8, width + 8);
    assert_non_null(strstr(svg, box));
    assert_null(strstr(svg, "<script"));
    long dark = svg_modules(svg);
    print_message("QR %d modules a side, %ld dark\n", width, dark);
    assert_true(dark > width * width / 4 && dark < width * width * 3 / 4);
    save(&x, "board.svg", path);
    th_response_free(&x.r);
    snprintf(cmd, sizeof cmd,
             "command -v python3 >/dev/null || { echo no-python; exit 0; }; python3 -c \""
             "import sys, xml.etree.ElementTree as E; r = E.parse(sys.argv[1]).getroot(); "
             "print(r.tag, len(list(r)))\" '%s' 2>&1",
             path);
    assert_int_equal(run(cmd, got, sizeof got), 0);
    print_message("python3 XML parser: %s\n", got);
    if (strcmp(got, "no-python") != 0)
        assert_string_equal(got, "{http://www.w3.org/2000/svg}svg 2");
}

/* The payload as JSON and as protobuf: the id, the code, the URL, the symbol's size. */
static void payload_as_json_and_protobuf(void **state) {
    (void)state;
    th_xresult x;
    char want[256];
    snprintf(want, sizeof want, PUBLIC_BASE "/public/outfalls/%s", code);
    assert_int_equal(get(&srv, board(approved, ""), surveyor.token, TH_JSON, &x), 200);
    json_t *m = json_loadb((const char *)x.r.body, x.r.len, 0, NULL);
    assert_non_null(m);
    assert_string_equal(json_string_value(json_object_get(m, "url")), want);
    assert_string_equal(json_string_value(json_object_get(m, "code")), code);
    assert_string_equal(json_string_value(json_object_get(m, "outfallId")), approved);
    assert_string_equal(json_string_value(json_object_get(m, "qrEcLevel")), "Q");
    int version = (int)json_integer_value(json_object_get(m, "qrVersion"));
    assert_int_equal(json_integer_value(json_object_get(m, "qrModules")), 17 + 4 * version);
    json_decref(m);
    th_response_free(&x.r);
    assert_int_equal(get(&srv, board(approved, "?format=protobuf"), sup.token, NULL, &x), 200);
    Outfall__V1__Signboard *pb = outfall__v1__signboard__unpack(NULL, x.r.len, x.r.body);
    assert_non_null(pb);
    assert_string_equal(TH_S(pb->url), want);
    assert_int_equal(pb->qr_version, version);
    outfall__v1__signboard__free_unpacked(pb, NULL);
    th_response_free(&x.r);
}

/* Sends GET path as token to s, expecting status and code, with the database unchanged. */
static void refused(th_server *s, const char *path, const char *token, long status,
                    const char *want) {
    th_sum before = th_db_checksum(s->data, TH_ALL);
    th_xresult x;
    th_error e;
    assert_int_equal(get(s, path, token, TH_JSON, &x), status);
    th_error_decode(&x.r, &e);
    assert_string_equal(e.code, want);
    assert_true(e.message[0] != '\0');
    th_response_free(&x.r);
    th_sum after = th_db_checksum(s->data, TH_ALL);
    assert_string_equal(before.hex, after.hex);
}

/* No board for an outfall not approved, unknown, or named badly; nor in an unknown format; nor
 * for integrators; nor from a server that does not know its public URL. */
static void refusals_leave_everything_as_it_was(void **state) {
    (void)state;
    char unknown[37];
    create(pending);
    th_uuid(unknown);
    refused(&srv, board(pending, ""), sup.token, 409, "not_approved");
    refused(&srv, board(unknown, ""), sup.token, 404, "not_found");
    refused(&srv, board("not-a-code", ""), sup.token, 404, "unknown_outfall_code");
    refused(&srv, board(approved, "?format=gif"), sup.token, 400, "invalid_argument");
    refused(&srv, board(approved, ""), integ.token, 403, "forbidden_role");
    refused(&srv, board(approved, ""), NULL, 401, "token_missing");
    refused(&plain, board(approved, ""), th_admin_token(&plain), 503, "public_url_unset");
}

/* The server refuses to start with a --public-url that is not https://host[/path]. */
static void a_bad_public_url_stops_the_server(void **state) {
    (void)state;
    const char *bin = getenv("OUTFALLD");
    const char *bad[] = {"http://hbj.example.cn", "https://", "https://host/a b",
                         "https://host/?q=1", "ftp://host"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char cmd[700], out[1024];
        snprintf(cmd, sizeof cmd,
                 "'%s' --data '%s/never' --listen 127.0.0.1:0 --public-url '%s' 2>&1",
                 bin ? bin : "build/asan/outfalld", srv.root, bad[i]);
        assert_int_equal(run(cmd, out, sizeof out), 2);
        print_message("%s\n", out);
        assert_non_null(strstr(out, "--public-url"));
        assert_non_null(strstr(out, "is not an https URL"));
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(png_decodes_to_the_public_page),
        cmocka_unit_test(svg_is_the_default_and_well_formed),
        cmocka_unit_test(payload_as_json_and_protobuf),
        cmocka_unit_test(refusals_leave_everything_as_it_was),
        cmocka_unit_test(a_bad_public_url_stops_the_server),
    };
    return cmocka_run_group_tests_name("api/signboard", tests, setup, teardown);
}
