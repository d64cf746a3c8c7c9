/* The attack catalogue itself (tests/api/test_attacks.c): one row per attack, the request that
 * makes it and what the server must answer. Included by test_attacks.c only, after its body
 * generators and callers.
 *
 * A row: its name (the behaviour it proves), method and path ({uuid}: a fresh UUID), who sends
 * it, its Content-Type (default application/json), up to three more header lines, a body made by
 * `body` from `size` (none when NULL), how it goes (SEND_PLAIN with a true Content-Length,
 * SEND_CHUNKED, SEND_DECLARE: Content-Length `declare` whatever the body is, then the write side
 * closed), the status and Error.code expected (status 0: no answer can come), and rss_mb: when
 * not 0, the server's peak resident memory (VmHWM, reset before the row) may rise by less than
 * that many MB. After every row: GET /healthz answers 200, the database (TH_ALL) and the photo
 * store are as they were. To add a row for another finding, add a line; a new kind of body is a
 * new generator beside the others. */
#ifndef TESTS_API_ATTACK_CATALOGUE_H
#define TESTS_API_ATTACK_CATALOGUE_H

#define MiB (1024 * 1024)
#define PB "application/x-protobuf"
#define GEOJSON "application/geo+json"

/* clang-format off */
static const attack catalogue[] = {
    /* ---- issue 15, finding 1: deep JSON killed the process (a worker's 100 KiB stack) ---- */
    {"login_nested_1000_levels_is_400_json_too_deep", "POST", "/v1/auth/login", AS_NOBODY, NULL,
     {NULL}, deep_arrays, 1000, SEND_PLAIN, 0, 400, "json_too_deep"},
    {"login_nested_33_levels_is_400_json_too_deep", "POST", "/v1/auth/login", AS_NOBODY, NULL,
     {NULL}, deep_arrays, 33, SEND_PLAIN, 0, 400, "json_too_deep"},
    {"login_opened_4000_levels_never_closed_is_400_json_too_deep", "POST", "/v1/auth/login",
     AS_NOBODY, NULL, {NULL}, open_arrays, 4000, SEND_PLAIN, 0, 400, "json_too_deep"},
    {"public_report_objects_nested_2700_levels_is_400_json_too_deep", "POST", "/public/reports",
     AS_NOBODY, NULL, {NULL}, deep_objects, 2700, SEND_PLAIN, 0, 400, "json_too_deep"},
    {"public_report_nested_chunked_is_400_json_too_deep", "POST", "/public/reports", AS_NOBODY,
     NULL, {NULL}, deep_arrays, 5000, SEND_CHUNKED, 0, 400, "json_too_deep"},
    {"sync_nested_100000_levels_is_400_json_too_deep", "POST", "/v1/sync", AS_SURVEYOR, NULL,
     {NULL}, deep_arrays, 100000, SEND_PLAIN, 0, 400, "json_too_deep"},
    {"zones_coordinates_nested_40_levels_is_400_json_too_deep", "POST", "/v1/zones", AS_ADMIN,
     GEOJSON, {NULL}, deep_geojson, 40, SEND_PLAIN, 0, 400, "json_too_deep"},
    {"decision_brackets_inside_strings_are_not_nesting", "POST", "/v1/review/decisions",
     AS_ADMIN, NULL, {NULL}, brackets_in_string, 5000, SEND_PLAIN, 0, 400, "invalid_decision"},

    /* ---- finding 2: bodies inflated memory before any check ---- */
    {"public_report_chunked_16_mib_is_413_while_reading", "POST", "/public/reports", AS_NOBODY,
     NULL, {NULL}, wide_array, 16 * MiB, SEND_CHUNKED, 0, 413, "body_too_large", 24},
    {"public_report_chunked_16_mib_of_empty_photos_is_413", "POST", "/public/reports", AS_NOBODY,
     PB, {NULL}, pb_empty_repeated, 16 * MiB, SEND_CHUNKED, 0, 413, "body_too_large", 24},
    {"public_report_declaring_16_mib_is_413_unread", "POST", "/public/reports", AS_NOBODY, NULL,
     {NULL}, NULL, 0, SEND_DECLARE, 16 * MiB, 413, "body_too_large", 8},
    {"login_chunked_one_byte_over_4_kib_is_413", "POST", "/v1/auth/login", AS_NOBODY, NULL,
     {NULL}, wide_array, 4096 + 1, SEND_CHUNKED, 0, 413, "body_too_large"},
    {"sync_16_mib_of_empty_changes_is_400_decoded_too_large", "POST", "/v1/sync", AS_SURVEYOR,
     PB, {NULL}, pb_empty_changes, 16 * MiB - 64, SEND_PLAIN, 0, 400, "decoded_too_large", 40},
    {"sync_16_mib_of_unknown_fields_is_400_too_many_unknown_fields", "POST", "/v1/sync",
     AS_SURVEYOR, PB, {NULL}, pb_unknown_fields, 16 * MiB - 64, SEND_CHUNKED, 0, 400,
     "too_many_unknown_fields", 40},
    {"sync_one_16_mib_unknown_field_decodes_within_budget_then_400_invalid_batch", "POST",
     "/v1/sync", AS_SURVEYOR, PB, {NULL}, pb_one_huge_unknown, 16 * MiB - 64, SEND_PLAIN, 0, 400,
     "invalid_batch", 60},
    {"sync_16_mib_json_array_is_400_too_many_values", "POST", "/v1/sync", AS_SURVEYOR, NULL,
     {NULL}, wide_array, 16 * MiB - 64, SEND_CHUNKED, 0, 400, "too_many_values", 40},
    {"sync_2_mib_of_empty_json_objects_is_400_decoded_too_large", "POST", "/v1/sync",
     AS_SURVEYOR, NULL, {NULL}, empty_objects, 2 * MiB, SEND_PLAIN, 0, 400, "decoded_too_large",
     24},
    {"sync_one_byte_over_max_body_chunked_is_413", "POST", "/v1/sync", AS_SURVEYOR, NULL, {NULL},
     wide_array, 16 * MiB + 1, SEND_CHUNKED, 0, 413, "body_too_large", 40},
    {"zones_4_mib_of_positions_is_400_decoded_too_large", "POST", "/v1/zones", AS_ADMIN, GEOJSON,
     {NULL}, wide_positions, 4 * MiB, SEND_PLAIN, 0, 400, "decoded_too_large", 24},

    /* ---- every endpoint's own limit, counted while a chunked body is read ---- */
    {"device_chunked_over_4_kib_is_413", "POST", "/v1/devices", AS_SURVEYOR, NULL, {NULL},
     wide_array, 4096 + 1, SEND_CHUNKED, 0, 413, "body_too_large"},
    {"user_chunked_over_4_kib_is_413", "POST", "/v1/users", AS_ADMIN, NULL, {NULL}, wide_array,
     4096 + 1, SEND_CHUNKED, 0, 413, "body_too_large"},
    {"decision_chunked_over_64_kib_is_413", "POST", "/v1/review/decisions", AS_ADMIN, NULL,
     {NULL}, wide_array, 64 * 1024 + 1, SEND_CHUNKED, 0, 413, "body_too_large"},
    {"transition_chunked_over_64_kib_is_413", "POST", "/v1/programme/transitions", AS_ADMIN, NULL,
     {NULL}, wide_array, 64 * 1024 + 1, SEND_CHUNKED, 0, 413, "body_too_large"},
    {"zones_chunked_over_4_mib_is_413", "POST", "/v1/zones", AS_ADMIN, GEOJSON, {NULL},
     wide_array, 4 * MiB + 1, SEND_CHUNKED, 0, 413, "body_too_large"},
    {"filing_chunked_over_16_kib_is_413", "POST", "/v1/reports/annual/filed", AS_ADMIN, NULL,
     {NULL}, wide_array, 16 * 1024 + 1, SEND_CHUNKED, 0, 413, "body_too_large"},
    {"application_chunked_over_64_kib_is_413", "POST", "/v1/applications", AS_ADMIN, NULL,
     {NULL}, wide_array, 64 * 1024 + 1, SEND_CHUNKED, 0, 413, "body_too_large"},
    {"application_decision_chunked_over_64_kib_is_413", "POST", "/v1/applications/decisions",
     AS_ADMIN, NULL, {NULL}, wide_array, 64 * 1024 + 1, SEND_CHUNKED, 0, 413, "body_too_large"},
    {"missing_photos_chunked_over_1_mib_is_413", "POST", "/v1/photos/missing", AS_SURVEYOR, NULL,
     {NULL}, wide_array, MiB + 1, SEND_CHUNKED, 0, 413, "body_too_large"},
    {"report_answer_chunked_over_16_kib_is_413", "POST", "/v1/reports/R1/answer", AS_ADMIN, NULL,
     {NULL}, wide_array, 16 * 1024 + 1, SEND_CHUNKED, 0, 413, "body_too_large"},
    {"draw_chunked_over_64_kib_is_413", "POST", "/v1/inspections/draws", AS_ADMIN, NULL, {NULL},
     wide_array, 64 * 1024 + 1, SEND_CHUNKED, 0, 413, "body_too_large"},

    /* ---- Content-Length lies and broken bodies ---- */
    {"login_declaring_more_than_it_sends_is_400_body_incomplete", "POST", "/v1/auth/login",
     AS_NOBODY, NULL, {NULL}, wide_array, 100, SEND_DECLARE, 1000, 400, "body_incomplete"},
    {"sync_declaring_16_mib_sending_little_is_400_body_incomplete", "POST", "/v1/sync",
     AS_SURVEYOR, PB, {NULL}, pb_empty_changes, 4096, SEND_DECLARE, 16 * MiB, 400,
     "body_incomplete", 40},
    {"sync_declaring_over_max_body_is_413_unread", "POST", "/v1/sync", AS_SURVEYOR, PB, {NULL},
     NULL, 0, SEND_DECLARE, 16 * MiB + 1, 413, "body_too_large"},

    /* ---- what protobuf-c does not check, checked without a JSON round trip ---- */
    {"login_protobuf_with_invalid_utf8_is_400_malformed_protobuf", "POST", "/v1/auth/login",
     AS_NOBODY, PB, {NULL}, pb_bad_utf8_login, 0, SEND_PLAIN, 0, 400, "malformed_protobuf"},
    {"login_protobuf_cut_off_is_400_malformed_protobuf", "POST", "/v1/auth/login", AS_NOBODY, PB,
     {NULL}, pb_cut_login, 0, SEND_PLAIN, 0, 400, "malformed_protobuf"},

    /* ---- CORS: CivetWeb approved every preflight with "*"; now only --cors-origin's (none
     * here). Slow clients, the per-address cap and kept-alive connections take more than one
     * request: tests/api/test_connections.c ---- */
    {"cors_preflight_of_a_login_from_another_origin_is_403", "OPTIONS", "/v1/auth/login",
     AS_NOBODY, NULL, {"Origin: https://evil.example", "Access-Control-Request-Method: POST", NULL},
     NULL, 0, SEND_PLAIN, 0, 403, "cors_origin_not_allowed"},
    {"cors_preflight_of_a_sync_with_a_token_from_another_origin_is_403", "OPTIONS", "/v1/sync",
     AS_NOBODY, NULL, {"Origin: null", "Access-Control-Request-Method: POST",
     "Access-Control-Request-Headers: authorization, x-device-signature"},
     NULL, 0, SEND_PLAIN, 0, 403, "cors_origin_not_allowed"},
};
/* clang-format on */

#endif
