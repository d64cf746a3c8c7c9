#include "tests/lib/child.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "common/util.h"

extern char **environ;

static const char admin_key[] = "OUTFALL_ADMIN_PASSWORD=";

pid_t child_spawn(const char *bin, char *const *argv, const char *log, int append,
                  const char *admin_password) {
    size_t n = 0;
    while (environ[n])
        n++;
    char **env = calloc(n + 2, sizeof *env);
    char *admin = malloc(sizeof admin_key + strlen(admin_password));
    int logfd = open(log, O_WRONLY | O_CREAT | O_CLOEXEC | (append ? O_APPEND : O_TRUNC), 0600);
    int nullfd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    pid_t parent = getpid(), pid = -1;
    int saved = ENOMEM;
    if (env && admin && logfd >= 0 && nullfd >= 0) {
        size_t k = 0;
        for (size_t i = 0; i < n; i++)
            if (strncmp(environ[i], admin_key, sizeof admin_key - 1) != 0) env[k++] = environ[i];
        snprintf(admin, sizeof admin_key + strlen(admin_password), "%s%s", admin_key,
                 admin_password);
        env[k++] = admin;
        env[k] = NULL;
        pid = fork();
        saved = errno;
    } else if (logfd < 0 || nullfd < 0) {
        saved = errno;
    }
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        setpgid(0, 0);
        if (getppid() != parent) _exit(127);
        dup2(nullfd, 0);
        dup2(logfd, 1);
        dup2(logfd, 2);
        execve(bin, argv, env);
        _exit(127);
    }
    if (pid > 0) setpgid(pid, pid); /* also here: whichever runs first */
    if (logfd >= 0) close(logfd);
    if (nullfd >= 0) close(nullfd);
    free(env);
    free(admin);
    if (pid < 0) errno = saved;
    return pid;
}

int child_read_ready(const char *ready, char *addr, size_t cap) {
    FILE *f = fopen(ready, "r");
    if (!f) return 0;
    char line[96] = "";
    int ok = fgets(line, sizeof line, f) != NULL;
    fclose(f);
    line[strcspn(line, "\r\n")] = '\0';
    if (!ok || !strchr(line, ':')) return 0;
    util_strlcpy(addr, line, cap);
    return 1;
}
