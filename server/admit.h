/* Admission per client address (prefix admit_): how many connections and requests in flight each
 * client address holds, against a cap, so one address cannot take every worker thread. A
 * connection is counted from CivetWeb handing it to a worker to its close; a request, from its
 * head to its answer. Behind a reverse proxy on loopback, every connection comes from the proxy:
 * its connections are not capped (the proxy caps its clients'), and requests are counted under
 * the client address the proxy names instead. */
#ifndef SERVER_ADMIT_H
#define SERVER_ADMIT_H

/* Sets the cap (0: none) and whether loopback peers are a trusted proxy (exempt from the
 * connection cap); slots bounds the addresses tracked at once (one per worker thread is enough:
 * a counted connection or request holds a worker). Returns 0 or -1. Call once before serving. */
int admit_init(int max_per_addr, int proxy_on_loopback, int slots);

/* Counts a connection from addr. Returns 1 when it is within the cap, 0 when over it (it is
 * counted all the same: admit_conn_close uncounts every connection). The server's accept()
 * (admit.c) counts every connection it takes and refuses one over the cap with 503
 * too_many_connections; CivetWeb's connection_close callback uncounts the others. */
int admit_conn_open(const char *addr);
void admit_conn_close(const char *addr);

/* Counts a request of the client at addr (as the proxy names it). Returns 1 when within the
 * cap, else 0 (counted all the same; admit_request_end uncounts it). */
int admit_request_begin(const char *addr);
void admit_request_end(const char *addr);

#endif
