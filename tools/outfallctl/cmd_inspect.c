/* outfallctl inspections verify (ID | --file FILE.json): recomputes a published inspection draw
 * from its public facts (programme/draws.h documents the procedure) and says whether it matches,
 * then lists the picks with their approved inspection results (programme/inspection_results.h). */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/pbjson.h"
#include "programme/draws.h"
#include "tools/outfallctl/ctl.h"

/* Reads FILE whole into a malloc'd NUL-terminated buffer; NULL on failure. */
static char *read_all(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t cap = 0, n = 0;
    if (!f) return NULL;
    for (;;) {
        if (n + 4096 + 1 > cap) {
            cap = cap ? cap * 2 : 8192;
            char *grown = realloc(buf, cap);
            if (!grown) break;
            buf = grown;
        }
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0) break;
    }
    fclose(f);
    if (buf) buf[n] = '\0';
    *len = n;
    return buf;
}

/* Copies text into out[cap]; 0, or -1 when absent or too long. */
static int copy(char *out, size_t cap, const char *text) {
    if (!text || strlen(text) >= cap) return -1;
    memcpy(out, text, strlen(text) + 1);
    return 0;
}

/* Prints each pick, with its approved inspection result and day (China Standard Time) once a
 * supervisor approved one (the server's copy carries them; they take no part in the draw). */
static void print_picks(const Outfall__V1__InspectionDraw *d) {
    for (size_t i = 0; i < d->n_picks; i++) {
        const Outfall__V1__InspectionPick *pk = d->picks[i];
        printf("  pick %zu: %s -> %s", i + 1, pk->code ? pk->code : "?",
               pk->inspector ? pk->inspector : "?");
        const ProtobufCEnumValue *v =
            pk->has_result ? protobuf_c_enum_descriptor_get_value(
                                 &outfall__v1__inspection_result__descriptor, pk->result)
                           : NULL;
        if (v) {
            time_t t = (time_t)(pk->inspected_at_ms / 1000) + 8 * 3600;
            struct tm tm;
            char day[16] = "?";
            if (gmtime_r(&t, &tm)) strftime(day, sizeof day, "%Y-%m-%d", &tm);
            printf(": %s, inspected %s", v->name + strlen("INSPECTION_RESULT_"), day);
        }
        putchar('\n');
    }
}

/* Recomputes d and prints the verdict. Returns CTL_OK on a match, else CTL_FAIL. */
static int verify(const Outfall__V1__InspectionDraw *d) {
    draws_input in = {0};
    draws_result claimed = {0};
    draws_candidate *cands = calloc(d->n_candidates + 1, sizeof *cands);
    draws_inspector *insps = calloc(d->n_inspectors + 1, sizeof *insps);
    draws_pair *prev = calloc(d->n_previous + 1, sizeof *prev);
    draws_pair *picks = calloc(d->n_picks + 1, sizeof *picks);
    int rc = CTL_FAIL, bad = !cands || !insps || !prev || !picks;
    size_t len = 0;
    bad = bad || !d->seed || strlen(d->seed) != 64 ||
          sodium_hex2bin(in.seed, 32, d->seed, 64, NULL, &len, NULL) != 0;
    bad = bad || !d->candidates_hash || strlen(d->candidates_hash) != 64 ||
          sodium_hex2bin(claimed.candidates_hash, 32, d->candidates_hash, 64, NULL, &len, NULL);
    bad = bad || !d->inspectors_hash || strlen(d->inspectors_hash) != 64 ||
          sodium_hex2bin(claimed.inspectors_hash, 32, d->inspectors_hash, 64, NULL, &len, NULL);
    for (size_t i = 0; !bad && i < d->n_candidates; i++) {
        bad = copy(cands[i].code, sizeof cands[i].code, d->candidates[i]->code) ||
              copy(cands[i].division, sizeof cands[i].division, d->candidates[i]->division_code);
        cands[i].weight = (unsigned)d->candidates[i]->weight;
    }
    for (size_t i = 0; !bad && i < d->n_inspectors; i++)
        bad = copy(insps[i].name, sizeof insps[i].name, d->inspectors[i]->name) ||
              copy(insps[i].division, sizeof insps[i].division, d->inspectors[i]->division_code);
    for (size_t i = 0; !bad && i < d->n_previous; i++)
        bad = copy(prev[i].code, sizeof prev[i].code, d->previous[i]->code) ||
              copy(prev[i].inspector, sizeof prev[i].inspector, d->previous[i]->inspector);
    for (size_t i = 0; !bad && i < d->n_picks; i++)
        bad = copy(picks[i].code, sizeof picks[i].code, d->picks[i]->code) ||
              copy(picks[i].inspector, sizeof picks[i].inspector, d->picks[i]->inspector);
    if (bad) {
        ctl_fail("the draw is incomplete or malformed (seed, hashes, lists)");
        goto done;
    }
    in.candidates = cands;
    in.n_candidates = d->n_candidates;
    in.inspectors = insps;
    in.n_inspectors = d->n_inspectors;
    in.previous = prev;
    in.n_previous = d->n_previous;
    in.sample = d->sample > 0 ? (size_t)d->sample : 0;
    claimed.picks = picks;
    claimed.n_picks = d->n_picks;
    sync_error err = {0};
    if (draws_verify(&in, &claimed, &err) != 0) {
        printf("draw %s: MISMATCH: %s\n", d->id ? d->id : "?", err.message);
        goto done;
    }
    printf("draw %s: match (%zu candidates, candidates hash %s, %zu picks)\n", d->id ? d->id : "?",
           d->n_candidates, d->candidates_hash, d->n_picks);
    print_picks(d);
    rc = CTL_OK;
done:
    free(cands);
    free(insps);
    free(prev);
    free(picks);
    return rc;
}

int cmd_inspections(const ctl *c, int argc, char **argv) {
    if (argc < 3 || strcmp(argv[1], "verify") != 0) return ctl_usage(1);
    Outfall__V1__InspectionDraw *d = NULL;
    int rc;
    if (strcmp(argv[2], "--file") == 0) {
        if (argc != 4) return ctl_usage(1);
        size_t len = 0;
        char why[200];
        char *text = read_all(argv[3], &len);
        if (!text) return ctl_fail("cannot read %s", argv[3]);
        rc = pbjson_decode(&outfall__v1__inspection_draw__descriptor, text, len,
                           (ProtobufCMessage **)&d, why, sizeof why);
        free(text);
        if (rc != 0) return ctl_fail("%s is not an InspectionDraw: %s", argv[3], why);
    } else {
        if (argc != 3 || strlen(argv[2]) > 64 || strpbrk(argv[2], "/?#%")) return ctl_usage(1);
        char path[128];
        snprintf(path, sizeof path, "/public/inspections/%s", argv[2]);
        rc = ctl_call(c, "GET", path, NULL, NULL, &outfall__v1__inspection_draw__descriptor,
                      (ProtobufCMessage **)&d);
        if (rc != CTL_OK) return rc;
    }
    rc = verify(d);
    protobuf_c_message_free_unpacked(&d->base, NULL);
    return rc;
}
