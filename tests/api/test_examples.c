/* The integrators' examples (examples/), run as they are against a real server, as a new
 * integrator would run them: Python pushing a signed batch (examples/python/push_batch.py), and a
 * feed follower keeping a GeoPackage that GDAL opens (examples/python/follow_geopackage.py),
 * which shows an approved outfall within a few seconds of its approval; JavaScript with the
 * Connect client generated from the contract (examples/js: npm run generate, push_batch.mjs,
 * follow_feed.mjs; its npm packages installed by make node-deps). */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/util.h"
#include "tests/lib/child.h"
#include "tests/lib/harness.h"

#define DIV "410882"
#define PY "/usr/bin/python3" /* Debian's, with python3-protobuf, python3-nacl, python3-gdal */
#define NODE "/usr/bin/node"  /* Node.js 20+, as the browser tests use */

static th_server srv;
static th_user surveyor, sup, integrator;

/* The text of file path (malloc'd; "" when absent). */
static char *slurp(const char *path) {
    FILE *f = fopen(path, "rb");
    char *text = calloc(1, 1 << 20);
    if (f && text) {
        size_t n = fread(text, 1, (1 << 20) - 1, f);
        text[n] = '\0';
    }
    if (f) fclose(f);
    return text;
}

/* How many times needle occurs in text. */
static int count(const char *text, const char *needle) {
    int n = 0;
    for (const char *p = text; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

/* Runs cmd (a shell line) in the folder dir into the file out; returns its exit status. */
static int run_in(const char *dir, const char *cmd, const char *out) {
    char line[2048];
    snprintf(line, sizeof line, "cd %s && %s > %s 2>&1", dir, cmd, out);
    int status = system(line);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Runs cmd in examples/python into the file out; returns its exit status. */
static int run(const char *cmd, const char *out) {
    return run_in("examples/python", cmd, out);
}

/* Waits up to ms for the file log to hold needle; returns the milliseconds it took, or -1. */
static int64_t wait_for(const char *log, const char *needle, int64_t ms) {
    int64_t start = util_monotonic_ms();
    while (util_monotonic_ms() - start < ms) {
        char *text = slurp(log);
        int found = strstr(text, needle) != NULL;
        free(text);
        if (found) return util_monotonic_ms() - start;
        usleep(50 * 1000);
    }
    return -1;
}

static void python_pushes_a_signed_batch_and_a_follower_mirrors_it_into_a_geopackage(void **state) {
    (void)state;
    char gpkg[400], follow_log[400], push_out[400], cmd[1600], info[400];
    snprintf(gpkg, sizeof gpkg, "%s/outfalls.gpkg", srv.root);
    snprintf(follow_log, sizeof follow_log, "%s/follow.log", srv.root);
    snprintf(push_out, sizeof push_out, "%s/push.out", srv.root);
    snprintf(info, sizeof info, "%s/ogrinfo.out", srv.root);

    /* the follower, waiting on the feed as an integrator (approved records only) */
    char url[128];
    snprintf(url, sizeof url, "%s", srv.url);
    char *const argv[] = {PY,           "examples/python/follow_geopackage.py",
                          "--url",      url,
                          "--user",     integrator.name,
                          "--password", integrator.password,
                          "--out",      gpkg,
                          "--wait",     "20",
                          NULL};
    pid_t follower = child_spawn(PY, argv, follow_log, 0, "unused");
    assert_true(follower > 0);

    /* a phone's batch from Python: a new outfall and its first observation, both applied */
    snprintf(cmd, sizeof cmd,
             PY " push_batch.py --url %s --user %s --password '%s' --division " DIV
                " --river danhe --lat 35.0712 --lon 112.9413 --name 'Python 示例排口'",
             srv.url, surveyor.name, surveyor.password);
    int rc = run(cmd, push_out);
    char *pushed = slurp(push_out);
    if (rc != 0) fail_msg("push_batch.py: %d\n%s", rc, pushed);
    assert_int_equal(count(pushed, "\"CHANGE_STATUS_APPLIED\""), 2);
    char id[64] = "";
    const char *at = strstr(pushed, "\"entity_id\": \"");
    assert_non_null(at);
    snprintf(id, sizeof id, "%.36s", at + strlen("\"entity_id\": \""));
    free(pushed);

    /* approved: the waiting follower writes it within seconds */
    usleep(300 * 1000);
    int64_t approved = util_monotonic_ms();
    assert_int_equal(th_approve(&srv, sup.token, id, 1, NULL), 200);
    int64_t seen = -1;
    while (seen < 0 && util_monotonic_ms() - approved < 15000) {
        char *log = slurp(follow_log); /* "cursor N, K entries" a page */
        for (const char *p = log; (p = strstr(p, ", ")) != NULL; p += 2)
            if (p[2] >= '1' && p[2] <= '9') seen = util_monotonic_ms() - approved;
        free(log);
        usleep(50 * 1000);
    }
    print_message("the follower wrote the approved outfall %lld ms after its approval\n",
                  (long long)seen);
    assert_true(seen >= 0 && seen < 10000); /* the feed answers within ms (test_feed_wait) */
    /* A service manager's stop: the follower ends cleanly (exit status 0). */
    kill(follower, SIGTERM);
    int status = -1;
    assert_int_equal(waitpid(follower, &status, 0), follower);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);

    /* GDAL reads the GeoPackage: the outfall as a WGS 84 point with its facts */
    snprintf(cmd, sizeof cmd, "ogrinfo -ro -al %s outfalls", gpkg);
    assert_int_equal(run(cmd, info), 0);
    char *text = slurp(info);
    assert_non_null(strstr(text, id));
    assert_non_null(strstr(text, "Python 示例排口"));
    assert_non_null(strstr(text, "POINT (112.9413 35.0712)"));
    assert_non_null(strstr(text, "REVIEW_STATE_APPROVED"));
    /* its columns named as the exports name them: the contract's paths */
    assert_non_null(strstr(text, "responsible_party.name (String) = 示例责任单位"));
    assert_non_null(strstr(text, "WGS 84"));
    free(text);
}

static void a_bad_password_is_the_servers_error_not_a_traceback(void **state) {
    (void)state;
    char out[400], cmd[1024];
    snprintf(out, sizeof out, "%s/bad.out", srv.root);
    snprintf(cmd, sizeof cmd,
             PY " push_batch.py --url %s --user %s --password wrong --division " DIV
                " --river danhe --lat 35.07 --lon 112.94",
             srv.url, surveyor.name);
    assert_int_not_equal(run(cmd, out), 0);
    char *text = slurp(out);
    assert_non_null(strstr(text, "401"));
    assert_non_null(strstr(text, "bad_credentials"));
    free(text);
}

/* The JavaScript example as a new integrator runs it: the client generated from proto/ (npm run
 * generate), a phone's batch signed by Node's Ed25519 and sent by the generated Connect client,
 * and a follower waiting on the feed that prints the outfall once it is approved. */
static void
js_pushes_a_signed_batch_with_the_generated_connect_client_and_follows_the_feed(void **state) {
    (void)state;
    char out[400], log[400], cmd[1600], url[128];
    snprintf(out, sizeof out, "%s/js.out", srv.root);
    snprintf(log, sizeof log, "%s/js-follow.log", srv.root);
    snprintf(url, sizeof url, "%s", srv.url);
    if (access("examples/js/node_modules/@connectrpc/connect", R_OK) != 0)
        fail_msg("examples/js has no node_modules: make node-deps installs them");
    int rc = run_in("examples/js", "npm run --silent generate", out);
    if (rc != 0) {
        char *text = slurp(out);
        fail_msg("npm run generate: %d\n%s", rc, text);
    }

    char *const argv[] = {
        NODE,         "examples/js/follow_feed.mjs", "--url",  url,  "--user", integrator.name,
        "--password", integrator.password,           "--wait", "20", NULL};
    pid_t follower = child_spawn(NODE, argv, log, 0, "unused");
    assert_true(follower > 0);

    snprintf(cmd, sizeof cmd,
             NODE " push_batch.mjs --url %s --user %s --password '%s' --division " DIV
                  " --river danhe --lat 35.0931 --lon 112.9877 --name 'JS 示例排口'"
                  " --photo ../../tests/fixtures/photos/far-from-claimed-site.jpg",
             srv.url, surveyor.name, surveyor.password);
    rc = run_in("examples/js", cmd, out);
    char *pushed = slurp(out);
    if (rc != 0 || count(pushed, "\"status\":\"APPLIED\"") != 2)
        fail_msg("push_batch.mjs: %d\n%s", rc, pushed);
    /* the photo named by its BLAKE2b-256 (@noble/hashes), the fixture's b2sum -l 256, and
     * listed as missing: it was never uploaded */
    assert_non_null(strstr(pushed, "{\"missingPhoto\":\"b098d18d5d62aeb3d24233b0d986240eb52030f70"
                                   "ca7687f366818a4fd14f890\"}"));
    const char *at = strstr(pushed, "\"entityId\":\"");
    assert_non_null(at);
    char id[40], needle[120];
    snprintf(id, sizeof id, "%.36s", at + strlen("\"entityId\":\""));
    free(pushed);

    /* only approved outfalls reach an integrator: approved, it shows within seconds */
    usleep(300 * 1000);
    assert_int_equal(th_approve(&srv, sup.token, id, 1, NULL), 200);
    snprintf(needle, sizeof needle, "\"outfall\":\"%s\"", id);
    int64_t seen = wait_for(log, needle, 15000);
    print_message("the JS follower printed the approved outfall %lld ms after its approval\n",
                  (long long)seen);
    kill(follower, SIGTERM);
    waitpid(follower, NULL, 0);
    char *followed = slurp(log);
    if (seen < 0) fail_msg("follow_feed.mjs printed:\n%s", followed);
    assert_true(seen < 10000);
    assert_non_null(strstr(followed, "\"reviewState\":\"APPROVED\""));
    free(followed);

    /* a refusal is the server's codes, not a stack trace */
    snprintf(cmd, sizeof cmd,
             NODE " push_batch.mjs --url %s --user %s --password wrong --division " DIV
                  " --river danhe --lat 35.07 --lon 112.94",
             srv.url, surveyor.name);
    assert_int_equal(run_in("examples/js", cmd, out), 1);
    char *text = slurp(out);
    assert_non_null(strstr(text, "error: Unauthenticated: bad_credentials"));
    free(text);
}

static int group_setup(void **state) {
    (void)state;
    const char *div[] = {DIV, NULL}, *city[] = {"410800", NULL};
    if (th_server_start(&srv, NULL) != 0) return -1;
    return th_user_new(&srv, "ex-surveyor", TH_ROLE(SURVEYOR), div, &surveyor) ||
           th_user_new(&srv, "ex-sup", TH_ROLE(SUPERVISOR), div, &sup) ||
           th_user_new(&srv, "ex-integrator", TH_ROLE(INTEGRATOR), city, &integrator);
}

static int group_teardown(void **state) {
    (void)state;
    return th_server_stop(&srv);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(python_pushes_a_signed_batch_and_a_follower_mirrors_it_into_a_geopackage),
        cmocka_unit_test(a_bad_password_is_the_servers_error_not_a_traceback),
        cmocka_unit_test(
            js_pushes_a_signed_batch_with_the_generated_connect_client_and_follows_the_feed),
    };
    return cmocka_run_group_tests_name("examples", tests, group_setup, group_teardown);
}
