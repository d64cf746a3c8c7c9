/* The world of the role × endpoint matrix (tests/api/test_roles.c): the callers (one column
 * each), the records they act on, one cell's call and what came back, and how a call is sent (as
 * REST, or as its Connect twin: tests/api/roles_connect.h). Included by tests/api/roles_calls.h
 * only, which holds the calls. */
#ifndef TESTS_API_ROLES_WORLD_H
#define TESTS_API_ROLES_WORLD_H

#include <setjmp.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <jansson.h>

#include "common/credit_code.h"
#include "common/pbjson.h"
#include "common/util.h"
#include "tests/lib/harness.h"

#define DIV_A "410882"
#define DIV_B "410803"
#define TTL_S 2
#define PHOTO "qinhe-outfall-a-1.jpg"

/* The callers, in the matrix's column order. */
enum {
    SURVEYOR,
    SUPERVISOR,
    INTEGRATOR,
    ADMIN,
    OTHER_DIV,
    NO_TOKEN,
    EXPIRED,
    REVOKED,
    FOREIGN,
    PROVINCE, /* the province checker (省级核查): reads like a city supervisor, writes its checks */
    N_COLS
};
static const char *const col_names[N_COLS] = {"surveyor",
                                              "supervisor",
                                              "integrator",
                                              "admin",
                                              "another_division_supervisor",
                                              "no_token",
                                              "expired_token",
                                              "revoked_token",
                                              "another_users_device_signature",
                                              "province_checker"};

static th_server srv;     /* the world */
static th_server ttl_srv; /* --token-ttl 2: the expired token's server */
static th_user s_a, s_a2, sup_a, integ, sup_b, leaver, checker;
static th_device dev_s_a, dev_s_a2, dev_sup_a, dev_admin, dev_sup_b, dev_ghost, dev_checker;
static char rec_a[37], obs_a[37], photo_a[65]; /* record A, its observation and photo */
/* Record U of division A, never approved: its observation and photo, which integrators never
 * read (the outfall itself is hidden from them). */
static char rec_u[37], obs_u[37], photo_u[65];
static char expired_token[128];
static th_user admin_user = {.name = "admin", .password = TH_ADMIN_PASSWORD};

/* Who calls, for one column. */
typedef struct who {
    th_server *srv;
    const char *token; /* sent as the bearer token; NULL: none */
    th_user *user;     /* whose name and password a login sends */
    th_device *device; /* the phone its batches come from */
} who;

/* The caller of column col. */
static who who_of(int col) {
    switch (col) {
    case SURVEYOR:
        return (who){&srv, s_a.token, &s_a, &dev_s_a};
    case SUPERVISOR:
        return (who){&srv, sup_a.token, &sup_a, &dev_sup_a};
    case INTEGRATOR:
        return (who){&srv, integ.token, &integ, &dev_s_a};
    case ADMIN:
        return (who){&srv, th_admin_token(&srv), &admin_user, &dev_admin};
    case OTHER_DIV:
        return (who){&srv, sup_b.token, &sup_b, &dev_sup_b};
    case NO_TOKEN:
        return (who){&srv, NULL, &s_a, &dev_s_a};
    case EXPIRED:
        return (who){&ttl_srv, expired_token, &admin_user, &dev_ghost};
    case REVOKED:
        return (who){&srv, leaver.token, &leaver, &dev_s_a};
    case PROVINCE:
        return (who){&srv, checker.token, &checker, &dev_checker};
    default:
        return (who){&srv, s_a.token, &s_a, &dev_s_a2}; /* FOREIGN */
    }
}

/* One cell's call: who makes it and what its preparation made. */
typedef struct ctx {
    int col;
    who w;
    char token[128]; /* a fresh token of w's user (logout) */
    char id[40];     /* a record or device made for this cell */
    int64_t version; /* the record's version */
    th_file photo;   /* a fresh photo for an upload */
    char hash[65];
} ctx;

/* What came back: the status, and the Error's code (non-2xx) or the row's tag (2xx). */
typedef struct outcome {
    long status;
    char code[64];
} outcome;

/* A Connect method's path (tests/api/roles_connect.h) while its REST twin's call runs: send
 * then POSTs there, with a JSON {} when the twin sends no body. NULL: the twin's own path. */
static const char *rpc_path;

/* Our stable code from a Connect error body (its outfall.v1.Error detail's debug form) into
 * o->code. */
static void connect_code(const th_response *r, outcome *o) {
    json_t *body = json_loadb((const char *)r->body, r->len, 0, NULL);
    json_t *detail = json_array_get(json_object_get(body, "details"), 0);
    const char *code = json_string_value(json_object_get(json_object_get(detail, "debug"), "code"));
    util_strlcpy(o->code, code ? code : "<not a Connect error>", sizeof o->code);
    json_decref(body);
}

/* Sends a request as c (the FOREIGN column adds the other user's phone's signature of the body)
 * and fills o's status and, on non-2xx, its error code. out (may be NULL) keeps the answer;
 * else it is freed. */
static void send(ctx *c, const char *method, const char *path, const char *const *headers,
                 const void *body, size_t len, outcome *o, th_xresult *out) {
    const char *h[12] = {NULL};
    char sig[160];
    int n = 0;
    for (int i = 0; headers && headers[i] && n < 10; i++)
        h[n++] = headers[i];
    if (rpc_path) {
        method = "POST";
        path = rpc_path;
        if (!body) {
            h[n++] = "Content-Type: application/json";
            body = "{}";
            len = 2;
        }
    }
    if (c->col == FOREIGN) {
        char *b64 = th_sign_b64(dev_s_a2.sk, body ? body : "", body ? len : 0);
        snprintf(sig, sizeof sig, "X-Device-Signature: %s", b64 ? b64 : "");
        free(b64);
        h[n++] = sig;
    }
    th_xfer x = {.method = method,
                 .path = path,
                 .token = c->token[0] ? c->token : c->w.token,
                 .headers = h,
                 .body = body,
                 .len = len};
    th_xresult local, *r = out ? out : &local;
    o->status = th_xfer_run(c->w.srv, &x, r);
    o->code[0] = '\0';
    if ((o->status < 200 || o->status > 299) && rpc_path) {
        connect_code(&r->r, o);
    } else if (o->status < 200 || o->status > 299) {
        th_error e;
        th_error_decode(&r->r, &e);
        util_strlcpy(o->code, e.code, sizeof o->code);
    }
    if (!out) th_response_free(&local.r);
}

/* Sends msg as JSON. */
static void send_msg(ctx *c, const char *method, const char *path, const ProtobufCMessage *msg,
                     outcome *o, th_xresult *out) {
    char *text = pbjson_encode(msg, 0);
    assert_non_null(text);
    const char *h[] = {"Content-Type: application/json", NULL};
    send(c, method, path, h, text, strlen(text), o, out);
    free(text);
}

/* The 2xx answer in out as a message of type desc (JSON), or NULL. */
static ProtobufCMessage *answer(const th_xresult *out, const ProtobufCMessageDescriptor *desc) {
    ProtobufCMessage *m = NULL;
    char why[256];
    if (pbjson_decode(desc, (const char *)out->r.body, out->r.len, &m, why, sizeof why) < 0)
        print_error("answer is not a %s: %s\n", desc->name, why);
    return m;
}

/* The 2xx tag of a list that does (seen) or does not show record A. */
static void tag_seen(outcome *o, int seen) {
    util_strlcpy(o->code, seen ? "+A" : "-A", sizeof o->code);
}

#endif
