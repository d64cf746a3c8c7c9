/* Section 7 of the issue, "Bad input": every bad input gets its stable error (or, for a change,
 * its REJECTED reason) and leaves the database as it was, proven by a checksum of a dump taken
 * before and after. One table, one test per row. */
#include <math.h>
#include <setjmp.h>
#include <sodium.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "common/pbjson.h"
#include "common/util.h"
#include "tests/lib/harness.h"

#define DIV "410802"
#define MAX_BODY "16384"
#define SHORT_TTL "3"
#define SHORT_TTL_S 3

static th_server srv;     /* --max-body 16 KiB */
static th_server ttl_srv; /* --token-ttl 3: for the expired token */
static th_user surveyor, other, revoked_owner, integrator, logged_out, ttl_user;
static th_device dev, other_dev, revoked_dev, ttl_dev;
static char existing[37];     /* an outfall at version 1, in DIV */
static th_batch *setup_batch; /* the batch that created it (device seq 1) */
static int64_t ttl_login_ms;

/* One attempt: what a row sends. Owned pieces are freed by attempt_free. */
typedef struct attempt {
    th_server *srv;
    const char *token;
    const char *content_type;
    const char *accept;
    char *signature; /* malloc'd, or NULL for none */
    uint8_t *body;   /* malloc'd */
    size_t len;
    const char *headers[4];
    th_batch *batch; /* when the body is a batch of dev's */
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

/* The catalogue: input → expected status and code (Error.code, or the REJECTED reason on 200). */
typedef struct bad_input {
    const char *name;
    void (*make)(attempt *);
    long status;
    const char *code;
} bad_input;

static const bad_input catalogue[] = {
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
};
#define N_ROWS (sizeof catalogue / sizeof *catalogue)

static void attempt_free(attempt *a) {
    free(a->signature);
    free(a->body);
    th_batch_free(a->batch);
}

static void run_row(void **state) {
    const bad_input *row = *state;
    attempt a = {.srv = &srv, .token = surveyor.token};
    row->make(&a);
    int level = row->status == 200 ? TH_STATE : TH_ALL;
    th_sum before = th_db_checksum(a.srv->data, level);

    char sig[256];
    const char *headers[6] = {NULL};
    int nh = 0;
    if (a.signature) {
        snprintf(sig, sizeof sig, "X-Device-Signature: %s", a.signature);
        headers[nh++] = sig;
    }
    for (int i = 0; i < 4 && a.headers[i]; i++)
        headers[nh++] = a.headers[i];
    th_request rq = {.method = "POST",
                     .path = "/v1/sync",
                     .content_type = a.content_type,
                     .accept = a.accept,
                     .token = a.token,
                     .headers = headers,
                     .body = a.body,
                     .len = a.len};
    th_response resp;
    long st = th_http(a.srv, &rq, &resp);
    th_sum after = th_db_checksum(a.srv->data, level);
    if (st != row->status)
        print_message("%s: got %ld %.*s\n", row->name, st, (int)(resp.len < 300 ? resp.len : 300),
                      (const char *)resp.body);
    assert_int_equal(st, row->status);

    if (row->status != 200) {
        th_error e;
        assert_int_equal(th_error_decode(&resp, &e), 0);
        assert_string_equal(e.code, row->code);
        assert_true(e.message[0] != '\0');
        if (a.accept && strcmp(row->code, "not_acceptable") != 0)
            assert_int_equal(th_is_json(resp.content_type), th_is_json(a.accept));
    } else {
        Outfall__V1__SyncResponse *sr = NULL;
        if (th_is_json(resp.content_type)) {
            char err[128];
            pbjson_decode(&outfall__v1__sync_response__descriptor, (const char *)resp.body,
                          resp.len, (ProtobufCMessage **)&sr, err, sizeof err);
        } else {
            sr = outfall__v1__sync_response__unpack(NULL, resp.len, resp.body);
        }
        assert_non_null(sr);
        assert_int_equal(sr->n_results, 1);
        const Outfall__V1__ChangeResult *r = sr->results[0];
        print_message("%s: %s %s (%s)\n", row->name, th_status_name(r->status), TH_S(r->reason),
                      TH_S(r->message));
        assert_string_equal(th_status_name(r->status), "REJECTED");
        assert_string_equal(TH_S(r->reason), row->code);
        outfall__v1__sync_response__free_unpacked(sr, NULL);
        if (a.batch && th_batch_req(a.batch)->device_seq == dev.next_seq) dev.next_seq++;
    }
    assert_string_equal(before.hex, after.hex);
    th_response_free(&resp);
    attempt_free(&a);
}

static int group_setup(void **state) {
    (void)state;
    const char *divs[] = {DIV, NULL};
    const char *args[] = {"--max-body", MAX_BODY, NULL};
    const char *ttl_args[] = {"--token-ttl", SHORT_TTL, NULL};
    if (th_server_start(&srv, args) != 0 || th_server_start(&ttl_srv, ttl_args) != 0) return -1;
    if (th_user_new(&srv, "bad", TH_ROLE(SURVEYOR), divs, &surveyor) != 0 ||
        th_user_new(&srv, "other", TH_ROLE(SURVEYOR), divs, &other) != 0 ||
        th_user_new(&srv, "revoked", TH_ROLE(SURVEYOR), divs, &revoked_owner) != 0 ||
        th_user_new(&srv, "integrator", TH_ROLE(INTEGRATOR), NULL, &integrator) != 0 ||
        th_user_new(&srv, "gone", TH_ROLE(SURVEYOR), divs, &logged_out) != 0)
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

    if (th_user_new(&ttl_srv, "ttl", TH_ROLE(SURVEYOR), divs, &ttl_user) != 0) return -1;
    ttl_login_ms = util_now_ms(); /* the token was issued before this */
    return th_device_new(&ttl_srv, ttl_user.token, &ttl_dev);
}

static int group_teardown(void **state) {
    (void)state;
    th_batch_free(setup_batch);
    int a = th_server_stop(&srv), b = th_server_stop(&ttl_srv);
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
