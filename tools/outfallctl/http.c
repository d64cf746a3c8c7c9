/* outfallctl's HTTP: protobuf requests over libcurl, the server's Error printed on failure, and
 * messages printed as JSON. */
#include <curl/curl.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/pbjson.h"
#include "outfall/v1/outfall.pb-c.h"
#include "tools/outfallctl/ctl.h"

#define CTL_PB "application/x-protobuf"

typedef struct ctl_buf {
    uint8_t *data;
    size_t len;
} ctl_buf;

static size_t ctl_write(char *data, size_t size, size_t n, void *user) {
    ctl_buf *b = user;
    size_t add = size * n;
    uint8_t *grown = realloc(b->data, b->len + add + 1);
    if (!grown) return 0;
    memcpy(grown + b->len, data, add);
    b->data = grown;
    b->len += add;
    b->data[b->len] = '\0';
    return add;
}

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
static int ctl_print_error(long status, const char *content_type, const ctl_buf *b) {
    const char *code = NULL, *message = NULL;
    Outfall__V1__Error *pe = NULL;
    json_t *j = NULL;
    if (content_type && strncasecmp(content_type, "application/json", 16) == 0) {
        j = json_loadb((const char *)b->data, b->len, 0, NULL);
        code = json_string_value(json_object_get(j, "code"));
        message = json_string_value(json_object_get(j, "message"));
    } else if (b->len) {
        pe = outfall__v1__error__unpack(NULL, b->len, b->data);
        if (pe) {
            code = pe->code;
            message = pe->message;
        }
    }
    if (code)
        ctl_fail("%s: %s (HTTP %ld)", code, message ? message : "", status);
    else
        ctl_fail("the server answered HTTP %ld without an error message", status);
    if (pe) outfall__v1__error__free_unpacked(pe, NULL);
    json_decref(j);
    return CTL_FAIL;
}

int ctl_call_raw(const ctl *c, const char *method, const char *path, const void *body, size_t len,
                 const char *signature, const ProtobufCMessageDescriptor *out_desc,
                 ProtobufCMessage **out) {
    if (out) *out = NULL;
    CURL *curl = curl_easy_init();
    if (!curl) return ctl_fail("cannot start libcurl");
    char url[2048], line[1024];
    snprintf(url, sizeof url, "%s%s", c->server, path);
    struct curl_slist *h = curl_slist_append(NULL, "Accept: " CTL_PB);
    h = curl_slist_append(h, body ? "Content-Type: " CTL_PB : "Content-Type:");
    h = curl_slist_append(h, "Expect:");
    if (c->token) {
        snprintf(line, sizeof line, "Authorization: Bearer %s", c->token);
        h = curl_slist_append(h, line);
    }
    if (signature) {
        snprintf(line, sizeof line, "X-Device-Signature: %s", signature);
        h = curl_slist_append(h, line);
    }
    ctl_buf resp = {0};
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 120L);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, ctl_write);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &resp);
    if (strcmp(method, "POST") == 0) {
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(body ? len : 0));
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body ? (const char *)body : "");
    } else if (strcmp(method, "GET") != 0) {
        curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
    }
    int rc = CTL_OK;
    long status = 0;
    char *ct = NULL;
    CURLcode cr = curl_easy_perform(curl);
    if (cr != CURLE_OK) {
        rc = ctl_fail("%s %s: %s", method, url, curl_easy_strerror(cr));
        goto out;
    }
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(curl, CURLINFO_CONTENT_TYPE, &ct);
    if (status < 200 || status > 299) {
        rc = ctl_print_error(status, ct, &resp);
        goto out;
    }
    if (out_desc && out) {
        *out = protobuf_c_message_unpack(out_desc, NULL, resp.len, resp.data);
        if (!*out) rc = ctl_fail("the server's answer is not a %s", out_desc->name);
    }
out:
    free(resp.data);
    curl_slist_free_all(h);
    curl_easy_cleanup(curl);
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
