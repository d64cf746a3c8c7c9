/* outfallctl against a real server: users add/list, login, device enroll (a 0600 key file never
 * overwritten), push a changes file as a signed batch, pull shows it; exit codes 0 / 1 / 2. */
#include <fcntl.h>
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/util.h"
#include "tests/lib/harness.h"

extern char **environ;

static th_server srv;
static char surveyor_token[128];
static char device_id[37], key_path[400], entity[37];

typedef struct cli_run {
    int status; /* the exit status, or -1 when it did not exit normally */
    char out[32768];
    char err[4096];
} cli_run;

static void slurp(const char *path, char *buf, size_t cap) {
    FILE *f = fopen(path, "rb");
    size_t n = f ? fread(buf, 1, cap - 1, f) : 0;
    buf[n] = '\0';
    if (f) fclose(f);
}

/* Runs outfallctl with args (NULL-terminated) and env (NULL-terminated "K=V" added to a copy of
 * ours without OUTFALL_* or proxies; OUTFALL_SERVER points at the test server). */
static void cli(cli_run *r, const char *const *env, const char *const *args) {
    const char *bin = getenv("OUTFALLCTL");
    if (!bin || !*bin) bin = "build/asan/outfallctl";
    char server[160], out[400], err[400];
    snprintf(server, sizeof server, "OUTFALL_SERVER=%s", srv.url);
    snprintf(out, sizeof out, "%s/cli.out", srv.root);
    snprintf(err, sizeof err, "%s/cli.err", srv.root);
    const char *envp[256], *argv[32];
    size_t ne = 0, na = 0;
    for (char **e = environ; *e && ne < 200; e++)
        if (strncmp(*e, "OUTFALL_", 8) != 0 && !strcasestr(*e, "proxy=")) envp[ne++] = *e;
    envp[ne++] = server;
    for (size_t i = 0; env && env[i]; i++)
        envp[ne++] = env[i];
    envp[ne] = NULL;
    argv[na++] = bin;
    for (size_t i = 0; args[i] && na < 31; i++)
        argv[na++] = args[i];
    argv[na] = NULL;

    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int in = open("/dev/null", O_RDONLY), o = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600),
            e = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (in < 0 || o < 0 || e < 0) _exit(126);
        dup2(in, 0);
        dup2(o, 1);
        dup2(e, 2);
        execve(bin, (char *const *)argv, (char *const *)envp);
        _exit(127);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    r->status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    slurp(out, r->out, sizeof r->out);
    slurp(err, r->err, sizeof r->err);
    if (r->err[0]) print_message("outfallctl %s: exit %d: %s", TH_S(args[0]), r->status, r->err);
}

#define ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})

static void write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void help_lists_every_command_and_exits_0(void **state) {
    (void)state;
    cli_run r;
    cli(&r, NULL, ARGS("--help"));
    assert_int_equal(r.status, 0);
    const char *words[] = {"login", "users add", "users list", "device enroll",
                           "push",  "pull",      "--server",   "--token"};
    for (size_t i = 0; i < sizeof words / sizeof *words; i++)
        assert_non_null(strstr(r.out, words[i]));
}

static void bad_usage_exits_2(void **state) {
    (void)state;
    const char *const *cases[] = {
        ARGS("frobnicate"),
        ARGS("users", "add", "someone"),
        ARGS("users", "add", "x", "--role", "wizard", "--division", "410802"),
        ARGS("push", "changes.json"),
        ARGS("pull", "--since", "minus-one"),
        ARGS("login"),
        ARGS("device", "enroll", "--id", "x"),
        ARGS("--bogus-flag", "pull"),
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        cli_run r;
        cli(&r, NULL, cases[i]);
        assert_int_equal(r.status, 2);
    }
    cli_run r;
    cli(&r, NULL, (const char *const[]){NULL});
    assert_int_equal(r.status, 2);
}

static void login_prints_a_working_token(void **state) {
    (void)state;
    cli_run r;
    cli(&r, ARGS("OUTFALL_PASSWORD=" TH_ADMIN_PASSWORD), ARGS("login", "admin"));
    assert_int_equal(r.status, 0);
    r.out[strcspn(r.out, "\n")] = '\0';
    assert_true(strlen(r.out) >= 16);
    assert_int_equal(th_call(&srv, "GET", "/v1/users", r.out, TH_PB, NULL, NULL, NULL, NULL), 200);
    cli(&r, ARGS("OUTFALL_PASSWORD=wrong password"), ARGS("login", "admin"));
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err, "bad_credentials"));
}

static void users_add_then_list_shows_the_user(void **state) {
    (void)state;
    char token[160];
    snprintf(token, sizeof token, "OUTFALL_TOKEN=%s", th_admin_token(&srv));
    cli_run r;
    cli(&r, ARGS(token, "OUTFALL_NEW_PASSWORD=cli surveyor secret"),
        ARGS("users", "add", "cli.surveyor", "--role", "surveyor", "--division", "410802",
             "--division", "410803"));
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "cli.surveyor"));
    assert_null(strstr(r.out, "cli surveyor secret")); /* a given password is never echoed */

    cli(&r, ARGS(token), ARGS("users", "list"));
    assert_int_equal(r.status, 0);
    json_t *j = json_loads(r.out, 0, NULL);
    assert_non_null(j);
    int found = 0;
    json_t *users = json_object_get(j, "users");
    for (size_t i = 0; i < json_array_size(users); i++) {
        json_t *u = json_array_get(users, i);
        if (strcmp(TH_S(json_string_value(json_object_get(u, "username"))), "cli.surveyor"))
            continue;
        found = 1;
        assert_string_equal(TH_S(json_string_value(json_object_get(u, "role"))), "ROLE_SURVEYOR");
        assert_int_equal(json_array_size(json_object_get(u, "divisions")), 2);
    }
    json_decref(j);
    assert_true(found);
    assert_int_equal(
        th_login(&srv, "cli.surveyor", "cli surveyor secret", surveyor_token, NULL, NULL), 200);

    /* The same name again: the server's refusal, exit 1, its code printed. */
    cli(&r, ARGS(token, "OUTFALL_NEW_PASSWORD=another secret"),
        ARGS("users", "add", "cli.surveyor", "--role", "surveyor", "--division", "410802"));
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err, "username_taken"));
}

static void users_add_generates_and_prints_a_password_when_none_given(void **state) {
    (void)state;
    char token[160];
    snprintf(token, sizeof token, "OUTFALL_TOKEN=%s", th_admin_token(&srv));
    cli_run r;
    cli(&r, ARGS(token), ARGS("users", "add", "cli.integrator", "--role", "integrator"));
    assert_int_equal(r.status, 0);
    json_t *j = json_loads(r.out, 0, NULL);
    assert_non_null(j);
    const char *pw = json_string_value(json_object_get(j, "password"));
    assert_non_null(pw);
    assert_true(strlen(pw) >= 16);
    assert_int_equal(th_login(&srv, "cli.integrator", pw, NULL, NULL, NULL), 200);
    json_decref(j);
}

static void device_enroll_writes_a_0600_key_and_never_overwrites_it(void **state) {
    (void)state;
    assert_true(surveyor_token[0]);
    char token[160];
    snprintf(token, sizeof token, "OUTFALL_TOKEN=%s", surveyor_token);
    th_uuid(device_id);
    snprintf(key_path, sizeof key_path, "%s/phone.key", srv.root);
    cli_run r;
    cli(&r, ARGS(token),
        ARGS("device", "enroll", "--id", device_id, "--name", "Mi 11", "--key", key_path));
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, device_id));
    struct stat st;
    assert_int_equal(stat(key_path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    char before[2048], after[2048];
    slurp(key_path, before, sizeof before);
    assert_non_null(strstr(before, "secret_key"));

    char other[37];
    th_uuid(other);
    cli(&r, ARGS(token),
        ARGS("device", "enroll", "--id", other, "--name", "again", "--key", key_path));
    assert_int_equal(r.status, 1);
    slurp(key_path, after, sizeof after);
    assert_string_equal(before, after);
}

static void push_sends_a_signed_batch_and_pull_shows_it(void **state) {
    (void)state;
    assert_true(key_path[0]);
    char token[160], path[400], changes[1024];
    snprintf(token, sizeof token, "OUTFALL_TOKEN=%s", surveyor_token);
    snprintf(path, sizeof path, "%s/changes.json", srv.root);
    th_uuid(entity);
    snprintf(changes, sizeof changes,
             "[{\"entityId\": \"%s\", \"baseVersion\": \"0\", \"outfall\": {\"riverCode\": "
             "\"qinhe\", \"divisionCode\": \"410802\", \"lat\": 35.081234, \"lon\": 112.951234, "
             "\"landmark\": \"pushed by outfallctl\", \"entryMethod\": \"ENTRY_METHOD_PIPE\"}}]",
             entity);
    write_file(path, changes);
    cli_run r;
    cli(&r, ARGS(token),
        ARGS("push", path, "--key", key_path, "--device", device_id, "--seq", "1"));
    assert_int_equal(r.status, 0);
    json_t *j = json_loads(r.out, 0, NULL);
    assert_non_null(j);
    assert_true(util_uuid_valid(json_string_value(json_object_get(j, "batchId"))));
    json_t *res = json_array_get(json_object_get(j, "results"), 0);
    assert_string_equal(TH_S(json_string_value(json_object_get(res, "status"))),
                        "CHANGE_STATUS_APPLIED");
    assert_string_equal(TH_S(json_string_value(json_object_get(res, "entityId"))), entity);
    json_decref(j);

    cli(&r, ARGS(token), ARGS("pull", "--since", "0", "--limit", "100"));
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, entity));
    assert_non_null(strstr(r.out, "pushed by outfallctl"));
    Outfall__V1__Outfall *o = NULL;
    assert_int_equal(th_get_outfall(&srv, surveyor_token, entity, &o, NULL), 200);
    assert_string_equal(TH_S(o->landmark), "pushed by outfallctl");
    outfall__v1__outfall__free_unpacked(o, NULL);
}

static void push_of_a_sync_request_file_uses_its_seq_and_key_files_device(void **state) {
    (void)state;
    assert_true(entity[0]);
    char token[160], path[400], request[1024];
    snprintf(token, sizeof token, "OUTFALL_TOKEN=%s", surveyor_token);
    snprintf(path, sizeof path, "%s/request.json", srv.root);
    snprintf(request, sizeof request,
             "{\"deviceSeq\": \"2\", \"changes\": [{\"entityId\": \"%s\", \"baseVersion\": 1, "
             "\"outfall\": {\"landmark\": \"edited by outfallctl\"}}]}",
             entity);
    write_file(path, request);
    cli_run r;
    cli(&r, ARGS(token), ARGS("push", path, "--key", key_path));
    assert_int_equal(r.status, 0);
    json_t *j = json_loads(r.out, 0, NULL);
    json_t *res = json_array_get(json_object_get(j, "results"), 0);
    assert_string_equal(TH_S(json_string_value(json_object_get(res, "status"))),
                        "CHANGE_STATUS_APPLIED");
    assert_string_equal(TH_S(json_string_value(json_object_get(res, "version"))), "2");
    json_decref(j);
}

static void push_signed_with_the_wrong_key_exits_1_with_the_code(void **state) {
    (void)state;
    char token[160], path[400], wrong_key[400];
    snprintf(token, sizeof token, "OUTFALL_TOKEN=%s", surveyor_token);
    snprintf(path, sizeof path, "%s/changes.json", srv.root);
    snprintf(wrong_key, sizeof wrong_key, "%s/second.key", srv.root);
    char second[37];
    th_uuid(second);
    cli_run r;
    cli(&r, ARGS(token),
        ARGS("device", "enroll", "--id", second, "--name", "spare", "--key", wrong_key));
    assert_int_equal(r.status, 0);
    th_sum before = th_db_checksum(srv.data, TH_ALL);
    cli(&r, ARGS(token),
        ARGS("push", path, "--key", wrong_key, "--device", device_id, "--seq", "3"));
    th_sum after = th_db_checksum(srv.data, TH_ALL);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err, "signature_invalid"));
    assert_string_equal(before.hex, after.hex);
}

static int group_setup(void **state) {
    (void)state;
    return th_server_start(&srv, NULL) == 0 && th_admin_token(&srv) ? 0 : -1;
}

static int group_teardown(void **state) {
    (void)state;
    return th_server_stop(&srv);
}

int main(void) {
    /* In this order: later tests use the user, key file and outfall the earlier ones made. */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(help_lists_every_command_and_exits_0),
        cmocka_unit_test(bad_usage_exits_2),
        cmocka_unit_test(login_prints_a_working_token),
        cmocka_unit_test(users_add_then_list_shows_the_user),
        cmocka_unit_test(users_add_generates_and_prints_a_password_when_none_given),
        cmocka_unit_test(device_enroll_writes_a_0600_key_and_never_overwrites_it),
        cmocka_unit_test(push_sends_a_signed_batch_and_pull_shows_it),
        cmocka_unit_test(push_of_a_sync_request_file_uses_its_seq_and_key_files_device),
        cmocka_unit_test(push_signed_with_the_wrong_key_exits_1_with_the_code),
    };
    return cmocka_run_group_tests_name("outfallctl", tests, group_setup, group_teardown);
}
