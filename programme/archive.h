/* The photo archive for other systems (三.三): the stored photos of the outfalls an export
 * selects, as one POSIX tar (ustar) stream written in constant memory, with a manifest first.
 *
 * Which photos: for every outfall export_walk hands over (the approved inventory in its approved
 * version, filtered by division, river, found dates and updated_since, within the caller's
 * divisions), every photo its observations name that the server stores; one entry per
 * observation naming it. Photos still waiting for their upload are not in the archive.
 *
 * Layout, in this order:
 *   MANIFEST.tsv  UTF-8, tab-separated, LF-terminated: a header line, then one line per photo:
 *                 path, blake2b_256 (64 lowercase hex, as stored), bytes, outfall_id,
 *                 outfall_code, observation_id, kind (PhotoKind name), taken_at (EXIF time as
 *                 YYYY-MM-DDTHH:MM:SS+08:00, empty when unknown), gps_lat, gps_lon (EXIF, WGS-84
 *                 decimal degrees; empty without a geotag). Tabs and line breaks in a value are
 *                 written as spaces.
 *   photos/<outfall id>/<observation id>/<hash>.<jpg|png|heic>   each photo's bytes, in manifest
 *                 order.
 * The selection is read three times (manifest size, manifest, photos) inside one read
 * transaction, so the manifest and the photos agree. Readable by GNU tar, bsdtar and libarchive. */
#ifndef PROGRAMME_ARCHIVE_H
#define PROGRAMME_ARCHIVE_H

#include "programme/export.h"
#include "sync/photos.h"

/* Writes the archive of q's photos for p through write, in chunks of at most EXPORT_CHUNK bytes.
 * Call export_check first. Returns 0, or a negative code after which the output is incomplete:
 * export_aborted (write stopped it), storage_error (a photo's file is missing or shorter than
 * recorded), or a storage error. *count (may be NULL) gets the number of photos written. */
int archive_photos(store *s, const photos_env *env, const principal *p, const export_query *q,
                   export_write_fn write, void *ctx, long long *count, sync_error *err);

#endif
