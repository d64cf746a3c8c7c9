/* Login and tokens (expiry, revocation, malformed), users and roles, device enrolment and
 * revocation, and the answers for unknown routes and methods. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "common/util.h"
#include "tests/lib/harness.h"

static th_server srv;

/* A GET as token: the status, and the Error's code into code[64] when it is not 2xx. */
static long get_as(const char *token, const char *path, char code[64]) {
    th_error e;
    long st = th_call(&srv, "GET", path, token, TH_PB, NULL, NULL, NULL, &e);
    if (code) util_strlcpy(code, st >= 200 && st < 300 ? "" : e.code, 64);
    return st;
}

static void healthz_answers_ok_with_the_schema_version(void **state) {
    (void)state;
    Outfall__V1__Health *h = NULL;
    assert_int_equal(th_call(&srv, "GET", "/healthz", NULL, TH_PB, NULL,
                             &outfall__v1__health__descriptor, (ProtobufCMessage **)&h, NULL),
                     200);
    assert_non_null(h);
    assert_non_null(h->status);
    assert_true(h->schema_version >= 1);
    outfall__v1__health__free_unpacked(h, NULL);
}

static void login_returns_token_expiry_role_and_divisions(void **state) {
    (void)state;
    const char *divs[] = {"410802", "410803", NULL};
    assert_int_equal(th_user_create(&srv, th_admin_token(&srv), "li.wei", "correct horse 1",
                                    TH_ROLE(SURVEYOR), divs, NULL),
                     201);
    char token[128];
    Outfall__V1__LoginResponse *lr = NULL;
    assert_int_equal(th_login(&srv, "li.wei", "correct horse 1", token, &lr, NULL), 200);
    assert_true(strlen(token) >= 16);
    assert_int_equal(lr->role, TH_ROLE(SURVEYOR));
    assert_int_equal(lr->n_divisions, 2);
    assert_true(th_has(lr->divisions, lr->n_divisions, "410802"));
    assert_true(th_has(lr->divisions, lr->n_divisions, "410803"));
    assert_true(lr->expires_at_ms > util_now_ms());
    assert_string_equal(TH_S(lr->username), "li.wei");
    outfall__v1__login_response__free_unpacked(lr, NULL);
    assert_int_equal(get_as(token, "/v1/changes?since=0&limit=1", NULL), 200);
}

static void login_with_wrong_password_is_bad_credentials(void **state) {
    (void)state;
    th_error e;
    assert_int_equal(th_login(&srv, "admin", "not the password", NULL, NULL, &e), 401);
    assert_string_equal(e.code, "bad_credentials");
}

static void login_of_unknown_user_is_bad_credentials(void **state) {
    (void)state;
    th_error e;
    assert_int_equal(th_login(&srv, "nobody-here", "whatever pass", NULL, NULL, &e), 401);
    assert_string_equal(e.code, "bad_credentials");
}

static void request_without_token_is_token_missing(void **state) {
    (void)state;
    char code[64];
    assert_int_equal(get_as(NULL, "/v1/users", code), 401);
    assert_string_equal(code, "token_missing");
    assert_int_equal(get_as(NULL, "/v1/changes?since=0", code), 401);
    assert_string_equal(code, "token_missing");
}

static void malformed_or_unknown_token_is_token_invalid(void **state) {
    (void)state;
    char code[64];
    const char *bad[] = {"x", "not a token at all", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        assert_int_equal(get_as(bad[i], "/v1/users", code), 401);
        assert_string_equal(code, "token_invalid");
    }
    /* Not a bearer token at all. */
    const char *basic[] = {"Authorization: Basic YWRtaW46eA==", NULL};
    th_request rq = {.method = "GET", .path = "/v1/users", .accept = TH_PB, .headers = basic};
    th_response r;
    long st = th_http(&srv, &rq, &r);
    th_error e;
    th_error_decode(&r, &e);
    th_response_free(&r);
    assert_int_equal(st, 401);
    assert_true(strcmp(e.code, "token_invalid") == 0 || strcmp(e.code, "token_missing") == 0);
}

static void logout_revokes_only_that_token(void **state) {
    (void)state;
    th_user u;
    assert_int_equal(
        th_user_new(&srv, "leaver", TH_ROLE(SURVEYOR), (const char *const[]){"410804", NULL}, &u),
        0);
    char second[128];
    assert_int_equal(th_login(&srv, u.name, u.password, second, NULL, NULL), 200);
    assert_int_equal(th_logout(&srv, u.token, NULL), 204);
    char code[64];
    assert_int_equal(get_as(u.token, "/v1/changes?since=0", code), 401);
    assert_string_equal(code, "token_revoked");
    assert_int_equal(get_as(second, "/v1/changes?since=0", code), 200);
}

static void admin_creates_users_and_lists_them_without_passwords(void **state) {
    (void)state;
    const char *divs[] = {"410821", NULL};
    assert_int_equal(th_user_create(&srv, th_admin_token(&srv), "zhang.san", "zhang's secret",
                                    TH_ROLE(SUPERVISOR), divs, NULL),
                     201);
    Outfall__V1__UserList *list = NULL;
    assert_int_equal(th_call(&srv, "GET", "/v1/users", th_admin_token(&srv), TH_PB, NULL,
                             &outfall__v1__user_list__descriptor, (ProtobufCMessage **)&list, NULL),
                     200);
    int found = 0;
    for (size_t i = 0; i < list->n_users; i++) {
        const Outfall__V1__User *u = list->users[i];
        assert_true(u->password == NULL || u->password[0] == '\0');
        if (u->username && strcmp(u->username, "zhang.san") == 0) {
            found = 1;
            assert_int_equal(u->role, TH_ROLE(SUPERVISOR));
            assert_int_equal(u->n_divisions, 1);
            assert_string_equal(u->divisions[0], "410821");
        }
    }
    assert_true(found);
    outfall__v1__user_list__free_unpacked(list, NULL);
}

static void taken_username_is_username_taken(void **state) {
    (void)state;
    const char *divs[] = {"410822", NULL};
    th_error e;
    assert_int_equal(th_user_create(&srv, th_admin_token(&srv), "wang.wu", "first password",
                                    TH_ROLE(SURVEYOR), divs, &e),
                     201);
    th_sum before = th_db_checksum(srv.data, TH_ALL);
    assert_int_equal(th_user_create(&srv, th_admin_token(&srv), "wang.wu", "second password",
                                    TH_ROLE(ADMIN), divs, &e),
                     409);
    assert_string_equal(e.code, "username_taken");
    th_sum after = th_db_checksum(srv.data, TH_ALL);
    assert_string_equal(before.hex, after.hex);
}

static void user_with_unknown_division_is_refused(void **state) {
    (void)state;
    const char *divs[] = {"999999", NULL};
    th_error e;
    th_sum before = th_db_checksum(srv.data, TH_ALL);
    assert_int_equal(th_user_create(&srv, th_admin_token(&srv), "zhao.liu", "zhao's secret",
                                    TH_ROLE(SURVEYOR), divs, &e),
                     400);
    assert_string_equal(e.code, "unknown_division");
    th_sum after = th_db_checksum(srv.data, TH_ALL);
    assert_string_equal(before.hex, after.hex);
}

static void only_admins_manage_users(void **state) {
    (void)state;
    th_user sv, in;
    assert_int_equal(
        th_user_new(&srv, "sv", TH_ROLE(SUPERVISOR), (const char *const[]){"410800", NULL}, &sv),
        0);
    assert_int_equal(th_user_new(&srv, "in", TH_ROLE(INTEGRATOR), NULL, &in), 0);
    const char *tokens[] = {sv.token, in.token};
    for (int i = 0; i < 2; i++) {
        th_error e;
        th_sum before = th_db_checksum(srv.data, TH_ALL);
        assert_int_equal(
            th_user_create(&srv, tokens[i], "usurper", "usurper's pw", TH_ROLE(ADMIN), NULL, &e),
            403);
        assert_string_equal(e.code, "forbidden_role");
        th_sum after = th_db_checksum(srv.data, TH_ALL);
        assert_string_equal(before.hex, after.hex);
        char code[64];
        assert_int_equal(get_as(tokens[i], "/v1/users", code), 403);
        assert_string_equal(code, "forbidden_role");
    }
}

static void surveyor_enrolls_a_device_and_again_is_a_no_op(void **state) {
    (void)state;
    th_user u;
    assert_int_equal(
        th_user_new(&srv, "phone", TH_ROLE(SURVEYOR), (const char *const[]){"410825", NULL}, &u),
        0);
    th_device d;
    assert_int_equal(th_device_enroll(&srv, u.token, &d, NULL), 201);
    Outfall__V1__Device again = OUTFALL__V1__DEVICE__INIT;
    again.device_id = d.id;
    again.name = "test phone";
    again.has_public_key = 1;
    again.public_key.data = d.pk;
    again.public_key.len = 32;
    long st = th_call(&srv, "POST", "/v1/devices", u.token, TH_PB, &again.base, NULL, NULL, NULL);
    assert_true(st == 200 || st == 201);
}

static void enrolling_a_taken_device_id_is_device_taken(void **state) {
    (void)state;
    th_user u, v;
    const char *divs[] = {"410825", NULL};
    assert_int_equal(th_user_new(&srv, "owner", TH_ROLE(SURVEYOR), divs, &u), 0);
    assert_int_equal(th_user_new(&srv, "thief", TH_ROLE(SURVEYOR), divs, &v), 0);
    th_device d;
    assert_int_equal(th_device_enroll(&srv, u.token, &d, NULL), 201);
    uint8_t other_key[32];
    memset(other_key, 7, sizeof other_key);
    Outfall__V1__Device dev = OUTFALL__V1__DEVICE__INIT;
    dev.device_id = d.id;
    dev.has_public_key = 1;
    dev.public_key.len = 32;
    const char *who[] = {u.token, v.token, v.token};
    uint8_t *keys[] = {other_key, d.pk, other_key};
    for (int i = 0; i < 3; i++) {
        th_error e;
        dev.public_key.data = keys[i];
        th_sum before = th_db_checksum(srv.data, TH_ALL);
        assert_int_equal(
            th_call(&srv, "POST", "/v1/devices", who[i], TH_PB, &dev.base, NULL, NULL, &e), 409);
        assert_string_equal(e.code, "device_taken");
        th_sum after = th_db_checksum(srv.data, TH_ALL);
        assert_string_equal(before.hex, after.hex);
    }
}

static void device_key_of_wrong_length_is_invalid_argument(void **state) {
    (void)state;
    th_user u;
    assert_int_equal(
        th_user_new(&srv, "shortkey", TH_ROLE(SURVEYOR), (const char *const[]){"410825", NULL}, &u),
        0);
    uint8_t key[31] = {1};
    Outfall__V1__Device dev = OUTFALL__V1__DEVICE__INIT;
    char id[37];
    th_uuid(id);
    dev.device_id = id;
    dev.has_public_key = 1;
    dev.public_key.data = key;
    dev.public_key.len = sizeof key;
    th_error e;
    assert_int_equal(
        th_call(&srv, "POST", "/v1/devices", u.token, TH_PB, &dev.base, NULL, NULL, &e), 400);
    /* The conventions name invalid_argument; the engine's more specific code is as stable. */
    assert_true(strcmp(e.code, "invalid_argument") == 0 ||
                strcmp(e.code, "invalid_public_key") == 0);
}

static void integrator_cannot_enroll_devices_but_reads(void **state) {
    (void)state;
    th_user in;
    assert_int_equal(th_user_new(&srv, "integ", TH_ROLE(INTEGRATOR), NULL, &in), 0);
    th_device d;
    th_error e;
    assert_int_equal(th_device_enroll(&srv, in.token, &d, &e), 403);
    assert_string_equal(e.code, "forbidden_role");
    assert_int_equal(get_as(in.token, "/v1/changes?since=0&limit=5", NULL), 200);
    assert_int_equal(get_as(in.token, "/v1/outfalls?limit=5", NULL), 200);
}

static void admin_revokes_a_device_and_its_batches_are_refused(void **state) {
    (void)state;
    th_user u, other;
    const char *divs[] = {"410883", NULL};
    assert_int_equal(th_user_new(&srv, "revokee", TH_ROLE(SURVEYOR), divs, &u), 0);
    assert_int_equal(th_user_new(&srv, "bystander", TH_ROLE(SURVEYOR), divs, &other), 0);
    th_device d;
    assert_int_equal(th_device_new(&srv, u.token, &d), 0);
    th_batch *b = th_batch_new(&d);
    th_outfall_create(b, "huanghe", "410883", 34.9, 112.8);
    th_sync_result r;
    assert_int_equal(th_sync(&srv, u.token, b, TH_PB, &r), 200);
    th_sync_result_free(&r);
    th_batch_free(b);

    th_error e;
    assert_int_equal(th_device_revoke(&srv, other.token, d.id, &e), 403);
    assert_string_equal(e.code, "forbidden_role");
    assert_int_equal(th_device_revoke(&srv, th_admin_token(&srv), d.id, &e), 204);

    b = th_batch_new(&d);
    th_outfall_create(b, "huanghe", "410883", 34.95, 112.8);
    th_sum before = th_db_checksum(srv.data, TH_ALL);
    assert_int_equal(th_sync(&srv, u.token, b, TH_PB, &r), 401);
    assert_string_equal(r.err.code, "device_revoked");
    th_sum after = th_db_checksum(srv.data, TH_ALL);
    assert_string_equal(before.hex, after.hex);
    th_sync_result_free(&r);
    th_batch_free(b);
}

static void revoking_an_unknown_device_is_not_found(void **state) {
    (void)state;
    th_error e;
    assert_int_equal(th_device_revoke(&srv, th_admin_token(&srv), "no-such-device", &e), 404);
    assert_string_equal(e.code, "not_found");
}

static void unknown_route_is_not_found_and_wrong_method_not_allowed(void **state) {
    (void)state;
    const char *admin = th_admin_token(&srv);
    char code[64];
    assert_int_equal(get_as(admin, "/v1/nothing-here", code), 404);
    assert_string_equal(code, "not_found");
    assert_int_equal(get_as(admin, "/v1/sync", code), 405);
    assert_string_equal(code, "method_not_allowed");
    th_error e;
    assert_int_equal(th_call(&srv, "DELETE", "/v1/users", admin, TH_PB, NULL, NULL, NULL, &e), 405);
    assert_string_equal(e.code, "method_not_allowed");
}

static void token_expires_after_its_ttl(void **state) {
    (void)state;
    th_user u;
    assert_int_equal(th_user_new(&srv, "brief", TH_ROLE(INTEGRATOR), NULL, &u), 0);
    int64_t issued = util_now_ms();
    char code[64];
    assert_int_equal(get_as(u.token, "/v1/changes?since=0", code), 200);
    int64_t wait = issued + 2000 + 600 - util_now_ms();
    struct timespec ts = {(time_t)(wait / 1000), (long)(wait % 1000) * 1000000L};
    if (wait > 0) nanosleep(&ts, NULL);
    th_sum before = th_db_checksum(srv.data, TH_ALL);
    assert_int_equal(get_as(u.token, "/v1/changes?since=0", code), 401);
    assert_string_equal(code, "token_expired");
    th_sum after = th_db_checksum(srv.data, TH_ALL);
    assert_string_equal(before.hex, after.hex);
}

static int setup_default(void **state) {
    (void)state;
    return th_server_start(&srv, NULL) == 0 && th_admin_token(&srv) ? 0 : -1;
}

static int setup_short_ttl(void **state) {
    (void)state;
    const char *args[] = {"--token-ttl", "2", NULL};
    return th_server_start(&srv, args);
}

static int teardown(void **state) {
    (void)state;
    return th_server_stop(&srv);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(healthz_answers_ok_with_the_schema_version),
        cmocka_unit_test(login_returns_token_expiry_role_and_divisions),
        cmocka_unit_test(login_with_wrong_password_is_bad_credentials),
        cmocka_unit_test(login_of_unknown_user_is_bad_credentials),
        cmocka_unit_test(request_without_token_is_token_missing),
        cmocka_unit_test(malformed_or_unknown_token_is_token_invalid),
        cmocka_unit_test(logout_revokes_only_that_token),
        cmocka_unit_test(admin_creates_users_and_lists_them_without_passwords),
        cmocka_unit_test(taken_username_is_username_taken),
        cmocka_unit_test(user_with_unknown_division_is_refused),
        cmocka_unit_test(only_admins_manage_users),
        cmocka_unit_test(surveyor_enrolls_a_device_and_again_is_a_no_op),
        cmocka_unit_test(enrolling_a_taken_device_id_is_device_taken),
        cmocka_unit_test(device_key_of_wrong_length_is_invalid_argument),
        cmocka_unit_test(integrator_cannot_enroll_devices_but_reads),
        cmocka_unit_test(admin_revokes_a_device_and_its_batches_are_refused),
        cmocka_unit_test(revoking_an_unknown_device_is_not_found),
        cmocka_unit_test(unknown_route_is_not_found_and_wrong_method_not_allowed),
    };
    const struct CMUnitTest ttl[] = {
        cmocka_unit_test(token_expires_after_its_ttl),
    };
    int failed = cmocka_run_group_tests_name("auth", tests, setup_default, teardown);
    failed += cmocka_run_group_tests_name("token ttl", ttl, setup_short_ttl, teardown);
    return failed;
}
