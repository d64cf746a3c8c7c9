/* Scheduled backups off the machine (see backups.h). */
#include "server/backups.h"

#include <dirent.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/util.h"
#include "sync/offsite.h"
#include "sync/photo_store.h"

/* The one backup thread of the process and what it needs. */
static struct {
    photo_store bucket; /* the --backup-to bucket (its client) */
    const server_config *cfg;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t wake;
    int running, stop;
    int64_t failed_at_ms; /* the last failure since the last success (0: none), under mu */
    char failed_why[256];
} bk = {.mu = PTHREAD_MUTEX_INITIALIZER};

void backups_last_failure(int64_t *at_ms, char *reason, size_t cap) {
    pthread_mutex_lock(&bk.mu);
    *at_ms = bk.failed_at_ms;
    util_strlcpy(reason, bk.failed_at_ms ? bk.failed_why : "", cap);
    pthread_mutex_unlock(&bk.mu);
}

/* Keeps the outcome of one backup for GET /v1/backups: a success clears the last failure. */
static void note_outcome(int rc, const sync_error *err) {
    pthread_mutex_lock(&bk.mu);
    bk.failed_at_ms = rc == 0 ? 0 : util_now_ms();
    util_strlcpy(bk.failed_why, rc == 0 ? "" : err->message, sizeof bk.failed_why);
    pthread_mutex_unlock(&bk.mu);
}

int backups_open(server_config *cfg, char *why, size_t cap) {
    if (!cfg->backup_to[0]) return 0;
    const char *name = cfg->backup_to + 5;
    if (strncmp(cfg->backup_to, "s3://", 5) != 0 || !name[0] || name[0] == '/') {
        snprintf(why, cap, "--backup-to is s3://BUCKET/PREFIX, not \"%.100s\"", cfg->backup_to);
        return -1;
    }
    photo_store_spec spec = {cfg->backup_to,
                             cfg->photos_dir,
                             cfg->photo_store_endpoint,
                             cfg->photo_store_region,
                             cfg->photo_store_credentials,
                             cfg->photo_store_timeout_s};
    char reason[700];
    if (photo_store_open(&bk.bucket, &spec, reason, sizeof reason) < 0) {
        snprintf(why, cap, "the backup bucket: %s", reason);
        return -1;
    }
    cfg->sync.offsite_backups = 1;
    return 0;
}

/* One backup, its record and the pruning after it. Returns 0 when it was confirmed. */
static int backup_once(const server_config *cfg) {
    offsite_target t = {.bucket = bk.bucket.s3,
                        .location = cfg->backup_to,
                        .db_path = cfg->db_path,
                        .photos_dir = cfg->photos ? NULL : cfg->photos_dir,
                        .tmp_dir = cfg->data_dir};
    durable_backup b;
    sync_error err = {0};
    int rc = offsite_backup(&t, &b, &err);
    if (rc == 0 && (rc = offsite_confirm(cfg->db_path, &b, &err)) != 0)
        fprintf(stderr, "backup %s: uploaded and checked, but not recorded: %s\n", b.name,
                err.message);
    if (rc == 0) {
        int n = offsite_prune(bk.bucket.s3, cfg->db_path, cfg->backup_keep, cfg->backup_keep_days,
                              &err);
        if (n > 0) fprintf(stderr, "backups: %d old backup(s) deleted by the retention rule\n", n);
        if (n < 0)
            fprintf(stderr, "backups: pruning failed (tried again next time): %s\n", err.message);
    }
    note_outcome(rc, &err);
    return rc;
}

/* Waits until the next backup is due (or stop), backs up, again: the first one an interval after
 * the start; a failed one again after a minute (or the interval, if shorter). */
static void *backups_main(void *arg) {
    const server_config *cfg = arg;
    int64_t every_ms = (int64_t)(cfg->backup_every_min * 60000.0);
    int64_t retry_ms = every_ms < 60000 ? every_ms : 60000;
    int64_t wait_ms = every_ms;
    pthread_mutex_lock(&bk.mu);
    while (!bk.stop) {
        struct timespec at;
        clock_gettime(CLOCK_MONOTONIC, &at);
        at.tv_sec += wait_ms / 1000;
        at.tv_nsec += (wait_ms % 1000) * 1000000L;
        if (at.tv_nsec >= 1000000000L) {
            at.tv_sec++;
            at.tv_nsec -= 1000000000L;
        }
        int timed_out = 0;
        while (!bk.stop && !timed_out)
            timed_out = pthread_cond_timedwait(&bk.wake, &bk.mu, &at) != 0;
        if (bk.stop) break;
        pthread_mutex_unlock(&bk.mu);
        int64_t started = util_now_ms();
        int rc = backup_once(cfg);
        int64_t took = util_now_ms() - started;
        wait_ms = rc == 0 ? (every_ms > took ? every_ms - took : 0) : retry_ms;
        pthread_mutex_lock(&bk.mu);
    }
    pthread_mutex_unlock(&bk.mu);
    return NULL;
}

/* Deletes the temporary copies a backup killed on its way left in the data folder
 * (offsite-NAME.db, offsite-NAME.manifest): each is as large as the database. */
static void drop_leftovers(const char *data_dir) {
    DIR *d = opendir(data_dir);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (strncmp(e->d_name, "offsite-", 8) != 0) continue;
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/%s", data_dir, e->d_name);
        if (unlink(path) == 0)
            fprintf(stderr, "backups: deleted %s, left by a backup that was cut off\n", path);
    }
    if (d) closedir(d);
}

int backups_start(const server_config *cfg) {
    if (!bk.bucket.s3) return 0;
    drop_leftovers(cfg->data_dir);
    pthread_condattr_t attr;
    bk.cfg = cfg;
    bk.stop = 0;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&bk.wake, &attr);
    pthread_condattr_destroy(&attr);
    bk.running = pthread_create(&bk.thread, NULL, backups_main, (void *)cfg) == 0;
    fprintf(stderr,
            "outfalld: backups to %s every %g minute(s), keeping %d and one a day for %d "
            "day(s)\n",
            cfg->backup_to, cfg->backup_every_min, cfg->backup_keep, cfg->backup_keep_days);
    return bk.running ? 0 : -1;
}

void backups_stop(void) {
    if (bk.running) {
        pthread_mutex_lock(&bk.mu);
        bk.stop = 1;
        pthread_cond_signal(&bk.wake);
        pthread_mutex_unlock(&bk.mu);
        pthread_join(bk.thread, NULL);
        pthread_cond_destroy(&bk.wake);
        bk.running = 0;
    }
    photo_store_close(&bk.bucket);
}
