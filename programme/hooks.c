#include "programme/hooks.h"

#include "programme/inspection_results.h"
#include "programme/public_report_photos.h"
#include "sync/hooks.h"

static const hooks programme_hooks = {
    .observation_check = inspection_results_check,
    .observation_saved = inspection_results_save,
    .inspection_load = inspection_results_load,
    .inspection_settle = inspection_results_settle,
    .report_photo_held = public_report_photos_held,
    .report_photo_uploaded = public_report_photos_uploaded,
    .report_photo_visible = public_report_photos_visible,
};

void programme_hooks_install(void) {
    hooks_install(&programme_hooks);
}
