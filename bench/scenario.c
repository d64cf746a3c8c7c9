/* The field day, made deterministically from one seed: the admin's seed outfalls (the shared
 * "hot" outfalls of each field division and the pull division's records), and for every phone
 * its user, device key, unique photos and signed-to-be batches of creates, observations and
 * edits. The same options give the same bytes, run after run. */
#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/bench.h"
#include "client/hash.h"
#include "client/sign.h"
#include "common/util.h"

/* The county divisions phones work in; the pull division (沁阳市) holds the records a new phone
 * pulls and no field-day phone writes there, so it keeps exactly --pull-records records. */
static const char *const field_divisions[] = {"410802", "410803", "410804", "410811", "410821",
                                              "410822", "410823", "410825", "410883", "410890"};
enum { N_FIELD_DIVISIONS = sizeof field_divisions / sizeof field_divisions[0] };
static const char pull_division[] = "410882";
static const char *const rivers[] = {"huanghe", "qinhe",      "manghe", "xinmanghe",      "danhe",
                                     "jihe",    "tanqulaohe", "weihe",  "gongchanzhuyiqu"};
enum { N_RIVERS = sizeof rivers / sizeof rivers[0], SEED_BATCH = 500 };

/* The field day: 2026-03-14 08:00 +08:00, in Unix milliseconds. */
static const int64_t day_start_ms = 1773446400000LL;

/* ---- random ---- */

uint64_t bench_rand(bench_rng *r) {
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

double bench_uniform(bench_rng *r) {
    return (double)(bench_rand(r) >> 11) / 9007199254740992.0;
}

static int rand_below(bench_rng *r, int n) {
    return n > 0 ? (int)(bench_rand(r) % (uint64_t)n) : 0;
}

void bench_uuid(bench_rng *r, char out[37]) {
    uint8_t b[16];
    uint64_t a = bench_rand(r), c = bench_rand(r);
    memcpy(b, &a, 8);
    memcpy(b + 8, &c, 8);
    b[6] = (uint8_t)((b[6] & 0x0f) | 0x40);
    b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
             b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
             b[14], b[15]);
}

/* ---- arena ---- */

struct bench_arena {
    bench_arena *next;
    size_t used, cap;
    max_align_t data[];
};

void *bench_alloc(bench_arena **a, size_t n) {
    n = (n + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);
    if (!*a || (*a)->used + n > (*a)->cap) {
        size_t cap = n > 65536 ? n : 65536;
        bench_arena *blk = calloc(1, sizeof *blk + cap);
        if (!blk) {
            fprintf(stderr, "bench: out of memory\n");
            abort();
        }
        blk->cap = cap;
        blk->next = *a;
        *a = blk;
    }
    void *p = (char *)(*a)->data + (*a)->used;
    (*a)->used += n;
    return p;
}

char *bench_strdup(bench_arena **a, const char *s) {
    size_t n = strlen(s) + 1;
    return memcpy(bench_alloc(a, n), s, n);
}

void bench_arena_free(bench_arena **a) {
    while (*a) {
        bench_arena *next = (*a)->next;
        free(*a);
        *a = next;
    }
}

/* ---- photos ---- */

static int jpg_name(const struct dirent *e) {
    size_t n = strlen(e->d_name);
    return n > 4 && strcmp(e->d_name + n - 4, ".jpg") == 0;
}

int bench_fixtures_load(const char *dir, bench_fixture **out, int *n) {
    struct dirent **names = NULL;
    int count = scandir(dir, &names, jpg_name, alphasort);
    *out = NULL;
    *n = 0;
    if (count < 0) {
        fprintf(stderr, "bench: cannot list %s\n", dir);
        return -1;
    }
    bench_fixture *fx = calloc((size_t)count + 1, sizeof *fx);
    for (int i = 0; fx && i < count; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]->d_name);
        FILE *f = fopen(path, "rb");
        uint8_t *data = NULL;
        long len = -1;
        if (f && fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) > 4 && fseek(f, 0, SEEK_SET) == 0 &&
            (data = malloc((size_t)len)) && fread(data, 1, (size_t)len, f) != (size_t)len) {
            free(data);
            data = NULL;
        }
        if (f) fclose(f);
        /* A whole JPEG: SOI at the start, EOI at the end. The COM segment goes after the APPn
         * segments, where EXIF readers stop looking for APP1. */
        size_t pos = 2;
        if (data && data[0] == 0xff && data[1] == 0xd8 && data[len - 2] == 0xff &&
            data[len - 1] == 0xd9) {
            while (pos + 4 <= (size_t)len && data[pos] == 0xff && data[pos + 1] >= 0xe0 &&
                   data[pos + 1] <= 0xef)
                pos += 2 + (size_t)((data[pos + 2] << 8) | data[pos + 3]);
        }
        if (data && data[0] == 0xff && data[1] == 0xd8 && data[len - 2] == 0xff &&
            data[len - 1] == 0xd9 && pos + 4 <= (size_t)len && data[pos] == 0xff) {
            fx[*n].data = data;
            fx[*n].len = (size_t)len;
            fx[*n].insert_at = pos;
            util_strlcpy(fx[*n].name, names[i]->d_name, sizeof fx[*n].name);
            (*n)++;
        } else {
            free(data);
        }
    }
    for (int i = 0; i < count; i++)
        free(names[i]);
    free(names);
    if (!fx || *n == 0) {
        fprintf(stderr, "bench: no whole JPEG fixtures in %s\n", dir);
        free(fx);
        return -1;
    }
    *out = fx;
    return 0;
}

void bench_fixtures_free(bench_fixture *f, int n) {
    for (int i = 0; f && i < n; i++)
        free(f[i].data);
    free(f);
}

void bench_photo_bytes(const bench_fixture *fx, const bench_photo *p, uint8_t *buf) {
    const bench_fixture *f = &fx[p->fixture];
    size_t clen = strlen(p->comment);
    memcpy(buf, f->data, f->insert_at);
    uint8_t *q = buf + f->insert_at;
    q[0] = 0xff;
    q[1] = 0xfe;
    q[2] = (uint8_t)((clen + 2) >> 8);
    q[3] = (uint8_t)((clen + 2) & 0xff);
    memcpy(q + 4, p->comment, clen);
    memcpy(q + 4 + clen, f->data + f->insert_at, f->len - f->insert_at);
}

/* ---- messages ---- */

typedef struct pos {
    double lat, lon;
    const char *river;
} pos;

/* The corner of field division d's box (0.12 by 0.45 degrees; the boxes do not overlap, nor the
 * pull division's grid north of them). */
static pos division_corner(int d) {
    pos p = {34.80 + (d % 5) * 0.13, 112.62 + (d / 5) * 0.50, NULL};
    return p;
}

static pos hot_pos(int d, int h) {
    pos c = division_corner(d);
    pos p = {c.lat + 0.01 + (h % 10) * 0.005, c.lon + 0.01 + (h / 10) * 0.005,
             rivers[(d * 3 + h) % N_RIVERS]};
    return p;
}

static char *fmt(bench_arena **a, const char *f, ...) __attribute__((format(printf, 2, 3)));
static char *fmt(bench_arena **a, const char *f, ...) {
    char buf[256];
    va_list ap;
    va_start(ap, f);
    vsnprintf(buf, sizeof buf, f, ap);
    va_end(ap);
    return bench_strdup(a, buf);
}

static Outfall__V1__Change *new_change(bench_arena **a, bench_rng *r, const char *entity_id,
                                       int64_t base, int64_t at_ms) {
    Outfall__V1__Change *c = bench_alloc(a, sizeof *c);
    outfall__v1__change__init(c);
    char id[37];
    bench_uuid(r, id);
    c->change_id = bench_strdup(a, id);
    if (!entity_id) bench_uuid(r, id);
    c->entity_id = bench_strdup(a, entity_id ? entity_id : id);
    c->has_base_version = 1;
    c->base_version = base;
    c->has_client_time_ms = 1;
    c->client_time_ms = at_ms;
    return c;
}

static Outfall__V1__ResponsibleParty *party(bench_arena **a) {
    Outfall__V1__ResponsibleParty *rp = bench_alloc(a, sizeof *rp);
    outfall__v1__responsible_party__init(rp);
    return rp;
}

/* A new outfall with the fields a surveyor fills in on the bank. */
static Outfall__V1__Change *outfall_create(bench_arena **a, bench_rng *r, const char *entity_id,
                                           const char *division, pos p, int64_t at_ms,
                                           int full_party) {
    Outfall__V1__Change *c = new_change(a, r, entity_id, 0, at_ms);
    Outfall__V1__Outfall *o = bench_alloc(a, sizeof *o);
    outfall__v1__outfall__init(o);
    c->entity_case = OUTFALL__V1__CHANGE__ENTITY_OUTFALL;
    c->outfall = o;
    int k = rand_below(r, 100000);
    o->name = fmt(a, "排口-%s-%05d", division, k);
    o->has_type = 1;
    o->type = (Outfall__V1__OutfallType)(1 + rand_below(r, 22));
    o->river_code = bench_strdup(a, p.river);
    o->division_code = bench_strdup(a, division);
    o->has_lat = o->has_lon = o->has_accuracy_m = 1;
    o->lat = p.lat;
    o->lon = p.lon;
    o->accuracy_m = 3 + rand_below(r, 12);
    o->has_entry_method = 1;
    o->entry_method = (Outfall__V1__EntryMethod)(1 + rand_below(r, 6));
    o->has_discharge_regime = 1;
    o->discharge_regime = (Outfall__V1__DischargeRegime)(1 + rand_below(r, 3));
    o->landmark = fmt(a, "%s 左岸 %d 号桥下游约 %d 米", p.river, 1 + rand_below(r, 40),
                      10 + rand_below(r, 300));
    o->has_survey_level = 1;
    o->survey_level = OUTFALL__V1__SURVEY_LEVEL__SURVEY_LEVEL_WALK;
    Outfall__V1__ResponsibleParty *rp = o->responsible_party = party(a);
    rp->name = fmt(a, "焦作市某某化工有限公司 %d", rand_below(r, 1000));
    rp->phone = fmt(a, "1390391%04d", rand_below(r, 10000));
    if (full_party) {
        rp->credit_code = fmt(a, "91410800MA%08d", rand_below(r, 100000000));
        rp->contact = fmt(a, "王工 %d", rand_below(r, 100));
        rp->permit_number = fmt(a, "91410800MA%08d001P", rand_below(r, 100000000));
        rp->address = fmt(a, "焦作市 %s 工业路 %d 号", division, rand_below(r, 500));
    }
    return c;
}

/* One field changed (or two) on an outfall the phone saw at base_version. */
static Outfall__V1__Change *outfall_edit(bench_arena **a, bench_rng *r, const char *id,
                                         int64_t base, int phone, int64_t at_ms) {
    Outfall__V1__Change *c = new_change(a, r, id, base, at_ms);
    Outfall__V1__Outfall *o = bench_alloc(a, sizeof *o);
    outfall__v1__outfall__init(o);
    c->entity_case = OUTFALL__V1__CHANGE__ENTITY_OUTFALL;
    c->outfall = o;
    int fields = bench_uniform(r) < 0.7 ? 1 : 2;
    for (int i = 0; i < fields; i++) {
        switch (rand_below(r, 8)) {
        case 0:
            o->landmark = fmt(a, "手机 %d 更正: 桥下 %d 米", phone, rand_below(r, 500));
            break;
        case 1:
            o->name = fmt(a, "排口 %d 更名 %d", phone, rand_below(r, 1000));
            break;
        case 2:
            o->has_entry_method = 1;
            o->entry_method = (Outfall__V1__EntryMethod)(1 + rand_below(r, 6));
            break;
        case 3:
            o->has_discharge_regime = 1;
            o->discharge_regime = (Outfall__V1__DischargeRegime)(1 + rand_below(r, 3));
            break;
        case 4:
            if (!o->responsible_party) o->responsible_party = party(a);
            o->responsible_party->contact = fmt(a, "联系人 %d", phone);
            break;
        case 5:
            if (!o->responsible_party) o->responsible_party = party(a);
            o->responsible_party->phone = fmt(a, "1370391%04d", rand_below(r, 10000));
            break;
        case 6:
            o->has_accuracy_m = 1;
            o->accuracy_m = 2 + rand_below(r, 20);
            break;
        default:
            o->has_survey_level = 1;
            o->survey_level = (Outfall__V1__SurveyLevel)(1 + rand_below(r, 3));
            break;
        }
    }
    return c;
}

static const char *const colours[] = {"清", "灰白", "黄褐", "黑", "乳白"};
static const char *const odours[] = {"无", "轻微", "刺鼻", "腐臭"};

static Outfall__V1__Change *observation_create(bench_arena **a, bench_rng *r,
                                               const char *outfall_id, pos p, int64_t at_ms) {
    Outfall__V1__Change *c = new_change(a, r, NULL, 0, at_ms);
    Outfall__V1__Observation *o = bench_alloc(a, sizeof *o);
    outfall__v1__observation__init(o);
    c->entity_case = OUTFALL__V1__CHANGE__ENTITY_OBSERVATION;
    c->observation = o;
    o->outfall_id = bench_strdup(a, outfall_id);
    o->has_observed_at_ms = 1;
    o->observed_at_ms = at_ms;
    o->has_lat = o->has_lon = o->has_accuracy_m = 1;
    o->lat = p.lat + (bench_uniform(r) - 0.5) * 0.0001;
    o->lon = p.lon + (bench_uniform(r) - 0.5) * 0.0001;
    o->accuracy_m = 3 + rand_below(r, 8);
    o->has_flowing = 1;
    o->flowing = rand_below(r, 3) != 0;
    o->colour = bench_strdup(a, colours[rand_below(r, 5)]);
    o->odour = bench_strdup(a, odours[rand_below(r, 4)]);
    o->turbidity = bench_strdup(a, rand_below(r, 2) ? "微浊" : "清澈");
    o->has_oil_film = 1;
    o->oil_film = rand_below(r, 10) == 0;
    o->notes = fmt(a, "排口周边有生活垃圾 %d 处, 水面有泡沫", rand_below(r, 5));
    o->has_discharge_regime = 1;
    o->discharge_regime = (Outfall__V1__DischargeRegime)(1 + rand_below(r, 3));
    o->has_survey_level = 1;
    o->survey_level = OUTFALL__V1__SURVEY_LEVEL__SURVEY_LEVEL_WALK;
    if (rand_below(r, 3) == 0) {
        o->has_cod_mg_l = o->has_nh3n_mg_l = o->has_ph = 1;
        o->cod_mg_l = 20 + rand_below(r, 200);
        o->nh3n_mg_l = 0.5 + rand_below(r, 30);
        o->ph = 6 + rand_below(r, 30) / 10.0;
    }
    return c;
}

static void add_photo_ref(bench_arena **a, Outfall__V1__Observation *o, const char *hash,
                          int kind) {
    Outfall__V1__PhotoRef **grown = bench_alloc(a, (o->n_photos + 1) * sizeof *grown);
    if (o->n_photos) memcpy(grown, o->photos, o->n_photos * sizeof *grown);
    Outfall__V1__PhotoRef *p = bench_alloc(a, sizeof *p);
    outfall__v1__photo_ref__init(p);
    p->hash = bench_strdup(a, hash);
    p->has_kind = 1;
    p->kind = (Outfall__V1__PhotoKind)kind;
    grown[o->n_photos++] = p;
    o->photos = grown;
}

/* Cuts changes[0..n) into requests of at most size changes for device_id, seq from 1. */
static Outfall__V1__SyncRequest *cut_batches(bench_arena **a, bench_rng *r, const char *device_id,
                                             Outfall__V1__Change **changes, int n, int size,
                                             int *n_out) {
    int nb = (n + size - 1) / size;
    Outfall__V1__SyncRequest *reqs = bench_alloc(a, (size_t)(nb ? nb : 1) * sizeof *reqs);
    for (int b = 0; b < nb; b++) {
        Outfall__V1__SyncRequest *q = &reqs[b];
        outfall__v1__sync_request__init(q);
        char id[37];
        bench_uuid(r, id);
        q->batch_id = bench_strdup(a, id);
        q->device_id = bench_strdup(a, device_id);
        q->has_device_seq = 1;
        q->device_seq = b + 1;
        q->has_since = 1;
        q->changes = changes + (size_t)b * (size_t)size;
        q->n_changes = (size_t)(b + 1 < nb ? size : n - b * size);
    }
    *n_out = nb;
    return reqs;
}

Outfall__V1__Change *bench_outfall_new(bench_arena **a, bench_rng *r, const char *entity_id,
                                       const char *division, double lat, double lon,
                                       int river_index, int64_t at_ms) {
    pos p = {lat, lon, rivers[(unsigned)river_index % N_RIVERS]};
    return outfall_create(a, r, entity_id, division, p, at_ms, 0);
}

const char *bench_division(int d, double *lat, double *lon) {
    d = (int)((unsigned)d % N_FIELD_DIVISIONS);
    pos c = division_corner(d);
    *lat = c.lat;
    *lon = c.lon;
    return field_divisions[d];
}

Outfall__V1__SyncRequest *bench_cut_batches(bench_arena **a, bench_rng *r, const char *device_id,
                                            Outfall__V1__Change **changes, int n, int size,
                                            int *n_out) {
    return cut_batches(a, r, device_id, changes, n, size, n_out);
}

void bench_seed_device(const bench_opts *opts, char id[48], uint8_t pk[32], uint8_t sk[64]) {
    bench_rng r = {opts->seed ^ 0x5eed5eedULL};
    uint8_t seed[32];
    for (int i = 0; i < 4; i++) {
        uint64_t v = bench_rand(&r);
        memcpy(seed + 8 * i, &v, 8);
    }
    client_sign_seed_keypair(pk, sk, seed);
    char u[37];
    bench_uuid(&r, u);
    snprintf(id, 48, "seeder-%.36s", u);
}

/* The admin's seed: the hot outfalls of every field division, then the pull division's grid of
 * records (100 per row, about 100 m apart, all on the 沁河). */
static int build_seed(const bench_opts *opts, bench_world *w, bench_rng *r) {
    int n_hot = w->n_divisions * w->hot, n = n_hot + opts->pull_records;
    Outfall__V1__Change **changes = bench_alloc(&w->arena, (size_t)(n ? n : 1) * sizeof *changes);
    char seeder[48];
    uint8_t pk[32], sk[64];
    bench_seed_device(opts, seeder, pk, sk);
    w->hot_ids = bench_alloc(&w->arena, (size_t)(n_hot ? n_hot : 1) * sizeof *w->hot_ids);
    int k = 0;
    for (int d = 0; d < w->n_divisions; d++)
        for (int h = 0; h < w->hot; h++, k++) {
            bench_uuid(r, w->hot_ids[k]);
            changes[k] = outfall_create(&w->arena, r, w->hot_ids[k], w->divisions[d], hot_pos(d, h),
                                        day_start_ms - 86400000LL, 1);
        }
    for (int i = 0; i < opts->pull_records; i++, k++) {
        pos p = {35.46 + (i / 100) * 0.001, 112.62 + (i % 100) * 0.001, "qinhe"};
        changes[k] =
            outfall_create(&w->arena, r, NULL, pull_division, p, day_start_ms - 86400000LL, 1);
    }
    w->seed = cut_batches(&w->arena, r, seeder, changes, n, SEED_BATCH, &w->n_seed);
    return 0;
}

/* Which of v visits get one of k events: spread evenly. */
static int chosen(int j, int k, int v) {
    return (int)((int64_t)(j + 1) * k / v) > (int)((int64_t)j * k / v);
}

static int build_phone(const bench_opts *opts, const bench_world *w, const bench_fixture *fx,
                       int n_fx, bench_phone *ph) {
    bench_rng r = {opts->seed * 1000003ULL + (uint64_t)ph->index * 7919ULL + 17};
    int d = ph->index % w->n_divisions;
    ph->division = w->divisions[d];
    snprintf(ph->username, sizeof ph->username, "bench-p%04d", ph->index);
    snprintf(ph->password, sizeof ph->password, "pw-%016llx", (unsigned long long)bench_rand(&r));
    uint8_t seed[32];
    for (int i = 0; i < 4; i++) {
        uint64_t v = bench_rand(&r);
        memcpy(seed + 8 * i, &v, 8);
    }
    client_sign_seed_keypair(ph->pk, ph->sk, seed);
    char u[37];
    bench_uuid(&r, u);
    snprintf(ph->device_id, sizeof ph->device_id, "phone-%.36s", u);

    /* Photos: unique files, hashed now (set-up), their bytes made again when sent. */
    ph->n_photos = opts->photos;
    ph->photos = calloc((size_t)(opts->photos ? opts->photos : 1), sizeof *ph->photos);
    if (!ph->photos) return -1;
    for (int k = 0; k < opts->photos; k++) {
        bench_photo *p = &ph->photos[k];
        p->fixture = rand_below(&r, n_fx);
        snprintf(p->comment, sizeof p->comment, "outfall-bench seed=%llu phone=%d photo=%d",
                 (unsigned long long)opts->seed, ph->index, k);
        p->len = fx[p->fixture].len + 4 + strlen(p->comment);
        uint8_t *buf = malloc(p->len);
        if (!buf) return -1;
        bench_photo_bytes(fx, p, buf);
        client_hash_buffer(buf, p->len, p->hash);
        free(buf);
    }

    /* The day, visit by visit: a new outfall (created, then observed) or a shared one of the
     * division (observed), and now and then an edit: of the phone's own new outfall, or of a
     * shared one at the version the phone pulled this morning (1), as many phones do. */
    int v = opts->observations;
    if (opts->creates > v) v = opts->creates;
    if (opts->edits > v) v = opts->edits;
    int cap = opts->creates + opts->observations + opts->edits;
    Outfall__V1__Change **changes =
        bench_alloc(&ph->arena, (size_t)(cap ? cap : 1) * sizeof *changes);
    int n = 0, obs_seen = 0;
    static const int kinds[] = {
        OUTFALL__V1__PHOTO_KIND__PHOTO_KIND_NEAR, OUTFALL__V1__PHOTO_KIND__PHOTO_KIND_NEAR,
        OUTFALL__V1__PHOTO_KIND__PHOTO_KIND_FAR, OUTFALL__V1__PHOTO_KIND__PHOTO_KIND_SIGNBOARD};
    for (int j = 0; j < v; j++) {
        int64_t at = day_start_ms + (int64_t)j * 20 * 60000 + rand_below(&r, 600000);
        const char *target = NULL;
        pos p;
        int own = 0;
        if (chosen(j, opts->creates, v)) {
            own = 1;
            if (w->hot && rand_below(&r, 100) < opts->dup_pct) {
                /* Found again by someone else: ~9 m from a shared outfall on its river. */
                p = hot_pos(d, rand_below(&r, w->hot));
                p.lat += 0.00008;
            } else {
                pos c = division_corner(d);
                p.lat = c.lat + bench_uniform(&r) * 0.12;
                p.lon = c.lon + bench_uniform(&r) * 0.45;
                p.river = rivers[rand_below(&r, N_RIVERS)];
            }
            changes[n] = outfall_create(&ph->arena, &r, NULL, ph->division, p, at, 0);
            target = changes[n++]->entity_id;
        } else if (w->hot) {
            int h = rand_below(&r, w->hot);
            target = w->hot_ids[d * w->hot + h];
            p = hot_pos(d, h);
        } else {
            continue;
        }
        if (chosen(j, opts->observations, v)) {
            Outfall__V1__Change *c = observation_create(&ph->arena, &r, target, p, at + 60000);
            for (int k = obs_seen; k < opts->photos; k += opts->observations)
                add_photo_ref(&ph->arena, c->observation, ph->photos[k].hash,
                              kinds[(k / opts->observations) % 4]);
            obs_seen++;
            changes[n++] = c;
        }
        /* Edits fall on other visits than creates (shifted by a third of the day). */
        if (chosen((j + v / 3) % v, opts->edits, v)) {
            const char *id = target;
            if (!own && w->hot) id = w->hot_ids[d * w->hot + rand_below(&r, w->hot)];
            changes[n++] = outfall_edit(&ph->arena, &r, id, 1, ph->index, at + 120000);
        }
    }
    Outfall__V1__SyncRequest *reqs =
        cut_batches(&ph->arena, &r, ph->device_id, changes, n, opts->batch, &ph->n_batches);
    ph->batches = calloc((size_t)(ph->n_batches ? ph->n_batches : 1), sizeof *ph->batches);
    if (!ph->batches) return -1;
    for (int b = 0; b < ph->n_batches; b++) {
        ph->batches[b].req = reqs[b];
        ph->batches[b].replay = rand_below(&r, 100) < opts->replay_pct;
    }
    return 0;
}

int bench_world_build(const bench_opts *opts, bench_world *w, const bench_fixture *fx, int n_fx,
                      bench_phone **phones) {
    memset(w, 0, sizeof *w);
    w->n_divisions = N_FIELD_DIVISIONS;
    w->divisions = field_divisions;
    w->pull_division = pull_division;
    w->hot = opts->hot;
    bench_rng r = {opts->seed};
    if (build_seed(opts, w, &r) < 0) return -1;
    *phones = calloc((size_t)opts->phones, sizeof **phones);
    if (!*phones) return -1;
    for (int i = 0; i < opts->phones; i++) {
        (*phones)[i].index = i;
        if (build_phone(opts, w, fx, n_fx, &(*phones)[i]) < 0) {
            fprintf(stderr, "bench: out of memory building phone %d\n", i);
            return -1;
        }
    }
    return 0;
}

void bench_world_free(bench_world *w, bench_phone *phones, int n) {
    for (int i = 0; phones && i < n; i++) {
        bench_arena_free(&phones[i].arena);
        free(phones[i].photos);
        free(phones[i].batches);
        free(phones[i].t.lat_ms);
    }
    free(phones);
    bench_arena_free(&w->arena);
}
