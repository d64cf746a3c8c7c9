/* Photos of public reports and their upload tokens (see public_report_photos.h). */
#include "programme/public_report_photos.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

enum { TOKEN_BYTES = 32 };

int public_report_photos_check(char *const *hashes, size_t n, sync_error *err) {
    if (n > REPORT_PHOTOS_MAX)
        return sync_fail(err, SYNC_EINVALID, "too_many_photos",
                         "a report names at most %d photos, not %zu", REPORT_PHOTOS_MAX, n);
    for (size_t i = 0; i < n; i++) {
        if (!hashes[i] || !util_hash_hex_valid(hashes[i]))
            return sync_fail(err, SYNC_EINVALID, "invalid_photo",
                             "photos[%zu] is not 64 lowercase hex digits (BLAKE2b-256 of the "
                             "photo, as b2sum -l 256 prints it)",
                             i);
        for (size_t j = 0; j < i; j++)
            if (strcmp(hashes[i], hashes[j]) == 0)
                return sync_fail(err, SYNC_EINVALID, "invalid_photo",
                                 "photos[%zu] repeats photos[%zu]", i, j);
    }
    return 0;
}

/* The BLAKE2b-256 of the token's random bytes into hash; -1 when token is not one in form. */
static int token_hash(const char *token, uint8_t hash[32]) {
    uint8_t raw[TOKEN_BYTES];
    size_t n = 0;
    if (!report_token_like(token) ||
        sodium_hex2bin(raw, sizeof raw, token + 4, 64, NULL, &n, NULL) != 0 || n != TOKEN_BYTES)
        return -1;
    crypto_generichash(hash, 32, raw, sizeof raw, NULL, 0);
    return 0;
}

int report_token_like(const char *token) {
    return token && strlen(token) == REPORT_TOKEN_LEN &&
           strncmp(token, REPORT_TOKEN_PREFIX, 4) == 0 &&
           strspn(token + 4, "0123456789abcdef") == 64;
}

int public_report_photos_attach(store *s, const char *number, char *const *hashes, size_t n,
                                int64_t now_ms, int64_t ttl_ms, char *token, sync_error *err) {
    token[0] = '\0';
    if (n == 0) return 0;
    sqlite3_stmt *st =
        store_stmt(s, "INSERT INTO public_report_photos (number, position, hash) VALUES (?, ?, ?)");
    if (!st) return store_fail(s, SQLITE_ERROR, err);
    for (size_t i = 0; i < n; i++) {
        sqlite3_bind_text(st, 1, number, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 2, (int)i);
        sqlite3_bind_text(st, 3, hashes[i], -1, SQLITE_STATIC);
        int step = sqlite3_step(st);
        sqlite3_reset(st);
        if (step != SQLITE_DONE) return store_fail(s, step, err);
    }
    uint8_t raw[TOKEN_BYTES], hash[32];
    randombytes_buf(raw, sizeof raw);
    memcpy(token, REPORT_TOKEN_PREFIX, 4);
    sodium_bin2hex(token + 4, 65, raw, sizeof raw);
    crypto_generichash(hash, 32, raw, sizeof raw, NULL, 0);
    sodium_memzero(raw, sizeof raw);
    st = store_stmt(s, "INSERT INTO public_report_tokens (hash, number, expires_at_ms) "
                       "VALUES (?, ?, ?)");
    if (!st) return store_fail(s, SQLITE_ERROR, err);
    sqlite3_bind_blob(st, 1, hash, sizeof hash, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, number, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, now_ms + ttl_ms);
    int step = sqlite3_step(st);
    sqlite3_reset(st);
    if (step != SQLITE_DONE) {
        token[0] = '\0';
        return store_fail(s, step, err);
    }
    return 0;
}

int public_report_photos_list(store *s, const char *number, char ***out, size_t *n,
                              sync_error *err) {
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st =
        store_stmt(s, "SELECT hash FROM public_report_photos WHERE number = ? ORDER BY position");
    if (!st) return store_fail(s, SQLITE_ERROR, err);
    sqlite3_bind_text(st, 1, number, -1, SQLITE_STATIC);
    char **list = NULL;
    size_t k = 0;
    int step, rc = 0;
    while (rc == 0 && (step = sqlite3_step(st)) == SQLITE_ROW) {
        char **grown = realloc(list, (k + 1) * sizeof *list);
        char *h = grown ? strdup((const char *)sqlite3_column_text(st, 0)) : NULL;
        if (grown) list = grown;
        if (!h)
            rc = sync_fail(err, SYNC_EINTERNAL, "out_of_memory", "out of memory");
        else
            list[k++] = h;
    }
    if (rc == 0 && step != SQLITE_DONE) rc = store_fail(s, step, err);
    sqlite3_reset(st);
    if (rc < 0) {
        for (size_t i = 0; i < k; i++)
            free(list[i]);
        free(list);
        return rc;
    }
    *out = list;
    *n = k;
    return 0;
}

int report_token_authenticate(store *s, const char *token, principal *p, sync_error *err) {
    uint8_t hash[32];
    memset(p, 0, sizeof *p);
    if (token_hash(token, hash) != 0)
        return sync_fail(err, SYNC_EUNAUTH, "token_invalid", "the upload token is not valid");
    sqlite3_stmt *st = store_stmt(
        s, "SELECT hash, number, expires_at_ms FROM public_report_tokens WHERE hash = ?");
    if (!st) return store_fail(s, SQLITE_ERROR, err);
    sqlite3_bind_blob(st, 1, hash, sizeof hash, SQLITE_STATIC);
    int step = sqlite3_step(st), rc = 0;
    if (step == SQLITE_ROW && sqlite3_column_bytes(st, 0) == 32 &&
        sodium_memcmp(sqlite3_column_blob(st, 0), hash, 32) == 0) {
        if (sqlite3_column_int64(st, 2) <= util_now_ms())
            rc = sync_fail(err, SYNC_EUNAUTH, "token_expired",
                           "the report's upload token has expired; the report stands without "
                           "the photos not sent");
        else
            snprintf(p->username, sizeof p->username, "%s%s", REPORT_PRINCIPAL_PREFIX,
                     (const char *)sqlite3_column_text(st, 1));
    } else if (step == SQLITE_ROW || step == SQLITE_DONE) {
        rc = sync_fail(err, SYNC_EUNAUTH, "token_invalid", "the upload token is not valid");
    } else {
        rc = store_fail(s, step, err);
    }
    sqlite3_reset(st);
    if (rc == 0) p->role = OUTFALL__V1__ROLE__ROLE_UNSPECIFIED;
    return rc;
}

int report_principal(const principal *p) {
    return principal_report_number(p) != NULL;
}

int report_token_allows(store *s, const principal *p, const char *hash, sync_error *err) {
    if (!report_principal(p))
        return sync_fail(err, SYNC_EFORBIDDEN, "photo_not_in_report", "not a report's token");
    sqlite3_stmt *st =
        store_stmt(s, "SELECT 1 FROM public_report_photos WHERE number = ? AND hash = ?");
    if (!st) return store_fail(s, SQLITE_ERROR, err);
    sqlite3_bind_text(st, 1, p->username + strlen(REPORT_PRINCIPAL_PREFIX), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, hash ? hash : "", -1, SQLITE_STATIC);
    int step = sqlite3_step(st);
    sqlite3_reset(st);
    if (step == SQLITE_ROW) return 0;
    if (step != SQLITE_DONE) return store_fail(s, step, err);
    return sync_fail(err, SYNC_EFORBIDDEN, "photo_not_in_report",
                     "this upload token is for the photos its report listed, not %.64s",
                     hash ? hash : "");
}

int public_report_photos_visible(store *s, const principal *p, const char *hash, sync_error *err) {
    if (!principal_reads_as_supervisor(p)) return 0;
    sqlite3_stmt *st = store_stmt(s, "SELECT DISTINCT r.division_code FROM public_report_photos "
                                     "rp JOIN public_reports r USING (number) WHERE rp.hash = ? "
                                     "AND rp.uploaded_at_ms IS NOT NULL");
    if (!st) return store_fail(s, SQLITE_ERROR, err);
    sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
    int step, seen = 0;
    while (!seen && (step = sqlite3_step(st)) == SQLITE_ROW)
        seen = principal_covers(p, (const char *)sqlite3_column_text(st, 0));
    sqlite3_reset(st);
    if (!seen && step != SQLITE_DONE) return store_fail(s, step, err);
    return seen;
}

/* Runs sql with ?1 = reporter p's report number, ?2 = hash and ?3 = now_ms (when it has a ?3):
 * the number of rows it yields (a SELECT) or changes (an UPDATE), or a negative code. */
static int report_hash_query(store *s, const char *sql, const principal *p, const char *hash,
                             int64_t now_ms, sync_error *err) {
    if (!report_principal(p)) return 0;
    sqlite3_stmt *st = store_stmt(s, sql);
    if (!st) return store_fail(s, SQLITE_ERROR, err);
    sqlite3_bind_text(st, 1, p->username + strlen(REPORT_PRINCIPAL_PREFIX), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, hash ? hash : "", -1, SQLITE_STATIC);
    if (sqlite3_bind_parameter_count(st) > 2) sqlite3_bind_int64(st, 3, now_ms);
    int step = sqlite3_step(st), n = step == SQLITE_ROW;
    sqlite3_reset(st);
    if (step == SQLITE_DONE && sqlite3_bind_parameter_count(st) > 2)
        n = sqlite3_changes(store_db(s));
    return step == SQLITE_ROW || step == SQLITE_DONE ? n : store_fail(s, step, err);
}

int public_report_photos_held(store *s, const principal *p, const char *hash, sync_error *err) {
    return report_hash_query(s,
                             "SELECT 1 FROM public_report_photos WHERE number = ?1 AND hash = ?2 "
                             "AND uploaded_at_ms IS NOT NULL",
                             p, hash, 0, err);
}

int public_report_photos_uploaded(store *s, const principal *p, const char *hash, int64_t now_ms,
                                  sync_error *err) {
    return report_hash_query(s,
                             "UPDATE public_report_photos SET uploaded_at_ms = ?3 WHERE "
                             "number = ?1 AND hash = ?2 AND uploaded_at_ms IS NULL",
                             p, hash, now_ms, err);
}
