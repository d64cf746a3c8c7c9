/* Log-in limits (sync/login_limits.h; issue 5 "Login", issue 15 "The front door holds"):
 * failures lock the pair of account and client address; strangers' failures together lock the
 * account for strangers only; one address's failures over many names slow only the names it
 * failed; each lock of the same count lasts twice as long; an account's counts live in the
 * database, where no flood evicts them and a restart keeps them; a name that is no account
 * answers like one, in codes and in time; a burst of logins cannot exhaust memory because
 * argon2id hashes (64 MiB each) run at most --password-hashes at once.
 *
 * Client addresses: every 127.x.y.z is loopback on Linux, so some tests log in from
 * 127.0.0.11, 127.0.0.12 ... (curl binds the source address) to be distinct clients; the others
 * name the client in X-Real-IP, which the server takes from a loopback peer. */
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "client/http.h"
#include "common/util.h"
#include "tests/lib/child.h"
#include "tests/lib/harness.h"

#define DIV "410882"
#define LOCK_S 3
#define FAILURES 5       /* --login-failures */
#define ACCT_FAILURES 8  /* --login-account-failures */
#define ADDR_FAILURES 10 /* --login-address-failures of the spraying test's server */
#define HASHES 2         /* --password-hashes */
#define BURST 30

static th_server srv;
static th_server *talk_to = &srv; /* the server the helpers below talk to */

/* What one login got back. */
typedef struct attempt {
    long status;      /* 0 when the exchange failed */
    char code[64];    /* the Error's code; "" on 200 */
    long retry_after; /* the Retry-After header's seconds; -1 without one */
    double ms;        /* how long the answer took */
} attempt;

/* POST /v1/auth/login as name/password from the source address from (NULL: the default), with
 * "X-Real-IP: real_ip" when real_ip is not NULL. */
static attempt try_login(const char *from, const char *real_ip, const char *name,
                         const char *password) {
    char url[160], body[256], hdr[96], value[32], message[256];
    const char *headers[] = {"Content-Type: application/json", "Accept: application/json",
                             real_ip ? hdr : NULL, NULL};
    snprintf(url, sizeof url, "%s/v1/auth/login", talk_to->url);
    snprintf(body, sizeof body, "{\"username\":\"%s\",\"password\":\"%s\"}", name, password);
    if (real_ip) snprintf(hdr, sizeof hdr, "X-Real-IP: %s", real_ip);
    attempt a = {.retry_after = -1};
    client_http_request rq = {.method = "POST",
                              .url = url,
                              .headers = headers,
                              .body = body,
                              .len = strlen(body),
                              .timeout_s = 120,
                              .interface = from};
    client_http_response r = {0};
    int64_t start = util_now_ms();
    a.status = client_http_exchange(NULL, &rq, &r);
    a.ms = (double)(util_now_ms() - start);
    if (a.status == 0) fprintf(stderr, "login from %s: %s\n", from ? from : "default", r.error);
    if (client_http_header(r.headers, "Retry-After", value, sizeof value))
        a.retry_after = strtol(value, NULL, 10);
    if (a.status != 200)
        client_http_error(r.content_type, r.body.data, r.body.len, a.code, sizeof a.code, message,
                          sizeof message);
    client_http_response_free(&r);
    return a;
}

/* try_login's status, with the Error's code into code[64] (may be NULL). */
static long login_from(const char *from, const char *real_ip, const char *name,
                       const char *password, char code[64]) {
    attempt a = try_login(from, real_ip, name, password);
    if (code) util_strlcpy(code, a.code, 64);
    return a.status;
}

/* Rows of the audit trail for a login of target with outcome (and detail, when not NULL). */
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

static th_server own; /* a test's own server (own_server), stopped by own_server_teardown */
static void own_server(const char *const *flags);

/* ---- the pair of account and address ---- */

/* Five wrong passwords from one address lock that account from that address, for
 * --login-lock, with a Retry-After; the same account from another address is not touched.
 * (It used to lock the account from everywhere.) */
static void failures_lock_the_account_from_that_address_only(void **state) {
    (void)state;
    th_user u;
    new_user("acct", &u);
    char code[64];
    for (int i = 0; i < FAILURES; i++) {
        assert_int_equal(login_from("127.0.0.11", NULL, u.name, "not the password", code), 401);
        assert_string_equal(code, "bad_credentials");
    }
    int64_t locked_at = util_now_ms();
    attempt a = try_login("127.0.0.11", NULL, u.name, u.password);
    assert_int_equal(a.status, 429);
    assert_string_equal(a.code, "locked_out");
    assert_true(a.retry_after >= 1 && a.retry_after <= LOCK_S);
    /* The failure that locked it and the refusal after it are both audited as locked_out. */
    assert_int_equal(audited(u.name, "locked_out", "127.0.0.11"), 2);
    /* Another address: the right password works. */
    assert_int_equal(login_from("127.0.0.12", NULL, u.name, u.password, code), 200);
    /* After --login-lock the pair opens again. */
    sleep_ms(locked_at + LOCK_S * 1000 + 400 - util_now_ms());
    assert_int_equal(login_from("127.0.0.11", NULL, u.name, u.password, code), 200);
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

/* An office behind one NAT address: one person's typos lock only their own account there;
 * the admin and a colleague who never logged in from there log in at once. (It used to lock
 * the address for everyone.) */
static void a_colleague_behind_the_same_address_logs_in_while_a_typist_is_locked(void **state) {
    (void)state;
    const char *office = "203.0.113.50";
    th_user typist, colleague;
    new_user("typist", &typist);
    new_user("colleague", &colleague);
    char code[64];
    for (int i = 0; i < FAILURES; i++)
        assert_int_equal(login_from(NULL, office, typist.name, "caps lock on", code), 401);
    assert_int_equal(login_from(NULL, office, typist.name, typist.password, code), 429);
    assert_string_equal(code, "locked_out");
    assert_int_equal(login_from(NULL, office, "admin", TH_ADMIN_PASSWORD, code), 200);
    assert_int_equal(login_from(NULL, office, colleague.name, colleague.password, code), 200);
}

/* Behind the proxy --real-ip-header names the client (from a loopback peer only), so one
 * client's failures lock that client, not every client of the proxy. */
static void behind_the_proxy_the_real_ip_header_names_the_client(void **state) {
    (void)state;
    th_user u;
    new_user("proxied", &u);
    char code[64];
    for (int i = 0; i < FAILURES; i++)
        assert_int_equal(login_from(NULL, "203.0.113.7", u.name, "guess 123456", code), 401);
    assert_int_equal(login_from(NULL, "203.0.113.7", u.name, u.password, code), 429);
    assert_int_equal(audited(u.name, "locked_out", "203.0.113.7"), 2);
    assert_int_equal(login_from(NULL, "203.0.113.8", u.name, u.password, code), 200);
    assert_int_equal(login_from(NULL, NULL, u.name, u.password, code), 200);
    /* A header that is not an address is ignored: the peer's address counts. */
    assert_int_equal(login_from("127.0.0.41", "203.0.113.7, 10.0.0.1", u.name, u.password, code),
                     200);
}

/* An IPv6 client holds a whole /64: its addresses count as one. */
static void an_ipv6_client_is_counted_by_its_64(void **state) {
    (void)state;
    th_user u;
    new_user("six", &u);
    char code[64], ip[64];
    for (int i = 0; i < FAILURES; i++) {
        snprintf(ip, sizeof ip, "2001:db8:1:2::%x", 0xa + i);
        assert_int_equal(login_from(NULL, ip, u.name, "guess", code), 401);
    }
    assert_int_equal(login_from(NULL, "2001:db8:1:2:ffff:ffff:ffff:ffff", u.name, u.password, code),
                     429);
    assert_int_equal(login_from(NULL, "2001:db8:1:3::1", u.name, u.password, code), 200);
}

typedef struct guess_arg {
    const char *name;
    const char *real_ip;
    long status;
} guess_arg;

static void *guess_one(void *p) {
    guess_arg *g = p;
    g->status = login_from(NULL, g->real_ip, g->name, "a guess sent with the others", NULL);
    return NULL;
}

/* Guesses sent all at once from one address cannot all pass the check before the first is
 * counted: exactly --login-failures of them are checked, the rest are refused. */
static void concurrent_guesses_never_pass_the_limit_together(void **state) {
    (void)state;
    enum { N = 12 };
    th_user u;
    new_user("crowd", &u);
    pthread_t threads[N];
    guess_arg args[N];
    for (int i = 0; i < N; i++) {
        args[i] = (guess_arg){u.name, "198.51.100.44", 0};
        assert_int_equal(pthread_create(&threads[i], NULL, guess_one, &args[i]), 0);
    }
    int checked = 0, refused = 0;
    for (int i = 0; i < N; i++) {
        pthread_join(threads[i], NULL);
        checked += args[i].status == 401;
        refused += args[i].status == 429;
    }
    print_message("%d guesses at once: %d checked (401), %d refused (429)\n", N, checked, refused);
    assert_int_equal(checked, FAILURES);
    assert_int_equal(refused, N - FAILURES);
}

/* ---- the account across addresses, the address across names ---- */

/* Guesses from many addresses, a few each: --login-account-failures of them lock the account for
 * every address it has not logged in from, while an address it has logged in from keeps working.
 * (Before, five failures from anywhere locked it from everywhere.) */
static void distributed_guessing_locks_the_account_for_strangers_only(void **state) {
    (void)state;
    th_user u;
    new_user("sought", &u); /* logged in once from 127.0.0.1: a known address */
    char code[64], ip[32];
    for (int i = 0; i < ACCT_FAILURES; i++) {
        snprintf(ip, sizeof ip, "192.0.2.%d", 100 + i);
        assert_int_equal(login_from(NULL, ip, u.name, "botnet guess", code), 401);
        assert_string_equal(code, "bad_credentials");
    }
    assert_int_equal(audited(u.name, "locked_out", "192.0.2.107"), 1);
    attempt a = try_login(NULL, "192.0.2.200", u.name, u.password);
    assert_int_equal(a.status, 429);
    assert_string_equal(a.code, "locked_out");
    assert_true(a.retry_after >= 1);
    assert_int_equal(login_from(NULL, NULL, u.name, u.password, code), 200);
}

/* One address spraying guesses over many names: past --login-address-failures it is slowed,
 * every name it has failed with is refused from there, but a name it has not failed with still
 * gets its check: a colleague behind it logs in, a new guess is checked once and then refused. */
static void spraying_from_one_address_slows_only_the_names_it_failed(void **state) {
    (void)state;
    const char *flags[] = {"--login-address-failures", "10", "--login-lock", "600", NULL};
    own_server(flags);
    const char *sprayer = "198.51.100.77";
    th_user tried, colleague, next;
    new_user("tried", &tried);
    new_user("colleague", &colleague);
    new_user("next", &next);
    char code[64], name[64];
    assert_int_equal(login_from(NULL, sprayer, tried.name, "password1", code), 401);
    for (int i = 1; i < ADDR_FAILURES; i++) {
        snprintf(name, sizeof name, "sprayed-%d", i);
        assert_int_equal(login_from(NULL, sprayer, name, "password1", code), 401);
    }
    assert_int_equal(login_from(NULL, sprayer, "sprayed-1", "password2", code), 429);
    assert_int_equal(login_from(NULL, sprayer, tried.name, tried.password, code), 429);
    assert_int_equal(login_from(NULL, sprayer, colleague.name, colleague.password, code), 200);
    assert_int_equal(login_from(NULL, sprayer, next.name, "password1", code), 401);
    assert_int_equal(login_from(NULL, sprayer, next.name, "password2", code), 429);
    assert_int_equal(login_from(NULL, sprayer, "sprayed-new", "password1", code), 401);
    assert_int_equal(login_from(NULL, sprayer, "sprayed-new", "password2", code), 429);
    /* Elsewhere those accounts are untouched. */
    assert_int_equal(login_from(NULL, "198.51.100.78", tried.name, tried.password, code), 200);
}

/* ---- names that are no account ---- */

/* The answers a name gets: FAILURES + 1 wrong passwords from one address, then one from each of
 * ACCT_FAILURES other addresses, as "status/code" words into out. */
static void answers_for(const char *name, int base, char *out, size_t cap) {
    char ip[32], word[96];
    out[0] = '\0';
    for (int i = 0; i < FAILURES + 1 + ACCT_FAILURES; i++) {
        snprintf(ip, sizeof ip, "100.64.%d.%d", base, i < FAILURES + 1 ? 0 : i);
        attempt a = try_login(NULL, ip, name, "wrong");
        snprintf(word, sizeof word, "%ld/%s%s ", a.status, a.code, a.retry_after > 0 ? "+RA" : "");
        strncat(out, word, cap - strlen(out) - 1);
    }
}

/* A name that is no account is counted like one: the same codes at the same counts, so the
 * answers do not tell which names exist. */
static void a_name_that_is_no_account_answers_like_one(void **state) {
    (void)state;
    th_user u;
    new_user("real", &u);
    char real[1024], ghost[1024];
    answers_for(u.name, 1, real, sizeof real);
    answers_for("no-such-person", 2, ghost, sizeof ghost);
    print_message("account:    %s\nno account: %s\n", real, ghost);
    assert_string_equal(real, ghost);
}

static int by_value(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* A wrong password and a name that is no account cost the same argon2id check. Medians of a
 * few of each, taken in turn, printed; the bound asserted is loose (the unknown name takes at
 * least half the time), as this machine's load varies. (Before: ~80 ms against ~1 ms.) */
static void a_name_that_is_no_account_costs_what_a_wrong_password_costs(void **state) {
    (void)state;
    enum { N = 8, NAMES = 2 }; /* N / NAMES failures per name stay under every limit */
    th_user users[NAMES];
    const char *ghosts[NAMES] = {"nobody-by-that-name", "nor-by-this-one"};
    for (int i = 0; i < NAMES; i++)
        new_user("timed", &users[i]);
    double known[N], unknown[N];
    char ip[32];
    for (int i = 0; i < N; i++) {
        snprintf(ip, sizeof ip, "100.65.0.%d", i + 1);
        attempt a = try_login(NULL, ip, users[i % NAMES].name, "wrong password");
        assert_int_equal(a.status, 401);
        known[i] = a.ms;
        snprintf(ip, sizeof ip, "100.65.1.%d", i + 1);
        a = try_login(NULL, ip, ghosts[i % NAMES], "wrong password");
        assert_int_equal(a.status, 401);
        unknown[i] = a.ms;
    }
    qsort(known, N, sizeof *known, by_value);
    qsort(unknown, N, sizeof *unknown, by_value);
    print_message("wrong password: median %.0f ms (%.0f-%.0f); no such name: median %.0f ms "
                  "(%.0f-%.0f); %d of each\n",
                  known[N / 2], known[0], known[N - 1], unknown[N / 2], unknown[0], unknown[N - 1],
                  N);
    assert_true(unknown[N / 2] * 2 >= known[N / 2]);
}

/* ---- memory ---- */

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

/* BURST logins at once, over BURST_USERS accounts (the logins of one name run one at a time, so
 * several names are needed for the hashes to run side by side): the server's peak memory grows
 * by less than 64 MiB x (--password-hashes + 2). */
static void a_burst_of_logins_stays_within_the_hash_bound(void **state) {
    (void)state;
    enum { BURST_USERS = 6 };
    th_user users[BURST_USERS];
    for (int i = 0; i < BURST_USERS; i++)
        new_user("burst", &users[i]);
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
        args[i] = (burst_arg){&users[i % BURST_USERS], 0};
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
    print_message("%d concurrent logins of %d accounts in %lld ms: server RSS %ld MiB before, "
                  "peak %ld MiB, %ld MiB after; growth %ld MiB, bound %ld MiB (64 MiB x (%d "
                  "hashes + 2))\n",
                  BURST, BURST_USERS, (long long)took, before / 1024, peak / 1024, after / 1024,
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
                          "--login-account-failures",
                          "8",
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

/* ---- servers of their own: a small table, short locks, a restart ---- */

/* Starts `own` with the client named by X-Real-IP and the extra flags given (NULL-terminated),
 * and points the helpers at it. */
static void own_server(const char *const *flags) {
    const char *args[24] = {"--real-ip-header", "X-Real-IP", "--password-hashes", "2"};
    int n = 4;
    for (int i = 0; flags[i] && n < 23; i++)
        args[n++] = flags[i];
    args[n] = NULL;
    assert_int_equal(th_server_start(&own, args), 0);
    assert_non_null(th_admin_token(&own));
    talk_to = &own;
}

/* Each own-server test's teardown, whether it passed or not: the helpers talk to srv again. */
static int own_server_teardown(void **state) {
    (void)state;
    talk_to = &srv;
    return th_server_stop(&own);
}

typedef struct flood_arg {
    int first, count; /* failures first .. first + count - 1 */
} flood_arg;

/* Fails a login of a fresh name from a fresh address, count times. */
static void *flood_some(void *p) {
    flood_arg *f = p;
    char ip[32], name[64];
    for (int i = f->first; i < f->first + f->count; i++) {
        snprintf(ip, sizeof ip, "10.%d.%d.%d", 60 + i / 65536, (i / 256) % 256, i % 256);
        snprintf(name, sizeof name, "passer-by-%d", i);
        if (login_from(NULL, ip, name, "guess", NULL) != 401) f->count = -1;
    }
    return NULL;
}

/* The attack of issue 15: an account at four failures, then failed logins of names that are no
 * account from many addresses, enough to flush the in-memory table many times over: the next
 * guess at the account is its fifth and locks it, the one after is refused. (The table used to
 * hold the account's count and gave it up: nine guesses, the last one right.) */
static void a_flood_of_unknown_names_cannot_flush_an_accounts_count(void **state) {
    (void)state;
    enum { THREADS = 4, PER_THREAD = 16 }; /* 64 failures, 3 keys each, through 32 slots */
    const char *flags[] = {"--login-throttle-slots", "32", "--login-lock", "600", NULL};
    own_server(flags);
    th_user u;
    new_user("besieged", &u);
    const char *attacker = "198.51.100.1";
    char code[64];
    for (int i = 0; i < FAILURES - 1; i++)
        assert_int_equal(login_from(NULL, attacker, u.name, "guess", code), 401);
    pthread_t threads[THREADS];
    flood_arg args[THREADS];
    for (int t = 0; t < THREADS; t++) {
        args[t] = (flood_arg){t * PER_THREAD, PER_THREAD};
        assert_int_equal(pthread_create(&threads[t], NULL, flood_some, &args[t]), 0);
    }
    for (int t = 0; t < THREADS; t++) {
        pthread_join(threads[t], NULL);
        assert_int_equal(args[t].count, PER_THREAD);
    }
    assert_int_equal(login_from(NULL, attacker, u.name, "guess", code), 401); /* the 5th */
    assert_int_equal(audited(u.name, "locked_out", attacker), 1);
    assert_int_equal(login_from(NULL, attacker, u.name, u.password, code), 429);
    assert_string_equal(code, "locked_out");
}

/* A table full of running lock-outs of names that are no account never turns a real account
 * away. (It used to refuse every client it did not hold: 429, audited throttle_full.) */
static void a_table_full_of_lock_outs_never_refuses_a_real_account(void **state) {
    (void)state;
    const char *flags[] = {
        "--login-throttle-slots", "16", "--login-failures", "1", "--login-lock", "600", NULL};
    own_server(flags);
    th_user u;
    new_user("latecomer", &u);
    char code[64], ip[32], name[64];
    for (int i = 0; i < 8; i++) { /* each failure locks a pair, a name and an address */
        snprintf(ip, sizeof ip, "192.0.2.%d", 10 + i);
        snprintf(name, sizeof name, "guesser-%d", i);
        assert_int_equal(login_from(NULL, ip, name, "guess", code), 401);
    }
    assert_int_equal(login_from(NULL, "192.0.2.200", u.name, u.password, code), 200);
    assert_int_equal(audited(u.name, "throttle_full", NULL), 0);
}

/* The first lock takes --login-failures failures; after it every failure locks again for twice
 * as long, up to --login-lock-max: one guess per lock. A success starts it over. Retry-After
 * tells each lock's length. */
static void lock_outs_grow_for_a_pair_that_keeps_failing(void **state) {
    (void)state;
    const char *flags[] = {
        "--login-failures", "2", "--login-lock", "1", "--login-lock-max", "4", NULL};
    own_server(flags);
    th_user u;
    new_user("stubborn", &u);
    const char *from = "198.51.100.9";
    const long expected[] = {1, 2, 4, 4};
    for (size_t round = 0; round < sizeof expected / sizeof *expected; round++) {
        for (int i = 0; i < (round == 0 ? 2 : 1); i++)
            assert_int_equal(login_from(NULL, from, u.name, "still wrong", NULL), 401);
        int64_t locked_at = util_now_ms();
        attempt a = try_login(NULL, from, u.name, u.password);
        print_message("lock %zu: Retry-After %ld s\n", round + 1, a.retry_after);
        assert_int_equal(a.status, 429);
        assert_int_equal(a.retry_after, expected[round]);
        sleep_ms(locked_at + expected[round] * 1000 + 300 - util_now_ms());
    }
    assert_int_equal(login_from(NULL, from, u.name, u.password, NULL), 200);
    for (int i = 0; i < 2; i++)
        assert_int_equal(login_from(NULL, from, u.name, "wrong again", NULL), 401);
    assert_int_equal(try_login(NULL, from, u.name, u.password).retry_after, 1);
}

/* Stops s (SIGTERM) and starts outfalld again on the same data folder with the same flags. */
static void restart_on_same_data(th_server *s, const char *const *flags) {
    assert_int_equal(kill(s->pid, SIGTERM), 0);
    int status = 0;
    assert_int_equal(waitpid(s->pid, &status, 0), s->pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    const char *bin = getenv("OUTFALLD");
    if (!bin || !*bin) bin = "build/asan/outfalld";
    char ready[300], log[300];
    snprintf(ready, sizeof ready, "%s/ready", s->root);
    snprintf(log, sizeof log, "%s/server.log", s->root);
    unlink(ready);
    char *argv[32] = {(char *)bin,    "--listen", "127.0.0.1:0",      "--data",   s->data,
                      "--ready-file", ready,      "--real-ip-header", "X-Real-IP"};
    int n = 9;
    for (int i = 0; flags[i] && n < 31; i++)
        argv[n++] = (char *)flags[i];
    argv[n] = NULL;
    s->pid = child_spawn(bin, argv, log, 1, TH_ADMIN_PASSWORD);
    assert_true(s->pid > 0);
    int ready_now = 0;
    for (int waited = 0; waited < 20000 && !ready_now; waited += 10) {
        ready_now = child_read_ready(ready, s->addr, sizeof s->addr);
        if (!ready_now) sleep_ms(10);
    }
    assert_true(ready_now);
    snprintf(s->url, sizeof s->url, "http://%s", s->addr);
}

/* An account's counts live in the database: a restart keeps a running lock and the account's
 * count from strangers. (They lived in memory and a restart forgot them.) */
static void a_restart_keeps_a_running_lock(void **state) {
    (void)state;
    const char *flags[] = {"--login-lock", "600", NULL};
    own_server(flags);
    th_user u;
    new_user("remembered", &u);
    char code[64];
    for (int i = 0; i < FAILURES; i++)
        assert_int_equal(login_from(NULL, "198.51.100.5", u.name, "guess", code), 401);
    assert_int_equal(login_from(NULL, "198.51.100.5", u.name, u.password, code), 429);
    restart_on_same_data(&own, flags);
    attempt a = try_login(NULL, "198.51.100.5", u.name, u.password);
    assert_int_equal(a.status, 429);
    assert_string_equal(a.code, "locked_out");
    assert_true(a.retry_after > 590 && a.retry_after <= 600);
    assert_int_equal(login_from(NULL, "198.51.100.6", u.name, u.password, code), 200);
}

static int teardown(void **state) {
    (void)state;
    int rc = th_server_stop(&srv);
    curl_global_cleanup();
    return rc;
}

int main(void) {
    th_password_hash_minimum = 0; /* what a real argon2id hash costs is part of what is tested */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(failures_lock_the_account_from_that_address_only),
        cmocka_unit_test(a_success_clears_the_count),
        cmocka_unit_test(a_colleague_behind_the_same_address_logs_in_while_a_typist_is_locked),
        cmocka_unit_test(behind_the_proxy_the_real_ip_header_names_the_client),
        cmocka_unit_test(an_ipv6_client_is_counted_by_its_64),
        cmocka_unit_test(concurrent_guesses_never_pass_the_limit_together),
        cmocka_unit_test(distributed_guessing_locks_the_account_for_strangers_only),
        cmocka_unit_test_teardown(spraying_from_one_address_slows_only_the_names_it_failed,
                                  own_server_teardown),
        cmocka_unit_test(a_name_that_is_no_account_answers_like_one),
        cmocka_unit_test(a_name_that_is_no_account_costs_what_a_wrong_password_costs),
        cmocka_unit_test(a_burst_of_logins_stays_within_the_hash_bound),
        cmocka_unit_test_teardown(a_flood_of_unknown_names_cannot_flush_an_accounts_count,
                                  own_server_teardown),
        cmocka_unit_test_teardown(a_table_full_of_lock_outs_never_refuses_a_real_account,
                                  own_server_teardown),
        cmocka_unit_test_teardown(lock_outs_grow_for_a_pair_that_keeps_failing,
                                  own_server_teardown),
        cmocka_unit_test_teardown(a_restart_keeps_a_running_lock, own_server_teardown),
    };
    return cmocka_run_group_tests_name("login limits", tests, setup, teardown);
}
