/* The photo archive's manifest lines and member paths (see photo_manifest.h). */
#include "render/photo_manifest.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "outfall/v1/outfall.pb-c.h"

static const char manifest_head[] = "path\tblake2b_256\tbytes\toutfall_id\toutfall_code\t"
                                    "observation_id\tkind\ttaken_at\tgps_lat\tgps_lon\n";

const char *photo_manifest_head(size_t *len) {
    *len = sizeof manifest_head - 1;
    return manifest_head;
}

/* A photo's file extension by its media type. */
static const char *extension(const char *media_type) {
    if (!media_type) return "bin";
    if (strcmp(media_type, "image/jpeg") == 0) return "jpg";
    if (strcmp(media_type, "image/png") == 0) return "png";
    if (strcmp(media_type, "image/heic") == 0) return "heic";
    return "bin";
}

static const char *kind_name(int kind) {
    const ProtobufCEnumValue *v =
        protobuf_c_enum_descriptor_get_value(&outfall__v1__photo_kind__descriptor, kind);
    return v ? v->name : "PHOTO_KIND_UNSPECIFIED";
}

/* Appends value to buf[*len..cap) with tabs and line breaks as spaces. */
static void tsv_field(char *buf, size_t cap, size_t *len, const char *value, int last) {
    for (const char *c = value ? value : ""; *c && *len + 2 < cap; c++)
        buf[(*len)++] = (*c == '\t' || *c == '\n' || *c == '\r') ? ' ' : *c;
    if (*len + 1 < cap) buf[(*len)++] = last ? '\n' : '\t';
    buf[*len] = '\0';
}

size_t photo_manifest_line(const photo_manifest_entry *e, char *buf) {
    char bytes[24] = "", taken[40] = "", lat[32] = "", lon[32] = "";
    snprintf(bytes, sizeof bytes, "%lld", (long long)e->size);
    if (e->taken_ms) {
        time_t t = (time_t)(e->taken_ms / 1000) + 8 * 3600;
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(taken, sizeof taken, "%Y-%m-%dT%H:%M:%S+08:00", &tm);
    }
    if (e->has_gps) {
        snprintf(lat, sizeof lat, "%.7f", e->lat);
        snprintf(lon, sizeof lon, "%.7f", e->lon);
    }
    const char *fields[] = {e->path,
                            e->hash,
                            bytes,
                            e->outfall_id,
                            e->outfall_code,
                            e->observation_id,
                            kind_name(e->kind),
                            taken,
                            lat,
                            lon};
    size_t n = sizeof fields / sizeof fields[0], len = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < n; i++)
        tsv_field(buf, PHOTO_MANIFEST_LINE, &len, fields[i], i + 1 == n);
    return len;
}

void photo_manifest_path(char *buf, size_t cap, const char *outfall_id, const char *observation_id,
                         const char *hash, const char *media_type) {
    snprintf(buf, cap, "photos/%s/%s/%s.%s", outfall_id, observation_id, hash,
             extension(media_type));
}
