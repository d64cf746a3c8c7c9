/* The supervisors' side of public reports (举报): GET /v1/reports and
 * POST /v1/reports/{number}/answer (the public's side is in server/api_public.c). */
#include "server/api.h"
#include "programme/disclosure.h"
#include "sync/outfall_ref.h"

/* GET /v1/reports[?status=RECEIVED|ANSWERED]: the supervisors' queue of reports, in full. */
int api_public_reports_list(http_req *r) {
    char text[32];
    int status = 0;
    int rc = http_query(r, "status", text, sizeof text);
    if (rc < 0) return rc;
    if (text[0] && http_enum_parse(&outfall__v1__report_status__descriptor, "REPORT_STATUS_", text,
                                   &status) < 0)
        return http_error(r, 400, "invalid_argument", "status is RECEIVED or ANSWERED");
    Outfall__V1__PublicReportList *out = NULL;
    rc = disclosure_report_list(r->store, &r->who, status, &out, &r->err);
    if (rc == 0) rc = http_send_message(r, 200, &out->base);
    if (out) protobuf_c_message_free_unpacked(&out->base, NULL);
    return rc;
}

/* POST /v1/reports/{number}/answer: ReportAnswer → the report in full. */
int api_public_reports_answer(http_req *r) {
    Outfall__V1__ReportAnswer *in = NULL;
    Outfall__V1__PublicReport *out = NULL;
    int rc = http_decode(r, &outfall__v1__report_answer__descriptor, (ProtobufCMessage **)&in);
    if (rc == 0) rc = outfall_ref_rewrite(r->store, &in->outfall_id, &r->err); /* or its code */
    if (rc == 0) rc = disclosure_report_answer(r->store, &r->who, r->params[0], in, &out, &r->err);
    if (rc == 0) rc = http_send_message(r, 200, &out->base);
    if (in) protobuf_c_message_free_unpacked(&in->base, NULL);
    if (out) protobuf_c_message_free_unpacked(&out->base, NULL);
    return rc;
}
