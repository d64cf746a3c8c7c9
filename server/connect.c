#include "server/connect.h"

#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/util.h"
#include "outfall/v1/outfall.pb-c.h"

/* Our statuses and the Connect codes they answer as. */
static const struct {
    int status;
    const char *code;
} code_for_status[] = {
    {400, "invalid_argument"},    {401, "unauthenticated"},
    {403, "permission_denied"},   {404, "not_found"},
    {405, "unimplemented"},       {406, "invalid_argument"},
    {408, "deadline_exceeded"},   {409, "aborted"},
    {410, "not_found"},           {411, "invalid_argument"},
    {412, "failed_precondition"}, {413, "resource_exhausted"},
    {415, "invalid_argument"},    {416, "out_of_range"},
    {422, "invalid_argument"},    {423, "failed_precondition"},
    {428, "failed_precondition"}, {429, "resource_exhausted"},
    {501, "unimplemented"},       {503, "unavailable"},
    {504, "deadline_exceeded"},
};

/* The Connect codes and the HTTP status the protocol gives each. */
static const struct {
    const char *code;
    int status;
} status_for_code[] = {
    {"canceled", 499},
    {"unknown", 500},
    {"invalid_argument", 400},
    {"deadline_exceeded", 504},
    {"not_found", 404},
    {"already_exists", 409},
    {"permission_denied", 403},
    {"resource_exhausted", 429},
    {"failed_precondition", 400},
    {"aborted", 409},
    {"out_of_range", 400},
    {"unimplemented", 501},
    {"internal", 500},
    {"unavailable", 503},
    {"data_loss", 500},
    {"unauthenticated", 401},
};

/* The Content-Types of a Connect unary call, by codec. */
static const char *const codec_types[] = {"application/proto", "application/json"};

int connect_is_call(const char *path) {
    return strncmp(path, CONNECT_PATH_PREFIX, strlen(CONNECT_PATH_PREFIX)) == 0;
}

const char *connect_code_for(int status) {
    for (size_t i = 0; i < sizeof code_for_status / sizeof code_for_status[0]; i++)
        if (code_for_status[i].status == status) return code_for_status[i].code;
    return status >= 500 ? "internal" : "unknown";
}

/* The HTTP status the Connect protocol gives code (500 for one it does not name). */
static int connect_status_of(const char *code) {
    for (size_t i = 0; i < sizeof status_for_code / sizeof status_for_code[0]; i++)
        if (strcmp(status_for_code[i].code, code) == 0) return status_for_code[i].status;
    return 500;
}

/* Fills r->err as http_error does and names the Connect code to answer with, keeping status. */
static int protocol_error(http_req *r, int status, const char *connect_code, const char *code,
                          const char *message) {
    r->connect_code = connect_code;
    return http_error(r, status, code, "%s", message);
}

int connect_check_call(http_req *r) {
    const char *ctype = mg_get_header(r->conn, "Content-Type");
    const char *version = mg_get_header(r->conn, "Connect-Protocol-Version");
    const char *encoding = mg_get_header(r->conn, "Content-Encoding");
    int known = 0;
    size_t len = ctype ? strcspn(ctype, ";") : 0;
    while (len > 0 && (ctype[len - 1] == ' ' || ctype[len - 1] == '\t'))
        len--;
    for (size_t i = 0; ctype && i < sizeof codec_types / sizeof codec_types[0]; i++)
        if (strlen(codec_types[i]) == len && strncasecmp(ctype, codec_types[i], len) == 0)
            known = 1;
    if (!known)
        return protocol_error(r, 415, "invalid_argument", "unsupported_media_type",
                              "a Connect call's Content-Type is application/proto or "
                              "application/json");
    if (version && strcmp(version, "1") != 0)
        return protocol_error(r, 400, "invalid_argument", "invalid_argument",
                              "Connect-Protocol-Version must be 1");
    if (encoding && strcasecmp(encoding, "identity") != 0) {
        snprintf(r->headers, sizeof r->headers, "Accept-Encoding: identity\r\n");
        return protocol_error(r, 501, "unimplemented", "unsupported_media_type",
                              "this server takes Connect bodies without compression");
    }
    return 0;
}

/* The text of msg's field f when present (into buf[cap]), else NULL. Only singular integers,
 * doubles, bools, enums (the value's full name) and strings; other fields count as absent. */
static const char *field_text(const ProtobufCMessage *msg, const ProtobufCFieldDescriptor *f,
                              char *buf, size_t cap) {
    const char *base = (const char *)msg;
    const void *value = base + f->offset;
    if (f->label == PROTOBUF_C_LABEL_REPEATED) return NULL;
    if (f->type == PROTOBUF_C_TYPE_STRING) return *(char *const *)value;
    if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->quantifier_offset &&
        !*(const protobuf_c_boolean *)(base + f->quantifier_offset))
        return NULL;
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
        snprintf(buf, cap, "%d", *(const int32_t *)value);
        return buf;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        snprintf(buf, cap, "%lld", (long long)*(const int64_t *)value);
        return buf;
    case PROTOBUF_C_TYPE_BOOL:
        return *(const protobuf_c_boolean *)value ? "1" : "0";
    case PROTOBUF_C_TYPE_DOUBLE:
        snprintf(buf, cap, "%.17g", *(const double *)value);
        return buf;
    case PROTOBUF_C_TYPE_ENUM: {
        const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(
            (const ProtobufCEnumDescriptor *)f->descriptor, *(const int *)value);
        if (v) return v->name;
        snprintf(buf, cap, "%d", *(const int *)value);
        return buf;
    }
    default:
        return NULL;
    }
}

/* The index of name in the comma-separated list (NULL: none), or -1. */
static int path_field_index(const char *list, const char *name) {
    size_t n = strlen(name);
    int index = 0;
    for (const char *p = list; p && *p; index++) {
        size_t len = strcspn(p, ",");
        if (len == n && strncmp(p, name, n) == 0) return index;
        p += len + (p[len] == ',');
    }
    return -1;
}

/* Appends "&name=value" (value URL-encoded) to r->query. Returns 0 or -1 out of memory. */
static int query_append(http_req *r, const char *name, const char *value) {
    size_t cap = strlen(value) * 3 + 1;
    char *encoded = malloc(cap);
    size_t used = r->query ? strlen(r->query) : 0;
    char *grown = encoded ? realloc(r->query, used + strlen(name) + cap + 3) : NULL;
    if (!grown) {
        free(encoded);
        return -1;
    }
    mg_url_encode(value, encoded, cap);
    r->query = grown;
    snprintf(r->query + used, strlen(name) + cap + 3, "%s%s=%s", used ? "&" : "", name, encoded);
    free(encoded);
    return 0;
}

int connect_unpack_request(http_req *r, const ProtobufCMessageDescriptor *desc,
                           const char *path_fields, int body_kept) {
    ProtobufCMessage *in = NULL;
    char number[32];
    int rc = http_decode(r, desc, &in);
    for (unsigned i = 0; rc == 0 && i < desc->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &desc->fields[i];
        const char *text = field_text(in, f, number, sizeof number);
        int index = path_field_index(path_fields, f->name);
        if (index >= HTTP_MAX_PARAMS) index = -1;
        if (index >= 0 && (!text || !text[0] || strlen(text) >= HTTP_PARAM_LEN))
            rc = http_error(r, 400, "invalid_argument", "%s is required (at most %d bytes)",
                            f->name, HTTP_PARAM_LEN - 1);
        else if (index >= 0)
            util_strlcpy(r->params[index], text, HTTP_PARAM_LEN);
        else if (text && !body_kept && query_append(r, f->name, text) < 0)
            rc = http_error(r, 500, "out_of_memory", "out of memory reading the request");
    }
    if (in) protobuf_c_message_free_unpacked(in, NULL);
    return rc;
}

char *connect_error_body(const http_req *r, int status, int *http_status) {
    Outfall__V1__Error detail = OUTFALL__V1__ERROR__INIT;
    const char *code = r->connect_code ? r->connect_code : connect_code_for(status);
    detail.code = r->err.code[0] ? (char *)r->err.code : "internal";
    detail.message = (char *)r->err.message;
    *http_status = r->connect_code ? status : connect_status_of(code);
    size_t len = protobuf_c_message_get_packed_size(&detail.base);
    size_t b64_cap = sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
    uint8_t *packed = malloc(len ? len : 1);
    char *b64 = malloc(b64_cap), *text = NULL;
    json_t *body = NULL;
    if (!packed || !b64) goto done;
    protobuf_c_message_pack(&detail.base, packed);
    sodium_bin2base64(b64, b64_cap, packed, len, sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
    body = json_pack("{s:s, s:s, s:[{s:s, s:s, s:{s:s, s:s}}]}", "code", code, "message",
                     r->err.message, "details", "type", "outfall.v1.Error", "value", b64, "debug",
                     "code", detail.code, "message", r->err.message);
    if (body) text = json_dumps(body, JSON_COMPACT);
done:
    json_decref(body);
    free(packed);
    free(b64);
    return text;
}
