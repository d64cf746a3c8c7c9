#include "sync/apply.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/pbjson.h"
#include "common/util.h"
#include "sync/dedupe.h"
#include "sync/feed.h"
#include "sync/history.h"
#include "sync/record.h"

#define MAX_TEXT_BYTES 4096
#define MAX_REDIRECTS 16

/* The city's extent (DOMAIN.md), a little widened: outside it a record is flagged, not refused. */
static const double city_box[4] = {34.7, 35.6, 112.5, 113.8};

/* A record as loaded from its table. */
typedef struct row {
    int64_t rowid;
    int64_t version;
    char id[UUID_STR_LEN + 1];
    char division[8];
    char merged_into[UUID_STR_LEN + 1];
    char duplicate_of[UUID_STR_LEN + 1]; /* a new outfall's nearest neighbour, if any */
    double duplicate_distance_m;
    json_t *doc;
} row;

typedef struct kind kind;
struct kind {
    const char *name;
    const ProtobufCMessageDescriptor *desc;
    const char *const *read_only; /* fields only the server sets */
    const char *const *required;  /* fields a create must carry */
    int (*load)(apply_ctx *c, const char *id, row *out);
    /* Checks doc (after the change) and sets derived state; 1 = rejected (r filled), 0, or < 0. */
    int (*check)(apply_ctx *c, row *old, row *doc, Outfall__V1__ChangeResult *r, sync_error *err);
    int (*save)(apply_ctx *c, row *rw, int created, sync_error *err);
};

/* --- results ------------------------------------------------------------------------------ */

static int reject(Outfall__V1__ChangeResult *r, const char *reason, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int reject(Outfall__V1__ChangeResult *r, const char *reason, const char *fmt, ...) {
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    r->has_status = 1;
    r->status = OUTFALL__V1__CHANGE_STATUS__CHANGE_STATUS_REJECTED;
    r->has_version = 0;
    /* A rejected change leaves nothing behind: its partial outcome goes too. */
    for (size_t i = 0; i < r->n_conflicts; i++)
        protobuf_c_message_free_unpacked(&r->conflicts[i]->base, NULL);
    free(r->conflicts);
    r->conflicts = NULL;
    r->n_conflicts = 0;
    free(r->duplicate_of);
    r->duplicate_of = NULL;
    free(r->reason);
    free(r->message);
    r->reason = strdup(reason);
    r->message = strdup(msg);
    return 1;
}

static void set_status(Outfall__V1__ChangeResult *r, int status, int64_t version) {
    r->has_status = 1;
    r->status = status;
    r->has_version = 1;
    r->version = version;
}

static int add_conflict(Outfall__V1__ChangeResult *r, const char *field, const json_t *base,
                        const json_t *server, const json_t *client) {
    void *grown = realloc(r->conflicts, (r->n_conflicts + 1) * sizeof *r->conflicts);
    Outfall__V1__FieldConflict *fc = malloc(sizeof *fc);
    if (!grown || !fc) {
        free(fc);
        if (grown) r->conflicts = grown;
        return -1;
    }
    r->conflicts = grown;
    outfall__v1__field_conflict__init(fc);
    fc->field = strdup(field);
    fc->base_value = record_text(base);
    fc->server_value = record_text(server);
    fc->client_value = record_text(client);
    r->conflicts[r->n_conflicts++] = fc;
    return 0;
}

/* --- flags -------------------------------------------------------------------------------- */

static void flag_set(json_t *doc, const char *flag, int on) {
    json_t *flags = json_object_get(doc, "flags");
    size_t i;
    json_t *v;
    json_array_foreach(flags, i, v) {
        if (strcmp(json_string_value(v), flag) == 0) {
            if (!on) json_array_remove(flags, i);
            if (json_array_size(flags) == 0) json_object_del(doc, "flags");
            return;
        }
    }
    if (!on) return;
    if (!flags) json_object_set_new(doc, "flags", flags = json_array());
    json_array_append_new(flags, json_string(flag));
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
        return reject(r, "invalid_coordinates", "lat and lon must both be finite numbers");
    double a = json_number_value(lat), o = json_number_value(lon);
    if (!isfinite(a) || !isfinite(o) || a < -90 || a > 90 || o < -180 || o > 180)
        return reject(r, "invalid_coordinates", "lat %.6f / lon %.6f is not a WGS-84 position", a,
                      o);
    if (acc && (!json_is_number(acc) || json_number_value(acc) < 0))
        return reject(r, "invalid_coordinates", "accuracy_m must be a non-negative number");
    return 0;
}

static int check_division(apply_ctx *c, const char *code, Outfall__V1__ChangeResult *r) {
    if (!exists(c, "SELECT 1 FROM divisions WHERE code = ?", code))
        return reject(r, "unknown_division", "no division %s", code);
    if (!principal_covers(c->p, code))
        return reject(r, "outside_division", "division %s is outside your divisions", code);
    return 0;
}

static const char *str(json_t *doc, const char *key) {
    const char *v = json_string_value(json_object_get(doc, key));
    return v ? v : "";
}

/* --- outfalls ----------------------------------------------------------------------------- */

static const char *const outfall_read_only[] = {"version",        "code",  "review_state",
                                                "merged_into",    "flags", "approved_version",
                                                "latest_version", "programme", NULL};
static const char *const outfall_required[] = {"river_code", "division_code", "lat", "lon", NULL};

static int load_doc(apply_ctx *c, const char *sql, const char *id, row *out) {
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

static int outfall_load(apply_ctx *c, const char *id, row *out) {
    return load_doc(c,
                    "SELECT rowid, version, division_code, merged_into, doc FROM outfalls "
                    "WHERE id = ?",
                    id, out);
}

static int outfall_check(apply_ctx *c, row *old, row *rw, Outfall__V1__ChangeResult *r,
                         sync_error *err) {
    json_t *doc = rw->doc;
    if (check_position(doc, 1, r)) return 1;
    const char *river = str(doc, "river_code"), *division = str(doc, "division_code");
    if (!exists(c, "SELECT 1 FROM rivers WHERE code = ?", river))
        return reject(r, "unknown_river", "no river %s", river);
    if (check_division(c, division, r)) return 1;
    util_strlcpy(rw->division, division, sizeof rw->division);

    double lat = json_number_value(json_object_get(doc, "lat"));
    double lon = json_number_value(json_object_get(doc, "lon"));
    flag_set(doc, "outside_city_bounds",
             lat < city_box[0] || lat > city_box[1] || lon < city_box[2] || lon > city_box[3]);
    /* A returned record the field changes again goes back to the supervisors. */
    if (old && c->device_id && strcmp(str(old->doc, "review_state"), "REVIEW_STATE_RETURNED") == 0)
        json_object_set_new(doc, "review_state", json_string("REVIEW_STATE_PENDING"));
    if (old) return 0;

    /* A new outfall near a live one of the same river is a duplicate suspect. */
    int found = dedupe_nearest(c->s, river, lat, lon, c->cfg->duplicate_radius_m, rw->id,
                               rw->duplicate_of, &rw->duplicate_distance_m);
    if (found < 0) return store_fail(c->s, SQLITE_ERROR, err);
    if (found) {
        flag_set(doc, "duplicate_suspect", 1);
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
static int save_common(apply_ctx *c, sqlite3_stmt *st, row *rw, int created, sync_error *err) {
    char *text = json_dumps(rw->doc, JSON_COMPACT | JSON_REAL_PRECISION(17));
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
    const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value_by_name(desc, str(doc, key));
    return v ? v->value : 0;
}

static int64_t int_field(json_t *doc, const char *key) {
    json_t *v = json_object_get(doc, key);
    return json_is_integer(v)  ? json_integer_value(v)
           : json_is_string(v) ? strtoll(json_string_value(v), NULL, 10)
                               : 0;
}

static int outfall_save(apply_ctx *c, row *rw, int created, sync_error *err) {
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
    bind_text(st, ":river", str(doc, "river_code"));
    bind_int64(st, ":review",
               enum_value(doc, "review_state", &outfall__v1__review_state__descriptor));
    bind_double(st, ":lat", lat);
    bind_double(st, ":lon", lon);
    bind_int64(st, ":approved", int_field(doc, "approved_version"));
    if (json_object_get(doc, "code")) bind_text(st, ":code", str(doc, "code"));
    if (json_object_get(doc, "merged_into")) bind_text(st, ":merged", str(doc, "merged_into"));
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
                      rw->division, err);
}

/* --- observations ------------------------------------------------------------------------- */

static const char *const observation_read_only[] = {"version", "flags", NULL};
static const char *const observation_required[] = {"outfall_id", NULL};

static int observation_load(apply_ctx *c, const char *id, row *out) {
    return load_doc(c,
                    "SELECT rowid, version, division_code, NULL, doc FROM observations "
                    "WHERE id = ?",
                    id, out);
}

/* Follows merge redirects from outfall id to the live record, into live[37]. Returns 1 when
 * found, 0 when not, negative on a storage error. */
static int live_outfall(apply_ctx *c, const char *id, char live[UUID_STR_LEN + 1],
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

static int remember_missing(apply_ctx *c, const char *hash) {
    for (size_t i = 0; i < c->n_missing; i++)
        if (strcmp(c->missing[i], hash) == 0) return 0;
    if (c->n_missing == c->cap_missing) {
        size_t cap = c->cap_missing ? 2 * c->cap_missing : 8;
        char **grown = realloc(c->missing, cap * sizeof *grown);
        if (!grown) return -1;
        c->missing = grown;
        c->cap_missing = cap;
    }
    return (c->missing[c->n_missing] = strdup(hash)) ? (c->n_missing++, 0) : -1;
}

/* Sets the reviewer's photo flags on an observation document from the EXIF facts of the photos
 * it names: photos_pending (some not uploaded yet), photo_no_geotag, photo_far_from_site (farther
 * than the configured distance, or the phone's accuracy if larger, from the observation's
 * position, else its outfall's) and photo_time_mismatch. Flags never change the field facts.
 * Returns 0, or negative on a storage error. */
static int photo_flags(apply_ctx *c, json_t *doc, const char *outfall_id) {
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
    json_t *photo;
    json_array_foreach(json_object_get(doc, "photos"), i, photo) {
        sqlite3_stmt *st = store_stmt(c->s, "SELECT gps_lat, gps_lon, taken_at_ms FROM photos "
                                            "WHERE hash = ?");
        if (!st) return SYNC_EINTERNAL;
        sqlite3_bind_text(st, 1, str(photo, "hash"), -1, SQLITE_STATIC);
        int rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            if (sqlite3_column_type(st, 0) == SQLITE_NULL ||
                sqlite3_column_type(st, 1) == SQLITE_NULL)
                no_geotag = 1;
            else if (has_pos && util_distance_m(lat, lon, sqlite3_column_double(st, 0),
                                                sqlite3_column_double(st, 1)) > far)
                far_away = 1;
            if (at && sqlite3_column_type(st, 2) != SQLITE_NULL &&
                llabs(sqlite3_column_int64(st, 2) - at) > c->cfg->photo_time_span_ms)
                mismatch = 1;
        } else if (rc == SQLITE_DONE) {
            pending = 1;
        }
        sqlite3_reset(st);
        if (rc != SQLITE_ROW && rc != SQLITE_DONE) return SYNC_EINTERNAL;
    }
    flag_set(doc, "photos_pending", pending);
    flag_set(doc, "photo_no_geotag", no_geotag);
    flag_set(doc, "photo_far_from_site", far_away);
    flag_set(doc, "photo_time_mismatch", mismatch);
    return 0;
}

static int observation_check(apply_ctx *c, row *old, row *rw, Outfall__V1__ChangeResult *r,
                             sync_error *err) {
    json_t *doc = rw->doc;
    (void)err;
    if (old && c->device_id && strcmp(str(old->doc, "outfall_id"), str(doc, "outfall_id")) != 0)
        return reject(r, "read_only_field",
                      "an observation stays with its outfall; a supervisor moves it by merging");
    if (check_position(doc, 0, r)) return 1;
    char live[UUID_STR_LEN + 1], division[8] = "";
    int found = live_outfall(c, str(doc, "outfall_id"), live, division);
    if (found < 0) return store_fail(c->s, SQLITE_ERROR, err);
    if (!found) return reject(r, "unknown_outfall", "no outfall %s", str(doc, "outfall_id"));
    if (!principal_covers(c->p, division))
        return reject(r, "outside_division", "outfall %s is outside your divisions", live);
    if (!old && strcmp(live, str(doc, "outfall_id")) != 0)
        json_object_set_new(doc, "outfall_id", json_string(live));
    util_strlcpy(rw->division, division, sizeof rw->division);

    size_t i;
    json_t *photo;
    json_array_foreach(json_object_get(doc, "photos"), i, photo) {
        if (!util_hash_hex_valid(str(photo, "hash")))
            return reject(r, "invalid_change",
                          "photos[%zu].hash must be 64 lowercase hex digits (BLAKE2b-256)", i);
    }
    return photo_flags(c, doc, live) < 0 ? store_fail(c->s, SQLITE_ERROR, err) : 0;
}

/* The PhotoKind number of a photo reference in a document (enums are stored by name). */
static int photo_kind(json_t *photo) {
    const char *name = str(photo, "kind");
    const ProtobufCEnumValue *v =
        protobuf_c_enum_descriptor_get_value_by_name(&outfall__v1__photo_kind__descriptor, name);
    return v ? v->value : 0;
}

static int observation_save(apply_ctx *c, row *rw, int created, sync_error *err) {
    sqlite3_stmt *st =
        created ? store_stmt(c->s, "INSERT INTO observations (id, outfall_id, version, "
                                   "division_code, created_by, created_at_ms, updated_at_ms, doc) "
                                   "VALUES (:id, :outfall, :version, :division, :user, :now, "
                                   ":now, :doc)")
                : store_stmt(c->s, "UPDATE observations SET version = :version, "
                                   "outfall_id = :outfall, division_code = :division, "
                                   "updated_at_ms = :now, doc = :doc WHERE id = :id");
    if (!st) return store_fail(c->s, SQLITE_ERROR, err);
    bind_text(st, ":outfall", str(rw->doc, "outfall_id"));
    int rc = save_common(c, st, rw, created, err);
    if (rc) return rc;

    /* The photos it names, kept beside it; those the server lacks are listed for the phone. */
    st = store_stmt(c->s, "DELETE FROM observation_photos WHERE observation_id = ?");
    if (!st) return store_fail(c->s, SQLITE_ERROR, err);
    sqlite3_bind_text(st, 1, rw->id, -1, SQLITE_STATIC);
    if ((rc = sqlite3_step(st)) != SQLITE_DONE) return store_fail(c->s, rc, err);
    size_t i;
    json_t *photo;
    json_array_foreach(json_object_get(rw->doc, "photos"), i, photo) {
        const char *hash = str(photo, "hash");
        st = store_stmt(c->s, "INSERT OR IGNORE INTO observation_photos (observation_id, hash, "
                              "kind, division_code) VALUES (?, ?, ?, ?)");
        if (!st) return store_fail(c->s, SQLITE_ERROR, err);
        sqlite3_bind_text(st, 1, rw->id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, hash, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 3, photo_kind(photo));
        sqlite3_bind_text(st, 4, rw->division, -1, SQLITE_STATIC);
        if ((rc = sqlite3_step(st)) != SQLITE_DONE) return store_fail(c->s, rc, err);
        if (!exists(c, "SELECT 1 FROM photos WHERE hash = ?", hash) && remember_missing(c, hash))
            return sync_fail(err, SYNC_EINTERNAL, "out_of_memory", "out of memory");
    }
    return feed_touch(c->s, "observation", rw->id, rw->division, err);
}

static const kind kinds[] = {
    {"outfall", &outfall__v1__outfall__descriptor, outfall_read_only, outfall_required,
     outfall_load, outfall_check, outfall_save},
    {"observation", &outfall__v1__observation__descriptor, observation_read_only,
     observation_required, observation_load, observation_check, observation_save},
};

/* --- the generic flow --------------------------------------------------------------------- */

struct leaf_scan {
    const kind *k;
    Outfall__V1__ChangeResult *r;
};

/* Refuses server-owned fields and over-long text in what the phone sent. */
static int scan_leaf(const char *path, json_t *value, void *ctx) {
    struct leaf_scan *sc = ctx;
    for (const char *const *f = sc->k->read_only; *f; f++) {
        size_t n = strlen(*f); /* a message field covers every leaf below it */
        if (strncmp(path, *f, n) == 0 && (path[n] == '\0' || path[n] == '.'))
            return reject(sc->r, "read_only_field", "%s is set by the server, not the phone", path);
    }
    if (json_is_string(value) && strlen(json_string_value(value)) > MAX_TEXT_BYTES)
        return reject(sc->r, "invalid_change", "%s is longer than %d bytes", path, MAX_TEXT_BYTES);
    return 0;
}

struct merge {
    apply_ctx *c;
    const kind *k;
    row *rw;
    int64_t base;
    const char *redirected_from; /* the merged record the phone addressed, or NULL */
    json_t *applied;             /* path -> value taken from the phone */
    Outfall__V1__ChangeResult *r;
    sync_error *err;
    int rc;
};

/* Three-way merge of one field: the phone's value goes in unless someone else changed the field
 * since the phone's base version to a different value; then the server's value stays and a
 * conflict holds all three. */
static int merge_leaf(const char *path, json_t *client, void *ctx) {
    struct merge *m = ctx;
    json_t *server = record_get(m->rw->doc, path);
    if (record_equal(server, client)) return 0;
    int other = 0;
    if (m->redirected_from) {
        /* The phone's base version belongs to the merged record, not the survivor: compare
         * values instead. The field clashes unless the survivor still holds what the phone saw. */
        json_t *seen = history_value_at(m->c->s, m->k->name, m->redirected_from, path, m->base);
        other = !record_equal(seen, server);
        json_decref(seen);
    } else if (m->base < m->rw->version) {
        other = history_changed_by_other(m->c->s, m->k->name, m->rw->id, path, m->base,
                                         m->c->device_id);
        if (other < 0) return m->rc = store_fail(m->c->s, SQLITE_ERROR, m->err);
    }
    if (!other) return json_object_set(m->applied, path, client) ? (m->rc = SYNC_EINTERNAL) : 0;

    json_t *base = history_value_at(
        m->c->s, m->k->name, m->redirected_from ? m->redirected_from : m->rw->id, path, m->base);
    int rc = add_conflict(m->r, path, base, server, client);
    if (!rc) {
        sqlite3_stmt *st = store_stmt(m->c->s, "INSERT INTO conflicts (kind, entity_id, field, "
                                               "base_value, server_value, client_value, "
                                               "change_id, device_id, user_id, created_at_ms) "
                                               "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
        Outfall__V1__FieldConflict *fc = m->r->conflicts[m->r->n_conflicts - 1];
        if (st) {
            sqlite3_bind_text(st, 1, m->k->name, -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 2, m->rw->id, -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 3, path, -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 4, fc->base_value, -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 5, fc->server_value, -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 6, fc->client_value, -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 7, m->r->change_id, -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 8, m->c->device_id, -1, SQLITE_STATIC);
            sqlite3_bind_int64(st, 9, m->c->p->user_id);
            sqlite3_bind_int64(st, 10, m->c->now_ms);
        }
        rc = st && sqlite3_step(st) == SQLITE_DONE ? 0 : SYNC_EINTERNAL;
    }
    json_decref(base);
    if (rc) m->rc = store_fail(m->c->s, SQLITE_ERROR, m->err);
    return m->rc;
}

static int set_leaf(const char *path, json_t *value, void *ctx) {
    return record_set(ctx, path, value) ? SYNC_EINTERNAL : 0;
}

/* Snapshot of the flags, to tell whether the server's own view changed. */
static char *flags_text(json_t *doc) {
    return record_text(json_object_get(doc, "flags"));
}

static int create(apply_ctx *c, const kind *k, const char *id, json_t *fields,
                  const history_author *a, Outfall__V1__ChangeResult *r, sync_error *err) {
    row existing;
    int rc = k->load(c, id, &existing);
    if (rc < 0) return store_fail(c->s, SQLITE_ERROR, err);
    if (rc > 0) {
        json_decref(existing.doc);
        return reject(r, "already_exists", "%s %s already exists; edit it with its version",
                      k->name, id);
    }
    for (const char *const *f = k->required; *f; f++)
        if (!json_object_get(fields, *f))
            return reject(r, "missing_field", "a new %s needs %s", k->name, *f);

    row rw = {.version = 1};
    util_strlcpy(rw.id, id, sizeof rw.id);
    rw.doc = json_deep_copy(fields);
    if (!rw.doc) return sync_fail(err, SYNC_EINTERNAL, "out_of_memory", "out of memory");
    set_status(r, OUTFALL__V1__CHANGE_STATUS__CHANGE_STATUS_APPLIED, 1);
    rc = k->check(c, NULL, &rw, r, err);
    if (rc == 0) {
        json_object_set_new(rw.doc, "id", json_string(id));
        json_object_set_new(rw.doc, "version", json_integer(1));
        if (k == &kinds[0])
            json_object_set_new(rw.doc, "review_state", json_string("REVIEW_STATE_PENDING"));
        rc = k->save(c, &rw, 1, err);
        /* History holds every field the phone set, and what the server set beside them. */
        json_t *server_set =
            json_pack("{s:O*, s:O*}", "review_state", json_object_get(rw.doc, "review_state"),
                      "flags", json_object_get(rw.doc, "flags"));
        if (!rc) rc = history_write_all(c->s, k->name, id, 1, fields, a, err);
        if (!rc && server_set) rc = history_write_all(c->s, k->name, id, 1, server_set, a, err);
        json_decref(server_set);
    }
    json_decref(rw.doc);
    return rc > 0 ? 0 : rc;
}

/* The survivor's version written by the decision that merged `merged` into it, or 0. */
static int64_t merge_version(apply_ctx *c, const char *merged, const char *survivor) {
    sqlite3_stmt *st = store_stmt(
        c->s, "SELECT s.version FROM field_history m JOIN field_history s ON s.kind = m.kind "
              "AND s.change_id = m.change_id AND s.entity_id = ?2 WHERE m.kind = 'outfall' "
              "AND m.entity_id = ?1 AND m.field = 'merged_into' ORDER BY m.version DESC, "
              "s.version DESC LIMIT 1");
    if (!st) return 0;
    sqlite3_bind_text(st, 1, merged, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, survivor, -1, SQLITE_STATIC);
    int64_t v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    return v;
}

static int edit(apply_ctx *c, const kind *k, const char *id, int64_t base, json_t *fields,
                const history_author *a, Outfall__V1__ChangeResult *r, sync_error *err) {
    row old, rw;
    int rc = k->load(c, id, &old);
    if (rc < 0) return store_fail(c->s, SQLITE_ERROR, err);
    /* The version the phone's base counts in: the addressed record's, even once it is merged. */
    int64_t addressed_version = rc > 0 ? old.version : 0;
    /* Edits addressed to a merged outfall go to the one it was merged into. */
    char last_merged[UUID_STR_LEN + 1] = "";
    for (int hop = 0; rc > 0 && old.merged_into[0] && hop < MAX_REDIRECTS; hop++) {
        char next[UUID_STR_LEN + 1];
        util_strlcpy(last_merged, old.id, sizeof last_merged);
        util_strlcpy(next, old.merged_into, sizeof next);
        json_decref(old.doc);
        rc = k->load(c, next, &old);
        if (rc < 0) return store_fail(c->s, SQLITE_ERROR, err);
    }
    if (rc == 0) return reject(r, "not_found", "no %s %s to edit", k->name, id);
    rw = old;
    rw.doc = json_deep_copy(old.doc);
    json_t *applied = json_object();
    char *flags_before = flags_text(old.doc);
    if (!rw.doc || !applied || !flags_before) {
        rc = sync_fail(err, SYNC_EINTERNAL, "out_of_memory", "out of memory");
        goto done;
    }
    if (!principal_covers(c->p, old.division)) {
        rc = reject(r, "outside_division", "%s %s is outside your divisions", k->name, old.id);
        goto done;
    }
    if (base > addressed_version) {
        rc = reject(r, "base_version_ahead",
                    "base_version %lld is ahead of the server's version %lld", (long long)base,
                    (long long)addressed_version);
        goto done;
    }
    int redirected = strcmp(old.id, id) != 0;
    if (redirected) {
        free(r->entity_id);
        r->entity_id = strdup(old.id);
    }

    /* A redirected edit counts from the merge: the fields someone else changed on the survivor
     * since then clash; when the merge point is unknown, values are compared instead. */
    int64_t merge_point = redirected ? merge_version(c, last_merged, old.id) : 0;
    struct merge m = {c,
                      k,
                      &rw,
                      merge_point ? merge_point : base,
                      redirected && !merge_point ? id : NULL,
                      applied,
                      r,
                      err,
                      0};
    if ((rc = record_each_leaf(fields, merge_leaf, &m)) || (rc = m.rc)) goto done;
    if ((rc = record_each_leaf(applied, set_leaf, rw.doc))) goto done;
    if ((rc = k->check(c, &old, &rw, r, err))) goto done;

    char *flags_after = flags_text(rw.doc);
    int flags_changed = !flags_after || strcmp(flags_before, flags_after) != 0;
    free(flags_after);
    int changed = json_object_size(applied) > 0 || flags_changed;
    if (changed) {
        rw.version = old.version + 1;
        json_object_set_new(rw.doc, "version", json_integer(rw.version));
        if ((rc = k->save(c, &rw, 0, err))) goto done;
        if ((rc = history_write_all(c->s, k->name, rw.id, rw.version, applied, a, err))) goto done;
        if (flags_changed && (rc = history_write(c->s, k->name, rw.id, rw.version, "flags",
                                                 json_object_get(rw.doc, "flags"), a, err)))
            goto done;
        json_t *state = json_object_get(rw.doc, "review_state");
        if (!record_equal(state, json_object_get(old.doc, "review_state")) &&
            (rc = history_write(c->s, k->name, rw.id, rw.version, "review_state", state, a, err)))
            goto done;
    }
    int status = r->n_conflicts ? OUTFALL__V1__CHANGE_STATUS__CHANGE_STATUS_CONFLICT
                 : !redirected && base == old.version
                     ? OUTFALL__V1__CHANGE_STATUS__CHANGE_STATUS_APPLIED
                     : OUTFALL__V1__CHANGE_STATUS__CHANGE_STATUS_MERGED;
    set_status(r, status, rw.version);
done:
    free(flags_before);
    json_decref(applied);
    json_decref(rw.doc);
    json_decref(old.doc);
    return rc > 0 ? 0 : rc;
}

int apply_change(apply_ctx *c, const Outfall__V1__Change *ch, Outfall__V1__ChangeResult *r,
                 sync_error *err) {
    const kind *k;
    const ProtobufCMessage *msg;
    switch (ch->entity_case) {
    case OUTFALL__V1__CHANGE__ENTITY_OUTFALL:
        k = &kinds[0];
        msg = &ch->outfall->base;
        break;
    case OUTFALL__V1__CHANGE__ENTITY_OBSERVATION:
        k = &kinds[1];
        msg = &ch->observation->base;
        break;
    default:
        reject(r, "invalid_change", "a change carries an outfall or an observation");
        return 0;
    }
    if (!util_uuid_valid(ch->entity_id)) {
        reject(r, "invalid_change", "entity_id must be a UUID");
        return 0;
    }
    if (ch->base_version < 0) {
        reject(r, "invalid_change", "base_version must be 0 (create) or a server version");
        return 0;
    }
    json_t *fields = pbjson_to_json(msg, PBJSON_PROTO_NAMES);
    if (!fields) return sync_fail(err, SYNC_EINTERNAL, "out_of_memory", "out of memory");
    int rc = 0;
    json_t *id = json_object_get(fields, "id");
    if (id && strcasecmp(json_string_value(id), ch->entity_id) != 0) {
        reject(r, "invalid_change", "the record's id differs from the change's entity_id");
        goto done;
    }
    json_object_del(fields, "id");
    struct leaf_scan sc = {k, r};
    if (record_each_leaf(fields, scan_leaf, &sc)) goto done;

    history_author a = {ch->change_id, c->p->user_id, c->device_id, c->now_ms};
    rc = ch->base_version == 0 ? create(c, k, ch->entity_id, fields, &a, r, err)
                               : edit(c, k, ch->entity_id, ch->base_version, fields, &a, r, err);
done:
    json_decref(fields);
    return rc > 0 ? 0 : rc; /* > 0: rejected, r holds why */
}

int apply_set_fields(apply_ctx *c, const char *kind_name, const char *id, json_t *fields,
                     const history_author *a, int64_t *version, sync_error *err) {
    const kind *k = strcmp(kind_name, "observation") == 0 ? &kinds[1] : &kinds[0];
    row old, rw;
    int rc = k->load(c, id, &old);
    if (rc <= 0)
        return rc < 0 ? store_fail(c->s, SQLITE_ERROR, err)
                      : sync_fail(err, SYNC_ENOTFOUND, "not_found", "no %s %s", k->name, id);
    if (!principal_covers(c->p, old.division)) {
        json_decref(old.doc);
        return sync_fail(err, SYNC_EFORBIDDEN, "outside_division",
                         "%s %s is outside your divisions", k->name, id);
    }
    rw = old;
    rw.doc = json_deep_copy(old.doc);
    Outfall__V1__ChangeResult r = OUTFALL__V1__CHANGE_RESULT__INIT;
    char *before = flags_text(old.doc);
    rc = rw.doc && before ? record_each_leaf(fields, set_leaf, rw.doc) : SYNC_EINTERNAL;
    if (rc) {
        rc = sync_fail(err, SYNC_EINTERNAL, "out_of_memory", "out of memory");
        goto done;
    }
    /* A value of the wrong shape for its field is refused before any rule is asked. */
    ProtobufCMessage *typed = NULL;
    char why[200];
    if (pbjson_from_json(k->desc, rw.doc, &typed, why, sizeof why) != 0) {
        rc = sync_fail(err, SYNC_EINVALID, "invalid_value", "%s", why);
        goto done;
    }
    protobuf_c_message_free_unpacked(typed, NULL);
    if ((rc = k->check(c, &old, &rw, &r, err)) > 0) {
        /* The rules refuse the value a supervisor chose: say why, change nothing. */
        rc = sync_fail(err, SYNC_EINVALID, r.reason ? r.reason : "invalid_value", "%s",
                       r.message ? r.message : "the value breaks a rule");
        goto done;
    }
    if (rc) goto done;
    rw.version = old.version + 1;
    json_object_set_new(rw.doc, "version", json_integer(rw.version));
    if ((rc = k->save(c, &rw, 0, err))) goto done;
    if ((rc = history_write_all(c->s, k->name, rw.id, rw.version, fields, a, err))) goto done;
    char *after = flags_text(rw.doc);
    if (!json_object_get(fields, "flags") && after && strcmp(before, after) != 0)
        rc = history_write(c->s, k->name, rw.id, rw.version, "flags",
                           json_object_get(rw.doc, "flags"), a, err);
    free(after);
    if (!rc && version) *version = rw.version;
done:
    free(r.reason);
    free(r.message);
    free(r.duplicate_of);
    free(before);
    json_decref(rw.doc);
    json_decref(old.doc);
    return rc;
}

void apply_flag(json_t *doc, const char *flag, int on) {
    flag_set(doc, flag, on);
}

int apply_photo_arrived(store *s, const sync_config *cfg, const char *hash, sync_error *err) {
    /* The server acts on its own here: no user, no device. */
    principal system = {.user_id = 0, .username = "system", .role = OUTFALL__V1__ROLE__ROLE_ADMIN};
    apply_ctx c = {s, cfg, &system, NULL, util_now_ms(), NULL, 0, 0};
    char change_id[80];
    snprintf(change_id, sizeof change_id, "photo:%s", hash);
    history_author a = {change_id, 0, NULL, c.now_ms};

    /* Collect first: saving rewrites observation_photos, which the query walks. */
    char(*ids)[UUID_STR_LEN + 1] = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    sqlite3_stmt *st =
        store_stmt(s, "SELECT observation_id FROM observation_photos WHERE hash = ?");
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
        row rw;
        int found = observation_load(&c, ids[i], &rw);
        if (found <= 0) {
            rc = found < 0 ? store_fail(s, SQLITE_ERROR, err) : 0;
            continue;
        }
        char *before = flags_text(rw.doc);
        if ((rc = photo_flags(&c, rw.doc, str(rw.doc, "outfall_id"))) < 0) {
            rc = store_fail(s, SQLITE_ERROR, err);
        } else {
            char *after = flags_text(rw.doc);
            if (before && after && strcmp(before, after) != 0) {
                rw.version++;
                json_object_set_new(rw.doc, "version", json_integer(rw.version));
                rc = observation_save(&c, &rw, 0, err);
                if (!rc)
                    rc = history_write(s, "observation", rw.id, rw.version, "flags",
                                       json_object_get(rw.doc, "flags"), &a, err);
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

void apply_ctx_free(apply_ctx *c) {
    for (size_t i = 0; i < c->n_missing; i++)
        free(c->missing[i]);
    free(c->missing);
    c->missing = NULL;
    c->n_missing = c->cap_missing = 0;
}
