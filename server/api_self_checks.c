/* County self-check annual plans (市县自查, programme/self_checks.h): POST and GET
 * /v1/self-check-plans. */
#include "server/api.h"
#include "programme/self_checks.h"
#include "server/auth.h"

/* POST /v1/self-check-plans: SelfCheckPlan → the stored plan with its progress. */
int api_self_checks_record(http_req *r) {
    Outfall__V1__SelfCheckPlan *in = NULL, *out = NULL;
    int rc = http_decode(r, &outfall__v1__self_check_plan__descriptor, (ProtobufCMessage **)&in);
    if (rc == 0) rc = self_checks_record(r->store, &r->who, in, &out, &r->err);
    if (rc == 0) rc = http_send_message(r, 200, &out->base);
    if (in) protobuf_c_message_free_unpacked(&in->base, NULL);
    if (out) protobuf_c_message_free_unpacked(&out->base, NULL);
    return rc;
}

/* GET /v1/self-check-plans?year=&division= → SelfCheckPlanList of the caller's counties. */
int api_self_checks_list(http_req *r) {
    int64_t year = 0;
    char division[16] = "";
    int rc = http_query_int64(r, "year", 2023, 2999, &year);
    if (rc == 0) rc = http_query(r, "division", division, sizeof division);
    if (rc < 0) return rc;
    if (!year) return http_error(r, 400, "invalid_argument", "year is required, e.g. year=2025");
    Outfall__V1__SelfCheckPlanList *out = NULL;
    rc = self_checks_list(r->store, &r->who, (int)year, division[0] ? division : NULL, &out,
                          &r->err);
    if (rc < 0) return auth_refused(r, rc, division);
    rc = http_send_message(r, 200, &out->base);
    protobuf_c_message_free_unpacked(&out->base, NULL);
    return rc;
}
