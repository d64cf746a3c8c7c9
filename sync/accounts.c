/* Users, passwords, bearer tokens; logins within the limits of sync/login_limits.h. */
#include "sync/accounts.h"

#include <ctype.h>
#include <pthread.h>
#include <semaphore.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "sync/accounts_internal.h"
#include "sync/login_limits.h"

#define TOKEN_BYTES 32

/* argon2id at INTERACTIVE limits takes 64 MiB: at most this many run at once. */
static sem_t hash_slots;
static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static int hash_slot_count = 2;

/* A hash of a random password, made once with the parameters of every stored hash: a login of a
 * name that is no account is checked against it, so it costs what a wrong password costs and
 * its answer's timing does not tell which names exist. */
static char dummy_hash[crypto_pwhash_STRBYTES];
static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;

static void init_slots(void) {
    sem_init(&hash_slots, 0, (unsigned)hash_slot_count);
}

/* The cost of a new hash: argon2id's interactive cost, or its least with
 * --password-hash-minimum 1 (tests only). A stored hash names its own cost, so verifying one
 * costs what it cost to make. */
static unsigned long long hash_opslimit = crypto_pwhash_OPSLIMIT_INTERACTIVE;
static size_t hash_memlimit = crypto_pwhash_MEMLIMIT_INTERACTIVE;

int accounts_hash_password(const char *password, char out[crypto_pwhash_STRBYTES]) {
    pthread_once(&init_once, init_slots);
    sem_wait(&hash_slots);
    int rc = crypto_pwhash_str(out, password, strlen(password), hash_opslimit, hash_memlimit);
    sem_post(&hash_slots);
    return rc;
}

int accounts_verify_password(const char *stored, const char *password) {
    pthread_once(&init_once, init_slots);
    sem_wait(&hash_slots);
    int rc = crypto_pwhash_str_verify(stored, password, strlen(password));
    sem_post(&hash_slots);
    return rc;
}

static void make_dummy_hash(void) {
    uint8_t raw[16];
    char password[2 * sizeof raw + 1];
    randombytes_buf(raw, sizeof raw);
    util_hex(raw, sizeof raw, password);
    if (accounts_hash_password(password, dummy_hash) !=
        0) { /* out of memory for 64 MiB at start-up */
        fprintf(stderr, "accounts: cannot make the dummy password hash\n");
        abort();
    }
    sodium_memzero(password, sizeof password);
}

void accounts_init(const sync_config *cfg) {
    if (cfg->max_password_hashes > 0) hash_slot_count = cfg->max_password_hashes;
    if (cfg->password_hash_minimum) {
        hash_opslimit = crypto_pwhash_OPSLIMIT_MIN;
        hash_memlimit = crypto_pwhash_MEMLIMIT_MIN;
        fprintf(stderr, "accounts: --password-hash-minimum 1: passwords hashed at argon2id's "
                        "least cost, for tests only\n");
    }
    if (sodium_init() < 0) abort();
    pthread_once(&init_once, init_slots);
    login_limits_init(cfg);
    pthread_once(&dummy_once, make_dummy_hash);
}

void accounts_throttle_slots(int n) {
    login_limits_slots(n);
}

static int valid_username(const char *u) {
    size_t n = u ? strlen(u) : 0;
    if (n < 2 || n > 63) return 0;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)u[i]) && !strchr("._-", u[i])) return 0;
    return 1;
}

static int division_exists(store *s, const char *code) {
    sqlite3_stmt *st = store_stmt(s, "SELECT 1 FROM divisions WHERE code = ?");
    if (!st) return 0;
    sqlite3_bind_text(st, 1, code, -1, SQLITE_STATIC);
    int found = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_reset(st);
    return found;
}

int accounts_check_password(const char *password, sync_error *err) {
    if (!password || strlen(password) < 10 || strlen(password) > 256)
        return sync_fail(err, SYNC_EINVALID, "weak_password",
                         "a password is 10 to 256 characters long");
    return 0;
}

int accounts_check_role_divisions(store *s, int has_role, int role, char *const *divisions,
                                  size_t n_divisions, sync_error *err) {
    if (!has_role || role < OUTFALL__V1__ROLE__ROLE_SURVEYOR ||
        role > OUTFALL__V1__ROLE__ROLE_PROVINCE_CHECKER)
        return sync_fail(
            err, SYNC_EINVALID, "invalid_role",
            "role must be SURVEYOR, SUPERVISOR, INTEGRATOR, ADMIN or PROVINCE_CHECKER");
    if (n_divisions > SYNC_MAX_DIVISIONS)
        return sync_fail(err, SYNC_EINVALID, "too_many_divisions", "at most %d divisions",
                         SYNC_MAX_DIVISIONS);
    if (n_divisions == 0 &&
        (role == OUTFALL__V1__ROLE__ROLE_SURVEYOR || role == OUTFALL__V1__ROLE__ROLE_SUPERVISOR))
        return sync_fail(err, SYNC_EINVALID, "unknown_division",
                         "surveyors and supervisors need at least one division");
    for (size_t i = 0; i < n_divisions; i++)
        if (!divisions[i] || !division_exists(s, divisions[i]))
            return sync_fail(err, SYNC_EINVALID, "unknown_division", "no division %s",
                             divisions[i] ? divisions[i] : "");
    return 0;
}

/* Inserts the user and their divisions inside the caller's transaction. */
static int insert_user(store *s, const char *username, const char *pwhash, int role,
                       char *const *divisions, size_t n_div, sync_error *err) {
    sqlite3_stmt *st = store_stmt(s, "INSERT INTO users (username, password_hash, role, "
                                     "created_at_ms) VALUES (?, ?, ?, ?)");
    if (!st) return store_fail(s, SQLITE_ERROR, err);
    sqlite3_bind_text(st, 1, username, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, pwhash, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 3, role);
    sqlite3_bind_int64(st, 4, util_now_ms());
    int rc = sqlite3_step(st);
    if (rc == SQLITE_CONSTRAINT)
        return sync_fail(err, SYNC_ECONFLICT, "username_taken", "user %s already exists", username);
    if (rc != SQLITE_DONE) return store_fail(s, rc, err);
    int64_t id = sqlite3_last_insert_rowid(store_db(s));
    for (size_t i = 0; i < n_div; i++) {
        st = store_stmt(s, "INSERT OR IGNORE INTO user_divisions (user_id, division_code) "
                           "VALUES (?, ?)");
        if (!st) return store_fail(s, SQLITE_ERROR, err);
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_text(st, 2, divisions[i], -1, SQLITE_STATIC);
        if ((rc = sqlite3_step(st)) != SQLITE_DONE) return store_fail(s, rc, err);
    }
    return 0;
}

int accounts_bootstrap_admin(store *s, const char *password, char generated[33], int *created,
                             sync_error *err) {
    *created = 0;
    sqlite3_stmt *st = store_stmt(s, "SELECT 1 FROM users WHERE role = ?");
    if (!st) return store_fail(s, SQLITE_ERROR, err);
    sqlite3_bind_int(st, 1, OUTFALL__V1__ROLE__ROLE_ADMIN);
    int found = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_reset(st);
    if (found) return 0;
    if (!password || !*password) {
        uint8_t raw[12];
        randombytes_buf(raw, sizeof raw);
        char *b64 = util_base64_encode(raw, sizeof raw);
        if (!b64) return sync_fail(err, SYNC_EINTERNAL, "out_of_memory", "out of memory");
        /* 16 characters of base64 with the two symbols swapped for ones a shell leaves alone. */
        for (char *c = b64; *c; c++)
            if (*c == '+' || *c == '/') *c = *c == '+' ? 'x' : 'y';
        util_strlcpy(generated, b64, 33);
        free(b64);
        password = generated;
    }
    char hash[crypto_pwhash_STRBYTES];
    if (accounts_hash_password(password, hash) != 0)
        return sync_fail(err, SYNC_EINTERNAL, "out_of_memory", "password hashing failed");
    char *city[] = {SYNC_CITY_DIVISION};
    int rc = store_begin(s, err);
    if (rc) return rc;
    rc = insert_user(s, "admin", hash, OUTFALL__V1__ROLE__ROLE_ADMIN, city, 1, err);
    if (rc == SYNC_ECONFLICT) { /* another process made it first */
        store_rollback(s);
        return 0;
    }
    if (rc || (rc = store_commit(s, err))) {
        store_rollback(s);
        return rc;
    }
    *created = 1;
    return 0;
}

int accounts_create_user(store *s, const principal *actor, const Outfall__V1__User *u,
                         sync_error *err) {
    int rc;
    if (actor->role != OUTFALL__V1__ROLE__ROLE_ADMIN) {
        rc = sync_fail(err, SYNC_EFORBIDDEN, "forbidden_role", "only admins manage accounts");
        goto refused;
    }
    if (!valid_username(u->username)) {
        rc = sync_fail(err, SYNC_EINVALID, "invalid_username",
                       "a username is 2-63 characters of letters, digits, '.', '_' or '-'");
        goto refused;
    }
    if ((rc = accounts_check_password(u->password, err)) ||
        (rc = accounts_check_role_divisions(s, u->has_role, u->role, u->divisions, u->n_divisions,
                                            err)))
        goto refused;
    char hash[crypto_pwhash_STRBYTES];
    if (accounts_hash_password(u->password, hash) != 0)
        return sync_fail(err, SYNC_EINTERNAL, "out_of_memory", "password hashing failed");
    if ((rc = store_begin(s, err))) return rc;
    rc = insert_user(s, u->username, hash, u->role, u->divisions, u->n_divisions, err);
    if (!rc) rc = store_commit(s, err);
    if (rc) {
        store_rollback(s);
        if (rc != SYNC_ECONFLICT) return rc;
        goto refused;
    }
    audit_record(s, actor, "user.create", u->username, "ok", NULL);
    return 0;
refused:
    audit_record(s, actor, "user.create", u->username, err ? err->code : "refused", NULL);
    return rc;
}

int accounts_load_divisions(store *s, int64_t id, char ***out, size_t *n) {
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st = store_stmt(s, "SELECT division_code FROM user_divisions "
                                     "WHERE user_id = ? ORDER BY division_code");
    if (!st) return SYNC_EINTERNAL;
    sqlite3_bind_int64(st, 1, id);
    char **v = calloc(SYNC_MAX_DIVISIONS, sizeof *v);
    if (!v) return SYNC_EINTERNAL;
    while (*n < SYNC_MAX_DIVISIONS && sqlite3_step(st) == SQLITE_ROW)
        v[(*n)++] = strdup((const char *)sqlite3_column_text(st, 0));
    sqlite3_reset(st);
    *out = v;
    return 0;
}

int accounts_list_users(store *s, const principal *actor, Outfall__V1__UserList **out,
                        sync_error *err) {
    *out = NULL;
    if (actor->role != OUTFALL__V1__ROLE__ROLE_ADMIN)
        return sync_fail(err, SYNC_EFORBIDDEN, "forbidden_role", "only admins manage accounts");
    Outfall__V1__UserList *list = malloc(sizeof *list);
    if (!list) return sync_fail(err, SYNC_EINTERNAL, "out_of_memory", "out of memory");
    outfall__v1__user_list__init(list);
    sqlite3_stmt *st =
        store_stmt(s, "SELECT id, username, role, disabled, must_change_password FROM users "
                      "ORDER BY username");
    if (!st) {
        free(list);
        return store_fail(s, SQLITE_ERROR, err);
    }
    size_t cap = 0;
    int64_t *ids = NULL;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (list->n_users == cap) {
            cap = cap ? cap * 2 : 16;
            void *grown = realloc(list->users, cap * sizeof *list->users);
            void *grown_ids = grown ? realloc(ids, cap * sizeof *ids) : NULL;
            if (grown) list->users = grown;
            if (!grown_ids) break;
            ids = grown_ids;
        }
        ids[list->n_users] = sqlite3_column_int64(st, 0);
        Outfall__V1__User *u = malloc(sizeof *u);
        if (!u) break;
        outfall__v1__user__init(u);
        u->username = strdup((const char *)sqlite3_column_text(st, 1));
        u->has_role = 1;
        u->role = sqlite3_column_int(st, 2);
        u->has_disabled = 1;
        u->disabled = sqlite3_column_int(st, 3);
        u->has_must_change_password = 1;
        u->must_change_password = sqlite3_column_int(st, 4);
        list->users[list->n_users++] = u;
    }
    sqlite3_reset(st);
    for (size_t i = 0; i < list->n_users; i++)
        accounts_load_divisions(s, ids[i], &list->users[i]->divisions,
                                &list->users[i]->n_divisions);
    free(ids);
    if (rc != SQLITE_DONE) {
        protobuf_c_message_free_unpacked(&list->base, NULL);
        return store_fail(s, rc, err);
    }
    *out = list;
    return 0;
}

/* Loads user_id's principal (role, username, divisions). */
static int load_principal(store *s, int64_t user_id, principal *p) {
    memset(p, 0, sizeof *p);
    sqlite3_stmt *st = store_stmt(
        s, "SELECT username, role, disabled, must_change_password FROM users WHERE id = ?");
    if (!st) return SYNC_EINTERNAL;
    sqlite3_bind_int64(st, 1, user_id);
    if (sqlite3_step(st) != SQLITE_ROW || sqlite3_column_int(st, 2)) {
        sqlite3_reset(st);
        return SYNC_ENOTFOUND;
    }
    p->user_id = user_id;
    util_strlcpy(p->username, (const char *)sqlite3_column_text(st, 0), sizeof p->username);
    p->role = sqlite3_column_int(st, 1);
    p->must_change_password = sqlite3_column_int(st, 3);
    sqlite3_reset(st);
    st = store_stmt(s, "SELECT division_code FROM user_divisions WHERE user_id = ? "
                       "ORDER BY division_code");
    if (!st) return SYNC_EINTERNAL;
    sqlite3_bind_int64(st, 1, user_id);
    while (p->n_divisions < SYNC_MAX_DIVISIONS && sqlite3_step(st) == SQLITE_ROW)
        util_strlcpy(p->divisions[p->n_divisions++], (const char *)sqlite3_column_text(st, 0),
                     sizeof p->divisions[0]);
    sqlite3_reset(st);
    return 0;
}

/* Counts a failed password for a in one transaction with its audit row (outcome locked_out when
 * a count locked just now). Returns bad_credentials (401), or the storage's code when the
 * failure could not be recorded (nothing written then). */
static int login_failed(store *s, login_limits_attempt *a, const char *username,
                        const char *client_addr, sync_error *err) {
    int locked = 0;
    int rc = store_begin(s, err);
    if (rc) return rc;
    if ((rc = login_limits_fail(s, a, &locked, err))) {
        store_rollback(s);
        return rc;
    }
    audit_record(s, NULL, "login", username, locked ? "locked_out" : "bad_credentials",
                 client_addr);
    if ((rc = store_commit(s, err))) return rc;
    return sync_fail(err, SYNC_EUNAUTH, "bad_credentials", "wrong username or password");
}

/* A right password for a->user_id: stores a new token's hash, clears the login's pair count and
 * sweeps expired tokens in one transaction, then fills *out. Returns 0 or a negative code. */
static int login_issue_token(store *s, const sync_config *cfg, login_limits_attempt *a,
                             const char *client_addr, Outfall__V1__LoginResponse **out,
                             sync_error *err) {
    uint8_t raw[TOKEN_BYTES], hash[32];
    char hex[2 * TOKEN_BYTES + 1];
    randombytes_buf(raw, sizeof raw);
    crypto_generichash(hash, sizeof hash, raw, sizeof raw, NULL, 0);
    util_hex(raw, sizeof raw, hex);
    sodium_memzero(raw, sizeof raw);
    int64_t now = a->now_ms, expires = now + (int64_t)cfg->token_ttl_s * 1000;
    principal p;
    Outfall__V1__LoginResponse *r = NULL;
    int rc = store_begin(s, err);
    if (rc) goto done;
    sqlite3_stmt *st = store_stmt(s, "INSERT INTO tokens (hash, user_id, created_at_ms, "
                                     "expires_at_ms) VALUES (?, ?, ?, ?)");
    if (!st) {
        rc = store_fail(s, SQLITE_ERROR, err);
        goto rollback;
    }
    sqlite3_bind_blob(st, 1, hash, sizeof hash, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, a->user_id);
    sqlite3_bind_int64(st, 3, now);
    sqlite3_bind_int64(st, 4, expires);
    if ((rc = sqlite3_step(st)) != SQLITE_DONE) {
        rc = store_fail(s, rc, err);
        goto rollback;
    }
    if ((rc = login_limits_succeed(s, a, err))) goto rollback;
    /* Expired tokens are of no use to anyone: sweep them while here. */
    st = store_stmt(s, "DELETE FROM tokens WHERE expires_at_ms < ?");
    if (st) {
        sqlite3_bind_int64(st, 1, now - 86400000);
        sqlite3_step(st);
    }
    if ((rc = store_commit(s, err))) goto done;
    if (load_principal(s, a->user_id, &p) != 0) {
        rc = sync_fail(err, SYNC_EINTERNAL, "storage_error", "user vanished during login");
        goto done;
    }
    if (!(r = malloc(sizeof *r))) {
        rc = sync_fail(err, SYNC_EINTERNAL, "out_of_memory", "out of memory");
        goto done;
    }
    outfall__v1__login_response__init(r);
    r->token = strdup(hex);
    r->has_expires_at_ms = 1;
    r->expires_at_ms = expires;
    r->has_role = 1;
    r->role = p.role;
    r->username = strdup(p.username);
    r->has_must_change_password = 1;
    r->must_change_password = p.must_change_password;
    r->divisions = calloc((size_t)p.n_divisions + 1, sizeof *r->divisions);
    for (int i = 0; r->divisions && i < p.n_divisions; i++)
        r->divisions[r->n_divisions++] = strdup(p.divisions[i]);
    audit_record(s, &p, "login", p.username, "ok", client_addr);
    *out = r;
    goto done;
rollback:
    store_rollback(s);
done:
    sodium_memzero(hex, sizeof hex);
    return rc;
}

int accounts_login_retry_after(store *s, const sync_config *cfg, const char *username,
                               const char *password, const char *client_addr,
                               int64_t *retry_after_s, Outfall__V1__LoginResponse **out,
                               sync_error *err) {
    *out = NULL;
    if (retry_after_s) *retry_after_s = 0;
    const char *name = username ? username : "";
    char stored[crypto_pwhash_STRBYTES] = "";
    int64_t user_id = 0, wait_ms = 0;
    int disabled = 0;
    sqlite3_stmt *st =
        store_stmt(s, "SELECT id, password_hash, disabled FROM users WHERE username = ?");
    if (!st) return store_fail(s, SQLITE_ERROR, err);
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        user_id = sqlite3_column_int64(st, 0);
        util_strlcpy(stored, (const char *)sqlite3_column_text(st, 1), sizeof stored);
        disabled = sqlite3_column_int(st, 2);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return store_fail(s, rc, err);

    login_limits_attempt a;
    if ((rc = login_limits_begin(s, &a, user_id, name, client_addr, &wait_ms, err))) goto done;
    if (wait_ms > 0) {
        int64_t seconds = (wait_ms + 999) / 1000;
        if (retry_after_s) *retry_after_s = seconds;
        audit_record(s, NULL, "login", name, "locked_out", client_addr);
        rc = sync_fail(err, SYNC_ELOCKED, "locked_out",
                       "too many failed logins; try again in %lld s", (long long)seconds);
        goto done;
    }
    /* A name that is no account is checked against the dummy hash: the same argon2id work. */
    pthread_once(&dummy_once, make_dummy_hash);
    int right =
        accounts_verify_password(user_id ? stored : dummy_hash, password ? password : "") == 0;
    if (!user_id || !password || !right) {
        rc = login_failed(s, &a, name, client_addr, err);
    } else if (disabled) { /* told only to who knows the password, after the same work */
        audit_record(s, NULL, "login", name, "account_disabled", client_addr);
        rc = sync_fail(err, SYNC_EFORBIDDEN, "account_disabled",
                       "this account is disabled; ask an administrator");
    } else
        rc = login_issue_token(s, cfg, &a, client_addr, out, err);
done:
    login_limits_end(&a);
    sodium_memzero(stored, sizeof stored);
    return rc;
}

int accounts_login(store *s, const sync_config *cfg, const char *username, const char *password,
                   const char *client_addr, Outfall__V1__LoginResponse **out, sync_error *err) {
    return accounts_login_retry_after(s, cfg, username, password, client_addr, NULL, out, err);
}

int accounts_token_hash(const char *token, uint8_t hash[32]) {
    uint8_t raw[TOKEN_BYTES];
    size_t n = 0;
    if (!token || strlen(token) != 2 * TOKEN_BYTES ||
        sodium_hex2bin(raw, sizeof raw, token, strlen(token), NULL, &n, NULL) != 0 ||
        n != TOKEN_BYTES)
        return -1;
    crypto_generichash(hash, 32, raw, sizeof raw, NULL, 0);
    return 0;
}

void accounts_token_id(const uint8_t hash[32], char out[17]) {
    util_hex(hash, 8, out);
}

/* Notes that the token with hash was used at now_ms when its last note is a minute old or more
 * (a write at most once a minute per token). Best effort: a busy database skips the note. */
static void note_token_use(store *s, const uint8_t hash[32], int64_t last_used_ms, int64_t now_ms) {
    if (now_ms - last_used_ms < 60000) return;
    sqlite3_stmt *st = store_stmt(s, "UPDATE tokens SET last_used_at_ms = ? WHERE hash = ?");
    if (!st) return;
    sqlite3_bind_int64(st, 1, now_ms);
    sqlite3_bind_blob(st, 2, hash, 32, SQLITE_STATIC);
    sqlite3_step(st);
    sqlite3_reset(st);
}

int accounts_authenticate(store *s, const char *token, principal *p, sync_error *err) {
    uint8_t hash[32];
    if (accounts_token_hash(token, hash) != 0)
        return sync_fail(err, SYNC_EUNAUTH, "token_invalid", "the bearer token is not valid");
    sqlite3_stmt *st = store_stmt(s, "SELECT hash, user_id, expires_at_ms, revoked, "
                                     "last_used_at_ms FROM tokens WHERE hash = ?");
    if (!st) return store_fail(s, SQLITE_ERROR, err);
    sqlite3_bind_blob(st, 1, hash, sizeof hash, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        sqlite3_reset(st);
        return store_fail(s, rc, err);
    }
    if (rc != SQLITE_ROW || sqlite3_column_bytes(st, 0) != 32 ||
        sodium_memcmp(sqlite3_column_blob(st, 0), hash, 32) != 0) {
        sqlite3_reset(st);
        return sync_fail(err, SYNC_EUNAUTH, "token_invalid", "the bearer token is not valid");
    }
    int64_t user_id = sqlite3_column_int64(st, 1);
    int64_t expires = sqlite3_column_int64(st, 2);
    int revoked = sqlite3_column_int(st, 3);
    int64_t last_used = sqlite3_column_int64(st, 4), now = util_now_ms();
    sqlite3_reset(st);
    if (revoked)
        return sync_fail(err, SYNC_EUNAUTH, "token_revoked", "the bearer token was revoked");
    if (expires <= now)
        return sync_fail(err, SYNC_EUNAUTH, "token_expired", "the bearer token has expired");
    if ((rc = load_principal(s, user_id, p)) == SYNC_ENOTFOUND)
        return sync_fail(err, SYNC_EUNAUTH, "token_invalid", "the account is disabled");
    if (rc) return store_fail(s, SQLITE_ERROR, err);
    note_token_use(s, hash, last_used, now);
    return 0;
}

int accounts_principal(store *s, int64_t user_id, principal *p, sync_error *err) {
    int rc = load_principal(s, user_id, p);
    if (rc == SYNC_ENOTFOUND)
        return sync_fail(err, rc, "not_found", "user %lld is missing or disabled",
                         (long long)user_id);
    return rc ? store_fail(s, SQLITE_ERROR, err) : 0;
}

int accounts_revoke_token(store *s, const char *token, sync_error *err) {
    uint8_t hash[32];
    if (accounts_token_hash(token, hash) != 0)
        return sync_fail(err, SYNC_EUNAUTH, "token_invalid", "the bearer token is not valid");
    int rc = store_begin(s, err);
    if (rc) return rc;
    sqlite3_stmt *st = store_stmt(s, "UPDATE tokens SET revoked = 1 WHERE hash = ?");
    if (!st) {
        store_rollback(s);
        return store_fail(s, SQLITE_ERROR, err);
    }
    sqlite3_bind_blob(st, 1, hash, sizeof hash, SQLITE_STATIC);
    if ((rc = sqlite3_step(st)) != SQLITE_DONE) {
        store_rollback(s);
        return store_fail(s, rc, err);
    }
    return store_commit(s, err);
}
