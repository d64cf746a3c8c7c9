/* EXIF and image structure (sync/exif.c): the bytes of an uploaded photo through exif_sniff and
 * exif_read, as the photo store reads them once on upload.
 *
 * Oracles besides the sanitizers: exif_read agrees with exif_sniff on what is an image; the facts
 * it reports are the ones its contract promises (a known media type, a position on the globe,
 * finite numbers, printable make and model, sizes not negative), since they go into the
 * database and the reviewer's flags as they are. */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fuzz/lib/fuzz_env.h"
#include "sync/exif.h"

static void check_text(const char *s, size_t cap, const char *what) {
    size_t n = strnlen(s, cap);
    if (n == cap) fz_fail("%s is not terminated", what);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] >= 0x7f)
            fz_fail("%s holds byte 0x%02x", what, (unsigned char)s[i]);
}

static int one_input(const uint8_t *data, size_t size) {
    const char *type = exif_sniff(data, size);
    exif_facts f;
    int rc = exif_read(data, size, &f);
    if (!type) {
        if (rc != EXIF_NOT_IMAGE) fz_fail("exif_read read %d from what exif_sniff refused", rc);
        return 0;
    }
    if (rc != EXIF_OK && rc != EXIF_TRUNCATED) fz_fail("exif_read returned %d", rc);
    if (strcmp(f.media_type, type) != 0)
        fz_fail("media type %.16s, sniffed %s", f.media_type, type);
    if (rc != EXIF_OK) return 0;
    if (f.width < 0 || f.height < 0) fz_fail("size %d x %d", f.width, f.height);
    if (f.has_gps &&
        (!isfinite(f.lat) || !isfinite(f.lon) || fabs(f.lat) > 90 || fabs(f.lon) > 180))
        fz_fail("position %g, %g", f.lat, f.lon);
    if (f.has_alt && !isfinite(f.alt)) fz_fail("altitude %g", f.alt);
    if (f.has_time && strcmp(f.time_source, "offset") != 0 && strcmp(f.time_source, "gps") != 0 &&
        strcmp(f.time_source, "local") != 0)
        fz_fail("time source \"%.8s\"", f.time_source);
    check_text(f.make, sizeof f.make, "make");
    check_text(f.model, sizeof f.model, "model");
    return 0;
}

/* Each input runs on a thread with a CivetWeb worker's stack (fz_on_worker_stack). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    return fz_on_worker_stack(one_input, data, size);
}
