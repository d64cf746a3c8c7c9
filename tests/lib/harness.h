/* The integration-test harness (prefix th_): starts a real outfalld on a free loopback port with
 * a fresh data folder, talks to it over HTTP with libcurl, builds and signs sync batches, and
 * checksums the database so a test can prove a request wrote nothing.
 *
 * Conventions: functions that talk HTTP return the status (0 when the exchange itself failed);
 * others return 0 or -1. Every failure prints one line to stderr naming what failed. Messages
 * handed back in *out are freed with protobuf_c_message_free_unpacked(*out, NULL). */
#ifndef TESTS_LIB_HARNESS_H
#define TESTS_LIB_HARNESS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "outfall/v1/outfall.pb-c.h"
#include "tests/lib/s3rver.h"

#define TH_ADMIN_PASSWORD "admin-test-password-4711"
#define TH_PB "application/x-protobuf"
#define TH_JSON "application/json"

/* ---- the server process (harness.c) ---- */

typedef struct th_server {
    pid_t pid;             /* 0 when not running */
    char root[256];        /* the mkdtemp folder: data/, ready, server.log */
    char data[320];        /* the --data folder (root/data) */
    char addr[64];         /* HOST:PORT read from the ready file */
    char url[96];          /* http://HOST:PORT */
    char admin_token[128]; /* cached by th_admin_token */
    th_s3 s3;              /* the photos' bucket when the test runs on S3 (s3.pid > 0) */
} th_server;

/* The prefix of photo keys in the test bucket when OUTFALL_TEST_PHOTO_STORE=s3. */
#define TH_S3_PREFIX "city"

/* Starts the server (env OUTFALLD, default build/asan/outfalld) on 127.0.0.1:0 with a fresh
 * data folder and OUTFALL_ADMIN_PASSWORD=TH_ADMIN_PASSWORD, plus extra_args (NULL-terminated, or
 * NULL), and waits up to 20 s for its ready file. With env OUTFALL_TEST_PHOTO_STORE=s3 the photos
 * go to a bucket: an S3 server (tests/lib/s3rver.h) is started first and the server gets
 * --photo-store s3://TH_S3_BUCKET/TH_S3_PREFIX and its endpoint and credentials; th_server_stop
 * stops it. On failure nothing is left running or on disk. */
int th_server_start(th_server *s, const char *const *extra_args);

/* SIGTERM, a bounded wait, SIGKILL if need be, then removes the folder (kept when env TH_KEEP is
 * set). Returns 0 when the server exited with status 0, else -1 after printing its log's tail.
 * Safe on a server that never started or was stopped already. */
int th_server_stop(th_server *s);

/* The admin's bearer token (logs in once, then cached in s). Borrowed; NULL on failure. */
const char *th_admin_token(th_server *s);

/* A fresh lowercase UUID into out[37]. */
void th_uuid(char out[37]);

/* A fresh spot inside the city, at least 900 m from every other spot this process handed out. */
void th_spot(double *lat, double *lon);

/* 1 when flag is one of flags[0..n). */
int th_has(char *const *flags, size_t n, const char *flag);

/* ---- HTTP (client.c) ---- */

typedef struct th_request {
    const char *method;         /* "GET", "POST", "DELETE" ... */
    const char *path;           /* with the query, e.g. "/v1/changes?since=0" */
    const char *content_type;   /* NULL: no Content-Type header */
    const char *accept;         /* NULL: no Accept header */
    const char *token;          /* NULL: no Authorization header */
    const char *const *headers; /* extra "Name: value" lines, NULL-terminated; may be NULL */
    const void *body;           /* NULL: no body */
    size_t len;
} th_request;

typedef struct th_response {
    long status;   /* 0 when the exchange failed */
    uint8_t *body; /* owned, NUL-terminated after len bytes */
    size_t len;
    char content_type[128]; /* "" when none */
} th_response;

typedef struct th_error {
    char code[64];
    char message[256];
} th_error;

/* One exchange with s; out is always filled (free with th_response_free). Returns the status. */
long th_http(const th_server *s, const th_request *rq, th_response *out);
void th_response_free(th_response *r);

/* 1 when a Content-Type value names JSON (parameters such as charset ignored). */
int th_is_json(const char *content_type);

/* Decodes an Error body in the encoding its content type names. Returns 0, or -1 with e->code set
 * to "<undecodable>". */
int th_error_decode(const th_response *r, th_error *e);

/* Sends req (NULL: no body) encoded as enc (TH_PB or TH_JSON) and asks for enc back. On a 2xx with
 * out_desc, decodes *out; on a non-2xx decodes the Error into err (may be NULL). Returns the
 * status; 0 also when a 2xx body did not decode. */
long th_call(const th_server *s, const char *method, const char *path, const char *token,
             const char *enc, const ProtobufCMessage *req,
             const ProtobufCMessageDescriptor *out_desc, ProtobufCMessage **out, th_error *err);

/* Approves outfall id at base_version through POST /v1/review/decisions (protobuf) as the holder
 * of token, with a fresh decision id. Returns the status; on another than 200 the Error is
 * printed. On 200, *out (when not NULL) gets the DecisionResult (free_unpacked). */
long th_approve(const th_server *s, const char *token, const char *id, int64_t base_version,
                Outfall__V1__DecisionResult **out);

/* POST /v1/auth/login; on 200 copies the token into token[128] and, when out is not NULL, hands
 * back the whole LoginResponse. */
long th_login(const th_server *s, const char *username, const char *password, char token[128],
              Outfall__V1__LoginResponse **out, th_error *err);

/* POST /v1/auth/logout. */
long th_logout(const th_server *s, const char *token, th_error *err);

/* POST /v1/users as admin_token; divisions is NULL-terminated (may be NULL). */
long th_user_create(const th_server *s, const char *admin_token, const char *username,
                    const char *password, int role, const char *const *divisions, th_error *err);

typedef struct th_user {
    char name[64];
    char password[64];
    char token[128];
} th_user;

/* Creates a user with a fresh name starting with prefix, the given role (Outfall__V1__Role) and
 * divisions (NULL-terminated), and logs in. Returns 0 or -1. */
int th_user_new(th_server *s, const char *prefix, int role, const char *const *divisions,
                th_user *u);

typedef struct th_device {
    char id[48];
    uint8_t pk[32];   /* Ed25519 public key */
    uint8_t sk[64];   /* and its secret key */
    int64_t next_seq; /* the device_seq th_batch_new uses next; starts at 1 */
} th_device;

/* Makes a fresh id and Ed25519 key pair into d and enrolls it (POST /v1/devices) as token.
 * Returns the status (201 on success). */
long th_device_enroll(const th_server *s, const char *token, th_device *d, th_error *err);

/* Both steps at once for a test's set-up. Returns 0 when enrolled, else -1. */
int th_device_new(const th_server *s, const char *token, th_device *d);

/* DELETE /v1/devices/{id} as token. */
long th_device_revoke(const th_server *s, const char *token, const char *device_id, th_error *err);

/* Reads, in protobuf. query is the part after '?' (NULL for none). */
long th_get_outfall(const th_server *s, const char *token, const char *id,
                    Outfall__V1__Outfall **out, th_error *err);
long th_get_observation(const th_server *s, const char *token, const char *id,
                        Outfall__V1__Observation **out, th_error *err);
long th_list_outfalls(const th_server *s, const char *token, const char *query,
                      Outfall__V1__OutfallList **out, th_error *err);
long th_pull(const th_server *s, const char *token, int64_t since, int limit,
             Outfall__V1__ChangesResponse **out, th_error *err);

/* ---- sync batches (batch.c) ---- */

/* A SyncRequest being built, with the memory it owns. */
typedef struct th_batch th_batch;

/* A new batch for d: fresh batch_id, d's id, device_seq = d->next_seq. NULL on no memory. */
th_batch *th_batch_new(th_device *d);
void th_batch_free(th_batch *b);

/* The request itself, borrowed: a test may change any field (seq, since, pull_limit, ids). */
Outfall__V1__SyncRequest *th_batch_req(th_batch *b);

/* Zeroed memory and string copies that live as long as b. */
void *th_batch_alloc(th_batch *b, size_t n);
char *th_batch_str(th_batch *b, const char *s);

/* Appends a change with a fresh change_id (entity_id NULL: a fresh one) and no entity yet. */
Outfall__V1__Change *th_batch_change(th_batch *b, const char *entity_id, int64_t base_version);

/* Appends an outfall create (base_version 0) with its four required fields; returns the outfall
 * so the test can set more. The new id is the change's entity_id (th_batch_entity). */
Outfall__V1__Outfall *th_outfall_create(th_batch *b, const char *river, const char *division,
                                        double lat, double lon);

/* Appends an outfall edit of id at base_version carrying no fields yet. */
Outfall__V1__Outfall *th_outfall_edit(th_batch *b, const char *id, int64_t base_version);

/* The outfall's responsible_party, made empty on first use. */
Outfall__V1__ResponsibleParty *th_outfall_party(th_batch *b, Outfall__V1__Outfall *o);

/* Appends an observation create of outfall_id at a position. */
Outfall__V1__Observation *th_observation_create(th_batch *b, const char *outfall_id, double lat,
                                                double lon);
void th_observation_photo(th_batch *b, Outfall__V1__Observation *o, const char *hash, int kind);

/* The entity_id / change_id of change i, borrowed. */
const char *th_batch_entity(th_batch *b, size_t i);
const char *th_batch_change_id(th_batch *b, size_t i);

/* The request packed (TH_PB) or as protobuf JSON (TH_JSON); *bytes is owned by b and valid until
 * the next call or th_batch_free. Returns 0 or -1. */
int th_batch_encode(th_batch *b, const char *enc, const uint8_t **bytes, size_t *len);

/* Base64 of the one-shot Ed25519 signature of body by sk; malloc'd, the caller frees. */
char *th_sign_b64(const uint8_t sk[64], const void *body, size_t len);

typedef struct th_sync_result {
    long status;
    Outfall__V1__SyncResponse *resp; /* on 200 */
    th_error err;                    /* on non-2xx */
    th_response raw;                 /* the exchange as received */
} th_sync_result;

/* Encodes b as enc, signs it with its device's key, POSTs /v1/sync as token and decodes the
 * answer into r (free with th_sync_result_free). When the answer is 200 with no HELD result and
 * the batch's seq was its device's next, the device's next_seq advances. Returns the status. */
long th_sync(const th_server *s, const char *token, th_batch *b, const char *enc,
             th_sync_result *r);

/* POST /v1/sync with exactly these bytes; signature_b64 NULL sends no X-Device-Signature.
 * content_type is also sent as Accept when it is one we speak (else Accept is protobuf). */
long th_sync_raw(const th_server *s, const char *token, const char *content_type,
                 const char *signature_b64, const void *body, size_t len, th_sync_result *r);
void th_sync_result_free(th_sync_result *r);

/* The result for change i of the last answer, or NULL. */
const Outfall__V1__ChangeResult *th_result(const th_sync_result *r, size_t i);

/* th_sync for a test that wants a 200: returns the response (the caller frees it with
 * outfall__v1__sync_response__free_unpacked) or NULL after printing what came instead. */
Outfall__V1__SyncResponse *th_sync_ok(const th_server *s, const char *token, th_batch *b,
                                      const char *enc);

/* A ChangeStatus without its prefix ("APPLIED"), "?" for an unknown value. Static. */
const char *th_status_name(int status);

/* A string for printing or comparing: s, or "(null)". */
#define TH_S(s) ((s) ? (const char *)(s) : "(null)")
#define TH_STATUS(x) OUTFALL__V1__CHANGE_STATUS__CHANGE_STATUS_##x
#define TH_ROLE(x) OUTFALL__V1__ROLE__ROLE_##x

/* ---- the database (dbsum.c) ---- */

/* TH_ALL: every table but audit and tokens: what a request refused at the HTTP level leaves as is.
 * TH_STATE: also without batches, changes and devices.last_seq: what a REJECTED change leaves. */
enum { TH_ALL = 1, TH_STATE = 2 };

typedef struct th_sum {
    char hex[65]; /* BLAKE2b-256 of the dump; "!..." (unique, never equal) when it failed */
} th_sum;

/* Opens data_dir/outfall.db read-only and hashes a deterministic dump of it at the given level:
 * every table (sqlite_* excepted), every column, every row ordered by all columns. */
th_sum th_db_checksum(const char *data_dir, int level);

/* ---- photos (photos.c) ---- */

/* Bytes read whole, owned. */
typedef struct th_file {
    uint8_t *data;
    size_t len;
} th_file;

/* Reads $OUTFALL_FIXTURES/photos/name (default tests/fixtures, from the repository root) into f.
 * Returns 0 or -1. */
int th_fixture(const char *name, th_file *f);
void th_file_free(th_file *f);

/* A fresh photo made from fixture name: its bytes with 16 random bytes after the image's end,
 * so a new hash (into hash[65]) with the same picture and EXIF. Returns 0 or -1. */
int th_photo_variant(const char *name, th_file *f, char hash[65]);

/* BLAKE2b-256 of data as 64 lowercase hex into out[65]. */
void th_hash_hex(const void *data, size_t len, char out[65]);

/* One row of photos/MANIFEST.tsv. */
typedef struct th_manifest_row {
    char file[64];
    char hash[65];
    long bytes;
    int has_gps;
    double lat, lon;
    char datetime[24]; /* "" when none */
    int64_t taken_ms;  /* datetime at +08:00 as Unix ms; 0 when none */
} th_manifest_row;

/* Unix ms of "YYYY:MM:DD HH:MM:SS" taken at +08:00 (the city's time, as in the manifest). */
int64_t th_plus8_ms(const char *datetime);

/* The change feed's entry for observation id as token sees it: returns its seq (0 when absent)
 * with its version and flags (joined with commas into flags[256]). */
int64_t th_feed_observation(const th_server *s, const char *token, const char *id, int64_t *version,
                            char flags[256]);

/* Reads the manifest into rows[cap]. Returns the count, or -1. */
int th_manifest(th_manifest_row *rows, int cap);

/* One exchange with full control of the body and the answer's headers: HEAD without a body,
 * a body sent chunked, or an upload cut off after some bytes. */
typedef struct th_xfer {
    const char *method;
    const char *path;
    const char *token;          /* NULL: no Authorization */
    const char *const *headers; /* "Name: value", NULL-terminated; may be NULL. Accept is
                                   application/json unless one here names another ("Accept:"
                                   alone: none) */
    const void *body;           /* NULL: no body */
    size_t len;
    int chunked;      /* send the body with Transfer-Encoding: chunked */
    size_t cut_after; /* > 0: declare len bytes but drop the connection after this many */
} th_xfer;

typedef struct th_xresult {
    th_response r;      /* status, body, content type; for th_error_decode */
    char headers[4096]; /* the answer's header lines */
} th_xresult;

/* Runs x against s into out (free with th_response_free(&out->r)). Returns the status (0 when
 * the exchange failed, as it does when cut off). */
long th_xfer_run(const th_server *s, const th_xfer *x, th_xresult *out);

/* The value of header name in out (case-insensitive) into buf[cap]. 1 when present, else 0. */
int th_xheader(const th_xresult *out, const char *name, char *buf, size_t cap);

/* PUT /v1/photos/{hash} with data[len]; err (may be NULL) gets a non-2xx Error. */
long th_photo_put(const th_server *s, const char *token, const char *hash, const void *data,
                  size_t len, th_error *err);

/* A whole tus upload: creation (POST /v1/photos with Upload-Metadata hash), then PATCHes of
 * chunk bytes each with an Upload-Checksum (sha256). Returns the last status (201 or 204 on
 * success); err (may be NULL) gets the Error of a failure. */
long th_tus_upload(const th_server *s, const char *token, const char *hash, const void *data,
                   size_t len, size_t chunk, th_error *err);

/* The number of regular files under s's data folder's sub (0 when it does not exist). */
int th_count_files(const th_server *s, const char *sub);

/* 1 when the test runs on the bucket (OUTFALL_TEST_PHOTO_STORE=s3). */
int th_photo_store_s3(void);

/* The files under s's uploads/ of photo hash (its .part, or a PUT's temporary file). */
int th_uploads_of(const th_server *s, const char *hash);

/* A count from s's database: sql with one ? bound to text. -1 when it yields no row. */
int th_db_count(const th_server *s, const char *sql, const char *text);

/* Runs one statement on s's live database (sql with one ? bound to text), as time passing
 * would (tests that need records older than the test): the rows changed, or -1. */
int th_db_exec(const th_server *s, const char *sql, const char *text);

/* 2023-01-01 00:00 China Standard Time, the programme's start. */
#define TH_PROGRAMME_START_MS INT64_C(1672502400000)

/* Makes outfall id first seen at the programme's start (its record created then), so its
 * lifecycle may be dated from 2023 on (programme.md, Dates). Asserts one row changed. */
void th_first_seen_at_start(const th_server *s, const char *id);

/* The BLAKE2b-256 of the bytes GET /v1/photos/{hash} answers token into out ("" unless 200). */
void th_photo_digest(const th_server *s, const char *token, const char *hash, char out[65]);

/* "/v1/photos/{hash}{suffix}" in a static buffer. */
const char *th_photo_path(const char *hash, const char *suffix);

/* flags[0..n) joined with commas into out[cap] ("" for none). */
void th_flags_join(char *const *flags, size_t n, char *out, size_t cap);

/* Writes len bytes of data to a new file at path. Returns 0 or -1. */
int th_write_file(const char *path, const void *data, size_t len);

/* Runs $OUTFALLCTL (default build/asan/outfallctl) with args (NULL-terminated) and env
 * ("K=V", NULL-terminated, added to a copy of ours without OUTFALL_* or proxies; OUTFALL_SERVER
 * points at s). out[cap] and errout[cap] get its stdout and stderr. Returns its exit status,
 * or -1 when it did not exit normally. */
int th_ctl(const th_server *s, const char *const *env, const char *const *args, char *out,
           char *errout, size_t cap);

/* ---- the photo store on disk (store_sum.c) ---- */

/* BLAKE2b-256 of data_dir's photos/ tree (and uploads/ when with_uploads): every folder's and
 * file's path below data_dir in byte order of names, with each file's bytes, so an added, removed,
 * renamed or changed file (or folder) changes it. A missing tree hashes as absent. hex is "!..."
 * (unique, never equal) when the walk failed. */
th_sum th_store_checksum(const char *data_dir, int with_uploads);

#endif
