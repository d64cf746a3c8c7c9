/* Protection zones (饮用水水源保护区, 自然保护地, other special areas, 二.二.2): imported by admins
 * as GeoJSON, asked which of them hold a point. The geometry and its exact test are in sync/geo.c.
 */
#ifndef PROGRAMME_ZONES_H
#define PROGRAMME_ZONES_H

#include <stddef.h>

#include "sync/store.h"

/* Imports the zones of a GeoJSON text (len bytes): a FeatureCollection, or one Feature, whose
 * features carry a Polygon or MultiPolygon geometry and properties "name" and "kind"
 * ("drinking_water", "nature_reserve", "other_special", or the ZoneKind name) and an id (the
 * feature's "id" or properties.id; 1-64 characters of [A-Za-z0-9._-]). A zone whose id exists is
 * replaced. All or nothing, in one transaction, audited. Admins only. *out (may be NULL) lists
 * the imported zones without their geometry; freed with free_unpacked. Codes: forbidden_role
 * (403), invalid_geojson, invalid_zone (400, naming the feature). */
int zones_import(store *s, const principal *p, const char *text, size_t len,
                 Outfall__V1__ZoneList **out, sync_error *err);

/* Every zone, ordered by id; with_geometry adds each one's GeoJSON text. */
int zones_list(store *s, int with_geometry, Outfall__V1__ZoneList **out, sync_error *err);

/* The zones holding the point (lat, lon), boundary included, ordered by id (no geometry). */
int zones_at(store *s, double lat, double lon, Outfall__V1__ZoneList **out, sync_error *err);

#endif
