#include "programme/hooks.h"

#include "programme/findings.h"
#include "programme/report_photos.h"
#include "sync/hooks.h"

static const hooks programme_hooks = {
    .observation_check = findings_check,
    .observation_saved = findings_save,
    .inspection_load = findings_load,
    .inspection_settle = findings_settle,
    .report_photo_held = report_photos_held,
    .report_photo_uploaded = report_photos_uploaded,
    .report_photo_visible = report_photos_visible,
};

void programme_hooks_install(void) {
    hooks_install(&programme_hooks);
}
