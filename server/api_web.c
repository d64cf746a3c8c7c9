/* GET / and GET /web/{file}: the supervisors' console, static files from the --web folder;
 * GET /field/ and GET /field/{file}: the surveyors' field app, from its field/ subfolder; and
 * GET /web/config.json, the settings of both. Every answer here, errors included, carries the
 * console's security headers (a Content-Security-Policy without inline script, nosniff, no
 * referrer, no framing), so they are sent here rather than through http_send_message. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "server/api.h"

enum { WEB_MAX_FILE = 8 * 1024 * 1024, WEB_MAX_NAME = 100 };

/* What the console serves: a file's extension decides its type; no other file is served. */
static const struct {
    const char *ext;
    const char *type;
} web_types[] = {
    {"html", "text/html; charset=utf-8"},
    {"js", "text/javascript; charset=utf-8"},
    {"css", "text/css; charset=utf-8"},
    {"svg", "image/svg+xml"},
    {"png", "image/png"},
    {"json", "application/json"},
    {"webmanifest", "application/manifest+json"},
};

/* The origin (scheme://host[:port]) of the configured tile URL into out[cap]; "" when none. */
static void web_tile_origin(const server_config *cfg, char *out, size_t cap) {
    out[0] = '\0';
    const char *host = strstr(cfg->tile_url, "://");
    if (!cfg->tile_url[0] || !host) return;
    size_t len = (size_t)(host + 3 - cfg->tile_url) + strcspn(host + 3, "/?#");
    snprintf(out, cap, " %.*s", (int)len, cfg->tile_url);
}

/* Sends status with body[len] of ctype and the console's security headers (its
 * Content-Security-Policy through http_send_head, which writes them for every document). The
 * connection closes when the request came with a body (never read here). */
static void web_send(http_req *r, int status, const char *ctype, const void *body, size_t len) {
    char csp[800], tiles[600];
    web_tile_origin(r->cfg, tiles, sizeof tiles);
    snprintf(csp, sizeof csp,
             "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob: "
             "data:%s; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
             "form-action 'self'",
             tiles);
    r->csp = csp;
    r->cache_control = "no-cache";
    http_send_head(r, status, ctype, len);
    if (len > 0 && strcmp(r->method, "HEAD") != 0) mg_write(r->conn, body, len);
    r->csp = NULL; /* csp ends here */
}

/* Answers an Error {code, message} as JSON with the security headers. Returns 0 (answered). */
static int web_fail(http_req *r, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int web_fail(http_req *r, int status, const char *code, const char *fmt, ...) {
    char message[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    snprintf(r->err.code, sizeof r->err.code, "%s", code); /* for the access log */
    json_t *e = json_pack("{s:s, s:s}", "code", code, "message", message);
    char *text = e ? json_dumps(e, JSON_COMPACT) : NULL;
    if (text)
        web_send(r, status, "application/json", text, strlen(text));
    else
        web_send(r, status, "application/json", "{\"code\":\"internal\"}", 19);
    free(text);
    json_decref(e);
    return 0;
}

/* The content type for name, or NULL when name is not a file the console may serve: one path
 * segment of letters, digits, '.', '_' and '-', starting with a letter, digit or '_' (so no
 * hidden file, no "..", no absolute path), with a known extension. */
static const char *web_type_for(const char *name) {
    size_t len = strlen(name);
    if (len == 0 || len > WEB_MAX_NAME || strstr(name, "..")) return NULL;
    for (size_t i = 0; i < len; i++) {
        char ch = name[i];
        int alnum =
            (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
        if (!alnum && ch != '_' && (i == 0 || (ch != '.' && ch != '-'))) return NULL;
    }
    const char *dot = strrchr(name, '.');
    if (!dot) return NULL;
    for (size_t i = 0; i < sizeof web_types / sizeof web_types[0]; i++)
        if (strcmp(dot + 1, web_types[i].ext) == 0) return web_types[i].type;
    return NULL;
}

/* Reads the regular file dir/name of the --web folder (dir "" for the folder itself) whole into
 * *out[*len] (caller frees). Does not follow a symbolic link. Returns 0, or -1 with errno set
 * (ENOENT when absent or not a regular file, EFBIG when over WEB_MAX_FILE). */
static int web_read(const server_config *cfg, const char *dir, const char *name, char **out,
                    size_t *len) {
    char path[PATH_MAX + WEB_MAX_NAME + 16];
    char *buf = NULL;
    struct stat st;
    int rc = -1, saved = 0;
    *out = NULL;
    *len = 0;
    snprintf(path, sizeof path, "%s/%s%s", cfg->web_dir, dir, name);
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ELOOP) errno = ENOENT;
        return -1;
    }
    if (fstat(fd, &st) < 0) goto done;
    if (!S_ISREG(st.st_mode)) {
        errno = ENOENT;
        goto done;
    }
    if (st.st_size > WEB_MAX_FILE) {
        errno = EFBIG;
        goto done;
    }
    size_t want = (size_t)st.st_size, got = 0;
    buf = malloc(want ? want : 1);
    if (!buf) goto done;
    while (got < want) {
        ssize_t n = read(fd, buf + got, want - got);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            if (n == 0) errno = EIO; /* the file shrank while read */
            goto done;
        }
        got += (size_t)n;
    }
    *out = buf;
    *len = got;
    buf = NULL;
    rc = 0;
done:
    saved = errno;
    free(buf);
    close(fd);
    errno = saved;
    return rc;
}

/* Serves dir/name from the --web folder (dir "" or "field/"), or a 404 when it is not a file of
 * the console or the field app. */
static int web_serve(http_req *r, const char *dir, const char *name) {
    const char *type = web_type_for(name);
    char *body = NULL;
    size_t len = 0;
    if (!type) return web_fail(r, 404, "not_found", "no console file named %.100s", name);
    if (web_read(r->cfg, dir, name, &body, &len) < 0) {
        int err = errno;
        if (err == ENOENT || err == ENOTDIR)
            return web_fail(r, 404, "not_found", "no console file named %.100s", name);
        fprintf(stderr, "web: cannot read %s/%s%s: %s\n", r->cfg->web_dir, dir, name,
                strerror(err));
        return web_fail(r, 500, "internal", "the console file %.100s cannot be read", name);
    }
    web_send(r, 200, type, body, len);
    free(body);
    return 0;
}

/* GET /: the console's page. */
int api_web_index(http_req *r) {
    return web_serve(r, "", "index.html");
}

/* GET /web/{file}: one of the console's files. */
int api_web_file(http_req *r) {
    return web_serve(r, "", r->params[0]);
}

/* GET /APP/ (app "field", "report"): the app's page. GET /APP: a permanent redirect to /APP/,
 * so the page's relative addresses (and a service worker's scope) are the folder's. */
static int web_app_index(http_req *r, const char *app) {
    char dir[16];
    snprintf(dir, sizeof dir, "%s/", app);
    if (r->path[0] == '/' && strcmp(r->path + 1, app) == 0) {
        snprintf(r->headers + strlen(r->headers), sizeof r->headers - strlen(r->headers),
                 "Location: /%s/\r\n", app);
        return web_fail(r, 308, "moved_permanently", "the page is at /%s/", app);
    }
    return web_serve(r, dir, "index.html");
}

/* GET /field/ (and /field): the field app's page. */
int api_web_field_index(http_req *r) {
    return web_app_index(r, "field");
}

/* GET /field/{file}: one of the field app's files. */
int api_web_field_file(http_req *r) {
    return web_serve(r, "field/", r->params[0]);
}

/* GET /field/vendor/{file}: one of the pinned libraries the field app ships with. */
int api_web_field_vendor(http_req *r) {
    return web_serve(r, "field/vendor/", r->params[0]);
}

/* GET /report/ (and /report): the public's report form. */
int api_web_report_index(http_req *r) {
    return web_app_index(r, "report");
}

/* GET /report/{file}: one of the report form's files. */
int api_web_report_file(http_req *r) {
    return web_serve(r, "report/", r->params[0]);
}

/* GET /web/config.json: {"tileUrl": the --tile-url template or absent, "version",
 * "duplicateRadiusM" (--duplicate-radius: the field app warns of outfalls this near on the same
 * river), "maxPhotoBytes" (--max-photo-bytes: larger photos are refused on the phone)}. */
int api_web_config(http_req *r) {
    json_t *c = json_pack("{s:s, s:f, s:I}", "version", OUTFALLD_VERSION, "duplicateRadiusM",
                          r->cfg->sync.duplicate_radius_m, "maxPhotoBytes",
                          (json_int_t)r->cfg->max_photo_bytes);
    if (c && r->cfg->tile_url[0]) json_object_set_new(c, "tileUrl", json_string(r->cfg->tile_url));
    char *text = c ? json_dumps(c, JSON_COMPACT) : NULL;
    json_decref(c);
    if (!text) return web_fail(r, 500, "out_of_memory", "out of memory");
    web_send(r, 200, "application/json", text, strlen(text));
    free(text);
    return 0;
}
