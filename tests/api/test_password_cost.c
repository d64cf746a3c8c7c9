/* The cost of a password hash: outfalld hashes at argon2id's interactive cost (64 MiB, 2
 * passes) unless started with --password-hash-minimum 1, the tests-only flag the harness adds so
 * the suite's logins cost little (1 pass, 8 KiB); the flag is refused in a config file, where
 * it could reach a production server. Read from the hashes the users table keeps. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/lib/harness.h"

#define LEAST_COST                                                                                 \
    "SELECT count(*) FROM users WHERE username = ? AND password_hash LIKE "                        \
    "'$argon2id$v=19$m=8,t=1,p=1$%'"
#define INTERACTIVE                                                                                \
    "SELECT count(*) FROM users WHERE username = ? AND password_hash LIKE "                        \
    "'$argon2id$v=19$m=65536,t=2,p=1$%'"

/* Starts a server as the harness does (least cost, or not), creates a user, and counts the
 * admin's and the user's hashes made at cost_sql's cost (2 when both were). */
static int hashes_at(int least, const char *cost_sql) {
    th_password_hash_minimum = least;
    th_server s;
    assert_int_equal(th_server_start(&s, NULL), 0);
    const char *divs[] = {"410882", NULL};
    th_user u;
    assert_int_equal(th_user_new(&s, "cost.surveyor", TH_ROLE(SURVEYOR), divs, &u), 0);
    int n = th_db_count(&s, cost_sql, "admin") + th_db_count(&s, cost_sql, u.name);
    assert_int_equal(th_server_stop(&s), 0);
    th_password_hash_minimum = 1;
    return n;
}

static void a_test_server_hashes_passwords_at_argon2ids_least_cost(void **state) {
    (void)state;
    assert_int_equal(hashes_at(1, LEAST_COST), 2);
}

static void without_the_flag_a_password_hash_costs_64_mib_and_two_passes(void **state) {
    (void)state;
    assert_int_equal(hashes_at(0, INTERACTIVE), 2);
}

static void the_flag_is_refused_in_a_config_file(void **state) {
    (void)state;
    char path[] = "/tmp/outfall-cost-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    static const char line[] = "password-hash-minimum = 1\n";
    assert_int_equal(write(fd, line, sizeof line - 1), (ssize_t)(sizeof line - 1));
    close(fd);
    th_password_hash_minimum = 0;
    const char *const args[] = {"--config", path, NULL};
    th_server s;
    int rc = th_server_start(&s, args);
    if (rc == 0) th_server_stop(&s);
    th_password_hash_minimum = 1;
    unlink(path);
    assert_int_not_equal(rc, 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_test_server_hashes_passwords_at_argon2ids_least_cost),
        cmocka_unit_test(without_the_flag_a_password_hash_costs_64_mib_and_two_passes),
        cmocka_unit_test(the_flag_is_refused_in_a_config_file),
    };
    return cmocka_run_group_tests_name("password hash cost", tests, NULL, NULL);
}
