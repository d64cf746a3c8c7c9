/* A request served by the real route table without a socket (prefix fc_): the CivetWeb calls the
 * server makes on a connection (mg_get_request_info, mg_get_header, mg_read, mg_write,
 * mg_get_response_code_text) are defined in fake_conn.c over a request in
 * memory, so routes_handle() runs every handler, auth, codec and engine call as it does behind
 * CivetWeb. Pure library helpers (mg_get_var, mg_url_decode) are CivetWeb's own. The Makefile
 * refuses to link a fuzz target when the server calls a connection function not faked here.
 *
 * Test hooks, so inputs can reach what a fuzzer could not guess:
 *   Authorization "@admin" / "@surveyor" / "@supervisor" / "@integrator" / "@other" becomes
 *     "Bearer <that role's live token>";
 *   X-Device-Signature "@sign" becomes the surveyor's phone's signature of the body ("@other"
 *     the other surveyor's phone's);
 *   "@hash" in the path becomes the BLAKE2b-256 hex of the body (or of fc_request.hash_of);
 *   in other header values, "@hash" becomes that hex, "@hash64" its base64 (tus metadata), and
 *   "@sha256" / "@sha512" the base64 of the body's digest (Upload-Checksum). */
#ifndef FUZZ_LIB_FAKE_CONN_H
#define FUZZ_LIB_FAKE_CONN_H

#include <stddef.h>
#include <stdint.h>

enum { FC_MAX_HEADERS = 32 };

typedef struct fc_request {
    const char *method;
    const char *target; /* path and query as sent, percent-encoded */
    int n_headers;
    const char *names[FC_MAX_HEADERS];
    const char *values[FC_MAX_HEADERS];
    const uint8_t *body;
    size_t len;
    const uint8_t *hash_of; /* what "@hash" hashes, when not NULL (else the body) */
    size_t hash_len;
} fc_request;

/* What fc_serve resets first. */
enum { FC_KEEP = 0, FC_RESET_DB = 1, FC_RESET_ALL = 2 /* the photo folders too */ };

/* Serves rq through routes_handle on the fuzz world (fz_env_get), after resetting what reset
 * says (FC_*: a sequence of requests keeps the state between them). Checks the answer (fz_fail when
 * it is not well-formed HTTP, when its Content-Length is not its body's, when a JSON body does not
 * parse, when an Error body does not decode, or when it is a 500). Returns the status. */
int fc_serve(const fc_request *rq, int reset);

/* Parses an input "METHOD TARGET\nName: value\n...\n\nbody" into rq, pointing into buf (which it
 * rewrites: NULs replace the separators). Returns 0, or -1 when the input has no request line. */
int fc_parse(char *buf, size_t len, fc_request *rq);

#endif
