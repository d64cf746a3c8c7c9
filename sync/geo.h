/* Polygons for protection zones: GeoJSON Polygon and MultiPolygon (RFC 7946, [lon, lat] WGS-84,
 * holes allowed) and an exact point-in-polygon test.
 *
 * Exactness: every coordinate is held as an integer count of nanodegrees (1e-9 degree, about
 * 0.1 mm), which is exact for coordinates written with up to nine decimals, and every
 * orientation test is done in 128-bit integers, so no rounding decides a case. The boundary
 * counts as inside: a point on an outer ring's edge or vertex, or on a hole's edge or vertex
 * (which is the zone's boundary too), is in the zone. For a protection zone that is the
 * cautious reading: an outfall on the line is treated as inside. */
#ifndef SYNC_GEO_H
#define SYNC_GEO_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

typedef struct geo_point {
    int64_t x; /* longitude, nanodegrees */
    int64_t y; /* latitude, nanodegrees */
} geo_point;

typedef struct geo_ring {
    size_t n; /* positions, the closing one included (first == last) */
    geo_point *pts;
} geo_ring;

typedef struct geo_polygon {
    size_t n_rings; /* ring 0 is the outer boundary, the rest are holes */
    geo_ring *rings;
} geo_polygon;

typedef struct geo_shape {
    size_t n_polygons;
    geo_polygon *polygons;
    size_t n_holes;
    double min_lat, max_lat, min_lon, max_lon;
} geo_shape;

/* Where a point lies against a shape. */
enum { GEO_OUTSIDE = 0, GEO_INSIDE = 1, GEO_BOUNDARY = 2 };

/* Degrees to nanodegrees, rounded to the nearest. */
int64_t geo_nano(double degrees);

/* Reads a GeoJSON geometry object of type Polygon or MultiPolygon into *out (released with
 * geo_free). Each ring needs at least four positions, the last equal to the first; positions are
 * [lon, lat] or [lon, lat, alt] within [-180, 180] x [-90, 90]. Returns 0, or -1 with a sentence
 * naming what is wrong in why[cap] and *out empty. */
int geo_parse(json_t *geometry, geo_shape *out, char *why, size_t cap);

/* Releases what geo_parse allocated; the shape is empty afterwards. */
void geo_free(geo_shape *s);

/* GEO_INSIDE, GEO_BOUNDARY or GEO_OUTSIDE for the point (lat, lon) against shape. */
int geo_locate(const geo_shape *shape, double lat, double lon);

/* 1 when the point is inside shape or on its boundary, else 0. */
int geo_contains(const geo_shape *shape, double lat, double lon);

#endif
