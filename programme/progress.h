/* Progress against the programme's deadlines (一.二): per division, per river and for the whole
 * city, as of a date.
 *
 * What counts: every outfall in the approved inventory (approved at least once, not merged into
 * another, not rejected), in its approved version: its division, river and stage dates are what a
 * supervisor approved, not edits waiting for review (the selection is export_walk's). As of date D
 * an outfall is found when its found date (programme.found_on, else the day its record was created)
 * is on or before D; traced, planned, remediated, closed and retained when the date of that stage
 * is on or before D. A plan is overdue on D when it was made by D, its deadline (or its transition
 * period's end, if later) is before D, and the outfall was not remediated by D; the report lists
 * each (OverduePlan: due day, days overdue), most overdue first. A plan of measure NONE (无需整治)
 * made by D counts in no_remediation_needed, never as remediated. Percentages are of the outfalls
 * found by D (remediated: of those found less no_remediation_needed), to one decimal.
 *
 * Targets (PROGRESS_TARGETS): traced 80 % by 2023-12-31; remediated 30 % by 2023-12-31, 70 % by
 * 2024-12-31, and "basically all" by 2025-12-31, counted as 95 %. Each figure is checked against
 * the target of the next deadline on or after D (the last one once all have passed), pro rata: the
 * expected value runs in a straight line from the previous target (0 % at the programme's start,
 * 2023-01-01) to that target on its deadline, so on a deadline it is the target itself. A figure
 * at or above its expected value is ON_TRACK, else BEHIND; with nothing found, NOT_STARTED
 * (未开始: never ON_TRACK). */
#ifndef PROGRAMME_PROGRESS_H
#define PROGRAMME_PROGRESS_H

#include <stddef.h>
#include <stdint.h>

#include "sync/store.h"

#define PROGRESS_START "2023-01-01"
#define PROGRESS_BASICALLY_ALL_PCT 95.0

typedef struct progress_query {
    const char *as_of;         /* YYYY-MM-DD; NULL = today in China Standard Time */
    const char *division_code; /* NULL = every division p covers */
    const char *river_code;    /* NULL = every river */
} progress_query;

/* The report for q as p sees it: the city (or the caller's divisions) first, then each county
 * division, then each river. now_ms gives "today". Codes: invalid_argument, unknown_division,
 * unknown_river (400); outside_division (403). *out is freed with free_unpacked. */
int progress_report(store *s, const principal *p, const progress_query *q, int64_t now_ms,
                    Outfall__V1__ProgressReport **out, sync_error *err);

/* The annual report a county files by 10 January (四.一) for `year` (2023-2999) and division (a
 * county, or 410800 for the whole city), as PROGRESS_ANNUAL_CSV or PROGRESS_ANNUAL_HTML (a
 * printable page). It holds the year's figures (found, traced, planned, remediated by measure,
 * closed, retained during the year), the standing at 31 December against the targets, the
 * outfalls closed during the year and the list of retained outfalls at its end, all from the
 * approved versions; the year's random inspections (the picks of the draws made during the year
 * whose outfall lies in the division, the results sent for them and those approved) and public
 * reports (received during the year, in all and by kind; answered during the year).
 * CSV columns: section (summary, closed, retained), code, name, river, measure, date, party,
 * credit_code, value; a summary line names its figure in `name` and gives it in `value`. Text
 * cells go through csv_text (render/csv.h), so a name such as "=HYPERLINK(…)" is written
 * "'=HYP…". Returns 0 with *out (malloc'd) and *len, or a negative code: invalid_argument,
 * unknown_division (400), outside_division (403). */
enum { PROGRESS_ANNUAL_CSV = 1, PROGRESS_ANNUAL_HTML = 2 };
int progress_annual(store *s, const principal *p, int year, const char *division, int format,
                    char **out, size_t *len, sync_error *err);

#endif
