#include "sync/replay.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

int replay_hash(const ProtobufCMessage *msg, uint8_t hash[32]) {
    size_t n = protobuf_c_message_get_packed_size(msg);
    uint8_t *buf = malloc(n ? n : 1);
    if (!buf) return -1;
    protobuf_c_message_pack(msg, buf);
    crypto_generichash(hash, 32, buf, n, NULL, 0);
    free(buf);
    return 0;
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
