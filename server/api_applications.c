/* Applications to set up, change or enlarge an outfall (设置审核): POST /v1/applications,
 * POST /v1/applications/decisions, GET /v1/applications (the list) and GET
 * /v1/applications/{id}, public. */
#include <limits.h>

#include "server/api.h"
#include "server/auth.h"
#include "programme/applications.h"

/* OutfallApplication → ApplicationResult. */
int api_applications_file(http_req *r) {
    Outfall__V1__OutfallApplication *in = NULL;
    Outfall__V1__ApplicationResult *out = NULL;
    int rc =
        http_decode(r, &outfall__v1__outfall_application__descriptor, (ProtobufCMessage **)&in);
    if (rc == 0) rc = applications_file(r->store, &r->who, in, &out, &r->err);
    if (rc == 0) rc = http_send_message(r, 200, &out->base);
    if (in) protobuf_c_message_free_unpacked(&in->base, NULL);
    if (out) protobuf_c_message_free_unpacked(&out->base, NULL);
    return rc;
}

/* ApplicationDecision → ApplicationResult. */
int api_applications_decide(http_req *r) {
    Outfall__V1__ApplicationDecision *in = NULL;
    Outfall__V1__ApplicationResult *out = NULL;
    int rc =
        http_decode(r, &outfall__v1__application_decision__descriptor, (ProtobufCMessage **)&in);
    if (rc == 0) rc = applications_decide(r->store, &r->who, in, &out, &r->err);
    if (rc == 0) rc = http_send_message(r, 200, &out->base);
    if (in) protobuf_c_message_free_unpacked(&in->base, NULL);
    if (out) protobuf_c_message_free_unpacked(&out->base, NULL);
    return rc;
}

/* → OutfallApplication, the public view (no token needed, none looked at). */
int api_applications_read(http_req *r) {
    Outfall__V1__OutfallApplication *out = NULL;
    int rc = applications_read(r->store, r->params[0], 1, &out, &r->err);
    if (rc == 0) rc = http_send_message(r, 200, &out->base);
    if (out) protobuf_c_message_free_unpacked(&out->base, NULL);
    return rc;
}

/* ?status=&division=&limit=&page_token= → ApplicationList of the caller's divisions; whole for
 * supervisors and admins, the public view for everyone else. */
int api_applications_list(http_req *r) {
    char status[48], division[16], token[128];
    int64_t limit = 0;
    int rc;
    if ((rc = http_query(r, "status", status, sizeof status)) < 0 ||
        (rc = http_query(r, "division", division, sizeof division)) < 0 ||
        (rc = http_query(r, "page_token", token, sizeof token)) < 0 ||
        (rc = http_query_int64(r, "limit", 0, INT_MAX, &limit)) < 0)
        return rc;
    application_query q = {.division_code = division[0] ? division : NULL,
                           .limit = (int)limit,
                           .page_token = token[0] ? token : NULL};
    if (status[0] && (http_enum_parse(&outfall__v1__application_status__descriptor,
                                      "APPLICATION_STATUS_", status, &q.status) < 0 ||
                      q.status == 0))
        return http_error(r, 400, "invalid_argument",
                          "status must be RECEIVED, UNDER_REVIEW, APPROVED, REFUSED or a number");
    q.public_view = !principal_reads_as_supervisor(&r->who);
    Outfall__V1__ApplicationList *out = NULL;
    if ((rc = applications_list(r->store, &r->who, &q, &out, &r->err)) < 0) {
        if (rc == SYNC_EFORBIDDEN) auth_audit_refusal(r, division);
        return rc;
    }
    rc = http_send_message(r, 200, &out->base);
    protobuf_c_message_free_unpacked(&out->base, NULL);
    return rc;
}
