/* outfallctl's account commands against a real server: an admin disables, enables and resets an
 * account, the user changes the one-time password with `outfallctl password`; refusals exit 1
 * with the server's code, bad usage exits 2. */
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "common/util.h"
#include "tests/lib/harness.h"

static th_server srv;
static char out[32768], err[32768];

/* Runs outfallctl with token (NULL: none), one more env entry (may be NULL) and args. */
static int ctl(const char *token, const char *env, const char *const *args) {
    char tok[200];
    snprintf(tok, sizeof tok, "OUTFALL_TOKEN=%s", token ? token : "");
    const char *envs[] = {tok, env, NULL};
    int st = th_ctl(&srv, envs, args, out, err, sizeof out);
    if (err[0])
        print_message("outfallctl %s %s: exit %d: %s", args[0], args[1] ? args[1] : "", st, err);
    return st;
}

/* The string value of key in the JSON object printed to out, into buf[cap] ("" when none). */
static void printed(const char *key, char *buf, size_t cap) {
    json_error_t je;
    json_t *doc = json_loads(out, 0, &je);
    const char *v = doc ? json_string_value(json_object_get(doc, key)) : NULL;
    util_strlcpy(buf, v ? v : "", cap);
    json_decref(doc);
}

static void cli_admin_disables_enables_and_resets_an_account(void **state) {
    (void)state;
    const char *divs[] = {"410882", NULL};
    th_user u;
    assert_int_equal(th_user_new(&srv, "cli.user", TH_ROLE(SURVEYOR), divs, &u), 0);
    const char *admin = th_admin_token(&srv);

    const char *disable[] = {"users", "disable", u.name, NULL};
    assert_int_equal(ctl(admin, NULL, disable), 0);
    assert_non_null(strstr(out, "\"disabled\": true"));
    th_error e;
    char token[128];
    assert_int_equal(th_login(&srv, u.name, u.password, token, NULL, &e), 403);
    assert_string_equal(e.code, "account_disabled");
    const char *enable[] = {"users", "enable", u.name, NULL};
    assert_int_equal(ctl(admin, NULL, enable), 0);

    const char *reset[] = {"users", "reset-password", u.name, NULL};
    assert_int_equal(ctl(admin, NULL, reset), 0);
    char made[64];
    printed("password", made, sizeof made);
    assert_int_equal(strlen(made), 16);
    assert_int_equal(th_login(&srv, u.name, made, token, NULL, NULL), 200);

    char current[128];
    snprintf(current, sizeof current, "OUTFALL_PASSWORD=%s", made);
    const char *password[] = {"password", NULL};
    const char *envs[] = {current, "OUTFALL_NEW_PASSWORD=chosen by the user", NULL};
    char tok[200];
    snprintf(tok, sizeof tok, "OUTFALL_TOKEN=%s", token);
    const char *all[] = {tok, envs[0], envs[1], NULL};
    assert_int_equal(th_ctl(&srv, all, password, out, err, sizeof out), 0);
    assert_non_null(strstr(out, "password changed"));
    assert_int_equal(th_login(&srv, u.name, "chosen by the user", token, NULL, NULL), 200);

    const char *tokens[] = {"users", "tokens", u.name, NULL};
    assert_int_equal(ctl(token, NULL, tokens), 0);
    assert_null(strstr(out, token)); /* ids, never the tokens */
}

static void cli_refusals_exit_1_with_the_code_and_bad_usage_2(void **state) {
    (void)state;
    const char *divs[] = {"410882", NULL};
    th_user u;
    assert_int_equal(th_user_new(&srv, "cli.other", TH_ROLE(SURVEYOR), divs, &u), 0);
    const char *self[] = {"users", "disable", "admin", NULL};
    assert_int_equal(ctl(th_admin_token(&srv), NULL, self), 1);
    assert_non_null(strstr(err, "last_admin"));
    const char *theirs[] = {"users", "devices", "admin", NULL};
    assert_int_equal(ctl(u.token, NULL, theirs), 1);
    assert_non_null(strstr(err, "forbidden_role"));
    const char *role[] = {"users", "set-role", u.name, "wizard", NULL};
    assert_int_equal(ctl(th_admin_token(&srv), NULL, role), 2);
    const char *missing[] = {"users", "revoke-token", u.name, NULL};
    assert_int_equal(ctl(th_admin_token(&srv), NULL, missing), 2);
    const char *promote[] = {"users", "set-role", u.name, "supervisor", NULL};
    assert_int_equal(ctl(th_admin_token(&srv), NULL, promote), 0);
    assert_non_null(strstr(out, "ROLE_SUPERVISOR"));
}

static int setup(void **state) {
    (void)state;
    return th_server_start(&srv, NULL) == 0 && th_admin_token(&srv) ? 0 : -1;
}

static int teardown(void **state) {
    (void)state;
    return th_server_stop(&srv);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(cli_admin_disables_enables_and_resets_an_account),
        cmocka_unit_test(cli_refusals_exit_1_with_the_code_and_bad_usage_2),
    };
    return cmocka_run_group_tests_name("cli accounts", tests, setup, teardown);
}
