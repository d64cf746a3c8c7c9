/* GET /v1/backups: the backups off the machine, for the operators (admins). */
#include <stdlib.h>
#include <string.h>

#include "server/api.h"
#include "server/backups.h"
#include "sync/durable.h"

/* The most confirmed backups one answer lists (the retention rule keeps far fewer). */
#define BACKUPS_LIST_MAX 200

/* b as the contract's ConfirmedBackup into *out; its strings point into b. */
static void backup_message(const durable_backup *b, Outfall__V1__ConfirmedBackup *out) {
    outfall__v1__confirmed_backup__init(out);
    out->name = (char *)b->name;
    out->location = (char *)b->location;
    out->has_made_at_ms = out->has_acknowledged_seq = out->has_database_bytes = 1;
    out->has_photos_uploaded = out->has_schema_version = 1;
    out->made_at_ms = b->confirmed_at_ms;
    out->acknowledged_seq = b->seq;
    out->database_bytes = b->size;
    out->photos_uploaded = b->photos_uploaded;
    out->schema_version = b->schema_version;
}

/* → BackupStatus: whether --backup-to is set, the confirmed backups newest first, the last failed
 * attempt when it came after the last success, durable_seq, the store epoch and the
 * acknowledgement sequence's end. Admins only (the route says so). */
int api_backups_list(http_req *r) {
    durable_backup *rows = calloc(BACKUPS_LIST_MAX, sizeof *rows);
    Outfall__V1__ConfirmedBackup *items = calloc(BACKUPS_LIST_MAX, sizeof *items);
    Outfall__V1__ConfirmedBackup **list = calloc(BACKUPS_LIST_MAX, sizeof *list);
    Outfall__V1__BackupStatus out = OUTFALL__V1__BACKUP_STATUS__INIT;
    durable_horizon h;
    char why[256];
    int n = 0, rc;
    if (!rows || !items || !list) {
        rc = http_error(r, 500, "out_of_memory", "out of memory");
        goto done;
    }
    if ((rc = durable_read(r->store, &h, &r->err)) < 0 ||
        (rc = durable_list_backups(r->store, rows, BACKUPS_LIST_MAX, &n, &r->err)) < 0)
        goto done;
    for (int i = 0; i < n; i++) {
        backup_message(&rows[i], &items[i]);
        list[i] = &items[i];
    }
    out.has_configured = out.has_durable_seq = out.has_acknowledged_seq = 1;
    out.configured = r->cfg->sync.offsite_backups != 0;
    out.backups = list;
    out.n_backups = (size_t)n;
    out.durable_seq = h.durable_seq;
    out.acknowledged_seq = h.ack_seq;
    out.store_epoch = h.epoch;
    backups_last_failure(&out.last_failure_at_ms, why, sizeof why);
    if (out.last_failure_at_ms) {
        out.has_last_failure_at_ms = 1;
        out.last_failure_reason = why;
    }
    rc = http_send_message(r, 200, &out.base);
done:
    free(rows);
    free(items);
    free(list);
    return rc;
}
