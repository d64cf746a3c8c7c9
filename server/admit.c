#include "server/admit.h"

#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/util.h"

/* One client address and what it holds. A free entry has addr[0] == '\0'. */
typedef struct entry {
    char addr[48];
    int conns, requests;
} entry;

static struct {
    pthread_mutex_t mu;
    entry *table;
    int slots;
    int cap;
    int proxy_on_loopback;
} admit = {.mu = PTHREAD_MUTEX_INITIALIZER};

int admit_init(int max_per_addr, int proxy_on_loopback, int slots) {
    admit.table = calloc((size_t)(slots > 0 ? slots : 1), sizeof *admit.table);
    if (!admit.table) return -1;
    admit.slots = slots > 0 ? slots : 1;
    admit.cap = max_per_addr;
    admit.proxy_on_loopback = proxy_on_loopback;
    return 0;
}

static int is_loopback(const char *addr) {
    return strncmp(addr, "127.", 4) == 0 || strcmp(addr, "::1") == 0;
}

/* addr's entry, made in a free slot when absent (NULL when the table is full); with admit.mu. */
static entry *entry_for(const char *addr) {
    entry *free_slot = NULL;
    for (int i = 0; i < admit.slots; i++) {
        if (admit.table[i].addr[0] == '\0') {
            if (!free_slot) free_slot = &admit.table[i];
        } else if (strcmp(admit.table[i].addr, addr) == 0) {
            return &admit.table[i];
        }
    }
    if (free_slot) util_strlcpy(free_slot->addr, addr, sizeof free_slot->addr);
    return free_slot;
}

/* Adds delta to the connections (or requests) of addr; returns the count after, or 0 when the
 * address is not tracked (no cap, no table, or the table full: then it is let in). */
static int count(const char *addr, int *(*field)(entry *), int delta) {
    if (!admit.table || admit.cap <= 0 || !addr) return 0;
    pthread_mutex_lock(&admit.mu);
    entry *e = entry_for(addr);
    int n = 0;
    if (e) {
        int *f = field(e);
        *f += delta;
        if (*f < 0) *f = 0;
        n = *f;
        if (e->conns == 0 && e->requests == 0) e->addr[0] = '\0';
    }
    pthread_mutex_unlock(&admit.mu);
    return n;
}

static int *conns_of(entry *e) {
    return &e->conns;
}
static int *requests_of(entry *e) {
    return &e->requests;
}

int admit_conn_open(const char *addr) {
    if (admit.proxy_on_loopback && is_loopback(addr)) return 1;
    return count(addr, conns_of, 1) <= admit.cap;
}

void admit_conn_close(const char *addr) {
    if (admit.proxy_on_loopback && is_loopback(addr)) return;
    count(addr, conns_of, -1);
}

int admit_request_begin(const char *addr) {
    return count(addr, requests_of, 1) <= admit.cap;
}

void admit_request_end(const char *addr) {
    count(addr, requests_of, -1);
}

/* The C library's accept(), found once. */
typedef int (*accept_fn)(int, struct sockaddr *, socklen_t *);
static accept_fn libc_accept;
static pthread_once_t libc_accept_once = PTHREAD_ONCE_INIT;
static void find_libc_accept(void) {
    libc_accept = (accept_fn)dlsym(RTLD_NEXT, "accept");
}

/* The text of fd's peer address, as CivetWeb prints it (inet_ntop), into out[cap]; "" when it
 * cannot be had. */
static void peer_text(int fd, char *out, size_t cap) {
    struct sockaddr_storage sa;
    socklen_t len = sizeof sa;
    out[0] = '\0';
    if (getpeername(fd, (struct sockaddr *)&sa, &len) < 0) return;
    if (sa.ss_family == AF_INET)
        inet_ntop(AF_INET, &((struct sockaddr_in *)&sa)->sin_addr, out, (socklen_t)cap);
    else if (sa.ss_family == AF_INET6)
        inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&sa)->sin6_addr, out, (socklen_t)cap);
}

/* Answers 503 too_many_connections on a fresh socket and closes it. What arrived already is
 * read first, so that the close does not reset the connection before the answer is read. */
static void refuse(int fd) {
    static const char body[] = "{\"code\":\"too_many_connections\",\"message\":\"too many "
                               "connections from this address; try again\"}";
    char answer[512], drain[4096];
    int n = snprintf(answer, sizeof answer,
                     "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
                     "Content-Length: %zu\r\nRetry-After: 5\r\nConnection: close\r\n\r\n%s",
                     sizeof body - 1, body);
    while (recv(fd, drain, sizeof drain, MSG_DONTWAIT) > 0) {
    }
    send(fd, answer, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL);
    shutdown(fd, SHUT_WR);
    close(fd);
}

/* CivetWeb 1.15 has no hook between accepting a connection and a worker waiting for its first
 * byte (its init_connection callback cannot see the peer), so the server defines accept()
 * itself: the dynamic linker binds CivetWeb's call to this definition, which calls the C
 * library's and counts the peer. A connection over its address's cap is answered and closed
 * here, and CivetWeb sees a failed accept, which it ignores: it never takes a worker. */
int accept(int fd, struct sockaddr *sa, socklen_t *len) {
    pthread_once(&libc_accept_once, find_libc_accept);
    if (!libc_accept) {
        errno = ENOSYS;
        return -1;
    }
    int s = libc_accept(fd, sa, len);
    char addr[INET6_ADDRSTRLEN];
    if (s < 0 || !admit.table || admit.cap <= 0) return s;
    peer_text(s, addr, sizeof addr);
    if (!addr[0] || admit_conn_open(addr)) return s;
    admit_conn_close(addr);
    refuse(s);
    errno = ECONNABORTED;
    return -1;
}
