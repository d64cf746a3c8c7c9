/* outfallctl's HTTP: protobuf requests over client/http, the server's Error printed on failure, and
 * messages printed as JSON. */
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/http.h"
#include "common/pbjson.h"
#include "outfall/v1/outfall.pb-c.h"
#include "tools/outfallctl/ctl.h"

int ctl_fail(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("outfallctl: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return CTL_FAIL;
}

/* Prints the server's Error from a non-2xx answer, in whichever encoding it came. */
static int ctl_print_error(const client_http_response *r) {
    char code[64], message[256];
    if (client_http_error(r->content_type, r->body.data, r->body.len, code, sizeof code, message,
                          sizeof message) == 0)
        return ctl_fail("%s: %s (HTTP %ld)", code, message, r->status);
    return ctl_fail("the server answered HTTP %ld without an error message", r->status);
}

int ctl_call_raw(const ctl *c, const char *method, const char *path, const void *body, size_t len,
                 const char *signature, const ProtobufCMessageDescriptor *out_desc,
                 ProtobufCMessage **out) {
    char url[2048];
    const char *headers[] = {
        "Accept: " CLIENT_HTTP_PB,
        body ? "Content-Type: " CLIENT_HTTP_PB : "Content-Type:", "Expect:", NULL};
    if (out) *out = NULL;
    snprintf(url, sizeof url, "%s%s", c->server, path);
    client_http_request rq = {.method = method,
                              .url = url,
                              .token = c->token,
                              .signature = signature,
                              .headers = headers,
                              .body = body,
                              .len = len,
                              .timeout_s = 120,
                              .use_proxy = 1};
    client_http_response r = {0};
    int rc = CTL_OK;
    long status = client_http_exchange(NULL, &rq, &r);
    if (status == 0)
        rc = ctl_fail("%s %s: %s", method, url, r.error);
    else if (status < 200 || status > 299)
        rc = ctl_print_error(&r);
    else if (out_desc && out) {
        *out = protobuf_c_message_unpack(out_desc, NULL, r.body.len, r.body.data);
        if (!*out) rc = ctl_fail("the server's answer is not a %s", out_desc->name);
    }
    client_http_response_free(&r);
    return rc;
}

int ctl_call(const ctl *c, const char *method, const char *path, const ProtobufCMessage *req,
             const char *signature, const ProtobufCMessageDescriptor *out_desc,
             ProtobufCMessage **out) {
    uint8_t *body = NULL;
    size_t len = 0;
    if (req) {
        len = protobuf_c_message_get_packed_size(req);
        body = malloc(len + 1);
        if (!body) return ctl_fail("out of memory");
        protobuf_c_message_pack(req, body);
    }
    int rc = ctl_call_raw(c, method, path, body, len, signature, out_desc, out);
    free(body);
    return rc;
}

int ctl_print(const ProtobufCMessage *msg) {
    json_t *j = pbjson_to_json(msg, 0);
    if (!j) return ctl_fail("cannot encode a %s as JSON", msg->descriptor->name);
    int rc = json_dumpf(j, stdout, JSON_INDENT(2)) == 0 ? CTL_OK : CTL_FAIL;
    fputc('\n', stdout);
    json_decref(j);
    return rc;
}
