/* The world of the bad-input catalogue (tests/api/test_bad_input.c) and the makers of its
 * attempts: the servers, callers and records the rows act on, sync batches spoiled one way
 * each, plain requests from templates, and photo bodies. Included by test_bad_input.c only. */
#ifndef TESTS_API_BAD_INPUT_WORLD_H
#define TESTS_API_BAD_INPUT_WORLD_H

#include <math.h>
#include <setjmp.h>
#include <sodium.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/pbjson.h"
#include "common/util.h"
#include "tests/lib/harness.h"

#define DIV "410802"
#define OTHER_DIV "410803"
#define MAX_BODY "16384"
#define MAX_PHOTO "300000" /* every photo fixture but large-12mp.jpg fits */
#define MAX_PHOTO_BYTES 300000
#define MAX_PHOTO_PLUS_1 "300001"
#define SHORT_TTL "3"
#define SHORT_TTL_S 3
#define PART_SENT 1000 /* bytes of the partial tus upload the server has */
#define TUS "Tus-Resumable: 1.0.0"
#define OCTETS "application/offset+octet-stream"

static th_server srv;     /* --max-body 16 KiB, --max-photo-bytes MAX_PHOTO */
static th_server ttl_srv; /* --token-ttl 3: for the expired token */
static th_user surveyor, other, revoked_owner, integrator, logged_out, ttl_user;
static th_user supervisor, other_supervisor, far_surveyor; /* far_surveyor: OTHER_DIV */
static th_device dev, other_dev, revoked_dev, ttl_dev;
static char existing[37];     /* an outfall at version 1, in DIV, pending review */
static th_batch *setup_batch; /* the batch that created it (device seq 1) */
static int64_t ttl_login_ms;
static char approved[37]; /* an outfall of DIV approved by supervisor, at approved_v */
static int64_t approved_v;
static char approve_did[37]; /* the decision that approved it */
static char stored[65];      /* a photo surveyor stored (not in any observation) */
static char part[65];        /* a tus upload of surveyor's with PART_SENT of part_len bytes */
static int64_t part_len;
static char web_dir[64]; /* srv's --web: index.html, app.js, leak.js (a link out), folder.js/ */

/* Who makes a plain row's request (the first, 0, is the default). */
enum {
    AS_SURVEYOR,
    AS_SUPERVISOR,
    AS_OTHER_SUPERVISOR, /* a supervisor of OTHER_DIV only */
    AS_FAR_SURVEYOR,     /* a surveyor of OTHER_DIV only */
    AS_INTEGRATOR,
    AS_ADMIN,
    AS_NOBODY,     /* no Authorization header */
    AS_LOGGED_OUT, /* a token revoked by its logout */
};

/* One attempt: what a row sends. Owned pieces are freed by attempt_free. */
typedef struct attempt {
    th_server *srv;
    const char *method;
    char path[1024];
    const char *token;
    const char *content_type;
    const char *accept;
    char *signature; /* malloc'd, or NULL for none */
    uint8_t *body;   /* malloc'd */
    size_t len;
    const char *headers[6];
    char header_text[4][256]; /* storage for expanded headers */
    th_batch *batch;          /* when the body is a batch of dev's */
} attempt;

/* The body of b as enc, signed by sk. The attempt takes b. */
static void use_batch(attempt *a, th_batch *b, const char *enc, const uint8_t sk[64]) {
    const uint8_t *bytes;
    size_t len;
    assert_int_equal(th_batch_encode(b, enc, &bytes, &len), 0);
    a->body = malloc(len + 1);
    assert_non_null(a->body);
    memcpy(a->body, bytes, len);
    a->len = len;
    a->signature = th_sign_b64(sk, bytes, len);
    a->content_type = a->accept = enc;
    a->batch = b;
}

static void use_bytes(attempt *a, const char *enc, const void *body, size_t len) {
    a->body = malloc(len + 1);
    assert_non_null(a->body);
    memcpy(a->body, body, len);
    a->len = len;
    a->signature = th_sign_b64(dev.sk, body, len);
    a->content_type = a->accept = enc;
}

/* A valid one-create batch of dev's: the base most rows spoil in one way. */
static th_batch *good_batch(th_device *d, Outfall__V1__Outfall **o) {
    double lat, lon;
    th_spot(&lat, &lon);
    th_batch *b = th_batch_new(d);
    Outfall__V1__Outfall *created = th_outfall_create(b, "qinhe", DIV, lat, lon);
    if (o) *o = created;
    return b;
}

static void good(attempt *a) {
    use_batch(a, good_batch(&dev, NULL), TH_PB, dev.sk);
}

/* ---- refused at the HTTP level ---- */
static void malformed_protobuf(attempt *a) {
    use_bytes(a, TH_PB, "\x0a\xff\xff\xff\xff\x0f", 6);
}
static void malformed_json(attempt *a) {
    const char *text = "{\"batchId\": \"00000000-0000-4000-8000-000000000000\", \"changes\": [";
    use_bytes(a, TH_JSON, text, strlen(text));
}
static void wrong_content_type(attempt *a) {
    good(a);
    a->content_type = "text/plain";
}
static void no_content_type(attempt *a) {
    good(a);
    a->content_type = NULL;
}
static void unacceptable_accept(attempt *a) {
    good(a);
    a->accept = "text/html";
}
static void oversize(attempt *a) {
    size_t n = 4 * (size_t)atoi(MAX_BODY);
    uint8_t *big = malloc(n);
    assert_non_null(big);
    randombytes_buf(big, n);
    use_bytes(a, TH_PB, big, n);
    free(big);
}
static void oversize_expecting_continue(attempt *a) {
    oversize(a);
    a->headers[0] = "Expect: 100-continue";
}
static void oversize_chunked(attempt *a) {
    oversize(a);
    a->headers[0] = "Transfer-Encoding: chunked";
}
static void signature_missing(attempt *a) {
    good(a);
    free(a->signature);
    a->signature = NULL;
}
static void signature_not_base64(attempt *a) {
    good(a);
    free(a->signature);
    a->signature = strdup("%%%not*base64%%%");
}
static void signature_too_short(attempt *a) {
    good(a);
    free(a->signature);
    a->signature = util_base64_encode((const uint8_t *)"0123456789", 10);
}
static void signature_of_other_bytes(attempt *a) {
    good(a);
    free(a->signature);
    a->signature = th_sign_b64(dev.sk, "other bytes", 11);
}
static void signed_by_another_key(attempt *a) {
    use_batch(a, good_batch(&dev, NULL), TH_PB, other_dev.sk);
}
static void another_users_device(attempt *a) {
    use_batch(a, good_batch(&other_dev, NULL), TH_PB, other_dev.sk);
}
static void unknown_device(attempt *a) {
    static th_device ghost;
    th_uuid(ghost.id);
    crypto_sign_keypair(ghost.pk, ghost.sk);
    ghost.next_seq = 1;
    use_batch(a, good_batch(&ghost, NULL), TH_PB, ghost.sk);
}
static void revoked_device(attempt *a) {
    use_batch(a, good_batch(&revoked_dev, NULL), TH_PB, revoked_dev.sk);
    a->token = revoked_owner.token;
}
static void no_token(attempt *a) {
    good(a);
    a->token = NULL;
}
static void malformed_token(attempt *a) {
    good(a);
    a->token = "not-a-token";
}
static void unknown_token(attempt *a) {
    good(a);
    a->token = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
}
static void expired_token(attempt *a) {
    int64_t wait = ttl_login_ms + SHORT_TTL_S * 1000 + 600 - util_now_ms();
    if (wait > 0) {
        struct timespec ts = {(time_t)(wait / 1000), (long)(wait % 1000) * 1000000L};
        nanosleep(&ts, NULL);
    }
    use_batch(a, good_batch(&ttl_dev, NULL), TH_PB, ttl_dev.sk);
    a->srv = &ttl_srv;
    a->token = ttl_user.token;
}
static void revoked_token(attempt *a) {
    good(a);
    a->token = logged_out.token;
}
static void integrator_syncs(attempt *a) {
    good(a);
    a->token = integrator.token;
}
static void reused_batch_id(attempt *a) {
    th_batch *b = good_batch(&dev, NULL);
    th_batch_req(b)->batch_id = th_batch_req(setup_batch)->batch_id;
    use_batch(a, b, TH_PB, dev.sk);
}
static void reused_device_seq(attempt *a) {
    th_batch *b = good_batch(&dev, NULL);
    th_batch_req(b)->device_seq = 1;
    use_batch(a, b, TH_PB, dev.sk);
}
static void batch_id_not_uuid(attempt *a) {
    th_batch *b = good_batch(&dev, NULL);
    th_batch_req(b)->batch_id = "batch-one";
    use_batch(a, b, TH_PB, dev.sk);
}

/* ---- answered 200 with the change REJECTED ---- */
static void with_outfall(attempt *a, void (*spoil)(Outfall__V1__Outfall *), const char *enc) {
    Outfall__V1__Outfall *o;
    th_batch *b = good_batch(&dev, &o);
    spoil(o);
    use_batch(a, b, enc, dev.sk);
}
static void set_nan_lat(Outfall__V1__Outfall *o) {
    o->lat = NAN;
}
static void set_inf_lon(Outfall__V1__Outfall *o) {
    o->lon = INFINITY;
}
static void set_minus_inf_lat(Outfall__V1__Outfall *o) {
    o->lat = -INFINITY;
}
static void set_lat_91(Outfall__V1__Outfall *o) {
    o->lat = 90.5;
}
static void set_lon_minus_181(Outfall__V1__Outfall *o) {
    o->lon = -180.5;
}
static void set_river(Outfall__V1__Outfall *o) {
    o->river_code = "yangtze";
}
static void set_division(Outfall__V1__Outfall *o) {
    o->division_code = "999999";
}
static void set_other_division(Outfall__V1__Outfall *o) {
    o->division_code = "410803";
}
static void drop_river(Outfall__V1__Outfall *o) {
    o->river_code = NULL;
}
static void drop_lat(Outfall__V1__Outfall *o) {
    o->has_lat = 0;
}
static void set_version(Outfall__V1__Outfall *o) {
    o->has_version = 1;
    o->version = 1;
}
static void set_review_state(Outfall__V1__Outfall *o) {
    o->has_review_state = 1;
    o->review_state = OUTFALL__V1__REVIEW_STATE__REVIEW_STATE_APPROVED;
}
static void set_flags(Outfall__V1__Outfall *o) {
    static char *flags[] = {"verified"};
    o->n_flags = 1;
    o->flags = flags;
}
static void nan_lat(attempt *a) {
    with_outfall(a, set_nan_lat, TH_PB);
}
static void nan_lat_json(attempt *a) {
    with_outfall(a, set_nan_lat, TH_JSON);
}
static void inf_lon(attempt *a) {
    with_outfall(a, set_inf_lon, TH_PB);
}
static void minus_inf_lat(attempt *a) {
    with_outfall(a, set_minus_inf_lat, TH_PB);
}
static void lat_out_of_range(attempt *a) {
    with_outfall(a, set_lat_91, TH_PB);
}
static void lon_out_of_range(attempt *a) {
    with_outfall(a, set_lon_minus_181, TH_PB);
}
static void unknown_river(attempt *a) {
    with_outfall(a, set_river, TH_PB);
}
static void unknown_division(attempt *a) {
    with_outfall(a, set_division, TH_PB);
}
static void outside_division(attempt *a) {
    with_outfall(a, set_other_division, TH_PB);
}
static void missing_river(attempt *a) {
    with_outfall(a, drop_river, TH_PB);
}
static void missing_lat(attempt *a) {
    with_outfall(a, drop_lat, TH_PB);
}
static void read_only_version(attempt *a) {
    with_outfall(a, set_version, TH_PB);
}
static void read_only_review_state(attempt *a) {
    with_outfall(a, set_review_state, TH_PB);
}
static void read_only_flags(attempt *a) {
    with_outfall(a, set_flags, TH_PB);
}

static void edit_existing(attempt *a, int64_t base, void (*spoil)(Outfall__V1__Outfall *)) {
    th_batch *b = th_batch_new(&dev);
    Outfall__V1__Outfall *o = th_outfall_edit(b, existing, base);
    o->landmark = "edited";
    if (spoil) spoil(o);
    use_batch(a, b, TH_PB, dev.sk);
}
static void edit_moving_out_of_division(attempt *a) {
    edit_existing(a, 1, set_other_division);
}
static void edit_with_nan_lon(attempt *a) {
    th_batch *b = th_batch_new(&dev);
    Outfall__V1__Outfall *o = th_outfall_edit(b, existing, 1);
    o->has_lon = 1;
    o->lon = NAN;
    use_batch(a, b, TH_PB, dev.sk);
}
static void base_version_ahead(attempt *a) {
    edit_existing(a, 7, NULL);
}
static void edit_of_missing_record(attempt *a) {
    th_batch *b = th_batch_new(&dev);
    th_outfall_edit(b, NULL, 3)->landmark = "nowhere";
    use_batch(a, b, TH_PB, dev.sk);
}
static void reused_change_id(attempt *a) {
    th_batch *b = good_batch(&dev, NULL);
    Outfall__V1__Change *c = th_batch_req(b)->changes[0];
    Outfall__V1__Change *orig = th_batch_req(setup_batch)->changes[0];
    c->change_id = orig->change_id; /* same id, new content */
    c->entity_id = orig->entity_id;
    c->outfall->landmark = "different content";
    use_batch(a, b, TH_PB, dev.sk);
}
static void observation_of_missing_outfall(attempt *a) {
    char ghost[37];
    th_uuid(ghost);
    th_batch *b = th_batch_new(&dev);
    th_observation_create(b, ghost, 35.2, 113.2);
    use_batch(a, b, TH_PB, dev.sk);
}
static void observation_with_infinite_lat(attempt *a) {
    th_batch *b = th_batch_new(&dev);
    th_observation_create(b, existing, INFINITY, 113.2);
    use_batch(a, b, TH_PB, dev.sk);
}
static void change_without_entity(attempt *a) {
    th_batch *b = th_batch_new(&dev);
    th_batch_change(b, NULL, 0);
    use_batch(a, b, TH_PB, dev.sk);
}

/* ---- plain requests: a method, a path, headers and a body from templates ---- */

/* A date YYYY-MM-DD at +08:00 (the programme's day), days from now. */
static void date_from_now(int days, char out[11]) {
    time_t t = time(NULL) + 8 * 3600 + (time_t)days * 86400;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 11, "%Y-%m-%d", &tm);
}

/* Base64 of n random bytes into out[cap]. */
static void random_b64(size_t n, char *out, size_t cap) {
    uint8_t bytes[64];
    randombytes_buf(bytes, n);
    char *b64 = util_base64_encode(bytes, n);
    assert_non_null(b64);
    util_strlcpy(out, b64, cap);
    free(b64);
}

static void text_b64(const char *text, char *out, size_t cap) {
    char *b64 = util_base64_encode((const uint8_t *)text, strlen(text));
    assert_non_null(b64);
    util_strlcpy(out, b64, cap);
    free(b64);
}

/* The value of a template's {name} into out[cap]; fails the row on a name it does not know. */
static void placeholder(const char *name, char *out, size_t cap) {
    char hash[65];
    if (strcmp(name, "existing") == 0) {
        util_strlcpy(out, existing, cap);
    } else if (strcmp(name, "approved") == 0) {
        util_strlcpy(out, approved, cap);
    } else if (strcmp(name, "approved_v") == 0) {
        snprintf(out, cap, "%lld", (long long)approved_v);
    } else if (strcmp(name, "stale_v") == 0) {
        snprintf(out, cap, "%lld", (long long)approved_v - 1);
    } else if (strcmp(name, "decision") == 0) {
        util_strlcpy(out, approve_did, cap);
    } else if (strcmp(name, "stored") == 0) {
        util_strlcpy(out, stored, cap);
    } else if (strcmp(name, "part") == 0) {
        util_strlcpy(out, part, cap);
    } else if (strcmp(name, "part_b64") == 0) {
        text_b64(part, out, cap);
    } else if (strcmp(name, "part_len") == 0) {
        snprintf(out, cap, "%lld", (long long)part_len);
    } else if (strcmp(name, "other_len") == 0) {
        snprintf(out, cap, "%lld", (long long)part_len + 1);
    } else if (strcmp(name, "part_at") == 0) {
        snprintf(out, cap, "%d", PART_SENT);
    } else if (strcmp(name, "uuid") == 0) {
        th_uuid(out);
    } else if (strcmp(name, "ghost") == 0) { /* a photo nobody has */
        randombytes_buf(hash, 32);
        util_hex((const uint8_t *)hash, 32, out);
    } else if (strcmp(name, "ghost_b64") == 0) {
        uint8_t raw[32];
        randombytes_buf(raw, sizeof raw);
        util_hex(raw, sizeof raw, hash);
        text_b64(hash, out, cap);
    } else if (strcmp(name, "tomorrow") == 0) {
        assert_true(cap >= 11);
        date_from_now(2, out); /* two days on: tomorrow wherever the test runs */
    } else if (strcmp(name, "other_dev") == 0) {
        util_strlcpy(out, other_dev.id, cap);
    } else if (strcmp(name, "dev") == 0) {
        util_strlcpy(out, dev.id, cap);
    } else if (strcmp(name, "surveyor") == 0) {
        util_strlcpy(out, surveyor.name, cap);
    } else if (strcmp(name, "key32") == 0) {
        random_b64(32, out, cap);
    } else if (strcmp(name, "key31") == 0) {
        random_b64(31, out, cap);
    } else if (strcmp(name, "name201") == 0) {
        assert_true(cap > 201);
        memset(out, 'n', 201);
        out[201] = '\0';
    } else if (strcmp(name, "sha256_wrong") == 0) {
        random_b64(32, out, cap);
    } else if (strcmp(name, "sha256_short") == 0) {
        random_b64(20, out, cap);
    } else {
        fail_msg("unknown placeholder {%s}", name);
    }
}

/* tpl with every {name} replaced by its value into out[cap]. */
static void expand(const char *tpl, char *out, size_t cap) {
    size_t n = 0;
    for (const char *p = tpl; *p;) {
        size_t len = *p == '{' ? strspn(p + 1, "abcdefghijklmnopqrstuvwxyz0123456789_") : 0;
        if (len > 0 && len < 32 && p[1 + len] == '}') {
            char name[32], value[256];
            memcpy(name, p + 1, len);
            name[len] = '\0';
            placeholder(name, value, sizeof value);
            size_t vl = strlen(value);
            assert_true(n + vl < cap);
            memcpy(out + n, value, vl);
            n += vl;
            p += len + 2;
        } else {
            assert_true(n + 1 < cap);
            out[n++] = *p++;
        }
    }
    out[n] = '\0';
}

static const char *token_of(int as) {
    switch (as) {
    case AS_SUPERVISOR:
        return supervisor.token;
    case AS_OTHER_SUPERVISOR:
        return other_supervisor.token;
    case AS_FAR_SURVEYOR:
        return far_surveyor.token;
    case AS_INTEGRATOR:
        return integrator.token;
    case AS_ADMIN:
        return th_admin_token(&srv);
    case AS_NOBODY:
        return NULL;
    case AS_LOGGED_OUT:
        return logged_out.token;
    default:
        return surveyor.token;
    }
}

static void set_body(attempt *a, const void *body, size_t len) {
    free(a->body);
    a->body = malloc(len + 1);
    assert_non_null(a->body);
    memcpy(a->body, body, len);
    a->len = len;
}

/* ---- photo bodies: what a row's `make` adds to its plain request ---- */

/* Sends fixture name at its own address. */
static void put_fixture_at_its_hash(attempt *a, const char *name) {
    th_file f;
    char hash[65];
    assert_int_equal(th_fixture(name, &f), 0);
    th_hash_hex(f.data, f.len, hash);
    snprintf(a->path, sizeof a->path, "/v1/photos/%s", hash);
    set_body(a, f.data, f.len);
    th_file_free(&f);
}

static void not_an_image(attempt *a) {
    put_fixture_at_its_hash(a, "not-an-image.jpg");
}

static void truncated_jpeg(attempt *a) {
    put_fixture_at_its_hash(a, "truncated.jpg");
}

/* A fresh good photo, sent to the address the row's path names (another photo's). */
static void good_photo_body(attempt *a) {
    th_file f;
    char hash[65];
    assert_int_equal(th_photo_variant("qinhe-outfall-a-1.jpg", &f, hash), 0);
    set_body(a, f.data, f.len);
    th_file_free(&f);
}

/* n random bytes at their own address. */
static void random_at_its_hash(attempt *a, size_t n) {
    uint8_t *bytes = malloc(n);
    char hash[65];
    assert_non_null(bytes);
    randombytes_buf(bytes, n);
    th_hash_hex(bytes, n, hash);
    snprintf(a->path, sizeof a->path, "/v1/photos/%s", hash);
    set_body(a, bytes, n);
    free(bytes);
}

static void over_photo_limit(attempt *a) {
    random_at_its_hash(a, MAX_PHOTO_BYTES + 10000);
}

static void over_photo_limit_chunked(attempt *a) {
    over_photo_limit(a);
    a->headers[0] = "Transfer-Encoding: chunked";
}

/* A chunk one byte longer than what the partial upload still lacks. */
static void past_upload_length(attempt *a) {
    size_t n = (size_t)(part_len - PART_SENT) + 1;
    uint8_t *bytes = calloc(1, n);
    assert_non_null(bytes);
    set_body(a, bytes, n);
    free(bytes);
}

static void past_upload_length_chunked(attempt *a) {
    past_upload_length(a);
    a->headers[3] = "Transfer-Encoding: chunked";
}

/* A decision with a comment over 4000 bytes. */
static void long_comment_decision(attempt *a) {
    char id[37], head[256];
    th_uuid(id);
    int n =
        snprintf(head, sizeof head,
                 "{\"decisionId\":\"%s\",\"kind\":\"DECISION_KIND_REJECT\",\"outfallId\":\"%s\","
                 "\"baseVersion\":1,\"comment\":\"",
                 id, existing);
    size_t len = (size_t)n + 4001 + 2;
    char *body = malloc(len + 1);
    assert_non_null(body);
    memcpy(body, head, (size_t)n);
    memset(body + n, 'x', 4001);
    memcpy(body + n + 4001, "\"}", 3);
    set_body(a, body, len);
    free(body);
    a->content_type = TH_JSON;
}

/* The body of a random inspection draw id of DIV's approved outfalls: sample, one inspector. */
static void post_draw(const char *id, int sample, char *body, size_t cap) {
    snprintf(body, cap,
             "{\"drawId\":\"%s\",\"divisionCodes\":[\"" DIV "\"],\"sample\":%d,"
             "\"inspectors\":[{\"name\":\"bad-input-inspector\",\"divisionCode\":\"" OTHER_DIV
             "\"}]}",
             id, sample);
}

/* A draw stored under a fresh id, and the attempt: the same id with another request. */
static void reused_draw(attempt *a) {
    char id[37], body[512];
    th_uuid(id);
    post_draw(id, 1, body, sizeof body);
    th_request rq = {.method = "POST",
                     .path = "/v1/inspections/draws",
                     .content_type = TH_JSON,
                     .accept = TH_JSON,
                     .token = supervisor.token,
                     .body = body,
                     .len = strlen(body)};
    th_response r;
    long st = th_http(&srv, &rq, &r);
    if (st != 200) print_message("draw: %ld %s\n", st, (const char *)r.body);
    th_response_free(&r);
    assert_int_equal(st, 200);
    snprintf(body, sizeof body,
             "{\"drawId\":\"%s\",\"divisionCodes\":[\"" DIV "\"],\"sample\":1,"
             "\"weighted\":true,\"inspectors\":[{\"name\":\"bad-input-inspector\","
             "\"divisionCode\":\"" OTHER_DIV "\"}]}",
             id);
    set_body(a, body, strlen(body));
    a->content_type = TH_JSON;
}

#endif
