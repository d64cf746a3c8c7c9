#include "server/routes.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/cores.h"
#include "common/util.h"
#include "server/admit.h"
#include "server/api.h"
#include "server/auth.h"
#include "server/connect.h"
#include "server/http.h"

typedef struct route {
    const char *method;
    const char *pattern; /* "{name}" matches one non-empty path segment, kept in r->params */
    int (*handler)(http_req *r);
    unsigned who;     /* AUTH_PUBLIC, or the roles allowed (AUTH_* bits) */
    int64_t max_body; /* bytes http_read_body takes (0: none); BODY_CONFIG: --max-body */
    /* Media types the handler answers in besides protobuf and JSON messages, each a type or a
     * range ("image/" and a star: a photo in its own type; everything: a web app's files),
     * separated by commas; NULL: messages only. Accept must take one of them or a message. */
    const char *produces;
    /* A Connect method (server/connect.h) whose REST twin reads path segments and query
     * parameters: the request message carrying them (NULL: the twin decodes the body itself),
     * and which of its fields fill the twin's {name} segments, in order (comma-separated). */
    const ProtobufCMessageDescriptor *connect_request;
    const char *connect_path_fields;
    /* 1 when connect_request is the twin's own body message, which names a path segment too
     * (UpdateUser's username): the twin decodes the body itself (connect_unpack_request). */
    int connect_body_kept;
} route;

#define STAFF (AUTH_SURVEYOR | AUTH_SUPERVISOR | AUTH_ADMIN)
#define REVIEWERS (AUTH_SUPERVISOR | AUTH_ADMIN)
/* The province checker reads what reviewers read and does its own checks: a draw, and (from a
 * phone) the results of the picks assigned to it; the engine refuses it any other write. */
#define REVIEW_READERS (REVIEWERS | AUTH_PROVINCE_CHECKER)
#define CHECKERS (STAFF | AUTH_PROVINCE_CHECKER)

/* Body limits, by what an endpoint takes (bytes http_read_body reads at most):
 * - NONE: reads no body, so any body is 413 if one is read;
 * - SMALL: a login, a user, a device, a logout;
 * - FORM: a public report (its text limits with room for JSON), a report's answer, a filing;
 * - DECISION: review decisions, transitions, applications, draws (comments of 4000 bytes);
 * - HASHES: the photo hashes of a day's batches (~70 bytes each);
 * - ZONES: a city's protection zones as GeoJSON (parsed, dense coordinates take ~17x that,
 *   which must fit --body-memory);
 * - CONFIG: the sync batch, --max-body;
 * - STREAM: photo uploads, streamed under --max-photo-bytes (server/api_photos.c). */
#define BODY_NONE 0
#define BODY_SMALL (4 * 1024)
#define BODY_FORM (16 * 1024)
#define BODY_DECISION (64 * 1024)
#define BODY_HASHES (1024 * 1024)
#define BODY_ZONES (4096 * 1024)
#define BODY_CONFIG (-1)
#define BODY_STREAM BODY_NONE

/* Every endpoint of the server. The engine behind each handler applies its own division and
 * ownership checks; this table is the first gate. */
/* clang-format off */
static const route routes[] = {
    /* method   path                     handler                who may call  body limit */
    {"POST",   "/v1/auth/login",        api_auth_login,        AUTH_PUBLIC, BODY_SMALL},
    {"POST",   "/v1/auth/logout",       api_auth_logout,       AUTH_ANY_USER, BODY_SMALL},
    {"POST",   "/v1/devices",           api_devices_enroll,    CHECKERS, BODY_SMALL},
    {"DELETE", "/v1/devices/{id}",      api_devices_revoke,    AUTH_ADMIN, BODY_NONE},
    {"POST",   "/v1/users",             api_users_create,      AUTH_ADMIN, BODY_SMALL},
    {"GET",    "/v1/users",             api_users_list,        AUTH_ADMIN, BODY_NONE},
    {"GET",    "/v1/backups",           api_backups_list,      AUTH_ADMIN, BODY_NONE},
    /* managing accounts (sync/account_manage.h): devices and tokens are the user's own or, for
     * admins, anyone's; the engine checks which */
    {"PATCH",  "/v1/users/{username}",  api_users_update,      AUTH_ADMIN, BODY_SMALL},
    {"POST",   "/v1/users/{username}/password", api_users_reset_password, AUTH_ADMIN, BODY_SMALL},
    {"GET",    "/v1/users/{username}/devices", api_users_devices, AUTH_ANY_USER, BODY_NONE},
    {"DELETE", "/v1/users/{username}/devices/{id}", api_users_revoke_device, AUTH_ANY_USER, BODY_NONE},
    {"GET",    "/v1/users/{username}/tokens", api_users_tokens, AUTH_ANY_USER, BODY_NONE},
    {"DELETE", "/v1/users/{username}/tokens/{id}", api_users_revoke_token, AUTH_ANY_USER, BODY_NONE},
    {"POST",   "/v1/me/password",       api_me_password,       AUTH_ANY_USER, BODY_SMALL},
    {"POST",   "/v1/sync",              api_sync_batch,        CHECKERS, BODY_CONFIG},
    {"GET",    "/v1/changes",           api_changes_pull,      AUTH_ANY_USER, BODY_NONE},
    {"GET",    "/v1/outfalls",          api_outfalls_list,     AUTH_ANY_USER, BODY_NONE},
    {"GET",    "/v1/outfalls/{id}",     api_outfalls_read,     AUTH_ANY_USER, BODY_NONE},
    {"GET",    "/v1/outfalls/{id}/history", api_outfalls_history, CHECKERS, BODY_NONE},
    {"GET",    "/v1/outfalls/{id}/signboard", api_signboard_read, CHECKERS, BODY_NONE, "image/svg+xml,image/png"},
    {"GET",    "/v1/observations/{id}", api_observations_read, AUTH_ANY_USER, BODY_NONE},
    {"GET",    "/v1/review/queue",      api_review_queue,      REVIEW_READERS, BODY_NONE},
    {"POST",   "/v1/review/decisions",  api_review_decide,     REVIEWERS, BODY_DECISION},
    /* the programme: lifecycle, progress, protection zones, streamed exports, annual reports */
    {"POST",   "/v1/programme/transitions", api_programme_transition, REVIEWERS, BODY_DECISION},
    {"GET",    "/v1/progress",          api_progress_read,     AUTH_ANY_USER, BODY_NONE, "text/csv"},
    {"POST",   "/v1/zones",             api_zones_import,      AUTH_ADMIN, BODY_ZONES},
    {"GET",    "/v1/zones",             api_zones_list,        AUTH_ANY_USER, BODY_NONE},
    {"GET",    "/v1/zones/at",          api_zones_at,          AUTH_ANY_USER, BODY_NONE},
    {"GET",    "/v1/exports/outfalls.geojson", api_exports_geojson, AUTH_ANY_USER, BODY_NONE, "application/geo+json"},
    {"GET",    "/v1/exports/outfalls.csv", api_exports_csv,    AUTH_ANY_USER, BODY_NONE, "text/csv"},
    {"GET",    "/v1/exports/photos.tar", api_exports_photos,   AUTH_ANY_USER, BODY_NONE, "application/x-tar"},
    {"GET",    "/v1/reports/annual",    api_progress_annual,    AUTH_ANY_USER, BODY_NONE, "text/html,text/csv"},
    {"POST",   "/v1/reports/annual/filed", api_filings_mark,   REVIEWERS, BODY_FORM},
    {"GET",    "/v1/reports/filings",   api_filings_list,      AUTH_ANY_USER, BODY_NONE},
    /* applications to set up an outfall (设置审核); /decisions before the {id} row; the
     * decision is public (三.一.3), the applicant's contact is not */
    {"POST",   "/v1/applications",      api_applications_file, REVIEWERS, BODY_DECISION},
    {"GET",    "/v1/applications",      api_applications_list, AUTH_ANY_USER, BODY_NONE},
    {"POST",   "/v1/applications/decisions", api_applications_decide, REVIEWERS, BODY_DECISION},
    {"GET",    "/v1/applications/{id}", api_applications_read, AUTH_PUBLIC, BODY_NONE},
    /* photos: tus uploads and reads at /v1/photos/{hash}; /missing before the {hash} rows; a
     * public report's upload token (AUTH_REPORTER) writes its report's photos, reads nothing */
    {"POST",   "/v1/photos/missing",    api_photos_missing,    CHECKERS, BODY_HASHES},
    {"OPTIONS","/v1/photos",            api_photos_options,    AUTH_PUBLIC, BODY_NONE},
    {"POST",   "/v1/photos",            api_photos_create,     CHECKERS | AUTH_REPORTER, BODY_STREAM},
    {"OPTIONS","/v1/photos/{hash}",     api_photos_options,    AUTH_PUBLIC, BODY_NONE},
    {"POST",   "/v1/photos/{hash}",     api_photos_create,     CHECKERS | AUTH_REPORTER, BODY_STREAM},
    {"PATCH",  "/v1/photos/{hash}",     api_photos_patch,      CHECKERS | AUTH_REPORTER, BODY_STREAM},
    {"PUT",    "/v1/photos/{hash}",     api_photos_put,        CHECKERS | AUTH_REPORTER, BODY_STREAM},
    {"DELETE", "/v1/photos/{hash}",     api_photos_delete,     CHECKERS | AUTH_REPORTER, BODY_NONE},
    {"HEAD",   "/v1/photos/{hash}",     api_photos_head,       AUTH_ANY_USER | AUTH_REPORTER, BODY_NONE, "image/*"},
    {"GET",    "/v1/photos/{hash}",     api_photos_read,       AUTH_ANY_USER, BODY_NONE, "image/*"},
    {"GET",    "/v1/photos/{hash}/info", api_photos_info,      AUTH_ANY_USER, BODY_NONE},
    /* the public (programme/disclosure.h): approved outfalls' disclosed facts; no token */
    {"GET",    "/public/outfalls",      api_public_outfalls,   AUTH_PUBLIC, BODY_NONE, "application/geo+json"},
    {"GET",    "/public/outfalls/{code}", api_public_outfall,  AUTH_PUBLIC, BODY_NONE, "text/html"},
    {"POST",   "/public/reports",       api_public_report_submit, AUTH_PUBLIC, BODY_FORM},
    {"GET",    "/public/reports/{number}", api_public_report_read, AUTH_PUBLIC, BODY_NONE, "text/html"},
    /* public reports (举报) in the supervisors' queue of their divisions, and their answer */
    {"GET",    "/v1/reports",           api_public_reports_list,      REVIEW_READERS, BODY_NONE},
    {"POST",   "/v1/reports/{number}/answer", api_public_reports_answer, REVIEWERS, BODY_FORM},
    /* random inspections (双随机、一公开): drawn by a supervisor, published for anyone to re-check */
    {"POST",   "/v1/inspections/draws", api_inspections_draw,  REVIEW_READERS, BODY_DECISION},
    {"GET",    "/v1/inspections/draws", api_inspections_draws_list, REVIEW_READERS, BODY_NONE},
    {"GET",    "/v1/inspections/tasks", api_inspections_tasks, CHECKERS, BODY_NONE},
    {"GET",    "/public/inspections/{id}", api_public_inspection, AUTH_PUBLIC, BODY_NONE},
    /* county self-check annual plans (市县自查): recorded by the county, read up to the province */
    {"POST",   "/v1/self-check-plans",  api_self_checks_record, REVIEWERS, BODY_DECISION},
    {"GET",    "/v1/self-check-plans",  api_self_checks_list,  REVIEW_READERS, BODY_NONE},
    {"GET",    "/healthz",              api_health_read,       AUTH_PUBLIC, BODY_NONE},
    /* the supervisors' console (web/); config.json before the {file} row that would match it */
    {"GET",    "/",                     api_web_index,         AUTH_PUBLIC, BODY_NONE, "*/*"},
    {"GET",    "/web/config.json",      api_web_config,        AUTH_PUBLIC, BODY_NONE},
    {"GET",    "/web/{file}",           api_web_file,          AUTH_PUBLIC, BODY_NONE, "*/*"},
    /* the surveyors' field app (web/field/), an offline web app with its service worker */
    {"GET",    "/field",                api_web_field_index,       AUTH_PUBLIC, BODY_NONE, "*/*"},
    {"GET",    "/field/",               api_web_field_index,       AUTH_PUBLIC, BODY_NONE, "*/*"},
    {"GET",    "/field/{file}",         api_web_field_file,        AUTH_PUBLIC, BODY_NONE, "*/*"},
    {"GET",    "/field/vendor/{file}",  api_web_field_vendor,      AUTH_PUBLIC, BODY_NONE, "*/*"},
    /* the public's report form (web/report/): a citizen files a 举报 with photos, no account */
    {"GET",    "/report",               api_web_report_index,      AUTH_PUBLIC, BODY_NONE, "*/*"},
    {"GET",    "/report/",              api_web_report_index,      AUTH_PUBLIC, BODY_NONE, "*/*"},
    {"GET",    "/report/{file}",        api_web_report_file,       AUTH_PUBLIC, BODY_NONE, "*/*"},
    /* Connect unary calls (server/connect.h, the contract's services): POST only, each running
     * its REST twin's handler under the twin's roles and body limit; a twin that reads path
     * segments and query parameters gets them from a request message (BODY_SMALL). */
    {"POST",   "/outfall.v1.SyncService/PushBatch", api_sync_batch, CHECKERS, BODY_CONFIG},
    {"POST",   "/outfall.v1.SyncService/GetChanges", api_changes_pull, AUTH_ANY_USER, BODY_SMALL, NULL, &outfall__v1__get_changes_request__descriptor},
    {"POST",   "/outfall.v1.OutfallService/ListOutfalls", api_outfalls_list, AUTH_ANY_USER, BODY_SMALL, NULL, &outfall__v1__list_outfalls_request__descriptor},
    {"POST",   "/outfall.v1.OutfallService/GetOutfall", api_outfalls_read, AUTH_ANY_USER, BODY_SMALL, NULL, &outfall__v1__get_outfall_request__descriptor, "id"},
    {"POST",   "/outfall.v1.OutfallService/GetOutfallHistory", api_outfalls_history, CHECKERS, BODY_SMALL, NULL, &outfall__v1__get_outfall_history_request__descriptor, "id"},
    {"POST",   "/outfall.v1.OutfallService/GetObservation", api_observations_read, AUTH_ANY_USER, BODY_SMALL, NULL, &outfall__v1__get_observation_request__descriptor, "id"},
    {"POST",   "/outfall.v1.PhotoService/ListMissingPhotos", api_photos_missing, CHECKERS, BODY_HASHES},
    {"POST",   "/outfall.v1.ReviewService/GetReviewQueue", api_review_queue, REVIEW_READERS, BODY_SMALL, NULL, &outfall__v1__get_review_queue_request__descriptor},
    {"POST",   "/outfall.v1.ReviewService/Decide", api_review_decide, REVIEWERS, BODY_DECISION},
    {"POST",   "/outfall.v1.ProgrammeService/Transition", api_programme_transition, REVIEWERS, BODY_DECISION},
    {"POST",   "/outfall.v1.ProgrammeService/GetProgress", api_progress_read, AUTH_ANY_USER, BODY_SMALL, NULL, &outfall__v1__get_progress_request__descriptor},
    {"POST",   "/outfall.v1.ProgrammeService/DrawInspections", api_inspections_draw, REVIEW_READERS, BODY_DECISION},
    {"POST",   "/outfall.v1.ProgrammeService/ListInspectionTasks", api_inspections_tasks, CHECKERS, BODY_SMALL, NULL, &outfall__v1__list_inspection_tasks_request__descriptor},
    {"POST",   "/outfall.v1.ProgrammeService/RecordSelfCheckPlan", api_self_checks_record, REVIEWERS, BODY_DECISION},
    {"POST",   "/outfall.v1.ProgrammeService/ListSelfCheckPlans", api_self_checks_list, REVIEW_READERS, BODY_SMALL, NULL, &outfall__v1__list_self_check_plans_request__descriptor},
    {"POST",   "/outfall.v1.ApplicationService/FileApplication", api_applications_file, REVIEWERS, BODY_DECISION},
    {"POST",   "/outfall.v1.ApplicationService/DecideApplication", api_applications_decide, REVIEWERS, BODY_DECISION},
    {"POST",   "/outfall.v1.ApplicationService/GetApplication", api_applications_read, AUTH_PUBLIC, BODY_SMALL, NULL, &outfall__v1__get_application_request__descriptor, "id"},
    {"POST",   "/outfall.v1.ApplicationService/ListApplications", api_applications_list, AUTH_ANY_USER, BODY_SMALL, NULL, &outfall__v1__list_applications_request__descriptor},
    {"POST",   "/outfall.v1.AccountService/Login", api_auth_login, AUTH_PUBLIC, BODY_SMALL},
    {"POST",   "/outfall.v1.AccountService/Logout", api_auth_logout, AUTH_ANY_USER, BODY_SMALL, NULL, &outfall__v1__logout_request__descriptor},
    {"POST",   "/outfall.v1.AccountService/EnrollDevice", api_devices_enroll, CHECKERS, BODY_SMALL},
    {"POST",   "/outfall.v1.AccountService/ListUsers", api_users_list, AUTH_ADMIN, BODY_SMALL, NULL, &outfall__v1__list_users_request__descriptor},
    {"POST",   "/outfall.v1.AccountService/ListBackups", api_backups_list, AUTH_ADMIN, BODY_SMALL, NULL, &outfall__v1__list_backups_request__descriptor},
    {"POST",   "/outfall.v1.AccountService/CreateUser", api_users_create, AUTH_ADMIN, BODY_SMALL},
    {"POST",   "/outfall.v1.AccountService/ListDevices", api_users_devices, AUTH_ANY_USER, BODY_SMALL, NULL, &outfall__v1__list_devices_request__descriptor, "username"},
    {"POST",   "/outfall.v1.AccountService/RevokeDevice", api_users_revoke_device, AUTH_ANY_USER, BODY_SMALL, NULL, &outfall__v1__revoke_device_request__descriptor, "username,id"},
    {"POST",   "/outfall.v1.AccountService/ListTokens", api_users_tokens, AUTH_ANY_USER, BODY_SMALL, NULL, &outfall__v1__list_tokens_request__descriptor, "username"},
    {"POST",   "/outfall.v1.AccountService/RevokeToken", api_users_revoke_token, AUTH_ANY_USER, BODY_SMALL, NULL, &outfall__v1__revoke_token_request__descriptor, "username,id"},
    {"POST",   "/outfall.v1.AccountService/ChangePassword", api_me_password, AUTH_ANY_USER, BODY_SMALL},
    /* issue 21: the rest of the RPC-shaped routes (docs/api.md, Connect, says which stay REST) */
    {"POST",   "/outfall.v1.AccountService/UpdateUser", api_users_update, AUTH_ADMIN, BODY_SMALL, NULL, &outfall__v1__user__descriptor, "username", 1},
    {"POST",   "/outfall.v1.AccountService/ResetPassword", api_users_reset_password, AUTH_ADMIN, BODY_SMALL, NULL, &outfall__v1__password_reset__descriptor, "username", 1},
    {"POST",   "/outfall.v1.AccountService/RevokeDeviceById", api_devices_revoke, AUTH_ADMIN, BODY_SMALL, NULL, &outfall__v1__revoke_device_by_id_request__descriptor, "id"},
    {"POST",   "/outfall.v1.PhotoService/GetPhotoInfo", api_photos_info, AUTH_ANY_USER, BODY_SMALL, NULL, &outfall__v1__get_photo_info_request__descriptor, "hash"},
    {"POST",   "/outfall.v1.ProgrammeService/ListInspectionDraws", api_inspections_draws_list, REVIEW_READERS, BODY_SMALL, NULL, &outfall__v1__list_inspection_draws_request__descriptor},
    {"POST",   "/outfall.v1.ZoneService/ListZones", api_zones_list, AUTH_ANY_USER, BODY_SMALL, NULL, &outfall__v1__list_zones_request__descriptor},
    {"POST",   "/outfall.v1.ZoneService/FindZonesAt", api_zones_at, AUTH_ANY_USER, BODY_SMALL, NULL, &outfall__v1__find_zones_at_request__descriptor},
    {"POST",   "/outfall.v1.ReportService/ListPublicReports", api_public_reports_list, REVIEW_READERS, BODY_SMALL, NULL, &outfall__v1__list_public_reports_request__descriptor},
    {"POST",   "/outfall.v1.ReportService/AnswerPublicReport", api_public_reports_answer, REVIEWERS, BODY_FORM, NULL, &outfall__v1__report_answer__descriptor, "number", 1},
    {"POST",   "/outfall.v1.ReportService/ListReportFilings", api_filings_list, AUTH_ANY_USER, BODY_SMALL, NULL, &outfall__v1__list_report_filings_request__descriptor},
    {"POST",   "/outfall.v1.ReportService/FileAnnualReport", api_filings_mark, REVIEWERS, BODY_FORM},
    {"POST",   "/outfall.v1.PublicService/SubmitPublicReport", api_public_report_submit, AUTH_PUBLIC, BODY_FORM},
    {"POST",   "/outfall.v1.PublicService/GetPublicReport", api_public_report_read, AUTH_PUBLIC, BODY_SMALL, NULL, &outfall__v1__get_public_report_request__descriptor, "number"},
    {"POST",   "/outfall.v1.PublicService/GetInspectionDraw", api_public_inspection, AUTH_PUBLIC, BODY_SMALL, NULL, &outfall__v1__get_inspection_draw_request__descriptor, "id"},
};
/* clang-format on */

/* The query parameters each path takes, for every method: a name not listed is 400
 * unknown_query_parameter, never silently ignored (a misspelt filter would answer the whole
 * list). Names are the contract's snake_case, each also taken in lowerCamelCase (reviewState)
 * as the protobuf JSON mapping spells fields (http_query reads either). A path not listed takes
 * none; "*" takes any (the web apps' files, where a query only tells caches apart). */
typedef struct route_query {
    const char *pattern;
    const char *names; /* space-separated */
} route_query;

/* clang-format off */
static const route_query route_queries[] = {
    {"/v1/changes",                 "since limit wait"},
    {"/v1/outfalls",                "view q type stage flag overdue river division review_state page_token limit"},
    {"/v1/outfalls/{id}",           "view"},
    {"/v1/outfalls/{id}/signboard", "format"},
    {"/v1/review/queue",            "kind division river page_token limit"},
    {"/v1/progress",                "format as_of division river"},
    {"/v1/zones",                   "geometry"},
    {"/v1/zones/at",                "lat lon"},
    {"/v1/exports/outfalls.geojson", "division river from to updated_since"},
    {"/v1/exports/outfalls.csv",    "division river from to updated_since"},
    {"/v1/exports/photos.tar",      "division river from to updated_since"},
    {"/v1/reports/annual",          "year division format filing current"},
    {"/v1/reports/filings",         "year"},
    {"/v1/applications",            "status division page_token limit"},
    {"/v1/photos/{hash}",           "holder"},
    {"/v1/reports",                 "status"},
    {"/v1/self-check-plans",        "year division"},
    {"/v1/inspections/draws",       "limit page_token"},
    {"/",                           "*"},
    {"/web/{file}",                 "*"},
    {"/field",                      "*"},
    {"/field/",                     "*"},
    {"/field/{file}",               "*"},
    {"/field/vendor/{file}",        "*"},
    {"/report",                     "*"},
    {"/report/",                    "*"},
    {"/report/{file}",              "*"},
};
/* clang-format on */

/* 1 when the space-separated names hold name, as written or in lowerCamelCase. */
static int query_name_listed(const char *names, const char *name) {
    for (const char *p = names; *p;) {
        size_t n = strcspn(p, " ");
        char camel[64];
        if (strlen(name) == n && strncmp(p, name, n) == 0) return 1;
        if (http_camel_case(p, n, camel, sizeof camel) && strcmp(camel, name) == 0) return 1;
        p += n + (p[n] == ' ');
    }
    return 0;
}

/* Refuses r's query when it names a parameter the route's path does not take. Returns 0, or the
 * 400 unknown_query_parameter naming it and what the path takes. */
static int query_check(http_req *r, const char *pattern) {
    const char *qs = r->ri->query_string, *names = "";
    if (!qs || !*qs) return 0;
    for (size_t i = 0; i < sizeof route_queries / sizeof route_queries[0]; i++)
        if (strcmp(route_queries[i].pattern, pattern) == 0) names = route_queries[i].names;
    if (strcmp(names, "*") == 0) return 0;
    for (const char *p = qs; *p;) {
        size_t n = strcspn(p, "&"), key = strcspn(p, "=&");
        char name[64];
        if (key > 0) {
            int len = key < sizeof name ? mg_url_decode(p, (int)key, name, sizeof name, 1) : -1;
            if (len < 0) snprintf(name, sizeof name, "%.*s...", 40, p); /* too long to be one */
            if (len < 0 || !query_name_listed(names, name))
                return http_error(r, 400, "unknown_query_parameter",
                                  "%s takes no query parameter \"%s\"%s%s", pattern, name,
                                  names[0] ? "; it takes: " : "", names);
        }
        p += n + (p[n] == '&');
    }
    return 0;
}

/* 1 when r's Accept takes one of the comma-separated media types of list (NULL: none). */
static int accepts_any(const http_req *r, const char *list) {
    char type[64];
    if (list && strcmp(list, "*/*") == 0) return 1; /* a web app's file goes as it is */
    for (const char *p = list; p && *p;) {
        size_t n = strcspn(p, ",");
        if (n < sizeof type) {
            memcpy(type, p, n);
            type[n] = '\0';
            if (http_accepts(r, type)) return 1;
        }
        p += n + (p[n] == ',');
    }
    return 0;
}

/* 1 when path fits pattern; the {name} segments are copied into r->params in order. */
static int path_match(const char *pattern, const char *path, http_req *r) {
    int n = 0;
    while (*pattern && *path) {
        if (*pattern == '{') {
            const char *close = strchr(pattern, '}');
            size_t seg = strcspn(path, "/");
            if (!close || seg == 0 || seg >= HTTP_PARAM_LEN || n >= HTTP_MAX_PARAMS) return 0;
            memcpy(r->params[n], path, seg);
            r->params[n++][seg] = '\0';
            pattern = close + 1;
            path += seg;
        } else if (*pattern++ != *path++) {
            return 0;
        }
    }
    return *pattern == '\0' && *path == '\0';
}

/* The request headers a page of an allowed origin may send (CORS preflight). */
#define CORS_ALLOWED_HEADERS                                                                       \
    "Authorization, Content-Type, Accept, X-Device-Signature, If-None-Match, If-Range, Range, "    \
    "Tus-Resumable, Upload-Length, Upload-Offset, Upload-Metadata, Upload-Checksum, "              \
    "Upload-Defer-Length, X-HTTP-Method-Override, Connect-Protocol-Version, Connect-Timeout-Ms"

/* 1 when origin is one of --cors-origin's, compared whole. */
static int cors_allowed(const server_config *cfg, const char *origin) {
    size_t n = strlen(origin);
    for (const char *p = cfg->cors_origins; *p;) {
        size_t len = strcspn(p, ",");
        if (len == n && strncmp(p, origin, n) == 0) return 1;
        p += len;
        if (*p == ',') p++;
    }
    return 0;
}

/* Answers a CORS preflight (OPTIONS with Origin and Access-Control-Request-Method) for a path
 * with a route taking method: 204 with the allowances for an origin of --cors-origin; 403
 * cors_origin_not_allowed for any other (the browser then sends nothing). */
static int cors_preflight(http_req *r, const char *method, int method_routed) {
    if (!r->cors_origin[0])
        return http_error(r, 403, "cors_origin_not_allowed",
                          "pages of this origin may not call this server (see --cors-origin)");
    if (!method_routed)
        return http_error(r, 405, "method_not_allowed", "%s does not take %.16s", r->path, method);
    snprintf(r->headers, sizeof r->headers,
             "Access-Control-Allow-Methods: %.16s\r\nAccess-Control-Allow-Headers: "
             "%s\r\nAccess-Control-Max-Age: 600\r\n",
             method, CORS_ALLOWED_HEADERS);
    http_send_empty(r, 204);
    return 0;
}

/* The methods a POST may name in X-HTTP-Method-Override (tus core), to be routed as. */
static const char *const override_methods[] = {"PATCH", "DELETE", "HEAD"};

/* Applies X-HTTP-Method-Override: a POST naming one of override_methods is routed as that
 * method (its route, role rule and body limit). Returns 0, or method_override_not_allowed (400)
 * for another method named, or the header on anything but a POST. */
static int method_override(http_req *r) {
    const char *name = mg_get_header(r->conn, "X-HTTP-Method-Override");
    if (!name) return 0;
    for (size_t i = 0;
         strcmp(r->method, "POST") == 0 && i < sizeof override_methods / sizeof override_methods[0];
         i++)
        if (strcmp(name, override_methods[i]) == 0) {
            r->method = override_methods[i];
            return 0;
        }
    return http_error(r, 400, "method_override_not_allowed",
                      "X-HTTP-Method-Override goes on a POST and names PATCH, DELETE or HEAD, "
                      "not %.16s on %.16s",
                      name, r->method);
}

/* Finds r's route, applies its gate and runs it with a database handle. Returns the handler's
 * result, or a negative code with r->err filled (not_found, method_not_allowed, busy, the
 * gate's refusal, a CORS refusal). */
static int route_serve(http_req *r) {
    const route *found = NULL, *get = NULL;
    const char *origin = mg_get_header(r->conn, "Origin");
    const char *preflight = mg_get_header(r->conn, "Access-Control-Request-Method");
    int method_routed = 0;
    if (method_override(r) < 0) return r->err.rc;
    int head = strcmp(r->method, "HEAD") == 0; /* also a POST overridden as HEAD */
    if (origin && cors_allowed(r->cfg, origin))
        util_strlcpy(r->cors_origin, origin, sizeof r->cors_origin);
    if (strcmp(r->method, "OPTIONS") != 0 || !origin) preflight = NULL;
    for (size_t i = 0; i < sizeof routes / sizeof routes[0] && !found; i++) {
        if (!path_match(routes[i].pattern, r->path, r)) continue;
        if (preflight && strcmp(routes[i].method, preflight) == 0) method_routed = 1;
        if (strcmp(routes[i].method, r->method) == 0 && !preflight) {
            found = &routes[i];
        } else if (head && !preflight && !get && strcmp(routes[i].method, "GET") == 0) {
            get = &routes[i];
        } else {
            size_t used = strlen(r->allow);
            snprintf(r->allow + used, sizeof r->allow - used, "%s%s", used ? ", " : "",
                     routes[i].method);
        }
    }
    /* HEAD where only GET is routed: the GET's handler answers, and the answer's head goes
     * without its body (http_send_head and the streamed answers leave it out for HEAD). */
    if (!found && get) found = get;
    if (!head && strstr(r->allow, "GET") && !strstr(r->allow, "HEAD")) {
        size_t used = strlen(r->allow);
        snprintf(r->allow + used, sizeof r->allow - used, ", HEAD");
    }
    if (preflight && r->allow[0]) return cors_preflight(r, preflight, method_routed);
    /* A Connect method is answered "unimplemented" for a path no method has, and for a method
     * other than POST (HTTP keeps 404 and 405). */
    if (r->connect && !found) r->connect_code = "unimplemented";
    if (!found && r->allow[0])
        return http_error(r, 405, "method_not_allowed", "%s does not take %s (allowed: %s)",
                          r->path, r->method, r->allow);
    if (!found) return http_error(r, 404, "not_found", "no endpoint at %s", r->path);
    if (r->connect && connect_check_call(r) < 0) return r->err.rc;
    snprintf(r->action, sizeof r->action, "%s %s", r->method, found->pattern);
    if (!r->accepts_message && !accepts_any(r, found->produces))
        return http_not_acceptable(r, found->produces ? found->produces : NULL);
    /* a Connect call's parameters are its message's; the URL's query is not read (connect.h) */
    if (!r->connect && query_check(r, found->pattern) < 0) return r->err.rc;
    r->body_limit = found->max_body == BODY_CONFIG ? r->cfg->max_body : found->max_body;
    int rc = http_store_acquire(r);
    if (rc < 0) return rc;
    if (found->who != AUTH_PUBLIC) {
        rc = auth_authenticate(r);
        if (rc == 0) rc = auth_require_role(r, found->who);
        /* after an admin's reset, the token serves only the password change and a logout */
        if (rc == 0 && found->handler != api_me_password && found->handler != api_auth_logout)
            rc = auth_require_password_current(r);
        if (rc < 0) return rc;
    }
    if (found->connect_request &&
        (rc = connect_unpack_request(r, found->connect_request, found->connect_path_fields,
                                     found->connect_body_kept)) < 0)
        return rc;
    return found->handler(r);
}

/* Milliseconds from a clock that never jumps, for request durations. */
static double monotonic_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

int routes_handle(struct mg_connection *conn, void *cbdata) {
    const server_config *cfg = cbdata;
    http_req r;
    char client[64] = "";
    double start = monotonic_ms();
    cores_worker_place();
    int rc = http_req_start(&r, conn, cfg);
    /* Behind the proxy every connection comes from it: its clients are capped by the address it
     * names, request by request (server/admit.h). */
    if (cfg->real_ip_header[0]) auth_client_addr(&r, client, sizeof client);
    if (client[0] && !admit_request_begin(client) && rc == 0) {
        r.must_close = 1;
        snprintf(r.headers, sizeof r.headers, "Retry-After: 5\r\n");
        rc = http_error(&r, 503, "too_many_connections",
                        "too many requests at once from this address; try again");
    }
    if (rc == 0) rc = route_serve(&r);
    if (rc < 0 && r.status == 0) http_send_error(&r);
    if (r.status == 0) http_send_empty(&r, 500);
    if (r.status >= 400)
        fprintf(stderr, "%s %s %s %d %.1fms %s\n", r.ri->remote_addr, r.method, r.path, r.status,
                monotonic_ms() - start, r.err.code);
    else
        fprintf(stderr, "%s %s %s %d %.1fms\n", r.ri->remote_addr, r.method, r.path, r.status,
                monotonic_ms() - start);
    http_req_finish(&r);
    if (client[0]) admit_request_end(client);
    return r.status;
}
