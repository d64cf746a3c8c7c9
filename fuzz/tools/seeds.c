/* Writes the seed corpora of the fuzz targets: `make fuzz-seeds` (build/fuzz/seeds fuzz/corpus
 * PHOTOS_DIR). The seeds are small and name the fuzz world's fixed records, users and phone
 * (fuzz/lib/fuzz_env.h), so mutations start from requests the server takes. What it writes is
 * committed; run it again after changing it or the contract. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/pbjson.h"
#include "fuzz/lib/fuzz_env.h"

static const char *root;
static uint8_t photo[65536 + 8]; /* the first fixture cut small: the tus seeds' photo */
static size_t photo_len;

static void put(const char *target, const char *name, const void *data, size_t len) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", root, target);
    if (mkdir(path, 0755) < 0 && errno != EEXIST) {
        perror(path);
        exit(1);
    }
    snprintf(path, sizeof path, "%s/%s/%s", root, target, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
        perror(path);
        exit(1);
    }
}

static void put_text(const char *target, const char *name, const char *text) {
    put(target, name, text, strlen(text));
}

/* json as a message of type desc, packed; malloc'd into *len. */
static uint8_t *packed(const ProtobufCMessageDescriptor *desc, const char *json, size_t *len) {
    ProtobufCMessage *m = NULL;
    char why[256];
    if (pbjson_decode(desc, json, strlen(json), &m, why, sizeof why) < 0) {
        fprintf(stderr, "seed for %s does not decode: %s\n%s\n", desc->name, why, json);
        exit(1);
    }
    *len = protobuf_c_message_get_packed_size(m);
    uint8_t *buf = malloc(*len + 1);
    protobuf_c_message_pack(m, buf);
    protobuf_c_message_free_unpacked(m, NULL);
    return buf;
}

#define UUID(n) "00000000-0000-4000-8000-0000000" n
/* SyncRequests: what phones send. */
static const struct {
    const char *name;
    const char *json;
} batches[] = {
    {"create",
     "{\"batchId\":\"" UUID(
         "10001") "\",\"deviceId\":\"" FZ_DEVICE "\",\"deviceSeq\":"
                  "\"3\",\"since\":\"0\",\"changes\":[{\"changeId\":\"" UUID(
                      "20001") "\","
                               "\"entityId\":\"" UUID(
                                   "30001") "\",\"baseVersion\":\"0\",\"clientTimeMs\":"
                                            "\"1700000000000\",\"outfall\":{\"name\":\"新排口\","
                                            "\"type\":"
                                            "\"OUTFALL_TYPE_MUNICIPAL_WWTP\",\"riverCode\":"
                                            "\"qinhe\",\"divisionCode\":"
                                            "\"" FZ_DIVISION "\",\"lat\":35.2,\"lon\":113.1,"
                                            "\"accuracyM\":4.5,\"entryMethod\":"
                                            "\"ENTRY_METHOD_PIPE\",\"dischargeRegime\":\"DISCHARGE_"
                                            "REGIME_CONTINUOUS\","
                                            "\"landmark\":\"闸口\",\"surveyLevel\":\"SURVEY_LEVEL_"
                                            "WALK\",\"responsibleParty\":"
                                            "{\"name\":\"某厂\",\"creditCode\":"
                                            "\"91410800MA0000000X\",\"phone\":\"13800000000\"}}}]"
                                            "}"},
    {"duplicate",
     "{\"batchId\":\"" UUID(
         "10002") "\",\"deviceId\":\"" FZ_DEVICE "\",\"deviceSeq\":"
                  "\"3\",\"changes\":[{\"changeId\":\"" UUID(
                      "20002") "\",\"entityId\":"
                               "\"" UUID("30002") "\",\"baseVersion\":\"0\",\"outfall\":{"
                                                  "\"riverCode\":\"qinhe\","
                                                  "\"divisionCode\":\"" FZ_DIVISION
                                                  "\",\"lat\":35.08625,\"lon\":112.95124}}]}"},
    {"edit-fast-forward",
     "{\"batchId\":\"" UUID("10003") "\",\"deviceId\":\"" FZ_DEVICE "\","
                                     "\"deviceSeq\":\"3\",\"changes\":[{\"changeId\":\"" UUID(
                                         "20003") "\","
                                                  "\"entityId\":\"" FZ_OUTFALL
                                                  "\",\"baseVersion\":\"2\",\"outfall\":"
                                                  "{\"landmark\":\"旧桥\",\"lat\":35.0863}}]}"},
    {"edit-conflict",
     "{\"batchId\":\"" UUID("10004") "\",\"deviceId\":\"" FZ_DEVICE "\","
                                     "\"deviceSeq\":\"3\",\"changes\":[{\"changeId\":\"" UUID(
                                         "20004") "\","
                                                  "\"entityId\":\"" FZ_OUTFALL
                                                  "\",\"baseVersion\":\"1\",\"outfall\":"
                                                  "{\"landmark\":\"别处\",\"name\":\"改名\","
                                                  "\"responsibleParty\":{\"name\":"
                                                  "\"某公司\"}}}]}"},
    {"observation",
     "{\"batchId\":\"" UUID(
         "10005") "\",\"deviceId\":\"" FZ_DEVICE "\","
                  "\"deviceSeq\":\"3\",\"changes\":[{\"changeId\":\"" UUID(
                      "20005") "\","
                               "\"entityId\":\"" UUID(
                                   "30005") "\",\"baseVersion\":\"0\",\"observation\":"
                                            "{\"outfallId\":\"" FZ_OUTFALL
                                            "\",\"observedAtMs\":\"1700000100000\",\"lat\":"
                                            "35.08621,\"lon\":112.95124,\"flowing\":true,"
                                            "\"colour\":\"黑\",\"odour\":\"臭\","
                                            "\"codMgL\":120.5,\"ph\":7.2,\"oilFilm\":false,"
                                            "\"photos\":[{\"hash\":"
                                            "\"" FZ_PHOTO "\",\"kind\":\"PHOTO_KIND_NEAR\"},{"
                                            "\"hash\":\"ab" FZ_PHOTO "\"}]}}]}"},
    {"held", "{\"batchId\":\"" UUID("10006") "\",\"deviceId\":\"" FZ_DEVICE "\",\"deviceSeq\":"
                                             "\"5\",\"changes\":[{\"changeId\":\"" UUID(
                                                 "20006") "\",\"entityId\":\"" FZ_OUTFALL_2
                                                          "\",\"baseVersion\":\"1\",\"outfall\":{"
                                                          "\"type\":\"OUTFALL_TYPE_OTHER\"}}]}"},
    {"replay", "{\"batchId\":\"00000000-0000-4000-8000-0000000000a2\",\"deviceId\":\"" FZ_DEVICE
               "\",\"deviceSeq\":\"2\",\"changes\":[{\"changeId\":\"00000000-0000-4000-8000-"
               "0000000000c4\",\"entityId\":\"" FZ_OUTFALL "\",\"baseVersion\":\"1\",\"outfall\":"
               "{\"landmark\":\"新桥\"}}]}"},
    {"rejections",
     "{\"batchId\":\"" UUID(
         "10008") "\",\"deviceId\":\"" FZ_DEVICE "\","
                  "\"deviceSeq\":\"3\",\"pullLimit\":2,\"changes\":["
                  "{\"changeId\":\"" UUID("20081") "\",\"entityId\":\"" UUID(
                      "30081") "\","
                               "\"baseVersion\":\"0\",\"outfall\":{\"riverCode\":\"qinhe\","
                               "\"divisionCode\":"
                               "\"" FZ_OTHER_DIVISION "\",\"lat\":35.3,\"lon\":113.3}},"
                               "{\"changeId\":\"" UUID("20082") "\",\"entityId\":\"" UUID(
                                   "30082") "\","
                                            "\"baseVersion\":\"0\",\"outfall\":{\"riverCode\":"
                                            "\"qinhe\",\"divisionCode\":"
                                            "\"" FZ_DIVISION
                                            "\",\"lat\":\"NaN\",\"lon\":113.3,\"version\":\"4\"}},"
                                            "{\"changeId\":\"00000000-0000-4000-8000-"
                                            "0000000000c1\",\"entityId\":"
                                            "\"" FZ_OUTFALL "\",\"baseVersion\":\"9\",\"outfall\":{"
                                            "\"name\":\"x\"}},"
                                            "{\"changeId\":\"" UUID(
                                                "20084") "\",\"entityId\":"
                                                         "\"" UUID("30084") "\","
                                                                            "\"baseVe"
                                                                            "rsion\":"
                                                                            "\"3\","
                                                                            "\"observ"
                                                                            "ation\":"
                                                                            "{\"outfa"
                                                                            "llId\":"
                                                                            "\"" UUID(
                                                                                "3009"
                                                                                "9") "\"}}]}"},
};

static void sync_seeds(void) {
    for (size_t i = 0; i < sizeof batches / sizeof batches[0]; i++) {
        size_t len;
        uint8_t *b = packed(&outfall__v1__sync_request__descriptor, batches[i].json, &len);
        put("sync", batches[i].name, b, len);
        free(b);
    }
}

/* "<type>\n<json>" for the JSON mapping, and one wire-bytes seed. */
static void pbjson_seeds(void) {
    static const struct {
        const char *name, *type, *json;
    } seeds[] = {
        {"login", "outfall.v1.LoginRequest", "{\"username\":\"li.wei\",\"password\":\"secret\"}"},
        {"user", "outfall.v1.User",
         "{\"username\":\"li\",\"password\":\"pw-123456789\",\"role\":\"ROLE_SURVEYOR\","
         "\"divisions\":[\"410882\",\"410803\"],\"disabled\":false}"},
        {"device", "outfall.v1.Device",
         "{\"deviceId\":\"phone-1\",\"name\":\"Li's phone\",\"publicKey\":"
         "\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\"}"},
        {"decision", "outfall.v1.Decision",
         "{\"decisionId\":\"" UUID(
             "40001") "\",\"kind\":\"DECISION_KIND_RESOLVE_CONFLICT\","
                      "\"outfallId\":\"" FZ_OUTFALL "\",\"baseVersion\":\"2\",\"comment\":\"ok\","
                      "\"resolutions\":[{\"conflictId\":\"1\",\"choice\":\"RESOLUTION_CHOICE_ENTER_"
                      "VALUE\","
                      "\"value\":\"\\\"x\\\"\"}],\"duplicateId\":\"3\",\"survivorId\":\"" FZ_OUTFALL
                      "\"}"},
        {"feed", "outfall.v1.ChangesResponse",
         "{\"feed\":[{\"seq\":\"1\",\"outfall\":{\"id\":\"a\",\"version\":\"9007199254740993\","
         "\"lat\":-0.0,\"lon\":1e-320,\"accuracyM\":\"Infinity\",\"flags\":[\"x\"]}},"
         "{\"seq\":\"-2\",\"redirect\":{\"fromId\":\"a\",\"toId\":\"b\"}}],\"nextCursor\":\"3\","
         "\"more\":true}"},
        {"proto-names", "outfall.v1.Observation",
         "{\"outfall_id\":\"x\",\"observed_at_ms\":1700000000000,\"cod_mg_l\":1.5,"
         "\"photos\":[{\"hash\":\"ab\",\"kind\":3}],\"flowing\":null}"},
        {"history", "outfall.v1.OutfallHistory",
         "{\"outfallId\":\"x\",\"changes\":[{\"field\":\"lat\",\"value\":\"35.1\",\"version\":"
         "\"1\"}],"
         "\"sinceApproved\":[{\"field\":\"name\",\"approvedValue\":\"null\"}],\"mergedIds\":[\"y\"]"
         "}"},
        {"queue", "outfall.v1.ReviewQueue",
         "{\"items\":[{\"kind\":\"REVIEW_ITEM_KIND_DUPLICATE\",\"duplicate\":{\"id\":\"1\","
         "\"distanceM\":12.5,\"neighbour\":{\"id\":\"n\"}}}],\"counts\":[{\"kind\":1,"
         "\"count\":\"4\"}]}"},
        {"sync-request", "outfall.v1.SyncRequest", NULL}, /* batches[0] */
    };
    for (size_t i = 0; i < sizeof seeds / sizeof seeds[0]; i++) {
        char *text = NULL;
        const char *json = seeds[i].json ? seeds[i].json : batches[0].json;
        if (asprintf(&text, "%s\n%s", seeds[i].type, json) < 0) exit(1);
        put_text("pbjson", seeds[i].name, text);
        free(text);
    }
    size_t len;
    uint8_t *b = packed(&outfall__v1__sync_request__descriptor, batches[4].json, &len);
    const char head[] = "outfall.v1.SyncRequest\n";
    uint8_t *both = malloc(sizeof head - 1 + len);
    memcpy(both, head, sizeof head - 1);
    memcpy(both + sizeof head - 1, b, len);
    put("pbjson", "sync-request-wire", both, sizeof head - 1 + len);
    free(both);
    free(b);
}

static void be32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8),
    p[3] = (uint8_t)v;
}

static void be16(uint8_t *p, unsigned v) {
    p[0] = (uint8_t)(v >> 8), p[1] = (uint8_t)v;
}

/* A PNG chunk (CRC left zero: nothing here checks it) at out + n; returns the new length. */
static size_t chunk(uint8_t *out, size_t n, const char *type, const void *data, size_t len) {
    be32(out + n, (uint32_t)len);
    memcpy(out + n + 4, type, 4);
    if (len) memcpy(out + n + 8, data, len);
    memset(out + n + 8 + len, 0, 4);
    return n + 12 + len;
}

/* An ISO BMFF box at out + n; returns the new length. */
static size_t box(uint8_t *out, size_t n, const char *type, const void *data, size_t len) {
    be32(out + n, (uint32_t)(8 + len));
    memcpy(out + n + 4, type, 4);
    memcpy(out + n + 8, data, len);
    return n + 8 + len;
}

/* A big-endian TIFF block: IFD0 with Make and a GPS IFD (N 35°5'12.34", E 112°57'4.56",
 * 120 m, date and time stamps). Returns its length. */
static size_t tiff_with_gps(uint8_t *t) {
    memset(t, 0, 256);
    memcpy(t, "MM\0\x2a", 4);
    be32(t + 4, 8);
    /* IFD0 at 8: 2 entries, next 0; Make's text at 38; the GPS IFD at 44. */
    be16(t + 8, 2);
    be16(t + 10, 0x010f), be16(t + 12, 2), be32(t + 14, 6), be32(t + 18, 38);
    be16(t + 22, 0x8825), be16(t + 24, 4), be32(t + 26, 1), be32(t + 30, 44);
    be32(t + 34, 0);
    memcpy(t + 38, "Fuzz\0\0", 6);
    /* GPS IFD at 44: 7 entries (2 + 7 * 12 + 4 = 90 bytes), values from 134. */
    static const struct {
        unsigned tag, type;
        uint32_t count;
    } e[] = {{1, 2, 2}, {2, 5, 3}, {3, 2, 2}, {4, 5, 3}, {6, 5, 1}, {7, 5, 3}, {29, 2, 11}};
    size_t at = 134;
    be16(t + 44, 7);
    for (size_t i = 0; i < 7; i++) {
        uint8_t *p = t + 46 + 12 * i;
        be16(p, e[i].tag), be16(p + 2, e[i].type), be32(p + 4, e[i].count);
        if (e[i].tag == 1)
            memcpy(p + 8, "N", 2);
        else if (e[i].tag == 3)
            memcpy(p + 8, "E", 2);
        else {
            be32(p + 8, (uint32_t)at);
            at += e[i].type == 5 ? 8 * e[i].count : e[i].count;
        }
    }
    be32(t + 46 + 12 * 7, 0);
    static const uint32_t rationals[] = {35,  1,   5,   1, 1234, 100, 112, 1, 57, 1,
                                         456, 100, 120, 1, 3,    1,   4,   1, 5,  1};
    for (size_t i = 0; i < sizeof rationals / sizeof rationals[0]; i++)
        be32(t + 134 + 4 * i, rationals[i]);
    memcpy(t + 134 + 80, "2024:05:01", 11);
    return 134 + 80 + 11;
}

/* The fixture photos cut small: every segment up to the scan kept (EXIF included), the scan
 * shortened to a few bytes, then the end marker. */
static void exif_seeds(const char *photos) {
    static const char *const names[] = {
        "qinhe-outfall-a-1.jpg", "far-from-claimed-site.jpg", "no-gps.jpg",
        "no-exif.jpg",           "not-an-image.jpg",          "truncated.jpg"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char path[512];
        snprintf(path, sizeof path, "%s/%s", photos, names[i]);
        FILE *f = fopen(path, "rb");
        if (!f) {
            perror(path);
            exit(1);
        }
        static uint8_t buf[1 << 20];
        size_t n = fread(buf, 1, sizeof buf, f);
        fclose(f);
        size_t keep = n;
        for (size_t k = 2; k + 4 <= n && buf[0] == 0xFF && buf[1] == 0xD8;) {
            if (buf[k] != 0xFF) break;
            size_t seg = (size_t)buf[k + 2] << 8 | buf[k + 3];
            if (buf[k + 1] == 0xDA) {
                keep = k + 2 + seg;
                break;
            }
            k += 2 + seg;
        }
        if (strcmp(names[i], "truncated.jpg") == 0 && keep > 4096) keep = 4096;
        if (keep > 65536) keep = 65536;
        uint8_t *out = malloc(keep + 8);
        memcpy(out, buf, keep);
        size_t len = keep;
        if (keep < n && strcmp(names[i], "truncated.jpg") != 0) {
            static const uint8_t scan_end[] = {0x12, 0x34, 0xFF, 0x00, 0x56, 0xFF, 0xD9};
            memcpy(out + len, scan_end, sizeof scan_end);
            len += sizeof scan_end;
        }
        char name[128];
        snprintf(name, sizeof name, "%.*s", (int)(strlen(names[i]) - 4), names[i]);
        put("exif", name, out, len);
        if (i == 0 && len <= sizeof photo) {
            memcpy(photo, out, len);
            photo_len = len;
        }
        free(out);
    }
    /* A PNG with an eXIf chunk (the bare TIFF block), and a HEIC whose EXIF item is in mdat. */
    uint8_t tiff[256];
    size_t tl = tiff_with_gps(tiff);
    uint8_t png[512];
    size_t n = 0;
    memcpy(png, "\x89PNG\r\n\x1a\n", 8);
    n = 8;
    static const uint8_t ihdr[13] = {0, 0, 0, 4, 0, 0, 0, 3, 8, 2, 0, 0, 0};
    n = chunk(png, n, "IHDR", ihdr, sizeof ihdr);
    n = chunk(png, n, "eXIf", tiff, tl);
    n = chunk(png, n, "IEND", NULL, 0);
    put("exif", "png-exif", png, n);

    uint8_t heic[512];
    n = 0;
    static const uint8_t ftyp[16] = {'h', 'e', 'i', 'c', 0,   0,   0,   0,
                                     'm', 'i', 'f', '1', 'h', 'e', 'i', 'c'};
    n = box(heic, n, "ftyp", ftyp, sizeof ftyp);
    static const uint8_t meta[24] = {0, 0, 0, 0, 0, 0, 0,    20,   'i', 's', 'p',  'e',
                                     0, 0, 0, 0, 0, 0, 0x0f, 0xc0, 0,   0,   0x0b, 0xd0};
    n = box(heic, n, "meta", meta, sizeof meta);
    uint8_t item[300];
    memcpy(item, "Exif\0\0", 6);
    memcpy(item + 6, tiff, tl);
    n = box(heic, n, "mdat", item, 6 + tl);
    put("exif", "heic-exif", heic, n);
}

/* Requests: "METHOD TARGET\nheaders\n\nbody" (fake_conn.h), one or more per route. */
static void http_seeds(void) {
    static const struct {
        const char *name, *text;
    } seeds[] = {
        {"healthz", "GET /healthz\nAccept: application/json\n\n"},
        {"login-json", "POST /v1/auth/login\nContent-Type: application/json\nAccept: application/"
                       "json\n\n{\"username\":\"fz.integrator\",\"password\":\"wrong-password\"}"},
        {"logout",
         "POST /v1/auth/logout\nAuthorization: @other\nContent-Type: application/json\n\n"},
        {"users-list", "GET /v1/users\nAuthorization: @admin\nAccept: application/json; q=0.5, "
                       "application/x-protobuf;q=0.9\n\n"},
        {"users-create", "POST /v1/users\nAuthorization: @admin\nContent-Type: application/json\n\n"
                         "{\"username\":\"x\",\"password\":\"short\",\"role\":\"ROLE_ADMIN\"}"},
        {"device-enroll", "POST /v1/devices\nAuthorization: @surveyor\nContent-Type: application/"
                          "json\n\n{\"deviceId\":\"phone-9\",\"name\":\"n\",\"publicKey\":"
                          "\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\"}"},
        {"device-revoke", "DELETE /v1/devices/" FZ_OTHER_DEVICE "\nAuthorization: @admin\n\n"},
        {"sync-json", "POST /v1/sync\nAuthorization: @surveyor\nContent-Type: application/json\n"
                      "X-Device-Signature: @sign\nAccept: */*\n\n" /* body follows */},
        {"sync-other-device",
         "POST /v1/sync\nAuthorization: @surveyor\nContent-Type: application/"
         "json\nX-Device-Signature: @other\n\n{\"batchId\":\"" UUID(
             "10009") "\",\"deviceId\":\"" FZ_OTHER_DEVICE "\",\"deviceSeq\":\"1\"}"},
        {"changes", "GET /v1/changes?since=0&limit=5\nAuthorization: @integrator\n\n"},
        {"changes-bad", "GET /v1/changes?since=-1&limit=99999999999999999999\nAuthorization: "
                        "@surveyor\n\n"},
        {"outfalls", "GET /v1/outfalls?river=qinhe&division=410882&review_state=PENDING&limit=1&"
                     "view=latest\nAuthorization: @supervisor\nAccept: application/json\n\n"},
        {"outfalls-page", "GET /v1/outfalls?limit=1&page_token=" FZ_OUTFALL "&review_state=2\n"
                          "Authorization: @integrator\n\n"},
        {"outfall", "GET /v1/outfalls/" FZ_OUTFALL "?view=approved\nAuthorization: @other\n\n"},
        {"outfall-encoded", "GET /v1/outfalls/%30%30000000-0000-4000-8000-00000000f001\n"
                            "Authorization: @surveyor\n\n"},
        {"history", "GET /v1/outfalls/" FZ_OUTFALL "/history\nAuthorization: @supervisor\n\n"},
        {"observation", "GET /v1/observations/" FZ_OBSERVATION "\nAuthorization: @surveyor\n\n"},
        {"queue", "GET /v1/review/queue?kind=pending&division=410882&river=qinhe&limit=2&"
                  "page_token=abc\nAuthorization: @supervisor\nAccept: application/json\n\n"},
        {"decide",
         "POST /v1/review/decisions\nAuthorization: @supervisor\nContent-Type: "
         "application/json\n\n{\"decisionId\":\"" UUID(
             "40002") "\",\"kind\":"
                      "\"DECISION_KIND_APPROVE\",\"outfallId\":\"" FZ_OUTFALL "\",\"baseVersion\":"
                      "\"2\",\"comment\":\"好\"}"},
        {"decide-return",
         "POST /v1/review/decisions\nAuthorization: @admin\nContent-Type: "
         "application/json\n\n{\"decisionId\":\"" UUID(
             "40003") "\",\"kind\":"
                      "\"DECISION_KIND_RETURN\",\"outfallId\":\"" FZ_OUTFALL_2 "\","
                      "\"baseVersion\":\"1\"}"},
        {"web-index", "GET /\n\n"},
        {"web-file", "GET /web/app.js\nConnection: keep-alive\n\n"},
        {"web-config", "GET /web/config.json\n\n"},
        {"web-traversal", "GET /web/..%2f..%2fetc%2fpasswd\n\n"},
        {"not-found", "GET /v1/nothing?x=1\n\n"},
        {"wrong-method", "PUT /v1/sync\nAuthorization: @surveyor\n\n"},
        {"expect-continue", "POST /v1/auth/login\nContent-Type: application/json\nExpect: 100-"
                            "continue\nContent-Length: 9\n\n{\"a\":1}xx"},
        {"chunked", "POST /v1/auth/login\nContent-Type: application/json\nTransfer-Encoding: "
                    "chunked\n\n{}"},
    };
    for (size_t i = 0; i < sizeof seeds / sizeof seeds[0]; i++) {
        if (strcmp(seeds[i].name, "sync-json") == 0) {
            char *text = NULL;
            if (asprintf(&text, "%s%s", seeds[i].text, batches[0].json) < 0) exit(1);
            put_text("http", seeds[i].name, text);
            free(text);
            continue;
        }
        put_text("http", seeds[i].name, seeds[i].text);
    }
    /* A protobuf sync, its body binary. */
    size_t len;
    uint8_t *b = packed(&outfall__v1__sync_request__descriptor, batches[4].json, &len);
    const char head[] = "POST /v1/sync\nAuthorization: @surveyor\nContent-Type: application/"
                        "x-protobuf\nAccept: application/x-protobuf\nX-Device-Signature: @sign\n\n";
    uint8_t *both = malloc(sizeof head - 1 + len);
    memcpy(both, head, sizeof head - 1);
    memcpy(both + sizeof head - 1, b, len);
    put("http", "sync-protobuf", both, sizeof head - 1 + len);
    free(both);
    free(b);
}

/* n copies of unit into a new malloc'd string after head and before tail. */
static char *repeat(const char *head, const char *unit, size_t n, const char *tail) {
    size_t h = strlen(head), u = strlen(unit), t = strlen(tail);
    char *text = malloc(h + u * n + t + 1);
    if (!text) exit(1);
    memcpy(text, head, h);
    for (size_t i = 0; i < n; i++)
        memcpy(text + h + i * u, unit, u);
    memcpy(text + h + u * n, tail, t + 1);
    return text;
}

/* Hostile bodies (issue 15): nesting past the cap (1000 levels overflowed a worker's 100 KiB
 * stack inside jansson in the server; 2000 do on a bare 100 KiB thread), chunked bodies past their
 * endpoint's limit, protobuf of empty repeated and unknown fields. */
static void hostile_seeds(void) {
    static const struct {
        const char *target, *name, *head, *open, *close;
        size_t levels;
    } nested[] = {
        {"http", "login-nested-1000", "POST /v1/auth/login\nContent-Type: application/json\n\n",
         "[", "]", 1000},
        {"http", "report-nested-objects-chunked",
         "POST /public/reports\nContent-Type: application/json\nTransfer-Encoding: chunked\n\n",
         "{\"a\":", "}", 600},
        {"http", "sync-nested-33",
         "POST /v1/sync\nAuthorization: @surveyor\nContent-Type: application/json\n"
         "X-Device-Signature: @sign\n\n",
         "[", "]", 33},
        {"http", "zones-nested-40",
         "POST /v1/zones\nAuthorization: @admin\nContent-Type: application/geo+json\n\n"
         "{\"type\":\"Feature\",\"id\":\"z\",\"properties\":{\"kind\":\"drinking_water\"},"
         "\"geometry\":{\"type\":\"Polygon\",\"coordinates\":",
         "[", "]", 40},
        {"http", "report-nested-2000", "POST /public/reports\nContent-Type: application/json\n\n",
         "[", "]", 2000},
        {"pbjson", "nested-2000", "outfall.v1.SyncRequest\n", "[", "]", 2000},
        {"pbjson", "nested-objects-40", "outfall.v1.Outfall\n", "{\"programme\":", "}", 40},
    };
    for (size_t i = 0; i < sizeof nested / sizeof nested[0]; i++) {
        char *opened = repeat(nested[i].head, nested[i].open, nested[i].levels, "");
        char *text = repeat(opened, nested[i].close, nested[i].levels, "");
        put_text(nested[i].target, nested[i].name, text);
        free(opened);
        free(text);
    }
    static const struct {
        const char *name, *head;
        size_t values;
    } wide[] = {
        {"login-chunked-over-limit",
         "POST /v1/auth/login\nContent-Type: application/json\nTransfer-Encoding: chunked\n\n",
         2100},
        {"report-chunked-over-limit",
         "POST /public/reports\nContent-Type: application/json\nTransfer-Encoding: chunked\n\n",
         8300},
    };
    for (size_t i = 0; i < sizeof wide / sizeof wide[0]; i++) {
        char *head = repeat(wide[i].head, "[", 1, "");
        char *text = repeat(head, "0,", wide[i].values, "0]");
        put_text("http", wide[i].name, text);
        free(head);
        free(text);
    }
    static const struct {
        const char *name, *unit;
        size_t n;
    } wire[] = {
        {"sync-empty-changes", "\x2a", 2000},          /* field 5 (changes), empty, each */
        {"sync-unknown-fields", "\xc0\x3e\x01", 1100}, /* field 1000, varint 1, each */
    };
    const char head[] = "POST /v1/sync\nAuthorization: @surveyor\nContent-Type: application/"
                        "x-protobuf\nX-Device-Signature: @sign\n\n";
    for (size_t i = 0; i < sizeof wire / sizeof wire[0]; i++) {
        size_t u = strlen(wire[i].unit) + (i == 0), len = sizeof head - 1 + u * wire[i].n;
        uint8_t *body = malloc(len);
        if (!body) exit(1);
        memcpy(body, head, sizeof head - 1);
        for (size_t k = 0; k < wire[i].n; k++)
            memcpy(body + sizeof head - 1 + k * u, i == 0 ? "\x2a\x00" : wire[i].unit, u);
        put("http", wire[i].name, body, len);
        free(body);
    }
}

/* Upload sequences: the photo, then requests separated by "\n----\n" (fuzz_tus.c). */
static void tus_seeds(void) {
    static const struct {
        const char *name, *requests;
    } seeds[] = {
        {"tus-whole",
         "POST /v1/photos/@hash\nTus-Resumable: 1.0.0\nUpload-Length: @len\n\n"
         "\n----\nPATCH /v1/photos/@hash\nTus-Resumable: 1.0.0\nUpload-Offset: 0\nContent-Type: "
         "application/offset+octet-stream\nUpload-Checksum: sha256 @sha256\n\n@photo"
         "\n----\nHEAD /v1/photos/@hash\nTus-Resumable: 1.0.0\n\n"
         "\n----\nGET /v1/photos/@hash/info\nAuthorization: @supervisor\n\n"
         "\n----\nGET /v1/photos/@hash\nRange: bytes=10-99\nIf-Range: \"@hash\"\n\n"},
        {"tus-two-chunks",
         "POST /v1/photos\nTus-Resumable: 1.0.0\nUpload-Length: @len\nUpload-Metadata: hash "
         "@hash64,filename cXEuanBn\n\n"
         "\n----\nPATCH /v1/photos/@hash\nTus-Resumable: 1.0.0\nUpload-Offset: 0\nContent-Type: "
         "application/offset+octet-stream\nUpload-Checksum: sha512 @sha512\n\n@photo:0:100"
         "\n----\nHEAD /v1/photos/@hash\nTus-Resumable: 1.0.0\n\n"
         "\n----\nPATCH /v1/photos/@hash\nTus-Resumable: 1.0.0\nUpload-Offset: 100\nContent-Type: "
         "application/offset+octet-stream\n\n@photo:100:100000"
         "\n----\nGET /v1/photos/@hash\nIf-None-Match: \"@hash\"\n\n"},
        {"put-and-read",
         "PUT /v1/photos/@hash\nContent-Type: image/jpeg\nContent-Length: @len\n\n@photo"
         "\n----\nGET /v1/photos/@hash\nRange: bytes=-20\nAuthorization: @integrator\n\n"
         "\n----\nHEAD /v1/photos/@hash\nAuthorization: @other\n\n"
         "\n----\nPOST /v1/photos/missing\nContent-Type: "
         "application/json\n\n{\"hashes\":[\"" FZ_PHOTO "\"]}"},
        {"offset-mismatch",
         "POST /v1/photos/@hash\nTus-Resumable: 1.0.0\nUpload-Length: @len\n\n"
         "\n----\nPATCH /v1/photos/@hash\nTus-Resumable: 1.0.0\nUpload-Offset: 7\nContent-Type: "
         "application/offset+octet-stream\n\n@photo:7:20"
         "\n----\nPOST /v1/photos/@hash\nTus-Resumable: 1.0.0\nUpload-Length: 5\n\n"
         "\n----\nPOST /v1/photos/@hash\nTus-Resumable: 0.2.2\nUpload-Defer-Length: 1\n\n"},
        {"options", "OPTIONS /v1/photos\nTus-Resumable: 1.0.0\n\n"
                    "\n----\nOPTIONS /v1/photos/@hash\n\n"},
    };
    char len[32];
    snprintf(len, sizeof len, "%zu", photo_len);
    for (size_t i = 0; i < sizeof seeds / sizeof seeds[0]; i++) {
        /* "@len" is the photo's length, written here: no hook stands for it. */
        char text[4096];
        size_t n = 0;
        for (const char *r = seeds[i].requests; *r && n + 32 < sizeof text;)
            if (strncmp(r, "@len", 4) == 0) {
                n += (size_t)snprintf(text + n, sizeof text - n, "%s", len);
                r += 4;
            } else {
                text[n++] = *r++;
            }
        uint8_t *both = malloc(photo_len + 6 + n);
        memcpy(both, photo, photo_len);
        memcpy(both + photo_len, "\n----\n", 6);
        memcpy(both + photo_len + 6, text, n);
        put("tus", seeds[i].name, both, photo_len + 6 + n);
        free(both);
    }
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: seeds CORPUS_DIR PHOTOS_DIR\n");
        return 2;
    }
    root = argv[1];
    mkdir(root, 0755);
    sync_seeds();
    pbjson_seeds();
    exif_seeds(argv[2]);
    http_seeds();
    hostile_seeds();
    tus_seeds();
    return 0;
}
