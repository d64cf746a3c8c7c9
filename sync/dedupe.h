/* Duplicate suspects: outfalls of the same river within a radius, found through the R*Tree. */
#ifndef SYNC_DEDUPE_H
#define SYNC_DEDUPE_H

#include <stdint.h>

#include "sync/store.h"

/* Finds the nearest live (not merged) outfall on river_code within radius_m of (lat, lon), other
 * than exclude_id. Returns 1 and fills id_out[37] and *distance_m when there is one, 0 when none,
 * negative on a storage error. */
int dedupe_nearest(store *s, const char *river_code, double lat, double lon, double radius_m,
                   const char *exclude_id, char id_out[37], double *distance_m);

/* Puts outfall `rowid` at (lat, lon) in the spatial index (insert or move). */
int dedupe_index(store *s, int64_t rowid, double lat, double lon, sync_error *err);

#endif
