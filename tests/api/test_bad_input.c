/* Issue 5, "Bad inputs and roles": a catalogue of bad inputs across every endpoint of the route
 * table (server/routes.c): sync batches, auth, users, devices, the feed and the reads, the review,
 * the programme (transitions, progress, zones, exports, reports), photos (POST /missing, tus
 * OPTIONS/POST/HEAD/PATCH, PUT, GET with Range, /info) and the console's static files. Each bad
 * input gets its expected status and stable error code (or, for a sync change, its REJECTED
 * reason) and leaves the database and the photo store as they were: before and after every row
 * the test checksums the database (every table but audit and tokens; for a REJECTED change also
 * without batches, changes and devices.last_seq) and the files under the data folder's photos/
 * and uploads/ (path and bytes of each, in sorted order). One table, one test per row.
 *
 * A row with a `bug` note names a defect found by this catalogue and not fixed yet: its
 * expectation is the right answer; while the server gives another, the row prints what came and
 * is skipped (its checksums must still hold), and it passes once the server is fixed. */
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

/* The catalogue: input → expected status and code (Error.code, or the REJECTED reason on 200).
 * A row with `method` is a plain request: its path, body and headers are templates ({name}: see
 * placeholder), its body goes as ctype (default application/json), Accept is JSON, the caller is
 * `as`; its `make`, when it has one too, then adds what a template cannot say (a photo's bytes).
 * A row without `method` is a sync batch its `make` builds, POSTed to /v1/sync as surveyor. */
typedef struct bad_input {
    const char *name;
    void (*make)(attempt *);
    long status;
    const char *code;
    const char *method;
    const char *path;
    int as;
    const char *body;
    const char *ctype;
    const char *headers[3];
    const char *bug; /* a known defect: see the top of the file */
} bad_input;

/* Bodies used by several rows. */
/* A Decision of kind on outfall at base, with more fields (JSON members after a comma, or ""). */
#define DECISION(kind, outfall, base, more)                                                        \
    "{\"decisionId\":\"{uuid}\",\"kind\":\"DECISION_KIND_" kind "\",\"outfallId\":\"" outfall      \
    "\",\"baseVersion\":" base more "}"
/* A LifecycleTransition of outfall at base to stage, with more fields. */
#define TRANSITION(outfall, base, stage, more)                                                     \
    "{\"transitionId\":\"{uuid}\",\"outfallId\":\"" outfall "\",\"baseVersion\":" base             \
    ",\"toStage\":\"LIFECYCLE_STAGE_" stage "\"" more "}"
#define SQUARE "[[113.30,35.30],[113.31,35.30],[113.31,35.31],[113.30,35.31],[113.30,35.30]]"
#define ZONE(id, kind, rings)                                                                      \
    "{\"type\":\"Feature\",\"id\":\"" id "\",\"properties\":{\"name\":\"保护区\",\"kind\":\"" kind \
    "\"},\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[" rings "]}}"
#define ZONES(...) "{\"type\":\"FeatureCollection\",\"features\":[" __VA_ARGS__ "]}"

static const bad_input catalogue[] = {
    /* ---- sync: refused at the HTTP level, then answered 200 with the change REJECTED ---- */
    {"malformed_protobuf_is_400_malformed_protobuf", malformed_protobuf, 400, "malformed_protobuf"},
    {"malformed_json_is_400_malformed_json", malformed_json, 400, "malformed_json"},
    {"wrong_content_type_is_415", wrong_content_type, 415, "unsupported_media_type"},
    {"missing_content_type_is_415", no_content_type, 415, "unsupported_media_type"},
    {"unacceptable_accept_is_406", unacceptable_accept, 406, "not_acceptable"},
    {"oversize_body_is_413", oversize, 413, "body_too_large"},
    {"oversize_body_expecting_continue_is_413", oversize_expecting_continue, 413, "body_too_large"},
    {"oversize_chunked_body_is_413", oversize_chunked, 413, "body_too_large"},
    {"missing_signature_is_401", signature_missing, 401, "signature_missing"},
    {"signature_not_base64_is_401_malformed", signature_not_base64, 401, "signature_malformed"},
    {"signature_of_wrong_length_is_401_malformed", signature_too_short, 401, "signature_malformed"},
    {"signature_over_other_bytes_is_401_invalid", signature_of_other_bytes, 401,
     "signature_invalid"},
    {"signature_by_another_key_is_401_invalid", signed_by_another_key, 401, "signature_invalid"},
    {"batch_of_another_users_device_is_403", another_users_device, 403, "device_not_yours"},
    {"unknown_device_is_401", unknown_device, 401, "unknown_device"},
    {"revoked_device_is_401", revoked_device, 401, "device_revoked"},
    {"no_token_is_401", no_token, 401, "token_missing"},
    {"malformed_token_is_401", malformed_token, 401, "token_invalid"},
    {"unknown_token_is_401", unknown_token, 401, "token_invalid"},
    {"expired_token_is_401", expired_token, 401, "token_expired"},
    {"revoked_token_is_401", revoked_token, 401, "token_revoked"},
    {"integrator_sync_is_403", integrator_syncs, 403, "forbidden_role"},
    {"reused_batch_id_with_new_content_is_409", reused_batch_id, 409, "batch_id_reused"},
    {"reused_device_seq_with_new_batch_is_409", reused_device_seq, 409, "device_seq_reused"},
    {"batch_id_not_a_uuid_is_400", batch_id_not_uuid, 400, "invalid_batch"},
    {"nan_latitude_is_rejected", nan_lat, 200, "invalid_coordinates"},
    {"nan_latitude_in_json_is_rejected", nan_lat_json, 200, "invalid_coordinates"},
    {"infinite_longitude_is_rejected", inf_lon, 200, "invalid_coordinates"},
    {"minus_infinite_latitude_is_rejected", minus_inf_lat, 200, "invalid_coordinates"},
    {"latitude_over_90_is_rejected", lat_out_of_range, 200, "invalid_coordinates"},
    {"longitude_under_minus_180_is_rejected", lon_out_of_range, 200, "invalid_coordinates"},
    {"edit_to_nan_longitude_is_rejected", edit_with_nan_lon, 200, "invalid_coordinates"},
    {"observation_at_infinite_latitude_is_rejected", observation_with_infinite_lat, 200,
     "invalid_coordinates"},
    {"unknown_river_is_rejected", unknown_river, 200, "unknown_river"},
    {"unknown_division_is_rejected", unknown_division, 200, "unknown_division"},
    {"create_outside_surveyors_divisions_is_rejected", outside_division, 200, "outside_division"},
    {"edit_moving_outfall_out_of_divisions_is_rejected", edit_moving_out_of_division, 200,
     "outside_division"},
    {"base_version_ahead_of_server_is_rejected", base_version_ahead, 200, "base_version_ahead"},
    {"reused_change_id_with_new_content_is_rejected", reused_change_id, 200, "change_id_reused"},
    {"edit_of_missing_record_is_rejected", edit_of_missing_record, 200, "not_found"},
    {"observation_of_missing_outfall_is_rejected", observation_of_missing_outfall, 200,
     "unknown_outfall"},
    {"create_without_river_is_rejected", missing_river, 200, "missing_field"},
    {"create_without_latitude_is_rejected", missing_lat, 200, "missing_field"},
    {"create_setting_version_is_rejected", read_only_version, 200, "read_only_field"},
    {"create_setting_review_state_is_rejected", read_only_review_state, 200, "read_only_field"},
    {"create_setting_flags_is_rejected", read_only_flags, 200, "read_only_field"},
    {"change_without_entity_is_rejected", change_without_entity, 200, "invalid_change"},

    /* ---- auth ---- */
    {"login_malformed_json_is_400", NULL, 400, "malformed_json", .method = "POST",
     .path = "/v1/auth/login", .as = AS_NOBODY, .body = "{\"username\": \"x\", \"password\": "},
    {"login_without_password_is_400", NULL, 400, "invalid_argument", .method = "POST",
     .path = "/v1/auth/login", .as = AS_NOBODY, .body = "{\"username\":\"{surveyor}\"}"},
    {"login_with_wrong_password_is_401", NULL, 401, "bad_credentials", .method = "POST",
     .path = "/v1/auth/login", .as = AS_NOBODY,
     .body = "{\"username\":\"{surveyor}\",\"password\":\"not-the-password\"}"},
    {"login_of_unknown_user_is_401", NULL, 401, "bad_credentials", .method = "POST",
     .path = "/v1/auth/login", .as = AS_NOBODY,
     .body = "{\"username\":\"nobody-here\",\"password\":\"whatever-1234\"}"},
    {"login_as_form_data_is_415", NULL, 415, "unsupported_media_type", .method = "POST",
     .path = "/v1/auth/login", .as = AS_NOBODY, .body = "username=a&password=b",
     .ctype = "application/x-www-form-urlencoded"},
    {"logout_without_token_is_401", NULL, 401, "token_missing", .method = "POST",
     .path = "/v1/auth/logout", .as = AS_NOBODY},
    {"logout_with_basic_auth_is_401", NULL, 401, "token_missing", .method = "POST",
     .path = "/v1/auth/logout", .as = AS_NOBODY, .headers = {"Authorization: Basic YTpi"}},
    {"logout_with_logged_out_token_is_401", NULL, 401, "token_revoked", .method = "POST",
     .path = "/v1/auth/logout", .as = AS_LOGGED_OUT},

    /* ---- users ---- */
    {"user_created_by_surveyor_is_403", NULL, 403, "forbidden_role", .method = "POST",
     .path = "/v1/users",
     .body = "{\"username\":\"mallory\",\"password\":\"long-enough-pw\",\"role\":\"ROLE_ADMIN\"}"},
    {"user_with_short_password_is_400", NULL, 400, "weak_password", .method = "POST",
     .path = "/v1/users", .as = AS_ADMIN,
     .body = "{\"username\":\"shorty\",\"password\":\"short\",\"role\":\"ROLE_SURVEYOR\","
             "\"divisions\":[\"" DIV "\"]}"},
    {"user_with_bad_username_is_400", NULL, 400, "invalid_username", .method = "POST",
     .path = "/v1/users", .as = AS_ADMIN,
     .body = "{\"username\":\"a b/c\",\"password\":\"long-enough-pw\",\"role\":\"ROLE_SURVEYOR\","
             "\"divisions\":[\"" DIV "\"]}"},
    {"user_without_role_is_400", NULL, 400, "invalid_role", .method = "POST", .path = "/v1/users",
     .as = AS_ADMIN,
     .body =
         "{\"username\":\"roleless\",\"password\":\"long-enough-pw\",\"divisions\":[\"" DIV "\"]}"},
    {"user_with_unknown_role_number_is_400", NULL, 400, "malformed_json", .method = "POST",
     .path = "/v1/users", .as = AS_ADMIN,
     .body = "{\"username\":\"rolenum\",\"password\":\"long-enough-pw\",\"role\":99,"
             "\"divisions\":[\"" DIV "\"]}"},
    {"user_with_unknown_field_is_400", NULL, 400, "malformed_json", .method = "POST",
     .path = "/v1/users", .as = AS_ADMIN,
     .body = "{\"username\":\"extra\",\"password\":\"long-enough-pw\",\"role\":\"ROLE_SURVEYOR\","
             "\"divisions\":[\"" DIV "\"],\"isRoot\":true}"},
    {"user_in_unknown_division_is_400", NULL, 400, "unknown_division", .method = "POST",
     .path = "/v1/users", .as = AS_ADMIN,
     .body = "{\"username\":\"nowhere\",\"password\":\"long-enough-pw\",\"role\":\"ROLE_SURVEYOR\","
             "\"divisions\":[\"999999\"]}"},
    {"supervisor_without_divisions_is_400", NULL, 400, "unknown_division", .method = "POST",
     .path = "/v1/users", .as = AS_ADMIN,
     .body = "{\"username\":\"nodivs\",\"password\":\"long-enough-pw\","
             "\"role\":\"ROLE_SUPERVISOR\"}"},
    {"user_with_taken_username_is_409", NULL, 409, "username_taken", .method = "POST",
     .path = "/v1/users", .as = AS_ADMIN,
     .body = "{\"username\":\"{surveyor}\",\"password\":\"long-enough-pw\","
             "\"role\":\"ROLE_SURVEYOR\",\"divisions\":[\"" DIV "\"]}"},
    {"users_listed_by_supervisor_is_403", NULL, 403, "forbidden_role", .method = "GET",
     .path = "/v1/users", .as = AS_SUPERVISOR},

    /* ---- devices ---- */
    {"device_with_31_byte_key_is_400", NULL, 400, "invalid_public_key", .method = "POST",
     .path = "/v1/devices", .body = "{\"deviceId\":\"{uuid}\",\"publicKey\":\"{key31}\"}"},
    {"device_without_key_is_400", NULL, 400, "invalid_public_key", .method = "POST",
     .path = "/v1/devices", .body = "{\"deviceId\":\"{uuid}\"}"},
    {"device_key_not_base64_is_400", NULL, 400, "malformed_json", .method = "POST",
     .path = "/v1/devices", .body = "{\"deviceId\":\"{uuid}\",\"publicKey\":\"%%%%\"}"},
    {"device_with_name_over_200_bytes_is_400", NULL, 400, "invalid_name", .method = "POST",
     .path = "/v1/devices",
     .body = "{\"deviceId\":\"{uuid}\",\"publicKey\":\"{key32}\",\"name\":\"{name201}\"}"},
    {"device_with_bad_id_is_400", NULL, 400, "invalid_device_id", .method = "POST",
     .path = "/v1/devices", .body = "{\"deviceId\":\"../x\",\"publicKey\":\"{key32}\"}"},
    {"device_of_another_user_is_409", NULL, 409, "device_taken", .method = "POST",
     .path = "/v1/devices", .body = "{\"deviceId\":\"{other_dev}\",\"publicKey\":\"{key32}\"}"},
    {"device_enrolled_by_integrator_is_403", NULL, 403, "forbidden_role", .method = "POST",
     .path = "/v1/devices", .as = AS_INTEGRATOR,
     .body = "{\"deviceId\":\"{uuid}\",\"publicKey\":\"{key32}\"}"},
    {"unknown_device_revoked_is_404", NULL, 404, "not_found", .method = "DELETE",
     .path = "/v1/devices/{uuid}", .as = AS_ADMIN},
    {"device_revoked_by_surveyor_is_403", NULL, 403, "forbidden_role", .method = "DELETE",
     .path = "/v1/devices/{dev}"},

    /* ---- the change feed ---- */
    {"changes_since_negative_is_400", NULL, 400, "invalid_argument", .method = "GET",
     .path = "/v1/changes?since=-1"},
    {"changes_since_not_a_number_is_400", NULL, 400, "invalid_argument", .method = "GET",
     .path = "/v1/changes?since=12abc"},
    {"changes_limit_over_int_is_400", NULL, 400, "invalid_argument", .method = "GET",
     .path = "/v1/changes?limit=2147483648"},
    {"changes_without_token_is_401", NULL, 401, "token_missing", .method = "GET",
     .path = "/v1/changes", .as = AS_NOBODY},

    /* ---- outfalls and observations ---- */
    {"outfalls_with_unknown_view_is_400", NULL, 400, "invalid_argument", .method = "GET",
     .path = "/v1/outfalls?view=draft"},
    {"outfalls_with_unknown_review_state_is_400", NULL, 400, "invalid_argument", .method = "GET",
     .path = "/v1/outfalls?review_state=BOGUS"},
    {"outfalls_with_review_state_99_is_400", NULL, 400, "invalid_argument", .method = "GET",
     .path = "/v1/outfalls?review_state=99"},
    {"outfalls_with_negative_limit_is_400", NULL, 400, "invalid_argument", .method = "GET",
     .path = "/v1/outfalls?limit=-1"},
    {"outfalls_with_overlong_river_is_400", NULL, 400, "invalid_argument", .method = "GET",
     .path =
         "/v1/"
         "outfalls?river=xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"},
    {"unknown_outfall_is_404", NULL, 404, "not_found", .method = "GET",
     .path = "/v1/outfalls/{uuid}"},
    {"outfall_outside_readers_divisions_is_404", NULL, 404, "not_found", .method = "GET",
     .path = "/v1/outfalls/{existing}", .as = AS_FAR_SURVEYOR},
    {"outfall_read_with_unknown_view_is_400", NULL, 400, "invalid_argument", .method = "GET",
     .path = "/v1/outfalls/{existing}?view=everything"},
    {"history_of_unknown_outfall_is_404", NULL, 404, "not_found", .method = "GET",
     .path = "/v1/outfalls/{uuid}/history"},
    {"history_read_by_integrator_is_403", NULL, 403, "forbidden_role", .method = "GET",
     .path = "/v1/outfalls/{existing}/history", .as = AS_INTEGRATOR},
    {"unknown_observation_is_404", NULL, 404, "not_found", .method = "GET",
     .path = "/v1/observations/{uuid}"},

    /* ---- the review ---- */
    {"queue_with_unknown_kind_is_400", NULL, 400, "invalid_argument", .method = "GET",
     .path = "/v1/review/queue?kind=URGENT", .as = AS_SUPERVISOR},
    {"queue_limit_over_500_is_400", NULL, 400, "invalid_argument", .method = "GET",
     .path = "/v1/review/queue?limit=501", .as = AS_SUPERVISOR},
    {"queue_with_garbage_page_token_is_400", NULL, 400, "invalid_argument", .method = "GET",
     .path = "/v1/review/queue?page_token=abc", .as = AS_SUPERVISOR,
     .bug = "api_review_queue/queue_list take any page_token: strtol(\"abc\") is offset 0, a "
            "negative one is no offset; a bad token is answered 200 with the first page"},
    {"queue_read_by_surveyor_is_403", NULL, 403, "forbidden_role", .method = "GET",
     .path = "/v1/review/queue"},
    {"decision_id_not_a_uuid_is_400", NULL, 400, "invalid_decision", .method = "POST",
     .path = "/v1/review/decisions", .as = AS_SUPERVISOR,
     .body = "{\"decisionId\":\"d-1\",\"kind\":\"DECISION_KIND_APPROVE\",\"outfallId\":"
             "\"{existing}\",\"baseVersion\":1}"},
    {"decision_without_base_version_is_400", NULL, 400, "invalid_decision", .method = "POST",
     .path = "/v1/review/decisions", .as = AS_SUPERVISOR,
     .body = "{\"decisionId\":\"{uuid}\",\"kind\":\"DECISION_KIND_APPROVE\",\"outfallId\":"
             "\"{existing}\"}"},
    {"decision_without_kind_is_400", NULL, 400, "invalid_decision", .method = "POST",
     .path = "/v1/review/decisions", .as = AS_SUPERVISOR,
     .body = "{\"decisionId\":\"{uuid}\",\"outfallId\":\"{existing}\",\"baseVersion\":1}"},
    {"decision_comment_over_4000_bytes_is_400", long_comment_decision, 400, "invalid_decision",
     .method = "POST", .path = "/v1/review/decisions", .as = AS_SUPERVISOR},
    {"decision_on_unknown_outfall_is_404", NULL, 404, "not_found", .method = "POST",
     .path = "/v1/review/decisions", .as = AS_SUPERVISOR,
     .body = DECISION("APPROVE", "{uuid}", "1", "")},
    {"decision_outside_supervisors_divisions_is_403", NULL, 403, "outside_division",
     .method = "POST", .path = "/v1/review/decisions", .as = AS_OTHER_SUPERVISOR,
     .body = DECISION("APPROVE", "{existing}", "1", "")},
    {"decision_on_stale_version_is_409", NULL, 409, "stale_version", .method = "POST",
     .path = "/v1/review/decisions", .as = AS_SUPERVISOR,
     .body = DECISION("RETURN", "{approved}", "{stale_v}", ",\"comment\":\"look again\"")},
    {"approval_of_approved_version_is_409", NULL, 409, "not_open", .method = "POST",
     .path = "/v1/review/decisions", .as = AS_SUPERVISOR,
     .body = DECISION("APPROVE", "{approved}", "{approved_v}", "")},
    {"rejection_without_comment_is_400", NULL, 400, "comment_required", .method = "POST",
     .path = "/v1/review/decisions", .as = AS_SUPERVISOR,
     .body = DECISION("REJECT", "{existing}", "1", "")},
    {"conflict_decision_without_resolutions_is_400", NULL, 400, "invalid_decision",
     .method = "POST", .path = "/v1/review/decisions", .as = AS_SUPERVISOR,
     .body = DECISION("RESOLVE_CONFLICT", "{existing}", "1", "")},
    {"resolution_of_unknown_conflict_is_404", NULL, 404, "not_found", .method = "POST",
     .path = "/v1/review/decisions", .as = AS_SUPERVISOR,
     .body = DECISION("RESOLVE_CONFLICT", "{existing}", "1",
                      ",\"resolutions\":[{\"conflictId\":987654,\"choice\":\"RESOLUTION_CHOICE_"
                      "KEEP_SERVER\"}]")},
    {"merge_of_unknown_duplicate_pair_is_404", NULL, 404, "not_found", .method = "POST",
     .path = "/v1/review/decisions", .as = AS_SUPERVISOR,
     .body = DECISION("MERGE_DUPLICATE", "{existing}", "1",
                      ",\"duplicateId\":987654,\"survivorId\":\"{existing}\"")},
    {"reused_decision_id_with_new_content_is_409", NULL, 409, "decision_id_reused",
     .method = "POST", .path = "/v1/review/decisions", .as = AS_SUPERVISOR,
     .body = "{\"decisionId\":\"{decision}\",\"kind\":\"DECISION_KIND_APPROVE\",\"outfallId\":"
             "\"{approved}\",\"baseVersion\":{approved_v},\"comment\":\"again\"}"},

    /* ---- the programme ---- */
    {"transition_id_not_a_uuid_is_400", NULL, 400, "invalid_transition", .method = "POST",
     .path = "/v1/programme/transitions", .as = AS_SUPERVISOR,
     .body = "{\"transitionId\":\"t1\",\"outfallId\":\"{approved}\",\"baseVersion\":"
             "{approved_v},\"toStage\":\"LIFECYCLE_STAGE_TRACED\"}"},
    {"transition_without_stage_is_400", NULL, 400, "invalid_transition", .method = "POST",
     .path = "/v1/programme/transitions", .as = AS_SUPERVISOR,
     .body = "{\"transitionId\":\"{uuid}\",\"outfallId\":\"{approved}\",\"baseVersion\":"
             "{approved_v}}"},
    {"transition_to_unknown_stage_number_is_400", NULL, 400, "malformed_json", .method = "POST",
     .path = "/v1/programme/transitions", .as = AS_SUPERVISOR,
     .body = "{\"transitionId\":\"{uuid}\",\"outfallId\":\"{approved}\",\"baseVersion\":"
             "{approved_v},\"toStage\":99}"},
    {"transition_on_february_30_is_400", NULL, 400, "invalid_date", .method = "POST",
     .path = "/v1/programme/transitions", .as = AS_SUPERVISOR,
     .body =
         TRANSITION("{approved}", "{approved_v}", "FOUND", ",\"effectiveDate\":\"2025-02-30\"")},
    {"transition_dated_tomorrow_is_400", NULL, 400, "invalid_date", .method = "POST",
     .path = "/v1/programme/transitions", .as = AS_SUPERVISOR,
     .body =
         TRANSITION("{approved}", "{approved_v}", "FOUND", ",\"effectiveDate\":\"{tomorrow}\"")},
    {"transition_skipping_stages_is_409", NULL, 409, "transition_not_allowed", .method = "POST",
     .path = "/v1/programme/transitions", .as = AS_SUPERVISOR,
     .body = TRANSITION("{approved}", "{approved_v}", "CLOSED", "")},
    {"traced_without_party_is_400", NULL, 400, "invalid_party", .method = "POST",
     .path = "/v1/programme/transitions", .as = AS_SUPERVISOR,
     .body = TRANSITION("{approved}", "{approved_v}", "TRACED", "")},
    {"traced_party_without_credit_code_is_400", NULL, 400, "credit_code_required", .method = "POST",
     .path = "/v1/programme/transitions", .as = AS_SUPERVISOR,
     .body = TRANSITION("{approved}", "{approved_v}", "TRACED",
                        ",\"responsibleParty\":{\"name\":\"某化工有限公司\"}")},
    {"traced_party_with_bad_credit_code_is_400", NULL, 400, "invalid_credit_code", .method = "POST",
     .path = "/v1/programme/transitions", .as = AS_SUPERVISOR,
     .body = TRANSITION("{approved}", "{approved_v}", "TRACED",
                        ",\"responsibleParty\":{\"name\":\"某化工有限公司\",\"creditCode\":"
                        "\"91410800MA00000000\"}")},
    {"traced_before_found_is_400", NULL, 400, "date_out_of_order", .method = "POST",
     .path = "/v1/programme/transitions", .as = AS_SUPERVISOR,
     .body = TRANSITION(
         "{approved}", "{approved_v}", "TRACED",
         ",\"effectiveDate\":\"2023-06-01\",\"partyBasis\":\"PARTY_BASIS_COUNTY_GOVERNMENT\"")},
    {"transition_of_unapproved_outfall_is_409", NULL, 409, "not_approved", .method = "POST",
     .path = "/v1/programme/transitions", .as = AS_SUPERVISOR,
     .body = TRANSITION("{existing}", "1", "FOUND", "")},
    {"transition_on_stale_version_is_409", NULL, 409, "stale_version", .method = "POST",
     .path = "/v1/programme/transitions", .as = AS_SUPERVISOR,
     .body = TRANSITION("{approved}", "{stale_v}", "FOUND", "")},
    {"transition_outside_supervisors_divisions_is_403", NULL, 403, "outside_division",
     .method = "POST", .path = "/v1/programme/transitions", .as = AS_OTHER_SUPERVISOR,
     .body = TRANSITION("{approved}", "{approved_v}", "FOUND", "")},
    {"transition_of_unknown_outfall_is_404", NULL, 404, "not_found", .method = "POST",
     .path = "/v1/programme/transitions", .as = AS_SUPERVISOR,
     .body = TRANSITION("{uuid}", "1", "FOUND", "")},
    {"transition_by_surveyor_is_403", NULL, 403, "forbidden_role", .method = "POST",
     .path = "/v1/programme/transitions",
     .body = TRANSITION("{approved}", "{approved_v}", "FOUND", "")},
    {"progress_as_of_february_30_is_400", NULL, 400, "invalid_argument", .method = "GET",
     .path = "/v1/progress?as_of=2025-02-30"},
    {"progress_as_of_a_word_is_400", NULL, 400, "invalid_argument", .method = "GET",
     .path = "/v1/progress?as_of=yesterday"},
    {"progress_as_of_with_nul_is_400", NULL, 400, "invalid_argument", .method = "GET",
     .path = "/v1/progress?as_of=2025-01-01%00junk",
     .bug = "http_query hands back mg_get_var's decoded value as a C string: a %00 cuts it, so "
            "as_of=2025-01-01%00junk is read as 2025-01-01 and answered 200"},
    {"progress_of_unknown_division_is_400", NULL, 400, "unknown_division", .method = "GET",
     .path = "/v1/progress?division=999999"},
    {"progress_of_another_division_is_403", NULL, 403, "outside_division", .method = "GET",
     .path = "/v1/progress?division=" OTHER_DIV},
    {"progress_of_unknown_river_is_400", NULL, 400, "unknown_river", .method = "GET",
     .path = "/v1/progress?river=amazon"},
    {"progress_in_unknown_format_is_400", NULL, 400, "invalid_argument", .method = "GET",
     .path = "/v1/progress?format=xlsx",
     .bug = "api_progress_read (wants) treats any format other than csv as \"not csv\" and "
            "answers 200; GET /v1/reports/annual refuses an unknown format with 400"},
    {"zones_as_plain_text_is_415", NULL, 415, "unsupported_media_type", .method = "POST",
     .path = "/v1/zones", .as = AS_ADMIN, .body = ZONES(ZONE("z-text", "drinking_water", SQUARE)),
     .ctype = "text/plain"},
    {"zones_not_json_is_400", NULL, 400, "invalid_geojson", .method = "POST", .path = "/v1/zones",
     .as = AS_ADMIN, .body = "{\"type\":\"FeatureCollection\",\"features\":[",
     .ctype = "application/geo+json"},
    {"zones_with_duplicate_keys_is_400", NULL, 400, "invalid_geojson", .method = "POST",
     .path = "/v1/zones", .as = AS_ADMIN,
     .body = "{\"type\":\"FeatureCollection\",\"type\":\"Feature\",\"features\":[]}"},
    {"zones_without_features_is_400", NULL, 400, "invalid_geojson", .method = "POST",
     .path = "/v1/zones", .as = AS_ADMIN, .body = ZONES()},
    {"zone_without_id_is_400", NULL, 400, "invalid_zone", .method = "POST", .path = "/v1/zones",
     .as = AS_ADMIN, .body = ZONES(ZONE("", "drinking_water", SQUARE))},
    {"zone_of_unknown_kind_is_400", NULL, 400, "invalid_zone", .method = "POST",
     .path = "/v1/zones", .as = AS_ADMIN, .body = ZONES(ZONE("z-kind", "fish_farm", SQUARE))},
    {"zone_ring_not_closed_is_400", NULL, 400, "invalid_geojson", .method = "POST",
     .path = "/v1/zones", .as = AS_ADMIN,
     .body = ZONES(ZONE("z-open", "drinking_water",
                        "[[113.30,35.30],[113.31,35.30],[113.31,35.31],[113.30,35.31]]"))},
    {"zone_off_the_globe_is_400", NULL, 400, "invalid_geojson", .method = "POST",
     .path = "/v1/zones", .as = AS_ADMIN,
     .body = ZONES(ZONE("z-far", "drinking_water",
                        "[[113.30,35.30],[213.31,35.30],[113.31,95.31],[113.30,35.30]]"))},
    {"zone_as_a_point_is_400", NULL, 400, "invalid_geojson", .method = "POST", .path = "/v1/zones",
     .as = AS_ADMIN,
     .body = ZONES("{\"type\":\"Feature\",\"id\":\"z-pt\",\"properties\":{\"name\":\"井\","
                   "\"kind\":\"drinking_water\"},\"geometry\":{\"type\":\"Point\","
                   "\"coordinates\":[113.3,35.3]}}")},
    {"zones_good_then_bad_keep_neither_and_are_400", NULL, 400, "invalid_zone", .method = "POST",
     .path = "/v1/zones", .as = AS_ADMIN,
     .body = ZONES(ZONE("z-good", "drinking_water", SQUARE) "," ZONE("z-bad", "", SQUARE))},
    {"zones_imported_by_supervisor_is_403", NULL, 403, "forbidden_role", .method = "POST",
     .path = "/v1/zones", .as = AS_SUPERVISOR,
     .body = ZONES(ZONE("z-sup", "drinking_water", SQUARE))},
    {"zones_with_geometry_2_is_400", NULL, 400, "invalid_argument", .method = "GET",
     .path = "/v1/zones?geometry=2"},
    {"zones_at_word_latitude_is_400", NULL, 400, "invalid_argument", .method = "GET",
     .path = "/v1/zones/at?lat=north&lon=113.3"},
    {"zones_at_latitude_95_is_400", NULL, 400, "invalid_argument", .method = "GET",
     .path = "/v1/zones/at?lat=95&lon=113.3"},
    {"zones_at_nan_longitude_is_400", NULL, 400, "invalid_argument", .method = "GET",
     .path = "/v1/zones/at?lat=35.3&lon=nan"},
    {"zones_at_without_longitude_is_400", NULL, 400, "invalid_argument", .method = "GET",
     .path = "/v1/zones/at?lat=35.3"},
    {"csv_export_from_month_13_is_400", NULL, 400, "invalid_argument", .method = "GET",
     .path = "/v1/exports/outfalls.csv?from=2025-13-01"},
    {"geojson_export_of_unknown_division_is_400", NULL, 400, "unknown_division", .method = "GET",
     .path = "/v1/exports/outfalls.geojson?division=999999"},
    {"geojson_export_of_another_division_is_403", NULL, 403, "outside_division", .method = "GET",
     .path = "/v1/exports/outfalls.geojson?division=" OTHER_DIV},
    {"csv_export_of_unknown_river_is_400", NULL, 400, "unknown_river", .method = "GET",
     .path = "/v1/exports/outfalls.csv?river=amazon"},
    {"annual_report_without_year_is_400", NULL, 400, "invalid_argument", .method = "GET",
     .path = "/v1/reports/annual?division=" DIV},
    {"annual_report_for_1999_is_400", NULL, 400, "invalid_argument", .method = "GET",
     .path = "/v1/reports/annual?year=1999&division=" DIV},
    {"annual_report_as_pdf_is_400", NULL, 400, "invalid_argument", .method = "GET",
     .path = "/v1/reports/annual?year=2025&division=" DIV "&format=pdf"},
    {"annual_report_of_unknown_division_is_400", NULL, 400, "unknown_division", .method = "GET",
     .path = "/v1/reports/annual?year=2025&division=999999"},
    {"annual_report_of_another_division_is_403", NULL, 403, "outside_division", .method = "GET",
     .path = "/v1/reports/annual?year=2025&division=" OTHER_DIV},

    /* ---- photos: asking, tus creation ---- */
    {"missing_photos_with_bad_hash_is_400", NULL, 400, "invalid_argument", .method = "POST",
     .path = "/v1/photos/missing", .body = "{\"hashes\":[\"{stored}\",\"ABC\"]}"},
    {"missing_photos_malformed_json_is_400", NULL, 400, "malformed_json", .method = "POST",
     .path = "/v1/photos/missing", .body = "{\"hashes\":[\"{stored}\""},
    {"missing_photos_asked_by_integrator_is_403", NULL, 403, "forbidden_role", .method = "POST",
     .path = "/v1/photos/missing", .as = AS_INTEGRATOR, .body = "{\"hashes\":[]}"},
    {"photos_deleted_is_405", NULL, 405, "method_not_allowed", .method = "DELETE",
     .path = "/v1/photos/{stored}"},
    {"tus_options_of_photo_info_is_405", NULL, 405, "method_not_allowed", .method = "OPTIONS",
     .path = "/v1/photos/{stored}/info", .as = AS_NOBODY},
    {"tus_patch_without_address_is_405", NULL, 405, "method_not_allowed", .method = "PATCH",
     .path = "/v1/photos", .body = "0123456789", .ctype = OCTETS,
     .headers = {TUS, "Upload-Offset: 0"}},
    {"tus_creation_without_tus_resumable_is_412", NULL, 412, "unsupported_tus_version",
     .method = "POST", .path = "/v1/photos/{ghost}", .headers = {"Upload-Length: 1000"}},
    {"tus_creation_in_tus_0_2_is_412", NULL, 412, "unsupported_tus_version", .method = "POST",
     .path = "/v1/photos/{ghost}", .headers = {"Tus-Resumable: 0.2.2", "Upload-Length: 1000"}},
    {"tus_creation_deferring_length_is_400", NULL, 400, "invalid_argument", .method = "POST",
     .path = "/v1/photos/{ghost}", .headers = {TUS, "Upload-Defer-Length: 1"}},
    {"tus_creation_without_length_is_400", NULL, 400, "invalid_argument", .method = "POST",
     .path = "/v1/photos/{ghost}", .headers = {TUS}},
    {"tus_creation_with_negative_length_is_400", NULL, 400, "invalid_argument", .method = "POST",
     .path = "/v1/photos/{ghost}", .headers = {TUS, "Upload-Length: -5"}},
    {"tus_creation_with_length_0_is_400", NULL, 400, "invalid_argument", .method = "POST",
     .path = "/v1/photos/{ghost}", .headers = {TUS, "Upload-Length: 0"}},
    {"tus_creation_over_photo_limit_is_413", NULL, 413, "photo_too_large", .method = "POST",
     .path = "/v1/photos/{ghost}", .headers = {TUS, "Upload-Length: " MAX_PHOTO_PLUS_1}},
    {"tus_creation_without_any_hash_is_400", NULL, 400, "invalid_argument", .method = "POST",
     .path = "/v1/photos",
     .headers = {TUS, "Upload-Length: 1000", "Upload-Metadata: name YS5qcGc="}},
    {"tus_creation_with_bad_metadata_hash_is_400", NULL, 400, "invalid_argument", .method = "POST",
     .path = "/v1/photos", .headers = {TUS, "Upload-Length: 1000", "Upload-Metadata: hash QUJD"}},
    {"tus_creation_with_metadata_naming_another_hash_is_400", NULL, 400, "invalid_argument",
     .method = "POST", .path = "/v1/photos/{ghost}",
     .headers = {TUS, "Upload-Length: 1000", "Upload-Metadata: hash {ghost_b64}"}},
    {"tus_creation_at_bad_address_is_400", NULL, 400, "invalid_argument", .method = "POST",
     .path = "/v1/photos/NOT-A-HASH", .headers = {TUS, "Upload-Length: 1000"}},
    {"tus_creation_changing_length_of_begun_upload_is_409", NULL, 409, "upload_length_conflict",
     .method = "POST", .path = "/v1/photos/{part}", .headers = {TUS, "Upload-Length: {other_len}"}},
    {"tus_creation_by_integrator_is_403", NULL, 403, "forbidden_role", .method = "POST",
     .path = "/v1/photos", .as = AS_INTEGRATOR,
     .headers = {TUS, "Upload-Length: 1000", "Upload-Metadata: hash {ghost_b64}"}},

    /* ---- photos: tus HEAD and PATCH (the partial upload is at PART_SENT) ---- */
    {"tus_head_of_unknown_upload_is_404", NULL, 404, "not_found", .method = "HEAD",
     .path = "/v1/photos/{ghost}", .headers = {TUS}},
    {"tus_head_in_tus_0_2_is_412", NULL, 412, "unsupported_tus_version", .method = "HEAD",
     .path = "/v1/photos/{part}", .headers = {"Tus-Resumable: 0.2.2"}},
    {"tus_head_by_integrator_is_403", NULL, 403, "forbidden_role", .method = "HEAD",
     .path = "/v1/photos/{part}", .as = AS_INTEGRATOR, .headers = {TUS}},
    {"head_of_unknown_photo_is_404", NULL, 404, "not_found", .method = "HEAD",
     .path = "/v1/photos/{ghost}"},
    {"patch_without_tus_resumable_is_412", NULL, 412, "unsupported_tus_version", .method = "PATCH",
     .path = "/v1/photos/{part}", .body = "0123456789", .ctype = OCTETS,
     .headers = {"Upload-Offset: {part_at}"}},
    {"patch_as_octet_stream_is_415", NULL, 415, "unsupported_media_type", .method = "PATCH",
     .path = "/v1/photos/{part}", .body = "0123456789", .ctype = "application/octet-stream",
     .headers = {TUS, "Upload-Offset: {part_at}"}},
    {"patch_without_upload_offset_is_400", NULL, 400, "invalid_argument", .method = "PATCH",
     .path = "/v1/photos/{part}", .body = "0123456789", .ctype = OCTETS, .headers = {TUS}},
    {"patch_with_word_upload_offset_is_400", NULL, 400, "invalid_argument", .method = "PATCH",
     .path = "/v1/photos/{part}", .body = "0123456789", .ctype = OCTETS,
     .headers = {TUS, "Upload-Offset: start"}},
    {"patch_with_negative_upload_offset_is_400", NULL, 400, "invalid_argument", .method = "PATCH",
     .path = "/v1/photos/{part}", .body = "0123456789", .ctype = OCTETS,
     .headers = {TUS, "Upload-Offset: -1000"}},
    {"patch_at_offset_behind_upload_is_409", NULL, 409, "offset_mismatch", .method = "PATCH",
     .path = "/v1/photos/{part}", .body = "0123456789", .ctype = OCTETS,
     .headers = {TUS, "Upload-Offset: 0"}},
    {"patch_at_offset_ahead_of_upload_is_409", NULL, 409, "offset_mismatch", .method = "PATCH",
     .path = "/v1/photos/{part}", .body = "0123456789", .ctype = OCTETS,
     .headers = {TUS, "Upload-Offset: 5000"}},
    {"patch_with_md5_checksum_is_400", NULL, 400, "unsupported_checksum_algorithm",
     .method = "PATCH", .path = "/v1/photos/{part}", .body = "0123456789", .ctype = OCTETS,
     .headers = {TUS, "Upload-Offset: {part_at}", "Upload-Checksum: md5 eB5eJF1ptWaXm4bijSPyxw=="}},
    {"patch_with_checksum_not_base64_is_400", NULL, 400, "invalid_argument", .method = "PATCH",
     .path = "/v1/photos/{part}", .body = "0123456789", .ctype = OCTETS,
     .headers = {TUS, "Upload-Offset: {part_at}", "Upload-Checksum: sha256 %%%not*base64%%%"}},
    {"patch_with_short_sha256_is_400", NULL, 400, "invalid_argument", .method = "PATCH",
     .path = "/v1/photos/{part}", .body = "0123456789", .ctype = OCTETS,
     .headers = {TUS, "Upload-Offset: {part_at}", "Upload-Checksum: sha256 {sha256_short}"}},
    {"patch_not_matching_its_checksum_is_460", NULL, 460, "checksum_mismatch", .method = "PATCH",
     .path = "/v1/photos/{part}", .body = "0123456789", .ctype = OCTETS,
     .headers = {TUS, "Upload-Offset: {part_at}", "Upload-Checksum: sha256 {sha256_wrong}"}},
    {"patch_past_upload_length_is_400", past_upload_length, 400, "beyond_upload_length",
     .method = "PATCH", .path = "/v1/photos/{part}", .ctype = OCTETS,
     .headers = {TUS, "Upload-Offset: {part_at}"}},
    {"chunked_patch_past_upload_length_is_400", past_upload_length_chunked, 400,
     "beyond_upload_length", .method = "PATCH", .path = "/v1/photos/{part}", .ctype = OCTETS,
     .headers = {TUS, "Upload-Offset: {part_at}"}},
    {"patch_of_unknown_upload_is_404", NULL, 404, "not_found", .method = "PATCH",
     .path = "/v1/photos/{ghost}", .body = "0123456789", .ctype = OCTETS,
     .headers = {TUS, "Upload-Offset: 0"}},
    {"patch_by_integrator_is_403", NULL, 403, "forbidden_role", .method = "PATCH",
     .path = "/v1/photos/{part}", .as = AS_INTEGRATOR, .body = "0123456789", .ctype = OCTETS,
     .headers = {TUS, "Upload-Offset: {part_at}"}},

    /* ---- photos: PUT ---- */
    {"put_of_bytes_not_matching_address_is_400", good_photo_body, 400, "digest_mismatch",
     .method = "PUT", .path = "/v1/photos/{ghost}", .ctype = "image/jpeg"},
    {"put_of_a_non_image_is_415", not_an_image, 415, "unsupported_media_type", .method = "PUT",
     .path = "/", .ctype = "image/jpeg"},
    {"put_of_truncated_jpeg_is_400", truncated_jpeg, 400, "truncated_image", .method = "PUT",
     .path = "/", .ctype = "image/jpeg"},
    {"put_over_photo_limit_is_413", over_photo_limit, 413, "photo_too_large", .method = "PUT",
     .path = "/", .ctype = "image/jpeg"},
    {"chunked_put_over_photo_limit_is_413", over_photo_limit_chunked, 413, "photo_too_large",
     .method = "PUT", .path = "/", .ctype = "image/jpeg"},
    {"put_at_bad_address_is_400", NULL, 400, "invalid_argument", .method = "PUT",
     .path = "/v1/photos/{stored}.jpg", .body = "0123456789", .ctype = "image/jpeg"},

    /* ---- photos: reads ---- */
    {"range_beyond_photo_is_416", NULL, 416, "range_not_satisfiable", .method = "GET",
     .path = "/v1/photos/{stored}", .headers = {"Range: bytes=99999999-"}},
    {"empty_suffix_range_is_416", NULL, 416, "range_not_satisfiable", .method = "GET",
     .path = "/v1/photos/{stored}", .headers = {"Range: bytes=-0"}},
    {"unknown_photo_is_404", NULL, 404, "not_found", .method = "GET", .path = "/v1/photos/{ghost}"},
    {"photo_at_uppercase_address_is_400", NULL, 400, "invalid_argument", .method = "GET",
     .path = "/v1/photos/ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789"},
    {"photo_outside_readers_divisions_is_404", NULL, 404, "not_found", .method = "GET",
     .path = "/v1/photos/{stored}", .as = AS_FAR_SURVEYOR},
    {"info_of_unknown_photo_is_404", NULL, 404, "not_found", .method = "GET",
     .path = "/v1/photos/{ghost}/info"},
    {"info_outside_readers_divisions_is_404", NULL, 404, "not_found", .method = "GET",
     .path = "/v1/photos/{stored}/info", .as = AS_FAR_SURVEYOR},
    {"info_without_token_is_401", NULL, 401, "token_missing", .method = "GET",
     .path = "/v1/photos/{stored}/info", .as = AS_NOBODY},

    /* ---- the console's files and the route table ---- */
    {"web_dot_dot_encoded_is_404", NULL, 404, "not_found", .method = "GET",
     .path = "/web/%2e%2e%2f%2e%2e%2fetc%2fhostname", .as = AS_NOBODY},
    {"web_link_out_of_the_folder_is_404", NULL, 404, "not_found", .method = "GET",
     .path = "/web/leak.js", .as = AS_NOBODY},
    {"web_folder_named_as_a_file_is_404", NULL, 404, "not_found", .method = "GET",
     .path = "/web/folder.js", .as = AS_NOBODY},
    {"web_backslash_traversal_is_404", NULL, 404, "not_found", .method = "GET",
     .path = "/web/..%5c..%5cetc%5chostname", .as = AS_NOBODY},
    {"web_absolute_path_is_404", NULL, 404, "not_found", .method = "GET",
     .path = "/web/%2fetc%2fpasswd", .as = AS_NOBODY},
    {"web_hidden_file_is_404", NULL, 404, "not_found", .method = "GET", .path = "/web/.git",
     .as = AS_NOBODY},
    {"web_unknown_extension_is_404", NULL, 404, "not_found", .method = "GET",
     .path = "/web/app.js.map", .as = AS_NOBODY},
    {"web_nul_in_name_is_404", NULL, 404, "not_found", .method = "GET",
     .path = "/web/app.js%00.png", .as = AS_NOBODY},
    {"web_file_posted_is_405", NULL, 405, "method_not_allowed", .method = "POST",
     .path = "/web/app.js", .as = AS_NOBODY, .body = "{}"},
    {"console_page_deleted_is_405", NULL, 405, "method_not_allowed", .method = "DELETE",
     .path = "/", .as = AS_NOBODY},
    {"console_config_posted_is_405", NULL, 405, "method_not_allowed", .method = "POST",
     .path = "/web/config.json", .as = AS_NOBODY, .body = "{\"tileUrl\":\"http://evil\"}"},
    {"health_posted_is_405", NULL, 405, "method_not_allowed", .method = "POST", .path = "/healthz",
     .as = AS_NOBODY, .body = "{}"},
    {"unknown_endpoint_is_404", NULL, 404, "not_found", .method = "GET", .path = "/v1/outfall",
     .as = AS_NOBODY},
    /* CivetWeb refuses a method it does not know before the route table sees it; its answer
     * comes in our Error format all the same. */
    {"unknown_method_is_bad_request", NULL, 400, "bad_request", .method = "FOO",
     .path = "/v1/changes"},
};
#define N_ROWS (sizeof catalogue / sizeof *catalogue)

static void attempt_free(attempt *a) {
    free(a->signature);
    free(a->body);
    th_batch_free(a->batch);
}

/* Fills a from a plain row: method, expanded path, caller, body, headers. */
static void plain(attempt *a, const bad_input *row) {
    a->method = row->method;
    expand(row->path, a->path, sizeof a->path);
    a->token = token_of(row->as);
    a->accept = TH_JSON;
    a->content_type = row->ctype;
    if (row->body) {
        char *text = malloc(32768);
        assert_non_null(text);
        expand(row->body, text, 32768);
        set_body(a, text, strlen(text));
        free(text);
        if (!a->content_type) a->content_type = TH_JSON;
    }
    for (int i = 0; i < 3 && row->headers[i]; i++) {
        expand(row->headers[i], a->header_text[i], sizeof a->header_text[i]);
        a->headers[i] = a->header_text[i];
    }
}

static long log_size(const th_server *s) {
    char path[320];
    struct stat st;
    snprintf(path, sizeof path, "%s/server.log", s->root);
    return stat(path, &st) == 0 ? (long)st.st_size : 0;
}

/* The error code the access log gives the request method path after offset from (the line is
 * written just after the answer, so it may take a moment), into code[64]; "" when none came. */
static void logged_code(const th_server *s, long from, const char *method, const char *path,
                        char code[64]) {
    char file[320], line[2048];
    size_t plen = strcspn(path, "?");
    snprintf(file, sizeof file, "%s/server.log", s->root);
    code[0] = '\0';
    for (int tries = 0; tries < 200 && !code[0]; tries++) {
        FILE *f = fopen(file, "r");
        if (f && fseek(f, from, SEEK_SET) == 0) {
            while (fgets(line, sizeof line, f)) {
                char m[16], p[1024], c[64];
                int status;
                if (sscanf(line, "%*s %15s %1023s %d %*s %63s", m, p, &status, c) == 4 &&
                    strcmp(m, method) == 0 && strlen(p) == plen && strncmp(p, path, plen) == 0)
                    util_strlcpy(code, c, 64);
            }
        }
        if (f) fclose(f);
        if (!code[0]) {
            struct timespec ts = {0, 10 * 1000000L};
            nanosleep(&ts, NULL);
        }
    }
}

/* Sends a; a HEAD answer has no body, so its code comes from the server's access log. */
static long send_attempt(attempt *a, th_response *resp, th_error *e) {
    char sig[256];
    const char *headers[8] = {NULL};
    int nh = 0;
    if (a->signature) {
        snprintf(sig, sizeof sig, "X-Device-Signature: %s", a->signature);
        headers[nh++] = sig;
    }
    for (int i = 0; i < 6; i++)
        if (a->headers[i]) headers[nh++] = a->headers[i];
    memset(e, 0, sizeof *e);
    if (strcmp(a->method, "HEAD") == 0) {
        long from = log_size(a->srv);
        th_xfer x = {.method = "HEAD", .path = a->path, .token = a->token, .headers = headers};
        th_xresult out;
        long st = th_xfer_run(a->srv, &x, &out);
        *resp = out.r;
        if (st < 200 || st > 299) {
            logged_code(a->srv, from, "HEAD", a->path, e->code);
            util_strlcpy(e->message, "(HEAD: from the access log)", sizeof e->message);
        }
        return st;
    }
    th_request rq = {.method = a->method,
                     .path = a->path,
                     .content_type = a->content_type,
                     .accept = a->accept,
                     .token = a->token,
                     .headers = headers,
                     .body = a->body,
                     .len = a->len};
    long st = th_http(a->srv, &rq, resp);
    if (st < 200 || st > 299) th_error_decode(resp, e);
    return st;
}

/* The REJECTED reason of a sync answer's one result, "" when it is not one. */
static void rejected_reason(const th_response *resp, char reason[64]) {
    Outfall__V1__SyncResponse *sr = NULL;
    reason[0] = '\0';
    if (th_is_json(resp->content_type)) {
        char err[128];
        pbjson_decode(&outfall__v1__sync_response__descriptor, (const char *)resp->body, resp->len,
                      (ProtobufCMessage **)&sr, err, sizeof err);
    } else {
        sr = outfall__v1__sync_response__unpack(NULL, resp->len, resp->body);
    }
    if (!sr) return;
    if (sr->n_results == 1) {
        const Outfall__V1__ChangeResult *r = sr->results[0];
        print_message("    %s %s (%s)\n", th_status_name(r->status), TH_S(r->reason),
                      TH_S(r->message));
        if (strcmp(th_status_name(r->status), "REJECTED") == 0)
            util_strlcpy(reason, TH_S(r->reason), 64);
    }
    outfall__v1__sync_response__free_unpacked(sr, NULL);
}

static void run_row(void **state) {
    const bad_input *row = *state;
    attempt a = {.srv = &srv, .token = surveyor.token, .method = "POST", .path = "/v1/sync"};
    if (row->method) plain(&a, row);
    if (row->make) row->make(&a);
    int level = row->status == 200 ? TH_STATE : TH_ALL;
    th_sum db_before = th_db_checksum(a.srv->data, level);
    th_sum files_before = th_store_checksum(a.srv->data, 1);

    th_response resp;
    th_error e;
    long st = send_attempt(&a, &resp, &e);
    th_sum db_after = th_db_checksum(a.srv->data, level);
    th_sum files_after = th_store_checksum(a.srv->data, 1);

    char got[64];
    if (st == 200 && row->status == 200)
        rejected_reason(&resp, got);
    else
        util_strlcpy(got, e.code, sizeof got);
    int as_expected = st == row->status && strcmp(got, row->code) == 0;
    if (!as_expected)
        print_message("%s: %s %s: expected %ld %s, got %ld %s: %.*s\n", row->name, a.method, a.path,
                      row->status, row->code, st, got, (int)(resp.len < 300 ? resp.len : 300),
                      (const char *)resp.body);
    if (strcmp(db_before.hex, db_after.hex) != 0)
        print_message("%s: the database changed\n", row->name);
    if (strcmp(files_before.hex, files_after.hex) != 0)
        print_message("%s: the photo store changed\n", row->name);
    int same = strcmp(db_before.hex, db_after.hex) == 0 &&
               strcmp(files_before.hex, files_after.hex) == 0 && db_before.hex[0] != '!' &&
               files_before.hex[0] != '!';
    if (!as_expected && row->bug && same) {
        print_message("KNOWN BUG %s: %s\n", row->name, row->bug);
        th_response_free(&resp);
        attempt_free(&a);
        skip();
    }

    assert_int_equal(st, row->status);
    assert_string_equal(got, row->code);
    if (row->status != 200) {
        assert_true(e.message[0] != '\0');
        if (resp.len > 0 && a.accept && strcmp(row->code, "not_acceptable") != 0)
            assert_int_equal(th_is_json(resp.content_type), th_is_json(a.accept));
    } else if (a.batch && th_batch_req(a.batch)->device_seq == dev.next_seq) {
        dev.next_seq++;
    }
    assert_string_equal(db_before.hex, db_after.hex);
    assert_string_equal(files_before.hex, files_after.hex);
    assert_true(same);
    th_response_free(&resp);
    attempt_free(&a);
}

/* Approves a fresh outfall of DIV as supervisor: approved, approved_v, approve_did. */
static int setup_approved(void) {
    th_batch *b = good_batch(&dev, NULL);
    Outfall__V1__SyncResponse *resp = th_sync_ok(&srv, surveyor.token, b, TH_PB);
    int ok = resp && resp->n_results == 1 && resp->results[0]->status == TH_STATUS(APPLIED);
    util_strlcpy(approved, th_batch_entity(b, 0), sizeof approved);
    if (resp) outfall__v1__sync_response__free_unpacked(resp, NULL);
    th_batch_free(b);
    if (!ok) return -1;
    th_uuid(approve_did);
    Outfall__V1__Decision d = OUTFALL__V1__DECISION__INIT;
    d.decision_id = approve_did;
    d.has_kind = d.has_base_version = 1;
    d.kind = OUTFALL__V1__DECISION_KIND__DECISION_KIND_APPROVE;
    d.outfall_id = approved;
    d.base_version = 1;
    ProtobufCMessage *out = NULL;
    th_error e;
    long st = th_call(&srv, "POST", "/v1/review/decisions", supervisor.token, TH_PB, &d.base,
                      &outfall__v1__decision_result__descriptor, &out, &e);
    if (st != 200 || !out) {
        fprintf(stderr, "approve: %ld %s %s\n", st, e.code, e.message);
        return -1;
    }
    approved_v = ((Outfall__V1__DecisionResult *)out)->outfall->version;
    protobuf_c_message_free_unpacked(out, NULL);
    return approved_v > 1 ? 0 : -1;
}

/* Stores a photo of surveyor's (stored) and begins a tus upload of another (part). */
static int setup_photos(void) {
    th_file f;
    th_error e;
    if (th_photo_variant("qinhe-outfall-a-1.jpg", &f, stored) < 0) return -1;
    long st = th_photo_put(&srv, surveyor.token, stored, f.data, f.len, &e);
    th_file_free(&f);
    if (st != 201) {
        fprintf(stderr, "put: %ld %s %s\n", st, e.code, e.message);
        return -1;
    }
    if (th_photo_variant("qinhe-outfall-a-2.jpg", &f, part) < 0) return -1;
    part_len = (int64_t)f.len;
    char path[128], length[64];
    snprintf(path, sizeof path, "/v1/photos/%s", part);
    snprintf(length, sizeof length, "Upload-Length: %zu", f.len);
    const char *create[] = {TUS, length, NULL};
    const char *patch[] = {TUS, "Upload-Offset: 0", "Content-Type: " OCTETS, NULL};
    th_xfer c = {.method = "POST", .path = path, .token = surveyor.token, .headers = create};
    th_xfer p = {.method = "PATCH",
                 .path = path,
                 .token = surveyor.token,
                 .headers = patch,
                 .body = f.data,
                 .len = PART_SENT};
    th_xresult out;
    long created = th_xfer_run(&srv, &c, &out);
    th_response_free(&out.r);
    long patched = created == 201 ? th_xfer_run(&srv, &p, &out) : 0;
    if (created == 201) th_response_free(&out.r);
    th_file_free(&f);
    if (created != 201 || patched != 204) {
        fprintf(stderr, "tus: create %ld, patch %ld\n", created, patched);
        return -1;
    }
    return th_uploads_of(&srv, part) == 1 ? 0 : -1;
}

/* The console folder srv serves: two real files, a link to a file outside it, a folder. */
static int setup_web(void) {
    static const char *const names[] = {"index.html", "app.js", "leak.js", "folder.js"};
    char path[4][128];
    util_strlcpy(web_dir, "/tmp/outfall-web-XXXXXX", sizeof web_dir);
    if (!mkdtemp(web_dir)) return -1;
    for (int i = 0; i < 4; i++)
        snprintf(path[i], sizeof path[i], "%s/%s", web_dir, names[i]);
    return th_write_file(path[0], "<!doctype html>\n", 16) == 0 &&
                   th_write_file(path[1], "export {};\n", 11) == 0 &&
                   symlink("/etc/hostname", path[2]) == 0 && mkdir(path[3], 0700) == 0
               ? 0
               : -1;
}

static void teardown_web(void) {
    static const char *const names[] = {"index.html", "app.js", "leak.js"};
    char path[128];
    if (!web_dir[0]) return;
    for (int i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s/%s", web_dir, names[i]);
        unlink(path);
    }
    snprintf(path, sizeof path, "%s/folder.js", web_dir);
    rmdir(path);
    rmdir(web_dir);
}

static int group_setup(void **state) {
    (void)state;
    const char *divs[] = {DIV, NULL}, *other_divs[] = {OTHER_DIV, NULL};
    const char *args[] = {"--max-body", MAX_BODY, "--max-photo-bytes", MAX_PHOTO, "--web",
                          web_dir,      NULL};
    const char *ttl_args[] = {"--token-ttl", SHORT_TTL, NULL};
    if (setup_web() != 0) {
        fprintf(stderr, "cannot make the console folder %s\n", web_dir);
        return -1;
    }
    if (th_server_start(&srv, args) != 0 || th_server_start(&ttl_srv, ttl_args) != 0) return -1;
    if (th_user_new(&srv, "bad", TH_ROLE(SURVEYOR), divs, &surveyor) != 0 ||
        th_user_new(&srv, "other", TH_ROLE(SURVEYOR), divs, &other) != 0 ||
        th_user_new(&srv, "revoked", TH_ROLE(SURVEYOR), divs, &revoked_owner) != 0 ||
        th_user_new(&srv, "integrator", TH_ROLE(INTEGRATOR), NULL, &integrator) != 0 ||
        th_user_new(&srv, "gone", TH_ROLE(SURVEYOR), divs, &logged_out) != 0 ||
        th_user_new(&srv, "sup", TH_ROLE(SUPERVISOR), divs, &supervisor) != 0 ||
        th_user_new(&srv, "othersup", TH_ROLE(SUPERVISOR), other_divs, &other_supervisor) != 0 ||
        th_user_new(&srv, "far", TH_ROLE(SURVEYOR), other_divs, &far_surveyor) != 0)
        return -1;
    if (th_device_new(&srv, surveyor.token, &dev) != 0 ||
        th_device_new(&srv, other.token, &other_dev) != 0 ||
        th_device_new(&srv, revoked_owner.token, &revoked_dev) != 0)
        return -1;
    if (th_device_revoke(&srv, th_admin_token(&srv), revoked_dev.id, NULL) != 204) return -1;
    if (th_logout(&srv, logged_out.token, NULL) != 204) return -1;

    setup_batch = good_batch(&dev, NULL);
    Outfall__V1__SyncResponse *resp = th_sync_ok(&srv, surveyor.token, setup_batch, TH_PB);
    if (!resp || resp->n_results != 1 ||
        resp->results[0]->status != OUTFALL__V1__CHANGE_STATUS__CHANGE_STATUS_APPLIED)
        return -1;
    util_strlcpy(existing, th_batch_entity(setup_batch, 0), sizeof existing);
    outfall__v1__sync_response__free_unpacked(resp, NULL);
    if (setup_approved() != 0 || setup_photos() != 0) return -1;

    if (th_user_new(&ttl_srv, "ttl", TH_ROLE(SURVEYOR), divs, &ttl_user) != 0) return -1;
    ttl_login_ms = util_now_ms(); /* the token was issued before this */
    return th_device_new(&ttl_srv, ttl_user.token, &ttl_dev);
}

static int group_teardown(void **state) {
    (void)state;
    th_batch_free(setup_batch);
    int a = th_server_stop(&srv), b = th_server_stop(&ttl_srv);
    teardown_web();
    return a || b ? -1 : 0;
}

int main(void) {
    struct CMUnitTest tests[N_ROWS];
    for (size_t i = 0; i < N_ROWS; i++) {
        struct CMUnitTest t = cmocka_unit_test_prestate(run_row, (void *)&catalogue[i]);
        t.name = catalogue[i].name;
        tests[i] = t;
    }
    return cmocka_run_group_tests_name("bad input", tests, group_setup, group_teardown);
}
