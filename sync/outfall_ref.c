#include "sync/outfall_ref.h"

#include <stdlib.h>
#include <string.h>

int outfall_ref_resolve(store *s, const char *ref, char id[UUID_STR_LEN + 1], sync_error *err) {
    id[0] = '\0';
    if (ref && util_uuid_valid(ref)) {
        util_strlcpy(id, ref, UUID_STR_LEN + 1);
        return 0;
    }
    size_t len = ref ? strnlen(ref, OUTFALL_REF_MAX + 1) : 0;
    int plain = len > 0 && len <= OUTFALL_REF_MAX;
    for (size_t i = 0; plain && i < len; i++)
        plain = (unsigned char)ref[i] >= 0x20 && ref[i] != 0x7f;
    if (!plain)
        return sync_fail(err, SYNC_ENOTFOUND, "unknown_outfall_code",
                         "no outfall has that id or code: give its id (a UUID) or the code on its "
                         "sign board (at most %d characters)",
                         OUTFALL_REF_MAX);
    sqlite3_stmt *st = store_stmt(s, "SELECT id FROM outfalls WHERE code = ?");
    if (!st) return store_fail(s, SQLITE_ERROR, err);
    sqlite3_bind_text(st, 1, ref, (int)len, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        util_strlcpy(id, (const char *)sqlite3_column_text(st, 0), UUID_STR_LEN + 1);
    sqlite3_reset(st);
    if (rc == SQLITE_ROW) return 0;
    if (rc != SQLITE_DONE) return store_fail(s, rc, err);
    return sync_fail(err, SYNC_ENOTFOUND, "unknown_outfall_code",
                     "no outfall has the code %s (an outfall gets its code when approved)", ref);
}

int outfall_ref_rewrite(store *s, char **field, sync_error *err) {
    if (!*field || !**field || util_uuid_valid(*field)) return 0;
    char id[UUID_STR_LEN + 1];
    int rc = outfall_ref_resolve(s, *field, id, err);
    if (rc) return rc;
    char *copy = strdup(id);
    if (!copy) return sync_fail(err, SYNC_EINTERNAL, "out_of_memory", "out of memory");
    free(*field);
    *field = copy;
    return 0;
}
