/*
 * members: enrollment, cards, personal data, consents, freeze and one-time
 * redemption codes. Wiring only: configuration, logging, signals, then the
 * request loop in mb_server.c.
 */
#include "lc_config.h"
#include "lc_err.h"
#include "lc_log.h"
#include "lc_service.h"
#include "lc_time.h"
#include "mb_card.h"
#include "mb_code.h"
#include "mb_server.h"

#include <stdio.h>

static volatile int s_stop; /* set by SIGINT / SIGTERM (lc_service_stop_on_signals) */

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
        "  ledger.publish         COAL_LEDGER_PUBLISH         tcp://127.0.0.1:7102  its journal "
        "stream (PUB)\n"
        "  members.card_prefix    COAL_MEMBERS_CARD_PREFIX    7001                  1-8 digits\n"
        "  members.code_ttl_s     COAL_MEMBERS_CODE_TTL_S     600                   1..600 "
        "seconds\n"
        "  members.code_attempts  COAL_MEMBERS_CODE_ATTEMPTS  5                     wrong tries, "
        "1..100\n"
        "  members.code_lock_minutes     COAL_MEMBERS_CODE_LOCK_MINUTES   30    that many wrong "
        "tries\n"
        "                                                                       within it lock "
        "codes (1..1440)\n"
        "  members.cooling_off_hours     COAL_MEMBERS_COOLING_OFF_HOURS   72    large redemptions "
        "held after\n"
        "                                                                       a card is added "
        "(0 = never)\n"
        "  members.cooling_off_points    COAL_MEMBERS_COOLING_OFF_POINTS  5000  what is large\n"
        "  tiers.names            COAL_TIERS_NAMES            bronze,silver,gold    shown "
        "names;\n"
        "                                                                              tiers.* "
        "as for settlement\n"
        "  log.level              COAL_LOG_LEVEL              info                  "
        "debug|info|warn|error\n"
        "\n"
        "It refuses to start when PostgreSQL runs with fsync or synchronous_commit off.\n");
}

int main(int argc, char **argv)
{
    int exit_code = 0;
    lc_config_t *cfg = lc_service_start("members", argc, argv, s_usage, &exit_code);
    if (!cfg)
        return exit_code;

    int64_t ttl = 0, attempts = 0, lock_min = 0, cool_h = 0;
    mb_server_config_t sc = {
        .bind = lc_config_get(cfg, "members.bind", "tcp://127.0.0.1:7111"),
        .conninfo = lc_config_get(cfg, "members.db", NULL),
        .ledger = lc_config_get(cfg, "ledger.connect", "tcp://127.0.0.1:7101"),
        .publish = lc_config_get(cfg, "ledger.publish", "tcp://127.0.0.1:7102"),
        .card_prefix = lc_config_get(cfg, "members.card_prefix", MB_CARD_PREFIX_DEFAULT),
    };
    int rc = lc_service_int(cfg, "members.code_ttl_s", MB_CODE_TTL_DEFAULT_S, 1, MB_CODE_TTL_MAX_S,
                            &ttl);
    if (rc == LC_OK)
        rc = lc_service_int(cfg, "members.code_attempts", MB_CODE_ATTEMPTS_DEFAULT, 1,
                            MB_CODE_ATTEMPTS_MAX, &attempts);
    if (rc == LC_OK)
        rc = lc_service_int(cfg, "members.code_lock_minutes", MB_CODE_LOCK_MINUTES_DEFAULT, 1,
                            1440, &lock_min);
    if (rc == LC_OK)
        rc = lc_service_int(cfg, "members.cooling_off_hours", MB_COOLING_OFF_HOURS_DEFAULT, 0,
                            24 * 90, &cool_h);
    if (rc == LC_OK)
        rc = lc_service_int(cfg, "members.cooling_off_points", MB_COOLING_OFF_POINTS_DEFAULT, 1,
                            LC_API_POINTS_MAX, &sc.cooling_off_points);
    if (rc == LC_OK && !mb_card_prefix_valid(sc.card_prefix)) {
        lc_error(NULL, "members.card_prefix must be 1 to 8 digits");
        rc = LC_ERR_INVALID;
    }
    char terr[200];
    if (rc == LC_OK && lc_tiers_load(cfg, &sc.tiers, terr, sizeof terr) != LC_OK) {
        lc_error(NULL, "%s", terr);
        rc = LC_ERR_INVALID;
    }
    if (rc == LC_OK && !sc.conninfo) {
        lc_error(NULL, "members.db (COAL_MEMBERS_DB) is not set: no database to use");
        rc = LC_ERR_INVALID;
    }
    if (rc != LC_OK) {
        lc_config_destroy(&cfg);
        return LC_SERVICE_EXIT_USAGE;
    }
    sc.code_ttl_s = ttl;
    sc.code_attempts = (int)attempts;
    sc.code_lock_us = lock_min * 60 * LC_USEC_PER_SEC;
    sc.cooling_off_us = cool_h * 3600 * LC_USEC_PER_SEC;

    lc_service_stop_on_signals(&s_stop);

    mb_server_t srv;
    rc = mb_server_open(&srv, &sc);
    if (rc == LC_OK) {
        lc_info(NULL, "members serving on %s, ledger at %s, journal from %s", sc.bind, sc.ledger,
                sc.publish);
        rc = mb_server_run(&srv, &s_stop);
        lc_info(NULL, "members stopping after %llu requests", (unsigned long long)srv.requests);
    }
    mb_server_close(&srv);
    lc_config_destroy(&cfg);
    return rc == LC_OK ? 0 : 1;
}
