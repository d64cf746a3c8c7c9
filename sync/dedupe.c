#include "sync/dedupe.h"

#include <math.h>

#include "common/util.h"

#define METRES_PER_DEGREE 111320.0

int dedupe_nearest(store *s, const char *river_code, double lat, double lon, double radius_m,
                   const char *exclude_id, char id_out[37], double *distance_m) {
    /* A box a little larger than the circle: the R*Tree stores 32-bit floats, rounded outwards. */
    double dlat = radius_m / METRES_PER_DEGREE + 1e-5;
    double dlon = radius_m / (METRES_PER_DEGREE * fmax(cos(lat * M_PI / 180.0), 0.01)) + 1e-5;
    sqlite3_stmt *st = store_stmt(
        s, "SELECT o.id, o.lat, o.lon FROM outfall_pos p JOIN outfalls o ON o.rowid = p.id "
           "WHERE p.max_lat >= ? AND p.min_lat <= ? AND p.max_lon >= ? AND p.min_lon <= ? "
           "AND o.river_code = ? AND o.merged_into IS NULL AND o.id <> ?");
    if (!st) return SYNC_EINTERNAL;
    sqlite3_bind_double(st, 1, lat - dlat);
    sqlite3_bind_double(st, 2, lat + dlat);
    sqlite3_bind_double(st, 3, lon - dlon);
    sqlite3_bind_double(st, 4, lon + dlon);
    sqlite3_bind_text(st, 5, river_code, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, exclude_id ? exclude_id : "", -1, SQLITE_STATIC);
    int found = 0, rc;
    double best = radius_m;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        double d =
            util_distance_m(lat, lon, sqlite3_column_double(st, 1), sqlite3_column_double(st, 2));
        if (d <= best) {
            best = d;
            found = 1;
            util_strlcpy(id_out, (const char *)sqlite3_column_text(st, 0), 37);
        }
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) return SYNC_EINTERNAL;
    if (found) *distance_m = best;
    return found;
}

int dedupe_index(store *s, int64_t rowid, double lat, double lon, sync_error *err) {
    sqlite3_stmt *st = store_stmt(s, "INSERT OR REPLACE INTO outfall_pos (id, min_lat, max_lat, "
                                     "min_lon, max_lon) VALUES (?, ?, ?, ?, ?)");
    if (!st) return store_fail(s, SQLITE_ERROR, err);
    sqlite3_bind_int64(st, 1, rowid);
    sqlite3_bind_double(st, 2, lat);
    sqlite3_bind_double(st, 3, lat);
    sqlite3_bind_double(st, 4, lon);
    sqlite3_bind_double(st, 5, lon);
    int rc = sqlite3_step(st);
    return rc == SQLITE_DONE ? 0 : store_fail(s, rc, err);
}
