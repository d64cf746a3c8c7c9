#include "sync/hooks.h"

static hooks installed; /* all NULL until hooks_install */

void hooks_install(const hooks *h) {
    installed = h ? *h : (hooks){0};
}

int hooks_observation_check(store *s, const principal *p, int from_phone, json_t *old_doc,
                            json_t *doc, const char *outfall_id, const char *observation_id,
                            sync_error *why) {
    if (!installed.observation_check) return 0;
    return installed.observation_check(s, p, from_phone, old_doc, doc, outfall_id, observation_id,
                                       why);
}

int hooks_observation_saved(store *s, int from_phone, json_t *doc, const char *observation_id,
                            const char *outfall_id, const char *division_code, int64_t user_id,
                            int64_t now_ms, sync_error *err) {
    if (!installed.observation_saved) return 0;
    return installed.observation_saved(s, from_phone, doc, observation_id, outfall_id,
                                       division_code, user_id, now_ms, err);
}

int hooks_inspection_load(store *s, const char *observation_id, hooks_inspection_row *out,
                          sync_error *err) {
    if (!installed.inspection_load) return 0;
    return installed.inspection_load(s, observation_id, out, err);
}

int hooks_inspection_settle(store *s, const char *observation_id, sync_error *err) {
    if (!installed.inspection_settle) return 0;
    return installed.inspection_settle(s, observation_id, err);
}

int hooks_report_photo_held(store *s, const principal *p, const char *hash, sync_error *err) {
    if (!installed.report_photo_held) return 0;
    return installed.report_photo_held(s, p, hash, err);
}

int hooks_report_photo_uploaded(store *s, const principal *p, const char *hash, int64_t now_ms,
                                sync_error *err) {
    if (!installed.report_photo_uploaded) return 0;
    return installed.report_photo_uploaded(s, p, hash, now_ms, err);
}

int hooks_report_photo_visible(store *s, const principal *p, const char *hash, sync_error *err) {
    if (!installed.report_photo_visible) return 0;
    return installed.report_photo_visible(s, p, hash, err);
}
