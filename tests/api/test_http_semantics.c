/* HTTP as stock clients expect it, through the real server.
 * HEAD for every GET (RFC 9110 9.3.2): the same status and head as the GET — content type,
 * Content-Length where the GET sends one, the same access rules — and no body; a 405 lists HEAD
 * wherever GET is allowed; HEAD where no GET is routed stays 405. Streamed exports answer their
 * head without walking the inventory.
 * Accept (RFC 9110 12.5.1): wildcards and ranges match; 406 only for what cannot be produced — a
 * JPEG photo is served for image/jpeg and its image range, refused for image/png; the photo archive
 * takes application/x-tar; an endpoint of messages refuses text/html alone, the console's page
 * takes it.
 * Conditional GET (RFC 9110 13.1.2): every answer built in memory carries an ETag that follows its
 * bytes (a record's changes with its version, a page's with its rows); If-None-Match naming it,
 * weakly or in a list, is 304 without a body; writes are never 304.
 * Query parameters: each path takes its own, in snake_case or lowerCamelCase; any other name is 400
 * unknown_query_parameter naming it, never silently ignored. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "tests/lib/harness.h"

static th_server srv;
static th_user sup, surveyor;

/* method path (with sup's token when auth) into out; returns the status. */
static long call(const char *method, const char *path, int auth, th_xresult *out) {
    static const char *const accept_any[] = {"Accept: */*", NULL};
    th_xfer x = {
        .method = method, .path = path, .token = auth ? sup.token : NULL, .headers = accept_any};
    return th_xfer_run(&srv, &x, out);
}

/* GET path by token with the Accept header accept into out; returns the status. */
static long get_as(const char *path, const char *token, const char *accept, th_xresult *out) {
    char h[160];
    snprintf(h, sizeof h, "Accept: %s", accept);
    const char *headers[] = {h, NULL};
    th_xfer x = {.method = "GET", .path = path, .token = token, .headers = headers};
    return th_xfer_run(&srv, &x, out);
}

static void head_answers_as_get_does_without_a_body(void **state) {
    (void)state;
    static const struct {
        const char *path;
        int auth;
    } gets[] = {
        {"/healthz", 0},     {"/v1/outfalls", 1},        {"/v1/review/queue", 1},
        {"/v1/progress", 1}, {"/public/outfalls", 0},    {"/web/app.js", 0},
        {"/report/", 0},     {"/field/app.js", 0},       {"/web/config.json", 0},
        {"/v1/zones", 1},    {"/v1/users", 0 /* 401 */}, {"/v1/reports/filings", 1},
    };
    for (size_t i = 0; i < sizeof gets / sizeof gets[0]; i++) {
        th_xresult g, h;
        long gs = call("GET", gets[i].path, gets[i].auth, &g);
        long hs = call("HEAD", gets[i].path, gets[i].auth, &h);
        if (gs != hs) fail_msg("%s: GET %ld, HEAD %ld", gets[i].path, gs, hs);
        assert_int_equal(h.r.len, 0);
        assert_string_equal(h.r.content_type, g.r.content_type);
        char glen[32], hlen[32];
        if (th_xheader(&g, "Content-Length", glen, sizeof glen)) {
            assert_true(th_xheader(&h, "Content-Length", hlen, sizeof hlen));
            assert_string_equal(hlen, glen);
            assert_int_equal(strtoull(glen, NULL, 10), g.r.len);
        }
        th_response_free(&g.r);
        th_response_free(&h.r);
    }
}

static void head_of_a_streamed_export_is_its_head(void **state) {
    (void)state;
    th_xresult h;
    assert_int_equal(call("HEAD", "/v1/exports/outfalls.csv", 1, &h), 200);
    assert_int_equal(h.r.len, 0);
    assert_string_equal(h.r.content_type, "text/csv; charset=utf-8");
    char cd[128];
    assert_true(th_xheader(&h, "Content-Disposition", cd, sizeof cd));
    assert_non_null(strstr(cd, "outfalls.csv"));
    th_response_free(&h.r);
    /* the same gate as the GET: no token, no export */
    assert_int_equal(call("HEAD", "/v1/exports/outfalls.csv", 0, &h), 401);
    th_response_free(&h.r);
}

static void allow_lists_head_beside_get_and_head_without_get_is_405(void **state) {
    (void)state;
    th_xresult x;
    char allow[128];
    assert_int_equal(call("DELETE", "/v1/outfalls", 1, &x), 405);
    assert_true(th_xheader(&x, "Allow", allow, sizeof allow));
    assert_non_null(strstr(allow, "GET"));
    assert_non_null(strstr(allow, "HEAD"));
    th_response_free(&x.r);
    /* POST only: HEAD is not allowed, and the Allow header does not offer it */
    assert_int_equal(call("HEAD", "/v1/sync", 1, &x), 405);
    assert_true(th_xheader(&x, "Allow", allow, sizeof allow));
    assert_null(strstr(allow, "HEAD"));
    th_response_free(&x.r);
}

static void accept_ranges_match_and_406_is_only_for_what_cannot_be_made(void **state) {
    (void)state;
    th_file f;
    char hash[65], path[128];
    assert_int_equal(th_photo_variant("qinhe-outfall-a-1.jpg", &f, hash), 0);
    assert_int_equal(th_photo_put(&srv, surveyor.token, hash, f.data, f.len, NULL), 201);
    th_file_free(&f);
    snprintf(path, sizeof path, "/v1/photos/%s", hash);
    static const struct {
        const char *accept;
        long status;
    } photo[] = {
        {"image/jpeg", 200},
        {"image/*", 200},
        {"image/webp, image/*;q=0.8", 200},
        {"*/*", 200},
        {"application/json", 200}, /* names no image: the photo as it is */
        {"image/png", 406},
        {"image/jpeg;q=0, image/*", 406},
    };
    for (size_t i = 0; i < sizeof photo / sizeof photo[0]; i++) {
        th_xresult x;
        long st = get_as(path, surveyor.token, photo[i].accept, &x);
        if (st != photo[i].status) fail_msg("Accept: %s: %ld", photo[i].accept, st);
        if (st == 200) assert_string_equal(x.r.content_type, "image/jpeg");
        if (st == 406) {
            th_error e;
            assert_int_equal(th_error_decode(&x.r, &e), 0);
            assert_string_equal(e.code, "not_acceptable");
        }
        th_response_free(&x.r);
    }
    th_xresult x;
    assert_int_equal(get_as("/v1/exports/photos.tar", sup.token, "application/x-tar", &x), 200);
    assert_string_equal(x.r.content_type, "application/x-tar");
    th_response_free(&x.r);
    assert_int_equal(get_as("/v1/outfalls", sup.token, "text/html", &x), 406);
    th_response_free(&x.r);
    assert_int_equal(get_as("/v1/outfalls", sup.token, "application/*", &x), 200);
    th_response_free(&x.r);
    assert_int_equal(get_as("/", NULL, "text/html", &x), 200);
    th_response_free(&x.r);
}

/* GET path as sup with an If-None-Match of inm (NULL: none) into out; returns the status. */
static long get_if(const char *path, const char *inm, th_xresult *out) {
    char h[160];
    snprintf(h, sizeof h, "If-None-Match: %s", inm ? inm : "");
    const char *headers[] = {"Accept: application/json", inm ? h : NULL, NULL};
    th_xfer x = {.method = "GET", .path = path, .token = sup.token, .headers = headers};
    return th_xfer_run(&srv, &x, out);
}

/* A new outfall's id (pending, in sup's city) into id[64]; its version is 1. */
static void new_outfall(th_device *dev, char id[64]) {
    double lat, lon;
    th_spot(&lat, &lon);
    th_batch *b = th_batch_new(dev);
    Outfall__V1__Outfall *o = th_outfall_create(b, "danhe", "410822", lat, lon);
    o->name = "条件请求排口";
    snprintf(id, 64, "%s", th_batch_entity(b, 0));
    Outfall__V1__SyncResponse *resp = th_sync_ok(&srv, surveyor.token, b, TH_PB);
    assert_non_null(resp);
    outfall__v1__sync_response__free_unpacked(resp, NULL);
    th_batch_free(b);
}

static void records_and_pages_answer_304_to_their_own_etag(void **state) {
    (void)state;
    th_device dev;
    assert_int_equal(th_device_new(&srv, surveyor.token, &dev), 0);
    char id[64], path[128], tag[64], again[64];
    new_outfall(&dev, id);
    snprintf(path, sizeof path, "/v1/outfalls/%s", id);
    th_xresult x;
    assert_int_equal(get_if(path, NULL, &x), 200);
    assert_true(th_xheader(&x, "ETag", tag, sizeof tag));
    assert_int_equal(tag[0], '"');
    th_response_free(&x.r);
    /* the same bytes, the same tag; If-None-Match naming it (alone, weakly, in a list, or "*") is
     * 304 with the tag and no body */
    assert_int_equal(get_if(path, NULL, &x), 200);
    assert_true(th_xheader(&x, "ETag", again, sizeof again));
    assert_string_equal(again, tag);
    th_response_free(&x.r);
    char weak[80], list[160];
    snprintf(weak, sizeof weak, "W/%s", tag);
    snprintf(list, sizeof list, "\"other\", %s", tag);
    const char *matching[] = {tag, weak, list, "*"};
    for (size_t i = 0; i < sizeof matching / sizeof matching[0]; i++) {
        assert_int_equal(get_if(path, matching[i], &x), 304);
        assert_int_equal(x.r.len, 0);
        assert_true(th_xheader(&x, "ETag", again, sizeof again));
        assert_string_equal(again, tag);
        th_response_free(&x.r);
    }
    assert_int_equal(get_if(path, "\"other\"", &x), 200);
    assert_true(x.r.len > 0);
    th_response_free(&x.r);
    /* a new version is new bytes: the old tag no longer matches */
    th_batch *b = th_batch_new(&dev);
    Outfall__V1__Outfall *o = th_outfall_edit(b, id, 1);
    o->name = "条件请求排口（改）";
    Outfall__V1__SyncResponse *resp = th_sync_ok(&srv, surveyor.token, b, TH_PB);
    assert_non_null(resp);
    outfall__v1__sync_response__free_unpacked(resp, NULL);
    th_batch_free(b);
    assert_int_equal(get_if(path, tag, &x), 200);
    assert_true(th_xheader(&x, "ETag", again, sizeof again));
    assert_string_not_equal(again, tag);
    th_response_free(&x.r);
    /* a page of the inventory too */
    assert_int_equal(get_if("/v1/outfalls", NULL, &x), 200);
    assert_true(th_xheader(&x, "ETag", tag, sizeof tag));
    th_response_free(&x.r);
    assert_int_equal(get_if("/v1/outfalls", tag, &x), 304);
    th_response_free(&x.r);
    new_outfall(&dev, id);
    assert_int_equal(get_if("/v1/outfalls", tag, &x), 200);
    th_response_free(&x.r);
}

static void unknown_query_parameters_are_refused_by_name_and_camel_case_is_taken(void **state) {
    (void)state;
    th_device dev;
    assert_int_equal(th_device_new(&srv, surveyor.token, &dev), 0);
    char id[64];
    new_outfall(&dev, id); /* at least one pending outfall, none rejected */
    th_xresult snake, camel, none;
    assert_int_equal(get_if("/v1/outfalls?review_state=REJECTED", NULL, &snake), 200);
    assert_int_equal(get_if("/v1/outfalls?reviewState=REJECTED", NULL, &camel), 200);
    assert_int_equal(get_if("/v1/outfalls", NULL, &none), 200);
    assert_int_equal(camel.r.len, snake.r.len); /* the filter applied either way */
    assert_memory_equal(camel.r.body, snake.r.body, snake.r.len);
    assert_true(none.r.len > snake.r.len);
    th_response_free(&snake.r);
    th_response_free(&camel.r);
    th_response_free(&none.r);
    static const struct {
        const char *path, *name;
    } refused[] = {
        {"/v1/outfalls?reviewStat=REJECTED", "reviewStat"},
        {"/v1/outfalls?limit=5&Review_State=1", "Review_State"},
        {"/v1/progress?asOf=2026-01-01&year=2026", "year"},
        {"/v1/outfalls/x?%76iew2=1", "view2"}, /* names are decoded before they are checked */
        {"/v1/inspections/tasks?page_token=x", "page_token"},
        {"/healthz?verbose", "verbose"},
    };
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        th_xresult x;
        long st = get_if(refused[i].path, NULL, &x);
        if (st != 400) fail_msg("%s: %ld", refused[i].path, st);
        json_t *e = json_loadb((const char *)x.r.body, x.r.len, 0, NULL);
        assert_non_null(e);
        assert_string_equal(json_string_value(json_object_get(e, "code")),
                            "unknown_query_parameter");
        const char *msg = json_string_value(json_object_get(e, "message"));
        if (!strstr(msg, refused[i].name)) fail_msg("%s: %s", refused[i].path, msg);
        json_decref(e);
        th_response_free(&x.r);
    }
    /* empty pieces are no names; the web apps' files take any query (cache busting) */
    const char *taken[] = {"/v1/outfalls?limit=1&&", "/web/app.js?v=2", "/field/?source=pwa",
                           "/v1/outfalls?pageToken="};
    for (size_t i = 0; i < sizeof taken / sizeof taken[0]; i++) {
        th_xresult x;
        long st = get_if(taken[i], NULL, &x);
        if (st != 200) fail_msg("%s: %ld", taken[i], st);
        th_response_free(&x.r);
    }
}

static int group_setup(void **state) {
    (void)state;
    const char *city[] = {"410800", NULL};
    if (th_server_start(&srv, NULL) != 0) return -1;
    return th_user_new(&srv, "head-sup", TH_ROLE(SUPERVISOR), city, &sup) ||
           th_user_new(&srv, "accept-surveyor", TH_ROLE(SURVEYOR), city, &surveyor);
}

static int group_teardown(void **state) {
    (void)state;
    return th_server_stop(&srv);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(head_answers_as_get_does_without_a_body),
        cmocka_unit_test(head_of_a_streamed_export_is_its_head),
        cmocka_unit_test(allow_lists_head_beside_get_and_head_without_get_is_405),
        cmocka_unit_test(accept_ranges_match_and_406_is_only_for_what_cannot_be_made),
        cmocka_unit_test(records_and_pages_answer_304_to_their_own_etag),
        cmocka_unit_test(unknown_query_parameters_are_refused_by_name_and_camel_case_is_taken),
    };
    return cmocka_run_group_tests_name("http semantics", tests, group_setup, group_teardown);
}
