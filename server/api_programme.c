/* The programme: POST /v1/programme/transitions, GET /v1/progress (protobuf, JSON or CSV),
 * POST and GET /v1/zones, GET /v1/zones/at, and the streamed exports GET
 * /v1/exports/outfalls.geojson, /v1/exports/outfalls.csv and /v1/exports/photos.tar. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "common/util.h"
#include "server/api.h"
#include "server/auth.h"
#include "programme/archive.h"
#include "programme/export.h"
#include "programme/lifecycle.h"
#include "programme/progress.h"
#include "programme/zones.h"

/* Returns rc, auditing it first when it is a refusal for lack of rights (the engine's reads
 * refuse a division outside the caller's without auditing it). */
static int refused(http_req *r, int rc, const char *division) {
    if (rc == SYNC_EFORBIDDEN) auth_audit_refusal(r, division && division[0] ? division : NULL);
    return rc;
}

/* LifecycleTransition → TransitionResult. */
int api_programme_transition(http_req *r) {
    Outfall__V1__LifecycleTransition *in = NULL;
    Outfall__V1__TransitionResult *out = NULL;
    int rc =
        http_decode(r, &outfall__v1__lifecycle_transition__descriptor, (ProtobufCMessage **)&in);
    if (rc == 0) rc = lifecycle_transition(r->store, &r->cfg->sync, &r->who, in, &out, &r->err);
    if (rc == 0) rc = http_send_message(r, 200, &out->base);
    if (in) protobuf_c_message_free_unpacked(&in->base, NULL);
    if (out) protobuf_c_message_free_unpacked(&out->base, NULL);
    return rc;
}

/* 1 when the answer should be CSV: Accept prefers text/csv, or ?format=csv. Negative on a bad
 * format parameter. */
static int wants(http_req *r, const char *alt, const char *format) {
    char text[16];
    int rc = http_query(r, "format", text, sizeof text);
    if (rc < 0) return rc;
    if (text[0]) {
        if (strcasecmp(text, format) == 0) return 1;
        if (strcasecmp(text, "json") == 0 || strcasecmp(text, "protobuf") == 0) return 0;
        return http_error(r, 400, "invalid_argument", "format must be %s, json or protobuf",
                          format);
    }
    return r->resp_alt && strcmp(r->resp_alt, alt) == 0;
}

/* ?as_of=&division=&river=&format=csv → ProgressReport, or CSV (Accept: text/csv). */
int api_progress_read(http_req *r) {
    char as_of[16], division[16], river[64];
    int rc;
    if ((rc = http_query(r, "as_of", as_of, sizeof as_of)) < 0 ||
        (rc = http_query(r, "division", division, sizeof division)) < 0 ||
        (rc = http_query(r, "river", river, sizeof river)) < 0)
        return rc;
    int csv = wants(r, "text/csv", "csv");
    if (csv < 0) return csv;
    progress_query q = {as_of[0] ? as_of : NULL, division[0] ? division : NULL,
                        river[0] ? river : NULL};
    Outfall__V1__ProgressReport *out = NULL;
    if ((rc = progress_report(r->store, &r->who, &q, util_now_ms(), &out, &r->err)) < 0)
        return refused(r, rc, division);
    if (csv) {
        size_t len = 0;
        char *text = progress_csv(out, &len);
        if (!text)
            rc = http_error(r, 500, "out_of_memory", "out of memory writing the CSV");
        else {
            http_send_head(r, 200, "text/csv; charset=utf-8", len);
            if (strcmp(r->method, "HEAD") != 0) mg_write(r->conn, text, len);
        }
        free(text);
    } else {
        rc = http_send_message(r, 200, &out->base);
    }
    protobuf_c_message_free_unpacked(&out->base, NULL);
    return rc;
}

/* ?year=&division=&format=html|csv → the annual county report, a printable HTML page (the
 * default) or CSV (also by Accept: text/csv). */
int api_reports_annual(http_req *r) {
    char division[16], format[16];
    int64_t year = 0;
    int rc;
    if ((rc = http_query(r, "division", division, sizeof division)) < 0 ||
        (rc = http_query(r, "format", format, sizeof format)) < 0 ||
        (rc = http_query_int64(r, "year", 2023, 2999, &year)) < 0)
        return rc;
    if (!year) return http_error(r, 400, "invalid_argument", "year is required, e.g. year=2024");
    if (!division[0])
        return http_error(r, 400, "invalid_argument",
                          "division is required (a county, or 410800 for the city)");
    int csv = format[0] ? strcasecmp(format, "csv") == 0
                        : r->resp_alt && strcmp(r->resp_alt, "text/csv") == 0;
    if (format[0] && !csv && strcasecmp(format, "html") != 0)
        return http_error(r, 400, "invalid_argument", "format must be html or csv");
    char *text = NULL;
    size_t len = 0;
    rc = progress_annual(r->store, &r->who, (int)year, division,
                         csv ? PROGRESS_ANNUAL_CSV : PROGRESS_ANNUAL_HTML, &text, &len, &r->err);
    if (rc < 0) return refused(r, rc, division);
    http_send_head(r, 200, csv ? "text/csv; charset=utf-8" : "text/html; charset=utf-8", len);
    if (strcmp(r->method, "HEAD") != 0) mg_write(r->conn, text, len);
    free(text);
    return 0;
}

/* A GeoJSON FeatureCollection of zones (application/geo+json or application/json) → ZoneList of
 * what was imported. */
int api_zones_import(http_req *r) {
    const char *ctype = mg_get_header(r->conn, "Content-Type");
    size_t n = ctype ? strcspn(ctype, ";") : 0;
    while (n && ctype[n - 1] == ' ')
        n--;
    if (!ctype || !((n == 20 && strncasecmp(ctype, "application/geo+json", n) == 0) ||
                    (n == 16 && strncasecmp(ctype, "application/json", n) == 0)))
        return http_error(r, 415, "unsupported_media_type",
                          "send the zones as application/geo+json (a FeatureCollection)");
    int rc = http_read_json(r);
    if (rc < 0) return rc;
    Outfall__V1__ZoneList *out = NULL;
    rc = zones_import(r->store, &r->who, (const char *)r->body, r->body_len, &out, &r->err);
    if (rc < 0) return rc;
    rc = http_send_message(r, 200, &out->base);
    protobuf_c_message_free_unpacked(&out->base, NULL);
    return rc;
}

/* ?geometry=1 → ZoneList (with each zone's GeoJSON when asked). */
int api_zones_list(http_req *r) {
    int64_t geometry = 0;
    int rc = http_query_int64(r, "geometry", 0, 1, &geometry);
    if (rc < 0) return rc;
    Outfall__V1__ZoneList *out = NULL;
    if ((rc = zones_list(r->store, (int)geometry, &out, &r->err)) < 0) return rc;
    rc = http_send_message(r, 200, &out->base);
    protobuf_c_message_free_unpacked(&out->base, NULL);
    return rc;
}

/* The query parameter name as a finite number into *out. */
static int query_double(http_req *r, const char *name, double *out) {
    char text[40], *end = NULL;
    int rc = http_query(r, name, text, sizeof text);
    if (rc < 0) return rc;
    errno = 0;
    *out = strtod(text, &end);
    if (!text[0] || errno || *end || !isfinite(*out))
        return http_error(r, 400, "invalid_argument", "%s must be a number (WGS-84 degrees)", name);
    return 0;
}

/* ?lat=&lon= → ZoneList of the zones holding the point (boundary included). */
int api_zones_at(http_req *r) {
    double lat = 0, lon = 0;
    int rc;
    if ((rc = query_double(r, "lat", &lat)) < 0 || (rc = query_double(r, "lon", &lon)) < 0)
        return rc;
    if (lat < -90 || lat > 90 || lon < -180 || lon > 180)
        return http_error(r, 400, "invalid_argument", "lat/lon is not a WGS-84 position");
    Outfall__V1__ZoneList *out = NULL;
    if ((rc = zones_at(r->store, lat, lon, &out, &r->err)) < 0) return rc;
    rc = http_send_message(r, 200, &out->base);
    protobuf_c_message_free_unpacked(&out->base, NULL);
    return rc;
}

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
    if ((rc = export_check(r->store, &r->who, &q, &r->err)) < 0) return refused(r, rc, division);
    stream st = {r, 0};
    if (format == EXPORT_GEOJSON)
        stream_start(&st, "application/geo+json", "outfalls.geojson");
    else if (format == EXPORT_CSV)
        stream_start(&st, "text/csv; charset=utf-8", "outfalls.csv");
    else
        stream_start(&st, "application/x-tar", "photos.tar");
    long long count = 0;
    sync_error err = {0};
    if (format == PHOTOS_TAR) {
        photos_env env = {r->cfg->photos_dir, r->cfg->uploads_dir, r->cfg->max_photo_bytes,
                          &r->cfg->sync};
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
