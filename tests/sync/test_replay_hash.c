/* A request's identity (sync/replay.c replay_hash) is hashed as it is packed, never held whole;
 * it must stay BLAKE2b-256 of the bytes protobuf_c_message_pack gives, or a retry sent after an
 * upgrade would no longer match the hash stored on its first try (batch_id_reused,
 * change_id_reused). Checked for messages smaller than, around and much larger than the
 * hashing buffer, and for one field larger than it; and it allocates nothing (an aligned_alloc
 * a change fragmented glibc's heaps: the soak's server grew 38-43 MiB a minute instead of 13). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "outfall/v1/outfall.pb-c.h"
#include "sync/replay.h"

/* BLAKE2b-256 of msg packed whole, the way the identity was computed before. */
static void hash_packed_whole(const ProtobufCMessage *msg, uint8_t out[32]) {
    size_t n = protobuf_c_message_get_packed_size(msg);
    uint8_t *b = malloc(n ? n : 1);
    assert_non_null(b);
    protobuf_c_message_pack(msg, b);
    crypto_generichash(out, 32, b, n, NULL, 0);
    free(b);
}

static void assert_same_identity(const ProtobufCMessage *msg) {
    uint8_t streamed[32], whole[32];
    replay_hash(msg, streamed);
    hash_packed_whole(msg, whole);
    assert_memory_equal(streamed, whole, 32);
}

/* A SyncRequest of n observation changes, each with a note of note_len bytes; free with
 * free_request. */
static Outfall__V1__SyncRequest *make_request(size_t n, size_t note_len) {
    Outfall__V1__SyncRequest *req = calloc(1, sizeof *req);
    assert_non_null(req);
    outfall__v1__sync_request__init(req);
    req->batch_id = strdup("6f1d2c3b-4a59-4e6f-8a7b-9c0d1e2f3a4b");
    req->device_id = strdup("phone-a");
    req->has_device_seq = 1;
    req->device_seq = 7;
    req->has_since = 1;
    req->since = 12;
    req->changes = calloc(n ? n : 1, sizeof *req->changes);
    assert_non_null(req->changes);
    for (size_t i = 0; i < n; i++) {
        Outfall__V1__Change *ch = calloc(1, sizeof *ch);
        Outfall__V1__Observation *o = calloc(1, sizeof *o);
        assert_true(ch && o);
        outfall__v1__change__init(ch);
        outfall__v1__observation__init(o);
        char id[64];
        snprintf(id, sizeof id, "0000%04zx-0000-4000-8000-%012zx", i, i);
        ch->change_id = strdup(id);
        ch->entity_id = strdup(id);
        ch->has_base_version = 1;
        o->outfall_id = strdup("a-outfall");
        o->has_observed_at_ms = 1;
        o->observed_at_ms = 1773454925000 + (int64_t)i;
        o->notes = malloc(note_len + 1);
        assert_non_null(o->notes);
        memset(o->notes, 'a' + (int)(i % 26), note_len);
        o->notes[note_len] = '\0';
        ch->entity_case = OUTFALL__V1__CHANGE__ENTITY_OBSERVATION;
        ch->observation = o;
        req->changes[req->n_changes++] = ch;
    }
    return req;
}

static void free_request(Outfall__V1__SyncRequest *req) {
    protobuf_c_message_free_unpacked(&req->base, NULL);
}

static void an_empty_message_hashes_as_its_packed_bytes(void **state) {
    (void)state;
    Outfall__V1__SyncRequest req = OUTFALL__V1__SYNC_REQUEST__INIT;
    assert_same_identity(&req.base);
}

static void a_small_batch_hashes_as_its_packed_bytes(void **state) {
    (void)state;
    Outfall__V1__SyncRequest *req = make_request(3, 40);
    assert_same_identity(&req->base);
    free_request(req);
}

static void a_batch_of_500_hashes_as_its_packed_bytes(void **state) {
    (void)state;
    Outfall__V1__SyncRequest *req = make_request(500, 700);
    assert_true(protobuf_c_message_get_packed_size(&req->base) > 300 * 1000);
    assert_same_identity(&req->base);
    /* Each change's identity too, as the writer computes it. */
    for (size_t i = 0; i < req->n_changes; i += 97)
        assert_same_identity(&req->changes[i]->base);
    free_request(req);
}

static void a_field_larger_than_the_buffer_hashes_as_its_packed_bytes(void **state) {
    (void)state;
    static const size_t sizes[] = {2048 - 100, 2048, 2048 + 1, 16 * 1024, 100 * 1000};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        Outfall__V1__SyncRequest *req = make_request(2, sizes[i]);
        assert_same_identity(&req->base);
        free_request(req);
    }
}

/* AddressSanitizer's allocator hooks (every test build has them; GCC ships no header for them):
 * malloc_hook is called for every allocation, free_hook for every free. 1 when installed. */
int __sanitizer_install_malloc_and_free_hooks(void (*malloc_hook)(const volatile void *, size_t),
                                              void (*free_hook)(const volatile void *));

/* Allocations made while `counting`. */
static int counting;
static size_t allocations;

static void count_malloc(const volatile void *ptr, size_t size) {
    (void)ptr;
    (void)size;
    if (counting) allocations++;
}

static void count_free(const volatile void *ptr) {
    (void)ptr;
}

static void hashing_allocates_nothing(void **state) {
    (void)state;
    Outfall__V1__SyncRequest *req = make_request(500, 700);
    uint8_t hash[32];
    assert_int_equal(__sanitizer_install_malloc_and_free_hooks(count_malloc, count_free), 1);
    counting = 1;
    replay_hash(&req->base, hash);
    for (size_t i = 0; i < req->n_changes; i++)
        replay_hash(&req->changes[i]->base, hash);
    counting = 0;
    assert_int_equal(allocations, 0);
    free_request(req);
}

int main(void) {
    if (sodium_init() < 0) return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(an_empty_message_hashes_as_its_packed_bytes),
        cmocka_unit_test(a_small_batch_hashes_as_its_packed_bytes),
        cmocka_unit_test(a_batch_of_500_hashes_as_its_packed_bytes),
        cmocka_unit_test(a_field_larger_than_the_buffer_hashes_as_its_packed_bytes),
        cmocka_unit_test(hashing_allocates_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
