/* Division scopes and roles on sync, reads and the feed: surveyors write only inside their
 * divisions, division-scoped users see only theirs, the city division, admins and integrators
 * see all. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/util.h"
#include "tests/lib/harness.h"

static th_server srv;
static th_user s802, s803, multi, city, sup802, integ;
static th_device d802, d803, dmulti, dcity;
static char x802[37], x803[37], o802[37]; /* outfalls in 410802 / 410803, an observation of x802 */

/* Creates one outfall in division as u via d; returns its result's status name and the id. */
static const char *create_in(th_user *u, th_device *d, const char *division, char id[37],
                             char reason[64]) {
    double lat, lon;
    th_spot(&lat, &lon);
    th_batch *b = th_batch_new(d);
    th_outfall_create(b, "danhe", division, lat, lon);
    util_strlcpy(id, th_batch_entity(b, 0), 37);
    Outfall__V1__SyncResponse *resp = th_sync_ok(&srv, u->token, b, TH_PB);
    th_batch_free(b);
    if (!resp || resp->n_results != 1) return "no answer";
    const char *status = th_status_name(resp->results[0]->status);
    if (reason) util_strlcpy(reason, TH_S(resp->results[0]->reason), 64);
    outfall__v1__sync_response__free_unpacked(resp, NULL);
    return status;
}

static long read_outfall(th_user *u, const char *id) {
    return th_get_outfall(&srv, u ? u->token : th_admin_token(&srv), id, NULL, NULL);
}

/* The division a single-division user is scoped to, or NULL for users who see several. */
static const char *only_division(th_user *u) {
    if (u == &s802 || u == &sup802) return "410802";
    if (u == &s803) return "410803";
    return NULL;
}

/* 1 when the outfall list u sees (one big page) holds id; nothing outside u's scope may show. */
static int listed(th_user *u, const char *id) {
    Outfall__V1__OutfallList *l = NULL;
    assert_int_equal(
        th_list_outfalls(&srv, u ? u->token : th_admin_token(&srv), "limit=1000", &l, NULL), 200);
    const char *only = only_division(u);
    int found = 0;
    for (size_t i = 0; i < l->n_outfalls; i++) {
        if (only) assert_string_equal(TH_S(l->outfalls[i]->division_code), only);
        found |= strcmp(TH_S(l->outfalls[i]->id), id) == 0;
    }
    outfall__v1__outfall_list__free_unpacked(l, NULL);
    return found;
}

/* 1 when the feed u pulls from the start holds an entry for id. */
static int in_feed(th_user *u, const char *id) {
    Outfall__V1__ChangesResponse *c = NULL;
    int found = 0;
    int64_t since = 0;
    for (int page = 0; page < 100; page++) {
        assert_int_equal(th_pull(&srv, u ? u->token : th_admin_token(&srv), since, 100, &c, NULL),
                         200);
        for (size_t i = 0; i < c->n_feed; i++) {
            const Outfall__V1__FeedEntry *e = c->feed[i];
            const char *eid = NULL;
            if (e->entry_case == OUTFALL__V1__FEED_ENTRY__ENTRY_OUTFALL) {
                eid = e->outfall->id;
                if (only_division(u))
                    assert_string_equal(TH_S(e->outfall->division_code), only_division(u));
            } else if (e->entry_case == OUTFALL__V1__FEED_ENTRY__ENTRY_OBSERVATION) {
                eid = e->observation->id;
            }
            found |= eid && strcmp(eid, id) == 0;
        }
        int more = c->more;
        since = c->next_cursor;
        outfall__v1__changes_response__free_unpacked(c, NULL);
        if (!more) break;
    }
    return found;
}

static void surveyor_writes_inside_own_division(void **state) {
    (void)state;
    char id[37];
    assert_string_equal(create_in(&s802, &d802, "410802", id, NULL), "APPLIED");
    assert_int_equal(read_outfall(&s802, id), 200);
}

static void surveyor_cannot_create_outside_own_divisions(void **state) {
    (void)state;
    char id[37], reason[64];
    th_sum before = th_db_checksum(srv.data, TH_STATE);
    assert_string_equal(create_in(&s802, &d802, "410803", id, reason), "REJECTED");
    assert_string_equal(reason, "outside_division");
    th_sum after = th_db_checksum(srv.data, TH_STATE);
    assert_string_equal(before.hex, after.hex);
    assert_int_equal(read_outfall(NULL, id), 404);
}

static void surveyor_cannot_edit_a_record_of_another_division(void **state) {
    (void)state;
    th_batch *b = th_batch_new(&d803);
    th_outfall_edit(b, x802, 1)->landmark = "not yours";
    th_sum before = th_db_checksum(srv.data, TH_STATE);
    Outfall__V1__SyncResponse *resp = th_sync_ok(&srv, s803.token, b, TH_PB);
    th_batch_free(b);
    assert_non_null(resp);
    assert_int_equal(resp->n_results, 1);
    assert_string_equal(th_status_name(resp->results[0]->status), "REJECTED");
    /* Either answer keeps the record's existence private or names the rule; both refuse. */
    const char *reason = TH_S(resp->results[0]->reason);
    assert_true(strcmp(reason, "outside_division") == 0 || strcmp(reason, "not_found") == 0);
    outfall__v1__sync_response__free_unpacked(resp, NULL);
    th_sum after = th_db_checksum(srv.data, TH_STATE);
    assert_string_equal(before.hex, after.hex);
}

static void multi_division_surveyor_writes_in_each(void **state) {
    (void)state;
    char a[37], b[37], c[37], reason[64];
    assert_string_equal(create_in(&multi, &dmulti, "410802", a, NULL), "APPLIED");
    assert_string_equal(create_in(&multi, &dmulti, "410803", b, NULL), "APPLIED");
    assert_string_equal(create_in(&multi, &dmulti, "410804", c, reason), "REJECTED");
    assert_string_equal(reason, "outside_division");
}

static void city_surveyor_writes_in_every_division(void **state) {
    (void)state;
    const char *divs[] = {"410802", "410883", "410890"};
    for (int i = 0; i < 3; i++) {
        char id[37];
        assert_string_equal(create_in(&city, &dcity, divs[i], id, NULL), "APPLIED");
    }
}

static void division_user_reads_only_own_division(void **state) {
    (void)state;
    assert_int_equal(read_outfall(&s802, x802), 200);
    assert_int_equal(read_outfall(&s803, x803), 200);
    th_error e;
    assert_int_equal(th_get_outfall(&srv, s803.token, x802, NULL, &e), 404);
    assert_string_equal(e.code, "not_found");
    assert_int_equal(th_get_observation(&srv, s803.token, o802, NULL, &e), 404);
    assert_string_equal(e.code, "not_found");
    assert_int_equal(th_get_observation(&srv, s802.token, o802, NULL, NULL), 200);
    assert_true(listed(&s803, x803));
    assert_false(listed(&s803, x802));
    assert_true(listed(&s802, x802));
    assert_false(listed(&s802, x803));
}

static void supervisor_reads_only_own_division(void **state) {
    (void)state;
    assert_int_equal(read_outfall(&sup802, x802), 200);
    assert_int_equal(read_outfall(&sup802, x803), 404);
    assert_false(listed(&sup802, x803));
}

static void city_admin_and_integrator_read_everything(void **state) {
    (void)state;
    th_user *all[] = {&city, NULL /* admin */};
    for (int i = 0; i < 2; i++) {
        assert_int_equal(read_outfall(all[i], x802), 200);
        assert_int_equal(read_outfall(all[i], x803), 200);
        assert_true(listed(all[i], x802));
        assert_true(listed(all[i], x803));
        assert_true(in_feed(all[i], x802));
        assert_true(in_feed(all[i], x803));
        assert_true(in_feed(all[i], o802));
    }
    /* Integrators read every division, but only what a supervisor approved (review): these
     * records were never approved, so they are not there for them, nor are their observations. */
    assert_int_equal(read_outfall(&integ, x802), 404);
    assert_int_equal(read_outfall(&integ, x803), 404);
    assert_false(listed(&integ, x802));
    assert_false(in_feed(&integ, x803));
    assert_false(in_feed(&integ, o802));
}

static void feed_shows_only_callers_divisions(void **state) {
    (void)state;
    assert_true(in_feed(&s803, x803));
    assert_false(in_feed(&s803, x802));
    assert_false(in_feed(&s803, o802));
    assert_true(in_feed(&s802, x802));
    assert_true(in_feed(&s802, o802));
    assert_false(in_feed(&s802, x803));
}

static void sync_answer_carries_only_callers_divisions(void **state) {
    (void)state;
    double lat, lon;
    th_spot(&lat, &lon);
    th_batch *b = th_batch_new(&d803);
    th_outfall_create(b, "danhe", "410803", lat, lon);
    th_batch_req(b)->has_pull_limit = 1;
    th_batch_req(b)->pull_limit = 1000;
    Outfall__V1__SyncResponse *resp = th_sync_ok(&srv, s803.token, b, TH_PB);
    th_batch_free(b);
    assert_non_null(resp);
    int saw_own = 0;
    for (size_t i = 0; i < resp->n_feed; i++) {
        const Outfall__V1__FeedEntry *e = resp->feed[i];
        if (e->entry_case == OUTFALL__V1__FEED_ENTRY__ENTRY_OUTFALL) {
            assert_string_equal(TH_S(e->outfall->division_code), "410803");
            saw_own |= strcmp(TH_S(e->outfall->id), x803) == 0;
        } else if (e->entry_case == OUTFALL__V1__FEED_ENTRY__ENTRY_OBSERVATION) {
            assert_string_not_equal(TH_S(e->observation->id), o802);
        }
    }
    assert_true(saw_own);
    outfall__v1__sync_response__free_unpacked(resp, NULL);
}

static int group_setup(void **state) {
    (void)state;
    if (th_server_start(&srv, NULL) != 0) return -1;
    struct {
        th_user *u;
        th_device *d;
        int role;
        const char *const *divs;
    } who[] = {
        {&s802, &d802, TH_ROLE(SURVEYOR), (const char *const[]){"410802", NULL}},
        {&s803, &d803, TH_ROLE(SURVEYOR), (const char *const[]){"410803", NULL}},
        {&multi, &dmulti, TH_ROLE(SURVEYOR), (const char *const[]){"410802", "410803", NULL}},
        {&city, &dcity, TH_ROLE(SURVEYOR), (const char *const[]){"410800", NULL}},
        {&sup802, NULL, TH_ROLE(SUPERVISOR), (const char *const[]){"410802", NULL}},
        {&integ, NULL, TH_ROLE(INTEGRATOR), NULL},
    };
    for (size_t i = 0; i < sizeof who / sizeof *who; i++) {
        if (th_user_new(&srv, "scope", who[i].role, who[i].divs, who[i].u) != 0) return -1;
        if (who[i].d && th_device_new(&srv, who[i].u->token, who[i].d) != 0) return -1;
    }
    if (strcmp(create_in(&s802, &d802, "410802", x802, NULL), "APPLIED") != 0 ||
        strcmp(create_in(&s803, &d803, "410803", x803, NULL), "APPLIED") != 0)
        return -1;
    th_batch *b = th_batch_new(&d802);
    th_observation_create(b, x802, 35.0, 113.0)->notes = "seen from the bridge";
    util_strlcpy(o802, th_batch_entity(b, 0), sizeof o802);
    Outfall__V1__SyncResponse *resp = th_sync_ok(&srv, s802.token, b, TH_PB);
    th_batch_free(b);
    if (!resp) return -1;
    outfall__v1__sync_response__free_unpacked(resp, NULL);
    return 0;
}

static int group_teardown(void **state) {
    (void)state;
    return th_server_stop(&srv);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(surveyor_writes_inside_own_division),
        cmocka_unit_test(surveyor_cannot_create_outside_own_divisions),
        cmocka_unit_test(surveyor_cannot_edit_a_record_of_another_division),
        cmocka_unit_test(multi_division_surveyor_writes_in_each),
        cmocka_unit_test(city_surveyor_writes_in_every_division),
        cmocka_unit_test(division_user_reads_only_own_division),
        cmocka_unit_test(supervisor_reads_only_own_division),
        cmocka_unit_test(city_admin_and_integrator_read_everything),
        cmocka_unit_test(feed_shows_only_callers_divisions),
        cmocka_unit_test(sync_answer_carries_only_callers_divisions),
    };
    return cmocka_run_group_tests_name("scopes", tests, group_setup, group_teardown);
}
