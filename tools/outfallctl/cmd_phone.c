/* The field-phone simulator: `device enroll` (a key pair on disk, its public key on the server),
 * `push` (a JSON file of changes as one signed batch) and `pull` (the change feed). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "client/sign.h"
#include "common/pbjson.h"
#include "common/util.h"
#include "outfall/v1/outfall.pb-c.h"
#include "tools/outfallctl/ctl.h"

/* A whole non-negative decimal number, or -1. */
static int64_t parse_count(const char *text) {
    char *end = NULL;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    return errno || end == text || *end || v < 0 ? -1 : (int64_t)v;
}

/* Writes the key pair to a new file at path, mode 0600; an existing file is left alone. */
static int write_key_file(const char *path, const char *device_id, const uint8_t pk[32],
                          const uint8_t sk[64]) {
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0 && errno == EEXIST) return ctl_fail("%s exists; not overwriting a key file", path);
    if (fd < 0) return ctl_fail("%s: %s", path, strerror(errno));
    char *pk64 = util_base64_encode(pk, 32), *sk64 = util_base64_encode(sk, 64);
    json_t *j = json_pack("{s:s, s:s, s:s}", "device_id", device_id, "public_key", pk64 ? pk64 : "",
                          "secret_key", sk64 ? sk64 : "");
    char *text = j ? json_dumps(j, JSON_INDENT(2)) : NULL;
    int rc = CTL_OK;
    size_t len = text ? strlen(text) : 0;
    if (!pk64 || !sk64 || !text || fchmod(fd, 0600) != 0 || write(fd, text, len) != (ssize_t)len ||
        write(fd, "\n", 1) != 1 || fsync(fd) != 0)
        rc = ctl_fail("%s: cannot write the key: %s", path, strerror(errno));
    if (close(fd) != 0 && rc == CTL_OK) rc = ctl_fail("%s: %s", path, strerror(errno));
    if (rc != CTL_OK) unlink(path);
    if (sk64) sodium_memzero(sk64, strlen(sk64));
    if (text) sodium_memzero(text, len);
    free(pk64);
    free(sk64);
    free(text);
    json_decref(j);
    return rc;
}

/* Reads a key file written by `device enroll`: the secret key, and its device id into
 * device_id[cap] ("" when the file names none). */
static int read_key_file(const char *path, uint8_t sk[64], char *device_id, size_t cap) {
    json_error_t jerr;
    json_t *j = json_load_file(path, 0, &jerr);
    if (!j) return ctl_fail("%s: %s", path, jerr.text);
    const char *sk64 = json_string_value(json_object_get(j, "secret_key"));
    const char *id = json_string_value(json_object_get(j, "device_id"));
    int rc = CTL_OK;
    if (!sk64 || util_base64_decode(sk64, strlen(sk64), sk, 64) != 64)
        rc = ctl_fail("%s: no 64-byte secret_key in base64", path);
    snprintf(device_id, cap, "%s", id ? id : "");
    json_decref(j);
    return rc;
}

static int device_enroll(const ctl *c, const char *id, const char *name, const char *key_path) {
    uint8_t pk[32], sk[64];
    client_sign_keypair(pk, sk);
    int rc = write_key_file(key_path, id, pk, sk);
    sodium_memzero(sk, sizeof sk);
    if (rc != CTL_OK) return rc;
    Outfall__V1__Device d = OUTFALL__V1__DEVICE__INIT;
    d.device_id = (char *)id;
    d.name = (char *)name;
    d.has_public_key = 1;
    d.public_key.data = pk;
    d.public_key.len = sizeof pk;
    Outfall__V1__Device *made = NULL;
    rc = ctl_call(c, "POST", "/v1/devices", &d.base, NULL, &outfall__v1__device__descriptor,
                  (ProtobufCMessage **)&made);
    if (rc != CTL_OK) {
        unlink(key_path); /* a key the server never enrolled is of no use */
        return rc;
    }
    rc = ctl_print(made && made->device_id ? &made->base : &d.base);
    if (made) outfall__v1__device__free_unpacked(made, NULL);
    return rc;
}

int cmd_device(const ctl *c, int argc, char **argv) {
    static const struct option opts[] = {
        {"id", required_argument, NULL, 'i'},
        {"name", required_argument, NULL, 'n'},
        {"key", required_argument, NULL, 'k'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *id = NULL, *name = NULL, *key = NULL;
    int opt;
    while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (opt == 'i')
            id = optarg;
        else if (opt == 'n')
            name = optarg;
        else if (opt == 'k')
            key = optarg;
        else if (opt == 'h')
            return ctl_usage(0), CTL_OK;
        else
            return ctl_usage(1);
    }
    if (argc - optind != 1 || strcmp(argv[optind], "enroll") != 0 || !id || !name || !key) {
        fprintf(stderr, "outfallctl: device enroll needs --id ID --name NAME --key FILE\n");
        return ctl_usage(1);
    }
    return device_enroll(c, id, name, key);
}

/* Replaces *field (malloc'd, as in a message from pbjson) with a copy of value. */
static int set_string(char **field, const char *value) {
    char *copy = strdup(value);
    if (!copy) return -1;
    free(*field);
    *field = copy;
    return 0;
}

/* Fills what the file may leave out: batch_id, each change_id, and each create's entity_id. */
static int fill_ids(Outfall__V1__SyncRequest *req) {
    char uuid[UUID_STR_LEN + 1];
    if (!req->batch_id || !*req->batch_id) {
        util_uuid_new(uuid);
        if (set_string(&req->batch_id, uuid)) return -1;
    }
    for (size_t i = 0; i < req->n_changes; i++) {
        Outfall__V1__Change *ch = req->changes[i];
        if (!ch->change_id || !*ch->change_id) {
            util_uuid_new(uuid);
            if (set_string(&ch->change_id, uuid)) return -1;
        }
        int create = !ch->has_base_version || ch->base_version == 0;
        if (create && (!ch->entity_id || !*ch->entity_id)) {
            util_uuid_new(uuid);
            if (set_string(&ch->entity_id, uuid)) return -1;
        }
    }
    return 0;
}

/* Reads FILE.json: a SyncRequest, or an array of Changes wrapped into one. */
static int load_request(const char *path, Outfall__V1__SyncRequest **out) {
    json_error_t jerr;
    json_t *j = json_load_file(path, 0, &jerr);
    if (!j) return ctl_fail("%s:%d: %s", path, jerr.line, jerr.text);
    if (json_is_array(j)) {
        json_t *wrapped = json_pack("{s:o}", "changes", j);
        j = wrapped;
    }
    char err[256];
    ProtobufCMessage *m = NULL;
    int rc = CTL_OK;
    if (!j || !json_is_object(j))
        rc = ctl_fail("%s: neither a SyncRequest object nor an array of changes", path);
    else if (pbjson_from_json(&outfall__v1__sync_request__descriptor, j, &m, err, sizeof err))
        rc = ctl_fail("%s: %s", path, err);
    json_decref(j);
    *out = (Outfall__V1__SyncRequest *)m;
    return rc;
}

static int push(const ctl *c, const char *path, const char *key_path, const char *device,
                int64_t seq, const char *keep_dir) {
    uint8_t sk[64];
    char key_device[256];
    Outfall__V1__SyncRequest *req = NULL;
    uint8_t *body = NULL;
    char *sig64 = NULL;
    int rc = read_key_file(key_path, sk, key_device, sizeof key_device);
    if (rc == CTL_OK) rc = load_request(path, &req);
    if (rc != CTL_OK) goto out;
    if (device && set_string(&req->device_id, device)) goto oom;
    if ((!req->device_id || !*req->device_id) && key_device[0] &&
        set_string(&req->device_id, key_device))
        goto oom;
    if (!req->device_id || !*req->device_id) {
        fprintf(stderr, "outfallctl: push needs --device ID (or a key file naming one)\n");
        rc = CTL_USAGE;
        goto out;
    }
    if (seq > 0) {
        req->has_device_seq = 1;
        req->device_seq = seq;
    } else if (!req->has_device_seq) {
        fprintf(stderr, "outfallctl: push needs --seq N (the device's batch number)\n");
        rc = CTL_USAGE;
        goto out;
    }
    if (fill_ids(req)) goto oom;
    size_t len = 0;
    if (client_sign_batch(req, 0, sk, &body, &len, &sig64) != 0) goto oom;
    Outfall__V1__SyncResponse *resp = NULL;
    rc = ctl_call_raw(c, "POST", "/v1/sync", body, len, sig64,
                      &outfall__v1__sync_response__descriptor, (ProtobufCMessage **)&resp);
    if (rc == CTL_OK) {
        rc = ctl_print(&resp->base);
        /* Kept until durable (docs/sync.md): this batch, and the rule applied to what is kept. */
        if (rc == CTL_OK && keep_dir)
            rc = phone_keep_batch(keep_dir, req->device_seq, body, len, sig64, resp);
        if (rc == CTL_OK && keep_dir) rc = phone_keep_apply(c, keep_dir, resp);
        outfall__v1__sync_response__free_unpacked(resp, NULL);
    }
    goto out;
oom:
    rc = ctl_fail("out of memory");
out:
    sodium_memzero(sk, sizeof sk);
    if (req) protobuf_c_message_free_unpacked(&req->base, NULL);
    free(body);
    free(sig64);
    return rc;
}

int cmd_push(const ctl *c, int argc, char **argv) {
    static const struct option opts[] = {
        {"key", required_argument, NULL, 'k'}, {"device", required_argument, NULL, 'd'},
        {"seq", required_argument, NULL, 's'}, {"keep", required_argument, NULL, 'K'},
        {"help", no_argument, NULL, 'h'},      {NULL, 0, NULL, 0},
    };
    const char *key = NULL, *device = NULL, *keep_dir = NULL;
    int64_t seq = 0;
    int opt;
    while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (opt == 'k')
            key = optarg;
        else if (opt == 'd')
            device = optarg;
        else if (opt == 'K')
            keep_dir = optarg;
        else if (opt == 's' && (seq = parse_count(optarg)) >= 1)
            continue;
        else if (opt == 'h')
            return ctl_usage(0), CTL_OK;
        else {
            if (opt == 's') fprintf(stderr, "outfallctl: --seq takes a number from 1 up\n");
            return ctl_usage(1);
        }
    }
    if (argc - optind != 1 || !key) {
        fprintf(stderr, "outfallctl: push needs FILE.json and --key FILE\n");
        return ctl_usage(1);
    }
    int rc = push(c, argv[optind], key, device, seq, keep_dir);
    return rc == CTL_USAGE ? ctl_usage(1) : rc;
}

int cmd_pull(const ctl *c, int argc, char **argv) {
    static const struct option opts[] = {
        {"since", required_argument, NULL, 's'},
        {"limit", required_argument, NULL, 'l'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int64_t since = 0, limit = -1;
    int opt;
    while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (opt == 's' && (since = parse_count(optarg)) >= 0) continue;
        if (opt == 'l' && (limit = parse_count(optarg)) >= 0) continue;
        if (opt == 'h') return ctl_usage(0), CTL_OK;
        if (opt == 's' || opt == 'l')
            fprintf(stderr, "outfallctl: --%s takes a whole number\n",
                    opt == 's' ? "since" : "limit");
        return ctl_usage(1);
    }
    if (optind != argc) {
        fprintf(stderr, "outfallctl: pull takes no arguments besides --since and --limit\n");
        return ctl_usage(1);
    }
    char path[128];
    int n = snprintf(path, sizeof path, "/v1/changes?since=%lld", (long long)since);
    if (limit >= 0) snprintf(path + n, sizeof path - (size_t)n, "&limit=%lld", (long long)limit);
    Outfall__V1__ChangesResponse *resp = NULL;
    int rc = ctl_call(c, "GET", path, NULL, NULL, &outfall__v1__changes_response__descriptor,
                      (ProtobufCMessage **)&resp);
    if (rc != CTL_OK) return rc;
    rc = ctl_print(&resp->base);
    outfall__v1__changes_response__free_unpacked(resp, NULL);
    return rc;
}
