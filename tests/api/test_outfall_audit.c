/* An outfall's audit trail on its history (OutfallHistory.audit, the console's 一口一档): the
 * decisions and lifecycle steps naming it, refusals included, oldest first, with who and when;
 * shown to supervisors, admins and the province checker, never to surveyors. */
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

#define DIV "410882"

static th_server srv;
static th_user sup, surveyor;
static th_device dev;

/* GET /v1/outfalls/{id}/history as token, in JSON, parsed (the caller json_decref()s). */
static json_t *history(const char *id, const char *token) {
    char path[128];
    snprintf(path, sizeof path, "/v1/outfalls/%s/history", id);
    th_response r;
    th_request rq = {.method = "GET", .path = path, .accept = TH_JSON, .token = token};
    assert_int_equal(th_http(&srv, &rq, &r), 200);
    json_t *h = json_loadb((const char *)r.body, r.len, 0, NULL);
    th_response_free(&r);
    assert_non_null(h);
    return h;
}

static void decisions_and_refusals_show_on_the_outfalls_history_for_reviewers(void **state) {
    (void)state;
    double lat, lon;
    th_spot(&lat, &lon);
    th_batch *b = th_batch_new(&dev);
    Outfall__V1__Outfall *o = th_outfall_create(b, "danhe", DIV, lat, lon);
    o->name = "审计记录排口";
    char id[64];
    snprintf(id, sizeof id, "%s", th_batch_entity(b, 0));
    Outfall__V1__SyncResponse *resp = th_sync_ok(&srv, surveyor.token, b, TH_PB);
    assert_non_null(resp);
    outfall__v1__sync_response__free_unpacked(resp, NULL);
    th_batch_free(b);
    assert_int_equal(th_approve(&srv, sup.token, id, 1, NULL), 200);
    assert_int_not_equal(th_approve(&srv, sup.token, id, 1, NULL), 200); /* stale: refused */

    json_t *h = history(id, sup.token);
    json_t *audit = json_object_get(h, "audit");
    assert_true(json_array_size(audit) >= 2);
    json_t *first = json_array_get(audit, 0),
           *last = json_array_get(audit, json_array_size(audit) - 1);
    assert_string_equal(json_string_value(json_object_get(first, "action")), "review.approve");
    assert_string_equal(json_string_value(json_object_get(first, "outcome")), "ok");
    assert_string_equal(json_string_value(json_object_get(first, "username")), sup.name);
    assert_true(json_integer_value(json_object_get(first, "atMs")) > 0 ||
                json_string_value(json_object_get(first, "atMs")));
    const char *refusal = json_string_value(json_object_get(last, "outcome"));
    assert_non_null(refusal);
    assert_string_not_equal(refusal, "ok");
    /* oldest first */
    long long prev = 0;
    size_t i;
    json_t *e;
    json_array_foreach(audit, i, e) {
        long long at = atoll(json_string_value(json_object_get(e, "id")));
        assert_true(at > prev);
        prev = at;
    }
    json_decref(h);

    /* a surveyor reads the history without the audit */
    h = history(id, surveyor.token);
    assert_null(json_object_get(h, "audit"));
    json_decref(h);
}

static int group_setup(void **state) {
    (void)state;
    const char *div[] = {DIV, NULL};
    if (th_server_start(&srv, NULL) != 0) return -1;
    return th_user_new(&srv, "audit-sup", TH_ROLE(SUPERVISOR), div, &sup) ||
           th_user_new(&srv, "audit-surveyor", TH_ROLE(SURVEYOR), div, &surveyor) ||
           th_device_new(&srv, surveyor.token, &dev);
}

static int group_teardown(void **state) {
    (void)state;
    return th_server_stop(&srv);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(decisions_and_refusals_show_on_the_outfalls_history_for_reviewers),
    };
    return cmocka_run_group_tests_name("outfall audit", tests, group_setup, group_teardown);
}
