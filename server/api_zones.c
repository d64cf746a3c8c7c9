/* Protection zones: POST and GET /v1/zones, GET /v1/zones/at. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "server/api.h"
#include "programme/zones.h"

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
