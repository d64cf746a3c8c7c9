/* The progress report (programme/progress.h's ProgressReport) as CSV, for GET /v1/progress with
 * Accept: text/csv or ?format=csv. */
#ifndef RENDER_PROGRESS_CSV_H
#define RENDER_PROGRESS_CSV_H

#include <stddef.h>

#include "outfall/v1/outfall.pb-c.h"

/* The report as CSV (RFC 4180, CRLF lines, UTF-8 with a byte-order mark so spreadsheet programs
 * read the Chinese names): one line per row, the targets flattened into columns; text cells
 * through csv_text (render/csv.h: a formula neutralised), figures bare. Returns a
 * malloc'd text and its length in *len, or NULL when out of memory. */
char *progress_csv(const Outfall__V1__ProgressReport *r, size_t *len);

/* A target's status as the CSVs name it: ON_TRACK, BEHIND, NOT_STARTED ("" for none). */
const char *progress_csv_status_name(int status);

#endif
