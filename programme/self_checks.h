/* County self-check annual plans (市县自查, the plan's 三.二): what each county will check in a
 * year, and how far it got. A county's supervisor (or an admin; a city supervisor for any county)
 * records the plan: the year, how many outfalls it will check, optionally the outfalls (by code,
 * approved ones of the county) or rivers it names, and a note. One plan per county and year: a
 * later recording replaces it; each is audited. The county, the city and the province checker read
 * them. Done is the county's approved inspection results of the year's draws (the picks of the
 * draws made in the year whose outfall lies in the county, approved by a supervisor), the same
 * figure the annual report shows. */
#ifndef PROGRAMME_SELF_CHECKS_H
#define PROGRAMME_SELF_CHECKS_H

#include "sync/store.h"

enum { SELF_CHECKS_MAX_CODES = 500, SELF_CHECKS_MAX_RIVERS = 50, SELF_CHECKS_MAX_NOTE = 2000 };

/* Supervisor (or admin) p records plan in (division_code a county p covers, year 2023 to next
 * year, planned_count 1..100000, outfall_codes of approved outfalls of that county, known
 * river_codes, a note of at most SELF_CHECKS_MAX_NOTE bytes). *out is the stored plan with its
 * progress (freed with free_unpacked). Codes: invalid_self_check_plan, unknown_division (400);
 * forbidden_role, outside_division (403). Refusals are audited; nothing is stored on failure. */
int self_checks_record(store *s, const principal *p, const Outfall__V1__SelfCheckPlan *in,
                       Outfall__V1__SelfCheckPlan **out, sync_error *err);

/* The plans for year of the counties p covers (division: only that county, NULL: all), each with
 * its progress, and the counties with none. *out is freed with free_unpacked. Codes:
 * invalid_argument, unknown_division (400); outside_division (403). */
int self_checks_list(store *s, const principal *p, int year, const char *division,
                     Outfall__V1__SelfCheckPlanList **out, sync_error *err);

#endif
