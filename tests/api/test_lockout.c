/* Login throttling (issue 5, "Login"): failed logins lock out per account and per client
 * address for --login-lock seconds, the lock-out is audited, behind the reverse proxy the
 * address comes from --real-ip-header, and a burst of logins cannot exhaust memory because
 * argon2id hashes (64 MiB each) run at most --password-hashes at once.
 *
 * Client addresses: every 127.x.y.z is loopback on Linux, so the tests log in from 127.0.0.11,
 * 127.0.0.12 ... (curl binds the source address) to be distinct clients. */
#include <curl/curl.h>
#include <pthread.h>
#include <setjmp.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "common/util.h"
#include "tests/lib/harness.h"

#define DIV "410882"
#define LOCK_S 3
#define FAILURES 5
#define HASHES 2 /* --password-hashes */
#define BURST 30

static th_server srv;
static th_server *talk_to = &srv; /* the server login_from, audited and new_user talk to */

static size_t discard(char *data, size_t size, size_t n, void *user) {
    (void)data;
    th_response *r = user;
    size_t add = size * n;
    uint8_t *grown = realloc(r->body, r->len + add + 1);
    if (!grown) return 0;
    memcpy(grown + r->len, data, add);
    r->body = grown;
    r->len += add;
    r->body[r->len] = '\0';
    return add;
}

/* POST /v1/auth/login as name/password from the source address from (NULL: the default), with
 * "X-Real-IP: real_ip" when real_ip is not NULL. Returns the status; code[64] gets the Error's
 * code on a non-200. */
static long login_from(const char *from, const char *real_ip, const char *name,
                       const char *password, char code[64]) {
    char url[160], body[256], hdr[96];
    snprintf(url, sizeof url, "%s/v1/auth/login", talk_to->url);
    snprintf(body, sizeof body, "{\"username\":\"%s\",\"password\":\"%s\"}", name, password);
    th_response r = {0};
    CURL *c = curl_easy_init();
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    h = curl_slist_append(h, "Accept: application/json");
    if (real_ip) {
        snprintf(hdr, sizeof hdr, "X-Real-IP: %s", real_ip);
        h = curl_slist_append(h, hdr);
    }
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &r);
    if (from) curl_easy_setopt(c, CURLOPT_INTERFACE, from);
    CURLcode rc = curl_easy_perform(c);
    if (rc == CURLE_OK) {
        char *ct = NULL;
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
        curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct);
        if (ct) util_strlcpy(r.content_type, ct, sizeof r.content_type);
    } else {
        fprintf(stderr, "login from %s: %s\n", from ? from : "default", curl_easy_strerror(rc));
    }
    if (code) {
        th_error e = {0};
        if (r.status != 200 && r.body) th_error_decode(&r, &e);
        util_strlcpy(code, r.status == 200 ? "" : e.code, 64);
    }
    long status = r.status;
    th_response_free(&r);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return status;
}

/* Rows of the audit trail for a login of target with outcome. */
static long audited(const char *target, const char *outcome, const char *detail) {
    char path[400];
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    long n = -1;
    snprintf(path, sizeof path, "%s/outfall.db", talk_to->data);
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(db,
                           "SELECT count(*) FROM audit WHERE action = 'login' AND target = ?1 "
                           "AND outcome = ?2 AND (?3 IS NULL OR detail = ?3)",
                           -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, target, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, outcome, -1, SQLITE_STATIC);
        if (detail) sqlite3_bind_text(st, 3, detail, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW) n = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

static void new_user(const char *prefix, th_user *u) {
    const char *divs[] = {DIV, NULL};
    assert_int_equal(th_user_new(talk_to, prefix, TH_ROLE(SURVEYOR), divs, u), 0);
}

static void sleep_ms(int64_t ms) {
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    if (ms > 0) nanosleep(&ts, NULL);
}

static void failures_lock_the_account_from_every_address(void **state) {
    (void)state;
    th_user u;
    new_user("acct", &u);
    char code[64], from[32];
    for (int i = 0; i < FAILURES; i++) {
        snprintf(from, sizeof from, "127.0.0.%d", 11 + i); /* each address fails once */
        assert_int_equal(login_from(from, NULL, u.name, "not the password", code), 401);
        assert_string_equal(code, "bad_credentials");
    }
    int64_t locked_at = util_now_ms();
    /* The right password, from an address that never failed: the account is locked. */
    assert_int_equal(login_from("127.0.0.16", NULL, u.name, u.password, code), 429);
    assert_string_equal(code, "locked_out");
    /* The failure that locked it and the refusal after it are both audited as locked_out. */
    assert_true(audited(u.name, "locked_out", NULL) >= 2);
    assert_int_equal(audited(u.name, "locked_out", "127.0.0.16"), 1);
    /* Other accounts are not touched. */
    th_user other;
    new_user("bystander", &other);
    assert_int_equal(login_from("127.0.0.16", NULL, other.name, other.password, code), 200);
    /* After --login-lock the account opens again. */
    sleep_ms(locked_at + LOCK_S * 1000 + 400 - util_now_ms());
    assert_int_equal(login_from("127.0.0.16", NULL, u.name, u.password, code), 200);
}

static void failures_from_one_address_lock_that_address(void **state) {
    (void)state;
    th_user u;
    new_user("victim", &u);
    char code[64], name[64];
    /* One address tries five names (some not accounts at all), once each. */
    for (int i = 0; i < FAILURES; i++) {
        if (i == 0)
            util_strlcpy(name, u.name, sizeof name); /* one failure on the account itself */
        else
            snprintf(name, sizeof name, "ghost-%d", i);
        assert_int_equal(login_from("127.0.0.21", NULL, name, "guess 123456", code), 401);
    }
    /* That address is locked even for a right password; another address is not. */
    assert_int_equal(login_from("127.0.0.21", NULL, u.name, u.password, code), 429);
    assert_string_equal(code, "locked_out");
    assert_true(audited(u.name, "locked_out", "127.0.0.21") >= 1);
    assert_int_equal(login_from("127.0.0.22", NULL, u.name, u.password, code), 200);
}

static void a_success_clears_the_count(void **state) {
    (void)state;
    th_user u;
    new_user("forgetful", &u);
    char code[64];
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < FAILURES - 1; i++)
            assert_int_equal(login_from("127.0.0.31", NULL, u.name, "typo", code), 401);
        assert_int_equal(login_from("127.0.0.31", NULL, u.name, u.password, code), 200);
    }
}

/* The server runs with --real-ip-header X-Real-IP: from loopback (the proxy) that header names
 * the client, so one client's failures lock that client out, not every client of the proxy. */
static void behind_the_proxy_the_real_ip_header_names_the_client(void **state) {
    (void)state;
    th_user u;
    new_user("proxied", &u);
    char code[64], name[64];
    for (int i = 0; i < FAILURES; i++) {
        snprintf(name, sizeof name, "proxy-ghost-%d", i);
        assert_int_equal(login_from(NULL, "203.0.113.7", name, "guess 123456", code), 401);
    }
    assert_int_equal(login_from(NULL, "203.0.113.7", u.name, u.password, code), 429);
    assert_int_equal(audited(u.name, "locked_out", "203.0.113.7"), 1);
    assert_int_equal(login_from(NULL, "203.0.113.8", u.name, u.password, code), 200);
    assert_int_equal(login_from(NULL, NULL, u.name, u.password, code), 200);
    /* A header that is not an address is ignored: the peer's address counts. */
    assert_int_equal(login_from("127.0.0.41", "203.0.113.7, 10.0.0.1", u.name, u.password, code),
                     200);
}

/* The server's resident memory from /proc (VmRSS, or VmHWM: the peak), in KiB. */
static long rss_kib(pid_t pid, const char *field) {
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    long kib = -1;
    size_t n = strlen(field);
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, field, n) == 0 && line[n] == ':') kib = strtol(line + n + 1, NULL, 10);
    if (f) fclose(f);
    return kib;
}

typedef struct burst_arg {
    const th_user *u;
    long status;
} burst_arg;

static void *burst_one(void *p) {
    burst_arg *a = p;
    a->status = login_from(NULL, NULL, a->u->name, a->u->password, NULL);
    return NULL;
}

static void a_burst_of_logins_stays_within_the_hash_bound(void **state) {
    (void)state;
    th_user u;
    new_user("burst", &u);
    char path[64];
    /* Start the peak afresh (writing 5 to clear_refs resets VmHWM); else it holds start-up's. */
    snprintf(path, sizeof path, "/proc/%d/clear_refs", (int)srv.pid);
    FILE *f = fopen(path, "w");
    if (f) {
        fputs("5", f);
        fclose(f);
    }
    long before = rss_kib(srv.pid, "VmRSS");
    assert_true(before > 0);
    pthread_t threads[BURST];
    burst_arg args[BURST];
    int64_t start = util_now_ms();
    for (int i = 0; i < BURST; i++) {
        args[i] = (burst_arg){&u, 0};
        assert_int_equal(pthread_create(&threads[i], NULL, burst_one, &args[i]), 0);
    }
    for (int i = 0; i < BURST; i++)
        pthread_join(threads[i], NULL);
    int64_t took = util_now_ms() - start;
    long peak = rss_kib(srv.pid, "VmHWM"), after = rss_kib(srv.pid, "VmRSS");
    int ok = 0;
    for (int i = 0; i < BURST; i++)
        ok += args[i].status == 200;
    long bound = 64L * 1024 * (HASHES + 2);
    print_message("%d concurrent logins in %lld ms: server RSS %ld MiB before, peak %ld MiB, "
                  "%ld MiB after; growth %ld MiB, bound %ld MiB (64 MiB x (%d hashes + 2))\n",
                  BURST, (long long)took, before / 1024, peak / 1024, after / 1024,
                  (peak - before) / 1024, bound / 1024, HASHES);
    assert_int_equal(ok, BURST);
    assert_true(peak > 0);
    assert_true(peak - before < bound);
}

static int setup(void **state) {
    (void)state;
    /* ASan's quarantine would keep freed hash memory resident: keep it small here. */
    const char *asan = getenv("ASAN_OPTIONS");
    char opts[512];
    snprintf(opts, sizeof opts, "%s%squarantine_size_mb=8", asan ? asan : "",
             asan && *asan ? ":" : "");
    setenv("ASAN_OPTIONS", opts, 1);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const char *args[] = {"--login-failures",
                          "5",
                          "--login-lock",
                          "3",
                          "--password-hashes",
                          "2",
                          "--threads",
                          "40",
                          "--real-ip-header",
                          "X-Real-IP",
                          NULL};
    return th_server_start(&srv, args) == 0 && th_admin_token(&srv) ? 0 : -1;
}

/* ---- the table of failed-login counters (sync/accounts.c): a lock-out is never evicted ---- */

/* Starts a server with a small throttle table of slots, failures per lock-out, a long lock, the
 * client named by X-Real-IP, and points the helpers at it. */
static void small_table(th_server *s, const char *slots, const char *failures) {
    const char *args[] = {"--login-throttle-slots",
                          slots,
                          "--login-failures",
                          failures,
                          "--login-lock",
                          "600",
                          "--real-ip-header",
                          "X-Real-IP",
                          NULL};
    assert_int_equal(th_server_start(s, args), 0);
    assert_non_null(th_admin_token(s));
    talk_to = s;
}

static void small_table_done(th_server *s) {
    talk_to = &srv;
    assert_int_equal(th_server_stop(s), 0);
}

/* An attacker who cycles through many client addresses and usernames, each failing once (never
 * locked), fills a 64-slot table many times over: the account and the address under attack stay
 * locked out all the same. (The table used to evict its stalest entry, lock-outs included.) */
static void a_flood_of_fresh_addresses_does_not_flush_a_lock_out(void **state) {
    (void)state;
    th_server s;
    small_table(&s, "64", "3");
    th_user u;
    new_user("besieged", &u);
    char code[64], ip[32], name[64];
    for (int i = 0; i < 3; i++)
        assert_int_equal(login_from(NULL, "198.51.100.1", u.name, "guess", code), 401);
    assert_int_equal(login_from(NULL, "198.51.100.1", u.name, u.password, code), 429);
    for (int i = 0; i < 300; i++) { /* 600 new keys through 64 slots */
        snprintf(ip, sizeof ip, "10.%d.%d.%d", 60 + i / 65536, (i / 256) % 256, i % 256);
        snprintf(name, sizeof name, "passer-by-%d", i);
        assert_int_equal(login_from(NULL, ip, name, "guess", code), 401);
        assert_string_equal(code, "bad_credentials");
    }
    assert_int_equal(login_from(NULL, "198.51.100.1", u.name, u.password, code), 429);
    assert_string_equal(code, "locked_out");
    assert_int_equal(login_from(NULL, "198.51.100.2", u.name, u.password, code), 429);
    /* the flood's own entries were evicted among themselves: the table keeps working */
    th_user other;
    new_user("bystander", &other);
    assert_int_equal(login_from(NULL, "198.51.100.3", other.name, other.password, code), 200);
    small_table_done(&s);
}

/* When every slot holds a running lock-out, a client the table does not know is refused (429
 * locked_out, audited as throttle_full) rather than let through uncounted; the lock-outs stay. */
static void a_table_full_of_lock_outs_refuses_new_clients(void **state) {
    (void)state;
    th_server s;
    small_table(&s, "16", "1");
    th_user u;
    new_user("latecomer", &u);
    char code[64], ip[32], name[64];
    for (int i = 0; i < 8; i++) { /* each failure locks a name and an address: 16 lock-outs */
        snprintf(ip, sizeof ip, "192.0.2.%d", 10 + i);
        snprintf(name, sizeof name, "guesser-%d", i);
        assert_int_equal(login_from(NULL, ip, name, "guess", code), 401);
    }
    assert_int_equal(login_from(NULL, "192.0.2.200", u.name, u.password, code), 429);
    assert_string_equal(code, "locked_out");
    assert_int_equal(audited(u.name, "throttle_full", "192.0.2.200"), 1);
    assert_int_equal(login_from(NULL, "192.0.2.10", "guesser-0", "guess", code), 429);
    small_table_done(&s);
}

static int teardown(void **state) {
    (void)state;
    int rc = th_server_stop(&srv);
    curl_global_cleanup();
    return rc;
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(failures_lock_the_account_from_every_address),
        cmocka_unit_test(failures_from_one_address_lock_that_address),
        cmocka_unit_test(a_success_clears_the_count),
        cmocka_unit_test(behind_the_proxy_the_real_ip_header_names_the_client),
        cmocka_unit_test(a_burst_of_logins_stays_within_the_hash_bound),
        cmocka_unit_test(a_flood_of_fresh_addresses_does_not_flush_a_lock_out),
        cmocka_unit_test(a_table_full_of_lock_outs_refuses_new_clients),
    };
    return cmocka_run_group_tests_name("login lock-out", tests, setup, teardown);
}
