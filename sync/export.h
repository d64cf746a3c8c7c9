/* Exports of the approved inventory for other systems (三.三), streamed in constant memory: rows
 * are read one at a time and written through a callback in chunks of at most EXPORT_CHUNK bytes,
 * so the export of any number of outfalls holds one record and one chunk at a time.
 *
 * What is exported: every outfall of the approved inventory (approved at least once, not merged
 * into another, not rejected) in its approved version, ordered as stored. Filters apply to the
 * current record: division, river, found date (from, to; inclusive) and the day of the last
 * change (updated_since, inclusive), dates in China Standard Time.
 *
 * GeoJSON (RFC 7946): a FeatureCollection of Point features, [lon, lat] WGS-84, the feature's id
 * the outfall's id, the columns below (but lon and lat) as properties, null when absent.
 * CSV (RFC 4180): UTF-8 with a byte-order mark, CRLF lines, one header line, the columns below;
 * lon and lat are WGS-84 decimal degrees. Enums are written by their protobuf names. */
#ifndef SYNC_EXPORT_H
#define SYNC_EXPORT_H

#include <stddef.h>

#include "sync/store.h"

#define EXPORT_CHUNK 65536

enum { EXPORT_GEOJSON = 1, EXPORT_CSV = 2 };

typedef struct export_query {
    const char *division_code; /* NULL: every division p covers */
    const char *river_code;
    const char *from; /* found on or after, YYYY-MM-DD */
    const char *to;   /* found on or before */
    const char *updated_since;
} export_query;

/* Takes len bytes of output; returns 0, or non-zero to stop the export (the reader went away). */
typedef int (*export_write_fn)(void *ctx, const char *data, size_t len);

/* Checks q for p before anything is written. Codes: invalid_argument, unknown_division,
 * unknown_river (400); outside_division (403). */
int export_check(store *s, const principal *p, const export_query *q, sync_error *err);

/* Writes the export in format (EXPORT_GEOJSON or EXPORT_CSV) through write. Returns 0, or a
 * negative code (export_aborted when write stopped it, or a storage error) after which the output
 * is incomplete. *count (may be NULL) gets the number of outfalls written. */
int export_outfalls(store *s, const principal *p, const export_query *q, int format,
                    export_write_fn write, void *ctx, long long *count, sync_error *err);

#endif
