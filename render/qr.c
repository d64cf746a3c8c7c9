/* QR codes for sign boards (see qr.h). */
#include "render/qr.h"

#include <qrencode.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

qr_code *qr_encode(const char *text) {
    QRcode *raw = text ? QRcode_encodeString(text, 0, QR_ECLEVEL_Q, QR_MODE_8, 1) : NULL;
    qr_code *q = raw ? calloc(1, sizeof *q) : NULL;
    if (q) q->modules = malloc((size_t)raw->width * (size_t)raw->width);
    if (!q || !q->modules) {
        free(q);
        if (raw) QRcode_free(raw);
        return NULL;
    }
    q->version = raw->version;
    q->width = raw->width;
    for (int i = 0; i < raw->width * raw->width; i++)
        q->modules[i] = raw->data[i] & 1; /* bit 0: dark; the others say what the module is */
    QRcode_free(raw);
    return q;
}

void qr_free(qr_code *q) {
    if (!q) return;
    free(q->modules);
    free(q);
}

char *qr_svg(const qr_code *q, size_t *len) {
    char *out = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&out, &n);
    if (!f) return NULL;
    int side = q->width + 2 * QR_QUIET;
    fprintf(f,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" viewBox=\"0 0 %d %d\" "
            "width=\"%d\" height=\"%d\" shape-rendering=\"crispEdges\">\n"
            "<rect width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>\n<path fill=\"#000000\" d=\"",
            side, side, side * QR_PNG_SCALE, side * QR_PNG_SCALE, side, side);
    for (int y = 0; y < q->width; y++)
        for (int x = 0; x < q->width;) {
            if (!q->modules[y * q->width + x]) {
                x++;
                continue;
            }
            int run = 0;
            while (x + run < q->width && q->modules[y * q->width + x + run])
                run++;
            fprintf(f, "M%d %dh%dv1h-%dz", x + QR_QUIET, y + QR_QUIET, run, run);
            x += run;
        }
    fputs("\"/>\n</svg>\n", f);
    if (fclose(f) != 0) {
        free(out);
        return NULL;
    }
    *len = n;
    return out;
}

/* ---- PNG ---- */

static uint32_t crc32_update(uint32_t crc, const uint8_t *p, size_t n) {
    crc = ~crc;
    while (n--) {
        crc ^= *p++;
        for (int k = 0; k < 8; k++)
            crc = crc & 1 ? (crc >> 1) ^ 0xEDB88320u : crc >> 1;
    }
    return ~crc;
}

static uint32_t adler32(const uint8_t *p, size_t n) {
    uint32_t a = 1, b = 0;
    while (n--) {
        a = (a + *p++) % 65521u;
        b = (b + a) % 65521u;
    }
    return b << 16 | a;
}

static uint8_t *put32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
    return p + 4;
}

/* Writes chunk type with data[n] at p (length, type, data, CRC); returns the end. */
static uint8_t *png_chunk(uint8_t *p, const char *type, const uint8_t *data, size_t n) {
    p = put32(p, (uint32_t)n);
    memcpy(p, type, 4);
    if (n) memcpy(p + 4, data, n);
    uint32_t crc = crc32_update(0, p, n + 4);
    return put32(p + 4 + n, crc);
}

enum { STORED_MAX = 65535 }; /* bytes in one stored deflate block */

uint8_t *qr_png(const qr_code *q, size_t *len) {
    size_t px = (size_t)(q->width + 2 * QR_QUIET) * QR_PNG_SCALE, row = 1 + (px + 7) / 8;
    size_t raw_len = row * px, blocks = (raw_len + STORED_MAX - 1) / STORED_MAX;
    size_t zlen = 2 + blocks * 5 + raw_len + 4;
    uint8_t *raw = calloc(1, raw_len), *z = malloc(zlen), *png = malloc(8 + 25 + 12 + zlen + 12);
    if (!raw || !z || !png) {
        free(raw), free(z), free(png);
        return NULL;
    }
    /* Scanlines: filter 0, then 1 bit a pixel, 1 = white. */
    for (size_t y = 0; y < px; y++) {
        uint8_t *line = raw + y * row + 1;
        int my = (int)(y / QR_PNG_SCALE) - QR_QUIET;
        for (size_t x = 0; x < px; x++) {
            int mx = (int)(x / QR_PNG_SCALE) - QR_QUIET;
            int dark = my >= 0 && my < q->width && mx >= 0 && mx < q->width &&
                       q->modules[my * q->width + mx];
            if (!dark) line[x / 8] |= (uint8_t)(0x80u >> (x % 8));
        }
    }
    /* zlib: header, stored blocks, Adler-32 of the data. */
    uint8_t *p = z;
    *p++ = 0x78, *p++ = 0x01;
    for (size_t at = 0; at < raw_len; at += STORED_MAX) {
        size_t n = raw_len - at < STORED_MAX ? raw_len - at : STORED_MAX;
        *p++ = at + n == raw_len; /* BFINAL on the last, BTYPE 00: stored */
        p[0] = (uint8_t)n, p[1] = (uint8_t)(n >> 8);
        p[2] = (uint8_t)~n, p[3] = (uint8_t)(~n >> 8);
        memcpy(p + 4, raw + at, n);
        p += 4 + n;
    }
    put32(p, adler32(raw, raw_len));
    uint8_t ihdr[13];
    put32(ihdr, (uint32_t)px);
    put32(ihdr + 4, (uint32_t)px);
    ihdr[8] = 1;                       /* bit depth */
    ihdr[9] = ihdr[10] = ihdr[11] = 0; /* greyscale, deflate, adaptive filtering */
    ihdr[12] = 0;                      /* no interlace */
    memcpy(png, "\x89PNG\r\n\x1a\n", 8);
    p = png_chunk(png + 8, "IHDR", ihdr, sizeof ihdr);
    p = png_chunk(p, "IDAT", z, zlen);
    p = png_chunk(p, "IEND", NULL, 0);
    *len = (size_t)(p - png);
    free(raw);
    free(z);
    return png;
}
