/* outfalld's configuration: defaults, a `key = value` file and command-line flags, in that order
 * of precedence from weakest to strongest. The engine's part is a sync_config. */
#ifndef SERVER_CONFIG_H
#define SERVER_CONFIG_H

#include <limits.h>
#include <stdint.h>
#include <stdio.h>

#include "sync/sync.h"

#define OUTFALLD_VERSION "0.1.0"

typedef struct server_config {
    char listen[256]; /* CivetWeb listening_ports, e.g. "127.0.0.1:8080" */
    char data_dir[PATH_MAX];
    char config_file[PATH_MAX]; /* "" when none */
    char ready_file[PATH_MAX];  /* "" when none */
    char real_ip_header[64];    /* the proxy's client-address header; "" = trust no header */
    char web_dir[PATH_MAX];     /* the console's static files (server/api_web.c) */
    char tile_url[512];         /* map tile URL template with {z} {x} {y}; "" = no map */
    char public_url[256];   /* https://host[/path] the public pages live at (sign boards' QR codes);
                               "" = not set, no sign boards; stored without a trailing slash */
    int threads;            /* CivetWeb worker threads: one for each open connection */
    int db_handles;         /* database handles the workers share (server/dbpool.h) */
    int keep_alive_ms;      /* how long an idle keep-alive connection may hold its worker thread */
    int request_timeout_s;  /* a request's head must be in within this; the longest wait of a
                               read or write */
    int64_t body_timeout_s; /* a body's deadline after its head, ... */
    int64_t body_min_rate;  /* ... plus a second for every this many bytes received */
    int max_conns_per_addr; /* connections (behind a proxy: requests) per client address; 0 =
                               no cap */
    char cors_origins[512]; /* origins (comma-separated) whose pages may call the API; "" none */
    int writer_core;     /* 1: the writing thread gets a CPU of its own while writing (cores.h) */
    int wal_limit_mb;    /* the WAL's bound (sync/writer.h writer_wal_limit); 0: none */
    int stack_report;    /* 1: workers paint their stacks; the log names the deepest use */
    int64_t max_body;    /* the sync batch's body limit in bytes (server/routes.c has the rest) */
    int64_t body_memory; /* request bodies being read and decoded hold at most this, together */
    int64_t held_wait_s; /* copied into sync.held_wait_ms */
    char db_path[PATH_MAX + 16];    /* data_dir/outfall.db, derived */
    char photos_dir[PATH_MAX + 16]; /* data_dir/photos, derived */
    /* photos: uploads in progress, limits, expiry (sync/photos.h) */
    char uploads_dir[PATH_MAX + 16]; /* data_dir/uploads (photo uploads in progress), derived */
    int64_t max_photo_bytes;         /* the largest photo accepted */
    int64_t upload_expiry_s;         /* a partial upload untouched this long is deleted */
    int64_t photo_time_span_s;       /* copied into sync.photo_time_span_ms */
    int64_t report_upload_ttl_s;     /* a public report's photo upload token lives this long */
    int login_throttle_slots;        /* in-memory failed-login counts (sync/login_limits.c) */

    /* uploads made with a report's token (sync/photos.h): expiry and one address's quota */
    int64_t report_upload_expiry_s; /* a partial one untouched this long is deleted */
    int64_t report_upload_quota;    /* bytes (Upload-Length) one address's unfinished ones hold */
    int report_upload_max_reports;  /* reports one address may hold unfinished ones for */

    /* where stored photos' bytes live (sync/photo_store.h) */
    char photo_store[512];                  /* "local" or "s3://BUCKET[/PREFIX]" */
    char photo_store_endpoint[512];         /* the bucket's http(s) endpoint */
    char photo_store_region[64];            /* its SigV4 region */
    char photo_store_credentials[PATH_MAX]; /* a mode-600 credentials file; "": the environment */
    int photo_store_timeout_s;              /* a request to the bucket gives up after this */
    const struct photo_store *photos; /* the bucket's store, made at start; NULL: the folder */

    /* backups off the machine (server/backups.h), to the photo store's endpoint */
    char backup_to[512];     /* "s3://BUCKET[/PREFIX]"; "": none */
    double backup_every_min; /* minutes between two backups' starts */
    int backup_keep;         /* the newest this many confirmed backups are kept ... */
    int backup_keep_days;    /* ... and the newest of each of this many days */

    sync_config sync;
} server_config;

/* Results of config_load besides 0 and -1. */
enum { CONFIG_HELP = 1 };

/* Fills c from the engine's defaults and outfalld's own, then from the file named by --config (if
 * any), then from the flags in argv. Returns 0, CONFIG_HELP when --help was given (nothing else
 * is checked), or -1 with a message for people in err[errlen] (unknown flag or key, bad value). */
int config_load(server_config *c, int argc, char **argv, char *err, size_t errlen);

/* Writes the usage text, every flag with its default, to out. */
void config_usage(FILE *out);

#endif
