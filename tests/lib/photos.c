/* What the photo tests need: fixtures and their manifest, fresh photos made from them, an HTTP
 * exchange that shows the answer's headers (tus speaks in headers) and can cut an upload off, tus
 * and PUT uploads, counting files in the data folder, and running outfallctl. */
#include <fcntl.h>
#include <ftw.h>
#include <glob.h>
#include <sqlite3.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "client/hash.h"
#include "client/http.h"
#include "client/tus.h"
#include "common/util.h"
#include "tests/lib/harness.h"

extern char **environ;

int th_fixture(const char *name, th_file *f) {
    char path[1024];
    const char *root = getenv("OUTFALL_FIXTURES");
    snprintf(path, sizeof path, "%s/photos/%s", root && *root ? root : "tests/fixtures", name);
    memset(f, 0, sizeof *f);
    FILE *in = fopen(path, "rb");
    if (!in) {
        fprintf(stderr, "th: cannot open fixture %s\n", path);
        return -1;
    }
    fseek(in, 0, SEEK_END);
    long size = ftell(in);
    fseek(in, 0, SEEK_SET);
    f->data = malloc(size > 0 ? (size_t)size + 16 : 16);
    f->len = f->data && size >= 0 ? fread(f->data, 1, (size_t)size, in) : 0;
    fclose(in);
    if (!f->data || (long)f->len != size) {
        fprintf(stderr, "th: cannot read fixture %s\n", path);
        th_file_free(f);
        return -1;
    }
    return 0;
}

void th_file_free(th_file *f) {
    free(f->data);
    f->data = NULL;
    f->len = 0;
}

int th_photo_variant(const char *name, th_file *f, char hash[65]) {
    if (th_fixture(name, f) < 0) return -1; /* th_fixture leaves room for 16 more bytes */
    randombytes_buf(f->data + f->len, 16);
    f->len += 16;
    th_hash_hex(f->data, f->len, hash);
    return 0;
}

void th_hash_hex(const void *data, size_t len, char out[65]) {
    client_hash_buffer(data, len, out);
}

int th_manifest(th_manifest_row *rows, int cap) {
    char path[1024], line[512];
    const char *root = getenv("OUTFALL_FIXTURES");
    snprintf(path, sizeof path, "%s/photos/MANIFEST.tsv", root && *root ? root : "tests/fixtures");
    FILE *in = fopen(path, "r");
    if (!in) return -1;
    int n = 0;
    while (n < cap && fgets(line, sizeof line, in)) {
        char *field[7] = {0}, *save = NULL, *p = line;
        line[strcspn(line, "\r\n")] = '\0';
        for (int i = 0; i < 7; i++, p = NULL) {
            field[i] = strtok_r(p, "\t", &save);
            if (!field[i]) break;
        }
        if (!field[5] || strcmp(field[0], "file") == 0) continue;
        th_manifest_row *r = &rows[n++];
        memset(r, 0, sizeof *r);
        util_strlcpy(r->file, field[0], sizeof r->file);
        util_strlcpy(r->hash, field[1], sizeof r->hash);
        r->bytes = atol(field[2]);
        r->has_gps = strcmp(field[3], "-") != 0;
        r->lat = r->has_gps ? atof(field[3]) : 0;
        r->lon = r->has_gps ? atof(field[4]) : 0;
        if (strcmp(field[5], "-") != 0) util_strlcpy(r->datetime, field[5], sizeof r->datetime);
        r->taken_ms = r->datetime[0] ? th_plus8_ms(r->datetime) : 0;
    }
    fclose(in);
    return n;
}

int64_t th_plus8_ms(const char *datetime) {
    struct tm tm = {0};
    if (sscanf(datetime, "%d:%d:%d %d:%d:%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
               &tm.tm_min, &tm.tm_sec) != 6)
        return 0;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return ((int64_t)timegm(&tm) - 8 * 3600) * 1000;
}

int64_t th_feed_observation(const th_server *s, const char *token, const char *id, int64_t *version,
                            char flags[256]) {
    Outfall__V1__ChangesResponse *c = NULL;
    int64_t seq = 0;
    if (th_pull(s, token, 0, 1000, &c, NULL) != 200) return 0;
    for (size_t i = 0; i < c->n_feed; i++) {
        const Outfall__V1__FeedEntry *e = c->feed[i];
        if (e->entry_case != OUTFALL__V1__FEED_ENTRY__ENTRY_OBSERVATION ||
            strcmp(TH_S(e->observation->id), id) != 0)
            continue;
        seq = e->seq;
        *version = e->observation->version;
        th_flags_join(e->observation->flags, e->observation->n_flags, flags, 256);
    }
    outfall__v1__changes_response__free_unpacked(c, NULL);
    return seq;
}

/* ---- HTTP with headers (client/http, client/tus) ---- */

/* 1 when headers name the header name (given with its colon, "Accept:"). */
static int th_names(const char *const *headers, const char *name) {
    for (int i = 0; headers && headers[i]; i++)
        if (strncasecmp(headers[i], name, strlen(name)) == 0) return 1;
    return 0;
}

/* Moves r's answer into out (the body changes hands). */
static long th_xresult_take(client_http_response *r, th_xresult *out) {
    memset(out, 0, sizeof *out);
    out->r.status = r->status;
    out->r.body = r->body.data;
    out->r.len = r->body.len;
    util_strlcpy(out->r.content_type, r->content_type, sizeof out->r.content_type);
    util_strlcpy(out->headers, r->headers, sizeof out->headers);
    memset(&r->body, 0, sizeof r->body);
    return out->r.status;
}

long th_xfer_run(const th_server *s, const th_xfer *x, th_xresult *out) {
    char url[2048];
    const char *lines[72];
    size_t n = 0;
    lines[n++] = "Expect:";
    if (!th_names(x->headers, "Accept:")) /* "Accept:" alone in x->headers sends none */
        lines[n++] = "Accept: application/json";
    for (int i = 0; x->headers && x->headers[i] && n < 68; i++)
        lines[n++] = x->headers[i];
    if (x->body && !x->chunked && !th_names(x->headers, "Content-Type:"))
        lines[n++] = "Content-Type: application/octet-stream";
    lines[n] = NULL;
    snprintf(url, sizeof url, "%s%s", s->url, x->path);
    client_http_request rq = {.method = x->method,
                              .url = url,
                              .token = x->token,
                              .headers = lines,
                              .body = x->body,
                              .len = x->len,
                              .send = x->chunked ? CLIENT_HTTP_CHUNKED : CLIENT_HTTP_STREAM,
                              .cut_after = x->cut_after,
                              .timeout_s = 60};
    client_http_response r = {0};
    client_http_exchange(NULL, &rq, &r);
    if (r.status == 0 && !x->cut_after)
        fprintf(stderr, "th: %s %s: %s\n", x->method, x->path, r.error);
    return th_xresult_take(&r, out);
}

int th_xheader(const th_xresult *out, const char *name, char *buf, size_t cap) {
    return client_http_header(out->headers, name, buf, cap);
}

/* The harness's tus settings for s: JSON answers, a fresh connection per exchange. */
static client_tus th_tus(const th_server *s, const char *token) {
    client_tus t = {.server = s->url, .token = token, .accept = TH_JSON, .timeout_s = 60};
    return t;
}

/* Hands r's Error (of a non-2xx) to err when asked, and frees r. Returns st. */
static long th_tus_done(long st, client_http_response *r, th_error *err) {
    if (err && (st < 200 || st > 299)) {
        th_response tr = {.status = r->status, .body = r->body.data, .len = r->body.len};
        util_strlcpy(tr.content_type, r->content_type, sizeof tr.content_type);
        th_error_decode(&tr, err);
    }
    client_http_response_free(r);
    return st;
}

long th_photo_put(const th_server *s, const char *token, const char *hash, const void *data,
                  size_t len, th_error *err) {
    client_tus t = th_tus(s, token);
    client_http_response r = {0};
    long st = client_tus_put(&t, hash, data, len, &r);
    if (st == 0) fprintf(stderr, "th: PUT %s: %s\n", th_photo_path(hash, ""), r.error);
    return th_tus_done(st, &r, err);
}

long th_tus_upload(const th_server *s, const char *token, const char *hash, const void *data,
                   size_t len, size_t chunk, th_error *err) {
    client_tus t = th_tus(s, token);
    client_http_response r = {0};
    long st = client_tus_upload(&t, hash, data, len, chunk, &r);
    if (st == 0) fprintf(stderr, "th: tus upload of %s: %s\n", hash, r.error);
    return th_tus_done(st, &r, err);
}

static int th_files_seen;
static const char *th_files_suffix; /* count only names ending so; NULL: every file */

static int th_count_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st, (void)ftw;
    size_t n = strlen(path), k = th_files_suffix ? strlen(th_files_suffix) : 0;
    if (flag == FTW_F && (!k || (n > k && strcmp(path + n - k, th_files_suffix) == 0)))
        th_files_seen++;
    return 0;
}

/* On the bucket, photos/<rest> are the objects TH_S3_PREFIX/<rest> in the S3 server's folder. */
int th_count_files(const th_server *s, const char *sub) {
    char dir[600];
    th_files_suffix = NULL;
    if (s->s3.pid > 0 && strncmp(sub, "photos", 6) == 0 && (sub[6] == '\0' || sub[6] == '/')) {
        snprintf(dir, sizeof dir, "%s/objects/%s/%s%s", s->s3.root, TH_S3_BUCKET, TH_S3_PREFIX,
                 sub + 6);
        th_files_suffix = "._S3rver_object";
    } else {
        snprintf(dir, sizeof dir, "%s/%s", s->data, sub);
    }
    th_files_seen = 0;
    nftw(dir, th_count_entry, 16, FTW_PHYS);
    return th_files_seen;
}

int th_uploads_of(const th_server *s, const char *hash) {
    char pattern[400];
    glob_t g;
    snprintf(pattern, sizeof pattern, "%s/uploads/%s*", s->data, hash);
    int n = glob(pattern, 0, NULL, &g) == 0 ? (int)g.gl_pathc : 0;
    globfree(&g);
    return n;
}

int th_db_count(const th_server *s, const char *sql, const char *text) {
    char path[400];
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    int n = -1;
    snprintf(path, sizeof path, "%s/outfall.db", s->data);
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, text, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW) n = sqlite3_column_int(st, 0);
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

int th_db_exec(const th_server *s, const char *sql, const char *text) {
    char path[400];
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    int n = -1;
    snprintf(path, sizeof path, "%s/outfall.db", s->data);
    if (sqlite3_open(path, &db) == SQLITE_OK && sqlite3_busy_timeout(db, 5000) == SQLITE_OK &&
        sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, text, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_DONE) n = sqlite3_changes(db);
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

void th_first_seen_at_start(const th_server *s, const char *id) {
    char sql[96];
    snprintf(sql, sizeof sql, "UPDATE outfalls SET created_at_ms = %lld WHERE id = ?",
             (long long)TH_PROGRAMME_START_MS);
    if (th_db_exec(s, sql, id) != 1) {
        fprintf(stderr, "th_first_seen_at_start: outfall %s not moved\n", id);
        abort();
    }
}

void th_photo_digest(const th_server *s, const char *token, const char *hash, char out[65]) {
    th_xfer x = {.method = "GET", .path = th_photo_path(hash, ""), .token = token};
    th_xresult r;
    out[0] = '\0';
    if (th_xfer_run(s, &x, &r) == 200) th_hash_hex(r.r.body, r.r.len, out);
    th_response_free(&r.r);
}

const char *th_photo_path(const char *hash, const char *suffix) {
    static char path[160];
    snprintf(path, sizeof path, "/v1/photos/%s%s", hash, suffix);
    return path;
}

void th_flags_join(char *const *flags, size_t n, char *out, size_t cap) {
    out[0] = '\0';
    for (size_t i = 0; i < n; i++)
        snprintf(out + strlen(out), cap - strlen(out), "%s%s", i ? "," : "", flags[i]);
}

int th_write_file(const char *path, const void *data, size_t len) {
    FILE *out = fopen(path, "wb");
    if (!out) return -1;
    int rc = fwrite(data, 1, len, out) == len ? 0 : -1;
    return fclose(out) == 0 ? rc : -1;
}

static void th_slurp(const char *path, char *buf, size_t cap) {
    FILE *f = fopen(path, "rb");
    size_t n = f ? fread(buf, 1, cap - 1, f) : 0;
    buf[n] = '\0';
    if (f) fclose(f);
}

int th_ctl(const th_server *s, const char *const *env, const char *const *args, char *out,
           char *errout, size_t cap) {
    const char *bin = getenv("OUTFALLCTL");
    if (!bin || !*bin) bin = "build/asan/outfallctl";
    char server[160], outp[400], errp[400];
    snprintf(server, sizeof server, "OUTFALL_SERVER=%s", s->url);
    snprintf(outp, sizeof outp, "%s/ctl.out", s->root);
    snprintf(errp, sizeof errp, "%s/ctl.err", s->root);
    const char *envp[256], *argv[32];
    size_t ne = 0, na = 0;
    for (char **e = environ; *e && ne < 200; e++)
        if (strncmp(*e, "OUTFALL_", 8) != 0 && !strcasestr(*e, "proxy=")) envp[ne++] = *e;
    envp[ne++] = server;
    for (size_t i = 0; env && env[i] && ne < 254; i++)
        envp[ne++] = env[i];
    envp[ne] = NULL;
    argv[na++] = bin;
    for (size_t i = 0; args[i] && na < 31; i++)
        argv[na++] = args[i];
    argv[na] = NULL;
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        int in = open("/dev/null", O_RDONLY), o = open(outp, O_WRONLY | O_CREAT | O_TRUNC, 0600),
            e = open(errp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (in < 0 || o < 0 || e < 0) _exit(126);
        dup2(in, 0);
        dup2(o, 1);
        dup2(e, 2);
        execve(bin, (char *const *)argv, (char *const *)envp);
        _exit(127);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    th_slurp(outp, out, cap);
    th_slurp(errp, errout, cap);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}
