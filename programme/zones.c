#include "programme/zones.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "common/util.h"
#include "sync/accounts.h"
#include "sync/geo.h"

#define ZONES_MAX_FEATURES 10000

/* Short names accepted for ZoneKind in a feature's properties. */
static const struct {
    const char *name;
    int kind;
} kind_names[] = {
    {"drinking_water", OUTFALL__V1__ZONE_KIND__ZONE_KIND_DRINKING_WATER},
    {"nature_reserve", OUTFALL__V1__ZONE_KIND__ZONE_KIND_NATURE_RESERVE},
    {"other_special", OUTFALL__V1__ZONE_KIND__ZONE_KIND_OTHER_SPECIAL},
    {"other", OUTFALL__V1__ZONE_KIND__ZONE_KIND_OTHER_SPECIAL},
};

static int parse_kind(const char *text) {
    if (!text) return 0;
    for (size_t i = 0; i < sizeof kind_names / sizeof kind_names[0]; i++)
        if (strcasecmp(text, kind_names[i].name) == 0) return kind_names[i].kind;
    const ProtobufCEnumValue *v =
        protobuf_c_enum_descriptor_get_value_by_name(&outfall__v1__zone_kind__descriptor, text);
    return v ? v->value : 0;
}

static int id_valid(const char *id) {
    size_t n = id ? strlen(id) : 0;
    if (n == 0 || n > 64) return 0;
    for (size_t i = 0; i < n; i++) {
        char c = id[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

static char *text_or_null(sqlite3_stmt *st, int col) {
    const unsigned char *t = sqlite3_column_text(st, col);
    return t ? strdup((const char *)t) : NULL;
}

/* A zone message from a row of ZONE_COLUMNS. */
#define ZONE_COLUMNS                                                                               \
    "z.id, z.name, z.kind, z.polygons, z.holes, z.min_lat, z.max_lat, z.min_lon, z.max_lon, "      \
    "z.imported_at_ms, u.username, z.geometry"

static Outfall__V1__ProtectionZone *zone_from_row(sqlite3_stmt *st, int with_geometry) {
    Outfall__V1__ProtectionZone *z = malloc(sizeof *z);
    if (!z) return NULL;
    outfall__v1__protection_zone__init(z);
    z->id = text_or_null(st, 0);
    z->name = text_or_null(st, 1);
    z->has_kind = z->has_polygons = z->has_holes = 1;
    z->kind = sqlite3_column_int(st, 2);
    z->polygons = sqlite3_column_int(st, 3);
    z->holes = sqlite3_column_int(st, 4);
    z->has_min_lat = z->has_max_lat = z->has_min_lon = z->has_max_lon = 1;
    z->min_lat = sqlite3_column_double(st, 5);
    z->max_lat = sqlite3_column_double(st, 6);
    z->min_lon = sqlite3_column_double(st, 7);
    z->max_lon = sqlite3_column_double(st, 8);
    z->has_imported_at_ms = 1;
    z->imported_at_ms = sqlite3_column_int64(st, 9);
    z->imported_by = text_or_null(st, 10);
    if (with_geometry) z->geometry = text_or_null(st, 11);
    return z;
}

static int list_append(Outfall__V1__ZoneList *l, Outfall__V1__ProtectionZone *z) {
    void *grown = realloc(l->zones, (l->n_zones + 1) * sizeof *l->zones);
    if (!grown || !z) {
        if (grown) l->zones = grown;
        if (z) protobuf_c_message_free_unpacked(&z->base, NULL);
        return -1;
    }
    l->zones = grown;
    l->zones[l->n_zones++] = z;
    return 0;
}

static Outfall__V1__ZoneList *list_new(void) {
    Outfall__V1__ZoneList *l = malloc(sizeof *l);
    if (l) outfall__v1__zone_list__init(l);
    return l;
}

/* Stores one feature (index i, for messages). */
static int import_feature(store *s, const principal *p, json_t *f, size_t i, int64_t now,
                          sync_error *err) {
    json_t *props = json_object_get(f, "properties");
    json_t *geometry = json_object_get(f, "geometry");
    const char *type = json_string_value(json_object_get(f, "type"));
    if (!type || strcmp(type, "Feature") != 0)
        return sync_fail(err, SYNC_EINVALID, "invalid_geojson",
                         "feature %zu: each member of features must be a Feature", i);
    json_t *jid = json_object_get(f, "id");
    if (!json_is_string(jid)) jid = json_object_get(props, "id");
    const char *id = json_string_value(jid);
    const char *name = json_string_value(json_object_get(props, "name"));
    int kind = parse_kind(json_string_value(json_object_get(props, "kind")));
    if (!id_valid(id))
        return sync_fail(err, SYNC_EINVALID, "invalid_zone",
                         "feature %zu: an id of 1-64 characters [A-Za-z0-9._-] is required", i);
    if (!name || !*name || strlen(name) > 200)
        return sync_fail(err, SYNC_EINVALID, "invalid_zone",
                         "zone %s: properties.name (1-200 bytes) is required", id);
    if (!kind)
        return sync_fail(err, SYNC_EINVALID, "invalid_zone",
                         "zone %s: properties.kind must be drinking_water, nature_reserve or "
                         "other_special",
                         id);
    geo_shape shape;
    char why[200];
    if (geo_parse(geometry, &shape, why, sizeof why))
        return sync_fail(err, SYNC_EINVALID, "invalid_geojson", "zone %s: %s", id, why);
    char *text = json_dumps(geometry, JSON_COMPACT | JSON_REAL_PRECISION(17));
    sqlite3_stmt *st = store_stmt(
        s, "INSERT OR REPLACE INTO protection_zones (id, name, kind, geometry, polygons, holes, "
           "min_lat, max_lat, min_lon, max_lon, imported_at_ms, imported_by) "
           "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    int rc;
    if (!text || !st) {
        rc = text ? store_fail(s, SQLITE_ERROR, err)
                  : sync_fail(err, SYNC_EINTERNAL, "out_of_memory", "out of memory");
    } else {
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 3, kind);
        sqlite3_bind_text(st, 4, text, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 5, (int64_t)shape.n_polygons);
        sqlite3_bind_int64(st, 6, (int64_t)shape.n_holes);
        sqlite3_bind_double(st, 7, shape.min_lat);
        sqlite3_bind_double(st, 8, shape.max_lat);
        sqlite3_bind_double(st, 9, shape.min_lon);
        sqlite3_bind_double(st, 10, shape.max_lon);
        sqlite3_bind_int64(st, 11, now);
        sqlite3_bind_int64(st, 12, p->user_id);
        rc = sqlite3_step(st);
        rc = rc == SQLITE_DONE ? 0 : store_fail(s, rc, err);
    }
    free(text);
    geo_free(&shape);
    return rc;
}

/* The zones whose ids are listed in ids (a JSON array), without geometry, into *out. */
static int list_where(store *s, const char *ids_json, int with_geometry,
                      Outfall__V1__ZoneList **out, sync_error *err) {
    *out = list_new();
    if (!*out) return sync_fail(err, SYNC_EINTERNAL, "out_of_memory", "out of memory");
    sqlite3_stmt *st =
        store_stmt(s, "SELECT " ZONE_COLUMNS " FROM protection_zones z "
                      "LEFT JOIN users u ON u.id = z.imported_by "
                      "WHERE ?1 IS NULL OR z.id IN (SELECT value FROM json_each(?1)) "
                      "ORDER BY z.id");
    if (!st) {
        protobuf_c_message_free_unpacked(&(*out)->base, NULL);
        *out = NULL;
        return store_fail(s, SQLITE_ERROR, err);
    }
    sqlite3_bind_text(st, 1, ids_json, -1, SQLITE_STATIC);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        if (list_append(*out, zone_from_row(st, with_geometry))) {
            rc = SQLITE_NOMEM;
            break;
        }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        protobuf_c_message_free_unpacked(&(*out)->base, NULL);
        *out = NULL;
        return rc == SQLITE_NOMEM ? sync_fail(err, SYNC_EINTERNAL, "out_of_memory", "out of memory")
                                  : store_fail(s, rc, err);
    }
    return 0;
}

int zones_import(store *s, const principal *p, const char *text, size_t len,
                 Outfall__V1__ZoneList **out, sync_error *err) {
    if (out) *out = NULL;
    if (p->role != OUTFALL__V1__ROLE__ROLE_ADMIN) {
        sync_fail(err, SYNC_EFORBIDDEN, "forbidden_role", "only admins import protection zones");
        audit_record(s, p, "zones.import", NULL, err->code, err->message);
        return err->rc;
    }
    json_error_t jerr;
    json_t *root = json_loadb(text ? text : "", len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        sync_fail(err, SYNC_EINVALID, "invalid_geojson", "not JSON: %s at line %d", jerr.text,
                  jerr.line);
        audit_record(s, p, "zones.import", NULL, err->code, err->message);
        return err->rc;
    }
    const char *type = json_string_value(json_object_get(root, "type"));
    json_t *features = NULL;
    int rc = 0;
    if (type && strcmp(type, "FeatureCollection") == 0) {
        features = json_incref(json_object_get(root, "features"));
    } else if (type && strcmp(type, "Feature") == 0) {
        features = json_array();
        json_array_append(features, root);
    }
    size_t n = json_array_size(features);
    if (!json_is_array(features) || n == 0)
        rc = sync_fail(err, SYNC_EINVALID, "invalid_geojson",
                       "send a FeatureCollection (or one Feature) of Polygon/MultiPolygon zones");
    else if (n > ZONES_MAX_FEATURES)
        rc = sync_fail(err, SYNC_EINVALID, "invalid_geojson", "at most %d zones per import",
                       ZONES_MAX_FEATURES);
    json_t *ids = json_array();
    if (!rc && (rc = store_begin(s, err)) == 0) {
        int64_t now = util_now_ms();
        for (size_t i = 0; i < n && !rc; i++) {
            json_t *f = json_array_get(features, i);
            rc = import_feature(s, p, f, i, now, err);
            json_t *jid = json_object_get(f, "id");
            if (!json_is_string(jid)) jid = json_object_get(json_object_get(f, "properties"), "id");
            if (!rc) json_array_append(ids, jid);
        }
        char detail[64];
        snprintf(detail, sizeof detail, "%zu zones", n);
        if (!rc) audit_record(s, p, "zones.import", NULL, "ok", detail);
        if (!rc) rc = store_commit(s, err);
        if (rc) store_rollback(s);
    }
    if (rc) audit_record(s, p, "zones.import", NULL, err->code, err->message);
    if (!rc && out) {
        char *ids_text = json_dumps(ids, JSON_COMPACT);
        rc = ids_text ? list_where(s, ids_text, 0, out, err)
                      : sync_fail(err, SYNC_EINTERNAL, "out_of_memory", "out of memory");
        free(ids_text);
    }
    json_decref(ids);
    json_decref(features);
    json_decref(root);
    return rc;
}

int zones_list(store *s, int with_geometry, Outfall__V1__ZoneList **out, sync_error *err) {
    return list_where(s, NULL, with_geometry, out, err);
}

int zones_at(store *s, double lat, double lon, Outfall__V1__ZoneList **out, sync_error *err) {
    *out = NULL;
    json_t *ids = json_array();
    if (!ids) return sync_fail(err, SYNC_EINTERNAL, "out_of_memory", "out of memory");
    sqlite3_stmt *st = store_stmt(s, "SELECT id, geometry FROM protection_zones "
                                     "WHERE ?1 BETWEEN min_lat - 1e-8 AND max_lat + 1e-8 "
                                     "AND ?2 BETWEEN min_lon - 1e-8 AND max_lon + 1e-8 "
                                     "ORDER BY id");
    if (!st) {
        json_decref(ids);
        return store_fail(s, SQLITE_ERROR, err);
    }
    sqlite3_bind_double(st, 1, lat);
    sqlite3_bind_double(st, 2, lon);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        json_t *g = json_loads((const char *)sqlite3_column_text(st, 1), 0, NULL);
        geo_shape shape;
        if (g && geo_parse(g, &shape, NULL, 0) == 0) {
            if (geo_contains(&shape, lat, lon))
                json_array_append_new(ids, json_string((const char *)sqlite3_column_text(st, 0)));
            geo_free(&shape);
        }
        json_decref(g);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        json_decref(ids);
        return store_fail(s, rc, err);
    }
    char *text = json_dumps(ids, JSON_COMPACT);
    json_decref(ids);
    rc = text ? list_where(s, text, 0, out, err)
              : sync_fail(err, SYNC_EINTERNAL, "out_of_memory", "out of memory");
    free(text);
    return rc;
}
