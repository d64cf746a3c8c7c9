/* The public page of an approved outfall (二.二.2, the sign board's QR code opens it): HTML in
 * Chinese, every text escaped, no script, for GET /public/outfalls/{code}. */
#ifndef RENDER_PUBLIC_PAGE_H
#define RENDER_PUBLIC_PAGE_H

#include <jansson.h>
#include <stddef.h>

#include "outfall/v1/outfall.pb-c.h"

/* The page for facts (programme/disclosure.h's disclosure_read_outfall object: code, name, type,
 * river, division, responsible_party, supervising_bureau, status, lat, lon,
 * last_inspection_date, last_inspection_result, hotline), malloc'd into *out[*len]; -1 on no
 * memory. */
int public_page_html(json_t *facts, char **out, size_t *len);

/* The reporter's page of a public report (GET /public/reports/{number} asked by a browser): rep as
 * programme/disclosure.h's disclosure_report_read gives it — number, kind and status in Chinese,
 * the times in Beijing time, and once answered the answer and the outfall's code; every text
 * escaped. malloc'd into *out[*len]; -1 on no memory. */
int public_report_html(const Outfall__V1__PublicReport *rep, char **out, size_t *len);

#endif
