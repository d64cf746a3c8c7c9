/* Scheduled backups off the machine (sync/offsite.h): a thread that, every --backup-every
 * minutes, backs the database up to the --backup-to bucket, records the confirmed ones (the sync
 * answers' durable_seq moves) and prunes by the retention rule. */
#ifndef SERVER_BACKUPS_H
#define SERVER_BACKUPS_H

#include <stddef.h>
#include <stdint.h>

#include "server/config.h"

/* Opens the --backup-to bucket (checked: a wrong credential or a missing bucket stops the start)
 * and sets cfg->sync.offsite_backups. Nothing to do (0) without --backup-to. Returns 0, or -1
 * with one line for people in why[cap]. */
int backups_open(server_config *cfg, char *why, size_t cap);

/* Starts the thread (after backups_open; nothing without --backup-to). Returns 0 or -1. */
int backups_start(const server_config *cfg);

/* Stops the thread, letting a backup under way end (its upload calls have timeouts), and closes
 * the bucket. Safe when none was started. */
void backups_stop(void);

/* The last failed backup of this process (since the last confirmed one): its time (ms since
 * 1970) into *at_ms (0 when none) and its reason into reason[cap]. */
void backups_last_failure(int64_t *at_ms, char *reason, size_t cap);

#endif
