/* The console's inventory over HTTP: GET /v1/outfalls with q= (part of the code or the name),
 * type=, stage=, flag= and overdue=1, each alone and paged with page_token, and every bad value
 * refused with 400 invalid_argument and a message naming what is allowed. One real server; the
 * records live in 孟州市 (410883), the only division these tests write, so lists are exact. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/credit_code.h"
#include "common/util.h"
#include "tests/lib/harness.h"

#define DIV "410883" /* 孟州市 */

static th_server srv;
static th_user sup, surveyor, integrator;
static th_device dev;

/* The records: a municipal plant outfall approved (stage FOUND), an enterprise outfall approved
 * and planned with a deadline long past (overdue), a second enterprise outfall approved and only
 * traced, and a pending record whose party's credit code fails its check (flagged). */
static char plant[37], overdue_one[37], traced_one[37], flagged[37];
static char plant_code[64];

enum {
    MUNICIPAL = OUTFALL__V1__OUTFALL_TYPE__OUTFALL_TYPE_MUNICIPAL_WWTP,
    ENTERPRISE = OUTFALL__V1__OUTFALL_TYPE__OUTFALL_TYPE_INDUSTRIAL_ENTERPRISE,
    FOUND = OUTFALL__V1__LIFECYCLE_STAGE__LIFECYCLE_STAGE_FOUND,
    TRACED = OUTFALL__V1__LIFECYCLE_STAGE__LIFECYCLE_STAGE_TRACED,
    PLANNED = OUTFALL__V1__LIFECYCLE_STAGE__LIFECYCLE_STAGE_PLANNED,
    REGULARIZE = OUTFALL__V1__REMEDIATION_MEASURE__REMEDIATION_MEASURE_REGULARIZE,
};

/* Syncs a new outfall of DIV named name, of type, with the party's credit code (NULL: none);
 * id gets its id. */
static int create(const char *name, int type, const char *credit_code, char id[37]) {
    double lat, lon;
    th_spot(&lat, &lon);
    th_batch *b = th_batch_new(&dev);
    Outfall__V1__Outfall *o = th_outfall_create(b, "huanghe", DIV, lat, lon);
    o->name = (char *)name;
    o->has_type = 1;
    o->type = type;
    if (credit_code) {
        Outfall__V1__ResponsibleParty *rp = th_outfall_party(b, o);
        rp->name = "某厂";
        rp->credit_code = (char *)credit_code;
    }
    util_strlcpy(id, th_batch_entity(b, 0), 37);
    Outfall__V1__SyncResponse *resp = th_sync_ok(&srv, surveyor.token, b, TH_PB);
    th_batch_free(b);
    if (!resp) return -1;
    outfall__v1__sync_response__free_unpacked(resp, NULL);
    return 0;
}

/* Moves id from base to stage on date as the supervisor, with a party (TRACED) or a plan
 * (PLANNED, deadline). Returns the new version, or -1. */
static int64_t move(const char *id, int64_t base, int stage, const char *date,
                    const char *deadline) {
    Outfall__V1__LifecycleTransition t = OUTFALL__V1__LIFECYCLE_TRANSITION__INIT;
    Outfall__V1__ResponsibleParty party = OUTFALL__V1__RESPONSIBLE_PARTY__INIT;
    Outfall__V1__RemediationPlan plan = OUTFALL__V1__REMEDIATION_PLAN__INIT;
    char tid[37], code[19] = "91410883MA44R7LT1";
    th_uuid(tid);
    t.transition_id = tid;
    t.outfall_id = (char *)id;
    t.has_base_version = t.has_to_stage = 1;
    t.base_version = base;
    t.to_stage = stage;
    t.effective_date = (char *)date;
    if (stage == TRACED) {
        code[17] = credit_code_check_char(code);
        party.name = "孟州市某化工有限公司";
        party.credit_code = code;
        t.responsible_party = &party;
    }
    if (stage == PLANNED) {
        plan.has_measure = 1;
        plan.measure = (Outfall__V1__RemediationMeasure)REGULARIZE;
        plan.deadline = (char *)deadline;
        t.plan = &plan;
    }
    ProtobufCMessage *res = NULL;
    th_error e;
    long st = th_call(&srv, "POST", "/v1/programme/transitions", sup.token, TH_PB, &t.base,
                      &outfall__v1__transition_result__descriptor, &res, &e);
    if (st != 200) {
        print_message("transition: %ld %s %s\n", st, e.code, e.message);
        return -1;
    }
    int64_t v = ((Outfall__V1__TransitionResult *)res)->outfall->version;
    protobuf_c_message_free_unpacked(res, NULL);
    return v;
}

/* Appends text to out (cap bytes), ',' first unless out is empty. */
static void append_id(char *out, size_t cap, const char *text) {
    size_t n = strlen(out);
    snprintf(out + n, cap - n, "%s%s", n ? "," : "", text);
}

/* The ids listed by GET /v1/outfalls?division=DIV&query as token, all pages of `limit`, joined
 * by ',' in order into out; returns the number of pages. */
static int list_ids(const char *token, const char *query, int limit, char *out, size_t cap) {
    char token_buf[128] = "", path[512];
    int pages = 0;
    out[0] = '\0';
    do {
        snprintf(path, sizeof path, "division=" DIV "&limit=%d&%s%s%s", limit, query,
                 token_buf[0] ? "&page_token=" : "", token_buf);
        Outfall__V1__OutfallList *l = NULL;
        th_error e;
        long st = th_list_outfalls(&srv, token, path, &l, &e);
        if (st != 200) print_message("list ?%s: %ld %s %s\n", path, st, e.code, e.message);
        assert_int_equal(st, 200);
        for (size_t i = 0; i < l->n_outfalls; i++) {
            append_id(out, cap, TH_S(l->outfalls[i]->id));
        }
        util_strlcpy(token_buf, l->next_page_token ? l->next_page_token : "", sizeof token_buf);
        outfall__v1__outfall_list__free_unpacked(l, NULL);
        pages++;
    } while (token_buf[0] && pages < 50);
    return pages;
}

/* The four ids in id order, those listed in `which` (a string of letters p, o, t, f). */
static void expected(const char *which, char *out, size_t cap) {
    const char *ids[4] = {plant, overdue_one, traced_one, flagged};
    const char *names = "potf";
    int chosen[4] = {0};
    for (int i = 0; i < 4; i++)
        chosen[i] = strchr(which, names[i]) != NULL;
    out[0] = '\0';
    for (int round = 0; round < 4; round++) { /* selection by smallest id */
        int best = -1;
        for (int i = 0; i < 4; i++)
            if (chosen[i] && (best < 0 || strcmp(ids[i], ids[best]) < 0)) best = i;
        if (best < 0) break;
        append_id(out, cap, ids[best]);
        chosen[best] = 0;
    }
}

static void lists(const char *query, const char *which) {
    char got[512], want[512];
    list_ids(sup.token, query, 100, got, sizeof got);
    expected(which, want, sizeof want);
    if (strcmp(got, want) != 0) print_message("?%s\n got  %s\n want %s\n", query, got, want);
    assert_string_equal(got, want);
}

/* ---- the filters ---------------------------------------------------------------------------- */

static void q_finds_outfalls_by_part_of_their_name(void **state) {
    (void)state;
    lists("q=%E5%8C%96%E5%B7%A5", "ot");                  /* 化工 */
    lists("q=%E5%9F%8E%E5%8C%97%E6%B1%A1%E6%B0%B4", "p"); /* 城北污水 */
    lists("q=%E6%97%A0%E6%AD%A4%E6%8E%92%E5%8F%A3", "");  /* 无此排口 */
}

static void q_finds_an_outfall_by_its_code_in_any_case(void **state) {
    (void)state;
    char query[128], lower[64];
    snprintf(query, sizeof query, "q=%s", plant_code);
    lists(query, "p");
    /* The code's tail alone, and in lower case. */
    size_t n = strlen(plant_code);
    for (size_t i = 0; i <= n; i++)
        lower[i] = (char)(plant_code[i] >= 'A' && plant_code[i] <= 'Z' ? plant_code[i] - 'A' + 'a'
                                                                       : plant_code[i]);
    snprintf(query, sizeof query, "q=%s", lower + (n > 6 ? n - 6 : 0));
    lists(query, "p");
}

static void type_lists_only_outfalls_of_that_type(void **state) {
    (void)state;
    lists("type=MUNICIPAL_WWTP", "p");
    lists("type=outfall_type_industrial_enterprise", "otf");
    lists("type=1", "otf");
    lists("type=MINE", "");
}

static void stage_lists_approved_outfalls_at_that_stage(void **state) {
    (void)state;
    lists("stage=FOUND", "p"); /* approved without a stage; never the pending record */
    lists("stage=TRACED", "t");
    lists("stage=LIFECYCLE_STAGE_PLANNED", "o");
    lists("stage=CLOSED", "");
}

static void flag_lists_outfalls_carrying_that_flag(void **state) {
    (void)state;
    lists("flag=credit_code_invalid", "f");
    lists("flag=duplicate_suspect", "");
}

static void overdue_lists_plans_past_their_deadline(void **state) {
    (void)state;
    lists("overdue=1", "o");
    lists("overdue=0", "potf");
    lists("overdue=1&type=INDUSTRIAL_ENTERPRISE&q=%E5%8C%96%E5%B7%A5", "o");
    lists("overdue=1&type=MUNICIPAL_WWTP", "");
}

static void filtered_lists_page_by_id_without_gaps_or_repeats(void **state) {
    (void)state;
    char got[512], want[512];
    int pages = list_ids(sup.token, "type=INDUSTRIAL_ENTERPRISE", 1, got, sizeof got);
    expected("otf", want, sizeof want);
    assert_string_equal(got, want);
    assert_int_equal(pages, 3);
}

/* Runs last: it adds a record to DIV. A name changed from the field is found by its new name
 * only (the search copy follows every write of the record). */
static void q_follows_a_renamed_outfall(void **state) {
    (void)state;
    char renamed[37], got[512];
    assert_int_equal(create("旧名甲排口", MUNICIPAL, NULL, renamed), 0);
    list_ids(sup.token, "q=%E6%97%A7%E5%90%8D%E7%94%B2", 100, got, sizeof got); /* 旧名甲 */
    assert_string_equal(got, renamed);
    th_batch *b = th_batch_new(&dev);
    th_outfall_edit(b, renamed, 1)->name = "新名乙排口";
    Outfall__V1__SyncResponse *resp = th_sync_ok(&srv, surveyor.token, b, TH_PB);
    th_batch_free(b);
    assert_non_null(resp);
    assert_int_equal(resp->results[0]->status, TH_STATUS(APPLIED));
    outfall__v1__sync_response__free_unpacked(resp, NULL);
    list_ids(sup.token, "q=%E6%97%A7%E5%90%8D%E7%94%B2", 100, got, sizeof got);
    assert_string_equal(got, "");
    list_ids(sup.token, "q=%E6%96%B0%E5%90%8D%E4%B9%99", 100, got, sizeof got); /* 新名乙 */
    assert_string_equal(got, renamed);
}

/* ---- bad values ----------------------------------------------------------------------------- */

static void refused(const char *token, const char *query, const char *in_message) {
    char path[512];
    snprintf(path, sizeof path, "division=" DIV "&%s", query);
    Outfall__V1__OutfallList *l = NULL;
    th_error e;
    long st = th_list_outfalls(&srv, token, path, &l, &e);
    if (st != 400 || strcmp(e.code, "invalid_argument") != 0 || !strstr(e.message, in_message))
        print_message("?%s: %ld %s %s\n", query, st, e.code, e.message);
    assert_int_equal(st, 400);
    assert_string_equal(e.code, "invalid_argument");
    assert_non_null(strstr(e.message, in_message));
    if (l) outfall__v1__outfall_list__free_unpacked(l, NULL);
}

static void bad_filter_values_are_refused_with_what_is_allowed(void **state) {
    (void)state;
    refused(sup.token, "type=NOPE", "type must be an outfall type");
    refused(sup.token, "type=UNSPECIFIED", "type must be");
    refused(sup.token, "type=0", "type must be");
    refused(sup.token, "type=99", "type must be");
    refused(sup.token, "stage=DONE", "stage must be FOUND, TRACED");
    refused(sup.token, "stage=-1", "stage must be");
    refused(sup.token, "overdue=2", "overdue must be an integer from 0 to 1");
    refused(sup.token, "overdue=yes", "overdue must be");
    refused(sup.token, "flag=Not-A-Flag", "flag must be a flag's name");
    refused(sup.token, "flag=%27%20OR%201%3D1", "flag must be");
    refused(sup.token, "q=a%01b", "q must be at most 64 bytes of UTF-8");
    refused(sup.token, "q=%FF%FE", "q must be");
    refused(sup.token, "q=%C0%AF", "q must be");    /* an overlong '/' */
    refused(sup.token, "q=%ED%A0%80", "q must be"); /* a surrogate */
    refused(sup.token, "q=%E5%8C", "q must be");    /* cut short */
    refused(sup.token, "q=0123456789012345678901234567890123456789012345678901234567890123456789",
            "q must be");
    /* Integrators read the approved version: the filters on the latest one are not theirs. */
    refused(integrator.token, "q=%E5%8C%96%E5%B7%A5", "need view=latest");
    refused(sup.token, "view=approved&stage=FOUND", "need view=latest");
}

/* ---- set-up ---------------------------------------------------------------------------------- */

static int group_setup(void **state) {
    (void)state;
    const char *div[] = {DIV, NULL}, *city[] = {"410800", NULL};
    /* The lifecycle below is dated in 2023, long before the records were made: they are taken
     * as first seen when the programme started, and the backdating limit as far off (the
     * honest-dates rules are tests/api/test_dates.c's). */
    const char *const args[] = {"--backdate-days", "36500", NULL};
    if (th_server_start(&srv, args) != 0 ||
        th_user_new(&srv, "sup-city", TH_ROLE(SUPERVISOR), city, &sup) ||
        th_user_new(&srv, "surveyor", TH_ROLE(SURVEYOR), div, &surveyor) ||
        th_user_new(&srv, "integrator", TH_ROLE(INTEGRATOR), city, &integrator) ||
        th_device_new(&srv, surveyor.token, &dev))
        return -1;
    if (create("城北污水处理厂排口", MUNICIPAL, NULL, plant) ||
        create("沁河化工一厂排口", ENTERPRISE, NULL, overdue_one) ||
        create("沁河化工二厂排口", ENTERPRISE, NULL, traced_one) ||
        create("校验不过的排口", ENTERPRISE, "NOT-A-CREDIT-CODE!", flagged))
        return -1;
    const char *approve[] = {plant, overdue_one, traced_one};
    for (int i = 0; i < 3; i++)
        if (th_approve(&srv, sup.token, approve[i], 1, NULL) != 200) return -1;
    th_first_seen_at_start(&srv, overdue_one);
    th_first_seen_at_start(&srv, traced_one);
    int64_t v = move(overdue_one, 2, FOUND, "2023-03-01", NULL);
    if (v < 0 || (v = move(overdue_one, v, TRACED, "2023-04-01", NULL)) < 0 ||
        (v = move(overdue_one, v, PLANNED, "2023-05-01", "2023-12-31")) < 0)
        return -1;
    if ((v = move(traced_one, 2, FOUND, "2023-03-01", NULL)) < 0 ||
        move(traced_one, v, TRACED, "2023-04-01", NULL) < 0)
        return -1;
    Outfall__V1__Outfall *o = NULL;
    if (th_get_outfall(&srv, sup.token, plant, &o, NULL) != 200 || !o->code) return -1;
    util_strlcpy(plant_code, o->code, sizeof plant_code);
    outfall__v1__outfall__free_unpacked(o, NULL);
    return 0;
}

static int group_teardown(void **state) {
    (void)state;
    return th_server_stop(&srv);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(q_finds_outfalls_by_part_of_their_name),
        cmocka_unit_test(q_finds_an_outfall_by_its_code_in_any_case),
        cmocka_unit_test(type_lists_only_outfalls_of_that_type),
        cmocka_unit_test(stage_lists_approved_outfalls_at_that_stage),
        cmocka_unit_test(flag_lists_outfalls_carrying_that_flag),
        cmocka_unit_test(overdue_lists_plans_past_their_deadline),
        cmocka_unit_test(filtered_lists_page_by_id_without_gaps_or_repeats),
        cmocka_unit_test(bad_filter_values_are_refused_with_what_is_allowed),
        cmocka_unit_test(q_follows_a_renamed_outfall),
    };
    return cmocka_run_group_tests_name("the inventory's filters over HTTP", tests, group_setup,
                                       group_teardown);
}
