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
    int threads;
    int64_t max_body;               /* request body limit in bytes */
    int64_t held_wait_s;            /* copied into sync.held_wait_ms */
    char db_path[PATH_MAX + 16];    /* data_dir/outfall.db, derived */
    char photos_dir[PATH_MAX + 16]; /* data_dir/photos, derived */
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
