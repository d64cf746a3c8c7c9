/* The progress report as CSV (see progress_csv.h). */
#include "render/progress_csv.h"

#include <string.h>

#include "render/text.h"

/* The metrics of a row's targets, in the CSV's column order. */
static const char *const metrics[] = {"traced", "remediated"};

const char *progress_csv_status_name(int status) {
    return status == OUTFALL__V1__TARGET_STATUS__TARGET_STATUS_ON_TRACK      ? "ON_TRACK"
           : status == OUTFALL__V1__TARGET_STATUS__TARGET_STATUS_BEHIND      ? "BEHIND"
           : status == OUTFALL__V1__TARGET_STATUS__TARGET_STATUS_NOT_STARTED ? "NOT_STARTED"
                                                                             : "";
}

char *progress_csv(const Outfall__V1__ProgressReport *r, size_t *len) {
    text_buf t = {0};
    text_add(&t, "\xEF\xBB\xBF");
    text_add(&t,
             "as_of,scope,code,name,found,traced,traced_pct,planned,remediated,remediated_pct,"
             "closed,retained,overdue_plans,traced_target_pct,traced_deadline,traced_expected_pct,"
             "traced_status,remediated_target_pct,remediated_deadline,remediated_expected_pct,"
             "remediated_status,no_remediation_needed\r\n");
    for (size_t i = 0; i < r->n_rows; i++) {
        const Outfall__V1__ProgressRow *row = r->rows[i];
        text_add_csv(&t, r->as_of, 0);
        text_add_csv(&t, row->scope, 0);
        text_add_csv(&t, row->code, 0);
        text_add_csv(&t, row->name, 0);
        text_add(&t, "%lld,%lld,%.1f,%lld,%lld,%.1f,%lld,%lld,%lld", (long long)row->found,
                 (long long)row->traced, row->traced_pct, (long long)row->planned,
                 (long long)row->remediated, row->remediated_pct, (long long)row->closed,
                 (long long)row->retained, (long long)row->overdue_plans);
        for (size_t m = 0; m < 2; m++) {
            const Outfall__V1__TargetCheck *c = NULL;
            for (size_t j = 0; j < row->n_targets; j++)
                if (strcmp(row->targets[j]->metric, metrics[m]) == 0) c = row->targets[j];
            if (c)
                text_add(&t, ",%.1f,%s,%.1f,%s", c->target_pct, c->deadline, c->expected_pct,
                         progress_csv_status_name(c->status));
            else
                text_add(&t, ",,,,");
        }
        text_add(&t, ",%lld\r\n", (long long)row->no_remediation_needed);
    }
    return text_take(&t, len);
}
