/*
 * coalctl: the command-line tool of admins and finance, over the HTTP API
 * (API.md) with libcurl. main.c is wiring: global options, the client, the
 * command (cc_cmds.c).
 *
 *   coalctl [--url URL] [--key-file FILE] [--idempotency-key KEY] [-v] COMMAND ...
 *
 * The API key comes from COAL_API_KEY or a file (--key-file, COAL_API_KEY_FILE),
 * never from the command line. Every POST carries an Idempotency-Key: a new one
 * per run, or --idempotency-key to retry an earlier run's request safely.
 * Exit status: 0 ok, 1 the API answered an error (printed) or a check failed, 2
 * a usage error.
 */
#include "cc_cmds.h"
#include "cc_http.h"
#include "lc_id.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void s_help(FILE *out)
{
    fprintf(out,
            "usage: coalctl [--url URL] [--key-file FILE] [--idempotency-key KEY] [-v] "
            "COMMAND [ARGS] [--help]\n\n"
            "Admin and finance commands over the coalition's HTTP API.\n\n"
            "  --url URL              the gateway (COAL_URL; default %s)\n"
            "  --key-file FILE        a file holding the API key (COAL_API_KEY_FILE);\n"
            "                         COAL_API_KEY, when set, is used instead\n"
            "  --idempotency-key KEY  the Idempotency-Key of this run's POST (default: new);\n"
            "                         repeat a failed run's key to retry it safely\n"
            "  -v                     print each request and its status to stderr\n\n"
            "Commands (COMMAND --help for each):\n",
            CC_URL_DEFAULT);
    cc_list(out);
    fprintf(out, "\nExit status: 0 ok; 1 an API error (printed) or a failed check; 2 usage.\n");
}

int main(int argc, char **argv)
{
    const char *env_url = getenv("COAL_URL");
    cc_client_t c = {.url = env_url && *env_url ? env_url : CC_URL_DEFAULT};
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        const char *a = argv[i];
        bool has_value = i + 1 < argc;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            s_help(stdout);
            return CC_EXIT_OK;
        } else if (!strcmp(a, "-v")) {
            c.verbose = true;
        } else if (!strcmp(a, "--url") && has_value) {
            c.url = argv[++i];
        } else if (!strcmp(a, "--key-file") && has_value) {
            c.key_file = argv[++i];
        } else if (!strcmp(a, "--idempotency-key") && has_value) {
            c.idem = argv[++i];
        } else {
            fprintf(stderr, "coalctl: unknown option %s\n", a);
            s_help(stderr);
            return CC_EXIT_USAGE;
        }
    }
    if (i == argc) {
        s_help(stderr);
        return CC_EXIT_USAGE;
    }
    char idem[LC_ID_STRLEN + 1];
    if (!c.idem) {
        lc_id_t id;
        if (lc_id_new(&id) != 0) {
            fprintf(stderr, "coalctl: no randomness for an Idempotency-Key\n");
            return CC_EXIT_FAILED;
        }
        lc_id_format(&id, idem);
        c.idem = idem;
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fprintf(stderr, "coalctl: cannot initialise libcurl\n");
        return CC_EXIT_FAILED;
    }
    int rc = cc_run(&c, argc - i, argv + i);
    cc_client_close(&c);
    curl_global_cleanup();
    return rc;
}
