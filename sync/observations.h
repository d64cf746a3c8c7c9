/* SQL shared by the readers of the observations table. */
#ifndef SYNC_OBSERVATIONS_H
#define SYNC_OBSERVATIONS_H

/* As SQL: the observations (rows of observations under the name obs) of the outfall whose id is
 * the expression outfall, found through the index of the first 8 characters of their outfall's id
 * (observations_outfall8, migration 0033), the whole id compared after. The `+` keeps SQLite from
 * putting outfall for outfall_id in the first term (constant propagation), which leaves it nothing
 * to search the index by; a query that compares outfall_id alone reads every observation. */
#define OBSERVATIONS_OF(obs, outfall)                                                              \
    "substr(" obs ".outfall_id, 1, 8) = substr(" outfall ", 1, 8) AND +" obs                       \
    ".outfall_id = " outfall

#endif
