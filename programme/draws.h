/* Random inspections (双随机、一公开, 三.二): which outfalls an inspection round visits and which
 * inspector goes where, drawn by a documented, deterministic procedure from a 32-byte seed, so
 * anyone holding the published facts (seed, candidates, inspectors, the previous round) can
 * recompute the draw and check it. draws_compute and draws_verify are pure (no storage, no
 * clock); draws_create and draws_read store and publish draws.
 *
 * The procedure (draws_compute):
 * 1. Canonical lists. Candidates sorted by code (byte order), one line each
 *    "code\tdivision\tweight\n"; inspectors sorted by name, "name\tdivision\n". A repeated code
 *    or name is refused. candidates_hash and inspectors_hash are the BLAKE2b-256 (libsodium
 *    crypto_generichash, no key) of each list's lines concatenated.
 * 2. Random numbers. The i-th number (i = 0, 1, ...) is the first 8 bytes, little-endian, of
 *    randombytes_buf_deterministic(key_i), key_i = BLAKE2b-256(seed || candidates_hash ||
 *    inspectors_hash || i as 8 bytes little-endian). Changing the seed or any candidate or
 *    inspector changes every number.
 * 3. Outfalls. For k = 0 .. sample-1: with W the sum of the weights still in the list, r =
 *    number k mod W; walking the remaining candidates in canonical order, the first whose running
 *    weight sum exceeds r is drawn and leaves the list. (The bias of the modulo is below W / 2^64.)
 * 4. Inspectors. For the j-th drawn outfall, in draw order: the eligible inspectors are those of
 *    another division than the outfall's who did not inspect that outfall in the previous round;
 *    of them, those with the fewest assignments so far in this draw (in canonical order); the
 *    one at index (number sample+j mod their count) goes. None eligible: no_eligible_inspector.
 */
#ifndef PROGRAMME_DRAWS_H
#define PROGRAMME_DRAWS_H

#include <stddef.h>
#include <stdint.h>

#include "sync/store.h"

enum { INSPECT_MAX_WEIGHT = 100, INSPECT_NAME_LEN = 64 };

typedef struct draws_candidate {
    char code[INSPECT_NAME_LEN]; /* the outfall's code */
    char division[8];
    unsigned weight; /* 1 .. INSPECT_MAX_WEIGHT: e.g. treatment plants and industry more often */
} draws_candidate;

typedef struct draws_inspector {
    char name[INSPECT_NAME_LEN];
    char division[8]; /* never sent to an outfall of this division */
} draws_inspector;

/* One assignment: inspector goes to outfall code. */
typedef struct draws_pair {
    char inspector[INSPECT_NAME_LEN];
    char code[INSPECT_NAME_LEN];
} draws_pair;

/* The published facts of a draw. The arrays are borrowed and may come in any order. */
typedef struct draws_input {
    uint8_t seed[32];
    const draws_candidate *candidates;
    size_t n_candidates;
    const draws_inspector *inspectors;
    size_t n_inspectors;
    const draws_pair *previous; /* the previous round's assignments */
    size_t n_previous;
    size_t sample; /* outfalls to draw: 1 .. n_candidates */
} draws_input;

typedef struct draws_result {
    uint8_t candidates_hash[32];
    uint8_t inspectors_hash[32];
    draws_pair *picks; /* malloc'd, sample of them in draw order; freed by draws_result_free */
    size_t n_picks;
} draws_result;

/* Runs the procedure above on in into *out (zeroed first). Codes: invalid_draw (400: no
 * candidates, a sample out of range, a weight out of range, an empty or repeated code or name);
 * no_eligible_inspector (409). On failure *out holds nothing to free. */
int draws_compute(const draws_input *in, draws_result *out, sync_error *err);

/* Recomputes the draw from in and compares it with claimed: the hashes and every pick in order.
 * Returns 0 when they match, SYNC_ECONFLICT with code draw_mismatch (naming the first
 * difference) when not, or draws_compute's error. */
int draws_verify(const draws_input *in, const draws_result *claimed, sync_error *err);

void draws_result_free(draws_result *r);

/* Supervisor (or admin) p draws a round (req) and stores it, with an audit row. The candidates
 * are the approved outfalls (not merged) of req's divisions (default: all p covers), river and
 * types; with req->weighted, industrial (types 1-8) and municipal plant (9) outfalls weigh 3,
 * others 1. The previous round is the last stored draw. The seed is req's (64 hex) or 32 fresh
 * random bytes. The deadline is req's (YYYY-MM-DD, on or after the draw's day, China Standard
 * Time; else invalid_draw) or the last day of the draw's month: results are taken until that day
 * ends, a pick without one by then is NOT_DONE. Retry-safe through sync/replay.c: the same draw_id
 * with the same request answers the first answer (the same bytes) and writes nothing; with another
 * request it is refused (draw_id_reused, 409). Codes: invalid_draw, invalid_seed, no_candidates
 * (400); outside_division (403); no_eligible_inspector, draw_id_reused (409). *out is freed with
 * free_unpacked. */
int draws_create(store *s, const principal *p, const Outfall__V1__InspectionDrawRequest *req,
                 Outfall__V1__InspectionDraw **out, sync_error *err);

/* The last day (YYYY-MM-DD) of the month of day (YYYY-MM-DD) into out[11]: a draw's default
 * deadline. */
void draws_month_end(const char *day, char out[11]);

/* 1 when deadline (YYYY-MM-DD, China Standard Time) is over at now_ms: its day has ended. */
int draws_deadline_passed(const char *deadline, int64_t now_ms);

/* The SQL expression of the deadline of the inspection_draws row aliased d: its stored one, or
 * for draws stored before deadlines existed the last day of the month it was drawn in. */
#define DRAWS_DEADLINE_SQL                                                                         \
    "coalesce(json_extract(d.doc, '$.deadline'), date(d.drawn_at_ms / 1000, 'unixepoch', "         \
    "'+8 hours', 'start of month', '+1 month', '-1 day'))"

/* The stored draw id, as published (with its deadline). Codes: not_found (404). */
int draws_read(store *s, const char *id, Outfall__V1__InspectionDraw **out, sync_error *err);

/* GET /v1/inspections/draws: the stored draws p may see (one of its candidates lies in a division
 * p covers, or p drew it), newest first, at most limit (<= 0: 50; above 500: 500) after the
 * page_token a previous page handed out (NULL: the first page). *out is freed with
 * free_unpacked. Codes: invalid_argument (400: a page_token this list did not hand out). */
int draws_list(store *s, const principal *p, int limit, const char *page_token,
               Outfall__V1__InspectionDrawList **out, sync_error *err);

#endif
