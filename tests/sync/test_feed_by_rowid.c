/* Migration 0028 (migrations/0028_feed_by_rowid.sql): the feed's one row per record is keyed by
 * the record's table and rowid instead of a UNIQUE index on its UUID. A database at the schema
 * before it, with feed rows for outfalls, observations (rowids that the outfalls also have) and a
 * merged outfall's redirect, and gaps in seq, migrates losing nothing: the same pages answer
 * feed_pull the same, the next seq is above every one given out, a touch of an old record moves
 * its one row to the end (a redirect replacing the merged outfall's row as before), and a new
 * record's key is the highest of its table. */
#include "fixture.h"
#include "old_schema.h"

#include "sync/migrations.h"

/* The version of the migration before this one (the schema of the database to convert). */
static int schema_before(void) {
    int before = 0;
    for (int i = 0; i < migration_count; i++) {
        if (strstr(migrations[i].name, "_feed_by_rowid")) return before;
        before = migrations[i].version;
    }
    fail_msg("no feed_by_rowid migration");
    return 0;
}

/* A folder with a database at the schema before the migration: outfalls o-a, o-b and o-c (merged
 * into o-a: a redirect), observations ob-1 and ob-2 (rowids 1 and 2, as o-a's and o-b's), their
 * feed rows at seq 2, 3, 5, 8, 9, and the sequence at 11 (seqs given out to rows since
 * replaced). */
static void old_database(char *dir, char *path, size_t cap) {
    sqlite3 *db = old_schema_database(dir, path, cap, schema_before(), 1);
    exec_ok(db, "INSERT INTO users (id, username, password_hash, role, created_at_ms) "
                "VALUES (1, 'surveyor', 'x', 1, 1);"
                "INSERT INTO outfalls (id, version, river_code, division_code, review_state, lat, "
                "lon, merged_into, created_by, created_at_ms, updated_at_ms, doc) SELECT id, 1, "
                "'qinhe', '410882', 1, 35, 113, m, 1, 1, 1, json_object('id', id) FROM "
                "(SELECT 'o-a' AS id, NULL AS m UNION ALL SELECT 'o-b', NULL UNION ALL "
                "SELECT 'o-c', 'o-a');"
                "INSERT INTO observations (id, outfall_id, version, division_code, created_by, "
                "created_at_ms, updated_at_ms, doc) SELECT id, o, 1, '410882', 1, 1, 1, "
                "json_object('id', id, 'outfall_id', o) FROM (SELECT 'ob-1' AS id, 'o-a' AS o "
                "UNION ALL SELECT 'ob-2', 'o-b');"
                "INSERT INTO feed (seq, kind, entity_id, division_code) VALUES "
                "(2, 'outfall', 'o-b', '410882'), (3, 'observation', 'ob-1', '410882'), "
                "(5, 'redirect', 'o-c', '410882'), (8, 'outfall', 'o-a', '410882'), "
                "(9, 'observation', 'ob-2', '410882');"
                "UPDATE sqlite_sequence SET seq = 11 WHERE name = 'feed'");
    assert_int_equal(count(db, "SELECT rowid FROM observations WHERE id = 'ob-1'"), 1);
    assert_int_equal(count(db, "SELECT rowid FROM outfalls WHERE id = 'o-a'"), 1);
    sqlite3_close(db);
}

/* feed_pull's page after since (at most limit) as the admin reads it, one "seq:what:id" per
 * entry ("o" outfall, "b" observation, "r" redirect from>to), then "more" and the cursor. */
static char *page(store *s, int64_t since, int limit) {
    sync_config cfg;
    sync_config_defaults(&cfg);
    principal admin = {.user_id = 1, .username = "admin", .role = OUTFALL__V1__ROLE__ROLE_ADMIN};
    Outfall__V1__ChangesResponse *r = NULL;
    sync_error err = {0};
    assert_int_equal(feed_pull(s, &cfg, &admin, since, limit, &r, &err), 0);
    char buf[1024] = "";
    size_t n = 0;
    for (size_t i = 0; i < r->n_feed; i++) {
        const Outfall__V1__FeedEntry *e = r->feed[i];
        if (e->entry_case == OUTFALL__V1__FEED_ENTRY__ENTRY_OUTFALL)
            n += (size_t)snprintf(buf + n, sizeof buf - n, "%lld:o:%s ", (long long)e->seq,
                                  e->outfall->id);
        else if (e->entry_case == OUTFALL__V1__FEED_ENTRY__ENTRY_OBSERVATION)
            n += (size_t)snprintf(buf + n, sizeof buf - n, "%lld:b:%s ", (long long)e->seq,
                                  e->observation->id);
        else
            n += (size_t)snprintf(buf + n, sizeof buf - n, "%lld:r:%s>%s ", (long long)e->seq,
                                  e->redirect->from_id, e->redirect->to_id);
    }
    snprintf(buf + n, sizeof buf - n, "more=%d next=%lld", (int)r->more, (long long)r->next_cursor);
    protobuf_c_message_free_unpacked(&r->base, NULL);
    return strdup(buf);
}

static void assert_page(store *s, int64_t since, int limit, const char *want) {
    char *got = page(s, since, limit);
    assert_string_equal(got, want);
    free(got);
}

/* Moves the record kind/id (in table) to the feed's head, as the engine's save does: the rowid
 * its load read. */
static void touch(store *s, const char *kind, const char *table, const char *id) {
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT rowid FROM %s WHERE id = '%s'", table, id);
    int64_t rowid = count(store_db(s), sql);
    sync_error err = {0};
    assert_int_equal(store_begin(s, &err), 0);
    assert_int_equal(feed_touch(s, kind, id, rowid, "410882", &err), 0);
    assert_int_equal(store_commit(s, &err), 0);
}

static void an_old_feed_migrates_with_the_same_pages_and_moves_on_from_its_sequence(void **state) {
    (void)state;
    char dir[] = "/tmp/outfall-feedrowid-XXXXXX", path[64];
    old_database(dir, path, sizeof path);
    store *s = NULL;
    sync_error err = {0};
    assert_int_equal(store_open(path, &s, &err), 0);
    sqlite3 *db = store_db(s);
    assert_true(store_schema_version(s) > schema_before());

    /* The same rows and seqs, each keyed by its table and rowid; the one unique rule is that
     * key (no index on the UUID). */
    char *rows = text_of(db, "SELECT group_concat(x, ' ') FROM (SELECT seq || ':' || kind || ':' "
                             "|| entity_id || ':' || division_code || ':' || entity_table || ':' "
                             "|| entity_rowid AS x FROM feed ORDER BY seq)");
    assert_string_equal(rows, "2:outfall:o-b:410882:0:2 3:observation:ob-1:410882:1:1 "
                              "5:redirect:o-c:410882:0:3 8:outfall:o-a:410882:0:1 "
                              "9:observation:ob-2:410882:1:2");
    free(rows);
    char *unique = text_of(db, "SELECT group_concat(ii.name, ',') FROM pragma_index_list('feed') "
                               "il, pragma_index_info(il.name) ii WHERE il.\"unique\"");
    assert_string_equal(unique, "entity_table,entity_rowid");
    free(unique);
    assert_int_equal(count(db, "SELECT count(*) FROM pragma_index_list('feed') WHERE name = "
                               "'feed_division'"),
                     1);

    /* The pages answer as the old feed did: whole, and in pages of two from a cursor. */
    assert_page(s, 0, 0, "2:o:o-b 3:b:ob-1 5:r:o-c>o-a 8:o:o-a 9:b:ob-2 more=0 next=9");
    assert_page(s, 0, 2, "2:o:o-b 3:b:ob-1 more=1 next=3");
    assert_page(s, 3, 2, "5:r:o-c>o-a 8:o:o-a more=1 next=8");
    assert_page(s, 8, 2, "9:b:ob-2 more=0 next=9");

    /* A touch of an old record moves its one row to the end, past every seq given out (11);
     * observation ob-1 (rowid 1) leaves outfall o-a (rowid 1) where it is. */
    touch(s, "outfall", "outfalls", "o-b");
    touch(s, "observation", "observations", "ob-1");
    assert_page(s, 0, 0, "5:r:o-c>o-a 8:o:o-a 9:b:ob-2 12:o:o-b 13:b:ob-1 more=0 next=13");
    assert_page(s, 9, 0, "12:o:o-b 13:b:ob-1 more=0 next=13");
    /* The merged outfall's redirect replaces its row; a new record takes the next seq. */
    touch(s, "redirect", "outfalls", "o-c");
    exec_ok(db, "INSERT INTO outfalls (id, version, river_code, division_code, review_state, lat, "
                "lon, created_by, created_at_ms, updated_at_ms, doc) VALUES ('o-d', 1, 'qinhe', "
                "'410882', 1, 35, 113, 1, 1, 1, '{\"id\":\"o-d\"}')");
    touch(s, "outfall", "outfalls", "o-d");
    assert_page(s, 0, 0,
                "8:o:o-a 9:b:ob-2 12:o:o-b 13:b:ob-1 14:r:o-c>o-a 15:o:o-d more=0 next=15");
    assert_int_equal(count(db, "SELECT count(*) FROM feed"), 6);
    assert_int_equal(count(db, "SELECT entity_rowid FROM feed WHERE entity_id = 'o-d'"), 4);
    /* A second row for a record cannot be made by hand either. */
    assert_int_not_equal(sqlite3_exec(db,
                                      "INSERT OR ABORT INTO feed (kind, entity_id, division_code, "
                                      "entity_table, entity_rowid) VALUES ('outfall', 'o-a', "
                                      "'410882', 0, 1)",
                                      NULL, NULL, NULL),
                         SQLITE_OK);
    store_close(s);
    remove_folder(dir);
}

/* An empty feed (a database before its first record) migrates too, its sequence kept. */
static void an_empty_old_feed_migrates_and_starts_after_its_sequence(void **state) {
    (void)state;
    char dir[] = "/tmp/outfall-feedrowid-XXXXXX", path[64];
    old_database(dir, path, sizeof path);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    exec_ok(db, "DELETE FROM feed");
    sqlite3_close(db);
    store *s = NULL;
    sync_error err = {0};
    assert_int_equal(store_open(path, &s, &err), 0);
    assert_page(s, 0, 0, "more=0 next=0");
    touch(s, "observation", "observations", "ob-2");
    assert_page(s, 0, 0, "12:b:ob-2 more=0 next=12");
    store_close(s);
    remove_folder(dir);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(an_old_feed_migrates_with_the_same_pages_and_moves_on_from_its_sequence),
        cmocka_unit_test(an_empty_old_feed_migrates_and_starts_after_its_sequence),
    };
    return cmocka_run_group_tests_name("sync/feed_by_rowid", tests, NULL, NULL);
}
