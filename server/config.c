#include "server/config.h"

#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "sync/accounts.h"
#include "sync/writer.h"

/* How a flag's text becomes a value in server_config. */
enum opt_kind { OPT_TEXT, OPT_INT, OPT_INT64, OPT_DOUBLE, OPT_HELP };

typedef struct option_def {
    const char *name; /* the long flag without "--"; also the config file's key */
    const char *arg;  /* placeholder shown by --help; NULL for a flag without a value */
    enum opt_kind kind;
    size_t offset; /* into server_config */
    size_t size;   /* of a text field */
    double min, max;
    int cli_only; /* not accepted in the config file */
    const char *help;
} option_def;

#define FIELD(f) offsetof(server_config, f), sizeof(((server_config *)0)->f)

/* Every flag outfalld knows. The defaults shown by --help are read from config_defaults(). */
static const option_def options[] = {
    {"listen", "HOST:PORT", OPT_TEXT, FIELD(listen), 0, 0, 0,
     "address to listen on; port 0 picks a free one; TLS is left to a reverse proxy"},
    {"data", "DIR", OPT_TEXT, FIELD(data_dir), 0, 0, 0,
     "data folder: outfall.db and photos/ (created when missing)"},
    {"threads", "N", OPT_INT, FIELD(threads), 8, 4096, 0,
     "worker threads; an open connection holds one (idle or slow ones too), so keep it well "
     "above the connections expected at once"},
    {"db-handles", "N", OPT_INT, FIELD(db_handles), 1, 1024, 0,
     "database connections the worker threads share: requests served at once"},
    {"keep-alive-ms", "MS", OPT_INT, FIELD(keep_alive_ms), 1000, 600000, 0,
     "an idle keep-alive connection is closed after this long (answers say so: Keep-Alive: "
     "timeout=)"},
    {"request-timeout", "SECONDS", OPT_INT, FIELD(request_timeout_s), 1, 3600, 0,
     "a request's line and headers must arrive within this; also the longest a read or write "
     "waits"},
    {"body-timeout", "SECONDS", OPT_INT64, FIELD(body_timeout_s), 1, 86400, 0,
     "a body must arrive within this after its head, plus a second per --body-min-rate bytes"},
    {"body-min-rate", "BYTES", OPT_INT64, FIELD(body_min_rate), 0, 1073741824, 0,
     "the slowest a body may come on average, in bytes a second (0: only --body-timeout)"},
    {"max-conns-per-addr", "N", OPT_INT, FIELD(max_conns_per_addr), 0, 65536, 0,
     "connections one client address may hold (behind --real-ip-header: requests in flight); "
     "more are answered 503 too_many_connections; 0: no cap"},
    {"cors-origin", "ORIGINS", OPT_TEXT, FIELD(cors_origins), 0, 0, 0,
     "origins (https://host[:port], comma-separated) whose web pages may call the API with a "
     "token; none by default (the console is same-origin)"},
    {"writer-core", "0|1", OPT_INT, FIELD(writer_core), 0, 1, 0,
     "1: while batches are being written, request workers keep off one CPU, which the thread "
     "writing them takes (with 2 CPUs or more); 0: threads may run anywhere"},
    {"wal-limit-mb", "MB", OPT_INT, FIELD(wal_limit_mb), 0, 1048576, 0,
     "past this many MiB of write-ahead log the thread writing batches checkpoints it itself "
     "between them, so that it starts again from its beginning (under a steady stream of batches "
     "it would only grow); at once past twice this; 0: no bound"},
    {"stack-report", "0|1", OPT_INT, FIELD(stack_report), 0, 1, 0,
     "1: worker threads paint their stacks and the log names the deepest use any request "
     "reached (for measuring: it makes every worker's 100 KiB resident)"},
    {"config", "FILE", OPT_TEXT, FIELD(config_file), 0, 0, 1,
     "read `key = value` lines (keys are these flag names); flags win over the file"},
    {"max-body", "BYTES", OPT_INT64, FIELD(max_body), 1, 1099511627776.0, 0,
     "largest sync batch body; a larger one gets 413 before it is read (the other endpoints' "
     "limits are fixed, see docs/reliability.md, Bodies)"},
    {"body-memory", "BYTES", OPT_INT64, FIELD(body_memory), 1048576, 1099511627776.0, 0,
     "memory all request bodies being read and decoded may hold at once; past it a request "
     "waits 3 s for room, then gets 503 body_memory_busy"},
    {"duplicate-radius", "METRES", OPT_DOUBLE, FIELD(sync.duplicate_radius_m), 0, 100000, 0,
     "a new outfall this close to one on the same river is a duplicate suspect"},
    {"held-wait", "SECONDS", OPT_INT64, FIELD(held_wait_s), 0, 315360000, 0,
     "a batch held behind a missing device_seq applies anyway after this long"},
    {"token-ttl", "SECONDS", OPT_INT, FIELD(sync.token_ttl_s), 1, 31536000, 0,
     "bearer token lifetime"},
    {"ready-file", "FILE", OPT_TEXT, FIELD(ready_file), 0, 0, 0,
     "once listening, write the actual HOST:PORT to FILE (atomically)"},
    {"web", "DIR", OPT_TEXT, FIELD(web_dir), 0, 0, 0,
     "folder of the supervisors' console, served at / and /web/"},
    {"tile-url", "URL", OPT_TEXT, FIELD(tile_url), 0, 0, 0,
     "map tiles for the console, e.g. https://tiles.example/{z}/{x}/{y}.png; none: no map"},
    {"max-photo-bytes", "BYTES", OPT_INT64, FIELD(max_photo_bytes), 1, 1099511627776.0, 0,
     "largest photo accepted; a larger upload gets 413 before a byte is stored"},
    {"upload-expiry", "SECONDS", OPT_INT64, FIELD(upload_expiry_s), 1, 315360000, 0,
     "a partial photo upload untouched this long is deleted (finished photos never are)"},
    {"photo-far", "METRES", OPT_DOUBLE, FIELD(sync.photo_far_m), 0, 1000000, 0,
     "flag a photo geotagged farther than this from its observation (or its accuracy, if more)"},
    {"backdate-days", "DAYS", OPT_INT, FIELD(sync.backdate_days), 0, 36500, 0,
     "a lifecycle transition dated more than this many days before it is recorded needs a reason "
     "and evidence, and flags the outfall date_backdated"},
    {"photo-time-span", "SECONDS", OPT_INT64, FIELD(photo_time_span_s), 0, 315360000, 0,
     "flag a photo taken further than this from its observation's time"},
    {"login-failures", "N", OPT_INT, FIELD(sync.login_max_failures), 1, 1000000, 0,
     "failed logins of one account from one client address (an IPv6 /64) before that pair is "
     "locked out; a success clears it"},
    {"login-account-failures", "N", OPT_INT, FIELD(sync.login_acct_failures), 0, 1000000, 0,
     "failed logins of one account from all addresses it has not logged in from in 30 days "
     "before it is locked out for them (0: 4 x --login-failures)"},
    {"login-address-failures", "N", OPT_INT, FIELD(sync.login_addr_failures), 0, 1000000, 0,
     "failed logins from one address, any names, before it is slowed: only names it has not "
     "failed with may still try from there (0: 10 x --login-failures)"},
    {"login-lock", "SECONDS", OPT_INT, FIELD(sync.login_lock_s), 1, 86400 * 30, 0,
     "the first lock-out's length; after it each further failure locks the same count again, "
     "twice as long"},
    {"login-lock-max", "SECONDS", OPT_INT, FIELD(sync.login_lock_max_s), 1, 86400 * 30, 0,
     "the longest lock-out (at least --login-lock); a count with no failure for this long "
     "starts again"},
    {"password-hashes", "N", OPT_INT, FIELD(sync.max_password_hashes), 1, 64, 0,
     "argon2id hashes run at once (64 MiB each); more logins wait their turn"},
    {"password-hash-minimum", "0|1", OPT_INT, FIELD(sync.password_hash_minimum), 0, 1, 1,
     "for tests only, never in production (so not in the config file): 1 hashes new passwords "
     "with argon2id at its least cost (1 pass, 8 KiB, about a millisecond) instead of 64 MiB, "
     "so a test suite's many logins cost little; such hashes are cheap to guess"},
    {"login-throttle-slots", "N", OPT_INT, FIELD(login_throttle_slots), 16, 1048576, 0,
     "failed-login counts kept in memory (about 48 bytes each) for names that are no account "
     "and for addresses; an account's counts are kept in the database"},
    {"photo-store", "local|s3://BUCKET/PREFIX", OPT_TEXT, FIELD(photo_store), 0, 0, 0,
     "where stored photos' bytes live: the data folder's photos/, or an S3-compatible bucket "
     "(keys PREFIX/ab/cd/<hash>; see --photo-store-endpoint)"},
    {"photo-store-endpoint", "URL", OPT_TEXT, FIELD(photo_store_endpoint), 0, 0, 0,
     "the bucket's endpoint, http(s)://host[:port] (path-style requests)"},
    {"photo-store-region", "REGION", OPT_TEXT, FIELD(photo_store_region), 0, 0, 0,
     "the bucket's region, for the requests' signatures"},
    {"photo-store-credentials", "FILE", OPT_TEXT, FIELD(photo_store_credentials), 0, 0, 0,
     "the bucket's access key and secret: two lines, or access_key_id= and secret_access_key=; "
     "mode 600; none: the environment's AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"},
    {"photo-store-timeout", "SECONDS", OPT_INT, FIELD(photo_store_timeout_s), 1, 600, 0,
     "a request to the bucket (or a transfer stalled below 1 KiB/s) gives up after this; an "
     "upload's finish then answers 503 photo_store_unavailable"},
    {"backup-to", "s3://BUCKET/PREFIX", OPT_TEXT, FIELD(backup_to), 0, 0, 0,
     "back the database (and, with the local photo store, the photos) up to this bucket on the "
     "photo store's endpoint and credentials (--photo-store-endpoint, -region, -credentials); "
     "sync answers then carry durable_seq; none by default"},
    {"backup-every", "MINUTES", OPT_DOUBLE, FIELD(backup_every_min), 0.01, 10080, 0,
     "start a backup this long after the last one started (a failed one is tried again after "
     "a minute, or this, if shorter)"},
    {"backup-keep", "N", OPT_INT, FIELD(backup_keep), 1, 100000, 0,
     "keep the newest N confirmed backups in the bucket ..."},
    {"backup-keep-days", "DAYS", OPT_INT, FIELD(backup_keep_days), 0, 3650, 0,
     "... and the newest of each of the last DAYS days (UTC); older ones are deleted"},
    {"real-ip-header", "NAME", OPT_TEXT, FIELD(real_ip_header), 0, 0, 0,
     "behind a reverse proxy on loopback: the header naming the client's address (X-Real-IP)"},
    {"report-upload-ttl", "SECONDS", OPT_INT64, FIELD(report_upload_ttl_s), 1, 604800, 0,
     "a public report's upload token (for the photos it lists) is valid this long"},
    {"report-upload-expiry", "SECONDS", OPT_INT64, FIELD(report_upload_expiry_s), 1, 86400, 0,
     "a partial photo upload made with a report's token, untouched this long, is deleted (also "
     "once the token expires); staff uploads keep --upload-expiry"},
    {"report-upload-quota", "BYTES", OPT_INT64, FIELD(report_upload_quota), 1, 1099511627776.0, 0,
     "bytes (their Upload-Length) that unfinished uploads made with report tokens from one "
     "client address may hold at once; more is 429 upload_quota_exceeded"},
    {"report-upload-max-reports", "N", OPT_INT, FIELD(report_upload_max_reports), 1, 1000, 0,
     "reports whose tokens may hold unfinished uploads from one client address at once; more "
     "is 429 upload_reports_exceeded"},
    {"public-url", "URL", OPT_TEXT, FIELD(public_url), 0, 0, 0,
     "https URL the public pages are reached at (https://host[/path]); sign boards' QR codes "
     "lead to URL/public/outfalls/{code}; none: no sign boards"},
    {"help", NULL, OPT_HELP, 0, 0, 0, 0, 1, "print this text and exit"},
};
enum { N_OPTIONS = sizeof options / sizeof options[0] };

/* Fills c with every default: the engine's (sync_config_defaults) and outfalld's own. */
static void config_defaults(server_config *c) {
    memset(c, 0, sizeof *c);
    sync_config_defaults(&c->sync);
    util_strlcpy(c->listen, "127.0.0.1:8080", sizeof c->listen);
    util_strlcpy(c->data_dir, "./data", sizeof c->data_dir);
    util_strlcpy(c->web_dir, "web", sizeof c->web_dir);
    /* An open connection holds a worker (CivetWeb 1.15), idle or slow; workers are cheap (a
     * 100 KiB stack, a 16 KiB buffer) and the database handles apart from them bound the work
     * done at once (docs/reliability.md, Connections). */
    c->threads = 512;
    c->db_handles = 32;
    c->keep_alive_ms = 5000;
    c->request_timeout_s = 10;
    c->body_timeout_s = 20;
    c->body_min_rate = 500;
    c->max_conns_per_addr = 64;
    c->writer_core = 1;
    c->wal_limit_mb = (int)(WRITER_WAL_LIMIT >> 20);
    c->max_body = 16 * 1024 * 1024;
    /* Four 16 MiB bodies at once, or one with its decoded batch: hostile bodies sent 8 at a
     * time then raise peak RSS by less than 100 MB (docs/reliability.md, Bodies). */
    c->body_memory = 64 * 1024 * 1024;
    c->held_wait_s = c->sync.held_wait_ms / 1000;
    c->max_photo_bytes = 25 * 1024 * 1024;
    c->upload_expiry_s = 7 * 24 * 3600;
    c->report_upload_ttl_s = 3600;
    c->report_upload_expiry_s = 3600;
    c->report_upload_quota = 64 * 1024 * 1024;
    c->report_upload_max_reports = 3;
    c->login_throttle_slots = ACCOUNTS_THROTTLE_SLOTS;
    c->photo_time_span_s = c->sync.photo_time_span_ms / 1000;
    util_strlcpy(c->photo_store, "local", sizeof c->photo_store);
    util_strlcpy(c->photo_store_region, "us-east-1", sizeof c->photo_store_region);
    c->photo_store_timeout_s = 30;
    c->backup_every_min = 60;
    c->backup_keep = 24;
    c->backup_keep_days = 7;
}

/* The option called name on the command line (exact), or NULL. */
static const option_def *option_by_flag(const char *name, size_t len) {
    for (int i = 0; i < N_OPTIONS; i++)
        if (strlen(options[i].name) == len && strncmp(options[i].name, name, len) == 0)
            return &options[i];
    return NULL;
}

/* 1 when key names opt in a config file: '-' and '_' are ignored, so "max-body", "max_body"
 * and "maxbody" are the same key. */
static int option_key_matches(const option_def *opt, const char *key) {
    const char *a = opt->name, *b = key;
    for (;;) {
        while (*a == '-')
            a++;
        while (*b == '-' || *b == '_')
            b++;
        if (*a != *b) return 0;
        if (*a == '\0') return 1;
        a++, b++;
    }
}

/* Parses text into opt's field of c. Returns 0, or -1 with err filled; c is unchanged then. */
static int option_set(server_config *c, const option_def *opt, const char *text, char *err,
                      size_t errlen) {
    char *field = (char *)c + opt->offset;
    char *end = NULL;
    errno = 0;
    switch (opt->kind) {
    case OPT_TEXT:
        if (strlen(text) >= opt->size) goto too_long;
        if (text[0] == '\0') goto bad_value;
        util_strlcpy(field, text, opt->size);
        return 0;
    case OPT_INT:
    case OPT_INT64: {
        long long v = strtoll(text, &end, 10);
        if (errno || end == text || *end != '\0' || v < opt->min || v > opt->max) goto bad_value;
        if (opt->kind == OPT_INT)
            *(int *)(void *)field = (int)v;
        else
            *(int64_t *)(void *)field = v;
        return 0;
    }
    case OPT_DOUBLE: {
        double v = strtod(text, &end);
        if (errno || end == text || *end != '\0' || !isfinite(v) || v < opt->min || v > opt->max)
            goto bad_value;
        *(double *)(void *)field = v;
        return 0;
    }
    case OPT_HELP:
        break;
    }
bad_value:
    if (opt->kind == OPT_TEXT)
        snprintf(err, errlen, "--%s needs a value", opt->name);
    else
        snprintf(err, errlen, "--%s: \"%s\" is not a number from %.0f to %.0f", opt->name, text,
                 opt->min, opt->max);
    return -1;
too_long:
    snprintf(err, errlen, "--%s: value longer than %zu characters", opt->name, opt->size - 1);
    return -1;
}

/* 0 when url is a tile URL the console may load and the Content-Security-Policy may name:
 * http(s)://host/... (a fixed host) holding {z}, {x} and {y}, and nothing that could break out of
 * a header or a policy (blanks, quotes, ';', ','). Else -1 with err filled. */
static int tile_url_check(const char *url, char *err, size_t errlen) {
    int scheme = strncmp(url, "https://", 8) == 0 || strncmp(url, "http://", 7) == 0;
    const char *host = strstr(url, "://");
    size_t hostlen = host ? strcspn(host + 3, "/?#") : 0;
    if (!scheme || hostlen == 0 || memchr(host + 3, '{', hostlen) || !strstr(url, "{z}") ||
        !strstr(url, "{x}") || !strstr(url, "{y}") || strpbrk(url, " \t\r\n\"';,\\<>")) {
        snprintf(err, errlen, "--tile-url: \"%s\" is not an http(s) URL with {z}, {x} and {y}",
                 url);
        return -1;
    }
    return 0;
}

/* 0 when url (a trailing '/' dropped in place) is https://host[:port][/path] with host and path
 * made only of URL characters that need no escaping in a QR code, an SVG or a header: letters,
 * digits and - . _ ~ / : (no query, fragment, user, blank or quote). Else -1 with err filled. */
/* Checks --cors-origin: comma-separated origins, each http(s)://host[:port] with nothing after
 * (an origin is compared whole with a request's Origin); "*" is refused, since every endpoint
 * that takes a token would then answer any page. Returns 0, or -1 with err filled. */
static int cors_origins_check(const char *list, char *err, size_t errlen) {
    for (const char *p = list; *p;) {
        size_t len = strcspn(p, ",");
        const char *host = strncmp(p, "https://", 8) == 0  ? p + 8
                           : strncmp(p, "http://", 7) == 0 ? p + 7
                                                           : NULL;
        size_t host_len = host ? len - (size_t)(host - p) : 0;
        if (!host || host_len == 0 || strcspn(host, "/?#*@ ") < host_len) {
            snprintf(err, errlen,
                     "--cors-origin: \"%.*s\" is not an origin (https://host[:port], "
                     "comma-separated, no path, no *)",
                     (int)(len > 200 ? 200 : len), p);
            return -1;
        }
        p += len;
        if (*p == ',') p++;
    }
    return 0;
}

static int public_url_check(char *url, char *err, size_t errlen) {
    size_t n = strlen(url);
    while (n > 8 && url[n - 1] == '/')
        url[--n] = '\0';
    const char *host = url + 8;
    size_t hostlen = strcspn(host, ":/");
    int ok = strncmp(url, "https://", 8) == 0 && hostlen > 0 && host[0] != '.' && host[0] != '-';
    for (const char *p = host; ok && *p; p++)
        ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
             strchr("-._~/:", *p) != NULL;
    if (!ok) {
        snprintf(err, errlen,
                 "--public-url: \"%s\" is not an https URL like https://host or "
                 "https://host/path (letters, digits and - . _ ~ / : only; no query or fragment)",
                 url);
        return -1;
    }
    return 0;
}

/* Strips leading and trailing blanks in place; returns the start. */
static char *trim(char *s) {
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
        s[--n] = '\0';
    return s;
}

/* Applies the `key = value` lines of path to c. `#` starts a comment (at the start of a line or
 * after a blank); a value may be wrapped in double quotes. Returns 0 or -1 with err filled. */
static int config_read_file(server_config *c, const char *path, char *err, size_t errlen) {
    int rc = -1, lineno = 0;
    char line[4096];
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "cannot read config file %s: %s", path, strerror(errno));
        return -1;
    }
    while (fgets(line, sizeof line, f)) {
        lineno++;
        for (char *h = strchr(line, '#'); h; h = strchr(h + 1, '#'))
            if (h == line || h[-1] == ' ' || h[-1] == '\t') {
                *h = '\0';
                break;
            }
        char *key = trim(line);
        if (*key == '\0') continue;
        char *eq = strchr(key, '=');
        if (!eq) {
            snprintf(err, errlen, "%s:%d: expected `key = value`", path, lineno);
            goto done;
        }
        *eq = '\0';
        key = trim(key);
        char *value = trim(eq + 1);
        size_t vlen = strlen(value);
        if (vlen >= 2 && value[0] == '"' && value[vlen - 1] == '"') {
            value[vlen - 1] = '\0';
            value++;
        }
        const option_def *opt = NULL;
        for (int i = 0; i < N_OPTIONS && !opt; i++)
            if (!options[i].cli_only && option_key_matches(&options[i], key)) opt = &options[i];
        if (!opt) {
            snprintf(err, errlen, "%s:%d: unknown key \"%s\" (see --help)", path, lineno, key);
            goto done;
        }
        char why[512];
        if (option_set(c, opt, value, why, sizeof why) < 0) {
            snprintf(err, errlen, "%s:%d: %s", path, lineno, why);
            goto done;
        }
    }
    if (ferror(f)) {
        snprintf(err, errlen, "cannot read config file %s", path);
        goto done;
    }
    rc = 0;
done:
    fclose(f);
    return rc;
}

int config_load(server_config *c, int argc, char **argv, char *err, size_t errlen) {
    const char *cli[N_OPTIONS] = {0};
    config_defaults(c);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0) return CONFIG_HELP;
        if (strncmp(a, "--", 2) != 0) {
            snprintf(err, errlen, "unexpected argument \"%s\" (see --help)", a);
            return -1;
        }
        const char *eq = strchr(a + 2, '=');
        size_t len = eq ? (size_t)(eq - (a + 2)) : strlen(a + 2);
        const option_def *opt = option_by_flag(a + 2, len);
        if (!opt) {
            snprintf(err, errlen, "unknown flag %.*s (see --help)", (int)(len + 2), a);
            return -1;
        }
        if (opt->kind == OPT_HELP) return CONFIG_HELP;
        const char *value = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
        if (!value) {
            snprintf(err, errlen, "--%s needs a value", opt->name);
            return -1;
        }
        cli[opt - options] = value;
    }
    const char *file = cli[option_by_flag("config", 6) - options];
    if (file && config_read_file(c, file, err, errlen) < 0) return -1;
    for (int i = 0; i < N_OPTIONS; i++)
        if (cli[i] && option_set(c, &options[i], cli[i], err, errlen) < 0) return -1;
    if (c->tile_url[0] && tile_url_check(c->tile_url, err, errlen) < 0) return -1;
    if (c->public_url[0] && public_url_check(c->public_url, err, errlen) < 0) return -1;
    if (c->cors_origins[0] && cors_origins_check(c->cors_origins, err, errlen) < 0) return -1;
    c->sync.held_wait_ms = c->held_wait_s * 1000;
    snprintf(c->db_path, sizeof c->db_path, "%s/outfall.db", c->data_dir);
    snprintf(c->photos_dir, sizeof c->photos_dir, "%s/photos", c->data_dir);
    snprintf(c->uploads_dir, sizeof c->uploads_dir, "%s/uploads", c->data_dir);
    c->sync.photo_time_span_ms = c->photo_time_span_s * 1000;
    return 0;
}

/* Writes opt's default value from d into buf[cap]. */
static void option_default(const server_config *d, const option_def *opt, char *buf, size_t cap) {
    const char *field = (const char *)d + opt->offset;
    switch (opt->kind) {
    case OPT_TEXT:
        snprintf(buf, cap, "%s", *field ? field : "none");
        break;
    case OPT_INT:
        snprintf(buf, cap, "%d", *(const int *)(const void *)field);
        break;
    case OPT_INT64:
        snprintf(buf, cap, "%lld", (long long)*(const int64_t *)(const void *)field);
        break;
    case OPT_DOUBLE:
        snprintf(buf, cap, "%g", *(const double *)(const void *)field);
        break;
    case OPT_HELP:
        buf[0] = '\0';
        break;
    }
}

void config_usage(FILE *out) {
    server_config d;
    config_defaults(&d);
    fprintf(out, "usage: outfalld [flags]\n\n"
                 "The outfall survey sync server. Flags (also `key = value` lines in --config):\n");
    for (int i = 0; i < N_OPTIONS; i++) {
        const option_def *opt = &options[i];
        char head[64], def[PATH_MAX];
        snprintf(head, sizeof head, "--%s%s%s", opt->name, opt->arg ? " " : "",
                 opt->arg ? opt->arg : "");
        option_default(&d, opt, def, sizeof def);
        fprintf(out, "  %-28s %s", head, opt->help);
        if (opt->kind != OPT_HELP) fprintf(out, " (default %s)", def);
        fputc('\n', out);
    }
    fprintf(out, "\nEnvironment: OUTFALL_ADMIN_PASSWORD sets the password of the \"admin\" account "
                 "made on first start\n(else one is generated and printed once).\n");
}
