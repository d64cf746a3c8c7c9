/* The role × endpoint matrix (issue 5, "Bad inputs and roles"): every endpoint of the route table
 * called as each role, as a supervisor of another division, with no, an expired and a revoked
 * token, and with another user's phone's signature. Every expected answer lives in `matrix`
 * below, one row per endpoint and one column per caller; each cell is its own test. A refusal
 * (4xx) must leave the database as it was (checksum of every table but audit and tokens), and a
 * 401 or 403 must add a row to the audit trail. `every_route_has_a_row` reads server/routes.c so
 * an endpoint added there without a row here fails the suite.
 *
 * A 200 row's second field names what the answer must show: "+A" / "-A" (record A of division A,
 * approved and edited since, is / is not in the list, feed, queue or export), or a sync change's
 * status or REJECTED reason. */
#include <setjmp.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "common/credit_code.h"
#include "common/pbjson.h"
#include "common/util.h"
#include "tests/lib/harness.h"

#include "tests/api/roles_calls.h"
#include "tests/api/roles_connect.h"

/* ---- the matrix ---- */

typedef struct expect {
    long status;
    const char *code; /* Error.code, or the 2xx tag ("" when none is checked) */
} expect;

typedef struct row {
    const char *method, *pattern; /* as written in server/routes.c */
    void (*prep)(ctx *);          /* what the call needs, made before the checksum; may be NULL */
    void (*call)(ctx *, outcome *);
    expect want[N_COLS];
} row;

#define OK(s)                                                                                      \
    { s, "" }
#define SEES                                                                                       \
    { 200, "+A" }
#define BLIND                                                                                      \
    { 200, "-A" }
#define ROLE                                                                                       \
    { 403, "forbidden_role" }
#define HIDDEN                                                                                     \
    { 404, "not_found" }
#define MISSING                                                                                    \
    { 401, "token_missing" }
#define EXPIRES                                                                                    \
    { 401, "token_expired" }
#define REVOKES                                                                                    \
    { 401, "token_revoked" }
#define GATE MISSING, EXPIRES, REVOKES /* the three bad-token columns of a gated endpoint */
#define PUBLIC(s) OK(s), OK(s), OK(s)  /* ... and of a public one */
#define MOVED                                                                                      \
    { 308, "moved_permanently" } /* a permanent redirect, whoever asks */
#define NOBODY(s)                                                                                  \
    { s, "(no body)" } /* a HEAD's refusal: no Error to read */

/* clang-format off */
static const row matrix[] = {
  /* method, pattern, prep, call,
   *    surveyor   supervisor  integrator  admin      other div.   no/expired/revoked  foreign device
   *    province checker */
  {"POST", "/v1/auth/login", NULL, login,
     {OK(200),     OK(200),    OK(200),    OK(200),   OK(200),     PUBLIC(200),        OK(200), OK(200)}},
  {"POST", "/v1/auth/logout", fresh_token, logout,
     {OK(204),     OK(204),    OK(204),    OK(204),   OK(204),     GATE,               OK(204), OK(204)}},
  {"POST", "/v1/devices", NULL, enroll,
     {OK(201),     OK(201),    ROLE,       OK(201),   OK(201),     GATE,               OK(201), OK(201)}},
  {"DELETE", "/v1/devices/{id}", fresh_device, revoke,
     {ROLE,        ROLE,       ROLE,       OK(204),   ROLE,        GATE,               ROLE, ROLE}},
  {"POST", "/v1/users", NULL, user_create,
     {ROLE,        ROLE,       ROLE,       OK(201),   ROLE,        GATE,               ROLE, ROLE}},
  {"GET", "/v1/users", NULL, user_list,
     {ROLE,        ROLE,       ROLE,       OK(200),   ROLE,        GATE,               ROLE, ROLE}},
  {"GET", "/v1/backups", NULL, backups_list,
     {ROLE,        ROLE,       ROLE,       OK(200),   ROLE,        GATE,               ROLE, ROLE}},
  /* another user's account: admins only (each user reaches their own: tests/api/test_accounts.c) */
  {"PATCH", "/v1/users/{username}", fresh_user, user_update,
     {ROLE,        ROLE,       ROLE,       OK(200),   ROLE,        GATE,               ROLE, ROLE}},
  {"POST", "/v1/users/{username}/password", fresh_user, user_reset_password,
     {ROLE,        ROLE,       ROLE,       OK(200),   ROLE,        GATE,               ROLE, ROLE}},
  {"GET", "/v1/users/{username}/devices", fresh_user_device, user_devices,
     {ROLE,        ROLE,       ROLE,       OK(200),   ROLE,        GATE,               ROLE, ROLE}},
  {"DELETE", "/v1/users/{username}/devices/{id}", fresh_user_device, user_device_revoke,
     {ROLE,        ROLE,       ROLE,       OK(204),   ROLE,        GATE,               ROLE, ROLE}},
  {"GET", "/v1/users/{username}/tokens", fresh_user_token, user_tokens,
     {ROLE,        ROLE,       ROLE,       OK(200),   ROLE,        GATE,               ROLE, ROLE}},
  {"DELETE", "/v1/users/{username}/tokens/{id}", fresh_user_token, user_token_revoke,
     {ROLE,        ROLE,       ROLE,       OK(204),   ROLE,        GATE,               ROLE, ROLE}},
  {"POST", "/v1/me/password", NULL, own_password,
     {{400, "weak_password"}, {400, "weak_password"}, {400, "weak_password"}, {400, "weak_password"},
      {400, "weak_password"}, GATE, {400, "weak_password"}, {400, "weak_password"}}},
  {"POST", "/v1/sync", NULL, sync,
     {{200, "APPLIED"}, {200, "APPLIED"}, ROLE, {200, "APPLIED"}, {200, "outside_division"}, GATE,
      {403, "device_not_yours"}, {200, "read_only_role"}}},
  {"GET", "/v1/changes", NULL, changes,
     {SEES,        SEES,       SEES,       SEES,      BLIND,       GATE,               SEES, SEES}},
  {"GET", "/v1/outfalls", NULL, outfalls,
     {SEES,        SEES,       SEES,       SEES,      BLIND,       GATE,               SEES, SEES}},
  {"GET", "/v1/outfalls/{id}", NULL, outfall,
     {OK(200),     OK(200),    OK(200),    OK(200),   HIDDEN,      GATE,               OK(200), OK(200)}},
  {"GET", "/v1/outfalls/{id}/history", NULL, history,
     {OK(200),     OK(200),    ROLE,       OK(200),   HIDDEN,      GATE,               OK(200), OK(200)}},
  {"GET", "/v1/outfalls/{id}/signboard", NULL, signboard, /* public facts: no division scope */
     {OK(200),     OK(200),    ROLE,       OK(200),   OK(200),     GATE,               OK(200), OK(200)}},
  {"GET", "/v1/observations/{id}", NULL, observation, /* record U's: never approved */
     {OK(200),     OK(200),    HIDDEN,     OK(200),   HIDDEN,      GATE,               OK(200), OK(200)}},
  {"GET", "/v1/review/queue", NULL, queue,
     {ROLE,        SEES,       ROLE,       SEES,      BLIND,       GATE,               ROLE, SEES}},
  {"POST", "/v1/review/decisions", fresh_record, decide,
     {ROLE,        OK(200),    ROLE,       OK(200),   {403, "outside_division"}, GATE, ROLE, ROLE}},
  {"POST", "/v1/photos/missing", NULL, photos_missing,
     {OK(200),     OK(200),    ROLE,       OK(200),   OK(200),     GATE,               OK(200), OK(200)}},
  {"OPTIONS", "/v1/photos", NULL, photos_options,
     {OK(204),     OK(204),    OK(204),    OK(204),   OK(204),     PUBLIC(204),        OK(204), OK(204)}},
  {"POST", "/v1/photos", fresh_photo, tus_create,
     {OK(201),     OK(201),    ROLE,       OK(201),   OK(201),     GATE,               OK(201), OK(201)}},
  {"OPTIONS", "/v1/photos/{hash}", NULL, photo_options,
     {OK(204),     OK(204),    OK(204),    OK(204),   OK(204),     PUBLIC(204),        OK(204), OK(204)}},
  {"POST", "/v1/photos/{hash}", fresh_photo, tus_create_at,
     {OK(201),     OK(201),    ROLE,       OK(201),   OK(201),     GATE,               OK(201), OK(201)}},
  {"PATCH", "/v1/photos/{hash}", fresh_upload, tus_patch,
     {OK(204),     OK(204),    ROLE,       OK(204),   OK(204),     GATE,               OK(204), OK(204)}},
  {"PUT", "/v1/photos/{hash}", fresh_photo, put_photo,
     {OK(201),     OK(201),    ROLE,       OK(201),   OK(201),     GATE,               OK(201), OK(201)}},
  {"DELETE", "/v1/photos/{hash}", fresh_upload, tus_delete,
     {OK(204),     OK(204),    ROLE,       OK(204),   OK(204),     GATE,               OK(204), OK(204)}},
  {"HEAD", "/v1/photos/{hash}", NULL, photo_head, /* record U's photo, as below */
     {OK(200),     OK(200),    NOBODY(404), OK(200),  NOBODY(404), NOBODY(401), NOBODY(401),
      NOBODY(401), OK(200), OK(200)}},
  {"GET", "/v1/photos/{hash}", NULL, photo_get,
     {OK(200),     OK(200),    HIDDEN,     OK(200),   HIDDEN,      GATE,               OK(200), OK(200)}},
  {"GET", "/v1/photos/{hash}/info", NULL, photo_info,
     {OK(200),     OK(200),    HIDDEN,     OK(200),   HIDDEN,      GATE,               OK(200), OK(200)}},
  {"POST", "/v1/programme/transitions", fresh_approved, transition,
     {ROLE,        OK(200),    ROLE,       OK(200),   {403, "outside_division"}, GATE, ROLE, ROLE}},
  {"GET", "/v1/progress", NULL, progress,
     {OK(200),     OK(200),    OK(200),    OK(200),   {403, "outside_division"}, GATE,  OK(200), OK(200)}},
  {"GET", "/v1/reports/annual", NULL, annual_report,
     {OK(200),     OK(200),    OK(200),    OK(200),   {403, "outside_division"}, GATE,  OK(200), OK(200)}},
  {"POST", "/v1/applications", NULL, application_file,
     {ROLE,        OK(200),    ROLE,       OK(200),   {403, "outside_division"}, GATE, ROLE, ROLE}},
  {"POST", "/v1/applications/decisions", fresh_application, application_decide,
     {ROLE,        OK(200),    ROLE,       OK(200),   {403, "outside_division"}, GATE, ROLE, ROLE}},
  {"GET", "/v1/applications", fresh_application, application_list,
     {SEES,        SEES,       SEES,       SEES,      BLIND,       GATE,               SEES, SEES}},
  {"GET", "/v1/applications/{id}", fresh_application, application_read,
     {OK(200),     OK(200),    OK(200),    OK(200),   OK(200),     PUBLIC(200),        OK(200), OK(200)}},
  {"POST", "/v1/reports/annual/filed", NULL, report_filed,
     {ROLE,        OK(200),    ROLE,       OK(200),   {403, "outside_division"}, GATE, ROLE, ROLE}},
  {"GET", "/v1/reports/filings", NULL, report_filings,
     {OK(200),     OK(200),    OK(200),    OK(200),   OK(200),     GATE,               OK(200), OK(200)}},
  {"POST", "/v1/zones", NULL, zones_import,
     {ROLE,        ROLE,       ROLE,       OK(200),   ROLE,        GATE,               ROLE, ROLE}},
  {"GET", "/v1/zones", NULL, zones_list,
     {OK(200),     OK(200),    OK(200),    OK(200),   OK(200),     GATE,               OK(200), OK(200)}},
  {"GET", "/v1/zones/at", NULL, zones_at,
     {OK(200),     OK(200),    OK(200),    OK(200),   OK(200),     GATE,               OK(200), OK(200)}},
  {"GET", "/v1/exports/outfalls.geojson", NULL, export_geojson,
     {SEES,        SEES,       SEES,       SEES,      {403, "outside_division"}, GATE,  SEES, SEES}},
  {"GET", "/v1/exports/outfalls.csv", NULL, export_csv,
     {SEES,        SEES,       SEES,       SEES,      {403, "outside_division"}, GATE,  SEES, SEES}},
  {"GET", "/v1/exports/photos.tar", NULL, export_photos,
     {SEES,        SEES,       SEES,       SEES,      {403, "outside_division"}, GATE,  SEES, SEES}},
  {"GET", "/public/outfalls", NULL, public_outfalls,
     {OK(200),     OK(200),    OK(200),    OK(200),   OK(200),     PUBLIC(200),        OK(200), OK(200)}},
  {"GET", "/public/outfalls/{code}", NULL, public_outfall,
     {OK(200),     OK(200),    OK(200),    OK(200),   OK(200),     PUBLIC(200),        OK(200), OK(200)}},
  {"POST", "/public/reports", fresh_report, report_submit,
     {OK(201),     OK(201),    OK(201),    OK(201),   OK(201),     PUBLIC(201),        OK(201), OK(201)}},
  {"GET", "/public/reports/{number}", fresh_report, report_read,
     {OK(200),     OK(200),    OK(200),    OK(200),   OK(200),     PUBLIC(200),        OK(200), OK(200)}},
  {"GET", "/v1/reports", fresh_report, reports_list,
     {ROLE,        SEES,       ROLE,       SEES,      BLIND,       GATE,               ROLE, SEES}},
  {"POST", "/v1/reports/{number}/answer", fresh_report, report_answer,
     {ROLE,        OK(200),    ROLE,       OK(200),   {403, "outside_division"}, GATE, ROLE, ROLE}},
  {"POST", "/v1/inspections/draws", NULL, inspection_draw,
     {ROLE,        OK(200),    ROLE,       OK(200),   {403, "outside_division"}, GATE, ROLE, OK(200)}},
  {"GET", "/v1/inspections/draws", fresh_draw, inspection_draws_list, /* those of A: not B's */
     {ROLE,        SEES,       ROLE,       SEES,      BLIND,       GATE,               ROLE, SEES}},
  {"GET", "/v1/inspections/tasks", NULL, inspection_tasks, /* the caller's own picks only */
     {OK(200),     OK(200),    ROLE,       OK(200),   OK(200),     GATE,               OK(200), OK(200)}},
  {"POST", "/v1/self-check-plans", NULL, self_check_record,
     {ROLE,        OK(200),    ROLE,       OK(200),   {403, "outside_division"}, GATE, ROLE, ROLE}},
  {"GET", "/v1/self-check-plans", NULL, self_check_list,
     {ROLE,        OK(200),    ROLE,       OK(200),   {403, "outside_division"}, GATE, ROLE, OK(200)}},
  {"GET", "/public/inspections/{id}", fresh_draw, inspection_read,
     {OK(200),     OK(200),    OK(200),    OK(200),   OK(200),     PUBLIC(200),        OK(200), OK(200)}},
  {"GET", "/healthz", NULL, healthz,
     {OK(200),     OK(200),    OK(200),    OK(200),   OK(200),     PUBLIC(200),        OK(200), OK(200)}},
  {"GET", "/", NULL, web_index,
     {OK(200),     OK(200),    OK(200),    OK(200),   OK(200),     PUBLIC(200),        OK(200), OK(200)}},
  {"GET", "/web/config.json", NULL, web_config,
     {OK(200),     OK(200),    OK(200),    OK(200),   OK(200),     PUBLIC(200),        OK(200), OK(200)}},
  {"GET", "/web/{file}", NULL, web_file,
     {OK(200),     OK(200),    OK(200),    OK(200),   OK(200),     PUBLIC(200),        OK(200), OK(200)}},
  {"GET", "/field", NULL, field_redirect, /* to /field/, so the app's addresses are its folder's */
     {MOVED,       MOVED,      MOVED,      MOVED,     MOVED,       MOVED, MOVED, MOVED, MOVED, MOVED}},
  {"GET", "/field/", NULL, field_index,
     {OK(200),     OK(200),    OK(200),    OK(200),   OK(200),     PUBLIC(200),        OK(200), OK(200)}},
  {"GET", "/field/{file}", NULL, field_file,
     {OK(200),     OK(200),    OK(200),    OK(200),   OK(200),     PUBLIC(200),        OK(200), OK(200)}},
  {"GET", "/field/vendor/{file}", NULL, field_vendor,
     {OK(200),     OK(200),    OK(200),    OK(200),   OK(200),     PUBLIC(200),        OK(200), OK(200)}},
  {"GET", "/report", NULL, report_redirect, /* to /report/, as the field app's */
     {MOVED,       MOVED,      MOVED,      MOVED,     MOVED,       MOVED, MOVED, MOVED, MOVED, MOVED}},
  {"GET", "/report/", NULL, report_index,
     {OK(200),     OK(200),    OK(200),    OK(200),   OK(200),     PUBLIC(200),        OK(200), OK(200)}},
  {"GET", "/report/{file}", NULL, report_file,
     {OK(200),     OK(200),    OK(200),    OK(200),   OK(200),     PUBLIC(200),        OK(200), OK(200)}},
  /* Connect methods (tests/api/roles_connect.h): their REST twin's answers, 200 for its 201 and
   * 204 (issue 21.2) */
  {"POST", "/outfall.v1.SyncService/PushBatch", NULL, rpc_sync,
     {{200, "APPLIED"}, {200, "APPLIED"}, ROLE, {200, "APPLIED"}, {200, "outside_division"}, GATE,
      {403, "device_not_yours"}, {200, "read_only_role"}}},
  {"POST", "/outfall.v1.SyncService/GetChanges", NULL, rpc_changes,
     {SEES,        SEES,       SEES,       SEES,      BLIND,       GATE,               SEES, SEES}},
  {"POST", "/outfall.v1.OutfallService/ListOutfalls", NULL, rpc_outfalls,
     {SEES,        SEES,       SEES,       SEES,      BLIND,       GATE,               SEES, SEES}},
  {"POST", "/outfall.v1.OutfallService/GetOutfall", NULL, rpc_outfall,
     {OK(200),     OK(200),    OK(200),    OK(200),   HIDDEN,      GATE,               OK(200), OK(200)}},
  {"POST", "/outfall.v1.OutfallService/GetOutfallHistory", NULL, rpc_history,
     {OK(200),     OK(200),    ROLE,       OK(200),   HIDDEN,      GATE,               OK(200), OK(200)}},
  {"POST", "/outfall.v1.OutfallService/GetObservation", NULL, rpc_observation,
     {OK(200),     OK(200),    HIDDEN,     OK(200),   HIDDEN,      GATE,               OK(200), OK(200)}},
  {"POST", "/outfall.v1.PhotoService/ListMissingPhotos", NULL, rpc_photos_missing,
     {OK(200),     OK(200),    ROLE,       OK(200),   OK(200),     GATE,               OK(200), OK(200)}},
  {"POST", "/outfall.v1.ReviewService/GetReviewQueue", NULL, rpc_queue,
     {ROLE,        SEES,       ROLE,       SEES,      BLIND,       GATE,               ROLE, SEES}},
  {"POST", "/outfall.v1.ReviewService/Decide", fresh_record, rpc_decide,
     {ROLE,        OK(200),    ROLE,       OK(200),   {403, "outside_division"}, GATE, ROLE, ROLE}},
  {"POST", "/outfall.v1.ProgrammeService/Transition", fresh_approved, rpc_transition,
     {ROLE,        OK(200),    ROLE,       OK(200),   {403, "outside_division"}, GATE, ROLE, ROLE}},
  {"POST", "/outfall.v1.ProgrammeService/GetProgress", NULL, rpc_progress,
     {OK(200),     OK(200),    OK(200),    OK(200),   {403, "outside_division"}, GATE,  OK(200), OK(200)}},
  {"POST", "/outfall.v1.ProgrammeService/DrawInspections", NULL, rpc_inspection_draw,
     {ROLE,        OK(200),    ROLE,       OK(200),   {403, "outside_division"}, GATE, ROLE, OK(200)}},
  {"POST", "/outfall.v1.ProgrammeService/ListInspectionTasks", NULL, rpc_inspection_tasks,
     {OK(200),     OK(200),    ROLE,       OK(200),   OK(200),     GATE,               OK(200), OK(200)}},
  {"POST", "/outfall.v1.ProgrammeService/RecordSelfCheckPlan", NULL, rpc_self_check_record,
     {ROLE,        OK(200),    ROLE,       OK(200),   {403, "outside_division"}, GATE, ROLE, ROLE}},
  {"POST", "/outfall.v1.ProgrammeService/ListSelfCheckPlans", NULL, rpc_self_check_list,
     {ROLE,        OK(200),    ROLE,       OK(200),   {403, "outside_division"}, GATE, ROLE, OK(200)}},
  {"POST", "/outfall.v1.ApplicationService/FileApplication", NULL, rpc_application_file,
     {ROLE,        OK(200),    ROLE,       OK(200),   {403, "outside_division"}, GATE, ROLE, ROLE}},
  {"POST", "/outfall.v1.ApplicationService/DecideApplication", fresh_application, rpc_application_decide,
     {ROLE,        OK(200),    ROLE,       OK(200),   {403, "outside_division"}, GATE, ROLE, ROLE}},
  {"POST", "/outfall.v1.ApplicationService/GetApplication", fresh_application, rpc_application_read,
     {OK(200),     OK(200),    OK(200),    OK(200),   OK(200),     PUBLIC(200),        OK(200), OK(200)}},
  {"POST", "/outfall.v1.ApplicationService/ListApplications", fresh_application, rpc_application_list,
     {SEES,        SEES,       SEES,       SEES,      BLIND,       GATE,               SEES, SEES}},
  {"POST", "/outfall.v1.AccountService/Login", NULL, rpc_login,
     {OK(200),     OK(200),    OK(200),    OK(200),   OK(200),     PUBLIC(200),        OK(200), OK(200)}},
  {"POST", "/outfall.v1.AccountService/Logout", fresh_token, rpc_logout,
     {OK(200),     OK(200),    OK(200),    OK(200),   OK(200),     GATE,               OK(200), OK(200)}},
  {"POST", "/outfall.v1.AccountService/EnrollDevice", NULL, rpc_enroll,
     {OK(200),     OK(200),    ROLE,       OK(200),   OK(200),     GATE,               OK(200), OK(200)}},
  {"POST", "/outfall.v1.AccountService/ListUsers", NULL, rpc_user_list,
     {ROLE,        ROLE,       ROLE,       OK(200),   ROLE,        GATE,               ROLE, ROLE}},
  {"POST", "/outfall.v1.AccountService/ListBackups", NULL, rpc_backups_list,
     {ROLE,        ROLE,       ROLE,       OK(200),   ROLE,        GATE,               ROLE, ROLE}},
  {"POST", "/outfall.v1.AccountService/CreateUser", NULL, rpc_user_create,
     {ROLE,        ROLE,       ROLE,       OK(200),   ROLE,        GATE,               ROLE, ROLE}},
  {"POST", "/outfall.v1.AccountService/ListDevices", fresh_user_device, rpc_user_devices,
     {ROLE,        ROLE,       ROLE,       OK(200),   ROLE,        GATE,               ROLE, ROLE}},
  {"POST", "/outfall.v1.AccountService/RevokeDevice", fresh_user_device, rpc_user_device_revoke,
     {ROLE,        ROLE,       ROLE,       OK(200),   ROLE,        GATE,               ROLE, ROLE}},
  {"POST", "/outfall.v1.AccountService/ListTokens", fresh_user_token, rpc_user_tokens,
     {ROLE,        ROLE,       ROLE,       OK(200),   ROLE,        GATE,               ROLE, ROLE}},
  {"POST", "/outfall.v1.AccountService/RevokeToken", fresh_user_token, rpc_user_token_revoke,
     {ROLE,        ROLE,       ROLE,       OK(200),   ROLE,        GATE,               ROLE, ROLE}},
  {"POST", "/outfall.v1.AccountService/ChangePassword", NULL, rpc_own_password,
     {{400, "weak_password"}, {400, "weak_password"}, {400, "weak_password"}, {400, "weak_password"},
      {400, "weak_password"}, GATE, {400, "weak_password"}, {400, "weak_password"}}},
  /* issue 21: the rest of the RPC-shaped routes, as their twins above */
  {"POST", "/outfall.v1.AccountService/UpdateUser", fresh_user, rpc_user_update,
     {ROLE,        ROLE,       ROLE,       OK(200),   ROLE,        GATE,               ROLE, ROLE}},
  {"POST", "/outfall.v1.AccountService/ResetPassword", fresh_user, rpc_user_reset_password,
     {ROLE,        ROLE,       ROLE,       OK(200),   ROLE,        GATE,               ROLE, ROLE}},
  {"POST", "/outfall.v1.AccountService/RevokeDeviceById", fresh_device, rpc_revoke_device_by_id,
     {ROLE,        ROLE,       ROLE,       OK(200),   ROLE,        GATE,               ROLE, ROLE}},
  {"POST", "/outfall.v1.PhotoService/GetPhotoInfo", NULL, rpc_photo_info,
     {OK(200),     OK(200),    HIDDEN,     OK(200),   HIDDEN,      GATE,               OK(200), OK(200)}},
  {"POST", "/outfall.v1.ProgrammeService/ListInspectionDraws", fresh_draw, rpc_inspection_draws_list,
     {ROLE,        SEES,       ROLE,       SEES,      BLIND,       GATE,               ROLE, SEES}},
  {"POST", "/outfall.v1.ZoneService/ListZones", NULL, rpc_zones_list,
     {OK(200),     OK(200),    OK(200),    OK(200),   OK(200),     GATE,               OK(200), OK(200)}},
  {"POST", "/outfall.v1.ZoneService/FindZonesAt", NULL, rpc_zones_at,
     {OK(200),     OK(200),    OK(200),    OK(200),   OK(200),     GATE,               OK(200), OK(200)}},
  {"POST", "/outfall.v1.ReportService/ListPublicReports", fresh_report, rpc_reports_list,
     {ROLE,        SEES,       ROLE,       SEES,      BLIND,       GATE,               ROLE, SEES}},
  {"POST", "/outfall.v1.ReportService/AnswerPublicReport", fresh_report, rpc_report_answer,
     {ROLE,        OK(200),    ROLE,       OK(200),   {403, "outside_division"}, GATE, ROLE, ROLE}},
  {"POST", "/outfall.v1.ReportService/ListReportFilings", NULL, rpc_report_filings,
     {OK(200),     OK(200),    OK(200),    OK(200),   OK(200),     GATE,               OK(200), OK(200)}},
  {"POST", "/outfall.v1.ReportService/FileAnnualReport", NULL, rpc_report_filed,
     {ROLE,        OK(200),    ROLE,       OK(200),   {403, "outside_division"}, GATE, ROLE, ROLE}},
  {"POST", "/outfall.v1.PublicService/SubmitPublicReport", fresh_report, rpc_report_submit,
     {OK(200),     OK(200),    OK(200),    OK(200),   OK(200),     PUBLIC(200),        OK(200), OK(200)}},
  {"POST", "/outfall.v1.PublicService/GetPublicReport", fresh_report, rpc_report_read,
     {OK(200),     OK(200),    OK(200),    OK(200),   OK(200),     PUBLIC(200),        OK(200), OK(200)}},
  {"POST", "/outfall.v1.PublicService/GetInspectionDraw", fresh_draw, rpc_inspection_read,
     {OK(200),     OK(200),    OK(200),    OK(200),   OK(200),     PUBLIC(200),        OK(200), OK(200)}},
};
/* clang-format on */
enum { N_ROWS = sizeof matrix / sizeof matrix[0] };

/* Rows of the audit trail of s's database. */
static long audit_rows(const th_server *s) {
    char path[400];
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    long n = -1;
    snprintf(path, sizeof path, "%s/outfall.db", s->data);
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(db, "SELECT count(*) FROM audit", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

typedef struct cell {
    int row, col;
    char name[160];
} cell;
static cell cells[N_ROWS * N_COLS];

static void run_cell(void **state) {
    const cell *k = *state;
    const row *r = &matrix[k->row];
    const expect *want = &r->want[k->col];
    if (!want->code) fail_msg("%s: the row has no cell for this column", k->name);
    ctx c = {.col = k->col, .w = who_of(k->col)};
    if (r->prep) r->prep(&c);
    th_sum before = th_db_checksum(c.w.srv->data, TH_ALL);
    long audits = audit_rows(c.w.srv);
    outcome o = {0};
    r->call(&c, &o);
    th_sum after = th_db_checksum(c.w.srv->data, TH_ALL);
    long audits_after = audit_rows(c.w.srv);
    th_file_free(&c.photo);
    if (o.status != want->status || strcmp(o.code, want->code) != 0)
        print_error("%s: expected %ld %s, got %ld %s\n", k->name, want->status, want->code,
                    o.status, o.code);
    assert_int_equal(o.status, want->status);
    assert_string_equal(o.code, want->code);
    if (want->status >= 400) assert_string_equal(before.hex, after.hex);
    if (want->status == 401 || want->status == 403) assert_true(audits_after > audits);
}

/* Every (method, pattern) of server/routes.c's table has a row here. */
static void every_route_has_a_row(void **state) {
    (void)state;
    FILE *f = fopen("server/routes.c", "r");
    if (!f) fail_msg("cannot read server/routes.c (run from the repository's root)");
    char line[512], method[16], pattern[128];
    int routes = 0, missing = 0;
    while (fgets(line, sizeof line, f)) {
        if (sscanf(line, " {\"%15[A-Z]\" , \"%127[^\"]\" ,", method, pattern) != 2 &&
            sscanf(line, " {\"%15[A-Z]\", \"%127[^\"]\",", method, pattern) != 2)
            continue;
        routes++;
        int found = 0;
        for (int i = 0; i < N_ROWS; i++)
            found |=
                strcmp(matrix[i].method, method) == 0 && strcmp(matrix[i].pattern, pattern) == 0;
        if (!found) {
            print_error("route %s %s has no row in the role matrix\n", method, pattern);
            missing++;
        }
    }
    fclose(f);
    assert_true(routes >= 20);
    assert_int_equal(missing, 0);
}

static int setup(void **state) {
    (void)state;
    const char *divs_a[] = {DIV_A, NULL}, *divs_b[] = {DIV_B, NULL};
    const char *ttl_args[] = {"--token-ttl", "2", NULL};
    /* The expired token first: it ages while the world is made. */
    if (th_server_start(&ttl_srv, ttl_args) != 0) return -1;
    if (th_login(&ttl_srv, "admin", TH_ADMIN_PASSWORD, expired_token, NULL, NULL) != 200) return -1;
    int64_t issued = util_now_ms();
    th_uuid(dev_ghost.id);
    crypto_sign_keypair(dev_ghost.pk, dev_ghost.sk);
    dev_ghost.next_seq = 1;

    const char *srv_args[] = {"--public-url", "https://outfalls.example.cn", NULL};
    if (th_server_start(&srv, srv_args) != 0 || !th_admin_token(&srv)) return -1;
    if (th_user_new(&srv, "sa", TH_ROLE(SURVEYOR), divs_a, &s_a) ||
        th_user_new(&srv, "sa2", TH_ROLE(SURVEYOR), divs_a, &s_a2) ||
        th_user_new(&srv, "supa", TH_ROLE(SUPERVISOR), divs_a, &sup_a) ||
        th_user_new(&srv, "integ", TH_ROLE(INTEGRATOR), NULL, &integ) ||
        th_user_new(&srv, "supb", TH_ROLE(SUPERVISOR), divs_b, &sup_b) ||
        th_user_new(&srv, "leaver", TH_ROLE(SURVEYOR), divs_a, &leaver) ||
        th_user_new(&srv, "checker", TH_ROLE(PROVINCE_CHECKER), NULL, &checker))
        return -1;
    if (th_device_new(&srv, s_a.token, &dev_s_a) || th_device_new(&srv, s_a2.token, &dev_s_a2) ||
        th_device_new(&srv, sup_a.token, &dev_sup_a) ||
        th_device_new(&srv, th_admin_token(&srv), &dev_admin) ||
        th_device_new(&srv, sup_b.token, &dev_sup_b) ||
        th_device_new(&srv, checker.token, &dev_checker))
        return -1;
    if (th_logout(&srv, leaver.token, NULL) != 204) return -1;

    /* Record A, its observation naming photo A, and photo A uploaded by the surveyor. */
    th_file f;
    if (th_photo_variant(PHOTO, &f, photo_a) != 0) return -1;
    long st = th_photo_put(&srv, s_a.token, photo_a, f.data, f.len, NULL);
    th_file_free(&f);
    if (st != 201 && st != 200) return -1;
    double lat, lon;
    th_spot(&lat, &lon);
    th_batch *b = th_batch_new(&dev_s_a);
    th_outfall_create(b, "qinhe", DIV_A, lat, lon);
    util_strlcpy(rec_a, th_batch_entity(b, 0), sizeof rec_a);
    Outfall__V1__Observation *obs = th_observation_create(b, rec_a, lat, lon);
    th_observation_photo(b, obs, photo_a, OUTFALL__V1__PHOTO_KIND__PHOTO_KIND_NEAR);
    util_strlcpy(obs_a, th_batch_entity(b, 1), sizeof obs_a);
    Outfall__V1__SyncResponse *r = th_sync_ok(&srv, s_a.token, b, TH_PB);
    th_batch_free(b);
    if (!r || r->n_results != 2 || r->results[0]->status != TH_STATUS(APPLIED) ||
        r->results[1]->status != TH_STATUS(APPLIED))
        return -1;
    outfall__v1__sync_response__free_unpacked(r, NULL);
    /* A is approved (integrators read that version), then edited: pending again in the queue. */
    int64_t v = approve(rec_a, 1);
    if (v < 1) return -1;
    b = th_batch_new(&dev_s_a);
    th_outfall_edit(b, rec_a, v)->landmark = "edited after approval";
    r = th_sync_ok(&srv, s_a.token, b, TH_PB);
    th_batch_free(b);
    if (!r || r->results[0]->status != TH_STATUS(APPLIED)) return -1;
    outfall__v1__sync_response__free_unpacked(r, NULL);

    /* Record U, never approved, its observation naming photo U. */
    if (th_photo_variant(PHOTO, &f, photo_u) != 0) return -1;
    st = th_photo_put(&srv, s_a.token, photo_u, f.data, f.len, NULL);
    th_file_free(&f);
    if (st != 201 && st != 200) return -1;
    th_spot(&lat, &lon);
    b = th_batch_new(&dev_s_a);
    th_outfall_create(b, "qinhe", DIV_A, lat, lon);
    util_strlcpy(rec_u, th_batch_entity(b, 0), sizeof rec_u);
    obs = th_observation_create(b, rec_u, lat, lon);
    th_observation_photo(b, obs, photo_u, OUTFALL__V1__PHOTO_KIND__PHOTO_KIND_NEAR);
    util_strlcpy(obs_u, th_batch_entity(b, 1), sizeof obs_u);
    r = th_sync_ok(&srv, s_a.token, b, TH_PB);
    th_batch_free(b);
    if (!r || r->n_results != 2 || r->results[1]->status != TH_STATUS(APPLIED)) return -1;
    outfall__v1__sync_response__free_unpacked(r, NULL);

    int64_t wait = issued + TTL_S * 1000 + 600 - util_now_ms();
    if (wait > 0) {
        struct timespec ts = {(time_t)(wait / 1000), (long)(wait % 1000) * 1000000L};
        nanosleep(&ts, NULL);
    }
    return 0;
}

static int teardown(void **state) {
    (void)state;
    int a = th_server_stop(&srv), b = th_server_stop(&ttl_srv);
    return a || b ? -1 : 0;
}

/* The matrix runs as ROLES_SHARDS binaries, which tests/run.sh runs at once: this file is shard
 * 0, and tests/api/test_roles_N.c is this file again as shard N. A shard takes the rows i with
 * i % ROLES_SHARDS == ROLES_SHARD, each in a world of its own; shard 0 also checks the routes. */
#ifndef ROLES_SHARD
#define ROLES_SHARD 0
#endif
enum { ROLES_SHARDS = 4 };

int main(void) {
    static struct CMUnitTest tests[N_ROWS * N_COLS + 1];
    int n = 0;
    if (ROLES_SHARD == 0) tests[n++] = (struct CMUnitTest)cmocka_unit_test(every_route_has_a_row);
    for (int i = ROLES_SHARD; i < N_ROWS; i += ROLES_SHARDS)
        for (int j = 0; j < N_COLS; j++) {
            cell *k = &cells[i * N_COLS + j];
            k->row = i;
            k->col = j;
            snprintf(k->name, sizeof k->name, "%s %s as %s", matrix[i].method, matrix[i].pattern,
                     col_names[j]);
            struct CMUnitTest t = cmocka_unit_test_prestate(run_cell, k);
            t.name = k->name;
            tests[n++] = t;
        }
    char group[64];
    snprintf(group, sizeof group, "role matrix, shard %d of %d", ROLES_SHARD, (int)ROLES_SHARDS);
    return _cmocka_run_group_tests(group, tests, (size_t)n, setup, teardown);
}
