/* Image formats and their EXIF facts. The file's own structure is walked here (JPEG segments,
 * PNG chunks, ISO BMFF boxes) to tell a whole file from a cut one, to find the pixel size and
 * the EXIF block; libexif parses that block. */
#include "sync/exif.h"

#include <libexif/exif-data.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

static const uint8_t png_signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
static const char *const heic_brands[] = {"heic", "heix", "mif1", "msf1"};
static const uint8_t exif_header[6] = {'E', 'x', 'i', 'f', 0, 0};

/* Where a file keeps its EXIF: with the "Exif\0\0" header (JPEG APP1, HEIC item) or as a bare
 * TIFF block (PNG eXIf). Borrowed from the file's bytes. */
typedef struct exif_blob {
    const uint8_t *data;
    size_t len;
    int bare;
} exif_blob;

static uint32_t be32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static unsigned be16(const uint8_t *p) {
    return (unsigned)p[0] << 8 | p[1];
}

/* A pixel count as an int, 0 when it does not fit. */
static int pixels(uint32_t v) {
    return v <= INT_MAX ? (int)v : 0;
}

static int heic_brand(const uint8_t *b) {
    for (size_t i = 0; i < sizeof heic_brands / sizeof heic_brands[0]; i++)
        if (memcmp(b, heic_brands[i], 4) == 0) return 1;
    return 0;
}

const char *exif_sniff(const uint8_t *d, size_t n) {
    if (n >= 3 && d[0] == 0xFF && d[1] == 0xD8 && d[2] == 0xFF) return "image/jpeg";
    if (n >= 8 && memcmp(d, png_signature, 8) == 0) return "image/png";
    if (n >= 16 && memcmp(d + 4, "ftyp", 4) == 0) {
        size_t box = be32(d);
        if (box < 16) return NULL;
        if (box > n) box = n;
        if (heic_brand(d + 8)) return "image/heic";
        for (size_t i = 16; i + 4 <= box; i += 4)
            if (heic_brand(d + i)) return "image/heic";
    }
    return NULL;
}

/* 1 for the start-of-frame markers that carry the image's size (not DHT, JPG or DAC). */
static int jpeg_sof(unsigned m) {
    return m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC;
}

/* Walks a JPEG's segments from SOI to EOI, skipping entropy-coded data, stuffed bytes and
 * restart markers (an FFD9 inside a segment, such as an EXIF thumbnail's, is skipped with it).
 * Notes the first frame's size and the first EXIF APP1. EXIF_TRUNCATED when no EOI comes. */
static int jpeg_walk(const uint8_t *d, size_t n, exif_facts *f, exif_blob *x) {
    size_t i = 2;
    while (i + 1 < n) {
        unsigned m = d[i + 1];
        if (d[i] != 0xFF || m == 0xFF) { /* entropy-coded data or fill bytes */
            i++;
            continue;
        }
        if (m == 0x00 || m == 0x01 || (m >= 0xD0 && m <= 0xD8)) { /* stuffing, TEM, RSTn, SOI */
            i += 2;
            continue;
        }
        if (m == 0xD9) return EXIF_OK;
        if (n - i < 4) return EXIF_TRUNCATED;
        size_t seg = be16(d + i + 2);
        if (seg < 2) { /* not a real marker: keep scanning */
            i += 2;
            continue;
        }
        if (seg > n - i - 2) return EXIF_TRUNCATED;
        const uint8_t *body = d + i + 4;
        size_t len = seg - 2;
        if (jpeg_sof(m) && len >= 5 && !f->width) {
            f->height = (int)be16(body + 1);
            f->width = (int)be16(body + 3);
        } else if (m == 0xE1 && !x->data && len > sizeof exif_header &&
                   memcmp(body, exif_header, sizeof exif_header) == 0) {
            x->data = body;
            x->len = len;
        }
        i += 2 + seg;
    }
    return EXIF_TRUNCATED;
}

/* Walks a PNG's chunks to IEND, noting IHDR's size and an eXIf chunk. */
static int png_walk(const uint8_t *d, size_t n, exif_facts *f, exif_blob *x) {
    size_t i = 8;
    while (n - i >= 12) {
        size_t len = be32(d + i);
        const uint8_t *type = d + i + 4, *body = d + i + 8;
        if (len > n - i - 12) return EXIF_TRUNCATED;
        if (memcmp(type, "IHDR", 4) == 0 && len >= 8) {
            f->width = pixels(be32(body));
            f->height = pixels(be32(body + 4));
        } else if (memcmp(type, "eXIf", 4) == 0 && !x->data) {
            x->data = body;
            x->len = len;
            x->bare = 1;
        } else if (memcmp(type, "IEND", 4) == 0) {
            return EXIF_OK;
        }
        i += 12 + len;
    }
    return EXIF_TRUNCATED;
}

/* Walks an ISO BMFF file's top-level boxes (each must fit in the file). The pixel size is the
 * largest `ispe` property in `meta` (tiles and thumbnails are smaller than the image); the EXIF
 * item is found by its "Exif\0\0" + TIFF header. */
static int heic_walk(const uint8_t *d, size_t n, exif_facts *f, exif_blob *x) {
    static const uint8_t tiff_mm[10] = {'E', 'x', 'i', 'f', 0, 0, 'M', 'M', 0, 0x2a};
    static const uint8_t tiff_ii[10] = {'E', 'x', 'i', 'f', 0, 0, 'I', 'I', 0x2a, 0};
    const uint8_t *meta = NULL;
    size_t meta_len = 0, i = 0;
    while (i < n) {
        if (n - i < 8) return EXIF_TRUNCATED;
        uint64_t size = be32(d + i);
        size_t head = 8;
        if (size == 1) {
            if (n - i < 16) return EXIF_TRUNCATED;
            size = (uint64_t)be32(d + i + 8) << 32 | be32(d + i + 12);
            head = 16;
        } else if (size == 0) {
            size = n - i;
        }
        if (size < head || size > n - i) return EXIF_TRUNCATED;
        if (memcmp(d + i + 4, "meta", 4) == 0 && !meta) {
            meta = d + i + head;
            meta_len = (size_t)size - head;
        }
        i += (size_t)size;
    }
    /* No meta box: no size (and no arithmetic on the NULL pointer, undefined even + 0). */
    for (const uint8_t *p = meta, *end = meta ? meta + meta_len : NULL; p && end - p >= 16;
         p += 4) {
        p = memmem(p, (size_t)(end - p), "ispe", 4);
        if (!p || end - p < 16) break;
        uint32_t w = be32(p + 8), h = be32(p + 12);
        if ((double)w * h > (double)f->width * f->height) {
            f->width = pixels(w);
            f->height = pixels(h);
        }
    }
    const uint8_t *e = memmem(d, n, tiff_mm, sizeof tiff_mm);
    if (!e) e = memmem(d, n, tiff_ii, sizeof tiff_ii);
    if (e) {
        x->data = e;
        x->len = n - (size_t)(e - d);
    }
    return EXIF_OK;
}

/* ---- EXIF values ---- */

static ExifEntry *entry(ExifData *ed, ExifIfd ifd, ExifTag tag) {
    return ed->ifd[ifd] ? exif_content_get_entry(ed->ifd[ifd], tag) : NULL;
}

/* The first n (signed) rationals of e into out. 1 when all are there with non-zero denominators. */
static int rationals(ExifEntry *e, ExifByteOrder bo, double *out, unsigned n) {
    if (!e || !e->data || e->components < n || e->size < 8u * n) return 0;
    for (unsigned i = 0; i < n; i++) {
        if (e->format == EXIF_FORMAT_RATIONAL) {
            ExifRational r = exif_get_rational(e->data + 8 * i, bo);
            if (!r.denominator) return 0;
            out[i] = (double)r.numerator / r.denominator;
        } else if (e->format == EXIF_FORMAT_SRATIONAL) {
            ExifSRational r = exif_get_srational(e->data + 8 * i, bo);
            if (!r.denominator) return 0;
            out[i] = (double)r.numerator / r.denominator;
        } else {
            return 0;
        }
    }
    return 1;
}

/* An ASCII entry into out[cap]: up to its NUL, printable ASCII only (others become '?'),
 * without trailing blanks. "" when absent. */
static void text(ExifEntry *e, char *out, size_t cap) {
    size_t k = 0;
    if (e && e->data && (e->format == EXIF_FORMAT_ASCII || e->format == EXIF_FORMAT_UNDEFINED))
        for (size_t i = 0; i < e->size && e->data[i] && k + 1 < cap; i++)
            out[k++] = e->data[i] >= 0x20 && e->data[i] < 0x7f ? (char)e->data[i] : '?';
    while (k > 0 && out[k - 1] == ' ')
        k--;
    out[k] = '\0';
}

/* An unsigned integer entry (BYTE, SHORT or LONG), or -1. */
static long integer(ExifEntry *e, ExifByteOrder bo) {
    if (!e || !e->data || e->components < 1) return -1;
    if (e->format == EXIF_FORMAT_BYTE && e->size >= 1) return e->data[0];
    if (e->format == EXIF_FORMAT_SHORT && e->size >= 2) return exif_get_short(e->data, bo);
    if (e->format == EXIF_FORMAT_LONG && e->size >= 4) return (long)exif_get_long(e->data, bo);
    return -1;
}

/* Days from 1970-01-01 to a proleptic Gregorian date (H. Hinnant's days_from_civil). */
static int64_t days_from_civil(int y, unsigned m, unsigned d) {
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

/* n decimal digits at s into *out. */
static int digits(const char *s, int n, int *out) {
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return 0;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 1;
}

/* "YYYY:MM:DD" at s (':' or '-' between) into days since the epoch. */
static int parse_date(const char *s, int64_t *days) {
    int y, m, d;
    if (!digits(s, 4, &y) || (s[4] != ':' && s[4] != '-') || !digits(s + 5, 2, &m) ||
        (s[7] != ':' && s[7] != '-') || !digits(s + 8, 2, &d) || y < 1900 || m < 1 || m > 12 ||
        d < 1 || d > 31)
        return 0;
    *days = days_from_civil(y, (unsigned)m, (unsigned)d);
    return 1;
}

/* "YYYY:MM:DD HH:MM:SS" into seconds since the epoch, read as if it were UTC. */
static int parse_datetime(const char *s, int64_t *secs) {
    int64_t days;
    int h, m, sec;
    if (strlen(s) < 19 || !parse_date(s, &days) || (s[10] != ' ' && s[10] != 'T') ||
        !digits(s + 11, 2, &h) || s[13] != ':' || !digits(s + 14, 2, &m) || s[16] != ':' ||
        !digits(s + 17, 2, &sec) || h > 23 || m > 59 || sec > 60)
        return 0;
    *secs = days * 86400 + h * 3600 + m * 60 + sec;
    return 1;
}

/* "+HH:MM" or "-HH:MM" into minutes east of UTC. */
static int parse_offset(const char *s, int *minutes) {
    int h, m;
    if ((s[0] != '+' && s[0] != '-') || !digits(s + 1, 2, &h) || s[3] != ':' ||
        !digits(s + 4, 2, &m) || h > 14 || m > 59)
        return 0;
    *minutes = (s[0] == '-' ? -1 : 1) * (h * 60 + m);
    return 1;
}

/* SubSecTimeOriginal ("5", "12", "123" ...) as milliseconds; 0 when absent or not digits. */
static int subsec_ms(const char *s) {
    int ms = 0, scale = 100;
    for (int i = 0; s[i] >= '0' && s[i] <= '9'; i++, scale /= 10)
        ms += (s[i] - '0') * scale;
    return ms;
}

/* GPS latitude or longitude: degrees, minutes, seconds and a ref whose `negative` letter flips
 * the sign. 1 when valid and within limit degrees. */
static int gps_coord(ExifData *ed, ExifByteOrder bo, ExifTag tag, ExifTag ref, char negative,
                     double limit, double *out) {
    double dms[3];
    char r[4];
    if (!rationals(entry(ed, EXIF_IFD_GPS, tag), bo, dms, 3)) return 0;
    double v = dms[0] + dms[1] / 60.0 + dms[2] / 3600.0;
    if (!isfinite(v) || v < 0 || v > limit) return 0;
    text(entry(ed, EXIF_IFD_GPS, ref), r, sizeof r);
    *out = r[0] == negative ? -v : v;
    return 1;
}

/* When the photo was taken: DateTimeOriginal with OffsetTimeOriginal, else the GPS date and time
 * stamps (UTC), else DateTimeOriginal at the city's offset. */
static void taken_at(ExifData *ed, ExifByteOrder bo, exif_facts *f) {
    char dto[32], off[16], sub[16], gdate[16];
    int64_t secs = 0, days = 0;
    int minutes = 0;
    double hms[3];
    text(entry(ed, EXIF_IFD_EXIF, EXIF_TAG_DATE_TIME_ORIGINAL), dto, sizeof dto);
    text(entry(ed, EXIF_IFD_EXIF, EXIF_TAG_OFFSET_TIME_ORIGINAL), off, sizeof off);
    text(entry(ed, EXIF_IFD_EXIF, EXIF_TAG_SUB_SEC_TIME_ORIGINAL), sub, sizeof sub);
    text(entry(ed, EXIF_IFD_GPS, EXIF_TAG_GPS_DATE_STAMP), gdate, sizeof gdate);
    int has_dto = parse_datetime(dto, &secs);
    if (has_dto && parse_offset(off, &minutes)) {
        f->taken_at_ms = (secs - minutes * 60) * 1000 + subsec_ms(sub);
        util_strlcpy(f->time_source, "offset", sizeof f->time_source);
    } else if (parse_date(gdate, &days) &&
               rationals(entry(ed, EXIF_IFD_GPS, EXIF_TAG_GPS_TIME_STAMP), bo, hms, 3) &&
               hms[0] >= 0 && hms[0] < 24 && hms[1] >= 0 && hms[1] < 60 && hms[2] >= 0 &&
               hms[2] < 61) {
        f->taken_at_ms = days * 86400000 + llround((hms[0] * 3600 + hms[1] * 60 + hms[2]) * 1000);
        util_strlcpy(f->time_source, "gps", sizeof f->time_source);
    } else if (has_dto) {
        f->taken_at_ms = (secs - EXIF_CITY_OFFSET_MIN * 60) * 1000 + subsec_ms(sub);
        util_strlcpy(f->time_source, "local", sizeof f->time_source);
    } else {
        return;
    }
    f->has_time = 1;
}

/* Parses the EXIF block x with libexif into f. A block libexif cannot read adds nothing. */
static void exif_parse(const exif_blob *x, exif_facts *f) {
    uint8_t *copy = NULL;
    const uint8_t *data = x->data;
    size_t len = x->len;
    if (len > UINT_MAX) len = UINT_MAX;
    if (x->bare) { /* libexif wants the "Exif\0\0" header before the TIFF block */
        if (len > UINT_MAX - sizeof exif_header) len = UINT_MAX - sizeof exif_header;
        copy = malloc(len + sizeof exif_header);
        if (!copy) return;
        memcpy(copy, exif_header, sizeof exif_header);
        memcpy(copy + sizeof exif_header, x->data, len);
        data = copy;
        len += sizeof exif_header;
    }
    ExifData *ed = exif_data_new();
    if (!ed) {
        free(copy);
        return;
    }
    /* Read what the file says: no tags made up to "fix" it, none dropped as unknown. */
    exif_data_unset_option(ed, EXIF_DATA_OPTION_FOLLOW_SPECIFICATION);
    exif_data_unset_option(ed, EXIF_DATA_OPTION_IGNORE_UNKNOWN_TAGS);
    exif_data_load_data(ed, data, (unsigned)len);
    ExifByteOrder bo = exif_data_get_byte_order(ed);

    double lat, lon, alt;
    if (gps_coord(ed, bo, EXIF_TAG_GPS_LATITUDE, EXIF_TAG_GPS_LATITUDE_REF, 'S', 90, &lat) &&
        gps_coord(ed, bo, EXIF_TAG_GPS_LONGITUDE, EXIF_TAG_GPS_LONGITUDE_REF, 'W', 180, &lon) &&
        !(lat == 0 && lon == 0)) { /* 0, 0 is what phones write without a fix */
        f->has_gps = 1;
        f->lat = lat;
        f->lon = lon;
    }
    if (rationals(entry(ed, EXIF_IFD_GPS, EXIF_TAG_GPS_ALTITUDE), bo, &alt, 1) && isfinite(alt)) {
        f->has_alt = 1;
        f->alt = integer(entry(ed, EXIF_IFD_GPS, EXIF_TAG_GPS_ALTITUDE_REF), bo) == 1 ? -alt : alt;
    }
    taken_at(ed, bo, f);
    text(entry(ed, EXIF_IFD_0, EXIF_TAG_MAKE), f->make, sizeof f->make);
    text(entry(ed, EXIF_IFD_0, EXIF_TAG_MODEL), f->model, sizeof f->model);
    if (!f->width || !f->height) {
        long w = integer(entry(ed, EXIF_IFD_EXIF, EXIF_TAG_PIXEL_X_DIMENSION), bo);
        long h = integer(entry(ed, EXIF_IFD_EXIF, EXIF_TAG_PIXEL_Y_DIMENSION), bo);
        if (w > 0 && h > 0 && w <= INT_MAX && h <= INT_MAX) {
            f->width = (int)w;
            f->height = (int)h;
        }
    }
    exif_data_unref(ed);
    free(copy);
}

int exif_read(const uint8_t *data, size_t len, exif_facts *out) {
    memset(out, 0, sizeof *out);
    const char *type = exif_sniff(data, len);
    if (!type) return EXIF_NOT_IMAGE;
    util_strlcpy(out->media_type, type, sizeof out->media_type);
    exif_blob x = {0};
    int rc = strcmp(type, "image/jpeg") == 0  ? jpeg_walk(data, len, out, &x)
             : strcmp(type, "image/png") == 0 ? png_walk(data, len, out, &x)
                                              : heic_walk(data, len, out, &x);
    if (rc != EXIF_OK) return rc;
    if (x.data) exif_parse(&x, out);
    return EXIF_OK;
}
