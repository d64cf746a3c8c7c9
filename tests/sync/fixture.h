/* A fresh engine on a real SQLite file in a temporary folder, with a surveyor and their phone.
 * Header-only: each engine test includes it once. The engine alone: fx_setup installs none of
 * the programme's hooks (sync/hooks.h); a test that needs the features the engine calls
 * (inspection results, public reports' photos) calls programme_hooks_install, as
 * programme_fixture.h does. */
#ifndef TESTS_SYNC_FIXTURE_H
#define TESTS_SYNC_FIXTURE_H

#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "common/pbjson.h"
#include "common/util.h"
#include "sync/accounts.h"
#include "sync/batch.h"
#include "sync/feed.h"
#include "sync/store.h"

typedef struct fixture {
    char dir[64];
    char path[96];
    store *s;
    sync_config cfg;
    principal admin;
    principal surveyor;  /* 410882 沁阳市 */
    principal surveyor2; /* 410882 too, with another phone */
    int64_t seq[2];      /* last device_seq used per phone */
} fixture;

static inline void fx_user(fixture *f, principal *p, const char *name, int role,
                           const char *division) {
    char json[256];
    snprintf(json, sizeof json,
             "{\"username\":\"%s\",\"password\":\"password-123\",\"role\":%d,"
             "\"divisions\":[\"%s\"]}",
             name, role, division);
    ProtobufCMessage *u = NULL;
    char why[200];
    assert_int_equal(
        pbjson_decode(&outfall__v1__user__descriptor, json, strlen(json), &u, why, sizeof why), 0);
    sync_error err = {0};
    assert_int_equal(accounts_create_user(f->s, &f->admin, (Outfall__V1__User *)u, &err), 0);
    protobuf_c_message_free_unpacked(u, NULL);
    /* The principal as the server would resolve it from a token. */
    sqlite3_stmt *st = NULL;
    sqlite3_prepare_v2(store_db(f->s), "SELECT id FROM users WHERE username = ?", -1, &st, NULL);
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t id = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    assert_int_equal(accounts_principal(f->s, id, p, &err), 0);
}

static inline void fx_device(fixture *f, const principal *p, const char *device_id) {
    uint8_t pk[32], sk[64];
    crypto_sign_keypair(pk, sk);
    Outfall__V1__Device d = OUTFALL__V1__DEVICE__INIT;
    d.device_id = (char *)device_id;
    d.has_public_key = 1;
    d.public_key.len = 32;
    d.public_key.data = pk;
    sync_error err = {0};
    assert_int_equal(devices_enroll(f->s, p, &d, NULL, &err), 0);
}

static inline int fx_setup(void **state) {
    fixture *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/outfall-engine-XXXXXX");
    if (!mkdtemp(f->dir)) return -1;
    snprintf(f->path, sizeof f->path, "%s/outfall.db", f->dir);
    sync_config_defaults(&f->cfg);
    accounts_init(&f->cfg);
    sync_error err = {0};
    if (store_open(f->path, &f->s, &err)) {
        fprintf(stderr, "store_open: %s\n", err.message);
        return -1;
    }
    char pw[33];
    int created = 0;
    if (accounts_bootstrap_admin(f->s, "admin-password", pw, &created, &err)) return -1;
    assert_int_equal(accounts_principal(f->s, 1, &f->admin, &err), 0);
    fx_user(f, &f->surveyor, "surveyor-a", OUTFALL__V1__ROLE__ROLE_SURVEYOR, "410882");
    fx_user(f, &f->surveyor2, "surveyor-b", OUTFALL__V1__ROLE__ROLE_SURVEYOR, "410882");
    fx_device(f, &f->surveyor, "phone-a");
    fx_device(f, &f->surveyor2, "phone-b");
    *state = f;
    return 0;
}

static inline int fx_teardown(void **state) {
    fixture *f = *state;
    store_close(f->s);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    if (system(cmd) != 0) return -1;
    free(f);
    return 0;
}

/* Sends a batch of changes (a JSON array of Change objects) from phone 0 ("phone-a", surveyor)
 * or phone 1 ("phone-b", surveyor2) with the next device_seq. Returns the response (free with
 * protobuf_c_message_free_unpacked) or NULL with err filled. */
static inline Outfall__V1__SyncResponse *fx_sync_seq(fixture *f, int phone, int64_t seq,
                                                     const char *batch_id, const char *changes,
                                                     sync_error *err) {
    char *json = NULL;
    char id[UUID_STR_LEN + 1];
    if (!batch_id) {
        util_uuid_new(id);
        batch_id = id;
    }
    if (asprintf(&json,
                 "{\"batchId\":\"%s\",\"deviceId\":\"%s\",\"deviceSeq\":\"%lld\","
                 "\"changes\":%s}",
                 batch_id, phone ? "phone-b" : "phone-a", (long long)seq, changes) < 0)
        return NULL;
    ProtobufCMessage *req = NULL;
    char why[256];
    int rc = pbjson_decode(&outfall__v1__sync_request__descriptor, json, strlen(json), &req, why,
                           sizeof why);
    if (rc) fprintf(stderr, "bad test batch: %s\n%s\n", why, json);
    assert_int_equal(rc, 0);
    free(json);
    Outfall__V1__SyncResponse *resp = NULL;
    batch_sync(f->s, &f->cfg, phone ? &f->surveyor2 : &f->surveyor, (Outfall__V1__SyncRequest *)req,
               &resp, err);
    protobuf_c_message_free_unpacked(req, NULL);
    return resp;
}

static inline Outfall__V1__SyncResponse *fx_sync(fixture *f, int phone, const char *changes) {
    sync_error err = {0};
    Outfall__V1__SyncResponse *resp = fx_sync_seq(f, phone, ++f->seq[phone], NULL, changes, &err);
    if (!resp) fprintf(stderr, "batch_sync: %s %s\n", err.code, err.message);
    assert_non_null(resp);
    return resp;
}

/* A batch of one change creating an outfall on the Qin river in 410882, lat degrees north (keep
 * creates apart, or they are duplicate suspects), as JSON in buf. Returns buf. */
static inline const char *fx_one_create(char *buf, size_t cap, double lat) {
    char id[UUID_STR_LEN + 1], cid[UUID_STR_LEN + 1];
    util_uuid_new(id);
    util_uuid_new(cid);
    snprintf(buf, cap,
             "[{\"changeId\":\"%s\",\"entityId\":\"%s\",\"baseVersion\":\"0\","
             "\"outfall\":{\"name\":\"沁河排口\",\"type\":\"OUTFALL_TYPE_UNDETERMINED\","
             "\"riverCode\":\"qinhe\",\"divisionCode\":\"410882\",\"lat\":%.5f,"
             "\"lon\":112.95124}}]",
             cid, id, lat);
    return buf;
}

/* How many threads of this process are named name (/proc/self/task/<tid>/comm); the last one's
 * thread id in *tid when tid is not NULL. */
static inline int fx_threads_named(const char *name, pid_t *tid) {
    int n = 0;
    DIR *d = opendir("/proc/self/task");
    assert_non_null(d);
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.') continue;
        char path[300], comm[64] = "";
        snprintf(path, sizeof path, "/proc/self/task/%s/comm", e->d_name);
        FILE *fp = fopen(path, "r");
        if (!fp) continue; /* the thread has ended meanwhile */
        if (fgets(comm, sizeof comm, fp)) comm[strcspn(comm, "\n")] = 0;
        fclose(fp);
        if (strcmp(comm, name) == 0) {
            n++;
            if (tid) *tid = (pid_t)atoi(e->d_name);
        }
    }
    closedir(d);
    return n;
}

/* Counts rows of a query's single result. */
static inline int64_t fx_count(fixture *f, const char *sql) {
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(store_db(f->s), sql, -1, &st, NULL), SQLITE_OK);
    int64_t n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    sqlite3_finalize(st);
    return n;
}

#endif
