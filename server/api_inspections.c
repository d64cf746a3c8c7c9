/* Random inspections (programme/draws.h): POST and GET /v1/inspections/draws and
 * GET /v1/inspections/tasks (a draw's public page is in server/api_public.c). */
#include "server/api.h"

#include <limits.h>

#include "programme/draws.h"
#include "programme/inspection_results.h"

/* POST /v1/inspections/draws: InspectionDrawRequest → the stored draw (a retried draw_id
 * answers the stored one). */
int api_inspections_draw(http_req *r) {
    Outfall__V1__InspectionDrawRequest *in = NULL;
    Outfall__V1__InspectionDraw *out = NULL;
    int rc =
        http_decode(r, &outfall__v1__inspection_draw_request__descriptor, (ProtobufCMessage **)&in);
    if (rc == 0) rc = draws_create(r->store, &r->who, in, &out, &r->err);
    if (rc == 0) rc = http_send_message(r, 200, &out->base);
    if (in) protobuf_c_message_free_unpacked(&in->base, NULL);
    if (out) protobuf_c_message_free_unpacked(&out->base, NULL);
    return rc;
}

/* GET /v1/inspections/tasks: the caller's picks of the stored draws → InspectionTaskList. */
int api_inspections_tasks(http_req *r) {
    Outfall__V1__InspectionTaskList *out = NULL;
    int rc = inspection_results_tasks(r->store, &r->who, &out, &r->err);
    if (rc == 0) rc = http_send_message(r, 200, &out->base);
    if (out) protobuf_c_message_free_unpacked(&out->base, NULL);
    return rc;
}

/* GET /v1/inspections/draws?limit=&page_token=: the draws the caller may see, newest first →
 * InspectionDrawList. */
int api_inspections_draws_list(http_req *r) {
    Outfall__V1__InspectionDrawList *out = NULL;
    char token[80] = "";
    int64_t limit = 0;
    int rc = http_query(r, "page_token", token, sizeof token);
    if (rc >= 0) rc = http_query_int64(r, "limit", 0, INT_MAX, &limit);
    if (rc >= 0) rc = draws_list(r->store, &r->who, (int)limit, token, &out, &r->err);
    if (rc == 0) rc = http_send_message(r, 200, &out->base);
    if (out) protobuf_c_message_free_unpacked(&out->base, NULL);
    return rc;
}
