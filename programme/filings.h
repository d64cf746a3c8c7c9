/* The annual county report's filing (四.一): each county files last year's supervision report
 * with the city by 10 January; a supervisor of the county (or an admin) marks it filed here, once
 * per county and year, audited. The console reminds the counties not yet marked from 1 to 10
 * January. */
#ifndef PROGRAMME_FILINGS_H
#define PROGRAMME_FILINGS_H

#include "sync/store.h"

/* Files f's county report for f->year by p: stores exactly what GET /v1/reports/annual renders
 * at that moment, the HTML page and the CSV, as filing 1, with their BLAKE2b-256 in the audit row
 * (reports.filed, target "DIVISION/YEAR"). A repeat answers the latest filing unchanged. With
 * f->corrects = N (the latest filing's number) and a comment it stores a correction, filing N + 1
 * (audited reports.corrected); naming an earlier N answers the filing that corrected it (a
 * retry). Filings are never changed afterwards. Codes: invalid_argument (year outside 2023-2999,
 * the city rather than a county, no such filing to correct), filing_year_not_ended (the year is
 * not over in China Standard Time), comment_required, unknown_division (400); outside_division,
 * forbidden_role (403). *out (with number and hashes) is freed with free_unpacked. */
int filings_mark(store *s, const principal *p, const Outfall__V1__ReportFiling *f,
                 Outfall__V1__ReportFiling **out, sync_error *err);

/* The marks for year of the counties p covers, and those of them not marked. Codes:
 * invalid_argument (400). *out is freed with free_unpacked. */
int filings_list(store *s, const principal *p, int year, Outfall__V1__ReportFilingList **out,
                 sync_error *err);

/* What GET /v1/reports/annual asks for. */
typedef struct filings_report_query {
    int year;
    const char *division; /* a county, or 410800 for the city (never filed) */
    int format;           /* PROGRESS_ANNUAL_CSV or PROGRESS_ANNUAL_HTML */
    int filing;           /* a filing's number; 0: the latest */
    int current;          /* 1: today's figures, with the differences since that filing */
} filings_report_query;

/* The annual report q asks for, as p may see it: for a year filed, the filing's bytes exactly as
 * filed (the latest, or q->filing); with q->current, the report as it stands now followed by the
 * differences since that filing (HTML: a section 六 table of each changed figure, filed and now,
 * and each outfall listed then or now only; CSV: a line "since_filing" naming the filing, then
 * each filed line that no longer holds with section "filed"). Unfiled: the report now. *number is
 * the filing served or compared (0: none). Returns 0 with *out (malloc'd) and *len, or a negative
 * code: progress_annual's, and not_found (404) for a filing that does not exist. */
int filings_annual(store *s, const principal *p, const filings_report_query *q, char **out,
                   size_t *len, int *number, sync_error *err);

#endif
