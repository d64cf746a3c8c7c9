/* The schema, one entry per migrations/NNNN_what.sql, embedded at build time. */
#ifndef SYNC_MIGRATIONS_H
#define SYNC_MIGRATIONS_H

struct migration {
    int version;      /* NNNN */
    const char *name; /* NNNN_what */
    const char *sql;
};

extern const struct migration migrations[];
extern const int migration_count;

#endif
