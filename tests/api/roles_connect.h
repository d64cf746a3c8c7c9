/* The Connect methods' calls of the role matrix (tests/api/test_roles.c, issue 21.2): each runs
 * its REST twin's call of tests/api/roles_calls.h with the Connect path in rpc_path, or, where the
 * twin puts its parameters in the path or the query, sends the method's request message itself.
 * A Connect refusal's code is our stable code from its outfall.v1.Error detail. */
#ifndef TESTS_API_ROLES_CONNECT_H
#define TESTS_API_ROLES_CONNECT_H

#include "tests/api/roles_calls.h"

/* Runs twin with its requests sent to the Connect method's path. */
static void via_rpc(ctx *c, outcome *o, const char *path, void (*twin)(ctx *, outcome *)) {
    rpc_path = path;
    twin(c, o);
    rpc_path = NULL;
}

/* POSTs the request message json to the Connect method path; a 2xx is tagged +A / -A when
 * seen_tag, by record A's id in the answer. */
static void rpc_json(ctx *c, outcome *o, const char *path, const char *json, int seen_tag) {
    th_xresult out;
    const char *h[] = {"Content-Type: application/json", NULL};
    rpc_path = path;
    send(c, "POST", path, h, json, strlen(json), o, &out);
    rpc_path = NULL;
    if (seen_tag && o->status == 200) tag_seen(o, strstr((const char *)out.r.body, rec_a) != NULL);
    th_response_free(&out.r);
}

#define RPC_VIA(name, path, twin)                                                                  \
    static void name(ctx *c, outcome *o) {                                                         \
        via_rpc(c, o, path, twin);                                                                 \
    }

RPC_VIA(rpc_login, "/outfall.v1.AccountService/Login", login)
RPC_VIA(rpc_logout, "/outfall.v1.AccountService/Logout", logout)
RPC_VIA(rpc_enroll, "/outfall.v1.AccountService/EnrollDevice", enroll)
RPC_VIA(rpc_user_create, "/outfall.v1.AccountService/CreateUser", user_create)
RPC_VIA(rpc_user_list, "/outfall.v1.AccountService/ListUsers", user_list)
RPC_VIA(rpc_backups_list, "/outfall.v1.AccountService/ListBackups", backups_list)
RPC_VIA(rpc_own_password, "/outfall.v1.AccountService/ChangePassword", own_password)
RPC_VIA(rpc_decide, "/outfall.v1.ReviewService/Decide", decide)
RPC_VIA(rpc_photos_missing, "/outfall.v1.PhotoService/ListMissingPhotos", photos_missing)
RPC_VIA(rpc_transition, "/outfall.v1.ProgrammeService/Transition", transition)
RPC_VIA(rpc_inspection_draw, "/outfall.v1.ProgrammeService/DrawInspections", inspection_draw)
RPC_VIA(rpc_inspection_tasks, "/outfall.v1.ProgrammeService/ListInspectionTasks", inspection_tasks)
RPC_VIA(rpc_self_check_record, "/outfall.v1.ProgrammeService/RecordSelfCheckPlan",
        self_check_record)
RPC_VIA(rpc_application_file, "/outfall.v1.ApplicationService/FileApplication", application_file)
RPC_VIA(rpc_application_decide, "/outfall.v1.ApplicationService/DecideApplication",
        application_decide)

static void rpc_changes(ctx *c, outcome *o) {
    rpc_json(c, o, "/outfall.v1.SyncService/GetChanges", "{\"since\":\"0\",\"limit\":1000}", 1);
}
static void rpc_outfalls(ctx *c, outcome *o) {
    rpc_json(c, o, "/outfall.v1.OutfallService/ListOutfalls",
             "{\"limit\":1000,\"view\":\"latest\"}", 1);
}
static void rpc_queue(ctx *c, outcome *o) {
    rpc_json(c, o, "/outfall.v1.ReviewService/GetReviewQueue", "{\"limit\":500}", 1);
}
static void rpc_application_list(ctx *c, outcome *o) {
    th_xresult out;
    const char *h[] = {"Content-Type: application/json", NULL};
    rpc_path = "/outfall.v1.ApplicationService/ListApplications";
    send(c, "POST", rpc_path, h, "{}", 2, o, &out);
    rpc_path = NULL;
    if (o->status == 200) tag_seen(o, strstr((const char *)out.r.body, c->id) != NULL);
    th_response_free(&out.r);
}
static void rpc_progress(ctx *c, outcome *o) {
    rpc_json(c, o, "/outfall.v1.ProgrammeService/GetProgress", "{\"division\":\"" DIV_A "\"}", 0);
}
static void rpc_self_check_list(ctx *c, outcome *o) {
    char today[11], json[96];
    util_date_of_ms(util_now_ms(), today);
    snprintf(json, sizeof json, "{\"year\":%.4s,\"division\":\"" DIV_A "\"}", today);
    rpc_json(c, o, "/outfall.v1.ProgrammeService/ListSelfCheckPlans", json, 0);
}

/* A request message of one or two string fields (the twin's path segments). */
static void rpc_ids(ctx *c, outcome *o, const char *path, const char *k1, const char *v1,
                    const char *k2, const char *v2) {
    char json[300];
    if (k2)
        snprintf(json, sizeof json, "{\"%s\":\"%s\",\"%s\":\"%s\"}", k1, v1, k2, v2);
    else
        snprintf(json, sizeof json, "{\"%s\":\"%s\"}", k1, v1);
    rpc_json(c, o, path, json, 0);
}
static void rpc_outfall(ctx *c, outcome *o) {
    rpc_ids(c, o, "/outfall.v1.OutfallService/GetOutfall", "id", rec_a, "view", "latest");
}
static void rpc_history(ctx *c, outcome *o) {
    rpc_ids(c, o, "/outfall.v1.OutfallService/GetOutfallHistory", "id", rec_a, NULL, NULL);
}
static void rpc_observation(ctx *c, outcome *o) {
    rpc_ids(c, o, "/outfall.v1.OutfallService/GetObservation", "id", obs_u, NULL, NULL);
}
static void rpc_application_read(ctx *c, outcome *o) {
    ctx at = *c;
    at.w.srv = &srv;
    rpc_ids(&at, o, "/outfall.v1.ApplicationService/GetApplication", "id", c->id, NULL, NULL);
}
static void rpc_user_devices(ctx *c, outcome *o) {
    rpc_ids(c, o, "/outfall.v1.AccountService/ListDevices", "username", c->id, NULL, NULL);
}
static void rpc_user_device_revoke(ctx *c, outcome *o) {
    rpc_ids(c, o, "/outfall.v1.AccountService/RevokeDevice", "username", c->id, "id", c->hash);
}
static void rpc_user_tokens(ctx *c, outcome *o) {
    rpc_ids(c, o, "/outfall.v1.AccountService/ListTokens", "username", c->id, NULL, NULL);
}
static void rpc_user_token_revoke(ctx *c, outcome *o) {
    rpc_ids(c, o, "/outfall.v1.AccountService/RevokeToken", "username", c->id, "id", c->hash);
}

/* The sync twin's batch through SyncService/PushBatch, signed by the column's phone over the
 * exact bytes. Tag: the change's status, or its REJECTED reason. */
static void rpc_sync(ctx *c, outcome *o) {
    double lat, lon;
    th_spot(&lat, &lon);
    th_batch *b = th_batch_new(c->w.device);
    th_outfall_create(b, "qinhe", DIV_A, lat, lon);
    const uint8_t *bytes;
    size_t len;
    assert_int_equal(th_batch_encode(b, TH_PB, &bytes, &len), 0);
    char *sig = th_sign_b64(c->w.device->sk, bytes, len), header[160];
    snprintf(header, sizeof header, "X-Device-Signature: %s", sig);
    const char *h[] = {"Content-Type: application/proto", header, NULL};
    th_xfer x = {.method = "POST",
                 .path = "/outfall.v1.SyncService/PushBatch",
                 .token = c->w.token,
                 .headers = h,
                 .body = bytes,
                 .len = len};
    th_xresult out;
    o->status = th_xfer_run(c->w.srv, &x, &out);
    if (o->status == 200) {
        Outfall__V1__SyncResponse *r =
            outfall__v1__sync_response__unpack(NULL, out.r.len, out.r.body);
        assert_non_null(r);
        assert_true(r->n_results == 1);
        const Outfall__V1__ChangeResult *res = r->results[0];
        util_strlcpy(o->code,
                     res->status == TH_STATUS(REJECTED) ? TH_S(res->reason)
                                                        : th_status_name(res->status),
                     sizeof o->code);
        if (res->status != TH_STATUS(HELD) && th_batch_req(b)->device_seq == c->w.device->next_seq)
            c->w.device->next_seq++;
        outfall__v1__sync_response__free_unpacked(r, NULL);
    } else {
        connect_code(&out.r, o);
    }
    th_response_free(&out.r);
    free(sig);
    th_batch_free(b);
}

/* ---- issue 21: the rest of the RPC-shaped routes ---- */

RPC_VIA(rpc_report_filed, "/outfall.v1.ReportService/FileAnnualReport", report_filed)
RPC_VIA(rpc_report_submit, "/outfall.v1.PublicService/SubmitPublicReport", report_submit)

/* POSTs json to the method path; a 2xx is tagged +A / -A by c->id in the answer. */
static void rpc_json_seen_id(ctx *c, outcome *o, const char *path, const char *json) {
    th_xresult out;
    const char *h[] = {"Content-Type: application/json", NULL};
    rpc_path = path;
    send(c, "POST", path, h, json, strlen(json), o, &out);
    rpc_path = NULL;
    if (o->status == 200)
        tag_seen(o, out.r.body && strstr((const char *)out.r.body, c->id) != NULL);
    th_response_free(&out.r);
}
static void rpc_user_update(ctx *c, outcome *o) {
    char json[200];
    snprintf(json, sizeof json, "{\"username\":\"%s\",\"divisions\":[\"" DIV_B "\"]}", c->id);
    rpc_json(c, o, "/outfall.v1.AccountService/UpdateUser", json, 0);
}
static void rpc_user_reset_password(ctx *c, outcome *o) {
    rpc_ids(c, o, "/outfall.v1.AccountService/ResetPassword", "username", c->id, NULL, NULL);
}
static void rpc_revoke_device_by_id(ctx *c, outcome *o) {
    rpc_ids(c, o, "/outfall.v1.AccountService/RevokeDeviceById", "id", c->id, NULL, NULL);
}
static void rpc_photo_info(ctx *c, outcome *o) {
    rpc_ids(c, o, "/outfall.v1.PhotoService/GetPhotoInfo", "hash", photo_u, NULL, NULL);
}
static void rpc_inspection_draws_list(ctx *c, outcome *o) {
    rpc_json_seen_id(c, o, "/outfall.v1.ProgrammeService/ListInspectionDraws", "{\"limit\":500}");
}
static void rpc_zones_list(ctx *c, outcome *o) {
    rpc_json(c, o, "/outfall.v1.ZoneService/ListZones", "{\"geometry\":true}", 0);
}
static void rpc_zones_at(ctx *c, outcome *o) {
    rpc_json(c, o, "/outfall.v1.ZoneService/FindZonesAt", "{\"lat\":33.005,\"lon\":111.002}", 0);
}
static void rpc_reports_list(ctx *c, outcome *o) {
    rpc_json_seen_id(c, o, "/outfall.v1.ReportService/ListPublicReports", "{}");
}
static void rpc_report_answer(ctx *c, outcome *o) {
    char json[200], aid[37];
    th_uuid(aid);
    snprintf(json, sizeof json, "{\"number\":\"%s\",\"answerId\":\"%s\",\"answer\":\"checked\"}",
             c->id, aid);
    rpc_json(c, o, "/outfall.v1.ReportService/AnswerPublicReport", json, 0);
}
static void rpc_report_filings(ctx *c, outcome *o) {
    rpc_json(c, o, "/outfall.v1.ReportService/ListReportFilings", "{\"year\":2025}", 0);
}
static void rpc_report_read(ctx *c, outcome *o) {
    ctx on_srv = *c; /* the report is on the world's server */
    on_srv.w.srv = &srv;
    rpc_ids(&on_srv, o, "/outfall.v1.PublicService/GetPublicReport", "number", c->id, NULL, NULL);
}
static void rpc_inspection_read(ctx *c, outcome *o) {
    ctx on_srv = *c; /* the draw is on the world's server */
    on_srv.w.srv = &srv;
    rpc_ids(&on_srv, o, "/outfall.v1.PublicService/GetInspectionDraw", "id", c->id, NULL, NULL);
}

#endif
