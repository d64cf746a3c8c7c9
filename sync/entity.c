/* The two kinds of record the engine stores, outfalls and observations: how each loads, checks
 * its rules, derives its flags and saves. The generic flow (create, three-way merge, decisions)
 * is in apply.c and drives them through entity_kinds. */
#include "sync/entity.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/credit_code.h"
#include "common/pbjson.h"
#include "common/util.h"
#include "sync/dedupe.h"
#include "sync/feed.h"
#include "sync/hooks.h"
#include "sync/history.h"
#include "sync/photo_refs.h"
#include "sync/photos.h"
#include "sync/record.h"

#define MAX_REDIRECTS 16

/* The city's extent (docs/domain.md), a little widened: outside it a record is flagged, not
 * refused. */
static const double city_box[4] = {34.7, 35.6, 112.5, 113.8};

char *entity_flags_text(json_t *doc) {
    return record_text(json_object_get(doc, "flags"));
}

/* 1 when the JSON array list holds the string flag. */
static int holds_flag(json_t *list, const char *flag) {
    size_t i;
    json_t *v;
    json_array_foreach(list, i, v) {
        if (json_is_string(v) && strcmp(json_string_value(v), flag) == 0) return 1;
    }
    return 0;
}

int entity_forget_cleared(json_t *doc) {
    json_t *acked = json_object_get(doc, "acknowledged_flags");
    if (!json_is_array(acked)) return 0;
    json_t *flags = json_object_get(doc, "flags");
    int changed = 0;
    for (size_t i = json_array_size(acked); i-- > 0;) {
        json_t *v = json_array_get(acked, i);
        if (!json_is_string(v) || !holds_flag(flags, json_string_value(v))) {
            json_array_remove(acked, i);
            changed = 1;
        }
    }
    if (json_array_size(acked) == 0) json_object_del(doc, "acknowledged_flags");
    return changed;
}

/* --- shared checks ------------------------------------------------------------------------ */

static int exists(apply_ctx *c, const char *sql, const char *key) {
    sqlite3_stmt *st = store_stmt(c->s, sql);
    if (!st) return 0;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    int found = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_reset(st);
    return found;
}

/* A position: lat and lon both present, finite and on Earth. JSON keeps NaN and ±Infinity as
 * strings, so "is a number" already rules them out. */
static int check_position(json_t *doc, int required, Outfall__V1__ChangeResult *r) {
    json_t *lat = json_object_get(doc, "lat"), *lon = json_object_get(doc, "lon");
    json_t *acc = json_object_get(doc, "accuracy_m");
    if (!lat && !lon && !required) return 0;
    if (!json_is_number(lat) || !json_is_number(lon))
        return apply_reject(r, "invalid_coordinates", "lat and lon must both be finite numbers");
    double a = json_number_value(lat), o = json_number_value(lon);
    if (!isfinite(a) || !isfinite(o) || a < -90 || a > 90 || o < -180 || o > 180)
        return apply_reject(r, "invalid_coordinates",
                            "lat %.6f / lon %.6f is not a WGS-84 position", a, o);
    if (acc && (!json_is_number(acc) || json_number_value(acc) < 0))
        return apply_reject(r, "invalid_coordinates", "accuracy_m must be a non-negative number");
    return 0;
}

/* Refuses a province checker's change that is no result of its own pick (entity_pick_result):
 * it reads everywhere, writes nothing else. Returns 1 (refused) or 0. */
static int check_read_only_role(apply_ctx *c, Outfall__V1__ChangeResult *r) {
    if (!principal_checker(c->p)) return 0;
    return apply_reject(r, "read_only_role",
                        "the province checker reads records and sends only the results of the "
                        "inspection picks assigned to it");
}

int entity_pick_result(const apply_ctx *c, const entity_kind *k, json_t *doc) {
    return c->device_id && k == &entity_kinds[1] && doc &&
           entity_str(doc, "inspection_draw_id")[0] != '\0';
}

static int check_division(apply_ctx *c, const char *code, Outfall__V1__ChangeResult *r) {
    if (check_read_only_role(c, r)) return 1;
    if (!exists(c, "SELECT 1 FROM divisions WHERE code = ?", code))
        return apply_reject(r, "unknown_division", "no division %s", code);
    if (!principal_covers(c->p, code))
        return apply_reject(r, "outside_division", "division %s is outside your divisions", code);
    return 0;
}

const char *entity_str(json_t *doc, const char *key) {
    const char *v = json_string_value(json_object_get(doc, key));
    return v ? v : "";
}

/* --- outfalls ----------------------------------------------------------------------------- */

/* How far a phone's clock may be off: its field time may be this much later than the server's
 * receipt, or earlier than its device's enrolment, and still count. */
#define FIELD_TIME_SKEW_MS (10 * 60 * 1000)

/* Dates a new outfall from a phone: programme.found_on is the field date, the day (China Standard
 * Time) of the change's client_time_ms, when that lies between the device's enrolment and the
 * batch's receipt (FIELD_TIME_SKEW_MS of clock skew each way): a phone records nothing before its
 * key exists, nor in the future. Otherwise the record is found on the day received, flagged
 * field_time_out_of_range (not when the phone sent no time at all). Returns 0 or -1 (memory). */
static int date_the_find(apply_ctx *c, json_t *doc) {
    int64_t received = c->received_ms ? c->received_ms : c->now_ms, at = c->client_time_ms;
    int in_range = at > 0 && at <= received + FIELD_TIME_SKEW_MS &&
                   (c->enrolled_ms <= 0 || at >= c->enrolled_ms - FIELD_TIME_SKEW_MS);
    apply_flag(doc, "field_time_out_of_range", at != 0 && !in_range);
    char day[11];
    util_date_of_ms(in_range ? at : received, day);
    json_t *v = json_string(day);
    int rc = v ? record_set(doc, "programme.found_on", v) : -1;
    json_decref(v);
    return rc;
}

static const char *const outfall_read_only[] = {"version",
                                                "code",
                                                "review_state",
                                                "merged_into",
                                                "flags",
                                                "approved_version",
                                                "latest_version",
                                                "programme",
                                                "review_comment",
                                                "acknowledged_flags",
                                                NULL};
static const char *const outfall_required[] = {"river_code", "division_code", "lat", "lon", NULL};

static int load_doc(apply_ctx *c, const char *sql, const char *id, entity_row *out) {
    memset(out, 0, sizeof *out);
    sqlite3_stmt *st = store_stmt(c->s, sql);
    if (!st) return SYNC_EINTERNAL;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        sqlite3_reset(st);
        return rc == SQLITE_DONE ? 0 : SYNC_EINTERNAL;
    }
    out->rowid = sqlite3_column_int64(st, 0);
    out->version = sqlite3_column_int64(st, 1);
    util_strlcpy(out->id, id, sizeof out->id);
    util_strlcpy(out->division, (const char *)sqlite3_column_text(st, 2), sizeof out->division);
    if (sqlite3_column_type(st, 3) != SQLITE_NULL)
        util_strlcpy(out->merged_into, (const char *)sqlite3_column_text(st, 3),
                     sizeof out->merged_into);
    out->doc = json_loads((const char *)sqlite3_column_text(st, 4), 0, NULL);
    sqlite3_reset(st);
    return out->doc ? 1 : SYNC_EINTERNAL;
}

static int outfall_load(apply_ctx *c, const char *id, entity_row *out) {
    return load_doc(c,
                    "SELECT rowid, version, division_code, merged_into, doc FROM outfalls "
                    "WHERE id = ?",
                    id, out);
}

static int outfall_check(apply_ctx *c, entity_row *old, entity_row *rw,
                         Outfall__V1__ChangeResult *r, sync_error *err) {
    json_t *doc = rw->doc;
    if (check_position(doc, 1, r)) return 1;
    const char *river = entity_str(doc, "river_code"), *division = entity_str(doc, "division_code");
    if (!exists(c, "SELECT 1 FROM rivers WHERE code = ?", river))
        return apply_reject(r, "unknown_river", "no river %s", river);
    if (check_division(c, division, r)) return 1;
    util_strlcpy(rw->division, division, sizeof rw->division);

    double lat = json_number_value(json_object_get(doc, "lat"));
    double lon = json_number_value(json_object_get(doc, "lon"));
    apply_flag(doc, "outside_city_bounds",
               lat < city_box[0] || lat > city_box[1] || lon < city_box[2] || lon > city_box[3]);
    /* A responsible party's credit code that fails GB 32100-2015 (its check character above all)
     * is flagged for the reviewer, not refused: the surveyor cannot fix it offline, and nothing
     * is lost. Checked on every change, so a corrected code (from a phone or a supervisor's
     * conflict resolution) clears the flag; an absent or empty code is not flagged. Approval
     * refuses an invalid code (sync/review.c). */
    const char *credit = json_string_value(
        json_object_get(json_object_get(doc, "responsible_party"), "credit_code"));
    apply_flag(doc, "credit_code_invalid",
               credit && *credit && credit_code_validate(credit, NULL, 0) != CREDIT_CODE_OK);
    /* A returned record the field changes again goes back to the supervisors. */
    if (old && c->device_id &&
        strcmp(entity_str(old->doc, "review_state"), "REVIEW_STATE_RETURNED") == 0)
        json_object_set_new(doc, "review_state", json_string("REVIEW_STATE_PENDING"));
    if (old) return 0;
    if (c->device_id && date_the_find(c, doc))
        return sync_fail(err, SYNC_EINTERNAL, "out_of_memory", "out of memory");

    /* A new outfall near a live one of the same river is a duplicate suspect. */
    int found = dedupe_nearest(c->s, river, lat, lon, c->cfg->duplicate_radius_m, rw->id,
                               rw->duplicate_of, &rw->duplicate_distance_m);
    if (found < 0) return store_fail(c->s, SQLITE_ERROR, err);
    if (found) {
        apply_flag(doc, "duplicate_suspect", 1);
        r->duplicate_of = strdup(rw->duplicate_of);
        r->has_status = 1;
        r->status = OUTFALL__V1__CHANGE_STATUS__CHANGE_STATUS_DUPLICATE_SUSPECT;
    }
    return 0;
}

/* Binds value to the named parameter of st when the statement has it. */
static void bind_text(sqlite3_stmt *st, const char *name, const char *v) {
    int i = sqlite3_bind_parameter_index(st, name);
    if (i) sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
}
static void bind_int64(sqlite3_stmt *st, const char *name, int64_t v) {
    int i = sqlite3_bind_parameter_index(st, name);
    if (i) sqlite3_bind_int64(st, i, v);
}
static void bind_double(sqlite3_stmt *st, const char *name, double v) {
    int i = sqlite3_bind_parameter_index(st, name);
    if (i) sqlite3_bind_double(st, i, v);
}

/* Binds the columns every record table shares, runs st, and for a new record learns its rowid. */
static int save_common(apply_ctx *c, sqlite3_stmt *st, entity_row *rw, int created,
                       sync_error *err) {
    char *text = record_dump(rw->doc, RECORD_DOC_FLAGS, rw->doc_texts);
    if (!text) return sync_fail(err, SYNC_EINTERNAL, "out_of_memory", "out of memory");
    bind_text(st, ":id", rw->id);
    bind_int64(st, ":version", rw->version);
    bind_text(st, ":division", rw->division);
    bind_text(st, ":doc", text);
    bind_int64(st, ":now", c->now_ms);
    bind_int64(st, ":user", c->p->user_id);
    free(text);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_DONE) return store_fail(c->s, rc, err);
    if (created) rw->rowid = sqlite3_last_insert_rowid(store_db(c->s));
    return 0;
}

/* An enum field of a document (stored by name) as its number; 0 when absent or unknown. */
static int enum_value(json_t *doc, const char *key, const ProtobufCEnumDescriptor *desc) {
    const ProtobufCEnumValue *v =
        protobuf_c_enum_descriptor_get_value_by_name(desc, entity_str(doc, key));
    return v ? v->value : 0;
}

static int64_t int_field(json_t *doc, const char *key) {
    json_t *v = json_object_get(doc, key);
    return json_is_integer(v)  ? json_integer_value(v)
           : json_is_string(v) ? strtoll(json_string_value(v), NULL, 10)
                               : 0;
}

static int outfall_save(apply_ctx *c, entity_row *rw, int created, sync_error *err) {
    sqlite3_stmt *st =
        created ? store_stmt(c->s, "INSERT INTO outfalls (id, version, river_code, division_code, "
                                   "review_state, lat, lon, created_by, created_at_ms, "
                                   "updated_at_ms, doc) VALUES (:id, :version, :river, :division, "
                                   ":review, :lat, :lon, :user, :now, :now, :doc)")
                : store_stmt(c->s, "UPDATE outfalls SET version = :version, river_code = :river, "
                                   "division_code = :division, review_state = :review, "
                                   "lat = :lat, lon = :lon, approved_version = :approved, "
                                   "code = :code, merged_into = :merged, "
                                   "returned = (returned OR :review = 4) AND :review <> 2, "
                                   "updated_at_ms = :now, doc = :doc WHERE id = :id");
    if (!st) return store_fail(c->s, SQLITE_ERROR, err);
    json_t *doc = rw->doc;
    double lat = json_number_value(json_object_get(doc, "lat"));
    double lon = json_number_value(json_object_get(doc, "lon"));
    bind_text(st, ":river", entity_str(doc, "river_code"));
    bind_int64(st, ":review",
               enum_value(doc, "review_state", &outfall__v1__review_state__descriptor));
    bind_double(st, ":lat", lat);
    bind_double(st, ":lon", lon);
    bind_int64(st, ":approved", int_field(doc, "approved_version"));
    if (json_object_get(doc, "code")) bind_text(st, ":code", entity_str(doc, "code"));
    if (json_object_get(doc, "merged_into"))
        bind_text(st, ":merged", entity_str(doc, "merged_into"));
    int rc = save_common(c, st, rw, created, err);
    if (rc) return rc;
    if (created && rw->duplicate_of[0]) {
        st = store_stmt(c->s, "INSERT INTO duplicates (outfall_id, neighbour_id, distance_m, "
                              "created_at_ms) VALUES (?, ?, ?, ?)");
        if (!st) return store_fail(c->s, SQLITE_ERROR, err);
        sqlite3_bind_text(st, 1, rw->id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, rw->duplicate_of, -1, SQLITE_STATIC);
        sqlite3_bind_double(st, 3, rw->duplicate_distance_m);
        sqlite3_bind_int64(st, 4, c->now_ms);
        if ((rc = sqlite3_step(st)) != SQLITE_DONE) return store_fail(c->s, rc, err);
    }
    if ((rc = dedupe_index(c->s, rw->rowid, lat, lon, err))) return rc;
    /* A merged outfall lives on in the feed as a redirect to its survivor. */
    return feed_touch(c->s, json_object_get(doc, "merged_into") ? "redirect" : "outfall", rw->id,
                      rw->rowid, rw->division, err);
}

/* --- observations ------------------------------------------------------------------------- */

static const char *const observation_read_only[] = {"version",
                                                    "flags",
                                                    "inspection_state",
                                                    "inspection_approved_version",
                                                    "inspection_comment",
                                                    "acknowledged_flags",
                                                    NULL};
static const char *const observation_required[] = {"outfall_id", NULL};

static int observation_load(apply_ctx *c, const char *id, entity_row *out) {
    return load_doc(c,
                    "SELECT rowid, version, division_code, NULL, doc FROM observations "
                    "WHERE id = ?",
                    id, out);
}

int entity_live_outfall(apply_ctx *c, const char *id, char live[UUID_STR_LEN + 1],
                        char division[8]) {
    util_strlcpy(live, id, UUID_STR_LEN + 1);
    for (int hop = 0; hop < MAX_REDIRECTS; hop++) {
        sqlite3_stmt *st =
            store_stmt(c->s, "SELECT merged_into, division_code FROM outfalls WHERE id = ?");
        if (!st) return SYNC_EINTERNAL;
        sqlite3_bind_text(st, 1, live, -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_ROW) {
            sqlite3_reset(st);
            return 0;
        }
        util_strlcpy(division, (const char *)sqlite3_column_text(st, 1), 8);
        const unsigned char *next = sqlite3_column_text(st, 0);
        if (!next) {
            sqlite3_reset(st);
            return 1;
        }
        util_strlcpy(live, (const char *)next, UUID_STR_LEN + 1);
        sqlite3_reset(st);
    }
    return 0;
}

int64_t entity_photo_author(const apply_ctx *c) {
    return c->photo_author ? c->photo_author : c->p->user_id;
}

/* Whether the reference to photo hash of the observation whose rowid is obs_rowid (0 for one not
 * created yet: it has none) counts, with the photo's EXIF facts in st's row: the photo is stored
 * and the reference's author (the user who first named it in this observation; for a reference
 * this change adds, entity_photo_author) holds it: uploaded its bytes (sync/photos.h). A reference
 * that does not count is treated as a photo not uploaded yet. Returns st stepped once (a row when
 * it counts; sqlite3_data_count 0 when not), or NULL on a storage error. The caller resets st. */
static sqlite3_stmt *proven_photo(apply_ctx *c, int64_t obs_rowid, const char *hash) {
    sqlite3_stmt *st = store_stmt(
        c->s, "SELECT p.gps_lat, p.gps_lon, p.taken_at_ms FROM photos p WHERE p.hash = ?1 "
              "AND EXISTS (SELECT 1 FROM photo_holders h WHERE h.hash = ?1 AND h.user_id = "
              "COALESCE((SELECT author_id FROM observation_photo_refs WHERE " PHOTO_REFS_OF(
                  "ref_key", "?2") " AND hash = ?1), ?3))");
    if (!st) return NULL;
    sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, obs_rowid);
    sqlite3_bind_int64(st, 3, entity_photo_author(c));
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW || rc == SQLITE_DONE) return st;
    sqlite3_reset(st);
    return NULL;
}

/* The photo kinds taken away from the outfall by nature: a trace node lies along the pipe
 * upstream (溯源节点), remediation evidence where the work was done (整治完成, e.g. the plant the
 * outfall now joins). Their distance from the site says nothing. */
static const char *const photo_kinds_away[] = {"PHOTO_KIND_TRACE_NODE",
                                               "PHOTO_KIND_REMEDIATION_DONE", NULL};

/* 1 when photo reference photo is of a kind taken away from the outfall. */
static int photo_taken_away(json_t *photo) {
    const char *kind = entity_str(photo, "kind");
    for (const char *const *k = photo_kinds_away; *k; k++)
        if (strcmp(kind, *k) == 0) return 1;
    return 0;
}

_Static_assert(sizeof((entity_row *)0)->proven * 8 == PHOTO_REF_SLOTS,
               "a bit of entity_row.proven for each photo an observation may name");

/* Sets the reviewer's photo flags on observation document doc (its rowid obs_rowid, 0 before it
 * is created) from the EXIF facts of the photos it names: photos_pending (some not uploaded yet, or
 * named by someone who never uploaded them: proven_photo), photo_no_geotag, photo_far_from_site
 * (farther than the configured distance, or the phone's accuracy if larger, from the observation's
 * position, else its outfall's; never for trace-node and remediation photos: photo_taken_away) and
 * photo_time_mismatch. Flags never change the field facts. rw (may be NULL) keeps which photos
 * count for the save that follows (entity_row.proven). Returns 0, or negative on a storage
 * error. */
static int photo_flags(apply_ctx *c, json_t *doc, int64_t obs_rowid, const char *outfall_id,
                       entity_row *rw) {
    json_t *jlat = json_object_get(doc, "lat"), *jlon = json_object_get(doc, "lon");
    double lat = json_number_value(jlat), lon = json_number_value(jlon);
    int has_pos = json_is_number(jlat) && json_is_number(jlon);
    if (!has_pos) {
        sqlite3_stmt *st = store_stmt(c->s, "SELECT lat, lon FROM outfalls WHERE id = ?");
        if (!st) return SYNC_EINTERNAL;
        sqlite3_bind_text(st, 1, outfall_id, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW) {
            lat = sqlite3_column_double(st, 0);
            lon = sqlite3_column_double(st, 1);
            has_pos = 1;
        }
        sqlite3_reset(st);
    }
    double accuracy = json_number_value(json_object_get(doc, "accuracy_m"));
    double far = fmax(c->cfg->photo_far_m, accuracy);
    json_t *jat = json_object_get(doc, "observed_at_ms");
    int64_t at = json_is_integer(jat)  ? json_integer_value(jat)
                 : json_is_string(jat) ? strtoll(json_string_value(jat), NULL, 10)
                                       : 0;
    int pending = 0, no_geotag = 0, far_away = 0, mismatch = 0;
    size_t i;
    json_t *photo, *photos = json_object_get(doc, "photos");
    if (rw) {
        memset(rw->proven, 0, sizeof rw->proven);
        rw->proven_of = json_array_size(photos) <= PHOTO_REF_SLOTS ? photos : NULL;
        rw->proven_n = json_array_size(photos);
    }
    json_array_foreach(photos, i, photo) {
        sqlite3_stmt *st = proven_photo(c, obs_rowid, entity_str(photo, "hash"));
        if (!st) return SYNC_EINTERNAL;
        if (sqlite3_data_count(st) > 0 && rw && rw->proven_of)
            rw->proven[i / 8] |= (uint8_t)(1u << (i % 8));
        if (sqlite3_data_count(st) > 0) {
            if (sqlite3_column_type(st, 0) == SQLITE_NULL ||
                sqlite3_column_type(st, 1) == SQLITE_NULL)
                no_geotag = 1;
            else if (has_pos && !photo_taken_away(photo) &&
                     util_distance_m(lat, lon, sqlite3_column_double(st, 0),
                                     sqlite3_column_double(st, 1)) > far)
                far_away = 1;
            if (at && sqlite3_column_type(st, 2) != SQLITE_NULL &&
                llabs(sqlite3_column_int64(st, 2) - at) > c->cfg->photo_time_span_ms)
                mismatch = 1;
        } else {
            pending = 1;
        }
        sqlite3_reset(st);
    }
    apply_flag(doc, "photos_pending", pending);
    apply_flag(doc, "photo_no_geotag", no_geotag);
    apply_flag(doc, "photo_far_from_site", far_away);
    apply_flag(doc, "photo_time_mismatch", mismatch);
    return 0;
}

static int observation_check(apply_ctx *c, entity_row *old, entity_row *rw,
                             Outfall__V1__ChangeResult *r, sync_error *err) {
    json_t *doc = rw->doc;
    (void)err;
    if (old && c->device_id &&
        strcmp(entity_str(old->doc, "outfall_id"), entity_str(doc, "outfall_id")) != 0)
        return apply_reject(
            r, "read_only_field",
            "an observation stays with its outfall; a supervisor moves it by merging");
    if (check_position(doc, 0, r)) return 1;
    char live[UUID_STR_LEN + 1], division[8] = "";
    const char *outfall_id = entity_str(doc, "outfall_id");
    const apply_lookahead *ahead = c->ahead;
    int found = 1;
    if (ahead && ahead->outfall_id[0] && strcmp(ahead->outfall_id, outfall_id) == 0) {
        util_strlcpy(live, ahead->live, sizeof live);
        util_strlcpy(division, ahead->division, sizeof division);
    } else {
        found = entity_live_outfall(c, outfall_id, live, division);
    }
    if (found < 0) return store_fail(c->s, SQLITE_ERROR, err);
    if (!found)
        return apply_reject(r, "unknown_outfall", "no outfall %s", entity_str(doc, "outfall_id"));
    /* A pick's result is the pick's inspector's to send, whatever their divisions: the check of
     * the features below holds the sender to the draw's pick (not_assigned_inspector). */
    int pick_result = entity_pick_result(c, &entity_kinds[1], doc);
    if (!pick_result && check_read_only_role(c, r)) return 1;
    if (!pick_result && !principal_covers(c->p, division))
        return apply_reject(r, "outside_division", "outfall %s is outside your divisions", live);
    if (!old && strcmp(live, entity_str(doc, "outfall_id")) != 0)
        json_object_set_new(doc, "outfall_id", json_string(live));
    util_strlcpy(rw->division, division, sizeof rw->division);
    /* The features' checks (sync/hooks.h): an inspection result's draw, pick and inspector. */
    sync_error why = {0};
    int f = hooks_observation_check(c->s, c->p, c->device_id != NULL, old ? old->doc : NULL, doc,
                                    live, rw->id, &why);
    if (f > 0) return apply_reject(r, why.code, "%s", why.message);
    if (f < 0) {
        *err = why;
        return f;
    }

    json_t *photos = json_object_get(doc, "photos");
    if (json_array_size(photos) > PHOTO_REF_SLOTS)
        return apply_reject(r, "too_many_photos", "an observation names at most %d photos",
                            PHOTO_REF_SLOTS);
    size_t i;
    json_t *photo;
    json_array_foreach(photos, i, photo) {
        if (!util_hash_hex_valid(entity_str(photo, "hash")))
            return apply_reject(r, "invalid_change",
                                "photos[%zu].hash must be 64 lowercase hex digits (BLAKE2b-256)",
                                i);
    }
    return photo_flags(c, doc, rw->rowid, live, rw) < 0 ? store_fail(c->s, SQLITE_ERROR, err) : 0;
}

static int observation_save(apply_ctx *c, entity_row *rw, int created, sync_error *err) {
    sqlite3_stmt *st =
        created ? store_stmt(c->s, "INSERT INTO observations (id, outfall_id, version, "
                                   "division_code, created_by, created_at_ms, updated_at_ms, doc) "
                                   "VALUES (:id, :outfall, :version, :division, :user, :now, "
                                   ":now, :doc)")
                : store_stmt(c->s, "UPDATE observations SET version = :version, "
                                   "outfall_id = :outfall, division_code = :division, "
                                   "updated_at_ms = :now, doc = :doc WHERE id = :id");
    if (!st) return store_fail(c->s, SQLITE_ERROR, err);
    bind_text(st, ":outfall", entity_str(rw->doc, "outfall_id"));
    int rc = save_common(c, st, rw, created, err);
    if (!rc)
        rc = hooks_observation_saved(c->s, c->device_id != NULL, rw->doc, rw->id,
                                     entity_str(rw->doc, "outfall_id"), rw->division, c->p->user_id,
                                     c->now_ms, err);
    if (rc) return rc;

    if ((rc = photo_refs_save(c, rw, created, err))) return rc;
    return feed_touch(c->s, "observation", rw->id, rw->rowid, rw->division, err);
}

const entity_kind entity_kinds[] = {
    {"outfall", &outfall__v1__outfall__descriptor, outfall_read_only, outfall_required,
     outfall_load, outfall_check, outfall_save},
    {"observation", &outfall__v1__observation__descriptor, observation_read_only,
     observation_required, observation_load, observation_check, observation_save},
};

int entity_photo_arrived(store *s, const sync_config *cfg, const char *hash, sync_error *err) {
    /* The server acts on its own here: no user, no device. */
    principal system = {.user_id = 0, .username = "system", .role = OUTFALL__V1__ROLE__ROLE_ADMIN};
    apply_ctx c = {s, cfg, &system, NULL, util_now_ms(), NULL, 0, 0};
    char change_id[80];
    snprintf(change_id, sizeof change_id, "photo:%s", hash);
    history_author a = {change_id, 0, NULL, c.now_ms};

    /* Collect first: saving rewrites observation_photo_refs, which the query walks. */
    char(*ids)[UUID_STR_LEN + 1] = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    sqlite3_stmt *st =
        store_stmt(s, "SELECT o.id FROM observation_photo_refs r JOIN observations o ON "
                      "o.rowid = r.observation_rowid WHERE " PHOTO_REFS_NAMING("r", "?1"));
    if (!st) return store_fail(s, SQLITE_ERROR, err);
    sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == cap) {
            cap = cap ? 2 * cap : 8;
            void *grown = realloc(ids, cap * sizeof *ids);
            if (!grown) break;
            ids = grown;
        }
        util_strlcpy(ids[n++], (const char *)sqlite3_column_text(st, 0), sizeof ids[0]);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        free(ids);
        return rc == SQLITE_ROW ? sync_fail(err, SYNC_EINTERNAL, "out_of_memory", "out of memory")
                                : store_fail(s, rc, err);
    }
    rc = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        entity_row rw;
        int found = observation_load(&c, ids[i], &rw);
        if (found <= 0) {
            rc = found < 0 ? store_fail(s, SQLITE_ERROR, err) : 0;
            continue;
        }
        char *before = entity_flags_text(rw.doc);
        if ((rc = photo_flags(&c, rw.doc, rw.rowid, entity_str(rw.doc, "outfall_id"), &rw)) < 0) {
            rc = store_fail(s, SQLITE_ERROR, err);
        } else {
            char *after = entity_flags_text(rw.doc);
            if (before && after && strcmp(before, after) != 0) {
                int forgot = entity_forget_cleared(rw.doc);
                rw.version++;
                json_object_set_new(rw.doc, "version", json_integer(rw.version));
                rc = observation_save(&c, &rw, 0, err);
                if (!rc)
                    rc = history_write(s, "observation", rw.id, rw.version, "flags",
                                       json_object_get(rw.doc, "flags"), &a, err);
                if (!rc && forgot)
                    rc = history_write(s, "observation", rw.id, rw.version, "acknowledged_flags",
                                       json_object_get(rw.doc, "acknowledged_flags"), &a, err);
            }
            free(after);
        }
        free(before);
        json_decref(rw.doc);
    }
    free(ids);
    apply_ctx_free(&c);
    return rc;
}
