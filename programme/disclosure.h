/* Public disclosure (二.二.2, 四.四): the facts of approved outfalls that anyone may read, with no
 * account, as a sign board's QR code or the city's website shows them.
 *
 * What is public, and only this: the outfall's code, name, type (in Chinese), receiving river,
 * division, the responsible party's name (no credit code, contact, phone or address), the
 * supervising bureau, the reporting hotline (PUBLIC_HOTLINE), its lifecycle stage, its last
 * approved inspection's date and result (programme/inspection_results.h; absent when none), and its
 * WGS-84 position rounded to 4 decimals (about 11 m: enough to find the sign board, not the
 * surveyor's own fix). Everything comes from the version a supervisor last approved: later edits
 * waiting for review, unapproved and merged-away records, surveyors, devices, observations,
 * photos, flags and accuracy never show. */
#ifndef PROGRAMME_DISCLOSURE_H
#define PROGRAMME_DISCLOSURE_H

#include <jansson.h>

#include "sync/store.h"

/* The hotline for reports on every public page: 12369, the ecology and environment bureaus'
 * national complaint line (环保举报热线). */
#define PUBLIC_HOTLINE "12369"

/* The city's bureau; a county's is "<city bureau><county>分局". */
#define PUBLIC_CITY_BUREAU "焦作市生态环境局"

/* Every approved outfall's public facts as a GeoJSON FeatureCollection (Point geometry
 * [lon, lat], the facts as properties named by the contract's PublicOutfall: its field paths
 * flattened with dots, e.g. responsible_party.name, and PATH_label beside type, river_code,
 * division_code and programme.stage for their Chinese words), ordered by code. *out is a new
 * reference the caller json_decref()s. */
int disclosure_list_outfalls(store *s, json_t **out, sync_error *err);

/* One approved outfall's public facts by its code, as an object with the properties of
 * disclosure_list_outfalls plus "lat" and "lon". Codes: not_found (404) when no approved outfall
 * has that code. *out is a new reference the caller json_decref()s. */
int disclosure_read_outfall(store *s, const char *code, json_t **out, sync_error *err);

/* The Chinese name of an OutfallType / LifecycleStage value ("" for one it does not know).
 * Static. */
const char *disclosure_type_name(int type);
const char *disclosure_stage_name(int stage);

/* The code of outfall id for its sign board, whose QR code leads to the public page of that
 * code, into code[cap]. Only an approved outfall with a code, not merged away, has one (exactly
 * those disclosure_read_outfall shows). Codes: invalid_argument (not a UUID), not_found (404),
 * not_approved, merged (409). */
int disclosure_signboard_code(store *s, const char *id, char *code, size_t cap, sync_error *err);

/* ---- public reports (举报) ----
 * Anyone files one without an account: kind, a position inside the city, the county, a
 * description and optionally a contact, the code on a sign board and the digests of up to 5
 * photos, which the reporter then uploads with the report's upload token
 * (programme/public_report_photos.h; supervisors see them, the public view never does). A report
 * lands in the supervisors' queue of its county (GET /v1/reports), is answered once (optionally
 * linked to an outfall) and the public follows it by its tracking number. */

/* Reports one client address may file per hour, and the text limits in bytes. */
enum {
    PUBLIC_REPORTS_PER_HOUR = 5,
    PUBLIC_REPORT_MAX_TEXT = 2000,
    PUBLIC_REPORT_MAX_CONTACT = 100,
    PUBLIC_REPORT_NUMBER_LEN = 16,
    PUBLIC_REPORT_COUNTY_RADIUS_M =
        3000, /* the nearest approved outfall this close names the county */
};

/* Files report in (kind, lat, lon, division_code, description; contact, outfall_code and photos
 * optional; anything else is ignored) from client_addr, in one transaction with an anonymous
 * audit row. *out gets the public view (disclosure_report_read's) with the new tracking number, and
 * when photos were listed the upload token for them, valid for upload_ttl_ms. Codes:
 * invalid_kind, invalid_position, unknown_division, description_required, invalid_text,
 * too_many_photos, invalid_photo (400); unknown_outfall_code (404, an outfall_code no approved
 * outfall has); text_too_long (413); rate_limited (429) past PUBLIC_REPORTS_PER_HOUR from one
 * address. The county is checked (issue 18): an outfall_code's outfall's county wins, else that of
 * the nearest approved outfall within PUBLIC_REPORT_COUNTY_RADIUS_M of the position (the engine
 * holds no division areas), else the reporter's stands; a corrected county is stored and the
 * answer names the reporter's pick (reported_division_code) and why (division_note). *out is freed
 * with free_unpacked. */
int disclosure_report_submit(store *s, const Outfall__V1__PublicReport *in, const char *client_addr,
                             int64_t upload_ttl_ms, Outfall__V1__PublicReport **out,
                             sync_error *err);

/* The public view of report number: number, kind, status, received_at_ms, and once answered the
 * answer, answered_at_ms and the linked outfall's code when that outfall is approved. Never the
 * description, position, contact or client address. Codes: not_found (404). */
int disclosure_report_read(store *s, const char *number, Outfall__V1__PublicReport **out,
                           sync_error *err);

/* Every report of the divisions p covers, in full, newest first; status 0 = any. */
int disclosure_report_list(store *s, const principal *p, int status,
                           Outfall__V1__PublicReportList **out, sync_error *err);

/* Supervisor (or admin) p answers report number with a (answer_id, answer, optional
 * outfall_id), in one transaction with an audit row; *out gets the full report. A retried
 * answer_id answers the report as it stands. Codes: invalid_argument, answer_required,
 * invalid_text (400); text_too_long (413); outside_division (403); not_found (404, the report or
 * the outfall); already_answered, merged (409). */
int disclosure_report_answer(store *s, const principal *p, const char *number,
                             const Outfall__V1__ReportAnswer *a, Outfall__V1__PublicReport **out,
                             sync_error *err);

#endif
