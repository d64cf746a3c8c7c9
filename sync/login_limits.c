/* Log-in limits (login_limits.h says the rules).
 *
 * Where each count lives, and why:
 * - An account's counts (its pair with each address, and its total from unknown addresses) are
 *   rows in the database (migration 0014), written in the transaction that writes the refusal's
 *   audit row. Nothing evicts them and a restart keeps them. They grow only with real accounts:
 *   a pair row is made by a failure or a success against an account, a stranger's failures lock
 *   the account after --login-account-failures, and rows quiet for --login-lock-max (with no
 *   success in 30 days) are deleted at the account's next login.
 * - Names that are not accounts cannot be kept per name without growing without bound, so their
 *   pair and account counts live in a table in memory of fixed size. They follow the same rules,
 *   so a name that is not an account answers like one that is (401, then 429 at the same count).
 *   Eviction only ever forgets guesses at names that do not exist, never a real account's count.
 * - Addresses across names are counted in the same table. Evicting one only helps an attacker
 *   who holds many other addresses, who could guess from those directly.
 *
 * The table is set-associative: a key's set is chosen by a keyed hash with a secret made at
 * start, so an attacker cannot aim new keys at the set of the one they want to push out, and a
 * full set gives up its least recently used entry that is not locked (a locked one only when
 * all are). Keys are 16-byte keyed BLAKE2b digests: no name or address is kept in memory.
 *
 * Logins of one name run one at a time (a lock per stripe of names, held from the check through
 * the argon2id check to the count), so concurrent guesses cannot all pass a check before the
 * first of them is counted. A stripe waits only behind logins that hash anyway, and at most
 * --password-hashes hashes run at once in the whole process. Counts per address are not held
 * that way: concurrent failures from one address under different names may pass its limit by
 * the logins in flight. */
#include "sync/login_limits.h"

#include <arpa/inet.h>
#include <limits.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

enum { WAYS = 8, STRIPES = 64 };

typedef struct slot {
    uint8_t key[16];
    uint8_t used;
    login_limits_count count;
} slot;

static pthread_once_t state_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t stripes[STRIPES];
static uint8_t key_secret[crypto_generichash_KEYBYTES];

static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static slot *table; /* made on first use; NULL when it could not be (nothing kept then) */
static size_t table_sets;
static int table_slots = LOGIN_LIMITS_SLOTS;

/* The limits, set by login_limits_init. */
static int64_t pair_max = 5, account_max = 20, address_max = 50;
static int64_t lock_ms = 300000, lock_max_ms = 86400000;

static void state_init(void) {
    if (sodium_init() < 0) abort();
    randombytes_buf(key_secret, sizeof key_secret);
    for (int i = 0; i < STRIPES; i++)
        pthread_mutex_init(&stripes[i], NULL);
}

/* n times base, or base when n is 0, capped at INT_MAX. */
static int64_t limit_or(int n, int64_t base, int64_t times) {
    int64_t v = n > 0 ? n : base * times;
    return v < INT_MAX ? v : INT_MAX;
}

void login_limits_init(const sync_config *cfg) {
    pthread_once(&state_once, state_init);
    pair_max = cfg->login_max_failures > 0 ? cfg->login_max_failures : 5;
    account_max = limit_or(cfg->login_acct_failures, pair_max, 4);
    address_max = limit_or(cfg->login_addr_failures, pair_max, 10);
    lock_ms = (int64_t)(cfg->login_lock_s > 0 ? cfg->login_lock_s : 300) * 1000;
    lock_max_ms = (int64_t)cfg->login_lock_max_s * 1000;
    if (lock_max_ms < lock_ms) lock_max_ms = lock_ms;
}

void login_limits_slots(int n) {
    pthread_mutex_lock(&table_lock);
    if (!table && n >= 16) table_slots = n;
    pthread_mutex_unlock(&table_lock);
}

/* ---- the counting rule, one for every count wherever it is kept ---- */

/* How long the lock after `locks` earlier ones lasts: --login-lock doubled each time, capped. */
static int64_t lock_length(int locks) {
    int64_t ms = lock_ms;
    for (int i = 0; i < locks && ms < lock_max_ms; i++)
        ms *= 2;
    return ms < lock_max_ms ? ms : lock_max_ms;
}

/* A count with neither a failure nor a lock for --login-lock-max starts again. */
static void count_forget(login_limits_count *c, int64_t now) {
    int64_t quiet = c->failed_at_ms > c->locked_until_ms ? c->failed_at_ms : c->locked_until_ms;
    if (quiet > 0 && now - quiet >= lock_max_ms) memset(c, 0, sizeof *c);
}

/* Milliseconds c is still locked for at now; 0 when it is not. */
static int64_t count_wait(const login_limits_count *c, int64_t now) {
    return c->locked_until_ms > now ? c->locked_until_ms - now : 0;
}

/* 1 when c holds no failure and no lock level (after count_forget). */
static int count_clean(const login_limits_count *c) {
    return c->failures == 0 && c->locks == 0;
}

/* Counts one failure at now against a limit of max; returns 1 when it locked c just now. The
 * first lock takes max failures; after it, until the count is forgotten, every failure locks
 * again for twice as long: growing delays, one guess per lock. */
static int count_fail(login_limits_count *c, int64_t now, int64_t max) {
    count_forget(c, now);
    c->failed_at_ms = now;
    if (++c->failures < max && c->locks == 0) return 0;
    int64_t until = now + lock_length(c->locks);
    c->failures = 0;
    if (until > c->locked_until_ms) c->locked_until_ms = until;
    if (c->locks < 62) c->locks++;
    return 1;
}

/* ---- the table in memory ---- */

/* The 16-byte key of a count: kind ('p' pair, 'n' name, 'a' address), the name and the address
 * (either may be ""), hashed with the process's secret. */
static void mem_key(char kind, const char *name, const char *addr, uint8_t out[16]) {
    crypto_generichash_state h;
    crypto_generichash_init(&h, key_secret, sizeof key_secret, 16);
    crypto_generichash_update(&h, (const uint8_t *)&kind, 1);
    crypto_generichash_update(&h, (const uint8_t *)name, strlen(name) + 1);
    crypto_generichash_update(&h, (const uint8_t *)addr, strlen(addr) + 1);
    crypto_generichash_final(&h, out, 16);
}

/* The first slot of key's set; makes the table on first use. NULL without a table. Call with
 * table_lock held. */
static slot *mem_set(const uint8_t key[16]) {
    if (!table) {
        table_sets = (size_t)table_slots / WAYS;
        if (table_sets == 0) table_sets = 1;
        table = calloc(table_sets * WAYS, sizeof *table);
        if (!table) return NULL;
    }
    uint32_t h;
    memcpy(&h, key, sizeof h);
    return &table[(h % table_sets) * WAYS];
}

/* key's slot in its set, or NULL. Call with table_lock held. */
static slot *mem_find(slot *set, const uint8_t key[16]) {
    for (int i = 0; set && i < WAYS; i++)
        if (set[i].used && memcmp(set[i].key, key, 16) == 0) return &set[i];
    return NULL;
}

/* 1 when slot a should be given up before slot b at now: a free one first, then one not locked
 * before a locked one, then the one quiet for longer. */
static int mem_sooner(const slot *a, const slot *b, int64_t now) {
    if (a->used != b->used) return !a->used;
    int a_locked = count_wait(&a->count, now) > 0, b_locked = count_wait(&b->count, now) > 0;
    if (a_locked != b_locked) return !a_locked;
    int64_t qa = a->count.failed_at_ms > a->count.locked_until_ms ? a->count.failed_at_ms
                                                                  : a->count.locked_until_ms;
    int64_t qb = b->count.failed_at_ms > b->count.locked_until_ms ? b->count.failed_at_ms
                                                                  : b->count.locked_until_ms;
    return qa < qb;
}

/* key's slot, taking one for it when it has none. NULL without a table. Call with table_lock
 * held. */
static slot *mem_claim(const uint8_t key[16], int64_t now) {
    slot *set = mem_set(key), *found = mem_find(set, key), *victim = set;
    if (found || !set) return found;
    for (int i = 1; i < WAYS; i++)
        if (mem_sooner(&set[i], victim, now)) victim = &set[i];
    memset(victim, 0, sizeof *victim);
    memcpy(victim->key, key, 16);
    victim->used = 1;
    return victim;
}

/* key's count into *out (zero when the table holds none), forgotten as of now. */
static void mem_get(const uint8_t key[16], int64_t now, login_limits_count *out) {
    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&table_lock);
    slot *t = mem_find(mem_set(key), key);
    if (t) *out = t->count;
    pthread_mutex_unlock(&table_lock);
    count_forget(out, now);
}

/* Stores c as key's count. */
static void mem_put(const uint8_t key[16], int64_t now, const login_limits_count *c) {
    pthread_mutex_lock(&table_lock);
    slot *t = mem_claim(key, now);
    if (t) t->count = *c;
    pthread_mutex_unlock(&table_lock);
}

/* Counts a failure against key's count in one step (concurrent logins share it); returns 1 when
 * it locked just now. *now_count gets the count after. */
static int mem_fail(const uint8_t key[16], int64_t now, int64_t max,
                    login_limits_count *now_count) {
    int locked = 0;
    pthread_mutex_lock(&table_lock);
    slot *t = mem_claim(key, now);
    if (t) {
        locked = count_fail(&t->count, now, max);
        *now_count = t->count;
    }
    pthread_mutex_unlock(&table_lock);
    return locked;
}

/* ---- an account's counts in the database ---- */

/* Reads a's pair and account rows into a (zero when absent). Returns 0 or a negative code. */
static int db_load(store *s, login_limits_attempt *a, sync_error *err) {
    sqlite3_stmt *st = store_stmt(s, "SELECT failures, locks, locked_until_ms, failed_at_ms, "
                                     "ok_at_ms FROM login_pairs WHERE user_id = ? AND addr = ?");
    if (!st) return store_fail(s, SQLITE_ERROR, err);
    sqlite3_bind_int64(st, 1, a->user_id);
    sqlite3_bind_text(st, 2, a->addr, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        a->pair = (login_limits_count){sqlite3_column_int(st, 0), sqlite3_column_int(st, 1),
                                       sqlite3_column_int64(st, 2), sqlite3_column_int64(st, 3)};
        int64_t ok_at = sqlite3_column_int64(st, 4);
        a->known_address = ok_at > 0 && a->now_ms - ok_at < LOGIN_LIMITS_KNOWN_MS;
    }
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return store_fail(s, rc, err);
    st = store_stmt(s, "SELECT failures, locks, locked_until_ms, failed_at_ms FROM login_accounts "
                       "WHERE user_id = ?");
    if (!st) return store_fail(s, SQLITE_ERROR, err);
    sqlite3_bind_int64(st, 1, a->user_id);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        a->account = (login_limits_count){sqlite3_column_int(st, 0), sqlite3_column_int(st, 1),
                                          sqlite3_column_int64(st, 2), sqlite3_column_int64(st, 3)};
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return store_fail(s, rc, err);
    return 0;
}

/* Binds c's four fields to st's parameters first..first+3 and runs st. */
static int db_write(store *s, sqlite3_stmt *st, int first, const login_limits_count *c,
                    sync_error *err) {
    sqlite3_bind_int(st, first, c->failures);
    sqlite3_bind_int(st, first + 1, c->locks);
    sqlite3_bind_int64(st, first + 2, c->locked_until_ms);
    sqlite3_bind_int64(st, first + 3, c->failed_at_ms);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : store_fail(s, rc, err);
}

/* Deletes a's account's pair rows that have been quiet for --login-lock-max and saw no success
 * in LOGIN_LIMITS_KNOWN_MS: what keeps the table as small as the accounts' recent use. */
static int db_prune(store *s, const login_limits_attempt *a, sync_error *err) {
    sqlite3_stmt *st = store_stmt(s, "DELETE FROM login_pairs WHERE user_id = ? "
                                     "AND max(failed_at_ms, locked_until_ms) < ? AND ok_at_ms < ?");
    if (!st) return store_fail(s, SQLITE_ERROR, err);
    sqlite3_bind_int64(st, 1, a->user_id);
    sqlite3_bind_int64(st, 2, a->now_ms - lock_max_ms);
    sqlite3_bind_int64(st, 3, a->now_ms - LOGIN_LIMITS_KNOWN_MS);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : store_fail(s, rc, err);
}

/* Writes a's pair (and, from an unknown address, account) counts; prunes the account's rows. */
static int db_store(store *s, const login_limits_attempt *a, sync_error *err) {
    sqlite3_stmt *st = store_stmt(
        s, "INSERT INTO login_pairs (user_id, addr, failures, locks, locked_until_ms, "
           "failed_at_ms) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (user_id, addr) DO UPDATE SET "
           "failures = excluded.failures, locks = excluded.locks, "
           "locked_until_ms = excluded.locked_until_ms, failed_at_ms = excluded.failed_at_ms");
    if (!st) return store_fail(s, SQLITE_ERROR, err);
    sqlite3_bind_int64(st, 1, a->user_id);
    sqlite3_bind_text(st, 2, a->addr, -1, SQLITE_STATIC);
    int rc = db_write(s, st, 3, &a->pair, err);
    if (rc || a->known_address) return rc ? rc : db_prune(s, a, err);
    st = store_stmt(s, "INSERT INTO login_accounts (user_id, failures, locks, locked_until_ms, "
                       "failed_at_ms) VALUES (?, ?, ?, ?, ?) ON CONFLICT (user_id) DO UPDATE SET "
                       "failures = excluded.failures, locks = excluded.locks, "
                       "locked_until_ms = excluded.locked_until_ms, "
                       "failed_at_ms = excluded.failed_at_ms");
    if (!st) return store_fail(s, SQLITE_ERROR, err);
    sqlite3_bind_int64(st, 1, a->user_id);
    if ((rc = db_write(s, st, 2, &a->account, err))) return rc;
    return db_prune(s, a, err);
}

/* ---- one login ---- */

void login_limits_addr(const char *client_addr, char out[64]) {
    struct in6_addr a6;
    const char *addr = client_addr ? client_addr : "";
    if (inet_pton(AF_INET6, addr, &a6) != 1) {
        util_strlcpy(out, addr, 64);
        return;
    }
    char text[INET6_ADDRSTRLEN];
    if (IN6_IS_ADDR_V4MAPPED(&a6)) {
        inet_ntop(AF_INET, &a6.s6_addr[12], text, sizeof text);
        util_strlcpy(out, text, 64);
        return;
    }
    memset(&a6.s6_addr[8], 0, 8);
    inet_ntop(AF_INET6, &a6, text, sizeof text);
    snprintf(out, 64, "%s/64", text);
}

int login_limits_begin(store *s, login_limits_attempt *a, int64_t user_id, const char *username,
                       const char *client_addr, int64_t *wait_ms, sync_error *err) {
    pthread_once(&state_once, state_init);
    const char *name = username ? username : "";
    memset(a, 0, sizeof *a);
    *wait_ms = 0;
    a->now_ms = util_now_ms();
    a->user_id = user_id;
    login_limits_addr(client_addr, a->addr);
    mem_key('p', name, a->addr, a->pair_key);
    mem_key('n', name, "", a->name_key);
    mem_key('a', "", a->addr, a->addr_key);
    uint32_t h;
    memcpy(&h, a->name_key, sizeof h);
    a->stripe = h % STRIPES;
    pthread_mutex_lock(&stripes[a->stripe]);

    int rc = 0;
    if (user_id) {
        rc = db_load(s, a, err);
        count_forget(&a->pair, a->now_ms);
        count_forget(&a->account, a->now_ms);
    } else {
        mem_get(a->pair_key, a->now_ms, &a->pair);
        mem_get(a->name_key, a->now_ms, &a->account);
    }
    mem_get(a->addr_key, a->now_ms, &a->address);
    if (rc) return rc;
    int64_t wait = count_wait(&a->pair, a->now_ms), w;
    if (!a->known_address && (w = count_wait(&a->account, a->now_ms)) > wait) wait = w;
    if (!count_clean(&a->pair) && (w = count_wait(&a->address, a->now_ms)) > wait) wait = w;
    *wait_ms = wait;
    return 0;
}

int login_limits_fail(store *s, login_limits_attempt *a, int *locked, sync_error *err) {
    int64_t now = a->now_ms = util_now_ms(); /* a lock starts when the check has failed */
    int rc = 0;
    *locked = count_fail(&a->pair, now, pair_max);
    if (!a->known_address) *locked |= count_fail(&a->account, now, account_max);
    if (a->user_id) {
        rc = db_store(s, a, err);
    } else {
        mem_put(a->pair_key, now, &a->pair);
        mem_put(a->name_key, now, &a->account);
    }
    *locked |= mem_fail(a->addr_key, now, address_max, &a->address);
    return rc;
}

int login_limits_succeed(store *s, login_limits_attempt *a, sync_error *err) {
    memset(&a->pair, 0, sizeof a->pair);
    a->known_address = 1;
    sqlite3_stmt *st = store_stmt(s, "INSERT INTO login_pairs (user_id, addr, ok_at_ms) "
                                     "VALUES (?, ?, ?) ON CONFLICT (user_id, addr) DO UPDATE SET "
                                     "failures = 0, locks = 0, locked_until_ms = 0, "
                                     "failed_at_ms = 0, ok_at_ms = excluded.ok_at_ms");
    if (!st) return store_fail(s, SQLITE_ERROR, err);
    sqlite3_bind_int64(st, 1, a->user_id);
    sqlite3_bind_text(st, 2, a->addr, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, a->now_ms);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) return store_fail(s, rc, err);
    return db_prune(s, a, err);
}

void login_limits_end(login_limits_attempt *a) {
    pthread_mutex_unlock(&stripes[a->stripe]);
}
