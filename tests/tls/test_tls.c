/* The production set-up (issue 5, "TLS and deployment"): Debian's nginx terminating TLS in front
 * of outfalld on loopback, with the site configuration shipped in deploy/nginx/outfall.conf. The
 * test makes a CA and a server certificate with openssl, writes an nginx configuration from the
 * shipped file (only the ports, the upstream address and the certificate paths swapped; each swap
 * must find its text, so the file cannot drift from what is tested), starts nginx on free
 * loopback ports and talks HTTPS to it with libcurl, verifying the certificate against the test
 * CA: a signed batch and photos go through it, limits and lock-outs come back as the server's.
 * nginx is stopped at the end. Without nginx or openssl the test fails: `make test` installs
 * them (test-deps) when run as root. */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <sodium.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "client/http.h"
#include "common/pbjson.h"
#include "common/util.h"
#include "tests/lib/harness.h"

#define DIV "410882"
#define SITE "deploy/nginx/outfall.conf"
#define MAX_BODY 1048576

static th_server srv;
static char dir[128] = ""; /* certificates, nginx's configuration, logs and temp files */
static char ca[200];       /* the test CA's certificate */
static int https_port, http_port;
static pid_t nginx_pid;
static char admin_token[128], surveyor_token[128], surveyor_name[64], surveyor_pw[64];
static th_device phone;

/* ---- processes ---- */

/* Runs argv (stdout and stderr into log), waits. Returns its exit status, or -1. */
static int run(char *const argv[], const char *log) {
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) dup2(fd, 1), dup2(fd, 2);
        execvp(argv[0], argv);
        _exit(127);
    }
    int status;
    if (pid < 0 || waitpid(pid, &status, 0) != pid) return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void show(const char *path) {
    char line[512];
    FILE *f = fopen(path, "r");
    while (f && fgets(line, sizeof line, f))
        fprintf(stderr, "  | %s", line);
    if (f) fclose(f);
}

/* The path of program in /usr/sbin, /usr/bin or /sbin, into out; 0 when found. */
static int find_program(const char *program, char *out, size_t cap) {
    static const char *const dirs[] = {"/usr/sbin", "/usr/bin", "/sbin", "/usr/local/sbin"};
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
        snprintf(out, cap, "%s/%s", dirs[i], program);
        if (access(out, X_OK) == 0) return 0;
    }
    return -1;
}

/* A loopback port nobody listens on now. */
static int free_port(void) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    int port = -1;
    if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    if (fd >= 0) close(fd);
    return port;
}

static int port_open(int port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int ok = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
    if (fd >= 0) close(fd);
    return ok;
}

/* ---- the certificates and nginx's configuration ---- */

/* The test CA and a certificate for 127.0.0.1 it signs. Returns 0 or -1 after printing why. */
static int make_certificates(void) {
    char ca_key[200], key[200], csr[200], crt[200], ext[200], log[200], serial[200];
    snprintf(ca, sizeof ca, "%s/ca.pem", dir);
    snprintf(ca_key, sizeof ca_key, "%s/ca.key", dir);
    snprintf(key, sizeof key, "%s/server.key", dir);
    snprintf(csr, sizeof csr, "%s/server.csr", dir);
    snprintf(crt, sizeof crt, "%s/server.pem", dir);
    snprintf(ext, sizeof ext, "%s/server.ext", dir);
    snprintf(serial, sizeof serial, "%s/ca.srl", dir);
    snprintf(log, sizeof log, "%s/openssl.log", dir);
    FILE *f = fopen(ext, "w");
    if (!f) return -1;
    fputs("basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n"
          "extendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n",
          f);
    fclose(f);
    char *ca_cmd[] = {"openssl",
                      "req",
                      "-x509",
                      "-newkey",
                      "ec",
                      "-pkeyopt",
                      "ec_paramgen_curve:prime256v1",
                      "-nodes",
                      "-keyout",
                      ca_key,
                      "-out",
                      ca,
                      "-days",
                      "2",
                      "-subj",
                      "/CN=outfall test CA",
                      "-addext",
                      "basicConstraints=critical,CA:TRUE",
                      "-addext",
                      "keyUsage=critical,keyCertSign,cRLSign",
                      NULL};
    char *csr_cmd[] = {
        "openssl",       "req",     "-newkey", "ec",   "-pkeyopt", "ec_paramgen_curve:prime256v1",
        "-nodes",        "-keyout", key,       "-out", csr,        "-subj",
        "/CN=127.0.0.1", NULL};
    char *sign_cmd[] = {"openssl", "x509",   "-req",  "-in",       csr,        "-CA",
                        ca,        "-CAkey", ca_key,  "-CAserial", serial,     "-CAcreateserial",
                        "-out",    crt,      "-days", "2",         "-extfile", ext,
                        NULL};
    if (run(ca_cmd, log) != 0 || run(csr_cmd, log) != 0 || run(sign_cmd, log) != 0) {
        fprintf(stderr, "openssl could not make the test certificates:\n");
        show(log);
        return -1;
    }
    return 0;
}

/* Replaces the one occurrence of from in *text by to; -1 (and a message) when from is not
 * there exactly once: the shipped file changed under the test. */
static int swap(char **text, const char *from, const char *to) {
    char *at = strstr(*text, from);
    if (!at || strstr(at + 1, from)) {
        fprintf(stderr, "%s: expected \"%s\" exactly once\n", SITE, from);
        return -1;
    }
    size_t head = (size_t)(at - *text), fl = strlen(from), tl = strlen(to), rest = strlen(at + fl);
    char *out = malloc(head + tl + rest + 1);
    memcpy(out, *text, head);
    memcpy(out + head, to, tl);
    memcpy(out + head + tl, at + fl, rest + 1);
    free(*text);
    *text = out;
    return 0;
}

/* nginx.conf (a main context around the shipped site) and the site with the test's ports,
 * upstream and certificates. */
static int write_config(char *conf, size_t cap) {
    FILE *f = fopen(SITE, "r");
    if (!f) {
        fprintf(stderr, "cannot read %s (run from the repository's root)\n", SITE);
        return -1;
    }
    char *site = calloc(1, 65536);
    size_t n = fread(site, 1, 65535, f);
    fclose(f);
    site[n] = '\0';
    char https[64], http[64], crt[220], key[220];
    snprintf(https, sizeof https, "listen 127.0.0.1:%d ssl http2;", https_port);
    snprintf(http, sizeof http, "listen 127.0.0.1:%d;", http_port);
    snprintf(crt, sizeof crt, "ssl_certificate     %s/server.pem;", dir);
    snprintf(key, sizeof key, "ssl_certificate_key %s/server.key;", dir);
    char upstream[96];
    snprintf(upstream, sizeof upstream, "server %s;", srv.addr);
    int rc = swap(&site, "listen 443 ssl http2;", https) |
             swap(&site, "listen [::]:443 ssl http2;", "") | swap(&site, "listen 80;", http) |
             swap(&site, "listen [::]:80;", "") | swap(&site, "server 127.0.0.1:8080;", upstream) |
             swap(&site, "ssl_certificate     /etc/ssl/outfall/fullchain.pem;", crt) |
             swap(&site, "ssl_certificate_key /etc/ssl/outfall/privkey.pem;", key);
    char site_path[200];
    snprintf(site_path, sizeof site_path, "%s/outfall.conf", dir);
    snprintf(conf, cap, "%s/nginx.conf", dir);
    FILE *s = fopen(site_path, "w"), *m = fopen(conf, "w");
    if (!rc && s && m) {
        fputs(site, s);
        /* Worker processes run as nobody when nginx starts as root: the temp folders are theirs. */
        fprintf(m,
                "worker_processes 1;\npid %s/nginx.pid;\nerror_log %s/error.log info;\n"
                "events { worker_connections 64; }\n"
                "http {\n  access_log %s/access.log;\n  client_body_temp_path %s/tmp/body;\n"
                "  proxy_temp_path %s/tmp/proxy;\n  fastcgi_temp_path %s/tmp/fastcgi;\n"
                "  uwsgi_temp_path %s/tmp/uwsgi;\n  scgi_temp_path %s/tmp/scgi;\n"
                "  default_type application/octet-stream;\n  include %s;\n}\n",
                dir, dir, dir, dir, dir, dir, dir, dir, site_path);
    }
    if (s) fclose(s);
    if (m) fclose(m);
    free(site);
    return rc || !s || !m ? -1 : 0;
}

/* 1 when the file at path holds the words. */
static int log_says(const char *path, const char *words) {
    char line[512];
    int found = 0;
    FILE *f = fopen(path, "r");
    while (f && !found && fgets(line, sizeof line, f))
        found = strstr(line, words) != NULL;
    if (f) fclose(f);
    return found;
}

/* 1 when nginx's pid file holds the pid of the nginx this test started. */
static int nginx_pid_written(void) {
    char path[220];
    snprintf(path, sizeof path, "%s/nginx.pid", dir);
    FILE *f = fopen(path, "r");
    long pid = 0;
    if (f && fscanf(f, "%ld", &pid) != 1) pid = 0;
    if (f) fclose(f);
    return pid > 0 && pid == (long)nginx_pid;
}

/* Starts nginx on https_port and http_port in front of the server: 0 when it listens on both, 1
   when it exited at start or nginx -t could not bind (a port taken since it
   was picked), -1 on any other failure. */
static int start_nginx(void) {
    char nginx[200], conf[220], log[220], tmp[200], prefix[200];
    if (find_program("nginx", nginx, sizeof nginx) != 0) {
        fprintf(stderr, "nginx is not installed: `make test` installs Debian's nginx when run as "
                        "root (apt-get install nginx)\n");
        return -1;
    }
    snprintf(tmp, sizeof tmp, "%s/tmp", dir);
    mkdir(tmp, 0777);
    chmod(tmp, 0777);
    chmod(dir, 0755);
    if (write_config(conf, sizeof conf) != 0) return -1;
    snprintf(log, sizeof log, "%s/nginx-start.log", dir);
    snprintf(prefix, sizeof prefix, "%s/", dir);
    /* The configuration must pass nginx's own check first. */
    char *check[] = {nginx, "-t", "-q", "-p", prefix, "-e", log, "-c", conf, NULL};
    if (run(check, log) != 0) {
        fprintf(stderr, "nginx -t refused the configuration made from %s:\n", SITE);
        show(log);
        return log_says(log, "Address already in use") ? 1 : -1;
    }
    nginx_pid = fork();
    if (nginx_pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) dup2(fd, 1), dup2(fd, 2);
        setpgid(0, 0);
        execl(nginx, nginx, "-p", prefix, "-e", log, "-c", conf, "-g", "daemon off;", (char *)NULL);
        _exit(127);
    }
    if (nginx_pid < 0) return -1;
    /* nginx writes its pid file only once it holds both ports: a port that answers before then
       may be another test's server that took it since free_port() let it go. */
    for (int waited = 0; waited < 10000; waited += 50) {
        if (nginx_pid_written() && port_open(https_port) && port_open(http_port)) return 0;
        int status;
        if (waitpid(nginx_pid, &status, WNOHANG) == nginx_pid) {
            nginx_pid = 0;
            fprintf(stderr, "nginx exited at start:\n");
            show(log);
            return 1;
        }
        struct timespec ts = {0, 50 * 1000000L};
        nanosleep(&ts, NULL);
    }
    fprintf(stderr, "nginx did not listen within 10 s\n");
    show(log);
    return -1;
}

/* Starts nginx on two free ports, picking others when it could not start: another test running
   at the same time may take a port between free_port() and nginx's bind. 0 when it listens. */
static int start_nginx_on_free_ports(void) {
    int rc = 1;
    for (int attempt = 0; attempt < 5 && rc == 1; attempt++) {
        https_port = free_port();
        http_port = free_port();
        while (http_port == https_port)
            http_port = free_port();
        rc = https_port < 0 || http_port < 0 ? -1 : start_nginx();
        if (rc == 1) fprintf(stderr, "trying two other ports\n");
    }
    return rc == 0 ? 0 : -1;
}

static void stop_nginx(void) {
    if (nginx_pid <= 0) return;
    kill(nginx_pid, SIGQUIT); /* graceful: workers finish, then the master exits */
    int status;
    for (int waited = 0; waited < 10000; waited += 50) {
        if (waitpid(nginx_pid, &status, WNOHANG) == nginx_pid) {
            nginx_pid = 0;
            return;
        }
        struct timespec ts = {0, 50 * 1000000L};
        nanosleep(&ts, NULL);
    }
    kill(-nginx_pid, SIGKILL);
    kill(nginx_pid, SIGKILL);
    waitpid(nginx_pid, &status, 0);
    nginx_pid = 0;
}

/* ---- HTTPS ---- */

typedef struct tls_response {
    long status;
    CURLcode curl;
    uint8_t *body;
    size_t len;
    char headers[4096];
    long http_version;
} tls_response;

static size_t on_header(char *data, size_t size, size_t n, void *user) {
    tls_response *r = user;
    size_t used = strlen(r->headers), add = size * n;
    if (used + add < sizeof r->headers) {
        memcpy(r->headers + used, data, add);
        r->headers[used + add] = '\0';
    }
    return add;
}

typedef struct tls_request {
    const char *method, *path;
    const char *token;          /* bearer; NULL none */
    const char *const *headers; /* NULL-terminated; may be NULL */
    const void *body;
    size_t len;
    const char *from; /* source address; NULL: the default */
    int no_ca;        /* verify against the system's CAs instead of the test CA */
    int plain_http;   /* to nginx's plain HTTP port */
    int trickle_ms;   /* > 0: the body goes in TRICKLE_PIECES pieces this far apart */
} tls_request;

enum { TRICKLE_PIECES = 8 };

/* A body sent a piece at a time, with a pause before each piece (a phone on a weak signal). */
typedef struct trickle {
    const uint8_t *data;
    size_t len, sent;
    int pause_ms;
} trickle;

static size_t on_read(char *out, size_t size, size_t n, void *user) {
    trickle *t = user;
    size_t piece = t->len / TRICKLE_PIECES + 1, room = size * n;
    if (t->sent >= t->len) return 0;
    if (piece > t->len - t->sent) piece = t->len - t->sent;
    if (piece > room) piece = room;
    struct timespec ts = {t->pause_ms / 1000, (t->pause_ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
    memcpy(out, t->data + t->sent, piece);
    t->sent += piece;
    return piece;
}

/* One exchange with nginx. The caller frees r->body. */
static long tls(const tls_request *q, tls_response *r) {
    memset(r, 0, sizeof *r);
    char url[256], line[256];
    snprintf(url, sizeof url, "%s://127.0.0.1:%d%s", q->plain_http ? "http" : "https",
             q->plain_http ? http_port : https_port, q->path);
    CURL *c = curl_easy_init();
    struct curl_slist *h = curl_slist_append(NULL, "Expect:");
    if (q->token) {
        snprintf(line, sizeof line, "Authorization: Bearer %s", q->token);
        h = curl_slist_append(h, line);
    }
    for (int i = 0; q->headers && q->headers[i]; i++)
        h = curl_slist_append(h, q->headers[i]);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    client_http_body got = {0};
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, client_http_body_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &got);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
    if (!q->no_ca) curl_easy_setopt(c, CURLOPT_CAINFO, ca);
    if (q->from) curl_easy_setopt(c, CURLOPT_INTERFACE, q->from);
    trickle t = {q->body, q->len, 0, q->trickle_ms};
    if (q->trickle_ms > 0) {
        int post = strcmp(q->method, "POST") == 0;
        curl_easy_setopt(c, post ? CURLOPT_POST : CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(c, post ? CURLOPT_POSTFIELDSIZE_LARGE : CURLOPT_INFILESIZE_LARGE,
                         (curl_off_t)q->len);
        curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
        curl_easy_setopt(c, CURLOPT_READDATA, &t);
    } else if (q->body || strcmp(q->method, "POST") == 0) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(q->body ? q->len : 0));
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, q->body ? (const char *)q->body : "");
    }
    if (strcmp(q->method, "GET") != 0 && strcmp(q->method, "POST") != 0)
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, q->method);
    r->curl = curl_easy_perform(c);
    r->body = got.data;
    r->len = got.len;
    if (r->curl == CURLE_OK) {
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
        curl_easy_getinfo(c, CURLINFO_HTTP_VERSION, &r->http_version);
    }
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return r->status;
}

/* The Error code of a JSON or protobuf error body. */
static void error_code(const tls_response *r, char code[64]) {
    th_response tr = {.status = r->status, .body = r->body, .len = r->len};
    th_error e;
    util_strlcpy(tr.content_type,
                 strcasestr(r->headers, "content-type: application/json") ? TH_JSON : TH_PB,
                 sizeof tr.content_type);
    th_error_decode(&tr, &e);
    util_strlcpy(code, e.code, 64);
}

/* POSTs msg as JSON and decodes a 2xx answer of type desc into *out (may be NULL). */
static long tls_json(const char *path, const char *token, const ProtobufCMessage *msg,
                     const ProtobufCMessageDescriptor *desc, ProtobufCMessage **out) {
    char *text = pbjson_encode(msg, 0);
    const char *h[] = {"Content-Type: application/json", "Accept: application/json", NULL};
    tls_request q = {"POST", path, token, h, text, text ? strlen(text) : 0, NULL, 0, 0};
    tls_response r;
    long st = tls(&q, &r);
    char why[256];
    if (out) *out = NULL;
    if (out && desc && st >= 200 && st < 300 &&
        pbjson_decode(desc, (const char *)r.body, r.len, out, why, sizeof why) < 0)
        st = 0;
    free(text);
    free(r.body);
    return st;
}

static long tls_login(const char *name, const char *password, char token[128], const char *from) {
    Outfall__V1__LoginRequest rq = OUTFALL__V1__LOGIN_REQUEST__INIT;
    rq.username = (char *)name;
    rq.password = (char *)password;
    char *text = pbjson_encode(&rq.base, 0);
    const char *h[] = {"Content-Type: application/json", "Accept: application/json", NULL};
    tls_request q = {"POST", "/v1/auth/login", NULL, h, text, strlen(text), from, 0, 0};
    tls_response r;
    long st = tls(&q, &r);
    Outfall__V1__LoginResponse *lr = NULL;
    char why[256];
    if (st == 200 && token &&
        pbjson_decode(&outfall__v1__login_response__descriptor, (const char *)r.body, r.len,
                      (ProtobufCMessage **)&lr, why, sizeof why) == 0) {
        util_strlcpy(token, lr->token, 128);
        protobuf_c_message_free_unpacked(&lr->base, NULL);
    }
    free(text);
    free(r.body);
    return st;
}

/* ---- the tests ---- */

static void https_answers_with_the_test_ca_and_hsts(void **state) {
    (void)state;
    tls_request q = {.method = "GET",
                     .path = "/healthz",
                     .headers = (const char *const[]){"Accept: application/json", NULL}};
    tls_response r;
    assert_int_equal(tls(&q, &r), 200);
    assert_non_null(strstr((const char *)r.body, "\"status\":\"ok\""));
    assert_non_null(strcasestr(r.headers, "strict-transport-security: max-age="));
    assert_int_equal(r.http_version, CURL_HTTP_VERSION_2_0); /* the site listens with http2 */
    print_message("healthz over HTTP/%s: %s\n",
                  r.http_version == CURL_HTTP_VERSION_2_0 ? "2" : "1.1", (const char *)r.body);
    free(r.body);
    /* Without the test CA the certificate is not trusted: TLS is real, not a pass-through. */
    q.no_ca = 1;
    tls(&q, &r);
    assert_int_equal(r.curl, CURLE_PEER_FAILED_VERIFICATION);
    free(r.body);
}

static void plain_http_redirects_to_https(void **state) {
    (void)state;
    tls_request q = {.method = "GET", .path = "/v1/outfalls", .plain_http = 1};
    tls_response r;
    assert_int_equal(tls(&q, &r), 301);
    assert_non_null(strcasestr(r.headers, "location: https://"));
    free(r.body);
}

static void a_signed_batch_syncs_through_tls(void **state) {
    (void)state;
    double lat, lon;
    th_spot(&lat, &lon);
    th_batch *b = th_batch_new(&phone);
    Outfall__V1__Outfall *o = th_outfall_create(b, "qinhe", DIV, lat, lon);
    o->landmark = "TLS 桥";
    const uint8_t *bytes;
    size_t len;
    assert_int_equal(th_batch_encode(b, TH_PB, &bytes, &len), 0);
    char *sig = th_sign_b64(phone.sk, bytes, len), sig_h[160];
    snprintf(sig_h, sizeof sig_h, "X-Device-Signature: %s", sig);
    const char *h[] = {"Content-Type: application/x-protobuf", "Accept: application/x-protobuf",
                       sig_h, NULL};
    tls_request q = {"POST", "/v1/sync", surveyor_token, h, bytes, len, NULL, 0, 0};
    tls_response r;
    assert_int_equal(tls(&q, &r), 200);
    Outfall__V1__SyncResponse *resp = outfall__v1__sync_response__unpack(NULL, r.len, r.body);
    assert_non_null(resp);
    assert_int_equal(resp->n_results, 1);
    assert_int_equal(resp->results[0]->status, TH_STATUS(APPLIED));
    outfall__v1__sync_response__free_unpacked(resp, NULL);
    free(r.body);
    /* The same bytes again: the first answer, nothing new (retry is safe through the proxy). */
    assert_int_equal(tls(&q, &r), 200);
    resp = outfall__v1__sync_response__unpack(NULL, r.len, r.body);
    assert_non_null(resp);
    assert_int_equal(resp->results[0]->status, TH_STATUS(APPLIED));
    outfall__v1__sync_response__free_unpacked(resp, NULL);
    free(r.body);
    /* And it reads back. */
    char path[128];
    snprintf(path, sizeof path, "/v1/outfalls/%s", th_batch_entity(b, 0));
    tls_request get = {
        "GET", path, surveyor_token, (const char *const[]){"Accept: application/json", NULL},
        NULL,  0,    NULL,           0,
        0};
    assert_int_equal(tls(&get, &r), 200);
    assert_non_null(strstr((const char *)r.body, "TLS 桥"));
    free(r.body);
    free(sig);
    th_batch_free(b);
}

static void photos_upload_through_tls_whole_and_resumable(void **state) {
    (void)state;
    th_file f;
    char hash[65], path[128];
    /* PUT of a whole photo. */
    assert_int_equal(th_photo_variant("qinhe-outfall-a-1.jpg", &f, hash), 0);
    snprintf(path, sizeof path, "/v1/photos/%s", hash);
    tls_request put = {
        "PUT",  path,  surveyor_token, (const char *const[]){"Content-Type: image/jpeg", NULL},
        f.data, f.len, NULL,           0,
        0};
    tls_response r;
    assert_int_equal(tls(&put, &r), 201);
    free(r.body);
    tls_request get = {"GET", path, surveyor_token, NULL, NULL, 0, NULL, 0, 0};
    assert_int_equal(tls(&get, &r), 200);
    char got[65];
    th_hash_hex(r.body, r.len, got);
    assert_int_equal(r.len, f.len);
    assert_string_equal(got, hash);
    free(r.body);
    th_file_free(&f);

    /* tus: creation, then three PATCHes; each chunk streams through nginx to the server. */
    assert_int_equal(th_photo_variant("no-gps.jpg", &f, hash), 0);
    char length[64], offset[64];
    snprintf(path, sizeof path, "/v1/photos/%s", hash);
    snprintf(length, sizeof length, "Upload-Length: %zu", f.len);
    tls_request create = {
        "POST", path, surveyor_token, (const char *const[]){"Tus-Resumable: 1.0.0", length, NULL},
        NULL,   0,    NULL,           0,
        0};
    assert_int_equal(tls(&create, &r), 201);
    free(r.body);
    size_t chunk = f.len / 3 + 1;
    for (size_t at = 0; at < f.len; at += chunk) {
        size_t n = f.len - at < chunk ? f.len - at : chunk;
        snprintf(offset, sizeof offset, "Upload-Offset: %zu", at);
        tls_request patch = {"PATCH",
                             path,
                             surveyor_token,
                             (const char *const[]){"Tus-Resumable: 1.0.0", offset,
                                                   "Content-Type: application/offset+octet-stream",
                                                   NULL},
                             f.data + at,
                             n,
                             NULL,
                             0,
                             0};
        assert_int_equal(tls(&patch, &r), 204);
        free(r.body);
    }
    assert_int_equal(tls(&get, &r), 200);
    th_hash_hex(r.body, r.len, got);
    assert_string_equal(got, hash);
    free(r.body);
    th_file_free(&f);
}

static void the_servers_own_limits_answer_through_nginx(void **state) {
    (void)state;
    /* Over the server's --max-body, under nginx's client_max_body_size: the server's Error. */
    size_t len = 2 * MAX_BODY;
    uint8_t *big = calloc(1, len);
    const char *h[] = {"Content-Type: application/json", "Accept: application/json", NULL};
    tls_request q = {"POST", "/v1/auth/login", NULL, h, big, len, NULL, 0, 0};
    tls_response r;
    assert_int_equal(tls(&q, &r), 413);
    char code[64];
    error_code(&r, code);
    assert_string_equal(code, "body_too_large");
    free(r.body);
    free(big);
}

static void one_clients_failures_lock_out_that_client_only(void **state) {
    (void)state;
    /* Through nginx every peer of the server is 127.0.0.1; X-Real-IP tells clients apart. Five
     * wrong passwords lock the account from that client only (sync/login_limits.h). */
    for (int i = 0; i < 5; i++)
        assert_int_equal(tls_login(surveyor_name, "guess 123456", NULL, "127.0.0.2"), 401);
    assert_int_equal(tls_login(surveyor_name, surveyor_pw, NULL, "127.0.0.2"), 429);
    assert_int_equal(tls_login(surveyor_name, surveyor_pw, NULL, "127.0.0.3"), 200);
}

/* The time the server took over its last answer to "METHOD path" (from its log, which it
 * writes just after answering: waited for up to 2 s), in ms; -1 when the log has none. */
static double server_ms(const char *method, const char *path) {
    char log[400], line[1024], want[300];
    double ms = -1;
    snprintf(log, sizeof log, "%s/server.log", srv.root);
    snprintf(want, sizeof want, " %s %s ", method, path);
    for (int tries = 0; ms < 0 && tries < 40; tries++) {
        FILE *f = fopen(log, "r");
        while (f && fgets(line, sizeof line, f)) {
            const char *at = strstr(line, want);
            double v = 0;
            int status = 0;
            if (at && sscanf(at + strlen(want), "%d %lfms", &status, &v) == 2) ms = v;
        }
        if (f) fclose(f);
        if (ms < 0) usleep(50 * 1000);
    }
    return ms;
}

/* nginx reads a body whole before it goes to the server, so a slow client holds nginx, not a
 * server worker; photo uploads stream through as they come (tus resumes from what arrived). */
static void slow_bodies_are_buffered_by_nginx_except_photo_uploads(void **state) {
    (void)state;
    char body[2048];
    int n = snprintf(body, sizeof body, "{\"hashes\":[");
    for (int i = 0; i < 20; i++)
        n += snprintf(body + n, sizeof body - (size_t)n, "%s\"%064d\"", i ? "," : "", i);
    snprintf(body + n, sizeof body - (size_t)n, "]}");
    tls_request missing = {"POST",
                           "/v1/photos/missing",
                           surveyor_token,
                           (const char *const[]){"Content-Type: application/json", NULL},
                           body,
                           strlen(body),
                           NULL,
                           0,
                           0,
                           150};
    tls_response r;
    assert_int_equal(tls(&missing, &r), 200);
    free(r.body);
    double buffered = server_ms("POST", "/v1/photos/missing");

    th_file f;
    char hash[65], path[128];
    assert_int_equal(th_photo_variant("qinhe-outfall-a-1.jpg", &f, hash), 0);
    snprintf(path, sizeof path, "/v1/photos/%s", hash);
    tls_request put = {
        "PUT",  path,  surveyor_token, (const char *const[]){"Content-Type: image/jpeg", NULL},
        f.data, f.len, NULL,           0,
        0,      150};
    assert_int_equal(tls(&put, &r), 201);
    free(r.body);
    th_file_free(&f);
    double streamed = server_ms("PUT", path);
    fprintf(stderr,
            "a body sent over %d ms: the server took %.1f ms (buffered by nginx), a "
            "photo: %.1f ms (streamed)\n",
            TRICKLE_PIECES * 150, buffered, streamed);
    assert_true(buffered >= 0 && buffered < TRICKLE_PIECES * 150 / 2);
    assert_true(streamed >= TRICKLE_PIECES * 150 / 2);
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st, (void)flag, (void)ftw;
    remove(path);
    return 0;
}

static int setup(void **state) {
    (void)state;
    char openssl[200];
    if (find_program("openssl", openssl, sizeof openssl) != 0) {
        fprintf(stderr, "openssl is not installed: `make test` installs it when run as root\n");
        return -1;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    snprintf(dir, sizeof dir, "/tmp/outfall-tls-XXXXXX");
    if (!mkdtemp(dir)) return -1;
    if (make_certificates() != 0) return -1;
    char max_body[32];
    snprintf(max_body, sizeof max_body, "%d", MAX_BODY);
    const char *args[] = {"--real-ip-header", "X-Real-IP", "--max-body", max_body, NULL};
    if (th_server_start(&srv, args) != 0) return -1;
    if (start_nginx_on_free_ports() != 0) return -1;

    /* A surveyor and a phone, made through TLS as an administrator would. */
    if (tls_login("admin", TH_ADMIN_PASSWORD, admin_token, NULL) != 200) return -1;
    util_strlcpy(surveyor_name, "tls.surveyor", sizeof surveyor_name);
    util_strlcpy(surveyor_pw, "tls surveyor password", sizeof surveyor_pw);
    char *divs[] = {DIV};
    Outfall__V1__User u = OUTFALL__V1__USER__INIT;
    u.username = surveyor_name;
    u.password = surveyor_pw;
    u.has_role = 1;
    u.role = TH_ROLE(SURVEYOR);
    u.n_divisions = 1;
    u.divisions = divs;
    if (tls_json("/v1/users", admin_token, &u.base, NULL, NULL) != 201) return -1;
    if (tls_login(surveyor_name, surveyor_pw, surveyor_token, NULL) != 200) return -1;
    th_uuid(phone.id);
    crypto_sign_keypair(phone.pk, phone.sk);
    phone.next_seq = 1;
    Outfall__V1__Device d = OUTFALL__V1__DEVICE__INIT;
    d.device_id = phone.id;
    d.has_public_key = 1;
    d.public_key.data = phone.pk;
    d.public_key.len = sizeof phone.pk;
    return tls_json("/v1/devices", surveyor_token, &d.base, NULL, NULL) == 201 ? 0 : -1;
}

static int teardown(void **state) {
    (void)state;
    stop_nginx();
    int rc = th_server_stop(&srv);
    if (dir[0] && !getenv("TH_KEEP")) nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    dir[0] = '\0';
    curl_global_cleanup();
    return rc;
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(https_answers_with_the_test_ca_and_hsts),
        cmocka_unit_test(plain_http_redirects_to_https),
        cmocka_unit_test(a_signed_batch_syncs_through_tls),
        cmocka_unit_test(photos_upload_through_tls_whole_and_resumable),
        cmocka_unit_test(the_servers_own_limits_answer_through_nginx),
        cmocka_unit_test(one_clients_failures_lock_out_that_client_only),
        cmocka_unit_test(slow_bodies_are_buffered_by_nginx_except_photo_uploads),
    };
    int failed = cmocka_run_group_tests_name("tls through nginx", tests, setup, teardown);
    teardown(NULL); /* again: a failed set-up skips it, and it is safe twice */
    return failed;
}
