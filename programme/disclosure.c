#include "programme/disclosure.h"

#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/pbjson.h"
#include "common/util.h"
#include "sync/accounts.h"
#include "programme/inspection_results.h"
#include "sync/history.h"
#include "programme/public_report_photos.h"

/* OutfallType → its HJ 1312-2023 name, indexed by value. */
static const char *const type_names[] = {
    "",                       /* UNSPECIFIED */
    "工业企业排污口",         /* INDUSTRIAL_ENTERPRISE */
    "矿山排污口",             /* MINE */
    "尾矿库排污口",           /* TAILINGS */
    "工业企业雨洪排口",       /* INDUSTRIAL_ENTERPRISE_STORM */
    "矿山雨洪排口",           /* MINE_STORM */
    "尾矿库雨洪排口",         /* TAILINGS_STORM */
    "园区污水处理厂排污口",   /* PARK_WWTP */
    "园区污水处理厂雨洪排口", /* PARK_WWTP_STORM */
    "城镇污水处理厂排污口",   /* MUNICIPAL_WWTP */
    "规模化畜禽养殖排污口",   /* LIVESTOCK_LARGE */
    "规模化水产养殖排污口",   /* AQUACULTURE_LARGE */
    "大中型灌区排口",         /* IRRIGATION_DISTRICT */
    "港口码头排口",           /* PORT_TERMINAL */
    "规模以下畜禽养殖排污口", /* LIVESTOCK_SMALL */
    "规模以下水产养殖排污口", /* AQUACULTURE_SMALL */
    "城镇生活污水散排口",     /* URBAN_SEWAGE_SCATTERED */
    "农村污水处理设施排污口", /* RURAL_WWTP */
    "农村生活污水散排口",     /* RURAL_SEWAGE_SCATTERED */
    "城镇雨洪排口",           /* URBAN_STORM */
    "其他排口",               /* OTHER */
    "暂无法确定",             /* UNDETERMINED */
    "沟渠、河港",             /* DITCH_CHANNEL */
};

/* LifecycleStage → how the public page names it; an approved outfall without a stage is found. */
static const char *const stage_names[] = {
    "已排查", /* UNSPECIFIED: approved, no transition yet */
    "已排查", /* FOUND */
    "已溯源", /* TRACED */
    "整治中", /* PLANNED */
    "已整治", /* REMEDIATED */
    "已销号", /* CLOSED */
    "保留",   /* RETAINED */
};

const char *disclosure_type_name(int type) {
    if (type < 0 || (size_t)type >= sizeof type_names / sizeof type_names[0]) return "";
    return type_names[type];
}

const char *disclosure_stage_name(int stage) {
    if (stage < 0 || (size_t)stage >= sizeof stage_names / sizeof stage_names[0]) return "";
    return stage_names[stage];
}

/* Rounds a coordinate to 4 decimals (about 11 m). */
static double public_round(double v) {
    return round(v * 10000.0) / 10000.0;
}

/* The name of code in table (divisions or rivers) into out[cap] ("" when unknown); for a
 * division, *county is set to 1 when it is a county-level one. Returns 0 or a negative code. */
static int public_name_of(store *s, int division, const char *code, char *out, size_t cap,
                          int *county, sync_error *err) {
    sqlite3_stmt *st =
        division ? store_stmt(s, "SELECT name, level = 'county' FROM divisions WHERE code = ?")
                 : store_stmt(s, "SELECT name, 0 FROM rivers WHERE code = ?");
    if (!st) return store_fail(s, SQLITE_ERROR, err);
    out[0] = '\0';
    sqlite3_bind_text(st, 1, code ? code : "", -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        snprintf(out, cap, "%s", (const char *)sqlite3_column_text(st, 0));
        if (county) *county = sqlite3_column_int(st, 1);
    }
    sqlite3_reset(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : store_fail(s, rc, err);
}

/* Adds to facts the last approved inspection of outfall id (programme/inspection_results.h), when
 * it has one: last_inspection_date (YYYY-MM-DD, China Standard Time) and last_inspection_result
 * (合格, 发现问题 or 违法排污). Returns 0 or a negative code. */
static int public_last_inspection(store *s, const char *id, json_t *facts, sync_error *err) {
    int64_t at_ms;
    int result;
    int rc = inspection_results_last_approved(s, id, &at_ms, &result, err);
    if (rc <= 0) return rc;
    time_t t = (time_t)(at_ms / 1000) + 8 * 3600;
    struct tm tm;
    char day[16] = "";
    if (gmtime_r(&t, &tm)) strftime(day, sizeof day, "%Y-%m-%d", &tm);
    json_object_set_new(facts, "last_inspection_date", json_string(day));
    json_object_set_new(facts, "last_inspection_result",
                        json_string(inspection_results_result_name(result)));
    return 0;
}

/* The public facts of outfall id at its approved version, with code, as a new object into *out
 * (lat and lon included). Returns 0 or a negative code. */
static int public_facts(store *s, const char *id, int64_t approved, const char *code, json_t **out,
                        sync_error *err) {
    *out = NULL;
    Outfall__V1__Outfall *o = NULL;
    json_t *doc = history_doc_at(s, "outfall", id, approved);
    char why[200];
    int bad = !doc || pbjson_from_json(&outfall__v1__outfall__descriptor, doc,
                                       (ProtobufCMessage **)&o, why, sizeof why) != 0;
    json_decref(doc);
    if (bad) return sync_fail(err, SYNC_EINTERNAL, "storage_error", "record %s is unreadable", id);
    char river[128], division[128], bureau[256];
    int county = 0;
    int rc = public_name_of(s, 0, o->river_code, river, sizeof river, NULL, err);
    if (rc == 0)
        rc = public_name_of(s, 1, o->division_code, division, sizeof division, &county, err);
    if (rc < 0) goto done;
    if (county)
        snprintf(bureau, sizeof bureau, "%s%s分局", PUBLIC_CITY_BUREAU, division);
    else
        snprintf(bureau, sizeof bureau, "%s", PUBLIC_CITY_BUREAU);
    int type = o->has_type ? (int)o->type : 0;
    int stage = o->programme && o->programme->has_stage ? (int)o->programme->stage : 0;
    const ProtobufCEnumValue *type_value =
        protobuf_c_enum_descriptor_get_value(&outfall__v1__outfall_type__descriptor, type);
    const ProtobufCEnumValue *stage_value = protobuf_c_enum_descriptor_get_value(
        &outfall__v1__lifecycle_stage__descriptor,
        stage ? stage : OUTFALL__V1__LIFECYCLE_STAGE__LIFECYCLE_STAGE_FOUND);
    const char *party =
        o->responsible_party && o->responsible_party->name ? o->responsible_party->name : "";
    /* PublicOutfall's field paths, flattened with dots, and PATH_label beside a value for its
     * Chinese words (the names the exports use too; docs/api.md, Field names) */
    *out = json_pack(
        "{s:s, s:s, s:s?, s:s, s:s?, s:s, s:s?, s:s, s:s, s:s?, s:s, s:s, s:s, "
        "s:f, s:f}",
        "code", code, "name", o->name ? o->name : "", "type", type_value ? type_value->name : NULL,
        "type_label", disclosure_type_name(type), "river_code", o->river_code, "river_code_label",
        river, "division_code", o->division_code, "division_code_label", division,
        "responsible_party.name", party, "programme.stage", stage_value ? stage_value->name : NULL,
        "programme.stage_label", disclosure_stage_name(stage), "supervising_bureau", bureau,
        "hotline", PUBLIC_HOTLINE, "lat", public_round(o->lat), "lon", public_round(o->lon));
    if (!*out) rc = sync_fail(err, SYNC_EINTERNAL, "out_of_memory", "out of memory");
    if (rc == 0) rc = public_last_inspection(s, id, *out, err);
done:
    protobuf_c_message_free_unpacked(&o->base, NULL);
    return rc;
}

int disclosure_list_outfalls(store *s, json_t **out, sync_error *err) {
    *out = NULL;
    json_t *features = json_array();
    if (!features) return sync_fail(err, SYNC_EINTERNAL, "out_of_memory", "out of memory");
    sqlite3_stmt *st = store_stmt(s, "SELECT id, approved_version, code FROM outfalls WHERE "
                                     "approved_version > 0 AND merged_into IS NULL AND code IS "
                                     "NOT NULL ORDER BY code");
    int rc = st ? SQLITE_OK : store_fail(s, SQLITE_ERROR, err);
    int step;
    while (rc == 0 && (step = sqlite3_step(st)) == SQLITE_ROW) {
        json_t *facts = NULL;
        rc = public_facts(s, (const char *)sqlite3_column_text(st, 0), sqlite3_column_int64(st, 1),
                          (const char *)sqlite3_column_text(st, 2), &facts, err);
        if (rc < 0) break;
        json_t *lon = json_incref(json_object_get(facts, "lon"));
        json_t *lat = json_incref(json_object_get(facts, "lat"));
        json_object_del(facts, "lon");
        json_object_del(facts, "lat");
        json_t *f = json_pack("{s:s, s:{s:s, s:[o, o]}, s:o}", "type", "Feature", "geometry",
                              "type", "Point", "coordinates", lon, lat, "properties", facts);
        if (!f || json_array_append_new(features, f) != 0)
            rc = sync_fail(err, SYNC_EINTERNAL, "out_of_memory", "out of memory");
    }
    if (rc == 0 && step != SQLITE_DONE) rc = store_fail(s, step, err);
    if (st) sqlite3_reset(st);
    if (rc == 0) {
        *out = json_pack("{s:s, s:o}", "type", "FeatureCollection", "features", features);
        if (!*out) return sync_fail(err, SYNC_EINTERNAL, "out_of_memory", "out of memory");
        return 0;
    }
    json_decref(features);
    return rc;
}

int disclosure_read_outfall(store *s, const char *code, json_t **out, sync_error *err) {
    *out = NULL;
    sqlite3_stmt *st = store_stmt(s, "SELECT id, approved_version FROM outfalls WHERE code = ? "
                                     "AND approved_version > 0 AND merged_into IS NULL");
    if (!st) return store_fail(s, SQLITE_ERROR, err);
    sqlite3_bind_text(st, 1, code, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        sqlite3_reset(st);
        if (rc != SQLITE_DONE) return store_fail(s, rc, err);
        return sync_fail(err, SYNC_ENOTFOUND, "not_found", "no approved outfall has code %.64s",
                         code);
    }
    char id[64];
    snprintf(id, sizeof id, "%s", (const char *)sqlite3_column_text(st, 0));
    int64_t approved = sqlite3_column_int64(st, 1);
    sqlite3_reset(st);
    return public_facts(s, id, approved, code, out, err);
}

/* ---- sign boards ---- */

int disclosure_signboard_code(store *s, const char *id, char *code, size_t cap, sync_error *err) {
    code[0] = '\0';
    if (!id || !util_uuid_valid(id))
        return sync_fail(err, SYNC_EINVALID, "invalid_argument", "an outfall's id is a UUID");
    sqlite3_stmt *st =
        store_stmt(s, "SELECT approved_version, code, merged_into FROM outfalls WHERE id = ?");
    if (!st) return store_fail(s, SQLITE_ERROR, err);
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    int step = sqlite3_step(st), rc = 0;
    if (step == SQLITE_ROW) {
        const char *c = (const char *)sqlite3_column_text(st, 1);
        const char *merged = (const char *)sqlite3_column_text(st, 2);
        if (merged)
            rc = sync_fail(err, SYNC_ECONFLICT, "merged",
                           "outfall %s was merged into %.40s: the survivor's sign board stands", id,
                           merged);
        else if (sqlite3_column_int64(st, 0) <= 0 || !c || !c[0])
            rc = sync_fail(err, SYNC_ECONFLICT, "not_approved",
                           "outfall %s has no approved version and code yet: a sign board shows "
                           "only approved outfalls",
                           id);
        else if (strlen(c) >= cap)
            rc = sync_fail(err, SYNC_EINTERNAL, "internal", "outfall %s has an overlong code", id);
        else
            memcpy(code, c, strlen(c) + 1);
    } else if (step == SQLITE_DONE) {
        rc = sync_fail(err, SYNC_ENOTFOUND, "not_found", "no outfall %s", id);
    } else {
        rc = store_fail(s, step, err);
    }
    sqlite3_reset(st);
    return rc;
}

/* ---- public reports ---- */

/* Crockford's base32: no I, L, O or U, so a number read aloud or retyped stays the same. */
static const char number_alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/* The city with a margin (docs/domain.md: roughly 34.8–35.5 °N, 112.6–113.7 °E). */
#define REPORT_MIN_LAT 34.5
#define REPORT_MAX_LAT 35.8
#define REPORT_MIN_LON 112.3
#define REPORT_MAX_LON 114.0

/* A fresh tracking number (80 random bits) into out[PUBLIC_REPORT_NUMBER_LEN + 1]. */
static void report_number_new(char *out) {
    uint8_t raw[PUBLIC_REPORT_NUMBER_LEN];
    randombytes_buf(raw, sizeof raw);
    for (int i = 0; i < PUBLIC_REPORT_NUMBER_LEN; i++)
        out[i] = number_alphabet[raw[i] & 31];
    out[PUBLIC_REPORT_NUMBER_LEN] = '\0';
}

/* 1 when text has the form of a tracking number. */
static int report_number_valid(const char *text) {
    if (!text || strlen(text) != PUBLIC_REPORT_NUMBER_LEN) return 0;
    for (const char *p = text; *p; p++)
        if (!strchr(number_alphabet, *p)) return 0;
    return 1;
}

/* Checks a text field: valid UTF-8, no control characters but tab and line breaks, at most max
 * bytes. Returns 0 or a negative code naming what. */
static int report_text_check(const char *what, const char *text, size_t max, sync_error *err) {
    size_t len = strlen(text);
    if (len > max)
        return sync_fail(err, SYNC_ETOOBIG, "text_too_long", "%s is %zu bytes; at most %zu", what,
                         len, max);
    for (const unsigned char *p = (const unsigned char *)text; *p; p++)
        if ((*p < 0x20 && *p != '\t' && *p != '\n' && *p != '\r') || *p == 0x7f)
            return sync_fail(err, SYNC_EINVALID, "invalid_text", "%s holds a control character",
                             what);
    json_t *j = json_string(text); /* jansson refuses text that is not UTF-8 */
    if (!j) return sync_fail(err, SYNC_EINVALID, "invalid_text", "%s is not UTF-8", what);
    json_decref(j);
    return 0;
}

/* 1 when text holds something besides white space. */
static int report_has_text(const char *text) {
    return text && text[strspn(text, " \t\r\n")] != '\0';
}

/* strdup of the column, or NULL when it is NULL. */
static char *column_dup(sqlite3_stmt *st, int i) {
    const char *t = (const char *)sqlite3_column_text(st, i);
    return t ? strdup(t) : NULL;
}

/* The report of the current row of a statement selecting report_load's columns as a new message: in
 * full, or (full = 0) only what the public may see. NULL on no memory. */
static Outfall__V1__PublicReport *report_from_row(sqlite3_stmt *st, int full) {
    Outfall__V1__PublicReport *m = malloc(sizeof *m);
    if (!m) return NULL;
    outfall__v1__public_report__init(m);
    m->number = column_dup(st, 0);
    m->has_kind = m->has_status = m->has_received_at_ms = 1;
    m->kind = (Outfall__V1__ReportKind)sqlite3_column_int(st, 1);
    m->status = (Outfall__V1__ReportStatus)sqlite3_column_int(st, 8);
    m->received_at_ms = sqlite3_column_int64(st, 9);
    m->answer = column_dup(st, 10);
    if (sqlite3_column_type(st, 11) != SQLITE_NULL) {
        m->has_answered_at_ms = 1;
        m->answered_at_ms = sqlite3_column_int64(st, 11);
    }
    if (full) {
        m->has_lat = m->has_lon = 1;
        m->lat = sqlite3_column_double(st, 2);
        m->lon = sqlite3_column_double(st, 3);
        m->division_code = column_dup(st, 4);
        m->description = column_dup(st, 5);
        m->contact = column_dup(st, 6);
        m->outfall_code = column_dup(st, 7);
        m->outfall_id = column_dup(st, 12);
    } else {
        m->outfall_code = column_dup(st, 13); /* the linked outfall's public code, if approved */
    }
    if (!m->number) {
        protobuf_c_message_free_unpacked(&m->base, NULL);
        return NULL;
    }
    return m;
}

/* Adds the photos of report m (the full view only: the public never sees them). */
static int report_fill_photos(store *s, Outfall__V1__PublicReport *m, sync_error *err) {
    return public_report_photos_list(s, m->number, &m->photos, &m->n_photos, err);
}

/* Report number into *out, in full or the public view. Returns 0, or not_found. */
static int report_load(store *s, const char *number, int full, Outfall__V1__PublicReport **out,
                       sync_error *err) {
    static const char sql[] =
        "SELECT r.number, r.kind, r.lat, r.lon, r.division_code, r.description, r.contact, "
        "r.outfall_code, r.status, r.received_at_ms, r.answer, r.answered_at_ms, r.outfall_id, "
        "CASE WHEN o.approved_version > 0 THEN o.code END FROM public_reports r "
        "LEFT JOIN outfalls o ON o.id = r.outfall_id WHERE r.number = ?";
    *out = NULL;
    if (!report_number_valid(number))
        return sync_fail(err, SYNC_ENOTFOUND, "not_found", "no report has that number");
    sqlite3_stmt *st = store_stmt(s, sql);
    if (!st) return store_fail(s, SQLITE_ERROR, err);
    sqlite3_bind_text(st, 1, number, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) *out = report_from_row(st, full);
    sqlite3_reset(st);
    if (rc == SQLITE_DONE)
        return sync_fail(err, SYNC_ENOTFOUND, "not_found", "no report has that number");
    if (rc != SQLITE_ROW) return store_fail(s, rc, err);
    if (!*out) return sync_fail(err, SYNC_EINTERNAL, "out_of_memory", "out of memory");
    return full ? report_fill_photos(s, *out, err) : 0;
}

int disclosure_report_read(store *s, const char *number, Outfall__V1__PublicReport **out,
                           sync_error *err) {
    return report_load(s, number, 0, out, err);
}

/* Checks what a reporter sent. Returns 0 or a negative code. */
static int report_check(store *s, const Outfall__V1__PublicReport *in, sync_error *err) {
    if (!in->has_kind || (in->kind != OUTFALL__V1__REPORT_KIND__REPORT_KIND_ILLEGAL_DISCHARGE &&
                          in->kind != OUTFALL__V1__REPORT_KIND__REPORT_KIND_BORROWED_USE))
        return sync_fail(err, SYNC_EINVALID, "invalid_kind",
                         "kind is REPORT_KIND_ILLEGAL_DISCHARGE or REPORT_KIND_BORROWED_USE");
    if (!in->has_lat || !in->has_lon || !isfinite(in->lat) || !isfinite(in->lon) ||
        in->lat < REPORT_MIN_LAT || in->lat > REPORT_MAX_LAT || in->lon < REPORT_MIN_LON ||
        in->lon > REPORT_MAX_LON)
        return sync_fail(err, SYNC_EINVALID, "invalid_position",
                         "lat and lon (WGS-84) must place the report inside the city");
    if (!report_has_text(in->description))
        return sync_fail(err, SYNC_EINVALID, "description_required",
                         "say what you saw in description");
    int rc = report_text_check("description", in->description, PUBLIC_REPORT_MAX_TEXT, err);
    if (rc == 0 && in->contact)
        rc = report_text_check("contact", in->contact, PUBLIC_REPORT_MAX_CONTACT, err);
    if (rc == 0 && in->outfall_code)
        rc = report_text_check("outfall_code", in->outfall_code, 64, err);
    if (rc == 0) rc = public_report_photos_check(in->photos, in->n_photos, err);
    if (rc < 0) return rc;
    sqlite3_stmt *st = store_stmt(s, "SELECT 1 FROM divisions WHERE code = ?");
    if (!st) return store_fail(s, SQLITE_ERROR, err);
    sqlite3_bind_text(st, 1, in->division_code ? in->division_code : "", -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc == SQLITE_DONE)
        return sync_fail(err, SYNC_EINVALID, "unknown_division",
                         "division_code must name a division of the city");
    return rc == SQLITE_ROW ? 0 : store_fail(s, rc, err);
}

/* The county report in's outfall code and position point to, into county (issue 18): the county of
 * the approved outfall whose code the reporter gave, else of the nearest approved outfall within
 * PUBLIC_REPORT_COUNTY_RADIUS_M, else the reporter's own pick. why[cap] says which basis
 * decided (empty for the reporter's pick). Returns 0, or unknown_outfall_code (404) for a code no
 * approved outfall has. */
static int report_county(store *s, const Outfall__V1__PublicReport *in, char county[16], char *why,
                         size_t cap, sync_error *err) {
    util_strlcpy(county, in->division_code ? in->division_code : "", 16);
    why[0] = '\0';
    int rc;
    if (report_has_text(in->outfall_code)) {
        sqlite3_stmt *st = store_stmt(s, "SELECT division_code FROM outfalls WHERE code = ? AND "
                                         "approved_version > 0 AND merged_into IS NULL");
        if (!st) return store_fail(s, SQLITE_ERROR, err);
        sqlite3_bind_text(st, 1, in->outfall_code, -1, SQLITE_STATIC);
        if ((rc = sqlite3_step(st)) == SQLITE_ROW)
            util_strlcpy(county, (const char *)sqlite3_column_text(st, 0), 16);
        sqlite3_reset(st);
        if (rc == SQLITE_DONE)
            return sync_fail(err, SYNC_ENOTFOUND, "unknown_outfall_code",
                             "no outfall on the sign boards has the code %.64s: check the code on "
                             "the board, or leave it out",
                             in->outfall_code);
        if (rc != SQLITE_ROW) return store_fail(s, rc, err);
        snprintf(why, cap,
                 "按排污口编码 %.64s 所在区县 (the county of the outfall whose code was given)",
                 in->outfall_code);
        return 0;
    }
    /* About PUBLIC_REPORT_COUNTY_RADIUS_M around the point in degrees (wider in longitude). */
    double dlat = PUBLIC_REPORT_COUNTY_RADIUS_M / 111000.0, dlon = dlat / cos(in->lat * M_PI / 180);
    sqlite3_stmt *st = store_stmt(s, "SELECT division_code, lat, lon FROM outfalls WHERE "
                                     "approved_version > 0 AND merged_into IS NULL AND lat "
                                     "BETWEEN ? AND ? AND lon BETWEEN ? AND ?");
    if (!st) return store_fail(s, SQLITE_ERROR, err);
    sqlite3_bind_double(st, 1, in->lat - dlat);
    sqlite3_bind_double(st, 2, in->lat + dlat);
    sqlite3_bind_double(st, 3, in->lon - dlon);
    sqlite3_bind_double(st, 4, in->lon + dlon);
    double best = PUBLIC_REPORT_COUNTY_RADIUS_M;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        double d = util_distance_m(in->lat, in->lon, sqlite3_column_double(st, 1),
                                   sqlite3_column_double(st, 2));
        if (d > best) continue;
        best = d;
        util_strlcpy(county, (const char *)sqlite3_column_text(st, 0), 16);
        snprintf(why, cap,
                 "按位置最近的已登记排污口（%.0f 米）所在区县 (the county of the nearest "
                 "approved outfall, %.0f m away)",
                 d, d);
    }
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : store_fail(s, rc, err);
}

int disclosure_report_submit(store *s, const Outfall__V1__PublicReport *in, const char *client_addr,
                             int64_t upload_ttl_ms, Outfall__V1__PublicReport **out,
                             sync_error *err) {
    char token[REPORT_TOKEN_LEN + 1];
    *out = NULL;
    char county[16], why[320];
    int rc = report_check(s, in, err);
    if (rc == 0) rc = report_county(s, in, county, why, sizeof why, err);
    if (rc < 0) return rc;
    int corrected = strcmp(county, in->division_code) != 0;
    int64_t now = util_now_ms();
    char number[PUBLIC_REPORT_NUMBER_LEN + 1];
    report_number_new(number);
    if ((rc = store_begin(s, err))) return rc;
    sqlite3_stmt *st = store_stmt(s, "SELECT count(*) FROM public_reports WHERE client_addr = ? "
                                     "AND received_at_ms > ?");
    if (!st) {
        rc = store_fail(s, SQLITE_ERROR, err);
        goto fail;
    }
    sqlite3_bind_text(st, 1, client_addr, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, now - 3600 * 1000);
    int step = sqlite3_step(st);
    int64_t recent = step == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    if (step != SQLITE_ROW) {
        rc = store_fail(s, step, err);
        goto fail;
    }
    if (recent >= PUBLIC_REPORTS_PER_HOUR) {
        rc = sync_fail(err, SYNC_ELOCKED, "rate_limited",
                       "at most %d reports an hour from one address: call the hotline %s",
                       PUBLIC_REPORTS_PER_HOUR, PUBLIC_HOTLINE);
        goto fail;
    }
    st = store_stmt(s, "INSERT INTO public_reports (number, kind, lat, lon, division_code, "
                       "description, contact, outfall_code, client_addr, status, received_at_ms) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    if (!st) {
        rc = store_fail(s, SQLITE_ERROR, err);
        goto fail;
    }
    sqlite3_bind_text(st, 1, number, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, in->kind);
    sqlite3_bind_double(st, 3, in->lat);
    sqlite3_bind_double(st, 4, in->lon);
    sqlite3_bind_text(st, 5, county, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, in->description, -1, SQLITE_STATIC);
    if (report_has_text(in->contact)) sqlite3_bind_text(st, 7, in->contact, -1, SQLITE_STATIC);
    if (report_has_text(in->outfall_code))
        sqlite3_bind_text(st, 8, in->outfall_code, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 9, client_addr, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 10, OUTFALL__V1__REPORT_STATUS__REPORT_STATUS_RECEIVED);
    sqlite3_bind_int64(st, 11, now);
    step = sqlite3_step(st);
    sqlite3_reset(st);
    if (step != SQLITE_DONE) {
        rc = store_fail(s, step, err);
        goto fail;
    }
    rc = public_report_photos_attach(s, number, in->photos, in->n_photos, now, upload_ttl_ms, token,
                                     err);
    if (rc < 0) goto fail;
    char detail[400];
    snprintf(detail, sizeof detail, "%s%s%s%s", county, corrected ? " (reporter: " : "",
             corrected ? in->division_code : "", corrected ? "; corrected)" : "");
    audit_record(s, NULL, "report.submit", number, "ok", detail);
    if ((rc = store_commit(s, err))) goto fail;
    rc = report_load(s, number, 0, out, err);
    if (rc == 0 && corrected) {
        (*out)->reported_division_code = strdup(in->division_code);
        (*out)->division_note = strdup(why);
        if (!(*out)->reported_division_code || !(*out)->division_note)
            rc = sync_fail(err, SYNC_EINTERNAL, "out_of_memory", "out of memory");
    }
    if (rc == 0 && token[0]) {
        (*out)->upload_token = strdup(token);
        (*out)->has_upload_token_expires_at_ms = 1;
        (*out)->upload_token_expires_at_ms = now + upload_ttl_ms;
        if (!(*out)->upload_token)
            rc = sync_fail(err, SYNC_EINTERNAL, "out_of_memory", "out of memory");
    }
    sodium_memzero(token, sizeof token);
    return rc;
fail:
    store_rollback(s);
    return rc;
}

int disclosure_report_list(store *s, const principal *p, int status,
                           Outfall__V1__PublicReportList **out, sync_error *err) {
    static const char sql[] =
        "SELECT r.number, r.kind, r.lat, r.lon, r.division_code, r.description, r.contact, "
        "r.outfall_code, r.status, r.received_at_ms, r.answer, r.answered_at_ms, r.outfall_id, "
        "CASE WHEN o.approved_version > 0 THEN o.code END FROM public_reports r "
        "LEFT JOIN outfalls o ON o.id = r.outfall_id WHERE (?1 = 0 OR r.status = ?1) "
        "ORDER BY r.received_at_ms DESC, r.number LIMIT 1000";
    *out = malloc(sizeof **out);
    if (!*out) return sync_fail(err, SYNC_EINTERNAL, "out_of_memory", "out of memory");
    outfall__v1__public_report_list__init(*out);
    Outfall__V1__PublicReportList *l = *out;
    sqlite3_stmt *st = store_stmt(s, sql);
    int rc = st ? 0 : store_fail(s, SQLITE_ERROR, err), step = SQLITE_DONE;
    if (st) sqlite3_bind_int(st, 1, status);
    size_t cap = 0;
    while (rc == 0 && (step = sqlite3_step(st)) == SQLITE_ROW) {
        if (!principal_covers(p, (const char *)sqlite3_column_text(st, 4))) continue;
        if (l->n_reports == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            void *grown = realloc(l->reports, ncap * sizeof *l->reports);
            if (!grown) {
                rc = sync_fail(err, SYNC_EINTERNAL, "out_of_memory", "out of memory");
                break;
            }
            l->reports = grown;
            cap = ncap;
        }
        if (!(l->reports[l->n_reports] = report_from_row(st, 1)))
            rc = sync_fail(err, SYNC_EINTERNAL, "out_of_memory", "out of memory");
        else
            rc = report_fill_photos(s, l->reports[l->n_reports++], err);
    }
    if (rc == 0 && step != SQLITE_DONE) rc = store_fail(s, step, err);
    if (st) sqlite3_reset(st);
    if (rc < 0) {
        protobuf_c_message_free_unpacked(&l->base, NULL);
        *out = NULL;
    }
    return rc;
}

int disclosure_report_answer(store *s, const principal *p, const char *number,
                             const Outfall__V1__ReportAnswer *a, Outfall__V1__PublicReport **out,
                             sync_error *err) {
    *out = NULL;
    if (!a->answer_id || !util_uuid_valid(a->answer_id))
        return sync_fail(err, SYNC_EINVALID, "invalid_argument", "answer_id must be a UUID");
    if (!report_has_text(a->answer))
        return sync_fail(err, SYNC_EINVALID, "answer_required", "answer is required");
    int rc = report_text_check("answer", a->answer, PUBLIC_REPORT_MAX_TEXT, err);
    if (rc < 0) return rc;
    if (!report_number_valid(number))
        return sync_fail(err, SYNC_ENOTFOUND, "not_found", "no report has that number");
    if ((rc = store_begin(s, err))) return rc;
    sqlite3_stmt *st = store_stmt(
        s, "SELECT division_code, status, answer_id FROM public_reports WHERE number = ?");
    if (!st) {
        rc = store_fail(s, SQLITE_ERROR, err);
        goto fail;
    }
    sqlite3_bind_text(st, 1, number, -1, SQLITE_STATIC);
    int step = sqlite3_step(st);
    char division[16] = "", earlier[40] = "";
    int status = 0;
    if (step == SQLITE_ROW) {
        util_strlcpy(division, (const char *)sqlite3_column_text(st, 0), sizeof division);
        status = sqlite3_column_int(st, 1);
        const char *e = (const char *)sqlite3_column_text(st, 2);
        util_strlcpy(earlier, e ? e : "", sizeof earlier);
    }
    sqlite3_reset(st);
    if (step == SQLITE_DONE) {
        rc = sync_fail(err, SYNC_ENOTFOUND, "not_found", "no report has that number");
        goto fail;
    }
    if (step != SQLITE_ROW) {
        rc = store_fail(s, step, err);
        goto fail;
    }
    if (!principal_covers(p, division)) {
        rc = sync_fail(err, SYNC_EFORBIDDEN, "outside_division",
                       "the report is of division %s, outside your divisions", division);
        goto fail;
    }
    if (strcmp(earlier, a->answer_id) == 0) { /* a retry: the report as it stands */
        store_rollback(s);
        return report_load(s, number, 1, out, err);
    }
    if (status == OUTFALL__V1__REPORT_STATUS__REPORT_STATUS_ANSWERED) {
        rc = sync_fail(err, SYNC_ECONFLICT, "already_answered", "the report was answered already");
        goto fail;
    }
    if (a->outfall_id && a->outfall_id[0]) {
        st = store_stmt(s, "SELECT division_code, merged_into FROM outfalls WHERE id = ?");
        if (!st) {
            rc = store_fail(s, SQLITE_ERROR, err);
            goto fail;
        }
        sqlite3_bind_text(st, 1, a->outfall_id, -1, SQLITE_STATIC);
        step = sqlite3_step(st);
        int covered =
            step == SQLITE_ROW && principal_covers(p, (const char *)sqlite3_column_text(st, 0));
        int merged = step == SQLITE_ROW && sqlite3_column_type(st, 1) != SQLITE_NULL;
        sqlite3_reset(st);
        if (step == SQLITE_DONE || (step == SQLITE_ROW && !covered))
            rc = sync_fail(err, SYNC_ENOTFOUND, "not_found", "no outfall %.64s", a->outfall_id);
        else if (step != SQLITE_ROW)
            rc = store_fail(s, step, err);
        else if (merged)
            rc = sync_fail(err, SYNC_ECONFLICT, "merged", "outfall %.64s was merged into another",
                           a->outfall_id);
        if (rc < 0) goto fail;
    }
    st = store_stmt(s, "UPDATE public_reports SET status = ?, answer = ?, answer_id = ?, "
                       "answered_by = ?, answered_at_ms = ?, outfall_id = ? WHERE number = ?");
    if (!st) {
        rc = store_fail(s, SQLITE_ERROR, err);
        goto fail;
    }
    sqlite3_bind_int(st, 1, OUTFALL__V1__REPORT_STATUS__REPORT_STATUS_ANSWERED);
    sqlite3_bind_text(st, 2, a->answer, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, a->answer_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, p->user_id);
    sqlite3_bind_int64(st, 5, util_now_ms());
    if (a->outfall_id && a->outfall_id[0])
        sqlite3_bind_text(st, 6, a->outfall_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 7, number, -1, SQLITE_STATIC);
    step = sqlite3_step(st);
    sqlite3_reset(st);
    if (step != SQLITE_DONE) {
        rc = store_fail(s, step, err);
        goto fail;
    }
    audit_record(s, p, "report.answer", number, "ok",
                 a->outfall_id && a->outfall_id[0] ? a->outfall_id : NULL);
    if ((rc = store_commit(s, err))) goto fail;
    return report_load(s, number, 1, out, err);
fail:
    store_rollback(s);
    if (rc == SYNC_EFORBIDDEN) audit_record(s, p, "report.answer", number, err->code, err->message);
    return rc;
}
