/* The Connect protocol's unary calls (https://connectrpc.com/docs/protocol) beside the REST paths:
 * POST /outfall.v1.<Service>/<Method> with a message body in application/proto or
 * application/json, answered 200 with the response message in the request's codec, or a Connect
 * error body. Each method is a row of the route table (server/routes.c) that runs its REST twin's
 * handler: the twin's body message as it is, or a request message whose fields become the twin's
 * path segments and query parameters (connect_unpack_request). http.c answers in the Connect form
 * whenever r->connect is set. */
#ifndef SERVER_CONNECT_H
#define SERVER_CONNECT_H

#include "server/http.h"

/* Where the Connect methods' paths start: the contract's package. */
#define CONNECT_PATH_PREFIX "/outfall.v1."

/* 1 when path is a Connect method's path (CONNECT_PATH_PREFIX), else 0. */
int connect_is_call(const char *path);

/* The checks of a Connect call before its gate: Content-Type application/proto or
 * application/json (else 415), Connect-Protocol-Version absent or 1 (else 400), no
 * Content-Encoding but identity (else 501 unimplemented). Returns 0, or a negative code with
 * r->err (and r->connect_code) filled. */
int connect_check_call(http_req *r);

/* Decodes the body as a message of type desc (http_decode) and hands its fields to a REST
 * handler: the fields named in path_fields (comma-separated, in order; NULL: none) go into
 * r->params (each required), every other field present into r->query as name=value (an enum
 * by its value's full name). Only singular scalar, enum and string fields. With body_kept the
 * body is the twin's own message, which it decodes again (the body stays read in r): only the
 * path fields are taken, nothing goes into r->query. Returns 0, or a negative code with r->err
 * filled (400 invalid_argument for a missing or too long path field, or what http_decode
 * refuses). */
int connect_unpack_request(http_req *r, const ProtobufCMessageDescriptor *desc,
                           const char *path_fields, int body_kept);

/* The Connect error body for r->err answered with our status: {"code", "message", "details"},
 * the detail an outfall.v1.Error (our stable code and message) packed in base64 with its JSON
 * form under "debug". The Connect code is r->connect_code when set (a protocol-level refusal,
 * which keeps status), else the one for status (connect_code_for), and *http_status the status
 * the Connect protocol gives that code. Returns malloc'd JSON text, or NULL out of memory. */
char *connect_error_body(const http_req *r, int status, int *http_status);

/* The Connect code for one of our HTTP statuses (400 invalid_argument, 401 unauthenticated, 409
 * aborted, 413 resource_exhausted, ...; "unknown" for one not mapped below 500, "internal" for
 * one at or above it). */
const char *connect_code_for(int status);

#endif
