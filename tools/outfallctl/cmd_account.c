/* Accounts: `login USER`, `users add|list|set-role|set-divisions|disable|enable|reset-password|
 * devices|tokens|revoke-device|revoke-token`, `password` (one's own). */
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

/* PATCH /v1/users/{username} with change; prints the User as stored. */
static int users_patch(const ctl *c, const char *username, const Outfall__V1__User *change) {
    char path[160];
    snprintf(path, sizeof path, "/v1/users/%s", username);
    Outfall__V1__User *out = NULL;
    int rc = ctl_call(c, "PATCH", path, &change->base, NULL, &outfall__v1__user__descriptor,
                      (ProtobufCMessage **)&out);
    if (rc != CTL_OK) return rc;
    rc = ctl_print(&out->base);
    outfall__v1__user__free_unpacked(out, NULL);
    return rc;
}

static int users_set_role(const ctl *c, char **args, char **divisions, size_t n) {
    (void)divisions, (void)n;
    int r = parse_role(args[1]);
    if (!r) {
        fprintf(stderr, "outfallctl: ROLE is surveyor, supervisor, integrator or admin\n");
        return ctl_usage(1);
    }
    Outfall__V1__User u = OUTFALL__V1__USER__INIT;
    u.has_role = 1;
    u.role = (Outfall__V1__Role)r;
    return users_patch(c, args[0], &u);
}

static int users_set_divisions(const ctl *c, char **args, char **divisions, size_t n) {
    if (n == 0) {
        fprintf(stderr, "outfallctl: users set-divisions needs at least one --division\n");
        return ctl_usage(1);
    }
    Outfall__V1__User u = OUTFALL__V1__USER__INIT;
    u.n_divisions = n;
    u.divisions = divisions;
    return users_patch(c, args[0], &u);
}

static int users_disabled(const ctl *c, const char *username, int disabled) {
    Outfall__V1__User u = OUTFALL__V1__USER__INIT;
    u.has_disabled = 1;
    u.disabled = disabled;
    return users_patch(c, username, &u);
}
static int users_disable(const ctl *c, char **args, char **divisions, size_t n) {
    (void)divisions, (void)n;
    return users_disabled(c, args[0], 1);
}
static int users_enable(const ctl *c, char **args, char **divisions, size_t n) {
    (void)divisions, (void)n;
    return users_disabled(c, args[0], 0);
}

/* The one-time password is the admin's from env OUTFALL_NEW_PASSWORD, else the server's; the
 * answer (with it) is printed this once. */
static int users_reset_password(const ctl *c, char **args, char **divisions, size_t n) {
    (void)divisions, (void)n;
    char path[160];
    snprintf(path, sizeof path, "/v1/users/%s/password", args[0]);
    const char *given = getenv("OUTFALL_NEW_PASSWORD");
    Outfall__V1__PasswordReset rq = OUTFALL__V1__PASSWORD_RESET__INIT;
    rq.password = given && *given ? (char *)given : NULL;
    Outfall__V1__PasswordReset *out = NULL;
    int rc = ctl_call(c, "POST", path, &rq.base, NULL, &outfall__v1__password_reset__descriptor,
                      (ProtobufCMessage **)&out);
    if (rc != CTL_OK) return rc;
    rc = ctl_print(&out->base);
    if (out->password) sodium_memzero(out->password, strlen(out->password));
    outfall__v1__password_reset__free_unpacked(out, NULL);
    return rc;
}

/* GET /v1/users/{username}/{what}, printed as desc. */
static int users_show(const ctl *c, const char *username, const char *what,
                      const ProtobufCMessageDescriptor *desc) {
    char path[160];
    snprintf(path, sizeof path, "/v1/users/%s/%s", username, what);
    ProtobufCMessage *out = NULL;
    int rc = ctl_call(c, "GET", path, NULL, NULL, desc, &out);
    if (rc != CTL_OK) return rc;
    rc = ctl_print(out);
    protobuf_c_message_free_unpacked(out, NULL);
    return rc;
}
static int users_devices(const ctl *c, char **args, char **divisions, size_t n) {
    (void)divisions, (void)n;
    return users_show(c, args[0], "devices", &outfall__v1__device_list__descriptor);
}
static int users_tokens(const ctl *c, char **args, char **divisions, size_t n) {
    (void)divisions, (void)n;
    return users_show(c, args[0], "tokens", &outfall__v1__token_list__descriptor);
}

/* DELETE /v1/users/{username}/{what}/{id}; prints "revoked ID". */
static int users_revoke(const ctl *c, const char *username, const char *what, const char *id) {
    char path[256];
    snprintf(path, sizeof path, "/v1/users/%s/%s/%s", username, what, id);
    int rc = ctl_call(c, "DELETE", path, NULL, NULL, NULL, NULL);
    if (rc == CTL_OK) printf("revoked %s\n", id);
    return rc;
}
static int users_revoke_device(const ctl *c, char **args, char **divisions, size_t n) {
    (void)divisions, (void)n;
    return users_revoke(c, args[0], "devices", args[1]);
}
static int users_revoke_token(const ctl *c, char **args, char **divisions, size_t n) {
    (void)divisions, (void)n;
    return users_revoke(c, args[0], "tokens", args[1]);
}

/* The `users` verbs that act on one account: name, positional arguments after the verb's USER
 * (args[0] is USER), handler. */
static const struct {
    const char *name;
    int args; /* USER and what follows it */
    int (*run)(const ctl *c, char **args, char **divisions, size_t n);
} user_verbs[] = {
    {"set-role", 2, users_set_role},
    {"set-divisions", 1, users_set_divisions},
    {"disable", 1, users_disable},
    {"enable", 1, users_enable},
    {"reset-password", 1, users_reset_password},
    {"devices", 1, users_devices},
    {"tokens", 1, users_tokens},
    {"revoke-device", 2, users_revoke_device},
    {"revoke-token", 2, users_revoke_token},
};

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
    const char *verb = npos > 0 ? argv[optind] : "";
    if (npos == 1 && strcmp(verb, "list") == 0 && !role && n_divisions == 0) {
        Outfall__V1__UserList *list = NULL;
        int rc = ctl_call(c, "GET", "/v1/users", NULL, NULL, &outfall__v1__user_list__descriptor,
                          (ProtobufCMessage **)&list);
        if (rc != CTL_OK) return rc;
        rc = ctl_print(&list->base);
        outfall__v1__user_list__free_unpacked(list, NULL);
        return rc;
    }
    if (npos == 2 && strcmp(verb, "add") == 0) {
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
    if (!role && (n_divisions == 0 || strcmp(verb, "set-divisions") == 0))
        for (size_t i = 0; i < sizeof user_verbs / sizeof *user_verbs; i++)
            if (strcmp(verb, user_verbs[i].name) == 0 && npos == 1 + user_verbs[i].args)
                return user_verbs[i].run(c, argv + optind + 1, divisions, n_divisions);
    fprintf(stderr,
            "outfallctl: users takes add, list, set-role, set-divisions, disable, enable, "
            "reset-password, devices, tokens, revoke-device or revoke-token (see --help)\n");
    return ctl_usage(1);
}

/* `password`: changes the token's user's own password. The current one comes from env
 * OUTFALL_PASSWORD, else a prompt; the new one from env OUTFALL_NEW_PASSWORD, else a prompt
 * (asked twice). Other sign-ins of the user end; this token stays. */
int cmd_password(const ctl *c, int argc, char **argv) {
    int opt = getopt_long(argc, argv, "h", help_only, NULL);
    if (opt == 'h') {
        ctl_usage(0);
        return CTL_OK;
    }
    if (opt != -1 || argc - optind != 0) return ctl_usage(1);
    char current[CTL_PASSWORD_MAX], fresh[CTL_PASSWORD_MAX], again[CTL_PASSWORD_MAX];
    const char *env_current = getenv("OUTFALL_PASSWORD"), *env_new = getenv("OUTFALL_NEW_PASSWORD");
    int rc = CTL_OK;
    if (env_current)
        snprintf(current, sizeof current, "%s", env_current);
    else if (read_password("current password: ", current, sizeof current) != 0)
        return ctl_fail("no password given");
    if (env_new) {
        snprintf(fresh, sizeof fresh, "%s", env_new);
    } else if (read_password("new password: ", fresh, sizeof fresh) != 0 ||
               read_password("new password again: ", again, sizeof again) != 0) {
        rc = ctl_fail("no new password given");
        goto done;
    } else if (strcmp(fresh, again) != 0) {
        rc = ctl_fail("the two new passwords differ");
        goto done;
    }
    Outfall__V1__PasswordChange rq = OUTFALL__V1__PASSWORD_CHANGE__INIT;
    rq.current_password = current;
    rq.new_password = fresh;
    rc = ctl_call(c, "POST", "/v1/me/password", &rq.base, NULL, NULL, NULL);
    if (rc == CTL_OK) printf("password changed\n");
done:
    sodium_memzero(current, sizeof current);
    sodium_memzero(fresh, sizeof fresh);
    sodium_memzero(again, sizeof again);
    return rc;
}
