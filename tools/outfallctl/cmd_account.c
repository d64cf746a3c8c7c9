/* Accounts: `login USER`, `users add USER --role R --division CODE...`, `users list`. */
#include <getopt.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <termios.h>
#include <unistd.h>

#include "outfall/v1/outfall.pb-c.h"
#include "tools/outfallctl/ctl.h"

enum { CTL_MAX_DIVISIONS = 16, CTL_PASSWORD_MAX = 256 };

static const struct option help_only[] = {{"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};

/* Reads a password from the terminal without echo (or a line of stdin when there is no
 * terminal) into buf[cap]. Returns 0 or -1. */
static int read_password(const char *prompt, char *buf, size_t cap) {
    FILE *tty = fopen("/dev/tty", "r+");
    FILE *in = tty ? tty : stdin;
    struct termios old, quiet;
    int restore = 0;
    if (tty) {
        fputs(prompt, tty);
        fflush(tty);
        if (tcgetattr(fileno(tty), &old) == 0) {
            quiet = old;
            quiet.c_lflag &= ~(tcflag_t)ECHO;
            restore = tcsetattr(fileno(tty), TCSAFLUSH, &quiet) == 0;
        }
    }
    char *line = fgets(buf, (int)cap, in);
    if (restore) {
        tcsetattr(fileno(tty), TCSAFLUSH, &old);
        fputc('\n', tty);
    }
    if (tty) fclose(tty);
    if (!line) return -1;
    buf[strcspn(buf, "\r\n")] = '\0';
    return 0;
}

int cmd_login(const ctl *c, int argc, char **argv) {
    int opt = getopt_long(argc, argv, "h", help_only, NULL);
    if (opt == 'h') {
        ctl_usage(0);
        return CTL_OK;
    }
    if (opt != -1) return ctl_usage(1);
    if (argc - optind != 1) {
        fprintf(stderr, "outfallctl: login takes one USER\n");
        return ctl_usage(1);
    }
    char password[CTL_PASSWORD_MAX];
    const char *env = getenv("OUTFALL_PASSWORD");
    if (env)
        snprintf(password, sizeof password, "%s", env);
    else if (read_password("password: ", password, sizeof password) != 0)
        return ctl_fail("no password given");

    Outfall__V1__LoginRequest rq = OUTFALL__V1__LOGIN_REQUEST__INIT;
    rq.username = argv[optind];
    rq.password = password;
    ctl anonymous = {.server = c->server, .token = NULL};
    Outfall__V1__LoginResponse *resp = NULL;
    int rc = ctl_call(&anonymous, "POST", "/v1/auth/login", &rq.base, NULL,
                      &outfall__v1__login_response__descriptor, (ProtobufCMessage **)&resp);
    sodium_memzero(password, sizeof password);
    if (rc != CTL_OK) return rc;
    if (resp->token)
        printf("%s\n", resp->token);
    else
        rc = ctl_fail("the server answered without a token");
    outfall__v1__login_response__free_unpacked(resp, NULL);
    return rc;
}

/* A Role from "surveyor" or "ROLE_SURVEYOR" (any case); 0 when unknown. */
static int parse_role(const char *text) {
    const ProtobufCEnumDescriptor *d = &outfall__v1__role__descriptor;
    if (strncasecmp(text, "ROLE_", 5) == 0) text += 5;
    for (unsigned i = 0; i < d->n_values; i++)
        if (d->values[i].value != 0 && strcasecmp(d->values[i].name + 5, text) == 0)
            return d->values[i].value;
    return 0;
}

static int users_add(const ctl *c, const char *username, int role, char **divisions,
                     size_t n_divisions) {
    char generated[64] = "";
    const char *password = getenv("OUTFALL_NEW_PASSWORD");
    if (!password || !*password) {
        unsigned char raw[16];
        randombytes_buf(raw, sizeof raw);
        sodium_bin2base64(generated, sizeof generated, raw, sizeof raw,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING);
        password = generated;
    }
    Outfall__V1__User u = OUTFALL__V1__USER__INIT;
    u.username = (char *)username;
    u.password = (char *)password;
    u.has_role = 1;
    u.role = (Outfall__V1__Role)role;
    u.n_divisions = n_divisions;
    u.divisions = divisions;
    Outfall__V1__User *made = NULL;
    int rc = ctl_call(c, "POST", "/v1/users", &u.base, NULL, &outfall__v1__user__descriptor,
                      (ProtobufCMessage **)&made);
    if (rc != CTL_OK) return rc;
    /* Print the account as the server stored it (or as sent, if it answered with no body),
     * with the password only when it was generated here: it is shown this once. */
    Outfall__V1__User *shown = made && made->username ? made : &u;
    char *saved = shown->password;
    shown->password = generated[0] ? generated : NULL;
    rc = ctl_print(&shown->base);
    shown->password = saved;
    if (made) outfall__v1__user__free_unpacked(made, NULL);
    return rc;
}

int cmd_users(const ctl *c, int argc, char **argv) {
    static const struct option opts[] = {
        {"role", required_argument, NULL, 'r'},
        {"division", required_argument, NULL, 'd'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *role = NULL;
    char *divisions[CTL_MAX_DIVISIONS];
    size_t n_divisions = 0;
    int opt;
    while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (opt) {
        case 'r':
            role = optarg;
            break;
        case 'd':
            if (n_divisions == CTL_MAX_DIVISIONS) {
                fprintf(stderr, "outfallctl: at most %d divisions\n", CTL_MAX_DIVISIONS);
                return ctl_usage(1);
            }
            divisions[n_divisions++] = optarg;
            break;
        case 'h':
            ctl_usage(0);
            return CTL_OK;
        default:
            return ctl_usage(1);
        }
    }
    int npos = argc - optind;
    if (npos == 1 && strcmp(argv[optind], "list") == 0 && !role && n_divisions == 0) {
        Outfall__V1__UserList *list = NULL;
        int rc = ctl_call(c, "GET", "/v1/users", NULL, NULL, &outfall__v1__user_list__descriptor,
                          (ProtobufCMessage **)&list);
        if (rc != CTL_OK) return rc;
        rc = ctl_print(&list->base);
        outfall__v1__user_list__free_unpacked(list, NULL);
        return rc;
    }
    if (npos == 2 && strcmp(argv[optind], "add") == 0) {
        int r = role ? parse_role(role) : 0;
        if (!r) {
            fprintf(stderr, "outfallctl: users add needs --role surveyor, supervisor, integrator, "
                            "admin or province_checker\n");
            return ctl_usage(1);
        }
        if (n_divisions == 0 && r != OUTFALL__V1__ROLE__ROLE_ADMIN &&
            r != OUTFALL__V1__ROLE__ROLE_INTEGRATOR &&
            r != OUTFALL__V1__ROLE__ROLE_PROVINCE_CHECKER) {
            fprintf(stderr, "outfallctl: users add needs at least one --division\n");
            return ctl_usage(1);
        }
        return users_add(c, argv[optind + 1], r, divisions, n_divisions);
    }
    fprintf(stderr, "outfallctl: users takes `add USER --role R --division CODE` or `list`\n");
    return ctl_usage(1);
}
