/* The writing handle's VFS (sync/walvfs.c): a commit's WAL frames go to the kernel in a few large
 * writes, and every other handle reads exactly what was committed, through spills, savepoint
 * rollbacks, transactions larger than the buffer and a write that fails. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cmocka.h>

#include "sync/store.h"
#include "sync/walvfs.h"

typedef struct files {
    char dir[64];
    char path[96];
    store *writer; /* store_open_writer */
    store *reader; /* store_open */
} files;

static int setup(void **state) {
    files *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/outfall-walvfs-XXXXXX");
    if (!f || !mkdtemp(f->dir)) return -1;
    snprintf(f->path, sizeof f->path, "%s/outfall.db", f->dir);
    sync_error err = {0};
    if (store_open_writer(f->path, &f->writer, &err) || store_open(f->path, &f->reader, &err)) {
        fprintf(stderr, "open: %s\n", err.message);
        return -1;
    }
    /* Rows whose text says which row they are: row id holds length n of letter 'A' + id % 26. */
    if (store_exec(f->writer, "CREATE TABLE t (id INTEGER PRIMARY KEY, b TEXT NOT NULL)"))
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state) {
    files *f = *state;
    store_close(f->reader);
    store_close(f->writer);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    int rc = system(cmd);
    free(f);
    return rc == 0 ? 0 : -1;
}

static int64_t one(store *s, const char *sql) {
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(store_db(s), sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

static void exec_ok(store *s, const char *fmt, ...) {
    char sql[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sql, sizeof sql, fmt, ap);
    va_end(ap);
    char *msg = NULL;
    if (sqlite3_exec(store_db(s), sql, NULL, NULL, &msg) != SQLITE_OK) fail_msg("%s: %s", sql, msg);
}

/* Inserts n rows of len bytes each after the last one. */
static void add_rows(store *s, int n, int len) {
    exec_ok(s,
            "WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < %d) "
            "INSERT INTO t (id, b) SELECT (SELECT ifnull(max(id), 0) FROM t) + i, "
            "printf('%%.*c', %d, char(65 + ((SELECT ifnull(max(id), 0) FROM t) + i) %% 26)) "
            "FROM k",
            n, len);
}

/* The rows s reads, checked: their count, with each row's text what its id says. */
static int64_t rows_read(store *s) {
    assert_int_equal(one(s, "SELECT count(*) FROM t WHERE b <> printf('%.*c', length(b), "
                            "char(65 + id % 26))"),
                     0);
    return one(s, "SELECT count(*) FROM t");
}

/* Write syscalls this process has made (/proc/self/io). */
static int64_t writes_so_far(void) {
    FILE *io = fopen("/proc/self/io", "r");
    assert_non_null(io);
    char line[128];
    long long n = -1;
    while (fgets(line, sizeof line, io))
        if (sscanf(line, "syscw: %lld", &n) == 1) break;
    fclose(io);
    assert_true(n >= 0);
    return n;
}

/* The write syscalls of one transaction of 300 rows of 3000 bytes (about 300 pages) on s. */
static int64_t writes_for_a_commit(store *s) {
    exec_ok(s, "BEGIN IMMEDIATE");
    add_rows(s, 300, 3000);
    int64_t before = writes_so_far();
    exec_ok(s, "COMMIT");
    return writes_so_far() - before;
}

static void a_commit_reaches_the_wal_in_a_few_large_writes(void **state) {
    files *f = *state;
    /* SQLite writes each frame with two calls: at least 600 on the reader's plain handle. */
    int64_t plain = writes_for_a_commit(f->reader);
    int64_t gathered = writes_for_a_commit(f->writer);
    assert_true(plain >= 600);
    /* 1.2 MB in writes of 124 KiB: 10, plus the wal-index's growth and the odd header. */
    assert_true(gathered <= 30);
    assert_int_equal(rows_read(f->reader), 600);
    assert_int_equal(rows_read(f->writer), 600);
}

static void other_handles_read_every_commit(void **state) {
    files *f = *state;
    int64_t want = 0;
    for (int i = 0; i < 40; i++) {
        /* Mostly small commits; every eighth larger than the 4 MiB buffer. */
        int n = i % 8 == 7 ? 1500 : 1 + i % 5, len = i % 8 == 7 ? 4000 : 100 + 700 * (i % 3);
        exec_ok(f->writer, "BEGIN IMMEDIATE");
        add_rows(f->writer, n, len);
        exec_ok(f->writer, "COMMIT");
        want += n;
        assert_int_equal(rows_read(f->reader), want);
    }
    assert_int_equal(store_checkpoint(f->reader, NULL), 0);
    assert_int_equal(rows_read(f->reader), want);
    add_rows(f->writer, 3, 50);
    assert_int_equal(rows_read(f->reader), want + 3);

    /* A fresh handle on the default VFS, after both are closed (the WAL checkpointed away). */
    store_close(f->reader);
    store_close(f->writer);
    f->reader = f->writer = NULL;
    sync_error err = {0};
    assert_int_equal(store_open(f->path, &f->reader, &err), 0);
    assert_int_equal(rows_read(f->reader), want + 3);
    assert_int_equal(one(f->reader, "SELECT count(*) FROM pragma_integrity_check "
                                    "WHERE integrity_check <> 'ok'"),
                     0);
}

static void a_transaction_larger_than_the_cache_spills_and_reads_back(void **state) {
    files *f = *state;
    /* A 20-page cache: the transaction's pages go to the WAL mid-way (a spill, not a commit)
     * and are read back from it by the updates and the savepoint's rollback. */
    exec_ok(f->writer, "PRAGMA cache_size = 20");
    exec_ok(f->writer, "BEGIN IMMEDIATE");
    add_rows(f->writer, 2000, 900);
    exec_ok(f->writer, "UPDATE t SET b = printf('%%.*c', length(b) + 7, char(65 + id %% 26))");
    exec_ok(f->writer, "SAVEPOINT s");
    add_rows(f->writer, 500, 2000);
    exec_ok(f->writer, "UPDATE t SET b = 'x' WHERE id %% 3 = 0");
    exec_ok(f->writer, "ROLLBACK TO s");
    exec_ok(f->writer, "RELEASE s");
    assert_int_equal(rows_read(f->reader), 0);
    exec_ok(f->writer, "COMMIT");
    assert_int_equal(rows_read(f->reader), 2000);
    assert_int_equal(rows_read(f->writer), 2000);
    assert_int_equal(one(f->reader, "SELECT min(length(b)) FROM t"), 907);

    /* A whole transaction that spilled, rolled back: its frames, written or still gathered, are
     * not the WAL's; the next commit's frames take their place. */
    exec_ok(f->writer, "BEGIN IMMEDIATE");
    add_rows(f->writer, 1500, 1200);
    exec_ok(f->writer, "DELETE FROM t WHERE id <= 1000");
    exec_ok(f->writer, "ROLLBACK");
    assert_int_equal(rows_read(f->writer), 2000);
    add_rows(f->writer, 30, 300);
    assert_int_equal(rows_read(f->reader), 2030);
    assert_int_equal(one(f->reader, "SELECT min(length(b)) FROM t"), 300);
    assert_int_equal(one(f->reader, "SELECT count(*) FROM pragma_integrity_check "
                                    "WHERE integrity_check <> 'ok'"),
                     0);
}

static void a_write_that_fails_fails_the_commit_and_keeps_the_data(void **state) {
    files *f = *state;
    add_rows(f->writer, 10, 500);
    assert_int_equal(store_checkpoint(f->reader, NULL), 0);
    /* Files may not grow past 256 KiB: the next commit's gathered megabyte cannot be written
     * (EFBIG; the signal the kernel sends with it is ignored). */
    void (*was)(int) = signal(SIGXFSZ, SIG_IGN);
    struct rlimit old, small;
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
    small = old;
    small.rlim_cur = 256 << 10;
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &small), 0);
    exec_ok(f->writer, "BEGIN IMMEDIATE");
    add_rows(f->writer, 1000, 1000);
    int rc = sqlite3_exec(store_db(f->writer), "COMMIT", NULL, NULL, NULL);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
    signal(SIGXFSZ, was);
    assert_int_not_equal(rc, SQLITE_OK);
    sqlite3_exec(store_db(f->writer), "ROLLBACK", NULL, NULL, NULL);

    /* Nothing of it is seen, by either handle; the next commit goes through whole. */
    assert_int_equal(rows_read(f->reader), 10);
    assert_int_equal(rows_read(f->writer), 10);
    exec_ok(f->writer, "BEGIN IMMEDIATE");
    add_rows(f->writer, 1000, 1000);
    exec_ok(f->writer, "COMMIT");
    assert_int_equal(rows_read(f->reader), 1010);
    assert_int_equal(one(f->reader, "SELECT count(*) FROM pragma_integrity_check "
                                    "WHERE integrity_check <> 'ok'"),
                     0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(a_commit_reaches_the_wal_in_a_few_large_writes, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(other_handles_read_every_commit, setup, teardown),
        cmocka_unit_test_setup_teardown(a_transaction_larger_than_the_cache_spills_and_reads_back,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(a_write_that_fails_fails_the_commit_and_keeps_the_data,
                                        setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
