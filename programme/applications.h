/* Applications to set up, change or enlarge an outfall (设置审核, 三.一.1–三.一.3): a supervisor
 * records a unit's filing, the engine names the authority that must decide it and refuses what
 * 三.一.1 forbids, and supervisors record each step of the decision. Every step is one
 * transaction, retry-safe by its client-made id, and audited.
 *
 * The deciding authority (三.一.2), first match wins:
 *   BASIN_BUREAU          a nationally approved EIA, a provincial-boundary buffer zone or an
 *                         inter-provincial dispute: the ecology ministry's bureau of the river's
 *                         basin (黄河流域 / 海河流域);
 *   PROVINCIAL_DEPARTMENT a province-approved EIA or an inter-city dispute: 河南省生态环境厅;
 *   CITY_BUREAU           a city-approved EIA: 焦作市生态环境局;
 *   COUNTY_BUREAU         a county-approved EIA: that county's ecology department.
 * An application whose works touch flood control, water supply, levees or the river's course
 * must also seek the basin's water authority (黄河水利委员会 / 海河水利委员会) or the water
 * bureau's opinion (三.一.3): `consult` says whose.
 *
 * 三.一.1: on a river section that misses its water-quality target, no industrial outfall (HJ
 * 1312 types 1-8) may be set up, changed or enlarged: refused at filing with
 * section_misses_target. A town wastewater treatment plant's (MUNICIPAL_WWTP) is allowed.
 *
 * Statuses: RECEIVED → UNDER_REVIEW → APPROVED | REFUSED; anything else is
 * status_not_allowed (409).
 *
 * Who decides (issue 18): only the authority named. A county bureau's application is decided by
 * a reviewer covering its division, a city bureau's by a city-wide one. The province's and a basin
 * bureau's are decided outside the city: the city records that decision (APPROVED or REFUSED) with
 * its 批复文号, the hash of the document's photo the recorder uploaded, and a comment, and the
 * record says decided_elsewhere; pressing approve or refuse without them is
 * application_decided_elsewhere (409). */
#ifndef PROGRAMME_APPLICATIONS_H
#define PROGRAMME_APPLICATIONS_H

#include <stddef.h>
#include <stdint.h>

#include "sync/store.h"

/* The authority for application a (its eia_level and special cases), the river's basin code
 * ("huanghe", "haihe") and the division's name (for a county bureau). Fills *authority, name,
 * basis (clause and case) and consult ("" when no opinion is needed). Returns 0, or -1 when a
 * names no EIA level and no special case (nothing decides it). */
int applications_authority(const Outfall__V1__OutfallApplication *a, const char *basin_code,
                           const char *division_name, int *authority, char *name, size_t name_cap,
                           char *basis, size_t basis_cap, char *consult, size_t consult_cap);

/* Records the filing a by supervisor (or admin) p covering its division, status RECEIVED. A retry
 * with the same id and content answers its first result with status ALREADY_APPLIED. Codes:
 * invalid_application, invalid_party, credit_code_required, invalid_credit_code,
 * invalid_position, unknown_division, unknown_river, eia_level_required,
 * section_misses_target (400); outside_division, forbidden_role (403); application_id_reused
 * (409). *out is freed with free_unpacked. */
int applications_file(store *s, const principal *p, const Outfall__V1__OutfallApplication *a,
                      Outfall__V1__ApplicationResult **out, sync_error *err);

/* Applies decision d by supervisor (or admin) p, as the authority rules above allow. A retried
 * decision_id answers its first result with status ALREADY_APPLIED. Codes: invalid_decision,
 * comment_required, decision_document_required (400); outside_division, forbidden_role (403);
 * not_found (404); decision_id_reused, status_not_allowed, application_decided_elsewhere (409).
 * *out is freed with free_unpacked. */
int applications_decide(store *s, const principal *p, const Outfall__V1__ApplicationDecision *d,
                        Outfall__V1__ApplicationResult **out, sync_error *err);

/* Application id as anyone may see it (public: without the applicant's contact and phone), or
 * whole. Codes: not_found (404). *out is freed with free_unpacked. */
int applications_read(store *s, const char *id, int public_view,
                      Outfall__V1__OutfallApplication **out, sync_error *err);

/* A page of the applications in the divisions p covers, newest first (by received time). */
typedef struct application_query {
    int status;                /* ApplicationStatus; 0 = any */
    const char *division_code; /* NULL = every division p covers */
    int limit;                 /* 0 = 50; at most 500 */
    const char *page_token;    /* the previous page's next_page_token; NULL for the first */
    int public_view;           /* 1: without the applicant's contact and phone */
} application_query;

/* Lists q's page into *out (freed with free_unpacked); next_page_token is set when more follow.
 * Codes: invalid_argument (a status out of range, a page token not handed out), unknown_division
 * (400); outside_division (403). */
int applications_list(store *s, const principal *p, const application_query *q,
                      Outfall__V1__ApplicationList **out, sync_error *err);

#endif
