/* Cells of every CSV the server writes (the outfalls export, progress, the annual report): RFC
 * 4180 quoting, and OWASP's advice against CSV (formula) injection. A spreadsheet that opens a CSV
 * runs a cell beginning with '=', '+', '-' or '@' as a formula (and one beginning with a tab or a
 * carriage return, after it trims them): a name such as =HYPERLINK("http://…") typed on a phone
 * would run on the supervisor's computer. csv_text writes such a text with a leading apostrophe,
 * which spreadsheets take as "this is text" and do not show. Numbers the server formats itself
 * (coordinates, counts, negative values) are written as they are, so they stay numbers: only text
 * goes through csv_text. */
#ifndef RENDER_CSV_H
#define RENDER_CSV_H

#include <stddef.h>

/* Takes len bytes of the output. */
typedef void (*csv_put_fn)(void *ctx, const char *data, size_t len);

/* 1 when a spreadsheet would run text as a formula: it begins with '=', '+', '-', '@', a tab
 * (0x09) or a carriage return (0x0D). NULL and "" are not. */
int csv_is_formula(const char *text);

/* Writes text (NULL: an empty cell) as one CSV cell through put: with a leading apostrophe when
 * csv_is_formula(text), and in double quotes (each double quote doubled) when it holds a comma, a
 * double quote, a carriage return or a line feed. UTF-8 passes through unchanged. Writes no
 * separator. */
void csv_text(csv_put_fn put, void *ctx, const char *text);

#endif
