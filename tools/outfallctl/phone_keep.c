/* `push --keep DIR`: the phone simulator keeps what the server acknowledged until it is durable,
 * by the rule of docs/sync.md ("Kept until durable"). Each pushed batch is kept in
 * DIR/<device_seq>.json (the exact signed bytes, their signature, and the store_epoch and
 * acknowledged_seq of its answer); after every answer, a new store_epoch sends every kept batch
 * again, oldest device_seq first (the same bytes: idempotent by batch_id), and batches under the
 * answer's epoch with acknowledged_seq <= durable_seq are dropped. */
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/util.h"
#include "outfall/v1/outfall.pb-c.h"
#include "tools/outfallctl/ctl.h"

enum { KEEP_MAX = 4096, KEEP_BODY_MAX = 32 * 1024 * 1024 };

/* Writes the kept batch file path: the bytes (base64), the signature, the epoch and number. */
static int keep_write(const char *path, const char *body64, const char *sig64, const char *epoch,
                      int64_t ack) {
    json_t *j = json_pack("{s:s, s:s, s:s, s:I}", "batch", body64, "signature", sig64, "epoch",
                          epoch ? epoch : "", "acknowledged_seq", (json_int_t)ack);
    char tmp[PATH_MAX + 8];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int rc = j && json_dump_file(j, tmp, 0) == 0 && rename(tmp, path) == 0
                 ? CTL_OK
                 : ctl_fail("cannot keep %s: %s", path, strerror(errno));
    json_decref(j);
    return rc;
}

int phone_keep_batch(const char *dir, int64_t device_seq, const uint8_t *body, size_t len,
                     const char *sig64, const Outfall__V1__SyncResponse *resp) {
    char path[PATH_MAX];
    char *body64 = util_base64_encode(body, len);
    if (!body64) return ctl_fail("out of memory");
    snprintf(path, sizeof path, "%s/%012lld.json", dir, (long long)device_seq);
    int rc = keep_write(path, body64, sig64, resp->store_epoch, resp->acknowledged_seq);
    free(body64);
    return rc;
}

static int by_name(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The kept files of dir (NNN.json), sorted: malloc'd names into *names. Returns the count. */
static int keep_list(const char *dir, char ***names) {
    DIR *d = opendir(dir);
    int n = 0;
    *names = calloc(KEEP_MAX, sizeof **names);
    if (!d || !*names) {
        if (d) closedir(d);
        return 0;
    }
    struct dirent *e;
    while (n < KEEP_MAX && (e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len == 17 && strcmp(e->d_name + 12, ".json") == 0) (*names)[n++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(*names, (size_t)n, sizeof **names, by_name);
    return n;
}

/* Sends kept file path again and rewrites it with the new answer's epoch and number; *resp gets
 * the answer (the caller frees it). */
static int keep_resend(const ctl *c, const char *path, Outfall__V1__SyncResponse **resp) {
    json_error_t jerr;
    json_t *j = json_load_file(path, 0, &jerr);
    const char *body64 = NULL, *sig64 = NULL;
    uint8_t *body = malloc(KEEP_BODY_MAX);
    int rc = CTL_FAIL;
    *resp = NULL;
    if (j && body && json_unpack(j, "{s:s, s:s}", "batch", &body64, "signature", &sig64) == 0) {
        long len = util_base64_decode(body64, strlen(body64), body, KEEP_BODY_MAX);
        rc = len < 0
                 ? ctl_fail("%s is damaged", path)
                 : ctl_call_raw(c, "POST", "/v1/sync", body, (size_t)len, sig64,
                                &outfall__v1__sync_response__descriptor, (ProtobufCMessage **)resp);
        if (rc == CTL_OK)
            rc = keep_write(path, body64, sig64, (*resp)->store_epoch, (*resp)->acknowledged_seq);
    } else {
        rc = ctl_fail("%s is damaged", path);
    }
    json_decref(j);
    free(body);
    return rc;
}

/* The epoch and number kept in path. Returns 0, or -1 when it cannot be read. */
static int keep_read(const char *path, char epoch[33], int64_t *ack) {
    json_error_t jerr;
    json_t *j = json_load_file(path, 0, &jerr);
    const char *e = NULL;
    json_int_t seq = 0;
    int rc = j && json_unpack(j, "{s:s, s:I}", "epoch", &e, "acknowledged_seq", &seq) == 0 ? 0 : -1;
    if (rc == 0) {
        util_strlcpy(epoch, e, 33);
        *ack = seq;
    }
    json_decref(j);
    return rc;
}

int phone_keep_apply(const ctl *c, const char *dir, const Outfall__V1__SyncResponse *answer) {
    char **names = NULL, path[PATH_MAX], epoch[33];
    int n = keep_list(dir, &names), rc = CTL_OK, resent = 0, dropped = 0;
    int64_t durable = answer->durable_seq, ack = 0;
    int has_durable = answer->has_durable_seq;
    const char *now = answer->store_epoch ? answer->store_epoch : "";
    for (int i = 0; i < n && rc == CTL_OK; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        if (keep_read(path, epoch, &ack) != 0 || strcmp(epoch, now) == 0) continue;
        Outfall__V1__SyncResponse *again = NULL;
        rc = keep_resend(c, path, &again);
        if (again) {
            if (again->has_durable_seq && again->durable_seq > durable)
                durable = again->durable_seq;
            outfall__v1__sync_response__free_unpacked(again, NULL);
        }
        resent++;
    }
    for (int i = 0; i < n && rc == CTL_OK && has_durable; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        if (keep_read(path, epoch, &ack) == 0 && strcmp(epoch, now) == 0 && ack <= durable &&
            unlink(path) == 0)
            dropped++;
    }
    for (int i = 0; i < n; i++)
        free(names[i]);
    free(names);
    fprintf(stderr,
            "outfallctl: %d kept batch(es) sent again (new store epoch), %d dropped (durable), "
            "%d kept in %s\n",
            resent, dropped, n - dropped, dir);
    return rc;
}
