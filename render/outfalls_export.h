/* The outfalls export (programme/export.h) as bytes: GeoJSON (RFC 7946) features and CSV (RFC
 * 4180) rows from cells the programme has read, written through a callback piece by piece so an
 * export of any size streams. Pure: no storage; the column names and values come from the caller.
 */
#ifndef RENDER_OUTFALLS_EXPORT_H
#define RENDER_OUTFALLS_EXPORT_H

#include <stddef.h>

/* Takes len bytes of the output. */
typedef void (*outfalls_export_put_fn)(void *ctx, const char *data, size_t len);

/* One column of a row: its name, its value as text (NULL: absent), and whether that text is a
 * number the caller formatted (written bare in JSON and CSV; text goes quoted). */
typedef struct outfalls_export_cell {
    const char *name;
    const char *value;
    int number;
} outfalls_export_cell;

/* The GeoJSON's opening: a FeatureCollection named "outfalls" up to its features. */
void outfalls_export_geojson_head(outfalls_export_put_fn put, void *ctx);

/* A WGS-84 coordinate as the exports write it: at most 7 decimals (about a centimetre), trailing
 * zeros dropped (112.96, not 112.95999999999999), into buf[cap]; returns buf. */
const char *outfalls_export_coordinate(double v, char *buf, size_t cap);

/* One Point feature: id (a JSON string), [lon, lat] as outfalls_export_coordinate writes them,
 * and every cell but those named lon and lat as a property (null when absent, bare when a number,
 * else a JSON string: quotes, backslashes and control characters escaped, UTF-8 kept). index 0 is
 * the first feature (no comma before it). */
void outfalls_export_geojson_feature(outfalls_export_put_fn put, void *ctx, const char *id,
                                     double lon, double lat, const outfalls_export_cell *cells,
                                     size_t n, long long index);

/* The GeoJSON's closing, after the last feature. */
void outfalls_export_geojson_tail(outfalls_export_put_fn put, void *ctx);

/* The CSV's opening: a UTF-8 byte-order mark and the header line of the cells' names. */
void outfalls_export_csv_head(outfalls_export_put_fn put, void *ctx,
                              const outfalls_export_cell *cells, size_t n);

/* One CSV line (CRLF) of the cells' values: numbers bare, text through csv_text (render/csv.h:
 * quoted as needed, a formula neutralised), absent values empty. */
void outfalls_export_csv_row(outfalls_export_put_fn put, void *ctx,
                             const outfalls_export_cell *cells, size_t n);

#endif
