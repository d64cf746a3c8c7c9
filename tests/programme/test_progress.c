/* Progress, exports and the annual report through the engine (tests programme/progress.c and
 * programme/export.c): progress against a hand-counted fixture at every deadline, exports parsed
 * back, the annual report, and a memory bound on an export of 100 000 outfalls. */
#include "programme_fixture.h"
#include "render/progress_csv.h"

/* The 100 000-outfall export below measures resident memory: keep freed blocks from piling up
 * in AddressSanitizer's quarantine, which would count as growth that is not the export's. */
const char *__asan_default_options(void);
const char *__asan_default_options(void) {
    return "quarantine_size_mb=4";
}

/* ---- progress against a hand-counted fixture ------------------------------------------------ */

/* One outfall of the fixture: where, and the date of each stage (NULL: not reached). */
typedef struct story {
    const char *division, *river;
    const char *found, *traced, *planned, *measure, *deadline, *transition_end, *remediated,
        *settled;
} story;

/* Hand-counted in the tables of each test below (A = 沁阳市 410882, B = 孟州市 410883). */
static const story stories[] = {
    /* A1 */ {"410882", "qinhe", "2023-03-01", "2023-06-01", "2023-07-01", "BAN", "2023-10-31",
              NULL, "2023-10-15", "2023-11-01"},
    /* A2 */
    {"410882", "qinhe", "2023-03-01", "2023-08-01", "2023-09-01", "REGULARIZE", "2024-06-30", NULL,
     "2024-05-20", "2024-06-01"},
    /* A3 */
    {"410882", "qinhe", "2023-04-01", "2023-09-15", "2023-10-01", "MERGE", "2023-12-31", NULL,
     "2024-03-01", "2024-03-10"},
    /* A4 */
    {"410882", "danhe", "2023-05-01", "2024-02-01", "2024-03-01", "BAN", "2024-09-30", "2025-03-31",
     "2025-02-01", "2025-02-10"},
    /* A5 */
    {"410882", "danhe", "2024-04-01", "2024-05-01", "2024-06-01", "REGULARIZE", "2024-12-31", NULL,
     NULL, NULL},
    /* B1 */
    {"410883", "huanghe", "2023-02-01", "2023-05-01", "2023-06-01", "NONE", NULL, NULL,
     "2023-06-10", "2023-06-20"},
    /* B2 */ {"410883", "huanghe", "2023-02-01", NULL, NULL, NULL, NULL, NULL, NULL, NULL},
    /* B3 */
    {"410883", "huanghe", "2023-06-01", "2023-12-01", "2024-01-10", "BAN", "2024-06-30", NULL,
     "2024-06-15", "2024-07-01"},
    /* B4 */
    {"410883", "huanghe", "2025-05-01", "2025-06-01", "2025-07-01", "REGULARIZE", "2025-11-30",
     NULL, "2025-11-20", "2025-12-01"},
};

/* Builds the fixture through real transitions, plus A6 (approved today, no stage) and B5
 * (never approved: not counted). */
static void build_fixture(fixture *f) {
    for (size_t i = 0; i < sizeof stories / sizeof stories[0]; i++) {
        const story *s = &stories[i];
        char id[UUID_STR_LEN + 1];
        create_approved(f, id, s->division, s->river, 35.0 + 0.01 * (double)i, 113.0, NULL);
        move(f, id, "FOUND", s->found, NULL);
        if (!s->traced) continue;
        int county = strcmp(s->division, "410883") == 0 && i == 7; /* B3: tracing failed */
        move(f, id, "TRACED", s->traced,
             county ? ",\"partyBasis\":\"PARTY_BASIS_COUNTY_GOVERNMENT\""
                    : party("某单位", "91410800MA44R7LT1", NULL));
        if (!s->planned) continue;
        char more[160] = "";
        if (strcmp(s->measure, "MERGE") == 0)
            snprintf(more, sizeof more, ",\"mergeIntoSewer\":\"市政污水管网\"");
        if (s->transition_end)
            snprintf(more, sizeof more, ",\"transitionEnd\":\"%s\"", s->transition_end);
        move(f, id, "PLANNED", s->planned, plan(s->measure, s->deadline, more));
        if (!s->remediated) continue;
        if (strcmp(s->measure, "NONE") != 0) evidence(f, id, s->division);
        move(f, id, "REMEDIATED", s->remediated, NULL);
        int keeps = strcmp(s->measure, "REGULARIZE") == 0 || strcmp(s->measure, "NONE") == 0;
        move(f, id, keeps ? "RETAINED" : "CLOSED", s->settled, NULL);
    }
    char a6[UUID_STR_LEN + 1], b5[UUID_STR_LEN + 1];
    create_approved(f, a6, "410882", "qinhe", 35.2, 113.0, NULL);
    create_in(f, b5, "410883", "huanghe", 35.3, 113.0, NULL);
}

static Outfall__V1__ProgressReport *report(fixture *f, const principal *p, const char *as_of,
                                           const char *division, const char *river) {
    progress_query q = {as_of, division, river};
    Outfall__V1__ProgressReport *r = NULL;
    sync_error err = {0};
    int rc = progress_report(f->s, p, &q, util_now_ms(), &r, &err);
    if (rc) print_message("progress: %s %s\n", err.code, err.message);
    assert_int_equal(rc, 0);
    return r;
}

static const Outfall__V1__ProgressRow *row(const Outfall__V1__ProgressReport *r, const char *scope,
                                           const char *code) {
    for (size_t i = 0; i < r->n_rows; i++)
        if (strcmp(r->rows[i]->scope, scope) == 0 && strcmp(r->rows[i]->code, code) == 0)
            return r->rows[i];
    fail_msg("no %s row %s", scope, code);
    return NULL;
}

/* found, traced, planned, remediated, closed, retained, overdue */
static void counts(const Outfall__V1__ProgressRow *w, int64_t found, int64_t traced,
                   int64_t planned, int64_t remediated, int64_t closed, int64_t retained,
                   int64_t overdue) {
    int64_t got[] = {w->found,  w->traced,   w->planned,      w->remediated,
                     w->closed, w->retained, w->overdue_plans};
    int64_t want[] = {found, traced, planned, remediated, closed, retained, overdue};
    for (int i = 0; i < 7; i++) {
        if (got[i] != want[i])
            print_message("%s %s: figure %d is %lld, hand count %lld\n", w->scope, w->code, i,
                          (long long)got[i], (long long)want[i]);
        assert_int_equal(got[i], want[i]);
    }
}

/* The check of metric: target, deadline, expected, actual, ON_TRACK (1) or BEHIND (2). */
static void target(const Outfall__V1__ProgressRow *w, const char *metric, double target_pct,
                   const char *deadline, double expected, double actual, int status) {
    const Outfall__V1__TargetCheck *c = NULL;
    for (size_t i = 0; i < w->n_targets; i++)
        if (strcmp(w->targets[i]->metric, metric) == 0) c = w->targets[i];
    assert_non_null(c);
    if (fabs(c->expected_pct - expected) > 1e-9 || fabs(c->actual_pct - actual) > 1e-9 ||
        (int)c->status != status)
        print_message("%s %s %s: expected %.1f actual %.1f status %d\n", w->scope, w->code, metric,
                      c->expected_pct, c->actual_pct, c->status);
    assert_true(fabs(c->target_pct - target_pct) < 1e-9);
    assert_string_equal(c->deadline, deadline);
    assert_true(fabs(c->expected_pct - expected) < 1e-9);
    assert_true(fabs(c->actual_pct - actual) < 1e-9);
    assert_int_equal(c->status, status);
}

enum {
    ON = OUTFALL__V1__TARGET_STATUS__TARGET_STATUS_ON_TRACK,
    BEHIND = OUTFALL__V1__TARGET_STATUS__TARGET_STATUS_BEHIND,
    NOT_STARTED = OUTFALL__V1__TARGET_STATUS__TARGET_STATUS_NOT_STARTED
};

static void progress_matches_hand_count_at_each_deadline(void **state) {
    fixture *f = *state;
    build_fixture(f);

    /* 2023-06-30, half a year in: found A1-A4, B1-B3 (7); traced A1, B1; B1 planned NONE, which
     * is no remediation (its REMEDIATED stage is not counted, and it leaves remediated_pct's
     * base: 0 of 6). Expected pro rata from 2023-01-01: 80 x 180/364 = 39.6 and 30 x 180/364 =
     * 14.8. */
    Outfall__V1__ProgressReport *r = report(f, &who.city, "2023-06-30", NULL, NULL);
    assert_string_equal(r->as_of, "2023-06-30");
    assert_string_equal(r->rows[0]->scope, "city");
    counts(row(r, "city", "410800"), 7, 2, 1, 0, 0, 1, 0);
    assert_int_equal(row(r, "city", "410800")->no_remediation_needed, 1);
    target(row(r, "city", "410800"), "traced", 80, "2023-12-31", 39.6, 28.6, BEHIND);
    target(row(r, "city", "410800"), "remediated", 30, "2023-12-31", 14.8, 0.0, BEHIND);
    protobuf_c_message_free_unpacked(&r->base, NULL);

    /* End of 2023: found 7; traced A1 A2 A3 B1 B3 = 5 (71.4 %); planned A1 A2 A3 B1 = 4;
     * remediated A1 = 1 of the 6 needing it (16.7 %; B1 is NONE); closed A1; retained B1; A3 is
     * due this very day: not yet overdue. */
    r = report(f, &who.city, "2023-12-31", NULL, NULL);
    const Outfall__V1__ProgressRow *city = row(r, "city", "410800");
    counts(city, 7, 5, 4, 1, 1, 1, 0);
    assert_int_equal(r->n_overdue, 0);
    target(city, "traced", 80, "2023-12-31", 80, 71.4, BEHIND);
    target(city, "remediated", 30, "2023-12-31", 30, 16.7, BEHIND);
    const Outfall__V1__ProgressRow *a = row(r, "division", "410882"),
                                   *b = row(r, "division", "410883");
    assert_string_equal(a->name, "沁阳市");
    counts(a, 4, 3, 3, 1, 1, 0, 0); /* A1-A4; traced A1-A3; remediated A1 */
    target(a, "traced", 80, "2023-12-31", 80, 75.0, BEHIND);
    target(a, "remediated", 30, "2023-12-31", 30, 25.0, BEHIND);
    counts(b, 3, 2, 1, 0, 0, 1, 0); /* B1-B3; traced B1 B3; B1 NONE: none remediated */
    target(b, "traced", 80, "2023-12-31", 80, 66.7, BEHIND);
    target(b, "remediated", 30, "2023-12-31", 30, 0.0, BEHIND);
    counts(row(r, "river", "qinhe"), 3, 3, 3, 1, 1, 0, 0);
    target(row(r, "river", "qinhe"), "traced", 80, "2023-12-31", 80, 100, ON);
    target(row(r, "river", "qinhe"), "remediated", 30, "2023-12-31", 30, 33.3, ON);
    counts(row(r, "river", "danhe"), 1, 0, 0, 0, 0, 0, 0);
    counts(row(r, "river", "huanghe"), 3, 2, 1, 0, 0, 1, 0);
    counts(row(r, "river", "weihe"), 0, 0, 0, 0, 0, 0, 0);
    /* Nothing found: not started, never on track. */
    target(row(r, "river", "weihe"), "traced", 80, "2023-12-31", 80, 0, NOT_STARTED);
    target(row(r, "river", "weihe"), "remediated", 30, "2023-12-31", 30, 0, NOT_STARTED);
    target(row(r, "division", "410802"), "traced", 80, "2023-12-31", 80, 0, NOT_STARTED);
    assert_int_equal(r->n_rows, 1 + 11 + 9);
    protobuf_c_message_free_unpacked(&r->base, NULL);

    /* The day after: A3's deadline (2023-12-31) has passed without remediation. */
    r = report(f, &who.city, "2024-01-01", NULL, NULL);
    counts(row(r, "city", "410800"), 7, 5, 4, 1, 1, 1, 1);
    /* Listed, not only counted: A3 (MERGE, due 2023-12-31), one day overdue. */
    assert_int_equal(r->n_overdue, 1);
    assert_string_equal(r->overdue[0]->due, "2023-12-31");
    assert_int_equal(r->overdue[0]->days_overdue, 1);
    assert_string_equal(r->overdue[0]->division_code, "410882");
    assert_string_equal(r->overdue[0]->river_code, "qinhe");
    assert_int_equal(r->overdue[0]->measure,
                     OUTFALL__V1__REMEDIATION_MEASURE__REMEDIATION_MEASURE_MERGE);
    assert_non_null(r->overdue[0]->code);
    assert_non_null(r->overdue[0]->outfall_id);
    /* The next remediation target is 70 % by 2024-12-31: from 30 % one day in. */
    target(row(r, "city", "410800"), "remediated", 70, "2024-12-31", 30.1, 16.7, BEHIND);
    protobuf_c_message_free_unpacked(&r->base, NULL);

    /* Mid-2024: found 8 (+A5); traced 7 (87.5 %, target passed: 80); remediated A1 A3 A2 B3
     * = 4 of 7 (57.1 %) against 30 + 40 x 182/366 = 49.9. */
    r = report(f, &who.city, "2024-06-30", NULL, NULL);
    counts(row(r, "city", "410800"), 8, 7, 7, 4, 2, 2, 0);
    target(row(r, "city", "410800"), "traced", 80, "2023-12-31", 80, 87.5, ON);
    target(row(r, "city", "410800"), "remediated", 70, "2024-12-31", 49.9, 57.1, ON);
    protobuf_c_message_free_unpacked(&r->base, NULL);

    /* End of 2024: remediated 5 of 8 (62.5 %) misses 70 %; closed A1 A3 B3; retained B1 A2; A4's
     * deadline passed but its transition period runs to 2025-03-31; A5 is due this day. */
    r = report(f, &who.city, "2024-12-31", NULL, NULL);
    city = row(r, "city", "410800");
    counts(city, 8, 7, 7, 4, 3, 2, 0);
    target(city, "remediated", 70, "2024-12-31", 70, 57.1, BEHIND);
    counts(row(r, "division", "410883"), 3, 2, 2, 1, 1, 1, 0);
    target(row(r, "division", "410883"), "remediated", 70, "2024-12-31", 70, 50.0, BEHIND);
    counts(row(r, "division", "410882"), 5, 5, 5, 3, 2, 1, 0);
    target(row(r, "division", "410882"), "traced", 80, "2023-12-31", 80, 100, ON);
    protobuf_c_message_free_unpacked(&r->base, NULL);

    /* End of 2025: found 9 (+B4); traced 8; remediated 7 (77.8 %) against "basically all" (95);
     * closed 4 (+A4); retained 3 (+B4); A5 overdue. */
    r = report(f, &who.city, "2025-12-31", NULL, NULL);
    assert_true(fabs(r->basically_all_pct - 95.0) < 1e-9);
    city = row(r, "city", "410800");
    counts(city, 9, 8, 8, 6, 4, 3, 1);
    target(city, "traced", 80, "2023-12-31", 80, 88.9, ON);
    target(city, "remediated", 95, "2025-12-31", 95, 75.0, BEHIND);
    counts(row(r, "division", "410883"), 4, 3, 3, 2, 1, 2, 0);
    assert_int_equal(r->n_overdue, 1); /* A5, due 2024-12-31 */
    assert_string_equal(r->overdue[0]->due, "2024-12-31");
    assert_int_equal(r->overdue[0]->days_overdue, 365);
    counts(row(r, "river", "danhe"), 2, 2, 2, 1, 1, 0, 1);
    protobuf_c_message_free_unpacked(&r->base, NULL);

    /* Every deadline passed: the last targets stand. Today also counts A6 (found the day its
     * record was made); B5 was never approved. */
    r = report(f, &who.city, NULL, NULL, NULL);
    counts(row(r, "city", "410800"), 10, 8, 8, 6, 4, 3, 1);
    target(row(r, "city", "410800"), "remediated", 95, "2025-12-31", 95, 66.7, BEHIND);
    protobuf_c_message_free_unpacked(&r->base, NULL);
}

static void progress_filters_and_scopes(void **state) {
    fixture *f = *state;
    build_fixture(f);
    /* One division: the first row totals the selection. */
    Outfall__V1__ProgressReport *r = report(f, &who.city, "2025-12-31", "410883", NULL);
    assert_int_equal(r->n_rows, 1 + 1 + 9);
    counts(r->rows[0], 4, 3, 3, 2, 1, 2, 0);
    counts(row(r, "division", "410883"), 4, 3, 3, 2, 1, 2, 0);
    counts(row(r, "river", "qinhe"), 0, 0, 0, 0, 0, 0, 0);
    protobuf_c_message_free_unpacked(&r->base, NULL);
    /* One river. */
    r = report(f, &who.city, "2025-12-31", NULL, "danhe");
    assert_int_equal(r->n_rows, 1 + 11 + 1);
    counts(r->rows[0], 2, 2, 2, 1, 1, 0, 1);
    counts(row(r, "division", "410882"), 2, 2, 2, 1, 1, 0, 1);
    protobuf_c_message_free_unpacked(&r->base, NULL);
    /* A county supervisor sees their county only. */
    r = report(f, &who.county, "2025-12-31", NULL, NULL);
    assert_int_equal(r->n_rows, 1 + 1 + 9);
    counts(r->rows[0], 5, 5, 5, 4, 3, 1, 1);
    protobuf_c_message_free_unpacked(&r->base, NULL);
    progress_query q = {"2025-12-31", "410883", NULL};
    sync_error err = {0};
    assert_int_equal(progress_report(f->s, &who.county, &q, util_now_ms(), &r, &err),
                     SYNC_EFORBIDDEN);
    q = (progress_query){"2025-13-01", NULL, NULL};
    assert_int_equal(progress_report(f->s, &who.city, &q, util_now_ms(), &r, &err), SYNC_EINVALID);
    q = (progress_query){NULL, "999999", NULL};
    assert_int_equal(progress_report(f->s, &who.city, &q, util_now_ms(), &r, &err), SYNC_EINVALID);
    assert_string_equal(err.code, "unknown_division");
    q = (progress_query){NULL, NULL, "nile"};
    assert_int_equal(progress_report(f->s, &who.city, &q, util_now_ms(), &r, &err), SYNC_EINVALID);
    assert_string_equal(err.code, "unknown_river");

    /* CSV: BOM, header, one line per row, the targets flattened. */
    r = report(f, &who.city, "2023-12-31", NULL, NULL);
    size_t len = 0;
    char *csv = progress_csv(r, &len);
    assert_non_null(csv);
    assert_int_equal(strlen(csv), len);
    assert_memory_equal(csv,
                        "\xEF\xBB\xBF"
                        "as_of,scope,code,name,found,",
                        31);
    assert_non_null(strstr(csv, "\r\n2023-12-31,city,410800,焦作市,7,5,71.4,4,1,16.7,1,1,0,"
                                "80.0,2023-12-31,80.0,BEHIND,30.0,2023-12-31,30.0,BEHIND,1\r\n"));
    assert_non_null(strstr(csv, "\r\n2023-12-31,river,weihe,卫河,0,0,0.0,0,0,0.0,0,0,0,"
                                "80.0,2023-12-31,80.0,NOT_STARTED,30.0,2023-12-31,30.0,"
                                "NOT_STARTED,0\r\n"));
    int lines = 0;
    for (const char *p = csv; (p = strstr(p, "\r\n")); p += 2)
        lines++;
    assert_int_equal(lines, 1 + (int)r->n_rows);
    free(csv);
    protobuf_c_message_free_unpacked(&r->base, NULL);
}

/* ---- exports -------------------------------------------------------------------------------- */

typedef struct sink {
    char *data;
    size_t len, cap;
    size_t chunks, biggest;
    int keep; /* keep the bytes (else only count) */
    long long features;
} sink;

static int sink_write(void *ctx, const char *data, size_t len) {
    sink *k = ctx;
    k->chunks++;
    if (len > k->biggest) k->biggest = len;
    if (k->keep) {
        if (k->len + len + 1 > k->cap) {
            k->cap = (k->len + len + 1) * 2;
            k->data = realloc(k->data, k->cap);
        }
        memcpy(k->data + k->len, data, len);
        k->data[k->len + len] = '\0';
    }
    k->len += len;
    return 0;
}

static sink export_to(fixture *f, const principal *p, const export_query *q, int format,
                      long long *count) {
    sink k = {.keep = 1};
    sync_error err = {0};
    int rc = export_outfalls(f->s, p, q, format, sink_write, &k, count, &err);
    if (rc) print_message("export: %s %s\n", err.code, err.message);
    assert_int_equal(rc, 0);
    return k;
}

/* A small RFC 4180 reader: fills up to max fields of the record at *p, moves *p past it.
 * Returns the number of fields, or -1 at the end of the text. Fields are malloc'd. */
static int csv_record(const char **p, char **fields, int max) {
    const char *s = *p;
    if (!*s) return -1;
    int n = 0;
    for (;;) {
        size_t cap = 64, len = 0;
        char *field = malloc(cap);
        if (*s == '"') {
            s++;
            for (;;) {
                assert_true(*s != '\0'); /* an unterminated quoted field */
                if (*s == '"' && s[1] == '"')
                    s++;
                else if (*s == '"')
                    break;
                if (len + 2 > cap) field = realloc(field, cap *= 2);
                field[len++] = *s++;
            }
            s++;
        } else {
            while (*s && *s != ',' && *s != '\r' && *s != '\n') {
                if (len + 2 > cap) field = realloc(field, cap *= 2);
                field[len++] = *s++;
            }
        }
        field[len] = '\0';
        if (n < max)
            fields[n] = field;
        else
            free(field);
        n++;
        if (*s == ',') {
            s++;
            continue;
        }
        assert_true(*s == '\r' && s[1] == '\n'); /* records end with CRLF */
        *p = s + 2;
        return n;
    }
}

static void free_fields(char **fields, int n) {
    for (int i = 0; i < n; i++)
        free(fields[i]);
}

static int column(char **header, int n, const char *name) {
    for (int i = 0; i < n; i++)
        if (strcmp(header[i], name) == 0) return i;
    fail_msg("no column %s", name);
    return -1;
}

static void exports_parse_back_as_geojson_and_csv(void **state) {
    fixture *f = *state;
    build_fixture(f);
    /* One more with text that needs quoting in CSV and escaping in JSON. */
    char odd[UUID_STR_LEN + 1];
    create_approved(f, odd, "410882", "qinhe", 35.123456, 113.654321,
                    ",\"landmark\":\"桥,\\\"东\\\"侧\\n第二行\\t\",\"type\":"
                    "\"OUTFALL_TYPE_URBAN_STORM\"");
    /* An edit waiting for review: exports show the approved version. */
    char cid[UUID_STR_LEN + 1], *c = NULL;
    util_uuid_new(cid);
    assert_true(asprintf(&c,
                         "[{\"changeId\":\"%s\",\"entityId\":\"%s\",\"baseVersion\":\"2\","
                         "\"outfall\":{\"landmark\":\"未审核\"}}]",
                         cid, odd) > 0);
    sync_in(f, "410882", c);
    free(c);

    export_query all = {0};
    long long count = 0;
    sink k = export_to(f, &who.city, &all, EXPORT_GEOJSON, &count);
    assert_int_equal(count, 11); /* 9 stories, A6 and this one; B5 was never approved */
    json_error_t jerr;
    json_t *fc = json_loadb(k.data, k.len, 0, &jerr);
    if (!fc) print_message("GeoJSON does not parse: %s at %d\n", jerr.text, jerr.position);
    assert_non_null(fc);
    assert_string_equal(json_string_value(json_object_get(fc, "type")), "FeatureCollection");
    json_t *features = json_object_get(fc, "features");
    assert_int_equal(json_array_size(features), 11);
    size_t i;
    json_t *ft;
    int seen_odd = 0, closed = 0;
    json_array_foreach(features, i, ft) {
        json_t *props = json_object_get(ft, "properties");
        json_t *coords = json_object_get(json_object_get(ft, "geometry"), "coordinates");
        assert_string_equal(json_string_value(json_object_get(ft, "type")), "Feature");
        assert_int_equal(json_array_size(coords), 2);
        assert_string_equal(json_string_value(json_object_get(ft, "id")),
                            json_string_value(json_object_get(props, "id")));
        if (strcmp(json_string_value(json_object_get(props, "programme.stage")),
                   "LIFECYCLE_STAGE_CLOSED") == 0)
            closed++;
        if (strcmp(json_string_value(json_object_get(ft, "id")), odd) != 0) continue;
        seen_odd = 1;
        assert_true(fabs(json_number_value(json_array_get(coords, 0)) - 113.654321) < 1e-12);
        assert_true(fabs(json_number_value(json_array_get(coords, 1)) - 35.123456) < 1e-12);
        assert_string_equal(json_string_value(json_object_get(props, "landmark")),
                            "桥,\"东\"侧\n第二行\t");
        assert_string_equal(json_string_value(json_object_get(props, "river_code_label")), "沁河");
        assert_string_equal(json_string_value(json_object_get(props, "division_code_label")),
                            "沁阳市");
        assert_string_equal(json_string_value(json_object_get(props, "type")),
                            "OUTFALL_TYPE_URBAN_STORM");
        assert_true(json_is_null(json_object_get(props, "programme.traced_on")));
        assert_int_equal(json_integer_value(json_object_get(props, "version")), 2);
    }
    assert_true(seen_odd);
    assert_int_equal(closed, 4);
    json_decref(fc);
    free(k.data);

    /* CSV: BOM, CRLF, the same rows, quoting undone by a real reader. */
    k = export_to(f, &who.city, &all, EXPORT_CSV, &count);
    assert_memory_equal(k.data, "\xEF\xBB\xBF", 3);
    const char *p = k.data + 3;
    char *header[64];
    int nh = csv_record(&p, header, 64);
    assert_true(nh > 30 && nh <= 64);
    int col_id = column(header, nh, "id"), col_lm = column(header, nh, "landmark");
    int col_lon = column(header, nh, "lon"), col_lat = column(header, nh, "lat");
    int col_div = column(header, nh, "division_code_label"),
        col_found = column(header, nh, "programme.found_on");
    int rows = 0, odd_rows = 0;
    char *fields[64];
    int n;
    while ((n = csv_record(&p, fields, 64)) >= 0) {
        assert_int_equal(n, nh);
        rows++;
        if (strcmp(fields[col_id], odd) == 0) {
            odd_rows++;
            assert_string_equal(fields[col_lm], "桥,\"东\"侧\n第二行\t");
            assert_string_equal(fields[col_lon], "113.654321");
            assert_string_equal(fields[col_lat], "35.123456");
            assert_string_equal(fields[col_div], "沁阳市");
        }
        free_fields(fields, n);
    }
    assert_int_equal(rows, 11);
    assert_int_equal(odd_rows, 1);
    free(k.data);

    /* Filters: division, river, found dates; a county supervisor sees their county. */
    export_query q = {.division_code = "410883"};
    k = export_to(f, &who.city, &q, EXPORT_CSV, &count);
    assert_int_equal(count, 4);
    free(k.data);
    q = (export_query){.river_code = "danhe"};
    k = export_to(f, &who.city, &q, EXPORT_CSV, &count);
    assert_int_equal(count, 2);
    free(k.data);
    q = (export_query){.from = "2023-03-01", .to = "2023-12-31"};
    k = export_to(f, &who.city, &q, EXPORT_CSV, &count);
    assert_int_equal(count, 5); /* A1 A2 A3 A4 B3 */
    p = k.data + 3;
    free_fields(header, nh);
    nh = csv_record(&p, header, 64);
    while ((n = csv_record(&p, fields, 64)) >= 0) {
        assert_true(strcmp(fields[col_found], "2023-03-01") >= 0);
        assert_true(strcmp(fields[col_found], "2023-12-31") <= 0);
        free_fields(fields, n);
    }
    free_fields(header, nh);
    free(k.data);
    k = export_to(f, &who.county, &all, EXPORT_GEOJSON, &count);
    assert_int_equal(count, 7); /* A1-A6 and the odd one */
    free(k.data);
    sync_error err = {0};
    q = (export_query){.division_code = "410883"};
    assert_int_equal(export_check(f->s, &who.county, &q, &err), SYNC_EFORBIDDEN);
    q = (export_query){.from = "yesterday"};
    assert_int_equal(export_check(f->s, &who.city, &q, &err), SYNC_EINVALID);
    /* An empty selection is still a valid document. */
    q = (export_query){.river_code = "weihe"};
    k = export_to(f, &who.city, &q, EXPORT_GEOJSON, &count);
    fc = json_loadb(k.data, k.len, 0, &jerr);
    assert_non_null(fc);
    assert_int_equal(json_array_size(json_object_get(fc, "features")), 0);
    json_decref(fc);
    free(k.data);
}

/* The value of summary line `name` in an annual CSV report. */
static const char *summary(char *(*lines)[9], int n, const char *name) {
    for (int i = 0; i < n; i++)
        if (strcmp(lines[i][0], "summary") == 0 && strcmp(lines[i][2], name) == 0)
            return lines[i][8];
    fail_msg("no summary line %s", name);
    return NULL;
}

static void annual_report_for_a_county_in_csv_and_html(void **state) {
    fixture *f = *state;
    build_fixture(f);
    char *out = NULL;
    size_t len = 0;
    sync_error err = {0};
    /* 沁阳市 in 2024: found A5; traced A4 A5; planned A4 A5; remediated A3 (MERGE) and A2
     * (REGULARIZE); closed A3; retained A2. At the year's end: 5 found, 5 traced, 3 remediated
     * (60 %, behind 70 %). */
    assert_int_equal(
        progress_annual(f->s, &who.county, 2024, "410882", PROGRESS_ANNUAL_CSV, &out, &len, &err),
        0);
    assert_int_equal(strlen(out), len);
    assert_memory_equal(out, "\xEF\xBB\xBF", 3);
    const char *p = out + 3;
    char *fields[16];
    char *lines[64][9];
    int n = 0, nf;
    nf = csv_record(&p, fields, 16);
    assert_int_equal(nf, 9);
    assert_string_equal(fields[8], "value");
    free_fields(fields, nf);
    while ((nf = csv_record(&p, fields, 16)) >= 0) {
        assert_int_equal(nf, 9);
        assert_true(n < 64);
        memcpy(lines[n++], fields, sizeof lines[0]);
    }
    static const char *const want[][2] = {
        {"found_in_year", "1"},          {"traced_in_year", "2"},       {"planned_in_year", "2"},
        {"remediated_in_year", "2"},     {"remediated_ban", "0"},       {"remediated_merge", "1"},
        {"remediated_regularize", "1"},  {"remediated_none", "0"},      {"closed_in_year", "1"},
        {"retained_in_year", "1"},       {"found_by_year_end", "5"},    {"traced_by_year_end", "5"},
        {"remediated_by_year_end", "3"}, {"overdue_plans", "0"},        {"remediated_pct", "60.0"},
        {"remediated_status", "BEHIND"}, {"traced_status", "ON_TRACK"},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        assert_string_equal(summary(lines, n, want[i][0]), want[i][1]);
    int closed = 0, retained = 0;
    for (int i = 0; i < n; i++) {
        if (strcmp(lines[i][0], "closed") == 0) {
            closed++;
            assert_string_equal(lines[i][4], "MERGE");
            assert_string_equal(lines[i][5], "2024-03-10");
            assert_string_equal(lines[i][3], "沁河");
        }
        if (strcmp(lines[i][0], "retained") == 0) {
            retained++;
            assert_string_equal(lines[i][4], "REGULARIZE");
            assert_string_equal(lines[i][6], "某单位");
        }
        free_fields(lines[i], 9);
    }
    assert_int_equal(closed, 1);
    assert_int_equal(retained, 1);
    free(out);

    /* The whole city in 2025 as a printable page; names are escaped. */
    sqlite3_exec(store_db(f->s), "UPDATE divisions SET name = '焦作<市>&' WHERE code = '410800'",
                 NULL, NULL, NULL);
    assert_int_equal(
        progress_annual(f->s, &who.city, 2025, "410800", PROGRESS_ANNUAL_HTML, &out, &len, &err),
        0);
    assert_non_null(strstr(out, "<title>焦作&lt;市&gt;&amp; 2025 年度入河排污口监督管理工作报告"));
    assert_non_null(strstr(out, "<tr><th>年内完成整治</th><td>2</td></tr>")); /* A4 B4 */
    assert_non_null(strstr(out, "<tr><th>保留</th><td>3</td></tr>"));
    assert_non_null(strstr(out, "<h2>五、监督检查与公众举报</h2>"));
    assert_non_null(strstr(out, "<tr><th>年内收到公众举报</th><td>0</td></tr>"));
    assert_null(strstr(out, "<市>"));
    free(out);
    assert_int_equal(
        progress_annual(f->s, &who.county, 2025, "410883", PROGRESS_ANNUAL_CSV, &out, &len, &err),
        SYNC_EFORBIDDEN);
    assert_int_equal(
        progress_annual(f->s, &who.county, 2025, "410800", PROGRESS_ANNUAL_CSV, &out, &len, &err),
        SYNC_EFORBIDDEN);
    assert_int_equal(
        progress_annual(f->s, &who.city, 2022, "410882", PROGRESS_ANNUAL_CSV, &out, &len, &err),
        SYNC_EINVALID);
    assert_int_equal(
        progress_annual(f->s, &who.city, 2024, "999999", PROGRESS_ANNUAL_CSV, &out, &len, &err),
        SYNC_EINVALID);
}

/* Reads an annual CSV report into lines[cap][9]; returns how many (free each with free_fields). */
static int annual_lines(const char *out, char *lines[][9], int cap) {
    const char *p = out + 3;
    char *fields[16];
    int n = 0, nf = csv_record(&p, fields, 16);
    free_fields(fields, nf);
    while ((nf = csv_record(&p, fields, 16)) >= 0) {
        assert_int_equal(nf, 9);
        assert_true(n < cap);
        memcpy(lines[n++], fields, sizeof lines[0]);
    }
    return n;
}

/* Issue 18: a plan of measure NONE (无需整治) is counted apart, never as remediated; a county with
 * nothing found is 未开始 (never 达到进度); overdue plans are listed with their due day and days
 * overdue, in the annual report too. */
static void annual_report_counts_none_apart_lists_overdue_and_says_not_started(void **state) {
    fixture *f = *state;
    build_fixture(f);
    char *out = NULL, *lines[64][9];
    size_t len = 0;
    sync_error err = {0};
    /* 孟州市 2023: B1 planned NONE and moved through REMEDIATED: not remediation. */
    assert_int_equal(
        progress_annual(f->s, &who.city, 2023, "410883", PROGRESS_ANNUAL_CSV, &out, &len, &err), 0);
    int n = annual_lines(out, lines, 64);
    assert_string_equal(summary(lines, n, "remediated_in_year"), "0");
    assert_string_equal(summary(lines, n, "remediated_none"), "1");
    assert_string_equal(summary(lines, n, "remediated_by_year_end"), "0");
    for (int i = 0; i < n; i++)
        free_fields(lines[i], 9);
    free(out);
    /* 沁阳市 2025: A5 (REGULARIZE, due 2024-12-31) is listed, 365 days overdue. */
    assert_int_equal(
        progress_annual(f->s, &who.city, 2025, "410882", PROGRESS_ANNUAL_CSV, &out, &len, &err), 0);
    n = annual_lines(out, lines, 64);
    int overdue = 0;
    for (int i = 0; i < n; i++) {
        if (strcmp(lines[i][0], "overdue") == 0) {
            overdue++;
            assert_string_equal(lines[i][4], "REGULARIZE");
            assert_string_equal(lines[i][5], "2024-12-31");
            assert_string_equal(lines[i][8], "365");
        }
        free_fields(lines[i], 9);
    }
    assert_int_equal(overdue, 1);
    free(out);
    assert_int_equal(
        progress_annual(f->s, &who.city, 2025, "410882", PROGRESS_ANNUAL_HTML, &out, &len, &err),
        0);
    assert_non_null(strstr(out, "逾期未完成整治的排污口"));
    assert_non_null(strstr(out, "<td>2024-12-31</td><td>365</td></tr>"));
    free(out);
    /* 解放区 found nothing: not started, never on target. */
    assert_int_equal(
        progress_annual(f->s, &who.city, 2023, "410802", PROGRESS_ANNUAL_HTML, &out, &len, &err),
        0);
    assert_non_null(strstr(out, "未开始"));
    assert_null(strstr(out, "达到进度"));
    free(out);
    assert_int_equal(
        progress_annual(f->s, &who.city, 2023, "410802", PROGRESS_ANNUAL_CSV, &out, &len, &err), 0);
    assert_non_null(strstr(out, "summary,,traced_status,,,2023-12-31,,,NOT_STARTED\r\n"));
    free(out);
}

/* Resident set size in bytes, from /proc/self/statm. */
static long long rss_bytes(void) {
    FILE *fp = fopen("/proc/self/statm", "r");
    long long pages = 0, resident = 0;
    if (!fp) return -1;
    if (fscanf(fp, "%lld %lld", &pages, &resident) != 2) resident = -1;
    fclose(fp);
    return resident * sysconf(_SC_PAGESIZE);
}

/* Counts lines without keeping the bytes: each feature starts one, and the collection's end
 * adds two. */
static int counting_write(void *ctx, const char *data, size_t len) {
    sink *k = ctx;
    sink_write(ctx, data, len);
    for (const char *p = data; (p = memchr(p, '\n', len - (size_t)(p - data))); p++)
        k->features++;
    return 0;
}

static void export_of_100000_outfalls_runs_in_constant_memory(void **state) {
    fixture *f = *state;
    enum { N = 100000, WARM = 1000 };
    sqlite3 *db = store_db(f->s);
    assert_int_equal(sqlite3_exec(db, "BEGIN", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "INSERT INTO outfalls (id, version, river_code, "
                                        "division_code, review_state, lat, lon, created_by, "
                                        "created_at_ms, updated_at_ms, doc, approved_version, "
                                        "code) VALUES (?, 2, ?, '410882', 2, ?, ?, 1, "
                                        "1700000000000, 1700000000000, ?, 2, ?)",
                                        -1, &st, NULL),
                     SQLITE_OK);
    for (int i = 0; i < N; i++) {
        char id[UUID_STR_LEN + 1], code[40], doc[1024];
        snprintf(id, sizeof id, "00000000-0000-4000-8000-%012d", i);
        const char *river = i < WARM ? "danhe" : "qinhe";
        snprintf(code, sizeof code, "410882-%s-16-%06d", river, i);
        double lat = 35.0 + (double)(i % 1000) * 0.0005, lon = 112.6 + (double)(i / 1000) * 0.01;
        snprintf(doc, sizeof doc,
                 "{\"id\":\"%s\",\"version\":2,\"code\":\"%s\",\"name\":\"第%d号排口\",\"type\":"
                 "\"OUTFALL_TYPE_RURAL_SEWAGE_SCATTERED\",\"river_code\":\"%s\",\"division_code\":"
                 "\"410882\",\"lat\":%.6f,\"lon\":%.6f,\"landmark\":\"村东桥下, 涵洞\\\"北\\\"侧\","
                 "\"responsible_party\":{\"name\":\"某村民委员会\",\"phone\":\"0391-5550000\"},"
                 "\"review_state\":\"REVIEW_STATE_APPROVED\",\"approved_version\":2,"
                 "\"programme\":{\"stage\":\"LIFECYCLE_STAGE_TRACED\",\"found_on\":\"2023-05-01\","
                 "\"traced_on\":\"2023-09-01\",\"party_basis\":\"PARTY_BASIS_TRACED\"}}",
                 id, code, i, river, lat, lon);
        sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 2, river, -1, SQLITE_STATIC);
        sqlite3_bind_double(st, 3, lat);
        sqlite3_bind_double(st, 4, lon);
        sqlite3_bind_text(st, 5, doc, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 6, code, -1, SQLITE_TRANSIENT);
        assert_int_equal(sqlite3_step(st), SQLITE_DONE);
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    assert_int_equal(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);

    /* Warm up on the first thousand (caches, statements), then measure the whole export. */
    export_query warm = {.river_code = "danhe"};
    sink k = {0};
    long long count = 0;
    sync_error err = {0};
    assert_int_equal(
        export_outfalls(f->s, &who.city, &warm, EXPORT_GEOJSON, counting_write, &k, &count, &err),
        0);
    assert_int_equal(count, WARM);
    long long before = rss_bytes();
    export_query all = {0};
    k = (sink){0};
    assert_int_equal(
        export_outfalls(f->s, &who.city, &all, EXPORT_GEOJSON, counting_write, &k, &count, &err),
        0);
    long long grown = rss_bytes() - before;
    assert_int_equal(count, N);
    assert_int_equal(k.features, N + 2);
    print_message("GeoJSON export of %d outfalls: %zu bytes in %zu chunks (largest %zu); RSS grew "
                  "%lld KiB\n",
                  N, k.len, k.chunks, k.biggest, grown / 1024);
    assert_true(k.biggest <= EXPORT_CHUNK);
    assert_true(k.len > 80u * 1024 * 1024); /* more than the bound below, many times over */
    assert_true(grown < 8LL * 1024 * 1024);
    /* CSV rows take the same path (one row, one chunk at a time); its shape is tested above. */
}

int main(void) {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, fx_teardown)
    const struct CMUnitTest tests[] = {
        T(progress_matches_hand_count_at_each_deadline),
        T(progress_filters_and_scopes),
        T(exports_parse_back_as_geojson_and_csv),
        T(annual_report_for_a_county_in_csv_and_html),
        T(annual_report_counts_none_apart_lists_overdue_and_says_not_started),
        T(export_of_100000_outfalls_runs_in_constant_memory),
    };
#undef T
    if (getenv("TEST_FILTER")) cmocka_set_test_filter(getenv("TEST_FILTER"));
    return cmocka_run_group_tests_name("progress", tests, NULL, NULL);
}
