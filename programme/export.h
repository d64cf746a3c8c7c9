/* Exports of the approved inventory for other systems (三.三), streamed in constant memory: rows
 * are read one at a time and written through a callback in chunks of at most EXPORT_CHUNK bytes,
 * so the export of any number of outfalls holds one record and one chunk at a time.
 *
 * What is exported: every outfall of the approved inventory (approved at least once, not merged
 * into another, not rejected) in its approved version, ordered as stored. Filters apply to the
 * approved version (what a supervisor approved, not edits waiting for review since): division,
 * river, found date (from, to; inclusive); and to the record's last change (updated_since: its
 * day, inclusive). Dates in China Standard Time. export_walk is that selection, shared with the
 * progress figures (programme/progress.c) and the photo archive (programme/archive.c).
 *
 * GeoJSON (RFC 7946): a FeatureCollection of Point features, [lon, lat] WGS-84, the feature's id
 * the outfall's id, the columns below (but lon and lat) as properties, null when absent.
 * CSV (RFC 4180): UTF-8 with a byte-order mark, CRLF lines, one header line, the columns below;
 * lon and lat are WGS-84 decimal degrees. Column and property names are the contract's field
 * paths (Outfall's, flattened with dots: responsible_party.name; OutfallExportExtras'). Enums are
 * written by their protobuf names, each followed by a PATH_label column with its Chinese label
 * (render/enum_labels.h), as division_code and river_code by their names. Text
 * cells go through csv_text (render/csv.h): one a spreadsheet would run as a formula gets a leading
 * apostrophe; numbers are written bare. */
#ifndef PROGRAMME_EXPORT_H
#define PROGRAMME_EXPORT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

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

/* One outfall of the selection, as export_walk hands it over; everything borrowed for the call. */
typedef struct export_row {
    const char *id;
    json_t *doc;               /* the approved version (proto field names) */
    const char *division_code; /* of the approved version */
    const char *river_code;    /* of the approved version; may be NULL */
    const char *found_on;      /* programme.found_on, else the day the record was made */
    int64_t version;           /* the approved version */
    int64_t updated_ms;        /* the record's last change */
} export_row;

/* Takes one row; returns 0 to go on, anything else to stop the walk (which returns it). */
typedef int (*export_row_fn)(void *ctx, const export_row *row);

/* Hands fn every outfall of the approved inventory that p may see and q selects, in stored
 * order. Does not check q (see export_check). Returns 0 when every row was handed over, fn's
 * non-zero answer when it stopped the walk, or a negative storage error. */
int export_walk(store *s, const principal *p, const export_query *q, export_row_fn fn, void *ctx,
                sync_error *err);

/* Takes len bytes of output; returns 0, or non-zero to stop the export (the reader went away). */
typedef int (*export_write_fn)(void *ctx, const char *data, size_t len);

/* The output of a streamed export: a chunk of EXPORT_CHUNK bytes (buf, malloc'd by the caller)
 * filled and handed to write when full. stopped is set once write asked to stop; then nothing
 * more is written. */
typedef struct export_out {
    char *buf;
    size_t len;
    export_write_fn write;
    void *ctx;
    int stopped;
} export_out;

/* Appends n bytes, handing each full chunk to the writer. */
void export_put(export_out *o, const void *data, size_t n);

/* export_put for a callback taking (ctx, data, len): ctx is the export_out (the renderers'
 * writer, render/outfalls_export.h and render/tar.h). */
void export_put_bytes(void *ctx, const char *data, size_t len);

/* Hands what is buffered to the writer. */
void export_flush(export_out *o);

/* Checks q for p before anything is written. Codes: invalid_argument, invalid_date_range (to
 * before from), unknown_division, unknown_river (400); outside_division (403). */
int export_check(store *s, const principal *p, const export_query *q, sync_error *err);

/* Writes the export in format (EXPORT_GEOJSON or EXPORT_CSV) through write. Returns 0, or a
 * negative code (export_aborted when write stopped it, or a storage error) after which the output
 * is incomplete. *count (may be NULL) gets the number of outfalls written. */
int export_outfalls(store *s, const principal *p, const export_query *q, int format,
                    export_write_fn write, void *ctx, long long *count, sync_error *err);

#endif
