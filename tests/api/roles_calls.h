/* One call per endpoint of server/routes.c for the role × endpoint matrix (tests/api/test_roles.c),
 * made in its world (tests/api/roles_world.h: the callers, the records, how a call is sent), with
 * the preparation a cell needs (a fresh token, device, record, upload...). Included by
 * test_roles.c only, which holds the matrix, the runner and the set-up. */
#ifndef TESTS_API_ROLES_CALLS_H
#define TESTS_API_ROLES_CALLS_H

#include "tests/api/roles_world.h"

/* ---- the calls, one per endpoint ---- */

static void login(ctx *c, outcome *o) {
    Outfall__V1__LoginRequest rq = OUTFALL__V1__LOGIN_REQUEST__INIT;
    rq.username = c->w.user->name;
    rq.password = c->w.user->password;
    send_msg(c, "POST", "/v1/auth/login", &rq.base, o, NULL);
}

/* A live user's column logs out a fresh token of its own, so the column's token lives on. */
static void fresh_token(ctx *c) {
    if (c->col == NO_TOKEN || c->col == EXPIRED || c->col == REVOKED) return;
    assert_int_equal(th_login(&srv, c->w.user->name, c->w.user->password, c->token, NULL, NULL),
                     200);
}
static void logout(ctx *c, outcome *o) {
    send(c, "POST", "/v1/auth/logout", NULL, NULL, 0, o, NULL);
}

static void enroll(ctx *c, outcome *o) {
    uint8_t pk[32], sk[64];
    char id[37];
    crypto_sign_keypair(pk, sk);
    th_uuid(id);
    Outfall__V1__Device d = OUTFALL__V1__DEVICE__INIT;
    d.device_id = id;
    d.name = "matrix phone";
    d.has_public_key = 1;
    d.public_key.data = pk;
    d.public_key.len = sizeof pk;
    send_msg(c, "POST", "/v1/devices", &d.base, o, NULL);
}

static void fresh_device(ctx *c) {
    th_device d;
    assert_int_equal(th_device_new(&srv, s_a.token, &d), 0);
    util_strlcpy(c->id, d.id, sizeof c->id);
}
static void revoke(ctx *c, outcome *o) {
    char path[128];
    snprintf(path, sizeof path, "/v1/devices/%s", c->id);
    send(c, "DELETE", path, NULL, NULL, 0, o, NULL);
}

static void user_create(ctx *c, outcome *o) {
    char name[40];
    static int n;
    snprintf(name, sizeof name, "matrix.%d.%u", n++, randombytes_uniform(1000000));
    char *divs[] = {DIV_A};
    Outfall__V1__User u = OUTFALL__V1__USER__INIT;
    u.username = name;
    u.password = "a long enough password";
    u.has_role = 1;
    u.role = TH_ROLE(SURVEYOR);
    u.n_divisions = 1;
    u.divisions = divs;
    send_msg(c, "POST", "/v1/users", &u.base, o, NULL);
}

static void user_list(ctx *c, outcome *o) {
    send(c, "GET", "/v1/users", NULL, NULL, 0, o, NULL);
}

static void backups_list(ctx *c, outcome *o) {
    send(c, "GET", "/v1/backups", NULL, NULL, 0, o, NULL);
}

/* A fresh surveyor of division A (signed in), whose name goes into c->id and, with
 * with_device, a phone of theirs into c->hash; with_token, the id of their token into c->hash. */
static void fresh_account(ctx *c, int with_device, int with_token) {
    const char *divs[] = {DIV_A, NULL};
    th_user u;
    assert_int_equal(th_user_new(&srv, "mx", TH_ROLE(SURVEYOR), divs, &u), 0);
    util_strlcpy(c->id, u.name, sizeof c->id);
    if (with_device) {
        th_device d;
        assert_int_equal(th_device_new(&srv, u.token, &d), 0);
        util_strlcpy(c->hash, d.id, sizeof c->hash);
    }
    if (with_token) { /* a token's id: the first 16 hex digits of BLAKE2b-256 of its bytes */
        uint8_t raw[32];
        size_t n = 0;
        assert_int_equal(sodium_hex2bin(raw, sizeof raw, u.token, strlen(u.token), NULL, &n, NULL),
                         0);
        char hex[65];
        th_hash_hex(raw, n, hex);
        hex[16] = '\0';
        util_strlcpy(c->hash, hex, sizeof c->hash);
    }
}
static void fresh_user(ctx *c) {
    fresh_account(c, 0, 0);
}
static void fresh_user_device(ctx *c) {
    fresh_account(c, 1, 0);
}
static void fresh_user_token(ctx *c) {
    fresh_account(c, 0, 1);
}
/* Calls /v1/users/{c->id}{what}, and /{item} after it when item is not NULL. */
static void account_path(ctx *c, outcome *o, const char *method, const char *what, const char *item,
                         const ProtobufCMessage *msg) {
    char path[200];
    snprintf(path, sizeof path, "/v1/users/%s%s%s%s", c->id, what, item ? "/" : "",
             item ? item : "");
    if (msg)
        send_msg(c, method, path, msg, o, NULL);
    else
        send(c, method, path, NULL, NULL, 0, o, NULL);
}
static void user_update(ctx *c, outcome *o) {
    char *divs[] = {DIV_B};
    Outfall__V1__User u = OUTFALL__V1__USER__INIT;
    u.n_divisions = 1;
    u.divisions = divs;
    account_path(c, o, "PATCH", "", NULL, &u.base);
}
static void user_reset_password(ctx *c, outcome *o) {
    Outfall__V1__PasswordReset r = OUTFALL__V1__PASSWORD_RESET__INIT;
    account_path(c, o, "POST", "/password", NULL, &r.base);
}
static void user_devices(ctx *c, outcome *o) {
    account_path(c, o, "GET", "/devices", NULL, NULL);
}
static void user_device_revoke(ctx *c, outcome *o) {
    account_path(c, o, "DELETE", "/devices", c->hash, NULL);
}
static void user_tokens(ctx *c, outcome *o) {
    account_path(c, o, "GET", "/tokens", NULL, NULL);
}
static void user_token_revoke(ctx *c, outcome *o) {
    account_path(c, o, "DELETE", "/tokens", c->hash, NULL);
}
/* A new password too short: refused before the current one is checked or counted. */
static void own_password(ctx *c, outcome *o) {
    Outfall__V1__PasswordChange p = OUTFALL__V1__PASSWORD_CHANGE__INIT;
    p.current_password = c->w.user->password;
    p.new_password = "short";
    send_msg(c, "POST", "/v1/me/password", &p.base, o, NULL);
}

/* A new outfall in division A from the caller's phone. Tag: the change's status, or its
 * REJECTED reason. */
static void sync(ctx *c, outcome *o) {
    double lat, lon;
    th_spot(&lat, &lon);
    th_batch *b = th_batch_new(c->w.device);
    th_outfall_create(b, "qinhe", DIV_A, lat, lon);
    th_sync_result r;
    o->status = th_sync(c->w.srv, c->w.token, b, TH_PB, &r);
    if (o->status == 200) {
        const Outfall__V1__ChangeResult *res = th_result(&r, 0);
        assert_non_null(res);
        util_strlcpy(o->code,
                     res->status == TH_STATUS(REJECTED) ? TH_S(res->reason)
                                                        : th_status_name(res->status),
                     sizeof o->code);
    } else {
        util_strlcpy(o->code, r.err.code, sizeof o->code);
    }
    th_sync_result_free(&r);
    th_batch_free(b);
}

static void changes(ctx *c, outcome *o) {
    th_xresult out;
    send(c, "GET", "/v1/changes?since=0&limit=1000", NULL, NULL, 0, o, &out);
    if (o->status == 200) {
        Outfall__V1__ChangesResponse *m =
            (void *)answer(&out, &outfall__v1__changes_response__descriptor);
        assert_non_null(m);
        int seen = 0;
        for (size_t i = 0; i < m->n_feed; i++)
            seen |= m->feed[i]->outfall && strcmp(TH_S(m->feed[i]->outfall->id), rec_a) == 0;
        tag_seen(o, seen);
        protobuf_c_message_free_unpacked(&m->base, NULL);
    }
    th_response_free(&out.r);
}

static void outfalls(ctx *c, outcome *o) {
    th_xresult out;
    send(c, "GET", "/v1/outfalls?limit=1000&view=latest", NULL, NULL, 0, o, &out);
    if (o->status == 200) {
        Outfall__V1__OutfallList *m = (void *)answer(&out, &outfall__v1__outfall_list__descriptor);
        assert_non_null(m);
        int seen = 0;
        for (size_t i = 0; i < m->n_outfalls; i++)
            seen |= strcmp(TH_S(m->outfalls[i]->id), rec_a) == 0;
        tag_seen(o, seen);
        protobuf_c_message_free_unpacked(&m->base, NULL);
    }
    th_response_free(&out.r);
}

static void get_path(ctx *c, outcome *o, const char *fmt, const char *arg) {
    char path[200];
    snprintf(path, sizeof path, fmt, arg);
    send(c, "GET", path, NULL, NULL, 0, o, NULL);
}
static void outfall(ctx *c, outcome *o) {
    get_path(c, o, "/v1/outfalls/%s?view=latest", rec_a);
}
static void history(ctx *c, outcome *o) {
    get_path(c, o, "/v1/outfalls/%s/history", rec_a);
}
static void signboard(ctx *c, outcome *o) {
    get_path(c, o, "/v1/outfalls/%s/signboard?format=json", rec_a);
}
static void observation(ctx *c, outcome *o) {
    get_path(c, o, "/v1/observations/%s", obs_u);
}

static void queue(ctx *c, outcome *o) {
    th_xresult out;
    send(c, "GET", "/v1/review/queue?limit=500", NULL, NULL, 0, o, &out);
    if (o->status == 200) {
        Outfall__V1__ReviewQueue *m = (void *)answer(&out, &outfall__v1__review_queue__descriptor);
        assert_non_null(m);
        int seen = 0;
        for (size_t i = 0; i < m->n_items; i++)
            seen |= strcmp(TH_S(m->items[i]->outfall_id), rec_a) == 0;
        tag_seen(o, seen);
        protobuf_c_message_free_unpacked(&m->base, NULL);
    }
    th_response_free(&out.r);
}

/* Approves outfall id at version as supervisor A; returns the version after, or -1. */
static int64_t approve(const char *id, int64_t version) {
    Outfall__V1__DecisionResult *res = NULL;
    long st = th_approve(&srv, sup_a.token, id, version, &res);
    int64_t v = st == 200 && res && res->outfall ? res->outfall->version : -1;
    if (res) outfall__v1__decision_result__free_unpacked(res, NULL);
    return v;
}

/* A fresh pending outfall of division A (version 1) for a decision. */
static void fresh_record(ctx *c) {
    double lat, lon;
    th_spot(&lat, &lon);
    th_batch *b = th_batch_new(&dev_s_a);
    th_outfall_create(b, "qinhe", DIV_A, lat, lon);
    Outfall__V1__SyncResponse *r = th_sync_ok(&srv, s_a.token, b, TH_PB);
    assert_non_null(r);
    assert_int_equal(r->results[0]->status, TH_STATUS(APPLIED));
    util_strlcpy(c->id, th_batch_entity(b, 0), sizeof c->id);
    outfall__v1__sync_response__free_unpacked(r, NULL);
    th_batch_free(b);
}
static void decide(ctx *c, outcome *o) {
    char id[37];
    th_uuid(id);
    Outfall__V1__Decision d = OUTFALL__V1__DECISION__INIT;
    d.decision_id = id;
    d.has_kind = 1;
    d.kind = OUTFALL__V1__DECISION_KIND__DECISION_KIND_APPROVE;
    d.outfall_id = c->id;
    d.has_base_version = 1;
    d.base_version = 1;
    d.comment = "matrix";
    send_msg(c, "POST", "/v1/review/decisions", &d.base, o, NULL);
}

/* A fresh approved outfall of division A for a lifecycle transition. */
static void fresh_approved(ctx *c) {
    fresh_record(c);
    c->version = approve(c->id, 1);
    assert_true(c->version > 0);
}
static void transition(ctx *c, outcome *o) {
    char id[37];
    th_uuid(id);
    Outfall__V1__LifecycleTransition t = OUTFALL__V1__LIFECYCLE_TRANSITION__INIT;
    t.transition_id = id;
    t.outfall_id = c->id;
    t.has_base_version = 1;
    t.base_version = c->version;
    t.has_to_stage = 1;
    t.to_stage = OUTFALL__V1__LIFECYCLE_STAGE__LIFECYCLE_STAGE_FOUND;
    send_msg(c, "POST", "/v1/programme/transitions", &t.base, o, NULL);
}

static void progress(ctx *c, outcome *o) {
    send(c, "GET", "/v1/progress?division=" DIV_A, NULL, NULL, 0, o, NULL);
}

/* One protection zone, far from every record of the tests. */
static void zones_import(ctx *c, outcome *o) {
    char text[512];
    static int n;
    snprintf(text, sizeof text,
             "{\"type\":\"FeatureCollection\",\"features\":[{\"type\":\"Feature\",\"id\":"
             "\"matrix-%d\",\"properties\":{\"name\":\"矩阵\",\"kind\":\"other_special\"},"
             "\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[[111.0,33.0],[111.01,33.0],"
             "[111.01,33.01],[111.0,33.0]]]}}]}",
             n++);
    const char *h[] = {"Content-Type: application/geo+json", NULL};
    send(c, "POST", "/v1/zones", h, text, strlen(text), o, NULL);
}
/* Division A's annual report. */
static void annual_report(ctx *c, outcome *o) {
    send(c, "GET", "/v1/reports/annual?year=2024&division=" DIV_A "&format=csv", NULL, NULL, 0, o,
         NULL);
}

static void inspection_tasks(ctx *c, outcome *o) {
    send(c, "GET", "/v1/inspections/tasks", NULL, NULL, 0, o, NULL);
}
static void zones_list(ctx *c, outcome *o) {
    send(c, "GET", "/v1/zones?geometry=1", NULL, NULL, 0, o, NULL);
}
static void zones_at(ctx *c, outcome *o) {
    send(c, "GET", "/v1/zones/at?lat=33.005&lon=111.002", NULL, NULL, 0, o, NULL);
}

/* A streamed export of division A: tagged with whether record A is in it. */
static void export(ctx *c, outcome *o, const char *path) {
    th_xresult out;
    send(c, "GET", path, NULL, NULL, 0, o, &out);
    if (o->status == 200) /* memmem: the photo archive holds NULs */
        tag_seen(o, memmem(out.r.body, out.r.len, rec_a, strlen(rec_a)) != NULL);
    th_response_free(&out.r);
}
static void export_geojson(ctx *c, outcome *o) {
    export(c, o, "/v1/exports/outfalls.geojson?division=" DIV_A);
}
static void export_csv(ctx *c, outcome *o) {
    export(c, o, "/v1/exports/outfalls.csv?division=" DIV_A);
}
static void export_photos(ctx *c, outcome *o) { /* record A's photo is in the archive */
    export(c, o, "/v1/exports/photos.tar?division=" DIV_A);
}

/* An application of division A (设置审核) with every required field; id is its id. */
static void application_of(Outfall__V1__OutfallApplication *a, Outfall__V1__ResponsibleParty *u,
                           char id[37], char credit[19]) {
    th_uuid(id);
    memcpy(credit, "91410882MA44XQ7J6", 17);
    credit[17] = credit_code_check_char(credit);
    credit[18] = '\0';
    outfall__v1__responsible_party__init(u);
    u->name = "矩阵公司";
    u->credit_code = credit;
    u->phone = "0391-5550000";
    outfall__v1__outfall_application__init(a);
    a->id = id;
    a->has_kind = a->has_eia_level = a->has_lat = a->has_lon = a->has_outfall_type = 1;
    a->kind = OUTFALL__V1__APPLICATION_KIND__APPLICATION_KIND_SET_UP;
    a->project_name = "矩阵项目";
    a->applicant = u;
    a->eia_level = OUTFALL__V1__EIA_LEVEL__EIA_LEVEL_COUNTY;
    a->lat = 35.09;
    a->lon = 112.95;
    a->division_code = DIV_A;
    a->river_code = "qinhe";
    a->outfall_type = OUTFALL__V1__OUTFALL_TYPE__OUTFALL_TYPE_MUNICIPAL_WWTP;
}
static void application_file(ctx *c, outcome *o) {
    Outfall__V1__OutfallApplication a;
    Outfall__V1__ResponsibleParty u;
    char id[37], credit[19];
    application_of(&a, &u, id, credit);
    send_msg(c, "POST", "/v1/applications", &a.base, o, NULL);
}
/* A fresh application of division A, filed by supervisor A. */
static void fresh_application(ctx *c) {
    Outfall__V1__OutfallApplication a;
    Outfall__V1__ResponsibleParty u;
    char credit[19];
    application_of(&a, &u, c->id, credit);
    assert_int_equal(
        th_call(&srv, "POST", "/v1/applications", sup_a.token, TH_PB, &a.base, NULL, NULL, NULL),
        200);
}
static void application_decide(ctx *c, outcome *o) {
    char id[37];
    th_uuid(id);
    Outfall__V1__ApplicationDecision d = OUTFALL__V1__APPLICATION_DECISION__INIT;
    d.decision_id = id;
    d.application_id = c->id;
    d.has_to_status = 1;
    d.to_status = OUTFALL__V1__APPLICATION_STATUS__APPLICATION_STATUS_UNDER_REVIEW;
    send_msg(c, "POST", "/v1/applications/decisions", &d.base, o, NULL);
}
/* The public read: always of the world's server, where the application lives (the expired
 * token's server has none); a token, good or bad, is not looked at. */
static void application_read(ctx *c, outcome *o) {
    ctx at = *c;
    at.w.srv = &srv;
    get_path(&at, o, "/v1/applications/%s", c->id);
}

/* The list of applications: tagged +A when it holds the fresh one of division A. */
static void application_list(ctx *c, outcome *o) {
    th_xresult out;
    send(c, "GET", "/v1/applications", NULL, NULL, 0, o, &out);
    if (o->status == 200) tag_seen(o, strstr((const char *)out.r.body, c->id) != NULL);
    th_response_free(&out.r);
}

/* Division A's annual report for 2025 marked filed (a repeat answers the first mark). */
static void report_filed(ctx *c, outcome *o) {
    Outfall__V1__ReportFiling f = OUTFALL__V1__REPORT_FILING__INIT;
    f.division_code = DIV_A;
    f.has_year = 1;
    f.year = 2025;
    send_msg(c, "POST", "/v1/reports/annual/filed", &f.base, o, NULL);
}
static void report_filings(ctx *c, outcome *o) {
    send(c, "GET", "/v1/reports/filings?year=2025", NULL, NULL, 0, o, NULL);
}

static void photos_missing(ctx *c, outcome *o) {
    char other[65];
    th_hash_hex("not stored", 10, other);
    char *hashes[] = {photo_a, other};
    Outfall__V1__PhotoHashes m = OUTFALL__V1__PHOTO_HASHES__INIT;
    m.n_hashes = 2;
    m.hashes = hashes;
    send_msg(c, "POST", "/v1/photos/missing", &m.base, o, NULL);
}

static void photos_options(ctx *c, outcome *o) {
    const char *h[] = {"Tus-Resumable: 1.0.0", NULL};
    send(c, "OPTIONS", "/v1/photos", h, NULL, 0, o, NULL);
}
static void photo_options(ctx *c, outcome *o) {
    char path[128];
    snprintf(path, sizeof path, "/v1/photos/%s", photo_a);
    const char *h[] = {"Tus-Resumable: 1.0.0", NULL};
    send(c, "OPTIONS", path, h, NULL, 0, o, NULL);
}

static void fresh_photo(ctx *c) {
    assert_int_equal(th_photo_variant(PHOTO, &c->photo, c->hash), 0);
}
/* tus creation at /v1/photos (the hash in Upload-Metadata) or at /v1/photos/{hash}. */
static void create_upload(ctx *c, outcome *o, int in_path) {
    char length[64], meta[200], path[128];
    char *b64 = util_base64_encode((const uint8_t *)c->hash, 64);
    snprintf(meta, sizeof meta, "Upload-Metadata: hash %s", b64 ? b64 : "");
    free(b64);
    snprintf(length, sizeof length, "Upload-Length: %zu", c->photo.len);
    snprintf(path, sizeof path, "/v1/photos/%s", in_path ? c->hash : "");
    if (!in_path) path[strlen(path) - 1] = '\0';
    const char *h[] = {"Tus-Resumable: 1.0.0", length, in_path ? NULL : meta, NULL};
    send(c, "POST", path, h, NULL, 0, o, NULL);
}
static void tus_create(ctx *c, outcome *o) {
    create_upload(c, o, 0);
}
static void tus_create_at(ctx *c, outcome *o) {
    create_upload(c, o, 1);
}

/* A fresh photo whose upload the caller created (each uploader's upload is their own:
 * sync/photos.h), or the surveyor for a caller who may not create one; the cell sends its bytes. */
static void fresh_upload(ctx *c) {
    fresh_photo(c);
    int own = c->col == SURVEYOR || c->col == SUPERVISOR || c->col == ADMIN ||
              c->col == OTHER_DIV || c->col == PROVINCE;
    int col = own ? c->col : SURVEYOR;
    ctx creator = {.col = col, .w = who_of(col)};
    memcpy(creator.hash, c->hash, sizeof c->hash);
    creator.photo = c->photo;
    outcome o;
    create_upload(&creator, &o, 1);
    assert_int_equal(o.status, 201);
}
static void tus_patch(ctx *c, outcome *o) {
    char path[128];
    snprintf(path, sizeof path, "/v1/photos/%s", c->hash);
    const char *h[] = {"Tus-Resumable: 1.0.0", "Upload-Offset: 0",
                       "Content-Type: application/offset+octet-stream", NULL};
    send(c, "PATCH", path, h, c->photo.data, c->photo.len, o, NULL);
}

/* tus termination of the caller's own upload (fresh_upload). */
static void tus_delete(ctx *c, outcome *o) {
    char path[128];
    snprintf(path, sizeof path, "/v1/photos/%s", c->hash);
    const char *h[] = {"Tus-Resumable: 1.0.0", NULL};
    send(c, "DELETE", path, h, NULL, 0, o, NULL);
}

static void put_photo(ctx *c, outcome *o) {
    char path[128];
    snprintf(path, sizeof path, "/v1/photos/%s", c->hash);
    const char *h[] = {"Content-Type: image/jpeg", NULL};
    send(c, "PUT", path, h, c->photo.data, c->photo.len, o, NULL);
}

static void photo_head(ctx *c, outcome *o) {
    char path[128];
    snprintf(path, sizeof path, "/v1/photos/%s", photo_u);
    send(c, "HEAD", path, NULL, NULL, 0, o, NULL);
    if (o->status < 200 || o->status > 299) util_strlcpy(o->code, "(no body)", sizeof o->code);
}
static void photo_get(ctx *c, outcome *o) {
    get_path(c, o, "/v1/photos/%s", photo_u);
}
static void photo_info(ctx *c, outcome *o) {
    get_path(c, o, "/v1/photos/%s/info", photo_u);
}

static void healthz(ctx *c, outcome *o) {
    send(c, "GET", "/healthz", NULL, NULL, 0, o, NULL);
}
/* The public's reads: the GeoJSON, and the page of record A (approved in setup), found by its
 * code in the world's GeoJSON. Neither looks at the token. */
static void public_outfalls(ctx *c, outcome *o) {
    send(c, "GET", "/public/outfalls", NULL, NULL, 0, o, NULL);
}
static void public_outfall(ctx *c, outcome *o) {
    char path[160] = "/public/outfalls/none";
    th_xfer x = {.method = "GET", .path = "/public/outfalls"};
    th_xresult res;
    if (th_xfer_run(&srv, &x, &res) == 200) {
        json_t *fc = json_loads((const char *)res.r.body, 0, NULL);
        json_t *props =
            json_object_get(json_array_get(json_object_get(fc, "features"), 0), "properties");
        const char *code = json_string_value(json_object_get(props, "code"));
        if (code) snprintf(path, sizeof path, "/public/outfalls/%s", code);
        json_decref(fc);
    }
    th_response_free(&res.r);
    ctx on_srv = *c; /* the expired token's server has no approved record: ask the world's */
    on_srv.w.srv = &srv;
    send(&on_srv, "GET", path, NULL, NULL, 0, o, NULL);
}
/* Public reports. Every cell reports from 127.0.0.1 and one address may file only a few an hour
 * (programme/disclosure.h), so each preparation first ages the earlier reports of both servers by
 * an hour, as if it had passed, then files a fresh report of division A on the world's server. */
static void reports_age(const th_server *s) {
    char path[400];
    sqlite3 *db = NULL;
    snprintf(path, sizeof path, "%s/outfall.db", s->data);
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 10000);
    assert_int_equal(sqlite3_exec(db,
                                  "UPDATE public_reports SET received_at_ms = received_at_ms - "
                                  "3600000",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
}
static const char report_body[] =
    "{\"kind\":\"REPORT_KIND_ILLEGAL_DISCHARGE\",\"lat\":35.08,\"lon\":112.95,"
    "\"divisionCode\":\"" DIV_A "\",\"description\":\"matrix report\"}";
static void fresh_report(ctx *c) {
    reports_age(&srv);
    reports_age(&ttl_srv);
    const char *h[] = {"Content-Type: application/json", NULL};
    th_xfer x = {.method = "POST",
                 .path = "/public/reports",
                 .headers = h,
                 .body = report_body,
                 .len = sizeof report_body - 1};
    th_xresult res;
    assert_int_equal(th_xfer_run(&srv, &x, &res), 201);
    json_t *j = json_loads((const char *)res.r.body, 0, NULL);
    const char *n = json_string_value(json_object_get(j, "number"));
    assert_non_null(n);
    util_strlcpy(c->id, n, sizeof c->id);
    json_decref(j);
    th_response_free(&res.r);
    reports_age(&srv);
}
static void report_submit(ctx *c, outcome *o) {
    const char *h[] = {"Content-Type: application/json", NULL};
    send(c, "POST", "/public/reports", h, report_body, sizeof report_body - 1, o, NULL);
}
static void report_read(ctx *c, outcome *o) {
    char path[96];
    snprintf(path, sizeof path, "/public/reports/%s", c->id);
    ctx on_srv = *c; /* the report is on the world's server */
    on_srv.w.srv = &srv;
    send(&on_srv, "GET", path, NULL, NULL, 0, o, NULL);
}
/* Tagged +A when the queue holds the fresh report of division A. */
static void reports_list(ctx *c, outcome *o) {
    th_xresult out;
    send(c, "GET", "/v1/reports", NULL, NULL, 0, o, &out);
    if (o->status == 200) tag_seen(o, strstr((const char *)out.r.body, c->id) != NULL);
    th_response_free(&out.r);
}
static void report_answer(ctx *c, outcome *o) {
    char path[96], body[160], aid[37];
    th_uuid(aid);
    snprintf(path, sizeof path, "/v1/reports/%s/answer", c->id);
    snprintf(body, sizeof body, "{\"answerId\":\"%s\",\"answer\":\"checked\"}", aid);
    const char *h[] = {"Content-Type: application/json", NULL};
    send(c, "POST", path, h, body, strlen(body), o, NULL);
}

/* Random inspection draws among division A's approved outfalls (record A at least), two
 * inspectors of division B so one is always eligible whatever the previous round did. */
static void draw_body(char *out, size_t cap, const char *id) {
    snprintf(out, cap,
             "{\"drawId\":\"%s\",\"divisionCodes\":[\"" DIV_A "\"],\"sample\":1,"
             "\"inspectors\":[{\"name\":\"x\",\"divisionCode\":\"" DIV_B "\"},"
             "{\"name\":\"y\",\"divisionCode\":\"" DIV_B "\"}]}",
             id);
}
static void inspection_draw(ctx *c, outcome *o) {
    char id[37], body[400];
    th_uuid(id);
    draw_body(body, sizeof body, id);
    const char *h[] = {"Content-Type: application/json", NULL};
    send(c, "POST", "/v1/inspections/draws", h, body, strlen(body), o, NULL);
}
/* A draw made by the supervisor of A on the world's server. */
static void fresh_draw(ctx *c) {
    char body[400];
    th_uuid(c->id);
    draw_body(body, sizeof body, c->id);
    th_request rq = {.method = "POST",
                     .path = "/v1/inspections/draws",
                     .content_type = TH_JSON,
                     .accept = TH_JSON,
                     .token = sup_a.token,
                     .body = body,
                     .len = strlen(body)};
    th_response r;
    assert_int_equal(th_http(&srv, &rq, &r), 200);
    th_response_free(&r);
}
/* The draws the caller may see: does the supervisor of A's fresh draw show? */
static void inspection_draws_list(ctx *c, outcome *o) {
    th_xresult out; /* the draw is on the world's server; an expired token on its own */
    send(c, "GET", "/v1/inspections/draws?limit=500", NULL, NULL, 0, o, &out);
    if (o->status == 200)
        tag_seen(o, out.r.body && strstr((const char *)out.r.body, c->id) != NULL);
    th_response_free(&out.r);
}
/* Division A's self-check plan for this year (市县自查). */
static void self_check_record(ctx *c, outcome *o) {
    char today[11], body[200];
    util_date_of_ms(util_now_ms(), today);
    snprintf(body, sizeof body,
             "{\"divisionCode\":\"" DIV_A "\",\"year\":%.4s,\"plannedCount\":3,"
             "\"riverCodes\":[\"qinhe\"],\"note\":\"matrix\"}",
             today);
    const char *h[] = {"Content-Type: application/json", NULL};
    send(c, "POST", "/v1/self-check-plans", h, body, strlen(body), o, NULL);
}
static void self_check_list(ctx *c, outcome *o) {
    char today[11], path[96];
    util_date_of_ms(util_now_ms(), today);
    snprintf(path, sizeof path, "/v1/self-check-plans?year=%.4s&division=" DIV_A, today);
    send(c, "GET", path, NULL, NULL, 0, o, NULL);
}
static void inspection_read(ctx *c, outcome *o) {
    char path[96];
    snprintf(path, sizeof path, "/public/inspections/%s", c->id);
    ctx on_srv = *c; /* the draw is on the world's server */
    on_srv.w.srv = &srv;
    send(&on_srv, "GET", path, NULL, NULL, 0, o, NULL);
}

static void web_index(ctx *c, outcome *o) {
    send(c, "GET", "/", NULL, NULL, 0, o, NULL);
}
static void web_config(ctx *c, outcome *o) {
    send(c, "GET", "/web/config.json", NULL, NULL, 0, o, NULL);
}
static void web_file(ctx *c, outcome *o) {
    send(c, "GET", "/web/app.js", NULL, NULL, 0, o, NULL);
}
static void field_redirect(ctx *c, outcome *o) {
    send(c, "GET", "/field", NULL, NULL, 0, o, NULL);
}
static void field_index(ctx *c, outcome *o) {
    send(c, "GET", "/field/", NULL, NULL, 0, o, NULL);
}
static void field_file(ctx *c, outcome *o) {
    send(c, "GET", "/field/app.js", NULL, NULL, 0, o, NULL);
}
static void field_vendor(ctx *c, outcome *o) {
    send(c, "GET", "/field/vendor/blake2.js", NULL, NULL, 0, o, NULL);
}
static void report_redirect(ctx *c, outcome *o) {
    send(c, "GET", "/report", NULL, NULL, 0, o, NULL);
}
static void report_index(ctx *c, outcome *o) {
    send(c, "GET", "/report/", NULL, NULL, 0, o, NULL);
}
static void report_file(ctx *c, outcome *o) {
    send(c, "GET", "/report/app.js", NULL, NULL, 0, o, NULL);
}

#endif
