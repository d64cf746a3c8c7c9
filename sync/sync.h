/* What every part of the engine shares: result codes, the error a caller reports, the acting
 * principal and the engine's configuration. The engine knows nothing of HTTP; the server maps
 * each result code to a status through its own table. */
#ifndef SYNC_SYNC_H
#define SYNC_SYNC_H

#include <stdint.h>

#include "outfall/v1/outfall.pb-c.h"

/* Result codes: 0 or one of these negatives. */
enum {
    SYNC_OK = 0,
    SYNC_EINVALID = -1,   /* the request is malformed or breaks a rule (400) */
    SYNC_EUNAUTH = -2,    /* no valid credentials (401) */
    SYNC_EFORBIDDEN = -3, /* credentials valid, not allowed (403) */
    SYNC_ENOTFOUND = -4,  /* no such thing, or not visible to the caller (404) */
    SYNC_ECONFLICT = -5,  /* clashes with what exists: reused id, stale version (409) */
    SYNC_ETOOBIG = -6,    /* over a size limit (413) */
    SYNC_ELOCKED = -7,    /* too many attempts; try later (429) */
    SYNC_EFULL = -8,      /* the disk is full (507) */
    SYNC_EBUSY = -9,      /* the database stayed locked past the busy timeout (503) */
    SYNC_EINTERNAL = -10, /* a bug or an I/O failure (500) */
};

/* An error for the caller to report: a result code, a stable machine-readable code such as
 * "outside_division", and a sentence for people. */
typedef struct sync_error {
    int rc;
    char code[48];
    char message[256];
} sync_error;

/* Fills err (when not NULL) and returns rc, so a caller can write `return sync_fail(...)`. */
int sync_fail(sync_error *err, int rc, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#define SYNC_CITY_DIVISION "410800"
#define SYNC_MAX_DIVISIONS 16

/* Who is acting: an authenticated user with a role and the divisions they work in. */
typedef struct principal {
    int64_t user_id;
    char username[64];
    int role; /* Outfall__V1__Role */
    int n_divisions;
    char divisions[SYNC_MAX_DIVISIONS][8];
    int must_change_password; /* 1 after an admin's reset: only POST /v1/me/password is served */
} principal;

/* 1 when p may see and (given a role that writes) act on records of division_code: admins,
 * integrators and the province checker see every division, holders of the city division see all,
 * others their own. */
int principal_covers(const principal *p, const char *division_code);

/* 1 when p sees every division. */
int principal_all_divisions(const principal *p);

/* 1 when p is the province checker (省级核查): sees every division, writes nothing but its own
 * checks (draws, and the results of the picks a draw assigned to it). */
int principal_checker(const principal *p);

/* 1 when p reads what supervisors read (the whole record, not the public view): supervisors,
 * admins and the province checker. */
int principal_reads_as_supervisor(const principal *p);

/* The username a public reporter's principal carries (programme/public_report_photos.h, made from a
 * report's upload token): this prefix and the report's tracking number. */
#define PRINCIPAL_REPORT_PREFIX "report:"

/* The tracking number of the public report whose upload token p stands for (borrowed from p),
 * or NULL when p is no reporter: no user, no role, username PRINCIPAL_REPORT_PREFIX + number. */
const char *principal_report_number(const principal *p);

typedef struct sync_config {
    double duplicate_radius_m; /* a new outfall this close to one on the same river is a suspect */
    int64_t held_wait_ms;      /* a batch held behind a gap applies anyway after this long */
    int token_ttl_s;           /* bearer token lifetime */
    int pull_limit_default;    /* feed entries per pull when the caller names none */
    int pull_limit_max;        /* and the most a caller may ask for */
    int max_password_hashes;   /* argon2id hashes allowed to run at once (64 MiB each) */
    int password_hash_minimum; /* tests only: 1 hashes at argon2id's least cost, not 64 MiB */
    int login_max_failures;    /* failed logins of one account from one address: a lock-out */
    int login_acct_failures;   /* of one account from unknown addresses (0: 4 x the above) */
    int login_addr_failures;   /* from one address, any names (0: 10 x login_max_failures) */
    int login_lock_s;          /* the first lock-out's length; each next one doubles */
    int login_lock_max_s;      /* the longest lock-out; a count quiet this long starts again */
    double photo_far_m; /* a photo geotagged farther than this from its observation is flagged */
    int64_t photo_time_span_ms; /* and one taken further than this from the observation's time */
    int backdate_days;   /* a transition dated further back than this before its recording needs a
                          * reason and evidence, and flags the outfall date_backdated */
    int offsite_backups; /* 1: backups go off the machine, sync answers carry durable_seq */
} sync_config;

/* The defaults the server starts from. */
void sync_config_defaults(sync_config *c);

#endif
