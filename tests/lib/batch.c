/* Sync batches: build a SyncRequest change by change, encode it (protobuf or JSON), sign it with
 * the device's Ed25519 key (client/sign: one-shot, over the exact body bytes) and send it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/sign.h"
#include "common/pbjson.h"
#include "common/util.h"
#include "tests/lib/harness.h"

/* Every allocation of a batch hangs on one list, freed at once. */
typedef struct th_block {
    struct th_block *next;
    max_align_t data[];
} th_block;

struct th_batch {
    Outfall__V1__SyncRequest req;
    th_device *device;
    th_block *blocks;
    Outfall__V1__Change **changes; /* req.changes, grown by realloc */
    size_t cap;
    uint8_t *encoded; /* the last th_batch_encode */
};

void *th_batch_alloc(th_batch *b, size_t n) {
    th_block *blk = calloc(1, sizeof *blk + n);
    if (!blk) {
        fprintf(stderr, "th: out of memory\n");
        abort();
    }
    blk->next = b->blocks;
    b->blocks = blk;
    return blk->data;
}

char *th_batch_str(th_batch *b, const char *s) {
    size_t n = strlen(s);
    char *copy = th_batch_alloc(b, n + 1);
    memcpy(copy, s, n + 1);
    return copy;
}

th_batch *th_batch_new(th_device *d) {
    th_batch *b = calloc(1, sizeof *b);
    if (!b) return NULL;
    Outfall__V1__SyncRequest init = OUTFALL__V1__SYNC_REQUEST__INIT;
    b->req = init;
    b->device = d;
    char id[37];
    th_uuid(id);
    b->req.batch_id = th_batch_str(b, id);
    b->req.device_id = th_batch_str(b, d->id);
    b->req.has_device_seq = 1;
    b->req.device_seq = d->next_seq;
    b->req.has_since = 1;
    b->req.since = 0;
    return b;
}

void th_batch_free(th_batch *b) {
    if (!b) return;
    while (b->blocks) {
        th_block *next = b->blocks->next;
        free(b->blocks);
        b->blocks = next;
    }
    free(b->changes);
    free(b->encoded);
    free(b);
}

Outfall__V1__SyncRequest *th_batch_req(th_batch *b) {
    return &b->req;
}

Outfall__V1__Change *th_batch_change(th_batch *b, const char *entity_id, int64_t base_version) {
    if (b->req.n_changes == b->cap) {
        size_t cap = b->cap ? 2 * b->cap : 8;
        Outfall__V1__Change **grown = realloc(b->changes, cap * sizeof *grown);
        if (!grown) abort();
        b->changes = grown;
        b->cap = cap;
        b->req.changes = grown;
    }
    Outfall__V1__Change *c = th_batch_alloc(b, sizeof *c);
    Outfall__V1__Change init = OUTFALL__V1__CHANGE__INIT;
    *c = init;
    char id[37];
    th_uuid(id);
    c->change_id = th_batch_str(b, id);
    if (!entity_id) th_uuid(id);
    c->entity_id = th_batch_str(b, entity_id ? entity_id : id);
    c->has_base_version = 1;
    c->base_version = base_version;
    c->has_client_time_ms = 1;
    c->client_time_ms = util_now_ms();
    b->changes[b->req.n_changes++] = c;
    return c;
}

static Outfall__V1__Outfall *th_outfall_change(th_batch *b, const char *id, int64_t base) {
    Outfall__V1__Change *c = th_batch_change(b, id, base);
    Outfall__V1__Outfall *o = th_batch_alloc(b, sizeof *o);
    Outfall__V1__Outfall init = OUTFALL__V1__OUTFALL__INIT;
    *o = init;
    c->entity_case = OUTFALL__V1__CHANGE__ENTITY_OUTFALL;
    c->outfall = o;
    return o;
}

Outfall__V1__Outfall *th_outfall_create(th_batch *b, const char *river, const char *division,
                                        double lat, double lon) {
    Outfall__V1__Outfall *o = th_outfall_change(b, NULL, 0);
    o->river_code = river ? th_batch_str(b, river) : NULL;
    o->division_code = division ? th_batch_str(b, division) : NULL;
    o->has_lat = o->has_lon = 1;
    o->lat = lat;
    o->lon = lon;
    return o;
}

Outfall__V1__Outfall *th_outfall_edit(th_batch *b, const char *id, int64_t base_version) {
    return th_outfall_change(b, id, base_version);
}

Outfall__V1__ResponsibleParty *th_outfall_party(th_batch *b, Outfall__V1__Outfall *o) {
    if (!o->responsible_party) {
        Outfall__V1__ResponsibleParty init = OUTFALL__V1__RESPONSIBLE_PARTY__INIT;
        o->responsible_party = th_batch_alloc(b, sizeof *o->responsible_party);
        *o->responsible_party = init;
    }
    return o->responsible_party;
}

Outfall__V1__Observation *th_observation_create(th_batch *b, const char *outfall_id, double lat,
                                                double lon) {
    Outfall__V1__Change *c = th_batch_change(b, NULL, 0);
    Outfall__V1__Observation *o = th_batch_alloc(b, sizeof *o);
    Outfall__V1__Observation init = OUTFALL__V1__OBSERVATION__INIT;
    *o = init;
    o->outfall_id = outfall_id ? th_batch_str(b, outfall_id) : NULL;
    o->has_observed_at_ms = 1;
    o->observed_at_ms = util_now_ms();
    o->has_lat = o->has_lon = 1;
    o->lat = lat;
    o->lon = lon;
    c->entity_case = OUTFALL__V1__CHANGE__ENTITY_OBSERVATION;
    c->observation = o;
    return o;
}

void th_observation_photo(th_batch *b, Outfall__V1__Observation *o, const char *hash, int kind) {
    Outfall__V1__PhotoRef **grown = th_batch_alloc(b, (o->n_photos + 1) * sizeof *grown);
    if (o->n_photos) memcpy(grown, o->photos, o->n_photos * sizeof *grown);
    Outfall__V1__PhotoRef *p = th_batch_alloc(b, sizeof *p);
    Outfall__V1__PhotoRef init = OUTFALL__V1__PHOTO_REF__INIT;
    *p = init;
    p->hash = th_batch_str(b, hash);
    p->has_kind = 1;
    p->kind = (Outfall__V1__PhotoKind)kind;
    grown[o->n_photos++] = p;
    o->photos = grown;
}

const char *th_batch_entity(th_batch *b, size_t i) {
    return i < b->req.n_changes ? b->req.changes[i]->entity_id : NULL;
}

const char *th_batch_change_id(th_batch *b, size_t i) {
    return i < b->req.n_changes ? b->req.changes[i]->change_id : NULL;
}

int th_batch_encode(th_batch *b, const char *enc, const uint8_t **bytes, size_t *len) {
    free(b->encoded);
    b->encoded = NULL;
    if (client_sign_encode(&b->req, strcmp(enc, TH_JSON) == 0, &b->encoded, len) != 0) {
        fprintf(stderr, "th: cannot encode the SyncRequest as %s\n", enc);
        return -1;
    }
    *bytes = b->encoded;
    return 0;
}

char *th_sign_b64(const uint8_t sk[64], const void *body, size_t len) {
    return client_sign_b64(sk, body, len);
}

long th_sync_raw(const th_server *s, const char *token, const char *content_type,
                 const char *signature_b64, const void *body, size_t len, th_sync_result *r) {
    memset(r, 0, sizeof *r);
    char sig_header[256];
    const char *headers[2] = {NULL, NULL};
    if (signature_b64) {
        snprintf(sig_header, sizeof sig_header, "X-Device-Signature: %s", signature_b64);
        headers[0] = sig_header;
    }
    const char *accept =
        content_type && (th_is_json(content_type) || strcmp(content_type, TH_PB) == 0)
            ? content_type
            : TH_PB;
    th_request rq = {.method = "POST",
                     .path = "/v1/sync",
                     .content_type = content_type,
                     .accept = accept,
                     .token = token,
                     .headers = headers,
                     .body = body,
                     .len = len};
    r->status = th_http(s, &rq, &r->raw);
    if (r->status == 200) {
        if (th_is_json(r->raw.content_type)) {
            char err[256];
            ProtobufCMessage *m = NULL;
            if (pbjson_decode(&outfall__v1__sync_response__descriptor, (const char *)r->raw.body,
                              r->raw.len, &m, err, sizeof err) != 0)
                fprintf(stderr, "th: SyncResponse JSON did not decode: %s\n", err);
            r->resp = (Outfall__V1__SyncResponse *)m;
        } else {
            r->resp = outfall__v1__sync_response__unpack(NULL, r->raw.len, r->raw.body);
            if (!r->resp) fprintf(stderr, "th: SyncResponse protobuf did not decode\n");
        }
    } else if (r->status != 0) {
        th_error_decode(&r->raw, &r->err);
    }
    return r->status;
}

long th_sync(const th_server *s, const char *token, th_batch *b, const char *enc,
             th_sync_result *r) {
    const uint8_t *bytes;
    size_t len;
    memset(r, 0, sizeof *r);
    if (th_batch_encode(b, enc, &bytes, &len) != 0) return 0;
    char *sig = th_sign_b64(b->device->sk, bytes, len);
    long st = th_sync_raw(s, token, enc, sig, bytes, len, r);
    free(sig);
    if (st == 200 && r->resp && b->req.device_seq == b->device->next_seq) {
        int held = 0;
        for (size_t i = 0; i < r->resp->n_results; i++)
            held |= r->resp->results[i]->status == OUTFALL__V1__CHANGE_STATUS__CHANGE_STATUS_HELD;
        if (!held) b->device->next_seq++;
    }
    return st;
}

void th_sync_result_free(th_sync_result *r) {
    if (r->resp) outfall__v1__sync_response__free_unpacked(r->resp, NULL);
    r->resp = NULL;
    th_response_free(&r->raw);
}

const Outfall__V1__ChangeResult *th_result(const th_sync_result *r, size_t i) {
    if (!r->resp || i >= r->resp->n_results) return NULL;
    return r->resp->results[i];
}

Outfall__V1__SyncResponse *th_sync_ok(const th_server *s, const char *token, th_batch *b,
                                      const char *enc) {
    th_sync_result r;
    long st = th_sync(s, token, b, enc, &r);
    Outfall__V1__SyncResponse *resp = r.resp;
    if (st != 200 || !resp)
        fprintf(stderr, "th: sync answered %ld %s %s\n", st, r.err.code, r.err.message);
    r.resp = NULL;
    th_sync_result_free(&r);
    return st == 200 ? resp : NULL;
}

const char *th_status_name(int status) {
    const ProtobufCEnumValue *v =
        protobuf_c_enum_descriptor_get_value(&outfall__v1__change_status__descriptor, status);
    if (!v) return "?";
    const char *prefix = "CHANGE_STATUS_";
    return strncmp(v->name, prefix, strlen(prefix)) == 0 ? v->name + strlen(prefix) : v->name;
}
