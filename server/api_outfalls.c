/* GET /v1/outfalls (filtered, paged) and GET /v1/outfalls/{id}. */
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "server/api.h"
#include "sync/feed.h"
#include "sync/outfall_ref.h"

/* ?view=latest|approved (absent: the caller's default, see feed.h) into *view. */
static int view_param(http_req *r, int *view) {
    char text[16];
    int rc = http_query(r, "view", text, sizeof text);
    if (rc < 0) return rc;
    *view = !text[0]                            ? FEED_VIEW_DEFAULT
            : strcasecmp(text, "latest") == 0   ? FEED_VIEW_LATEST
            : strcasecmp(text, "approved") == 0 ? FEED_VIEW_APPROVED
                                                : -1;
    if (*view < 0) return http_error(r, 400, "invalid_argument", "view must be latest or approved");
    return 0;
}

/* ?name= of enum d (its value names without prefix, any case, or a number; never the UNSPECIFIED
 * value) into *full_name (the value's full name, borrowed from d; NULL when absent). Returns 0, or
 * the sent 400 invalid_argument naming what is allowed. */
static int enum_filter(http_req *r, const char *name, const ProtobufCEnumDescriptor *d,
                       const char *prefix, const char *allowed, const char **full_name) {
    char text[64];
    int value = 0, rc = http_query(r, name, text, sizeof text);
    *full_name = NULL;
    if (rc < 0 || !text[0]) return rc < 0 ? rc : 0;
    const ProtobufCEnumValue *v = http_enum_parse(d, prefix, text, &value) == 0 && value != 0
                                      ? protobuf_c_enum_descriptor_get_value(d, value)
                                      : NULL;
    if (!v) return http_error(r, 400, "invalid_argument", "%s must be %s", name, allowed);
    *full_name = v->name;
    return 0;
}

/* Whether text (NUL-terminated) is well-formed UTF-8 (shortest forms, no surrogates, at most
 * U+10FFFF) without control characters (below 0x20, or 0x7f). */
static int text_printable(const char *text) {
    const unsigned char *c = (const unsigned char *)text;
    while (*c) {
        unsigned lead = *c, extra = lead < 0x80                    ? 0
                                    : lead >= 0xc2 && lead <= 0xdf ? 1
                                    : lead >= 0xe0 && lead <= 0xef ? 2
                                    : lead >= 0xf0 && lead <= 0xf4 ? 3
                                                                   : 4;
        if (extra == 4 || lead < 0x20 || lead == 0x7f) return 0;
        uint32_t cp = extra ? lead & (0x3fu >> extra) : lead;
        for (unsigned i = 1; i <= extra; i++) {
            if ((c[i] & 0xc0) != 0x80) return 0;
            cp = (cp << 6) | (c[i] & 0x3fu);
        }
        static const uint32_t least[] = {0, 0x80, 0x800, 0x10000};
        if (cp < least[extra] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
        c += extra + 1;
    }
    return 1;
}

/* Whether flag is a flag's shape: 1 to 63 of a-z, 0-9 and '_'. */
static int flag_shaped(const char *flag) {
    size_t n = strspn(flag, "abcdefghijklmnopqrstuvwxyz0123456789_");
    return n > 0 && flag[n] == '\0';
}

/* The inventory's filters q=, type=, stage=, flag=, overdue= into *q (pointing into the buffers
 * given, which outlive it). Returns 0, or the sent 400 invalid_argument. */
static int inventory_filters(http_req *r, outfall_query *q, char text[256], char flag[64]) {
    int64_t overdue = 0;
    int rc;
    if ((rc = http_query(r, "q", text, 256)) < 0 || (rc = http_query(r, "flag", flag, 64)) < 0 ||
        (rc = http_query_int64(r, "overdue", 0, 1, &overdue)) < 0 ||
        (rc = enum_filter(r, "type", &outfall__v1__outfall_type__descriptor, "OUTFALL_TYPE_",
                          "an outfall type such as MINE or OUTFALL_TYPE_MINE, or its number",
                          &q->type_name)) < 0 ||
        (rc = enum_filter(r, "stage", &outfall__v1__lifecycle_stage__descriptor, "LIFECYCLE_STAGE_",
                          "FOUND, TRACED, PLANNED, REMEDIATED, CLOSED, RETAINED or a number",
                          &q->stage_name)) < 0)
        return rc;
    if (text[0] && (strlen(text) > 64 || !text_printable(text)))
        return http_error(r, 400, "invalid_argument",
                          "q must be at most 64 bytes of UTF-8 text without control characters");
    if (flag[0] && !flag_shaped(flag))
        return http_error(r, 400, "invalid_argument",
                          "flag must be a flag's name such as duplicate_suspect");
    q->text = text[0] ? text : NULL;
    q->flag = flag[0] ? flag : NULL;
    q->overdue = (int)overdue;
    return 0;
}

/* ?river=&division=&review_state=&q=&type=&stage=&flag=&overdue=&limit=&page_token=
 * → OutfallList. */
int api_outfalls_list(http_req *r) {
    char river[64], division[16], state[64], token[256], text[256], flag[64];
    int64_t limit = 0;
    outfall_query q = {0};
    Outfall__V1__OutfallList *out = NULL;
    int rc;
    if ((rc = http_query(r, "river", river, sizeof river)) < 0 ||
        (rc = http_query(r, "division", division, sizeof division)) < 0 ||
        (rc = http_query(r, "page_token", token, sizeof token)) < 0 ||
        (rc = http_query(r, "review_state", state, sizeof state)) < 0 ||
        (rc = http_query_int64(r, "limit", 0, INT_MAX, &limit)) < 0)
        return rc;
    if ((rc = view_param(r, &q.view)) < 0) return rc;
    if (state[0] && http_enum_parse(&outfall__v1__review_state__descriptor, "REVIEW_STATE_", state,
                                    &q.review_state) < 0)
        return http_error(r, 400, "invalid_argument",
                          "review_state must be PENDING, APPROVED, REJECTED, RETURNED or a number");
    if ((rc = inventory_filters(r, &q, text, flag)) < 0) return rc;
    q.river_code = river[0] ? river : NULL;
    q.division_code = division[0] ? division : NULL;
    q.page_token = token[0] ? token : NULL;
    q.limit = (int)limit;
    rc = feed_list_outfalls(r->store, &r->who, &q, &out, &r->err);
    if (rc < 0) return rc;
    rc = http_send_message(r, 200, &out->base);
    protobuf_c_message_free_unpacked(&out->base, NULL);
    return rc;
}

/* The outfall {id} (its id or its code) if the caller may see it, in the view asked for →
 * Outfall; else not_found (unknown_outfall_code for a code no outfall has). */
int api_outfalls_read(http_req *r) {
    Outfall__V1__Outfall *out = NULL;
    int view = 0;
    char id[UUID_STR_LEN + 1];
    int rc = view_param(r, &view);
    if (rc < 0) return rc;
    if ((rc = outfall_ref_resolve(r->store, r->params[0], id, &r->err)) < 0) return rc;
    rc = feed_read_outfall_view(r->store, &r->who, id, view, &out, &r->err);
    if (rc < 0) return rc;
    rc = http_send_message(r, 200, &out->base);
    protobuf_c_message_free_unpacked(&out->base, NULL);
    return rc;
}
