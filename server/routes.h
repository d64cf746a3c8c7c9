/* The route table and the dispatcher CivetWeb calls for every request. */
#ifndef SERVER_ROUTES_H
#define SERVER_ROUTES_H

#include <civetweb.h>

/* CivetWeb request handler for "/" (every path); cbdata is the const server_config *. Finds the
 * route, applies its gate, runs its handler, answers an Error when it fails, and writes one
 * access-log line to stderr. Returns the status sent. */
int routes_handle(struct mg_connection *conn, void *cbdata);

#endif
