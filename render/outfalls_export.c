/* The outfalls export as GeoJSON and CSV (see outfalls_export.h). */
#include "render/outfalls_export.h"

#include <stdio.h>
#include <string.h>

#include "render/csv.h"

typedef outfalls_export_put_fn put_fn;

static void puts_(put_fn put, void *ctx, const char *s) {
    put(ctx, s, strlen(s));
}

/* A JSON string literal: quotes, backslashes and control characters escaped; UTF-8 kept. */
static void put_json_string(put_fn put, void *ctx, const char *s) {
    put(ctx, "\"", 1);
    const char *run = s;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c != '"' && c != '\\' && c >= 0x20) continue;
        put(ctx, run, (size_t)(s - run));
        char esc[8];
        if (c == '"' || c == '\\')
            snprintf(esc, sizeof esc, "\\%c", c);
        else
            snprintf(esc, sizeof esc, "\\u%04x", c);
        puts_(put, ctx, esc);
        run = s + 1;
    }
    put(ctx, run, (size_t)(s - run));
    put(ctx, "\"", 1);
}

void outfalls_export_geojson_head(put_fn put, void *ctx) {
    puts_(put, ctx, "{\"type\":\"FeatureCollection\",\"name\":\"outfalls\",\"features\":[");
}

const char *outfalls_export_coordinate(double v, char *buf, size_t cap) {
    int n = snprintf(buf, cap, "%.7f", v);
    if (n <= 0 || (size_t)n >= cap) return buf;
    char *end = buf + n;
    while (end > buf && end[-1] == '0')
        *--end = '\0';
    if (end > buf && end[-1] == '.') *--end = '\0';
    if (strcmp(buf, "-0") == 0) strcpy(buf, "0");
    return buf;
}

void outfalls_export_geojson_feature(put_fn put, void *ctx, const char *id, double lon, double lat,
                                     const outfalls_export_cell *cells, size_t n, long long index) {
    char lon_text[40], lat_text[40];
    outfalls_export_coordinate(lon, lon_text, sizeof lon_text);
    outfalls_export_coordinate(lat, lat_text, sizeof lat_text);
    puts_(put, ctx, index ? ",\n{\"type\":\"Feature\",\"id\":" : "\n{\"type\":\"Feature\",\"id\":");
    put_json_string(put, ctx, id);
    puts_(put, ctx, ",\"geometry\":{\"type\":\"Point\",\"coordinates\":[");
    puts_(put, ctx, lon_text);
    puts_(put, ctx, ",");
    puts_(put, ctx, lat_text);
    puts_(put, ctx, "]},\"properties\":{");
    int first = 1;
    for (size_t i = 0; i < n; i++) {
        const outfalls_export_cell *c = &cells[i];
        if (strcmp(c->name, "lon") == 0 || strcmp(c->name, "lat") == 0) continue;
        puts_(put, ctx, first ? "\"" : ",\"");
        first = 0;
        puts_(put, ctx, c->name);
        puts_(put, ctx, "\":");
        if (!c->value)
            puts_(put, ctx, "null");
        else if (c->number)
            puts_(put, ctx, c->value);
        else
            put_json_string(put, ctx, c->value);
    }
    puts_(put, ctx, "}}");
}

void outfalls_export_geojson_tail(put_fn put, void *ctx) {
    puts_(put, ctx, "\n]}\n");
}

void outfalls_export_csv_head(put_fn put, void *ctx, const outfalls_export_cell *cells, size_t n) {
    puts_(put, ctx, "\xEF\xBB\xBF");
    for (size_t i = 0; i < n; i++) {
        if (i) put(ctx, ",", 1);
        puts_(put, ctx, cells[i].name);
    }
    put(ctx, "\r\n", 2);
}

void outfalls_export_csv_row(put_fn put, void *ctx, const outfalls_export_cell *cells, size_t n) {
    for (size_t i = 0; i < n; i++) {
        const char *v = cells[i].value;
        if (i) put(ctx, ",", 1);
        if (v && cells[i].number)
            puts_(put, ctx,
                  v); /* formatted by the caller: digits, '-', '.', 'e'; never a formula */
        else if (v)
            csv_text(put, ctx, v);
    }
    put(ctx, "\r\n", 2);
}
