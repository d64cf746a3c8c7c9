/* The handlers of the route table, one api_<resource>.c per resource. Each one is called after
 * the table's gate (authentication and role) passed, decodes its input, makes one sync/ call and
 * sends the answer. It returns 0 once it has answered, or a negative code with r->err filled and
 * nothing sent, for the dispatcher to answer with an Error. */
#ifndef SERVER_API_H
#define SERVER_API_H

#include "server/http.h"

int api_auth_login(http_req *r);
int api_auth_logout(http_req *r);
int api_devices_enroll(http_req *r);
int api_devices_revoke(http_req *r);
int api_users_create(http_req *r);
int api_users_list(http_req *r);
int api_users_update(http_req *r);
int api_users_reset_password(http_req *r);
int api_users_devices(http_req *r);
int api_users_revoke_device(http_req *r);
int api_users_tokens(http_req *r);
int api_users_revoke_token(http_req *r);
int api_me_password(http_req *r);
int api_sync_batch(http_req *r);
int api_changes_pull(http_req *r);
/* GET /v1/backups (server/api_backups.c): the backups off the machine, for admins. */
int api_backups_list(http_req *r);
/* Long polls of the feed (GET /v1/changes?wait=) still to answer: a stopping server wakes them
 * (store_commits_stop) and lets them answer before CivetWeb stops writing. */
int api_changes_waiting(void);
int api_outfalls_list(http_req *r);
int api_outfalls_read(http_req *r);
int api_outfalls_history(http_req *r);
int api_signboard_read(http_req *r);
int api_observations_read(http_req *r);
int api_review_queue(http_req *r);
int api_review_decide(http_req *r);
int api_health_read(http_req *r);
int api_photos_missing(http_req *r);
int api_photos_options(http_req *r);
int api_photos_create(http_req *r);
int api_photos_head(http_req *r);
int api_photos_read(http_req *r);
int api_photos_patch(http_req *r);
int api_photos_put(http_req *r);
int api_photos_delete(http_req *r);
int api_photos_info(http_req *r);
int api_programme_transition(http_req *r);
int api_progress_read(http_req *r);
int api_zones_import(http_req *r);
int api_zones_list(http_req *r);
int api_zones_at(http_req *r);
int api_exports_geojson(http_req *r);
int api_exports_csv(http_req *r);
int api_exports_photos(http_req *r);
int api_progress_annual(http_req *r);
int api_applications_file(http_req *r);
int api_applications_decide(http_req *r);
int api_applications_read(http_req *r);
int api_applications_list(http_req *r);
int api_filings_mark(http_req *r);
int api_filings_list(http_req *r);
int api_public_outfalls(http_req *r);
int api_public_outfall(http_req *r);
int api_public_report_submit(http_req *r);
int api_public_report_read(http_req *r);
int api_public_reports_list(http_req *r);
int api_public_reports_answer(http_req *r);
int api_inspections_draw(http_req *r);
int api_inspections_tasks(http_req *r);
int api_inspections_draws_list(http_req *r);
int api_self_checks_record(http_req *r);
int api_self_checks_list(http_req *r);
int api_public_inspection(http_req *r);
int api_web_index(http_req *r);
int api_web_config(http_req *r);
int api_web_file(http_req *r);
int api_web_field_index(http_req *r);
int api_web_field_file(http_req *r);
int api_web_field_vendor(http_req *r);
int api_web_report_index(http_req *r);
int api_web_report_file(http_req *r);

#endif
