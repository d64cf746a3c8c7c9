/* outfallctl: the admin CLI and field-phone simulator. Each command returns an exit status:
 * CTL_OK, CTL_FAIL (the server refused, could not be reached, or a local file failed; a line on
 * stderr says which) or CTL_USAGE (bad arguments; the usage text is printed). */
#ifndef OUTFALLCTL_CTL_H
#define OUTFALLCTL_CTL_H

#include <protobuf-c/protobuf-c.h>
#include <stddef.h>
#include <stdint.h>

#include "outfall/v1/outfall.pb-c.h"

enum { CTL_OK = 0, CTL_FAIL = 1, CTL_USAGE = 2 };

#define CTL_DEFAULT_SERVER "http://127.0.0.1:8080"

typedef struct ctl {
    const char *server; /* base URL, without a trailing slash */
    const char *token;  /* bearer token, or NULL */
} ctl;

/* ---- http.c ---- */

/* One protobuf exchange with the server: sends req (NULL: no body), with an X-Device-Signature
 * header when signature is not NULL. On a 2xx decodes the body as out_desc into *out (when both
 * are given; the caller frees it with protobuf_c_message_free_unpacked). On anything else prints
 * "outfallctl: CODE: MESSAGE" from the server's Error and returns CTL_FAIL. */
int ctl_call(const ctl *c, const char *method, const char *path, const ProtobufCMessage *req,
             const char *signature, const ProtobufCMessageDescriptor *out_desc,
             ProtobufCMessage **out);

/* Like ctl_call with an already packed body. */
int ctl_call_raw(const ctl *c, const char *method, const char *path, const void *body, size_t len,
                 const char *signature, const ProtobufCMessageDescriptor *out_desc,
                 ProtobufCMessage **out);

/* Prints msg to stdout as indented protobuf JSON. Returns CTL_OK or CTL_FAIL. */
int ctl_print(const ProtobufCMessage *msg);

/* Prints "outfallctl: " and the formatted text to stderr; returns CTL_FAIL. */
int ctl_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- the commands (cmd_account.c, cmd_phone.c, cmd_photos.c); argv[0] is their name ---- */
int cmd_login(const ctl *c, int argc, char **argv);
int cmd_users(const ctl *c, int argc, char **argv);
int cmd_password(const ctl *c, int argc, char **argv);
int cmd_device(const ctl *c, int argc, char **argv);
int cmd_push(const ctl *c, int argc, char **argv);
int cmd_pull(const ctl *c, int argc, char **argv);
int cmd_photos(const ctl *c, int argc, char **argv);
/* `photos verify` and `photos migrate` (cmd_photo_store.c); argv[0] is "verify" or "migrate". */
int cmd_photo_store(int argc, char **argv);

/* One of the --photo-store flags as outfalld takes them, by getopt code: 's' store, 'e'
 * endpoint, 'r' region, 'c' credentials, 't' timeout (whole seconds, 1 to 3600) into *spec
 * (a photo_store_spec). Returns 1 when taken, 0 when opt is not one of them, -1 on a bad value
 * (said on stderr). */
struct photo_store_spec;
int ctl_photo_store_flag(int opt, const char *arg, struct photo_store_spec *spec);
/* Offline admin tasks on the data folder's files (cmd_admin.c): backup, restore, audit verify. */
int cmd_backup(const ctl *c, int argc, char **argv);
int cmd_restore(const ctl *c, int argc, char **argv);
/* `backup --to` and `restore --from` a bucket (cmd_offsite.c); cmd_backup and cmd_restore hand
 * over to them when cmd_offsite_wanted. */
int cmd_offsite_wanted(int argc, char **argv);
int cmd_offsite_backup(int argc, char **argv);
int cmd_offsite_restore(int argc, char **argv);
/* push --keep DIR (phone_keep.c): keeps the pushed batch (its signed bytes) with its answer's
 * store_epoch and acknowledged_seq, then applies docs/sync.md's rule to what DIR keeps: a new
 * epoch sends each kept batch again, oldest first; what durable_seq covers is dropped. */
int phone_keep_batch(const char *dir, int64_t device_seq, const uint8_t *body, size_t len,
                     const char *sig64, const Outfall__V1__SyncResponse *resp);
int phone_keep_apply(const ctl *c, const char *dir, const Outfall__V1__SyncResponse *answer);
int cmd_audit(const ctl *c, int argc, char **argv);
/* Recomputes a published inspection draw (cmd_inspect.c). */
int cmd_inspections(const ctl *c, int argc, char **argv);

/* ---- main.c ---- */

/* Prints the whole usage text to stdout (short_form 0, for --help) or its first line and a hint
 * to stderr (short_form 1, after a usage error). Returns CTL_USAGE. */
int ctl_usage(int short_form);

#endif
