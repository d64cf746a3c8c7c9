/* Log-in limits: what failed logins are counted against, where each count is kept, and when a
 * login is refused (429 locked_out) before its password is checked. login_limits.c says why.
 *
 * Three counts meet each login, for the account's name, the client's address (an IPv6 address
 * counts as its /64) and the pair of both:
 *   pair     --login-failures in a row lock that name from that address;
 *   account  --login-account-failures from addresses the account has not logged in from in the
 *            last 30 days lock it for all such addresses (the known ones keep only their pair);
 *   address  --login-address-failures over all names slow that address down: while locked, only
 *            names it has no failure with may still try from there.
 * After a count's first lock, each further failure locks it again, for twice as long as the lock
 * before (from --login-lock up to --login-lock-max): one guess per lock. A count with neither
 * failure nor lock for --login-lock-max starts again; a success clears its pair. An account's pair
 * and account counts live in the database (never evicted, kept across restarts); names that are not
 * accounts get the same counts in a bounded table in memory, so both answer alike; addresses are
 * counted in memory. */
#ifndef SYNC_LOGIN_LIMITS_H
#define SYNC_LOGIN_LIMITS_H

#include <stdint.h>

#include "sync/store.h"

/* Slots of the in-memory table (names that are not accounts, and addresses). */
enum { LOGIN_LIMITS_SLOTS = 8192 };

/* A known address keeps its own budget this long after its last success. */
#define LOGIN_LIMITS_KNOWN_MS (30LL * 86400 * 1000)

/* One count of failures and its lock. */
typedef struct login_limits_count {
    int failures;            /* since the last lock, success or quiet spell */
    int locks;               /* locks in a row: the next lasts --login-lock x 2^locks */
    int64_t locked_until_ms; /* 0 when never locked */
    int64_t failed_at_ms;    /* the last failure; 0 when none */
} login_limits_count;

/* One login's counts, from login_limits_begin to login_limits_end. Lives on the caller's stack. */
typedef struct login_limits_attempt {
    int64_t now_ms;
    int64_t user_id; /* 0: the name is no (enabled) account, counted in memory */
    char addr[64];   /* the client's address as counted: an IPv6 address's /64 */
    uint8_t pair_key[16], name_key[16], addr_key[16]; /* the in-memory table's keys */
    unsigned stripe;   /* the lock this name's logins take one at a time */
    int known_address; /* the account logged in from addr within LOGIN_LIMITS_KNOWN_MS */
    login_limits_count pair, account, address;
} login_limits_attempt;

/* Takes the limits from cfg (login_max_failures, login_acct_failures and
 * login_addr_failures, where 0 means 4 and 10 times login_max_failures; login_lock_s,
 * login_lock_max_s). Call before the first login. */
void login_limits_init(const sync_config *cfg);

/* Sets the in-memory table's size (n >= 16; LOGIN_LIMITS_SLOTS by default). Call before the first
 * login; later calls change nothing. */
void login_limits_slots(int n);

/* Starts a login of username (user_id its account, 0 for none) from client_addr: takes the name's
 * lock (every login of one name runs alone from here to login_limits_end), loads its counts and
 * sets *wait_ms to how long the login is refused for, 0 when its password may be checked.
 * Returns 0 or a negative code (storage) with err filled; call login_limits_end either way. */
int login_limits_begin(store *s, login_limits_attempt *a, int64_t user_id, const char *username,
                       const char *client_addr, int64_t *wait_ms, sync_error *err);

/* Counts a failed password for a (that login_limits_begin let through). The account's rows are
 * written in the caller's open transaction, so they commit with its audit row. *locked is set
 * to 1 when a count locked just now. Returns 0 or a negative code with err filled. */
int login_limits_fail(store *s, login_limits_attempt *a, int *locked, sync_error *err);

/* A right password for account a->user_id: its pair is cleared and addr becomes known, in the
 * caller's open transaction. The account and address counts stay. Returns 0 or a negative code. */
int login_limits_succeed(store *s, login_limits_attempt *a, sync_error *err);

/* Releases the name's lock taken by login_limits_begin. */
void login_limits_end(login_limits_attempt *a);

/* The client's address as counted into out[64]: an IPv6 address becomes its /64 ("2001:db8::/64"),
 * an IPv4-mapped one its IPv4 address; anything else is copied (cut at 63 bytes). */
void login_limits_addr(const char *client_addr, char out[64]);

#endif
