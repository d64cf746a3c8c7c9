/* The annual county report (programme/progress.h's progress_annual) as bytes: a printable HTML
 * page or CSV, from the figures, the standing and the lists the programme has gathered. Pure: no
 * storage, no rules; the same report gives the same bytes. */
#ifndef RENDER_ANNUAL_REPORT_H
#define RENDER_ANNUAL_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "outfall/v1/outfall.pb-c.h"

/* The report's figures of the year, in the order shown. Those before ANNUAL_REPORT_INSPECTED are
 * the year's work (section 一), the others the oversight (section 五). */
enum {
    ANNUAL_REPORT_FOUND,
    ANNUAL_REPORT_TRACED,
    ANNUAL_REPORT_PLANNED,
    ANNUAL_REPORT_REMEDIATED,
    ANNUAL_REPORT_BAN,
    ANNUAL_REPORT_MERGE,
    ANNUAL_REPORT_REGULARIZE,
    ANNUAL_REPORT_NONE,
    ANNUAL_REPORT_CLOSED,
    ANNUAL_REPORT_RETAINED,
    ANNUAL_REPORT_INSPECTED,
    ANNUAL_REPORT_INSPECTION_RESULTS,
    ANNUAL_REPORT_INSPECTION_APPROVED,
    ANNUAL_REPORT_INSPECTIONS_NOT_DONE,
    ANNUAL_REPORT_SELF_CHECK_PLANNED,
    ANNUAL_REPORT_SELF_CHECK_DONE,
    ANNUAL_REPORT_REPORTS_RECEIVED,
    ANNUAL_REPORT_REPORTS_ANSWERED,
    ANNUAL_REPORT_REPORTS_ILLEGAL,
    ANNUAL_REPORT_REPORTS_BORROWED,
    ANNUAL_REPORT_FIGURES
};

/* One line of the closed or retained list: code, name, river, measure, date, party, credit code
 * (each a string, "" when unknown). */
enum { ANNUAL_REPORT_CELLS = 7 };
typedef struct annual_report_line {
    char *cell[ANNUAL_REPORT_CELLS];
} annual_report_line;

/* Everything the report shows; borrowed by the renderers. */
typedef struct annual_report {
    int year;
    const char *division_name; /* "" when unknown */
    const char *from, *to;     /* the year's first and last day, YYYY-MM-DD */
    int64_t fig[ANNUAL_REPORT_FIGURES];
    int64_t found, traced, remediated, closed, retained, overdue; /* at the year's end */
    const Outfall__V1__ProgressRow
        *standing;                         /* at the year's end against the targets; may be NULL */
    const annual_report_line *closed_list; /* closed during the year, in the order shown */
    size_t n_closed;
    const annual_report_line *retained_list; /* retained at the year's end */
    size_t n_retained;
    Outfall__V1__OverduePlan *const *overdue_list; /* plans overdue at the year's end, in order */
    const char *const *overdue_rivers; /* each one's river by name for the page; NULL: codes */
    size_t n_overdue;
} annual_report;

/* The report as CSV (UTF-8 with a byte-order mark, CRLF lines): columns section, code, name,
 * river, measure, date, party, credit_code, value; summary lines (each figure by its key in
 * `name`, its number in `value`; the standing and the targets), then closed, retained and overdue
 * lines. Text cells through csv_text (render/csv.h). Returns a malloc'd text and its length in
 * *len, or NULL when out of memory. */
char *annual_report_csv(const annual_report *r, size_t *len);

/* The report as a printable HTML page (zh-CN, UTF-8, no script): sections 一 to 五, text escaped
 * (render/html.h). Returns a malloc'd text and its length in *len, or NULL when out of memory. */
char *annual_report_html(const annual_report *r, size_t *len);

/* A remediation measure's protobuf name without its REMEDIATION_MEASURE_ prefix ("BAN", ...);
 * NULL gives "". */
const char *annual_report_measure(const char *measure_name);

#endif
