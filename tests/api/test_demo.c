/* `make demo` (tools/demo.sh) cannot rot: the script seeds a fresh folder through a real server
 * on a free loopback port (env OUTFALLD, OUTFALLCTL), then a harness server opens that folder and
 * the campaign is read back over HTTP: accounts of every role, the review queue's conflict,
 * duplicate pair and returned record, each lifecycle stage (no plan overdue: a demo made today has
 * no past), the draw, the public reports, the protection zone and the applications. A second run
 * serves the folder without writing to it; a folder that is no demo's is refused untouched. */
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

#include "tests/lib/harness.h"

static char root[64];  /* mkdtemp: demo/ (the demo folder), other/, run.log */
static char demo[128]; /* the demo folder */
static th_server srv;  /* a harness server on the seeded folder */
static char city_token[128], admin_token[128];

/* Runs tools/demo.sh --data dir --listen 127.0.0.1:0 --no-serve; its output into log[cap].
 * Returns its exit status, or -1 when it did not exit normally. */
static int run_demo(const char *dir, char *log, size_t cap) {
    char cmd[512], path[128];
    snprintf(path, sizeof path, "%s/run.log", root);
    snprintf(cmd, sizeof cmd,
             "tools/demo.sh --data '%s' --listen 127.0.0.1:0 --no-serve </dev/null >'%s' 2>&1", dir,
             path);
    int status = system(cmd);
    FILE *f = fopen(path, "rb");
    size_t n = f ? fread(log, 1, cap - 1, f) : 0;
    log[n] = '\0';
    if (f) fclose(f);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* GET path as token, the JSON answer parsed (asserting 200). */
static json_t *get_json(const char *path, const char *token) {
    th_request rq = {.method = "GET", .path = path, .accept = TH_JSON, .token = token};
    th_response r;
    long status = th_http(&srv, &rq, &r);
    if (status != 200) print_message("GET %s: %ld %s\n", path, status, (char *)r.body);
    assert_int_equal(status, 200);
    json_t *j = json_loadb((const char *)r.body, r.len, 0, NULL);
    th_response_free(&r);
    assert_non_null(j);
    return j;
}

/* The integer of a JSON field that protobuf JSON writes as a string (int64) or a number. */
static long long num(json_t *obj, const char *key) {
    json_t *v = json_object_get(obj, key);
    if (json_is_string(v)) return atoll(json_string_value(v));
    return json_is_integer(v) ? json_integer_value(v) : 0;
}

static int setup(void **state) {
    (void)state;
    setenv("OUTFALLD", "build/asan/outfalld", 0);
    setenv("OUTFALLCTL", "build/asan/outfallctl", 0);
    snprintf(root, sizeof root, "/tmp/outfall-demo-XXXXXX");
    if (!mkdtemp(root)) return -1;
    snprintf(demo, sizeof demo, "%s/demo", root);
    static char log[65536];
    int rc = run_demo(demo, log, sizeof log);
    if (rc != 0) {
        fprintf(stderr, "tools/demo.sh exited %d:\n%s\n", rc, log);
        return -1;
    }
    /* The harness server on the seeded folder: the later --data wins. */
    const char *args[] = {"--data", demo, NULL};
    if (th_server_start(&srv, args)) return -1;
    th_error e;
    if (th_login(&srv, "city.wang", "demo-city-pass", city_token, NULL, &e) != 200 ||
        th_login(&srv, "admin", "demo-admin-pass", admin_token, NULL, &e) != 200) {
        fprintf(stderr, "login: %s %s\n", e.code, e.message);
        return -1;
    }
    return 0;
}

static int teardown(void **state) {
    (void)state;
    th_server_stop(&srv);
    if (!getenv("TH_KEEP")) {
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
        if (system(cmd) != 0) return -1;
    }
    return 0;
}

static void demo_has_an_account_of_every_role_with_its_printed_password(void **state) {
    (void)state;
    json_t *list = get_json("/v1/users", admin_token);
    json_t *users = json_object_get(list, "users");
    assert_int_equal(json_array_size(users), 12);
    const char *roles[] = {"ROLE_ADMIN", "ROLE_SUPERVISOR", "ROLE_SURVEYOR", "ROLE_INTEGRATOR"};
    for (size_t r = 0; r < sizeof roles / sizeof *roles; r++) {
        size_t found = 0, i;
        json_t *u;
        json_array_foreach(users, i, u) {
            found += strcmp(json_string_value(json_object_get(u, "role")), roles[r]) == 0;
        }
        if (!found) print_message("no account with %s\n", roles[r]);
        assert_true(found > 0);
    }
    json_decref(list);
    /* Every account the script printed logs in with the password printed beside it. */
    char path[160], line[256], token[128];
    snprintf(path, sizeof path, "%s/demo/accounts.tsv", demo);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    int n = 0;
    while (fgets(line, sizeof line, f)) {
        char user[64], role[32], divisions[64], password[64];
        assert_int_equal(
            sscanf(line, "%63[^\t]\t%31[^\t]\t%63[^\t]\t%63[^\n]", user, role, divisions, password),
            4);
        th_error e;
        long status = th_login(&srv, user, password, token, NULL, &e);
        if (status != 200) print_message("login %s: %ld %s\n", user, status, e.code);
        assert_int_equal(status, 200);
        n++;
    }
    fclose(f);
    assert_int_equal(n, 12);
}

static void
demo_queue_holds_a_conflict_a_duplicate_pair_pending_records_and_inspection_results(void **state) {
    (void)state;
    json_t *q = get_json("/v1/review/queue?limit=100", city_token);
    long long conflict = 0, duplicate = 0, pending = 0, flagged = 0, inspection = 0;
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(q, "counts"), i, c) {
        const char *kind = json_string_value(json_object_get(c, "kind"));
        long long n = num(c, "count");
        if (strcmp(kind, "REVIEW_ITEM_KIND_CONFLICT") == 0) conflict = n;
        if (strcmp(kind, "REVIEW_ITEM_KIND_DUPLICATE") == 0) duplicate = n;
        if (strcmp(kind, "REVIEW_ITEM_KIND_PENDING") == 0) pending = n;
        if (strcmp(kind, "REVIEW_ITEM_KIND_FLAGGED") == 0) flagged = n;
        if (strcmp(kind, "REVIEW_ITEM_KIND_INSPECTION") == 0) inspection = n;
    }
    json_decref(q);
    assert_int_equal(conflict, 1);
    assert_int_equal(duplicate, 1);
    assert_int_equal(pending, 3);
    assert_true(flagged >= 1);
    assert_int_equal(inspection, 2);
}

static void demo_has_a_returned_record_with_its_comment(void **state) {
    (void)state;
    json_t *list = get_json("/v1/outfalls?review_state=RETURNED&limit=100", city_token);
    json_t *outfalls = json_object_get(list, "outfalls");
    size_t i, returned = 0;
    json_t *o;
    json_array_foreach(outfalls, i, o) {
        if (strcmp(json_string_value(json_object_get(o, "reviewState")), "REVIEW_STATE_RETURNED"))
            continue;
        returned++;
        assert_non_null(json_string_value(json_object_get(o, "reviewComment")));
    }
    json_decref(list);
    assert_int_equal(returned, 1);
}

static void demo_progress_counts_every_stage_and_no_overdue_plan(void **state) {
    (void)state;
    json_t *p = get_json("/v1/progress", city_token);
    json_t *row = json_array_get(json_object_get(p, "rows"), 0);
    assert_non_null(row);
    assert_string_equal(json_string_value(json_object_get(row, "code")), "410800");
    assert_int_equal(num(row, "found"), 10);
    assert_int_equal(num(row, "traced"), 6);
    assert_int_equal(num(row, "planned"), 5);
    assert_int_equal(num(row, "remediated"), 2);
    assert_int_equal(num(row, "noRemediationNeeded"),
                     1); /* the retained one: NONE, counted apart */
    assert_int_equal(num(row, "closed"), 1);
    assert_int_equal(num(row, "retained"), 1);
    assert_int_equal(num(row, "overduePlans"),
                     0); /* every date is today (docs/programme.md, Dates) */
    json_decref(p);
}

static void demo_has_a_draw_with_one_approved_result_and_two_reports_one_answered(void **state) {
    (void)state;
    char path[160], id[64] = "", number[32] = "";
    snprintf(path, sizeof path, "%s/demo/draw", demo);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    assert_non_null(fgets(id, sizeof id, f));
    fclose(f);
    id[strcspn(id, "\n")] = '\0';
    snprintf(path, sizeof path, "/public/inspections/%s", id);
    json_t *draw = get_json(path, NULL);
    json_t *picks = json_object_get(draw, "picks");
    assert_int_equal(json_array_size(picks), 3);
    size_t p, with_result = 0;
    json_t *pick;
    json_array_foreach(picks, p, pick) {
        with_result += json_object_get(pick, "result") != NULL;
    }
    json_decref(draw);
    assert_int_equal(with_result, 1); /* the approved one; the other two wait in the queue */

    json_t *reports = get_json("/v1/reports", city_token);
    json_t *list = json_object_get(reports, "reports");
    assert_int_equal(json_array_size(list), 2);
    size_t i, answered = 0;
    json_t *r;
    json_array_foreach(list, i, r) {
        if (strcmp(json_string_value(json_object_get(r, "status")), "REPORT_STATUS_ANSWERED"))
            continue;
        answered++;
        snprintf(number, sizeof number, "%s", json_string_value(json_object_get(r, "number")));
    }
    json_decref(reports);
    assert_int_equal(answered, 1);
    snprintf(path, sizeof path, "/public/reports/%s", number);
    json_t *pub = get_json(path, NULL);
    assert_non_null(json_string_value(json_object_get(pub, "answer")));
    json_decref(pub);
}

static void demo_has_a_protection_zone_and_two_applications_one_approved(void **state) {
    (void)state;
    json_t *zones = get_json("/v1/zones", city_token);
    assert_int_equal(json_array_size(json_object_get(zones, "zones")), 1);
    json_decref(zones);
    json_t *apps = get_json("/v1/applications", city_token);
    json_t *list = json_object_get(apps, "applications");
    assert_int_equal(json_array_size(list), 2);
    size_t i, approved = 0;
    json_t *a;
    json_array_foreach(list, i, a) {
        approved += strcmp(json_string_value(json_object_get(a, "status")),
                           "APPLICATION_STATUS_APPROVED") == 0;
        assert_true(json_array_size(json_object_get(a, "documentHashes")) >= 1);
    }
    json_decref(apps);
    assert_int_equal(approved, 1);
}

/* Last: stops the harness server, then runs the script again on the seeded folder. */
static void a_second_run_serves_the_demo_without_writing_to_it(void **state) {
    (void)state;
    assert_int_equal(th_server_stop(&srv), 0);
    th_sum before = th_db_checksum(demo, TH_ALL);
    static char log[65536];
    assert_int_equal(run_demo(demo, log, sizeof log), 0);
    assert_null(strstr(log, "seeding"));
    assert_non_null(strstr(log, "city.wang"));
    assert_non_null(strstr(log, "demo-city-pass"));
    th_sum after = th_db_checksum(demo, TH_ALL);
    assert_string_equal(before.hex, after.hex);
}

static void a_folder_that_is_no_demo_is_refused_untouched(void **state) {
    (void)state;
    char other[128], file[160];
    snprintf(other, sizeof other, "%s/other", root);
    assert_int_equal(mkdir(other, 0700), 0);
    snprintf(file, sizeof file, "%s/outfall.db", other);
    FILE *f = fopen(file, "w");
    assert_non_null(f);
    fputs("not the demo's", f);
    fclose(f);
    static char log[4096];
    assert_int_equal(run_demo(other, log, sizeof log), 1);
    assert_non_null(strstr(log, "no demo folder"));
    char buf[64] = "";
    f = fopen(file, "r");
    assert_non_null(f);
    assert_non_null(fgets(buf, sizeof buf, f));
    fclose(f);
    assert_string_equal(buf, "not the demo's");
    struct stat st;
    assert_int_not_equal(stat(other, &st), -1);
    snprintf(file, sizeof file, "%s/demo", other);
    assert_int_equal(stat(file, &st), -1); /* nothing of the demo's written there */
}

static void an_unfinished_demo_folder_is_refused(void **state) {
    (void)state;
    char dir[128], marker[192];
    snprintf(dir, sizeof dir, "%s/unfinished", root);
    snprintf(marker, sizeof marker, "%s/demo", dir);
    assert_int_equal(mkdir(dir, 0700), 0);
    assert_int_equal(mkdir(marker, 0700), 0);
    snprintf(marker, sizeof marker, "%s/demo/DEMO", dir);
    FILE *f = fopen(marker, "w");
    assert_non_null(f);
    fclose(f);
    static char log[4096];
    assert_int_equal(run_demo(dir, log, sizeof log), 1);
    assert_non_null(strstr(log, "unfinished demo"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(demo_has_an_account_of_every_role_with_its_printed_password),
        cmocka_unit_test(
            demo_queue_holds_a_conflict_a_duplicate_pair_pending_records_and_inspection_results),
        cmocka_unit_test(demo_has_a_returned_record_with_its_comment),
        cmocka_unit_test(demo_progress_counts_every_stage_and_no_overdue_plan),
        cmocka_unit_test(demo_has_a_draw_with_one_approved_result_and_two_reports_one_answered),
        cmocka_unit_test(demo_has_a_protection_zone_and_two_applications_one_approved),
        cmocka_unit_test(a_second_run_serves_the_demo_without_writing_to_it),
        cmocka_unit_test(a_folder_that_is_no_demo_is_refused_untouched),
        cmocka_unit_test(an_unfinished_demo_folder_is_refused),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
