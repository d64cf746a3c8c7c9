/* The two baselines that bound the server, measured in the same run on the same disk:
 * (1) the rows the server wrote for the field day (records, field history, change log, feed,
 *     batches, photo references, conflicts, duplicates) inserted straight into a fresh SQLite
 *     file opened as the server opens its writing handle, store_open_writer (schema, WAL with
 *     its writes gathered, synchronous=FULL, foreign keys), one transaction per batch as the
 *     server commits them, with prepared statements and every value already in memory: the
 *     least any server must do to keep those rows;
 * (2) the same photo bytes hashed with BLAKE2b-256 and written one file each, sequentially,
 *     with an fsync per file. */
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench/bench.h"
#include "common/util.h"
#include "sync/change_log.h"
#include "sync/photos.h"
#include "sync/store.h"

/* ---- (1) SQLite ---- */

/* One statement run with values copied from the server's file. */
typedef struct op {
    int stmt; /* index into the statement table */
    int n;
    sqlite3_value **v;
} op;

typedef struct batch_ops {
    op *ops;
    int n, cap;
} batch_ops;

enum { MAX_STMTS = 64 };

typedef struct replay {
    sqlite3 *src;
    sqlite3 *dst;
    char *sql[MAX_STMTS]; /* the insert statements, by text */
    sqlite3_stmt *stmt[MAX_STMTS];
    int n_stmts;
    batch_ops *batches;
    int n_batches;
    int64_t n_changes;
} replay;

static int exec(sqlite3 *db, const char *sql) {
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK) return 0;
    fprintf(stderr, "bench: baseline: %s\n  in: %.200s\n", msg ? msg : sqlite3_errmsg(db), sql);
    sqlite3_free(msg);
    return -1;
}

/* The index of the prepared statement with text sql in dst (prepared on first use); -1. */
static int stmt_for(replay *rp, const char *sql) {
    for (int i = 0; i < rp->n_stmts; i++)
        if (strcmp(rp->sql[i], sql) == 0) return i;
    if (rp->n_stmts == MAX_STMTS) return -1;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v3(rp->dst, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK) {
        fprintf(stderr, "bench: baseline: %s\n  in: %s\n", sqlite3_errmsg(rp->dst), sql);
        return -1;
    }
    rp->sql[rp->n_stmts] = strdup(sql);
    rp->stmt[rp->n_stmts] = st;
    return rp->n_stmts++;
}

static op *add_op(batch_ops *b, int stmt, int n) {
    if (b->n == b->cap) {
        int cap = b->cap ? 2 * b->cap : 32;
        op *grown = realloc(b->ops, (size_t)cap * sizeof *grown);
        if (!grown) return NULL;
        b->ops = grown;
        b->cap = cap;
    }
    op *o = &b->ops[b->n++];
    o->stmt = stmt;
    o->n = n;
    o->v = calloc((size_t)(n ? n : 1), sizeof *o->v);
    return o->v ? o : NULL;
}

/* For every row src_sql (one text parameter, key) yields, an op inserting the row into table:
 * plain, OR REPLACE, or as an upsert on id (conflict = "id"). Returns rows added, or -1. */
static int copy_rows(replay *rp, batch_ops *b, const char *table, const char *src_sql,
                     const char *key, const char *mode, const char *conflict) {
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(rp->src, src_sql, -1, &q, NULL) != SQLITE_OK) {
        fprintf(stderr, "bench: baseline: %s\n  in: %s\n", sqlite3_errmsg(rp->src), src_sql);
        return -1;
    }
    sqlite3_bind_text(q, 1, key, -1, SQLITE_STATIC);
    int rows = 0, rc, stmt = -1;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        int n = sqlite3_column_count(q);
        if (stmt < 0) {
            char sql[8192], cols[2048] = "", vals[1024] = "", set[3072] = "";
            for (int i = 0; i < n; i++) {
                const char *c = sqlite3_column_name(q, i);
                size_t l = strlen(cols), lv = strlen(vals), ls = strlen(set);
                snprintf(cols + l, sizeof cols - l, "%s%s", i ? ", " : "", c);
                snprintf(vals + lv, sizeof vals - lv, "%s?%d", i ? ", " : "", i + 1);
                if (conflict && strcmp(c, conflict) != 0)
                    snprintf(set + ls, sizeof set - ls, "%s%s = excluded.%s", ls ? ", " : "", c, c);
            }
            if (conflict)
                snprintf(sql, sizeof sql,
                         "INSERT INTO %s (%s) VALUES (%s) ON CONFLICT (%s) DO UPDATE SET %s", table,
                         cols, vals, conflict, set);
            else
                snprintf(sql, sizeof sql, "INSERT %s INTO %s (%s) VALUES (%s)", mode, table, cols,
                         vals);
            if ((stmt = stmt_for(rp, sql)) < 0) break;
        }
        op *o = add_op(b, stmt, n);
        if (!o) break;
        for (int i = 0; i < n; i++)
            o->v[i] = sqlite3_value_dup(sqlite3_column_value(q, i));
        rows++;
    }
    if (rc != SQLITE_DONE) {
        fprintf(stderr, "bench: baseline: reading %s: %s\n", table, sqlite3_errmsg(rp->src));
        rows = -1;
    }
    sqlite3_finalize(q);
    return rows;
}

/* An op running sql (with ?1 = text key) in dst. */
static int keyed_op(replay *rp, batch_ops *b, const char *sql, const char *key) {
    int stmt = stmt_for(rp, sql);
    op *o = stmt < 0 ? NULL : add_op(b, stmt, 1);
    if (!o) return -1;
    sqlite3_value *v = NULL;
    sqlite3_stmt *tmp = NULL;
    /* A text value of key, made the way the others are: from a column. */
    if (sqlite3_prepare_v2(rp->src, "SELECT ?", -1, &tmp, NULL) == SQLITE_OK) {
        sqlite3_bind_text(tmp, 1, key, -1, SQLITE_STATIC);
        if (sqlite3_step(tmp) == SQLITE_ROW) v = sqlite3_value_dup(sqlite3_column_value(tmp, 0));
    }
    sqlite3_finalize(tmp);
    o->v[0] = v;
    return v ? 0 : -1;
}

/* The ops of one change of a batch: its change-log row, history, record, feed entry, photo
 * references, conflicts, duplicate pair. Returns 1 when the change belongs to this batch. */
static int change_ops(replay *rp, batch_ops *b, const char *batch_id, const char *change_id) {
    sqlite3_stmt *q = NULL;
    char kind[16] = "", entity[64] = "";
    int mine = 0;
    if (sqlite3_prepare_v2(rp->src,
                           "SELECT kind, entity_id, batch_id FROM changes WHERE "
                           "rowid = " CHANGE_ROWID_OF("?1"),
                           -1, &q, NULL) == SQLITE_OK) {
        sqlite3_bind_text(q, 1, change_id, -1, SQLITE_STATIC);
        if (sqlite3_step(q) == SQLITE_ROW) {
            util_strlcpy(kind, (const char *)sqlite3_column_text(q, 0), sizeof kind);
            util_strlcpy(entity, (const char *)sqlite3_column_text(q, 1), sizeof entity);
            mine = strcmp((const char *)sqlite3_column_text(q, 2), batch_id) == 0;
        }
    }
    sqlite3_finalize(q);
    if (!mine) return 0; /* an ALREADY_APPLIED change of an earlier batch: nothing written */
    if (copy_rows(rp, b, "changes", "SELECT * FROM changes WHERE rowid = " CHANGE_ROWID_OF("?1"),
                  change_id, "", NULL) < 0)
        return -1;
    int hist = copy_rows(rp, b, "record_history",
                         "SELECT * FROM record_history WHERE change_id = ?", change_id, "", NULL);
    if (hist < 0) return -1;
    if (copy_rows(rp, b, "conflicts", "SELECT * FROM conflicts WHERE change_id = ?", change_id, "",
                  NULL) < 0)
        return -1;
    if (hist == 0) return 1; /* rejected, or nothing changed: no new version */
    int created = 0;
    q = NULL;
    if (sqlite3_prepare_v2(rp->src,
                           "SELECT min(version) = 1 FROM record_history WHERE change_id = ?", -1,
                           &q, NULL) == SQLITE_OK) {
        sqlite3_bind_text(q, 1, change_id, -1, SQLITE_STATIC);
        created = sqlite3_step(q) == SQLITE_ROW && sqlite3_column_int(q, 0);
    }
    sqlite3_finalize(q);
    int rc = 0;
    if (strcmp(kind, "outfall") == 0) {
        rc |= copy_rows(rp, b, "outfalls", "SELECT * FROM outfalls WHERE id = ?", entity, "",
                        "id") < 0;
        if (created) {
            rc |= copy_rows(rp, b, "outfall_pos",
                            "SELECT p.* FROM outfall_pos p JOIN outfalls o ON o.rowid = p.id "
                            "WHERE o.id = ?",
                            entity, "OR REPLACE", NULL) < 0;
            rc |= copy_rows(rp, b, "duplicates", "SELECT * FROM duplicates WHERE outfall_id = ?",
                            entity, "", NULL) < 0;
        }
    } else {
        /* With its rowid: the photo references are keyed by it. */
        rc |= copy_rows(rp, b, "observations",
                        "SELECT rowid AS rowid, * FROM observations WHERE id = ?", entity, "",
                        "id") < 0;
        rc |= keyed_op(rp, b,
                       "DELETE FROM observation_photo_refs WHERE " PHOTO_REFS_OF(
                           "ref_key", "SELECT rowid FROM observations WHERE id = ?1"),
                       entity);
        rc |= copy_rows(
                  rp, b, "observation_photo_refs",
                  "SELECT r.* FROM observations o JOIN observation_photo_refs r ON " PHOTO_REFS_OF(
                      "r.ref_key", "o.rowid") " WHERE o.id = ?",
                  entity, "OR IGNORE", NULL) < 0;
    }
    /* The record's one feed row, keyed by its table and rowid (the same in both files: records
     * go in in the same order), replaced as the server's INSERT OR REPLACE does. */
    rc |= copy_rows(rp, b, "feed",
                    strcmp(kind, "outfall") == 0
                        ? "SELECT f.kind, f.entity_id, f.division_code, f.entity_table, "
                          "f.entity_rowid FROM feed f JOIN outfalls o ON f.entity_table = 0 AND "
                          "f.entity_rowid = o.rowid WHERE o.id = ?"
                        : "SELECT f.kind, f.entity_id, f.division_code, f.entity_table, "
                          "f.entity_rowid FROM feed f JOIN observations o ON f.entity_table = 1 "
                          "AND f.entity_rowid = o.rowid WHERE o.id = ?",
                    entity, "OR REPLACE", NULL) < 0;
    return rc ? -1 : 1;
}

/* Reads every applied field-day batch of the server's file into ops, in the order applied. */
static int load_batches(replay *rp, const char *seed_device) {
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(rp->src,
                           "SELECT batch_id, device_id, device_seq, response FROM batches "
                           "WHERE state = 'applied' AND device_id <> ? "
                           "ORDER BY applied_at_ms, device_id, device_seq",
                           -1, &q, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_text(q, 1, seed_device, -1, SQLITE_STATIC);
    int rc = 0, cap = 0;
    while (rc == 0 && sqlite3_step(q) == SQLITE_ROW) {
        if (rp->n_batches == cap) {
            cap = cap ? 2 * cap : 256;
            batch_ops *grown = realloc(rp->batches, (size_t)cap * sizeof *grown);
            if (!grown) return -1;
            rp->batches = grown;
        }
        batch_ops *b = &rp->batches[rp->n_batches++];
        memset(b, 0, sizeof *b);
        char batch_id[64], device_id[64];
        util_strlcpy(batch_id, (const char *)sqlite3_column_text(q, 0), sizeof batch_id);
        util_strlcpy(device_id, (const char *)sqlite3_column_text(q, 1), sizeof device_id);
        Outfall__V1__SyncResponse *resp = outfall__v1__sync_response__unpack(
            NULL, (size_t)sqlite3_column_bytes(q, 3), sqlite3_column_blob(q, 3));
        if (!resp) {
            fprintf(stderr, "bench: baseline: batch %s has no readable answer\n", batch_id);
            rc = -1;
            break;
        }
        for (size_t i = 0; rc == 0 && i < resp->n_results; i++) {
            int mine = change_ops(rp, b, batch_id, resp->results[i]->change_id);
            if (mine < 0) rc = -1;
            rp->n_changes += mine > 0;
        }
        outfall__v1__sync_response__free_unpacked(resp, NULL);
        if (rc == 0 && copy_rows(rp, b, "batches", "SELECT * FROM batches WHERE batch_id = ?",
                                 batch_id, "", NULL) < 0)
            rc = -1;
        /* The device's sequence moves on, as the server's UPDATE does. */
        if (rc == 0) {
            sqlite3_stmt *tmp = NULL;
            int stmt = stmt_for(rp, "UPDATE devices SET last_seq = ?1 WHERE device_id = ?2");
            op *o = stmt < 0 ? NULL : add_op(b, stmt, 2);
            if (!o || sqlite3_prepare_v2(rp->src, "SELECT ?, ?", -1, &tmp, NULL) != SQLITE_OK) {
                rc = -1;
            } else {
                sqlite3_bind_int64(tmp, 1, sqlite3_column_int64(q, 2));
                sqlite3_bind_text(tmp, 2, device_id, -1, SQLITE_STATIC);
                if (sqlite3_step(tmp) == SQLITE_ROW) {
                    o->v[0] = sqlite3_value_dup(sqlite3_column_value(tmp, 0));
                    o->v[1] = sqlite3_value_dup(sqlite3_column_value(tmp, 1));
                }
            }
            sqlite3_finalize(tmp);
        }
    }
    sqlite3_finalize(q);
    return rc;
}

/* Copies, untimed, what exists before the field day: accounts, devices and the admin's seed. */
static int copy_setup(replay *rp, const char *src_db, const char *seed_device) {
    char *sql = sqlite3_mprintf(
        "ATTACH %Q AS src;"
        "BEGIN IMMEDIATE;"
        "INSERT INTO users SELECT * FROM src.users;"
        "INSERT INTO user_divisions SELECT * FROM src.user_divisions;"
        "INSERT INTO devices SELECT * FROM src.devices;"
        "UPDATE devices SET last_seq = 0;"
        "CREATE TEMP TABLE seeded AS SELECT c.entity_id AS id, c.change_id FROM src.changes c "
        "  JOIN src.batches b ON b.batch_id = c.batch_id WHERE b.device_id = %Q;"
        "INSERT INTO batches SELECT * FROM src.batches WHERE device_id = %Q;"
        "INSERT INTO changes SELECT * FROM src.changes WHERE change_id IN (SELECT change_id FROM "
        "seeded);"
        "INSERT INTO record_history SELECT * FROM src.record_history "
        "  WHERE change_id IN (SELECT change_id FROM seeded);"
        "INSERT INTO outfalls SELECT * FROM src.outfalls WHERE id IN (SELECT id FROM seeded);"
        "INSERT INTO outfall_pos SELECT p.* FROM src.outfall_pos p JOIN src.outfalls o "
        "  ON o.rowid = p.id WHERE o.id IN (SELECT id FROM seeded);"
        "INSERT INTO feed (kind, entity_id, division_code, entity_table, entity_rowid) "
        "  SELECT kind, entity_id, division_code, entity_table, entity_rowid "
        "  FROM src.feed WHERE entity_id IN (SELECT id FROM seeded) ORDER BY seq;"
        "COMMIT;"
        "DROP TABLE seeded;"
        "DETACH src;",
        src_db, seed_device, seed_device);
    int rc = sql ? exec(rp->dst, sql) : -1;
    sqlite3_free(sql);
    if (rc) sqlite3_exec(rp->dst, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

static void replay_free(replay *rp) {
    for (int b = 0; b < rp->n_batches; b++) {
        for (int i = 0; i < rp->batches[b].n; i++) {
            for (int k = 0; k < rp->batches[b].ops[i].n; k++)
                sqlite3_value_free(rp->batches[b].ops[i].v[k]);
            free(rp->batches[b].ops[i].v);
        }
        free(rp->batches[b].ops);
    }
    free(rp->batches);
    for (int i = 0; i < rp->n_stmts; i++) {
        sqlite3_finalize(rp->stmt[i]);
        free(rp->sql[i]);
    }
}

int bench_baseline_sqlite(const char *src_db, const char *dst_db, const char *seed_device,
                          int64_t *changes, int64_t *batches, double *seconds) {
    replay rp;
    memset(&rp, 0, sizeof rp);
    store *dst = NULL;
    sync_error err = {0};
    int rc = -1;
    *changes = *batches = 0;
    *seconds = 0;
    if (sqlite3_open_v2(src_db, &rp.src, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        fprintf(stderr, "bench: baseline: cannot open %s\n", src_db);
        goto done;
    }
    /* Indexes for reading the server's file by change (its own schema has none there). */
    if (exec(rp.src, "CREATE INDEX IF NOT EXISTS bench_history_change ON record_history(change_id);"
                     "CREATE INDEX IF NOT EXISTS bench_conflicts_change ON conflicts(change_id);"))
        goto done;
    if (store_open_writer(dst_db, &dst, &err) < 0) {
        fprintf(stderr, "bench: baseline: %s\n", err.message);
        goto done;
    }
    rp.dst = store_db(dst);
    if (copy_setup(&rp, src_db, seed_device) || load_batches(&rp, seed_device)) goto done;

    double t0 = bench_now();
    for (int b = 0; b < rp.n_batches; b++) {
        if (sqlite3_exec(rp.dst, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) goto failed;
        for (int i = 0; i < rp.batches[b].n; i++) {
            op *o = &rp.batches[b].ops[i];
            sqlite3_stmt *st = rp.stmt[o->stmt];
            for (int k = 0; k < o->n; k++)
                sqlite3_bind_value(st, k + 1, o->v[k]);
            int src = sqlite3_step(st);
            sqlite3_reset(st);
            if (src != SQLITE_DONE) goto failed;
        }
        if (sqlite3_exec(rp.dst, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) goto failed;
    }
    *seconds = bench_now() - t0;
    *changes = rp.n_changes;
    *batches = rp.n_batches;
    rc = 0;
    goto done;
failed:
    fprintf(stderr, "bench: baseline insert failed: %s\n", sqlite3_errmsg(rp.dst));
    sqlite3_exec(rp.dst, "ROLLBACK", NULL, NULL, NULL);
done:
    replay_free(&rp);
    store_close(dst);
    sqlite3_close(rp.src);
    return rc;
}

/* ---- (2) photo bytes ---- */

int bench_baseline_photos(const char *dir, const bench_fixture *fx, bench_phone *phones, int n,
                          int64_t *bytes, double *seconds) {
    size_t max = 0;
    *bytes = 0;
    *seconds = 0;
    for (int i = 0; i < n; i++)
        for (int k = 0; k < phones[i].n_photos; k++)
            if (phones[i].photos[k].len > max) max = phones[i].photos[k].len;
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        fprintf(stderr, "bench: mkdir %s: %s\n", dir, strerror(errno));
        return -1;
    }
    uint8_t *buf = malloc(max ? max : 1);
    if (!buf) return -1;
    int rc = 0;
    for (int i = 0; i < n && rc == 0; i++)
        for (int k = 0; k < phones[i].n_photos && rc == 0; k++) {
            const bench_photo *p = &phones[i].photos[k];
            bench_photo_bytes(fx, p, buf);
            double t0 = bench_now();
            uint8_t hash[32];
            char hex[65], path[1024];
            crypto_generichash(hash, sizeof hash, buf, p->len, NULL, 0);
            util_hex(hash, sizeof hash, hex);
            snprintf(path, sizeof path, "%s/%s", dir, hex);
            int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
            size_t done = 0;
            while (fd >= 0 && done < p->len) {
                ssize_t w = write(fd, buf + done, p->len - done);
                if (w <= 0) break;
                done += (size_t)w;
            }
            if (fd < 0 || done != p->len || fsync(fd) != 0) {
                fprintf(stderr, "bench: writing %s: %s\n", path, strerror(errno));
                rc = -1;
            }
            if (fd >= 0) close(fd);
            *seconds += bench_now() - t0;
            *bytes += (int64_t)p->len;
        }
    free(buf);
    return rc;
}
