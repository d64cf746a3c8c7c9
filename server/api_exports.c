/* The streamed exports: GET /v1/exports/outfalls.geojson, /v1/exports/outfalls.csv and
 * /v1/exports/photos.tar. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "server/api.h"
#include "server/auth.h"
#include "programme/archive.h"
#include "programme/export.h"

/* --- streamed exports ------------------------------------------------------------------------- */

typedef struct stream {
    http_req *r;
    int chunked;
} stream;

/* Sends the head of a streamed answer: chunked on HTTP/1.1 (so an export cut short shows as
 * incomplete), else delimited by closing the connection. */
static void stream_start(stream *st, const char *ctype, const char *filename) {
    http_req *r = st->r;
    char head[768], date[64];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    st->chunked = r->ri->http_version && strcmp(r->ri->http_version, "1.1") == 0;
    r->must_close = 1;
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 200 OK\r\nDate: %s\r\nCache-Control: no-store\r\n"
                     "Connection: close\r\nContent-Type: %s\r\n"
                     "Content-Disposition: attachment; filename=\"%s\"\r\n%s\r\n",
                     date, ctype, filename, st->chunked ? "Transfer-Encoding: chunked\r\n" : "");
    mg_write(r->conn, head, (size_t)n);
    r->status = 200;
}

/* Writes len bytes, framed as one chunk when chunked. Non-zero when the client went away. */
static int stream_write(void *ctx, const char *data, size_t len) {
    stream *st = ctx;
    char size[24];
    int n = snprintf(size, sizeof size, "%zx\r\n", len);
    if (st->chunked && mg_write(st->r->conn, size, (size_t)n) != n) return 1;
    if (mg_write(st->r->conn, data, len) != (int)len) return 1;
    return st->chunked && mg_write(st->r->conn, "\r\n", 2) != 2;
}

/* The photo archive (programme/archive.h), beside export.h's EXPORT_GEOJSON and EXPORT_CSV. */
enum { PHOTOS_TAR = 3 };

/* ?division=&river=&from=&to=&updated_since= → the approved inventory, or the photo archive of
 * the same selection, streamed. */
static int export_as(http_req *r, int format) {
    char division[16], river[64], from[16], to[16], since[16];
    int rc;
    if ((rc = http_query(r, "division", division, sizeof division)) < 0 ||
        (rc = http_query(r, "river", river, sizeof river)) < 0 ||
        (rc = http_query(r, "from", from, sizeof from)) < 0 ||
        (rc = http_query(r, "to", to, sizeof to)) < 0 ||
        (rc = http_query(r, "updated_since", since, sizeof since)) < 0)
        return rc;
    export_query q = {division[0] ? division : NULL, river[0] ? river : NULL, from[0] ? from : NULL,
                      to[0] ? to : NULL, since[0] ? since : NULL};
    if ((rc = export_check(r->store, &r->who, &q, &r->err)) < 0)
        return auth_refused(r, rc, division);
    stream st = {r, 0};
    if (format == EXPORT_GEOJSON)
        stream_start(&st, "application/geo+json", "outfalls.geojson");
    else if (format == EXPORT_CSV)
        stream_start(&st, "text/csv; charset=utf-8", "outfalls.csv");
    else
        stream_start(&st, "application/x-tar", "photos.tar");
    if (strcmp(r->method, "HEAD") == 0) return 0; /* the head only */
    long long count = 0;
    sync_error err = {0};
    if (format == PHOTOS_TAR) {
        photos_env env = {r->cfg->photos_dir, r->cfg->uploads_dir, r->cfg->max_photo_bytes,
                          &r->cfg->sync};
        env.store = r->cfg->photos;
        rc = archive_photos(r->store, &env, &r->who, &q, stream_write, &st, &count, &err);
    } else {
        rc = export_outfalls(r->store, &r->who, &q, format, stream_write, &st, &count, &err);
    }
    if (rc == 0 && st.chunked) mg_write(r->conn, "0\r\n\r\n", 5);
    if (rc)
        fprintf(stderr, "export cut short after %lld %s: %s %s\n", count,
                format == PHOTOS_TAR ? "photos" : "outfalls", err.code, err.message);
    return 0; /* answered, whole or cut short: nothing more can be said */
}

int api_exports_geojson(http_req *r) {
    return export_as(r, EXPORT_GEOJSON);
}

int api_exports_csv(http_req *r) {
    return export_as(r, EXPORT_CSV);
}

int api_exports_photos(http_req *r) {
    return export_as(r, PHOTOS_TAR);
}
