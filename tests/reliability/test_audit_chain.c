/* The tamper-evident chains: the audit trail (sync/audit.c) and the record history (sync/history.c,
 * migrations 0005 and 0023: one link per record version) are each hash-chained, append-only by
 * trigger, and `outfallctl audit verify` walks both. An attacker with the database file drops the
 * triggers, changes one byte of one audit entry and one field of one record's history, and puts the
 * triggers back: verify reports both, naming the entry and the history row. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "tests/reliability/rel.h"

static rel_server srv;
static char root[300];
static th_user surveyor;
static th_device dev;
static char outfall_id[37];
static int64_t tampered; /* the audit entry changed by the test that changes one */

static int setup(void **state) {
    (void)state;
    if (rel_tmpdir("audit", root, sizeof root) != 0) return -1;
    char data[400], log[400];
    snprintf(data, sizeof data, "%s/data", root);
    snprintf(log, sizeof log, "%s/server.log", root);
    rel_server_init(&srv, data, log, NULL);
    if (rel_server_start(&srv) != 0 || !th_admin_token(&srv.th)) return -1;
    if (rel_surveyor(&srv, &surveyor) != 0 || th_device_new(&srv.th, surveyor.token, &dev) != 0)
        return -1;

    /* Audit entries (logins, a refused login, an account, a device) and history (a record
     * created and edited twice, and more records). */
    char token[128];
    th_error e;
    th_login(&srv.th, surveyor.name, "not the password", token, NULL, &e);
    for (int round = 0; round < 3; round++) {
        th_batch *b = th_batch_new(&dev);
        if (round == 0) {
            double lat, lon;
            rel_spot(&lat, &lon);
            th_outfall_create(b, REL_RIVER, REL_DIV, lat, lon)->landmark = "old bridge";
            util_strlcpy(outfall_id, th_batch_entity(b, 0), sizeof outfall_id);
        } else {
            th_outfall_edit(b, outfall_id, round)->landmark = round == 1 ? "new bridge" : "weir";
        }
        double lat, lon;
        rel_spot(&lat, &lon);
        th_outfall_create(b, REL_RIVER, REL_DIV, lat, lon)->name = "another outfall";
        Outfall__V1__SyncResponse *r = th_sync_ok(&srv.th, surveyor.token, b, TH_PB);
        th_batch_free(b);
        if (!r) return -1;
        outfall__v1__sync_response__free_unpacked(r, NULL);
    }
    /* A change refused for lying outside the surveyor's division is audited too. */
    th_batch *b = th_batch_new(&dev);
    double lat, lon;
    rel_spot(&lat, &lon);
    th_outfall_create(b, REL_RIVER, "410882", lat, lon);
    Outfall__V1__SyncResponse *r = th_sync_ok(&srv.th, surveyor.token, b, TH_PB);
    th_batch_free(b);
    if (!r) return -1;
    outfall__v1__sync_response__free_unpacked(r, NULL);
    return 0;
}

static int teardown(void **state) {
    (void)state;
    rel_server_kill(&srv);
    if (getenv("TH_KEEP"))
        fprintf(stderr, "audit: kept %s\n", root);
    else
        rel_rmtree(root);
    return 0;
}

/* `outfallctl audit verify --data DATA`: its exit status, its output into out[cap]. */
static int verify(char *out, size_t cap) {
    const char *args[] = {"audit", "verify", "--data", srv.data, NULL};
    return rel_ctl(out, cap, args);
}

static sqlite3 *open_rw(void) {
    char path[600];
    snprintf(path, sizeof path, "%s/outfall.db", srv.data);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    sqlite3_busy_timeout(db, 10000);
    return db;
}

static void exec_ok(sqlite3 *db, const char *sql) {
    char *msg = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK) print_message("%s: %s\n", sql, msg ? msg : "?");
    sqlite3_free(msg);
    assert_int_equal(rc, SQLITE_OK);
}

/* The CREATE statement of trigger name, malloc'd, to put it back as it was. */
static char *trigger_sql(sqlite3 *db, const char *name) {
    sqlite3_stmt *st = NULL;
    assert_int_equal(
        sqlite3_prepare_v2(db, "SELECT sql FROM sqlite_schema WHERE name = ?", -1, &st, NULL),
        SQLITE_OK);
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    char *sql = strdup((const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    assert_non_null(sql);
    return sql;
}

static void chains_of_a_live_server_verify_ok(void **state) {
    (void)state;
    char out[4096];
    int rc = verify(out, sizeof out); /* the server still runs: verify reads a snapshot */
    assert_int_equal(rc, 0);
    assert_non_null(strstr(out, "audit chain: ok"));
    assert_non_null(strstr(out, "history chain: ok"));
    sqlite3 *db = rel_db_open(srv.data);
    assert_non_null(db);
    int64_t entries = rel_db_int(db, "SELECT count(*) FROM audit", NULL);
    int64_t rows = rel_db_int(db, "SELECT count(*) FROM field_history", NULL);
    int64_t unchained =
        rel_db_int(db, "SELECT count(*) FROM field_history WHERE seq IS NULL", NULL);
    sqlite3_close(db);
    rel_say("audit: a live server's chains verify: %lld audit entries, %lld history rows (%lld "
            "without a place in the chain)\n",
            (long long)entries, (long long)rows, (long long)unchained);
    assert_true(entries >= 5);
    assert_true(rows >= 10);
    assert_int_equal(unchained, 0);
}

static void triggers_refuse_updates_and_deletes(void **state) {
    (void)state;
    sqlite3 *db = open_rw();
    static const char *const refused[] = {
        "UPDATE audit SET outcome = 'ok'",
        "DELETE FROM audit",
        "UPDATE field_history SET value = '\"x\"'",
        "DELETE FROM field_history",
        "UPDATE record_history SET fields = '{}' WHERE seq = (SELECT min(seq) FROM "
        "record_history)",
        "UPDATE record_history SET user_id = 99 WHERE seq = (SELECT max(seq) FROM "
        "record_history)",
        "DELETE FROM record_history WHERE seq = (SELECT max(seq) FROM record_history)",
        "INSERT INTO field_history_frozen (kind, entity_id, version, field, change_id, user_id, "
        "at_ms) VALUES ('outfall', 'x', 1, 'name', 'c', 1, 1)",
        "UPDATE history_chain_base SET unchained_rows = 99",
    };
    for (size_t i = 0; i < sizeof refused / sizeof *refused; i++) {
        char *msg = NULL;
        int rc = sqlite3_exec(db, refused[i], NULL, NULL, &msg);
        if (rc == SQLITE_OK) print_message("%s was allowed\n", refused[i]);
        assert_int_not_equal(rc, SQLITE_OK);
        assert_non_null(msg);
        sqlite3_free(msg);
    }
    sqlite3_close(db);
}

static void one_byte_of_an_entry_and_one_history_field_changed_are_both_found(void **state) {
    (void)state;
    assert_int_equal(rel_server_stop(&srv), 0);
    sqlite3 *db = open_rw();
    int64_t entry = rel_db_int(db,
                               "SELECT id FROM audit ORDER BY id LIMIT 1 OFFSET "
                               "(SELECT count(*) / 2 FROM audit)",
                               NULL);
    int64_t row = rel_db_int(db,
                             "SELECT seq FROM record_history WHERE fields -> '$.landmark' = "
                             "'\"new bridge\"'",
                             NULL);
    assert_true(entry > 1);
    assert_true(row > 1);

    /* The attacker: triggers off, one byte of the entry's action changed (its first letter in
     * the other case), the history's "new bridge" made "new bridgE", triggers back on. */
    tampered = entry;
    char *history_trigger = trigger_sql(db, "record_history_no_update");
    exec_ok(db, "BEGIN;"
                "DROP TRIGGER audit_no_update;"
                "DROP TRIGGER record_history_no_update;");
    char sql[512];
    snprintf(
        sql, sizeof sql,
        "UPDATE audit SET action = CASE WHEN substr(action, 1, 1) = lower(substr(action, 1, 1)) "
        "THEN upper(substr(action, 1, 1)) ELSE lower(substr(action, 1, 1)) END || "
        "substr(action, 2) WHERE id = %lld",
        (long long)entry);
    exec_ok(db, sql);
    assert_int_equal(sqlite3_changes(db), 1);
    snprintf(sql, sizeof sql,
             "UPDATE record_history SET fields = replace(fields, '\"new bridge\"', "
             "'\"new bridgE\"') WHERE seq = %lld",
             (long long)row);
    exec_ok(db, sql);
    assert_int_equal(sqlite3_changes(db), 1);
    exec_ok(db, "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN SELECT "
                "RAISE(ABORT, 'audit is append-only'); END;");
    exec_ok(db, history_trigger);
    exec_ok(db, "COMMIT;");
    free(history_trigger);
    sqlite3_close(db);

    char out[4096], want_audit[96], want_history[96];
    int rc = verify(out, sizeof out);
    snprintf(want_audit, sizeof want_audit, "audit entry %lld: its content does not match",
             (long long)entry);
    snprintf(want_history, sizeof want_history, "history row %lld: its content does not match",
             (long long)row);
    rel_say("audit: after changing audit entry %lld and history row %lld, verify exits %d\n",
            (long long)entry, (long long)row, rc);
    assert_int_equal(rc, 1);
    assert_non_null(strstr(out, "audit chain: BROKEN"));
    assert_non_null(strstr(out, want_audit));
    assert_non_null(strstr(out, "history chain: BROKEN"));
    assert_non_null(strstr(out, want_history));
    assert_non_null(strstr(out, outfall_id)); /* names the record whose history was changed */

    /* The engine's walk agrees, link for link. */
    db = rel_db_open(srv.data);
    backup_chain audit, history;
    sync_error err;
    assert_int_equal(backup_verify_audit(db, &audit, &err), 0);
    assert_int_equal(backup_verify_history(db, &history, &err), 0);
    sqlite3_close(db);
    assert_true(audit.broken && audit.at == entry);
    assert_true(history.broken && history.at == row);
}

static void a_removed_entry_breaks_the_next_link(void **state) {
    (void)state;
    sqlite3 *db = open_rw();
    /* Undo the byte change of the test before (the attacker covering tracks again), then take
     * a whole entry and a whole history row out. */
    int64_t entry = tampered;
    assert_true(entry > 1);
    char sql[512];
    exec_ok(db, "BEGIN; DROP TRIGGER audit_no_update; DROP TRIGGER audit_no_delete;"
                "DROP TRIGGER record_history_no_update; DROP TRIGGER record_history_no_delete;");
    snprintf(
        sql, sizeof sql,
        "UPDATE audit SET action = CASE WHEN substr(action, 1, 1) = lower(substr(action, 1, 1)) "
        "THEN upper(substr(action, 1, 1)) ELSE lower(substr(action, 1, 1)) END || "
        "substr(action, 2) WHERE id = %lld",
        (long long)entry);
    exec_ok(db, sql);
    snprintf(sql, sizeof sql, "DELETE FROM audit WHERE id = %lld", (long long)entry + 1);
    exec_ok(db, sql);
    exec_ok(db, "UPDATE record_history SET fields = replace(fields, '\"new bridgE\"', "
                "'\"new bridge\"')");
    int64_t row = rel_db_int(db, "SELECT max(seq) / 2 FROM record_history", NULL);
    snprintf(sql, sizeof sql, "DELETE FROM record_history WHERE seq = %lld", (long long)row);
    exec_ok(db, sql);
    exec_ok(db, "COMMIT");
    sqlite3_close(db);

    db = rel_db_open(srv.data);
    backup_chain audit, history;
    sync_error err;
    assert_int_equal(backup_verify_audit(db, &audit, &err), 0);
    assert_int_equal(backup_verify_history(db, &history, &err), 0);
    sqlite3_close(db);
    rel_say("audit: entry %lld removed: %s\naudit: history row %lld removed: %s\n",
            (long long)entry + 1, audit.what, (long long)row, history.what);
    assert_true(audit.broken);
    assert_true(audit.at > entry + 1); /* the entry after the gap no longer links */
    assert_non_null(strstr(audit.what, "prev_hash"));
    assert_true(history.broken && history.at == row + 1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(chains_of_a_live_server_verify_ok),
        cmocka_unit_test(triggers_refuse_updates_and_deletes),
        cmocka_unit_test(one_byte_of_an_entry_and_one_history_field_changed_are_both_found),
        cmocka_unit_test(a_removed_entry_breaks_the_next_link),
    };
    return cmocka_run_group_tests_name("reliability/audit_chain", tests, setup, teardown);
}
