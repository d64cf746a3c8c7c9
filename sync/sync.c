#include "sync/sync.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/util.h"

int sync_fail(sync_error *err, int rc, const char *code, const char *fmt, ...) {
    if (err) {
        err->rc = rc;
        util_strlcpy(err->code, code, sizeof err->code);
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
    }
    return rc;
}

int principal_all_divisions(const principal *p) {
    if (p->role == OUTFALL__V1__ROLE__ROLE_ADMIN || p->role == OUTFALL__V1__ROLE__ROLE_INTEGRATOR ||
        principal_checker(p))
        return 1;
    for (int i = 0; i < p->n_divisions; i++)
        if (strcmp(p->divisions[i], SYNC_CITY_DIVISION) == 0) return 1;
    return 0;
}

int principal_checker(const principal *p) {
    return p->role == OUTFALL__V1__ROLE__ROLE_PROVINCE_CHECKER;
}

int principal_reads_as_supervisor(const principal *p) {
    return p->role == OUTFALL__V1__ROLE__ROLE_SUPERVISOR ||
           p->role == OUTFALL__V1__ROLE__ROLE_ADMIN || principal_checker(p);
}

int principal_covers(const principal *p, const char *division_code) {
    if (principal_all_divisions(p)) return 1;
    for (int i = 0; i < p->n_divisions; i++)
        if (strcmp(p->divisions[i], division_code) == 0) return 1;
    return 0;
}

const char *principal_report_number(const principal *p) {
    size_t n = strlen(PRINCIPAL_REPORT_PREFIX);
    if (p->user_id != 0 || p->role != OUTFALL__V1__ROLE__ROLE_UNSPECIFIED ||
        strncmp(p->username, PRINCIPAL_REPORT_PREFIX, n) != 0)
        return NULL;
    return p->username + n;
}

void sync_config_defaults(sync_config *c) {
    c->duplicate_radius_m = 30.0;
    c->held_wait_ms = 72LL * 3600 * 1000;
    c->token_ttl_s = 12 * 3600;
    c->pull_limit_default = 100;
    c->pull_limit_max = 1000;
    c->max_password_hashes = 2;
    c->password_hash_minimum = 0;
    c->login_max_failures = 5;
    c->login_lock_s = 300;
    c->login_lock_max_s = 86400;
    c->photo_far_m = 100.0;
    c->photo_time_span_ms = 2LL * 3600 * 1000;
    c->backdate_days = 30;
}
