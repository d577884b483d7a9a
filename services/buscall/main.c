/*
 * buscall: send one request to any service's ZeroMQ endpoint and print the reply.
 * For operators and for the README's examples; it speaks proto/README.md's
 * envelope with the same Lazy Pirate client the services use.
 *
 *   buscall tcp://127.0.0.1:7101 ledger.ping '{}'
 */
#include "lc_bus.h"
#include "lc_err.h"
#include "lc_log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

int main(int argc, char **argv)
{
    if (argc < 3 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        fprintf(argc < 3 && !(argc == 2 && argv[1][0] == '-') ? stderr : stdout,
                "usage: buscall ENDPOINT TYPE [BODY-JSON]\n"
                "Sends one request (body defaults to {}) and prints the reply envelope.\n"
                "Exit status: 0 ok reply, 1 error reply, 2 usage, 3 no reply.\n"
                "example: buscall tcp://127.0.0.1:7101 ledger.trial_balance\n");
        return argc < 3 ? 2 : 0;
    }
    lc_log_init("buscall", LC_LOG_ERROR, 2);
    json_error_t jerr;
    json_t *body = json_loads(argc > 3 ? argv[3] : "{}", 0, &jerr);
    if (!json_is_object(body)) {
        fprintf(stderr, "buscall: BODY must be a JSON object: %s\n", jerr.text);
        json_decref(body);
        return 2;
    }
    void *zctx = zmq_ctx_new();
    lc_bus_client_t *cli = lc_bus_client_new(zctx, argv[1]);
    int status = 3;
    lc_reply_t rep;
    if (cli && lc_bus_call(cli, argv[2], body, NULL, 5000, 1, &rep) == LC_OK) {
        json_t *out = rep.ok ? json_pack("{s:b, s:O}", "ok", 1, "body", rep.body)
                             : json_pack("{s:b, s:{s:s, s:s}}", "ok", 0, "error", "code",
                                         rep.code, "message", rep.message ? rep.message : "");
        char *text = out ? json_dumps(out, JSON_INDENT(2)) : NULL;
        if (text)
            puts(text);
        free(text);
        json_decref(out);
        status = rep.ok ? 0 : 1;
        lc_reply_clear(&rep);
    } else {
        fprintf(stderr, "buscall: no reply from %s\n", argv[1]);
    }
    lc_bus_client_destroy(&cli);
    json_decref(body);
    zmq_ctx_term(zctx);
    return status;
}
