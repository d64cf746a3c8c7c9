/* The photo archive's manifest (programme/archive.h: MANIFEST.tsv) and its members' paths as
 * bytes: UTF-8, tab-separated, LF-terminated lines from the plain facts of each photo. Pure. */
#ifndef RENDER_PHOTO_MANIFEST_H
#define RENDER_PHOTO_MANIFEST_H

#include <stddef.h>
#include <stdint.h>

/* The manifest's member name, and the size of photo_manifest_line's buffer (a longer line is cut
 * to PHOTO_MANIFEST_LINE - 1 bytes). */
#define PHOTO_MANIFEST_NAME "MANIFEST.tsv"
enum { PHOTO_MANIFEST_LINE = 1024 };

/* One photo of the archive; strings borrowed, any may be NULL (written empty). */
typedef struct photo_manifest_entry {
    const char *path; /* the member's path in the archive (photo_manifest_path) */
    const char *hash; /* blake2b-256, 64 lowercase hex */
    int64_t size;
    const char *outfall_id, *outfall_code, *observation_id;
    int kind;         /* outfall.v1.PhotoKind */
    int64_t taken_ms; /* EXIF time, ms since the epoch; 0 when unknown */
    int has_gps;
    double lat, lon;
} photo_manifest_entry;

/* The header line (path, blake2b_256, bytes, outfall_id, outfall_code, observation_id, kind,
 * taken_at, gps_lat, gps_lon), LF-terminated; its length in *len. */
const char *photo_manifest_head(size_t *len);

/* The line of e into buf[PHOTO_MANIFEST_LINE], NUL-terminated: its fields in the header's order,
 * the kind by its PhotoKind name, taken_at as YYYY-MM-DDTHH:MM:SS+08:00 (empty when unknown),
 * gps_lat and gps_lon to 7 decimals (empty without a geotag); tabs and line breaks in a value
 * written as spaces. Returns its length. */
size_t photo_manifest_line(const photo_manifest_entry *e, char *buf);

/* The member path of a photo, photos/<outfall id>/<observation id>/<hash>.<jpg|png|heic|bin>
 * (the extension from media_type), into buf (cap bytes, cut to fit). */
void photo_manifest_path(char *buf, size_t cap, const char *outfall_id, const char *observation_id,
                         const char *hash, const char *media_type);

#endif
