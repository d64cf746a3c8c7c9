/* The fuzz targets' world: see fuzz_env.h. */
#include "fuzz/lib/fuzz_env.h"

#include <errno.h>
#include <ftw.h>
#include <sanitizer/common_interface_defs.h>
#include <limits.h>
#include <pthread.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "client/sign.h"
#include "common/pbjson.h"
#include "common/util.h"
#include "programme/hooks.h"
#include "server/workerstack.h"
#include "sync/accounts.h"
#include "sync/batch.h"

#define FZ_PASSWORD "fuzz-password-0123"

static fz_env env;
static sqlite3 *snapshot; /* in memory: the database as fz_env_get left it */
static int made;

static void remove_world(void);

void fz_fail(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "fuzz oracle: ");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    remove_world();
    abort();
}

/* One input for fz_on_worker_stack's thread. */
typedef struct fz_input {
    int (*one)(const uint8_t *, size_t);
    const uint8_t *data;
    size_t size;
    int rc;
} fz_input;

static void *fz_input_run(void *arg) {
    fz_input *in = arg;
    in->rc = in->one(in->data, in->size);
    return NULL;
}

int fz_on_worker_stack(int (*one)(const uint8_t *, size_t), const uint8_t *data, size_t size) {
    fz_input in = {one, data, size, 0};
    pthread_attr_t attr;
    pthread_t thread;
    if (pthread_attr_init(&attr) != 0 || pthread_attr_setstacksize(&attr, WORKERSTACK_BYTES) != 0 ||
        pthread_create(&thread, &attr, fz_input_run, &in) != 0)
        fz_fail("cannot start a thread with a %d-byte stack", WORKERSTACK_BYTES);
    pthread_attr_destroy(&attr);
    pthread_join(thread, NULL);
    return in.rc;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st, (void)flag;
    if (ftw->level > 0) remove(path);
    return 0;
}

/* Empties folder (keeps the folder itself). */
static void empty_folder(const char *folder) {
    nftw(folder, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static int rm_all(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st, (void)flag, (void)ftw;
    remove(path);
    return 0;
}

static void remove_world(void) {
    if (!made) return;
    made = 0;
    sqlite3_close(snapshot);
    store_close(env.s);
    nftw(env.dir, rm_all, 16, FTW_DEPTH | FTW_PHYS);
}

static void check(int rc, const sync_error *err, const char *what) {
    if (rc < 0) fz_fail("setting up the world: %s: %s %s", what, err->code, err->message);
}

/* A message of type desc from JSON text; aborts when it does not decode. */
static ProtobufCMessage *from_json(const ProtobufCMessageDescriptor *desc, const char *json) {
    ProtobufCMessage *m = NULL;
    char why[256];
    if (pbjson_decode(desc, json, strlen(json), &m, why, sizeof why) < 0)
        fz_fail("setting up the world: %s does not decode: %s", desc->name, why);
    return m;
}

static void add_user(int role, const char *name, int pb_role, const char *division) {
    char json[256];
    sync_error err = {0};
    snprintf(json, sizeof json,
             "{\"username\":\"%s\",\"password\":\"" FZ_PASSWORD "\",\"role\":%d%s%s%s}", name,
             pb_role, division ? ",\"divisions\":[\"" : "", division ? division : "",
             division ? "\"]" : "");
    ProtobufCMessage *u = from_json(&outfall__v1__user__descriptor, json);
    check(accounts_create_user(env.s, &env.who[FZ_ADMIN], (Outfall__V1__User *)u, &err), &err,
          name);
    protobuf_c_message_free_unpacked(u, NULL);
    Outfall__V1__LoginResponse *lr = NULL;
    check(accounts_login(env.s, &env.cfg.sync, name, FZ_PASSWORD, "127.0.0.1", &lr, &err), &err,
          name);
    util_strlcpy(env.token[role], lr->token, sizeof env.token[role]);
    protobuf_c_message_free_unpacked(&lr->base, NULL);
    check(accounts_authenticate(env.s, env.token[role], &env.who[role], &err), &err, name);
}

static void add_device(int role, const char *id, uint8_t seed_byte, uint8_t sk[64]) {
    uint8_t seed[32], pk[32];
    memset(seed, seed_byte, sizeof seed);
    client_sign_seed_keypair(pk, sk, seed);
    Outfall__V1__Device d = OUTFALL__V1__DEVICE__INIT;
    d.device_id = (char *)id;
    d.has_public_key = 1;
    d.public_key.data = pk;
    d.public_key.len = sizeof pk;
    sync_error err = {0};
    check(devices_enroll(env.s, &env.who[role], &d, NULL, &err), &err, id);
}

static void sync_json(int role, const char *json) {
    ProtobufCMessage *req = from_json(&outfall__v1__sync_request__descriptor, json);
    Outfall__V1__SyncResponse *out = NULL;
    sync_error err = {0};
    check(batch_sync(env.s, &env.cfg.sync, &env.who[role], (Outfall__V1__SyncRequest *)req, &out,
                     &err),
          &err, "a set-up batch");
    for (size_t i = 0; i < out->n_results; i++)
        if (out->results[i]->status == OUTFALL__V1__CHANGE_STATUS__CHANGE_STATUS_REJECTED)
            fz_fail("setting up the world: change %zu rejected: %s", i,
                    out->results[i]->reason ? out->results[i]->reason : "?");
    protobuf_c_message_free_unpacked(&out->base, NULL);
    protobuf_c_message_free_unpacked(req, NULL);
}

/* Copies database from into to (both open). */
static void copy_db(sqlite3 *to, sqlite3 *from, const char *what) {
    sqlite3_backup *b = sqlite3_backup_init(to, "main", from, "main");
    int rc = b ? sqlite3_backup_step(b, -1) : sqlite3_errcode(to);
    if (b) sqlite3_backup_finish(b);
    if (rc != SQLITE_DONE) fz_fail("%s: %s", what, sqlite3_errstr(rc));
}

fz_env *fz_env_get(void) {
    if (made) return &env;
    if (sodium_init() < 0) fz_fail("sodium_init failed");
    const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    snprintf(env.dir, sizeof env.dir, "%s/outfall-fuzz-XXXXXX", base);
    if (!mkdtemp(env.dir)) fz_fail("mkdtemp %s: %s", env.dir, strerror(errno));
    made = 1;
    atexit(remove_world);
    __sanitizer_set_death_callback(remove_world); /* a sanitizer's report leaves no folder */

    char data[160], web[160], uploads[200];
    snprintf(data, sizeof data, "%s/data", env.dir);
    snprintf(web, sizeof web, "%s/web", env.dir);
    char *argv[] = {"outfalld", "--data", data, "--web", web, "--max-body", "1048576", NULL};
    char why[512];
    if (config_load(&env.cfg, 7, argv, why, sizeof why) != 0) fz_fail("config: %s", why);
    /* Logins never lock out here: every input must meet the same throttle state. */
    env.cfg.sync.login_max_failures = INT_MAX;
    accounts_init(&env.cfg.sync);
    programme_hooks_install(); /* as the server does */
    snprintf(uploads, sizeof uploads, "%s/uploads", data);
    if (mkdir(data, 0700) || mkdir(env.cfg.photos_dir, 0700) || mkdir(uploads, 0700) ||
        mkdir(web, 0700))
        fz_fail("mkdir under %s: %s", env.dir, strerror(errno));
    /* The console's folder: two small files for GET / and /web/{file}. */
    const char *files[][2] = {{"index.html", "<!doctype html><title>console</title>"},
                              {"app.js", "console.log('fuzz');"}};
    for (size_t i = 0; i < 2; i++) {
        char path[200];
        snprintf(path, sizeof path, "%s/%s", web, files[i][0]);
        FILE *f = fopen(path, "w");
        if (!f || fputs(files[i][1], f) < 0 || fclose(f) != 0) fz_fail("cannot write %s", path);
    }

    sync_error err = {0};
    check(store_open(env.cfg.db_path, &env.s, &err), &err, "store_open");
    char generated[33];
    int created = 0;
    check(accounts_bootstrap_admin(env.s, FZ_PASSWORD, generated, &created, &err), &err, "admin");
    Outfall__V1__LoginResponse *lr = NULL;
    check(accounts_login(env.s, &env.cfg.sync, "admin", FZ_PASSWORD, "127.0.0.1", &lr, &err), &err,
          "admin login");
    util_strlcpy(env.token[FZ_ADMIN], lr->token, sizeof env.token[FZ_ADMIN]);
    protobuf_c_message_free_unpacked(&lr->base, NULL);
    check(accounts_authenticate(env.s, env.token[FZ_ADMIN], &env.who[FZ_ADMIN], &err), &err,
          "admin token");

    add_user(FZ_SURVEYOR, "fz.surveyor", OUTFALL__V1__ROLE__ROLE_SURVEYOR, FZ_DIVISION);
    add_user(FZ_SUPERVISOR, "fz.supervisor", OUTFALL__V1__ROLE__ROLE_SUPERVISOR, FZ_DIVISION);
    add_user(FZ_INTEGRATOR, "fz.integrator", OUTFALL__V1__ROLE__ROLE_INTEGRATOR, NULL);
    add_user(FZ_OTHER, "fz.other", OUTFALL__V1__ROLE__ROLE_SURVEYOR, FZ_OTHER_DIVISION);
    add_device(FZ_SURVEYOR, FZ_DEVICE, 1, env.device_sk);
    add_device(FZ_OTHER, FZ_OTHER_DEVICE, 2, env.other_sk);

    /* Records: FZ_OUTFALL created and edited (version 2), FZ_OUTFALL_2 pending, an observation
     * naming a photo the server lacks. The device's next seq is 3. */
    sync_json(FZ_SURVEYOR,
              "{\"batchId\":\"00000000-0000-4000-8000-0000000000a1\",\"deviceId\":\"" FZ_DEVICE
              "\",\"deviceSeq\":\"1\",\"changes\":["
              "{\"changeId\":\"00000000-0000-4000-8000-0000000000c1\",\"entityId\":\"" FZ_OUTFALL
              "\",\"baseVersion\":\"0\",\"outfall\":{\"name\":\"沁河排口\",\"type\":"
              "\"OUTFALL_TYPE_UNDETERMINED\",\"riverCode\":\"qinhe\",\"divisionCode\":"
              "\"" FZ_DIVISION "\",\"lat\":35.08621,\"lon\":112.95124,\"landmark\":\"桥下\"}},"
              "{\"changeId\":\"00000000-0000-4000-8000-0000000000c2\",\"entityId\":"
              "\"" FZ_OUTFALL_2 "\",\"baseVersion\":\"0\",\"outfall\":{\"riverCode\":\"qinhe\","
              "\"divisionCode\":\"" FZ_DIVISION "\",\"lat\":35.1,\"lon\":112.99}},"
              "{\"changeId\":\"00000000-0000-4000-8000-0000000000c3\",\"entityId\":"
              "\"" FZ_OBSERVATION "\",\"baseVersion\":\"0\",\"observation\":{\"outfallId\":"
              "\"" FZ_OUTFALL "\",\"observedAtMs\":\"1700000000000\",\"lat\":35.08622,"
              "\"lon\":112.95125,\"flowing\":true,\"photos\":[{\"hash\":\"" FZ_PHOTO "\","
              "\"kind\":\"PHOTO_KIND_NEAR\"}]}}]}");
    sync_json(FZ_SURVEYOR,
              "{\"batchId\":\"00000000-0000-4000-8000-0000000000a2\",\"deviceId\":\"" FZ_DEVICE
              "\",\"deviceSeq\":\"2\",\"changes\":["
              "{\"changeId\":\"00000000-0000-4000-8000-0000000000c4\",\"entityId\":\"" FZ_OUTFALL
              "\",\"baseVersion\":\"1\",\"outfall\":{\"landmark\":\"新桥\"}}]}");

    /* Commits of the fuzzed inputs need not reach the disk. */
    sqlite3_exec(store_db(env.s), "PRAGMA synchronous = OFF", NULL, NULL, NULL);
    if (sqlite3_open(":memory:", &snapshot) != SQLITE_OK) fz_fail("cannot open a snapshot");
    copy_db(snapshot, store_db(env.s), "taking the snapshot");
    return &env;
}

void fz_reset(fz_env *e, int with_files) {
    store_idle(e->s);
    if (!sqlite3_get_autocommit(store_db(e->s)))
        fz_fail("an input left a transaction open on the engine's handle");
    copy_db(store_db(e->s), snapshot, "restoring the snapshot");
    if (with_files) {
        char uploads[200];
        snprintf(uploads, sizeof uploads, "%s/data/uploads", e->dir);
        empty_folder(e->cfg.photos_dir);
        empty_folder(uploads);
    }
}
