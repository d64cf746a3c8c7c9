#include "sync/replay.h"

#include <sodium.h>
#include <string.h>

/* A protobuf-c output that hashes what it is given instead of keeping it, through a small
 * buffer so that the hash sees few large pieces rather than many tags and lengths. */
typedef struct {
    ProtobufCBuffer base;
    crypto_generichash_state state;
    size_t held;
    uint8_t buf[2048];
} hash_sink;

static void hash_sink_flush(hash_sink *h) {
    crypto_generichash_update(&h->state, h->buf, h->held);
    h->held = 0;
}

static void hash_sink_append(ProtobufCBuffer *b, size_t len, const uint8_t *data) {
    hash_sink *h = (hash_sink *)b;
    if (h->held + len > sizeof h->buf) hash_sink_flush(h);
    if (len >= sizeof h->buf) {
        crypto_generichash_update(&h->state, data, len);
        return;
    }
    memcpy(h->buf + h->held, data, len);
    h->held += len;
}

/* The packed bytes are hashed as they are made, never held whole: a batch of 500 observations
 * packed into one block of about 400 KB, a fresh mapping faulted in page by page. The sink lives
 * on the stack (2 KiB of buffer; a change packs to about 800 bytes): an aligned_alloc of it for
 * each change and batch split glibc's heaps into fragments never given back (the soak's server
 * grew 38-43 MiB a minute instead of 13, a quarter of its heap in use). */
void replay_hash(const ProtobufCMessage *msg, uint8_t hash[32]) {
    hash_sink h = {.base.append = hash_sink_append};
    crypto_generichash_init(&h.state, NULL, 0, 32);
    protobuf_c_message_pack_to_buffer(msg, &h.base);
    hash_sink_flush(&h);
    crypto_generichash_final(&h.state, hash, 32);
}

int replay_find(store *s, const char *sql, const char *id, const uint8_t hash[32],
                const ProtobufCMessageDescriptor *desc, ProtobufCMessage **out,
                const char *reused_code, sync_error *err) {
    *out = NULL;
    sqlite3_stmt *st = store_stmt(s, sql);
    if (!st) return store_fail(s, SQLITE_ERROR, err);
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        sqlite3_reset(st);
        return rc == SQLITE_DONE ? 0 : store_fail(s, rc, err);
    }
    int same =
        sqlite3_column_bytes(st, 0) == 32 && memcmp(sqlite3_column_blob(st, 0), hash, 32) == 0;
    if (same)
        *out = protobuf_c_message_unpack(desc, NULL, (size_t)sqlite3_column_bytes(st, 1),
                                         sqlite3_column_blob(st, 1));
    sqlite3_reset(st);
    if (!same)
        return sync_fail(err, SYNC_ECONFLICT, reused_code,
                         "%s was used before for different content", id);
    if (!*out)
        return sync_fail(err, SYNC_EINTERNAL, "storage_error", "a stored answer is unreadable");
    return 1;
}
