#include "programme/draws.h"

#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/pbjson.h"
#include "common/util.h"
#include "sync/accounts.h"
#include "sync/history.h"
#include "sync/replay.h"
#include "programme/lifecycle.h"

static int cmp_candidate(const void *a, const void *b) {
    return strcmp(((const draws_candidate *)a)->code, ((const draws_candidate *)b)->code);
}

static int cmp_inspector(const void *a, const void *b) {
    return strcmp(((const draws_inspector *)a)->name, ((const draws_inspector *)b)->name);
}

/* 1 when text is a non-empty, NUL-terminated string of fewer than cap bytes without tab or line
 * break (they separate the canonical lines' fields). */
static int field_ok(const char *text, size_t cap) {
    size_t len = strnlen(text, cap);
    return len > 0 && len < cap && !strpbrk(text, "\t\n\r");
}

/* The i-th random number of the draw (step 2 of the procedure in draws.h). */
static uint64_t draw_number(const uint8_t seed[32], const draws_result *r, uint64_t i) {
    crypto_generichash_state st;
    uint8_t key[randombytes_SEEDBYTES], le[8], bytes[8];
    for (int b = 0; b < 8; b++)
        le[b] = (uint8_t)(i >> (8 * b));
    crypto_generichash_init(&st, NULL, 0, sizeof key);
    crypto_generichash_update(&st, seed, 32);
    crypto_generichash_update(&st, r->candidates_hash, 32);
    crypto_generichash_update(&st, r->inspectors_hash, 32);
    crypto_generichash_update(&st, le, sizeof le);
    crypto_generichash_final(&st, key, sizeof key);
    randombytes_buf_deterministic(bytes, sizeof bytes, key);
    uint64_t v = 0;
    for (int b = 7; b >= 0; b--)
        v = (v << 8) | bytes[b];
    return v;
}

/* 1 when inspector inspected code in the previous round. */
static int was_previous(const draws_input *in, const char *inspector, const char *code) {
    for (size_t i = 0; i < in->n_previous; i++)
        if (strcmp(in->previous[i].inspector, inspector) == 0 &&
            strcmp(in->previous[i].code, code) == 0)
            return 1;
    return 0;
}

int draws_compute(const draws_input *in, draws_result *out, sync_error *err) {
    memset(out, 0, sizeof *out);
    draws_candidate *cand = NULL;
    draws_inspector *insp = NULL;
    size_t *load = NULL, *eligible = NULL;
    char(*divs)[8] = NULL; /* the division of each pick, for step 4 */
    int rc = 0;
    if (in->n_candidates == 0 || in->sample == 0 || in->sample > in->n_candidates ||
        in->n_inspectors == 0)
        return sync_fail(err, SYNC_EINVALID, "invalid_draw",
                         "a draw needs candidates, inspectors and a sample of 1 to %zu",
                         in->n_candidates);
    cand = malloc(in->n_candidates * sizeof *cand);
    insp = malloc(in->n_inspectors * sizeof *insp);
    load = calloc(in->n_inspectors, sizeof *load);
    eligible = malloc(in->n_inspectors * sizeof *eligible);
    divs = calloc(in->sample, sizeof *divs);
    out->picks = calloc(in->sample, sizeof *out->picks);
    if (!cand || !insp || !load || !eligible || !divs || !out->picks) {
        rc = sync_fail(err, SYNC_EINTERNAL, "out_of_memory", "out of memory");
        goto done;
    }
    memcpy(cand, in->candidates, in->n_candidates * sizeof *cand);
    memcpy(insp, in->inspectors, in->n_inspectors * sizeof *insp);
    qsort(cand, in->n_candidates, sizeof *cand, cmp_candidate);
    qsort(insp, in->n_inspectors, sizeof *insp, cmp_inspector);

    /* 1. the canonical lists and their hashes */
    crypto_generichash_state st;
    char line[2 * INSPECT_NAME_LEN + 32];
    crypto_generichash_init(&st, NULL, 0, 32);
    for (size_t i = 0; i < in->n_candidates; i++) {
        const draws_candidate *c = &cand[i];
        if (!field_ok(c->code, sizeof c->code) || !field_ok(c->division, sizeof c->division) ||
            c->weight < 1 || c->weight > INSPECT_MAX_WEIGHT ||
            (i > 0 && strcmp(cand[i - 1].code, c->code) == 0)) {
            rc = sync_fail(err, SYNC_EINVALID, "invalid_draw",
                           "candidate %zu: a code and division, unrepeated, weight 1 to %d", i,
                           INSPECT_MAX_WEIGHT);
            goto done;
        }
        int n = snprintf(line, sizeof line, "%s\t%s\t%u\n", c->code, c->division, c->weight);
        crypto_generichash_update(&st, (const uint8_t *)line, (size_t)n);
    }
    crypto_generichash_final(&st, out->candidates_hash, 32);
    crypto_generichash_init(&st, NULL, 0, 32);
    for (size_t i = 0; i < in->n_inspectors; i++) {
        const draws_inspector *p = &insp[i];
        if (!field_ok(p->name, sizeof p->name) || !field_ok(p->division, sizeof p->division) ||
            (i > 0 && strcmp(insp[i - 1].name, p->name) == 0)) {
            rc = sync_fail(err, SYNC_EINVALID, "invalid_draw",
                           "inspector %zu: a name and division, unrepeated", i);
            goto done;
        }
        int n = snprintf(line, sizeof line, "%s\t%s\n", p->name, p->division);
        crypto_generichash_update(&st, (const uint8_t *)line, (size_t)n);
    }
    crypto_generichash_final(&st, out->inspectors_hash, 32);

    /* 3. the outfalls, weighted, without replacement */
    size_t left = in->n_candidates;
    uint64_t total = 0;
    for (size_t i = 0; i < left; i++)
        total += cand[i].weight;
    for (size_t k = 0; k < in->sample; k++) {
        uint64_t r = draw_number(in->seed, out, k) % total, run = 0;
        size_t at = 0;
        while (at + 1 < left && (run += cand[at].weight) <= r)
            at++;
        snprintf(out->picks[k].code, sizeof out->picks[k].code, "%s", cand[at].code);
        memcpy(divs[k], cand[at].division, sizeof divs[k]);
        total -= cand[at].weight;
        memmove(&cand[at], &cand[at + 1], (left - at - 1) * sizeof *cand);
        left--;
    }

    /* 4. the inspectors */
    for (size_t j = 0; j < in->sample; j++) {
        draws_pair *pk = &out->picks[j];
        const char *division = divs[j];
        size_t n = 0, least = SIZE_MAX;
        for (size_t i = 0; i < in->n_inspectors; i++) {
            if (strcmp(insp[i].division, division) == 0 || was_previous(in, insp[i].name, pk->code))
                continue;
            if (load[i] < least) {
                least = load[i];
                n = 0;
            }
            if (load[i] == least) eligible[n++] = i;
        }
        if (n == 0) {
            rc = sync_fail(err, SYNC_ECONFLICT, "no_eligible_inspector",
                           "no inspector may go to %s: all are of division %s or went last time",
                           pk->code, division);
            goto done;
        }
        size_t chosen = eligible[draw_number(in->seed, out, in->sample + j) % n];
        load[chosen]++;
        snprintf(pk->inspector, sizeof pk->inspector, "%s", insp[chosen].name);
    }
    out->n_picks = in->sample;
done:
    free(cand);
    free(insp);
    free(load);
    free(eligible);
    free(divs);
    if (rc < 0) draws_result_free(out);
    return rc;
}

int draws_verify(const draws_input *in, const draws_result *claimed, sync_error *err) {
    draws_result again;
    int rc = draws_compute(in, &again, err);
    if (rc < 0) return rc;
    if (memcmp(again.candidates_hash, claimed->candidates_hash, 32) != 0)
        rc = sync_fail(err, SYNC_ECONFLICT, "draw_mismatch",
                       "the candidate list does not hash to the published hash");
    else if (memcmp(again.inspectors_hash, claimed->inspectors_hash, 32) != 0)
        rc = sync_fail(err, SYNC_ECONFLICT, "draw_mismatch",
                       "the inspector list does not hash to the published hash");
    else if (again.n_picks != claimed->n_picks)
        rc = sync_fail(err, SYNC_ECONFLICT, "draw_mismatch", "%zu picks published, %zu drawn",
                       claimed->n_picks, again.n_picks);
    for (size_t i = 0; rc == 0 && i < again.n_picks; i++)
        if (strcmp(again.picks[i].code, claimed->picks[i].code) != 0 ||
            strcmp(again.picks[i].inspector, claimed->picks[i].inspector) != 0)
            rc = sync_fail(err, SYNC_ECONFLICT, "draw_mismatch",
                           "pick %zu: published %s to %s, drawn %s to %s", i + 1,
                           claimed->picks[i].inspector, claimed->picks[i].code,
                           again.picks[i].inspector, again.picks[i].code);
    draws_result_free(&again);
    return rc;
}

void draws_result_free(draws_result *r) {
    free(r->picks);
    r->picks = NULL;
    r->n_picks = 0;
}

/* ---- stored draws ---- */

void draws_month_end(const char *day, char out[11]) {
    static const int month_days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int year = atoi(day), month = atoi(day + 5);
    if (month < 1 || month > 12) month = 12;
    int last = month_days[month - 1];
    if (month == 2 && ((year % 4 == 0 && year % 100 != 0) || year % 400 == 0)) last = 29;
    memcpy(out, day, 8); /* "YYYY-MM-" */
    out[8] = (char)('0' + last / 10);
    out[9] = (char)('0' + last % 10);
    out[10] = '\0';
}

int draws_deadline_passed(const char *deadline, int64_t now_ms) {
    char today[11];
    util_date_of_ms(now_ms, today);
    return strcmp(today, deadline) > 0;
}

/* Loads stored draw id into *out: 1 found, 0 not, negative on failure. A draw stored before
 * deadlines existed gets its default one, the last day of the month it was drawn in. */
static int inspect_load(store *s, const char *id, Outfall__V1__InspectionDraw **out,
                        sync_error *err) {
    *out = NULL;
    sqlite3_stmt *st = store_stmt(s, "SELECT doc FROM inspection_draws WHERE id = ?");
    if (!st) return store_fail(s, SQLITE_ERROR, err);
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        sqlite3_reset(st);
        return rc == SQLITE_DONE ? 0 : store_fail(s, rc, err);
    }
    char why[200];
    rc = pbjson_decode(
        &outfall__v1__inspection_draw__descriptor, (const char *)sqlite3_column_text(st, 0),
        (size_t)sqlite3_column_bytes(st, 0), (ProtobufCMessage **)out, why, sizeof why);
    sqlite3_reset(st);
    if (rc) return sync_fail(err, SYNC_EINTERNAL, "storage_error", "draw %s is unreadable", id);
    if (!(*out)->deadline) {
        char drawn[11];
        util_date_of_ms((*out)->drawn_at_ms, drawn);
        (*out)->deadline = malloc(11);
        if (!(*out)->deadline) {
            protobuf_c_message_free_unpacked(&(*out)->base, NULL);
            *out = NULL;
            return sync_fail(err, SYNC_EINTERNAL, "out_of_memory", "out of memory");
        }
        draws_month_end(drawn, (*out)->deadline);
    }
    return 1;
}

int draws_read(store *s, const char *id, Outfall__V1__InspectionDraw **out, sync_error *err) {
    int rc = inspect_load(s, id, out, err);
    if (rc == 0) return sync_fail(err, SYNC_ENOTFOUND, "not_found", "no draw %.64s", id);
    return rc < 0 ? rc : 0;
}

/* 1 when type (an OutfallType) is among req's types, or req names none. */
static int type_wanted(const Outfall__V1__InspectionDrawRequest *req, int type) {
    if (req->n_types == 0) return 1;
    for (size_t i = 0; i < req->n_types; i++)
        if ((int)req->types[i] == type) return 1;
    return 0;
}

/* 1 when division is among req's divisions, or req names none. */
static int division_wanted(const Outfall__V1__InspectionDrawRequest *req, const char *division) {
    if (req->n_division_codes == 0) return 1;
    for (size_t i = 0; i < req->n_division_codes; i++)
        if (strcmp(req->division_codes[i], division) == 0) return 1;
    return 0;
}

/* The type of outfall id at its approved version (0 when unknown). */
static int approved_type(store *s, const char *id, int64_t approved) {
    json_t *v = history_value_at(s, "outfall", id, "type", approved);
    int type = 0;
    if (json_is_integer(v)) type = (int)json_integer_value(v);
    if (json_is_string(v)) {
        const ProtobufCEnumValue *e = protobuf_c_enum_descriptor_get_value_by_name(
            &outfall__v1__outfall_type__descriptor, json_string_value(v));
        if (e) type = e->value;
    }
    json_decref(v);
    return type;
}

/* The candidates of req visible to p into *out[*n] (malloc'd). Returns 0 or a negative code. */
static int candidates_of(store *s, const principal *p,
                         const Outfall__V1__InspectionDrawRequest *req, draws_candidate **out,
                         size_t *n, sync_error *err) {
    *out = NULL;
    *n = 0;
    size_t cap = 0;
    sqlite3_stmt *st =
        store_stmt(s, "SELECT id, approved_version, code, division_code FROM outfalls "
                      "WHERE approved_version > 0 AND merged_into IS NULL AND code "
                      "IS NOT NULL AND (?1 IS NULL OR river_code = ?1) ORDER BY code");
    if (!st) return store_fail(s, SQLITE_ERROR, err);
    if (req->river_code && req->river_code[0])
        sqlite3_bind_text(st, 1, req->river_code, -1, SQLITE_STATIC);
    int rc = 0, step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *id = (const char *)sqlite3_column_text(st, 0);
        const char *division = (const char *)sqlite3_column_text(st, 3);
        if (!principal_covers(p, division) || !division_wanted(req, division)) continue;
        int type = approved_type(s, id, sqlite3_column_int64(st, 1));
        if (!type_wanted(req, type)) continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 64;
            void *grown = realloc(*out, cap * sizeof **out);
            if (!grown) {
                rc = sync_fail(err, SYNC_EINTERNAL, "out_of_memory", "out of memory");
                break;
            }
            *out = grown;
        }
        draws_candidate *c = &(*out)[(*n)++];
        memset(c, 0, sizeof *c);
        snprintf(c->code, sizeof c->code, "%s", (const char *)sqlite3_column_text(st, 2));
        snprintf(c->division, sizeof c->division, "%s", division);
        c->weight = req->weighted && type >= 1 && type <= 9 ? 3 : 1;
    }
    if (rc == 0 && step != SQLITE_DONE) rc = store_fail(s, step, err);
    sqlite3_reset(st);
    if (rc < 0) {
        free(*out);
        *out = NULL;
        *n = 0;
    }
    return rc;
}

/* The last stored draw's id and picks into *prev (a message the caller frees; NULL when none). */
static int previous_draw(store *s, Outfall__V1__InspectionDraw **prev, sync_error *err) {
    *prev = NULL;
    sqlite3_stmt *st = store_stmt(
        s, "SELECT id FROM inspection_draws ORDER BY drawn_at_ms DESC, rowid DESC LIMIT 1");
    if (!st) return store_fail(s, SQLITE_ERROR, err);
    int rc = sqlite3_step(st);
    char id[64] = "";
    if (rc == SQLITE_ROW) snprintf(id, sizeof id, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_reset(st);
    if (rc == SQLITE_DONE) return 0;
    if (rc != SQLITE_ROW) return store_fail(s, rc, err);
    rc = inspect_load(s, id, prev, err);
    return rc < 0 ? rc : 0;
}

/* Appends {code, inspector} objects of pairs[n] to array a. */
static void pairs_json(json_t *a, const draws_pair *pairs, size_t n) {
    for (size_t i = 0; i < n; i++)
        json_array_append_new(
            a, json_pack("{s:s, s:s}", "code", pairs[i].code, "inspector", pairs[i].inspector));
}

static int cmp_candidate_code(const void *a, const void *b) {
    return cmp_candidate(a, b);
}

int draws_create(store *s, const principal *p, const Outfall__V1__InspectionDrawRequest *req,
                 Outfall__V1__InspectionDraw **out, sync_error *err) {
    *out = NULL;
    draws_candidate *cands = NULL;
    draws_inspector *insps = NULL;
    draws_pair *prev = NULL;
    Outfall__V1__InspectionDraw *last = NULL;
    draws_result res = {0};
    json_t *doc = NULL;
    char *text = NULL;
    size_t n_cands = 0;
    int rc;
    if (!req->draw_id || !util_uuid_valid(req->draw_id))
        return sync_fail(err, SYNC_EINVALID, "invalid_draw", "draw_id must be a UUID");
    for (size_t i = 0; i < req->n_division_codes; i++)
        if (!principal_covers(p, req->division_codes[i])) {
            sync_fail(err, SYNC_EFORBIDDEN, "outside_division",
                      "division %.16s is outside your divisions", req->division_codes[i]);
            audit_record(s, p, "inspection.draw", req->draw_id, err->code, err->message);
            return SYNC_EFORBIDDEN;
        }
    /* The deadline: the request's, on or after the draw's day, or the last day of its month. */
    int64_t now = util_now_ms();
    char today[11], deadline[11];
    util_date_of_ms(now, today);
    if (req->deadline && (strlen(req->deadline) != 10 || lifecycle_date_days(req->deadline, NULL)))
        return sync_fail(err, SYNC_EINVALID, "invalid_draw",
                         "deadline %.20s must be a date YYYY-MM-DD", req->deadline);
    if (req->deadline)
        util_strlcpy(deadline, req->deadline, sizeof deadline);
    else
        draws_month_end(today, deadline);
    draws_input in = {0};
    if (req->seed) {
        size_t len = 0;
        if (strlen(req->seed) != 64 ||
            sodium_hex2bin(in.seed, 32, req->seed, 64, NULL, &len, NULL) != 0 || len != 32)
            return sync_fail(err, SYNC_EINVALID, "invalid_seed", "seed is 64 hex digits");
    } else {
        randombytes_buf(in.seed, sizeof in.seed);
    }
    uint8_t hash[32];
    replay_hash(&req->base, hash);
    if ((rc = store_begin(s, err))) return rc;
    /* A retry answers the first answer's bytes; the same draw_id with another request is
     * refused. A draw stored before requests were hashed answers its stored document. */
    rc = replay_find(s,
                     "SELECT content_hash, result FROM inspection_draws WHERE id = ? AND "
                     "content_hash IS NOT NULL",
                     req->draw_id, hash, &outfall__v1__inspection_draw__descriptor,
                     (ProtobufCMessage **)out, "draw_id_reused", err);
    if (rc == 0) rc = inspect_load(s, req->draw_id, out, err);
    if (rc != 0) {
        store_rollback(s);
        return rc < 0 ? rc : 0;
    }
    /* After the retry's answer: a retry the next day still answers the draw it made. */
    if (req->deadline && strcmp(req->deadline, today) < 0) {
        rc = sync_fail(err, SYNC_EINVALID, "invalid_draw", "deadline %.20s is before today (%s)",
                       req->deadline, today);
        goto done;
    }
    if ((rc = candidates_of(s, p, req, &cands, &n_cands, err))) goto done;
    if (n_cands == 0) {
        rc = sync_fail(err, SYNC_EINVALID, "no_candidates", "no approved outfall fits the draw");
        goto done;
    }
    insps = calloc(req->n_inspectors ? req->n_inspectors : 1, sizeof *insps);
    if (!insps) {
        rc = sync_fail(err, SYNC_EINTERNAL, "out_of_memory", "out of memory");
        goto done;
    }
    for (size_t i = 0; i < req->n_inspectors; i++) {
        const Outfall__V1__InspectionInspector *x = req->inspectors[i];
        if (!x->name || !x->division_code || strlen(x->name) >= sizeof insps[i].name ||
            strlen(x->division_code) >= sizeof insps[i].division) {
            rc = sync_fail(err, SYNC_EINVALID, "invalid_draw",
                           "inspector %zu needs a name and a division_code", i);
            goto done;
        }
        snprintf(insps[i].name, sizeof insps[i].name, "%s", x->name);
        snprintf(insps[i].division, sizeof insps[i].division, "%s", x->division_code);
    }
    if ((rc = previous_draw(s, &last, err))) goto done;
    size_t n_prev = last ? last->n_picks : 0;
    prev = calloc(n_prev ? n_prev : 1, sizeof *prev);
    if (!prev) {
        rc = sync_fail(err, SYNC_EINTERNAL, "out_of_memory", "out of memory");
        goto done;
    }
    for (size_t i = 0; i < n_prev; i++) {
        snprintf(prev[i].code, sizeof prev[i].code, "%s", last->picks[i]->code);
        snprintf(prev[i].inspector, sizeof prev[i].inspector, "%s", last->picks[i]->inspector);
    }
    in.candidates = cands;
    in.n_candidates = n_cands;
    in.inspectors = insps;
    in.n_inspectors = req->n_inspectors;
    in.previous = prev;
    in.n_previous = n_prev;
    in.sample = req->has_sample && req->sample > 0 ? (size_t)req->sample : 0;
    if ((rc = draws_compute(&in, &res, err))) goto done;

    /* the published facts, lists in canonical order */
    qsort(cands, n_cands, sizeof *cands, cmp_candidate_code);
    qsort(insps, req->n_inspectors, sizeof *insps, cmp_inspector);
    char seed_hex[65], ch[65], ih[65];
    sodium_bin2hex(seed_hex, sizeof seed_hex, in.seed, 32);
    sodium_bin2hex(ch, sizeof ch, res.candidates_hash, 32);
    sodium_bin2hex(ih, sizeof ih, res.inspectors_hash, 32);
    json_t *jc = json_array(), *ji = json_array(), *jprev = json_array(), *jpicks = json_array();
    for (size_t i = 0; i < n_cands; i++)
        json_array_append_new(jc,
                              json_pack("{s:s, s:s, s:i}", "code", cands[i].code, "divisionCode",
                                        cands[i].division, "weight", (int)cands[i].weight));
    for (size_t i = 0; i < req->n_inspectors; i++)
        json_array_append_new(
            ji, json_pack("{s:s, s:s}", "name", insps[i].name, "divisionCode", insps[i].division));
    pairs_json(jprev, prev, n_prev);
    pairs_json(jpicks, res.picks, res.n_picks);
    doc = json_pack("{s:s, s:s, s:i, s:o, s:o, s:o, s:s, s:s, s:o, s:I, s:s}", "id", req->draw_id,
                    "seed", seed_hex, "sample", (int)in.sample, "candidates", jc, "inspectors", ji,
                    "previous", jprev, "candidatesHash", ch, "inspectorsHash", ih, "picks", jpicks,
                    "drawnAtMs", (json_int_t)now, "deadline", deadline);
    if (doc && last && last->id) json_object_set_new(doc, "previousDrawId", json_string(last->id));
    text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    if (!text) {
        rc = sync_fail(err, SYNC_EINTERNAL, "out_of_memory", "out of memory");
        goto done;
    }
    /* The answer, kept packed beside the document so a retry answers the same bytes. */
    char why[200];
    if (pbjson_decode(&outfall__v1__inspection_draw__descriptor, text, strlen(text),
                      (ProtobufCMessage **)out, why, sizeof why) != 0) {
        rc = sync_fail(err, SYNC_EINTERNAL, "internal", "the draw does not encode: %s", why);
        goto done;
    }
    size_t n_packed = protobuf_c_message_get_packed_size(&(*out)->base);
    uint8_t *packed = malloc(n_packed ? n_packed : 1);
    if (!packed) {
        rc = sync_fail(err, SYNC_EINTERNAL, "out_of_memory", "out of memory");
        goto done;
    }
    protobuf_c_message_pack(&(*out)->base, packed);
    sqlite3_stmt *st = store_stmt(s, "INSERT INTO inspection_draws (id, drawn_at_ms, user_id, "
                                     "doc, content_hash, result) VALUES (?, ?, ?, ?, ?, ?)");
    if (!st) {
        free(packed);
        rc = store_fail(s, SQLITE_ERROR, err);
        goto done;
    }
    sqlite3_bind_text(st, 1, req->draw_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, now);
    sqlite3_bind_int64(st, 3, p->user_id);
    sqlite3_bind_text(st, 4, text, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 5, hash, 32, SQLITE_STATIC);
    sqlite3_bind_blob(st, 6, packed, (int)n_packed, free);
    int step = sqlite3_step(st);
    sqlite3_reset(st);
    if (step != SQLITE_DONE) {
        rc = store_fail(s, step, err);
        goto done;
    }
    audit_record(s, p, "inspection.draw", req->draw_id, "ok", seed_hex);
    rc = store_commit(s, err);
done:
    if (rc < 0 && *out) {
        protobuf_c_message_free_unpacked(&(*out)->base, NULL);
        *out = NULL;
    }
    if (rc < 0) store_rollback(s);
    if (rc == SYNC_EFORBIDDEN)
        audit_record(s, p, "inspection.draw", req->draw_id, err->code, err->message);
    free(cands);
    free(insps);
    free(prev);
    free(text);
    json_decref(doc);
    draws_result_free(&res);
    if (last) protobuf_c_message_free_unpacked(&last->base, NULL);
    return rc;
}

/* ---- the list of draws ---- */

/* Parses a page token "MS.ID" of draws_list into *ms and id[cap]. Returns 0, or -1 when it is not
 * one the list hands out. */
static int draws_page_token_parse(const char *token, int64_t *ms, char *id, size_t cap) {
    char *end = NULL;
    long long v = strtoll(token, &end, 10);
    if (end == token || *end != '.' || v < 0 || !util_uuid_valid(end + 1)) return -1;
    *ms = v;
    util_strlcpy(id, end + 1, cap);
    return 0;
}

/* 1 when p covers one of the divisions of the JSON array text. */
static int draws_covers_any(const principal *p, const char *text, json_t **divisions) {
    *divisions = json_loads(text ? text : "[]", 0, NULL);
    size_t i;
    json_t *d;
    json_array_foreach(*divisions, i, d) {
        if (json_is_string(d) && principal_covers(p, json_string_value(d))) return 1;
    }
    return 0;
}

/* A summary of the row of draws_list's statement st (columns as selected there), or NULL when
 * out of memory. */
static Outfall__V1__InspectionDrawSummary *draws_summary(sqlite3_stmt *st, json_t *divisions) {
    Outfall__V1__InspectionDrawSummary *d = calloc(1, sizeof *d);
    if (!d) return NULL;
    outfall__v1__inspection_draw_summary__init(d);
    d->id = strdup((const char *)sqlite3_column_text(st, 0));
    d->has_drawn_at_ms = 1;
    d->drawn_at_ms = sqlite3_column_int64(st, 1);
    d->drawn_by =
        strdup(sqlite3_column_text(st, 2) ? (const char *)sqlite3_column_text(st, 2) : "");
    d->seed = strdup(sqlite3_column_text(st, 4) ? (const char *)sqlite3_column_text(st, 4) : "");
    d->has_sample = 1;
    d->sample = sqlite3_column_int(st, 5);
    d->has_candidate_count = 1;
    d->candidate_count = sqlite3_column_int(st, 6);
    d->deadline =
        strdup(sqlite3_column_text(st, 8) ? (const char *)sqlite3_column_text(st, 8) : "");
    size_t n = json_array_size(divisions);
    d->division_codes = calloc(n ? n : 1, sizeof *d->division_codes);
    int ok = d->id && d->drawn_by && d->seed && d->deadline && d->division_codes;
    for (size_t i = 0; ok && i < n; i++) {
        const char *code = json_string_value(json_array_get(divisions, i));
        if (!code) continue;
        if (!(d->division_codes[d->n_division_codes] = strdup(code)))
            ok = 0;
        else
            d->n_division_codes++;
    }
    if (!ok) {
        protobuf_c_message_free_unpacked(&d->base, NULL);
        return NULL;
    }
    return d;
}

int draws_list(store *s, const principal *p, int limit, const char *page_token,
               Outfall__V1__InspectionDrawList **out, sync_error *err) {
    *out = NULL;
    int64_t after_ms = 0;
    char after_id[UUID_STR_LEN + 1] = "";
    limit = limit <= 0 ? 50 : limit > 500 ? 500 : limit;
    if (page_token && page_token[0] &&
        draws_page_token_parse(page_token, &after_ms, after_id, sizeof after_id))
        return sync_fail(err, SYNC_EINVALID, "invalid_argument",
                         "page_token is not one this list handed out");
    Outfall__V1__InspectionDrawList *list = malloc(sizeof *list);
    if (list) {
        outfall__v1__inspection_draw_list__init(list);
        list->draws = calloc((size_t)limit, sizeof *list->draws);
    }
    if (!list || !list->draws) {
        free(list);
        return sync_fail(err, SYNC_EINTERNAL, "out_of_memory", "out of memory");
    }
    sqlite3_stmt *st = store_stmt(
        s, "SELECT d.id, d.drawn_at_ms, u.username, d.user_id, json_extract(d.doc, '$.seed'), "
           "json_extract(d.doc, '$.sample'), json_array_length(d.doc, '$.candidates'), "
           "(SELECT json_group_array(dv) FROM (SELECT DISTINCT json_extract(c.value, "
           "'$.divisionCode') AS dv FROM json_each(d.doc, '$.candidates') c ORDER BY "
           "dv)), " DRAWS_DEADLINE_SQL
           " FROM inspection_draws d LEFT JOIN users u ON u.id = d.user_id "
           "WHERE (?1 = '' OR d.drawn_at_ms < ?2 OR (d.drawn_at_ms = ?2 AND d.id < ?1)) "
           "ORDER BY d.drawn_at_ms DESC, d.id DESC");
    int rc = st ? SQLITE_OK : SQLITE_ERROR;
    if (st) {
        sqlite3_bind_text(st, 1, after_id, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, after_ms);
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            json_t *divisions = NULL;
            int seen = draws_covers_any(p, (const char *)sqlite3_column_text(st, 7), &divisions) ||
                       sqlite3_column_int64(st, 3) == p->user_id;
            if (seen && (int)list->n_draws == limit) { /* one more: there is a next page */
                const Outfall__V1__InspectionDrawSummary *last = list->draws[list->n_draws - 1];
                char token[80];
                snprintf(token, sizeof token, "%lld.%s", (long long)last->drawn_at_ms, last->id);
                list->next_page_token = strdup(token);
                json_decref(divisions);
                rc = list->next_page_token ? SQLITE_DONE : SQLITE_NOMEM;
                break;
            }
            Outfall__V1__InspectionDrawSummary *d = seen ? draws_summary(st, divisions) : NULL;
            json_decref(divisions);
            if (seen && !d) {
                rc = SQLITE_NOMEM;
                break;
            }
            if (d) list->draws[list->n_draws++] = d;
        }
        sqlite3_reset(st);
    }
    if (rc != SQLITE_DONE) {
        protobuf_c_message_free_unpacked(&list->base, NULL);
        return store_fail(s, rc, err);
    }
    *out = list;
    return 0;
}
