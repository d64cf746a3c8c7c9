#include "sync/geo.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Enough for a detailed river-side zone; a bound on what one import may allocate. */
#define GEO_MAX_POSITIONS 2000000

typedef __int128 geo_wide;

int64_t geo_nano(double degrees) {
    return (int64_t)llround(degrees * 1e9);
}

static int fail(char *why, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail(char *why, size_t cap, const char *fmt, ...) {
    if (why && cap) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(why, cap, fmt, ap);
        va_end(ap);
    }
    return -1;
}

void geo_free(geo_shape *s) {
    for (size_t i = 0; i < s->n_polygons; i++) {
        for (size_t j = 0; j < s->polygons[i].n_rings; j++)
            free(s->polygons[i].rings[j].pts);
        free(s->polygons[i].rings);
    }
    free(s->polygons);
    memset(s, 0, sizeof *s);
}

/* Reads one ring (an array of positions) into r; *budget counts positions left. */
static int parse_ring(json_t *arr, geo_ring *r, geo_shape *s, size_t *budget, const char *where,
                      char *why, size_t cap) {
    size_t n = json_array_size(arr);
    if (!json_is_array(arr) || n < 4)
        return fail(why, cap, "%s needs at least four positions", where);
    if (n > *budget)
        return fail(why, cap, "%s: the geometry has over %d positions", where, GEO_MAX_POSITIONS);
    *budget -= n;
    r->pts = calloc(n, sizeof *r->pts);
    if (!r->pts) return fail(why, cap, "%s: out of memory", where);
    r->n = n;
    for (size_t i = 0; i < n; i++) {
        json_t *pos = json_array_get(arr, i);
        json_t *x = json_array_get(pos, 0), *y = json_array_get(pos, 1);
        if (!json_is_array(pos) || json_array_size(pos) < 2 || json_array_size(pos) > 3 ||
            !json_is_number(x) || !json_is_number(y))
            return fail(why, cap, "%s position %zu must be [lon, lat]", where, i);
        double lon = json_number_value(x), lat = json_number_value(y);
        if (!isfinite(lon) || !isfinite(lat) || lon < -180 || lon > 180 || lat < -90 || lat > 90)
            return fail(why, cap, "%s position %zu is not a WGS-84 [lon, lat]", where, i);
        r->pts[i].x = geo_nano(lon);
        r->pts[i].y = geo_nano(lat);
        if (lat < s->min_lat) s->min_lat = lat;
        if (lat > s->max_lat) s->max_lat = lat;
        if (lon < s->min_lon) s->min_lon = lon;
        if (lon > s->max_lon) s->max_lon = lon;
    }
    if (r->pts[0].x != r->pts[n - 1].x || r->pts[0].y != r->pts[n - 1].y)
        return fail(why, cap, "%s is not closed: its last position must equal its first", where);
    return 0;
}

/* Reads a Polygon's coordinates (an array of rings) into p. */
static int parse_polygon(json_t *rings, geo_polygon *p, geo_shape *s, size_t *budget, size_t index,
                         char *why, size_t cap) {
    char where[48];
    snprintf(where, sizeof where, "polygon %zu", index);
    size_t n = json_array_size(rings);
    if (!json_is_array(rings) || n == 0)
        return fail(why, cap, "%s needs at least its outer ring", where);
    p->rings = calloc(n, sizeof *p->rings);
    if (!p->rings) return fail(why, cap, "%s: out of memory", where);
    p->n_rings = n;
    for (size_t i = 0; i < n; i++) {
        char ring_where[80];
        snprintf(ring_where, sizeof ring_where, "%s ring %zu", where, i);
        if (parse_ring(json_array_get(rings, i), &p->rings[i], s, budget, ring_where, why, cap))
            return -1;
    }
    s->n_holes += n - 1;
    return 0;
}

int geo_parse(json_t *geometry, geo_shape *out, char *why, size_t cap) {
    memset(out, 0, sizeof *out);
    out->min_lat = out->min_lon = INFINITY;
    out->max_lat = out->max_lon = -INFINITY;
    const char *type = json_string_value(json_object_get(geometry, "type"));
    json_t *coords = json_object_get(geometry, "coordinates");
    int multi = type && strcmp(type, "MultiPolygon") == 0;
    if (!type || (!multi && strcmp(type, "Polygon") != 0))
        return fail(why, cap, "the geometry must be a Polygon or MultiPolygon, not %s",
                    type ? type : "(no type)");
    if (!json_is_array(coords) || json_array_size(coords) == 0)
        return fail(why, cap, "the %s has no coordinates", type);
    size_t n = multi ? json_array_size(coords) : 1, budget = GEO_MAX_POSITIONS;
    out->polygons = calloc(n, sizeof *out->polygons);
    if (!out->polygons) return fail(why, cap, "%s: out of memory", type);
    out->n_polygons = n;
    for (size_t i = 0; i < n; i++) {
        json_t *rings = multi ? json_array_get(coords, i) : coords;
        if (parse_polygon(rings, &out->polygons[i], out, &budget, i, why, cap)) {
            geo_free(out);
            return -1;
        }
    }
    return 0;
}

/* The sign of the cross product (b - a) x (p - a): > 0 when p is left of a->b, 0 on its line. */
static int orient(geo_point a, geo_point b, geo_point p) {
    geo_wide l = (geo_wide)(b.x - a.x) * (geo_wide)(p.y - a.y);
    geo_wide r = (geo_wide)(b.y - a.y) * (geo_wide)(p.x - a.x);
    return (l > r) - (l < r);
}

static int on_segment(geo_point a, geo_point b, geo_point p) {
    if (orient(a, b, p) != 0) return 0;
    return p.x >= (a.x < b.x ? a.x : b.x) && p.x <= (a.x > b.x ? a.x : b.x) &&
           p.y >= (a.y < b.y ? a.y : b.y) && p.y <= (a.y > b.y ? a.y : b.y);
}

/* Crossing number with the half-open rule (an edge counts when exactly one of its ends lies
 * above the point), after a boundary check, all in exact integer arithmetic. */
static int ring_locate(const geo_ring *r, geo_point p) {
    int inside = 0;
    for (size_t i = 0; i + 1 < r->n; i++) {
        geo_point a = r->pts[i], b = r->pts[i + 1];
        if (on_segment(a, b, p)) return GEO_BOUNDARY;
        if ((a.y > p.y) != (b.y > p.y)) {
            /* The edge crosses the point's latitude; count it when the crossing is east of p,
             * i.e. when p is on the left of the edge walked upwards. */
            int o = orient(a, b, p);
            if (b.y > a.y ? o > 0 : o < 0) inside = !inside;
        }
    }
    return inside ? GEO_INSIDE : GEO_OUTSIDE;
}

static int polygon_locate(const geo_polygon *poly, geo_point p) {
    int where = ring_locate(&poly->rings[0], p);
    if (where != GEO_INSIDE) return where;
    for (size_t i = 1; i < poly->n_rings; i++) {
        int hole = ring_locate(&poly->rings[i], p);
        if (hole == GEO_BOUNDARY) return GEO_BOUNDARY;
        if (hole == GEO_INSIDE) return GEO_OUTSIDE;
    }
    return GEO_INSIDE;
}

int geo_locate(const geo_shape *shape, double lat, double lon) {
    if (!isfinite(lat) || !isfinite(lon)) return GEO_OUTSIDE;
    geo_point p = {geo_nano(lon), geo_nano(lat)};
    int best = GEO_OUTSIDE;
    for (size_t i = 0; i < shape->n_polygons; i++) {
        int where = polygon_locate(&shape->polygons[i], p);
        if (where == GEO_INSIDE) return GEO_INSIDE;
        if (where == GEO_BOUNDARY) best = GEO_BOUNDARY;
    }
    return best;
}

int geo_contains(const geo_shape *shape, double lat, double lon) {
    return geo_locate(shape, lat, lon) != GEO_OUTSIDE;
}
