/* outfallctl [--server URL] [--token T] COMMAND ...: admin tasks and a field-phone simulator for
 * an outfalld server. The command table below is the whole surface. */
#include <curl/curl.h>
#include <getopt.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/outfallctl/ctl.h"

static const char usage_text[] =
    "usage: outfallctl [--server URL] [--token TOKEN] COMMAND [ARGS]\n"
    "\n"
    "Admin tasks and a field-phone simulator for an outfalld server. Messages go over the\n"
    "wire as protobuf and are printed as protobuf JSON.\n"
    "\n"
    "Options:\n"
    "  --server URL    the server (env OUTFALL_SERVER; default " CTL_DEFAULT_SERVER ")\n"
    "  --token TOKEN   the bearer token (env OUTFALL_TOKEN); `login` prints one\n"
    "  -h, --help      this text\n"
    "\n"
    "Commands:\n"
    "  login USER\n"
    "      Log in and print the token. The password comes from env OUTFALL_PASSWORD, else a\n"
    "      prompt.\n"
    "  users add USER --role ROLE --division CODE [--division CODE ...]\n"
    "      Create an account (admin). ROLE: surveyor, supervisor, integrator, admin or\n"
    "      province_checker (no division: reads the whole city). CODE: a\n"
    "      GB/T 2260 division, 410800 for the whole city. The password comes from env\n"
    "      OUTFALL_NEW_PASSWORD, else one is generated and printed with the account.\n"
    "  users list\n"
    "      List the accounts (admin).\n"
    "  users set-role USER ROLE | users set-divisions USER --division CODE [...]\n"
    "      Change an account's role or divisions (admin). The user's sign-ins end.\n"
    "  users disable USER | users enable USER\n"
    "      Disable an account (its sign-ins end, it cannot log in or sync) or enable it again\n"
    "      (admin; never your own account or the last admin).\n"
    "  users reset-password USER\n"
    "      Reset a password (admin) and print the one-time password, shown this once (env\n"
    "      OUTFALL_NEW_PASSWORD chooses it). The user must change it at the next login.\n"
    "  users devices USER | users tokens USER\n"
    "      List a user's phones or signed-in tokens (ids, never the tokens): your own, or\n"
    "      anyone's as admin.\n"
    "  users revoke-device USER ID | users revoke-token USER ID\n"
    "      Revoke one of them.\n"
    "  password\n"
    "      Change your own password: the current one from env OUTFALL_PASSWORD, the new one\n"
    "      from env OUTFALL_NEW_PASSWORD, else prompts. Your other sign-ins end.\n"
    "  device enroll --id ID --name NAME --key FILE\n"
    "      Make an Ed25519 key pair, write it to FILE (mode 0600; an existing FILE is never\n"
    "      overwritten) and enroll its public key for the token's user.\n"
    "  push FILE.json --key FILE [--device ID] --seq N [--keep DIR]\n"
    "      Send FILE.json as one signed batch and print the SyncResponse. FILE.json holds a\n"
    "      SyncRequest in protobuf JSON, or a JSON array of Change objects. A missing batchId,\n"
    "      changeId, or entityId of a create (baseVersion 0) is filled with a new UUID; the\n"
    "      device defaults to the one in the key file; --seq is the device's batch number\n"
    "      (1, 2, 3 ...). --keep DIR keeps each batch pushed until a backup holds it and\n"
    "      sends what it keeps again after a restore (docs/sync.md, Kept until durable).\n"
    "  pull [--since N] [--limit N]\n"
    "      Print the change feed after cursor N (default 0), at most N entries.\n"
    "  photos upload DIR [--chunk BYTES]\n"
    "      Upload the photos of DIR (.jpg .jpeg .png .heic .heif) the server lacks: each is\n"
    "      hashed (BLAKE2b-256), the server is asked which it misses, and those go with tus in\n"
    "      chunks (default 1 MiB, each with a sha256 checksum). An interrupted upload goes on\n"
    "      from the server's offset. Progress goes to stderr: a bar on a terminal, else a line\n"
    "      per file; a summary to stdout.\n"
    "  photos verify [--data DATA] [--photo-store local|s3://BUCKET/PREFIX ...]\n"
    "      Read back every photo DATA's database records from its store (the folder, or the\n"
    "      bucket with --photo-store-endpoint, -region, -credentials as outfalld takes them)\n"
    "      and hash it: one line per photo missing or bad on stderr, a summary on stdout.\n"
    "      Exit 1 when any is not whole.\n"
    "  photos migrate --data DATA --photo-store s3://BUCKET/PREFIX --photo-store-endpoint URL\n"
    "      Copy the folder's recorded photos into the bucket, each checked against its hash\n"
    "      first; one already there with the right size and digest is skipped, so a run that\n"
    "      stopped goes on. Progress on stderr. Then start outfalld with the same flags.\n"
    "  backup DIR [--data DATA]\n"
    "      Copy the data folder DATA (default ./data) into the new or empty folder DIR while\n"
    "      the server runs: the database through SQLite's online backup API (one consistent\n"
    "      snapshot), then every photo that copy records, each checked against its BLAKE2b-256,\n"
    "      and a MANIFEST written last. Reads DATA's files directly (run it on the server's\n"
    "      machine); needs no token.\n"
    "  restore DIR --data DATA\n"
    "      Check the backup DIR whole (manifest, database digest, integrity_check, every\n"
    "      photo's hash) and copy it into DATA, which must be new or empty; then start the\n"
    "      server with --data DATA. Offline: works on the files, never on a running server.\n"
    "  backup --to s3://BUCKET/PREFIX [--data DATA] [--photo-store local|s3://...]\n"
    "      One backup into the bucket, as outfalld's --backup-to makes them (the bucket reached\n"
    "      with --photo-store-endpoint, -region, -credentials): the database uploaded, read\n"
    "      back and checked, the local photos it records, a MANIFEST last; recorded as\n"
    "      confirmed in DATA (sync answers' durable_seq).\n"
    "  restore --from s3://BUCKET/PREFIX [--at NAME] --data NEWDIR [--photo-store ...]\n"
    "      Restore the newest confirmed backup (or NAME) into the new or empty NEWDIR: digest,\n"
    "      integrity_check and both chains checked, the local photos downloaded and checked,\n"
    "      a new store epoch (phones resend what they kept).\n"
    "  audit verify [--data DATA]\n"
    "      Walk the hash chains of the audit trail and of the field history in DATA's database\n"
    "      (opened read-only, directly; the server may run) and report the first broken link\n"
    "      of each. Prints each chain's head hash: note it elsewhere to detect a cut tail.\n"
    "      Exit 1 when a chain is broken.\n"
    "  inspections verify ID | inspections verify --file FILE.json\n"
    "      Fetch the published draw ID (GET /public/inspections/ID; no token needed) or read one\n"
    "      saved as protobuf JSON, recompute it from its seed, candidates, inspectors and the\n"
    "      previous round (the procedure of programme/draws.h), and say whether it matches.\n"
    "      Exit 1 on a mismatch.\n"
    "\n"
    "Exit status: 0 done; 1 the server refused (its error code and message are printed), could\n"
    "not be reached, or a local file could not be used; 2 bad usage.\n";

int ctl_usage(int short_form) {
    if (short_form)
        fputs("usage: outfallctl [--server URL] [--token TOKEN] COMMAND [ARGS]\n"
              "Run `outfallctl --help` for the commands.\n",
              stderr);
    else
        fputs(usage_text, stdout);
    return CTL_USAGE;
}

static const struct {
    const char *name;
    int (*run)(const ctl *c, int argc, char **argv);
} commands[] = {
    {"login", cmd_login},
    {"users", cmd_users},
    {"password", cmd_password},
    {"device", cmd_device},
    {"push", cmd_push},
    {"pull", cmd_pull},
    {"photos", cmd_photos},
    {"backup", cmd_backup},
    {"restore", cmd_restore},
    {"audit", cmd_audit},
    {"inspections", cmd_inspections},
};

int main(int argc, char **argv) {
    static const struct option opts[] = {
        {"server", required_argument, NULL, 's'},
        {"token", required_argument, NULL, 't'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    char server[1024];
    const char *env_server = getenv("OUTFALL_SERVER");
    const char *token = getenv("OUTFALL_TOKEN");
    snprintf(server, sizeof server, "%s",
             env_server && *env_server ? env_server : CTL_DEFAULT_SERVER);
    int opt;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
        switch (opt) {
        case 's':
            snprintf(server, sizeof server, "%s", optarg);
            break;
        case 't':
            token = optarg;
            break;
        case 'h':
            ctl_usage(0);
            return CTL_OK;
        default:
            fprintf(stderr, "outfallctl: unknown or incomplete option %s\n", argv[optind - 1]);
            return ctl_usage(1);
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "outfallctl: no command given\n");
        return ctl_usage(1);
    }
    size_t n = strlen(server);
    while (n > 0 && server[n - 1] == '/')
        server[--n] = '\0';
    if (sodium_init() < 0) return CTL_FAIL;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) return CTL_FAIL;

    ctl c = {.server = server, .token = token && *token ? token : NULL};
    int cmd = optind, rc = -1;
    for (size_t i = 0; i < sizeof commands / sizeof *commands && rc < 0; i++) {
        if (strcmp(argv[cmd], commands[i].name) != 0) continue;
        optind = 0; /* each command parses its own options; its argv[0] is its name */
        rc = commands[i].run(&c, argc - cmd, argv + cmd);
    }
    if (rc < 0) {
        fprintf(stderr, "outfallctl: unknown command %s\n", argv[cmd]);
        rc = ctl_usage(1);
    }
    curl_global_cleanup();
    return rc;
}
