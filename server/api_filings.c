/* The annual report's filing (四.一): POST /v1/reports/annual/filed and GET /v1/reports/filings. */
#include "server/api.h"
#include "programme/filings.h"

/* ReportFiling (division_code, year) → ReportFiling as marked. */
int api_filings_mark(http_req *r) {
    Outfall__V1__ReportFiling *in = NULL, *out = NULL;
    int rc = http_decode(r, &outfall__v1__report_filing__descriptor, (ProtobufCMessage **)&in);
    if (rc == 0) rc = filings_mark(r->store, &r->who, in, &out, &r->err);
    if (rc == 0) rc = http_send_message(r, 200, &out->base);
    if (in) protobuf_c_message_free_unpacked(&in->base, NULL);
    if (out) protobuf_c_message_free_unpacked(&out->base, NULL);
    return rc;
}

/* ?year= → ReportFilingList of the caller's counties. */
int api_filings_list(http_req *r) {
    int64_t year = 0;
    int rc = http_query_int64(r, "year", 2023, 2999, &year);
    if (rc < 0) return rc;
    if (!year) return http_error(r, 400, "invalid_argument", "year is required, e.g. year=2025");
    Outfall__V1__ReportFilingList *out = NULL;
    if ((rc = filings_list(r->store, &r->who, (int)year, &out, &r->err)) < 0) return rc;
    rc = http_send_message(r, 200, &out->base);
    protobuf_c_message_free_unpacked(&out->base, NULL);
    return rc;
}
