/* GET /v1/inspections/draws (programme/draws.h, draws_list) through the real server: the draws a
 * caller may see, newest first, as summaries, paged by nextPageToken; a supervisor sees the draws
 * among the outfalls of their divisions (or drawn by them), not another county's; a page token
 * the list did not hand out is 400 invalid_argument. */
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "common/util.h"
#include "tests/lib/harness.h"

#define DIV_A "410822" /* 博爱县 */
#define DIV_B "410882" /* 沁阳市 */

static th_server srv;
static th_user surveyor, sup_a, sup_b;
static th_device dev;
static char draws_a[3][37], draw_b[37]; /* in the order drawn */

/* A request with JSON text body (NULL: none) as token into r; returns the status. */
static long call_json(const char *method, const char *path, const char *token, const char *json,
                      th_response *r) {
    th_request rq = {.method = method,
                     .path = path,
                     .content_type = json ? TH_JSON : NULL,
                     .accept = TH_JSON,
                     .token = token,
                     .body = json,
                     .len = json ? strlen(json) : 0};
    return th_http(&srv, &rq, r);
}

/* GET path as token wanting status want; the JSON answer (json_decref it). */
static json_t *get_json(const char *path, const char *token, long want) {
    th_response r;
    long st = call_json("GET", path, token, NULL, &r);
    if (st != want) print_message("GET %s: %ld %s\n", path, st, (const char *)r.body);
    assert_int_equal(st, want);
    json_t *j = json_loads((const char *)r.body, 0, NULL);
    th_response_free(&r);
    assert_non_null(j);
    return j;
}

/* An approved outfall of division by the surveyor. */
static void approved_outfall(const char *division, const th_user *approver) {
    double lat, lon;
    th_spot(&lat, &lon);
    th_batch *b = th_batch_new(&dev);
    th_outfall_create(b, "qinhe", division, lat, lon);
    char id[37];
    util_strlcpy(id, th_batch_entity(b, 0), sizeof id);
    Outfall__V1__SyncResponse *resp = th_sync_ok(&srv, surveyor.token, b, TH_PB);
    th_batch_free(b);
    assert_non_null(resp);
    outfall__v1__sync_response__free_unpacked(resp, NULL);
    assert_int_equal(th_approve(&srv, approver->token, id, 1, NULL), 200);
}

/* A draw of one outfall of division by who, its id into id; two inspectors, so one is eligible
 * whoever went last time. Draws apart by a few milliseconds, so their order is their time's. */
static void draw(const th_user *who, const char *division, char id[37]) {
    char body[512];
    th_uuid(id);
    snprintf(body, sizeof body,
             "{\"drawId\":\"%s\",\"divisionCodes\":[\"%s\"],\"sample\":1,\"inspectors\":"
             "[{\"name\":\"inspector-x\",\"divisionCode\":\"410883\"},"
             "{\"name\":\"inspector-y\",\"divisionCode\":\"410883\"}]}",
             id, division);
    th_response r;
    long st = call_json("POST", "/v1/inspections/draws", who->token, body, &r);
    if (st != 200) print_message("draw: %ld %s\n", st, (const char *)r.body);
    assert_int_equal(st, 200);
    th_response_free(&r);
    struct timespec pause = {0, 5 * 1000 * 1000};
    nanosleep(&pause, NULL);
}

/* The ids of list's draws, in order, joined by spaces into out[cap]. */
static void ids_of(json_t *list, char *out, size_t cap) {
    size_t i, at = 0;
    json_t *d;
    out[0] = '\0';
    json_array_foreach(json_object_get(list, "draws"), i, d) {
        at += (size_t)snprintf(out + at, cap - at, "%s%s", i ? " " : "",
                               json_string_value(json_object_get(d, "id")));
    }
}

static void draws_list_pages_newest_first_with_their_summaries(void **state) {
    (void)state;
    char want[200], got[200];
    json_t *first = get_json("/v1/inspections/draws?limit=2", sup_a.token, 200);
    ids_of(first, got, sizeof got);
    snprintf(want, sizeof want, "%s %s", draws_a[2], draws_a[1]);
    assert_string_equal(got, want);
    json_t *d = json_array_get(json_object_get(first, "draws"), 0);
    assert_int_equal(json_integer_value(json_object_get(d, "sample")), 1);
    assert_int_equal(json_integer_value(json_object_get(d, "candidateCount")), 1);
    assert_string_equal(json_string_value(json_object_get(d, "drawnBy")), sup_a.name);
    assert_int_equal(strlen(json_string_value(json_object_get(d, "seed"))), 64);
    assert_int_equal(strlen(json_string_value(json_object_get(d, "deadline"))), 10);
    json_t *divisions = json_object_get(d, "divisionCodes");
    assert_int_equal(json_array_size(divisions), 1);
    assert_string_equal(json_string_value(json_array_get(divisions, 0)), DIV_A);
    assert_non_null(json_object_get(d, "drawnAtMs"));

    const char *token = json_string_value(json_object_get(first, "nextPageToken"));
    assert_non_null(token);
    char path[200];
    snprintf(path, sizeof path, "/v1/inspections/draws?limit=2&page_token=%s", token);
    json_t *second = get_json(path, sup_a.token, 200);
    ids_of(second, got, sizeof got);
    assert_string_equal(got, draws_a[0]);
    assert_null(json_object_get(second, "nextPageToken"));
    json_decref(first);
    json_decref(second);
}

static void a_supervisor_sees_the_draws_of_their_divisions_only(void **state) {
    (void)state;
    char got[200];
    json_t *b = get_json("/v1/inspections/draws", sup_b.token, 200);
    ids_of(b, got, sizeof got);
    assert_string_equal(got, draw_b);
    json_decref(b);
    json_t *a = get_json("/v1/inspections/draws", sup_a.token, 200);
    ids_of(a, got, sizeof got);
    assert_null(strstr(got, draw_b));
    assert_int_equal(json_array_size(json_object_get(a, "draws")), 3);
    json_decref(a);
}

static void a_page_token_the_list_did_not_hand_out_is_400(void **state) {
    (void)state;
    const char *bad[] = {"nope", "12.not-a-uuid", "-1.00000000-0000-4000-8000-000000000000",
                         ".00000000-0000-4000-8000-000000000000"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char path[200];
        snprintf(path, sizeof path, "/v1/inspections/draws?page_token=%s", bad[i]);
        json_t *e = get_json(path, sup_a.token, 400);
        assert_string_equal(json_string_value(json_object_get(e, "code")), "invalid_argument");
        json_decref(e);
    }
}

static int group_setup(void **state) {
    (void)state;
    const char *a[] = {DIV_A, NULL}, *b[] = {DIV_B, NULL}, *both[] = {DIV_A, DIV_B, NULL};
    if (th_server_start(&srv, NULL) != 0) return -1;
    if (th_user_new(&srv, "dl-surveyor", TH_ROLE(SURVEYOR), both, &surveyor) != 0 ||
        th_user_new(&srv, "dl-sup-a", TH_ROLE(SUPERVISOR), a, &sup_a) != 0 ||
        th_user_new(&srv, "dl-sup-b", TH_ROLE(SUPERVISOR), b, &sup_b) != 0 ||
        th_device_new(&srv, surveyor.token, &dev) != 0)
        return -1;
    approved_outfall(DIV_A, &sup_a);
    approved_outfall(DIV_B, &sup_b);
    for (int i = 0; i < 3; i++)
        draw(&sup_a, DIV_A, draws_a[i]);
    draw(&sup_b, DIV_B, draw_b);
    return 0;
}

static int group_teardown(void **state) {
    (void)state;
    return th_server_stop(&srv);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(draws_list_pages_newest_first_with_their_summaries),
        cmocka_unit_test(a_supervisor_sees_the_draws_of_their_divisions_only),
        cmocka_unit_test(a_page_token_the_list_did_not_hand_out_is_400),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
