/* Progress against the programme's deadlines: GET /v1/progress (protobuf, JSON or CSV) and the
 * annual county report GET /v1/reports/annual (HTML or CSV). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/util.h"
#include "server/api.h"
#include "server/auth.h"
#include "programme/filings.h"
#include "programme/progress.h"
#include "render/progress_csv.h"

/* 1 when the answer should be CSV: Accept prefers text/csv, or ?format=csv. Negative on a bad
 * format parameter. */
static int wants(http_req *r, const char *alt, const char *format) {
    char text[16];
    int rc = http_query(r, "format", text, sizeof text);
    if (rc < 0) return rc;
    if (text[0]) {
        if (strcasecmp(text, format) == 0) return 1;
        if (strcasecmp(text, "json") == 0 || strcasecmp(text, "protobuf") == 0) return 0;
        return http_error(r, 400, "invalid_argument", "format must be %s, json or protobuf",
                          format);
    }
    return r->resp_alt && strcmp(r->resp_alt, alt) == 0;
}

/* ?as_of=&division=&river=&format=csv → ProgressReport, or CSV (Accept: text/csv). */
int api_progress_read(http_req *r) {
    char as_of[16], division[16], river[64];
    int rc;
    if ((rc = http_query(r, "as_of", as_of, sizeof as_of)) < 0 ||
        (rc = http_query(r, "division", division, sizeof division)) < 0 ||
        (rc = http_query(r, "river", river, sizeof river)) < 0)
        return rc;
    int csv = wants(r, "text/csv", "csv");
    if (csv < 0) return csv;
    progress_query q = {as_of[0] ? as_of : NULL, division[0] ? division : NULL,
                        river[0] ? river : NULL};
    Outfall__V1__ProgressReport *out = NULL;
    if ((rc = progress_report(r->store, &r->who, &q, util_now_ms(), &out, &r->err)) < 0)
        return auth_refused(r, rc, division);
    if (csv) {
        size_t len = 0;
        char *text = progress_csv(out, &len);
        if (!text)
            rc = http_error(r, 500, "out_of_memory", "out of memory writing the CSV");
        else {
            http_send_head(r, 200, "text/csv; charset=utf-8", len);
            if (strcmp(r->method, "HEAD") != 0) mg_write(r->conn, text, len);
        }
        free(text);
    } else {
        rc = http_send_message(r, 200, &out->base);
    }
    protobuf_c_message_free_unpacked(&out->base, NULL);
    return rc;
}

/* ?year=&division=&format=html|csv&filing=&current= → the annual county report, a printable HTML
 * page (the default) or CSV (also by Accept: text/csv): for a filed year the bytes filed (the
 * latest filing, or ?filing=N), with ?current=1 today's report and the differences since
 * (programme/filings.h). */
int api_progress_annual(http_req *r) {
    char division[16], format[16];
    int64_t year = 0, filing = 0, current = 0;
    int rc;
    if ((rc = http_query(r, "division", division, sizeof division)) < 0 ||
        (rc = http_query(r, "format", format, sizeof format)) < 0 ||
        (rc = http_query_int64(r, "year", 2023, 2999, &year)) < 0 ||
        (rc = http_query_int64(r, "filing", 1, 1000000, &filing)) < 0 ||
        (rc = http_query_int64(r, "current", 0, 1, &current)) < 0)
        return rc;
    if (!year) return http_error(r, 400, "invalid_argument", "year is required, e.g. year=2024");
    if (!division[0])
        return http_error(r, 400, "invalid_argument",
                          "division is required (a county, or 410800 for the city)");
    int csv = format[0] ? strcasecmp(format, "csv") == 0
                        : r->resp_alt && strcmp(r->resp_alt, "text/csv") == 0;
    if (format[0] && !csv && strcasecmp(format, "html") != 0)
        return http_error(r, 400, "invalid_argument", "format must be html or csv");
    char *text = NULL;
    size_t len = 0;
    int number = 0;
    filings_report_query q = {(int)year, division, csv ? PROGRESS_ANNUAL_CSV : PROGRESS_ANNUAL_HTML,
                              (int)filing, (int)current};
    rc = filings_annual(r->store, &r->who, &q, &text, &len, &number, &r->err);
    if (rc < 0) return auth_refused(r, rc, division);
    http_send_head(r, 200, csv ? "text/csv; charset=utf-8" : "text/html; charset=utf-8", len);
    if (strcmp(r->method, "HEAD") != 0) mg_write(r->conn, text, len);
    free(text);
    return 0;
}
