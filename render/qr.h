/* QR codes for sign boards (二.二.2): a text (the URL of an outfall's public page) encoded with
 * libqrencode, and the symbol drawn as SVG or PNG. The drawings are made here from the module
 * matrix: the SVG as one path of horizontal runs, the PNG as a 1-bit greyscale image whose zlib
 * stream holds stored (uncompressed) deflate blocks, so no image or compression library is
 * needed. Both have the standard quiet zone of 4 modules. Knows nothing of HTTP or the store. */
#ifndef RENDER_QR_H
#define RENDER_QR_H

#include <stddef.h>
#include <stdint.h>

enum {
    QR_QUIET = 4,    /* modules of white around the symbol (ISO/IEC 18004) */
    QR_PNG_SCALE = 8 /* pixels per module in the PNG */
};

/* A QR symbol: width x width modules, modules[y * width + x] is 1 for dark. */
typedef struct qr_code {
    int version; /* 1..40 */
    int width;
    uint8_t *modules;
} qr_code;

/* Encodes text (case kept, 8-bit mode where needed) at error correction level Q (25 % of the
 * symbol may be lost: sign boards stand outdoors). Returns a new code the caller frees with
 * qr_free, or NULL (text too long for a QR code, or no memory). */
qr_code *qr_encode(const char *text);

void qr_free(qr_code *q);

/* The symbol as an SVG document (UTF-8, no script), malloc'd; its length into *len. NULL on no
 * memory. */
char *qr_svg(const qr_code *q, size_t *len);

/* The symbol as a PNG (QR_PNG_SCALE pixels a module), malloc'd; its length into *len. NULL on no
 * memory. */
uint8_t *qr_png(const qr_code *q, size_t *len);

#endif
