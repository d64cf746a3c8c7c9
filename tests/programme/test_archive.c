/* The photo archive through the engine (tests programme/archive.c): an archive of 10 000 photos of
 * 10 000 outfalls streams in constant memory, and GNU tar reads it back whole, manifest first. */
#include "tests/sync/fixture.h"

#include <errno.h>
#include <sys/stat.h>

#include "programme/archive.h"

/* The archive below measures resident memory: keep freed blocks from piling up in
 * AddressSanitizer's quarantine, which would count as growth that is not the archive's. */
const char *__asan_default_options(void);
const char *__asan_default_options(void) {
    return "quarantine_size_mb=4";
}

enum { PHOTO_BYTES = 8192 };

static int setup(void **state) {
    if (fx_setup(state)) return -1;
    fixture *f = *state;
    return sqlite3_exec(store_db(f->s), "PRAGMA synchronous = OFF", NULL, NULL, NULL) ? -1 : 0;
}

/* Resident set size in bytes, from /proc/self/statm. */
static long long rss_bytes(void) {
    FILE *fp = fopen("/proc/self/statm", "r");
    long long pages = 0, resident = 0;
    if (!fp) return -1;
    if (fscanf(fp, "%lld %lld", &pages, &resident) != 2) resident = -1;
    fclose(fp);
    return resident * sysconf(_SC_PAGESIZE);
}

static void mkdir_p(const char *path) {
    char buf[256];
    util_strlcpy(buf, path, sizeof buf);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        assert_true(mkdir(buf, 0755) == 0 || errno == EEXIST);
        *p = '/';
    }
    assert_true(mkdir(buf, 0755) == 0 || errno == EEXIST);
}

/* Stores n photos of PHOTO_BYTES bytes (held by user 1, who named them), one observation each,
 * one outfall each (approved; the first `warm` on the 丹河, the rest on the 沁河) straight into
 * the tables and photos_dir. */
static void build(fixture *f, const char *photos_dir, int n, int warm) {
    sqlite3 *db = store_db(f->s);
    assert_int_equal(sqlite3_exec(db, "BEGIN", NULL, NULL, NULL), SQLITE_OK);
    static const char *const sql[] = {
        "INSERT INTO outfalls (id, version, river_code, division_code, review_state, lat, lon, "
        "created_by, created_at_ms, updated_at_ms, doc, approved_version, code) VALUES "
        "(?1, 2, ?2, '410882', 2, 35.1, 113.0, 1, 1700000000000, 1700000000000, "
        "json_object('id', ?1, 'version', 2, 'code', ?3, 'river_code', ?2, 'division_code', "
        "'410882', 'lat', 35.1, 'lon', 113.0), 2, ?3)",
        "INSERT INTO observations (id, outfall_id, version, division_code, created_by, "
        "created_at_ms, updated_at_ms, doc) VALUES (?4, ?1, 1, '410882', 1, 1700000000000, "
        "1700000000000, json_object('id', ?4, 'outfall_id', ?1))",
        "INSERT INTO photos (hash, size, media_type, gps_lat, gps_lon, taken_at_ms, "
        "stored_at_ms) VALUES (?5, 8192, 'image/jpeg', 35.1, 113.0, 1700000000000, "
        "1700000000000)",
        "INSERT INTO observation_photo_refs (ref_key, observation_rowid, hash, kind, "
        "division_code, author_id) SELECT rowid * 1024, rowid, ?5, 1, '410882', 1 FROM "
        "observations WHERE id = ?4",
        "INSERT INTO photo_holders (hash, user_id, at_ms) VALUES (?5, 1, 1700000000000)",
    };
    sqlite3_stmt *st[5];
    for (int k = 0; k < 5; k++)
        assert_int_equal(sqlite3_prepare_v2(db, sql[k], -1, &st[k], NULL), SQLITE_OK);
    uint8_t *bytes = malloc(PHOTO_BYTES);
    for (int i = 0; i < n; i++) {
        char id[UUID_STR_LEN + 1], oid[UUID_STR_LEN + 1], code[40], hash[65], path[256];
        snprintf(id, sizeof id, "00000000-0000-4000-8000-%012d", i);
        snprintf(oid, sizeof oid, "00000000-0000-4000-9000-%012d", i);
        const char *river = i < warm ? "danhe" : "qinhe";
        snprintf(code, sizeof code, "410882-%s-16-%06d", river, i);
        for (int b = 0; b < PHOTO_BYTES; b++)
            bytes[b] = (uint8_t)(i * 31 + b * 7);
        memcpy(bytes, &i, sizeof i);
        util_blake2b_hex(bytes, PHOTO_BYTES, hash);
        snprintf(path, sizeof path, "%s/%.2s/%.2s", photos_dir, hash, hash + 2);
        mkdir_p(path);
        snprintf(path + strlen(path), sizeof path - strlen(path), "/%s", hash);
        FILE *fp = fopen(path, "wb");
        assert_non_null(fp);
        assert_int_equal(fwrite(bytes, 1, PHOTO_BYTES, fp), PHOTO_BYTES);
        fclose(fp);
        for (int k = 0; k < 5; k++) {
            if (k < 4) sqlite3_bind_text(st[k], 1, id, -1, SQLITE_TRANSIENT);
            if (k == 0) sqlite3_bind_text(st[k], 2, river, -1, SQLITE_STATIC);
            if (k == 0) sqlite3_bind_text(st[k], 3, code, -1, SQLITE_TRANSIENT);
            if (k == 1 || k == 3) sqlite3_bind_text(st[k], 4, oid, -1, SQLITE_TRANSIENT);
            if (k >= 2) sqlite3_bind_text(st[k], 5, hash, -1, SQLITE_TRANSIENT);
            int rc = sqlite3_step(st[k]);
            if (rc != SQLITE_DONE) print_message("%s\n", sqlite3_errmsg(db));
            assert_int_equal(rc, SQLITE_DONE);
            sqlite3_reset(st[k]);
        }
    }
    free(bytes);
    for (int k = 0; k < 5; k++)
        sqlite3_finalize(st[k]);
    assert_int_equal(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
}

/* Where the archive goes: GNU tar listing it from a pipe, and the chunk sizes. */
typedef struct pipe_sink {
    FILE *tar;
    size_t len, chunks, biggest;
} pipe_sink;

static int to_tar(void *ctx, const char *data, size_t len) {
    pipe_sink *k = ctx;
    k->len += len;
    k->chunks++;
    if (len > k->biggest) k->biggest = len;
    return fwrite(data, 1, len, k->tar) != len;
}

/* Streams the archive of q into `tar -tf -`; returns the member count tar lists, with the first
 * member's name in first[64]. */
static long archive_into_tar(fixture *f, const photos_env *env, const export_query *q, pipe_sink *k,
                             long long *count, char first[64]) {
    char list[128], cmd[256];
    snprintf(list, sizeof list, "%s/list.txt", f->dir);
    snprintf(cmd, sizeof cmd, "tar -tf - > %s", list);
    *k = (pipe_sink){.tar = popen(cmd, "w")};
    assert_non_null(k->tar);
    sync_error err = {0};
    int rc = archive_photos(f->s, env, &f->admin, q, to_tar, k, count, &err);
    if (rc) print_message("archive: %s %s\n", err.code, err.message);
    assert_int_equal(rc, 0);
    assert_int_equal(pclose(k->tar), 0); /* tar read it whole without complaint */
    FILE *fp = fopen(list, "r");
    assert_non_null(fp);
    long lines = 0;
    char line[256];
    while (fgets(line, sizeof line, fp))
        if (lines++ == 0) util_strlcpy(first, line, 64);
    fclose(fp);
    return lines;
}

static void archive_of_10000_photos_streams_in_constant_memory(void **state) {
    fixture *f = *state;
    enum { N = 10000, WARM = 300 };
    char photos_dir[128];
    snprintf(photos_dir, sizeof photos_dir, "%s/photos", f->dir);
    build(f, photos_dir, N, WARM);
    photos_env env = {.photos_dir = photos_dir, .cfg = &f->cfg};

    /* Warm up on the first few hundred (caches, statements), then measure the whole archive. */
    pipe_sink k;
    long long count = 0;
    char first[64];
    export_query warm = {.river_code = "danhe"};
    assert_int_equal(archive_into_tar(f, &env, &warm, &k, &count, first), WARM + 1);
    assert_int_equal(count, WARM);
    long long before = rss_bytes();
    export_query all = {0};
    long members = archive_into_tar(f, &env, &all, &k, &count, first);
    long long grown = rss_bytes() - before;
    assert_int_equal(count, N);
    assert_int_equal(members, N + 1);
    assert_string_equal(first, "MANIFEST.tsv\n");
    print_message("photo archive of %d photos: %zu bytes in %zu chunks (largest %zu); RSS grew "
                  "%lld KiB\n",
                  N, k.len, k.chunks, k.biggest, grown / 1024);
    assert_true(k.biggest <= EXPORT_CHUNK);
    assert_true(k.len > (size_t)N * PHOTO_BYTES); /* more than the bound below, many times over */
    assert_true(grown < 8LL * 1024 * 1024);
}

static void archive_stops_when_a_stored_photo_is_missing(void **state) {
    fixture *f = *state;
    char photos_dir[128];
    snprintf(photos_dir, sizeof photos_dir, "%s/photos", f->dir);
    build(f, photos_dir, 3, 0);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "find %s -type f | head -1 | xargs rm", photos_dir);
    assert_int_equal(system(cmd), 0);
    photos_env env = {.photos_dir = photos_dir, .cfg = &f->cfg};
    pipe_sink k = {.tar = fopen("/dev/null", "w")};
    export_query all = {0};
    long long count = 0;
    sync_error err = {0};
    assert_int_equal(archive_photos(f->s, &env, &f->admin, &all, to_tar, &k, &count, &err),
                     SYNC_EINTERNAL);
    fclose(k.tar);
    assert_true(count < 3);
    /* The read transaction was closed: the store takes writes again. */
    assert_int_equal(sqlite3_get_autocommit(store_db(f->s)), 1);
}

int main(void) {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, fx_teardown)
    const struct CMUnitTest tests[] = {
        T(archive_of_10000_photos_streams_in_constant_memory),
        T(archive_stops_when_a_stored_photo_is_missing),
    };
#undef T
    return cmocka_run_group_tests_name("archive", tests, NULL, NULL);
}
