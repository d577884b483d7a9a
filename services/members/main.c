/*
 * members: enrollment, cards, personal data, consents, freeze and one-time
 * redemption codes. Wiring only: configuration, logging, signals, then the
 * request loop in mb_server.c.
 */
#include "lc_config.h"
#include "lc_err.h"
#include "lc_log.h"
#include "mb_card.h"
#include "mb_code.h"
#include "mb_server.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static volatile int s_stop;

static void s_on_signal(int sig)
{
    (void)sig;
    s_stop = 1;
}

static void s_usage(FILE *out)
{
    fprintf(
        out,
        "usage: members [--config FILE]\n"
        "\n"
        "The coalition's members: enrollment, cards, personal data, consents, freeze\n"
        "and one-time redemption codes, served over ZeroMQ (proto/members.json).\n"
        "\n"
        "Settings (file key = environment variable, default):\n"
        "  members.bind           COAL_MEMBERS_BIND           tcp://127.0.0.1:7111  requests "
        "(ROUTER)\n"
        "  members.db             COAL_MEMBERS_DB             (required)            libpq "
        "conninfo\n"
        "  ledger.connect         COAL_LEDGER_CONNECT         tcp://127.0.0.1:7101  the ledger\n"
        "  members.card_prefix    COAL_MEMBERS_CARD_PREFIX    7001                  1-8 digits\n"
        "  members.code_ttl_s     COAL_MEMBERS_CODE_TTL_S     600                   1..600 "
        "seconds\n"
        "  members.code_attempts  COAL_MEMBERS_CODE_ATTEMPTS  5                     wrong tries, "
        "1..100\n"
        "  log.level              COAL_LOG_LEVEL              info                  "
        "debug|info|warn|error\n"
        "\n"
        "It refuses to start when PostgreSQL runs with fsync or synchronous_commit off.\n");
}

int main(int argc, char **argv)
{
    const char *config_path = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            s_usage(stdout);
            return 0;
        } else if (!strcmp(argv[i], "--config") && i + 1 < argc) {
            config_path = argv[++i];
        } else {
            fprintf(stderr, "members: unknown argument %s\n", argv[i]);
            s_usage(stderr);
            return 2;
        }
    }
    char *err = NULL;
    lc_config_t *cfg = lc_config_load(config_path, &err);
    if (!cfg) {
        fprintf(stderr, "members: %s\n", err ? err : "cannot read configuration");
        free(err);
        return 2;
    }
    int level = lc_log_level_parse(lc_config_get(cfg, "log.level", "info"));
    lc_log_init("members", level < 0 ? LC_LOG_INFO : (lc_log_level_t)level, 2);

    int64_t ttl = 0, attempts = 0;
    mb_server_config_t sc = {
        .bind = lc_config_get(cfg, "members.bind", "tcp://127.0.0.1:7111"),
        .conninfo = lc_config_get(cfg, "members.db", NULL),
        .ledger = lc_config_get(cfg, "ledger.connect", "tcp://127.0.0.1:7101"),
        .card_prefix = lc_config_get(cfg, "members.card_prefix", MB_CARD_PREFIX_DEFAULT),
    };
    const char *bad = NULL;
    if (lc_config_get_i64(cfg, "members.code_ttl_s", MB_CODE_TTL_DEFAULT_S, 1, MB_CODE_TTL_MAX_S,
                          &ttl) != LC_OK)
        bad = "members.code_ttl_s must be an integer from 1 to 600";
    else if (lc_config_get_i64(cfg, "members.code_attempts", MB_CODE_ATTEMPTS_DEFAULT, 1,
                               MB_CODE_ATTEMPTS_MAX, &attempts) != LC_OK)
        bad = "members.code_attempts must be an integer from 1 to 100";
    else if (!mb_card_prefix_valid(sc.card_prefix))
        bad = "members.card_prefix must be 1 to 8 digits";
    else if (!sc.conninfo)
        bad = "members.db (COAL_MEMBERS_DB) is not set: no database to use";
    if (bad) {
        lc_error(NULL, "%s", bad);
        lc_config_destroy(&cfg);
        return 2;
    }
    sc.code_ttl_s = ttl;
    sc.code_attempts = (int)attempts;

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = s_on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    mb_server_t srv;
    int rc = mb_server_open(&srv, &sc);
    if (rc == LC_OK) {
        lc_info(NULL, "members serving on %s, ledger at %s", sc.bind, sc.ledger);
        rc = mb_server_run(&srv, &s_stop);
        lc_info(NULL, "members stopping after %llu requests", (unsigned long long)srv.requests);
    }
    mb_server_close(&srv);
    lc_config_destroy(&cfg);
    return rc == LC_OK ? 0 : 1;
}
