/* Applications to set up an outfall through the engine (tests programme/applications.c): the
 * authority table of 三.一.2 case by case, with its precedence, the 三.一.1 refusal for every
 * outfall type, and the decision steps with their retries and the public view. */
#include "tests/sync/fixture.h"

#include "common/credit_code.h"
#include "programme/applications.h"

#define KIND(x) OUTFALL__V1__APPLICATION_KIND__APPLICATION_KIND_##x
#define EIA(x) OUTFALL__V1__EIA_LEVEL__EIA_LEVEL_##x
#define AUTH(x) OUTFALL__V1__APPROVAL_AUTHORITY__APPROVAL_AUTHORITY_##x
#define STATUS(x) OUTFALL__V1__APPLICATION_STATUS__APPLICATION_STATUS_##x
#define TYPE(x) OUTFALL__V1__OUTFALL_TYPE__OUTFALL_TYPE_##x

static void authority_follows_3_1_2_first_match_wins(void **state) {
    (void)state;
    static const struct {
        int level, buffer, interprov, intercity;
        const char *basin;
        int want;
        const char *name;
    } cases[] = {
        {EIA(NATIONAL), 0, 0, 0, "huanghe", AUTH(BASIN_BUREAU),
         "生态环境部黄河流域生态环境监督管理局"},
        {EIA(NATIONAL), 0, 0, 0, "haihe", AUTH(BASIN_BUREAU),
         "生态环境部海河流域北海海域生态环境监督管理局"},
        {EIA(COUNTY), 1, 0, 0, "huanghe", AUTH(BASIN_BUREAU),
         "生态环境部黄河流域生态环境监督管理局"},
        {EIA(CITY), 0, 1, 0, "haihe", AUTH(BASIN_BUREAU),
         "生态环境部海河流域北海海域生态环境监督管理局"},
        /* the basin's cases win over an inter-city dispute */
        {EIA(PROVINCIAL), 0, 1, 1, "huanghe", AUTH(BASIN_BUREAU),
         "生态环境部黄河流域生态环境监督管理局"},
        {0, 1, 0, 0, "huanghe", AUTH(BASIN_BUREAU), "生态环境部黄河流域生态环境监督管理局"},
        {EIA(PROVINCIAL), 0, 0, 0, "huanghe", AUTH(PROVINCIAL_DEPARTMENT), "河南省生态环境厅"},
        {EIA(COUNTY), 0, 0, 1, "huanghe", AUTH(PROVINCIAL_DEPARTMENT), "河南省生态环境厅"},
        {0, 0, 0, 1, "haihe", AUTH(PROVINCIAL_DEPARTMENT), "河南省生态环境厅"},
        {EIA(CITY), 0, 0, 0, "huanghe", AUTH(CITY_BUREAU), "焦作市生态环境局"},
        {EIA(COUNTY), 0, 0, 0, "huanghe", AUTH(COUNTY_BUREAU), "孟州市生态环境部门"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        Outfall__V1__OutfallApplication a = OUTFALL__V1__OUTFALL_APPLICATION__INIT;
        a.has_eia_level = cases[i].level != 0;
        a.eia_level = cases[i].level;
        a.provincial_boundary_buffer = cases[i].buffer;
        a.inter_provincial_dispute = cases[i].interprov;
        a.inter_city_dispute = cases[i].intercity;
        int auth = 0;
        char name[160], basis[160], consult[160];
        assert_int_equal(applications_authority(&a, cases[i].basin, "孟州市", &auth, name,
                                                sizeof name, basis, sizeof basis, consult,
                                                sizeof consult),
                         0);
        if (auth != cases[i].want || strcmp(name, cases[i].name) != 0)
            print_error("case %zu: %d %s\n", i, auth, name);
        assert_int_equal(auth, cases[i].want);
        assert_string_equal(name, cases[i].name);
        assert_non_null(strstr(basis, "三.一.2"));
        assert_string_equal(consult, "");
    }
    /* Nothing names a decider: -1. Flood-control works: the basin's water commission. */
    Outfall__V1__OutfallApplication a = OUTFALL__V1__OUTFALL_APPLICATION__INIT;
    int auth = 0;
    char name[160], basis[160], consult[160];
    assert_int_equal(applications_authority(&a, "huanghe", "孟州市", &auth, name, sizeof name,
                                            basis, sizeof basis, consult, sizeof consult),
                     -1);
    a.has_eia_level = 1;
    a.eia_level = EIA(CITY);
    a.affects_flood_control = 1;
    assert_int_equal(applications_authority(&a, "haihe", "孟州市", &auth, name, sizeof name, basis,
                                            sizeof basis, consult, sizeof consult),
                     0);
    assert_non_null(strstr(consult, "水利部海河水利委员会"));
}

/* A filing of type on a section missing its target, by p. */
static int file_one(fixture *f, const principal *p, int type, int misses, char id[37],
                    sync_error *err) {
    static char credit[19];
    memcpy(credit, "91410883MA9XXQ7J6", 17);
    credit[17] = credit_code_check_char(credit);
    Outfall__V1__ResponsibleParty u = OUTFALL__V1__RESPONSIBLE_PARTY__INIT;
    u.name = "孟州某公司";
    u.credit_code = credit;
    u.contact = "李四";
    u.phone = "0391-8123456";
    Outfall__V1__OutfallApplication a = OUTFALL__V1__OUTFALL_APPLICATION__INIT;
    util_uuid_new(id);
    a.id = id;
    a.has_kind = a.has_eia_level = a.has_lat = a.has_lon = a.has_outfall_type = 1;
    a.kind = KIND(ENLARGE);
    a.project_name = "扩建项目";
    a.applicant = &u;
    a.eia_level = EIA(CITY);
    a.lat = 34.91;
    a.lon = 112.79;
    a.division_code = "410883";
    a.river_code = "huanghe";
    a.outfall_type = type;
    a.section_misses_target = misses;
    Outfall__V1__ApplicationResult *out = NULL;
    int rc = applications_file(f->s, p, &a, &out, err);
    if (out) protobuf_c_message_free_unpacked(&out->base, NULL);
    return rc;
}

static void missed_target_refuses_every_industrial_type_and_only_those(void **state) {
    fixture *f = *state;
    principal sup;
    fx_user(f, &sup, "sup-mz", OUTFALL__V1__ROLE__ROLE_SUPERVISOR, "410883");
    for (int type = 1; type <= 22; type++) {
        char id[37];
        sync_error err = {0};
        int rc = file_one(f, &sup, type, 1, id, &err);
        if (type <= 8) {
            assert_int_equal(rc, SYNC_EINVALID);
            assert_string_equal(err.code, "section_misses_target");
        } else {
            if (rc) print_error("type %d: %s %s\n", type, err.code, err.message);
            assert_int_equal(rc, 0);
        }
        /* On a section meeting its target every type is received. */
        assert_int_equal(file_one(f, &sup, type, 0, id, &err), 0);
    }
    assert_int_equal(fx_count(f, "SELECT count(*) FROM applications"), 14 + 22);
}

static void decisions_and_public_view(void **state) {
    fixture *f = *state;
    principal sup;
    fx_user(f, &sup, "sup-mz2", OUTFALL__V1__ROLE__ROLE_SUPERVISOR, "410883");
    char id[37], did[37];
    sync_error err = {0};
    assert_int_equal(file_one(f, &sup, TYPE(MUNICIPAL_WWTP), 1, id, &err), 0);
    Outfall__V1__ApplicationDecision d = OUTFALL__V1__APPLICATION_DECISION__INIT;
    util_uuid_new(did);
    d.decision_id = did;
    d.application_id = id;
    d.has_to_status = 1;
    d.to_status = STATUS(UNDER_REVIEW);
    Outfall__V1__ApplicationResult *out = NULL;
    /* A surveyor may not decide. */
    assert_int_equal(applications_decide(f->s, &f->surveyor, &d, &out, &err), SYNC_EFORBIDDEN);
    assert_int_equal(applications_decide(f->s, &sup, &d, &out, &err), 0);
    assert_int_equal(out->application->status, STATUS(UNDER_REVIEW));
    protobuf_c_message_free_unpacked(&out->base, NULL);
    assert_int_equal(applications_decide(f->s, &sup, &d, &out, &err), 0);
    assert_int_equal(out->status, OUTFALL__V1__CHANGE_STATUS__CHANGE_STATUS_ALREADY_APPLIED);
    protobuf_c_message_free_unpacked(&out->base, NULL);
    util_uuid_new(did);
    d.to_status = STATUS(APPROVED);
    d.comment = "同意";
    /* A city-approved project's outfall is the city bureau's to decide, not the county's. */
    assert_int_equal(applications_decide(f->s, &sup, &d, &out, &err), SYNC_ECONFLICT);
    assert_string_equal(err.code, "application_decided_elsewhere");
    principal city;
    fx_user(f, &city, "sup-city-app", OUTFALL__V1__ROLE__ROLE_SUPERVISOR, "410800");
    assert_int_equal(applications_decide(f->s, &city, &d, &out, &err), 0);
    assert_int_equal(out->application->version, 3);
    protobuf_c_message_free_unpacked(&out->base, NULL);

    Outfall__V1__OutfallApplication *a = NULL;
    assert_int_equal(applications_read(f->s, id, 1, &a, &err), 0);
    assert_int_equal(a->status, STATUS(APPROVED));
    assert_string_equal(a->decision_comment, "同意");
    assert_null(a->applicant->contact);
    assert_null(a->applicant->phone);
    assert_string_equal(a->applicant->name, "孟州某公司");
    protobuf_c_message_free_unpacked(&a->base, NULL);
    assert_int_equal(applications_read(f->s, id, 0, &a, &err), 0);
    assert_string_equal(a->applicant->phone, "0391-8123456");
    protobuf_c_message_free_unpacked(&a->base, NULL);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(authority_follows_3_1_2_first_match_wins),
        cmocka_unit_test(missed_target_refuses_every_industrial_type_and_only_those),
        cmocka_unit_test(decisions_and_public_view),
    };
    return cmocka_run_group_tests_name("applications", tests, fx_setup, fx_teardown);
}
