/* What an image file says about itself: its format by magic bytes (JPEG, PNG, HEIC), whether it
 * is whole, its pixel size, and the EXIF facts a reviewer checks, read with libexif: GPS position
 * and altitude, when it was taken, make and model. Pure functions over bytes in memory. */
#ifndef SYNC_EXIF_H
#define SYNC_EXIF_H

#include <stddef.h>
#include <stdint.h>

/* Results of exif_read. */
enum { EXIF_OK = 0, EXIF_NOT_IMAGE = -1, EXIF_TRUNCATED = -2 };

/* The city's offset from UTC, in minutes: a DateTimeOriginal with no zone and no GPS stamps is
 * taken to be local time here (+08:00). */
#define EXIF_CITY_OFFSET_MIN (8 * 60)

typedef struct exif_facts {
    char media_type[16]; /* "image/jpeg", "image/png" or "image/heic" */
    int width, height;   /* pixels; 0 when unknown */
    int has_gps;         /* lat and lon are valid (WGS-84 degrees, south and west negative) */
    double lat, lon;
    int has_alt; /* alt is valid: metres, below sea level negative */
    double alt;
    int has_time; /* taken_at_ms and time_source are valid */
    int64_t taken_at_ms;
    char time_source[8]; /* "offset" (OffsetTimeOriginal), "gps" (GPS stamps, UTC), "local" */
    char make[64];       /* "" when absent; printable ASCII, other bytes become '?' */
    char model[64];
} exif_facts;

/* The media type of data[len] by its magic bytes (a static string), or NULL when it is none of
 * JPEG (FF D8 FF), PNG (its 8-byte signature) or HEIC (an ISO BMFF `ftyp` box naming heic, heix,
 * mif1 or msf1). */
const char *exif_sniff(const uint8_t *data, size_t len);

/* Reads the facts of the image in data[len] into *out (zeroed first). Returns EXIF_OK;
 * EXIF_NOT_IMAGE when exif_sniff knows no format; EXIF_TRUNCATED when the file ends before its
 * end (a JPEG's FFD9 marker, a PNG's IEND chunk, a HEIC's last box). EXIF that is absent or
 * cannot be parsed leaves those facts absent; it never fails the read. */
int exif_read(const uint8_t *data, size_t len, exif_facts *out);

#endif
