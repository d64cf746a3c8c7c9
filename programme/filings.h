/* The annual county report's filing (四.一): each county files last year's supervision report
 * with the city by 10 January; a supervisor of the county (or an admin) marks it filed here, once
 * per county and year, audited. The console reminds the counties not yet marked from 1 to 10
 * January. */
#ifndef PROGRAMME_FILINGS_H
#define PROGRAMME_FILINGS_H

#include "sync/store.h"

/* Marks f's county report for f->year filed by p. A repeat answers the first mark unchanged.
 * Codes: invalid_argument (year outside 2023-2999, or the city rather than a county),
 * unknown_division (400); outside_division, forbidden_role (403). *out is freed with
 * free_unpacked. */
int filings_mark(store *s, const principal *p, const Outfall__V1__ReportFiling *f,
                 Outfall__V1__ReportFiling **out, sync_error *err);

/* The marks for year of the counties p covers, and those of them not marked. Codes:
 * invalid_argument (400). *out is freed with free_unpacked. */
int filings_list(store *s, const principal *p, int year, Outfall__V1__ReportFilingList **out,
                 sync_error *err);

#endif
