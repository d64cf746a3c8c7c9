/* Starting the server as a child process, for the tests (tests/lib/harness.c,
 * tests/reliability/rel.h) and the benchmark (bench/proc.c) alike. */
#ifndef TESTS_LIB_CHILD_H
#define TESTS_LIB_CHILD_H

#include <stddef.h>
#include <sys/types.h>

/* Starts bin with argv (NULL-terminated, argv[0] included) and this process's environment with
 * OUTFALL_ADMIN_PASSWORD=admin_password; stdin from /dev/null, stdout and stderr to the file log
 * (appended to when append, else truncated). The child dies with this process, even when this one
 * crashes (PR_SET_PDEATHSIG), and leads its own process group, so a stop reaches anything it
 * started. Returns its pid, or -1 (errno set). */
pid_t child_spawn(const char *bin, char *const *argv, const char *log, int append,
                  const char *admin_password);

/* Reads the HOST:PORT a server wrote to its --ready-file into addr[cap]. 1 when read, 0 not
 * (yet). */
int child_read_ready(const char *ready, char *addr, size_t cap);

#endif
