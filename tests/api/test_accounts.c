/* Accounts that can be managed (issue 18, point 3), through the real server: an admin changes a
 * user's role and divisions (their tokens are revoked), disables and re-enables an account (not
 * their own, never the last admin), resets a password (the user must change it before anything
 * else); every user changes their own password (a wrong current one counts towards the lock-out),
 * lists and revokes their devices and signed-in tokens; every refusal has its code and leaves the
 * data as it was, and every action is in the audit trail. */
#include <ctype.h>
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

#define DIV_A "410882"
#define DIV_B "410883"

/* One call as token with req (NULL: no body); the Error's code into code[64] ("" on 2xx). */
static long call(const char *method, const char *path, const char *token,
                 const ProtobufCMessage *req, const ProtobufCMessageDescriptor *out_desc,
                 ProtobufCMessage **out, char code[64]) {
    th_error e = {0};
    long st = th_call(&srv, method, path, token, TH_PB, req, out_desc, out, &e);
    if (code) util_strlcpy(code, st >= 200 && st < 300 ? "" : e.code, 64);
    return st;
}

/* PATCH /v1/users/{name} with u as token. */
static long patch_user(const char *token, const char *name, const Outfall__V1__User *u,
                       Outfall__V1__User **out, char code[64]) {
    char path[128];
    snprintf(path, sizeof path, "/v1/users/%s", name);
    return call("PATCH", path, token, &u->base, out ? &outfall__v1__user__descriptor : NULL,
                (ProtobufCMessage **)out, code);
}

/* PATCH {"disabled": disabled} of name as the admin. */
static long set_disabled(const char *name, int disabled, char code[64]) {
    Outfall__V1__User u = OUTFALL__V1__USER__INIT;
    u.has_disabled = 1;
    u.disabled = disabled;
    return patch_user(th_admin_token(&srv), name, &u, NULL, code);
}

/* POST /v1/me/password as token. */
static long change_password(const char *token, const char *current, const char *fresh,
                            char code[64]) {
    Outfall__V1__PasswordChange c = OUTFALL__V1__PASSWORD_CHANGE__INIT;
    c.current_password = (char *)current;
    c.new_password = (char *)fresh;
    return call("POST", "/v1/me/password", token, &c.base, NULL, NULL, code);
}

/* Audit rows of action on target with outcome. */
static int audited(const char *action, const char *target, const char *outcome) {
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM audit WHERE action = '%s' AND outcome = '%s' AND target = ?",
             action, outcome);
    return th_db_count(&srv, sql, target);
}

static long get_changes(const char *token, char code[64]) {
    return call("GET", "/v1/changes?since=0&limit=1", token, NULL, NULL, NULL, code);
}

static void admin_changes_role_and_divisions_and_the_users_tokens_are_revoked(void **state) {
    (void)state;
    const char *divs[] = {DIV_A, NULL};
    th_user u;
    assert_int_equal(th_user_new(&srv, "promoted", TH_ROLE(SURVEYOR), divs, &u), 0);
    char *to[] = {DIV_B};
    Outfall__V1__User change = OUTFALL__V1__USER__INIT;
    change.has_role = 1;
    change.role = TH_ROLE(SUPERVISOR);
    change.n_divisions = 1;
    change.divisions = to;
    Outfall__V1__User *out = NULL;
    char code[64];
    assert_int_equal(patch_user(th_admin_token(&srv), u.name, &change, &out, code), 200);
    assert_int_equal(out->role, TH_ROLE(SUPERVISOR));
    assert_int_equal(out->n_divisions, 1);
    assert_string_equal(out->divisions[0], DIV_B);
    assert_null(out->password);
    outfall__v1__user__free_unpacked(out, NULL);

    /* their rights changed: the old sign-in is gone, a new one carries the new rights */
    assert_int_equal(get_changes(u.token, code), 401);
    assert_string_equal(code, "token_revoked");
    Outfall__V1__LoginResponse *lr = NULL;
    char token[128];
    assert_int_equal(th_login(&srv, u.name, u.password, token, &lr, NULL), 200);
    assert_int_equal(lr->role, TH_ROLE(SUPERVISOR));
    assert_int_equal(lr->n_divisions, 1);
    assert_string_equal(lr->divisions[0], DIV_B);
    outfall__v1__login_response__free_unpacked(lr, NULL);
    assert_int_equal(call("GET", "/v1/review/queue", token, NULL, NULL, NULL, code), 200);
    assert_int_equal(audited("user.update", u.name, "ok"), 1);

    /* only the divisions: the role stays */
    char *both[] = {DIV_A, DIV_B};
    Outfall__V1__User divisions_only = OUTFALL__V1__USER__INIT;
    divisions_only.n_divisions = 2;
    divisions_only.divisions = both;
    assert_int_equal(patch_user(th_admin_token(&srv), u.name, &divisions_only, &out, code), 200);
    assert_int_equal(out->role, TH_ROLE(SUPERVISOR));
    assert_int_equal(out->n_divisions, 2);
    outfall__v1__user__free_unpacked(out, NULL);
}

static void role_and_division_changes_are_refused_with_their_codes(void **state) {
    (void)state;
    const char *divs[] = {DIV_A, NULL};
    th_user u;
    assert_int_equal(th_user_new(&srv, "unchanged", TH_ROLE(SURVEYOR), divs, &u), 0);
    char code[64];
    th_sum before = th_db_checksum(srv.data, TH_ALL);

    Outfall__V1__User bad_role = OUTFALL__V1__USER__INIT;
    bad_role.has_role = 1;
    bad_role.role = TH_ROLE(UNSPECIFIED);
    assert_int_equal(patch_user(th_admin_token(&srv), u.name, &bad_role, NULL, code), 400);
    assert_string_equal(code, "invalid_role");

    char *nowhere[] = {"999999"};
    Outfall__V1__User bad_div = OUTFALL__V1__USER__INIT;
    bad_div.n_divisions = 1;
    bad_div.divisions = nowhere;
    assert_int_equal(patch_user(th_admin_token(&srv), u.name, &bad_div, NULL, code), 400);
    assert_string_equal(code, "unknown_division");

    Outfall__V1__User promote = OUTFALL__V1__USER__INIT;
    promote.has_role = 1;
    promote.role = TH_ROLE(ADMIN);
    assert_int_equal(patch_user(th_admin_token(&srv), "no.such.user", &promote, NULL, code), 404);
    assert_string_equal(code, "not_found");
    assert_int_equal(patch_user(u.token, u.name, &promote, NULL, code), 403);
    assert_string_equal(code, "forbidden_role");

    Outfall__V1__User with_password = OUTFALL__V1__USER__INIT;
    with_password.password = "a new password here";
    assert_int_equal(patch_user(th_admin_token(&srv), u.name, &with_password, NULL, code), 400);
    assert_string_equal(code, "invalid_argument");

    th_sum after = th_db_checksum(srv.data, TH_ALL);
    assert_string_equal(before.hex, after.hex);
    assert_int_equal(get_changes(u.token, code), 200); /* nothing was revoked */
    assert_int_equal(audited("user.update", u.name, "invalid_role"), 1);
    assert_int_equal(audited("user.update", u.name, "unknown_division"), 1);
}

static void admin_cannot_disable_or_demote_themselves_nor_the_last_admin(void **state) {
    (void)state;
    char code[64];
    /* the only admin */
    assert_int_equal(set_disabled("admin", 1, code), 409);
    assert_string_equal(code, "last_admin");
    th_user other;
    assert_int_equal(th_user_new(&srv, "second.admin", TH_ROLE(ADMIN), NULL, &other), 0);
    /* with another admin, their own account is still theirs to keep */
    assert_int_equal(set_disabled("admin", 1, code), 409);
    assert_string_equal(code, "cannot_change_self");
    Outfall__V1__User demote = OUTFALL__V1__USER__INIT;
    demote.has_role = 1;
    demote.role = TH_ROLE(INTEGRATOR);
    assert_int_equal(patch_user(th_admin_token(&srv), "admin", &demote, NULL, code), 409);
    assert_string_equal(code, "cannot_change_self");
    assert_int_equal(get_changes(th_admin_token(&srv), code), 200);
    /* another admin may be disabled and enabled again */
    assert_int_equal(set_disabled(other.name, 1, code), 200);
    assert_int_equal(set_disabled(other.name, 0, code), 200);
    assert_int_equal(audited("user.update", "admin", "last_admin"), 1);
    assert_int_equal(audited("user.update", "admin", "cannot_change_self"), 2);
}

static void disabled_account_cannot_log_in_and_its_tokens_stop_at_once(void **state) {
    (void)state;
    const char *divs[] = {DIV_A, NULL};
    th_user u;
    assert_int_equal(th_user_new(&srv, "leaver", TH_ROLE(SURVEYOR), divs, &u), 0);
    char code[64];
    assert_int_equal(get_changes(u.token, code), 200);
    assert_int_equal(set_disabled(u.name, 1, code), 200);
    assert_int_equal(get_changes(u.token, code), 401);
    assert_string_equal(code, "token_revoked");

    th_error e;
    char token[128];
    assert_int_equal(th_login(&srv, u.name, u.password, token, NULL, &e), 403);
    assert_string_equal(e.code, "account_disabled");
    /* without the password nothing tells the account exists */
    assert_int_equal(th_login(&srv, u.name, "not the password", token, NULL, &e), 401);
    assert_string_equal(e.code, "bad_credentials");
    assert_int_equal(audited("login", u.name, "account_disabled"), 1);

    Outfall__V1__UserList *list = NULL;
    assert_int_equal(call("GET", "/v1/users", th_admin_token(&srv), NULL,
                          &outfall__v1__user_list__descriptor, (ProtobufCMessage **)&list, code),
                     200);
    int seen = 0;
    for (size_t i = 0; i < list->n_users; i++)
        if (strcmp(list->users[i]->username, u.name) == 0) seen = list->users[i]->disabled;
    assert_true(seen);
    outfall__v1__user_list__free_unpacked(list, NULL);

    assert_int_equal(set_disabled(u.name, 0, code), 200);
    assert_int_equal(get_changes(u.token, code), 401); /* the old sign-in stays revoked */
    assert_int_equal(th_login(&srv, u.name, u.password, token, NULL, &e), 200);
    assert_int_equal(get_changes(token, code), 200);
}

static int64_t login_ms(const char *name, const char *password, long want) {
    char token[128];
    th_error e;
    int64_t start = util_now_ms();
    assert_int_equal(th_login(&srv, name, password, token, NULL, &e), want);
    return util_now_ms() - start;
}

static int64_t median3(int64_t a, int64_t b, int64_t c) {
    return a > b ? (b > c ? b : (a > c ? c : a)) : (a > c ? a : (b > c ? c : b));
}

/* The account_disabled answer comes only after the argon2id check, so it takes what a wrong
 * password takes (the bound is loose: the machine is shared). */
static void disabled_answer_takes_the_time_of_a_wrong_password(void **state) {
    (void)state;
    const char *divs[] = {DIV_A, NULL};
    th_user u;
    assert_int_equal(th_user_new(&srv, "timed", TH_ROLE(SURVEYOR), divs, &u), 0);
    char code[64];
    assert_int_equal(set_disabled(u.name, 1, code), 200);
    int64_t wrong[3], disabled[3];
    for (int i = 0; i < 3; i++) {
        wrong[i] = login_ms(u.name, "not the password", 401);
        disabled[i] = login_ms(u.name, u.password, 403);
    }
    int64_t w = median3(wrong[0], wrong[1], wrong[2]);
    int64_t d = median3(disabled[0], disabled[1], disabled[2]);
    print_message("median login: wrong password %lld ms, disabled account %lld ms\n", (long long)w,
                  (long long)d);
    assert_true(2 * d >= w);
}

/* POST /v1/users/{name}/password as token with given (NULL: the server makes one); the
 * one-time password into made[64]. */
static long reset_password(const char *token, const char *name, const char *given, char made[64],
                           char code[64]) {
    char path[128];
    snprintf(path, sizeof path, "/v1/users/%s/password", name);
    Outfall__V1__PasswordReset rq = OUTFALL__V1__PASSWORD_RESET__INIT;
    rq.password = (char *)given;
    Outfall__V1__PasswordReset *out = NULL;
    long st = call("POST", path, token, &rq.base, &outfall__v1__password_reset__descriptor,
                   (ProtobufCMessage **)&out, code);
    if (made) made[0] = '\0';
    if (out && made) util_strlcpy(made, TH_S(out->password), 64);
    if (out) outfall__v1__password_reset__free_unpacked(out, NULL);
    return st;
}

static void reset_password_must_be_changed_before_anything_else(void **state) {
    (void)state;
    const char *divs[] = {DIV_A, NULL};
    th_user u;
    assert_int_equal(th_user_new(&srv, "forgetful", TH_ROLE(SURVEYOR), divs, &u), 0);
    char code[64], made[64], token[128];
    assert_int_equal(reset_password(u.token, u.name, NULL, made, code), 403);
    assert_string_equal(code, "forbidden_role");
    assert_int_equal(reset_password(th_admin_token(&srv), "no.such.user", NULL, made, code), 404);
    assert_int_equal(reset_password(th_admin_token(&srv), u.name, "short", made, code), 400);
    assert_string_equal(code, "weak_password");
    assert_int_equal(get_changes(u.token, code), 200); /* the refusals changed nothing */

    assert_int_equal(reset_password(th_admin_token(&srv), u.name, NULL, made, code), 200);
    assert_int_equal(strlen(made), 16);
    assert_int_equal(get_changes(u.token, code), 401); /* every sign-in ends */
    th_error e;
    assert_int_equal(th_login(&srv, u.name, u.password, token, NULL, &e), 401);
    Outfall__V1__LoginResponse *lr = NULL;
    assert_int_equal(th_login(&srv, u.name, made, token, &lr, NULL), 200);
    assert_true(lr->must_change_password);
    outfall__v1__login_response__free_unpacked(lr, NULL);

    /* every request but the change itself is refused */
    assert_int_equal(get_changes(token, code), 403);
    assert_string_equal(code, "password_change_required");
    char path[128];
    snprintf(path, sizeof path, "/v1/users/%s/tokens", u.name);
    assert_int_equal(call("GET", path, token, NULL, NULL, NULL, code), 403);
    assert_string_equal(code, "password_change_required");
    assert_int_equal(change_password(token, made, made, code), 400);
    assert_string_equal(code, "password_unchanged");
    assert_int_equal(change_password(token, made, "my own new password", code), 204);
    assert_int_equal(get_changes(token, code), 200); /* the same sign-in goes on */
    assert_int_equal(th_login(&srv, u.name, "my own new password", token, &lr, NULL), 200);
    assert_false(lr->must_change_password);
    outfall__v1__login_response__free_unpacked(lr, NULL);
    assert_int_equal(audited("user.reset_password", u.name, "ok"), 1);
    assert_int_equal(audited("password.change", u.name, "ok"), 1);

    /* an admin may choose the one-time password */
    assert_int_equal(
        reset_password(th_admin_token(&srv), u.name, "chosen by the admin", made, code), 200);
    assert_string_equal(made, "chosen by the admin");
    assert_int_equal(th_login(&srv, u.name, "chosen by the admin", token, NULL, NULL), 200);
}

static void own_password_change_keeps_this_token_and_revokes_the_others(void **state) {
    (void)state;
    const char *divs[] = {DIV_A, NULL};
    th_user u;
    assert_int_equal(th_user_new(&srv, "careful", TH_ROLE(SURVEYOR), divs, &u), 0);
    char other[128], code[64];
    assert_int_equal(th_login(&srv, u.name, u.password, other, NULL, NULL), 200);

    assert_int_equal(change_password(u.token, u.password, "short", code), 400);
    assert_string_equal(code, "weak_password");
    assert_int_equal(change_password(u.token, "not my password", "a fine new password", code), 403);
    assert_string_equal(code, "wrong_password");
    assert_int_equal(audited("password.change", u.name, "wrong_password"), 1);
    assert_int_equal(get_changes(other, code), 200); /* refusals revoke nothing */

    assert_int_equal(change_password(u.token, u.password, "a fine new password", code), 204);
    assert_int_equal(get_changes(u.token, code), 200);
    assert_int_equal(get_changes(other, code), 401);
    assert_string_equal(code, "token_revoked");
    th_error e;
    assert_int_equal(th_login(&srv, u.name, u.password, other, NULL, &e), 401);
    assert_int_equal(th_login(&srv, u.name, "a fine new password", other, NULL, NULL), 200);
}

static void wrong_current_passwords_count_towards_the_lock_out(void **state) {
    (void)state;
    const char *divs[] = {DIV_A, NULL};
    th_user u;
    assert_int_equal(th_user_new(&srv, "guesser", TH_ROLE(SURVEYOR), divs, &u), 0);
    char code[64];
    long st = 0;
    int tries = 0;
    while (tries < 12 &&
           (st = change_password(u.token, "a wrong guess 1", "a fine new password", code)) == 403)
        tries++;
    assert_int_equal(st, 429);
    assert_string_equal(code, "locked_out");
    assert_int_equal(tries, 5); /* --login-failures' default */
    /* locked for logins too: the counts are the same */
    th_error e;
    char token[128];
    assert_int_equal(th_login(&srv, u.name, u.password, token, NULL, &e), 429);
    /* an admin's reset clears the lock */
    char made[64];
    assert_int_equal(reset_password(th_admin_token(&srv), u.name, NULL, made, code), 200);
    assert_int_equal(th_login(&srv, u.name, made, token, NULL, &e), 200);
}

/* A token's id as the server shows it: the first 16 hex digits of BLAKE2b-256 of its bytes. */
static void token_id(const char *token, char id[17]) {
    uint8_t raw[32];
    for (int i = 0; i < 32; i++) {
        unsigned v = 0;
        sscanf(token + 2 * i, "%2x", &v);
        raw[i] = (uint8_t)v;
    }
    char hex[65];
    th_hash_hex(raw, sizeof raw, hex);
    memcpy(id, hex, 16);
    id[16] = '\0';
}

static void user_lists_and_revokes_their_signed_in_tokens(void **state) {
    (void)state;
    const char *divs[] = {DIV_A, NULL};
    th_user u, nosy;
    assert_int_equal(th_user_new(&srv, "tokens", TH_ROLE(SURVEYOR), divs, &u), 0);
    assert_int_equal(th_user_new(&srv, "nosy", TH_ROLE(SUPERVISOR), divs, &nosy), 0);
    char phone[128], code[64], path[160];
    assert_int_equal(th_login(&srv, u.name, u.password, phone, NULL, NULL), 200);
    assert_int_equal(get_changes(phone, code), 200);
    snprintf(path, sizeof path, "/v1/users/%s/tokens", u.name);
    Outfall__V1__TokenList *list = NULL;
    assert_int_equal(call("GET", path, u.token, NULL, &outfall__v1__token_list__descriptor,
                          (ProtobufCMessage **)&list, code),
                     200);
    assert_int_equal(list->n_tokens, 2);
    char phone_id[17], own_id[17];
    token_id(phone, phone_id);
    token_id(u.token, own_id);
    int current = 0, phone_seen = 0;
    for (size_t i = 0; i < list->n_tokens; i++) {
        Outfall__V1__TokenInfo *k = list->tokens[i];
        assert_int_equal(strlen(k->id), 16);
        assert_true(k->expires_at_ms > k->created_at_ms);
        assert_true(k->has_last_used_at_ms); /* both were used */
        if (k->current) {
            current++;
            assert_string_equal(k->id, own_id);
        }
        if (strcmp(k->id, phone_id) == 0) phone_seen = 1;
    }
    assert_int_equal(current, 1);
    assert_true(phone_seen);
    outfall__v1__token_list__free_unpacked(list, NULL);

    /* another user's tokens are not theirs to see or end */
    assert_int_equal(call("GET", path, nosy.token, NULL, NULL, NULL, code), 403);
    assert_string_equal(code, "forbidden_role");
    snprintf(path, sizeof path, "/v1/users/%s/tokens/%s", u.name, phone_id);
    assert_int_equal(call("DELETE", path, nosy.token, NULL, NULL, NULL, code), 403);
    assert_int_equal(get_changes(phone, code), 200);

    assert_int_equal(call("DELETE", path, u.token, NULL, NULL, NULL, code), 204);
    assert_int_equal(get_changes(phone, code), 401);
    assert_string_equal(code, "token_revoked");
    assert_int_equal(get_changes(u.token, code), 200);
    assert_int_equal(audited("token.revoke", phone_id, "ok"), 1);

    snprintf(path, sizeof path, "/v1/users/%s/tokens/%s", u.name, "0123456789abcdef");
    assert_int_equal(call("DELETE", path, u.token, NULL, NULL, NULL, code), 404);
    assert_string_equal(code, "not_found");
    snprintf(path, sizeof path, "/v1/users/%s/tokens/%s", u.name, "not-an-id");
    assert_int_equal(call("DELETE", path, u.token, NULL, NULL, NULL, code), 404);
    /* an admin ends anyone's sign-in */
    snprintf(path, sizeof path, "/v1/users/%s/tokens/%s", u.name, own_id);
    assert_int_equal(call("DELETE", path, th_admin_token(&srv), NULL, NULL, NULL, code), 204);
    assert_int_equal(get_changes(u.token, code), 401);
    assert_int_equal(
        call("GET", "/v1/users/no.such.user/tokens", th_admin_token(&srv), NULL, NULL, NULL, code),
        404);
}

static void user_lists_and_revokes_their_devices(void **state) {
    (void)state;
    const char *divs[] = {"410883", NULL};
    th_user u, nosy;
    assert_int_equal(th_user_new(&srv, "phones", TH_ROLE(SURVEYOR), divs, &u), 0);
    assert_int_equal(th_user_new(&srv, "nosy.phones", TH_ROLE(SURVEYOR), divs, &nosy), 0);
    th_device used, idle, theirs;
    assert_int_equal(th_device_new(&srv, u.token, &used), 0);
    assert_int_equal(th_device_new(&srv, u.token, &idle), 0);
    assert_int_equal(th_device_new(&srv, nosy.token, &theirs), 0);
    th_batch *b = th_batch_new(&used);
    th_outfall_create(b, "huanghe", "410883", 34.91, 112.81);
    th_sync_result r;
    assert_int_equal(th_sync(&srv, u.token, b, TH_PB, &r), 200);
    th_sync_result_free(&r);
    th_batch_free(b);

    char path[200], code[64];
    snprintf(path, sizeof path, "/v1/users/%s/devices", u.name);
    Outfall__V1__DeviceList *list = NULL;
    assert_int_equal(call("GET", path, u.token, NULL, &outfall__v1__device_list__descriptor,
                          (ProtobufCMessage **)&list, code),
                     200);
    assert_int_equal(list->n_devices, 2);
    for (size_t i = 0; i < list->n_devices; i++) {
        Outfall__V1__Device *d = list->devices[i];
        assert_true(d->enrolled_at_ms > 0);
        assert_false(d->revoked);
        if (strcmp(d->device_id, used.id) == 0) {
            assert_true(d->has_last_seen_at_ms);
            assert_int_equal(d->last_seq, 1);
        } else {
            assert_string_equal(d->device_id, idle.id);
            assert_false(d->has_last_seen_at_ms);
        }
    }
    outfall__v1__device_list__free_unpacked(list, NULL);
    assert_int_equal(call("GET", path, nosy.token, NULL, NULL, NULL, code), 403);
    assert_int_equal(call("GET", path, th_admin_token(&srv), NULL, NULL, NULL, code), 200);

    /* another user's phone is not on their list to revoke */
    snprintf(path, sizeof path, "/v1/users/%s/devices/%s", u.name, theirs.id);
    assert_int_equal(call("DELETE", path, u.token, NULL, NULL, NULL, code), 404);
    snprintf(path, sizeof path, "/v1/users/%s/devices/%s", u.name, used.id);
    assert_int_equal(call("DELETE", path, nosy.token, NULL, NULL, NULL, code), 403);
    assert_string_equal(code, "forbidden_role");
    assert_int_equal(call("DELETE", path, u.token, NULL, NULL, NULL, code), 204);
    assert_int_equal(audited("device.revoke", used.id, "ok"), 1);

    b = th_batch_new(&used);
    th_outfall_create(b, "huanghe", "410883", 34.92, 112.82);
    assert_int_equal(th_sync(&srv, u.token, b, TH_PB, &r), 401);
    assert_string_equal(r.err.code, "device_revoked");
    th_sync_result_free(&r);
    th_batch_free(b);
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
    th_password_hash_minimum = 0; /* what a real argon2id hash costs is part of what is tested */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(admin_changes_role_and_divisions_and_the_users_tokens_are_revoked),
        cmocka_unit_test(role_and_division_changes_are_refused_with_their_codes),
        cmocka_unit_test(admin_cannot_disable_or_demote_themselves_nor_the_last_admin),
        cmocka_unit_test(disabled_account_cannot_log_in_and_its_tokens_stop_at_once),
        cmocka_unit_test(disabled_answer_takes_the_time_of_a_wrong_password),
        cmocka_unit_test(reset_password_must_be_changed_before_anything_else),
        cmocka_unit_test(own_password_change_keeps_this_token_and_revokes_the_others),
        cmocka_unit_test(wrong_current_passwords_count_towards_the_lock_out),
        cmocka_unit_test(user_lists_and_revokes_their_signed_in_tokens),
        cmocka_unit_test(user_lists_and_revokes_their_devices),
    };
    return cmocka_run_group_tests_name("accounts", tests, setup, teardown);
}
